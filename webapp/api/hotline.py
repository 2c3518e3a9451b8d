"""Hotline work orders: signed push, batch upload, the reply outbox, satisfaction ratings, address candidates."""
import datetime as dt
import hmac
import time
from dataclasses import asdict

from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from config.hotline import HotlineConfig, ProfileConfig
from dispatch.account.enums import Role
from dispatch.address.service import load_matcher, ticket_candidates
from dispatch.case.service import get_case
from dispatch.db import utcnow
from dispatch.errors import InputError, NotFound
from dispatch.hotline.batch import import_rows, missing_fields, read_rows, summary
from dispatch.hotline.enums import ReplyStatus, Satisfaction
from dispatch.hotline.feedback import rate_case
from dispatch.hotline.jobs import JobStatus, create_job, get_job, job_view, recent_jobs, report_csv
from dispatch.hotline.models import PushSignature
from dispatch.hotline.replies import list_replies, push_signature
from dispatch.ticket.models import Ticket
from webapp.auth import principal, requires
from webapp.guards import takes_uploads
from webapp.platform import current_platform, db_session
from webapp.tasks import import_runner

blp = Blueprint("hotline", __name__, description="12345/12319 work orders in, closure replies out, 回访 ratings")


class RowOut(Schema):
    row = fields.Integer()
    external_id = fields.String(allow_none=True)
    outcome = fields.String(metadata={"description": "created, merged, duplicate, unlocated or refused"})
    reason = fields.String(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    case_id = fields.Integer(allow_none=True)


class ImportOut(Schema):
    summary = fields.Dict(metadata={"description": "rows, outcomes by kind, refused rows by reason"})
    rows = fields.List(fields.Nested(RowOut))


class JobOut(Schema):
    id = fields.Integer()
    profile = fields.String()
    filename = fields.String()
    actor = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    total = fields.Integer(metadata={"description": "work orders in the file"})
    done = fields.Integer(metadata={"description": "work orders taken in (or refused) so far"})
    missing_fields = fields.List(fields.String(), metadata={"description": "profile fields the file lacks"})
    summary = fields.Dict(allow_none=True, metadata={"description": "when done: rows by outcome, refused by reason"})
    error = fields.String(allow_none=True, metadata={"description": "when failed: why"})
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)


class JobQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 200))


class ImportIn(Schema):
    profile = fields.String(required=True, metadata={"description": "work-order layout from config/hotline.yaml"})
    # Read from request.files; declared here so the document shows the multipart body.
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": ".csv, .xlsx or .json"})


class ReplyQuery(Schema):
    status = fields.Enum(ReplyStatus, by_value=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class ReplyOut(Schema):
    id = fields.Integer()
    idempotency_key = fields.String()
    case_id = fields.Integer()
    ticket_id = fields.Integer()
    payload = fields.Dict()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime()
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)


class RatingIn(Schema):
    rating = fields.Enum(Satisfaction, by_value=True, required=True,
                         metadata={"description": "satisfied 满意, basically_satisfied 基本满意, dissatisfied 不满意"})
    note = fields.String(validate=validate.Length(max=2000))


class RatingOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    rating = fields.String()
    note = fields.String(allow_none=True)
    actor = fields.String()
    at = fields.AwareDateTime()


class CandidateOut(Schema):
    rank = fields.Integer()
    address = fields.String()
    lon = fields.Float(metadata={"description": "WGS-84"})
    lat = fields.Float()
    score = fields.Float(metadata={"description": "0-100"})


def profile_named(name: str) -> ProfileConfig:
    profiles = current_platform().settings.hotline.profiles
    if name not in profiles:
        raise NotFound(f"no work-order profile '{name}'; known: {', '.join(profiles)}")
    return profiles[name]


def run_import(profile_name: str, rows: list[dict]) -> dict:
    platform, session = current_platform(), db_session()
    config = platform.settings.hotline
    reports = import_rows(session=session, bus=platform.bus, ctx=platform.ctx, config=config,
                          profile=profile_named(profile_name), rows=rows,
                          matcher=load_matcher(session=session, config=config.address), actor=f"hotline:{profile_name}")
    return {"summary": summary(reports), "rows": [asdict(report) for report in reports]}


