"""One agency, one period, one set of options: one target and one verdict, wherever it is read.

Each test reproduces one of the contradictions listed in issue 13 (they were reproduced on the
code before the fix) and checks that the views now agree.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from survey import reporting
from survey.extensions import db
from survey.models import Kind, Level, Target
from survey.scope import subtree_ids

AT = datetime(2026, 8, 1, 3)  # in 2026-Q3


def _report(app, scope=None, **args):
    with app.test_request_context():
        options = reporting.parse_options({"period": "2026-Q3", **args}, None)
        return reporting.report_for(options, scope)


def _agency_target(agency, rate):
    db.session.add(Target(rate=rate, valid_from=date(2026, 1, 1), scope="agency", agency=agency))
    db.session.commit()


@pytest.fixture
def province(make_agency, make_desk, add_responses):
    """Province P (agency target 60%) with 24 communes: C00 at 26/30, the others near 65%;
    P pools 338/510. The general target is the seeded 90%."""
    p = make_agency("P", level=Level.PROVINCE)
    _agency_target(p, 0.6)
    counts = [(26, 30)] + [(14, 21)] * 20 + [(11, 20), (11, 20), (10, 20)]
    for i, (satisfied, valid) in enumerate(counts):
        commune = make_agency(f"C{i:02d}", parent=p)
        add_responses(make_desk(agency=commune), satisfied, valid - satisfied, AT)
    return p


def test_a_commune_filtered_alone_keeps_the_target_it_inherits(app, province):
    # Before: the row said "meets 60%" and the summary "below 90%" (the summary looked up the
    # root's own rule only).
    commune = next(c for c in province.children if c.code == "C00")
    for report in (_report(app, agency="C00"), _report(app, scope=subtree_ids(commune.id))):
        row = report.row("C00")
        assert (row.target, row.verdict) == (0.6, "meets")
        assert (report.summary.target, report.summary.verdict) == (0.6, "meets")


def test_the_summary_applies_the_adjustment_of_its_row(app, province):
    # Before: with Holm the province row was "inconclusive" and the summary box "meets".
    report = _report(app, agency="P", adjust="holm")
    row = report.row("P")
    summary = report.summary
    assert (row.valid, row.satisfied) == (510, 338)
    assert (summary.verdict, summary.low, summary.high, summary.target) == (
        row.verdict,
        row.low,
        row.high,
        row.target,
    )
    assert summary.basis == "row"
    assert summary.responses_needed == row.responses_needed
    # P is the only pooled row: its family has one member, so Holm leaves it decided.
    assert row.family == "pooled" and row.verdict == "meets"


@pytest.mark.parametrize("adjust", ["holm", "fdr_bh"])
def test_a_verdict_does_not_depend_on_the_view(app, province, adjust):
    # Before: C00 (26/30, interval 70.3-92.9%, wholly above 60%) was "inconclusive" in the
    # 25-row Holm table and "meets" alone with ?agency=C00.
    commune = next(c for c in province.children if c.code == "C00")
    full = _report(app, adjust=adjust).row("C00")
    alone = _report(app, adjust=adjust, agency="C00").row("C00")
    scoped = _report(app, adjust=adjust, scope=subtree_ids(commune.id)).row("C00")
    filtered = _report(app, adjust=adjust, verdict=full.verdict).row("C00")
    assert full.estimate_low > 0.6  # the unadjusted Wilson interval alone would say "meets"
    # The family is the province's 24 reporting units, whatever the view: 24 x p = 0.036.
    assert full.verdict == "inconclusive"
    # The interval shown beside the verdict is the one at the family's level: it agrees.
    assert full.low <= 0.6 <= full.high
    for other in (alone, scoped, filtered):
        assert (other.verdict, other.p_meets, other.responses_needed, other.low) == (
            full.verdict,
            full.p_meets,
            full.responses_needed,
            full.low,
        )
    assert _report(app, adjust=adjust, agency="C00").summary.verdict == full.verdict


def test_verdict_counts_count_each_reporting_unit_once(app, make_agency, make_desk, add_responses):
    # Before: the nested parent H was counted with its hospital, and a report on one agency
    # counted the agency itself although the docs said the root is not.
    p = make_agency("P", level=Level.PROVINCE)
    h = make_agency("H", parent=p, level=Level.DEPARTMENT, kind=Kind.HEALTH)
    hosp = make_agency("HOSP", parent=h, level=Level.SERVICE_UNIT, kind=Kind.HEALTH)
    c = make_agency("C", parent=p)
    make_agency("EMPTY", parent=p)  # a commune without responses: counted as "no data"
    add_responses(make_desk(agency=hosp), 30, 70, AT)  # below 90%
    add_responses(make_desk(agency=c), 99, 1, AT)  # meets 90%
    report = _report(app)
    assert report.summary.verdict_counts == {
        "meets": 1,
        "below": 1,
        "inconclusive": 0,
        "no_data": 1,
    }
    assert {r.code: r.family for r in report.rows} == {
        "P": "pooled",
        "H": "pooled",
        "HOSP": "unit",
        "C": "unit",
        "EMPTY": "unit",
    }
    # A report on H counts its one unit, the hospital; a report on the hospital counts it.
    for code in ("H", "HOSP"):
        counts = _report(app, agency=code).summary.verdict_counts
        assert counts == {"meets": 0, "below": 1, "inconclusive": 0, "no_data": 0}


def test_a_parent_with_its_own_desks_is_counted_when_nothing_under_it_answered(
    app, make_agency, make_desk, add_responses
):
    p = make_agency("P", level=Level.PROVINCE)
    h = make_agency("H", parent=p, level=Level.DEPARTMENT, kind=Kind.HEALTH)
    make_agency("HOSP", parent=h, level=Level.SERVICE_UNIT, kind=Kind.HEALTH)
    add_responses(make_desk(agency=h), 99, 1, AT)
    report = _report(app)
    assert report.row("H").family == "unit" and report.row("H").counted
    assert report.summary.verdict_counts["meets"] == 1
    assert report.summary.verdict_counts["no_data"] == 1  # HOSP


def test_an_inherited_agency_target_wins_over_the_kind_target_in_row_and_summary(
    app, make_agency, make_desk, add_responses
):
    # Before: the hospital's row inherited its department's 60% and its summary took the
    # 75% health-kind target.
    p = make_agency("P", level=Level.PROVINCE)
    h = make_agency("H", parent=p, level=Level.DEPARTMENT, kind=Kind.HEALTH)
    hosp = make_agency("HOSP", parent=h, level=Level.SERVICE_UNIT, kind=Kind.HEALTH)
    _agency_target(h, 0.6)
    db.session.add(Target(rate=0.75, valid_from=date(2026, 1, 1), scope="kind", kind=Kind.HEALTH))
    db.session.commit()
    add_responses(make_desk(agency=hosp), 140, 60, AT)  # 70%, interval 63.3-75.9%
    report = _report(app, agency="HOSP")
    row = report.row("HOSP")
    assert row.target == 0.6
    assert (report.summary.target, report.summary.verdict) == (row.target, row.verdict)
    assert row.verdict == "meets"
    full = _report(app).row("HOSP")
    assert (full.target, full.verdict) == (0.6, "meets")


def test_a_report_over_several_top_agencies_judges_their_total_as_one_test(
    app, make_agency, make_desk, add_responses
):
    a = make_agency("A", level=Level.PROVINCE)
    b = make_agency("B", level=Level.PROVINCE)
    _agency_target(a, 0.6)
    add_responses(make_desk(agency=a), 90, 10, AT)
    add_responses(make_desk(agency=b), 80, 20, AT)
    for adjust in ("none", "holm"):
        summary = _report(app, adjust=adjust).summary
        assert summary.basis == "total"
        assert (summary.valid, summary.satisfied, summary.target) == (200, 170, 0.9)
        assert summary.verdict == "below"  # 85%, interval 79.4-89.4% (Wilson)


def test_period_changes_are_adjusted_in_the_same_families(app, province, add_responses):
    # Before: "improved" / "declined" were never adjusted, whatever `adjust` said.
    earlier = datetime(2026, 5, 1, 3)  # 2026-Q2
    for commune in province.children:
        desk = commune.desks[0]
        if commune.code == "C00":
            add_responses(desk, 17, 13, earlier)  # 56.7% -> 86.7%: p = 0.010 alone
        else:
            add_responses(desk, 14, 7, earlier)  # no change
    plain = _report(app).row("C00")
    assert plain.change_verdict == "improved"
    for view in ({}, {"agency": "C00"}):
        adjusted = _report(app, adjust="holm", **view).row("C00")
        assert adjusted.change_verdict == "no_clear_change"  # 24 units x 0.010 > 0.05
        assert (adjusted.change_low, adjusted.change_high) == (plain.change_low, plain.change_high)


def test_charts_show_the_tables_numbers_and_verdicts(app, make_agency, make_desk, add_responses):
    # Before: the department was red "below" at 69.3% in the table (pooled with its hospital)
    # and blue "meets" at about 97% in the forest plot (its own desks only).
    from survey.reporting import charts

    p = make_agency("P", level=Level.PROVINCE)
    h = make_agency("SYT", parent=p, level=Level.DEPARTMENT, kind=Kind.HEALTH)
    hosp = make_agency("BV", parent=h, level=Level.SERVICE_UNIT, kind=Kind.HEALTH)
    c = make_agency("C", parent=p)
    add_responses(make_desk(agency=h), 97, 3, AT)
    add_responses(make_desk(agency=hosp), 130, 100, AT)
    add_responses(make_desk(agency=c), 50, 10, AT)
    for adjust in ("none", "holm"):
        report = _report(app, adjust=adjust)
        rows = {r.code: r for r in report.rows}
        assert rows["SYT"].verdict == "below" and rows["SYT"].family == "pooled"
        with app.test_request_context():
            forest = {f["code"]: f for f in charts.forest_rows(report)}
            funnel = {f["code"]: f for f in charts.funnel_rows(report)}
        assert set(forest) == set(rows)
        for code, drawn in forest.items():
            row = rows[code]
            assert (drawn["valid"], drawn["verdict"], drawn["family"]) == (
                row.valid,
                row.verdict,
                row.family,
            )
            assert (drawn["low"], drawn["high"]) == (round(row.low, 6), round(row.high, 6))
        # The funnel draws the reporting units, with their rows' numbers.
        assert set(funnel) == {"BV", "C"}
        assert all(funnel[code]["valid"] == rows[code].valid for code in funnel)
