"""Working-hour arithmetic (工作时): deadlines count only hours of working days."""
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import chinese_calendar

from config.dispatch import CalendarConfig

MAX_DAYS_AHEAD = 366
log = logging.getLogger(__name__)


class WorkCalendar:
    """Adds working hours to an instant.

    >>> cal = WorkCalendar(CalendarConfig())   # 09-12, 13-18, weekends off
    >>> cal.add_hours(friday_17h, 4)           # 1 h on Friday, 3 h on Monday -> Monday 12:00
    """

    def __init__(self, config: CalendarConfig) -> None:
        self.zone = ZoneInfo(config.timezone)
        self.periods = config.work_periods
        self.weekend = set(config.weekend)
        self.holidays = set(config.holidays)
        self.extra_workdays = set(config.extra_workdays)
        self.china_public_holidays = config.china_public_holidays
        self._years_unknown: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        national = self._national_workday(day) if self.china_public_holidays else None
        return national if national is not None else day.weekday() not in self.weekend

    def _national_workday(self, day: dt.date) -> bool | None:
        """Off on a public holiday, worked on an adjusted working day (调休); None on an ordinary day or in a year
        the package does not know yet (the weekend rule decides)."""
        try:
            is_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            if day.year not in self._years_unknown:  # say it once a year, not once a day
                self._years_unknown.add(day.year)
                log.warning("chinesecalendar %s has no public holidays for %d: weekends only until it is updated",
                            chinese_calendar.__version__, day.year)
            return None
        return None if holiday_name is None else not is_holiday

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant `hours` working hours after `start` (aware), as an aware UTC datetime."""
        remaining = dt.timedelta(hours=hours)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_workday(day):
                for period_start, period_end in self.periods:
                    begin = dt.datetime.combine(day, period_start, self.zone)
                    end = dt.datetime.combine(day, period_end, self.zone)
                    begin = max(begin, local)
                    if begin >= end:
                        continue
                    if begin + remaining <= end:
                        return (begin + remaining).astimezone(dt.timezone.utc)
                    remaining -= end - begin
            day += dt.timedelta(days=1)
        raise ValueError(f"the work calendar has no {hours} working hours within a year of {start}")

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours elapsed from `start` to `end` (0 if end is before start)."""
        if end <= start:
            return 0.0
        total = dt.timedelta()
        day = start.astimezone(self.zone).date()
        last_day = end.astimezone(self.zone).date()
        while day <= last_day:
            if self.is_workday(day):
                for period_start, period_end in self.periods:
                    begin = max(dt.datetime.combine(day, period_start, self.zone), start)
                    finish = min(dt.datetime.combine(day, period_end, self.zone), end)
                    if finish > begin:
                        total += finish - begin
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600
