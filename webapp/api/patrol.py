"""Patrol and duty: rosters and coverage, patrols, positions, check-ins, finds, officers' whereabouts, the duty log."""
import datetime as dt
import uuid

from flask import Response, request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from dispatch.account.enums import Role
from dispatch.account.models import User
from dispatch.account.policy import can_view_positions, can_view_squad, visible_squad
from dispatch.case.events import commit_and_publish
from dispatch.case.service import get_case
from dispatch.db import utcnow
from dispatch.errors import InputError, NotFound
from dispatch.fields import StrictFloat
from dispatch.intake import submit_ticket
from dispatch.patrol.duty import PERIODS, duty_log, patrol_finder_prefix, period_bounds
from dispatch.patrol.models import RosterShift
from dispatch.patrol.roster import (RosterRejected, RowProblem, ShiftIn, beat_of, coverage_gaps, on_duty, parse_days,
                                    replace_roster, squad_cells, squad_shifts, uncovered_at)
from dispatch.patrol.roster_file import clock, read_roster
from dispatch.patrol.service import (add_positions, check_in, end_patrol, officers_on_patrol, open_patrol,
                                     start_patrol, track)
from dispatch.squad.models import Squad
from dispatch.ticket.enums import TicketSource
from grid.geodesy import haversine_m
from webapp.api.evidence import IMAGE_SUFFIX, EvidenceForm, checked_image
from webapp.api.tickets import IntakeOut, intake_view
from webapp.auth import principal, requires
from webapp.duty_export import duty_workbook
from webapp.guards import takes_uploads
from webapp.i18n import pick_language
from webapp.live import push_position
from webapp.platform import current_platform, db_session

blp = Blueprint("patrol", __name__, description="Patrol and duty (巡查勤务): rosters, positions, check-ins, duty log")
ON_PATROL = (Role.OFFICER, Role.SQUAD_LEADER)
WATCHERS = (Role.ADMIN, Role.DISPATCHER, Role.SQUAD_LEADER)


def me() -> User:
    return db_session().get(User, principal().user_id)


def zone() -> dt.tzinfo:
    return current_platform().ctx.calendar.zone


def squad_asked(asked: str | None, *, edit: bool = False) -> str:
    """The one squad a roster request is about: a squad member's own (another is refused), or the centre's choice."""
    own = visible_squad(principal())
    squad = own if asked is None else asked
    if squad is None:
        abort(422, message="name the squad: ?squad=<code>", errors={"query": {"squad": ["required"]}})
    if not can_view_squad(principal(), squad) or (edit and principal().role is Role.OFFICER):
        abort(403, message=f"squad {squad} is not yours to {'edit' if edit else 'see'}")
    if db_session().get(Squad, squad) is None:
        raise NotFound(f"no squad {squad}")
    return squad


def watched_squad(asked: str | None) -> str | None:
    """Whose positions: a leader's own squad only; the centre any one, or all (None)."""
    if principal().is_centre:
        return asked
    if asked not in (None, principal().squad_code):
        abort(403, message="a squad leader sees their own squad's officers only")
    return principal().squad_code


class PatrolOut(Schema):
    id = fields.Integer()
    started_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)


class MyPatrolOut(Schema):
    patrol = fields.Nested(PatrolOut, allow_none=True)
    beat = fields.List(fields.String(), metadata={"description": "the cells of my roster rows"})
    interval_s = fields.Float(metadata={"description": "how often the page sends my position"})


def my_patrol_view() -> dict:
    return {"patrol": open_patrol(db_session(), principal().user_id), "beat": sorted(beat_of(db_session(), principal().user_id)),
            "interval_s": current_platform().settings.patrol.position_interval_s}


@blp.route("/me", methods=["GET"])
@requires(*ON_PATROL)
@blp.response(200, MyPatrolOut)
def my_patrol():
    """My running patrol (if any), my beat and the position interval."""
    return my_patrol_view()


@blp.route("/start", methods=["POST"])
@requires(*ON_PATROL)
@blp.response(200, MyPatrolOut)
def start():
    """Start a patrol (or find the one running): positions and check-ins are taken from now on."""
    session = db_session()
    patrol = start_patrol(session=session, user=me(), now=utcnow())
    session.commit()
    push_position({"kind": "started", "username": principal().name, "name": me().display_name,
                   "squad_code": patrol.squad_code,
                   "patrol_id": patrol.id, "at": patrol.started_at.isoformat()})
    return my_patrol_view()


