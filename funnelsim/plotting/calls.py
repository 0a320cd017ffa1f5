"""When to call (the manager's dashboard): the connect rate by weekday and hour as a heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .._validate import check_result
from ..calls import Calls
from ..i18n import FunnelsimValueError, t
from .theme import new_axes

__all__ = ["plot_call_heatmap"]

#: Annotations a cell can carry.
_ANNOTATIONS = ("rate", "dials", "both", None)


def plot_call_heatmap(
    calls: Calls,
    *,
    rep: str | None = None,
    min_calls: int = 30,
    annot: str | None = "rate",
    success: str = "connected",
    vmin: float | None = None,
    vmax: float | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """The connect rate by weekday (rows) and hour (columns): when calls get through.

    Each cell is coloured by its connect rate and, by default, shows it as a
    percentage; cells with fewer than ``min_calls`` dials are grey (too few
    calls to tell one hour from another). Only the hours with calls are drawn.

    Parameters
    ----------
    calls : Calls
        From :func:`funnelsim.read_calls`.
    rep : str, optional
        One rep's calls; by default the team's.
    min_calls : int, default 30
        Fewer dials than this in a cell greys it out.
    annot : "rate", "dials", "both" or None, default "rate"
        What each cell shows: the rate, the calls behind it, both, or nothing.
    success : "connected" or "effective", default "connected"
        The rate drawn: connected calls, or effective ones (conversations of
        at least the record's ``effective`` seconds), over the dials
        (:meth:`funnelsim.Calls.by_hour`).
    vmin, vmax : float, optional
        The connect rates at the two ends of the colour scale; by default 0 and
        the highest rate drawn (at least 5 %). Give the same to several heatmaps
        (each rep's, say) so that one colour means one rate on all of them.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.heatmap` (``cmap``, ``linewidths``...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> rng = np.random.default_rng(1)
    >>> times = (pd.Timestamp("2025-03-03") + pd.to_timedelta(rng.integers(0, 5, 3000), "D")
    ...          + pd.to_timedelta(rng.integers(9, 18, 3000), "h"))
    >>> calls = fs.read_calls(pd.DataFrame({"time": times,
    ...                                     "duration": rng.integers(0, 2, 3000) * 60}))
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_call_heatmap(calls)
    >>> ax.get_xlabel(), [x.get_text() for x in ax.get_yticklabels()][:2]
    ('hour of the day', ['Mon', 'Tue'])

    One scale for two heatmaps: 0 % to 60 % on both.

    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_call_heatmap(calls, vmin=0, vmax=0.6)
    >>> ax.collections[0].get_clim()
    (0.0, 0.6)
    """
    check_result(calls, (Calls,), "plot_call_heatmap", "funnelsim.read_calls")
    if annot not in _ANNOTATIONS:
        raise FunnelsimValueError(
            "error.choice", name="annot", value=repr(annot), choices="rate, dials, both, None"
        )
    cells = calls.by_hour(rep=rep, min_calls=min_calls, success=success)
    effective = success == "effective"
    hours = cells.loc[cells["dials"] > 0, "hour"]
    span = np.arange(hours.min(), hours.max() + 1) if len(hours) else np.arange(9, 18)
    cells = cells[cells["hour"].isin(span)]
    rate = cells.pivot(index="weekday", columns="hour", values="rate")
    dials = cells.pivot(index="weekday", columns="hour", values="dials")
    days = [t(f"plot.calls.weekday.{d}") for d in range(7)]
    rate.index = days
    labels = _annotations(rate, dials, annot)
    ax = new_axes(ax)
    ax.set_facecolor("#d9d9d9")  # few-call cells are NaN: the grey shows through
    known = rate.to_numpy()[np.isfinite(rate.to_numpy())]
    options = {
        "cmap": "viridis",
        "vmin": 0.0 if vmin is None else float(vmin),
        "vmax": (max(float(known.max()), 0.05) if known.size else 1.0)
        if vmax is None
        else float(vmax),
        "linewidths": 0.5,
        "linecolor": "white",
        "cbar_kws": {
            "label": t("plot.calls.cbar_effective", min_calls=min_calls, seconds=calls.effective)
            if effective
            else t("plot.calls.cbar", min_calls=min_calls),
            "format": "{x:.0%}",
        },
    }
    options.update(kwargs)
    sns.heatmap(rate, ax=ax, **options)
    ax.grid(False)
    if labels is not None:  # drawn here, not by seaborn: grey cells show their calls too
        mesh = ax.collections[0]
        colours = mesh.cmap(mesh.norm(np.nan_to_num(rate.to_numpy(), nan=-1.0)))
        for i, j in np.ndindex(labels.shape):
            if labels[i, j]:
                light = np.dot(colours[i, j, :3], (0.299, 0.587, 0.114)) > 0.5
                dark_text = light or not np.isfinite(rate.iat[i, j])
                ax.text(j + 0.5, i + 0.5, labels[i, j], ha="center", va="center",
                        fontsize="x-small", color="#222222" if dark_text else "white")  # fmt: skip
    ax.set_yticklabels(days, rotation=0)
    if effective:
        title = (
            t("plot.calls.title_effective")
            if rep is None
            else t("plot.calls.title_rep_effective", rep=rep)
        )
    else:
        title = t("plot.calls.title") if rep is None else t("plot.calls.title_rep", rep=rep)
    ax.set_title(title)
    ax.set_xlabel(t("plot.calls.xlabel"))
    ax.set_ylabel(t("plot.calls.ylabel"))
    return ax


def _annotations(rate: pd.DataFrame, dials: pd.DataFrame, annot: str | None) -> np.ndarray | None:
    """Each cell's text: its rate, its dials, or both ('' where the rate is grey)."""
    if annot is None:
        return None
    r = rate.to_numpy()
    n = dials.to_numpy()
    out = np.full(r.shape, "", dtype=object)
    for i, j in np.ndindex(r.shape):
        shown = {
            "rate": f"{r[i, j]:.0%}" if np.isfinite(r[i, j]) else "",
            "dials": f"{int(n[i, j])}" if n[i, j] > 0 else "",
        }
        out[i, j] = "\n".join(filter(None, shown.values())) if annot == "both" else shown[annot]
    return out
