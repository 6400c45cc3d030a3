"""Verdicts against a satisfaction target: meets, below, or not enough evidence yet.

References
----------
.. [1] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
   comparison of seven methods. Statistics in Medicine 17, 857-872.
.. [2] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
   Scandinavian Journal of Statistics 6, 65-70.
.. [3] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a
   practical and powerful approach to multiple testing. JRSS B 57, 289-300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from analysis._validation import (
    check_confidence,
    check_counts,
    check_option,
    check_probability,
    output,
)
from analysis.intervals import check_method, interval_bounds

__all__ = [
    "ADJUSTMENTS",
    "RESPONSES_IMPOSSIBLE",
    "VERDICTS",
    "TargetAssessment",
    "adjust_pvalues",
    "assess_target",
]

#: Possible values of :attr:`TargetAssessment.verdict`.
VERDICTS = ("meets", "below", "inconclusive", "no_data")

#: Values accepted for ``adjust``.
ADJUSTMENTS = (None, "holm", "fdr_bh")

#: ``responses_needed`` when no number of further responses at the observed rate can settle
#: the verdict: the observed rate equals the target exactly, or there are no responses yet.
RESPONSES_IMPOSSIBLE = -1

# Projections stop beyond this many responses (far past any real agency) and report
# RESPONSES_IMPOSSIBLE rather than loop on a rate a hair away from the target.
_MAX_RESPONSES = 2**50


@dataclass(frozen=True)
class TargetAssessment:
    """Result of :func:`assess_target`; every field has the broadcast shape of the inputs.

    Attributes
    ----------
    rate : float or ndarray
        Observed rate ``successes / trials`` (nan without responses).
    low, high : float or ndarray
        Confidence interval of the rate, from the requested ``method``.
    verdict : str or ndarray of str
        ``'meets'``, ``'below'``, ``'inconclusive'`` or ``'no_data'`` (see :data:`VERDICTS`).
    p_meets : float or ndarray
        Exact one-sided binomial p-value ``P(X >= x | n, target)`` for H1: rate > target;
        adjusted across agencies when ``adjust`` is given.
    p_below : float or ndarray
        Exact one-sided binomial p-value ``P(X <= x | n, target)`` for H1: rate < target;
        adjusted across agencies when ``adjust`` is given.
    responses_needed : int or ndarray of int
        Further responses that would settle an inconclusive verdict if the observed rate held;
        0 when already decided; :data:`RESPONSES_IMPOSSIBLE` (-1) when no number would.
    target : float or ndarray
        The target used.
    confidence : float
        Confidence level of the interval.
    method : str
        Interval method.
    adjust : str or None
        Multiplicity adjustment applied to the p-values and the verdict.
    """

    rate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    verdict: str | np.ndarray
    p_meets: float | np.ndarray
    p_below: float | np.ndarray
    responses_needed: int | np.ndarray
    target: float | np.ndarray
    confidence: float
    method: str
    adjust: str | None


def adjust_pvalues(pvalues, method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values; nan entries are left out of the family.

    Parameters
    ----------
    pvalues : array_like
        Raw p-values of any shape; the family is all non-nan entries.
    method : {'holm', 'fdr_bh'}
        Holm (1979) step-down family-wise error control, or Benjamini & Hochberg (1995)
        false discovery rate control. Same names and results as
        ``statsmodels.stats.multitest.multipletests``.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape, nan where the input was nan.

    References
    ----------
    Holm (1979), Scand J Statist 6, 65-70; Benjamini & Hochberg (1995), JRSS B 57, 289-300.

    Examples
    --------
    >>> from analysis.target import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(2)
    array([0.03, 0.06, 0.06])
    >>> adjust_pvalues([0.01, 0.04, 0.03], "fdr_bh").round(2)
    array([0.03, 0.04, 0.04])
    """
    check_option("method", method, ADJUSTMENTS[1:])
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    present = ~np.isnan(p)
    values = p[present]
    m = values.size
    if m == 0:
        return adjusted
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        ranked = np.maximum.accumulate(np.minimum((m - rank + 1) * ranked, 1.0))
    else:
        ranked = np.minimum.accumulate((m / rank * ranked)[::-1])[::-1]
        ranked = np.minimum(ranked, 1.0)
    result = np.empty(m)
    result[order] = ranked
    adjusted[present] = result
    return adjusted


