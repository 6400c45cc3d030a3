"""The monthly roll-ups `response_month` and `answer_month`, the design effect's `desk_day` and
`cluster_month`, the agency table's `agency_month` and `level_month`, and the indicator score's
`pattern_half` (with each response's `answer_pattern`) equal the raw counts after any sequence
of writes, and reports read through them give the same rows as reading every response and
answer (migrations 0014, 0018, 0020, 0021, 0022)."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import threading
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey import patterns
from survey.extensions import db
from survey.models import (
    Agency,
    AgencyMonth,
    Answer,
    AnswerMonth,
    Channel,
    ClusterMonth,
    Desk,
    DeskDay,
    Level,
    LevelMonth,
    PatternHalf,
    Questionnaire,
    Response,
    ResponseMonth,
)
from survey.periods import LOCAL_OFFSET, Period, parse_period
from survey.reporting import counts

CHANNELS = ("qr", "kiosk", "api", "paper", "followup")
STATUSES = ("valid", "flagged", "excluded")
LEVELS = (("rat_hai_long", True), ("hai_long", True), ("khong_hai_long", False))
CRITERIA = ("total_time", "attitude", "online")  # of the default questionnaire
#: Local times around the edges that matter: month ends, the regime's 14th/15th, midnight.
START = datetime(2026, 5, 31, 12)  # naive UTC
SPAN_HOURS = 24 * 130


@pytest.fixture
def world(app):
    province = Agency(code="P", name="Tỉnh", level=Level.PROVINCE)
    communes = [
        Agency(code=f"X{i}", name=f"Xã {i}", parent=province, level=Level.COMMUNE) for i in range(2)
    ]
    desks = [Desk(agency=a, code=f"D{a.code}", name="Quầy") for a in [province, *communes]]
    db.session.add_all([province, *communes, *desks])
    db.session.commit()
    questionnaire = Questionnaire.default()
    return {
        "desks": [(d.id, d.agency_id) for d in desks],
        "q": questionnaire.id,
        "scale": (questionnaire.level_codes(), questionnaire.criterion_codes()),
    }


def _rows(world, draws) -> list[dict]:
    rows = []
    for desk, channel, status, level, hours, *_answers in draws:
        desk_id, agency_id = world["desks"][desk]
        rid = uuid.uuid4()
        at = START + timedelta(hours=hours)
        rows.append(
            {
                "id": rid,
                "desk_id": desk_id,
                "agency_id": agency_id,
                "questionnaire_id": world["q"],
                "channel": CHANNELS[channel],
                "level": LEVELS[level][0],
                "satisfied": LEVELS[level][1],
                "occurred_at": at,
                "received_at": at,
                "status": STATUSES[status],
                "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
            }
        )
    return rows


def _answers(rows, draws) -> list[dict]:
    """The answers of `rows`: draw[5] is a bitmask of the criteria answered, draw[6] a seed
    for their levels."""
    found = []
    for row, (*_, mask, seed) in zip(rows, draws, strict=True):
        for k, criterion in enumerate(CRITERIA):
            if mask >> k & 1:
                level, happy = LEVELS[(seed >> (2 * k)) % 3]
                found.append(
                    {
                        "response_id": row["id"],
                        "criterion": criterion,
                        "level": level,
                        "satisfied": happy,
                    }
                )
    return found


def _raw_answer_months() -> Counter:
    found: Counter = Counter()
    for at, agency, status, criterion, happy in db.session.execute(
        sa.select(
            Response.occurred_at,
            Response.agency_id,
            sa.type_coerce(Response.status, sa.String),
            Answer.criterion,
            Answer.satisfied,
        ).join(Response, Response.id == Answer.response_id)
    ):
        local = at + LOCAL_OFFSET
        key = (local.year * 100 + local.month, agency, status, criterion)
        found[key + ("n",)] += 1
        found[key + ("x",)] += int(happy)
    return +found


def _rolled_answer_months() -> Counter:
    found: Counter = Counter()
    for m in db.session.scalars(sa.select(AnswerMonth)):
        key = (m.month, m.agency_id, m.status, m.criterion)
        found[key + ("n",)] += m.answers
        found[key + ("x",)] += m.satisfied
    return +found


def _raw_months() -> Counter:
    """The roll-up as computed in Python from every response (the oracle)."""
    found: Counter = Counter()
    for r in db.session.execute(
        sa.select(
            Response.occurred_at,
            Response.agency_id,
            Response.questionnaire_id,
            sa.type_coerce(Response.channel, sa.String),
            sa.type_coerce(Response.status, sa.String),
            Response.level,
            Response.satisfied,
        )
    ):
        local = r[0] + LOCAL_OFFSET
        key = (local.year * 100 + local.month, r[1], r[2], r[3], r[4], r[5])
        found[key + ("n",)] += 1
        found[key + ("x",)] += int(r[6])
    return +found


def _rolled_months() -> Counter:
    found: Counter = Counter()
    for m in db.session.scalars(sa.select(ResponseMonth)):
        key = (m.month, m.agency_id, m.questionnaire_id, m.channel, m.status, m.level)
        found[key + ("n",)] += m.responses
        found[key + ("x",)] += m.satisfied
    return +found


def _agency_months(months: Counter) -> tuple[Counter, Counter]:
    """`agency_month` and `level_month` as the oracle expects them, from `response_month`'s
    keys (month, agency, questionnaire, channel, status, level, "n" or "x")."""
    agency: Counter = Counter()
    levels: Counter = Counter()
    for (month, agency_id, _q, channel, status, level, part), count in months.items():
        key = (month, agency_id)
        if part == "x":
            if status == "valid":
                agency[key + ("satisfied",)] += count
                agency[key + (f"satisfied_{channel}",)] += count
            continue
        agency[key + (status,)] += count
        if status == "valid":
            agency[key + (f"valid_{channel}",)] += count
            levels[(month, agency_id, level)] += count
    return +agency, +levels


def _rolled_agency_months() -> tuple[Counter, Counter]:
    agency: Counter = Counter()
    for row in db.session.scalars(sa.select(AgencyMonth)):
        for column in AgencyMonth.__table__.columns.keys()[2:]:
            agency[(row.month, row.agency_id, column)] += getattr(row, column)
    levels = Counter(
        {
            (r.month, r.agency_id, r.level): r.valid
            for r in db.session.scalars(sa.select(LevelMonth))
        }
    )
    return +agency, +levels


EPOCH = date(1970, 1, 1)


def _raw_desk_days() -> dict[tuple, tuple[int, int]]:
    """{(local day number, agency, desk): (valid, satisfied)} from every response."""
    found: Counter = Counter()
    for at, agency, desk, happy in db.session.execute(
        sa.select(
            Response.occurred_at, Response.agency_id, Response.desk_id, Response.satisfied
        ).where(Response.status == "valid")
    ):
        key = ((at + LOCAL_OFFSET).date() - EPOCH).days, agency, desk
        found[key + ("n",)] += 1
        found[key + ("x",)] += int(happy)
    return {key[:3]: (found[key], found[key[:3] + ("x",)]) for key in found if key[3] == "n"}


def _month_of(day: int) -> int:
    local = EPOCH + timedelta(days=day)
    return local.year * 100 + local.month


def _moments(desk_days: dict, month=_month_of) -> dict[tuple, tuple]:
    """{(month, agency): (clusters, valid, satisfied, Σx²/n, Σn²)} of the desk-days."""
    found: dict[tuple, list] = {}
    for (day, agency, _desk), (n, x) in sorted(desk_days.items()):
        sums = found.setdefault((month(day), agency), [0, 0, 0, 0.0, 0])
        for i, v in enumerate((1, n, x, x * x / n, n * n)):
            sums[i] += v
    return {key: tuple(v) for key, v in found.items()}


def _same_moments(rolled: dict, raw: dict) -> bool:
    """Equal counts, and Σx²/n within a relative 1e-9: the roll-up keeps it as a running sum of
    differences of terms, which rounds differently from one fresh sum (a few units in the last
    place per write; 1e-9 leaves a margin of ~10⁶ writes and still catches a lost term)."""
    if rolled.keys() != raw.keys():
        return False
    return all(
        a[:3] == b[:3] and a[4] == b[4] and math.isclose(a[3], b[3], rel_tol=1e-9, abs_tol=1e-9)
        for key in raw
        for a, b in [(rolled[key], raw[key])]
    )


def _check_clusters() -> None:
    desk_days = _raw_desk_days()
    rolled_days = {
        (d.day, d.agency_id, d.desk_id): (d.responses, d.satisfied)
        for d in db.session.scalars(sa.select(DeskDay))
    }
    assert rolled_days == desk_days
    rolled = {
        (m.month, m.agency_id): (m.clusters, m.responses, m.satisfied, m.sum_x2_n, m.sum_n2)
        for m in db.session.scalars(sa.select(ClusterMonth))
        if m.clusters or m.responses or m.sum_n2 or m.sum_x2_n
    }
    assert _same_moments(rolled, _moments(desk_days)), (rolled, _moments(desk_days))


PERIODS = [
    parse_period("2026-Q3"),
    parse_period("2026-Q3").as_regime(),
    parse_period("2026-06"),
    Period("custom", date(2026, 6, 14), date(2026, 8, 15)),
    Period("custom", date(2026, 7, 3), date(2026, 7, 20)),  # no whole month
]
BY = [("agency", "status"), ("agency", "status", "channel"), ("questionnaire", "level")]


def _raw_pattern_halves() -> dict[tuple, list[int]]:
    """`pattern_half` recomputed from the answers and the questionnaires, checking on the way
    that each response's `answer_pattern` is its answers' pattern."""
    scales = {q.id: q for q in db.session.scalars(sa.select(Questionnaire))}
    given: dict = defaultdict(dict)
    for rid, criterion, level in db.session.execute(
        sa.select(Answer.response_id, Answer.criterion, Answer.level)
    ):
        given[rid][criterion] = level
    found = defaultdict(list)
    for rid, at, agency, qid, status, stored in db.session.execute(
        sa.select(
            Response.id,
            Response.occurred_at,
            Response.agency_id,
            Response.questionnaire_id,
            sa.type_coerce(Response.status, sa.String),
            Response.answer_pattern,
        )
    ):
        q = scales[qid]
        expected = patterns.pattern(q.level_codes(), q.criterion_codes(), given.get(rid, {}))
        assert stored == expected, (rid, stored, expected)
        if expected:
            key = (patterns.half_key((at + LOCAL_OFFSET).date()), agency, qid, status)
            found[key].append(expected)
    return {key: patterns.counts_of(found[key]).tolist() for key in found}


def _rolled_pattern_halves() -> dict[tuple, list[int]]:
    found = {}
    for h in db.session.scalars(sa.select(PatternHalf)):
        counts = np.frombuffer(h.counts, dtype=patterns.COUNTS)
        assert (counts >= 0).all()
        if counts.any():
            found[(h.half, h.agency_id, h.questionnaire_id, h.status)] = counts.tolist()
    return found


def _check_months() -> None:
    db.session.expire_all()
    raw = _raw_months()
    assert _rolled_months() == raw
    assert _rolled_agency_months() == _agency_months(raw)
    assert _rolled_answer_months() == _raw_answer_months()
    assert _rolled_pattern_halves() == _raw_pattern_halves()
    _check_clusters()


def _pattern_counts(period, agencies, rollup: bool) -> dict:
    qids = sorted(db.session.scalars(sa.select(Questionnaire.id)))
    return {
        (qid, int(agency)): row.tolist()
        for qid, found in counts.pattern_counts(period, agencies, qids, rollup).items()
        for agency, row in zip(found.agency_ids, found.counts, strict=True)
        if row.any()
    }


def _check() -> None:
    _check_months()
    for period in PERIODS:
        for by in BY:
            for valid_only in (False, True):
                rolled = db.session.execute(
                    counts.rolled_counts_query(period, by, None, valid_only)
                ).all()
                raw = db.session.execute(
                    counts.response_counts_query(period, by, None, valid_only)
                ).all()
                assert sorted(map(_ints, rolled)) == sorted(map(_ints, raw)), (period, by)
        for agencies in (None, sorted(db.session.scalars(sa.select(Agency.id)))[:2]):
            for query in (counts.agency_month_query, counts.level_month_query):
                rolled = db.session.execute(query(period, agencies, rollup=True))
                raw = db.session.execute(query(period, agencies, rollup=False))
                assert sorted(map(_ints, rolled)) == sorted(map(_ints, raw)), (query, period)
            rolled = db.session.execute(counts.rolled_criterion_counts_query(period, agencies))
            raw = db.session.execute(counts.criterion_counts_query(period, agencies))
            assert sorted(map(_ints, rolled)) == sorted(map(_ints, raw)), (period, agencies)
            rolled = _pattern_counts(period, agencies, rollup=True)
            assert rolled == _pattern_counts(period, agencies, rollup=False), period
    _check_cluster_counts()


def _check_cluster_counts() -> None:
    """The design effect's moments read through the roll-ups (all periods in one statement)
    equal those grouped from every response, period by period."""
    rolled: dict[int, dict] = {i: {} for i in range(len(PERIODS))}
    for i, agency, *sums in db.session.execute(counts.rolled_cluster_counts_query(PERIODS)):
        rolled[i][agency] = counts._moments(sums)
    for i, period in enumerate(PERIODS):
        raw = {
            agency: counts._moments(sums)
            for agency, *sums in db.session.execute(counts.cluster_counts_query(period))
        }
        assert _same_moments(rolled[i], raw), period


def _ints(row) -> tuple:
    return tuple(int(v) if not isinstance(v, str) else v for v in row)


#: Hours that fall on few local days (15 July 19:00-23:00, 16 July from midnight), so that
#: desk-days hold several responses and their Σx²/n is more than Σx.
CROWDED_HOURS = (24 * 45, 24 * 45 + 1, 24 * 45 + 4, 24 * 45 + 5, 24 * 45 + 9)
draw = st.tuples(
    st.integers(0, 2),
    st.integers(0, len(CHANNELS) - 1),
    st.integers(0, 2),
    st.integers(0, 2),
    st.one_of(st.integers(0, SPAN_HOURS), st.sampled_from(CROWDED_HOURS)),
    st.integers(0, 2 ** len(CRITERIA) - 1),
    st.integers(0, 63),
)
operation = st.one_of(
    st.tuples(st.just("insert"), st.lists(draw, min_size=1, max_size=12)),
    st.tuples(st.just("status"), st.sampled_from(STATUSES), st.integers(0, 2**32)),
    st.tuples(st.just("delete"), st.integers(0, 2**32)),
    st.tuples(st.just("retime"), st.integers(-72, 72), st.integers(0, 2**32)),
    st.tuples(st.just("level"), st.integers(0, 2), st.integers(0, 2**32)),
    st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2**32)),
    st.tuples(st.just("purge"), st.integers(0, 2**32)),
    st.tuples(st.just("answer"), st.integers(0, 2), st.integers(0, 2**32)),
)


def _some_ids(seed: int) -> list:
    ids = sorted(db.session.scalars(sa.select(Response.id)).all())
    return [i for k, i in enumerate(ids) if (seed >> (k % 32)) & 1]


def _apply(world, op) -> None:
    kind = op[0]
    if kind == "insert":
        rows = _rows(world, op[1])
        answers = _answers(rows, op[1])
        for i, row in enumerate(rows):  # half the rows as the writers set it, half left out
            row["answer_pattern"] = None
            if i % 2:
                given = {
                    a["criterion"]: a["level"] for a in answers if a["response_id"] == row["id"]
                }
                row["answer_pattern"] = patterns.pattern(*world["scale"], given)
        db.session.execute(sa.insert(Response), rows)
        if answers:
            db.session.execute(sa.insert(Answer), answers)
    elif kind == "status":  # a review decision or an exclusion
        ids = _some_ids(op[2])
        db.session.execute(sa.update(Response).where(Response.id.in_(ids)).values(status=op[1]))
    elif kind == "delete":  # a purge: the answers go by ON DELETE CASCADE
        db.session.execute(sa.delete(Response).where(Response.id.in_(_some_ids(op[1]))))
    elif kind == "purge":  # the answers first, then the responses (`flask purge`)
        ids = _some_ids(op[1])
        db.session.execute(sa.delete(Answer).where(Answer.response_id.in_(ids)))
        db.session.execute(sa.delete(Response).where(Response.id.in_(ids)))
    elif kind == "merge":  # an agency merged into another: its responses change agency
        _desk, agency_id = world["desks"][op[1]]
        ids = _some_ids(op[2])
        db.session.execute(
            sa.update(Response).where(Response.id.in_(ids)).values(agency_id=agency_id)
        )
    elif kind == "answer":  # an answer's level corrected
        level, happy = LEVELS[op[1]]
        ids = _some_ids(op[2])
        db.session.execute(
            sa.update(Answer)
            .where(Answer.response_id.in_(ids), Answer.criterion == CRITERIA[op[2] % 3])
            .values(level=level, satisfied=happy)
        )
    elif kind == "retime":  # moved across a month edge
        for rid in _some_ids(op[2]):
            response = db.session.get(Response, rid)
            response.occurred_at += timedelta(hours=op[1])
    elif kind == "level":
        level, happy = LEVELS[op[1]]
        db.session.execute(
            sa.update(Response)
            .where(Response.id.in_(_some_ids(op[2])))
            .values(level=level, satisfied=happy)
        )
    db.session.commit()


#: Run first, every time: crowded desk-days (several satisfied responses each, on both sides of
#: a local midnight) changed by every kind of write, which random examples reach only rarely.
CROWDED = [
    ("insert", [(d % 2, 0, 0, d % 3 // 2 * 2, CROWDED_HOURS[d % 5], 7, d) for d in range(12)]),
    ("level", 2, 0b0101),
    ("status", "flagged", 0b0011),
    ("retime", 5, 0b1100_0000),
    ("merge", 2, 0b1010_1010),
    ("delete", 0b1_0000_0001),
]


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=6))
@example(operations=CROWDED)
def test_the_rollup_equals_the_raw_counts_after_any_writes(app, world, operations):
    db.session.execute(sa.delete(Response))
    db.session.commit()
    for op in operations:
        _apply(world, op)
        _check_months()
    _check()


def test_the_rollup_triggers_exist_at_head(app):
    """A migration that rebuilds `response` on SQLite (batch_alter_table) drops its triggers."""
    if db.engine.dialect.name == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'response'::regclass"
        expected = {"response_month_keep", "response_month_forget", "desk_day_keep"}
        expected |= {"agency_month_keep"}
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'response'"
        expected = {f"response_month_{op}" for op in ("insert", "update", "delete")}
        expected |= {"answer_month_move", "answer_month_forget"}
        expected |= {f"desk_day_{op}" for op in ("insert", "update", "delete")}
        expected |= {f"agency_month_{op}" for op in ("insert", "update", "delete")}
    assert expected <= set(db.session.scalars(sa.text(sql)))
    on_answer = sql.replace("'response'", "'answer'")
    kept = (
        {"answer_month_keep"}
        if db.engine.dialect.name == "postgresql"
        else {f"answer_month_{op}" for op in ("insert", "update", "delete")}
    )
    assert kept <= set(db.session.scalars(sa.text(on_answer)))


def _migration(name: str):
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_the_backfill_of_agency_month_equals_the_raw_counts(app, world):
    """Migration 0021 fills `agency_month` and `level_month` from `response_month` (and the
    benchmark's bulk loads do the same): emptied and filled again, they equal the oracle."""
    migration = _migration("0021_agency_month")
    for op in CROWDED:
        _apply(world, op)
    _apply(world, ("insert", [(d % 3, d % 5, d % 3, d % 3, 24 * d, 0, d) for d in range(40)]))
    db.session.execute(sa.delete(AgencyMonth))
    db.session.execute(sa.delete(LevelMonth))
    for statement in migration.backfill_statements():
        db.session.execute(sa.text(statement))
    db.session.commit()
    assert _rolled_agency_months() == _agency_months(_raw_months())
    assert sum(db.session.scalars(sa.select(AgencyMonth.flagged))) > 0


def test_the_backfill_of_pattern_half_equals_the_raw_counts(app, world):
    """Migration 0022 sets each response's `answer_pattern` from its answers and fills
    `pattern_half` from the patterns (and the benchmark's bulk loads do the same): with both
    emptied and filled again, they equal the oracle, for two questionnaires on different
    scales, all statuses and both halves of the months."""
    for op in CROWDED:
        _apply(world, op)
    draws = [(d % 3, d % 5, d % 3, d % 3, 24 * d + d % 7, d % 8, d * 37) for d in range(60)]
    _apply(world, ("insert", draws))
    other = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.id != world["q"]))
    levels, criteria = other.level_codes(), other.criterion_codes()
    rows = _rows(world, draws[:25])
    answers = []
    for k, row in enumerate(rows):
        row["questionnaire_id"] = other.id
        for i, criterion in enumerate(criteria[: 1 + k % len(criteria)]):
            level = levels[(k + i) % len(levels)]
            answers.append(
                {
                    "response_id": row["id"],
                    "criterion": criterion,
                    "level": level,
                    "satisfied": level in levels[:2],
                }
            )
    db.session.execute(sa.insert(Response), rows)
    db.session.execute(sa.insert(Answer), answers)
    db.session.commit()
    expected = _raw_pattern_halves()
    assert {key[2] for key in expected} == {world["q"], other.id}
    assert {key[3] for key in expected} >= {"valid", "flagged"}

    db.session.execute(sa.update(Response).values(answer_pattern=None))
    db.session.execute(sa.delete(PatternHalf))
    db.session.commit()
    # The migration fills before it creates the triggers; PostgreSQL's would count again at
    # the commit (they are deferred), SQLite's count at once and the fill starts afresh.
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(sa.text("ALTER TABLE response DISABLE TRIGGER pattern_half_keep"))
    migration = _migration("0022_pattern_half")
    migration.backfill(db.session.connection())
    if postgres:
        db.session.execute(sa.text("ALTER TABLE response ENABLE TRIGGER pattern_half_keep"))
    db.session.commit()
    db.session.expire_all()
    assert _rolled_pattern_halves() == _raw_pattern_halves() == expected
    # The fill counts a few rows of `pattern_half` at a time on big data: as here, 3 at a time.
    migration.fill_halves(db.session.connection(), groups_per_pass=3)
    db.session.commit()
    assert _rolled_pattern_halves() == expected


