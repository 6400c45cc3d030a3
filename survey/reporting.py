"""The seam between the database and the statistics.

SQL (SQLAlchemy Core) counts responses grouped by agency, status, channel, desk, level,
criterion, month or hour; Python pools those counts up the agency tree; `analysis` turns the
count arrays into rates, intervals and verdicts. Individual responses are never loaded to be
counted (only the comments list reads rows, and it pages them).

Every view of a report (dashboard, exports, CLI, API, public page) goes through
`parse_options` and `build_report`, so they all show the same numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

import analysis
from survey.extensions import db
from survey.models import (
    Agency,
    Answer,
    Channel,
    Desk,
    Kind,
    Level,
    Questionnaire,
    Response,
    Status,
    Target,
    TargetScope,
    utcnow,
)
from survey.periods import LOCAL_OFFSET, Period, PeriodError, parse_period, to_local

CONFIDENCES = (90, 95, 99)
METHODS = analysis.METHODS
ADJUSTMENTS = ("none", "holm", "fdr_bh")
VERDICTS = ("meets", "below", "inconclusive", "no_data")
SORT_KEYS = ("tree", "name", "rate", "low", "valid", "change", "needed")
# Fewer valid responses than this: the row is marked "small sample" (its interval is wide).
SMALL_SAMPLE = 30

METHOD_LABELS = {
    "wilson": _l("Wilson score (recommended)"),
    "wilson_cc": _l("Wilson with continuity correction"),
    "jeffreys": _l("Jeffreys"),
    "clopper_pearson": _l("Clopper–Pearson (exact)"),
    "agresti_coull": _l("Agresti–Coull"),
    "mid_p": _l("Mid-p"),
    "wald": _l("Wald (legacy, not recommended)"),
}
ADJUST_LABELS = {
    "none": _l("None"),
    "holm": _l("Holm (family-wise)"),
    "fdr_bh": _l("Benjamini–Hochberg (false discovery rate)"),
}
VERDICT_LABELS = {
    "meets": _l("Meets the target"),
    "below": _l("Below the target"),
    "inconclusive": _l("Not enough evidence yet"),
    "no_data": _l("No responses"),
    "no_target": _l("No target set"),
}
CHANGE_LABELS = {
    "improved": _l("Improved"),
    "declined": _l("Declined"),
    "no_clear_change": _l("No clear change"),
    "no_data": _l("No comparison"),
}
LEVEL_LABELS = {
    Level.PROVINCE: _l("Province"),
    Level.DEPARTMENT: _l("Department"),
    Level.DISTRICT: _l("District"),
    Level.COMMUNE: _l("Commune"),
    Level.SERVICE_UNIT: _l("Public service unit"),
}
KIND_LABELS = {
    Kind.ADMINISTRATIVE: _l("Administrative"),
    Kind.HEALTH: _l("Health"),
    Kind.EDUCATION: _l("Education"),
    Kind.OTHER: _l("Other"),
}
CHANNEL_LABELS = {
    Channel.QR: _l("QR code"),
    Channel.KIOSK: _l("Kiosk"),
    Channel.PAPER: _l("Paper form"),
    Channel.API: _l("Portal (API)"),
}
STATUS_LABELS = {
    Status.VALID: _l("Valid"),
    Status.FLAGGED: _l("Flagged"),
    Status.EXCLUDED: _l("Excluded"),
}
WEEKDAY_LABELS = (
    _l("Mon"),
    _l("Tue"),
    _l("Wed"),
    _l("Thu"),
    _l("Fri"),
    _l("Sat"),
    _l("Sun"),
)


# ---- options ---------------------------------------------------------------------------------


class OptionError(ValueError):
    """A report option that cannot be used; `field` names it, the message is translated."""

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class ReportOptions:
    """What a report shows. Every field round-trips through the query string (`query()`)."""

    period: Period
    confidence: int = 95
    method: str = "wilson"
    adjust: str = "none"
    target: float | None = None  # what-if override, else the Target table
    agency: str | None = None  # code of the subtree's root, else the whole visible tree
    sort: str = "tree"
    descending: bool = False
    verdict: str | None = None
    kind: str | None = None
    level: str | None = None

    @property
    def level_of_confidence(self) -> float:
        return self.confidence / 100

    def query(self, **changes) -> dict[str, str]:
        """Query-string arguments for these options (defaults left out), with `changes`."""
        options = replace(self, **changes) if changes else self
        args = {"period": options.period.key}
        defaults = ReportOptions(period=options.period)
        for name in ("confidence", "method", "adjust", "agency", "verdict", "kind", "level"):
            value = getattr(options, name)
            if value != getattr(defaults, name) and value is not None:
                args[name] = str(value)
        if options.target is not None:
            args["target"] = format_percent_input(options.target)
        if options.sort != "tree" or options.descending:
            args["sort"] = ("-" if options.descending else "") + options.sort
        return args


def format_percent_input(rate: float) -> str:
    return f"{rate * 100:.10g}"


def parse_options(args: Mapping[str, str], default_period: Period) -> ReportOptions:
    """Read report options from a query string; raise `OptionError` for anything wrong."""

    def get(name: str) -> str | None:
        value = args.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    raw_period = get("period")
    try:
        period = parse_period(raw_period) if raw_period else default_period
    except PeriodError as error:
        raise OptionError("period", str(error)) from None

    confidence = 95
    if (raw := get("confidence")) is not None:
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            raise OptionError(
                "confidence", _("The confidence level must be a number: 90, 95 or 99.")
            ) from None
        if number not in CONFIDENCES:
            raise OptionError("confidence", _("The confidence level must be 90, 95 or 99 (%)."))
        confidence = int(number)

    method = get("method") or "wilson"
    if method not in METHODS:
        raise OptionError(
            "method",
            _("Unknown interval method. Allowed: %(methods)s.", methods=", ".join(METHODS)),
        )
    adjust = get("adjust") or "none"
    if adjust not in ADJUSTMENTS:
        raise OptionError(
            "adjust",
            _("Unknown adjustment. Allowed: %(values)s.", values=", ".join(ADJUSTMENTS)),
        )

    target = None
    if (raw := get("target")) is not None:
        try:
            percent = float(raw.rstrip("%").replace(",", "."))
        except ValueError:
            raise OptionError(
                "target", _("The target must be a percentage, for example 90.")
            ) from None
        if not (math.isfinite(percent) and 0 < percent < 100):
            raise OptionError(
                "target", _("The target must be a percentage strictly between 0 and 100.")
            )
        target = round(percent / 100, 6)

    sort, descending = get("sort") or "tree", False
    if sort.startswith("-"):
        sort, descending = sort[1:], True
    if sort not in SORT_KEYS:
        raise OptionError(
            "sort", _("Unknown sort order. Allowed: %(values)s.", values=", ".join(SORT_KEYS))
        )

    def choice(name: str, allowed: Iterable[str]) -> str | None:
        value = get(name)
        allowed = list(allowed)
        if value is not None and value not in allowed:
            raise OptionError(
                name,
                _(
                    "Unknown value for %(name)s. Allowed: %(values)s.",
                    name=name,
                    values=", ".join(allowed),
                ),
            )
        return value

    agency = get("agency")
    if agency is not None and len(agency) > 40:
        raise OptionError("agency", _("There is no agency with this code."), status=404)
    return ReportOptions(
        period=period,
        confidence=confidence,
        method=method,
        adjust=adjust,
        target=target,
        agency=agency,
        sort=sort,
        descending=descending,
        verdict=choice("verdict", VERDICTS),
        kind=choice("kind", [k.value for k in Kind]),
        level=choice("level", [lv.value for lv in Level]),
    )


# ---- SQL aggregation -------------------------------------------------------------------------


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


def _satisfied_sum(column=Response.satisfied):
    return sa.func.coalesce(sa.func.sum(sa.case((column, 1), else_=0)), 0)


def _in_period(period: Period):
    low, high = period.utc_bounds()
    return sa.and_(Response.occurred_at >= low, Response.occurred_at < high)


def _in_agencies(agency_ids: Iterable[int] | None):
    if agency_ids is None:
        return sa.true()
    return Response.agency_id.in_(sorted(agency_ids))


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


def agency_counts_query(period: Period, agency_ids: Iterable[int] | None = None):
    """The bare GROUP BY of the agency table: responses by agency and status in a period (the
    previous period's counts; the benchmark's reference)."""
    agency = _GroupKey(Response.agency_id)
    return (
        sa.select(
            agency.label("agency_id"),
            sa.type_coerce(Response.status, sa.String).label("status"),  # no enum per row
            sa.func.count().label("responses"),
            _satisfied_sum().label("satisfied"),
        )
        .where(_in_period(period), _in_agencies(agency_ids))
        .group_by(agency, Response.status)
    )


def agency_counts(period: Period, agency_ids: Iterable[int] | None = None) -> dict[int, Counts]:
    counts: dict[int, Counts] = {}
    valid, flagged = Status.VALID.value, Status.FLAGGED.value
    stmt = agency_counts_query(period, agency_ids)
    for agency_id, status, responses, satisfied in db.session.execute(stmt).tuples():
        row = counts.get(agency_id)
        if row is None:
            row = counts[agency_id] = Counts()
        if status == valid:
            row.valid, row.satisfied = int(responses), int(satisfied)
        elif status == flagged:
            row.flagged = int(responses)
        else:
            row.excluded = int(responses)
    return counts


@dataclass
class PeriodCounts:
    """What the agency table needs from the database, read in one scan."""

    current: dict[int, Counts]
    previous: dict[int, Counts]
    channels: dict[str, Counts]  # valid responses of the current period, by channel


def agency_channel_counts_query(period: Period, agency_ids: Iterable[int] | None = None):
    """The agency table's GROUP BY for the current period: responses by agency, status and
    channel, so that the channel shares of the summary come from the same scan. Every column
    it reads is in the covering index `ix_response_time_covering`: neither backend reads the
    table."""
    agency = _GroupKey(Response.agency_id)
    return (
        sa.select(
            agency.label("agency_id"),
            sa.type_coerce(Response.status, sa.String),  # skip the enum conversion per row
            sa.type_coerce(Response.channel, sa.String),
            sa.func.count(),
            _satisfied_sum(),
        )
        .where(_in_period(period), _in_agencies(agency_ids))
        .group_by(agency, Response.status, Response.channel)
    )


def period_counts(
    period: Period, previous: Period, agency_ids: Iterable[int] | None = None
) -> PeriodCounts:
    """Counts for the agency table: two index scans (the period by channel, and the previous
    period). One scan over both periods with CASE columns was measured slower on both
    backends (docs/reporting.md)."""
    current: dict[int, Counts] = {}
    channels: dict[str, Counts] = {}
    valid, flagged = Status.VALID.value, Status.FLAGGED.value
    for agency_id, status, channel, responses, satisfied in db.session.execute(
        agency_channel_counts_query(period, agency_ids)
    ).tuples():
        counts = current.get(agency_id)
        if counts is None:
            counts = current[agency_id] = Counts()
        if status == valid:
            counts.valid += responses
            counts.satisfied += satisfied
            by_channel = channels.get(channel)
            if by_channel is None:
                by_channel = channels[channel] = Counts()
            by_channel.valid += responses
            by_channel.satisfied += satisfied
        elif status == flagged:
            counts.flagged += responses
        else:
            counts.excluded += responses
    return PeriodCounts(current, agency_counts(previous, agency_ids), channels)


def channel_counts(period: Period, agency_ids: Iterable[int] | None) -> dict[str, Counts]:
    stmt = (
        sa.select(Response.channel, sa.func.count(), _satisfied_sum())
        .where(_in_period(period), _in_agencies(agency_ids), Response.status == Status.VALID)
        .group_by(Response.channel)
    )
    return {
        str(Channel(channel)): Counts(valid=int(n), satisfied=int(x))
        for channel, n, x in db.session.execute(stmt)
    }


# ---- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRule:
    rate: float
    scope: str
    kind: str | None
    agency_id: int | None
    valid_from: date
    note: str | None


def targets_on(day: date) -> list[TargetRule]:
    """Target rows in force on `day`, latest first."""
    stmt = (
        sa.select(Target)
        .where(Target.valid_from <= day, sa.or_(Target.valid_to.is_(None), Target.valid_to >= day))
        .order_by(Target.valid_from.desc(), Target.id.desc())
    )
    return [
        TargetRule(
            t.rate,
            str(t.scope),
            str(t.kind) if t.kind else None,
            t.agency_id,
            t.valid_from,
            t.note,
        )
        for t in db.session.scalars(stmt)
    ]


class TargetResolver:
    """The target of an agency for a period: the most specific rule in force on the period's
    first day wins. An agency rule covers that agency and its subtree (the nearest ancestor's
    rule wins); then a rule for the agency's kind; then the rule for all agencies."""

    def __init__(self, period: Period):
        rules = targets_on(period.start)
        self.by_agency: dict[int, TargetRule] = {}
        self.by_kind: dict[str, TargetRule] = {}
        self.general: TargetRule | None = None
        for rule in rules:  # latest first: keep the first of each scope
            if rule.scope == TargetScope.AGENCY.value:
                self.by_agency.setdefault(rule.agency_id, rule)
            elif rule.scope == TargetScope.KIND.value:
                self.by_kind.setdefault(rule.kind, rule)
            elif self.general is None:
                self.general = rule

    def rule(self, lineage: list[int], kind: str) -> TargetRule | None:
        """`lineage` lists the agency's id then its ancestors' ids, nearest first."""
        for agency_id in lineage:
            if agency_id in self.by_agency:
                return self.by_agency[agency_id]
        return self.by_kind.get(kind) or self.general


