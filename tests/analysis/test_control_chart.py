"""p-chart limits per period."""

import numpy as np
import pytest

from analysis import p_chart


def test_p_chart_matches_a_hand_computation():
    chart = p_chart([80, 85, 60, 82], [100, 100, 100, 200])
    centre = 307 / 500
    assert chart.centre == pytest.approx(centre)
    half = 3 * np.sqrt(centre * (1 - centre) / np.array([100, 100, 100, 200]))
    np.testing.assert_allclose(chart.lower, centre - half)
    np.testing.assert_allclose(chart.upper, centre + half)
    # rates 0.80, 0.85, 0.60, 0.41 against limits of about 0.47-0.76 (n=100), 0.51-0.72 (n=200)
    assert chart.out_of_control.tolist() == [True, True, False, True]


def test_p_chart_flags_an_unusually_low_period():
    chart = p_chart([80, 85, 60, 82], [100, 100, 100, 100])
    assert chart.out_of_control.tolist() == [False, False, True, False]


def test_p_chart_limits_are_clamped_and_empty_periods_are_not_flagged():
    chart = p_chart([9, 10, 0], [10, 10, 0])
    assert np.all(chart.upper[:2] == 1.0)
    assert np.isnan(chart.rate[2]) and np.isnan(chart.lower[2])
    assert not chart.out_of_control[2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"successes": [0, 0], "trials": [0, 0]}, "at least one period"),
        ({"successes": [1], "trials": [2], "sigma": 0}, "sigma must be a positive"),
        ({"successes": [1], "trials": [2], "sigma": "3"}, "sigma must be a positive"),
        ({"successes": [3], "trials": [2]}, "successes must not exceed trials"),
    ],
)
def test_p_chart_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        p_chart(**kwargs)
