"""Events logs as CRMs and diallers write them: attempts, moves back, skipped stages,
won / lost / open status and loss reasons (issue #13), on small hand-made logs and on
the Chinese CRM export sample, whose truth the estimates recover within 4 SE."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.lessons import cohort
from funnelsim.logs import LogError

ROOT = Path(__file__).resolve().parents[1]
TRUTH = fs.datasets.load_crm_truth()
STAGES = ["dial", "connect", "meeting", "proposal", "sale"]


@pytest.fixture(scope="module")
def crm() -> fs.Log:
    return fs.datasets.load_crm_export()


def _mature(log: fs.Log, days: float) -> fs.Log:
    """The leads first dialled at least ``days`` before the export: all decided."""
    return cohort(log, end=pd.Timestamp(log.as_of) - pd.Timedelta(days=days))


# ------------------------------------------------------------------ small logs
def test_attempts_count_rows_per_stage_and_the_copied_row_is_an_error():
    events = pd.DataFrame(
        {
            "lead": ["A", "A", "A", "A", "B", "B", "B"],
            "stage": ["dial", "dial", "connect", "dial", "dial", "dial", "dial"],
            "time": [
                "2025-03-03 09:00", "2025-03-04 09:00", "2025-03-04 09:05", "2025-03-09",
                "2025-03-03", "2025-03-05", "2025-03-07",
            ],
        }
    )  # fmt: skip
    log = fs.read_log(events, format="events", stages=["dial", "connect"])
    # A's dial on 03-09 comes after its connect: kept (a move back), not an attempt
    assert log.attempts.to_dict("index") == {
        "A": {"dial": 2, "connect": 1},
        "B": {"dial": 3, "connect": 0},
    }
    assert log.n_rows == 7 and log.demotions["row"].tolist() == [5]
    table = log.stage_table()
    assert table.columns.tolist() == ["stage", "entered", "passed", "attempts"]
    assert table.iloc[0].tolist() == ["connect", 2, 1, 5]  # 5 dials for 1 connect
    assert log.times.loc["A", "dial"] == pd.Timestamp("2025-03-03 09:00")  # first dial
    assert log.as_of == pd.Timestamp("2025-03-09")  # the latest row, not the latest stage
    copied = pd.concat([events, events.iloc[[4]]], ignore_index=True)
    with pytest.raises(LogError) as info:
        fs.read_log(copied, format="events", stages=["dial", "connect"])
    [problem] = info.value.values["problems"]
    assert (problem.reason, problem.rows) == ("log.reason.duplicate_event", (9,))
    assert problem.reason_values == {
        "lead": "'B'",
        "stage": "'dial'",
        "time": "2025-03-03",
        "row": 6,
    }


def test_status_words_in_both_languages_and_the_latest_one_counts():
    events = pd.DataFrame(
        {
            "lead": ["A", "A", "B", "B", "C", "C", "D", "E", "E"],
            "stage": [
                "dial", "connect", "dial", "connect", "dial", "dial", "dial", "dial", "sale",
            ],
            "time": [
                "2025-03-01", "2025-03-02", "2025-03-01", "2025-03-05", "2025-03-03",
                "2025-03-01", "2025-03-01", "2025-03-01", "2025-03-04",
            ],
            "状态": ["跟进中", " WON ", "Open", "已流失", "输单", "跟进中", "", "", "丢单"],
            "原因": ["", "", "", "太贵", "没预算", "", "", "", "选了竞品"],
        }
    )  # fmt: skip
    log = fs.read_log(
        events,
        format="events",
        stages=["dial", "connect", "sale"],
        columns={"status": "状态", "reason": "原因"},
    )
    status = log.leads["status"].to_dict()
    # A: won without a sale row, at its won row's time; C: the later row says lost
    # (file order does not count); D: no status is open; E: at the last stage is won
    assert status == {"A": "won", "B": "lost", "C": "lost", "D": "open", "E": "won"}
    assert log.reached.loc["A"].tolist() == [True, True, True]
    assert log.times.loc["A", "sale"] == pd.Timestamp("2025-03-02")
    assert log.attempts.loc["A", "sale"] == 0
    assert log.leads["reason"].fillna("").to_dict() == {
        "A": "", "B": "太贵", "C": "没预算", "D": "", "E": "选了竞品",
    }  # fmt: skip
    assert log.closed[["A", "B", "E"]].tolist() == [
        pd.Timestamp("2025-03-02"),
        pd.Timestamp("2025-03-05"),
        pd.Timestamp("2025-03-04"),
    ]
    assert log.closed["C"] == pd.Timestamp("2025-03-03") and pd.isna(log.closed["D"])
    assert "status" in log.group_columns and "reason" not in log.group_columns
    by = log.stage_table(by="status")
    assert by.loc[by["status"] == "won", "passed"].tolist() == [2, 2]
    bad = events.copy()
    bad.loc[3, "状态"] = "maybe"
    with pytest.raises(LogError) as info:
        fs.read_log(
            bad, format="events", stages=["dial", "connect", "sale"], columns={"status": "状态"}
        )
    [problem] = info.value.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == (
        "状态",
        (5,),
        "log.reason.bad_status",
    )
    assert problem.reason_values == {"value": "'maybe'"}
    assert "'赢单'" in problem.fix_values["choices"] and "'lost'" in problem.fix_values["choices"]


def test_leads_logs_take_status_reason_and_the_loss_date():
    leads = pd.DataFrame(
        {
            "lead": ["A", "B", "C", "D"],
            "called": ["2025-03-01", "2025-03-01", "2025-03-02", "2025-03-03"],
            "won": ["2025-03-09", "", "", ""],
            "close": ["", "2025-03-06", "", "2025-03-10"],
            "status": ["", "lost", "open", "赢单"],
            "reason": ["", "price", "", ""],
        }
    )
    log = fs.read_log(leads, format="leads", stages=["called", "won"], as_of="2025-03-20")
    assert log.leads["status"].tolist() == ["won", "lost", "open", "won"]
    assert log.reached["won"].tolist() == [True, False, False, True]
    # a lost lead's close date is its loss date, not a won date; D won at its close date
    assert log.times.loc["D", "won"] == pd.Timestamp("2025-03-10")
    assert pd.isna(log.times.loc["B", "won"])
    assert log.closed["B"] == pd.Timestamp("2025-03-06") and pd.isna(log.closed["C"])
    result = fs.won_by(log)
    assert (result.n_won.sum(), result.n_lost.sum(), result.n_open) == (2, 1, 1)
    table = fs.loss_reasons(log)
    assert table[["stage", "reason", "count"]].values.tolist() == [["called", "price", 1]]
    # a leads log still refuses a date out of order: each cell is a date a person typed
    late = leads.assign(won=["2025-02-01", "", "", ""])
    with pytest.raises(LogError) as info:
        fs.read_log(late, format="leads", stages=["called", "won"])
    assert info.value.values["problems"][0].reason == "log.reason.order"


# ------------------------------------------------------------------ the CRM sample
def test_the_crm_sample_reads_every_row(crm):
    book = openpyxl.load_workbook(fs.datasets.path("sample_crm_export.xlsx"), read_only=True)
    sheet = book.worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header == [TRUTH["columns"][c] for c in (
        "lead", "rep", "stage", "time", "amount", "status", "reason", "source")]  # fmt: skip
    assert crm.dropped.empty and len(crm.leads) == TRUTH["leads"]
    stage_of = {v: k for k, v in TRUTH["stages"].items()}
    rows = [stage_of[r[2]] for r in sheet.iter_rows(min_row=2, values_only=True)]
    book.close()
    assert crm.n_rows == len(rows)  # every row but the header
    # The generator writes every dial before the connect (the last dial of a lead never
    # reached carries its loss) and exactly one connect row per connected lead (a later
    # row at connect records a loss): those are the attempts.
    assert int(crm.attempts["dial"].sum()) == rows.count("dial")
    assert (crm.attempts["connect"] == crm.reached["connect"].astype(int)).all()
    assert (crm.attempts["dial"] > 1).sum() > 500  # repeated dials
    assert len(crm.demotions) > 20 and set(crm.demotions["from"]) == {"proposal"}
    assert crm.skipped.set_index("stage").loc["meeting", "leads"] > 5
    assert set(crm.leads["status"]) == {"won", "lost", "open"}
    assert crm.group_columns == ["rep", "source", "status"]


def test_the_crm_sample_recovers_ratios_and_dials_per_connect(crm):
    mature = _mature(crm, 100)
    table = mature.stage_table().set_index("stage")
    truth = TRUTH["true"]["ratios"]
    for stage, row in table.iterrows():
        p = truth[stage]
        se = math.sqrt(p * (1 - p) / row["entered"])
        assert abs(row["passed"] / row["entered"] - p) < 4 * se, stage
    # dials per connect, a ratio of sums: delta-method SE over the leads
    dials = crm.attempts.loc[mature.leads.index, "dial"].to_numpy(float)
    connects = mature.reached["connect"].to_numpy(float)
    ratio = dials.sum() / connects.sum()
    se = math.sqrt(((dials - ratio * connects) ** 2).sum()) / connects.sum()
    pooled = crm.stage_table().set_index("stage").loc["connect"]
    assert pooled["attempts"] == crm.attempts["dial"].sum()
    assert abs(ratio - TRUTH["true"]["dials_per_connect"]) < 4 * se


def test_the_crm_sample_recovers_loss_reason_shares(crm):
    table = fs.loss_reasons(crm)
    for stage, shares in TRUTH["loss_reasons"].items():
        rows = table[table["stage"] == stage].set_index("reason")
        n = int(rows["count"].sum())
        assert set(rows.index) <= set(shares)
        for reason, p in shares.items():
            share = rows["share"].get(reason, 0.0)
            se = math.sqrt(max(p * (1 - p), 0.25 / n) / n)
            assert abs(share - p) < 4 * se, (stage, reason)


def test_the_crm_sample_recovers_the_share_won_by_day_t(crm):
    result = fs.won_by(crm)
    for day, truth in TRUTH["true"]["won_by"].items():
        t0 = float(day)
        k = np.searchsorted(result.time, t0, side="right") - 1
        assert abs(result.at(t0) - truth) < 4 * result.won_se[k], day
        assert result.at(t0, "won_km") > truth + 4 * result.won_se[k]  # the pitfall


def test_the_crm_amounts_are_read_as_yuan(crm):
    """Each won lead's 成交金额 cell, as typed ("1.8万", "¥11,000", "7千", "16000元"),
    becomes yuan; the cells are checked by hand against the workbook's text, and the
    mean against the true deal size."""
    won = crm.leads["status"] == "won"
    amounts = crm.leads["amount"]
    assert amounts[won].notna().all() and amounts[~won].isna().all()
    by_hand = {  # the xlsx text of the 成交金额 cell -> yuan
        "XS00030": ("1.8万", 18000.0),
        "XS00111": ("16000元", 16000.0),
        "XS00099": ("7千", 7000.0),
        "XS00142": ("¥11,000", 11000.0),
        "XS00154": ("2万", 20000.0),
    }
    book = openpyxl.load_workbook(fs.datasets.path("sample_crm_export.xlsx"), read_only=True)
    cells = {
        row[0]: row[4]
        for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)
        if row[4] is not None
    }
    book.close()
    assert len(cells) == won.sum()
    for lead, (text, yuan) in by_hand.items():
        assert (cells[lead], amounts[lead]) == (text, yuan), lead
    size = TRUTH["deal_size"]
    se = size["mean"] * size["cv"] / math.sqrt(won.sum())
    assert abs(amounts[won].mean() - size["mean"]) < 4 * se + 500  # rounded to thousands


def test_the_crm_workbook_is_rewritten_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_samples", ROOT / "data" / "make_samples.py"
    )
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    crm_spec = make.CRM_TRUTH
    frame = make.simulate_crm(np.random.default_rng(crm_spec["seed"]), crm_spec)
    out = tmp_path / "again.xlsx"
    make._fixed_xlsx(frame, out)
    assert out.read_bytes() == (ROOT / "data" / "sample_crm_export.xlsx").read_bytes()
    assert out.read_bytes() == fs.datasets.path("sample_crm_export.xlsx").read_bytes()


def test_moves_back_and_first_arrivals_equal_a_lead_by_lead_reading():
    """Random rows in random order: every move back (a row at a lower stage than the
    lead's row before it in time) is found, and the times follow the first-arrival rule."""
    rng = np.random.default_rng(13)
    n = 600
    lead = rng.integers(0, 120, n)
    stage = rng.integers(0, 4, n)
    hours = rng.choice(2000, n, replace=False)  # no two rows at the same time
    frame = pd.DataFrame(
        {
            "lead": [f"L{x}" for x in lead],
            "stage": np.array(STAGES[:4])[stage],
            "time": pd.Timestamp("2025-01-01") + pd.to_timedelta(hours, unit="h"),
        }
    )
    log = fs.read_log(frame, format="events", stages=STAGES[:4])
    expected_moves, expected_at = [], {}
    for name, rows in frame.assign(k=stage, row=np.arange(n) + 2).groupby("lead"):
        rows = rows.sort_values("time")
        ks, times = rows["k"].tolist(), rows["time"].tolist()
        start = times[0]
        for i in range(1, len(ks)):
            if ks[i] < ks[i - 1]:
                spent = round((times[i] - start) / pd.Timedelta(days=1), 9)
                expected_moves.append(
                    (name, STAGES[ks[i - 1]], STAGES[ks[i]], int(rows["row"].iloc[i]), spent)
                )
            if ks[i] != ks[i - 1]:
                start = times[i]
        for k in range(4):
            later = [t for t, j in zip(times, ks, strict=True) if j >= k]
            expected_at[(name, STAGES[k])] = min(later) if later else pd.NaT
    found = [
        (r.lead, r._2, r.to, r.row, round(r.spent_days, 9))
        for r in log.demotions.rename(columns={"from": "_2"}).itertuples()
    ]
    assert sorted(found) == sorted(expected_moves)
    assert len(found) > 50
    for (name, k), when in expected_at.items():
        got = log.times.loc[name, k]
        assert (pd.isna(got) and pd.isna(when)) or got == when
