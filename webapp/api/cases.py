"""Cases: list and filter, one case with its timeline, transitions, split."""
from zoneinfo import ZoneInfo

from flask import Response
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from dispatch.account.enums import Role
from dispatch.account.policy import can_act, can_view_squad, visible_squad
from dispatch.case.events import commit_and_publish
from dispatch.case.models import Case
from dispatch.case.enums import CaseAction, ReviewStatus
from dispatch.case.schemas import (CaseDetailOut, CaseList, CaseOut, CaseQuery, ReviewIn, SignoffIn, SplitIn,
                                   TransitionIn)
from dispatch.case.service import case_detail_view, case_view, get_case, list_cases, masked_case_view, split_ticket
from dispatch.case.signoff import sign_off, signoff_state
from dispatch.case.transitions import transition
from dispatch.casefile.record import case_record
from dispatch.casefile.review import case_flags, on_site_photos, review as review_checks
from dispatch.db import utcnow
from dispatch.plates.views import plate_detail
from dispatch.review import review_case, review_view
from webapp.api.tickets import reveal_contact
from webapp.auth import principal, requires
from webapp.casefile import case_file_pdf, case_file_zip
from webapp.i18n import pick_language
from webapp.platform import current_platform, db_session

blp = Blueprint("cases", __name__, description="Cases (案件) through the closed loop")


def visible_case(case_id: int, *, for_update: bool = False) -> Case:
    """The case, if the principal's squad (or the centre) may see it; 403 otherwise."""
    case = get_case(session=db_session(), case_id=case_id, for_update=for_update)
    if not can_view_squad(principal(), case.squad_code):
        abort(403, message=f"case {case_id} belongs to another squad")
    return case


def detail(case: Case) -> dict:
    platform = current_platform()
    view = case_detail_view(session=db_session(), case=case, categories=platform.ctx.categories,
                            reveal_contact=reveal_contact())
    view["review"] = review_view(case)
    view["signoffs"] = signoff_state(platform.ctx.signoffs, case)
    view["can_sign_off"] = principal().role in platform.ctx.signoffs.signer_roles
    view["review_flags"] = case_flags(case=case, photos=on_site_photos(db_session(), [case.id])[case.id],
                                      signoffs=platform.ctx.signoffs, rules=platform.ctx.review)
    view.update(plate_detail(db_session(), case, view["evidence"], platform.ctx.plates))
    return view


@blp.route("", methods=["GET"])
@requires()
@blp.arguments(CaseQuery, location="query")
@blp.response(200, CaseList)
def list_(filters: dict):
    """Cases newest first, filtered by state, squad, cell, category, overdue and reporting time."""
    own_squad = visible_squad(principal())
    if own_squad is not None:
        if filters.get("squad") not in (None, own_squad):
            abort(403, message="squad members see their own squad's cases only")
        filters = {**filters, "squad": own_squad}
    total, cases = list_cases(session=db_session(), filters=filters)
    categories = current_platform().ctx.categories
    views = [case_view(case, categories) for case in cases]
    return {"total": total, "items": views if reveal_contact() else [masked_case_view(view) for view in views]}


@blp.route("/<int:case_id>", methods=["GET"])
@requires()
@blp.response(200, CaseDetailOut)
def get(case_id: int):
    """One case with its timeline, tickets and evidence (一案一档)."""
    return detail(visible_case(case_id))


@blp.route("/<int:case_id>/transitions", methods=["POST"])
@requires()
@blp.arguments(TransitionIn)
@blp.response(200, CaseDetailOut)
@blp.alt_response(409, description="the action is not allowed from the case's state")
def move(body: dict, case_id: int):
    """Register, reject, dispatch, accept, handle, verify, return for rework, or close."""
    platform, session = current_platform(), db_session()
    case = visible_case(case_id, for_update=True)
    if not can_act(principal(), body["action"], case.squad_code):
        abort(403, message=f"role '{principal().role.value}' may not {body['action'].value} this case")
    if case.review_status == ReviewStatus.PENDING.value and body["action"] in (CaseAction.REGISTER, CaseAction.REJECT):
        abort(409, message=f"case {case_id} awaits review: POST /api/cases/{case_id}/review")
    transition(session=session, case=case, action=body["action"], actor=principal().name, now=utcnow(),
               calendar=platform.ctx.calendar, categories=platform.ctx.categories, note=body.get("note"),
               reason=body.get("reason"), result=body["result"].value if body.get("result") else None,
               squad_code=body.get("squad"), signoffs=platform.ctx.signoffs, basis=body.get("basis"),
               offsite=platform.ctx.plates.offsite, officer=body.get("officer"))
    commit_and_publish(session, platform.bus)
    return detail(case)


