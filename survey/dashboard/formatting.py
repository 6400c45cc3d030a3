"""Numbers the way the reader's language writes them: 85,0% and 1.234 in Vietnamese."""

from __future__ import annotations

import math

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


def percent(value: float | None, digits: int = 1) -> str:
    """0.8503 -> "85,0%" (vi) or "85.0%" (en); "–" when there is no value."""
    if value is None or math.isnan(value):
        return "–"
    text = f"{value * 100:.{digits}f}"
    decimal, _group = _symbols()
    return (text.replace(".", decimal) if decimal != "." else text) + "%"


def points(value: float | None) -> str:
    """A difference of rates in percentage points, with its sign: "+3,2" or "−1,0"."""
    if value is None or math.isnan(value):
        return "–"
    decimal, _group = _symbols()
    text = f"{abs(value) * 100:.1f}".replace(".", decimal)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def integer(value: int | None) -> str:
    if value is None:
        return "–"
    _decimal, group = _symbols()
    return f"{value:,}".replace(",", group)
