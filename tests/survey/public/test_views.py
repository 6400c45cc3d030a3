"""The public results page: no sign-in, last closed quarter, aggregated only."""

from __future__ import annotations

import pytest

from survey import periods, reporting
from tests.conftest import html, text_of


@pytest.fixture
def app_config(database_url):
    return {"PUBLIC_MIN_RESPONSES": 50}


def test_public_results_need_no_sign_in_and_show_the_last_closed_quarter(client):
    response = client.get("/public/results")
    assert response.status_code == 200
    assert "Quý 3/2026" in text_of(response, ".lede")
    rows = {tr["data-code"]: tr for tr in html(response).select("#public-results tbody tr")}
    assert len(rows) == 24
    assert rows["STP"].select_one(".badge-meets") is not None
    assert rows["XVL"].select_one(".badge-below") is not None


def test_agencies_under_the_minimum_show_not_enough_responses(client):
    rows = {
        tr["data-code"]: tr
        for tr in html(client.get("/public/results")).select("#public-results tbody tr")
    }
    assert "Chưa đủ số phản hồi (dưới 50)" in rows["XTS"].select_one(".not-enough").get_text()
    assert rows["XTS"].select_one(".rate") is None
    # 56 responses: enough, but the smallest agency beside the hidden ones, so it is hidden as
    # their complement (docs/security.md, finding 15: parent − siblings would give them away).
    assert rows["SGDDT"].select_one(".complement") is not None
    assert sum(tr.select_one(".rate") is not None for tr in rows.values()) >= 10


def test_public_results_show_no_comments_or_desks(client):
    page = html(client.get("/public/results"))
    assert page.select("#comments, #desk-split") == []
    assert "Cán bộ hướng dẫn" not in page.get_text()


def test_public_verdicts_are_the_dashboards_with_the_public_adjustment(app, client):
    # Before: the public page judged two dozen agencies at once without any adjustment.
    response = client.get("/public/results")
    assert "Holm" in text_of(response, "#adjustment-note")
    with app.test_request_context():
        options = reporting.ReportOptions(
            period=periods.last_closed_quarter(), adjust=app.config["PUBLIC_ADJUST"]
        )
        report = reporting.build_report(options)
    assert options.adjust == "holm"
    compared = 0
    for tr in html(response).select("#public-results tbody tr"):
        badge = tr.select_one(".verdict .badge")
        if badge is None:
            continue  # too few responses to show
        verdict = next(c[len("badge-") :] for c in badge["class"] if c.startswith("badge-"))
        assert verdict == report.row(tr["data-code"]).verdict
        compared += 1
    assert compared >= 10
