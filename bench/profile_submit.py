"""Where a submission's time goes, in-process: for py-spy.

Run: .venv/bin/py-spy record --full-filenames --format raw -o /tmp/submit.txt -- \
        .venv/bin/python bench/profile_submit.py [--db postgresql] [--requests 3000]
     .venv/bin/python bench/profile_submit.py --summarise /tmp/submit.txt

It migrates a throw-away database with desks and an API key (bench/harness.py), then sends
API submissions (or, with `--channel form`, citizen form POSTs, each from a new address with
the session and CSRF token of a form page fetched first) through Flask's test client, one after
the other in one thread, so that the profile holds only the app's own work (no HTTP server, no
load generator). With
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
    CSRF_FIELD,
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


def run(kind: str, requests: int, desks: int, channel: str = "api") -> None:
    from survey import create_app

    with workspace() as directory:
        database = (
            sqlite_database(directory) if kind == "sqlite" else postgres_database(postgres_url())
        )
        try:
            site = prepare_site(database, desks=desks)
            # As under gunicorn (bench/harness.py's Site.env): X-Forwarded-For names the
            # citizen; the session cookie goes over the test client's plain connection.
            os.environ.update({**site.env(), "SESSION_COOKIE_SECURE": "0"})
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
            send = _form_sender(client, site, rng) if channel == "form" else None
            headers = {"Authorization": f"Bearer {site.api_key}"}
            statuses: Counter = Counter()
            for number in range(requests):
                if number == min(200, requests // 10):
                    site.analyze()  # the statistics of a running site (Site.analyze)
                if send is not None:
                    statuses[send()] += 1
                    continue
                desk = site.desk_codes[rng.randrange(len(site.desk_codes))]
                body = {**new_submission(rng), "desk": desk}
                statuses[
                    client.post("/api/v1/responses", json=body, headers=headers).status_code
                ] += 1
            print(f"{kind}, {channel}: {requests} requests, statuses {dict(statuses)}")
        finally:
            database.drop()


def _form_sender(client, site, rng: random.Random):
    """A function that POSTs one new citizen's rating to a random desk's form and returns the
    status (303 when stored), with the session and CSRF token of one form page."""
    page = client.get(site.desk_paths[0], headers={"X-Forwarded-For": "198.18.0.1"})
    token = CSRF_FIELD.search(page.get_data(as_text=True))
    if page.status_code != 200 or token is None:
        raise RuntimeError("could not open the citizen form to get a session")

    def send() -> int:
        submission = new_submission(rng)
        fields = {
            "csrf_token": token.group(1),
            "response_id": submission["id"],
            "rating": submission["level"],
            **{f"c_{c}": level for c, level in submission["answers"].items()},
        }
        address = f"198.{18 + rng.randrange(2)}.{rng.randrange(256)}.{rng.randrange(256)}"
        path = site.desk_paths[rng.randrange(len(site.desk_paths))]
        # The app's test client speaks https here (production's PREFERRED_URL_SCHEME), so
        # Flask-WTF checks the referrer, as it does behind nginx; a browser sends it.
        headers = {"X-Forwarded-For": address, "Referer": f"https://localhost{path}"}
        return client.post(path, data=fields, headers=headers).status_code

    return send


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--desks", type=int, default=200, help="fewer than requests: warm caches")
    parser.add_argument("--channel", choices=("api", "form"), default="api")
    parser.add_argument("--summarise", type=Path)
    args = parser.parse_args(argv)
    if args.summarise:
        summarise(args.summarise)
    else:
        run(args.db, args.requests, args.desks, args.channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
