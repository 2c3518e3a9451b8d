"""Squads (执法中队) and the unit grid cells (单元网格) they answer for."""
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base


class Squad(Base):
    __tablename__ = "squads"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str | None] = mapped_column(String(12))


class Cell(Base):
    __tablename__ = "cells"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), index=True)
    squad_code: Mapped[str] = mapped_column(ForeignKey("squads.code"), index=True)
    geometry: Mapped[dict] = mapped_column(JSON)  # GeoJSON geometry, WGS-84
