"""Coverage of the overall interval of a fit with ``mature=`` (issue #14, run by hand).

With ``mature=`` each step has its own cohort and ``fit(...).overall`` is the
product of the steps' posteriors (Jeffreys for the lower limit, half a pass
more per step for the upper one). This script simulates logs of funnels of 3,
4 and 5 steps with 50, 500 and 5,000 first-stage leads, with every lead mature
(``young 0.0``) or 30 % of each step's passes too young for the next step
(``young 0.3``), and prints how often the 95 % interval holds the true overall
rate, beside the plain Jeffreys product (both limits from Jeffreys posteriors)
that it replaced. Target: at least 0.94 in every cell.

    python benchmarks/bench_coverage.py [--reps 4000] [--draws 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from funnelsim.estimate import Fit

FUNNELS = {3: (0.5, 0.3, 0.4), 4: (7 / 15, 0.3, 0.4, 0.35), 5: (0.47, 0.22, 0.44, 0.29, 0.5)}
LEADS = (50, 500, 5000)


def simulate_counts(ratios, leads, young, reps, gen):
    """``(passed, entered)`` arrays (reps, steps): each step's cohort is the previous
    step's passes less the young ones."""
    entered = np.full(reps, leads)
    k_cols, n_cols = [], []
    for r in ratios:
        passed = gen.binomial(entered, r)
        n_cols.append(entered)
        k_cols.append(passed)
        entered = passed - gen.binomial(passed, young)
    return np.column_stack(k_cols), np.column_stack(n_cols)


def product_limits(k, n, draws, gen, *, upper_shift=1.0):
    """The package's product interval (``upper_shift=1``) or plain Jeffreys (0.5), per row,
    computed once per distinct row of counts."""
    steps = k.shape[1]
    rows, inverse = np.unique(np.hstack([k, n]), axis=0, return_inverse=True)
    ku, nu = rows[:, :steps], rows[:, steps:]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = ku / nu
    stages = tuple(f"s{i}" for i in range(steps + 1))
    table = pd.DataFrame(
        {
            "log": np.repeat(np.arange(len(rows)), steps),
            "stage": np.tile(stages[1:], len(rows)),
            "entered": nu.ravel(),
            "passed": ku.ravel(),
            "ratio": ratio.ravel(),
            "low": np.nan,
            "high": np.nan,
            "young": 0,
        }
    )
    f = Fit(stages, table, ("log",), 0.95, "wilson", mature=30.0, unit="days")
    if upper_shift == 1.0:
        o = f.overall_interval(draws=draws, rng=gen).to_frame()
        low, high = o["low"].to_numpy(), o["high"].to_numpy()
    else:  # both limits from the Jeffreys posteriors
        a, b = ku + 0.5, nu - ku + 0.5
        x = gen.beta(a[:, None, :], b[:, None, :], size=(len(rows), draws, steps)).prod(axis=2)
        low, high = np.quantile(x, [0.025, 0.975], axis=1)
        low = np.where((ratio == 0).any(axis=1), 0.0, low)  # the boundary rule
    inverse = inverse.ravel()
    return low[inverse], high[inverse]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000)
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    se = math.sqrt(0.95 * 0.05 / args.reps)
    print(
        f"95 % intervals, {args.reps:,} logs per cell (coverage SE {se:.4f}), {args.draws:,} draws"
    )
    print("young steps leads final_events  coverage  jeffreys_product")
    worst = 1.0
    t0 = time.perf_counter()
    for young in (0.0, 0.3):
        for steps, ratios in FUNNELS.items():
            truth = math.prod(ratios)
            for leads in LEADS:
                gen = np.random.default_rng([steps, leads, int(10 * young)])
                k, n = simulate_counts(ratios, leads, young, args.reps, gen)
                final = leads * truth * (1 - young) ** (steps - 1)
                got = []
                for shift in (1.0, 0.5):
                    low, high = product_limits(k, n, args.draws, gen, upper_shift=shift)
                    got.append(float(np.mean((low <= truth) & (truth <= high))))
                worst = min(worst, got[0])
                cells = f"{young:5.1f} {steps:5d} {leads:5d} {final:12.1f}"
                print(f"{cells}  {got[0]:8.3f}  {got[1]:16.3f}")
    print(f"lowest coverage {worst:.3f} (target >= 0.94); {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
