"""Address keys for matching: no province/city/district prefix, Arabic house numbers, no spaces or punctuation."""
import re
import unicodedata
from collections.abc import Sequence

CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = re.compile(f"[{''.join(CN_DIGITS)}{''.join(CN_UNITS)}]+(?=[号弄栋幢楼单元室巷])")
NOISE = re.compile(r"[\s,，.。、:：;；()（）\-—_#]+")
HOUSE_NUMBER = re.compile(r"(\d+)号")


def cn_to_int(text: str) -> int:
    """一二三 → 123 (digit by digit), 一百二十三 → 123, 十五 → 15 (with units)."""
    if not any(char in CN_UNITS for char in text):
        return int("".join(str(CN_DIGITS[char]) for char in text))
    total, digit = 0, 0
    for char in text:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        else:
            total += (digit or 1) * CN_UNITS[char]
            digit = 0
    return total + digit


def address_key(address: str, prefixes: Sequence[str]) -> str:
    """The matching key: 河南省信阳市浉河区新华路一二三号 and 新华路 123 号 both give 新华路123号."""
    text = NOISE.sub("", unicodedata.normalize("NFKC", address))
    text = CN_NUMBER.sub(lambda match: str(cn_to_int(match.group())), text)
    for prefix in sorted(prefixes, key=len, reverse=True):  # longest first: 浉河区 before 河区-like fragments
        text = text.replace(prefix, "")
    return text


def house_number(key: str) -> int | None:
    match = HOUSE_NUMBER.search(key)
    return int(match.group(1)) if match else None
