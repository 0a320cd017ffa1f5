"""Logs in one normalised form, whatever came in, and the tables every analysis reads.

:func:`read_log` reads events, leads and counts logs from CSV, Excel,
Parquet or a DataFrame, validates them once and returns a :class:`Log`.
Every analysis (``fit``, cycle length, rep comparison) reads the
:class:`Log`, never the raw file: its stage table (:meth:`Log.stage_table`),
the stage table of its mature leads (:func:`mature_stage_table`), or its
times as numbers (:func:`log_clock`).

Rows are numbered as in a spreadsheet: the header is row 1, the first data
row is row 2 (for a DataFrame too: row ``r`` is ``df.iloc[r - 2]``). Files,
encodings and cells are read by :mod:`funnelsim._reader`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ._columns import (
    SYNONYMS,
    recognise_columns,
)
from ._events import read_events
from ._formats import FIELDS, attribute, read_counts, read_leads
from ._reader import ERRORS, LogError, choice, fields, quote, read_source
from ._times import date_given
from ._validate import by_columns, check_nonnegative, type_name
from .engine import LeadTable, is_database, is_engine_frame, read_engine_log, wants_engine
from .funnel import Funnel
from .i18n import FunnelsimTypeError, FunnelsimValueError, stages_label, t

__all__ = ["Log", "LogError", "mature_stage_table", "read_log"]

#: Nanoseconds in a day: a dated log's clock counts days.
DAY_NS = 86_400 * 10**9
#: Analyses an engine's log answers (their clock has no rows: the engine has the times).
ENGINE_ANALYSES = ("cycle_length", "mature")
#: Groups ``by=`` may name that no file holds: derived from each lead's first time
#: (a counts log's period), unless the log has a column of that name.
DERIVED_GROUPS = ("week", "month")


@dataclass(frozen=True, repr=False)
class Log:
    """A validated log in normalised form.

    Attributes
    ----------
    format : {"events", "leads", "counts"}
        What the source looked like.
    stages : tuple of str
        Stage names in funnel order.
    leads : pandas.DataFrame or None
        Lead-level logs (events, leads): one row per lead, index ``lead``;
        attribute columns among ``rep``, ``source``, ``segment``, ``period``,
        ``amount``, then every other column of the file that no field or
        stage reads, under its own name, as a categorical of its cells'
        text (numbers too; categories in number order when every label is a
        number, else in text order). An events log gives each lead the value
        of its furthest stage that has one.
    reached : pandas.DataFrame or None
        Lead-level logs: bool, one row per lead (same index as ``leads``), one
        column per stage: did the lead reach the stage.
    times : pandas.DataFrame or None
        Lead-level logs with timestamps: datetime64, same shape as
        ``reached``; ``NaT`` where the stage was not reached (or its time is
        unknown). None when the source has no times.
    counts : pandas.DataFrame or None
        Counts logs: one row per period and group, columns ``period``, the
        group columns, the file's other columns (categoricals, as in
        ``leads``) and one integer column per stage.
    as_of : pandas.Timestamp or None
        When the log was taken (the latest time in it unless given): leads
        still open at this time are censored, not failures.
    name : str
        Where the log came from (a file name, or "DataFrame").
    dropped : pandas.DataFrame
        With ``errors="drop"``: every dropped row of the source (``row``,
        ``column``, ``reason``); empty otherwise. A Parquet folder of several
        files counts its rows on across them; ``file`` and ``file_row`` say
        in which file each row is and its row there.
    columns_used : dict
        The file's column read for each field (``{"lead": "线索编号", ...}``):
        named in ``columns=``, of the field's own name, or recognised among
        the names common exports use (:data:`funnelsim._columns.SYNONYMS`;
        those recognised are shown in the repr). ``by=`` may name a field
        or its column.
    attempts : pandas.DataFrame or None
        Events logs: int, same shape as ``reached``: each lead's attempts at
        each stage, its rows there before it first reached a later stage
        (three dials before the connect are three ``dial`` rows; rows after a
        move back are not attempts to pass the stage, and past the first stage
        a row that records a won or lost status records the decision, not an
        attempt); 0 where it has none (not reached, or skipped). None for
        other formats.
    demotions : pandas.DataFrame or None
        Events logs: one row per move back down the funnel (a row at an
        earlier stage than the lead's row before it, in time order): ``lead``,
        ``from``, ``to``, ``time`` (of the move), ``spent_days`` (days at
        ``from`` before moving back) and ``row`` (the spreadsheet row of the
        move). See :func:`funnelsim.demotion_table`.
    skipped : pandas.DataFrame or None
        Events logs: per ``stage``, the ``leads`` that passed it (reached a
        later stage) without a row there.
    closed : pandas.Series or None
        Lead-level logs with times: when each lead was decided, NaT while
        open: won leads at their last stage's time, lost leads (``status``
        lost) at their last row's time (events) or their ``close`` date
        (leads). See :func:`funnelsim.won_by`.
    n_rows : int or None
        Events logs: the rows of the source kept in the log (every row not
        dropped: attempts, moves back, later rows and decisions alike).
    engine : funnelsim.engine.LeadTable or None
        An events log read by an engine (``read_log(engine=...)``, a large
        file, or a DuckDB, Polars, Dask, Spark or database table): its leads,
        one row each, held by the engine, which answers the stage tables
        (:meth:`stage_table`, ``fit`` with ``by=`` and ``mature=``, the
        young-lead check). ``leads``, ``reached``, ``times``, ``attempts`` and
        ``closed`` are then None: an analysis that needs them says so.

    Examples
    --------
    Build one with :func:`funnelsim.read_log` (which validates the source), or
    load a sample with ``fs.datasets.load_*()``:

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"week": ["2025-03-03", "2025-03-10"], "dials": [75, 80],
    ...                        "connects": [35, 30], "sales": [1, 0]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "sales"],
    ...                   columns={"period": "week"})
    >>> log
    Log(counts, 'DataFrame': 2 rows, stages dials -> connects -> sales, 0 rows dropped)
    >>> log.counts
          period  dials  connects  sales
    0 2025-03-03     75        35      1
    1 2025-03-10     80        30      0
    >>> fs.datasets.load_events().format
    'events'
    """

    format: str
    stages: tuple[str, ...]
    leads: pd.DataFrame | None = None
    reached: pd.DataFrame | None = None
    times: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"row": [], "column": [], "reason": []})
    )
    columns_used: dict[str, str] = field(default_factory=dict)
    attempts: pd.DataFrame | None = None
    demotions: pd.DataFrame | None = None
    skipped: pd.DataFrame | None = None
    closed: pd.Series | None = None
    n_rows: int | None = None
    engine: LeadTable | None = None

    @property
    def n_leads(self) -> int:
        """Leads in the log (rows for a counts log), wherever they are held.

        >>> import funnelsim as fs
        >>> fs.datasets.load_events().n_leads
        6000
        """
        if self.engine is not None:
            return self.engine.n_leads
        return len(self.counts) if self.format == "counts" else len(self.leads)

    def won_amounts(self) -> pd.Series:
        """The amounts of the leads that reached the last stage (none given: left out).

        >>> import funnelsim as fs
        >>> fs.datasets.load_events().won_amounts().describe()[["count", "mean"]].round()
        count       80.0
        mean     21058.0
        Name: amount, dtype: float64
        """
        if self.engine is not None:
            return self.engine.won_amounts()
        if self.format == "counts" or self.leads is None or "amount" not in self.leads:
            return pd.Series(dtype=float, name="amount")
        won = self.reached[self.stages[-1]].to_numpy()
        return self.leads.loc[won, "amount"].dropna().astype(float).reset_index(drop=True)

    @property
    def group_columns(self) -> list[str]:
        """Columns that ``by=`` may name: the group fields (rep, source, segment,
        period) and the file's other columns. ``by=`` also takes the file's name of
        a field's column, and ``"week"`` / ``"month"`` (see :meth:`stage_table`)."""
        if self.engine is not None:
            return list(self.engine.groups)
        frame = self.counts if self.format == "counts" else self.leads
        return [c for c in frame.columns if c not in self.stages and c not in ("amount", "reason")]

    def _group_keys(self, by: str | Sequence[str] | None) -> list[str]:
        """``by`` as a list of names :meth:`_group_frame` can give (a ValueError
        naming any other, and the choices)."""
        keys = list(by_columns(by))
        unknown = [k for k in keys if self._group_source(k) is None]
        if unknown:
            derived = [k for k in DERIVED_GROUPS if k not in self.group_columns]
            dated = derived and self._first_times(None) is not None
            raise FunnelsimValueError(
                "error.unknown_by",
                value=", ".join(unknown),
                choices=", ".join([*self.group_columns, *(derived if dated else [])]) or "-",
            )
        return keys

    def _group_source(self, key: str) -> str | None:
        """Where the group ``key`` comes from: a column of ``leads`` / ``counts``, a
        derived name (week, month), or None (unknown). A column of the log wins over
        a derived name; the file's name of a field's column gives the field."""
        if key in self.group_columns:
            return key
        if key in DERIVED_GROUPS:
            return key
        fields = [f for f, c in self.columns_used.items() if c == key]
        return fields[0] if fields and fields[0] in self.group_columns else None

    def _first_times(self, key: str | None) -> pd.Series | None:
        """Each lead's first-stage time (its earliest time when that one is unknown),
        or each counts row's period; None when the log has none (an error naming
        ``key`` unless it is None)."""
        when = None
        if self.engine is not None:
            return pd.Series(dtype="datetime64[ns]")  # the engine groups by first times
        if self.format == "counts":
            period = self.counts.get("period")
            if period is not None and pd.api.types.is_datetime64_any_dtype(period):
                when = period
        elif self.times is not None and not self.times.empty:
            times = self.times.reindex(columns=list(self.stages))
            when = times.iloc[:, 0]
            if when.isna().any():
                when = when.fillna(times.min(axis=1))
        if when is None and key is not None:
            raise LogError("error.by_no_times", name=self.name, value=key)
        return when

    def _group_frame(self, keys: list[str]) -> pd.DataFrame:
        """One column per key (named as given), one row per lead or counts row."""
        frame = self.counts if self.format == "counts" else self.leads
        out = {}
        for key in keys:
            column = self._group_source(key)
            if column in frame.columns:
                out[key] = frame[column].array
            else:  # week, month
                out[key] = _calendar(self._first_times(key), column)
        return pd.DataFrame(out, index=frame.index)

    def stage_table(self, by: str | list[str] | None = None) -> pd.DataFrame:
        """Leads at each stage per group: the input of every ratio estimate.

        One row per group and step: the ``by`` columns, ``stage`` (the stage
        the step leads to), ``entered`` (leads at the previous stage) and
        ``passed`` (leads that reached this stage). Events logs add
        ``attempts``: the rows at the previous stage of the leads that entered
        the step (their dials, for the step into ``connect``), so that
        ``attempts / passed`` is the attempts per success (dials per connect)
        while ``passed / entered`` stays the ratio per lead. Other formats
        have no ``attempts`` column.

        ``by`` names any of :attr:`group_columns` (a field such as ``"rep"``, or
        any other column of the file, ``"region"``, ``"地区"``), the file's own
        name of a field's column (``"负责人"`` when it is the rep column; the
        table's column keeps the name given), or ``"week"`` / ``"month"``: the
        week (its Monday, ``"2025-03-03"``) or month (``"2025-03"``) of each
        lead's first-stage time (its earliest time when that one is unknown),
        or of a counts log's period; an error for a log without times. A
        column of the file named ``week`` or ``month`` wins over the derived
        one. Groups come in the order of their labels (numbers by value).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> reached = pd.DataFrame({"call": [True] * 4, "sale": [True, False, False, True]})
        >>> fs.read_log(reached, format="leads", stages=["call", "sale"]).stage_table()
           stage  entered  passed
        0   sale        4       2

        Lead A was dialled three times before it connected, lead B twice
        without connecting: 5 dials, 1 connect.

        >>> events = pd.DataFrame({"lead": ["A", "A", "A", "A", "B", "B"],
        ...     "stage": ["dial", "dial", "dial", "connect", "dial", "dial"],
        ...     "time": ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-05 10:00",
        ...              "2025-03-03", "2025-03-06"]})
        >>> fs.read_log(events, format="events", stages=["dial", "connect"]).stage_table()
             stage  entered  passed  attempts
        0  connect        2       1         5
        """
        keys = self._group_keys(by)
        if self.engine is not None:
            totals = self.engine.stage_table(keys, [self._group_source(k) for k in keys])

            def counted(row: pd.Series, k: int) -> dict[str, int]:
                return {f: int(row[f"{f}{k}"]) for f in ("entered", "passed", "attempts")}

            names = [*keys, "stage", "entered", "passed", "attempts"]
            return pd.DataFrame(_step_rows(totals, keys, self.stages, counted), columns=names)
        if self.format == "counts":
            frame = self.counts[list(self.stages)].copy()
        else:
            frame = self.reached.astype(np.int64)
            if self.attempts is not None:
                tries = self.attempts
                if not (tries.index is frame.index or tries.index.equals(frame.index)):
                    tries = tries.reindex(index=frame.index, fill_value=0)
                # column by column: faster than joining them at once (a copy), though
                # a funnel of a hundred stages or more makes pandas warn of a
                # fragmented frame, which is summed next, not kept
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
                    for k, stage in enumerate(self.stages[:-1]):
                        frame[("attempts", k + 1)] = tries[stage].to_numpy(np.int64)
        if keys:
            groups = self._group_frame(keys)
            if groups.index is frame.index or groups.index.equals(frame.index):
                # Same leads in the same order (as read_log builds them): no
                # join, which would check a 10-million-lead index for uniqueness.
                for key in keys:
                    frame[key] = groups[key].array
            else:
                frame = frame.join(groups)
            totals = frame.groupby(keys, observed=True, dropna=False)[
                [c for c in frame.columns if c not in keys]
            ].sum()
        else:
            totals = frame.sum().to_frame().T
        stages = self.stages
        tried = self.format != "counts" and self.attempts is not None

        def counts(row: pd.Series, k: int) -> dict[str, int]:
            out = {"entered": int(row[stages[k - 1]]), "passed": int(row[stages[k]])}
            if tried:
                out["attempts"] = int(row[("attempts", k)])
            return out

        rows = _step_rows(totals, keys, stages, counts)
        names = [*keys, "stage", "entered", "passed", *(["attempts"] if tried else [])]
        return pd.DataFrame(rows, columns=names)

    def to_funnel(self) -> Funnel:
        """Point-estimate funnel from the pooled counts (``passed / entered``).

        >>> import funnelsim as fs
        >>> fs.datasets.load_counts().to_funnel()
        Funnel(dials -> connects -> meetings -> sales; ratios 0.443, 0.146, 0.147;
               overall 0.00949)
        """
        table = self.stage_table()
        first = int(table["entered"].iloc[0])
        return Funnel.from_counts(self.stages, [first, *table["passed"].tolist()])

    def __repr__(self) -> str:
        n = self.n_leads
        unit = t("repr.log.rows" if self.format == "counts" else "repr.log.leads", n=n)
        text = t(
            "repr.log",
            format=self.format,
            name=repr(self.name),
            unit=unit,
            stages=stages_label(self.stages),
            dropped=len(self.dropped),
        )
        recognised = [
            f"{f}={c}"
            for f, c in self.columns_used.items()
            if c != f and c.casefold() in {n.casefold() for n in (f, *SYNONYMS.get(f, ()))}
        ]
        if not recognised:
            return text
        return text[:-1] + t("repr.log.recognised", columns=", ".join(recognised)) + text[-1]


