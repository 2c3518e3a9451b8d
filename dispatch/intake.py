"""Intake: a report becomes a ticket, and a located ticket joins a case or opens one."""
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.case.enums import CaseAction
from dispatch.case.events import SENSOR_SOURCES
from dispatch.case.models import Case, Evidence
from dispatch.case.service import find_merge_target, merge_area_keys, merge_ticket, open_case
from dispatch.case.transitions import transition
from dispatch.context import DispatchContext
from dispatch.db import lock_keys, utcnow
from dispatch.errors import InputError, NotFound
from dispatch.plates.service import TEXT_SOURCE, plate_from_text
from dispatch.squad.models import Cell
from dispatch.ticket.enums import TicketStatus
from dispatch.ticket.models import Ticket
from grid.crs import CoordSys, to_wgs84


class Outcome(StrEnum):
    CREATED = "created"        # a new case
    MERGED = "merged"          # joined an open case nearby
    DUPLICATE = "duplicate"    # the same (source, external id) was already taken in
    UNLOCATED = "unlocated"    # waits in the "locate manually" queue


@dataclass
class IntakeResult:
    outcome: Outcome
    ticket: Ticket
    case: Case | None


def find_ticket(*, session: Session, source: str, external_id: str) -> Ticket | None:
    query = select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)
    return session.scalars(query).one_or_none()


def submit_ticket(
    *, session: Session, ctx: DispatchContext, ticket_in: dict[str, Any], raw: dict[str, Any], actor: str
) -> IntakeResult:
    """Take in one validated report (see TicketIn). Idempotent by (source, external id)."""
    source, external_id = ticket_in["source"].value, ticket_in["external_id"]
    existing = find_ticket(session=session, source=source, external_id=external_id)
    if existing is not None:
        return IntakeResult(Outcome.DUPLICATE, existing, existing.case)
    if ticket_in["category"] not in ctx.categories:
        known = ", ".join(c.code for c in ctx.categories)
        raise InputError("category", f"unknown category '{ticket_in['category']}'; known: {known}")
    now = utcnow()
    reporter = ticket_in.get("reporter") or {}
    ticket = Ticket(
        source=source, external_id=external_id, category=ticket_in["category"], text=ticket_in["text"],
        address=ticket_in.get("address"), reporter_name=reporter.get("name"), reporter_phone=reporter.get("phone"),
        received_at=ticket_in.get("received_at") or now, created_at=now, raw=raw,
        status=TicketStatus.UNLOCATED.value, unlocated_reason="no location given",
    )
    ticket.evidence = [Evidence(**item) for item in ticket_in["evidence"]]
    try:
        with session.begin_nested():  # a concurrent twin loses the race on the unique key, not the data
            session.add(ticket)
            session.flush()
    except IntegrityError:
        twin = find_ticket(session=session, source=source, external_id=external_id)
        return IntakeResult(Outcome.DUPLICATE, twin, twin.case)
    location = ticket_in.get("location")
    if location is None:
        return IntakeResult(Outcome.UNLOCATED, ticket, None)
    return place_ticket(session=session, ctx=ctx, ticket=ticket, location=location, actor=actor, now=now)


def locate_ticket(
    *, session: Session, ctx: DispatchContext, ticket_id: int, location: dict[str, Any], actor: str
) -> IntakeResult:
    """Give an unlocated ticket its place by hand (a click on the map), then run intake on it."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    if ticket.status != TicketStatus.UNLOCATED.value:
        raise InputError("ticket_id", f"ticket {ticket_id} is already located (case {ticket.case_id})")
    return place_ticket(session=session, ctx=ctx, ticket=ticket, location=location, actor=actor, now=utcnow())


def place_ticket(
    *, session: Session, ctx: DispatchContext, ticket: Ticket, location: dict[str, Any], actor: str, now: dt.datetime
) -> IntakeResult:
    """Convert to WGS-84, find the cell, then merge into a nearby open case or open a new one."""
    crs = CoordSys.parse(location["crs"])
    lon, lat = to_wgs84(location["lon"], location["lat"], crs)
    ticket.input_lon, ticket.input_lat, ticket.input_crs = location["lon"], location["lat"], crs.value
    ticket.lon, ticket.lat = float(lon), float(lat)
    cell_code = ctx.grid.locate_one(ticket.lon, ticket.lat) if ctx.grid is not None else None
    if cell_code is None:
        ticket.status = TicketStatus.UNLOCATED.value
        ticket.unlocated_reason = "outside the city grid" if ctx.grid is not None else "no city grid built yet"
        return IntakeResult(Outcome.UNLOCATED, ticket, None)
    ticket.cell_code = cell_code
    target = None
    if ctx.config.merge_radius_m > 0:
        # Two reports of one incident at the same instant: the second waits here until the first's case is
        # committed, then finds it (each statement reads what is committed when it starts).
        lock_keys(session=session, keys=merge_area_keys(category=ticket.category, lon=ticket.lon, lat=ticket.lat,
                                                         radius_m=ctx.config.merge_radius_m))
        target = find_merge_target(
            session=session, category=ticket.category, lon=ticket.lon, lat=ticket.lat, at=ticket.received_at,
            radius_m=ctx.config.merge_radius_m, window_h=ctx.config.merge_window_h,
        )
    if target is not None:
        merge_ticket(session=session, ticket=ticket, case=target, actor=actor, now=now)
        _plate_from_text(session, ctx, ticket, target, actor, now)
        return IntakeResult(Outcome.MERGED, ticket, target)
    squad_code = session.get(Cell, cell_code).squad_code
    # A camera's or drone's case waits for a person's review: registering it is that confirmation.
    awaiting_review = ctx.config.review_detections and ticket.source in SENSOR_SOURCES
    case = open_case(session=session, ticket=ticket, category=ctx.categories.by_code[ticket.category],
                     squad_code=squad_code, actor=actor, now=now, awaiting_review=awaiting_review)
    session.flush()
    _plate_from_text(session, ctx, ticket, case, actor, now)
    if (ctx.config.auto_register and not awaiting_review
            and ctx.signoffs.needed(case.category, CaseAction.REGISTER) is None):
        transition(session=session, case=case, action=CaseAction.REGISTER, actor="system", now=now,
                   calendar=ctx.calendar, categories=ctx.categories, note="auto-registered")
        if ctx.config.auto_dispatch and ctx.signoffs.needed(case.category, CaseAction.DISPATCH) is None:
            transition(session=session, case=case, action=CaseAction.DISPATCH, actor="system", now=now,
                       calendar=ctx.calendar, categories=ctx.categories, note="auto-dispatched")
    return IntakeResult(Outcome.CREATED, ticket, case)


def _plate_from_text(session: Session, ctx: DispatchContext, ticket: Ticket, case: Case, actor: str,
                     now: dt.datetime) -> None:
    """A person's report that writes a plate in its text gives the case that plate (cameras send theirs read)."""
    if ticket.source not in SENSOR_SOURCES:
        plate_from_text(session=session, case=case, rules=ctx.plates, text=ticket.text, source=TEXT_SOURCE,
                        actor=actor, now=now)
