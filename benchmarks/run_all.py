"""Run every benchmark script in this folder (``make bench``); figures go to stdout.

Benchmarks are run by hand and quoted in closing notes, never as timed unit tests.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Scripts that make bench leaves out, with how to run them by hand and why.
BY_HAND = {
    "bench_engine.py": "python benchmarks/bench_engine.py (10 M and 100 M rows through "
    "DuckDB: a 1.4 GB Parquet file and some 20 minutes; --rows 10e6 for the small one)",
    "bench_workshop.py": "python benchmarks/bench_workshop.py (a room of 40 in Chromium: "
    "some 15 minutes and 14 GB of memory)",
}


def main() -> int:
    print(
        f"# {platform.platform()}, Python {platform.python_version()}, "
        f"{__import__('os').cpu_count()} cores"
    )
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n## {script.name}", flush=True)
        if script.name in BY_HAND:
            print(f"left out; run by hand: {BY_HAND[script.name]}")
            continue
        status |= subprocess.call([sys.executable, str(script)])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
