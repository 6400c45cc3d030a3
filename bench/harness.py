"""What the load, no-loss and crash benchmarks share, and what tests/survey/test_durability.py
runs in small: a throw-away database, the app under gunicorn, and a keep-alive load generator.

Traffic only ever goes to 127.0.0.1, and every run is bounded in requests and in time.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import queue
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LEVELS = ("rat_hai_long", "hai_long", "khong_hai_long")
CRITERIA = ("attitude", "total_time", "one_stop_desk")
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
SESSION_COOKIE = re.compile(r"(?:^|,\s*)(session=[^;]+)")


# ---- the machine -----------------------------------------------------------------------------


def machine() -> str:
    """One line naming the machine, for the figures printed by every script."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="utf-8") as info:
        kib = int(info.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return (
        f"{os.cpu_count()} CPU ({model}){memory}{load}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def print_machine() -> None:
    """Print the machine and how long a durable write takes on it right now."""
    print("machine:", machine())
    with workspace() as directory:
        print(
            f"fsync: {fsync_ms(directory):.2f} ms median (4 KiB write + fsync, {tempfile.gettempdir()})"
        )
    if (postgres := postgres_url()) is not None:
        print(f"postgresql: {postgres_version(postgres)}")


def postgres_version(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            version = conn.scalar(sa.text("SHOW server_version"))
            sync = conn.scalar(sa.text("SHOW synchronous_commit"))
        return f"{version}, synchronous_commit={sync}"
    except sa.exc.OperationalError as error:
        return f"unreachable ({error.orig})"
    finally:
        engine.dispose()


def fsync_ms(directory: Path, count: int = 50) -> float:
    """Median time of a 4 KiB write + fsync in `directory`: what each durable commit waits for."""
    times = []
    path = directory / "fsync-probe"
    with open(path, "wb") as probe:
        for _ in range(count):
            started = time.perf_counter()
            probe.write(b"x" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
            times.append(time.perf_counter() - started)
    path.unlink()
    return percentile(times, 50) * 1000


# ---- databases -------------------------------------------------------------------------------


@dataclass
class Database:
    """A database that exists for one run; `drop()` removes it."""

    url: str
    kind: str
    _drop: object = None

    def drop(self) -> None:
        if self._drop is not None:
            self._drop()
            self._drop = None


def sqlite_database(directory: Path) -> Database:
    return Database(f"sqlite:///{directory / 'bench.db'}", "sqlite")


def postgres_database(admin_url: str) -> Database:
    """A new, empty database next to `admin_url`'s, with a unique name."""
    import sqlalchemy as sa

    url = sa.make_url(admin_url)
    name = f"hailong_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Database(
        url.set(database=name).render_as_string(hide_password=False), "postgresql", drop
    )


DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_url() -> str | None:
    """The PostgreSQL server to use: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the
    local server of docs/development.md when one listens on 127.0.0.1:5432. Its database is
    only used to create and drop the run's own database."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return DEFAULT_POSTGRES if service_reachable("127.0.0.1", 5432) else None


def redis_url() -> str:
    """Redis for shared rate limits; database 15 belongs to the tests."""
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# ---- the site: schema, desks, an API key -----------------------------------------------------


@dataclass
class Site:
    """A migrated database with desks and an API key, and the environment to serve it."""

    database: Database
    secret_key: str
    desk_codes: list[str]
    desk_paths: list[str]
    api_key: str
    redis: str | None = None

    def env(self, rate_limits: bool = False) -> dict[str, str]:
        env = {
            **os.environ,
            "HAILONG_CONFIG": "production",
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database.url,
            "RATELIMIT_ENABLED": "1" if rate_limits else "0",
            # The load generator plays nginx: it says who the citizen is in X-Forwarded-For.
            "TRUSTED_PROXIES": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("REDIS_URL", None)
        if self.redis:
            env["REDIS_URL"] = self.redis
        return env

    def stored_ids(self) -> set[str]:
        """Every response id in the database, read through the app's own models."""
        import sqlalchemy as sa

        from survey.models import Response

        with self._app_context() as database:
            return {str(i) for i in database.session.scalars(sa.select(Response.id))}

    def answer_count(self) -> int:
        import sqlalchemy as sa

        from survey.models import Answer

        with self._app_context() as database:
            return database.session.scalar(sa.select(sa.func.count()).select_from(Answer))

    def analyze(self) -> None:
        """On PostgreSQL, ANALYZE the database, as autovacuum does once a table has grown.

        A benchmark starts on empty tables and lasts a few minutes, shorter than autovacuum
        takes to look (one minute, then 50 rows + 10%). Meanwhile each server connection
        keeps the plans it made for an empty table: the burst rules' window query then scanned
        every response of the last hour through the covering index instead of the desk's
        (measured: PostgreSQL's CPU per citizen form POST grew from 2 to 10 ms in a few
        minutes). ANALYZE after the warm-up makes those plans again, with the statistics a
        running site has."""
        if self.database.kind != "postgresql":
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.database.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("ANALYZE"))
        finally:
            engine.dispose()

    @contextlib.contextmanager
    def _app_context(self):
        from survey import create_app
        from survey.extensions import db

        app = create_app(
            {
                "CONFIG_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": self.database.url,
                "SECRET_KEY": self.secret_key,
            }
        )
        with app.app_context():
            try:
                yield db
            finally:
                db.session.remove()
                db.engine.dispose()


# Load spread over many desks, as in a province at its morning peak: a few ratings per desk
# and hour. Piling thousands an hour on a handful of desks would instead trip the desk-surge
# rule of survey/integrity.py on every rating, and measure its baseline query.
DESKS = 2000


def prepare_site(database: Database, desks: int = DESKS, redis: str | None = None) -> Site:
    """Migrate (what `flask db upgrade` runs), then add an agency, desks and an API key."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from survey import create_app
    from survey.credentials import issue_api_key
    from survey.extensions import db
    from survey.models import Agency, Desk, Level
    from survey.tokens import desk_token

    secret_key = secrets.token_urlsafe(48)
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database.url,
            "SECRET_KEY": secret_key,
        }
    )
    with app.app_context():
        upgrade()
    with app.app_context():
        agency = Agency(code="BENCH", name="Phường Thử Tải", level=Level.COMMUNE)
        rows = [
            Desk(agency=agency, code=f"BENCH-Q{i + 1}", name=f"Quầy số {i + 1}")
            for i in range(desks)
        ]
        db.session.add_all(rows)
        _, key = issue_api_key("bench", ["responses:write"])
        db.session.commit()
        with app.test_request_context():
            paths = [f"/s/{desk_token(desk.id)}" for desk in rows]
        codes = [desk.code for desk in rows]
        db.session.remove()
        db.engine.dispose()
    return Site(database, secret_key, codes, paths, key, redis)


# ---- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The app under gunicorn with the project's gunicorn.conf.py, in its own process group."""

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        workers: int | None = None,
        threads: int | None = None,
        access_log: bool = True,
        name: str = "app",
    ):
        self.env, self.log_dir, self.name = env, log_dir, name
        self.root = ROOT  # the checkout to serve (bench_wrk.py --compare-root sets another)
        self.workers, self.threads, self.access_log = workers, threads, access_log
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def start(self, timeout: float = 60, port: int | None = None) -> None:
        """Start gunicorn on `port` (default: a free one) and wait until /healthz answers."""
        self.port = port or free_port()
        self.starts += 1
        command = [
            str(BIN / "gunicorn"),
            "--config",
            str(self.root / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        if self.workers:
            command += ["--workers", str(self.workers)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        log = self.log_dir / f"{self.name}-{self.starts}.log"
        command += ["--access-logfile", str(log) if self.access_log else ""]
        command += ["--error-logfile", str(log), "wsgi:app"]
        # What gunicorn prints before its logging is set up (an import error) goes there too.
        with open(log.with_suffix(".stderr"), "ab") as early:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=early,
                start_new_session=True,  # its own process group, so kill -9 reaches every worker
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{_tail(log)}"
                    f"{_tail(log.with_suffix('.stderr'))}"
                )
            if _healthy(self.address):
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s:\n{_tail(log)}")

    def kill(self) -> None:
        """kill -9 the master and every worker (the whole process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self, timeout: float = 30) -> None:
        """A graceful stop (SIGTERM), falling back to kill -9."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _tail(path: Path, size: int = 3000) -> str:
    """The end of a log file, for an error message (the workspace may be gone by then)."""
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def _healthy(address: tuple[str, int]) -> bool:
    conn = http.client.HTTPConnection(*address, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


# ---- the load generator ----------------------------------------------------------------------


class Client:
    """One simulated client on a keep-alive connection, reconnecting after errors."""

    def __init__(self, address: tuple[str, int], number: int, timeout: float = 30):
        self.address, self.timeout = address, timeout
        # As nginx would report it; a documentation range (RFC 5737), one address per client.
        self.forwarded_for = f"198.51.{100 + number // 250}.{number % 250 + 1}"
        self.conn: http.client.HTTPConnection | None = None
        self.cookie = ""
        self.fresh_cookie = ""
        self.csrf = ""

    def request(self, method: str, path: str, body=None, headers=None):
        """Send one request; return (status, body, headers). OSError when the connection fails."""
        headers = {"X-Forwarded-For": self.forwarded_for, **(headers or {})}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.conn is None:
            self.conn = http.client.HTTPConnection(*self.address, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise OSError(str(error)) from error
        if response.will_close:
            self.close()
        # Like a browser: keep the latest session cookie the server sets.
        cookie = SESSION_COOKIE.search(", ".join(response.msg.get_all("Set-Cookie") or []))
        if cookie:
            self.cookie = cookie.group(1)
        return response.status, data, response.msg

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def open_form(self, path: str) -> int:
        """GET the survey form: keep its session cookie and CSRF token, as a browser would."""
        status, body, _ = self.request("GET", path)
        token = CSRF_FIELD.search(body.decode()) if status == 200 else None
        if token and self.cookie:
            self.csrf = token.group(1)
        return status

    def post_form(self, path: str, submission: dict) -> int:
        fields = {
            "csrf_token": self.csrf,
            "response_id": submission["id"],
            "rating": submission["level"],
        }
        fields.update({f"c_{c}": level for c, level in submission["answers"].items()})
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body, headers)[0]

    def post_api(self, key: str, desk_code: str, submission: dict) -> int:
        body = json.dumps({**submission, "desk": desk_code})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        return self.request("POST", "/api/v1/responses", body, headers)[0]


def new_submission(rng: random.Random) -> dict:
    """A rating with a fresh client-generated id and a few criteria answered."""
    answers = {c: rng.choice(LEVELS) for c in rng.sample(CRITERIA, rng.randint(0, len(CRITERIA)))}
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "level": rng.choice(LEVELS),
        "answers": answers,
    }


ACKNOWLEDGED = {"api": {200, 201}, "form": {303}}


@dataclass
class Job:
    """One request to send: a submission over a channel ("api" or "form") to a desk."""

    submission: dict
    channel: str
    desk: int
    resend: bool = False


@dataclass
class Tally:
    """What the clients saw: statuses, acknowledged ids, latencies, errors."""

    statuses: Counter = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    unacknowledged: dict[str, Job] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sending(self, job: Job) -> None:
        """Note an id before it goes out: from then on the database may hold it."""
        with self.lock:
            self.sent.add(job.submission["id"])

    def record(self, job: Job, status: int | None, seconds: float) -> None:
        ident = job.submission["id"]
        with self.lock:
            self.requests += 1
            if status is None:
                self.errors += 1
                self.statuses["error"] += 1
            else:
                self.statuses[status] += 1
                self.latencies.append(seconds)
            if status in ACKNOWLEDGED[job.channel]:
                self.acknowledged.add(ident)
                self.unacknowledged.pop(ident, None)
            elif ident not in self.acknowledged:
                self.unacknowledged[ident] = job

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if isinstance(s, int) and s >= 500)


def submission_jobs(
    count: int, resend_share: float, form_share: float, desks: int, seed: int
) -> list[Job]:
    """`count` distinct submissions, plus `resend_share` of them sent again with the same id.

    A resend lands at a random later position, sometimes right behind its original (racing it
    on another connection), sometimes long after (a kiosk retrying when the network is back).
    """
    rng = random.Random(seed)
    jobs = [
        Job(
            new_submission(rng),
            "form" if rng.random() < form_share else "api",
            rng.randrange(desks),
        )
        for _ in range(count)
    ]
    for index in rng.sample(range(count), int(count * resend_share)):
        original = jobs[index]
        resend = Job(dict(original.submission), original.channel, original.desk, resend=True)
        jobs.insert(rng.randint(index + 1, len(jobs)), resend)
    return jobs


def run_jobs(
    site: Site,
    addresses: list[tuple[str, int]],
    jobs: list[Job] | queue.Queue,
    clients: int,
    tally: Tally,
    stop: threading.Event | None = None,
    deadline: float | None = None,
) -> None:
    """Send `jobs` from `clients` threads, spread over `addresses`, until done, `stop` or
    `deadline` (time.monotonic()). A form client loads its form from one address and may post
    to another: sessions are signed cookies, so any instance accepts them."""
    work: queue.Queue = jobs if isinstance(jobs, queue.Queue) else _queue(jobs)
    stop = stop or threading.Event()

    def worker(number: int) -> None:
        client = Client(addresses[number % len(addresses)], number)
        form_host = Client(addresses[(number + 1) % len(addresses)], number)
        try:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                try:
                    job = work.get_nowait()
                except queue.Empty:
                    return
                send(client, form_host, job)
        finally:
            client.close()
            form_host.close()

    def send(client: Client, form_host: Client, job: Job) -> None:
        tally.sending(job)
        started = time.perf_counter()
        try:
            if job.channel == "api":
                status = client.post_api(site.api_key, site.desk_codes[job.desk], job.submission)
            else:
                if not client.csrf:
                    form_host.open_form(site.desk_paths[job.desk])
                    client.cookie, client.csrf = form_host.cookie, form_host.csrf
                status = client.post_form(site.desk_paths[job.desk], job.submission)
        except OSError:
            status = None
            time.sleep(0.05)  # the server is down: don't spin
        tally.record(job, status, time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _queue(jobs: list[Job]) -> queue.Queue:
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    return work


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used by a process group so far, including its exited (reaped) children."""
    # fields[2] is the process group (field 5 of /proc/<pid>/stat)
    return _cpu_seconds(lambda _entry, fields: int(fields[2]) == pgid)


def named_cpu_seconds(name: str) -> float:
    """CPU seconds used so far by every process called `name` (e.g. "postgres": the server's
    backends, and through the postmaster's reaped children, the backends that have exited)."""
    return _cpu_seconds(lambda entry, _fields: (entry / "comm").read_text().strip() == name)


def _cpu_seconds(chosen) -> float:
    """utime + stime + cutime + cstime of the processes `chosen(proc entry, stat fields)`."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if chosen(entry, fields):
                total += sum(int(x) for x in fields[11:15])
        except OSError:
            continue
    return total / ticks


# ---- figures ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def latency_summary(latencies: list[float]) -> str:
    ms = [x * 1000 for x in latencies]
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"


@contextlib.contextmanager
def workspace(keep: bool = False):
    """A temporary directory for the SQLite file and gunicorn logs."""
    directory = Path(tempfile.mkdtemp(prefix="hailong-bench-"))
    try:
        yield directory
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
