"""Engines' tables as the kit reads them: files DuckDB reads, DataFrames, databases through
Ibis, any narwhals frame; and each engine's cells as the kit's (lead ids, stage codes, times
in nanoseconds, amounts, group values), labelled as the pandas reader labels them.

:mod:`funnelsim.engine` builds a log's lead table from what this module opens.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ._parquet import PANDAS_INDEX, hive_dtype
from ._reader import (
    NAME_ATTR,
    SAVE_AS_XLSX,
    WORKBOOKS,
    LogError,
    cell_text,
    check_csv_header,
    check_header,
    labels,
    parquet_columns,
    parquet_folder,
    parquet_problem,
    quote,
    sniff_delimiter,
)
from .i18n import FunnelsimValueError, t

#: DuckDB's memory for a log it reads (bounded, spilling to a temporary folder), when
#: ``FUNNELSIM_DUCKDB_MEMORY`` does not set it: see :func:`duckdb_plan`.
DUCKDB_MEMORY = os.environ.get("FUNNELSIM_DUCKDB_MEMORY")
#: A log of at most this many rows keeps its lead table in memory (700MB for DuckDB);
#: a larger one writes it compressed to a database file in the temporary folder (1.5GB).
SMALL_ROWS = 20_000_000
#: The characters Python's ``str.strip`` removes, as themselves (every engine's regular
#: expressions read a character as itself; their escapes differ).
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
#: A lead id with spaces around it.
SPACED = f"^[{SPACES}]|[{SPACES}]$"


# ------------------------------------------------------------------ sources
def sql_name(name: str) -> str:
    """A column's name as a quoted SQL identifier (a ``"`` in it doubled).

    >>> print(sql_name('say "hi" here'))
    "say ""hi"" here"
    """
    return '"' + str(name).replace('"', '""') + '"'


@dataclass
class Table:
    """An engine's table as narwhals sees it, and how to number its rows."""

    frame: Any  # narwhals LazyFrame
    name: str
    backend: str
    numbered: Any = None  # callable: the frame with a ``__row`` column (spreadsheet rows)
    keep: list = field(default_factory=list)  # objects the frame needs alive
    own: bool = False  # a DuckDB database of the kit's own (not a user's connection)
    store: str = ""  # the kit's own tables: "funnelsim_memory." or "funnelsim_disk." (a file)
    folder: str = ""  # a large log's temporary folder: its lead table written there as Parquet
    text: bool = False  # every cell read as text (a CSV file): times and amounts cast
    # the Parquet files read, each with its stamp when read (file_stamp): the lead
    # table is computed from them on the first question that needs it (see engine.py)
    files: tuple[tuple[str, tuple[int, int, bytes]], ...] = ()
    csv: tuple[str, str] | None = None  # a CSV file read and its delimiter
    parts: tuple[tuple[str, int], ...] | None = None  # a folder's files (Source.parts)
    directory: str = ""  # the Parquet folder read: its files named as its parts
    # the time column is text that DuckDB reads as times (a CSV's; a Parquet file's or a
    # relation's column of text): TRY_CAST, its zones counted (see engine.py)
    text_times: bool = False


def duckdb_plan(rows: int | None) -> tuple[bool, str]:
    """Where DuckDB keeps a log's lead table and with how much memory, for a log of
    about ``rows`` rows (None: not known): in memory for a small log (no file written:
    the fastest), in a file for a large one (so that later questions read it fast: an
    in-memory table that spilled reads ten times slower): a Parquet file, which DuckDB
    writes faster than a table of its database (38 s against 55 s for the lead table
    of 100 M rows), beside a database file for the kit's smaller tables. Compressed.

    >>> duckdb_plan(10_000_000)[0], duckdb_plan(100_000_000)[0], duckdb_plan(None)[0]
    (True, False, False)
    """
    small = rows is not None and rows <= SMALL_ROWS
    return small, DUCKDB_MEMORY or ("700MB" if small else "1.5GB")


def _duckdb_connection(folder: str) -> Any:
    import duckdb  # lazy: DuckDB loads only when a log needs it (0.2 s)

    con = duckdb.connect(":memory:")
    threads = max(1, min(os.cpu_count() or 1, 8))
    con.execute(
        f"SET threads={threads}; SET preserve_insertion_order=false; SET TimeZone='UTC';"
        f" SET temp_directory='{Path(folder) / 'spill'}'"
    )
    return con


