"""Funnel plot control limits and overdispersion (Spiegelhalter 2005).

References
----------
.. [1] Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
   Statistics in Medicine 24, 1185-1202.
.. [2] Spiegelhalter, D. J. (2005). Handling over-dispersion of performance indicators.
   Quality and Safety in Health Care 14, 347-351.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._validation import check_counts, check_probability

__all__ = ["FunnelLimits", "Overdispersion", "funnel_limits", "overdispersion"]


@dataclass(frozen=True)
class FunnelLimits:
    """Result of :func:`funnel_limits`.

    Attributes
    ----------
    trials : ndarray
        Numbers of responses at which the limits are evaluated (as given, as floats).
    target : float
        The target (centre line) of the funnel.
    coverages : tuple of float
        Coverage of each pair of limits, e.g. ``(0.95, 0.998)``.
    lower, upper : ndarray
        Limits as rates, shape ``(len(coverages),) + trials.shape``; row ``i`` belongs to
        ``coverages[i]``. Clamped to [0, 1]; nan where ``trials == 0``.
    """

    trials: np.ndarray
    target: float
    coverages: tuple[float, ...]
    lower: np.ndarray
    upper: np.ndarray


def _interpolated_quantile(prob, n, target):
    """Spiegelhalter (2005), Appendix A.1.1: continuous quantile of Bin(n, target) / n."""
    r = stats.binom.ppf(prob, n, target)
    at_r = stats.binom.cdf(r, n, target)
    below_r = stats.binom.cdf(r - 1, n, target)
    alpha = (at_r - prob) / (at_r - below_r)
    return (r - alpha) / n


def funnel_limits(trials, target, coverages=(0.95, 0.998)) -> FunnelLimits:
    """Exact binomial funnel plot limits around a target rate.

    For each number of responses ``n`` the limits are the ``(1 - c)/2`` and ``(1 + c)/2``
    quantiles of Binomial(n, target) divided by ``n``, with Spiegelhalter's interpolation
    between the discrete steps: if ``r`` is the smallest count with ``F(r) >= p``, the limit
    is ``(r - a) / n`` with ``a = (F(r) - p) / (F(r) - F(r - 1))``. This makes the funnel a
    smooth curve that an agency lies outside with probability close to ``1 - c``.

    Parameters
    ----------
    trials : array_like of int
        Numbers of responses (e.g. a grid from 1 to the largest agency, or each agency's n).
    target : float
        Target rate, strictly between 0 and 1.
    coverages : sequence of float, optional
        Coverage of each pair of limits, each strictly between 0 and 1. Default
        ``(0.95, 0.998)``: roughly 2 and 3 standard deviations.

    Returns
    -------
    FunnelLimits
        ``lower`` and ``upper`` of shape ``(len(coverages),) + shape(trials)``.

    References
    ----------
    Spiegelhalter (2005), Funnel plots for comparing institutional performance, Statistics in
    Medicine 24, 1185-1202, Appendix A.1.1.

    Examples
    --------
    >>> from analysis import funnel_limits
    >>> limits = funnel_limits([50, 200], target=0.8)
    >>> limits.lower.round(3)
    array([[0.673, 0.741],
           [0.601, 0.706]])
    >>> limits.upper[0].round(3)
    array([0.896, 0.852])
    """
    coverage_array = check_probability("coverages", coverages)
    if coverage_array.ndim != 1 or coverage_array.size == 0:
        raise ValueError(f"coverages must be a non-empty sequence of levels; got {coverages!r}")
    target_array = check_probability("target", target)
    if target_array.ndim != 0:
        raise ValueError(f"target must be a single rate for a funnel plot; got {target!r}")
    _, n, _ = check_counts(0, trials)
    empty = n == 0
    n_safe = np.where(empty, 1.0, n)
    tails = ((1.0 - coverage_array) / 2.0).reshape((-1,) + (1,) * n.ndim)
    t = float(target_array)
    lower = _interpolated_quantile(tails, n_safe, t)
    upper = _interpolated_quantile(1.0 - tails, n_safe, t)
    lower = np.where(empty, np.nan, np.clip(lower, 0.0, 1.0))
    upper = np.where(empty, np.nan, np.clip(upper, 0.0, 1.0))
    return FunnelLimits(
        trials=n,
        target=t,
        coverages=tuple(float(c) for c in coverage_array),
        lower=lower,
        upper=upper,
    )


@dataclass(frozen=True)
class Overdispersion:
    """Result of :func:`overdispersion`.

    Attributes
    ----------
    phi : float
        Overdispersion factor: mean squared (winsorised) z-score. About 1 when agencies differ
        only by chance; clearly above 1 when they genuinely differ.
    p_value : float
        Chi-square p-value for H0: no overdispersion (``units * phi`` against chi-square with
        ``df`` degrees of freedom).
    tau2 : float
        Additive random-effects variance (on the rate scale, squared); 0 if ``phi`` does not
        exceed what chance explains.
    target : float
        Rate the z-scores are centred on (the pooled rate when none was given).
    units : int
        Number of agencies with responses that entered the computation.
    df : int
        Degrees of freedom: ``units`` for an external target, ``units - 1`` for the pooled rate.
    """

    phi: float
    p_value: float
    tau2: float
    target: float
    units: int
    df: int


def overdispersion(successes, trials, target=None) -> Overdispersion:
    """Test whether agencies differ more than chance allows (Spiegelhalter 2005).

    With ``s_i = sqrt(t (1 - t) / n_i)`` and z-scores ``z_i = (y_i - t) / s_i``, the z-scores
    are winsorised at 10% (the lowest and highest 10% are set to the 10th and 90th
    percentiles, so that a few outliers do not inflate the estimate), and
    ``phi = sum(z_i^2) / I``. ``I phi`` is compared with a chi-square distribution. The
    additive random-effects variance is
    ``tau2 = (I phi - (I - 1)) / (sum(w_i) - sum(w_i^2) / sum(w_i))`` with ``w_i = 1 / s_i^2``,
    floored at 0.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency; agencies without responses are skipped.
    target : float, optional
        Centre of the funnel. Default: the pooled rate ``sum(successes) / sum(trials)``.

    Returns
    -------
    Overdispersion
        Fields ``phi, p_value, tau2, target, units, df``.

    Raises
    ------
    ValueError
        For invalid counts or target, fewer than two agencies with responses, or a pooled
        rate of exactly 0 or 1 (no variation to measure).

    References
    ----------
    Spiegelhalter (2005), Statistics in Medicine 24, 1185-1202, section 6; Spiegelhalter
    (2005), Quality and Safety in Health Care 14, 347-351.

    Examples
    --------
    >>> from analysis import overdispersion
    >>> result = overdispersion([40, 45, 90, 160], [50, 60, 100, 200])
    >>> round(result.phi, 3), round(result.tau2, 5), result.df
    (0.936, 0.00041, 3)
    """
    x, n, _ = check_counts(successes, trials)
    keep = n > 0
    x, n = x[keep], n[keep]
    units = int(x.size)
    if units < 2:
        raise ValueError("overdispersion needs at least two agencies with responses")
    if target is None:
        t = float(x.sum() / n.sum())
        if t in (0.0, 1.0):
            raise ValueError("overdispersion needs a pooled rate strictly between 0 and 1")
        df = units - 1
    else:
        t = float(check_probability("target", target))
        df = units
    variance = t * (1.0 - t) / n
    z = (x / n - t) / np.sqrt(variance)
    z = np.clip(z, *np.percentile(z, [10.0, 90.0]))
    phi = float(np.mean(z**2))
    p_value = float(stats.chi2.sf(units * phi, df))
    w = 1.0 / variance
    tau2 = max((units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum()), 0.0)
    return Overdispersion(phi=phi, p_value=p_value, tau2=float(tau2), target=t, units=units, df=df)
