"""Callers' satisfaction with closed cases (回访)."""
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.case.enums import CaseStatus
from dispatch.case.models import Case
from dispatch.errors import InputError
from dispatch.hotline.enums import Satisfaction
from dispatch.hotline.models import CaseRating


def latest_rating(*, session: Session, case: Case) -> CaseRating | None:
    """The newest rating given since the case last closed (a rating of an earlier closure no longer counts)."""
    if case.closed_at is None:
        return None
    query = (select(CaseRating).where(CaseRating.case_id == case.id, CaseRating.at >= case.closed_at)
             .order_by(CaseRating.at.desc(), CaseRating.id.desc()).limit(1))
    return session.scalars(query).one_or_none()


def rate_case(
    *, session: Session, case: Case, rating: Satisfaction, note: str | None, actor: str, now: dt.datetime
) -> CaseRating:
    if case.status != CaseStatus.CLOSED.value:
        raise InputError("rating", f"only a closed case can be rated; case {case.id} is {case.status}",
                         key="rating_needs_closed")
    row = CaseRating(case_id=case.id, rating=rating.value, note=note, actor=actor, at=now)
    session.add(row)
    session.flush()
    return row


def latest_ratings(*, session: Session, case_ids: list[int]) -> dict[int, str]:
    """Each case's newest rating (of any closure), for statistics."""
    ratings: dict[int, str] = {}
    for start in range(0, len(case_ids), 500):  # bounded IN lists: SQLite caps parameters
        query = (select(CaseRating.case_id, CaseRating.rating)
                 .where(CaseRating.case_id.in_(case_ids[start:start + 500]))
                 .order_by(CaseRating.at, CaseRating.id))
        ratings.update(dict(session.execute(query).all()))
    return ratings