@blp.route("/end", methods=["POST"])
@requires(*ON_PATROL)
@blp.response(200, PatrolOut)
def end():
    """End my patrol: no position is taken after it."""
    session = db_session()
    patrol = end_patrol(session=session, user=me(), now=utcnow())
    session.commit()
    push_position({"kind": "ended", "username": principal().name, "name": me().display_name,
                   "squad_code": patrol.squad_code,
                   "patrol_id": patrol.id, "at": patrol.ended_at.isoformat()})
    return patrol


class PointIn(Schema):
    at = fields.AwareDateTime(required=True, metadata={"description": "the phone's time of the fix"})
    lon = StrictFloat(required=True, validate=validate.Range(-180, 180), metadata={"description": "WGS-84"})
    lat = StrictFloat(required=True, validate=validate.Range(-90, 90), metadata={"description": "WGS-84"})
    accuracy = StrictFloat(validate=validate.Range(0, 100_000), metadata={"description": "metres"})


class PositionsIn(Schema):
    positions = fields.List(fields.Nested(PointIn), required=True, validate=validate.Length(min=1))


class PositionsOut(Schema):
    accepted = fields.Integer(metadata={"description": "stored now"})
    duplicates = fields.Integer(metadata={"description": "already stored (a resend): kept once"})
    outside = fields.Integer(metadata={"description": "not within one of my patrols: dropped"})


@blp.route("/positions", methods=["POST"])
@requires(*ON_PATROL)
@blp.arguments(PositionsIn)
@blp.response(200, PositionsOut)
@blp.alt_response(409, description="no patrol is running")
def positions(body: dict):
    """My phone's positions (the newest or a backlog), in any order, resent ones stored once."""
    settings = current_platform().settings.patrol
    if len(body["positions"]) > settings.max_batch:
        raise InputError("positions", f"at most {settings.max_batch} positions per request")
    session = db_session()
    taken = add_positions(session=session, user=me(), points=body["positions"], now=utcnow(), config=settings)
    session.commit()
    if taken.latest is not None and taken.accepted:
        push_position({"kind": "position", **taken.latest})
    return taken


class CheckInIn(Schema):
    lon = StrictFloat(required=True, validate=validate.Range(-180, 180), metadata={"description": "WGS-84"})
    lat = StrictFloat(required=True, validate=validate.Range(-90, 90), metadata={"description": "WGS-84"})


class CheckInOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    lon = fields.Float()
    lat = fields.Float()
    cell_code = fields.String(allow_none=True)
    in_beat = fields.Boolean(metadata={"description": "the cell is in my beat"})


@blp.route("/check-ins", methods=["POST"])
@requires(*ON_PATROL)
@blp.arguments(CheckInIn)
@blp.response(201, CheckInOut)
def check_in_here(body: dict):
    """巡查签到 where I am: the cell it falls in and whether it is in my beat."""
    session = db_session()
    entry = check_in(session=session, user=me(), lon=body["lon"], lat=body["lat"], at=utcnow(),
                     grid=current_platform().ctx.grid)
    session.commit()
    push_position({"kind": "check_in", "username": principal().name, "name": me().display_name,
                   "squad_code": principal().squad_code,
                   "patrol_id": entry.patrol_id, "at": entry.at.isoformat(), "lon": entry.lon, "lat": entry.lat,
                   "cell_code": entry.cell_code, "in_beat": entry.in_beat})
    return entry


class FindForm(EvidenceForm):
    """The photo's own fields (EXIF time and GPS, size before shrinking) as an upload sends them, and the find."""

    category = fields.String(required=True, validate=validate.Length(1, 8))
    text = fields.String(load_default="", validate=validate.Length(max=5000))
    position_lon = fields.Float(validate=validate.Range(-180, 180),
                                metadata={"description": "the phone's position, WGS-84; default my last position, "
                                                         "then the photo's GPS"})
    position_lat = fields.Float(validate=validate.Range(-90, 90))
    client_id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{8,40}$"),
                              metadata={"description": "the page's id of this report: sent twice, taken in once"})


def find_location(form: dict) -> dict | None:
    """Where a find is: the position the page sent, else my last patrol position, else the photo's GPS."""
    if "position_lon" in form and "position_lat" in form:
        return {"lon": form["position_lon"], "lat": form["position_lat"], "crs": "wgs84"}
    latest = officers_latest(principal().user_id)
    if latest is not None:
        return {"lon": latest["lon"], "lat": latest["lat"], "crs": "wgs84"}
    if "lon" in form and "lat" in form:
        return {"lon": form["lon"], "lat": form["lat"], "crs": "wgs84"}
    return None