def _calendar(when: pd.Series, unit: str) -> pd.Categorical:
    """The week (its Monday's date, ``"2025-03-03"``) or month (``"2025-03"``) of
    each time, as a categorical in time order (NaN where the time is unknown).

    >>> when = pd.Series(pd.to_datetime(["2025-03-09 23:00", "2025-03-10 00:00", None]))
    >>> _calendar(when, "week")
    ['2025-03-03', '2025-03-10', NaN]
    Categories (2, object): ['2025-03-03', '2025-03-10']
    """
    when = pd.Series(when).reset_index(drop=True)
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_convert(None)
    day = when.dt.normalize()
    if unit == "week":
        start = day - pd.to_timedelta(day.dt.dayofweek, unit="D")
        codes, uniques = pd.factorize(start, sort=True)
        names = pd.DatetimeIndex(uniques).strftime("%Y-%m-%d")
    else:
        codes, uniques = pd.factorize(day.dt.to_period("M"), sort=True)
        names = pd.PeriodIndex(uniques).strftime("%Y-%m")
    return pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object))


def _step_rows(
    totals: pd.DataFrame,
    keys: list[str],
    stages: Sequence[str],
    counts: Callable[[pd.Series, int], dict[str, int]],
) -> list[dict[str, object]]:
    """One row per group of ``totals`` and step: the group's keys, ``stage`` (the
    stage the step leads to) and ``counts(row, k)`` for step ``k`` (1 ..)."""
    rows: list[dict[str, object]] = []
    for key, row in totals.iterrows():
        group = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=False))
        for k in range(1, len(stages)):
            rows.append({**group, "stage": stages[k], **counts(row, k)})
    return rows


