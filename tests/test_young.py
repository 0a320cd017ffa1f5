"""Young open leads: the share per step (by hand), and fit()'s warning suggesting mature=."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.cli import main
from funnelsim.i18n import language

STAGES = "dial,connect,meeting,proposal,sale"


def _no_young_warning(log, **kwargs):
    """fit(log, **kwargs) with a YoungLeadsWarning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", fs.YoungLeadsWarning)
        return fs.fit(log, **kwargs)


def _small_log(status=None):
    """Six leads at the proposal, as_of 2024-03-01 (ages 60, 50, 20, 10, 5, 3 days).

    a and b sold after 10 and 30 days: the typical time (90th percentile of 10 and
    30) is 10 + 0.9 * 20 = 28 days. c..f have not sold: c is 20 days old, d 10, e 5,
    f 3, all younger than 28 days, so 4 of 6 are young while open.
    """
    frame = pd.DataFrame(
        {
            "lead": list("abcdef"),
            "proposal": ["2024-01-01", "2024-01-11", "2024-02-10", "2024-02-20",
                         "2024-02-25", "2024-02-27"],
            "sale": ["2024-01-11", "2024-02-10", None, None, None, None],
        }
    )  # fmt: skip
    if status is not None:
        frame["status"] = status
        frame["close"] = ["2024-01-11", "2024-02-10", "2024-02-28", "2024-02-28", None, None]
    return fs.read_log(frame, format="leads", stages=["proposal", "sale"], as_of="2024-03-01")


def test_share_by_hand():
    table = fs.young_leads(_small_log())
    row = table.iloc[0]
    assert (row["stage"], row["entered"], row["passed"], row["young"]) == ("sale", 6, 2, 4)
    assert row["typical_time"] == pytest.approx(28.0)
    assert row["share"] == pytest.approx(4 / 6)
    assert bool(row["flagged"])
    assert table.attrs["unit"] == "days"
    # the median instead: 20 days; c (exactly 20 days old) is no longer young
    median = fs.young_leads(_small_log(), quantile=0.5).iloc[0]
    assert median["typical_time"] == pytest.approx(20.0)
    assert median["young"] == 3


def test_lost_leads_are_not_young():
    # c and d were lost (decided): only e and f are young and open
    row = fs.young_leads(_small_log(["won", "won", "lost", "lost", "open", "open"])).iloc[0]
    assert row["young"] == 2
    assert row["share"] == pytest.approx(2 / 6)


def test_sample_events_warns_and_mature_does_not():
    log = fs.datasets.load_events()
    table = fs.young_leads(log).set_index("stage")
    # only the sale step is flagged: 32 of 277 proposals young and open (11.6 %)
    assert table["flagged"].tolist() == [False, False, False, True]
    assert table.loc["sale", ["entered", "young"]].tolist() == [277, 32]
    assert table["share"].max() > 0.10
    # the same count, computed directly from the lead table
    leads = fs.read_log(fs.datasets.path("sample_leads.csv"), format="leads",
                        stages=STAGES.split(","), as_of=log.as_of)  # fmt: skip
    times = leads.times
    took = (times["sale"] - times["proposal"]).dropna() / pd.Timedelta(days=1)
    typical = np.quantile(took, 0.9)
    age = (log.as_of - times["proposal"]) / pd.Timedelta(days=1)
    young = times["proposal"].notna() & times["sale"].isna() & (age < typical)
    assert int(young.sum()) == table.loc["sale", "young"]
    assert table.loc["sale", "typical_time"] == pytest.approx(typical)

    with pytest.warns(fs.YoungLeadsWarning) as caught:
        fs.fit(log)
    assert len(caught) == 1  # one warning, however many steps
    text = str(caught[0].message)
    assert "sale" in text and "12%" in text
    assert f"mature={math.ceil(typical)}" in text  # 24 days
    _no_young_warning(log, mature=math.ceil(typical))


