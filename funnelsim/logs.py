"""Logs in one normalised form, whatever came in.

:func:`read_log` reads events, leads and counts logs from CSV, Excel,
Parquet or a DataFrame, validates them once and returns a :class:`Log`.
Every analysis (``fit``, cycle length, rep comparison) reads the
:class:`Log`, never the raw file.

Rows are numbered as in a spreadsheet: the header is row 1, the first data
row is row 2 (for a DataFrame too: row ``r`` is ``df.iloc[r - 2]``).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .funnel import Funnel
from .i18n import FunnelsimValueError, t

__all__ = ["Log", "LogError", "read_log"]

GROUP_FIELDS = ("rep", "source", "segment", "period")


class LogError(FunnelsimValueError):
    """A log that cannot be read as it is: the message says what, where and how to fix it.

    ``.key`` and ``.values`` identify the message (see
    :class:`~funnelsim.i18n.FunnelsimError`); a message listing several
    problems has the key ``"log.error.title"`` (``"pipeline.error.title"``
    for pipelines) and one entry per problem in ``.values["problems"]``.
    """


LogError.__module__ = "funnelsim"  # tracebacks name it as users import it


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


# ------------------------------------------------------------------ read_log
FORMATS = ("events", "leads", "counts")
_FIELDS = {
    "events": ("lead", "stage", "time", "rep", "source", "segment", "period", "amount"),
    "leads": ("lead", "rep", "source", "segment", "period", "amount", "close"),
    "counts": ("period", "rep", "source", "segment", "amount"),
}
_REQUIRED = {"events": ("lead", "stage", "time"), "leads": (), "counts": ()}
_ATTRIBUTES = ("rep", "source", "segment", "period")
_TRUE = frozenset({"true", "yes", "y", "1", "1.0", "是"})
_FALSE = frozenset({"false", "no", "n", "0", "0.0", "否"})
_DELIMITERS = (",", ";", "\t", "|")
_SHOW_ROWS = 5
# Dates are read year first: 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日, with an optional time.
# (Plain pattern strings, so that Arrow-backed text runs them in C.)
_DATE_PREFIX = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*日)?"
_ISO = (
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?"
)
_NAT = np.datetime64("NaT", "ns")
_MIN_TIME = pd.Timestamp.min.as_unit("ns").to_datetime64()
_MAX_TIME = pd.Timestamp.max.as_unit("ns").to_datetime64()


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
    fmt = _choice("format", format, FORMATS)
    mode = _choice("errors", errors, ("raise", "drop"))
    stage_map = _stage_map(stages, fmt)
    fields = _fields(columns, fmt)
    snapshot = _as_of(as_of)
    if delimiter is not None and not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise LogError("log.error.delimiter", value=repr(delimiter))
    if encoding is not None:
        try:
            "".encode(encoding)
        except (LookupError, TypeError):
            raise LogError("log.error.encoding_name", value=repr(encoding)) from None
    src = _read_source(source, encoding=encoding, delimiter=delimiter)
    reader = {"events": _read_events, "leads": _read_leads, "counts": _read_counts}[fmt]
    return reader(src, stage_map, fields, snapshot, mode)


# ------------------------------------------------------------- arguments


def _raise_missing_columns(src, missing: list[str]) -> None:
    """One LogError listing every missing column, with the columns the file has."""
    columns = list(src.frame.columns)
    shown = [_q(c) for c in columns[:40]]
    values = {
        "name": src.name,
        "count": len(missing),
        "available": ", ".join(shown) + (", ..." if len(columns) > 40 else ""),
    }
    head = t("log.error.missing_columns", **values)
    raise LogError(
        "log.error.missing_columns", message="\n".join([head, *missing]), missing=missing, **values
    )


def _q(value: object) -> str:
    """A value quoted for a message."""
    return f"'{value}'"


def _choice(name: str, value: object, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise LogError("error.choice", name=name, value=repr(value), choices=", ".join(choices))
    return value


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
            raise LogError("log.error.stage_column", stage=_q(name), value=repr(column))
        if column is None and fmt != "leads":
            raise LogError("log.error.stage_column", stage=_q(name), value=repr(column))
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
        raise LogError("log.error.stage_column", stage=_q(inner[0]), value="None")
    return out


def _fields(columns: object, fmt: str) -> dict[str, str]:
    if columns is None:
        return {}
    choices = ", ".join(_FIELDS[fmt])
    if not isinstance(columns, Mapping):
        raise LogError("log.error.columns_type", choices=choices, value=repr(columns))
    out = {}
    for key, column in columns.items():
        if key not in _FIELDS[fmt]:
            raise LogError("log.error.columns_key", key=repr(key), format=fmt, choices=choices)
        if not isinstance(column, str) or not column.strip():
            raise LogError("log.error.columns_value", key=key, value=repr(column))
        out[key] = column.strip()
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


# ---------------------------------------------------------------- sources
@dataclass(frozen=True)
class _Source:
    frame: pd.DataFrame  # non-empty rows, stripped column names, RangeIndex
    rownum: np.ndarray  # spreadsheet row of each frame row (the header is row 1)
    name: str


def _read_source(source: object, *, encoding: str | None, delimiter: str | None) -> _Source:
    if isinstance(source, pd.DataFrame):  # an app may name its table
        name, frame = str(source.attrs.get("funnelsim_name", "DataFrame")), source
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = path.name or str(path)
        if not path.is_file():
            raise LogError("log.error.not_found", name=str(path), cwd=os.getcwd())
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            frame = _read_with(
                name,
                "Excel",
                lambda: pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl"),
            )
        elif suffix in (".parquet", ".pq"):
            frame = _read_with(name, "Parquet", lambda: pd.read_parquet(path))
        elif suffix == ".xls":
            raise LogError("log.error.xls", name=name)
        else:
            frame = _read_csv(path.read_bytes(), name, encoding, delimiter)
    else:
        raise LogError("log.error.source_type", value=type(source).__name__)
    return _prepare(frame, name)


def _read_with(name: str, kind: str, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Run a third-party reader; any failure becomes a LogError naming the file."""
    try:
        return read()
    except pd.errors.EmptyDataError:
        raise LogError("log.error.empty", name=name) from None
    except MemoryError:
        raise
    except Exception as exc:  # the C parser, openpyxl, pyarrow and zipfile raise many kinds
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        if kind == "CSV":
            raise LogError("log.error.unreadable_csv", name=name, detail=detail) from None
        raise LogError("log.error.unreadable", name=name, kind=kind, detail=detail) from None


