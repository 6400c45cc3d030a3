"""Confidence intervals for a single proportion: published values, scipy, statsmodels."""

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint

from analysis import METHODS, ConfidenceInterval, LegacyMethodWarning, proportion_ci

# Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
# comparison of seven methods. Statistics in Medicine 17, 857-872, Table I (95% limits):
# method 3 = Wilson score, 4 = score with continuity correction, 5 = Clopper-Pearson,
# 6 = mid-p.
NEWCOMBE_TABLE_1 = [
    (81, 263, "wilson", 0.2553, 0.3662),
    (81, 263, "wilson_cc", 0.2535, 0.3682),
    (81, 263, "clopper_pearson", 0.2527, 0.3676),
    (81, 263, "mid_p", 0.2544, 0.3658),
    (15, 148, "wilson", 0.0624, 0.1605),
    (15, 148, "wilson_cc", 0.0598, 0.1644),
    (15, 148, "clopper_pearson", 0.0578, 0.1617),
    (15, 148, "mid_p", 0.0601, 0.1581),
    (0, 20, "wilson", 0.0, 0.1611),
    (0, 20, "wilson_cc", 0.0, 0.2005),
    (0, 20, "clopper_pearson", 0.0, 0.1684),
    (0, 20, "mid_p", 0.0, 0.1391),
    (1, 29, "wilson", 0.0061, 0.1718),
    (1, 29, "wilson_cc", 0.0018, 0.1963),
    (1, 29, "clopper_pearson", 0.0009, 0.1776),
    (1, 29, "mid_p", 0.0017, 0.1585),
]

NON_LEGACY = [method for method in METHODS if method != "wald"]


def grid():
    """All (x, n) for small n, including x = 0, x = n and n = 1, plus a few larger n."""
    pairs = [(x, n) for n in (1, 2, 3, 5, 10, 17) for x in range(n + 1)]
    pairs += [(x, n) for n in (50, 263, 1000) for x in (0, 1, 2, n // 3, n // 2, n - 1, n)]
    x, n = np.array(pairs).T
    return x, n


@pytest.mark.parametrize(("x", "n", "method", "low", "high"), NEWCOMBE_TABLE_1)
def test_intervals_match_newcombe_table_1(x, n, method, low, high):
    result = proportion_ci(x, n, method=method)
    assert round(result.low, 4) == low
    assert round(result.high, 4) == high


@pytest.mark.parametrize(
    ("method", "scipy_method"),
    [("wilson", "wilson"), ("wilson_cc", "wilsoncc"), ("clopper_pearson", "exact")],
)
def test_intervals_match_scipy_binomtest(method, scipy_method):
    x, n = grid()
    ours = proportion_ci(x, n, method=method)
    for i in range(x.size):
        ref = stats.binomtest(int(x[i]), int(n[i])).proportion_ci(method=scipy_method)
        # scipy does not clamp the continuity-corrected limits to [0, 1]; we do.
        assert ours.low[i] == pytest.approx(max(ref.low, 0.0), abs=1e-10)
        assert ours.high[i] == pytest.approx(min(ref.high, 1.0), abs=1e-10)


@pytest.mark.parametrize(
    ("method", "statsmodels_method"),
    [
        ("wilson", "wilson"),
        ("clopper_pearson", "beta"),
        ("agresti_coull", "agresti_coull"),
        ("jeffreys", "jeffreys"),
    ],
)
def test_intervals_match_statsmodels_proportion_confint(method, statsmodels_method):
    x, n = grid()
    ours = proportion_ci(x, n, method=method)
    with warnings.catch_warnings():
        # statsmodels evaluates beta.ppf(a=0) at x = 0 internally; not our concern here.
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method=statsmodels_method)
    if method == "jeffreys":
        # statsmodels keeps the plain beta quantiles; Brown, Cai & DasGupta (2001) set the
        # lower limit to 0 at x = 0 and the upper limit to 1 at x = n, as we do.
        ref_low = np.where(x == 0, 0.0, ref_low)
        ref_high = np.where(x == n, 1.0, ref_high)
    np.testing.assert_allclose(ours.low, ref_low, atol=1e-10)
    np.testing.assert_allclose(ours.high, ref_high, atol=1e-10)


def test_wald_matches_statsmodels_normal_and_warns_it_is_legacy():
    x, n = grid()
    with pytest.warns(LegacyMethodWarning, match="legacy"):
        ours = proportion_ci(x, n, method="wald")
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="normal")
    np.testing.assert_allclose(ours.low, ref_low, atol=1e-12)
    np.testing.assert_allclose(ours.high, ref_high, atol=1e-12)


