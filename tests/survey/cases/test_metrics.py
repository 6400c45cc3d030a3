"""Criterion 8's evidence: per agency and period, the share of cases answered, answered on time,
and the median time to answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from survey import periods
from survey.extensions import db
from survey.models import utcnow
from survey.reporting import build_report, parse_options
from survey.reporting.counts import CaseCounts, case_counts
from survey.reporting.exports import to_csv


def test_cases_are_counted_answered_on_time_and_timed(make_case, desk):
    on_time, late, open_late, open_in_time = (make_case() for _ in range(4))
    now = utcnow()
    for case, age, answered_after in (
        (on_time, 5, 2),
        (late, 30, 20),
        (open_late, 30, None),
        (open_in_time, 1, None),
    ):
        case.opened_at = now - timedelta(days=age)
        case.due_on = (periods.to_local(case.opened_at) + timedelta(days=14)).date()
        if answered_after is not None:
            case.answered_at = case.opened_at + timedelta(days=answered_after)
    db.session.commit()
    period = periods.Period(
        "custom", periods.local_today() - timedelta(days=60), periods.local_today()
    )
    counts = case_counts(period)[desk.agency_id]
    assert (counts.opened, counts.answered, counts.due, counts.on_time) == (4, 2, 3, 1)
    assert counts.answered_share == 0.5
    assert counts.on_time_share == pytest.approx(1 / 3)
    assert counts.median_days == pytest.approx(11.0)


def test_the_report_pools_cases_over_the_subtree_in_rows_summary_and_files(
    make_agency, make_desk, make_case
):
    from survey.cases.service import reply
    from survey.models import Level

    department = make_agency(code="SNV", level=Level.DEPARTMENT)
    first = make_case(make_desk(make_agency(code="PA", parent=department)))
    make_case(make_desk(make_agency(code="PB", parent=department)))
    reply(first, "Kính gửi Ông/Bà, đã xử lý.", publish=True)
    db.session.commit()
    quarter = periods.quarter_of(periods.local_today())
    with force_locale("vi"):
        report = build_report(parse_options({"period": quarter.key}, quarter))
        csv = to_csv(report).decode("utf-8-sig")
    rows = {r.code: r for r in report.rows}
    assert (rows["SNV"].cases, rows["SNV"].cases_answered) == (2, 1)
    assert rows["SNV"].cases_answered_share == 0.5
    assert (rows["PA"].cases, rows["PA"].cases_on_time_share) == (1, 1.0)
    assert report.summary.cases == 2
    header = csv.splitlines()[0]
    assert "Tỷ lệ trả lời đúng hạn" in header and "Phản ánh tiếp nhận" in header
    assert case_counts(quarter.previous()) == {}
    assert CaseCounts().answered_share is None