def _read_csv(raw: bytes, name: str, encoding: str | None, delimiter: str | None):
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise LogError(
                "log.error.unreadable", name=name, kind="gzip", detail=str(exc)[:300]
            ) from None
    text = _decode(raw, name, encoding)
    if not text.strip():
        raise LogError("log.error.empty", name=name)
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        raise LogError("log.error.nul", name=name, row=row)
    sep = delimiter or _sniff(text)
    frame = _read_with(
        name,
        "CSV",
        lambda: pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="c",
        ),
    )
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas turns the extra cells of rows longer than the header into an
        # index, shifting every cell: refuse, naming the first such row.
        _raise_ragged(text, sep, name)
    return frame


def _raise_ragged(text: str, sep: str, name: str) -> None:
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    header = len(next(rows))
    for number, cells in enumerate(rows, start=2):
        if len(cells) > header:
            raise LogError(
                "log.error.ragged", name=name, row=number, cells=len(cells), header=header
            )
    raise LogError("log.error.ragged", name=name, row="?", cells="?", header=header)


def _decode(raw: bytes, name: str, encoding: str | None) -> str:
    if encoding:
        tries = [encoding]
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        tries = ["utf-16"]
    else:
        tries = ["utf-8-sig", "gb18030"]
    first_error = None
    for enc in tries:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
            continue
        if enc == "gb18030" and not encoding:
            _check_chinese(text, raw, name)
        return text
    row = raw[: first_error.start].count(b"\n") + 1
    raise LogError("log.error.encoding", name=name, row=row, encodings=", ".join(tries)) from None


def _check_chinese(text: str, raw: bytes, name: str) -> None:
    """A file that is not UTF-8 decodes as GB18030 almost whatever it is. Refuse it
    when it reads better as a Western European export (cp1252): its non-ASCII
    characters are then mostly letters ("Müller"), while as Chinese they are mostly
    outside GB2312's common characters ("M黮ler"). Checks the first megabyte."""
    head = raw[:1_000_000]
    try:
        western = head.decode("cp1252")
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined: not a Western export
        return
    wide = [c for c in text[: len(western)] if ord(c) > 0x7F]
    if not wide:
        return
    common = sum(
        len(b := c.encode("gb18030")) == 2 and 0xA1 <= b[0] <= 0xF7 and b[1] >= 0xA1 for c in wide
    )
    letters = [c for c in western if ord(c) > 0x7F]
    if common < 0.5 * len(wide) and sum(c.isalpha() for c in letters) > 0.5 * len(letters):
        line = next(ln for ln in text.splitlines() if any(ord(c) > 0x7F for c in ln))
        raise LogError("log.error.encoding_guess", name=name, sample=repr(line.strip()[:60]))


def _sniff(text: str) -> str:
    """The delimiter that appears most in the header line (outside quotes)."""
    header = re.sub(r'"[^"]*"', "", text.lstrip("\ufeff").split("\n", 1)[0])
    counts = [header.count(d) for d in _DELIMITERS]
    return _DELIMITERS[int(np.argmax(counts))] if max(counts) > 0 else ","


def _prepare(frame: pd.DataFrame, name: str) -> _Source:
    labels = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    repeated = sorted({c for c in labels if labels.count(c) > 1})
    if repeated:
        raise LogError("log.error.repeated_columns", name=name, value=", ".join(repeated))
    frame = frame.set_axis(labels, axis=1).reset_index(drop=True)
    empty = np.ones(len(frame), dtype=bool)
    for col in frame.columns:
        rows = np.flatnonzero(empty)
        if rows.size == 0:
            break
        column = frame[col] if rows.size == len(frame) else frame[col].iloc[rows]
        empty[rows] = _blank(column)
    rownum = np.flatnonzero(~empty) + 2
    if rownum.size == 0:
        raise LogError("log.error.empty", name=name)
    if empty.any():
        frame = frame.iloc[rownum - 2].reset_index(drop=True)
    return _Source(frame, rownum, name)


