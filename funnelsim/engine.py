"""Logs of any size: what the kit needs from an events log, as aggregate queries an engine runs.

A log of a few million rows is read into pandas (:mod:`funnelsim._events`).
A larger one, or one that lives in an engine (a DuckDB relation, a Polars
LazyFrame, a Dask DataFrame, a PySpark DataFrame, an Ibis table such as a
database's), is read where it lives: the kit asks the engine for one row per
lead (its first time at each stage, its attempts, its group columns), keeps
that table in the engine, and every later question (the stage tables, by any
group or by week, the mature tables, the young-lead check) is a group-by on
it whose answer has a row per group. Memory on the kit's side is bounded by
the number of groups and time points, not by the rows.

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

import itertools
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ._columns import recognise_columns, resolve
from ._events import read_events
from ._formats import (
    FIELDS,
    GROUP_FIELDS,
    REQUIRED,
    attribute,
    extra_columns,
    far_limit,
    tomorrow,
)
from ._reader import (
    LogError,
    Source,
    choice,
    empty_dropped,
)
from ._sources import (
    DUCKDB_MEMORY,
    SPACED,
    SPACES,
    Table,
    amount_of,
    blank_cell,
    is_database,
    is_time,
    label_values,
    lead_key,
    nanoseconds,
    open_database,
    open_file,
    open_native,
    open_pandas,
    stage_codes,
    times_in_text,
    value_of,
)
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
#: Nanoseconds in a day.
DAY_NS = 86_400 * 10**9
#: Irregular leads read by pandas at most (their rows); more is an error naming the cause.
MAX_IRREGULAR_ROWS = 5_000_000


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
        size = sum(p.stat().st_size for p in path.rglob("*.parquet"))
        return size > AUTO_BYTES
    if not path.is_file() or path.suffix.lower() not in (".parquet", ".pq", ".csv"):
        return False
    return path.stat().st_size > AUTO_BYTES and _utf8(path)


def _utf8(path: Path) -> bool:
    """A CSV file DuckDB can read as it is (UTF-8), judged on its first megabyte."""
    if path.suffix.lower() != ".csv":
        return True
    with open(path, "rb") as f:
        head = f.read(2**20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > len(head) - 4  # a character cut at the end
    return True


# --------------------------------------------------------------- the lead table
@dataclass(eq=False)
class LeadTable:
    """One row per kept lead of an events log, held by an engine.

    Columns: the group columns (``rep``... then the file's other columns, as
    text), ``amount`` when the log has one, ``a0``, ``a1``... (the lead's first
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

    frame: Any  # narwhals LazyFrame
    stages: tuple[str, ...]
    groups: tuple[str, ...]  # group fields then the file's other columns
    extras: tuple[str, ...]  # which of them are the file's other columns
    n_leads: int
    backend: str
    patch: pd.DataFrame | None = None  # leads the pandas reader read (same columns)
    column_of: dict = field(default_factory=dict)  # a group's column in the table
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
        out = [self.frame]
        if self.patch is not None and len(self.patch):
            out.append(nw.from_native(self.patch).lazy())
        return out

    def totals(
        self,
        keys: Sequence[str],
        columns: Mapping[str, Any],
        sources: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Sums of ``columns`` (narwhals expressions of int counts per lead: 0/1 from
        :func:`_one`, or attempts) per group of
        ``keys`` (group columns, or ``"week"`` / ``"month"`` of each lead's first
        time), as pandas: one row per group, keys first, in the order pandas' group-by
        of the lead-level log gives. ``sources``: the group column each key reads (a
        field for the file's name of its column), by default the key itself.

        >>> import funnelsim as fs
        >>> stages = ["dial", "connect", "meeting", "proposal", "sale"]
        >>> log = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
        ...                   stages=stages, engine="duckdb")
        >>> import narwhals as nw
        >>> log.engine.totals(["rep"], {"won": _one(~nw.col("a4").is_null())}).head(3)
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
        pieces = []
        for frame in self.parts():
            if derived:
                frame = frame.with_columns(__day=nw.col("a0") // DAY_NS)
            frame = frame.select(*[nw.col(src).alias(k) for k, src in named.items()],
                                 *(["__day"] if derived else []), **values)  # fmt: skip
            if by:
                out = frame.group_by(*by, drop_null_keys=False).agg(nw.col(*values).sum())
            else:
                out = frame.select(nw.col(*values).sum())
            pieces.append(_collect(out))
        table = pd.concat(pieces, ignore_index=True)
        for name in values:
            table[name] = table[name].fillna(0).astype(np.int64)
        if derived:
            day = pd.to_datetime(table.pop("__day").astype("float64") * DAY_NS)
            for key in derived:
                table[key] = _calendar_labels(day, sources[keys.index(key)])
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
        if "__amount" not in self.frame.collect_schema().names():
            return pd.Series(dtype=float, name="amount")
        last = f"a{len(self.stages) - 1}"
        pieces = [
            _collect(part.filter(~nw.col(last).is_null() & ~nw.col("__amount").is_null())
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
            closed.append(_collect(done.select(close=end.cast(nw.Int64), ns=took)))
            observed.append(_collect(done.group_by(took.alias("ns")).agg(nw.len().alias("leads"))))
        events = pd.concat(observed, ignore_index=True)
        events = events.groupby("ns", as_index=False)["leads"].sum()
        events["observed"] = True
        pieces = [events]
        for k, part in enumerate(self.parts()):
            open_ = part.filter(~start.is_null() & ~moved).select(ns=waited)
            if k == 0 and self._own_duckdb():
                pieces.append(self._censored_by_events(open_, events["ns"], scale))
            else:
                pieces.append(_collect(open_.group_by("ns").agg(nw.len().alias("leads"))))
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
        name = f"funnelsim_events_{next(_NAMES)}"
        con.register(name, pd.DataFrame({"e": ns.astype(np.float64) / scale, "ens": ns}))
        try:
            rel = nw.to_native(open_)
            d = f"CAST(ns AS DOUBLE) / CAST({float(scale)!r} AS DOUBLE)"
            # the longest time (as compared) and the least one, then the rest grouped
            top, least = rel.query(_SELF, f"SELECT max({d}), min(ns) FROM {_SELF}").fetchall()[0]
            if top is None:  # no open lead
                return pd.DataFrame({"ns": [], "leads": []}, dtype=np.int64)
            out = rel.query(
                _SELF,
                f"SELECT CASE WHEN {d} = {float(top)!r} THEN {_SELF}.ns"
                f" ELSE coalesce(ev.ens, {int(least)}) END AS ns, count(*) AS leads"
                f" FROM {_SELF} ASOF LEFT JOIN {name} ev ON {d} >= ev.e GROUP BY ALL",
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
        if asked not in self._tables:  # asked once (a fit asks the pooled table twice)
            columns = {}
            for k in range(1, S):
                columns[f"entered{k}"] = _one(~nw.col(f"a{k - 1}").is_null())
                columns[f"passed{k}"] = _one(~nw.col(f"a{k}").is_null())
                columns[f"attempts{k}"] = nw.col(f"n{k - 1}")
            self._tables[asked] = self.totals(keys, columns, sources)
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
            columns[f"entered{k}"] = _one(old)
            columns[f"passed{k}"] = _one(old & ~nw.col(f"a{k}").is_null())
            columns[f"young{k}"] = _one(~at.is_null() & ~old)
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
        # numpy's linear quantile from the two order statistics around it, each engine
        # asked for the largest values only (the upper tail above it), every step at once
        asks = {}
        for k in range(1, S):
            passed = int(counts[f"passed{k}"])
            if passed:
                h = (passed - 1) * quantile
                asks[k] = (h, int(np.floor(h)), passed - int(np.floor(h)))  # m from lo up
        tails: dict[int, list[np.ndarray]] = {k: [] for k in asks}
        for f in self.parts():
            if not asks:
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
            got = _collect(nw.concat(pieces, how="vertical"))
            for k in asks:
                tails[k].append(got.loc[got["step"] == k, "took"].to_numpy(np.int64))
        steps = []
        for k in range(1, S):
            n, passed = int(counts[f"entered{k}"]), int(counts[f"passed{k}"])
            if k not in asks:
                steps.append((n, passed, float("nan")))
                continue
            h, lo, m = asks[k]
            top = np.sort(np.concatenate(tails[k]))[-m:] / DAY_NS
            pair = top[:2] if m >= 2 else top[:1].repeat(2)
            steps.append((n, passed, float(np.quantile(pair, h - lo))))
        waits = {}
        for k, (_, _, typical) in enumerate(steps, start=1):
            if np.isnan(typical):
                continue
            prev, this = nw.col(f"a{k - 1}"), nw.col(f"a{k}")
            waits[f"young{k}"] = _one(
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


class _TrimLeads(Exception):
    """Some lead ids have spaces around them: the read starts again, stripping them."""


def _one(condition: Any) -> Any:
    """1 where ``condition`` holds, else 0 (a database may not cast a boolean to int64)."""
    return nw.when(condition).then(nw.lit(1, nw.Int64)).otherwise(nw.lit(0, nw.Int64))


def _calendar_labels(day: pd.Series, unit: str) -> pd.Series:
    """The week (its Monday, ``"2025-03-03"``) or month (``"2025-03"``) of each date."""
    if unit == "week":
        start = day - pd.to_timedelta(day.dt.dayofweek, unit="D")
        return start.dt.strftime("%Y-%m-%d").where(day.notna(), np.nan)
    return day.dt.strftime("%Y-%m").where(day.notna(), np.nan)


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
    if table.text and not times_in_text(table, cols["time"]):
        raise FunnelsimValueError(
            "engine.error.time_text", name=table.name, column=cols["time"], type="text"
        )
    if not (table.text or is_time(table, cols["time"], time_type)):
        raise FunnelsimValueError(
            "engine.error.time_text", name=table.name, column=cols["time"], type=str(time_type)
        )
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
        )
        out = _Build(table, rows, cols, schema, stage_map, tuple(groups), tuple(extras))
        out.columns, out.trimmed, out.lead, out.blank = columns, trimmed, lead, blank
        # the times, and for DuckDB the text group values (to check their hashes)
        text = [
            g for g in groups if table.backend == "duckdb" and schema[cols.get(g, g)] == nw.String
        ]
        values = {internal[g]: nw.col(cols.get(g, g)) for g in text}
        out.text_lead, out.times = text_lead, frame.select(t=time_ns, **values)
        out.hashed = [internal[g] for g in text]
        out.internal = internal
        return out

    with _Progress(table.name) as progress:
        try:
            parts = build(trimmed=False).run(as_of, mode, progress)
        except _TrimLeads:  # lead ids with spaces around them: stripped on every row
            parts = build(trimmed=True).run(as_of, mode, progress)
    parts["columns_used"] = dict(cols)
    return parts


class _Progress:
    """A bar over the steps of an engine's read, shown on a terminal or in a notebook
    only when the read takes more than two seconds (a large log)."""

    STEPS = 6

    def __init__(self, name: str) -> None:
        from tqdm.auto import tqdm  # lazy: tqdm.auto looks for IPython and its widgets

        self.bar = tqdm(total=self.STEPS, desc=t("engine.progress", name=name), delay=2.0,
                        leave=False, disable=None)  # fmt: skip

    def step(self) -> None:
        self.bar.update(1)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


#: Numbers of the tables the engine writes (unique within the process).
_NAMES = itertools.count()
#: The name a DuckDB relation has inside the kit's SQL on it (no user's table has it).
_SELF = "__funnelsim_relation"


def _persist(frame: Any, table: Table, name: str) -> Any:
    """``frame`` computed once and kept where its engine keeps tables: a table in the
    log's own DuckDB database (a temporary one on a user's connection, never a table of
    theirs), a Polars frame in memory, a Dask frame persisted, a Spark or Ibis frame
    cached; later queries read it instead of the source."""
    native = nw.to_native(frame)
    backend = table.backend
    if backend == "duckdb":
        unique = f"funnelsim_{name}_{next(_NAMES)}"
        kind = "TABLE" if table.own else "TEMP TABLE"
        where = f'{table.store}"{unique}"' if table.own else f'"{unique}"'
        native.query(_SELF, f"CREATE {kind} {where} AS SELECT * FROM {_SELF}")
        return nw.from_native(native.query(_SELF, f"SELECT * FROM {where}"))
    if backend == "polars":
        return nw.from_native(native.collect().lazy())
    if backend == "dask":
        return nw.from_native(native.persist())
    if backend in ("pyspark", "pyspark_connect"):
        return nw.from_native(native.cache())
    # a database (Ibis): nothing written, not even a temporary table (a read-only
    # replica allows none); it computes the lead table again for each question
    return frame


def _hashed(column: str) -> str:
    """DuckDB's hash of a (kit's own) column's value, none where the value is none."""
    return f'CASE WHEN "{column}" IS NOT NULL THEN hash("{column}") END'


def _collect(frame: Any) -> pd.DataFrame:
    """A (small) query's answer as pandas."""
    return frame.collect().to_pandas()


class _Build:
    """One engine log: the checks, the lead table and the irregular leads read by pandas."""

    def __init__(self, table, rows, cols, schema, stage_map, groups, extras) -> None:
        self.table, self.rows, self.cols, self.schema = table, rows, cols, schema
        self.stage_map, self.stages = stage_map, tuple(stage_map)
        self.groups, self.extras = groups, extras
        self.internal = {g: f"__g{i}" for i, g in enumerate(groups)}
        self.values = [*self.internal.values(), *(["__amount"] if "amount" in cols else [])]

    def run(self, as_of: pd.Timestamp | None, mode: str, progress: _Progress) -> dict[str, Any]:
        self.progress = progress
        S, rows = len(self.stages), self.rows
        when = nw.col("t")
        lead, s, one = nw.col("lead"), nw.col("s"), nw.lit(1, nw.Int64)
        # --- one pass over the times for the as-of rules (read_log's), and over the text
        # group columns for their hashes; the rows' count and the rows without a lead
        # come with the lead table below
        future = int(tomorrow().view(np.int64))
        ok = ~when.is_null() & (when <= future)
        times, top11 = self.times, None
        if self.table.backend == "duckdb":  # the 11 latest times in the same pass
            known = f"FILTER (WHERE t <= {future})"
            sql = f"SELECT max(t), count(t) {known}, min(t) {known}, max(t, 11) {known}"
            for v in self.hashed:  # no two values of a column share a hash (else: no hash)
                sql += f', count(DISTINCT "{v}") = count(DISTINCT {_hashed(v)})'
            sql += f" FROM {_SELF}"
            last, n_known, first, top11, *unique = (
                nw.to_native(times).query(_SELF, sql).fetchall()[0]
            )
            self.hashed = [v for v, ok in zip(self.hashed, unique, strict=True) if ok]
            stats = {"last": np.nan if last is None else last, "known": n_known, "first": first}
        else:
            stats = _collect(
                times.select(
                    last=when.max(),
                    known=nw.when(ok).then(one).count(),
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
                    top11 = _collect(top)["t"]
                first = int(stats["first"])
                top = np.sort(np.asarray(top11, dtype=np.int64))
                far_end = far_limit(first, top, n_known)
        self.progress.step()  # the times checked
        # a row is valid when it has a stage, a time up to the limit (and before the far
        # times) and a good amount; only valid rows are counted at their stage, so a lead
        # with an invalid row is one whose rows outnumber its counts (one test per row)
        valid = ~s.is_null() & (when <= limit)
        if "amount" in self.cols:  # not a number >= 0: the pandas reader says which
            valid = valid & ~nw.col("__bad_amount")
        if far_end is not None:
            valid = valid & (when <= far_end)
        # --- one row per lead, as small as it can be: the first time at each stage, the
        # valid rows there (counts as count(CASE ...), the smallest state an engine
        # keeps), all its rows, each group value and whether it varies
        # (each aggregate of one column: what every engine's group-by takes, Dask's too)
        marked = rows.with_columns(__s=nw.when(valid).then(s))
        at = nw.col("__s")
        marked = marked.with_columns(
            **{f"m{k}": nw.when(at == k).then(when) for k in range(S)},
            **{f"c{k}": nw.when(at == k).then(one) for k in range(S)},
            **{f"x{k}": nw.when(at == k).then(when) for k in range(S - 1)},
        )
        marked, same = self._same_values(marked)
        aggs = [
            *[nw.col(f"m{k}").min() for k in range(S)],
            *[nw.col(f"c{k}").count() for k in range(S)],
            *[nw.col(f"x{k}").max() for k in range(S - 1)],
            nw.len().alias("__n"),
            *same,
        ]
        arrive = {}
        for k in range(S - 1, -1, -1):
            later = [nw.col(f"m{j}") for j in range(k, S)]
            arrive[f"a{k}"] = nw.min_horizontal(*later) if len(later) > 1 else later[0]
        # irregular: back down the funnel (a stage's latest row after a later stage's
        # first), or two group values
        late = [nw.col(f"x{k}") > nw.col(f"a{k + 1}") for k in range(S - 1)]
        varies = [nw.col(f"{v}__lo") != nw.col(f"{v}__hi") for v in self.values]
        odd = [e.fill_null(False) for e in (*late, *varies)]
        again = [nw.col(f"c{k}") > 1 for k in range(S)]
        counted = nw.sum_horizontal(*[nw.col(f"c{k}") for k in range(S)])
        kept = [
            nw.col(f"{v}__min" if v in self.hashed else f"{v}__lo").alias(f"{v}__min")
            for v in self.values
        ]

        def leads_of(part: Any) -> Any:
            return (
                part.group_by("lead")
                .agg(*aggs)
                .with_columns(**arrive)
                .select(  # what later questions read, and no more (less to write)
                    "lead",
                    *[f"a{k}" for k in range(S)],
                    *[f"c{k}" for k in range(S)],
                    *kept,
                    "__n",
                    __bad=nw.col("__n") - counted,
                    __odd=nw.any_horizontal(*odd, ignore_nulls=False) if odd else nw.lit(False),
                    __again=nw.any_horizontal(*again, ignore_nulls=False),
                )
            )

        per = _persist(leads_of(marked), self.table, "leads")
        # the rows without a lead (no id, or an empty text) are one group of the table
        nolead = lead.is_null() | (lead == "") if self.text_lead else lead.is_null()
        counts = _collect(
            per.select(n=nw.col("__n").sum(), no_lead=nw.when(nolead).then(nw.col("__n")).sum())
        ).iloc[0]
        n_all, no_lead = int(np.nan_to_num(counts["n"])), int(np.nan_to_num(counts["no_lead"]))
        if n_all == 0:  # no row with a cell in it: as the pandas reader says
            raise LogError("log.error.empty", name=self.table.name)
        per = per.filter(~nolead)
        self.progress.step()  # one row per lead
        # --- lead ids the pandas reader would strip (" L1" is "L1"): read them all that way
        lead_type = self.schema[self.cols["lead"]]
        if lead_type in (nw.String, nw.Categorical, nw.Enum) and not self.trimmed:
            spaced = per.filter(nw.col("lead").str.contains(SPACED))
            if int(_collect(spaced.select(n=nw.len()))["n"].iloc[0]):
                raise _TrimLeads
        # --- leads with a stage of several rows, row by row: copied rows (the same lead,
        # stage and time twice), looked for at the stages some lead repeats
        candidate = (nw.col("__bad") == 0) & ~nw.col("__odd") & nw.col("__again")
        candidates = per.filter(candidate)
        repeats = _collect(
            per.select(
                leads=nw.len(),
                n=_one(candidate).sum(),
                **{f"r{k}": _one(candidate & (nw.col(f"c{k}") > 1)).sum() for k in range(S)},
            )
        ).iloc[0]
        flagged = None
        if int(np.nan_to_num(repeats["n"])):
            again = [k for k in range(S) if int(np.nan_to_num(repeats[f"r{k}"]))]
            picked = rows.filter(~lead.is_null() & s.is_in(again))
            if 2 * int(repeats["n"]) < int(repeats["leads"]):  # few: their rows only
                picked = picked.join(candidates.select("lead"), on="lead", how="semi")
            copied = (
                picked.group_by("lead", "s", "t").agg(nw.len().alias("n"))
                .filter(nw.col("n") > 1).select("lead").unique()
            )  # fmt: skip
            flagged = _persist(copied.with_columns(__flag=nw.lit(True)), self.table, "flagged")
            if not int(_collect(flagged.select(n=nw.len()))["n"].iloc[0]):
                flagged = None
        self.progress.step()  # copied rows and moves back found
        special = (nw.col("__bad") > 0) | nw.col("__odd")
        if flagged is not None:
            per = per.join(flagged, on="lead", how="left")
            special = special | nw.col("__flag").fill_null(False)
        per = per.with_columns(__special=special)
        self.progress.step()  # leads sorted: regular, irregular, invalid
        counts = _collect(per.select(leads=nw.len(), special=_one(nw.col("__special")).sum()))
        n_special = int(counts["special"].fillna(0).iloc[0])
        special_rows = no_lead
        if n_special:  # their rows, read by pandas: how many
            keys = per.filter(nw.col("__special")).select("lead")
            inside = rows.join(keys, on="lead", how="semi")
            special_rows += int(_collect(inside.select(n=nw.len()))["n"].iloc[0])
        if special_rows > MAX_IRREGULAR_ROWS:
            raise FunnelsimValueError(
                "engine.error.irregular", name=self.table.name, rows=special_rows,
                limit=MAX_IRREGULAR_ROWS,
            )  # fmt: skip
        whole = int(counts["leads"].iloc[0]) == n_special  # no regular lead: all are here
        patch = self._patch(per, n_special, no_lead, as_of, mode, far_end, whole)
        self.progress.step()  # irregular and invalid leads read by pandas
        regular = per.filter(~nw.col("__special"))
        lead_table = regular.select(
            "lead",
            *[nw.col(f"{v}__min").alias(v) for v in self.values],
            *[nw.col(f"a{k}") for k in range(S)],
            *[nw.col(f"c{k}").alias(f"n{k}") for k in range(S)],
            closed=nw.col(f"a{S - 1}"),
        )
        summary = _collect(
            regular.select(
                leads=nw.len(),
                **{
                    f"skip{k}": _one(~nw.col(f"a{k}").is_null() & (nw.col(f"c{k}") == 0)).sum()
                    for k in range(S - 1)
                },
            )
        ).iloc[0]
        summary["rows"] = n_all - special_rows  # the regular leads' rows
        if special_rows:  # the latest time of the regular leads' rows (the rest: pandas)
            kept = rows.filter(~lead.is_null()).join(
                per.filter(~nw.col("__special")).select("lead"), on="lead", how="semi"
            )
            summary["last"] = _collect(kept.select(last=when.max()))["last"].iloc[0]
        else:
            summary["last"] = stats["last"]
        self.progress.step()  # the log's figures
        n_regular = int(summary["leads"])
        n_patch = 0 if patch is None else len(patch["reached"])
        if n_regular + n_patch == 0 and patch is None:
            raise FunnelsimValueError("engine.error.no_leads", name=self.table.name)
        skipped = np.array(
            [int(np.nan_to_num(summary[f"skip{k}"])) for k in range(S - 1)] + [0], dtype=np.int64
        )
        n_rows = int(np.nan_to_num(summary["rows"]))
        latest = summary["last"]
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
        parts["dropped"] = dropped if dropped is not None else empty_dropped()
        return parts

    def _same_values(self, marked: Any) -> tuple[Any, list[Any]]:
        """The aggregates that keep a lead's value of each group column (and amount) as
        ``{v}__min`` and tell whether it varies (``{v}__lo`` != ``{v}__hi``). Text in
        DuckDB (``self.hashed``): any value, and the least and greatest hash of the
        values given (a number each, cheaper than text's least and greatest; the as-of
        pass has made sure that no two values of the column share a hash); elsewhere
        the least and greatest value."""
        out = []
        hashed = self.hashed
        for v in self.values:
            if v in hashed:
                out += [nw.col(v).any_value(ignore_nulls=True).alias(f"{v}__min"),
                        nw.col(f"{v}__h").min().alias(f"{v}__lo"),
                        nw.col(f"{v}__h").max().alias(f"{v}__hi")]  # fmt: skip
            else:  # the least is the value kept
                out += [nw.col(v).min().alias(f"{v}__lo"), nw.col(v).max().alias(f"{v}__hi")]
        if hashed:
            hashes = ", ".join(f'{_hashed(v)} AS "{v}__h"' for v in hashed)
            marked = nw.from_native(nw.to_native(marked).select(f"*, {hashes}"))
        return marked, out

    def _patch(self, per, n_special, no_lead, as_of, mode, far_end, whole) -> dict | None:
        """The rows of the special leads (invalid or irregular) and of rows without a lead,
        read by the pandas reader: their Log parts (None when there are none)."""
        if n_special == 0 and no_lead == 0:
            return None
        numbered = self.table.numbered()
        keyed = numbered.with_columns(__lead=self.lead)
        special = per.filter(nw.col("__special")).select(nw.col("lead").alias("__lead"))
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
            frame = _collect(picked.drop("__lead").sort("__row"))
        finally:
            if con is not None:
                con.execute("SET preserve_insertion_order=false")
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("__ns_")])
        rownum = frame.pop("__row").to_numpy(np.int64)
        src = Source(frame.reset_index(drop=True), rownum, self.table.name)
        return read_events(
            src, self.stage_map, dict(self.cols), as_of, mode, far_end=far_end, whole=whole
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
