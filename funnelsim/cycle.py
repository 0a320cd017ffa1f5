"""The sales cycle of a log: how long deals take, open leads, time in stage, stale leads.

Built on the Kaplan-Meier curve of :mod:`funnelsim.survival`, which treats an
open lead as censored instead of lost (see its conventions):

- :func:`cycle_length`: first contact to close, over open and closed leads,
  beside the decks' averages of closed deals;
- :func:`open_lead_ratios`: one stage ratio three ways (naive, mature cohort,
  censored), side by side;
- :func:`time_in_stage`: how long leads sit at each stage before moving on;
- :func:`stale_leads`: open leads older than a chosen quantile of the cycle.

Times are in days when the log's times are dates and times, in periods when
they are plain numbers (the log's clock, :func:`funnelsim.logs.log_clock`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_choice, check_open_probability, short, type_name
from .i18n import FunnelsimTypeError, FunnelsimValueError, t, table_text, unit_label
from .intervals import CI, METHODS, check_level, proportion_ci
from .logs import Clock, Log, LogError, log_clock, window_in_units
from .survival import Survival, kaplan_meier, level_text, number_text

__all__ = [
    "CycleLength",
    "OpenLeadRatios",
    "TimeInStage",
    "cycle_length",
    "open_lead_ratios",
    "stale_leads",
    "time_in_stage",
]


def _fmt_time(x: object) -> str:
    if isinstance(x, pd.Timestamp) and x == x.normalize():
        return str(x.date())
    return str(x)


def naive_label(method: str) -> str:
    """The label of a naive cycle average ("last 10 closed") in the current language."""
    if method == "all closed":
        return t("repr.cycle_length.all")
    last = re.fullmatch(r"last (\d+) closed", method)
    return t("repr.cycle_length.last", n=int(last.group(1))) if last else method


def _stage_index(log: Log, name: str, stage: object) -> int:
    """The position of ``stage`` (the argument ``name``) in the log's funnel."""
    if not isinstance(stage, str):
        raise FunnelsimTypeError(
            "error.type_text", name=name, value=short(stage), type=type_name(stage)
        )
    if stage not in log.stages:
        raise FunnelsimValueError(
            "error.unknown_stage", name=name, value=repr(stage), choices=", ".join(log.stages)
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

    Examples
    --------
    >>> import funnelsim as fs
    >>> cl = fs.cycle_length(fs.datasets.load_events())
    >>> cl.leads, cl.closed, cl.open, cl.unit
    (6000, 80, 5920, 'days')
    >>> print(f"median {cl.median:.1f} days, {cl.share_closed:.1%} of leads close")
    median 28.6 days, 1.6% of leads close
    >>> cl.naive.round(1)    # the decks' averages of closed deals
               method  deals  mean  median
    0  last 10 closed     10  36.4    33.2
    1  last 20 closed     20  34.1    31.3
    2      all closed     80  30.2    28.0
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
        """Quantiles of the cycle of the deals that close, with intervals.

        >>> import funnelsim as fs
        >>> fs.cycle_length(fs.datasets.load_events()).quantiles([0.5, 0.9]).round(1)
             p  time   low  high
        0  0.5  28.6  26.2  31.1
        1  0.9  55.6  41.9  68.4
        """
        return self.survival.quantiles(p, given_event=True)

    def to_frame(self) -> pd.DataFrame:
        """The estimates side by side, one row per method and statistic.

        Columns ``method`` ("kaplan-meier", "last 10 closed", ..., "all
        closed"), ``statistic`` ("share closed", "median", "mean"),
        ``leads`` (leads or deals it uses), ``value``, ``low``, ``high`` and
        ``difference`` (value minus the Kaplan-Meier value of the same
        statistic: the naive numbers' bias, up to chance).

        >>> import funnelsim as fs
        >>> table = fs.cycle_length(fs.datasets.load_events(), last=10).to_frame()
        >>> table[table["statistic"] == "median"].round(2)
                   method statistic  leads  value    low   high  difference
        1    kaplan-meier    median   6000  28.55  26.17  31.08        0.00
        3  last 10 closed    median     10  33.18    NaN    NaN        4.63
        6      all closed    median     80  27.97    NaN    NaN       -0.58
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
                level=level_text(self.survival.confidence_level),
                low=s_low,
                high=s_high,
            ),
            t(
                "repr.cycle_length.median",
                median=number_text(self.median),
                unit=u,
                low=number_text(low),
                high=number_text(high),
                mean=number_text(self.mean),
            ),
        ]
        for row in self.naive.itertuples(index=False):
            lines.append(
                t(
                    "repr.cycle_length.naive",
                    method=naive_label(row.method),
                    deals=row.deals,
                    mean=number_text(row.mean),
                    median=number_text(row.median),
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
    The sample team's log, taken on 30 June:

    >>> import funnelsim as fs
    >>> from funnelsim.cycle import cycle_length
    >>> cyc = cycle_length(fs.datasets.load_events())
    >>> cyc
    CycleLength(dial -> sale, as of 2025-06-30 18:00:00: 6000 leads, 80 closed,
                5920 open, 0 skipped)
      share closed (Kaplan-Meier): 1.6% (95% CI 1.3% to 2.0%)
      median cycle of deals that close: 28.55 days (CI 26.17 to 31.08); mean 31.42 days
      last 10 closed (10 deals): mean 36.39 days, median 33.18 days
      last 20 closed (20 deals): mean 34.1 days, median 31.33 days
      all closed (80 deals): mean 30.17 days, median 27.97 days

    The true cycle averages 32 days. The decks' average of the last 10
    closed deals rests on ten deals; the curve also keeps the 5,920 open
    leads at risk, each for as long as it has been open.
    """
    level = check_level(confidence_level)
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
    lasts = [last] if isinstance(last, (int, np.integer, str)) or not np.iterable(last) else last
    for n_last in lasts:
        if isinstance(n_last, bool) or not isinstance(n_last, (int, np.integer)):
            raise FunnelsimTypeError(
                "error.type_whole", name="last", value=short(n_last), type=type_name(n_last)
            )
        if n_last < 1:
            raise FunnelsimValueError("error.at_least", name="last", minimum=1, value=n_last)
    if log.engine is not None:  # the engine groups the leads by their time
        grouped, closed = log.engine.cycle_inputs(i, j, int(clock.as_of), clock.scale)
        durations = grouped["ns"].to_numpy(np.int64) / clock.scale
        observed, counts = grouped["observed"].to_numpy(bool), grouped["leads"].to_numpy()
        close, cycles = closed["close"].to_numpy(np.int64), closed["ns"].to_numpy(np.int64)
        cycles, skipped = cycles / clock.scale, 0
    else:
        reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
        durations, observed, skipped = _to_close(log, clock, i, j, reached)
        counts = None
        # the decks: closed deals only
        closed_rows = np.flatnonzero(
            reached[:, i] & reached[:, j] & clock.known[:, i] & clock.known[:, j]
        )
        cycles = clock.elapsed(j, i)[closed_rows]
        close = clock.values[closed_rows, j]
    if not durations.size:
        raise FunnelsimValueError("error.no_leads_at_stage", name=log.name, stage=log.stages[i])
    km = kaplan_meier(durations, observed, confidence_level=level, unit=clock.unit, counts=counts)
    # most recent first (by close time; of deals closed at the same time, the longest
    # first: a rule of the values, so that an engine's rows in any order agree)
    cycles = cycles[np.lexsort((-cycles, -close))]
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
        leads=int(km.n),
        closed=int(observed.sum() if counts is None else counts[observed].sum()),
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

    Examples
    --------
    >>> import funnelsim as fs
    >>> r = fs.open_lead_ratios(fs.datasets.load_events(), "meeting", window=30)
    >>> r.previous, r.stage, r.window
    ('connect', 'meeting', 30.0)
    >>> round(r.naive, 3), round(r.mature, 3), round(r.censored, 3)
    (0.225, 0.234, 0.232)
    >>> round(r.time_to_convert, 1)   # days from connect to meeting, for those who get there
    5.1
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
        the leads that already moved on).

        >>> import funnelsim as fs
        >>> r = fs.open_lead_ratios(fs.datasets.load_events(), "meeting", window=30)
        >>> r.to_frame()[["method", "leads", "passed", "ratio"]].round(3)
                  method  leads  passed  ratio
        0          naive   2831     636  0.225
        1  mature cohort   2386     558  0.234
        2   kaplan-meier   2831     636  0.232
        """
        return self.table.copy()

    def __repr__(self) -> str:
        head = t(
            "repr.open_lead_ratios",
            previous=self.previous,
            stage=self.stage,
            window=self.window,
            unit=unit_label(self.unit),
        )
        text = table_text(
            self.table.drop(columns="stage"), index=False, float_format=lambda x: f"{x:.4g}"
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
    The sample log's sale step: 277 proposals, some made only days before
    the log was taken on 30 June.

    >>> import funnelsim as fs
    >>> from funnelsim.cycle import open_lead_ratios
    >>> res = open_lead_ratios(fs.datasets.load_events(), "sale", window=60)
    >>> res.to_frame()[["method", "leads", "passed", "ratio", "median_time"]].round(3)
              method  leads  passed  ratio  median_time
    0          naive    277      80  0.289       11.026
    1  mature cohort    176      50  0.284       11.464
    2   kaplan-meier    277      80  0.313       11.058

    The naive ratio counts the proposals still waiting for an answer as
    lost; the mature cohort keeps only the 176 proposals at least 60 days
    old; the censored estimate keeps every proposal at risk for as long as
    it has been open.
    """
    level = check_level(confidence_level)
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

    Examples
    --------
    >>> import funnelsim as fs
    >>> tis = fs.time_in_stage(fs.datasets.load_events(), quantiles=[0.5])
    >>> tis.unit
    'days'
    >>> tis.summary.round(1).head(2)
      stage    status  leads  mean   p50
    0  dial  moved on   2831   2.0   1.7
    1  dial      open   3169  87.3  88.1
    """

    durations: pd.DataFrame
    summary: pd.DataFrame
    unit: str

    def to_frame(self) -> pd.DataFrame:
        """The tidy per-lead table (``durations``), ready for a box plot by stage.

        >>> import funnelsim as fs
        >>> fs.time_in_stage(fs.datasets.load_events()).to_frame().round(1).head(3)
             lead stage    status  time
        0  L00001  dial  moved on   1.3
        1  L00003  dial  moved on   1.2
        2  L00005  dial  moved on   1.2
        """
        return self.durations.copy()

    def __repr__(self) -> str:
        text = table_text(self.summary, index=False, float_format=lambda x: f"{x:.4g}")
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
    >>> import funnelsim as fs
    >>> from funnelsim.cycle import time_in_stage
    >>> time_in_stage(fs.datasets.load_events(), quantiles=[0.5]).summary.round(1)
          stage    status  leads  mean   p50
    0      dial  moved on   2831   2.0   1.7
    1      dial      open   3169  87.3  88.1
    2   connect  moved on    636   6.0   5.1
    3   connect      open   2195  88.6  90.3
    4   meeting  moved on    277   9.1   7.8
    5   meeting      open    359  85.6  87.5
    6  proposal  moved on     80  13.0  11.0
    7  proposal      open    197  78.1  74.6

    Leads that move on do so within days; the open ones have sat for about
    three months: most of them never will.
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
    >>> import funnelsim as fs
    >>> from funnelsim.cycle import stale_leads
    >>> stale = stale_leads(fs.datasets.load_events(), quantile=0.9)
    >>> len(stale), int(stale["stale"].sum())           # open leads, stale ones
    (5920, 4043)
    >>> columns = ["stage", "age", "threshold", "chance", "stale"]
    >>> stale.loc[["L06000", "L04491", "L03980"], columns].round(3)
              stage     age  threshold  chance  stale
    lead
    L06000     dial   0.017     55.559   0.016  False
    L04491     dial  46.077     55.559   0.002  False
    L03980     dial  61.085     55.559   0.001   True
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
