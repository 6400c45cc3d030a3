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
from scipy import stats

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


def _settled(rate, target, total, confidence, method):
    low, high = interval_bounds(rate * total, total, confidence, method)
    return np.where(rate > target, low > target, high < target)


def responses_to_settle(rate, trials, target, confidence, method):
    """Extra responses after which the interval would exclude ``target`` at a constant rate.

    Vectorised exponential search (doubling the total) followed by bisection over whole
    numbers of responses, on the interval evaluated at ``rate * total`` satisfied responses
    (not rounded, so that the rate really stays constant). Assumes the interval at
    ``trials`` does not yet exclude the target. Returns :data:`RESPONSES_IMPOSSIBLE` where
    ``rate == target``, and where even ``2**50`` responses would not settle it.
    """
    rate, trials, target = np.broadcast_arrays(
        np.asarray(rate, float), np.asarray(trials, float), np.asarray(target, float)
    )
    needed = np.full(rate.shape, RESPONSES_IMPOSSIBLE, dtype=np.int64)
    todo = np.flatnonzero((rate != target) & (trials > 0))
    r, t = rate.flat[todo], target.flat[todo]
    lo = trials.flat[todo].astype(np.int64)  # not settled
    hi = 2 * lo  # settled, once the doubling below has finished
    active = np.arange(todo.size)
    while active.size:
        done = _settled(r[active], t[active], hi[active], confidence, method)
        active = active[~done]
        lo[active] = hi[active]
        hi[active] *= 2
        active = active[hi[active] <= _MAX_RESPONSES]
    found = _settled(r, t, hi, confidence, method) if todo.size else np.zeros(0, bool)
    active = np.flatnonzero(found & (hi - lo > 1))
    while active.size:
        mid = (lo[active] + hi[active]) // 2
        done = _settled(r[active], t[active], mid, confidence, method)
        hi[active] = np.where(done, mid, hi[active])
        lo[active] = np.where(done, lo[active], mid)
        active = active[hi[active] - lo[active] > 1]
    needed.flat[todo] = np.where(
        found, hi - trials.flat[todo].astype(np.int64), RESPONSES_IMPOSSIBLE
    )
    return needed


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
        into ``'inconclusive'``, never the reverse. ``responses_needed`` is then computed for
        a Bonferroni interval at confidence ``1 - alpha / m`` (``m`` agencies with data),
        which is a conservative guide.

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
    search_confidence = confidence
    if adjust is not None:
        alpha = 1.0 - confidence
        p_meets = adjust_pvalues(p_meets, adjust)
        p_below = adjust_pvalues(p_below, adjust)
        meets &= p_meets < alpha / 2.0
        below &= p_below < alpha / 2.0
        families = max(int(np.count_nonzero(has_data)), 1)
        search_confidence = 1.0 - alpha / families

    verdict = np.where(
        ~has_data, "no_data", np.where(meets, "meets", np.where(below, "below", "inconclusive"))
    )
    undecided = verdict == "inconclusive"
    needed = np.zeros(x.shape, dtype=np.int64)
    needed[~has_data] = RESPONSES_IMPOSSIBLE
    if np.any(undecided):
        needed[undecided] = responses_to_settle(
            rate[undecided], n[undecided], target[undecided], search_confidence, method
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
