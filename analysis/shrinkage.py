"""Empirical-Bayes (beta-binomial) shrinkage of agency rates, for ranking small agencies.

References
----------
.. [1] Efron, B. and Morris, C. (1975). Data analysis using Stein's estimator and its
   generalizations. Journal of the American Statistical Association 70, 311-319.
.. [2] Laird, N. M. and Louis, T. A. (1987). Empirical Bayes confidence intervals based on
   bootstrap samples. Journal of the American Statistical Association 82, 739-750.
.. [3] Kleinman, J. C. (1973). Proportions with extraneous variance: single and independent
   samples. Journal of the American Statistical Association 68, 46-54.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from analysis._validation import check_confidence, check_counts

__all__ = ["PRIOR_FITS", "Shrinkage", "shrink"]

#: Possible values of :attr:`Shrinkage.fit`.
PRIOR_FITS = ("mle", "moments")

# Prior strength alpha + beta is kept within these bounds. The upper one means "agencies do
# not differ beyond chance": every estimate is then (almost) the pooled rate.
_MIN_STRENGTH = 1e-3
_MAX_STRENGTH = 1e6


@dataclass(frozen=True)
class Shrinkage:
    """Result of :func:`shrink`; arrays have the broadcast shape of the inputs.

    Attributes
    ----------
    estimate : ndarray
        Posterior mean ``(alpha + x) / (alpha + beta + n)`` per agency: the shrunken rate.
    low, high : ndarray
        Equal-tailed posterior interval, Beta(alpha + x, beta + n - x) quantiles.
    rate : ndarray
        Raw rate ``x / n`` (nan without responses), which stays the headline number.
    prior_alpha, prior_beta : float
        Fitted Beta prior; its mean ``alpha / (alpha + beta)`` is the typical rate and
        ``alpha + beta`` acts as a number of "prior responses".
    fit : str
        ``'mle'`` (marginal maximum likelihood) or ``'moments'`` (the fallback).
    confidence : float
        Level of the posterior interval.
    """

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rate: np.ndarray
    prior_alpha: float
    prior_beta: float
    fit: str
    confidence: float


def _moments_prior(x, n):
    """Method of moments for the beta-binomial with unequal n (Kleinman 1973)."""
    total = n.sum()
    mean = x.sum() / total
    # Keep the mean off 0 and 1 so that a prior exists when every response agrees.
    mean = float(np.clip(mean, 0.5 / total, 1.0 - 0.5 / total))
    units = x.size
    spread = np.sum(n * (x / n - mean) ** 2) / (mean * (1.0 - mean))
    denominator = total - np.sum(n**2) / total - (units - 1)
    rho = (spread - (units - 1)) / denominator if denominator > 0 else 0.0
    strength = 1.0 / np.clip(rho, 1.0 / (_MAX_STRENGTH + 1.0), 1.0 / (_MIN_STRENGTH + 1.0)) - 1.0
    return mean * strength, (1.0 - mean) * strength


def _mle_prior(x, n, start):
    """Marginal maximum likelihood on (logit mean, log strength); None if degenerate."""

    def negative_loglik(theta):
        mean, strength = special.expit(theta[0]), np.exp(theta[1])
        return -np.sum(stats.betabinom.logpmf(x, n, mean * strength, (1 - mean) * strength))

    a0, b0 = start
    theta0 = [special.logit(a0 / (a0 + b0)), np.log(a0 + b0)]
    bounds = [(-30.0, 30.0), (np.log(_MIN_STRENGTH), np.log(_MAX_STRENGTH))]
    with np.errstate(all="ignore"):
        result = optimize.minimize(negative_loglik, theta0, method="L-BFGS-B", bounds=bounds)
    mean, strength = special.expit(result.x[0]), np.exp(result.x[1])
    low_edge, high_edge = bounds[1]
    at_edge = not low_edge + 1e-3 < result.x[1] < high_edge - 1e-3
    if not result.success or not np.all(np.isfinite(result.x)) or at_edge:
        return None
    return mean * strength, (1.0 - mean) * strength


def shrink(successes, trials, confidence: float = 0.95) -> Shrinkage:
    """Empirical-Bayes shrunken rates for ranking agencies of very different sizes.

    Rates are modelled as drawn from a Beta(alpha, beta) distribution across agencies
    (the beta-binomial model). alpha and beta are fitted by marginal maximum likelihood
    (``scipy.stats.betabinom``); when that fails or is degenerate (agencies differ no more
    than chance, so that the prior strength runs off to infinity, or every response is the
    same) the method of moments is used instead, with the prior strength capped at 10^6
    "responses". Each agency's estimate is its posterior mean: small agencies are pulled
    strongly towards the typical rate, large ones hardly at all.

    Use it to *rank* agencies fairly, so that a desk with 3 of 3 satisfied does not top a
    league table. The raw rate with its confidence interval stays the headline number for
    each agency; never report a shrunken rate as an agency's satisfaction rate.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency. At least two agencies must have responses;
        agencies without responses get the prior mean.
    confidence : float, optional
        Level of the posterior intervals, default 0.95.

    Returns
    -------
    Shrinkage
        Fields ``estimate, low, high, rate, prior_alpha, prior_beta, fit, confidence``.

    Notes
    -----
    Posterior intervals treat the fitted prior as known, so they are somewhat too narrow
    (Laird & Louis 1987); they are meant for ordering, not for verdicts.

    References
    ----------
    Efron & Morris (1975), JASA 70, 311-319; Laird & Louis (1987), JASA 82, 739-750;
    Kleinman (1973), JASA 68, 46-54.

    Examples
    --------
    >>> from analysis import shrink
    >>> result = shrink([3, 40, 170, 75, 12], [3, 50, 200, 100, 20])
    >>> result.fit
    'mle'
    >>> result.estimate.round(3)
    array([0.795, 0.792, 0.832, 0.766, 0.749])
    """
    x, n, _ = check_counts(successes, trials)
    confidence = check_confidence(confidence)
    has_data = n > 0
    if np.count_nonzero(has_data) < 2:
        raise ValueError("shrink needs at least two agencies with responses")
    xs, ns = x[has_data], n[has_data]
    moments = _moments_prior(xs, ns)
    # With every response satisfied (or none) the likelihood has no maximum: use moments.
    unanimous = xs.sum() in (0.0, ns.sum())
    fitted = None if unanimous else _mle_prior(xs, ns, moments)
    fit = "mle" if fitted is not None else "moments"
    a, b = fitted if fitted is not None else moments
    post_a, post_b = a + x, b + n - x
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(has_data, x / n, np.nan)
    return Shrinkage(
        estimate=post_a / (post_a + post_b),
        low=stats.beta.ppf(alpha / 2.0, post_a, post_b),
        high=stats.beta.ppf(1.0 - alpha / 2.0, post_a, post_b),
        rate=rate,
        prior_alpha=float(a),
        prior_beta=float(b),
        fit=fit,
        confidence=confidence,
    )
