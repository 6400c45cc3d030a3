"""The figures Vietnamese reporting asks for, beside the satisfaction rate: the counts and
shares by rating level (Rất hài lòng / Hài lòng / Không hài lòng, or the five SIPAS levels),
and the provincial indicator score (0-2 points per indicator, a total out of 18 and its class).

`official_figures` computes them for the nodes of a report's tree, pooled over subtrees like
the rate; `build_report` puts them on every `Row` (`levels`, `points`) and on the `Summary`.

The point of each level belongs to the questionnaire version (a level item's ``"points"``),
else to the province's settings (survey.scoring: edited by administrators at /admin/scoring,
else the installation's `POINTS_BY_LEVEL`, default Không hài lòng 0, Hài lòng 1, Rất hài
lòng 2); a questionnaire with a level that has no point (the SIPAS scale by default) gets no
score. The class thresholds are the province's too (survey.scoring, else `POINTS_THRESHOLDS`,
default 15/12/9/6): provincial practice, not national law (docs/reporting.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis.points import (
    IndicatorScores,
    classify_score,
    indicator_scores,
    moments_width,
    unstack_moments,
)
from survey import patterns, scoring
from survey.periods import Period
from survey.reporting import counts as sql
from survey.reporting.formatting import float_or_none, integer
from survey.reporting.pooling import pool_up

CLASS_CODES = ("xuat_sac", "tot", "kha", "trung_binh", "yeu")
CLASS_LABELS = {
    "xuat_sac": _l("Excellent"),
    "tot": _l("Good"),
    "kha": _l("Fairly good"),
    "trung_binh": _l("Average"),
    "yeu": _l("Poor"),
}


ADMINISTRATIVE_VERDICTS = ("dat", "khong_dat")
ADMINISTRATIVE_LABELS = {
    "dat": _l("Met"),
    "khong_dat": _l("Not met"),
}


def administrative_verdict(satisfied: int, valid: int, target: float | None) -> str | None:
    """ "Đạt / Không đạt" as administrations judge it: on the point estimate, rate >= target.
    None without responses or without a target."""
    if not valid or target is None:
        return None
    # satisfied / valid >= target, without the rounding of a division (27/30 is 90%).
    return "dat" if satisfied >= target * valid - 1e-9 else "khong_dat"


def verdict_note(row) -> str | None:
    """One sentence when the administrative verdict (on the rate) and the statistical one (on
    the interval) disagree, else None."""
    admin, verdict = row.administrative_verdict, row.verdict
    if admin is None or (admin, verdict) in {("dat", "meets"), ("khong_dat", "below")}:
        return None
    needed = row.responses_needed
    if verdict == "inconclusive":
        if needed is not None and needed > 0:
            if admin == "dat":
                return _(
                    "Met on the rate, but there are not enough responses to confirm it: "
                    "%(n)s more are needed.",
                    n=integer(needed),
                )
            return _(
                "Not met on the rate, but there are not enough responses to confirm it: "
                "%(n)s more are needed.",
                n=integer(needed),
            )
        if admin == "dat":
            return _(
                "Met on the rate, but the rate equals the target: no number of responses "
                "would confirm it."
            )
        return _("Not met on the rate, but there are not enough responses to confirm it.")
    if verdict in {"meets", "below"}:
        return _(
            "The verdict on the rate and the verdict on the interval differ: the statistical "
            "verdict also weighs the number of responses."
        )
    return None


@dataclass(frozen=True)
class Scale:
    """What a report's official columns are: its rating levels and scored indicators."""

    levels: list[tuple[str, str]] = field(default_factory=list)  # (code, label), best first
    indicators: list[tuple[str, str]] = field(default_factory=list)  # (code, label)
    maximum: float = 0.0  # the highest total (18 for 9 indicators of 0-2 points)
    classes: tuple = ()  # (code, lower bound, included?) out of 18, best first

    @property
    def level_codes(self) -> list[str]:
        return [code for code, _label in self.levels]

    @property
    def indicator_codes(self) -> list[str]:
        return [code for code, _label in self.indicators]


