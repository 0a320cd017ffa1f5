"""Reading the kit's input files: sources, encodings, cells, and the problems found in them.

Shared by the log reader (:func:`funnelsim.read_log`, ``logs.py``) and the
pipeline readers (:func:`funnelsim.read_pipeline`, :func:`funnelsim.calibration`,
:func:`funnelsim.grade_ladder`): one way to open a CSV (UTF-8, GB18030/GBK,
UTF-16, gzip), Excel or Parquet file or a DataFrame, to read its cells as
labels, dates, numbers and yes/no flags, and to report every invalid row in
one :class:`LogError` (or drop them, with a report).

Rows are numbered as in a spreadsheet: the header is row 1, the first data
row is row 2 (for a DataFrame too: row ``r`` is ``df.iloc[r - 2]``).

This module is internal; its names without a leading underscore are shared
by the package's readers.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import gzip
import io
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._parquet import hive_dtype, hive_values, parquet_frame, parquet_parts, stored_columns
from ._validate import short, type_name
from .i18n import FunnelsimTypeError, FunnelsimValueError, t

if TYPE_CHECKING:
    import pyarrow as pa


class LogError(FunnelsimValueError):
    """A log that cannot be read as it is: the message says what, where and how to fix it.

    ``.key`` and ``.values`` identify the message (see
    :class:`~funnelsim.i18n.FunnelsimError`); a message listing several
    problems has the key ``"log.error.title"`` (``"pipeline.error.title"``
    for pipelines) and one :class:`~funnelsim._problems.Problem` per problem
    in ``.values["problems"]``; a file without some of the columns it needs
    has the key ``"log.error.missing_columns"`` and one
    :class:`~funnelsim._columns.MissingColumn` per missing column in
    ``.values["missing"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> events = pd.DataFrame({"lead": ["L1", "L2"], "stage": ["dial", "sael"],
    ...                        "time": ["2025-03-03", "2025-03-04"]})
    >>> try:
    ...     fs.read_log(events, format="events", stages=["dial", "sale"])
    ... except fs.LogError as err:
    ...     print(err.key, isinstance(err, ValueError))
    ...     print(err)
    log.error.title True
    Cannot read DataFrame as a log in the events format: 1 problem(s), listed below (rows
    are counted as in a spreadsheet: the header is row 1).
    - column 'stage', row 3: unknown stage 'sael' (did you mean 'sale'?). Fix: write the
    stage as one of 'dial', 'sale', or add it to stages= in funnel order.
    To read the valid rows anyway and list the others in log.dropped, pass errors="drop".
    """


LogError.__module__ = "funnelsim"  # tracebacks name it as users import it

#: The choices of ``errors=``.
ERRORS = ("raise", "drop")
#: Cells that say yes (after lower-casing) ...
TRUE = frozenset({"true", "yes", "y", "1", "1.0", "是"})
#: ... and cells that say no.
FALSE = frozenset({"false", "no", "n", "0", "0.0", "否"})
#: A missing time, as the readers store times (datetime64[ns]).
NAT = np.datetime64("NaT", "ns")
#: A DataFrame attribute naming the table in messages and reprs (as a file is named).
NAME_ATTR = "funnelsim_name"

_DELIMITERS = (",", ";", "\t", "|")
_MIN_TIME = pd.Timestamp.min.as_unit("ns").to_datetime64()
_MAX_TIME = pd.Timestamp.max.as_unit("ns").to_datetime64()
#: At most this many columns (Excel's own limit): a wider header is refused before parsing.
MAX_COLUMNS = 16_384
#: Workbook formats to save as .xlsx first (OpenDocument, Numbers, binary Excel, WPS).
#: The first bytes of an .xls (OLE2 compound) file.
_OLE = b"\xd0\xcf\x11\xe0"
#: Workbooks read sheet by sheet (``sheet=``).
WORKBOOKS = (".xlsx", ".xlsm", ".xls")
SAVE_AS_XLSX = (".ods", ".numbers", ".xlsb", ".et", ".wps")
#: Encodings that charset-normalizer may propose for a Chinese (or other East Asian) file.
_CJK_ENCODINGS = frozenset(
    {"gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950", "cp949", "euc_kr", "johab",
     "euc_jp", "euc_jis_2004", "euc_jisx0213", "cp932", "shift_jis", "shift_jis_2004",
     "shift_jisx0213", "utf_16", "utf_16_le", "utf_16_be"}
)  # fmt: skip


# ------------------------------------------------------------- arguments
def quote(value: object) -> str:
    """A value quoted for a message.

    >>> quote("dial")
    "'dial'"
    """
    return f"'{value}'"


def choice(name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a LogError naming them."""
    if not isinstance(value, str) or value not in choices:
        raise LogError("error.choice", name=name, value=repr(value), choices=", ".join(choices))
    return value


def fields(columns: object, allowed: Sequence[str], what: str) -> dict[str, str]:
    """``columns=`` checked: a mapping from some of the ``allowed`` fields to column names.

    ``what`` names the kind of file in the message ("events", "pipeline"...).
    """
    if columns is None:
        return {}
    choices = ", ".join(allowed)
    if not isinstance(columns, Mapping):
        raise FunnelsimTypeError(
            "log.error.columns_type",
            name="columns",
            choices=choices,
            value=repr(columns),
            type=type_name(columns),
        )
    out = {}
    for key, column in columns.items():
        if key not in allowed:
            raise LogError("log.error.columns_key", key=repr(key), format=what, choices=choices)
        if not isinstance(column, str):
            raise FunnelsimTypeError(
                "log.error.columns_value", name="columns", key=key, value=repr(column),
                type=type_name(column),
            )  # fmt: skip
        if not column.strip():
            raise LogError("log.error.columns_value", key=key, value=repr(column))
        out[key] = column.strip()
    return out


def as_list(value: object, name: str) -> list[object]:
    """``value`` (a list, tuple, array or Series, not text) as a list."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray | pd.Series):
        raise LogError("pipeline.error.sequence", name=name, value=short(value))
    return list(value)


def stage_names(stages: object) -> list[str]:
    """Stage (or grade) labels: a list of non-empty text, stripped."""
    out = []
    for v in as_list(stages, "stages"):
        if not isinstance(v, str) or not v.strip():
            raise LogError("log.error.stage_name", value=repr(v))
        out.append(v.strip())
    return out


# ---------------------------------------------------------------- sources
@dataclass(frozen=True)
class Source:
    """A file or DataFrame read as text cells, its empty rows left out."""

    frame: pd.DataFrame  # non-empty rows, stripped column names, RangeIndex
    rownum: np.ndarray  # spreadsheet row of each frame row (the header is row 1)
    name: str
    #: A workbook's sheets and each one's header (None for other sources).
    sheets: dict[str, list[str]] | None = None
    #: A folder's Parquet files, each with the row its first row is, counted on across
    #: the files in name order (the first file's is row 2): rows named in a message are
    #: named in their file too (:func:`~funnelsim._problems.part_rows`). None for one file.
    parts: tuple[tuple[str, int], ...] | None = None


def sheet_list(src: Source) -> str:
    """A workbook's sheets and their headers, for a message ('' for other sources).

    >>> sheets = {"日报": ["日期"], "S2": ["a", "b"]}
    >>> src = Source(pd.DataFrame({"a": [1]}), np.array([2]), "x.xlsx", sheets)
    >>> print(sheet_list(src))  # doctest: +NORMALIZE_WHITESPACE
    The workbook's sheets (pass sheet= to read another): '日报' (columns '日期');
    'S2' (columns 'a', 'b').
    """
    if not src.sheets:
        return ""
    shown = [
        t("log.sheet", sheet=quote(s), columns=", ".join(map(quote, cols[:20])) or "-")
        for s, cols in list(src.sheets.items())[:20]
    ]
    return t("log.error.sheets", sheets="; ".join(shown))


def read_source(
    source: object,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> Source:
    """Read a CSV, Excel or Parquet file (or a Parquet dataset's folder), or take a
    DataFrame; a LogError if it cannot.

    ``encoding`` and ``delimiter`` (of a CSV file) are checked first, even for
    a DataFrame: by default the encoding is detected (UTF-8, GB18030, UTF-16
    with its BOM) and the delimiter sniffed from the header line. ``sheet``
    picks a workbook's sheet by name or 0-based position (default: the first;
    text of digits that no sheet is named is a position, as the command line
    passes it).
    """
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, str | int)):
        raise LogError("log.error.sheet_type", value=repr(sheet))
    if delimiter is not None and not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise LogError("log.error.delimiter", value=repr(delimiter))
    if encoding is not None:
        try:
            "".encode(encoding)
        except (LookupError, TypeError):
            raise LogError("log.error.encoding_name", value=repr(encoding)) from None
    if isinstance(source, pd.DataFrame):  # an app may name its table
        name, frame = str(source.attrs.get(NAME_ATTR, "DataFrame")), source
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = path.name or str(path)
        if path.is_dir():  # a Parquet dataset, as Spark writes it
            return read_parts(path, *parquet_folder(path, name), name)
        if not path.is_file():
            raise LogError("log.error.not_found", name=str(path), cwd=os.getcwd())
        suffix = path.suffix.lower()
        if suffix in WORKBOOKS:
            frame, sheets = _read_workbook(path, name, sheet)
            return _prepare(frame, name, sheets)
        if sheet is not None:
            raise LogError("log.error.sheet_not_workbook", name=name, sheet=repr(sheet))
        frame = read_file(path, name, encoding, delimiter)
    else:
        raise FunnelsimTypeError(
            "log.error.source_type", name="source", value=type_name(source), type=type_name(source)
        )
    return _prepare(frame, name)


def parquet_folder(
    path: Path, name: str
) -> tuple[list[str], list[pa.Schema], list[int], dict[str, list[object]]]:
    """A Parquet folder as both readers read it: its files
    (:func:`~funnelsim._parquet.parquet_parts`), their schemas and rows
    (:func:`parquet_columns`) and the columns its Hive folder names add
    (:func:`~funnelsim._parquet.hive_values`); a column named both by a folder and in
    the files is an error.
    """
    files = parquet_parts(path)
    if not files:  # a folder, but of no Parquet file
        raise LogError("log.error.no_parquet_files", name=name)
    schemas, sizes = parquet_columns(files, name, path)
    hive = hive_values(path, files)
    named = {c.strip() for c in stored_columns(schemas[0].names)}
    for column in hive:
        if column.strip() in named:
            raise LogError("log.error.hive_column", name=name, column=quote(column), key=column)
    return files, schemas, sizes, hive


def parquet_columns(
    files: Sequence[str | Path], name: str, folder: Path | None = None
) -> tuple[list[pa.Schema], list[int]]:
    """The columns of Parquet files read as one log, from their footers (their schemas and
    their rows' counts, returned): the first file's header checked as a CSV's
    (:func:`check_header`: each name once, compared stripped) and every other file's
    columns the same (a part whose columns differ would leave some rows' cells empty or
    some cells unread); a pandas index stored as a column
    (:func:`~funnelsim._parquet.stored_columns`) is not one. A file whose footer cannot be
    read (not Parquet, or cut short) is named, the same error on every reader's path.
    ``folder``: the parts' folder, for their names in the message.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"lead": ["A"], "rep": ["Li"]}).to_parquet(folder / "part-0.parquet")
    >>> pd.DataFrame({"lead": ["B"], "负责人": ["Li"]}).to_parquet(folder / "part-1.parquet")
    >>> try:
    ...     parquet_columns(sorted(folder.glob("*.parquet")), "exports", folder)
    ... except LogError as err:
    ...     print(*(err.values[k] for k in ("part", "extra", "first", "missing")))
    part-1.parquet '负责人' part-0.parquet 'rep'
    """
    import pyarrow.parquet as pq  # lazy: heavy, and only Parquet files need it

    seen: list[str] | None = None
    first = ""
    schemas, sizes = [], []
    for f in files:
        shown = str(Path(f).relative_to(folder)) if folder is not None else Path(f).name
        try:
            footer = pq.read_metadata(f)
            schemas.append(footer.schema.to_arrow_schema())  # what pq.read_schema reads
            sizes.append(footer.num_rows)
            names = stored_columns(schemas[-1].names)
        except MemoryError:
            raise
        except Exception as exc:  # not a Parquet file, or cut short: named on every path
            raise _parquet_error(exc, name, f, folder) from None
        if seen is None:
            check_header(names, name)
            seen, first = names, shown
            continue
        mine = {c.strip() for c in names}
        theirs = {c.strip() for c in seen}
        if mine != theirs:
            none = t("log.value.none")
            raise LogError(
                "log.error.parts_columns", name=name, part=shown, first=first,
                extra=", ".join(quote(c) for c in sorted(mine - theirs)) or none,
                missing=", ".join(quote(c) for c in sorted(theirs - mine)) or none,
            )  # fmt: skip
    return schemas, sizes


def parquet_problem(
    files: Sequence[str | Path], name: str, folder: Path | None = None
) -> LogError | None:
    """The error of the first of the Parquet files ``files`` whose rows cannot be read
    (a footer that reads over data that does not: a file damaged in a copy), found by
    reading each file's rows with pyarrow a batch at a time (memory bounded by a batch,
    not the file), their text checked as UTF-8, the columns the readers read only (not a
    stored pandas index); None where every row reads. Both readers give it where their
    own read of the files fails, so that a damaged file is named alike on every path
    (``folder``: the parts' folder, for their names in the message).

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"lead": ["A"]}).to_parquet(folder / "part-0.parquet")
    >>> raw = bytearray((folder / "part-0.parquet").read_bytes())
    >>> raw[4:40] = bytes(36)  # the first data page overwritten, the footer intact
    >>> _ = (folder / "part-1.parquet").write_bytes(bytes(raw))
    >>> parquet_problem(sorted(folder.glob("*.parquet")), "exports", folder).values["part"]
    'part-1.parquet'
    >>> parquet_problem([folder / "part-0.parquet"], "part-0.parquet") is None
    True
    """
    import pyarrow.parquet as pq  # lazy: heavy, and only Parquet files need it

    for f in files:
        try:
            with pq.ParquetFile(f) as parquet:  # the columns the readers read (no index)
                columns = stored_columns(parquet.schema_arrow.names)
                for batch in parquet.iter_batches(batch_size=2**16, columns=columns):
                    batch.validate(full=True)  # text that is not UTF-8, too
        except MemoryError:
            raise
        except Exception as exc:  # pyarrow's many errors of a damaged file
            return _parquet_error(exc, name, f, folder)
    return None


def _parquet_error(exc: Exception, name: str, file: str | Path, folder: Path | None) -> LogError:
    """pyarrow's error ``exc`` reading the Parquet file ``file`` as the kit's, naming the
    file (``log.error.unreadable``) or, in a ``folder``, its part (``log.error.bad_part``)."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    if folder is None:
        return LogError("log.error.unreadable", name=name, kind="Parquet", detail=detail)
    part = str(Path(file).relative_to(folder))
    return LogError("log.error.bad_part", name=name, part=part, detail=detail)


