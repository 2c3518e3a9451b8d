import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.dispatch import CalendarConfig
from dispatch.calendar import WorkCalendar

CST = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar(CalendarConfig(holidays=[dt.date(2026, 10, 1)], extra_workdays=[dt.date(2026, 10, 10)]))


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (local(2026, 11, 20, 17), 4, local(2026, 11, 23, 12)),      # Friday 17:00: 1 h Friday, 3 h Monday
        (local(2026, 11, 18, 10), 1, local(2026, 11, 18, 11)),      # inside the morning
        (local(2026, 11, 18, 11), 2, local(2026, 11, 18, 14)),      # across the lunch break
        (local(2026, 11, 18, 7), 1, local(2026, 11, 18, 10)),       # before work: counts from 09:00
        (local(2026, 11, 18, 20), 1, local(2026, 11, 19, 10)),      # after work: next morning
        (local(2026, 11, 21, 10), 2, local(2026, 11, 23, 11)),      # Saturday: Monday
        (local(2026, 9, 30, 17), 2, local(2026, 10, 2, 10)),        # 1 Oct is a holiday
        (local(2026, 10, 9, 17), 2, local(2026, 10, 10, 10)),       # Saturday 10 Oct is worked (调休)
        (local(2026, 11, 18, 12), 0, local(2026, 11, 18, 13)),      # zero hours at lunch: when work resumes
    ],
)
def test_deadline_counts_working_hours(start: dt.datetime, hours: float, due: dt.datetime) -> None:
    assert CALENDAR.add_hours(start, hours) == due


def test_deadline_is_utc() -> None:
    due = CALENDAR.add_hours(local(2026, 11, 20, 17), 4)
    assert due.tzinfo == dt.timezone.utc and due.hour == 4


@settings(max_examples=200)
@given(
    start=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)),
    hours=st.floats(min_value=0.25, max_value=80),
)
def test_hours_between_inverts_add_hours(start: dt.datetime, hours: float) -> None:
    start = start.replace(tzinfo=CST)
    due = CALENDAR.add_hours(start, hours)
    assert due > start
    assert CALENDAR.working_hours_between(start, due) == pytest.approx(hours, abs=1e-6)


def test_calendar_without_working_time_is_refused() -> None:
    every_day_off = WorkCalendar(CalendarConfig(weekend=[0, 1, 2, 3, 4, 5, 6]))
    with pytest.raises(ValueError, match="no 1 working hours"):
        every_day_off.add_hours(local(2026, 11, 18, 10), 1)
