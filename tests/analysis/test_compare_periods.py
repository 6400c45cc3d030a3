"""Newcombe's hybrid score interval for the change between two periods."""

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis import adjust_pvalues, compare_periods

# Newcombe, R. G. (1998). Interval estimation for the difference between independent
# proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890, Table II,
# method 10 (score interval for each proportion, combined), 95% limits for p1 - p2 where
# the examples are written "x1/n1 - x2/n2". statsmodels'
# confint_proportions_2indep(method="newcomb") reproduces the same numbers.
NEWCOMBE_TABLE_2 = [
    # x1, n1, x2, n2, p1 - p2, low, high
    (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
    (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
    (0, 10, 0, 20, 0.0000, -0.1611, 0.2775),
    (0, 10, 0, 10, 0.0000, -0.2775, 0.2775),
    (10, 10, 0, 20, 1.0000, 0.6791, 1.0000),
    (10, 10, 0, 10, 1.0000, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "diff", "low", "high"), NEWCOMBE_TABLE_2)
def test_change_matches_newcombe_table_2_method_10(x1, n1, x2, n2, diff, low, high):
    # compare_periods reports later - earlier, so Newcombe's first sample is the later period.
    result = compare_periods(x2, n2, x1, n1)
    assert round(result.difference, 4) == diff
    assert round(result.low, 4) == pytest.approx(low, abs=1e-12)
    assert round(result.high, 4) == pytest.approx(high, abs=1e-12)


def test_swapping_periods_mirrors_the_interval():
    forward = compare_periods(48, 80, 56, 70)
    backward = compare_periods(56, 70, 48, 80)
    assert backward.difference == pytest.approx(-forward.difference)
    assert backward.low == pytest.approx(-forward.high)
    assert backward.high == pytest.approx(-forward.low)
    assert (forward.verdict, backward.verdict) == ("improved", "declined")


def test_change_matches_statsmodels_newcomb_over_a_grid():
    rng = np.random.default_rng(5)
    n1 = rng.integers(1, 60, 200)
    n2 = rng.integers(1, 60, 200)
    x1 = rng.binomial(n1, 0.7)
    x2 = rng.binomial(n2, 0.8)
    result = compare_periods(x1, n1, x2, n2, confidence=0.9)
    for i in range(200):
        low, high = confint_proportions_2indep(
            x2[i], n2[i], x1[i], n1[i], method="newcomb", compare="diff", alpha=0.1
        )
        assert result.low[i] == pytest.approx(low, abs=1e-10)
        assert result.high[i] == pytest.approx(high, abs=1e-10)


def test_verdicts_and_no_data_broadcast_over_agencies():
    result = compare_periods([48, 56, 40, 0], [80, 70, 50, 0], [56, 48, 41, 5], [70, 80, 50, 10])
    assert result.verdict.tolist() == ["improved", "declined", "no_clear_change", "no_data"]
    assert np.isnan(result.difference[3])
    assert result.low.shape == (4,)
    assert result.rate1[0] == 0.6 and result.rate2[0] == 0.8


def test_one_earlier_period_broadcasts_against_many_later_ones():
    result = compare_periods(40, 50, [30, 45, 50], 50)
    assert result.verdict.shape == (3,)
    assert type(compare_periods(40, 50, 45, 50).verdict) is str


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((6, 5, 1, 5), "x1 must not exceed n1"),
        ((1, 5, 1.5, 5), "x2 must be whole numbers"),
        ((1, 5, 1, -5), "n2 must be non-negative"),
        (([1, 2], [5, 5], [1, 2, 3], [5, 5, 5]), "the two periods must have broadcastable"),
    ],
)
def test_compare_periods_rejects_bad_counts_naming_the_argument(args, message):
    with pytest.raises(ValueError, match=message):
        compare_periods(*args)


def test_compare_periods_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        compare_periods(1, 5, 2, 5, confidence=2)


