"""Timeline rows and the outbox of messages to publish once they are committed."""
import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from dispatch.audit.chain import seal
from dispatch.bus import Bus
from dispatch.case.enums import CaseStatus, EventKind
from dispatch.case.models import Case, CaseEvent
from dispatch.ticket.enums import TicketSource

log = logging.getLogger(__name__)

OUTBOX_KEY = "gridpatrol_outbox"
MOVED_AWAY = "moved_away"  # a message kind, not a timeline row: the case now belongs to another squad
SENSOR_SOURCES = frozenset({TicketSource.CAMERA.value, TicketSource.DRONE.value})


def record_event(
    *,
    session: Session,
    case: Case,
    kind: EventKind,
    actor: str,
    at: dt.datetime,
    from_status: CaseStatus | None = None,
    to_status: CaseStatus | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append a timeline row, chained to the case's previous one, and queue its message for after commit."""
    if case.id is None:
        session.flush()  # the chain hashes the case's id
    event = CaseEvent(
        case_id=case.id, kind=kind.value, actor=actor, at=at,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        note=note, data=data or {},
    )
    seal(session=session, event=event)  # before the row joins the session: sealing reads the chain
    event.case = case
    session.add(event)
    session.info.setdefault(OUTBOX_KEY, []).append(event)
    return event


def case_summary(case: Case) -> dict[str, Any]:
    """What a dashboard needs to place and colour a case."""
    return {
        "id": case.id, "category": case.category, "status": case.status, "priority": case.priority,
        "lon": case.lon, "lat": case.lat, "cell_code": case.cell_code, "squad_code": case.squad_code,
        "overdue": case.overdue, "address": case.address, "assigned_to": case.assigned_to, "ticket_count": len(case.tickets),
        "sources": list(dict.fromkeys(ticket.source for ticket in case.tickets)),
        "reported_at": case.reported_at.isoformat(),
        "deadline_at": case.deadline_at.isoformat() if case.deadline_at else None,
        # Camera and drone event ids, so their workers can look again when the case is handled.
        "sensor_events": [t.external_id for t in case.tickets if t.source in SENSOR_SOURCES],
    }


def event_message(event: CaseEvent) -> dict[str, Any]:
    return {
        "id": event.id, "kind": event.kind, "actor": event.actor, "at": event.at.isoformat(),
        "from_status": event.from_status, "to_status": event.to_status, "note": event.note,
        "data": event.data, "case": case_summary(event.case),
    }


def moved_away_message(message: dict[str, Any]) -> dict[str, Any]:
    """What the squad a case was dispatched away from may know: that it left, nothing of where or why."""
    return {"id": message["id"], "kind": MOVED_AWAY, "at": message["at"], "case": {"id": message["case"]["id"]}}


def commit_and_publish(session: Session, bus: Bus) -> list[dict[str, Any]]:
    """Commit, then publish the timeline rows that commit made durable (never before).

    A bus that fails (Redis away) does not undo or fail the committed change: the rows are the
    record, and dashboards fetch what they missed with a catch-up from their last seen event id.
    """
    session.flush()
    messages = [event_message(event) for event in session.info.pop(OUTBOX_KEY, [])]
    session.commit()
    for message in messages:
        try:
            bus.publish(message)
        except Exception:  # the bus is best effort after the commit; the timeline is the source of truth
            log.exception("could not publish case event %s; clients will catch up", message["id"])
    return messages
