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

from . import fonts
from .i18n import FunnelsimValueError, field_label, fields_label, method_label, t, unit_label
from .lessons import CycleEffects, NoiseByVolume, RatioGame, RevenueSteadiness, RunningShare

fonts.register()  # Chinese labels fall back to Noto Sans SC: no empty boxes

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
        "font.family": fonts.families(),  # Chinese falls back to Noto Sans SC
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
        raise FunnelsimValueError(
            "error.plot_input", function=name, wanted=wanted, value=type(result).__name__
        )


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise FunnelsimValueError(
            "error.choice", name=name, value=repr(value), choices=", ".join(choices)
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


def _require_leads(result, step: str) -> None:
    """A step no group has a lead at cannot be charted: say so (not a numpy error)."""
    entered = result.table.loc[result.table["stage"] == step, "entered"]
    if not (entered > 0).any():
        raise FunnelsimValueError("error.step_no_leads", stage=step, by=fields_label(result.by))


def _check_groups_result(result: object, kind: type, name: str, maker: str) -> None:
    if not isinstance(result, kind):
        raise FunnelsimValueError(
            "error.plot_input_groups",
            function=name,
            wanted=kind.__name__,
            maker=maker,
            value=type(result).__name__,
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
    _require_leads(result, step)
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
        label=t("plot.funnel_chart.groups", by=fields_label(result.by)),
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
            raise FunnelsimValueError(
                "error.plot_group",
                value=repr(group),
                by=", ".join(result.by),
                choices=", ".join(", ".join(map(str, c)) for c in choices[:20]),
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
    ax.set_xlabel(t("plot.p_chart.xlabel", period=field_label(result.period)))
    ax.set_ylabel(t("plot.p_chart.ylabel", stage=step))
    ax.legend(loc="upper right", ncols=2)
    return ax


# ------------------------------------- logs: ratio table, coverage, cycle, open leads
# Results from funnelsim.estimate, funnelsim.survival, funnelsim.groups and
# funnelsim.lessons_logs, imported inside the functions (as for the groups plots).
__all__ += [
    "plot_coverage",
    "plot_open_lead_ratios",
    "plot_ratio_table",
    "plot_sales_cycle",
    "plot_sample_size",
    "plot_shrinkage",
    "plot_stale_leads",
]

if TYPE_CHECKING:
    import pandas as pd

    from .estimate import Fit
    from .lessons_logs import EstimatingRatios, SalesCycle, SampleSize
    from .survival import CycleLength, OpenLeadRatios

# one colour per interval method, the same in every plot (Wald in vermillion: the warning)
_METHOD_COLOUR = {"wilson": 0, "agresti-coull": 1, "jeffreys": 2, "wald": 3, "clopper-pearson": 4}


def _check_result(result: object, kinds: tuple[type, ...], name: str, maker: str) -> None:
    if not isinstance(result, kinds):
        raise FunnelsimValueError(
            "error.plot_input_logs",
            function=name,
            wanted=" or ".join(k.__name__ for k in kinds),
            maker=maker,
            value=type(result).__name__,
        )


def _truth_per_row(truth: object, rows: pd.DataFrame, by: list[str]) -> np.ndarray:
    """The true ratio of each row of a fit table (NaN where it is not given)."""
    import pandas as pd

    if truth is None:
        return np.full(len(rows), np.nan)
    if isinstance(truth, pd.Series):
        truth = truth.to_dict()
    if isinstance(truth, pd.DataFrame):
        if "stage" not in truth.columns or "ratio" not in truth.columns:
            raise FunnelsimValueError("error.plot_truth", value=", ".join(map(str, truth.columns)))
        on = [c for c in (*by, "stage") if c in truth.columns]
        table = truth[[*on, "ratio"]].drop_duplicates(on)
        return rows[on].merge(table, on=on, how="left")["ratio"].to_numpy(float)
    if isinstance(truth, dict) or hasattr(truth, "items"):
        values = dict(truth.items())  # type: ignore[union-attr]
        return np.array([float(values.get(s, np.nan)) for s in rows["stage"]], dtype=float)
    raise FunnelsimValueError("error.plot_truth", value=type(truth).__name__)


def _percent_axis(axis, top: float) -> None:
    """Percent ticks from 0 to at most 100 % (the axis may run past 1 to make room for text)."""
    axis.set_major_locator(MaxNLocator(6))
    axis.set_major_formatter(
        FuncFormatter(lambda v, pos=None: "" if v > 1.0 + 1e-9 or v < -1e-9 else _percent(v))
    )


def _errorbar(ax: Axes, x, y, low, high, *, vertical: bool = False, **kwargs):
    """Dots with interval bars [low, high] around x (or around y when ``vertical``)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    centre = y if vertical else x
    err = np.nan_to_num(
        np.vstack([centre - np.asarray(low, float), np.asarray(high, float) - centre])
    )
    err = np.clip(err, 0.0, None)  # a limit a rounding error past its estimate: no bar
    style = {"fmt": "o", "capsize": 6, "elinewidth": 3, "capthick": 2.5, "markersize": 10}
    style.update(kwargs)
    if "marker" in style:  # a marker given by keyword replaces the format's "o"
        style["fmt"] = "none" if style["marker"] in (None, "none", "") else ""
        style.setdefault("linestyle", "none")
    if vertical:
        return ax.errorbar(x, y, yerr=err, **style)
    return ax.errorbar(x, y, xerr=err, **style)


def plot_ratio_table(
    result: Fit | EstimatingRatios,
    *,
    ax: Axes | None = None,
    truth: object = None,
    overall: bool = False,
    labels: bool = True,
    **kwargs,
) -> Axes:
    """Forest plot of a ratio table: each step's ratio with its interval, truth optional.

    One row per step (and group, for a fit with ``by=``), first step on top;
    each row is labelled with its ratio and counts. Where the truth is known
    (the sample logs), a black diamond marks it: a good interval contains it
    about as often as its level promises.

    Parameters
    ----------
    result : Fit or EstimatingRatios
        From :func:`funnelsim.fit`, or the app's result
        (:func:`funnelsim.lessons_logs.estimating_ratios`; its truth is drawn).
    ax : matplotlib Axes, optional
    truth : mapping, Series or DataFrame, optional
        True ratios: ``{stage: ratio}``, or a table with ``stage``, ``ratio``
        (and the ``by`` columns), such as
        :func:`funnelsim.lessons_logs.true_ratios`.
    overall : bool, default False
        Add a row for the first-to-last-stage rate and its interval (a fit
        without ``by``); its truth is the product of the steps' truths.
    labels : bool, default True
        Write each row's ratio and counts beside its interval.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.errorbar` (``color``,
        ``markersize``).

    Returns
    -------
    matplotlib Axes
        One errorbar container per group (one without ``by``), one scatter
        of diamonds when a truth is given, one text per row.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> res = fs.fit(fs.Log("counts", ("dials", "connects", "meetings"), counts=counts))
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_ratio_table(res, truth={"connects": 7 / 15, "meetings": 1 / 7})
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['connects', 'meetings']
    """
    from .estimate import Fit
    from .lessons_logs import EstimatingRatios

    if isinstance(result, EstimatingRatios):
        truth = result.truth if truth is None else truth
        result = result.fit
    _check_result(result, (Fit,), "plot_ratio_table", "funnelsim.fit")
    rows = result.table.reset_index(drop=True)
    by = list(result.by)
    true = _truth_per_row(truth, rows, by)
    names = [str(s) for s in rows["stage"]]
    groups = [""] * len(rows)
    if by:
        groups = [", ".join(map(str, g)) for g in rows[by].itertuples(index=False)]
        names = [f"{g}: {s}" for s, g in zip(names, groups, strict=True)]
    ratio = rows["ratio"].to_numpy(float)
    low = rows["low"].to_numpy(float)
    high = rows["high"].to_numpy(float)
    passed = rows["passed"].to_numpy()
    entered = rows["entered"].to_numpy()
    if overall and not by:
        o = result.overall
        names.append(t("plot.ratio_table.overall"))
        groups.append("")
        ratio = np.append(ratio, o.ratio)
        low = np.append(low, o.low)
        high = np.append(high, o.high)
        # with mature= each step has its own cohort: no first-to-last counts (-1)
        cohorts = result.mature is not None
        passed = np.append(passed, -1 if cohorts else rows["passed"].iloc[-1])
        entered = np.append(entered, -1 if cohorts else rows["entered"].iloc[0])
        true = np.append(true, np.prod(true) if np.isfinite(true).all() else np.nan)
    ax = _new_axes(ax, figsize=(10, max(3.5, 0.55 * len(names) + 2)))
    colors = _palette()
    y = np.arange(len(names))
    label = t(
        "plot.ratio_table.estimate",
        level=result.confidence_level,
        method=method_label(result.method),
    )
    for i, group in enumerate(dict.fromkeys(groups)):
        idx = np.flatnonzero(np.array(groups, dtype=object) == group)
        style = {"color": colors[i % len(colors)], "label": group or label}
        style.update(kwargs)
        _errorbar(ax, ratio[idx], y[idx], low[idx], high[idx], **style)
    if np.isfinite(true).any():
        ax.scatter(
            true,
            y,
            marker="D",
            s=90,
            color="black",
            zorder=4,
            label=t("plot.ratio_table.truth"),
        )
    if labels:
        for yi, r, hi, k, n in zip(y, ratio, high, passed, entered, strict=True):
            if np.isfinite(r):
                text = (
                    t("plot.ratio_table.label", ratio=r, passed=int(k), entered=int(n))
                    if n >= 0
                    else f"{r:.1%}"
                )
                ax.annotate(
                    text, (hi, yi), xytext=(10, 0), textcoords="offset points", va="center"
                )
    top = np.nanmax(np.concatenate([high, true, [0.01]]))
    right = top * (1.6 if labels else 1.15)
    ax.set_xlim(0, right)
    _percent_axis(ax.xaxis, right)
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first step on top
    ax.grid(axis="y", visible=False)
    ax.set_title(
        t(
            "plot.ratio_table.title",
            level=result.confidence_level,
            method=method_label(result.method),
        )
    )
    ax.set_xlabel(t("plot.ratio_table.xlabel"))
    ax.set_ylabel(t("plot.ratio_table.ylabel"))
    ax.legend(loc="lower right")
    return ax


def plot_coverage(
    result: pd.DataFrame | EstimatingRatios,
    *,
    ax: Axes | None = None,
    x: str = "n",
    **kwargs,
) -> Axes:
    """Real coverage of interval methods against n (or p), with the promised level.

    Parameters
    ----------
    result : pandas.DataFrame or EstimatingRatios
        From :func:`funnelsim.exact_coverage` or :func:`funnelsim.coverage`
        (simulated: drawn as points with ±2 standard errors), or the ratios
        app's result. One value of the other variable (one ``p`` when
        ``x="n"``) and one confidence level.
    ax : matplotlib Axes, optional
    x : {"n", "p"}
        What runs along the horizontal axis. ``"n"`` uses a log scale when
        it spans more than a factor of 20.
    **kwargs
        Passed to every method's line (``linewidth``, ``alpha``).

    Returns
    -------
    matplotlib Axes
        One line per method (points with error bars for simulated
        coverage) and a dashed line at the promised level.

    Examples
    --------
    >>> import funnelsim as fs
    >>> table = fs.exact_coverage(["wald", "wilson"], n=range(5, 101), p=0.1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_coverage(table)
    >>> [line.get_label() for line in ax.lines]
    ['Wald', 'Wilson', 'promised: 95%']
    """
    import pandas as pd

    from .lessons_logs import EstimatingRatios

    if isinstance(result, EstimatingRatios):
        result = result.coverage
    _check_result(result, (pd.DataFrame,), "plot_coverage", "funnelsim.exact_coverage")
    x = _choice("x", x, ("n", "p"))
    other = "p" if x == "n" else "n"
    needed = {"method", "n", "p", "confidence_level", "coverage"}
    if not needed <= set(result.columns):
        raise FunnelsimValueError(
            "error.plot_coverage_columns", value=", ".join(map(str, result.columns))
        )
    for column in (other, "confidence_level"):
        values = result[column].unique()
        if len(values) != 1:
            shown = ", ".join(f"{v:g}" for v in values[:6])
            raise FunnelsimValueError("error.plot_coverage_grid", column=column, values=shown, x=x)
    level = float(result["confidence_level"].iloc[0])
    fixed = result[other].iloc[0]
    ax = _new_axes(ax)
    colors = _palette()
    simulated = "se" in result.columns
    for i, method in enumerate(dict.fromkeys(result["method"])):
        rows = result[result["method"] == method].sort_values(x)
        colour = colors[_METHOD_COLOUR.get(method, 5 + i) % len(colors)]
        style = {"color": colour, "label": method_label(method)}
        style.update(kwargs)
        if simulated:
            ax.errorbar(
                rows[x], rows["coverage"], yerr=2 * rows["se"], fmt="o-", capsize=4, **style
            )
        else:
            ax.plot(rows[x], rows["coverage"], **style)
    ax.axhline(
        level,
        color="black",
        linestyle="--",
        linewidth=2.5,
        label=t("plot.coverage.nominal", level=level),
    )
    low = min(float(result["coverage"].min()), level)
    ax.set_ylim(max(0.0, low - 0.03), 1.005)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    xs = result[x].to_numpy(float)
    if x == "n" and xs.min() > 0 and xs.max() / xs.min() > 20:
        ax.set_xscale("log")
        _log_axis(ax.xaxis, _amount)
    elif x == "p":
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    if x == "n":
        ax.set_title(t("plot.coverage.title_n", level=level, p=float(fixed)))
        ax.set_xlabel(t("plot.coverage.xlabel_n"))
    else:
        ax.set_title(t("plot.coverage.title_p", level=level, n=int(fixed)))
        ax.set_xlabel(t("plot.coverage.xlabel_p"))
    ax.set_ylabel(t("plot.coverage.ylabel"))
    ax.legend(loc="lower right", ncols=2)
    return ax


def _deals_label(method: str) -> str:
    """survival's naive method names ("last 10 closed", "all closed") in the current language."""
    import re

    found = re.fullmatch(r"last (\d+) closed", method)
    if found:
        return t("plot.sales_cycle.last", n=int(found.group(1)))
    return t("plot.sales_cycle.all") if method == "all closed" else method


def plot_sales_cycle(
    result: CycleLength | SalesCycle,
    *,
    ax: Axes | None = None,
    given_event: bool = True,
    naive: bool = True,
    **kwargs,
) -> Axes:
    """The cycle curve over open and closed leads, against the decks' averages.

    The rising curve is the Kaplan-Meier estimate turned over: the share of
    the deals that close which have closed after so many days, with its
    band (:func:`funnelsim.lessons_logs.cycle_curve`); the open leads count
    for as long as they have been open. The solid vertical line is the
    curve's mean cycle, the dot at one half its median with the median's
    interval. Dashed lines are the decks' averages of closed deals only.

    Parameters
    ----------
    result : CycleLength or SalesCycle
        From :func:`funnelsim.cycle_length`, or the cycle app's result
        (:func:`funnelsim.lessons_logs.sales_cycle`).
    ax : matplotlib Axes, optional
    given_event : bool, default True
        True: share of the deals that close. False: share of *all* leads
        closed (most leads never close: the curve levels off low).
    naive : bool, default True
        Draw the decks' averages (one dashed line per row of
        ``result.naive``).
    **kwargs
        Passed to the curve (``color``, ``linewidth``).

    Returns
    -------
    matplotlib Axes
        The curve (a step line), its band, the curve's mean, the median
        with its interval (``given_event=True``) and one line per naive
        average.

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
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_sales_cycle(fs.cycle_length(log, last=2))
    >>> ax.get_xlabel()
    'days from contact to signed'
    """
    from .lessons_logs import SalesCycle, cycle_curve
    from .survival import CycleLength

    if isinstance(result, SalesCycle):
        result = result.cycle
    _check_result(result, (CycleLength,), "plot_sales_cycle", "funnelsim.cycle_length")
    ax = _new_axes(ax)
    colors = _palette()
    km = result.survival
    unit = unit_label(result.unit)
    curve = cycle_curve(result, given_event=given_event)
    end = float(km.max_time)
    time = np.append(curve["time"].to_numpy(float), end)
    closed, low, high = (
        np.append(curve[c].to_numpy(float), curve[c].iloc[-1]) for c in ("closed", "low", "high")
    )
    ax.fill_between(
        time,
        low,
        high,
        step="post",
        color=colors[0],
        alpha=0.2,
        linewidth=0,
        label=t("plot.sales_cycle.band", level=km.confidence_level),
    )
    line = {"color": colors[0], "label": t("plot.sales_cycle.curve")}
    line.update(kwargs)
    ax.step(time, closed, where="post", **line)
    if km.time.size:
        ax.axvline(
            result.mean,
            color="black",
            linewidth=2.5,
            label=t("plot.sales_cycle.mean", value=result.mean, unit=unit),
        )
    if given_event and km.time.size and np.isfinite(result.median):
        m_low, m_high = result.median_ci
        right = m_high if np.isfinite(m_high) else end
        ax.errorbar(
            [result.median],
            [0.5],
            xerr=[[result.median - m_low], [right - result.median]],
            fmt="o",
            color="black",
            capsize=6,
            elinewidth=2.5,
            markersize=9,
            zorder=4,
            label=t(
                "plot.sales_cycle.median", value=result.median, low=m_low, high=m_high, unit=unit
            ),
        )
    if naive:
        styles = ("--", "-.", ":")
        for i, row in enumerate(result.naive.itertuples(index=False)):
            # "last 20" with fewer than 20 closed deals is "all closed": drawn once, as that
            if not np.isfinite(row.mean) or (
                row.method != "all closed" and row.deals >= result.closed
            ):
                continue
            ax.axvline(
                row.mean,
                color=colors[(1, 4, 2)[i % 3]],
                linestyle=styles[i % len(styles)],
                linewidth=3,
                label=t(
                    "plot.sales_cycle.naive",
                    method=_deals_label(row.method),
                    deals=int(row.deals),
                    value=row.mean,
                    unit=unit,
                ),
            )
    last_event = float(km.time[-1]) if km.time.size else end
    ax.set_xlim(0, min(end, max(last_event * 1.25, 1e-9)))
    top = 1.0 if given_event else max(float(np.nanmax(high)), 1e-3)
    ax.set_ylim(0, top * 1.05)
    small = FuncFormatter(lambda v, pos=None: f"{v:.1%}")  # shares of all leads are small
    ax.yaxis.set_major_formatter(FuncFormatter(_percent) if given_event else small)
    ax.set_title(t("plot.sales_cycle.title", closed=result.closed, open=result.open))
    ax.set_xlabel(t("plot.sales_cycle.xlabel", unit=unit, start=result.start, end=result.end))
    key = "plot.sales_cycle.ylabel" if given_event else "plot.sales_cycle.ylabel_all"
    ax.set_ylabel(t(key))
    ax.legend(loc="lower right" if given_event else "upper left")
    return ax


def plot_open_lead_ratios(
    result: OpenLeadRatios | list[OpenLeadRatios],
    *,
    ax: Axes | None = None,
    truth: object = None,
    labels: bool = True,
    **kwargs,
) -> Axes:
    """One ratio three ways, side by side: naive, mature cohort, censored (Kaplan-Meier).

    Parameters
    ----------
    result : OpenLeadRatios or sequence of them
        From :func:`funnelsim.open_lead_ratios`; several (one per step) make
        one group of rows each.
    ax : matplotlib Axes, optional
    truth : mapping, Series or DataFrame, optional
        True ratios: ``{stage: ratio}`` or a table with ``stage`` and
        ``ratio`` (:func:`funnelsim.lessons_logs.true_ratios`); a black bar
        marks each.
    labels : bool, default True
        Write each ratio beside its interval.
    **kwargs
        Passed to every :meth:`~matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib Axes
        Three errorbar containers (naive, mature, censored), a scatter of
        the truth when given, one text per estimate.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> times = pd.DataFrame({
    ...     "meeting": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-04",
    ...                                "2024-03-10", "2024-03-25", "2024-03-29"]),
    ...     "proposal": pd.to_datetime(["2024-03-05", None, "2024-03-12", None,
    ...                                 None, None])}, index=list("abcdef"))
    >>> log = fs.Log("events", ("meeting", "proposal"), leads=pd.DataFrame(index=times.index),
    ...              reached=times.notna(), times=times, as_of=pd.Timestamp("2024-03-31"))
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_open_lead_ratios(fs.open_lead_ratios(log, "proposal", window=14))
    >>> len(ax.containers)
    3
    """
    from .survival import OpenLeadRatios

    results = [result] if isinstance(result, OpenLeadRatios) else list(result)
    if not results:
        _check_result(result, (OpenLeadRatios,), "plot_open_lead_ratios", "open_lead_ratios")
    for r in results:
        _check_result(r, (OpenLeadRatios,), "plot_open_lead_ratios", "funnelsim.open_lead_ratios")
    ax = _new_axes(ax, figsize=(10, max(4.0, 1.4 * len(results) + 2.5)))
    colors = _palette()
    methods = ("naive", "mature cohort", "kaplan-meier")
    words = {
        "naive": t("plot.open_leads.naive"),
        "mature cohort": t(
            "plot.open_leads.mature", window=results[0].window, unit=unit_label(results[0].unit)
        ),
        "kaplan-meier": t("plot.open_leads.censored"),
    }
    style_of = {
        "naive": (colors[3], "o"),
        "mature cohort": (colors[1], "s"),
        "kaplan-meier": (colors[0], "D"),
    }
    offsets = (-0.25, 0.0, 0.25)
    centres = np.arange(len(results))
    tops = [0.01]
    for method, offset in zip(methods, offsets, strict=True):
        rows = [r.table.set_index("method").loc[method] for r in results]
        ratio = np.array([row["ratio"] for row in rows], float)
        low = np.array([row["low"] for row in rows], float)
        high = np.array([row["high"] for row in rows], float)
        colour, marker = style_of[method]
        style = {"color": colour, "marker": marker, "label": words[method]}
        style.update(kwargs)
        _errorbar(ax, ratio, centres + offset, low, high, **style)
        tops.append(float(np.nanmax(high)))
        if labels:
            for yi, r, hi in zip(centres + offset, ratio, high, strict=True):
                if np.isfinite(r):
                    ax.annotate(
                        _percent_1(r),
                        (hi, yi),
                        xytext=(8, 0),
                        textcoords="offset points",
                        va="center",
                    )
    if truth is not None:
        import pandas as pd

        true = _truth_per_row(truth, pd.DataFrame({"stage": [r.stage for r in results]}), [])
        if np.isfinite(true).any():
            ax.scatter(
                true,
                centres,
                marker="|",
                s=1800,
                linewidths=3.5,
                color="black",
                zorder=4,
                label=t("plot.open_leads.truth"),
            )
            tops.append(float(np.nanmax(true)))
    right = max(tops) * (1.35 if labels else 1.15)
    ax.set_xlim(0, right)
    _percent_axis(ax.xaxis, right)
    ax.set_yticks(
        centres, [t("plot.open_leads.step", previous=r.previous, stage=r.stage) for r in results]
    )
    ax.set_ylim(len(results) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.open_leads.title"))
    ax.set_xlabel(t("plot.open_leads.xlabel"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    return ax


def _percent_1(value: float) -> str:
    return f"{value:.1%}"


def plot_stale_leads(
    result: SalesCycle | pd.DataFrame,
    *,
    ax: Axes | None = None,
    cutoff: float | None = None,
    quantile: float | None = None,
    unit: str = "days",
    bins: int = 30,
    **kwargs,
) -> Axes:
    """Open leads by age: the live ones, the stale ones, and where the line is drawn.

    Parameters
    ----------
    result : SalesCycle or pandas.DataFrame
        The cycle app's result (:func:`funnelsim.lessons_logs.sales_cycle`),
        or :func:`funnelsim.stale_leads` with ``age="cycle"``.
    ax : matplotlib Axes, optional
    cutoff : float, optional
        The decks' rule: demote leads older than the average cycle. Default
        for a SalesCycle: its average of the last N closed deals.
    quantile : float, optional
        The quantile behind the stale threshold, for the legend (known from
        a SalesCycle).
    unit : str, default "days"
        Unit of the ages (a SalesCycle knows its own).
    bins : int, default 30
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.hist`.

    Returns
    -------
    matplotlib Axes
        A stacked histogram (live, stale), the stale threshold and, when
        known, the decks' cut-off.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> frame = pd.DataFrame({"age": [3.0, 10, 40, 50], "threshold": 20.0,
    ...                       "stale": [False, False, True, True]})
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_stale_leads(frame, cutoff=15)
    >>> ax.get_title()
    '2 of 4 open leads are stale'
    """
    import pandas as pd

    from .lessons_logs import SalesCycle

    if isinstance(result, SalesCycle):
        cutoff = result.naive_mean if cutoff is None else cutoff
        quantile = result.quantile if quantile is None else quantile
        unit = unit_label(result.cycle.unit)
        frame = result.stale
        last = result.last
    else:
        _check_result(result, (pd.DataFrame,), "plot_stale_leads", "funnelsim.stale_leads")
        unit = unit_label(unit)
        frame = result
        last = None
    if not {"age", "threshold", "stale"} <= set(frame.columns):
        raise FunnelsimValueError(
            "error.plot_stale_columns", value=", ".join(map(str, frame.columns))
        )
    ax = _new_axes(ax)
    colors = _palette()
    age = frame["age"].to_numpy(float)
    stale = frame["stale"].to_numpy(bool)
    finite = np.isfinite(age)
    top = float(age[finite].max()) if finite.any() else 1.0
    top = max(top, 1e-9)
    thresholds = frame["threshold"].dropna().unique()
    edges = np.linspace(0, top, int(bins) + 1)
    if len(thresholds) == 1 and 0 < thresholds[0] < top:  # a bin edge at the threshold
        cut = float(thresholds[0])
        left = min(int(bins) - 1, max(1, round(cut / top * int(bins))))
        edges = np.concatenate(
            [np.linspace(0, cut, left + 1), np.linspace(cut, top, int(bins) - left + 1)[1:]]
        )
    style = {
        "bins": edges,
        "stacked": True,
        "color": [colors[0], colors[7]],
        "label": [t("plot.stale.live"), t("plot.stale.stale")],
    }
    style.update(kwargs)
    ax.hist([age[finite & ~stale], age[finite & stale]], **style)
    if len(thresholds) == 1:
        value = float(thresholds[0])
        label = (
            t("plot.stale.threshold", value=value, unit=unit, quantile=quantile)
            if quantile is not None
            else t("plot.stale.threshold_plain", value=value, unit=unit)
        )
        ax.axvline(value, color="black", linewidth=3, label=label)
    if cutoff is not None and np.isfinite(cutoff):
        key = "plot.stale.cutoff_last" if last is not None else "plot.stale.cutoff"
        ax.axvline(
            cutoff,
            color=colors[1],
            linestyle="--",
            linewidth=3,
            label=t(key, value=cutoff, unit=unit, n=last),
        )
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # room for the legend above the bars
    ax.yaxis.set_major_formatter(FuncFormatter(_amount))
    ax.set_title(t("plot.stale.title", stale=int(stale.sum()), open=len(frame)))
    ax.set_xlabel(t("plot.stale.xlabel", unit=unit))
    ax.set_ylabel(t("plot.stale.ylabel"))
    ax.legend(loc="upper right")
    return ax


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
    >>> res = fs.compare_groups(fs.Log("counts", ("connects", "meetings"), counts=counts),
    ...                         by="rep")
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_shrinkage(res)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['ann (40)', 'bob (70)', 'cy (90)', 'dee (60)']
    """
    from .groups import GroupComparison, _when

    _check_groups_result(result, GroupComparison, "plot_shrinkage", "compare_groups")
    step = result.stages[0] if stage is None else _choice("stage", stage, result.stages)
    _require_leads(result, step)
    rows = result.table[result.table["stage"] == step].reset_index(drop=True)
    team = float(result.steps.loc[result.steps["stage"] == step, "team_ratio"].iloc[0])
    ax = _new_axes(ax, figsize=(10, max(4.0, 0.75 * len(rows) + 2)))
    colors = _palette()
    y = np.arange(len(rows))
    level = result.confidence_level
    raw = {
        "color": colors[7],
        "markerfacecolor": "white",
        "markeredgewidth": 2.5,
        "label": t("plot.shrinkage.raw", level=level),
    }
    raw.update(kwargs)
    _errorbar(ax, rows["ratio"], y - 0.17, rows["low"], rows["high"], **raw)
    shrunk = {"color": colors[0], "label": t("plot.shrinkage.shrunk", level=level)}
    shrunk.update(kwargs)
    _errorbar(ax, rows["shrunk"], y + 0.17, rows["shrunk_low"], rows["shrunk_high"], **shrunk)
    ax.axvline(
        team,
        color="black",
        linestyle="--",
        linewidth=2.5,
        label=t("plot.shrinkage.team", ratio=team),
    )
    names = [
        t("plot.shrinkage.group", group=", ".join(map(_when, g)), entered=int(n))
        for g, n in zip(
            rows[list(result.by)].itertuples(index=False), rows["entered"], strict=True
        )
    ]
    top = np.nanmax(np.concatenate([rows["high"].to_numpy(float), [team, 0.01]]))
    ax.set_xlim(0, min(1.0, top * 1.15) if top < 0.95 else 1.02)
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_yticks(y, names)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.shrinkage.title", stage=step))
    ax.set_xlabel(t("plot.shrinkage.xlabel", stage=step))
    ax.legend(loc="lower right")
    return ax


def plot_sample_size(result: SampleSize, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Leads needed against the margin wanted: half the margin takes four times the leads.

    Parameters
    ----------
    result : SampleSize
        From :func:`funnelsim.lessons_logs.sample_size`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to both lines.

    Returns
    -------
    matplotlib Axes
        One line per method (Wilson, Wald) on log-log axes and a dot at the
        margin asked for.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons_logs import sample_size
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_sample_size(sample_size(0.3, 0.05))
    >>> [line.get_label() for line in ax.lines]
    ['Wilson', 'Wald']
    """
    from .lessons_logs import SampleSize

    _check_result(result, (SampleSize,), "plot_sample_size", "lessons_logs.sample_size")
    ax = _new_axes(ax)
    colors = _palette()
    curve = result.curve
    for method in ("wilson", "wald"):
        rows = curve[curve["method"] == method]
        style = {"color": colors[_METHOD_COLOUR[method]], "label": method_label(method)}
        style.update(kwargs)
        ax.plot(rows["half_width"], rows["leads"], **style)
    ax.scatter(
        [result.half_width],
        [result.wilson],
        s=160,
        color=colors[_METHOD_COLOUR["wilson"]],
        edgecolor="black",
        zorder=4,
        label=t("plot.sample_size.chosen", half_width=result.half_width, leads=result.wilson),
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_axis(ax.xaxis, lambda v, pos=None: f"±{100 * v:.3g}")
    _log_axis(ax.yaxis, _amount)
    ax.minorticks_off()
    ax.set_title(t("plot.sample_size.title", ratio=result.ratio, level=result.confidence_level))
    ax.set_xlabel(t("plot.sample_size.xlabel"))
    ax.set_ylabel(t("plot.sample_size.ylabel"))
    ax.legend(loc="upper right")
    return ax


# ============================================================== forecasts (issue #4)
# Plots of funnelsim.forecast and funnelsim.pipeline results. The results are
# imported inside the functions so that the module loads them only when used.
__all__ += ["plot_calibration", "plot_forecast", "plot_ladder", "plot_pipeline"]

if TYPE_CHECKING:
    from .forecasting import Forecast
    from .ladder import Ladder
    from .pipeline import Calibration, Pipeline


def plot_forecast(
    result: Forecast,
    *,
    measure: str = "revenue",
    cumulative: bool = True,
    target: float | None = None,
    period: str = "week",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Fan chart of a forecast: the honest P10-P90 band beside the point-estimate band.

    Parameters
    ----------
    result : Forecast
        From :func:`funnelsim.forecast`.
    measure : {"revenue", "sales"}
    cumulative : bool
        Running total to each period (the default: "where will we be by week
        N") or per period.
    target : float, optional
        Draws the target and puts the chance of reaching it by the last
        period in the legend.
    period : {"week", "day", "month", "period"}
        What one period is, for the axis label.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the median line.

    Returns
    -------
    matplotlib Axes
        The shaded band with the ratios' uncertainty, the median, the point
        estimates' band as dashed lines (when the forecast has one) and the
        target.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> log = fs.Log("counts", ("dials", "sales"),
    ...              counts=pd.DataFrame({"dials": [5000], "sales": [40]}))
    >>> fc = fs.forecast(fs.fit(log), calls=500, periods=13, reps=2000, rng=7)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_forecast(fc, measure="sales", target=50)
    >>> [line.get_label() for line in ax.lines][:2]
    ['median', 'point estimates only: P10 and P90']
    """
    from .forecasting import Forecast

    _check_result(result, (Forecast,), "plot_forecast", "funnelsim.forecast")
    measure = _choice("measure", measure, ("revenue", "sales"))
    unit, _units_word = _units(period)
    ax = _new_axes(ax)
    colors = _palette()
    table = result.percentiles((0.1, 0.5, 0.9), measure=measure, cumulative=cumulative)
    x = table["period"].to_numpy() + 1
    band = (
        t("plot.forecast.band_uncertain") if result.uncertainty else t("plot.forecast.band_point")
    )
    ax.fill_between(
        x, table["q10"], table["q90"], color=colors[0], alpha=0.25, linewidth=0, label=band
    )
    line = {"color": colors[0], "label": t("plot.forecast.median")}
    line.update(kwargs)
    ax.plot(x, table["q50"], **line)
    top = float(table["q90"].max())
    if result.point is not None:
        point = result.point.percentiles((0.1, 0.9), measure=measure, cumulative=cumulative)
        style = {"color": colors[3], "linestyle": "--", "linewidth": 2.2}
        ax.plot(x, point["q10"], label=t("plot.forecast.band_point_lines"), **style)
        ax.plot(x, point["q90"], **style)
        top = max(top, float(point["q90"].max()))
    if target is not None:
        chance_ = float(result.prob_reach(target, measure=measure, cumulative=cumulative).iloc[-1])
        ax.axhline(
            target,
            color="black",
            linestyle=":",
            linewidth=2.5,
            label=t("plot.forecast.target", target=_amount(target), chance=chance(chance_)),
        )
        top = max(top, float(target))
    ax.set_xlim(0.5, len(x) + 0.5)
    ax.set_ylim(0, max(top, 1e-9) * 1.3)
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_formatter(FuncFormatter(_amount))
    what = t("plot.revenue") if measure == "revenue" else t("plot.sales")
    key = "cumulative" if cumulative else "per_period"
    ax.set_title(t(f"plot.forecast.title_{key}", what=what))
    ax.set_xlabel(unit)
    ax.set_ylabel(t(f"plot.forecast.ylabel_{key}", what=what, unit=unit))
    ax.legend(loc="upper left")
    return ax


def plot_pipeline(
    result: Pipeline,
    *,
    quota: float | None = None,
    measure: str = "amount",
    method: str = "auto",
    reps: int = 100_000,
    rng: object = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """What a pipeline really delivers: the chance of closing at least each amount.

    Parameters
    ----------
    result : Pipeline
        From :func:`funnelsim.read_pipeline`.
    quota : float, optional
        Draws the quota with the chance of reaching it.
    measure : {"amount", "deals"}
        Money closed, or the number of deals.
    method, reps, rng
        As in :meth:`Pipeline.amount_distribution` (exact when possible).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the curve.

    Returns
    -------
    matplotlib Axes
        A step curve ``P(closed >= x)``, the weighted total (the decks'
        forecast) as a vertical line, P10/P50/P90 as dots, and the quota.

    Examples
    --------
    >>> import funnelsim as fs
    >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_pipeline(pipe, quota=250_000)
    >>> ax.get_ylabel()
    'chance of closing at least this much'
    """
    import pandas as pd

    from .pipeline import Pipeline

    _check_result(result, (Pipeline,), "plot_pipeline", "funnelsim.read_pipeline")
    measure = _choice("measure", measure, ("amount", "deals"))
    ax = _new_axes(ax)
    colors = _palette()
    if measure == "deals":
        pmf = result.count_pmf()
        values, probs = pmf.index.to_numpy(float), pmf.to_numpy()
        expected = result.expected_deals
    else:
        dist = result.amount_distribution(method=method, reps=reps, rng=rng)
        values, probs = dist["amount"].to_numpy(float), dist["probability"].to_numpy()
        expected = result.weighted
    sf = np.clip(1.0 - np.concatenate([[0.0], np.cumsum(probs)[:-1]]), 0.0, 1.0)
    curve = {"color": colors[0], "where": "post", "label": t("plot.pipeline.curve")}
    curve.update(kwargs)
    ax.step(np.concatenate([[0.0], values]), np.concatenate([[1.0], sf]), **curve)
    ax.axvline(
        expected,
        color=colors[1],
        linestyle="--",
        linewidth=2.5,
        label=t(
            "plot.pipeline.weighted",
            value=_amount(expected),
            chance=chance(float(sf[np.searchsorted(values, expected * (1 - 1e-12))])),
        ),
    )
    # P10/P50/P90 and the quota's chance from the same distribution (one draw)
    cdf = np.cumsum(probs)
    idx = np.minimum(np.searchsorted(cdf, np.array([0.1, 0.5, 0.9]) * (1 - 1e-12)), len(cdf) - 1)
    levels = pd.Series(values[idx])
    ax.scatter(
        levels.to_numpy(),
        sf[idx],
        s=120,
        color=colors[2],
        edgecolor="black",
        zorder=4,
        label=t(
            "plot.pipeline.levels",
            p10=_amount(levels.iloc[0]),
            p50=_amount(levels.iloc[1]),
            p90=_amount(levels.iloc[2]),
        ),
    )
    if quota is not None:
        p = float(min(probs[values >= quota * (1 - 1e-12)].sum(), 1.0))
        ax.axvline(
            quota,
            color="black",
            linestyle=":",
            linewidth=2.5,
            label=t("plot.pipeline.quota", quota=_amount(quota), chance=chance(p)),
        )
    ax.set_ylim(0, 1.35)
    _percent_axis(ax.yaxis, 1.0)
    right = float(values[sf > 1e-4].max()) if (sf > 1e-4).any() else float(values.max())
    ax.set_xlim(0, max(right, float(quota or 0), expected, 1.0) * 1.1)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.xaxis.set_major_formatter(FuncFormatter(_amount))
    ax.set_title(t("plot.pipeline.title", deals=result.n_deals))
    ax.set_xlabel(t(f"plot.pipeline.xlabel_{measure}"))
    ax.set_ylabel(t(f"plot.pipeline.ylabel_{measure}"))
    ax.legend(loc="lower left")
    return ax


def plot_calibration(result: Calibration, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Reliability diagram: stated chance of closing against the share that closed.

    Parameters
    ----------
    result : Calibration
        From :func:`funnelsim.calibration`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the error bars.

    Returns
    -------
    matplotlib Axes
        One dot per probability bin with its interval (deals in the bin in
        the label), and the diagonal where stated = observed.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> history = pd.DataFrame({"stage": ["25%"] * 40 + ["75%"] * 20,
    ...                         "closed": ["no"] * 32 + ["yes"] * 8 + ["yes"] * 13 + ["no"] * 7})
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_calibration(fs.calibration(history))
    >>> ax.get_xlabel()
    'stated chance of closing'
    """
    from .pipeline import Calibration

    _check_result(result, (Calibration,), "plot_calibration", "funnelsim.calibration")
    ax = _new_axes(ax, figsize=(8, 7))
    colors = _palette()
    table = result.table
    ideal = t("plot.calibration.ideal")
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=2, label=ideal)
    label = t("plot.calibration.observed", level=result.confidence_level)
    style = {"color": colors[0], "label": label, **kwargs}
    _errorbar(
        ax, table["stated"], table["observed"], table["low"], table["high"], vertical=True, **style
    )
    for row in table.itertuples(index=False):
        ax.annotate(
            t("plot.calibration.n", n=int(row.n)),
            (row.stated, row.observed),
            xytext=(10, -4),
            textcoords="offset points",
            fontsize="small",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.15)
    _percent_axis(ax.xaxis, 1.0)
    _percent_axis(ax.yaxis, 1.0)
    ax.set_title(t("plot.calibration.title", brier=result.brier))
    ax.set_xlabel(t("plot.calibration.xlabel"))
    ax.set_ylabel(t("plot.calibration.ylabel"))
    ax.legend(loc="upper left")
    return ax


def plot_ladder(result: Ladder, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Step-up rates of the grade ladder with their intervals.

    Parameters
    ----------
    result : Ladder
        From :func:`funnelsim.grade_ladder`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the error bars.

    Returns
    -------
    matplotlib Axes
        One dot and interval per step (E -> D ... B -> A), leads in the label.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> history = pd.DataFrame({"grade": ["E"] * 50 + ["D"] * 25 + ["C"] * 15
    ...                                  + ["B"] * 6 + ["A"] * 4})
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_ladder(fs.grade_ladder(history))
    >>> [label.get_text() for label in ax.get_yticklabels()][:2]
    ['E → D (100)', 'D → C (50)']
    """
    from .ladder import Ladder

    _check_result(result, (Ladder,), "plot_ladder", "funnelsim.grade_ladder")
    table = result.table
    ax = _new_axes(ax, figsize=(10, max(4.0, 0.8 * len(table) + 2)))
    colors = _palette()
    y = np.arange(len(table))
    style = {"color": colors[0], "label": t("plot.ladder.rate", level=result.fit.confidence_level)}
    style.update(kwargs)
    ok = table["entered"].to_numpy() > 0
    ratio, low, high = (table[c].to_numpy(float)[ok] for c in ("ratio", "low", "high"))
    _errorbar(ax, ratio, y[ok], low, high, **style)
    names = [
        t("plot.ladder.step", low=a, high=b, entered=int(n))
        for a, b, n in zip(table["from"], table["to"], table["entered"], strict=True)
    ]
    ax.set_yticks(y, names)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(0, 1.0)
    _percent_axis(ax.xaxis, 1.0)
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.ladder.title"))
    ax.set_xlabel(t("plot.ladder.xlabel"))
    ax.legend(loc="lower right")
    return ax
