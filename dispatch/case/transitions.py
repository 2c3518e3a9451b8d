"""The case loop as one explicit table: (state, action) → next state. Nothing else moves a case."""
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.account.enums import SQUAD_ROLES
from dispatch.account.models import User
from dispatch.calendar import WorkCalendar
from dispatch.case.enums import CaseAction, CaseStatus, EventKind, HandlingResult, ReviewReason, ReviewStatus
from dispatch.case.events import record_event
from dispatch.case.models import Case, Evidence
from dispatch.case.signoff import SignoffRules, require_signoff
from dispatch.categories import CategoryTable
from dispatch.errors import InputError, TransitionRefused
from dispatch.hotline.enums import Satisfaction
from dispatch.hotline.feedback import latest_rating
from dispatch.hotline.outbox import queue_closure_replies
from dispatch.plates.offsite import offsite_notice, offsite_refusal
from dispatch.squad.models import Squad
from config.plates import OffsiteConfig

S, A = CaseStatus, CaseAction

ALLOWED: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.REPORTED, A.REGISTER): S.REGISTERED,
    (S.REPORTED, A.REJECT): S.REJECTED,
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, A.HANDLE): S.HANDLED,
    (S.HANDLED, A.VERIFY): S.VERIFIED,
    (S.HANDLED, A.RETURN): S.DISPATCHED,  # rework (返工): the only way back
    (S.VERIFIED, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.DISPATCHED,  # rework after the caller rated the closed case dissatisfied
}

# Where each action leads when it is allowed: used to name the refused move.
ACTION_TARGET: dict[CaseAction, CaseStatus] = {action: to for (_, action), to in ALLOWED.items()}

EVENT_OF_ACTION: dict[CaseAction, EventKind] = {
    A.REGISTER: EventKind.REGISTERED,
    A.REJECT: EventKind.REJECTED,
    A.DISPATCH: EventKind.DISPATCHED,
    A.ACCEPT: EventKind.ACCEPTED,
    A.HANDLE: EventKind.HANDLED,
    A.VERIFY: EventKind.VERIFIED,
    A.RETURN: EventKind.RETURNED,
    A.CLOSE: EventKind.CLOSED,
    A.REOPEN: EventKind.REOPENED,
}


def next_status(status: CaseStatus, action: CaseAction) -> CaseStatus:
    """The state `action` leads to from `status`, or TransitionRefused naming both states."""
    try:
        return ALLOWED[(status, action)]
    except KeyError:
        raise TransitionRefused(action.value, status.value, ACTION_TARGET[action].value) from None


def has_site_photo(session: Session, case: Case) -> bool:
    """A photo uploaded to the case since its (last) dispatch: rework needs a new one."""
    since = case.dispatched_at or case.reported_at
    query = select(Evidence.id).where(Evidence.case_id == case.id, Evidence.uploaded_at >= since).limit(1)
    return session.scalar(query) is not None


def assignee(session: Session, officer: str | None, squad_code: str) -> str | None:
    """The named officer a case is dispatched to: an active member of the squad it goes to."""
    if officer is None:
        return None
    user = session.scalars(select(User).where(User.username == officer, User.active.is_(True))).first()
    if user is None or user.squad_code != squad_code or user.role not in {role.value for role in SQUAD_ROLES}:
        raise InputError("officer", f"'{officer}' is not an officer of squad {squad_code}", key="unknown_officer")
    return officer


def review_verdict(case: Case, action: CaseAction, reason: str | None) -> str:
    """A camera or drone case awaiting review: registering confirms it, rejecting needs a review reason."""
    if action is A.REJECT and reason not in set(ReviewReason):
        raise InputError("reason", f"a camera or drone case is rejected as one of: {', '.join(ReviewReason)}")
    case.review_status = (ReviewStatus.CONFIRMED if action is A.REGISTER else ReviewStatus.REJECTED).value
    return case.review_status


