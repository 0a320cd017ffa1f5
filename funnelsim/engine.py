"""Logs of any size: what the kit needs from an events log, as aggregate queries an engine runs.

A log of a few million rows is read into pandas (:mod:`funnelsim._events`).
A larger one, or one that lives in an engine (a DuckDB relation, a Polars
LazyFrame, a Dask DataFrame, a PySpark DataFrame, an Ibis table such as a
database's), is read where it lives: the kit asks the engine for one row per
lead (its first time at each stage, its attempts, its group columns), keeps
that table in the engine, and every later question (the stage tables, by any
group or by week, the mature tables, the young-lead check) is a group-by on
it whose answer has a row per group. Memory on the kit's side is bounded by
the number of groups and time points, not by the rows. In DuckDB the read
also keeps the stage table per group of every group column (where they make
few groups), so a stage table by any of them needs no query.

The log's figures (its rows, leads, clean leads, stages skipped, the stage
tables per group) come from one aggregate that groups the leads by a code
of their flags (:class:`~funnelsim._figures.LeadFigures`). A Parquet file's
read goes further: its as-of time comes from the files' footers
(:func:`~funnelsim._sources.footer_times`), its one aggregate sums the lead
rows as they come (with a young-lead summary of times in buckets) and the
lead table is written only when a question needs it
(:class:`~funnelsim._lead_table.Deferred`): ``read_log`` then ``fit(by=...)``
costs one pass over the rows, not that and a table of a row per lead.

One layer speaks to every engine: `narwhals <https://narwhals-dev.github.io/narwhals/>`_,
which turns the same expressions into DuckDB's, Polars', Dask's or Spark's
own plans (Ibis tables, a database's among them, through Ibis's SQL). The
queries use only what every one of them runs: projections, ``when``, sums,
minima and maxima by group, joins on the lead, sorting and ``head``.

Why narwhals, with Ibis under it for databases, rather than Ibis alone: an
analyst hands the kit the table they already have, and narwhals takes each
engine's own object as it is (a Dask DataFrame, which Ibis no longer reads;
a Polars LazyFrame; a Spark DataFrame on the user's session; a DuckDB
relation on the user's connection) without a connection of the kit's, while
Ibis would first need each one registered with a backend of its own. Ibis is
what narwhals lacks: SQL for every database. So a database's table or query
becomes an Ibis table, and narwhals runs the same expressions on it. Where
narwhals has no word for a step (the epoch of a time on DuckDB, Spark and
Ibis), the engine's own function is used, one line each (:func:`funnelsim._sources.nanoseconds`).

Same answers as pandas, to the last count
-----------------------------------------
The engine computes each lead's row with simple rules that hold for most
leads: its first time at each stage (a running minimum from the last stage),
its attempts at a stage (its rows there), its group values (the same on every
row). A lead for which they do not hold (it moved back down the funnel, or
its rows name two reps) is *irregular*: its rows, a few in a typical log,
are read by the pandas reader itself and its row replaces the engine's. A
lead with an invalid row (no stage, an unknown one, a copied row, a time
after ``as_of``...) is read the same way, so the error, or ``Log.dropped``
with ``errors="drop"``, is the pandas reader's, word for word.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ._columns import recognise_columns, resolve
from ._events import read_events
from ._figures import LeadFigures
from ._formats import (
    FIELDS,
    GROUP_FIELDS,
    REQUIRED,
    extra_columns,
    far_back_bound,
    far_limit,
    tomorrow,
)
from ._lead_table import (
    SELF,
    Deferred,
    LeadTable,
    collect,
    persist,
    with_values,
    young_code,
    young_counts,
)
from ._parquet import parquet_parts
from ._problems import with_parts
from ._reader import LogError, Source, choice, empty_dropped
from ._sources import (
    DUCKDB_MEMORY,
    SPACED,
    SPACES,
    Progress,
    Table,
    amount_of,
    blank_cell,
    footer_times,
    is_database,
    is_time,
    is_utf8,
    lead_key,
    nanoseconds,
    open_database,
    open_file,
    open_native,
    open_pandas,
    read_error,
    sql_name,
    stage_codes,
    times_in_text,
    value_of,
)
from ._times import ZONE
from .i18n import FunnelsimValueError, t

# narwhals reads Dask itself today and will through the narwhals-dask plugin tomorrow; the
# notice about the move is for narwhals' users, not the kit's.
warnings.filterwarnings(
    "ignore", message="Dask support is moving out of Narwhals", category=FutureWarning
)

__all__ = [
    "AUTO_BYTES",
    "DUCKDB_MEMORY",
    "ENGINES",
    "LeadTable",
    "is_engine_frame",
    "read_engine_log",
]

#: ``read_log(engine=...)``: ``"auto"`` reads an events file larger than
#: :data:`AUTO_BYTES` (or an engine's table) with an engine, others with pandas.
ENGINES = ("auto", "pandas", "duckdb")
#: Events files (CSV, Parquet) above this size go to DuckDB by default.
AUTO_BYTES = 256 * 2**20
#: Irregular leads read by pandas at most (their rows); more is an error naming the cause.
MAX_IRREGULAR_ROWS = 5_000_000
#: Stages at most for which DuckDB packs a lead's counts at its stages in one number
#: (a field of ``63 // stages`` bits each: 1,023 rows or more for 6 stages).
PACKED_STAGES = 6
#: Stages at most for which a deferred read (:class:`~funnelsim._lead_table.Deferred`)
#: keeps the young-lead summary: a code per lead of 515 values a step, in a BIGINT.
YOUNG_STAGES = 7
#: Groups of all group columns together at most for which the read keeps the stage
#: table per group (:attr:`LeadTable.cube`), when DuckDB knows each column's values.
CUBE_GROUPS = 100_000


def is_engine_frame(source: object) -> bool:
    """True for a table an engine holds (DuckDB, Polars, Dask, PySpark, Ibis...), which
    narwhals reads; False for pandas and everything else.

    >>> import pandas as pd
    >>> is_engine_frame(pd.DataFrame({"a": [1]})), is_engine_frame("log.csv")
    (False, False)
    """
    if isinstance(source, pd.DataFrame | str | os.PathLike | bytes) or source is None:
        return False
    try:
        nw.from_native(source)
    except TypeError:
        return False
    return True


def wants_engine(source: object, engine: str, fmt: str) -> bool:
    """Whether ``read_log`` reads ``source`` with an engine (:data:`ENGINES`)."""
    engine = choice("engine", engine, ENGINES)
    if is_database(source):
        return True
    if engine == "pandas":
        return False
    if is_engine_frame(source):
        return True
    if fmt != "events" or not isinstance(source, str | os.PathLike):
        return engine == "duckdb" and fmt == "events"
    if engine == "duckdb":
        return True
    path = Path(source)
    if path.is_dir():
        size = sum(Path(p).stat().st_size for p in parquet_parts(path))
        return size > AUTO_BYTES
    if not path.is_file() or path.suffix.lower() not in (".parquet", ".pq", ".csv"):
        return False
    if path.stat().st_size <= AUTO_BYTES:
        return False
    if path.suffix.lower() != ".csv":
        return True
    with open(path, "rb") as f:  # a CSV file DuckDB reads as it is: UTF-8 (1 MB judged)
        return is_utf8(f.read(2**20))


class _TrimLeads(Exception):
    """Some lead ids have spaces around them: the read starts again, stripping them."""


# ------------------------------------------------------------------- reading
def read_engine_log(
    source: object,
    *,
    stage_map: dict[str, str],
    given: dict[str, str],
    as_of: pd.Timestamp | None,
    mode: str,
    delimiter: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """The parts of an events :class:`~funnelsim.Log` read by an engine (``Log.engine``
    a :class:`LeadTable`; no lead-level frames). ``read_log`` calls it.

    >>> import funnelsim as fs
    >>> from funnelsim.logs import Log
    >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
    >>> parts = read_engine_log(fs.datasets.path("sample_events.csv"),
    ...                         stage_map=dict(zip(stages, stages)), given={}, as_of=None,
    ...                         mode="raise")
    >>> Log(**parts)
    Log(events, 'sample_events.csv': 6000 leads, stages dial -> connect -> meeting ->
        proposal -> sale, 0 rows dropped)
    """
    if is_database(source):
        table = open_database(source, table, query)
    elif isinstance(source, pd.DataFrame):
        table = open_pandas(source)
    elif is_engine_frame(source):
        table = open_native(source)
    else:
        path = Path(source)
        if not path.exists():
            raise LogError("log.error.not_found", name=str(path), cwd=os.getcwd())
        table = open_file(path, delimiter)
    frame = table.frame
    columns = list(frame.collect_schema().names())
    header = Source(pd.DataFrame(columns=columns), np.array([], dtype=np.int64), table.name)
    used = recognise_columns(header, FIELDS["events"], given, None)
    cols = resolve(header, FIELDS["events"], used, REQUIRED["events"])
    if "status" in cols or "reason" in cols:
        raise FunnelsimValueError(
            "engine.error.status", name=table.name, column=cols.get("status", cols.get("reason"))
        )
    extras = extra_columns(header.frame, cols)
    groups = [g for g in GROUP_FIELDS if g in cols] + extras
    schema = frame.collect_schema()
    time_type = schema[cols["time"]]
    # times written as text: a CSV's, and in DuckDB a column of text (a Parquet export
    # of dates as strings), read as the CSV's are
    table.text_times = table.text or (table.backend == "duckdb" and time_type == nw.String)
    # the advice for the source's kind: a file (its Parquet files or CSV file read), a
    # database's table, a user's frame
    is_file = bool(table.files or table.csv)
    kind = "" if is_file else "_query" if is_database(source) else "_table"
    said = {"name": table.name, "column": cols["time"], "sql": sql_name(cols["time"])}
    if table.text_times and not times_in_text(table, cols["time"]):
        raise FunnelsimValueError(
            f"engine.error.time_text{kind}", **said, type=t("engine.value.text")
        )
    if not (table.text_times or is_time(table, cols["time"], time_type)):
        raise FunnelsimValueError(
            f"engine.error.time_text{kind}", **said,
            type=t("engine.value.typed", type=str(time_type)),
        )  # fmt: skip
    if "amount" in cols and not (table.text or schema[cols["amount"]].is_numeric()):
        raise FunnelsimValueError(
            "engine.error.amount_text", name=table.name, column=cols["amount"]
        )
    time_ns = nanoseconds(table, cols["time"])  # may add a column to table.frame
    frame = table.frame
    # a row is left out when every cell is empty (as the pandas reader does): only a
    # row without a lead can be, so the other cells are looked at only there
    spaces = None if table.backend == "ibis" else SPACES  # Ibis strips spaces only
    order = sorted(columns, key=lambda c: schema[c] == nw.String)  # the cheap tests first
    blank = nw.all_horizontal(*[blank_cell(nw.col(c), schema[c], spaces) for c in order],
                              ignore_nulls=False)  # fmt: skip
    codes = stage_codes(cols["stage"], schema[cols["stage"]], stage_map)

    internal = {g: f"__g{i}" for i, g in enumerate(groups)}  # never a file's own name
    amount = amount_of(table, cols["amount"], schema[cols["amount"]]) if "amount" in cols else None
    frame = table.frame  # with the amount's number, where a CSV's text is cast

    lead_type = schema[cols["lead"]]
    text_lead = lead_type in (nw.String, nw.Categorical, nw.Enum)
    # a CSV's times: which are written with a zone (a column that mixes times with a zone
    # and without is a problem of its fewer kind's rows, as the pandas reader says); the
    # pattern allows the spaces the pandas reader strips (stripping every cell: 0.3 s at
    # 3 M rows)
    zone = ZONE.removesuffix("$") + f"[{SPACES}]*$"
    zoned = {"__z": nw.col(cols["time"]).str.contains(zone)} if table.text_times else {}

    def build(trimmed: bool) -> _Build:
        lead = lead_key(nw.col(cols["lead"]), lead_type, trimmed, spaces)
        # grouped by the id as stored (an empty one is a lead of the table, read as the
        # rows without a lead): no text made per row
        raw = text_lead and not trimmed
        key = nw.col(cols["lead"]).cast(nw.String) if raw else lead
        # a row of empty cells is left out (a lead of spaces only is an empty cell)
        rows = frame.filter(~blank if raw else ~(lead.is_null() & blank)).select(
            lead=key,
            s=codes,
            t=time_ns,
            # group values as stored: labelled (spaces, 3.0 as "3") on the answers
            **{
                internal[g]: value_of(nw.col(cols.get(g, g)), schema[cols.get(g, g)])
                for g in groups
            },
            **({"__amount": amount[0], "__bad_amount": amount[1]} if amount else {}),
            **zoned,
        )
        out = _Build(table, rows, cols, schema, stage_map, tuple(groups), tuple(extras))
        out.columns, out.trimmed, out.lead, out.blank = columns, trimmed, lead, blank
        # the times, and for DuckDB the text group values (to check their hashes)
        text = [
            g for g in groups if table.backend == "duckdb" and schema[cols.get(g, g)] == nw.String
        ]
        values = {internal[g]: nw.col(cols.get(g, g)) for g in text}
        out.text_lead, out.times = text_lead, frame.select(t=time_ns, **values, **zoned)
        out.hashed = [internal[g] for g in text]
        out.internal = internal
        return out

    with Progress(table.name) as progress, _read_errors(table):
        try:
            parts = build(trimmed=False).run(as_of, mode, progress)
        except _TrimLeads:  # lead ids with spaces around them: stripped on every row
            parts = build(trimmed=True).run(as_of, mode, progress)
    parts["columns_used"] = dict(cols)
    return parts


@contextlib.contextmanager
def _read_errors(table: Table) -> Iterator[None]:
    """DuckDB's errors during the kit's read of a file as the kit's (:func:`read_error`:
    a CSV row of too few or too many cells past the sniffer's first rows is named as the
    pandas reader names it); never DuckDB's traceback."""
    try:
        yield
    except Exception as err:
        if not (table.own and type(err).__module__.startswith(("duckdb", "_duckdb"))):
            raise
        parquet = ([f for f, _ in table.files], table.directory)
        raise read_error(table.keep[0], table.csv, table.name, err, parquet) from None