# ---- the agency table ------------------------------------------------------------------------


@dataclass
class _Node:
    id: int
    code: str
    name: str
    name_en: str | None
    parent_id: int | None
    level: str
    kind: str
    active: bool
    children: list[_Node] = field(default_factory=list)
    own: Counts = field(default_factory=Counts)
    pooled: Counts = field(default_factory=Counts)
    prev_pooled: Counts = field(default_factory=Counts)


@dataclass(frozen=True)
class Row:
    """One agency in a report; counts are pooled over its subtree."""

    id: int
    code: str
    name: str
    name_en: str | None
    parent_code: str | None
    depth: int
    level: str
    kind: str
    active: bool
    has_children: bool
    valid: int
    satisfied: int
    flagged: int
    excluded: int
    own_valid: int
    own_satisfied: int
    rate: float | None
    low: float | None
    high: float | None
    target: float | None
    target_note: str | None
    verdict: str
    p_meets: float | None
    p_below: float | None
    responses_needed: int | None
    small_sample: bool
    previous_valid: int
    previous_satisfied: int
    previous_rate: float | None
    change: float | None
    change_low: float | None
    change_high: float | None
    change_verdict: str

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["id"]
        return data


@dataclass(frozen=True)
class Summary:
    valid: int
    satisfied: int
    flagged: int
    excluded: int
    rate: float | None
    low: float | None
    high: float | None
    target: float | None
    verdict: str
    verdict_counts: dict[str, int]
    channels: list[tuple[str, int, float]]

    @property
    def responses(self) -> int:
        return self.valid + self.flagged + self.excluded


