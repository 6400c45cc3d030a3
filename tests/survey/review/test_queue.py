"""The review queue as a first-class screen: a navigation item with its count, a link from the
dashboard's flagged count, select-all, and filters by desk, reason and date."""

from __future__ import annotations

from datetime import timedelta

from survey.models import Role, Status, utcnow
from survey.periods import to_local
from tests.conftest import html, text_of


def _listed(client, query="") -> list[str]:
    page = html(client.get(f"/review/?{query}"))
    return [box["value"] for box in page.select("table.flagged input[name=ids]")]


def test_the_navigation_shows_how_many_ratings_wait_for_review(
    client, login, desk, make_user, make_response
):
    make_response(desk)
    make_response(desk)
    login(make_user(role=Role.ADMIN))
    page = client.get("/cases/")
    item = html(page).select_one("nav a.nav-review")
    assert item["href"] == "/review/"
    assert text_of(page, "nav a.nav-review .nav-count").startswith("2")


def test_the_queue_filters_by_desk_reason_and_date(
    client, login, make_agency, make_desk, make_user, make_response
):
    agency = make_agency()
    first, second = make_desk(agency, name="Quầy 1"), make_desk(agency, name="Quầy 2")
    old = make_response(first, reason="kiosk_burst", occurred_at=utcnow() - timedelta(days=40))
    burst = make_response(first, reason="client_burst")
    other_desk = make_response(second, reason="client_burst")
    login(make_user(role=Role.ADMIN))
    assert set(_listed(client)) == {str(old.id), str(burst.id), str(other_desk.id)}
    assert set(_listed(client, f"desk={first.code}")) == {str(old.id), str(burst.id)}
    assert _listed(client, f"desk={first.code}&reason=client_burst") == [str(burst.id)]
    recent = (to_local(utcnow()) - timedelta(days=7)).date().isoformat()
    assert set(_listed(client, f"since={recent}")) == {str(burst.id), str(other_desk.id)}
    page = client.get(f"/review/?reason=kiosk_burst&until={recent}")
    assert text_of(page, "#filtered-total") == "1 phiếu khớp bộ lọc."
    options = [o["value"] for o in html(page).select("#desk option")]
    assert options == ["", first.code, second.code]


def test_bad_filters_get_a_400_with_a_message(client, login, desk, make_user, make_response):
    make_response(desk)
    login(make_user(role=Role.ADMIN))
    assert client.get("/review/?reason=nope").status_code == 400
    assert client.get("/review/?since=2026-02-30").status_code == 400
    refused = client.get("/review/?since=2026-05-02&until=2026-05-01")
    assert refused.status_code == 400
    assert "Ngày kết thúc" in text_of(refused, "main")


def test_a_select_all_box_is_offered_to_browsers_with_javascript(
    client, login, desk, make_user, make_response
):
    make_response(desk)
    login(make_user(role=Role.ADMIN))
    page = html(client.get("/review/"))
    box = page.select_one("#select-all")
    assert box["aria-controls"] == "flagged-rows"
    assert page.select_one("label.select-all").has_attr("hidden")  # shown by review.js
    assert page.select_one("script[src$='js/review.js']") is not None


def test_the_dashboards_flagged_count_links_to_the_queue_for_the_same_period(
    client, login, desk, make_user, make_response
):
    from survey import periods

    period = periods.quarter_of(to_local(utcnow()).date())
    make_response(desk)
    make_response(desk)
    make_response(desk, status=Status.VALID, reason=None)
    login(make_user(role=Role.ADMIN))
    page = client.get(f"/dashboard?period={period.key}")
    link = html(page).select_one("#summary a.review-link")
    assert link.get_text() == "Xem xét 2 phiếu bị gắn cờ"
    assert f"since={period.start.isoformat()}" in link["href"]
    assert len(_listed(client, link["href"].split("?", 1)[1])) == 2
    agency_page = client.get(f"/dashboard/agency/{desk.agency.code}?period={period.key}")
    agency_link = html(agency_page).select_one("a.review-link")
    assert f"agency={desk.agency.code}" in agency_link["href"]
