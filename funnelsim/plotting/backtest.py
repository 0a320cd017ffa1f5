"""Plots of a back-test (notebook 07): the actual against the forecast bands, and the PIT.

Every function takes a :class:`funnelsim.Backtest` and draws on one matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .._validate import check_choice, check_result
from ..backtesting import BANDS, Backtest
from ..i18n import stage_label, t
from .theme import errorbar, new_axes, palette

__all__ = ["plot_backtest", "plot_pit"]


def plot_backtest(
    result: Backtest, *, band: str = "overdispersed", level: float = 0.8, ax: Axes | None = None
) -> Axes:
    """The actual of every cohort against the three forecast bands at one level.

    Parameters
    ----------
    result : Backtest
        From :func:`funnelsim.backtest`.
    band : {"overdispersed", "parameter", "point"}
        The band whose coverage the title states.
    level : float, default 0.8
        One of ``bt.levels``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        One interval bar per origin and band (side by side), the actuals as
        black dots.

    Examples
    --------
    >>> import funnelsim as fs
    >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_backtest(bt)
    >>> len(ax.containers)   # one set of bars per band
    3
    """
    check_result(result, (Backtest,), "plot_backtest", "funnelsim.backtest")
    bt = result
    band = _band(band)
    tag = _level_tag(bt, level)
    ax = new_axes(ax)
    colors = palette()
    first = bt.table[bt.table["band"] == BANDS[0]]
    x = np.arange(len(first))
    for i, name in enumerate(BANDS):
        part = bt.table[bt.table["band"] == name]
        mid = (part[f"low_{tag}"] + part[f"high_{tag}"]) / 2
        errorbar(
            ax,
            x + (i - 1) * 0.22,
            mid,
            part[f"low_{tag}"],
            part[f"high_{tag}"],
            vertical=True,
            marker="none",
            color=colors[i],
            capsize=3,
            elinewidth=4 if name == band else 2.5,
            label=t(f"backtest.band.{name}"),
        )
    ax.plot(x, first["actual"], "o", color="black", markersize=7, label=t("plot.backtest.actual"))
    step = max(1, len(x) // 10)
    ax.set_xticks(x[::step], first["origin"].iloc[::step], rotation=30, ha="right")
    cov = bt.coverage()
    row = cov[(cov["band"] == band) & (cov["level"] == float(level))].iloc[0]
    ax.set_title(
        t(
            "plot.backtest.title",
            level=float(level),
            band=t(f"backtest.band.{band}"),
            coverage=row["coverage"],
            windows=int(row["windows"]),
        )
    )
    ax.set_xlabel(t("plot.backtest.xlabel"))
    ax.set_ylabel(t("plot.backtest.ylabel", stage=stage_label(bt.stage)))
    ax.set_xlim(-0.8, len(x) - 0.2)  # room for the first rotated label
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=4)
    return ax


def plot_pit(
    result: Backtest, *, band: str = "overdispersed", bins: int = 10, ax: Axes | None = None
) -> Axes:
    """Histogram of the randomised PIT of one band: flat at 1 when the forecast is calibrated,
    piled at both ends when its bands are too narrow.

    Examples
    --------
    >>> import funnelsim as fs
    >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_pit(bt, band="point", bins=5)
    >>> len(ax.patches)
    5
    """
    check_result(result, (Backtest,), "plot_pit", "funnelsim.backtest")
    bt = result
    band = _band(band)
    hist = bt.pit(band, bins=bins)
    ax = new_axes(ax)
    ax.bar(
        hist["low"],
        hist["density"],
        width=hist["high"] - hist["low"],
        align="edge",
        color=palette()[BANDS.index(band)],
        edgecolor="white",
    )
    ax.axhline(1.0, color="black", linestyle="--", label=t("plot.backtest.pit_ideal"))
    ax.set_xlim(-0.06, 1.06)  # the corner's ticks apart
    ax.set_title(t("plot.backtest.pit_title", band=t(f"backtest.band.{band}")))
    ax.set_xlabel(t("plot.backtest.pit_xlabel"))
    ax.set_ylabel(t("plot.backtest.pit_ylabel"))
    ax.legend(loc="upper center")
    return ax


def _band(band: str) -> str:
    return check_choice("band", band, BANDS)


def _level_tag(bt: Backtest, level: float) -> str:
    names = [f"{x:g}" for x in bt.levels]
    check_choice("level", f"{float(level):g}", names)
    return f"{float(level) * 100:g}".replace(".", "_")
