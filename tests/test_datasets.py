"""The shipped sample logs: the same bytes as data/, and loaders that give what they say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import datasets

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", datasets.FILES)
def test_the_package_copy_is_the_data_folder_file(name):
    """make_samples.py writes data/ and copies it into the package: the two never drift."""
    assert datasets.path(name).read_bytes() == (DATA / name).read_bytes()


def test_every_sample_file_ships():
    real = set(datasets.REAL_FILES)
    shipped = {p.name for p in datasets.path("sample_truth.json").parent.glob("sample_*")}
    assert shipped | real == set(datasets.FILES)
    assert {p.name for p in DATA.glob("sample_*")} | real == set(datasets.FILES)


def test_unknown_file_is_a_clear_error():
    with pytest.raises(fs.FunnelsimValueError) as err:
        datasets.path("sample_nope.csv")
    assert err.value.key == "error.unknown_dataset"
    assert "sample_events.csv" in err.value.values["choices"]


def test_events_and_leads_are_the_same_leads_read_two_ways():
    events, leads = datasets.load_events(), datasets.load_leads()
    truth = datasets.load_truth()["events"]
    assert events.stages == leads.stages == tuple(truth["stages"])
    assert events.as_of == leads.as_of == pd.Timestamp(truth["as_of"])
    assert len(events.leads) == 6 * truth["leads_per_rep"]
    pd.testing.assert_frame_equal(events.reached, leads.reached)
    pd.testing.assert_frame_equal(events.times, leads.times)
    assert not len(events.dropped) and not len(leads.dropped)


def test_events_match_a_plain_pandas_reading_of_the_file():
    """Independent reference: count the file's rows per stage with pandas alone."""
    raw = pd.read_csv(DATA / "sample_events.csv")
    log = datasets.load_events()
    assert log.reached.sum().to_dict() == raw["stage"].value_counts().to_dict()
    assert sorted(log.leads["rep"].unique()) == sorted(raw["rep"].unique())


def test_counts_are_the_weekly_table():
    raw = pd.read_csv(DATA / "sample_counts.csv")
    log = datasets.load_counts()
    truth = datasets.load_truth()["counts"]
    assert log.stages == tuple(truth["stages"])
    assert len(log.counts) == len(raw) == truth["weeks"] * len(truth["reps"])
    for stage in log.stages:
        assert log.counts[stage].sum() == raw[stage].sum()
    assert np.isclose(log.counts["amount"].sum(), raw["revenue"].sum())


def test_the_chinese_export_reads_with_its_chinese_stages():
    log = datasets.load_events_gbk()
    spec = datasets.load_truth()["gbk"]
    assert log.stages == tuple(spec["stages"])
    assert len(log.leads) == 4 * spec["leads_per_rep"]
    raw = pd.read_csv(DATA / "sample_events_gbk.csv", encoding="gbk")
    assert log.reached.sum().to_dict() == raw["阶段"].value_counts().to_dict()


def test_pipeline_and_histories_load_and_feed_their_analyses():
    pipe = datasets.load_pipeline()
    raw = pd.read_csv(DATA / "sample_pipeline.csv")
    assert pipe.n_deals == len(raw)
    assert pipe.deals["amount"].sum() == pytest.approx(raw["amount"].sum(), rel=1e-12)
    history = datasets.load_deal_history()
    assert len(history) == 900
    assert isinstance(fs.calibration(history), fs.Calibration)
    grades = datasets.load_grade_history()
    assert isinstance(fs.grade_ladder(grades), fs.Ladder)
    assert sorted(datasets.load_pipeline_truth()) == ["grades", "history", "pipeline", "seed"]


def test_the_bank_log_is_the_published_file(shared_data):
    """The shipped real log is the UCI file byte for byte (its sha256 in the SOURCE note)."""
    import hashlib

    shipped = datasets.path("bank_marketing.csv.gz").read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == (
        "25ef5a7f820659c9010405d079b068761b9e4a75c232a6271ee6a77fc3de52ae"
    )
    published = shared_data / "bank_marketing" / "bank-additional-full.csv.gz"
    assert shipped == published.read_bytes()


