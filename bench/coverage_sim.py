"""Exact coverage of each interval method at 95% (no simulation needed).

Run: .venv/bin/python bench/coverage_sim.py

For a true rate p and n responses, coverage = sum over x = 0..n of P(X = x | n, p) times
[low(x) <= p <= high(x)]. Every x is enumerated, so the figures are exact.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

# Run as a script from the repository root: make the package importable without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import METHODS, LegacyMethodWarning, proportion_ci  # noqa: E402

SIZES = (5, 10, 20, 50, 100, 500)
RATES = (0.5, 0.6, 0.8, 0.9, 0.95)
CONFIDENCE = 0.95


def coverage(method, n, p):
    x = np.arange(n + 1)
    low, high = proportion_ci(x, np.full_like(x, n), CONFIDENCE, method)
    covered = (low <= p) & (p <= high)
    return float(np.sum(stats.binom.pmf(x, n, p) * covered))


def main():
    table = {(m, n, p): coverage(m, n, p) for m in METHODS for n in SIZES for p in RATES}
    print(f"Exact coverage (%) of nominal {CONFIDENCE:.0%} intervals\n")
    print("| n | p | " + " | ".join(METHODS) + " |")
    print("|---:|---:|" + "---:|" * len(METHODS))
    for n in SIZES:
        for p in RATES:
            cells = " | ".join(f"{100 * table[m, n, p]:.1f}" for m in METHODS)
            print(f"| {n} | {p:.2f} | {cells} |")
    for label, reduce in (("mean", np.mean), ("minimum", np.min)):
        cells = " | ".join(
            f"**{100 * reduce([table[m, n, p] for n in SIZES for p in RATES]):.1f}**"
            for m in METHODS
        )
        print(f"| {label} | | {cells} |")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyMethodWarning)
        main()
