"""REPORTING_DATABASE_URL: reports read from a streaming replica, submissions and credentials
never do (survey/replica.py).

The PostgreSQL test starts a real hot standby: a private primary cluster (initdb, replication
allowed from 127.0.0.1 only), a `pg_basebackup -R` copy of it and a second postmaster on
another port. It uses a private primary rather than the shared test server so that it need not
change that server's pg_hba.conf. Replay is paused on the standby to tell the two apart: a
report that shows the rows of before the pause was read there; a submission accepted while
the standby is read-only and paused was written to the primary.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import create_app
from survey.credentials import issue_api_key
from survey.extensions import db
from survey.models import Agency, Desk, Level, Response, Role, User
from survey.security import hash_password
from tests.conftest import PASSWORD, REQUIRE_SERVICES, _migrate, missing_service
from tests.survey.api.conftest import bearer
from tests.survey.reporting.conftest import insert_responses

PERIOD = datetime.now(UTC).strftime("%Y")  # the year: wide enough for "now" in Vietnam time


def _plant(n: int, desk: Desk) -> None:
    insert_responses(desk, n, 0, datetime.now(UTC).replace(tzinfo=None))


def _setup_agency() -> Desk:
    agency = Agency(code="TINH", name="Tỉnh thử", level=Level.PROVINCE)
    desk = Desk(agency=agency, code="Q1", name="Quầy 1")
    db.session.add_all([agency, desk])
    db.session.commit()
    return desk


def _analyst(email: str) -> User:
    user = User(email=email, role=Role.ANALYST, password_hash=hash_password(PASSWORD))
    db.session.add(user)
    db.session.commit()
    return user


def _login(client, email: str) -> None:
    from tests.conftest import csrf_token

    token = csrf_token(client.get("/auth/login"))
    answer = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.text


def _report_valid(client, key: str) -> int:
    answer = client.get(f"/api/v1/report?period={PERIOD}", headers=bearer(key))
    assert answer.status_code == 200, answer.text
    return answer.json["summary"]["valid"]


def _primary_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


def _app(primary: str, replica: str | None):
    binds = {"reporting": replica} if replica else {}
    return create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": primary,
            "SQLALCHEMY_BINDS": binds,
            "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
            "SERVER_NAME": "hailong.test",
        }
    )


# ---- the routing, on two SQLite files (runs everywhere) ------------------------------------


def _copy_sqlite(source: Path, target: Path) -> None:
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _primary_and_replica(tmp_path, sqlite_template):
    """An app on a primary SQLite file copied from the template, with a replica file (empty
    until `_copy_sqlite` copies the primary to it)."""
    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    shutil.copy(sqlite_template, primary)
    return _app(f"sqlite:///{primary}", f"sqlite:///{replica}"), primary, replica


def test_reports_read_the_replica_and_writes_and_credentials_the_primary(tmp_path, sqlite_template):
    app, primary, replica = _primary_and_replica(tmp_path, sqlite_template)
    with app.app_context():
        desk_id = _setup_agency().id
        _plant(10, db.session.get(Desk, desk_id))
        db.session.remove()
        db.engine.dispose()
        _copy_sqlite(primary, replica)  # the replica as of now
        # After the copy, on the primary only: more ratings, a new analyst, a new API key.
        _plant(5, db.session.get(Desk, desk_id))
        analyst_email = _analyst("moi@example.org").email
        _, key = issue_api_key("iGate", ["reports:read", "responses:write"], None)
        db.session.commit()

    client = app.test_client()
    # The key exists only on the primary: it is accepted, so credentials were read there ...
    assert _report_valid(client, key) == 10  # ... and the counts come from the replica.
    submitted = client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "desk": "Q1", "level": "hai_long"},
        headers=bearer(key),
    )
    assert submitted.status_code == 201, submitted.text
    assert _primary_count(app) == 16  # the submission went to the primary

    _login(client, analyst_email)  # the user exists only on the primary
    assert client.get(f"/dashboard?period={PERIOD}").status_code == 200
    exported = client.get(f"/dashboard/export.json?period={PERIOD}")
    assert exported.json["summary"]["valid"] == 10

    out = tmp_path / "report.json"
    result = app.test_cli_runner().invoke(
        args=["report", "--period", PERIOD, "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["summary"]["valid"] == 10


def test_reports_read_the_primary_while_the_replica_is_down(tmp_path, sqlite_template, caplog):
    """A replica that cannot be reached: reports come from the primary with a warning in the
    log, the replica is skipped for REPLICA_RETRY_SECONDS, then used again once it is back."""
    primary, replica = tmp_path / "primary.db", tmp_path / "gone" / "replica.db"
    shutil.copy(sqlite_template, primary)
    app = _app(f"sqlite:///{primary}", f"sqlite:///{replica}")  # its directory does not exist
    with app.app_context():
        desk_id = _setup_agency().id
        _plant(6, db.session.get(Desk, desk_id))
        analyst_email = _analyst("truc@example.org").email
        _, key = issue_api_key("iGate", ["reports:read"], None)
        db.session.commit()
    client = app.test_client()
    with caplog.at_level("WARNING"):
        assert _report_valid(client, key) == 6  # the primary's count, not a 500
    warnings = [r.getMessage() for r in caplog.records if "reporting replica" in r.getMessage()]
    assert len(warnings) == 1 and "reports read the primary for the next 30 s" in warnings[0]

    caplog.clear()
    _login(client, analyst_email)
    assert client.get(f"/dashboard?period={PERIOD}").status_code == 200
    assert client.get(f"/dashboard/export.json?period={PERIOD}").json["summary"]["valid"] == 6
    out = tmp_path / "report.json"
    result = app.test_cli_runner().invoke(
        args=["report", "--period", PERIOD, "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["summary"]["valid"] == 6
    assert not [r for r in caplog.records if "reporting replica" in r.getMessage()]  # skipped

    # The replica comes back (as of a copy with more ratings than the primary, to tell them
    # apart); once the retry time has passed, reports read it again.
    replica.parent.mkdir()
    with app.app_context():
        _plant(3, db.session.get(Desk, desk_id))
        db.session.remove()
        db.engine.dispose()
    _copy_sqlite(primary, replica)
    with app.app_context():
        three = sa.select(Response.id).limit(3).scalar_subquery()
        db.session.execute(sa.delete(Response).where(Response.id.in_(three)))
        db.session.commit()
    assert _report_valid(client, key) == 9 - 3  # still skipped: the primary's count
    app.config["REPLICA_RETRY_SECONDS"] = 0
    from survey import replica as routing

    routing._down_until.clear()
    assert _report_valid(client, key) == 9  # the replica's count


def test_a_healthy_replica_is_checked_once_per_replica_check_seconds(tmp_path, sqlite_template):
    """Not a `SELECT 1` on every report request: a successful check stands for
    REPLICA_CHECK_SECONDS; with 0, every request checks."""
    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    shutil.copy(sqlite_template, primary)
    app = _app(f"sqlite:///{primary}", f"sqlite:///{replica}")
    with app.app_context():
        _plant(4, _setup_agency())
        _, key = issue_api_key("iGate", ["reports:read"], None)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        _copy_sqlite(primary, replica)
        engine = db.engines["reporting"]
    checks = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args):
        if statement == "SELECT 1":
            checks.append(statement)

    client = app.test_client()
    for _ in range(3):
        assert _report_valid(client, key) == 4
    assert len(checks) == 1
    app.config["REPLICA_CHECK_SECONDS"] = 0
    from survey import replica as routing

    routing._up_until.clear()
    for _ in range(3):
        assert _report_valid(client, key) == 4
    assert len(checks) == 1 + 3


def test_the_cached_report_tree_is_read_from_the_primary(tmp_path, sqlite_template):
    """The report's sorted agency tree outlives the request (survey.cache) and is dropped when
    the primary's counter moves; read from a replica that has not replayed a rename yet, the
    old name would be kept for the cache's whole time to live."""
    app, primary, replica = _primary_and_replica(tmp_path, sqlite_template)
    with app.app_context():
        desk_id = _setup_agency().id
        _plant(4, db.session.get(Desk, desk_id))
        _, key = issue_api_key("iGate", ["reports:read"], None)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        _copy_sqlite(primary, replica)  # the replica as of now, then a rename on the primary
        db.session.get(Desk, desk_id).agency.name = "Tỉnh đã đổi tên"
        db.session.commit()

    client = app.test_client()
    for _ in range(2):  # the first report fills the cache, the second reads it
        answer = client.get(f"/api/v1/report?period={PERIOD}", headers=bearer(key))
        assert answer.status_code == 200, answer.text
        assert [row["name"] for row in answer.json["agencies"]] == ["Tỉnh đã đổi tên"]
        assert answer.json["summary"]["valid"] == 4  # the counts still come from the replica
    with app.app_context():  # the replica still has the old name: the tree was not read there
        with db.engines["reporting"].connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM agency").scalar() == "Tỉnh thử"


