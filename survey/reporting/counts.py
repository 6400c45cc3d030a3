"""Every SQL statement a report runs, and nothing else: counts, the agency tree, the targets in
force, questionnaire labels and the comments page.

Counts are read with SQLAlchemy Core `GROUP BY`s; individual responses are never loaded to be
counted (only the comments list reads rows, and it pages them). Everything above this module
(pooling, targets, statistics, rendering) works on the plain values returned here.

The agency table's counts come from `agency_month_query` and `level_month_query`: whole months
from the roll-ups `agency_month` and `level_month` (one row per agency and month, whatever the
data; migration 0021), the partial months at the period's edges from `response`. Other counts
go through `response_counts(period, by=...)`, over the dimensions in `DIMENSIONS` (agency,
status, channel, desk, questionnaire, level), with whole months from `response_month` when it
keeps every dimension asked for.

One cohesive thing, the report's SQL (each statement a plain count over the same
dimensions, roll-up or not), hence over 400 lines.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from flask import current_app, has_app_context
from scipy import sparse
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from survey import patterns
from survey.cases.models import Case
from survey.collation import sort_key
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
    LevelMonth,
    PatternHalf,
    Questionnaire,
    Response,
    ResponseMonth,
    Status,
    Target,
    Ticket,
)
from survey.periods import LOCAL_OFFSET, Period, local_midnight_utc, local_today, to_local
from survey.reporting import mergers

# ---- SQL constructs --------------------------------------------------------------------------


class _LocalPart(FunctionElement):
    """Hour of day (0-23) or weekday (0 = Sunday) of a naive UTC timestamp, in Vietnam time."""

    type = sa.Integer()
    inherit_cache = True

    def __init__(self, part: str, column):
        self.part = part
        super().__init__(column)


@compiles(_LocalPart, "sqlite")
def _local_part_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    code = "%H" if element.part == "hour" else "%w"
    hours = int(LOCAL_OFFSET.total_seconds() // 3600)
    return f"CAST(strftime('{code}', {column}, '+{hours} hours') AS INTEGER)"


@compiles(_LocalPart, "postgresql")
def _local_part_postgresql(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    part = "hour" if element.part == "hour" else "dow"
    hours = int(LOCAL_OFFSET.total_seconds() // 3600)
    return f"CAST(EXTRACT({part} FROM {column} + INTERVAL '{hours} hours') AS INTEGER)"


class _GroupKey(FunctionElement):
    """An integer column to group by, written `+column` on SQLite. Given the statistics of ANALYZE,
    SQLite's planner prefers to read a period through `ix_response_agency_time` in agency
    order (a skip-scan that visits the table for each row, and saves only the sort) to the
    covering index: 0.8 s against 0.17 s for a quarter of the 1,000,000-response benchmark.
    The unary plus hides the column's order from the planner; the result is the same."""

    type = sa.Integer()
    inherit_cache = True


@compiles(_GroupKey)
def _group_key_default(element, compiler, **kw):
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(_GroupKey, "sqlite")
def _group_key_sqlite(element, compiler, **kw):
    return "+" + compiler.process(list(element.clauses)[0], **kw)


def _rows(statement, binary: bool = False) -> list[sa.Row]:
    """The Core rows of a report SELECT (`replica.Session.rows`: no ORM row processing;
    `binary`: in PostgreSQL's binary format)."""
    return db.session().rows(statement, binary=binary)


def _satisfied_sum(column=Response.satisfied):
    """The number of rows where `column` (a boolean column or condition) holds."""
    return sa.func.coalesce(sa.func.sum(sa.case((column, 1), else_=0)), 0)


def _in_period(period: Period):
    low, high = period.utc_bounds()
    return sa.and_(Response.occurred_at >= low, Response.occurred_at < high)


def _in_agencies(agency_ids: Iterable[int] | None):
    if agency_ids is None:
        return sa.true()
    return Response.agency_id.in_(sorted(agency_ids))


def _valid_in(period: Period, agency_ids: Iterable[int] | None):
    return sa.and_(_in_period(period), _in_agencies(agency_ids), Response.status == Status.VALID)


# ---- responses by dimension ------------------------------------------------------------------

#: What responses can be grouped by. Enums are read as plain strings (no conversion per row).
DIMENSIONS = {
    "agency": lambda: _GroupKey(Response.agency_id),
    "status": lambda: sa.type_coerce(Response.status, sa.String),
    "channel": lambda: sa.type_coerce(Response.channel, sa.String),
    "desk": lambda: Response.desk_id,
    "questionnaire": lambda: Response.questionnaire_id,
    "level": lambda: Response.level,
    "language": lambda: Response.language,
    "mode": lambda: Response.mode,
}


def response_counts_query(
    period: Period,
    by: Sequence[str],
    agency_ids: Iterable[int] | None = None,
    valid_only: bool = False,
):
    """`SELECT <by...>, count(*), <satisfied> ... GROUP BY <by...>` over the period."""
    keys = [DIMENSIONS[name]().label(name) for name in by]
    where = (
        _valid_in(period, agency_ids)
        if valid_only
        else sa.and_(_in_period(period), _in_agencies(agency_ids))
    )
    return (
        sa.select(*keys, sa.func.count().label("responses"), _satisfied_sum().label("satisfied"))
        .where(where)
        .group_by(*keys)
    )


# ---- the monthly roll-up ---------------------------------------------------------------------

#: The dimensions the roll-up `response_month` keeps (desks, languages and modes are read raw:
#: they are asked for one agency at a time, through the agency's index).
ROLLED = {
    "agency": lambda: ResponseMonth.agency_id,
    "status": lambda: ResponseMonth.status,
    "channel": lambda: ResponseMonth.channel,
    "questionnaire": lambda: ResponseMonth.questionnaire_id,
    "level": lambda: ResponseMonth.level,
}


