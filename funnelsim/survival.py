"""Open leads and the sales cycle: survival curves over open and closed leads.

A lead that reached a stage last week and has not moved on yet is not a
failure: it is *open*. Counting it as a failure (the naive ratio) or leaving it
out of the average cycle (the decks' "average of the last 10 or 20 closed
deals") biases both numbers low. Survival analysis treats an open lead as
*censored*: we know it has been open for so long, and no more.

:func:`kaplan_meier` is the estimator itself: the Kaplan-Meier curve with a
pointwise confidence band, its quantiles and their intervals. The log-level
analyses of :mod:`funnelsim.cycle` (cycle length, open-lead ratios, time in
stage, stale leads) build on it.

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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._moved import moved_names
from ._validate import check_open_probability, number_type_error
from .i18n import FunnelsimValueError, t, table_text, unit_label
from .intervals import CI, check_level, two_sided_z
from .logs import (
    DAY_NS,
)

__all__ = ["Survival", "kaplan_meier"]

# Names that moved elsewhere in the restructure still resolve here, with a warning.
__getattr__ = moved_names(__name__)

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


def log_log_band(
    curve: np.ndarray, se: np.ndarray, confidence_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise band of a survival-type curve on the log(-log) scale (module notes).

    ``curve ** exp(± z se / (curve log curve))``: limits inside [0, 1], NaN
    where the curve is 0 or 1 or its standard error is not a positive number.
    """
    low = np.full(curve.shape, np.nan)
    high = np.full(curve.shape, np.nan)
    ok = (curve > 0) & (curve < 1) & np.isfinite(se) & (se > 0)
    w = two_sided_z(confidence_level) * se[ok] / (curve[ok] * -np.log(curve[ok]))
    low[ok] = curve[ok] ** np.exp(w)
    high[ok] = curve[ok] ** np.exp(-w)
    return low, high


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


def level_text(level: float) -> str:
    return f"{100 * level:.4g}%"


