"""Plots of what a log says (notebooks 04 and 06): ratio tables, coverage, the sales cycle.

Every function takes a result from :mod:`funnelsim.estimate`,
:mod:`funnelsim.intervals`, :mod:`funnelsim.cycle` or
:mod:`funnelsim.lessons.logs` and draws on one matplotlib ``Axes``.
"""

from __future__ import annotations

import re

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from .._validate import check_choice, check_result
from ..cycle import CycleLength, OpenLeadRatios
from ..estimate import PRODUCT, Fit
from ..i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    method_label,
    stage_label,
    t,
    unit_label,
)
from ..lessons import EstimatingRatios, SalesCycle, SampleSize, cycle_curve
from .theme import (
    ShareFormatter,
    amount_tick,
    errorbar,
    legend_below,
    log_axis,
    new_axes,
    palette,
    percent_axis,
    share_axis,
    step_band,
)

__all__ = [
    "plot_coverage",
    "plot_open_lead_ratios",
    "plot_ratio_table",
    "plot_sales_cycle",
    "plot_sample_size",
    "plot_stale_leads",
]

# one colour per interval method, the same in every plot (Wald in vermillion: the warning)
_METHOD_COLOUR = {"wilson": 0, "agresti-coull": 1, "jeffreys": 2, "wald": 3, "clopper-pearson": 4}


def _truth_per_row(truth: object, rows: pd.DataFrame, by: list[str]) -> np.ndarray:
    """The true ratio of each row of a fit table (NaN where it is not given)."""

    if truth is None:
        return np.full(len(rows), np.nan)
    if isinstance(truth, pd.Series):
        truth = truth.to_dict()
    if isinstance(truth, pd.DataFrame):
        if "stage" not in truth.columns or "ratio" not in truth.columns:
            raise FunnelsimValueError("error.plot_truth", value=", ".join(map(str, truth.columns)))
        on = [c for c in (*by, "stage") if c in truth.columns]
        table = truth[[*on, "ratio"]].drop_duplicates(on)
        return rows[on].merge(table, on=on, how="left")["ratio"].to_numpy(float)
    if isinstance(truth, dict) or hasattr(truth, "items"):
        values = dict(truth.items())  # type: ignore[union-attr]
        return np.array([float(values.get(s, np.nan)) for s in rows["stage"]], dtype=float)
    raise FunnelsimTypeError("error.plot_truth", value=type(truth).__name__)


