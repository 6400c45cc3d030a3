"""Only administrators reach the administration; everyone else is turned away."""

from __future__ import annotations

import pytest

from survey.models import Agency, Role
from tests.conftest import count, csrf_token, html, text_of
from tests.survey.admin.conftest import post

PAGES = [
    "/admin/",
    "/admin/agencies",
    "/admin/agencies/new",
    "/admin/agencies/merge",
    "/admin/agencies/export.csv",
    "/admin/questionnaires",
    "/admin/targets",
    "/admin/targets/new",
    "/admin/users",
    "/admin/users/new",
    "/admin/api-keys",
    "/admin/api-keys/new",
    "/admin/imports/agencies",
    "/admin/imports/paper",
    "/admin/imports/paper/template.csv",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_analysts_get_403_on_every_admin_page(client, login, make_user):
    login(make_user(role=Role.ANALYST))
    assert {client.get(path).status_code for path in PAGES} == {403}


def test_analysts_cannot_create_agencies_even_with_a_valid_token(client, login, make_user):
    login(make_user(role=Role.ANALYST))
    token = csrf_token(client.get("/"))  # the sign-out form carries one
    response = client.post(
        "/admin/agencies/new",
        data={"csrf_token": token, "code": "X1", "name": "Xã Một", "level": "commune"},
    )
    assert response.status_code == 403
    assert count(Agency) == 0


def test_overview_links_every_section(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert text_of(response, "h1") == "Quản trị"
    links = {a["href"] for a in html(response).select(".admin-sections h2 a")}
    assert {
        "/admin/agencies",
        "/admin/questionnaires",
        "/admin/targets",
        "/admin/users",
        "/admin/api-keys",
        "/admin/imports/paper",
    } <= links


def test_overview_links_kiosks_only_when_that_section_exists(admin_client, app):
    page = html(admin_client.get("/admin/"))
    has_kiosks = "kiosks.index" in app.view_functions
    assert (page.select_one("#section-kiosks") is not None) == has_kiosks


def test_a_post_without_csrf_token_changes_nothing(admin_client, make_agency):
    agency = make_agency()
    response = admin_client.post(f"/admin/agencies/{agency.id}/deactivate", data={"x": "1"})
    assert response.status_code == 400
    assert agency.active is True


def test_unknown_ids_are_404(admin_client):
    assert admin_client.get("/admin/agencies/999999").status_code == 404
    assert post(admin_client, "/admin/desks/999999/deactivate").status_code == 404