def _plan_store(table: Table, con: Any, folder: str, rows: int | None) -> None:
    """The memory and the lead table's place (:func:`duckdb_plan`) for ``table``."""
    small, memory = duckdb_plan(rows)
    con.execute(f"SET memory_limit='{memory}'")
    if not small:
        con.execute(f"ATTACH '{Path(folder) / 'log.duckdb'}' AS funnelsim_disk")
        table.store, table.folder = "funnelsim_disk.", folder
        return
    try:  # compressed in memory (DuckDB 1.2 and later): less to spill, a little faster
        con.execute("ATTACH ':memory:' AS funnelsim_memory (COMPRESS)")
        table.store = "funnelsim_memory."
    except Exception:  # an older DuckDB: its own memory, uncompressed
        table.store = ""


def open_file(path: Path, delimiter: str | None) -> Table:
    """A Parquet file or dataset folder, or a UTF-8 CSV file, as a DuckDB relation in a
    database of its own (in a temporary folder removed with the log)."""
    name = path.name or str(path)
    if path.is_file() and path.suffix.lower() in (*WORKBOOKS, *SAVE_AS_XLSX):
        raise LogError("engine.error.workbook", name=name)  # not a table DuckDB reads
    folder = tempfile.mkdtemp(prefix="funnelsim-")
    con = _duckdb_connection(folder)
    hive: dict[str, list[object]] = {}  # the columns of Hive folder names (rep=Li/)
    schemas: list[Any] = []  # a Parquet log's files: their columns, and their rows (sizes)
    sizes: list[int] = []
    directory = str(path) if path.is_dir() else ""  # a Parquet folder: its parts named in it
    if directory:  # its files, their columns and its folders' as pandas reads them
        files, schemas, sizes, hive = parquet_folder(path, name)
    else:
        files = [str(path)]
    parquet = bool(directory) or path.suffix.lower() in (".parquet", ".pq")
    patterns = [Path(f) for f in files if "*" in f or "?" in f]
    if patterns:  # DuckDB reads each name as a pattern
        named = patterns[0]
        shown = named.relative_to(path) if directory else named.name
        raise LogError("engine.error.glob_name", name=name, file=quote(str(shown)))
    sep = None
    if not parquet:  # the header as the pandas reader checks it, its delimiter chosen alike
        with open(files[0], "rb") as f:
            raw = f.read(2**16)
        if not is_utf8(raw):  # DuckDB reads UTF-8 only
            raise LogError("engine.error.not_utf8", name=name)
        head = raw.decode("utf-8", errors="replace")
        if not head.lstrip("\ufeff").strip():  # no header, no rows (as pandas says)
            raise LogError("log.error.empty", name=name)
        lines = "\n".join(head.splitlines()[:2])
        sep = delimiter or sniff_delimiter(lines)
        check_csv_header(lines, sep, name)

    if parquet and not directory:  # the file's columns checked as pandas checks them
        schemas, sizes = parquet_columns(files, name)
    # a column empty in the first file (Parquet's null type) takes the others' type
    union = len(schemas) > 1 and any(str(f.type) == "null" for s in schemas for f in s)
    renamed: list[str] = []  # a Parquet file's names stripped, as pandas reads them
    folders = None  # each file's values of the columns its folders name
    if hive:
        values = {k: pd.array(vs, dtype=hive_dtype(vs)) for k, vs in hive.items()}
        folders = con.from_df(pd.DataFrame({"filename": files, **values}))

    def relation(numbered: bool) -> Any:
        if parquet:  # (Hive folders read by the kit: DuckDB's own reads the whole path)
            rel = con.read_parquet(
                files, file_row_number=numbered, filename=numbered or folders is not None,
                hive_partitioning=False, union_by_name=union,
            )  # fmt: skip
            if folders is not None:
                rel = rel.join(folders, "filename")
                rel = rel if numbered else rel.select("* EXCLUDE (filename)")
            if renamed:
                extra = ", file_row_number, filename" if numbered else ""
                rel = rel.select(", ".join(renamed) + extra)
        else:  # every cell as text, as the pandas reader reads a CSV file
            rel = con.read_csv(files[0], header=True, all_varchar=True, sep=sep)
            if numbered:
                rel = rel.select("*, row_number() OVER () - 1 AS file_row_number")
        return rel

    try:
        rel = relation(False)
        if not parquet:  # a CSV's first row read (a Parquet file's footer is read on opening)
            rel.limit(1).fetchall()
        elif any(c != c.strip() or PANDAS_INDEX.fullmatch(c) for c in rel.columns):
            renamed[:] = [  # and a pandas index's column left out, as pandas leaves it
                f"{sql_name(c)} AS {sql_name(c.strip())}"
                for c in rel.columns
                if not PANDAS_INDEX.fullmatch(c)
            ]
            rel = relation(False)
    except LogError:
        raise
    except Exception as err:
        raise read_error(
            con, None if parquet else (files[0], sep), name, err,
            (files, directory) if parquet else ((), ""),
        ) from None  # fmt: skip
    check_header(rel.columns, name)  # each name once, as the pandas reader wants

    offsets: list[tuple[str, int]] = []  # a folder's files: the rows before each one's
    if parquet and len(files) > 1:  # rows counted on across the parts, in order
        before = np.cumsum([0, *sizes[:-1]]).tolist()
        offsets = list(zip(files, before, strict=True))

    def numbered() -> Any:
        rel = relation(True)
        if offsets:
            table = con.from_df(pd.DataFrame(offsets, columns=["filename", "__offset"]))
            rel = rel.join(table, "filename").select(
                "* EXCLUDE (filename, __offset, file_row_number),"
                " file_row_number + __offset + 2 AS __row"
            )
        else:
            drop = "filename, file_row_number" if parquet else "file_row_number"
            rel = rel.select(f"* EXCLUDE ({drop}), file_row_number + 2 AS __row")
        return nw.from_native(rel)

    table = Table(nw.from_native(rel), name, "duckdb", numbered, [con], own=True)
    if offsets:  # each file's first row, for messages (Source.parts)
        table.parts = tuple((str(Path(f).relative_to(path)), k + 2) for f, k in offsets)
    table.text = not parquet
    if not parquet:  # for csv_rows_problem, where a row fails the read later
        table.csv = (files[0], sep)
    if parquet:  # from the files' footers
        table.files = tuple((f, file_stamp(f)) for f in files)
        table.directory = directory
        rows = sum(sizes)
    else:  # a CSV: from its size (rows of the kit's logs take 30 to 60 bytes)
        rows = Path(files[0]).stat().st_size // 30
    _plan_store(table, con, folder, int(rows))
    weakref.finalize(table, _close, con, folder)
    return table