def plot_ratio_table(
    result: Fit | EstimatingRatios,
    *,
    ax: Axes | None = None,
    truth: object = None,
    overall: bool = False,
    labels: bool = True,
    **kwargs,
) -> Axes:
    """Forest plot of a ratio table: each step's ratio with its interval, truth optional.

    One row per step (and group, for a fit with ``by=``), first step on top;
    each row is labelled with its ratio and counts. Where the truth is known
    (the sample logs), a black diamond marks it: a good interval contains it
    about as often as its level promises.

    Parameters
    ----------
    result : Fit or EstimatingRatios
        From :func:`funnelsim.fit`, or the app's result
        (:func:`funnelsim.lessons.estimating_ratios`; its truth is drawn).
    ax : matplotlib Axes, optional
    truth : mapping, Series or DataFrame, optional
        True ratios: ``{stage: ratio}``, or a table with ``stage``, ``ratio``
        (and the ``by`` columns), such as
        :func:`funnelsim.lessons.true_ratios`.
    overall : bool, default False
        Add a row for the first-to-last-stage rate and its interval (a fit
        without ``by``); its truth is the product of the steps' truths.
    labels : bool, default True
        Write each row's ratio and counts beside its interval.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.errorbar` (``color``,
        ``markersize``).

    Returns
    -------
    matplotlib Axes
        One errorbar container per group (one without ``by``), one scatter
        of diamonds when a truth is given, one text per row.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
    >>> res = fs.fit(log)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_ratio_table(res, truth={"connects": 7 / 15, "meetings": 1 / 7})
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['connects', 'meetings']
    """

    check_result(
        result,
        (Fit, EstimatingRatios),
        "plot_ratio_table",
        "funnelsim.fit / funnelsim.lessons.estimating_ratios",
    )
    if isinstance(result, EstimatingRatios):
        truth = result.truth if truth is None else truth
        result = result.fit
    rows = _ratio_rows(result, truth, overall)
    ax = new_axes(ax, figsize=(10, max(3.5, 0.55 * len(rows) + 2)))
    colors = palette()
    y = np.arange(len(rows))
    method = method_label(result.method)
    label = t("plot.ratio_table.estimate", level=result.confidence_level, method=method)
    groups = rows["group"].to_numpy(dtype=object)
    for i, group in enumerate(dict.fromkeys(groups)):
        idx = np.flatnonzero(groups == group)
        style = {"color": colors[i % len(colors)], "label": group or label}
        style.update(kwargs)
        part = rows.iloc[idx]
        errorbar(ax, part["ratio"], y[idx], part["low"], part["high"], **style)
    true = rows["true"].to_numpy(float)
    if np.isfinite(true).any():
        ax.scatter(
            true,
            y,
            marker="D",
            s=90,
            color="black",
            zorder=4,
            label=t("plot.ratio_table.truth"),
        )
    top = np.nanmax(np.concatenate([rows["high"].to_numpy(float), true, [0.01]]))
    right = min(1.0, top * (1.6 if labels else 1.15))  # a share: never past 100 %
    if labels:
        _label_ratios(ax, rows, y, right)
    ax.set_xlim(0, right)
    percent_axis(ax.xaxis, right)
    ax.set_yticks(y, rows["name"].tolist())
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first step on top
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.ratio_table.title", level=result.confidence_level, method=method))
    xlabel = t("plot.ratio_table.xlabel")
    # long names on the left narrow the axes: a centred label would run past the right edge
    ax.set_xlabel(xlabel, loc="right" if _text_width(xlabel) > _room(ax, rows) else "center")
    ax.set_ylabel(t("plot.ratio_table.ylabel"))
    legend_below(ax)  # every row has a label at its right: no corner is free
    return ax


def _ratio_rows(fit: Fit, truth: object, overall: bool) -> pd.DataFrame:
    """The forest plot's rows, first step on top: name, group, ratio, interval, counts, truth.

    With ``overall`` (a fit without ``by``) a last row holds the first-to-last
    rate; with ``mature=`` each step has its own cohort, so that row has no
    counts (-1) and shows its ratio alone.
    """
    table = fit.table.reset_index(drop=True)
    by = list(fit.by)
    names = [stage_label(s) for s in table["stage"]]
    groups = [""] * len(table)
    if by:
        groups = [", ".join(map(str, g)) for g in table[by].itertuples(index=False)]
        names = [f"{g}: {s}" for s, g in zip(names, groups, strict=True)]
    cols = {
        "name": names,
        "group": groups,
        **{c: table[c].tolist() for c in ("ratio", "low", "high", "passed", "entered")},
        "true": _truth_per_row(truth, table, by).tolist(),
    }
    if overall and not by:
        o = fit.overall
        cohorts = fit.mature is not None
        true = np.asarray(cols["true"], float)
        last = {
            "name": (
                t("plot.ratio_table.overall_product", draws=o.draws or 0)
                if o.method == PRODUCT
                else t("plot.ratio_table.overall")
            ),
            "group": "",
            "ratio": o.ratio,
            "low": o.low,
            "high": o.high,
            "passed": -1 if cohorts else table["passed"].iloc[-1],
            "entered": -1 if cohorts else table["entered"].iloc[0],
            "true": np.prod(true) if np.isfinite(true).all() else np.nan,
        }
        for column, value in last.items():
            cols[column].append(value)
    return pd.DataFrame(cols)