def number_text(x: float) -> str:
    return "nan" if math.isnan(x) else "inf" if math.isinf(x) else f"{x:.4g}"


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

    Examples
    --------
    Eight leads: four closed (after 2, 3, 5 and 9 days), four still open.

    >>> from funnelsim.survival import kaplan_meier
    >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12],
    ...                   [True, True, False, True, False, False, True, False], unit="days")
    >>> km.n, km.n_events, km.max_time
    (8, 4, 12.0)
    >>> km.time.tolist(), km.survival.round(3).tolist()
    ([2.0, 3.0, 5.0, 9.0], [0.875, 0.75, 0.6, 0.3])
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

    def given_event(self) -> tuple[np.ndarray, np.ndarray]:
        """The curve among subjects with the event by the last event time, and its SE.

        ``(S(t) - S(t_last)) / (1 - S(t_last))`` at each event time, with the
        delta-method standard error from Greenwood's covariances (module notes).

        >>> from funnelsim.survival import kaplan_meier
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12],
        ...                   [True, True, False, True, False, False, True, False])
        >>> curve, se = km.given_event()
        >>> curve.round(3).tolist()     # 0 at the last event: every closer has closed
        [0.821, 0.643, 0.429, 0.0]
        """
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

        >>> from funnelsim.survival import kaplan_meier
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12],
        ...                   [True, True, False, True, False, False, True, False])
        >>> km.quantile(0.25), km.quantile(0.5)
        (5.0, 9.0)
        >>> km.quantile(0.5, given_event=True)   # half of the leads that close, close by
        5.0
        """
        p = check_open_probability("p", p)
        if not self.time.size:
            return math.nan
        curve = self.given_event()[0] if given_event else self.survival
        return _first_below(self.time, curve, 1 - p)

    def quantile_ci(self, p: float, *, given_event: bool = False) -> CI:
        """Confidence interval for :meth:`quantile`, at ``confidence_level``.

        The event times at which the band contains ``1 - p`` (statsmodels'
        ``quantile_ci`` convention); ``(nan, nan)`` when there are none.

        >>> from funnelsim.survival import kaplan_meier
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12],
        ...                   [True, True, False, True, False, False, True, False])
        >>> km.quantile_ci(0.25)
        CI(low=2.0, high=9.0)
        """
        p = check_open_probability("p", p)
        if not self.time.size:
            return CI(math.nan, math.nan)
        curve, se = self.given_event() if given_event else (self.survival, self.se)
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
        """Quantiles with their intervals: columns ``p``, ``time``, ``low``, ``high``.

        >>> from funnelsim.survival import kaplan_meier
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12],
        ...                   [True, True, False, True, False, False, True, False])
        >>> km.quantiles([0.25, 0.5])
              p  time  low  high
        0  0.25   5.0  2.0   9.0
        1  0.50   9.0  2.0   inf
        """
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

        >>> from funnelsim.survival import kaplan_meier
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12],
        ...                   [True, True, False, True, False, False, True, False])
        >>> km.to_frame().round(3)
           time  at_risk  events  survival    low   high
        0   2.0        8       1     0.875  0.387  0.981
        1   3.0        7       1     0.750  0.315  0.931
        2   5.0        5       1     0.600  0.195  0.852
        3   9.0        2       1     0.300  0.015  0.709
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
            median=number_text(self.median),
            unit=unit,
            level=level_text(self.confidence_level),
            low=number_text(low),
            high=number_text(high),
        )
        frame = self.to_frame()
        if frame.empty:
            return head + "\n" + t("repr.survival.no_events")
        more = len(frame) - _SHOWN
        text = table_text(frame.head(_SHOWN), index=False, float_format=lambda x: f"{x:.4g}")
        return head + "\n" + text + ("\n" + t("repr.survival.more", n=more) if more > 0 else "")


def kaplan_meier(
    durations: Sequence[float] | np.ndarray,
    observed: Sequence[bool] | np.ndarray,
    *,
    confidence_level: float = 0.95,
    unit: str = "",
    counts: Sequence[int] | np.ndarray | None = None,
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
    counts : array of int, optional
        How many subjects each (duration, observed) pair stands for (a table
        grouped by duration, as an engine returns it): the same estimate as
        the pairs repeated that many times, in memory of the distinct pairs.

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
    level = check_level(confidence_level)
    t_arr = np.asarray(durations)
    if t_arr.dtype.kind == "m":
        t_arr = t_arr.astype("timedelta64[ns]").astype(np.int64) / DAY_NS
        unit = unit or "days"
    try:
        t_arr = np.asarray(t_arr, dtype=float).ravel()
    except (TypeError, ValueError):
        raise number_type_error("durations", durations) from None
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
    if counts is None:
        weight = None
    else:
        weight = np.asarray(counts, dtype=np.int64).ravel()
        if weight.shape != t_arr.shape or (weight < 0).any():
            raise FunnelsimValueError(
                "error.durations_length", n_durations=t_arr.size, n_observed=weight.size
            )
        t_arr, event, weight = t_arr[weight > 0], event[weight > 0], weight[weight > 0]

    utime, inv = np.unique(t_arr, return_inverse=True)
    hits = event if weight is None else event * weight
    d_all = np.bincount(inv, weights=hits, minlength=utime.size).astype(np.int64)
    n_all = np.cumsum(np.bincount(inv, weights=weight, minlength=utime.size)[::-1])[::-1]
    n_all = n_all.astype(np.int64)
    keep = d_all > 0
    time, at_risk, events = utime[keep], n_all[keep], d_all[keep]
    surv = np.cumprod(1.0 - events / at_risk)
    v = _greenwood(at_risk, events)
    finite = np.isfinite(v)
    se = np.full(surv.shape, np.nan)
    se[finite] = surv[finite] * np.sqrt(v[finite])
    low, high = log_log_band(surv, se, level)
    arrays = [time, at_risk, events, surv, se, low, high]
    for a in arrays:
        a.setflags(write=False)
    return Survival(
        *arrays,
        n=int(t_arr.size if weight is None else weight.sum()),
        max_time=float(t_arr.max()),
        confidence_level=level,
        unit=unit,
    )


# --------------------------------------------------------- times of a log


# ------------------------------------------------------------ cycle length


# ---------------------------------------------------------- open leads


# --------------------------------------------------------- time in stage


# ------------------------------------------------------------ stale leads
