"""The chart check: every plot function, drawn on the notebooks' sample results in English
and in Chinese, reads cleanly on a projector.

Measured on the renderer's bounding boxes (``fig.draw_without_rendering()``: the layout
as ``fig.canvas.draw()`` makes it, then ``artist.get_window_extent(renderer)``), for every
figure:

- no two text labels overlap (titles, axis labels, tick labels, legend texts,
  annotations; tick labels of the same axis count too);
- no legend covers plotted data (lines sampled along their segments, scatter
  and marker positions, bars and filled areas sampled on a grid) or a text label;
- no text runs past the figure's edge, no data marker sits on a label;
- no axis of a share (a share or percent formatter) runs past 0-100 %;
- evenly spaced ticks read evenly (no rounding such as 2 %, 5 %, 8 %).

``CASES`` draws every public ``plot_*`` function the way the notebooks, the report and
the apps do; a test fails when a public plot function has no case, so a new one cannot
skip the check: add one line to ``CASES`` (and a result to ``_RESULTS`` if it needs a
new one). A planted figure that breaks each rule proves that the check can fail.
"""

from __future__ import annotations

import re
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import colors as mpl_colors
from matplotlib.collections import Collection, LineCollection, PathCollection
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import PercentFormatter

import funnelsim as fs
from funnelsim import lessons, plotting

SEED = 2024  # the notebooks' seed
PAD = 1.0  # pixels: bounding boxes closer than this do not count as touching
SHARE_MARGIN = 0.02  # a share axis may run 2 points past 0-100 % so a dot at 100 % is whole


# ------------------------------------------------------------ sample results
_DEAL = fs.DealSize.gamma(10_000, cv=0.5)
_GAME = fs.presets.get("daily ratio game").funnel
_WEEKLY = fs.presets.get("six-stage weekly funnel").funnel

