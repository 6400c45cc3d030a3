"""One agency in depth: the sections of its page (criteria, channels, desks), the rating levels,
when citizens answer, the trend and the latest comments.

Everything is computed here from `survey.reporting.counts`; the agency page and the PDF's
agency pages only render it. A new section of rates is one more entry in `rate_sections`: the
page and the PDF iterate the sections.

One cohesive thing, an agency's page computed section by section, hence a little over 400
lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from flask_babel import gettext as _

from survey.languages.packs import language_names
from survey.models import Channel, Status
from survey.periods import Period, to_local
from survey.reporting import counts as sql
from survey.reporting import mergers
from survey.reporting.formatting import float_or_none
from survey.reporting.labels import CHANNEL_LABELS
from survey.reporting.table import Report, Row, interval

COMMENTS_PER_PAGE = 20
MAX_SEARCH = 100
TREND_UNITS = ("month", "quarter")


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


@dataclass(frozen=True)
class RateSection:
    """A titled table of rates on an agency's page and on its PDF page.

    `key` is the table's HTML id; `printed` is how many rows the PDF prints (None: all, 0: the
    section is left out of the PDF); `show_key` prints each row's key before its label there."""

    key: str
    title: str
    caption: str
    first: str  # header of the label column
    rows: list[RateRow]
    printed: int | None = None
    show_key: bool = False


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
            float_or_none(low[i]),
            float_or_none(high[i]),
        )
        for i, (key, label, valid, satisfied) in enumerate(items)
    ]


def criterion_rates(period, agency_ids, confidence, method, locale) -> list[RateRow]:
    """The official criteria of the default questionnaire (even without answers), then any
    other criterion that has answers."""
    found = sql.criterion_counts(period, agency_ids)
    labels = sql.questionnaire_labels(locale)
    default = labels.default_criteria
    codes = default + sorted(set(found) - set(default))
    items = [(c, labels.criteria.get(c, c), *found.get(c, (0, 0))) for c in codes]
    return rate_rows(items, confidence, method)


def channel_rates(period, agency_ids, confidence, method) -> list[RateRow]:
    counts = sql.channel_counts(period, agency_ids)
    items = [
        (c.value, str(CHANNEL_LABELS[c]), counts[c.value].valid, counts[c.value].satisfied)
        for c in Channel
        if c.value in counts
    ]
    return rate_rows(items, confidence, method)


def language_rates(period, agency_ids, confidence, method) -> list[RateRow]:
    """Valid responses by the language the citizen answered in (survey/languages)."""
    found = sql.response_counts(period, ("language",), agency_ids, valid_only=True)
    names = language_names()
    items = [
        (code or "", names.get(code) or code or _("Not recorded"), n, x)
        for code, n, x in sorted(found, key=lambda row: (row[0] is None, row[0] or ""))
    ]
    return rate_rows(items, confidence, method)


def mode_rates(period, agency_ids, confidence, method) -> list[RateRow]:
    """Valid kiosk responses by how the kiosk asked: the standard screen or faces only."""
    found = dict(
        (mode, (n, x))
        for mode, n, x in sql.response_counts(period, ("mode",), agency_ids, valid_only=True)
        if mode is not None
    )
    names = {"standard": _("Standard screen"), "faces": _("Faces only (no text)")}
    items = [(mode, str(names[mode]), *found[mode]) for mode in names if mode in found]
    return rate_rows(items, confidence, method)


#: The splits that say who could answer: the language, and how the kiosk asked.
AUDIENCE_SPLITS = ("language", "mode")


def audience_splits(period, agency_ids, confidence, method) -> dict[str, list[RateRow]]:
    """{"language": rows, "mode": rows}: the same tables as the agency page's, for the API's
    JSON and the CSV download."""
    return {
        "language": language_rates(period, agency_ids, confidence, method),
        "mode": mode_rates(period, agency_ids, confidence, method),
    }


def report_audience_splits(report: Report) -> dict[str, list[RateRow]]:
    """`audience_splits` of the report's first row (the agency asked for, or the top of the
    tree) over its subtree as it stood in the period: the API's and the CSV download's."""
    row = report.rows[0]
    return audience_splits(
        report.period,
        mergers.period_subtree(row.id, report.period),
        report.confidence,
        report.options.method,
    )