@dataclass(frozen=True)
class Report:
    options: ReportOptions
    period: Period
    previous: Period
    rows: list[Row]  # the whole tree, in tree order
    summary: Summary
    root_name: str
    generated_at: datetime

    @property
    def confidence(self) -> float:
        return self.options.level_of_confidence

    @property
    def is_empty(self) -> bool:
        return self.summary.responses == 0

    def visible_rows(self) -> list[Row]:
        """Rows after the filters and the sort order of the options."""
        options = self.options
        rows = [
            r
            for r in self.rows
            if (options.verdict is None or r.verdict == options.verdict)
            and (options.kind is None or r.kind == options.kind)
            and (options.level is None or r.level == options.level)
        ]
        if options.sort == "tree":
            return rows[::-1] if options.descending else rows
        missing = -math.inf if options.descending else math.inf
        keys = {
            "name": lambda r: r.name,
            "rate": lambda r: r.rate if r.rate is not None else missing,
            "low": lambda r: r.low if r.low is not None else missing,
            "valid": lambda r: r.valid,
            "change": lambda r: r.change if r.change is not None else missing,
            "needed": lambda r: r.responses_needed if r.responses_needed is not None else missing,
        }
        return sorted(rows, key=keys[options.sort], reverse=options.descending)

    def units(self) -> list[Row]:
        """Agencies with responses of their own, for charts: each response counted once."""
        return [r for r in self.rows if r.own_valid > 0]


