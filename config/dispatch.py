"""Case-loop rules and the work calendar that deadlines count in."""
import datetime as dt

from pydantic import Field, field_validator

from config.base import StrictModel


class DispatchConfig(StrictModel):
    categories_file: str = Field("config/categories.yaml", description="the category table")
    signoff_file: str = Field("config/signoff.yaml", description="steps that need an approver's sign-off (签批)")
    review_file: str = Field("config/review.yaml", description="review checks (评查): penalty results, legal provisions")
    merge_radius_m: float = Field(50, ge=0, le=5000, description="merge distance to an open case; 0 = never merge")
    merge_window_h: float = Field(24, ge=0, le=24 * 30, description="merge time window in hours")
    auto_register: bool = Field(False, description="register a located case at intake")
    auto_dispatch: bool = Field(False, description="dispatch a registered case to its squad at once")
    review_detections: bool = Field(
        True, description="a camera or drone case waits for a dispatcher's confirm or reject before it is registered")
    overdue_check_s: float = Field(60, ge=1, le=3600, description="overdue check period in seconds")


class CalendarConfig(StrictModel):
    timezone: str = Field("Asia/Shanghai", description="the bureau's local time zone")
    work_periods: list[tuple[dt.time, dt.time]] = Field(
        [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))],
        description="the working day in local time",
    )
    weekend: list[int] = Field([5, 6], description="weekly days off, 0 = Monday")
    china_public_holidays: bool = Field(
        True, description="China's public holidays and adjusted working days (调休) from the chinesecalendar package, "
                          "for the years it covers; holidays and extra_workdays below take precedence")
    holidays: list[dt.date] = Field([], description="extra days off (beyond the national holidays)")
    extra_workdays: list[dt.date] = Field([], description="extra days worked (beyond the national 调休)")

    @field_validator("work_periods")
    @classmethod
    def periods_ordered(cls, periods: list[tuple[dt.time, dt.time]]) -> list[tuple[dt.time, dt.time]]:
        ends = [t for period in periods for t in period]
        if not periods or ends != sorted(ends) or any(start >= end for start, end in periods):
            raise ValueError("work_periods must be non-empty, each start before its end, in order")
        return periods

    @field_validator("weekend")
    @classmethod
    def weekdays(cls, days: list[int]) -> list[int]:
        if any(not 0 <= d <= 6 for d in days):
            raise ValueError("weekend days are 0 (Monday) to 6 (Sunday)")
        return days
