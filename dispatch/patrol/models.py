"""Roster rows (an officer's beat and hours), patrols, their positions and check-ins."""
import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, SmallInteger, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime

MICRODEGREES = 1_000_000  # positions keep WGS-84 degrees as integers of 1e-6 degree (about 0.1 m)


class RosterShift(Base):
    """五定一包: this officer holds these cells (the beat) in these hours on these days."""

    __tablename__ = "roster_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    squad_code: Mapped[str] = mapped_column(ForeignKey("squads.code"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))  # the shift's name on the roster (早班, 晚班 …)
    days: Mapped[str] = mapped_column(String(40))  # workdays, restdays, daily, or weekdays 1-7 (dispatch/patrol/roster.py)
    start: Mapped[dt.time] = mapped_column(Time)  # local time; an end at or before the start runs past midnight
    end: Mapped[dt.time] = mapped_column(Time)
    cells: Mapped[list] = mapped_column(JSON)  # the beat: unit grid cell codes


class Patrol(Base):
    """One patrol of one officer, from start to end; positions are taken only inside one."""

    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    squad_code: Mapped[str] = mapped_column(ForeignKey("squads.code"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PatrolPosition(Base):
    """A phone's position: one row per (officer, the phone's own timestamp), so a resent one is stored once."""

    __tablename__ = "patrol_positions"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    t_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # the phone's time, Unix milliseconds
    patrol_id: Mapped[int] = mapped_column(Integer)  # no index of its own: reads go by officer and time (the key)
    lon_u: Mapped[int] = mapped_column(Integer)  # WGS-84 longitude in 1e-6 degrees
    lat_u: Mapped[int] = mapped_column(Integer)
    accuracy_m: Mapped[int | None] = mapped_column(SmallInteger)


class CheckIn(Base):
    """巡查签到: where an officer checked in, the cell it falls in and whether that is in the officer's beat."""

    __tablename__ = "patrol_check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    cell_code: Mapped[str | None] = mapped_column(String(32))
    in_beat: Mapped[bool] = mapped_column(Boolean)