def _read_parquet(
    name: str, files: Sequence[str | Path], folder: Path | None, read: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """``read`` of Parquet files; where it fails, the damaged file named
    (:func:`parquet_problem`) as the engine names it."""
    try:
        return _read_with(name, "Parquet", read)
    except LogError as err:
        raise (parquet_problem(files, name, folder) or err) from None


def read_parts(
    path: Path,
    files: Sequence[str],
    schemas: Sequence[pa.Schema],
    sizes: Sequence[int],
    hive: Mapping[str, Sequence[object]],
    name: str,
) -> Source:
    """The Parquet files ``files`` of the folder ``path`` (:func:`parquet_folder`: their
    ``schemas``, their rows' counts ``sizes`` and the ``hive`` columns) as one source,
    their rows in the files' order, each file's first row kept (:attr:`Source.parts`).
    The files' types are unified (a column empty in the first file, of Parquet's null
    type, takes the others' type)."""
    # lazy: pyarrow is heavy, and only Parquet files need it
    import pyarrow as pa
    import pyarrow.dataset as ds

    def read() -> pd.DataFrame:
        try:
            schema = pa.unify_schemas(list(schemas))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # types that differ: Arrow says so
            schema = None
        table = ds.dataset(list(files), schema=schema, format="parquet")
        frame = parquet_frame(table.to_table(columns=stored_columns(table.schema.names)))
        for key, values in hive.items():  # the folders' columns, after the files'
            repeated = np.repeat(np.array(values, dtype=object), sizes)
            frame[key] = pd.array(repeated, dtype=hive_dtype(values))
        return frame

    src = _prepare(_read_parquet(name, files, path, read), name)
    if len(files) < 2:
        return src
    firsts = np.cumsum([2, *sizes[:-1]]).tolist()
    parts = tuple((str(Path(f).relative_to(path)), k) for f, k in zip(files, firsts, strict=True))
    return dataclasses.replace(src, parts=parts)


def read_file(path: Path, name: str, encoding: str | None, delimiter: str | None) -> pd.DataFrame:
    """A file that is not a workbook (CSV, gzip-compressed CSV, Parquet) as a DataFrame;
    other spreadsheet formats get an error asking for .xlsx."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq  # lazy: heavy, and only Parquet files need it

        columns = stored_columns(parquet_columns([path], name)[0][0].names)
        return _read_parquet(
            name, [path], None, lambda: parquet_frame(pq.read_table(path, columns=columns))
        )
    if suffix in SAVE_AS_XLSX:
        raise LogError("log.error.save_as_xlsx", name=name, kind=suffix)
    return read_csv(path.read_bytes(), name, encoding, delimiter)


def read_sheet_cells(
    path: Path, name: str, sheet: str | int | None
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Every cell of one sheet of an .xlsx/.xlsm (openpyxl) or .xls (xlrd) workbook, row 1
    included (no header), and the header row of every sheet (when there are several).

    ``sheet``: a name or 0-based position (None: the first); an error lists the sheets.
    """
    with open(path, "rb") as fh:  # by content: CRMs save .xlsx workbooks named .xls too
        magic = fh.read(4)
    old_format = magic == _OLE or (magic[:2] != b"PK" and path.suffix.lower() == ".xls")
    engine = "xlrd" if old_format else "openpyxl"
    book = _read_with(name, "Excel", lambda: pd.ExcelFile(path, engine=engine))
    with book:
        names = [str(s) for s in book.sheet_names]
        heads = {
            s: _header_names(
                _read_with(name, "Excel", lambda s=s: book.parse(s, header=None, nrows=1))
            )
            for s in (names if len(names) > 1 else [])
        }
        which = _pick_sheet(names, sheet, name, heads)
        raw = _read_with(name, "Excel", lambda: book.parse(which, header=None, dtype=object))
    return raw, heads


def _read_workbook(
    path: Path, name: str, sheet: str | int | None
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """One sheet of a workbook, its header in row 1 (a repeated name is an error), and
    every sheet's header."""
    raw, heads = read_sheet_cells(path, name, sheet)
    if raw.empty:
        raise LogError("log.error.empty", name=name)
    header = _header_names(raw.iloc[:1])
    check_header(header, name)
    frame = raw.iloc[1:].set_axis(header, axis=1).reset_index(drop=True)
    return frame, heads


def _header_names(first: pd.DataFrame) -> list[str]:
    """Row 1 of a sheet as column names (``Unnamed: k`` where empty, as pandas names it)."""
    if first.empty:
        return []
    return [cell_text(v) or f"Unnamed: {k}" for k, v in enumerate(first.iloc[0].tolist())]


def _pick_sheet(
    names: list[str], sheet: str | int | None, name: str, heads: dict[str, list[str]]
) -> str:
    """The sheet to read: by name, or by 0-based position; an error lists the sheets."""
    if sheet is None:
        return names[0]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    if isinstance(sheet, str) and sheet.strip().isdigit():
        sheet = int(sheet)
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    shown = ", ".join(f"{k}: {quote(s)}" for k, s in enumerate(names))
    raise LogError("log.error.no_sheet", name=name, sheet=repr(sheet), sheets=shown)


def check_header(header: Sequence[str], name: str) -> None:
    """A file's own header: at most :data:`MAX_COLUMNS` columns, each name once
    (compared stripped). Linear in the number of columns.

    >>> try:
    ...     check_header(["lead", "rep", "time", " rep"], "log.csv")
    ... except LogError as err:
    ...     print(err.key, err.values["column"], err.values["first"], err.values["second"])
    log.error.duplicate_column 'rep' 2 4
    """
    if len(header) > MAX_COLUMNS:
        raise LogError(
            "log.error.too_many_columns", name=name, count=len(header), most=MAX_COLUMNS
        )
    labels = [str(c).replace("\ufeff", "").strip() for c in header]
    first: dict[str, int] = {}
    for k, label in enumerate(labels, start=1):
        if label in first and label:
            raise LogError(
                "log.error.duplicate_column", name=name, column=quote(label), first=first[label],
                second=k,
            )  # fmt: skip
        first.setdefault(label, k)


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
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if kind == "CSV" and ragged:  # a row of more cells than the header, named
            header, row, cells = (int(g) for g in ragged.groups())
            raise LogError("log.error.ragged", name=name, row=row, cells=cells,
                           header=header) from None  # fmt: skip
        if kind == "CSV":
            raise LogError("log.error.unreadable_csv", name=name, detail=detail) from None
        raise LogError("log.error.unreadable", name=name, kind=kind, detail=detail) from None


def read_csv(raw: bytes, name: str, encoding: str | None, delimiter: str | None) -> pd.DataFrame:
    """The bytes of a CSV file (gzip-compressed too) as a DataFrame of text cells.

    ``encoding=None`` detects it, ``delimiter=None`` sniffs it; ``name`` is
    the file's name in messages.

    >>> read_csv("线索;阶段\\nA;拨打\\n".encode("gb18030"), "log.csv", None, None)
      线索  阶段
    0  A  拨打
    """
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
    sep = delimiter or sniff_delimiter(text)
    check_csv_header(text, sep, name)
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
    _check_short_rows(frame, text, sep, name)
    return frame


def check_csv_header(text: str, sep: str, name: str) -> None:
    """The header line as the csv module reads it (pandas would rename a repeated
    ``a`` to ``a.1``, and take minutes over a million columns), and the first data row:
    longer than the header, pandas would make its extra cells an index (minutes for a
    million of them).

    >>> try:
    ...     check_csv_header("lead,rep,rep\\nL1,a,b", ",", "log.csv")
    ... except LogError as err:
    ...     print(err.key)
    log.error.duplicate_column
    """
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep)
    try:
        header = next(rows, [])
        check_header(header, name)
        first = next(rows, [])
    except csv.Error:  # a cell over the csv module's field limit: pandas reports it
        return
    if len(first) > len(header):
        raise LogError("log.error.ragged", name=name, row=2, cells=len(first), header=len(header))


def _check_short_rows(frame: pd.DataFrame, text: str, sep: str, name: str) -> None:
    """A row with fewer cells than the header (pandas fills them with ''): an error naming
    the first one. Only rows whose last cell is empty can be short: their delimiters are
    counted only when there are any (vectorised when the file has no quotes), and blank
    rows among the short ones are left out (they are ignored)."""
    width = frame.shape[1]
    if width < 2 or len(frame) == 0:
        return
    last = frame.iloc[:, -1]
    maybe = np.flatnonzero((last.isna() | (last == "")).to_numpy(dtype=bool))
    if maybe.size == 0:
        return
    found = _cells_per_row(text, sep, maybe)
    short = found < width
    maybe, found = maybe[short], found[short]
    if maybe.size == 0:
        return
    part = frame.iloc[maybe]
    blank = np.ones(len(part), dtype=bool)
    for col in range(width):
        blank &= _blank(part.iloc[:, col])
    maybe, found = maybe[~blank], found[~blank]
    if maybe.size:
        raise LogError(
            "log.error.short_row", name=name, row=int(maybe[0]) + 2, cells=int(found[0]),
            header=width, count=int(maybe.size),
        )  # fmt: skip


def _cells_per_row(text: str, sep: str, rows: np.ndarray) -> np.ndarray:
    """How many cells the data rows at ``rows`` (0-based, after the header) hold."""
    if '"' not in text and sep.isascii() and "\r" not in text.replace("\r\n", "\n"):
        buf = np.frombuffer(text.lstrip("\ufeff").encode("utf-8"), dtype=np.uint8)
        starts = np.concatenate(([0], np.flatnonzero(buf == 10) + 1))
        starts = starts[starts < buf.size]
        per_line = np.add.reduceat((buf == ord(sep)).astype(np.int32), starts) + 1
        return per_line[rows + 1]
    wanted = np.zeros(int(rows.max()) + 2, dtype=bool)
    wanted[rows + 1] = True
    out = {}
    for k, cells in enumerate(csv.reader(io.StringIO(text), delimiter=sep)):
        if k >= wanted.size:
            break
        if wanted[k]:
            out[k] = len(cells)
    return np.array([out.get(int(r) + 1, 0) for r in rows], dtype=np.int64)


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
            _check_detected(text, raw, name)
            _check_chinese(text, raw, name)
        return text
    row = raw[: first_error.start].count(b"\n") + 1
    raise LogError("log.error.encoding", name=name, row=row, encodings=", ".join(tries)) from None


def _check_detected(text: str, raw: bytes, name: str) -> None:
    """A file that is not UTF-8 but decodes as GB18030: refuse it when charset-normalizer
    (on its first 64 kB) proposes no East Asian encoding at all, as for a cp1252 export
    whose only accented word is "Indicação" (GB18030 reads "Indica玢o")."""
    # lazy: charset-normalizer is needed only for files that are not UTF-8.
    import charset_normalizer

    head = raw[:65_536]
    if len(raw) > len(head) and b"\n" in head:  # whole lines: no character cut in two
        head = head[: head.rindex(b"\n") + 1]
    found = {m.encoding for m in charset_normalizer.from_bytes(head)}
    if found and not found & _CJK_ENCODINGS:
        line = next(ln for ln in text.splitlines() if any(ord(c) > 0x7F for c in ln))
        raise LogError("log.error.encoding_guess", name=name, sample=repr(line.strip()[:60]))


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


def sniff_delimiter(text: str) -> str:
    """The delimiter that appears most in the header line (outside quotes).

    >>> sniff_delimiter("线索;阶段;时间\\nL1;拨打;2025-03-03"), sniff_delimiter("a,b")
    (';', ',')
    """
    header = re.sub(r'"[^"]*"', "", text.lstrip("\ufeff").split("\n", 1)[0])
    counts = [header.count(d) for d in _DELIMITERS]
    return _DELIMITERS[int(np.argmax(counts))] if max(counts) > 0 else ","


def _prepare(frame: pd.DataFrame, name: str, sheets: dict[str, list[str]] | None = None) -> Source:
    labels = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    repeated = sorted(c for c, n in Counter(labels).items() if n > 1)
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
        listed = sheet_list(Source(frame, rownum, name, sheets))  # a workbook: its sheets
        message = "\n".join(filter(None, [t("log.error.empty", name=name), listed]))
        raise LogError("log.error.empty", message=message, name=name)
    if empty.any():
        frame = frame.iloc[rownum - 2].reset_index(drop=True)
    return Source(frame, rownum, name, sheets or None)


# ----------------------------------------------------------------- cells
def cell_text(v: object) -> str:
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


def is_text(values: pd.Series | pd.Index) -> bool:
    """Every non-empty cell is a string (string dtypes, or object holding only str)."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return pd.api.types.is_object_dtype(values.dtype) and pd.api.types.infer_dtype(
        values, skipna=True
    ) in ("string", "empty")


def is_dates(dtype: object) -> bool:
    return pd.api.types.is_datetime64_any_dtype(dtype)


def strip_cells(series: pd.Series) -> pd.Series:
    """Text cells stripped, '' when empty (vectorised for Arrow-backed strings)."""
    return series.str.strip().fillna("")


def labels(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for empty cells) and text labels, in order of first appearance.

    >>> codes, text = labels(pd.Series([" A", "B", None, "A", 3]))
    >>> codes.tolist(), text.tolist()
    ([0, 1, -1, 0, 2], ['A', 'B', '3'])
    """
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells
        codes, uniques = pd.factorize(series.map(cell_text), use_na_sentinel=True)
    uniques = pd.Index(uniques)
    codes = np.asarray(codes, dtype=np.int64)
    if pd.api.types.is_integer_dtype(uniques.dtype) and not pd.api.types.is_bool_dtype(
        uniques.dtype
    ):
        # Distinct whole numbers have distinct texts: nothing to strip or merge
        # (vectorised: lead ids of a 10-million-row log take seconds one by one).
        return codes, np.asarray(uniques.astype(str), dtype=object)
    if is_text(uniques):
        stripped = uniques.str.strip()
        text = np.asarray(stripped, dtype=object)
        if not ((stripped != uniques).any() or (stripped == "").any()):
            return codes, text  # nothing to strip or merge
    else:
        text = np.array([cell_text(u) for u in uniques], dtype=object)
    merged, names = pd.factorize(text)
    names = np.asarray(names, dtype=object)
    if "" in set(names):
        blank = int(np.flatnonzero(names == "")[0])
        merged = np.where(merged == blank, -1, merged - (merged > blank))
        names = np.delete(names, blank)
    codes = np.where(codes >= 0, merged[np.maximum(codes, 0)] if merged.size else -1, -1)
    return codes.astype(np.int64), names


def label_text(codes: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Text of each cell from its code ('' for -1)."""
    text = np.full(len(codes), "", dtype=object)
    has = codes >= 0
    text[has] = names[codes[has]]
    return text


def text_column(codes: np.ndarray, names: np.ndarray) -> pd.Series:
    """Text of each cell from its code (NaN for -1), as an object column."""
    values = np.full(len(codes), np.nan, dtype=object)
    has = codes >= 0
    values[has] = names[codes[has]]
    return pd.Series(values, dtype=object)


def cells(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell as text ('' when empty or a date) and as a date (NaT when not a date)."""
    n = len(series)
    nat = np.full(n, NAT)
    if is_dates(series.dtype):
        return np.full(n, "", dtype=object), native_times(series)
    if is_text(series):
        return strip_cells(series).to_numpy(dtype=object), nat
    if pd.api.types.is_object_dtype(series.dtype):
        values = series.to_numpy(dtype=object)
        is_date = np.array(
            [isinstance(v, datetime.date | np.datetime64) and not pd.isna(v) for v in values],
            dtype=bool,
        )
        if is_date.any():
            times = nat.copy()
            times[is_date] = native_times(pd.Series(values[is_date], dtype=object))
            text = np.full(n, "", dtype=object)
            text[~is_date] = label_text(*labels(pd.Series(values[~is_date], dtype=object)))
            for p in np.flatnonzero(is_date & np.isnat(times)):  # out of range: show as text
                text[p] = cell_text(values[p]) or repr(values[p])
            return text, times
    return label_text(*labels(series)), nat


def _blank(series: pd.Series) -> np.ndarray:
    """Which cells are empty (None, NaN, NaT, or only spaces)."""
    if is_dates(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.isna().to_numpy(dtype=bool)
    if is_text(series):
        return (strip_cells(series) == "").to_numpy(dtype=bool)
    text, native = cells(series)
    return (text == "") & np.isnat(native)


def native_times(series: pd.Series) -> np.ndarray:
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


class LazyText:
    """Cell text for messages, made only for the cells a message shows."""

    def __init__(self, series: pd.Series) -> None:
        self.series = series

    def __getitem__(self, p: int) -> str:
        return cell_text(self.series.iloc[p])


def kept_values(
    frame: pd.DataFrame, cols: Mapping[str, str], keys: Sequence[str], rows: np.ndarray
) -> dict[str, np.ndarray]:
    """The text of each field of ``keys`` the file has, at ``rows`` (None where empty)."""
    out = {}
    for key in keys:
        if key in cols:
            codes, names = labels(frame[cols[key]])
            values = np.full(len(codes), None, dtype=object)
            values[codes >= 0] = names[codes[codes >= 0]]
            out[key] = values[rows]
    return out


def repeats(codes: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """The rows of ``ok`` (a mask) whose code an earlier row of ``ok`` has: their
    positions, and for each the position of that first row.

    >>> repeats(np.array([7, 8, 7, 7, 8]), np.array([True, True, False, True, True]))
    (array([3, 4]), {3: 0, 4: 1})
    """
    positions = np.flatnonzero(ok)
    first = pd.Series(positions).groupby(codes[positions]).transform("first").to_numpy()
    again = first != positions
    return positions[again], dict(
        zip(positions[again].tolist(), first[again].tolist(), strict=True)
    )


def quoted(text: Sequence[str] | LazyText) -> Callable[[int], dict[str, str]]:
    """The values of a reason about one cell: ``{value}``, the cell's text (``text[p]``
    for the row at position ``p``), quoted."""
    return lambda p: {"value": quote(text[p])}


def empty_dropped() -> pd.DataFrame:
    """The report of a source with no row dropped: columns ``row``, ``column``, ``reason``."""
    return pd.DataFrame(
        {
            "row": np.array([], dtype=np.int64),
            "column": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object),
        }
    )
