"""A daily anchor: one hash over every case's chain head at the end of a local day."""
import datetime as dt

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime


class AuditAnchor(Base):
    """Rows are only ever inserted (a database trigger refuses the rest)."""

    __tablename__ = "audit_anchors"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the bureau's local day
    heads_hash: Mapped[str] = mapped_column(String(64))
    case_count: Mapped[int] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
