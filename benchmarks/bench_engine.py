"""Logs of any size, read by the embedded engine (issue #16; run by hand, never a unit test).

Targets of the issue, on the 2-core machine:

* 10 M-row events Parquet: ``read_log(engine="duckdb")`` + ``fit(by="rep")``
  <= 3 s and <= 1 GiB peak memory.
* 100 M rows: <= 30 s and <= 2 GiB peak; time grows linearly from 10 M to 100 M.
* Within 1.5x of DuckDB running the same aggregation query alone (child B),
  measured side by side in one run.
* ``fit(mature="60D")`` and Kaplan-Meier (``cycle_length``), child C, at 100 M
  rows within the same memory.

Each measurement runs in a fresh subprocess, so its peak memory (VmHWM) is its own:

* A: ``fs.read_log(path, format="events", stages=STAGES, engine="duckdb")`` then
  ``fs.fit(log, by="rep").to_frame()``; every query the engine sends (its
  ``collect`` and ``persist`` calls) is timed, which costs a clock reading each.
* B: the same stage counts per rep as one DuckDB SQL query, with the kit's
  ``memory_limit`` and ``threads``; A's counts must equal B's (OK / MISMATCH).
* B': the kit's own per-lead query (captured from ``read_log``, its checks in it)
  summed per rep, alone on the kit's connection; A's counts must equal its.
* B'': the same stage counts per rep with every check the kit makes (unknown stages,
  missing times, a rep that changes, moves back, copied rows) hand-written as one
  DuckDB query (``checked_sql``); A's counts must equal its.
* B+: B's query, then the copied-row check alone (``copies_sql``: the rows at the
  stages some lead repeats, grouped by one hash of lead, stage and time), on one
  connection: B and the one check of the kit's that B's per-lead figures cannot make
  (two rows of a lead at one stage and time are a copy), as DuckDB alone makes it;
  with one row per stage no stage repeats and B+ is B. A's counts must equal its.
* C: ``read_log`` then ``fs.fit(log, by="rep", mature="60D")``, then
  ``fs.cycle_length(log)`` (Kaplan-Meier from dial to sale).
* D (``--sizes``): the per-lead intermediate table (rows, bytes in Arrow and in
  DuckDB) and DuckDB's scan + per-lead aggregation alone, for the paper estimate
  in ``benchmarks/README.md``.

The logs are synthetic (the model of ``bench_logs.make_events``): leads pass
dial -> connect -> meeting -> proposal -> sale with ratios 0.45, 0.3, 0.5, 0.4,
one row per lead and stage reached (about 1.68 rows per lead), 200 reps, each
lead starting on a day of 2024 and taking 3 days per stage. They are written
in chunks of leads, never whole in memory: one Parquet file per size with row
groups of at most 1 Mi rows, each chunk sorted by time, as CRM exports are.
Lead ids are text by default (``"L000012345"``, as CRM exports give them);
``--int-leads`` writes integers. The files are cached under ``--data``, so a
rerun skips generation. Results go to ``benchmarks/results/bench_engine-<date>.json``.
It measures the funnelsim Python imports (``PYTHONPATH=<checkout>`` for another
working tree) and records the CPU time other processes took during each child.

    python benchmarks/bench_engine.py                    # 10 M and 100 M rows
    python benchmarks/bench_engine.py --rows 10e6 --sizes
    python benchmarks/bench_engine.py --rows 10e6 --dials 1.62 --repeat 5 --skip-mature
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_logs import RATIOS, STAGES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ROWS_PER_LEAD = 1 + float(np.sum(np.cumprod(RATIOS)))  # expected rows per lead
CHUNK_LEADS = 2_000_000  # leads generated at once (about 3.4 M rows, some 150 MB)
REPS = 200
MATURE = "60D"
KM_NOTE = "measured in C: fs.cycle_length(log) after the mature fit (C's peak covers it)"


# ---------------------------------------------------------------- the logs
def _lead_text(ids: np.ndarray):
    """Lead ids as text "L000012345" (10 characters), without a Python string each."""
    import pyarrow as pa

    digits = np.empty((ids.size, 10), dtype=np.uint8)
    digits[:, 0] = ord("L")
    rest = ids.astype(np.int64)
    for col in range(9, 0, -1):
        digits[:, col] = ord("0") + rest % 10
        rest //= 10
    data = pa.py_buffer(digits.tobytes())
    offsets = pa.py_buffer((np.arange(ids.size + 1, dtype=np.int32) * 10).tobytes())
    return pa.Array.from_buffers(pa.string(), ids.size, [None, offsets, data])


def _chunk(first: int, leads: int, seed: int, int_leads: bool, dials: float = 0.0):
    """Rows of leads ``first`` .. ``first + leads - 1`` as an Arrow table, sorted by time.
    ``dials``: mean extra dial attempts per lead (Poisson), two hours apart, before the
    lead connects (0: one row per stage reached)."""
    import pyarrow as pa

    rng = np.random.default_rng([seed, first])
    reached = np.ones(leads, dtype=np.int64)
    alive = np.ones(leads, dtype=bool)
    for r in RATIOS:
        alive &= rng.random(leads) < r
        reached += alive
    extra = rng.poisson(dials, leads) if dials else np.zeros(leads, dtype=np.int64)
    per = reached + extra  # rows per lead: its dials, then one per later stage
    lead = np.repeat(np.arange(first, first + leads, dtype=np.int64), per)
    j = np.arange(lead.size) - np.repeat(np.cumsum(per) - per, per)  # row within lead
    dial_rows = np.repeat(extra + 1, per)
    step = np.maximum(j - dial_rows + 1, 0)  # 0 for every dial, then 1, 2...
    start = np.datetime64("2024-01-01", "us").astype(np.int64)
    start = start + rng.integers(0, 365 * 86_400, leads) * 10**6
    hour = 3_600 * 10**6
    offset = np.where(step == 0, j * 2 * hour, step * 3 * 86_400 * 10**6)
    time_us = np.repeat(start, per) + offset
    rep = np.repeat(rng.integers(0, REPS, leads), per)
    order = np.argsort(time_us, kind="stable")
    lead, step, time_us, rep = lead[order], step[order], time_us[order], rep[order]
    stage_names = pa.array(STAGES)
    rep_names = pa.array([str(r) for r in range(REPS)])
    return pa.table(
        {
            "lead": pa.array(lead) if int_leads else _lead_text(lead),
            "stage": stage_names.take(pa.array(step)),
            "time": pa.array(time_us, type=pa.timestamp("us")),
            "rep": rep_names.take(pa.array(rep)),
        }
    )


def make_log(
    rows: int, folder: Path, int_leads: bool, seed: int = 0, dials: float = 0.0
) -> tuple[Path, dict]:
    """The events Parquet file of about ``rows`` rows (made once, then reused)."""
    import pyarrow.parquet as pq

    kind = "int" if int_leads else "text"
    shape = f"-dials{dials:g}" if dials else ""
    path = folder / f"events-{rows}-{kind}{shape}-seed{seed}.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        leads = int(rows / (ROWS_PER_LEAD + dials))
        partial = path.with_suffix(".partial")
        writer = None
        for first in range(0, leads, CHUNK_LEADS):
            table = _chunk(first, min(CHUNK_LEADS, leads - first), seed, int_leads, dials)
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table, row_group_size=2**20)
        writer.close()
        partial.rename(path)
        print(f"  wrote {path} in {time.perf_counter() - t0:.0f} s", flush=True)
    meta = pq.ParquetFile(path).metadata
    return path, {
        "path": str(path),
        "rows": meta.num_rows,
        "row_groups": meta.num_row_groups,
        "bytes": path.stat().st_size,
        "lead_ids": kind,
        "extra_dials": dials,
    }


# ------------------------------------------------------- DuckDB's own query
def _settings(path: str) -> tuple[str, int]:
    """The kit's DuckDB memory limit and threads for this log (``_sources.duckdb_plan``)."""
    import pyarrow.parquet as pq

    from funnelsim import _sources

    rows = pq.ParquetFile(path).metadata.num_rows
    return _sources.duckdb_plan(rows)[1], max(1, min(os.cpu_count() or 1, 8))


