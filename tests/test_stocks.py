"""Tracking sheets of stocks (issue #13): the deck's sheet, the tidy table, the sample sheet."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import datasets

DECK_TOTAL = [7, 7, 5, 3, 5, 13000, 14000]  # the deck's 小计 row (SOURCE.md)
STAGES = ("约定初次见面数", "25%", "50%", "90%", "成交")
ROWS = {"杨晓玲": [3, 4, 3, 1, 2, 3000, 6000], "施海兵": [4, 3, 2, 2, 3, 10000, 8000]}


def _check_deck(snap: fs.Snapshot, names: dict[str, str]) -> None:
    assert snap.stages == STAGES
    assert snap.amount_columns == ("预收保费", "承保标保")
    team = snap.team()
    assert team["date"].tolist() == [pd.Timestamp("2009-12-12")]
    assert team.iloc[0, 1:].tolist() == DECK_TOTAL
    wide = snap.to_frame().set_index(snap.to_frame().columns[1])
    for rep, row in ROWS.items():
        assert wide.loc[names.get(rep, rep)].iloc[1:].tolist() == row
    assert snap.reps == [names.get(r, r) for r in ROWS]


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, names",
    [
        ("team_tracker.xlsx", {}),
        ("team_tracker_traditional.xlsx", {"杨晓玲": "楊曉玲"}),  # names kept as written
        ("team_tracker_monday.csv", {}),
    ],
)
def test_the_decks_sheet_gives_the_decks_totals(shared_data, name, names):
    snap = fs.read_snapshot(shared_data / "deck_tracking_sheet" / name)
    _check_deck(snap, names)
    # the blank Wednesday and Friday templates are skipped and said so
    assert len(snap.notes) == (0 if name.endswith(".csv") else 2)
    if not name.endswith(".csv"):  # the file's own 小计 was checked and agrees
        assert snap.totals["value"].tolist() == DECK_TOTAL


def test_the_shipped_deck_sheet_and_read_log_snapshot():
    _check_deck(datasets.load_deck_tracking(), {})
    snap = fs.read_log(datasets.path("deck_tracking.xlsx"), format="snapshot", stages=None)
    assert isinstance(snap, fs.Snapshot)
    assert snap.stocks.equals(datasets.load_deck_tracking().stocks)


def test_counts_format_refusal_points_at_read_snapshot():
    frame = datasets.load_deck_tracking().to_frame()
    with pytest.raises(fs.LogError) as err:
        fs.read_log(frame, format="counts", stages=list(STAGES))
    assert err.value.values["problems"][0].fix == "log.fix.rising"
    assert "read_snapshot" in str(err.value)


def _deck_copy(tmp_path, edit) -> str:
    book = openpyxl.load_workbook(datasets.path("deck_tracking.xlsx"))
    edit(book.active)
    target = tmp_path / "sheet.xlsx"
    book.save(target)
    return target


def test_a_wrong_subtotal_names_the_block_and_column(tmp_path):
    target = _deck_copy(tmp_path, lambda ws: ws.__setitem__("D8", 6))  # 50%: 5 in the deck
    with pytest.raises(fs.LogError) as err:
        fs.read_snapshot(target)
    assert err.value.key == "stocks.error.title"
    (problem,) = err.value.values["problems"]
    assert problem.reason == "stocks.reason.total"
    values = problem.reason_values
    assert (values["cell"], values["column"], values["total"], values["sum"]) == (
        "D8",
        "50%",
        "6",
        "5",
    )
    assert values["block"] == "周一 (2009-12-12)"


def test_a_negative_count_names_the_cell(tmp_path):
    target = _deck_copy(tmp_path, lambda ws: ws.__setitem__("C7", -3))
    with pytest.raises(fs.LogError) as err:
        fs.read_snapshot(target)
    reasons = {p.reason: p.reason_values["cell"] for p in err.value.values["problems"]}
    assert reasons["log.reason.count_negative"] == "C7"
    assert "C7" in str(err.value)
    snap = fs.read_snapshot(target, errors="drop")  # the bad row is listed, not lost
    assert snap.reps == ["杨晓玲"] and snap.dropped["row"].tolist() == [7]


def test_stocks_may_rise_down_the_funnel_and_team_totals_are_sums():
    snap = datasets.load_tracking()
    team = snap.team().set_index("date")
    wide = snap.to_frame()
    sums = wide.groupby("date")[list(snap.stages) + list(snap.amount_columns)].sum()
    pd.testing.assert_frame_equal(team, sums, check_dtype=False, check_names=False)
    assert (wide["90%"] > wide["25%"]).any()  # a stock, not a flow: never an error
    # the file's 小计 rows were all checked against the reps and agree
    checked = snap.totals.pivot_table(index="date", columns="column", values="value")
    assert checked.shape == (18, 7)
    assert (checked[list(sums.columns)].to_numpy() == sums.to_numpy()).all()


def test_the_sample_sheets_shapes_match_its_truth():
    snap, truth = datasets.load_tracking(), datasets.load_tracking_truth()
    shapes = snap.diagnose()
    assert list(shapes.columns) == ["date", "rep", "25%", "50%", "90%", "shape", "reason"]
    expected = shapes["rep"].map(lambda r: truth["reps"][r]["shape"])
    share = (shapes["shape"] == expected).groupby(shapes["rep"]).mean()
    # the shapes are the model's steady states; noise flips a few entries (at most 1 in 5)
    assert (share >= 0.8).all(), share
    assert set(expected) == set(fs.diagnose.SHAPES)
    # independent reference: diagnose_pipeline on one row by hand
    row = shapes.iloc[4]
    counts = {s: row[s] for s in ("25%", "50%", "90%")}
    assert fs.diagnose_pipeline(counts).shape == row["shape"]


def test_amounts_by_week_add_the_entries_of_each_week():
    snap = datasets.load_tracking()
    weeks = snap.amounts_by("week")
    raw = snap.amounts[snap.amounts["amount"] == "预收保费"]
    monday = raw["date"] - pd.to_timedelta(raw["date"].dt.dayofweek, unit="D")
    by_hand = raw.groupby([raw["rep"], monday])["value"].sum()
    got = weeks.set_index(["rep", "week"])["预收保费"]
    assert got.sort_index().tolist() == by_hand.sort_index().tolist()
    assert (weeks["week"].dt.dayofweek == 0).all()
    assert len(snap.amounts_by("month")) == 6 * 2  # March and April


def test_plot_stocks_returns_labelled_axes():
    snap = datasets.load_tracking()
    with fs.plotting.style():
        ax = fs.plotting.plot_stocks(snap, rep="张伟")
        assert ax.get_xlabel() and ax.get_ylabel() and "张伟" in ax.get_title()
        assert [line.get_label() for line in ax.lines] == list(snap.stages)
        team = fs.plotting.plot_stocks(snap)
        assert team.lines[1].get_ydata().max() == snap.team()["25%"].max()
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.plotting.plot_stocks(snap, rep="nobody")
    assert err.value.key == "stocks.error.rep"


def test_chinese_repr():
    snap = datasets.load_deck_tracking()
    with fs.language("zh"):
        text = repr(snap)
    assert "位销售人员" in text and "reps" not in text and "notes" not in text


def _deck_grid() -> list[list[object]]:
    book = openpyxl.load_workbook(datasets.path("deck_tracking.xlsx"))
    return [
        ["" if v is None else v for v in row] for row in book.active.iter_rows(values_only=True)
    ]


def test_the_decks_layout_reads_from_csv_too(tmp_path):
    """The raw-grid path of a CSV: a title row as row 1 (no header there), GB18030 bytes."""
    target = tmp_path / "sheet.csv"
    text = "\n".join(",".join(map(str, row)) for row in _deck_grid()) + "\n"
    target.write_bytes(text.encode("gb18030"))
    snap = fs.read_snapshot(target)
    _check_deck(snap, {})
    assert len(snap.notes) == 2


def test_columns_and_stages_can_be_named():
    frame = pd.DataFrame(
        {"when": ["2025-03-03", "2025-03-05"], "who": ["王芳", "王芳"], "a": [5, 4],
         "b": [2, 6], "备注": [1, 2]}
    )  # fmt: skip
    snap = fs.read_snapshot(
        frame, columns={"date": "when", "rep": "who"}, stages={"25%": "a", "50%": "b"}
    )
    assert snap.stages == ("25%", "50%") and snap.amount_columns == ("备注",)
    assert snap.stocks["leads"].tolist() == [5, 2, 4, 6]
    team = snap.diagnose(by="date", stages=["25%", "50%"], min_total=1)
    assert team["shape"].tolist() == ["healthy", "top-heavy"]
    with pytest.raises(fs.FunnelsimValueError) as err:
        snap.diagnose(by="rep")
    assert err.value.key == "stocks.error.by"


def test_a_block_without_a_date_and_an_unknown_sheet_are_clear_errors(tmp_path):
    frame = pd.DataFrame({"组员姓名": ["王芳"], "25%": [5], "50%": [2]})
    with pytest.raises(fs.LogError) as err:
        fs.read_snapshot(frame)
    assert err.value.key == "stocks.error.no_date" and err.value.values["row"] == 1
    with pytest.raises(fs.LogError) as err:
        fs.read_snapshot(datasets.path("deck_tracking.xlsx"), sheet="Sheet9")
    assert err.value.key == "log.error.no_sheet" and "'小组追踪表'" in err.value.values["sheets"]
    snap = fs.read_snapshot(datasets.path("deck_tracking.xlsx"), sheet="小组追踪表")
    assert snap.team()["25%"].tolist() == [7]


def test_numbers_outside_every_block_are_noted_not_lost(tmp_path):
    target = _deck_copy(tmp_path, lambda ws: ws.__setitem__("C3", 99))  # above the first block
    snap = fs.read_snapshot(target)
    assert any("3" in note and "outside" in note for note in snap.notes)
    assert snap.team()["25%"].tolist() == [7]


def test_counts_beyond_exact_floats_and_fractions_are_refused():
    frame = pd.DataFrame(
        {"日期": ["2025-03-03"] * 2, "组员姓名": ["王芳", "李强"], "25%": [2**60, 3],
         "50%": [1, 1.5]}
    )  # fmt: skip
    with pytest.raises(fs.LogError) as err:
        fs.read_snapshot(frame)
    got = {(p.reason, p.reason_values["cell"]) for p in err.value.values["problems"]}
    assert got == {("stocks.reason.count_huge", "C2"), ("log.reason.count_fraction", "D3")}


def test_the_sample_sheets_stocks_recover_the_models_steady_state():
    """Each stage of a rep started at its steady state is a stationary Poisson stock:
    stage 0 has mean mu_0 = inflow / (move_0 + drop_0), stage k mean
    mu_k = mu_(k-1) move_(k-1) / (move_k + drop_k), and the deals of an entry (成交)
    mean mu_3 move_3. The stocks follow X_(t+1) = A X_t + noise with A lower
    triangular (stay = 1 - move - drop on the diagonal, move below it), so
    Cov(X_k(t+h), X_k(t)) = stay_k^h mu_k: the mean of n = 18 entries has variance
    mu_k / n^2 sum_(i,j) stay_k^|i-j|. The deals, the leads leaving the last stock,
    are independent Poisson(mu_3 move_3) from entry to entry (what leaves a Poisson
    infinite-server stage is Poisson). Each mean is within 4 of its SE."""
    snap, truth = datasets.load_tracking(), datasets.load_tracking_truth()
    wide = snap.to_frame()
    stock_stages = list(snap.stages[:4])
    for rep, spec in truth["reps"].items():
        if spec["start"] != "steady":  # the new rep starts empty: not stationary
            continue
        rows = wide[wide["组员姓名"] == rep]
        n = len(rows)
        assert n == 18
        lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        mu = spec["inflow"]
        for k, stage in enumerate(stock_stages):
            if k:
                mu = mu * spec["move"][k - 1]
            mu = mu / (spec["move"][k] + spec["drop"][k])
            stay = 1 - spec["move"][k] - spec["drop"][k]
            se = np.sqrt(mu * (stay**lag).sum()) / n
            assert abs(rows[stage].mean() - mu) < 4 * se, (rep, stage, rows[stage].mean(), mu)
        deals_mu = mu * spec["move"][3]  # leaving an infinite-server stage: iid Poisson
        se = np.sqrt(deals_mu / n)
        assert abs(rows[snap.stages[4]].mean() - deals_mu) < 4 * se, (rep, "deals")
