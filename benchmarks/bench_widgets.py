"""Speed of one widget update (run by hand: ``python benchmarks/bench_widgets.py``).

One update is what a trainer waits for after moving a slider: the lesson's
computation plus the redraw of its figure with the Agg backend, rendered to
the PNG the app shows. Target: median <= 200 ms for the revenue-steadiness
app at 2,000 reps x 52 weeks (and for the other apps at their defaults).

Each update changes the seed (or another input), so the app computes and
redraws every time; the first update after building is left out (warm-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import funnelsim as fs

TARGET_MS = 200.0


def median_update_ms(app: fs.widgets.App, name: str, step: float, repeat: int) -> float:
    """Median wall time of ``repeat`` updates that nudge control ``name`` up and down."""
    control = app.controls[name]
    control.value = control.value + step  # warm-up
    times = []
    for i in range(repeat):
        value = control.value + (step if i % 2 else -step)
        t0 = time.perf_counter()
        control.value = value
        times.append(time.perf_counter() - t0)
        if app.message:
            raise RuntimeError(app.message)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    steady = fs.widgets.make_revenue_steadiness(reps=2000, periods=52)
    cases = [
        ("revenue steadiness, 2,000 reps x 52 weeks, week by week", steady, "seed", 1, None),
        ("revenue steadiness, 2,000 reps x 52 weeks, calls slider", steady, "calls", 5, None),
        ("revenue steadiness, 2,000 reps x 52 weeks, month by month", steady, "seed", 1, "month"),
        ("revenue steadiness, 2,000 reps x 52 weeks, noise vs calls", steady, "seed", 1, "noise"),
        ("ratio game, dials slider", fs.widgets.make_ratio_game(), "calls", 1, None),
        ("ratio game, target", fs.widgets.make_ratio_game(), "target", 10_000, None),
        (
            "law of large numbers, 20 reps x 1,000 calls",
            fs.widgets.make_law_of_large_numbers(),
            "seed",
            1,
            None,
        ),
        (
            "law of large numbers, 200 reps x 20,000 calls (slider maxima)",
            fs.widgets.make_law_of_large_numbers(n=20_000, reps=200),
            "seed",
            1,
            None,
        ),
    ]
    worst = 0.0
    for label, app, name, step, view in cases:
        if view is not None:
            app.controls["view"].value = view
        ms = median_update_ms(app, name, step, args.repeat)
        worst = max(worst, ms)
        print(f"{label:<66} median {ms:6.1f} ms")
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(f"slowest median {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
