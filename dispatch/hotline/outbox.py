"""Queueing closure replies: called by the case loop in the very transaction that closes the case."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.case.models import Case
from dispatch.hotline.enums import ReplyStatus
from dispatch.hotline.models import HotlineReply
from dispatch.squad.models import Squad
from dispatch.ticket.enums import TicketSource
from dispatch.ticket.models import Ticket

HOTLINE_SOURCES = (TicketSource.HOTLINE_12345.value, TicketSource.HOTLINE_12319.value)


def queue_closure_replies(*, session: Session, case: Case) -> list[HotlineReply]:
    """One pending reply per hotline work order of the just-closed `case`, keyed by work order and closing time.

    The key is unique in the table, so one closure can never queue (or send) a reply twice; a case
    reopened and closed again gets a new closing time and so a new reply.
    """
    tickets = session.scalars(
        select(Ticket).where(Ticket.case_id == case.id, Ticket.source.in_(HOTLINE_SOURCES)).order_by(Ticket.id))
    squad = session.get(Squad, case.squad_code)
    replies = [
        HotlineReply(
            idempotency_key=f"{ticket.source}:{ticket.external_id}:closed:{case.closed_at.isoformat()}",
            case_id=case.id, ticket_id=ticket.id, status=ReplyStatus.PENDING.value, attempts=0,
            payload={"external_id": ticket.external_id, "result": case.handling_result,
                     "closed_at": case.closed_at.isoformat(), "squad": squad.name if squad else case.squad_code,
                     "case_id": case.id},
            next_attempt_at=case.closed_at, created_at=case.closed_at,
        )
        for ticket in tickets
    ]
    session.add_all(replies)
    return replies
