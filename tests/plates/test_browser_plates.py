"""The console's plate panel in a real browser: the camera's plate and crop, the plate's history, a correction."""
import datetime as dt
from pathlib import Path

import cv2
from playwright.sync_api import Browser

from config.vision import EvidenceConfig, ZoneConfig
from dispatch.account.service import issue_token
from dispatch.ticket.enums import TicketSource
from grid.geodesy import offset_m
from tests.plates.conftest import scenes_dir
from tests.webapp.test_browser import CENTRE, SCREENSHOTS, Server, browser, open_ready, server, signed_in
from vision.evidence import EvidenceWriter
from vision.events import ViolationEvent
from vision.handover import detection_report
from vision.plates.evaluate import read_image
from vision.plates.evidence import PlateEvidence
from vision.zones import Zone

__all__ = ["browser", "server"]  # the module-scoped Chromium and platform of test_browser
# test_img.jpg at half size (960x540: two photos and a frame fit the platform's 1 MB body limit)
CAR = (600.0, 280.0, 959.0, 539.0)  # the parked green car, pixels
ZONE = Zone.from_config(ZoneConfig(id="kerb", kind="no_parking", polygon=[(250, 325), (959, 325), (959, 539), (250, 539)]))


def camera_reports(reader, tmp_path: Path, lon: float, lat: float) -> list[dict]:
    """The worker's start and update reports of the parked car, plate read on both photos' frames."""
    image = cv2.resize(read_image(scenes_dir() / "test_img.jpg"), (960, 540), interpolation=cv2.INTER_AREA)
    writer = EvidenceWriter(tmp_path, EvidenceConfig(), plates=PlateEvidence(reader, tmp_path, 90))
    reports, start = [], dt.datetime.now(dt.timezone.utc)
    for phase, seconds in (("start", 60.0), ("update", 180.0)):
        event = writer.attach(ViolationEvent(
            event_id="cam-plate:illegal_parking:kerb#1:0", source_id="cam-plate", rule="illegal_parking",
            category="0505", zone_id="kerb", phase=phase, started_at_s=0.0, last_seen_s=seconds, dwell_s=seconds,
            box_xyxy=CAR, ground_point_px=(780.0, 539.0), track_ids=(1,), confidence=0.9), image, ZONE)
        report = detection_report(event, source_kind="camera", media_start=start)
        report["location"] = {"lon": lon, "lat": lat, "crs": "wgs84"}  # a located camera
        reports.append(report)
    return reports


def test_console_shows_plate_crop_history_and_records_a_correction(browser: Browser, server: Server, reader,
                                                                   tmp_path: Path) -> None:
    context, page = signed_in(browser, server, "dispatcher1")
    api = context.request
    earlier = api.post("/api/tickets", headers=context.csrf, data={
        "source": "hotline_12345", "external_id": "PLATE-1", "category": "0505", "text": "苏E·D51712 新能源车停在盲道上",
        "location": {"lon": offset_m(*CENTRE, 700, 0)[0], "lat": CENTRE[1], "crs": "wgs84"}}).json()["case"]
    with server.platform.sessions() as session:
        camera = issue_token(session=session, name="cam-plate-worker", sources=[TicketSource.CAMERA])
        session.commit()
    reports = camera_reports(reader, tmp_path, *CENTRE)
    read = reports[-1]["plate"]["text"]
    assert read is not None and reports[0]["plate"]["crop_jpeg_base64"]
    for report in reports:
        answer = api.post("/api/detections", data=report, headers={"Authorization": f"Bearer {camera}"})
        assert answer.ok, answer.text()
    case = api.get("/api/cases?category=0505").json()["items"][0]
    assert case["plate"] == read

    open_ready(page, "/console")
    page.click(f"tr[data-case-id='{case['id']}']")
    page.wait_for_function("() => document.getElementById('d-plate').textContent.length > 0")
    assert page.inner_text("#d-plate") == read
    page.wait_for_function("() => { const img = document.querySelector('#d-plate-crop img');"
                           " return img && img.complete && img.naturalWidth === 282; }")
    history_before = page.inner_text("#d-plate-history")
    if read != "苏ED51712":  # the camera misread it: no earlier case of that plate, a first offence
        assert "无既往案件" in history_before and "首次违法" in page.inner_text("#d-leniency")
    page.fill("#d-plate-input", "苏E·D51712")
    page.fill("#d-plate-form input[name=note]", "照片可辨认")
    page.click("#d-plate-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('d-plate').textContent === '苏ED51712'")
    page.wait_for_selector(f"#d-plate-history li[data-case-id='{earlier['id']}']")
    assert "再次违法" in page.inner_text("#d-leniency")  # the earlier hotline case of the plate counts
    timeline = page.inner_text("#d-timeline")
    assert f"{read} → 苏ED51712" in timeline and "调度员更正" in timeline and "照片可辨认" in timeline
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-plate.png"), full_page=True)
    page.click(f"#d-plate-history li[data-case-id='{earlier['id']}'] button")  # the history links to that case
    page.wait_for_function(f"() => document.getElementById('d-title').textContent.startsWith('#{earlier['id']} ')")
    open_ready(page, "/stats")  # the repeat plate, masked, with its two cases
    page.wait_for_selector("#repeat-plates td:text('苏E****12')")
    assert page.inner_text("#repeat-plates tbody").split() == ["苏E****12", "2"]
    page.screenshot(path=str(SCREENSHOTS / "stats-plates.png"), full_page=True)
    assert page.errors == []
    context.close()


def test_the_squad_sees_the_plate_and_the_first_offence_suggestion_on_its_phone(browser: Browser,
                                                                              server: Server) -> None:
    admin, _ = signed_in(browser, server, "admin1")
    case = admin.request.post("/api/tickets", headers=admin.csrf, data={
        "source": "hotline_12345", "external_id": "PLATE-2", "category": "0505", "text": "豫S·67890 停在消防通道",
        "location": {"lon": offset_m(*CENTRE, -700, 300)[0], "lat": offset_m(*CENTRE, -700, 300)[1],
                     "crs": "wgs84"}}).json()["case"]
    for action in ("register", "dispatch"):
        assert admin.request.post(f"/api/cases/{case['id']}/transitions", data={"action": action},
                                  headers=admin.csrf).ok
    officer, phone = signed_in(browser, server, f"officer_{case['squad_code']}", viewport=(390, 844))
    open_ready(phone, "/tasks")
    card = f".task[data-case-id='{case['id']}']"
    assert "豫S67890" in phone.inner_text(f"{card} .plate-line") and "首次违法" in phone.inner_text(f"{card} .plate-line")
    phone.click(f"{card} .action-accept")
    phone.click(f"{card} .action-form button[type=submit]")
    phone.wait_for_selector(f"{card}[data-status='accepted'] .action-handle")
    phone.click(f"{card} .action-handle")
    assert phone.input_value(f"{card} select[name=result]") == "warned"  # the suggestion, preselected
    assert "首违不罚" in phone.inner_text(f"{card} .leniency-hint")
    options = phone.eval_on_selector_all(f"{card} select[name=result] option", "nodes => nodes.map(n => n.value)")
    assert "offsite_notice" not in options  # a hotline case is never handled off site
    phone.screenshot(path=str(SCREENSHOTS / "tasks-plate.png"))
    assert phone.errors == [], phone.errors
    officer.close()
    admin.close()
