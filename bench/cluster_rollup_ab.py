"""Benchmark: the province report with the design effect's clusters from the roll-ups against
the same report grouping every valid response, alternating in the same run.

On a database kept by `bench_report_scale.py --keep` (and migrated to the head), builds the
province report (`reporting.build_report`, default options: design effects estimated) for the
year 2025 and the quarter 2026-Q2, alternating two ways of reading the desk-day cluster sums:
`counts.cluster_counts` as it is (`cluster_month` for whole months, `desk_day` for the days of
partial months, both periods in one statement) and its `REPORT_ROLLUP = False` path (a GROUP
BY agency, desk and local day over every valid response, one statement per period: the code
before migration 0020). Everything else in the report is the same. Results go in
docs/performance.md ("With the desk-day roll-up").

    .venv/bin/python bench/cluster_rollup_ab.py hailong_bench_scale_12415 --runs 3

(Not named bench_*.py: it needs a kept database, so `make bench` leaves it out.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from bench_report_scale import PG_ADMIN, load_average, make_app  # noqa: E402

from survey import reporting  # noqa: E402
from survey.periods import parse_period  # noqa: E402
from survey.reporting import counts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a database kept by bench_report_scale.py --keep")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = sa.make_url(PG_ADMIN).set(database=args.database)
    app = make_app(url.render_as_string(hide_password=False))
    rolled = counts.cluster_counts

    def raw(*periods):
        app.config["REPORT_ROLLUP"] = False
        try:
            return rolled(*periods)
        finally:
            app.config["REPORT_ROLLUP"] = True

    print(f"{args.database}: nproc {os.cpu_count()}, load average {load_average()}")
    for label in ("2025", "2026-Q2"):
        period = parse_period(label)
        found: dict[str, list[float]] = {"raw": [], "rolled": []}
        try:
            for step in range(args.runs + 1):  # the first round warms caches and plans
                for way, read in (("raw", raw), ("rolled", rolled)):
                    counts.cluster_counts = read
                    with app.test_request_context():
                        started = time.perf_counter()
                        reporting.build_report(reporting.ReportOptions(period=period))
                        if step:
                            found[way].append(time.perf_counter() - started)
        finally:
            counts.cluster_counts = rolled
        ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
        median = statistics.median
        print(
            f"  {label}: clusters from every response {median(found['raw']) * 1000:.0f} ms "
            f"[{ms(found['raw'])}], from the roll-ups {median(found['rolled']) * 1000:.0f} ms "
            f"[{ms(found['rolled'])}]; load average {load_average()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