def _resolve(src: _Source, fmt: str, fields: dict[str, str], stage_map: dict) -> dict[str, str]:
    """The file's column for each field used; one LogError for every missing column."""
    have = set(src.frame.columns)
    used, missing = {}, []
    for key in _FIELDS[fmt]:
        column = fields.get(key, key)
        if column in have:
            used[key] = column
        elif key in fields or key in _REQUIRED[fmt]:
            missing.append(t("log.error.missing_field", column=_q(column), field=key))
    if fmt != "events":
        for stage, column in stage_map.items():
            if column is not None and column not in have:
                missing.append(t("log.error.missing_stage", column=_q(column), stage=_q(stage)))
    if missing:
        _raise_missing_columns(src, missing)
    return used


# ----------------------------------------------------------------- cells
def _cell_text(v: object) -> str:
    """One cell as stripped text ('' when empty); whole floats lose their '.0'."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        x = float(v)
        if np.isnan(x):
            return ""
        return str(int(x)) if x.is_integer() else repr(x)
    if isinstance(v, datetime.datetime | np.datetime64):
        stamp = pd.Timestamp(v)
        if pd.isna(stamp):
            return ""
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v).strip()


def _is_text(values: pd.Series | pd.Index) -> bool:
    """Every non-empty cell is a string (string dtypes, or object holding only str)."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return pd.api.types.is_object_dtype(values.dtype) and pd.api.types.infer_dtype(
        values, skipna=True
    ) in ("string", "empty")


def _is_dates(dtype: object) -> bool:
    return pd.api.types.is_datetime64_any_dtype(dtype)


def _strip(series: pd.Series) -> pd.Series:
    """Text cells stripped, '' when empty (vectorised for Arrow-backed strings)."""
    return series.str.strip().fillna("")


def _labels(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for empty cells) and text labels, in order of first appearance."""
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells
        codes, uniques = pd.factorize(series.map(_cell_text), use_na_sentinel=True)
    uniques = pd.Index(uniques)
    codes = np.asarray(codes, dtype=np.int64)
    if pd.api.types.is_integer_dtype(uniques.dtype) and not pd.api.types.is_bool_dtype(
        uniques.dtype
    ):
        # Distinct whole numbers have distinct texts: nothing to strip or merge
        # (vectorised: lead ids of a 10-million-row log take seconds one by one).
        return codes, np.asarray(uniques.astype(str), dtype=object)
    if _is_text(uniques):
        stripped = uniques.str.strip()
        text = np.asarray(stripped, dtype=object)
        if not ((stripped != uniques).any() or (stripped == "").any()):
            return codes, text  # nothing to strip or merge
    else:
        text = np.array([_cell_text(u) for u in uniques], dtype=object)
    merged, labels = pd.factorize(text)
    labels = np.asarray(labels, dtype=object)
    if "" in set(labels):
        blank = int(np.flatnonzero(labels == "")[0])
        merged = np.where(merged == blank, -1, merged - (merged > blank))
        labels = np.delete(labels, blank)
    codes = np.where(codes >= 0, merged[np.maximum(codes, 0)] if merged.size else -1, -1)
    return codes.astype(np.int64), labels


def _cells(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell as text ('' when empty or a date) and as a date (NaT when not a date)."""
    n = len(series)
    nat = np.full(n, _NAT)
    if _is_dates(series.dtype):
        return np.full(n, "", dtype=object), _native_times(series)
    if _is_text(series):
        return _strip(series).to_numpy(dtype=object), nat
    if pd.api.types.is_object_dtype(series.dtype):
        values = series.to_numpy(dtype=object)
        is_date = np.array(
            [isinstance(v, datetime.date | np.datetime64) and not pd.isna(v) for v in values],
            dtype=bool,
        )
        if is_date.any():
            times = nat.copy()
            times[is_date] = _native_times(pd.Series(values[is_date], dtype=object))
            text = np.full(n, "", dtype=object)
            text[~is_date] = _label_text(*_labels(pd.Series(values[~is_date], dtype=object)))
            for p in np.flatnonzero(is_date & np.isnat(times)):  # out of range: show as text
                text[p] = _cell_text(values[p]) or repr(values[p])
            return text, times
    return _label_text(*_labels(series)), nat


