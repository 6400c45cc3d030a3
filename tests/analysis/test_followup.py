"""The follow-up sample's statistics against reference values."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.followup import (
    allocate,
    selection_check,
    selection_check_power,
    self_selected_rate,
    stratified_rate,
)


@pytest.mark.parametrize(
    ("population", "size"),
    [([500, 300, 200], 10), ([5, 1000], 10), ([3, 3, 3], 10), ([7, 13, 29, 1, 0], 17), ([4], 9)],
)
def test_allocation_is_proportional_sums_to_the_size_and_never_exceeds_a_stratum(population, size):
    parts = allocate(population, size)
    total = sum(population)
    assert parts.sum() == min(size, total)
    assert np.all(parts <= np.array(population))
    quotas = np.array(population) * min(size, total) / total
    assert np.all(np.abs(parts - quotas) < 1 + 1e-9)
    assert allocate(population, size).tolist() == parts.tolist()  # deterministic


def test_allocation_rejects_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        allocate([-1, 3], 2)
    with pytest.raises(ValueError, match="whole number"):
        allocate([1, 3], 1.5)


@pytest.mark.parametrize(
    ("x_self", "n_self", "x_follow", "n_follow"),
    [(190, 200, 70, 90), (45, 50, 40, 50), (300, 300, 18, 20), (5, 40, 0, 12)],
)
def test_selection_check_is_newcombes_interval_of_self_minus_followup(
    x_self, n_self, x_follow, n_follow
):
    check = selection_check(x_self, n_self, x_follow, n_follow)
    low, high = confint_proportions_2indep(
        x_self, n_self, x_follow, n_follow, method="newcomb", compare="diff"
    )
    assert check.difference == pytest.approx(x_self / n_self - x_follow / n_follow)
    assert (check.low, check.high) == pytest.approx((low, high))
    assert check.differs == (low > 0 or high < 0)


def test_stratified_rate_follows_cochran():
    x, n, big_n = [40, 30, 9], [50, 40, 10], [1000, 500, 20]
    result = stratified_rate(x, n, big_n)
    w = np.array(big_n) / sum(big_n)
    p = np.array(x) / np.array(n)
    assert result.estimate == pytest.approx(float(np.sum(w * p)))
    var = sum(w[h] ** 2 * (1 - n[h] / big_n[h]) * p[h] * (1 - p[h]) / (n[h] - 1) for h in range(3))
    assert result.se == pytest.approx(var**0.5)
    assert result.low == pytest.approx(result.estimate - 1.959964 * result.se, abs=1e-6)
    # A stratum without answers is left out, the weights renormalised.
    partial = stratified_rate([40, 0], [50, 0], [1000, 500])
    assert partial.estimate == pytest.approx(0.8)


def test_the_issues_simulated_self_selection_rates():
    assert self_selected_rate(0.9, 2.0) == pytest.approx(0.818, abs=5e-4)
    assert self_selected_rate(0.9, 1 / 3) == pytest.approx(0.964, abs=5e-4)
    assert self_selected_rate(0.9, 1.0) == pytest.approx(0.9)


def test_power_grows_with_the_sample_and_the_size_holds_without_selection():
    weak = selection_check_power(0.9, 2.0, n_self=300, n_followup=50, reps=2000)
    strong = selection_check_power(0.9, 2.0, n_self=300, n_followup=400, reps=2000)
    assert 0.15 < weak < 0.4 and strong > 0.8
    # No self-selection: the check flags about 5% (Newcombe's interval is slightly
    # conservative near 90%).
    null = selection_check_power(0.9, 1.0, n_self=300, n_followup=200, reps=4000)
    assert 0.01 < null < 0.08
