"""Plots of the numbers game (notebooks 01-03): running shares, noise, funnels, levers, fans.

Every function takes a result from :mod:`funnelsim.lessons.game` (or a
:class:`~funnelsim.Funnel`) and draws on one matplotlib ``Axes``.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .._validate import check_choice, check_result
from ..i18n import stage_label, t
from ..lessons import (
    CycleEffects,
    EqualEffort,
    NoiseByVolume,
    NoiseFloor,
    RatioGame,
    RevenueSteadiness,
    RunningShare,
)
from .theme import (
    ShareFormatter,
    amount_axis,
    amount_tick,
    chance,
    log_axis,
    money_tick,
    new_axes,
    palette,
    period_units,
    revenue_word,
    units_of,
)

__all__ = [
    "plot_cv_by_calls",
    "plot_cv_floor",
    "plot_cycle_effects",
    "plot_equal_effort",
    "plot_fan",
    "plot_funnel",
    "plot_levers",
    "plot_running_share",
]


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

    Examples
    --------
    >>> import funnelsim as fs
    >>> res = fs.lessons.running_share(0.5, 200, reps=20, rng=1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_running_share(res)
    >>> ax.get_title()
    'The share of successes settles down as the calls add up'
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['one line per rep (20 of 20 shown)', 'where 95% of reps should be', 'true rate: 50.0%']
    """
    check_result(result, (RunningShare,), "plot_running_share", "funnelsim.lessons.running_share")
    ax = new_axes(ax)
    colors = palette()
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
    ax.yaxis.set_major_formatter(ShareFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(amount_tick))
    ax.set_title(t("plot.running_share.title"))
    ax.set_xlabel(t("plot.running_share.xlabel"))
    ax.set_ylabel(t("plot.running_share.ylabel"))
    ax.legend(loc="upper right")
    return ax


_SERIES_ORDER = ("sales", "revenue", "week", "month")


def _amount(value: float, deal_size: object) -> str:
    """A target in words: money (with the currency) when there is a deal size, else a count."""
    return money_tick(value) if deal_size is not None else amount_tick(value)


