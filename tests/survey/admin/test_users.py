"""Users (invite, role and scope, disable, new password) and API keys (create once, revoke)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from survey.extensions import db
from survey.models import ApiKey, Role, User
from tests.conftest import count, csrf_token, html, text_of
from tests.survey.admin.conftest import post


def user_data(**overrides) -> dict:
    return {
        "email": "Lan.Nguyen@example.gov.vn",
        "name": "Nguyễn Thị Lan",
        "role": "analyst",
        "agency": "",
        "password": "",
        **overrides,
    }


def sign_in(app, email: str, password: str):
    """Sign in from another browser; a fresh app context keeps the admin's `g` out of it."""
    with app.app_context():
        client = app.test_client()
        token = csrf_token(client.get("/auth/login"))
        return client.post(
            "/auth/login", data={"email": email, "password": password, "csrf_token": token}
        )


def test_inviting_a_user_shows_a_password_once_that_works(admin_client, app, make_agency):
    agency = make_agency(code="XAB")
    response = post(admin_client, "/admin/users/new", user_data(agency=str(agency.id)))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = html(response).select_one("#secret")["value"]
    user = db.session.scalar(sa.select(User).where(User.email == "lan.nguyen@example.gov.vn"))
    assert (user.role, user.agency_id) == (Role.ANALYST, agency.id)
    assert password not in user.password_hash
    assert sign_in(app, "lan.nguyen@example.gov.vn", password).status_code == 302


def test_an_existing_email_is_refused(admin_client, admin):
    response = post(admin_client, "/admin/users/new", user_data(email=admin.email))
    assert response.status_code == 400
    assert text_of(response, "#email-error") == "Đã có người dùng với địa chỉ thư điện tử này."
    assert count(User) == 1


def test_an_admin_with_an_agency_scope_is_an_agency_administrator(admin_client, make_agency):
    agency = make_agency()
    response = post(
        admin_client, "/admin/users/new", user_data(role="admin", agency=str(agency.id))
    )
    assert response.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == "lan.nguyen@example.gov.vn"))
    assert (user.role, user.agency_id) == (Role.ADMIN, agency.id)


def test_role_and_scope_change(admin_client, make_user, make_agency):
    user = make_user(role=Role.ANALYST)
    agency = make_agency()
    response = post(
        admin_client,
        f"/admin/users/{user.id}/edit",
        {"email": user.email, "name": "", "role": "analyst", "agency": str(agency.id)},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).agency_id == agency.id
    row = html(admin_client.get("/admin/users")).select_one(f"tr[data-email='{user.email}']")
    assert row.select_one("td.scope").get_text(strip=True) == agency.name


def test_a_disabled_user_cannot_sign_in(admin_client, app, make_user):
    from tests.conftest import PASSWORD

    user = make_user()
    assert post(admin_client, f"/admin/users/{user.id}/disable").status_code == 303
    assert sign_in(app, user.email, PASSWORD).status_code == 401
    assert post(admin_client, f"/admin/users/{user.id}/enable").status_code == 303
    assert sign_in(app, user.email, PASSWORD).status_code == 302


def test_admins_cannot_lock_themselves_out(admin_client, admin):
    assert post(admin_client, f"/admin/users/{admin.id}/disable").status_code == 409
    response = post(
        admin_client,
        f"/admin/users/{admin.id}/edit",
        {"email": admin.email, "name": "", "role": "analyst", "agency": ""},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == Role.ADMIN


def test_a_new_password_replaces_the_old_one(admin_client, app, make_user):
    from tests.conftest import PASSWORD

    user = make_user()
    response = post(admin_client, f"/admin/users/{user.id}/reset-password")
    password = html(response).select_one("#secret")["value"]
    assert sign_in(app, user.email, PASSWORD).status_code == 401
    assert sign_in(app, user.email, password).status_code == 302


def test_an_api_key_is_shown_once_works_and_stops_when_revoked(admin_client, app, desk):
    response = post(
        admin_client,
        "/admin/api-keys/new",
        {"name": "iGate tỉnh", "scopes": ["responses:write"], "agency": ""},
    )
    assert response.status_code == 200
    key = html(response).select_one("#secret")["value"]
    row = db.session.scalar(sa.select(ApiKey))
    assert key.startswith(f"hl_{row.prefix}_") and key not in row.key_hash
    api = app.test_client()
    body = {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long"}
    headers = {"Authorization": f"Bearer {key}"}
    assert api.post("/api/v1/responses", json=body, headers=headers).status_code == 201
    listing = html(admin_client.get("/admin/api-keys"))
    assert key not in str(listing)
    assert post(admin_client, f"/admin/api-keys/{row.id}/revoke").status_code == 303
    body["id"] = str(uuid.uuid4())
    assert api.post("/api/v1/responses", json=body, headers=headers).status_code == 401


def test_an_api_key_needs_a_permission(admin_client):
    response = post(admin_client, "/admin/api-keys/new", {"name": "x", "agency": ""})
    assert response.status_code == 400
    assert "Hãy chọn ít nhất một quyền." in text_of(response, "#api-key-form")
    assert count(ApiKey) == 0
