"""The no-loss and crash-durability runs, shared by bench/bench_no_loss.py, bench/bench_crash.py
and, in small, tests/survey/test_durability.py.

The invariant both check: every id that got an acknowledgement (201/200 from the API, 303 from
the citizen form) is in the database, stored once, with its answers stored once.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    Client,
    Database,
    Server,
    Site,
    Tally,
    new_submission,
    postgres_database,
    postgres_url,
    prepare_site,
    run_jobs,
    sqlite_database,
    submission_jobs,
)


@dataclass
class Check:
    """What the database holds against what the clients were told."""

    acknowledged: int
    stored: int
    lost: list[str]  # acknowledged but not stored: must be empty
    unknown: list[str]  # stored but never sent: must be empty
    in_doubt: int  # stored, sent, never acknowledged (the answer was lost on the way back)
    answers_expected: int
    answers_stored: int

    @property
    def ok(self) -> bool:
        return not self.lost and not self.unknown and self.answers_expected == self.answers_stored

    def __str__(self) -> str:
        return (
            f"acknowledged {self.acknowledged}, stored {self.stored}, lost {len(self.lost)}, "
            f"unknown {len(self.unknown)}, in doubt {self.in_doubt}, "
            f"answers {self.answers_stored}/{self.answers_expected}"
        )


def check(site: Site, tally: Tally, answers: dict[str, int]) -> Check:
    with tally.lock:
        acknowledged, sent = set(tally.acknowledged), set(tally.sent)
    stored = site.stored_ids()
    return Check(
        acknowledged=len(acknowledged),
        stored=len(stored),
        lost=sorted(acknowledged - stored),
        unknown=sorted(stored - sent),
        in_doubt=len((stored & sent) - acknowledged),
        answers_expected=sum(answers[i] for i in stored if i in answers),
        answers_stored=site.answer_count(),
    )


@contextlib.contextmanager
def database_for(kind: str, directory: Path):
    """A throw-away database of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        database: Database = sqlite_database(directory)
    elif kind == "postgresql":
        url = postgres_url()
        if not url:
            raise LookupError("PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL")
        database = postgres_database(url)
    else:
        raise ValueError(f"database must be sqlite or postgresql, not {kind!r}")
    try:
        yield database
    finally:
        database.drop()


# ---- no loss, no duplicates ------------------------------------------------------------------


@dataclass
class NoLossResult:
    kind: str
    instances: int
    requests: int
    seconds: float
    statuses: dict
    server_errors: int
    connection_errors: int
    check: Check
    api_submissions: int = 0  # distinct ids sent through the API: each should get one 201
    api_resends: int = 0  # ... and each resend a 200
    rate_limited: int = 0
    shared_limit: SharedLimit | None = None

    @property
    def ok(self) -> bool:
        shared = self.shared_limit is None or self.shared_limit.ok
        return self.check.ok and self.server_errors == 0 and self.connection_errors == 0 and shared


def no_loss(
    kind: str,
    directory: Path,
    clients: int = 50,
    submissions: int = 20_000,
    resend_share: float = 0.10,
    form_share: float = 0.2,
    instances: int = 1,
    redis: str | None = None,
    seed: int = 8,
    time_limit: float = 900,
    workers: int | None = None,
) -> NoLossResult:
    """`submissions` distinct ratings plus `resend_share` resent with the same id, from
    `clients` threads, over one or two gunicorn instances (two share Redis rate limits)."""
    with database_for(kind, directory) as database:
        site = prepare_site(database, redis=redis)
        rate_limits = redis is not None
        servers = [
            Server(
                site.env(rate_limits=rate_limits), directory, workers=workers, name=f"app{n + 1}"
            )
            for n in range(instances)
        ]
        jobs = submission_jobs(submissions, resend_share, form_share, len(site.desk_codes), seed)
        answers = {job.submission["id"]: len(job.submission["answers"]) for job in jobs}
        tally = Tally()
        try:
            for server in servers:
                server.start()
            started = time.monotonic()
            run_jobs(
                site,
                [s.address for s in servers],
                jobs,
                clients,
                tally,
                deadline=started + time_limit,
            )
            seconds = time.monotonic() - started
            result = check(site, tally, answers)  # before the burst adds ratings of its own
            shared = shared_rate_limit(site, servers) if rate_limits and instances > 1 else None
        finally:
            for server in servers:
                server.stop()
        return NoLossResult(
            kind=kind,
            instances=instances,
            requests=tally.requests,
            seconds=seconds,
            statuses=dict(tally.statuses),
            server_errors=tally.server_errors,
            connection_errors=tally.errors,
            check=result,
            api_submissions=sum(j.channel == "api" and not j.resend for j in jobs),
            api_resends=sum(j.channel == "api" and j.resend for j in jobs),
            rate_limited=tally.statuses.get(429, 0),
            shared_limit=shared,
        )


