"""``funnelsim kpi`` and the report's activity and attainment sections (issue #15).

The numbers printed are checked against pandas sums over the record as it
was written (the truth beside the file), and the report's sections against
the library's own tables (:meth:`funnelsim.Calls.kpis`,
:func:`funnelsim.attainment`), in both languages.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.cli import main
from funnelsim.report import build_report
from funnelsim.summaries import format_percent

START = pd.Timestamp("2025-03-03")  # a Monday
REPS = ["张伟", "李娜", "王芳"]


def call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A call file as the sample's export writes it (Chinese headers, hh:mm:ss, outcome
    words), and the truth: one row per call with its seconds and whether it connected."""
    rng = np.random.default_rng(2025)
    n = 2400
    time = (
        START
        + pd.to_timedelta(rng.integers(0, 19, n), "D")
        + pd.to_timedelta(rng.integers(9 * 3600, 18 * 3600, n), "s")
    )
    rep = rng.choice(REPS, n)
    connected = rng.random(n) < np.where(rep == "李娜", 0.4, 0.28)
    seconds = np.where(connected, rng.integers(3, 900, n), 0)
    outcome = np.where(connected, "已接通", rng.choice(["未接听", "忙线", "拒接", "空号"], n))
    frame = pd.DataFrame(
        {
            "呼叫时间": time.strftime("%Y-%m-%d %H:%M:%S"),
            "坐席": rep,
            "客户编号": [f"C{i:04d}" for i in rng.integers(0, 700, n)],
            "通话时长": [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in seconds],
            "呼叫结果": outcome,
        }
    )
    path = tmp_path_factory.mktemp("calls") / "sample_calls.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    day = time.normalize()
    truth = pd.DataFrame(
        {
            "rep": rep,
            "day": day,
            "week": day - pd.to_timedelta(day.weekday, "D"),
            "lead": frame["客户编号"],
            "seconds": seconds,
            "connected": connected,
        }
    )
    return path, truth


