"""Reports from a PostgreSQL streaming replica, writes always to the primary.

With `REPORTING_DATABASE_URL` set, the report pages (the dashboard, the public results, `GET
/api/v1/report`) and the `report` command run their SELECTs on that database, a hot standby
of the primary, so that a national roll-up does not compete with submissions for the
primary's CPU and buffers. The routing is decided in one place, the session's `get_bind`:

- only while a report is being read (`read_reports()`, called for those endpoints);
- only SELECT statements; a flush, an INSERT, UPDATE or DELETE always goes to the primary;
- never for the tables that decide who may do what (`PRIMARY_ONLY`): a session ended by
  sign-out, a revoked API key or kiosk and the cache counters are read where they were
  written, so replication lag never lets a revoked credential through;
- never for what the per-process caches load (`on_primary`, around every load of
  `survey.cache`), such as the report's sorted agency tree: those entries outlive the request
  and are dropped when the primary's counter moves, so they must be read where the counter is.

A replica is seconds behind at most in normal running: a report may miss the ratings of the
last seconds, never count one twice. Without the setting everything uses the one database.

**When the replica is down**, reports read the primary instead, with a warning in the log: the
first report SELECT of a request checks the replica with `SELECT 1` (a pooled connection; a
new one gives up after `CONNECT_TIMEOUT` seconds on PostgreSQL), unless a check of this process
succeeded less than `REPLICA_CHECK_SECONDS` (default 5) ago (a report SELECT that then finds
the replica gone runs again on the primary, and marks the replica down); if the check fails,
this process reads reports from the primary for `REPLICA_RETRY_SECONDS` (default 30) before
it tries the replica again. The primary holds every row the replica has and more, so the figures stay
right; the cost is the primary's CPU for that time. A 503 was the other choice: it keeps the
primary's load predictable, but leaves every dashboard blank for as long as the replica is
down, which is the wrong trade for a report that the primary can answer.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app, g, has_app_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.sql.util import find_tables

#: The bind key of the replica in SQLALCHEMY_BINDS.
REPLICA = "reporting"
#: Tables read from the primary even in a report: credentials, sessions and cache counters.
PRIMARY_ONLY = frozenset({"user_account", "api_key", "kiosk", "login_attempt", "cache_version"})
#: The endpoints that only read reports (every GET of these blueprints, and these endpoints).
REPORT_BLUEPRINTS = frozenset({"dashboard", "public"})
REPORT_ENDPOINTS = frozenset({"api.report"})
#: Seconds a new connection to a PostgreSQL replica may take before it counts as down.
CONNECT_TIMEOUT = 3
#: Per process: the replica engine's URL -> monotonic time until which reports skip it.
_down_until: dict[str, float] = {}
#: Per process: the replica engine's URL -> monotonic time until which its last successful
#: check stands (no `SELECT 1` per report request while the replica is healthy).
_up_until: dict[str, float] = {}


def binds(url: str | None) -> dict[str, str]:
    """The SQLALCHEMY_BINDS entry for `REPORTING_DATABASE_URL` (none when unset)."""
    return {REPLICA: url} if url else {}


def read_reports() -> None:
    """Let this application context's report SELECTs go to the replica, when there is one."""
    g.read_reports = True


@contextmanager
def on_primary():
    """Within this block, report SELECTs read the primary even in a report request. What a
    process keeps beyond the request (`survey.cache`) is read here: its entries are dropped
    when the primary's `cache_version` moves, so an entry read from a replica that has not yet
    replayed that change would be kept, stale, for the cache's whole time to live."""
    if not has_app_context() or not g.get("read_reports"):
        yield
        return
    g.read_reports = False
    try:
        yield
    finally:
        g.read_reports = True


def _route_request() -> None:
    if request.method not in ("GET", "HEAD") or not request.endpoint:
        return
    if request.blueprint in REPORT_BLUEPRINTS or request.endpoint in REPORT_ENDPOINTS:
        read_reports()


def init_app(app) -> None:
    if REPLICA in app.config.get("SQLALCHEMY_BINDS", {}):
        app.before_request(_route_request)
        with app.app_context():
            from survey.extensions import db

            engine = db.engines[REPLICA]
        if engine.dialect.name == "postgresql":

            @sa.event.listens_for(engine, "do_connect")
            def _timeout(dialect, record, cargs, cparams):
                cparams.setdefault("connect_timeout", CONNECT_TIMEOUT)

        @sa.event.listens_for(engine, "handle_error")
        def _lost(context):
            if context.is_disconnect:  # the next report request checks the replica again
                _up_until.pop(str(engine.url), None)