def _month_key(day: date) -> int:
    return day.year * 100 + day.month


def month_split(period: Period) -> tuple[tuple[int, int] | None, list[tuple[date, date]]]:
    """The whole months of `period` as `(first, last)` yyyymm keys (None if there is none),
    and the partial months at its edges as inclusive local date ranges. A reporting-regime
    quarter (15/6-14/9) is July and August whole, and 15-30 June and 1-14 September raw."""
    first = period.start if period.start.day == 1 else _next_month(period.start)
    last_day = period.end + timedelta(days=1)
    end = period.end if last_day.day == 1 else last_day.replace(day=1) - timedelta(days=1)
    if first > end:
        return None, [(period.start, period.end)]
    edges = []
    if period.start < first:
        edges.append((period.start, first - timedelta(days=1)))
    if end < period.end:
        edges.append((end + timedelta(days=1), period.end))
    return (_month_key(first), _month_key(end)), edges


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _rollup_on() -> bool:
    """Whether reports read the roll-ups for whole months (REPORT_ROLLUP, on by default)."""
    return current_app.config.get("REPORT_ROLLUP", True) if has_app_context() else True


def uses_rollup(by: Sequence[str]) -> bool:
    """Whether `response_counts` reads the roll-up for these dimensions (REPORT_ROLLUP on)."""
    return _rollup_on() and all(name in ROLLED for name in by)


def rolled_counts_query(
    period: Period,
    by: Sequence[str],
    agency_ids: Iterable[int] | None = None,
    valid_only: bool = False,
):
    """The same rows as `response_counts_query`, read from the roll-up for the whole months of
    the period and from `response` only for the partial months at its edges."""
    months, edges = month_split(period)
    if months is None:
        return response_counts_query(period, by, agency_ids, valid_only)
    where = [ResponseMonth.month.between(*months)]
    if agency_ids is not None:
        where.append(ResponseMonth.agency_id.in_(sorted(agency_ids)))
    if valid_only:
        where.append(ResponseMonth.status == Status.VALID.value)
    rolled = sa.select(
        *[ROLLED[name]().label(name) for name in by],
        ResponseMonth.responses.label("responses"),
        ResponseMonth.satisfied.label("satisfied"),
    ).where(*where)
    parts = [rolled]
    for start, end in edges:
        low, high = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
        raw = [Response.occurred_at >= low, Response.occurred_at < high, _in_agencies(agency_ids)]
        if valid_only:
            raw.append(Response.status == Status.VALID)
        keys = [DIMENSIONS[name]().label(name) for name in by]
        parts.append(
            sa.select(
                *keys,
                sa.func.count().label("responses"),
                _satisfied_sum().label("satisfied"),
            )
            .where(*raw)
            .group_by(*keys)
        )
    both = sa.union_all(*parts).subquery() if len(parts) > 1 else rolled.subquery()
    keys = [both.c[name] for name in by]
    return (
        sa.select(
            *keys,
            sa.func.sum(both.c.responses).label("responses"),
            sa.func.sum(both.c.satisfied).label("satisfied"),
        )
        .group_by(*keys)
        .having(sa.func.sum(both.c.responses) > 0)
    )


def response_counts(
    period: Period,
    by: Sequence[str],
    agency_ids: Iterable[int] | None = None,
    valid_only: bool = False,
) -> list[tuple]:
    """Rows `(*keys, responses, satisfied)` of responses in `period` grouped by `by` (names
    from `DIMENSIONS`), for the agencies `agency_ids` (None: all). Whole months come from the
    roll-up `response_month` when it keeps every dimension asked for."""
    if uses_rollup(by):
        stmt = rolled_counts_query(period, by, agency_ids, valid_only)
    else:
        stmt = response_counts_query(period, by, agency_ids, valid_only)
    return [(*row[:-2], int(row[-2]), int(row[-1])) for row in _rows(stmt)]


@dataclass
class Counts:
    valid: int = 0
    satisfied: int = 0
    flagged: int = 0
    excluded: int = 0

    @property
    def total(self) -> int:
        return self.valid + self.flagged + self.excluded

    def add(self, other: Counts) -> None:
        self.valid += other.valid
        self.satisfied += other.satisfied
        self.flagged += other.flagged
        self.excluded += other.excluded

    def count(self, status: str, responses: int, satisfied: int) -> None:
        """Add `responses` of `status` (a `Status` value) to these counts."""
        if status == Status.VALID.value:
            self.valid += responses
            self.satisfied += satisfied
        elif status == Status.FLAGGED.value:
            self.flagged += responses
        else:
            self.excluded += responses


def agency_counts_query(period: Period, agency_ids: Iterable[int] | None = None):
    """The bare GROUP BY of the agency table: responses by agency and status in a period (the
    benchmark's reference)."""
    return response_counts_query(period, ("agency", "status"), agency_ids)


# ---- the agency table's roll-up (migration 0021) ---------------------------------------------


def _agency_terms() -> dict[str, sa.ColumnElement]:
    """Each column of `agency_month` as a condition on a raw response, in the order that
    `period_counts` reads them: the statuses, then valid and satisfied by `Channel`."""
    valid = Response.status == Status.VALID
    terms = {
        "valid": valid,
        "satisfied": sa.and_(valid, Response.satisfied),
        "flagged": Response.status == Status.FLAGGED,
        "excluded": Response.status == Status.EXCLUDED,
    }
    for channel in Channel:
        terms[f"valid_{channel.value}"] = sa.and_(valid, Response.channel == channel)
    for channel in Channel:
        terms[f"satisfied_{channel.value}"] = sa.and_(
            valid, Response.satisfied, Response.channel == channel
        )
    return terms


