"""Intake on real storage (SQLite and PostgreSQL): location, idempotency, merging, the manual queue."""
import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from dispatch.case.enums import CaseAction, CaseStatus
from dispatch.case.events import commit_and_publish
from dispatch.case.models import Case, CaseEvent
from dispatch.case.service import flag_overdue, split_ticket
from dispatch.case.transitions import transition
from dispatch.intake import Outcome, locate_ticket, submit_ticket
from dispatch.squad.models import Cell
from dispatch.ticket.models import Ticket
from grid.crs import wgs84_to_gcj02
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, ticket_in
from webapp.tasks import check_overdue_once

LON, LAT = DEMO_CENTRE_WGS84


def submit(platform, **kwargs):
    with platform.sessions() as session:
        result = submit_ticket(session=session, ctx=platform.ctx, ticket_in=ticket_in(**kwargs), raw={"k": 1},
                               actor="test")
        commit_and_publish(session, platform.bus)
        return result


def count(platform, model) -> int:
    with platform.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_gcj02_ticket_is_converted_before_lookup(platform) -> None:
    # A point in the middle of a cell (125 m from its edges); GCJ-02 shifts it ~560 m east.
    lon, lat = LON, LAT
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    result = submit(platform, lon=float(gcj_lon), lat=float(gcj_lat), crs="gcj02")
    assert result.outcome is Outcome.CREATED
    expected_cell = platform.ctx.grid.locate_one(lon, lat)
    assert result.case.cell_code == expected_cell
    assert platform.ctx.grid.locate_one(float(gcj_lon), float(gcj_lat)) != expected_cell
    with platform.sessions() as session:
        assert result.case.squad_code == session.get(Cell, expected_cell).squad_code
        ticket = session.get(Ticket, result.ticket.id)
        assert (ticket.input_crs, ticket.input_lon) == ("gcj02", pytest.approx(float(gcj_lon)))
        assert ticket.lon == pytest.approx(lon, abs=1e-6) and ticket.lat == pytest.approx(lat, abs=1e-6)
        assert ticket.raw == {"k": 1}


def test_same_source_and_external_id_is_one_ticket(platform) -> None:
    first = submit(platform, lon=LON, lat=LAT, external_id="12345-0001")
    again = submit(platform, lon=LON + 0.01, lat=LAT, external_id="12345-0001", category="0505")
    assert again.outcome is Outcome.DUPLICATE
    assert again.ticket.id == first.ticket.id and again.case.id == first.case.id
    other_source = submit(platform, lon=LON, lat=LAT, external_id="12345-0001", source="hotline_12319")
    assert other_source.ticket.id != first.ticket.id
    assert count(platform, Ticket) == 2


def test_nearby_ticket_of_same_category_merges(platform, published) -> None:
    first = submit(platform, lon=LON, lat=LAT)
    near = submit(platform, lon=offset_m(LON, LAT, 20, 0)[0], lat=LAT)
    assert near.outcome is Outcome.MERGED and near.case.id == first.case.id
    other_category = submit(platform, lon=offset_m(LON, LAT, 20, 0)[0], lat=LAT, category="0505")
    far = submit(platform, lon=offset_m(LON, LAT, 0, 80)[0], lat=offset_m(LON, LAT, 0, 80)[1])
    assert other_category.outcome is Outcome.CREATED and far.outcome is Outcome.CREATED
    with platform.sessions() as session:
        case = session.get(Case, first.case.id)
        assert [t.id for t in case.tickets] == [first.ticket.id, near.ticket.id]
        merged = [e for e in case.events if e.kind == "merged"]
        assert len(merged) == 1 and merged[0].data["distance_m"] == pytest.approx(20, abs=0.5)
    assert [m["kind"] for m in published] == ["created", "merged", "created", "created"]
    assert published[1]["case"]["id"] == first.case.id


