"""A hotline work order becomes a ticket: mapped by its profile, categorised, placed by address if need be."""
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from config.hotline import HotlineConfig, ProfileConfig
from dispatch.address.matching import AddressMatcher, Candidate
from dispatch.address.service import keep_candidates
from dispatch.classify.rules import classify_text
from dispatch.context import DispatchContext
from dispatch.errors import InputError
from dispatch.hotline.mapping import WorkOrder, read_work_order
from dispatch.intake import IntakeResult, Outcome, submit_ticket
from dispatch.ticket.schemas import TicketIn

TEXT_LIMIT, ADDRESS_LIMIT = 5000, 300  # TicketIn's bounds: a long work order is cut, not refused


@dataclass
class WorkOrderResult:
    intake: IntakeResult
    candidates: list[Candidate] = field(default_factory=list)


def resolve_category(order: WorkOrder, profile: ProfileConfig, config: HotlineConfig) -> str:
    """The profile's code for the hotline's category; failing that (absent, too coarse), the keyword rules."""
    mapped = profile.categories.get(order.category_value) if order.category_value else None
    code = mapped or classify_text(order.text, config.rules)
    if code is None:
        given = f"'{order.category_value}' is mapped to no category" if order.category_value else "none given"
        raise InputError("category", f"{given}, and the text matched no keyword rule")
    return code


def first_error(error: ValidationError) -> InputError:
    field_name, messages = next(iter(error.normalized_messages().items()))
    return InputError(field_name, str(messages))


def take_work_order(
    *, session: Session, ctx: DispatchContext, config: HotlineConfig, profile: ProfileConfig, row: dict[str, Any],
    matcher: AddressMatcher, actor: str,
) -> WorkOrderResult:
    """Intake of one work order; InputError names why it cannot become a ticket."""
    order = read_work_order(row, profile)
    category = resolve_category(order, profile, config)
    location, candidates = order.location, []
    if location is None and order.address:
        candidates = matcher.match(order.address, limit=config.address.candidates)
        if candidates and candidates[0].score >= config.address.min_score:
            location = {"lon": candidates[0].lon, "lat": candidates[0].lat, "crs": "wgs84"}
    payload = {
        "source": profile.source, "external_id": order.external_id, "category": category,
        "text": order.text[:TEXT_LIMIT], "location": location, "reporter": order.reporter,
    }
    if order.address:
        payload["address"] = order.address[:ADDRESS_LIMIT]
    if order.received_at:
        payload["received_at"] = order.received_at.isoformat()
    try:
        ticket_in = TicketIn().load(payload)
    except ValidationError as error:
        raise first_error(error) from None
    result = submit_ticket(session=session, ctx=ctx, ticket_in=ticket_in, raw=row, actor=actor)
    if result.outcome is Outcome.UNLOCATED and order.location is None:
        if candidates:
            keep_candidates(session=session, ticket_id=result.ticket.id, candidates=candidates)
            result.ticket.unlocated_reason = (
                f"address matched below {config.address.min_score:g} (best {candidates[0].score:g}); "
                "pick a candidate or place it by hand")
        elif order.address:
            result.ticket.unlocated_reason = ("no standard-address table loaded" if not len(matcher)
                                              else "the address matches no standard address")
    return WorkOrderResult(result, candidates if result.outcome is Outcome.UNLOCATED else [])
