"""Reporting periods: parsing, previous periods and UTC bounds (Vietnam is UTC+7)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from survey import create_app
from survey.periods import PeriodError, last_closed_quarter, parse_period


@pytest.fixture(scope="module", autouse=True)
def request_context():
    """Messages are translated, so parsing runs inside a (Vietnamese) request."""
    app = create_app(
        {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32}
    )
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize(
    "text, kind, start, end",
    [
        ("2026-07", "month", date(2026, 7, 1), date(2026, 7, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q3", "quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-H1", "half", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-07-01..2026-09-30", "custom", date(2026, 7, 1), date(2026, 9, 30)),
    ],
)
def test_every_period_spelling_is_read(text, kind, start, end):
    period = parse_period(text)
    assert (period.kind, period.start, period.end, period.key) == (kind, start, end, text)


@pytest.mark.parametrize(
    "typed, key",
    [
        ("Q3/2026", "2026-Q3"),
        ("Quý 3/2026", "2026-Q3"),
        ("quý III/2026", "2026-Q3"),
        ("Quy 3 - 2026", "2026-Q3"),
        ("Q3 2026", "2026-Q3"),
        ("2026-q3", "2026-Q3"),
        ("07/2026", "2026-07"),
        ("7/2026", "2026-07"),
        ("T7/2026", "2026-07"),
        ("Tháng 7/2026", "2026-07"),
        ("tháng 7 năm 2026", "2026-07"),
        ("2026/7", "2026-07"),
        ("H1/2026", "2026-H1"),
        ("6 tháng đầu năm 2026", "2026-H1"),
        ("6 tháng cuối năm 2026", "2026-H2"),
        ("9 tháng đầu năm 2026", "2026-9M"),
        ("Năm 2026", "2026"),
    ],
)
def test_periods_as_people_type_them(typed, key):
    # Issue 17, point 8: case, accents and separators do not matter.
    assert parse_period(typed).key == key


@pytest.mark.parametrize(
    "text, previous",
    [
        ("2026-01", "2025-12"),
        ("2026-Q1", "2025-Q4"),
        ("2026-H2", "2026-H1"),
        ("2026", "2025"),
        ("2026-07-01..2026-07-10", "2026-06-21..2026-06-30"),
    ],
)
def test_the_previous_period_is_the_same_kind_just_before(text, previous):
    assert parse_period(text).previous().key == previous


def test_utc_bounds_follow_vietnam_midnight():
    low, high = parse_period("2026-Q3").utc_bounds()
    assert low == datetime(2026, 6, 30, 17, 0)
    assert high == datetime(2026, 9, 30, 17, 0)


def test_labels_are_vietnamese_by_default():
    assert parse_period("2026-Q3").label() == "Quý 3/2026"
    assert parse_period("2026-H1").label() == "6 tháng đầu năm 2026"
    assert parse_period("2026-07-01..2026-07-10").label() == "01/07/2026–10/07/2026"


def test_the_last_closed_quarter_ends_before_today():
    assert last_closed_quarter(date(2026, 11, 21)).key == "2026-Q3"
    assert last_closed_quarter(date(2026, 1, 1)).key == "2025-Q4"


def test_trend_buckets_end_with_the_period():
    keys = [b.key for b in parse_period("2026-Q3").buckets("month", 4)]
    assert keys == ["2026-06", "2026-07", "2026-08", "2026-09"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "không hợp lệ"),
        ("2026-Q5", "không hợp lệ"),
        ("Quý 3", "không hợp lệ"),  # no year
        ("Q5/2026", "không hợp lệ"),
        ("13/2026", "Tháng phải từ 01 đến 12"),
        ("Quý 3/1999", "Năm phải từ 2000 đến 2100"),
        ("2026-00", "Tháng phải từ 01 đến 12"),
        ("1999", "Năm phải từ 2000 đến 2100"),
        ("2026-02-30..2026-03-01", "Có ngày không tồn tại"),
        ("2026-09-01..2026-08-01", "Ngày kết thúc"),
        ("2020-01-01..2026-01-01", "tối đa năm năm"),
        ("x" * 41, "quá dài"),
    ],
)
def test_bad_periods_raise_a_translated_message(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text)
