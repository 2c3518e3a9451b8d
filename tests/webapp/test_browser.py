"""The pages in a real browser against a real server: live push latency, squad isolation, screenshots.

Chromium is Debian's (/usr/bin/chromium), driven headless by Playwright; the server is Werkzeug's in a
thread on loopback with Flask-SocketIO's threading mode, like `python -m webapp serve`.
"""
import datetime as dt
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from dispatch.case.models import Case
from grid.crs import gcj02_to_wgs84, wgs84_to_gcj02
from grid.geodesy import offset_m
from tests.factories import SITE_PHOTO_PNG, demo_centre, make_settings, ticket_payload
from tests.requirements import missing, shared_path
from webapp import create_app
from webapp.platform import Platform, build_platform

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "pw-for-browser-tests"
LIVE_LIMIT_S = 1.0
WAIT_MS = 10_000  # deadline for conditions that have no latency requirement (page loads)
CENTRE = demo_centre()
# The demo city is 4 × 3 km around CENTRE; its squads hold 2 × 2 blocks (NW, NE, SW, SE).
SOUTH_WEST = offset_m(*CENTRE, -1125, -625)
NORTH_EAST = offset_m(*CENTRE, 1125, 625)


@dataclass
class Server:
    url: str
    platform: Platform


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The whole platform on SQLite, served on a free loopback port until the module ends."""
    folder = tmp_path_factory.mktemp("browser")
    platform = build_platform(make_settings(f"sqlite:///{folder / 'gridpatrol.sqlite3'}", folder))
    app = create_app(platform=platform)
    with platform.sessions() as session:
        create_user(session=session, username="admin1", password=PASSWORD, role=Role.ADMIN, squad_code=None)
        create_user(session=session, username="dispatcher1", password=PASSWORD, role=Role.DISPATCHER, squad_code=None)
        for code in ("SQ01", "SQ02", "SQ03", "SQ04"):
            create_user(session=session, username=f"leader_{code}", password=PASSWORD, role=Role.SQUAD_LEADER,
                        squad_code=code)
            create_user(session=session, username=f"officer_{code}", password=PASSWORD, role=Role.OFFICER,
                        squad_code=code)
        session.commit()
    http: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    yield Server(url=f"http://127.0.0.1:{http.server_port}", platform=platform)
    http.shutdown()
    thread.join(timeout=10)
    http.server_close()
    platform.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        missing(f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in(browser: Browser, server: Server, username: str, *, lang: str = "zh-CN",
              viewport: tuple[int, int] = (1440, 900)) -> tuple[BrowserContext, Page]:
    """A browser context (its own cookies) signed in as `username` through the sign-in page."""
    context = browser.new_context(base_url=server.url, viewport={"width": viewport[0], "height": viewport[1]},
                                  locale=lang, timezone_id="Asia/Shanghai")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.goto(f"/login?lang={lang}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.errors = errors  # checked at the end of each test: no script error, no failed request
    # The test's own API calls through the context send the session's CSRF token, as the pages' scripts do.
    context.csrf = {"X-CSRFToken": page.evaluate("JSON.parse(document.getElementById('gp-boot').textContent).csrf_token")}
    return context, page


def open_ready(page: Page, path: str) -> None:
    """Open `path` and wait until its script has loaded its data and joined the live channel."""
    page.goto(path)
    page.wait_for_selector("[data-ready='1']", state="attached")
    page.wait_for_selector("#live-state.on", state="attached")


def post_ticket(context: BrowserContext, lon: float, lat: float, **extra: object) -> dict:
    response = context.request.post("/api/tickets", data=ticket_payload(lon=lon, lat=lat, **extra),
                                    headers=context.csrf)
    assert response.status == 201, response.text()
    return response.json()


def move(context: BrowserContext, case_id: int, action: str, **extra: str) -> dict:
    if action == "handle":  # the report needs a photo taken on site (config/categories.yaml)
        uploaded = context.request.post(f"/api/cases/{case_id}/evidence", headers=context.csrf, multipart={
            "photo": {"name": "site.png", "mimeType": "image/png", "buffer": SITE_PHOTO_PNG}})
        assert uploaded.status == 201, uploaded.text()
    response = context.request.post(f"/api/cases/{case_id}/transitions", data={"action": action, **extra},
                                    headers=context.csrf)
    assert response.status == 200, response.text()
    return response.json()


def seed_history(admin_context: BrowserContext, platform: Platform) -> None:
    """A fortnight of cases in every state, so the console, map and charts have something to show."""
    rng = random.Random(7)
    categories = ["0501", "0504", "0505", "0506", "0507", "0102"]
    now = dt.datetime.now(dt.timezone.utc)
    addresses = ["浉河区民权路", "浉河区东方红大道", "浉河区新华西路", "浉河区胜利路", "浉河区四一路", "浉河区中山路"]
    for index in range(36):
        lon, lat = offset_m(*CENTRE, rng.uniform(-1900, 1900), rng.uniform(-1400, 1400))
        received = now - dt.timedelta(days=rng.randint(0, 13), hours=rng.randint(0, 8))
        ticket = post_ticket(admin_context, lon, lat, category=categories[index % len(categories)],
                             address=f"{addresses[index % len(addresses)]}{rng.randint(1, 300)}号",
                             received_at=received.isoformat())
        case = ticket["case"]
        if ticket["outcome"] != "created":
            continue
        steps = rng.choice([[], ["register"], ["register", "dispatch"], ["register", "dispatch", "accept"],
                            ["register", "dispatch", "accept", "handle"],
                            ["register", "dispatch", "accept", "handle", "verify", "close"],
                            ["register", "dispatch", "accept", "handle", "return", "accept", "handle", "verify",
                             "close"]])
        for step in steps:
            extra = {"result": rng.choice(["persuaded", "simple_penalty", "not_found"])} if step == "handle" else {}
            if step == "return":
                extra = {"reason": "现场仍有摊位，整改不到位"}
            move(admin_context, case["id"], step, **extra)
        if steps and steps[-1] == "close":  # the hotline's follow-up call (回访) rates the closed case
            rating = rng.choice(["satisfied", "satisfied", "basically_satisfied", "dissatisfied"])
            response = admin_context.request.post(f"/api/hotline/cases/{case['id']}/rating", data={"rating": rating},
                                                  headers=admin_context.csrf)
            assert response.ok, response.text()
    # The overdue check runs on a timer in the server; mark a few the way it would, for the console's red rows.
    with platform.sessions() as session:
        late = session.scalars(select(Case).where(Case.status.in_(["dispatched", "accepted"])).order_by(Case.id)).all()
        for case in late[:3]:
            case.overdue = True
        session.commit()
    unlocated = ticket_payload(lon=None, lat=None, category="0505", address="浉河区某小区门口（地址不详）")
    assert admin_context.request.post("/api/tickets", data=unlocated, headers=admin_context.csrf).status == 201


def wait_marker(page: Page, case_id: int, timeout_ms: float) -> None:
    page.wait_for_selector(f".case-pin[data-case-id='{case_id}']", state="attached", timeout=timeout_ms)


def wait_toast(page: Page, case_id: int, timeout_ms: float) -> None:
    page.wait_for_selector(f".toast[data-case-id='{case_id}']", state="attached", timeout=timeout_ms)


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def test_live_dispatch_reaches_only_its_squad_within_a_second(browser: Browser, server: Server) -> None:
    admin, admin_page = signed_in(browser, server, "admin1")
    seed_history(admin, server.platform)
    # Which squads own the two test points (the API places them; the test does not guess).
    probe_sw = post_ticket(admin, *SOUTH_WEST, category="0507")["case"]["squad_code"]
    probe_ne = post_ticket(admin, *NORTH_EAST, category="0507")["case"]["squad_code"]
    assert probe_sw != probe_ne

    leader_a, page_a = signed_in(browser, server, f"leader_{probe_sw}")
    leader_b, page_b = signed_in(browser, server, f"leader_{probe_ne}")
    dispatcher, console = signed_in(browser, server, "dispatcher1")
    open_ready(page_a, "/map")
    open_ready(page_b, "/map")
    open_ready(console, "/console")

    # Each leader sees exactly their own squad's cells.
    for page, squad in ((page_a, probe_sw), (page_b, probe_ne)):
        cells = admin.request.get(f"/api/grid?squad={squad}").json()["features"]
        shown = page.eval_on_selector_all("[data-cell]", "nodes => nodes.map(n => n.dataset.cell)")
        assert sorted(shown) == sorted(f["properties"]["code"] for f in cells)

    # A new report in A's squad: measured from the POST to the marker on A's map, from outside (Playwright
    # sees the marker) and inside (a MutationObserver stamps the moment the marker enters the page).
    page_a.evaluate("""() => {
        window.seenAt = {};
        new MutationObserver(() => document.querySelectorAll('.case-pin, .toast').forEach(node => {
            const key = node.className.split(' ')[0] + ':' + node.dataset.caseId;
            if (!(key in window.seenAt)) window.seenAt[key] = Date.now();
        })).observe(document.body, {childList: true, subtree: true});
        window.gotAt = {};
        GP.socket.on("case_event", e => { window.gotAt[e.case.id] = window.gotAt[e.case.id] || Date.now(); });
    }""")
    lon, lat = offset_m(*SOUTH_WEST, 30, 20)
    sent_ms = time.time() * 1000
    started = time.perf_counter()
    case = post_ticket(dispatcher, lon, lat, category="0501", address="浉河区民权路88号")["case"]
    posted_s = time.perf_counter() - started
    wait_marker(page_a, case["id"], LIVE_LIMIT_S * 1000)
    marker_s = time.perf_counter() - started
    wait_toast(page_a, case["id"], LIVE_LIMIT_S * 1000)
    toast_s = time.perf_counter() - started
    assert case["squad_code"] == probe_sw
    assert marker_s < LIVE_LIMIT_S and toast_s < LIVE_LIMIT_S, (marker_s, toast_s)

    # The centre registers it with the console's button and dispatches it; the squad gets the dispatch toast
    # and a beep within the second too.
    console.click(f"#case-table tr[data-case-id='{case['id']}']")
    console.click("#d-actions .action-register")
    console.click("#d-actions .action-form button[type=submit]")
    console.wait_for_selector("#d-status.status-registered", state="attached")
    assert dispatcher.request.get(f"/api/cases/{case['id']}").json()["status"] == "registered"
    page_a.evaluate("() => { const beep = GP.beep; window.beeps = 0; GP.beep = () => { window.beeps += 1; beep(); }; }")
    started = time.perf_counter()
    move(dispatcher, case["id"], "dispatch")
    page_a.wait_for_function(
        "id => [...document.querySelectorAll('.toast.alert')].some(t => t.dataset.caseId == String(id))",
        arg=case["id"], timeout=LIVE_LIMIT_S * 1000)
    dispatch_s = time.perf_counter() - started
    assert dispatch_s < LIVE_LIMIT_S, dispatch_s
    assert page_a.evaluate("window.beeps") == 1
    page_a.wait_for_selector(f".case-pin.status-dispatched[data-case-id='{case['id']}']", state="attached")
    console.wait_for_selector(f"#case-table tr[data-case-id='{case['id']}']", state="attached")

    # B hears nothing of A's case. Events reach B in order, so once B's own later case shows,
    # anything of A's would already be there.
    other = post_ticket(dispatcher, *offset_m(*NORTH_EAST, -20, 25), category="0505")["case"]
    wait_marker(page_b, other["id"], WAIT_MS)
    assert page_b.query_selector(f"[data-case-id='{case['id']}']") is None
    assert page_a.query_selector(f".case-pin[data-case-id='{other['id']}']") is None
    transport = page_a.evaluate("GP.socket.io.engine.transport.name")
    seen = page_a.evaluate("window.seenAt")
    in_page_ms = seen[f"case-pin:{case['id']}"] - sent_ms
    arrived_ms = page_a.evaluate("window.gotAt")[str(case["id"])] - sent_ms
    assert in_page_ms < LIVE_LIMIT_S * 1000
    print(f"\nlive push ({transport}): POST answered in {posted_s * 1000:.0f} ms; event in the page after "
          f"{arrived_ms:.0f} ms, marker in the page after "
          f"{in_page_ms:.0f} ms, seen by the test after {marker_s * 1000:.0f} ms, "
          f"toast {toast_s * 1000:.0f} ms, dispatch toast {dispatch_s * 1000:.0f} ms after the POST was sent")

    # A dropped link hides nothing: what happened while A was offline arrives on reconnect (catch-up).
    page_a.evaluate("GP.socket.disconnect()")
    page_a.wait_for_selector("#live-state.off", state="attached")
    missed = post_ticket(dispatcher, *offset_m(*SOUTH_WEST, -40, 60), category="0102")["case"]
    assert page_a.query_selector(f".case-pin[data-case-id='{missed['id']}']") is None
    page_a.evaluate("GP.socket.connect()")
    wait_marker(page_a, missed["id"], WAIT_MS)

    # The leader accepts in the popup; the console follows live.
    page_a.click(f".case-pin[data-case-id='{case['id']}']")
    page_a.click(".leaflet-popup .action-accept")
    page_a.click(".leaflet-popup .action-form button[type=submit]")
    console.wait_for_selector(f"#case-table tr[data-case-id='{case['id']}'] .status-accepted", state="attached")
    page_a.wait_for_selector(f".case-pin.status-accepted[data-case-id='{case['id']}']", state="attached")

    # Screenshots for people to look at: the map with the case's popup open (now offering the result report).
    page_a.wait_for_selector(".leaflet-popup", state="detached")
    page_a.click(f".case-pin[data-case-id='{case['id']}']")
    page_a.wait_for_selector(".leaflet-popup .action-handle")
    page_a.wait_for_function("() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    shot(page_a, "squad-map.png")
    console.click(f"#case-table tr[data-case-id='{case['id']}']")
    console.wait_for_selector("#d-timeline li >> nth=2", state="attached")
    console.wait_for_selector("#d-map .case-pin", state="attached")
    shot(console, "console.png")
    # A case waiting to be registered: the centre's buttons, with the reason form of a rejection open.
    waiting = console.get_attribute("#case-table tr:has(.status-reported)", "data-case-id")
    console.click(f"#case-table tr[data-case-id='{waiting}']")
    console.click("#d-actions .action-reject")
    console.wait_for_selector("#d-actions .action-form input[name=reason]")
    console.wait_for_selector("#d-actions .action-register", state="attached")
    shot(console, "console-actions.png")
    open_ready(console, "/stats")
    console.wait_for_selector("#ranking tbody tr >> nth=3", state="attached")
    console.wait_for_selector("#chart-category canvas", state="attached")
    console.wait_for_selector("#heat-map [data-heat-cell]", state="attached")
    console.wait_for_selector("body[data-charts-drawn='1']", state="attached")  # ECharts animations ended
    shot(console, "stats.png", full_page=True)
    for context, page in ((admin, admin_page), (leader_a, page_a), (leader_b, page_b), (dispatcher, console)):
        assert page.errors == [], page.errors
        context.close()


def test_officer_phone_accepts_and_reports_with_a_photo(browser: Browser, server: Server, tmp_path: Path) -> None:
    admin, _ = signed_in(browser, server, "admin1")
    case = post_ticket(admin, *offset_m(*SOUTH_WEST, -60, -40), category="0504", address="浉河区胜利路12号")["case"]
    move(admin, case["id"], "register")
    move(admin, case["id"], "dispatch")
    officer, phone = signed_in(browser, server, f"officer_{case['squad_code']}", viewport=(390, 844))
    assert phone.url.endswith("/tasks")
    open_ready(phone, "/tasks")
    card = f".task[data-case-id='{case['id']}']"
    phone.click(f"{card} .action-accept")
    phone.click(f"{card} .action-form button[type=submit]")
    phone.wait_for_selector(f"{card}[data-status='accepted'] .action-handle")
    phone.click(f"{card} .action-handle")
    phone.select_option(f"{card} select[name=result]", "persuaded")
    photo = tmp_path / "site.png"
    Image.new("RGB", (64, 48), (90, 140, 60)).save(photo)
    phone.set_input_files(f"{card} input[name=photo]", str(photo))
    shot(phone, "tasks-phone.png")
    phone.click(f"{card} .action-form button[type=submit]")
    phone.wait_for_selector(card, state="detached")
    detail = admin.request.get(f"/api/cases/{case['id']}").json()
    assert detail["status"] == "handled" and detail["handling_result"] == "persuaded"
    assert len(detail["evidence"]) == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert phone.errors == [], phone.errors
    officer.close()
    admin.close()


def test_english_pages_and_strangers(browser: Browser, server: Server) -> None:
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto("/map")
    assert "/login" in page.url
    context.close()
    dispatcher, page = signed_in(browser, server, "dispatcher1", lang="en")
    post_ticket(dispatcher, *offset_m(*NORTH_EAST, 80, -50), category="0506")
    open_ready(page, "/console?lang=en")
    assert page.inner_text(".tab >> nth=0").startswith("Case queue")
    assert page.locator("#case-table th >> nth=3").inner_text() == "Category"  # after No., Source, Priority
    page.wait_for_selector("#case-table tbody tr", state="attached")
    page.click("#case-table tbody tr >> nth=0")
    page.wait_for_selector("#d-timeline li", state="attached")
    assert page.locator("#case-table tbody tr >> nth=0").inner_text().split("\t")[3].strip() in {
        "Unlicensed street vending", "Shop-front trading", "Illegal motor-vehicle parking",
        "Illegal non-motor-vehicle parking", "Piled materials", "Exposed rubbish"}
    shot(page, "console-en.png")
    assert page.errors == [], page.errors
    dispatcher.close()


def test_console_locates_a_ticket_by_a_click_on_the_map(browser: Browser, server: Server) -> None:
    dispatcher, console = signed_in(browser, server, "dispatcher1")
    ticket = dispatcher.request.post("/api/tickets", data=ticket_payload(
        lon=None, lat=None, category="0506", address="浉河区某路口（来电未说清）"), headers=dispatcher.csrf).json()["ticket"]
    open_ready(console, "/console")
    console.click(".tab[data-tab=locate]")
    console.click(f"#unlocated li[data-ticket-id='{ticket['id']}']")
    console.wait_for_selector("#l-map [data-cell]", state="attached")
    console.once("dialog", lambda dialog: dialog.accept())
    box = console.locator("#l-map").bounding_box()
    console.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    console.wait_for_selector(f"#unlocated li[data-ticket-id='{ticket['id']}']", state="detached")
    located = dispatcher.request.get(f"/api/tickets/{ticket['id']}").json()
    assert located["status"] == "linked" and located["case_id"] is not None
    console.wait_for_selector(f"#d-title:has-text('#{located['case_id']}')")
    assert console.errors == [], console.errors
    dispatcher.close()


def test_page_gcj02_shift_matches_grid_crs(browser: Browser, server: Server) -> None:
    """The pages shift WGS-84 to GCJ-02 for GCJ-02 tiles with the same formula as grid/crs.py."""
    dispatcher, page = signed_in(browser, server, "dispatcher1")
    open_ready(page, "/stats")
    points = [(114.07, 32.12), (116.397, 39.908), (121.47, 31.23), (2.35, 48.85)]
    shifted = page.evaluate("points => points.map(p => GP.wgsToGcj(p[0], p[1]))", points)
    back = page.evaluate("points => points.map(p => GP.gcjToWgs(p[0], p[1]))", shifted)
    for (lon, lat), (glon, glat), (wlon, wlat) in zip(points, shifted, back):
        expected = wgs84_to_gcj02(lon, lat)
        assert abs(glon - expected[0]) < 1e-9 and abs(glat - expected[1]) < 1e-9
        assert abs(wlon - gcj02_to_wgs84(glon, glat)[0]) < 1e-9 and abs(wlat - lat) < 1e-8
    dispatcher.close()


def camera_reports(tmp_path: Path, event_id: str, at_s: tuple[float, float],
                   box: tuple[float, float, float, float]) -> list[dict]:
    """The worker's start and update reports of a stay on the street clip, each with the photo taken then."""
    import cv2

    from config.vision import EvidenceConfig, ZoneConfig
    from vision.events import ViolationEvent
    from vision.evidence import EvidenceWriter
    from vision.handover import detection_report
    from vision.zones import Zone

    clip = cv2.VideoCapture(str(shared_path("data/media/cctv_street_no_parking_zone.mp4")))
    zone = Zone.from_config(ZoneConfig(id="blue_kerb", kind="no_parking",
                                       polygon=[(316, 84), (342, 84), (356, 236), (258, 236)]))
    writer, media_start, reports = EvidenceWriter(tmp_path, EvidenceConfig()), dt.datetime.now(dt.timezone.utc), []
    for phase, seconds in zip(("start", "update"), at_s):
        clip.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
        ok, image = clip.read()
        assert ok
        event = writer.attach(ViolationEvent(
            event_id=event_id, source_id="cctv_street", rule="illegal_parking", category="0505", zone_id="blue_kerb",
            phase=phase, started_at_s=at_s[0] - 5, last_seen_s=seconds, dwell_s=seconds - at_s[0] + 5, box_xyxy=box,
            ground_point_px=((box[0] + box[2]) / 2, box[3]), track_ids=(4,), confidence=0.83), image, zone)
        reports.append(detection_report(event, source_kind="camera", media_start=media_start))
    clip.release()
    return reports


