"""Benchmark: a quarterly province report at scale on PostgreSQL, against the naive approach.

Issue 8, "Report at scale": 10,000,000 responses, 5,000 agencies, 5 years. The goal is a
quarterly province report (counts, intervals, verdicts, comparison with the previous quarter:
`reporting.build_report`, as the dashboard, the exports and the API run it) in <= 2 s.

The script
1. creates a database `hailong_bench_scale_<pid>` (BENCH_POSTGRES_URL, default
   postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and migrates it with the app's
   `flask db upgrade`;
2. loads an agency tree (a province; departments with their public service units; districts
   with their communes), 1-3 desks per agency, and the responses, generated in SQL with
   `INSERT ... SELECT ... generate_series` in chunks of 1,000,000 (the response table's
   secondary indexes are dropped during the load and rebuilt from the models afterwards);
   responses fall on working days in office hours (Vietnam time), more in recent years, with
   ~96% valid, 3% flagged and 1% excluded; each agency has its own satisfaction rate around
   85%; channels are mixed (QR, kiosk, paper, portal);
3. runs VACUUM ANALYZE (the visibility map lets the report read the covering index alone);
4. times the report for the last quarter of the data (median of --runs after a warm-up), the
   one counts query inside it, and, in the same run, the naive approach: pandas.read_sql of
   both quarters' rows, then statsmodels per agency in a loop (proportion_confint for the
   rate, confint_proportions_2indep for the change);
5. drops the database, unless --keep.

    .venv/bin/python bench/bench_report_scale.py                      # quick smoke run
    .venv/bin/python bench/bench_report_scale.py --responses 10000000 --agencies 5000

Issue 18 (reports that do not grow with the data): `--first N` times the yearly and quarterly
province reports (through the monthly roll-ups) at N responses, grows the same database to
--responses and times them again, in the same run; then it measures what the roll-ups'
triggers add to a submission's transaction, in blocks alternating the triggers on and off:

    .venv/bin/python bench/bench_report_scale.py --responses 10000000 --first 1000000 \
        --agencies 5000 --runs 3 --scale-only

`--kept DB [DB ...]` times databases kept by earlier runs (`--keep`) instead of loading one:
they are migrated to the head (a new roll-up's migration backfills them), the yearly and
quarterly reports run on each, round-robin, the last against the first for the ratio:

    .venv/bin/python bench/bench_report_scale.py --kept hailong_bench_scale_<1M pid> \
        hailong_bench_scale_<10M pid> --agencies 5000 --runs 5 --scale-only

`--answers` gives responses their answers to the questionnaire's criteria (each criterion at the
response's own level with probability 0.85, else at a level drawn at random), as citizens'
ratings carry them: the report's indicator score reads them (docs/performance.md, "The
indicator score at scale"). With `--answers-since DAY` only responses from that day on get
answers (the timed reports read 2025 and 2026-Q2); with `--kept`, responses that have none get
them before the timings.

Results go in docs/performance.md ("Report at scale", "The monthly roll-up").
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from survey import create_app, reporting  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Questionnaire, Response  # noqa: E402
from survey.periods import LOCAL_OFFSET, parse_period  # noqa: E402

PG_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
QUARTER = "2026-Q2"  # the report; the data ends with it
LAST_DAY = date(2026, 6, 30)
CHUNK = 1_000_000


def machine(conn) -> str:
    cpu = "unknown CPU"
    memory = "? GB"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
                break
    except OSError:
        pass
    version = conn.execute(sa.text("SHOW server_version")).scalar()
    return (
        f"nproc {os.cpu_count()}, {cpu}, RAM {memory}, PostgreSQL {version}, "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def make_app(url: str):
    logging.disable(logging.INFO if not os.environ.get("BENCH_DEBUG") else logging.NOTSET)
    return create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "SERVER_NAME": "bench.local",
        }
    )


# ---- data ------------------------------------------------------------------------------------


def build_tree(agencies: int, rng: random.Random) -> list[dict]:
    """A province; 40 departments, the health and education ones with public service units
    (hospitals, schools); districts with their communes. Each agency gets a satisfaction rate
    around 85% (a few agencies well below)."""
    departments = min(40, max(2, agencies // 20))
    districts = max(1, agencies // 50)
    rows = [
        dict(code="P", name="Tỉnh Quy Mô", parent=None, level="province", kind="administrative")
    ]
    for i in range(departments):
        kind = "health" if i % 10 == 0 else "education" if i % 10 == 1 else "administrative"
        rows.append(dict(code=f"S{i:02d}", name=f"Sở {i}", parent=0, level="department", kind=kind))
    for i in range(districts):
        rows.append(
            dict(
                code=f"H{i:03d}",
                name=f"Huyện {i}",
                parent=0,
                level="district",
                kind="administrative",
            )
        )
    services = [i for i, r in enumerate(rows) if r["kind"] in ("health", "education")]
    first_district = 1 + departments
    for i in range(agencies - len(rows)):
        if i % 3 == 0:  # a public service unit under the health or education department
            parent = services[i % len(services)]
            kind = rows[parent]["kind"]
            name = ("Bệnh viện" if kind == "health" else "Trường") + f" {i}"
            rows.append(
                dict(code=f"U{i:05d}", name=name, parent=parent, level="service_unit", kind=kind)
            )
        else:
            parent = first_district + i % districts
            rows.append(
                dict(
                    code=f"X{i:05d}",
                    name=f"Xã {i}",
                    parent=parent,
                    level="commune",
                    kind="administrative",
                )
            )
    for row in rows:
        row["rate"] = min(0.99, max(0.45, rng.gauss(0.85, 0.07)))
        row["weight"] = rng.paretovariate(1.6)  # a few busy agencies, many quiet ones
    return rows


def setup(app, args) -> dict:
    """Migrate the database, load the agency tree and desks, and the generator's tables."""
    from flask_migrate import upgrade

    rng = random.Random(args.seed)
    with app.app_context():
        upgrade()
        tree = build_tree(args.agencies, rng)
        ids = {}
        agency = db.metadata.tables["agency"]
        with db.engine.begin() as conn:
            for i, row in enumerate(tree):
                parent = ids[row["parent"]] if row["parent"] is not None else None
                ids[i] = conn.execute(
                    sa.insert(agency)
                    .values(
                        code=row["code"],
                        name=row["name"],
                        parent_id=parent,
                        level=row["level"],
                        kind=row["kind"],
                        active=True,
                        created_at=sa.func.now(),
                    )
                    .returning(agency.c.id)
                ).scalar_one()
            questionnaire = Questionnaire.default().id
            # Slots: each desk gets a number of slots in proportion to its agency's weight; a
            # response picks a slot at random. Days likewise, in proportion to their traffic.
            conn.execute(
                sa.text(
                    "CREATE UNLOGGED TABLE bench_agency (id int PRIMARY KEY, rate float8, weight float8)"
                )
            )
            conn.execute(
                sa.text("INSERT INTO bench_agency VALUES (:id, :rate, :weight)"),
                [
                    {"id": ids[i], "rate": r["rate"], "weight": r["weight"]}
                    for i, r in enumerate(tree)
                ],
            )
            conn.execute(
                sa.text("""
                INSERT INTO desk (agency_id, code, name, active, created_at)
                SELECT a.id, 'D' || a.id || '-' || n, 'Quầy ' || n, true, now()
                FROM bench_agency a, generate_series(1, 1 + a.id % 3) n
            """)
            )
            conn.execute(
                sa.text("""
                CREATE UNLOGGED TABLE bench_slot AS
                SELECT (row_number() OVER (ORDER BY d.id, s) - 1)::int AS slot,
                       d.id AS desk_id, d.agency_id, a.rate
                FROM desk d
                JOIN bench_agency a ON a.id = d.agency_id
                CROSS JOIN LATERAL generate_series(
                    1, greatest(1, round(a.weight * 20 / (1 + a.id % 3)))::int) s
            """)
            )
            # Working days: Monday to Friday, Saturday mornings at a third of the traffic, no
            # Sundays; traffic grows by half over the five years as the survey spreads.
            first = date(LAST_DAY.year - args.years, LAST_DAY.month, LAST_DAY.day) + timedelta(1)
            conn.execute(
                sa.text("""
                CREATE UNLOGGED TABLE bench_day AS
                SELECT (row_number() OVER (ORDER BY day, s) - 1)::int AS slot, day::date AS day,
                       extract(isodow FROM day) = 6 AS saturday
                FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') day
                CROSS JOIN LATERAL generate_series(1, CASE
                    WHEN extract(isodow FROM day) = 7 THEN 0
                    ELSE round((CASE WHEN extract(isodow FROM day) = 6 THEN 3 ELSE 10 END)
                        * (1 + 0.5 * (day::date - CAST(:first AS date)) / 1826.0))::int END) s
            """),
                {"first": first, "last": LAST_DAY},
            )
            conn.execute(sa.text("ANALYZE bench_slot; ANALYZE bench_day"))
            slots = conn.execute(sa.text("SELECT count(*) FROM bench_slot")).scalar()
            days = conn.execute(sa.text("SELECT count(*) FROM bench_day")).scalar()
        desks = db.session.execute(sa.text("SELECT count(*) FROM desk")).scalar()
        print(f"  {len(tree):,} agencies, {desks:,} desks, days {first} .. {LAST_DAY}", flush=True)
        db.session.remove()
    bench = {"slots": slots, "days": days, "questionnaire": questionnaire}
    return bench


