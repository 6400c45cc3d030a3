"""Verdicts against a target, exact p-values, responses needed, multiplicity."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis import (
    METHODS,
    RESPONSES_IMPOSSIBLE,
    LegacyMethodWarning,
    adjust_pvalues,
    assess_target,
    proportion_ci,
)
from analysis.target import critical_counts, decision_thresholds, exact_tails

NON_LEGACY = [method for method in METHODS if method != "wald"]


def simulated_agencies(size=300, seed=7):
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 400, size)
    x = rng.binomial(n, rng.uniform(0.6, 0.95, size))
    return x, n


def test_verdicts_follow_the_exact_interval_that_is_shown():
    result = assess_target([95, 70, 30, 0], [100, 100, 40, 0], target=0.8)
    assert result.verdict.tolist() == ["meets", "below", "inconclusive", "no_data"]
    low, high = proportion_ci([95, 70, 30], [100, 100, 40], method="clopper_pearson")
    np.testing.assert_allclose(result.low[:3], low, rtol=1e-12)
    np.testing.assert_allclose(result.high[:3], high, rtol=1e-12)
    assert low[0] > 0.8 and high[1] < 0.8 and low[2] <= 0.8 <= high[2]
    # The estimation interval is Wilson's by default.
    wilson = proportion_ci([95, 70, 30], [100, 100, 40])
    np.testing.assert_array_equal(result.estimate_low[:3], wilson.low)


def test_a_wilson_interval_above_the_target_does_not_make_a_verdict():
    # 35 of 35 against 90%: Wilson's lower limit is 0.9011, above the target, but the exact
    # test P(X >= 35) = 0.9**35 = 0.02503 is not below 2.5%; 3 of 5: Wilson's upper limit
    # 0.882 is under 90%, but P(X <= 3) = 0.081.
    result = assess_target([35, 3], [35, 5], 0.9)
    assert result.estimate_low[0] > 0.9 and result.estimate_high[1] < 0.9
    assert result.p_meets[0] == pytest.approx(0.9**35)
    assert result.p_below[1] == pytest.approx(stats.binomtest(3, 5, 0.9, alternative="less").pvalue)
    assert result.verdict.tolist() == ["inconclusive", "inconclusive"]
    assert np.all(result.low <= 0.9) and np.all(0.9 <= result.high)


@pytest.mark.parametrize("method", NON_LEGACY)
def test_the_method_changes_only_the_estimation_interval(method):
    x, n = simulated_agencies(100)
    result = assess_target(x, n, 0.8, method=method)
    exact = assess_target(x, n, 0.8)
    np.testing.assert_array_equal(result.verdict, exact.verdict)
    np.testing.assert_array_equal(result.low, exact.low)
    low, high = proportion_ci(x, n, method=method)
    np.testing.assert_array_equal(result.estimate_low, low)
    np.testing.assert_array_equal(result.estimate_high, high)
    expected = np.where(
        n == 0,
        "no_data",
        np.where(
            result.p_meets < 0.025,
            "meets",
            np.where(result.p_below < 0.025, "below", "inconclusive"),
        ),
    )
    np.testing.assert_array_equal(result.verdict, expected)


def test_p_values_match_scipy_binomtest_one_sided():
    x, n = simulated_agencies(60)
    result = assess_target(x, n, 0.8)
    for i in np.flatnonzero(n > 0):
        greater = stats.binomtest(int(x[i]), int(n[i]), 0.8, alternative="greater").pvalue
        less = stats.binomtest(int(x[i]), int(n[i]), 0.8, alternative="less").pvalue
        assert result.p_meets[i] == pytest.approx(greater, rel=1e-10, abs=1e-300)
        assert result.p_below[i] == pytest.approx(less, rel=1e-10, abs=1e-300)


def test_scalar_input_gives_python_scalars():
    result = assess_target(30, 40, 0.8)
    assert type(result.rate) is float
    assert type(result.verdict) is str
    assert type(result.responses_needed) is int
    assert type(result.p_meets) is float


def test_target_may_differ_per_agency():
    result = assess_target([90, 85], [100, 100], target=[0.6, 0.95])
    assert result.verdict.tolist() == ["meets", "below"]
    np.testing.assert_array_equal(result.target, [0.6, 0.95])


def test_no_responses_give_no_data_nan_and_impossible():
    result = assess_target(0, 0, 0.8)
    assert result.verdict == "no_data"
    assert np.isnan(result.rate) and np.isnan(result.low) and np.isnan(result.p_meets)
    assert result.responses_needed == RESPONSES_IMPOSSIBLE


def test_decided_verdicts_need_no_more_responses():
    result = assess_target([95, 70], [100, 100], 0.8)
    assert result.responses_needed.tolist() == [0, 0]


def test_rate_equal_to_target_can_never_be_settled():
    result = assess_target(8, 10, 0.8)
    assert result.verdict == "inconclusive"
    assert result.responses_needed == RESPONSES_IMPOSSIBLE == -1


def _settles(rate, total, target):
    p_meets, p_below = exact_tails(rate * total, total, target)
    return bool(p_meets < 0.025) if rate > target else bool(p_below < 0.025)


@pytest.mark.parametrize(
    ("x", "n", "target"), [(30, 40, 0.8), (17, 20, 0.8), (1, 1, 0.6), (0, 2, 0.6), (55, 90, 0.6)]
)
def test_adding_responses_needed_at_the_same_rate_settles_and_one_fewer_does_not(x, n, target):
    result = assess_target(x, n, target)
    assert result.verdict == "inconclusive"
    k = result.responses_needed
    assert k > 0
    rate = x / n
    assert _settles(rate, n + k, target)
    assert not _settles(rate, n + k - 1, target)


def test_responses_needed_at_whole_counts_agrees_with_the_critical_counts():
    # 3 of 4 (75%) against 50%: at 4 k responses with 3 k satisfied, the first k that meets.
    result = assess_target(3, 4, 0.5)
    first = next(k for k in range(1, 100) if 3 * k >= critical_counts(4 * k, 0.5).meets_from)
    assert 4 + result.responses_needed <= 4 * first
    assert 4 * (first - 1) < 4 + result.responses_needed


def test_wald_verdicts_warn_once_as_legacy():
    with pytest.warns(LegacyMethodWarning):
        result = assess_target(30, 40, 0.8, method="wald")
    assert result.verdict == "inconclusive"


@pytest.mark.parametrize("adjust", ["holm", "fdr_bh"])
def test_adjusted_p_values_match_statsmodels_multipletests(adjust):
    x, n = simulated_agencies(300)
    raw = assess_target(x, n, 0.8)
    adjusted = assess_target(x, n, 0.8, adjust=adjust)
    has_data = n > 0
    for field in ("p_meets", "p_below"):
        expected = multipletests(getattr(raw, field)[has_data], method=adjust)[1]
        np.testing.assert_allclose(getattr(adjusted, field)[has_data], expected, rtol=1e-12)
        assert np.all(np.isnan(getattr(adjusted, field)[~has_data]))


@pytest.mark.parametrize("adjust", ["holm", "fdr_bh"])
def test_adjusted_verdict_needs_the_adjusted_p_value_and_the_interval_agrees(adjust):
    x, n = simulated_agencies(300)
    raw = assess_target(x, n, 0.8)
    adjusted = assess_target(x, n, 0.8, adjust=adjust)
    meets = (raw.verdict == "meets") & (adjusted.p_meets < 0.025)
    below = (raw.verdict == "below") & (adjusted.p_below < 0.025)
    np.testing.assert_array_equal(adjusted.verdict == "meets", meets)
    np.testing.assert_array_equal(adjusted.verdict == "below", below)
    # Adjustment only ever withdraws a verdict; it never creates or flips one.
    changed = adjusted.verdict != raw.verdict
    assert np.all(adjusted.verdict[changed] == "inconclusive")
    assert changed.any()
    assert np.all(adjusted.responses_needed[adjusted.verdict == "inconclusive"] != 0)
    # The interval shown is at the level each agency must pass in its family: it excludes the
    # target exactly when the adjusted verdict is decided.
    has = n > 0
    np.testing.assert_array_equal(adjusted.low[has] > 0.8, adjusted.verdict[has] == "meets")
    np.testing.assert_array_equal(adjusted.high[has] < 0.8, adjusted.verdict[has] == "below")
    assert np.all(adjusted.low[has] <= raw.low[has]) and np.all(adjusted.high[has] >= raw.high[has])


def test_holm_adjustment_of_a_single_agency_changes_nothing():
    raw = assess_target(95, 100, 0.8)
    adjusted = assess_target(95, 100, 0.8, adjust="holm")
    assert adjusted.p_meets == pytest.approx(raw.p_meets)
    assert adjusted.verdict == raw.verdict == "meets"


def test_adjust_pvalues_leaves_nan_out_of_the_family():
    adjusted = adjust_pvalues([0.01, np.nan, 0.04], "holm")
    np.testing.assert_allclose(adjusted, [0.02, np.nan, 0.04])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": 0.0}, "target must be strictly between 0 and 1"),
        ({"target": 1.0}, "target must be strictly between 0 and 1"),
        ({"target": 80}, "target must be strictly between 0 and 1"),
        ({"target": [0.8, 0.8, 0.8]}, "broadcastable"),
        ({"target": 0.8, "adjust": "bonferroni"}, "adjust must be one of None, 'holm', 'fdr_bh'"),
        ({"target": 0.8, "method": "exact"}, "method must be one of"),
        ({"target": 0.8, "confidence": 1.5}, "confidence must be strictly between"),
    ],
)
def test_assess_target_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        assess_target([3, 4], [5, 5], **kwargs)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_decision_thresholds_are_where_the_adjusted_p_value_crosses_the_level(method):
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(150):
        p = rng.beta(0.3, 1.0, size=rng.integers(1, 25))
        thresholds = decision_thresholds(p, method, 0.025)
        rejected = adjust_pvalues(p, method) < 0.025
        for i in np.flatnonzero(~rejected):
            assert 0 < thresholds[i] <= p[i]
            for factor, expected in ((1 - 1e-9, True), (1 + 1e-9, False)):
                moved = p.copy()
                moved[i] = thresholds[i] * factor
                assert (adjust_pvalues(moved, method)[i] < 0.025) == expected
                checked += 1
    assert checked > 1000


def test_responses_needed_under_holm_follows_the_rule_that_decides():
    # Nine agencies far above 80% are rejected first; Holm then tests the tenth at the full
    # level, so it needs as many responses as alone, not a Bonferroni interval's share.
    x = np.array([30] + [1000] * 9)
    n = np.array([34] + [1000] * 9)
    alone = assess_target(30, 34, 0.8)
    adjusted = assess_target(x, n, 0.8, adjust="holm")
    bonferroni = assess_target(30, 34, 0.8, confidence=1 - 0.05 / 10)
    assert alone.verdict == adjusted.verdict[0] == "inconclusive"
    needed = adjusted.responses_needed[0]
    assert needed == alone.responses_needed
    assert needed < 0.7 * bonferroni.responses_needed
    # At that many responses (same rate), the exact p-value decides.
    total = 34 + needed
    assert stats.binom.sf(np.ceil(30 / 34 * total) - 1, total, 0.8) < 0.025


@pytest.mark.parametrize("adjust", [None, "holm", "fdr_bh"])
def test_an_undecided_agency_is_decided_just_past_its_responses_needed_and_not_before(adjust):
    x, n = simulated_agencies(200, seed=5)
    result = assess_target(x, n, 0.8, adjust=adjust)
    checked = 0
    for i in np.flatnonzero((result.verdict == "inconclusive") & (result.responses_needed > 0)):
        # Totals at which the same rate is a whole number of satisfied responses.
        step = n[i] // math.gcd(int(x[i]), int(n[i]))
        total = n[i] + result.responses_needed[i]
        after, before = -(-total // step) * step, (total - 1) // step * step
        if after - total > 0.1 * total or before <= n[i]:
            continue
        verdicts = []
        for whole in (after, before):
            more_x, more_n = x.copy(), n.copy()
            more_x[i], more_n[i] = x[i] * whole // n[i], whole
            verdicts.append(assess_target(more_x, more_n, 0.8, adjust=adjust).verdict[i])
        assert verdicts == ["meets" if x[i] / n[i] > 0.8 else "below", "inconclusive"]
        checked += 1
    assert checked >= 5