def _expect(truth: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    truth = truth.assign(
        talk=np.where(truth["connected"], truth["seconds"], 0),
        effective=truth["connected"] & (truth["seconds"] >= 45),
    )
    grouped = truth.groupby(keys) if keys else truth.groupby(np.zeros(len(truth)))
    return grouped.agg(
        dials=("connected", "size"),
        connects=("connected", "sum"),
        talk_time=("talk", "sum"),
        effective=("effective", "sum"),
        leads_touched=("lead", "nunique"),
    ).reset_index(drop=not keys)


# ------------------------------------------------------------------ funnelsim kpi
@pytest.mark.parametrize(
    ("period", "keys"), [("week", ["rep", "week"]), ("day", ["rep", "day"]), ("all", ["rep"])]
)
def test_kpi_csv_matches_pandas_sums(record, period, keys):
    path, truth = record
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    rc, out = call("kpi", str(path), "--period", period, "--effective-seconds", "45", "--csv")
    assert rc == 0
    got = pd.read_csv(io.StringIO(out))
    expect = _expect(truth, keys).sort_values(keys).reset_index(drop=True)
    got = got.sort_values(["rep", *(["period"] if period != "all" else [])])
    assert got["rep"].tolist() == expect["rep"].tolist()
    if period != "all":
        assert pd.to_datetime(got["period"]).tolist() == expect[keys[1]].tolist()
    for column in ("dials", "connects", "talk_time", "effective", "leads_touched"):
        np.testing.assert_array_equal(got[column].to_numpy(float), expect[column])
    np.testing.assert_allclose(got["connect_rate"], expect["connects"] / expect["dials"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never modified


def test_kpi_team_total_and_text_in_both_languages(record):
    path, truth = record
    rc, out = call("kpi", str(path), "--by", "", "--period", "all", "--csv")
    assert rc == 0
    team = pd.read_csv(io.StringIO(out))
    assert team["dials"].tolist() == [len(truth)]
    assert team["connects"].tolist() == [int(truth["connected"].sum())]
    rc, out = call("kpi", str(path), "--period", "week")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"sample_calls.csv: {len(truth):,} calls by 3 rep(s)")
    assert fs.t("kpi.col.connect_rate") in lines[1] and fs.t("kpi.col.dials") in lines[1]
    assert len(lines) == 2 + truth.groupby(["rep", "week"]).ngroups
    rate = truth["connected"].mean()
    assert format_percent(rate) in lines[0]
    rc, zh = call("kpi", str(path), "--period", "week", "--lang", "zh")
    assert rc == 0
    with fs.language("zh"):
        assert zh.splitlines()[0].startswith(f"sample_calls.csv：3 名销售拨打 {len(truth):,} 次")
        for key in ("kpi.col.dials", "kpi.col.connect_rate", "kpi.col.talk_time"):
            assert fs.t(key) in zh.splitlines()[1]
    assert fs.get_language() == "en"  # --lang changed nothing outside the command


def test_kpi_heatmap_is_saved_as_png(record, tmp_path, capsys):
    path, _ = record
    png = tmp_path / "when.png"
    rc, out = call("kpi", str(path), "--heatmap", str(png), "--period", "all")
    assert rc == 0 and out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().err
    rc, _ = call("kpi", str(path), "--heatmap", str(tmp_path / "when.jpg"))
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".png" in err
    rc, _ = call("kpi", str(path), "--heatmap", str(tmp_path / "no" / "when.png"))
    assert rc == 2


def test_kpi_bad_input_is_one_line_and_exit_2(record, tmp_path, capsys):
    path, _ = record
    bad = pd.read_csv(path, dtype=str)
    bad.loc[4, "通话时长"] = "ten minutes"
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    for args in (
        ["kpi", str(tmp_path / "missing.csv")],
        ["kpi", str(bad_path)],
        ["kpi", str(path), "--by", "team"],
    ):
        rc, out = call(*args)
        err = capsys.readouterr().err
        assert rc == 2 and out == "", args
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for args in (["kpi", str(path), "--period", "month"], ["kpi", str(path), "--lang", "fr"]):
        with pytest.raises(SystemExit) as exc:  # argparse's own check: usage error, code 2
            call(*args)
        assert exc.value.code == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    rc, _ = call("kpi", str(bad_path))
    err = capsys.readouterr().err
    assert "bad.csv" in err and "6" in err and "通话时长" in err  # row 6: header is row 1
    rc, out = call("kpi", str(bad_path), "--errors", "drop", "--period", "all", "--csv")
    assert rc == 0
    assert pd.read_csv(io.StringIO(out))["dials"].sum() == len(bad) - 1
    assert "bad.csv" in capsys.readouterr().err  # the row left out is listed


def test_kpi_help_lists_its_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["kpi", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--by", "--period", "--effective-seconds", "--heatmap", "--csv", "--lang"):
        assert option in text
    assert "funnelsim kpi data/sample_calls.csv" in text


# ------------------------------------------------------------------ report sections
@pytest.fixture(scope="module")
def small_log() -> fs.Log:
    """A three-week counts log: the report stays fast (no back-test, no cycle)."""
    counts = pd.DataFrame(
        {"period": ["w1", "w2", "w3"], "dials": [300, 320, 310], "connects": [120, 130, 110],
         "sales": [12, 15, 10]}
    )  # fmt: skip
    return fs.read_log(counts, format="counts", stages=["dials", "connects", "sales"])


def test_report_sections_are_absent_without_their_inputs(small_log):
    page = build_report(small_log)
    for key in ("report.activity", "report.attainment"):
        assert fs.t(key) not in page


def test_report_activity_and_attainment_numbers_are_the_librarys(record, small_log):
    path, truth = record
    calls = fs.read_calls(path)
    att = fs.attainment({"张伟": 12, "李娜": 20, "王芳": 5}, {"张伟": 40, "李娜": 40, "王芳": 40},
                        elapsed=0.5)  # fmt: skip
    page = build_report(small_log, call_log=calls, attainment=att)
    activity = page[page.index(fs.t("report.activity")) : page.index(fs.t("report.attainment"))]
    kpis = calls.kpis(by="rep", period="week")
    expect = _expect(truth, ["rep", "week"])
    assert kpis["dials"].sum() == expect["dials"].sum() == len(truth)
    for row in kpis.itertuples():  # each rep's week: its dials and rate in the table
        assert f"<td>{row.dials:,}</td>" in activity
        assert f"<td>{format_percent(row.connect_rate)}</td>" in activity
    # the team's heatmap, one per rep, and the p-chart
    assert activity.count("<img") == 1 + len(REPS) + 1
    chart = calls.p_chart()
    assert fs.t("report.activity_p_chart_intro", sigmas=3.0, flagged=len(chart.flagged)) in (
        activity.replace("&#x27;", "'")
    )
    part = page[page.index(fs.t("report.attainment")) :]
    table = att.to_frame()
    for value in table["attainment"]:
        assert f"<td>{format_percent(value)}</td>" in part
    assert f"<td>{format_percent(table['pace'].iloc[-1])}</td>" in part
    assert fs.t("attainment.col.p_finish") not in part  # no forecast given


def test_report_sections_in_chinese(record, small_log):
    path, _ = record
    att = fs.attainment(30, 100, elapsed=0.25)
    with fs.language("zh"):
        page = build_report(small_log, call_log=str(path), attainment=att)  # a path is read
    for heading in ("拨打活动", "何时拨打", "每周的接通率", "目标达成"):
        assert f"<h2>{heading}</h2>" in page
    assert "<th>接通率</th>" in page and "<th>达成率</th>" in page


def test_report_rejects_the_wrong_objects(small_log, record):
    path, _ = record
    with pytest.raises(fs.FunnelsimTypeError) as info:
        build_report(small_log, call_log=pd.read_csv(path))
    assert info.value.key == "error.plot_result"
    assert info.value.values["argument"] == "call_log"
    with pytest.raises(fs.FunnelsimTypeError) as info:
        build_report(small_log, attainment={"Li": 3})
    assert info.value.values["argument"] == "attainment"


def test_report_command_with_calls_and_attainment(record, tmp_path, capsys):
    path, _ = record
    events = Path(__file__).resolve().parents[1] / "data" / "sample_counts.csv"
    targets = tmp_path / "targets.csv"
    pd.DataFrame({"销售": ["Li", "Wang"], "实际": [10, 6], "目标": [30, 30]}).to_csv(
        targets, index=False
    )
    out = tmp_path / "r.html"
    args = ["report", str(events), "--format", "counts", "--stages",
            "dials,connects,meetings,sales", "--column", "period=week", "-o", str(out),
            "--reps", "400", "--seed", "3", "--calls-file", str(path),
            "--attainment", str(targets), "--quiet"]  # fmt: skip
    rc, _ = call(*args, "--elapsed", "0.5")
    assert rc == 0, capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert fs.t("report.activity") in page and fs.t("report.attainment") in page
    # the team's chance to finish: the library's, from the same seed and periods left, for
    # the sheet's two reps alone (a fit by rep cut to them, each at their share of the pace)
    log = fs.read_log(events, format="counts", stages=["dials", "connects", "meetings", "sales"],
                      columns={"period": "week"})  # fmt: skip
    pace = round(fs.lessons.calls_per_week(log))
    by_rep = fs.fit(log, by="rep")
    two = by_rep.__class__(
        **{**by_rep.__dict__, "table": by_rep.table.query("rep in ['Li', 'Wang']")}
    )
    first = log.stage_table(by=["rep"]).query("stage == 'connects'").set_index("rep")["entered"]
    calls = {r: round(pace * first[r] / first.sum()) for r in ("Li", "Wang")}
    left = fs.forecast(two, calls, round(13 * 0.5), 400, rng=3)
    att = fs.attainment({"Li": 10, "Wang": 6}, {"Li": 30, "Wang": 30}, elapsed=0.5, forecast=left)
    p = float(att.to_frame()["p_finish"].iloc[-1])
    assert f"<td>{100 * p:.0f}%</td>" in page
    rc, _ = call(*args)  # --attainment without --elapsed
    assert rc == 2 and "--elapsed" in capsys.readouterr().err
    pd.DataFrame({"rep": ["Li"], "done": [3], "target": [9]}).to_csv(targets, index=False)
    rc, _ = call(*args, "--elapsed", "0.5")
    err = capsys.readouterr().err
    assert rc == 2 and "actual" in err and err.count("\n") == 1


def test_report_command_gives_each_reps_chance_in_money(tmp_path):
    """The sample targets sheet (money, the log's reps): a forecast of the fit by rep, each
    rep at their share of the log's pace, at the log's deal sizes, as the library gives it."""
    data = Path(__file__).resolve().parents[1] / "data"
    out = tmp_path / "r.html"
    stages = ["dial", "connect", "meeting", "proposal", "sale"]
    rc, _ = call("report", str(data / "sample_events.csv"), "--stages", ",".join(stages),
                 "--mature", "60", "--attainment", str(data / "sample_targets.csv"),
                 "--elapsed", "0.5", "--periods", "52", "--reps", "400", "--seed", "3",
                 "-o", str(out), "--quiet")  # fmt: skip
    assert rc == 0
    page = out.read_text(encoding="utf-8")
    log = fs.read_log(data / "sample_events.csv", format="events", stages=stages)
    first = log.stage_table(by=["rep"]).query("stage == 'connect'").set_index("rep")["entered"]
    pace = round(fs.lessons.calls_per_week(log))
    calls = {rep: round(pace * n / first.sum()) for rep, n in first.items()}
    won = log.leads.loc[log.reached["sale"].to_numpy(), "amount"].astype(float)
    size = fs.DealSize.gamma(won.mean(), cv=won.std(ddof=1) / won.mean())
    left = fs.forecast(fs.fit(log, by="rep", mature=60), calls, 26, 400, deal_size=size, rng=3)
    sheet = fs.datasets.load_targets().set_index("销售")
    att = fs.attainment(sheet["实际"], sheet["目标"], elapsed=0.5, forecast=left).to_frame()
    assert att["p_finish"].between(0.02, 0.98).all()  # money against money: not all 0 or 1
    for rep, p in zip(att["rep"], att["p_finish"], strict=True):
        assert f"<td>{100 * p:.0f}%</td>" in page.split(f"<td>{rep}</td>", 1)[1][:600], rep


def test_calls_dropped_for_their_outcome_get_a_note_and_elapsed_needs_a_sheet(tmp_path, capsys):
    """--errors drop on an unknown outcome: the rates leave those calls out, and a note says
    so with the fix; --elapsed without --attainment is an error, not silently ignored."""
    path = tmp_path / "calls.csv"
    pd.DataFrame(
        {"time": ["2025-03-03 09:00", "2025-03-03 09:05", "2025-03-03 09:07"],
         "outcome": ["接通", "客户关机了", "未接"]}
    ).to_csv(path, index=False)  # fmt: skip
    rc, _ = call("kpi", str(path), "--errors", "drop", "--period", "all")
    err = capsys.readouterr().err
    assert rc == 0 and "--outcome" in err and "1 call(s)" in err
    rc, _ = call("kpi", str(path), "--period", "all", "--outcome", "客户关机了=no_answer")
    assert rc == 0 and "left out" not in capsys.readouterr().err
    events = Path(__file__).resolve().parents[1] / "data" / "sample_events.csv"
    rc, _ = call("report", str(events), "--stages", "dial,connect,meeting,proposal,sale",
                 "--elapsed", "0.5", "-o", str(tmp_path / "r.html"))  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "--attainment" in err and err.count("\n") == 1
    with fs.language("zh"):
        rc, _ = call("kpi", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and "。 " not in err  # one line, no space after a Chinese full stop