@dataclass(frozen=True)
class Points:
    """The indicator score of one row: each indicator's mean points, the total, its interval
    (delta method, `analysis.points`) and its class."""

    total: float | None
    low: float | None
    high: float | None
    cls: str | None
    indicators: dict[str, float | None]
    answers: dict[str, int]
    responses: int
    maximum: float

    def as_json(self) -> dict:
        return {
            "total": _round(self.total),
            "low": _round(self.low),
            "high": _round(self.high),
            "class": self.cls,
            "maximum": self.maximum,
            "responses": self.responses,
            "indicators": {
                code: {"mean": _round(mean), "answers": self.answers[code]}
                for code, mean in self.indicators.items()
            },
        }

    def weakest(self, count: int = 3) -> list[tuple[str, float]]:
        """The indicators with the lowest mean points, lowest first: where the row loses
        points."""
        scored = [(code, mean) for code, mean in self.indicators.items() if mean is not None]
        return sorted(scored, key=lambda item: (item[1], item[0]))[:count]


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def classes_setting() -> tuple[tuple[str, float, bool], ...]:
    """The class thresholds in force (survey.scoring), best first."""
    excellent, good, fair, average = scoring.points_thresholds()
    return (
        ("xuat_sac", float(excellent), False),
        ("tot", float(good), True),
        ("kha", float(fair), True),
        ("trung_binh", float(average), True),
        ("yeu", -math.inf, True),
    )


def level_points(levels: list[dict], default: dict[str, float]) -> dict[str, float] | None:
    """The points of each level of a questionnaire: its own (every level carries "points"),
    else the installation's `default` when it covers every level, else None (no score)."""
    if levels and all(isinstance(item.get("points"), int | float) for item in levels):
        return {item["code"]: float(item["points"]) for item in levels}
    codes = [item["code"] for item in levels]
    if codes and all(code in default for code in codes):
        return {code: float(default[code]) for code in codes}
    return None


def _label(item: dict, locale: str) -> str:
    labels = item.get("label") or {}
    return labels.get(locale) or labels.get("vi") or item["code"]


@dataclass
class Figures:
    scale: Scale
    levels: dict[int, dict[str, int]]  # node id -> pooled counts by level (report's codes)
    points: dict[int, Points | None]  # node id -> pooled score (None: no scored answers)
    summary_levels: dict[str, int]
    summary_points: Points | None