def transition(
    *,
    session: Session,
    case: Case,
    action: CaseAction,
    actor: str,
    now: dt.datetime,
    calendar: WorkCalendar,
    categories: CategoryTable,
    note: str | None = None,
    reason: str | None = None,
    result: str | None = None,
    squad_code: str | None = None,
    signoffs: SignoffRules | None = None,
    basis: str | None = None,
    offsite: OffsiteConfig | None = None,
    officer: str | None = None,
) -> None:
    """Move `case` by `action`: check, stamp the stage's time and write the timeline row.

    With `signoffs` (every person's move), a step the city marks waits for its sign-off; the
    platform's own automatic moves (camera recheck, auto-registration) pass none. `offsite`: the city's
    off-site rules, which a handling by notice (offsite_notice) must meet.
    """
    from_status = CaseStatus(case.status)
    to_status = next_status(from_status, action)
    if signoffs is not None:
        require_signoff(rules=signoffs, case=case, action=action, result=result)
    data: dict[str, Any] = {}
    if action in (A.REJECT, A.RETURN, A.REOPEN):
        if not (reason and reason.strip()):
            raise InputError("reason", f"a reason is required to {action.value} a case", key="reason_required")
        data["reason"] = reason
    if action in (A.REGISTER, A.REJECT) and case.review_status == ReviewStatus.PENDING.value:
        data["review"] = review_verdict(case, action, reason)
    if action is A.REGISTER:
        case.registered_at = now
        limit_h = categories.by_code[case.category].time_limit_h
        case.deadline_at = calendar.add_hours(now, limit_h)
        data["deadline_at"] = case.deadline_at.isoformat()
    elif action is A.REJECT:
        case.rejected_at, case.reject_reason = now, reason
    elif action is A.DISPATCH:
        if squad_code is not None:
            if session.get(Squad, squad_code) is None:
                raise InputError("squad", f"unknown squad '{squad_code}'", key="unknown_squad")
            if squad_code != case.squad_code:
                data["from_squad"] = case.squad_code  # its map drops the case live (webapp/live.py)
            case.squad_code = squad_code
        case.dispatched_at = now
        data["squad"] = case.squad_code
        case.assigned_to = assignee(session, officer, case.squad_code)
        if officer is not None:
            data["officer"] = officer
    elif action is A.ACCEPT:
        case.accepted_at = now
    elif action is A.HANDLE:
        if result not in set(HandlingResult):
            raise InputError("result", f"handling result must be one of {', '.join(HandlingResult)}",
                             key="result_required")
        if result in categories.by_code[case.category].handling_photo_required and not has_site_photo(session, case):
            raise InputError("photo", f"a photo taken on site is required to report '{result}' for this category",
                             key="site_photo_required")
        if result == HandlingResult.OFFSITE_NOTICE:
            refusal = offsite_refusal(session, case, offsite)
            if refusal is not None:
                raise InputError("result", refusal, key="offsite_refused")
            data["notice"] = offsite_notice(session, case, offsite)
        case.handled_at, case.handling_result = now, result
        data["result"] = result
        if basis:
            data["basis"] = basis
    elif action is A.VERIFY:
        case.verified_at = now
    elif action is A.REOPEN:
        rating = latest_rating(session=session, case=case)
        if rating is None or rating.rating != Satisfaction.DISSATISFIED.value:
            raise InputError("action", "only a closed case its caller rated dissatisfied can be reopened",
                             key="reopen_needs_dissatisfied")
        case.rework_count += 1
        case.handled_at, case.handling_result, case.verified_at, case.closed_at = None, None, None, None
        case.dispatched_at = now
    elif action is A.RETURN:
        case.rework_count += 1
        case.handled_at, case.handling_result = None, None
        case.dispatched_at = now
    elif action is A.CLOSE:
        case.closed_at = now
        queue_closure_replies(session=session, case=case)  # in this transaction: a closure is replied to once
    case.status = to_status.value
    record_event(session=session, case=case, kind=EVENT_OF_ACTION[action], actor=actor, at=now,
                 from_status=from_status, to_status=to_status, note=note, data=data)
