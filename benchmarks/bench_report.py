"""Wall time of ``funnelsim report`` on the sample data (``python benchmarks/bench_report.py``).

What an analyst waits for: the whole command in a fresh process (start-up and
imports included), reading ``data/sample_events.csv``, fitting, comparing the
reps, the sales cycle, the plan and a 13-week forecast at 10,000 replicates
with revenue from the log's deal sizes, and writing the HTML file with its
embedded figures. Target: <= 15 s. The median of ``--repeat`` runs is
reported, with the user + system CPU time of the child (on a busy machine
the wall time is larger than the CPU time).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 15.0
ROOT = Path(__file__).resolve().parents[1]
STAGES = "dial,connect,meeting,proposal,sale"


def one_run(output: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``funnelsim report`` in a fresh process."""
    args = [sys.executable, "-m", "funnelsim", "report", "data/sample_events.csv"]
    args += ["--stages", STAGES, "--as-of", "2025-06-30 18:00", "--by", "rep"]
    args += ["--target", "800000", "--deal-size", "log", "--probability", "0.9"]
    args += ["--periods", "13", "--reps", "10000", "--seed", "1", "-q", "-o", str(output)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "report.html"
        runs = [one_run(output) for _ in range(args.repeat)]
        size = output.stat().st_size / 1e6
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    verdict = "ok" if wall <= TARGET_S else "SLOW"
    print(
        f"funnelsim report, sample events (6,000 leads, by rep, target, 10,000 reps x 13 weeks): "
        f"median {wall:.1f} s wall, {cpu:.1f} s CPU over {args.repeat} runs; "
        f"{size:.2f} MB HTML; target <= {TARGET_S:.0f} s: {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
