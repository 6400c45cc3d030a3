"""Verdicts against a satisfaction target: meets, below, or not enough evidence yet.

The verdict is two exact one-sided binomial tests at ``alpha / 2`` each, so that the chance of
a false "meets" and of a false "below" when the true rate equals the target is at most
``alpha / 2`` for every sample size and target; the interval shown beside it is the matching
Clopper-Pearson interval, which excludes the target exactly when a test rejects.

References
----------
.. [0] Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
   illustrated in the case of the binomial. Biometrika 26(4), 404-413.
.. [1] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
   comparison of seven methods. Statistics in Medicine 17, 857-872.
.. [2] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
   Scandinavian Journal of Statistics 6, 65-70.
.. [3] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a
   practical and powerful approach to multiple testing. JRSS B 57, 289-300.

One cohesive thing, the verdict against a target (the tests, their intervals, the sample
needed and the multiplicity adjustments that change them), hence over 400 lines.
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
    "CriticalCounts",
    "TargetAssessment",
    "adjust_pvalues",
    "assess_target",
    "critical_counts",
    "exact_tails",
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
        The interval that decides the verdict: the exact (Clopper-Pearson) interval at the
        one-sided level of each test, ``alpha / 2`` without adjustment; with an adjustment,
        at the level each agency's test must reach within its family (see
        :func:`assess_target`). ``low > target`` exactly when the verdict is ``'meets'`` and
        ``high < target`` exactly when it is ``'below'``.
    estimate_low, estimate_high : float or ndarray
        Confidence interval of the rate for estimation, from the requested ``method``
        (Wilson by default); it does not decide the verdict.
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
    deff : float or ndarray
        Design effect the counts were divided by (1: independent responses).
    confidence : float
        Confidence level: each one-sided test is at ``(1 - confidence) / 2``.
    method : str
        Method of the estimation interval.
    adjust : str or None
        Multiplicity adjustment applied to the p-values and the verdict.
    """

    rate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    estimate_low: float | np.ndarray
    estimate_high: float | np.ndarray
    verdict: str | np.ndarray
    p_meets: float | np.ndarray
    p_below: float | np.ndarray
    responses_needed: int | np.ndarray
    target: float | np.ndarray
    deff: float | np.ndarray
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


@dataclass(frozen=True)
class CriticalCounts:
    """Result of :func:`critical_counts`: the verdict at whole numbers of responses.

    Attributes
    ----------
    meets_from : int or ndarray of int
        The fewest satisfied responses out of ``trials`` that "meet" (``trials + 1`` if none).
    below_to : int or ndarray of int
        The most satisfied responses out of ``trials`` that are "below" (-1 if none).
    """

    meets_from: int | np.ndarray
    below_to: int | np.ndarray


def exact_tails(successes, trials, target) -> tuple[np.ndarray, np.ndarray]:
    """Exact one-sided binomial p-values ``P(X >= x)`` and ``P(X <= x)``, X ~ Bin(n, target).

    Parameters
    ----------
    successes, trials : array_like
        Counts with ``0 <= successes <= trials``; real numbers are allowed (effective counts
        divided by a design effect): the tails are continued through the regularised
        incomplete beta function, ``P(X >= x) = I_target(x, n - x + 1)`` and
        ``P(X <= x) = I_(1 - target)(n - x, x + 1)``, equal to the binomial tails at whole
        numbers (Johnson, Kemp & Kotz 2005).
    target : array_like
        The rate under the null hypothesis.

    Returns
    -------
    p_meets, p_below : ndarray
        ``P(X >= x)`` (evidence that the rate exceeds the target when small) and
        ``P(X <= x)``; nan where ``trials == 0``.

    References
    ----------
    Johnson, Kemp & Kotz (2005), Univariate Discrete Distributions, 3rd ed., section 3.8.

    Examples
    --------
    >>> from analysis.target import exact_tails
    >>> [round(float(p), 6) for p in exact_tails(95, 100, 0.8)]
    [1.9e-05, 0.999996]
    """
    x, n, t = np.broadcast_arrays(
        np.asarray(successes, float), np.asarray(trials, float), np.asarray(target, float)
    )
    tiny = 1e-300
    with np.errstate(invalid="ignore", divide="ignore"):
        meets = np.where(x > 0, special.betainc(np.maximum(x, tiny), n - x + 1.0, t), 1.0)
        below = np.where(x < n, special.betainc(np.maximum(n - x, tiny), x + 1.0, 1.0 - t), 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, meets), np.where(empty, np.nan, below)


