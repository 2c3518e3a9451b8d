"""Chinese plate grammar: the recogniser's alphabet, the character classes per position, validation."""
from __future__ import annotations

import re

PROVINCES = "京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新"
DIGITS = "0123456789"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # plates use no I or O
# LPRNet_Pytorch's label order: provinces, digits, letters, then I, O and the CTC blank "-"
ALPHABET = PROVINCES + DIGITS + LETTERS + "IO-"
BLANK = len(ALPHABET) - 1

_SERIAL = f"[{LETTERS}{DIGITS}]"
# 7 characters: province, issuing-office letter, 5 letters/digits; new-energy (green, 8): D/F then 5, or 5 then D/F
ORDINARY = re.compile(f"^[{PROVINCES}][{LETTERS}]{_SERIAL}{{5}}$")
NEW_ENERGY = re.compile(f"^[{PROVINCES}][{LETTERS}]([DF]{_SERIAL}[{DIGITS}]{{4}}|[{DIGITS}]{{5}}[DF])$")
# plates as people write them in a complaint: 豫S·12345, 豫S 12345, 豫s12345, 豫S-D12345
_WRITTEN = re.compile(f"([{PROVINCES}])\\s*([A-Za-z])\\s*[·•.\\-\\s]?\\s*([A-Za-z0-9]{{5,6}})(?![A-Za-z0-9])")


def is_plate(text: str) -> bool:
    """True if `text` is an ordinary (7) or new-energy (8) mainland plate."""
    return bool(ORDINARY.match(text) or NEW_ENERGY.match(text))


SERIAL = LETTERS + DIGITS
# the characters allowed at each position, per plate family
TEMPLATES: dict[str, list[str]] = {
    "ordinary": [PROVINCES, LETTERS] + [SERIAL] * 5,
    "new_energy_small": [PROVINCES, LETTERS, "DF", SERIAL] + [DIGITS] * 4,
    "new_energy_large": [PROVINCES, LETTERS] + [DIGITS] * 5 + ["DF"],
}


def families(colour: str | None) -> tuple[list[str], list[str]]:
    """Plate families to try first for a colour (green: new energy), and the fallback families."""
    new_energy = ["new_energy_small", "new_energy_large"]
    return (new_energy, ["ordinary"]) if colour == "green" else (["ordinary"], new_energy)


def find_plates(text: str) -> list[str]:
    """Plates written in free text (a hotline ticket), normalised (no separator, upper case), valid ones only."""
    found = []
    for match in _WRITTEN.finditer(text or ""):
        plate = (match.group(1) + match.group(2) + match.group(3)).upper()
        if is_plate(plate) and plate not in found:
            found.append(plate)
    return found