# --------------------------------------------------------- times of a log
@dataclass(frozen=True)
class Clock:
    """A log's times as numbers: int64 ns (dates) or float (periods), with a mask."""

    values: np.ndarray  # (leads, stages)
    known: np.ndarray  # bool, same shape
    as_of: float
    scale: float  # units of ``values`` per day (dates) or 1 (periods)
    unit: str

    def elapsed(self, later: int | None, earlier: int) -> np.ndarray:
        """``later - earlier`` (stage columns; None: as_of) in days or periods, NaN if unknown."""
        ok = (
            self.known[:, earlier]
            if later is None
            else self.known[:, earlier] & self.known[:, later]
        )
        out = np.full(len(self.values), np.nan)
        top = self.as_of if later is None else self.values[ok, later]
        out[ok] = (top - self.values[ok, earlier]) / self.scale
        return out


def require_leads(log: Log, analysis: str) -> None:
    """An analysis that needs each lead's row in memory says so for an engine's log
    (``analysis``: its ``analysis.*`` catalogue key's last part).

    >>> import funnelsim as fs
    >>> require_leads(fs.datasets.load_events(), "backtest")  # in memory: nothing to say
    """
    if log.engine is not None:
        what = t(f"analysis.{analysis}")
        raise LogError("engine.error.lead_level", name=log.name, analysis=what)


