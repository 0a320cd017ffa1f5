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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._reader import (
    ERRORS,
    NAT,
    LogError,
    Problems,
    Source,
    amounts,
    cells,
    choice,
    fields,
    flags_or_times,
    label_text,
    labels,
    lead_ids,
    parse_numbers,
    parse_times,
    quote,
    quoted,
    read_source,
    repeats,
    resolve,
    show_time,
    text_column,
    text_times,
)
from ._validate import check_nonnegative
from .funnel import Funnel
from .i18n import FunnelsimValueError, t

__all__ = ["Log", "LogError", "mature_stage_table", "read_log"]

GROUP_FIELDS = ("rep", "source", "segment", "period")
#: Nanoseconds in a day: a dated log's clock counts days.
DAY_NS = 86_400 * 10**9


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
        attribute columns among ``rep``, ``source``, ``segment``, ``amount``.
    reached : pandas.DataFrame or None
        Lead-level logs: bool, one row per lead (same index as ``leads``), one
        column per stage: did the lead reach the stage.
    times : pandas.DataFrame or None
        Lead-level logs with timestamps: datetime64, same shape as
        ``reached``; ``NaT`` where the stage was not reached (or its time is
        unknown). None when the source has no times.
    counts : pandas.DataFrame or None
        Counts logs: one row per period and group, columns ``period``, the
        group columns and one integer column per stage.
    as_of : pandas.Timestamp or None
        When the log was taken (the latest time in it unless given): leads
        still open at this time are censored, not failures.
    name : str
        Where the log came from (a file name, or "DataFrame").
    dropped : pandas.DataFrame
        With ``errors="drop"``: every dropped row of the source (``row``,
        ``column``, ``reason``); empty otherwise.
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

    @property
    def group_columns(self) -> list[str]:
        """Columns that ``by=`` may name."""
        frame = self.counts if self.format == "counts" else self.leads
        return [c for c in frame.columns if c not in self.stages and c != "amount"]

    def _group_keys(self, by: str | Sequence[str] | None) -> list[str]:
        """``by`` as a list of this log's group columns (a ValueError naming any other)."""
        keys = [] if by is None else [by] if isinstance(by, str) else list(by)
        unknown = [k for k in keys if k not in self.group_columns]
        if unknown:
            raise FunnelsimValueError(
                "error.unknown_by",
                value=", ".join(unknown),
                choices=", ".join(self.group_columns) or "-",
            )
        return keys

    def stage_table(self, by: str | list[str] | None = None) -> pd.DataFrame:
        """Leads at each stage per group: the input of every ratio estimate.

        One row per group and step: the ``by`` columns, ``stage`` (the stage
        the step leads to), ``entered`` (leads at the previous stage) and
        ``passed`` (leads that reached this stage).

        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> reached = pd.DataFrame({"call": [True] * 4, "sale": [True, False, False, True]})
        >>> Log("leads", ("call", "sale"), leads=pd.DataFrame(index=reached.index),
        ...     reached=reached).stage_table()
           stage  entered  passed
        0   sale        4       2
        """
        keys = self._group_keys(by)
        if self.format == "counts":
            totals = (
                self.counts.groupby(keys, observed=True, dropna=False)[list(self.stages)].sum()
                if keys
                else self.counts[list(self.stages)].sum().to_frame().T
            )
        else:
            frame = self.reached.astype(np.int64)
            if keys:
                groups = self.leads[keys]
                if groups.index is frame.index or groups.index.equals(frame.index):
                    # Same leads in the same order (as read_log builds them): no
                    # join, which would check a 10-million-lead index for uniqueness.
                    frame[keys] = groups.to_numpy()
                else:
                    frame = frame.join(groups)
                totals = frame.groupby(keys, observed=True, dropna=False)[list(self.stages)].sum()
            else:
                totals = frame.sum().to_frame().T
        stages = self.stages
        rows = _step_rows(
            totals,
            keys,
            stages,
            lambda row, k: {"entered": int(row[stages[k - 1]]), "passed": int(row[stages[k]])},
        )
        return pd.DataFrame(rows, columns=[*keys, "stage", "entered", "passed"])

    def to_funnel(self) -> Funnel:
        """Point-estimate funnel from the pooled counts (``passed / entered``)."""
        table = self.stage_table()
        first = int(table["entered"].iloc[0])
        return Funnel.from_counts(self.stages, [first, *table["passed"].tolist()])

    def __repr__(self) -> str:
        n = len(self.counts) if self.format == "counts" else len(self.leads)
        unit = t("repr.log.rows" if self.format == "counts" else "repr.log.leads", n=n)
        return t(
            "repr.log",
            format=self.format,
            name=repr(self.name),
            unit=unit,
            stages=" -> ".join(self.stages),
            dropped=len(self.dropped),
        )


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


