"""The grade ladder with dates: the stock per grade (the pyramid) and the share of a grade
that reaches the top grade within its time window (a B signs within 60 days)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs

DATA = Path(__file__).resolve().parents[1] / "data"
GRADES = ["E", "D", "C", "B", "A"]


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "sample_grade_history.csv", dtype=str)
    return frame.assign(date=pd.to_datetime(frame["date"], format="%Y-%m-%d"))


@pytest.fixture(scope="module")
def ladder() -> fs.Ladder:
    return fs.grade_ladder(DATA / "sample_grade_history.csv")


def _reference_dates(history: pd.DataFrame) -> pd.DataFrame:
    """Each lead's date at each grade, by pandas: the sample has one row per grade reached."""
    return history.pivot(index="lead", columns="grade", values="date")[GRADES]


# ------------------------------------------------------------------ the stock
@pytest.mark.parametrize("as_of", ["2024-03-31", "2024-06-30", "2024-12-31", None])
def test_stock_matches_a_pandas_count_of_each_leads_grade_on_the_day(ladder, history, as_of):
    day = history["date"].max() if as_of is None else pd.Timestamp(as_of)
    seen = history[history["date"] <= day].assign(rank=lambda h: h["grade"].map(GRADES.index))
    best = seen.groupby("lead")["rank"].max()
    counts = np.bincount(best, minlength=5)
    got = ladder.stock(as_of)
    assert got["grade"].tolist() == GRADES
    assert got["leads"].tolist() == counts.tolist()
    np.testing.assert_allclose(got["share"].iloc[:4], counts[:4] / counts[:4].sum(), rtol=1e-12)
    assert np.isnan(got["share"].iloc[4])  # A: signed clients, not stock
    assert got.attrs["as_of"] == day


def test_stock_before_the_history_starts_is_empty(ladder):
    got = ladder.stock("2023-01-01")
    assert got["leads"].sum() == 0 and got["share"].isna().all()


def test_stock_without_dates_counts_each_leads_highest_grade(history):
    plain = fs.grade_ladder(history.drop(columns="date"))
    assert plain.dates is None
    assert plain.stock()["leads"].tolist() == [601, 353, 130, 51, 65]
    assert plain.stock().attrs["as_of"] is None
    with pytest.raises(fs.FunnelsimValueError) as err:
        plain.stock(as_of="2024-06-30")
    assert err.value.key == "error.ladder_no_dates"


def test_the_date_column_leaves_the_ladder_and_leads_needed_as_they_were(ladder, history):
    plain = fs.grade_ladder(history.drop(columns="date"))
    pd.testing.assert_frame_equal(ladder.to_frame(), plain.to_frame())
    pd.testing.assert_frame_equal(ladder.leads_needed(10), plain.leads_needed(10))
    pd.testing.assert_frame_equal(ladder.leads, plain.leads)


def test_reach_dates_match_the_pandas_pivot(ladder, history):
    ref = _reference_dates(history).reindex(ladder.dates["lead"])
    got = ladder.dates.set_index("lead")[GRADES]
    pd.testing.assert_frame_equal(got, ref, check_names=False, check_dtype=False)


def test_a_lead_reaches_the_grades_below_on_its_first_row_at_or_above_them():
    rows = pd.DataFrame(
        {
            "lead": ["x", "x", "y"],
            "grade": ["C", "B", "B"],
            "date": ["2025-01-10", "2025-02-01", "2025-01-05"],
        }
    )
    dates = fs.grade_ladder(rows).dates.set_index("lead")
    assert dates.loc["x", "E"] == pd.Timestamp("2025-01-10")  # no skipping back
    assert dates.loc["x", "B"] == pd.Timestamp("2025-02-01")
    assert dates.loc["y", "D"] == pd.Timestamp("2025-01-05")
    assert pd.isna(dates.loc["y", "A"])


def test_chinese_date_headers_are_recognised():
    rows = pd.DataFrame(
        {"线索编号": ["a", "a"], "客户等级": ["E", "D"], "变更日期": ["2025-01-01", "2025-01-20"]}
    )
    ladder = fs.grade_ladder(rows, columns={"grade": "客户等级"})
    assert ladder.stock()["leads"].tolist() == [0, 1, 0, 0, 0]


