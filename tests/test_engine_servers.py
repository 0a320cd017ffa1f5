"""Engines that run as servers: a real PostgreSQL, Spark in local mode, a Dask cluster.

Each reads the log of :mod:`tests.test_engine` and must give the pandas
reader's stage tables, fits and errors. Nothing is mocked: PostgreSQL is a
throwaway server from Debian's packages (``initdb`` and ``pg_ctl`` in a
temporary folder, on a free port, stopped at the end), Spark starts a local
JVM, Dask a local cluster. Each test skips, saying why, where its server
cannot run (no PostgreSQL binaries, no Java, a package missing); ``.ci/run``
installs Debian's ``postgresql`` and ``default-jre-headless`` so that CI runs
them all.
"""

from __future__ import annotations

import gc
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import warnings

import pandas as pd
import pytest
from test_engine import STAGES, make_log, spoil

import funnelsim as fs

LEADS = 400


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_log(seed=11, leads=LEADS)


@pytest.fixture(scope="module")
def reference(events) -> fs.Log:
    return fs.read_log(events, format="events", stages=STAGES, engine="pandas")


def same_answers(log: fs.Log, reference: fs.Log, groups=(None, "rep", ["rep", "region"], "week")):
    assert log.engine is not None
    for by in groups:
        pd.testing.assert_frame_equal(log.stage_table(by=by), reference.stage_table(by=by))
    pd.testing.assert_frame_equal(fs.young_leads(log), fs.young_leads(reference))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fs.fit(log, by="rep", mature="30D").to_frame()
        pd.testing.assert_frame_equal(got, fs.fit(reference, by="rep", mature="30D").to_frame())
    assert (log.n_rows, log.as_of) == (reference.n_rows, reference.as_of)
    pd.testing.assert_frame_equal(log.skipped, reference.skipped)


def same_problems(read, bad: pd.DataFrame, drop: bool = True) -> None:
    """The engine's error lists the pandas reader's problems (rows aside: a table's rows
    have no order of their own), and errors="drop" drops as many rows."""
    with pytest.raises(fs.LogError) as expected:
        fs.read_log(bad, format="events", stages=STAGES, engine="pandas")
    with pytest.raises(fs.LogError) as got:
        read("raise")
    problems = [(p.column, p.reason) for p in got.value.values["problems"]]
    assert problems == [(p.column, p.reason) for p in expected.value.values["problems"]]
    if not drop:
        return
    kept = fs.read_log(bad, format="events", stages=STAGES, errors="drop", engine="pandas")
    log = read("drop")
    assert len(log.dropped) == len(kept.dropped) > 5
    pd.testing.assert_frame_equal(log.stage_table(by="rep"), kept.stage_table(by="rep"))