def _connect(folder: str, path: str):
    import duckdb

    memory, threads = _settings(path)
    con = duckdb.connect(str(Path(folder) / "bench.duckdb"))
    con.execute(
        f"SET memory_limit='{memory}'; SET threads={threads};"
        f" SET preserve_insertion_order=false; SET TimeZone='UTC';"
        f" SET temp_directory='{Path(folder) / 'spill'}'"
    )
    return con


def per_lead_sql(path: str) -> str:
    """One row per lead: its rep, first time at each stage, rows at each stage."""
    S = len(STAGES)
    first = ", ".join(
        f"min(time) FILTER (WHERE stage = '{s}') AS m{k}" for k, s in enumerate(STAGES)
    )
    rows = ", ".join(
        f"count(*) FILTER (WHERE stage = '{s}') AS c{k}" for k, s in enumerate(STAGES)
    )
    # first arrival at stage k or a later one: a running minimum from the last stage
    arrive = ", ".join(
        f"least({', '.join(f'm{j}' for j in range(k, S))}) AS a{k}" for k in range(S)
    )
    counts = ", ".join(f"c{k}" for k in range(S))
    return (
        f"SELECT lead, rep, {arrive}, {counts} FROM ("
        f" SELECT lead, min(rep) AS rep, {first}, {rows}"
        f" FROM read_parquet('{path}') GROUP BY lead)"
    )


