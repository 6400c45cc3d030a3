"""Shared fixtures: an app on a fresh, migrated database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), a client, a CLI runner, and small factories."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from bs4 import BeautifulSoup
from flask import Flask
from hypothesis import HealthCheck, settings
from jinja2 import BytecodeCache
from werkzeug.routing import Rule

from survey import create_app
from survey.extensions import db
from survey.models import Agency, Desk, Kind, Level, Role, User
from survey.tokens import desk_token

# Property-based tests check properties, not speed: on a shared 2-core CI machine an example can
# take longer than Hypothesis' default 200 ms deadline or trip its "too slow" health check.
settings.register_profile("hailong", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hailong")

# CI sets this so that a missing service fails the run instead of skipping tests.
REQUIRE_SERVICES = os.environ.get("HAILONG_REQUIRE_SERVICES") == "1"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"

# The users that tests make get an Argon2 hash with small parameters. Signing in verifies it as
# it verifies any hash (the parameters are read from the hash itself), in about a millisecond
# instead of the app's 64 MiB and three passes, a third of a second each on a loaded 2-core
# machine, for each user made and each sign-in. The app's own hashing (survey.security) stays
# what the password-setting paths and their tests use; a test about the cost of a hash passes
# `password_hash=hash_password(...)` to make_user.
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def cheap_hash(password: str = PASSWORD) -> str:
    return _CHEAP_HASHER.hash(password)


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
    """Creates a migrated template database once, then a copy of it per test.

    Copying a template and dropping a used copy take 0.2 s and 0.07 s of the server's time on
    the idle machine (0.5 s and 0.4 s while other runs write to it), and about 600 tests use
    a copy. Two background threads do that work while the tests run: they drop each used
    copy, and keep the next two copies of each template asked for ready (two copies made at
    once take about the time of one). A test still gets a database no one has used, copied
    from its template after the template was made (templates are never written to once
    copied)."""

    READY = 2

    def __init__(self, url: str):
        self.url = sa.make_url(url)
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self.template = f"hailong_tmpl_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pg-databases")
        self._ready: dict[str, deque[Future]] = {}  # template -> the copies made or being made

    def start(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.template}"'))
        _migrate(self.url.set(database=self.template).render_as_string(hide_password=False))

    def _create(self, template: str) -> str:
        name = f"hailong_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        self.created.append(name)
        return name

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def new(self, template: str | None = None) -> str:
        """A fresh copy of `template` (the migrated empty database by default)."""
        template = template or self.template
        ready = self._ready.setdefault(template, deque())
        name = ready.popleft().result() if ready else self._create(template)
        while len(ready) < self.READY:
            ready.append(self._workers.submit(self._create, template))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Drops the copy in the background: no test will connect to it again."""
        self._workers.submit(self._drop, sa.make_url(url).database)

    def drop_template(self, template: str) -> None:
        """Drops a template of `new` and the copies kept ready from it (made first: a template
        being copied cannot be dropped)."""
        for ready in self._ready.pop(template, ()):
            self._drop(ready.result())
        self._drop(template)

    def close(self) -> None:
        for template in {*self._ready, self.template}:
            self.drop_template(template)
        self._workers.shutdown(wait=True)
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


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the session: every test's app has its own Jinja environment
    and compiled each template it rendered again (a tenth of the suite's time). A template
    is compiled once per source (the bucket checks the source's checksum) and per set of
    environment options that change the compiled code."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def get_bucket(self, environment, name, filename, source):
        options = (
            sorted(environment.extensions),
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.keep_trailing_newline,
            environment.newline_sequence,
            environment.optimized,
            environment.is_async,
            environment.block_start_string,
            environment.variable_start_string,
            environment.comment_start_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
        )
        return super().get_bucket(environment, f"{name}\0{options!r}", filename, source)

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


def _create_jinja_environment(app):
    """Flask's, with the session's compiled templates: for every app the tests make."""
    environment = _flask_create_jinja_environment(app)
    environment.bytecode_cache = _TEMPLATE_CODE
    return environment


_flask_create_jinja_environment = Flask.create_jinja_environment
Flask.create_jinja_environment = _create_jinja_environment


def _compile_builder(rule, append_unknown=True):
    """Werkzeug's URL builder of a rule, compiled once per session: every test's app
    compiles its ~110 rules' builders again (two small modules each, 20 ms of CPU per app,
    most of create_app). The builder is a function of the rule's parts, its defaults (as
    URL text) and `append_unknown` only (it reads the converters from the rule it is bound
    to), so one compiled function serves the same rule in every app."""
    defaults = rule.defaults or {}
    resolved = tuple(
        (name, rule._converters[name].to_url(defaults[name]))
        for dynamic, name in rule._trace
        if dynamic and name in defaults
    )
    key = (
        rule.rule,
        append_unknown,
        tuple(rule._trace),
        tuple((name, repr(value)) for name, value in defaults.items()),
        resolved,
    )
    if key not in _BUILDERS:
        _BUILDERS[key] = _werkzeug_compile_builder(rule, append_unknown)
    return _BUILDERS[key]


_BUILDERS: dict[tuple, object] = {}
_werkzeug_compile_builder = Rule._compile_builder
Rule._compile_builder = _compile_builder


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
            password_hash=kw.pop("password_hash", None) or cheap_hash(password),
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