def test_agency_month_counts_every_channel(app, world):
    """A channel added to `Channel` needs a migration that adds its column to `agency_month`
    and teaches the triggers to count it (0021's docstring): one valid response of each
    channel must land in its own column."""
    draws = [(0, 0, 0, 0, 24, 0, 0)] * len(Channel)
    rows = _rows(world, draws)
    for row, channel in zip(rows, Channel, strict=True):
        row["channel"] = channel.value
    db.session.execute(sa.insert(Response), rows)
    db.session.commit()
    (month,) = db.session.scalars(sa.select(AgencyMonth)).all()
    valid = [f"valid_{channel.value}" for channel in Channel]
    satisfied = [f"satisfied_{channel.value}" for channel in Channel]
    assert [getattr(month, column) for column in valid + satisfied] == [1] * 2 * len(Channel)
    assert (month.valid, month.satisfied) == (len(Channel), len(Channel))


def test_reports_read_the_rollup_for_whole_months_only(app):
    months, edges = counts.month_split(parse_period("2026-Q3").as_regime())
    assert months == (202607, 202608)
    assert edges == [(date(2026, 6, 15), date(2026, 6, 30)), (date(2026, 9, 1), date(2026, 9, 14))]
    assert counts.month_split(parse_period("2026-Q3")) == ((202607, 202609), [])
    # The indicator score's roll-up is by half month: the regime's periods are whole halves.
    assert counts.half_split(parse_period("2026-Q3").as_regime()) == ((20260615, 20260901), [])
    assert counts.half_split(parse_period("2026")) == ((20260101, 20261215), [])
    assert counts.half_split(Period("custom", date(2026, 6, 14), date(2026, 8, 15))) == (
        (20260615, 20260801),
        [(date(2026, 6, 14), date(2026, 6, 14)), (date(2026, 8, 15), date(2026, 8, 15))],
    )
    july = Period("custom", date(2026, 7, 3), date(2026, 7, 12))
    assert counts.half_split(july) == (None, [(date(2026, 7, 3), date(2026, 7, 12))])
    assert counts.uses_rollup(("agency", "status"))
    assert not counts.uses_rollup(("desk",))
    app.config["REPORT_ROLLUP"] = False
    assert not counts.uses_rollup(("agency", "status"))


