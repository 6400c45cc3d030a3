"""The demo province, seeded once per backend into a template database that each test copies
(seeding takes a second; copying takes milliseconds), for the tests of the pages and files that
report on it (dashboard, public page, report API). A folder's conftest (or a test module)
imports `database_url` and `demo_today` to run on it; the session-wide templates are registered
once, in tests/survey/conftest.py."""

from __future__ import annotations

import shutil
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from survey import create_app, demo, periods
from survey.extensions import db
from survey.models import Agency, User
from tests.conftest import PASSWORD, cheap_hash

DEMO_TODAY = date(2026, 11, 21)
QUARTER = "2026-Q3"


def _seed(url: str) -> None:
    app = create_app(
        {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 32}
    )
    with app.app_context():
        demo.seed(PASSWORD, today=DEMO_TODAY)
        # Each test signs a demo user in: with the tests' cheap hash, not the app's (conftest).
        db.session.execute(sa.update(User).values(password_hash=cheap_hash(PASSWORD)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_sqlite_template(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def demo_postgres_template(postgres):
    name = f"hailong_demo_{uuid.uuid4().hex[:10]}"
    with postgres.admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres.template}"'))
    _seed(postgres.url.set(database=name).render_as_string(hide_password=False))
    yield name
    postgres.drop_template(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, demo_sqlite_template):
    """A fresh copy of the seeded demo database, for each backend."""
    if request.param == "sqlite":
        path = tmp_path / "demo.db"
        shutil.copy(demo_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    postgres = request.getfixturevalue("postgres")
    url = postgres.new(request.getfixturevalue("demo_postgres_template"))
    yield url
    postgres.drop(url)


@pytest.fixture(autouse=True)
def demo_today(monkeypatch):
    """Pin "today" to the day after the demo data ends, so default periods are stable."""
    monkeypatch.setattr(periods, "local_today", lambda: DEMO_TODAY)
    return DEMO_TODAY


@pytest.fixture
def agency(app):
    def get(code: str) -> Agency:
        return db.session.scalar(sa.select(Agency).where(Agency.code == code))

    return get


@pytest.fixture
def analyst(app):
    return db.session.scalar(sa.select(User).where(User.email == demo.ANALYST_EMAIL))


@pytest.fixture
def signed_in(client, login, analyst):
    """The test client, signed in as the demo analyst (sees the whole province)."""
    login(analyst)
    return client


def rows_by_code(response) -> dict:
    """The agency table as {code: row element}."""
    from tests.conftest import html

    return {tr["data-code"]: tr for tr in html(response).select("#agencies tbody tr")}