# -------------------------------------------------------------- PostgreSQL
def _postgres_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server: its address."""
    pytest.importorskip("ibis", reason="Ibis (ibis-framework[postgres]) is not installed")
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's server (initdb, pg_ctl) is not installed: apt-get install "
                    "postgresql (.ci/run does)")  # fmt: skip
    prefix: list[str] = []
    folder = tempfile.mkdtemp(prefix="funnelsim-pg-")
    if os.geteuid() == 0:  # initdb refuses root: run the server as Debian's postgres user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(folder, "data"), _free_port()
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "kit", "-E", "UTF8",
         "--no-sync", "--no-locale"], **run,
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", f"{folder}/log", "-w",
         "start"], **run,
    )  # fmt: skip
    try:
        yield f"postgresql://kit@127.0.0.1:{port}/postgres"
    finally:
        gc.collect()  # logs still open drop their temporary tables first
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
            check=False, capture_output=True, timeout=120,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def load(url: str, name: str, frame: pd.DataFrame) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(
            f"CREATE TABLE {name} (lead text, stage text, time timestamp, rep text,"
            " region text, amount double precision)"
        )
        columns = ["lead", "stage", "time", "rep", "region", "amount"]
        with con.cursor().copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in frame[columns].itertuples(index=False):
                copy.write_row([None if pd.isna(v) else v for v in row])


def test_postgres_table_and_query(postgres, events, reference):
    load(postgres, "events", events)
    log = fs.read_log(postgres, table="events", format="events", stages=STAGES)
    same_answers(log, reference)
    # a query: only Ann's and Bob's leads, as the database selects them
    query = "SELECT * FROM events WHERE rep IN ('Ann', 'Bob')"
    picked = fs.read_log(postgres, query=query, format="events", stages=STAGES)
    subset = events[events["rep"].isin(["Ann", "Bob"])]
    expected = fs.read_log(subset, format="events", stages=STAGES, engine="pandas")
    pd.testing.assert_frame_equal(picked.stage_table(by="rep"), expected.stage_table(by="rep"))
    del log, picked


def test_postgres_command_line(postgres, events, reference, capsys):
    """`funnelsim fit ADDRESS --table` and `--query` print what the file's fit prints."""
    import io

    from funnelsim.cli import main

    load(postgres, "events", events)
    printed = []
    for source in (["--table", "events"], ["--query", "SELECT * FROM events"]):
        out = io.StringIO()
        args = ["fit", postgres, *source, "--stages", ",".join(STAGES), "--by", "rep"]
        assert main(args, out=out) == 0
        printed.append(out.getvalue().splitlines()[1:])  # the first line names the source
    ref = fs.fit(reference, by="rep").to_frame()
    assert printed[0] == printed[1]
    assert any(f"{int(ref['passed'].iloc[0])}/{int(ref['entered'].iloc[0])}" in line
               for line in printed[0])  # fmt: skip
    assert main(["fit", postgres, "--stages", ",".join(STAGES)], out=io.StringIO()) == 2
    assert "table=" in capsys.readouterr().err


def test_postgres_errors(postgres, events):
    bad = spoil(events)
    load(postgres, "bad", bad)
    same_problems(
        lambda errors: fs.read_log(
            postgres, table="bad", format="events", stages=STAGES, errors=errors
        ),
        bad,
    )
    with pytest.raises(fs.LogError) as err:
        fs.read_log(postgres, table="no_such_table", format="events", stages=STAGES)
    assert err.value.key == "engine.error.database"
    with pytest.raises(fs.FunnelsimError) as err:
        fs.read_log(postgres, format="events", stages=STAGES)
    assert err.value.key == "engine.error.table_or_query"


# -------------------------------------------------------------------- Spark
@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs a Java runtime: apt-get install default-jre-headless "
                    "(.ci/run does)")  # fmt: skip
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("funnelsim-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_local(spark, events):
    # a small log: Spark runs each of the kit's queries as a job of its own (about 0.3 s)
    small = events[events["lead"] < "L00080"].reset_index(drop=True)
    frame = spark.createDataFrame(small)
    log = fs.read_log(frame, format="events", stages=STAGES)
    expected = fs.read_log(small, format="events", stages=STAGES, engine="pandas")
    same_answers(log, expected, groups=("rep",))
    bad = spoil(small)
    same_problems(
        lambda errors: fs.read_log(
            spark.createDataFrame(bad), format="events", stages=STAGES, errors=errors
        ),
        bad,
        drop=False,
    )


# --------------------------------------------------------------------- Dask
def test_dask_local_cluster(events):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        small = events[events["lead"] < "L00080"].reset_index(drop=True)
        log = fs.read_log(dd.from_pandas(small, npartitions=2), format="events", stages=STAGES)
        expected = fs.read_log(small, format="events", stages=STAGES, engine="pandas")
        assert log.engine is not None and log.engine.backend == "dask"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fs.fit(log, by="rep").to_frame()  # the same fit, on the cluster
            pd.testing.assert_frame_equal(got, fs.fit(expected, by="rep").to_frame())
        assert (log.n_rows, log.as_of) == (expected.n_rows, expected.as_of)


def test_dask_errors(events):
    """The same problems from a Dask DataFrame (its own scheduler: each query is a job)."""
    dd = pytest.importorskip("dask.dataframe")
    bad = spoil(events[events["lead"] < "L00040"])
    same_problems(
        lambda errors: fs.read_log(
            dd.from_pandas(bad, npartitions=2), format="events", stages=STAGES, errors=errors
        ),
        bad,
        drop=False,
    )
