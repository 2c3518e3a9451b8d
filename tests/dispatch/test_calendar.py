import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.dispatch import CalendarConfig
from dispatch.calendar import WorkCalendar

CST = ZoneInfo("Asia/Shanghai")
# The hand-listed days alone (no national calendar), so each case below shows one rule.
CALENDAR = WorkCalendar(CalendarConfig(holidays=[dt.date(2026, 10, 1)], extra_workdays=[dt.date(2026, 10, 10)],
                                       china_public_holidays=False))
NATIONAL = WorkCalendar(CalendarConfig())


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


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (local(2026, 9, 30, 17), 2, local(2026, 10, 8, 10)),        # National Day week: 1-7 Oct off
        (local(2026, 10, 9, 17), 2, local(2026, 10, 10, 10)),       # Saturday 10 Oct is worked (调休)
        (local(2026, 9, 24, 17), 2, local(2026, 9, 28, 10)),        # Mid-autumn 25-27 Sep off
        (local(2026, 9, 18, 17), 2, local(2026, 9, 20, 10)),        # Sunday 20 Sep is worked (调休)
        (local(2026, 2, 13, 17), 2, local(2026, 2, 14, 10)),        # Saturday 14 Feb worked before Spring Festival
        (local(2026, 2, 14, 17), 2, local(2026, 2, 24, 10)),        # Spring Festival 15-23 Feb off
    ],
)
def test_national_holidays_and_adjusted_workdays(start: dt.datetime, hours: float, due: dt.datetime) -> None:
    assert NATIONAL.add_hours(start, hours) == due


def test_local_days_override_the_national_calendar() -> None:
    calendar = WorkCalendar(CalendarConfig(holidays=[dt.date(2026, 11, 18)], extra_workdays=[dt.date(2026, 10, 2)]))
    assert not calendar.is_workday(dt.date(2026, 11, 18))   # a Wednesday the city gives off
    assert calendar.is_workday(dt.date(2026, 10, 2))        # a national holiday the city works


def test_a_year_the_package_does_not_know_falls_back_to_weekends(caplog) -> None:
    calendar = WorkCalendar(CalendarConfig())
    far = dt.date(2099, 1, 1)  # a Thursday
    assert calendar.is_workday(far) and not calendar.is_workday(dt.date(2099, 1, 3))
    assert sum("no public holidays for 2099" in record.getMessage() for record in caplog.records) == 1