# One builder per sample result, as the notebooks make them (fewer reps where that
# changes nothing on the chart's layout).
_RESULTS = {
    "coin": lambda r: lessons.running_share(0.5, 1000, reps=1, rng=SEED),
    "team": lambda r: lessons.running_share(_GAME.ratios[0], 1500, reps=50, rng=SEED),
    "noise": lambda r: lessons.noise_by_volume(
        _GAME, [75, 150, 300, 600, 1200, 2400], reps=500, deal_size=_DEAL, rng=SEED
    ),
    "floor": lambda r: lessons.noise_floor(
        _WEEKLY, [100, 300, 1_000, 3_000, 10_000], rate_cv=0.2, deal_size=_DEAL, rng=SEED
    ),
    "year": lambda r: lessons.ratio_game(_GAME, 15, target=50, periods=250),
    "effort": lambda r: lessons.equal_effort(
        _GAME, r("year").plan_calls, target=500_000, periods=250, deal_size=_DEAL, effort=0.1
    ),
    "target": lambda r: lessons.ratio_game(
        fs.presets.get("target back-calculation").funnel,
        408,
        target=500_000,
        deal_size=fs.presets.get("target back-calculation").deal_size,
    ),
    "steady": lambda r: lessons.revenue_steadiness(
        _WEEKLY, 100, periods=52, reps=500, cycle=fs.Cycle(4), deal_size=_DEAL, rng=SEED
    ),
    "effects": lambda r: lessons.cycle_effects(
        _WEEKLY, 100, cycle=fs.Cycle(6, cv=0.3), deal_size=_DEAL, periods=40, reps=500, rng=SEED
    ),
    "log": lambda r: fs.datasets.load_events(),
    "events": lambda r: fs.datasets.load_events(),
    "counts": lambda r: fs.datasets.load_counts(),
    "truth": lambda r: lessons.true_ratios(fs.datasets.load_truth()["events"]),
    "ratios": lambda r: fs.fit(r("log")),
    "mature60": lambda r: fs.fit(r("log"), mature=60),  # the report's: long overall row name
    "q1": lambda r: fs.fit(lessons.cohort(r("log"), end="2025-04-01")),
    "by_rep": lambda r: fs.fit(lessons.cohort(r("log"), end="2025-04-01"), by="rep"),
    "coverage": lambda r: fs.exact_coverage(
        ["wald", "wilson", "clopper-pearson"], n=range(5, 201), p=0.1
    ),
    "sample_size": lambda r: lessons.sample_size(0.3, 0.05),
    "reps": lambda r: fs.compare_groups(r("events"), by="rep"),
    # notebook 05, Exercise 2: referral leads only (Zhao and Li 50 leads apart, level)
    "referral_reps": lambda r: fs.compare_groups(
        r("events").stage_table(by=["source", "rep"]).query("source == 'referral'"), by="rep"
    ),
    "weekly_reps": lambda r: fs.compare_groups(r("counts"), by="rep", stage="meetings"),
    "chart": lambda r: fs.p_chart(r("counts"), stage="connects", by="rep", centre=7 / 15),
    "cycle": lambda r: fs.cycle_length(r("events")),
    "early": lambda r: fs.cycle_length(lessons.snapshot(r("events"), "2025-02-14 18:00")),
    "steps": lambda r: [
        fs.open_lead_ratios(r("events"), s, window=60) for s in r("events").stages[1:]
    ],
    "stale": lambda r: fs.stale_leads(r("events"), quantile=0.9),
    "decks_cut": lambda r: r("cycle").naive.set_index("method").loc["last 10 closed", "mean"],
    "weekly_connects": lambda r: fs.compare_groups(r("counts"), by="rep", stage="connects"),
    "cycle_app": lambda r: lessons.sales_cycle(r("events")),
    "mature": lambda r: fs.fit(r("events"), mature=60),
    "outlook": lambda r: fs.forecast(r("mature"), calls=234, periods=13, reps=2000, rng=SEED),
    "outlook_money": lambda r: fs.forecast(
        r("mature"), calls=234, periods=13, reps=2000, deal_size=_DEAL, rng=SEED
    ),
    "pipe": lambda r: fs.datasets.load_pipeline(),
    "calibration": lambda r: fs.calibration(fs.datasets.load_deal_history()),
    "ladder": lambda r: fs.grade_ladder(fs.datasets.load_grade_history()),
    "won_by": lambda r: fs.won_by(fs.datasets.load_crm_export()),
    "backtest": lambda r: fs.backtest(fs.datasets.load_bank_marketing(), reps=1000, rng=SEED),
    "calls": lambda r: _sample_calls(),
    "rep_day": lambda r: lessons.rep_day(fs.datasets.load_calls(), "赵磊", "2025-03-05"),
    "split": lambda r: fs.split_target(
        3_000_000, history=lessons.monthly_history(fs.datasets.load_deal_history(), year=2024)
    ),
    "qualified": lambda r: _sample_qualified(),
    "yearly": lambda r: (
        fs.split_target(
            3_600_000, history=lessons.monthly_history(fs.datasets.load_deal_history(), year=2024)
        )
        .to_frame()
        .groupby("rep")["target"]
        .sum()
    ),
    "half_time": lambda r: lessons.attainment_at(
        r("events"), r("yearly"), 26, deal_size=_DEAL, reps=1000, rng=SEED
    ),
    "week_6": lambda r: lessons.attainment_at(
        r("events"), r("yearly"), 6, deal_size=_DEAL, reps=1000, rng=SEED
    ),
}


def _sample_calls() -> fs.Calls:
    """Four weeks of calls, 9:00 to 18:00 on weekdays and a few on Saturday mornings."""
    rng = np.random.default_rng(SEED)
    n = 6000
    day = rng.choice(6, n, p=[0.19] * 5 + [0.05])
    hour = np.where(day == 5, rng.integers(10, 12, n), rng.integers(9, 18, n))
    time = (
        np.datetime64("2025-03-03T00")
        + (day + 7 * rng.integers(0, 4, n)) * np.timedelta64(24, "h")
        + hour * np.timedelta64(1, "h")
    )
    seconds = np.where(rng.random(n) < 0.3, rng.integers(5, 400, n), 0)
    return fs.read_calls(pd.DataFrame({"time": time, "duration": seconds}))


