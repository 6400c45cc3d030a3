"""Criterion 8's evidence: per agency and period, the share of cases answered, answered on time,
and the median time to answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from survey import periods
from survey.cases.metrics import case_counts, pooled
from survey.extensions import db
from survey.models import utcnow


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


def test_agencies_pool_over_a_subtree_and_periods_exclude_other_cases(make_case, make_desk, desk):
    mine, other = make_case(), make_case(make_desk())
    quarter = periods.quarter_of(periods.local_today())
    counts = case_counts(quarter)
    assert pooled(counts, {desk.agency_id, other.agency_id}).opened == 2
    assert pooled(counts, set()).answered_share is None
    assert case_counts(quarter.previous()) == {}
    assert mine.agency_id in counts
