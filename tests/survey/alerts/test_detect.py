"""Alerts are raised once each: a drop noticed by the CUSUM chart, a verdict below the target,
a case past its due date."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from survey.alerts import detect
from survey.alerts.models import Alert, AlertKind, AlertState, CusumState
from survey.cases.models import CaseStatus
from survey.cases.service import reply
from survey.extensions import db
from survey.models import Level


def _alerts(kind=None) -> list[Alert]:
    db.session.expire_all()
    query = sa.select(Alert).order_by(Alert.id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return list(db.session.scalars(query))


def test_a_jump_in_dissatisfaction_raises_one_drop_alert(now, make_desk, add_ratings):
    steady, slipping = make_desk(), make_desk()
    # A year of baseline ending 90 days ago: about 10% dissatisfied at both desks.
    for seed, desk in enumerate((steady, slipping)):
        add_ratings(desk, 600, 0.1, now - timedelta(days=400), now - timedelta(days=95), seed=seed)
    # Charts start with an agency's first recent ratings. Then 60 ratings in a day: the
    # steady desk stays at 10%, the other jumps to 40%.
    assert detect.run(now).charts == 0
    later = now + timedelta(days=1)
    add_ratings(steady, 60, 0.1, now, later - timedelta(minutes=5), seed=3)
    add_ratings(slipping, 60, 0.4, now, later - timedelta(minutes=5), seed=4)
    found = detect.run(later)
    assert found.charts == 2
    state = db.session.get(CusumState, slipping.agency_id)
    assert 0.08 < state.risks["qr"] < 0.13 and state.threshold > 0
    drops = _alerts(AlertKind.DROP)
    assert found.raised["drop"] == 1
    assert [a.agency_id for a in drops] == [slipping.agency_id]
    assert drops[0].state == AlertState.NEW
    assert drops[0].detail["recent_share"] > 0.25
    assert detect.run(later + timedelta(minutes=30)).total == 0


def test_a_drop_that_goes_on_updates_its_open_alert_instead_of_raising_more(
    now, make_desk, add_ratings
):
    desk = make_desk()
    add_ratings(desk, 600, 0.1, now - timedelta(days=400), now - timedelta(days=95))
    detect.run(now)
    for day in range(1, 4):
        start = now + timedelta(days=day - 1)
        add_ratings(desk, 60, 0.5, start, start + timedelta(hours=20), seed=day)
        detect.run(now + timedelta(days=day))
    drops = _alerts(AlertKind.DROP)
    assert len(drops) == 1
    assert drops[0].detail["signals"] > 1


def test_an_agency_without_enough_history_gets_no_chart(now, make_desk, add_ratings):
    desk = make_desk()
    add_ratings(desk, 40, 0.5, now - timedelta(days=200), now - timedelta(days=100))
    assert detect.run(now).charts == 0
    assert db.session.get(CusumState, desk.agency_id) is None


def test_a_verdict_below_the_target_is_raised_once_per_period(
    now, make_agency, make_desk, add_ratings
):
    commune = make_agency(level=Level.COMMUNE)
    desk = make_desk(commune)
    # 120 ratings this week, 45% dissatisfied: far below the 90% target.
    add_ratings(desk, 120, 0.45, now - timedelta(days=2), now - timedelta(hours=1))
    found = detect.run(now)
    below = _alerts(AlertKind.BELOW)
    assert found.raised["below"] == len(below) >= 1
    mine = [a for a in below if a.agency_id == commune.id]
    assert len(mine) == 1
    assert mine[0].detail["target"] == 0.9 and mine[0].detail["high"] < 0.9
    assert detect.run(now + timedelta(hours=1)).raised.get("below", 0) == 0


def test_an_overdue_case_raises_an_alert_that_resolves_itself_when_answered(now, make_case):
    case = make_case()
    case.due_on = (now - timedelta(days=3)).date()
    db.session.commit()
    detect.run(now)
    overdue = _alerts(AlertKind.OVERDUE)
    assert [(a.case_id, a.state) for a in overdue] == [(case.id, AlertState.NEW)]
    assert detect.run(now).total == 0
    reply(case, "Kính gửi Ông/Bà, chúng tôi đã xử lý.", publish=True)
    db.session.commit()
    found = detect.run(now + timedelta(minutes=5))
    assert found.resolved == 1
    assert _alerts(AlertKind.OVERDUE)[0].state == AlertState.RESOLVED
    assert case.status == CaseStatus.ANSWERED
    assert len(_alerts(AlertKind.OVERDUE)) == 1
