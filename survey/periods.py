"""Reporting periods: months, quarters, half-years, years and custom date ranges.

Periods are local dates in Vietnam (Asia/Ho_Chi_Minh, UTC+7 all year, no daylight saving).
`Response.occurred_at` is naive UTC, so a period becomes the half-open UTC range
``[start 00:00 local, day after end 00:00 local)``.

Accepted spellings (no fuzzy matching): ``2026-07`` (month), ``2026-Q3`` (quarter),
``2026-H1`` (half-year), ``2026-9M`` (the first nine months), ``2026`` (year) and
``2026-07-01..2026-09-30`` (custom, inclusive).

Two calendars (`CALENDARS`): calendar periods (Q3 = 1 July to 30 September), and the periods
of the reporting regime of Decree 09/2019/NĐ-CP, whose data run from the 15th of the month
before the period to the 14th of its last month (Q3 = 15 June to 14 September; the year 2026
= 15 December 2025 to 14 December 2026). `Period.as_regime()` turns one into the other; a
regime period keeps the same key ("2026-Q3") and says so in its label ("Quý 3/2026
(15/6–14/9)"); its previous period and its trend buckets are regime periods too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _

LOCAL_OFFSET = timedelta(hours=7)
KINDS = ("month", "quarter", "half", "nine", "year", "custom")
CALENDARS = ("calendar", "regime")
#: Months in a period of each kind.
_MONTHS = {"month": 1, "quarter": 3, "half": 6, "nine": 9, "year": 12}
FIRST_YEAR, LAST_YEAR = 2000, 2100
# A custom range longer than this is almost certainly a typo, and would make trend charts huge.
MAX_CUSTOM_DAYS = 5 * 366

_PATTERNS = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half": re.compile(r"^(\d{4})-H([12])$"),
    "nine": re.compile(r"^(\d{4})-9M$"),
    "year": re.compile(r"^(\d{4})$"),
    "custom": re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$"),
}


class PeriodError(ValueError):
    """A period string that cannot be read; the message is translated and meant for people."""


@dataclass(frozen=True)
class Period:
    """A reporting period: local dates `start` and `end`, both inclusive."""

    kind: str
    start: date
    end: date
    regime: bool = False  # a period of the reporting regime (Decree 09/2019/NĐ-CP)

    @property
    def calendar(self) -> str:
        return "regime" if self.regime else "calendar"

    @property
    def key(self) -> str:
        """The canonical spelling, as used in URLs and accepted by `parse_period` (a regime
        period has the key of the calendar period it stands for)."""
        if self.regime:
            return self.base().key
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "half":
            return f"{self.start.year}-H{1 if self.start.month < 7 else 2}"
        if self.kind == "nine":
            return f"{self.start.year}-9M"
        if self.kind == "year":
            return f"{self.start.year}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def base(self) -> Period:
        """The calendar period a regime period stands for (itself for a calendar period): the
        one of the same kind that ends in the month of `end`."""
        if not self.regime:
            return self
        months = _MONTHS[self.kind]
        last = date(self.end.year, self.end.month, 1)
        return _span(self.kind, _add_months(last, 1 - months), months)

    def as_regime(self) -> Period:
        """This period in the reporting regime: from the 15th of the month before its first
        month to the 14th of its last month. Custom ranges stay as they are."""
        if self.regime or self.kind == "custom":
            return self
        start = _add_months(self.start, -1).replace(day=15)
        end = self.end.replace(day=14)
        return Period(self.kind, start, end, regime=True)

    def in_calendar(self, calendar: str) -> Period:
        """This period in `calendar` (one of `CALENDARS`)."""
        if calendar == "regime":
            return self.as_regime()
        return self.base()

    def __str__(self) -> str:
        return self.key

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Naive UTC datetimes ``[low, high)`` to compare with `Response.occurred_at`."""
        return local_midnight_utc(self.start), local_midnight_utc(self.end + timedelta(days=1))

    def previous(self) -> Period:
        """The period of the same kind just before this one (custom: same length, just before)."""
        if self.kind == "custom":
            end = self.start - timedelta(days=1)
            return Period("custom", end - timedelta(days=self.days - 1), end)
        if self.regime:
            return self.base().previous().as_regime()
        if self.kind == "nine":  # the same nine months of the year before
            return _span("nine", _add_months(self.start, -12), 9)
        months = _MONTHS[self.kind]
        return _span(self.kind, _add_months(self.start, -months), months)

    def label(self) -> str:
        """A translated, human label: "Quý 3/2026", "Tháng 7/2026", "01/07/2026–30/09/2026";
        a regime period adds its dates: "Quý 3/2026 (15/6–14/9)"."""
        if self.regime:
            start, end = self.start, self.end
            if start.year == end.year:
                dates = f"{start.day}/{start.month}–{end.day}/{end.month}"
            else:
                dates = f"{start.day}/{start.month}/{start.year}–{end.day}/{end.month}/{end.year}"
            return f"{self.base().label()} ({dates})"
        year = self.start.year
        if self.kind == "month":
            return _("Month %(month)d/%(year)d", month=self.start.month, year=year)
        if self.kind == "quarter":
            return _(
                "Quarter %(quarter)d/%(year)d", quarter=(self.start.month - 1) // 3 + 1, year=year
            )
        if self.kind == "half":
            if self.start.month == 1:
                return _("First half of %(year)d", year=year)
            return _("Second half of %(year)d", year=year)
        if self.kind == "nine":
            return _("First nine months of %(year)d", year=year)
        if self.kind == "year":
            return _("Year %(year)d", year=year)
        return f"{self.start:%d/%m/%Y}–{self.end:%d/%m/%Y}"

    def is_closed(self, today: date) -> bool:
        return self.end < today

    def covered(self, today: date) -> Period | None:
        """The part of a period that has not ended (it holds `today`) that has data so far,
        from its start to today; None for a period that has ended or not begun."""
        if not self.start <= today <= self.end:
            return None
        return replace(self, end=today)

    def buckets(self, unit: str, count: int) -> list[Period]:
        """`count` consecutive months or quarters ending with the one holding `self.end`."""
        months = {"month": 1, "quarter": 3}[unit]
        end = self.base().end if self.regime else self.end
        last = _span(unit, _unit_start(end, months), months)
        found = [_span(unit, _add_months(last.start, -months * i), months) for i in range(count)]
        if self.regime:  # the same calendar on both sides
            found = [bucket.as_regime() for bucket in found]
        return found[::-1]


