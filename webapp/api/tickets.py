"""Tickets: submit a report, the "locate manually" queue, locate by hand."""
from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields
from sqlalchemy import select

from dispatch.case.events import commit_and_publish
from dispatch.case.schemas import CaseOut
from dispatch.case.service import case_view
from dispatch.account.enums import Role
from dispatch.account.policy import can_submit, can_view_squad, reveals_contact, reveals_plate
from dispatch.case.models import Case
from dispatch.categories import CategoryTable
from dispatch.errors import NotFound
from dispatch.intake import IntakeResult, Outcome, locate_ticket, submit_ticket
from dispatch.plates.views import masked_plate
from dispatch.ticket.models import Ticket
from dispatch.ticket.schemas import LocateIn, PublicIn, TicketIn, TicketOut, TicketQuery, ticket_view
from webapp.auth import principal, requires
from webapp.platform import current_platform, db_session

blp = Blueprint("tickets", __name__, description="Reports from hotlines, cameras, drones and patrols")


class IntakeOut(Schema):
    outcome = fields.String(metadata={"description": "created, merged, duplicate or unlocated"})
    ticket = fields.Nested(TicketOut)
    case = fields.Nested(CaseOut, allow_none=True)


def reveal_contact() -> bool:
    return reveals_contact(principal())


def intake_view(result: IntakeResult) -> dict:
    platform = current_platform()
    return {
        "outcome": result.outcome.value,
        "ticket": ticket_view(result.ticket, reveal_contact=reveal_contact()),
        "case": case_for(result.case, platform.ctx.categories) if result.case is not None else None,
    }


def case_for(case: Case, categories: CategoryTable) -> dict:
    """The case as the caller may see it: its plate masked unless the caller may see the case itself."""
    view = case_view(case, categories)
    return view if reveals_plate(principal(), case.squad_code) else masked_plate(view)


@blp.route("", methods=["POST"])
@requires(tokens=True)
@blp.arguments(TicketIn)
@blp.response(201, IntakeOut)
@blp.alt_response(200, schema=IntakeOut, description="the same (source, external_id) again: the ticket already taken in")
def submit(ticket_in: dict):
    """Take in one report; it joins a nearby open case, opens one, or waits to be located."""
    if not can_submit(principal(), ticket_in["source"]):
        abort(403, message=f"{principal().name} may not submit tickets as {ticket_in['source'].value}")
    platform, session = current_platform(), db_session()
    result = submit_ticket(session=session, ctx=platform.ctx, ticket_in=ticket_in,
                           raw=request.get_json(), actor=principal().name)
    commit_and_publish(session, platform.bus)
    return intake_view(result), 200 if result.outcome is Outcome.DUPLICATE else 201


@blp.route("", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(TicketQuery, location="query")
@blp.response(200, TicketOut(many=True))
def list_tickets(query: dict):
    """Tickets, newest first; `status=unlocated` is the "locate manually" queue."""
    statement = select(Ticket).order_by(Ticket.id.desc()).limit(query["limit"])
    if query.get("status"):
        statement = statement.where(Ticket.status == query["status"].value)
    return [ticket_view(t, reveal_contact=reveal_contact()) for t in db_session().scalars(statement)]


@blp.route("/<int:ticket_id>", methods=["GET"])
@requires()
@blp.response(200, TicketOut)
def get_ticket(ticket_id: int):
    ticket = db_session().get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    if not principal().is_centre and not (ticket.case and can_view_squad(principal(), ticket.case.squad_code)):
        abort(403, message="this ticket belongs to another squad's case")
    return ticket_view(ticket, reveal_contact=reveal_contact())


@blp.route("/<int:ticket_id>/locate", methods=["POST"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(LocateIn)
@blp.response(200, IntakeOut)
def locate(body: dict, ticket_id: int):
    """Place an unlocated ticket by hand; it then goes through intake like any located report."""
    platform, session = current_platform(), db_session()
    result = locate_ticket(session=session, ctx=platform.ctx, ticket_id=ticket_id,
                           location=body["location"], actor=principal().name)
    commit_and_publish(session, platform.bus)
    return intake_view(result)


@blp.route("/<int:ticket_id>/public", methods=["POST"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(PublicIn)
@blp.response(200, TicketOut)
def mark_public(body: dict, ticket_id: int):
    """Let Open311's public listing show this ticket (scrubbed, location rounded), or stop it."""
    session = db_session()
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    ticket.public = body["public"]
    session.commit()
    return ticket_view(ticket, reveal_contact=reveal_contact())
