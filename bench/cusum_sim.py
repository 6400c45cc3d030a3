"""The CUSUM alert's false alarms and detection delays: Markov chain against seeded simulation.

Run: .venv/bin/python bench/cusum_sim.py   (about a minute; the figures are in
docs/statistics.md, "Noticing a drop: the CUSUM alert")

For each yearly volume and baseline dissatisfied share, the threshold h is chosen for one false
alarm a year (in-control ARL = the yearly volume, odds ratio 2, as `flask alerts run` does).
The table gives the Markov-chain ARL, the false alarms of 400 simulated agency-years (seeded),
and how many ratings it takes to notice the dissatisfied share doubling in odds, and a jump to
three times the share (10% -> 30%), on average and in nine cases out of ten.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import bernoulli_cusum, cusum_run_length, cusum_threshold  # noqa: E402

VOLUMES = (200, 1000, 5000)
SHARES = (0.05, 0.10, 0.20)
YEARS = 400
SEED = 16


def odds_shift(before: float, after: float) -> float:
    return (after / (1 - after)) / (before / (1 - before))


def main() -> None:
    rng = np.random.default_rng(SEED)
    print(
        "| ratings a year | baseline dissatisfied | h | ARL (Markov) | false alarms a year "
        "(simulated) | odds x2: mean / 90% | share x3: mean / 90% |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for volume in VOLUMES:
        for share in SHARES:
            h = cusum_threshold(share, arl=volume)
            arl = cusum_run_length(share, h).arl
            years = bernoulli_cusum(rng.random((YEARS, volume)) < share, share, h)
            alarms = years.alarm.sum(axis=1)
            doubled = cusum_run_length(share, h, shift=2.0, quantiles=(0.9,))
            tripled = cusum_run_length(
                share, h, shift=odds_shift(share, min(0.9, 3 * share)), quantiles=(0.9,)
            )
            print(
                f"| {volume:,} | {share:.0%} | {h:.2f} | {arl:,.0f} | "
                f"{alarms.mean():.2f} ± {alarms.std() / np.sqrt(YEARS):.2f} | "
                f"{doubled.arl:.0f} / {doubled.run_lengths[0]} | "
                f"{tripled.arl:.0f} / {tripled.run_lengths[0]} |"
            )


if __name__ == "__main__":
    main()