def test_dispatcher_confirms_one_camera_case_and_rejects_another(browser: Browser, server: Server,
                                                                 tmp_path: Path) -> None:
    """Two camera cases await review; the console shows both photos, the zone and the dwell; one is confirmed,
    the other rejected as a false detection; the statistics count one of each."""
    from dispatch.account.service import issue_token
    from dispatch.ticket.enums import TicketSource

    with server.platform.sessions() as session:
        camera_token = issue_token(session=session, name="browser-camera", sources=[TicketSource.CAMERA])
        session.commit()
    dispatcher, console = signed_in(browser, server, "dispatcher1")
    cases = []
    for number, (east_m, box) in enumerate(((-300, (278, 155, 333, 207)), (300, (150, 230, 230, 290)))):
        lon, lat = offset_m(*SOUTH_WEST, east_m, 310)
        reports = camera_reports(tmp_path / str(number), f"cctv_street:illegal_parking:{number}:0", (6.0, 12.0), box)
        for report in reports:
            report["location"] = {"lon": lon, "lat": lat, "crs": "wgs84"}
            response = dispatcher.request.post("/api/detections", data=report,
                                               headers={"Authorization": f"Bearer {camera_token}"})
            assert response.status == 200, response.text()
        assert response.json()["outcome"] == "updated"
        with server.platform.sessions() as session:
            case = session.scalars(select(Case).order_by(Case.id.desc())).first()
            assert case.tickets[0].external_id == reports[0]["event_id"]
            cases.append({"id": case.id, "review_status": case.review_status})
    assert [c["review_status"] for c in cases] == ["pending", "pending"]

    open_ready(console, "/console")
    console.check("#filters input[name=review]")
    # the filtered list replaces the whole queue: wait for it rather than for a row the full queue also has
    console.wait_for_function("() => document.querySelectorAll('#case-table tbody tr').length === 2")
    console.wait_for_selector(f"#case-table tr[data-case-id='{cases[1]['id']}']")
    console.click(f"#case-table tr[data-case-id='{cases[0]['id']}']")
    console.wait_for_selector("#d-review:not([hidden]) #r-form:not([hidden])")
    for index in (1, 2):  # both evidence photos side by side, loaded
        console.wait_for_function(f"() => {{ const img = document.querySelector('#r-photo-{index} img');"
                                  f" return img && img.complete && img.naturalWidth > 0; }}")
    assert "blue_kerb" in console.inner_text("#r-fields") and "5 秒" in console.inner_text("#r-fields")
    assert console.is_hidden("#d-actions .action-register")  # pending: registering goes through the review
    shot(console, "console-review.png")
    console.click("#r-confirm")
    console.wait_for_selector("#d-status.status-registered")

    console.click(f"#case-table tr[data-case-id='{cases[1]['id']}']")
    console.wait_for_selector(f"#d-title:has-text('#{cases[1]['id']}')")
    console.wait_for_selector("#r-form:not([hidden])")
    console.select_option("#r-reason", "false_detection")
    console.fill("#r-note", "框内是路面标线")
    console.click("#r-reject")
    console.wait_for_selector("#d-status.status-rejected")
    console.wait_for_selector("#d-timeline li.kind-rejected:has-text('误检')")
    with server.platform.sessions() as session:
        stored = {case_id: session.get(Case, case_id) for case_id in (cases[0]["id"], cases[1]["id"])}
        assert stored[cases[0]["id"]].status == "registered" and stored[cases[0]["id"]].review_status == "confirmed"
        assert stored[cases[1]["id"]].reject_reason == "false_detection"

    open_ready(console, "/stats")
    row = "#review-stats tr[data-source='camera'][data-rule='illegal_parking']"
    console.wait_for_selector(row)
    assert console.inner_text(f"{row} td.confirmed") == "1" and console.inner_text(f"{row} td.rejected") == "1"
    assert console.inner_text(f"{row} td.precision") == "50.0%"
    shot(console, "stats-review.png", full_page=True)
    assert dispatcher.request.get("/api/stats/review").json()[0]["precision"] == 0.5
    open_ready(console, "/console?lang=en")  # the reviewed case in English: its verdict, no form
    console.select_option("#filters select[name=status]", "rejected")
    console.click(f"#case-table tr[data-case-id='{cases[1]['id']}']")
    console.wait_for_selector("#d-review:not([hidden]) #r-status.review-rejected")
    assert console.is_hidden("#r-form") and "False detection" in console.inner_text("#r-fields")
    shot(console, "console-review-en.png")
    assert console.errors == [], console.errors
    dispatcher.close()