def _month_parts(period: Period, rollup: bool | None, split=month_split):
    """The whole months of `period` to read from a roll-up (None: none) and the local date
    ranges to count from `response`: the partial months at its edges, or all of it with the
    roll-ups off (`rollup` False, or None and REPORT_ROLLUP off). `split`: `half_split` for
    the half-monthly roll-up."""
    if not (_rollup_on() if rollup is None else rollup):
        return None, [(period.start, period.end)]
    return split(period)


def _raw_between(start: date, end: date, agency_ids: Iterable[int] | None) -> list:
    low, high = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    return [Response.occurred_at >= low, Response.occurred_at < high, _in_agencies(agency_ids)]


def _rolled(model, months: tuple[int, int], agency_ids: Iterable[int] | None, columns: list):
    """`columns` of a roll-up keyed by month and agency (`agency_month`, `level_month`) for the
    months `months` (yyyymm, inclusive) and the agencies `agency_ids` (None: all)."""
    where = [model.month.between(*months)]
    if agency_ids is not None:
        where.append(model.agency_id.in_(sorted(agency_ids)))
    return sa.select(model.agency_id.label("agency"), *columns).where(*where)


def _summed(parts: list, keys: Sequence[str], columns: Sequence[str], having: Callable):
    """`parts` (SELECTs of `keys` and `columns`) added up by `keys`, as integers, the groups
    for which `having(sums by column name)` holds."""
    both = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    sums = {name: sa.cast(sa.func.sum(both.c[name]), sa.BigInteger) for name in columns}
    group = [both.c[key] for key in keys]
    return (
        sa.select(*group, *(sums[name].label(name) for name in columns))
        .group_by(*group)
        .having(having(sums))
    )


def agency_month_query(
    period: Period, agency_ids: Iterable[int] | None = None, rollup: bool | None = None
):
    """Rows `(agency, valid, satisfied, flagged, excluded, valid_<channel>...,
    satisfied_<channel>...)` (channels in `Channel` order) of the agencies
    with responses in `period`: whole months from the roll-up `agency_month`, the partial
    months at the period's edges from `response` (all of the period with the roll-ups off).
    The roll-up has one row per agency and month, so the cost of a report does not grow with
    its responses."""
    months, edges = _month_parts(period, rollup)
    terms = _agency_terms()
    parts = []
    if months is not None:
        columns = [getattr(AgencyMonth, name).label(name) for name in terms]
        parts.append(_rolled(AgencyMonth, months, agency_ids, columns))
    for start, end in edges:
        parts.append(
            sa.select(
                _GroupKey(Response.agency_id).label("agency"),
                *(_satisfied_sum(term).label(name) for name, term in terms.items()),
            )
            .where(*_raw_between(start, end, agency_ids))
            .group_by(_GroupKey(Response.agency_id))
        )
    return _summed(
        parts,
        ("agency",),
        list(terms),
        lambda sums: sums["valid"] + sums["flagged"] + sums["excluded"] > 0,
    )