def grow(app, low: int, high: int, bench: dict, last: bool) -> dict:
    """Add responses `low` .. `high - 1` (generated in SQL, chunks of CHUNK; the response
    table's secondary indexes dropped and rebuilt, the roll-up's trigger off during the load
    and the roll-up rebuilt from the table after it), then VACUUM ANALYZE. `last`: drop the
    generator's helper tables."""
    with app.app_context():
        started = time.perf_counter()
        indexes = [i for i in Response.__table__.indexes]
        with db.engine.begin() as conn:
            for index in indexes:
                conn.execute(sa.text(f"DROP INDEX {index.name}"))
            # A bulk load fills the monthly roll-ups once at the end (as migrations 0014 and
            # 0018 do), not row by row through their triggers.
            conn.execute(sa.text("ALTER TABLE response DISABLE TRIGGER USER"))
        offset = int(LOCAL_OFFSET.total_seconds())
        for chunk_low in range(low, high, CHUNK):
            count = min(CHUNK, high - chunk_low)
            with db.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
                conn.execute(
                    sa.text(INSERT),
                    {
                        "low": chunk_low + 1,
                        "high": chunk_low + count,
                        "slots": bench["slots"],
                        "days": bench["days"],
                        "questionnaire": bench["questionnaire"],
                        "offset": offset,
                    },
                )
            done = chunk_low + count
            rate = (done - low) / (time.perf_counter() - started)
            print(f"  {done:,} responses ({rate:,.0f}/s)", flush=True)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
            for index in indexes:
                index.create(conn)
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM response_month"))
            conn.execute(sa.text(ROLLUP))
            conn.execute(sa.text("DELETE FROM cluster_month"))
            conn.execute(sa.text("DELETE FROM desk_day"))
            for statement in CLUSTER_ROLLUP:
                conn.execute(sa.text(statement))
            conn.execute(sa.text("DELETE FROM agency_month"))
            conn.execute(sa.text("DELETE FROM level_month"))
            for statement in _migration("0021_agency_month").backfill_statements():
                conn.execute(sa.text(statement))
            conn.execute(sa.text("ALTER TABLE response ENABLE TRIGGER USER"))
        indexed = time.perf_counter() - started
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if last:
                for table in ("bench_slot", "bench_day", "bench_agency"):
                    conn.execute(sa.text(f"DROP TABLE {table}"))
            conn.execute(sa.text("VACUUM ANALYZE"))
        vacuumed = time.perf_counter() - started
        size = db.session.execute(
            sa.text("SELECT pg_size_pretty(pg_total_relation_size('response'))")
        ).scalar()
        print(
            f"  loaded in {loaded:.0f} s, indexes rebuilt in {indexed:.0f} s, "
            f"VACUUM ANALYZE in {vacuumed:.0f} s; response table with indexes: {size}",
            flush=True,
        )
        db.session.remove()
        return {"load": loaded, "index": indexed, "vacuum": vacuumed, "size": size}