def stage_counts_sql(path: str) -> str:
    """Per rep and step k: leads entered (at stage k-1), passed (at stage k), attempts."""
    cols = []
    for k in range(1, len(STAGES)):
        cols += [
            f"count(a{k - 1}) AS entered{k}",
            f"count(a{k}) AS passed{k}",
            f"sum(c{k - 1}) AS attempts{k}",
        ]
    return f"SELECT rep, {', '.join(cols)} FROM ({per_lead_sql(path)}) GROUP BY rep"


def _long(wide) -> list[list]:
    """Rows (rep, stage, entered, passed, attempts) from the wide per-rep table."""
    out = []
    for _, row in wide.iterrows():
        for k in range(1, len(STAGES)):
            out.append(
                [
                    str(row["rep"]),
                    STAGES[k],
                    int(row[f"entered{k}"]),
                    int(row[f"passed{k}"]),
                    int(row[f"attempts{k}"]),
                ]
            )
    return sorted(out)


# ---------------------------------------------------------------- children
def _peak_gib() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 2**20  # KiB -> GiB


def _timed_engine(calls: list) -> None:
    """Time every query the engine sends (``collect``, in ``funnelsim.engine`` and in
    ``funnelsim._lead_table``, and ``engine.persist``)."""
    from funnelsim import _lead_table, engine

    def wrap(fn, kind):
        def timed(*args, **kwargs):
            caller = sys._getframe(1)
            label = f"{kind} {caller.f_code.co_name}:{caller.f_lineno}"
            if kind == "persist":
                label += f" ({args[2]})"
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                calls.append([label, time.perf_counter() - t0])

        return timed

    timed = wrap(_lead_table.collect, "collect")
    engine.collect = _lead_table.collect = timed
    engine.persist = wrap(engine.persist, "persist")


def child_kit(path: str, out: str, mature: bool) -> dict:
    """A (``mature`` False) or C (True): the kit's read_log + fit."""
    import funnelsim as fs

    calls: list = []
    _timed_engine(calls)
    t0 = time.perf_counter()
    try:
        log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
        t1 = time.perf_counter()
        n_read = len(calls)
        if mature:
            fs.fit(log, by="rep", mature=MATURE).to_frame()
        else:
            fs.fit(log, by="rep").to_frame()
        t2 = time.perf_counter()
        km = None
        if mature:  # then the Kaplan-Meier cycle curve, in the same memory
            fs.cycle_length(log)
            km = time.perf_counter() - t2
    except Exception:  # the queries up to the one that failed, for the parent
        calls.append(["failed; total until then", time.perf_counter() - t0])
        print(json.dumps({"queries_before_failure": calls, "peak_gib": _peak_gib()}))
        raise
    result = {
        "read": t1 - t0,
        "fit": t2 - t1,
        "total": t2 - t0,
        "peak_gib": _peak_gib(),
        "leads": int(log.engine.n_leads),
        "patched_leads": 0 if log.engine.patch is None else len(log.engine.patch),
        "queries_read": calls[:n_read],
        "queries_fit": calls[n_read:],
    }
    if km is not None:
        result["kaplan_meier_s"] = km
    if not mature:  # untimed: the counts, for the check against B, and the database's size
        table = log.stage_table(by="rep")
        rows = [
            [str(r.rep), str(r.stage), int(r.entered), int(r.passed), int(r.attempts)]
            for r in table.itertuples()
        ]
        Path(out).write_text(json.dumps(sorted(rows)))
        con = log.engine.keep[0].keep[0]
        size = con.execute("PRAGMA database_size").fetchdf()
        result["duckdb_database"] = size.iloc[0].astype(str).to_dict()
        tables = con.execute("SELECT table_name, estimated_size FROM duckdb_tables()").fetchall()
        result["duckdb_tables"] = [[n, int(s)] for n, s in tables]
    return result