def test_console_imports_a_file_in_the_background_and_offers_its_report(browser: Browser, server: Server,
                                                                         tmp_path: Path) -> None:
    header = "工单编号,来电时间,诉求人,联系电话,诉求内容,诉求地址,诉求类型,经度,纬度"
    rows = [f"WEB-{n},2026-11-20 09:30:00,王先生,13900002222,门口有流动摊贩占道经营,浉河区新华路{n}号,城管执法,"
            f"{CENTRE[0] + n * 1e-5:.6f},{CENTRE[1]:.6f}" for n in range(600)]
    orders = tmp_path / "工单导出.csv"
    orders.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    for lang in ("zh-CN", "en"):
        dispatcher, console = signed_in(browser, server, "dispatcher1", lang=lang)
        open_ready(console, "/console")
        console.click(".tab[data-tab=imports]")
        console.select_option("#import-form select[name=profile]", "12345")
        console.set_input_files("#import-form input[type=file]", str(orders))
        console.click("#import-form button[type=submit]")
        jobs = 1 if lang == "zh-CN" else 2
        # a function, not an expression: Playwright polls an expression through eval, which the CSP refuses
        console.wait_for_function(f"() => document.querySelectorAll('#import-jobs li.import-job').length === {jobs}")
        newest = "#import-jobs li.import-job:first-child"
        if lang == "zh-CN":
            console.wait_for_selector(f"{newest}.status-running progress:not([value='0'])", timeout=60_000)
            shot(console, "console-import-running.png")
        console.wait_for_selector(f"{newest}.status-done a", timeout=120_000)
        shot(console, f"console-import-done-{lang}.png")
        link = console.locator(f"{newest} a").get_attribute("href")
        report = dispatcher.request.get(link)
        assert report.status == 200 and report.text().count("\n") == 601
        outcome = "created" if lang == "zh-CN" else "duplicate"  # the same file again: nothing imported twice
        assert f",{outcome}," in report.text()
        assert console.errors == [], console.errors
        dispatcher.close()