def log_clock(log: Log, analysis: str) -> Clock:
    """Check that ``log`` has lead-level times and return them as numbers."""
    what = t(f"analysis.{analysis}")
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
    >>> from funnelsim.logs import Log
    >>> from funnelsim.logs import mature_stage_table
    >>> times = pd.DataFrame({
    ...     "dial": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-05", "2024-02-05"]),
    ...     "sale": pd.to_datetime(["2024-01-20", None, None, None])},
    ...     index=pd.Index(list("abcd"), name="lead"))
    >>> log = Log("events", ("dial", "sale"), leads=pd.DataFrame(index=times.index),
    ...           reached=times.notna(), times=times, as_of=pd.Timestamp("2024-02-10"))
    >>> table, window, unit = mature_stage_table(log, "30D")
    >>> table
      stage  entered  passed  young
    0  sale        2       1      2
    """
    clock = log_clock(log, "mature")
    win = window_in_units(window, clock, "mature")
    keys = log._group_keys(by)
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
    if keys:
        frame[keys] = log.leads.loc[frame.index, keys].to_numpy()
        totals = frame.groupby(keys, observed=True, dropna=False).sum()
    else:
        totals = frame.sum().to_frame().T
    rows = _step_rows(
        totals,
        keys,
        log.stages,
        lambda row, k: {f: int(row[f"{f}{k}"]) for f in ("entered", "passed", "young")},
    )
    table = pd.DataFrame(rows, columns=[*keys, "stage", "entered", "passed", "young"])
    return table, win, clock.unit


# ------------------------------------------------------------------ read_log
FORMATS = ("events", "leads", "counts")
_FIELDS = {
    "events": ("lead", "stage", "time", "rep", "source", "segment", "period", "amount"),
    "leads": ("lead", "rep", "source", "segment", "period", "amount", "close"),
    "counts": ("period", "rep", "source", "segment", "amount"),
}
_REQUIRED = {"events": ("lead", "stage", "time"), "leads": (), "counts": ()}


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
) -> Log:
    """Read a sales log (events, leads or counts) into one validated :class:`Log`.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A CSV file (UTF-8, UTF-8 with BOM, or GB18030/GBK as Chinese Excel
        writes it; UTF-16 with BOM; gzip-compressed too), an Excel ``.xlsx``
        workbook (its first sheet, header in row 1), a Parquet file, or a
        DataFrame. The file is only read, never changed.
    format : {"events", "leads", "counts"}
        ``"events"``: one row per lead and stage reached, with a timestamp.
        ``"leads"``: one row per lead, one timestamp or yes/no column per
        stage. ``"counts"``: one row per period and group with a count per
        stage (the weekly tracking table).
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
        ``segment``, ``period``, ``amount``. ``"leads"``: ``lead`` (default:
        the row number), ``rep``, ``source``, ``segment``, ``period``,
        ``amount``, ``close`` (the date of the last stage). ``"counts"``:
        ``period``, ``rep``, ``source``, ``segment``, ``amount``. A field not
        named here is taken from a column with the field's own name, if any.
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
        error.
    delimiter : str, optional
        CSV delimiter; by default the most frequent of ``,`` ``;`` tab ``|``
        in the header line.

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
    rising down the funnel; amounts that are not numbers >= 0; a lead at a
    stage without the stage before it, or reaching it earlier in time;
    duplicate events, leads or count rows; times after ``as_of``; an empty
    file. Rows with every cell empty are ignored. Times with a time zone are
    converted to UTC; all times are stored without a zone.

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
       row column                                     reason
    0    6   lead  dropped with lead 'L3' (row 7 is invalid)
    1    7  stage                       unknown stage 'sael'
    >>> log.stage_table()
         stage  entered  passed
    0  connect        2       1
    1     sale        1       1
    """
    fmt = choice("format", format, FORMATS)
    mode = choice("errors", errors, ERRORS)
    stage_map = _stage_map(stages, fmt)
    used = fields(columns, _FIELDS[fmt], fmt)
    snapshot = _as_of(as_of)
    src = read_source(source, encoding=encoding, delimiter=delimiter)
    reader = {"events": _read_events, "leads": _read_leads, "counts": _read_counts}[fmt]
    return reader(src, stage_map, used, snapshot, mode)


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
        raise LogError("log.error.stages_type", shape=shape, value=repr(stages))
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
    if isinstance(value, bool | int | float | np.number):
        raise LogError("log.error.as_of", value=repr(value))
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        stamp = pd.NaT
    if stamp is pd.NaT or pd.isna(stamp):
        raise LogError("log.error.as_of", value=repr(value))
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.as_unit("ns")


# ---------------------------------------------------- checks of every format
def _after_as_of(problems: Problems, times: np.ndarray, as_of: pd.Timestamp, column: str):
    late = ~np.isnat(times) & (times > as_of.to_datetime64())
    problems.add(
        late,
        column,
        "log.reason.after_as_of",
        lambda p: {"time": show_time(times[p]), "as_of": str(as_of)},
        "log.fix.after_as_of",
    )


def _dates(problems: Problems, frame: pd.DataFrame, column: str, *, required: bool) -> np.ndarray:
    """The dates of ``column``: NaT where empty or unreadable (a problem; an empty cell too
    when ``required``)."""
    times, empty, text = parse_times(frame[column])
    if required:
        problems.add(empty, column, "log.reason.no_date", None, "log.fix.bad_date")
    problems.add(
        ~empty & np.isnat(times), column, "log.reason.bad_date", quoted(text), "log.fix.bad_date"
    )
    return times


def _group_labels(frame: pd.DataFrame, cols: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Codes and labels of the group columns the file has (rep, source, ...)."""
    return {key: labels(frame[cols[key]]) for key in GROUP_FIELDS if key in cols}