def _label_ratios(ax: Axes, rows: pd.DataFrame, y: np.ndarray, right: float) -> None:
    """Each row's ratio and counts beside its interval (the ratio alone without counts).

    The label starts past the interval and past the truth's diamond, so neither
    covers it; where the right side has less room than the left (an interval
    near 100 %), it goes to the left instead.
    """
    room = _room(ax, rows)
    for yi, row in zip(y, rows.itertuples(index=False), strict=True):
        if not np.isfinite(row.ratio):
            continue
        if row.entered >= 0:
            passed, entered = int(row.passed), int(row.entered)
            text = t("plot.ratio_table.label", ratio=row.ratio, passed=passed, entered=entered)
        else:
            text = f"{row.ratio:.1%}"
        _beside(ax, text, yi, (row.ratio, row.low, row.high, row.true), right, room)


def _room(ax: Axes, rows: pd.DataFrame) -> float:
    """The axes' width in pixels once laid out, about: the figure's less the row names on
    the left (and the axis label and margins)."""
    names = max((_text_width(str(name)) for name in rows["name"]), default=0.0)
    return ax.figure.bbox.width - (names + 90) * ax.figure.dpi / 100


def _text_width(text: str) -> float:
    """A text's width in pixels at the font size, from its characters (before any layout):
    about 0.62 em a Latin character, 1 em a wide (CJK) one."""
    size = mpl.font_manager.FontProperties(size=mpl.rcParams["font.size"]).get_size_in_points()
    lines = text.splitlines() or [""]
    ems = max(sum(1.0 if ord(c) > 0x2E80 else 0.62 for c in line) for line in lines)
    return ems * size * 100 / 72


def _beside(
    ax: Axes,
    text: str,
    y: float,
    ends: tuple[float, ...],
    right: float,
    room: float | None = None,
):
    """A label beside an estimate, its interval and its truth marker: to the right of all
    of them when it fits before the axis ends at ``right``, else to their left.

    ``ends``: the x of everything drawn on the row (NaN for what is not). ``room``: the
    axes' width in pixels after layout, when known better than now (long tick labels
    on the left will narrow it).
    """
    ends = [v for v in ends if np.isfinite(v)]
    first, last = min(ends), max(ends)
    # the label's width in data units, from its characters (before any layout)
    size = mpl.font_manager.FontProperties(size=mpl.rcParams["font.size"]).get_size_in_points()
    longest = max(len(part) for part in text.splitlines())
    wide = min(ax.bbox.width, room) if room is not None else ax.bbox.width
    width = (longest * 0.62 * size + 16) * ax.figure.dpi / 72 / max(wide, 1.0)
    if last + width * right <= right or right - last >= first:
        return ax.annotate(
            text, (last, y), xytext=(12, 0), textcoords="offset points", va="center"
        )
    return ax.annotate(
        text, (first, y), xytext=(-12, 0), textcoords="offset points", va="center", ha="right"
    )