def log_clock(log: Log, analysis: str) -> Clock:
    """Check that ``log`` has lead-level times and return them as numbers."""
    what = t(f"analysis.{analysis}")
    if log.engine is not None:
        if analysis not in ENGINE_ANALYSES:
            require_leads(log, analysis)
        as_of = pd.Timestamp(log.as_of).as_unit("ns").value
        empty = np.zeros((0, len(log.stages)))
        return Clock(empty, empty.astype(bool), as_of, float(DAY_NS), "days")
    if log.format == "counts" or log.reached is None:
        raise LogError("error.times_counts", name=log.name, analysis=what)
    if log.times is None or log.times.empty:
        raise LogError("error.times_flags", name=log.name, analysis=what)
    present = [c for c in log.stages if c in log.times.columns]
    frame = log.times.reindex(index=log.reached.index, columns=present)
    as_of = log.as_of
    if all(pd.api.types.is_datetime64_any_dtype(frame[c]) for c in frame):
        cols = {}
        for c in frame:
            col = frame[c]
            if getattr(col.dt, "tz", None) is not None:
                col = col.dt.tz_convert(None)
            cols[c] = col.to_numpy("datetime64[ns]")
        raw = np.column_stack(list(cols.values())) if cols else np.empty((len(frame), 0))
        known = ~np.isnat(raw)
        values = raw.view(np.int64)
        scale, unit = float(DAY_NS), "days"
        if as_of is not None:
            stamp = pd.Timestamp(as_of)
            if stamp.tz is not None:
                stamp = stamp.tz_convert(None)
            as_of = stamp.as_unit("ns").value
    elif all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame):
        values = frame.to_numpy(dtype=float)
        known = np.isfinite(values)
        scale, unit = 1.0, "periods"
    elif all(isinstance(frame[c].dtype, pd.PeriodDtype) for c in frame):
        values = np.column_stack([frame[c].array.asi8 for c in frame]).astype(float)
        known = frame.notna().to_numpy()
        values[~known] = np.nan
        scale, unit = 1.0, "periods"
        if as_of is not None:
            as_of = pd.Period(as_of, freq=frame.iloc[:, 0].dtype.freq).ordinal
    else:
        raise LogError("error.times_type", name=log.name, analysis=what)
    if len(present) < len(log.stages):  # stages without a time column: times unknown
        full = np.zeros((len(frame), len(log.stages)), dtype=values.dtype)
        full_known = np.zeros(full.shape, dtype=bool)
        cols = [log.stages.index(c) for c in present]
        full[:, cols], full_known[:, cols] = values, known
        values, known = full, full_known
    if not known.any():
        raise LogError("error.times_flags", name=log.name, analysis=what)
    latest = values[known].max()
    if as_of is None:
        as_of = latest
    elif latest > as_of:
        late = log.reached.index[(known & (values > as_of)).any(axis=1)]
        raise LogError(
            "error.after_as_of",
            name=log.name,
            count=len(late),
            leads=", ".join(map(str, late[:5])),
            as_of=log.as_of,
        )
    return Clock(values=values, known=known, as_of=as_of, scale=scale, unit=unit)