def _order_checks(
    problems: Problems,
    pos: np.ndarray,
    times: np.ndarray | None,
    stages: Sequence[str],
    columns: tuple[Sequence[str], Sequence[str]],
    lead_label: Callable[[int], str],
    lead_of: np.ndarray,
) -> None:
    """A lead at a stage without the one before, or reaching it earlier in time.

    ``pos`` (leads x stages) is the source position of each stage reached
    (-1 when not reached), ``times`` the matching times, ``lead_of`` the lead
    index of each source position; ``columns`` is the column to blame for
    stage k's gap (``columns[0][k]``) and for its time (``columns[1][k]``).
    """
    gap_columns, time_columns = columns
    reached = pos >= 0
    for k in range(1, len(stages)):
        gap = reached[:, k] & ~reached[:, k - 1]
        problems.add(
            pos[gap, k],
            gap_columns[k],
            "log.reason.gap",
            lambda p, k=k: {
                "lead": lead_label(int(lead_of[p])),
                "stage": quote(stages[k]),
                "previous": quote(stages[k - 1]),
            },
            "log.fix.gap",
            previous=quote(stages[k - 1]),
        )
    if times is None:
        return
    ints = times.view(np.int64)  # NaT is the smallest int64, so it never wins a max
    for k in range(1, len(stages)):
        before = ints[:, :k]
        latest = before.max(axis=1)
        late = ~np.isnat(times[:, k]) & (latest > ints[:, k]) & reached[:, k]
        if not late.any():
            continue
        # each late lead's latest earlier stage
        which = before.argmax(axis=1)[late].tolist()
        last = dict(zip(np.flatnonzero(late).tolist(), which, strict=True))
        problems.add(
            pos[late, k],
            time_columns[k],
            "log.reason.order",
            lambda p, k=k, last=last: {
                "lead": lead_label(int(lead_of[p])),
                "stage": quote(stages[k]),
                "time": show_time(times[lead_of[p], k]),
                "previous": quote(stages[last[int(lead_of[p])]]),
                "earlier": show_time(times[lead_of[p], last[int(lead_of[p])]]),
            },
            "log.fix.order",
        )