#: The bytes at a file's end that its stamp hashes (a Parquet file's footer lies there).
STAMP_TAIL = 2**16


def file_stamp(path: str | os.PathLike) -> tuple[int, int, bytes]:
    """What tells that the file ``path`` changed since it was read: its size, the time
    its contents changed, and a hash of its last :data:`STAMP_TAIL` bytes (a Parquet
    file's footer: its row groups' places and statistics), which another export copied
    over it keeping the size and the time (``cp -p``, ``touch -r``) does not share. What
    leaves the contents as they are (renaming the file away and back, ``chmod``, a hard
    link, a sync client's attributes) is no change.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text("lead,stage,time\\n")
    >>> before = file_stamp(path)
    >>> os.chmod(path, 0o600)  # the same contents
    >>> file_stamp(path) == before
    True
    >>> _ = path.write_text("lead,stage,date\\n")  # as long, and its time put back:
    >>> os.utime(path, ns=(before[1], before[1]))
    >>> file_stamp(path)[:2] == before[:2], file_stamp(path) == before
    (True, False)
    """
    st = os.stat(path)
    with open(path, "rb") as f:
        f.seek(max(st.st_size - STAMP_TAIL, 0))
        tail = hashlib.blake2b(f.read(STAMP_TAIL), digest_size=16).digest()
    return st.st_size, st.st_mtime_ns, tail


def is_utf8(head: bytes) -> bool:
    """Whether the first bytes of a file are UTF-8 (a character cut at their end is not a
    fault).

    >>> is_utf8("线索".encode()[:-1]), is_utf8("线索".encode("gb18030"))
    (True, False)
    """
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > len(head) - 4
    return True


