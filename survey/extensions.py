"""Extensions, created unbound and initialised in `create_app`."""

import sqlite3

import sqlalchemy as sa
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from survey import patterns, replica
from survey.security import rate_limit_key


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base, session_options={"class_": replica.Session})
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
babel = Babel()
limiter = Limiter(key_func=rate_limit_key, default_limits=[])


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail.

    A write transaction starts with ``BEGIN IMMEDIATE`` (the module begins one before the
    first INSERT/UPDATE/DELETE): it takes SQLite's write lock at once, so a transaction never
    has to upgrade from reading to writing; writers of one process also queue on a lock in
    Python first (`survey.responses.writer_turn`) rather than sleep in the busy handler."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = "IMMEDIATE"
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # The answer-pattern roll-up's triggers call these (migration 0022).
        patterns.register_sqlite_functions(dbapi_connection)
