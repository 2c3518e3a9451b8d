"""The timeline's hash chain: `audit verify` on a clean database, and on rows altered behind the platform's back."""
import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from dispatch.audit.chain import GENESIS, entry_hash, event_fields
from dispatch.audit.service import anchor_finished_days
from dispatch.case.enums import EventKind
from dispatch.case.events import record_event
from dispatch.case.models import Case, CaseEvent
from dispatch.db import utcnow
from tests.factories import DEMO_CENTRE_WGS84, make_settings, ticket_payload
from webapp.platform import build_platform

LON, LAT = DEMO_CENTRE_WGS84
ZONE = ZoneInfo("Asia/Shanghai")


def case_with_history(client, login) -> dict:
    """A case registered, dispatched and accepted, with a second ticket merged into it."""
    case = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json["case"]
    merged = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT))
    assert merged.json["outcome"] == "merged"
    for action in ("register", "dispatch"):
        assert client.post(f"/api/cases/{case['id']}/transitions", json={"action": action}).status_code == 200
    leader = login("squad_leader", case["squad_code"])
    assert leader.post(f"/api/cases/{case['id']}/transitions", json={"action": "accept"}).status_code == 200
    return case


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def behind_the_platforms_back(session, statement: str, **params) -> None:
    """Run an UPDATE on case_events with the append-only trigger lifted, then put it back."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
        session.execute(text(statement), params)
        session.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
        return
    session.execute(text("DROP TRIGGER case_events_no_update"))
    session.execute(text(statement), params)
    session.execute(text("CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
                         "BEGIN SELECT RAISE(ABORT, 'case_events is append-only (UPDATE)'); END"))


def test_clean_database_verifies_with_counts(app, client, login, platform) -> None:
    case = case_with_history(client, login)
    with platform.sessions() as session:
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.id)))
        total_cases = session.scalar(select(func.count(func.distinct(CaseEvent.case_id))))
        total_events = session.scalar(select(func.count()).select_from(CaseEvent))
    assert [e.kind for e in events] == ["created", "merged", "registered", "dispatched", "accepted"]
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"{total_cases} cases, {total_events} timeline entries" in result.output and "all match" in result.output


def test_altered_note_is_named(app, client, login, platform) -> None:
    case = case_with_history(client, login)
    with platform.sessions() as session:
        ids = list(session.scalars(select(CaseEvent.id).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.id)))
        target = ids[2]  # the registration
        behind_the_platforms_back(session, "UPDATE case_events SET note = 'nothing happened' WHERE id = :id", id=target)
        session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN case {case['id']}: timeline entry {target}: hash" in result.output
    assert len(re.findall("BROKEN", result.output)) == 1  # the first row that does not match, nothing after it


def test_rewritten_chain_is_caught_by_the_daily_anchor(app, client, login, platform) -> None:
    case = case_with_history(client, login)
    tomorrow = utcnow() + dt.timedelta(days=1)
    with platform.sessions() as session:
        anchors = anchor_finished_days(session=session, zone=ZONE, now=tomorrow)
        session.commit()
        assert anchors and anchors[-1].case_count >= 1
        assert verify(app).exit_code == 0
        # A forger who recomputes every hash of the case after the row they change: each chain matches again.
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.id)))
        prev = GENESIS
        for index, event in enumerate(events):
            fields = {**event_fields(event), "note": "rewritten" if index == 1 else event.note}
            digest = entry_hash(fields, prev)
            behind_the_platforms_back(session, "UPDATE case_events SET note = :note, prev_hash = :prev, hash = :hash "
                                      "WHERE id = :id", note=fields["note"], prev=prev, hash=digest, id=event.id)
            prev = digest
        session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert "BROKEN case" not in result.output
    assert f"BROKEN anchor {anchors[-1].day.isoformat()}" in result.output


def test_concurrent_appenders_do_not_fork_the_chain(empty_postgres_url, tmp_path) -> None:
    """Two transactions append to one case at once: the second waits for the first and chains after it."""
    platform = build_platform(make_settings(empty_postgres_url, tmp_path))
    try:
        from dispatch.intake import submit_ticket
        from dispatch.ticket.schemas import TicketIn

        with platform.sessions() as session:
            result = submit_ticket(session=session, ctx=platform.ctx, raw={}, actor="test",
                                   ticket_in=TicketIn().load(ticket_payload(lon=LON, lat=LAT)))
            session.commit()
            case_id = result.case.id
        first_sealed, release = threading.Event(), threading.Event()

        def append(note: str, hold: bool) -> None:
            with platform.sessions() as session:
                case = session.get(Case, case_id)
                record_event(session=session, case=case, kind=EventKind.OVERDUE, actor="test", at=utcnow(), note=note)
                session.flush()
                if hold:
                    first_sealed.set()
                    release.wait(10)
                session.commit()

        first = threading.Thread(target=append, args=("first", True))
        first.start()
        assert first_sealed.wait(10)
        second = threading.Thread(target=append, args=("second", False))
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waiting on the case's lock
        release.set()
        first.join(10), second.join(10)
        with platform.sessions() as session:
            events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
        assert [e.note for e in events[1:]] == ["first", "second"]
        assert events[2].prev_hash == events[1].hash and events[1].prev_hash == events[0].hash
    finally:
        platform.engine.dispose()