def test_mid_p_matches_scalar_root_finding_on_binomial_tails():
    alpha = 0.1

    def tail_above(p, x, n):  # P(X > x) + P(X = x) / 2
        return stats.binom.sf(x, n, p) + 0.5 * stats.binom.pmf(x, n, p)

    x, n = grid()
    ours = proportion_ci(x, n, confidence=1 - alpha, method="mid_p")
    for i in range(x.size):
        xi, ni = int(x[i]), int(n[i])
        low = (
            0.0
            if xi == 0
            else optimize.brentq(
                lambda p, xi=xi, ni=ni: tail_above(p, xi, ni) - alpha / 2, 0, 1, xtol=1e-14
            )
        )
        high = (
            1.0
            if xi == ni
            else optimize.brentq(
                lambda p, xi=xi, ni=ni: tail_above(p, xi, ni) - (1 - alpha / 2), 0, 1, xtol=1e-14
            )
        )
        assert ours.low[i] == pytest.approx(low, abs=1e-9)
        assert ours.high[i] == pytest.approx(high, abs=1e-9)


def test_jeffreys_reaches_zero_and_one_at_the_ends():
    low, _ = proportion_ci(0, 12, method="jeffreys")
    _, high = proportion_ci(12, 12, method="jeffreys")
    assert (low, high) == (0.0, 1.0)


@pytest.mark.parametrize("method", NON_LEGACY)
def test_interval_unpacks_as_low_high_and_is_frozen(method):
    ci = proportion_ci(7, 10, method=method)
    low, high = ci
    assert isinstance(ci, ConfidenceInterval)
    assert (low, high) == (ci.low, ci.high)
    assert 0 < low < 0.7 < high < 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        ci.low = 0.5


def test_scalar_counts_give_python_floats():
    low, high = proportion_ci(3, 10)
    assert type(low) is float and type(high) is float


def test_array_counts_broadcast_to_an_array_of_the_common_shape():
    ci = proportion_ci([[1], [2]], [5, 6, 7])
    assert ci.low.shape == ci.high.shape == (2, 3)
    assert ci.low[1, 2] == proportion_ci(2, 7).low


@pytest.mark.parametrize("method", NON_LEGACY)
def test_no_responses_give_nan(method):
    low, high = proportion_ci(0, 0, method=method)
    assert np.isnan(low) and np.isnan(high)
    ci = proportion_ci([0, 3], [0, 4], method=method)
    assert np.isnan(ci.low[0]) and np.isfinite(ci.low[1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"successes": -1, "trials": 5}, "successes must be non-negative"),
        ({"successes": 1, "trials": -5}, "trials must be non-negative"),
        ({"successes": 2.5, "trials": 5}, "successes must be whole numbers"),
        ({"successes": 2, "trials": 5.5}, "trials must be whole numbers"),
        ({"successes": 6, "trials": 5}, "successes must not exceed trials"),
        ({"successes": np.nan, "trials": 5}, "successes must be finite"),
        ({"successes": "many", "trials": 5}, "successes must be numeric"),
        ({"successes": [1, 2], "trials": [3, 4, 5]}, "broadcastable shapes"),
        ({"successes": 1, "trials": 5, "confidence": 0}, "confidence must be strictly between"),
        ({"successes": 1, "trials": 5, "confidence": 1}, "confidence must be strictly between"),
        ({"successes": 1, "trials": 5, "confidence": 95}, "confidence must be strictly between"),
        ({"successes": 1, "trials": 5, "method": "score"}, "method must be one of 'wilson'"),
        ({"successes": 1, "trials": 5, "method": "Wilson"}, "method must be one of"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        proportion_ci(**kwargs)


def test_unknown_method_message_lists_every_allowed_method():
    with pytest.raises(ValueError) as error:
        proportion_ci(1, 5, method="exact")
    for method in METHODS:
        assert repr(method) in str(error.value)


counts = st.integers(min_value=1, max_value=3000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=150, deadline=None)
@given(counts, st.sampled_from(NON_LEGACY), st.floats(min_value=0.5, max_value=0.999))
def test_intervals_lie_in_unit_interval_and_contain_the_observed_rate(count, method, confidence):
    x, n = count
    low, high = proportion_ci(x, n, confidence, method)
    assert 0.0 <= low <= high <= 1.0
    if method != "agresti_coull":  # centred on (x + z^2/2) / (n + z^2), not on x / n
        assert low <= x / n <= high


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.sampled_from(["wilson", "clopper_pearson", "jeffreys"]),
)
def test_intervals_narrow_as_responses_grow_at_a_fixed_rate(count, method):
    x, n = count
    factors = np.arange(1, 12)
    low, high = proportion_ci(x * factors, n * factors, method=method)
    assert np.all(np.diff(high - low) < 0)
