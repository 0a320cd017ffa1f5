"""The pure helpers of ``benchmarks/bench_workshop.py`` (the room's load benchmark, run
by hand): its summary statistics and the "visitors an 8 GB laptop holds" formula; and
the hand-written DuckDB queries ``benchmarks/bench_engine.py`` compares the kit with, on
a small log. The benchmarks themselves (Chromium and some 10 minutes; Parquet files of
1.4 GB) are never run as tests."""

from __future__ import annotations

import doctest
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("bench_workshop")


def test_docstring_examples_run(bench):
    """The benchmarks folder is not collected for doctests: its examples run here."""
    failed, attempted = doctest.testmod(bench, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted >= 5 and failed == 0


@pytest.mark.parametrize("n", [2, 3, 10, 11, 40])
def test_median_and_p90_match_numpy(bench, rng, n):
    """Against numpy's percentiles (linear interpolation, the same definition)."""
    seconds = rng.gamma(2.0, 1.5, size=n)
    summary = bench.summarise_times(seconds)
    assert summary.n == n
    assert summary.median == pytest.approx(np.percentile(seconds, 50), rel=1e-12)
    assert summary.p90 == pytest.approx(np.percentile(seconds, 90), rel=1e-12)
    assert summary.max == seconds.max()


def test_times_of_no_visitor_are_nan(bench):
    summary = bench.summarise_times([])
    assert summary.n == 0 and math.isnan(summary.median) and math.isnan(summary.p90)


@pytest.mark.parametrize(
    ("per_visitor", "idle", "ram", "reserve", "expected"),
    [
        (250, 2000, 8, 2, 16),  # (8192 - 2048 - 2000) / 250 = 16.6
        (256, 2048, 8, 2, 16),  # exactly 16: the last visitor fits
        (257, 2048, 8, 2, 15),
        (200, 1500, 16, 3, 59),  # (16384 - 3072 - 1500) / 200 = 59.06
        (250, 6144, 8, 2, 0),  # the idle server fills what is left
        (250, 7000, 8, 2, 0),  # more than that: still none, never negative
    ],
)
def test_laptop_visitors(bench, per_visitor, idle, ram, reserve, expected):
    assert bench.laptop_visitors(per_visitor, idle, ram_gb=ram, reserve_gb=reserve) == expected


def test_laptop_visitors_refuses_a_non_positive_size(bench):
    with pytest.raises(ValueError, match="per_visitor_mb"):
        bench.laptop_visitors(0, 2000)


@pytest.mark.parametrize(
    ("value", "expected"), [(2000, True), (2200, True), (2201, False), (1800, True), (1799, False)]
)
def test_within_ten_percent_of_idle(bench, value, expected):
    assert bench.within(value, 2000) is expected


def test_make_bench_leaves_the_long_benchmarks_out():
    """``make bench`` runs every bench_*.py but the room (a browser, 10 minutes, 15 GB) and
    the engine's (a 1.4 GB Parquet file, some 20 minutes)."""
    run_all = _load("run_all")
    assert set(run_all.BY_HAND) == {"bench_workshop.py", "bench_engine.py"}
    assert all((BENCHMARKS / name).is_file() for name in run_all.BY_HAND)


@pytest.fixture(scope="module")
def bench_engine():
    return _load("bench_engine")


def test_engine_copies_query_finds_the_copied_row(bench_engine, tmp_path):
    """B+'s copied-row query (``copies_sql``) counts a lead's dial logged twice at one
    time, and nothing in the same log without it; B's counts equal the kit's."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("duckdb")
    import duckdb

    import funnelsim as fs

    times = pd.to_datetime(["2024-01-01 09:00", "2024-01-01 11:00", "2024-01-02 10:00",
                            "2024-01-01 09:30", "2024-01-03 12:00"])  # fmt: skip
    events = pd.DataFrame(
        {"lead": ["a", "a", "a", "b", "b"], "stage": ["dial", "dial", "connect", "dial", "dial"],
         "time": times, "rep": ["r1", "r1", "r1", "r2", "r2"]}
    )  # fmt: skip
    copied = pd.concat([events, events.iloc[[3]]], ignore_index=True)  # b's first dial twice
    clean_path, copied_path = tmp_path / "clean.parquet", tmp_path / "copied.parquet"
    events.to_parquet(clean_path, index=False)
    copied.to_parquet(copied_path, index=False)
    con = duckdb.connect()
    for path, twice in ((clean_path, 0), (copied_path, 1)):
        rows = con.execute(bench_engine.copies_sql(str(path), [0])).fetchall()
        assert len(rows) == twice
    wide = con.execute(bench_engine.stage_counts_sql(str(clean_path))).fetchdf()
    log = fs.read_log(clean_path, format="events", stages=bench_engine.STAGES, engine="duckdb")
    table = log.stage_table(by="rep")
    kit = sorted(
        [str(r.rep), str(r.stage), int(r.entered), int(r.passed), int(r.attempts)]
        for r in table.itertuples()
    )
    assert bench_engine._long(wide) == kit
