"""Import speed: a 10,000-row agency file and a 100,000-row paper-form file, on a throw-away
SQLite database (and PostgreSQL when BENCH_DATABASE_URL is set). Prints rows/s.

    .venv/bin/python bench/bench_import.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_import.py

Goal (issue 7): at least 20,000 paper-form rows/s on SQLite. Results: docs/admin.md.
"""

from __future__ import annotations

import io
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.imports import import_agencies, import_paper  # noqa: E402
from survey.models import Agency, Desk, Response  # noqa: E402
from tests.survey.admin.files import (  # noqa: E402
    AGENCY_HEADER,
    PAPER_HEADER,
    agency_rows,
    paper_rows,
    to_csv,
    to_xlsx,
)

AGENCIES = 10_000
PAPER = 100_000
DESKS = 200


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(label: str, rows: int, run) -> float:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    assert result.ok, [str(e) for e in result.errors[:5]]
    print(
        f"  {label:<44} {rows:>7} rows  {seconds:6.2f} s  {rows / seconds:>9,.0f} rows/s"
        f"  (created {result.created}, unchanged {result.unchanged})"
    )
    return seconds


def bare_insert(imported: Path, before: Path, import_seconds: float) -> None:
    """The floor, measured in the same run: plain sqlite3 executemany of exactly the rows the
    import wrote, into a copy of the database as it was before the import, in one
    transaction, with the app's settings (WAL, foreign keys, 64 MiB cache)."""
    with sqlite3.connect(imported) as source:
        responses = source.execute("SELECT * FROM response ORDER BY rowid").fetchall()
        answers = source.execute("SELECT * FROM answer ORDER BY rowid").fetchall()
    target = sqlite3.connect(before, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "cache_size=-65536"):
        target.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    target.execute("BEGIN")
    for table, rows in (("response", responses), ("answer", answers)):
        marks = ", ".join("?" * len(rows[0]))
        target.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    target.execute("COMMIT")
    seconds = time.perf_counter() - start
    target.close()
    print(
        f"  {'baseline: bare executemany of the same rows':<44} {len(responses):>7} rows  "
        f"{seconds:6.2f} s  {len(responses) / seconds:>9,.0f} rows/s  "
        f"(+{len(answers)} answers; the import takes {import_seconds / seconds:.2f}x this)"
    )


def database(url: str | None, folder: Path) -> str:
    from flask_migrate import upgrade

    if url:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        name = f"hailong_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        target = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    else:
        target = f"sqlite:///{folder / 'bench.db'}"
    app = create_app(
        {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": target, "SECRET_KEY": "b" * 32}
    )
    with app.app_context():
        upgrade()
    return target


def run(url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = database(url, Path(tmp))
        backend = sa.make_url(target).get_backend_name()
        print(f"\n{backend}:")
        app = create_app(
            {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": target, "SECRET_KEY": "b" * 32}
        )
        with app.test_request_context():
            agencies = to_csv(AGENCY_HEADER, agency_rows(AGENCIES))
            timed("agencies CSV, new", AGENCIES, lambda: import_agencies(io.BytesIO(agencies)))
            timed(
                "agencies CSV, same file again",
                AGENCIES,
                lambda: import_agencies(io.BytesIO(agencies)),
            )
            codes = list(db.session.scalars(sa.select(Agency.id).order_by(Agency.id).limit(DESKS)))
            db.session.execute(
                sa.insert(Desk),
                [
                    {"agency_id": a, "code": f"Q{i:04d}", "name": f"Quầy {i}"}
                    for i, a in enumerate(codes)
                ],
            )
            db.session.commit()
            desks = [f"Q{i:04d}" for i in range(DESKS)]
            rows = paper_rows(PAPER, desks)
            paper = to_csv(PAPER_HEADER, rows)
            print(f"  (paper CSV: {len(paper) / 1e6:.1f} MB, 9 criteria columns, ~70% answered)")
            if backend == "sqlite":  # a copy as it is before the import, for the baseline
                before = Path(tmp) / "before.db"
                with sqlite3.connect(sa.make_url(target).database) as live:
                    with sqlite3.connect(before) as copy:
                        live.backup(copy)
            seconds = timed("paper forms CSV, new", PAPER, lambda: import_paper(io.BytesIO(paper)))
            if backend == "sqlite":
                bare_insert(Path(sa.make_url(target).database), before, seconds)
            timed(
                "paper forms CSV, same file again", PAPER, lambda: import_paper(io.BytesIO(paper))
            )
            xlsx = to_xlsx(PAPER_HEADER, paper_rows(20_000, desks, seed=8, prefix="X"))
            timed("paper forms XLSX, new", 20_000, lambda: import_paper(io.BytesIO(xlsx)))
            bad = rows[:]
            bad[PAPER - 10] = [*bad[PAPER - 10][:1], "31/02/2025", *bad[PAPER - 10][2:]]
            start = time.perf_counter()
            result = import_paper(io.BytesIO(to_csv(PAPER_HEADER, bad)))
            print(
                f"  {'paper forms CSV, one bad row (rejected)':<44} {PAPER:>7} rows  "
                f"{time.perf_counter() - start:6.2f} s  -> {result.errors[0]}"
            )
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
            print(f"  responses stored: {total}")
        with app.app_context():
            db.engine.dispose()
        if url:
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
            with admin.connect() as conn:
                conn.execute(
                    sa.text(
                        f'DROP DATABASE IF EXISTS "{sa.make_url(target).database}" WITH (FORCE)'
                    )
                )


if __name__ == "__main__":
    print(f"bench_import: Python {platform.python_version()}, {os.cpu_count()} CPUs, {cpu_model()}")
    run(None)
    if os.environ.get("BENCH_DATABASE_URL"):
        run(os.environ["BENCH_DATABASE_URL"])