ANSWERS = """
INSERT INTO answer (response_id, criterion, level, satisfied)
SELECT r.id, c.code, v.level, v.level IN ('rat_hai_long', 'hai_long')
FROM response AS r
CROSS JOIN LATERAL (
    SELECT e ->> 'code' AS code
    FROM questionnaire AS q, jsonb_array_elements(q.criteria::jsonb) AS e
    WHERE q.id = r.questionnaire_id
) AS c
CROSS JOIN LATERAL (
    SELECT CASE WHEN random() < 0.85 THEN r.level
        ELSE (ARRAY['rat_hai_long', 'hai_long', 'khong_hai_long'])[1 + floor(random() * 3)::int]
    END AS level
    -- r.id: a draw per response and criterion (without it PostgreSQL memoizes the draw by
    -- level and criterion, and every response of a level gets the same answers)
    WHERE c.code IS NOT NULL AND r.id IS NOT NULL
) AS v
WHERE r.occurred_at >= :since
ON CONFLICT (response_id, criterion) DO NOTHING
"""


def add_answers(app, since: date | None) -> None:
    """Answers to every criterion for the responses from `since` on (all: None), those already
    answered kept (`ANSWERS`; not a `NOT EXISTS`, which PostgreSQL ran as a nested loop over
    the table being filled, for half an hour at 10M), with the answer roll-up's trigger off
    and `answer_month` rebuilt after it (migration 0018's backfill), then the answer patterns
    and `pattern_half` (migration 0022's), then VACUUM ANALYZE of `answer` and `response`."""
    month = _migration("0018_answer_month").PG_MONTH.format(row="r")
    started = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
            conn.execute(sa.text("ALTER TABLE answer DISABLE TRIGGER USER"))
            added = conn.execute(sa.text(ANSWERS), {"since": since or date(1970, 1, 1)}).rowcount
            conn.execute(sa.text("DELETE FROM answer_month"))
            conn.execute(
                sa.text(
                    "INSERT INTO answer_month (month, agency_id, status, criterion, answers, "
                    f"satisfied) SELECT {month}, r.agency_id, r.status, a.criterion, count(*), "
                    "sum(a.satisfied::int) FROM answer AS a JOIN response AS r "
                    f"ON r.id = a.response_id GROUP BY {month}, r.agency_id, r.status, "
                    "a.criterion"
                )
            )
            conn.execute(sa.text("ALTER TABLE answer ENABLE TRIGGER USER"))
        with db.engine.begin() as conn:
            # Each response's answer pattern and the roll-up `pattern_half` (migration 0022's
            # backfill), with the roll-up's trigger off while the patterns are written.
            conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
            conn.execute(sa.text("ALTER TABLE response DISABLE TRIGGER USER"))
            _migration("0022_pattern_half").backfill(conn)
            conn.execute(sa.text("ALTER TABLE response ENABLE TRIGGER USER"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE answer"))
            conn.execute(sa.text("VACUUM ANALYZE response"))
        db.session.remove()
    print(f"  {added:,} answers added in {time.perf_counter() - started:.0f} s", flush=True)


def _migration(name: str):
    """A migration's module (its backfill), loaded from migrations/versions/."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        name, ROOT / "migrations" / "versions" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The monthly roll-up of what was loaded (the backfill of migration 0014).
ROLLUP = """
INSERT INTO response_month (month, agency_id, questionnaire_id, channel, status, level,
                            responses, satisfied)
SELECT to_char(occurred_at + interval '7 hours', 'YYYYMM')::int, agency_id, questionnaire_id,
       channel, status, level, count(*), sum(satisfied::int)
FROM response GROUP BY 1, 2, 3, 4, 5, 6
"""

# The design effect's desk-day roll-ups of what was loaded (the backfill of migration 0020).
CLUSTER_ROLLUP = [
    """
INSERT INTO desk_day (day, agency_id, desk_id, responses, satisfied)
SELECT CAST(occurred_at + interval '25200 seconds' AS date) - DATE '1970-01-01', agency_id,
       desk_id, count(*), sum(satisfied::int)
FROM response WHERE status = 'valid' GROUP BY 1, 2, 3
""",
    """
INSERT INTO cluster_month (month, agency_id, clusters, responses, satisfied, sum_x2_n, sum_n2)
SELECT to_char(DATE '1970-01-01' + day, 'YYYYMM')::int, agency_id, count(*), sum(responses),
       sum(satisfied), sum(satisfied::float8 * satisfied / responses),
       sum(responses::bigint * responses)
FROM desk_day GROUP BY 1, 2
""",
]

# One chunk of responses, generated in SQL. Each row draws a desk slot, a day slot and a time
# of day (07:30-11:30 and 13:00-17:00 local; Saturdays mornings only), then its outcome.
INSERT = """
INSERT INTO response (id, desk_id, agency_id, questionnaire_id, channel, level, satisfied,
                      comment, occurred_at, received_at, status, status_reason, content_hash)
SELECT gen_random_uuid(), s.desk_id, s.agency_id, :questionnaire,
       CASE WHEN r.c < 0.50 THEN 'qr' WHEN r.c < 0.80 THEN 'kiosk'
            WHEN r.c < 0.92 THEN 'paper' ELSE 'api' END,
       CASE WHEN r.u >= s.rate THEN 'khong_hai_long'
            WHEN r.u < s.rate * 0.4 THEN 'rat_hai_long' ELSE 'hai_long' END,
       r.u < s.rate,
       CASE WHEN r.k < 0.02 THEN (ARRAY['Cán bộ nhiệt tình, hướng dẫn rõ ràng.',
            'Phải chờ lâu.', 'Thủ tục nhanh gọn.', 'Cần thêm ghế ngồi chờ.'])[1 + (r.g % 4)] END,
       t.at, t.at + interval '2 seconds',
       CASE WHEN r.v < 0.96 THEN 'valid' WHEN r.v < 0.99 THEN 'flagged' ELSE 'excluded' END,
       CASE WHEN r.v >= 0.99 THEN 'bench: excluded by an analyst' END,
       md5(r.g::text) || md5((-r.g)::text)
FROM (
    SELECT g, random() AS u, random() AS c, random() AS v, random() AS k,
           floor(random() * :slots)::int AS slot, floor(random() * :days)::int AS day_slot,
           random() AS m
    FROM generate_series(CAST(:low AS int), CAST(:high AS int)) g
) r
JOIN bench_slot s ON s.slot = r.slot
JOIN bench_day d ON d.slot = r.day_slot
CROSS JOIN LATERAL (
    SELECT d.day + make_interval(mins => CASE
               WHEN d.saturday THEN 450 + floor(r.m * 240)::int
               WHEN r.m < 0.5 THEN 450 + floor(r.m * 2 * 240)::int
               ELSE 780 + floor((r.m - 0.5) * 2 * 240)::int END,
           secs => (r.g % 60)::int)
           - make_interval(secs => :offset) AS at
) t
"""


# ---- measurements ----------------------------------------------------------------------------


def timed(function, runs: int) -> tuple[float, list[float]]:
    function()  # warm-up: caches, query plans
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), samples


def naive_report(engine, period, previous, target: float) -> int:
    """The report the way a notebook would do it: every row of both quarters into pandas,
    own counts with a groupby, pooled up the tree in Python, then statsmodels per agency."""
    import numpy as np
    import pandas as pd
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

    low, _ = previous.utc_bounds()
    _, high = period.utc_bounds()
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text(
                "SELECT agency_id, status, satisfied, occurred_at FROM response "
                "WHERE occurred_at >= :low AND occurred_at < :high"
            ),
            conn,
            params={"low": low, "high": high},
        )
        tree = pd.read_sql(sa.text("SELECT id, parent_id FROM agency"), conn)
    frame["current"] = frame["occurred_at"] >= period.utc_bounds()[0]
    valid = frame[frame["status"] == "valid"]
    own = valid.groupby(["current", "agency_id"])["satisfied"].agg(["sum", "count"])
    parent = dict(zip(tree["id"], tree["parent_id"], strict=True))
    pooled = {(c, a): [0, 0] for c in (True, False) for a in parent}
    for (current, agency), (x, n) in own.iterrows():
        while agency is not None and not (isinstance(agency, float) and math.isnan(agency)):
            pooled[(current, int(agency))][0] += int(x)
            pooled[(current, int(agency))][1] += int(n)
            agency = parent[int(agency)]
    verdicts = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for agency in parent:
            x, n = pooled[(True, agency)]
            px, pn = pooled[(False, agency)]
            if n:
                low_, high_ = proportion_confint(x, n, alpha=0.05, method="wilson")
                verdicts += low_ > target or high_ < target
            if n and pn:
                confint_proportions_2indep(x, n, px, pn, method="newcomb", compare="diff")
    return verdicts


def rollup_timings(app, runs: int) -> dict[str, dict[bool, list[float]]]:
    """The province report for the last quarter (calendar and reporting regime) and the last
    year, read through the monthly roll-up and from every response, alternating the two in
    the same run so that the machine's load weighs on both alike."""
    periods = {
        "quarter": parse_period(QUARTER),
        "regime quarter": parse_period(QUARTER).as_regime(),
        "year": parse_period(str(LAST_DAY.year - 1)),
    }
    found: dict[str, dict[bool, list[float]]] = {name: {True: [], False: []} for name in periods}
    for name, period in periods.items():
        for rollup in (True, False):  # warm-up
            app.config["REPORT_ROLLUP"] = rollup
            with app.test_request_context():
                reporting.build_report(reporting.ReportOptions(period=period))
        for _ in range(runs):
            for rollup in (True, False):
                app.config["REPORT_ROLLUP"] = rollup
                with app.test_request_context():
                    started = time.perf_counter()
                    reporting.build_report(reporting.ReportOptions(period=period))
                    found[name][rollup].append(time.perf_counter() - started)
    app.config["REPORT_ROLLUP"] = True
    return found


def scale_timings(app, runs: int) -> dict[str, list[float]]:
    """The province report (`build_report`, through the roll-ups) for the last whole year and
    the last quarter, alternating the two, `runs` times each after a warm-up."""
    periods = {"year": parse_period(str(LAST_DAY.year - 1)), "quarter": parse_period(QUARTER)}
    found: dict[str, list[float]] = {name: [] for name in periods}
    app.config["REPORT_ROLLUP"] = True
    for step in range(runs + 1):
        for name, period in periods.items():
            with app.test_request_context():
                started = time.perf_counter()
                reporting.build_report(reporting.ReportOptions(period=period))
                if step:  # the first round warms caches and plans
                    found[name].append(time.perf_counter() - started)
    return found


def write_cost(app, blocks: int, per_block: int) -> dict[bool, list[float]]:
    """What the roll-ups' triggers cost a submission: transactions shaped like
    `responses.record`'s (INSERT ... ON CONFLICT DO NOTHING RETURNING, three answers in one
    executemany, COMMIT with synchronous_commit on), in blocks alternating the triggers on and
    off (ALTER TABLE ... DISABLE TRIGGER USER on response and answer), so the machine's load
    weighs on both alike. Returns the mean milliseconds per transaction of each block."""
    from sqlalchemy.dialects import postgresql

    from survey import patterns
    from survey.models import Answer

    response, answer = Response.__table__, Answer.__table__
    with app.app_context():
        desks = db.session.execute(sa.text("SELECT id, agency_id FROM desk")).all()
        questionnaire = Questionnaire.default()
        qid, criteria = questionnaire.id, questionnaire.criterion_codes()[:3]
        # The pattern as `responses.record` writes it (survey.patterns).
        levels, codes = questionnaire.level_codes(), questionnaire.criterion_codes()
        db.session.remove()
        rng = random.Random(18)
        found: dict[bool, list[float]] = {True: [], False: []}
        with db.engine.connect() as conn:
            for block in range(2 * blocks):
                on = block % 2 == 0
                verb = "ENABLE" if on else "DISABLE"
                for table in ("response", "answer"):
                    conn.execute(sa.text(f"ALTER TABLE {table} {verb} TRIGGER USER"))
                conn.commit()
                started = time.perf_counter()
                for _ in range(per_block):
                    desk_id, agency_id = desks[rng.randrange(len(desks))]
                    rid = uuid.uuid4()
                    level = rng.choice(("rat_hai_long", "hai_long", "khong_hai_long"))
                    now = sa.func.now()
                    row = dict(
                        id=rid, desk_id=desk_id, agency_id=agency_id, questionnaire_id=qid,
                        channel="api", level=level, satisfied=level != "khong_hai_long",
                        occurred_at=now, received_at=now, status="valid",
                        content_hash=rid.hex + rid.hex,
                        answer_pattern=patterns.pattern(
                            levels, codes, dict.fromkeys(criteria, level)
                        ),
                    )  # fmt: skip
                    statement = (
                        postgresql.insert(response)
                        .values(row)
                        .on_conflict_do_nothing(index_elements=["id"])
                        .returning(response.c.id)
                    )
                    assert conn.execute(statement).first() is not None
                    conn.execute(
                        sa.insert(answer),
                        [
                            dict(response_id=rid, criterion=c, level=level,
                                 satisfied=level != "khong_hai_long")
                            for c in criteria
                        ],
                    )  # fmt: skip
                    conn.commit()
                found[on].append((time.perf_counter() - started) / per_block * 1000)
            for table in ("response", "answer"):
                conn.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            conn.commit()
        db.engine.dispose()
    return found


def measure(app, args) -> dict:
    period = parse_period(QUARTER)
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT count(*) FROM response WHERE occurred_at >= :low AND occurred_at < :high"
            ),
            dict(zip(("low", "high"), period.utc_bounds(), strict=True)),
        ).scalar()
        before = db.session.execute(
            sa.text(
                "SELECT count(*) FROM response WHERE occurred_at >= :low AND occurred_at < :high"
            ),
            dict(zip(("low", "high"), period.previous().utc_bounds(), strict=True)),
        ).scalar()
        print(f"  {QUARTER}: {rows:,} responses; previous quarter: {before:,}", flush=True)
        query = reporting.counts.agency_channel_counts_query(period)
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = db.session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
        print("  plan of the counts query:\n    " + "\n    ".join(plan), flush=True)

        def counts():
            return reporting.counts.period_counts(period, period.previous())

        def report():
            with app.test_request_context():
                return reporting.build_report(reporting.ReportOptions(period=period))

        result = report()
        print(
            f"  report: {len(result.rows):,} rows, province {result.summary.valid:,} valid, "
            f"rate {result.summary.rate:.4f}, verdicts {result.summary.verdict_counts}",
            flush=True,
        )
        out = {"quarter_rows": rows, "previous_rows": before}
        out["counts"], out["counts_samples"] = timed(counts, args.runs)
        out["report"], out["report_samples"] = timed(report, args.runs)
        out["rollup"] = rollup_timings(app, args.runs)
        target = result.summary.target or 0.9
        naive = []
        for _ in range(args.naive_runs):
            started = time.perf_counter()
            naive_report(db.engine, period, period.previous(), target)
            naive.append(time.perf_counter() - started)
        out["naive"], out["naive_samples"] = statistics.median(naive), naive
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=200_000, help="default: a smoke run")
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the report")
    parser.add_argument("--naive-runs", type=int, default=3, help="timed runs of the naive way")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--first",
        type=int,
        default=0,
        help="time the reports at this many responses first, then grow to --responses and "
        "time them again (the 10M-within-1.5x-of-1M goal)",
    )
    parser.add_argument("--scale-only", action="store_true", help="skip the quarter's details")
    parser.add_argument("--write-blocks", type=int, default=6, help="blocks per trigger state")
    parser.add_argument("--write-per-block", type=int, default=200)
    parser.add_argument(
        "--kept",
        nargs="+",
        metavar="DATABASE",
        help="time databases kept by earlier runs (--keep; upgraded to the head with the "
        "app's migrations) instead of loading one: the yearly and quarterly reports on each, "
        "round-robin (the last against the first: the ratio), then the rest on the last",
    )
    parser.add_argument(
        "--answers",
        action="store_true",
        help="answers to every criterion of the questionnaire for the responses",
    )
    parser.add_argument(
        "--answers-since",
        type=date.fromisoformat,
        default=None,
        metavar="DAY",
        help="with --answers: only responses from this day (UTC) on",
    )
    args = parser.parse_args()
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    if args.kept:
        return kept(args, admin)
    name = f"hailong_bench_scale_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            about = machine(conn)
    except sa.exc.OperationalError as error:
        sys.exit(f"PostgreSQL is not reachable: {error.orig}")
    print(
        f"bench_report_scale: {args.responses:,} responses, {args.agencies:,} agencies, "
        f"{args.years} years; report {QUARTER}; database {name}"
    )
    print(f"machine: {about}; load average {load_average()}", flush=True)
    steps = []  # (responses, load average, timings)
    try:
        url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        app = make_app(url)
        bench = setup(app, args)
        if args.first:
            grow(app, 0, args.first, bench, last=False)
            steps.append((args.first, load_average(), scale_timings(app, args.runs)))
            print(f"  {args.first:,}: {steps[-1][2]}", flush=True)
        loading = grow(app, args.first or 0, args.responses, bench, last=True)
        if args.answers:
            add_answers(app, args.answers_since)
        steps.append((args.responses, load_average(), scale_timings(app, args.runs)))
        print(f"  {args.responses:,}: {steps[-1][2]}", flush=True)
        writes = write_cost(app, args.write_blocks, args.write_per_block)
        print(f"  write cost: {writes}", flush=True)
        result = None if args.scale_only else measure(app, args)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
        admin.dispose()
    report(args, steps, writes, result, loading)


