"""Statistics for citizen satisfaction rates: intervals, verdicts, funnel plots and more.

A pure package (numpy, scipy and matplotlib only; never Flask, SQLAlchemy or ``survey``) in
the style of :mod:`scipy.stats`: functions take arrays and broadcast, return frozen
dataclasses with named fields, and raise :class:`ValueError` naming the allowed values.
Charts live in :mod:`analysis.plots`. See ``docs/statistics.md``.
"""

from analysis.compare import CHANGES, PeriodComparison, compare_periods
from analysis.control import PChart, p_chart
from analysis.cusum import (
    BernoulliCusum,
    CusumRunLength,
    bernoulli_cusum,
    cusum_run_length,
    cusum_threshold,
)
from analysis.design import (
    ClusterMoments,
    DesignEffects,
    cluster_moments,
    design_effects,
    intraclass_correlation,
)
from analysis.funnel import FunnelLimits, Overdispersion, funnel_limits, overdispersion
from analysis.intervals import METHODS, ConfidenceInterval, LegacyMethodWarning, proportion_ci
from analysis.shrinkage import PRIOR_FITS, Shrinkage, shrink
from analysis.target import (
    ADJUSTMENTS,
    RESPONSES_IMPOSSIBLE,
    VERDICTS,
    CriticalCounts,
    TargetAssessment,
    adjust_pvalues,
    assess_target,
    critical_counts,
    exact_tails,
)
from analysis.weighting import WeightedRate, weighted_rate

__all__ = [
    "ADJUSTMENTS",
    "CHANGES",
    "METHODS",
    "PRIOR_FITS",
    "RESPONSES_IMPOSSIBLE",
    "VERDICTS",
    "BernoulliCusum",
    "ClusterMoments",
    "ConfidenceInterval",
    "CriticalCounts",
    "CusumRunLength",
    "DesignEffects",
    "FunnelLimits",
    "LegacyMethodWarning",
    "Overdispersion",
    "PChart",
    "PeriodComparison",
    "Shrinkage",
    "TargetAssessment",
    "WeightedRate",
    "adjust_pvalues",
    "assess_target",
    "bernoulli_cusum",
    "cluster_moments",
    "compare_periods",
    "critical_counts",
    "cusum_run_length",
    "cusum_threshold",
    "design_effects",
    "exact_tails",
    "funnel_limits",
    "intraclass_correlation",
    "overdispersion",
    "p_chart",
    "proportion_ci",
    "shrink",
    "weighted_rate",
]
