"""Comparing two periods: Newcombe's hybrid score interval for a difference of rates.

References
----------
.. [1] Newcombe, R. G. (1998). Interval estimation for the difference between independent
   proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._validation import check_confidence, check_counts, check_option, output
from analysis.intervals import _wilson, interval_bounds
from analysis.target import ADJUSTMENTS, adjust_pvalues, check_deff

__all__ = ["CHANGES", "PeriodComparison", "compare_periods"]

#: Possible values of :attr:`PeriodComparison.verdict`.
CHANGES = ("improved", "declined", "no_clear_change", "no_data")


@dataclass(frozen=True)
class PeriodComparison:
    """Result of :func:`compare_periods`; fields have the broadcast shape of the inputs.

    Attributes
    ----------
    rate1, rate2 : float or ndarray
        Rates in the earlier and the later period (nan without responses).
    difference : float or ndarray
        ``rate2 - rate1``: positive means the later period is better.
    low, high : float or ndarray
        Newcombe hybrid score confidence interval for ``rate2 - rate1``.
    verdict : str or ndarray of str
        ``'improved'`` if ``low > 0``, ``'declined'`` if ``high < 0``, else
        ``'no_clear_change'``; ``'no_data'`` when either period has no responses. With
        ``adjust``, a change is also required to have an adjusted ``p_value < 1 - confidence``.
    p_value : float or ndarray
        Two-sided p-value of "no change", from the interval itself: the smallest
        ``1 - confidence`` at which the interval excludes 0 (nan without data); adjusted
        across the comparisons when ``adjust`` is given.
    confidence : float
        Confidence level.
    adjust : str or None
        Multiplicity adjustment applied to ``p_value`` and the verdict.
    """

    rate1: float | np.ndarray
    rate2: float | np.ndarray
    difference: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    verdict: str | np.ndarray
    p_value: float | np.ndarray
    confidence: float
    adjust: str | None = None


def _newcombe(x1, n1, x2, n2, confidence):
    l1, u1 = interval_bounds(x1, n1, confidence, "wilson")
    l2, u2 = interval_bounds(x2, n2, confidence, "wilson")
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, x1 / n1, np.nan)
        p2 = np.where(n2 > 0, x2 / n2, np.nan)
    d = p2 - p1
    low = d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return p1, p2, d, low, high


def _excludes_zero(x1, n1, x2, n2, z):
    """Whether the hybrid score interval with normal quantile ``z`` (an array) excludes 0."""
    n1, n2 = np.maximum(n1, 1.0), np.maximum(n2, 1.0)
    limits = []
    for x, n in ((x1, n1), (x2, n2)):
        low, high = _wilson(x, n, z, correction=False)
        low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        limits.append((np.where(x == 0, 0.0, low), np.where(x == n, 1.0, high), x / n))
    (l1, u1, p1), (l2, u2, p2) = limits
    d = p2 - p1
    low = d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return (low > 0) | (high < 0)


def _newcombe_pvalue(x1, n1, x2, n2) -> np.ndarray:
    """Two-sided p-value of "no change" read off the interval: ``2 (1 - Phi(z))`` for the
    largest normal quantile ``z`` at which the interval still excludes 0, found by bisection
    (the interval widens as ``z`` grows)."""
    lo = np.zeros(np.shape(x1))  # excludes 0 at z = 0 unless the rates are equal
    hi = np.full(np.shape(x1), 40.0)  # never excludes 0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        excludes = _excludes_zero(x1, n1, x2, n2, mid)
        lo = np.where(excludes, mid, lo)
        hi = np.where(excludes, hi, mid)
    changed = _excludes_zero(x1, n1, x2, n2, np.zeros(np.shape(x1)))
    return np.where(changed, 2.0 * stats.norm.sf(lo), 1.0)


def compare_periods(
    x1,
    n1,
    x2,
    n2,
    confidence: float = 0.95,
    adjust: str | None = None,
    deff1=None,
    deff2=None,
) -> PeriodComparison:
    """Did satisfaction change between two periods? Interval for ``rate2 - rate1``.

    Uses Newcombe's (1998) method 10, the hybrid score interval: with Wilson limits
    ``(l1, u1)`` and ``(l2, u2)`` for each period and ``d = p2 - p1``,

    ``low = d - sqrt((p2 - l2)^2 + (u1 - p1)^2)``,
    ``high = d + sqrt((u2 - p2)^2 + (p1 - l1)^2)``.

    It behaves well for small samples and for rates of 0% or 100%, where the simple Wald
    difference interval fails.

    Parameters
    ----------
    x1, n1 : array_like of int
        Satisfied and valid responses in the earlier (reference) period.
    x2, n2 : array_like of int
        Satisfied and valid responses in the later period.
    confidence : float, optional
        Confidence level, default 0.95.
    adjust : {None, 'holm', 'fdr_bh'}, optional
        Multiplicity adjustment across the comparisons that have data, as in
        :func:`analysis.assess_target`: a change is declared only when the interval excludes 0
        and the adjusted ``p_value`` is below ``1 - confidence``.
    deff1, deff2 : float or array_like, optional
        Design effects (>= 1) of the clustered responses of each period, as in
        :func:`analysis.assess_target`: each period's counts are replaced by its effective
        counts ``x / deff, n / deff`` (Kish 1965) before the interval and the p-value, so the
        change is judged on the information each period really carries. The rates and the
        difference stay the observed ones. Default: none (independent responses).

    Returns
    -------
    PeriodComparison
        Fields ``rate1, rate2, difference, low, high, verdict, p_value, confidence, adjust``.

    References
    ----------
    Newcombe (1998), Interval estimation for the difference between independent proportions:
    comparison of eleven methods, Statistics in Medicine 17, 873-890, method 10.

    Examples
    --------
    Newcombe's example (a), 56/70 against 48/80, read as "period 1 = 48/80, period 2 = 56/70":

    >>> from analysis import compare_periods
    >>> result = compare_periods(48, 80, 56, 70)
    >>> round(result.difference, 4), round(result.low, 4), round(result.high, 4)
    (0.2, 0.0524, 0.3339)
    >>> result.verdict
    'improved'
    """
    x1, n1, x2, n2, scalar = check_counts_pair(x1, n1, x2, n2)
    confidence = check_confidence(confidence)
    check_option("adjust", adjust, ADJUSTMENTS)
    try:
        deff1 = np.broadcast_to(check_deff(deff1), x1.shape)
        deff2 = np.broadcast_to(check_deff(deff2), x2.shape)
    except ValueError as error:
        if "broadcast" in str(error):
            raise ValueError("deff1 and deff2 must broadcast with the counts") from None
        raise
    has_data = (n1 > 0) & (n2 > 0)
    x1, n1, x2, n2 = x1 / deff1, n1 / deff1, x2 / deff2, n2 / deff2
    p1, p2, d, low, high = _newcombe(x1, n1, x2, n2, confidence)
    p_value = np.where(has_data, _newcombe_pvalue(x1, n1, x2, n2), np.nan)
    improved, declined = low > 0, high < 0
    if adjust is not None:
        p_value = adjust_pvalues(p_value, adjust)
        settled = p_value < 1.0 - confidence
        improved &= settled
        declined &= settled
    verdict = np.where(
        ~has_data,
        "no_data",
        np.where(improved, "improved", np.where(declined, "declined", "no_clear_change")),
    )
    return PeriodComparison(
        rate1=output(p1, scalar),
        rate2=output(p2, scalar),
        difference=output(d, scalar),
        low=output(low, scalar),
        high=output(high, scalar),
        verdict=output(verdict, scalar),
        p_value=output(p_value, scalar),
        confidence=confidence,
        adjust=adjust,
    )


def check_counts_pair(x1, n1, x2, n2):
    """Validate two periods' counts and broadcast all four arrays together."""
    a1, b1, first_scalar = check_counts(x1, n1, names=("x1", "n1"))
    a2, b2, second_scalar = check_counts(x2, n2, names=("x2", "n2"))
    try:
        a1, b1, a2, b2 = (a.copy() for a in np.broadcast_arrays(a1, b1, a2, b2))
    except ValueError:
        raise ValueError(
            f"the two periods must have broadcastable shapes; got {a1.shape} and {a2.shape}"
        ) from None
    return a1, b1, a2, b2, first_scalar and second_scalar
