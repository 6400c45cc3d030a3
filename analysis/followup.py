"""A probability follow-up sample that checks self-selected ratings.

Self-selected ratings (citizens who chose to scan the code) are biased when the choice
depends on satisfaction. A stratified simple random sample of returned dossiers, called
back, estimates the same rate without that choice (up to its own nonresponse). This module
allocates the sample over strata, estimates the stratified rate, compares it with the
self-selected rate, and simulates the comparison's power.

References
----------
.. [1] Cochran, W. G. (1977). Sampling Techniques, 3rd ed., Wiley: ch. 5 (stratified random
   sampling, proportional allocation, variance of the stratified proportion).
.. [2] Newcombe, R. G. (1998). Interval estimation for the difference between independent
   proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._validation import check_confidence
from analysis.compare import compare_periods

__all__ = [
    "SelectionCheck",
    "StratifiedRate",
    "allocate",
    "selection_check",
    "selection_check_power",
    "stratified_rate",
]


def allocate(population, size: int) -> np.ndarray:
    """Proportional allocation of `size` draws over strata of `population` sizes.

    ``n_h = size * N_h / N`` rounded by largest remainder (Hamilton's method), so that the
    parts add up to ``min(size, N)`` exactly; no stratum gets more than it holds (the excess
    goes to the largest remainders of the others). Deterministic: ties go to the earlier
    stratum.

    >>> allocate([500, 300, 200], 10).tolist()
    [5, 3, 2]
    >>> allocate([5, 1000], 10).tolist()
    [0, 10]
    """
    sizes = np.asarray(population, dtype=np.int64)
    if sizes.ndim != 1 or np.any(sizes < 0):
        raise ValueError("population must be a 1-d array of non-negative stratum sizes")
    if size < 0 or int(size) != size:
        raise ValueError("size must be a non-negative whole number")
    total = int(sizes.sum())
    size = min(int(size), total)
    if size == 0:
        return np.zeros_like(sizes)
    quotas = sizes * size / total
    parts = np.floor(quotas).astype(np.int64)
    remainders = quotas - parts
    left = size - int(parts.sum())
    order = np.lexsort((np.arange(len(sizes)), -remainders))
    for index in order:
        if left == 0:
            break
        if parts[index] < sizes[index]:
            parts[index] += 1
            left -= 1
    return parts


@dataclass(frozen=True)
class StratifiedRate:
    """Result of :func:`stratified_rate`: the estimate, its standard error and a normal
    interval (clamped to [0, 1])."""

    estimate: float
    se: float
    low: float
    high: float
    confidence: float


def stratified_rate(satisfied, answered, population, confidence: float = 0.95) -> StratifiedRate:
    """Stratified estimate of a proportion (Cochran 1977, 5.3):

    ``p = sum W_h p_h`` with ``W_h = N_h / N`` over strata with answers, and
    ``var = sum W_h^2 (1 - f_h) p_h (1 - p_h) / (n_h - 1)`` with ``f_h = n_h / N_h``.

    Strata without answers are left out and the weights renormalised (nonresponse is
    assumed ignorable within a stratum). A stratum with a single answer adds no variance
    term (it cannot be estimated); say so when reporting.
    """
    x = np.asarray(satisfied, dtype=float)
    n = np.asarray(answered, dtype=float)
    big_n = np.asarray(population, dtype=float)
    confidence = check_confidence(confidence)
    if np.any(x > n) or np.any(n > big_n) or np.any(x < 0):
        raise ValueError("need 0 <= satisfied <= answered <= population in every stratum")
    used = n > 0
    if not used.any():
        return StratifiedRate(np.nan, np.nan, np.nan, np.nan, confidence)
    weights = big_n[used] / big_n[used].sum()
    p = x[used] / n[used]
    estimate = float(np.sum(weights * p))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(
            n[used] > 1,
            weights**2 * (1 - n[used] / big_n[used]) * p * (1 - p) / (n[used] - 1),
            0.0,
        )
    se = float(np.sqrt(terms.sum()))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return StratifiedRate(
        estimate,
        se,
        float(max(0.0, estimate - z * se)),
        float(min(1.0, estimate + z * se)),
        confidence,
    )


@dataclass(frozen=True)
class SelectionCheck:
    """Result of :func:`selection_check`.

    Attributes
    ----------
    self_rate, followup_rate : float
        The self-selected and the follow-up rate (nan without answers).
    difference, low, high : float
        ``self_rate - followup_rate`` with Newcombe's hybrid score interval.
    differs : bool
        True when the interval excludes 0: the two differ beyond chance.
    """

    self_rate: float
    followup_rate: float
    difference: float
    low: float
    high: float
    differs: bool
    confidence: float


def selection_check(
    x_self: int, n_self: int, x_followup: int, n_followup: int, confidence: float = 0.95
) -> SelectionCheck:
    """Do the self-selected ratings of an agency differ from its follow-up sample?

    The test: Newcombe's (1998, method 10) hybrid score interval for the difference of two
    independent proportions, self-selected minus follow-up; they "differ beyond chance" when
    the interval excludes 0 (a two-sided test at level ``1 - confidence``). Treating the
    two as independent is an approximation: a sampled dossier may also have rated through
    its ticket; with samples small against the agency's dossiers the overlap is small.

    >>> check = selection_check(190, 200, 70, 90)
    >>> round(check.difference, 3), check.differs
    (0.172, True)
    """
    comparison = compare_periods(x_followup, n_followup, x_self, n_self, confidence)
    differs = bool(np.isfinite(comparison.low) and (comparison.low > 0 or comparison.high < 0))
    return SelectionCheck(
        self_rate=float(comparison.rate2),
        followup_rate=float(comparison.rate1),
        difference=float(comparison.difference),
        low=float(comparison.low),
        high=float(comparison.high),
        differs=differs,
        confidence=confidence,
    )


def self_selected_rate(true_rate: float, ratio: float) -> float:
    """The rate self-selected ratings show when dissatisfied citizens are `ratio` times as
    likely to rate as satisfied ones (ratio < 1: satisfied ones more likely, e.g. steered).

    >>> round(self_selected_rate(0.9, 2.0), 4), round(self_selected_rate(0.9, 1 / 3), 4)
    (0.8182, 0.9643)
    """
    return true_rate / (true_rate + ratio * (1 - true_rate))


def selection_check_power(
    true_rate: float,
    ratio: float,
    n_self: int,
    n_followup: int,
    reps: int = 4000,
    confidence: float = 0.95,
    seed: int = 15,
) -> float:
    """Simulated power of :func:`selection_check`: the share of `reps` simulated agencies
    flagged when self-selected ratings come from :func:`self_selected_rate` and the
    follow-up answers from the true rate (nonresponse to the follow-up taken as ignorable)."""
    rng = np.random.default_rng(seed)
    shown = self_selected_rate(true_rate, ratio)
    x_self = rng.binomial(n_self, shown, size=reps)
    x_follow = rng.binomial(n_followup, true_rate, size=reps)
    comparison = compare_periods(x_follow, n_followup, x_self, n_self, confidence)
    flagged = (comparison.low > 0) | (comparison.high < 0)
    return float(np.mean(flagged))
