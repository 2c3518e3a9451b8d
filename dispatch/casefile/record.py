"""The case's record as plain data: the summary, tickets, timeline, evidence, sign-offs, 回访 and the chain head."""
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.account.models import User
from dispatch.audit.chain import GENESIS
from dispatch.audit.service import check_row
from dispatch.case.enums import EventKind
from dispatch.case.events import SENSOR_SOURCES
from dispatch.case.models import Case, Evidence
from dispatch.categories import CategoryTable
from dispatch.hotline.models import CaseRating, HotlineReply
from dispatch.privacy import mask_plate, mask_plates_in_text
from dispatch.squad.models import Squad
from dispatch.ticket.schemas import ticket_view

SUMMARY_TIMES = ("reported_at", "registered_at", "deadline_at", "dispatched_at", "accepted_at", "handled_at",
                 "verified_at", "closed_at", "rejected_at")


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary(session: Session, case: Case, categories: CategoryTable) -> dict[str, Any]:
    category, squad = categories.get(case.category), session.get(Squad, case.squad_code)
    return {
        "id": case.id, "category": case.category, "category_name": category.name_zh if category else None,
        "status": case.status, "priority": case.priority, "cell_code": case.cell_code,
        "squad_code": case.squad_code, "squad_name": squad.name if squad else None,
        "address": case.address, "lon": case.lon, "lat": case.lat,
        **{name: iso(getattr(case, name)) for name in SUMMARY_TIMES},
        "handling_result": case.handling_result, "reject_reason": case.reject_reason,
        "rework_count": case.rework_count, "overdue": case.overdue,
        "plate": case.plate, "plate_colour": case.plate_colour, "leniency": case.leniency,
    }


PLATE_KEYS = ("plate", "previous")  # where a timeline row's data holds a plate


def masked_plates(record: dict[str, Any]) -> dict[str, Any]:
    """The record with every plate masked (豫S***45), as exports show them."""
    record["case"]["plate"] = mask_plate(record["case"]["plate"])
    for ticket in record["tickets"]:
        ticket["text"] = mask_plates_in_text(ticket["text"])
    for entry in record["timeline"]:
        entry["note"] = mask_plates_in_text(entry["note"])
        entry["data"] = {key: mask_plate(value) if key in PLATE_KEYS and isinstance(value, str) else value
                         for key, value in entry["data"].items()}
        if isinstance(entry["data"].get("notice"), dict):
            entry["data"]["notice"] = {**entry["data"]["notice"], "plate": mask_plate(entry["data"]["notice"]["plate"])}
    if record["offsite_notice"]:
        record["offsite_notice"] = {**record["offsite_notice"], "plate": mask_plate(record["offsite_notice"]["plate"])}
    return record


def latest_notice(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The off-site notice (非现场执法) of the case's latest handling, if it was handled by one."""
    handled = [entry for entry in entries if entry["kind"] == EventKind.HANDLED.value]
    return handled[-1]["data"].get("notice") if handled else None


def timeline(session: Session, case: Case) -> tuple[list[dict[str, Any]], bool]:
    """Every entry with its actor's role, and whether the case's chain matches its rows."""
    names = {event.actor for event in case.events}
    roles = dict(session.execute(select(User.username, User.role).where(User.username.in_(names))).all())
    entries, prev, intact = [], GENESIS, True
    for event in case.events:
        intact = intact and check_row(event, prev) is None
        prev = event.hash
        entries.append({
            "id": event.id, "kind": event.kind, "actor": event.actor, "role": roles.get(event.actor),
            "at": iso(event.at), "from_status": event.from_status, "to_status": event.to_status,
            "note": event.note, "data": event.data, "hash": event.hash,
        })
    return entries, intact


def evidence_items(session: Session, case: Case) -> list[dict[str, Any]]:
    """Photos of the case and of its tickets, with capture time and where they came from."""
    sources = {ticket.id: ticket.source for ticket in case.tickets}
    rows = session.scalars(select(Evidence).where(
        (Evidence.case_id == case.id) | Evidence.ticket_id.in_(list(sources))).order_by(Evidence.id))
    return [{"id": item.id, "ticket_id": item.ticket_id, "uri": item.uri, "caption": item.caption,
             "taken_at": iso(item.taken_at), "source": sources.get(item.ticket_id, "on_site")} for item in rows]


def sensor_facts(ticket_raw: dict[str, Any]) -> dict[str, Any]:
    """The camera's zone and dwell time kept in a sensor ticket's raw event record."""
    keys = ("source_id", "zone_id", "rule", "dwell_s", "confidence")
    return {key: ticket_raw[key] for key in keys if key in ticket_raw}


def case_record(
    *, session: Session, case: Case, categories: CategoryTable, reveal_contact: bool, now: dt.datetime
) -> dict[str, Any]:
    """Everything on record about the case, JSON-ready; callers' contacts masked unless `reveal_contact`, plates
    always (an export)."""
    entries, intact = timeline(session, case)
    tickets = []
    for ticket in case.tickets:
        view = ticket_view(ticket, reveal_contact=reveal_contact)
        view["received_at"] = iso(view["received_at"])
        if ticket.source in SENSOR_SOURCES:
            view["sensor"] = sensor_facts(ticket.raw or {})
        tickets.append(view)
    ratings = session.scalars(select(CaseRating).where(CaseRating.case_id == case.id).order_by(CaseRating.id))
    replies = session.scalars(select(HotlineReply).where(HotlineReply.case_id == case.id).order_by(HotlineReply.id))
    record = {
        "generated_at": iso(now),
        "case": summary(session, case, categories),
        "tickets": tickets,
        "timeline": entries,
        "signoffs": [entry for entry in entries if entry["kind"] == EventKind.SIGNED_OFF.value],
        "evidence": evidence_items(session, case),
        "ratings": [{"rating": r.rating, "note": r.note, "actor": r.actor, "at": iso(r.at)} for r in ratings],
        "hotline_replies": [{"ticket_id": r.ticket_id, "status": r.status, "sent_at": iso(r.sent_at),
                             "payload": r.payload} for r in replies],
        "chain": {"head": entries[-1]["hash"] if entries else GENESIS, "entries": len(entries), "intact": intact},
        "offsite_notice": latest_notice(entries),
    }
    return masked_plates(record)  # an export: plates masked for every reader (the console shows them in full)
