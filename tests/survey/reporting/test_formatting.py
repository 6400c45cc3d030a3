"""Numbers, dates and times as Vietnamese (and English) readers write them, through Babel."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import render_template_string

from survey.reporting import formatting

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


@pytest.fixture
def vi(app):
    with app.test_request_context("/?lang=vi"):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context("/?lang=en"):
        yield


def test_vietnamese_numbers_have_a_decimal_comma_and_a_dot_between_thousands(vi):
    assert formatting.percent(0.8443) == "84,4%"
    assert formatting.percent(0.85, 0) == "85%"
    assert formatting.integer(1234567) == "1.234.567"
    assert formatting.number(37.5149, 2) == "37,51"
    assert formatting.number(18.0, None) == "18"
    assert formatting.number(1.5, None) == "1,5"
    assert formatting.points(-0.0312) == "−3,1"
    assert formatting.points(0.032) == "+3,2"
    assert formatting.percent(None) == "–"
    assert formatting.number(float("nan")) == "–"


def test_english_numbers_keep_their_own_symbols(en):
    assert formatting.percent(0.8443) == "84.4%"
    assert formatting.integer(1234567) == "1,234,567"
    assert formatting.number(37.5149, 2) == "37.51"


def test_tiny_p_values_read_less_than_one_thousandth(vi):
    assert formatting.p_value(1.76e-167) == "< 0,001"
    assert formatting.p_value(0.0009999) == "< 0,001"
    assert formatting.p_value(0.0234) == "0,023"
    assert formatting.p_value(0.5) == "0,500"


def test_dates_have_four_digit_years_and_times_a_24_hour_clock(vi):
    # Stored in UTC: 10:57 UTC is 17:57 in Hà Nội.
    assert formatting.moment(datetime(2026, 9, 3, 10, 57, 58)) == "03/09/2026 17:57"
    assert formatting.moment(datetime(2026, 9, 3, 10, 57, 58), seconds=True) == (
        "03/09/2026 17:57:58"
    )
    assert formatting.clock(datetime(2026, 9, 3, 10, 57)) == "17:57"
    assert formatting.day(date(2026, 9, 3)) == "03/09/2026"
    # 20:30 UTC on the 2nd is already the 3rd in Vietnam.
    assert formatting.day(datetime(2026, 9, 2, 20, 30)) == "03/09/2026"


def test_english_times_are_on_the_24_hour_clock_too(en):
    assert formatting.moment(datetime(2026, 9, 3, 10, 57)) == "03/09/2026 17:57"


def test_the_jinja_filters_are_the_same_formatters(vi):
    html = render_template_string(
        "{{ 0.8443|percent }} {{ 37.5149|decimal(2) }} {{ 1.76e-167|pvalue }} {{ 1234|integer }}"
        " {{ d|date }} {{ t|datetime }} {{ t|time }}",
        d=date(2026, 9, 3),
        t=datetime(2026, 9, 3, 10, 57),
    )
    assert html == "84,4% 37,51 &lt; 0,001 1.234 03/09/2026 03/09/2026 17:57 17:57"


# Formatting by hand in a template: strftime, printf-style "%.1f"|format, Babel's "short"
# formats (two-digit years in Vietnamese, 12-hour clock in English). An SVG coordinate is data,
# not text for a reader, and may keep a dot.
BY_HAND = re.compile(
    r"\.strftime\(|[\"']%[.\d]*[fgde][\"']\|format|datetimeformat\(|dateformat\([\"']dd|"
    r"timeformat\("
)


def test_no_template_formats_a_number_or_a_date_by_hand():
    offenders = []
    for path in TEMPLATES.rglob("*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in BY_HAND.finditer(line):
                if "<svg" in line and "|format(level.share" in line:
                    continue
                offenders.append(f"{path.relative_to(TEMPLATES)}:{number}: {match.group(0)}")
    assert offenders == []
