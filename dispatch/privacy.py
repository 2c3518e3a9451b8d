"""Masking of callers' personal data for everyone but dispatchers: contact fields, and what free text holds."""
import re
from typing import Any


def mask_phone(phone: str | None) -> str | None:
    """'13812341234' → '138****1234'; short numbers keep only their last two digits."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_name(name: str | None) -> str | None:
    """'张三丰' → '张**'; 'John Smith' → 'J*********'."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Each pattern keeps its group `kept` and masks the group `hidden`, character by character (separators stay).
TEXT_PATTERNS = [
    # 18-digit resident ID: region, birth date, sequence, check digit (X allowed).
    re.compile(r"(?<![0-9A-Za-z])(?P<kept>[1-9]\d{5})(?P<hidden>(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
               r"(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx])(?![0-9A-Za-z])"),
    # Mobile numbers, with or without +86 and separators: 139 0000 1111.
    re.compile(r"(?<!\d)(?P<kept>(?:\+?86[- ]?)?1[3-9]\d)(?P<hidden>[- ]?\d{4}[- ]?\d{4})(?!\d)"),
    # Landlines with an area code: 0376-6221234, (0376)6221234, （0376）6221234, 037 66221234, 010-88886666.
    re.compile(r"(?<!\d)(?P<kept>(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[- ]?))(?P<hidden>[2-9]\d{6,7})(?!\d)"),
    # Licence plates: 豫S·12345, 豫S12345, 粤B D12345 (new energy).
    re.compile(rf"(?P<kept>[{PROVINCES}][A-HJ-NP-Za-hj-np-z])(?P<hidden>[·•・. ]?[A-HJ-NP-Za-hj-np-z0-9]{{5,6}})"
               r"(?![A-Za-z0-9])"),
]


def hide(match: re.Match) -> str:
    """The kept part, then the hidden part with every letter and digit but the last two starred."""
    hidden = match["hidden"]
    positions = [i for i, char in enumerate(hidden) if char.isalnum()]
    starred = set(positions[:-2])
    return match["kept"] + "".join("*" if i in starred else char for i, char in enumerate(hidden))


def mask_plate(plate: str | None) -> str | None:
    """'豫S12345' → '豫S***45': province, office letter and the last two characters stay."""
    if not plate:
        return plate
    return plate[:2] + "*" * max(len(plate) - 4, 0) + plate[-2:]


def mask_text(text: str | None) -> str | None:
    """Phone numbers, ID-card numbers and licence plates written in free text, masked."""
    if not text:
        return text
    for pattern in TEXT_PATTERNS:
        text = pattern.sub(hide, text)
    return text


def mask_plates_in_text(text: str | None) -> str | None:
    """Only the licence plates written in free text, masked (exports show no plate in full)."""
    return TEXT_PATTERNS[-1].sub(hide, text) if text else text


def mask_values(value: Any) -> Any:
    """Every string in a JSON-like value (dict keys aside) through `mask_text`."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_values(item) for item in value]
    return value
