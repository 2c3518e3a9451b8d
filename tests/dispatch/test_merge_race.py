"""Two reports of one incident arriving at the same instant on two engines (as two web processes would):
the merge decision is serialised per area, so they make one case, on SQLite and on PostgreSQL."""
import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dispatch.case.events import commit_and_publish
from dispatch.case.models import Case
from dispatch.case.service import merge_area_keys
from dispatch.db import WRITER
from dispatch.intake import Outcome, submit_ticket
from grid.geodesy import haversine_m, offset_m
from tests.factories import DEMO_CENTRE_WGS84, make_settings, ticket_in
from webapp.platform import Platform, build_platform

PAIRS = 12
PAIR_GAP_M = 20  # the two reports of a pair: well inside the 50 m merge radius
PAIR_SPACING_M = 150  # between pairs: beyond the radius, so each pair is its own incident


@pytest.fixture(params=["sqlite", "postgres"])
def two_platforms(request, tmp_path: Path) -> Iterator[tuple[Platform, Platform]]:
    """Two platforms (engines, pools) on one new database: what two web processes share."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    first = build_platform(make_settings(url, tmp_path))
    second = build_platform(make_settings(url, tmp_path))
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


def submit_at(platform: Platform, start: threading.Barrier, lon: float, lat: float, results: list, errors: list):
    start.wait()
    try:
        with platform.sessions(execution_options=WRITER) as session:  # as a POST's session is
            result = submit_ticket(session=session, ctx=platform.ctx, ticket_in=ticket_in(lon=lon, lat=lat),
                                   raw={}, actor="test")
            commit_and_publish(session, platform.bus)
            results.append((result.outcome, result.case.id))
    except Exception as exc:  # noqa: BLE001 - the test reports every failure of the race, whatever it is
        errors.append(repr(exc))


def test_a_pair_sent_at_the_same_instant_makes_one_case(two_platforms) -> None:
    first, second = two_platforms
    base_lon, base_lat = DEMO_CENTRE_WGS84
    pair_cases: list[set[int]] = []
    pair_outcomes: list[list[Outcome]] = []
    errors: list[str] = []
    for index in range(PAIRS):
        # Pairs in a row across the cell and its neighbours (cell edges and lock squares fall between twins).
        lon, lat = offset_m(base_lon, base_lat, -800 + index * PAIR_SPACING_M, 0)
        twin = offset_m(lon, lat, PAIR_GAP_M, 0)
        results: list = []
        start = threading.Barrier(2)
        threads = [threading.Thread(target=submit_at, args=(first, start, lon, lat, results, errors)),
                   threading.Thread(target=submit_at, args=(second, start, *twin, results, errors))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        pair_cases.append({case_id for _, case_id in results})
        pair_outcomes.append(sorted(outcome for outcome, _ in results))
    assert errors == []
    assert pair_outcomes == [[Outcome.CREATED, Outcome.MERGED]] * PAIRS
    assert [len(cases) for cases in pair_cases] == [1] * PAIRS
    with first.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == PAIRS


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(18, 54), lon=st.floats(73, 135), bearing=st.floats(0, 360), distance=st.floats(0, 1),
       radius=st.sampled_from([10.0, 50.0, 200.0]))
def test_two_points_within_the_radius_share_an_area_key(lat, lon, bearing, distance, radius) -> None:
    """Whatever the area's edges, two reports that could merge take at least one lock in common."""
    east, north = distance * radius * math.sin(math.radians(bearing)), distance * radius * math.cos(math.radians(bearing))
    other_lon, other_lat = offset_m(lon, lat, east, north)
    if float(haversine_m(lon, lat, [other_lon], [other_lat])[0]) > radius:
        return  # the offset's flat-earth step may land a hair beyond the radius: such points never merge
    mine = set(merge_area_keys(category="0501", lon=lon, lat=lat, radius_m=radius))
    theirs = set(merge_area_keys(category="0501", lon=other_lon, lat=other_lat, radius_m=radius))
    assert mine & theirs
    assert len(mine) <= 9
