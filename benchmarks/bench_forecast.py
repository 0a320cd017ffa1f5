"""Forecast speed target of issue #4 (run by hand: ``make bench``).

* 13 weeks x 10,000 replicates with parameter uncertainty (every replicate
  draws its own ratios from the fit): <= 1 s wall on the 2-core machine.
  Timed on the sample weekly tracking table (dials -> connects -> meetings
  -> sales), a 4-week cycle and gamma deal sizes; the time includes the
  point-estimate forecast made beside it for ``compare_bands``. Also timed
  per rep (6 funnels, the team's total) and for ``plan_calls``.
* The same with ratios that move from week to week (issue #14: ``between=``,
  here a dispersion of the sample's steps with rho 0.01 on each), whose
  cost should stay close to the fixed-ratio forecast's.

The machine is shared, so the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import funnelsim as fs

DATA = Path(__file__).resolve().parents[1] / "data"
STAGES = ["dials", "connects", "meetings", "sales"]
DEAL = fs.DealSize.gamma(20_000, cv=0.6)


def timed(repeat: int, run) -> float:
    """Median wall time of ``repeat`` calls of ``run(seed)``."""
    times = []
    for seed in range(repeat):
        t0 = time.perf_counter()
        run(seed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    log = fs.read_log(
        DATA / "sample_counts.csv",
        format="counts",
        stages=STAGES,
        columns={"period": "week", "amount": "revenue"},
    )
    team = fs.fit(log)
    by_rep = fs.fit(log, by="rep")

    def pooled(seed: int) -> None:
        fs.forecast(team, 450, 13, 10_000, cycle=4, deal_size=DEAL, rng=seed)

    def per_rep(seed: int) -> None:
        fs.forecast(by_rep, 75, 13, 10_000, cycle=4, deal_size=DEAL, rng=seed)

    def plan(seed: int) -> None:
        fs.plan_calls(by_rep, 1_000_000, 0.9, periods=13, deal_size=DEAL, rng=seed)

    moves = fs.dispersion(log, period="period")
    table = moves.table.assign(rho=0.01, p_value=0.0)  # every step moves, rho 0.01
    moves = fs.overdispersion.Dispersion(moves.stages, "period", 0.95, table)

    def pooled_moving(seed: int) -> None:
        fs.forecast(team, 450, 13, 10_000, cycle=4, deal_size=DEAL, rng=seed, between=moves)

    def per_rep_moving(seed: int) -> None:
        fs.forecast(by_rep, 75, 13, 10_000, cycle=4, deal_size=DEAL, rng=seed, between=moves)

    def plan_moving(seed: int) -> None:
        fs.plan_calls(by_rep, 1_000_000, 0.9, periods=13, deal_size=DEAL, rng=seed, between=moves)

    pooled(0)  # warm-up
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t_pooled = timed(args.repeat, pooled)
    t_rep = timed(args.repeat, per_rep)
    t_plan = timed(3, plan)
    t_pooled_moving = timed(args.repeat, pooled_moving)
    t_rep_moving = timed(args.repeat, per_rep_moving)
    t_plan_moving = timed(3, plan_moving)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cores = os.cpu_count()
    print(f"load average (1 min): {load:.2f} before, {load_after:.2f} after; {cores} cores")
    print(
        f"forecast, 13 weeks x 10,000 replicates, ratio uncertainty, team fit: "
        f"{t_pooled:.3f} s median of {args.repeat} (target <= 1 s)"
    )
    print(f"forecast, the same per rep (6 funnels, team total): {t_rep:.3f} s")
    print(f"plan_calls, 6 reps + team, revenue target, 4,000 draws: {t_plan:.3f} s")
    print(f"with ratios moving week to week: forecast team {t_pooled_moving:.3f} s, ", end="")
    print(f"per rep {t_rep_moving:.3f} s, plan_calls {t_plan_moving:.3f} s")


if __name__ == "__main__":
    main()
