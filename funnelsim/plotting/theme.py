"""The kit's plot style and the pieces every plot shares, readable on a projector.

:func:`style` (a ``with`` block) and :func:`set_style` (the rest of a
session) give large fonts, thick lines, a light grid and seaborn's
colour-blind-safe palette (:func:`palette`); Chinese text falls back to the
bundled Noto Sans SC, so no label shows as empty boxes. :func:`set_currency`
picks the symbol on every money axis and amount (:func:`currency` reads it).
The other names here are the axis helpers the plotting modules share: money
and share axes, legends out of the data's way, names spread apart.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from functools import cache

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .. import fonts
from .._validate import check_choice, short, type_name
from ..i18n import FunnelsimTypeError, get_language, on_language_change, t

fonts.register()  # Chinese labels fall back to Noto Sans SC: no empty boxes

__all__ = ["chance", "currency", "palette", "set_currency", "set_style", "style"]

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


# Languages whose glyphs come from the Regular-only copy of Noto Sans SC (fonts.py): a
# bold title there would draw its digits and Latin letters bold beside regular characters.
_REGULAR_ONLY = frozenset({"zh"})


def _title_weight() -> str:
    """The weight of chart titles in the current language: ``"bold"``, or ``"normal"``
    where the language's glyphs have no bold face (Chinese), so a title is one weight.

    :func:`style` and :func:`set_style` read it when they start; the apps, the
    report and the exports enter :func:`style` at every draw, so their titles
    follow the language of that draw.

    >>> import funnelsim as fs
    >>> from funnelsim.plotting import theme
    >>> theme._title_weight()
    'bold'
    >>> with fs.language("zh"):
    ...     theme._title_weight()
    'normal'
    """
    return "normal" if get_language() in _REGULAR_ONLY else "bold"


def _rc(scale: float) -> dict[str, object]:
    return {
        "font.size": 14 * scale,
        "axes.titlesize": 17 * scale,
        "axes.titleweight": _title_weight(),  # one weight per title (see _title_weight)
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

    Large fonts, thick lines, a light grid and the colour-blind-safe palette;
    titles bold, or regular in Chinese (its font has one weight, and a bold
    title would mix bold digits with regular characters). Only matplotlib's
    settings inside the block change; they are restored on exit.

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
    the rest of the session rather than inside a ``with`` block. Titles are
    bold, and regular in Chinese (its font has one weight); after a switch
    (the English / 中文 buttons or ``fs.set_language``) the title weight
    follows the new language.

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
    on_language_change(_follow_title_weight)


def _follow_title_weight(lang: str) -> None:
    """After a language switch, the session's title weight (from :func:`set_style`) follows."""
    mpl.rcParams["axes.titleweight"] = _title_weight()


# ----------------------------------------------------------------- currency
# None: the catalogue's symbol for the current language (CN¥ in English, ¥ in Chinese)
_currency: dict[str, str | None] = {"symbol": os.environ.get("FUNNELSIM_CURRENCY") or None}


def set_currency(symbol: str | None) -> None:
    """The currency symbol on every money axis and amount (``None``: the language's default).

    The decks count in renminbi, so by default money reads ``¥`` in Chinese and
    ``CN¥`` in English (the same currency: switching the language never turns
    yuan into dollars; the ``CN`` tells an English reader it is not the yen).
    Set your own for your team's money, once for the session; the
    ``FUNNELSIM_CURRENCY`` environment variable sets it at start-up
    (``FUNNELSIM_CURRENCY=€ make workshop``).

    Parameters
    ----------
    symbol : str or None
        Written before every amount (``"€"``, ``"$"``, ``"HK$"``); ``""`` for
        none; ``None`` for the language's default.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.plotting.currency()
    'CN¥'
    >>> with fs.language("zh"):
    ...     fs.plotting.currency()
    '¥'
    >>> from funnelsim.plotting.theme import money_tick
    >>> fs.plotting.set_currency("€")
    >>> fs.plotting.currency(), money_tick(2_500_000)
    ('€', '€2,500,000')
    >>> fs.plotting.set_currency(None)
    >>> money_tick(2_500_000)
    'CN¥2,500,000'
    """
    if symbol is not None and not isinstance(symbol, str):
        raise FunnelsimTypeError(
            "error.type_text", name="symbol", value=short(symbol), type=type_name(symbol)
        )
    _currency["symbol"] = None if symbol is None else symbol.strip()


def currency() -> str:
    """The currency symbol money is written with now (see :func:`set_currency`).

    >>> import funnelsim as fs
    >>> fs.plotting.currency()
    'CN¥'
    """
    symbol = _currency["symbol"]
    return t("plot.currency") if symbol is None else symbol


def money_tick(value: float, _pos: object = None) -> str:
    """An amount of money: the currency symbol, then the amount (``'¥1,234,567'``)."""
    text = amount_tick(abs(value))
    return f"-{currency()}{text}" if value < 0 else f"{currency()}{text}"


def amount_axis(axis, money: bool) -> None:
    """Amount ticks on an axis: with the currency when it counts money."""
    axis.set_major_formatter(FuncFormatter(money_tick if money else amount_tick))


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


