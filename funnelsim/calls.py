"""Call activity: a record of call attempts, the day's KPIs per rep, and when to call.

:func:`read_calls` reads a call record (one row per attempt: time, rep,
lead, duration, outcome) with the same rules as :func:`funnelsim.read_log`
(encodings, one :class:`~funnelsim.LogError` naming file, rows, column and
fix, ``errors="drop"`` with a report). :meth:`Calls.kpis` gives the
manager's table per rep and day or week (拨打次数, 接通率 with its interval,
通话时长...) and :meth:`Calls.by_hour` the connect rate by hour and weekday,
which :func:`funnelsim.plotting.plot_call_heatmap` draws.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import logs
from ._columns import (
    CALL_SYNONYMS,
    MissingColumn,
    raise_missing_columns,
    recognise_columns,
    resolve,
)
from ._problems import Problems, lead_ids
from ._reader import (
    ERRORS,
    LogError,
    choice,
    empty_dropped,
    fields,
    label_text,
    labels,
    quote,
    quoted,
    read_source,
)
from ._times import parse_times
from ._validate import check_choice, check_count, check_nonnegative
from .control import PChart
from .control import p_chart as _control_p_chart
from .i18n import FunnelsimValueError, t
from .intervals import METHODS, check_level, interval

__all__ = ["OUTCOMES", "Calls", "parse_durations", "read_calls"]

#: The outcome categories of a call, as identifiers (labels come from the catalogue).
OUTCOMES = ("connected", "no_answer", "busy", "refused", "invalid")
#: What a call-time rate counts (:meth:`Calls.by_hour`): connected, or effective calls.
SUCCESSES = ("connected", "effective")
#: Words a call record uses for each outcome (compared without case, full-width forms,
#: hyphens and underscores: "no-answer" is "no answer"). ``no_answer``: nobody took the
#: call although the number works (phone off, out of the service area, voicemail, a call
#: the network lost); ``busy``: the line was taken; ``refused``: the lead rejected or hung
#: up; ``invalid``: the number cannot be reached by calling again (empty, suspended, in
#: arrears, wrong, blacklisted).
OUTCOME_WORDS: dict[str, tuple[str, ...]] = {
    "connected": ("connected", "answered", "connect", "接通", "已接通", "已接", "通话",
                  "接听", "已接听", "成功", "呼叫成功"),
    "no_answer": ("no_answer", "no answer", "noanswer", "unanswered", "not answered",
                  "voicemail", "voice mail", "answering machine", "unreachable", "failed",
                  "switched off", "powered off", "未接", "未接通", "未接听", "无人接听", "无应答",
                  "未应答", "关机", "已关机", "无法接通", "暂时无法接通", "不在服务区", "呼损",
                  "振铃未接", "呼叫失败", "失败", "未通"),
    "busy": ("busy", "line busy", "user busy", "占线", "忙", "忙线", "用户忙", "正在通话中",
             "通话中"),
    "refused": ("refused", "rejected", "declined", "hung up", "hangup", "拒接", "挂断", "拒绝",
                "拒听", "用户拒接", "客户挂断"),
    "invalid": ("invalid", "wrong number", "invalid number", "disconnected",
                "number disconnected", "空号", "停机", "已停机", "错号", "号码错误", "无效号码",
                "号码不存在", "欠费", "黑名单"),
}  # fmt: skip


def _word_key(word: object) -> str:
    """An outcome word as it is compared: no case, full-width forms as ASCII, hyphens and
    underscores as spaces, one space between words."""
    text = unicodedata.normalize("NFKC", str(word)).casefold()
    return " ".join(text.replace("-", " ").replace("_", " ").split())


_WORD_OUTCOME = {_word_key(w): k for k, words in OUTCOME_WORDS.items() for w in words}
#: The words an error about an unknown outcome suggests: each identifier and its Chinese word.
_SHOWN_WORDS = ("connected", "接通", "no answer", "未接", "busy", "占线", "refused", "拒接",
                "invalid", "空号")  # fmt: skip
_CALL_FIELDS = ("time", "rep", "lead", "duration", "outcome")
_PERIODS = ("day", "week")
#: What each field of a call record holds, for a missing column's message.
_FIELD_WHAT = {f: f"calls.field.{f}" for f in _CALL_FIELDS}
#: Names of a column of counts of calls per interval (a call-volume table, not a record).
_COUNT_NAMES = ("calls", "dials", "call volume", "volume", "count", "n", "拨打次数", "呼叫量",
                "通话量", "来电量", "呼叫次数", "话务量", "次数", "数量")  # fmt: skip
#: Durations written with units: 1小时2分, 3分25秒, 125s, 2 min 5 sec...
_UNIT_DURATION = (
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*(?:小时|时|h|hr|hrs|hour|hours))?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:分钟|分|m|min|mins|minute|minutes))?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:秒钟|秒|s|sec|secs|second|seconds))?$"
)
_CLOCK = r"^(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d{1,2}(?:\.\d+)?)$"


def parse_durations(values: Sequence[object] | pd.Series) -> np.ndarray:
    """Durations in seconds: NaN where empty or not a length of time.

    Reads plain seconds (``125``, ``125.5``), ``mm:ss``, ``hh:mm:ss``,
    words with units (``3分25秒``, ``1小时2分``, ``125s``, ``2 min 5 s``), and
    durations stored as such (Excel time cells, pandas timedeltas).
    Each distinct text is parsed once, so a long record of repeated values
    is quick. Negative numbers are NaN.

    Parameters
    ----------
    values : sequence or pandas.Series

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> from funnelsim.calls import parse_durations
    >>> parse_durations(["125", "2:05", "0:02:05", "2分5秒", "1小时2分", "125s", "", "x"])
    array([ 125.,  125.,  125.,  125., 3720.,  125.,   nan,   nan])
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_timedelta64_dtype(series.dtype):  # durations stored as durations
        out = series.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        return np.where(out >= 0, out, np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    ):
        out = series.to_numpy(dtype=float, na_value=np.nan)
        return np.where(out >= 0, out, np.nan)
    codes, names = labels(series)
    found = _parse_texts(pd.Series(names, dtype=object).astype(str))
    out = np.full(len(codes), np.nan)
    has = codes >= 0
    out[has] = found[codes[has]]
    return out


