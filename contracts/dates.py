"""The window of dates casetrack computes with.

Registration refuses a fact with a date outside it, and the read APIs a query date outside it, so
no consumer ever meets a date it cannot compute with (a planned end on 9999-12-31 plus a grace
period overflows Python's calendar). The window is configurable (runtime/settings.py); its lower
end never goes below 1900, the oldest date a stored event may carry.
"""

import calendar
from dataclasses import dataclass
from datetime import date

OLDEST_DATE = date(1900, 1, 1)
DEFAULT_YEARS_AHEAD = 50
MAX_YEARS_AHEAD = 100  # far enough for any plan, far from the calendar's end (year 9999)


def add_years(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class DateWindow:
    earliest: date = OLDEST_DATE
    years_ahead: int = DEFAULT_YEARS_AHEAD

    def __post_init__(self) -> None:
        if self.earliest < OLDEST_DATE:
            raise ValueError(f"the earliest date cannot be before {OLDEST_DATE.isoformat()}")
        if not 1 <= self.years_ahead <= MAX_YEARS_AHEAD:
            raise ValueError(f"years ahead must be between 1 and {MAX_YEARS_AHEAD}")

    def latest(self, today: date) -> date:
        return add_years(today, self.years_ahead)

    def problem(self, value: date, today: date) -> str | None:
        """Why `value` is outside the window, or None."""
        if value < self.earliest:
            return f"before {self.earliest.isoformat()}"
        if value > self.latest(today):
            return f"more than {self.years_ahead} years ahead (after {self.latest(today).isoformat()})"
        return None
