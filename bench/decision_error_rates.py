"""Exact error rates of the verdict rule when the true rate equals the target (no simulation).

Run: .venv/bin/python bench/decision_error_rates.py

For n responses and a target t, the chance of a false "meets" is the sum of P(X = x | n, t)
over every x the rule calls "meets", and likewise for "below". Every outcome x = 0..n is
enumerated for every n from 1 to 2,000 and every target from 50% to 99% (step 1%), for the
rule in use (exact one-sided binomial tests at 2.5%, `analysis.assess_target`) and for the
rule it replaced (the 95% Wilson interval read as two one-sided tests). About half a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.intervals import interval_bounds  # noqa: E402
from analysis.target import critical_counts  # noqa: E402

N_MAX = 2000
TARGETS = np.round(np.arange(0.50, 0.995, 0.01), 2)
SHOWN = ((10, 0.90), (11, 0.95), (30, 0.95), (20, 0.90), (50, 0.95), (100, 0.90), (200, 0.95))


def wilson_rates(target):
    """False below and false meets of the Wilson rule for n = 1..N_MAX (all outcomes)."""
    n = np.repeat(np.arange(1, N_MAX + 1), np.arange(2, N_MAX + 2))
    x = np.concatenate([np.arange(k + 1) for k in range(1, N_MAX + 1)])
    low, high = interval_bounds(x, n, 0.95, "wilson")
    pmf = stats.binom.pmf(x, n, target)
    starts = np.concatenate(([0], np.cumsum(np.arange(2, N_MAX + 1))))
    below = np.add.reduceat(np.where(high < target, pmf, 0.0), starts)
    meets = np.add.reduceat(np.where(low > target, pmf, 0.0), starts)
    return below, meets


def exact_rates(target):
    n = np.arange(1, N_MAX + 1)
    counts = critical_counts(n, target)
    below = stats.binom.cdf(counts.below_to, n, target)
    meets = stats.binom.sf(counts.meets_from - 1, n, target)
    return below, meets


def main():
    worst = {"wilson": [0, 0, None, None], "exact": [0, 0, None, None]}
    cells = {}
    for target in TARGETS:
        for name, rates in (("wilson", wilson_rates(target)), ("exact", exact_rates(target))):
            below, meets = rates
            for k, values in enumerate((below, meets)):
                i = int(np.argmax(values))
                if values[i] > worst[name][k]:
                    worst[name][k] = values[i]
                    worst[name][k + 2] = (i + 1, float(target))
            for n, t in SHOWN:
                if np.isclose(t, target):
                    cells[(name, n, t)] = (below[n - 1], meets[n - 1])
    print("| rule | worst false below | at (n, target) | worst false meets | at (n, target) |")
    print("|---|---:|---|---:|---|")
    for name, label in (("wilson", "Wilson interval (before)"), ("exact", "exact tests (now)")):
        b, m, at_b, at_m = worst[name]
        print(
            f"| {label} | {b:.2%} | n = {at_b[0]}, {at_b[1]:.0%} | {m:.2%} | "
            f"n = {at_m[0]}, {at_m[1]:.0%} |"
        )
    print()
    print(
        "| n | target | false below, Wilson | false below, exact | false meets, Wilson |"
        " false meets, exact |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, t in SHOWN:
        wb, wm = cells[("wilson", n, t)]
        eb, em = cells[("exact", n, t)]
        print(f"| {n} | {t:.0%} | {wb:.1%} | {eb:.1%} | {wm:.1%} | {em:.1%} |")


if __name__ == "__main__":
    main()