def read_error(
    con: Any,
    csv_file: tuple[str, str] | None,
    name: str,
    err: Exception,
    parquet: tuple[Sequence[str], str] = ((), ""),
) -> LogError:
    """DuckDB's error ``err`` reading a file (``csv_file``: a CSV file and its delimiter;
    ``parquet``: the Parquet files and the folder they are parts of, "" for a file) as
    the kit's: a CSV row of too few or too many cells named as the pandas reader names it
    (:func:`csv_rows_problem`), a damaged Parquet file as the pandas reader names it
    (:func:`~funnelsim._reader.parquet_problem`), anything else ``engine.error.read``
    with DuckDB's reason (which ``engine="auto"`` reads with pandas)."""
    found = None
    if csv_file is not None:
        found = csv_rows_problem(con, *csv_file, name)
    elif parquet[0] and type(err).__name__ not in ("OutOfMemoryException", "InterruptException"):
        found = parquet_problem(parquet[0], name, Path(parquet[1]) if parquet[1] else None)
    if found is not None:
        return found
    return LogError("engine.error.read", name=name, reason=str(err).splitlines()[0])


def csv_rows_problem(con: Any, file: str, sep: str, name: str) -> LogError | None:
    """The error the pandas reader gives a CSV file with a row of too few cells (or of too
    many), found by DuckDB reading the file with its header's columns as text and
    listing the rows it cannot (where its own reading of the file failed); None where
    every row has the header's cells.

    >>> import duckdb, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "short.csv"
    >>> _ = path.write_text("lead,stage,time\\nA,dial,2025-03-03\\nB,dial\\n")
    >>> err = csv_rows_problem(duckdb.connect(), str(path), ",", "short.csv")
    >>> err.key, err.values["row"], err.values["cells"], err.values["header"]
    ('log.error.short_row', 3, 2, 3)
    """
    with open(file, encoding="utf-8", errors="replace", newline="") as f:
        header = next(csv.reader([f.readline().lstrip("\ufeff")], delimiter=sep), [])
    if not header:
        return None
    columns = {f"c{i}": "VARCHAR" for i in range(len(header))}  # any names: by position
    try:
        for kept in ("__funnelsim_rejects", "__funnelsim_scans"):  # (an earlier look's)
            con.execute(f"DROP TABLE IF EXISTS {kept}").fetchall()
        con.execute(
            "SELECT count(*) FROM read_csv(?, header = true, columns = ?, delim = ?,"
            " quote = '\"', escape = '\"', auto_detect = false, ignore_errors = true,"
            " store_rejects = true, rejects_table = '__funnelsim_rejects',"
            " rejects_scan = '__funnelsim_scans')",
            [file, columns, sep],
        ).fetchall()
        rejected = con.execute(
            "SELECT line, error_type, any_value(csv_line) FROM __funnelsim_rejects"
            " WHERE error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')"
            " GROUP BY line, error_type ORDER BY line"
        ).fetchall()
    except Exception:  # DuckDB cannot tell: the read's own error stands
        return None
    short = [(line, text) for line, kind, text in rejected if kind == "MISSING COLUMNS"]
    long = [(line, text) for line, kind, text in rejected if kind == "TOO MANY COLUMNS"]
    if not (short or long):
        return None

    def cells(text: str) -> int:
        return len(next(csv.reader([text], delimiter=sep), []))

    if long and (not short or long[0][0] < short[0][0]):  # the first row that is wrong
        line, text = long[0]
        return LogError("log.error.ragged", name=name, row=int(line), cells=cells(text),
                        header=len(header))  # fmt: skip
    line, text = short[0]
    return LogError("log.error.short_row", name=name, row=int(line), cells=cells(text),
                    header=len(header), count=len(short))  # fmt: skip


