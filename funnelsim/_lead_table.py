"""The lead table an engine keeps for a log, and the questions the kit asks of it.

:func:`funnelsim.engine.read_engine_log` builds it (one row per lead, in the engine
that read the log); :class:`~funnelsim.Log` holds it in ``Log.engine`` and each
analysis asks it for its counts, grouped, as pandas (see :mod:`funnelsim.engine`).
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ._formats import attribute
from ._reader import LogError
from ._sources import Table, file_stamp, label_values

__all__ = [
    "BUCKETS",
    "DAY_NS",
    "NAMES",
    "SELF",
    "Deferred",
    "LeadTable",
    "calendar_labels",
    "collect",
    "one",
    "time_buckets",
    "with_values",
    "young_code",
    "young_counts",
]

#: Nanoseconds in a day.
DAY_NS = 86_400 * 10**9
#: Numbers of the tables the engine writes (unique within the process).
NAMES = itertools.count()
#: Buckets of time of the young-lead summary (:func:`time_buckets`: 0, then a quarter of
#: a doubling of nanoseconds each, up to 2**64).
BUCKETS = 257
#: The name a DuckDB relation has inside the kit's SQL on it (no user's table has it).
SELF = "__funnelsim_relation"


def collect(frame: Any) -> pd.DataFrame:
    """A (small) query's answer as pandas."""
    with dask_quiet():
        return frame.collect().to_pandas()