def test_bank_months_follow_the_published_counts():
    """Months read from the row order: 26 of them, May 2008 to Nov 2010, no Jan/Feb, no Sep 2008.

    The reference: Moro et al. (2014) report 41,188 contacts, 4,640 successes; the calendar of the
    campaigns (no calls in January and February) comes from the file's own month column.
    """
    table = datasets.load_bank_marketing_table()
    months = table["period"].drop_duplicates().tolist()
    assert months[0] == "2008-05" and months[-1] == "2010-11" and len(months) == 26
    assert "2008-09" not in months and not any(m[-2:] in ("01", "02") for m in months)
    assert months == sorted(months)  # the row order is date order
    names = "jan feb mar apr may jun jul aug sep oct nov dec".split()
    number = table["month"].map({m: i + 1 for i, m in enumerate(names)})
    assert (table["period"].str[-2:].astype(int) == number).all()
    log = datasets.load_bank_marketing()
    by_month = log.stage_table(by="period")
    assert by_month["entered"].sum() == 41188 and by_month["passed"].sum() == 4640
    first = by_month.set_index("period").loc["2008-05", ["entered", "passed"]].tolist()
    assert first == [7763, 240]


# ------------------------------------------------ the manager's samples (issue #15)
def _make_samples():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    return make


def _within(observed: float, expected: float, variance: float, what: str) -> None:
    """Observed within 4 standard errors of the truth's expectation."""
    assert abs(observed - expected) <= 4 * np.sqrt(variance), (what, observed, expected)


def test_the_manager_samples_are_rewritten_byte_for_byte(tmp_path):
    """Same seed, same files: the script is the only source of the two samples."""
    make = _make_samples()
    calls = make.simulate_calls(np.random.default_rng(make.CALLS_TRUTH["seed"]), make.CALLS_TRUTH)
    leads = make.simulate_qualified_leads(
        np.random.default_rng(make.QUALIFIED_TRUTH["seed"]), make.QUALIFIED_TRUTH
    )
    for frame, name in ((calls, "sample_calls.csv"), (leads, "sample_qualified_leads.csv")):
        out = tmp_path / name
        frame.to_csv(out, index=False, lineterminator="\n")
        assert out.read_bytes() == (DATA / name).read_bytes(), name
    truth = datasets.load_qualified_leads_truth()
    assert make.qualified_truth(make.QUALIFIED_TRUTH) == truth["true"]
    assert {k: v for k, v in truth.items() if k != "true"} == make.QUALIFIED_TRUTH
    assert datasets.load_calls_truth() == make.CALLS_TRUTH


def test_the_call_record_reads_as_a_plain_pandas_reading_says():
    """Independent reference: the file's rows, outcomes and hh:mm:ss durations by hand."""
    raw = pd.read_csv(DATA / "sample_calls.csv", dtype=str)
    assert list(raw.columns) == ["呼叫时间", "坐席", "客户编号", "通话时长", "呼叫结果"]
    calls = datasets.load_calls()
    table = calls.table
    assert len(table) == len(raw) and not len(calls.dropped)
    assert list(table["lead"].astype(str)) == list(raw["客户编号"])
    assert table["connected"].sum() == (raw["呼叫结果"] == "已接通").sum()
    words = {"已接通": "connected", "未接听": "no_answer", "忙线": "busy", "拒接": "refused",
             "空号": "invalid"}  # fmt: skip
    assert list(table["outcome"].astype(str)) == list(raw["呼叫结果"].map(words))
    parts = raw["通话时长"].str.split(":", expand=True).astype(int)
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    assert np.array_equal(table["duration"].to_numpy(), seconds.to_numpy(dtype=float))
    assert (seconds[raw["呼叫结果"] != "已接通"] == 0).all()
    assert (seconds[raw["呼叫结果"] == "已接通"] > 0).all()
    assert table["time"].dt.weekday.max() == 5  # Saturday mornings
    assert set(table["time"].dt.hour) == {9, 10, 11, 13, 14, 15, 16, 17}


