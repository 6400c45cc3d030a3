"""The reporting regime's periods (Decree 09/2019/NĐ-CP): from the 15th of the month before
the period to the 14th of its last month, cut at Vietnam midnight, across years; 9-month
periods; both calendars in one report, the same on both sides of a comparison."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from survey import reporting
from survey.extensions import db
from survey.models import Level, Questionnaire, Response
from survey.periods import parse_period


def _local(*args) -> datetime:
    """A Vietnam local time as the naive UTC the database stores."""
    return datetime(*args) - timedelta(hours=7)


@pytest.mark.parametrize(
    "key, start, end, label",
    [
        ("2026-Q3", date(2026, 6, 15), date(2026, 9, 14), "Quý 3/2026 (15/6–14/9)"),
        ("2026-Q1", date(2025, 12, 15), date(2026, 3, 14), "Quý 1/2026 (15/12/2025–14/3/2026)"),
        ("2026-H1", date(2025, 12, 15), date(2026, 6, 14), None),
        ("2026-H2", date(2026, 6, 15), date(2026, 12, 14), None),
        ("2026-9M", date(2025, 12, 15), date(2026, 9, 14), None),
        ("2026", date(2025, 12, 15), date(2026, 12, 14), "Năm 2026 (15/12/2025–14/12/2026)"),
    ],
)
def test_regime_periods_run_from_the_15th_before_to_the_14th(app, key, start, end, label):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        period = parse_period(key).as_regime()
        assert (period.start, period.end, period.key, period.regime) == (start, end, key, True)
        if label:
            assert period.label() == label
        assert period.base() == parse_period(key)


def test_nine_months_and_previous_periods_keep_their_calendar(app):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        nine = parse_period("2026-9M")
        assert (nine.start, nine.end) == (date(2026, 1, 1), date(2026, 9, 30))
        assert nine.label() == "9 tháng đầu năm 2026"
        assert nine.previous().key == "2025-9M"
        q1 = parse_period("2026-Q1").as_regime()
        assert (q1.previous().start, q1.previous().end) == (date(2025, 9, 15), date(2025, 12, 14))
        assert q1.previous().regime
        months = parse_period("2026-Q3").as_regime().buckets("month", 3)
        assert [(b.start, b.end) for b in months] == [
            (date(2026, 6, 15), date(2026, 7, 14)),
            (date(2026, 7, 15), date(2026, 8, 14)),
            (date(2026, 8, 15), date(2026, 9, 14)),
        ]


@pytest.fixture
def desk(make_agency, make_desk):
    province = make_agency("P", level=Level.PROVINCE)
    return make_desk(agency=make_agency("C", parent=province))


def _add(desk, at: datetime) -> None:
    rid = uuid.uuid4()
    db.session.execute(
        sa.insert(Response),
        [
            {
                "id": rid,
                "desk_id": desk.id,
                "agency_id": desk.agency_id,
                "questionnaire_id": Questionnaire.default().id,
                "channel": "qr",
                "level": "hai_long",
                "satisfied": True,
                "occurred_at": at,
                "received_at": at,
                "status": "valid",
                "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
            }
        ],
    )
    db.session.commit()


def _valid(app, **args) -> int:
    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options(args, None))
        return report.row("C").valid if report.row("C") else 0


def test_the_edges_are_the_14th_at_23_59_and_the_15th_at_00_00_vietnam_time(app, desk):
    _add(desk, _local(2026, 9, 14, 23, 59, 59))  # last second of regime Q3
    _add(desk, _local(2026, 9, 15, 0, 0, 0))  # first second of regime Q4
    _add(desk, _local(2026, 6, 14, 23, 59, 59))  # last second of regime Q2
    _add(desk, _local(2026, 6, 15, 0, 0, 0))  # first second of regime Q3
    assert _valid(app, period="2026-Q3", calendar="regime") == 2
    assert _valid(app, period="2026-Q4", calendar="regime") == 1
    assert _valid(app, period="2026-Q2", calendar="regime") == 1
    assert _valid(app, period="2026-Q3") == 2  # calendar Q3: 14 and 15 September


def test_across_years_the_15th_of_december_opens_the_next_year(app, desk):
    _add(desk, _local(2025, 12, 14, 23, 59))  # regime 2025
    _add(desk, _local(2025, 12, 15, 0, 0))  # regime 2026 (and Q1/2026)
    _add(desk, _local(2025, 12, 31, 23, 59))  # regime 2026; calendar 2025
    assert _valid(app, period="2026", calendar="regime") == 2
    assert _valid(app, period="2025", calendar="regime") == 1
    assert _valid(app, period="2026-Q1", calendar="regime") == 2
    assert _valid(app, period="2026-9M", calendar="regime") == 2
    assert _valid(app, period="2025") == 3


def test_the_installation_chooses_the_calendar_and_a_request_can_ask_for_the_other(app, desk):
    _add(desk, _local(2026, 9, 20, 10, 0))  # calendar Q3, regime Q4
    app.config["REPORT_CALENDAR"] = "regime"
    with app.test_request_context():
        options = reporting.parse_options({"period": "2026-Q3"}, None)
        assert options.calendar == "regime" and options.period.regime
        assert options.query() == {"period": "2026-Q3"}
        calendar = reporting.parse_options({"period": "2026-Q3", "calendar": "calendar"}, None)
        assert calendar.query()["calendar"] == "calendar"
        report = reporting.build_report(options)
        assert report.previous.regime and report.previous.key == "2026-Q2"
        assert report.period.label() == "Quý 3/2026 (15/6–14/9)"
        with pytest.raises(reporting.OptionError) as error:
            reporting.parse_options({"period": "2026-Q3", "calendar": "lunar"}, None)
        assert error.value.field == "calendar" and error.value.status == 400
    assert _valid(app, period="2026-Q3") == 0
    assert _valid(app, period="2026-Q4") == 1
    assert _valid(app, period="2026-Q3", calendar="calendar") == 1


def test_the_api_and_the_dashboard_take_the_calendar(client, app, desk):
    from survey.credentials import issue_api_key

    _add(desk, _local(2026, 9, 20, 10, 0))
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    body = client.get("/api/v1/report?period=2026-Q4&calendar=regime", headers=headers).json
    assert body["period"]["start"] == "2026-09-15" and body["period"]["end"] == "2026-12-14"
    assert body["period"]["label"].endswith("(15/9–14/12)")
    assert {a["code"]: a["valid"] for a in body["agencies"]}["C"] == 1
    bad = client.get("/api/v1/report?period=2026-Q4&calendar=x", headers=headers)
    assert bad.status_code == 400 and bad.json["field"] == "calendar"
