"""Apps on a real log (notebooks 04-06): estimating ratios, sample size, the sales cycle, reps.

Each ``make_*`` wires controls to a function of :mod:`funnelsim.lessons.logs`
(pure) and its plot; see :class:`funnelsim.widgets.App`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .. import lessons, plotting
from ..control import period_label
from ..diagnose import leak_cause
from ..i18n import (
    FunnelsimValueError,
    field_label,
    fields_label,
    method_label,
    sentences,
    stage_label,
    t,
    unit_label,
)
from ..intervals import METHODS
from ..logs import Log
from .app import App, Control, app_factory, build_control, check_names, check_numbers, check_type

__all__ = [
    "make_comparing_reps",
    "make_estimating_ratios",
    "make_sales_cycle",
    "make_sample_size",
]


def _check_log(log: object) -> None:
    check_type("log", log, Log, "error.type_log")


def _level_control(value: float) -> Control:
    return Control("float", t("app.logs.level"), value, 0.5, 0.99, 0.01, ".0%")


def _stage_options(stages: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """A menu of stages: each shown by its label, its value the stage's name."""
    return tuple((stage_label(stage), stage) for stage in stages)


# ------------------------------------------------------ 04: estimating ratios
@app_factory
def make_estimating_ratios(
    log,
    *,
    truth=None,
    method: str = "wilson",
    confidence_level: float = 0.95,
    stage: str | None = None,
) -> App:
    """Ratios from a log: the table with intervals, and the method's real coverage.

    Controls: the interval method, the confidence level, the step whose
    ratio the coverage curve uses, and the view (the ratio table, or
    coverage against the number of leads; switching the view only
    redraws).

    Parameters
    ----------
    log : Log
        From :func:`funnelsim.read_log`.
    truth : mapping or DataFrame, optional
        True ratios to mark on the table (the sample logs'
        :func:`funnelsim.lessons.true_ratios`).
    method, confidence_level : str, float
        Starting values of the controls.
    stage : str, optional
        Starting step for the coverage curve (default: the last).

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.EstimatingRatios`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_estimating_ratios(fs.datasets.load_events())
    >>> round(float(app.result.widths["sale"]), 3)            # 80 sales from 277 proposals
    0.106
    >>> app.controls["method"].value = "clopper-pearson"      # the "exact" interval is wider
    >>> round(float(app.result.widths["sale"]), 3)
    0.11
    """

    _check_log(log)
    check_names(method=method, stage=stage)
    check_numbers(confidence_level=confidence_level)
    steps = _stage_options(log.stages[1:])
    views = ((t("app.logs.view_table"), "table"), (t("app.logs.view_coverage"), "coverage"))
    controls = {
        "method": Control(
            "choice",
            t("app.logs.method"),
            method,
            options=tuple((method_label(m), m) for m in METHODS),
        ),
        "confidence_level": _level_control(confidence_level),
        "stage": Control(
            "choice", t("app.logs.stage"), steps[-1][1] if stage is None else stage, options=steps
        ),
        "view": Control("toggle", t("app.logs.view"), "table", options=views),
    }
    return App(
        title=t("app.logs.ratios_title"),
        controls=controls,
        compute=functools.partial(_ratios_compute, log, truth),
        draw=_ratios_draw,
        describe=_ratios_summary,
        view=("view",),
        figsize=(12, 5.5),
        columns=2,
    )


def _ratios_compute(log: Log, truth: object, v: Mapping[str, Any]) -> lessons.EstimatingRatios:
    return lessons.estimating_ratios(
        log,
        method=v["method"],
        confidence_level=v["confidence_level"],
        stage=v["stage"],
        truth=truth,
    )


def _ratios_draw(result: lessons.EstimatingRatios, axes, v: Mapping[str, Any]) -> None:
    if v["view"] == "coverage":
        plotting.plot_coverage(result, ax=axes[0])
    else:
        plotting.plot_ratio_table(result, ax=axes[0])


def _ratios_summary(r: lessons.EstimatingRatios, v: Mapping[str, Any]) -> str:
    row = r.widest
    if r.method == "wald":
        return t(
            "app.logs.ratios_summary_wald",
            level=r.confidence_level,
            stage=html.escape(stage_label(row.name)),
            low=row["low"],
            high=row["high"],
            passed=int(row["passed"]),
            entered=int(row["entered"]),
            p=r.p,
            coverage_stage=html.escape(stage_label(r.stage)),
            worst=r.worst(),
        )
    return t(
        "app.logs.ratios_summary",
        method=html.escape(method_label(r.method)),
        level=r.confidence_level,
        stage=html.escape(stage_label(row.name)),
        low=row["low"],
        high=row["high"],
        passed=int(row["passed"]),
        entered=int(row["entered"]),
        p=r.p,
        coverage_stage=html.escape(stage_label(r.stage)),
        worst=r.worst(),
        wald=r.worst("wald"),
    )