@blp.route("/finds", methods=["POST"])
@takes_uploads
@requires(*ON_PATROL)
@blp.arguments(FindForm, location="form", content_type="multipart/form-data")
@blp.response(201, IntakeOut)
@blp.alt_response(200, schema=IntakeOut, description="the same client_id again")
def find(form: dict):
    """A problem found on patrol: a `patrol` ticket through the same intake as every source (merges nearby)."""
    platform, session = current_platform(), db_session()
    evidence = []
    photo = request.files.get("photo")
    if photo is not None and photo.filename:
        image = checked_image(photo.stream)
        if image.format not in IMAGE_SUFFIX:
            raise InputError("photo", "send a JPEG, PNG or WebP photo", key="photo_not_image")
        photo.stream.seek(0)
        uri = platform.evidence.save(folder=f"patrol-{principal().user_id}", data=photo.stream.read(),
                                     suffix=IMAGE_SUFFIX[image.format])
        exif = {name: form[name] for name in ("lon", "lat", "original_bytes", "original_size") if name in form}
        if "taken_at" in form:
            exif["taken_at"] = form["taken_at"].isoformat()
        evidence.append({"uri": uri, "caption": form.get("caption") or "巡查发现", "exif": exif or None,
                         "taken_at": form.get("taken_at") or utcnow(), "uploaded_by": principal().name})
    location = find_location(form)
    ticket_in = {"source": TicketSource.PATROL,
                 "external_id": patrol_finder_prefix(principal().user_id) + (form.get("client_id") or uuid.uuid4().hex),
                 "category": form["category"], "text": form["text"], "location": location, "evidence": evidence}
    raw = {key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in form.items()}
    result = submit_ticket(session=session, ctx=platform.ctx, ticket_in=ticket_in, raw=raw, actor=principal().name)
    commit_and_publish(session, platform.bus)
    return intake_view(result), 200 if result.outcome.value == "duplicate" else 201


def officers_latest(user_id: int) -> dict | None:
    """My newest position in my running patrol."""
    running = officers_on_patrol(session=db_session(), squad_code=None, user_id=user_id)
    return running[0]["position"] if running else None


class SquadQuery(Schema):
    squad = fields.String(metadata={"description": "the squad (leaders: their own, the default)"})


@blp.route("/officers", methods=["GET"])
@requires(*WATCHERS)
@blp.arguments(SquadQuery, location="query")
@blp.response(200, description="[{username, name, squad_code, patrol_id, started_at, position}] of officers on patrol")
def officers(query: dict):
    """Officers on patrol now and their newest positions: their own squad's leader and the centre only."""
    found = officers_on_patrol(session=db_session(), squad_code=watched_squad(query.get("squad")))
    return [{**item, "started_at": item["started_at"].isoformat()} for item in found]


@blp.route("/members", methods=["GET"])
@requires(*WATCHERS)
@blp.arguments(SquadQuery, location="query")
@blp.response(200, description="[{username, name, role, squad_code}]: whose tracks and roster rows there are")
def members(query: dict):
    """A squad's leaders and officers (a leader's own; the centre's choice, or every squad)."""
    statement = select(User).where(User.role.in_([Role.OFFICER.value, Role.SQUAD_LEADER.value]),
                                   User.active.is_(True)).order_by(User.squad_code, User.username)
    squad = watched_squad(query.get("squad"))
    if squad is not None:
        statement = statement.where(User.squad_code == squad)
    return [{"username": u.username, "name": u.display_name, "role": u.role, "squad_code": u.squad_code}
            for u in db_session().scalars(statement)]


class DayQuery(Schema):
    date = fields.Date(metadata={"description": "the local day (default today)"})


@blp.route("/tracks/<username>", methods=["GET"])
@requires(*WATCHERS)
@blp.arguments(DayQuery, location="query")
@blp.response(200, description="{username, patrols: [{patrol_id, coordinates, times}], check_ins}")
def tracks(query: dict, username: str):
    """An officer's track of a day for the replay: their own squad's leader and the centre only."""
    user = db_session().scalars(select(User).where(User.username == username)).first()
    if user is None or user.squad_code is None or not can_view_positions(principal(), user.squad_code):
        abort(403, message="positions of this officer are not yours to see")
    day = query.get("date") or utcnow().astimezone(zone()).date()
    since, until = period_bounds("day", day, zone())
    found = track(session=db_session(), user=user, since=since, until=until)
    found["check_ins"] = [{**c, "at": c["at"].isoformat()} for c in found["check_ins"]]
    return found


