"""Open leads and the sales cycle: survival curves over open and closed leads.

A lead that reached a stage last week and has not moved on yet is not a
failure: it is *open*. Counting it as a failure (the naive ratio) or leaving it
out of the average cycle (the decks' "average of the last 10 or 20 closed
deals") biases both numbers low. Survival analysis treats an open lead as
*censored*: we know it has been open for so long, and no more.

:func:`kaplan_meier` is the estimator itself: the Kaplan-Meier curve with a
pointwise confidence band, its quantiles and their intervals. The log-level
analyses build on it:

- :func:`cycle_length`: first contact to close, over open and closed leads,
  beside the decks' averages of closed deals;
- :func:`open_lead_ratios`: one stage ratio three ways (naive, mature cohort,
  censored), side by side;
- :func:`time_in_stage`: how long leads sit at each stage before moving on;
- :func:`stale_leads`: open leads older than a chosen quantile of the cycle.

Conventions
-----------
Times are in days (float) when the log's times are dates and times, and in
periods when they are plain numbers (week numbers, say). The curve is
``S(t)``, the share of leads *without* the event (still open) after ``t``.

The band is pointwise, from Greenwood's variance on the log(-log) scale:
with ``v(t)`` the Greenwood sum ``sum d / (n (n - d))`` over event times up to
``t``, the limits are ``S ** exp(± z sqrt(v) / log S)`` (R's
``conf.type="log-log"``). The limits stay inside [0, 1]; where the curve
drops to 0 they are NaN, as the transform is undefined there.

A quantile ``p`` is the first event time at which ``S`` falls strictly below
``1 - p``, as in statsmodels' ``SurvfuncRight.quantile``. A curve that sits
exactly on ``1 - p`` over a stretch gives the end of that stretch (statsmodels
gives the same or the start, depending on the last bit of its rounding; R
takes the midpoint). Its interval inverts the pointwise test on the log(-log)
scale, as statsmodels' ``SurvfuncRight.quantile_ci`` (``method="cloglog"``):
the event times at which the band contains ``1 - p``; the upper limit is the
next event time after the last of them, or infinity.

Most leads never close. Those leads stay at risk for ever and form the
curve's *plateau*: ``1 - S`` at the last event time is the share closed by
the end of follow-up, and the curve speaks about the time to close of the
deals that do close only through its shape. Quantiles "given the event"
(``given_event=True``) are the quantiles of that shape, ``(1 - S(t)) / (1 -
S(t_last))``: they assume that follow-up is long enough for the curve to have
flattened (no deal closes later than the longest cycle seen). Their interval
inverts the same test with the delta-method variance of that ratio, using
Greenwood's covariances.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_choice, check_open_probability
from .i18n import FunnelsimValueError, t, unit_label
from .intervals import CI, METHODS, proportion_ci, two_sided_z
from .logs import (
    DAY_NS,
    Clock,
    Log,
    LogError,
    log_clock,
    mature_stage_table,
    window_in_units,
)

__all__ = [
    "CycleLength",
    "OpenLeadRatios",
    "Survival",
    "TimeInStage",
    "cycle_length",
    "kaplan_meier",
    "mature_stage_table",
    "open_lead_ratios",
    "stale_leads",
    "time_in_stage",
]

_TOL = 1e-9  # a curve within this of 1 - p counts as "on" the level, not below it
_SHOWN = 8  # rows of the curve a repr shows


# ------------------------------------------------------------------ helpers


def _greenwood(at_risk: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Cumulative Greenwood sum ``sum d / (n (n - d))``; inf from a time where n == d."""
    n = at_risk.astype(float)
    d = events.astype(float)
    term = np.full(n.shape, np.inf)
    ok = n > d
    term[ok] = d[ok] / (n[ok] * (n[ok] - d[ok]))
    return np.cumsum(term)


def _first_below(time: np.ndarray, curve: np.ndarray, level: float) -> float:
    idx = np.flatnonzero(curve < level - _TOL)
    return float(time[idx[0]]) if idx.size else math.nan


def _invert(time: np.ndarray, curve: np.ndarray, se: np.ndarray, level: float, z: float) -> CI:
    """Event times where a log(-log) z-test of ``curve == level`` does not reject."""
    ok = (curve > 0) & (curve < 1) & np.isfinite(se) & (se > 0)
    r = np.full(curve.shape, np.inf)
    c = curve[ok]
    # (g(c) - g(level)) / (g'(c) se), g(x) = log(-log x), g'(x) = -1 / (x log x)
    r[ok] = (np.log(-np.log(c)) - math.log(-math.log(level))) * (-c * np.log(c)) / se[ok]
    idx = np.flatnonzero(np.abs(r) <= z)
    if not idx.size:
        return CI(math.nan, math.nan)
    high = math.inf if idx[-1] == len(time) - 1 else float(time[idx[-1] + 1])
    return CI(float(time[idx[0]]), high)


def _fmt_time(x: object) -> str:
    if isinstance(x, pd.Timestamp) and x == x.normalize():
        return str(x.date())
    return str(x)


def _pct(level: float) -> str:
    return f"{100 * level:.4g}%"


def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else "inf" if math.isinf(x) else f"{x:.4g}"


def naive_label(method: str) -> str:
    """The label of a naive cycle average ("last 10 closed") in the current language."""
    if method == "all closed":
        return t("repr.cycle_length.all")
    last = re.fullmatch(r"last (\d+) closed", method)
    return t("repr.cycle_length.last", n=int(last.group(1))) if last else method