def window_in_units(window: object, clock: Clock, name: str = "window") -> float:
    """``window`` in the clock's unit: a number, or a Timedelta / "30D" for dated logs."""
    if clock.unit == "days" and isinstance(window, (pd.Timedelta, np.timedelta64, str)):
        try:
            days = pd.Timedelta(window) / pd.Timedelta(days=1)
        except (TypeError, ValueError):
            raise FunnelsimValueError(
                "error.not_a_number", name=name, value=repr(window)
            ) from None
        return check_nonnegative(name, days)
    return check_nonnegative(name, window)


# ------------------------------------------------------- mature leads
def _mature_totals(log: Log, clock: Clock, win: float, keys: list[str]) -> pd.DataFrame:
    """The pandas log's mature counts per group (columns ``entered{k}``, ``passed{k}``,
    ``young{k}``), for :func:`mature_stage_table`."""
    reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
    columns = {}
    for k in range(1, len(log.stages)):
        at_previous = reached[:, k - 1]
        with np.errstate(invalid="ignore"):
            old = at_previous & clock.known[:, k - 1] & (clock.elapsed(None, k - 1) >= win)
        columns[("entered", k)] = old
        columns[("passed", k)] = old & reached[:, k]
        columns[("young", k)] = at_previous & ~old
    frame = pd.DataFrame(
        {f"{name}{k}": mask.astype(np.int64) for (name, k), mask in columns.items()},
        index=log.reached.index,
    )
    if not keys:
        return frame.sum().to_frame().T
    groups = log._group_frame(keys)
    if not groups.index.equals(frame.index):
        groups = groups.reindex(frame.index)
    for key in keys:
        frame[key] = groups[key].array
    return frame.groupby(keys, observed=True, dropna=False).sum()


def mature_stage_table(
    log: Log, window: float | str | pd.Timedelta, by: str | Sequence[str] | None = None
) -> tuple[pd.DataFrame, float, str]:
    """Stage counts over mature leads only: the input of ``fit(log, mature=...)``.

    For each step, ``entered`` counts the leads that reached its previous
    stage at least ``window`` before the log's ``as_of`` (and have a time
    there), and ``passed`` those of them that reached the step's stage.
    ``young`` counts the leads at the previous stage that are left out:
    reached too recently to count as failures, or without a time.

    Each step has its own cohort, so ``entered`` of one step need not equal
    ``passed`` of the step before.

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    window : float, str or pandas.Timedelta
        Minimum age at the previous stage: days for dated logs ("60D" works
        too), periods otherwise.
    by : str or sequence of str, optional
        Group columns, as in :meth:`Log.stage_table`.

    Returns
    -------
    (pandas.DataFrame, float, str)
        The table (the ``by`` columns, ``stage``, ``entered``, ``passed``,
        ``young``; rows in the order of :meth:`Log.stage_table`), the window
        in the log's unit, and that unit ("days" or "periods").

    Examples
    --------
    Four leads dialled; a and b 40 days before ``as_of``, c and d 5 days
    before. With a 30-day window only a and b count for the first step:

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.logs import mature_stage_table
    >>> leads = pd.DataFrame({"lead": ["a", "b", "c", "d"],
    ...                       "dial": ["2024-01-01", "2024-01-01", "2024-02-05", "2024-02-05"],
    ...                       "sale": ["2024-01-20", None, None, None]})
    >>> log = fs.read_log(leads, format="leads", stages=["dial", "sale"], as_of="2024-02-10")
    >>> table, window, unit = mature_stage_table(log, "30D")
    >>> table
      stage  entered  passed  young
    0  sale        2       1      2
    """
    keys = log._group_keys(by)
    clock = log_clock(log, "mature")
    win = window_in_units(window, clock, "mature")
    if log.engine is not None:  # the engine counts (its clock has the as-of time only)
        sources = [log._group_source(k) for k in keys]
        totals = log.engine.mature_table(keys, sources, win, int(clock.as_of))
    else:
        totals = _mature_totals(log, clock, win, keys)
    rows = _step_rows(
        totals,
        keys,
        log.stages,
        lambda row, k: {f: int(row[f"{f}{k}"]) for f in ("entered", "passed", "young")},
    )
    table = pd.DataFrame(rows, columns=[*keys, "stage", "entered", "passed", "young"])
    return table, win, clock.unit