def _alone(path: str, out: str, sql: str) -> dict:
    """One DuckDB query of stage counts per rep (wide), timed, nothing else."""
    memory, threads = _settings(path)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        con = _connect(folder, path)
        t0 = time.perf_counter()
        wide = con.execute(sql).fetchdf()
        t1 = time.perf_counter()
        con.close()
    Path(out).write_text(json.dumps(_long(wide)))
    return {"total": t1 - t0, "peak_gib": _peak_gib(), "memory_limit": memory, "threads": threads}


def child_duckdb(path: str, out: str) -> dict:
    """B: the stage counts per rep as one DuckDB query, nothing else."""
    return _alone(path, out, stage_counts_sql(path))


def checked_sql(path: str) -> str:
    """B'': the stage counts per rep as one hand-written DuckDB query that makes every
    check the kit makes, leaving out the leads that fail one (the kit reads those with
    pandas): rows of an unknown stage or without a time, a rep that changes, a stage's
    latest row after a later stage's first (a move back), the same stage and time twice
    (a copied row)."""
    S = len(STAGES)
    code = " ".join(f"WHEN '{s}' THEN {k}" for k, s in enumerate(STAGES))
    rows = (
        f"SELECT lead, CASE stage {code} END AS s, epoch_ns(time) AS t, hash(rep) AS h, rep"
        f" FROM read_parquet('{path}') WHERE lead IS NOT NULL"
    )
    copies = (  # one row per lead, stage and time: copied rows are n > 1
        f"SELECT lead, s, t, count(*) AS n, min(h) AS lo, max(h) AS hi, any_value(rep) AS rep"
        f" FROM ({rows}) GROUP BY lead, s, t"
    )
    per_stage = ", ".join(
        f"min(t) FILTER (WHERE s = {k}) AS m{k}, max(t) FILTER (WHERE s = {k}) AS x{k},"
        f" sum(n) FILTER (WHERE s = {k}) AS c{k}"
        for k in range(S)
    )
    leads = (
        f"SELECT lead, min(lo) AS lo, max(hi) AS hi, any_value(rep) AS rep, max(n) AS most,"
        f" sum(n) AS n, count(*) FILTER (WHERE s IS NULL OR t IS NULL) AS bad, {per_stage}"
        f" FROM ({copies}) GROUP BY lead"
    )
    arrive = ", ".join(
        f"least({', '.join(f'm{j}' for j in range(k, S))}) AS a{k}" for k in range(S)
    )
    back = " OR ".join(f"coalesce(x{k} > a{k + 1}, false)" for k in range(S - 1))
    ok = f"bad = 0 AND most = 1 AND lo = hi AND NOT ({back})"
    cols = []
    for k in range(1, S):
        cols += [f"count(a{k - 1}) AS entered{k}", f"count(a{k}) AS passed{k}",
                 f"coalesce(sum(c{k - 1}), 0) AS attempts{k}"]  # fmt: skip
    return (
        f"SELECT rep, {', '.join(cols)} FROM (SELECT *, {arrive} FROM ({leads}))"
        f" WHERE {ok} GROUP BY rep"
    )


def copies_sql(path: str, stages: list[int]) -> str:
    """The copied-row check as one DuckDB query, after B's: the rows at
    ``stages`` (those where some lead has several rows) grouped by one hash of lead,
    stage and time; a hash met twice is a copied row, or two rows sharing a hash (a
    reader then looks at those leads' rows: none in these logs)."""
    names = ", ".join(f"'{STAGES[k]}'" for k in stages)
    return (
        f"SELECT count(*) AS twice FROM (SELECT hash(lead, stage, time) AS h"
        f" FROM read_parquet('{path}') WHERE stage IN ({names}))"
        " GROUP BY h HAVING count(*) > 1"
    )


