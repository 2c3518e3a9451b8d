"""Personal data inside free text, in the formats Chinese work orders write them."""
import pytest

from dispatch.privacy import mask_text


@pytest.mark.parametrize(("written", "secret"), [
    ("来电人手机13900001111，请回电", "13900001111"),
    ("电话 139-0000-1111", "139-0000-1111"),
    ("+86 13900001111", "13900001111"),
    ("座机0376-6221234", "6221234"),
    ("座机(0376)6221234转8", "6221234"),
    ("座机（0376）6221234", "6221234"),
    ("座机037 66221234", "66221234"),
    ("座机010-88886666", "88886666"),
    ("身份证411502199001011234", "199001011234"),
    ("身份证41150219900101123X号", "19900101123X"),
    ("身份证41150219900101123x", "19900101123x"),
    ("车牌豫S·12345占道", "12345"),
    ("车牌豫S12345占道", "12345"),
    ("新能源粤B D12345", "D12345"),
    ("新能源粤BD12345停在盲道", "D12345"),
])
def test_contacts_ids_and_plates_in_text_are_masked(written, secret) -> None:
    masked = mask_text(written)
    assert secret not in masked and "*" in masked
    assert masked[:2] == written[:2]  # the words around stay


@pytest.mark.parametrize("kept", [
    "新华路12号门口有流动摊贩", "停留 35 秒", "2026-11-20 09:30:00 来电", "工单编号 GD20261120001",
    "视频识别：机动车违停（cam-7，停留 300 秒）", "金额1234567元",
])
def test_ordinary_numbers_are_left_alone(kept) -> None:
    assert mask_text(kept) == kept
