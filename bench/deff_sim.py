"""Clustered ratings: what desk-day clustering does to the verdict, and what the design-effect
option buys back. A seeded simulation (the only way: the clustering model is not binomial).

Run: .venv/bin/python bench/deff_sim.py   (about a minute)

Model: an agency's ratings come in desk-day clusters of 10; each cluster's satisfaction
probability is drawn from a Beta distribution with mean equal to the agency's true rate and
intra-class correlation rho (beta-binomial; deff = 1 + 9 rho). The true rate equals the 90%
target, so every "below" or "meets" is false. The province has 200 such agencies, whose pooled
within-agency estimate is the shrinkage target. For each agency size we report the false
"below" rate (the false "meets" rate behaves alike, and is smaller at 90%) of:

- exact: the exact tests on the raw counts (the default without the option);
- deff (estimated): the same tests on n / deff, deff estimated from the agency's desk-days and
  shrunk toward the province (`analysis.design_effects`, 20 prior clusters);
- deff (true): on n / deff with the true design effect (the best one could do);

and, at rho = 0, the same rates (the price of the option when there is no clustering).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import assess_target  # noqa: E402
from analysis.design import cluster_moments, design_effects  # noqa: E402

TARGET = 0.9
SIZE = 10
AGENCIES = 200
PROVINCES = 40  # 8,000 agencies per cell
CLUSTERS = (3, 10, 30, 100)


def simulate(rho, clusters, rng):
    """False below / false meets rates of the three rules, over PROVINCES x AGENCIES."""
    results = np.zeros((3, 2))
    for _ in range(PROVINCES):
        n = np.full((AGENCIES, clusters), SIZE)
        if rho > 0:
            a, b = TARGET * (1 - rho) / rho, (1 - TARGET) * (1 - rho) / rho
            p = rng.beta(a, b, n.shape)
        else:
            p = np.full(n.shape, TARGET)
        x = rng.binomial(n, p)
        groups = np.repeat(np.arange(AGENCIES), clusters)
        moments = cluster_moments(x.ravel(), n.ravel(), groups)
        estimated = design_effects(moments).deff
        true = 1 + (SIZE - 1) * rho
        xs, ns = x.sum(axis=1), n.sum(axis=1)
        for i, deff in enumerate((None, estimated, true)):
            verdict = assess_target(xs, ns, TARGET, deff=deff).verdict
            results[i] += [(verdict == "below").mean(), (verdict == "meets").mean()]
    return results / PROVINCES


def main():
    rng = np.random.default_rng(20261130)
    print(
        "| rho | deff | responses (desk-days) | false below, exact | false below, deff "
        "(estimated) | false below, deff (true) | false meets, exact | false meets, deff "
        "(estimated) |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for rho in (0.0, 0.05, 0.10):
        for clusters in CLUSTERS:
            r = simulate(rho, clusters, rng)
            print(
                f"| {rho:.2f} | {1 + (SIZE - 1) * rho:.2f} | {clusters * SIZE} ({clusters}) | "
                f"{r[0, 0]:.1%} | {r[1, 0]:.1%} | {r[2, 0]:.1%} | {r[0, 1]:.1%} | {r[1, 1]:.1%} |"
            )


if __name__ == "__main__":
    main()
