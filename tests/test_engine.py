"""Logs read by an engine give the pandas reader's answers, to the last count.

The same events log (attempts, moves back down the funnel, skipped stages, a
lead whose rows name two reps, a file column of numbers, amounts, empty
rows) is read by pandas and by each engine: DuckDB from a Parquet file, a
Parquet dataset folder, a CSV file and a DataFrame; a DuckDB relation; a
Polars LazyFrame; a Dask DataFrame. Every table the engine answers (stage
tables by any group, by week and month, mature tables, the young-lead check,
the fit) must equal pandas' exactly, and a bad log must get the same error
text, or with ``errors="drop"`` the same ``Log.dropped``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import funnelsim as fs
from funnelsim._lead_table import DAY_NS, LeadTable
from funnelsim.logs import mature_stage_table

duckdb = pytest.importorskip("duckdb")
STAGES = ["dial", "connect", "meeting", "proposal", "sale"]
REPS = ["Ann", "Bob", "陈静", "Dai"]


def make_log(seed: int = 7, leads: int = 1500) -> pd.DataFrame:
    """An events log with every shape the readers meet (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2025-01-06 08:00")
    for i in range(leads):
        lead = f"L{i:05d}"
        rep = REPS[rng.integers(len(REPS))]
        region = str(rng.integers(1, 12))
        t = start + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 150)))
        stage = 0
        for _ in range(int(rng.integers(0, 3))):  # extra dials before the first connect
            rows.append((lead, "dial", t, rep, region, np.nan))
            t += pd.Timedelta(hours=float(rng.uniform(1, 60)))
        while True:
            rows.append((lead, STAGES[stage], t, rep, region, np.nan))
            if stage == len(STAGES) - 1 or rng.random() > 0.55:
                break
            t += pd.Timedelta(hours=float(rng.uniform(2, 400)))
            stage += 2 if (stage < 3 and rng.random() < 0.05) else 1  # a skipped stage
        if stage == len(STAGES) - 1:
            rows[-1] = (*rows[-1][:5], float(rng.choice([8000, 20000, 40000])))
        if stage >= 2 and rng.random() < 0.06:  # moved back down, then on again
            t += pd.Timedelta(days=3)
            rows.append((lead, STAGES[stage - 1], t, rep, region, np.nan))
        if rng.random() < 0.03:  # handed to another rep on a later row
            t += pd.Timedelta(hours=5)
            rows.append((lead, STAGES[stage], t, REPS[(REPS.index(rep) + 1) % 4], region, np.nan))
        if rng.random() < 0.02:  # a row without a rep
            t += pd.Timedelta(hours=1)
            rows.append((lead, STAGES[min(stage + 1, 4)], t, None, region, np.nan))
    frame = pd.DataFrame(rows, columns=["lead", "stage", "time", "rep", "region", "amount"])
    frame["time"] = frame["time"].dt.floor("s")  # as a CSV file writes them
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # any row order


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_log()


@pytest.fixture(scope="module")
def files(events: pd.DataFrame, tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("engine")
    parquet = folder / "events.parquet"
    events.to_parquet(parquet, index=False)
    dataset = folder / "dataset"
    dataset.mkdir()
    cuts = np.linspace(0, len(events), 4).astype(int)
    for k in range(3):
        part = events.iloc[cuts[k] : cuts[k + 1]]
        part.to_parquet(dataset / f"part-{k:05d}.parquet", index=False)
    csv = folder / "events.csv"
    with_blank = pd.concat([events.iloc[:10], pd.DataFrame([{}]), events.iloc[10:]])
    with_blank.to_csv(csv, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return {"parquet": parquet, "dataset": dataset, "csv": csv}


# Dask runs in tests/test_engine_servers.py, on a local cluster (slower: kept out of the grid)
ENGINE_SOURCES = ["parquet", "dataset", "csv", "frame", "relation", "polars"]


@pytest.fixture(scope="module")
def reference(events: pd.DataFrame) -> fs.Log:
    log = fs.read_log(events, format="events", stages=STAGES, engine="pandas")
    assert log.engine is None and log.demotions.shape[0] > 20  # the log has moves back
    return log


def open_source(name: str, events: pd.DataFrame, files: dict) -> object:
    if name == "dask":
        dd = pytest.importorskip("dask.dataframe")
        return dd.from_pandas(events, npartitions=3)
    if name == "polars":
        pl = pytest.importorskip("polars")
        return pl.from_pandas(events).lazy()
    if name == "relation":
        return duckdb.connect().from_df(events)
    if name == "frame":
        return events
    return files[name]


@pytest.fixture(scope="module", params=ENGINE_SOURCES)
def engine_log(request, events, files) -> fs.Log:
    source = open_source(request.param, events, files)
    log = fs.read_log(source, format="events", stages=STAGES, engine="duckdb")
    assert log.engine is not None and log.leads is None
    return log


@pytest.mark.parametrize(
    "by", [None, "rep", "region", ["rep", "region"], "week", "month", ["month", "rep"]]
)
def test_stage_tables_equal(engine_log, reference, by):
    expected = reference.stage_table(by=by)
    got = engine_log.stage_table(by=by)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("by", ["rep", ["rep", "region"], "month"])
def test_pooled_table_after_a_grouped_one(events, reference, by):
    """The pooled stage table asked after a grouped one is that one's sum, with no
    query: the pandas reader's, the leads without a rep (26 rows) counted in it."""
    log = fs.read_log(events, format="events", stages=STAGES, engine="duckdb")
    pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))
    log.engine.frame = None  # no query can run now
    pd.testing.assert_frame_equal(log.stage_table(), reference.stage_table())


@pytest.mark.parametrize("quantile", [0.0, 0.05, 0.5, 0.9, 0.999, 1.0])
def test_step_times_by_rank_equal_the_upper_tails(engine_log, quantile, monkeypatch):
    """DuckDB's order statistics by rank (over the engine's leads and the patch's)
    give the same typical times as the upper tails merged, at every quantile."""
    if engine_log.engine.backend != "duckdb":
        pytest.skip("ranks are DuckDB's")
    assert engine_log.engine.patch is not None and len(engine_log.engine.patch) > 10
    as_of = engine_log.as_of.value
    ranked = engine_log.engine.step_times(quantile, as_of)
    monkeypatch.setattr(LeadTable, "_ranked", lambda self, asks: None)
    assert ranked == engine_log.engine.step_times(quantile, as_of)


def test_stage_tables_by_group_kept_by_the_read(events, reference, monkeypatch):
    """The read keeps the regular leads' stage table per group of rep and region (DuckDB
    knows their values): a stage table by either, or both, is its sum, with no query.
    Past CUBE_GROUPS groups it keeps none, and the tables are asked: the same."""
    from funnelsim import engine

    log = fs.read_log(events, format="events", stages=STAGES, engine="duckdb")
    assert log.engine.cube is not None and len(log.engine.patch)  # the patch added in
    log.engine.frame = None  # no query can run now
    for by in ("rep", "region", ["region", "rep"], None):
        pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))
    monkeypatch.setattr(engine, "CUBE_GROUPS", 10)
    log = fs.read_log(events, format="events", stages=STAGES, engine="duckdb")
    assert log.engine.cube is None
    for by in ("rep", ["region", "rep"]):
        pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))