class ShareFormatter(Formatter):
    """Percent tick labels that say what the axis holds: a share (0-100 %) or not.

    ``share=True`` marks an axis of shares, which never runs past 100 %
    (``tests/test_chart_layout.py`` checks it); ``share=False`` a percentage
    that may (relative noise). ``digits`` fixes the decimals (None: 0, or 1
    below 1 %), the same on every tick so that they step evenly.
    """

    def __init__(
        self, *, share: bool = True, digits: int | None = None, hide_beyond: bool = False
    ):
        self.share = share
        self.digits = digits
        self.hide_beyond = hide_beyond

    def __call__(self, value: float, pos: object = None) -> str:
        if self.hide_beyond and (value > 1.0 + 1e-9 or value < -1e-9):
            return ""
        if self.digits is None:
            return percent_tick(value)
        return f"{value:.{self.digits}%}"


def share_axis(axis, *, top: float = 1.0, nbins: int = 6) -> None:
    """An axis of shares: percent ticks at 1-2-5 steps, enough decimals to read evenly."""
    locator = MaxNLocator(nbins, steps=[1, 2, 5, 10])
    axis.set_major_locator(locator)
    ticks = locator.tick_values(0.0, max(float(top), 1e-9))
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
    digits = max(0, int(np.ceil(-np.log10(step * 100) - 1e-9))) if step < 0.01 else 0
    axis.set_major_formatter(ShareFormatter(digits=digits, hide_beyond=True))


def legend_below(ax: Axes, *, ncols: int | None = None, **kwargs):
    """The legend under the axes, out of the data's way (constrained layout makes room).

    Two columns when the entries are short, one when a long entry would make
    the legend wider than the plot (``ncols`` decides otherwise).
    """
    handles = kwargs.pop("handles", None)
    labels = kwargs.pop("labels", None)
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if ncols is None:
        ncols = 2 if max((len(text) for text in labels), default=0) <= 42 else 1
    return ax.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=ncols, **kwargs
    )


def spread_labels(
    ax: Axes,
    x: Sequence[float],
    y: Sequence[float],
    names: Sequence[str],
    *,
    gap: float = 18.0,
    **kwargs,
) -> list:
    """Each point's name to its right, stacked apart where they would collide, with a leader.

    Points close together (groups with the same volume and similar ratios) get
    their names in one column right of the group's last point, in the order of
    their values, at least one line apart (measured before the layout, with a
    third to spare), centred on the points; a thin line leads from each moved
    name back to its point, and a white backing keeps lines behind the name
    from crossing it.
    """
    fig = ax.figure
    size = mpl.font_manager.FontProperties(size=mpl.rcParams["font.size"]).get_size_in_points()
    line = 1.45 * size * fig.dpi / 72 * 1.35  # pixels between baselines, with layout slack
    xy = ax.transData.transform(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    order = np.argsort(xy[:, 1])
    placed = xy[:, 1].copy()
    column = xy[:, 0].copy()
    # clusters: a point within ~6 characters (in x) of the previous one joins its column,
    # so a chain of neighbours (500, 600, 650 leads) stacks as one
    clusters: list[list[int]] = []
    for i in sorted(range(len(xy)), key=lambda k: xy[k, 0]):
        if clusters and abs(xy[i, 0] - xy[clusters[-1][-1], 0]) < 6 * size:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    for members in clusters:
        idx = [i for i in order if i in members]
        want = xy[idx, 1]
        pos = want.copy()
        for k in range(1, len(pos)):  # push up until one line apart
            pos[k] = max(pos[k], pos[k - 1] + line)
        pos -= (pos - want).mean()  # centre the stack on the points
        for k in range(1, len(pos)):
            pos[k] = max(pos[k], pos[k - 1] + line)
        placed[idx] = pos
        column[idx] = xy[idx, 0].max()  # the names start right of the cluster's last point
    out = []
    for i, name in enumerate(names):
        dx = (column[i] - xy[i, 0]) * 72 / fig.dpi
        dy = (placed[i] - xy[i, 1]) * 72 / fig.dpi
        moved = abs(dy) > 2 or dx > 2
        out.append(
            ax.annotate(
                name,
                (x[i], y[i]),
                xytext=(gap + dx, dy),
                textcoords="offset points",
                va="center",
                bbox={
                    "boxstyle": "round,pad=0.1",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.85,
                },  # the limit lines pass behind, not through, the name
                arrowprops={
                    "arrowstyle": "-",
                    "color": "0.4",
                    "linewidth": 1,
                    "shrinkA": 2,
                    "shrinkB": 6,
                }
                if moved
                else None,
                **kwargs,
            )
        )
    return out


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
    axis.set_major_formatter(
        formatter if isinstance(formatter, Formatter) else FuncFormatter(formatter)
    )
    axis.set_minor_formatter(NullFormatter())


def period_units(period: str) -> tuple[str, str]:
    period = check_choice("period", period, ("day", "week", "month", "period"))
    return t(f"plot.unit.{period}"), t(f"plot.units.{period}")


def units_of(count: int, period: str) -> str:
    """The period's word for ``count`` of them: "day" for 1, "days" for 250."""
    unit, units = period_units(period)
    return unit if count == 1 else units


def revenue_word(deal_size: object) -> str:
    return t("plot.revenue") if deal_size is not None else t("plot.sales")


def step_band(ax: Axes, time, low, high, *, label: str) -> None:
    """A step curve's pointwise confidence band: a light fill in the kit's first colour,
    stepping where the curve steps (after each time)."""
    ax.fill_between(
        time, low, high, step="post", color=palette()[0], alpha=0.2, linewidth=0, label=label
    )


def percent_axis(axis, top: float) -> None:
    """Percent ticks of a share from 0 to at most 100 %."""
    share_axis(axis, top=min(float(top), 1.0))


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