def _sample_qualified() -> fs.Qualification:
    """Three hundred leads with MAN and intent fields, the sample's Chinese headers."""
    rng = np.random.default_rng(SEED)
    n = 300
    man = rng.random((n, 3)) < 0.6
    intent = rng.integers(0, 4, n)
    won = rng.random(n) < 0.1 + 0.1 * man.sum(axis=1) + 0.05 * (3 - intent)
    yes_no = np.array(["否", "是"])
    frame = pd.DataFrame(
        {
            "有预算": yes_no[man[:, 0].astype(int)],
            "有决策权": yes_no[man[:, 1].astype(int)],
            "有需求": yes_no[man[:, 2].astype(int)],
            "意向": np.array(["意向非常明确", "意向明确", "意向在明确中", "意向不明确"])[intent],
            "是否成交": yes_no[won.astype(int)],
        }
    )
    return fs.qualify(frame)


@cache
def result(key: str):
    """The sample result ``key``, made once per test session."""
    return _RESULTS[key](result)


def _panels(*draws, figsize=(12.0, 5.5), **subplots):
    """Several plots side by side on one figure, as the apps draw them; the first axes."""
    _fig, axes = plt.subplots(1, len(draws), figsize=figsize, **subplots)
    axes = np.atleast_1d(axes)
    for draw, ax in zip(draws, axes, strict=True):
        draw(ax)
    return axes[0]


