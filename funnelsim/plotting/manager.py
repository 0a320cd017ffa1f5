"""The manager's dashboard (notebook 08): a rep's talk times, the target by month and rep,
how long leads sit at a grade."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ..i18n import t
from ..ladder import Ladder
from ..lessons.manager import RepDay, time_at_grade
from ..targets import TargetSplit
from .theme import check_result, legend_below, new_axes, palette, share_axis

__all__ = ["plot_talk_time", "plot_target_split", "plot_time_at_grade"]


def plot_talk_time(result: RepDay, *, ax: Axes | None = None, **kwargs) -> Axes:
    """The talk time of a rep's connected calls that day against all the rep's days.

    Two distributions (seaborn's ``histplot``, each scaled to its own
    calls): the day's connected calls and every connected call of the rep
    in the record, in minutes, so a short day stands out.

    Parameters
    ----------
    result : RepDay
        From :func:`funnelsim.lessons.rep_day`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.histplot` (``bins``, ``binwidth``...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import funnelsim as fs
    >>> day = fs.lessons.rep_day(fs.datasets.load_calls(), "赵磊", "2025-03-05")
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_talk_time(day)
    >>> ax.get_xlabel()
    'talk time (minutes)'
    """
    check_result(result, (RepDay,), "plot_talk_time", "funnelsim.lessons.rep_day")
    ax = new_axes(ax)
    frame = result.to_frame()
    frame["minutes"] = frame["seconds"] / 60
    day_label = result.day.date().isoformat()
    frame["which"] = frame["which"].map({"day": day_label, "average": t("plot.talk.usual")})
    top = float(np.quantile(frame["minutes"], 0.99)) if len(frame) else 1.0
    colours = palette()
    options = {
        "binwidth": max(round(top / 24 * 2) / 2, 0.5),
        "binrange": (0.0, max(top, 1.0)),
        "stat": "proportion",
        "common_norm": False,
        "element": "step",
        "alpha": 0.35,
        "hue_order": [t("plot.talk.usual"), day_label],
        "palette": {t("plot.talk.usual"): colours[1], day_label: colours[0]},
    }
    options.update(kwargs)
    sns.histplot(frame, x="minutes", hue="which", ax=ax, legend=False, **options)
    handles = [
        ax.fill_between([], [], color=colours[0], alpha=0.35, label=day_label),
        ax.fill_between([], [], color=colours[1], alpha=0.35, label=t("plot.talk.usual")),
    ]
    legend_below(ax, handles=handles, labels=[h.get_label() for h in handles])
    share_axis(ax.yaxis, top=ax.get_ylim()[1])
    ax.set_title(t("plot.talk.title", rep=result.rep))
    ax.set_xlabel(t("plot.talk.xlabel"))
    ax.set_ylabel(t("plot.talk.ylabel"))
    return ax


def plot_target_split(result: TargetSplit, *, ax: Axes | None = None, **kwargs) -> Axes:
    """The year's target by month (rows) and rep (columns), in thousands: a seaborn heatmap.

    Parameters
    ----------
    result : TargetSplit
        From :func:`funnelsim.split_target`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.heatmap` (``cmap``...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import funnelsim as fs
    >>> split = fs.split_target(1_200_000, weights=[2, 3, 3, 4], reps=["Li", "Wang"])
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_target_split(split)
    >>> [x.get_text() for x in ax.get_xticklabels()], ax.texts[0].get_text()
    (['Li', 'Wang'], '100')
    """
    check_result(result, (TargetSplit,), "plot_target_split", "funnelsim.split_target")
    table = result.to_frame()
    grid = table.pivot_table(index="month", columns="rep", values="target", sort=False) / 1000
    grid = grid[list(dict.fromkeys(table["rep"]))]
    ax = new_axes(ax, figsize=(10, 7))
    options = {
        "cmap": "crest",
        "annot": True,
        "fmt": ",.0f",
        "annot_kws": {"fontsize": "small"},
        "linewidths": 0.5,
        "linecolor": "white",
        "cbar_kws": {"label": t("plot.split.cbar")},
    }
    options.update(kwargs)
    sns.heatmap(grid, ax=ax, **options)
    ax.grid(False)
    ax.set_yticklabels([str(m) for m in grid.index], rotation=0)
    ax.set_title(t("plot.split.title"))
    ax.set_xlabel(t("plot.split.xlabel"))
    ax.set_ylabel(t("plot.split.ylabel"))
    return ax


def plot_time_at_grade(
    result: Ladder,
    grade: str = "B",
    *,
    window: float = 60,
    as_of: object = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """How long the leads that reached a grade sat there: moved up, or still waiting.

    A stacked histogram (seaborn's ``histplot``) of
    :func:`funnelsim.lessons.time_at_grade`: the leads that moved up to the
    next grade (days until they did) and the leads still at the grade (days
    so far), with the grade's window as a dashed line. Leads waiting far
    right of the line are past their window: the decks demote them.

    Parameters
    ----------
    result : Ladder
        From :func:`funnelsim.grade_ladder`.
    grade : str, default "B"
        One of the ladder's grades except the last.
    window : float, default 60
        The grade's window in days (the decks: a B signs within two months).
    as_of : date, optional
        The day to measure to (default: the history's last date).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.histplot` (``binwidth``...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import funnelsim as fs
    >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_time_at_grade(ladder, "B")
    >>> ax.get_ylabel(), ax.get_legend().get_texts()[-1].get_text()
    ('leads', 'window: 60 days')
    """
    check_result(result, (Ladder,), "plot_time_at_grade", "funnelsim.grade_ladder")
    ages = time_at_grade(result, grade, as_of=as_of)
    grade = str(grade)
    following = result.grades[result.grades.index(grade) + 1]
    last = ages["reached"] + pd.to_timedelta(ages["days"], unit="D")
    day = (
        pd.Timestamp(as_of).date().isoformat()
        if as_of is not None
        else (last.max().date().isoformat() if len(ages) else "-")
    )
    moved, waiting = (
        t("plot.time_at_grade.moved", next=following),
        t("plot.time_at_grade.waiting", grade=grade),
    )
    frame = pd.DataFrame(
        {"days": ages["days"].astype(float), "which": np.where(ages["waiting"], waiting, moved)}
    )
    ax = new_axes(ax)
    colours = palette()
    options = {
        "binwidth": 14,
        "binrange": (0.0, max(float(frame["days"].max()) if len(frame) else 0.0, window) + 14),
        "multiple": "stack",
        "hue_order": [moved, waiting],
        "palette": {moved: colours[0], waiting: colours[3]},
        "alpha": 0.8,
    }
    options.update(kwargs)
    sns.histplot(frame, x="days", hue="which", ax=ax, legend=False, **options)
    line = ax.axvline(
        window,
        color="black",
        linestyle="--",
        linewidth=2,
        label=t("plot.time_at_grade.window", days=float(window)),
    )
    handles = [
        ax.fill_between([], [], color=colours[0], alpha=0.8, label=moved),
        ax.fill_between([], [], color=colours[3], alpha=0.8, label=waiting),
        line,
    ]
    ax.legend(handles=handles, labels=[h.get_label() for h in handles], loc="upper right")
    ax.set_title(t("plot.time_at_grade.title", grade=grade, day=day))
    ax.set_xlabel(t("plot.time_at_grade.xlabel", grade=grade, day=day))
    ax.set_ylabel(t("plot.time_at_grade.ylabel"))
    return ax
