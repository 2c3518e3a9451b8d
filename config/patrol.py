"""Patrol and duty: how often phones send positions, how long they are kept, the hours every cell needs someone."""
import datetime as dt

from pydantic import Field, field_validator

from config.base import StrictModel


class PatrolConfig(StrictModel):
    position_interval_s: float = Field(15, ge=1, le=600, description="how often a phone on patrol sends its position")
    retention_days: int = Field(90, ge=1, le=3650, description="positions older than this many days are deleted")
    retention_check_h: float = Field(6, ge=0.01, le=168, description="how often old positions are deleted, in hours")
    clock_skew_s: float = Field(
        300, ge=0, le=3600, description="a position this many seconds outside its patrol's time still belongs to it")
    push_batch_s: float = Field(
        0.5, ge=0, le=10, description="live positions go to each watching room as one list at most this often (0: each "
                                      "at once)")
    max_batch: int = Field(500, ge=1, le=5000, description="most positions one request may carry (a phone's backlog)")
    coverage_hours: list[tuple[dt.time, dt.time]] = Field(
        [(dt.time(7), dt.time(22))], description="local hours in which every cell should have an officer on duty")
    coverage_days: int = Field(7, ge=1, le=62, description="days ahead a roster's coverage is checked for gaps")

    @field_validator("coverage_hours")
    @classmethod
    def hours_ordered(cls, hours: list[tuple[dt.time, dt.time]]) -> list[tuple[dt.time, dt.time]]:
        ends = [t for period in hours for t in period]
        if not hours or ends != sorted(ends) or any(start >= end for start, end in hours):
            raise ValueError("coverage_hours must be non-empty, each start before its end, in order")
        return hours