@pytest.mark.parametrize(
    ("cell", "reason"), [("2025-13-45", "log.reason.bad_date"), ("", "log.reason.no_date")]
)
def test_a_bad_date_is_one_error_naming_the_row(cell, reason):
    rows = pd.DataFrame(
        {
            "lead": ["a", "b", "c"],
            "grade": ["E", "D", "E"],
            "date": ["2025-01-01", cell, "2025-01-02"],
        }
    )
    with pytest.raises(fs.LogError) as err:
        fs.grade_ladder(rows)
    (problem,) = err.value.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == ("date", (3,), reason)
    kept = fs.grade_ladder(rows, errors="drop")
    assert kept.dropped["row"].tolist() == [3]
    assert kept.stock()["leads"].sum() == 2


# ---------------------------------------------------------- closing within
def test_closing_within_matches_a_pandas_computation(ladder, history):
    ref = _reference_dates(history)
    for as_of, grade, days in [("2024-09-30", "B", 60), (None, "B", 60), ("2025-01-31", "C", 90)]:
        day = history["date"].max() if as_of is None else pd.Timestamp(as_of)
        start, top = ref[grade], ref["A"]
        reached = start <= day
        settled = reached & (start + pd.Timedelta(days=days) <= day)
        closed = settled & (top - start <= pd.Timedelta(days=days))
        got = ladder.closing_within({grade: days}, as_of=as_of).iloc[0]
        assert (got["reached"], got["settled"], got["closed"]) == (
            reached.sum(),
            settled.sum(),
            closed.sum(),
        )
        assert got["censored"] == reached.sum() - settled.sum() > 0
        assert got["share"] == pytest.approx(closed.sum() / settled.sum(), rel=1e-12)


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_closing_within_intervals_are_statsmodels_wilson(ladder, level):
    got = ladder.closing_within({"D": 120, "C": 90, "B": 60}, confidence_level=level)
    low, high = proportion_confint(got["closed"], got["settled"], alpha=1 - level, method="wilson")
    np.testing.assert_allclose(got["low"], low, rtol=1e-9)
    np.testing.assert_allclose(got["high"], high, rtol=1e-9)


def test_closing_within_agrees_with_the_samples_generator():
    """data/make_samples.py: B -> A with chance 0.6, after round(Exp(mean 20)) + 1 days:
    within 60 days when the exponential draw is below 59.5."""
    spec = json.loads((DATA / "sample_pipeline_truth.json").read_text())["grades"]
    truth = spec["step_up"]["A"] * (1 - np.exp(-59.5 / spec["days"]))
    got = fs.grade_ladder(DATA / "sample_grade_history.csv").closing_within().iloc[0]
    se = np.sqrt(truth * (1 - truth) / got["settled"])
    assert abs(got["share"] - truth) < 4 * se
    assert got["low"] < truth < got["high"]


