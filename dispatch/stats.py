"""Squad performance the way bureaus measure it (closure, on-time, rework, handling time)."""
import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.calendar import WorkCalendar
from dispatch.case.enums import OPEN_STATUSES, CaseStatus
from dispatch.case.models import Case
from dispatch.hotline.enums import Satisfaction
from dispatch.hotline.feedback import latest_ratings
from dispatch.squad.models import Squad

HANDLED_OR_LATER = {CaseStatus.HANDLED.value, CaseStatus.VERIFIED.value, CaseStatus.CLOSED.value}
OPEN_VALUES = {status.value for status in OPEN_STATUSES}


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def squad_stats(
    *, session: Session, calendar: WorkCalendar, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per squad, over cases registered in [since, until): counts and rates; a rate is None with no cases."""
    query = select(Case).where(Case.registered_at.is_not(None))
    if since:
        query = query.where(Case.registered_at >= since)
    if until:
        query = query.where(Case.registered_at < until)
    by_squad: dict[str, list[Case]] = defaultdict(list)
    for case in session.scalars(query):
        by_squad[case.squad_code].append(case)
    ratings = latest_ratings(session=session, case_ids=[c.id for cases in by_squad.values() for c in cases])
    rows = []
    for squad in session.scalars(select(Squad).order_by(Squad.code)):
        cases = by_squad.get(squad.code, [])
        handled = [c for c in cases if c.status in HANDLED_OR_LATER]
        closed = [c for c in cases if c.status == CaseStatus.CLOSED.value]
        on_time = [c for c in handled if c.handled_at <= c.deadline_at]
        reworked = [c for c in handled if c.rework_count > 0]
        hours = [calendar.working_hours_between(c.registered_at, c.handled_at) for c in handled]
        rated = [ratings[c.id] for c in cases if c.id in ratings]
        rating_counts = {rating: rated.count(rating.value) for rating in Satisfaction}
        rows.append({
            "squad_code": squad.code, "squad_name": squad.name,
            "cases": len(cases), "handled": len(handled), "closed": len(closed),
            "overdue_open": sum(1 for c in cases if c.overdue and c.status not in HANDLED_OR_LATER),
            "closure_rate": ratio(len(closed), len(cases)),
            "on_time_rate": ratio(len(on_time), len(handled)),
            "rework_rate": ratio(len(reworked), len(handled)),
            "avg_handling_work_h": round(sum(hours) / len(hours), 2) if hours else None,
            "rated": len(rated), **{rating.value: count for rating, count in rating_counts.items()},
            "satisfaction_rate": ratio(
                rating_counts[Satisfaction.SATISFIED] + rating_counts[Satisfaction.BASICALLY_SATISFIED], len(rated)),
        })
    return rows


def case_counts(
    *, session: Session, calendar: WorkCalendar, since: dt.datetime | None = None, until: dt.datetime | None = None,
    squad_code: str | None = None,
) -> dict[str, Any]:
    """Cases registered in [since, until), the ones squad_stats ranks, by category, by local day of registration and
    by cell (open ones per cell)."""
    query = select(Case.category, Case.registered_at, Case.cell_code, Case.status).where(Case.registered_at.is_not(None))
    if since:
        query = query.where(Case.registered_at >= since)
    if until:
        query = query.where(Case.registered_at < until)
    if squad_code:
        query = query.where(Case.squad_code == squad_code)
    by_category: dict[str, int] = defaultdict(int)
    by_day: dict[str, int] = defaultdict(int)
    by_cell: dict[str, dict[str, int]] = defaultdict(lambda: {"cases": 0, "open": 0})
    for category, registered_at, cell_code, status in session.execute(query):
        by_category[category] += 1
        by_day[registered_at.astimezone(calendar.zone).date().isoformat()] += 1
        by_cell[cell_code]["cases"] += 1
        if status in OPEN_VALUES:
            by_cell[cell_code]["open"] += 1
    return {"by_category": dict(by_category), "by_day": dict(sorted(by_day.items())), "by_cell": dict(by_cell)}
