"""The grade pyramid: the open leads at each grade of the ladder, E widest at the bottom.

Takes a :class:`~funnelsim.Ladder` from :func:`funnelsim.grade_ladder` and draws
on one matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .._validate import check_result
from ..i18n import stage_label, t
from ..ladder import Ladder
from .theme import new_axes, palette

__all__ = ["plot_grade_pyramid"]

#: A bar narrower than this share of the widest one has its count beside it, not on it.
_NARROW = 0.3


def plot_grade_pyramid(
    result: Ladder, as_of: object = None, *, ax: Axes | None = None, **kwargs
) -> Axes:
    """The stock of open leads per grade as a pyramid (:meth:`Ladder.stock`).

    Parameters
    ----------
    result : Ladder
        From :func:`funnelsim.grade_ladder` (named ``result`` like every plot's first
        argument).
    as_of : date, optional
        The day to read the stock on (default: the history's last date).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the open grades' bars.

    Returns
    -------
    matplotlib Axes
        One centred horizontal bar per grade, lowest grade at the bottom,
        its count and share of the open leads on it; the top grade (signed
        clients, not stock) in grey with its count.

    Examples
    --------
    >>> import funnelsim as fs
    >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_grade_pyramid(ladder, as_of="2024-06-30")
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['E', 'D', 'C', 'B', 'A']
    >>> ax.texts[0].get_text()
    '351 (62%)'
    """
    check_result(result, (Ladder,), "plot_grade_pyramid", "funnelsim.grade_ladder")
    stock = result.stock(as_of)
    counts = stock["leads"].to_numpy(dtype=float)
    widest = max(counts.max(), 1.0)
    n = len(stock)
    ax = new_axes(ax, figsize=(10, max(4.5, 0.9 * n + 2)))
    colors = palette()
    y = np.arange(n)
    style = {"color": colors[0], "edgecolor": "white", "height": 0.8}
    style.update(kwargs)
    ax.barh(y[:-1], counts[:-1], left=-counts[:-1] / 2, **style)
    ax.barh(y[-1:], counts[-1:], left=-counts[-1:] / 2, color="#bbbbbb", height=0.8)
    for k in range(n):
        if k < n - 1:
            text = t("plot.pyramid.bar", leads=int(counts[k]), share=stock["share"].iloc[k])
        else:
            text = t("plot.pyramid.top", leads=int(counts[k]))
        inside = counts[k] >= _NARROW * widest and k < n - 1
        x = 0.0 if inside else counts[k] / 2 + 0.02 * widest
        ax.text(
            x,
            y[k],
            text,
            ha="center" if inside else "left",
            va="center",
            color="white" if inside else "black",
            fontweight="bold" if inside else None,
        )
    ax.set_yticks(y, [stage_label(g) for g in stock["grade"]])
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(-0.6 * widest, 0.9 * widest)
    ax.set_xticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    day = stock.attrs.get("as_of")
    if day is None:
        ax.set_title(t("plot.pyramid.title"))
    else:
        ax.set_title(t("plot.pyramid.title_on", day=day.strftime("%Y-%m-%d")))
    ax.set_xlabel(t("plot.pyramid.xlabel"))
    return ax
