"""The indicator score (0-2 points per indicator, total out of 18), its interval and class."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.points import (
    DEFAULT_CLASSES,
    ScoreMoments,
    classify_score,
    indicator_score,
    indicator_scores,
    moments_width,
    stack_moments,
    unstack_moments,
)


def _simulate(rng, n, cuts, rho=0.5, answered=0.8, indicators=9):
    """Correlated answers: a citizen's mood drives all of their indicators; each indicator is
    skipped with probability 1 - `answered`."""
    mood = rng.standard_normal((n, 1))
    latent = math.sqrt(rho) * mood + math.sqrt(1 - rho) * rng.standard_normal((n, indicators))
    points = np.where(latent > cuts[1], 2.0, np.where(latent > cuts[0], 1.0, 0.0))
    points[rng.random((n, indicators)) > answered] = np.nan
    return points


def _true_total(cuts, indicators=9):
    return indicators * (stats.norm.sf(cuts[0]) + stats.norm.sf(cuts[1]))


def test_means_and_total_are_the_available_case_means_of_the_answers():
    rng = np.random.default_rng(1)
    points = _simulate(rng, 40, (-1.0, 0.2))
    score = indicator_score(ScoreMoments.from_points(points), maximum=18)
    expected = np.nanmean(points, axis=0)
    np.testing.assert_allclose(score.means, expected)
    assert score.total == pytest.approx(expected.sum())
    np.testing.assert_array_equal(score.answers, (~np.isnan(points)).sum(axis=0))


def test_with_every_indicator_answered_the_interval_is_the_t_interval_of_the_totals():
    rng = np.random.default_rng(2)
    points = _simulate(rng, 30, (-1.0, 0.2), answered=1.0)
    totals = points.sum(axis=1)
    score = indicator_score(ScoreMoments.from_points(points), maximum=18, confidence=0.9)
    se = totals.std(ddof=1) / math.sqrt(30)
    assert score.se == pytest.approx(se)
    half = stats.t.ppf(0.95, 29) * se
    assert (score.low, score.high) == pytest.approx((totals.mean() - half, totals.mean() + half))


def test_moments_add_up_like_the_responses_they_summarise():
    rng = np.random.default_rng(3)
    first, second = _simulate(rng, 25, (-1, 0)), _simulate(rng, 35, (-0.5, 0.5))
    pooled = ScoreMoments.from_points(first)
    pooled.add(ScoreMoments.from_points(second))
    together = indicator_score(ScoreMoments.from_points(np.vstack([first, second])), 18)
    assert indicator_score(pooled, 18).total == pytest.approx(together.total)
    assert indicator_score(pooled, 18).se == pytest.approx(together.se)


def test_patterns_with_counts_equal_the_repeated_responses():
    patterns = np.array([[2, 1, np.nan], [0, 2, 2]])
    repeated = np.array([[2, 1, np.nan]] * 3 + [[0, 2, 2]] * 5)
    a = indicator_score(ScoreMoments.from_points(patterns, [3, 5]), 6)
    b = indicator_score(ScoreMoments.from_points(repeated), 6)
    assert (a.total, a.se, a.responses) == pytest.approx((b.total, b.se, b.responses))


def test_an_unanswered_indicator_leaves_the_total_undefined():
    score = indicator_score(ScoreMoments.from_points([[2, np.nan], [1, np.nan]]), 4)
    assert math.isnan(score.total) and math.isnan(score.low)
    assert score.means[0] == 1.5


def test_the_interval_stays_within_zero_and_the_maximum():
    score = indicator_score(ScoreMoments.from_points([[2, 2], [2, 2], [2, 1]]), 4)
    assert 0 <= score.low <= score.total <= score.high <= 4


@pytest.mark.parametrize(
    ("cuts", "n"),
    [((-1.6, -0.3), 50), ((-1.6, -0.3), 200), ((-0.2, 0.8), 200), ((-2.3, -1.2), 200)],
    ids=["typical-50", "typical-200", "low-200", "high-200"],
)
def test_the_95_percent_interval_covers_the_true_total_about_95_percent_of_the_time(cuts, n):
    # Seeded simulation, 1,500 samples per case (about a second): 9 correlated indicators
    # (rho = 0.5), each skipped by 20% of citizens. The binomial standard error of the
    # coverage is 0.56 points, so [93%, 97%] fails when the variance is off by about 15%
    # (treating the indicators as independent gives 71% in the typical case).
    rng = np.random.default_rng(20261130)
    truth = _true_total(cuts)
    hits = 0
    for _ in range(1500):
        score = indicator_score(ScoreMoments.from_points(_simulate(rng, n, cuts)), 18)
        hits += score.low <= truth <= score.high
    assert 0.93 <= hits / 1500 <= 0.97


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (18, "xuat_sac"),
        (15.01, "xuat_sac"),
        (15, "tot"),
        (12, "tot"),
        (11.99, "kha"),
        (9, "kha"),
        (8.5, "trung_binh"),
        (6, "trung_binh"),
        (5.99, "yeu"),
        (0, "yeu"),
    ],
)
def test_the_default_classes_follow_the_provincial_portal(total, expected):
    assert classify_score(total) == expected


def test_classes_rescale_a_total_out_of_another_maximum_and_take_custom_bounds():
    assert classify_score(10, maximum=10) == "xuat_sac"  # 18 out of 18
    custom = (("dat", 9.0, True), ("khong_dat", -math.inf, True))
    assert classify_score(9, classes=custom) == "dat"
    assert classify_score(8.9, classes=custom) == "khong_dat"
    assert classify_score(math.nan) is None
    assert DEFAULT_CLASSES[0][0] == "xuat_sac"


FIELDS = ("pairs", "sums", "products")


def test_batch_scores_equal_one_set_at_a_time():
    """`indicator_scores` (a report's 5,000 agencies at once) gives each group exactly what
    `indicator_score` gives it alone, including a group without rows, one with a single
    response and one that never answered an indicator."""
    rng = np.random.default_rng(7)
    points = _simulate(rng, 300, (-1.0, 0.3), answered=0.7, indicators=4)
    counts = rng.integers(1, 4, size=300)
    groups = rng.integers(0, 5, size=300)
    groups[groups == 3] = 2  # group 3 has no rows
    points[groups == 4, 1] = np.nan  # group 4 never answers indicator 1
    single = np.array([[2.0, 1.0, 1.0, 0.0]])
    points, counts, groups = (
        np.vstack([points, single]),
        np.r_[counts, 1],
        np.r_[groups, 5],  # group 5: one response
    )
    each = [
        ScoreMoments.from_points(points[groups == g].reshape(-1, 4), counts[groups == g])
        for g in range(7)
    ]
    pairs, sums, products = (np.stack([getattr(m, name) for m in each]) for name in FIELDS)
    responses = np.array([m.responses for m in each])
    batch = indicator_scores(pairs, sums, products, responses, 8.0, 0.9)
    for group, alone in enumerate(each):
        expected = indicator_score(alone, 8.0, 0.9)
        for name in ("total", "low", "high", "se"):
            got, want = getattr(batch, name)[group], getattr(expected, name)
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want), name
        np.testing.assert_allclose(batch.means[group], expected.means, equal_nan=True)
    assert responses[3] == 0 and math.isnan(batch.total[3])
    assert math.isnan(batch.total[4]) and not math.isnan(batch.means[4][0])
    assert responses[5] == 1 and batch.total[5] == 4.0 and math.isnan(batch.se[5])
    assert not math.isnan(batch.se[0])


def test_stacked_moments_read_back_and_pool_by_adding_rows():
    rng = np.random.default_rng(3)
    points = np.where(rng.random((40, 3)) < 0.3, np.nan, rng.integers(0, 3, (40, 3)).astype(float))
    one, two = ScoreMoments.from_points(points[:25]), ScoreMoments.from_points(points[25:])
    rows = np.vstack(
        [
            stack_moments([m.responses], m.pairs[None], m.sums[None], m.products[None])
            for m in (one, two)
        ]
    )
    assert rows.shape == (2, moments_width(3))
    responses, pairs, sums, products = unstack_moments(rows.sum(axis=0, keepdims=True), 3)
    both = ScoreMoments.from_points(points)
    assert responses[0] == both.responses
    np.testing.assert_allclose(pairs[0], both.pairs)
    np.testing.assert_allclose(sums[0], both.sums)
    np.testing.assert_allclose(products[0], both.products)
    with pytest.raises(ValueError, match="28 columns"):
        unstack_moments(rows[:, :-1], 3)
