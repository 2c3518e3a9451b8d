"""CTC decoding of LPRNet's output: greedy, and the best path that spells a grammatical plate."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.plates.grammar import ALPHABET, BLANK

NEG = -1e9


@dataclass(frozen=True)
class Decoded:
    """A decoded string, the log-probability of its path, and each character's peak probability."""

    text: str
    log_prob: float
    char_probs: tuple[float, ...]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over classes (axis 0) of (classes, frames) logits."""
    shifted = logits - logits.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def greedy(log_probs: np.ndarray) -> Decoded:
    """Best class per frame, repeats collapsed, blanks dropped."""
    best = log_probs.argmax(axis=0)
    text, probs, previous = [], [], BLANK
    for frame, label in enumerate(best):
        if label != BLANK and label != previous:
            text.append(ALPHABET[label])
            probs.append(float(np.exp(log_probs[label, frame])))
        elif label != BLANK and probs:
            probs[-1] = max(probs[-1], float(np.exp(log_probs[label, frame])))
        previous = label
    return Decoded("".join(text), float(log_probs.max(axis=0).sum()), tuple(probs))


def constrained(log_probs: np.ndarray, classes: list[str]) -> Decoded:
    """Viterbi best path that emits exactly one character of classes[k] for each position k, in order."""
    sets = [np.array([ALPHABET.index(c) for c in chars]) for chars in classes]
    frames, positions = log_probs.shape[1], len(sets)
    blank = np.full(positions + 1, NEG)  # blank[k]: k characters emitted, now in a blank
    blank[0] = 0.0
    char = [np.full(len(s), NEG) for s in sets]  # char[k][j]: emitting sets[k][j] as character k
    back: list[tuple[np.ndarray, list[np.ndarray]]] = []
    for t in range(frames):
        new_blank, blank_from = _blank_step(blank, char, log_probs[BLANK, t])
        new_char, char_from = [], []
        for k, labels in enumerate(sets):
            score, origin = _char_step(k, labels, blank, char, sets)
            new_char.append(score + log_probs[labels, t])
            char_from.append(origin)
        back.append((blank_from, char_from))
        blank, char = new_blank, new_char
    return _backtrack(log_probs, sets, blank, char, back)


def _blank_step(blank: np.ndarray, char: list[np.ndarray], blank_lp: float) -> tuple[np.ndarray, np.ndarray]:
    """Blank after k characters: from the same blank (-1) or from character k-1's best label (its index)."""
    stay = blank.copy()
    origin = np.full(len(blank), -1)
    for k in range(1, len(blank)):
        j = int(np.argmax(char[k - 1]))
        if char[k - 1][j] > stay[k]:
            stay[k], origin[k] = char[k - 1][j], j
    return stay + blank_lp, origin


def _char_step(k: int, labels: np.ndarray, blank: np.ndarray, char: list[np.ndarray],
               sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Character k: stay (-2), come from blank k (-1), or from a different label of character k-1 (its index)."""
    score, origin = char[k].copy(), np.full(len(labels), -2)
    better = blank[k] > score
    score[better], origin[better] = blank[k], -1
    if k > 0:
        previous = char[k - 1]
        order = np.argsort(previous)[::-1][:2]
        first, second = order[0], order[1] if len(order) > 1 else order[0]
        same = sets[k - 1][first] == labels
        source = np.where(same, second, first)
        candidate = np.where(same & (len(order) == 1), NEG, previous[source])
        better = candidate > score
        score[better], origin[better] = candidate[better], source[better]
    return score, origin


def _backtrack(log_probs: np.ndarray, sets: list[np.ndarray], blank: np.ndarray, char: list[np.ndarray],
               back: list) -> Decoded:
    """Follow the back-pointers from the better end (blank or last character) to the emitted labels."""
    last = len(sets) - 1
    j_end = int(np.argmax(char[last]))
    state = ("b", last + 1, -1) if blank[last + 1] >= char[last][j_end] else ("c", last, j_end)
    total = float(max(blank[last + 1], char[last][j_end]))
    path = []
    for t in range(len(back) - 1, -1, -1):
        path.append(state)
        blank_from, char_from = back[t]
        kind, k, j = state
        if kind == "b":
            state = ("b", k, -1) if blank_from[k] == -1 else ("c", k - 1, int(blank_from[k]))
        else:
            origin = int(char_from[k][j])
            state = ("c", k, j) if origin == -2 else ("b", k, -1) if origin == -1 else ("c", k - 1, origin)
    path.reverse()
    probs = [0.0] * len(sets)
    for t, (kind, k, j) in enumerate(path):
        if kind == "c":
            probs[k] = max(probs[k], float(np.exp(log_probs[sets[k][j], t])))
    text = "".join(ALPHABET[sets[k][j]] for kind, k, j in _emissions(path))
    return Decoded(text, total, tuple(probs))


def _emissions(path: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """One entry per emitted character: the first frame of each run of a character state."""
    out, previous = [], None
    for state in path:
        if state[0] == "c" and state[1] != (previous[1] if previous and previous[0] == "c" else None):
            out.append(state)
        previous = state
    return out
