"""Plots of group comparisons (notebook 05): the funnel plot, the p-chart, shrinkage.

Every function takes a result from :mod:`funnelsim.groups` or
:mod:`funnelsim.control` and draws on one matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from .._validate import check_choice, check_result
from ..control import PChart, funnel_limits, period_label
from ..groups import GroupComparison
from ..i18n import FunnelsimValueError, field_label, fields_label, stage_label, t
from .theme import (
    ShareFormatter,
    amount_tick,
    errorbar,
    legend_below,
    new_axes,
    palette,
    spread_labels,
)

__all__ = ["plot_funnel_chart", "plot_p_chart", "plot_shrinkage"]


def plot_funnel_chart(
    result: GroupComparison,
    *,
    stage: str | None = None,
    ax: Axes | None = None,
    confidence_level: float | tuple[float, ...] = (0.95, 0.998),
    labels: bool = True,
    **kwargs,
) -> Axes:
    """Funnel plot: each group's ratio against its volume, inside the team's control limits.

    A group outside the funnel differs from the team by more than chance at
    that volume; small groups scatter widely and still sit inside. The
    limits come from :func:`funnelsim.control.funnel_limits` around the
    pooled ratio of all groups (the solid line).

    Parameters
    ----------
    result : GroupComparison
        From :func:`funnelsim.groups.compare_groups`.
    stage : str, optional
        The step to draw; the first compared step by default.
    ax : matplotlib Axes, optional
    confidence_level : float or tuple of float, default (0.95, 0.998)
        One pair of limit curves per level (dashed, then dotted).
    labels : bool, default True
        Write each group's name beside its dot.
    **kwargs
        Passed to the scatter of the groups (``s``, ``alpha``, ``marker``).

    Returns
    -------
    matplotlib Axes
        One scatter (dots coloured by how far out they are: inside, outside
        the inner limits, outside the outer ones), two lines per level and
        the team line.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.groups import compare_groups
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
    >>> res = compare_groups(log, by="rep")
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_funnel_chart(res)
    >>> ax.get_xlabel()
    'leads entering the step (volume)'
    """

    check_result(result, (GroupComparison,), "plot_funnel_chart", "funnelsim.compare_groups")
    step = result.stages[0] if stage is None else check_choice("stage", stage, result.stages)
    result.require_leads(step)  # a step nobody reached: say so, not a numpy error
    levels = (confidence_level,) if np.ndim(confidence_level) == 0 else tuple(confidence_level)
    levels = tuple(sorted(float(x) for x in levels))
    ax = new_axes(ax)
    colors = palette()
    rows = result.table[(result.table["stage"] == step) & (result.table["entered"] > 0)]
    team = float(result.steps.loc[result.steps["stage"] == step, "team_ratio"].iloc[0])
    top = max(int(rows["entered"].max()), 1)
    volumes = np.unique(np.round(np.linspace(1, top * 1.1 + 1, 400)).astype(int))
    limits = funnel_limits(team, volumes, confidence_level=levels)
    styles = ("--", ":", "-.")
    for i, level in enumerate(levels):
        part = limits[limits["confidence_level"] == level]
        style = {"color": "0.35", "linewidth": 2, "linestyle": styles[i % len(styles)]}
        ax.plot(
            part["volume"], part["low"], label=t("plot.funnel_chart.limits", level=level), **style
        )
        ax.plot(part["volume"], part["high"], **style)
    ax.axhline(team, color="black", linewidth=2.5, label=t("plot.funnel_chart.team", ratio=team))
    # how far out each group is: 0 inside every funnel, i outside the i-th narrowest
    at = funnel_limits(team, rows["entered"].to_numpy(), confidence_level=levels)
    ratio = rows["ratio"].to_numpy(float)
    outside = np.zeros(len(rows), dtype=int)
    for level in levels:
        part = at[at["confidence_level"] == level]
        out = (ratio < part["low"].to_numpy()) | (ratio > part["high"].to_numpy())
        outside += out
    shade = [colors[0], colors[1], colors[3]]
    point_kw = {"s": 110, "edgecolor": "black", "zorder": 3}
    point_kw.update(kwargs)
    ax.scatter(
        rows["entered"], ratio, c=[shade[min(o, len(shade) - 1)] for o in outside], **point_kw
    )
    # Names in a column right of the dots (one line apart where volumes are equal), so
    # the x axis runs on a little past the largest group.
    right = top * (1.3 if labels else 1.1) + 1
    ax.set_xlim(0, right)
    ax.set_ylim(0, min(1.0, 1.3 * max(float(np.nanmax(ratio)), team) + 0.02))
    if labels:
        names = [", ".join(str(v) for v in row) for row in rows[list(result.by)].to_numpy()]
        spread_labels(ax, rows["entered"].to_numpy(float), ratio, names)
    ax.yaxis.set_major_formatter(ShareFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(amount_tick))
    ax.set_title(t("plot.funnel_chart.title", stage=stage_label(step)))
    ax.set_xlabel(t("plot.funnel_chart.xlabel"))
    ax.set_ylabel(t("plot.funnel_chart.ylabel", stage=stage_label(step)))
    handles, names = ax.get_legend_handles_labels()
    # One legend dot per colour that occurs, each in its own colour (a scatter's own
    # legend entry would take the colour of its first dot, whatever that means).
    words = [t("plot.funnel_chart.groups", by=fields_label(result.by))]
    words += [t("plot.funnel_chart.outside", level=level) for level in levels[:2]]
    for i, word in enumerate(words):
        if i == 0 or (outside >= i).any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markersize=10,
                    markerfacecolor=shade[i],
                    markeredgecolor="black",
                )
            )
            names.append(word)
    legend_below(ax, handles=handles, labels=names)  # the limits run through every corner
    return ax


def plot_p_chart(
    result: PChart,
    *,
    stage: str | None = None,
    group: object = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """The p-chart: a stage ratio period by period, its centre line and control limits.

    Periods outside the limits (out of control) are marked with a cross. A
    Laney p' chart (``p_chart(..., method="laney")``) says its ``sigma_z`` in
    the limits' legend entry.

    Parameters
    ----------
    result : PChart
        From :func:`funnelsim.control.p_chart`.
    stage : str, optional
        The step to draw; the first charted step by default.
    group : value or tuple, optional
        With ``by=``: the group to draw (a value, or a tuple for several
        ``by`` columns); the first group by default.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the ratio line (``color``, ``marker``).

    Returns
    -------
    matplotlib Axes
        The ratio line, the centre line, the two limit step lines and, when
        any period is out of control, one scatter of crosses.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.control import p_chart
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
    >>> chart = p_chart(fs.read_log(counts, format="counts", stages=["connects", "meetings"]))
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_p_chart(chart)
    >>> ax.get_title()
    'meetings period by period: 1 out of control'
    """

    check_result(result, (PChart,), "plot_p_chart", "funnelsim.p_chart")
    step = result.stages[0] if stage is None else check_choice("stage", stage, result.stages)
    rows, title_group = _group_rows(result, result.table[result.table["stage"] == step], group)
    ax = new_axes(ax)
    colors = palette()
    periods = rows[result.period]
    kind = pd.api.types
    if kind.is_datetime64_any_dtype(periods) or kind.is_numeric_dtype(periods):
        x = periods.to_numpy()
    else:
        x = np.arange(len(rows))
        step_ticks = max(1, len(rows) // 12)
        ax.set_xticks(x[::step_ticks], [str(p) for p in periods.to_numpy()[::step_ticks]])
    line_kw = {"color": colors[0], "marker": "o", "label": t("plot.p_chart.ratio")}
    line_kw.update(kwargs)
    ax.plot(x, rows["ratio"], **line_kw)
    centre = float(rows["centre"].iloc[0]) if len(rows) else float("nan")
    centre_label = (
        t("plot.p_chart.centre", ratio=centre)
        if result.centre is None
        else t("plot.p_chart.centre_given", ratio=centre)
    )
    ax.axhline(centre, color="black", linewidth=2, label=centre_label)
    limit_kw = {"where": "mid", "color": "0.35", "linestyle": "--", "linewidth": 2}
    if "sigma_z" in rows:  # Laney's p' chart: the widening shown in the legend
        sigma_z = float(rows["sigma_z"].iloc[0]) if len(rows) else float("nan")
        limits = t("plot.p_chart.limits_laney", sigmas=result.sigmas, sigma_z=sigma_z)
    else:
        limits = t("plot.p_chart.limits", sigmas=result.sigmas)
    ax.step(x, rows["low"], label=limits, **limit_kw)
    ax.step(x, rows["high"], **limit_kw)
    flagged = (rows["signal"] != "").to_numpy()
    if flagged.any():
        ax.scatter(
            x[flagged],
            rows["ratio"].to_numpy()[flagged],
            marker="X",
            s=220,
            color=colors[3],
            edgecolor="black",
            zorder=4,
            label=t("plot.p_chart.flagged"),
        )
    n_out = int(flagged.sum())
    if title_group:
        title = t(
            "plot.p_chart.title_group", stage=stage_label(step), group=title_group, count=n_out
        )
    else:
        title = t("plot.p_chart.title", stage=stage_label(step), count=n_out)
    top = np.nanmax(np.concatenate([rows["high"].to_numpy(float), rows["ratio"].to_numpy(float)]))
    top = min(1.0, 1.35 * float(top)) if np.isfinite(top) and top > 0 else 1.0
    ax.set_ylim(-0.02 * top, top)  # a little air under 0 %: its tick clears the first date's
    ax.yaxis.set_major_formatter(ShareFormatter())
    ax.set_title(title)
    ax.set_xlabel(t("plot.p_chart.xlabel", period=field_label(result.period)))
    ax.set_ylabel(t("plot.p_chart.ylabel", stage=stage_label(step)))
    ax.legend(loc="upper right", ncols=2)
    return ax


def _group_rows(result: PChart, rows: pd.DataFrame, group: object) -> tuple[pd.DataFrame, str]:
    """The p-chart rows of one group (the first by default) and its name for the title.

    Without ``by=`` every row, and no name.
    """
    if not result.by:
        return rows, ""
    keys = rows[list(result.by)].drop_duplicates()
    choices = [tuple(r) for r in keys.to_numpy()]
    wanted = choices[0] if group is None else group if isinstance(group, tuple) else (group,)
    if wanted not in choices:
        raise FunnelsimValueError(
            "error.plot_group",
            value=repr(group),
            by=", ".join(result.by),
            choices=", ".join(", ".join(map(str, c)) for c in choices[:20]),
        )
    mask = np.ones(len(rows), dtype=bool)
    for col, value in zip(result.by, wanted, strict=True):
        mask &= (rows[col] == value).to_numpy()
    return rows[mask], ", ".join(map(str, wanted))


def plot_shrinkage(
    result: GroupComparison,
    *,
    stage: str | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Raw ratios against shrunken estimates, group by group, around the team's ratio.

    Each group has two rows: its raw ratio with its interval (hollow) and
    the empirical-Bayes estimate with its posterior interval (filled), pulled
    towards the team. Small groups move most.

    Parameters
    ----------
    result : GroupComparison
        From :func:`funnelsim.compare_groups`.
    stage : str, optional
        The step to draw; the first compared step by default.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to both errorbars.

    Returns
    -------
    matplotlib Axes
        Two errorbar containers (raw, shrunken) and the team line.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
    >>> res = fs.compare_groups(log, by="rep")
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_shrinkage(res)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['ann (40)', 'bob (70)', 'cy (90)', 'dee (60)']
    """

    check_result(result, (GroupComparison,), "plot_shrinkage", "funnelsim.compare_groups")
    step = result.stages[0] if stage is None else check_choice("stage", stage, result.stages)
    result.require_leads(step)  # a step nobody reached: say so, not a numpy error
    rows = result.table[result.table["stage"] == step].reset_index(drop=True)
    team = float(result.steps.loc[result.steps["stage"] == step, "team_ratio"].iloc[0])
    ax = new_axes(ax, figsize=(10, max(4.0, 0.75 * len(rows) + 2)))
    colors = palette()
    y = np.arange(len(rows))
    level = result.confidence_level
    raw = {
        "color": colors[7],
        "markerfacecolor": "white",
        "markeredgewidth": 2.5,
        "label": t("plot.shrinkage.raw", level=level),
    }
    raw.update(kwargs)
    errorbar(ax, rows["ratio"], y - 0.17, rows["low"], rows["high"], **raw)
    shrunk = {"color": colors[0], "label": t("plot.shrinkage.shrunk", level=level)}
    shrunk.update(kwargs)
    errorbar(ax, rows["shrunk"], y + 0.17, rows["shrunk_low"], rows["shrunk_high"], **shrunk)
    ax.axvline(
        team,
        color="black",
        linestyle="--",
        linewidth=2.5,
        label=t("plot.shrinkage.team", ratio=team),
    )
    names = [
        t("plot.shrinkage.group", group=", ".join(map(period_label, g)), entered=int(n))
        for g, n in zip(
            rows[list(result.by)].itertuples(index=False), rows["entered"], strict=True
        )
    ]
    top = np.nanmax(np.concatenate([rows["high"].to_numpy(float), [team, 0.01]]))
    ax.set_xlim(0, min(1.0, top * 1.15) if top < 0.95 else 1.02)
    ax.xaxis.set_major_formatter(ShareFormatter())
    ax.set_yticks(y, names)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.shrinkage.title", stage=stage_label(step)))
    ax.set_xlabel(t("plot.shrinkage.xlabel", stage=stage_label(step)))
    legend_below(ax)  # with equal volumes every row reaches the team line: no corner is free
    return ax
