"""The provincial indicator score: 0-2 points per indicator, summed to a total out of 18.

Provincial portals score each of the 9 official indicators of the one-stop questionnaire
(Không hài lòng 0, Hài lòng 1, Rất hài lòng 2 points), add the indicators' mean points into a
total out of 18 and classify it (Xuất sắc > 15, Tốt 12-15, Khá 9-12, Trung bình 6-9,
Yếu < 6). Citizens may skip indicators, so each indicator's mean is over the responses that
answered it (available cases), and the total is the sum of those means.

The interval of the total is a delta-method (linearisation) interval: the total
``T = sum_k S_k / n_k`` is a smooth function of per-response sums, its influence value for
response ``i`` is ``psi_i = sum_k a_ik (p_ik - m_k) / n_k`` (``a_ik`` = 1 when response ``i``
answered indicator ``k``), and ``Var(T) ~ n / (n - 1) * sum_i psi_i**2``, which keeps the
correlation between one citizen's answers (a citizen pleased with the attitude of the civil
servant tends to be pleased with the time taken). The interval is ``T -/+ t_{n-1} * se``,
clipped to ``[0, max]``. Its coverage, checked by simulation, is in ``docs/statistics.md``.

Everything is computed from additive moments (`ScoreMoments`): counts and cross-products of
points over pairs of indicators. Moments of agencies add up to those of their parent, so the
pooled score of a subtree needs no second pass over the answers.

References
----------
.. [1] Wolter, K. M. (2007). Introduction to Variance Estimation, 2nd ed., ch. 6 (Taylor
   series methods). Springer.
.. [2] Little, R. J. A. and Rubin, D. B. (2019). Statistical Analysis with Missing Data, 3rd
   ed., section 3.4 (available-case analysis). Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._validation import check_confidence

__all__ = [
    "DEFAULT_CLASSES",
    "IndicatorScore",
    "IndicatorScores",
    "ScoreMoments",
    "classify_score",
    "indicator_score",
    "indicator_scores",
]

#: The default classes of a total out of 18, best first: (code, lower bound, bound included?).
#: Xuất sắc > 15, Tốt 12-15, Khá 9-12 (12 is Tốt), Trung bình 6-9 (9 is Khá), Yếu < 6.
DEFAULT_CLASSES: tuple[tuple[str, float, bool], ...] = (
    ("xuat_sac", 15.0, False),
    ("tot", 12.0, True),
    ("kha", 9.0, True),
    ("trung_binh", 6.0, True),
    ("yeu", -math.inf, True),
)


@dataclass
class ScoreMoments:
    """Additive sufficient statistics of the indicator score over a set of responses.

    For indicators ``k, l`` (``K`` of them) and responses ``i``, with ``a_ik`` = 1 when ``i``
    answered ``k`` and ``p_ik`` its points:

    - ``pairs[k, l] = sum_i a_ik a_il`` (so ``pairs[k, k]`` is ``n_k``);
    - ``sums[k, l] = sum_i a_ik a_il p_ik``;
    - ``products[k, l] = sum_i a_ik a_il p_ik p_il``;
    - ``responses``: responses that answered at least one indicator.
    """

    pairs: np.ndarray
    sums: np.ndarray
    products: np.ndarray
    responses: int = 0

    @classmethod
    def empty(cls, indicators: int) -> ScoreMoments:
        shape = (indicators, indicators)
        return cls(np.zeros(shape), np.zeros(shape), np.zeros(shape), 0)

    @classmethod
    def from_points(cls, points, counts=None) -> ScoreMoments:
        """Moments of a matrix of points (one row per response or per answer pattern, one
        column per indicator, nan where the indicator was not answered); `counts` gives how
        many responses each row stands for (default 1)."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2:
            raise ValueError("points must be a 2-d array: responses by indicators")
        weights = np.ones(points.shape[0]) if counts is None else np.asarray(counts, dtype=float)
        if weights.shape != (points.shape[0],) or (weights < 0).any():
            raise ValueError("counts must be one non-negative number per row of points")
        answered = ~np.isnan(points)
        a = answered.astype(float)
        p = np.where(answered, points, 0.0)
        wa = a * weights[:, None]
        pairs = wa.T @ a
        sums = (p * weights[:, None]).T @ a
        products = (p * weights[:, None]).T @ p
        responses = int(round(weights[answered.any(axis=1)].sum()))
        return cls(pairs, sums, products, responses)

    def add(self, other: ScoreMoments) -> None:
        self.pairs = self.pairs + other.pairs
        self.sums = self.sums + other.sums
        self.products = self.products + other.products
        self.responses += other.responses

    @property
    def answers(self) -> np.ndarray:
        """``n_k``: the answers of each indicator."""
        return np.diag(self.pairs).copy()