P = plotting
# (plot function, case id, how the notebook / report / app draws it). One line per case.
CASES = [
    ("plot_running_share", "coin", lambda r: P.plot_running_share(r("coin"))),
    ("plot_running_share", "team", lambda r: P.plot_running_share(r("team"))),
    ("plot_cv_by_calls", "sales", lambda r: P.plot_cv_by_calls(r("noise"))),
    ("plot_cv_by_calls", "revenue", lambda r: P.plot_cv_by_calls(r("steady"))),
    ("plot_cv_floor", "floor", lambda r: P.plot_cv_floor(r("floor"))),
    ("plot_funnel", "game", lambda r: P.plot_funnel(r("year"), period="day")),
    ("plot_funnel", "target", lambda r: P.plot_funnel(r("target"))),
    ("plot_levers", "game", lambda r: P.plot_levers(r("year"), period="day")),
    ("plot_levers", "revenue", lambda r: P.plot_levers(r("target"))),
    ("plot_equal_effort", "game", lambda r: P.plot_equal_effort(r("effort"), period="day")),
    ("plot_fan", "week", lambda r: P.plot_fan(r("steady"), block="week")),
    ("plot_fan", "month", lambda r: P.plot_fan(r("steady"), block="month")),
    ("plot_cycle_effects", "ramp", lambda r: P.plot_cycle_effects(r("effects"))),
    (
        "plot_cycle_effects",
        "pause",
        lambda r: P.plot_cycle_effects(r("effects"), scenario="pause"),
    ),
    ("plot_ratio_table", "overall", lambda r: P.plot_ratio_table(r("ratios"), overall=True)),
    ("plot_ratio_table", "truth", lambda r: P.plot_ratio_table(r("ratios"), truth=r("truth"))),
    (
        "plot_ratio_table",
        "q1",
        lambda r: P.plot_ratio_table(r("q1"), truth=r("truth"), overall=True),
    ),
    ("plot_ratio_table", "by_rep", lambda r: P.plot_ratio_table(r("by_rep"))),
    ("plot_ratio_table", "mature", lambda r: P.plot_ratio_table(r("mature60"), overall=True)),
    ("plot_coverage", "n", lambda r: P.plot_coverage(r("coverage"))),
    ("plot_sample_size", "30%", lambda r: P.plot_sample_size(r("sample_size"))),
    ("plot_shrinkage", "sale", lambda r: P.plot_shrinkage(r("reps"), stage="sale")),
    ("plot_funnel_chart", "connect", lambda r: P.plot_funnel_chart(r("reps"), stage="connect")),
    ("plot_funnel_chart", "sale", lambda r: P.plot_funnel_chart(r("reps"), stage="sale")),
    (
        "plot_funnel_chart",
        "referrals",
        lambda r: P.plot_funnel_chart(r("referral_reps"), stage="connect"),
    ),
    ("plot_funnel_chart", "meetings", lambda r: P.plot_funnel_chart(r("weekly_reps"))),
    ("plot_p_chart", "Wang", lambda r: P.plot_p_chart(r("chart"), group="Wang")),
    ("plot_sales_cycle", "closed", lambda r: P.plot_sales_cycle(r("cycle"))),
    ("plot_sales_cycle", "early", lambda r: P.plot_sales_cycle(r("early"), given_event=False)),
    (
        "plot_sales_cycle",
        "all",
        lambda r: P.plot_sales_cycle(r("cycle"), given_event=False, naive=False),
    ),
    (
        "plot_open_lead_ratios",
        "steps",
        lambda r: P.plot_open_lead_ratios(r("steps"), truth=r("truth")),
    ),
    (
        "plot_stale_leads",
        "decks",
        lambda r: P.plot_stale_leads(r("stale"), cutoff=r("decks_cut"), quantile=0.9),
    ),
    (
        "plot_stocks",
        "team",
        lambda r: P.plot_stocks(fs.datasets.load_tracking()),
    ),
    ("plot_call_heatmap", "rate", lambda r: P.plot_call_heatmap(r("calls"))),
    ("plot_talk_time", "day", lambda r: P.plot_talk_time(r("rep_day"))),
    ("plot_target_split", "history", lambda r: P.plot_target_split(r("split"))),
    ("plot_time_at_grade", "B", lambda r: P.plot_time_at_grade(r("ladder"))),
    ("plot_attainment", "half", lambda r: P.plot_attainment(r("half_time"))),
    ("plot_attainment", "week6", lambda r: P.plot_attainment(r("week_6"))),
    (
        "plot_attainment",
        "no-forecast",
        lambda r: P.plot_attainment(
            fs.attainment({"Li": 90, "Wang": 10}, {"Li": 60, "Wang": 40}, elapsed=0.5)
        ),
    ),
    (
        "plot_attainment",
        "app",
        lambda r: _panels(lambda ax: P.plot_attainment(r("half_time"), ax=ax), figsize=(12, 6)),
    ),
    ("plot_call_heatmap", "both", lambda r: P.plot_call_heatmap(r("calls"), annot="both")),
    (
        "plot_forecast",
        "sales",
        lambda r: P.plot_forecast(r("outlook"), measure="sales", target=40),
    ),
    ("plot_forecast", "revenue", lambda r: P.plot_forecast(r("outlook_money"), target=400_000)),
    (
        "plot_pipeline",
        "amount",
        lambda r: P.plot_pipeline(r("pipe"), quota=3_000_000, rng=SEED, reps=20_000),
    ),
    ("plot_pipeline", "deals", lambda r: P.plot_pipeline(r("pipe"), measure="deals")),
    ("plot_calibration", "history", lambda r: P.plot_calibration(r("calibration"))),
    ("plot_ladder", "grades", lambda r: P.plot_ladder(r("ladder"))),
    ("plot_grade_pyramid", "last", lambda r: P.plot_grade_pyramid(r("ladder"))),
    (
        "plot_grade_pyramid",
        "june",
        lambda r: P.plot_grade_pyramid(r("ladder"), as_of="2024-06-30"),
    ),
    ("plot_won_by", "crm", lambda r: P.plot_won_by(r("won_by"))),
    ("plot_won_by", "won", lambda r: P.plot_won_by(r("won_by"), lost=False, km=False)),
    ("plot_backtest", "bank", lambda r: P.plot_backtest(r("backtest"))),
    ("plot_pit", "bank", lambda r: P.plot_pit(r("backtest"), band="parameter")),
    ("plot_qualification", "intent", lambda r: P.plot_qualification(r("qualified"))),
    ("plot_qualification", "man", lambda r: P.plot_qualification(r("qualified"), by="man")),
    ("plot_qualification", "rule", lambda r: P.plot_qualification(r("qualified"), by="rule")),
    # the apps' figures: several panels, narrower axes (fs.widgets.make_*)
    (
        "plot_shrinkage",
        "app-connects",
        lambda r: _panels(
            lambda ax: P.plot_shrinkage(r("weekly_connects"), stage="connects", ax=ax),
            figsize=(12, 6),
        ),
    ),
    (
        "plot_funnel_chart",
        "app-connects",
        lambda r: _panels(
            lambda ax: P.plot_funnel_chart(r("weekly_connects"), stage="connects", ax=ax),
            figsize=(12, 6),
        ),
    ),
    (
        "plot_sales_cycle",
        "app",
        lambda r: _panels(
            lambda ax: P.plot_sales_cycle(r("cycle_app"), ax=ax),
            lambda ax: P.plot_stale_leads(r("cycle_app"), ax=ax),
            figsize=(16, 6),
        ),
    ),
    (
        "plot_pipeline",
        "app",
        lambda r: _panels(
            lambda ax: P.plot_pipeline(r("pipe"), quota=3_000_000, rng=SEED, reps=20_000, ax=ax),
            lambda ax: P.plot_pipeline(r("pipe"), measure="deals", ax=ax),
            figsize=(15, 5.5),
            width_ratios=[3, 2],
        ),
    ),
]


