"""Speed of the analysis package against scalar scipy / statsmodels loops.

Run: .venv/bin/python bench/bench_analysis.py

Goals (docs/statistics.md): Wilson intervals for 1,000,000 agencies <= 100 ms; assess_target
for 10,000 agencies with exact p-values and Holm adjustment <= 50 ms. Scalar libraries are
timed on a subset and extrapolated linearly.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

# Run as a script from the repository root: make the package importable without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import assess_target, proportion_ci  # noqa: E402


def best_of(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def agencies(size, seed=0):
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 500, size)
    return rng.binomial(n, rng.beta(16, 4, size)), n


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    subset = 2_000
    rows = []

    x, n = agencies(1_000_000)
    ours = best_of(lambda: proportion_ci(x, n), 7)
    xs, ns = x[:subset].tolist(), n[:subset].tolist()
    pairs = list(zip(xs, ns, strict=True))
    scipy_loop = best_of(
        lambda: [stats.binomtest(k, m).proportion_ci(method="wilson") for k, m in pairs], 3
    ) * (x.size / subset)
    sm_loop = best_of(lambda: [proportion_confint(k, m, method="wilson") for k, m in pairs], 3) * (
        x.size / subset
    )
    sm_vector = best_of(lambda: proportion_confint(x, n, method="wilson"), 7)
    rows.append(
        (
            "proportion_ci, Wilson, 1,000,000 agencies",
            ours,
            0.100,
            [
                ("scipy binomtest().proportion_ci loop (extrapolated)", scipy_loop),
                ("statsmodels proportion_confint scalar loop (extrapolated)", sm_loop),
                ("statsmodels proportion_confint vectorised", sm_vector),
            ],
        )
    )

    for method, size in (("clopper_pearson", 100_000), ("jeffreys", 100_000), ("mid_p", 100_000)):
        rows.append(
            (
                f"proportion_ci, {method}, {size:,} agencies",
                best_of(lambda m=method, s=size: proportion_ci(x[:s], n[:s], method=m), 3),
                None,
                [],
            )
        )

    x, n = agencies(10_000, seed=1)
    ours = best_of(lambda: assess_target(x, n, 0.8, adjust="holm"), 15)
    xs, ns = x[:subset].tolist(), n[:subset].tolist()

    def scalar_assess():
        greater, less = [], []
        for k, m in zip(xs, ns, strict=True):
            greater.append(stats.binomtest(k, m, 0.8, alternative="greater").pvalue)
            less.append(stats.binomtest(k, m, 0.8, alternative="less").pvalue)
            stats.binomtest(k, m).proportion_ci(method="wilson")
        multipletests(greater, method="holm")
        multipletests(less, method="holm")

    scalar = best_of(scalar_assess, 3) * (x.size / subset)
    rows.append(
        (
            "assess_target, Wilson + exact p + Holm, 10,000 agencies",
            ours,
            0.050,
            [
                ("scipy binomtest x2 + proportion_ci loop + multipletests (extrapolated)", scalar),
            ],
        )
    )
    rows.append(
        (
            "assess_target, Wilson, no adjustment, 10,000 agencies",
            best_of(lambda: assess_target(x, n, 0.8), 15),
            None,
            [],
        )
    )

    print(f"machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"scalar loops timed on {subset:,} agencies and scaled up; best of several repeats\n")
    print("| task | analysis | goal | comparison | comparison time | comparison / analysis |")
    print("|---|---:|---:|---|---:|---:|")
    for task, seconds, goal, comparisons in rows:
        goal_text = (
            f"<= {goal * 1e3:.0f} ms {'ok' if seconds <= goal else 'MISSED'}" if goal else ""
        )
        if not comparisons:
            print(f"| {task} | {seconds * 1e3:.1f} ms | {goal_text} | | | |")
        for i, (label, other) in enumerate(comparisons):
            first = (task, f"{seconds * 1e3:.1f} ms", goal_text) if i == 0 else ("", "", "")
            ratio = other / seconds
            ratio_text = f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"
            print(f"| {' | '.join(first)} | {label} | {other * 1e3:,.0f} ms | {ratio_text} |")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        main()