def _default_as_of(times: np.ndarray | None, given: pd.Timestamp | None) -> pd.Timestamp | None:
    if given is not None:
        return given
    if times is None or times.size == 0:
        return None
    latest = times.reshape(-1).view(np.int64).max()  # NaT is the smallest int64
    return None if latest == np.iinfo(np.int64).min else pd.Timestamp(latest, unit="ns")


# ------------------------------------------------------------------ events
def _read_events(src: Source, stage_map: dict, given: dict, as_of, mode: str) -> Log:
    cols = resolve(src, _FIELDS["events"], given, _REQUIRED["events"])
    frame = src.frame
    stages = tuple(stage_map)
    problems = Problems(src)
    lead_code, lead_labels = lead_ids(problems, frame, cols["lead"])
    stage_code = _event_stages(problems, frame[cols["stage"]], cols["stage"], stage_map)
    times = _dates(problems, frame, cols["time"], required=True)
    if as_of is not None:
        _after_as_of(problems, times, as_of, cols["time"])
    amount = amounts(problems, frame, cols["amount"])[0] if "amount" in cols else None
    attrs = _group_labels(frame, cols)

    def lead_label(lead: int) -> str:
        return quote(lead_labels[lead])

    n_leads = len(lead_labels)
    grid = _event_checks(problems, lead_code, stage_code, times, n_leads, stages, cols, lead_label)
    # Every lead with any problem is dropped whole.
    bad_rows = problems.mask()
    bad_lead = np.zeros(n_leads + 1, dtype=bool)  # the last entry stands for no lead (code -1)
    bad_lead[lead_code[bad_rows & (lead_code >= 0)]] = True
    keep = (lead_code >= 0) & ~bad_lead[lead_code]
    problems.finish(mode, keep, format="events")
    if not problems.items:
        dropped = problems.dropped()  # empty
    else:
        first_bad = np.full(n_leads, len(frame), dtype=np.int64)  # each lead's first invalid row
        bad_with_lead = np.flatnonzero(bad_rows & (lead_code >= 0))
        np.minimum.at(first_bad, lead_code[bad_with_lead], bad_with_lead)
        dropped = problems.dropped(
            ~keep,
            cols["lead"],
            "log.reason.with_lead",
            lambda p: {
                "lead": lead_label(int(lead_code[p])),
                "row": int(src.rownum[first_bad[lead_code[p]]]),
            },
        )
    kept_lead = ~bad_lead[:-1]
    rows = np.flatnonzero(keep)
    index = pd.Index(lead_labels[kept_lead], dtype=object, name="lead")
    # Kept leads keep their order of first appearance; codes renumbered without hashing.
    code = (np.cumsum(kept_lead) - 1)[lead_code[rows]]
    stage = stage_code[rows]
    if kept_lead.all():
        at = grid
    else:
        at = np.full((len(index), len(stages)), NAT)
        at[code, stage] = times[rows]
    del grid
    reached = np.zeros((len(index), len(stages)), dtype=bool)
    reached[code, stage] = True
    return Log(
        format="events",
        stages=stages,
        leads=_event_leads(index, attrs, amount, rows, code, stage, len(stages)),
        reached=pd.DataFrame(reached, index=index, columns=list(stages)),
        times=pd.DataFrame(at, index=index, columns=list(stages)),
        as_of=_default_as_of(at, as_of),
        name=src.name,
        dropped=dropped,
    )


