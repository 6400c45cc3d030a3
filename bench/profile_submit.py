"""Where a submission's time goes, in-process: for py-spy.

Run: .venv/bin/py-spy record --full-filenames --format raw -o /tmp/submit.txt -- \
        .venv/bin/python bench/profile_submit.py [--db postgresql] [--requests 3000]
     .venv/bin/python bench/profile_submit.py --summarise /tmp/submit.txt

It migrates a throw-away database with desks and an API key (bench/harness.py), then sends
API submissions through Flask's test client, one after the other in one thread, so that the
profile holds only the app's own work (no HTTP server, no load generator). With
`--summarise` it reads py-spy's raw (collapsed) output and prints the share of samples spent in
the parts of the write path.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    new_submission,
    postgres_database,
    postgres_url,
    prepare_site,
    sqlite_database,
    workspace,
)

# (label, a regular expression matched against each frame "function (file:line)")
PARTS = [
    ("Flask request (all)", r"^(\w+\.)*wsgi_app \(.*flask/app\.py"),
    ("view: POST /api/v1/responses", r"^(\w+\.)*create_response \(.*survey/api/responses\.py"),
    ("view: POST /s/<token>", r"^(\w+\.)*survey \(.*survey/citizen/views\.py"),
    ("record() (write path)", r"^(\w+\.)*record \(.*survey/responses\.py"),
    ("  INSERT response + answers", r"^(\w+\.)*_insert \(.*survey/responses\.py"),
    ("  burst rules (screen)", r"^(\w+\.)*screen \(.*survey/integrity\.py"),
    ("  commit", r"^(\w+\.)*commit \(.*sqlalchemy/orm/session\.py"),
    ("  case step", r"^(\w+\.)*open_case \(.*survey/cases/service\.py"),
    ("cache look-ups (survey/cache.py)", r"survey/cache\.py"),
    ("API key check", r"^(\w+\.)*authenticate \(.*survey/api/auth\.py"),
    ("form build + validate", r"^(survey_form|validate_on_submit) "),
    ("CSRF", r"flask_wtf/csrf\.py"),
    ("session cookie save", r"^(\w+\.)*save_session \(.*flask/sessions\.py"),
    (
        "database driver (psycopg / sqlite3)",
        r"\(.*(psycopg|sqlite3)/|^(execute|executemany|commit) \(<built-in>",
    ),
]


def summarise(path: Path) -> None:
    total = 0
    hits: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        for label, pattern in PARTS:
            if any(re.search(pattern, frame) for frame in frames):
                hits[label] += n
    requests = hits[PARTS[0][0]]
    print(f"{total:,} samples, {requests:,} of them in requests (the shares below are of those)")
    for label, _ in PARTS:
        print(f"  {100 * hits[label] / max(requests, 1):5.1f}%  {label}")


def run(kind: str, requests: int, desks: int) -> None:
    from survey import create_app

    with workspace() as directory:
        database = (
            sqlite_database(directory) if kind == "sqlite" else postgres_database(postgres_url())
        )
        try:
            site = prepare_site(database, desks=desks)
            os.environ.update(SECRET_KEY=site.secret_key, DATABASE_URL=database.url)
            app = create_app(
                {
                    "CONFIG_NAME": "production",
                    "SQLALCHEMY_DATABASE_URI": database.url,
                    "SECRET_KEY": site.secret_key,
                    "RATELIMIT_ENABLED": False,
                    "SESSION_COOKIE_SECURE": False,
                }
            )
            rng = random.Random(18)
            client = app.test_client()
            headers = {"Authorization": f"Bearer {site.api_key}"}
            statuses: Counter = Counter()
            for _ in range(requests):
                desk = site.desk_codes[rng.randrange(len(site.desk_codes))]
                body = {**new_submission(rng), "desk": desk}
                statuses[
                    client.post("/api/v1/responses", json=body, headers=headers).status_code
                ] += 1
            print(f"{kind}: {requests} requests, statuses {dict(statuses)}")
        finally:
            database.drop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--desks", type=int, default=200, help="fewer than requests: warm caches")
    parser.add_argument("--summarise", type=Path)
    args = parser.parse_args(argv)
    if args.summarise:
        summarise(args.summarise)
    else:
        run(args.db, args.requests, args.desks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
