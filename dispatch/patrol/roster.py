"""Rosters: which days a shift runs, who is on duty when, and the cells nobody covers (错时全时覆盖)."""
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch.account.models import User
from dispatch.calendar import WorkCalendar
from dispatch.errors import InputError
from dispatch.patrol.models import RosterShift
from dispatch.squad.models import Cell

# A shift's days: the work calendar's working days (调休 included, holidays off), its days off, every day, or weekdays
# by number (1 = Monday … 7 = Sunday) as a list and ranges, "1-5" or "6,7".
WORKDAYS, RESTDAYS, DAILY = "workdays", "restdays", "daily"
DAY_WORDS = {"workdays": WORKDAYS, "工作日": WORKDAYS, "restdays": RESTDAYS, "休息日": RESTDAYS, "节假日": RESTDAYS,
             "daily": DAILY, "每天": DAILY, "每日": DAILY}
WEEKDAY_LIST = re.compile(r"^[1-7](?:-[1-7])?(?:,[1-7](?:-[1-7])?)*$")
Interval = tuple[dt.datetime, dt.datetime]


class RowProblem(ValueError):
    """A roster value that cannot be taken: `code` (the pages' words for it, roster_problem.<code>) and its `params`;
    the message is English."""

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


# (row number, field, problem) of one bad value
Problem = tuple[int, str, RowProblem]


def parse_days(text: str) -> str:
    """The canonical form of a shift's days, or a RowProblem saying what is accepted."""
    cleaned = str(text).strip().replace("，", ",").replace("、", ",").replace("～", "-").replace("~", "-").replace(" ", "")
    if cleaned.lower() in DAY_WORDS:
        return DAY_WORDS[cleaned.lower()]
    if WEEKDAY_LIST.match(cleaned):
        return cleaned
    raise RowProblem("days", f"'{text}' is not workdays/工作日, restdays/休息日, daily/每天 or weekdays 1-7 such as "
                     "1-5 or 6,7", value=str(text))


def weekdays_of(days: str) -> set[int]:
    """The ISO weekdays (1-7) of a weekday list such as "1-3,6"."""
    found: set[int] = set()
    for part in days.split(","):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return found


def runs_on(days: str, day: dt.date, calendar: WorkCalendar) -> bool:
    if days == DAILY:
        return True
    if days in (WORKDAYS, RESTDAYS):
        return calendar.is_workday(day) == (days == WORKDAYS)
    return day.isoweekday() in weekdays_of(days)


def shift_intervals(shift: RosterShift, day: dt.date, calendar: WorkCalendar) -> list[Interval]:
    """The instants of `day` (local) the shift covers: its own run that day and the night run of the day before."""
    zone = calendar.zone
    begin_of_day = dt.datetime.combine(day, dt.time(), zone)
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    found = []
    for start_day in (day - dt.timedelta(days=1), day):
        if not runs_on(shift.days, start_day, calendar):
            continue
        start = dt.datetime.combine(start_day, shift.start, zone)
        end_day = start_day + dt.timedelta(days=1) if shift.end <= shift.start else start_day
        end = dt.datetime.combine(end_day, shift.end, zone)
        start, end = max(start, begin_of_day), min(end, end_of_day)
        if start < end:
            found.append((start, end))
    return found


def on_duty(shift: RosterShift, at: dt.datetime, calendar: WorkCalendar) -> bool:
    local = at.astimezone(calendar.zone)
    return any(start <= local < end for start, end in shift_intervals(shift, local.date(), calendar))


def subtract(wanted: Interval, covered: Iterable[Interval]) -> list[Interval]:
    """The parts of `wanted` no interval of `covered` overlaps."""
    gaps, cursor = [], wanted[0]
    for start, end in sorted(covered):
        if end <= cursor or start >= wanted[1]:
            continue
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < wanted[1]:
        gaps.append((cursor, wanted[1]))
    return gaps


@dataclass(frozen=True)
class CellGaps:
    cell_code: str
    gaps: list[Interval]


