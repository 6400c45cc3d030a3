"""The risk-adjusted Bernoulli CUSUM (Steiner et al. 2000) and its run lengths."""

import math

import numpy as np
import pytest

from analysis import bernoulli_cusum, cusum_run_length, cusum_threshold

# A rise of the dissatisfied share from 10% to 30% multiplies its odds by this much.
SHIFT_10_TO_30 = (0.3 / 0.7) / (0.1 / 0.9)


def test_scores_are_steiners_log_likelihood_ratios():
    # Steiner et al. (2000), eq. (1) with R0 = 1: W = y log(R_A) - log(1 - p + R_A p).
    chart = bernoulli_cusum([1, 0], risk=[0.1, 0.3], threshold=5.0, odds_ratio=2.0)
    assert chart.weights[0] == pytest.approx(math.log(2) - math.log(1.1))
    assert chart.weights[1] == pytest.approx(-math.log(1.3))


def test_statistic_never_goes_below_zero_and_restarts_after_a_signal():
    chart = bernoulli_cusum([0, 0, 1, 1, 1, 1, 0], risk=0.2, threshold=1.5)
    assert chart.statistic.min() >= 0
    assert chart.statistic[:2].tolist() == [0.0, 0.0]
    signals = np.flatnonzero(chart.alarm).tolist()
    assert signals == [4]
    assert chart.statistic[5] == pytest.approx(chart.weights[5])  # started again from 0


def test_a_chart_continued_from_last_equals_one_chart_over_all_ratings():
    rng = np.random.default_rng(7)
    outcomes = rng.random(400) < 0.25
    risk = np.where(rng.random(400) < 0.5, 0.1, 0.2)
    whole = bernoulli_cusum(outcomes, risk, threshold=2.5)
    first = bernoulli_cusum(outcomes[:150], risk[:150], threshold=2.5)
    rest = bernoulli_cusum(outcomes[150:], risk[150:], threshold=2.5, start=first.last)
    assert np.flatnonzero(whole.alarm).size > 0
    assert np.array_equal(np.concatenate([first.alarm, rest.alarm]), whole.alarm)
    assert rest.last == pytest.approx(whole.last)


def test_independent_series_run_side_by_side():
    outcomes = np.array([[1, 1, 1, 1], [0, 0, 0, 0]])
    chart = bernoulli_cusum(outcomes, risk=0.1, threshold=1.0)
    assert chart.alarm.shape == (2, 4)
    assert chart.alarm[0].any() and not chart.alarm[1].any()
    assert chart.last.shape == (2,)


def test_risk_adjustment_expects_more_dissatisfaction_where_the_baseline_is_higher():
    # The same dissatisfied rating weighs less where dissatisfaction is usual.
    chart = bernoulli_cusum([1, 1], risk=[0.05, 0.4], threshold=10.0)
    assert chart.weights[0] > chart.weights[1] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcomes": [0, 2], "risk": 0.1, "threshold": 1.0}, "outcomes must be 0"),
        ({"outcomes": [0, 1], "risk": 0.0, "threshold": 1.0}, "risk must be strictly between"),
        ({"outcomes": [0, 1], "risk": 0.1, "threshold": 0.0}, "threshold must be a positive"),
        ({"outcomes": [0, 1], "risk": 0.1, "threshold": 1.0, "odds_ratio": -2}, "odds_ratio"),
        ({"outcomes": [0, 1], "risk": [0.1] * 3, "threshold": 1.0}, "broadcastable"),
        ({"outcomes": [0, 1], "risk": 0.1, "threshold": 1.0, "start": -1}, "start"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bernoulli_cusum(**kwargs)


def test_markov_chain_run_lengths_agree_with_simulation():
    # 1,000 seeded runs of an in-control chart and 4,000 of a chart after the drop.
    rng = np.random.default_rng(2000)
    h = 3.0

    def simulated(shift, runs, horizon):
        true_p = shift * 0.1 / (0.9 + shift * 0.1)
        chart = bernoulli_cusum(rng.random((runs, horizon)) < true_p, 0.1, h)
        assert chart.alarm.any(axis=1).all()
        return chart.alarm.argmax(axis=1) + 1

    in_control = simulated(1.0, 1000, 8000)
    exact = cusum_run_length(0.1, h)
    standard_error = in_control.std() / math.sqrt(in_control.size)
    assert abs(in_control.mean() - exact.arl) < 3 * standard_error
    after_drop = simulated(SHIFT_10_TO_30, 4000, 400)
    predicted = cusum_run_length(0.1, h, shift=SHIFT_10_TO_30, quantiles=(0.5, 0.9))
    assert after_drop.mean() == pytest.approx(predicted.arl, rel=0.03)
    assert np.quantile(after_drop, [0.5, 0.9]) == pytest.approx(predicted.run_lengths, abs=2)


def test_threshold_gives_the_asked_in_control_run_length():
    h = cusum_threshold([0.05, 0.2], arl=500, weights=[4, 1])
    assert cusum_run_length([0.05, 0.2], h, weights=[4, 1]).arl == pytest.approx(500, rel=0.01)
    assert cusum_threshold(0.1, arl=2000) > cusum_threshold(0.1, arl=500)


def test_threshold_refuses_an_odds_ratio_that_watches_for_no_rise():
    with pytest.raises(ValueError, match="above 1"):
        cusum_threshold(0.1, arl=100, odds_ratio=1.0)
    with pytest.raises(ValueError, match="arl must be"):
        cusum_threshold(0.1, arl=1)


# ---- acceptance: the figures docs/statistics.md states -----------------------------------------


def test_a_jump_from_10_to_30_percent_is_alerted_within_the_documented_number_of_ratings():
    # docs/statistics.md: at 1,000 ratings a year (one false alarm a year), a jump from 10%
    # to 30% dissatisfied is signalled after at most 28 ratings on average, and within 46
    # ratings in nine cases out of ten.
    h = cusum_threshold(0.1, arl=1000)
    predicted = cusum_run_length(0.1, h, shift=SHIFT_10_TO_30, quantiles=(0.9,))
    assert round(predicted.arl) == 28 and predicted.run_lengths.tolist() == [46]
    rng = np.random.default_rng(16)
    before = rng.random((500, 200)) < 0.1  # a quiet stretch, then the jump
    after = rng.random((500, 200)) < 0.3
    quiet = bernoulli_cusum(before, 0.1, h)
    chart = bernoulli_cusum(after, 0.1, h, start=quiet.last)
    assert chart.alarm.any(axis=1).all()
    delay = chart.alarm.argmax(axis=1) + 1
    # The prediction starts the chart at 0; after a quiet stretch it often sits above 0, so
    # the real delay is, if anything, shorter.
    assert np.mean(delay <= 46) >= 0.9
    assert 15 < delay.mean() <= predicted.arl


def test_an_in_control_agency_raises_about_one_false_alarm_a_year():
    # docs/statistics.md: 2,000 seeded agency-years of 1,000 ratings at 10% dissatisfied
    # raise 0.97 false alarms each on average.
    h = cusum_threshold(0.1, arl=1000)
    rng = np.random.default_rng(2026)
    chart = bernoulli_cusum(rng.random((2000, 1000)) < 0.1, 0.1, h)
    per_year = chart.alarm.sum(axis=1)
    assert per_year.mean() <= 1.0
    assert per_year.mean() == pytest.approx(0.97, abs=0.01)