def plot_coverage(
    result: pd.DataFrame | EstimatingRatios,
    *,
    ax: Axes | None = None,
    x: str = "n",
    **kwargs,
) -> Axes:
    """Real coverage of interval methods against n (or p), with the promised level.

    Parameters
    ----------
    result : pandas.DataFrame or EstimatingRatios
        From :func:`funnelsim.exact_coverage` or :func:`funnelsim.coverage`
        (simulated: drawn as points with ±2 standard errors), or the ratios
        app's result. One value of the other variable (one ``p`` when
        ``x="n"``) and one confidence level.
    ax : matplotlib Axes, optional
    x : {"n", "p"}
        What runs along the horizontal axis. ``"n"`` uses a log scale when
        it spans more than a factor of 20.
    **kwargs
        Passed to every method's line (``linewidth``, ``alpha``).

    Returns
    -------
    matplotlib Axes
        One line per method (points with error bars for simulated
        coverage) and a dashed line at the promised level.

    Examples
    --------
    >>> import funnelsim as fs
    >>> table = fs.exact_coverage(["wald", "wilson"], n=range(5, 101), p=0.1)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_coverage(table)
    >>> [line.get_label() for line in ax.lines]
    ['Wald', 'Wilson', 'promised: 95%']
    """

    check_result(
        result,
        (pd.DataFrame, EstimatingRatios),
        "plot_coverage",
        "funnelsim.exact_coverage / funnelsim.coverage / funnelsim.lessons.estimating_ratios",
    )
    if isinstance(result, EstimatingRatios):
        result = result.coverage
    x = check_choice("x", x, ("n", "p"))
    other = "p" if x == "n" else "n"
    needed = {"method", "n", "p", "confidence_level", "coverage"}
    if not needed <= set(result.columns):
        raise FunnelsimValueError(
            "error.plot_coverage_columns", value=", ".join(map(str, result.columns))
        )
    for column in (other, "confidence_level"):
        values = result[column].unique()
        if len(values) != 1:
            shown = ", ".join(f"{v:g}" for v in values[:6])
            raise FunnelsimValueError("error.plot_coverage_grid", column=column, values=shown, x=x)
    level = float(result["confidence_level"].iloc[0])
    fixed = result[other].iloc[0]
    ax = new_axes(ax)
    colors = palette()
    simulated = "se" in result.columns
    for i, method in enumerate(dict.fromkeys(result["method"])):
        rows = result[result["method"] == method].sort_values(x)
        colour = colors[_METHOD_COLOUR.get(method, 5 + i) % len(colors)]
        style = {"color": colour, "label": method_label(method)}
        style.update(kwargs)
        if simulated:
            ax.errorbar(
                rows[x], rows["coverage"], yerr=2 * rows["se"], fmt="o-", capsize=4, **style
            )
        else:
            ax.plot(rows[x], rows["coverage"], **style)
    ax.axhline(
        level,
        color="black",
        linestyle="--",
        linewidth=2.5,
        label=t("plot.coverage.nominal", level=level),
    )
    low = min(float(result["coverage"].min()), level)
    ax.set_ylim(max(0.0, low - 0.03), 1.005)
    ax.yaxis.set_major_formatter(ShareFormatter())
    xs = result[x].to_numpy(float)
    if x == "n" and xs.min() > 0 and xs.max() / xs.min() > 20:
        ax.set_xscale("log")
        log_axis(ax.xaxis, amount_tick)
    elif x == "p":
        ax.xaxis.set_major_formatter(ShareFormatter())
    if x == "n":
        ax.set_title(t("plot.coverage.title_n", level=level, p=float(fixed)))
        ax.set_xlabel(t("plot.coverage.xlabel_n"))
    else:
        ax.set_title(t("plot.coverage.title_p", level=level, n=int(fixed)))
        ax.set_xlabel(t("plot.coverage.xlabel_p"))
    ax.set_ylabel(t("plot.coverage.ylabel"))
    ax.legend(loc="lower right", ncols=2)
    return ax


def _deals_label(method: str) -> str:
    """survival's naive method names ("last 10 closed", "all closed") in the current language."""

    found = re.fullmatch(r"last (\d+) closed", method)
    if found:
        return t("plot.sales_cycle.last", n=int(found.group(1)))
    return t("plot.sales_cycle.all") if method == "all closed" else method