# ------------------------------------------------------------------ Survival
@dataclass(frozen=True, repr=False, eq=False)
class Survival:
    """A Kaplan-Meier curve with its pointwise band (see :func:`kaplan_meier`).

    Attributes
    ----------
    time : numpy.ndarray
        The distinct event times, increasing.
    at_risk : numpy.ndarray
        Subjects at risk just before each event time (censored at the same
        time count as at risk).
    events : numpy.ndarray
        Events at each event time.
    survival : numpy.ndarray
        ``S(t)``: the share without the event after each event time.
    se : numpy.ndarray
        Greenwood standard error of ``survival`` (NaN where it drops to 0).
    low, high : numpy.ndarray
        Pointwise log(-log) confidence band (NaN where ``survival`` is 0).
    n : int
        Subjects.
    max_time : float
        Largest duration observed, event or censored: the curve is not
        defined beyond it.
    confidence_level : float
        Of the band and the quantiles' intervals.
    unit : str
        Unit of the times ("days", "periods", or "" when not known).
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    survival: np.ndarray
    se: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int
    max_time: float
    confidence_level: float = 0.95
    unit: str = ""

    # ---------------------------------------------------------- the curve
    @property
    def n_events(self) -> int:
        """Subjects with the event."""
        return int(self.events.sum())

    def survival_at(self, time: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """``S(t)`` at any time: a step function, right-continuous.

        1 before the first event time; NaN beyond ``max_time`` (nobody was
        followed that long, so the curve says nothing there).

        >>> from funnelsim.survival import kaplan_meier
        >>> km = kaplan_meier([2, 3, 3, 5], [True, True, False, True])
        >>> km.survival_at([0, 2, 4, 5, 6]).round(3).tolist()
        [1.0, 0.75, 0.5, 0.0, nan]
        """
        x = np.asarray(time, dtype=float)
        idx = np.searchsorted(self.time, x, side="right") - 1
        curve = np.concatenate(([1.0], self.survival))
        out = curve[idx + 1]
        out = np.where(x > self.max_time, np.nan, out)
        return float(out) if out.ndim == 0 else out

    @property
    def eventual_share(self) -> float:
        """``1 - S`` at the last event time: the share with the event by the end of follow-up.

        It is the share that *ever* has the event only if follow-up is long
        enough for the curve to have flattened.
        """
        return 1.0 - float(self.survival[-1]) if self.time.size else 0.0

    @property
    def eventual_share_ci(self) -> CI:
        """Interval for :attr:`eventual_share`, from the band at the last event time."""
        if not self.time.size:
            return CI(math.nan, math.nan)
        return CI(1.0 - float(self.high[-1]), 1.0 - float(self.low[-1]))

    def _given_event(self) -> tuple[np.ndarray, np.ndarray]:
        """The curve among subjects with the event by the last event time, and its SE."""
        s = self.survival
        if not s.size:  # no event at all: an empty curve
            return s, self.se
        s_end = s[-1]
        if s_end == 0:  # everybody had the event: nothing to condition on
            return s, self.se
        v = _greenwood(self.at_risk, self.events)
        curve = (s - s_end) / (1 - s_end)
        a = -1 / (1 - s_end)  # d G / d S(t), with G = 1 - curve
        b = (1 - s) / (1 - s_end) ** 2  # d G / d S(t_last)
        var = a**2 * s**2 * v + b**2 * s_end**2 * v[-1] + 2 * a * b * s * s_end * v
        return curve, np.sqrt(np.clip(var, 0, None))

    # -------------------------------------------------------- quantiles
    def quantile(self, p: float, *, given_event: bool = False) -> float:
        """Time by which a share ``p`` have had the event.

        The first event time at which ``S`` falls strictly below ``1 - p``;
        NaN when it never does (fewer than ``p`` have the event). With
        ``given_event=True``, the share is of the subjects with the event by
        the end of follow-up (see the module notes).
        """
        p = check_open_probability("p", p)
        if not self.time.size:
            return math.nan
        curve = self._given_event()[0] if given_event else self.survival
        return _first_below(self.time, curve, 1 - p)

    def quantile_ci(self, p: float, *, given_event: bool = False) -> CI:
        """Confidence interval for :meth:`quantile`, at ``confidence_level``.

        The event times at which the band contains ``1 - p`` (statsmodels'
        ``quantile_ci`` convention); ``(nan, nan)`` when there are none.
        """
        p = check_open_probability("p", p)
        if not self.time.size:
            return CI(math.nan, math.nan)
        curve, se = self._given_event() if given_event else (self.survival, self.se)
        return _invert(self.time, curve, se, 1 - p, two_sided_z(self.confidence_level))

    @property
    def median(self) -> float:
        """Time by which half have had the event (NaN if fewer than half have)."""
        return self.quantile(0.5)

    @property
    def median_ci(self) -> CI:
        """Confidence interval for :attr:`median`."""
        return self.quantile_ci(0.5)

    def quantiles(
        self, p: Sequence[float] = (0.25, 0.5, 0.75), *, given_event: bool = False
    ) -> pd.DataFrame:
        """Quantiles with their intervals: columns ``p``, ``time``, ``low``, ``high``."""
        rows = []
        for q in p:
            low, high = self.quantile_ci(q, given_event=given_event)
            rows.append(
                {
                    "p": q,
                    "time": self.quantile(q, given_event=given_event),
                    "low": low,
                    "high": high,
                }
            )
        return pd.DataFrame(rows, columns=["p", "time", "low", "high"])

    @property
    def mean_given_event(self) -> float:
        """Mean time to the event among subjects with the event by the end of follow-up."""
        if not self.time.size:
            return math.nan
        drop = -np.diff(np.concatenate(([1.0], self.survival)))
        return float(np.sum(self.time * drop) / drop.sum())

    # ---------------------------------------------------------- output
    def to_frame(self) -> pd.DataFrame:
        """The curve, one row per event time.

        Columns ``time``, ``at_risk``, ``events``, ``survival``, ``low`` and
        ``high``. The curve is 1 from time 0 up to the first row.
        """
        return pd.DataFrame(
            {
                "time": self.time,
                "at_risk": self.at_risk,
                "events": self.events,
                "survival": self.survival,
                "low": self.low,
                "high": self.high,
            }
        )

    def __repr__(self) -> str:
        unit = f" {unit_label(self.unit)}" if self.unit else ""
        low, high = self.median_ci
        head = t(
            "repr.survival.head",
            n=self.n,
            events=self.n_events,
            censored=self.n - self.n_events,
            median=_fmt(self.median),
            unit=unit,
            level=_pct(self.confidence_level),
            low=_fmt(low),
            high=_fmt(high),
        )
        frame = self.to_frame()
        if frame.empty:
            return head + "\n" + t("repr.survival.no_events")
        more = len(frame) - _SHOWN
        text = frame.head(_SHOWN).to_string(index=False, float_format=lambda x: f"{x:.4g}")
        return head + "\n" + text + ("\n" + t("repr.survival.more", n=more) if more > 0 else "")


def kaplan_meier(
    durations: Sequence[float] | np.ndarray,
    observed: Sequence[bool] | np.ndarray,
    *,
    confidence_level: float = 0.95,
    unit: str = "",
) -> Survival:
    """The Kaplan-Meier estimate of a survival curve, with a pointwise band.

    Parameters
    ----------
    durations : array_like of float
        Time from the start to the event, or to the end of follow-up for a
        censored subject (finite, >= 0). ``numpy.timedelta64`` values are
        converted to days.
    observed : array_like of bool
        True where the event happened (a deal closed), False where the
        subject was censored (still open). 1/0 work too.
    confidence_level : float, default 0.95
        Of the pointwise band and the quantiles' intervals.
    unit : str, optional
        Unit of the durations, for display ("days", "weeks").

    Returns
    -------
    Survival
        The curve at its event times, band, quantiles, ``to_frame()``.

    Raises
    ------
    ValueError
        Empty input, lengths that differ, a negative or non-finite duration,
        an ``observed`` value that is not True/False, or a level outside
        (0, 1).

    Notes
    -----
    The curve, Greenwood's standard errors, ``quantile`` and ``quantile_ci``
    equal statsmodels' ``SurvfuncRight`` (up to rounding); the band is
    statsmodels' Greenwood SE on the log(-log) scale, the transform its
    ``quantile_ci`` uses by default (see the module notes).

    Examples
    --------
    Freireich et al. (1963), leukaemia remission times in weeks, 6-MP arm
    (False: still in remission when last seen):

    >>> from funnelsim.survival import kaplan_meier
    >>> weeks = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25,
    ...          32, 32, 34, 35]
    >>> relapse = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    >>> km = kaplan_meier(weeks, relapse, unit="weeks")
    >>> km.survival.round(3).tolist()
    [0.857, 0.807, 0.753, 0.69, 0.627, 0.538, 0.448]
    >>> km.median, km.median_ci
    (23.0, CI(low=13.0, high=inf))
    >>> km.to_frame().round(3).head(3)
       time  at_risk  events  survival    low   high
    0   6.0       21       3     0.857  0.620  0.952
    1   7.0       17       1     0.807  0.563  0.923
    2  10.0       15       1     0.753  0.503  0.889
    """
    level = check_open_probability("confidence_level", confidence_level)
    t_arr = np.asarray(durations)
    if t_arr.dtype.kind == "m":
        t_arr = t_arr.astype("timedelta64[ns]").astype(np.int64) / DAY_NS
        unit = unit or "days"
    try:
        t_arr = np.asarray(t_arr, dtype=float).ravel()
    except (TypeError, ValueError):
        raise FunnelsimValueError(
            "error.not_a_number", name="durations", value=repr(durations)[:60]
        ) from None
    e_arr = np.asarray(observed).ravel()
    if t_arr.size == 0:
        raise FunnelsimValueError("error.no_durations")
    if e_arr.size != t_arr.size:
        raise FunnelsimValueError(
            "error.durations_length", n_durations=t_arr.size, n_observed=e_arr.size
        )
    bad = ~np.isfinite(t_arr) | (t_arr < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FunnelsimValueError("error.durations", value=t_arr[i], index=i)
    try:
        e_num = e_arr.astype(float)
    except (TypeError, ValueError):
        e_num = np.full(e_arr.shape, np.nan)
    bad = ~np.isin(e_num, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = e_arr[i].item() if isinstance(e_arr[i], np.generic) else e_arr[i]
        raise FunnelsimValueError("error.observed", value=repr(value), index=i)
    event = e_num == 1.0

    utime, inv = np.unique(t_arr, return_inverse=True)
    d_all = np.bincount(inv, weights=event, minlength=utime.size).astype(np.int64)
    n_all = np.cumsum(np.bincount(inv, minlength=utime.size)[::-1])[::-1]
    keep = d_all > 0
    time, at_risk, events = utime[keep], n_all[keep], d_all[keep]
    surv = np.cumprod(1.0 - events / at_risk)
    v = _greenwood(at_risk, events)
    finite = np.isfinite(v)
    se = np.full(surv.shape, np.nan)
    se[finite] = surv[finite] * np.sqrt(v[finite])
    low = np.full(surv.shape, np.nan)
    high = np.full(surv.shape, np.nan)
    ok = finite & (surv > 0) & (surv < 1)
    w = two_sided_z(level) * np.sqrt(v[ok]) / -np.log(surv[ok])
    low[ok] = surv[ok] ** np.exp(w)
    high[ok] = surv[ok] ** np.exp(-w)
    arrays = [time, at_risk, events, surv, se, low, high]
    for a in arrays:
        a.setflags(write=False)
    return Survival(
        *arrays,
        n=int(t_arr.size),
        max_time=float(t_arr.max()),
        confidence_level=level,
        unit=unit,
    )


# --------------------------------------------------------- times of a log
def _stage_index(log: Log, name: str, stage: object) -> int:
    if not isinstance(stage, str) or stage not in log.stages:
        raise FunnelsimValueError(
            "error.unknown_stage", value=repr(stage), choices=", ".join(log.stages)
        )
    return log.stages.index(stage)


def _check_order(log: Log, stage: str, later: str, durations: np.ndarray) -> None:
    """Durations that should be >= 0 (a validated log guarantees it)."""
    bad = durations < 0
    if bad.any():
        leads = log.reached.index[bad]
        raise LogError(
            "error.time_order",
            name=log.name,
            count=int(bad.sum()),
            start=stage,
            end=later,
            leads=", ".join(map(str, leads[:5])),
        )


def _ratio_row(k: int, n: int, level: float, method: str) -> tuple[float, float, float]:
    if n == 0:
        return math.nan, math.nan, math.nan
    low, high = proportion_ci(k, n, confidence_level=level, method=method)
    return k / n, float(low), float(high)


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if x.size else math.nan


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if x.size else math.nan


# ------------------------------------------------------------ cycle length
@dataclass(frozen=True, repr=False, eq=False)
class CycleLength:
    """The sales cycle over open and closed leads, beside the decks' averages.

    Attributes
    ----------
    survival : Survival
        Kaplan-Meier curve of time to close: closed leads are events, open
        leads are censored at ``as_of``.
    start, end : str
        The stages the cycle runs between.
    as_of : object
        When the log was taken (open leads' censoring time).
    leads : int
        Leads in the curve: reached ``start`` with a known time.
    closed : int
        Of those, leads that reached ``end`` (events).
    skipped : int
        Leads that reached ``start`` but were left out: the time at ``start``
        (or, for a closed lead, at ``end``) is unknown.
    naive : pandas.DataFrame
        The decks' numbers from closed deals alone: one row per choice of
        ``last`` (and ``"all closed"``), columns ``method``, ``deals``,
        ``mean``, ``median``.
    unit : str
        "days" or "periods".
    """

    survival: Survival
    start: str
    end: str
    as_of: object
    leads: int
    closed: int
    skipped: int
    naive: pd.DataFrame
    unit: str

    @property
    def open(self) -> int:
        """Leads in the curve that had not closed by ``as_of``."""
        return self.leads - self.closed

    @property
    def share_closed(self) -> float:
        """Kaplan-Meier share of leads closed by the longest cycle seen."""
        return self.survival.eventual_share

    @property
    def share_closed_ci(self) -> CI:
        """Interval for :attr:`share_closed`."""
        return self.survival.eventual_share_ci

    @property
    def median(self) -> float:
        """Median cycle of the deals that close (see the module notes)."""
        return self.survival.quantile(0.5, given_event=True)

    @property
    def median_ci(self) -> CI:
        """Interval for :attr:`median`."""
        return self.survival.quantile_ci(0.5, given_event=True)

    @property
    def mean(self) -> float:
        """Mean cycle of the deals that close, from the curve (no interval)."""
        return self.survival.mean_given_event

    def quantiles(self, p: Sequence[float] = (0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
        """Quantiles of the cycle of the deals that close, with intervals."""
        return self.survival.quantiles(p, given_event=True)

    def to_frame(self) -> pd.DataFrame:
        """The estimates side by side, one row per method and statistic.

        Columns ``method`` ("kaplan-meier", "last 10 closed", ..., "all
        closed"), ``statistic`` ("share closed", "median", "mean"),
        ``leads`` (leads or deals it uses), ``value``, ``low``, ``high`` and
        ``difference`` (value minus the Kaplan-Meier value of the same
        statistic: the naive numbers' bias, up to chance).
        """
        km = {"share closed": self.share_closed, "median": self.median, "mean": self.mean}
        low, high = self.share_closed_ci
        m_low, m_high = self.median_ci
        rows = [
            ("kaplan-meier", "share closed", self.leads, km["share closed"], low, high),
            ("kaplan-meier", "median", self.leads, km["median"], m_low, m_high),
            ("kaplan-meier", "mean", self.leads, km["mean"], math.nan, math.nan),
        ]
        for row in self.naive.itertuples(index=False):
            if row.method == "all closed":
                share = self.closed / self.leads if self.leads else math.nan
                rows.append((row.method, "share closed", self.leads, share, math.nan, math.nan))
            rows.append((row.method, "median", row.deals, row.median, math.nan, math.nan))
            rows.append((row.method, "mean", row.deals, row.mean, math.nan, math.nan))
        frame = pd.DataFrame(
            rows, columns=["method", "statistic", "leads", "value", "low", "high"]
        )
        frame["difference"] = frame["value"] - frame["statistic"].map(km)
        return frame

    def __repr__(self) -> str:
        u = unit_label(self.unit)
        low, high = self.median_ci
        s_low, s_high = self.share_closed_ci
        lines = [
            t(
                "repr.cycle_length.head",
                start=self.start,
                end=self.end,
                as_of=_fmt_time(self.as_of),
                leads=self.leads,
                closed=self.closed,
                open=self.open,
                skipped=self.skipped,
            ),
            t(
                "repr.cycle_length.share",
                share=self.share_closed,
                level=_pct(self.survival.confidence_level),
                low=s_low,
                high=s_high,
            ),
            t(
                "repr.cycle_length.median",
                median=_fmt(self.median),
                unit=u,
                low=_fmt(low),
                high=_fmt(high),
                mean=_fmt(self.mean),
            ),
        ]
        for row in self.naive.itertuples(index=False):
            lines.append(
                t(
                    "repr.cycle_length.naive",
                    method=naive_label(row.method),
                    deals=row.deals,
                    mean=_fmt(row.mean),
                    median=_fmt(row.median),
                    unit=u,
                )
            )
        return "\n".join(lines)


def cycle_length(
    log: Log,
    *,
    start: str | None = None,
    end: str | None = None,
    last: int | Sequence[int] = (10, 20),
    confidence_level: float = 0.95,
) -> CycleLength:
    """The sales cycle, first contact to close, over open and closed leads.

    Every lead that reached ``start`` with a known time enters the curve: a
    lead that reached ``end`` is an event at ``time(end) - time(start)``; any
    other lead is censored at ``as_of - time(start)``: it may still close.
    Leads that will never close (lost deals look the same in a log) stay at
    risk for ever and make the curve's plateau: ``1 - S`` at its end is the
    share closed (:attr:`CycleLength.share_closed`), and the curve tells the
    time to close of the deals that close only through its *shape*. The
    median and quantiles reported are those of the deals that close, read
    off that shape; they assume the log is long enough that deals older
    than the longest cycle seen no longer close.

    Beside it, the decks' number: the average cycle of the last 10 or 20
    closed deals (and of all closed deals). Those averages ignore the
    leads still open. When the flow of new leads is steady and the log
    covers many cycles, the most recent closed deals are a fair sample; when
    it is not (a new rep, a campaign, a growing team, a log not much longer
    than the cycle) long cycles have not had time to finish and the
    averages understate the cycle. Ten or twenty deals also make a noisy
    average: compare it with the interval.

    Parameters
    ----------
    log : Log
        A lead-level log with times (events, or leads with dates).
    start, end : str, optional
        Stages the cycle runs between; by default the first and the last.
    last : int or sequence of int, default (10, 20)
        The decks' "last N closed deals" (most recent by close time).
    confidence_level : float, default 0.95
        Of the band and the intervals.

    Returns
    -------
    CycleLength
        Curve (``.survival``), share closed, median and quantiles with
        intervals, the naive averages (``.naive``) and ``.to_frame()``.

    Raises
    ------
    LogError
        A counts log, or a log without times ("counts cannot support
        cycle-length analysis"): read an events log or a leads log with
        dates.
    ValueError
        Unknown stages, ``start`` not before ``end``, no lead at ``start``.

    Examples
    --------
    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.survival import cycle_length
    >>> times = pd.DataFrame({
    ...     "contact": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05",
    ...                                "2024-01-20", "2024-02-01", "2024-02-10"]),
    ...     "signed": pd.to_datetime(["2024-01-11", "2024-01-22", None, "2024-02-09",
    ...                               None, None])}, index=list("abcdef"))
    >>> log = Log("events", ("contact", "signed"), leads=pd.DataFrame(index=times.index),
    ...           reached=times.notna(), times=times, as_of=pd.Timestamp("2024-02-20"))
    >>> cyc = cycle_length(log, last=2)
    >>> cyc
    CycleLength(contact -> signed, as of 2024-02-20: 6 leads, 3 closed, 3 open, 0 skipped)
      share closed (Kaplan-Meier): 72.2% (95% CI 30.0% to 99.0%)
      median cycle of deals that close: 20 days (CI 10 to 20); mean 17.69 days
      last 2 closed (2 deals): mean 20 days, median 20 days
      all closed (3 deals): mean 16.67 days, median 20 days

    Lead c, contacted on 5 January, is still open after 46 days: the average
    of closed deals (16.7 days) leaves it out, the curve keeps it at risk.
    """
    level = check_open_probability("confidence_level", confidence_level)
    clock = log_clock(log, "cycle_length")
    i = 0 if start is None else _stage_index(log, "start", start)
    j = len(log.stages) - 1 if end is None else _stage_index(log, "end", end)
    if i >= j:
        raise FunnelsimValueError(
            "error.stage_order",
            start=log.stages[i],
            end=log.stages[j],
            stages=" -> ".join(log.stages),
        )
    lasts = [last] if isinstance(last, (int, np.integer)) else list(last)
    for n_last in lasts:
        if isinstance(n_last, bool) or not isinstance(n_last, (int, np.integer)) or n_last < 1:
            raise FunnelsimValueError("error.at_least", name="last", minimum=1, value=n_last)
    reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
    durations, observed, skipped = _to_close(log, clock, i, j, reached)
    if not durations.size:
        raise FunnelsimValueError("error.no_leads_at_stage", name=log.name, stage=log.stages[i])
    km = kaplan_meier(durations, observed, confidence_level=level, unit=clock.unit)

    # the decks: closed deals only, most recent first (by close time)
    closed_rows = np.flatnonzero(
        reached[:, i] & reached[:, j] & clock.known[:, i] & clock.known[:, j]
    )
    cycles = clock.elapsed(j, i)[closed_rows]
    order = np.argsort(-clock.values[closed_rows, j], kind="stable")
    cycles = cycles[order]
    naive = [
        {"method": f"last {n} closed", "deals": min(n, cycles.size), "mean": _mean(cycles[:n]),
         "median": _median(cycles[:n])}
        for n in lasts
    ]  # fmt: skip
    naive.append(
        {"method": "all closed", "deals": cycles.size, "mean": _mean(cycles),
         "median": _median(cycles)}
    )  # fmt: skip
    return CycleLength(
        survival=km,
        start=log.stages[i],
        end=log.stages[j],
        as_of=log.as_of if log.as_of is not None else _as_of_label(log, clock),
        leads=int(durations.size),
        closed=int(observed.sum()),
        skipped=skipped,
        naive=pd.DataFrame(naive, columns=["method", "deals", "mean", "median"]),
        unit=clock.unit,
    )


def _as_of_label(log: Log, clock: Clock) -> object:
    if clock.unit == "days":
        return pd.Timestamp(int(clock.as_of))
    return clock.as_of


def _to_close(
    log: Log, clock: Clock, i: int, j: int, reached: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Durations from stage i to stage j (events) or to as_of (censored) for leads at i.

    Returns durations, observed and the number of leads at ``i`` left out
    because a time they need is unknown. Rows are the leads in log order.
    """
    at_start = reached[:, i]
    moved = at_start & reached[:, j]
    event_time = clock.elapsed(j, i)
    open_time = clock.elapsed(None, i)
    usable = at_start & clock.known[:, i] & (~moved | clock.known[:, j])
    d = np.where(moved, event_time, open_time)
    _check_order(log, log.stages[i], log.stages[j], np.where(usable & moved, d, 0.0))
    return d[usable], moved[usable], int(at_start.sum() - usable.sum())


# ---------------------------------------------------------- open leads
@dataclass(frozen=True, repr=False, eq=False)
class OpenLeadRatios:
    """One stage ratio three ways: naive, mature cohort, censored (Kaplan-Meier).

    Attributes
    ----------
    stage, previous : str
        The step ``previous -> stage``.
    window : float
        Age (days or periods since reaching ``previous``) a lead needs to be
        in the mature cohort.
    table : pandas.DataFrame
        The estimates side by side (see :meth:`to_frame`).
    survival : Survival
        Kaplan-Meier curve of the time from ``previous`` to ``stage``; leads
        that have not moved on are censored at ``as_of``.
    unit : str
        "days" or "periods".
    """

    stage: str
    previous: str
    window: float
    table: pd.DataFrame
    survival: Survival
    unit: str

    def _value(self, method: str) -> float:
        return float(self.table.loc[self.table["method"] == method, "ratio"].iloc[0])

    @property
    def naive(self) -> float:
        """Passed / entered, open leads counted as failures."""
        return self._value("naive")

    @property
    def mature(self) -> float:
        """Passed / entered among leads at ``previous`` for at least ``window``."""
        return self._value("mature cohort")

    @property
    def censored(self) -> float:
        """Kaplan-Meier share that moves on by the longest time seen."""
        return self._value("kaplan-meier")

    @property
    def time_to_convert(self) -> float:
        """Median time to move on among the leads that do (Kaplan-Meier)."""
        return self.survival.quantile(0.5, given_event=True)

    def to_frame(self) -> pd.DataFrame:
        """Columns ``stage``, ``method``, ``leads``, ``passed``, ``ratio``, ``low``,
        ``high``, ``difference`` (ratio minus the Kaplan-Meier ratio) and
        ``median_time`` (time to move on among the leads that did: the
        Kaplan-Meier row reads it off the curve, the others average only
        the leads that already moved on)."""
        return self.table.copy()

    def __repr__(self) -> str:
        head = t(
            "repr.open_lead_ratios",
            previous=self.previous,
            stage=self.stage,
            window=self.window,
            unit=unit_label(self.unit),
        )
        text = self.table.drop(columns="stage").to_string(
            index=False, float_format=lambda x: f"{x:.4g}"
        )
        return head + "\n" + text


def open_lead_ratios(
    log: Log,
    stage: str,
    *,
    window: float | str | pd.Timedelta,
    confidence_level: float = 0.95,
    method: str = "wilson",
) -> OpenLeadRatios:
    """The ratio into ``stage``, with open leads treated three ways.

    - **naive**: passed / entered, every lead that has not moved on yet
      counted as a failure. Biased low whenever leads are still open.
    - **mature cohort**: the same, only over leads that reached the previous
      stage at least ``window`` before ``as_of``. Nearly unbiased when
      ``window`` is longer than almost every conversion takes; it throws
      the recent leads away.
    - **kaplan-meier**: the time from the previous stage to ``stage``, with
      leads that have not moved on censored at ``as_of``. ``1 - S`` at the
      last event time estimates the share that moves on eventually (if the
      log is long enough for the curve to have flattened), and the shape of
      the curve gives how long it takes among the leads that do.

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    stage : str
        The stage the ratio leads into (not the first).
    window : float, str or pandas.Timedelta
        Age for the mature cohort, in days (dated logs; "30D" works too) or
        periods.
    confidence_level : float, default 0.95
    method : str, default "wilson"
        Interval for the naive and mature ratios (see
        :func:`funnelsim.intervals.proportion_ci`); the Kaplan-Meier row's
        interval comes from its band.

    Returns
    -------
    OpenLeadRatios

    Examples
    --------
    Six leads reached "meeting"; two moved on to "proposal", one of the others
    only two days before the log was taken:

    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.survival import open_lead_ratios
    >>> times = pd.DataFrame({
    ...     "meeting": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-04",
    ...                                "2024-03-10", "2024-03-25", "2024-03-29"]),
    ...     "proposal": pd.to_datetime(["2024-03-05", None, "2024-03-12", None,
    ...                                 None, None])}, index=list("abcdef"))
    >>> log = Log("events", ("meeting", "proposal"), leads=pd.DataFrame(index=times.index),
    ...           reached=times.notna(), times=times, as_of=pd.Timestamp("2024-03-31"))
    >>> res = open_lead_ratios(log, "proposal", window=14)
    >>> res.to_frame()[["method", "leads", "passed", "ratio", "median_time"]].round(3)
              method  leads  passed  ratio  median_time
    0          naive      6       2  0.333          6.0
    1  mature cohort      4       2  0.500          6.0
    2   kaplan-meier      6       2  0.467          8.0

    The naive ratio counts e and f, at "meeting" for 6 and 2 days, as
    failures; the mature cohort drops them (and d, 21 days) altogether; the
    censored estimate keeps them at risk for as long as they have been open.
    """
    level = check_open_probability("confidence_level", confidence_level)
    clock = log_clock(log, "open_leads")
    k = _stage_index(log, "stage", stage)
    if k == 0:
        raise FunnelsimValueError(
            "error.first_stage_ratio", stage=stage, choices=", ".join(log.stages[1:])
        )
    win = window_in_units(window, clock)
    check_choice("method", method, METHODS)
    reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
    entered = reached[:, k - 1]
    passed = entered & reached[:, k]
    durations, observed, _ = _to_close(log, clock, k - 1, k, reached)
    if not durations.size:
        raise FunnelsimValueError(
            "error.no_leads_at_stage", name=log.name, stage=log.stages[k - 1]
        )
    km = kaplan_meier(durations, observed, confidence_level=level, unit=clock.unit)

    step = clock.elapsed(k, k - 1)
    age = clock.elapsed(None, k - 1)
    mature = entered & clock.known[:, k - 1] & (age >= win)
    rows = []
    for name, mask in (("naive", entered), ("mature cohort", mature)):
        n, m = int(mask.sum()), int((mask & passed).sum())
        ratio, low, high = _ratio_row(m, n, level, method)
        moved = step[mask & passed]
        rows.append((name, n, m, ratio, low, high, _median(moved[np.isfinite(moved)])))
    low, high = km.eventual_share_ci
    rows.append(
        ("kaplan-meier", km.n, km.n_events, km.eventual_share, low, high,
         km.quantile(0.5, given_event=True))
    )  # fmt: skip
    table = pd.DataFrame(
        rows, columns=["method", "leads", "passed", "ratio", "low", "high", "median_time"]
    )
    table.insert(0, "stage", log.stages[k])
    table.insert(7, "difference", table["ratio"] - table["ratio"].iloc[-1])
    return OpenLeadRatios(
        stage=log.stages[k],
        previous=log.stages[k - 1],
        window=win,
        table=table,
        survival=km,
        unit=clock.unit,
    )


# --------------------------------------------------------- time in stage
@dataclass(frozen=True, repr=False, eq=False)
class TimeInStage:
    """Time spent at each stage before moving on, and open leads' time so far.

    Attributes
    ----------
    durations : pandas.DataFrame
        One row per lead and stage: ``lead``, ``stage``, ``status``
        ("moved on": time from this stage to the next; "open": still at this
        stage, time from reaching it to ``as_of``), ``time``.
    summary : pandas.DataFrame
        Per stage and status: ``leads``, ``mean`` and the quantiles.
    unit : str
        "days" or "periods".
    """

    durations: pd.DataFrame
    summary: pd.DataFrame
    unit: str

    def to_frame(self) -> pd.DataFrame:
        """The tidy per-lead table (``durations``), ready for a box plot by stage."""
        return self.durations.copy()

    def __repr__(self) -> str:
        text = self.summary.to_string(index=False, float_format=lambda x: f"{x:.4g}")
        return t("repr.time_in_stage", unit=unit_label(self.unit)) + "\n" + text


def time_in_stage(log: Log, *, quantiles: Sequence[float] = (0.25, 0.5, 0.75, 0.9)) -> TimeInStage:
    """How long leads spend at each stage before moving on to the next.

    For every stage but the last: the leads that moved on (their time from
    this stage to the next) and, separately, the leads still at this stage
    (their time so far, up to ``as_of``). The first are the *finished* stays
    only: when many leads are still open they are the short ones, so read
    them with the second, or use :func:`open_lead_ratios` for an estimate
    that accounts for the open leads.

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    quantiles : sequence of float
        Quantiles to report (columns ``p25``, ``p50``, ...).

    Returns
    -------
    TimeInStage

    Examples
    --------
    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.survival import time_in_stage
    >>> times = pd.DataFrame({
    ...     "call": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-06"]),
    ...     "meeting": pd.to_datetime(["2024-05-03", "2024-05-09", None, None]),
    ...     "sale": pd.to_datetime(["2024-05-13", None, None, None])}, index=list("abcd"))
    >>> log = Log("events", ("call", "meeting", "sale"), leads=pd.DataFrame(index=times.index),
    ...           reached=times.notna(), times=times, as_of=pd.Timestamp("2024-05-16"))
    >>> time_in_stage(log, quantiles=[0.5]).summary
         stage    status  leads  mean   p50
    0     call  moved on      2   4.5   4.5
    1     call      open      2  11.5  11.5
    2  meeting  moved on      1  10.0  10.0
    3  meeting      open      1   7.0   7.0
    """
    clock = log_clock(log, "time_in_stage")
    qs = [check_open_probability("quantiles", q) for q in quantiles]
    reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
    last_reached = np.where(
        reached.any(axis=1), reached.shape[1] - 1 - np.argmax(reached[:, ::-1], axis=1), -1
    )
    parts, rows = [], []
    for k, name in enumerate(log.stages[:-1]):
        moved = reached[:, k] & reached[:, k + 1] & clock.known[:, k] & clock.known[:, k + 1]
        still = (last_reached == k) & clock.known[:, k]
        step = clock.elapsed(k + 1, k)
        _check_order(log, name, log.stages[k + 1], np.where(moved, step, 0.0))
        for status, mask, values in (
            ("moved on", moved, step),
            ("open", still, clock.elapsed(None, k)),
        ):
            x = values[mask]
            parts.append(
                pd.DataFrame(
                    {"lead": log.reached.index[mask], "stage": name, "status": status, "time": x}
                )
            )
            row = {"stage": name, "status": status, "leads": int(x.size), "mean": _mean(x)}
            for q in qs:
                row[f"p{100 * q:g}"] = float(np.quantile(x, q)) if x.size else math.nan
            rows.append(row)
    durations = pd.concat(parts, ignore_index=True)
    return TimeInStage(durations=durations, summary=pd.DataFrame(rows), unit=clock.unit)


# ------------------------------------------------------------ stale leads
def stale_leads(
    log: Log,
    *,
    quantile: float = 0.9,
    age: str = "cycle",
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """Open leads older than a chosen quantile of the cycle.

    The decks demote a lead once it has been open longer than the average
    cycle. The average of closed deals understates the cycle (it leaves out
    the open leads, see :func:`cycle_length`), and even the true average is
    a poor cut-off: cycles are skewed, so many deals that do close take
    longer than the average, and demoting at the average drops live deals.
    A quantile of the Kaplan-Meier curve says what the cut-off means: with
    ``quantile=0.9``, nine in ten of the deals that close have closed by
    the threshold. The ``chance`` column turns a lead's age into its chance
    of still closing, ``(S(age) - S(end)) / S(age)`` from the same curve.

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    quantile : float, default 0.9
        Share of the deals that close which close before the threshold.
    age : {"cycle", "stage"}
        "cycle": age since ``start`` (first contact), against the quantile of
        the cycle ``start -> end``. "stage": time in the lead's current
        stage, against the quantile of the time leads take to move on from
        that stage (Kaplan-Meier, open leads censored).
    start, end : str, optional
        Stages of the cycle, as in :func:`cycle_length`; open leads are
        those that reached ``start`` and not ``end``.

    Returns
    -------
    pandas.DataFrame
        One row per open lead (index ``lead``), oldest first: ``stage`` (the
        last stage reached), ``age``, ``threshold``, ``chance`` (of closing,
        or of moving on with ``age="stage"``), ``stale`` (age > threshold;
        False where the threshold is unknown), then the lead's attributes.

    Examples
    --------
    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.survival import stale_leads
    >>> times = pd.DataFrame({
    ...     "contact": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05",
    ...                                "2024-01-20", "2024-02-01", "2024-02-10"]),
    ...     "signed": pd.to_datetime(["2024-01-11", "2024-01-22", None, "2024-02-09",
    ...                               None, None])}, index=list("abcdef"))
    >>> log = Log("events", ("contact", "signed"), leads=pd.DataFrame(index=times.index),
    ...           reached=times.notna(), times=times, as_of=pd.Timestamp("2024-02-20"))
    >>> stale_leads(log, quantile=0.5).round(3)
            stage   age  threshold  chance  stale
    lead
    c     contact  46.0       20.0   0.000   True
    e     contact  19.0       20.0   0.667  False
    f     contact  10.0       20.0   0.667  False
    """
    q = check_open_probability("quantile", quantile)
    check_choice("age", age, ("cycle", "stage"))
    clock = log_clock(log, "stale_leads")
    cyc = cycle_length(log, start=start, end=end, last=1)
    i, j = log.stages.index(cyc.start), log.stages.index(cyc.end)
    reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
    is_open = reached[:, i] & ~reached[:, j] & clock.known[:, i]
    current = np.where(is_open, reached.shape[1] - 1 - np.argmax(reached[:, ::-1], axis=1), -1)
    n = len(reached)
    ages = np.full(n, np.nan)
    threshold = np.full(n, np.nan)
    chance = np.full(n, np.nan)
    if age == "cycle":
        curves = {i: (cyc.survival, is_open)}
        ages = clock.elapsed(None, i)
    else:
        curves = {}
        for k in np.unique(current[is_open]):
            durations, observed, _ = _to_close(log, clock, k, k + 1, reached)
            rows = is_open & (current == k)
            curves[k] = (kaplan_meier(durations, observed, unit=clock.unit), rows)
            ages[rows] = clock.elapsed(None, k)[rows]
    for curve, rows in curves.values():
        rows = rows & np.isfinite(ages)
        threshold[rows] = curve.quantile(q, given_event=True)
        s_age = np.asarray(curve.survival_at(ages[rows]), dtype=float)
        if not curve.time.size:  # nothing ever closed: the curve cannot say
            continue
        s_end = curve.survival[-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            chance[rows] = np.where(s_age > 0, (s_age - s_end) / s_age, 0.0)
    frame = pd.DataFrame(
        {
            "stage": [log.stages[k] if k >= 0 else None for k in current],
            "age": ages,
            "threshold": threshold,
            "chance": np.clip(chance, 0.0, 1.0),
            "stale": np.nan_to_num(ages, nan=-np.inf) > np.nan_to_num(threshold, nan=np.inf),
        },
        index=log.reached.index,
    )[is_open]
    frame.index.name = "lead"
    extra = (
        [c for c in log.leads.columns if c not in frame.columns] if log.leads is not None else []
    )
    if extra:
        frame = frame.join(log.leads[extra])
    return frame.sort_values("age", ascending=False, kind="stable")
