"""Plots of forecasts and pipelines (notebook 07): bands, pipelines, calibration, the ladder.

Every function takes a result from :mod:`funnelsim.forecasting`,
:mod:`funnelsim.pipeline` or :mod:`funnelsim.ladder` and draws on one
matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from .._validate import check_choice, check_result
from ..forecasting import Forecast
from ..i18n import stage_label, t
from ..ladder import Ladder
from ..pipeline import Pipeline
from ..reliability import Calibration
from .theme import (
    amount_axis,
    amount_tick,
    chance,
    errorbar,
    legend_below,
    money_tick,
    new_axes,
    palette,
    percent_axis,
    period_units,
)

__all__ = ["plot_calibration", "plot_forecast", "plot_ladder", "plot_pipeline"]


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
    >>> import funnelsim as fs
    >>> ratios = fs.fit(fs.datasets.load_events(), mature=60)
    >>> fc = fs.forecast(ratios, calls=234, periods=13, reps=2000, rng=7)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_forecast(fc, measure="sales", target=40)
    >>> [line.get_label() for line in ax.lines][:2]
    ['median', 'point estimates only: P10 and P90']
    """

    check_result(result, (Forecast,), "plot_forecast", "funnelsim.forecast")
    measure = check_choice("measure", measure, ("revenue", "sales"))
    unit, _units_word = period_units(period)
    ax = new_axes(ax)
    colors = palette()
    money = measure == "revenue" and result.deal_size is not None
    amount = money_tick if money else amount_tick
    table = result.percentiles((0.1, 0.5, 0.9), measure=measure, cumulative=cumulative)
    x = table["period"].to_numpy()  # counted from 1 by percentiles()
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
            label=t("plot.forecast.target", target=amount(target), chance=chance(chance_)),
        )
        top = max(top, float(target))
    ax.set_xlim(0.5, len(x) + 0.5)
    ax.set_ylim(0, max(top, 1e-9) * 1.08)
    ax.yaxis.set_major_locator(MaxNLocator(6))
    amount_axis(ax.yaxis, money=money)
    what = t("plot.revenue") if measure == "revenue" else t("plot.sales")
    key = "cumulative" if cumulative else "per_period"
    ax.set_title(t(f"plot.forecast.title_{key}", what=what))
    ax.set_xlabel(unit)
    ax.set_ylabel(t(f"plot.forecast.ylabel_{key}", what=what, unit=unit))
    legend_below(ax)  # the band fills the corners: the legend goes under the axes
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

    check_result(result, (Pipeline,), "plot_pipeline", "funnelsim.read_pipeline")
    measure = check_choice("measure", measure, ("amount", "deals"))
    ax = new_axes(ax)
    colors = palette()
    amount = money_tick if measure == "amount" else amount_tick
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
            value=amount(expected),
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
            p10=amount(levels.iloc[0]),
            p50=amount(levels.iloc[1]),
            p90=amount(levels.iloc[2]),
        ),
    )
    if quota is not None:
        p = float(min(probs[values >= quota * (1 - 1e-12)].sum(), 1.0))
        ax.axvline(
            quota,
            color="black",
            linestyle=":",
            linewidth=2.5,
            label=t("plot.pipeline.quota", quota=amount(quota), chance=chance(p)),
        )
    ax.set_ylim(-0.02, 1.02)  # a share: never past 100 %; air at 0 keeps the 0 ticks apart
    percent_axis(ax.yaxis, 1.0)
    right = float(values[sf > 1e-4].max()) if (sf > 1e-4).any() else float(values.max())
    ax.set_xlim(0, max(right, float(quota or 0), expected, 1.0) * 1.1)
    ax.xaxis.set_major_locator(MaxNLocator(6 if measure == "deals" else 5))
    amount_axis(ax.xaxis, money=measure == "amount")
    ax.set_title(t("plot.pipeline.title", deals=result.n_deals))
    ax.set_xlabel(t(f"plot.pipeline.xlabel_{measure}"))
    ax.set_ylabel(t(f"plot.pipeline.ylabel_{measure}"))
    legend_below(ax)  # the curve and the vertical lines leave no corner free
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

    check_result(result, (Calibration,), "plot_calibration", "funnelsim.calibration")
    ax = new_axes(ax, figsize=(8, 7))
    colors = palette()
    table = result.table
    ideal = t("plot.calibration.ideal")
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=2, label=ideal)
    label = t("plot.calibration.observed", level=result.confidence_level)
    style = {"color": colors[0], "label": label, **kwargs}
    errorbar(
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
    ax.set_xlim(-0.02, 1.02)  # a little air at the corner: the two 0 % ticks apart
    ax.set_ylim(-0.02, 1.02)
    percent_axis(ax.xaxis, 1.0)
    percent_axis(ax.yaxis, 1.0)
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

    check_result(result, (Ladder,), "plot_ladder", "funnelsim.grade_ladder")
    table = result.table
    ax = new_axes(ax, figsize=(10, max(4.0, 0.8 * len(table) + 2)))
    colors = palette()
    y = np.arange(len(table))
    style = {"color": colors[0], "label": t("plot.ladder.rate", level=result.fit.confidence_level)}
    style.update(kwargs)
    ok = table["entered"].to_numpy() > 0
    ratio, low, high = (table[c].to_numpy(float)[ok] for c in ("ratio", "low", "high"))
    errorbar(ax, ratio, y[ok], low, high, **style)
    names = [
        t("plot.ladder.step", low=stage_label(a), high=stage_label(b), entered=int(n))
        for a, b, n in zip(table["from"], table["to"], table["entered"], strict=True)
    ]
    ax.set_yticks(y, names)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(0, 1.0)
    percent_axis(ax.xaxis, 1.0)
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.ladder.title"))
    ax.set_xlabel(t("plot.ladder.xlabel"))
    ax.legend(loc="lower right")
    return ax