def plot_sales_cycle(
    result: CycleLength | SalesCycle,
    *,
    ax: Axes | None = None,
    given_event: bool = True,
    naive: bool = True,
    **kwargs,
) -> Axes:
    """The cycle curve over open and closed leads, against the decks' averages.

    The rising curve is the Kaplan-Meier estimate turned over: the share of
    the deals that close which have closed after so many days, with its
    band (:func:`funnelsim.lessons.cycle_curve`); the open leads count
    for as long as they have been open. The solid vertical line is the
    curve's mean cycle, the dot at one half its median with the median's
    interval. Dashed lines are the decks' averages of closed deals only.

    Parameters
    ----------
    result : CycleLength or SalesCycle
        From :func:`funnelsim.cycle_length`, or the cycle app's result
        (:func:`funnelsim.lessons.sales_cycle`).
    ax : matplotlib Axes, optional
    given_event : bool, default True
        True: share of the deals that close. False: share of *all* leads
        closed (most leads never close: the curve levels off low).
    naive : bool, default True
        Draw the decks' averages (one dashed line per row of
        ``result.naive``).
    **kwargs
        Passed to the curve (``color``, ``linewidth``).

    Returns
    -------
    matplotlib Axes
        The curve (a step line), its band, the curve's mean, the median
        with its interval (``given_event=True``) and one line per naive
        average.

    Examples
    --------
    >>> import funnelsim as fs
    >>> cycle = fs.cycle_length(fs.datasets.load_events())
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_sales_cycle(cycle)
    >>> ax.get_xlabel()
    'days from dial to sale'
    """

    check_result(
        result,
        (CycleLength, SalesCycle),
        "plot_sales_cycle",
        "funnelsim.cycle_length / funnelsim.lessons.sales_cycle",
    )
    if isinstance(result, SalesCycle):
        result = result.cycle
    ax = new_axes(ax)
    colors = palette()
    km = result.survival
    unit = unit_label(result.unit)
    curve = cycle_curve(result, given_event=given_event)
    end = float(km.max_time)
    time = np.append(curve["time"].to_numpy(float), end)
    closed, low, high = (
        np.append(curve[c].to_numpy(float), curve[c].iloc[-1]) for c in ("closed", "low", "high")
    )
    step_band(ax, time, low, high, label=t("plot.sales_cycle.band", level=km.confidence_level))
    line = {"color": colors[0], "label": t("plot.sales_cycle.curve")}
    line.update(kwargs)
    ax.step(time, closed, where="post", **line)
    if km.time.size:
        ax.axvline(
            result.mean,
            color="black",
            linewidth=2.5,
            label=t("plot.sales_cycle.mean", value=result.mean, unit=unit),
        )
    if given_event and km.time.size and np.isfinite(result.median):
        _draw_cycle_median(ax, result, end, unit)
    if naive:
        _draw_naive_cycles(ax, result, unit)
    last_event = float(km.time[-1]) if km.time.size else end
    right = min(end, last_event * 1.25)
    ax.set_xlim(0, right if right > 0 else 1.0)  # no lead followed for any time: one unit
    top = 1.0 if given_event else max(float(np.nanmax(high)), 1e-3)
    ax.set_ylim(0, min(top * 1.05, 1.02))
    share_axis(ax.yaxis, top=top)  # shares of all leads are small: 1-2-5 steps, even decimals
    ax.set_title(t("plot.sales_cycle.title", closed=result.closed, open=result.open))
    start, end_stage = stage_label(result.start), stage_label(result.end)
    ax.set_xlabel(t("plot.sales_cycle.xlabel", unit=unit, start=start, end=end_stage))
    key = "plot.sales_cycle.ylabel" if given_event else "plot.sales_cycle.ylabel_all"
    ax.set_ylabel(t(key))
    vertical = [result.mean] if km.time.size else []
    if naive:
        vertical += [m for m in result.naive["mean"].to_numpy(float) if np.isfinite(m)]
    if given_event and np.isfinite(result.median):
        vertical += [m for m in result.median_ci if np.isfinite(m)] or [end]
    right_of = max([0.0, *vertical])
    under = float(np.interp(right_of, time, low)) if time.size else 0.0
    _cycle_legend(ax, right_of, under, top if given_event else None)
    return ax


def _cycle_legend(ax: Axes, right_of: float, under: float, top: float | None) -> None:
    """The legend at the lower right, right of every vertical line (``right_of``) and
    under the curve's band (``under``), when it fits there; under the axes otherwise
    (narrow axes, or a curve that stays low)."""
    legend = ax.legend(loc="lower right")
    get_renderer = getattr(ax.figure.canvas, "get_renderer", None)
    if top is not None and get_renderer is not None:
        renderer = get_renderer()
        size = legend.get_window_extent(renderer)
        box = ax.get_window_extent(renderer)
        left, right = ax.get_xlim()
        slack = 1.0  # measured before the layout, which here gives the axes more room
        room_x = (right - right_of) / (right - left) * box.width * slack
        room_y = under / ax.get_ylim()[1] * box.height * slack
        if size.width <= room_x and size.height <= room_y:
            return
    legend.remove()
    legend_below(ax, ncols=2)


