"""Apps on a real log (notebooks 04-06): estimating ratios, sample size, the sales cycle, reps.

Each ``make_*`` wires controls to a function of :mod:`funnelsim.lessons.logs`
(pure) and its plot; see :class:`funnelsim.widgets.App`.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import pandas as pd

from .. import lessons, plotting
from ..control import period_label
from ..diagnose import leak_cause
from ..i18n import FunnelsimValueError, field_label, fields_label, method_label, t, unit_label
from ..intervals import METHODS
from .app import SLOW, WIDE, App, app_factory

__all__ = [
    "make_comparing_reps",
    "make_estimating_ratios",
    "make_sales_cycle",
    "make_sample_size",
]


def _level_slider(value: float) -> W.FloatSlider:
    return W.FloatSlider(
        value=value,
        min=0.5,
        max=0.99,
        step=0.01,
        readout_format=".0%",
        description=t("app.logs.level"),
        style=WIDE,
        **SLOW,
    )


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
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> log = fs.Log("counts", ("dials", "connects", "meetings"), counts=counts)
    >>> app = fs.widgets.make_estimating_ratios(log)
    >>> round(float(app.result.widths["meetings"]), 3)
    0.164
    >>> app.controls["method"].value = "clopper-pearson"      # the "exact" interval is wider
    >>> round(float(app.result.widths["meetings"]), 3)
    0.176
    """

    steps = list(log.stages[1:])
    controls = {
        "method": W.Dropdown(
            options=[(method_label(m), m) for m in METHODS],
            value=method,
            description=t("app.logs.method"),
            style=WIDE,
        ),
        "confidence_level": _level_slider(confidence_level),
        "stage": W.Dropdown(
            options=steps,
            value=steps[-1] if stage is None else stage,
            description=t("app.logs.stage"),
            style=WIDE,
        ),
        "view": W.ToggleButtons(
            options=[
                (t("app.logs.view_table"), "table"),
                (t("app.logs.view_coverage"), "coverage"),
            ],
            value="table",
            description=t("app.logs.view"),
            style=WIDE,
        ),
    }

    def compute(v):
        return lessons.estimating_ratios(
            log,
            method=v["method"],
            confidence_level=v["confidence_level"],
            stage=v["stage"],
            truth=truth,
        )

    def draw(result, axes, v):
        if v["view"] == "coverage":
            plotting.plot_coverage(result, ax=axes[0])
        else:
            plotting.plot_ratio_table(result, ax=axes[0])

    def describe(r, v):
        widths = r.widths
        widest = str(widths.idxmax())
        row = r.fit.table.set_index("stage").loc[widest]
        if r.method == "wald":
            return t(
                "app.logs.ratios_summary_wald",
                level=r.confidence_level,
                stage=html.escape(widest),
                low=float(row["low"]),
                high=float(row["high"]),
                passed=int(row["passed"]),
                entered=int(row["entered"]),
                p=r.p,
                coverage_stage=html.escape(r.stage),
                worst=r.worst(),
            )
        return t(
            "app.logs.ratios_summary",
            method=html.escape(method_label(r.method)),
            level=r.confidence_level,
            stage=html.escape(widest),
            low=float(row["low"]),
            high=float(row["high"]),
            passed=int(row["passed"]),
            entered=int(row["entered"]),
            p=r.p,
            coverage_stage=html.escape(r.stage),
            worst=r.worst(),
            wald=r.worst("wald"),
        )

    return App(
        title=t("app.logs.ratios_title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        view=("view",),
        figsize=(12, 5.5),
        columns=2,
    )


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

    controls = {
        "ratio": W.FloatSlider(
            value=ratio,
            min=0.01,
            max=0.99,
            step=0.01,
            readout_format=".0%",
            description=t("app.logs.ratio"),
            style=WIDE,
            **SLOW,
        ),
        "half_width": W.FloatSlider(
            value=half_width,
            min=0.005,
            max=0.25,
            step=0.005,
            readout_format=".1%",
            description=t("app.logs.half_width"),
            style=WIDE,
            **SLOW,
        ),
        "confidence_level": _level_slider(confidence_level),
    }

    def compute(v):
        return lessons.sample_size(
            v["ratio"], v["half_width"], confidence_level=v["confidence_level"]
        )

    def draw(result, axes, v):
        plotting.plot_sample_size(result, ax=axes[0])

    def describe(r, v):
        return t(
            "app.logs.size_summary",
            ratio=r.ratio,
            half_width=r.half_width,
            level=r.confidence_level,
            wilson=r.wilson,
            wald=r.wald,
        )

    return App(
        title=t("app.logs.size_title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        figsize=(12, 5.5),
        columns=3,
    )


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
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> times = pd.DataFrame({
    ...     "contact": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05",
    ...                                "2024-01-20", "2024-02-01", "2024-02-10"]),
    ...     "signed": pd.to_datetime(["2024-01-11", "2024-01-22", None, "2024-02-09",
    ...                               None, None])}, index=list("abcdef"))
    >>> log = fs.Log("events", ("contact", "signed"), leads=pd.DataFrame(index=times.index),
    ...              reached=times.notna(), times=times, as_of=pd.Timestamp("2024-02-20"))
    >>> app = fs.widgets.make_sales_cycle(log, quantile=0.5, weeks=1)
    >>> app.result.naive_mean, app.result.n_stale
    (16.666666666666668, 1)
    """

    first = lessons.cohort(log).times[log.stages[0]].min()  # validates the log too
    end = pd.Timestamp(log.as_of) if log.as_of is not None else log.times.max().max()
    dates = list(pd.date_range(first.normalize() + pd.Timedelta(weeks=weeks), end, freq="7D"))
    if not dates or dates[-1] != end:
        dates.append(end)
    start = end if as_of is None else pd.Timestamp(as_of)
    if start not in dates:
        dates = sorted({*dates, start})
    controls = {
        "last": W.ToggleButtons(
            options=[(t("app.logs.last", n=n), n) for n in (10, 20)],
            value=last,
            description=t("app.logs.last_label"),
            style=WIDE,
        ),
        "quantile": W.FloatSlider(
            value=quantile,
            min=0.5,
            max=0.99,
            step=0.01,
            readout_format=".0%",
            description=t("app.logs.quantile"),
            style=WIDE,
            **SLOW,
        ),
        "as_of": W.SelectionSlider(
            options=[(str(d.date()), d) for d in dates],
            value=start,
            description=t("app.logs.as_of"),
            style=WIDE,
            layout=W.Layout(grid_column="1 / -1"),
            **SLOW,
        ),
    }

    def compute(v):
        when = None if v["as_of"] == end else v["as_of"]
        return lessons.sales_cycle(log, last=v["last"], quantile=v["quantile"], as_of=when)

    def draw(result, axes, v):
        plotting.plot_sales_cycle(result, ax=axes[0])
        plotting.plot_stale_leads(result, ax=axes[1])

    def describe(r, v):
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

    return App(
        title=t("app.logs.cycle_title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        panels=lambda v: {"ncols": 2},
        figsize=(16, 6),
        columns=2,
    )


def _group_options(log, by: str) -> list[tuple[str, object]]:
    """The p-chart's groups for ``by`` (label, value), in the order the comparison lists them."""
    if by == "period":  # the groups are the periods: one chart, for the team
        return [(t("app.reps.team"), None)]
    groups = log.stage_table(by=by)[[by]].drop_duplicates().dropna()
    return list(zip(_names(groups, (by,)), groups[by], strict=True))


