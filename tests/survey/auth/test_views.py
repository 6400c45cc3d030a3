"""Sessions end when they should (docs/security.md, finding 2) and sign-in throttling locks out
attackers, not owners, and does not tell which emails exist (finding 3)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Role, User
from tests.conftest import PASSWORD, csrf_token
from tests.survey.admin.conftest import post


def sign_in(app, email, password=PASSWORD, address="198.51.100.7", remember=False):
    """Sign in from a browser of its own (a fresh app context keeps `g` apart)."""
    with app.app_context():
        browser = app.test_client()
        env = {"REMOTE_ADDR": address}
        token = csrf_token(browser.get("/auth/login", environ_base=env))
        data = {"email": email, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        response = browser.post("/auth/login", data=data, environ_base=env)
    return browser, response


def signed_in(app, browser) -> bool:
    with app.app_context():
        return browser.get("/dashboard/").status_code == 200


def domain(app) -> str:
    return app.config.get("SERVER_NAME") or "localhost"


def cookie(browser, name):
    found = browser.get_cookie(name, domain=domain(browser.application))
    assert found is not None, name
    return found.value


def with_cookies(app, **cookies):
    """A new browser that only has the given (copied) cookies."""
    with app.app_context():
        browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value, domain=domain(app))
    return browser


def sign_out(app, browser):
    with app.app_context():
        token = csrf_token(browser.get("/dashboard/"))
        assert browser.post("/auth/logout", data={"csrf_token": token}).status_code == 302


@pytest.fixture
def boss_client(client, login, make_user):
    login(make_user(role=Role.ADMIN, email="boss@example.org"))
    return client


@pytest.fixture
def analyst(make_user):
    return make_user(role=Role.ANALYST, email="lan@example.org")


# ---- finding 2: sessions end ----------------------------------------------------------------


def test_a_session_cookie_copied_before_sign_out_no_longer_works(app, analyst):
    browser, _ = sign_in(app, analyst.email)
    copied = with_cookies(app, session=cookie(browser, "session"))
    assert signed_in(app, copied)
    sign_out(app, browser)
    assert not signed_in(app, copied)
    assert not signed_in(app, browser)


def test_the_remember_cookie_ends_with_sign_out(app, analyst):
    browser, _ = sign_in(app, analyst.email, remember=True)
    remembered = cookie(browser, "remember_token")
    assert signed_in(app, with_cookies(app, remember_token=remembered))
    sign_out(app, browser)
    assert not signed_in(app, with_cookies(app, remember_token=remembered))


def test_signing_out_ends_the_users_sessions_in_other_browsers(app, analyst):
    phone, _ = sign_in(app, analyst.email, remember=True)
    office, _ = sign_in(app, analyst.email)
    sign_out(app, office)
    assert not signed_in(app, phone)


@pytest.mark.parametrize("action", ["reset-password", "disable"])
def test_a_reset_or_disabling_by_an_administrator_ends_the_users_sessions(
    app, boss_client, analyst, action
):
    browser, _ = sign_in(app, analyst.email, remember=True)
    remembered = cookie(browser, "remember_token")
    assert signed_in(app, browser)
    assert post(boss_client, f"/admin/users/{analyst.id}/{action}").status_code in (200, 303)
    assert not signed_in(app, browser)
    assert not signed_in(app, with_cookies(app, remember_token=remembered))
    assert boss_client.get("/admin/users").status_code == 200  # the admin's own session stays


def test_a_new_password_set_anywhere_ends_the_sessions(app, analyst):
    """The mechanism is in the model: any code path that changes the password (the CLI, a
    future password page) ends the sessions, not only the administrator's button."""
    from survey.security import hash_password

    browser, _ = sign_in(app, analyst.email)
    with app.app_context():
        user = db.session.get(User, analyst.id)
        user.password_hash = hash_password("another password 123")
        db.session.commit()
    assert not signed_in(app, browser)
    browser, _ = sign_in(app, analyst.email, password="another password 123")
    assert signed_in(app, browser)


def test_other_changes_keep_the_session(app, analyst):
    browser, _ = sign_in(app, analyst.email)
    with app.app_context():
        db.session.get(User, analyst.id).name = "Nguyễn Thị Lan"
        db.session.commit()
    assert signed_in(app, browser)


# ---- finding 3: throttling and timing -------------------------------------------------------


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(app, analyst):
    for _ in range(5):
        _, response = sign_in(app, analyst.email, password="wrong-password", address="192.0.2.66")
        assert response.status_code == 401
    _, response = sign_in(app, analyst.email, address="192.0.2.66")
    assert response.status_code == 429  # the attacker's address is locked for this account
    browser, response = sign_in(app, analyst.email, address="203.0.113.10")
    assert response.status_code == 302  # the owner, elsewhere, signs in
    assert signed_in(app, browser)


def test_one_address_cannot_try_many_accounts(app, analyst):
    codes = [
        sign_in(app, f"guess{i}@example.org", password="x" * 10, address="192.0.2.77")[
            1
        ].status_code
        for i in range(21)
    ]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
    _, response = sign_in(app, analyst.email, address="192.0.2.77")
    assert response.status_code == 429
    _, response = sign_in(app, analyst.email, address="192.0.2.78")
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["unknown", "disabled", "known"])
def test_every_sign_in_costs_one_password_verification(app, make_user, monkeypatch, who):
    """An unknown or disabled email is checked against a dummy hash: the answer takes as
    long as for a known one, so its timing does not tell which emails exist."""
    from survey.auth import views
    from survey.security import hash_password, verify_password

    # Hashed as the app hashes a password (not the tests' cheap hash): the cost is compared.
    make_user(email="known@example.org", password_hash=hash_password(PASSWORD))
    make_user(email="disabled@example.org", active=False, password_hash=hash_password(PASSWORD))
    calls = []

    def counting(password_hash, password):
        calls.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(views, "verify_password", counting)
    _, response = sign_in(app, f"{who}@example.org", password="wrong-password")
    assert response.status_code == 401
    assert len(calls) == 1
    assert calls[0].startswith("$argon2")
    stored = db.session.scalar(sa.select(User.password_hash).limit(1))
    assert len(calls[0]) == len(stored)  # the same kind of hash, the same cost