@pytest.mark.parametrize("regular", [0, 1])
def test_young_leads_of_leads_all_read_by_pandas(regular):
    """A step whose leads are all the pandas reader's (reps that change), with no
    regular lead at all or one that stopped before: the same young leads."""
    rows = [("A", "dial", 1, "x"), ("A", "meeting", 2, "y"), ("A", "sale", 4, "y"),
            ("C", "dial", 2, "x"), ("C", "meeting", 5, "z")]  # fmt: skip
    rows += [("B", "dial", 3, "x")] * regular
    frame = pd.DataFrame(rows, columns=["lead", "stage", "days", "rep"])
    frame["time"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(frame.pop("days"), "D")
    stages = ["dial", "meeting", "sale"]
    a = fs.read_log(frame, format="events", stages=stages, engine="pandas")
    b = fs.read_log(frame, format="events", stages=stages, engine="duckdb")
    assert len(b.engine.patch) == 2
    pd.testing.assert_frame_equal(fs.young_leads(b), fs.young_leads(a))


def test_log_figures_equal(engine_log, reference):
    assert repr(engine_log).replace("'events.parquet'", "") != ""
    assert engine_log.engine.n_leads == len(reference.leads)
    assert engine_log.n_rows == reference.n_rows
    assert engine_log.as_of == reference.as_of
    pd.testing.assert_frame_equal(engine_log.skipped, reference.skipped)
    key = ["lead", "time", "row"]
    got = engine_log.demotions.sort_values(key).reset_index(drop=True)
    expected = reference.demotions.sort_values(key).reset_index(drop=True)
    # the row numbers are the source's own: only a file or DataFrame numbers them alike
    pd.testing.assert_frame_equal(got.drop(columns="row"), expected.drop(columns="row"))
    assert engine_log.group_columns == reference.group_columns


@pytest.mark.parametrize("window", ["30D", 12.5, 0])
def test_mature_tables_equal(engine_log, reference, window):
    got = mature_stage_table(engine_log, window, by="rep")
    expected = mature_stage_table(reference, window, by="rep")
    pd.testing.assert_frame_equal(got[0], expected[0])
    assert got[1:] == expected[1:]


def test_young_leads_and_fits_equal(engine_log, reference):
    pd.testing.assert_frame_equal(fs.young_leads(engine_log), fs.young_leads(reference))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in ({}, {"by": "rep"}, {"by": "week", "mature": "45D"}):
            got = fs.fit(engine_log, **kwargs).to_frame()
            pd.testing.assert_frame_equal(got, fs.fit(reference, **kwargs).to_frame())


@pytest.mark.parametrize("stages", [(None, None), ("connect", "proposal")])
def test_cycle_lengths_equal(engine_log, reference, stages):
    start, end = stages
    got = fs.cycle_length(engine_log, start=start, end=end, last=(5, 10))
    expected = fs.cycle_length(reference, start=start, end=end, last=(5, 10))
    pd.testing.assert_frame_equal(got.survival.to_frame(), expected.survival.to_frame())
    pd.testing.assert_frame_equal(got.naive, expected.naive)
    assert (got.leads, got.closed, got.as_of) == (expected.leads, expected.closed, expected.as_of)
    assert repr(got) == repr(expected).replace("'DataFrame'", f"'{engine_log.name}'")


def test_demotions_and_period_checks_equal(engine_log, reference):
    got, expected = fs.demotion_table(engine_log), fs.demotion_table(reference)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    assert len(expected) >= 3
    from funnelsim.overdispersion import history_dispersion

    got, expected = history_dispersion(engine_log), history_dispersion(reference)
    pd.testing.assert_frame_equal(got.table, expected.table)


@pytest.mark.parametrize("analysis", ["time_in_stage", "stale_leads", "won_by", "backtest"])
def test_lead_level_analyses_say_so(engine_log, analysis):
    call = {
        "time_in_stage": lambda log: fs.time_in_stage(log),
        "stale_leads": lambda log: fs.stale_leads(log),
        "won_by": lambda log: fs.won_by(log),
        "backtest": lambda log: fs.backtest(log, horizon="30D"),
    }[analysis]
    with pytest.raises(fs.LogError) as err:
        call(engine_log)
    assert err.value.key == "engine.error.lead_level"
    assert "engine=" in str(err.value)


# ------------------------------------------------------------------ errors
def spoil(events: pd.DataFrame) -> pd.DataFrame:
    """Five kinds of bad row: a copied row, an unknown stage, no lead, no time, a
    time in the future (a year typed wrong)."""
    n = len(events)
    bad = events.reset_index(drop=True)
    bad = pd.concat([bad, bad.iloc[[n // 12]]], ignore_index=True)  # copied row
    bad.loc[n // 5, "stage"] = "sael"
    bad.loc[2 * n // 5, "lead"] = None
    bad.loc[3 * n // 5, "time"] = pd.NaT
    bad.loc[4 * n // 5, "time"] = pd.Timestamp("2099-03-01")
    return bad


@pytest.mark.parametrize("name", ["parquet", "csv", "frame", "polars"])
def test_same_errors(events, tmp_path, name, monkeypatch):
    from funnelsim import _formats, engine

    tomorrow = np.datetime64("2026-12-07T00:00:00", "ns")  # one clock for both readers
    monkeypatch.setattr(_formats, "tomorrow", lambda: tomorrow)
    monkeypatch.setattr(engine, "tomorrow", lambda: tomorrow)
    bad = spoil(events)
    files = {}
    if name == "parquet":
        files["parquet"] = tmp_path / "bad.parquet"
        bad.to_parquet(files["parquet"], index=False)
    if name == "csv":
        files["csv"] = tmp_path / "bad.csv"
        bad.to_csv(files["csv"], index=False, date_format="%Y-%m-%d %H:%M:%S")
    source = open_source(name, bad, files)
    reference = files.get(name, bad)
    with pytest.raises(fs.LogError) as expected:
        fs.read_log(reference, format="events", stages=STAGES, engine="pandas")
    with pytest.raises(fs.LogError) as got:
        fs.read_log(source, format="events", stages=STAGES, engine="duckdb")
    if name in ("parquet", "csv", "frame"):  # named and numbered alike
        assert str(got.value) == str(expected.value)
    problems = [(p.column, p.reason) for p in got.value.values["problems"]]
    assert problems == [(p.column, p.reason) for p in expected.value.values["problems"]]
    assert len(problems) == 5

    kept = fs.read_log(reference, format="events", stages=STAGES, errors="drop", engine="pandas")
    source = open_source(name, bad, files)
    log = fs.read_log(source, format="events", stages=STAGES, errors="drop", engine="duckdb")
    if name in ("parquet", "csv", "frame"):
        pd.testing.assert_frame_equal(log.dropped, kept.dropped)
    assert len(log.dropped) == len(kept.dropped) > 5
    pd.testing.assert_frame_equal(log.stage_table(by="rep"), kept.stage_table(by="rep"))


def test_auto_engine_by_size(files, monkeypatch):
    from funnelsim import engine

    small = fs.read_log(files["parquet"], format="events", stages=STAGES)
    assert small.engine is None  # small files: pandas
    monkeypatch.setattr(engine, "AUTO_BYTES", 1000)
    large = fs.read_log(files["parquet"], format="events", stages=STAGES)
    assert large.engine is not None
    pd.testing.assert_frame_equal(large.stage_table(by="rep"), small.stage_table(by="rep"))


def test_status_column_is_a_clear_error(events):
    frame = events.assign(status="open")
    with pytest.raises(fs.FunnelsimError) as err:
        fs.read_log(frame, format="events", stages=STAGES, engine="duckdb")
    assert err.value.key == "engine.error.status"


def test_file_untouched(files):
    before = files["parquet"].read_bytes()
    log = fs.read_log(files["parquet"], format="events", stages=STAGES, engine="duckdb")
    log.stage_table(by="rep")
    assert files["parquet"].read_bytes() == before


def test_auto_reads_text_dates_with_pandas(events, tmp_path, monkeypatch):
    """A large file whose dates are text only pandas reads (2025年3月5日): engine="auto"
    reads it with pandas rather than refuse it; engine="duckdb" says why it cannot."""
    from funnelsim import engine

    path = tmp_path / "chinese.csv"
    text = events.assign(time=events["time"].dt.strftime("%Y年%m月%d日 %H:%M:%S"))
    text.to_csv(path, index=False)
    monkeypatch.setattr(engine, "AUTO_BYTES", 1000)
    log = fs.read_log(path, format="events", stages=STAGES)
    assert log.engine is None
    reference = fs.read_log(events, format="events", stages=STAGES, engine="pandas")
    pd.testing.assert_frame_equal(log.stage_table(by="rep"), reference.stage_table(by="rep"))
    with pytest.raises(fs.FunnelsimError) as err:
        fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    assert err.value.key == "engine.error.time_text"


def test_rows_of_a_long_csv_are_counted_in_file_order(tmp_path):
    """DuckDB reads a long CSV in parallel; the rows an error names are still the file's."""
    rng = np.random.default_rng(3)
    n = 300_000
    frame = pd.DataFrame(
        {
            "lead": [f"L{i:06d}" for i in range(n)],
            "stage": "dial",
            "time": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 180 * 86_400, n), unit="s"),
        }
    )
    frame.loc[[17, 150_001, 299_998], "stage"] = "dail"
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(fs.LogError) as expected:
        fs.read_log(path, format="events", stages=["dial", "sale"], engine="pandas")
    with pytest.raises(fs.LogError) as got:
        fs.read_log(path, format="events", stages=["dial", "sale"], engine="duckdb")
    assert str(got.value) == str(expected.value)
    assert got.value.values["problems"][0].rows == (19, 150_003, 300_000)


def test_command_line_reads_with_an_engine(files, reference):
    """`funnelsim fit` with --engine duckdb prints pandas' table (the log line aside)."""
    import io

    from funnelsim.cli import main

    outputs = {}
    for engine in ("pandas", "duckdb"):
        out = io.StringIO()
        args = ["fit", str(files["parquet"]), "--stages", ",".join(STAGES), "--by", "rep",
                "--mature", "30", "--engine", engine]  # fmt: skip
        assert main(args, out=out) == 0
        outputs[engine] = out.getvalue().splitlines()
    assert outputs["duckdb"] == outputs["pandas"]
    assert f"{reference.n_leads:,} leads" in outputs["duckdb"][0]


@pytest.mark.parametrize("shape", ["zoned", "dates", "float_labels"])
def test_column_types_read_alike(events, tmp_path, shape):
    """Times with a zone (UTC, as pandas stores them), dates without a time, and group
    labels stored as floats (3.0 is the label "3")."""
    frame = events.copy()
    if shape == "zoned":
        frame["time"] = frame["time"].dt.tz_localize("Asia/Shanghai")
    elif shape == "dates":
        frame["time"] = frame["time"].dt.date
        frame = frame.drop_duplicates(["lead", "stage", "time"])
    else:
        frame["region"] = frame["region"].astype(float)
    path = tmp_path / f"{shape}.parquet"
    frame.to_parquet(path, index=False)
    a = fs.read_log(path, format="events", stages=STAGES, engine="pandas")
    b = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    assert a.as_of == b.as_of
    for by in ("rep", "region"):
        pd.testing.assert_frame_equal(b.stage_table(by=by), a.stage_table(by=by))


@pytest.mark.parametrize(
    "before, after", [(" ", "\u3000"), ("", "\u3000"), ("\xa0", ""), ("", "\t")]
)
@pytest.mark.parametrize("name", ["frame", "polars", "parquet", "relation"])
def test_lead_ids_with_spaces_are_one_lead(events, name, before, after, tmp_path):
    """' L00001' and 'L00001' are one lead to the pandas reader (an ideographic space
    too, a space before or after only): the engine reads such a log again with the ids
    stripped. (DuckDB tries the pattern only on ids whose first or last character
    could be a space: a space after only, or a no-break space before, is found too.)"""
    frame = events.copy()
    some = frame.index[frame["lead"].isin(["L00001", "L00002"])][:3]
    frame.loc[some, "lead"] = before + frame.loc[some, "lead"] + after
    files = {"parquet": tmp_path / "events.parquet"}
    frame.to_parquet(files["parquet"], index=False)
    a = fs.read_log(frame, format="events", stages=STAGES, engine="pandas")
    b = fs.read_log(open_source(name, frame, files), format="events", stages=STAGES,
                    engine="duckdb")  # fmt: skip
    assert b.n_leads == a.n_leads == events["lead"].nunique()
    pd.testing.assert_frame_equal(b.stage_table(by="rep"), a.stage_table(by="rep"))


def test_a_large_log_keeps_its_lead_table_on_disk(events, files, reference, monkeypatch):
    """A large log's lead table goes to a Parquet file, its smaller tables to a database
    file, in the log's temporary folder (a small one's stay in memory): same tables."""
    from funnelsim import _sources

    small = fs.read_log(files["parquet"], format="events", stages=STAGES, engine="duckdb")
    assert small.engine.keep[0].store == "funnelsim_memory."
    monkeypatch.setattr(_sources, "SMALL_ROWS", 1000)
    log = fs.read_log(files["parquet"], format="events", stages=STAGES, engine="duckdb")
    assert len(events) > 1000 and log.engine.keep[0].store == "funnelsim_disk."
    con = log.engine.keep[0].keep[0]
    names = con.execute("SELECT database_name, table_name FROM duckdb_tables()").fetchall()
    assert names and {db for db, _ in names} == {"funnelsim_disk"}
    assert not any("leads" in name for _, name in names)
    folder = Path(log.engine.keep[0].folder)
    assert not list(folder.glob("*.parquet"))  # written on the first question reading it
    log.engine.table()
    assert [p.name.split("_")[1] for p in folder.glob("*.parquet")] == ["leads"]
    for by in (None, "rep", "week"):
        pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))
    pd.testing.assert_frame_equal(fs.young_leads(log), fs.young_leads(reference))
    pd.testing.assert_frame_equal(log.skipped, reference.skipped)
    assert (log.n_rows, log.as_of, log.n_leads) == (
        reference.n_rows,
        reference.as_of,
        reference.n_leads,
    )


@pytest.mark.shared
def test_real_olist_funnel_read_alike(shared_data, tmp_path):
    """Olist's real funnel (8,000 marketing-qualified leads, 842 won deals with their reps)
    as an events log, one row per lead and stage reached: DuckDB's tables equal pandas'."""
    folder = shared_data / "olist_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    merged = mqls.merge(deals, on="mql_id", how="left")
    first = merged.assign(stage="mql", time=pd.to_datetime(merged["first_contact_date"]))
    won = merged.dropna(subset=["won_date"])
    won = won.assign(stage="won", time=pd.to_datetime(won["won_date"]))
    columns = ["mql_id", "stage", "time", "origin", "sr_id"]
    events = pd.concat([first[columns], won[columns]], ignore_index=True)
    events = events.rename(columns={"mql_id": "lead", "origin": "source", "sr_id": "rep"})
    path = tmp_path / "olist_events.parquet"
    events.to_parquet(path, index=False)
    a = fs.read_log(path, format="events", stages=["mql", "won"], engine="pandas")
    b = fs.read_log(path, format="events", stages=["mql", "won"], engine="duckdb")
    assert b.n_leads == a.n_leads == 8000
    for by in ("source", "rep", "month"):
        pd.testing.assert_frame_equal(b.stage_table(by=by), a.stage_table(by=by))
    assert int(b.stage_table()["passed"].iloc[0]) == 842
    got, expected = fs.cycle_length(b), fs.cycle_length(a)
    pd.testing.assert_frame_equal(got.survival.to_frame(), expected.survival.to_frame())
    pd.testing.assert_frame_equal(got.naive, expected.naive)


def _day(*days: str) -> pd.Series:
    return pd.to_datetime(list(days))


#: Small logs an audit found read differently (each now read alike): name -> (source
#: maker, read_log keywords). A maker gets a folder and returns a path or a frame.
AUDIT = {
    "empty stage": lambda d: pd.DataFrame(
        {"lead": ["A", "B"], "stage": ["dial", None], "time": _day("2025-01-01", "2025-01-02")}
    ),
    "negative amount": lambda d: pd.DataFrame(
        {"lead": ["A", "A", "B"], "stage": ["dial", "sale", "dial"],
         "time": _day("2025-01-01", "2025-01-02", "2025-01-03"), "amount": [None, -5.0, None]}
    ),
    "columns named t, closed, a0, n1, c0": lambda d: pd.DataFrame(
        {"lead": ["A", "A", "B"], "stage": ["dial", "sale", "dial"],
         "time": _day("2025-01-01", "2025-01-02", "2025-01-03"), "t": ["x", "x", "y"],
         "closed": ["no", "no", "yes"], "a0": [1, 1, 2], "n1": ["p", "p", "q"],
         "c0": [0.5, 0.5, 1.5]}
    ),
    "year 2300 in a CSV": lambda d: _csv(d, "lead,stage,time\nA,dial,2025-01-01 10:00:00\n"
                                            "B,dial,2300-01-02 10:00:00\n"),
    "lead ids 1 and 1.0 in a CSV": lambda d: _csv(d, "lead,stage,time,tier\n"
                                                     "1,dial,2025-01-01 10:00:00,1.50\n"
                                                     "1.0,dial,2025-01-02 10:00:00,TRUE\n"),
    "repeated header": lambda d: _csv(d, "lead,stage,time,rep,rep\nA,dial,2025-01-01,x,y\n"),
    "header only": lambda d: _csv(d, "lead,stage,time\n"),
    "no rows": lambda d: pd.DataFrame({"lead": [], "stage": [], "time": _day()}),
    "NaN lead": lambda d: pd.DataFrame(
        {"lead": [1.0, 1.0, np.nan], "stage": ["dial", "sale", "dial"],
         "time": _day("2025-01-01", "2025-01-02", "2025-01-03")}
    ),
    "categorical lead with spaces and an empty id": lambda d: pd.DataFrame(
        {"lead": pd.Categorical([" A", "A", ""]), "stage": ["dial", "sale", "dial"],
         "time": _day("2025-01-01", "2025-01-02", "2025-01-03")}
    ),
    # an analyst's audit of real exports (seventh session on #16)
    "an impossible date in a CSV": lambda d: _csv(d, "lead,stage,time\nA,dial,2025-03-03\n"
                                                     "B,dial,2025-02-30 10:00\nC,dial,n/a\n"
                                                     "C,sale,2025-03-04\n"),
    "a row of too few cells after the first 3,000": lambda d: _csv(
        d, "lead,stage,time,rep\n" + _rows(3000) + "C,dial\n" + _rows(10, "M")
    ),
    "a row of too many cells after the first 3,000": lambda d: _csv(
        d, "lead,stage,time,rep\n" + _rows(3000) + "C,dial,2025-03-03 09:00,x,y\n" + _rows(10)
    ),
    "an empty CSV file": lambda d: _csv(d, ""),
    "a time with a zone among times without, the latest": lambda d: _csv(
        d, "lead,stage,time\nA,dial,2025-03-03 09:00\nA,sale,2025-03-04 09:00\n"
           "B,dial,2025-03-09T09:00:00-05:00\nC,dial,2025-03-07 09:00\n"
    ),
    "a time with a zone and spaces after it, among times without": lambda d: _csv(
        d, "lead,stage,time\nA,dial,2025-03-03 09:00\nB,dial,\"2025-03-05T09:00-05:00  \"\n"
           "C,dial,2025-03-07 09:00\n"
    ),
    "a time without a zone among times with one": lambda d: _csv(
        d, "lead,stage,time\nA,dial,2025-03-03T09:00Z\nA,sale,2025-03-04T09:00+08:00\n"
           "B,dial,2025-03-09 09:00\nC,dial,2025-03-07T09:00:00+01:00\n"
    ),
    "a Parquet folder whose parts name the rep differently": lambda d: _parts(
        d, {"rep": "负责人"}
    ),
    "a Parquet folder with a column more in one part": lambda d: _parts(d, {}, amount=5.0),
    "a Parquet folder of parts alike": lambda d: _parts(d, {}),
    "a Parquet file with a repeated column": lambda d: _parquet(
        d, pa.table({"lead": ["A", "B"], "stage": ["dial", "sale"], "time": _day(
            "2025-01-01", "2025-01-02"), "rep": ["x", "y"]}).append_column("rep", pa.array(
                ["p", "q"]))
    ),
    "a Parquet file with spaces around its column names": lambda d: _parquet(
        d, pa.table({"lead ": ["A", "A", "B"], " stage": ["dial", "demo", "dial"],
                     "time ": _day("2025-01-01", "2025-01-02", "2025-01-03"),
                     "region ": ["n", "n", "s"]})
    ),
    "times written as text in a Parquet file": lambda d: _parquet(
        d, pa.table({"lead": ["A", "A", "B", "C", "D"],
                     "stage": ["dial", "sale", "dial", "dial", "dial"],
                     "time": ["2025-03-03 09:00", "2025-03-04 09:00", "2025-02-30 10:00",
                              "2025-03-07 09:00", "2025-03-06T09:00+08:00"]})
    ),
    # the second audit's leftovers (eighth session)
    "a Parquet folder with a README, Spark's marks and an unfinished job's part": lambda d: (
        _stray(_parts(d, {}))
    ),
    "a Parquet folder with a part cut short": lambda d: _cut(_parts(d, {}) / "part-1.parquet"),
    "a Parquet folder with an unknown stage in its second file": lambda d: _parts(
        d, {}, stage=["dial", "dail"]
    ),
    "a Parquet file cut short": lambda d: _cut(_parquet(d, pa.table({"lead": ["A", "B"],
        "stage": ["dial", "sale"], "time": _day("2025-01-01", "2025-01-02")}))),
    # damaged after its footer was written (ninth session): the footer reads, rows do not
    "a Parquet file whose rows are damaged": lambda d: _damage(_parquet(d, pa.table({
        "lead": ["A", "B"], "stage": ["dial", "sale"],
        "time": _day("2025-01-01", "2025-01-02")}))),
    "a Parquet folder with a part whose rows are damaged": lambda d: _damage(
        _parts(d, {}) / "part-1.parquet"
    ),
    # a time 313 years before the rest: DuckDB's durations overflowed int64 (a reviewer's)
    "a time more than 200 years before the rest": lambda d: _parquet(d, pa.table({
        "lead": ["A", "A", "B"], "stage": ["dial", "sale", "dial"],
        "time": _day("1712-10-28", "2025-01-02", "2025-01-06")})),
    "a Parquet folder with a row copied into its second file": lambda d: _parts(
        d, {}, lead=["B", "A"], stage=["dial", "dial"], time=_day("2025-03-05", "2025-03-03")
    ),
    # a reviewer's layouts (eighth session)
    "Hive folders inside a folder whose own path names a column": lambda d: _hive(
        d / "stage=raw" / "events", {"rep=Li": ["A"], "rep=Wang": ["B", "C"]}
    ),
    "Hive folders beside a folder without one": lambda d: _hive(
        d / "events", {"rep=Li": ["A"], "other": ["B"]}
    ),
    "a Hive folder of a missing value": lambda d: _hive(
        d / "events", {"rep=Li": ["A"], "rep=__HIVE_DEFAULT_PARTITION__": ["B"]}
    ),
    "Hive folders of missing values only": lambda d: _hive(
        d / "events", {"rep=__HIVE_DEFAULT_PARTITION__": ["A", "B"]}
    ),
    "Hive folders of months, 9 and 10": lambda d: _hive(
        d / "events", {"month=9": ["A"], "month=10": ["B", "C"], "month=09": ["D"]}
    ),
    "a Hive folder naming a column of its files": lambda d: _hive(
        d / "events", {"stage=dial": ["A"]}
    ),
    "a Parquet folder whose first part has a column of no value": lambda d: _parts(
        d, {}, region=["n", "s"], first={"region": None}
    ),
    "a Parquet file of a pandas index": lambda d: _indexed(d, None),
    "a Parquet file of a named pandas index (the leads)": lambda d: _indexed(d, "lead"),
    "copied rows of two leads": lambda d: pd.DataFrame(
        {"lead": ["A", "B", "A", "B", "C"], "stage": ["dial"] * 5,
         "time": _day("2025-01-01", "2025-01-02", "2025-01-01", "2025-01-02", "2025-01-03")}
    ),
}  # fmt: skip


def _rows(n: int, prefix: str = "L") -> str:
    """``n`` CSV rows of one dial each (lead, stage, time, rep)."""
    return "".join(f"{prefix}{i},dial,2025-03-03 09:{i % 60:02d},x\n" for i in range(n))


def _parquet(folder, table):
    path = folder / "audit.parquet"
    pq.write_table(table, path)
    return path


def _parts(folder, renamed: dict, **extra):
    """A Parquet folder of two parts, the second with its columns ``renamed`` and
    ``extra`` ones."""
    frame = pd.DataFrame({"lead": ["A", "A", "B", "C"], "stage": ["dial", "sale", "dial", "dial"],
                          "time": _day("2025-03-03", "2025-03-04", "2025-03-05", "2025-03-07"),
                          "rep": ["Li", "Li", "Li", "Wang"]})  # fmt: skip
    out = folder / "exports"
    out.mkdir()
    first = extra.pop("first", {})
    frame.iloc[:2].assign(**first).to_parquet(out / "part-0.parquet")
    frame.iloc[2:].rename(columns=renamed).assign(**extra).to_parquet(out / "part-1.parquet")
    return out


def _hive(folder, parts: dict):
    """A Parquet folder of Hive folders (``rep=Li``...), each of one file of ``parts``'
    leads (a dial and a sale each, days apart)."""
    for sub, leads in parts.items():
        (folder / sub).mkdir(parents=True)
        times = _day(*["2025-03-03", "2025-03-05"] * len(leads))
        rows = pd.DataFrame({"lead": [x for x in leads for _ in (0, 1)],
                             "stage": ["dial", "sale"] * len(leads), "time": times})  # fmt: skip
        rows.to_parquet(folder / sub / "part-0.parquet", index=False)
    return folder


def _indexed(folder, index: str | None):
    """A Parquet file written from a frame's rows picked out (its index not a range:
    pandas stores it as a column), or indexed by the leads (a named index)."""
    times = _day("2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07")
    frame = pd.DataFrame({"lead": ["A", "A", "B", "B", "C"],
                          "stage": ["dial", "sale", "dial", "sale", "dial"], "time": times,
                          "rep": ["Li", "Li", "Wang", "Wang", "Li"]})  # fmt: skip
    frame.index = [5, 8, 13, 21, 34]  # rows picked out of a larger frame: not a range
    path = folder / "indexed.parquet"
    (frame.set_index(index) if index else frame).to_parquet(path)
    return path


def _starred(folder):
    """A Parquet folder with files a*.parquet and ab.parquet (DuckDB reads a name as a
    pattern)."""
    out = folder / "starred"
    out.mkdir()
    for name, lead in (("a*.parquet", "A"), ("ab.parquet", "B")):
        pd.DataFrame({"lead": [lead], "stage": ["dial"], "time": _day("2025-03-03")}).to_parquet(
            out / name, index=False
        )
    return out


def _stray(folder):
    """``folder`` with the files a Parquet export's folder gathers besides its parts: a
    note, Spark's ``_SUCCESS`` and checksum, and an unfinished job's part (of a lead Z
    whose rows would be an error: copied)."""
    (folder / "README.txt").write_text("exported from the CRM\n", encoding="utf-8")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-0.parquet.crc").write_bytes(b"crc")
    (folder / "_temporary" / "0").mkdir(parents=True)
    copied = _day("2025-03-03", "2025-03-03")
    unfinished = pd.DataFrame(
        {"lead": ["Z", "Z"], "stage": ["dial", "dial"], "time": copied, "rep": ["Li", "Li"]}
    )
    unfinished.to_parquet(folder / "_temporary" / "0" / "part-9.parquet")
    return folder


def _cut(path):
    """The Parquet file ``path`` cut to half its bytes (its footer lost), as a copy or
    download that stopped leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path.parent if path.name.startswith("part-") else path


def _damage(path):
    """The Parquet file ``path`` with its first data page overwritten by zeros, its footer
    intact (a copy damaged on its way: the footer reads, the rows do not)."""
    data = bytearray(path.read_bytes())
    data[4:40] = bytes(36)
    path.write_bytes(bytes(data))
    return path.parent if path.name.startswith("part-") else path


def _csv(folder, text: str):
    path = folder / "audit.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _read_alike(source, stages: list[str], errors: str) -> None:
    """Both readers give the same error, or the same leads, rows, dropped rows, stage
    tables and moves back."""
    outcomes = []
    for engine in ("pandas", "duckdb"):
        try:
            log = fs.read_log(source, format="events", stages=stages, errors=errors,
                              engine=engine)  # fmt: skip
        except fs.FunnelsimError as err:
            outcomes.append(("error", err.key, str(err)))
            continue
        tables = [log.stage_table(by=by) for by in [None, *log.group_columns]]
        moves = log.demotions.sort_values(["lead", "time"]).reset_index(drop=True)
        outcomes.append(("log", log.n_leads, log.n_rows, log.dropped, tables, moves, log.skipped))
    expected, got = outcomes
    assert got[:3] == expected[:3]
    if expected[0] == "log":
        pd.testing.assert_frame_equal(got[3], expected[3])
        pd.testing.assert_frame_equal(got[6], expected[6])
        for a, b in zip(got[4], expected[4], strict=True):
            pd.testing.assert_frame_equal(a, b)
        pd.testing.assert_frame_equal(got[5], expected[5], check_dtype=False)


@pytest.mark.parametrize("errors", ["raise", "drop"])
@pytest.mark.parametrize("case", list(AUDIT))
def test_audited_logs_read_alike(case, errors, tmp_path):
    _read_alike(AUDIT[case](tmp_path), ["dial", "sale"], errors)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_one_line_of_several_rows_says_whose_reason_it_shows(engine):
    """Copied rows of two leads are one line of the error; its reason is the first row's
    (lead A's), and the line says which row that is, in both languages."""
    _says(AUDIT["copied rows of two leads"](None), engine, {
        "en": "- column 'stage', rows 4, 5 (2 rows); row 4: lead 'A' reaches 'dial' again",
        "zh": "- 列 'stage'，第 4, 5 行（共 2 行）；其中第 4 行：线索 'A' 在同一时间",
    })  # fmt: skip


def _says(source, engine: str, expected: dict[str, str]) -> fs.LogError:
    """The LogError reading ``source`` (stages dial, sale) gives, its text holding
    ``expected[lang]`` in each language; the last one."""
    for lang, text in expected.items():
        with fs.language(lang), pytest.raises(fs.LogError) as info:
            fs.read_log(source, format="events", stages=["dial", "sale"], engine=engine)
        assert text in str(info.value), str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("case", "key", "values"),
    [
        ("an impossible date in a CSV", "log.error.title", {}),
        ("a row of too few cells after the first 3,000", "log.error.short_row",
         {"row": 3002, "cells": 2, "header": 4, "count": 1}),
        ("a row of too many cells after the first 3,000", "log.error.ragged",
         {"row": 3002, "cells": 5, "header": 4}),
        ("an empty CSV file", "log.error.empty", {}),
        ("a time with a zone among times without, the latest", "log.error.title", {}),
        ("a Parquet folder whose parts name the rep differently", "log.error.parts_columns",
         {"part": "part-1.parquet", "extra": "'负责人'", "first": "part-0.parquet",
          "missing": "'rep'"}),
        ("a Parquet folder with a column more in one part", "log.error.parts_columns",
         {"extra": "'amount'", "missing": "none"}),
        ("a Parquet file with a repeated column", "log.error.duplicate_column",
         {"column": "'rep'", "first": 4, "second": 5}),
        ("a Parquet folder with a part cut short", "log.error.bad_part",
         {"part": "part-1.parquet", "name": "exports"}),
        ("a Parquet file cut short", "log.error.unreadable", {"kind": "Parquet"}),
        ("a Parquet folder with a part whose rows are damaged", "log.error.bad_part",
         {"part": "part-1.parquet", "name": "exports"}),
        ("a Parquet file whose rows are damaged", "log.error.unreadable", {"kind": "Parquet"}),
        ("a Hive folder naming a column of its files", "log.error.hive_column",
         {"column": "'stage'", "name": "events"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_audited_files_get_the_readers_error(case, key, values, engine, tmp_path):
    """Each audited file that the readers refuse gets the kit's error, the same from
    both (never DuckDB's or pyarrow's own), with the row, the cells or the part."""
    with pytest.raises(fs.LogError) as info:
        fs.read_log(AUDIT[case](tmp_path), format="events", stages=["dial", "sale"],
                    engine=engine)  # fmt: skip
    assert info.value.key == key, str(info.value)
    assert {k: info.value.values[k] for k in values} == values


def test_an_impossible_date_is_named_by_both_readers(tmp_path):
    """DuckDB (2.0) fails a TRY_CAST of a bare CSV column, which it moves into the CSV
    reader (naming another column); the kit casts the trimmed cell, and the date is a
    problem of its row, as the pandas reader says."""
    path = AUDIT["an impossible date in a CSV"](tmp_path)
    with pytest.raises(fs.LogError) as info:
        fs.read_log(path, format="events", stages=["dial", "sale"], engine="duckdb")
    [problem] = info.value.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == (
        "time",
        (3, 4),
        "log.reason.bad_date",
    )
    log = fs.read_log(path, format="events", stages=["dial", "sale"], engine="duckdb",
                      errors="drop")  # fmt: skip
    assert log.n_leads == 1 and sorted(log.dropped["row"]) == [3, 4, 5]
    # the cast alone on the CSV's relation (the read's queries also look at the raw
    # cell, which keeps DuckDB from moving the cast; a query of the cast alone does not)
    import duckdb

    from funnelsim._sources import duckdb_nanoseconds

    relation = duckdb.connect().read_csv(str(path), all_varchar=True)
    cast = duckdb_nanoseconds('"time"', "VARCHAR", text=True)
    assert relation.select(f"{cast} AS t").fetchall()[1:3] == [(None,), (None,)]


def test_spaces_around_parquet_column_names_are_dropped(tmp_path):
    """Parquet names with spaces around them are read stripped, as pandas reads them:
    the dropped rows name the column without its spaces, and ``by=`` finds it."""
    path = AUDIT["a Parquet file with spaces around its column names"](tmp_path)
    log = fs.read_log(path, format="events", stages=["dial", "sale"], engine="duckdb",
                      errors="drop")  # fmt: skip
    assert set(log.dropped["column"]) == {"lead", "stage"}
    assert list(log.stage_table(by="region")["region"]) == ["s"]


#: Leads with several rows at a stage (the engine compares the latest row of the first
#: stage in its pass over leads, of a later stage in its pass over those leads' rows)
REPEATED = {
    "a dial after the meeting": (["dial", "meeting", "dial", "sale"], [1, 2, 3, 4]),
    "a second meeting after the sale": (["dial", "meeting", "sale", "meeting"], [1, 2, 3, 4]),
    "a second meeting before the sale": (["dial", "meeting", "meeting", "sale"], [1, 2, 3, 4]),
    "dial attempts, then a meeting": (["dial", "dial", "dial", "meeting"], [1, 2, 3, 4]),
    "a copied meeting": (["dial", "meeting", "meeting", "sale"], [1, 2, 2, 4]),
    "a copied dial": (["dial", "dial", "meeting"], [1, 1, 2]),
    "a copied dial, the meeting skipped": (["dial", "dial", "sale"], [1, 1, 3]),
    "a second meeting after the sale, the dial skipped": (
        ["meeting", "sale", "meeting"],
        [1, 2, 3],
    ),
}


@pytest.mark.parametrize("errors", ["raise", "drop"])
@pytest.mark.parametrize("case", list(REPEATED))
def test_repeated_stages_read_alike(case, errors):
    stages, days = REPEATED[case]
    regular = pd.DataFrame(  # a lead of one row per stage beside it
        {"lead": "B", "stage": ["dial", "meeting", "sale"], "days": [1, 5, 9]}
    )
    frame = pd.concat([pd.DataFrame({"lead": "A", "stage": stages, "days": days}), regular])
    frame["time"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(frame.pop("days"), "D")
    frame["rep"] = "x"
    _read_alike(frame.reset_index(drop=True), ["dial", "meeting", "sale"], errors)


@pytest.mark.parametrize(("stages", "dials"), [(6, 1021), (6, 1024), (6, 1500), (9, 300)])
def test_more_attempts_than_a_packed_count_holds(stages, dials):
    """DuckDB sums a lead's rows at its stages in one number, a field of 63 // stages
    bits each (10 bits, 1,023 rows, for 6 stages): a lead of more rows at a stage has
    counts that add up to fewer than its rows, and is read by the pandas reader. A
    longer funnel has a count per stage."""
    from funnelsim.engine import PACKED_STAGES

    names = [f"s{k}" for k in range(stages)]
    many = pd.DataFrame({"lead": "A", "stage": ["s0"] * dials + ["s1", "s2"]})
    many["time"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(dials + 2), "min")
    hours = pd.to_timedelta(range(stages), "h")
    other = pd.DataFrame({"lead": "B", "stage": names, "time": pd.Timestamp("2025-01-01") + hours})
    frame = pd.concat([many, other], ignore_index=True)
    _read_alike(frame, names, "raise")
    log = fs.read_log(frame, format="events", stages=names, engine="duckdb")
    assert log.stage_table()["attempts"].iloc[0] == dials + 1
    packed = stages <= PACKED_STAGES
    assert (log.engine.patch is not None) == (packed and dials > 1023)  # past a field


def test_hive_partitioned_folder(tmp_path):
    folder = tmp_path / "hive" / "region=east"
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"lead": ["A", "B"], "stage": ["dial", "sale"],
                          "time": _day("2025-01-01", "2025-01-02")})  # fmt: skip
    frame.to_parquet(folder / "part-0.parquet", index=False)
    a = fs.read_log(tmp_path / "hive", format="events", stages=["dial", "sale"], engine="pandas")
    b = fs.read_log(tmp_path / "hive", format="events", stages=["dial", "sale"], engine="duckdb")
    assert b.group_columns == a.group_columns == ["region"]
    pd.testing.assert_frame_equal(b.stage_table(by="region"), a.stage_table(by="region"))


def test_open_leads_grouped_by_event_times_give_the_same_curve():
    """Kaplan-Meier from the engine's grouping of open leads (by the latest close time at
    or below theirs) equals the one from every lead's own time: open leads tied with a
    close time, below the first, between two, beyond the last, tied at the longest, and
    times a nanosecond apart (which the division by a day cannot tell apart)."""
    day = 86_400 * 10**9
    as_of = pd.Timestamp("2025-03-01")
    rows = []
    closes = {"c1": 3 * day, "c2": 3 * day, "c3": 10 * day, "c4": 10 * day + 1, "c5": 20 * day}
    for lead, took in closes.items():
        start = as_of - pd.Timedelta(40, "D")
        rows += [(lead, "dial", start), (lead, "sale", start + pd.Timedelta(took, "ns"))]
    waits = [1 * day, 3 * day, 3 * day, 5 * day, 10 * day, 10 * day + 1, 10 * day - 1, 15 * day,
             25 * day, 30 * day, 30 * day]  # fmt: skip
    for n, waited in enumerate(waits):
        rows.append((f"o{n}", "dial", as_of - pd.Timedelta(waited, "ns")))
    frame = pd.DataFrame(rows, columns=["lead", "stage", "time"])
    stages = ["dial", "sale"]
    expected = fs.read_log(frame, format="events", stages=stages, as_of=as_of, engine="pandas")
    got = fs.read_log(frame, format="events", stages=stages, as_of=as_of, engine="duckdb")
    grouped, _ = got.engine.cycle_inputs(0, 1, as_of.value)
    assert grouped["leads"].sum() == len(closes) + len(waits)
    assert len(grouped) < len(set(closes.values()) | set(waits)) + 2  # grouped, not one each
    a, b = fs.cycle_length(got), fs.cycle_length(expected)
    pd.testing.assert_frame_equal(a.survival.to_frame(), b.survival.to_frame())
    assert (a.survival.max_time, a.survival.n, a.leads, a.closed) == (
        b.survival.max_time,
        b.survival.n,
        b.leads,
        b.closed,
    )


def test_awkward_names_and_many_stages_read_alike():
    """A user's DuckDB connection with a table named ``t``, a time column whose name has
    a double quote, and a funnel of 130 stages: read as pandas reads them."""
    import duckdb

    frame = pd.DataFrame({"lead": ["A", "A", "B"], "stage": ["dial", "sale", "dial"],
                          "time": _day("2025-01-01", "2025-01-03", "2025-01-02")})  # fmt: skip
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE events AS SELECT * FROM frame; CREATE TABLE t AS SELECT 1 AS x")
    log = fs.read_log(con.table("events"), format="events", stages=["dial", "sale"])
    assert log.n_leads == 2 and log.stage_table()["passed"].tolist() == [1]
    quoted = frame.rename(columns={"time": 'when "utc"'})
    for engine in ("pandas", "duckdb"):
        log = fs.read_log(quoted, format="events", stages=["dial", "sale"], engine=engine,
                          columns={"time": 'when "utc"'})  # fmt: skip
        assert (log.n_leads, log.as_of) == (2, pd.Timestamp("2025-01-03"))
    stages = [f"s{i}" for i in range(130)]
    many = pd.DataFrame({"lead": ["A"] * 130, "stage": stages,
                         "time": pd.date_range("2025-01-01", periods=130, freq="h")})  # fmt: skip
    got = fs.read_log(many, format="events", stages=stages, engine="duckdb")
    expected = fs.read_log(many, format="events", stages=stages, engine="pandas")
    pd.testing.assert_frame_equal(got.stage_table(), expected.stage_table())


@pytest.mark.parametrize(
    ("hashed", "bits"),
    [
        ("hash({c})", {32}),  # no two values share the upper half: it is the key
        ("(hash({c}) & 4294967295)", {64}),  # all share it: the whole hash is
        ("0::UBIGINT", set()),  # every value hashed alike: the text is compared
    ],
)
def test_group_values_share_no_key_or_are_compared_as_text(
    events, reference, monkeypatch, hashed, bits
):
    """Group values are compared by a key (the upper half of their hash, or all of it)
    only after checking that no two values of the column share one; with stand-ins for
    collisions, the next key is taken, or the text is compared, and the answers (the
    reps that change among them) stay the pandas reader's."""
    from funnelsim import engine
    from funnelsim._sources import sql_name

    seen, key_of = [], engine._key_of
    monkeypatch.setattr(engine, "_hash_of", lambda c: hashed.format(c=sql_name(c)))
    monkeypatch.setattr(engine, "_key_of", lambda c, b: seen.append(b) or key_of(c, b))
    log = fs.read_log(events, format="events", stages=STAGES, engine="duckdb")
    for by in ("rep", "region"):
        pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))
    assert log.engine.patch is not None and len(log.engine.patch)  # the reps that change
    assert set(seen) == bits  # the key of rep's and region's values


def test_rows_that_share_a_hash_are_read_by_pandas(events, reference, monkeypatch):
    """Copied rows are looked for by a hash of lead, stage and time: with every row
    hashed alike (a stand-in for a collision), the leads of the rows sharing it are
    read by the pandas reader, and every answer stays the same."""
    from funnelsim import engine

    alone = fs.read_log(events, format="events", stages=STAGES, engine="duckdb")
    monkeypatch.setattr(engine, "_key_hash", lambda columns: "0::UBIGINT")
    log = fs.read_log(events, format="events", stages=STAGES, engine="duckdb")
    for by in (None, "rep", "region"):
        pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))
    assert log.n_rows == reference.n_rows and log.n_leads == reference.n_leads
    assert len(log.engine.patch) > 2 * len(alone.engine.patch)  # the leads that share it


def test_a_parquet_log_writes_its_lead_table_on_the_first_question_needing_it(tmp_path):
    """A Parquet file's read keeps the stage tables per group and the young-lead summary,
    not the lead table: a fit by its group columns (the young-lead check included)
    writes none; the first question that reads the leads writes it, once."""
    from funnelsim._lead_table import Deferred

    frame = _young_log(1, 0.0)  # no copied rows (the read's summary counts them)
    frame["region"] = np.where(frame.index % 3, "north", "south")
    reference = fs.read_log(frame, format="events", stages=STAGES, engine="pandas")
    path = tmp_path / "events.parquet"
    frame.to_parquet(path, index=False)
    log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    assert isinstance(log.engine.frame, Deferred) and log.engine.young is not None
    for by in ("rep", ["rep", "region"]):
        got = fs.fit(log, by=by).to_frame()
        pd.testing.assert_frame_equal(got, fs.fit(reference, by=by).to_frame())
    assert isinstance(log.engine.frame, Deferred)  # asked of what the read kept
    pd.testing.assert_frame_equal(fs.young_leads(log), fs.young_leads(reference))
    written = log.engine.frame
    assert not isinstance(written, Deferred)
    pd.testing.assert_frame_equal(log.stage_table(by="week"), reference.stage_table(by="week"))
    assert log.engine.frame is written  # not written twice


def test_a_file_changed_after_the_read_is_a_clear_error(events, tmp_path):
    """The lead table is computed from the file on the first question that needs it: a
    file changed or removed since the read is an error naming it, not other answers."""
    path = tmp_path / "events.parquet"
    events.to_parquet(path, index=False)
    log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    gone = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    events.iloc[:-50].to_parquet(path, index=False)
    with pytest.raises(fs.LogError) as err:
        fs.cycle_length(log)
    assert err.value.key == "engine.error.changed" and str(path) in str(err.value)
    path.unlink()
    with pytest.raises(fs.LogError, match=r"events\.parquet") as err:
        gone.stage_table(by="week")
    assert err.value.key == "engine.error.removed"  # said as it is, not "changed"


def test_a_file_edited_to_its_size_and_time_is_still_changed(events, tmp_path):
    """Another export copied over the file keeping its size and time (``cp -p``,
    ``touch -r``: here its footer's bytes differ) is caught by the hash of the file's
    end; renaming it away and back or changing its mode is no change (the removed
    file's message asks to put it back)."""
    path = tmp_path / "events.parquet"
    events.to_parquet(path, index=False)
    log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    path.rename(tmp_path / "away.parquet")
    with pytest.raises(fs.LogError) as err:
        log.stage_table(by="week")
    assert err.value.key == "engine.error.removed"
    (tmp_path / "away.parquet").rename(path)  # put back, as the message asks
    os.chmod(path, 0o600)
    week = log.stage_table(by="week")  # the lead table written: the file is the same
    assert week["entered"].sum() > 0
    log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # one byte of its footer changed
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.raises(fs.LogError) as err:
        fs.cycle_length(log)
    assert err.value.key == "engine.error.changed"


def _young_log(seed: int, recent: float) -> pd.DataFrame:
    """A log taken on day 200: leads over those days, a step taking 1 to 10 days;
    ``recent``: the share of leads that started in its last ten days (young when many)."""
    rng = np.random.default_rng(seed)
    n, day0 = 3000, pd.Timestamp("2025-01-01")
    start = rng.uniform(0, 200, n)
    start = np.where(rng.random(n) < recent, rng.uniform(190, 200, n), start)
    rows = []
    for i in range(n):
        t = start[i]
        for k, stage in enumerate(STAGES):
            rows.append((f"L{i}", stage, day0 + pd.Timedelta(days=float(t)), REPS[i % 4]))
            t += rng.uniform(1, 10) if k else rng.uniform(0.1, 3)
            if rng.random() > 0.5 or t > 200:
                break
    if seed % 2:  # a lead that moved back: read by pandas, in the summary's patch
        day = day0 + pd.Timedelta(days=100)
        rows += [("X", "dial", day, "Ann"), ("X", "connect", day + pd.Timedelta(hours=1), "Ann")]
        rows.append(("X", "dial", day + pd.Timedelta(days=1), "Ann"))
    return pd.DataFrame(rows, columns=["lead", "stage", "time", "rep"])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("recent", [0.0, 0.05, 0.3])
def test_young_lead_summary_bounds_the_check(seed, recent, tmp_path):
    """What the read keeps for the young-lead check bounds its figures: the entered
    leads equal, the young ones at most, the typical time below; so a fit that finds no
    step flagged from it is right, and one that cannot tell asks the table."""
    frame = _young_log(seed, recent)
    path = tmp_path / "young.parquet"
    frame.to_parquet(path, index=False)
    log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
    as_of = pd.Timestamp(log.as_of).as_unit("ns").value
    bounds = log.engine.young_bounds(0.9, as_of)
    exact = fs.young_leads(log)
    assert bounds is not None and len(bounds) == len(exact)
    if seed % 2:
        assert log.engine.patch is not None and len(log.engine.patch)
    for (entered, young, above), row in zip(bounds, exact.itertuples(), strict=True):
        assert entered == row.entered and row.young <= young
        if row.passed:
            assert row.typical_time * DAY_NS < above
    cleared = log.engine.young_cleared(0.9, as_of, 0.10)
    assert cleared == all(young <= 0.10 * n for n, young, _ in bounds)
    if cleared:
        assert not exact["flagged"].any()
    if recent == 0.0:
        assert cleared  # a tight enough bound: the common case asks nothing
    if recent == 0.3:
        assert exact["flagged"].any() and not cleared
        again = fs.read_log(path, format="events", stages=STAGES, engine="duckdb")
        with pytest.warns(fs.YoungLeadsWarning):  # the fit asks the table, and warns
            fs.fit(again, by="rep")
    assert log.engine.young_bounds(0.9, as_of + 1) is None  # another as_of: not known


def _footer_cases(events: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Parquet logs whose as-of figures the files' footers give (or cannot give)."""
    rng = np.random.default_rng(3)
    ordered = events.sort_values("time", ignore_index=True)
    missing = events.copy()
    missing.loc[rng.choice(len(events), 40, replace=False), "time"] = pd.NaT
    far = ordered.copy()  # a slip: one time long after the rest, before tomorrow
    far.loc[len(far) - 1, "time"] = pd.Timestamp.now().floor("D") - pd.Timedelta(days=3)
    nanos = events.copy()
    nanos["time"] += pd.to_timedelta(rng.integers(0, 10**9, len(events)), unit="ns")
    zoned = events.copy()
    zoned["time"] = zoned["time"].dt.tz_localize("Asia/Shanghai")
    future = ordered.copy()
    future.loc[5, "time"] = pd.Timestamp.now() + pd.Timedelta(days=400)
    latest = ordered.iloc[: len(ordered) // 60 * 60].copy()  # row groups of 60 rows,
    latest.loc[latest.index[-55:], "time"] = pd.NaT  # the last holding 5 times
    small = {"row_group_size": 97}  # many row groups: the latest times in a few
    return {
        "in time order": (ordered, small),
        "in no order": (events, small),
        "missing times": (missing, small),
        "a far time": (far, small),
        "nanoseconds": (nanos, small),
        "with a zone": (zoned, small),
        "no statistics": (ordered, {**small, "write_statistics": False}),
        "no times among the latest": (latest, {"row_group_size": 60}),
        "one row group": (events, {}),
        "a time after tomorrow": (future, small),
    }


@pytest.mark.parametrize(
    "case",
    ["in time order", "in no order", "missing times", "a far time", "nanoseconds",
     "with a zone", "no statistics", "no times among the latest", "one row group",
     "a time after tomorrow", "folder"],
)  # fmt: skip
def test_footer_times_equal_the_pass(events, case, tmp_path, monkeypatch):
    """A Parquet log's as-of figures from its files' footers (earliest, latest and
    known times, the 11 latest) equal the pass over its times, and the log read equals
    the pandas reader's; a time after tomorrow is left to the pass."""
    from funnelsim import engine

    frame, options = _footer_cases(events)["in no order" if case == "folder" else case]
    if case == "folder":  # two files, one holding the latest times
        path = tmp_path / "parts"
        path.mkdir()
        ordered = frame.sort_values("time", ignore_index=True)
        for k, part in enumerate(
            [ordered.iloc[len(ordered) // 2 :], ordered.iloc[: len(ordered) // 2]]
        ):
            part.to_parquet(path / f"part-{k}.parquet", index=False, row_group_size=97)
    else:
        path = tmp_path / "events.parquet"
        frame.to_parquet(path, index=False, **options)
    found = []
    footer_times = engine.footer_times

    def spy(table, column, future):
        out = footer_times(table, column, future)
        known = f"FILTER (WHERE t <= {future})"
        sql = f"SELECT max(t), count(t) {known}, min(t) {known}, max(t, 11) {known} FROM r"
        native = engine.nw.to_native(table.frame).query("r", "SELECT __ns_time AS t FROM r")
        last, n, first, top = native.query("r", sql).fetchall()[0]
        found.append((out, {"last": last, "known": n, "first": first}, sorted(top or [])))
        return out

    monkeypatch.setattr(engine, "footer_times", spy)
    log = fs.read_log(path, format="events", stages=STAGES, engine="duckdb", errors="drop")
    ((out, stats, top),) = found
    if case == "a time after tomorrow":
        assert out is None
    else:
        assert out is not None and out[0] == stats and sorted(out[1]) == top and len(top) == 11
    pandas = fs.read_log(frame, format="events", stages=STAGES, engine="pandas", errors="drop")
    assert log.as_of == pandas.as_of and log.n_leads == pandas.n_leads
    clock = {"reason": {r"clock says [^)]*": ""}}  # read a moment apart
    # (a folder's rows: with their files too, which the DataFrame has not)
    dropped = [x.dropped[["row", "column", "reason"]].replace(clock, regex=True)
               for x in (log, pandas)]  # fmt: skip
    pd.testing.assert_frame_equal(*dropped)
    pd.testing.assert_frame_equal(log.stage_table(by="rep"), pandas.stage_table(by="rep"))


@pytest.mark.parametrize("content", [b"", b"lead,stage,time\n", b"PAR1" + b"\0" * 40])
def test_a_file_that_is_not_parquet_is_a_clear_error(tmp_path, content):
    """A ``.parquet`` file that cannot be opened (empty, text, a broken footer) gets the
    same error, naming the file, from both readers (DuckDB's read error before)."""
    path = tmp_path / "events.parquet"
    path.write_bytes(content)
    said = []
    for engine in ("pandas", "duckdb"):
        with pytest.raises(fs.LogError) as err:
            fs.read_log(path, format="events", stages=STAGES, engine=engine)
        said.append(str(err.value))
        assert err.value.key == "log.error.unreadable" and "events.parquet" in str(err.value)
    assert said[0] == said[1]


def test_packed_counts_sum_wraps_where_duckdb_can():
    """The packed stage counts use DuckDB's wrapping 64-bit sum where it has one (a real
    connection), the 128-bit ``sum`` where it has not (a DuckDB that refuses the name)."""
    from funnelsim.engine import wrapping_sum

    class Older:
        def execute(self, sql):
            raise duckdb.CatalogException(f"Catalog Error: no function in {sql}")

    assert wrapping_sum(duckdb.connect()) is True
    assert wrapping_sum(Older()) is False


def test_a_workbook_asked_of_duckdb_says_to_read_it_with_pandas(tmp_path):
    """DuckDB reads Parquet and CSV: a workbook given to it is named as one (not DuckDB's
    "Error when sniffing file"), and the default engine reads it with pandas."""
    path = tmp_path / "team.xlsx"
    pd.DataFrame({"lead": ["A"], "stage": ["dial"], "time": _day("2025-01-01")}).to_excel(
        path, index=False
    )
    with pytest.raises(fs.LogError) as info:
        fs.read_log(path, format="events", stages=["dial", "sale"], engine="duckdb")
    assert info.value.key == "engine.error.workbook" and "team.xlsx" in str(info.value)
    assert fs.read_log(path, format="events", stages=["dial", "sale"]).n_leads == 1


def test_a_gb18030_csv_asked_of_duckdb_names_its_encoding(tmp_path):
    """DuckDB reads UTF-8 only: a Chinese export in GB18030 given to it is named as not
    UTF-8 (not DuckDB's "CSV Error on Line: 1"), and the default engine reads it."""
    path = tmp_path / "线索.csv"
    path.write_bytes("lead,stage,time\nA,拨打,2025-01-01\n".encode("gb18030"))
    with pytest.raises(fs.LogError) as info:
        fs.read_log(path, format="events", stages=["拨打", "成交"], engine="duckdb")
    assert info.value.key == "engine.error.not_utf8" and "线索.csv" in str(info.value)
    assert fs.read_log(path, format="events", stages=["拨打", "成交"]).n_leads == 1


def test_a_users_duckdb_relation_of_csv_text_names_an_impossible_date(tmp_path):
    """A relation of a user's own DuckDB connection over a CSV (the kit does not change
    that connection's settings): an impossible date is its row's problem, not DuckDB's
    conversion error from a TRY_CAST moved into the CSV reader."""
    import duckdb

    path = _csv(tmp_path, "lead,stage,time\nA,dial,2025-03-03 09:00\nB,dial,2025-02-30 10:00\n")
    relation = duckdb.connect().read_csv(str(path), all_varchar=True)
    log = fs.read_log(relation, format="events", stages=["dial", "sale"], errors="drop")
    assert log.n_leads == 1
    assert log.dropped.to_dict("records") == [
        {"row": 3, "column": "time", "reason": "unreadable date '2025-02-30 10:00'"}
    ]


def test_a_users_relation_of_zoned_times_is_read_in_utc_whatever_its_zone(tmp_path):
    """Zoned nanosecond times (pandas writes TIMESTAMPTZ_NS) in a relation of a user's
    connection set to another zone: read as the instants they are, as pandas reads the
    file (a cast to TIMESTAMP would take the connection's zone: as_of 8 h off)."""
    import duckdb

    clock = ["2025-03-03 02:00:00", "2025-03-03 05:00:00", "2025-03-03 05:00:00.000000001"]
    times = pd.to_datetime([*clock, clock[0]], format="ISO8601").tz_localize("Asia/Shanghai")
    path = tmp_path / "zoned.parquet"
    pd.DataFrame({"lead": list("AAAB"), "stage": ["dial", "sale", "sale", "dial"],
                  "time": times}).to_parquet(path)  # fmt: skip
    con = duckdb.connect()
    con.execute("SET TimeZone='Asia/Shanghai'")
    expected = fs.read_log(path, format="events", stages=["dial", "sale"], engine="pandas",
                           errors="drop")  # fmt: skip
    got = fs.read_log(con.read_parquet(str(path)), format="events", stages=["dial", "sale"],
                      errors="drop")  # fmt: skip
    assert got.as_of == expected.as_of == pd.Timestamp("2025-03-02 21:00:00.000000001")
    pd.testing.assert_frame_equal(got.stage_table(by="week"), expected.stage_table(by="week"))


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_folder_of_no_parquet_file_says_so(engine, tmp_path):
    """Parts written without the .parquet ending (as Hive writes them): a folder of no
    Parquet file, said by both readers (pandas said the folder did not exist)."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    pd.DataFrame({"lead": ["A"], "stage": ["dial"], "time": _day("2025-01-01")}).to_parquet(
        folder / "000000_0"
    )
    with pytest.raises(fs.LogError) as info:
        fs.read_log(folder, format="events", stages=["dial", "sale"], engine=engine)
    assert info.value.key == "log.error.no_parquet_files" and "warehouse" in str(info.value)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_parquet_folder_is_its_parts_and_nothing_else(engine, tmp_path):
    """A Parquet folder's README, Spark's _SUCCESS and checksums and an unfinished job's
    _temporary/ part are left aside by both readers (pandas failed on the README; DuckDB
    read the unfinished part, whose copied rows then failed the log)."""
    folder = AUDIT["a Parquet folder with a README, Spark's marks and an unfinished job's part"](
        tmp_path
    )
    log = fs.read_log(folder, format="events", stages=["dial", "sale"], engine=engine)
    assert log.n_leads == 3 and log.n_rows == 4


@pytest.mark.parametrize("errors", ["raise", "drop"])
def test_a_frame_column_of_times_and_a_number_reads_alike(errors):
    """An object column of times and one number (an Excel serial, 45660.5) and a rep
    column of text and numbers: DuckDB took each column's type from its first cells and
    failed on the number; it now reads such a column as its cells' text, as pandas does."""
    frame = pd.DataFrame(
        {"lead": list("AABC"), "stage": ["dial", "sale", "dial", "dial"],
         "time": [pd.Timestamp("2025-01-02"), pd.Timestamp("2025-01-03"), 45660.5,
                  pd.Timestamp("2025-01-04 10:30")],
         "rep": ["x", "x", 3.0, 3]}
    )  # fmt: skip
    _read_alike(frame, ["dial", "sale"], errors)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_zoned_times_count_their_weeks_in_utc(engine):
    """As the README says: a time written with a zone is read as UTC, so a Monday call
    in Beijing before 08:00 is in the week before (Sunday 23:00 UTC)."""
    times = ["2025-03-03T07:00+08:00", "2025-03-03T09:00+08:00"]
    frame = pd.DataFrame({"lead": ["A", "B"], "stage": ["dial", "dial"], "time": times})
    log = fs.read_log(frame, format="events", stages=["dial", "sale"], engine=engine)
    weeks = log.stage_table(by="week")["week"]
    assert [str(w)[:10] for w in weeks] == ["2025-02-24", "2025-03-03"]
    assert log.as_of == pd.Timestamp("2025-03-03 01:00")


def test_an_engine_read_says_nothing_the_user_cannot_act_on(events, tmp_path):
    """No FutureWarning reaches the user from a read and its questions, on DuckDB and on
    Dask, for a log with moves back (a part read by pandas) and a clean one (that part
    empty). Dask's ``where`` on pandas warned on the stage codes (downcasting), and
    pandas on joining an empty part to the engine's."""
    pytest.importorskip("dask.dataframe")
    clean = events[~events["lead"].isin(events.loc[events.duplicated("lead"), "lead"])]
    for name, frame in (("moves.parquet", events), ("clean.parquet", clean)):
        frame.to_parquet(tmp_path / name, index=False)
    # in a process of its own, as a user's: pytest puts back the filters a module sets
    # on import (the kit's, on narwhals' notice about its Dask support moving)
    code = f"""if True:
        import pathlib, sys, pandas as pd, dask.dataframe as dd, funnelsim as fs
        for path in sorted(pathlib.Path(sys.argv[1]).glob("*.parquet")):
            for source in (path, dd.from_pandas(pd.read_parquet(path), npartitions=3)):
                log = fs.read_log(source, format="events", stages={STAGES!r},
                                  engine="duckdb")
                fs.fit(log, by="rep").to_frame()
                fs.fit(log, by="rep", mature="30D").to_frame()
                log.stage_table(by="week")
                fs.cycle_length(log)
        print("read")
    """
    run = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code,
                          str(tmp_path)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0 and run.stdout.strip() == "read", run.stderr[-3000:]


@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # Ibis 12's own
def test_text_times_in_a_users_table_get_advice_for_a_table(events, tmp_path):
    """Times as text in a Polars table get advice for a table (cast it there, or read it
    whole with engine="pandas": which then reads it), and in a database's table advice
    for the query, not advice about a file."""
    pl = pytest.importorskip("polars")
    text = events.assign(time=events["time"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    lazy = pl.from_pandas(text).lazy()
    with pytest.raises(fs.FunnelsimError) as err:
        fs.read_log(lazy, format="events", stages=STAGES)
    assert err.value.key == "engine.error.time_text_table" and "str.to_datetime" in str(err.value)
    log = fs.read_log(lazy, format="events", stages=STAGES, engine="pandas")  # as advised
    reference = fs.read_log(events, format="events", stages=STAGES, engine="pandas")
    pd.testing.assert_frame_equal(log.stage_table(by="rep"), reference.stage_table(by="rep"))
    ibis = pytest.importorskip("ibis")
    con = ibis.duckdb.connect()
    path = tmp_path / "text.parquet"
    text.to_parquet(path, index=False)
    con.raw_sql(f"CREATE TABLE events AS SELECT * FROM read_parquet('{path}')")
    with pytest.raises(fs.FunnelsimError) as err:
        fs.read_log(con, table="events", format="events", stages=STAGES)
    assert err.value.key == "engine.error.time_text_query" and "CAST(" in str(err.value)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_folders_error_names_the_file_of_each_row(engine, tmp_path):
    """Rows of a Parquet folder are counted on across its files; the error names each
    row's file and its row there, in both languages and on both readers."""
    folder = AUDIT["a Parquet folder with an unknown stage in its second file"](tmp_path)
    error = _says(folder, engine, {
        "en": "counted on across its files in name order: row 5 is row 3 of part-1.parquet.",
        "zh": "跨各文件连续计数：第 5 行是 part-1.parquet 的第 3 行。",
    })  # fmt: skip
    [problem] = error.values["problems"]
    assert problem.rows == (5,)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_folders_dropped_rows_name_their_file(engine, tmp_path):
    """Lead A's dial in the second file copies its row in the first: the error names
    both rows' files, the one its reason names too ("first in row 2"), and
    ``Log.dropped`` gives each dropped row's file and its row there."""
    folder = AUDIT["a Parquet folder with a row copied into its second file"](tmp_path)
    _says(folder, engine, {
        "en": "row 2 is row 2 of part-0.parquet; row 5 is row 3 of part-1.parquet.",
        "zh": "第 2 行是 part-0.parquet 的第 2 行；第 5 行是 part-1.parquet 的第 3 行。",
    })  # fmt: skip
    log = fs.read_log(folder, format="events", stages=["dial", "sale"], engine=engine,
                      errors="drop")  # fmt: skip
    assert list(log.dropped.columns) == ["row", "file", "file_row", "column", "reason"]
    assert log.dropped[["row", "file", "file_row"]].values.tolist() == [
        [2, "part-0.parquet", 2],
        [3, "part-0.parquet", 3],
        [5, "part-1.parquet", 3],
    ]
    # none dropped: the same columns
    (tmp_path / "clean").mkdir()
    clean = fs.read_log(AUDIT["a Parquet folder with an unknown stage in its second file"](
        tmp_path / "clean"), format="events", stages=["dial", "dail", "sale"], engine=engine,
        errors="drop")  # fmt: skip
    assert list(clean.dropped.columns) == ["row", "file", "file_row", "column", "reason"]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_time_more_than_200_years_back_is_a_problem_of_its_row(engine, tmp_path):
    """Lead A's dial in 1712 before its sale in 2025: no duration between them fits in
    int64 nanoseconds (DuckDB overflowed; pandas's cycle said the sale came first). The
    row is a problem on both readers, counted back from as_of or tomorrow; dropped, the
    rest of the log reads and its cycle is measured. 200 years back to the nanosecond is
    kept."""
    path = AUDIT["a time more than 200 years before the rest"](tmp_path)
    error = _says(path, engine, {"en": "the time 1712-10-28 is more than 200 years before",
                                 "zh": "时间 1712-10-28 比"})  # fmt: skip
    assert [(p.rows, p.reason) for p in error.values["problems"]] == [
        ((2,), "log.reason.early_time")
    ]
    log = fs.read_log(path, format="events", stages=["dial", "sale"], engine=engine,
                      errors="drop")  # fmt: skip
    assert log.n_leads == 1 and list(log.dropped["row"]) == [2, 3]
    assert fs.cycle_length(log).open == 1
    end = pd.Timestamp("2025-01-06")
    edge = end - fs._formats.FAR_BACK
    frame = pd.DataFrame({"lead": ["A", "A", "B"], "stage": ["dial", "sale", "dial"],
                          "time": [edge, end, edge - pd.Timedelta(1, "ns")]})  # fmt: skip
    edge_path = tmp_path / "edge.parquet"
    frame.to_parquet(edge_path)
    edged = fs.read_log(edge_path, format="events", stages=["dial", "sale"], engine=engine,
                        as_of=end, errors="drop")  # fmt: skip
    assert edged.n_leads == 1 and list(edged.dropped["row"]) == [4]
    assert fs.cycle_length(edged).closed == 1
    # a log of 1700 read as of then: its bound is before what nanoseconds hold
    early = frame.assign(time=pd.to_datetime(["1690-10-28", "1700-01-02", "1700-01-06"]))
    early.to_parquet(edge_path)
    old = fs.read_log(edge_path, format="events", stages=["dial", "sale"], engine=engine,
                      as_of="1700-02-01")  # fmt: skip
    assert old.n_leads == 2 and fs.cycle_length(old).closed == 1


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_hive_folders_are_read_below_the_folder_given(engine, tmp_path):
    """Only the Hive folders below the folder given name columns (DuckDB's own reading
    took ``stage=raw`` in the path above it as the stage of every row); a folder without
    one gives no value, nor does Hive's missing value; months of numbers are numbers."""
    log = fs.read_log(AUDIT["Hive folders inside a folder whose own path names a column"](
        tmp_path), format="events", stages=["dial", "sale"], engine=engine)  # fmt: skip
    assert log.group_columns == ["rep"] and log.n_leads == 3
    assert log.stage_table(by="rep")["entered"].tolist() == [1, 2]
    log = fs.read_log(AUDIT["Hive folders of months, 9 and 10"](tmp_path), format="events",
                      stages=["dial", "sale"], engine=engine)  # fmt: skip
    table = log.stage_table(by="month")
    assert table["month"].tolist() == ["9", "10"] and table["entered"].tolist() == [2, 2]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_pandas_index_in_a_parquet_file_is_not_a_column(engine, tmp_path):
    """A frame's index stored by ``to_parquet`` (``__index_level_0__``) is no group
    column (in DuckDB it was one, its values differing within each lead: every lead
    read again by pandas); a named index (the leads) is a column on both readers."""
    log = fs.read_log(AUDIT["a Parquet file of a pandas index"](tmp_path), format="events",
                      stages=["dial", "sale"], engine=engine)  # fmt: skip
    assert log.group_columns == ["rep"] and log.n_leads == 3
    assert log.engine is None or log.engine.patch is None  # no lead read again
    named = tmp_path / "named"
    named.mkdir()
    log = fs.read_log(AUDIT["a Parquet file of a named pandas index (the leads)"](named),
                      format="events", stages=["dial", "sale"], engine=engine)  # fmt: skip
    assert log.n_leads == 3 and log.group_columns == ["rep"]


def test_a_file_named_with_a_star_goes_to_pandas(tmp_path):
    """DuckDB reads a file name as a pattern (``a*.parquet`` is ``ab.parquet`` too, read
    twice): the engine refuses it, and engine="auto" reads the folder with pandas."""
    folder = _starred(tmp_path)
    with pytest.raises(fs.LogError) as info:
        fs.read_log(folder, format="events", stages=["dial", "sale"], engine="duckdb")
    assert info.value.key == "engine.error.glob_name" and "'a*.parquet'" in str(info.value)
    assert fs.read_log(folder, format="events", stages=["dial", "sale"]).n_leads == 2
