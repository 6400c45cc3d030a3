"""Every rendered page, crawled from its entry points as a visitor and as an administrator."""

from __future__ import annotations

import shutil
import uuid

import pytest

from survey import create_app, demo
from survey.extensions import db
from tests.conftest import PASSWORD, html
from tests.pages import QUARTER, crawl, html_endpoints, seed_site


@pytest.fixture(scope="module")
def app(tmp_path_factory, sqlite_template):
    # What a page renders does not depend on the database: SQLite is enough here. No app
    # context stays pushed, so that each request has its own `g` (Flask-WTF keeps the CSRF
    # token there) and two clients can be signed in side by side.
    path = tmp_path_factory.mktemp("pages") / "pages.db"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "pages-" + uuid.uuid4().hex,
            "SERVER_NAME": "hailong.test",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def pages(app):
    site = seed_site(app)
    visitor = app.test_client()
    found = crawl(
        app,
        visitor,
        [
            "/",
            "/auth/login",
            "/public/results",
            "/kiosk",
            "/kiosk/enrol",
            site.survey,
            f"{site.survey}?lang=en",
            site.thanks,
            site.ticket,
            site.ticket_thanks,
            site.kiosk_enrol_link,
        ],
    )
    admin = app.test_client()
    token = html(admin.get("/auth/login")).select_one("input[name=csrf_token]")["value"]
    signed_in = admin.post(
        "/auth/login",
        data={"email": demo.ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code == 302, signed_in.text[-1500:]
    found += crawl(
        app,
        admin,
        [
            "/admin/",
            "/admin/holidays/2026",  # the admin menu's "Holidays" redirects to this year's
            f"/dashboard?period={QUARTER}",
            f"/dashboard/agency/{site.agency_code}?period={QUARTER}",
            "/dashboard?period=Q9/2026",
            "/review/",
            site.review_detail,
        ],
    )
    return found


def test_the_crawl_reaches_every_html_page_and_its_form_errors(app, pages):
    reached = {page.endpoint for page in pages}
    missing = html_endpoints(app) - reached
    assert not missing, (
        f"no link leads to {sorted(missing)}: link them from a page, or add an entry point "
        "in tests/pages.py (non-HTML GET endpoints go in NOT_HTML there)"
    )
    errors = [page for page in pages if page.after == "POST" and page.status == 400]
    assert {page.endpoint for page in errors} >= {
        "auth.login",
        "citizen.survey",
        "tickets.survey",
        "kiosk.enrol",
        "admin.agency_new",
        "admin.user_new",
        "kiosks.create",
    }


def test_no_rendered_page_is_a_server_error(pages):
    assert pages
    assert [(page.url, page.status) for page in pages if page.status >= 500] == []


def test_no_attribute_of_any_rendered_page_is_the_text_none(pages):
    # WTForms writes a Python None as the text "None"; ARIA reads aria-invalid="None" as true.
    assert len(pages) > 50
    found = [
        (page.after, page.url, node.name, name)
        for page in pages
        for node in html_of(page).find_all(True)
        for name, value in node.attrs.items()
        if value == "None" or value == ["None"]
    ]
    assert found == []


def test_form_fields_are_marked_invalid_only_when_they_have_an_error(pages):
    invalid = 0
    for page in pages:
        for node in html_of(page).select("[aria-invalid]"):
            assert node["aria-invalid"] == "true", (page.url, str(node)[:200])
            described = node.get("aria-describedby", "").split()
            assert any(ref.endswith("-error") for ref in described), (page.url, str(node)[:200])
            invalid += 1
    assert invalid > 0


def html_of(page):
    from bs4 import BeautifulSoup

    return BeautifulSoup(page.html, "html.parser")