def test_without_a_replica_reports_read_the_primary(tmp_path, sqlite_template):
    primary = tmp_path / "primary.db"
    shutil.copy(sqlite_template, primary)
    app = _app(f"sqlite:///{primary}", None)
    with app.app_context():
        _plant(7, _setup_agency())
        _, key = issue_api_key("iGate", ["reports:read"], None)
        db.session.commit()
    assert _report_valid(app.test_client(), key) == 7


def test_reporting_database_url_sets_the_bind(monkeypatch):
    from survey.config import config_class

    monkeypatch.setenv("REPORTING_DATABASE_URL", "postgresql+psycopg://r@10.0.0.8/hailong")
    settings = config_class("testing").from_env("/tmp")
    assert settings["SQLALCHEMY_BINDS"] == {"reporting": "postgresql+psycopg://r@10.0.0.8/hailong"}
    monkeypatch.delenv("REPORTING_DATABASE_URL")
    assert config_class("testing").from_env("/tmp")["SQLALCHEMY_BINDS"] == {}


# ---- a real streaming replica on PostgreSQL --------------------------------------------------


def _server_bin() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "postgres").exists():
            return candidate
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists() and (candidate / "pg_basebackup").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A primary and its hot standby in a temporary directory, run as a non-root user."""

    def __init__(self, bindir: Path, root: Path):
        self.bin, self.root = bindir, root
        self.primary_port, self.replica_port = _free_port(), _free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                missing_service("the replica test runs postgres as the user 'postgres' (absent)")
            self.user = "postgres"
            shutil.chown(root, "postgres")

    def run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    def start(self) -> None:
        primary, replica = self.root / "primary", self.root / "replica"
        self.run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        (primary / "postgresql.auto.conf").write_text(
            f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
            "max_wal_senders = 4\nfsync = off\n"
        )
        (primary / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
            "host replication postgres 127.0.0.1/32 trust\n"
        )
        self.run("pg_ctl", "-D", str(primary), "-l", str(self.root / "primary.log"), "-w", "start")
        self.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream",
        )  # fmt: skip
        with (replica / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\n")
        self.run("pg_ctl", "-D", str(replica), "-l", str(self.root / "replica.log"), "-w", "start")

    def stop(self) -> None:
        for name in ("replica", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.root / name), "-m", "immediate", "stop")

    def caught_up(self, timeout: float = 30.0) -> None:
        primary = sa.create_engine(self.url(self.primary_port), poolclass=sa.NullPool)
        replica = sa.create_engine(self.url(self.replica_port), poolclass=sa.NullPool)
        with primary.connect() as conn:
            target = conn.scalar(sa.text("SELECT pg_current_wal_lsn()"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with replica.connect() as conn:
                behind = conn.scalar(
                    sa.text("SELECT pg_wal_lsn_diff(:t, pg_last_wal_replay_lsn()) > 0"),
                    {"t": target},
                )
            if not behind:
                return
            time.sleep(0.1)
        raise AssertionError("the replica did not catch up in 30 s")

    def replay(self, on: bool) -> None:
        replica = sa.create_engine(self.url(self.replica_port), poolclass=sa.NullPool)
        with replica.connect() as conn:
            conn.execute(sa.text(f"SELECT pg_wal_replay_{'resume' if on else 'pause'}()"))
            conn.commit()


@pytest.fixture(scope="module")
def cluster():
    if not os.environ.get("TEST_DATABASE_URL") and not REQUIRE_SERVICES:
        pytest.skip("the replica test runs with the PostgreSQL tests (TEST_DATABASE_URL unset)")
    bindir = _server_bin()
    if bindir is None:
        missing_service("the replica test needs the PostgreSQL server binaries (postgres, initdb)")
    # Not under pytest's tmp_path: its parents are private to root, and postgres must not run
    # as root, so the clusters live in a directory of their own that the user 'postgres' owns.
    root = Path(tempfile.mkdtemp(prefix="hailong-replica-"))
    cluster = Cluster(bindir, root)
    try:
        cluster.start()
        admin = sa.create_engine(
            cluster.url(cluster.primary_port), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE hailong"))
        _migrate(cluster.url(cluster.primary_port, "hailong"))
        cluster.caught_up()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_reports_read_a_streaming_replica_and_submissions_the_primary(cluster):
    app = _app(
        cluster.url(cluster.primary_port, "hailong"), cluster.url(cluster.replica_port, "hailong")
    )
    with app.app_context():
        _plant(10, _setup_agency())
        _, key = issue_api_key("iGate", ["reports:read", "responses:write"], None)
        db.session.commit()
    cluster.caught_up()
    client = app.test_client()
    assert _report_valid(client, key) == 10

    cluster.replay(False)  # the standby stops applying the primary's changes
    try:
        with app.app_context():
            _plant(4, db.session.scalar(sa.select(Desk)))
            analyst_email = _analyst("nguoi-moi@example.org").email
            _, new_key = issue_api_key("Mới", ["reports:read"], None)
            db.session.commit()
        submitted = client.post(
            "/api/v1/responses",
            json={"id": str(uuid.uuid4()), "desk": "Q1", "level": "hai_long"},
            headers=bearer(key),
        )
        assert submitted.status_code == 201, submitted.text  # the standby is read-only
        assert _primary_count(app) == 15
        # A key and a user that exist only on the primary work, and see the replica's counts.
        assert _report_valid(client, new_key) == 10
        _login(client, analyst_email)
        assert client.get(f"/dashboard?period={PERIOD}").status_code == 200
        assert client.get(f"/dashboard/export.json?period={PERIOD}").json["summary"]["valid"] == 10
    finally:
        cluster.replay(True)
    cluster.caught_up()
    assert _report_valid(client, key) == 15

    # The standby goes down: reports read the primary (a warning in the log), not a 500.
    with app.app_context():
        _plant(2, db.session.scalar(sa.select(Desk)))
    cluster.run("pg_ctl", "-D", str(cluster.root / "replica"), "-m", "fast", "-w", "stop")
    assert _report_valid(client, key) == 17
    assert client.get(f"/dashboard/export.json?period={PERIOD}").json["summary"]["valid"] == 17
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
