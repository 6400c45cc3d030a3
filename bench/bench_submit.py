"""Submission throughput and latency under gunicorn, against the bare /ping ceiling.

Run: .venv/bin/python bench/bench_submit.py [--clients 32] [--seconds 10] [--db sqlite,postgresql]

For each database it migrates a throw-away database with `flask db upgrade`, creates desks and
an API key through the app's own code, serves it with gunicorn (gunicorn.conf.py, rate limits
off) on a free loopback port, and drives it from keep-alive client threads:

  ping      GET /ping, a constant: the framework's ceiling
  api       POST /api/v1/responses with a bearer API key, a new id each time
  form      POST the citizen form, 303 expected: each POST as a new citizen (its own address,
            a session that has sent nothing yet), with the CSRF token of one GET per client
  citizen   the whole citizen visit: GET the form, then POST it (one visit = two requests)

Goals on 2 cores (docs/performance.md): form >= 500 submissions/s; api/ping >= 0.4; p99 <=
100 ms at 32 clients. The load generator runs on the same machine and its CPU is printed: on 2
cores it takes a share the server would otherwise have.
PostgreSQL comes from BENCH_DATABASE_URL or TEST_DATABASE_URL; it is skipped when unset.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    Client,
    Server,
    group_cpu_seconds,
    latency_summary,
    new_submission,
    percentile,
    postgres_database,
    postgres_url,
    prepare_site,
    print_machine,
    sqlite_database,
    workspace,
)

SCENARIOS = ("ping", "api", "form", "citizen")


@dataclass
class Result:
    scenario: str
    requests: int
    ok: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    server_cpu: float
    statuses: dict

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


EXPECTED = {"ping": 200, "api": 201, "form": 303, "citizen": 303}


def action(scenario: str, site, client: Client, rng: random.Random) -> tuple[int, int]:
    """Do one unit of work; return (requests sent, final status)."""
    desk = rng.randrange(len(site.desk_codes))
    if scenario == "ping":
        return 1, client.request("GET", "/ping")[0]
    if scenario == "api":
        return 1, client.post_api(site.api_key, site.desk_codes[desk], new_submission(rng))
    # Every submission comes from a different citizen: a new address (as nginx reports it), so
    # that the burst rules of survey/integrity.py run their queries as they would in real life.
    client.forwarded_for = citizen_address(rng)
    if scenario == "form":
        if not client.csrf:  # the session's CSRF token is good for any desk's form
            client.open_form(site.desk_paths[desk])
            client.fresh_cookie = client.cookie
        # The session as the form page left it: no rating sent from this browser yet.
        client.cookie = client.fresh_cookie
        return 1, client.post_form(site.desk_paths[desk], new_submission(rng))
    client.cookie = client.csrf = ""  # a new citizen: no cookie yet
    opened = client.open_form(site.desk_paths[desk])
    if opened != 200:
        return 1, opened
    return 2, client.post_form(site.desk_paths[desk], new_submission(rng))


def citizen_address(rng: random.Random) -> str:
    """An address in 198.18.0.0/15, the range set aside for benchmarks (RFC 2544)."""
    return f"198.{18 + rng.getrandbits(1)}.{rng.getrandbits(8)}.{rng.getrandbits(8)}"


def measure(site, server: Server, scenario: str, clients: int, seconds: float, warmup: float):
    start = time.monotonic()
    window_start, window_end = start + warmup, start + warmup + seconds
    lock = threading.Lock()
    totals = {"requests": 0, "ok": 0, "latencies": [], "statuses": {}}
    cpu: dict[str, float] = {}
    ready = threading.Barrier(clients + 1)

    def worker(number: int) -> None:
        rng = random.Random(f"{scenario}-{number}-{time.time_ns()}")
        client = Client(server.address, number)
        requests = ok = 0
        latencies = []
        failures: dict[str, int] = {}
        ready.wait()
        while (now := time.monotonic()) < window_end:
            began = time.perf_counter()
            try:
                sent, status = action(scenario, site, client, rng)
            except OSError as error:
                sent, status = 1, type(error).__name__
            success = status == EXPECTED[scenario]
            if now >= window_start:
                requests += sent
                ok += success
                latencies.append(time.perf_counter() - began)
                if not success:
                    failures[str(status)] = failures.get(str(status), 0) + 1
        client.close()
        with lock:
            totals["requests"] += requests
            totals["ok"] += ok
            totals["latencies"] += latencies
            for key, n in failures.items():
                totals["statuses"][key] = totals["statuses"].get(key, 0) + n

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()

    def sample_cpu(name: str) -> None:
        time.sleep(max(0.0, window_start - time.monotonic()))
        cpu[name + "_client"] = time.process_time()
        cpu[name + "_server"] = group_cpu_seconds(server.process.pid)
        time.sleep(max(0.0, window_end - time.monotonic()))
        cpu[name + "_client_end"] = time.process_time()
        cpu[name + "_server_end"] = group_cpu_seconds(server.process.pid)

    sample_cpu("w")
    for thread in threads:
        thread.join()
    return Result(
        scenario,
        totals["requests"],
        totals["ok"],
        seconds,
        totals["latencies"],
        (cpu["w_client_end"] - cpu["w_client"]) / seconds,
        (cpu["w_server_end"] - cpu["w_server"]) / seconds,
        totals["statuses"],
    )


def run(kind: str, args) -> list[Result]:
    with workspace() as directory:
        if kind == "sqlite":
            database = sqlite_database(directory)
        else:
            database = postgres_database(postgres_url())
        try:
            site = prepare_site(database)
            server = Server(
                site.env(rate_limits=False),
                directory,
                workers=args.workers,
                threads=args.threads,
                access_log=not args.no_access_log,
            )
            with server:
                return [
                    measure(site, server, scenario, args.clients, args.seconds, args.warmup)
                    for scenario in args.scenarios
                ]
        finally:
            database.drop()


def report(kind: str, results: list[Result], clients: int) -> None:
    by_name = {r.scenario: r for r in results}
    print(f"\n{kind}: {clients} concurrent clients")
    print(
        f"  {'scenario':9} {'ok/s':>6} {'req/s':>6}   {'latency per unit':46}"
        "load-gen  server    server CPU per ok"
    )
    for r in results:
        per_ok = r.server_cpu * 1000 / r.rate if r.rate else float("nan")
        print(
            f"  {r.scenario:9} {r.rate:6.0f} {r.requests / r.seconds:6.0f}   "
            f"{latency_summary(r.latencies):46}{r.client_cpu:.2f} cpu  {r.server_cpu:.2f} cpu  "
            f"{per_ok:6.2f} ms" + (f"   failures {r.statuses}" if r.statuses else "")
        )
    if "ping" in by_name and "api" in by_name:
        print(
            f"  api / ping ratio: {by_name['api'].rate / by_name['ping'].rate:.2f}  (goal >= 0.4)"
        )
    if "form" in by_name:
        form = by_name["form"]
        p99 = percentile([x * 1000 for x in form.latencies], 99)
        print(
            f"  form submissions/s: {form.rate:.0f} (goal >= 500); form p99 {p99:.1f} ms (goal <= 100)"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time first")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated databases")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; allowed: {', '.join(SCENARIOS)}")
    print_machine()
    settings = f"workers={args.workers or 'conf'} threads={args.threads or 'conf'}"
    print(
        f"gunicorn: gunicorn.conf.py, {settings}, access log {'off' if args.no_access_log else 'on'}"
    )
    for kind in args.db.split(","):
        if kind == "postgresql" and not postgres_url():
            print("\npostgresql: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            continue
        if kind not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {kind!r}; allowed: sqlite, postgresql")
        report(kind, run(kind, args), args.clients)
    return 0


if __name__ == "__main__":
    sys.exit(main())
