"""The public results page: no sign-in, last closed quarter, aggregated only."""

from __future__ import annotations

import pytest

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
    assert rows["SGDDT"].select_one(".rate") is not None  # 56 responses


def test_public_results_show_no_comments_or_desks(client):
    page = html(client.get("/public/results"))
    assert page.select("#comments, #desk-split") == []
    assert "Cán bộ hướng dẫn" not in page.get_text()