def _names(rows, by) -> list[str]:
    """Group labels of table rows: values joined by commas, dates without midnight."""

    return [
        ", ".join(period_label(v) for v in row) for row in rows[list(by)].itertuples(index=False)
    ]


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
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> app = fs.widgets.make_comparing_reps(fs.Log("counts", ("connects", "meetings"),
    ...                                             counts=counts))
    >>> app.result.comparison.differing["rep"].tolist()
    ['cy']
    >>> app.controls["confidence_level"].value = 0.99       # a stricter test ...
    >>> app.result.comparison.differing["rep"].tolist()     # ... and nobody differs
    []
    """

    columns = list(log.group_columns)
    start_by = by if by is not None else "rep" if "rep" in columns or not columns else columns[0]
    if start_by not in columns:
        raise FunnelsimValueError(
            "error.unknown_by", value=repr(start_by), choices=", ".join(columns) or "-"
        )
    steps = list(log.stages[1:])
    pooled = log.stage_table()
    reached = pooled.loc[pooled["entered"] > 0, "stage"].tolist()
    default_step = reached[-1] if reached else steps[-1]  # the last step with leads
    has_period = "period" in columns
    views = [
        (t("app.reps.view_shrinkage"), "shrinkage"),
        (t("app.reps.view_funnel"), "funnel"),
        *([(t("app.reps.view_chart"), "chart")] if has_period else []),
    ]
    controls = {
        "by": W.Dropdown(
            options=[(field_label(c), c) for c in columns],
            value=start_by,
            description=t("app.reps.by"),
            style=WIDE,
        ),
        "confidence_level": _level_slider(confidence_level),
        "stage": W.Dropdown(
            options=steps,
            value=default_step if stage is None else stage,
            description=t("app.reps.stage"),
            style=WIDE,
        ),
        "view": W.ToggleButtons(
            options=views, value=view, description=t("app.reps.view"), style=WIDE
        ),
    }
    if has_period:
        first = _group_options(log, start_by)
        group = W.Dropdown(
            options=first,
            value=first[0][1],
            disabled=first[0][1] is None,
            description=t("app.reps.group"),
            style=WIDE,
        )

        def regroup(change):
            # Registered before the app's own update, so it runs first: the new
            # groups are in place when the app draws the new grouping, and
            # choosing the first of them does not draw the app a second time.
            options = _group_options(log, change["new"])
            group.unobserve(app.update, names="value")
            try:
                group.disabled = options[0][1] is None
                group.options = options
                group.value = options[0][1]  # (ipywidgets keeps None after one option)
            finally:
                group.observe(app.update, names="value")

        controls["by"].observe(regroup, names="value")
        controls["group"] = group

    last: dict[tuple[Any, float], Any] = {}

    def compute(v):
        # Only the grouping and the level change the numbers (every step is
        # computed at once): a new step or p-chart group reuses them, and, not
        # being a view control, keeps the axes and the layout (a redraw only).
        key = (v["by"], v["confidence_level"])
        if key not in last:
            last.clear()
            last[key] = lessons.comparing_reps(
                log, by=v["by"], confidence_level=v["confidence_level"]
            )
        return last[key]

    def draw(result, axes, v):
        if v["view"] == "chart":
            plotting.plot_p_chart(result.chart, stage=v["stage"], group=v.get("group"), ax=axes[0])
        elif v["view"] == "funnel":
            levels = sorted({result.confidence_level, 0.998})
            plotting.plot_funnel_chart(
                result.comparison, stage=v["stage"], confidence_level=tuple(levels), ax=axes[0]
            )
        else:
            plotting.plot_shrinkage(result.comparison, stage=v["stage"], ax=axes[0])

    def describe(r, v):
        comp, step = r.comparison, v["stage"]
        rows = comp.table[comp.table["stage"] == step].dropna(subset=["ratio"])
        label = dict(zip(rows.index, _names(rows, comp.by), strict=True))
        lo, hi = rows["ratio"].idxmin(), rows["ratio"].idxmax()
        team = float(comp.steps.loc[comp.steps["stage"] == step, "team_ratio"].iloc[0])
        parts = [
            t(
                "app.reps.summary",
                stage=html.escape(step),
                by=html.escape(fields_label(comp.by)),
                team=team,
                low=float(rows.loc[lo, "ratio"]),
                low_group=html.escape(label[lo]),
                high=float(rows.loc[hi, "ratio"]),
                high_group=html.escape(label[hi]),
                shrunk_low=float(rows["shrunk"].min()),
                shrunk_high=float(rows["shrunk"].max()),
            )
        ]
        differing = [html.escape(label[i]) for i in rows.index[rows["differs"].to_numpy()]]
        tests = {
            "tests": int(comp.table["p_value"].notna().sum()),
            "adjust": html.escape(comp.adjust),
            "level": comp.confidence_level,
        }
        if differing:
            parts.append(t("app.reps.differ", groups=", ".join(differing), **tests))
        else:
            parts.append(t("app.reps.differ_none", **tests))
        leaks = r.leaks.leaks
        leaks = leaks[leaks["stage"] == step]
        if len(leaks):
            parts.append(
                t(
                    "app.reps.leaks",
                    groups=", ".join(html.escape(x) for x in _names(leaks, comp.by)),
                    cause=html.escape(leak_cause(leaks["cause"].iloc[0])),
                )
            )
        if v["view"] == "chart" and r.chart is not None:
            rows = r.chart.table[r.chart.table["stage"] == step]
            who = t("app.reps.team")
            if r.chart.by:
                rows = rows[rows[r.chart.by[0]] == v["group"]]
                who = _names(rows.head(1), r.chart.by)[0]
            parts.append(
                t(
                    "app.reps.chart",
                    group=html.escape(who),
                    flagged=int((rows["signal"] != "").sum()),
                    periods=len(rows),
                    sigmas=r.chart.sigmas,
                )
            )
        return " ".join(parts)

    app = App(
        title=t("app.reps.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        view=("view",),
        figsize=(12, 6),
        columns=3,
    )
    return app