class ShiftBody(Schema):
    officer = fields.String(required=True, validate=validate.Length(1, 64), metadata={"description": "username"})
    label = fields.String(required=True, validate=validate.Length(1, 40), metadata={"description": "e.g. 早班"})
    days = fields.String(required=True, metadata={"description": "workdays, restdays, daily, or weekdays 1-7 (1-5, 6,7)"})
    start = fields.String(required=True, metadata={"description": "local HH:MM"})
    end = fields.String(required=True, metadata={"description": "local HH:MM; at or before start = the next day"})
    cells = fields.List(fields.String(), required=True, metadata={"description": "the beat's cell codes"})


class RosterIn(Schema):
    shifts = fields.List(fields.Nested(ShiftBody), required=True)


def roster_view(squad: str) -> dict:
    """The squad's roster rows and the gaps it leaves in the configured hours of the coming days."""
    session = db_session()
    names = {user.id: user for user in session.scalars(select(User).where(User.squad_code == squad))}
    shifts = squad_shifts(session, squad)
    return {"squad_code": squad,
            "shifts": [{"id": s.id, "officer": names[s.user_id].username, "name": names[s.user_id].display_name,
                        "label": s.label, "days": s.days, "start": s.start.strftime("%H:%M"),
                        "end": s.end.strftime("%H:%M"), "cells": s.cells} for s in shifts],
            "warnings": gap_warnings(squad, shifts)}


def gap_warnings(squad: str, shifts: list[RosterShift]) -> list[dict]:
    """The days ahead on which some cells have nobody on duty in the configured hours."""
    settings, calendar = current_platform().settings.patrol, current_platform().ctx.calendar
    cells = squad_cells(db_session(), squad)
    today = utcnow().astimezone(zone()).date()
    found = []
    for offset in range(settings.coverage_days):
        day = today + dt.timedelta(days=offset)
        gaps = coverage_gaps(shifts=shifts, cells=cells, day=day, hours=settings.coverage_hours, calendar=calendar)
        if gaps:
            found.append({"date": day.isoformat(), "cells": len(gaps), "of_cells": len(cells)})
    return found


@blp.route("/roster", methods=["GET"])
@requires()
@blp.arguments(SquadQuery, location="query")
@blp.response(200, description="{squad_code, shifts: [...], warnings: [{date, cells, of_cells}]}")
def roster(query: dict):
    """A squad's roster (五定一包: who holds which cells when) and the days it leaves cells uncovered."""
    return roster_view(squad_asked(query.get("squad")))


def shifts_of_body(body: dict) -> list[ShiftIn]:
    rows, problems = [], []
    for number, shift in enumerate(body["shifts"], start=1):
        parsed = {}
        for field, read in (("days", parse_days), ("start", clock), ("end", clock)):
            try:
                parsed[field] = read(shift[field])
            except RowProblem as problem:
                problems.append((number, field, problem))
        if len(parsed) == 3:
            rows.append(ShiftIn(username=shift["officer"], label=shift["label"], cells=shift["cells"], **parsed))
    if problems:
        raise RosterRejected(problems)
    return rows


@blp.route("/roster", methods=["PUT"])
@requires(Role.ADMIN, Role.DISPATCHER, Role.SQUAD_LEADER)
@blp.arguments(RosterIn)
@blp.arguments(SquadQuery, location="query")
@blp.response(200, description="the stored roster, as GET answers")
def put_roster(body: dict, query: dict):
    """Replace a squad's roster (its leader or the centre); every bad row is named and nothing is stored."""
    squad = squad_asked(query.get("squad"), edit=True)
    rows = shifts_of_body(body)
    replace_roster(session=db_session(), squad_code=squad, rows=rows, numbers=list(range(1, len(rows) + 1)))
    db_session().commit()
    return roster_view(squad)


