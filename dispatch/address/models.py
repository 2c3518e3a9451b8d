"""Standard addresses with their places, and the candidates offered for a ticket located by hand."""
from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base


class StandardAddress(Base):
    __tablename__ = "standard_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(300), unique=True)
    key: Mapped[str] = mapped_column(String(300), index=True)  # normalised: no admin prefix, Arabic numbers
    lon: Mapped[float] = mapped_column(Float)  # WGS-84
    lat: Mapped[float] = mapped_column(Float)


class AddressCandidate(Base):
    """A standard address that may be where an unlocated ticket is, best first."""

    __tablename__ = "address_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(300))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
