"""The kit's plot style and the pieces every plot shares, readable on a projector.

:func:`style` (a ``with`` block) and :func:`set_style` (the rest of a
session) give large fonts, thick lines, a light grid and seaborn's
colour-blind-safe palette (:func:`palette`); Chinese text falls back to the
bundled Noto Sans SC, so no label shows as empty boxes. The other names here
are the axis helpers the plotting modules share.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .. import fonts
from .._validate import check_choice
from ..i18n import FunnelsimTypeError, t

fonts.register()  # Chinese labels fall back to Noto Sans SC: no empty boxes

__all__ = ["chance", "palette", "set_style", "style"]

FIGSIZE = (10, 5.5)


# -------------------------------------------------------------------- style
@cache
def _palette() -> tuple[str, ...]:

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
        "figure.figsize": FIGSIZE,
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

    Examples
    --------
    A notebook calls ``fs.plotting.set_style()`` once at the top; here
    ``rc_context`` puts matplotlib's defaults back after the example.

    >>> import matplotlib as mpl
    >>> import funnelsim as fs
    >>> with mpl.rc_context():
    ...     fs.plotting.set_style(scale=1.3)
    ...     mpl.rcParams["font.size"], mpl.rcParams["lines.linewidth"]
    (18.2, 3.0)
    """
    mpl.rcParams.update(_rc(scale))


# ------------------------------------------------------------------ helpers
def new_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    if ax is not None:
        return ax

    _fig, new = plt.subplots(figsize=figsize)
    return new


def amount_tick(value: float, _pos: object = None) -> str:
    """1234567 -> '1,234,567'; small values keep up to two decimals."""
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def percent_tick(value: float, _pos: object = None) -> str:
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


def log_axis(axis, formatter) -> None:
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(formatter))
    axis.set_minor_formatter(NullFormatter())


def period_units(period: str) -> tuple[str, str]:
    period = check_choice("period", period, ("day", "week", "month", "period"))
    return t(f"plot.unit.{period}"), t(f"plot.units.{period}")


def revenue_word(deal_size: object) -> str:
    return t("plot.revenue") if deal_size is not None else t("plot.sales")


def check_result(
    result: object,
    kinds: tuple[type, ...],
    function: str,
    maker: str,
    *,
    argument: str = "result",
) -> None:
    """A plot given the wrong object: a TypeError naming the function, the argument,
    the type it wants and the function that makes one (``maker``)."""
    if not isinstance(result, kinds):
        raise FunnelsimTypeError(
            "error.plot_result",
            function=function,
            argument=argument,
            wanted=" / ".join(k.__name__ for k in kinds),
            maker=maker,
            value=type(result).__name__,
        )


def percent_axis(axis, top: float) -> None:
    """Percent ticks from 0 to at most 100 % (the axis may run past 1 to make room for text)."""
    axis.set_major_locator(MaxNLocator(6))
    axis.set_major_formatter(
        FuncFormatter(lambda v, pos=None: "" if v > 1.0 + 1e-9 or v < -1e-9 else percent_tick(v))
    )


def errorbar(ax: Axes, x, y, low, high, *, vertical: bool = False, **kwargs):
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
