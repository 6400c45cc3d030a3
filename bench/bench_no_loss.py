"""No loss, no duplicates: concurrent clients, resends with the same id, then a count.

Run: .venv/bin/python bench/bench_no_loss.py [--clients 50] [--submissions 20000] [--runs ...]

Each run sends `--submissions` distinct ratings (a fifth through the citizen form, the rest
through the API) plus 10% of them again with the same id, in random order, so that some resends
race their original on another connection. Afterwards the database must hold exactly the ids
that were acknowledged (201/200 from the API, 303 from the form), each with its answers once,
and no request may have had a 5xx.

Runs: sqlite, postgresql (one gunicorn each, rate limits off), and two-instances (two gunicorn
processes on two ports sharing PostgreSQL and Redis, clients split between them, rate limits on
and counted in Redis). The two-instance run ends with a burst that shows the rate-limit counters
are shared. PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL; Redis: BENCH_REDIS_URL
(default redis://127.0.0.1:6379/14). A run whose service is missing is reported as skipped.
Exit status 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.durability import no_loss  # noqa: E402
from bench.harness import (  # noqa: E402
    postgres_url,
    print_machine,
    redis_url,
    service_reachable,
    workspace,
)

RUNS = ("sqlite", "postgresql", "two-instances")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--resend-share", type=float, default=0.10)
    parser.add_argument("--runs", default=",".join(RUNS))
    args = parser.parse_args(argv)
    print_machine()
    failed = False
    for run in args.runs.split(","):
        if run not in RUNS:
            parser.error(f"unknown run {run!r}; allowed: {', '.join(RUNS)}")
        kind = "sqlite" if run == "sqlite" else "postgresql"
        if kind == "postgresql" and not postgres_url():
            print(f"\n{run}: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            continue
        redis = None
        if run == "two-instances":
            redis = redis_url()
            if not service_reachable("127.0.0.1", 6379) and "127.0.0.1" in redis:
                print(f"\n{run}: skipped (no Redis at {redis})")
                continue
        with workspace() as directory:
            result = no_loss(
                kind,
                directory,
                clients=args.clients,
                submissions=args.submissions,
                resend_share=args.resend_share,
                instances=2 if run == "two-instances" else 1,
                redis=redis,
            )
        print(
            f"\n{run}: {args.clients} clients, {result.requests} requests in {result.seconds:.1f} s "
            f"({result.requests / result.seconds:.0f} requests/s)"
        )
        print(f"  statuses: {dict(sorted(result.statuses.items(), key=str))}")
        print(f"  database: {result.check}")
        print(
            f"  5xx: {result.server_errors}, connection errors: {result.connection_errors}, "
            f"rate-limited (429): {result.rate_limited}"
        )
        if result.shared_limit is not None:
            print(f"  shared rate limit: {result.shared_limit}")
        print(f"  verdict: {'OK' if result.ok else 'FAILED'}")
        failed |= not result.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