def open_pandas(frame: pd.DataFrame) -> Table:
    """A pandas DataFrame read by DuckDB (``engine="duckdb"``), in a database of its own."""
    folder = tempfile.mkdtemp(prefix="funnelsim-")
    con = _duckdb_connection(folder)
    frame = frame.copy(deep=False)
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    for c in frame.columns:  # a column of several kinds (times and a number: an Excel
        # serial) as the text of its cells, as the pandas reader reads it: DuckDB takes a
        # column's type from its first cells and fails on the others
        column = frame[c]
        if column.dtype == object and pd.api.types.infer_dtype(column).startswith("mixed"):
            text = [cell_text(v) for v in column]
            frame[c] = pd.Series([v or None for v in text], index=frame.index, dtype=object)
    rel = con.from_df(frame)

    def numbered() -> Any:
        rows = frame.assign(__row=np.arange(len(frame), dtype=np.int64) + 2)
        return nw.from_native(con.from_df(rows))

    name = str(frame.attrs.get(NAME_ATTR, "DataFrame"))
    table = Table(nw.from_native(rel), name, "duckdb", numbered, [con, frame], own=True)
    _plan_store(table, con, folder, len(frame))
    weakref.finalize(table, _close, con, folder)
    return table


def _close(con: Any, folder: str) -> None:
    try:
        con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: What a database's address starts with (``read_log("postgresql://...", table=...)``).
DATABASE_SCHEMES = ("postgresql://", "postgres://", "duckdb://", "sqlite://", "mysql://")


def is_database(source: object) -> bool:
    """A database's address (``postgresql://user@host/db``), a SQLAlchemy engine or an
    Ibis connection: ``read_log`` reads its ``table=`` or ``query=``.

    >>> is_database("postgresql://kit@localhost/crm"), is_database("events.csv")
    (True, False)
    """
    if isinstance(source, str):
        return source.lower().startswith(DATABASE_SCHEMES)
    kind = type(source)
    module = kind.__module__ or ""
    return (module.startswith("sqlalchemy") and kind.__name__ == "Engine") or (
        module.startswith("ibis.backends") and hasattr(source, "table")
    )


def open_database(source: object, table: str | None, query: str | None) -> Table:
    """A database's table or query through Ibis (which writes the database's own SQL);
    nothing is written to the database but temporary tables of this session."""
    if (table is None) == (query is None):
        raise FunnelsimValueError("engine.error.table_or_query", source=_address(source))
    try:
        import ibis  # lazy: Ibis is optional (the engines extra), for databases only
    except ImportError:
        raise FunnelsimValueError("engine.error.ibis", source=_address(source)) from None
    try:
        if isinstance(source, str):
            con = ibis.connect(source)
        elif type(source).__name__ == "Engine":  # SQLAlchemy
            con = ibis.connect(source.url.render_as_string(hide_password=False))
        else:
            con = source
        expr = con.table(table) if table is not None else _query(con, query)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LogError(
            "engine.error.database", source=_address(source), what=table or query, reason=reason
        ) from None
    name = table if table is not None else "query"
    frame = nw.from_native(expr)

    def numbered() -> Any:  # a table has no row order: rows as the database lists them
        return frame.with_row_index("__row", order_by=frame.columns[:1]).with_columns(
            nw.col("__row") + 2
        )

    return Table(frame, name, "ibis", numbered, [con, expr])


def _query(con: Any, query: str) -> Any:
    """An Ibis expression of a SQL query. For PostgreSQL its columns' types are asked of
    the server with ``LIMIT 0``, not found by creating a temporary view as Ibis does
    (a read-only replica allows none)."""
    if getattr(con, "name", "") != "postgres":
        return con.sql(query)
    # lazy: Ibis is optional (the engines extra), for databases only
    import ibis
    from ibis.backends.sql.datatypes import PostgresType

    with con.con.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({query}) AS funnelsim_query LIMIT 0")
        types = cursor.adapters.types
        schema = {
            d.name: PostgresType.from_string(types.get(d.type_code).name)
            for d in cursor.description
        }
    con.con.rollback() if not con.con.autocommit else None
    return con.sql(query, schema=ibis.schema(schema))


def _address(source: object) -> str:
    """A database's address without its password, for a message."""
    text = source if isinstance(source, str) else str(getattr(source, "url", type(source)))
    if "://" in text and "@" in text:
        scheme, rest = text.split("://", 1)
        user, host = rest.rsplit("@", 1)
        text = f"{scheme}://{user.split(':', 1)[0]}@{host}"
    return text