def test_merge_window_and_closed_cases(platform) -> None:
    first = submit(platform, lon=LON, lat=LAT)
    later = submit(platform, lon=LON, lat=LAT, received_at=(dt.datetime.now(dt.timezone.utc)
                                                             + dt.timedelta(hours=25)).isoformat())
    assert later.outcome is Outcome.CREATED and later.case.id != first.case.id
    with platform.sessions() as session:
        case = session.get(Case, first.case.id)
        transition(session=session, case=case, action=CaseAction.REJECT, actor="t", reason="重复",
                   now=dt.datetime.now(dt.timezone.utc), calendar=platform.ctx.calendar,
                   categories=platform.ctx.categories)
        session.commit()
    after_rejection = submit(platform, lon=LON, lat=LAT)  # the rejected case no longer absorbs reports
    assert after_rejection.outcome is Outcome.CREATED
    assert after_rejection.case.id not in (first.case.id, later.case.id)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"lon": None, "lat": None}, "no location given"),
        ({"lon": 116.40, "lat": 39.90}, "outside the city grid"),  # Beijing, far outside the demo city
    ],
)
def test_unlocated_tickets_wait_and_can_be_located_by_hand(platform, kwargs, reason) -> None:
    result = submit(platform, **kwargs)
    assert result.outcome is Outcome.UNLOCATED and result.case is None
    assert result.ticket.unlocated_reason == reason
    assert count(platform, Case) == 0
    with platform.sessions() as session:
        placed = locate_ticket(session=session, ctx=platform.ctx, ticket_id=result.ticket.id, actor="dispatcher",
                               location={"lon": LON, "lat": LAT, "crs": "wgs84"})
        session.commit()
        assert placed.outcome is Outcome.CREATED
        assert session.get(Ticket, result.ticket.id).case_id == placed.case.id


def test_split_undoes_a_merge(platform) -> None:
    first = submit(platform, lon=LON, lat=LAT)
    second = submit(platform, lon=LON, lat=offset_m(LON, LAT, 0, 10)[1])
    with platform.sessions() as session:
        case = session.get(Case, first.case.id)
        new_case = split_ticket(session=session, case=case, ticket_id=second.ticket.id, actor="dispatcher",
                                categories=platform.ctx.categories, now=dt.datetime.now(dt.timezone.utc))
        session.commit()
        assert session.get(Ticket, second.ticket.id).case_id == new_case.id
        session.refresh(case)
        assert [t.id for t in case.tickets] == [first.ticket.id]
        assert case.events[-1].kind == "split" and new_case.events[0].kind == "created"


def test_overdue_is_flagged_once_as_an_event(platform, published) -> None:
    result = submit(platform, lon=LON, lat=LAT, category="0501")
    registered_at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)  # Friday 17:00 in Xinyang
    with platform.sessions() as session:
        case = session.get(Case, result.case.id)
        transition(session=session, case=case, action=CaseAction.REGISTER, actor="t", now=registered_at,
                   calendar=platform.ctx.calendar, categories=platform.ctx.categories)
        session.commit()
        assert case.deadline_at == dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)  # Monday 10:00 local
        assert flag_overdue(session=session, now=case.deadline_at) == []
        late = flag_overdue(session=session, now=case.deadline_at + dt.timedelta(minutes=1))
        commit_and_publish(session, platform.bus)
        assert [c.id for c in late] == [case.id]
        assert flag_overdue(session=session, now=case.deadline_at + dt.timedelta(hours=5)) == []
        session.commit()
        session.refresh(case)
        assert case.overdue and case.events[-1].kind == "overdue"
    assert published[-1]["kind"] == "overdue" and published[-1]["case"]["overdue"] is True


def test_auto_register_and_dispatch(platform) -> None:
    platform.ctx.config = platform.ctx.config.model_copy(update={"auto_register": True, "auto_dispatch": True})
    result = submit(platform, lon=LON, lat=LAT)
    assert result.case.status == CaseStatus.DISPATCHED.value
    assert result.case.deadline_at is not None and result.case.dispatched_at is not None


@pytest.mark.parametrize("statement", ["UPDATE case_events SET note = 'edited'", "DELETE FROM case_events"])
def test_timeline_is_append_only_in_the_database(platform, statement) -> None:
    submit(platform, lon=LON, lat=LAT)
    with platform.sessions() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement))
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_periodic_check_pushes_overdue_events(platform, published) -> None:
    result = submit(platform, lon=LON, lat=LAT)
    long_ago = dt.datetime(2026, 1, 5, 1, tzinfo=dt.timezone.utc)
    with platform.sessions() as session:
        case = session.get(Case, result.case.id)
        transition(session=session, case=case, action=CaseAction.REGISTER, actor="t", now=long_ago,
                   calendar=platform.ctx.calendar, categories=platform.ctx.categories)
        session.commit()
    assert check_overdue_once(platform) == 1
    assert check_overdue_once(platform) == 0
    assert [m["kind"] for m in published][-1] == "overdue"
