"""The public results on a phone and on a desktop: one card per agency on a
small screen, the table on a wide one, and nothing to scroll sideways."""

from __future__ import annotations

from datetime import date

import pytest

from survey import demo
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def demo_server(live_server):
    with live_server.app.app_context():
        demo.seed(PASSWORD, today=date(2026, 11, 21))
    return live_server


def test_public_results_are_cards_on_a_phone_and_a_table_on_a_desktop(demo_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{demo_server.url}/public/results")
    rows = page.locator("#public-results tbody tr")
    assert rows.count() > 10
    assert page.evaluate(SIDEWAYS) == 0
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("w => w.scrollWidth - w.clientWidth") == 0
    # The header row is left for screen readers only (1 px, clipped).
    assert page.locator("#public-results thead").bounding_box()["width"] <= 1
    first = rows.first
    box = first.bounding_box()
    assert box["width"] <= 360 and box["height"] > 100  # a card: the cells stacked
    # Each value carries its column's name, and the verdict is inside the card.
    rate = first.locator("td.rate")
    label = rate.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Tỷ lệ"'
    assert first.locator(".badge").is_visible()
    assert first.locator(".badge").bounding_box()["y"] < box["y"] + box["height"]

    page.set_viewport_size({"width": 1440, "height": 900})
    page.reload()
    assert page.locator("#public-results thead").bounding_box()["width"] > 1000
    assert page.evaluate(SIDEWAYS) == 0
    cells = first.locator("th, td")
    tops = {round(cells.nth(i).bounding_box()["y"]) for i in range(cells.count())}
    assert len(tops) == 1  # one line per agency