def splits_csv(splits: dict[str, list[RateRow]]) -> bytes:
    """The splits as one CSV table (UTF-8 with a BOM, for Excel): one row per language or mode."""
    from survey.spreadsheets import write_table

    header = ["split", "code", "name", "responses", "satisfied", "rate", "low", "high"]
    rows = [
        [split, item.key, item.label, item.valid, item.satisfied, item.rate, item.low, item.high]
        for split, items in splits.items()
        for item in items
    ]
    return write_table("csv", header, rows)


def splits_json(splits: dict[str, list[RateRow]]) -> dict[str, list[dict]]:
    return {
        split: [
            {
                "code": item.key or None,
                "name": item.label,
                "responses": item.valid,
                "satisfied": item.satisfied,
                "rate": item.rate,
                "low": item.low,
                "high": item.high,
            }
            for item in items
        ]
        for split, items in splits.items()
    }


def desk_rates(period, agency_ids, confidence, method) -> list[RateRow]:
    return rate_rows(sql.desk_counts(period, agency_ids), confidence, method)


def rate_sections(report: Report, row: Row, locale: str) -> list[RateSection]:
    """The tables of rates of `row`'s agency (over its subtree), in page order."""
    ids = mergers.period_subtree(row.id, report.period)
    period, confidence, method = report.period, report.confidence, report.options.method
    return [
        RateSection(
            "criteria",
            _("Criteria"),
            _("Satisfaction with each criterion of the official evaluation"),
            _("Criterion"),
            criterion_rates(period, ids, confidence, method, locale),
        ),
        RateSection(
            "channel-split",
            _("By channel"),
            _("By channel"),
            _("Channel"),
            channel_rates(period, ids, confidence, method),
            printed=0,
        ),
        RateSection(
            "language-split",
            _("By language"),
            _("By the language the citizen answered in"),
            _("Language"),
            language_rates(period, ids, confidence, method),
        ),
        RateSection(
            "mode-split",
            _("Kiosk mode"),
            _("Kiosk ratings by how the kiosk asked"),
            _("Kiosk mode"),
            mode_rates(period, ids, confidence, method),
        ),
        RateSection(
            "desk-split",
            _("Desks"),
            _("By desk"),
            _("Desk"),
            desk_rates(period, ids, confidence, method),
            printed=12,
            show_key=True,
        ),
    ]


def report_agency_ids(report: Report) -> set[int]:
    """The agencies a report covers: the subtrees of its top rows."""
    ids: set[int] = set()
    for row in report.rows:
        if row.depth == 0:
            ids |= mergers.period_subtree(row.id, report.period)
    return ids


def with_followup(report: Report) -> Report:
    """`report` with its follow-up check attached: the latest draw of the period among the
    report's agencies, compared per sampled agency (`survey.followup.service.followup_check`).
    Every format renders this one result."""
    from survey.followup.service import followup_check

    found = followup_check(report.period, report_agency_ids(report), report.confidence)
    return replace(report, followup=found)


def with_dossiers(report: Report, locale: str, rows: list[Row] | None = None) -> Report:
    """`report` with the dossier splits of `rows` (default: the visible rows) attached, keyed
    by agency code (on time and late, the on-time rate, procedures, fields, ticket response
    rates), computed over each agency's subtree as its agency page computes them."""
    from survey.reporting.dossier_splits import many_dossier_splits

    found = dict(report.dossiers)
    wanted = [r for r in (report.visible_rows() if rows is None else rows) if r.code not in found]
    if wanted:
        # One read for every agency (about 12 statements each, asked one by one).
        subtrees = mergers.period_subtrees([row.id for row in wanted], report.period)
        splits = many_dossier_splits(
            [(row.id, subtrees[row.id]) for row in wanted],
            report.period,
            report.confidence,
            "include",
            locale,
        )
        found.update({row.code: split for row, split in zip(wanted, splits, strict=True)})
    return replace(report, dossiers=found)


def with_themes(report: Report) -> Report:
    """`report` with the comments of its agencies grouped by theme attached (the official
    document's section)."""
    from survey.reporting.themes import comment_themes

    return replace(report, themes=comment_themes(report.period, {row.id for row in report.rows}))


