"""``funnelsim snapshot``: a tracking sheet (stocks) on the command line, in both languages.

The numbers printed are checked against sums computed here from the sheet's
rep rows (``Snapshot.to_frame()``, which tests/test_stocks.py checks cell by
cell against the files), against the deck's own 小计 row, and the shapes
against the sample's documented truth.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import datasets
from funnelsim.cli import main
from funnelsim.diagnose import SHAPES

ROOT = Path(__file__).resolve().parents[1]
TRACKING = ROOT / "data" / "sample_tracking.xlsx"
DECK = ROOT / "data" / "deck_tracking.xlsx"
DECK_TOTAL = [7, 7, 5, 3, 5, 13000, 14000]  # the deck's 小计 row (SOURCE.md)
STAGES = ["约定初次见面数", "25%", "50%", "90%", "成交"]
AMOUNTS = ["预收保费", "承保标保"]


def call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["snapshot", *args], out=out), out.getvalue()


def _section(text: str, start: str) -> list[list[str]]:
    """The rows (split on spaces) of the table under the line starting with ``start``,
    its header first, up to the next blank line."""
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(start))
    rows = []
    for line in lines[i + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    """The sample sheet, one row per date and rep (rep column renamed ``rep``)."""
    frame = datasets.load_tracking().to_frame()
    return frame.rename(columns={frame.columns[1]: "rep"})


def test_the_sample_sheet_from_a_terminal(wide):
    """One subprocess run (the console script's path): totals, shapes and amounts."""
    done = subprocess.run(
        [sys.executable, "-m", "funnelsim", "snapshot", str(TRACKING)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "FUNNELSIM_LANG": "en"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert out.startswith("sample_tracking.xlsx: tracking sheet, 6 rep(s), 18 date(s)")
    # team totals per date: the sum of the reps' rows, date by date
    team = _section(out, "Team totals per date")
    assert team[0] == ["date", *STAGES, *AMOUNTS]
    sums = wide.groupby("date")[STAGES + AMOUNTS].sum()
    assert len(team) - 1 == len(sums) == 18
    for row, (day, ref) in zip(team[1:], sums.iterrows(), strict=True):
        assert row[0] == f"{day:%Y-%m-%d}"
        assert [float(x) for x in row[1:]] == ref.tolist()
    # shapes on the last date: the sample's true shape of every rep
    truth = datasets.load_tracking_truth()["reps"]
    shapes = {row[0]: " ".join(row) for row in _section(out, "Pipeline shape on 2025-04-11")[1:]}
    assert set(shapes) == {*truth, "team"}
    for rep, spec in truth.items():
        assert f" {spec['shape']} " in shapes[rep], (rep, shapes[rep])
    # how often: one count per date, the true shape the most frequent one
    header = _section(out, "Pipeline shape on")[0]
    counted = [s for s in SHAPES if s.split()[0] in header]
    for rep, spec in truth.items():
        counts = [int(x) for x in shapes[rep].split()[-len(counted) :]]
        assert sum(counts) == 18
        assert counted[counts.index(max(counts))] == spec["shape"], rep
    # amounts by week: the week's entries added up, a column per rep and the team's total
    week = wide["date"] - pd.to_timedelta(wide["date"].dt.dayofweek, unit="D")
    for amount in AMOUNTS:
        table = _section(out, f"{amount} by week")
        assert table[0] == ["week", *truth, "team"]
        ref = wide.assign(week=week).pivot_table(
            index="week", columns="rep", values=amount, aggfunc="sum"
        )[list(truth)]
        assert len(table) - 1 == len(ref) == 6
        for row, (monday, values) in zip(table[1:], ref.iterrows(), strict=True):
            assert row[0] == f"{monday:%Y-%m-%d}" and monday.dayofweek == 0
            assert [float(x) for x in row[1:-1]] == values.tolist()
            assert float(row[-1]) == values.sum()


def test_the_decks_sheet_in_chinese_gives_its_subtotal():
    with fs.language("zh"):
        rc, out = call(str(DECK))
    assert rc == 0
    assert out.startswith("deck_tracking.xlsx：追踪表，2 个销售，1 个日期（2009-12-12）")
    assert out.count("注意：") == 2  # the blank 周三 and 周五 templates, skipped and said so
    team = _section(out, "每个日期的团队小计")
    assert team[0] == ["日期", *STAGES, *AMOUNTS]
    assert team[1] == ["2009-12-12", *map(str, DECK_TOTAL)]
    shapes = _section(out, "2009-12-12 的管道形状")
    assert shapes[0] == ["销售", "25%", "50%", "90%", "形状", "健康"]
    assert [r[0] for r in shapes[1:]] == ["杨晓玲", "施海兵", "全组"]
    assert shapes[-1] == ["全组", "7", "5", "3", "健康", "1"]  # the 小计's 25%, 50%, 90%
    weekly = _section(out, "按周的预收保费")
    assert weekly == [["周", "杨晓玲", "施海兵", "全组"], ["2009-12-07", "3000", "10000", "13000"]]


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, reps",
    [
        ("team_tracker.xlsx", ["杨晓玲", "施海兵"]),
        ("team_tracker_traditional.xlsx", ["楊曉玲", "施海兵"]),
    ],
)
def test_the_decks_own_sheet_in_both_scripts_gives_the_decks_subtotal(shared_data, name, reps):
    path = shared_data / "deck_tracking_sheet" / name
    for lang, words in (("en", ("Team totals", "team")), ("zh", ("每个日期的团队小计", "全组"))):
        with fs.language(lang):
            rc, out = call(str(path))
        assert rc == 0
        team = _section(out, words[0])
        assert team[1] == ["2009-12-12", *map(str, DECK_TOTAL)]
        shapes = _section(out, "Pipeline shape" if lang == "en" else "2009-12-12 的管道形状")
        assert [r[0] for r in shapes[1:]] == [*reps, words[1]]  # names kept as written
    rc, csv = call(str(path), "--csv")
    frame = pd.read_csv(io.StringIO(csv))
    assert frame[STAGES + AMOUNTS].sum().tolist() == DECK_TOTAL


def test_one_rep_shows_every_date_and_how_often_each_shape(wide):
    snap = datasets.load_tracking()
    rc, out = call(str(TRACKING), "--rep", "张伟")
    assert rc == 0
    rows = _section(out, "张伟: leads sitting")[:19]  # then the shapes and the reason
    mine = wide[wide["rep"] == "张伟"]
    assert rows[0] == ["date", *STAGES, *AMOUNTS, "shape"]
    assert [r[0] for r in rows[1:]] == [f"{d:%Y-%m-%d}" for d in mine["date"]]
    assert [[int(x) for x in r[1:6]] for r in rows[1:]] == mine[STAGES].to_numpy().tolist()
    diagnosed = snap.diagnose()
    diagnosed = diagnosed[diagnosed["rep"] == "张伟"]
    counts = diagnosed["shape"].value_counts()
    line = next(x for x in out.splitlines() if x.startswith("Shapes over the 18 date(s)"))
    for shape, n in counts.items():
        assert f"{shape} {n}" in line
    assert counts.idxmax() == "top-heavy"  # the sample's truth for 张伟
    assert f"On 2025-04-11: {diagnosed['reason'].iloc[-1]}" in out.splitlines()
    table = _section(out, "预收保费 by week")
    assert table[0] == ["week", "张伟"] and len(table) == 7


def test_csv_is_one_row_per_date_and_rep_with_identifiers(wide):
    rc, csv = call(str(TRACKING), "--csv")
    assert rc == 0
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame.columns) == ["date", "组员姓名", *STAGES, *AMOUNTS, "shape"]
    assert len(frame) == len(wide) == 108
    assert frame[STAGES].to_numpy().tolist() == wide[STAGES].to_numpy().tolist()
    assert set(frame["shape"]) <= set(SHAPES)
    with fs.language("zh"):  # identifiers, not words: the same CSV in Chinese
        assert call(str(TRACKING), "--csv")[1] == csv
    rc, one = call(str(TRACKING), "--csv", "--rep", "刘洋")
    assert set(pd.read_csv(io.StringIO(one))["shape"]) == {"empty"}


def _bad_total(tmp_path: Path) -> Path:
    book = openpyxl.load_workbook(DECK)
    sheet = book.active
    for row in sheet.iter_rows():
        if row[0].value == "小计":
            row[1].value = 8  # the deck says 7
            break
    path = tmp_path / "bad_total.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize(
    "args, words",
    [
        (["{deck}", "--rep", "某人"], ["'某人'", "杨晓玲, 施海兵"]),
        (["no-such-sheet.xlsx"], ["no-such-sheet.xlsx"]),
        (["{deck}", "--sheet", "5"], ["5", "小组追踪表"]),
        ([str(ROOT / "data" / "sample_events.csv")], ["sample_events.csv", "row 1"]),
        (["{bad}"], ["B", "7"]),  # the 小计 that disagrees with its reps, by its cell
    ],
)
def test_bad_input_gives_exit_code_2_and_one_line(args, words, tmp_path, capsys):
    bad = _bad_total(tmp_path)
    args = [a.format(deck=DECK, bad=bad) for a in args]
    rc, out = call(*args)
    err = capsys.readouterr().err
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("funnelsim: error:") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_a_wrong_subtotal_names_its_cell(tmp_path, capsys):
    bad = _bad_total(tmp_path)
    with pytest.raises(fs.LogError) as exc:
        fs.read_snapshot(bad)
    cell = exc.value.values["problems"][0].reason_values["cell"]
    call(str(bad))
    assert f"cell {cell} " in capsys.readouterr().err


@pytest.mark.parametrize("lang, word", [("en", "examples"), ("zh", "示例")])
def test_help_in_both_languages_and_its_examples_run(lang, word, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    with fs.language(lang), pytest.raises(SystemExit) as exc:
        main(["snapshot", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert word in text and "--rep" in text and "data/sample_tracking.xlsx" in text
    epilog = fs.t("cli.snapshot.epilog")
    examples = [shlex.split(line)[1:] for line in epilog.splitlines() if "  funnelsim " in line]
    assert len(examples) == 3
    for args in examples:
        args = args[: args.index(">")] if ">" in args else args
        with fs.language(lang):
            rc, out = call(*args[1:])
        assert rc == 0 and out, args


def test_the_snapshot_line_says_the_span_of_dates():
    rc, out = call(str(TRACKING), "--quiet")
    assert rc == 0
    first = out.splitlines()[0]
    assert re.search(r"\(2025-03-03 to 2025-04-11\)", first)
    assert "stages 约定初次见面数 → 25% → 50% → 90% → 成交" in first