def moments_width(indicators: int) -> int:
    """The columns of one row of `stack_moments` for `indicators` indicators."""
    return 1 + 3 * indicators * indicators


def stack_moments(responses, pairs, sums, products) -> np.ndarray:
    """The moments of G groups (`responses` of shape G, the others G x K x K) as G flat rows
    that pool by adding rows: the responses, then pairs, sums and products, each row-major.
    `unstack_moments` reads them back."""
    responses = np.asarray(responses, dtype=float)
    groups = responses.shape[0]
    return np.hstack(
        [
            responses.reshape(groups, 1),
            *(np.asarray(m, dtype=float).reshape(groups, -1) for m in (pairs, sums, products)),
        ]
    )


def unstack_moments(rows, indicators: int):
    """``(responses, pairs, sums, products)`` of `rows` laid out by `stack_moments`."""
    rows = np.asarray(rows, dtype=float)
    if rows.ndim != 2 or rows.shape[1] != moments_width(indicators):
        raise ValueError(f"each row needs {moments_width(indicators)} columns")
    k2 = indicators * indicators
    square = (rows.shape[0], indicators, indicators)
    return (
        rows[:, 0],
        rows[:, 1 : 1 + k2].reshape(square),
        rows[:, 1 + k2 : 1 + 2 * k2].reshape(square),
        rows[:, 1 + 2 * k2 :].reshape(square),
    )


@dataclass(frozen=True)
class IndicatorScore:
    """An indicator score and its interval.

    Attributes
    ----------
    means : ndarray
        Mean points of each indicator (nan for an indicator nobody answered).
    answers : ndarray
        Answers of each indicator.
    total : float
        Sum of the indicator means (nan unless every indicator was answered).
    low, high : float
        Delta-method interval of the total, within ``[0, maximum]``; nan without a total or
        with fewer than two responses.
    se : float
        Standard error of the total.
    responses : int
        Responses that answered at least one indicator.
    maximum : float
        The highest possible total.
    """

    means: np.ndarray
    answers: np.ndarray
    total: float
    low: float
    high: float
    se: float
    responses: int
    maximum: float


def indicator_score(
    moments: ScoreMoments, maximum: float, confidence: float = 0.95
) -> IndicatorScore:
    """The indicator score of `moments`: each indicator's mean points, their total and a
    delta-method interval of the total (`indicator_scores` for one set of moments).

    Parameters
    ----------
    moments : ScoreMoments
        Moments of the responses (`ScoreMoments.from_points`, added over agencies).
    maximum : float
        The highest possible total (18 for 9 indicators of 0-2 points).
    confidence : float
        Confidence level of the interval, in (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.array([[2, 1, 2], [1, 1, 2], [2, np.nan, 0], [2, 2, 2]])
    >>> s = indicator_score(ScoreMoments.from_points(pts), maximum=6)
    >>> s.means.round(3).tolist(), round(s.total, 3)
    ([1.75, 1.333, 1.5], 4.583)
    """
    found = indicator_scores(
        moments.pairs[None],
        moments.sums[None],
        moments.products[None],
        [moments.responses],
        maximum,
        confidence,
    )
    return IndicatorScore(
        found.means[0],
        found.answers[0],
        float(found.total[0]),
        float(found.low[0]),
        float(found.high[0]),
        float(found.se[0]),
        int(found.responses[0]),
        maximum,
    )


