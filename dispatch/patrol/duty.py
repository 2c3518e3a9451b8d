"""The duty log (个人勤务台账): per officer and period, figures computed from positions, check-ins and the timeline."""
import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.account.enums import Role
from dispatch.account.models import User
from dispatch.case.enums import EventKind
from dispatch.case.models import Case, CaseEvent
from dispatch.patrol.models import MICRODEGREES, Patrol
from dispatch.patrol.service import check_ins_between, positions_between
from dispatch.ticket.enums import TicketSource
from dispatch.ticket.models import Ticket
from grid.geodesy import haversine_m

PERIODS = ("day", "week", "month")


def period_bounds(period: str, day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The local day, the week (Monday first) or the month holding `day`, as instants [since, until)."""
    if period == "day":
        first, last = day, day + dt.timedelta(days=1)
    elif period == "week":
        first = day - dt.timedelta(days=day.weekday())
        last = first + dt.timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime.combine(first, dt.time(), zone), dt.datetime.combine(last, dt.time(), zone)


def patrol_finder_prefix(user_id: int) -> str:
    """A patrol find's ticket id starts with its officer's: the find counts for them."""
    return f"u{user_id}-"


@dataclass
class DutyRow:
    patrol_s: float = 0.0
    distance_m: float = 0.0
    check_ins_in_beat: int = 0
    check_ins_outside: int = 0
    cases_found: int = 0
    cases_handled: int = 0
    handled_on_time: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.handled_on_time / self.cases_handled if self.cases_handled else None

    def add(self, other: "DutyRow") -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def view(self) -> dict[str, Any]:
        return {**asdict(self), "patrol_s": round(self.patrol_s), "distance_m": round(self.distance_m, 1),
                "on_time_rate": self.on_time_rate}


def patrol_seconds(session: Session, user_id: int, since: dt.datetime, until: dt.datetime, now: dt.datetime) -> float:
    patrols = session.scalars(select(Patrol).where(Patrol.user_id == user_id, Patrol.started_at < until,
                                                   (Patrol.ended_at.is_(None)) | (Patrol.ended_at > since)))
    return sum(max(0.0, (min(p.ended_at or now, until, now) - max(p.started_at, since)).total_seconds())
               for p in patrols)


def distance(session: Session, user_id: int, since: dt.datetime, until: dt.datetime) -> float:
    """Metres walked: the positions of each patrol joined in the phone's time order."""
    total, previous = 0.0, None
    for point in positions_between(session, user_id, since, until):
        here = (point.patrol_id, point.lon_u / MICRODEGREES, point.lat_u / MICRODEGREES)
        if previous is not None and previous[0] == here[0]:
            total += float(haversine_m(previous[1], previous[2], here[1], here[2]))
        previous = here
    return total


def officer_row(session: Session, user: User, since: dt.datetime, until: dt.datetime, now: dt.datetime) -> DutyRow:
    row = DutyRow(patrol_s=patrol_seconds(session, user.id, since, until, now),
                  distance_m=distance(session, user.id, since, until))
    for entry in check_ins_between(session, [user.id], since, until):
        if entry.in_beat:
            row.check_ins_in_beat += 1
        else:
            row.check_ins_outside += 1
    found = session.scalars(select(Ticket.case_id).where(
        Ticket.source == TicketSource.PATROL.value, Ticket.external_id.startswith(patrol_finder_prefix(user.id)),
        Ticket.received_at >= since, Ticket.received_at < until))
    row.cases_found = len(set(found))
    handled = session.execute(select(CaseEvent.at, Case.deadline_at).join(Case, Case.id == CaseEvent.case_id).where(
        CaseEvent.kind == EventKind.HANDLED.value, CaseEvent.actor == user.username, CaseEvent.at >= since,
        CaseEvent.at < until)).all()
    row.cases_handled = len(handled)
    row.handled_on_time = sum(1 for at, deadline in handled if deadline is None or at <= deadline)
    return row


def duty_log(*, session: Session, squad_codes: list[str], since: dt.datetime, until: dt.datetime,
             now: dt.datetime) -> list[dict[str, Any]]:
    """Per squad: each officer's row and the squad's sum."""
    squads = []
    for squad_code in squad_codes:
        members = session.scalars(select(User).where(User.squad_code == squad_code, User.active.is_(True),
                                                     User.role.in_([Role.OFFICER.value, Role.SQUAD_LEADER.value]))
                                  .order_by(User.username))
        total, officers = DutyRow(), []
        for user in members:
            row = officer_row(session, user, since, until, now)
            total.add(row)
            officers.append({"user_id": user.id, "username": user.username, "name": user.display_name,
                             "role": user.role, **row.view()})
        squads.append({"squad_code": squad_code, "officers": officers, "total": total.view()})
    return squads