def child_copies(path: str, out: str) -> dict:
    """B+: B's query, then the copied-row check (``copies_sql``) on the stages some lead
    repeats (found first, untimed), timed together on one connection: what DuckDB alone
    takes for B and the one check of the kit's that no per-lead figure can replace (two
    rows of a lead at one stage and time). One row per stage: no stage repeats, B+ is B."""
    S = len(STAGES)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        con = _connect(folder, path)
        most = ", ".join(f"max(c{k}) > 1" for k in range(S))
        again = con.execute(f"SELECT {most} FROM ({per_lead_sql(path)})").fetchone()
        stages = [k for k in range(S) if again[k]]
        t0 = time.perf_counter()
        wide = con.execute(stage_counts_sql(path)).fetchdf()
        t1 = time.perf_counter()
        twice = con.execute(copies_sql(path, stages)).fetchall() if stages else []
        t2 = time.perf_counter()
        con.close()
    Path(out).write_text(json.dumps(_long(wide)))
    return {
        "total": t2 - t0, "counts_s": t1 - t0, "copies_s": t2 - t1, "peak_gib": _peak_gib(),
        "repeated_stages": [STAGES[k] for k in stages], "hashes_twice": len(twice),
    }  # fmt: skip


def child_checked(path: str, out: str) -> dict:
    """B'': the same checks as the kit's, hand-written as one DuckDB query, nothing else."""
    return _alone(path, out, checked_sql(path))


def child_validated(path: str, out: str) -> dict:
    """B': the kit's own per-lead query (its checks included: valid rows counted, group
    values hashed, moves back) summed per rep in one DuckDB query, nothing else: what
    the kit's Python, its other queries and its kept per-lead table add is A - B'."""
    import narwhals as nw

    import funnelsim as fs
    from funnelsim import engine

    class _Stop(Exception):
        pass

    seen: dict = {}

    persist = engine.persist

    def grab(frame, table, name):  # the per-lead query, as the kit would keep it
        # (a Parquet file's read keeps no lead table: its per-lead query is then the
        # one its aggregate ("sums") reads, taken from the reader's own variables)
        if name not in ("leads", "sums"):  # what comes before it (the as-of pass's
            return persist(frame, table, name)  # tables) is kept
        caller = sys._getframe(1)
        while "deferred" not in caller.f_locals:  # up to the reader's run()
            caller = caller.f_back
        own = caller.f_locals
        if name == "sums":  # a deferred read's (a kept lead table came before)
            frame = own["per"]
        seen["sql"], seen["table"] = nw.to_native(frame).sql_query(), table  # kept open
        build = own["self"]  # the kit's reader: its rep dictionary
        seen["values"] = nw.to_native(build.dictionary["__g0"]).sql_query()
        raise _Stop

    engine.persist = grab
    try:
        fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    except _Stop:
        pass
    S = len(STAGES)
    cols = []
    for k in range(1, S):
        cols += [f"count(a{k - 1}) AS entered{k}", f"count(a{k}) AS passed{k}",
                 f"sum(c{k - 1}) AS attempts{k}"]  # fmt: skip
    # summed per rep's key (its hash, as the kit keeps it), the rep's name joined to the
    # sums, as the kit's questions do
    sql = (
        f"SELECT d.value AS rep, g.* EXCLUDE (key) FROM ("
        f"SELECT __g0__min AS key, {', '.join(cols)} FROM ({seen['sql']})"
        " WHERE __bad = 0 AND NOT __odd AND lead IS NOT NULL AND lead != '' GROUP BY 1"
        f") g LEFT JOIN ({seen['values']}) d ON g.key = d.hash"
    )
    t0 = time.perf_counter()
    wide = seen["table"].keep[0].execute(sql).fetchdf()
    t1 = time.perf_counter()
    Path(out).write_text(json.dumps(_long(wide)))
    return {"total": t1 - t0, "peak_gib": _peak_gib()}


