"""Squad statistics: closure, on-time and rework rates."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from dispatch.account.policy import visible_squad
from dispatch.review import review_stats
from dispatch.stats import case_counts, squad_stats
from webapp.auth import principal, requires
from webapp.platform import current_platform, db_session

blp = Blueprint("stats", __name__, description="Squad performance")


class StatsQuery(Schema):
    since = fields.AwareDateTime(metadata={"description": "cases registered at or after"})
    until = fields.AwareDateTime(metadata={"description": "cases registered before"})


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
    return squad_stats(session=db_session(), calendar=current_platform().ctx.calendar,
                       since=query.get("since"), until=query.get("until"))


class CountsOut(Schema):
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_day = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "local dates"})
    by_cell = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={"description": "cases and open per cell"})


@blp.route("/cases", methods=["GET"])
@requires()
@blp.arguments(StatsQuery, location="query")
@blp.response(200, CountsOut)
def counts(query: dict):
    """Cases by category, by day and by cell; squad members count their own squad's cases."""
    return case_counts(session=db_session(), calendar=current_platform().ctx.calendar, since=query.get("since"),
                       until=query.get("until"), squad_code=visible_squad(principal()))


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
    return review_stats(session=db_session(), since=query.get("since"), until=query.get("until"),
                        squad_code=visible_squad(principal()))