# ------------------------------------------------------------------ read_log
FORMATS = ("events", "leads", "counts", "snapshot", "calls")
#: Readers of formats that live in modules above this one, which register themselves on
#: import (``"snapshot"``: :func:`funnelsim.read_snapshot`, from :mod:`funnelsim.stocks`),
#: so that this module imports none of them (no import cycle).
READERS: dict[str, Callable[..., Any]] = {}


def read_log(
    source: str | os.PathLike | pd.DataFrame,
    *,
    format: str,
    stages: Sequence[str] | Mapping[str, str | None],
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    errors: str = "raise",
    as_of: object = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    engine: str = "auto",
    table: str | None = None,
    query: str | None = None,
) -> Log:
    """Read a sales log (events, leads or counts) into one validated :class:`Log`.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A CSV file (UTF-8, UTF-8 with BOM, or GB18030/GBK as Chinese Excel
        writes it; UTF-16 with BOM; gzip-compressed too), an Excel ``.xlsx``
        or ``.xls`` workbook (the sheet ``sheet`` names, header in row 1), a
        Parquet file or dataset folder (its parts read in order, as Spark
        writes them), or a DataFrame. The file is only read, never changed.
    format : {"events", "leads", "counts"}
        ``"events"``: one row per lead and stage reached (or attempted), with a
        timestamp.
        ``"leads"``: one row per lead, one timestamp or yes/no column per
        stage. ``"counts"``: one row per period and group with a count per
        stage (the weekly tracking table). ``"snapshot"``: a tracking sheet of
        leads *sitting* at each stage (stocks, which may rise down the funnel),
        read by :func:`funnelsim.read_snapshot` and returned as its
        :class:`~funnelsim.stocks.Snapshot` (``stages`` may then be None;
        ``as_of`` is not used). ``"calls"``: a call record, one row per
        attempt, read by :func:`funnelsim.read_calls` (``stages=None``).
    stages : sequence of str, or mapping
        Stage names in funnel order (at least two). For ``"events"``, a list
        of the names as the stage column writes them, or a mapping from the
        name to use to the name in the file. For ``"leads"`` and
        ``"counts"``, a mapping from each stage name to the column that holds
        its timestamp, yes/no flag or count (a list means the columns carry
        the stage names). In a leads log the first stage may map to None
        (every row reached it), and the last to None when ``columns`` names a
        ``close`` date.
    columns : mapping, optional
        The file's column for each of the kit's fields. ``"events"``:
        ``lead``, ``stage``, ``time`` (required), ``rep``, ``source``,
        ``segment``, ``period``, ``amount``, ``status``, ``reason``.
        ``"leads"``: ``lead`` (default: the row number), ``rep``, ``source``,
        ``segment``, ``period``, ``amount``, ``close`` (the date of the last
        stage, or of the loss for a lost lead), ``status``, ``reason``.
        ``"counts"``:
        ``period``, ``rep``, ``source``, ``segment``, ``amount``. A field not
        named here is taken from a column with the field's own name, if any,
        else from the one column named as common exports name it (rep:
        负责人, 销售, 业务员, 销售代表, owner; stage: 商机阶段, 阶段; lead:
        客户名称, 线索ID, 线索编号, 客户ID; source: 来源, 渠道, 线索来源; time:
        创建时间, 日期, 时间, date; amount: 金额, 成交金额; see
        ``Log.columns_used``); two such columns are an error asking to choose.
        Every other column of the file is kept as a lead attribute that
        ``by=`` can name.
    encoding : str, optional
        Text encoding of a CSV file; by default UTF-8 (with or without BOM),
        then GB18030 (which covers GBK and GB2312); UTF-16 when the file
        starts with its BOM.
    errors : {"raise", "drop"}
        ``"raise"`` (default): any invalid row raises one :class:`LogError`
        listing every problem. ``"drop"``: invalid rows are left out (for
        events and leads, every row of a lead with an invalid row) and listed
        in ``Log.dropped`` with the row, the column and the reason.
    as_of : date-like, optional
        When the log was taken; by default its latest timestamp. Leads open
        at this time are censored, not failures. A timestamp after it is an
        error. Without it, two kinds of timestamp are errors naming the row
        (with ``errors="drop"``, dropped and listed), since they would
        otherwise become the as-of time and move every ``mature=`` window:
        one more than a day after this machine's clock (a date typed as
        2099); and, in a log of at least 50 times, its few latest ones (at
        most 1 %, at most 10) when a gap of more than 30 days, and more than
        a quarter of the span of the other times, cuts them off from the rest
        (2026 typed for 2025 in a log that ends in June 2025). Times that are
        right: pass ``as_of=``. With it or without, a time more than 200
        years before the as-of time (or tomorrow) is an error too (1712 typed
        for 2017): no duration from it fits in nanoseconds.
    delimiter : str, optional
        CSV delimiter; by default the most frequent of ``,`` ``;`` tab ``|``
        in the header line.
    sheet : str or int, optional
        A workbook's sheet, by name or 0-based position; by default the
        first. When the columns are not on it, the error lists every sheet
        and its header.
    engine : {"auto", "pandas", "duckdb"}
        Who reads an events log. ``"pandas"``: read into memory, every
        analysis available. ``"duckdb"``: DuckDB reads the file (or the
        DataFrame) and keeps one row per lead in a database of its own, in a
        temporary folder; memory stays bounded by the groups, not the rows
        (see :mod:`funnelsim.engine`). ``"auto"`` (default): DuckDB for
        events files (Parquet, UTF-8 CSV) over
        :data:`funnelsim.engine.AUTO_BYTES` (256 MiB), pandas otherwise. A
        table an engine holds (a DuckDB relation, a Polars LazyFrame, a Dask
        or PySpark DataFrame, an Ibis table of a database) is read by that
        engine whatever ``engine`` says, except ``"pandas"``. Both ways give
        the same stage tables and fits, and the same errors.
    table, query : str, optional
        With a database as ``source`` (an address such as
        ``"postgresql://user@host/crm"``, a SQLAlchemy engine or an Ibis
        connection): the table to read, or a SQL query whose rows are the log
        (one of the two). The database does the counting (through Ibis); the
        rows stay there. A database's rows have no order: messages count rows
        as the database lists them.

    Returns
    -------
    Log
        The normalised log.

    Raises
    ------
    LogError
        One error (a ``ValueError``) naming the file, the rows (counted as in
        a spreadsheet: the header is row 1), the column and the fix.

    Notes
    -----
    Checks: missing columns; unknown or missing stages, leads and dates
    (dates are read year first, such as ``2025-03-05 14:30``, ``2025/3/5``
    or ``2025年3月5日``); counts that are negative, fractional, missing or
    rising down the funnel, or too large to count exactly (2**53 or more);
    amounts that are not numbers >= 0 (written as ``12,000``, ``¥12,000``,
    ``1.5万``, ``3千`` or ``12,000元`` they are read); in a leads log, a
    lead at a stage without the stage before it, or reaching it earlier in
    time (each stage cell is one date a person typed: a slip); copied events
    (the same lead, stage and time twice), duplicate leads or count rows;
    unknown status words; times after ``as_of``; an empty file; a header
    naming a column twice; a row with fewer cells than the header; a time
    column mixing times with and without a time zone. Rows with every cell
    empty are ignored. Times with a time zone are converted to UTC; all
    times are stored without a zone.

    Events logs are read as CRMs and diallers write them, under one rule: a
    lead has passed a stage when it reached it or any later stage, and its
    time at a stage is the first time it reached that stage or any later
    one (so its times never go down the funnel). Several rows of one stage
    at different times are attempts (``Log.attempts``; the stage table's
    ``attempts`` column); a row at an earlier stage than the lead's row
    before it is a move back (``Log.demotions``, :func:`demotion_table`);
    a stage passed without a row is skipped (``Log.skipped``). None of them
    is refused.

    Status (``status`` column): won, lost or open, in any case, or 赢单,
    成交, 已成交 (won), 输单, 丢单, 失败, 已流失, 流失 (lost), 跟进中,
    进行中, 未结 (open); an empty cell is open. In an events log a lead's
    status is its latest given one (by time). A lead that reached the last
    stage is won, whatever its status says; a lead said to be won reached
    the last stage (in an events log at the time of its latest won row when
    no row says so; in a leads log at its ``close`` date, if any). Lost
    leads are failures at their furthest stage, open leads are censored at
    ``as_of`` (see :func:`won_by`). ``Log.leads`` gains ``status`` (a group
    column: ``by="status"``) and ``reason`` (the latest loss reason given;
    see :func:`loss_reasons`).

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> events = pd.DataFrame({
    ...     "lead": ["L1", "L1", "L2", "L1", "L3", "L3"],
    ...     "stage": ["dial", "connect", "dial", "sale", "dial", "sael"],
    ...     "time": ["2025-03-03 09:00", "2025-03-03 09:05", "2025-03-04",
    ...              "2025-03-20", "2025-03-05", "2025-03-06"],
    ... })
    >>> log = fs.read_log(events, format="events", stages=["dial", "connect", "sale"],
    ...                   errors="drop")
    >>> log
    Log(events, 'DataFrame': 2 leads, stages dial -> connect -> sale, 2 rows dropped)
    >>> log.dropped
       row column                                       reason
    0    6   lead    dropped with lead 'L3' (row 7 is invalid)
    1    7  stage  unknown stage 'sael' (did you mean 'sale'?)
    >>> log.stage_table()
         stage  entered  passed  attempts
    0  connect        2       1         2
    1     sale        1       1         1
    """
    fmt = choice("format", format, FORMATS)
    if fmt in READERS:  # "snapshot": stocks, not a funnel (funnelsim.stocks.read_snapshot)
        return READERS[fmt](source, stages=stages, columns=columns, encoding=encoding,
                            delimiter=delimiter, errors=errors, sheet=sheet)  # fmt: skip
    mode = choice("errors", errors, ERRORS)
    stage_map = _stage_map(stages, fmt)
    used = fields(columns, FIELDS[fmt], fmt)
    snapshot = _as_of(as_of)
    if wants_engine(source, engine, fmt):
        if fmt != "events":  # a leads or counts table from an engine: small, into pandas
            source = _engine_to_pandas(source)
        else:
            try:
                parts = read_engine_log(
                    source,
                    stage_map=stage_map,
                    given=used,
                    as_of=snapshot,
                    mode=mode,
                    delimiter=delimiter,
                    table=table,
                    query=query,
                )
                return Log(**parts)
            except FunnelsimValueError as err:
                # a large file of cells only pandas reads (dates or amounts as text, a
                # status column): with engine="auto" pandas reads it rather than refuse
                if engine != "auto" or err.key not in PANDAS_ONLY or not _is_path(source):
                    raise
    elif engine == "pandas" and not isinstance(source, str | os.PathLike | pd.DataFrame):
        source = _engine_to_pandas(source)
    src = read_source(source, encoding=encoding, delimiter=delimiter, sheet=sheet)
    stage_columns = None if fmt == "events" else stage_map
    used = recognise_columns(src, FIELDS[fmt], used, stage_columns)
    reader = {"events": read_events, "leads": read_leads, "counts": read_counts}[fmt]
    parts = reader(src, stage_map, used, snapshot, mode)
    _compact_attributes(parts)
    have = set(src.frame.columns)
    found = {f: used.get(f, f) for f in FIELDS[fmt] if used.get(f, f) in have}
    return Log(**parts, columns_used=found)


