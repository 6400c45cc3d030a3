"""One agency in depth: trend, criteria, levels, channels, desks, heatmap and comments."""

from __future__ import annotations

import pytest

from tests.conftest import html, text_of
from tests.survey.dashboard.conftest import QUARTER


def test_agency_page_shows_every_section(signed_in):
    response = signed_in.get(f"/dashboard/agency/SYT?period={QUARTER}")
    assert response.status_code == 200
    page = html(response)
    assert text_of(response, "h1") == "Sở Y tế"
    assert "Chưa đạt chỉ tiêu" in text_of(response, "#agency-verdict")
    assert len(page.select("#criteria tbody tr")) == 9
    assert [th.get_text() for th in page.select("#levels tbody th")] == [
        "Rất hài lòng",
        "Hài lòng",
        "Không hài lòng",
    ]
    assert {tr["data-key"] for tr in page.select("#channel-split tbody tr")} == {
        "qr",
        "kiosk",
        "paper",
        "api",
    }
    assert any(tr["data-key"].startswith("BVDK-") for tr in page.select("#desk-split tbody tr"))
    assert [th.get_text() for th in page.select("#heatmap tbody th")][0] == "Thứ Hai"
    assert page.select("#units a[href^='/dashboard/agency/BVDK']")
    assert page.select_one(".chart img[src^='/dashboard/agency/SYT/trend.png']") is not None
    assert len(page.select("#trend tbody tr")) == 3  # July, August, September


def test_comments_are_searchable(signed_in):
    response = signed_in.get(f"/dashboard/agency/DEMO?period={QUARTER}&q=ghế ngồi")
    comments = html(response).select("#comments .comment-text")
    assert comments and all("ghế ngồi" in c.get_text() for c in comments)
    none = signed_in.get(f"/dashboard/agency/DEMO?period={QUARTER}&q=zzzz")
    assert "zzzz" in text_of(none, "#no-comments")


def test_comments_page_through_older_ones(signed_in):
    first = html(signed_in.get(f"/dashboard/agency/DEMO?period={QUARTER}"))
    older = first.select_one(".pager a")["href"]
    second = html(signed_in.get(older))
    first_texts = [li.get_text() for li in first.select("#comments li")]
    second_texts = [li.get_text() for li in second.select("#comments li")]
    assert len(first_texts) == 20 and second_texts and first_texts != second_texts


@pytest.mark.parametrize("fmt, media", [("png", "image/png"), ("svg", "image/svg+xml")])
def test_trend_chart_is_served_as_an_image(signed_in, fmt, media):
    response = signed_in.get(f"/dashboard/agency/SYT/trend.{fmt}?period={QUARTER}")
    assert response.status_code == 200
    assert response.mimetype == media
    assert len(response.data) > 5000


def test_trend_data_is_downloadable_as_csv(signed_in):
    response = signed_in.get(f"/dashboard/agency/SYT/trend.csv?period={QUARTER}&trend=month")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("period,label,valid,satisfied,rate")
    assert [line.split(",")[0] for line in lines[1:]] == ["2026-07", "2026-08", "2026-09"]


@pytest.mark.parametrize(
    "query, status",
    [("trend=week", 400), ("page=0", 400), ("page=abc", 400), ("q=" + "x" * 101, 400)],
)
def test_bad_agency_page_values_get_a_clear_4xx(signed_in, query, status):
    response = signed_in.get(f"/dashboard/agency/SYT?period={QUARTER}&{query}")
    assert response.status_code == status
    assert text_of(response, ".error-page p")


def test_an_unknown_agency_page_is_404(signed_in):
    assert signed_in.get(f"/dashboard/agency/NOPE?period={QUARTER}").status_code == 404
    assert signed_in.get(f"/dashboard/agency/NOPE/trend.png?period={QUARTER}").status_code == 404


def test_an_agency_without_responses_has_no_trend_to_draw(signed_in):
    response = signed_in.get("/dashboard/agency/SYT/trend.png?period=2025-Q1")
    assert response.status_code == 404
    assert "Không có số liệu để vẽ" in text_of(response, ".error-page")