def open_native(source: object) -> Table:
    frame = nw.from_native(source)
    if isinstance(frame, nw.DataFrame):  # an eager frame (Polars, PyArrow): lazily
        frame = frame.lazy()
    backend = frame.implementation.name.lower()

    def numbered() -> Any:
        native = nw.to_native(frame)
        if backend == "polars":
            return nw.from_native(native.with_row_index("__row", offset=2))
        if backend == "duckdb":
            return nw.from_native(native.select("*, row_number() OVER () + 1 AS __row"))
        if backend == "dask":
            ones = native.assign(__one=1)["__one"]
            return nw.from_native(native.assign(__row=ones.cumsum() + 1))
        # no order of its own (Spark, a database): rows as the engine lists them
        return frame.with_row_index("__row", order_by=frame.columns[:1]).with_columns(
            nw.col("__row") + 2
        )

    name = str(getattr(source, "attrs", {}).get("funnelsim_name", type(source).__name__))
    return Table(frame, name, backend, numbered, [source])


def times_in_text(table: Table, column: str, sample: int = 10_000) -> bool:
    """A CSV's time column holds times DuckDB reads (ISO, such as 2025-03-05 14:30):
    judged on its first rows (at most half of them otherwise), so that a file of dates
    written otherwise (2025年3月5日, 3/5/2025) goes to pandas whole instead of lead by
    lead."""
    native = nw.to_native(table.frame)
    cell = sql_name(column)
    given = f"trim({cell}) <> ''"
    counts = native.limit(sample).aggregate(
        f"count(*) FILTER (WHERE {given}),"
        f" count(*) FILTER (WHERE {given} AND TRY_CAST(trim({cell}) AS TIMESTAMPTZ) IS NULL)"
    )
    n, bad = counts.fetchall()[0]
    return bad * 2 <= n  # a few unreadable cells are problems the pandas reader names


def is_time(table: Table, column: str, dtype: Any) -> bool:
    """A column of times or dates (narwhals does not name every engine's: DuckDB's
    TIMESTAMP WITH TIME ZONE is one it leaves unknown)."""
    if dtype.is_temporal():
        return True
    if table.backend == "duckdb":
        native = nw.to_native(table.frame)
        kind = str(dict(zip(native.columns, native.types, strict=True))[column]).upper()
        return kind.startswith(("TIMESTAMP", "DATE"))
    return False


def value_of(expr: Any, dtype: Any) -> Any:
    """A group value as the engine keeps it: as stored, a category as its text, NaN as
    empty."""
    if dtype in (nw.Categorical, nw.Enum):
        return expr.cast(nw.String)
    if dtype.is_float():
        return nw.when(~expr.is_nan()).then(expr)
    return expr


def amount_of(table: Table, column: str, dtype: Any) -> tuple[Any, Any]:
    """An amount as a number (NaN or empty: none; a CSV's text cast where it is a plain
    number) and whether the cell is one the pandas reader refuses or reads otherwise
    (not a finite number >= 0, or text such as ¥12,000): its lead goes to pandas."""
    expr = nw.col(column)
    if table.text:  # DuckDB's TRY_CAST: a plain number, else none (then pandas reads it)
        native = nw.to_native(table.frame)
        cast = f"TRY_CAST(trim({sql_name(column)}) AS DOUBLE)"
        table.frame = nw.from_native(native.select(f"*, {cast} AS {sql_name('__num_' + column)}"))
        number = nw.col(f"__num_{column}")
        given = ~expr.is_null() & (expr.str.strip_chars() != "")
    else:
        number, given = expr.cast(nw.Float64), ~expr.is_null()
    number = nw.when(~number.is_nan()).then(number)
    bad = given & (number.is_null() | ~number.is_finite() | (number < 0)).fill_null(True)
    return number, bad.fill_null(False)


def lead_key(expr: Any, dtype: Any, trimmed: bool, spaces: str | None = SPACES) -> Any:
    """The lead id as the engine groups by it: as stored (an empty text is no lead), or
    stripped of spaces where some ids have them (``trimmed``), as the pandas reader
    labels them."""
    if dtype in (nw.Categorical, nw.Enum):
        expr, dtype = expr.cast(nw.String), nw.String
    if dtype.is_float():
        return nw.when(~expr.is_nan()).then(expr)
    if dtype != nw.String:
        return expr
    if trimmed:
        expr = expr.str.strip_chars(spaces)
    return nw.when(expr != "").then(expr)


