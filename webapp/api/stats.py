"""Squad statistics: closure, on-time and rework rates; cases by category, day and cell.

Both count the same cases: those registered (立案) in the period. A period bound is an instant with its offset, or a
plain date in the bureau's time zone: `since=2026-12-01` from that day's local midnight, `until=2026-12-31` through
the end of that day.
"""
import datetime as dt
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields

from dispatch.account.policy import visible_squad
from dispatch.review import review_stats
from dispatch.stats import case_counts, squad_stats
from webapp.auth import principal, requires
from webapp.platform import current_platform, db_session

blp = Blueprint("stats", __name__, description="Squad performance")


class DateOrInstant(fields.Field):
    """An ISO date (local, the bureau's zone) or an ISO instant with its offset."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs) -> dt.date | dt.datetime:
        text = str(value)
        try:
            return dt.date.fromisoformat(text) if len(text) == 10 else fields.AwareDateTime()._deserialize(
                text, attr, data, **kwargs)
        except ValueError:
            raise ValidationError("not a date (YYYY-MM-DD) or a date and time with its offset") from None


class StatsQuery(Schema):
    since = DateOrInstant(metadata={"description": "cases registered at or after: a date (local) or an instant"})
    until = DateOrInstant(metadata={"description": "cases registered before an instant, or through a local date"})


def period(query: dict) -> dict[str, dt.datetime | None]:
    """The query's since/until as instants: a plain date starts at local midnight; `until` takes the whole day."""
    zone = current_platform().ctx.calendar.zone
    bounds: dict[str, dt.datetime | None] = {}
    for name, days_after in (("since", 0), ("until", 1)):
        value = query.get(name)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value + dt.timedelta(days=days_after), dt.time(), zone)
        bounds[name] = value
    return bounds


class SquadStatsOut(Schema):
    squad_code = fields.String()
    squad_name = fields.String()
    cases = fields.Integer(metadata={"description": "registered cases"})
    handled = fields.Integer()
    closed = fields.Integer()
    overdue_open = fields.Integer()
    closure_rate = fields.Float(allow_none=True, metadata={"description": "closed / registered"})
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "handled by the deadline / handled"})
    rework_rate = fields.Float(allow_none=True, metadata={"description": "handled after a return / handled"})
    avg_handling_work_h = fields.Float(allow_none=True, metadata={"description": "working hours register→handled"})
    rated = fields.Integer(metadata={"description": "cases with a caller's satisfaction rating (回访)"})
    satisfied = fields.Integer()
    basically_satisfied = fields.Integer()
    dissatisfied = fields.Integer()
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "(satisfied + basically) / rated"})


@blp.route("/squads", methods=["GET"])
@requires()
@blp.arguments(StatsQuery, location="query")
@blp.response(200, SquadStatsOut(many=True))
def squads(query: dict):
    return squad_stats(session=db_session(), calendar=current_platform().ctx.calendar, **period(query))


class CountsOut(Schema):
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_day = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "local dates of registration"})
    by_cell = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={"description": "cases and open per cell"})


@blp.route("/cases", methods=["GET"])
@requires()
@blp.arguments(StatsQuery, location="query")
@blp.response(200, CountsOut)
def counts(query: dict):
    """Cases registered in the period by category, by local day of registration and by cell (the cases the ranking
    counts); squad members count their own squad's cases."""
    return case_counts(session=db_session(), calendar=current_platform().ctx.calendar, **period(query),
                       squad_code=visible_squad(principal()))


class ReviewStatsOut(Schema):
    source = fields.String(metadata={"description": "camera or drone"})
    rule = fields.String(allow_none=True, metadata={"description": "the vision rule, e.g. illegal_parking"})
    confirmed = fields.Integer()
    rejected = fields.Integer()
    pending = fields.Integer()
    false_detection = fields.Integer(metadata={"description": "rejected: no such object in the box"})
    not_a_violation = fields.Integer(metadata={"description": "rejected: a real object, but no violation"})
    duplicate = fields.Integer(metadata={"description": "rejected: another case holds it"})
    precision = fields.Float(allow_none=True, metadata={"description": "confirmed / (confirmed + rejected)"})


@blp.route("/review", methods=["GET"])
@requires()
@blp.arguments(StatsQuery, location="query")
@blp.response(200, ReviewStatsOut(many=True))
def review(query: dict):
    """Camera and drone cases by source and rule: the dispatchers' verdicts, the precision in production."""
    return review_stats(session=db_session(), **period(query), squad_code=visible_squad(principal()))