def replica_usable(engine) -> bool:
    """Whether this request's report SELECTs may go to the replica `engine`: checked at most
    once per application context and once per REPLICA_CHECK_SECONDS while it answers, and
    skipped for REPLICA_RETRY_SECONDS after a failed check."""
    known = g.get("replica_usable")
    if known is not None:
        return known
    key = str(engine.url)
    now = time.monotonic()
    usable = now >= _down_until.get(key, 0.0)
    if usable and now < _up_until.get(key, 0.0):
        pass  # checked a moment ago
    elif usable:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.DBAPIError as error:
            _mark_down(engine, error)
            usable = False
        else:
            _down_until.pop(key, None)
            _up_until[key] = now + current_app.config.get("REPLICA_CHECK_SECONDS", 5)
    g.replica_usable = usable
    return usable


def _mark_down(engine, error: BaseException) -> None:
    """Reports of this process skip the replica for REPLICA_RETRY_SECONDS, with a warning."""
    key = str(engine.url)
    retry = current_app.config.get("REPLICA_RETRY_SECONDS", 30)
    _down_until[key] = time.monotonic() + retry
    _up_until.pop(key, None)
    current_app.logger.warning(
        "The reporting replica %s is unreachable (%s): reports read the primary for the next %s s",
        engine.url.render_as_string(hide_password=True),
        str(getattr(error, "orig", error)).strip(),
        retry,
    )


@sa.event.listens_for(sa.Engine, "do_execute")
def _binary_results(cursor, statement, parameters, context):
    """Run a statement with the `binary_results` execution option through psycopg with results
    in PostgreSQL's binary format (a `bytea` arrives as its bytes, not as hex text)."""
    if context.execution_options.get("binary_results") and context.dialect.driver == "psycopg":
        cursor.execute(statement, parameters, binary=True)
        return True
    return None


class Session(FlaskSession):
    """`db.session`: sends a report's SELECTs to the replica (see the module docstring).

    A report SELECT that loses its replica connection (the replica went down since its last
    check) marks the replica down, rolls the request's read-only session back and runs again,
    on the primary."""

    def execute(self, *args, **kwargs):
        return self._on_replica_loss(super().execute, *args, **kwargs)

    def scalar(self, *args, **kwargs):
        return self._on_replica_loss(super().scalar, *args, **kwargs)

    def scalars(self, *args, **kwargs):
        return self._on_replica_loss(super().scalars, *args, **kwargs)

    def rows(self, statement, params=None, binary: bool = False) -> list[sa.Row]:
        """The rows of a Core SELECT, run on the engine `get_bind` picks for it (the replica for
        a report), with the same fallback as `execute`. The ORM's row processing, which costs
        `execute` a few microseconds a row, is skipped: a province report's counts are tens of
        thousands of rows (docs/performance.md, "The report's own time"). `binary`: on
        PostgreSQL, the rows come in the binary format (`_binary_results`), which halves the
        time of reading long byte strings (`pattern_half`)."""
        options = {"binary_results": True} if binary else None

        def run():
            bind = {"clause": statement}
            connection = self.connection(bind_arguments=bind)
            return connection.execute(statement, params, execution_options=options).all()

        return self._on_replica_loss(run)

    def _on_replica_loss(self, run, *args, **kwargs):
        try:
            return run(*args, **kwargs)
        except sa.exc.DBAPIError as error:
            if not (
                error.connection_invalidated
                and has_app_context()
                and g.get("read_reports")
                and g.get("replica_usable")
                and REPLICA in self._db.engines
            ):
                raise
            _mark_down(self._db.engines[REPLICA], error)
            g.replica_usable = False
            self.rollback()
            return run(*args, **kwargs)

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (
            bind is None
            and isinstance(clause, sa.Select)
            and has_app_context()
            and g.get("read_reports")
            and REPLICA in self._db.engines
            and not any(t.name in PRIMARY_ONLY for t in find_tables(clause, include_aliases=True))
            and replica_usable(self._db.engines[REPLICA])
        ):
            return self._db.engines[REPLICA]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
