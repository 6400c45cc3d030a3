"""The verdict's error rates, computed exactly over every binomial outcome (no simulation).

When the true rate equals the target, a false "meets" or a false "below" must happen with
probability at most 2.5% for every number of responses from 1 to 2,000 and every target from
50% to 99%. The same computation shows that reading the 95% Wilson interval as the
test would break this.
"""

import numpy as np
import pytest
from scipy import stats

from analysis import assess_target
from analysis.intervals import interval_bounds
from analysis.target import critical_counts, exact_tails

N = np.arange(1, 2001)
TARGETS = np.round(np.arange(0.50, 0.995, 0.01), 2)
GRID_N, GRID_T = np.meshgrid(N, TARGETS, indexing="ij")  # (2000, 50)


@pytest.fixture(scope="module")
def counts():
    return critical_counts(GRID_N, GRID_T)


def test_the_grid_is_every_n_from_1_to_2000_and_every_target_from_50_to_99_percent():
    assert GRID_N.shape == (2000, 50)
    assert TARGETS[0] == 0.50 and TARGETS[-1] == 0.99 and np.allclose(np.diff(TARGETS), 0.01)


def test_critical_counts_are_exactly_where_the_exact_tests_reject(counts):
    meets_from, below_to = counts.meets_from, counts.below_to
    p_meets_at, _ = exact_tails(np.minimum(meets_from, GRID_N), GRID_N, GRID_T)
    p_meets_before, _ = exact_tails(np.maximum(meets_from - 1, 0), GRID_N, GRID_T)
    _, p_below_at = exact_tails(np.maximum(below_to, 0), GRID_N, GRID_T)
    _, p_below_after = exact_tails(np.minimum(below_to + 1, GRID_N), GRID_N, GRID_T)
    inside = meets_from <= GRID_N
    assert np.all(p_meets_at[inside] < 0.025)
    assert np.all(p_meets_before[meets_from >= 1] >= 0.025)
    assert np.all(p_below_at[below_to >= 0] < 0.025)
    assert np.all(p_below_after[below_to < GRID_N] >= 0.025)


def test_false_meets_and_false_below_are_at_most_2_5_percent_for_every_n_and_target(counts):
    # Exact: the probability, at a true rate equal to the target, of every outcome the rule
    # calls "meets" (x >= meets_from) or "below" (x <= below_to).
    false_meets = stats.binom.sf(counts.meets_from - 1, GRID_N, GRID_T)
    false_below = stats.binom.cdf(counts.below_to, GRID_N, GRID_T)
    assert false_meets.max() <= 0.025
    assert false_below.max() <= 0.025
    # The rule is not vacuous: it decides, and its worst cases come close to the nominal level.
    assert false_meets.max() > 0.024 and false_below.max() > 0.024
    # At 2,000 responses every target up to 99% can be met and missed.
    assert np.all(counts.meets_from[-1] <= 2000) and np.all(counts.below_to[-1] >= 0)


def test_assess_target_decides_exactly_by_the_critical_counts_on_every_outcome_up_to_100():
    for target in TARGETS:
        n = np.repeat(np.arange(1, 101), np.arange(2, 102))
        x = np.concatenate([np.arange(k + 1) for k in range(1, 101)])
        result = assess_target(x, n, target)
        counts = critical_counts(n, target)
        expected = np.where(
            x >= counts.meets_from,
            "meets",
            np.where(x <= counts.below_to, "below", "inconclusive"),
        )
        np.testing.assert_array_equal(result.verdict, expected)
        # The interval shown beside the verdict says the same thing.
        np.testing.assert_array_equal(result.low > target, result.verdict == "meets")
        np.testing.assert_array_equal(result.high < target, result.verdict == "below")


def test_assess_target_decides_by_the_critical_counts_at_every_boundary_up_to_2000(counts):
    n = np.tile(GRID_N.ravel(), 4)
    t = np.tile(GRID_T.ravel(), 4)
    meets_from, below_to = counts.meets_from.ravel(), counts.below_to.ravel()
    x = np.concatenate([meets_from, meets_from - 1, below_to, below_to + 1])
    keep = (x >= 0) & (x <= n)
    result = assess_target(x[keep], n[keep], t[keep])
    mf, bt = np.tile(meets_from, 4)[keep], np.tile(below_to, 4)[keep]
    expected = np.where(x[keep] >= mf, "meets", np.where(x[keep] <= bt, "below", "inconclusive"))
    np.testing.assert_array_equal(result.verdict, expected)


def _wilson_error_rates(n, target):
    """Exact false "below" and false "meets" rates of the Wilson-interval rule at one n."""
    x = np.arange(n + 1)
    low, high = interval_bounds(x, np.full(x.shape, n), 0.95, "wilson")
    pmf = stats.binom.pmf(x, n, target)
    return pmf[high < target].sum(), pmf[low > target].sum()


@pytest.mark.parametrize(
    ("n", "target", "false_below"), [(10, 0.90, 0.070), (30, 0.95, 0.061), (11, 0.95, 0.102)]
)
def test_the_wilson_rule_it_replaces_had_the_error_rates_quoted_in_the_issue(
    n, target, false_below
):
    below, _meets = _wilson_error_rates(n, target)
    assert below == pytest.approx(false_below, abs=0.0005)
    result = critical_counts(n, target)
    assert stats.binom.cdf(result.below_to, n, target) <= 0.025
