"""The numbers behind notebook 08 (the manager's dashboard) and its apps.

===========================  ================================================
:func:`call_days`            the days of a call record that have calls
:func:`rep_day`              one rep's day against the rep's average day
:func:`call_times`           when calls get through: best and worst hour
:func:`monthly_history`      a deal history as months, reps and amounts won
:func:`attainment_at`        the team's attainment at a week, and each rep's chance to finish
:func:`time_at_grade`        how long each lead has sat at a grade, open or moved on
===========================  ================================================

The apps in :mod:`funnelsim.widgets.manager` only wire these to controls and
plots; the tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import check_choice, check_count, check_result
from ..calls import Calls
from ..distributions import DealSize
from ..estimate import Fit
from ..estimate import fit as fit_ratios
from ..forecasting import forecast
from ..i18n import FunnelsimTypeError, FunnelsimValueError, t
from ..ladder import Ladder
from ..logs import Log
from ..targets import Attainment, attainment
from .forecast import calls_per_week

__all__ = [
    "CallTimes",
    "RepDay",
    "attainment_at",
    "attainment_weeks",
    "call_days",
    "call_times",
    "monthly_history",
    "rep_day",
    "time_at_grade",
]

#: The KPI columns a :class:`RepDay` compares (those of :meth:`funnelsim.Calls.kpis`).
_DAY_COLUMNS = (
    "dials",
    "connects",
    "connect_rate",
    "low",
    "high",
    "talk_time",
    "mean_talk",
    "effective",
    "leads_touched",
)


def check_calls(calls: object, function: str) -> Calls:
    """``calls`` when it is a :class:`~funnelsim.Calls`; else the plots' type error naming
    ``function``."""
    check_result(calls, (Calls,), function, "funnelsim.read_calls", argument="calls")
    return calls


def _check_rep(calls: Calls, rep: object) -> str:
    return check_choice("rep", rep, tuple(calls.reps))


def call_days(calls: Calls) -> list[pd.Timestamp]:
    """The days on which the record has calls, in order.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import call_days
    >>> days = call_days(fs.datasets.load_calls())
    >>> len(days), days[0].date(), days[-1].date()
    (48, datetime.date(2025, 3, 3), datetime.date(2025, 4, 26))
    """
    calls = check_calls(calls, "call_days")
    days = calls.table["time"].dt.normalize().unique()
    return [pd.Timestamp(d) for d in np.sort(days)]


@dataclass(frozen=True, repr=False, eq=False)
class RepDay:
    """One rep's day of calls next to the rep's average day: from :func:`rep_day`.

    Attributes
    ----------
    rep : str
    day : pandas.Timestamp
    kpis : pandas.DataFrame
        Two rows, ``"day"`` (that day's KPIs, :meth:`funnelsim.Calls.kpis`;
        zeros when the rep made no call) and ``"average"`` (the rep's totals
        over the record divided by the days with calls; rates and the mean
        talk are the record's). Columns ``dials``, ``connects``,
        ``connect_rate``, ``low``, ``high`` (the day's interval; the
        record's on the average row), ``talk_time`` and ``mean_talk``
        (seconds), ``effective``, ``leads_touched``.
    talk : numpy.ndarray
        Seconds of each connected call that day.
    usual_talk : numpy.ndarray
        Seconds of each connected call of the rep over the whole record.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import rep_day
    >>> day = rep_day(fs.datasets.load_calls(), "赵磊", "2025-03-05")
    >>> day  # doctest: +NORMALIZE_WHITESPACE
    RepDay(赵磊 on 2025-03-05: 45 dials, 11 connected, 602 s on the phone;
           average day 40.5 dials, 21% connected)
    >>> day.kpis.loc[:, ["dials", "connects", "effective"]].round(1)
             dials  connects  effective
    day       45.0      11.0        5.0
    average   40.5       8.7        6.1
    """

    rep: str
    day: pd.Timestamp
    kpis: pd.DataFrame
    talk: np.ndarray
    usual_talk: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The talk times, tidy: ``which`` (``"day"`` or ``"average"``: every day) and
        ``seconds``, one row per connected call.

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import rep_day
        >>> frame = rep_day(fs.datasets.load_calls(), "赵磊", "2025-03-05").to_frame()
        >>> frame.groupby("which", sort=False).size().to_dict()
        {'day': 11, 'average': 417}
        """
        return pd.DataFrame(
            {
                "which": ["day"] * len(self.talk) + ["average"] * len(self.usual_talk),
                "seconds": np.concatenate([self.talk, self.usual_talk]),
            }
        )

    def __repr__(self) -> str:
        day, usual = self.kpis.loc["day"], self.kpis.loc["average"]
        return t(
            "repr.rep_day",
            rep=self.rep,
            day=self.day.date().isoformat(),
            dials=int(day["dials"]),
            connects=int(day["connects"]),
            talk=float(day["talk_time"]),
            usual_dials=float(usual["dials"]),
            usual_rate=float(usual["connect_rate"]),
        )


def rep_day(calls: Calls, rep: str, day: object) -> RepDay:
    """One rep's day: dials, connects, talk time, effective calls, next to the average day.

    Parameters
    ----------
    calls : Calls
        From :func:`funnelsim.read_calls`.
    rep : str
        One of ``calls.reps``.
    day : date, str or Timestamp
        The day (its time of day is ignored).

    Returns
    -------
    RepDay

    Examples
    --------
    The day's numbers are those of :meth:`funnelsim.Calls.kpis`:

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import rep_day
    >>> calls = fs.datasets.load_calls()
    >>> day = rep_day(calls, "张伟", "2025-03-04")
    >>> kpis = calls.kpis(period="day")
    >>> kpis = kpis[(kpis["rep"] == "张伟") & (kpis["period"] == pd.Timestamp("2025-03-04"))]
    >>> int(kpis["connects"].iloc[0]), int(day.kpis.loc["day", "connects"])
    (18, 18)
    >>> int(rep_day(calls, "张伟", "2025-03-09").kpis.loc["day", "dials"])  # a Sunday: none
    0
    """
    calls = check_calls(calls, "rep_day")
    rep = _check_rep(calls, rep)
    try:
        when = pd.Timestamp(day).normalize()
    except (TypeError, ValueError):
        raise FunnelsimValueError("error.not_a_date", name="day", value=repr(day)) from None
    table = calls.table
    mine = (table["rep"] == rep).to_numpy()
    days = table["time"].dt.normalize().to_numpy()
    today = mine & (days == when.to_datetime64())
    per_day = calls.kpis(period="day")
    per_day = per_day[per_day["rep"] == rep]
    row = per_day[per_day["period"] == when]
    if len(row):
        day_row = row.iloc[0][list(_DAY_COLUMNS)].astype(float)
    else:
        zeros = dict.fromkeys(_DAY_COLUMNS, 0.0)
        day_row = pd.Series(zeros | {"connect_rate": np.nan, "low": np.nan, "high": np.nan})
        day_row["mean_talk"] = np.nan
    whole = calls.kpis(period=None)
    whole = whole[whole["rep"] == rep].iloc[0]
    n_days = max(len(per_day), 1)
    average = whole[list(_DAY_COLUMNS)].astype(float).copy()
    for column in ("dials", "connects", "talk_time", "effective"):
        average[column] = per_day[column].sum() / n_days
    if "leads_touched" in per_day:
        average["leads_touched"] = per_day["leads_touched"].sum() / n_days
    kpis = pd.DataFrame([day_row, average], index=["day", "average"])
    connected = table["connected"].to_numpy()
    seconds = table["duration"].to_numpy(dtype=float)
    return RepDay(
        rep=rep,
        day=when,
        kpis=kpis,
        talk=seconds[today & connected],
        usual_talk=seconds[mine & connected],
    )


@dataclass(frozen=True, repr=False, eq=False)
class CallTimes:
    """When calls get through, for the team or one rep: from :func:`call_times`.

    Attributes
    ----------
    rep : str or None
        None for the whole team.
    min_calls : int
        Cells with fewer dials are left out of :attr:`best` and :attr:`worst`.
    hours : pandas.DataFrame
        :meth:`funnelsim.Calls.by_hour`: one row per weekday (0 = Monday)
        and hour, ``dials``, ``connects``, ``rate``, ``low``, ``high``,
        ``few``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import call_times
    >>> call_times(fs.datasets.load_calls())
    CallTimes(whole team: 11362 dials, 33% connected; best Thu 11:00, worst Fri 13:00)
    """

    rep: str | None
    min_calls: int
    hours: pd.DataFrame

    @property
    def dials(self) -> int:
        """All dials of the team or the rep."""
        return int(self.hours["dials"].sum())

    @property
    def rate(self) -> float:
        """The connect rate over all those dials (NaN without one)."""
        dials = self.dials
        return float(self.hours["connects"].sum() / dials) if dials else float("nan")

    def _cells(self) -> pd.DataFrame:
        return self.hours[~self.hours["few"] & (self.hours["dials"] > 0)]

    @property
    def best(self) -> pd.Series | None:
        """The weekday and hour with the highest connect rate (of at least
        :attr:`min_calls` dials), or None when no cell has that many.

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import call_times
        >>> best = call_times(fs.datasets.load_calls(), rep="李娜", min_calls=20).best
        >>> int(best["weekday"]), int(best["hour"]), int(best["dials"])
        (5, 11, 22)
        """
        cells = self._cells()
        return None if cells.empty else cells.loc[cells["rate"].idxmax()]

    @property
    def worst(self) -> pd.Series | None:
        """The weekday and hour with the lowest connect rate (of at least
        :attr:`min_calls` dials), or None.

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import call_times
        >>> worst = call_times(fs.datasets.load_calls()).worst
        >>> int(worst["weekday"]), int(worst["hour"])
        (4, 13)
        """
        cells = self._cells()
        return None if cells.empty else cells.loc[cells["rate"].idxmin()]

    def to_frame(self) -> pd.DataFrame:
        """The cells with calls (:attr:`hours` where ``dials > 0``).

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import call_times
        >>> len(call_times(fs.datasets.load_calls()).to_frame())  # 5 x 8 hours + Saturday's 3
        43
        """
        return self.hours[self.hours["dials"] > 0].reset_index(drop=True)

    def __repr__(self) -> str:
        return t(
            "repr.call_times",
            who=self.rep if self.rep is not None else t("app.ct.team"),
            dials=self.dials,
            rate=self.rate,
            best=cell_label(self.best),
            worst=cell_label(self.worst),
        )


def cell_label(cell: pd.Series | None) -> str:
    """A weekday and hour in words (``"Wed 16:00"``), or ``"-"`` for None.

    >>> import pandas as pd
    >>> from funnelsim.lessons.manager import cell_label
    >>> cell_label(pd.Series({"weekday": 2, "hour": 16}))
    'Wed 16:00'
    """
    if cell is None:
        return "-"
    weekday = t(f"plot.calls.weekday.{int(cell['weekday'])}")
    return t("app.ct.cell", weekday=weekday, hour=int(cell["hour"]))


def call_times(calls: Calls, rep: str | None = None, min_calls: int = 30) -> CallTimes:
    """When calls get through: the connect rate by weekday and hour, its best and worst cell.

    Parameters
    ----------
    calls : Calls
    rep : str, optional
        One rep's calls; by default the team's.
    min_calls : int, default 30
        Cells with fewer dials are too few to compare (grey on the heatmap).

    Returns
    -------
    CallTimes

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import call_times
    >>> times = call_times(fs.datasets.load_calls(), rep="赵磊", min_calls=20)
    >>> times.dials, round(times.rate, 3)
    (1943, 0.215)
    """
    calls = check_calls(calls, "call_times")
    if rep is not None:
        rep = _check_rep(calls, rep)
    min_calls = check_count("min_calls", min_calls, minimum=1)
    return CallTimes(rep, min_calls, calls.by_hour(rep=rep, min_calls=min_calls))


def monthly_history(
    history: pd.DataFrame, *, year: int | None = None, won: str = "yes"
) -> pd.DataFrame:
    """A deal history as :func:`funnelsim.split_target` reads it: ``month``, ``rep``, ``amount``.

    Keeps the deals won (``closed == won``), decided in ``year`` (every year
    by default); ``month`` is the month of ``decided`` (1-12), rows sorted by
    month so the months come in calendar order.

    Parameters
    ----------
    history : pandas.DataFrame
        With columns ``rep``, ``amount``, ``closed`` and ``decided`` (as in
        :func:`funnelsim.datasets.load_deal_history`).
    year : int, optional
    won : str, default "yes"
        The ``closed`` value of a deal won.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import monthly_history
    >>> last_year = monthly_history(fs.datasets.load_deal_history(), year=2024)
    >>> len(last_year), last_year["month"].iloc[[0, -1]].tolist(), float(last_year["amount"].sum())
    (243, [1, 12], 13742600.0)
    """
    missing = [c for c in ("rep", "amount", "closed", "decided") if c not in history.columns]
    if missing:
        raise FunnelsimValueError(
            "error.target_history",
            needed="rep, amount, closed, decided",
            columns=", ".join(map(str, history.columns)),
        )
    decided = pd.to_datetime(history["decided"])
    keep = (history["closed"].astype(str) == won).to_numpy()
    if year is not None:
        keep &= (decided.dt.year == year).to_numpy()
    frame = pd.DataFrame(
        {
            "month": decided.dt.month[keep].to_numpy(),
            "rep": history["rep"][keep].to_numpy(),
            "amount": pd.to_numeric(history["amount"][keep]).to_numpy(dtype=float),
        }
    )
    return frame.sort_values("month", kind="stable").reset_index(drop=True)


def time_at_grade(ladder: Ladder, grade: str = "B", as_of: object = None) -> pd.DataFrame:
    """How long each lead that reached ``grade`` sat there: moved on, or still waiting.

    A grade's closing share (:meth:`funnelsim.Ladder.closing_within`) is the
    chance of a lead *fresh* at that grade. The leads sitting at the grade
    today are not fresh: the ones that moved on quickly have left, and those
    that stay have often waited far past the grade's window. This table shows
    how long.

    Parameters
    ----------
    ladder : Ladder
        From :func:`funnelsim.grade_ladder`.
    grade : str, default "B"
        One of the ladder's grades except the last.
    as_of : date, optional
        The day to measure to (default: the history's last date).

    Returns
    -------
    pandas.DataFrame
        One row per lead that reached ``grade`` by ``as_of``: ``lead``,
        ``reached`` (the date), ``moved`` (the date it reached the next grade,
        NaT while it waits), ``days`` (from ``reached`` to ``moved``, or to
        ``as_of`` while it waits) and ``waiting`` (True while it waits).

    Raises
    ------
    FunnelsimValueError
        ``error.ladder_no_dates`` when the grade history has no dates.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import time_at_grade
    >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    >>> ages = time_at_grade(ladder, "B")
    >>> len(ages), int(ages["waiting"].sum()), int(ages.loc[ages["waiting"], "days"].min())
    (116, 51, 88)
    """
    check_result(ladder, (Ladder,), "time_at_grade", "funnelsim.grade_ladder", argument="ladder")
    grade = check_choice("grade", grade, tuple(ladder.grades[:-1]))
    if ladder.dates is None:
        raise FunnelsimValueError("error.ladder_no_dates", what="time_at_grade()")
    if as_of is None:
        grid = ladder.dates[list(ladder.grades)].to_numpy(dtype="datetime64[ns]")
        end = pd.Timestamp(grid[~np.isnat(grid)].max())
    else:
        try:
            end = pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise FunnelsimValueError(
                "error.not_a_date", name="as_of", value=repr(as_of)
            ) from None
    following = ladder.grades[ladder.grades.index(grade) + 1]
    reached = pd.to_datetime(ladder.dates[grade])
    moved = pd.to_datetime(ladder.dates[following])
    keep = (reached <= end).to_numpy()
    moved = moved.where(moved <= end)
    waiting = moved.isna()
    days = (moved.fillna(end) - reached).dt.days
    frame = pd.DataFrame(
        {
            "lead": ladder.dates["lead"],
            "reached": reached,
            "moved": moved,
            "days": days,
            "waiting": waiting,
        }
    )
    return frame[keep].reset_index(drop=True)


#: Weeks in the year of :func:`attainment_at`.
WEEKS_IN_YEAR = 52


def _check_sales_log(log: object, function: str) -> Log:
    if not isinstance(log, Log) or log.times is None or "amount" not in log.leads:
        raise FunnelsimTypeError(
            "error.plot_result",
            function=function,
            argument="log",
            wanted="Log (events, with amount)",
            maker="funnelsim.read_log",
            value=type(log).__name__,
        )
    return log


def attainment_weeks(log: Log) -> tuple[pd.Timestamp, int]:
    """The first day of an events log and its last week: the weeks :func:`attainment_at` takes.

    The year starts on the day of the log's first first-stage event; the last
    week is the one that holds the log's last event (whole weeks, rounded up).

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import attainment_weeks
    >>> start, last = attainment_weeks(fs.datasets.load_events())
    >>> start.date(), last
    (datetime.date(2025, 1, 2), 26)
    """
    log = _check_sales_log(log, "attainment_weeks")
    start = log.times[log.stages[0]].min().normalize()
    end = log.as_of if log.as_of is not None else log.times.max().max()
    weeks = (pd.Timestamp(end) - start) / pd.Timedelta(weeks=1)
    return start, int(min(max(np.ceil(weeks), 1), WEEKS_IN_YEAR - 1))


def attainment_at(
    log: Log,
    yearly: pd.Series | dict,
    week: int,
    *,
    fit: Fit | None = None,
    deal_size: DealSize | float | None = None,
    calls: float | None = None,
    reps: int = 4000,
    rng: np.random.Generator | int | None = None,
) -> Attainment:
    """The team's attainment (达成率) after ``week`` weeks of the year, and each rep's chance
    to finish the year at or above target.

    Sales so far are the amounts of the leads whose last stage (the sale)
    came before the end of week ``week`` (weeks counted from the log's first
    day, :func:`attainment_weeks`), per rep. What is left is one
    :func:`funnelsim.forecast` of ``52 - week`` weeks of a fit by rep, each
    rep at their share of the log's leads times the log's pace; so every
    rep's chance and the team's come from the same futures
    (:func:`funnelsim.attainment`).

    Parameters
    ----------
    log : Log
        An events log with an ``amount`` per lead (:func:`funnelsim.read_log`).
    yearly : Series or mapping
        Each rep's target for the year (e.g. from :func:`funnelsim.split_target`).
    week : int
        Weeks of the year gone, from 1 to the log's last week.
    fit : Fit, optional
        A fit by rep of the log (default: ``fs.fit(log, by="rep", mature=60)``,
        the whole log's ratios: a teaching shortcut at an early week; for a
        strict reading give a fit of the weeks so far).
    deal_size : DealSize or float, optional
        Amount of one deal in the forecast (None: counts deals).
    calls : float, optional
        New leads a week for the team (default: the log's pace,
        :func:`funnelsim.lessons.calls_per_week`, rounded); each rep gets
        their share of the log's leads, rounded.
    reps : int, default 4000
        Replicates of the forecast.
    rng : Generator, int or None

    Returns
    -------
    Attainment
        ``elapsed`` is ``week / 52``; the table has ``p_finish`` per rep and
        for the team.

    Raises
    ------
    FunnelsimValueError
        ``error.attainment_week`` for a week outside the log.

    Examples
    --------
    A quarter into the year on the sample team, each rep's part 600,000:

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import attainment_at
    >>> log = fs.datasets.load_events()
    >>> yearly = dict.fromkeys(["Chen", "Li", "Liu", "Wang", "Zhang", "Zhao"], 600_000)
    >>> att = attainment_at(log, yearly, 13, deal_size=20_000, reps=1000, rng=1)
    >>> att  # doctest: +NORMALIZE_WHITESPACE
    Attainment(6 reps, 25% of the period gone: team 718,460 of 3,600,000 = 20%;
               chance to finish at or above target 44%)
    >>> att.to_frame().set_index("rep")[["actual", "attainment", "p_finish"]].round(2)
             actual  attainment  p_finish
    rep
    Chen    71160.0        0.12      0.48
    Li     177170.0        0.30      0.92
    Liu    106090.0        0.18      0.11
    Wang    34800.0        0.06      0.00
    Zhang  200530.0        0.33      0.90
    Zhao   128710.0        0.21      0.43
    team   718460.0        0.20      0.44
    """
    log = _check_sales_log(log, "attainment_at")
    start, last = attainment_weeks(log)
    if isinstance(week, bool) or not isinstance(week, (int, np.integer)) or not 1 <= week <= last:
        raise FunnelsimValueError(
            "error.attainment_week", value=repr(week), last=last, start=start.date().isoformat()
        )
    week = int(week)
    leads = log.leads
    end = start + pd.Timedelta(weeks=week)
    sold = (log.times[log.stages[-1]] < end).reindex(leads.index, fill_value=False)
    actual = leads["amount"].where(sold.to_numpy()).groupby(leads["rep"]).sum()
    by_rep = fit if fit is not None else fit_ratios(log, by="rep", mature=60)
    pace = round(calls_per_week(log)) if calls is None else calls
    each = (pace * leads["rep"].value_counts(normalize=True)).round().astype(int)
    left = forecast(
        by_rep,
        calls=each.to_dict(),
        periods=WEEKS_IN_YEAR - week,
        reps=reps,
        deal_size=deal_size,
        rng=rng,
    )
    return attainment(actual, yearly, elapsed=week / WEEKS_IN_YEAR, forecast=left)