@blp.route("/<int:case_id>/review", methods=["POST"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(ReviewIn)
@blp.response(200, CaseDetailOut)
@blp.alt_response(409, description="the case does not await review")
def review_detection(body: dict, case_id: int):
    """Confirm a camera or drone case (it is registered) or reject it with a reason (it never reaches a squad)."""
    platform, session = current_platform(), db_session()
    case = get_case(session=session, case_id=case_id, for_update=True)
    review_case(session=session, ctx=platform.ctx, case=case, confirm=body["verdict"] == "confirm",
                reason=body.get("reason"), note=body.get("note"), actor=principal().name, now=utcnow())
    commit_and_publish(session, platform.bus)
    return detail(case)


@blp.route("/<int:case_id>/split", methods=["POST"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(SplitIn)
@blp.response(201, CaseOut)
def split(body: dict, case_id: int):
    """Take a wrongly merged ticket out into a case of its own."""
    platform, session = current_platform(), db_session()
    case = get_case(session=session, case_id=case_id, for_update=True)
    new_case = split_ticket(session=session, case=case, ticket_id=body["ticket_id"],
                            categories=platform.ctx.categories, actor=principal().name, now=utcnow())
    commit_and_publish(session, platform.bus)
    return case_view(new_case, platform.ctx.categories)


@blp.route("/<int:case_id>/signoffs", methods=["POST"])
@requires()
@blp.arguments(SignoffIn)
@blp.response(201, CaseDetailOut)
def sign(body: dict, case_id: int):
    """Sign off a step (签批) with an opinion: a timeline entry; the step may then be taken."""
    platform, session = current_platform(), db_session()
    rules = platform.ctx.signoffs
    if principal().role not in rules.signer_roles:
        abort(403, message=f"role '{principal().role.value}' may not sign off")
    case = visible_case(case_id, for_update=True)
    sign_off(session=session, rules=rules, case=case, step=body["step"], opinion=body.get("opinion"),
             actor=principal().name, role=principal().role, now=utcnow())
    commit_and_publish(session, platform.bus)
    return detail(case)


class CaseFileQuery(Schema):
    format = fields.String(load_default="pdf", validate=validate.OneOf(["pdf", "zip"]),
                           metadata={"description": "pdf, or zip: the PDF, the original evidence files and a JSON record"})


@blp.route("/<int:case_id>/file", methods=["GET"])
@requires()
@blp.arguments(CaseFileQuery, location="query")
@blp.response(200, description="the case file (一案一档) as application/pdf or application/zip")
def case_file(query: dict, case_id: int):
    """The whole case file: summary, tickets (masked by role), timeline, sign-offs, evidence, 回访, chain head."""
    platform = current_platform()
    case = visible_case(case_id)
    record = case_record(session=db_session(), case=case, categories=platform.ctx.categories,
                         reveal_contact=reveal_contact(), now=utcnow())
    pdf = case_file_pdf(record, language=pick_language(platform.settings.app.language),
                        zone=ZoneInfo(platform.settings.calendar.timezone), store=platform.evidence,
                        config=platform.settings.casefile)
    if query["format"] == "pdf":
        body, mimetype = pdf, "application/pdf"
    else:
        body, mimetype = case_file_zip(record, pdf, platform.evidence), "application/zip"
    disposition = f'attachment; filename="case-{case_id}.{query["format"]}"'
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


class ReviewQuery(Schema):
    ids = fields.List(fields.Integer(), metadata={"description": "the cases to review (default: every case)"})


@blp.route("/review", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(ReviewQuery, location="query")
@blp.response(200, description="{squads: ranked, fewest flags per case first; cases: the flagged ones}")
def review_report(query: dict):
    """Review checks (案卷评查): each flagged case's flags, and the squads ranked on them."""
    platform = current_platform()
    return review_checks(session=db_session(), case_ids=query.get("ids"), signoffs=platform.ctx.signoffs,
                  rules=platform.ctx.review)