def _draw_cycle_median(ax: Axes, result: CycleLength, end: float, unit: str) -> None:
    """The median cycle as a dot at one half, with its interval (open to the log's end)."""
    m_low, m_high = result.median_ci
    right = m_high if np.isfinite(m_high) else end
    ax.errorbar(
        [result.median],
        [0.5],
        xerr=[[result.median - m_low], [right - result.median]],
        fmt="o",
        color="black",
        capsize=6,
        elinewidth=2.5,
        markersize=9,
        zorder=4,
        label=t("plot.sales_cycle.median", value=result.median, low=m_low, high=m_high, unit=unit),
    )


def _draw_naive_cycles(ax: Axes, result: CycleLength, unit: str) -> None:
    """The decks' averages over closed deals only: one dashed line per row of ``result.naive``."""
    colors = palette()
    styles = ("--", "-.", ":")
    for i, row in enumerate(result.naive.itertuples(index=False)):
        # "last 20" with fewer than 20 closed deals is "all closed": drawn once, as that
        if not np.isfinite(row.mean) or (
            row.method != "all closed" and row.deals >= result.closed
        ):
            continue
        ax.axvline(
            row.mean,
            color=colors[(1, 4, 2)[i % 3]],
            linestyle=styles[i % len(styles)],
            linewidth=3,
            label=t(
                "plot.sales_cycle.naive",
                method=_deals_label(row.method),
                deals=int(row.deals),
                value=row.mean,
                unit=unit,
            ),
        )


