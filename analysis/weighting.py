"""Rates pooled across agencies, weighted by dossier volume (post-stratification).

References
----------
.. [1] Kish, L. (1965). Survey Sampling. New York: Wiley. (Effective sample size, section
   11.7.)
.. [2] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
   inference. JASA 22, 209-212.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._validation import check_confidence, check_counts, check_weights, output
from analysis.intervals import interval_bounds

__all__ = ["WeightedRate", "weighted_rate"]


@dataclass(frozen=True)
class WeightedRate:
    """Result of :func:`weighted_rate`; one value per pooled group (Python floats for 1-D input).

    Attributes
    ----------
    rate : float or ndarray
        Weighted rate ``sum(W_i * x_i / n_i) / sum(W_i)`` over agencies with responses.
    low, high : float or ndarray
        Wilson interval computed on the Kish effective sample size.
    effective_n : float or ndarray
        Kish effective sample size ``(sum W_i)^2 / sum(W_i^2 / n_i)``.
    responses : float or ndarray
        Total valid responses pooled.
    weight_without_data : float or ndarray
        Share of the total weight (e.g. of dossiers) in agencies without any response. Those
        agencies cannot be represented; the rate describes the rest.
    confidence : float
        Confidence level.
    """

    rate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    effective_n: float | np.ndarray
    responses: float | np.ndarray
    weight_without_data: float | np.ndarray
    confidence: float


def weighted_rate(successes, trials, weights, confidence: float = 0.95) -> WeightedRate:
    """Province-wide rate in which each agency counts by its dossier volume.

    A plain pooled rate ``sum(x) / sum(n)`` lets the agencies whose citizens answered most
    dominate. Post-stratification instead weights each agency's rate by its share of
    dossiers ``W_i``: every citizen's answer carries weight ``W_i / n_i``. Unequal weights
    cost precision, measured by Kish's effective sample size
    ``n_eff = (sum W_i)^2 / sum(W_i^2 / n_i)`` (equal to the number of responses when the
    weights are proportional to the responses). The interval is Wilson's, evaluated with
    ``rate * n_eff`` satisfied out of ``n_eff``: a standard design-effect approximation.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency. Pooled along the last axis, so a 2-D
        ``(periods, agencies)`` array gives one rate per period.
    weights : array_like of float
        Non-negative weights per agency, e.g. dossiers received; broadcast with the counts.
    confidence : float, optional
        Confidence level, default 0.95.

    Returns
    -------
    WeightedRate
        Fields ``rate, low, high, effective_n, responses, weight_without_data, confidence``;
        nan rate and interval if no weighted agency has responses.

    References
    ----------
    Kish (1965), Survey Sampling, Wiley; Wilson (1927), JASA 22, 209-212.

    Examples
    --------
    >>> from analysis import weighted_rate
    >>> result = weighted_rate([90, 30], [100, 50], weights=[1000, 3000])
    >>> round(result.rate, 3), round(result.effective_n, 1)
    (0.675, 84.2)
    """
    weights = check_weights(weights)
    x, n, w, _ = check_counts(successes, trials, weights)
    confidence = check_confidence(confidence)
    if x.ndim == 0:
        raise ValueError("weighted_rate pools several agencies; pass arrays of counts")
    has_data = n > 0
    n_safe = np.where(has_data, n, 1.0)
    used = np.where(has_data, w, 0.0)
    total_used = used.sum(axis=-1)
    total = w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.sum(used * x / n_safe, axis=-1) / total_used
        effective_n = total_used**2 / np.sum(used**2 / n_safe, axis=-1)
        without = np.where(total > 0, 1.0 - total_used / total, np.nan)
    empty = ~(total_used > 0)
    rate = np.where(empty, np.nan, rate)
    effective_n = np.where(empty, 0.0, effective_n)
    low, high = interval_bounds(
        np.where(empty, 0.0, rate) * effective_n, effective_n, confidence, "wilson"
    )
    scalar = rate.ndim == 0
    return WeightedRate(
        rate=output(rate, scalar),
        low=output(low, scalar),
        high=output(high, scalar),
        effective_n=output(effective_n, scalar),
        responses=output(n.sum(axis=-1), scalar),
        weight_without_data=output(without, scalar),
        confidence=confidence,
    )
