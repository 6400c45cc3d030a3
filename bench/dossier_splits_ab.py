"""The dossier splits of every agency of a report (`detail.with_dossiers`, what the Excel, Word
and PDF files attach), from this checkout and another, alternating: time and statements.

Run: .venv/bin/python bench/dossier_splits_ab.py --compare-root /path/to/other/checkout \
         [--database sqlite:///instance/hailong.db] [--period 2026-Q3] [--rounds 2]

Each round runs each checkout in a fresh process (this one first, then the other, then the
other way round): one warm-up, then the median of three calls, and the number of statements
one call sends. The database is read, never written.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import statistics, sys, time
sys.path.insert(0, {root!r})
from sqlalchemy import event
from survey import create_app, reporting
from survey.extensions import db
from survey.periods import parse_period
from survey.reporting import detail
app = create_app({{"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": {url!r},
                   "SECRET_KEY": "bench" * 8, "SERVER_NAME": "bench.local"}})
with app.test_request_context():
    report = reporting.build_report(reporting.ReportOptions(period=parse_period({period!r})))
    detail.with_dossiers(report, "vi")
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        detail.with_dossiers(report, "vi")
        samples.append(time.perf_counter() - started)
    sent = [0]
    event.listen(db.engine, "before_cursor_execute", lambda *args: sent.__setitem__(0, sent[0] + 1))
    done = detail.with_dossiers(report, "vi")
    print(f"{{len(done.dossiers)}} agencies, {{statistics.median(samples) * 1000:.0f}} ms, "
          f"{{sent[0]}} statements")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-root", required=True, type=Path)
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'instance' / 'hailong.db'}")
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    roots = {"this": ROOT, "other": args.compare_root.resolve()}
    for round_ in range(args.rounds):
        for name in ["this", "other"] if round_ % 2 == 0 else ["other", "this"]:
            code = CHILD.format(root=str(roots[name]), url=args.database, period=args.period)
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            print(f"round {round_ + 1} {name:5}: {done.stdout.strip()}", flush=True)


if __name__ == "__main__":
    main()