def plot_open_lead_ratios(
    result: OpenLeadRatios | list[OpenLeadRatios],
    *,
    ax: Axes | None = None,
    truth: object = None,
    labels: bool = True,
    **kwargs,
) -> Axes:
    """One ratio three ways, side by side: naive, mature cohort, censored (Kaplan-Meier).

    Parameters
    ----------
    result : OpenLeadRatios or sequence of them
        From :func:`funnelsim.open_lead_ratios`; several (one per step) make
        one group of rows each.
    ax : matplotlib Axes, optional
    truth : mapping, Series or DataFrame, optional
        True ratios: ``{stage: ratio}`` or a table with ``stage`` and
        ``ratio`` (:func:`funnelsim.lessons.true_ratios`); a black bar
        marks each.
    labels : bool, default True
        Write each ratio beside its interval.
    **kwargs
        Passed to every :meth:`~matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib Axes
        Three errorbar containers (naive, mature, censored), a scatter of
        the truth when given, one text per estimate.

    Examples
    --------
    >>> import funnelsim as fs
    >>> sale = fs.open_lead_ratios(fs.datasets.load_events(), "sale", window=60)
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_open_lead_ratios(sale)
    >>> len(ax.containers)
    3
    """

    results = [result] if isinstance(result, OpenLeadRatios) else list(result)
    for r in results or [result]:  # an empty list is no result either
        check_result(r, (OpenLeadRatios,), "plot_open_lead_ratios", "funnelsim.open_lead_ratios")
    ax = new_axes(ax, figsize=(10, max(4.0, 1.4 * len(results) + 2.5)))
    colors = palette()
    methods = ("naive", "mature cohort", "kaplan-meier")
    words = {
        "naive": t("plot.open_leads.naive"),
        "mature cohort": t(
            "plot.open_leads.mature", window=results[0].window, unit=unit_label(results[0].unit)
        ),
        "kaplan-meier": t("plot.open_leads.censored"),
    }
    style_of = {
        "naive": (colors[3], "o"),
        "mature cohort": (colors[2], "s"),  # green: orange is too close to vermillion
        "kaplan-meier": (colors[0], "D"),
    }
    offsets = (-0.25, 0.0, 0.25)
    centres = np.arange(len(results))
    tops = [0.01]
    true = np.full(len(results), np.nan)
    if truth is not None:
        true = _truth_per_row(truth, pd.DataFrame({"stage": [r.stage for r in results]}), [])
        tops.extend(true[np.isfinite(true)])
    for r in results:  # an interval without a bound adds no width
        high = r.table["high"].to_numpy(float)
        tops.extend(high[np.isfinite(high)])
    right = min(1.0, float(np.nanmax(tops)) * (1.35 if labels else 1.15))
    labels_at = []
    for method, offset in zip(methods, offsets, strict=True):
        rows = [r.table.set_index("method").loc[method] for r in results]
        ratio = np.array([row["ratio"] for row in rows], float)
        low = np.array([row["low"] for row in rows], float)
        high = np.array([row["high"] for row in rows], float)
        colour, marker = style_of[method]
        style = {"color": colour, "marker": marker, "label": words[method]}
        style.update(kwargs)
        errorbar(ax, ratio, centres + offset, low, high, **style)
        if labels:
            for yi, r, lo, hi, tr in zip(centres + offset, ratio, low, high, true, strict=True):
                if np.isfinite(r):
                    labels_at.append((_percent_1(r), yi, r, lo, hi, tr))
    for text, yi, *ends in labels_at:
        _beside(ax, text, yi, tuple(ends), right)
    if np.isfinite(true).any():
        ax.scatter(
            true,
            centres,
            marker="|",
            s=1800,
            linewidths=3.5,
            color="black",
            zorder=4,
            label=t("plot.open_leads.truth"),
        )
    ax.set_xlim(0, right)
    percent_axis(ax.xaxis, right)
    steps = [
        t("plot.open_leads.step", previous=stage_label(r.previous), stage=stage_label(r.stage))
        for r in results
    ]
    ax.set_yticks(centres, steps)
    ax.set_ylim(len(results) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(t("plot.open_leads.title"))
    ax.set_xlabel(t("plot.open_leads.xlabel"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    return ax


def _percent_1(value: float) -> str:
    return f"{value:.1%}"


def plot_stale_leads(
    result: SalesCycle | pd.DataFrame,
    *,
    ax: Axes | None = None,
    cutoff: float | None = None,
    quantile: float | None = None,
    unit: str = "days",
    bins: int = 30,
    **kwargs,
) -> Axes:
    """Open leads by age: the live ones, the stale ones, and where the line is drawn.

    Parameters
    ----------
    result : SalesCycle or pandas.DataFrame
        The cycle app's result (:func:`funnelsim.lessons.sales_cycle`),
        or :func:`funnelsim.stale_leads` with ``age="cycle"``.
    ax : matplotlib Axes, optional
    cutoff : float, optional
        The decks' rule: demote leads older than the average cycle. Default
        for a SalesCycle: its average of the last N closed deals.
    quantile : float, optional
        The quantile behind the stale threshold, for the legend (known from
        a SalesCycle).
    unit : str, default "days"
        Unit of the ages (a SalesCycle knows its own).
    bins : int, default 30
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.hist`.

    Returns
    -------
    matplotlib Axes
        A stacked histogram (live, stale), the stale threshold and, when
        known, the decks' cut-off.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> frame = pd.DataFrame({"age": [3.0, 10, 40, 50], "threshold": 20.0,
    ...                       "stale": [False, False, True, True]})
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_stale_leads(frame, cutoff=15)
    >>> ax.get_title()
    '2 of 4 open leads are stale'
    """

    check_result(
        result,
        (SalesCycle, pd.DataFrame),
        "plot_stale_leads",
        "funnelsim.lessons.sales_cycle / funnelsim.stale_leads",
    )
    if isinstance(result, SalesCycle):
        cutoff = result.naive_mean if cutoff is None else cutoff
        quantile = result.quantile if quantile is None else quantile
        unit = unit_label(result.cycle.unit)
        frame = result.stale
        last = result.last
    else:
        unit = unit_label(unit)
        frame = result
        last = None
    if not {"age", "threshold", "stale"} <= set(frame.columns):
        raise FunnelsimValueError(
            "error.plot_stale_columns", value=", ".join(map(str, frame.columns))
        )
    ax = new_axes(ax)
    colors = palette()
    age = frame["age"].to_numpy(float)
    stale = frame["stale"].to_numpy(bool)
    finite = np.isfinite(age)
    top = float(age[finite].max()) if finite.any() else 1.0
    top = max(top, 1e-9)
    thresholds = frame["threshold"].dropna().unique()
    edges = _age_bins(top, int(bins), float(thresholds[0]) if len(thresholds) == 1 else None)
    style = {
        "bins": edges,
        "stacked": True,
        "color": [colors[0], colors[7]],
        "label": [t("plot.stale.live"), t("plot.stale.stale")],
    }
    style.update(kwargs)
    ax.hist([age[finite & ~stale], age[finite & stale]], **style)
    if len(thresholds) == 1:
        value = float(thresholds[0])
        label = (
            t("plot.stale.threshold", value=value, unit=unit, quantile=quantile)
            if quantile is not None
            else t("plot.stale.threshold_plain", value=value, unit=unit)
        )
        ax.axvline(value, color="black", linewidth=3, label=label, ymax=_UNDER_LEGEND)
    if cutoff is not None and np.isfinite(cutoff):
        key = "plot.stale.cutoff_last" if last is not None else "plot.stale.cutoff"
        ax.axvline(
            cutoff,
            color=colors[1],
            linestyle="--",
            linewidth=3,
            label=t(key, value=cutoff, unit=unit, n=last),
            ymax=_UNDER_LEGEND,
        )
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] / _UNDER_LEGEND)  # room for the legend above the bars
    ax.yaxis.set_major_formatter(FuncFormatter(amount_tick))
    ax.set_title(t("plot.stale.title", stale=int(stale.sum()), open=len(frame)))
    ax.set_xlabel(t("plot.stale.xlabel", unit=unit))
    ax.set_ylabel(t("plot.stale.ylabel"))
    ax.legend(loc="upper right")
    return ax


_UNDER_LEGEND = 0.62  # the bars and lines keep to this share of the height, the legend above


def _age_bins(top: float, bins: int, cut: float | None) -> np.ndarray:
    """``bins`` bins from 0 to ``top``, with an edge at the stale threshold ``cut`` when inside."""
    if cut is None or not 0 < cut < top:
        return np.linspace(0, top, bins + 1)
    left = min(bins - 1, max(1, round(cut / top * bins)))
    return np.concatenate(
        [np.linspace(0, cut, left + 1), np.linspace(cut, top, bins - left + 1)[1:]]
    )


def plot_sample_size(result: SampleSize, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Leads needed against the margin wanted: half the margin takes four times the leads.

    Parameters
    ----------
    result : SampleSize
        From :func:`funnelsim.lessons.sample_size`.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to both lines.

    Returns
    -------
    matplotlib Axes
        One line per method (Wilson, Wald) on log-log axes and a dot at the
        margin asked for.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import sample_size
    >>> with fs.plotting.style():
    ...     ax = fs.plotting.plot_sample_size(sample_size(0.3, 0.05))
    >>> [line.get_label() for line in ax.lines]
    ['Wilson', 'Wald']
    """

    check_result(result, (SampleSize,), "plot_sample_size", "funnelsim.lessons.sample_size")
    ax = new_axes(ax)
    colors = palette()
    curve = result.curve
    for method in ("wilson", "wald"):
        rows = curve[curve["method"] == method]
        style = {"color": colors[_METHOD_COLOUR[method]], "label": method_label(method)}
        style.update(kwargs)
        ax.plot(rows["half_width"], rows["leads"], **style)
    ax.scatter(
        [result.half_width],
        [result.wilson],
        s=160,
        color=colors[_METHOD_COLOUR["wilson"]],
        edgecolor="black",
        zorder=4,
        label=t("plot.sample_size.chosen", half_width=result.half_width, leads=result.wilson),
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax.xaxis, lambda v, pos=None: f"±{100 * v:.3g}")
    log_axis(ax.yaxis, amount_tick)
    ax.minorticks_off()
    ax.set_title(t("plot.sample_size.title", ratio=result.ratio, level=result.confidence_level))
    ax.set_xlabel(t("plot.sample_size.xlabel"))
    ax.set_ylabel(t("plot.sample_size.ylabel"))
    ax.legend(loc="upper right")
    return ax