def verify_push(config: HotlineConfig) -> None:
    """401 unless the push is signed with our secret, timestamped within the window, and not seen before."""
    timestamp = request.headers.get(config.timestamp_header, "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > config.signature_window_s:
        abort(401, message=f"missing {config.timestamp_header}, or more than {config.signature_window_s} s off")
    expected = push_signature(method=request.method, path=request.path, timestamp=timestamp,
                              body=request.get_data(), secret=config.secret or "")
    given = request.headers.get(config.signature_header, "").removeprefix("sha256=")
    if not config.secret or not hmac.compare_digest(given, expected):
        abort(401, message=f"missing or wrong {config.signature_header}")
    if not remember_signature(expected, window_s=config.signature_window_s):
        abort(401, message=f"replayed push: this {config.signature_header} was already taken")


def remember_signature(signature: str, *, window_s: int) -> bool:
    """Record a push's signature in the database (shared by every web process); False if it was there already.

    The row joins the request's transaction, so a push that fails leaves no trace; a concurrent twin waits on
    the unique key and loses. Rows older than two windows go: their timestamps are refused anyway.
    """
    session, now = db_session(), utcnow()
    session.execute(delete(PushSignature).where(PushSignature.seen_at < now - dt.timedelta(seconds=2 * window_s)))
    try:
        with session.begin_nested():
            session.add(PushSignature(signature=signature, seen_at=now))
    except IntegrityError:
        return False
    return True


@blp.route("/work-orders/<profile>", methods=["POST"])
@blp.response(201, ImportOut)
@blp.alt_response(401, description="missing or wrong signature")
def push(profile: str):
    """Work orders pushed by the hotline: one JSON object or a list, signed (HMAC-SHA256) with a timestamp.

    The signature covers `METHOD\\nPATH\\nTIMESTAMP\\n` and the raw body; a timestamp off by more than
    `hotline.signature_window_s` is refused, and each signature is taken once (a replay is refused).
    """
    verify_push(current_platform().settings.hotline)
    body = request.get_json(silent=True)
    orders = body if isinstance(body, list) else [body]
    if not all(isinstance(order, dict) for order in orders):
        abort(400, message="the body must be a work-order object or a list of them")
    return run_import(profile, orders)


@blp.route("/imports", methods=["POST"])
@takes_uploads
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(ImportIn, location="form", content_type="multipart/form-data")
@blp.response(202, JobOut)
def upload(form: dict):
    """Import a CSV, XLSX or JSON file of work orders in the background; follow the job, then fetch its report.

    A file that cannot be read (broken, empty, no header) is refused at once; the rows are taken
    in by the job, idempotent by work-order number, each with a line in the report.
    """
    profile = profile_named(form["profile"])
    upload_file = request.files.get("file")
    if upload_file is None:
        raise InputError("file", "send the work orders as the multipart field 'file'")
    filename = upload_file.filename or ""
    table = read_rows(upload_file.read(), filename, profiles=[profile])
    session = db_session()
    job = create_job(session=session, profile=form["profile"], filename=filename, actor=f"import:{principal().name}",
                     total=len(table.rows), missing_fields=missing_fields(profile, table.columns))
    session.commit()
    view = job_view(job)
    import_runner(current_app).start(current_platform(), job_id=job.id, profile=profile, rows=table.rows)
    return view, 202, {"Location": url_for("hotline.import_job", job_id=job.id)}


@blp.route("/imports", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(JobQuery, location="query")
@blp.response(200, JobOut(many=True))
def import_jobs(query: dict):
    """Import jobs, newest first."""
    return [job_view(job) for job in recent_jobs(session=db_session(), limit=query["limit"])]


@blp.route("/imports/<int:job_id>", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.response(200, JobOut)
def import_job(job_id: int):
    """One import job: queued, running (done of total rows), done (with the summary) or failed (with the error)."""
    return job_view(get_job(session=db_session(), job_id=job_id))


@blp.route("/imports/<int:job_id>/report.csv", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.response(200, {"format": "binary", "type": "string"}, content_type="text/csv")
@blp.alt_response(409, description="the job has not finished")
def import_report(job_id: int):
    """The finished job's report, one line per row: outcome, reason, ticket and case."""
    job = get_job(session=db_session(), job_id=job_id)
    if job.status != JobStatus.DONE.value:
        abort(409, message=f"import job {job_id} is {job.status}; its report comes when it is done")
    name = f"{Path(job.filename).name or 'import'}.report.csv"
    return Response(report_csv(job), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@blp.route("/replies", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(ReplyQuery, location="query")
@blp.response(200, ReplyOut(many=True))
def replies(query: dict):
    """The outbox of closure replies to the hotline, newest first: pending, sent and failed."""
    return list_replies(session=db_session(), status=query.get("status"), limit=query["limit"])


@blp.route("/cases/<int:case_id>/rating", methods=["POST"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.arguments(RatingIn)
@blp.response(201, RatingOut)
def rate(body: dict, case_id: int):
    """Record the caller's satisfaction with a closed case; a dissatisfied case may then be reopened."""
    session = db_session()
    case = get_case(session=session, case_id=case_id)
    rating = rate_case(session=session, case=case, rating=body["rating"], note=body.get("note"),
                       actor=principal().name, now=utcnow())
    session.commit()
    return rating


@blp.route("/tickets/<int:ticket_id>/candidates", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.response(200, CandidateOut(many=True))
def candidates(ticket_id: int):
    """Standard addresses an unlocated ticket may be at, best first; POST one to /api/tickets/<id>/locate."""
    if db_session().get(Ticket, ticket_id) is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket_candidates(session=db_session(), ticket_id=ticket_id)