# ------------------------------------------------------------------ the check
def _visible(artist) -> bool:
    """The artist and the axes it sits in are visible."""
    ax = artist.axes
    return artist.get_visible() and (ax is None or ax.get_visible())


def _tick_labels(ax) -> list[tuple[str, Text]]:
    """The tick labels an axes draws: visible axis, tick inside the view, non-empty text."""
    out = []
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if not axis.get_visible():
            continue
        low, high = sorted(axis.get_view_interval())
        span = (high - low) or 1.0
        for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
            for tick in ticks:
                if not (low - 1e-9 * span <= tick.get_loc() <= high + 1e-9 * span):
                    continue
                for label in (tick.label1, tick.label2):
                    if label.get_visible() and tick.get_visible() and label.get_text().strip():
                        out.append((f"{name}-tick", label))
    return out


def _texts(fig) -> list[tuple[str, Text]]:
    """Every text the figure draws and its kind: x-tick, y-tick, legend, or text (titles,
    axis labels, annotations)."""
    ticks = []
    every_tick_label = set()
    for ax in fig.axes:
        ticks += _tick_labels(ax)
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                every_tick_label.update((id(tick.label1), id(tick.label2)))
    out = list(ticks)
    for text in fig.findobj(Text):
        if id(text) in every_tick_label or not text.get_text().strip():
            continue
        if not text.get_visible() or not _visible(text):
            continue
        legend = next((a for a in fig.findobj(Legend) if text in a.get_texts()), None)
        if legend is not None and not legend.get_visible():
            continue
        kind = "legend" if legend is not None else "text"
        out.append((kind, text))
    return out


def _box(artist, renderer):
    """The artist's box; for an annotation, its text alone (not its leader line)."""
    if isinstance(artist, Text):
        return Text.get_window_extent(artist, renderer)
    return artist.get_window_extent(renderer)


def _overlap(a, b) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > PAD and min(a.y1, b.y1) - max(a.y0, b.y0) > PAD


def text_overlaps(fig) -> list[str]:
    renderer = fig.canvas.get_renderer()
    texts = [(kind, t, _box(t, renderer)) for kind, t in _texts(fig)]
    found = []
    for i, (k1, t1, b1) in enumerate(texts):
        for k2, t2, b2 in texts[i + 1 :]:
            if _overlap(b1, b2):
                found.append(f"{k1} {t1.get_text()!r} overlaps {k2} {t2.get_text()!r}")
    return found


def _sample_segments(xy: np.ndarray, step: float = 2.0) -> np.ndarray:
    """Points every ``step`` pixels along a polyline in display coordinates."""
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) < 2:
        return xy
    seg = np.diff(xy, axis=0)
    n = np.maximum(1, np.ceil(np.hypot(*seg.T) / step)).astype(int)
    n = np.minimum(n, 2000)
    t = np.concatenate([np.arange(k) / k for k in n])
    start = np.repeat(xy[:-1], n, axis=0)
    return np.vstack([start + np.repeat(seg, n, axis=0) * t[:, None], xy[-1:]])