def _parse_texts(text: pd.Series) -> np.ndarray:
    """Distinct duration texts (stripped) as seconds (NaN when unreadable)."""
    if text.empty:
        return np.array([], dtype=float)
    low = text.str.strip().str.lower()
    out = pd.to_numeric(low, errors="coerce").to_numpy(dtype=float)
    for pattern in (_CLOCK, _UNIT_DURATION):
        rest = np.isnan(out)
        if not rest.any():
            break
        parts = low[rest].str.extract(pattern)
        h, m, s = (pd.to_numeric(parts[k], errors="coerce") for k in ("h", "m", "s"))
        seen = (h.notna() | m.notna() | s.notna()).to_numpy()
        if pattern == _CLOCK:  # minutes and seconds of a clock stay below 60 after hours
            seen &= ~(h.notna() & (m >= 60)).to_numpy() & (s < 60).fillna(True).to_numpy()
        total = (h.fillna(0) * 3600 + m.fillna(0) * 60 + s.fillna(0)).to_numpy(dtype=float)
        idx = np.flatnonzero(rest)
        out[idx[seen]] = total[seen]
    return np.where(out >= 0, out, np.nan)


@dataclass(frozen=True, repr=False, eq=False)
class Calls:
    """A call record, one row per attempt, from :func:`read_calls`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per call: ``time``, ``rep``, ``lead`` (categorical; ``lead``
        only when the record has one), ``duration`` (seconds, NaN without
        durations), ``outcome`` (one of :data:`OUTCOMES`, or missing without
        outcomes), ``connected`` (bool) and the record's other columns.
    effective : float
        Seconds a connected call lasts at least to count as effective.
    name : str
    dropped : pandas.DataFrame
        Rows left out with ``errors="drop"``: ``row``, ``column``, ``reason``
        (from a Parquet folder of several files, also ``file`` and ``file_row``).
    columns_used : mapping
        The record's column for each field it has, such as
        ``{"time": "开始时间", "rep": "坐席工号"}``.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> record = pd.DataFrame({
    ...     "time": ["2025-03-03 09:10", "2025-03-03 09:20", "2025-03-03 10:05",
    ...              "2025-03-04 14:00"],
    ...     "rep": ["Li", "Li", "Wang", "Li"],
    ...     "lead": ["L1", "L2", "L3", "L1"],
    ...     "duration": ["0", "3分25秒", "0:45", "00:00:12"],
    ...     "outcome": ["未接", "接通", "接通", "connected"]})
    >>> calls = fs.read_calls(record)
    >>> calls
    Calls(DataFrame: 4 calls by 2 reps to 3 leads, 3 connected (75%), 2025-03-03 to 2025-03-04)
    >>> calls.table[["rep", "duration", "outcome", "connected"]]
        rep  duration    outcome  connected
    0    Li       0.0  no_answer      False
    1    Li     205.0  connected       True
    2  Wang      45.0  connected       True
    3    Li      12.0  connected       True
    """

    table: pd.DataFrame
    effective: float = 30.0
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=empty_dropped)
    #: The record's column for each field it has (``{"time": "开始时间", ...}``).
    columns_used: Mapping[str, str] = field(default_factory=dict)

    @property
    def reps(self) -> list[str]:
        """The reps, as the record writes them, in order of first appearance.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00"] * 2, "rep": ["B", "A"],
        ...                             "duration": [10, 0]})).reps
        ['B', 'A']
        """
        return [str(r) for r in self.table["rep"].cat.categories]

    def kpis(
        self,
        by: str | Sequence[str] = ("rep",),
        period: str | None = "day",
        *,
        confidence_level: float = 0.95,
        method: str = "wilson",
    ) -> pd.DataFrame:
        """The manager's activity table: one row per group (rep and day by default).

        Parameters
        ----------
        by : str or sequence of str, default ("rep",)
            Columns of :attr:`table` to group by (``"rep"``, ``"lead"`` or
            another column of the record, such as a team); ``()`` for the
            whole team.
        period : "day", "week", "all" or None, default "day"
            Also group by the day, or by the week (named by its Monday), of
            the call's time; ``"all"`` (as ``funnelsim kpi --period all``) or
            None: one row per group over the whole record, without a
            ``period`` column.
        confidence_level, method
            Of the connect rate's interval (:func:`funnelsim.proportion_ci`).

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns, ``period`` (with a period), then ``dials``
            (calls made), ``connects``, ``connect_rate``, ``low``, ``high``,
            ``talk_time`` (seconds on connected calls), ``mean_talk``
            (seconds per connect, over the connects with a duration: one
            left empty is not a call of 0 seconds), ``effective``
            (connected calls of at least :attr:`effective` seconds),
            ``dials_per_connect`` (NaN without a
            connect) and ``leads_touched`` (distinct leads called; with a
            ``lead`` column).

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> record = pd.DataFrame({
        ...     "time": ["2025-03-03 09:10", "2025-03-03 09:20", "2025-03-03 10:05",
        ...              "2025-03-04 14:00"],
        ...     "rep": ["Li", "Li", "Wang", "Li"], "lead": ["L1", "L2", "L3", "L1"],
        ...     "duration": [0, 205, 45, 12]})
        >>> kpis = fs.read_calls(record).kpis(period="all")
        >>> kpis[["rep", "dials", "connects", "talk_time", "mean_talk", "effective",
        ...       "leads_touched"]]
            rep  dials  connects  talk_time  mean_talk  effective  leads_touched
        0    Li      3         2      217.0      108.5          1              2
        1  Wang      1         1       45.0       45.0          1              1
        >>> kpis[["connect_rate", "low", "high"]].round(3)
           connect_rate    low   high
        0         0.667  0.208  0.939
        1         1.000  0.207  1.000
        """
        level = check_level(confidence_level)
        method = check_choice("method", method, METHODS)
        keys = self._keys(by)
        frame = self.table
        cols = {k: frame[k] for k in keys}
        if period is not None and choice("period", period, (*_PERIODS, "all")) != "all":
            cols["period"] = _period_start(frame["time"].to_numpy(), period)
        connected = frame["connected"].to_numpy()
        duration = frame["duration"].to_numpy(dtype=float)
        timed = connected & ~np.isnan(duration)
        talk = np.where(timed, duration, 0.0)
        work = pd.DataFrame(
            {
                **cols,
                "_dial": np.ones(len(frame), dtype=np.int64),
                "_connect": connected.astype(np.int64),
                "_talk": talk,
                "_timed": timed.astype(np.int64),
                "_effective": (connected & (duration >= self.effective)).astype(np.int64),
            }
        )
        group_keys = list(cols)
        if not group_keys:
            work["_all"] = 0
            group_keys = ["_all"]
        grouped = work.groupby(group_keys, sort=True, observed=True)
        out = grouped[["_dial", "_connect", "_talk", "_effective", "_timed"]].sum()
        out.columns = ["dials", "connects", "talk_time", "effective", "_timed"]
        if "lead" in frame:
            pairs = work[group_keys].assign(_lead=frame["lead"].cat.codes.to_numpy())
            pairs = pairs[pairs["_lead"] >= 0].drop_duplicates()
            touched = pairs.groupby(group_keys, sort=True, observed=True).size()
            out["leads_touched"] = touched.reindex(out.index, fill_value=0).astype(np.int64)
        out = out.reset_index()
        if "_all" in out:
            out = out.drop(columns="_all")
        dials = out["dials"].to_numpy(dtype=float)
        connects = out["connects"].to_numpy(dtype=float)
        timed_connects = out["_timed"].to_numpy(dtype=float)
        low, high = interval(connects, dials, level, method)
        has_duration = bool(frame["duration"].notna().any())
        talk_time = out["talk_time"] if has_duration else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            result = {
                "dials": out["dials"],
                "connects": out["connects"],
                "connect_rate": connects / dials,
                "low": low,
                "high": high,
                "talk_time": talk_time,
                "mean_talk": np.where(timed_connects > 0, talk_time / timed_connects, np.nan),
                "effective": out["effective"] if has_duration else np.nan,
                "dials_per_connect": np.where(connects > 0, dials / connects, np.nan),
            }
        table = out[[c for c in out.columns if c in cols]].assign(**result)
        if "leads_touched" in out:
            table["leads_touched"] = out["leads_touched"]
        return table

    def by_hour(
        self,
        *,
        rep: str | None = None,
        min_calls: int = 30,
        confidence_level: float = 0.95,
        method: str = "wilson",
        success: str = "connected",
    ) -> pd.DataFrame:
        """The connect rate by weekday and hour of the day: when to call.

        Parameters
        ----------
        rep : str, optional
            One rep's calls (as the record writes the name); by default all.
        success : "connected" or "effective", default "connected"
            What ``rate`` counts: connected calls, or effective ones
            (connected and at least :attr:`effective` seconds long: a
            conversation, not a hang-up), each over the dials.
        min_calls : int, default 30
            A cell with fewer calls is flagged ``few`` and its rate (and
            interval) left NaN: too few calls to tell one hour from another.
        confidence_level, method
            Of the rate's interval (:func:`funnelsim.proportion_ci`).

        Returns
        -------
        pandas.DataFrame
            168 rows, one per ``weekday`` (0 for Monday ... 6 for Sunday) and
            ``hour`` (0-23): ``dials``, ``connects``, ``effective`` (NaN
            without durations), ``rate`` (of ``success`` over dials),
            ``low``, ``high``, ``few``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> record = pd.DataFrame({"time": ["2025-03-03 09:10"] * 40 + ["2025-03-04 14:30"] * 5,
        ...                        "duration": [60] * 10 + [0] * 30 + [20] * 5})
        >>> hours = fs.read_calls(record).by_hour()
        >>> hours.loc[hours["dials"] > 0, ["weekday", "hour", "dials", "connects", "rate", "few"]]
            weekday  hour  dials  connects  rate    few
        9         0     9     40        10  0.25  False
        38        1    14      5         5   NaN   True

        The share of dials that became a conversation of 30 s or more (the 20 s
        calls on Tuesday connected, but were not effective):

        >>> effective = fs.read_calls(record).by_hour(success="effective", min_calls=5)
        >>> effective.loc[effective["dials"] > 0, ["dials", "connects", "effective", "rate"]]
            dials  connects  effective  rate
        9      40        10       10.0  0.25
        38      5         5        0.0  0.00
        """
        success = check_choice("success", success, SUCCESSES)
        level = check_level(confidence_level)
        method = check_choice("method", method, METHODS)
        minimum = check_count("min_calls", min_calls, minimum=1)
        frame = self.table
        if rep is not None:
            if rep not in self.reps:
                raise FunnelsimValueError(
                    "calls.error.rep", value=repr(rep), choices=", ".join(map(quote, self.reps))
                )
            frame = frame[(frame["rep"] == rep).to_numpy()]
        times = frame["time"].to_numpy()
        days = times.astype("datetime64[D]").astype(np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        hour = (times - times.astype("datetime64[D]")).astype("timedelta64[h]").astype(np.int64)
        cell = weekday * 24 + hour
        dials = np.bincount(cell, minlength=168)
        connected = frame["connected"].to_numpy()
        connects = np.bincount(cell, weights=connected, minlength=168).astype(np.int64)
        duration = frame["duration"].to_numpy(dtype=float)
        timed = bool(len(duration)) and not np.isnan(duration).all()
        effective = np.full(168, np.nan)
        if timed:
            effective = np.bincount(
                cell, weights=connected & (duration >= self.effective), minlength=168
            )
        elif success == "effective":
            raise FunnelsimValueError("calls.error.no_durations", name=self.name)
        hits = connects if success == "connected" else effective.astype(np.int64)
        few = dials < minimum
        rate = np.full(168, np.nan)
        low = np.full(168, np.nan)
        high = np.full(168, np.nan)
        ok = ~few
        rate[ok] = hits[ok] / dials[ok]
        low[ok], high[ok] = interval(
            hits[ok].astype(float), dials[ok].astype(float), level, method
        )
        grid = np.arange(168)
        return pd.DataFrame(
            {
                "weekday": grid // 24,
                "hour": grid % 24,
                "dials": dials.astype(np.int64),
                "connects": connects,
                "effective": effective,
                "rate": rate,
                "low": low,
                "high": high,
                "few": few,
            }
        )

    def p_chart(
        self,
        period: str = "week",
        by: str | Sequence[str] | None = None,
        *,
        sigmas: float = 3.0,
        centre: float | None = None,
        method: str = "classic",
    ) -> PChart:
        """The connect rate period by period against control limits: a p-chart of the calls.

        Each period's dials and connects (as :meth:`kpis` counts them) go to
        :func:`funnelsim.control.p_chart` as the step ``"connects"``: the
        centre line is the pooled connect rate ``p`` (per group with
        ``by=``), a period with ``n`` dials has limits ``p ± sigmas * sqrt(p
        (1 - p) / n)``, and a period outside them is flagged: something
        changed that week (a new list, a rep away). Draw it with
        :func:`funnelsim.plotting.plot_p_chart`.

        Parameters
        ----------
        period : "day" or "week", default "week"
            The periods charted (a week is named by its Monday).
        by : str or sequence of str, optional
            One chart per group (``"rep"``, or another column of the record).
        sigmas, centre, method
            As in :func:`funnelsim.control.p_chart` (``method="laney"`` for
            Laney's p' chart).

        Returns
        -------
        PChart
            ``stages == ("connects",)``, ``period == "period"``; its table's
            ``entered`` are the dials and ``passed`` the connects.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> rng = np.random.default_rng(7)
        >>> days = pd.Timestamp("2025-03-03") + pd.to_timedelta(rng.integers(0, 28, 2000), "D")
        >>> rate = np.where(days >= pd.Timestamp("2025-03-24"), 0.15, 0.3)  # a bad last week
        >>> calls = fs.read_calls(pd.DataFrame({
        ...     "time": days + pd.Timedelta(hours=10),
        ...     "duration": np.where(rng.random(2000) < rate, 60, 0)}))
        >>> chart = calls.p_chart()
        >>> chart.to_frame()[["period", "entered", "passed", "signal"]]
              period  entered  passed signal
        0 2025-03-03      484     151
        1 2025-03-10      506     136
        2 2025-03-17      477     149
        3 2025-03-24      533      80  below
        >>> chart.flagged[["period", "ratio", "low"]].round(3)
              period  ratio    low
        0 2025-03-24   0.15  0.201
        """
        choice("period", period, _PERIODS)
        keys = [] if by is None else self._keys(by)
        counts = self.kpis(by=keys, period=period)
        table = counts[[*keys, "period"]].assign(
            stage="connects", entered=counts["dials"], passed=counts["connects"]
        )
        for key in keys:  # plain values: one chart per group that called
            if isinstance(table[key].dtype, pd.CategoricalDtype):
                table[key] = table[key].astype(object)
        return _control_p_chart(
            table, stage="connects", period="period", by=keys or None, sigmas=sigmas,
            centre=centre, method=method,
        )  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`: one row per call.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00"], "outcome": ["占线"]})
        ...               ).to_frame()[["time", "outcome", "connected"]]
                         time outcome  connected
        0 2025-03-03 09:00:00    busy      False
        """
        return self.table.copy()

    def _keys(self, by: str | Sequence[str]) -> list[str]:
        keys = [by] if isinstance(by, str) else list(by)
        usable = [c for c in self.table.columns if c not in ("time", "duration", "connected")]
        for key in keys:
            if key not in usable:
                raise FunnelsimValueError(
                    "calls.error.by", value=repr(key), choices=", ".join(map(quote, usable))
                )
        return keys

    def __repr__(self) -> str:
        table = self.table
        n = len(table)
        connects = int(table["connected"].sum())
        times = table["time"]
        start, end = (f"{times.min():%Y-%m-%d}", f"{times.max():%Y-%m-%d}") if n else ("-", "-")
        return t(
            "repr.calls" if "lead" in table else "repr.calls_no_lead",
            start=start,
            end=end,
            name=self.name,
            calls=n,
            reps=table["rep"].nunique(),
            leads=table["lead"].nunique() if "lead" in table else 0,
            connects=connects,
            share=f"{connects / n:.0%}" if n else "-",
        )


def _period_start(times: np.ndarray, period: str) -> np.ndarray:
    """The day of each time, or the Monday of its week (datetime64[ns])."""
    days = times.astype("datetime64[D]")
    if period == "week":
        days = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    return days.astype("datetime64[ns]")


def read_calls(
    source: str | os.PathLike | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    errors: str = "raise",
    effective: float = 30,
    outcomes: Mapping[str, str] | None = None,
) -> Calls:
    """Read a call record: one row per call attempt.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A CSV (UTF-8, GB18030, UTF-16), Excel or Parquet file, or a
        DataFrame, with the fields ``time`` (required), ``rep``, ``lead``,
        ``duration`` and ``outcome`` (at least one of these two). Columns
        are found by these names, by the names dialler exports use (开始时间,
        拨打时间, 坐席工号, 被叫号码, 通话时长(秒), 呼叫状态, start time, agent,
        callee, duration (s), call status...; compared without case, with
        full-width brackets read as plain ones and a unit of seconds in
        brackets left out), or as ``columns=`` names them; other columns are
        kept (to group the KPIs by, such as a team). A record needs one row
        per call: a table of counts of calls per interval is refused.
    columns : mapping, optional
        The file's column for each field, such as
        ``dict(duration="talk secs")``.
    encoding, delimiter, sheet
        As in :func:`funnelsim.read_log`.
    errors : "raise" or "drop", default "raise"
        Every invalid cell (a time, duration or outcome that cannot be read,
        an empty rep or lead) is listed in one :class:`~funnelsim.LogError`
        naming the file, rows and column and the fix; with ``"drop"`` the
        invalid rows are left out and listed in :attr:`Calls.dropped`.
    effective : float, default 30
        Seconds a connected call must last to count as effective.
    outcomes : mapping, optional
        The class of outcome words the kit does not know, such as
        ``{"转人工": "connected", "已过滤": "invalid"}``: each class one of
        :data:`OUTCOMES`. A word given here overrides the kit's own.

    Returns
    -------
    Calls

    Notes
    -----
    Durations are seconds, ``mm:ss``, ``hh:mm:ss`` or words with units
    (``3分25秒``, ``1小时2分``, ``125s``; :func:`parse_durations`). Outcomes
    are read as one of :data:`OUTCOMES` from their English or Chinese words
    (接通, 未接, 关机, 占线, 拒接, 空号, voicemail...; :data:`OUTCOME_WORDS`;
    others with ``outcomes=``). A call is
    connected when its outcome is ``connected``; a record without outcomes
    counts a call with a duration above zero as connected. Without a
    ``rep`` column every call is the rep ``"team"``'s.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> record = pd.DataFrame({"拨打时间": ["2025-03-03 09:10", "2025-03-03 09:12"],
    ...                        "坐席": ["Li", "Li"], "通话时长": ["0", "1:05"],
    ...                        "呼叫结果": ["无人接听", "已接通"]})
    >>> fs.read_calls(record).kpis()[["rep", "period", "dials", "connects", "talk_time"]]
      rep     period  dials  connects  talk_time
    0  Li 2025-03-03      2         1       65.0
    >>> bad = record.assign(通话时长=["0", "ten"])
    >>> try:
    ...     fs.read_calls(bad)
    ... except fs.LogError as err:
    ...     print(err.key, err.values["problems"][0].rows, err.values["problems"][0].column)
    pipeline.error.title (3,) 通话时长
    >>> fs.read_calls(bad, errors="drop").dropped
       row column                                      reason
    0    3   通话时长  the duration 'ten' is not a length of time

    A word the kit does not know is given its class with ``outcomes=``:

    >>> fs.read_calls(record.assign(呼叫结果=["转人工", "已接通"]),
    ...               outcomes={"转人工": "connected"}).table["outcome"].tolist()
    ['connected', 'connected']
    """
    mode = choice("errors", errors, ERRORS)
    threshold = check_nonnegative("effective", effective)
    given = fields(columns, _CALL_FIELDS, "call record")
    words = _outcome_map(outcomes)
    src = read_source(source, encoding=encoding, delimiter=delimiter, sheet=sheet)
    given = recognise_columns(src, _CALL_FIELDS, given, synonyms=CALL_SYNONYMS)
    try:
        cols = resolve(
            src, _CALL_FIELDS, given, ("time",), one_of=("duration", "outcome"),
            field_reason="calls.error.missing_field", either_reason="calls.error.missing_either",
            describe={f: t(k) for f, k in _FIELD_WHAT.items()},
        )  # fmt: skip
    except LogError as err:
        _raise_if_counts(src, err)
        raise
    frame = src.frame
    problems = Problems(src)
    times, empty, text = parse_times(frame[cols["time"]])
    problems.add(empty, cols["time"], "log.reason.no_date", None, "log.fix.bad_date")
    problems.add(
        ~empty & np.isnat(times),
        cols["time"],
        "log.reason.bad_date",
        quoted(text),
        "log.fix.bad_date",
    )
    if "rep" in cols:
        rep_code, rep_names = labels(frame[cols["rep"]])
        problems.add(rep_code < 0, cols["rep"], "calls.reason.no_rep", None, "calls.fix.no_rep")
    if "lead" in cols:
        lead_code, lead_names = lead_ids(problems, frame, cols["lead"])
    duration = np.full(len(frame), np.nan)
    if "duration" in cols:
        cells = frame[cols["duration"]]
        duration, bad = _read_durations(cells)
        problems.add(
            bad,
            cols["duration"],
            "calls.reason.bad_duration",
            lambda p: {"value": quote(str(cells.iloc[p]).strip())},
            "calls.fix.duration",
        )
    outcome = None
    if "outcome" in cols:
        outcome = _read_outcomes(problems, frame, cols["outcome"], words)
    keep = ~problems.mask()
    problems.finish(mode, keep, what=t("pipeline.what.calls"))
    rows = np.flatnonzero(keep)
    table = pd.DataFrame({"time": times[rows]})
    if "rep" in cols:
        table["rep"] = pd.Categorical.from_codes(rep_code[rows], categories=rep_names)
    else:
        table["rep"] = pd.Categorical(np.full(len(rows), "team", dtype=object))
    if "lead" in cols:
        table["lead"] = pd.Categorical.from_codes(lead_code[rows], categories=lead_names)
    table["duration"] = duration[rows]
    if outcome is not None:
        table["outcome"] = pd.Categorical.from_codes(outcome[rows], categories=list(OUTCOMES))
        table["connected"] = outcome[rows] == 0
    else:
        table["outcome"] = pd.Categorical.from_codes(
            np.full(len(rows), -1), categories=list(OUTCOMES)
        )
        table["connected"] = duration[rows] > 0
    for column in frame.columns:
        if column not in cols.taken and column not in table:
            table[column] = frame[column].to_numpy()[rows]
    return Calls(table, threshold, src.name, problems.dropped(), dict(cols))


def _read_durations(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds (NaN where empty), and which non-empty cells are not a length of time."""
    seconds = parse_durations(series)
    if pd.api.types.is_numeric_dtype(series.dtype):
        empty = series.isna().to_numpy()
    else:
        empty = labels(series)[0] < 0
    return seconds, ~empty & np.isnan(seconds)


def _outcome_map(outcomes: Mapping[str, str] | None) -> dict[str, str]:
    """The kit's outcome words with the user's (``outcomes=``) on top, as compared."""
    if outcomes is None:
        return _WORD_OUTCOME
    if not isinstance(outcomes, Mapping):
        raise FunnelsimValueError(
            "calls.error.outcomes", value=repr(outcomes), example='{"关机": "no_answer"}'
        )
    words = dict(_WORD_OUTCOME)
    for word, kind in outcomes.items():
        if kind not in OUTCOMES or not _word_key(word):
            raise FunnelsimValueError(
                "calls.error.outcome_class", word=repr(word), value=repr(kind),
                choices=", ".join(OUTCOMES),
            )  # fmt: skip
        words[_word_key(word)] = kind
    return words


def _read_outcomes(
    problems: Problems, frame: pd.DataFrame, column: str, words: Mapping[str, str]
) -> np.ndarray:
    """Each row's outcome as its position in :data:`OUTCOMES` (-1 when empty or unknown:
    a problem whose fix tells how to map the word)."""
    index = {k: i for i, k in enumerate(OUTCOMES)}
    codes, found = labels(frame[column])
    known = np.array([index.get(words.get(_word_key(w), ""), -1) for w in found], np.int64)
    value = np.full(len(codes), -1, dtype=np.int64)
    value[codes >= 0] = known[codes[codes >= 0]]
    shown = ", ".join(quote(w) for w in _SHOWN_WORDS)
    problems.add(codes < 0, column, "calls.reason.no_outcome", None, "calls.fix.outcome",
                 choices=shown)  # fmt: skip
    unknown = (codes >= 0) & (value < 0)
    example = str(found[codes[np.flatnonzero(unknown)[0]]]).strip() if unknown.any() else ""
    problems.add(
        unknown, column, "calls.reason.unknown_outcome", quoted(label_text(codes, found)),
        "calls.fix.unknown_outcome", choices=shown, word=example, classes=", ".join(OUTCOMES),
    )  # fmt: skip
    return value


def _raise_if_counts(src, err: LogError) -> None:
    """A table of counts of calls per interval (a time and a column of whole numbers named
    like "Calls"): the missing-columns error says that a record has one row per call, and
    suggests that column for no field."""
    if err.key != "log.error.missing_columns":
        return
    frame = src.frame
    names = {_word_key(n) for n in _COUNT_NAMES}
    for column in frame.columns:
        if _word_key(column) not in names:
            continue
        numbers = pd.to_numeric(frame[column], errors="coerce")
        whole = bool(numbers.notna().all() and (numbers % 1 == 0).all())
        if len(frame) and whole and bool((numbers >= 0).all()) and numbers.max() > 1:
            missing = [_without(m, column) for m in err.values["missing"]]
            hint = t("calls.hint.counts", name=src.name, column=quote(column))
            try:
                raise_missing_columns(src, missing, [hint], counts=str(column))
            except LogError as counts:
                raise counts from None


def _without(m: MissingColumn, column: object) -> MissingColumn:
    """A missing column's line that suggests ``column`` for no field."""
    hints = [h for h in m.reason_values.get("hints", ()) if h[1] != column]
    values = {**m.reason_values, "hints": hints} if "hints" in m.reason_values else m.reason_values
    suggestion = None if m.suggestion == column else m.suggestion
    return m._replace(reason_values=values, suggestion=suggestion)


def _read_log_calls(
    source: str | os.PathLike | pd.DataFrame,
    *,
    stages: object = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    errors: str = "raise",
    sheet: str | int | None = None,
) -> Calls:
    """``read_log(source, format="calls", stages=None, ...)``: :func:`read_calls`.

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> fs.read_log(pd.DataFrame({"time": ["2025-03-03 09:00"], "duration": ["1:05"]}),
    ...             format="calls", stages=None).table["duration"].tolist()
    [65.0]
    """
    if stages is not None:
        raise FunnelsimValueError("calls.error.stages", value=repr(stages))
    return read_calls(
        source, columns=columns, encoding=encoding, delimiter=delimiter, sheet=sheet,
        errors=errors,
    )  # fmt: skip


# read_log(format="calls") reads a call record through this module (logs.py imports
# nothing from here, so that there is no import cycle).
logs.READERS["calls"] = _read_log_calls