def child_sizes(path: str, out: str) -> dict:
    """D: the per-lead table kept (rows, bytes) and the scan and aggregations alone."""
    memory, threads = _settings(path)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        con = _connect(folder, path)
        t0 = time.perf_counter()
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
        t1 = time.perf_counter()
        # the scan of the columns the query reads, without grouping
        con.execute(
            "SELECT count(DISTINCT stage), max(time), max(length(rep)),"
            f" max(length(lead::VARCHAR)) FROM read_parquet('{path}')"
        ).fetchall()
        t2 = time.perf_counter()
        con.execute(f"CREATE TABLE per AS {per_lead_sql(path)}")
        t3 = time.perf_counter()
        groups = con.execute(
            "SELECT rep, count(a0), count(a1), sum(c0) FROM per GROUP BY rep"
        ).to_arrow_table()
        t4 = time.perf_counter()
        leads = con.execute("SELECT count(*) FROM per").fetchone()[0]
        sample = con.execute("SELECT * FROM per LIMIT 1000000").to_arrow_table()
        con.execute("CHECKPOINT")
        estimated = con.execute(
            "SELECT estimated_size FROM duckdb_tables() WHERE table_name = 'per'"
        ).fetchone()[0]
        db_bytes = (Path(folder) / "bench.duckdb").stat().st_size
        con.close()
    return {
        "rows": rows,
        "count_s": t1 - t0,
        "scan_s": t2 - t1,
        "per_lead_s": t3 - t2,
        "per_rep_from_per_lead_s": t4 - t3,
        "leads": leads,
        "per_lead_arrow_bytes_per_row": sample.nbytes / max(1, sample.num_rows),
        "per_lead_columns": sample.schema.names,
        "per_lead_duckdb_file_bytes": db_bytes,
        "per_lead_duckdb_estimated_rows": estimated,
        "groups": groups.num_rows,
        "group_arrow_bytes": groups.nbytes,
        "peak_gib": _peak_gib(),
        "threads": threads,
        "memory_limit": memory,
    }


CHILDREN = {
    "kit": lambda p, o: child_kit(p, o, mature=False),
    "mature": lambda p, o: child_kit(p, o, mature=True),
    "duckdb": child_duckdb,
    "validated": child_validated,
    "checked": child_checked,
    "copies": child_copies,
    "sizes": child_sizes,
}


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``, all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, path: Path, out: Path) -> dict:
    """One child, with the CPU time other processes took on the machine meanwhile (others'
    work on the same cores makes every time longer)."""
    import resource

    def own() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    busy, mine, t0 = _busy_seconds(), own(), time.perf_counter()
    result = _run_child(kind, path, out)
    wall = time.perf_counter() - t0
    others = max(0.0, _busy_seconds() - busy - (own() - mine))
    result["others_cpu_s"], result["wall_s"] = others, wall
    share = others / (wall * (os.cpu_count() or 1))
    if share > 0.1:
        print(f"  {kind}: other processes took {others:.0f} CPU s in {wall:.0f} s "
              f"({share:.0%} of the cores): its times are too long")  # fmt: skip
    return result