def local_midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day) - LOCAL_OFFSET


def local_today() -> date:
    """Today's date in Vietnam. Tests replace this to pin "now"."""
    return (datetime.now(UTC).replace(tzinfo=None) + LOCAL_OFFSET).date()


def to_local(moment: datetime) -> datetime:
    """A naive UTC datetime as naive Vietnam local time."""
    return moment + LOCAL_OFFSET


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _unit_start(day: date, months: int) -> date:
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def _span(kind: str, start: date, months: int) -> Period:
    return Period(kind, start, _add_months(start, months) - timedelta(days=1))


def month(year: int, number: int) -> Period:
    return _span("month", date(year, number, 1), 1)


def quarter(year: int, number: int) -> Period:
    return _span("quarter", date(year, 3 * number - 2, 1), 3)


def half(year: int, number: int) -> Period:
    return _span("half", date(year, 6 * number - 5, 1), 6)


def nine_months(year: int) -> Period:
    return _span("nine", date(year, 1, 1), 9)


def year(number: int) -> Period:
    return _span("year", date(number, 1, 1), 12)


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def last_closed_quarter(today: date | None = None) -> Period:
    """The most recent quarter that has ended before `today` (local)."""
    return quarter_of(today or local_today()).previous()


def parse_period(text: str | None) -> Period:
    """Read a period string; raise `PeriodError` with a translated message otherwise."""
    text = (text or "").strip()
    if len(text) > 40:
        raise PeriodError(_("The period is too long to be valid."))
    if not any(pattern.match(text) for pattern in _PATTERNS.values()):
        text = _typed(text) or text
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(text)
        if match is None:
            continue
        if kind == "custom":
            return _custom(*match.groups())
        number = int(match.group(1))
        if not FIRST_YEAR <= number <= LAST_YEAR:
            raise PeriodError(
                _(
                    "The year must be between %(first)d and %(last)d.",
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            )
        if kind == "year":
            return year(number)
        if kind == "nine":
            return nine_months(number)
        part = int(match.group(2))
        if kind == "month":
            if not 1 <= part <= 12:
                raise PeriodError(_("The month must be between 01 and 12."))
            return month(number, part)
        return quarter(number, part) if kind == "quarter" else half(number, part)
    raise PeriodError(
        _(
            "The period %(period)s is not valid. Use a month (2026-07), a quarter (2026-Q3), "
            "a half-year (2026-H1), a year (2026) or dates (2026-07-01..2026-09-30).",
            period=text or "''",
        )
    )


def _custom(first: str, last: str) -> Period:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise PeriodError(_("One of the dates does not exist; use YYYY-MM-DD.")) from None
    if not (FIRST_YEAR <= start.year <= LAST_YEAR and FIRST_YEAR <= end.year <= LAST_YEAR):
        raise PeriodError(
            _("The year must be between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )
    if end < start:
        raise PeriodError(_("The end date must not be before the start date."))
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise PeriodError(_("A custom period may span at most five years."))
    return Period("custom", start, end)


# The ways people type a period, read as the canonical forms above: any
# case, with or without Vietnamese accents, "/", "-", "." or a space between the parts.
_YEAR = r"(\d{4})"
_SEP = r"\s*[/\-. ]\s*"
_Q = r"(?:Q|QUY)\s*([1-4]|IV|I{1,3})"
_H = r"H\s*([12])"
_M = r"(?:T|THANG)?\s*(\d{1,2})"
_N = r"(?:NAM\s*)?"
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}
_TYPED = [
    (rf"{_Q}{_SEP}{_N}{_YEAR}", lambda q, y: f"{y}-Q{_ROMAN.get(q, q)}"),  # Q3/2026, Quý 3/2026
    (rf"{_YEAR}{_SEP}{_Q}", lambda y, q: f"{y}-Q{_ROMAN.get(q, q)}"),  # 2026-q3, 2026/Q3
    (rf"{_H}{_SEP}{_N}{_YEAR}", lambda h, y: f"{y}-H{h}"),  # H1/2026
    (rf"{_YEAR}{_SEP}{_H}", lambda y, h: f"{y}-H{h}"),  # 2026 h1
    (rf"6 THANG DAU {_N}{_YEAR}", lambda y: f"{y}-H1"),  # 6 tháng đầu năm 2026
    (rf"6 THANG CUOI {_N}{_YEAR}", lambda y: f"{y}-H2"),
    (rf"9 THANG (?:DAU )?{_N}{_YEAR}", lambda y: f"{y}-9M"),  # 9 tháng đầu năm 2026
    (rf"NAM {_YEAR}", lambda y: y),  # Năm 2026
    (rf"{_M}{_SEP}{_N}{_YEAR}", lambda m, y: f"{y}-{int(m):02d}"),  # 07/2026, Tháng 7/2026
    (rf"{_YEAR}{_SEP}{_M}", lambda y, m: f"{y}-{int(m):02d}"),  # 2026/7
]
_TYPED_RE = [(re.compile(f"^{pattern}$"), build) for pattern, build in _TYPED]


def _fold(text: str) -> str:
    """Upper case, without accents (đ as D), single spaces."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").upper()
    return re.sub(r"\s+", " ", text).strip()


def _typed(text: str) -> str | None:
    """The canonical form of a period as people type it, or None."""
    folded = _fold(text)
    for pattern, build in _TYPED_RE:
        if match := pattern.match(folded):
            return build(*match.groups())
    return None
