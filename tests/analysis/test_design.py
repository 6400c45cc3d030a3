"""Intra-class correlation of desk-day clusters and design effects."""

import numpy as np
import pytest
from scipy import stats

from analysis import assess_target
from analysis.design import cluster_moments, design_effects, intraclass_correlation
from analysis.target import exact_tails


def test_icc_of_a_hand_computed_example():
    # 2, 4 and 0 satisfied of 4: MSB = 2 / 2 = 1, MSW = 1 / 9, n0 = 4,
    # rho = (1 - 1/9) / (1 + 3/9) = 2/3 (Fleiss 1981, section 13.2, formula by hand).
    assert intraclass_correlation([2, 4, 0], [4, 4, 4]) == pytest.approx(2 / 3)


def test_icc_agrees_with_a_one_way_anova_of_the_zero_one_ratings():
    # scipy's F of the 0/1 ratings grouped by cluster; ICC(1) = (F - 1) / (F + n0 - 1).
    rng = np.random.default_rng(4)
    n = rng.integers(2, 15, 40)
    x = rng.binomial(n, rng.beta(8, 2, 40))
    groups = [np.r_[np.ones(k), np.zeros(m - k)] for k, m in zip(x, n, strict=True)]
    f = stats.f_oneway(*groups).statistic
    n0 = (n.sum() - (n**2).sum() / n.sum()) / (len(n) - 1)
    assert intraclass_correlation(x, n) == pytest.approx((f - 1) / (f + n0 - 1), rel=1e-10)


def test_icc_is_undefined_with_one_cluster_or_identical_answers():
    assert np.isnan(intraclass_correlation([3], [5]))
    assert np.isnan(intraclass_correlation([4, 4], [4, 4]))


def test_icc_recovers_the_correlation_of_simulated_beta_binomial_clusters():
    rng = np.random.default_rng(1)
    for rho in (0.05, 0.10):
        a, b = 0.9 * (1 - rho) / rho, 0.1 * (1 - rho) / rho
        n = np.full(4000, 10)
        x = rng.binomial(n, rng.beta(a, b, n.size))
        assert intraclass_correlation(x, n) == pytest.approx(rho, abs=0.015)


def test_design_effect_shrinks_toward_the_province_with_the_weight_of_prior_clusters():
    moments = cluster_moments([2, 4, 0, 3, 3], [4, 4, 4, 4, 4], groups=[0, 0, 0, 1, 1])
    result = design_effects(moments, prior_clusters=20)
    # Province: pooled within-agency MSB = 2/3, MSW = 2.5/15, n0 = 12/3 = 4.
    province = (2 / 3 - 1 / 6) / (2 / 3 + 3 / 6)
    assert result.rho_province == pytest.approx(province)
    np.testing.assert_allclose(result.rho_own, [2 / 3, -1 / 3])
    np.testing.assert_allclose(result.weight, [3 / 23, 2 / 22])
    rho = result.weight * result.rho_own + (1 - result.weight) * province
    np.testing.assert_allclose(result.rho, rho)
    np.testing.assert_allclose(result.deff, 1 + 3 * rho)


def test_differences_between_agencies_are_not_clustering():
    # Two agencies, each perfectly homogeneous across its desk-days, at different rates: no
    # within-agency clustering, so no design effect, although a pooled ANOVA would see one.
    moments = cluster_moments([9, 9, 9, 5, 5, 5], [10] * 6, groups=[0, 0, 0, 1, 1, 1])
    result = design_effects(moments)
    assert intraclass_correlation([9, 9, 9, 5, 5, 5], [10] * 6) > 0.1
    assert result.rho_province <= 0
    np.testing.assert_array_equal(result.deff, [1.0, 1.0])


def test_an_agency_without_clusters_takes_the_province_value_and_deff_is_at_least_one():
    rng = np.random.default_rng(2)
    n = np.full(300, 10)
    x = rng.binomial(n, rng.beta(9, 1, n.size))
    groups = np.r_[np.zeros(299, int), [1]]
    result = design_effects(cluster_moments(x, n, groups))
    assert result.weight[1] == 0 and result.rho[1] == pytest.approx(max(result.rho_province, 0))
    assert np.all(result.deff >= 1)
    assert result.weight[0] == pytest.approx(299 / 319)


def test_moments_add_up_so_a_pooled_row_is_the_sum_of_its_units():
    a = cluster_moments([2, 4, 0], [4, 4, 4])
    b = cluster_moments([3, 3], [4, 4])
    both = cluster_moments([2, 4, 0, 3, 3], [4] * 5, groups=[0, 0, 0, 1, 1])
    for name in (
        "clusters",
        "groups",
        "trials",
        "between",
        "within",
        "size_spread",
        "sum_sq_sizes",
    ):
        np.testing.assert_allclose(getattr(both, name), np.r_[getattr(a, name), getattr(b, name)])


def test_assess_target_with_a_design_effect_tests_the_effective_counts():
    result = assess_target(65, 100, 0.5, deff=2.5)
    p_meets, _ = exact_tails(26, 40, 0.5)
    assert result.p_meets == pytest.approx(float(p_meets))
    assert result.deff == 2.5
    plain = assess_target(65, 100, 0.5)
    assert plain.verdict == "meets" and result.verdict == "inconclusive"
    assert result.high - result.low > plain.high - plain.low
    # More responses are needed when each is worth half of one.
    assert result.responses_needed > 0


def test_design_effect_below_one_is_refused():
    with pytest.raises(ValueError, match="deff must be"):
        assess_target(60, 100, 0.5, deff=0.5)
