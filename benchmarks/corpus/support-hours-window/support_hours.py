"""When the support desk is staffed: weekdays from opening time up to closing time,
except public holidays. Used to decide whether a ticket gets a live reply."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

OPENS = time(9, 0)
CLOSES = time(17, 30)


class SupportCalendar:
    def __init__(self, holidays: set[date] | None = None) -> None:
        self.holidays = set(holidays or ())

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def is_open(self, moment: datetime) -> bool:
        """Open from OPENS (inclusive) to CLOSES (exclusive) on working days."""
        if not self.is_working_day(moment.date()):
            return False
        return OPENS < moment.time() <= CLOSES

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself when open, otherwise the start of the next opening."""
        if self.is_open(moment):
            return moment
        day = moment.date()
        if moment.time() >= OPENS:
            day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, OPENS)
