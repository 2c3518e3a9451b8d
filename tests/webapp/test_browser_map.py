"""The maps in a real browser on a city with real streets: the offline base map, state pins, the case list,
a redispatched pin moving live, and the locate queue's address candidates.

The city is a 250 m grid over the shared OpenStreetMap extract of 龙岗区 (Shenzhen), its base map built from
that extract by the platform's own builder; the standard addresses lie on one of its real streets.
"""
import csv
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import osmium
import pytest
import shapely
from geopandas import GeoDataFrame
from playwright.sync_api import Browser, Page
from werkzeug.serving import BaseWSGIServer, make_server

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from dispatch.address.service import store_addresses
from dispatch.db import make_engine, make_session_factory, migrate
from dispatch.squad.service import store_grid
from grid.basemap import build_basemap
from grid.cells import WGS84, build_cells
from grid.crs import CoordSys
from grid.squads import assign_by_blocks
from tests.factories import make_settings
from tests.requirements import shared_path
from tests.webapp.test_browser import (PASSWORD, WAIT_MS, Server, browser, move, open_ready, post_ticket, shot,
                                       signed_in)
from webapp import create_app
from webapp.platform import build_platform

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared Chromium fixture

LONGGANG = "data/geo/osm/shenzhen_longgang_klein4c_map.osm"
STREET = "爱南路"  # a named street of the extract: the address book's doors lie on its nodes
PREFIXES = ["广东省", "深圳市", "龙岗区"]


def extract_box(extract: Path) -> tuple[float, float, float, float]:
    """The extract's declared bounds (west, south, east, north)."""
    reader = osmium.io.Reader(str(extract), osmium.osm.osm_entity_bits.NOTHING)
    box = reader.header().box()
    reader.close()
    return box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat


def street_doors(extract: Path, street: str, box: tuple[float, float, float, float]) -> list[dict[str, str]]:
    """Standard-address rows 深圳市龙岗区<street>N号 on the street's nodes inside the city."""
    west, south, east, north = box
    points = []
    for obj in osmium.FileProcessor(str(extract)).with_locations():
        if obj.is_way() and obj.tags.get("name") == street:
            points += [(node.lon, node.lat) for node in obj.nodes if west < node.lon < east and south < node.lat < north]
    return [{"address": f"深圳市龙岗区{street}{number}号", "lon": f"{lon:.7f}", "lat": f"{lat:.7f}"}
            for number, (lon, lat) in enumerate(points, start=1)]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The platform on SQLite with a 4-squad grid and a base map built from the 龙岗 extract, on loopback."""
    extract = shared_path(LONGGANG)
    folder = tmp_path_factory.mktemp("browser-map")
    settings = make_settings(f"sqlite:///{folder / 'gridpatrol.sqlite3'}", folder,
                             city={"name": "深圳市龙岗区"}, hotline={"address": {"prefixes": PREFIXES}})
    basemap = settings.map.basemap
    build_basemap(extract=extract, output=settings.path(basemap.file), label_keys=basemap.label_keys,
                  min_zoom=basemap.min_zoom, max_zoom=basemap.max_zoom, name="longgang")
    box = extract_box(extract)
    boundary = GeoDataFrame({"district_code": ["440307"], "district_name": ["龙岗区"]},
                            geometry=[shapely.box(*box)], crs=WGS84)
    cells, squads = assign_by_blocks(build_cells(boundary, cell_size_m=250, district_field="district_code"), 2, 2,
                                     "SQ")
    engine = make_engine(settings.database.url)
    migrate(engine)
    with make_session_factory(engine)() as session:
        store_grid(session=session, cells=cells, squads=squads)
        store_addresses(session=session, rows=street_doors(extract, STREET, box), crs=CoordSys.WGS84,
                        config=settings.hotline.address)
        create_user(session=session, username="dispatcher1", password=PASSWORD, role=Role.DISPATCHER, squad_code=None)
        for squad in squads:
            create_user(session=session, username=f"leader_{squad['code']}", password=PASSWORD,
                        role=Role.SQUAD_LEADER, squad_code=squad["code"])
        session.commit()
    engine.dispose()
    platform = build_platform(settings)
    http: BaseWSGIServer = make_server("127.0.0.1", 0, create_app(platform=platform), threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="browser-map-server", daemon=True)
    thread.start()
    yield Server(url=f"http://127.0.0.1:{http.server_port}", platform=platform)
    http.shutdown()
    thread.join(timeout=10)
    http.server_close()
    platform.engine.dispose()


def watch_requests(page: Page) -> list[str]:
    """Every URL the page asks for from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def only_local(urls: list[str], server: Server) -> list[str]:
    """The URLs that would leave the host (anything but the test server; data: and blob: never leave)."""
    here = urlsplit(server.url).netloc
    return [url for url in urls if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != here]


