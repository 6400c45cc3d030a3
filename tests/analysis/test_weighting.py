"""Rates weighted by dossier volume, with Kish effective n."""

import numpy as np
import pytest

from analysis import proportion_ci, weighted_rate


def test_weighted_rate_matches_a_hand_computation():
    result = weighted_rate([90, 30], [100, 50], weights=[1000, 3000])
    assert result.rate == pytest.approx((1000 * 0.9 + 3000 * 0.6) / 4000)
    # Kish: (sum W)^2 / sum(W^2 / n) = 4000^2 / (1000^2/100 + 3000^2/50)
    assert result.effective_n == pytest.approx(16e6 / 190_000)
    assert result.responses == 150
    assert result.weight_without_data == 0.0


def test_interval_is_wilson_on_the_effective_sample_size():
    result = weighted_rate([90, 30], [100, 50], weights=[1000, 3000])
    from analysis.intervals import interval_bounds

    low, high = interval_bounds(
        result.rate * result.effective_n, result.effective_n, 0.95, "wilson"
    )
    assert (result.low, result.high) == pytest.approx((float(low), float(high)))
    assert result.low < result.rate < result.high


def test_weights_proportional_to_responses_give_the_pooled_rate_and_full_n():
    x, n = np.array([90, 30, 44]), np.array([100, 50, 80])
    result = weighted_rate(x, n, weights=3 * n)
    assert result.rate == pytest.approx(x.sum() / n.sum())
    assert result.effective_n == pytest.approx(n.sum())
    low, high = proportion_ci(x.sum(), n.sum())
    assert (result.low, result.high) == pytest.approx((low, high))


def test_agencies_without_responses_are_reported_not_silently_dropped():
    result = weighted_rate([90, 30, 0], [100, 50, 0], weights=[1000, 3000, 1000])
    assert result.weight_without_data == pytest.approx(0.2)
    assert result.rate == pytest.approx(0.675)


def test_pools_along_the_last_axis_for_several_periods():
    result = weighted_rate([[90, 30], [0, 0]], [[100, 50], [0, 0]], weights=[1000, 3000])
    assert result.rate.shape == (2,)
    assert result.rate[0] == pytest.approx(0.675)
    assert np.isnan(result.rate[1]) and np.isnan(result.low[1])
    assert result.weight_without_data[1] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1, 2], [5, 5], [1, -1]), "weights must be non-negative"),
        ((3, 5, 1), "pools several agencies"),
        (([1, 2], [5, 5], [1, 2, 3]), "broadcastable"),
    ],
)
def test_weighted_rate_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        weighted_rate(*args)
