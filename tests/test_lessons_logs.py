"""Glue of notebooks 04-06: true ratios, cohorts, snapshots, and the apps' results.

Each function is checked against an independent computation: the true
ratios against a lead-by-lead expectation built here, ``snapshot`` against
reading the truncated CSV afresh, the cycle curve against statsmodels'
``SurvfuncRight`` and against the median's interval it must agree with.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import check_error

import funnelsim as fs
from funnelsim import lessons
from funnelsim.logs import Log, LogError

TRUTH = fs.datasets.load_truth()
SPEC = TRUTH["events"]
STAGES = SPEC["stages"]


@pytest.fixture(scope="module")
def log() -> Log:
    return fs.datasets.load_events()


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    frame = pd.read_csv(fs.datasets.path("sample_events.csv"))
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


# ------------------------------------------------------------ true ratios
def _expected_counts(spec: dict) -> pd.DataFrame:
    """E[leads reaching each stage], lead by lead: one row per (rep, source) lead."""
    first, second = spec["sources"]
    rows = []
    for rep, share in spec["referral_share"].items():
        n_first = round(spec["leads_per_rep"] * share)
        for source, n in ((first, n_first), (second, spec["leads_per_rep"] - n_first)):
            p = np.ones((n, len(spec["stages"])))
            for k, stage in enumerate(spec["stages"][1:], start=1):
                factor = spec["rep_factors"].get(rep, {}).get(stage, 1.0)
                p[:, k] = p[:, k - 1] * spec["ratios"][source][stage] * factor
            frame = pd.DataFrame(p, columns=spec["stages"])
            frame["rep"], frame["source"] = rep, source
            rows.append(frame)
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("name", ["events", "gbk"])
def test_true_ratios_are_ratios_of_expected_counts(name):
    spec = TRUTH[name]
    leads = _expected_counts(spec)
    sums = leads[spec["stages"]].sum()
    want = (sums.to_numpy()[1:] / sums.to_numpy()[:-1]).tolist()
    got = lessons.true_ratios(spec)
    assert got["stage"].tolist() == spec["stages"][1:]
    np.testing.assert_allclose(got["ratio"], want, rtol=1e-12)


def test_true_ratios_by_hand_and_by_group():
    got = lessons.true_ratios(SPEC).set_index("stage")["ratio"]
    # connect: 3,050 referrals at 60 %, 2,950 cold leads at 35 %
    assert got["connect"] == pytest.approx((3050 * 0.6 + 2950 * 0.35) / 6000, rel=1e-12)
    assert math.prod(got) == pytest.approx(_expected_counts(SPEC)["sale"].sum() / 6000, rel=1e-12)
    by_source = lessons.true_ratios(SPEC, by="source")
    cold = by_source[by_source["source"] == "cold list"].set_index("stage")["ratio"]
    assert cold[["connect", "meeting", "proposal"]].tolist() == pytest.approx([0.35, 0.12, 0.4])
    by_rep = lessons.true_ratios(SPEC, by="rep").set_index(["rep", "stage"])["ratio"]
    assert by_rep["Chen", "connect"] == pytest.approx(0.8 * 0.6 + 0.2 * 0.35)
    # Zhao closes at half the rate: the sale ratio of his proposals, by source mix
    zhao = _expected_counts(SPEC).query("rep == 'Zhao'")
    assert by_rep["Zhao", "sale"] == pytest.approx(zhao["sale"].sum() / zhao["proposal"].sum())


def test_true_ratios_rows_line_up_with_fit(log):
    for by in (None, "rep", "source", ["rep", "source"]):
        fitted = fs.fit(log, by=by).to_frame()
        truth = lessons.true_ratios(SPEC, by=by)
        keys = ([] if by is None else [by] if isinstance(by, str) else by) + ["stage"]
        pd.testing.assert_frame_equal(
            fitted[keys].reset_index(drop=True), truth[keys].reset_index(drop=True)
        )


def test_first_quarter_intervals_cover_the_truth(log):
    """What notebook 04 shows: leads with three months to go through are not biased.

    Four intervals: each at 1 - 0.05/4 so that all cover with 95 % (Bonferroni).
    """
    cohort = lessons.cohort(log, end="2025-04-01")
    fitted = fs.fit(cohort, confidence_level=1 - 0.05 / 4).to_frame()
    truth = lessons.true_ratios(SPEC)["ratio"].to_numpy()
    assert ((fitted["low"] <= truth) & (truth <= fitted["high"])).all()


def test_true_ratios_reject_bad_input():
    with pytest.raises(ValueError) as err:
        lessons.true_ratios({"stages": ["a", "b"]})
    check_error(err, "error.truth_spec")  # its message names data/sample_truth.json
    assert "sources" in err.value.values["problem"]  # the first field it missed
    with pytest.raises(ValueError) as err:
        lessons.true_ratios(SPEC, by="segment")
    check_error(err, "error.choice", name="by")


# ------------------------------------------------------ cohort, snapshot
def test_cohort_keeps_whole_leads_that_entered_in_the_window(log, raw):
    start, end = pd.Timestamp("2025-02-01"), pd.Timestamp("2025-04-01")
    dials = raw[raw["stage"] == "dial"].set_index("lead")["time"]
    wanted = dials[(dials >= start) & (dials < end)].index
    part = lessons.cohort(log, start=start, end=end)
    assert sorted(part.reached.index) == sorted(wanted)
    rows = raw[raw["lead"].isin(wanted)]
    counts = rows.groupby("stage").size().reindex(STAGES).to_numpy()
    table = part.stage_table()
    assert table["entered"].tolist() == counts[:-1].tolist()
    assert table["passed"].tolist() == counts[1:].tolist()
    assert part.as_of == log.as_of


def test_snapshot_equals_reading_the_truncated_file(log, raw):
    when = pd.Timestamp("2025-03-10 12:00")
    early = lessons.snapshot(log, when)
    cut = raw[raw["time"] <= when].copy()
    cut["time"] = cut["time"].dt.strftime("%Y-%m-%d %H:%M")
    again = fs.read_log(cut, format="events", stages=STAGES, as_of=when)
    assert early.as_of == when
    # a snapshot keeps no attempts (they cannot be cut at a time): compare the lead counts
    pd.testing.assert_frame_equal(early.stage_table(), again.stage_table().iloc[:, :3])
    order = again.reached.index
    pd.testing.assert_frame_equal(early.reached.loc[order], again.reached, check_names=False)
    pd.testing.assert_frame_equal(early.times.loc[order], again.times, check_names=False)
    np.testing.assert_array_equal(
        early.leads.loc[order, "amount"].to_numpy(), again.leads["amount"].to_numpy()
    )
    assert fs.cycle_length(early).closed == int(again.reached["sale"].sum())


def test_cutting_a_log_needs_lead_times_and_sensible_dates(log):
    counts = fs.datasets.load_counts()
    with pytest.raises(LogError) as err:
        lessons.snapshot(counts, "2025-03-01")
    check_error(err, "error.times_counts", name="sample_counts.csv")
    with pytest.raises(ValueError) as err:
        lessons.snapshot(log, "2025-07-01")
    check_error(err, "error.snapshot_after", value=pd.Timestamp("2025-07-01"), as_of=log.as_of)
    with pytest.raises(ValueError) as err:
        lessons.snapshot(log, "2024-12-01")
    check_error(err, "error.snapshot_before", value=pd.Timestamp("2024-12-01"))
    with pytest.raises(ValueError) as err:
        lessons.snapshot(log, "not a date")
    check_error(err, "error.not_a_date", name="as_of")
    with pytest.raises(ValueError) as err:
        lessons.cohort(log, start="2026-01-01")
    check_error(err, "error.cohort_empty", start=pd.Timestamp("2026-01-01"), end=None)


# ------------------------------------------------------- the ratios app
def test_estimating_ratios_wraps_fit_and_exact_coverage(log):
    truth = lessons.true_ratios(SPEC)
    res = lessons.estimating_ratios(
        log, method="jeffreys", confidence_level=0.9, stage="proposal", truth=truth, n=[10, 50]
    )
    direct = fs.fit(log, method="jeffreys", confidence_level=0.9)
    pd.testing.assert_frame_equal(res.fit.to_frame(), direct.to_frame())
    assert res.p == pytest.approx(277 / 636)
    ref = fs.exact_coverage(["jeffreys", "wald"], n=[10, 50], p=277 / 636, confidence_level=0.9)
    pd.testing.assert_frame_equal(res.coverage, ref)
    assert res.worst("wald") == pytest.approx(ref.query("method == 'wald'")["coverage"].min())
    np.testing.assert_allclose(res.widths.to_numpy(), direct.table["high"] - direct.table["low"])
    assert res.to_frame()["truth"].tolist() == pytest.approx(truth["ratio"].tolist())
    wald = lessons.estimating_ratios(log, method="wald", n=[10])
    assert wald.coverage["method"].tolist() == ["wald"]
    with pytest.raises(ValueError) as err:
        lessons.estimating_ratios(log, stage="dial")
    check_error(err, "error.choice", name="stage")
    assert "dial" in str(err.value.values["value"])


def test_estimating_ratios_needs_a_ratio_strictly_inside():
    counts = pd.DataFrame({"dials": [50], "connects": [20], "meetings": [0]})
    log = Log("counts", ("dials", "connects", "meetings"), counts=counts)
    with pytest.raises(ValueError) as err:
        lessons.estimating_ratios(log)
    check_error(err, "error.coverage_ratio", stage="meetings", ratio=0.0)
    assert lessons.estimating_ratios(log, stage="connects", n=[20]).p == 0.4


def test_sample_size_matches_the_planner():
    res = lessons.sample_size(0.2, 0.04, confidence_level=0.9)
    assert res.wilson == fs.calls_for_precision(0.2, 0.04, confidence_level=0.9)
    assert res.wald == fs.calls_for_precision(0.2, 0.04, confidence_level=0.9, method="wald")
    for method in ("wilson", "wald"):
        leads = res.curve[res.curve["method"] == method]["leads"].to_numpy()
        assert (np.diff(leads) <= 0).all()  # a wider margin never needs more leads
    # Wald: n = z^2 p (1 - p) / h^2, so half the margin takes four times the leads
    half = lessons.sample_size(0.2, 0.02, confidence_level=0.9)
    assert half.wald == pytest.approx(4 * res.wald, abs=4)


# --------------------------------------------------------- the cycle
def test_cycle_curve_is_the_kaplan_meier_curve_turned_over(log):
    from statsmodels.duration.survfunc import SurvfuncRight

    cycle = fs.cycle_length(log)
    durations = (log.times["sale"].fillna(log.as_of) - log.times["dial"]).dt.total_seconds()
    sm = SurvfuncRight(durations.to_numpy() / 86400, log.reached["sale"].to_numpy(int))
    curve = lessons.cycle_curve(cycle, given_event=False)
    np.testing.assert_allclose(curve["time"].iloc[1:], sm.surv_times, rtol=1e-9)
    np.testing.assert_allclose(curve["closed"].iloc[1:], 1 - sm.surv_prob, rtol=1e-9)
    assert (curve["low"] <= curve["closed"] + 1e-12).all()
    assert (curve["closed"] <= curve["high"] + 1e-12).all()
    np.testing.assert_allclose(curve["low"].iloc[1:], 1 - cycle.survival.high, rtol=1e-12)


def test_cycle_curve_band_crosses_one_half_at_the_median_interval(log):
    cycle = fs.cycle_length(log)
    curve = lessons.cycle_curve(cycle).iloc[1:]
    assert curve["closed"].iloc[-1] == pytest.approx(1.0)
    assert curve["closed"].is_monotonic_increasing
    inside = curve[(curve["low"] <= 0.5) & (0.5 <= curve["high"])]
    low, high = cycle.median_ci
    assert inside["time"].iloc[0] == pytest.approx(low)
    after = curve["time"][curve["time"] > inside["time"].iloc[-1]]
    assert (after.iloc[0] if len(after) else math.inf) == pytest.approx(high)
    first = curve[curve["closed"] > 0.5]["time"].iloc[0]
    assert first == pytest.approx(cycle.median)


def test_sales_cycle_numbers(log, raw):
    res = lessons.sales_cycle(log, last=20, quantile=0.8)
    closed = raw.pivot(index="lead", columns="stage", values="time").dropna(subset=["sale"])
    cycles = (closed["sale"] - closed["dial"]).dt.total_seconds() / 86400
    order = closed["sale"].sort_values(ascending=False).index
    assert res.naive_mean == pytest.approx(cycles[order[:20]].mean(), rel=1e-12)
    assert res.threshold == pytest.approx(res.cycle.survival.quantile(0.8, given_event=True))
    stale = fs.stale_leads(log, quantile=0.8)
    assert res.n_stale == int(stale["stale"].sum())
    assert res.n_open == len(stale) == res.cycle.open
    assert res.n_demoted_by_decks == int((stale["age"] > res.naive_mean).sum())
    early = lessons.sales_cycle(log, as_of="2025-03-01")
    assert early.cycle.leads == lessons.snapshot(log, "2025-03-01").reached.shape[0]
    with pytest.raises(ValueError) as err:
        lessons.sales_cycle(log, last=0)
    check_error(err, "error.at_least", name="last", value=0, minimum=1)
    assert "SalesCycle(as of" in repr(res)


# ------------------------------------------- numbers the apps show (widgets)
def test_estimating_ratios_widest_is_the_step_with_the_widest_interval(log):
    res = lessons.estimating_ratios(lessons.cohort(log, end="2025-04-01"))
    table = res.fit.to_frame()
    widths = table["high"] - table["low"]
    expected = table.loc[widths.idxmax()]  # computed here from the fit's own table
    row = res.widest
    assert row.name == expected["stage"]
    for column in ("entered", "passed", "ratio", "low", "high"):
        assert row[column] == expected[column]
    # the app computed it this way before
    before = res.fit.table.set_index("stage").loc[str(res.widths.idxmax())]
    pd.testing.assert_series_equal(row, before)


@pytest.fixture(scope="module")
def weekly() -> Log:
    return fs.datasets.load_counts()


@pytest.mark.parametrize("stage", ["connect", "meeting", "sale"])
def test_comparing_reps_at_step_against_the_comparison_tables(log, stage):
    res = lessons.comparing_reps(log, by="rep")
    step = res.at_step(stage)
    table = fs.compare_groups(log, by="rep").table  # independent: compare_groups itself
    rows = table[(table["stage"] == stage) & table["ratio"].notna()].set_index("rep")
    assert step.stage == stage
    assert step.lowest == (rows["ratio"].idxmin(),) and step.low == rows["ratio"].min()
    assert step.highest == (rows["ratio"].idxmax(),) and step.high == rows["ratio"].max()
    assert (step.shrunk_low, step.shrunk_high) == (rows["shrunk"].min(), rows["shrunk"].max())
    assert step.differing == tuple((rep,) for rep in rows.index[rows["differs"].astype(bool)])
    assert step.tests == int(table["p_value"].notna().sum())
    # the team's ratio is the pooled ratio of every rep at the step
    assert step.team_ratio == pytest.approx(rows["passed"].sum() / rows["entered"].sum())
    leaks = fs.diagnose_leaks(log, benchmark="team", by="rep").table
    leaking = leaks[(leaks["stage"] == stage) & leaks["leak"]]
    assert step.leaking == tuple((rep,) for rep in leaking["rep"])
    assert step.leak_kind == (leaking["kind"].iloc[0] if len(leaking) else None)
    assert step.chart_periods is None and step.chart_group is None  # no period column


def test_comparing_reps_at_step_counts_the_p_chart_of_a_group(weekly):
    res = lessons.comparing_reps(weekly, by="rep")
    step = res.at_step("connects", group="Wang")
    chart = fs.p_chart(weekly, by="rep").table
    wang = chart[(chart["rep"] == "Wang") & (chart["stage"] == "connects")]
    assert step.chart_group == ("Wang",)
    assert step.chart_periods == len(wang) == weekly.counts["period"].nunique()
    assert step.chart_flagged == int((wang["signal"] != "").sum())
    team = lessons.comparing_reps(weekly, by="period").at_step("connects")
    assert team.chart_group is None  # grouped by period: one chart, for the team
    assert team.chart_periods == weekly.counts["period"].nunique()


def test_comparing_reps_at_step_errors(log):
    res = lessons.comparing_reps(lessons.snapshot(log, "2025-01-10 13:00"), by="rep")
    with pytest.raises(fs.FunnelsimValueError) as err:
        res.at_step("sale")  # nobody has reached the step into sale yet
    assert err.value.key == "error.step_no_leads"
    assert err.value.values["stage"] == "sale"
    with pytest.raises(fs.FunnelsimValueError) as err:
        res.at_step("signed")
    assert err.value.key == "error.choice" and err.value.values["name"] == "stage"


def test_cutting_something_else_than_a_log_is_a_type_error():
    with pytest.raises(fs.FunnelsimTypeError) as err:
        lessons.cohort(pd.DataFrame({"dial": [1]}), end="2025-04-01")
    assert err.value.key == "error.type_log"
    assert (err.value.values["name"], err.value.values["type"]) == ("log", "DataFrame")