def blank_cell(expr: Any, dtype: Any, spaces: str | None = SPACES) -> Any:
    """An empty cell: missing, or text of spaces only (``spaces``: the characters; None:
    the engine's own idea of a space, where it takes no list)."""
    if dtype == nw.String:
        return expr.is_null() | (expr.str.strip_chars(spaces) == "")
    return expr.is_null()


def stage_codes(column: str, dtype: Any, stage_map: Mapping[str, str]) -> Any:
    """Each row's stage index (Int16), null when the cell is not a stage's name as
    written. A cell the pandas reader still reads (" dial", a stage stored as 1.0) is
    null here too: its lead is read by the pandas reader, which strips it (no text work
    per row, no pass over the column to list its values)."""
    cell = nw.col(column) if dtype == nw.String else nw.col(column).cast(nw.String)
    code = None
    for k, name in reversed(list(enumerate(stage_map.values()))):
        hit, then = cell == nw.lit(name), nw.lit(k, nw.Int16)
        code = nw.when(hit).then(then) if code is None else nw.when(hit).then(then).otherwise(code)
    return code


def label_values(values: pd.Series) -> pd.Series:
    """Group values as stored, labelled as the pandas reader labels them: text without
    surrounding spaces (empty: missing), whole numbers as their digits.

    >>> label_values(pd.Series([" Ann", "", None, "Bob"])).tolist()
    ['Ann', nan, nan, 'Bob']
    >>> label_values(pd.Series([3.0, 2.5, np.nan])).tolist()
    ['3', '2.5', nan]
    """
    codes, names = labels(values.reset_index(drop=True).astype(object))
    out = np.full(len(values), np.nan, dtype=object)
    out[codes >= 0] = np.asarray(names, dtype=object)[codes[codes >= 0]]
    return pd.Series(out, index=values.index, dtype=object)


def duckdb_nanoseconds(cell: str, kind: str, text: bool) -> str:
    """DuckDB's SQL for a time as int64 nanoseconds since 1970 (UTC for times with a
    zone), of ``cell`` (SQL: a column or a value) of DuckDB type ``kind`` (``text``: a
    CSV's text, read as a time where DuckDB can). A time outside nanoseconds' range
    (before 1677, after 2262) is none: its lead goes to pandas. The conversion keeps
    the order of the times.

    >>> duckdb_nanoseconds('"time"', "TIMESTAMP_NS", text=False)
    'epoch_ns("time")'
    """
    if text:  # (trim: DuckDB 2.0 moves a bare column's TRY_CAST into a CSV reader, where a
        # cell it cannot read, such as 2025-02-30, fails the query, naming another column;
        # every cast of the kit's of text is of a trimmed cell, which TRY_CAST ignores)
        cell = f"TRY_CAST(trim({cell}) AS TIMESTAMPTZ)"
    elif kind.upper() in ("TIMESTAMP_NS", "TIMESTAMPTZ_NS"):  # nanoseconds kept (a cast
        # to TIMESTAMP drops them, and of a zoned time takes the connection's zone: a
        # user's relation on a machine not set to UTC)
        return f"epoch_ns({cell})"
    elif not kind.upper().startswith("TIMESTAMP WITH"):
        cell = f"{cell}::TIMESTAMP"
        return (
            f"CASE WHEN {cell} BETWEEN TIMESTAMP '1677-09-22' AND TIMESTAMP"
            f" '2262-04-11' THEN epoch_ns({cell}) END"
        )
    return (
        f"CASE WHEN {cell} BETWEEN TIMESTAMPTZ '1677-09-22 00:00:00+00'"
        f" AND TIMESTAMPTZ '2262-04-11 00:00:00+00' THEN epoch_ns({cell}) END"
    )


