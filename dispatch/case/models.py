"""A case (案件) and its append-only timeline."""
import datetime as dt

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime
from dispatch.ticket.models import Ticket


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    lon: Mapped[float] = mapped_column(Float)  # WGS-84
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    cell_code: Mapped[str] = mapped_column(ForeignKey("cells.code"), index=True)
    squad_code: Mapped[str] = mapped_column(ForeignKey("squads.code"), index=True)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handling_result: Mapped[str | None] = mapped_column(String(20))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # A camera or drone case's review (ReviewStatus); None for cases that need none.
    review_status: Mapped[str | None] = mapped_column(String(12), index=True)
    # The vehicle's plate (dispatch/plates): text, colour, confidence, where it came from (camera, drone, hotline,
    # dispatcher), why a camera read none; the first-offence suggestion (a handling result) it led to.
    plate: Mapped[str | None] = mapped_column(String(10), index=True)
    plate_colour: Mapped[str | None] = mapped_column(String(8))
    plate_confidence: Mapped[float | None] = mapped_column(Float)
    plate_source: Mapped[str | None] = mapped_column(String(12))
    plate_note: Mapped[str | None] = mapped_column(String(300))
    leniency: Mapped[str | None] = mapped_column(String(20))
    # The officer the centre dispatched it to by name (their tasks list it first); None = the squad as a whole.
    assigned_to: Mapped[str | None] = mapped_column(String(64), index=True)

    tickets: Mapped[list[Ticket]] = relationship(order_by=Ticket.id, back_populates="case")
    events: Mapped[list["CaseEvent"]] = relationship(order_by="CaseEvent.id", back_populates="case")


class CaseEvent(Base):
    """One step of a case's history. Rows are only ever inserted (a database trigger refuses the rest)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))  # the hash of the case's row before this one
    hash: Mapped[str] = mapped_column(String(64))  # SHA-256 over this row's fields and prev_hash (dispatch.audit)

    case: Mapped[Case] = relationship(back_populates="events")


class Evidence(Base):
    """A photo or file backing a ticket (camera frames, officers' result photos)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    uri: Mapped[str] = mapped_column(String(500))
    caption: Mapped[str | None] = mapped_column(String(200))
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the photo's own time when known
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # officers' uploads: when it arrived
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    exif: Mapped[dict | None] = mapped_column(JSON)  # what the phone's EXIF said: time, position, size
    # On an unannotated camera frame: the detected object's box, pixel [x1, y1, x2, y2] (a training sample).
    box_xyxy: Mapped[list[float] | None] = mapped_column(JSON)

    ticket: Mapped[Ticket | None] = relationship(back_populates="evidence")
    case: Mapped[Case | None] = relationship()