def _event_stages(problems: Problems, column: pd.Series, name: str, stage_map: dict) -> np.ndarray:
    """Each row's stage index (-1 when empty or unknown, a problem either way)."""
    label_code, stage_labels = labels(column)
    stage_of_label = pd.Index(list(stage_map.values())).get_indexer(stage_labels)
    stage_code = np.full(len(column), -1, dtype=np.int64)
    stage_code[label_code >= 0] = stage_of_label[label_code[label_code >= 0]]
    choices = ", ".join(quote(v) for v in stage_map.values())
    problems.add(
        label_code < 0, name, "log.reason.no_stage", None, "log.fix.unknown_stage", choices=choices
    )
    problems.add(
        (label_code >= 0) & (stage_code < 0),
        name,
        "log.reason.unknown_stage",
        lambda p: {"value": quote(stage_labels[label_code[p]])},
        "log.fix.unknown_stage",
        choices=choices,
    )
    return stage_code


def _event_checks(
    problems: Problems,
    lead_code: np.ndarray,
    stage_code: np.ndarray,
    times: np.ndarray,
    n_leads: int,
    stages: tuple[str, ...],
    cols: dict,
    lead_label: Callable[[int], str],
) -> np.ndarray:
    """The checks across a lead's rows: a repeated event, a stage without the one
    before, a stage earlier in time. Leads with an invalid row are left out of them.

    Returns the time of each lead at each stage (leads x stages, NaT where not
    reached or not checked).
    """
    n_stages = len(stages)
    bad_lead = np.zeros(n_leads + 1, dtype=bool)  # the last entry stands for no lead (code -1)
    bad_lead[lead_code[problems.mask() & (lead_code >= 0)]] = True
    ok = (lead_code >= 0) & ~bad_lead[lead_code]
    cell = np.where(ok, lead_code * n_stages + stage_code, 0)  # (lead, stage) of each row
    per_cell = np.bincount(cell[ok], minlength=n_leads * n_stages)
    dup, first_of = repeats(cell, ok & (per_cell[cell] > 1))  # a repeated event: rare
    del per_cell
    problems.add(
        dup,
        cols["stage"],
        "log.reason.duplicate_event",
        lambda p: {
            "lead": lead_label(int(lead_code[p])),
            "stage": quote(stages[stage_code[p]]),
            "row": int(problems.src.rownum[first_of[p]]),
        },
        "log.fix.duplicate_event",
    )
    bad_lead[lead_code[dup]] = True  # the lead's first row of the event too
    ok &= ~bad_lead[lead_code]
    ok_pos = np.flatnonzero(ok)
    pos = np.full((n_leads, n_stages), -1, dtype=np.int64)
    pos[lead_code[ok_pos], stage_code[ok_pos]] = ok_pos
    grid = np.full((n_leads, n_stages), NAT)
    grid[lead_code[ok_pos], stage_code[ok_pos]] = times[ok_pos]
    blame = ([cols["stage"]] * n_stages, [cols["time"]] * n_stages)
    _order_checks(problems, pos, grid, stages, blame, lead_label, lead_code)
    return grid


