"""The agency table of a report: the tree, counts pooled up it, targets, intervals, verdicts,
the comparison with the previous period, and the summary.

`build_report` is the one builder of a `Report`: every channel (dashboard, agency page, charts,
exports, CLI, API, public page) renders the object it returns and computes nothing of its own.

One cohesive thing, the one builder of a report and the rows it returns, hence over 400
lines.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

import analysis
from analysis.design import ClusterMoments, design_effects
from analysis.intervals import interval_bounds
from analysis.target import exact_limits
from survey.cache import cache
from survey.collation import by_name, sort_key
from survey.models import Channel, utcnow
from survey.periods import Period
from survey.reporting import collection
from survey.reporting import counts as sql
from survey.reporting.counts import CaseCounts, Counts, Uptake
from survey.reporting.formatting import float_or_none, floats_or_none
from survey.reporting.labels import SMALL_SAMPLE, VERDICTS
from survey.reporting.mergers import (
    first_day_from,
    merged_after,
    predecessor_ids,
    successors_born_after,
    tree_at,
)
from survey.reporting.official import Points, Scale, administrative_verdict, official_figures
from survey.reporting.options import OptionError, ReportOptions
from survey.reporting.pooling import pool_up
from survey.reporting.targets import TargetResolver, TargetRule


@dataclass(slots=True)
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
    cases: CaseCounts = field(default_factory=CaseCounts)
    uptake: Uptake = field(default_factory=Uptake)


#: The response rate under which a row carries a warning, unless RESPONSE_RATE_WARNING says.
DEFAULT_RESPONSE_WARNING = 0.10


@dataclass(kw_only=True, slots=True)
class Row:
    """One agency in a report; counts are pooled over its subtree.

    A new per-row value is a field here (with a default) and a `Column` in
    `survey.reporting.columns.COLUMNS`: the CSV, Excel and JSON renderers iterate the columns.

    Nothing changes a row once built (`dataclasses.replace` makes a new one). The class is not
    frozen only because a frozen dataclass sets each of its 66 fields through
    ``object.__setattr__``: building the 5,000 rows of a national report took 43 ms frozen
    and 9 ms like this (docs/performance.md).
    """

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
    # "unit": judged on its own desks (no agency under it had valid responses in the period);
    # "pooled": pools units under it. Each is a multiplicity family of its own (FAMILIES).
    family: str
    valid: int
    satisfied: int
    flagged: int
    excluded: int
    own_valid: int
    own_satisfied: int
    rate: float | None
    # The interval that decides the verdict: exact (Clopper-Pearson), at the level each test
    # must pass (docs/statistics.md); it excludes the target exactly when the verdict does.
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
    # The history the comparison with the previous period is over: "own", or "combined" when
    # the report asks for it and agencies were merged into this one (their codes in
    # `history_agencies`, survey.reporting.mergers); then `previous_*` and `change*` compare
    # the combined history, whose current side is `history_valid` / `history_satisfied`.
    history: str = "own"
    history_agencies: list[str] = field(default_factory=list)
    history_valid: int | None = None
    history_satisfied: int | None = None
    # Criterion 8, the cases opened in the period (pooled like the counts): how many, how many
    # answered, due (answered or past their due date) and answered on time, and the shares.
    cases: int = 0
    cases_answered: int = 0
    cases_due: int = 0
    cases_on_time: int = 0
    cases_answered_share: float | None = None
    cases_on_time_share: float | None = None
    cases_median_days: float | None = None
    # Official outputs (survey.reporting.official): valid responses by rating level, pooled
    # over the subtree, and the indicator score (None when no scored answer was given).
    levels: dict[str, int] = field(default_factory=dict)
    points: Points | None = None
    # "Đạt / Không đạt" on the point estimate (rate >= target), shown beside `verdict`.
    administrative_verdict: str | None = None
    # Response rates (docs/integrity.md, "Response rates"), pooled like the counts: tickets
    # issued in the period and used, the rate's numerator and denominator, the valid ratings
    # that have no denominator (QR code at the desk, kiosk, paper), and whether the rate is
    # under RESPONSE_RATE_WARNING.
    tickets_issued: int = 0
    tickets_used: int = 0
    dossiers_handled: int = 0  # reported by the integrator, where it covers the period
    response_answered: int = 0
    response_base: int = 0
    response_rate: float | None = None
    no_denominator: int = 0
    low_response_rate: bool = False
    # The interval of the report's method (Wilson by default), for estimation only.
    estimate_low: float | None = None
    estimate_high: float | None = None
    # Design effect of desk-day clusters the verdict used (1: none), the intra-class
    # correlation behind it and the number of desk-days (docs/statistics.md).
    deff: float = 1.0
    rho: float | None = None
    desk_days: int = 0
    # The previous period's design effect, which the change verdict used for that period.
    previous_deff: float = 1.0

    @property
    def counted(self) -> bool:
        """Whether the summary's verdict counts count this row: reporting units only, each
        once (an agency with its own responses, or a leaf), never the rows that pool them."""
        return self.family == "unit" and (self.own_valid > 0 or not self.has_children)

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
    # "row": the summary is the report's single root row (same target, interval, verdict and
    # responses needed); "total": several top agencies pooled, judged as one test of its own.
    basis: str = "row"
    responses_needed: int | None = None
    cases: int = 0
    cases_answered: int = 0
    cases_due: int = 0
    cases_on_time: int = 0
    cases_answered_share: float | None = None
    cases_on_time_share: float | None = None
    cases_median_days: float | None = None
    # Official outputs (survey.reporting.official): valid responses by rating level, pooled
    # over the subtree, and the indicator score (None when no scored answer was given).
    levels: dict[str, int] = field(default_factory=dict)
    points: Points | None = None
    administrative_verdict: str | None = None
    tickets_issued: int = 0
    tickets_used: int = 0
    dossiers_handled: int = 0  # reported by the integrator, where it covers the period
    response_answered: int = 0
    response_base: int = 0
    response_rate: float | None = None
    no_denominator: int = 0
    low_response_rate: bool = False
    estimate_low: float | None = None
    estimate_high: float | None = None

    @property
    def responses(self) -> int:
        return self.valid + self.flagged + self.excluded


@dataclass(frozen=True)
class Report:
    """A finished report: everything its renderers show, computed once.

    `details` holds per-agency sections (criteria, desks, ...) for the agencies a renderer
    pages through (the PDF's pages for agencies below target), keyed by agency code; they are
    added by `survey.reporting.detail.with_details`, so that renderers never query.
    """

    options: ReportOptions
    period: Period
    previous: Period
    rows: list[Row]  # the whole tree, in tree order
    summary: Summary
    root_name: str
    generated_at: datetime
    details: dict = field(default_factory=dict)
    scale: Scale = field(default_factory=Scale)  # the levels and indicators of the report
    # Tests judged in each family of `FAMILIES` (agencies with responses and a target), over
    # the whole province when an adjustment is chosen, else over the view.
    families: dict = field(default_factory=dict)
    response_warning: float = DEFAULT_RESPONSE_WARNING  # RESPONSE_RATE_WARNING
    # The follow-up check of the report's agencies (survey.followup.service.FollowupCheck, or
    # None without a draw of the period), attached by `survey.reporting.detail.with_followup`.
    followup: Any = None
    # The dossier splits (survey.reporting.dossier_splits.DossierSplits) of the agencies a
    # file shows, keyed by agency code, attached by `detail.with_dossiers`.
    dossiers: dict = field(default_factory=dict)
    # The comments of the period grouped by theme (survey.reporting.themes.CommentThemes, the
    # official document's section), attached by `detail.with_themes`; None until attached.
    themes: Any = None

    @property
    def confidence(self) -> float:
        return self.options.level_of_confidence

    @property
    def is_empty(self) -> bool:
        return self.summary.responses == 0

    def filtered_rows(self, rows: list[Row] | None = None) -> list[Row]:
        """`rows` (default: all) that pass the verdict, kind and level filters of the view."""
        options = self.options
        return [
            r
            for r in (self.rows if rows is None else rows)
            if (options.verdict is None or r.verdict == options.verdict)
            and (options.kind is None or r.kind == options.kind)
            and (options.level is None or r.level == options.level)
        ]

    def visible_rows(self) -> list[Row]:
        """Rows after the filters and the sort order of the options."""
        options = self.options
        rows = self.filtered_rows()
        if options.sort == "tree":
            return rows[::-1] if options.descending else rows
        missing = -math.inf if options.descending else math.inf
        keys = {
            "name": lambda r: sort_key(r.name),
            "rate": lambda r: r.rate if r.rate is not None else missing,
            "low": lambda r: r.low if r.low is not None else missing,
            "valid": lambda r: r.valid,
            "change": lambda r: r.change if r.change is not None else missing,
            "needed": lambda r: r.responses_needed if r.responses_needed is not None else missing,
        }
        return sorted(rows, key=keys[options.sort], reverse=options.descending)

    def row(self, code: str) -> Row | None:
        return next((r for r in self.rows if r.code == code), None)

    def units(self) -> list[Row]:
        """The reporting units with responses, for the funnel plot and the overdispersion: each
        response counted once, with the same numbers as their rows (a unit's counts are its
        own desks')."""
        return [r for r in self.rows if r.family == "unit" and r.valid > 0]


@dataclass(frozen=True)
class _Skeleton:
    """The agency tree at a moment, as the cache keeps it: the agencies (each under its parent
    at that moment), and the roots and each agency's children as ids in the table's "tree"
    order (Vietnamese alphabetical order of their names, then code)."""

    agencies: tuple[sql.AgencyRecord, ...]
    roots: tuple[int, ...]
    children: dict[int, tuple[int, ...]]


def _skeleton(moment: datetime | None) -> _Skeleton:
    """The tree at `moment` (None: today's), read and sorted once per process until an agency,
    a desk or a tree move changes (`survey.cache`): a province report builds on it every time,
    and sorting 5,000 names by ICU collation costs more than the report's arithmetic."""
    day = first_day_from(moment) if moment is not None else None
    return cache().get(("report_tree", day), lambda: _read_skeleton(moment))


def _read_skeleton(moment: datetime | None) -> _Skeleton:
    at = tree_at(moment) if moment is not None else None
    agencies = tuple(
        replace(a, parent_id=at.parent_of(a.id, a.parent_id)) if at and at.parents else a
        for a in sql.agencies()
    )
    known = {a.id for a in agencies}
    kids: dict[int, list[sql.AgencyRecord]] = {}
    tops = []
    for a in agencies:
        if a.parent_id is not None and a.parent_id in known:
            kids.setdefault(a.parent_id, []).append(a)
        else:
            tops.append(a)

    def ordered(records):
        return tuple(a.id for a in by_name(records, lambda a: a.name, lambda a: a.code))

    return _Skeleton(
        agencies, ordered(tops), {parent: ordered(group) for parent, group in kids.items()}
    )


def _load_tree(
    root_id: int | None, moment: datetime | None = None
) -> tuple[list[_Node], dict[int, _Node]]:
    """The agencies as a tree: today's, or the one that stood at `moment` (naive UTC) when
    mergers have moved sub-agencies since (`survey.reporting.mergers.tree_at`). The nodes are
    new each time (a report adds its counts to them); their shape comes from `_skeleton`."""
    skeleton = _skeleton(moment)
    nodes = {
        a.id: _Node(a.id, a.code, a.name, a.name_en, a.parent_id, a.level, a.kind, a.active)
        for a in skeleton.agencies
    }
    for parent_id, child_ids in skeleton.children.items():
        nodes[parent_id].children = [nodes[i] for i in child_ids]
    if root_id is not None:
        roots = [nodes[root_id]] if root_id in nodes else []
    else:
        roots = [nodes[i] for i in skeleton.roots]
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


#: The columns of `_assess_rows` that `_judge` gives each row as numbers (None for NaN).
_STAT_COLUMNS = ("rate", "low", "high", "estimate_low", "estimate_high", "p_meets", "p_below")


def assess(x, n, targets, confidence: float, method: str, adjust: str | None = None, deff=None):
    """`analysis.assess_target` over arrays; the legacy-method warning is shown in the page,
    not raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.LegacyMethodWarning)
        return analysis.assess_target(x, n, targets, confidence, method, adjust, deff)


def interval(x, n, confidence: float, method: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.LegacyMethodWarning)
        return analysis.proportion_ci(x, n, confidence, method)


FAMILIES = ("unit", "pooled")


def build_report(
    options: ReportOptions, root_id: int | None = None, scope: set[int] | None = None
) -> Report:
    """The agency table and summary for `options`, rooted at `root_id` (or every top agency).

    `scope` (visible agency ids, None for all) only narrows the rows shown; callers check that
    the root lies in the scope. Verdicts never depend on the view: with a multiplicity
    adjustment, every agency of the province is judged in its family (`FAMILIES`, see
    docs/statistics.md) whatever the root, the scope or the filters, so the counts are taken
    over the whole tree; without one, each verdict is a test of its own and only the view's
    agencies are counted.

    The cyclic garbage collector is paused meanwhile (`collection.paused`).
    """
    with collection.paused():
        return _build_report(options, root_id, scope)


def _build_report(options: ReportOptions, root_id: int | None, scope: set[int] | None) -> Report:
    period, previous = options.period, options.period.previous()
    # The tree as it stood at the end of the period: a merger since then changes nothing here.
    period_end = period.utc_bounds()[1]
    roots, nodes = _load_tree(root_id, period_end)
    if root_id is None and scope is not None:
        roots = [n for n in nodes.values() if n.id in scope and n.parent_id not in scope]
    order = list(_walk(roots))
    view_ids = (
        {node.id for node, _ in order} if (root_id is not None or scope is not None) else None
    )
    # Every agency of the province, for what never depends on the view.
    province_order = list(_walk(_tops(nodes)))
    if options.adjust != "none":
        judged_order, ids = province_order, None
    else:
        judged_order, ids = order, view_ids
    counts = sql.period_counts(period, previous, ids)
    current = counts.current
    _pool(judged_order, "pooled", current)
    _pool(judged_order, "prev_pooled", counts.previous)
    for node, _depth in judged_order:
        node.own = current.get(node.id, Counts())
    cases = sql.case_counts(period, view_ids)
    for node, _depth in reversed(order):  # children before parents
        node.cases = CaseCounts()
        node.cases.add(cases.get(node.id, CaseCounts()))
        for child in node.children:
            node.cases.add(child.cases)
    uptake = sql.uptake_counts(period, current, counts.followup, view_ids)
    for node, _depth in reversed(order):  # children before parents
        node.uptake = Uptake()
        node.uptake.add(uptake.get(node.id, Uptake()))
        for child in node.children:
            node.uptake.add(child.uptake)
    warning = response_warning()

    # Inactive (e.g. merged) agencies appear only for periods in which they have responses.
    shown = [
        (node, depth) for node, depth in order if node.active or node.pooled.total > 0 or depth == 0
    ]
    # A merged agency's successor created after the period is left out (docs/reporting.md,
    # "Agencies that merged"): a past report reads the same after the merger.
    unborn = successors_born_after(period_end)
    still_active = merged_after(period_end)
    shown = [(n, d) for n, d in shown if n.id not in unborn or n.pooled.total > 0 or d == 0]
    shown_ids = {node.id for node, _ in shown}
    shown = [
        (node, depth)
        for node, depth in shown
        if node.parent_id is None or node.parent_id in shown_ids or node in roots
    ]

    resolver = TargetResolver.for_period(period)
    every_rule = resolver.rules(
        {n.id: n.parent_id for n in nodes.values()}, {n.id: n.kind for n in nodes.values()}
    )
    if options.deff == "estimated":
        sums, previous_sums = sql.cluster_counts(period, previous)  # one statement
    else:
        sums = previous_sums = None
    design = _design_effects(sums, province_order)
    previous_design = _design_effects(previous_sums, province_order)
    histories = _histories(options, nodes, judged_order)
    judged, families = _judge(
        [node for node, _ in judged_order],
        every_rule,
        options,
        design,
        previous_design,
        histories,
    )

    figures = official_figures(
        period, order, roots, view_ids, options.level_of_confidence, str(get_locale() or "vi")
    )
    rows = []
    for node, depth in shown:
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        valid = node.pooled.valid
        rule = every_rule[node.id]
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
                active=node.active or node.id in still_active,
                has_children=any(child.id in shown_ids for child in node.children),
                family=_family(node),
                valid=valid,
                satisfied=node.pooled.satisfied,
                flagged=node.pooled.flagged,
                excluded=node.pooled.excluded,
                own_valid=node.own.valid,
                own_satisfied=node.own.satisfied,
                target_note=rule.note if rule and options.target is None else None,
                small_sample=0 < valid < SMALL_SAMPLE,
                **_history_fields(node, histories.get(node.id)),
                **judged[node.id],
                **_case_fields(node.cases),
                **_uptake_fields(node.uptake, warning),
                levels=figures.levels.get(node.id, {}),
                points=figures.points.get(node.id),
                administrative_verdict=administrative_verdict(
                    node.pooled.satisfied, valid, judged[node.id]["target"]
                ),
            )
        )
    summary = _summary(rows, roots, counts.channels, options, resolver, _total_deff(roots, design))
    total_cases = CaseCounts()
    total_uptake = Uptake()
    for node, depth in shown:
        if depth == 0:
            total_cases.add(node.cases)
            total_uptake.add(node.uptake)
    summary = replace(summary, **_case_fields(total_cases), **_uptake_fields(total_uptake, warning))
    summary = replace(
        summary,
        levels=figures.summary_levels,
        points=figures.summary_points,
        administrative_verdict=administrative_verdict(
            summary.satisfied, summary.valid, summary.target
        ),
    )
    root_name = roots[0].name if len(roots) == 1 else _("All agencies")
    return Report(
        options,
        period,
        previous,
        rows,
        summary,
        root_name,
        utcnow(),
        scale=figures.scale,
        families=families,
        response_warning=warning,
    )


@dataclass(frozen=True)
class _History:
    """An agency's combined history in a report's two periods: its subtree's counts and those
    of the agencies merged into it (and their subtrees)."""

    codes: list[str]
    current: Counts
    previous: Counts
    tops: list[int]  # the agency and the agencies merged into it


def _histories(options: ReportOptions, nodes: dict[int, _Node], judged_order) -> dict:
    """{node id: `_History`} of the judged agencies that others were merged into, when the
    options ask for the combined history; subtrees are those of the report's tree."""
    if options.history != "combined":
        return {}
    merged = predecessor_ids()
    members: dict[int, set[int]] = {}
    for node, _depth in judged_order:
        earlier = [nodes[i] for i in merged.get(node.id, ()) if i in nodes]
        if earlier:
            members[node.id] = {n.id for n, _ in _walk([node, *earlier])}
    if not members:
        return {}
    every = set().union(*members.values())
    period = options.period
    now, before = sql.agency_counts(period, every), sql.agency_counts(period.previous(), every)
    found = {}
    for node_id, ids in members.items():
        current, previous = Counts(), Counts()
        for i in ids:
            current.add(now.get(i, Counts()))
            previous.add(before.get(i, Counts()))
        codes = sorted(nodes[i].code for i in merged[node_id] if i in nodes)
        tops = [node_id, *(i for i in merged[node_id] if i in nodes)]
        found[node_id] = _History(codes, current, previous, tops)
    return found


def _deff(design: dict, node_id: int, histories: dict) -> float:
    """A node's design effect in `design`; over a combined history, the largest of the
    agencies it pools (conservative: their clusters are not pooled again)."""
    ids = histories[node_id].tops if node_id in histories else [node_id]
    return max(design.get(i, (1.0,))[0] for i in ids)


def _history_fields(node: _Node, history: _History | None) -> dict:
    if history is None:
        return {
            "previous_valid": node.prev_pooled.valid,
            "previous_satisfied": node.prev_pooled.satisfied,
        }
    return {
        "previous_valid": history.previous.valid,
        "previous_satisfied": history.previous.satisfied,
        "history": "combined",
        "history_agencies": history.codes,
        "history_valid": history.current.valid,
        "history_satisfied": history.current.satisfied,
    }


def _tops(nodes: dict[int, _Node]) -> list[_Node]:
    return [n for n in nodes.values() if n.parent_id is None or n.parent_id not in nodes]


def _family(node: _Node) -> str:
    """A row pools units when an agency under it had valid responses in the period; otherwise
    its counts are its own desks' and it is a reporting unit."""
    return "pooled" if node.pooled.valid > node.own.valid else "unit"


def _target(rule: TargetRule | None, options: ReportOptions) -> float | None:
    return options.target if options.target is not None else (rule.rate if rule else None)


def _design_effects(sums: dict[int, sql.Moments] | None, order: list[tuple[_Node, int]]) -> dict:
    """{node id: (deff, rho, desk-days)} of every agency in a period, from the whole
    province's desk-day clusters in it (`sums`, from `sql.cluster_counts`: so that a verdict
    never depends on the view), and under None the province's (1.0, rho, 0) and under
    "moments" each node's pooled cluster moments (for the summary's total); empty without
    design effects (`sums` None). `order`: (node, depth) of every agency, in tree order."""
    if sums is None:
        return {}
    nothing = (0, 0, 0, 0.0, 0)
    k, n, x, x2n, n2 = (
        np.array([sums.get(node.id, nothing) for node, _depth in order], dtype=float)
        .reshape(len(order), 5)
        .T
    )
    some = np.where(n > 0, n, 1.0)
    between = np.maximum(x2n - np.where(n > 0, x * x / some, 0.0), 0.0)
    spread = n - np.where(n > 0, n2 / some, 0.0)
    own = np.column_stack([k, (k > 0).astype(float), n, between, x - x2n, spread, n2])
    province = design_effects(ClusterMoments(*own.T)).rho_province
    pooled = pool_up(order, own)
    result = design_effects(ClusterMoments(*pooled.T), rho_province=province)
    deffs, rhos, days = result.deff.tolist(), result.rho.tolist(), pooled[:, 0].tolist()
    found: dict = {
        node.id: (deffs[i], rhos[i], int(days[i])) for i, (node, _depth) in enumerate(order)
    }
    found[None] = (1.0, province, 0)  # the province's value, for totals of several tops
    found["moments"] = {node.id: pooled[i] for i, (node, _depth) in enumerate(order)}
    return found


def _total_deff(roots: list[_Node], design: dict) -> float:
    """The design effect of several top agencies judged as one total."""
    if not design or not roots:
        return 1.0
    total = sum((design["moments"][node.id] for node in roots), np.zeros(7))
    moments = ClusterMoments(*total.reshape(7, 1))
    return float(design_effects(moments, rho_province=design[None][1]).deff[0])


def _judge(
    nodes: list[_Node],
    rules: dict,
    options: ReportOptions,
    design: dict,
    previous_design: dict,
    histories: dict | None = None,
) -> tuple[dict[int, dict], dict[str, int]]:
    """The statistics of every node, family by family: with an adjustment, each family is
    adjusted on its own, so a verdict depends only on the family's members (the whole
    province's units, or its pooled rows), never on the view. With design effects, the
    level verdict and the change verdict both use effective counts: each period's own
    design effect (`design`, `previous_design`). A node with a combined history (`histories`) is compared with the previous period
    over it, in the same family, each period with the largest design effect among the agencies
    whose responses it pools."""
    histories = histories or {}
    confidence = options.level_of_confidence
    adjust = None if options.adjust == "none" else options.adjust
    out: dict[int, dict] = {}
    sizes = dict.fromkeys(FAMILIES, 0)
    for family in FAMILIES:
        members = [node for node in nodes if _family(node) == family]
        if not members:
            continue
        targets = [_target(rules[node.id], options) for node in members]
        x = np.array([m.pooled.satisfied for m in members], dtype=float)
        n = np.array([m.pooled.valid for m in members], dtype=float)
        has_target = np.array([t is not None for t in targets], dtype=bool)
        sizes[family] = int(np.count_nonzero(has_target & (n > 0)))
        deff = np.array([design.get(m.id, (1.0,))[0] for m in members], dtype=float)
        stats = _assess_rows(x, n, targets, has_target, confidence, options.method, adjust, deff)
        before = [histories[m.id].previous if m.id in histories else m.prev_pooled for m in members]
        now = [histories[m.id].current if m.id in histories else m.pooled for m in members]
        px = np.array([c.satisfied for c in before], dtype=float)
        pn = np.array([c.valid for c in before], dtype=float)
        cx = np.array([c.satisfied for c in now], dtype=float)
        cn = np.array([c.valid for c in now], dtype=float)
        was = np.array([_deff(previous_design, m.id, histories) for m in members], dtype=float)
        now_deff = np.array([_deff(design, m.id, histories) for m in members], dtype=float)
        change = analysis.compare_periods(px, pn, cx, cn, confidence, adjust, was, now_deff)
        # Plain lists first: indexing numpy arrays element by element costs ten times more,
        # and a report has a row per agency (5,000 in a national one).
        col = {name: floats_or_none(stats[name]) for name in _STAT_COLUMNS}
        for name in ("rate1", "difference", "low", "high"):
            col["change_" + name] = floats_or_none(getattr(change, name))
        verdicts = [str(v) for v in stats["verdict"].tolist()]
        needed = stats["needed"].tolist()
        change_verdicts = [str(v) for v in np.atleast_1d(change.verdict).tolist()]
        deffs, previous_deffs = deff.tolist(), was.tolist()
        for i, node in enumerate(members):
            found = design.get(node.id)
            out[node.id] = {
                "rate": col["rate"][i],
                "low": col["low"][i],
                "high": col["high"][i],
                "estimate_low": col["estimate_low"][i],
                "estimate_high": col["estimate_high"][i],
                "deff": deffs[i],
                "rho": found[1] if found is not None else None,
                "desk_days": found[2] if found is not None else 0,
                "target": targets[i],
                "verdict": verdicts[i],
                "p_meets": col["p_meets"][i],
                "p_below": col["p_below"][i],
                "responses_needed": int(needed[i]) if verdicts[i] == "inconclusive" else None,
                "previous_rate": col["change_rate1"][i],
                "change": col["change_difference"][i],
                "change_low": col["change_low"][i],
                "change_high": col["change_high"][i],
                "change_verdict": change_verdicts[i],
                "previous_deff": previous_deffs[i],
            }
    return out, sizes


def _case_fields(cases: CaseCounts) -> dict:
    return {
        "cases": cases.opened,
        "cases_answered": cases.answered,
        "cases_due": cases.due,
        "cases_on_time": cases.on_time,
        "cases_answered_share": cases.answered_share,
        "cases_on_time_share": cases.on_time_share,
        "cases_median_days": cases.median_days,
    }


def response_warning() -> float:
    """RESPONSE_RATE_WARNING: a response rate under it carries a warning."""
    return float(current_app.config.get("RESPONSE_RATE_WARNING", DEFAULT_RESPONSE_WARNING))


def _uptake_fields(uptake: Uptake, warning: float) -> dict:
    rate = uptake.rate
    return {
        "tickets_issued": uptake.issued,
        "tickets_used": uptake.used,
        "dossiers_handled": uptake.handled,
        "response_answered": uptake.answered,
        "response_base": uptake.base,
        "response_rate": rate,
        "no_denominator": uptake.no_denominator,
        "low_response_rate": rate is not None and rate < warning,
    }


def _assess_rows(
    x, n, targets, has_target, confidence, method, adjust, deff=None
) -> dict[str, np.ndarray]:
    """Rates, intervals and verdicts of rows. The interval `low, high` is the one that decides
    (`analysis.assess_target`); rows without a target get the same exact interval at the
    unadjusted level, so the column means one thing. `estimate_*` is the method's interval."""
    size = x.size
    out = {
        "rate": np.full(size, np.nan),
        "low": np.full(size, np.nan),
        "high": np.full(size, np.nan),
        "estimate_low": np.full(size, np.nan),
        "estimate_high": np.full(size, np.nan),
        "p_meets": np.full(size, np.nan),
        "p_below": np.full(size, np.nan),
        "needed": np.full(size, -1, dtype=np.int64),
        "verdict": np.full(size, "no_target", dtype=object),
    }
    if size == 0:
        return out
    deff = np.ones(size) if deff is None else np.asarray(deff, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.LegacyMethodWarning)
        low, high = interval_bounds(x / deff, n / deff, confidence, method)
    out["estimate_low"], out["estimate_high"] = np.asarray(low, float), np.asarray(high, float)
    level = (1.0 - confidence) / 2.0
    out["low"], out["high"] = exact_limits(x / deff, n / deff, level, level)
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
            deff[chosen],
        )
        for name, value in (
            ("low", result.low),
            ("high", result.high),
            ("p_meets", result.p_meets),
            ("p_below", result.p_below),
            ("needed", result.responses_needed),
            ("verdict", result.verdict),
        ):
            out[name][chosen] = value
    return out


def _summary(rows, roots, channels, options, resolver: TargetResolver, deff=1.0) -> Summary:
    """The summary of a report on one root is that root's row: the same counts, target,
    interval, verdict and responses needed. A report over several top agencies (all agencies,
    or an analyst's scope of several subtrees) pools them and judges the total as one test of
    its own against the general target (kind and agency targets are for agencies)."""
    top = [r for r in rows if r.depth == 0]
    verdict_counts = {v: sum(1 for r in rows if r.counted and r.verdict == v) for v in VERDICTS}
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
    if len(roots) == 1 and len(top) == 1:
        root = top[0]
        return Summary(
            valid=root.valid,
            satisfied=root.satisfied,
            flagged=root.flagged,
            excluded=root.excluded,
            rate=root.rate,
            low=root.low,
            high=root.high,
            estimate_low=root.estimate_low,
            estimate_high=root.estimate_high,
            target=root.target,
            verdict=root.verdict,
            verdict_counts=verdict_counts,
            channels=channel_rows,
            basis="row",
            responses_needed=root.responses_needed,
        )
    total = Counts()
    for r in top:
        total.add(Counts(r.valid, r.satisfied, r.flagged, r.excluded))
    target = _target(resolver.general, options)
    confidence = options.level_of_confidence
    stats = _assess_rows(
        np.array([total.satisfied], float),
        np.array([total.valid], float),
        [target],
        np.array([target is not None]),
        confidence,
        options.method,
        None,
        np.array([deff]),
    )
    verdict = str(stats["verdict"][0])
    return Summary(
        valid=total.valid,
        satisfied=total.satisfied,
        flagged=total.flagged,
        excluded=total.excluded,
        rate=float_or_none(stats["rate"][0]),
        low=float_or_none(stats["low"][0]),
        high=float_or_none(stats["high"][0]),
        estimate_low=float_or_none(stats["estimate_low"][0]),
        estimate_high=float_or_none(stats["estimate_high"][0]),
        target=target,
        verdict=verdict,
        verdict_counts=verdict_counts,
        channels=channel_rows,
        basis="total",
        responses_needed=int(stats["needed"][0]) if verdict == "inconclusive" else None,
    )


def overdispersion(report: Report):
    """Overdispersion of the units around the summary target, or None when it can't be
    computed (fewer than two agencies with responses, or no target)."""
    units = report.units()
    target = report.summary.target
    if len(units) < 2:
        return None
    try:
        return analysis.overdispersion(
            [u.satisfied for u in units], [u.valid for u in units], target
        )
    except ValueError:
        return None


def find_agency(code: str, scope: set[int] | None):
    """The agency with `code` for a report: `OptionError` 404 if there is none, 403 if it lies
    outside `scope` (visible agency ids, None for all)."""
    agency = sql.agency_by_code(code)
    if agency is None:
        raise OptionError(
            "agency", _("There is no agency with the code %(code)s.", code=code), status=404
        )
    if scope is not None and agency.id not in scope:
        raise OptionError(
            "agency", _("The agency %(code)s is outside your scope.", code=code), status=403
        )
    return agency


def report_for(options: ReportOptions, scope: set[int] | None, root_id: int | None = None):
    """The report of a view: rooted at `options.agency` when given (checked against `scope`),
    else at `root_id`, else at the top of what `scope` shows."""
    if options.agency:
        root_id = find_agency(options.agency, scope).id
    return build_report(options, root_id, scope)
