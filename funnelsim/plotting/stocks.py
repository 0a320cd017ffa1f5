"""The tracking sheet's chart (notebook 06): a rep's (or the team's) stocks over the dates."""

from __future__ import annotations

import matplotlib.dates as mdates
from matplotlib.axes import Axes

from .._validate import check_result
from ..i18n import FunnelsimValueError, t
from ..stocks import Snapshot
from .theme import legend_below, new_axes, palette

__all__ = ["plot_stocks"]


def plot_stocks(
    snapshot: Snapshot, *, rep: str | None = None, ax: Axes | None = None, **kwargs
) -> Axes:
    """Leads sitting at each stage over the dates: one line per stage, for a rep or the team.

    A healthy pipeline keeps its early stages above its late ones week after
    week; a top-heavy one shows the 90% line climbing over the 25% line
    while the early stages run dry (DOMAIN.md §4).

    Parameters
    ----------
    snapshot : Snapshot
        From :func:`funnelsim.read_snapshot`.
    rep : str, optional
        The rep, as the sheet writes the name; by default the team (the
        reps' stocks summed per date).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to every line (``linewidth``, ``marker``...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import funnelsim as fs
    >>> snap = fs.datasets.load_tracking()
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_stocks(snap, rep=snap.reps[0])
    >>> ax.get_ylabel(), len(ax.lines) == len(snap.stages)
    ('leads sitting at the stage', True)
    """
    check_result(snapshot, (Snapshot,), "plot_stocks", "funnelsim.read_snapshot")
    rows = snapshot.stocks
    if rep is not None:
        if rep not in snapshot.reps:
            raise FunnelsimValueError(
                "stocks.error.rep", value=repr(rep), choices=", ".join(snapshot.reps)
            )
        rows = rows[rows["rep"] == rep]
    wide = rows.pivot_table(index="date", columns="stage", values="leads", aggfunc="sum")
    ax = new_axes(ax)
    colors = palette()
    for k, stage in enumerate(snapshot.stages):
        style = {"color": colors[k % len(colors)], "marker": "o", "label": stage}
        style.update(kwargs)
        ax.plot(wide.index, wide[stage].to_numpy(), **style)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))  # the same in every language
    who = rep if rep is not None else t("plot.stocks.team")
    ax.set_title(t("plot.stocks.title", who=who))
    ax.set_xlabel(t("plot.stocks.xlabel"))
    ax.set_ylabel(t("plot.stocks.ylabel"))
    legend_below(ax, ncols=min(len(snapshot.stages), 5))
    return ax