def _spans_axes(patch, ax_box) -> bool:
    """A background band (axvspan/axhspan): spans the whole height or width of the axes."""
    box = patch.get_window_extent()
    tall = box.y0 <= ax_box.y0 + 1 and box.y1 >= ax_box.y1 - 1
    wide = box.x0 <= ax_box.x0 + 1 and box.x1 >= ax_box.x1 - 1
    return tall or wide


def _data_points(ax, renderer) -> np.ndarray:
    """Display coordinates of what an axes plots: line samples, markers, scatter centres."""
    pts = []
    for line in ax.lines:
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(line.get_path().vertices)
        if line.get_linestyle() not in ("None", "none", "", " "):
            pts.append(_sample_segments(xy))
        else:
            pts.append(xy)
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, LineCollection):
            trans = coll.get_transform()
            for path in coll.get_paths():
                pts.append(_sample_segments(trans.transform(path.vertices)))
        elif isinstance(coll, PathCollection) and len(coll.get_offsets()):
            pts.append(coll.get_offset_transform().transform(np.asarray(coll.get_offsets())))
    pts = [p for p in pts if len(p)]
    return np.vstack(pts) if pts else np.empty((0, 2))


def _areas(ax, ax_box) -> list:
    """Filled areas and bars in display coordinates (background bands left out)."""
    paths = []
    for patch in ax.patches:
        if patch.get_visible() and patch.get_fill() and not _spans_axes(patch, ax_box):
            paths.append(patch.get_transform().transform_path(patch.get_path()))
    for coll in ax.collections:
        if not coll.get_visible() or isinstance(coll, (LineCollection, PathCollection)):
            continue
        if isinstance(coll, Collection) and len(coll.get_facecolor()):
            trans = coll.get_transform()
            paths += [trans.transform_path(p) for p in coll.get_paths()]
    return paths


def legend_covers(fig) -> list[str]:
    renderer = fig.canvas.get_renderer()
    found = []
    texts = _texts(fig)
    for legend in fig.findobj(Legend):
        if not legend.get_visible():
            continue
        box = _box(legend, renderer).padded(-2)
        own = set(map(id, legend.get_texts())) | {id(legend.get_title())}
        for kind, text in texts:
            if id(text) not in own and _overlap(box, _box(text, renderer)):
                found.append(f"the legend covers {kind} {text.get_text()!r}")
        for ax in fig.axes:
            ax_box = ax.get_window_extent(renderer)
            inside = box.intersection(box, ax_box)
            if inside is None or inside.width <= 0 or inside.height <= 0:
                continue
            pts = _data_points(ax, renderer)
            hit = pts[
                (pts[:, 0] > inside.x0)
                & (pts[:, 0] < inside.x1)
                & (pts[:, 1] > inside.y0)
                & (pts[:, 1] < inside.y1)
            ]
            if len(hit):
                found.append(f"the legend covers {len(hit)} plotted points near {hit[0].round()}")
            gx, gy = np.meshgrid(
                np.linspace(inside.x0, inside.x1, 24), np.linspace(inside.y0, inside.y1, 12)
            )
            grid = np.column_stack([gx.ravel(), gy.ravel()])
            for path in _areas(ax, ax_box):
                covered = path.contains_points(grid).mean()
                if covered > 0.02:
                    found.append(f"the legend covers a filled area ({covered:.0%} of the legend)")
                    break
    return found


def _is_share(axis) -> bool:
    formatter = axis.get_major_formatter()
    marked = getattr(formatter, "share", None)
    if marked is not None:
        return bool(marked)
    if isinstance(formatter, PercentFormatter):
        return True
    shown = [label.get_text().strip() for label in axis.get_ticklabels()]
    shown = [text for text in shown if text]
    return bool(shown) and all(_NUMBER.match(text) and text.endswith("%") for text in shown)