def _simulated(leads: int, chance: float, mean_days: float, span: int, seed: int):
    """Leads reach B on a uniform day of ``span``; with ``chance`` they sign (A) after
    ceil(Exp(mean_days)) days; the export holds the rows up to the last day."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    entry = rng.integers(0, span, leads)
    signs = rng.random(leads) < chance
    delay = np.ceil(rng.exponential(mean_days, leads)).astype(int)
    ids = np.array([f"L{i:05d}" for i in range(leads)], dtype=object)
    b = pd.DataFrame({"lead": ids, "grade": "B", "day": entry})
    a = pd.DataFrame({"lead": ids[signs], "grade": "A", "day": (entry + delay)[signs]})
    rows = pd.concat([b, a], ignore_index=True)
    rows = rows[rows["day"] <= span]
    rows["date"] = (start + pd.to_timedelta(rows["day"], unit="D")).dt.strftime("%Y-%m-%d")
    return rows.drop(columns="day"), (start + pd.Timedelta(days=span)).strftime("%Y-%m-%d")


def test_leaving_unsettled_leads_out_is_unbiased_and_counting_them_is_not():
    chance, mean_days, window = 0.5, 40.0, 60
    truth = chance * (1 - np.exp(-window / mean_days))  # delay = ceil(Exp) <= 60
    rows, as_of = _simulated(20_000, chance, mean_days, span=240, seed=2026)
    got = fs.grade_ladder(rows).closing_within({"B": window}, as_of=as_of).iloc[0]
    se = np.sqrt(truth * (1 - truth) / got["settled"])
    assert abs(got["share"] - truth) < 4 * se
    assert got["censored"] > 0.1 * got["reached"]  # a real share of the history is recent
    # Counting every lead that reached B, the open ones as not closed: biased down.
    b = rows[rows["grade"] == "B"].set_index("lead")["date"]
    a = rows[rows["grade"] == "A"].set_index("lead")["date"].reindex(b.index)
    gap = (pd.to_datetime(a) - pd.to_datetime(b)).dt.days
    naive = (gap <= window).sum() / len(b)
    assert len(b) == got["reached"] and (gap <= window).sum() > got["closed"]
    assert naive < truth - 4 * se


# ------------------------------------------------------------------ bad input
def test_closing_within_without_dates_asks_for_a_date_column(history):
    plain = fs.grade_ladder(history.drop(columns="date"))
    with pytest.raises(fs.FunnelsimValueError) as err:
        plain.closing_within()
    assert err.value.key == "error.ladder_no_dates"
    assert "date" in str(err.value)


@pytest.mark.parametrize(
    ("windows", "key"),
    [
        ({"Z": 60}, "error.ladder_window_grade"),
        ({"A": 60}, "error.ladder_window_grade"),
        ({"B": -1}, "error.ladder_window_days"),
        ({"B": "60"}, "error.ladder_window_days"),
        ({"B": True}, "error.ladder_window_days"),
        ({"B": float("nan")}, "error.ladder_window_days"),
        ({"B": [60]}, "error.ladder_window_days"),
        ([60], "error.ladder_windows"),
        ({}, "error.ladder_windows"),
        (60, "error.ladder_windows"),
    ],
)
def test_bad_windows_are_clear_errors(ladder, windows, key):
    with pytest.raises(fs.FunnelsimValueError) as err:
        ladder.closing_within(windows)
    assert err.value.key == key


@pytest.mark.parametrize("as_of", ["not a date", 2024, True])
def test_a_bad_as_of_is_a_clear_error(ladder, as_of):
    with pytest.raises(fs.FunnelsimValueError) as err:
        ladder.stock(as_of)
    assert err.value.key == "error.ladder_as_of"


def test_no_settled_lead_gives_no_share(ladder):
    got = ladder.closing_within({"B": 60}, as_of="2024-01-20").iloc[0]
    assert got["settled"] == 0 and np.isnan(got[["share", "low", "high"]].astype(float)).all()
    assert "B" in ladder.summary(as_of="2024-01-20").splitlines()[1]


# ------------------------------------------------------------- words and plots
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_reads_in_both_languages(ladder, lang):
    with fs.language(lang):
        text = ladder.summary(as_of="2024-06-30")
    first, second = text.splitlines()
    assert "570" in first and "351" in first and "17" in first
    assert "12" in second and "21" in second and "57%" in second
    if lang == "zh":
        assert "未结线索" in first and "；" in first


def test_pyramid_draws_the_stock_with_counts_on_the_bars(ladder):
    with fs.language("zh"), fs.plotting.style():
        ax = fs.plotting.plot_grade_pyramid(ladder, as_of="2024-06-30")
    widths = [p.get_width() for p in ax.patches]
    assert widths == [351, 150, 52, 17, 17]
    centres = [p.get_x() + p.get_width() / 2 for p in ax.patches]
    np.testing.assert_allclose(centres, 0.0, atol=1e-9)  # a pyramid: centred bars
    assert [p.get_y() for p in ax.patches] == sorted(p.get_y() for p in ax.patches)  # E lowest
    assert ax.texts[0].get_text() == "351（62%）"
    assert ax.texts[-1].get_text() == "已签约 17"
    assert "金字塔" in ax.get_title()


def test_pyramid_wants_a_ladder():
    with pytest.raises(fs.FunnelsimTypeError):
        fs.plotting.plot_grade_pyramid(pd.DataFrame())
