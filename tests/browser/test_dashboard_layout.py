"""The dashboard on a 1440 px screen: the agency table fits, its name column stays in view, and
the statistical settings wait in an "advanced" section of the filters."""

from __future__ import annotations

from datetime import date

import pytest

from survey import demo
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(live_server):
    with live_server.app.app_context():
        demo.seed(PASSWORD, today=date(2026, 11, 21))
    return live_server


def sign_in(page, url):
    page.goto(f"{url}/auth/login")
    page.get_by_label("Email").fill(demo.ANALYST_EMAIL)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/dashboard")


def _header(page, text: str) -> dict:
    return page.locator("#agencies thead th", has_text=text).first.bounding_box()


def test_at_1440_px_the_change_and_flag_columns_are_on_screen(demo_server, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/dashboard?period=2026-Q3")
    headers = page.locator("#agencies thead th").all_inner_texts()
    wanted = ["Thay đổi", "Gắn cờ / đã loại", "Số phản hồi cần thêm"]
    assert [h for h in headers if h in wanted] == wanted
    for text in ("Thay đổi", "Gắn cờ / đã loại", "Số phản hồi cần thêm"):
        box = _header(page, text)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1440, (text, box)


def test_the_agency_name_stays_in_view_when_the_table_scrolls(demo_server, page):
    page.set_viewport_size({"width": 1024, "height": 800})
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/dashboard?period=2026-Q3")
    wrap = page.locator(".table-wrap")
    wrap.evaluate("w => window.scrollTo(0, w.getBoundingClientRect().top + window.scrollY - 10)")
    scroll = wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; return w.scrollLeft; }")
    assert scroll > 200  # the table is wider than the screen, so it did scroll
    name = page.locator("#agencies tbody tr .agency-name").nth(1)
    box, frame = name.bounding_box(), wrap.bounding_box()
    assert frame["x"] - 1 <= box["x"] <= frame["x"] + 1
    # Nothing covers it: the point at its middle belongs to the name cell.
    assert name.evaluate(
        "th => { const r = th.getBoundingClientRect();"
        " return th.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
    )
    page.screenshot(path="/tmp/t17/scrolled.png")


def test_statistical_settings_wait_in_an_advanced_section(demo_server, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/dashboard?period=2026-Q3")
    advanced = page.locator("form.filters details.advanced")
    assert advanced.get_attribute("open") is None
    assert page.get_by_label("Phương pháp tính khoảng").is_hidden()
    assert page.get_by_label("Kỳ báo cáo").is_visible()
    advanced.locator("summary").click()
    page.get_by_label("Phương pháp tính khoảng").select_option("wald")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    # A changed setting is never hidden: the section opens by itself.
    assert page.locator("form.filters details.advanced").get_attribute("open") is not None
    assert page.get_by_label("Phương pháp tính khoảng").is_visible()
