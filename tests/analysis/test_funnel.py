"""Funnel limits (Spiegelhalter 2005) and overdispersion."""

import math

import numpy as np
import pytest
from scipy.stats import chi2

from analysis import funnel_limits, overdispersion


def direct_limit(n, target, prob):
    """Spiegelhalter (2005), Appendix A.1.1, step by step with exact integer arithmetic."""
    pmf = [math.comb(n, r) * target**r * (1 - target) ** (n - r) for r in range(n + 1)]
    cdf = np.cumsum(pmf)
    r = next(r for r in range(n + 1) if cdf[r] >= prob)
    below = cdf[r - 1] if r > 0 else 0.0
    alpha = (cdf[r] - prob) / (cdf[r] - below)
    return min(max((r - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize("target", [0.6, 0.8, 0.95])
def test_funnel_limits_match_a_direct_computation(target):
    trials = [1, 2, 5, 13, 20, 100, 250]
    limits = funnel_limits(trials, target, coverages=(0.95, 0.998))
    for row, coverage in enumerate((0.95, 0.998)):
        for column, n in enumerate(trials):
            tail = (1 - coverage) / 2
            assert limits.lower[row, column] == pytest.approx(direct_limit(n, target, tail))
            assert limits.upper[row, column] == pytest.approx(direct_limit(n, target, 1 - tail))


def test_funnel_has_one_row_per_coverage():
    limits = funnel_limits([[10, 20, 30], [40, 50, 60]], 0.8, coverages=(0.9, 0.95, 0.998))
    assert limits.lower.shape == limits.upper.shape == (3, 2, 3)
    assert limits.coverages == (0.9, 0.95, 0.998)
    # wider coverage, wider limits
    assert np.all(np.diff(limits.lower, axis=0) <= 0)
    assert np.all(np.diff(limits.upper, axis=0) >= 0)


@pytest.mark.parametrize("target", [0.6, 0.8, 0.95])
def test_funnel_narrows_as_responses_grow(target):
    trials = 10 * 2 ** np.arange(11)
    limits = funnel_limits(trials, target)
    assert np.all(np.diff(limits.upper - limits.lower, axis=1) < 0)
    assert np.all(limits.lower < target) and np.all(limits.upper > target)


def test_funnel_approaches_normal_limits_for_large_samples():
    n = 100_000
    limits = funnel_limits(n, 0.8, coverages=(0.95,))
    half = 1.959964 * math.sqrt(0.8 * 0.2 / n)
    assert limits.lower[0] == pytest.approx(0.8 - half, abs=2e-5)
    assert limits.upper[0] == pytest.approx(0.8 + half, abs=2e-5)


def test_funnel_limits_are_clamped_and_nan_without_responses():
    limits = funnel_limits([0, 1, 2, 3, 5], 0.95)
    assert np.all(np.isnan(limits.lower[:, 0])) and np.all(np.isnan(limits.upper[:, 0]))
    finite = limits.lower[:, 1:], limits.upper[:, 1:]
    for part in finite:
        assert np.all((part >= 0) & (part <= 1))
    assert limits.lower[1, 1] == 0.0  # interpolation would go below 0 at n = 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trials": [10], "target": 1.0}, "target must be strictly between 0 and 1"),
        ({"trials": [10], "target": [0.8, 0.9]}, "target must be a single rate"),
        ({"trials": [-1], "target": 0.8}, "trials must be non-negative"),
        ({"trials": [10], "target": 0.8, "coverages": (0.95, 1.2)}, "coverages must be strictly"),
        ({"trials": [10], "target": 0.8, "coverages": ()}, "coverages must be a non-empty"),
    ],
)
def test_funnel_limits_reject_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        funnel_limits(**kwargs)


def test_overdispersion_matches_a_hand_computation():
    x = np.array([70, 45, 160, 30, 85, 190, 12, 50, 77, 140])
    n = np.array([100, 50, 200, 50, 100, 220, 20, 60, 90, 150])
    target = 0.8
    s = np.sqrt(target * (1 - target) / n)
    z = np.sort((x / n - target) / s)
    # 10% winsorisation of 10 values: the extreme value at each end becomes the 10th / 90th
    # percentile, which (linear interpolation) lies 90% of the way to its neighbour.
    low = z[0] + 0.9 * (z[1] - z[0])
    high = z[-1] - 0.9 * (z[-1] - z[-2])
    winsorised = np.concatenate([[low], z[1:-1], [high]])
    phi = np.mean(winsorised**2)
    w = 1 / s**2
    tau2 = (10 * phi - 9) / (w.sum() - (w**2).sum() / w.sum())

    result = overdispersion(x, n, target=target)
    assert result.phi == pytest.approx(phi)
    assert result.tau2 == pytest.approx(max(tau2, 0.0))
    assert result.df == result.units == 10
    assert result.p_value == pytest.approx(chi2.sf(10 * phi, 10))


def test_overdispersion_uses_the_pooled_rate_without_a_target():
    result = overdispersion([40, 45, 90, 160, 0], [50, 60, 100, 200, 0])
    assert result.target == pytest.approx(335 / 410)
    assert result.units == 4 and result.df == 3


def test_overdispersion_detects_agencies_that_really_differ():
    rng = np.random.default_rng(11)
    n = rng.integers(50, 400, 60)
    same = overdispersion(rng.binomial(n, 0.8), n)
    different = overdispersion(rng.binomial(n, rng.beta(16, 4, 60)), n)
    assert same.p_value > 0.05 and same.tau2 < different.tau2
    assert different.phi > 2 and different.p_value < 1e-6
    assert different.tau2 == pytest.approx(16 * 4 / (20**2 * 21), rel=0.6)  # Beta(16, 4) var


def test_overdispersion_needs_two_agencies_with_responses():
    with pytest.raises(ValueError, match="at least two agencies"):
        overdispersion([5, 0], [10, 0])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        overdispersion([10, 20], [10, 20])
