"""Confidence intervals for a binomial proportion (a satisfaction rate).

References
----------
.. [1] Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a binomial
   proportion. Statistical Science 16(2), 101-133.
.. [2] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
   comparison of seven methods. Statistics in Medicine 17, 857-872.
.. [3] Agresti, A. and Coull, B. A. (1998). Approximate is better than "exact" for interval
   estimation of binomial proportions. The American Statistician 52(2), 119-126.
.. [4] Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
   illustrated in the case of the binomial. Biometrika 26(4), 404-413.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import special, stats
from scipy.optimize import elementwise

from analysis._validation import check_confidence, check_counts, check_option, output

__all__ = ["METHODS", "ConfidenceInterval", "LegacyMethodWarning", "proportion_ci"]

#: Interval methods accepted by :func:`proportion_ci` (and every function that takes ``method``).
METHODS = (
    "wilson",
    "wilson_cc",
    "jeffreys",
    "clopper_pearson",
    "agresti_coull",
    "mid_p",
    "wald",
)


class LegacyMethodWarning(UserWarning):
    """Warns that a legacy interval method (Wald) was requested.

    The Wald interval ``p +/- z sqrt(p(1-p)/n)`` is offered only so that old reports can be
    reproduced: its coverage is erratic and far below nominal for small samples or rates near
    0 or 1 (Brown, Cai & DasGupta 2001).
    """


@dataclass(frozen=True)
class ConfidenceInterval:
    """A confidence interval ``[low, high]``; unpacks as ``low, high = ci``.

    Attributes
    ----------
    low, high : float or ndarray
        Lower and upper limits, within [0, 1]; nan where there were no responses.
    """

    low: float | np.ndarray
    high: float | np.ndarray

    def __iter__(self) -> Iterator[float | np.ndarray]:
        yield self.low
        yield self.high


def z_value(confidence: float) -> float:
    """Standard normal quantile for a two-sided interval at ``confidence``."""
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _wilson(x, n, z, correction):
    p = x / n
    q = 1.0 - p
    denom = 2.0 * (n + z**2)
    centre = (2.0 * n * p + z**2) / denom
    if not correction:
        delta = z / denom * np.sqrt(4.0 * n * p * q + z**2)
        return centre - delta, centre + delta
    # Newcombe (1998a), method 4: Wilson score interval with continuity correction.
    rad_low = np.maximum(z**2 - 2.0 - 1.0 / n + 4.0 * p * (n * q + 1.0), 0.0)
    rad_high = np.maximum(z**2 + 2.0 - 1.0 / n + 4.0 * p * (n * q - 1.0), 0.0)
    low = centre - (1.0 + z * np.sqrt(rad_low)) / denom
    high = centre + (1.0 + z * np.sqrt(rad_high)) / denom
    return low, high


def _beta_limits(x, n, alpha, a_low, b_low, a_high, b_high):
    # Quantiles of Beta posteriors / the Clopper-Pearson beta relation; a parameter of 0
    # (x = 0 or x = n) means the limit is exactly 0 or 1, so feed safe values there.
    low = stats.beta.ppf(alpha / 2.0, np.where(x > 0, a_low, 1.0), b_low)
    high = stats.beta.ppf(1.0 - alpha / 2.0, a_high, np.where(x < n, b_high, 1.0))
    return low, high


def _midp_upper_tail(p, x, n):
    """P(X > x) + P(X = x) / 2 for X ~ Bin(n, p), continuous in real ``x`` via betainc."""
    at_least = special.betainc(np.maximum(x, 1e-300), n - x + 1.0, p)
    at_least = np.where(x > 0, at_least, 1.0)
    more = special.betainc(x + 1.0, np.maximum(n - x, 1e-300), p)
    more = np.where(x < n, more, 0.0)
    return 0.5 * (at_least + more)


def _mid_p(x, n, alpha):
    def solve(level):
        result = elementwise.find_root(
            lambda p, x, n, level: _midp_upper_tail(p, x, n) - level,
            (np.zeros_like(x), np.ones_like(x)),
            args=(x, n, np.full_like(x, level)),
            tolerances={"xatol": 1e-13, "xrtol": 1e-13},
        )
        return result.x

    return solve(alpha / 2.0), solve(1.0 - alpha / 2.0)


def interval_bounds(
    x: np.ndarray, n: np.ndarray, confidence: float, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Interval limits for already validated float arrays, without warnings.

    This is the shared engine behind :func:`proportion_ci`, :func:`analysis.assess_target`
    (which evaluates it at non-integer counts when projecting ``responses_needed``) and
    :func:`analysis.weighted_rate` (Wilson on a Kish effective sample size). ``x`` may be
    any real number in ``[0, n]``. Limits are clamped to [0, 1] and are nan where ``n == 0``.
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    empty = n == 0
    # Most calls have no empty agencies: skip the masking passes over large arrays then.
    any_empty = bool(empty.any())
    n_safe = np.where(empty, 1.0, n) if any_empty else n
    x_safe = np.where(empty, 0.0, x) if any_empty else x
    alpha = 1.0 - confidence
    z = z_value(confidence)
    if method in ("wilson", "wilson_cc"):
        low, high = _wilson(x_safe, n_safe, z, correction=method == "wilson_cc")
    elif method == "jeffreys":
        a, b = x_safe + 0.5, n_safe - x_safe + 0.5
        low, high = _beta_limits(x_safe, n_safe, alpha, a, b, a, b)
    elif method == "clopper_pearson":
        low, high = _beta_limits(
            x_safe, n_safe, alpha, x_safe, n_safe - x_safe + 1.0, x_safe + 1.0, n_safe - x_safe
        )
    elif method == "agresti_coull":
        n_tilde = n_safe + z**2
        p_tilde = (x_safe + z**2 / 2.0) / n_tilde
        half = z * np.sqrt(p_tilde * (1.0 - p_tilde) / n_tilde)
        low, high = p_tilde - half, p_tilde + half
    elif method == "mid_p":
        low, high = _mid_p(x_safe, n_safe, alpha)
    elif method == "wald":
        p = x_safe / n_safe
        half = z * np.sqrt(p * (1.0 - p) / n_safe)
        low, high = p - half, p + half
    else:  # pragma: no cover - callers validate ``method`` first
        raise AssertionError(method)
    # Every method except Wald and Agresti-Coull reaches 0 at x = 0 and 1 at x = n exactly;
    # set them so that rounding never leaves 1e-17 or 0.99999999. (Brown, Cai & DasGupta
    # 2001, section 4.1.2, prescribe this for Jeffreys.)
    low, high = np.asarray(np.clip(low, 0.0, 1.0)), np.asarray(np.clip(high, 0.0, 1.0))
    if method not in ("wald", "agresti_coull"):
        low[x_safe == 0] = 0.0
        high[x_safe == n_safe] = 1.0
    if any_empty:
        low[empty] = np.nan
        high[empty] = np.nan
    return low, high


def check_method(method: str) -> None:
    """Raise ValueError for an unknown method; warn for the legacy Wald interval."""
    check_option("method", method, METHODS)
    if method == "wald":
        warnings.warn(
            "the Wald interval is a legacy method with poor coverage for small samples and "
            "rates near 0% or 100%; use 'wilson' (the default) unless reproducing old reports",
            LegacyMethodWarning,
            stacklevel=3,
        )


def proportion_ci(
    successes, trials, confidence: float = 0.95, method: str = "wilson"
) -> ConfidenceInterval:
    r"""Confidence interval for a satisfaction rate ``successes / trials``.

    Parameters
    ----------
    successes : array_like of int
        Number of satisfied responses. Whole numbers, ``0 <= successes <= trials``.
    trials : array_like of int
        Number of valid responses. Broadcast together with ``successes``.
    confidence : float, optional
        Confidence level, strictly between 0 and 1. Default 0.95.
    method : {'wilson', 'wilson_cc', 'jeffreys', 'clopper_pearson', 'agresti_coull', \
'mid_p', 'wald'}, optional
        Interval method. Default ``'wilson'``.

        * ``'wilson'``: score interval of Wilson (1927); recommended by Brown, Cai & DasGupta
          (2001) and Newcombe (1998).
        * ``'wilson_cc'``: Wilson with continuity correction (Newcombe 1998, method 4).
        * ``'jeffreys'``: equal-tailed Beta(x + 1/2, n - x + 1/2) posterior interval, with
          the lower limit 0 at ``x = 0`` and upper limit 1 at ``x = n`` (Brown et al. 2001).
        * ``'clopper_pearson'``: the "exact" interval (Clopper & Pearson 1934); conservative.
        * ``'agresti_coull'``: Wald interval around ``(x + z^2/2) / (n + z^2)``
          (Agresti & Coull 1998).
        * ``'mid_p'``: exact interval with mid-p tail probabilities (Newcombe 1998, method 6),
          solved with a vectorised bracketing root finder.
        * ``'wald'``: legacy; emits :class:`LegacyMethodWarning`.

    Returns
    -------
    ConfidenceInterval
        ``low`` and ``high``, clamped to [0, 1]. Python floats when both counts are
        scalars, else arrays of the broadcast shape. Where ``trials == 0`` both are nan.

    Raises
    ------
    ValueError
        For negative, non-integer or non-finite counts, ``successes > trials``, counts that
        do not broadcast, ``confidence`` outside (0, 1), or an unknown ``method``.

    References
    ----------
    Brown, Cai & DasGupta (2001), Statistical Science 16, 101-133; Newcombe (1998),
    Statistics in Medicine 17, 857-872; Agresti & Coull (1998), The American Statistician
    52, 119-126; Clopper & Pearson (1934), Biometrika 26, 404-413.

    Examples
    --------
    Newcombe (1998), Table I, 81 of 263:

    >>> from analysis import proportion_ci
    >>> low, high = proportion_ci(81, 263)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    >>> ci = proportion_ci([0, 15], [20, 148], method="clopper_pearson")
    >>> ci.high.round(4)
    array([0.1684, 0.1617])
    """
    x, n, scalar = check_counts(successes, trials)
    confidence = check_confidence(confidence)
    check_method(method)
    low, high = interval_bounds(x, n, confidence, method)
    return ConfidenceInterval(output(low, scalar), output(high, scalar))
