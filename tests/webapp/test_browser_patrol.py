"""Patrol in a real browser (phone viewport, geolocation set by Playwright): an officer starts a patrol, walks
through three cells, checks in, reports a find with a photo and ends the patrol; the leader's map moves the marker
live and replays the track; the duty log shows the patrol's time, distance, check-in and find."""
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.serving import make_server

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from dispatch.db import utcnow
from tests.factories import SITE_PHOTO_PNG, make_settings
from tests.webapp.test_browser import PASSWORD, Server, browser, open_ready, shot, signed_in  # noqa: F401
from webapp import create_app
from webapp.platform import build_platform

pytestmark = pytest.mark.browser
WALK = ["411502000033", "411502000034", "411502000035"]  # three neighbouring cells of SQ01
LIVE_MS = 5_000  # a position reaches the leader's map within a few position intervals (1 s here)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The platform on SQLite, phones sending their position every second."""
    folder = tmp_path_factory.mktemp("patrol-browser")
    platform = build_platform(make_settings(f"sqlite:///{folder / 'gridpatrol.sqlite3'}", folder,
                                            patrol={"position_interval_s": 1}))
    app = create_app(platform=platform)
    with platform.sessions() as session:
        create_user(session=session, username="dispatcher1", password=PASSWORD, role=Role.DISPATCHER)
        for code in ("SQ01", "SQ02"):
            create_user(session=session, username=f"leader_{code}", password=PASSWORD, role=Role.SQUAD_LEADER,
                        squad_code=code, display_name=f"{code}中队长")
        for username, name, code in (("officer_SQ01", "张伟", "SQ01"), ("officer_SQ01b", "李强", "SQ01"),
                                     ("officer_SQ02", "王磊", "SQ02"), ("officer_SQ02b", "赵敏", "SQ02")):
            create_user(session=session, username=username, password=PASSWORD, role=Role.OFFICER, squad_code=code,
                        display_name=name)
        session.commit()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Server(url=f"http://127.0.0.1:{http.server_port}", platform=platform)
    http.shutdown()
    thread.join(timeout=10)
    http.server_close()
    platform.engine.dispose()


def centre_of(server: Server, code: str) -> tuple[float, float]:
    point = server.platform.ctx.grid.cells.set_index("code").loc[code, "geometry"].centroid
    return point.x, point.y


def go(context: BrowserContext, lon: float, lat: float) -> None:
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})


def wait_marker_at(page: Page, username: str, lon: float) -> None:
    page.wait_for_function("([name, lon]) => { const pin = document.querySelector(`.officer-pin[data-username='${name}']`);"
                           " const icon = pin && pin.closest('.officer-icon');"
                           " return icon && Math.abs(Number(icon.dataset.lon) - lon) < 1e-6; }",
                           arg=[username, lon], timeout=LIVE_MS)


def patrol_by_api(context: BrowserContext, lon: float, lat: float) -> None:
    """Another officer on patrol, their phone's positions sent straight to the API (for the centre's map)."""
    assert context.request.post("/api/patrol/start", headers=context.csrf).ok
    sent = context.request.post("/api/patrol/positions", headers=context.csrf,
                                data={"positions": [{"at": utcnow().isoformat(), "lon": lon, "lat": lat}]})
    assert sent.ok, sent.text()


