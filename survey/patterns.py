"""A response's answers as one short pattern, and the half-month roll-up of patterns that the
indicator score reads (migration 0022, `pattern_half`).

**The pattern** (`response.answer_pattern`) is the number of levels of the response's
questionnaire as one digit, then one digit per criterion of the questionnaire, in its order:
the level's place in the questionnaire's scale (1 for the first level, the best) or 0 when the
criterion was not answered; None when none was. "3" + "112111110" is a 3-level scale, 9
criteria, the sixth answered at the second level, the ninth not answered. A published
questionnaire never changes (at most 7 levels and 20 criteria: survey.admin), so the pattern
means the same for ever. The writers set it (`responses.record`, the paper imports, the demo);
a trigger on `answer` recomputes it when an answer is written that the pattern does not
account for, so a writer that leaves it out (SQL typed by hand, the benchmark's bulk loads)
costs time, not exactness.

**The counts** (`pattern_half.counts`): for one half month (days 1-14, 15-end, Vietnam time),
agency, questionnaire and status, how many responses answered criterion ``i`` at level ``a``
together with criterion ``j`` at level ``b``, for every ``i <= j`` (with ``i == j`` the
answers of ``i`` at ``a``), and in the first place the responses that answered at least one
criterion. These are additive, do not depend on the points of the levels (a province may
change `POINTS_BY_LEVEL` at any time), and hold everything the indicator score's moments need
(`analysis.points.ScoreMoments`: `moments`). Their size depends on the questionnaire only:
``1 + K(K+1)/2 * L**2`` numbers (406 for the official 9 criteria on 3 levels), whatever the
number of responses, so a year of a province is a fixed number of rows. They are stored as
big-endian 32-bit integers in a byte string, which PostgreSQL hands over five times faster
than an integer array (docs/performance.md).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np

from analysis.points import stack_moments

#: The dtype of `pattern_half.counts`.
COUNTS = np.dtype(">i4")


def pattern(
    levels: Sequence[str], criteria: Sequence[str], answers: Mapping[str, str]
) -> str | None:
    """The pattern of `answers` (criterion -> level) on a scale of `levels` (best first) and
    `criteria` (in the questionnaire's order); None when no criterion is answered."""
    if not answers:
        return None
    place = {code: i + 1 for i, code in enumerate(levels)}
    digits = [place.get(answers.get(code), 0) for code in criteria]
    if not any(digits):
        return None
    return str(len(levels)) + "".join(map(str, digits))


def size(criteria: int, levels: int) -> int:
    """The number of counts of a questionnaire with `criteria` criteria on `levels` levels."""
    return 1 + criteria * (criteria + 1) // 2 * levels * levels


def half_key(day: date) -> int:
    """The key of the half month holding `day`: yyyymm01 or yyyymm15."""
    return day.year * 10000 + day.month * 100 + (1 if day.day < 15 else 15)


def _pair_places(criteria: int, levels: int) -> np.ndarray:
    """``place[i, j, a, b]``: where criterion ``i`` at level ``a`` with ``j`` at ``b`` is
    counted (``i <= j``; -1 below the diagonal), levels 0-based."""
    place = np.full((criteria, criteria, levels, levels), -1, dtype=np.int64)
    pair = 0
    for i in range(criteria):
        for j in range(i, criteria):
            base = 1 + pair * levels * levels
            place[i, j] = base + np.arange(levels * levels).reshape(levels, levels)
            pair += 1
    return place


def counts_of(patterns: Sequence[str], weights: Sequence[int] | None = None) -> np.ndarray:
    """The counts (int64) of `patterns` of one questionnaire, each standing for `weights`
    responses (default 1)."""
    return grouped_counts(patterns, weights, np.zeros(len(patterns), dtype=np.int64), 1)[0]


def grouped_counts(
    patterns: Sequence[str], weights: Sequence[int] | None, groups, n_groups: int
) -> np.ndarray:
    """The counts (n_groups x size, int64) of `patterns` of one questionnaire (none of them
    None), pattern ``r`` standing for ``weights[r]`` responses (default 1) of group
    ``groups[r]``."""
    if not patterns:
        raise ValueError("grouped_counts needs at least one pattern to know the questionnaire")
    levels, criteria = int(patterns[0][0]), len(patterns[0]) - 1
    digits = decode(patterns)
    if digits.shape[1] != criteria or (digits > levels).any() or (digits < 0).any():
        raise ValueError("the patterns are not of one questionnaire")
    weight = np.ones(len(patterns), dtype=np.int64) if weights is None else np.asarray(weights)
    groups = np.asarray(groups, dtype=np.int64)
    width = size(criteria, levels)
    answered = (digits > 0).any(axis=1)
    flat = [groups[answered] * width]  # the first count: responses that answered something
    weights_of = [weight[answered]]
    place = _pair_places(criteria, levels)
    for i in range(criteria):
        for j in range(i, criteria):
            both = (digits[:, i] > 0) & (digits[:, j] > 0)
            if both.any():
                cells = place[i, j, digits[both, i] - 1, digits[both, j] - 1]
                flat.append(groups[both] * width + cells)
                weights_of.append(weight[both])
    out = np.bincount(
        np.concatenate(flat), weights=np.concatenate(weights_of), minlength=n_groups * width
    )
    return np.rint(out).astype(np.int64).reshape(n_groups, width)


def decode(patterns: Sequence[str]) -> np.ndarray:
    """The level digits (n x K, 0: not answered) of patterns of one questionnaire."""
    raw = np.frombuffer("".join(p[1:] for p in patterns).encode("ascii"), dtype=np.uint8)
    return (raw.astype(np.int64) - 48).reshape(len(patterns), -1)


def add(counts: bytes | None, answer_pattern: str | None, sign: int) -> bytes | None:
    """`counts` (a `pattern_half.counts` value, None for a new row) with the response of
    `answer_pattern` added (`sign` 1) or removed (-1). SQLite's triggers call it
    (`register_sqlite_functions`); PostgreSQL's do the same in PL/pgSQL (migration 0022)."""
    if not answer_pattern:
        return counts
    levels, criteria = int(answer_pattern[0]), len(answer_pattern) - 1
    if counts is None:
        total = np.zeros(size(criteria, levels), dtype=np.int64)
    else:
        total = np.frombuffer(counts, dtype=COUNTS).astype(np.int64)
    total[_cells(answer_pattern)] += int(sign)
    return total.astype(COUNTS).tobytes()


@functools.lru_cache(maxsize=4096)
def _cells(answer_pattern: str) -> np.ndarray:
    """Where one response of `answer_pattern` is counted (each place once)."""
    return np.flatnonzero(counts_of([answer_pattern]))


def register_sqlite_functions(dbapi_connection) -> None:
    """Make `add` callable from SQLite's triggers on this connection, as
    ``pattern_half_add(counts, pattern, sign)``."""
    dbapi_connection.create_function("pattern_half_add", 3, add, deterministic=True)
    dbapi_connection.create_function("answer_pattern_of", 3, _pattern_of_json, deterministic=True)


def _pattern_of_json(levels_json: str, criteria_json: str, answers_json: str | None) -> str | None:
    """`pattern` from a questionnaire's `levels` and `criteria` JSON and the response's answers
    as a JSON object {criterion: level} (SQLite's `json_group_object`)."""
    levels = [item["code"] for item in json.loads(levels_json)]
    criteria = [item["code"] for item in json.loads(criteria_json or "[]")]
    return pattern(levels, criteria, json.loads(answers_json) if answers_json else {})


def moments(
    counts: np.ndarray, columns: Sequence[int], points: Sequence[float], width: int
) -> np.ndarray:
    """The indicator score's moments of groups of responses of one questionnaire, from their
    counts (G x size, one row a group), as rows of `analysis.points.stack_moments` (the
    responses, then pairs, sums and products, `width` x `width` each), where the
    questionnaire's criterion ``i`` is the report's indicator ``columns[i]`` and its level
    ``a`` (0-based) is worth ``points[a]``."""
    counts = np.asarray(counts, dtype=float)
    groups, criteria, levels = counts.shape[0], len(columns), len(points)
    p = np.asarray(points, dtype=float)
    pairs = np.zeros((groups, width, width))
    sums = np.zeros((groups, width, width))
    products = np.zeros((groups, width, width))
    place = _pair_places(criteria, levels)
    for i in range(criteria):
        for j in range(i, criteria):
            cells = counts[:, place[i, j].ravel()].reshape(groups, levels, levels)
            n = cells.sum(axis=(1, 2))
            first = np.einsum("gab,a->g", cells, p)  # points of i, over the responses with both
            second = np.einsum("gab,b->g", cells, p)
            product = np.einsum("gab,a,b->g", cells, p, p)
            k, m = columns[i], columns[j]
            pairs[:, k, m] += n
            sums[:, k, m] += first
            products[:, k, m] += product
            if k != m:
                pairs[:, m, k] += n
                sums[:, m, k] += second
                products[:, m, k] += product
    return stack_moments(counts[:, 0], pairs, sums, products)
