"""Control charts: is a group's ratio, or this week's, outside what chance allows?

- :func:`funnel_limits`: control limits for a ratio against volume, for the
  funnel plot (:func:`funnelsim.plotting.plot_funnel_chart`): small groups
  swing more, so their limits are wider.
- :func:`p_chart`: a ratio week by week with 3-sigma limits scaled to each
  week's volume; weeks outside are flagged
  (:func:`funnelsim.plotting.plot_p_chart`). ``method="laney"`` widens the
  limits by the periods' own dispersion (Laney's p' chart) when the ratio
  moves from week to week more than chance allows.

Both draw one centre line for everybody: the pooled ratio of all groups.
Inputs are read as in :mod:`funnelsim.groups` (a log, a fit or a stage table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import (
    by_columns,
    check_choice,
    check_nonnegative,
    check_probability,
    short,
    to_float,
    type_name,
)
from .estimate import Fit
from .groups import SHOWN_ROWS, chosen_steps, group_label, percent_text, stage_rows
from .i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    field_label,
    fields_label,
    stage_label,
    stages_label,
    t,
)
from .intervals import check_level
from .logs import Log

__all__ = ["CHART_METHODS", "PChart", "funnel_limits", "p_chart"]

CHART_METHODS = ("classic", "laney")  # p_chart(method=...)
MR_TO_SIGMA = 1.128  # d2 for moving ranges of two: sigma = mean moving range / 1.128


def _limit(p: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """Spiegelhalter's interpolated lower binomial limit for the ratio (quantile ``q``)."""
    r = stats.binom.ppf(q, n, p)
    f_r = stats.binom.cdf(r, n, p)
    f_before = stats.binom.cdf(r - 1, n, p)
    step = f_r - f_before
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(step > 0, (f_r - q) / np.where(step > 0, step, 1.0), 0.0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel_limits(
    team_ratio: float,
    volumes: int | Sequence[int] | np.ndarray,
    *,
    confidence_level: float | Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Control limits of a ratio against volume: the funnel of a funnel plot.

    A group with ``volume`` leads at a step and the team's true ratio would
    show a ratio inside the limits with probability at least
    ``confidence_level``; small groups get wide limits, large groups narrow
    ones. The limits are exact binomial quantiles, interpolated between
    whole counts to give smooth curves (Spiegelhalter 2005, *Funnel plots for
    comparing institutional performance*): with ``q = (1 - level) / 2``,
    ``r`` the smallest count with ``F(r) >= q`` (``F`` the Binomial(volume,
    team_ratio) distribution function) and ``a = (F(r) - q) / (F(r) - F(r -
    1))``, the lower limit is ``(r - a) / volume``. The upper limit is one
    minus the lower limit of the failure ratio ``1 - team_ratio``, so that
    on *each* side a group with the team's ratio falls outside with
    probability at most ``q``. Limits are clipped to [0, 1]; a team ratio
    of 0 or 1 gives limits equal to it. For large
    volumes they approach the normal limits ``p ± z sqrt(p (1 - p) / n)``.

    Parameters
    ----------
    team_ratio : float
        The ratio the groups are compared with, in [0, 1].
    volumes : int or array_like of int
        Leads entering the step (>= 1).
    confidence_level : float or sequence of float, default (0.95, 0.998)
        One funnel per level: 95 % ("warning", about 2 standard errors) and
        99.8 % ("control", about 3).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``volume``, ``confidence_level``, ``low``, ``high``, one row
        per level and volume.

    Examples
    --------
    >>> from funnelsim.control import funnel_limits
    >>> funnel_limits(0.2, [10, 100, 1000], confidence_level=0.95).round(4)
       volume  confidence_level     low    high
    0      10              0.95  0.0000  0.5295
    1     100              0.95  0.1197  0.2865
    2    1000              0.95  0.1750  0.2256
    """
    p = check_probability("team_ratio", team_ratio)
    levels = [
        check_level(x)
        for x in ([confidence_level] if np.ndim(confidence_level) == 0 else confidence_level)
    ]
    if not levels:
        raise FunnelsimValueError("error.confidence_level", value="[]")
    vols = np.atleast_1d(np.asarray(volumes, dtype=object))
    clean = np.array([_volume(i, v) for i, v in enumerate(vols)], dtype=float)
    frames = []
    for level in levels:
        q = (1.0 - level) / 2.0
        if p in (0.0, 1.0):  # no chance at all: every group has the team's ratio
            low = high = np.full(clean.shape, p)
        else:
            low = _limit(np.full(clean.shape, p), clean, q)
            high = 1.0 - _limit(np.full(clean.shape, 1.0 - p), clean, q)
        frames.append(
            pd.DataFrame(
                {
                    "volume": clean.astype(np.int64),
                    "confidence_level": level,
                    "low": low,
                    "high": high,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _volume(i: int, value: object) -> float:
    x = to_float(f"volumes[{i}]", value)
    if not (math.isfinite(x) and x >= 1 and x == int(x)):
        raise FunnelsimValueError("error.volumes", value=repr(value), index=i)
    return x


@dataclass(frozen=True, repr=False, eq=False)
class PChart:
    """A stage ratio period by period with control limits, from :func:`p_chart`.

    Attributes
    ----------
    stages : tuple of str
        The steps charted.
    period : str
        The period column.
    by : tuple of str
        Group columns: one chart per group (empty for the team as a whole).
    sigmas : float
        Width of the limits in standard errors.
    table : pandas.DataFrame
        One row per group, step and period (see :meth:`to_frame`).
    centre : float or None
        The centre line given to :func:`p_chart`; None when it is the pooled
        ratio of the periods.
    method : str
        ``"classic"`` (binomial limits) or ``"laney"`` (Laney's p' chart:
        limits widened by ``sigma_z``, see :attr:`dispersion`).

    Examples
    --------
    >>> import funnelsim as fs
    >>> chart = fs.p_chart(fs.datasets.load_counts(), stage="connects", by="rep")
    >>> chart.stages, chart.by, chart.sigmas
    (('connects',), ('rep',), 3.0)
    >>> chart.flagged[["rep", "period", "signal"]]
         rep     period signal
    0   Wang 2025-05-19  above
    1  Zhang 2025-01-13  below
    """

    stages: tuple[str, ...]
    period: str
    by: tuple[str, ...]
    sigmas: float
    table: pd.DataFrame
    centre: float | None = None
    method: str = "classic"

    @property
    def dispersion(self) -> pd.DataFrame:
        """Laney's ``sigma_z`` per chart (group and step): how many times more the periods'
        ratios vary than binomial chance allows (1 = chance only).

        Columns: the ``by`` columns, ``stage``, ``periods`` (periods with
        leads) and ``sigma_z`` (NaN with fewer than two such periods). The
        classic chart has it too: it says whether its limits are too narrow.

        >>> import funnelsim as fs
        >>> chart = fs.p_chart(fs.datasets.load_counts(), stage="connects", by="rep")
        >>> chart.dispersion.round(2)
             rep     stage  periods  sigma_z
        0   Chen  connects       26     1.10
        1     Li  connects       26     1.09
        2    Liu  connects       26     1.15
        3   Wang  connects       26     1.20
        4  Zhang  connects       26     1.32
        5   Zhao  connects       26     0.90
        """
        keys = [*self.by, "stage"]
        z_sigma, used = _sigma_z(self.table, keys)
        frame = self.table[keys].assign(periods=used, sigma_z=z_sigma)
        return frame.drop_duplicates(keys).reset_index(drop=True)

    @property
    def flagged(self) -> pd.DataFrame:
        """The out-of-control rows (periods outside the limits)."""
        return self.table[self.table["signal"] != ""].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per group, step and period.

        Columns: the ``by`` columns, the period column, ``stage``,
        ``entered``, ``passed``, ``ratio``, ``centre`` (the pooled ratio of
        all periods, or the ``centre`` given), ``low``, ``high`` (``centre ±
        sigmas * sqrt(centre (1 - centre) / entered)``, clipped to [0, 1])
        and ``signal`` (``"below"``, ``"above"`` or ``""``).

        >>> import funnelsim as fs
        >>> table = fs.p_chart(fs.datasets.load_counts(), stage="connects").to_frame()
        >>> table.columns.tolist()
        ['period', 'stage', 'entered', 'passed', 'ratio', 'centre', 'low', 'high', 'signal']
        >>> len(table)   # 26 weeks
        26
        """
        return self.table.copy()

    def __repr__(self) -> str:
        flagged = self.flagged
        n_periods = self.table[self.period].nunique()
        head = t(
            "repr.pchart.head",
            stages=stages_label(self.stages, ", "),
            period=field_label(self.period),
            per=t("repr.pchart.per", by=fields_label(self.by)) if self.by else "",
            sigmas=self.sigmas,
            periods=n_periods,
            flagged=len(flagged),
        )
        lines = [head]
        if self.method == "laney":
            values = self.dispersion["sigma_z"].dropna()
            if len(values) == 1 or (len(values) and values.min() == values.max()):
                lines.append(t("repr.pchart.laney", sigma_z=float(values.iloc[0])))
            elif len(values):
                lines.append(t("repr.pchart.laney_range", low=values.min(), high=values.max()))
        for values in flagged.head(SHOWN_ROWS).to_dict("records"):
            group = group_label([values[k] for k in self.by]) + " " if self.by else ""
            lines.append(
                t(
                    "repr.pchart.row",
                    group=group,
                    stage=stage_label(values["stage"]),
                    when=period_label(values[self.period]),
                    passed=values["passed"],
                    entered=values["entered"],
                    ratio=percent_text(values["ratio"]),
                    signal=t(f"repr.signal.{values['signal']}"),
                    low=percent_text(values["low"]),
                    high=percent_text(values["high"]),
                )
            )
        if len(flagged) > SHOWN_ROWS:
            lines.append("  " + t("repr.more", n=len(flagged) - SHOWN_ROWS, where=".flagged"))
        return "\n".join(lines) + ")"


def period_label(value: object) -> str:
    """A period for a message: dates without their midnight time."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    return str(value)


def p_chart(
    log_or_table: Log | Fit | pd.DataFrame,
    *,
    stage: str | Sequence[str] | None = None,
    period: str = "period",
    by: str | Sequence[str] | None = None,
    sigmas: float = 3.0,
    centre: float | None = None,
    method: str = "classic",
) -> PChart:
    """A weekly p-chart: each period's stage ratio against limits scaled to its volume.

    The centre line is the pooled ratio ``p`` over all periods (per group
    with ``by=``). A period with ``n`` leads entering the step has limits
    ``p ± sigmas * sqrt(p (1 - p) / n)`` clipped to [0, 1]: quiet weeks get
    wide limits, busy weeks narrow ones. A period whose ratio falls outside
    is *out of control*: something changed that week (new lead list, new
    script, a rep away) and is worth a look. With 3-sigma limits and a
    steady process, about 0.27 % of periods are flagged by chance (the
    normal approximation; it needs ``n p`` and ``n (1 - p)`` of a few dozen).

    Parameters
    ----------
    log_or_table : Log, Fit or pandas.DataFrame
        A log with a period column (the decks' weekly tracking table read
        with ``format="counts"``, or a lead log with a period per lead), a
        fit by period, or a table like ``Log.stage_table(by=[period])``.
    stage : str or sequence of str, optional
        The step(s) to chart (named after the stage they lead to); all by
        default.
    period : str, default "period"
        The period column.
    by : str or sequence of str, optional
        Group columns: one chart per group (per rep, say), each with its own
        centre line.
    sigmas : float, default 3.0
        Width of the limits in standard errors.
    centre : float, optional
        A known centre line (last quarter's ratio, a target) instead of the
        pooled ratio of the periods charted. The pooled ratio includes any
        shift being looked for and so is pulled towards it; a centre from a
        stable baseline period flags a shift sooner.
    method : {"classic", "laney"}, default "classic"
        ``"classic"``: binomial limits as above. ``"laney"``: Laney's p'
        chart (Laney 2002, *Improved control charts for attributes*), for
        ratios that move from period to period more than chance allows (a
        new lead list every month, seasons): each period's standardised
        residual ``z_i = (p_i - p) / sigma_i`` (``sigma_i = sqrt(p (1 - p) /
        n_i)``), their dispersion ``sigma_z = mean |z_i - z_(i-1)| / 1.128``
        (moving ranges of consecutive periods with leads, in period order)
        and limits ``p ± sigmas * sigma_i * sigma_z``. ``sigma_z`` near 1
        gives the classic chart back; above 1 the limits widen so that only
        periods unusual *for this funnel* are flagged (a table column, and
        :attr:`PChart.dispersion`). With fewer than two periods with leads
        ``sigma_z`` is undefined and the classic limits are kept.

    Returns
    -------
    PChart
        ``.to_frame()``, ``.flagged``.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.control import p_chart
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
    >>> chart = p_chart(fs.read_log(counts, format="counts", stages=["connects", "meetings"]))
    >>> chart.to_frame().drop(columns="stage").round(3)
      period  entered  passed  ratio  centre    low   high signal
    0     w1      100      20  0.200   0.167  0.055  0.278
    1     w2      120      25  0.208   0.167  0.065  0.269
    2     w3       90       3  0.033   0.167  0.049  0.285  below
    3     w4      110      22  0.200   0.167  0.060  0.273

    Laney's p' chart widens the limits by the weeks' own dispersion. With
    four weeks, one odd week is itself most of the dispersion (``sigma_z``
    = 2.74) and is no longer flagged: Laney's chart needs a long history.

    >>> laney = p_chart(fs.read_log(counts, format="counts", stages=["connects", "meetings"]),
    ...                 method="laney")
    >>> laney.to_frame()[["period", "ratio", "sigma_z", "low", "high", "signal"]].round(3)
      period  ratio  sigma_z  low   high signal
    0     w1  0.200    2.743  0.0  0.473
    1     w2  0.208    2.743  0.0  0.447
    2     w3  0.033    2.743  0.0  0.490
    3     w4  0.200    2.743  0.0  0.459
    """
    keys = by_columns(by)
    if not isinstance(period, str):
        raise FunnelsimTypeError(
            "error.by_type", name="period", value=short(period), type=type_name(period)
        )
    by_columns(period, "period")  # an empty name is a ValueError
    if period in keys:
        raise FunnelsimValueError("error.period_in_by", period=repr(period))
    known = None if centre is None else check_probability("centre", centre)
    method = check_choice("method", method, CHART_METHODS)
    width = check_nonnegative("sigmas", sigmas)
    if width == 0:
        raise FunnelsimValueError("error.positive", name="sigmas", value=sigmas)
    table, steps, stages = stage_rows(log_or_table, (*keys, period), "p_chart")
    chosen = chosen_steps(stage, steps, stages)
    table = table[table["stage"].isin(chosen)]
    # one chart per group and step, periods in order
    step_no = table["stage"].map({s: i for i, s in enumerate(chosen)}).rename("step_no")
    table = table.assign(step_no=step_no).sort_values([*keys, "step_no", period], kind="stable")
    table = table[[*keys, period, "stage", "entered", "passed"]].reset_index(drop=True)
    k = table["passed"].to_numpy(float)
    n = table["entered"].to_numpy(float)
    chart = [*keys, "stage"]
    sums = table.groupby(chart, sort=False, observed=True)[["entered", "passed"]].transform("sum")
    big_n = sums["entered"].to_numpy(float)
    big_k = sums["passed"].to_numpy(float)
    ok = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        line = np.where(big_n > 0, big_k / np.where(big_n > 0, big_n, 1.0), np.nan)
        if known is not None:
            line = np.full(len(table), known)
        ratio = np.where(ok, k / np.where(ok, n, 1.0), np.nan)
        se = np.where(ok, np.sqrt(line * (1.0 - line) / np.where(ok, n, 1.0)), np.nan)
    table = table.assign(ratio=ratio, centre=line)
    if method == "laney":
        z_sigma = _sigma_z(table, chart)[0]
        z_sigma = np.where(np.isfinite(z_sigma), z_sigma, 1.0)  # undefined: classic limits
        table = table.assign(sigma_z=z_sigma)
        se = se * z_sigma
    low = np.clip(line - width * se, 0.0, 1.0)
    high = np.clip(line + width * se, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        signal = np.where(ratio < low, "below", np.where(ratio > high, "above", ""))
    table = table.assign(low=low, high=high, signal=signal)
    return PChart(chosen, period, keys, width, table, known, method)


def _sigma_z(table: pd.DataFrame, chart: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Laney's ``sigma_z`` of each row's chart (rows in period order within a chart) and
    the number of periods it is computed from.

    ``z = (ratio - centre) / sqrt(centre (1 - centre) / entered)`` over the
    periods with leads; ``sigma_z`` = mean absolute difference of
    consecutive ``z`` / 1.128; NaN with fewer than two of them (or a centre
    of 0 or 1, where nothing varies).
    """
    n = table["entered"].to_numpy(float)
    line = table["centre"].to_numpy(float)
    ok = (n > 0) & (line > 0) & (line < 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (table["ratio"].to_numpy(float) - line) / np.sqrt(line * (1.0 - line) / n)
    z = pd.Series(np.where(ok, z, np.nan), index=table.index)
    groups = [table[c] for c in chart]
    used = z.notna().groupby(groups, sort=False, observed=True).transform("sum")
    moving = z.dropna().groupby([g[z.notna()] for g in groups], sort=False, observed=True).diff()
    mean_mr = moving.abs().groupby([g[moving.index] for g in groups], sort=False).transform("mean")
    sigma = pd.Series(np.nan, index=table.index)
    sigma.loc[mean_mr.index] = mean_mr / MR_TO_SIGMA
    sigma = sigma.groupby(groups, sort=False, observed=True).transform("max")
    return sigma.to_numpy(float), used.to_numpy(np.int64)
