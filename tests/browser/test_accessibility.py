"""axe-core (shipped by axe-playwright-python) on every page type, in Chromium: no serious or
critical violation anywhere.

The pages: the citizen survey (vi, en, details open, after an error), its thank-you page, the
dossier ticket page, the kiosk enrolment and rating screens, sign-in (normal and after an error),
the public results at 360 and 1440 px, and every staff page reached from the admin, dashboard
and review entry points (dashboard, agency page, review queue, every admin list and form), each
also after sending its form empty (the page with errors).
"""

from __future__ import annotations

import shutil
import uuid

import pytest
import sqlalchemy as sa

from survey import create_app, demo
from survey.extensions import db
from survey.kiosk_settings import WEEKDAYS, KioskSettings
from survey.models import Kiosk
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, html
from tests.pages import QUARTER, crawl, seed_site

pytestmark = pytest.mark.browser

BAR = ("serious", "critical")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def axe():
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        pytest.skip("the accessibility tests need axe-playwright-python (requirements-dev.txt)")
    return Axe()


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template):
    """The demo province plus every kind of object a page can show, served on a local port."""
    path = tmp_path_factory.mktemp("a11y") / "a11y.db"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "a11y-" + uuid.uuid4().hex,
        }
    )
    addresses = seed_site(app)
    server = LiveServer(app)
    server.start()
    yield server, addresses
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def server(site):
    return site[0]


@pytest.fixture
def addresses(site):
    return site[1]


def violations(axe, page) -> list[str]:
    """The serious and critical violations on the page as it is now, one line per node."""
    found = axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {node['target']} {node['html'][:120]}"
        for v in found
        if v["impact"] in BAR
        for node in v["nodes"]
    ]


def check(axe, page, what: str) -> None:
    found = violations(axe, page)
    assert found == [], f"{what} ({page.url}):\n" + "\n".join(found)


def send_empty(page, selector: str = "main form[method=post]") -> None:
    """Send the page's form as it is, without the browser's own validation."""
    with page.expect_navigation():
        page.locator(selector).first.evaluate("form => { form.noValidate = true; form.submit(); }")


def _serve(body: str):
    def handle(route, request):
        route.fulfill(status=400, content_type="text/html; charset=utf-8", body=body)

    return handle


def sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()


def test_axe_finds_a_violation_when_there_is_one(axe, server, page):
    # The check must be able to fail: a field without a label and white on pale grey.
    page.goto(f"{server.url}/auth/login")
    # (Styles set through the CSSOM: the page's CSP forbids inline style attributes.)
    page.evaluate(
        "() => { const main = document.querySelector('main');"
        " main.insertAdjacentHTML('beforeend', '<input type=text><p id=pale>pale text</p>');"
        " const p = document.getElementById('pale');"
        " p.style.color = '#fff'; p.style.background = '#eee'; }"
    )
    found = violations(axe, page)
    assert any(line.startswith("label ") for line in found)
    assert any(line.startswith("color-contrast ") for line in found)


def test_citizen_pages(axe, server, addresses, page):
    page.set_viewport_size(PHONE)
    page.goto(server.url + addresses.survey)
    check(axe, page, "citizen survey (vi)")
    page.locator("details summary").first.click()
    check(axe, page, "citizen survey, details open")
    send_empty(page)
    assert page.locator(".error-summary").count() == 1
    check(axe, page, "citizen survey after an error")
    page.goto(f"{server.url}{addresses.survey}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    check(axe, page, "citizen survey (en)")
    for what, path in [
        ("thank-you page", addresses.thanks),
        ("dossier ticket page", addresses.ticket),
        ("dossier ticket thank-you page", addresses.ticket_thanks),
        ("home page", "/"),
        ("case lookup", "/c/"),
    ]:
        page.goto(server.url + path)
        check(axe, page, what)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["360px", "1440px"])
def test_public_results(axe, server, page, size):
    page.set_viewport_size(size)
    page.goto(f"{server.url}/public/results")
    check(axe, page, f"public results at {size['width']} px")


def test_sign_in_normal_and_after_an_error(axe, server, page):
    page.goto(f"{server.url}/auth/login")
    check(axe, page, "sign-in")
    page.get_by_label("Email").fill(demo.ADMIN_EMAIL)
    page.get_by_label("Mật khẩu").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    assert page.locator(".error-summary").count() == 1
    check(axe, page, "sign-in after an error")


def test_kiosk_enrolment_and_rating_screens(axe, server, addresses, page):
    with server.app.app_context():  # open at any hour, so that the rating screen shows
        kiosk = db.session.scalar(sa.select(Kiosk))
        kiosk.settings = KioskSettings(
            hours={day: ("00:00", "23:59") for day in WEEKDAYS}
        ).to_json()
        db.session.commit()
    page.goto(f"{server.url}/kiosk/enrol")
    check(axe, page, "kiosk enrolment form")
    page.goto(server.url + addresses.kiosk_enrol_link)
    check(axe, page, "kiosk enrolment confirmation")
    page.get_by_role("button", name="Đăng ký máy tính bảng này").click()
    page.wait_for_url("**/kiosk")
    page.locator("#s-rate").wait_for()
    check(axe, page, "kiosk rating screen")
    page.locator("#levels .level").first.click()
    page.locator("#s-criterion:not([hidden]), #s-thanks:not([hidden])").first.wait_for()
    check(axe, page, "kiosk screen after a tap")


def test_staff_pages_and_their_forms_after_an_error(axe, server, addresses, page):
    """Every staff page (one address per endpoint), then each form page as it is after
    sending the form empty: rendered by the app, shown in the browser with the app's CSS."""
    app = server.app
    client = app.test_client()
    token = html(client.get("/auth/login")).select_one("input[name=csrf_token]")["value"]
    client.post(
        "/auth/login",
        data={"email": demo.ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token},
    )
    pages = crawl(
        app,
        client,
        [
            "/admin/",
            f"/dashboard?period={QUARTER}",
            f"/dashboard/agency/{addresses.agency_code}?period={QUARTER}",
            "/review/",
            addresses.review_detail,
            "/cases/",
            "/alerts/",
        ],
        per_endpoint=1,
    )
    shown = [p for p in pages if p.after == "GET" and p.status == 200]
    errors = [p for p in pages if p.after == "POST" and p.status == 400]
    endpoints = {p.endpoint for p in shown}
    assert {
        "dashboard.index",
        "dashboard.agency",
        "review.queue",
        "admin.agencies",
        "admin.users",
        "admin.user_new",
        "admin.agency_new",
        "kiosks.index",
    } <= endpoints, sorted(endpoints)
    assert len(errors) >= 5, [p.url for p in errors]

    sign_in(page, server.url, demo.ADMIN_EMAIL)
    page.set_viewport_size(DESKTOP)
    found = []
    for shown_page in shown:
        page.goto(server.url + shown_page.url)
        found += [f"{shown_page.url}: {line}" for line in violations(axe, page)]
    for error in errors:
        # The form's answer as the app rendered it, served at the form's own address.
        page.route(server.url + error.url, _serve(error.html))
        page.goto(server.url + error.url)
        assert page.locator(".errors, .error-summary").count() > 0, error.url
        found += [f"POST {error.url}: {line}" for line in violations(axe, page)]
        page.unroute(server.url + error.url)
    assert found == [], "\n".join(found)