#: An engine's refusals that pandas reads (``engine="auto"`` falls back to pandas).
PANDAS_ONLY = (
    "engine.error.time_text",
    "engine.error.amount_text",
    "engine.error.status",
    "engine.error.read",  # a CSV DuckDB cannot read as it is: pandas says what is wrong
    "engine.error.glob_name",  # a file named with * or ?, which DuckDB reads as a pattern
)


def _is_path(source: object) -> bool:
    return isinstance(source, str | os.PathLike) and not is_database(source)


def _engine_to_pandas(source: object) -> object:
    """An engine's table read whole into pandas (a leads or counts log, or
    ``engine="pandas"``); anything else as it is."""
    if not is_engine_frame(source):
        return source
    frame = nw.from_native(source)
    frame = frame.lazy().collect() if isinstance(frame, nw.LazyFrame) else frame
    return frame.to_pandas()


def _compact_attributes(parts: dict) -> None:
    """The file's own columns in ``leads`` (a leads log's, kept as text per row) as
    categoricals, as events and counts logs keep them."""
    frame = parts.get("leads")
    if frame is None:
        return
    fields = {*FIELDS["events"], *FIELDS["leads"]}
    for column in frame.columns:
        if column not in fields and frame[column].dtype == object:
            codes, names = pd.factorize(frame[column].to_numpy(), use_na_sentinel=True)
            frame[column] = attribute(np.asarray(codes), np.asarray(names, dtype=object))