def test_concurrent_writers_keep_the_rollup_exact(app, world):
    """Writers in parallel transactions on the same roll-up rows (on PostgreSQL, each in its
    own connection; SQLite serialises them on its write lock)."""
    engine = db.engine
    db.session.commit()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        try:
            for round_ in range(15):
                draws = [
                    (seed % 3, 0, 0, (seed + k) % 3, 24 * 45 + k, 7, seed + k) for k in range(4)
                ]
                rows = _rows(world, draws)
                with engine.begin() as conn:
                    conn.execute(sa.insert(Response), rows)
                    conn.execute(sa.insert(Answer), _answers(rows, draws))
                with engine.begin() as conn:
                    conn.execute(
                        sa.update(Response)
                        .where(Response.id == rows[round_ % 4]["id"])
                        .values(status="flagged")
                    )
                if round_ % 5 == 4:
                    with engine.begin() as conn:
                        conn.execute(sa.delete(Response).where(Response.id == rows[0]["id"]))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    db.session.expire_all()
    assert sum(db.session.scalars(sa.select(ResponseMonth.responses))) == 6 * (15 * 4 - 3)
    answers = 6 * (15 * 4 - 3) * len(CRITERIA)
    assert sum(db.session.scalars(sa.select(AnswerMonth.answers))) == answers
    _check()
