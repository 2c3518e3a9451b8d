"""Patrols: start and end, positions (stored once per phone timestamp), check-ins, where officers are now."""
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from config.patrol import PatrolConfig
from dispatch.account.models import User
from dispatch.errors import DispatchError, InputError
from dispatch.patrol.models import MICRODEGREES, CheckIn, Patrol, PatrolPosition
from dispatch.patrol.roster import beat_of
from grid.cells import UnitGrid


MOST_SKEW_MS = 3_600_000  # patrol.clock_skew_s is at most an hour: no position of a patrol is older than its start - this


class NotOnPatrol(DispatchError):
    """The officer has no patrol running: nothing of where they are is taken (HTTP 409)."""


def open_patrol(session: Session, user_id: int) -> Patrol | None:
    return session.scalars(select(Patrol).where(Patrol.user_id == user_id, Patrol.ended_at.is_(None))
                           .order_by(Patrol.id.desc())).first()


def start_patrol(*, session: Session, user: User, now: dt.datetime) -> Patrol:
    """A new patrol, or the one already running (a second tap, another tab)."""
    running = open_patrol(session, user.id)
    if running is not None:
        return running
    patrol = Patrol(user_id=user.id, squad_code=user.squad_code, started_at=now)
    session.add(patrol)
    session.flush()
    return patrol


def end_patrol(*, session: Session, user: User, now: dt.datetime) -> Patrol:
    patrol = open_patrol(session, user.id)
    if patrol is None:
        raise NotOnPatrol("no patrol is running")
    patrol.ended_at = now
    session.flush()
    return patrol


@dataclass(frozen=True)
class PositionsTaken:
    accepted: int  # new rows
    duplicates: int  # (officer, timestamp) already stored
    outside: int  # not within a patrol of this officer: dropped
    latest: dict[str, Any] | None  # the newest position of the batch, as pushed to the map


def to_ms(at: dt.datetime) -> int:
    return round(at.timestamp() * 1000)


def from_ms(t_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t_ms / 1000, dt.timezone.utc)


def patrol_for(patrols: list[Row], t_ms: int, now: dt.datetime, skew_ms: int) -> Row | None:
    """The patrol (id, started_at, ended_at) whose time, widened by the clock skew, holds `t_ms`."""
    for patrol in patrols:
        end = patrol.ended_at or now
        if to_ms(patrol.started_at) - skew_ms <= t_ms <= to_ms(end) + skew_ms:
            return patrol
    return None


def add_positions(*, session: Session, user: User, points: list[dict[str, Any]], now: dt.datetime,
                  config: PatrolConfig) -> PositionsTaken:
    """Store a phone's positions [{at, lon, lat, accuracy}], each in the patrol of its time; resent ones once."""
    skew_ms = round(config.clock_skew_s * 1000)
    times = sorted(to_ms(point["at"]) for point in points)
    table = Patrol.__table__  # Core rows (id, started_at, ended_at): a phone's fix builds no ORM objects
    patrols = list(session.execute(select(table.c.id, table.c.started_at, table.c.ended_at).where(
        table.c.user_id == user.id, table.c.started_at <= from_ms(times[-1] + skew_ms),
        (table.c.ended_at.is_(None)) | (table.c.ended_at >= from_ms(times[0] - skew_ms)))))
    rows: dict[int, dict[str, Any]] = {}
    for point in points:
        t_ms = to_ms(point["at"])
        patrol = patrol_for(patrols, t_ms, now, skew_ms)
        if patrol is not None:
            rows[t_ms] = {"user_id": user.id, "t_ms": t_ms, "patrol_id": patrol.id,
                          "lon_u": round(point["lon"] * MICRODEGREES), "lat_u": round(point["lat"] * MICRODEGREES),
                          "accuracy_m": min(round(point["accuracy"]), 32767) if point.get("accuracy") is not None else None}
    if not rows and open_patrol(session, user.id) is None:
        raise NotOnPatrol("no patrol is running: positions are taken during a patrol only")
    accepted = insert_new(session, list(rows.values()))
    latest = None
    if rows:
        newest = rows[max(rows)]
        latest = position_message(user=user, t_ms=newest["t_ms"], lon_u=newest["lon_u"], lat_u=newest["lat_u"],
                                  patrol_id=newest["patrol_id"])
    return PositionsTaken(accepted=accepted, duplicates=len(rows) - accepted, outside=len(points) - len(rows),
                          latest=latest)


def insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose (officer, timestamp) is not stored yet; how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None
    if make is None:
        raise RuntimeError(f"positions need PostgreSQL or SQLite, not {dialect}")
    # A Core statement on the table, compiled once and cached: the rows go as parameters (SQLAlchemy sends a batch as
    # one multi-row INSERT), and only the new ones come back (a batch is at most patrol.max_batch rows).
    table = PatrolPosition.__table__
    statement = make(table).on_conflict_do_nothing(index_elements=["user_id", "t_ms"]).returning(table.c.t_ms)
    return len(session.execute(statement, rows).all())


