"""Won, lost or still open: the share won by day t, why deals are lost, and moves back.

A lead ends one of two ways, won or lost, or is still open when the log is
taken. :func:`won_by` estimates the share of leads won by day ``t`` after
their first stage as a *cumulative incidence* (the Aalen-Johansen
estimator): open leads are censored at the log's ``as_of``, and a loss is a
*competing* event, after which the lead can no longer be won.

Treating losses as censored instead (``1 -`` Kaplan-Meier of winning, the
``won_km`` curve) assumes that a lost lead could still be won later, as if
it had only left the log: it overstates the share won, and more so the more
leads are lost (notebook 06's pitfall). Both curves share their risk sets;
at each time ``t_j`` with ``n_j`` leads at risk, ``w_j`` won and ``l_j``
lost (``d_j = w_j + l_j``), and ``S`` the share neither won nor lost:

- won (Aalen-Johansen): ``F(t) = sum_{t_j <= t} S(t_{j-1}) w_j / n_j``,
  ``S(t) = prod_{t_j <= t} (1 - d_j / n_j)``; ``F_won + F_lost + S = 1``;
- won, losses censored: ``1 - prod_{t_j <= t} (1 - w_j / n_j) >= F_won``.

The band is pointwise, from the delta-method (Greenwood-type) variance of
``F`` (Collett, *Modelling Survival Data in Medical Research*, 3rd ed., p.
411; SAS PROC LIFETEST; lifelines' ``AalenJohansenFitter``)::

    Var F(t) = sum_{t_j <= t} [ (F(t) - F(t_j))^2 d_j / (n_j (n_j - d_j))
                                + S(t_{j-1})^2 w_j (n_j - w_j) / n_j^3
                                - 2 (F(t) - F(t_j)) S(t_{j-1}) w_j / n_j^2 ]

on the log(-log) scale of ``F``: limits ``F ** exp(± z se / (F log F))``,
inside [0, 1] (NaN where ``F`` is 0 or 1). At a time where every lead
still at risk is decided (``n_j = d_j``, the last time) the first term's
``d_j / (n_j (n_j - d_j))`` is infinite but multiplied by ``(F(t) - F(t_j))^2
= 0`` at every ``t >= t_j``: it counts as 0 (lifelines gives NaN there).

:func:`loss_reasons` tabulates why leads were lost, at the stage they were
lost (their furthest stage), with Wilson intervals for the shares;
:func:`demotion_table` summarises the moves back of an events log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_choice, short, type_name
from .i18n import FunnelsimTypeError, t, unit_label
from .intervals import check_level, proportion_ci
from .logs import Log, LogError, log_clock
from .survival import level_text, log_log_band, number_text

__all__ = ["WonBy", "demotion_table", "loss_reasons", "won_by"]

OUTCOMES = ("won", "lost", "won_km")
_REPR_AT_RISK = 10  # the repr reports the curves where at least this many leads are at risk


# ------------------------------------------------------------------ estimator
def cumulative_incidence(time: np.ndarray, outcome: np.ndarray) -> dict[str, np.ndarray]:
    """The Aalen-Johansen curves of ``outcome`` (1 won, 2 lost, 0 censored) at the distinct
    times with an event, with their variances (module notes) and ``1 -`` Kaplan-Meier of
    winning with losses censored."""
    time = np.asarray(time, dtype=float)
    outcome = np.asarray(outcome, dtype=np.int64)
    grid, inverse = np.unique(time, return_inverse=True)
    won = np.bincount(inverse, weights=outcome == 1, minlength=len(grid))
    lost = np.bincount(inverse, weights=outcome == 2, minlength=len(grid))
    leaving = np.bincount(inverse, minlength=len(grid)).astype(float)
    at_risk = len(time) - np.r_[0.0, np.cumsum(leaving)[:-1]]
    keep = (won + lost) > 0
    grid, won, lost, n = grid[keep], won[keep], lost[keep], at_risk[keep]
    d = won + lost
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1 - d / n)
        s_before = np.r_[1.0, s[:-1]]
        curves = {
            "won": np.cumsum(s_before * won / n),
            "lost": np.cumsum(s_before * lost / n),
        }
        km = 1 - np.cumprod(1 - won / n)
        # n == d only at the last time (nobody is left at risk): its term is multiplied
        # by (F(t) - F(t_j))^2 = 0 at every t >= t_j, so it adds nothing
        first = np.where(n > d, d / (n * (n - d)), 0.0)
    out = {"time": grid, "at_risk": n.astype(np.int64), "n_won": won, "n_lost": lost}
    for name, events in (("won", won), ("lost", lost)):
        f = curves[name]
        a = s_before**2 * events * (n - events) / n**3
        b = s_before * events / n**2
        # sum_j (F - F_j)^2 c_j = F^2 C0 - 2 F C1 + C2 with cumulative sums (C0, C1, C2)
        c0, c1, c2 = np.cumsum(first), np.cumsum(first * f), np.cumsum(first * f**2)
        quad = f**2 * c0 - 2 * f * c1 + c2
        var = quad + np.cumsum(a) - 2 * (f * np.cumsum(b) - np.cumsum(b * f))
        out[name] = f
        out[f"{name}_var"] = np.clip(var, 0, None)
    out["won_km"] = km
    return out


@dataclass(frozen=True, repr=False, eq=False)
class WonBy:
    """The share of leads won (and lost) by each time since their first stage.

    Attributes
    ----------
    time : numpy.ndarray
        Distinct times with a win or a loss, increasing (days, or periods).
    at_risk : numpy.ndarray
        Leads neither won, lost nor censored just before each time.
    n_won, n_lost : numpy.ndarray
        Leads won and lost at each time.
    won, lost : numpy.ndarray
        Cumulative incidence (Aalen-Johansen) of winning and of losing by
        each time.
    won_se, lost_se : numpy.ndarray
        Their delta-method standard errors (module notes).
    won_low, won_high, lost_low, lost_high : numpy.ndarray
        Pointwise log(-log) confidence bands.
    won_km : numpy.ndarray
        ``1 -`` Kaplan-Meier of winning with lost leads censored: the
        pitfall, never below ``won``.
    n, n_open : int
        Leads in the curves, and leads still open (censored at ``as_of``).
    max_time : float
        Longest follow-up (event or censored): the curves say nothing beyond.
    confidence_level : float
    unit : str
        "days" or "periods".
    n_undated : int
        Leads left out because they were decided without a date (won without
        their last stage's time, lost without a close date): they cannot be
        placed in time, and are never counted as open.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> events = pd.DataFrame({
    ...     "lead": ["A", "A", "B", "B", "C", "D", "D"],
    ...     "stage": ["dial", "sale", "dial", "dial", "dial", "dial", "sale"],
    ...     "time": ["2025-03-01", "2025-03-05", "2025-03-01", "2025-03-03",
    ...              "2025-03-01", "2025-03-02", "2025-03-12"],
    ...     "status": ["", "", "", "lost", "", "", "won"]})
    >>> log = fs.read_log(events, format="events", stages=["dial", "sale"])
    >>> result = fs.won_by(log)
    >>> result.time.tolist(), result.won.round(3).tolist(), result.won_km.round(3).tolist()
    ([2.0, 4.0, 10.0], [0.0, 0.25, 0.5], [0.0, 0.333, 0.667])
    >>> result.at(7)
    0.25
    """

    time: np.ndarray
    at_risk: np.ndarray
    n_won: np.ndarray
    n_lost: np.ndarray
    won: np.ndarray
    lost: np.ndarray
    won_se: np.ndarray
    lost_se: np.ndarray
    won_low: np.ndarray
    won_high: np.ndarray
    lost_low: np.ndarray
    lost_high: np.ndarray
    won_km: np.ndarray
    n: int
    n_open: int
    max_time: float
    confidence_level: float = 0.95
    unit: str = "days"
    n_undated: int = 0

    @property
    def settled(self) -> bool:
        """Every lead still at risk at the last time was decided then: the curves stay
        flat for ever after it (otherwise they say nothing beyond ``max_time``)."""
        return bool(len(self.time)) and bool(self.at_risk[-1] == self.n_won[-1] + self.n_lost[-1])

    def at(self, time: float | Sequence[float] | np.ndarray, outcome: str = "won"):
        """The share ``outcome`` ("won", "lost" or "won_km") by ``time``: a right-continuous
        step function, 0 before the first event; NaN beyond ``max_time`` unless
        :attr:`settled`.

        >>> import funnelsim as fs
        >>> result = fs.won_by(fs.datasets.load_crm_export())
        >>> 0 < result.at(30) < result.at(30, "won_km")
        True
        """
        outcome = check_choice("outcome", outcome, OUTCOMES)
        x = np.asarray(time, dtype=float)
        idx = np.searchsorted(self.time, x, side="right")
        curve = np.r_[0.0, getattr(self, outcome)]
        out = np.where((x > self.max_time) & ~self.settled, np.nan, curve[idx])
        return float(out) if out.ndim == 0 else out

    def to_frame(self) -> pd.DataFrame:
        """One row per time and outcome: ``time``, ``outcome`` (won, lost, won_km), ``share``,
        ``low``, ``high`` (NaN for won_km), ``at_risk``.

        >>> import funnelsim as fs
        >>> fs.won_by(fs.datasets.load_crm_export()).to_frame().columns.tolist()
        ['time', 'outcome', 'share', 'low', 'high', 'at_risk']
        """
        nan = np.full(len(self.time), np.nan)
        parts = [
            pd.DataFrame(
                {
                    "time": self.time,
                    "outcome": name,
                    "share": getattr(self, name),
                    "low": low,
                    "high": high,
                    "at_risk": self.at_risk,
                }
            )
            for name, low, high in (
                ("won", self.won_low, self.won_high),
                ("lost", self.lost_low, self.lost_high),
                ("won_km", nan, nan),
            )
        ]
        return pd.concat(parts, ignore_index=True)

    def __repr__(self) -> str:
        """At the last time with at least 10 leads at risk (or the first time)."""
        undated = t("repr.won_by.undated", count=self.n_undated) if self.n_undated else ""
        if not len(self.time):
            return t("repr.won_by.empty", n=self.n) + undated
        last = max(int(np.searchsorted(-self.at_risk, -_REPR_AT_RISK, side="right")) - 1, 0)
        return (
            t(
                "repr.won_by",
                n=self.n,
                won=int(self.n_won.sum()),
                lost=int(self.n_lost.sum()),
                open=self.n_open,
                time=number_text(float(self.time[last])),
                unit=unit_label(self.unit),
                share=f"{self.won[last]:.1%}",
                level=level_text(self.confidence_level),
                low=_percent(self.won_low[last]),
                high=_percent(self.won_high[last]),
                km=f"{self.won_km[last]:.1%}",
                lost_share=f"{self.lost[last]:.1%}",
            )
            + undated
        )


def _percent(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.1%}"


def _check_log(log: object) -> Log:
    if not isinstance(log, Log):
        raise FunnelsimTypeError(
            "error.type_log", name="log", value=short(log), type=type_name(log)
        )
    return log


def won_by(log: Log, *, confidence_level: float = 0.95) -> WonBy:
    """The share of leads won by day t since their first stage, losses competing.

    Parameters
    ----------
    log : Log
        A lead-level log with times (events, or leads with dates). Its
        ``status`` decides who is lost (without a status column nobody is,
        and the curve equals ``1 -`` Kaplan-Meier); a lead at the last stage
        is won at its time there (``Log.closed``).
    confidence_level : float, default 0.95
        Of the pointwise bands.

    Returns
    -------
    WonBy
        The cumulative incidence of winning and of losing (Aalen-Johansen)
        with their bands, and ``1 -`` Kaplan-Meier with losses censored for
        comparison (module notes).

    Raises
    ------
    LogError
        A counts log, or a log without times.

    Notes
    -----
    Time runs from each lead's first known stage time (its first stage's
    time, when the log has it) to when it was won (its last stage's time)
    or lost (the row that said so in an events log, its ``close`` date in a
    leads log); open leads are censored at ``as_of``. Leads without any time
    are left out; so are leads decided without a date (a won lead without
    its last stage's time, a lost one without a close date), counted in
    ``n_undated`` and named in the repr: they are never taken for open
    leads.

    Examples
    --------
    The sample CRM export: 1 - Kaplan-Meier, treating lost deals as if they
    could still be won, overstates the share won.

    >>> import funnelsim as fs
    >>> result = fs.won_by(fs.datasets.load_crm_export())
    >>> round(result.at(60), 3), round(result.at(60, "won_km"), 3)
    (0.096, 1.0)
    """
    log = _check_log(log)
    level = check_level(confidence_level)
    clock = log_clock(log, "won_by")
    # time runs from each lead's first known stage time (the first stage's, when known)
    big = np.iinfo(np.int64).max if clock.values.dtype.kind == "i" else np.inf
    first = np.where(clock.known, clock.values, big).min(axis=1)
    known = clock.known.any(axis=1)
    outcome = np.zeros(len(first), dtype=np.int64)
    end = np.full(len(first), clock.as_of, dtype=first.dtype)
    won = log.reached[log.stages[-1]].to_numpy(dtype=bool)
    lost = np.zeros(len(first), dtype=bool)
    if log.leads is not None and "status" in log.leads.columns:
        lost = log.leads["status"].reindex(log.reached.index).to_numpy(object) == "lost"
    lost &= ~won
    closed = np.full(len(first), np.datetime64("NaT", "ns"))
    if log.closed is not None:
        closed = log.closed.reindex(log.reached.index).to_numpy("datetime64[ns]")
    lost |= ~np.isnat(closed) & ~won
    dated_loss = lost & ~np.isnat(closed) & (clock.unit == "days")
    outcome[dated_loss] = 2
    end[dated_loss] = closed[dated_loss].view(np.int64)
    at_last = clock.known[:, -1] & won
    outcome[at_last] = 1
    end[at_last] = clock.values[at_last, -1]
    # A lead decided without a date (won without its last stage's time, lost without a
    # close date) cannot be placed in time: it is left out and counted, never kept open.
    undated = known & ((won & ~at_last) | (lost & ~dated_loss))
    known &= ~undated
    duration = np.maximum((end - first) / clock.scale, 0.0)[known]
    outcome = outcome[known]
    curves = cumulative_incidence(duration, outcome)
    fields = {}
    for name in ("won", "lost"):
        se = np.sqrt(curves[f"{name}_var"])
        low, high = log_log_band(curves[name], se, level)
        fields.update({name: curves[name], f"{name}_se": se, f"{name}_low": low})
        fields[f"{name}_high"] = high
    return WonBy(
        time=curves["time"],
        at_risk=curves["at_risk"],
        n_won=curves["n_won"].astype(np.int64),
        n_lost=curves["n_lost"].astype(np.int64),
        won_km=curves["won_km"],
        n=len(duration),
        n_open=int((outcome == 0).sum()),
        n_undated=int(undated.sum()),
        max_time=float(duration.max()) if len(duration) else math.nan,
        confidence_level=level,
        unit=clock.unit,
        **fields,
    )


# ------------------------------------------------------------------ loss reasons
def loss_reasons(
    log: Log, *, by_stage: bool = True, confidence_level: float = 0.95
) -> pd.DataFrame:
    """Why leads were lost: count and share of each reason, per stage they were lost at.

    Parameters
    ----------
    log : Log
        A lead-level log with a ``status`` column (and a ``reason`` column:
        without one every reason is missing).
    by_stage : bool, default True
        One block per stage at which leads were lost (their furthest stage);
        False pools every stage (``stage`` is then "all").
    confidence_level : float, default 0.95
        Of the Wilson interval of each share.

    Returns
    -------
    pandas.DataFrame
        ``stage``, ``reason`` (NaN where none was given), ``count``,
        ``share`` (of that stage's losses), ``low``, ``high``; stages in
        funnel order, reasons by count (most first), then name.

    Raises
    ------
    LogError
        A counts log, or a log without a status column.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> leads = pd.DataFrame({"call": ["yes"] * 6,
    ...     "meet": ["yes", "no", "no", "yes", "no", "yes"],
    ...     "sale": ["no", "no", "no", "yes", "no", "no"],
    ...     "status": ["lost", "lost", "输单", "won", "open", "lost"],
    ...     "reason": ["price", "price", "competitor", "", "", "price"]})
    >>> log = fs.read_log(leads, format="leads", stages=["call", "meet", "sale"])
    >>> fs.loss_reasons(log).round(3)
      stage      reason  count  share    low   high
    0  call  competitor      1    0.5  0.095  0.905
    1  call       price      1    0.5  0.095  0.905
    2  meet       price      2    1.0  0.342  1.000
    """
    log = _check_log(log)
    level = check_level(confidence_level)
    if log.leads is None or "status" not in log.leads.columns:
        raise LogError("error.no_status", name=log.name)
    lost = (log.leads["status"] == "lost").to_numpy()
    reached = log.reached.reindex(log.leads.index)[list(log.stages)].to_numpy(dtype=bool)
    furthest = np.where(reached.any(axis=1), reached.shape[1] - 1 - reached[:, ::-1].argmax(1), 0)
    stage = np.array(log.stages, dtype=object)[furthest] if by_stage else "all"
    reason = log.leads["reason"] if "reason" in log.leads.columns else np.nan
    frame = pd.DataFrame({"stage": stage, "reason": reason}, index=log.leads.index)[lost]
    order = {s: k for k, s in enumerate(log.stages)}
    columns = ["stage", "reason", "count", "share", "low", "high"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    counts = frame.groupby(["stage", "reason"], dropna=False, sort=False).size()
    table = counts.rename("count").reset_index()
    table["total"] = table.groupby("stage")["count"].transform("sum")
    table["rank"] = table["stage"].map(order).fillna(-1)
    table = table.sort_values(
        ["rank", "count", "reason"], ascending=[True, False, True], kind="stable"
    )
    k, n = table["count"].to_numpy(), table["total"].to_numpy()
    low, high = proportion_ci(k, n, confidence_level=level, method="wilson")
    table["share"], table["low"], table["high"] = k / n, low, high
    return table[columns].reset_index(drop=True)


# ------------------------------------------------------------------ moves back
def demotion_table(log: Log) -> pd.DataFrame:
    """The moves back of an events log: how many from each stage to each earlier one, and
    the days spent at the higher stage before.

    Parameters
    ----------
    log : Log
        Any log; only events logs can have moves back (others give an empty
        table).

    Returns
    -------
    pandas.DataFrame
        ``from``, ``to``, ``count``, ``median_days``, ``mean_days``; one row
        per pair seen, in funnel order of ``from`` (highest first), then
        ``to``.

    Examples
    --------
    Lead A is demoted from proposal back to meeting after 4 days:

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> events = pd.DataFrame({"lead": ["A", "A", "A", "A"],
    ...     "stage": ["meeting", "proposal", "meeting", "proposal"],
    ...     "time": ["2025-03-01", "2025-03-02", "2025-03-06", "2025-03-20"]})
    >>> log = fs.read_log(events, format="events", stages=["meeting", "proposal"])
    >>> fs.demotion_table(log)
           from       to  count  median_days  mean_days
    0  proposal  meeting      1          4.0        4.0
    """
    log = _check_log(log)
    columns = ["from", "to", "count", "median_days", "mean_days"]
    moves = log.demotions
    if moves is None or moves.empty:
        return pd.DataFrame(columns=columns)
    table = (
        moves.groupby(["from", "to"], sort=False)["spent_days"]
        .agg(count="size", median_days="median", mean_days="mean")
        .reset_index()
    )
    rank = {s: k for k, s in enumerate(log.stages)}
    table["_f"], table["_t"] = table["from"].map(rank), table["to"].map(rank)
    table = table.sort_values(["_f", "_t"], ascending=[False, True], kind="stable")
    table["count"] = table["count"].astype(np.int64)
    return table[columns].reset_index(drop=True)
