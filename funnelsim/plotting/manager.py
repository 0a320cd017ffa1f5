"""The manager's dashboard (notebook 08): a rep's talk times, the target by month and rep,
attainment against the target, how long leads sit at a grade."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .._validate import check_result
from ..i18n import t
from ..ladder import Ladder
from ..lessons.manager import RepDay, time_at_grade
from ..targets import Attainment, TargetSplit
from .theme import (
    ShareFormatter,
    chance,
    legend_below,
    new_axes,
    palette,
    share_axis,
)

__all__ = ["plot_attainment", "plot_talk_time", "plot_target_split", "plot_time_at_grade"]


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


def plot_attainment(result: Attainment, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Attainment (达成率) per rep and for the team: sales so far as a share of the target.

    One bar per rep and one for the team (last, outlined), coloured by
    whether it is at or ahead of the target to date (the dashed line: the
    share of the period gone) or behind it; with a forecast, each bar's
    chance to finish at or above target is written beside it.

    Parameters
    ----------
    result : Attainment
        From :func:`funnelsim.attainment` or :func:`funnelsim.lessons.attainment_at`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh` (``height``, ``alpha``...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.05])
    >>> left = fs.forecast(f, calls=100, periods=6, reps=1000, rng=1)
    >>> left = {"Li": left, "Wang": fs.forecast(f, calls=100, periods=6, reps=1000, rng=2)}
    >>> att = fs.attainment({"Li": 30, "Wang": 10}, {"Li": 60, "Wang": 40}, elapsed=0.5,
    ...                     forecast=left)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_attainment(att)
    >>> [x.get_text() for x in ax.get_yticklabels()], ax.texts[0].get_text()
    (['Li', 'Wang', 'team'], '53% to finish')
    """
    check_result(
        result, (Attainment,), "plot_attainment", "funnelsim.attainment", argument="result"
    )
    table = result.to_frame()
    team = len(table) > 1 or table["rep"].iloc[0] == "team"
    names = [str(r) for r in table["rep"]]
    if team and names[-1] == "team":
        names[-1] = t("cli.snapshot.team_row")
    share = table["attainment"].to_numpy(dtype=float)
    ahead = table["pace"].to_numpy(dtype=float) >= 1
    colours = palette()
    y = np.arange(len(table), dtype=float)
    if team and len(table) > 1:
        y[-1] += 0.5  # the team a little apart from the reps
    ax = new_axes(ax)
    options = {"height": 0.7, "alpha": 0.9}
    options.update(kwargs)
    bars = ax.barh(
        y, np.nan_to_num(share), color=np.where(ahead, colours[0], colours[3]), **options
    )
    if team and len(table) > 1:
        bars[-1].set_edgecolor("black")
        bars[-1].set_linewidth(2)
    line = ax.axvline(
        result.elapsed,
        color="black",
        linestyle="--",
        linewidth=2,
        label=t("plot.attainment.to_date", elapsed=result.elapsed),
    )
    finite = share[np.isfinite(share)]
    top = max(1.0, float(finite.max()) if len(finite) else 1.0)
    if "p_finish" in table:
        for yi, s_i, p in zip(y, np.nan_to_num(share), table["p_finish"], strict=True):
            if np.isfinite(p):
                ax.text(
                    max(s_i, result.elapsed) + 0.02 * top,
                    yi,
                    t("plot.attainment.p", p=chance(float(p))),
                    va="center",
                    fontsize="small",
                )
        top *= 1.45
    else:
        top *= 1.1
    ax.set_xlim(0, top)
    ax.xaxis.set_major_locator(MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(ShareFormatter(share=False))
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.grid(False, axis="y")
    handles = [
        Patch(color=colours[0], alpha=0.9, label=t("plot.attainment.ahead")),
        Patch(color=colours[3], alpha=0.9, label=t("plot.attainment.behind")),
        line,
    ]
    legend_below(ax, handles=handles, labels=[h.get_label() for h in handles], ncols=3)
    ax.set_title(t("plot.attainment.title", elapsed=result.elapsed))
    ax.set_xlabel(t("plot.attainment.xlabel"))
    ax.set_ylabel(t("plot.attainment.ylabel"))
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
