"""Dossier import speed (issue 15): 100,000 dossiers on a throw-away SQLite database: new
tickets, the same file again (nothing changes), then the return dates of all of them, and a
file with one bad row (rejected, nothing written). Goal: <= 10 s for 100,000 rows.

    .venv/bin/python bench/bench_dossiers.py
"""

from __future__ import annotations

import io
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.bench_import import cpu_model, database  # noqa: E402
from survey import create_app  # noqa: E402
from survey.dossiers import DOSSIER_HEADER, import_dossiers  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Agency, Desk, Level, Ticket  # noqa: E402
from tests.survey.admin.files import to_csv  # noqa: E402

ROWS = 100_000
DESKS = 200


def rows(returned: bool) -> list[list[str]]:
    rng = random.Random(15)
    out = []
    for i in range(ROWS):
        received = date(2026, 7, 1) + timedelta(days=rng.randrange(80))
        due = received + timedelta(days=rng.choice([3, 5, 10, 15]))
        back = due + timedelta(days=rng.choice([-2, -1, 0, 0, 0, 2, 5]))
        out.append(
            [
                f"Q{i % DESKS:04d}",
                f"000.00.{i % 97:02d}.H12-{received:%y%m%d}-{i:06d}",
                f"1.{rng.randrange(1000, 1100):06d}",
                due.isoformat(),
                back.isoformat() if returned else "",
            ]
        )
    return out


def timed(label: str, run) -> float:
    """Wall-clock and CPU time of one import. On a shared machine the wall clock measures the
    neighbours too; the process's CPU time (this import's own work, SQLite's included, as it
    runs in this process) is what it would take on an idle core, give or take the disk."""
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"  {label:<32} {result.rows:>7} rows  {seconds:6.2f} s wall  {cpu:6.2f} s CPU"
        f"  load {load:4.1f}  (ok {result.ok}, created {result.created}, updated"
        f" {result.updated}, unchanged {result.unchanged})"
    )
    return seconds


def main() -> None:
    print(
        f"bench_dossiers: Python {platform.python_version()}, {os.cpu_count()} CPUs, {cpu_model()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        target = database(None, Path(tmp))
        app = create_app(
            {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": target, "SECRET_KEY": "b" * 32}
        )
        with app.test_request_context():
            province = Agency(code="T", name="Tỉnh", level=Level.PROVINCE)
            db.session.add(province)
            db.session.flush()
            db.session.execute(
                sa.insert(Desk),
                [
                    {"agency_id": province.id, "code": f"Q{i:04d}", "name": f"Quầy {i}"}
                    for i in range(DESKS)
                ],
            )
            db.session.commit()
            received = to_csv(DOSSIER_HEADER, rows(returned=False))
            returned = to_csv(DOSSIER_HEADER, rows(returned=True))
            timed("100k dossiers, new tickets", lambda: import_dossiers(io.BytesIO(received)))
            timed("same file again", lambda: import_dossiers(io.BytesIO(received)))
            timed("return dates for all", lambda: import_dossiers(io.BytesIO(returned)))
            bad = rows(returned=True)
            bad[ROWS - 5][4] = "31/02/2026"
            timed(
                "one bad row (rejected)",
                lambda: import_dossiers(io.BytesIO(to_csv(DOSSIER_HEADER, bad))),
            )
            print(
                f"  tickets stored: {db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))}"
            )


if __name__ == "__main__":
    main()
