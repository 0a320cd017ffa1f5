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
