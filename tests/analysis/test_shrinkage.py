"""Empirical-Bayes beta-binomial shrinkage."""

import numpy as np
import pytest
from scipy import stats

from analysis import shrink


def test_shrinkage_recovers_the_prior_from_simulated_agencies():
    rng = np.random.default_rng(2024)
    n = rng.integers(10, 300, 400)
    x = rng.binomial(n, rng.beta(16, 4, 400))
    result = shrink(x, n)
    assert result.fit == "mle"
    mean = result.prior_alpha / (result.prior_alpha + result.prior_beta)
    assert mean == pytest.approx(0.8, abs=0.01)
    assert result.prior_alpha + result.prior_beta == pytest.approx(20, rel=0.3)


def test_posterior_is_the_conjugate_beta_update():
    x, n = np.array([3, 40, 170, 75, 12, 0]), np.array([3, 50, 200, 100, 20, 0])
    result = shrink(x, n)
    a, b = result.prior_alpha, result.prior_beta
    np.testing.assert_allclose(result.estimate, (a + x) / (a + b + n))
    np.testing.assert_allclose(result.low, stats.beta.ppf(0.025, a + x, b + n - x))
    np.testing.assert_allclose(result.high, stats.beta.ppf(0.975, a + x, b + n - x))
    assert result.estimate[5] == pytest.approx(a / (a + b))  # no responses: the prior mean
    assert np.isnan(result.rate[5]) and result.rate[0] == 1.0


def test_small_agencies_are_pulled_further_towards_the_typical_rate():
    result = shrink([3, 150, 40, 160], [3, 150, 50, 200])
    # 3 of 3 and 150 of 150 are both 100%, but the small agency moves much more.
    assert 1 - result.estimate[0] > 5 * (1 - result.estimate[1])
    assert result.estimate[0] < result.estimate[1]


def test_maximum_likelihood_matches_a_direct_optimisation():
    from scipy import optimize

    x, n = np.array([3, 40, 170, 75, 12, 30, 2]), np.array([3, 50, 200, 100, 20, 45, 6])
    result = shrink(x, n)

    def negative(theta):
        return -stats.betabinom.logpmf(x, n, np.exp(theta[0]), np.exp(theta[1])).sum()

    best = optimize.minimize(
        negative,
        [1.0, 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
    )
    ours = negative(np.log([result.prior_alpha, result.prior_beta]))
    assert ours <= best.fun + 1e-6


def test_falls_back_to_moments_when_agencies_do_not_differ():
    # Identical rates: the likelihood keeps rising as the prior strength grows without
    # bound, so maximum likelihood is degenerate.
    result = shrink(np.full(30, 80), np.full(30, 100))
    assert result.fit == "moments"
    np.testing.assert_allclose(result.estimate, 0.8, atol=1e-6)


def test_falls_back_to_moments_when_every_response_is_satisfied():
    result = shrink([5, 12, 3], [5, 12, 3])
    assert result.fit == "moments"
    assert np.all((result.estimate > 0.9) & (result.estimate < 1.0))
    assert np.all(result.high <= 1.0)


def test_shrink_needs_two_agencies_with_responses():
    with pytest.raises(ValueError, match="at least two agencies"):
        shrink([5, 0], [10, 0])
    with pytest.raises(ValueError, match="confidence must be strictly between"):
        shrink([5, 6], [10, 10], confidence=0)
