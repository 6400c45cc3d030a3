"""Benchmark: what design effects cost the province report, on a database that
`bench/bench_report_scale.py --keep` loaded (10,000,000 responses, 5,000 agencies).

With `deff=estimated` (the default) `build_report` runs the desk-day cluster query
(`counts.cluster_counts`: GROUP BY agency, desk and local day over the period's valid
responses) twice, for the period and for the one before (the change verdict uses each
period's own design effect). This script times, on the same database and in the same run,
the counts of the agency table, one cluster query, and the report with and without design
effects (median of --runs after a warm-up), and prints the machine's load average.

    .venv/bin/python bench/bench_report_scale.py --responses 10000000 --agencies 5000 --keep
    .venv/bin/python bench/bench_report_deff.py --database hailong_bench_scale_<pid>

Results go in docs/performance.md ("Report at scale").
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

import sqlalchemy as sa  # noqa: E402

from bench.bench_report_scale import PG_ADMIN, QUARTER, load_average, make_app  # noqa: E402
from survey import reporting  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.periods import parse_period  # noqa: E402


def timed(function, runs: int) -> list[float]:
    function()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a database kept by --keep")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = sa.make_url(PG_ADMIN).set(database=args.database).render_as_string(hide_password=False)
    app = make_app(url)
    period = parse_period(QUARTER)
    print(f"bench_report_deff: {args.database}, report {QUARTER}; load {load_average()}")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        rows = db.session.execute(sa.text("SELECT count(*) FROM response")).scalar()

        def report(deff: str):
            def run():
                with app.test_request_context():
                    return reporting.build_report(reporting.ReportOptions(period=period, deff=deff))

            return run

        found = {
            "counts (both periods)": timed(
                lambda: reporting.counts.period_counts(period, period.previous()), args.runs
            ),
            "cluster query (one period)": timed(
                lambda: reporting.counts.cluster_counts(period), args.runs
            ),
            "build_report, deff=estimated": timed(report("estimated"), args.runs),
            "build_report, deff=none": timed(report("none"), args.runs),
        }
    print(f"{rows:,} responses; load average after: {load_average()}; pid {os.getpid()}")
    for name, samples in found.items():
        print(
            f"  {name:30} {statistics.median(samples) * 1000:7.0f} ms  "
            f"[{', '.join(f'{s * 1000:.0f}' for s in samples)}]"
        )


if __name__ == "__main__":
    main()
