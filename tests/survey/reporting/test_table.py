"""The reporting seam on hand-made data: SQL counts, pooling, targets and time zones."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

import analysis
from survey import reporting
from survey.extensions import db
from survey.models import Kind, Level, Response, Status, Target
from survey.periods import parse_period
from survey.reporting import counts, detail


@pytest.fixture
def tree(make_agency, make_desk):
    province = make_agency("P", level=Level.PROVINCE)
    health = make_agency("H", parent=province, level=Level.DEPARTMENT, kind=Kind.HEALTH)
    hospital = make_agency("HOSP", parent=health, level=Level.SERVICE_UNIT, kind=Kind.HEALTH)
    commune = make_agency("C", parent=province)
    return {
        "province": province,
        "health": health,
        "hospital": hospital,
        "commune": commune,
        "desks": {a.code: make_desk(agency=a) for a in (health, hospital, commune)},
    }


def _report(app, period="2026-Q3", **args):
    with app.test_request_context():
        return reporting.build_report(reporting.parse_options({"period": period, **args}, None))


def test_counts_come_from_valid_responses_and_pool_up_the_tree(app, tree, add_responses):
    at = datetime(2026, 8, 1, 3)
    add_responses(tree["desks"]["H"], 8, 2, at)
    add_responses(tree["desks"]["HOSP"], 30, 10, at)
    add_responses(tree["desks"]["HOSP"], 0, 4, at, Status.FLAGGED)
    add_responses(tree["desks"]["C"], 5, 0, at, Status.EXCLUDED)
    rows = {r.code: r for r in _report(app).rows}
    assert (rows["HOSP"].valid, rows["HOSP"].satisfied, rows["HOSP"].flagged) == (40, 30, 4)
    assert (rows["H"].valid, rows["H"].satisfied, rows["H"].own_valid) == (50, 38, 10)
    assert (rows["P"].valid, rows["P"].flagged, rows["P"].excluded) == (50, 4, 5)
    assert rows["C"].verdict == "no_data"
    expected = analysis.assess_target(38, 50, 0.9)
    assert rows["H"].low == pytest.approx(expected.low)
    assert rows["H"].verdict == expected.verdict


def test_periods_are_cut_at_vietnam_midnight(app, tree, add_responses):
    desk = tree["desks"]["C"]
    add_responses(desk, 1, 0, datetime(2026, 6, 30, 17, 30))  # 1 July, 00:30 in Vietnam
    add_responses(desk, 0, 1, datetime(2026, 6, 30, 16, 30))  # 30 June, 23:30 in Vietnam
    add_responses(desk, 0, 2, datetime(2026, 9, 30, 17, 0))  # 1 October, 00:00 in Vietnam
    rows = {r.code: r for r in _report(app).rows}
    assert (rows["C"].valid, rows["C"].satisfied) == (1, 1)
    assert rows["C"].previous_valid == 1


def test_the_most_specific_target_in_force_on_the_first_day_wins(app, tree, add_responses):
    db.session.add_all(
        [
            Target(rate=0.85, valid_from=date(2026, 1, 1), scope="kind", kind=Kind.HEALTH),
            Target(
                rate=0.7, valid_from=date(2026, 1, 1), scope="agency", agency_id=tree["hospital"].id
            ),
            Target(
                rate=0.5, valid_from=date(2026, 7, 2), scope="all"
            ),  # not yet in force on 1 July
        ]
    )
    db.session.commit()
    rows = {r.code: r for r in _report(app).rows}
    assert rows["HOSP"].target == 0.7
    assert rows["H"].target == 0.85
    assert rows["C"].target == 0.9
    overridden = {r.code: r for r in _report(app, target="75").rows}
    assert {r.target for r in overridden.values()} == {0.75}


def test_without_any_target_rates_are_shown_without_verdicts(app, tree, add_responses):
    add_responses(tree["desks"]["C"], 9, 1, datetime(2014, 5, 1))
    db.session.execute(sa.delete(Target))
    db.session.commit()
    report = _report(app, period="2014")
    rows = {r.code: r for r in report.rows}
    assert rows["C"].verdict == "no_target" and rows["C"].low is not None
    assert report.summary.target is None


def test_inactive_agencies_show_only_when_they_have_responses(app, tree, add_responses):
    tree["commune"].active = False
    db.session.commit()
    assert "C" not in {r.code for r in _report(app).rows}
    add_responses(tree["desks"]["C"], 1, 0, datetime(2026, 8, 1))
    assert "C" in {r.code for r in _report(app).rows}


def test_the_agency_table_is_one_group_by_query(app):
    sql = str(
        counts.agency_counts_query(parse_period("2026-Q3")).compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
    ).upper()
    # SQLite groups by +agency_id, which keeps its planner on the covering index.
    assert sql.count("SELECT") == 1
    assert re.search(r"GROUP BY \+?RESPONSE\.AGENCY_ID, RESPONSE\.STATUS", sql)


def test_the_heatmap_uses_vietnam_hours_and_weekdays(app, tree, add_responses):
    # Monday 3 August 2026, 02:00 UTC = 09:00 in Vietnam.
    add_responses(tree["desks"]["C"], 2, 1, datetime(2026, 8, 3, 2, 0))
    heat = detail.heatmap(parse_period("2026-Q3"), {tree["commune"].id})
    monday = heat.cells[0]
    assert monday[heat.hours.index(9)] == (3, 2)
    assert heat.peak == 3


def test_the_table_counts_and_channel_shares_match_the_plain_queries(app, tree, add_responses):
    add_responses(tree["desks"]["H"], 8, 2, datetime(2026, 8, 1, 3))
    add_responses(tree["desks"]["HOSP"], 3, 1, datetime(2026, 5, 1, 3))  # previous quarter
    add_responses(tree["desks"]["HOSP"], 1, 2, datetime(2026, 8, 2, 3), Status.FLAGGED)
    add_responses(tree["desks"]["C"], 2, 0, datetime(2026, 9, 1, 3), Status.EXCLUDED)
    db.session.execute(
        sa.update(Response).where(Response.satisfied.is_(False)).values(channel="kiosk")
    )
    db.session.commit()
    period = parse_period("2026-Q3")
    found = counts.period_counts(period, period.previous())
    assert found.current == counts.agency_counts(period)
    assert found.previous == counts.agency_counts(period.previous())
    assert found.channels == counts.channel_counts(period, None)
    assert found.channels == {
        "qr": counts.Counts(valid=8, satisfied=8),
        "kiosk": counts.Counts(valid=2, satisfied=0),
    }


def test_period_counts_are_read_from_the_covering_index_alone(app):
    period = parse_period("2026-Q3")
    query = counts.agency_channel_counts_query(period)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            # An empty table is cheaper to read whole: ask for the plan an index would give.
            connection.execute(sa.text("SET enable_seqscan = off"))
            connection.execute(sa.text("SET enable_bitmapscan = off"))
            plan = connection.execute(sa.text("EXPLAIN " + sql)).scalars().all()
            assert any("Index Only Scan using ix_response_time_covering" in p for p in plan)
        else:
            plan = [r[-1] for r in connection.execute(sa.text("EXPLAIN QUERY PLAN " + sql))]
            assert any("COVERING INDEX ix_response_time_covering" in p for p in plan)


def test_the_report_tree_is_read_once_and_follows_changes_at_once(app, tree, make_agency):
    """The agency tree, sorted by name, is cached per process (survey.cache): a second report
    reads no agency names; a renamed agency, a new one and a moved one show in the next
    report of the same process, in the tree's alphabetical order."""
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        assert [r.code for r in _report(app).rows] == ["P", "C", "H", "HOSP"]
        statements.clear()
        assert [r.code for r in _report(app).rows] == ["P", "C", "H", "HOSP"]
        assert not [s for s in statements if "agency.name_en" in s]

        with app.app_context():
            commune = db.session.get(type(tree["commune"]), tree["commune"].id)
            commune.name = "Xã Z"  # now after "Xã H"
            db.session.commit()
        make_agency("B", name="Xã B", parent=tree["province"])
        with app.app_context():
            hospital = db.session.get(type(tree["hospital"]), tree["hospital"].id)
            hospital.parent_id = tree["commune"].id
            db.session.commit()
        rows = _report(app).rows
        assert [(r.code, r.depth) for r in rows] == [
            ("P", 0),
            ("B", 1),
            ("H", 1),
            ("C", 1),
            ("HOSP", 2),
        ]
        assert next(r for r in rows if r.code == "C").name == "Xã Z"
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
