"""Call-activity speed target of issue #15 (run by hand: ``make bench``).

* 5 million call rows: ``read_calls`` on a DataFrame + the KPI table per rep and
  day + the hour x weekday table + the heatmap <= 10 s on the 2-core machine.

The record is synthetic and made in memory (not timed): 200 reps, 300,000
leads, 90 days of office hours, durations as seconds (``--text`` writes them
as ``mm:ss``, as exports do, to time the duration parser too), outcomes as
Chinese words.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

WORDS = np.array(["接通", "未接", "占线", "拒接", "空号"], dtype=object)


def make_record(rows: int, *, text: bool = False, seed: int = 0) -> pd.DataFrame:
    """``rows`` call attempts: time, rep, lead, duration, outcome."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-06").value
    day = rng.integers(0, 90, rows)
    second = rng.integers(8 * 3600, 20 * 3600, rows)
    time_ns = start + (day * 86_400 + second) * 10**9
    outcome = rng.choice(5, rows, p=[0.3, 0.4, 0.15, 0.1, 0.05])
    seconds = np.where(outcome == 0, rng.integers(1, 900, rows), 0)
    duration = seconds
    if text:
        minutes, rest = np.divmod(seconds, 60)
        duration = pd.Series(minutes.astype(str)).str.cat(
            pd.Series(rest).map("{:02d}".format), sep=":"
        )
    return pd.DataFrame(
        {
            "time": pd.to_datetime(time_ns),
            "rep": pd.Series(rng.integers(0, 200, rows)).map("rep{:03d}".format),
            "lead": rng.integers(0, 300_000, rows),
            "duration": duration,
            "outcome": WORDS[outcome],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--text", action="store_true", help="durations as mm:ss text")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import funnelsim as fs

    record = make_record(args.rows, text=args.text)
    t0 = time.perf_counter()
    calls = fs.read_calls(record)
    t1 = time.perf_counter()
    kpis = calls.kpis(by="rep", period="day")
    t2 = time.perf_counter()
    calls.by_hour()
    t3 = time.perf_counter()
    ax = fs.plotting.plot_call_heatmap(calls, annot="both")
    ax.figure.canvas.draw()
    t4 = time.perf_counter()
    print(
        f"bench_calls: {args.rows:,} rows{' (mm:ss text)' if args.text else ''}: "
        f"read_calls {t1 - t0:.2f} s, kpis {t2 - t1:.2f} s ({len(kpis):,} rows), "
        f"by_hour {t3 - t2:.2f} s, heatmap {t4 - t3:.2f} s; total {t4 - t0:.2f} s "
        f"(target <= 10 s)"
    )


if __name__ == "__main__":
    main()
