"""Plots of won, lost and open leads (notebook 06): the share won by day t.

Every function takes a result from :mod:`funnelsim.outcomes` and draws on one
matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .._validate import check_result
from ..i18n import t, unit_label
from ..outcomes import WonBy
from .theme import legend_below, new_axes, palette, share_axis, step_band

__all__ = ["plot_won_by"]


def plot_won_by(
    result: WonBy, *, ax: Axes | None = None, lost: bool = True, km: bool = True, **kwargs
) -> Axes:
    """The share won by each day since the first stage, with its band; the share lost and
    1 - Kaplan-Meier (losses censored: the pitfall) beside it.

    Parameters
    ----------
    result : WonBy
        From :func:`funnelsim.won_by`.
    ax : matplotlib Axes, optional
    lost : bool, default True
        Draw the share lost too (dashed).
    km : bool, default True
        Draw ``1 -`` Kaplan-Meier with losses censored (dotted), which
        overstates the share won.
    **kwargs
        Passed to the won curve's :meth:`~matplotlib.axes.Axes.step`.

    Returns
    -------
    matplotlib Axes
        Step lines for won (then lost, then 1 - Kaplan-Meier) and the won
        band.

    Examples
    --------
    >>> import funnelsim as fs
    >>> result = fs.won_by(fs.datasets.load_crm_export())
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_won_by(result)
    >>> len(ax.lines)
    3
    """
    check_result(result, (WonBy,), "plot_won_by", "funnelsim.won_by")
    ax = new_axes(ax)
    colors = palette()
    end = float(result.max_time) if np.isfinite(result.max_time) else 0.0
    time = np.r_[0.0, result.time, end]

    def steps(values: np.ndarray) -> np.ndarray:
        return np.r_[0.0, values, values[-1] if len(values) else 0.0]

    # no band where it is undefined (the curve at 0, or its last step): the curve itself
    low = steps(np.where(np.isnan(result.won_low), result.won, result.won_low))
    high = steps(np.where(np.isnan(result.won_high), result.won, result.won_high))
    step_band(ax, time, low, high, label=t("plot.won_by.band", level=result.confidence_level))
    line = {"color": colors[0], "linewidth": 3, "label": t("plot.won_by.won")}
    line.update(kwargs)
    ax.step(time, steps(result.won), where="post", **line)
    tops = [float(np.nanmax(high))]
    if lost:
        ax.step(
            time,
            steps(result.lost),
            where="post",
            color=colors[7],  # grey: the other outcome, apart from the orange 1 - KM line
            linestyle="--",
            label=t("plot.won_by.lost"),
        )
        tops.append(float(result.lost[-1]) if len(result.lost) else 0.0)
    if km:
        ax.step(
            time,
            steps(result.won_km),
            where="post",
            color=colors[1],
            linestyle=":",
            linewidth=2.5,
            label=t("plot.won_by.km"),
        )
        tops.append(float(result.won_km[-1]) if len(result.won_km) else 0.0)
    top = min(max([*tops, 1e-3]), 1.0)
    ax.set_xlim(0, max(end, 1e-9))
    ax.set_ylim(0, min(top * 1.05, 1.02))
    share_axis(ax.yaxis, top=top)
    ax.set_title(
        t(
            "plot.won_by.title",
            won=int(result.n_won.sum()),
            lost=int(result.n_lost.sum()),
            open=result.n_open,
        )
    )
    ax.set_xlabel(t("plot.won_by.xlabel", unit=unit_label(result.unit)))
    ax.set_ylabel(t("plot.won_by.ylabel"))
    legend_below(ax)
    return ax