def agency_counts(period: Period, agency_ids: Iterable[int] | None = None) -> dict[int, Counts]:
    """{agency id: its responses in `period` by status}, for the agencies with any."""
    return {
        row[0]: Counts(int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        for row in _rows(agency_month_query(period, agency_ids))
    }


@dataclass
class PeriodCounts:
    """What the agency table needs from the database."""

    current: dict[int, Counts]
    previous: dict[int, Counts]
    channels: dict[str, Counts]  # valid responses of the current period, by channel
    # Valid follow-up answers of the current period, by agency: a sample with its own
    # denominator, left out of the response rates (`uptake_counts`).
    followup: dict[int, int] = field(default_factory=dict)


def agency_channel_counts_query(period: Period, agency_ids: Iterable[int] | None = None):
    """Responses by agency, status and channel in a period, from `response` alone: the
    reference of the benchmark's plan (the covering index `ix_response_time_covering` holds
    every column it reads: neither backend reads the table)."""
    return response_counts_query(period, ("agency", "status", "channel"), agency_ids)


def period_counts(
    period: Period, previous: Period, agency_ids: Iterable[int] | None = None
) -> PeriodCounts:
    """Counts for the agency table, one statement per period (`agency_month_query`)."""
    current: dict[int, Counts] = {}
    channels: dict[str, Counts] = {}
    followup: dict[int, int] = {}
    names = [channel.value for channel in Channel]
    sampled = names.index(Channel.FOLLOWUP.value)
    for agency_id, valid, satisfied, flagged, excluded, *by_channel in _rows(
        agency_month_query(period, agency_ids)
    ):
        current[agency_id] = Counts(int(valid), int(satisfied), int(flagged), int(excluded))
        valid_by, satisfied_by = by_channel[: len(names)], by_channel[len(names) :]
        for name, n, x in zip(names, valid_by, satisfied_by, strict=True):
            if n:
                channel = channels.get(name)
                if channel is None:
                    channel = channels[name] = Counts()
                channel.valid += int(n)
                channel.satisfied += int(x)
        if valid_by[sampled]:
            followup[agency_id] = int(valid_by[sampled])
    return PeriodCounts(current, agency_counts(previous, agency_ids), channels, followup)


class _LocalDay(FunctionElement):
    """The day number (days since 1970-01-01) of a naive UTC timestamp, in Vietnam time."""

    type = sa.Integer()
    inherit_cache = True


@compiles(_LocalDay, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    hours = int(LOCAL_OFFSET.total_seconds() // 3600)
    # The date string, not julianday arithmetic on the timestamp, which can round a time a few
    # microseconds before midnight into the next day; the same as the triggers of `desk_day`.
    return f"CAST(julianday(date({column}, '+{hours} hours')) - 2440587.5 AS INTEGER)"


@compiles(_LocalDay, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    seconds = int(LOCAL_OFFSET.total_seconds())
    # Date arithmetic, not EXTRACT(EPOCH ...): that is numeric since PostgreSQL 14, and slow.
    return f"(CAST({column} + interval '{seconds} seconds' AS date) - DATE '1970-01-01')"


#: Per agency, the additive moments of its desk-day clusters (`analysis.cluster_moments`):
#: (clusters, valid, satisfied, Σ satisfied² / valid, Σ valid²).
Moments = tuple[int, int, int, float, int]
_EPOCH = date(1970, 1, 1)


def _moments_of(n, x):
    """The moment columns over desk-day rows of `n` valid and `x` satisfied responses."""
    nf, xf = sa.cast(n, sa.Float), sa.cast(x, sa.Float)
    return (
        sa.func.count().label("clusters"),
        sa.func.sum(n).label("n"),
        sa.func.sum(x).label("x"),
        sa.func.sum(xf * xf / nf).label("x2n"),
        sa.func.sum(sa.cast(n, sa.BigInteger) * n).label("n2"),
    )


def cluster_counts_query(period: Period):
    """`agency, clusters, n, x, x2n, n2` of the period's desk-days, from every valid response
    (GROUP BY agency, desk and local day)."""
    day = _LocalDay(Response.occurred_at).label("day")
    inner = (
        sa.select(
            Response.agency_id.label("agency"),
            sa.func.count().label("n"),
            _satisfied_sum().label("x"),
        )
        .where(_valid_in(period, None))
        .group_by(Response.agency_id, Response.desk_id, day)
        .subquery()
    )
    return sa.select(inner.c.agency, *_moments_of(inner.c.n, inner.c.x)).group_by(inner.c.agency)


def rolled_cluster_counts_query(periods: Sequence[Period]):
    """`period (index in periods), agency, clusters, n, x, x2n, n2`, for several periods in one
    statement: whole months from `cluster_month`, the days of the partial months at the edges
    from `desk_day` (both kept by triggers: migration 0020). Neither reads `response`."""
    parts = []
    for i, period in enumerate(periods):
        months, edges = month_split(period)
        if months is not None:
            parts.append(
                sa.select(
                    sa.literal(i).label("period"),
                    ClusterMonth.agency_id.label("agency"),
                    ClusterMonth.clusters.label("clusters"),
                    ClusterMonth.responses.label("n"),
                    ClusterMonth.satisfied.label("x"),
                    ClusterMonth.sum_x2_n.label("x2n"),
                    sa.cast(ClusterMonth.sum_n2, sa.BigInteger).label("n2"),
                ).where(ClusterMonth.month.between(*months))
            )
        for start, end in edges:
            parts.append(
                sa.select(
                    sa.literal(i).label("period"),
                    DeskDay.agency_id.label("agency"),
                    *_moments_of(DeskDay.responses, DeskDay.satisfied),
                )
                .where(DeskDay.day.between((start - _EPOCH).days, (end - _EPOCH).days))
                .group_by(DeskDay.agency_id)
            )
    both = sa.union_all(*parts).subquery()
    return (
        sa.select(
            both.c.period,
            both.c.agency,
            sa.func.sum(both.c.clusters),
            sa.func.sum(both.c.n),
            sa.func.sum(both.c.x),
            sa.func.sum(both.c.x2n),
            sa.func.sum(both.c.n2),
        )
        .group_by(both.c.period, both.c.agency)
        .having(sa.func.sum(both.c.clusters) > 0)
    )


def _moments(row) -> Moments:
    return int(row[0]), int(row[1]), int(row[2]), float(row[3]), int(row[4])


def cluster_counts(*periods: Period) -> list[dict[int, Moments]]:
    """For each period, {agency id: the sums over its desk-day clusters of valid responses}:
    `(clusters, responses, satisfied, sum of satisfied² / responses, sum of responses²)`, the
    additive moments of `analysis.cluster_moments`. Always the whole province: the design
    effect's shrinkage target is the province's, whatever the view. With REPORT_ROLLUP on
    (the default), every period is read in one statement from the roll-ups, never from
    `response`; Σx²/n then equals the raw sum to rounding (summed in another order)."""
    on = current_app.config.get("REPORT_ROLLUP", True) if has_app_context() else True
    found: list[dict[int, Moments]] = [{} for _ in periods]
    if not on:
        for i, period in enumerate(periods):
            for row in _rows(cluster_counts_query(period)):
                found[i][row[0]] = _moments(row[1:])
        return found
    if periods:
        for row in _rows(rolled_cluster_counts_query(periods)):
            found[row[0]][row[1]] = _moments(row[2:])
    return found


def channel_counts(period: Period, agency_ids: Iterable[int] | None) -> dict[str, Counts]:
    """Valid responses by channel."""
    return {
        channel: Counts(valid=n, satisfied=x)
        for channel, n, x in response_counts(period, ("channel",), agency_ids, valid_only=True)
    }


def desk_counts(
    period: Period, agency_ids: Iterable[int] | None
) -> list[tuple[str, str, int, int]]:
    """(desk code, desk name, valid, satisfied) of the desks with valid responses, by name in
    Vietnamese alphabetical order."""
    found = response_counts(period, ("desk",), agency_ids, valid_only=True)
    if not found:
        return []
    names = {
        desk_id: (code, name)
        for desk_id, code, name in db.session.execute(
            sa.select(Desk.id, Desk.code, Desk.name).where(Desk.id.in_([r[0] for r in found]))
        )
    }
    return sorted(
        ((*names[desk_id], n, x) for desk_id, n, x in found),
        key=lambda row: (sort_key(row[1]), row[0]),
    )


def level_counts(period: Period, agency_ids: Iterable[int] | None) -> dict[int, dict[str, int]]:
    """Valid responses by questionnaire and rating level: {questionnaire id: {level: count}}."""
    found: dict[int, dict[str, int]] = {}
    for qid, level, count, _satisfied in response_counts(
        period, ("questionnaire", "level"), agency_ids, valid_only=True
    ):
        found.setdefault(qid, {})[level] = count
    return found


def trend_counts(buckets: list[Period], agency_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(valid, satisfied) per bucket, in one query: a CASE maps each time to its bucket, so the
    same SQL runs on SQLite and PostgreSQL."""
    if not buckets:
        return []
    whens = [(Response.occurred_at < b.utc_bounds()[1], i) for i, b in enumerate(buckets)]
    bucket = sa.case(*whens, else_=len(buckets)).label("bucket")
    low = buckets[0].utc_bounds()[0]
    high = buckets[-1].utc_bounds()[1]
    stmt = (
        sa.select(bucket, sa.func.count(), _satisfied_sum())
        .where(
            Response.occurred_at >= low,
            Response.occurred_at < high,
            _in_agencies(agency_ids),
            Response.status == Status.VALID,
        )
        .group_by(bucket)
    )
    found = {int(b): (int(n), int(x)) for b, n, x in db.session.execute(stmt)}
    return [found.get(i, (0, 0)) for i in range(len(buckets))]


def criterion_counts_query(period: Period, agency_ids: Iterable[int] | None):
    """`SELECT criterion, count(*), <satisfied>` over the answers of the period's valid
    responses, read from `answer` joined to `response`."""
    return (
        sa.select(
            Answer.criterion.label("criterion"),
            sa.func.count().label("answers"),
            _satisfied_sum(Answer.satisfied).label("satisfied"),
        )
        .join(Response, Response.id == Answer.response_id)
        .where(_valid_in(period, agency_ids))
        .group_by(Answer.criterion)
    )


def rolled_criterion_counts_query(period: Period, agency_ids: Iterable[int] | None):
    """The same rows as `criterion_counts_query`, read from the roll-up `answer_month` for the
    whole months of the period and from `answer` only for the partial months at its edges."""
    months, edges = month_split(period)
    if months is None:
        return criterion_counts_query(period, agency_ids)
    where = [AnswerMonth.month.between(*months), AnswerMonth.status == Status.VALID.value]
    if agency_ids is not None:
        where.append(AnswerMonth.agency_id.in_(sorted(agency_ids)))
    parts = [
        sa.select(
            AnswerMonth.criterion.label("criterion"),
            AnswerMonth.answers.label("answers"),
            AnswerMonth.satisfied.label("satisfied"),
        ).where(*where)
    ]
    for start, end in edges:
        low, high = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
        parts.append(
            sa.select(
                Answer.criterion.label("criterion"),
                sa.func.count().label("answers"),
                _satisfied_sum(Answer.satisfied).label("satisfied"),
            )
            .join(Response, Response.id == Answer.response_id)
            .where(
                Response.occurred_at >= low,
                Response.occurred_at < high,
                _in_agencies(agency_ids),
                Response.status == Status.VALID,
            )
            .group_by(Answer.criterion)
        )
    both = sa.union_all(*parts).subquery()
    return (
        sa.select(
            both.c.criterion,
            sa.func.sum(both.c.answers).label("answers"),
            sa.func.sum(both.c.satisfied).label("satisfied"),
        )
        .group_by(both.c.criterion)
        .having(sa.func.sum(both.c.answers) > 0)
    )


def criterion_counts(period: Period, agency_ids: Iterable[int]) -> dict[str, tuple[int, int]]:
    """{criterion code: (answers, satisfied)} over the valid responses of the period; whole
    months come from the roll-up `answer_month` (REPORT_ROLLUP on)."""
    on = current_app.config.get("REPORT_ROLLUP", True) if has_app_context() else True
    query = rolled_criterion_counts_query if on else criterion_counts_query
    return {c: (int(n), int(x)) for c, n, x in db.session.execute(query(period, agency_ids))}


def heatmap_counts(period: Period, agency_ids: Iterable[int]) -> dict[tuple[int, int], tuple]:
    """{(local weekday with 0 = Sunday, local hour): (valid, satisfied)}."""
    hour = _LocalPart("hour", Response.occurred_at).label("hour")
    weekday = _LocalPart("dow", Response.occurred_at).label("weekday")
    stmt = (
        sa.select(weekday, hour, sa.func.count(), _satisfied_sum())
        .where(_valid_in(period, agency_ids))
        .group_by(weekday, hour)
    )
    return {(int(d), int(h)): (int(n), int(x)) for d, h, n, x in db.session.execute(stmt)}


# ---- comments --------------------------------------------------------------------------------


def comment_texts(period: Period, agency_ids: Iterable[int] | None) -> list[tuple[str, bool]]:
    """(comment, satisfied) of the valid responses with a comment (for their themes)."""
    stmt = sa.select(Response.comment, Response.satisfied).where(
        _valid_in(period, agency_ids),
        Response.comment.is_not(None),
        sa.func.length(sa.func.trim(Response.comment)) > 0,
    )
    return [(text, bool(satisfied)) for text, satisfied in db.session.execute(stmt)]


def comment_rows(
    period: Period, agency_ids: Iterable[int], search: str | None, limit: int, offset: int
) -> list[tuple[datetime, str, str, bool, str, str, str, str]]:
    """(occurred_at UTC, text, level, satisfied, channel, desk, agency, status), newest first;
    `search` matches a substring (case-insensitive for unaccented letters on SQLite)."""
    stmt = (
        sa.select(
            Response.occurred_at,
            Response.comment,
            Response.level,
            Response.satisfied,
            Response.channel,
            Desk.name,
            Agency.name,
            Response.status,
        )
        .join(Desk, Desk.id == Response.desk_id)
        .join(Agency, Agency.id == Response.agency_id)
        .where(_in_period(period), _in_agencies(agency_ids), Response.comment.is_not(None))
        .order_by(Response.occurred_at.desc(), Response.id)
        .limit(limit)
        .offset(offset)
    )
    if search:
        stmt = stmt.where(Response.comment.icontains(search, autoescape=True))
    return [tuple(row) for row in db.session.execute(stmt)]


# ---- agencies, targets, questionnaires -------------------------------------------------------


@dataclass(frozen=True)
class AgencyRecord:
    id: int
    code: str
    name: str
    name_en: str | None
    parent_id: int | None
    level: str
    kind: str
    active: bool


def agencies() -> list[AgencyRecord]:
    """Every agency, by code (the report's tree is built from these)."""
    columns = (
        Agency.id,
        Agency.code,
        Agency.name,
        Agency.name_en,
        Agency.parent_id,
        sa.type_coerce(Agency.level, sa.String).label("level"),  # skip enum conversion
        sa.type_coerce(Agency.kind, sa.String).label("kind"),
        Agency.active,
    )
    return [
        AgencyRecord(r.id, r.code, r.name, r.name_en, r.parent_id, r.level, r.kind, bool(r.active))
        for r in _rows(sa.select(*columns).order_by(Agency.code))
    ]


def agency_by_code(code: str) -> Agency | None:
    return db.session.scalar(sa.select(Agency).where(Agency.code == code))


def agency_by_id(agency_id: int) -> Agency | None:
    return db.session.get(Agency, agency_id)


@dataclass(frozen=True)
class TargetRecord:
    rate: float
    scope: str
    kind: str | None
    agency_id: int | None
    valid_from: date
    note: str | None


def targets_on(day: date) -> list[TargetRecord]:
    """Target rows in force on `day`, latest first."""
    stmt = (
        sa.select(Target)
        .where(Target.valid_from <= day, sa.or_(Target.valid_to.is_(None), Target.valid_to >= day))
        .order_by(Target.valid_from.desc(), Target.id.desc())
    )
    return [
        TargetRecord(
            t.rate,
            str(t.scope),
            str(t.kind) if t.kind else None,
            t.agency_id,
            t.valid_from,
            t.note,
        )
        for t in db.session.scalars(stmt)
    ]


@dataclass(frozen=True)
class QuestionnaireLabels:
    criteria: dict[str, str]  # criterion code -> label (the default questionnaire's first)
    levels: dict[tuple[int, str], str]  # (questionnaire id, level code) -> label
    level_order: dict[int, list[str]]  # questionnaire id -> level codes in order
    default_criteria: list[str]  # the default questionnaire's criterion codes, in order


def questionnaire_labels(locale: str) -> QuestionnaireLabels:
    criteria: dict[str, str] = {}
    levels: dict[tuple[int, str], str] = {}
    order: dict[int, list[str]] = {}
    questionnaires = db.session.scalars(
        sa.select(Questionnaire).order_by(Questionnaire.is_default.desc(), Questionnaire.id)
    )
    for q in questionnaires:
        for item in q.criteria:
            criteria.setdefault(item["code"], q.label(item, locale))
        order[q.id] = [lvl["code"] for lvl in q.levels]
        for item in q.levels:
            levels[(q.id, item["code"])] = q.label(item, locale)
    default = Questionnaire.default()
    return QuestionnaireLabels(criteria, levels, order, default.criterion_codes())


# ---- cases (criterion 8) ---------------------------------------------------------------------


@dataclass
class CaseCounts:
    opened: int = 0
    answered: int = 0
    due: int = 0  # answered, or past their due date
    on_time: int = 0
    days: list[float] = field(default_factory=list)  # time to answer of each answered case

    def add(self, other: CaseCounts) -> None:
        self.opened += other.opened
        self.answered += other.answered
        self.due += other.due
        self.on_time += other.on_time
        self.days.extend(other.days)

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.opened if self.opened else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None


def case_counts(
    period: Period, agency_ids: Iterable[int] | None = None, today: date | None = None
) -> dict[int, CaseCounts]:
    """Criterion 8: each agency's own cases opened in `period` (agencies without cases are
    absent). A case is *answered* once a reply is saved, and *on time* when that happened
    (Vietnam date) by its due date; the on-time share is over the cases that are *due*
    (answered, or past their due date); the time to answer is in calendar days, from opening
    to the first reply. Cases are few, so their rows are read (for the median)."""
    today = today or local_today()
    low, high = period.utc_bounds()
    query = sa.select(Case.agency_id, Case.opened_at, Case.answered_at, Case.due_on).where(
        Case.opened_at >= low, Case.opened_at < high
    )
    if agency_ids is not None:
        query = query.where(Case.agency_id.in_(list(agency_ids)))
    found: dict[int, CaseCounts] = {}
    for row in db.session.execute(query):
        counts = found.setdefault(row.agency_id, CaseCounts())
        counts.opened += 1
        if row.answered_at is not None:
            counts.answered += 1
            counts.due += 1
            counts.on_time += to_local(row.answered_at).date() <= row.due_on
            counts.days.append((row.answered_at - row.opened_at).total_seconds() / 86400)
        elif row.due_on < today:
            counts.due += 1
    return found


# ---- response rates (docs/integrity.md, "Response rates") -----------------------------------


@dataclass
class Uptake:
    """How many of the citizens served answered, for one agency (or pooled over a subtree).

    `issued` tickets were issued in the period, `used` of them were used (at any time since).
    The response rate is `answered / base`. At a desk whose dossiers handled in the period are
    known (`survey.dossier_counts`), the base is that number and `answered` the desk's valid
    ratings of every channel; at the other desks, the base is the tickets issued and
    `answered` those used. Valid ratings given there without a ticket (QR code at the desk,
    kiosk, paper, API) have no denominator: they are counted in `no_denominator`, never divided
    by an invented one. Follow-up answers are a sample with their own response rate, and are
    left out.
    """

    issued: int = 0
    used: int = 0
    handled: int = 0  # dossiers handled, at the desks whose counts cover the period
    base: int = 0  # the denominator of the response rate
    answered: int = 0  # its numerator
    no_denominator: int = 0  # valid ratings of the period that no denominator covers

    def add(self, other: Uptake) -> None:
        self.issued += other.issued
        self.used += other.used
        self.handled += other.handled
        self.base += other.base
        self.answered += other.answered
        self.no_denominator += other.no_denominator

    @property
    def rate(self) -> float | None:
        return self.answered / self.base if self.base else None


def ticket_counts(
    period: Period, agency_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], tuple[int, int]]:
    """{(agency id of the desk, desk id): (tickets issued in `period`, how many of them were
    used)}; desks without tickets are absent. A desk belongs to its agency at the end of the
    period (`survey.reporting.mergers.tree_at`)."""
    low, high = period.utc_bounds()
    query = (
        sa.select(Ticket.desk_id, sa.func.count(Ticket.id), sa.func.count(Ticket.used_at))
        .where(Ticket.created_at >= low, Ticket.created_at < high)
        .group_by(Ticket.desk_id)
    )
    if agency_ids is not None:
        query = query.where(Ticket.desk_id.in_(mergers.desks_at(high, agency_ids)))
    rows = db.session.execute(query).all()
    agency_of = mergers.desk_agencies_at(high, [desk_id for desk_id, _n, _used in rows])
    return {
        (agency_of[desk_id], desk_id): (int(issued), int(used)) for desk_id, issued, used in rows
    }


def uptake_counts(
    period: Period,
    own: dict[int, Counts],
    followup: dict[int, int],
    agency_ids: Iterable[int] | None = None,
) -> dict[int, Uptake]:
    """Each agency's own `Uptake` in `period`, from its own valid counts (`own`, as the
    agency table reads them) and follow-up answers (`followup`). Tickets and dossier counts
    belong to their desk's agency, ratings to the agency they were given to."""
    from survey.dossier_counts import handled_in

    moment = period.utc_bounds()[1]
    tickets = ticket_counts(period, agency_ids)
    desk_ids = None if agency_ids is None else mergers.desks_at(moment, agency_ids)
    handled = handled_in(period, desk_ids)
    desk_agency = mergers.desk_agencies_at(moment, handled)
    # Valid ratings through a ticket at the desks without counts (they are covered by the
    # tickets), and every valid rating at the desks with counts (covered by those).
    ticketed: dict[int, int] = {}
    query = (
        sa.select(Response.agency_id, sa.func.count())
        .select_from(Ticket)
        .join(Response, Response.ticket_id == Ticket.id)
        .where(Ticket.used_at.is_not(None), _valid_in(period, agency_ids))
        .group_by(Response.agency_id)
    )
    if handled:
        query = query.where(Response.desk_id.not_in(sorted(handled)))
    for agency_id, n in db.session.execute(query):
        ticketed[agency_id] = int(n)
    rated: dict[int, int] = {}
    if handled:
        for agency_id, n in db.session.execute(
            sa.select(Response.agency_id, sa.func.count())
            .where(
                _valid_in(period, agency_ids),
                Response.desk_id.in_(sorted(handled)),
                Response.channel != Channel.FOLLOWUP,
            )
            .group_by(Response.agency_id)
        ):
            rated[agency_id] = int(n)

    found: dict[int, Uptake] = {}

    def of(agency_id: int) -> Uptake:
        return found.setdefault(agency_id, Uptake())

    for (agency_id, desk_id), (issued, used) in tickets.items():
        uptake = of(agency_id)
        uptake.issued += issued
        uptake.used += used
        if desk_id not in handled:
            uptake.base += issued
            uptake.answered += used
    for desk_id, n in handled.items():
        uptake = of(desk_agency[desk_id])
        uptake.handled += n
        uptake.base += n
    for agency_id, n in rated.items():
        of(agency_id).answered += n
    for agency_id, counts in own.items():
        without = (
            counts.valid
            - followup.get(agency_id, 0)
            - ticketed.get(agency_id, 0)
            - rated.get(agency_id, 0)
        )
        of(agency_id).no_denominator = max(without, 0)
    return found


# ---- official outputs: levels and indicator points (docs/reporting.md) -----------------------


def level_month_query(
    period: Period, agency_ids: Iterable[int] | None = None, rollup: bool | None = None
):
    """Rows `(agency, level, valid)`: the valid responses of each agency in `period` by overall
    rating level, whole months from the roll-up `level_month`, the edges from `response`."""
    months, edges = _month_parts(period, rollup)
    parts = []
    if months is not None:
        columns = [LevelMonth.level.label("level"), LevelMonth.valid.label("valid")]
        parts.append(_rolled(LevelMonth, months, agency_ids, columns))
    for start, end in edges:
        agency = _GroupKey(Response.agency_id)
        parts.append(
            sa.select(
                agency.label("agency"),
                Response.level.label("level"),
                sa.func.count().label("valid"),
            )
            .where(*_raw_between(start, end, agency_ids), Response.status == Status.VALID)
            .group_by(agency, Response.level)
        )
    return _summed(parts, ("agency", "level"), ("valid",), lambda sums: sums["valid"] > 0)


def agency_level_counts(
    period: Period, agency_ids: Iterable[int] | None = None
) -> dict[int, dict[str, int]]:
    """Valid responses of each agency's own desks by overall rating level: {agency id: {level
    code: count}}."""
    found: dict[int, dict[str, int]] = {}
    for agency_id, level, count in _rows(level_month_query(period, agency_ids)):
        found.setdefault(agency_id, {})[level] = int(count)
    return found


def half_split(period: Period) -> tuple[tuple[int, int] | None, list[tuple[date, date]]]:
    """The whole half months of `period` (days 1-14 and 15-end) as `(first, last)` keys of
    `pattern_half` (None if there is none), and the rest at its edges as inclusive local date
    ranges: calendar and reporting-regime periods are whole halves."""
    first = period.start if period.start.day in (1, 15) else _next_half(period.start)
    after = period.end + timedelta(days=1)
    stop = after if after.day in (1, 15) else after.replace(day=1 if after.day < 15 else 15)
    if first >= stop:
        return None, [(period.start, period.end)]
    edges = []
    if period.start < first:
        edges.append((period.start, first - timedelta(days=1)))
    if stop <= period.end:
        edges.append((stop, period.end))
    return (patterns.half_key(first), patterns.half_key(stop - timedelta(days=1))), edges


def _next_half(day: date) -> date:
    return day.replace(day=15) if day.day < 15 else _next_month(day)


@dataclass
class PatternCounts:
    """The `survey.patterns` counts of the valid responses of one questionnaire, one row per
    agency (`agency_ids`, in the order of the rows of `counts`)."""

    agency_ids: np.ndarray
    counts: np.ndarray


def pattern_counts(
    period: Period,
    agency_ids: Iterable[int] | None,
    questionnaire_ids: Sequence[int],
    rollup: bool | None = None,
) -> dict[int, PatternCounts]:
    """By questionnaire of `questionnaire_ids`, the counts of the answer patterns of the
    period's valid responses by agency: what the indicator score needs. Whole half months come
    from the roll-up `pattern_half` (a fixed number of rows per agency, whatever the data;
    migration 0022), the days at the period's edges from `response.answer_pattern` (all of it
    with the roll-ups off)."""
    if not questionnaire_ids:
        return {}
    halves, edges = _month_parts(period, rollup, split=half_split)
    parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    if halves is not None:
        where = [
            PatternHalf.half.between(*halves),
            PatternHalf.status == Status.VALID.value,
            PatternHalf.questionnaire_id.in_(list(questionnaire_ids)),
        ]
        if agency_ids is not None:
            where.append(PatternHalf.agency_id.in_(sorted(agency_ids)))
        rows = _rows(
            sa.select(PatternHalf.questionnaire_id, PatternHalf.agency_id, PatternHalf.counts)
            .where(*where)
            .order_by(PatternHalf.questionnaire_id),
            binary=True,
        )
        for qid, group in itertools.groupby(rows, key=lambda row: row[0]):
            group = list(group)
            counts = np.frombuffer(b"".join(row[2] for row in group), dtype=patterns.COUNTS)
            parts.setdefault(qid, []).append(
                _by_agency([row[1] for row in group], counts.reshape(len(group), -1))
            )
    for start, end in edges:
        low, high = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
        rows = _rows(
            sa.select(
                Response.questionnaire_id,
                Response.agency_id,
                Response.answer_pattern,
                sa.func.count(),
            )
            .where(
                Response.occurred_at >= low,
                Response.occurred_at < high,
                _in_agencies(agency_ids),
                Response.status == Status.VALID,
                Response.questionnaire_id.in_(list(questionnaire_ids)),
                Response.answer_pattern.is_not(None),
            )
            .group_by(Response.questionnaire_id, Response.agency_id, Response.answer_pattern)
            .order_by(Response.questionnaire_id)
        )
        for qid, group in itertools.groupby(rows, key=lambda row: row[0]):
            group = list(group)
            agencies, groups = np.unique([row[1] for row in group], return_inverse=True)
            counts = patterns.grouped_counts(
                [row[2] for row in group], [row[3] for row in group], groups, len(agencies)
            )
            parts.setdefault(qid, []).append((agencies, counts))
    found = {}
    for qid, pieces in parts.items():
        if len(pieces) == 1:  # one row per agency already
            found[qid] = PatternCounts(*pieces[0])
        else:
            ids = np.concatenate([a for a, _c in pieces])
            found[qid] = PatternCounts(*_by_agency(ids, np.vstack([c for _a, c in pieces])))
    return found


def _by_agency(agency_ids, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `counts` summed by agency: the agencies in order, and their sums (int64).
    A sparse product of a 0/1 matrix (agency x row) with the rows: 75 ms for 83,000 rows of
    406 counts, where `np.add.reduceat` took 600 ms. It sums in the rows' own 32 bits (an
    agency's count of a period is at most its responses), which is 4 times faster than
    widening each row first."""
    agencies, which = np.unique(np.asarray(agency_ids), return_inverse=True)
    rows = len(which)
    ones = sparse.csr_matrix(
        (np.ones(rows, dtype=np.int32), (which, np.arange(rows))), shape=(len(agencies), rows)
    )
    return agencies, np.asarray(ones @ counts).astype(np.int64)


@dataclass(frozen=True)
class QuestionnaireScale:
    id: int
    levels: list[dict]  # the level items, best first (may carry "points")
    criteria: list[str]
    is_default: bool


def questionnaire_scales() -> list[QuestionnaireScale]:
    """Every published questionnaire's levels and criteria, the default first."""
    return [
        QuestionnaireScale(q.id, list(q.levels), q.criterion_codes(), q.is_default)
        for q in db.session.scalars(
            sa.select(Questionnaire)
            .where(Questionnaire.published_at.is_not(None))
            .order_by(Questionnaire.is_default.desc(), Questionnaire.id)
        )
    ]
