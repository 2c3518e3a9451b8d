"""In the field, in a real browser: a phone photo of real size goes through, the officer reads the complaint and
sees its photos, and the console records the follow-up call before it may reopen a case."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Browser

from grid.geodesy import offset_m
from tests.factories import SITE_PHOTO_PNG
from tests.webapp.test_browser import (SOUTH_WEST, Server, browser, move, open_ready, post_ticket,  # noqa: F401
                                       server, shot, signed_in)

pytestmark = pytest.mark.browser
COMPLAINT = "解放路盲道上长期停放一辆白色轿车，行人只能绕行"


def phone_photo(path: Path) -> int:
    """A 4032x3024 JPEG of about 5 MB with the EXIF a phone writes (time taken, GPS); returns its size."""
    image = Image.fromarray(np.random.default_rng(3).integers(0, 256, (3024, 4032, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:12:02 09:15:30"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (32.0, 7.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (114.0, 4.0, 8.25)
    for quality in (60, 50, 40, 30):
        image.save(path, "JPEG", quality=quality, exif=exif)
        if path.stat().st_size <= 6 * 1_048_576:
            break
    return path.stat().st_size


def test_officer_sends_a_phone_photo_and_sees_the_complaint(browser: Browser, server: Server, tmp_path: Path) -> None:
    admin, _ = signed_in(browser, server, "admin1")
    case = post_ticket(admin, *offset_m(*SOUTH_WEST, 80, -30), category="0505", text=COMPLAINT,
                       address="浉河区解放路18号")["case"]
    citizen = admin.request.post(f"/api/cases/{case['id']}/evidence", headers=admin.csrf, multipart={
        "photo": {"name": "citizen.png", "mimeType": "image/png", "buffer": SITE_PHOTO_PNG}, "caption": "群众拍摄"})
    assert citizen.status == 201, citizen.text()
    move(admin, case["id"], "register")
    move(admin, case["id"], "dispatch")

    officer, phone = signed_in(browser, server, f"officer_{case['squad_code']}", viewport=(390, 844))
    open_ready(phone, "/tasks")
    card = f".task[data-case-id='{case['id']}']"
    phone.wait_for_selector(f"{card} .complaint-text")
    assert COMPLAINT in phone.inner_text(f"{card} .complaint")
    phone.wait_for_function(f"() => document.querySelector(\"{card} .thumbs img\").naturalWidth > 0")
    phone.click(f"{card} .action-accept")
    phone.click(f"{card} .action-form button[type=submit]")
    phone.wait_for_selector(f"{card}[data-status='accepted'] .action-handle")
    phone.click(f"{card} .action-handle")
    phone.select_option(f"{card} select[name=result]", "persuaded")
    photo = tmp_path / "IMG_20261202_091530.jpg"
    size = phone_photo(photo)
    assert size > 4 * 1_048_576
    phone.set_input_files(f"{card} input[name=photo]", str(photo))
    shot(phone, "tasks-phone-complaint.png")
    phone.click(f"{card} .action-form button[type=submit]")
    phone.wait_for_selector(card, state="detached", timeout=30_000)

    detail = admin.request.get(f"/api/cases/{case['id']}").json()
    assert detail["status"] == "handled"
    sent = [item for item in detail["evidence"] if item["exif"]]
    assert len(sent) == 1
    exif = sent[0]["exif"]
    assert exif["original_size"] == "4032x3024" and exif["original_bytes"] == size
    assert exif["taken_at"] == "2026-12-02T09:15:30+08:00"  # no offset tag: read in the bureau's zone
    assert exif["lat"] == pytest.approx(32 + 7 / 60 + 12.5 / 3600, abs=1e-6)
    assert exif["lon"] == pytest.approx(114 + 4 / 60 + 8.25 / 3600, abs=1e-6)
    stored = admin.request.get(f"/api/evidence/{sent[0]['id']}")
    shrunk = Image.open(io.BytesIO(stored.body()))
    assert max(shrunk.size) == 2560 and len(stored.body()) < size  # the settings' long edge, smaller than sent
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.errors == [], phone.errors
    officer.close()
    admin.close()


@pytest.mark.parametrize("path", ["/tasks", "/stats", "/map"])
def test_phone_pages_fit_one_row_header(browser: Browser, server: Server, path: str) -> None:
    officer, phone = signed_in(browser, server, "officer_SQ01", viewport=(390, 844))
    open_ready(phone, path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
    assert phone.evaluate("document.querySelector('.topbar').getBoundingClientRect().height") <= 48
    shot(phone, f"phone{path.replace('/', '-')}.png")
    assert phone.errors == [], phone.errors
    officer.close()


def test_console_records_the_follow_up_then_reopens(browser: Browser, server: Server) -> None:
    admin, _ = signed_in(browser, server, "admin1")
    case = post_ticket(admin, *offset_m(*SOUTH_WEST, -120, 90), category="0501", address="浉河区新华路3号")["case"]
    for action, extra in [("register", {}), ("dispatch", {}), ("accept", {}), ("handle", {"result": "persuaded"}),
                          ("verify", {}), ("close", {})]:
        move(admin, case["id"], action, **extra)
    dispatcher, console = signed_in(browser, server, "dispatcher1")
    open_ready(console, "/console")
    console.select_option("#filters select[name=status]", "closed")
    console.click(f"#case-table tr[data-case-id='{case['id']}']")
    console.wait_for_selector("#d-actions .rating-form")
    assert console.query_selector("#d-actions .action-reopen") is None  # no rating yet: reopen cannot succeed
    refused = console.evaluate(f"GP.api('POST', '/api/cases/{case['id']}/transitions', {{action: 'close'}})"
                               ".then(function () {{ return 'no error'; }}, function (e) {{ return e.message; }})")
    assert refused == "案件当前为“已结案”，不能执行“结案”（可能已被他人处理，请刷新）"
    console.errors.clear()  # that 409 was asked for
    console.select_option("#d-actions .rating-form select[name=rating]", "dissatisfied")
    console.fill("#d-actions .rating-form input[name=note]", "摊贩第二天又回来了")
    console.click("#d-actions .rating-form button[type=submit]")
    console.wait_for_selector("#d-actions .rating-dissatisfied")
    console.click("#d-actions .action-reopen")
    console.fill("#d-actions .action-form input[name=reason]", "回访不满意：摊贩复出")
    shot(console, "console-rating-reopen.png")
    console.click("#d-actions .action-form button[type=submit]")
    console.wait_for_selector(f"#case-table tr[data-case-id='{case['id']}']", state="detached")  # filter: closed
    detail = admin.request.get(f"/api/cases/{case['id']}").json()
    assert detail["status"] == "dispatched" and detail["timeline"][-1]["kind"] == "reopened"
    assert detail["timeline"][0]["actor_kind"] == "user"
    assert console.errors == [], console.errors
    dispatcher.close()
    admin.close()