def _blank(series: pd.Series) -> np.ndarray:
    """Which cells are empty (None, NaN, NaT, or only spaces)."""
    if _is_dates(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.isna().to_numpy(dtype=bool)
    if _is_text(series):
        return (_strip(series) == "").to_numpy(dtype=bool)
    text, native = _cells(series)
    return (text == "") & np.isnat(native)


def _label_text(codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Text of each cell from its code ('' for -1)."""
    text = np.full(len(codes), "", dtype=object)
    has = codes >= 0
    text[has] = labels[codes[has]]
    return text


def _native_times(series: pd.Series) -> np.ndarray:
    """Dates stored as dates: UTC for time-zone-aware ones, NaT when out of range."""
    if isinstance(series, pd.Series) and pd.api.types.is_datetime64_dtype(series.dtype):
        values = series.to_numpy()  # naive numpy datetimes: no parsing, no copy when ns
        if values.dtype == "datetime64[ns]":
            return values
        known = values[~np.isnat(values)]
        if known.size == 0 or (known.min() >= _MIN_TIME and known.max() <= _MAX_TIME):
            return values.astype("datetime64[ns]")
    parsed = pd.to_datetime(series, errors="coerce", utc=True)
    parsed = pd.Series(parsed).dt.tz_localize(None)
    low, high = pd.Timestamp.min, pd.Timestamp.max
    parsed = parsed.where((parsed >= low) & (parsed <= high))
    return parsed.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]")


def _text_times(text: pd.Series) -> np.ndarray:
    """Parse stripped, year-first date strings; NaT for anything else (and for '').

    The two regular expressions run in Arrow's C kernels (RE2), then pandas'
    ISO 8601 parser reads the normalised strings.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(len(text), _NAT)
    if len(text) == 0:
        return out
    if hasattr(text.array, "__arrow_array__"):
        arr = pa.array(text.array)
    else:
        values = text.to_numpy(dtype=object)
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    norm = pc.replace_substring_regex(arr, pattern=_DATE_PREFIX, replacement=r"\1-\2-\3")
    ok = pc.match_substring_regex(norm, pattern=f"^(?:{_ISO})$")
    ok = np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool)
    if ok.any():
        strings = pd.Series(norm.filter(pa.array(ok)).to_numpy(zero_copy_only=False), dtype=object)
        parsed = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=True)
        out[ok] = _native_times(parsed)
    return out


def _parse_times(series: pd.Series) -> tuple[np.ndarray, np.ndarray, object]:
    """Dates (datetime64[ns]), which cells are empty, and the cells' text for messages."""
    if _is_dates(series.dtype):
        times = _native_times(series)
        return times, series.isna().to_numpy(dtype=bool), _LazyText(series)
    if _is_text(series):
        text = _strip(series)
        return _text_times(text), (text == "").to_numpy(dtype=bool), _LazyText(text)
    text, native = _cells(series)
    parsed = _text_times(pd.Series(text, dtype=object))
    times = np.where(np.isnat(native), parsed, native).astype("datetime64[ns]")
    return times, (text == "") & np.isnat(native), text


def _parse_numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray, object]:
    """Numbers (NaN when empty or not a number), which cells are empty, and the text."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return values, np.isnan(values), _LazyText(series)
    if _is_text(series):
        text = _strip(series)
        lazy = _LazyText(text)
    else:
        cells, native = _cells(series)
        text = pd.Series(np.where(np.isnat(native), cells, native.astype(str)), dtype=object)
        lazy = text.to_numpy(dtype=object)
    empty = (text == "").to_numpy(dtype=bool)
    try:
        numbers = pd.to_numeric(text.where(~empty), errors="coerce")
        values = pd.Series(numbers).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError, OverflowError):
        values = np.array([_float(v) for v in text], dtype=float)
    return values, empty, lazy


class _LazyText:
    """Cell text for messages, made only for the cells a message shows."""

    def __init__(self, series: pd.Series) -> None:
        self.series = series

    def __getitem__(self, p: int) -> str:
        return _cell_text(self.series.iloc[p])


def _float(s: object) -> float:
    try:
        return float(s)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return np.nan


def _flags_or_times(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stage column of a leads log: reached, time, which cells are invalid, and the text."""
    if _is_dates(series.dtype):
        times = _native_times(series)
        text = np.full(len(series), "", dtype=object)
        return ~np.isnat(times), times, np.zeros(len(series), dtype=bool), text
    if _is_text(series):
        text = _strip(series)
    else:
        cells, native = _cells(series)
        text = pd.Series(np.where(np.isnat(native), cells, native.astype(str)), dtype=object)
    low = text.str.lower()
    yes = low.isin(_TRUE).to_numpy(dtype=bool)
    no = low.isin(_FALSE).to_numpy(dtype=bool)
    rest = (text != "").to_numpy(dtype=bool) & ~yes & ~no
    times = _text_times(text.where(rest, ""))
    bad = rest & np.isnat(times)
    reached = yes | ~np.isnat(times)
    shown = np.where(no, "no", text.to_numpy(dtype=object))
    return reached, times, bad, shown


def _show_time(value: np.datetime64) -> str:
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)


# --------------------------------------------------------------- problems
@dataclass(frozen=True)
class _Problem:
    positions: np.ndarray  # 0-based rows of the prepared frame, ascending
    column: str
    detail: Callable[[int], str]  # the reason for one row, from its position
    fix: str


