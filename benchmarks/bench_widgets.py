"""Speed of one widget update (run by hand: ``python benchmarks/bench_widgets.py``).

One update is what a trainer waits for after moving a slider: the lesson's
computation plus the redraw of its figure with the Agg backend, rendered to
the PNG the app shows. Target: median <= 200 ms for the revenue-steadiness
app at 2,000 reps x 52 weeks (and for the other apps at their defaults).

Each update changes the seed (or another input), so the app computes and
redraws every time, except the entries marked "redraw only" (a view control:
the step, the view or the group of the comparing-reps app); the first update
after building is left out (warm-up). ``--only log`` runs just the apps of
notebooks 04-06 on the sample logs (any text in the entries' labels works).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import funnelsim as fs
from funnelsim import lessons

TARGET_MS = 200.0
DATA = Path(__file__).resolve().parents[1] / "data"
STAGES = ["dial", "connect", "meeting", "proposal", "sale"]


def median_update_ms(
    app: fs.widgets.App, name: str, step: float | Sequence[object], repeat: int
) -> tuple[float, float]:
    """Median wall and CPU time (this process) of ``repeat`` updates of control ``name``.

    A number ``step`` nudges the control up and down by it; a sequence of
    values is cycled through (dropdowns, toggles, selection sliders). On a
    busy machine the wall time includes waiting for a core; the CPU time
    does not (but still counts threads that spin while they wait).
    """
    control = app.controls[name]
    if isinstance(step, int | float):
        values = [control.value + step, control.value]
    else:
        values = list(step)
    control.value = values[0]  # warm-up
    times, cpu = [], []
    for i in range(repeat):
        value = values[(i + 1) % len(values)]
        t0, c0 = time.perf_counter(), time.process_time()
        control.value = value
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if app.message:
            raise RuntimeError(app.message)
    return 1000 * statistics.median(times), 1000 * statistics.median(cpu)


def _events():
    return fs.read_log(
        DATA / "sample_events.csv", format="events", stages=STAGES, as_of="2025-06-30 18:00"
    )


def _weekly():
    return fs.read_log(
        DATA / "sample_counts.csv",
        format="counts",
        stages=["dials", "connects", "meetings", "sales"],
        columns={"period": "week", "amount": "revenue"},
    )


def _cases() -> list[tuple[str, Callable[[], fs.widgets.App], str, object, str | None]]:
    """(label, build the app, control, step or values, view) for every entry."""

    def ratios():
        q1 = lessons.cohort(_events(), end="2025-04-01")
        return fs.widgets.make_estimating_ratios(q1)

    def as_of_dates(app):
        return [value for _, value in app.controls["as_of"].options[-4:]]

    def rep_day():
        return fs.widgets.make_rep_day(fs.datasets.load_calls(), rep="赵磊")

    def days(app):
        return [value for _, value in app.controls["day"].options[-4:]]

    def call_times():
        return fs.widgets.make_call_times(fs.datasets.load_calls())

    def qualification():
        return fs.widgets.make_qualification(fs.datasets.load_qualified_leads())

    def split():
        history = lessons.monthly_history(fs.datasets.load_deal_history(), year=2024)
        funnel = fs.fit(_events(), mature=60).to_funnel()
        return fs.widgets.make_target_split(history, funnel, deal_size=20_000)

    def attainment():
        history = lessons.monthly_history(fs.datasets.load_deal_history(), year=2024)
        return fs.widgets.make_attainment(_events(), history, deal_size=20_000)

    steady = lambda: fs.widgets.make_revenue_steadiness(reps=2000, periods=52)  # noqa: E731
    cycle = fs.widgets.make_sales_cycle
    reps = fs.widgets.make_comparing_reps
    return [
        ("revenue steadiness, 2,000 reps x 52 weeks, week by week", steady, "seed", 1, None),
        ("revenue steadiness, 2,000 reps x 52 weeks, calls slider", steady, "calls", 5, None),
        ("revenue steadiness, 2,000 reps x 52 weeks, month by month", steady, "seed", 1, "month"),
        ("revenue steadiness, 2,000 reps x 52 weeks, noise vs calls", steady, "seed", 1, "noise"),
        ("ratio game, dials slider", fs.widgets.make_ratio_game, "calls", 1, None),
        ("ratio game, target", fs.widgets.make_ratio_game, "target", 10_000, None),
        (
            "law of large numbers, 20 reps x 1,000 calls",
            fs.widgets.make_law_of_large_numbers,
            "seed",
            1,
            None,
        ),
        (
            "law of large numbers, 200 reps x 20,000 calls (slider maxima)",
            lambda: fs.widgets.make_law_of_large_numbers(n=20_000, reps=200),
            "seed",
            1,
            None,
        ),
        # the apps of notebooks 04-06, on the sample logs
        (
            "log 04 estimating ratios, Q1 leads, method",
            ratios,
            "method",
            fs.intervals.METHODS,
            None,
        ),
        (
            "log 04 estimating ratios, Q1 leads, level slider",
            ratios,
            "confidence_level",
            0.01,
            None,
        ),
        (
            "log 04 estimating ratios, Q1 leads, coverage step",
            ratios,
            "stage",
            STAGES[1:],
            "coverage",
        ),
        (
            "log 04 sample size, margin slider",
            fs.widgets.make_sample_size,
            "half_width",
            0.005,
            None,
        ),
        (
            "log 06 sales cycle, 6,000 leads, stale quantile",
            lambda: cycle(_events()),
            "quantile",
            0.01,
            None,
        ),
        (
            "log 06 sales cycle, 6,000 leads, as-of date",
            lambda: cycle(_events()),
            "as_of",
            as_of_dates,
            None,
        ),
        (
            "log 05 comparing reps, 6,000 leads, level slider",
            lambda: reps(_events()),
            "confidence_level",
            0.01,
            None,
        ),
        (
            "log 05 comparing reps, 6,000 leads, rep / source",
            lambda: reps(_events()),
            "by",
            ["source", "rep"],
            None,
        ),
        (
            "log 05 comparing reps, weekly table, rep / week",
            lambda: reps(_weekly()),
            "by",
            ["period", "rep"],
            None,
        ),
        (
            "log 05 comparing reps, weekly table, step (redraw only)",
            lambda: reps(_weekly()),
            "stage",
            ["connects", "meetings", "sales"],
            "funnel",
        ),
        (
            "log 05 comparing reps, weekly table, p-chart rep (redraw only)",
            lambda: reps(_weekly()),
            "group",
            ["Chen", "Li", "Wang"],
            "chart",
        ),
        # the apps of notebook 08 (the manager's dashboard), on the sample call record
        ("manager 08 rep's day, 11,362 calls, rep", rep_day, "rep", ["赵磊", "张伟"], None),
        ("manager 08 rep's day, 11,362 calls, day", rep_day, "day", days, None),
        ("manager 08 when to call, rep", call_times, "rep", [None, "赵磊", "李娜"], None),
        ("manager 08 when to call, grey below", call_times, "min_calls", 5, None),
        (
            "manager 08 qualification, compare (redraw only)",
            qualification,
            "by",
            ["man", "rule", "intent"],
            None,
        ),
        ("manager 08 qualification, level", qualification, "confidence_level", 0.01, None),
        ("manager 08 target split, target", split, "target", 100_000, None),
        ("manager 08 target split, history / even", split, "split", ["even", "history"], None),
        ("manager 08 attainment, 1,000 futures, week", attainment, "week", [13, 20, 26], None),
        (
            "manager 08 attainment, 1,000 futures, history / even",
            attainment,
            "split",
            ["even", "history"],
            None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--only", default="", help="run the entries whose label has this text")
    parser.add_argument("--lang", default="en", help="language of the apps (en, zh)")
    args = parser.parse_args()
    fs.set_language(args.lang)
    worst = 0.0
    built: dict[object, fs.widgets.App] = {}
    for label, make, name, step, view in _cases():
        if args.only not in label:
            continue
        if make not in built:
            built[make] = make()
        app = built[make]
        if view is not None:
            app.controls["view"].value = view
        values = step(app) if callable(step) else step
        ms, cpu = median_update_ms(app, name, values, args.repeat)
        worst = max(worst, ms)
        print(f"{label:<66} median {ms:6.1f} ms (CPU {cpu:6.1f} ms)", flush=True)
    verdict = "within" if worst <= TARGET_MS else "OVER"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "-"
    print(f"slowest median {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    print(f"({os.cpu_count()} cores; load average {load}: medians grow with the load)")


if __name__ == "__main__":
    main()
