"""What production relies on: the health check, the bare ping, proxy headers, config overrides,
and the SQLite online backup."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
import sqlalchemy as sa

from survey import create_app
from survey.config import config_class
from survey.extensions import db
from survey.models import Response
from survey.security import client_hash
from tests.conftest import count, form_fields

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-folder/hailong.db",
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/hailong?connect_timeout=2",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def app_without_database(request):
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": UNREACHABLE[request.param],
            "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_is_503_when_the_database_is_unreachable(app_without_database):
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


def test_ping_answers_without_the_database(app_without_database):
    response = app_without_database.test_client().get("/ping")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def submit_from(client, survey_path, headers):
    fields = form_fields(client.get(survey_path, headers=headers))
    fields["rating"] = "hai_long"
    return client.post(survey_path, data=fields, headers=headers)


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(app, client, survey_path):
    headers = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        # Over HTTPS, Flask-WTF also checks that the form came from this site.
        "Referer": f"https://hailong.test{survey_path}",
    }
    response = submit_from(client, survey_path, headers)
    assert response.status_code == 303
    assert "Strict-Transport-Security" in response.headers  # the request counts as HTTPS
    stored = db.session.scalar(sa.select(Response.client_hash))
    assert stored == client_hash("203.0.113.7")


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(app, client, survey_path):
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    response = submit_from(client, survey_path, headers)
    assert response.status_code == 303
    assert "Strict-Transport-Security" not in response.headers
    stored = db.session.scalar(sa.select(Response.client_hash))
    assert stored == client_hash("127.0.0.1")


@pytest.mark.parametrize(
    ("value", "enabled"), [("0", False), ("false", False), ("1", True), ("yes", True)]
)
def test_ratelimit_enabled_can_be_set_from_the_environment(monkeypatch, tmp_path, value, enabled):
    monkeypatch.setenv("RATELIMIT_ENABLED", value)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    settings = config_class("production").from_env(str(tmp_path))
    assert settings["RATELIMIT_ENABLED"] is enabled


def test_redis_url_becomes_the_shared_rate_limit_storage(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.9:6379/2")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    settings = config_class("production").from_env(str(tmp_path))
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://10.0.0.9:6379/2"
    assert settings["TRUSTED_PROXIES"] == 1


# ---- backup-sqlite ---------------------------------------------------------------------------


def store_ratings(client, survey_path, n):
    for _ in range(n):
        fields = form_fields(client.get(survey_path))
        fields.update(response_id=str(uuid.uuid4()), rating="rat_hai_long")
        assert client.post(survey_path, data=fields).status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_backup_sqlite_writes_a_checked_copy_with_every_response(
    app, client, runner, survey_path, tmp_path
):
    store_ratings(client, survey_path, 3)
    out = tmp_path / "copy.db"
    result = runner.invoke(args=["backup-sqlite", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output and "3 response" in result.output
    with sqlite3.connect(out) as copy:
        ids = {row[0] for row in copy.execute("SELECT id FROM response")}
    stored = {uid.hex for uid in db.session.scalars(sa.select(Response.id))}
    assert ids == stored and len(ids) == count(Response) == 3
    assert not (tmp_path / "copy.db.partial").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_backup_sqlite_refuses_to_overwrite_without_force(app, runner, tmp_path):
    out = tmp_path / "copy.db"
    out.write_bytes(b"an older backup")
    result = runner.invoke(args=["backup-sqlite", "--out", str(out)])
    assert result.exit_code != 0
    assert "--force" in result.output
    assert out.read_bytes() == b"an older backup"
    forced = runner.invoke(args=["backup-sqlite", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    with sqlite3.connect(out) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_backup_sqlite_points_postgresql_sites_to_pg_dump(app, runner, tmp_path):
    result = runner.invoke(args=["backup-sqlite", "--out", str(tmp_path / "copy.db")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert not (tmp_path / "copy.db").exists()
