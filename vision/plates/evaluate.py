"""Score the recogniser on labelled crops (file name = plate text) and the whole reader on scene images."""
from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from vision.plates.ctc import greedy
from dispatch.plates.grammar import is_plate
from vision.plates.reader import PlateReader

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def read_image(path: Path) -> np.ndarray:
    """A BGR image from a path that may hold Chinese characters (cv2.imread cannot open those everywhere)."""
    image = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} is not an image")
    return image


def label_of(path: Path) -> str:
    """The plate text a crop's file name holds: `皖A12345.jpg`, or HyperLPR's `_1_皖A12345.jpg`."""
    return path.stem.split("_")[-1]


def images(folder: Path) -> list[Path]:
    """Image files directly in `folder`, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def evaluate_crops(reader: PlateReader, folder: Path) -> dict[str, Any]:
    """Exact match, character accuracy, per province and speed of the reader, beside LPRNet's greedy read alone."""
    rows = []
    for path in images(folder):
        truth, crop = label_of(path), read_image(path)
        started = time.perf_counter()
        reading = reader.read_crop(crop)
        elapsed = time.perf_counter() - started
        rows.append({"truth": truth, "read": reading.text, "candidate": reading.candidate,
                     "raw": greedy(reader.recognizer(crop)).text, "reason": reading.reason,
                     "confidence": reading.confidence, "ms": elapsed * 1000})
    return {
        "crops": len(rows),
        "reader": _scores(rows, "read"),
        "grammar_decode": _scores(rows, "candidate"),
        "greedy_lprnet": _scores(rows, "raw"),
        "accepted": sum(r["read"] is not None for r in rows),
        "precision_of_accepted": _ratio(sum(r["read"] == r["truth"] for r in rows),
                                        sum(r["read"] is not None for r in rows)),
        "rejected": _count(r["reason"] for r in rows if r["reason"]),
        "greedy_ungrammatical": sum(not is_plate(r["raw"]) for r in rows),
        "per_province": _per_province(rows),
        "ms_per_crop": _speed([r["ms"] for r in rows]),
        "errors": [{k: r[k] for k in ("truth", "read", "candidate", "raw", "reason")} for r in rows if r["read"] != r["truth"]],
    }


def evaluate_scenes(reader: PlateReader, folder: Path, truth: dict[str, str]) -> dict[str, Any]:
    """The whole reader (detect, rectify, classify, recognise) on each scene image; `truth` by file name."""
    results, times = [], []
    for path in images(folder):
        image = read_image(path)
        started = time.perf_counter()
        reading = reader.read_vehicle(image)
        times.append((time.perf_counter() - started) * 1000)
        expected = truth.get(path.name)
        results.append({"image": path.name, "size": [image.shape[1], image.shape[0]], "read": reading.text,
                        "colour": reading.colour, "confidence": round(reading.confidence, 3), "raw": reading.raw,
                        "reason": reading.reason, "truth": expected,
                        "correct": None if expected is None else reading.text == expected})
    labelled = [r for r in results if r["truth"] is not None]
    return {"images": len(results), "labelled": len(labelled), "exact": sum(bool(r["correct"]) for r in labelled),
            "ms_per_image": _speed(times), "results": results}


def _scores(rows: list[dict], key: str) -> dict[str, float]:
    """Exact-match rate and character accuracy (1 - edit distance / length) of column `key`."""
    exact = sum(r[key] == r["truth"] for r in rows)
    chars = sum(len(r["truth"]) for r in rows)
    distance = sum(min(Levenshtein.distance(r[key] or "", r["truth"]), len(r["truth"])) for r in rows)
    return {"exact": _ratio(exact, len(rows)), "char_accuracy": _ratio(chars - distance, chars)}


def _per_province(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Crops and exact matches per province character."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["truth"][0]].append(row)
    return {p: {"crops": len(g), "exact": _ratio(sum(r["read"] == r["truth"] for r in g), len(g))}
            for p, g in sorted(groups.items(), key=lambda item: -len(item[1]))}


def _speed(ms: list[float]) -> dict[str, float]:
    """Mean, median and 95th percentile in milliseconds."""
    values = np.array(ms or [0.0])
    return {"mean": round(float(values.mean()), 2), "p50": round(float(np.percentile(values, 50)), 2),
            "p95": round(float(np.percentile(values, 95)), 2)}


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(counts)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
