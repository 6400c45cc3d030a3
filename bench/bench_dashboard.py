"""Benchmark: the dashboard's agency table for one quarter, against the bare SQL GROUP BY.

1,000,000 responses over 2,000 agencies and 24 months (2025-01 .. 2026-12), on SQLite and on
PostgreSQL (a database `hailong_bench_dash_<pid>` created and dropped at 127.0.0.1:5432, user
postgres; skipped when the server is not there). Rows are bulk-loaded with DBAPI executemany
(SQLite) or COPY (PostgreSQL), never the ORM. After loading, the tables are analysed (SQLite
ANALYZE; PostgreSQL VACUUM ANALYZE, which sets the visibility map that index-only scans need,
as autovacuum does on a live server).

For 2026-Q3 it times, after one warm-up, the median of several runs of:
- `sql`: the bare `GROUP BY agency, status` count query over the quarter (the reference);
- `counts`: the one query the report runs (both quarters, and the channel shares, in a scan);
- `report`: `reporting.build_report` (both periods' counts, tree pooling, intervals, verdicts,
  period comparison, channel shares);
- `page`: a signed-in GET /dashboard?period=2026-Q3 through the test client (the report plus
  the template rendering 2,000 table rows).
Goal: page <= 1 s. Results go in docs/reporting.md.

    .venv/bin/python bench/bench_dashboard.py [--responses 1000000] [--agencies 2000]
        [--runs 5] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Questionnaire, Role, User  # noqa: E402
from survey.security import hash_password  # noqa: E402

PG_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# One database per run (the process id), so that two people benchmarking on one server never
# drop each other's data.
PG_DATABASE = f"hailong_bench_dash_{os.getpid()}"
QUARTER = "2026-Q3"
FIRST = datetime(2024, 12, 31, 17, 0)  # 2025-01-01 00:00 in Vietnam, as UTC
SPAN = (datetime(2026, 12, 31, 17, 0) - FIRST).total_seconds()
CHANNELS = ("qr", "kiosk", "paper", "api")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


def make_app(url: str):
    logging.disable(logging.INFO if not os.environ.get("BENCH_DEBUG") else logging.NOTSET)
    return create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "SERVER_NAME": "bench.local",
        }
    )


def build_tree(agencies: int) -> list[dict]:
    """A province, 40 departments, and communes / service units under them."""
    rows = [
        {
            "id": 1,
            "code": "P",
            "name": "Tỉnh Benchmark",
            "parent_id": None,
            "level": "province",
            "kind": "administrative",
        }
    ]
    departments = 40
    for i in range(departments):
        rows.append(
            {
                "id": 2 + i,
                "code": f"S{i:03d}",
                "name": f"Sở số {i}",
                "parent_id": 1,
                "level": "department",
                "kind": "administrative",
            }
        )
    for i in range(agencies - 1 - departments):
        parent = 1 if i % 3 else 2 + i % departments
        level = "commune" if parent == 1 else "service_unit"
        kind = "administrative" if parent == 1 else ("health", "education")[i % 2]
        rows.append(
            {
                "id": 2 + departments + i,
                "code": f"U{i:05d}",
                "name": f"Đơn vị {i}",
                "parent_id": parent,
                "level": level,
                "kind": kind,
            }
        )
    return rows


def response_rows(
    n: int,
    desks: list[int],
    agency_of: dict[int, int],
    rates: dict[int, float],
    questionnaire: int,
    seed: int = 4,
):
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.5) for _ in desks]
    chosen = rng.choices(desks, weights=weights, k=n)
    for desk in chosen:
        agency = agency_of[desk]
        at = FIRST + timedelta(seconds=rng.random() * SPAN)
        happy = rng.random() < rates[agency]
        roll = rng.random()
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "desk_id": desk,
            "agency_id": agency,
            "questionnaire_id": questionnaire,
            "channel": CHANNELS[
                0 if roll < 0.55 else 1 if roll < 0.85 else 2 if roll < 0.95 else 3
            ],
            "level": "hai_long" if happy else "khong_hai_long",
            "satisfied": happy,
            "occurred_at": at,
            "received_at": at,
            "status": "flagged" if rng.random() < 0.01 else "valid",
            "content_hash": "0" * 64,
        }


def load(app, responses: int, agencies: int) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        tree = build_tree(agencies)
        db.session.execute(sa.text("DELETE FROM agency"))
        db.session.execute(
            sa.insert(db.metadata.tables["agency"]),
            [{**r, "active": True, "created_at": FIRST} for r in tree],
        )
        desks = [
            {
                "id": r["id"],
                "agency_id": r["id"],
                "code": f"D{r['id']}",
                "name": "Quầy 1",
                "active": True,
                "created_at": FIRST,
            }
            for r in tree[1:]
        ]
        db.session.execute(sa.insert(db.metadata.tables["desk"]), desks)
        db.session.add(
            User(
                email="bench@example.org",
                role=Role.ADMIN,
                password_hash=hash_password("bench-password"),
            )
        )
        questionnaire = Questionnaire.default().id
        db.session.commit()
        rng = random.Random(7)
        rates = {r["id"]: rng.uniform(0.6, 0.99) for r in tree}
        agency_of = {d["id"]: d["agency_id"] for d in desks}
        rows = response_rows(responses, [d["id"] for d in desks], agency_of, rates, questionnaire)
        started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            _copy(rows)
        else:
            _executemany(rows)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM sets PostgreSQL's visibility map: without it the covering index is read
            # with a visit to the table for each row.
            is_pg = db.engine.dialect.name == "postgresql"
            conn.execute(sa.text("VACUUM ANALYZE response" if is_pg else "ANALYZE"))
        print(
            f"  loaded {responses:,} responses in {time.perf_counter() - started:.1f} s", flush=True
        )


COLUMNS = [
    "id",
    "desk_id",
    "agency_id",
    "questionnaire_id",
    "channel",
    "level",
    "satisfied",
    "occurred_at",
    "received_at",
    "status",
    "content_hash",
]


def _copy(rows) -> None:
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY response ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in COLUMNS])
        raw.commit()
    finally:
        raw.close()


def _executemany(rows) -> None:
    """SQLite: plain DBAPI executemany in chunks (UUIDs as the 32 hex digits SQLAlchemy's
    Uuid type stores, times in its ISO format)."""
    marks = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO response ({', '.join(COLUMNS)}) VALUES ({marks})"

    def values(row):
        out = [row[c] for c in COLUMNS]
        out[0] = row["id"].hex
        out[7] = row["occurred_at"].isoformat(" ", "microseconds")
        out[8] = row["received_at"].isoformat(" ", "microseconds")
        return out

    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        chunk = []
        for row in rows:
            chunk.append(values(row))
            if len(chunk) == 50_000:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
        raw.commit()
    finally:
        raw.close()


def timed(function, runs: int) -> float:
    function()  # warm-up: caches, query plans
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure(app, runs: int) -> dict[str, float]:
    from survey import reporting
    from survey.periods import parse_period

    period = parse_period(QUARTER)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "bench@example.org"))
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True

        def sql():
            return db.session.execute(reporting.counts.agency_counts_query(period)).all()

        def counts():
            return reporting.counts.period_counts(period, period.previous())

        def report():
            with app.test_request_context():
                return reporting.build_report(reporting.ReportOptions(period=period))

        def page():
            response = client.get(f"/dashboard?period={QUARTER}")
            assert response.status_code == 200, response.status_code
            return response

        rows = len(page().get_data(as_text=True).split("<tr data-code=")) - 1
        result = {
            "sql": timed(sql, runs),
            "counts": timed(counts, runs),
            "report": timed(report, runs),
            "page": timed(page, runs),
            "rows": rows,
        }
        db.session.remove()
        db.engine.dispose()
    return result


def run_sqlite(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(f"sqlite:///{Path(tmp) / 'bench.db'}")
        load(app, args.responses, args.agencies)
        return measure(app, args.runs)


def run_postgresql(args) -> dict | None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{PG_DATABASE}"'))
    except sa.exc.OperationalError as error:
        print(f"  PostgreSQL is not reachable, skipped: {error.orig}")
        return None
    try:
        url = sa.make_url(PG_ADMIN).set(database=PG_DATABASE).render_as_string(hide_password=False)
        app = make_app(url)
        load(app, args.responses, args.agencies)
        return measure(app, args.runs)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    print(
        f"bench_dashboard: {args.responses:,} responses, {args.agencies:,} agencies, 24 months; quarter {QUARTER}"
    )
    print(f"machine: {machine()}")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    out = io.StringIO()
    for backend in backends:
        print(f"{backend}:", flush=True)
        result = run_sqlite(args) if backend == "sqlite" else run_postgresql(args)
        if result is None:
            continue
        ratio = result["page"] / result["sql"]
        verdict = "meets" if result["page"] <= 1.0 else "MISSES"
        line = (
            f"  {backend:10s} sql {result['sql'] * 1000:7.1f} ms | counts {result['counts'] * 1000:7.1f} ms | report {result['report'] * 1000:7.1f} ms | "
            f"page {result['page'] * 1000:7.1f} ms ({result['rows']} rows) | page/sql {ratio:5.1f}x | goal 1 s: {verdict}"
        )
        print(line, flush=True)
        out.write(line + "\n")
    print(f"\nsummary (median of {args.runs} runs after a warm-up):\n{out.getvalue()}")


if __name__ == "__main__":
    main()
