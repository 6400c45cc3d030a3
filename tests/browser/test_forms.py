"""After a form is sent with mistakes, the keyboard focus starts on the summary of what went
wrong, which links to each field: citizen survey, sign-in, admin forms."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Agency, Desk, Level, Role, User
from survey.security import hash_password
from survey.tokens import desk_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

FOCUSED = "() => document.activeElement.className"


def focused_summary(page) -> str:
    """The focused element's class once the error summary has the focus. `autofocus` moves
    it when the browser next renders, which can come after the load event that the
    navigation waits for (it did on a loaded machine); waiting fails after 5 s if it never
    does."""
    page.locator(".error-summary:focus").wait_for(timeout=5000)
    return page.evaluate(FOCUSED)


@pytest.fixture
def site(live_server):
    with live_server.app.app_context():
        agency = Agency(code="PHT", name="Phường Hòa Thuận", level=Level.COMMUNE)
        desk = Desk(agency=agency, code="PHT-Q1", name="Quầy tiếp nhận số 1")
        admin = User(
            email="admin@example.org", role=Role.ADMIN, password_hash=hash_password(PASSWORD)
        )
        db.session.add_all([agency, desk, admin])
        db.session.commit()
        return live_server, desk_token(desk.id)


def test_citizen_form_sent_without_a_rating_focuses_the_summary(site, page):
    server, token = site
    page.goto(f"{server.url}/s/{token}")
    page.get_by_label("Góp ý (không bắt buộc)").fill("Chờ lâu")
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi đánh giá").click()
    assert focused_summary(page) == "error-summary"
    summary = page.locator(".error-summary")
    assert "Vui lòng kiểm tra" in summary.inner_text()
    # The link leads to the rating: following it puts the keyboard on the first choice.
    page.keyboard.press("Tab")
    link = page.locator(":focus")
    assert link.get_attribute("href") == "#rating-0"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "rating-0"
    # What was typed is still there.
    assert page.get_by_label("Góp ý (không bắt buộc)").input_value() == "Chờ lâu"


def test_wrong_password_focuses_the_summary(site, page):
    server, _token = site
    page.goto(f"{server.url}/auth/login")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Mật khẩu").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    assert focused_summary(page) == "error-summary"
    assert page.locator(".error-summary").inner_text().strip() != ""


def test_admin_form_with_empty_fields_focuses_a_summary_that_links_each_field(site, page):
    server, _token = site
    page.goto(f"{server.url}/auth/login")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{server.url}/admin/agencies/new")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert focused_summary(page) == "error-summary"
    links = page.locator(".error-summary a")
    targets = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "#code" in targets and "#name" in targets
    # Every link leads to a field of the form that shows its own error.
    for target in targets:
        field = page.locator(target)
        assert field.count() == 1, target
        assert field.get_attribute("aria-invalid") == "true", target
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Agency.id))) == 1
