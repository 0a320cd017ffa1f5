"""Simulator speed targets of issue #2 (run by hand: ``make bench``).

* 10,000 reps x 52 weeks x 6 stages at 1,000 calls/week, 4-week cycle, gamma
  deal sizes: <= 0.5 s wall on the 2-core machine.
* The same at 100,000 calls/week: <= 1.3x the time at 1,000.
* ``method="binomial"`` >= 100x faster than ``method="per_call"`` at 1,000
  calls/week (per-call timed on fewer reps and scaled linearly).
"""

from __future__ import annotations

import argparse
import statistics
import time

import funnelsim as fs

FUNNEL = fs.Funnel(
    ["dials", "connects", "interested", "meetings", "proposals", "sales"],
    [0.5, 0.4, 0.5, 0.5, 0.5],
)
CYCLE = fs.Cycle(4)
DEAL = fs.DealSize.gamma(10_000, cv=0.8)


def timed(repeat: int, **kwargs) -> float:
    """Median wall time of ``repeat`` runs of :func:`funnelsim.simulate`."""
    times = []
    for seed in range(repeat):
        t0 = time.perf_counter()
        fs.simulate(FUNNEL, periods=52, cycle=CYCLE, deal_size=DEAL, rng=seed, **kwargs)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--per-call-reps", type=int, default=100)
    args = parser.parse_args()
    timed(1, calls=1_000, reps=10_000)  # warm-up
    # Low and high volume alternate, so that a slow spell of the machine hits both
    # alike; the ratio is the median of the per-pair ratios.
    lows, highs = [], []
    for _ in range(args.repeat):
        lows.append(timed(1, calls=1_000, reps=10_000))
        highs.append(timed(1, calls=100_000, reps=10_000))
    low, high = statistics.median(lows), statistics.median(highs)
    ratio = statistics.median(h / lo for h, lo in zip(highs, lows, strict=True))
    per_call = timed(3, calls=1_000, reps=args.per_call_reps, method="per_call")
    per_call_scaled = per_call * 10_000 / args.per_call_reps
    print(f"binomial, 10,000 reps x 52 weeks, 1,000 calls/week:   {low:.3f} s (target <= 0.5 s)")
    print(
        f"binomial, 10,000 reps x 52 weeks, 100,000 calls/week: {high:.3f} s "
        f"= {ratio:.2f}x, median of {args.repeat} alternating pairs (target <= 1.3x)"
    )
    print(
        f"per_call, {args.per_call_reps} reps: {per_call:.3f} s -> {per_call_scaled:.1f} s for "
        f"10,000 reps = {per_call_scaled / low:.0f}x binomial (target >= 100x)"
    )


if __name__ == "__main__":
    main()