@dataclass
class SharedLimit:
    """A burst from each client over both instances, against the per-minute form limit."""

    clients: int
    posts_per_client: int
    limit: int
    accepted: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(n == self.limit for n in self.accepted)

    def __str__(self) -> str:
        counts = sorted(set(self.accepted))
        return (
            f"{self.clients} clients x {self.posts_per_client} form posts alternating between "
            f"instances: accepted per client {counts} (limit {self.limit} per window: "
            f"{'counters are shared' if self.ok else 'NOT shared'})"
        )


def shared_rate_limit(site: Site, servers: list[Server], clients: int = 10) -> SharedLimit:
    """Each client posts more forms than the per-minute limit allows, alternating between the
    instances, within a few seconds. With counters shared in Redis exactly `limit` are accepted
    per client; with per-instance counters up to `limit` per instance would be."""
    from limits import parse_many

    from survey.config import config_class

    limit = min(item.amount for item in parse_many(config_class("production").CITIZEN_RATE_LIMIT))
    posts = limit + limit // 2
    result = SharedLimit(clients, posts, limit)
    rng = random.Random(99)
    lock = threading.Lock()

    def burst(number: int) -> None:
        # New addresses (not those of the main run), one desk each.
        hosts = [Client(server.address, 1000 + number) for server in servers]
        path = site.desk_paths[number % len(site.desk_paths)]
        hosts[0].open_form(path)
        accepted = 0
        for i in range(posts):
            client = hosts[i % len(hosts)]
            client.cookie, client.csrf = hosts[0].cookie, hosts[0].csrf
            with lock:
                submission = new_submission(rng)
            if client.post_form(path, submission) == 303:
                accepted += 1
            hosts[0].cookie = client.cookie  # the session moves on with each answer
        for client in hosts:
            client.close()
        with lock:
            result.accepted.append(accepted)

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


# ---- crash durability ------------------------------------------------------------------------


@dataclass
class CrashResult:
    kind: str
    kills: list[Check]
    final: Check
    requests: int
    statuses: dict
    resent: int

    @property
    def ok(self) -> bool:
        server_errors = sum(n for s, n in self.statuses.items() if isinstance(s, int) and s >= 500)
        every = all(not c.lost and not c.unknown for c in self.kills)
        complete = self.final.ok and self.final.stored == self.final.acknowledged
        return every and complete and server_errors == 0


def crash(
    kind: str,
    directory: Path,
    clients: int = 16,
    kills: int = 3,
    acks_before_kill: int = 1000,
    form_share: float = 0.2,
    seed: int = 9,
    time_limit: float = 600,
    workers: int | None = None,
) -> CrashResult:
    """Load the app, kill -9 its whole process group once `acks_before_kill` more ids were
    acknowledged, check the database with the server down, restart; `kills` times. Finally
    resend every unacknowledged submission, as kiosks do, and check that everything is in."""
    with database_for(kind, directory) as database:
        site = prepare_site(database)
        server = Server(site.env(), directory, workers=workers, name="crash")
        total = acks_before_kill * (kills + 1) * 2
        jobs = submission_jobs(total, 0.0, form_share, len(site.desk_codes), seed)
        answers = {job.submission["id"]: len(job.submission["answers"]) for job in jobs}
        work: queue.Queue = queue.Queue()
        for job in jobs:
            work.put(job)
        tally = Tally()
        stop = threading.Event()
        deadline = time.monotonic() + time_limit
        checks: list[Check] = []
        try:
            server.start()
            # The clients resolve the address when they connect: give them a fixed port.
            address = server.address
            load = threading.Thread(
                target=run_jobs,
                args=(site, [address], work, clients, tally, stop, deadline),
                daemon=True,
            )
            load.start()
            for _ in range(kills):
                target = len(tally.acknowledged) + acks_before_kill
                while len(tally.acknowledged) < target and time.monotonic() < deadline:
                    if not load.is_alive():
                        raise RuntimeError("the load ran out of submissions before the kill")
                    time.sleep(0.01)
                server.kill()
                checks.append(check(site, tally, answers))
                server.start(port=address[1])
            time.sleep(1)
            stop.set()
            load.join()
            # Kiosks resend what was never acknowledged; those must now all be accepted.
            retry = list(tally.unacknowledged.values())
            run_jobs(site, [server.address], retry, min(clients, 4), tally)
            final = check(site, tally, answers)
        finally:
            stop.set()
            server.stop()
        return CrashResult(kind, checks, final, tally.requests, dict(tally.statuses), len(retry))
