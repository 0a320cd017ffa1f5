"""``funnelsim report --attainment`` when the sheet's reps are not the log's, and the
report's figures and tables (#15, the newcomer's review)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import cli, plotting, report
from funnelsim.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
STAGES = ["dial", "connect", "meeting", "proposal", "sale"]
SHEET = {"Chen": (333610, 700000), "Li": (352610, 700000), "Liu": (218990, 500000)}


def call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def _report(tmp_path, sheet: dict[str, tuple[float, float]], capsys) -> tuple[str, str]:
    targets = tmp_path / "targets.csv"
    pd.DataFrame(
        {"销售": list(sheet), "实际": [a for a, _ in sheet.values()],
         "目标": [b for _, b in sheet.values()]}
    ).to_csv(targets, index=False)  # fmt: skip
    out = tmp_path / "r.html"
    rc, _ = call("report", str(DATA / "sample_events.csv"), "--stages", ",".join(STAGES),
                 "--mature", "60", "--attainment", str(targets), "--elapsed", "0.5",
                 "--periods", "52", "--reps", "400", "--seed", "3", "-o", str(out),
                 "--quiet")  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 0, err
    return out.read_text(encoding="utf-8"), err


@pytest.fixture(scope="module")
def library():
    """The library's chances for Chen, Li, Liu: a fit by rep of a log of their leads alone
    (read from their rows of the file, at the whole log's as_of), each rep at their share
    of the whole log's pace, at the whole log's deal sizes, 26 weeks left."""
    log = fs.read_log(DATA / "sample_events.csv", format="events", stages=STAGES)
    rows = pd.read_csv(DATA / "sample_events.csv")
    theirs = fs.read_log(rows[rows["rep"].isin(list(SHEET))], format="events", stages=STAGES,
                         as_of=log.as_of)  # fmt: skip
    restricted = fs.fit(theirs, by="rep", mature=60)
    assert restricted.groups == list(SHEET)
    first = log.stage_table(by=["rep"]).query("stage == 'connect'").set_index("rep")["entered"]
    pace = round(fs.lessons.calls_per_week(log))
    calls = {rep: round(pace * first[rep] / first.sum()) for rep in SHEET}  # the whole team's
    won = log.leads.loc[log.reached["sale"].to_numpy(), "amount"].astype(float)
    size = fs.DealSize.gamma(won.mean(), cv=won.std(ddof=1) / won.mean())
    left = fs.forecast(restricted, calls, 26, 400, deal_size=size, rng=3)
    actual = pd.Series({r: a for r, (a, _) in SHEET.items()})
    target = pd.Series({r: b for r, (_, b) in SHEET.items()})
    att = fs.attainment(actual, target, elapsed=0.5, forecast=left).to_frame()
    whole = fs.forecast(fs.fit(log, mature=60), pace, 26, 400, deal_size=size, rng=3)
    return att.set_index("rep")["p_finish"], whole


def _cell(page: str, rep: str) -> str:
    row = page.split(f"<td>{rep}</td>", 1)[1].split("</tr>", 1)[0]
    return row.rsplit("<td>", 1)[1].split("</td>", 1)[0]


def test_a_sheet_with_fewer_reps_forecasts_only_them(tmp_path, capsys, library):
    p, _whole = library
    page, err = _report(tmp_path, SHEET, capsys)
    for rep in SHEET:
        assert _cell(page, rep) == f"{100 * p[rep]:.0f}%", rep
    team = fs.t("cli.snapshot.team_row")
    assert _cell(page, team) == f"{100 * p['team']:.0f}%"
    # the log's other reps are named as left out, on stderr and in the page
    note = fs.t("cli.attainment.left_out", reps="Wang, Zhang, Zhao")
    assert fs.t("cli.note", note=note) in err.splitlines()
    assert note.split(":")[0] in page


def test_a_rep_without_history_has_no_chance_nor_the_team(tmp_path, capsys, library):
    p, _whole = library
    page, err = _report(tmp_path, {**SHEET, "Nobody": (100000, 400000)}, capsys)
    for rep in SHEET:  # the others' chances are unchanged by the stranger
        assert _cell(page, rep) == f"{100 * p[rep]:.0f}%", rep
    assert _cell(page, "Nobody") == "-"
    assert _cell(page, fs.t("cli.snapshot.team_row")) == "-"
    note = fs.t("cli.attainment.no_history", reps="Nobody")
    assert fs.t("cli.note", note=note) in err.splitlines()
    assert note.replace("'", "&#x27;") in page


def test_the_old_number_was_the_whole_logs(library):
    """Before: the whole log's forecast against the three reps' target. It is far higher."""
    p, whole = library
    actual = sum(a for a, _ in SHEET.values())
    target = sum(b for _, b in SHEET.values())
    old = float((actual + whole.revenue.sum(axis=1) >= target).mean())
    assert old > p["team"] + 0.2


def _namespace(path: Path, **changes) -> argparse.Namespace:
    values = {"attainment": str(path), "elapsed": 0.5, "periods": 52, "calls": None,
              "method": "wilson", "confidence_level": 0.95, "mature": None, "reps": 100,
              "seed": 1, "deal_size": None, "cycle": None, "fixed_ratios": False}  # fmt: skip
    values.update(changes)
    return argparse.Namespace(**values)


@pytest.mark.parametrize(
    ("rep", "actual", "target"),
    [("姓名", "完成额", "年度目标"), ("员工", "业绩", "全年目标"), ("姓名", "实际业绩", "任务"),
     ("员工", "已完成金额", "指标")],
)  # fmt: skip
def test_the_sheets_chinese_headers(tmp_path, rep, actual, target):
    path = tmp_path / "t.csv"
    pd.DataFrame({rep: ["Li"], actual: [3], target: [9]}).to_csv(path, index=False)
    log = fs.datasets.load_counts()
    att = cli._attainment(_namespace(path, periods=0), log)
    assert att.to_frame()[["rep", "actual", "target"]].iloc[0].tolist() == ["Li", 3.0, 9.0]


def test_a_missing_column_gets_a_did_you_mean(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"rep": ["Li"], "actuals": [3], "targett": [9]}).to_csv(path, index=False)
    with pytest.raises(fs.FunnelsimValueError) as info:
        cli._attainment(_namespace(path), fs.datasets.load_counts())
    assert info.value.key == "targets.error.columns"
    assert info.value.values["missing"] == "actual, target"
    assert info.value.values["hint"] == fs.t(
        "targets.error.guess", field="actual", column="actuals"
    ) + fs.t("targets.error.guess", field="target", column="targett")
    pd.DataFrame({"rep": ["Li"], "x": [3], "y": [9]}).to_csv(path, index=False)
    with pytest.raises(fs.FunnelsimValueError) as info:
        cli._attainment(_namespace(path), fs.datasets.load_counts())
    assert info.value.values["hint"] == ""  # nothing close: no guess


def test_attainment_without_elapsed_says_elapsed_is_missing(tmp_path, capsys):
    rc, _ = call("report", str(DATA / "sample_counts.csv"), "--format", "counts", "--stages",
                 "dials,connects,meetings,sales", "--column", "period=week",
                 "--attainment", str(DATA / "sample_targets.csv"), "-o",
                 str(tmp_path / "r.html"), "--quiet")  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and fs.t("cli.error.elapsed_missing") in err and "got -" not in err


# ---------------------------------------------------------------- figures and tables
@pytest.fixture(scope="module")
def calls() -> fs.Calls:
    return fs.read_calls(DATA / "sample_calls.csv")


def test_heatmaps_share_one_scale(calls):
    top = report._heatmap_top(calls, list(calls.reps))
    rates = [calls.by_hour(rep=r)["rate"].max() for r in [None, *calls.reps]]
    assert top == pytest.approx(max(rates))
    assert max(rates) > min(rates) + 0.05  # each rep's own scale would differ
    with plotting.style():
        for rep in calls.reps[:2]:
            ax = plotting.plot_call_heatmap(calls, rep=rep, vmin=0.0, vmax=top)
            assert ax.collections[0].get_clim() == (0.0, top)
        ax = plotting.plot_call_heatmap(calls, rep=calls.reps[0])  # default: its own top
        assert ax.collections[0].get_clim()[1] == pytest.approx(
            calls.by_hour(rep=calls.reps[0])["rate"].max()
        )


def test_p_chart_ticks_on_the_weeks_starts(calls):
    chart = calls.p_chart(period="week")
    with plotting.style():
        ax = report._period_ticks(plotting.plot_p_chart(chart), chart)
    weeks = pd.to_datetime(pd.Series(chart.table[chart.period].unique())).sort_values()
    shown = [label.get_text() for label in ax.get_xticklabels()]
    assert shown == [f"{w:%m-%d}" for w in weeks]
    ticks = pd.to_datetime(np.asarray(ax.get_xticks()), unit="D", origin="1970-01-01")
    assert (ticks.dayofweek == 0).all()  # Mondays


def test_amounts_are_money_and_cells_do_not_wrap():
    att = fs.attainment({"Li": 1234567.5, "Wang": 7}, {"Li": 2e6, "Wang": 15}, elapsed=0.5)
    table = report._attainment_table(att)
    assert table[fs.t("attainment.col.actual")].tolist() == ["1,234,568", "7", "1,234,574"]
    assert table[fs.t("attainment.col.target_to_date")].tolist() == ["1,000,000", "7.5",
                                                                     "1,000,008"]  # fmt: skip
    assert "white-space: nowrap" in report._CSS


def test_the_log_line_names_the_format_in_the_pages_language():
    log = fs.datasets.load_events()
    with fs.language("zh"):
        line = fs.summaries.log_line(log)
    assert "事件记录" in line and "events" not in line.split("：", 1)[1]
