"""Design effects of clustered ratings: the intra-class correlation of desk-day clusters.

Ratings given at one desk on one day are not independent: the same clerk, the same queue,
the same broken printer. With an intra-class correlation ``rho`` and clusters of (size-weighted)
mean size ``m``, the variance of a rate is ``deff = 1 + (m - 1) rho`` times the binomial one
(Kish 1965), and an agency's ``n`` ratings carry the information of ``n / deff`` independent
ones. This module estimates ``rho`` with the one-way ANOVA estimator for binary data, per
agency, shrunk toward the province's pooled within-agency value when the agency has few
clusters.

References
----------
.. [1] Kish, L. (1965). Survey Sampling. New York: Wiley, section 5.4.
.. [2] Fleiss, J. L. (1981). Statistical Methods for Rates and Proportions, 2nd ed. Wiley,
   section 13.2.
.. [3] Ridout, M. S., Demetrio, C. G. B. and Firth, D. (1999). Estimating intraclass
   correlation for binary data. Biometrics 55, 137-148.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._validation import check_counts, output

__all__ = [
    "ClusterMoments",
    "DesignEffects",
    "cluster_moments",
    "design_effects",
    "intraclass_correlation",
]

#: Default weight of the province's value, in clusters: an agency with this many desk-days
#: gets half its own estimate and half the province's.
PRIOR_CLUSTERS = 20


@dataclass(frozen=True)
class ClusterMoments:
    """Additive summaries of an agency's clusters: a pooled row's are the sum of its units'.

    Attributes
    ----------
    clusters : ndarray
        Number of clusters ``k``.
    groups : ndarray
        Number of agencies the clusters belong to (1 for an agency with responses, 0
        without; a pooled row: its units with responses). The between-cluster degrees of
        freedom are ``clusters - groups``: each agency's clusters vary around its own rate.
    trials : ndarray
        Responses ``N = sum n_i``.
    between : ndarray
        Between-cluster sum of squares around the agency's own rate,
        ``sum x_i^2 / n_i - X^2 / N``.
    within : ndarray
        Within-cluster sum of squares, ``X - sum x_i^2 / n_i``.
    size_spread : ndarray
        ``N - sum n_i^2 / N`` (the numerator of the ANOVA's mean cluster size ``n0``).
    sum_sq_sizes : ndarray
        ``sum n_i^2`` (for the size-weighted mean cluster size ``sum n_i^2 / N``).
    """

    clusters: np.ndarray
    groups: np.ndarray
    trials: np.ndarray
    between: np.ndarray
    within: np.ndarray
    size_spread: np.ndarray
    sum_sq_sizes: np.ndarray


@dataclass(frozen=True)
class DesignEffects:
    """Result of :func:`design_effects`; arrays of the agencies' shape.

    Attributes
    ----------
    deff : ndarray
        ``1 + (m - 1) rho`` with the shrunk ``rho``; 1 where nothing can be estimated.
    rho : ndarray
        The intra-class correlation used: the agency's own estimate shrunk toward the
        province's, floored at 0.
    rho_own : ndarray
        The agency's own ANOVA estimate (nan with fewer than 2 clusters or no variation).
    rho_province : float
        The province's pooled within-agency estimate (nan if none).
    weight : ndarray
        Weight of the agency's own estimate, ``k / (k + prior_clusters)`` (0 when it has none).
    clusters : ndarray
        Clusters ``k`` of each agency.
    cluster_size : ndarray
        Size-weighted mean cluster size ``m = sum n_i^2 / N``.
    """

    deff: np.ndarray
    rho: np.ndarray
    rho_own: np.ndarray
    rho_province: float
    weight: np.ndarray
    clusters: np.ndarray
    cluster_size: np.ndarray


def cluster_moments(successes, trials, groups=None) -> ClusterMoments:
    """The additive summaries of clusters, per group (agency).

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses of each cluster (a desk on a day), 1-D.
    groups : array_like of int, optional
        The group (agency index, 0..G-1) of each cluster; default: one group.

    Returns
    -------
    ClusterMoments
        Arrays of length G.

    References
    ----------
    Fleiss (1981), section 13.2 (the sums of squares of the one-way ANOVA).

    Examples
    --------
    >>> from analysis.design import cluster_moments
    >>> m = cluster_moments([2, 4, 0], [4, 4, 4])
    >>> float(m.between[0]), float(m.within[0]), float(m.size_spread[0])
    (2.0, 1.0, 8.0)
    """
    x, n, _scalar = check_counts(np.ravel(successes), np.ravel(trials))
    keep = n > 0
    x, n = x[keep], n[keep]
    g = np.zeros(x.size, dtype=np.int64) if groups is None else np.ravel(groups)[keep]
    g = np.asarray(g, dtype=np.int64)
    size = int(g.max()) + 1 if g.size else 1

    def total(values):
        return np.bincount(g, weights=values, minlength=size)

    k = np.bincount(g, minlength=size).astype(float)
    big_n, big_x = total(n), total(x)
    x2n = total(x * x / n)
    n2 = total(n * n)
    with np.errstate(invalid="ignore", divide="ignore"):
        between = np.where(big_n > 0, x2n - big_x**2 / np.where(big_n > 0, big_n, 1), 0.0)
        spread = np.where(big_n > 0, big_n - n2 / np.where(big_n > 0, big_n, 1), 0.0)
    return ClusterMoments(
        k, (k > 0).astype(float), big_n, np.maximum(between, 0.0), big_x - x2n, spread, n2
    )


def _anova_rho(k, groups, big_n, between, within, spread):
    """The ANOVA estimator from (pooled within-agency) moments; nan where undefined."""
    df_b, df_w = k - groups, big_n - k
    with np.errstate(invalid="ignore", divide="ignore"):
        msb = between / df_b
        msw = within / df_w
        n0 = spread / df_b
        rho = (msb - msw) / (msb + (n0 - 1.0) * msw)
    bad = (df_b < 1) | (df_w < 1) | ~np.isfinite(rho)
    return np.where(bad, np.nan, rho)


def intraclass_correlation(successes, trials) -> float:
    """One-way ANOVA estimate of the intra-class correlation of binary ratings in clusters.

    ``rho = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``MSB = (sum x_i^2/n_i - X^2/N) / (k-1)``,
    ``MSW = (X - sum x_i^2/n_i) / (N - k)`` and ``n0 = (N - sum n_i^2 / N) / (k - 1)``
    (Fleiss 1981; the "ANOVA" estimator of Ridout, Demetrio & Firth 1999, which they found
    among the best for binary data). It can be negative (clusters more alike than chance
    would make them differ); it is nan with fewer than 2 clusters, no within-cluster degrees
    of freedom, or identical answers everywhere.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses of each cluster.

    Returns
    -------
    float

    References
    ----------
    Fleiss (1981), section 13.2; Ridout, Demetrio & Firth (1999), Biometrics 55, 137-148.

    Examples
    --------
    Three desk-days of four ratings each, 2, 4 and 0 satisfied (MSB = 1, MSW = 1/9, n0 = 4):

    >>> from analysis.design import intraclass_correlation
    >>> round(intraclass_correlation([2, 4, 0], [4, 4, 4]), 6)
    0.666667
    """
    m = cluster_moments(successes, trials)
    return float(_anova_rho(m.clusters, m.groups, m.trials, m.between, m.within, m.size_spread)[0])


def design_effects(
    moments: ClusterMoments, prior_clusters: float = PRIOR_CLUSTERS, rho_province=None
) -> DesignEffects:
    """Design effects of agencies from their desk-day clusters, shrunk toward the province.

    Each agency's ANOVA estimate ``rho_a`` (:func:`intraclass_correlation`, from its own
    clusters) is pulled toward the province's pooled within-agency estimate ``rho_P`` (the
    same estimator on the sums of every agency's within-agency moments, so that differences
    between agencies do not count as clustering):

        ``rho = (k rho_a + c rho_P) / (k + c)``, ``c = prior_clusters``,

    a precision weighting in which the province's value counts as ``c`` clusters of the
    agency's own (an agency with 20 desk-days gets half of each). With fewer than 2 clusters,
    or no variation, ``rho = rho_P``; without a province value either, ``rho = 0``. ``rho`` is
    floored at 0 (a design effect below 1 would claim more information than independent
    ratings), and ``deff = 1 + (m - 1) rho`` with ``m = sum n_i^2 / N``, Kish's size-weighted
    mean cluster size (equal to the cluster size when all are equal).

    Parameters
    ----------
    moments : ClusterMoments
        Per agency, from :func:`cluster_moments` (a pooled row: the sum of its units').
    prior_clusters : float, optional
        Weight ``c`` of the province's value, in clusters. Default 20.
    rho_province : float, optional
        The province's value, when ``moments`` are not the province's agencies (pooled rows
        overlap their units); default: estimated from ``moments``.

    Returns
    -------
    DesignEffects

    References
    ----------
    Kish (1965), Survey Sampling, section 5.4; Ridout, Demetrio & Firth (1999).

    Examples
    --------
    >>> from analysis.design import cluster_moments, design_effects
    >>> moments = cluster_moments([2, 4, 0, 3, 3], [4, 4, 4, 4, 4], groups=[0, 0, 0, 1, 1])
    >>> result = design_effects(moments, prior_clusters=20)
    >>> result.rho_own.round(3).tolist(), round(result.rho_province, 3)
    ([0.667, -0.333], 0.429)
    >>> result.deff.round(3).tolist()
    [2.379, 2.078]
    """
    if prior_clusters < 0 or not np.isfinite(prior_clusters):
        raise ValueError("prior_clusters must be a finite number >= 0")
    k = np.asarray(moments.clusters, float)
    big_n = np.asarray(moments.trials, float)
    own = _anova_rho(k, moments.groups, big_n, moments.between, moments.within, moments.size_spread)
    if rho_province is None:
        province = float(
            _anova_rho(
                *(
                    np.sum(np.asarray(values, float))
                    for values in (
                        k,
                        moments.groups,
                        big_n,
                        moments.between,
                        moments.within,
                        moments.size_spread,
                    )
                )
            )
        )
    else:
        province = float(rho_province)
    fallback = 0.0 if np.isnan(province) else province
    weight = np.where(np.isnan(own), 0.0, k / (k + prior_clusters))
    rho = weight * np.nan_to_num(own) + (1.0 - weight) * fallback
    rho = np.clip(rho, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.where(big_n > 0, moments.sum_sq_sizes / np.where(big_n > 0, big_n, 1), 0.0)
    deff = np.maximum(1.0 + (np.maximum(size, 1.0) - 1.0) * rho, 1.0)
    return DesignEffects(
        deff=output(deff, False),
        rho=rho,
        rho_own=own,
        rho_province=province,
        weight=weight,
        clusters=k,
        cluster_size=size,
    )