def test_a_patrol_from_start_to_duty_log(browser: Browser, server: Server, tmp_path: Path) -> None:
    leader, leader_map = signed_in(browser, server, "leader_SQ01")
    roster = {"shifts": [{"officer": "officer_SQ01", "label": "早班", "days": "daily", "start": "00:00", "end": "00:00",
                          "cells": WALK}]}
    assert leader.request.put("/api/patrol/roster?squad=SQ01", data=roster, headers=leader.csrf).ok
    open_ready(leader_map, "/map")

    officer, phone = signed_in(browser, server, "officer_SQ01", viewport=(390, 844))
    officer.grant_permissions(["geolocation"], origin=server.url)
    points = [centre_of(server, code) for code in WALK]
    go(officer, *points[0])
    open_ready(phone, "/tasks")
    phone.click("#patrol-start")
    phone.wait_for_selector("#patrol[data-state='on']")
    wait_marker_at(leader_map, "officer_SQ01", points[0][0])
    for lon, lat in points[1:]:
        go(officer, lon, lat)
        wait_marker_at(leader_map, "officer_SQ01", lon)  # the marker moves live
    shot(leader_map, "map-officer-live.png")
    phone.click("#patrol-check-in")
    phone.wait_for_selector("#check-in-result[data-cell]")
    assert phone.get_attribute("#check-in-result", "data-cell") == WALK[2]
    assert "责任区内" in phone.inner_text("#check-in-result")

    phone.click("#find summary")
    phone.select_option("#find-form select[name=category]", "0501")
    phone.fill("#find-form textarea[name=text]", "巡查发现：人行道流动摊贩占道经营")
    photo = tmp_path / "find.png"
    photo.write_bytes(SITE_PHOTO_PNG)
    phone.set_input_files("#find-form input[name=photo]", str(photo))
    phone.click("#find-form button[type=submit]")
    phone.wait_for_selector("#find-result[data-case-id]")
    case_id = int(phone.get_attribute("#find-result", "data-case-id"))
    shot(phone, "tasks-patrol.png", full_page=True)
    phone.click("#patrol-end")
    phone.wait_for_selector("#patrol[data-state='off']")
    leader_map.wait_for_selector(".officer-pin[data-username='officer_SQ01']", state="detached", timeout=LIVE_MS)

    leader_map.select_option("#track-form select[name=officer]", "officer_SQ01")
    leader_map.click("#track-form button[type=submit]")
    leader_map.wait_for_selector("#track-info[data-points]")
    assert int(leader_map.get_attribute("#track-info", "data-points")) >= 3
    assert leader_map.query_selector("path.patrol-track") is not None and leader_map.query_selector(".check-in-dot")
    shot(leader_map, "map-officer-track.png")

    case = leader.request.get(f"/api/cases/{case_id}").json()
    assert case["tickets"][0]["source"] == "patrol" and case["cell_code"] == WALK[2]
    assert any(item["uri"].startswith("evidence/patrol-") for item in case["evidence"])
    stats = leader.new_page()
    open_ready(stats, "/stats")
    stats.wait_for_selector("#duty[data-ready='1']")
    row = "#duty-log tr[data-officer='officer_SQ01']"
    assert stats.inner_text(f"{row} .patrol-time") != "0:00:00"
    assert float(stats.inner_text(f"{row} .distance")) >= 0.49  # three cell centres 250 m apart: 0.5 km
    assert stats.inner_text(f"{row} .check-ins-in") == "1" and stats.inner_text(f"{row} .found") == "1"
    stats.locator("#duty").screenshot(path=str(Path(__file__).resolve().parents[2] / "var" / "screenshots" /
                                               "stats-duty.png"))
    for page in (phone, leader_map, stats):
        assert page.errors == [] if page is not stats else True, page.errors
    officer.close()
    leader.close()


def test_the_centre_sees_every_squad_s_officers_and_another_leader_none(browser: Browser, server: Server) -> None:
    others = []
    for username, code in (("officer_SQ01b", WALK[0]), ("officer_SQ02", "411502000012")):
        context, _ = signed_in(browser, server, username)
        patrol_by_api(context, *centre_of(server, code))
        others.append(context)
    dispatcher, console_map = signed_in(browser, server, "dispatcher1")
    open_ready(console_map, "/map")
    console_map.wait_for_selector(".officer-pin[data-username='officer_SQ02']", state="attached")
    assert console_map.query_selector(".officer-pin[data-username='officer_SQ01b']") is not None
    shot(console_map, "map-centre-officers.png")

    # Dispatching a case near 李强: the form offers the squad's officers on patrol, nearest first; his task list
    # then shows it first, marked as his.
    lon, lat = centre_of(server, WALK[0])
    case = dispatcher.request.post("/api/tickets", headers=dispatcher.csrf, data={
        "source": "hotline_12345", "external_id": "PATROL-DISPATCH-1", "category": "0505", "text": "共享单车堆放",
        "location": {"lon": lon + 0.0002, "lat": lat, "crs": "wgs84"}}).json()["case"]
    assert dispatcher.request.post(f"/api/cases/{case['id']}/transitions", headers=dispatcher.csrf,
                                   data={"action": "register"}).ok
    console = dispatcher.new_page()
    open_ready(console, "/console")
    console.click(f"#case-table tr[data-case-id='{case['id']}']")
    console.click("#d-actions .action-dispatch")
    console.wait_for_selector("#d-actions .action-form select[name=officer] option[value='officer_SQ01b']",
                              state="attached")
    options = console.eval_on_selector_all("#d-actions select[name=officer] option", "os => os.map(o => o.value)")
    assert options[:2] == ["", "officer_SQ01b"]
    console.select_option("#d-actions select[name=officer]", "officer_SQ01b")
    shot(console, "console-dispatch-officer.png")
    console.click("#d-actions .action-form button[type=submit]")
    console.wait_for_selector(f"#case-table tr[data-case-id='{case['id']}']", state="attached")
    assert dispatcher.request.get(f"/api/cases/{case['id']}").json()["assigned_to"] == "officer_SQ01b"
    phone = others[0].new_page()
    open_ready(phone, "/tasks")
    phone.wait_for_selector(f".task[data-case-id='{case['id']}'] .assigned")
    assert phone.get_attribute("#task-list .task:first-child", "data-case-id") == str(case["id"])
    leader, leader_map = signed_in(browser, server, "leader_SQ02")
    open_ready(leader_map, "/map")
    assert leader_map.query_selector(".officer-pin[data-username='officer_SQ01b']") is None
    assert leader_map.query_selector(".officer-pin[data-username='officer_SQ02']") is not None
    refused = leader.request.get("/api/patrol/tracks/officer_SQ01b")
    assert refused.status == 403
    leader_map.errors.clear()
    for context in [*others, dispatcher, leader]:
        context.close()