@contextlib.contextmanager
def dask_quiet() -> Iterator[None]:
    """Pandas' FutureWarning on downcasting in ``where`` left out while an engine
    computes: Dask's ``where`` on pandas raises it for the stage codes' ``when``/``then``
    (an Int16 code where the others are still missing), and the user can do nothing
    about it (the codes are read the same either way)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Downcasting behavior", FutureWarning)
        yield


def one(condition: Any) -> Any:
    """1 where ``condition`` holds, else 0 (a database may not cast a boolean to int64)."""
    return nw.when(condition).then(nw.lit(1, nw.Int64)).otherwise(nw.lit(0, nw.Int64))


def with_values(frame: Any, key: str, values: Any) -> Any:
    """``frame`` with its column ``key`` (a text column's key, as DuckDB keeps it) given
    back as the value: ``values`` is the column's table of ``hash`` and ``value``.
    Joined to an answer's rows (a row per group), never to the leads."""
    values = values.select(nw.col("hash").alias(key), nw.col("value").alias("__value"))
    out = frame.join(values, on=key, how="left").drop(key)
    return out.rename({"__value": key})


def persist(frame: Any, table: Table, name: str) -> Any:
    """``frame`` computed once and kept where its engine keeps tables: a table in the
    log's own DuckDB database (a temporary one on a user's connection, never a table of
    theirs; a large log's lead table a Parquet file in its folder), a Polars frame in
    memory, a Dask frame persisted, a Spark or Ibis frame cached; later queries read it
    instead of the source."""
    native = nw.to_native(frame)
    backend = table.backend
    if backend == "duckdb" and table.folder and name == "leads":  # a large log's: Parquet
        path = Path(table.folder) / f"funnelsim_{name}_{next(NAMES)}.parquet"
        native.query(SELF, f"COPY (SELECT * FROM {SELF}) TO '{path}' (FORMAT parquet)")
        return nw.from_native(table.keep[0].read_parquet(str(path)))
    if backend == "duckdb":
        unique = f"funnelsim_{name}_{next(NAMES)}"
        kind = "TABLE" if table.own else "TEMP TABLE"
        where = f'{table.store}"{unique}"' if table.own else f'"{unique}"'
        native.query(SELF, f"CREATE {kind} {where} AS SELECT * FROM {SELF}")
        # read back on the kit's connection (a query on ``native`` binds its whole plan
        # again: 0.05 s a read at 10 M rows), on a user's through ``native``
        back = f"SELECT * FROM {where}"
        own = table.keep[0].sql(back) if table.own else native.query(SELF, back)
        return nw.from_native(own)
    if backend == "polars":
        return nw.from_native(native.collect().lazy())
    if backend == "dask":
        with dask_quiet():
            kept = native.persist()
            # on a cluster persist returns at once: its work is waited for here, where
            # the warning is left out (for workers in this process)
            distributed = sys.modules.get("distributed")
            if distributed is not None:
                with contextlib.suppress(ValueError):  # (no client: computed already)
                    distributed.default_client()
                    distributed.wait(kept)
            return nw.from_native(kept)
    if backend in ("pyspark", "pyspark_connect"):
        return nw.from_native(native.cache())
    # a database (Ibis): nothing written, not even a temporary table (a read-only
    # replica allows none); it computes the lead table again for each question
    return frame


@dataclass(eq=False)
class Deferred:
    """A lead table not written yet: ``query`` (a narwhals LazyFrame on the log's files)
    written by ``write`` on the first question that reads it (:meth:`LeadTable.table`).
    A read whose first question is answered by what it kept (a stage table or fit by
    its group columns) never writes it: the read then costs one aggregate over the
    rows, not that and a table of a row per lead (0.9 s at 10 M rows).

    ``files``: the files read, each with its stamp when read
    (:func:`~funnelsim._sources.file_stamp`); one changed since is an error (the
    questions would no longer answer for the log read).

    >>> import narwhals as nw, pandas as pd
    >>> later = Deferred(nw.from_native(pd.DataFrame({"a": [1]})), lambda q: q, (), "x")
    >>> later.get().to_native()
       a
    0  1
    """

    query: Any
    write: Callable[[Any], Any]
    files: tuple[tuple[str, tuple[int, int, bytes]], ...]
    name: str

    def get(self) -> Any:
        """The table written (the files checked first)."""
        for path, stamp in self.files:
            try:
                now = file_stamp(path)
            except OSError:  # removed (or moved away)
                raise LogError("engine.error.removed", name=self.name, file=path) from None
            if now != stamp:
                raise LogError("engine.error.changed", name=self.name, file=path)
        return self.write(self.query)


def time_buckets(ns: np.ndarray) -> np.ndarray:
    """The bucket of each time (int64 ns) as the engine's young-lead summary counts it:
    0 for 0 or less, else ``1 + floor(4 * log2(ns))`` (a quarter of a doubling each, as
    DuckDB computes it, on the double): :data:`BUCKETS` in all.

    >>> time_buckets(np.array([-5, 0, 1, 2, 3, 4, 2**40]))
    array([  0,   0,   1,   5,   7,   9, 161])
    """
    ns = np.asarray(ns, dtype=np.int64)
    out = np.zeros(ns.shape, dtype=np.int64)
    pos = ns > 0
    out[pos] = 1 + np.floor(4 * np.log2(ns[pos].astype(np.float64))).astype(np.int64)
    return out


def young_code(stages: int, at: int) -> str:
    """DuckDB's expression of a lead's code in the young-lead summary, from its arrivals
    ``__a0``, ``__a1``...: its digit ``k - 1`` in base ``2 * BUCKETS + 1`` tells the
    lead's step ``k``: 0 (not entered), ``1 + b`` (passed, after a time in bucket ``b``)
    or ``1 + BUCKETS + b`` (waiting since a time in bucket ``b`` before ``at``, ns):
    :func:`time_buckets` as SQL. At most 6 steps fit in a BIGINT.

    A lead that passed step 1 after 4 ns (bucket 9: digit 10) and waits at step 2 since
    ``10**15 - 4`` ns (bucket 200: digit 458), counted by :func:`young_counts`:

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> sql = young_code(3, at=10**15)
    >>> con.execute(f"SELECT {sql} FROM (SELECT 0 AS __a0, 4 AS __a1, NULL AS __a2)").fetchone()
    (235880,)
    >>> young_counts(pd.DataFrame({"__y": [235880], "clean": [7]}), 3)[:, :, [9, 200]].tolist()
    [[[7, 0], [0, 0]], [[0, 0], [0, 7]]]
    """
    base, digits = 2 * BUCKETS + 1, []

    def bucket(d: str) -> str:
        return f"(CASE WHEN {d} <= 0 THEN 0 ELSE 1 + CAST(floor(4 * log2({d})) AS INTEGER) END)"

    for k in range(1, stages):
        this, prev = f'"__a{k}"', f'"__a{k - 1}"'
        digits.append(
            f"CAST(CASE WHEN {this} IS NOT NULL THEN 1 + {bucket(f'{this} - {prev}')}"
            f" WHEN {prev} IS NOT NULL THEN {1 + BUCKETS} + {bucket(f'{at} - {prev}')}"
            f" ELSE 0 END AS BIGINT) * {base ** (k - 1)}"
        )
    return " + ".join(digits)


def young_counts(young: pd.DataFrame, stages: int) -> np.ndarray:
    """The young-lead summary (``__y``, a :func:`young_code`, and ``clean``, its leads)
    as counts of leads, an array ``[step - 1, kind, bucket]``: kind 0 passed, 1 waiting
    (an example at :func:`young_code`)."""
    base = 2 * BUCKETS + 1
    out = np.zeros((stages - 1, 2, BUCKETS), dtype=np.int64)
    codes = young["__y"].to_numpy(np.int64)
    leads = young["clean"].fillna(0).to_numpy(np.int64)
    for k in range(stages - 1):
        digit = codes // base**k % base
        seen = digit > 0
        kind, b = (digit[seen] - 1) // BUCKETS, (digit[seen] - 1) % BUCKETS
        np.add.at(out[k], (kind, b), leads[seen])
    return out


def calendar_labels(day: pd.Series, unit: str) -> pd.Series:
    """The week (its Monday, ``"2025-03-03"``) or month (``"2025-03"``) of each date."""
    if unit == "week":
        start = day - pd.to_timedelta(day.dt.dayofweek, unit="D")
        return start.dt.strftime("%Y-%m-%d").where(day.notna(), np.nan)
    return day.dt.strftime("%Y-%m").where(day.notna(), np.nan)


@dataclass(eq=False)
class LeadTable:
    """One row per kept lead of an events log, held by an engine.

    Columns: the group columns (``rep``... then the file's other columns, as
    text; a text column of a DuckDB log as its hash, whose value ``decode`` gives
    back), ``amount`` when the log has one, ``a0``, ``a1``... (the lead's first
    time at each stage or a later one, int64 nanoseconds, null when not
    reached), ``n0``, ``n1``... (its attempts at each stage) and ``closed``
    (when it was decided, null while open).

    Built by :func:`funnelsim.read_log` (``engine=``); a :class:`~funnelsim.Log`
    holds it in ``Log.engine`` and asks it its tables. Leads the pandas reader
    read (irregular ones, see the module's notes) are in ``patch``, a pandas
    frame of the same columns, which every question adds in.

    Examples
    --------
    >>> import funnelsim as fs
    >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
    >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
    ...                   stages=stages, engine="duckdb")
    >>> log.engine.n_leads, log.engine.groups, log.leads is None
    (6000, ('rep', 'source'), True)
    """

    frame: Any  # narwhals LazyFrame, or a Deferred one (see table())
    stages: tuple[str, ...]
    groups: tuple[str, ...]  # group fields then the file's other columns
    extras: tuple[str, ...]  # which of them are the file's other columns
    n_leads: int
    backend: str
    patch: pd.DataFrame | None = None  # leads the pandas reader read (same columns)
    column_of: dict = field(default_factory=dict)  # a group's column in the table
    # a column kept as its hash (text in DuckDB): its values, a table of ``hash`` and
    # ``value``, joined to a question's answer (a row per group), never to the leads
    decode: dict = field(default_factory=dict)
    # the table's stage table (``entered1``, ``passed1``, ``attempts1``...) per group of
    # every group column (by their columns' names, values as stored), where the read
    # kept it: a stage table by any of them is its sum, no query
    cube: pd.DataFrame | None = None
    # the read's young-lead summary where it kept one (a deferred table's read): the
    # regular leads per step, passed or waiting, and bucket of time (see young_cleared),
    # the waiting leads' times counted to ``young_at`` (ns)
    young: np.ndarray | None = None
    young_at: int | None = None
    keep: list = field(default_factory=list, repr=False)
    _tables: dict = field(default_factory=dict, repr=False)  # stage tables asked before

    def parts(self) -> list[Any]:
        """The table's parts as narwhals LazyFrames: the engine's, then the patch.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> [part.implementation.name for part in log.engine.parts()]
        ['DUCKDB']
        """
        return [self.table(), *self._patched()]

    def _patched(self) -> list[Any]:
        """The patch as a narwhals LazyFrame, in a list (empty when there is none)."""
        if self.patch is not None and len(self.patch):
            return [nw.from_native(self.patch).lazy()]
        return []

    def table(self) -> Any:
        """The engine's table (a narwhals LazyFrame), written first where the read
        left it :class:`Deferred`.

        >>> import funnelsim as fs
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=["dial", "connect", "meeting", "proposal", "sale"],
        ...                   engine="duckdb")
        >>> log.engine.table().implementation.name
        'DUCKDB'
        """
        if isinstance(self.frame, Deferred):
            self.frame = self.frame.get()
        return self.frame

    def totals(
        self,
        keys: Sequence[str],
        columns: Mapping[str, Any],
        sources: Sequence[str] | None = None,
        engine: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Sums of ``columns`` (narwhals expressions of int counts per lead: 0/1 from
        :func:`_one`, or attempts) per group of
        ``keys`` (group columns, or ``"week"`` / ``"month"`` of each lead's first
        time), as pandas: one row per group, keys first, in the order pandas' group-by
        of the lead-level log gives. ``sources``: the group column each key reads (a
        field for the file's name of its column), by default the key itself.
        ``engine``: the engine's part already summed (keys, then ``columns``), not asked.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> import narwhals as nw
        >>> log.engine.totals(["rep"], {"won": one(~nw.col("a4").is_null())}).head(3)
              won
        rep
        Chen   17
        Li     17
        Liu    10
        """
        keys = list(keys)
        sources = list(keys if sources is None else sources)
        derived = [k for k, src in zip(keys, sources, strict=True) if src not in self.groups]
        named = {
            k: self.column_of.get(src, src)
            for k, src in zip(keys, sources, strict=True)
            if src in self.groups
        }
        by = [*named, *(["__day"] if derived else [])]
        values = {name: expr.cast(nw.Int64) for name, expr in columns.items()}
        pieces = [] if engine is None else [engine]
        parts = self.parts() if engine is None else [None, *self._patched()]
        for i, frame in enumerate(parts):
            if frame is None:  # the engine's part, summed already
                continue
            if derived:
                frame = frame.with_columns(__day=nw.col("a0") // DAY_NS)
            frame = frame.select(*[nw.col(src).alias(k) for k, src in named.items()],
                                 *(["__day"] if derived else []), **values)  # fmt: skip
            if by:
                out = frame.group_by(*by, drop_null_keys=False).agg(nw.col(*values).sum())
            else:
                out = frame.select(nw.col(*values).sum())
            hashed = [k for k, src in named.items() if src in self.decode] if i == 0 else []
            for k in hashed:  # the engine's part: the value back from each group's hash
                out = with_values(out, k, self.decode[named[k]])
            pieces.append(collect(out))
        # a part without rows left out (pandas would take its columns' types into
        # account in a future version, and warns)
        table = pd.concat([p for p in pieces if len(p)] or pieces[:1], ignore_index=True)
        for name in values:
            table[name] = table[name].fillna(0).astype(np.int64)
        if derived:
            day = pd.to_datetime(table.pop("__day").astype("float64") * DAY_NS)
            for key in derived:
                table[key] = calendar_labels(day, sources[keys.index(key)])
        if not keys:
            return table[list(values)].sum().to_frame().T
        for key, src in zip(keys, sources, strict=True):
            table[key] = self._key_column(src, table[key])
        return table.groupby(list(keys), observed=True, dropna=False)[list(values)].sum()

    def won_amounts(self) -> pd.Series:
        """The amounts of the leads that reached the last stage, where given.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> len(log.engine.won_amounts())
        80
        """
        if "__amount" not in self.table().collect_schema().names():
            return pd.Series(dtype=float, name="amount")
        last = f"a{len(self.stages) - 1}"
        pieces = [
            collect(part.filter(~nw.col(last).is_null() & ~nw.col("__amount").is_null())
                     .select("__amount"))["__amount"]
            for part in self.parts()
        ]  # fmt: skip
        return pd.concat(pieces, ignore_index=True).astype(float).rename("amount")

    def cycle_inputs(
        self, i: int, j: int, as_of: int, scale: float = DAY_NS
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What :func:`funnelsim.cycle_length` needs from stage ``i`` to stage ``j``: the
        leads at ``i`` grouped by their time to ``j`` (or to ``as_of``, censored) in
        nanoseconds (``ns``, ``observed``, ``leads``) and the closed leads' close times
        and cycles (``close``, ``ns``).

        One row per distinct time of a closed lead; the open (censored) leads of a
        DuckDB table grouped by the latest such time at or below theirs (``scale``: the
        unit the times are compared in, as ``ns / scale``), their longest one kept as
        it is. The Kaplan-Meier estimate reads only the leads at risk at each time a
        lead closed and the longest time, which this grouping keeps, so its memory
        follows the closed leads, not all leads.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> grouped, closed = log.engine.cycle_inputs(0, 4, log.as_of.value)
        >>> int(grouped["leads"].sum()), int(grouped.loc[grouped["observed"], "leads"].sum())
        (6000, 80)
        >>> len(closed), len(grouped) < 6000
        (80, True)
        """
        start, end = nw.col(f"a{i}"), nw.col(f"a{j}")
        moved = ~end.is_null()
        took = (end - start).cast(nw.Int64)
        waited = (nw.lit(as_of, nw.Int64) - start).cast(nw.Int64)
        closed, observed = [], []
        for part in self.parts():
            done = part.filter(~start.is_null() & moved)
            closed.append(collect(done.select(close=end.cast(nw.Int64), ns=took)))
            observed.append(collect(done.group_by(took.alias("ns")).agg(nw.len().alias("leads"))))
        events = pd.concat(observed, ignore_index=True)
        events = events.groupby("ns", as_index=False)["leads"].sum()
        events["observed"] = True
        pieces = [events]
        for k, part in enumerate(self.parts()):
            open_ = part.filter(~start.is_null() & ~moved).select(ns=waited)
            if k == 0 and self._own_duckdb():
                pieces.append(self._censored_by_events(open_, events["ns"], scale))
            else:
                pieces.append(collect(open_.group_by("ns").agg(nw.len().alias("leads"))))
            pieces[-1]["observed"] = False
        grouped = pd.concat(pieces, ignore_index=True)
        grouped = grouped.groupby(["ns", "observed"], as_index=False)["leads"].sum()
        grouped["observed"] = grouped["observed"].astype(bool)
        grouped["leads"] = grouped["leads"].astype(np.int64)
        return grouped[["ns", "observed", "leads"]], pd.concat(closed, ignore_index=True)

    def _own_duckdb(self) -> bool:
        """Whether the engine's table is in a DuckDB database of the kit's own."""
        return self.backend == "duckdb" and bool(self.keep) and bool(self.keep[0].own)

    def _censored_by_events(self, open_: Any, events: pd.Series, scale: float) -> pd.DataFrame:
        """Open leads' times (``ns``) counted per latest event time at or below theirs,
        compared as ``ns / scale`` (as :func:`funnelsim.cycle_length` divides them);
        those below every event time under their least time, the longest alone."""
        con = self.keep[0].keep[0]
        ns = np.sort(events.to_numpy(np.int64))
        name = f"funnelsim_events_{next(NAMES)}"
        con.register(name, pd.DataFrame({"e": ns.astype(np.float64) / scale, "ens": ns}))
        try:
            rel = nw.to_native(open_)
            d = f"CAST(ns AS DOUBLE) / CAST({float(scale)!r} AS DOUBLE)"
            # the longest time (as compared) and the least one, then the rest grouped
            top, least = rel.query(SELF, f"SELECT max({d}), min(ns) FROM {SELF}").fetchall()[0]
            if top is None:  # no open lead
                return pd.DataFrame({"ns": [], "leads": []}, dtype=np.int64)
            out = rel.query(
                SELF,
                f"SELECT CASE WHEN {d} = {float(top)!r} THEN {SELF}.ns"
                f" ELSE coalesce(ev.ens, {int(least)}) END AS ns, count(*) AS leads"
                f" FROM {SELF} ASOF LEFT JOIN {name} ev ON {d} >= ev.e GROUP BY ALL",
            ).df()
        finally:
            con.unregister(name)
        return out[["ns", "leads"]]

    def stage_table(self, keys: Sequence[str], sources: Sequence[str]) -> pd.DataFrame:
        """Like :meth:`funnelsim.Log.stage_table` (the engine's sums of ``reached`` and
        ``attempts``): columns ``entered{k}``, ``passed{k}``, ``attempts{k}`` for each step
        ``k`` (1, 2, ...), per group of ``keys``.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> log.engine.stage_table([], [])[["entered1", "passed1", "attempts1"]]
           entered1  passed1  attempts1
        0      6000     2831       6000
        """
        S = len(self.stages)
        asked = (tuple(keys), tuple(sources))
        if not keys and asked not in self._tables and self._tables:
            # the pooled table: the sum of a grouped one asked before (each lead is in
            # one group, those without a value in the group of none), no query
            grouped = next(iter(self._tables.values()))
            self._tables[asked] = grouped.sum().to_frame().T
        if asked not in self._tables:  # asked once (a fit asks the pooled table twice)
            columns = {}
            for k in range(1, S):
                columns[f"entered{k}"] = one(~nw.col(f"a{k - 1}").is_null())
                columns[f"passed{k}"] = one(~nw.col(f"a{k}").is_null())
                columns[f"attempts{k}"] = nw.col(f"n{k - 1}")
            engine = None
            if self.cube is not None and all(src in self.groups for src in sources):
                named = [self.column_of[src] for src in sources]
                if named:
                    engine = self.cube.groupby(named, dropna=False)[list(columns)].sum()
                    engine = engine.reset_index()
                else:
                    engine = self.cube[list(columns)].sum().to_frame().T
                engine.columns = [*keys, *columns]
            self._tables[asked] = self.totals(keys, columns, sources, engine=engine)
        return self._tables[asked].copy()

    def mature_table(
        self, keys: Sequence[str], sources: Sequence[str], window: float, as_of: int
    ) -> pd.DataFrame:
        """Like :func:`funnelsim.logs.mature_stage_table`: per step, leads at the previous
        stage at least ``window`` days before ``as_of`` (ns), those of them that passed,
        and the young ones.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> as_of = log.as_of.value
        >>> log.engine.mature_table([], [], 60.0, as_of)[["entered4", "passed4", "young4"]]
           entered4  passed4  young4
        0       176       50     101
        """
        columns = {}
        for k in range(1, len(self.stages)):
            at = nw.col(f"a{k - 1}")
            old = ~at.is_null() & ((nw.lit(as_of) - at) / DAY_NS >= window).fill_null(False)
            columns[f"entered{k}"] = one(old)
            columns[f"passed{k}"] = one(old & ~nw.col(f"a{k}").is_null())
            columns[f"young{k}"] = one(~at.is_null() & ~old)
        return self.totals(keys, columns, sources)

    def step_times(self, quantile: float, as_of: int) -> list[tuple[int, int, float, int]]:
        """For each step (into stage 1, 2, ...): leads entered, passed, the ``quantile``
        of the days passing took (linear, as :func:`numpy.quantile`; NaN when none
        passed) and the open leads waiting there for less than that (see
        :func:`funnelsim.young_leads`). Two sums and a query per step in all.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> n, passed, typical, young = log.engine.step_times(0.9, log.as_of.value)[-1]
        >>> n, passed, round(typical, 2), young
        (277, 80, 23.49, 32)
        """
        S = len(self.stages)
        counts = self.stage_table([], []).iloc[0]
        # numpy's linear quantile from the two order statistics around it: DuckDB picks
        # them by rank, other engines send the largest values only (the upper tail
        # above them), every step at once
        asks = {}
        for k in range(1, S):
            passed = int(counts[f"passed{k}"])
            if passed:
                h = (passed - 1) * quantile
                asks[k] = (h, int(np.floor(h)), passed - int(np.floor(h)))  # m from lo up
        pairs = self._ranked(asks) if self.backend == "duckdb" and asks else None
        tails: dict[int, list[np.ndarray]] = {k: [] for k in asks}
        for f in self.parts():
            if not asks or pairs is not None:
                break
            pieces = []
            for k, (_, _, m) in asks.items():
                prev, this = nw.col(f"a{k - 1}"), nw.col(f"a{k}")
                pieces.append(
                    f.filter(~this.is_null() & ~prev.is_null())
                    .select(step=nw.lit(k, nw.Int64), took=(this - prev).cast(nw.Int64))
                    .sort("took", descending=True)
                    .head(m)
                )
            got = collect(nw.concat(pieces, how="vertical"))
            for k in asks:
                tails[k].append(got.loc[got["step"] == k, "took"].to_numpy(np.int64))
        steps = []
        for k in range(1, S):
            n, passed = int(counts[f"entered{k}"]), int(counts[f"passed{k}"])
            if k not in asks:
                steps.append((n, passed, float("nan")))
                continue
            h, lo, m = asks[k]
            if pairs is not None:
                pair = pairs[k] / DAY_NS
            else:
                top = np.sort(np.concatenate(tails[k]))[-m:] / DAY_NS
                pair = top[:2] if m >= 2 else top[:1].repeat(2)
            steps.append((n, passed, float(np.quantile(pair, h - lo))))
        waits = {}
        for k, (_, _, typical) in enumerate(steps, start=1):
            if np.isnan(typical):
                continue
            prev, this = nw.col(f"a{k - 1}"), nw.col(f"a{k}")
            waits[f"young{k}"] = one(
                ~prev.is_null()
                & this.is_null()
                & nw.col("closed").is_null()
                & ((nw.lit(as_of) - prev) / DAY_NS < typical).fill_null(False)
            )
        young = self.totals([], waits).iloc[0] if waits else {}
        return [
            (n, passed, typical, int(young.get(f"young{k}", 0)))
            for k, (n, passed, typical) in enumerate(steps, start=1)
        ]

    def young_cleared(self, quantile: float, as_of: int, share: float) -> bool:
        """True where the read's young-lead summary shows, with no query, that no step
        of :meth:`step_times` has more than ``share`` of its entered leads young (open
        and younger than the step's typical time); False where it cannot tell
        (:meth:`young_bounds`), and :func:`funnelsim.young.young_leads` then asks.

        >>> import funnelsim as fs
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=["dial", "connect", "meeting", "proposal", "sale"],
        ...                   engine="duckdb")
        >>> log.engine.young_cleared(0.9, 0, 0.1)  # kept by a deferred read only
        False
        """
        bounds = self.young_bounds(quantile, as_of)
        return bounds is not None and all(young <= share * n for n, young, _ in bounds)

    def young_bounds(self, quantile: float, as_of: int) -> list[tuple[int, int, int]] | None:
        """Per step, from the read's young-lead summary (no query): its entered leads,
        at least as many as its young ones, and a time (ns) above its typical time
        (:meth:`step_times`; 0 where no lead passed). None where the read kept no
        summary (a lead table written by the read; a log with copied rows) or counted
        the waiting leads' times to another time than ``as_of``.

        The summary counts the regular leads per bucket of time (:func:`time_buckets`:
        bucket ``b`` > 0 from ``2**((b-1)/4)`` to ``2**(b/4)`` nanoseconds, 0 none);
        the patch's leads are added here. The typical time (the ``quantile`` of the
        passed leads' times, interpolated as NumPy does) is at most the passed time at
        rank ``ceil((N - 1) * quantile)``, below the upper edge ``2**(b/4)`` of its
        bucket ``b``, so the young are at most the waiting leads in buckets up to ``b``
        (counted up to ``b + 2``: a time's bucket, from a logarithm on the double, may
        be one off at an edge).

        Examples
        --------
        The sample log as a Parquet file: its 6,000 leads entered the first step, at
        most 147 of them young (82 are), its typical time below 4.6 days (3.9 days).

        >>> import pathlib, tempfile
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.parquet"
        >>> events = pd.read_csv(fs.datasets.path("sample_events.csv"), parse_dates=["time"])
        >>> events.to_parquet(path)
        >>> log = fs.read_log(path, format="events", engine="duckdb",
        ...                   stages=["dial", "connect", "meeting", "proposal", "sale"])
        >>> as_of = pd.Timestamp(log.as_of).as_unit("ns").value
        >>> entered, young, above = log.engine.young_bounds(0.9, as_of)[0]
        >>> entered, young, round(above / DAY_NS, 1)
        (6000, 147, 4.6)
        >>> exact = fs.young_leads(log).iloc[0]
        >>> int(exact["entered"]), int(exact["young"]), round(float(exact["typical_time"]), 1)
        (6000, 82, 3.9)
        """
        if self.young is None or self.young_at != as_of:
            return None
        counts = self.young.copy()
        entered = counts.sum(axis=(1, 2))
        patch = self.patch if self.patch is not None and len(self.patch) else None
        for k in range(1, len(self.stages)) if patch is not None else ():
            start, end = patch[f"a{k - 1}"], patch[f"a{k}"]
            entered[k - 1] += int(start.notna().sum())
            wait = (start.notna() & end.isna() & patch["closed"].isna()).to_numpy()
            age = as_of - start[wait].to_numpy(np.int64)
            for kind, times in ((0, self._patch_took(k)), (1, age)):
                np.add.at(counts[k - 1, kind], time_buckets(times), 1)
        out = []
        for k in range(len(self.stages) - 1):
            passed, waiting = counts[k, 0], counts[k, 1]
            n = int(passed.sum())
            if n == 0:  # no typical time: none young
                out.append((int(entered[k]), 0, 0))
                continue
            rank = int(np.ceil((n - 1) * quantile))
            b = int(np.searchsorted(np.cumsum(passed), rank + 1))
            above = int(np.ceil(2 ** (b / 4))) if b else 1  # bucket b's upper edge
            out.append((int(entered[k]), int(waiting[: b + 3].sum()), above))
        return out

    def _patch_took(self, k: int) -> np.ndarray:
        """The times (ns) the patch's leads took to pass step ``k`` (those with both
        times; none without a patch)."""
        if self.patch is None or not len(self.patch):
            return np.array([], dtype=np.int64)
        start, end = self.patch[f"a{k - 1}"], self.patch[f"a{k}"]
        both = (start.notna() & end.notna()).to_numpy()
        return end[both].to_numpy(np.int64) - start[both].to_numpy(np.int64)

    def _ranked(self, asks: dict[int, tuple[float, int, int]]) -> dict[int, np.ndarray] | None:
        """For :meth:`step_times` on DuckDB: each step's times passing at ranks ``lo`` and
        ``lo + 1`` (ns, ascending, over the engine's leads and the patch's), DuckDB's
        ``quantile_disc`` taking the engine's at the ranks around them (a selection,
        not the sort of the upper tail: 2.1 s against 3.2 s at 100 M rows). None where
        the patch has over 1,000 such times (the upper tails are then merged).

        The union's value at rank ``lo`` is the ``lo - r0``-th of the engine's values
        from rank ``r0 = max(0, lo - p)`` up and the patch's ``p`` values: every engine
        value below rank ``r0`` lies below it, whatever the patch holds."""
        theirs = {}
        for k in asks:
            took = self._patch_took(k)
            if len(took) > 1000:
                return None
            theirs[k] = took
        columns, first = [], {}
        for k, (_, lo, m) in asks.items():
            p = len(theirs[k])
            e = lo + m - p  # the engine's leads that passed
            first[k] = max(0, lo - p)
            ranks = range(first[k], min(lo + 1, e - 1) + 1)
            if e > 0 and len(ranks):
                at = [(r + 0.5) / e for r in ranks]  # rank r of e values, exactly
                this, prev = f'"a{k}"', f'"a{k - 1}"'
                columns.append(
                    f"quantile_disc({this} - {prev}, {at}) FILTER"
                    f' (WHERE {this} IS NOT NULL AND {prev} IS NOT NULL) AS "q{k}"'
                )
            else:  # all of this step's leads are the patch's
                columns.append(f'NULL AS "q{k}"')
        got: Sequence[Any] = [None] * len(columns)
        if any(c.startswith("quantile_disc") for c in columns):  # one row: an aggregate
            sql = f"SELECT {', '.join(columns)} FROM {SELF}"
            got = nw.to_native(self.table()).query(SELF, sql).fetchall()[0]
        pairs = {}
        for (k, (_, lo, _)), ours in zip(asks.items(), got, strict=True):
            values = np.sort(np.concatenate([np.asarray(ours or [], np.int64), theirs[k]]))
            pair = values[lo - first[k] : lo - first[k] + 2]
            pairs[k] = pair if len(pair) == 2 else pair[:1].repeat(2)
        return pairs

    def _key_column(self, key: str, column: pd.Series) -> pd.Series | pd.Categorical:
        """A group column as the pandas log holds it: text for a group field, a
        categorical in natural order for the file's other columns, week and month."""
        if key in self.groups:
            column = label_values(column)
        text = column.astype(object).where(column.notna(), np.nan)
        if key in self.extras or key not in self.groups:
            names = pd.unique(text.dropna().to_numpy())
            codes = pd.Index(names).get_indexer(text)
            if key in self.extras:
                return attribute(codes, np.asarray(names, dtype=object))
            order = np.argsort(np.asarray(names, dtype=str), kind="stable")
            return pd.Categorical(text, categories=pd.Index(names[order], dtype=object))
        return text