def test_the_call_record_gives_back_its_truth():
    """Each rep's, hour's and weekday's connects within 4 binomial SE of the model's
    expectation (the sum of each call's true chance), and each rep's mean talk time within
    4 SE of the lognormal's mean; 赵磊 is the rep who stands out."""
    truth = datasets.load_calls_truth()
    table = datasets.load_calls().table
    rep = table["rep"].astype(str)
    p = rep.map(truth["connect"]).to_numpy()
    p = p * table["time"].dt.hour.astype(str).map(truth["hour_factors"]).to_numpy()
    p = p * table["time"].dt.weekday.astype(str).map(truth["weekday_factors"]).to_numpy()
    hit = table["connected"].to_numpy()
    for key, groups in (
        ("rep", rep),
        ("hour", table["time"].dt.hour),
        ("weekday", table["time"].dt.weekday),
    ):
        for name, index in pd.Series(range(len(table))).groupby(groups.to_numpy()):
            i = index.to_numpy()
            _within(hit[i].sum(), p[i].sum(), (p[i] * (1 - p[i])).sum(), f"{key} {name}")
    # The pattern is there to see: afternoons beat 9 o'clock, and 赵磊 trails everyone.
    by_hour = pd.Series(hit).groupby(table["time"].dt.hour.to_numpy()).mean()
    assert by_hour[16] > by_hour[9] + 0.1
    rates = pd.Series(hit).groupby(rep.to_numpy()).mean()
    assert rates.idxmin() == "赵磊" and rates.drop("赵磊").min() > rates["赵磊"] + 0.08
    for name, talk in truth["talk_seconds"].items():
        d = table.loc[table["connected"].to_numpy() & (rep == name).to_numpy(), "duration"]
        se = talk["mean"] * talk["cv"] / np.sqrt(len(d))
        assert abs(d.mean() - talk["mean"]) <= 4 * se + 0.5, name  # +0.5: whole seconds


def test_the_qualified_leads_give_back_their_truth():
    """The win share of each MAN combination and intent class within 4 binomial SE of the
    closed-form truth; the truth rises with the grade (the decks' claim holds here by
    construction: the sample is there to test the test)."""
    spec = datasets.load_qualified_leads_truth()
    raw = datasets.load_qualified_leads()
    assert len(raw) == spec["leads"] and raw["客户编号"].is_unique
    assert set(raw["销售"]) == set(spec["reps"])
    cols = spec["columns"]
    yes = {f: (raw[cols[f]] == "是").to_numpy() for f in ("money", "authority", "need", "won")}
    for f in ("money", "authority", "need", "won"):
        assert set(raw[cols[f]]) == {"是", "否"}
    won = yes["won"]
    n = len(raw)
    for name, combo in spec["true"]["man"].items():
        mine = np.ones(n, dtype=bool)
        for f in ("money", "authority", "need"):
            mine &= yes[f] == bool(combo[f])
        k, share = mine.sum(), combo["share"]
        _within(k, n * share, n * share * (1 - share), f"share of {name}")
        w = combo["win"]
        _within(won[mine].sum(), k * w, k * w * (1 - w), f"won in {name}")
    words = {v: k for k, v in spec["intent_words"].items()}
    intent = raw[cols["intent"]].map(words)
    assert intent.notna().all()
    for name, row in spec["true"]["intent"].items():
        mine = (intent == name).to_numpy()
        k, w = mine.sum(), row["win"]
        _within(k, n * row["share"], n * row["share"] * (1 - row["share"]), f"share {name}")
        _within(won[mine].sum(), k * w, k * w * (1 - w), f"won in {name}")
    wins = [spec["true"]["intent"][i]["win"] for i in spec["intents"]]
    assert wins == sorted(wins, reverse=True)
    man = spec["true"]["man"]
    assert man["MAN"]["win"] > max(man[c]["win"] for c in ("MA", "MN", "AN"))
    assert min(man[c]["win"] for c in ("MA", "MN", "AN")) > max(
        man[c]["win"] for c in ("M", "A", "N")
    )
    assert min(man[c]["win"] for c in ("M", "A", "N")) > man["none"]["win"]


def test_targets_sheet_holds_the_sample_reps_sales_to_date():
    """``sample_targets.csv``'s 实际 is each rep's sales in sample_events.csv (pandas sum)."""
    sheet = datasets.load_targets()
    assert list(sheet.columns) == ["销售", "目标", "实际"]
    events = pd.read_csv(datasets.path("sample_events.csv"))
    sales = events.loc[events["stage"] == "sale"].groupby("rep")["amount"].sum().round()
    assert sheet.set_index("销售")["实际"].to_dict() == sales.astype(int).to_dict()
    assert (sheet["目标"] > sheet["实际"]).all()  # half-way: nobody has finished yet