def critical_counts(trials, target, confidence: float = 0.95) -> CriticalCounts:
    """The whole numbers of satisfied responses at which :func:`assess_target` (without
    adjustment or design effect) says "meets" or "below".

    ``meets_from`` is the smallest ``x`` with ``P(X >= x | trials, target) < alpha / 2`` and
    ``below_to`` the largest with ``P(X <= x | trials, target) < alpha / 2``, with
    ``alpha = 1 - confidence``, read from the same :func:`exact_tails` that decides. Because
    the tails are monotone in ``x``, an agency "meets" exactly when ``x >= meets_from``; the
    chance of a false "meets" when the true rate equals the target is therefore
    ``P(X >= meets_from) < alpha / 2``, and likewise for "below". The tests compute these
    probabilities exactly for every ``trials`` from 1 to 2,000 and every target from 0.50 to
    0.99.

    Parameters
    ----------
    trials : array_like of int
        Valid responses (at least 1).
    target : array_like
        Target rates strictly between 0 and 1 (broadcast with ``trials``).
    confidence : float, optional
        Default 0.95: each one-sided test at 2.5%.

    Returns
    -------
    CriticalCounts
        ``meets_from`` and ``below_to`` of the broadcast shape (Python ints for scalars).

    References
    ----------
    Clopper & Pearson (1934), Biometrika 26, 404-413 (the interval these tests invert).

    Examples
    --------
    Ten responses against 90%: no count is evidence of "meets" (10 of 10 has
    ``P = 0.9**10 = 0.35``) and "below" needs 6 or fewer satisfied:

    >>> from analysis.target import critical_counts
    >>> counts = critical_counts(10, 0.9)
    >>> counts.meets_from, counts.below_to
    (11, 6)
    """
    target = check_probability("target", target)
    x0 = np.zeros(np.broadcast_shapes(np.shape(trials), np.shape(target)))
    _x, n, t, scalar = check_counts(x0, trials, target)
    if np.any(n < 1):
        raise ValueError("trials must be at least 1")
    confidence = check_confidence(confidence)
    level = (1.0 - confidence) / 2.0
    # Start from scipy's quantiles, then step until the boundary is exact for exact_tails
    # (the quantile functions and betainc can differ in the last bit at a tie).
    meets_from = np.clip(stats.binom.isf(level, n, t) + 1.0, 0.0, n + 1.0)
    below_to = np.clip(stats.binom.ppf(level, n, t) - 1.0, -1.0, n)

    def p_meets(x):
        return np.where(x > n, 0.0, exact_tails(np.minimum(x, n), n, t)[0])

    def p_below(x):
        return np.where(x < 0, 0.0, exact_tails(np.maximum(x, 0.0), n, t)[1])

    for _ in range(4):
        meets_from += (p_meets(meets_from) >= level) & (meets_from <= n)
        meets_from -= (meets_from >= 1) & (p_meets(meets_from - 1) < level)
        below_to -= (p_below(below_to) >= level) & (below_to >= 0)
        below_to += (below_to < n) & (p_below(below_to + 1) < level)
    return CriticalCounts(
        output(meets_from.astype(np.int64), scalar), output(below_to.astype(np.int64), scalar)
    )