def _load_tree(root_id: int | None) -> tuple[list[_Node], dict[int, _Node]]:
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
    nodes = {
        row.id: _Node(
            row.id,
            row.code,
            row.name,
            row.name_en,
            row.parent_id,
            row.level,
            row.kind,
            bool(row.active),
        )
        for row in db.session.execute(sa.select(*columns).order_by(Agency.code))
    }
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    if root_id is not None:
        roots = [nodes[root_id]] if root_id in nodes else []
    return roots, nodes


def _walk(roots: list[_Node]):
    """(node, depth) in tree order, iteratively (trees can be deep after reorganisations)."""
    stack = [(node, 0) for node in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(node.children))


def _pool(node_order: list[tuple[_Node, int]], attr: str, counts: dict[int, Counts]) -> None:
    for node, _depth in reversed(node_order):  # children before parents
        pooled = getattr(node, attr)
        pooled.add(counts.get(node.id, Counts()))
        for child in node.children:
            pooled.add(getattr(child, attr))


def _ancestor_rule(agency_id, nodes, resolver) -> TargetRule | None:
    """The agency rule of `agency_id` or its nearest ancestor (above the report's root)."""
    while agency_id is not None:
        if agency_id in resolver.by_agency:
            return resolver.by_agency[agency_id]
        node = nodes.get(agency_id)
        agency_id = node.parent_id if node is not None else None
    return None


