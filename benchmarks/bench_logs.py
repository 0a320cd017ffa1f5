"""Log-reading speed targets of issue #3 (run by hand: ``make bench``).

* A 10-million-row events log in Parquet: ``read_log`` + ``fit`` by rep
  <= 15 s wall and <= 4 GB peak memory on the 2-core machine.
* The same figures for a CSV log (2 million rows by default; ``--csv-rows``).

Each measurement runs in a fresh subprocess so that its peak memory (max RSS)
is its own. The log is synthetic: leads pass dial -> connect -> meeting ->
proposal -> sale with fixed ratios, one row per lead and stage reached.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

STAGES = ["dial", "connect", "meeting", "proposal", "sale"]
RATIOS = [0.45, 0.3, 0.5, 0.4]


def make_events(rows: int, seed: int = 0) -> pd.DataFrame:
    """About ``rows`` events: one per lead and stage reached."""
    rng = np.random.default_rng(seed)
    leads = int(rows / (1 + sum(np.cumprod(RATIOS))))  # expected rows per lead
    reached = np.ones(leads, dtype=np.int64)
    alive = np.ones(leads, dtype=bool)
    for r in RATIOS:
        alive &= rng.random(leads) < r
        reached += alive
    lead = np.repeat(np.arange(leads), reached)
    step = np.arange(lead.size) - np.repeat(np.cumsum(reached) - reached, reached)
    start = pd.Timestamp("2024-01-01").value + rng.integers(0, 365 * 86_400, leads) * 10**9
    time_ns = np.repeat(start, reached) + step * 3 * 86_400 * 10**9
    return pd.DataFrame(
        {
            "lead": lead,
            "stage": np.asarray(STAGES)[step],
            "time": pd.to_datetime(time_ns),
            "rep": np.repeat(rng.integers(0, 200, leads), reached).astype(str),
        }
    )


def _child(path: str, fmt: str) -> None:
    import funnelsim as fs

    t0 = time.perf_counter()
    log = fs.read_log(path, format="events", stages=STAGES)
    t1 = time.perf_counter()
    fs.fit(log, by="rep").to_frame()
    t2 = time.perf_counter()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 2**20  # KiB -> GiB
    print(json.dumps({"read": t1 - t0, "fit": t2 - t1, "peak_gib": peak}))


def measure(path: Path, fmt: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), fmt],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--csv-rows", type=int, default=2_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "events.parquet"
        events = make_events(args.rows)
        events.to_parquet(parquet, index=False)
        csv = Path(tmp) / "events.csv"
        events.iloc[: args.csv_rows].to_csv(csv, index=False)
        n_parquet, n_csv = len(events), min(len(events), args.csv_rows)
        del events
        for path, n, label in ((parquet, n_parquet, "Parquet"), (csv, n_csv, "CSV")):
            r = measure(path, label)
            total = r["read"] + r["fit"]
            print(
                f"{label:7s} {n:>11,} rows: read_log {r['read']:.2f} s + fit(by='rep') "
                f"{r['fit']:.2f} s = {total:.2f} s, peak {r['peak_gib']:.2f} GiB"
                + ("  (target <= 15 s, <= 4 GB)" if label == "Parquet" else "")
            )


if __name__ == "__main__":
    main()