def _marker_boxes(ax) -> list[np.ndarray]:
    """Each plotted marker's box in display coordinates, as rows (x0, y0, x1, y1)."""
    px = ax.figure.dpi / 72
    out = []
    for line in ax.lines:
        if line.get_visible() and line.get_marker() not in (None, "None", "none", "", " "):
            xy = line.get_transform().transform(line.get_xydata())
            half = np.full(2, line.get_markersize() / 2 * px)
            out.append(np.hstack([xy - half, xy + half]))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            xy = coll.get_offset_transform().transform(np.asarray(coll.get_offsets()))
            scale = float(np.sqrt(coll.get_sizes().max())) * px if len(coll.get_sizes()) else 0
            unit = coll.get_paths()[0].vertices  # the marker's path, about -0.5 to 0.5
            low, high = unit.min(axis=0) * scale, unit.max(axis=0) * scale
            out.append(np.hstack([xy + low, xy + high]))
    return out


def markers_on_labels(fig) -> list[str]:
    """A data marker sitting on an annotation (a truth diamond over a ratio's label)."""
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        labels = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        marks = np.vstack(_marker_boxes(ax) or [np.empty((0, 4))])
        for text in labels:
            box = _box(text, renderer)
            hit = (np.minimum(marks[:, 2], box.x1) - np.maximum(marks[:, 0], box.x0) > 2 * PAD) & (
                np.minimum(marks[:, 3], box.y1) - np.maximum(marks[:, 1], box.y0) > 2 * PAD
            )
            if hit.any():
                found.append(f"a marker sits on the label {text.get_text()!r}")
    return found


def share_axes_beyond_100(fig) -> list[str]:
    found = []
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible() or not _is_share(axis):
                continue
            low, high = sorted(axis.get_view_interval())
            if low < -SHARE_MARGIN - 1e-9 or high > 1 + SHARE_MARGIN + 1e-9:
                found.append(f"the share axis {name} runs from {low:.0%} to {high:.0%}")
    return found


_NUMBER = re.compile(r"^[^\d\-−]*([\-−]?[\d,]*\.?\d+)\s*%?\s*$")


def uneven_ticks(fig) -> list[str]:
    """Evenly spaced ticks on a linear axis whose numbers do not step evenly."""
    found = []
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.get_scale() != "linear":
                continue
            labels = [label for _kind, label in _tick_labels_of(ax, name)]
            locs, values = [], []
            for label in labels:
                match = _NUMBER.match(label.get_text().replace("\u2212", "-"))
                if match is None:
                    break
                values.append(float(match.group(1).replace(",", "").replace("−", "-")))
                locs.append(label.get_position()[0 if name == "x" else 1])
            else:
                if len(values) < 3:
                    continue
                locs, values = np.array(locs), np.array(values)
                order = np.argsort(locs)
                dl, dv = np.diff(locs[order]), np.diff(values[order])
                if np.allclose(dl, dl[0], rtol=1e-6) and not np.allclose(dv, dv[0], rtol=1e-6):
                    shown = ", ".join(label.get_text() for label in labels)
                    found.append(f"the {name} ticks step unevenly: {shown}")
    return found


def _tick_labels_of(ax, name):
    return [(k, t) for k, t in _tick_labels(ax) if k == f"{name}-tick"]


def texts_cut_off(fig) -> list[str]:
    """Texts that run past the figure's edge (a label longer than its axis, say)."""
    renderer = fig.canvas.get_renderer()
    page = fig.bbox.padded(PAD)
    found = []
    for kind, text in _texts(fig):
        box = _box(text, renderer)
        if box.x0 < page.x0 or box.y0 < page.y0 or box.x1 > page.x1 or box.y1 > page.y1:
            found.append(f"{kind} {text.get_text()!r} runs past the figure's edge")
    return found


def problems(fig) -> list[str]:
    """Every rule broken by the figure, in words (an empty list: it reads cleanly)."""
    fig.draw_without_rendering()  # the layout and every text's place, without the pixels
    return (
        text_overlaps(fig)
        + legend_covers(fig)
        + texts_cut_off(fig)
        + markers_on_labels(fig)
        + share_axes_beyond_100(fig)
        + uneven_ticks(fig)
    )