class _Problems:
    """Every problem found, so that one LogError (or one dropped report) tells all."""

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.items: list[_Problem] = []

    def add(self, where: np.ndarray, column: str, detail, fix: str) -> None:
        where = np.asarray(where)
        positions = np.flatnonzero(where) if where.dtype == bool else np.unique(where)
        if positions.size:
            self.items.append(_Problem(positions.astype(np.int64), column, detail, fix))

    def mask(self) -> np.ndarray:
        out = np.zeros(len(self.src.frame), dtype=bool)
        for item in self.items:
            out[item.positions] = True
        return out

    def raise_error(self, fmt: str, *, all_invalid: bool = False) -> None:
        lines = [
            t("log.error.title", name=self.src.name, format=fmt, count=len(self.items)),
        ]
        for item in self.items:
            rows = self.src.rownum[item.positions]
            lines.append(
                t(
                    "log.error.problem",
                    column=_q(item.column),
                    rows=_rows(rows),
                    reason=item.detail(int(item.positions[0])),
                    fix=item.fix,
                )
            )
        lines.append(t("log.error.all_invalid") if all_invalid else t("log.error.drop_hint"))
        raise LogError(
            "log.error.title",
            message="\n".join(lines),
            name=self.src.name,
            format=fmt,
            count=len(self.items),
            problems=[
                (item.column, self.src.rownum[item.positions].tolist()) for item in self.items
            ],
        )

    def dropped(self, extra: np.ndarray, column: str, detail) -> pd.DataFrame:
        """One row per dropped source row: its own first problem, or why it went with it."""
        seen = np.zeros(len(self.src.frame), dtype=bool)
        rows, cols, reasons = [], [], []
        for item in self.items:
            new = item.positions[~seen[item.positions]]
            seen[new] = True
            rows.extend(self.src.rownum[new].tolist())
            cols.extend([item.column] * len(new))
            reasons.extend(item.detail(int(p)) for p in new)
        extra = np.flatnonzero(extra & ~seen)
        rows.extend(self.src.rownum[extra].tolist())
        cols.extend([column] * len(extra))
        reasons.extend(detail(int(p)) for p in extra)
        out = pd.DataFrame(
            {
                "row": np.asarray(rows, dtype=np.int64),
                "column": pd.Series(cols, dtype=object),
                "reason": pd.Series(reasons, dtype=object),
            }
        )
        return out.sort_values("row", kind="stable").reset_index(drop=True)


def _rows(rows: np.ndarray) -> str:
    rows = np.unique(rows)
    shown = ", ".join(str(r) for r in rows[:_SHOW_ROWS])
    if rows.size == 1:
        return t("log.error.rows_one", rows=shown)
    if rows.size <= _SHOW_ROWS:
        return t("log.error.rows_some", rows=shown, total=rows.size)
    return t("log.error.rows_many", rows=shown, more=rows.size - _SHOW_ROWS, total=rows.size)


def _empty_dropped() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.array([], dtype=np.int64),
            "column": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object),
        }
    )