def with_details(report: Report, rows: list[Row], locale: str) -> Report:
    """`report` with the rate sections of `rows` attached (for renderers that page through
    agencies, such as the PDF)."""
    details = dict(report.details)
    for row in rows:
        details.setdefault(row.code, rate_sections(report, row, locale))
    return replace(report, details=details)


@dataclass(frozen=True)
class LevelShare:
    questionnaire_id: int
    code: str
    label: str
    count: int
    share: float


def level_distribution(period, agency_ids, locale) -> list[LevelShare]:
    found = sql.level_counts(period, agency_ids)
    labels = sql.questionnaire_labels(locale)
    shares = []
    for qid in sorted(found):
        total = sum(found[qid].values())
        for code in labels.level_order.get(qid, sorted(found[qid])):
            count = found[qid].get(code, 0)
            shares.append(
                LevelShare(qid, code, labels.levels.get((qid, code), code), count, count / total)
            )
    return shares


@dataclass(frozen=True)
class Heatmap:
    """Valid responses by local weekday (Monday first) and hour of day."""

    hours: list[int]
    cells: list[list[tuple[int, int]]]  # [weekday][hour index] -> (valid, satisfied)
    peak: int


def heatmap(period, agency_ids) -> Heatmap:
    found = sql.heatmap_counts(period, agency_ids)
    used = sorted({h for _d, h in found})
    hours = list(range(min(used + [7]), max(used + [17]) + 1))
    cells = [[found.get(((day + 1) % 7, h), (0, 0)) for h in hours] for day in range(7)]
    peak = max((n for n, _x in found.values()), default=0)
    return Heatmap(hours, cells, peak)


def trend_buckets(period: Period, unit: str) -> list[Period]:
    count = 12 if unit == "month" else 8
    return period.buckets(unit, count)


def trend_data(period: Period, unit: str, agency_ids) -> tuple[list[Period], list[tuple[int, int]]]:
    """Buckets ending with `period`, without the leading ones that have no responses."""
    buckets = trend_buckets(period, unit)
    counts = sql.trend_counts(buckets, agency_ids)
    first = next((i for i, (n, _x) in enumerate(counts) if n), len(counts) - 1)
    keep = min(first, len(buckets) - 1)
    return buckets[keep:], counts[keep:]


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


def comments(period, agency_ids, search: str | None = None, page: int = 1):
    """The latest comments in the period, newest first; `search` matches a substring
    (case-insensitive for unaccented letters on SQLite). Returns (comments, has_more)."""
    found = [
        Comment(
            to_local(at), text, level, bool(sat), str(Channel(ch)), desk, agency, str(Status(st))
        )
        for at, text, level, sat, ch, desk, agency, st in sql.comment_rows(
            period,
            agency_ids,
            search,
            limit=COMMENTS_PER_PAGE + 1,
            offset=(page - 1) * COMMENTS_PER_PAGE,
        )
    ]
    return found[:COMMENTS_PER_PAGE], len(found) > COMMENTS_PER_PAGE


@dataclass(frozen=True)
class AgencyDetail:
    """Everything an agency's page shows beside its row of the report."""

    sections: list[RateSection]
    levels: list[LevelShare]
    heatmap: Heatmap
    trend_unit: str
    trend_buckets: list[Period]
    trend_counts: list[tuple[int, int]]
    # Continuity across mergers (survey.reporting.mergers): the agencies merged into this one
    # and whether the trend includes their history (the row's comparison says it of its own).
    predecessors: list = field(default_factory=list)
    history: str = "own"


def agency_detail(
    report: Report, row: Row, trend_unit: str, locale: str, history: str = "own"
) -> AgencyDetail:
    ids = mergers.period_subtree(row.id, report.period)
    earlier = mergers.predecessors(row.id)
    combined = history == "combined" and bool(earlier)
    trend_ids = mergers.history_ids(row.id) if combined else ids
    buckets, counts = trend_data(report.period, trend_unit, trend_ids)
    return AgencyDetail(
        sections=rate_sections(report, row, locale),
        levels=level_distribution(report.period, ids, locale),
        heatmap=heatmap(report.period, ids),
        trend_unit=trend_unit,
        trend_buckets=buckets,
        trend_counts=counts,
        predecessors=earlier,
        history="combined" if combined else "own",
    )