def _event_leads(
    index: pd.Index,
    attrs: dict,
    amount: np.ndarray | None,
    rows: np.ndarray,
    code: np.ndarray,
    stage: np.ndarray,
    n_stages: int,
) -> pd.DataFrame:
    """One row per kept lead: its rep, source, ... and amount, the last one given in
    stage order (at its furthest stage). ``rows`` are the kept rows, ``code`` and
    ``stage`` their lead and stage."""
    n_kept = len(index)

    def last_given(values: np.ndarray, given: np.ndarray, empty: object) -> np.ndarray:
        out = np.full(n_kept, empty, dtype=values.dtype)
        for k in range(n_stages):  # one row per lead and stage: each assignment is unique
            at_k = stage == k
            ok = given[rows[at_k]]
            out[code[at_k][ok]] = values[rows[at_k]][ok]
        return out

    leads = pd.DataFrame(index=index)
    for key, (codes, names) in attrs.items():
        leads[key] = text_column(last_given(codes, codes >= 0, -1), names).to_numpy()
    if amount is not None:
        leads["amount"] = last_given(amount, ~np.isnan(amount), np.nan)
    return leads


# ------------------------------------------------------------------- leads
def _read_leads(src: Source, stage_map: dict, given: dict, as_of, mode: str) -> Log:
    cols = resolve(src, _FIELDS["leads"], given, _REQUIRED["leads"], stages=stage_map)
    frame, n = src.frame, len(src.frame)
    stages = tuple(stage_map)
    if stage_map[stages[-1]] is None and "close" not in cols:
        raise LogError("log.error.stage_column", stage=quote(stages[-1]), value="None")
    problems = Problems(src)
    if "lead" in cols:
        lead_code, lead_labels = lead_ids(problems, frame, cols["lead"])
        ids = label_text(lead_code, lead_labels)
    else:
        ids = src.rownum.astype(str).astype(object)
    reached, at, said_no = _lead_stages(problems, frame, stage_map)
    if "close" in cols:
        _close_dates(problems, frame, cols["close"], reached, at, said_no, stages)
    has_times = bool((~np.isnat(at)).any())
    # The column to blame for each stage (a stage mapped to None: the lead or close column).
    stage_cols = [
        c if c is not None else cols.get("lead", "") if k == 0 else cols["close"]
        for k, c in enumerate(stage_map.values())
    ]
    if as_of is not None:
        for k in range(len(stages)):
            _after_as_of(problems, at[:, k], as_of, stage_cols[k])
    amount = amounts(problems, frame, cols["amount"])[0] if "amount" in cols else None
    attrs = _group_labels(frame, cols)

    def lead_label(p: int) -> str:
        return quote(ids[p])

    row_ok = ~problems.mask()
    if "lead" in cols:
        row_ok[_duplicate_leads(problems, cols["lead"], lead_code, row_ok, lead_label)] = False
    problems.add(
        row_ok & ~reached.any(axis=1),
        stage_cols[0],
        "log.reason.no_stage_reached",
        lambda p: {"lead": lead_label(p), "stage": quote(stages[0])},
        "log.fix.no_stage_reached",
        stage=quote(stages[0]),
    )
    positions = np.arange(n)
    pos = np.where(reached & row_ok[:, None], positions[:, None], -1)
    times = np.where(row_ok[:, None], at, NAT)
    _order_checks(problems, pos, times, stages, (stage_cols, stage_cols), lead_label, positions)
    keep = ~problems.mask()
    problems.finish(mode, keep, format="leads")
    rows = np.flatnonzero(keep)
    index = pd.Index(ids[rows], dtype=object, name="lead")
    leads = pd.DataFrame(index=index)
    for key, (codes, names) in attrs.items():
        leads[key] = text_column(codes[rows], names).to_numpy()
    if amount is not None:
        leads["amount"] = amount[rows]
    times = at[rows] if has_times else None
    return Log(
        format="leads",
        stages=stages,
        leads=leads,
        reached=pd.DataFrame(reached[rows], index=index, columns=list(stages)),
        times=None if times is None else pd.DataFrame(times, index=index, columns=list(stages)),
        as_of=_default_as_of(times, as_of),
        name=src.name,
        dropped=problems.dropped(),
    )


