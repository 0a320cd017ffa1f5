"""Plots of the lesson results, readable on a projector.

Every function takes a result from :mod:`funnelsim.lessons` and draws on one
matplotlib ``Axes``: ``plot_x(result, *, ax=None, **kwargs) -> Axes``. With
``ax=None`` a new figure is created; nothing is ever shown (no
``plt.show()``), so the functions work the same in a notebook, a script and a
widget. Wrap them in :func:`style` for large fonts, thick lines and a
colour-blind-safe palette. Every title, axis label and legend entry comes from
:func:`funnelsim.t`, so a translation changes the plots too.

Examples
--------
>>> import funnelsim as fs
>>> res = fs.lessons.running_share(0.5, 500, reps=20, rng=1)
>>> with fs.plotting.style():
...     ax = fs.plotting.plot_running_share(res)
>>> ax.get_xlabel()
'calls made so far'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .i18n import t
from .lessons import CycleEffects, NoiseByVolume, RatioGame, RevenueSteadiness, RunningShare

__all__ = [
    "chance",
    "palette",
    "plot_cv_by_calls",
    "plot_cycle_effects",
    "plot_fan",
    "plot_funnel",
    "plot_levers",
    "plot_running_share",
    "set_style",
    "style",
]

_FIGSIZE = (10, 5.5)


# -------------------------------------------------------------------- style
@cache
def _palette() -> tuple[str, ...]:
    import seaborn as sns

    return tuple(sns.color_palette("colorblind").as_hex())


def palette() -> list[str]:
    """The kit's colours: seaborn's colour-blind-safe ``"colorblind"`` palette (hex).

    >>> import funnelsim as fs
    >>> fs.plotting.palette()[:3]
    ['#0173b2', '#de8f05', '#029e73']
    """
    return list(_palette())


def _rc(scale: float) -> dict[str, object]:
    return {
        "font.size": 14 * scale,
        "axes.titlesize": 17 * scale,
        "axes.titleweight": "bold",
        "axes.labelsize": 15 * scale,
        "xtick.labelsize": 13 * scale,
        "ytick.labelsize": 13 * scale,
        "legend.fontsize": 12 * scale,
        "legend.frameon": False,
        "lines.linewidth": 3,
        "lines.markersize": 9,
        "axes.linewidth": 1.2,
        "axes.grid": True,
        "grid.alpha": 0.35,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=_palette()),
        "figure.figsize": _FIGSIZE,
        "figure.dpi": 100,
        "figure.constrained_layout.use": True,
    }


@contextlib.contextmanager
def style(*, scale: float = 1.0) -> Iterator[None]:
    """Projector-readable plots inside a ``with`` block.

    Large fonts, thick lines, a light grid and the colour-blind-safe palette.
    Only matplotlib's settings inside the block change; they are restored on
    exit.

    Parameters
    ----------
    scale : float
        Multiplies every font size (1.3 for a big room).

    Examples
    --------
    >>> import matplotlib as mpl
    >>> import funnelsim as fs
    >>> with fs.plotting.style():
    ...     mpl.rcParams["lines.linewidth"]
    3.0
    """
    with mpl.rc_context(_rc(scale)):
        yield


def set_style(*, scale: float = 1.0) -> None:
    """Use the projector style for every later plot (one call at the top of a notebook).

    The same settings as :func:`style`, applied to matplotlib's defaults for
    the rest of the session rather than inside a ``with`` block.

    Parameters
    ----------
    scale : float
        Multiplies every font size.
    """
    mpl.rcParams.update(_rc(scale))


# ------------------------------------------------------------------ helpers
def _new_axes(ax: Axes | None, figsize: tuple[float, float] = _FIGSIZE) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, new = plt.subplots(figsize=figsize)
    return new


def _check_type(result: object, kinds: tuple[type, ...], name: str) -> None:
    if not isinstance(result, kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise ValueError(
            t("error.plot_input", function=name, wanted=wanted, value=type(result).__name__)
        )


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(
            t("error.choice", name=name, value=repr(value), choices=", ".join(choices))
        )
    return str(value)


def _amount(value: float, _pos: object = None) -> str:
    """1234567 -> '1,234,567'; small values keep up to two decimals."""
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _percent(value: float, _pos: object = None) -> str:
    return f"{value:.0%}" if value >= 0.01 or value == 0 else f"{value:.1%}"


def chance(p: float) -> str:
    """A probability in words a room reads right: ``'49%'``, never a false ``'100%'``.

    >>> from funnelsim.plotting import chance
    >>> chance(0.487), chance(0.9996), chance(0.0004), chance(0.0)
    ('49%', '> 99%', '< 1%', '0%')
    """
    if 0 < p < 0.005:
        return "< 1%"
    if 0.995 <= p < 1:
        return "> 99%"
    return f"{p:.0%}"


def _log_axis(axis, formatter) -> None:
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(formatter))
    axis.set_minor_formatter(NullFormatter())


def _units(period: str) -> tuple[str, str]:
    period = _choice("period", period, ("day", "week", "month", "period"))
    return t(f"plot.unit.{period}"), t(f"plot.units.{period}")


def _revenue_word(deal_size: object) -> str:
    return t("plot.revenue") if deal_size is not None else t("plot.sales")


# ------------------------------------------------------------ running share
def plot_running_share(
    result: RunningShare, *, ax: Axes | None = None, max_lines: int = 100, **kwargs
) -> Axes:
    """Each rep's running share of successes, with the theory band around ``p``.

    Parameters
    ----------
    result : RunningShare
        From :func:`funnelsim.lessons.running_share`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    max_lines : int
        Draw at most this many reps (all of them count in the result).
    **kwargs
        Passed to the :class:`~matplotlib.collections.LineCollection` of the
        reps' paths (``linewidth``, ``alpha``, ``color``).

    Returns
    -------
    matplotlib Axes
        One collection for the reps' paths, one for the band, one line for
        ``p``.
    """
    _check_type(result, (RunningShare,), "plot_running_share")
    ax = _new_axes(ax)
    colors = _palette()
    n, reps = result.n, result.reps
    # About 800 points per path are enough at any screen width; keep every early call.
    idx = np.unique(np.concatenate([np.arange(min(n, 100)), np.linspace(0, n - 1, 700)]))
    idx = idx.astype(int)
    x = result.calls[idx]
    shown = min(reps, max(1, int(max_lines)))
    paths = np.stack([np.broadcast_to(x, (shown, x.size)), result.shares[:shown, idx]], axis=-1)
    line_kw = {
        "color": colors[0],
        "linewidth": 1.6 if shown > 1 else 2.5,
        "alpha": 0.9 if shown == 1 else max(0.15, min(0.6, 6 / shown)),
    }
    line_kw.update(kwargs)
    lines = LineCollection(
        paths, label=t("plot.running_share.paths", reps=reps, shown=shown), **line_kw
    )
    ax.add_collection(lines)
    # The band sits on top of the paths, lightly filled and outlined, so it stays
    # visible under a hundred reps.
    ax.fill_between(
        result.calls,
        result.low,
        result.high,
        facecolor=mpl.colors.to_rgba(colors[1], 0.15),
        edgecolor=colors[1],
        linewidth=2.5,
        zorder=3,
        label=t("plot.running_share.band", level=result.confidence_level),
    )
    ax.axhline(
        result.p,
        color="black",
        linestyle="--",
        linewidth=2,
        zorder=4,
        label=t("plot.running_share.p", p=result.p),
    )
    early = min(n, 20)
    spread = 1.2 * (result.high[early - 1] - result.p)
    ax.set_xlim(0, n)
    ax.set_ylim(max(0.0, result.p - spread), min(1.0, result.p + spread) + 1e-9)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.xaxis.set_major_formatter(FuncFormatter(_amount))
    ax.set_title(t("plot.running_share.title"))
    ax.set_xlabel(t("plot.running_share.xlabel"))
    ax.set_ylabel(t("plot.running_share.ylabel"))
    ax.legend(loc="upper right")
    return ax


# ------------------------------------------------------------- CV by calls
_SERIES_ORDER = ("sales", "revenue", "week", "month")


def plot_cv_by_calls(
    result: NoiseByVolume | RevenueSteadiness,
    *,
    ax: Axes | None = None,
    series: tuple[str, ...] | None = None,
    **kwargs,
) -> Axes:
    """Relative noise (CV) against calls on log-log axes, theory line and simulation.

    On log-log axes the theory ``CV = c / sqrt(calls)`` is a straight line of
    slope -1/2: four times the calls, half the noise.

    Parameters
    ----------
    result : NoiseByVolume or RevenueSteadiness
        From :func:`funnelsim.lessons.noise_by_volume` or
        :func:`funnelsim.lessons.revenue_steadiness`.
    ax : matplotlib Axes, optional
    series : tuple of str, optional
        Which series to draw (``"sales"``, ``"revenue"``; ``"week"``,
        ``"month"``); all by default.
    **kwargs
        Passed to the simulated points (``marker``, ``markersize``).

    Returns
    -------
    matplotlib Axes
        One theory line and one line of simulated points per series, log
        scales on both axes.
    """
    _check_type(result, (NoiseByVolume, RevenueSteadiness), "plot_cv_by_calls")
    ax = _new_axes(ax)
    colors = _palette()
    present = [s for s in _SERIES_ORDER if s in set(result.curve["series"])]
    wanted = present if series is None else [_choice("series", s, tuple(present)) for s in series]
    point_kw = {"marker": "o", "linestyle": "none", "markersize": 11, "zorder": 3}
    point_kw.update(kwargs)
    for i, name in enumerate(wanted):
        color = colors[i % len(colors)]
        curve = result.curve[result.curve["series"] == name]
        pts = result.points[result.points["series"] == name]
        label = t(f"plot.series.{name}")
        ax.plot(curve["calls"], curve["cv"], color=color, label=t("plot.cv.theory", series=label))
        ax.plot(
            pts["calls"],
            pts["cv"],
            color=color,
            markeredgecolor="black",
            label=t("plot.cv.simulated", series=label),
            **point_kw,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_axis(ax.xaxis, _amount)
    _log_axis(ax.yaxis, _percent)
    ax.minorticks_off()  # the 1-2-5 major ticks are enough
    per = (
        t("plot.cv.per_week") if isinstance(result, RevenueSteadiness) else t("plot.cv.per_period")
    )
    ax.set_title(t("plot.cv.title"))
    ax.set_xlabel(t("plot.cv.xlabel", per=per))
    ax.set_ylabel(t("plot.cv.ylabel"))
    ax.legend(loc="upper right")
    return ax


# ------------------------------------------------------------------ funnel
def plot_funnel(
    result: RatioGame,
    *,
    ax: Axes | None = None,
    show: tuple[str, ...] = ("expected", "needed"),
    period: str = "period",
    **kwargs,
) -> Axes:
    """Bars per stage: what your calls give on average, and what the target needs.

    Parameters
    ----------
    result : RatioGame
        From :func:`funnelsim.lessons.ratio_game`.
    ax : matplotlib Axes, optional
    show : tuple of str
        ``"expected"`` (your calls, on average), ``"needed"`` (the decks'
        back-calculation from the target), or both.
    period : {"day", "week", "month", "period"}
        What one period of the plan is, for the labels.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib Axes
        One bar container per quantity shown, stages top to bottom, each bar
        labelled with its number.
    """
    _check_type(result, (RatioGame,), "plot_funnel")
    ax = _new_axes(ax)
    colors = _palette()
    shown = [_choice("show", s, ("expected", "needed")) for s in show]
    unit, units = _units(period)
    stages = list(result.funnel.stages)
    values = {
        "expected": result.expected.to_numpy(dtype=float),
        "needed": result.back["needed"].to_numpy(dtype=float),
    }
    labels = {
        "expected": t("plot.funnel.expected", calls=result.calls, unit=unit),
        "needed": t("plot.funnel.needed", target=_amount(result.target)),
    }
    height = 0.8 / len(shown)
    y = np.arange(len(stages))
    for i, name in enumerate(shown):
        offset = (i - (len(shown) - 1) / 2) * height
        bars = ax.barh(
            y + offset,
            values[name],
            height=height * 0.95,
            color=colors[0] if name == "expected" else colors[1],
            label=labels[name],
            **kwargs,
        )
        ax.bar_label(bars, labels=[_amount(v) for v in values[name]], padding=4)
    ax.set_yticks(y, stages)
    ax.set_ylim(len(stages) - 0.5, -0.5)  # first stage on top
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(_amount))
    ax.set_title(t("plot.funnel.title"))
    ax.set_xlabel(t("plot.funnel.xlabel", periods=result.periods, units=units))
    ax.set_ylabel(t("plot.funnel.ylabel"))
    ax.legend(loc="lower right")
    return ax


def plot_levers(
    result: RatioGame, *, ax: Axes | None = None, period: str = "period", **kwargs
) -> Axes:
    """The volume lever against the ratio lever: expected result and chance of the target.

    Parameters
    ----------
    result : RatioGame
        From :func:`funnelsim.lessons.ratio_game`.
    ax : matplotlib Axes, optional
    period : {"day", "week", "month", "period"}
        What one period of the plan is, for the labels.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib Axes
        Three bars (today, more volume, a better ratio), each labelled with
        its gain and its chance of reaching the target; a dashed line at the
        target.
    """
    _check_type(result, (RatioGame,), "plot_levers")
    ax = _new_axes(ax)
    colors = _palette()
    unit, units = _units(period)
    tab = result.levers
    k = result.funnel.stages.index(result.lever_stage) - 1
    names = [
        t("plot.levers.baseline", calls=result.calls, unit=unit),
        t("plot.levers.volume", extra=result.extra_calls, unit=unit),
        t(
            "plot.levers.ratio",
            stage=result.lever_stage,
            old=result.funnel.ratios[k],
            new=result.new_ratio,
        ),
    ]
    x = np.arange(3)
    bars = ax.bar(x, tab["expected"], color=[colors[7], colors[0], colors[2]], **kwargs)
    ax.set_xticks(x, names)
    notes = [
        t("plot.levers.note", gain=g, p=chance(p))
        for g, p in zip(tab["gain"], tab["p_target"], strict=True)
    ]
    ax.bar_label(bars, labels=notes, padding=4)
    ax.axhline(
        result.target,
        color="black",
        linestyle="--",
        linewidth=2,
        label=t("plot.levers.target", target=_amount(result.target)),
    )
    top = max(float(tab["expected"].max()), result.target)
    ax.set_ylim(0, top * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_formatter(FuncFormatter(_amount))
    ax.grid(axis="x", visible=False)
    what = _revenue_word(result.deal_size)
    ax.set_title(t("plot.levers.title"))
    ax.set_xlabel(t("plot.levers.xlabel"))
    ax.set_ylabel(t("plot.levers.ylabel", what=what, periods=result.periods, units=units))
    ax.legend(loc="upper left")
    return ax


# ---------------------------------------------------------------- fan chart
def plot_fan(
    result: RevenueSteadiness, *, block: str = "week", ax: Axes | None = None, **kwargs
) -> Axes:
    """Fan chart of revenue per week or per month: P10-P90 band, median, one rep.

    Parameters
    ----------
    result : RevenueSteadiness
        From :func:`funnelsim.lessons.revenue_steadiness`.
    block : {"week", "month"}
        Revenue per week or per month.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the median line.

    Returns
    -------
    matplotlib Axes
        One band (8 in 10 reps inside), the median, the mean level and one
        example rep.
    """
    _check_type(result, (RevenueSteadiness,), "plot_fan")
    block = _choice("block", block, ("week", "month"))
    ax = _new_axes(ax)
    colors = _palette()
    frame = result.weekly if block == "week" else result.monthly
    example = result.example_weekly if block == "week" else result.example_monthly
    x = np.arange(1, len(frame) + 1)
    ax.fill_between(
        x,
        frame["q10"],
        frame["q90"],
        color=colors[0],
        alpha=0.25,
        linewidth=0,
        label=t("plot.fan.band"),
    )
    line_kw = {"color": colors[0], "label": t("plot.fan.median")}
    line_kw.update(kwargs)
    ax.plot(x, frame["q50"], **line_kw)
    ax.axhline(
        float(frame["mean"].mean()),
        color="black",
        linestyle="--",
        linewidth=2,
        label=t("plot.fan.mean"),
    )
    ax.plot(
        x,
        example,
        color=colors[3],
        linewidth=1.8,
        marker="o",
        markersize=4,
        label=t("plot.fan.example"),
    )
    ax.set_xlim(0.5, len(frame) + 0.5)
    top = max(float(frame["q90"].max()), float(np.max(example)), 1e-9)
    ax.set_ylim(0, top * 1.4)  # room for the legend above the data
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_formatter(FuncFormatter(_amount))
    what = _revenue_word(result.deal_size)
    ax.set_title(t(f"plot.fan.title_{block}", cv=result.cv(block)))
    ax.set_xlabel(t(f"plot.fan.xlabel_{block}", block=result.block))
    ax.set_ylabel(t(f"plot.fan.ylabel_{block}", what=what))
    ax.legend(loc="upper left", ncols=2)
    return ax


# ------------------------------------------------------------ cycle effects
def plot_cycle_effects(
    result: CycleEffects, *, scenario: str = "ramp_up", ax: Axes | None = None, **kwargs
) -> Axes:
    """Calls and revenue week by week: a new rep's ramp-up, or a pause in prospecting.

    Revenue (average, P10-P90 band, theory) is on the left axis; the calls
    made each week are a step line on a second axis on the right.

    Parameters
    ----------
    result : CycleEffects
        From :func:`funnelsim.lessons.cycle_effects`.
    scenario : {"ramp_up", "pause"}
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the average revenue line.

    Returns
    -------
    matplotlib Axes
        The revenue axes (its twin with the calls is ``ax.figure.axes[-1]``).
    """
    _check_type(result, (CycleEffects,), "plot_cycle_effects")
    scenario = _choice("scenario", scenario, ("ramp_up", "pause"))
    ax = _new_axes(ax)
    colors = _palette()
    frame = result.scenario(scenario)
    week = frame["week"].to_numpy()
    calls_ax = ax.twinx()
    calls_ax.bar(
        week,
        frame["calls"],
        width=0.8,
        color=colors[7],
        alpha=0.35,
        linewidth=0,
        label=t("plot.cycle.calls"),
    )
    # Calls stay in the bottom quarter, under the revenue lines.
    most = max(1.0, float(frame["calls"].max()))
    calls_ax.set_ylim(0, most * 4)
    calls_ax.set_yticks([0, most / 2, most])
    calls_ax.yaxis.set_major_formatter(FuncFormatter(_amount))
    calls_ax.set_ylabel(t("plot.cycle.calls_axis"), color=colors[7], loc="bottom")
    calls_ax.tick_params(axis="y", colors=colors[7])
    calls_ax.grid(False)
    calls_ax.spines["right"].set_visible(True)
    if scenario == "pause":
        ax.axvspan(
            result.pause_start - 0.5,
            result.pause_start + result.pause_length - 0.5,
            color=colors[7],
            alpha=0.15,
            linewidth=0,
            label=t("plot.cycle.pause", weeks=result.pause_length),
        )
    ax.fill_between(
        week,
        frame["q10"],
        frame["q90"],
        color=colors[0],
        alpha=0.2,
        linewidth=0,
        label=t("plot.fan.band"),
    )
    line_kw = {"color": colors[0], "label": t("plot.cycle.mean")}
    line_kw.update(kwargs)
    ax.plot(week, frame["mean"], **line_kw)
    ax.plot(
        week,
        frame["theory"],
        color="black",
        linestyle="--",
        linewidth=2,
        label=t("plot.cycle.theory"),
    )
    ax.axhline(
        result.steady, color=colors[2], linestyle=":", linewidth=2.5, label=t("plot.cycle.steady")
    )
    ax.set_zorder(calls_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_xlim(0.5, len(week) + 0.5)
    ax.set_ylim(0, max(float(frame["q90"].max()), result.steady, 1e-9) * 1.45)
    ax.yaxis.set_major_formatter(FuncFormatter(_amount))
    what = _revenue_word(result.deal_size)
    ax.set_title(t(f"plot.cycle.title_{scenario}", weeks=result.pause_length))
    ax.set_xlabel(t("plot.cycle.xlabel", cycle=result.cycle.mean))
    ax.set_ylabel(t("plot.cycle.ylabel", what=what))
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = calls_ax.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", ncols=3)
    return ax


# ------------------------------------------------- groups: funnel plot, p-chart
# Results from funnelsim.groups; imported inside the functions so that this
# module does not load groups (and scipy's optimisers) until they are used.
__all__ += ["plot_funnel_chart", "plot_p_chart"]

from typing import TYPE_CHECKING  # noqa: E402  (appended section; may move to the top)

if TYPE_CHECKING:
    from .groups import GroupComparison, PChart


def _check_groups_result(result: object, kind: type, name: str, maker: str) -> None:
    if not isinstance(result, kind):
        raise ValueError(
            t(
                "error.plot_input_groups",
                function=name,
                wanted=kind.__name__,
                maker=maker,
                value=type(result).__name__,
            )
        )


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
    limits come from :func:`funnelsim.groups.funnel_limits` around the
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
    >>> res = compare_groups(fs.Log("counts", ("connects", "meetings"), counts=counts), by="rep")
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_funnel_chart(res)
    >>> ax.get_xlabel()
    'leads entering the step (volume)'
    """
    from matplotlib.lines import Line2D

    from .groups import GroupComparison, funnel_limits

    _check_groups_result(result, GroupComparison, "plot_funnel_chart", "compare_groups")
    step = result.stages[0] if stage is None else _choice("stage", stage, result.stages)
    levels = (confidence_level,) if np.ndim(confidence_level) == 0 else tuple(confidence_level)
    levels = tuple(sorted(float(x) for x in levels))
    ax = _new_axes(ax)
    colors = _palette()
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
        rows["entered"],
        ratio,
        c=[shade[min(o, len(shade) - 1)] for o in outside],
        label=t("plot.funnel_chart.groups", by=", ".join(result.by)),
        **point_kw,
    )
    if labels:
        names = [", ".join(str(v) for v in row) for row in rows[list(result.by)].to_numpy()]
        for name, x, y in zip(names, rows["entered"], ratio, strict=True):
            ax.annotate(name, (x, y), xytext=(7, 5), textcoords="offset points")
    ax.set_xlim(0, top * 1.1 + 1)
    ax.set_ylim(0, min(1.0, 1.3 * max(float(np.nanmax(ratio)), team) + 0.02))
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.xaxis.set_major_formatter(FuncFormatter(_amount))
    ax.set_title(t("plot.funnel_chart.title", stage=step))
    ax.set_xlabel(t("plot.funnel_chart.xlabel"))
    ax.set_ylabel(t("plot.funnel_chart.ylabel", stage=step))
    handles, names = ax.get_legend_handles_labels()
    for i, level in enumerate(levels[:2]):  # what the other colours mean, when they occur
        if (outside > i).any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markersize=10,
                    markerfacecolor=shade[i + 1],
                    markeredgecolor="black",
                )
            )
            names.append(t("plot.funnel_chart.outside", level=level))
    ax.legend(handles, names, loc="upper right")
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

    Periods outside the limits (out of control) are marked with a cross.

    Parameters
    ----------
    result : PChart
        From :func:`funnelsim.groups.p_chart`.
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
    >>> from funnelsim.groups import p_chart
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
    >>> chart = p_chart(fs.Log("counts", ("connects", "meetings"), counts=counts))
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_p_chart(chart)
    >>> ax.get_title()
    'meetings period by period: 1 out of control'
    """
    import pandas as pd

    from .groups import PChart

    _check_groups_result(result, PChart, "plot_p_chart", "p_chart")
    step = result.stages[0] if stage is None else _choice("stage", stage, result.stages)
    rows = result.table[result.table["stage"] == step]
    title_group = ""
    if result.by:
        keys = rows[list(result.by)].drop_duplicates()
        choices = [tuple(r) for r in keys.to_numpy()]
        wanted = choices[0] if group is None else group if isinstance(group, tuple) else (group,)
        if wanted not in choices:
            raise ValueError(
                t(
                    "error.plot_group",
                    value=repr(group),
                    by=", ".join(result.by),
                    choices=", ".join(", ".join(map(str, c)) for c in choices[:20]),
                )
            )
        mask = np.ones(len(rows), dtype=bool)
        for col, value in zip(result.by, wanted, strict=True):
            mask &= (rows[col] == value).to_numpy()
        rows = rows[mask]
        title_group = ", ".join(map(str, wanted))
    ax = _new_axes(ax)
    colors = _palette()
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
    ax.step(x, rows["low"], label=t("plot.p_chart.limits", sigmas=result.sigmas), **limit_kw)
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
        title = t("plot.p_chart.title_group", stage=step, group=title_group, count=n_out)
    else:
        title = t("plot.p_chart.title", stage=step, count=n_out)
    top = np.nanmax(np.concatenate([rows["high"].to_numpy(float), rows["ratio"].to_numpy(float)]))
    ax.set_ylim(0, min(1.0, 1.35 * float(top)) if np.isfinite(top) and top > 0 else 1.0)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_title(title)
    ax.set_xlabel(t("plot.p_chart.xlabel", period=result.period))
    ax.set_ylabel(t("plot.p_chart.ylabel", stage=step))
    ax.legend(loc="upper right", ncols=2)
    return ax
