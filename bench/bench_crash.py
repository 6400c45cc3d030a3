"""Crash durability: kill -9 gunicorn (master and workers) under load, restart, count.

Run: .venv/bin/python bench/bench_crash.py [--clients 16] [--kills 3] [--acks 1000] [--db ...]

Clients post ratings (API and citizen form) without pause. Each time `--acks` more ids have
been acknowledged, the whole gunicorn process group gets SIGKILL; with the server down the
database must already hold every id acknowledged so far. Then gunicorn restarts on the same
port and the clients carry on. At the end every submission that never got an answer is resent
with the same id, as kiosks do, and the database must hold each sent id exactly once.

kill -9 tests a process crash: the kernel's page cache survives it. A power cut is a stronger
test that this cannot simulate; it relies on synchronous=FULL (SQLite) and fsync (PostgreSQL).
Exit status 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.durability import crash  # noqa: E402
from bench.harness import postgres_url, print_machine, workspace  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--acks", type=int, default=1000, help="acknowledged ids between kills")
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    print_machine()
    failed = False
    for kind in args.db.split(","):
        if kind == "postgresql" and not postgres_url():
            print(f"\n{kind}: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            continue
        with workspace() as directory:
            result = crash(
                kind, directory, clients=args.clients, kills=args.kills, acks_before_kill=args.acks
            )
        print(
            f"\n{kind}: {args.clients} clients, {len(result.kills)} kills, {result.requests} requests"
        )
        for number, check in enumerate(result.kills, 1):
            print(f"  after kill {number} (server down): {check}")
        print(f"  resent after the last restart: {result.resent}")
        print(f"  final: {result.final}")
        print(f"  statuses: {dict(sorted(result.statuses.items(), key=str))}")
        print(f"  verdict: {'OK' if result.ok else 'FAILED'}")
        failed |= not result.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
