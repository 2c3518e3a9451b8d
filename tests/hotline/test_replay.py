"""Real NYC 311 and Boston Open311 records replayed through the intake, on a grid cut around their extent.

What a person can check by hand (from the CSV/JSON files in ../shared/data/tickets):
- NYC 2023-02-28 sample: 891 rows are bureau business (Illegal Parking 639 + Blocked Driveway 252, both 0505);
  every other complaint type (HEAT/HOT WATER 748, Noise - Residential 344, ...) is refused, naming the type.
- Unique Key 56921224 (Blocked Hydrant, 659 CAULDWELL AVENUE, BRONX) keeps its WGS-84 point and lies in its cell.
- Unique Keys 56917577, 56918599 and 56924042 (Posted Parking Sign Violation, 14 AUBURN PLACE, BROOKLYN, same point,
  04:06–04:19 UTC) are one case; 56924996 (1329 COMMONWEALTH AVENUE) joins 56920819 (1300 COMMONWEALTH AVENUE),
  48 m apart and 22 minutes apart, both Blocked Hydrant.
- Rows without coordinates and with no standard-address table wait in the manual queue, none is lost.
"""
import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from dispatch.address.service import load_matcher
from dispatch.hotline.batch import choose_profile, import_rows, read_rows, row_points, summary
from dispatch.hotline.extent import add_extent_grid
from dispatch.squad.models import Cell
from dispatch.squad.service import load_unit_grid
from dispatch.ticket.models import Ticket
from grid.geodesy import haversine_m
from tests.factories import make_settings
from tests.requirements import shared_path
from webapp.platform import Platform, build_platform

NYC = "data/tickets/nyc311/nyc311_2023-02-28_sample4999_junyan.csv"
NYC_VENDORS = "data/tickets/nyc311/nyc311_vendor_complaints_sample100_ameliedall.csv"
BOSTON = "data/tickets/boston_open311/boston_open311_illegal_parking_requests_2024-03-01.json"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> tuple[Platform, dict[str, list]]:
    """A boundary-city platform with the three files imported (each file its own grid where the grid misses)."""
    paths = {name: shared_path(relative) for name, relative in (("nyc", NYC), ("vendors", NYC_VENDORS),
                                                                 ("boston", BOSTON))}
    folder: Path = tmp_path_factory.mktemp("replay")
    settings = make_settings(f"sqlite:///{folder / 'replay.sqlite3'}", folder, city={"source": "boundary"})
    platform = build_platform(settings)
    config = platform.settings.hotline
    reports = {}
    for name, path in paths.items():
        table = read_rows(path.read_bytes(), path.name, profiles=list(config.profiles.values()))
        _, profile = choose_profile(config.profiles, table.columns, name=None, source=None)
        rows = table.rows
        with platform.sessions() as session:
            lons, lats = row_points(rows, profile)
            add_extent_grid(session=session, grid=platform.ctx.grid, lons=lons, lats=lats, cell_size_m=1000,
                            name=name)
            session.commit()
            platform.ctx.grid = load_unit_grid(session=session)
            reports[name] = (rows, import_rows(session=session, bus=platform.bus, ctx=platform.ctx, config=config,
                                               profile=profile, rows=rows,
                                               matcher=load_matcher(session=session, config=config.address),
                                               actor="replay"))
    yield platform, reports
    platform.engine.dispose()


@pytest.mark.parametrize(("name", "outcomes", "id_field"), [
    ("nyc", {"created": 723, "merged": 168, "unlocated": 3, "refused": 4105}, "Unique Key"),
    ("vendors", {"created": 97, "unlocated": 3}, "unique_key"),
    ("boston", {"created": 85, "merged": 15}, "service_request_id"),
])
def test_every_row_is_accepted_merged_or_refused_with_a_reason(replayed, name, outcomes, id_field) -> None:
    platform, reports = replayed
    rows, report = reports[name]
    assert summary(report)["outcomes"] == outcomes
    assert [r.external_id for r in report] == [str(row[id_field]) for row in rows]  # none vanishes
    assert all(r.reason for r in report if r.outcome in ("refused", "unlocated"))
    taken = [r.ticket_id for r in report if r.outcome != "refused"]
    with platform.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.id.in_(taken)))
    assert stored == len(taken)


def test_refusals_name_the_complaint_type(replayed) -> None:
    _, reports = replayed
    refused = summary(reports["nyc"][1])["refused"]
    assert refused["category: 'HEAT/HOT WATER' is mapped to no category, and the text matched no keyword rule"] == 748
    assert sum(refused.values()) == 4105


def ticket(session, external_id: str) -> Ticket:
    return session.scalars(select(Ticket).where(Ticket.external_id == external_id)).one()


def test_a_sample_of_categories_cells_and_merges(replayed) -> None:
    platform, _ = replayed
    with platform.sessions() as session:
        hydrant = ticket(session, "56921224")
        assert hydrant.category == "0505" and hydrant.address == "659 CAULDWELL AVENUE, BRONX"
        assert (hydrant.lon, hydrant.lat) == (pytest.approx(-73.90959744911358), pytest.approx(40.81672781810395))
        cell = session.get(Cell, hydrant.cell_code)
        assert shapely.covers(shape(cell.geometry), shapely.Point(hydrant.lon, hydrant.lat))
        auburn = [ticket(session, key) for key in ("56917577", "56918599", "56924042")]
        assert len({t.case_id for t in auburn}) == 1
        near, first = ticket(session, "56924996"), ticket(session, "56920819")
        assert near.case_id == first.case_id
        assert 40 < float(haversine_m(near.lon, near.lat, first.lon, first.lat)) < 50
        vendor = ticket(session, "62142590")  # DSNY Vendor Enforcement, Non-Food Vendor in a prohibited area
        assert vendor.category == "0501" and vendor.case.cell_code.startswith("900001")  # the NYC grid covers it
        boston = ticket(session, "101005333917")
        assert boston.category == "0505" and boston.source == "hotline_12319"
        assert boston.case.cell_code.startswith("900002")
        assert boston.raw["description"] == "No sticker parked in resident parking"


def test_the_cases_come_out_on_the_map(replayed) -> None:
    """What the map page draws: every case has a WGS-84 point inside a stored cell."""
    platform, _ = replayed
    with platform.sessions() as session:
        located = session.execute(select(Ticket.lon, Ticket.lat, Ticket.cell_code).where(Ticket.case_id.is_not(None)))
        lons, lats, cells = zip(*located)
    assert list(platform.ctx.grid.locate(lons, lats)) == list(cells)
    assert json.dumps(cells)