# ------------------------------------------------------------ lead checks
def _order_checks(
    problems: _Problems,
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
        where = pos[gap, k]
        problems.add(
            where,
            gap_columns[k],
            lambda p, k=k: t(
                "log.reason.gap",
                lead=lead_label(int(lead_of[p])),
                stage=_q(stages[k]),
                previous=_q(stages[k - 1]),
            ),
            t("log.fix.gap", previous=_q(stages[k - 1])),
        )
    if times is None:
        return
    ints = times.view(np.int64)  # NaT is the smallest int64, so it never wins a max
    for k in range(1, len(stages)):
        before = ints[:, :k]
        latest = before.max(axis=1)
        which = before.argmax(axis=1)
        late = ~np.isnat(times[:, k]) & (latest > ints[:, k]) & reached[:, k]
        if not late.any():
            continue
        where = pos[late, k]
        by_lead = dict(zip(np.flatnonzero(late).tolist(), which[late].tolist(), strict=True))

        def detail(p, k=k, by_lead=by_lead):
            lead = int(lead_of[p])
            j = by_lead[lead]
            return t(
                "log.reason.order",
                lead=lead_label(lead),
                stage=_q(stages[k]),
                time=_show_time(times[lead, k]),
                previous=_q(stages[j]),
                earlier=_show_time(times[lead, j]),
            )

        problems.add(where, time_columns[k], detail, t("log.fix.order"))


def _finish(problems: _Problems, fmt: str, mode: str, keep: np.ndarray) -> None:
    if problems.items and (mode == "raise" or not keep.any()):
        problems.raise_error(fmt, all_invalid=mode == "drop")


def _text_column(codes: np.ndarray, labels: np.ndarray) -> pd.Series:
    values = np.full(len(codes), np.nan, dtype=object)
    has = codes >= 0
    values[has] = labels[codes[has]]
    return pd.Series(values, dtype=object)


def _default_as_of(times: np.ndarray | None, given: pd.Timestamp | None) -> pd.Timestamp | None:
    if given is not None:
        return given
    if times is None or times.size == 0:
        return None
    latest = times.reshape(-1).view(np.int64).max()  # NaT is the smallest int64
    return None if latest == np.iinfo(np.int64).min else pd.Timestamp(latest, unit="ns")


# ------------------------------------------------------------------ events
def _read_events(src, stage_map, fields, as_of, mode) -> Log:
    cols = _resolve(src, "events", fields, stage_map)
    frame, n = src.frame, len(src.frame)
    stages = tuple(stage_map)
    n_stages = len(stages)
    problems = _Problems(src)

    lead_code, lead_labels = _labels(frame[cols["lead"]])
    problems.add(
        lead_code < 0, cols["lead"], lambda p: t("log.reason.no_lead"), t("log.fix.no_lead")
    )

    label_code, stage_labels = _labels(frame[cols["stage"]])
    stage_of_label = pd.Index(list(stage_map.values())).get_indexer(stage_labels)
    stage_code = np.full(n, -1, dtype=np.int64)
    stage_code[label_code >= 0] = stage_of_label[label_code[label_code >= 0]]

    def stage_text(p: int) -> str:
        return stage_labels[label_code[p]] if label_code[p] >= 0 else ""

    fix = t("log.fix.unknown_stage", choices=", ".join(_q(v) for v in stage_map.values()))
    problems.add(label_code < 0, cols["stage"], lambda p: t("log.reason.no_stage"), fix)
    problems.add(
        (label_code >= 0) & (stage_code < 0),
        cols["stage"],
        lambda p: t("log.reason.unknown_stage", value=_q(stage_text(p))),
        fix,
    )

    times, empty, time_text = _parse_times(frame[cols["time"]])
    problems.add(empty, cols["time"], lambda p: t("log.reason.no_date"), t("log.fix.bad_date"))
    problems.add(
        np.isnat(times) & ~empty,
        cols["time"],
        lambda p: t("log.reason.bad_date", value=_q(time_text[p])),
        t("log.fix.bad_date"),
    )
    if as_of is not None:
        _after_as_of(problems, times, as_of, cols["time"])
    amount = _amounts(problems, frame, cols)
    attrs = {key: _labels(frame[cols[key]]) for key in _ATTRIBUTES if key in cols}

    def lead_label(lead: int) -> str:
        return _q(lead_labels[lead])

    # Leads with an invalid row are left out of the checks across rows (and dropped).
    n_leads = len(lead_labels)
    bad_lead = np.zeros(n_leads + 1, dtype=bool)  # the last entry stands for no lead (code -1)
    bad_lead[lead_code[problems.mask() & (lead_code >= 0)]] = True
    ok = (lead_code >= 0) & ~bad_lead[lead_code]
    cell = np.where(ok, lead_code * n_stages + stage_code, 0)  # (lead, stage) of each row
    per_cell = np.bincount(cell[ok], minlength=n_leads * n_stages)
    repeated = np.flatnonzero(ok & (per_cell[cell] > 1))  # rows of a repeated event: rare
    first = pd.Series(repeated).groupby(cell[repeated]).transform("first").to_numpy()
    first_of = dict(zip(repeated.tolist(), first.tolist(), strict=True))
    problems.add(
        repeated[first != repeated],
        cols["stage"],
        lambda p: t(
            "log.reason.duplicate_event",
            lead=lead_label(int(lead_code[p])),
            stage=_q(stages[stage_code[p]]),
            row=int(src.rownum[first_of[p]]),
        ),
        t("log.fix.duplicate_event"),
    )
    del per_cell
    bad_lead[lead_code[repeated]] = True
    ok &= ~bad_lead[lead_code]

    ok_pos = np.flatnonzero(ok)
    pos = np.full((n_leads, n_stages), -1, dtype=np.int64)
    pos[lead_code[ok_pos], stage_code[ok_pos]] = ok_pos
    grid = np.full((n_leads, n_stages), _NAT)
    grid[lead_code[ok_pos], stage_code[ok_pos]] = times[ok_pos]
    blame = ([cols["stage"]] * n_stages, [cols["time"]] * n_stages)
    _order_checks(problems, pos, grid, stages, blame, lead_label, lead_code)
    del pos, ok, ok_pos
    # Every lead with any problem is dropped whole.
    bad_rows = problems.mask()
    bad_lead[lead_code[bad_rows & (lead_code >= 0)]] = True
    keep = (lead_code >= 0) & ~bad_lead[lead_code]
    _finish(problems, "events", mode, keep)

    if problems.items:
        first_bad = np.full(n_leads, n, dtype=np.int64)  # each lead's first invalid row
        bad_with_lead = np.flatnonzero(bad_rows & (lead_code >= 0))
        np.minimum.at(first_bad, lead_code[bad_with_lead], bad_with_lead)
        dropped = problems.dropped(
            ~keep,
            cols["lead"],
            lambda p: t(
                "log.reason.with_lead",
                lead=lead_label(int(lead_code[p])),
                row=int(src.rownum[first_bad[lead_code[p]]]),
            ),
        )
    else:
        dropped = _empty_dropped()

    # Kept leads keep their order of first appearance; codes renumbered without hashing.
    kept_lead = ~bad_lead[:-1]
    renumber = np.cumsum(kept_lead) - 1
    rows = np.flatnonzero(keep)
    code = renumber[lead_code[rows]]
    stage = stage_code[rows]
    index = pd.Index(lead_labels[kept_lead], dtype=object, name="lead")
    n_kept = len(index)
    if kept_lead.all():
        at = grid
    else:
        at = np.full((n_kept, n_stages), _NAT)
        at[code, stage] = times[rows]
    del grid
    reached = np.zeros((n_kept, n_stages), dtype=bool)
    reached[code, stage] = True
    leads = pd.DataFrame(index=index)
    # A lead's rep, source, ...: the last one given in stage order (at its furthest stage).
    for field_, (codes, labels) in attrs.items():
        last = np.full(n_kept, -1, dtype=np.int64)
        for k in range(n_stages):  # one row per lead and stage: each assignment is unique
            at_k = stage == k
            given = codes[rows[at_k]]
            last[code[at_k][given >= 0]] = given[given >= 0]
        leads[field_] = _text_column(last, labels).to_numpy()
    if amount is not None:
        column = np.full(n_kept, np.nan)
        for k in range(n_stages):
            at_k = stage == k
            given = amount[rows[at_k]]
            column[code[at_k][~np.isnan(given)]] = given[~np.isnan(given)]
        leads["amount"] = column
    return Log(
        format="events",
        stages=stages,
        leads=leads,
        reached=pd.DataFrame(reached, index=index, columns=list(stages)),
        times=pd.DataFrame(at, index=index, columns=list(stages)),
        as_of=_default_as_of(at, as_of),
        name=src.name,
        dropped=dropped,
    )


def _after_as_of(problems: _Problems, times: np.ndarray, as_of: pd.Timestamp, column: str):
    late = ~np.isnat(times) & (times > as_of.to_datetime64())
    problems.add(
        late,
        column,
        lambda p: t("log.reason.after_as_of", time=_show_time(times[p]), as_of=str(as_of)),
        t("log.fix.after_as_of"),
    )


def _amounts(problems: _Problems, frame: pd.DataFrame, cols: dict) -> np.ndarray | None:
    if "amount" not in cols:
        return None
    values, empty, text = _parse_numbers(frame[cols["amount"]])
    bad = ~empty & ~(np.isfinite(values) & (values >= 0))
    problems.add(
        bad,
        cols["amount"],
        lambda p: t("log.reason.bad_amount", value=_q(text[p])),
        t("log.fix.bad_amount"),
    )
    return np.where(bad, np.nan, values)


# ------------------------------------------------------------------- leads
def _read_leads(src, stage_map, fields, as_of, mode) -> Log:
    cols = _resolve(src, "leads", fields, stage_map)
    frame, n = src.frame, len(src.frame)
    stages = tuple(stage_map)
    n_stages = len(stages)
    last = stages[-1]
    if stage_map[last] is None and "close" not in cols:
        raise LogError("log.error.stage_column", stage=_q(last), value="None")
    problems = _Problems(src)

    if "lead" in cols:
        lead_code, lead_labels = _labels(frame[cols["lead"]])
        problems.add(
            lead_code < 0, cols["lead"], lambda p: t("log.reason.no_lead"), t("log.fix.no_lead")
        )
        ids = _label_text(lead_code, lead_labels)
    else:
        ids = src.rownum.astype(str).astype(object)

    reached = np.zeros((n, n_stages), dtype=bool)
    at = np.full((n, n_stages), _NAT)
    has_times = False
    said_no = np.zeros(n, dtype=bool)  # the last stage's cell says no
    for k, column in enumerate(stage_map.values()):
        if column is None:
            reached[:, k] = k == 0
            continue
        hit, when, bad, text = _flags_or_times(frame[column])
        reached[:, k], at[:, k] = hit & ~bad, when
        has_times |= bool((~np.isnat(when)).any())
        problems.add(
            bad,
            column,
            lambda p, text=text: t("log.reason.bad_flag", value=_q(text[p])),
            t("log.fix.bad_flag"),
        )
        if k == n_stages - 1:
            said_no = text == "no"
    if "close" in cols:
        close, empty, close_text = _parse_times(frame[cols["close"]])
        problems.add(
            ~empty & np.isnat(close),
            cols["close"],
            lambda p: t("log.reason.bad_date", value=_q(close_text[p])),
            t("log.fix.bad_date"),
        )
        if stage_map[last] is not None:
            problems.add(
                said_no & ~np.isnat(close),
                cols["close"],
                lambda p: t("log.reason.close_not_reached", stage=_q(last)),
                t("log.fix.close_not_reached", stage=_q(last)),
            )
        reached[:, -1] |= ~np.isnat(close)
        at[:, -1] = np.where(np.isnat(at[:, -1]), close, at[:, -1])
        has_times |= bool((~np.isnat(close)).any())
    # The column to blame for each stage (a stage mapped to None: the lead or close column).
    stage_cols = [
        c if c is not None else cols.get("lead", "") if k == 0 else cols["close"]
        for k, c in enumerate(stage_map.values())
    ]
    if as_of is not None:
        for k in range(n_stages):
            _after_as_of(problems, at[:, k], as_of, stage_cols[k])
    amount = _amounts(problems, frame, cols)
    attrs = {key: _labels(frame[cols[key]]) for key in _ATTRIBUTES if key in cols}

    def lead_label(p: int) -> str:
        return _q(ids[p])

    row_ok = ~problems.mask()
    if "lead" in cols:
        ok_pos = np.flatnonzero(row_ok)
        first = pd.Series(ok_pos).groupby(lead_code[ok_pos]).transform("first").to_numpy()
        dup = np.zeros(n, dtype=bool)
        first_of = np.full(n, -1, dtype=np.int64)
        first_of[ok_pos] = first
        dup[ok_pos] = first != ok_pos
        problems.add(
            dup,
            cols["lead"],
            lambda p: t(
                "log.reason.duplicate_lead", lead=lead_label(p), row=int(src.rownum[first_of[p]])
            ),
            t("log.fix.duplicate_lead"),
        )
        row_ok &= ~dup
    nothing = row_ok & ~reached.any(axis=1)
    problems.add(
        nothing,
        stage_cols[0],
        lambda p: t("log.reason.no_stage_reached", lead=lead_label(p), stage=_q(stages[0])),
        t("log.fix.no_stage_reached", stage=_q(stages[0])),
    )
    positions = np.arange(n)
    pos = np.where(reached & row_ok[:, None], positions[:, None], -1)
    _order_checks(
        problems,
        pos,
        np.where(row_ok[:, None], at, _NAT),
        stages,
        (stage_cols, stage_cols),
        lead_label,
        positions,
    )
    keep = ~problems.mask()
    _finish(problems, "leads", mode, keep)
    dropped = problems.dropped(np.zeros(n, dtype=bool), "", lambda p: "")

    rows = np.flatnonzero(keep)
    index = pd.Index(ids[rows], dtype=object, name="lead")
    leads = pd.DataFrame(index=index)
    for key, (codes, labels) in attrs.items():
        leads[key] = _text_column(codes[rows], labels).to_numpy()
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
        dropped=dropped,
    )


