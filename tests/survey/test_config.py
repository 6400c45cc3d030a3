"""Configuration comes from the environment and fails loudly in production."""

from __future__ import annotations

import pytest

from survey import create_app
from survey.config import ProductionConfig, config_class


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        ProductionConfig.from_env(str(tmp_path))


def test_production_refuses_a_short_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "change-me")
    with pytest.raises(RuntimeError, match="too short"):
        ProductionConfig.from_env(str(tmp_path))


def test_production_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/hailong")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    settings = ProductionConfig.from_env(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/hailong"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_development_keeps_a_generated_secret_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config_class("development").from_env(str(tmp_path))["SECRET_KEY"]
    second = config_class("development").from_env(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = config_class("development").from_env(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/hailong.db"


def test_unknown_config_name_is_refused():
    with pytest.raises(ValueError, match="development"):
        config_class("staging")


def test_sqlite_connections_use_wal_and_a_busy_timeout(tmp_path):
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "SECRET_KEY": "k" * 32,
        }
    )
    from survey.extensions import db

    with app.app_context():
        with db.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        db.engine.dispose()
    assert (mode, timeout, foreign_keys) == ("wal", 10000, 1)