def kept(args, admin) -> None:
    """The measurements on databases kept by earlier runs, migrated to the head first."""
    from flask_migrate import upgrade

    with admin.connect() as conn:
        about = machine(conn)
    print(f"bench_report_scale on kept databases {', '.join(args.kept)}")
    print(f"machine: {about}; load average {load_average()}", flush=True)
    apps, sizes = [], []
    for name in args.kept:
        url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        apps.append(make_app(url))
        with apps[-1].app_context():
            upgrade()
        if args.answers:
            add_answers(apps[-1], args.answers_since)
        with apps[-1].app_context():
            sizes.append(db.session.execute(sa.text("SELECT count(*) FROM response")).scalar())
            db.session.remove()
    # Round-robin over the databases, so that the machine's load weighs on each alike.
    rounds = [[] for _ in apps]
    for _ in range(args.runs):
        for i, app in enumerate(apps):
            rounds[i].append(scale_timings(app, 1))
    steps = []
    for name, responses, found in zip(args.kept, sizes, rounds, strict=True):
        timings = {key: [t for one in found for t in one[key]] for key in found[0]}
        steps.append((responses, load_average(), timings))
        print(f"  {name}, {responses:,}: {timings}", flush=True)
    app = apps[-1]
    writes = write_cost(app, args.write_blocks, args.write_per_block)
    print(f"  write cost: {writes}", flush=True)
    result = None if args.scale_only else measure(app, args)
    args.responses = steps[-1][0]
    report(args, steps, writes, result, None)


