"""Design effects of desk-day clusters in reports (issue 13, deliverable 5)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from analysis import assess_target, compare_periods
from analysis.design import cluster_moments, design_effects, intraclass_correlation
from survey import reporting
from survey.extensions import db
from survey.models import Level
from survey.periods import LOCAL_OFFSET
from survey.reporting.counts import _LocalDay
from tests.conftest import html

START = datetime(2026, 7, 6, 2)  # 09:00 in Vietnam, in 2026-Q3
# Desk-days of 10 ratings whose satisfaction swings from day to day (a clerk's good and bad
# days): strongly clustered.
DAYS = [10, 4, 10, 9, 3, 10, 10, 5, 10, 9, 10, 4]


def _report(app, scope=None, **args):
    with app.test_request_context():
        options = reporting.parse_options({"period": "2026-Q3", **args}, None)
        return reporting.report_for(options, scope)


@pytest.fixture
def province(make_agency, make_desk, add_responses):
    p = make_agency("P", level=Level.PROVINCE)
    a = make_agency("A", parent=p)
    b = make_agency("B", parent=p)
    desk_a, desk_b = make_desk(agency=a), make_desk(agency=b)
    for day, satisfied in enumerate(DAYS):
        # Two visits a day, 20 minutes apart, on the same local day.
        at = START + timedelta(days=day)
        add_responses(desk_a, satisfied // 2, 5 - satisfied // 2, at)
        add_responses(
            desk_a,
            satisfied - satisfied // 2,
            5 - (satisfied - satisfied // 2),
            at + timedelta(minutes=20),
        )
        add_responses(desk_b, 8, 2, at)
    return p


def test_the_design_effect_comes_from_desk_days_shrunk_toward_the_province(app, province):
    row = _report(app).row("A")
    x_a = [s for s in DAYS]
    moments = cluster_moments(x_a + [8] * len(DAYS), [10] * (2 * len(DAYS)), [0] * 12 + [1] * 12)
    expected = design_effects(moments)
    assert row.desk_days == 12
    assert intraclass_correlation(x_a, [10] * 12) > 0.3
    assert row.rho == pytest.approx(expected.rho[0])
    assert row.deff == pytest.approx(expected.deff[0])
    assert row.deff > 2
    # The verdict and its interval are the exact test on n / deff.
    direct = assess_target(sum(DAYS), 120, 0.9, deff=row.deff)
    assert (row.verdict, row.low, row.high) == (direct.verdict, direct.low, direct.high)
    # B's desk-days are identical: its own estimate is 0, pulled toward the province's.
    b = _report(app).row("B")
    assert 1 < b.deff < row.deff


def test_without_the_option_every_rating_counts_as_independent(app, province):
    with_deff = _report(app).row("A")
    without = _report(app, deff="none").row("A")
    assert without.deff == 1.0 and without.rho is None
    assert without.high - without.low < with_deff.high - with_deff.low
    assert (without.verdict, with_deff.verdict) == ("below", "inconclusive")


def test_the_design_effect_does_not_depend_on_the_view(app, province):
    full = _report(app).row("A")
    alone = _report(app, agency="A").row("A")
    assert (alone.deff, alone.verdict, alone.low) == (full.deff, full.verdict, full.low)


def test_the_agency_page_shows_the_design_effect(app, client, province, login, make_user):
    login(make_user())
    page = html(client.get("/dashboard/agency/A?period=2026-Q3"))
    text = page.select_one("#agency-deff").get_text(" ", strip=True)
    row = _report(app).row("A")
    assert "12" in text and f"{row.deff:.2f}".replace(".", ",") in text
    page = html(client.get("/dashboard/agency/A?period=2026-Q3&deff=none"))
    assert page.select_one("#agency-deff") is not None


def test_an_unknown_design_effect_option_is_refused(app):
    with app.test_request_context(), pytest.raises(reporting.OptionError):
        reporting.parse_options({"period": "2026-Q3", "deff": "guess"}, None)


def test_funnel_svg_points_have_titles_and_the_csv_says_own_desks_only(
    app, client, province, login, make_user
):
    # Issue 13, deliverable 6: the funnel shows the reporting units' own desks, and says so.
    login(make_user())
    svg = client.get("/dashboard/charts/funnel.svg?period=2026-Q3").data.decode()
    titles = re.findall(r'<g id="funnel-point-\d+">\s*<title>([^<]*)</title>', svg)
    report = _report(app)
    expected = {r.name for r in report.units()}
    assert len(titles) == len(expected) == 2
    assert {t.rsplit(":", 1)[0] for t in titles} == expected
    rows = client.get("/dashboard/charts/funnel.csv?period=2026-Q3").data.decode("utf-8-sig")
    header = rows.splitlines()[0].split(",")
    assert "counts" in header
    assert all(
        line.split(",")[header.index("counts")] == "own desks only"
        for line in rows.splitlines()[1:]
    )


def test_the_change_verdict_judges_both_periods_on_their_effective_counts(
    app, province, make_desk, add_responses
):
    # The quarter before, at A's desk: clustered too, with a lower rate (76/120).
    before = [6, 3, 7, 8, 3, 9, 6, 5, 10, 6, 9, 4]
    desk = province.children[0].desks[0]
    for day, satisfied in enumerate(before):
        at = START - timedelta(days=80) + timedelta(days=day)
        add_responses(desk, satisfied, 10 - satisfied, at)
    row = _report(app).row("A")
    assert (row.previous_valid, row.previous_satisfied) == (120, sum(before))
    assert row.previous_deff > 1 and row.deff > 2  # each period its own estimate
    assert row.previous_deff != row.deff
    direct = compare_periods(
        sum(before), 120, sum(DAYS), 120, deff1=row.previous_deff, deff2=row.deff
    )
    assert (row.change_verdict, row.change_low, row.change_high) == (
        direct.verdict,
        pytest.approx(direct.low),
        pytest.approx(direct.high),
    )
    # Counted as independent ratings, the same counts would read as a clear improvement.
    plain = _report(app, deff="none").row("A")
    assert plain.previous_deff == 1.0
    assert (plain.change_verdict, row.change_verdict) == ("improved", "no_clear_change")
    # The level verdict and the change verdict of one report use one design effect each period.
    assert _report(app, agency="A").row("A").change_verdict == row.change_verdict


def test_a_desk_day_is_a_day_in_vietnam_time_on_every_backend(app):
    # 16:59:59 UTC is 23:59:59 in Vietnam, 17:00 UTC the next local day.
    with app.app_context():
        for moment in (
            datetime(2026, 7, 6, 16, 59, 59),
            datetime(2026, 7, 6, 17, 0, 0),
            datetime(1999, 12, 31, 17, 0, 0),
            datetime(2026, 1, 1, 0, 0, 0),
        ):
            column = sa.literal(moment, type_=sa.DateTime())
            found = db.session.scalar(sa.select(_LocalDay(column)))
            expected = ((moment + LOCAL_OFFSET).date() - date(1970, 1, 1)).days
            assert found == expected, moment
