"""Masking of callers' personal data for everyone but dispatchers."""
import re


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
