"""A ticket: one report from one source, kept as received."""
import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime

if TYPE_CHECKING:
    from dispatch.case.models import Case, Evidence


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(300))
    # As received, in the CRS it came in; lon/lat are the WGS-84 conversion used for lookup.
    input_lon: Mapped[float | None] = mapped_column(Float)
    input_lat: Mapped[float | None] = mapped_column(Float)
    input_crs: Mapped[str | None] = mapped_column(String(8))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    cell_code: Mapped[str | None] = mapped_column(String(32))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), index=True)
    unlocated_reason: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    raw: Mapped[dict] = mapped_column(JSON)
    # Open311: who filed it over the API (their api_key sees it), and whether the city lists it publicly.
    filed_by: Mapped[str | None] = mapped_column(String(80), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    case: Mapped["Case | None"] = relationship(back_populates="tickets")
    evidence: Mapped[list["Evidence"]] = relationship(order_by="Evidence.id", back_populates="ticket")
