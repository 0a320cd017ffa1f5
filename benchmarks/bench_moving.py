"""Coverage of forecast bands when the ratio moves from period to period (issue #14, by hand).

A one-step funnel (400 calls a period, mean ratio 0.1) whose ratio is drawn
each period from a beta with intra-class correlation ``rho``: fit on ``history``
periods, forecast the next ``horizon`` periods' total with ``fs.forecast``
(``between="auto"``, the default), and count how often the 80 % band
(P10-P90) holds what happened. Beside it, ``claimed``: how often the band
would hold if the forecast were right (its own probability, a little above
0.80 for an inclusive band of counts), and the binomial SE. With ``rho`` 0 the
band is the fixed-ratio one unless the history's test rejects (5 % of the
time). Target: every cell within 3 SE of its claim.

    python benchmarks/bench_moving.py [--histories 400] [--reps 1000]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd

import funnelsim as fs

MEAN, CALLS = 0.1, 400


def one_cell(rho: float, history: int, horizon: int, histories: int, reps: int, seed: int):
    gen = np.random.default_rng(seed)
    inside, claims, moved = [], [], 0
    for _ in range(histories):
        if rho > 0:
            theta = 1 / rho - 1
            p = gen.beta(MEAN * theta, (1 - MEAN) * theta, history + horizon)
        else:
            p = np.full(history + horizon, MEAN)
        sales = gen.binomial(CALLS, p)
        counts = pd.DataFrame(
            {"period": [f"p{i:03d}" for i in range(history)], "calls": CALLS,
             "sales": sales[:history]}
        )  # fmt: skip
        fit = fs.fit(fs.read_log(counts, format="counts", stages=["calls", "sales"]))
        fc = fs.forecast(
            fit, calls=CALLS, periods=horizon, reps=reps, start="empty",
            rng=int(gen.integers(2**31)),
        )  # fmt: skip
        total = fc.sales.sum(axis=1)
        low, high = np.quantile(total, [0.1, 0.9])
        actual = sales[history:].sum()
        inside.append(low <= actual <= high)
        claims.append(np.mean((total >= low) & (total <= high)))
        moved += fc.dispersion is not None
    held, claim = float(np.mean(inside)), float(np.mean(claims))
    return held, claim, math.sqrt(claim * (1 - claim) / histories), moved / histories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=400)
    parser.add_argument("--reps", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    rows = []
    for rho in (0.0, 0.02, 0.1):
        for history in (10, 26):
            for horizon in (1, 13, 26):
                seed = int(1000 * rho) * 10_000 + history * 100 + horizon
                held, claim, se, moved = one_cell(
                    rho, history, horizon, args.histories, args.reps, seed
                )
                rows.append(
                    {"rho": rho, "history": history, "horizon": horizon, "held": held,
                     "claimed": claim, "se": se, "z": (held - claim) / se, "moved": moved}
                )  # fmt: skip
                print(pd.DataFrame(rows).tail(1).round(3).to_string(index=False, header=False))
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(f"{args.histories} histories per cell, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
