"""Qualification against outcome (the manager's dashboard): the share won by intent class,
MAN combination or MAN rule, each with its interval."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .._validate import check_choice, check_result
from ..i18n import t
from ..qualification import Qualification
from .theme import errorbar, new_axes, palette, percent_axis

__all__ = ["plot_qualification"]

_BY = ("intent", "man", "rule")


def plot_qualification(
    result: Qualification, *, by: str = "intent", ax: Axes | None = None, **kwargs
) -> Axes:
    """The share won in each class, best class on top, with its interval.

    A dot and an interval bar per class (the intervals are the result's own,
    :func:`funnelsim.proportion_ci`, so matplotlib's error bars draw them
    rather than a seaborn estimator that would compute others); a class
    without leads keeps its label and has no dot.

    Parameters
    ----------
    result : Qualification
        From :func:`funnelsim.qualify`.
    by : {"intent", "man", "rule"}
        The intent classes, the eight MAN combinations or the MAN rules.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the error bars.

    Returns
    -------
    matplotlib Axes
        One row per class, labelled in the reader's language with its leads.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> leads = pd.DataFrame({"intent": ["clear"] * 40 + ["unclear"] * 60,
    ...                       "won": [1] * 20 + [0] * 20 + [1] * 12 + [0] * 48})
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_qualification(fs.qualify(leads))
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['very clear (0)', 'clear (40)', 'becoming clear (0)', 'unclear (60)']
    """
    check_result(result, (Qualification,), "plot_qualification", "funnelsim.qualify")
    by = check_choice("by", by, _BY)
    if by == "intent":
        table = result.by_intent()
        names = [t(f"qualify.intent.{k}") for k in table["intent"]]
    elif by == "rule":
        table = result.by_rule()
        names = [t(f"qualify.rule.{k}") for k in table["rule"]]
    else:
        table = result.by_man()
        names = [
            t(
                "qualify.man.label",
                money=t(f"qualify.man.money.{'yes' if m else 'no'}"),
                authority=t(f"qualify.man.authority.{'yes' if a else 'no'}"),
                need=t(f"qualify.man.need.{'yes' if n else 'no'}"),
            )
            for m, a, n in zip(table["money"], table["authority"], table["need"], strict=True)
        ]
    ax = new_axes(ax, figsize=(10, max(4.0, 0.7 * len(table) + 2)))
    y = np.arange(len(table))
    style = {
        "color": palette()[0],
        "label": t("plot.qualification.rate", level=result.confidence_level),
    }
    style.update(kwargs)
    ok = table["leads"].to_numpy() > 0
    ratio, low, high = (table[c].to_numpy(float)[ok] for c in ("ratio", "low", "high"))
    errorbar(ax, ratio, y[ok], low, high, **style)
    labels = [
        t("plot.qualification.class", label=name, leads=int(n))
        for name, n in zip(names, table["leads"], strict=True)
    ]
    ax.set_yticks(y, labels)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(0, 1.0)
    percent_axis(ax.xaxis, 1.0)
    ax.grid(axis="y", visible=False)
    ax.set_title(t(f"plot.qualification.title.{by}"))
    ax.set_xlabel(t("plot.qualification.xlabel"))
    ax.legend(loc="lower right")
    return ax