# ------------------------------------------------------------- arguments
def _stage_map(stages: object, fmt: str) -> dict[str, str | None]:
    shape = {
        "events": t("log.shape.events"),
        "leads": t("log.shape.leads"),
        "counts": t("log.shape.counts"),
    }[fmt]
    if isinstance(stages, Mapping):
        items = list(stages.items())
    elif isinstance(stages, str | bytes) or not isinstance(stages, Sequence | np.ndarray):
        raise FunnelsimTypeError(
            "log.error.stages_type", name="stages", shape=shape, value=repr(stages),
            type=type_name(stages),
        )  # fmt: skip
    else:
        items = [(s, s) for s in stages]
    if len(items) < 2:
        raise LogError("log.error.stages_few", shape=shape, value=repr(stages))
    names = []
    for name, column in items:
        if not isinstance(name, str) or not name.strip():
            raise LogError("log.error.stage_name", value=repr(name))
        if not (isinstance(column, str) and column.strip()) and column is not None:
            raise LogError("log.error.stage_column", stage=quote(name), value=repr(column))
        if column is None and fmt != "leads":
            raise LogError("log.error.stage_column", stage=quote(name), value=repr(column))
        names.append(name)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LogError("log.error.stages_repeated", value=", ".join(repeated))
    out = {name: (None if col is None else col.strip()) for name, col in items}
    if fmt == "events":
        values = list(out.values())
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise LogError("log.error.stages_repeated", value=", ".join(twice))
    inner = [n for n in names[1:-1] if out[n] is None]
    if inner:
        raise LogError("log.error.stage_column", stage=quote(inner[0]), value="None")
    return out


def _as_of(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = date_given(value)
    if stamp is None:
        raise LogError("log.error.as_of", value=repr(value))
    return stamp
