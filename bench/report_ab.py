"""The province report of two checkouts on the same kept databases, alternating: an A/B of the
report's code in one run (docs/performance.md, "Reports that do not grow with the data").

Run: .venv/bin/python bench/report_ab.py --compare-root /path/to/other/checkout \
         hailong_bench_scale_<pid> [more kept databases] [--rounds 2]

For each database and round, a fresh process of each checkout (this one, then the other, then
the other way round in the next round) builds the yearly (2025) and quarterly (2026-Q2)
reports of `bench_report_scale.py`'s data: one warm-up, then the median of --runs. The
databases are not migrated: keep them at a revision both checkouts can read (the kept
databases of `bench_report_scale.py --keep`, upgraded by this checkout, are).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import statistics, sys, time
sys.path[:0] = [{root!r}, {root!r} + "/bench"]
from bench_report_scale import make_app
from survey import reporting
from survey.periods import parse_period
app = make_app({url!r})
found = []
for name in ("2025", "2026-Q2"):
    period = parse_period(name)
    def run():
        with app.test_request_context():
            reporting.build_report(reporting.ReportOptions(period=period))
    run()
    samples = []
    for _ in range({runs}):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    found.append(f"{{name}} {{statistics.median(samples) * 1000:.0f}} ms")
print(", ".join(found))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="+")
    parser.add_argument("--compare-root", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    roots = {"this": ROOT, "other": args.compare_root.resolve()}
    for database in args.databases:
        url = base.rsplit("/", 1)[0] + "/" + database
        for round_ in range(args.rounds):
            order = ["this", "other"] if round_ % 2 == 0 else ["other", "this"]
            for name in order:
                code = CHILD.format(root=str(roots[name]), url=url, runs=args.runs)
                done = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                )
                load = os.getloadavg()[0]
                print(f"{database} round {round_ + 1} {name:5}: {done.stdout.strip()}  "
                      f"(load {load:.1f})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