class RosterFileForm(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": "a .csv or .xlsx roster"})


@blp.route("/roster/import", methods=["POST"])
@takes_uploads
@requires(Role.ADMIN, Role.DISPATCHER, Role.SQUAD_LEADER)
@blp.arguments(RosterFileForm, location="form", content_type="multipart/form-data")
@blp.arguments(SquadQuery, location="query")
@blp.response(200, description="the stored roster, as GET answers")
def import_roster(_form: dict, query: dict):
    """Replace a squad's roster from a CSV or XLSX file (columns 账号 班次 上班日 上班时间 下班时间 责任网格)."""
    squad = squad_asked(query.get("squad"), edit=True)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InputError("file", "a roster file (.csv or .xlsx) is required")
    rows, numbers = read_roster(upload.read(), upload.filename)
    replace_roster(session=db_session(), squad_code=squad, rows=rows, numbers=numbers)
    db_session().commit()
    return roster_view(squad)


class CoverageQuery(SquadQuery):
    at = fields.AwareDateTime(metadata={"description": "the instant (default now)"})


@blp.route("/coverage", methods=["GET"])
@requires(*WATCHERS)
@blp.arguments(CoverageQuery, location="query")
@blp.response(200, description="{at, uncovered: [cell codes], day_gaps: [{cell_code, gaps: [[from, to]]}]}")
def coverage(query: dict):
    """The cells of a squad nobody is on duty in at an instant, and each cell's gaps in that day's configured hours."""
    squad = squad_asked(query.get("squad"))
    session, calendar = db_session(), current_platform().ctx.calendar
    at = query.get("at") or utcnow()
    shifts, cells = squad_shifts(session, squad), squad_cells(session, squad)
    day = at.astimezone(zone()).date()
    gaps = coverage_gaps(shifts=shifts, cells=cells, day=day, hours=current_platform().settings.patrol.coverage_hours,
                         calendar=calendar)
    return {"squad_code": squad, "at": at.isoformat(), "date": day.isoformat(),
            "uncovered": uncovered_at(shifts=shifts, cells=cells, at=at, calendar=calendar),
            "on_duty": sorted({s.user_id for s in shifts if on_duty(s, at, calendar)}),
            "day_gaps": [{"cell_code": g.cell_code,
                          "gaps": [[a.astimezone(zone()).strftime("%H:%M"), b.astimezone(zone()).strftime("%H:%M")]
                                   for a, b in g.gaps]} for g in gaps]}


class DutyQuery(SquadQuery):
    period = fields.String(load_default="day", validate=validate.OneOf(PERIODS))
    date = fields.Date(metadata={"description": "a local day in the period (default today)"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx"]))


@blp.route("/duty", methods=["GET"])
@requires()
@blp.arguments(DutyQuery, location="query")
@blp.response(200, description="{since, until, squads: [{squad_code, officers: [...], total}]} or an XLSX file")
def duty(query: dict):
    """The duty log (个人勤务台账): patrol time, distance, check-ins, cases found and handled, on-time rate."""
    session = db_session()
    if principal().is_centre and query.get("squad") is None:
        squads = [code for code in session.scalars(select(Squad.code).order_by(Squad.code))]
    else:
        squads = [squad_asked(query.get("squad"))]
    day = query.get("date") or utcnow().astimezone(zone()).date()
    since, until = period_bounds(query["period"], day, zone())
    log = duty_log(session=session, squad_codes=squads, since=since, until=until, now=utcnow())
    if principal().role is Role.OFFICER:  # an officer sees their own row only
        log = [{**squad, "officers": [o for o in squad["officers"] if o["username"] == principal().name]}
               for squad in log]
        for squad in log:
            squad["total"] = {key: value for key, value in squad["officers"][0].items()
                              if key not in ("user_id", "username", "name", "role")} if squad["officers"] else {}
    answer = {"period": query["period"], "since": since.isoformat(), "until": until.isoformat(), "squads": log}
    if query["format"] == "json":
        return answer
    body = duty_workbook(answer, language=pick_language(current_platform().settings.app.language))
    name = f"duty-{query['period']}-{day.isoformat()}.xlsx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/suggestions/<int:case_id>", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.response(200, description="{officers: on patrol in the case's squad, nearest first; beat_holders}")
def suggestions(case_id: int):
    """Whom to dispatch a case to: the squad's officers on patrol by distance from their last position, and who
    holds the case's cell in their beat (on duty now or not)."""
    session, calendar = db_session(), current_platform().ctx.calendar
    case = get_case(session=session, case_id=case_id)
    now = utcnow()
    nearby = []
    for officer in officers_on_patrol(session=session, squad_code=case.squad_code):
        where = officer["position"]
        metres = float(haversine_m(where["lon"], where["lat"], case.lon, case.lat)) if where else None
        nearby.append({"username": officer["username"], "name": officer["name"], "distance_m": metres,
                       "last_seen": where["at"] if where else None})
    nearby.sort(key=lambda o: (o["distance_m"] is None, o["distance_m"] or 0))
    holders: dict[str, dict] = {}
    users = {u.id: u for u in session.scalars(select(User).where(User.squad_code == case.squad_code))}
    for shift in squad_shifts(session, case.squad_code):
        if case.cell_code in shift.cells:
            user = users[shift.user_id]
            entry = holders.setdefault(user.username, {"username": user.username, "name": user.display_name,
                                                       "on_duty": False})
            entry["on_duty"] = entry["on_duty"] or on_duty(shift, now, calendar)
    return {"case_id": case.id, "squad_code": case.squad_code, "cell_code": case.cell_code, "officers": nearby,
            "beat_holders": sorted(holders.values(), key=lambda h: (not h["on_duty"], h["username"]))}