def _num(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def assess(x, n, targets, confidence: float, method: str, adjust: str | None = None):
    """`analysis.assess_target` over arrays; the legacy-method warning is shown in the page,
    not raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.LegacyMethodWarning)
        return analysis.assess_target(x, n, targets, confidence, method, adjust)


def interval(x, n, confidence: float, method: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.LegacyMethodWarning)
        return analysis.proportion_ci(x, n, confidence, method)


def build_report(
    options: ReportOptions, root_id: int | None = None, scope: set[int] | None = None
) -> Report:
    """The agency table and summary for `options`, rooted at `root_id` (or every top agency).

    `scope` (visible agency ids, None for all) only narrows the SQL; callers check that the
    root lies in the scope.
    """
    period, previous = options.period, options.period.previous()
    roots, nodes = _load_tree(root_id)
    if root_id is None and scope is not None:
        roots = [n for n in nodes.values() if n.id in scope and n.parent_id not in scope]
    order = list(_walk(roots))
    ids = {node.id for node, _ in order} if (root_id is not None or scope is not None) else None
    counts = period_counts(period, previous, ids)
    current = counts.current
    _pool(order, "pooled", current)
    _pool(order, "prev_pooled", counts.previous)
    for node, _depth in order:
        node.own = current.get(node.id, Counts())

    # Inactive (e.g. merged) agencies appear only for periods in which they have responses.
    shown = [
        (node, depth) for node, depth in order if node.active or node.pooled.total > 0 or depth == 0
    ]
    shown_ids = {node.id for node, _ in shown}
    shown = [
        (node, depth)
        for node, depth in shown
        if node.parent_id is None or node.parent_id in shown_ids or node in roots
    ]

    resolver = TargetResolver(period)
    rules = []
    # The nearest agency rule is inherited down the tree: one pass, parents before children.
    inherited: dict[int, TargetRule | None] = {}
    for node, _depth in order:
        own = resolver.by_agency.get(node.id)
        if own is None and node.parent_id is not None:
            own = inherited.get(node.parent_id)
            if own is None and node.parent_id not in inherited:
                own = _ancestor_rule(node.parent_id, nodes, resolver)
        inherited[node.id] = own
    for node, _depth in shown:
        rules.append(inherited[node.id] or resolver.by_kind.get(node.kind) or resolver.general)
    targets = [
        options.target if options.target is not None else (r.rate if r else None) for r in rules
    ]

    confidence = options.level_of_confidence
    adjust = None if options.adjust == "none" else options.adjust
    x = np.array([n.pooled.satisfied for n, _ in shown], dtype=float)
    n = np.array([n.pooled.valid for n, _ in shown], dtype=float)
    has_target = np.array([t is not None for t in targets], dtype=bool)
    stats = _assess_rows(x, n, targets, has_target, confidence, options.method, adjust)
    px = np.array([n.prev_pooled.satisfied for n, _ in shown], dtype=float)
    pn = np.array([n.prev_pooled.valid for n, _ in shown], dtype=float)
    change = analysis.compare_periods(px, pn, x, n, confidence)

    rows = []
    for i, (node, depth) in enumerate(shown):
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        valid = node.pooled.valid
        rows.append(
            Row(
                id=node.id,
                code=node.code,
                name=node.name,
                name_en=node.name_en,
                parent_code=parent.code if parent is not None and depth > 0 else None,
                depth=depth,
                level=node.level,
                kind=node.kind,
                active=node.active,
                has_children=any(child.id in shown_ids for child in node.children),
                valid=valid,
                satisfied=node.pooled.satisfied,
                flagged=node.pooled.flagged,
                excluded=node.pooled.excluded,
                own_valid=node.own.valid,
                own_satisfied=node.own.satisfied,
                rate=_num(stats["rate"][i]),
                low=_num(stats["low"][i]),
                high=_num(stats["high"][i]),
                target=targets[i],
                target_note=rules[i].note if rules[i] and options.target is None else None,
                verdict=str(stats["verdict"][i]),
                p_meets=_num(stats["p_meets"][i]),
                p_below=_num(stats["p_below"][i]),
                responses_needed=(
                    int(stats["needed"][i]) if stats["verdict"][i] == "inconclusive" else None
                ),
                small_sample=0 < valid < SMALL_SAMPLE,
                previous_valid=node.prev_pooled.valid,
                previous_satisfied=node.prev_pooled.satisfied,
                previous_rate=_num(change.rate1[i]) if len(shown) else None,
                change=_num(change.difference[i]),
                change_low=_num(change.low[i]),
                change_high=_num(change.high[i]),
                change_verdict=str(change.verdict[i]),
            )
        )
    summary = _summary(rows, counts.channels, options, confidence, resolver)
    root_name = roots[0].name if len(roots) == 1 else _("All agencies")
    return Report(options, period, previous, rows, summary, root_name, utcnow())


def _assess_rows(x, n, targets, has_target, confidence, method, adjust) -> dict[str, np.ndarray]:
    size = x.size
    out = {
        "rate": np.full(size, np.nan),
        "low": np.full(size, np.nan),
        "high": np.full(size, np.nan),
        "p_meets": np.full(size, np.nan),
        "p_below": np.full(size, np.nan),
        "needed": np.full(size, -1, dtype=np.int64),
        "verdict": np.full(size, "no_target", dtype=object),
    }
    if size == 0:
        return out
    low, high = interval(x, n, confidence, method)
    out["low"], out["high"] = np.asarray(low, float), np.asarray(high, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(n > 0, x / np.where(n > 0, n, 1), np.nan)
    out["verdict"][n == 0] = "no_data"
    if has_target.any():
        chosen = np.flatnonzero(has_target)
        result = assess(
            x[chosen],
            n[chosen],
            np.array([targets[i] for i in chosen], dtype=float),
            confidence,
            method,
            adjust,
        )
        for name, value in (
            ("p_meets", result.p_meets),
            ("p_below", result.p_below),
            ("needed", result.responses_needed),
            ("verdict", result.verdict),
        ):
            out[name][chosen] = value
    return out


def _summary(rows, channels, options, confidence, resolver) -> Summary:
    top = [r for r in rows if r.depth == 0]
    total = Counts()
    for r in top:
        total.add(Counts(r.valid, r.satisfied, r.flagged, r.excluded))
    # The province-wide target is that of the root (or the general rule).
    target = options.target
    if target is None:
        rule = resolver.rule([top[0].id], top[0].kind) if len(top) == 1 else resolver.general
        target = rule.rate if rule else None
    rate = low = high = None
    verdict = "no_data" if total.valid == 0 else "no_target"
    if total.valid:
        if target is not None:
            result = assess(total.satisfied, total.valid, target, confidence, options.method)
            verdict = str(result.verdict)
            low, high = result.low, result.high
        else:
            low, high = interval(total.satisfied, total.valid, confidence, options.method)
        rate = total.satisfied / total.valid
    judged = [r for r in rows if r.depth > 0] or rows
    verdict_counts = {v: sum(1 for r in judged if r.verdict == v) for v in VERDICTS}
    channel_total = sum(c.valid for c in channels.values())
    channel_rows = [
        (
            channel.value,
            channels[channel.value].valid,
            channels[channel.value].valid / channel_total,
        )
        for channel in Channel
        if channel.value in channels and channel_total
    ]
    return Summary(
        valid=total.valid,
        satisfied=total.satisfied,
        flagged=total.flagged,
        excluded=total.excluded,
        rate=rate,
        low=_num(low) if low is not None else None,
        high=_num(high) if high is not None else None,
        target=target,
        verdict=verdict,
        verdict_counts=verdict_counts,
        channels=channel_rows,
    )


# ---- one agency in depth ---------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """A labelled count with its rate and interval (criteria, channels, desks, trend points)."""

    key: str
    label: str
    valid: int
    satisfied: int
    rate: float | None
    low: float | None
    high: float | None


def rate_rows(items: list[tuple[str, str, int, int]], confidence: float, method: str):
    if not items:
        return []
    x = np.array([i[3] for i in items], dtype=float)
    n = np.array([i[2] for i in items], dtype=float)
    low, high = interval(x, n, confidence, method)
    low, high = np.atleast_1d(low), np.atleast_1d(high)
    return [
        RateRow(
            key,
            label,
            valid,
            satisfied,
            satisfied / valid if valid else None,
            _num(low[i]),
            _num(high[i]),
        )
        for i, (key, label, valid, satisfied) in enumerate(items)
    ]


def _valid_in(period: Period, agency_ids: Iterable[int]):
    return sa.and_(_in_period(period), _in_agencies(agency_ids), Response.status == Status.VALID)


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


def _questionnaire_labels(locale: str) -> tuple[dict, dict, dict[int, list[str]]]:
    """Criterion labels, level labels per questionnaire, and level order per questionnaire."""
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
    return criteria, levels, order


def criterion_rates(period, agency_ids, confidence, method, locale) -> list[RateRow]:
    """The official criteria of the default questionnaire (even without answers), then any
    other criterion that has answers."""
    stmt = (
        sa.select(Answer.criterion, sa.func.count(), _satisfied_sum(Answer.satisfied))
        .join(Response, Response.id == Answer.response_id)
        .where(_valid_in(period, agency_ids))
        .group_by(Answer.criterion)
    )
    found = {c: (int(n), int(x)) for c, n, x in db.session.execute(stmt)}
    labels, _levels, _order = _questionnaire_labels(locale)
    default = Questionnaire.default()
    codes = default.criterion_codes() + sorted(set(found) - set(default.criterion_codes()))
    items = [(c, labels.get(c, c), *found.get(c, (0, 0))) for c in codes]
    return rate_rows(items, confidence, method)


@dataclass(frozen=True)
class LevelShare:
    questionnaire_id: int
    code: str
    label: str
    count: int
    share: float


def level_distribution(period, agency_ids, locale) -> list[LevelShare]:
    stmt = (
        sa.select(Response.questionnaire_id, Response.level, sa.func.count())
        .where(_valid_in(period, agency_ids))
        .group_by(Response.questionnaire_id, Response.level)
    )
    found: dict[int, dict[str, int]] = {}
    for qid, level, count in db.session.execute(stmt):
        found.setdefault(qid, {})[level] = int(count)
    _criteria, labels, order = _questionnaire_labels(locale)
    shares = []
    for qid in sorted(found):
        total = sum(found[qid].values())
        for code in order.get(qid, sorted(found[qid])):
            count = found[qid].get(code, 0)
            shares.append(
                LevelShare(qid, code, labels.get((qid, code), code), count, count / total)
            )
    return shares


def channel_rates(period, agency_ids, confidence, method) -> list[RateRow]:
    counts = channel_counts(period, agency_ids)
    items = [
        (c.value, str(CHANNEL_LABELS[c]), counts[c.value].valid, counts[c.value].satisfied)
        for c in Channel
        if c.value in counts
    ]
    return rate_rows(items, confidence, method)


def desk_rates(period, agency_ids, confidence, method) -> list[RateRow]:
    stmt = (
        sa.select(Desk.code, Desk.name, sa.func.count(), _satisfied_sum())
        .join(Desk, Desk.id == Response.desk_id)
        .where(_valid_in(period, agency_ids))
        .group_by(Desk.code, Desk.name)
        .order_by(Desk.code)
    )
    items = [(code, name, int(n), int(x)) for code, name, n, x in db.session.execute(stmt)]
    return rate_rows(items, confidence, method)


@dataclass(frozen=True)
class Heatmap:
    """Valid responses by local weekday (Monday first) and hour of day."""

    hours: list[int]
    cells: list[list[tuple[int, int]]]  # [weekday][hour index] -> (valid, satisfied)
    peak: int


def heatmap(period, agency_ids) -> Heatmap:
    hour = _LocalPart("hour", Response.occurred_at).label("hour")
    weekday = _LocalPart("dow", Response.occurred_at).label("weekday")
    stmt = (
        sa.select(weekday, hour, sa.func.count(), _satisfied_sum())
        .where(_valid_in(period, agency_ids))
        .group_by(weekday, hour)
    )
    found = {(int(d), int(h)): (int(n), int(x)) for d, h, n, x in db.session.execute(stmt)}
    used = sorted({h for _d, h in found})
    hours = list(range(min(used + [7]), max(used + [17]) + 1))
    cells = [[found.get(((day + 1) % 7, h), (0, 0)) for h in hours] for day in range(7)]
    peak = max((n for n, _x in found.values()), default=0)
    return Heatmap(hours, cells, peak)


@dataclass(frozen=True)
class Comment:
    occurred_at: datetime  # local time
    text: str
    level: str
    satisfied: bool
    channel: str
    desk: str
    agency: str
    status: str


COMMENTS_PER_PAGE = 20
MAX_SEARCH = 100


def comments(period, agency_ids, search: str | None = None, page: int = 1):
    """The latest comments in the period, newest first; `search` matches a substring
    (case-insensitive for unaccented letters on SQLite). Returns (comments, has_more)."""
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
        .limit(COMMENTS_PER_PAGE + 1)
        .offset((page - 1) * COMMENTS_PER_PAGE)
    )
    if search:
        stmt = stmt.where(Response.comment.icontains(search, autoescape=True))
    found = [
        Comment(
            to_local(at), text, level, bool(sat), str(Channel(ch)), desk, agency, str(Status(st))
        )
        for at, text, level, sat, ch, desk, agency, st in db.session.execute(stmt)
    ]
    return found[:COMMENTS_PER_PAGE], len(found) > COMMENTS_PER_PAGE


def overdispersion(report: Report):
    """Overdispersion of the units around the summary target, or None when it can't be
    computed (fewer than two agencies with responses, or no target)."""
    units = report.units()
    target = report.summary.target
    if len(units) < 2:
        return None
    try:
        return analysis.overdispersion(
            [u.own_satisfied for u in units], [u.own_valid for u in units], target
        )
    except ValueError:
        return None