def _hash_of(column: str) -> str:
    """DuckDB's hash of a column's value (a UBIGINT)."""
    return f"hash({sql_name(column)})"


def _key_of(column: str, bits: int) -> str:
    """A text value's key in DuckDB: its hash (``bits`` 64), or the hash's upper half
    (32, where no two of the column's values share it: a smaller state per lead)."""
    return _hash_of(column) if bits == 64 else f"({_hash_of(column)} >> 32)"


def _key_hash(columns: tuple[str, ...]) -> str:
    """DuckDB's hash of a row's values in ``columns``, one number."""
    return f"hash({', '.join(sql_name(c) for c in columns)})"


def wrapping_sum(con: Any) -> bool:
    """Whether the DuckDB of connection ``con`` has ``sum_no_overflow``: a sum of 64-bit
    numbers that wraps around (a state half the size of ``sum``'s 128 bits: less memory
    per lead, 0.1 s less at 10 M rows). The packed counts need no more: their low 60
    bits are the same either way, and a field that overflows is caught
    (:meth:`_Build._per_lead_duckdb`)."""
    import duckdb  # lazy: asked only where DuckDB reads a log

    try:
        return con.execute("SELECT sum_no_overflow(CAST(1 AS BIGINT))").fetchall() == [(1,)]
    except duckdb.Error:  # not in this DuckDB
        return False