def painted_colours(page: Page) -> set[str]:
    """Distinct colours on the base map's tile canvases (streets, water, buildings leave theirs)."""
    return set(page.evaluate("""() => {
        const colours = new Set();
        document.querySelectorAll('canvas.leaflet-tile').forEach(canvas => {
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < data.length; i += 4 * 7) colours.add(data[i] + ',' + data[i + 1] + ',' + data[i + 2]);
        });
        return [...colours];
    }"""))


def squad_of(page_or_context, lon: float, lat: float) -> str:
    return post_ticket(page_or_context, lon, lat, category="0507")["case"]["squad_code"]


def test_the_base_map_draws_streets_from_the_platform_alone(browser: Browser, city: Server) -> None:
    context, page = signed_in(browser, city, "leader_SQ01")
    asked = watch_requests(page)
    open_ready(page, "/map")
    page.wait_for_selector("#map[data-basemap='drawn']", state="attached")
    ranges = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('basemap')).length")
    colours = painted_colours(page)
    shot(page, "map-basemap-longgang.png")
    first_paint_ms = int(page.get_attribute("#map", "data-basemap-ms"))
    print(f"\nbase map drawn {first_paint_ms} ms after navigation; {ranges} range requests; "
          f"{len(asked)} requests in all")
    assert only_local(asked, city) == [], "a request left the host"
    assert any("/basemap.pmtiles" in url for url in asked)
    assert "255,255,255" in colours and "251,226,162" in colours  # minor (white) and major (#fbe2a2) streets
    assert len(colours) > 5  # land, streets, casing, buildings, water: not a blank grey
    assert page.query_selector(".map-note") is None  # no "no base map" note
    # The tiles come in range requests, not as one download.
    whole = context.request.get("/basemap.pmtiles")
    partial = context.request.get("/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert whole.status == 200 and partial.status == 206 and partial.body() == whole.body()[:127]
    assert page.errors == []
    context.close()


def test_pins_show_state_and_the_list_pans_to_them(browser: Browser, city: Server) -> None:
    dispatcher, _ = signed_in(browser, city, "dispatcher1")
    context, page = signed_in(browser, city, "leader_SQ03")
    open_ready(page, "/map")
    cells = dispatcher.request.get("/api/grid?squad=SQ03").json()["features"]
    lon, lat = shapely.geometry.shape(cells[len(cells) // 2]["geometry"]).centroid.coords[0]
    made = {}  # case id → the state it is left in
    for steps, status, category in (([], "reported", "0505"), (["register"], "registered", "0501"),
                                    (["register", "dispatch"], "dispatched", "0504"),
                                    (["register", "dispatch", "accept", "handle"], "handled", "0506")):
        case = post_ticket(dispatcher, lon + 0.0008 * len(made), lat, category=category,
                           address=f"深圳市龙岗区测试{len(made)}号")["case"]
        for step in steps:
            actor = context if step in ("accept", "handle") else dispatcher  # the squad does the field work
            move(actor, case["id"], step, **({"result": "persuaded"} if step == "handle" else {}))
        made[case["id"]] = status
    for case_id, status in made.items():
        page.wait_for_selector(f".case-pin.status-{status}[data-case-id='{case_id}']", state="attached")
        page.wait_for_selector(f"#case-list li[data-case-id='{case_id}']")
    letters = page.eval_on_selector_all(".case-pin", "nodes => [...new Set(nodes.map(n => n.textContent))]")
    assert {"报", "立", "派", "办"} <= set(letters)
    first = next(iter(made))
    page.click(f"#case-list li[data-case-id='{first}']")
    page.wait_for_selector(".leaflet-popup .case-popup")
    assert f"#{first}" in page.inner_text(".leaflet-popup .case-popup")
    shot(page, "map-states-list.png")
    # On a phone the list is a bottom sheet behind a button, so the map keeps the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert not page.is_visible("#case-list") and page.is_visible("#list-toggle")
    page.click("#list-toggle")
    page.wait_for_selector("#case-list", state="visible")
    shot(page, "map-states-list-phone.png")
    page.click(f"#case-list li[data-case-id='{first}']")  # picks the case and closes the sheet
    page.wait_for_selector("#case-list", state="hidden")
    assert page.errors == []
    context.close()
    dispatcher.close()


def test_a_redispatched_pin_leaves_one_squad_and_lands_in_view_on_the_other(browser: Browser, city: Server) -> None:
    dispatcher, _ = signed_in(browser, city, "dispatcher1")
    leader_a, page_a = signed_in(browser, city, "leader_SQ01")
    leader_b, page_b = signed_in(browser, city, "leader_SQ04")
    open_ready(page_a, "/map")
    open_ready(page_b, "/map")
    cells = dispatcher.request.get("/api/grid?squad=SQ01").json()["features"]
    lon, lat = shapely.geometry.shape(cells[0]["geometry"]).centroid.coords[0]  # SQ01's corner, far from SQ04
    case = post_ticket(dispatcher, lon, lat, category="0501", address=f"深圳市龙岗区{STREET}北段")["case"]
    assert case["squad_code"] == "SQ01"
    move(dispatcher, case["id"], "register")
    page_a.wait_for_selector(f".case-pin.status-registered[data-case-id='{case['id']}']", state="attached")
    in_view = "id => { const pin = document.querySelector(`.case-pin[data-case-id='${id}']`); if (!pin) return false;" \
              " const r = pin.getBoundingClientRect(), m = document.getElementById('map').getBoundingClientRect();" \
              " return r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom; }"
    assert not page_b.evaluate(in_view, case["id"])

    move(dispatcher, case["id"], "dispatch", squad="SQ04")
    page_a.wait_for_selector(f".case-pin[data-case-id='{case['id']}']", state="detached", timeout=WAIT_MS)
    # and from the list, which the map redraws a frame later
    page_a.wait_for_selector(f"#case-list li[data-case-id='{case['id']}']", state="detached", timeout=WAIT_MS)
    left = f"案件 #{case['id']} 已改派其他中队"  # the old squad learns only that it left: no place, no new squad
    page_a.wait_for_function("text => [...document.querySelectorAll('.toast')].some(t => t.textContent === text)",
                             arg=left)
    page_b.wait_for_selector(f".case-pin.status-dispatched[data-case-id='{case['id']}']", state="attached")
    page_b.wait_for_function(in_view, arg=case["id"], timeout=WAIT_MS)  # the view widened to the newcomer
    toast = page_b.wait_for_selector(f".toast.clickable[data-case-id='{case['id']}']")
    assert STREET in toast.inner_text()  # says where it is
    toast.click()  # and takes the officer there: the case's popup opens on its pin
    assert f"#{case['id']}" in page_b.wait_for_selector(".leaflet-popup .case-popup").inner_text()
    shot(page_a, "map-redispatch-old-squad.png")
    shot(page_b, "map-redispatch-new-squad.png")
    assert page_a.errors == [] and page_b.errors == []
    for context in (dispatcher, leader_a, leader_b):
        context.close()


def test_the_locate_queue_offers_the_address_books_candidates_on_the_map(browser: Browser, city: Server) -> None:
    context, console = signed_in(browser, city, "dispatcher1")
    rows = io.StringIO()
    writer = csv.DictWriter(rows, ["工单编号", "来电时间", "诉求人", "联系电话", "诉求内容", "诉求地址", "诉求类型"])
    writer.writeheader()
    writer.writerow({"工单编号": "LG-CAND-1", "来电时间": "2026-11-20 09:30:00", "诉求人": "李女士",
                     "联系电话": "13900003333", "诉求内容": "小区北门有流动摊贩占道经营",
                     "诉求地址": f"龙岗区{STREET}（小区北门）", "诉求类型": "流动摊贩"})
    imported = context.request.post("/api/hotline/imports", headers=context.csrf, multipart={
        "profile": "12345", "file": {"name": "orders.csv", "mimeType": "text/csv",
                                     "buffer": rows.getvalue().encode("utf-8")}})
    assert imported.status == 202, imported.text()
    job = imported.json()
    for _ in range(100):  # the upload runs as a background job: wait for it, then read its per-row report
        job = context.request.get(f"/api/hotline/imports/{job['id']}").json()
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    report = context.request.get(f"/api/hotline/imports/{job['id']}/report.csv")
    assert report.ok, (job, report.text())
    row = next(csv.DictReader(io.StringIO(report.text().lstrip("\ufeff"))))
    assert row["outcome"] == "unlocated", row
    candidates = context.request.get(f"/api/hotline/tickets/{row['ticket_id']}/candidates").json()
    assert candidates and all(STREET in c["address"] for c in candidates)

    open_ready(console, "/console")
    console.click(".tab[data-tab='locate']")
    console.click(f"#unlocated li[data-ticket-id='{row['ticket_id']}']")
    console.wait_for_selector("#l-map .candidate-pin[data-rank='1']")
    shown = console.eval_on_selector_all("#l-map .candidate-pin", "nodes => nodes.map(n => Number(n.dataset.rank))")
    assert sorted(shown) == [c["rank"] for c in candidates]
    console.wait_for_selector("#l-map[data-basemap='drawn']", state="attached")
    shot(console, "console-locate-candidates.png")
    console.click("#l-map .candidate-pin[data-rank='1']")  # one click, no confirmation: the address book's place
    console.wait_for_selector("#detail:not([hidden])")
    ticket = context.request.get(f"/api/tickets/{row['ticket_id']}").json()
    placed = (ticket["location"]["lon"], ticket["location"]["lat"])
    assert placed == pytest.approx((candidates[0]["lon"], candidates[0]["lat"]), abs=1e-6)
    assert ticket["case_id"] is not None
    assert console.query_selector(f"#unlocated li[data-ticket-id='{row['ticket_id']}']") is None
    assert console.errors == []
    context.close()
