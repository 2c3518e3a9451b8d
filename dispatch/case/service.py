"""Reading, creating, merging and splitting cases; the overdue check."""
import datetime as dt
import hashlib
import math
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from dispatch.case.enums import OPEN_STATUSES, RUNNING_STATUSES, CaseStatus, EventKind, ReviewStatus
from dispatch.case.events import record_event
from dispatch.case.models import Case, CaseEvent, Evidence
from dispatch.categories import Category, CategoryTable
from dispatch.account.service import actor_names
from dispatch.errors import InputError, NotFound
from dispatch.hotline.feedback import latest_rating
from dispatch.privacy import mask_text, mask_values
from dispatch.ticket.enums import TicketStatus
from dispatch.ticket.models import Ticket
from dispatch.ticket.schemas import ticket_view
from grid.geodesy import EARTH_RADIUS_M, haversine_m

METRES_PER_DEGREE_LAT = math.radians(EARTH_RADIUS_M)  # the sphere haversine_m measures on
MERGE_AREA_STEP = 2.5  # merge-lock squares are this many radii on a side: a radius' box touches 2x2 to 2x3 of them
MERGE_AREA_MARGIN = 1.01  # the box a hair wider than the radius: rim points of the sphere fall inside it


def get_case(*, session: Session, case_id: int, for_update: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    case = session.scalars(query).one_or_none()
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def filtered_cases(filters: dict[str, Any]) -> Select:
    query = select(Case)
    if filters.get("status"):
        query = query.where(Case.status.in_([s.value for s in filters["status"]]))
    for key, column in (("squad", Case.squad_code), ("cell", Case.cell_code), ("category", Case.category)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("overdue") is not None:
        query = query.where(Case.overdue.is_(filters["overdue"]))
    if filters.get("review"):
        query = query.where(Case.review_status == filters["review"].value)
    if filters.get("since"):
        query = query.where(Case.reported_at >= filters["since"])
    if filters.get("until"):
        query = query.where(Case.reported_at < filters["until"])
    return query


def list_cases(*, session: Session, filters: dict[str, Any]) -> tuple[int, list[Case]]:
    """Cases matching `filters` (see CaseQuery), newest first, and how many match in all."""
    query = filtered_cases(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(Case.reported_at.desc(), Case.id.desc()).limit(filters.get("limit", 100))
    page = page.offset(filters.get("offset", 0)).options(selectinload(Case.tickets))
    return total, list(session.scalars(page))


def case_view(case: Case, categories: CategoryTable) -> dict[str, Any]:
    category = categories.get(case.category)
    view = {column: getattr(case, column) for column in Case.__table__.columns.keys()}
    view["category_name"] = category.name_zh if category else case.category
    view["ticket_count"] = len(case.tickets)
    view["sources"] = list(dict.fromkeys(ticket.source for ticket in case.tickets))
    return view


def masked_case_view(view: dict[str, Any]) -> dict[str, Any]:
    """A case view for those who may not see callers' contacts: personal data in its free text masked."""
    return {**view, "address": mask_text(view["address"]), "reject_reason": mask_text(view["reject_reason"])}


def event_view(event: CaseEvent, *, reveal_contact: bool) -> dict[str, Any]:
    view = {column: getattr(event, column) for column in CaseEvent.__table__.columns.keys()}
    if not reveal_contact:
        view["note"], view["data"] = mask_text(view["note"]), mask_values(view["data"])
    return view


def case_detail_view(*, session: Session, case: Case, categories: CategoryTable, reveal_contact: bool) -> dict:
    view = case_view(case, categories)
    if not reveal_contact:
        view = masked_case_view(view)
    names = actor_names(session=session, actors={event.actor for event in case.events})
    view["timeline"] = [event_view(event, reveal_contact=reveal_contact)
                        | {"actor_kind": names[event.actor][0], "actor_name": names[event.actor][1]}
                        for event in case.events]
    view["tickets"] = [ticket_view(ticket, reveal_contact=reveal_contact) for ticket in case.tickets]
    ticket_ids = [ticket.id for ticket in case.tickets]
    view["evidence"] = list(session.scalars(
        select(Evidence).where((Evidence.case_id == case.id) | Evidence.ticket_id.in_(ticket_ids)).order_by(Evidence.id)
    ))
    view["rating"] = latest_rating(session=session, case=case)
    return view


def merge_area_keys(*, category: str, lon: float, lat: float, radius_m: float) -> list[int]:
    """Lock keys of the squares that a radius around (lon, lat) touches, for one category, sorted.

    Squares of a fixed lattice in degrees: a report takes the keys of every square its radius touches, so it holds
    the key of the square of any point that could merge with it, and two reports that could merge share a key.
    """
    step = MERGE_AREA_STEP * radius_m / METRES_PER_DEGREE_LAT
    dlat = MERGE_AREA_MARGIN * radius_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    columns = range(math.floor((lon - dlon) / step), math.floor((lon + dlon) / step) + 1)
    rows = range(math.floor((lat - dlat) / step), math.floor((lat + dlat) / step) + 1)
    return sorted(area_key(f"merge:{category}:{radius_m:g}:{column}:{row}") for column in columns for row in rows)


def area_key(name: str) -> int:
    """A signed 64-bit lock key for `name` (a collision only makes two areas wait for each other)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def find_merge_target(
    *, session: Session, category: str, lon: float, lat: float, at: dt.datetime, radius_m: float, window_h: float
) -> Case | None:
    """The nearest open case of `category` within `radius_m` reported within `window_h` of `at`."""
    window = dt.timedelta(hours=window_h)
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    candidates = list(session.scalars(
        select(Case).where(
            Case.category == category,
            Case.status.in_([s.value for s in OPEN_STATUSES]),
            Case.reported_at >= at - window, Case.reported_at <= at + window,
            Case.lon.between(lon - dlon, lon + dlon), Case.lat.between(lat - dlat, lat + dlat),
        )
    ))
    if not candidates:
        return None
    distances = haversine_m(lon, lat, [c.lon for c in candidates], [c.lat for c in candidates])
    best = int(distances.argmin())
    return candidates[best] if distances[best] <= radius_m else None


def open_case(
    *, session: Session, ticket: Ticket, category: Category, squad_code: str, actor: str, now: dt.datetime,
    awaiting_review: bool = False,
) -> Case:
    """A new case in state `reported`, created from its first located ticket (marked for review if asked)."""
    case = Case(
        category=category.code, status=CaseStatus.REPORTED.value, priority=category.priority,
        lon=ticket.lon, lat=ticket.lat, address=ticket.address, cell_code=ticket.cell_code,
        squad_code=squad_code, reported_at=ticket.received_at, rework_count=0, overdue=False,
        review_status=ReviewStatus.PENDING.value if awaiting_review else None,
    )
    session.add(case)
    attach_ticket(ticket=ticket, case=case)
    data = {"ticket_id": ticket.id, "source": ticket.source}
    if awaiting_review:
        data["review"] = ReviewStatus.PENDING.value
    record_event(session=session, case=case, kind=EventKind.CREATED, actor=actor, at=now,
                 to_status=CaseStatus.REPORTED, data=data)
    return case


def attach_ticket(*, ticket: Ticket, case: Case) -> None:
    ticket.case = case
    ticket.status = TicketStatus.LINKED.value
    ticket.unlocated_reason = None
    for evidence in ticket.evidence:
        evidence.case = case


def merge_ticket(*, session: Session, ticket: Ticket, case: Case, actor: str, now: dt.datetime) -> None:
    attach_ticket(ticket=ticket, case=case)
    distance = float(haversine_m(ticket.lon, ticket.lat, case.lon, case.lat))
    record_event(session=session, case=case, kind=EventKind.MERGED, actor=actor, at=now,
                 note=f"{ticket.source}:{ticket.external_id}",
                 data={"ticket_id": ticket.id, "distance_m": round(distance, 1)})


def split_ticket(
    *, session: Session, case: Case, ticket_id: int, categories: CategoryTable, actor: str, now: dt.datetime
) -> Case:
    """Take a merged ticket out of `case` into a case of its own (the dispatcher's undo of a merge)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.case_id != case.id:
        raise InputError("ticket_id", f"ticket {ticket_id} is not part of case {case.id}")
    if len(case.tickets) < 2:
        raise InputError("ticket_id", "a case's only ticket cannot be split off")
    if case.tickets[0].id == ticket.id:
        raise InputError("ticket_id", "the case's first ticket stays; split off the merged ones")
    new_case = open_case(session=session, ticket=ticket, category=categories.by_code[ticket.category],
                         squad_code=case.squad_code, actor=actor, now=now)
    session.flush()
    record_event(session=session, case=case, kind=EventKind.SPLIT, actor=actor, at=now,
                 note=f"ticket {ticket.id} → case {new_case.id}", data={"ticket_id": ticket.id, "new_case_id": new_case.id})
    session.expire(case, ["tickets"])
    return new_case


def flag_overdue(*, session: Session, now: dt.datetime) -> list[Case]:
    """Flag running cases past their deadline, once each, as a timeline event."""
    late = list(session.scalars(
        select(Case).where(
            Case.status.in_([s.value for s in RUNNING_STATUSES]),
            Case.overdue.is_(False), Case.deadline_at < now,
        ).with_for_update(skip_locked=True)
    ))
    for case in late:
        case.overdue = True
        record_event(session=session, case=case, kind=EventKind.OVERDUE, actor="system", at=now,
                     data={"deadline_at": case.deadline_at.isoformat()})
    return late



def timeline_since(*, session: Session, after_id: int, squad_code: str | None, limit: int = 500) -> list[CaseEvent]:
    """Events after `after_id`, oldest first, of one squad's cases or of all (None): a dashboard's catch-up."""
    query = select(CaseEvent).join(Case).where(CaseEvent.id > after_id)
    if squad_code is not None:
        query = query.where(Case.squad_code == squad_code)
    query = query.order_by(CaseEvent.id).limit(limit).options(selectinload(CaseEvent.case))
    return list(session.scalars(query))


def moved_away_since(*, session: Session, after_id: int, squad_code: str, limit: int = 500) -> list[CaseEvent]:
    """Dispatches after `after_id` that took a case away from `squad_code`, oldest first."""
    query = (select(CaseEvent).where(CaseEvent.id > after_id, CaseEvent.kind == EventKind.DISPATCHED.value,
                                     CaseEvent.data["from_squad"].as_string() == squad_code)
             .order_by(CaseEvent.id).limit(limit).options(selectinload(CaseEvent.case)))
    return list(session.scalars(query))
