"""Shared fixtures: an app on a fresh, migrated database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), a client, a CLI runner, and small factories."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, settings

from survey import create_app
from survey.extensions import db
from survey.models import Agency, Desk, Kind, Level, Role, User
from survey.security import hash_password
from survey.tokens import desk_token

# Property-based tests check properties, not speed: on a shared 2-core CI machine an example can
# take longer than Hypothesis' default 200 ms deadline or trip its "too slow" health check.
settings.register_profile("hailong", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hailong")

# CI sets this so that a missing service fails the run instead of skipping tests.
REQUIRE_SERVICES = os.environ.get("HAILONG_REQUIRE_SERVICES") == "1"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"


def missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (HAILONG_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 32}
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One database migrated to head through Alembic; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


class PostgresDatabases:
    """Creates a migrated template database once, then a copy of it per test."""

    def __init__(self, url: str):
        self.url = sa.make_url(url)
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self.template = f"hailong_tmpl_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []

    def start(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.template}"'))
        _migrate(self.url.set(database=self.template).render_as_string(hide_password=False))

    def new(self) -> str:
        name = f"hailong_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres():
    if not TEST_DATABASE_URL:
        missing_service("PostgreSQL tests need TEST_DATABASE_URL (bash .ci/run sets it)")
    databases = PostgresDatabases(TEST_DATABASE_URL)
    try:
        databases.start()
    except sa.exc.OperationalError as error:
        missing_service(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {error.orig}")
    yield databases
    databases.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template):
    """A fresh database at head, for each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    databases = request.getfixturevalue("postgres")
    url = databases.new()
    yield url
    databases.drop(url)


@pytest.fixture
def app_config(database_url) -> dict:
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    config = {
        "CONFIG_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "SERVER_NAME": "hailong.test",
        **app_config,
    }
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- factories -------------------------------------------------------------------------------


@pytest.fixture
def make_agency(app):
    def make(
        code=None, name=None, parent=None, level=Level.COMMUNE, kind=Kind.ADMINISTRATIVE, **kw
    ):
        code = code or f"A{uuid.uuid4().hex[:6].upper()}"
        agency = Agency(
            code=code, name=name or f"Xã {code}", parent=parent, level=level, kind=kind, **kw
        )
        db.session.add(agency)
        db.session.commit()
        return agency

    return make


@pytest.fixture
def make_desk(app, make_agency):
    def make(agency=None, code=None, name="Quầy tiếp nhận số 1", **kw):
        agency = agency or make_agency()
        desk = Desk(agency=agency, code=code or f"D{uuid.uuid4().hex[:6].upper()}", name=name, **kw)
        db.session.add(desk)
        db.session.commit()
        return desk

    return make


@pytest.fixture
def make_user(app):
    def make(email=None, role=Role.ANALYST, agency=None, password=PASSWORD, **kw):
        user = User(
            email=email or f"u{uuid.uuid4().hex[:8]}@example.org",
            role=role,
            agency=agency,
            password_hash=hash_password(password),
            **kw,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign `user` in through the real login form (CSRF included)."""

    def do(user, password=PASSWORD):
        token = csrf_token(client.get("/auth/login"))
        response = client.post(
            "/auth/login", data={"email": user.email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.text
        return response

    return do


@pytest.fixture
def desk(make_desk):
    return make_desk()


@pytest.fixture
def survey_path(desk):
    return f"/s/{desk_token(desk.id)}"


# ---- helpers ---------------------------------------------------------------------------------


def html(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf_token(response) -> str:
    field = html(response).select_one("input[name=csrf_token]")
    assert field is not None, "no CSRF token in the page"
    return field["value"]


def form_fields(response) -> dict[str, str]:
    """The hidden fields of the first form in a page (CSRF token, response id, ...)."""
    return {
        field["name"]: field.get("value", "")
        for field in html(response).select("form input[type=hidden]")
    }


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def text_of(response, selector: str) -> str:
    node = html(response).select_one(selector)
    assert node is not None, f"nothing matches {selector!r}"
    return re.sub(r"\s+", " ", node.get_text(" ", strip=True))