def report(args, steps, writes, result, loading) -> None:
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    median = statistics.median
    print(f"\nsummary, the province report through the roll-ups ({args.agencies:,} agencies):")
    for responses, load, timings in steps:
        year, quarter = median(timings["year"]), median(timings["quarter"])
        print(
            f"  {responses:>11,} responses (load average {load}): "
            f"year {year * 1000:5.0f} ms [{ms(timings['year'])}] goal 500: "
            f"{'meets' if year <= 0.5 else 'MISSES'};  "
            f"quarter {quarter * 1000:5.0f} ms [{ms(timings['quarter'])}] goal 300: "
            f"{'meets' if quarter <= 0.3 else 'MISSES'}"
        )
    if len(steps) == 2:
        ratio = median(steps[1][2]["year"]) / median(steps[0][2]["year"])
        verdict = "meets" if ratio <= 1.5 else "MISSES"
        print(f"  yearly report at {steps[1][0]:,} / at {steps[0][0]:,}: {ratio:.2f}x "
              f"(goal <= 1.5x: {verdict})")  # fmt: skip
    on, off = median(writes[True]), median(writes[False])
    print(
        f"  a submission's transaction (response + 3 answers), triggers on {on:.2f} ms "
        f"[{', '.join(f'{x:.2f}' for x in writes[True])}], off {off:.2f} ms "
        f"[{', '.join(f'{x:.2f}' for x in writes[False])}]: +{on - off:.2f} ms "
        f"({(on / off - 1) * 100:+.0f}%), alternating blocks of {args.write_per_block}"
    )
    if result is None:
        return
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    verdict = "meets" if result["report"] <= 2.0 else "MISSES"
    print(
        f"\nsummary ({args.responses:,} responses, {args.agencies:,} agencies, {args.years} years; "
        f"{QUARTER}: {result['quarter_rows']:,} + previous {result['previous_rows']:,} rows; "
        f"load average {load_average()}):\n"
        + (
            f"  load {loading['load']:.0f} s, indexes {loading['index']:.0f} s, "
            f"VACUUM ANALYZE {loading['vacuum']:.0f} s, size {loading['size']}\n"
            if loading
            else ""
        )
        + f"  counts query (both quarters) {result['counts'] * 1000:7.0f} ms  "
        f"[{ms(result['counts_samples'])}]\n"
        f"  build_report                {result['report'] * 1000:7.0f} ms  "
        f"[{ms(result['report_samples'])}]  goal 2 s: {verdict}\n"
        f"  naive (pandas + statsmodels) {result['naive'] * 1000:6.0f} ms  "
        f"[{ms(result['naive_samples'])}]\n"
        f"  naive / build_report: {result['naive'] / result['report']:.1f}x"
    )
    print("  build_report through the monthly roll-up against every response (same run):")
    for name, both in result["rollup"].items():
        rolled, raw = statistics.median(both[True]), statistics.median(both[False])
        print(
            f"    {name:15} roll-up {rolled * 1000:6.0f} ms [{ms(both[True])}]   "
            f"raw {raw * 1000:6.0f} ms [{ms(both[False])}]   {raw / rolled:.1f}x"
        )


if __name__ == "__main__":
    main()
