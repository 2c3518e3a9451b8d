"""Work-order mapping, keyword rules and address keys: tables of inputs and what they must give."""
import datetime as dt

import pytest

import config
from dispatch.address.matching import AddressMatcher
from dispatch.address.normalize import address_key, cn_to_int
from dispatch.classify.rules import classify_text
from dispatch.errors import InputError
from dispatch.hotline.mapping import read_work_order

HOTLINE = config.load(env={}).hotline
PREFIXES = HOTLINE.address.prefixes


def test_a_12345_work_order_maps_by_configured_field_names() -> None:
    row = {"工单编号": "GD20241101001", "来电时间": "2024-11-01 09:30:00", "诉求人": "李女士", "联系电话": "13800001111",
           "诉求内容": "新华路菜市场门口有流动摊贩占道", "诉求地址": "浉河区新华路12号", "诉求类型": "城管执法",
           "承办单位": "浉河区城管局", "办理时限": "2024-11-02"}
    order = read_work_order(row, HOTLINE.profiles["12345"])
    assert order.external_id == "GD20241101001"
    assert order.received_at == dt.datetime(2024, 11, 1, 1, 30, tzinfo=dt.timezone.utc)  # Beijing time
    assert order.address == "浉河区新华路12号" and order.category_value == "城管执法"
    assert order.location is None and order.reporter == {"name": "李女士", "phone": "13800001111"}


def test_a_work_order_without_its_number_is_refused_naming_the_field() -> None:
    with pytest.raises(InputError) as refused:
        read_work_order({"诉求内容": "有人摆摊"}, HOTLINE.profiles["12345"])
    assert "工单编号" in refused.value.message


@pytest.mark.parametrize(("text", "category"), [
    ("小区门口每天早上有人摆摊卖菜", "0501"),
    ("烧烤店把桌椅摆到店门口摆卖，店外经营", "0504"),
    ("一辆汽车长期违停在人行道上", "0505"),
    ("共享单车乱放堵住盲道", "0506"),
    ("楼下堆放大量建筑材料", "0507"),
    ("路边垃圾好几天没人清扫", "0102"),
    ("咨询社保缴费年限", None),
])
def test_keyword_rules(text: str, category: str | None) -> None:
    assert classify_text(text, HOTLINE.rules) == category


@pytest.mark.parametrize(("given", "number"), [("一二三", 123), ("一百二十三", 123), ("十五", 15), ("二十", 20),
                                               ("一〇八", 108), ("三", 3)])
def test_chinese_numerals(given: str, number: int) -> None:
    assert cn_to_int(given) == number


@pytest.mark.parametrize("given", ["河南省信阳市浉河区新华路123号", "信阳市新华路一二三号", "新华路 123 号", "新华路１２３号",
                                   "浉河区新华路一百二十三号"])
def test_address_keys_drop_prefixes_and_read_numbers(given: str) -> None:
    assert address_key(given, PREFIXES) == "新华路123号"


MATCHER = AddressMatcher([("信阳市浉河区新华路123号", 114.05, 32.12), ("信阳市浉河区新华路125号", 114.06, 32.12),
                          ("信阳市浉河区民权路123号", 114.07, 32.13)], prefixes=PREFIXES)


@pytest.mark.parametrize(("given", "best", "confident"), [
    ("新华路一二三号", "信阳市浉河区新华路123号", True),
    ("浉河区新华路123号门口", "信阳市浉河区新华路123号", True),
    ("民权路一百二十三号对面", "信阳市浉河区民权路123号", True),
    ("新华路124号", None, False),   # no such door: candidates only
    ("新华路", None, False),         # no number: candidates only
])
def test_address_matching(given: str, best: str | None, confident: bool) -> None:
    candidates = MATCHER.match(given, limit=3)
    assert (candidates[0].score >= HOTLINE.address.min_score) is confident
    if best is not None:
        assert candidates[0].address == best