def _run_child(kind: str, path: Path, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(out)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        error = next((x for x in reversed(lines) if "Error" in x), lines[-1] if lines else "")
        print(f"  {kind}: FAILED (exit {proc.returncode}): {error}", flush=True)
        failed = {"failed": proc.returncode, "error": error, "stderr": "\n".join(lines[-40:])}
        if proc.stdout.strip():  # a kit child's queries up to the failure
            failed.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            for label, sec in failed.get("queries_before_failure", []):
                print(f"      {sec:7.2f} s  {label}")
        return failed
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        default="10e6,100e6",
        help="comma-separated sizes in rows (default 10e6,100e6)",
    )
    parser.add_argument(
        "--data",
        default=str(Path(tempfile.gettempdir()) / "funnelsim-bench-engine"),
        help="folder of the generated logs, kept for reruns (default: a folder in the temp dir)",
    )
    parser.add_argument("--int-leads", action="store_true", help="integer lead ids, not text")
    parser.add_argument(
        "--dials",
        type=float,
        default=0.0,
        help="mean extra dial attempts per lead (Poisson; 1.62 gives the issue's 3.3 rows "
        "per lead); 0: one row per stage reached",
    )
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="rounds of A, B, B', B'' and B+ side by side (medians reported; default 1)",
    )  # fmt: skip
    parser.add_argument("--skip-mature", action="store_true", help="leave out child C")
    parser.add_argument(
        "--sizes", action="store_true", help="also child D: intermediate sizes, scan cost"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, out = args.child
        print(json.dumps(CHILDREN[kind](path, out)))
        return

    import duckdb

    import funnelsim

    sizes = [int(float(s)) for s in args.rows.split(",")]
    from funnelsim import _sources

    memory = _sources.DUCKDB_MEMORY or (
        f"{_sources.duckdb_plan(1)[1]} up to {_sources.SMALL_ROWS:,} rows, "
        f"{_sources.duckdb_plan(None)[1]} above"
    )
    threads = max(1, min(os.cpu_count() or 1, 8))
    engine_file = Path(funnelsim.__file__).parent / "engine.py"
    report = {
        "machine": f"{platform.platform()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "funnelsim": str(Path(funnelsim.__file__).parent),
        "engine_py_mtime": dt.datetime.fromtimestamp(engine_file.stat().st_mtime).isoformat(),
        "memory_limit": memory,
        "threads": threads,
        "kaplan_meier": KM_NOTE,
        "sizes": [],
    }
    print(f"# {report['machine']}; DuckDB {duckdb.__version__}, memory_limit {memory}, "
          f"threads {threads}; funnelsim from {report['funnelsim']}", flush=True)  # fmt: skip
    data = Path(args.data)
    for rows in sizes:
        path, log = make_log(rows, data, args.int_leads, dials=args.dials)
        print(f"## {log['rows']:,} rows, {log['bytes'] / 2**30:.2f} GiB Parquet ({path})")
        entry: dict = {"log": log}
        with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
            a_out, b_out = Path(tmp) / "a.json", Path(tmp) / "b.json"
            v_out = Path(tmp) / "v.json"
            c_out = Path(tmp) / "checked.json"
            p_out = Path(tmp) / "copies.json"
            runs: dict[str, list] = {"A": [], "B": [], "B'": [], "B''": [], "B+": []}
            for _ in range(args.repeat):  # side by side, round after round
                runs["A"].append(measure("kit", path, a_out))
                runs["B"].append(measure("duckdb", path, b_out))
                runs["B'"].append(measure("validated", path, v_out))
                runs["B''"].append(measure("checked", path, c_out))
                runs["B+"].append(measure("copies", path, p_out))
            for kind, done in runs.items():  # the run of median time (all totals kept)
                entry[kind] = _median_run(done)
                entry[f"{kind} totals"] = [r.get("total") for r in done]
            a, b, v, w, p = entry["A"], entry["B"], entry["B'"], entry["B''"], entry["B+"]
            if "failed" not in a and "failed" not in b:
                same = json.loads(a_out.read_text()) == json.loads(b_out.read_text())
                entry["counts"] = "OK" if same else "MISMATCH"
                entry["ratio"] = a["total"] / b["total"]
            if "failed" not in a and "failed" not in v:
                same = json.loads(a_out.read_text()) == json.loads(v_out.read_text())
                entry["counts_validated"] = "OK" if same else "MISMATCH"
                entry["ratio_validated"] = a["total"] / v["total"]
            if "failed" not in a and "failed" not in w:
                same = json.loads(a_out.read_text()) == json.loads(c_out.read_text())
                entry["counts_checked"] = "OK" if same else "MISMATCH"
                entry["ratio_checked"] = a["total"] / w["total"]
            if "failed" not in a and "failed" not in p:
                same = json.loads(a_out.read_text()) == json.loads(p_out.read_text())
                entry["counts_copies"] = "OK" if same else "MISMATCH"
                entry["ratio_copies"] = a["total"] / p["total"]
            if not args.skip_mature:
                entry["C"] = measure("mature", path, Path(tmp) / "c.json")
            if args.sizes:
                entry["D"] = measure("sizes", path, Path(tmp) / "d.json")
        entry["kaplan_meier"] = KM_NOTE
        report["sizes"].append(entry)
        _print_entry(entry)
    _print_table(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bench_engine-{stamp}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {out}")


def _median_run(runs: list[dict]) -> dict:
    """The run of median total time (the lower middle one of an even count); a failed
    run where any failed."""
    failed = [r for r in runs if "failed" in r]
    if failed:
        return failed[0]
    return sorted(runs, key=lambda r: r["total"])[(len(runs) - 1) // 2]


def _print_entry(e: dict) -> None:
    a, b = e["A"], e["B"]
    if len(e.get("A totals", [])) > 1:
        for kind in ("A", "B", "B'", "B''", "B+"):
            times = ", ".join(f"{x:.2f}" for x in e[f"{kind} totals"] if x is not None)
            print(f"  {kind} runs: {times} s (the median one below)")
    if "failed" not in a:
        print(f"  A read_log {a['read']:.2f} s + fit {a['fit']:.2f} s = {a['total']:.2f} s, "
              f"peak {a['peak_gib']:.2f} GiB, {a['leads']:,} leads")  # fmt: skip
        for label, sec in a["queries_read"] + a["queries_fit"]:
            print(f"      {sec:7.2f} s  {label}")
    if "failed" not in b:
        print(f"  B DuckDB alone {b['total']:.2f} s, peak {b['peak_gib']:.2f} GiB")
    if "ratio" in e:
        print(f"  A/B {e['ratio']:.2f} (target <= 1.5); counts {e['counts']}")
    for kind, what, key in (
        ("B'", "the kit's per-lead query alone", "validated"),
        ("B''", "the same checks as one hand-written DuckDB query", "checked"),
        ("B+", "B, then the copied-row check alone", "copies"),
    ):
        r = e.get(kind)
        if r and "failed" not in r:
            print(f"  {kind} {what} {r['total']:.2f} s, peak {r['peak_gib']:.2f} GiB")
        if f"ratio_{key}" in e:
            print(f"  A/{kind} {e[f'ratio_{key}']:.2f}; counts {e[f'counts_{key}']}")
    c = e.get("C")
    if c and "failed" not in c:
        km = c.get("kaplan_meier_s", float("nan"))
        print(f"  C read_log {c['read']:.2f} s + fit(mature={MATURE!r}) {c['fit']:.2f} s = "
              f"{c['total']:.2f} s, then Kaplan-Meier {km:.2f} s;"
              f" peak {c['peak_gib']:.2f} GiB")  # fmt: skip
    d = e.get("D")
    if d and "failed" not in d:
        print(f"  D scan {d['scan_s']:.2f} s, per-lead table {d['per_lead_s']:.2f} s "
              f"({d['leads']:,} rows, {d['per_lead_arrow_bytes_per_row']:.0f} B/row in Arrow, "
              f"{d['per_lead_duckdb_file_bytes'] / 2**20:.0f} MiB in DuckDB), per rep "
              f"{d['per_rep_from_per_lead_s']:.2f} s ({d['groups']} rows, "
              f"{d['group_arrow_bytes']:,} B)")  # fmt: skip
    print(f"  Kaplan-Meier: {KM_NOTE}", flush=True)


def _print_table(report: dict) -> None:
    head = (f"{'rows':>12} {'read s':>7} {'fit s':>6} {'total s':>7} {'peak GiB':>8} "
            f"{'DuckDB s':>8} {'A/B':>5} {'B+ s':>6} {'A/B+':>5} {'counts':>8} {'mature s':>8} "
            f"{'mature GiB':>10}")  # fmt: skip
    print("\n" + head)
    for e in report["sizes"]:
        a, b, c = e["A"], e["B"], e.get("C") or {"failed": "-"}
        p = e.get("B+") or {"failed": "-"}

        def f(d, k, w, p=2):
            return f"{d[k]:>{w}.{p}f}" if k in d else f"{'-':>{w}}"

        counts = e.get("counts", "A FAILED" if "failed" in a else "-")
        print(f"{e['log']['rows']:>12,} {f(a, 'read', 7)} {f(a, 'fit', 6)} {f(a, 'total', 7)} "
              f"{f(a, 'peak_gib', 8)} {f(b, 'total', 8)} {f(e, 'ratio', 5)} "
              f"{f(p, 'total', 6)} {f(e, 'ratio_copies', 5)} "
              f"{counts:>8} {f(c, 'total', 8)} {f(c, 'peak_gib', 10)}")  # fmt: skip
    print(f"Kaplan-Meier at every size: {KM_NOTE}")


if __name__ == "__main__":
    main()