# ------------------------------------------------------------ 04: sample size
@app_factory
def make_sample_size(
    ratio: float = 0.3,
    half_width: float = 0.05,
    *,
    confidence_level: float = 0.95,
) -> App:
    """How many leads pin a ratio down to ± a margin? The planner, with its curve.

    Controls: the ratio you expect, the margin (half-width) you want, the
    confidence level. The picture shows the leads needed against the
    margin (Wilson and Wald), the chosen margin marked.

    Parameters
    ----------
    ratio, half_width, confidence_level : float
        Starting values of the controls.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.SampleSize`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_sample_size(ratio=0.1, half_width=0.03)
    >>> app.result.wilson, app.result.wald
    (388, 385)
    >>> app.controls["half_width"].value = 0.015       # half the margin ...
    >>> app.result.wald                                # ... four times the leads
    1537
    """

    check_numbers(ratio=ratio, half_width=half_width, confidence_level=confidence_level)
    controls = {
        "ratio": Control("float", t("app.logs.ratio"), ratio, 0.01, 0.99, 0.01, ".0%"),
        "half_width": Control(
            "float", t("app.logs.half_width"), half_width, 0.005, 0.25, 0.005, ".1%"
        ),
        "confidence_level": _level_control(confidence_level),
    }
    return App(
        title=t("app.logs.size_title"),
        controls=controls,
        compute=_size_compute,
        draw=_size_draw,
        describe=_size_summary,
        figsize=(12, 5.5),
        columns=3,
    )


def _size_compute(v: Mapping[str, Any]) -> lessons.SampleSize:
    return lessons.sample_size(v["ratio"], v["half_width"], confidence_level=v["confidence_level"])


