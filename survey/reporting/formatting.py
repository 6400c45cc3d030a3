"""Numbers the way the reader's language writes them: 85,0% and 1.234 in Vietnamese."""

from __future__ import annotations

import math
from dataclasses import dataclass

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import g, has_request_context
from flask_babel import get_locale


def _symbols() -> tuple[str, str]:
    cached = g.get("_number_symbols") if has_request_context() else None
    if cached is None:
        locale = str(get_locale() or "vi")
        cached = (get_decimal_symbol(locale), get_group_symbol(locale))
        if has_request_context():
            g._number_symbols = cached
    return cached


@dataclass(frozen=True)
class Numbers:
    """The formatters below, bound to one language's symbols: loops over thousands of rows
    look the symbols up once (`numbers()`), not once per number."""

    decimal: str
    group: str

    def percent(self, value: float | None, digits: int = 1) -> str:
        """0.8503 -> "85,0%" (vi) or "85.0%" (en); "–" when there is no value."""
        if value is None or math.isnan(value):
            return "–"
        text = f"{value * 100:.{digits}f}"
        return (text.replace(".", self.decimal) if self.decimal != "." else text) + "%"

    def points(self, value: float | None) -> str:
        """A difference of rates in percentage points, with its sign: "+3,2" or "−1,0"."""
        if value is None or math.isnan(value):
            return "–"
        text = f"{abs(value) * 100:.1f}".replace(".", self.decimal)
        return ("+" if value > 0 else "−" if value < 0 else "±") + text

    def integer(self, value: int | None) -> str:
        if value is None:
            return "–"
        return f"{value:,}".replace(",", self.group)

    def number(self, value: float | None, digits: int = 1) -> str:
        """4.25 -> "4,3" (vi) or "4.3" (en); "–" when there is no value."""
        if value is None or math.isnan(value):
            return "–"
        return f"{value:.{digits}f}".replace(".", self.decimal)


def numbers() -> Numbers:
    return Numbers(*_symbols())


def percent(value: float | None, digits: int = 1) -> str:
    return numbers().percent(value, digits)


def points(value: float | None) -> str:
    return numbers().points(value)


def integer(value: int | None) -> str:
    return numbers().integer(value)


def number(value: float | None, digits: int = 1) -> str:
    return numbers().number(value, digits)