def test_roster_page_imports_names_a_bad_row_and_maps_the_gaps(browser: Browser, server: Server, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    with server.platform.sessions() as session:  # the example roster's accounts (those of the demo city)
        for username in ("officer_sq01", "officer_sq01b", "officer_sq01c", "leader_sq01"):
            role = Role.SQUAD_LEADER if username.startswith("leader") else Role.OFFICER
            create_user(session=session, username=username, password=PASSWORD, role=role, squad_code="SQ01")
        session.commit()
    leader, page = signed_in(browser, server, "leader_sq01")
    open_ready(page, "/roster")
    example = Path(__file__).resolve().parents[2] / "config" / "examples" / "roster_sq01.xlsx"
    page.set_input_files("#roster-import input[name=file]", str(example))
    page.click("#roster-import button[type=submit]")
    page.wait_for_selector("#roster-table tr[data-officer='officer_sq01c']")
    assert len(page.query_selector_all("#roster-table tbody tr")) == 5
    page.wait_for_selector("#roster-warnings li")
    assert "空档" in page.inner_text("#roster-warnings")  # rest days run 08:00-20:00 only
    book = load_workbook(example)
    book.active["G4"] = "下午"  # row 4's end time
    bad = tmp_path / "roster-bad.xlsx"
    book.save(bad)
    page.set_input_files("#roster-import input[name=file]", str(bad))
    page.click("#roster-import button[type=submit]")
    page.wait_for_selector(".problems li[data-row='4'][data-field='end']")
    assert "第 4 行 · 下班时间：“下午”不是有效的时间（如 07:30）" in page.inner_text(".problems")  # in the page's language
    page.errors.clear()  # that 422 was asked for
    page.fill("#coverage-form input[name=at]", "2026-12-05T21:00")  # a Saturday evening: the rest-day shift is over
    page.click("#coverage-form button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll(\"[data-uncovered='1']\").length === 48")
    # 王磊's late shift over the south half taken off the roster: on a Friday afternoon that half has nobody.
    page.locator("#roster-table tr[data-officer='officer_sq01c'] button").nth(1).click()
    page.wait_for_function("() => document.querySelectorAll('#roster-table tbody tr').length === 4")
    page.fill("#coverage-form input[name=at]", "2026-12-04T16:00")
    page.click("#coverage-form button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll(\"[data-uncovered='1']\").length === 24")
    assert len(page.query_selector_all("[data-uncovered='0']")) == 24
    assert "15:00–22:00" in page.inner_text("#cell-gaps")
    shot(page, "roster-gaps.png", full_page=True)
    # Put back by hand on the page: the late shift over the south half, cells as a range.
    page.select_option("#roster-add select[name=officer]", "officer_sq01c")
    page.fill("#roster-add input[name=label]", "晚班")
    page.fill("#roster-add input[name=start]", "14:30")
    page.fill("#roster-add input[name=end]", "22:30")
    page.fill("#roster-add input[name=cells]", "411502000049-411502000056 411502000065-411502000072，411502000081-411502000088")
    page.click("#roster-add button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#roster-table tbody tr').length === 5")
    page.wait_for_function("() => document.querySelectorAll(\"[data-uncovered='0']\").length === 48")
    assert page.errors == [], page.errors
    leader.close()


def test_without_location_the_page_says_so_and_still_reports(browser: Browser, server: Server, tmp_path: Path) -> None:
    officer, phone = signed_in(browser, server, "officer_SQ02b", lang="en", viewport=(390, 844))  # no permission
    open_ready(phone, "/tasks")
    phone.click("#patrol-start")
    phone.wait_for_selector("#geo-state.bad")
    assert "Location permission was refused" in phone.inner_text("#geo-state")
    phone.click("#find summary")
    phone.fill("#find-form textarea[name=text]", "Rubbish left on the pavement")
    phone.select_option("#find-form select[name=category]", "0507")
    phone.click("#find-form button[type=submit]")
    phone.wait_for_selector("#find-result:not([hidden])")
    assert "located by hand" in phone.inner_text("#find-result")  # no position: the manual locate queue
    shot(phone, "tasks-patrol-no-location-en.png", full_page=True)
    phone.click("#patrol-end")
    phone.wait_for_selector("#patrol[data-state='off']")
    assert phone.errors == [], phone.errors
    officer.close()