def official_figures(
    period: Period,
    order: list,
    roots: Iterable,
    agency_ids: Iterable[int] | None,
    confidence: float,
    locale: str,
) -> Figures:
    """Levels and points of every node in `order` ((node, depth) in tree order, nodes with
    `id` and `children`), pooled over subtrees, and of the `roots` together (the summary)."""
    scales = sql.questionnaire_scales()
    own_levels = sql.agency_level_counts(period, agency_ids)

    # The report's levels: the default questionnaire's, then any other level in the data.
    seen = {code for found in own_levels.values() for code in found}
    levels: list[tuple[str, str]] = []
    for scale in scales:
        for item in scale.levels:
            code = item["code"]
            if (scale.is_default or code in seen) and code not in dict(levels):
                levels.append((code, _label(item, locale)))
    level_codes = [code for code, _label_text in levels]

    # Points: the questionnaires with a mapping, their criteria and levels.
    default_points = scoring.points_by_level()
    mappings = {s.id: m for s in scales if (m := level_points(s.levels, default_points))}
    indicators: list[tuple[str, str]] = []
    labels = sql.questionnaire_labels(locale).criteria if mappings else {}
    for scale in scales:
        if scale.id in mappings:
            for code in scale.criteria:
                if code not in dict(indicators):
                    indicators.append((code, labels.get(code, code)))
    codes = [code for code, _text in indicators]
    maximum = 0.0
    if mappings:
        maximum = max(max(m.values()) for m in mappings.values()) * len(codes)
    scale = Scale(levels, indicators, maximum, classes_setting())

    # One row per node of `order`: its own counts by level, then the moments of its indicator
    # score (responses, pairs, sums, products: `analysis.points.ScoreMoments`), pooled up the
    # tree in one pass (`pool_up`) and scored all at once (`indicator_scores`).
    index = {node.id: i for i, (node, _depth) in enumerate(order)}
    width, k = len(level_codes), len(codes)
    own = np.zeros((len(order), width + moments_width(k)))
    column = {code: j for j, code in enumerate(level_codes)}
    for agency_id, found in own_levels.items():
        if (i := index.get(agency_id)) is not None:
            for code, n in found.items():
                own[i, column[code]] += n
    if index:
        found = sql.pattern_counts(period, agency_ids, sorted(mappings))
        own[:, width:] = _own_moments(found, index, scales, mappings, codes)
    pooled = pool_up(order, own)

    levels_of = {
        node.id: dict(zip(level_codes, (int(v) for v in row), strict=True))
        for (node, _depth), row in zip(order, pooled[:, :width].tolist(), strict=True)
    }
    points_of: dict[int, Points | None] = dict.fromkeys(index)
    scored = np.flatnonzero(pooled[:, width] > 0) if codes else np.zeros(0, dtype=np.int64)
    if scored.size:
        batch = _scores(pooled[scored, width:], k, maximum, confidence)
        for g, i in enumerate(scored.tolist()):
            points_of[order[i][0].id] = _points(batch, g, codes, scale.classes)

    tops = [index[root.id] for root in roots if root.id in index]
    total = pooled[tops].sum(axis=0) if tops else np.zeros(own.shape[1])
    summary_points = None
    if codes and total[width] > 0:
        summary_points = _points(
            _scores(total[None, width:], k, maximum, confidence), 0, codes, scale.classes
        )
    return Figures(
        scale=scale,
        levels=levels_of,
        points=points_of,
        summary_levels=dict(zip(level_codes, (int(v) for v in total[:width]), strict=True)),
        summary_points=summary_points,
    )


def _own_moments(found: dict, index: dict[int, int], scales, mappings: dict, codes: list):
    """The moments of each node's own responses, from the counts of their answer patterns by
    questionnaire (`sql.pattern_counts`), one row per node laid out by
    `analysis.points.stack_moments` (`survey.patterns.moments`)."""
    k = len(codes)
    out = np.zeros((len(index), moments_width(k)))
    column = {code: i for i, code in enumerate(codes)}
    for scale in scales:
        if scale.id not in found:
            continue
        counts = found[scale.id]
        rows = np.array([index.get(int(a), -1) for a in counts.agency_ids.tolist()])
        kept = rows >= 0
        if not kept.any():
            continue
        points = [mappings[scale.id][item["code"]] for item in scale.levels]
        columns = [column[code] for code in scale.criteria]
        out[rows[kept]] += patterns.moments(counts.counts[kept], columns, points, k)
    return out


def _scores(moments: np.ndarray, k: int, maximum: float, confidence: float) -> IndicatorScores:
    """`indicator_scores` of rows laid out by `analysis.points.stack_moments`."""
    responses, pairs, sums, products = unstack_moments(moments, k)
    return indicator_scores(
        pairs, sums, products, np.rint(responses).astype(np.int64), maximum, confidence
    )


def _points(batch: IndicatorScores, g: int, codes: list[str], classes) -> Points:
    total = float_or_none(batch.total[g])
    return Points(
        total=total,
        low=float_or_none(batch.low[g]),
        high=float_or_none(batch.high[g]),
        cls=classify_score(total, batch.maximum, classes) if total is not None else None,
        indicators={
            c: float_or_none(m) for c, m in zip(codes, batch.means[g].tolist(), strict=True)
        },
        answers={c: int(n) for c, n in zip(codes, batch.answers[g].tolist(), strict=True)},
        responses=int(batch.responses[g]),
        maximum=batch.maximum,
    )


def shares(levels: dict[str, int]) -> dict[str, float | None]:
    """Each level's share of the valid responses."""
    total = sum(levels.values())
    return {code: (n / total if total else None) for code, n in levels.items()}