def _size_draw(result: lessons.SampleSize, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_sample_size(result, ax=axes[0])


def _size_summary(r: lessons.SampleSize, v: Mapping[str, Any]) -> str:
    return t(
        "app.logs.size_summary",
        ratio=r.ratio,
        half_width=r.half_width,
        level=r.confidence_level,
        wilson=r.wilson,
        wald=r.wald,
    )


# ------------------------------------------------------------ 06: the sales cycle
def _as_of_dates(log: Log, weeks: int, as_of: object) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """The dates the app offers (weekly, from ``weeks`` after the first lead to the
    snapshot, and ``as_of``), and the snapshot's own date."""
    first = lessons.cohort(log).times[log.stages[0]].min()  # validates the log too
    end = pd.Timestamp(log.as_of) if log.as_of is not None else log.times.max().max()
    dates = list(pd.date_range(first.normalize() + pd.Timedelta(weeks=weeks), end, freq="7D"))
    if not dates or dates[-1] != end:
        dates.append(end)
    if as_of is not None and pd.Timestamp(as_of) not in dates:
        dates = sorted({*dates, pd.Timestamp(as_of)})
    return dates, end


@app_factory
def make_sales_cycle(
    log,
    *,
    last: int = 10,
    quantile: float = 0.9,
    as_of: object = None,
    weeks: int = 4,
) -> App:
    """The sales cycle of a log: the curve against the decks' average, and stale leads.

    Controls: the decks' window (the average of the last 10 or 20 closed
    deals), the quantile of the cycle after which an open lead is stale,
    and the date the log is looked at (from ``weeks`` weeks after its first
    lead to its snapshot: an early date shows what a new team would have
    concluded).

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    last : {10, 20}
        Starting window of the decks' average.
    quantile : float, default 0.9
        Starting quantile for stale leads.
    as_of : date-like, optional
        Starting date (default: the log's snapshot).
    weeks : int, default 4
        The earliest date offered is this many weeks after the first lead.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.SalesCycle`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_sales_cycle(fs.datasets.load_events())
    >>> round(app.result.naive_mean, 2), app.result.n_stale   # the last 10 closed deals
    (36.39, 4043)
    >>> app.controls["last"].value = 20
    >>> round(app.result.naive_mean, 2)
    34.1
    """

    _check_log(log)
    check_numbers(quantile=quantile)
    check_numbers(last=last, weeks=weeks, whole=True)
    dates, end = _as_of_dates(log, weeks, as_of)
    start = end if as_of is None else pd.Timestamp(as_of)
    controls = {
        "last": Control(
            "toggle",
            t("app.logs.last_label"),
            last,
            options=tuple((t("app.logs.last", n=n), n) for n in (10, 20)),
        ),
        "quantile": Control("float", t("app.logs.quantile"), quantile, 0.5, 0.99, 0.01, ".0%"),
        "as_of": Control(
            "select",
            t("app.logs.as_of"),
            start,
            options=tuple((str(d.date()), d) for d in dates),
            row=True,
        ),
    }
    return App(
        title=t("app.logs.cycle_title"),
        controls=controls,
        compute=functools.partial(_cycle_compute, log, end),
        draw=_cycle_draw,
        describe=_cycle_summary,
        panels=lambda v: {"ncols": 2},
        figsize=(16, 6),
        columns=2,
    )


def _cycle_compute(log: Log, end: pd.Timestamp, v: Mapping[str, Any]) -> lessons.SalesCycle:
    when = None if v["as_of"] == end else v["as_of"]
    return lessons.sales_cycle(log, last=v["last"], quantile=v["quantile"], as_of=when)


def _cycle_draw(result: lessons.SalesCycle, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_sales_cycle(result, ax=axes[0])
    plotting.plot_stale_leads(result, ax=axes[1])


def _cycle_summary(r: lessons.SalesCycle, v: Mapping[str, Any]) -> str:
    c = r.cycle
    low, high = c.median_ci
    return t(
        "app.logs.cycle_summary",
        as_of=html.escape(str(pd.Timestamp(c.as_of).date())),
        closed=c.closed,
        open=c.open,
        median=c.median,
        low=low,
        high=high,
        mean=c.mean,
        unit=unit_label(c.unit),
        last=r.last,
        naive=r.naive_mean,
        quantile=r.quantile,
        threshold=r.threshold,
        stale=r.n_stale,
        decks=r.n_demoted_by_decks,
    )


# ------------------------------------------------------------ 05: comparing reps
def _group_label(key: Sequence[object]) -> str:
    """A group as people read it: its values joined by commas, dates without midnight."""
    return ", ".join(period_label(v) for v in key)


def _group_options(log: Log, by: str) -> list[tuple[str, object]]:
    """The p-chart's groups for ``by`` (label, value), in the order the comparison lists them."""
    if by == "period":  # the groups are the periods: one chart, for the team
        return [(t("app.reps.team"), None)]
    groups = log.stage_table(by=by)[[by]].drop_duplicates().dropna()
    return [(_group_label((value,)), value) for value in groups[by]]


def _start_by(log: Log, by: str | None) -> str:
    """The group column the app opens on: ``by``, else "rep" when the log has it."""
    columns = list(log.group_columns)
    start = by if by is not None else "rep" if "rep" in columns or not columns else columns[0]
    if start not in columns:
        raise FunnelsimValueError(
            "error.unknown_by", value=repr(start), choices=", ".join(columns) or "-"
        )
    return start


def _last_step_with_leads(log: Log) -> str:
    pooled = log.stage_table()
    reached = pooled.loc[pooled["entered"] > 0, "stage"].tolist()
    return reached[-1] if reached else log.stages[-1]


@app_factory
def make_comparing_reps(
    log,
    *,
    by: str | None = None,
    stage: str | None = None,
    view: str = "shrinkage",
    confidence_level: float = 0.95,
) -> App:
    """Reps (or sources, or weeks) compared fairly: shrinkage, the funnel plot, the p-chart.

    Controls: the group column (any of ``log.group_columns``), the
    confidence level, the step, the view (raw against shrunk ratios, the
    funnel plot, and, when the log has a ``period`` column, the p-chart)
    and the group whose p-chart is drawn. Only the group column and the
    level compute anything (:func:`funnelsim.lessons.comparing_reps`,
    at every step at once); the step, the view and the p-chart's group only
    redraw. The summary names the groups that differ from the rest of the
    team by more than chance and the leaks, with the decks' likely causes.

    Parameters
    ----------
    log : Log
        A log with at least one group column.
    by : str, optional
        Starting group column (default ``"rep"`` when the log has one).
    stage : str, optional
        Starting step (default: the last).
    view : {"shrinkage", "funnel", "chart"}
        Starting view (``"chart"`` needs a ``period`` column).
    confidence_level : float, default 0.95
        Starting level of the intervals, the tests and the inner funnel
        limits (the outer ones stay at 99.8 %, the p-chart's at 3 sigma).

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.ComparingReps`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_comparing_reps(fs.datasets.load_events(), stage="connect")
    >>> app.result.comparison.differing[["rep", "stage"]]
        rep    stage
    0  Chen  connect
    1  Wang  connect
    >>> app.controls["by"].value = "source"        # the lead sources differ at every step ...
    >>> app.result.comparison.differing["stage"].unique().tolist()    # ... but the sale
    ['connect', 'meeting', 'proposal']
    """

    _check_log(log)
    check_names(by=by, stage=stage, view=view)
    check_numbers(confidence_level=confidence_level)
    start_by = _start_by(log, by)
    has_period = "period" in log.group_columns
    views = (
        (t("app.reps.view_shrinkage"), "shrinkage"),
        (t("app.reps.view_funnel"), "funnel"),
        *([(t("app.reps.view_chart"), "chart")] if has_period else []),
    )
    controls: dict[str, Control | Any] = {
        "by": Control(
            "choice",
            t("app.reps.by"),
            start_by,
            options=tuple((field_label(c), c) for c in log.group_columns),
        ),
        "confidence_level": _level_control(confidence_level),
        "stage": Control(
            "choice",
            t("app.reps.stage"),
            _last_step_with_leads(log) if stage is None else stage,
            options=_stage_options(log.stages[1:]),
        ),
        "view": Control("toggle", t("app.reps.view"), view, options=views),
    }
    if has_period:
        first = _group_options(log, start_by)
        spec = Control("choice", t("app.reps.group"), first[0][1], options=tuple(first))
        group = controls["group"] = build_control("group", spec)
        group.disabled = first[0][1] is None
        by_menu = controls["by"] = build_control("by", controls["by"])

        def regroup(change: Mapping[str, Any]) -> None:
            # Observed before the app's own update, so it runs first: the new groups
            # are in place when the app draws the new grouping, and choosing the
            # first of them does not draw the app a second time.
            options = _group_options(log, change["new"])
            with app.paused():
                group.disabled = options[0][1] is None
                group.options = options
                group.value = options[0][1]  # (ipywidgets keeps None after one option)

        by_menu.observe(regroup, names="value")
    app = App(
        title=t("app.reps.title"),
        controls=controls,
        compute=functools.partial(_reps_compute, log, {}),
        draw=_reps_draw,
        describe=_reps_summary,
        view=("view",),
        figsize=(12, 6),
        columns=3,
    )
    return app


def _reps_compute(log: Log, last: dict, v: Mapping[str, Any]) -> lessons.ComparingReps:
    # Only the grouping and the level change the numbers (every step is computed
    # at once): a new step or p-chart group reuses them, and, not being a view
    # control, keeps the axes and the layout (a redraw only).
    key = (v["by"], v["confidence_level"])
    if key not in last:
        last.clear()
        last[key] = lessons.comparing_reps(log, by=v["by"], confidence_level=v["confidence_level"])
    return last[key]


def _reps_draw(result: lessons.ComparingReps, axes, v: Mapping[str, Any]) -> None:
    if v["view"] == "chart":
        plotting.plot_p_chart(result.chart, stage=v["stage"], group=v.get("group"), ax=axes[0])
    elif v["view"] == "funnel":
        levels = sorted({result.confidence_level, 0.998})
        plotting.plot_funnel_chart(
            result.comparison, stage=v["stage"], confidence_level=tuple(levels), ax=axes[0]
        )
    else:
        plotting.plot_shrinkage(result.comparison, stage=v["stage"], ax=axes[0])


def _reps_summary(r: lessons.ComparingReps, v: Mapping[str, Any]) -> str:
    step = r.at_step(v["stage"], group=v.get("group"))
    parts = [
        t(
            "app.reps.summary",
            stage=html.escape(stage_label(step.stage)),
            by=html.escape(fields_label(r.by)),
            team=step.team_ratio,
            low=step.low,
            low_group=html.escape(_group_label(step.lowest)),
            high=step.high,
            high_group=html.escape(_group_label(step.highest)),
            shrunk_low=step.shrunk_low,
            shrunk_high=step.shrunk_high,
        )
    ]
    tests = {
        "tests": step.tests,
        "adjust": html.escape(r.comparison.adjust),
        "level": r.confidence_level,
    }
    if step.differing:
        groups = ", ".join(html.escape(_group_label(key)) for key in step.differing)
        parts.append(t("app.reps.differ", groups=groups, **tests))
    else:
        parts.append(t("app.reps.differ_none", **tests))
    if step.leaking:
        parts.append(
            t(
                "app.reps.leaks",
                groups=", ".join(html.escape(_group_label(key)) for key in step.leaking),
                cause=html.escape(leak_cause(step.leak_kind)),
            )
        )
    if v["view"] == "chart" and step.chart_periods is not None:
        who = t("app.reps.team") if step.chart_group is None else _group_label(step.chart_group)
        parts.append(
            t(
                "app.reps.chart",
                group=html.escape(who),
                flagged=step.chart_flagged,
                periods=step.chart_periods,
                sigmas=r.chart.sigmas,
            )
        )
    return sentences(parts)