@dataclass(frozen=True)
class IndicatorScores:
    """`IndicatorScore` of many sets of moments at once (`indicator_scores`): arrays with one
    row per set (``means`` and ``answers``: sets by indicators)."""

    means: np.ndarray
    answers: np.ndarray
    total: np.ndarray
    low: np.ndarray
    high: np.ndarray
    se: np.ndarray
    responses: np.ndarray
    maximum: float


def indicator_scores(
    pairs, sums, products, responses, maximum: float, confidence: float = 0.95
) -> IndicatorScores:
    """The indicator scores of G sets of moments in one pass: a report's 5,000 agencies cost
    a few array operations and one quantile of Student's t per distinct number of responses,
    not 5,000 calls of `indicator_score`.

    Parameters
    ----------
    pairs, sums, products : array_like, shape (G, K, K)
        The `ScoreMoments` fields of each set, stacked.
    responses : array_like of int, shape (G,)
        `ScoreMoments.responses` of each set.
    maximum, confidence
        As in `indicator_score`.

    Returns
    -------
    IndicatorScores
        Row g is what `indicator_score` gives for set g: the total is nan unless every
        indicator was answered, the interval and ``se`` also with fewer than two responses.
    """
    check_confidence(confidence)
    pairs, sums, products = (np.asarray(a, dtype=float) for a in (pairs, sums, products))
    n = np.asarray(responses, dtype=np.int64)
    n_k = np.diagonal(pairs, axis1=1, axis2=2).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(
            n_k > 0, np.diagonal(sums, axis1=1, axis2=2) / np.where(n_k > 0, n_k, 1), np.nan
        )
    complete = (n_k > 0).all(axis=1) & (n_k.shape[1] > 0)
    total = np.where(complete, means.sum(axis=1), np.nan)
    spread = complete & (n >= 2)
    m = np.where(complete[:, None], means, 0.0)
    # sum_i psi_i^2 = sum_kl (B_kl - m_l A_kl - m_k A_lk + m_k m_l N_kl) / (n_k n_l)
    cross = (
        products
        - m[:, None, :] * sums
        - m[:, :, None] * sums.transpose(0, 2, 1)
        + (m[:, :, None] * m[:, None, :]) * pairs
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = (cross / (n_k[:, :, None] * n_k[:, None, :])).sum(axis=(1, 2))
        variance = scaled * n / np.where(n > 1, n - 1, 1)
    se = np.where(spread, np.sqrt(np.maximum(variance, 0.0)), np.nan)
    quantile = np.full(n.shape, np.nan)
    if spread.any():
        sizes, where = np.unique(n[spread], return_inverse=True)
        quantile[spread] = stats.t.ppf(0.5 + confidence / 2, sizes - 1)[where]
    half = quantile * se
    low = np.where(spread, np.maximum(0.0, total - half), np.nan)
    high = np.where(spread, np.minimum(maximum, total + half), np.nan)
    return IndicatorScores(means, n_k, total, low, high, se, n, maximum)


def classify_score(
    total: float,
    maximum: float = 18.0,
    classes: Sequence[tuple[str, float, bool]] = DEFAULT_CLASSES,
    scale: float = 18.0,
) -> str | None:
    """The class of a total: the first of `classes` (best first; ``(code, lower bound,
    bound included?)``) whose bound the total reaches. Bounds are on a total out of `scale`
    (18); a total out of another `maximum` is rescaled first. None for a missing total.

    >>> classify_score(15.0), classify_score(15.01), classify_score(12.0), classify_score(5.9)
    ('tot', 'xuat_sac', 'tot', 'yeu')
    """
    if total is None or math.isnan(total):
        return None
    if maximum <= 0:
        raise ValueError("maximum must be positive")
    value = total * scale / maximum
    for code, bound, included in classes:
        if value > bound or (included and value == bound):
            return code
    return classes[-1][0] if classes else None