def position_message(*, user: User, t_ms: int, lon_u: int, lat_u: int, patrol_id: int) -> dict[str, Any]:
    """What a leader's or the centre's map gets: who, where, when."""
    return {"user_id": user.id, "username": user.username, "name": user.display_name, "squad_code": user.squad_code,
            "patrol_id": patrol_id, "at": from_ms(t_ms).isoformat(), "lon": lon_u / MICRODEGREES,
            "lat": lat_u / MICRODEGREES}


def check_in(*, session: Session, user: User, lon: float, lat: float, at: dt.datetime,
             grid: UnitGrid | None) -> CheckIn:
    """巡查签到 at a WGS-84 point: its cell and whether that cell is in the officer's beat."""
    patrol = open_patrol(session, user.id)
    if patrol is None:
        raise NotOnPatrol("check in during a patrol: start one first")
    cell_code = grid.locate_one(lon, lat) if grid is not None else None
    if cell_code is None:
        raise InputError("location", "the position is outside the city grid", key="outside_grid")
    entry = CheckIn(user_id=user.id, patrol_id=patrol.id, at=at, lon=lon, lat=lat, cell_code=cell_code,
                    in_beat=cell_code in beat_of(session, user.id))
    session.add(entry)
    session.flush()
    return entry


def latest_positions(session: Session, patrols: list[Patrol]) -> dict[int, PatrolPosition]:
    """Each running patrol's newest position (by patrol id), read along the (officer, time) key: two queries."""
    if not patrols:
        return {}
    since = to_ms(min(p.started_at for p in patrols)) - MOST_SKEW_MS
    newest = session.execute(select(PatrolPosition.user_id, func.max(PatrolPosition.t_ms)).where(
        PatrolPosition.user_id.in_([p.user_id for p in patrols]), PatrolPosition.t_ms >= since)
        .group_by(PatrolPosition.user_id)).all()
    if not newest:
        return {}
    rows = session.scalars(select(PatrolPosition).where(
        tuple_(PatrolPosition.user_id, PatrolPosition.t_ms).in_([tuple(row) for row in newest])))
    running = {p.id for p in patrols}
    return {row.patrol_id: row for row in rows if row.patrol_id in running}


def officers_on_patrol(*, session: Session, squad_code: str | None,
                       user_id: int | None = None) -> list[dict[str, Any]]:
    """Officers with a patrol running (in one squad, or all; or one officer) and their newest position, if any yet."""
    query = select(Patrol, User).join(User, User.id == Patrol.user_id).where(Patrol.ended_at.is_(None))
    if squad_code is not None:
        query = query.where(Patrol.squad_code == squad_code)
    if user_id is not None:
        query = query.where(Patrol.user_id == user_id)
    running = session.execute(query.order_by(User.username)).all()
    last = latest_positions(session, [patrol for patrol, _ in running])
    found = []
    for patrol, user in running:
        point = last.get(patrol.id)
        found.append({"user_id": user.id, "username": user.username, "name": user.display_name,
                      "squad_code": user.squad_code, "patrol_id": patrol.id, "started_at": patrol.started_at,
                      "position": position_message(user=user, t_ms=point.t_ms, lon_u=point.lon_u, lat_u=point.lat_u,
                                                   patrol_id=patrol.id) if point else None})
    return found


def positions_between(session: Session, user_id: int, since: dt.datetime, until: dt.datetime) -> list[PatrolPosition]:
    """An officer's stored positions in [since, until), in the phone's time order."""
    return list(session.scalars(select(PatrolPosition).where(
        PatrolPosition.user_id == user_id, PatrolPosition.t_ms >= to_ms(since), PatrolPosition.t_ms < to_ms(until))
        .order_by(PatrolPosition.t_ms)))


def check_ins_between(session: Session, user_ids: list[int], since: dt.datetime, until: dt.datetime) -> list[CheckIn]:
    return list(session.scalars(select(CheckIn).where(CheckIn.user_id.in_(user_ids), CheckIn.at >= since,
                                                      CheckIn.at < until).order_by(CheckIn.at, CheckIn.id)))


def track(*, session: Session, user: User, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """An officer's positions and check-ins in a period (a day, for the replay), each patrol a line of its own."""
    lines: dict[int, list[list[float]]] = {}
    times: dict[int, list[str]] = {}
    for point in positions_between(session, user.id, since, until):
        lines.setdefault(point.patrol_id, []).append([point.lon_u / MICRODEGREES, point.lat_u / MICRODEGREES])
        times.setdefault(point.patrol_id, []).append(from_ms(point.t_ms).isoformat())
    return {"user_id": user.id, "username": user.username, "name": user.display_name,
            "patrols": [{"patrol_id": pid, "coordinates": coords, "times": times[pid]} for pid, coords in lines.items()],
            "check_ins": [{"at": c.at, "lon": c.lon, "lat": c.lat, "cell_code": c.cell_code, "in_beat": c.in_beat}
                          for c in check_ins_between(session, [user.id], since, until)]}


def purge_positions(*, session: Session, now: dt.datetime, retention_days: int) -> int:
    """Delete positions older than the retention period; how many went."""
    cutoff = to_ms(now - dt.timedelta(days=retention_days))
    return session.execute(delete(PatrolPosition).where(PatrolPosition.t_ms < cutoff)).rowcount


def position_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PatrolPosition)) or 0
