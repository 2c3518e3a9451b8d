"""Open311 GeoReport v2 over our tickets: services are categories, a request is a ticket, stages are open/closed."""
import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from config.hotline import FieldMapping, Open311Config, ProfileConfig
from dispatch.case.enums import CaseStatus
from dispatch.case.models import Case, CaseEvent
from dispatch.categories import CategoryTable
from dispatch.privacy import mask_text
from dispatch.squad.models import Squad
from dispatch.ticket.models import Ticket

CLOSED_VALUES = (CaseStatus.CLOSED.value, CaseStatus.REJECTED.value)
STAGE_NOTES = {
    CaseStatus.REPORTED.value: "已上报 reported, awaiting registration",
    CaseStatus.REGISTERED.value: "已立案 registered",
    CaseStatus.DISPATCHED.value: "已派遣 dispatched to the squad",
    CaseStatus.ACCEPTED.value: "已签收 accepted by the squad",
    CaseStatus.HANDLED.value: "已处置 handled, awaiting verification",
    CaseStatus.VERIFIED.value: "已核查 verified",
    CaseStatus.CLOSED.value: "已结案 closed",
    CaseStatus.REJECTED.value: "不予立案 not registered",
}
# Open311 form fields as a work order: the request goes through the same intake as a hotline's.
FORM_FIELDS = FieldMapping(external_id="token", reporter_name="name", reporter_phone="phone", text=["description"],
                           address=["address_string"], category="service_code", lon="long", lat="lat")


def form_profile(config: Open311Config, categories: CategoryTable) -> ProfileConfig:
    return ProfileConfig(source=config.source, fields=FORM_FIELDS, crs="wgs84",
                         categories={category.code: category.code for category in categories})


def service_list(categories: CategoryTable) -> list[dict[str, Any]]:
    return [
        {"service_code": c.code, "service_name": c.name_zh, "description": f"{c.name_en}: {c.description}",
         "metadata": False, "type": "realtime", "keywords": c.name_en, "group": "城市管理"}
        for c in categories
    ]


def w3c(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z") if value else None


def status_notes(ticket: Ticket, case: Case | None) -> str:
    if case is None:
        return f"受理中 received; {ticket.unlocated_reason or 'waiting to be located'}"
    note = STAGE_NOTES[case.status]
    if case.status == CaseStatus.CLOSED.value and case.handling_result:
        note += f": {case.handling_result}"
    if case.status == CaseStatus.REJECTED.value and case.reject_reason:
        note += f": {case.reject_reason}"
    return note


def request_view(ticket: Ticket, *, categories: CategoryTable, squads: dict[str, str],
                 updated: dt.datetime | None) -> dict[str, Any]:
    case = ticket.case
    category = categories.get(ticket.category)
    return {
        "service_request_id": str(ticket.id), "token": ticket.external_id,
        "status": "closed" if case is not None and case.status in CLOSED_VALUES else "open",
        "status_notes": status_notes(ticket, case),
        "service_name": category.name_zh if category else ticket.category, "service_code": ticket.category,
        "description": ticket.text,
        "agency_responsible": squads.get(case.squad_code) if case is not None else None,
        "requested_datetime": w3c(ticket.received_at),
        "updated_datetime": w3c(updated or ticket.created_at),
        "expected_datetime": w3c(case.deadline_at) if case is not None else None,
        "address": ticket.address, "lat": ticket.lat, "long": ticket.lon,
        "media_url": (ticket.raw or {}).get("media_url"),
    }


def public_view(view: dict[str, Any], *, decimals: int) -> dict[str, Any]:
    """A request as anyone may read it: personal data in the text masked, no address or photo, location rounded."""
    rounded = {key: round(view[key], decimals) if view[key] is not None else None for key in ("lat", "long")}
    return {**view, **rounded, "description": mask_text(view["description"]),
            "status_notes": mask_text(view["status_notes"]), "address": None, "media_url": None}


def request_views(*, session: Session, tickets: list[Ticket], categories: CategoryTable) -> list[dict[str, Any]]:
    """Tickets as Open311 requests; a request's update time is its case's newest timeline row."""
    case_ids = {t.case_id for t in tickets if t.case_id is not None}
    updated = dict(session.execute(
        select(CaseEvent.case_id, func.max(CaseEvent.at)).where(CaseEvent.case_id.in_(case_ids))
        .group_by(CaseEvent.case_id)).all()) if case_ids else {}
    squads = dict(session.execute(select(Squad.code, Squad.name)).all())
    return [request_view(t, categories=categories, squads=squads, updated=updated.get(t.case_id)) for t in tickets]


def visible_to(filed_by: str | None) -> ColumnElement[bool]:
    """The tickets a reader may see: an api_key client its own; anyone else (public listing) those filed
    over Open311 or marked public by the city."""
    if filed_by is not None:
        return Ticket.filed_by == filed_by
    return Ticket.filed_by.is_not(None) | Ticket.public.is_(True)


def query_requests(
    *, session: Session, ids: list[int] | None, service_codes: list[str], start: dt.datetime, end: dt.datetime,
    statuses: set[str], limit: int, filed_by: str | None,
) -> list[Ticket]:
    """Tickets the reader may see (`visible_to`), by id (which overrides every other filter), or by code,
    received time and open/closed."""
    query = (select(Ticket).outerjoin(Case, Ticket.case_id == Case.id).options(selectinload(Ticket.case))
             .where(visible_to(filed_by)))
    if ids is not None:
        query = query.where(Ticket.id.in_(ids))
    else:
        query = query.where(Ticket.received_at >= start, Ticket.received_at <= end)
        if service_codes:
            query = query.where(Ticket.category.in_(service_codes))
        closed = Case.status.in_(CLOSED_VALUES)
        if statuses == {"open"}:
            query = query.where(Case.id.is_(None) | ~closed)
        elif statuses == {"closed"}:
            query = query.where(closed)
    return list(session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit)))