# ------------------------------------------------------------------ the tests
def test_every_public_plot_function_is_drawn():
    public = {name for name in plotting.__all__ if name.startswith("plot_")}
    assert {name for name, _id, _draw in CASES} == public


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    ("name", "draw"), [pytest.param(n, d, id=f"{n}-{i}") for n, i, d in CASES]
)
def test_chart_reads_cleanly(name, draw, lang):
    with fs.language(lang), plotting.style():
        ax = draw(result)
        found = problems(ax.figure)
    assert not found, f"{name} ({lang}):\n" + "\n".join(found)


def test_the_check_flags_a_planted_bad_chart():
    """Each rule catches a figure made to break it: the check cannot pass silently."""
    with plotting.style():
        fig, ax = plt.subplots()
        x = np.linspace(0, 1, 50)
        ax.plot(x, x, label="a line under the legend")
        ax.fill_between(x, 0, 0.9, alpha=0.2, label="a band under the legend")
        ax.annotate("first label", (0.5, 0.5))
        ax.annotate("second label", (0.52, 0.51))
        ax.set_ylim(0, 1.3)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "2", "5", "8", "10"])
        ax.legend(loc="center left", bbox_to_anchor=(0.3, 0.3))
        found = problems(fig)
    text = "\n".join(found)
    assert "'first label' overlaps text 'second label'" in text
    assert "plotted points" in text
    assert "filled area" in text
    assert "share axis y runs from 0% to 130%" in text
    assert "x ticks step unevenly: 0, 2, 5, 8, 10" in text
    assert "'second label' runs past" not in text  # inside the figure


def test_the_check_flags_a_text_cut_off_at_the_edge():
    with plotting.style():
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_ylabel("a label far longer than the axis it belongs to can hold, cut off")
        found = "\n".join(problems(fig))
    assert "runs past the figure's edge" in found


def test_the_check_passes_a_clean_chart():
    with plotting.style():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 0.5], label="a line")
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(loc="upper left")
        assert problems(fig) == []


def test_a_legend_over_a_text_and_overlapping_tick_labels_are_flagged():
    with plotting.style():
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.plot([0, 1], [0, 1], label="data")
        ax.set_xticks(np.linspace(0, 1, 11), [f"{v:,.0f}" for v in np.linspace(1e6, 2e6, 11)])
        ax.annotate("a note", (0.05, 0.9), xycoords="axes fraction")
        ax.legend(loc="upper left")
        found = "\n".join(problems(fig))
    assert "x-tick '1,000,000' overlaps x-tick '1,100,000'" in found
    assert "the legend covers text 'a note'" in found


# ------------------------------------------------- fixes the layout rules cannot see
def test_funnel_chart_legend_dots_have_the_colours_of_the_groups_dots():
    """Notebook 05: the legend's "one dot per rep" was drawn in the first rep's colour."""
    with plotting.style():
        ax = P.plot_funnel_chart(result("reps"), stage="connect")
    dots = {mpl_colors.to_hex(c) for c in ax.collections[0].get_facecolors()}
    legend = {
        text.get_text(): mpl_colors.to_hex(handle.get_markerfacecolor())
        for text, handle in zip(
            ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True
        )
        if isinstance(handle, Line2D) and handle.get_marker() == "o"
    }
    assert legend[fs.t("plot.funnel_chart.groups", by="rep")] == plotting.palette()[0]
    assert set(legend.values()) == dots | {plotting.palette()[0]}


def test_funnel_chart_names_of_equal_volumes_stack_in_the_order_of_their_ratios():
    reps = result("reps")
    rows = reps.table[reps.table["stage"] == "connect"]
    assert rows["entered"].nunique() == 1  # the notebook's case: every rep saw 1,000 leads
    with plotting.style():
        ax = P.plot_funnel_chart(reps, stage="connect")
        ax.figure.draw_without_rendering()
    renderer = ax.figure.canvas.get_renderer()
    height = {t.get_text(): _box(t, renderer).y0 for t in ax.texts}
    by_ratio = rows.sort_values("ratio")["rep"].tolist()
    assert sorted(height, key=height.get) == by_ratio