def test_the_p_value_is_where_the_interval_stops_excluding_zero():
    rng = np.random.default_rng(4)
    n1, n2 = rng.integers(5, 300, 200), rng.integers(5, 300, 200)
    x1, x2 = rng.binomial(n1, 0.8), rng.binomial(n2, 0.85)
    result = compare_periods(x1, n1, x2, n2)
    changed = result.p_value < 1
    assert changed.sum() > 150
    for i in np.flatnonzero(changed)[:60]:
        p = result.p_value[i]
        inside = compare_periods(x1[i], n1[i], x2[i], n2[i], confidence=1 - p * (1 + 1e-6))
        outside = compare_periods(x1[i], n1[i], x2[i], n2[i], confidence=1 - p * (1 - 1e-6))
        assert inside.verdict != "no_clear_change"
        assert outside.verdict == "no_clear_change"
    # Without adjustment the verdict is the interval's, and agrees with the p-value.
    decided = result.verdict != "no_clear_change"
    np.testing.assert_array_equal(decided, result.p_value < 0.05)


@pytest.mark.parametrize("adjust", ["holm", "fdr_bh"])
def test_adjusted_changes_need_the_interval_and_the_adjusted_p_value(adjust):
    rng = np.random.default_rng(8)
    n1, n2 = rng.integers(0, 200, 300), rng.integers(0, 200, 300)
    x1, x2 = rng.binomial(n1, 0.8), rng.binomial(n2, rng.choice([0.8, 0.9], 300))
    raw = compare_periods(x1, n1, x2, n2)
    adjusted = compare_periods(x1, n1, x2, n2, adjust=adjust)
    has_data = (n1 > 0) & (n2 > 0)
    np.testing.assert_allclose(
        adjusted.p_value[has_data], adjust_pvalues(raw.p_value[has_data], adjust)
    )
    decided = adjusted.verdict != "no_clear_change"
    np.testing.assert_array_equal(
        decided & has_data, (raw.verdict != "no_clear_change") & (adjusted.p_value < 0.05)
    )
    # Adjustment withdraws changes, never creates or flips one.
    moved = adjusted.verdict != raw.verdict
    assert moved.any() and np.all(adjusted.verdict[moved] == "no_clear_change")


def test_design_effects_judge_each_period_on_its_effective_counts():
    # 80/100 then 92/100 is a clear improvement for independent ratings; with a design effect
    # of 2 in both periods the counts carry the information of 40/50 and 46/50, whose
    # interval (statsmodels, Newcombe's method 10) contains 0.
    independent = compare_periods(80, 100, 92, 100)
    clustered = compare_periods(80, 100, 92, 100, deff1=2.0, deff2=2.0)
    assert independent.verdict == "improved"
    assert clustered.verdict == "no_clear_change"
    low, high = confint_proportions_2indep(46, 50, 40, 50, method="newcomb", compare="diff")
    assert (clustered.low, clustered.high) == pytest.approx((low, high), abs=1e-9)
    assert clustered.difference == pytest.approx(0.12)  # the observed rates are kept
    assert clustered.p_value > independent.p_value


def test_each_period_has_its_own_design_effect_and_they_broadcast():
    x1, n1 = np.array([80, 160, 0]), np.array([100, 200, 0])
    x2, n2 = np.array([92, 184, 9]), np.array([100, 200, 10])
    both = compare_periods(x1, n1, x2, n2, deff1=[1.0, 2.0, 1.0], deff2=3.0)
    for i in range(2):
        d1, d2 = [1.0, 2.0][i], 3.0
        low, high = confint_proportions_2indep(
            x2[i] / d2, n2[i] / d2, x1[i] / d1, n1[i] / d1, method="newcomb", compare="diff"
        )
        assert (both.low[i], both.high[i]) == pytest.approx((low, high), abs=1e-9)
    assert both.verdict[2] == "no_data"
    # deff = 1 is the default, exactly.
    plain = compare_periods(x1, n1, x2, n2)
    ones = compare_periods(x1, n1, x2, n2, deff1=1.0, deff2=np.ones(3))
    np.testing.assert_array_equal(plain.verdict, ones.verdict)
    np.testing.assert_allclose(plain.p_value, ones.p_value)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"deff1": 0.5}, "deff must be finite numbers >= 1"),
        ({"deff2": np.nan}, "deff must be finite numbers >= 1"),
        ({"deff1": [1.0, 2.0, 3.0]}, "deff1 and deff2 must broadcast with the counts"),
    ],
)
def test_compare_periods_rejects_bad_design_effects(kw, message):
    with pytest.raises(ValueError, match=message):
        compare_periods([1, 2], [5, 5], [2, 3], [5, 5], **kw)
