"""Rosters: the example XLSX imports, a bad row is refused by row and field, coverage gaps and the gap warning."""
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from dispatch.calendar import WorkCalendar
from dispatch.patrol.models import RosterShift
from dispatch.patrol.roster import coverage_gaps, on_duty, parse_days, uncovered_at
from config.dispatch import CalendarConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "roster_sq01.xlsx"
SQ01_MEMBERS = [("officer", "officer_sq01"), ("officer", "officer_sq01b"), ("officer", "officer_sq01c")]
ZONE = ZoneInfo("Asia/Shanghai")


def upload(client, data: bytes, name: str = "roster.xlsx", squad: str = "SQ01"):
    return client.post(f"/api/patrol/roster/import?squad={squad}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_example_roster_imports_and_a_bad_row_is_refused_by_row_and_field(member) -> None:
    for role, name in SQ01_MEMBERS:
        member(role, "SQ01", name)
    leader = member("squad_leader", "SQ01", "leader_sq01")
    imported = upload(leader.client, EXAMPLE.read_bytes())
    assert imported.status_code == 200, imported.json
    shifts = imported.json["shifts"]
    assert len(shifts) == 5 and {s["officer"] for s in shifts} == {"officer_sq01", "officer_sq01b", "officer_sq01c",
                                                                   "leader_sq01"}
    assert {len(s["cells"]) for s in shifts} == {24, 48}  # ranges expanded; the leader's row holds both halves
    # Rest days run 08:00-20:00 only: the configured 07:00-22:00 has gaps there, and the roster says so.
    assert imported.json["warnings"] and all(w["cells"] == 48 for w in imported.json["warnings"])

    book = load_workbook(EXAMPLE)
    sheet = book.active
    sheet["F5"] = "25:00"  # row 5: an hour that does not exist
    sheet["C6"] = "nobody"  # row 6: not a member of the squad
    broken = io.BytesIO()
    book.save(broken)
    refused = upload(leader.client, broken.getvalue())
    assert refused.status_code == 422 and refused.json["key"] == "roster_rejected"
    problem = refused.json["params"]["problems"][0]
    assert (problem["row"], problem["field"], problem["code"], problem["params"]) == (5, "start", "time", {"value": "25:00"})
    sheet["F5"] = "07:00"
    broken = io.BytesIO()
    book.save(broken)
    refused = upload(leader.client, broken.getvalue())
    assert [(p["row"], p["field"], p["code"], p["params"]) for p in refused.json["params"]["problems"]] == [
        (6, "officer", "not_member", {"officer": "nobody", "squad": "SQ01"})]
    assert len(leader.client.get("/api/patrol/roster").json["shifts"]) == 5  # nothing of a refused file was stored


def test_who_may_edit_a_roster(member, client) -> None:
    officer = member("officer", "SQ01", "officer_sq01")
    other = member("squad_leader", "SQ02", "leader_sq02")
    assert upload(officer.client, EXAMPLE.read_bytes()).status_code == 403
    assert upload(other.client, EXAMPLE.read_bytes()).status_code == 403
    assert officer.client.get("/api/patrol/roster").status_code == 200  # officers read their own squad's roster
    assert other.client.get("/api/patrol/roster?squad=SQ01").status_code == 403
    body = {"shifts": [{"officer": "officer_sq01", "label": "早班", "days": "周一", "start": "7:00", "end": "15:00",
                        "cells": ["411502000001"]}]}
    refused = client.put("/api/patrol/roster?squad=SQ01", json=body)
    assert refused.status_code == 422
    assert [(p["row"], p["field"], p["code"]) for p in refused.json["params"]["problems"]] == [(1, "days", "days")]


def test_the_gap_map_shows_the_cells_nobody_covers(member) -> None:
    member("officer", "SQ01", "officer_sq01")
    leader = member("squad_leader", "SQ01", "leader_sq01")
    north = [f"4115020000{n:02d}" for n in range(1, 9)]
    body = {"shifts": [{"officer": "officer_sq01", "label": "早班", "days": "daily", "start": "07:00", "end": "15:00",
                        "cells": north}]}
    assert leader.client.put("/api/patrol/roster?squad=SQ01", json=body).status_code == 200
    morning = dt.datetime(2026, 12, 3, 9, 0, tzinfo=ZONE).isoformat()
    seen = leader.client.get("/api/patrol/coverage", query_string={"at": morning}).json
    assert len(seen["uncovered"]) == 40 and not set(north) & set(seen["uncovered"])
    gaps = {g["cell_code"]: g["gaps"] for g in seen["day_gaps"]}
    assert gaps[north[0]] == [["15:00", "22:00"]] and gaps["411502000017"] == [["07:00", "22:00"]]
    evening = dt.datetime(2026, 12, 3, 16, 0, tzinfo=ZONE).isoformat()
    assert len(leader.client.get("/api/patrol/coverage", query_string={"at": evening}).json["uncovered"]) == 48


def shift(days: str, start: str, end: str, cells: list[str]) -> RosterShift:
    return RosterShift(days=parse_days(days), start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end),
                       cells=cells, label="", user_id=1, squad_code="SQ01")


def test_staggered_and_overnight_shifts_cover_the_day_on_the_work_calendar() -> None:
    calendar = WorkCalendar(CalendarConfig())
    early, late = shift("工作日", "07:00", "15:00", ["A"]), shift("1-5", "14:30", "01:00", ["A", "B"])
    friday, saturday = dt.date(2026, 12, 4), dt.date(2026, 12, 5)
    hours = [(dt.time(7), dt.time(22))]
    assert coverage_gaps(shifts=[early, late], cells=["A"], day=friday, hours=hours, calendar=calendar) == []
    (b,) = coverage_gaps(shifts=[early, late], cells=["B"], day=friday, hours=hours, calendar=calendar)
    assert [(g[0].astimezone(ZONE).time(), g[1].astimezone(ZONE).time()) for g in b.gaps] == [
        (dt.time(7), dt.time(14, 30))]
    after_midnight = dt.datetime(2026, 12, 5, 0, 30, tzinfo=ZONE)  # Friday's night shift, on a Saturday
    assert on_duty(late, after_midnight, calendar) and not on_duty(early, after_midnight, calendar)
    assert uncovered_at(shifts=[early, late], cells=["A", "B"], at=after_midnight, calendar=calendar) == []
    assert len(coverage_gaps(shifts=[early, late], cells=["A", "B"], day=saturday, hours=hours, calendar=calendar)) == 2
    national_day = dt.date(2026, 10, 1)  # a Thursday, a public holiday: the 工作日 shift does not run, 1-5 does
    assert not on_duty(early, dt.datetime(2026, 10, 1, 9, tzinfo=ZONE), calendar)
    assert on_duty(late, dt.datetime(2026, 10, 1, 15, tzinfo=ZONE), calendar) and national_day.isoweekday() == 4