def plot_cv_by_calls(
    result: NoiseByVolume | RevenueSteadiness,
    *,
    ax: Axes | None = None,
    series: tuple[str, ...] | None = None,
    period: str | None = None,
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
    period : {"day", "week", "month", "period"}, optional
        What one period of the calls is, for the x-axis label ("calls per
        week"). By default ``"week"`` for a RevenueSteadiness (its calls are
        a week's) and ``"period"`` for a NoiseByVolume.
    **kwargs
        Passed to the simulated points (``marker``, ``markersize``).

    Returns
    -------
    matplotlib Axes
        One theory line and one line of simulated points per series, log
        scales on both axes.

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.noise_by_volume(game, [75, 300, 1200], reps=500, rng=3)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_cv_by_calls(res)
    >>> ax.get_title(), ax.get_xlabel()
    ('Four times the calls, half the noise', 'calls per period (log scale)')
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['sales: theory', 'sales: simulated']
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_cv_by_calls(res, period="week")
    >>> ax.get_xlabel()
    'calls per week (log scale)'
    """
    check_result(
        result,
        (NoiseByVolume, RevenueSteadiness),
        "plot_cv_by_calls",
        "funnelsim.lessons.noise_by_volume / revenue_steadiness",
    )
    if period is None:
        period = "week" if isinstance(result, RevenueSteadiness) else "period"
    unit, _ = period_units(period)
    ax = new_axes(ax)
    colors = palette()
    present = [s for s in _SERIES_ORDER if s in set(result.curve["series"])]
    wanted = (
        present if series is None else [check_choice("series", s, tuple(present)) for s in series]
    )
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
    log_axis(ax.xaxis, amount_tick)
    log_axis(ax.yaxis, ShareFormatter(share=False))  # relative noise: not a share
    ax.minorticks_off()  # the 1-2-5 major ticks are enough
    ax.set_title(t("plot.cv.title"))
    ax.set_xlabel(t("plot.cv.xlabel", unit=unit))
    ax.set_ylabel(t("plot.cv.ylabel"))
    ax.legend(loc="upper right")
    return ax


def plot_cv_floor(
    result: NoiseFloor, *, ax: Axes | None = None, period: str = "week", **kwargs
) -> Axes:
    """Relative noise (CV) against calls with a fixed and a moving rate, and the floor.

    Log-log axes, as in :func:`plot_cv_by_calls`: with a fixed rate the
    theory is a straight line (four times the calls, half the noise); with a
    rate that moves from week to week the line bends and flattens onto the
    floor (dashed), below which no number of calls brings the noise.

    Parameters
    ----------
    result : NoiseFloor
        From :func:`funnelsim.lessons.noise_floor`.
    ax : matplotlib Axes, optional
    period : {"day", "week", "month", "period"}
        What one period of the calls is, for the x-axis label.
    **kwargs
        Passed to the simulated points (``marker``, ``markersize``).

    Returns
    -------
    matplotlib Axes
        Two theory lines, their simulated points and the floor line.

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
    >>> res = fs.lessons.noise_floor(f, [100, 1000, 10_000], rate_cv=0.2, reps=500, rng=1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_cv_floor(res)
    >>> ax.get_title()
    'When the rate moves, more calls stop helping'
    >>> [text.get_text() for text in ax.get_legend().get_texts()]  # doctest: +NORMALIZE_WHITESPACE
    ['rate fixed', 'rate fixed: simulated', 'rate moving 20% a week',
     'rate moving 20% a week: simulated', 'floor: 20%']
    """
    check_result(result, (NoiseFloor,), "plot_cv_floor", "funnelsim.lessons.noise_floor")
    unit, _ = period_units(period)
    ax = new_axes(ax)
    colors = palette()
    point_kw = {"marker": "o", "linestyle": "none", "markersize": 11, "zorder": 3}
    point_kw.update(kwargs)
    for i, moving in enumerate(sorted(set(result.curve["rate_cv"]))):
        color = colors[i % len(colors)]
        curve = result.curve[np.isclose(result.curve["rate_cv"], moving)]
        pts = result.points[np.isclose(result.points["rate_cv"], moving)]
        label = (
            t("plot.floor.moving", rate_cv=moving, unit=unit)
            if moving > 0
            else t("plot.floor.fixed")
        )
        ax.plot(curve["calls"], curve["cv"], color=color, label=label)
        ax.plot(
            pts["calls"],
            pts["cv"],
            color=color,
            markeredgecolor="black",
            label=t("plot.floor.simulated", series=label),
            **point_kw,
        )
    if result.floor > 0:
        ax.axhline(
            result.floor,
            color="black",
            linestyle="--",
            linewidth=2,
            label=t("plot.floor.line", floor=result.floor),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax.xaxis, amount_tick)
    log_axis(ax.yaxis, ShareFormatter(share=False))
    ax.minorticks_off()
    ax.set_title(t("plot.floor.title"))
    ax.set_xlabel(t("plot.cv.xlabel", unit=unit))
    ax.set_ylabel(t("plot.cv.ylabel"))
    ax.legend(loc="lower left")
    return ax


def plot_funnel(
    result: RatioGame,
    *,
    ax: Axes | None = None,
    show: tuple[str, ...] = ("expected", "needed"),
    period: str = "period",
    **kwargs,
) -> Axes:
    """Bars per stage of a ratio game: what your calls give on average, and what the target needs.

    It takes a :class:`~funnelsim.lessons.RatioGame`, the result of
    ``fs.lessons.ratio_game(funnel, calls, target=...)``, not a
    :class:`~funnelsim.Funnel`: play the game on your funnel first, then plot
    it (see the example). Given a Funnel it raises a TypeError that says so.

    Parameters
    ----------
    result : RatioGame
        From :func:`funnelsim.lessons.ratio_game` (not a Funnel).
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

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.ratio_game(game, 15, target=50, periods=250)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_funnel(res, period="day")
    >>> ax.get_title()
    'The funnel: your calls against what the target needs'
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['dials', 'connects', 'meetings', 'sales']
    >>> fs.plotting.plot_funnel(game)
    Traceback (most recent call last):
    ...
    funnelsim.FunnelsimTypeError: plot_funnel expects result to be a RatioGame, the result of
    funnelsim.lessons.ratio_game; got a Funnel.
    """
    check_result(result, (RatioGame,), "plot_funnel", "funnelsim.lessons.ratio_game")
    ax = new_axes(ax)
    colors = palette()
    shown = [check_choice("show", s, ("expected", "needed")) for s in show]
    unit, _ = period_units(period)
    stages = list(result.funnel.stages)
    values = {
        "expected": result.expected.to_numpy(dtype=float),
        "needed": result.back["needed"].to_numpy(dtype=float),
    }
    labels = {
        "expected": t("plot.funnel.expected", calls=result.calls, unit=unit),
        "needed": t("plot.funnel.needed", target=_amount(result.target, result.deal_size)),
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
        ax.bar_label(bars, labels=[amount_tick(v) for v in values[name]], padding=4)
    ax.set_yticks(y, [stage_label(s) for s in stages])
    ax.set_ylim(len(stages) - 0.5, -0.5)  # first stage on top
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(amount_tick))
    ax.set_title(t("plot.funnel.title"))
    ax.set_xlabel(
        t("plot.funnel.xlabel", periods=result.periods, units=units_of(result.periods, period))
    )
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

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.ratio_game(game, 15, target=50, periods=250)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_levers(res, period="day")
    >>> ax.get_title(), ax.get_ylabel()
    ('Two levers: more calls, or a better ratio?', 'expected sales over 250 days')
    >>> [label.get_text().splitlines() for label in ax.get_xticklabels()]
    [['today', '15 calls a day'], ['volume lever', '+15 calls a day'],
     ['ratio lever', 'connects: 46.7% → 53.3%']]
    """
    check_result(result, (RatioGame,), "plot_levers", "funnelsim.lessons.ratio_game")
    ax = new_axes(ax)
    colors = palette()
    unit, _ = period_units(period)
    tab = result.levers
    k = result.funnel.stages.index(result.lever_stage) - 1
    names = [
        t("plot.levers.baseline", calls=result.calls, unit=unit),
        t("plot.levers.volume", extra=result.extra_calls, unit=unit),
        t(
            "plot.levers.ratio",
            stage=stage_label(result.lever_stage),
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
        label=t("plot.levers.target", target=_amount(result.target, result.deal_size)),
    )
    top = max(float(tab["expected"].max()), result.target)
    ax.set_ylim(0, top * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(6))
    amount_axis(ax.yaxis, money=result.deal_size is not None)
    ax.grid(axis="x", visible=False)
    what = revenue_word(result.deal_size)
    ax.set_title(t("plot.levers.title"))
    ax.set_xlabel(t("plot.levers.xlabel"))
    ax.set_ylabel(
        t(
            "plot.levers.ylabel",
            what=what,
            periods=result.periods,
            units=units_of(result.periods, period),
        )
    )
    ax.legend(loc="upper left")
    return ax


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

    Examples
    --------
    >>> import funnelsim as fs
    >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
    >>> res = fs.lessons.revenue_steadiness(weekly, 100, periods=24, reps=200, cycle=4,
    ...                                     deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_fan(res, block="month")
    >>> ax.get_title(), ax.get_xlabel(), ax.get_ylabel()
    ('Revenue per month: relative noise 25%', 'month (4 weeks)', 'revenue per month')
    """
    check_result(result, (RevenueSteadiness,), "plot_fan", "funnelsim.lessons.revenue_steadiness")
    block = check_choice("block", block, ("week", "month"))
    ax = new_axes(ax)
    colors = palette()
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
    amount_axis(ax.yaxis, money=result.deal_size is not None)
    what = revenue_word(result.deal_size)
    ax.set_title(t(f"plot.fan.title_{block}", cv=result.cv(block)))
    ax.set_xlabel(t(f"plot.fan.xlabel_{block}", block=result.block))
    ax.set_ylabel(t(f"plot.fan.ylabel_{block}", what=what))
    ax.legend(loc="upper left", ncols=2)
    return ax


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

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.cycle_effects(game, 75, cycle=fs.Cycle(6, cv=0.3), periods=24,
    ...                                reps=200, rng=2)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_cycle_effects(res, scenario="pause")
    >>> ax.get_title()
    'A 4-week pause: revenue falls one cycle later'
    >>> ax.get_xlabel(), ax.figure.axes[-1].get_ylabel()
    ('week (sales cycle: 6 weeks on average)', 'calls per week')
    """
    check_result(result, (CycleEffects,), "plot_cycle_effects", "funnelsim.lessons.cycle_effects")
    scenario = check_choice("scenario", scenario, ("ramp_up", "pause"))
    ax = new_axes(ax)
    colors = palette()
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
    calls_ax.yaxis.set_major_formatter(FuncFormatter(amount_tick))
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
    amount_axis(ax.yaxis, money=result.deal_size is not None)
    what = revenue_word(result.deal_size)
    ax.set_title(t(f"plot.cycle.title_{scenario}", weeks=result.pause_length))
    ax.set_xlabel(t("plot.cycle.xlabel", cycle=result.cycle.mean))
    ax.set_ylabel(t("plot.cycle.ylabel", what=what))
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = calls_ax.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", ncols=3)
    return ax


def plot_equal_effort(
    result: EqualEffort | RatioGame, *, ax: Axes | None = None, period: str = "period", **kwargs
) -> Axes:
    """The same push on every lever: what it buys, how widely it lands, the chance of the target.

    One bar per lever (today, more calls, each ratio, the deal size), each
    given the same relative push: the bar is the expected result over the
    plan, the line across it the range where 8 plans in 10 land (P10 to P90),
    the note its gain and its chance of reaching the target (dashed line).

    Parameters
    ----------
    result : EqualEffort or RatioGame
        From :func:`funnelsim.lessons.equal_effort`, or a ratio game (its
        :attr:`~funnelsim.lessons.RatioGame.equal_effort`).
    ax : matplotlib Axes, optional
    period : {"day", "week", "month", "period"}
        What one period of the plan is, for the labels.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib Axes
        One bar container (levers top to bottom, today first), the P10-P90
        lines, a note per bar, and a dashed line at the target.

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.equal_effort(game, 24, target=500_000, periods=250,
    ...                               deal_size=fs.DealSize.gamma(10_000, cv=0.5))
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_equal_effort(res, period="day")
    >>> ax.get_title()
    'The same +10% on every lever: what it buys'
    >>> [label.get_text().splitlines()[0] for label in ax.get_yticklabels()]
    ['today', 'calls +10%', 'dials → connects +10%', 'connects → meetings +10%',
     'meetings → sales +10%', 'deal size +10%']
    >>> [text.get_text() for text in ax.texts]
    ['49% chance of the target', '+10%, 72% chance', '+10%, 72% chance', '+10%, 72% chance',
     '+10%, 72% chance', '+10%, 71% chance']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)  # the doctests of a run share pyplot's figures
    """
    check_result(
        result,
        (EqualEffort, RatioGame),
        "plot_equal_effort",
        "funnelsim.lessons.equal_effort",
    )
    res = result.equal_effort if isinstance(result, RatioGame) else result
    ax = new_axes(ax)
    colors = palette()
    unit, _ = period_units(period)
    tab = res.levers
    stages = list(res.funnel.stages)
    colour = {
        "baseline": colors[7],
        "volume": colors[0],
        "ratio": colors[2],
        "deal_size": colors[1],
    }
    names = []
    for row in tab.itertuples(index=False):
        if row.lever == "baseline":
            names.append(t("plot.effort.baseline", calls=amount_tick(row.before), unit=unit))
        elif row.lever == "volume":
            names.append(
                t(
                    "plot.effort.volume",
                    effort=res.effort,
                    old=amount_tick(row.before),
                    new=amount_tick(row.after),
                    unit=unit,
                )
            )
        elif row.lever == "ratio":
            upper = stages[stages.index(row.stage) - 1]
            names.append(
                t(
                    "plot.effort.ratio",
                    effort=res.effort,
                    upper=stage_label(upper),
                    lower=stage_label(row.stage),
                    old=row.before,
                    new=row.after,
                )
            )
        else:
            names.append(
                t(
                    "plot.effort.deal_size",
                    effort=res.effort,
                    old=money_tick(row.before),
                    new=money_tick(row.after),
                )
            )
    y = np.arange(len(tab))
    bar_kw = {"height": 0.6, "color": [colour[name] for name in tab["lever"]]}
    bar_kw.update(kwargs)
    ax.barh(y, tab["expected"], label=t("plot.effort.expected"), **bar_kw)
    ax.errorbar(
        tab["expected"],
        y,
        xerr=np.clip(
            np.vstack([tab["expected"] - tab["low"], tab["high"] - tab["expected"]]), 0, None
        ),
        fmt="none",
        ecolor="black",
        elinewidth=2.5,
        capsize=8,
        capthick=2.5,
        label=t("plot.effort.band"),
    )
    right = float(np.nanmax(np.concatenate([tab["high"].to_numpy(), [res.target, 1e-9]])))
    for i, row in enumerate(tab.itertuples(index=False)):
        chance_text = chance(row.p_target)
        note = (
            t("plot.effort.note_today", p=chance_text)
            if row.lever == "baseline"
            else t("plot.effort.note", gain=row.gain, p=chance_text)
        )
        ax.text(  # right of the band and of the target line
            max(row.high, row.expected, res.target) + 0.03 * right, i, note, va="center"
        )
    ax.vlines(  # over the bars only: the bottom row is the legend's
        res.target,
        -0.5,
        len(tab) - 0.5,
        color="black",
        linestyle="--",
        linewidth=2,
        label=t("plot.effort.target", target=_amount(res.target, res.deal_size)),
    )
    ax.set_yticks(y, names)
    ax.set_ylim(len(tab) + 0.4, -0.6)  # today on top; the bottom row holds the legend
    ax.set_xlim(0, right * 1.6)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    amount_axis(ax.xaxis, money=res.deal_size is not None)
    ax.grid(axis="y", visible=False)
    what = revenue_word(res.deal_size)
    ax.set_title(t("plot.effort.title", effort=res.effort))
    ax.set_xlabel(
        t(
            "plot.effort.xlabel",
            what=what,
            periods=res.periods,
            units=units_of(res.periods, period),
        )
    )
    ax.set_ylabel(t("plot.effort.ylabel"))
    ax.legend(loc="lower right", ncols=3)
    return ax