def nanoseconds(table: Table, column: str) -> Any:
    """A time column as int64 nanoseconds since 1970 (UTC for times with a zone)."""
    if table.backend == "duckdb":
        native = nw.to_native(table.frame)
        # narwhals has no epoch for DuckDB: its own function, on the same relation
        kind = str(dict(zip(native.columns, native.types, strict=True))[column])
        safe = duckdb_nanoseconds(sql_name(column), kind, table.text_times)
        alias = sql_name(f"__ns_{column}")
        table.frame = nw.from_native(native.select(f"*, ({safe})::BIGINT AS {alias}"))
        return nw.col(f"__ns_{column}")
    if table.backend in ("pyspark", "pyspark_connect"):
        # lazy: Spark is optional, and its table is Spark's
        from pyspark.sql import functions as F

        native = nw.to_native(table.frame)
        micros = F.unix_micros(F.col(f"`{column}`")) * 1000
        table.frame = nw.from_native(native.withColumn(f"__ns_{column}", micros))
        return nw.col(f"__ns_{column}")
    if table.backend == "ibis":
        native = nw.to_native(table.frame)
        # microseconds since 1970 (what a database's timestamps hold), in nanoseconds
        micros = native[column].delta(_ibis_epoch(), unit="microsecond")
        table.frame = nw.from_native(native.mutate(**{f"__ns_{column}": micros * 1000}))
        return nw.col(f"__ns_{column}")
    return nw.col(column).dt.timestamp("ns")


def footer_times(table: Table, column: str, future: int) -> tuple[dict, list] | None:
    """The as-of pass's figures (latest time, known times, earliest known time) and the
    11 latest known times of a Parquet log (``table.files``) whose time ``column`` has a
    time type, from its files' footers, without reading its times: DuckDB answers the
    least and greatest time and their count from the row groups' statistics, and the
    latest times are read from the row groups that must hold them, those with the latest
    least times (0.02 s against 0.12 s for the pass at 10 M rows, in a file written in
    time order; in one of times in no order, as many row groups as the pass reads).
    None where the footers cannot tell: another source, a time after ``future`` (int64
    nanoseconds) or outside nanoseconds' range (the pass then finds which)."""
    if table.backend != "duckdb" or not table.files:
        return None
    native = nw.to_native(table.frame)
    kind = str(dict(zip(native.columns, native.types, strict=True))[column])
    if not kind.upper().startswith(("TIMESTAMP", "DATE")):
        return None
    name, rel = sql_name(column), "__funnelsim_times"
    ns = {end: duckdb_nanoseconds(f'"{end}"', kind, text=False) for end in ("lo", "hi")}
    first, last, n = native.query(
        rel,
        f"SELECT {ns['lo']}, {ns['hi']}, n FROM (SELECT min({name}) AS lo,"
        f" max({name}) AS hi, count({name}) AS n FROM {rel})",
    ).fetchall()[0]
    if first is None or last is None or last > future:
        return None
    stats = {"last": last, "known": n, "first": first}
    # the least time of each row group: the latest row groups by it hold at least 11
    # times from the 11th one's least time on, so the 11 latest are among them (a row
    # group with no statistics is left out: it holds none of those counted)
    sql = (
        f"SELECT CAST(lo AS VARCHAR), n FROM (SELECT TRY_CAST(stats_min_value AS {kind})"
        " AS lo, row_group_num_rows - stats_null_count AS n FROM parquet_metadata(?)"
        " WHERE path_in_schema = ?) WHERE lo IS NOT NULL AND n > 0 ORDER BY lo DESC"
    )
    files = [f for f, _ in table.files]
    groups = table.keep[0].execute(sql, [files, column]).fetchall()
    where, seen = "", 0
    for lo, rows in groups:
        seen += rows
        if seen >= 11:
            where = f"WHERE {name} >= CAST('{lo}' AS {kind})"
            break
    t = duckdb_nanoseconds(name, kind, text=False)
    top = native.query(rel, f"SELECT max({t}, 11) FROM {rel} {where}").fetchall()[0][0]
    return stats, top or []


def _ibis_epoch() -> Any:
    import ibis  # lazy: Ibis is optional (the engines extra), for databases only

    return ibis.timestamp("1970-01-01 00:00:00")


class Progress:
    """A bar over the steps of an engine's read, shown on a terminal or in a notebook
    only when the read takes more than two seconds (a large log)."""

    STEPS = 6

    def __init__(self, name: str) -> None:
        from tqdm.auto import tqdm  # lazy: tqdm.auto looks for IPython and its widgets

        self.bar = tqdm(total=self.STEPS, desc=t("engine.progress", name=name), delay=2.0,
                        leave=False, disable=None)  # fmt: skip

    def step(self) -> None:
        self.bar.update(1)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
