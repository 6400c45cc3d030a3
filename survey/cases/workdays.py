"""Working days: Monday to Friday, less Vietnam's public holidays, for case due dates.

The holidays of a year are the defaults of the `holidays` package (python-holidays, its
Vietnam calendar) until an admin edits that year (`HolidayYear`), after which the year's
`Holiday` rows are used as they stand. The package computes Tết (the lunar new year, with the
days off around it) and Giỗ Tổ Hùng Vương (10th day of the 3rd lunar month) with its own
Vietnamese lunisolar calendar (new moons at UTC+7, which is why Tết sometimes falls a day
before the Chinese new year), adds the fixed days (1/1, 30/4, 1/5, 2/9 and the day beside
it), the days off in lieu when a holiday falls on a weekend, and the days swapped by
government decision that it knows of. Working Saturdays given in exchange are not modelled:
a due date can then be one day later than the official count, never earlier.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import sqlalchemy as sa

from survey.cases.models import Holiday, HolidayYear
from survey.extensions import db

FIRST_YEAR, LAST_YEAR = 2000, 2100
# Other workers see an admin's edit within this many seconds; the editing worker at once.
CACHE_SECONDS = 60
_cache: dict[int, tuple[float, dict[date, str]]] = {}


def default_holidays(year: int) -> dict[date, str]:
    """Vietnam's public holidays of `year` (date -> Vietnamese name), from the `holidays`
    package."""
    import holidays  # imported on first use: the package loads every country's calendar

    return dict(sorted(holidays.country_holidays("VN", years=year, language="vi").items()))


def is_edited(year: int) -> bool:
    return db.session.get(HolidayYear, year) is not None


def holidays_of(year: int) -> dict[date, str]:
    """The holidays in force for `year`: an admin's list when the year was edited, else the
    defaults."""
    cached = _cache.get(year)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    if is_edited(year):
        start, end = date(year, 1, 1), date(year, 12, 31)
        rows = db.session.execute(
            sa.select(Holiday.day, Holiday.name)
            .where(Holiday.day >= start, Holiday.day <= end)
            .order_by(Holiday.day)
        )
        found = {row.day: row.name for row in rows}
    else:
        found = default_holidays(year)
    _cache[year] = (time.monotonic(), found)
    return found


def forget(year: int | None = None) -> None:
    """Drop the cached holidays (of `year`, or all): call after an edit."""
    if year is None:
        _cache.clear()
    else:
        _cache.pop(year, None)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays_of(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (which itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after `start` up to and including `end` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