def test_no_warning_without_open_leads_or_times():
    log = fs.datasets.load_events()
    later = fs.read_log(fs.datasets.path("sample_events.csv"), format="events",
                        stages=STAGES.split(","), as_of="2026-06-30")  # fmt: skip
    assert fs.young_leads(later)["young"].sum() == 0
    _no_young_warning(later)
    # every lead decided (won or lost): none open, none young
    decided = _small_log(["won", "won", "lost", "lost", "lost", "lost"])
    assert fs.young_leads(decided)["young"].sum() == 0
    _no_young_warning(decided)
    # counts logs have no lead ages
    counts = fs.datasets.load_counts()
    assert fs.young_leads(counts).empty
    _no_young_warning(counts)
    # grouped fits warn too (the pooled log is the same)
    with pytest.warns(fs.YoungLeadsWarning):
        fs.fit(log, by="rep")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_prints_one_note(lang, capsys):
    path = str(fs.datasets.path("sample_events.csv"))
    out = io.StringIO()
    with language(lang):
        note = fs.t("cli.note", note="")
        code = main(["forecast", path, "--stages", STAGES, "--by", "rep", "--target", "5",
                     "--reps", "200", "--seed", "1"], out=out)  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if line.startswith(note)]
    assert len(notes) == 1, err
    assert "--mature 24" in notes[0]  # in the command line's terms
    assert "Warning" not in err and note not in out.getvalue().split("\n")[0]
    with language(lang):
        main(["fit", path, "--stages", STAGES, "--mature", "30"], out=io.StringIO())
    assert "--mature" not in capsys.readouterr().err


# ------------------------------------------------ open leads over many simulated logs
def _one_step_spec(lag_days: float) -> dict:
    return {
        "stages": ["dial", "connect"],
        "sources": ["referral", "cold list"],
        "ratios": {"referral": {"connect": 0.5}, "cold list": {"connect": 0.5}},
        "referral_share": {"ann": 0.5},
        "rep_factors": {},
        "leads_per_rep": 2000,
        "start": "2025-01-01",
        "as_of": "2025-03-02",  # 60 days
        "lag_days": {"connect": lag_days},
        "lag_shape": 2.0,
    }


def test_open_lead_gap_against_the_closed_form():
    """Dials uniform over T = 60 days, lag gamma(2, mean 10): a lead dialled at u has
    connected by as_of with probability p F(T - u), so E[naive] = p (1/T) int_0^T F(v) dv."""
    from scipy import integrate, stats

    spec, logs, n, p = _one_step_spec(10.0), 400, 2000, 0.5
    lag = stats.gamma(2.0, scale=10.0 / 2.0)
    expected = p * integrate.quad(lag.cdf, 0, 60)[0] / 60
    gap = fs.lessons.open_lead_gap(spec, logs=logs, rng=7).iloc[0]
    se_naive = np.sqrt(expected * (1 - expected) / n / logs)
    assert gap["naive"] == pytest.approx(expected, abs=4 * se_naive)
    se_followed = np.sqrt(p * (1 - p) / n / logs)
    assert gap["followed"] == pytest.approx(p, abs=4 * se_followed)
    assert gap["truth"] == p
    assert gap["open_leads"] == pytest.approx(p - expected, abs=4 * (se_naive + se_followed))
    assert gap["chance_sd"] == pytest.approx(np.sqrt(p * (1 - p) / n), rel=0.15)
    # instant moves: no open leads at all
    instant = fs.lessons.open_lead_gap(_one_step_spec(1e-9), logs=20, rng=7).iloc[0]
    assert instant["open_leads"] == 0


def test_open_lead_gap_of_the_sample_sale_step():
    """Notebook 04's figure: about 3 of the sale ratio's points are open leads."""
    spec = fs.datasets.load_truth()["events"]
    gap = fs.lessons.open_lead_gap(spec, logs=200, rng=2024).set_index("stage")
    assert 0.02 < gap.loc["sale", "open_leads"] < 0.035
    assert gap.loc["sale", "open_leads_se"] < 0.002
    assert gap.loc["connect", "open_leads"] < gap.loc["sale", "open_leads"]
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.lessons.open_lead_gap({"stages": ["a"]}, logs=2)
    assert err.value.key == "error.truth_spec"