class _Build:
    """One engine log: the checks, the lead table and the irregular leads read by pandas."""

    def __init__(self, table, rows, cols, schema, stage_map, groups, extras) -> None:
        self.table, self.rows, self.cols, self.schema = table, rows, cols, schema
        self.stage_map, self.stages = stage_map, tuple(stage_map)
        self.groups, self.extras = groups, extras
        self.internal = {g: f"__g{i}" for i, g in enumerate(groups)}
        self.values = [*self.internal.values(), *(["__amount"] if "amount" in cols else [])]
        self.hashed: list[str] = []  # text group columns DuckDB compares by hash
        self.dictionary: dict[str, Any] = {}  # each one's values and keys (_dictionaries)
        self.key_bits: dict[str, int] = {}  # each one's key: 32 or 64 bits of its hash
        self.sizes: dict[str, int] = {}  # and how many values it has
        self.zones: str | None = None  # a CSV's times' fewer kind where it mixes two

    def run(self, as_of: pd.Timestamp | None, mode: str, progress: Progress) -> dict[str, Any]:
        self.progress = progress
        S, rows = len(self.stages), self.rows
        when = nw.col("t")
        lead, s, unit = nw.col("lead"), nw.col("s"), nw.lit(1, nw.Int64)
        # --- one pass over the times for the as-of rules (read_log's), and over the text
        # group columns for their hashes; the rows' count and the rows without a lead
        # come with the lead table below
        future = int(tomorrow().view(np.int64))
        ok = ~when.is_null() & (when <= future)
        times, top11 = self.times, None
        footers = footer_times(self.table, self.cols["time"], future)
        if footers is not None:  # a Parquet log's: its files' footers, and a few row groups
            stats, top11 = footers
            self._dictionaries(None)
        elif self.table.backend == "duckdb":  # the 11 latest times in the same pass
            known = f"FILTER (WHERE t <= {future})"
            sql = (
                f"SELECT max(t) AS last, count(t) {known} AS known, min(t) {known} AS first,"
                f" max(t, 11) {known} AS top"
            )
            if self.table.text_times:  # the times read, with a zone and without
                zone_counts = ("aware", "__z"), ("naive", "NOT __z")
                sql += "".join(f", count(t) FILTER (WHERE {w}) AS {k}" for k, w in zone_counts)
            # a CSV file is read again on each pass: its text group columns' values are
            # listed in this one (elsewhere a query of their own is quicker: 0.5 s against
            # 7 s at 100 M rows)
            listed = self.table.text and bool(self.hashed)
            for i, v in enumerate(self.hashed if listed else []):
                sql += f', list(DISTINCT {sql_name(v)}) AS "__d{i}"'
            native = nw.to_native(times).query(SELF, f"{sql} FROM {SELF}")
            if listed:  # kept for the values' dictionaries below
                native = nw.to_native(persist(nw.from_native(native), self.table, "stats"))
            zones = ", aware, naive" if self.table.text_times else ""
            last, n_known, first, top11, *kinds = native.query(
                SELF, f"SELECT last, known, first, top{zones} FROM {SELF}"
            ).fetchall()[0]
            if kinds and min(kinds) > 0:  # both: the fewer kind's rows are problems
                self.zones = "aware" if kinds[0] <= kinds[1] else "naive"
            self._dictionaries(native if listed else None)
            stats = {"last": np.nan if last is None else last, "known": n_known, "first": first}
        else:
            stats = collect(
                times.select(
                    last=when.max(),
                    known=nw.when(ok).then(unit).count(),
                    first=nw.when(ok).then(when).min(),
                )
            ).iloc[0]
        far_end: int | None = None
        if as_of is not None:
            limit = int(pd.Timestamp(as_of).as_unit("ns").value)
        else:
            limit, n_known = future, int(stats["known"])
            if n_known:
                if top11 is None:
                    top = times.filter(ok).select("t").sort("t", descending=True).head(11)
                    top11 = collect(top)["t"]
                first = int(stats["first"])
                top = np.sort(np.asarray(top11, dtype=np.int64))
                far_end = far_limit(first, top, n_known)
        self.progress.step()  # the times checked
        # a row is valid when it has a stage, a time up to the limit (and before the far
        # times) and a good amount; only valid rows are counted at their stage, so a lead
        # with an invalid row is one whose rows outnumber its counts (one test per row)
        valid = ~s.is_null() & (when <= limit)
        valid = valid & (when >= far_back_bound(limit))  # (read_log's, as pandas reads)
        if "amount" in self.cols:  # not a number >= 0: the pandas reader says which
            valid = valid & ~nw.col("__bad_amount")
        if far_end is not None:
            valid = valid & (when <= far_end)
        if self.zones is not None:  # their leads read by pandas, which names those rows
            valid = valid & (nw.col("__z") != (self.zones == "aware"))
        # --- one row per lead, as small as it can be: the first time at each stage, the
        # valid rows there, all its rows, each group value and whether it varies
        # (_per_lead: an aggregate of one column each, what every engine's group-by
        # takes, Dask's too; _per_lead_duckdb: fewer, packed)
        marked = rows.with_columns(__s=nw.when(valid).then(s))
        duck = self.table.backend == "duckdb"
        arrive = {}
        for k in range(S - 1, -1, -1):
            later = [nw.col(f"m{j}") for j in range(k, S)]
            arrive[f"a{k}"] = nw.min_horizontal(*later) if len(later) > 1 else later[0]
        # irregular: back down the funnel (a stage's latest row after a later stage's
        # first), or two group values. The latest row is kept for the first stage only,
        # the one logs repeat (dial attempts): at a later stage the first row is compared
        # here, and where a lead has several rows there, the pass over those leads' rows
        # below compares the latest (an aggregate fewer per later stage, 0.35 s each at
        # 10 M rows)
        late = [nw.col("x0" if k == 0 else f"m{k}") > nw.col(f"a{k + 1}") for k in range(S - 1)]
        varies = [nw.col(f"{v}__lo") != nw.col(f"{v}__hi") for v in self.values]
        odd = [e.fill_null(False) for e in (*late, *varies)]
        again = [nw.col(f"c{k}") > 1 for k in range(S)]
        counted = nw.sum_horizontal(*[nw.col(f"c{k}") for k in range(S)])
        # the least value kept (for text in DuckDB its key: the questions group by it
        # and give the value back from the dictionary, on their answers' rows only)
        kept = [nw.col(f"{v}__lo").alias(f"{v}__min") for v in self.values]

        spaced = self.text_lead and not self.trimmed  # ids the pandas reader would strip
        told = nw.col("__spaced") if duck else lead.str.contains(SPACED)  # (DuckDB's: below)

        def leads_of(marked: Any, kept=kept, odd=odd, again=again, counted=counted) -> Any:
            """One row per lead of ``marked``'s rows: what later questions read, no more
            (its expressions bound here: the names are used again below)."""
            per = self._per_lead_duckdb(marked, spaced) if duck else self._per_lead(marked)
            return per.with_columns(**arrive).select(
                "lead",
                *[f"a{k}" for k in range(S)],
                *[f"c{k}" for k in range(S)],
                *kept,
                "__n",
                __bad=nw.col("__n") - counted,
                __odd=nw.any_horizontal(*odd, ignore_nulls=False) if odd else nw.lit(False),
                __again=nw.any_horizontal(*again, ignore_nulls=False),
                # the rows without a lead (no id, or an empty text: one group of the
                # table), and an id the pandas reader would strip (" L1" is "L1"), told
                # here, where the ids pass by anyway, not by reading them again
                __nolead=self._nolead(lead),
                **({"__spaced": told} if spaced else {}),
            )

        per = leads_of(marked)

        # the lead table is kept (written) now, or, for Parquet files the kit reads,
        # on the first question that needs it: the figures below are then an aggregate
        # over the rows, the table of a row per lead never written when the questions
        # asked are answered by what the read keeps (the stage tables per group, the
        # young-lead summary)
        deferred = duck and bool(self.table.files)
        if not deferred:
            per = persist(per, self.table, "leads")

        def some_leads(ids: Any) -> Any:
            """The rows of ``per`` of the leads in ``ids`` (a few): from their own rows
            where the lead table is not written yet, else from it."""
            if deferred:
                return leads_of(marked.join(ids, on="lead", how="semi"))
            return per.join(ids, on="lead", how="semi")

        nolead = nw.col("__nolead")
        # --- the log's figures in one aggregate: rows, leads, the clean ones (no
        # invalid row, not irregular: regular unless a row-by-row check below flags
        # them), the clean ones with a stage of several rows (candidates), the stages
        # skipped, counted from a code of flags per lead (_figures.LeadFigures)...
        # with the regular leads' stage table per group of every group column, where
        # DuckDB knows their values (a few): any stage table by them is then its sum
        by = self._cube_keys()
        coder = LeadFigures(S, spaced, steps=bool(by))
        steps = [n for n in coder.names if n.startswith(("passed", "attempts"))]
        # ... per group of ``by`` and, on a row each, per lead that is not clean or has
        # a repeated middle stage (a few, in a typical log): their figures are theirs
        # alone, which the steps below read (which leads)
        keyed = coder.keyed(per).select(
            *by, "__lead", *coder.words, *coder.sums,
            **({f"__a{k}": nw.col(f"a{k}") for k in range(S)} if deferred else {}),
        )  # fmt: skip
        young_at = None  # the time the young-lead summary's ages are counted to
        known_end = as_of is not None or not pd.isna(stats["last"])
        # (with a cube of few groups: the young-lead codes multiply its rows)
        groups = self._combinations([b.removesuffix("__min") for b in by])
        if deferred and known_end and groups <= 1000 and 1 < S <= YOUNG_STAGES:
            young_at = limit if as_of is not None else int(stats["last"])
            coded = self._kept_young(keyed, [*by, "__lead", *coder.words], coder.sums, young_at)
        else:
            coded = coder.grouped(keyed, by)
        # the figures kept (a few rows: DuckDB's later questions read them as they are;
        # elsewhere the groups, the figures read from them: Dask's planner takes
        # minutes over a kept frame of the figures themselves)
        keep = ("__y",) if young_at is not None else ()
        if duck:
            kept_sums = persist(coder.decoded(coded, by, keep=keep), self.table, "sums")
        else:
            kept_sums = coder.decoded(persist(coded, self.table, "sums"), by, keep=keep)
        young = None
        if young_at is not None:
            young = collect(kept_sums.group_by("__y").agg(nw.col("clean").sum()))
        grouped = self._sums(kept_sums, by, **{k: nw.col(k) for k in coder.names})
        figures = {
            k: int(np.nan_to_num(grouped[k].sum()))
            for k in grouped.columns
            if k not in steps and k not in by
        }
        n_all, no_lead = figures["n"], figures["no_lead"]
        if n_all == 0:  # no row with a cell in it: as the pandas reader says
            raise LogError("log.error.empty", name=self.table.name)
        if figures.get("spaced"):  # " L1" is "L1": every lead id read that way
            raise _TrimLeads
        ones = kept_sums.filter(~nw.col("__lead").is_null()).rename({"__lead": "lead"})
        invalid = ones.filter(nw.col("clean") == 0).select("lead")  # or irregular
        self.progress.step()  # one row per lead
        # --- leads with a stage of several rows, row by row, at the stages some lead
        # repeats: copied rows (the same lead, stage and time twice) and moves back (a
        # stage's latest row after a later stage's first)
        candidates = ones.filter(nw.col("candidates") > 0)
        flagged = None
        if figures["candidates"]:
            repeated = [k for k in range(S) if figures[f"r{k}"]]
            picked = rows.filter(~lead.is_null() & s.is_in(repeated))
            few = 2 * figures["candidates"] < figures["leads"]
            if few and figures["listed"] == figures["candidates"]:  # their rows only
                picked = picked.join(candidates.select("lead"), on="lead", how="semi")
            flawed = [self._copied(picked)]
            before = [k for k in repeated if 0 < k < S - 1]  # the latest row yet to compare
            if before:  # each lead's latest row at those stages, and its arrival after
                mine = some_leads(candidates.select("lead"))  # their arrivals
                latest = (
                    picked.filter(s.is_in(before)).group_by("lead")
                    .agg(*[nw.when(s == k).then(when).max().alias(f"x{k}") for k in before])
                    .join(mine.select("lead", *[f"a{k + 1}" for k in before]), on="lead")
                )  # fmt: skip
                late = [(nw.col(f"x{k}") > nw.col(f"a{k + 1}")).fill_null(False) for k in before]
                flawed.append(
                    latest.filter(nw.any_horizontal(*late, ignore_nulls=False)).select("lead")
                )
            found = [f for f in flawed if f is not None]
            if found:
                leads = nw.concat(found, how="vertical").unique() if len(found) > 1 else found[0]
                flagged = persist(leads, self.table, "flagged")
                if not int(collect(flagged.select(n=nw.len()))["n"].iloc[0]):
                    flagged = None
        self.progress.step()  # copied rows and moves back found
        # the leads the pandas reader reads: invalid, irregular, flagged (a lead may be
        # listed twice: every use is a semi- or anti-join)
        special = invalid if flagged is None else nw.concat([invalid, flagged], how="vertical")
        self.progress.step()  # leads sorted: regular, irregular, invalid
        n_flagged = 0
        if flagged is not None:  # the clean leads flagged: no longer regular
            flags = coder.keyed(some_leads(flagged)).with_columns(__k=nw.lit(1, nw.Int64))
            asked = ["clean", *[f"skip{k}" for k in range(S - 1)], *steps]  # their figures
            flags = self._sums(coder.decoded(flags, by), by, **{k: nw.col(k) for k in asked})
            flags = flags.rename(columns={"clean": "n"})
            young = None  # the summary counted them: the young-lead check asks the table
            n_flagged = int(flags["n"].sum())
            for k in range(S - 1):
                figures[f"skip{k}"] -= int(flags[f"skip{k}"].sum())
            if by:  # taken off the groups' stage tables
                taken = flags[by].assign(clean=-flags["n"], **{c: -flags[c] for c in steps})
                grouped = pd.concat([grouped, taken], ignore_index=True)
        cube = None
        if by:
            sums = grouped.groupby(by, dropna=False)[["clean", *steps]].sum().reset_index()
            sums = sums[sums["clean"] > 0].reset_index(drop=True)  # groups of regular leads
            cube = sums[by].rename(columns=lambda c: c.removesuffix("__min"))  # as in the table
            for k in range(1, S):
                cube[f"entered{k}"] = sums["clean" if k == 1 else f"passed{k - 1}"]
                cube[f"passed{k}"] = sums[f"passed{k}"]
                cube[f"attempts{k}"] = sums[f"attempts{k}"]
            cube = cube.astype({c: np.int64 for c in cube.columns[len(by) :]})
        n_special = figures["leads"] - figures["clean"] + n_flagged
        special_rows = no_lead
        if n_special:  # their rows, read by pandas: how many
            inside = rows.join(special, on="lead", how="semi")
            special_rows += int(collect(inside.select(n=nw.len()))["n"].iloc[0])
        if special_rows > MAX_IRREGULAR_ROWS:
            raise FunnelsimValueError(
                "engine.error.irregular", name=self.table.name, rows=special_rows,
                limit=MAX_IRREGULAR_ROWS,
            )  # fmt: skip
        whole = figures["leads"] == n_special  # no regular lead: all are here
        patch = self._patch(special, n_special, no_lead, as_of, mode, far_end, whole)
        self.progress.step()  # irregular and invalid leads read by pandas
        regular = per.filter(~nolead)
        if n_special:
            regular = regular.join(special, on="lead", how="anti")
        lead_table = regular.select(
            "lead",
            *[nw.col(f"{v}__min").alias(v) for v in self.values],
            *[nw.col(f"a{k}") for k in range(S)],
            *[nw.col(f"c{k}").alias(f"n{k}") for k in range(S)],
            closed=nw.col(f"a{S - 1}"),
        )
        if deferred:  # written on the first question that reads it
            lead_table = Deferred(
                lead_table,
                lambda q: persist(q, self.table, "leads"),
                self.table.files,
                self.table.name,
            )
        latest = stats["last"]
        if special_rows:  # the latest time of the regular leads' rows (the rest: pandas)
            theirs = rows.filter(~self._nolead(lead)).join(special, on="lead", how="anti")
            latest = collect(theirs.select(last=when.max()))["last"].iloc[0]
        self.progress.step()  # the log's figures
        n_regular = figures["leads"] - n_special
        n_patch = 0 if patch is None else len(patch["reached"])
        if n_regular + n_patch == 0 and patch is None:
            raise FunnelsimValueError("engine.error.no_leads", name=self.table.name)
        skipped = np.array([figures[f"skip{k}"] for k in range(S - 1)] + [0], dtype=np.int64)
        n_rows = n_all - special_rows  # the regular leads' rows
        patch_frame = None
        demotions = pd.DataFrame(  # none: the columns the pandas reader gives, typed alike
            {
                "lead": pd.Series([], dtype=object),
                "from": pd.Series([], dtype=object),
                "to": pd.Series([], dtype=object),
                "time": pd.Series([], dtype="datetime64[ns]"),
                "spent_days": pd.Series([], dtype=float),
                "row": pd.Series([], dtype=np.int64),
            }
        )
        dropped = None
        if patch is not None:
            skipped = skipped + patch["skipped"]["leads"].to_numpy(np.int64)
            n_rows += patch["n_rows"]
            demotions = patch["demotions"]
            dropped = patch["dropped"]
            patch_frame = self._patch_frame(patch)
            if patch["as_of"] is not None and n_patch:
                top = pd.Timestamp(patch["as_of"]).value
                latest = top if pd.isna(latest) else max(int(latest), top)
        if as_of is None and not pd.isna(latest):
            as_of = pd.Timestamp(int(latest), unit="ns")
        engine = LeadTable(
            frame=lead_table,
            stages=self.stages,
            groups=self.groups,
            column_of=dict(self.internal),
            cube=cube,
            young=None if young is None else young_counts(young, S),
            young_at=young_at,
            decode=dict(self.dictionary),
            extras=self.extras,
            n_leads=n_regular + n_patch,
            backend=self.table.backend,
            patch=patch_frame,
            keep=[self.table],
        )
        parts = dict(
            format="events",
            stages=self.stages,
            as_of=as_of,
            name=self.table.name,
            demotions=demotions,
            skipped=pd.DataFrame({"stage": list(self.stages), "leads": skipped}),
            n_rows=n_rows,
            engine=engine,
        )
        if dropped is None:  # no lead read by pandas: none dropped
            dropped = with_parts(empty_dropped(), self.table.parts)
        parts["dropped"] = dropped
        return parts

    def _nolead(self, lead: Any) -> Any:
        """Whether a row or lead has no lead (no id, or an empty text: the rows without a
        lead, one group of the table), from its id ``lead``."""
        return lead.is_null() | (lead == "") if self.text_lead else lead.is_null()

    def _cube_keys(self) -> list[str]:
        """The lead table's group columns when DuckDB keeps each as a key whose values it
        knows (``self.dictionary``) and they make at most :data:`CUBE_GROUPS` groups
        together; else none (no stage table kept per group)."""
        columns = list(self.internal.values())
        if not columns or any(v not in self.dictionary for v in columns):
            return []
        return [f"{v}__min" for v in columns] if self._combinations(columns) <= CUBE_GROUPS else []

    def _combinations(self, columns: list[str]) -> float:
        """How many groups ``columns`` (DuckDB keys whose values it knows) make together
        at most: the product of their numbers of values (1 for none)."""
        return float(np.prod([float(self.sizes[v]) for v in columns]))

    def _kept_young(self, keyed: Any, keys: list[str], sums: list[str], at: int) -> Any:
        """The read's aggregate (:meth:`LeadFigures.grouped`: the leads counted, ``sums``
        summed) in DuckDB per group of ``keys`` and ``__y``, a code per lead for the
        young-lead summary, its waiting leads' times counted to ``at``
        (:func:`funnelsim._lead_table.young_code`). A group key more: 0.2 to 0.35 s at
        10 M rows, against the lead table that the young-lead check would otherwise write
        (2 to 3 s; a grouping set of its own computes every sum twice: 1.6 s)."""
        names = ", ".join(sql_name(c) for c in keys)
        aggs = ['count(*) AS "__k"', *[f"sum({sql_name(c)}) AS {sql_name(c)}" for c in sums]]
        coded = f"SELECT *, {young_code(len(self.stages), at)} AS __y FROM {SELF}"
        sql = f"SELECT {names}, __y, {', '.join(aggs)} FROM ({coded}) GROUP BY {names}, __y"
        return nw.from_native(nw.to_native(keyed).query(SELF, sql))

    def _sums(self, frame: Any, by: list[str], **columns: Any) -> pd.DataFrame:
        """Sums of ``columns`` (expressions per lead) over ``frame``, per group of ``by``
        (key columns, their values given back from the dictionaries) or in all, as
        pandas."""
        frame = frame.select(*by, **{k: e.cast(nw.Int64) for k, e in columns.items()})
        if not by:
            return collect(frame.select(nw.col(*columns).sum()))
        out = frame.group_by(*by, drop_null_keys=False).agg(nw.col(*columns).sum())
        for key in by:  # the value back from its key, on the groups' rows only
            out = with_values(out, key, self.dictionary[key.removesuffix("__min")])
        return collect(out)

    def _copied(self, picked: Any) -> Any:
        """The leads with a copied row (the same stage and time twice) among ``picked``,
        or None where DuckDB finds none. DuckDB groups the rows by one hash of lead,
        stage and time (a number: three times as fast as grouping by the three at 100 M
        rows), then finds the leads of a hash met twice, if any; rows that share a
        hash without being copies send their leads to the pandas reader, which reads
        them as they are."""
        if self.table.backend != "duckdb":
            rows_at = picked.group_by("lead", "s", "t").agg(nw.len().alias("n"))
            return rows_at.filter(nw.col("n") > 1).select("lead").unique()
        keyed = nw.from_native(
            nw.to_native(picked).query(
                SELF, f'SELECT "lead", {_key_hash(("lead", "s", "t"))} AS "__h" FROM {SELF}'
            )
        )
        twice = keyed.group_by("__h").agg(nw.len().alias("n")).filter(nw.col("n") > 1)
        twice = persist(twice.select("__h"), self.table, "twice")
        if not int(collect(twice.select(n=nw.len()))["n"].iloc[0]):
            return None
        return keyed.join(twice, on="__h", how="semi").select("lead").unique()

    def _dictionaries(self, stats: Any) -> None:
        """For each text group column in DuckDB (``self.hashed``), its values and their
        keys, a table (``self.dictionary``) that gives a value back from its key (the
        lead table keeps the key: :attr:`LeadTable.decode`). The key is the upper half
        of the value's hash where no two values share it, else the whole hash
        (``self.key_bits``); a column two of whose values share a hash is left out of
        ``self.hashed`` (compared as text). ``stats``: the as-of pass with each
        column's values listed in ``__d{i}``, or None (the values grouped from the rows)."""
        self.dictionary = {}
        for i, v in enumerate(self.hashed):
            if stats is not None:
                listed = stats.query(SELF, f'SELECT unnest("__d{i}") AS "{v}__min" FROM {SELF}')
            else:
                listed = nw.to_native(self.times).query(
                    SELF, f'SELECT "{v}" AS "{v}__min" FROM {SELF} GROUP BY 1'
                )
            values = listed.query(
                SELF,
                f'SELECT "{v}__min", {_hash_of(f"{v}__min")} AS "__h" FROM {SELF}'
                f' WHERE "{v}__min" IS NOT NULL',
            )
            values = nw.to_native(persist(nw.from_native(values), self.table, "values"))
            distinct = 'count(DISTINCT "__h"), count(DISTINCT "__h" >> 32)'
            n, n64, n32 = values.query(
                SELF, f"SELECT count(*), {distinct} FROM {SELF}"
            ).fetchall()[0]
            if n in (n32, n64):  # no two values share a key
                bits = 32 if n == n32 else 64
                key = _key_of(f"{v}__min", bits)
                self.dictionary[v] = nw.from_native(  # as LeadTable.decode holds it
                    values.query(SELF, f'SELECT {key} AS hash, "{v}__min" AS value FROM {SELF}')
                )
                self.key_bits[v], self.sizes[v] = bits, n
        self.hashed = list(self.dictionary)

    def _per_lead(self, marked: Any) -> Any:
        """One row per lead, in any engine: its first time at each stage (``m0``...),
        its valid rows there (``c0``...), its latest first-stage time (``x0``), all its
        rows (``__n``), and the least and greatest value of each group column and
        amount (``{v}__lo``, ``{v}__hi``: the least is the value kept). Each aggregate
        reads one column: what every engine's group-by takes, Dask's too."""
        S, at, when = len(self.stages), nw.col("__s"), nw.col("t")
        marked = marked.with_columns(
            **{f"m{k}": nw.when(at == k).then(when) for k in range(S)},
            **{f"c{k}": nw.when(at == k).then(nw.lit(1, nw.Int64)) for k in range(S)},
            x0=nw.when(at == 0).then(when),
        )
        return marked.group_by("lead").agg(
            *[nw.col(f"m{k}").min() for k in range(S)],
            *[nw.col(f"c{k}").count() for k in range(S)],
            nw.col("x0").max(),
            nw.len().alias("__n"),
            *[nw.col(v).min().alias(f"{v}__lo") for v in self.values],
            *[nw.col(v).max().alias(f"{v}__hi") for v in self.values],
        )

    @functools.cached_property
    def _wrapping(self) -> bool:
        """Whether the packed counts are summed by ``sum_no_overflow``: on the kit's own
        connection, where it has it (:func:`wrapping_sum`, asked once a read)."""
        return self.table.own and wrapping_sum(self.table.keep[0])

    def _per_lead_duckdb(self, marked: Any, spaced: bool) -> Any:
        """:meth:`_per_lead` in DuckDB, its aggregates packed: DuckDB's group-by by a
        lead keeps one state per aggregate and lead, and at 10 M rows more state than
        its memory limit allows makes it write to disk (a second per 300 MB), so
        fewer, smaller states are faster. The counts at the stages are one sum of
        ``2**(bits * stage)``, a field of ``63 // stages`` bits per stage (for up to
        :data:`PACKED_STAGES` stages: 1,023 rows or more a field); a field that
        overflows carries into the next, so the counts then add up to fewer than the
        lead's rows and the lead is read by the pandas reader, as one with an invalid
        row is. A text group column (``self.hashed``) is one ``bit_or`` of its key and
        the key's complement side by side: the key where every row agrees,
        ``{v}__lo != {v}__hi`` where two differ. With ``spaced``, ``__spaced``: whether
        the id has spaces around it (:data:`SPACED`), the pattern tried only on ids whose
        first or last character sorts before ``"!"`` or from U+0085 on, as every space
        does (text compared byte by byte, on the kit's own connection: 0.1 s less than
        the pattern on every id at 10 M rows)."""
        S = len(self.stages)
        aggs = [f'min(CASE WHEN "__s" = {k} THEN "t" END) AS "m{k}"' for k in range(S)]
        aggs += ['max(CASE WHEN "__s" = 0 THEN "t" END) AS "x0"', 'count(*) AS "__n"']
        out = [f'"m{k}"' for k in range(S)]
        if S <= PACKED_STAGES:
            bits = 63 // S
            add = "sum_no_overflow" if self._wrapping else "sum"
            aggs.append(f'{add}(CAST(1 AS BIGINT) << ({bits} * "__s")) AS "__cp"')
            out += [
                f'CAST((coalesce("__cp", 0) >> {bits * k}) & {2**bits - 1} AS BIGINT) AS "c{k}"'
                for k in range(S)
            ]
        else:  # a long funnel: a count each
            aggs += [f'count(CASE WHEN "__s" = {k} THEN 1 END) AS "c{k}"' for k in range(S)]
            out += [f'"c{k}"' for k in range(S)]
        out += ['"x0"', '"__n"']
        for v in self.values:
            if v not in self.hashed:
                aggs += [f'min({sql_name(v)}) AS "{v}__lo"', f'max({sql_name(v)}) AS "{v}__hi"']
                out += [f'"{v}__lo"', f'"{v}__hi"']
                continue
            size = self.key_bits[v]
            key = _key_of(v, size)
            wide = "UBIGINT" if size == 32 else "UHUGEINT"
            word = f"(CAST({key} AS {wide}) << {size}) | (CAST(~{key} AS {wide}) & {2**size - 1})"
            aggs.append(f'bit_or(CASE WHEN {sql_name(v)} IS NOT NULL THEN {word} END) AS "{v}__w"')
            out += [
                f'CAST("{v}__w" >> {size} AS UBIGINT) AS "{v}__lo"',
                f'CAST(~"{v}__w" & {2**size - 1} AS UBIGINT) AS "{v}__hi"',
            ]
        if spaced:  # (on a user's connection, which may compare text by a collation, all)
            pattern = SPACED.replace("'", "''")
            ends = ('"lead"', '"lead"[-1]')
            maybe = " OR ".join(f"{e} < '!' OR {e} >= chr(133)" for e in ends)
            maybe = maybe if self.table.own else "true"
            out.append(f"""CASE WHEN {maybe} THEN regexp_matches("lead", '{pattern}')"""
                       ' ELSE false END AS "__spaced"')  # fmt: skip
        columns = ", ".join(['"lead"', *out])
        inner = f'SELECT "lead", {", ".join(aggs)} FROM {SELF} GROUP BY "lead"'
        sql = f"SELECT {columns} FROM ({inner})"

        return nw.from_native(nw.to_native(marked).query(SELF, sql))

    def _patch(self, special, n_special, no_lead, as_of, mode, far_end, whole) -> dict | None:
        """The rows of the special leads (invalid or irregular: ``special``, a frame of
        their ids) and of rows without a lead, read by the pandas reader: their Log parts
        (None when there are none)."""
        if n_special == 0 and no_lead == 0:
            return None
        numbered = self.table.numbered()
        keyed = numbered.with_columns(__lead=self.lead)
        special = special.select(nw.col("lead").alias("__lead"))
        picked = nw.concat(
            [
                keyed.join(special, on="__lead", how="semi"),
                keyed.filter(nw.col("__lead").is_null() & ~self.blank),
            ],
            how="vertical",
        )
        con = self.table.keep[0] if self.table.own else None
        if con is not None:  # rows numbered in the file's order (a CSV's are counted)
            con.execute("SET preserve_insertion_order=true")
        try:
            frame = collect(picked.drop("__lead").sort("__row"))
        finally:
            if con is not None:
                con.execute("SET preserve_insertion_order=false")
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("__ns_")])
        rownum = frame.pop("__row").to_numpy(np.int64)
        src = Source(frame.reset_index(drop=True), rownum, self.table.name, parts=self.table.parts)
        return read_events(
            src,
            self.stage_map,
            dict(self.cols),
            as_of,
            mode,
            far_end=far_end,
            whole=whole,
            zones=self.zones,
        )

    def _patch_frame(self, patch: dict) -> pd.DataFrame:
        """The pandas reader's leads as rows of the lead table."""
        S = len(self.stages)
        leads = patch["leads"]
        out = pd.DataFrame({"lead": leads.index.to_numpy(dtype=object)})
        named = {**{col: g for g, col in self.internal.items()}, "__amount": "amount"}
        for v in self.values:
            name = named[v]
            column = leads[name] if name in leads else pd.Series(np.nan, index=leads.index)
            out[v] = column.to_numpy(dtype=float if v == "__amount" else object)
        times = patch["times"]
        for k, stage in enumerate(self.stages):
            ns = times[stage].to_numpy("datetime64[ns]").view(np.int64)
            out[f"a{k}"] = pd.array(np.where(patch["reached"][stage], ns, 0), dtype="Int64")
            out.loc[~patch["reached"][stage].to_numpy(), f"a{k}"] = pd.NA
            out[f"n{k}"] = patch["attempts"][stage].to_numpy(np.int64)
        closed = patch["closed"].to_numpy("datetime64[ns]")
        out["closed"] = pd.array(np.where(np.isnat(closed), 0, closed.view(np.int64)), "Int64")
        out.loc[np.isnat(closed), "closed"] = pd.NA
        assert S == len(self.stages)
        return out
