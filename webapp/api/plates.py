"""Plates: a dispatcher's correction of a case's plate, cases by plate (allowed roles), repeat-plate statistics."""
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from dispatch.account.enums import Role
from dispatch.account.policy import can_search_plates, visible_squad
from dispatch.case.events import commit_and_publish
from dispatch.case.schemas import CaseDetailOut, CaseOut
from dispatch.case.service import case_view
from dispatch.db import utcnow
from dispatch.privacy import mask_plate
from dispatch.plates.service import MANUAL_SOURCE, cases_by_plate, normalise_plate, plate_stats, set_plate
from webapp.api.cases import detail, visible_case
from webapp.auth import principal, requires
from webapp.platform import current_platform, db_session

blp = Blueprint("plates", __name__, description="Licence plates on cases: correction, look-up, repeat offenders")


class PlateCorrectionIn(Schema):
    plate = fields.String(required=True, validate=validate.Length(1, 16),
                          metadata={"description": "the plate as read by a person, e.g. 豫S·12345"})
    note = fields.String(validate=validate.Length(max=300), metadata={"description": "why it was corrected"})


class PlateCasesOut(Schema):
    plate = fields.String()
    cases = fields.List(fields.Nested(CaseOut))


class PlateStatsQuery(Schema):
    since = fields.AwareDateTime(metadata={"description": "reported at or after"})
    until = fields.AwareDateTime(metadata={"description": "reported before"})


class PlateStatsOut(Schema):
    plates = fields.Integer(metadata={"description": "distinct plates on cases"})
    cases_with_plate = fields.Integer()
    repeat_plates = fields.List(fields.Dict(), metadata={"description": "plates on more than one case (masked)"})
    handling_results = fields.Dict(metadata={"description": "handling result -> cases, among cases with a plate"})
    suggestions = fields.Dict(metadata={"description": "first-offence suggestion -> cases"})
    warned = fields.Integer(metadata={"description": "cases handled with a warning (首违不罚)"})
    penalties = fields.Integer(metadata={"description": "cases handled with a penalty or an off-site notice"})


@blp.route("/cases/<int:case_id>/plate", methods=["PUT"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(PlateCorrectionIn)
@blp.response(200, CaseDetailOut)
def correct_plate(body: dict, case_id: int):
    """A dispatcher sets or corrects the case's plate; the timeline records who changed it from what."""
    platform, session = current_platform(), db_session()
    case = visible_case(case_id, for_update=True)
    set_plate(session=session, case=case, rules=platform.ctx.plates, plate=normalise_plate(body["plate"]),
              source=MANUAL_SOURCE, actor=principal().name, now=utcnow(), colour=case.plate_colour,
              note=body.get("note"))
    commit_and_publish(session, platform.bus)
    return detail(case)


@blp.route("/plates/<string:plate>/cases", methods=["GET"])
@requires()
@blp.response(200, PlateCasesOut)
def plate_cases(plate: str):
    """Every case of a plate (repeat offenders), newest first: only the roles `plates.search_roles` names."""
    platform = current_platform()
    if not can_search_plates(principal(), platform.ctx.plates.search_roles):
        abort(403, message=f"role '{principal().role.value}' may not look cases up by plate")
    cases = cases_by_plate(db_session(), plate, visible_squad(principal()))
    return {"plate": normalise_plate(plate), "cases": [case_view(case, platform.ctx.categories) for case in cases]}


@blp.route("/plates/stats", methods=["GET"])
@requires()
@blp.arguments(PlateStatsQuery, location="query")
@blp.response(200, PlateStatsOut)
def stats(query: dict):
    """Repeat plates and warnings against penalties; a squad member sees their squad's; plates are masked."""
    result = plate_stats(db_session(), since=query.get("since"), until=query.get("until"),
                         squad_code=visible_squad(principal()))
    result["repeat_plates"] = [{**row, "plate": mask_plate(row["plate"])} for row in result["repeat_plates"]]
    return result