def exact_limits(successes, trials, level_low, level_high) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson limits with one-sided levels of their own.

    ``low`` solves ``P(X >= x | n, low) = level_low`` and ``high`` solves
    ``P(X <= x | n, high) = level_high`` (Clopper & Pearson 1934), so that ``low > t`` exactly
    when ``P(X >= x | n, t) < level_low``: the interval excludes a target exactly when the
    exact one-sided test at that level rejects. Real counts are allowed, as in
    :func:`exact_tails`. ``low = 0`` at ``x = 0`` and ``high = 1`` at ``x = n``; nan where
    ``n == 0``.
    """
    x, n, a_low, a_high = np.broadcast_arrays(
        np.asarray(successes, float),
        np.asarray(trials, float),
        np.asarray(level_low, float),
        np.asarray(level_high, float),
    )
    tiny = 1e-300
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(
            x > 0, special.betaincinv(np.maximum(x, tiny), n - x + 1.0, np.clip(a_low, 0, 1)), 0.0
        )
        high = np.where(
            x < n,
            1.0 - special.betaincinv(np.maximum(n - x, tiny), x + 1.0, np.clip(a_high, 0, 1)),
            1.0,
        )
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _family_levels(pvalues, adjust: str, level: float) -> np.ndarray:
    """The one-sided level each member's own test must pass within its family: the decision
    threshold (:func:`decision_thresholds`) for a member not rejected, and for one rejected
    under Holm (unbounded threshold) the Holm bound at its rank, which it passes."""
    p = np.atleast_1d(np.asarray(pvalues, float))
    thresholds = decision_thresholds(p, adjust, level)
    unbounded = np.isinf(thresholds)
    if unbounded.any():
        present = np.flatnonzero(~np.isnan(p))
        order = np.argsort(p[present], kind="stable")
        rank = np.empty(present.size)
        rank[order] = np.arange(1, present.size + 1)
        bound = np.full(p.shape, np.nan)
        bound[present] = level / (present.size - rank + 1)
        thresholds[unbounded] = bound[unbounded]
    return thresholds.reshape(np.shape(pvalues))


def _tail_p(rate, target, total):
    """The exact one-sided p-value in the direction of ``rate``, at ``rate * total`` satisfied
    responses (a real number: :func:`exact_tails` continues the binomial tail)."""
    meets, below = exact_tails(rate * total, total, target)
    return np.where(rate > target, meets, below)


def _settled(rate, target, total, threshold, deff):
    return _tail_p(rate, target, total / deff) < threshold


def responses_to_settle(rate, trials, target, threshold, deff=1.0):
    """Extra responses after which, at a constant rate, the exact one-sided p-value in the
    direction of the rate would fall below ``threshold`` (``alpha / 2``, or the member's
    threshold within its family under an adjustment): the rule that decides the verdict.

    Vectorised exponential search (doubling the total) followed by bisection over whole
    numbers of responses, on the tail evaluated at ``rate * total / deff`` satisfied of
    ``total / deff`` effective responses (not rounded, so that the rate really stays
    constant). Assumes the verdict at ``trials`` is not yet decided. Returns
    :data:`RESPONSES_IMPOSSIBLE` where ``rate == target``, and where even ``2**50``
    responses would not settle it.
    """
    rate, trials, target, limit, deff = np.broadcast_arrays(
        np.asarray(rate, float),
        np.asarray(trials, float),
        np.asarray(target, float),
        np.asarray(threshold, float),
        np.asarray(deff, float),
    )
    needed = np.full(rate.shape, RESPONSES_IMPOSSIBLE, dtype=np.int64)
    todo = np.flatnonzero((rate != target) & (trials > 0))
    r, t, c, d = rate.flat[todo], target.flat[todo], limit.flat[todo], deff.flat[todo]
    lo = trials.flat[todo].astype(np.int64)  # not settled
    hi = 2 * lo  # settled, once the doubling below has finished
    active = np.arange(todo.size)
    while active.size:
        done = _settled(r[active], t[active], hi[active], c[active], d[active])
        active = active[~done]
        lo[active] = hi[active]
        hi[active] *= 2
        active = active[hi[active] <= _MAX_RESPONSES]
    found = _settled(r, t, hi, c, d) if todo.size else np.zeros(0, bool)
    active = np.flatnonzero(found & (hi - lo > 1))
    while active.size:
        mid = (lo[active] + hi[active]) // 2
        done = _settled(r[active], t[active], mid, c[active], d[active])
        hi[active] = np.where(done, mid, hi[active])
        lo[active] = np.where(done, lo[active], mid)
        active = active[hi[active] - lo[active] > 1]
    needed.flat[todo] = np.where(
        found, hi - trials.flat[todo].astype(np.int64), RESPONSES_IMPOSSIBLE
    )
    return needed


def check_deff(deff) -> np.ndarray:
    """Design effects as a float array, or ValueError unless all are finite and >= 1."""
    array = np.asarray(1.0 if deff is None else deff, dtype=float)
    if not np.all(np.isfinite(array)) or np.any(array < 1.0):
        raise ValueError("deff must be finite numbers >= 1 (1: independent responses)")
    return array


def assess_target(
    successes,
    trials,
    target,
    confidence: float = 0.95,
    method: str = "wilson",
    adjust: str | None = None,
    deff=None,
) -> TargetAssessment:
    """Judge satisfaction rates against a target, honestly.

    The verdict is two exact one-sided binomial tests at ``alpha / 2 = (1 - confidence) / 2``
    each: ``'meets'`` when ``P(X >= x | n, target) < alpha / 2``, ``'below'`` when
    ``P(X <= x | n, target) < alpha / 2``, ``'inconclusive'`` otherwise (``'no_data'``
    without responses). When the true rate equals the target, a false "meets" or a false
    "below" therefore happens with probability at most ``alpha / 2`` whatever the number of
    responses and the target (the tests prove it exactly for n = 1..2,000 and targets
    0.50..0.99). The interval ``low, high`` is the matching Clopper-Pearson interval, which
    excludes the target exactly when a test rejects: the interval shown never contradicts
    the verdict. Reading an approximate interval (Wilson) as the test does not have this
    guarantee: at a 95% target and n = 11 its false "below" rate is 10.2%.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency (broadcast together).
    target : float or array_like
        Target rate strictly between 0 and 1, e.g. 0.8; scalar or one per agency.
    confidence : float, optional
        Default 0.95: each one-sided test at 2.5%.
    method : str, optional
        Method of the estimation interval ``estimate_low, estimate_high``, as in
        :func:`analysis.proportion_ci`. Default ``'wilson'``. It does not decide the verdict.
    adjust : {None, 'holm', 'fdr_bh'}, optional
        Multiplicity adjustment when many agencies are judged at once. ``p_meets`` and
        ``p_below`` are each adjusted across all agencies that have responses (Holm 1979, or
        Benjamini & Hochberg 1995), and a verdict is decided only if the adjusted exact
        p-value in its direction is below ``alpha / 2``: two families at ``alpha / 2`` each.
        Adjustment can turn a decided verdict into ``'inconclusive'``, never the reverse.
        The interval is then the Clopper-Pearson interval at the one-sided level that the
        agency's own test must pass within its family (:func:`decision_thresholds`), so it
        still excludes the target exactly when the adjusted verdict is decided.
        ``responses_needed`` follows the same rule.
    deff : float or array_like, optional
        Design effect (>= 1) of each agency's responses, e.g. from
        :func:`analysis.design_effects`: the counts are divided by it (effective sample size
        ``n / deff``, Kish 1965) before testing and before both intervals. Default: none.

    Returns
    -------
    TargetAssessment
        Fields ``rate, low, high, estimate_low, estimate_high, verdict, p_meets, p_below,
        responses_needed, target, deff, confidence, method, adjust``. Scalars in give Python
        scalars out.

    Notes
    -----
    ``responses_needed`` is the smallest number of further responses such that, if the
    observed rate held exactly, the exact one-sided p-value in the direction of the rate would
    fall below the level that decides (``alpha / 2``, or the agency's threshold within its
    family). It is 0 for decided verdicts and :data:`RESPONSES_IMPOSSIBLE` (-1) when the
    observed rate equals the target or there are no responses.

    The p-values are exact binomial tail probabilities, as
    ``scipy.stats.binomtest(x, n, target, alternative='greater' / 'less').pvalue``.

    References
    ----------
    Clopper & Pearson (1934), Biometrika 26, 404-413; Holm (1979), Scand J Statist 6, 65-70;
    Benjamini & Hochberg (1995), JRSS B 57, 289-300; Kish (1965), Survey Sampling.

    Examples
    --------
    >>> from analysis import assess_target
    >>> result = assess_target([95, 70, 30], [100, 100, 40], target=0.8)
    >>> result.verdict.tolist()
    ['meets', 'below', 'inconclusive']
    >>> result.responses_needed.tolist()
    [0, 0, 236]
    >>> round(assess_target(95, 100, 0.8).p_meets, 6)
    1.9e-05
    """
    target = check_probability("target", target)
    x, n, target, scalar = check_counts(successes, trials, target)
    confidence = check_confidence(confidence)
    check_method(method)
    check_option("adjust", adjust, ADJUSTMENTS)
    try:
        deff = np.broadcast_to(check_deff(deff), x.shape).astype(float)
    except ValueError as error:
        if "broadcast" in str(error):
            raise ValueError("deff must broadcast with the counts") from None
        raise

    has_data = n > 0
    effective_x, effective_n = x / deff, n / deff
    estimate_low, estimate_high = interval_bounds(effective_x, effective_n, confidence, method)
    rate = np.where(has_data, x / np.where(has_data, n, 1.0), np.nan)
    p_meets, p_below = exact_tails(effective_x, effective_n, target)

    level = (1.0 - confidence) / 2.0
    if adjust is None:
        level_meets = level_below = np.full(x.shape, level)
        threshold = np.full(x.shape, level)
    else:
        level_meets = _family_levels(p_meets, adjust, level)
        level_below = _family_levels(p_below, adjust, level)
        threshold = np.where(
            rate > target,
            decision_thresholds(p_meets, adjust, level),
            decision_thresholds(p_below, adjust, level),
        )
        p_meets = adjust_pvalues(p_meets, adjust)
        p_below = adjust_pvalues(p_below, adjust)
    with np.errstate(invalid="ignore"):
        meets = has_data & (p_meets < level)
        below = has_data & (p_below < level)
    low, high = exact_limits(effective_x, effective_n, level_meets, level_below)
    # A limit and its test are two floating-point evaluations of one equation; at an exact tie
    # they could disagree in the last bit. The verdict is the test's: make the limit say so.
    above = np.nextafter(target, 1.0)
    under = np.nextafter(target, 0.0)
    low = np.where(meets, np.maximum(low, above), np.where(low > target, target, low))
    high = np.where(below, np.minimum(high, under), np.where(high < target, target, high))
    low[~has_data] = high[~has_data] = np.nan

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
            threshold[undecided],
            deff[undecided],
        )
    return TargetAssessment(
        rate=output(rate, scalar),
        low=output(low, scalar),
        high=output(high, scalar),
        estimate_low=output(estimate_low, scalar),
        estimate_high=output(estimate_high, scalar),
        verdict=output(verdict, scalar),
        p_meets=output(p_meets, scalar),
        p_below=output(p_below, scalar),
        responses_needed=output(needed, scalar),
        target=output(target, scalar),
        deff=output(deff, scalar),
        confidence=confidence,
        method=method,
        adjust=adjust,
    )