def coverage_gaps(*, shifts: list[RosterShift], cells: list[str], day: dt.date, hours: list[tuple[dt.time, dt.time]],
                  calendar: WorkCalendar) -> list[CellGaps]:
    """Each cell of `cells` with the stretches of the configured `hours` of `day` in which nobody is on duty there."""
    covering: dict[str, list[Interval]] = {code: [] for code in cells}
    for shift in shifts:
        intervals = shift_intervals(shift, day, calendar)
        for code in shift.cells:
            if code in covering:
                covering[code].extend(intervals)
    zone = calendar.zone
    wanted = [(dt.datetime.combine(day, start, zone), dt.datetime.combine(day, end, zone)) for start, end in hours]
    found = []
    for code in cells:
        gaps = [gap for period in wanted for gap in subtract(period, covering[code])]
        if gaps:
            found.append(CellGaps(code, gaps))
    return found


def uncovered_at(*, shifts: list[RosterShift], cells: list[str], at: dt.datetime, calendar: WorkCalendar) -> list[str]:
    """The cells of `cells` nobody is on duty in at the instant `at`."""
    covered = {code for shift in shifts if on_duty(shift, at, calendar) for code in shift.cells}
    return [code for code in cells if code not in covered]


def squad_shifts(session: Session, squad_code: str) -> list[RosterShift]:
    return list(session.scalars(select(RosterShift).where(RosterShift.squad_code == squad_code)
                                .order_by(RosterShift.user_id, RosterShift.start, RosterShift.id)))


def squad_cells(session: Session, squad_code: str) -> list[str]:
    return list(session.scalars(select(Cell.code).where(Cell.squad_code == squad_code).order_by(Cell.code)))


def beat_of(session: Session, user_id: int) -> set[str]:
    """Every cell an officer's roster rows give them (their beat, 责任区)."""
    return {code for cells in session.scalars(select(RosterShift.cells).where(RosterShift.user_id == user_id))
            for code in cells}


@dataclass(frozen=True)
class ShiftIn:
    """One validated roster row, before it is stored."""

    username: str
    label: str
    days: str
    start: dt.time
    end: dt.time
    cells: list[str]


class RosterRejected(InputError):
    """Roster rows that cannot be taken, each (row number, field, problem); nothing of the roster is stored."""

    def __init__(self, problems: list[Problem]) -> None:
        row, field, _ = problems[0]
        said = "; ".join(f"row {number} {name}: {problem}" for number, name, problem in problems)
        super().__init__(f"row {row}.{field}", said, key="roster_rejected")
        self.params = {"row": row, "field": field,
                       "problems": [{"row": number, "field": name, "message": str(problem), "code": problem.code,
                                     "params": problem.params} for number, name, problem in problems]}


def replace_roster(*, session: Session, squad_code: str, rows: list[ShiftIn], numbers: list[int]) -> list[RosterShift]:
    """The squad's roster becomes `rows` (all or nothing); `numbers[i]` is row i's number in the caller's file."""
    users = {user.username: user for user in session.scalars(select(User).where(User.squad_code == squad_code))}
    own_cells = set(squad_cells(session, squad_code))
    problems: list[Problem] = []
    for row, number in zip(rows, numbers):
        if row.username not in users:
            problems.append((number, "officer", RowProblem(
                "not_member", f"'{row.username}' is not a member of squad {squad_code}", officer=row.username,
                squad=squad_code)))
        outside = ", ".join([code for code in row.cells if code not in own_cells][:5])
        if outside:
            problems.append((number, "cells", RowProblem(
                "cells_outside", f"not cells of squad {squad_code}: {outside}", cells=outside, squad=squad_code)))
        if not row.cells:
            problems.append((number, "cells", RowProblem("no_cells", "a roster row needs at least one cell")))
    if problems:
        raise RosterRejected(problems)
    session.execute(delete(RosterShift).where(RosterShift.squad_code == squad_code))
    stored = [RosterShift(squad_code=squad_code, user_id=users[row.username].id, label=row.label, days=row.days,
                          start=row.start, end=row.end, cells=list(dict.fromkeys(row.cells))) for row in rows]
    session.add_all(stored)
    session.flush()
    return stored
