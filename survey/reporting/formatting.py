"""Numbers, dates and times the way the reader's language writes them, through Babel (CLDR).

Vietnamese: 85,0%, 1.234, φ = 37,51, p < 0,001, 30/09/2026 17:57. Dates always carry a
four-digit year and times are on the 24-hour clock, in both languages: the CLDR "short"
formats would write 30/9/26 in Vietnamese and 5:57 PM in English.

A province's table has some 2,000 rows of a dozen numbers each, so the Babel formatters are
memoised per language and value (`_apply`): rates rounded to a tenth of a percent repeat a lot.
The templates use the filters registered by `init_app` (`|percent`, `|decimal`, `|integer`,
`|pvalue`, `|date`, `|datetime`, `|time`); Python code uses `numbers()` or the functions below.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import lru_cache

import numpy as np
from babel import Locale
from babel.numbers import parse_pattern
from flask import Flask, g, has_request_context
from flask_babel import format_date as _babel_date
from flask_babel import format_datetime as _babel_datetime
from flask_babel import format_time as _babel_time
from flask_babel import get_locale

DATE = "dd/MM/yyyy"
TIME = "HH:mm"
DATETIME = f"{DATE} {TIME}"
# Below this a p-value is written "< 0,001": more digits say nothing a reader can use.
P_FLOOR = 0.001


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=64)
def _pattern(kind: str, digits: int | None):
    # digits=None: as many decimals as needed, up to three ("18", "1,5").
    fraction = "###" if digits is None else "0" * digits
    body = "#,##0" + (f".{fraction}" if fraction else "")
    return parse_pattern(body + ("%" if kind == "percent" else ""))


@lru_cache(maxsize=65536)
def _apply(code: str, kind: str, digits: int | None, value: float) -> str:
    return _pattern(kind, digits).apply(value, _locale(code))


def _code() -> str:
    if has_request_context():
        code = g.get("_number_locale")
        if code is None:
            code = g._number_locale = str(get_locale() or "vi")
        return code
    return str(get_locale() or "vi")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class Numbers:
    """The number formats of one language, looked up once for a page (`numbers()`)."""

    def __init__(self, locale: str = "vi"):
        self.locale = str(locale)
        self.decimal = _locale(self.locale).number_symbols["latn"]["decimal"]

    def percent(self, value: float | None, digits: int = 1) -> str:
        """0.8503 -> "85,0%" (vi) or "85.0%" (en); "–" when there is no value."""
        if _missing(value):
            return "–"
        return _apply(self.locale, "percent", digits, float(value))

    def points(self, value: float | None) -> str:
        """A difference of rates in percentage points, with its sign: "+3,2" or "−1,0"."""
        if _missing(value):
            return "–"
        text = _apply(self.locale, "decimal", 1, abs(value) * 100)
        return ("+" if value > 0 else "−" if value < 0 else "±") + text

    def integer(self, value: int | None) -> str:
        """1234 -> "1.234" (vi) or "1,234" (en)."""
        if value is None:
            return "–"
        return _apply(self.locale, "decimal", 0, value)

    def number(self, value: float | None, digits: int | None = 1) -> str:
        """4.25 -> "4,3" (vi) or "4.3" (en); digits=None: 18 -> "18", 1.5 -> "1,5";
        "–" when there is no value."""
        if _missing(value):
            return "–"
        return _apply(self.locale, "decimal", digits, float(value))

    def p_value(self, value: float | None) -> str:
        """A p-value for reading: "< 0,001" when tiny, else three decimals ("0,023")."""
        if _missing(value):
            return "–"
        if value < P_FLOOR:
            return "< " + self.number(P_FLOOR, 3)
        return self.number(value, 3)


def float_or_none(value) -> float | None:
    """A number a report carries, as a Python float, None for NaN (what the statistics return
    where nothing can be computed, and what every renderer shows as a dash)."""
    value = float(value)
    return None if math.isnan(value) else value


def floats_or_none(values) -> list[float | None]:
    """`float_or_none` of each element of an array (or of one number), in one pass: a report
    has a row per agency (5,000 in a national one), and indexing numpy arrays element by
    element costs ten times more."""
    return [None if v != v else v for v in np.atleast_1d(values).astype(float).tolist()]


def numbers() -> Numbers:
    return Numbers(_code())


def percent(value: float | None, digits: int = 1) -> str:
    return numbers().percent(value, digits)


def points(value: float | None) -> str:
    return numbers().points(value)


def integer(value: int | None) -> str:
    return numbers().integer(value)


def number(value: float | None, digits: int | None = 1) -> str:
    return numbers().number(value, digits)


def p_value(value: float | None) -> str:
    return numbers().p_value(value)


def day(value: date | datetime | None) -> str:
    """30/09/2026; a datetime (stored in UTC) is first put in the app's time zone."""
    if value is None:
        return "–"
    return _babel_date(value, DATE)


def moment(value: datetime | None, seconds: bool = False) -> str:
    """30/09/2026 17:57 (24-hour clock, in the app's time zone)."""
    if value is None:
        return "–"
    return _babel_datetime(value, DATETIME + (":ss" if seconds else ""))


def clock(value: datetime | None, seconds: bool = False) -> str:
    """17:57 (24-hour clock, in the app's time zone)."""
    if value is None:
        return "–"
    return _babel_time(value, TIME + (":ss" if seconds else ""))


def init_app(app: Flask) -> None:
    """One set of Jinja filters for every number and date a page shows."""
    app.add_template_filter(percent, "percent")
    app.add_template_filter(number, "decimal")
    app.add_template_filter(integer, "integer")
    app.add_template_filter(p_value, "pvalue")
    app.add_template_filter(day, "date")
    app.add_template_filter(moment, "datetime")
    app.add_template_filter(clock, "time")
