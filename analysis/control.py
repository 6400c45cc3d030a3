"""p-chart (Shewhart control chart for proportions) for satisfaction over time.

References
----------
.. [1] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
   Wiley, section 7.2 (control charts for fraction nonconforming, variable sample size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._validation import check_counts

__all__ = ["PChart", "p_chart"]


@dataclass(frozen=True)
class PChart:
    """Result of :func:`p_chart`; arrays have one entry per period.

    Attributes
    ----------
    rate : ndarray
        Rate per period (nan without responses).
    centre : float
        Centre line: the pooled rate over all periods.
    lower, upper : ndarray
        Control limits ``centre -/+ sigma * sqrt(centre (1 - centre) / n)`` per period,
        clamped to [0, 1]; nan without responses.
    out_of_control : ndarray of bool
        True where the period's rate lies outside its limits (a special cause worth
        investigating); False for periods without responses.
    sigma : float
        Width of the limits in standard errors.
    """

    rate: np.ndarray
    centre: float
    lower: np.ndarray
    upper: np.ndarray
    out_of_control: np.ndarray
    sigma: float


def p_chart(successes, trials, sigma: float = 3.0) -> PChart:
    """p-chart limits per period around the pooled rate.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per period, in time order.
    sigma : float, optional
        Limits at ``sigma`` standard errors, default 3 (Shewhart's choice).

    Returns
    -------
    PChart
        Fields ``rate, centre, lower, upper, out_of_control, sigma``.

    Raises
    ------
    ValueError
        For invalid counts, no responses in any period, or ``sigma <= 0``.

    References
    ----------
    Montgomery (2009), Introduction to Statistical Quality Control, section 7.2.

    Examples
    --------
    >>> from analysis import p_chart
    >>> chart = p_chart([80, 85, 60, 82], [100, 100, 100, 100])
    >>> round(chart.centre, 4), chart.upper.round(3).tolist()
    (0.7675, [0.894, 0.894, 0.894, 0.894])
    >>> chart.out_of_control.tolist()
    [False, False, True, False]
    """
    x, n, _ = check_counts(successes, trials)
    if not (isinstance(sigma, int | float) and np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number of standard errors; got {sigma!r}")
    x, n = np.atleast_1d(x), np.atleast_1d(n)
    if n.sum() == 0:
        raise ValueError("p_chart needs at least one period with responses")
    centre = float(x.sum() / n.sum())
    has_data = n > 0
    n_safe = np.where(has_data, n, 1.0)
    rate = np.where(has_data, x / n_safe, np.nan)
    half = sigma * np.sqrt(centre * (1.0 - centre) / n_safe)
    lower = np.where(has_data, np.clip(centre - half, 0.0, 1.0), np.nan)
    upper = np.where(has_data, np.clip(centre + half, 0.0, 1.0), np.nan)
    out = has_data & ((rate < lower) | (rate > upper))
    return PChart(
        rate=rate, centre=centre, lower=lower, upper=upper, out_of_control=out, sigma=float(sigma)
    )