def decision_thresholds(pvalues, method: str, level: float) -> np.ndarray:
    """For each p-value of a family, the raw p-value under which its adjusted p-value would
    fall below ``level``, every other member held fixed.

    Parameters
    ----------
    pvalues : array_like
        Raw p-values (1-D); nan entries are not in the family and get nan.
    method : {'holm', 'fdr_bh'}
        The adjustment, as in :func:`adjust_pvalues`.
    level : float
        The significance level the adjusted p-value is compared with (strictly).

    Returns
    -------
    ndarray
        ``t`` such that a member not rejected now would be rejected exactly when its raw
        p-value fell below ``t[i]`` (the others unchanged); ``inf`` for a member rejected now
        under Holm (any smaller p-value stays rejected). This is what "rejected after
        adjustment" means for one member whose evidence grows: :func:`assess_target` uses it
        for ``responses_needed``.

    Notes
    -----
    Holm: with the others' p-values sorted, a member placed at rank ``r`` is rejected when
    every member ahead of it is (the running maximum of ``(m - j + 1) q_j`` stays below
    ``level``) and ``(m - r + 1) p < level``; the threshold is the largest ``p`` over the ranks
    that allow it. Benjamini-Hochberg: the member is rejected when, for some ``k``,
    ``p < k level / m`` and at least ``k - 1`` others are below ``k level / m``. Both are exact
    for the step-down and step-up procedures of :func:`adjust_pvalues` (ties aside).

    Examples
    --------
    The first p-value is rejected already; the others would be below 0.025 (Holm's
    ``2 p < 0.05`` once the first is rejected):

    >>> from analysis.target import decision_thresholds
    >>> decision_thresholds([0.001, 0.2, 0.03], "holm", 0.05).round(4)
    array([  inf, 0.025, 0.025])
    """
    check_option("method", method, ADJUSTMENTS[1:])
    shape = np.shape(pvalues)
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m == 0:
        return out.reshape(shape)
    order = np.argsort(p[present], kind="stable")
    s = p[present][order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        bound = level / (m - rank + 1)  # the bound at rank r
        ahead = np.concatenate(([0.0], np.maximum.accumulate((m - rank + 1) * s)[:-1]))
        lower = np.concatenate(([0.0], s[:-1]))  # the value ranked just ahead
        # Ranks r <= k (the member's own position, 0-based k) with the others s[:r-1] ahead.
        usable = (ahead < level) & (lower < bound)
        best = np.maximum.accumulate(np.where(usable, np.minimum(s, bound), 0.0))
        # At its own rank k + 1 the member may grow up to the next value s[k + 1].
        following = np.concatenate((s[1:], [np.inf]))
        own = np.where(usable, np.minimum(following, bound), 0.0)
        before = np.concatenate(([0.0], best[:-1]))
        threshold = np.maximum(before, own)
        # Members rejected now stay rejected at any smaller p-value: no bound applies.
        threshold[np.maximum.accumulate((m - rank + 1) * s) < level] = np.inf
    else:
        t = rank * level / m
        below = np.searchsorted(s, t, side="left")  # members strictly below t_k
        everyone = np.flatnonzero(below >= rank)
        shared = t[everyone[-1]] if everyone.size else 0.0
        # k that work only without the member itself: k - 1 others below t_k, member above.
        alone = np.maximum.accumulate(np.where(below >= rank - 1, rank, 0))
        fits = np.searchsorted(t, s, side="right")  # how many t_k <= the member's own p
        k = np.where(fits > 0, alone[np.maximum(fits - 1, 0)], 0)
        threshold = np.maximum(shared, np.where(k > 0, t[np.maximum(k - 1, 0)], 0.0))
    result = np.empty(m)
    result[order] = threshold
    out[present] = result
    return out.reshape(shape)


def _tail_p(rate, target, total):
    """The exact one-sided p-value in the direction of ``rate``, at ``rate * total`` satisfied
    responses (a real number: the regularised incomplete beta continues the binomial tail)."""
    x = rate * total
    with np.errstate(invalid="ignore", divide="ignore"):
        meets = np.where(x > 0, special.betainc(np.maximum(x, 1e-300), total - x + 1, target), 1.0)
        below = np.where(
            x < total, special.betainc(np.maximum(total - x, 1e-300), x + 1, 1 - target), 1.0
        )
    return np.where(rate > target, meets, below)


def _settled(rate, target, total, confidence, method, threshold=None):
    low, high = interval_bounds(rate * total, total, confidence, method)
    settled = np.where(rate > target, low > target, high < target)
    if threshold is not None:
        settled &= _tail_p(rate, target, total) < threshold
    return settled


def responses_to_settle(rate, trials, target, confidence, method, threshold=None):
    """Extra responses after which the interval would exclude ``target`` at a constant rate
    (and, given ``threshold``, the exact one-sided p-value would fall below it).

    Vectorised exponential search (doubling the total) followed by bisection over whole
    numbers of responses, on the interval evaluated at ``rate * total`` satisfied responses
    (not rounded, so that the rate really stays constant). Assumes the interval at
    ``trials`` does not yet exclude the target. Returns :data:`RESPONSES_IMPOSSIBLE` where
    ``rate == target``, and where even ``2**50`` responses would not settle it.
    """
    rate, trials, target = np.broadcast_arrays(
        np.asarray(rate, float), np.asarray(trials, float), np.asarray(target, float)
    )
    limit = None if threshold is None else np.broadcast_to(np.asarray(threshold, float), rate.shape)
    needed = np.full(rate.shape, RESPONSES_IMPOSSIBLE, dtype=np.int64)
    todo = np.flatnonzero((rate != target) & (trials > 0))
    r, t = rate.flat[todo], target.flat[todo]
    c = None if limit is None else limit.flat[todo]
    lo = trials.flat[todo].astype(np.int64)  # not settled
    hi = 2 * lo  # settled, once the doubling below has finished
    active = np.arange(todo.size)
    while active.size:
        done = _settled(r[active], t[active], hi[active], confidence, method, _at(c, active))
        active = active[~done]
        lo[active] = hi[active]
        hi[active] *= 2
        active = active[hi[active] <= _MAX_RESPONSES]
    found = _settled(r, t, hi, confidence, method, c) if todo.size else np.zeros(0, bool)
    active = np.flatnonzero(found & (hi - lo > 1))
    while active.size:
        mid = (lo[active] + hi[active]) // 2
        done = _settled(r[active], t[active], mid, confidence, method, _at(c, active))
        hi[active] = np.where(done, mid, hi[active])
        lo[active] = np.where(done, lo[active], mid)
        active = active[hi[active] - lo[active] > 1]
    needed.flat[todo] = np.where(
        found, hi - trials.flat[todo].astype(np.int64), RESPONSES_IMPOSSIBLE
    )
    return needed


def _at(values, index):
    return None if values is None else values[index]


def assess_target(
    successes,
    trials,
    target,
    confidence: float = 0.95,
    method: str = "wilson",
    adjust: str | None = None,
) -> TargetAssessment:
    """Judge satisfaction rates against a target, honestly.

    The verdict comes from the same confidence interval that is shown: ``'meets'`` if the
    lower limit is above the target, ``'below'`` if the upper limit is under it, and
    ``'inconclusive'`` otherwise (``'no_data'`` without responses).

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency (broadcast together).
    target : float or array_like
        Target rate strictly between 0 and 1, e.g. 0.8; scalar or one per agency.
    confidence : float, optional
        Confidence level of the interval. Default 0.95.
    method : str, optional
        Interval method, as in :func:`analysis.proportion_ci`. Default ``'wilson'``.
    adjust : {None, 'holm', 'fdr_bh'}, optional
        Multiplicity adjustment when many agencies are judged at once. With ``alpha = 1 -
        confidence``, ``p_meets`` and ``p_below`` are each adjusted across all agencies that
        have responses (Holm 1979, or Benjamini & Hochberg 1995), and a verdict is decided
        only if the interval decides it *and* the adjusted exact p-value in that direction is
        below ``alpha / 2``. The two directions are two families at ``alpha / 2`` each, so the
        chance of any false "meets" or "below" stays below ``alpha`` (Holm) or the expected
        share of false verdicts below ``alpha`` (BH). Adjustment can turn a decided verdict
        into ``'inconclusive'``, never the reverse. ``responses_needed`` then follows the
        same rule: the responses after which, at the observed rate and with the other
        agencies unchanged, both the interval and the adjusted p-value would decide
        (:func:`decision_thresholds`).

    Returns
    -------
    TargetAssessment
        Fields ``rate, low, high, verdict, p_meets, p_below, responses_needed, target,
        confidence, method, adjust``. Scalars in give Python scalars out.

    Notes
    -----
    ``responses_needed`` is the smallest number of further responses such that, if the
    observed rate held exactly, the interval would exclude the target. It is 0 for decided
    verdicts and :data:`RESPONSES_IMPOSSIBLE` (-1) when the observed rate equals the target
    (no sample size would separate them) or there are no responses.

    The p-values are exact binomial tail probabilities, as
    ``scipy.stats.binomtest(x, n, target, alternative='greater' / 'less').pvalue``. Because the
    default Wilson interval is not the exact test, a p-value can sit slightly either side of
    ``alpha / 2`` when the interval verdict is borderline; the verdict follows the interval.

    References
    ----------
    Newcombe (1998), Statistics in Medicine 17, 857-872; Holm (1979), Scand J Statist 6,
    65-70; Benjamini & Hochberg (1995), JRSS B 57, 289-300.

    Examples
    --------
    >>> from analysis import assess_target
    >>> result = assess_target([95, 70, 30], [100, 100, 40], target=0.8)
    >>> result.verdict.tolist()
    ['meets', 'below', 'inconclusive']
    >>> result.responses_needed.tolist()
    [0, 0, 206]
    >>> round(assess_target(95, 100, 0.8).p_meets, 6)
    1.9e-05
    """
    target = check_probability("target", target)
    x, n, target, scalar = check_counts(successes, trials, target)
    confidence = check_confidence(confidence)
    check_method(method)
    check_option("adjust", adjust, ADJUSTMENTS)

    has_data = n > 0
    low, high = interval_bounds(x, n, confidence, method)
    rate = np.where(has_data, x / np.where(has_data, n, 1.0), np.nan)
    p_meets = np.where(has_data, stats.binom.sf(x - 1, n, target), np.nan)
    p_below = np.where(has_data, stats.binom.cdf(x, n, target), np.nan)

    meets = low > target
    below = high < target
    threshold = None
    if adjust is not None:
        level = (1.0 - confidence) / 2.0
        threshold = np.where(
            rate > target,
            decision_thresholds(p_meets, adjust, level),
            decision_thresholds(p_below, adjust, level),
        )
        p_meets = adjust_pvalues(p_meets, adjust)
        p_below = adjust_pvalues(p_below, adjust)
        meets &= p_meets < level
        below &= p_below < level

    verdict = np.where(
        ~has_data, "no_data", np.where(meets, "meets", np.where(below, "below", "inconclusive"))
    )
    undecided = verdict == "inconclusive"
    needed = np.zeros(x.shape, dtype=np.int64)
    needed[~has_data] = RESPONSES_IMPOSSIBLE
    if np.any(undecided):
        needed[undecided] = responses_to_settle(
            rate[undecided],
            n[undecided],
            target[undecided],
            confidence,
            method,
            None if threshold is None else threshold[undecided],
        )
    return TargetAssessment(
        rate=output(rate, scalar),
        low=output(low, scalar),
        high=output(high, scalar),
        verdict=output(verdict, scalar),
        p_meets=output(p_meets, scalar),
        p_below=output(p_below, scalar),
        responses_needed=output(needed, scalar),
        target=output(target, scalar),
        confidence=confidence,
        method=method,
        adjust=adjust,
    )