def _lead_stages(
    problems: Problems, frame: pd.DataFrame, stage_map: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which stages each row reached and when (rows x stages), from the stage columns'
    dates or yes/no flags, and which rows' last stage cell says no."""
    n, n_stages = len(frame), len(stage_map)
    reached = np.zeros((n, n_stages), dtype=bool)
    at = np.full((n, n_stages), NAT)
    said_no = np.zeros(n, dtype=bool)
    for k, column in enumerate(stage_map.values()):
        if column is None:
            reached[:, k] = k == 0
            continue
        hit, when, bad, text = flags_or_times(frame[column])
        reached[:, k], at[:, k] = hit & ~bad, when
        problems.add(bad, column, "log.reason.bad_flag", quoted(text), "log.fix.bad_flag")
        if k == n_stages - 1:
            said_no = text == "no"
    return reached, at, said_no


def _close_dates(
    problems: Problems,
    frame: pd.DataFrame,
    name: str,
    reached: np.ndarray,
    at: np.ndarray,
    said_no: np.ndarray,
    stages: tuple[str, ...],
) -> None:
    """A close date means the last stage was reached then: ``reached`` and ``at`` updated."""
    close = _dates(problems, frame, name, required=False)
    last = quote(stages[-1])
    problems.add(
        said_no & ~np.isnat(close),  # said_no is all False when the last stage has no column
        name,
        "log.reason.close_not_reached",
        lambda p: {"stage": last},
        "log.fix.close_not_reached",
        stage=last,
    )
    reached[:, -1] |= ~np.isnat(close)
    at[:, -1] = np.where(np.isnat(at[:, -1]), close, at[:, -1])


def _duplicate_leads(
    problems: Problems,
    column: str,
    lead_code: np.ndarray,
    row_ok: np.ndarray,
    lead_label: Callable[[int], str],
) -> np.ndarray:
    """Valid rows of a lead seen in an earlier valid row: a problem each; returns them."""
    dup, first_of = repeats(lead_code, row_ok)
    problems.add(
        dup,
        column,
        "log.reason.duplicate_lead",
        lambda p: {"lead": lead_label(p), "row": int(problems.src.rownum[first_of[p]])},
        "log.fix.duplicate_lead",
    )
    return dup


# ------------------------------------------------------------------ counts
def _read_counts(src: Source, stage_map: dict, given: dict, as_of, mode: str) -> Log:
    cols = resolve(src, _FIELDS["counts"], given, _REQUIRED["counts"], stages=stage_map)
    frame = src.frame
    stages = tuple(stage_map)
    problems = Problems(src)
    out, key_codes = _count_groups(problems, frame, cols)
    counts = _count_values(problems, frame, stage_map)
    if key_codes:
        _duplicate_counts(problems, frame, cols, stage_map, key_codes)
    amount = amounts(problems, frame, cols["amount"])[0] if "amount" in cols else None
    keep = ~problems.mask()
    problems.finish(mode, keep, format="counts")
    rows = np.flatnonzero(keep)
    table = pd.DataFrame({key: values[rows] for key, values in out.items()})
    for k, stage in enumerate(stages):
        table[stage] = counts[rows, k].astype(np.int64)
    if amount is not None:
        table["amount"] = amount[rows]
    table.index = pd.RangeIndex(len(rows))
    if as_of is None and "period" in table and pd.api.types.is_datetime64_dtype(table["period"]):
        as_of = table["period"].max()
    return Log(
        format="counts",
        stages=stages,
        counts=table,
        as_of=as_of,
        name=src.name,
        dropped=problems.dropped(),
    )


def _count_groups(
    problems: Problems, frame: pd.DataFrame, cols: dict
) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """The period (dates when every one is a date) and group columns of a counts log,
    and the codes that identify each row's period and group."""
    out, key_codes = {}, []
    if "period" in cols:
        text, native = cells(frame[cols["period"]])
        empty = (text == "") & np.isnat(native)
        problems.add(empty, cols["period"], "log.reason.no_period", None, "log.fix.no_period")
        dates = np.where(np.isnat(native), text_times(pd.Series(text, dtype=object)), native)
        if np.isnat(dates[~empty]).any():  # not all dates: keep the periods as written
            codes, names = labels(frame[cols["period"]])
            out["period"] = text_column(codes, names).to_numpy()
            key_codes.append(codes)
        else:
            out["period"] = dates.astype("datetime64[ns]")
            key_codes.append(pd.factorize(dates)[0])
    for key in ("rep", "source", "segment"):
        if key in cols:
            codes, names = labels(frame[cols[key]])
            out[key] = text_column(codes, names).to_numpy()
            key_codes.append(codes)
    return out, key_codes


def _count_values(problems: Problems, frame: pd.DataFrame, stage_map: dict) -> np.ndarray:
    """The counts (rows x stages); empty, negative, fractional or rising counts are problems."""
    counts = np.zeros((len(frame), len(stage_map)))
    valid = np.zeros((len(frame), len(stage_map)), dtype=bool)
    for k, column in enumerate(stage_map.values()):
        values, empty, text = parse_numbers(frame[column])
        counts[:, k] = values
        finite = np.isfinite(values)
        whole = finite & (values >= 0) & (values == np.floor(values))
        valid[:, k] = whole
        # one problem per kind, so that each message fits all its rows
        problems.add(empty, column, "log.reason.no_count", None, "log.fix.bad_count")
        problems.add(
            ~empty & ~finite,
            column,
            "log.reason.count_not_number",
            quoted(text),
            "log.fix.bad_count",
        )
        problems.add(
            finite & (values < 0),
            column,
            "log.reason.count_negative",
            quoted(text),
            "log.fix.bad_count",
        )
        problems.add(
            finite & (values >= 0) & ~whole,
            column,
            "log.reason.count_fraction",
            quoted(text),
            "log.fix.bad_count",
        )
    stages, columns = list(stage_map), list(stage_map.values())
    for k in range(1, len(stages)):
        problems.add(
            valid[:, k] & valid[:, k - 1] & (counts[:, k] > counts[:, k - 1]),
            columns[k],
            "log.reason.rising",
            lambda p, k=k: {
                "stage": quote(stages[k]),
                "count": f"{counts[p, k]:g}",
                "previous": quote(stages[k - 1]),
                "before": f"{counts[p, k - 1]:g}",
            },
            "log.fix.rising",
        )
    return counts


def _duplicate_counts(
    problems: Problems,
    frame: pd.DataFrame,
    cols: dict,
    stage_map: dict,
    key_codes: list[np.ndarray],
) -> None:
    """A second valid row for the same period and group."""
    ok_pos = np.flatnonzero(~problems.mask())
    repeated = pd.DataFrame(np.column_stack(key_codes)[ok_pos]).duplicated(keep="first")
    dup = np.zeros(len(frame), dtype=bool)
    dup[ok_pos[repeated.to_numpy()]] = True
    key_cols = [cols[k] for k in ("period", "rep", "source", "segment") if k in cols]
    names = ", ".join(map(quote, key_cols))
    if "period" in cols:
        problems.add(
            dup,
            key_cols[0],
            "log.reason.duplicate_row",
            lambda p: {"columns": names},
            "log.fix.duplicate_row",
        )
    else:  # most likely the week column was not named
        used = {*cols.values(), *stage_map.values()}
        spare = [c for c in frame.columns if c not in used]
        problems.add(
            dup,
            key_cols[0],
            "log.reason.duplicate_row",
            lambda p: {"columns": names},
            "log.fix.duplicate_no_period",
            columns=", ".join(map(quote, spare)) or "-",
        )