# ------------------------------------------------------------------ counts
def _read_counts(src, stage_map, fields, as_of, mode) -> Log:
    cols = _resolve(src, "counts", fields, stage_map)
    frame, n = src.frame, len(src.frame)
    stages = tuple(stage_map)
    problems = _Problems(src)

    out = {}
    if "period" in cols:
        text, native = _cells(frame[cols["period"]])
        empty = (text == "") & np.isnat(native)
        problems.add(
            empty, cols["period"], lambda p: t("log.reason.no_period"), t("log.fix.no_period")
        )
        dates = np.where(np.isnat(native), _text_times(pd.Series(text, dtype=object)), native)
        if np.isnat(dates[~empty]).any():  # not all dates: keep the periods as written
            codes, labels = _labels(frame[cols["period"]])
            out["period"] = _text_column(codes, labels).to_numpy()
            key_codes = [codes]
        else:
            out["period"] = dates.astype("datetime64[ns]")
            key_codes = [pd.factorize(dates)[0]]
    else:
        key_codes = []
    for key in ("rep", "source", "segment"):
        if key in cols:
            codes, labels = _labels(frame[cols[key]])
            out[key] = _text_column(codes, labels).to_numpy()
            key_codes.append(codes)

    counts = np.zeros((n, len(stages)))
    valid = np.zeros((n, len(stages)), dtype=bool)
    for k, column in enumerate(stage_map.values()):
        values, empty, text = _parse_numbers(frame[column])
        counts[:, k] = values
        finite = np.isfinite(values)
        whole = finite & (values >= 0) & (values == np.floor(values))
        valid[:, k] = whole
        kinds = [  # one problem per kind, so that each message fits all its rows
            (empty, lambda p: t("log.reason.no_count")),
            (
                ~empty & ~finite,
                lambda p, text=text: t("log.reason.count_not_number", value=_q(text[p])),
            ),
            (
                finite & (values < 0),
                lambda p, text=text: t("log.reason.count_negative", value=_q(text[p])),
            ),
            (
                finite & (values >= 0) & ~whole,
                lambda p, text=text: t("log.reason.count_fraction", value=_q(text[p])),
            ),
        ]
        for where, detail in kinds:
            problems.add(where, column, detail, t("log.fix.bad_count"))
    for k in range(1, len(stages)):
        rising = valid[:, k] & valid[:, k - 1] & (counts[:, k] > counts[:, k - 1])
        column = list(stage_map.values())[k]
        problems.add(
            rising,
            column,
            lambda p, k=k: t(
                "log.reason.rising",
                stage=_q(stages[k]),
                count=f"{counts[p, k]:g}",
                previous=_q(stages[k - 1]),
                before=f"{counts[p, k - 1]:g}",
            ),
            t("log.fix.rising"),
        )
    if key_codes:
        ok_pos = np.flatnonzero(~problems.mask())
        repeated = pd.DataFrame(np.column_stack(key_codes)[ok_pos]).duplicated(keep="first")
        dup = np.zeros(n, dtype=bool)
        dup[ok_pos[repeated.to_numpy()]] = True
        key_cols = [cols[k] for k in ("period", "rep", "source", "segment") if k in cols]
        fix = t("log.fix.duplicate_row")
        if "period" not in cols:  # most likely the week column was not named
            used = {*cols.values(), *stage_map.values()}
            spare = [c for c in frame.columns if c not in used]
            fix = t("log.fix.duplicate_no_period", columns=", ".join(map(_q, spare)) or "-")
        problems.add(
            dup,
            key_cols[0],
            lambda p: t("log.reason.duplicate_row", columns=", ".join(map(_q, key_cols))),
            fix,
        )
    amount = _amounts(problems, frame, cols)
    keep = ~problems.mask()
    _finish(problems, "counts", mode, keep)
    dropped = problems.dropped(np.zeros(n, dtype=bool), "", lambda p: "")

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
        format="counts", stages=stages, counts=table, as_of=as_of, name=src.name, dropped=dropped
    )
