"""Plots of notebooks 04-06: what is drawn matches the result it is drawn from."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection

import funnelsim as fs
from funnelsim import lessons, plotting
from funnelsim.logs import Log

TRUTH = fs.datasets.load_truth()
STAGES = TRUTH["events"]["stages"]

COUNTS = pd.DataFrame(
    {
        "rep": ["ann", "bob", "cy"],
        "dials": [300, 200, 400],
        "connects": [140, 90, 180],
        "meetings": [10, 13, 30],
    }
)


@pytest.fixture(scope="module")
def log() -> Log:
    return fs.datasets.load_events()


def _counts_log() -> Log:
    return Log("counts", ("dials", "connects", "meetings"), counts=COUNTS)


def _points(container) -> np.ndarray:
    """x of the data points of an errorbar container."""
    return np.asarray(container.lines[0].get_xdata(), float)


# ------------------------------------------------------------ ratio table
def test_ratio_table_draws_each_step_with_its_interval_and_the_truth():
    res = fs.fit(_counts_log())
    truth = {"connects": 0.45, "meetings": 0.1}
    with plotting.style():
        ax = plotting.plot_ratio_table(res, truth=truth, overall=True)
    assert isinstance(ax, Axes)
    assert [x.get_text() for x in ax.get_yticklabels()] == ["connects", "meetings", "overall"]
    assert len(ax.containers) == 1
    table = res.to_frame()
    want = [*table["ratio"], res.overall.ratio]
    np.testing.assert_allclose(_points(ax.containers[0]), want)
    (bars,) = ax.containers[0].lines[2]  # the horizontal error bars
    segments = bars.get_segments()
    np.testing.assert_allclose([s[0][0] for s in segments], [*table["low"], res.overall.low])
    np.testing.assert_allclose([s[1][0] for s in segments], [*table["high"], res.overall.high])
    (diamonds,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(diamonds.get_offsets()[:, 0], [0.45, 0.1, 0.045])
    assert [x.get_text() for x in ax.texts] == ["45.6% (410 of 900)", "12.9% (53 of 410)",
                                                "5.9% (53 of 900)"]  # fmt: skip
    assert ax.get_title() == "Stage ratios with 95% intervals"
    assert ax.get_xlabel() == fs.t("plot.ratio_table.xlabel")


def test_ratio_table_by_group_draws_one_container_per_group_and_merges_the_truth(log):
    res = fs.fit(log, by="source")
    truth = lessons.true_ratios(TRUTH["events"], by="source")
    with plotting.style():
        ax = plotting.plot_ratio_table(res, truth=truth, labels=False)
    assert len(ax.containers) == 2
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert labels[0] == "cold list: connect" and labels[-1] == "referral: sale"
    (diamonds,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(diamonds.get_offsets()[:, 0], truth["ratio"])
    assert len(ax.texts) == 0
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert sorted(legend) == ["cold list", "referral", "true ratio"]


def test_ratio_table_takes_the_apps_result_and_rejects_other_input(log):
    truth = lessons.true_ratios(TRUTH["events"])
    res = lessons.estimating_ratios(log, truth=truth, n=[10])
    with plotting.style():
        ax = plotting.plot_ratio_table(res)
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 1
    with pytest.raises(fs.FunnelsimTypeError) as err:
        plotting.plot_ratio_table(truth)
    assert err.value.key == "error.plot_result"
    assert err.value.values["function"] == "plot_ratio_table"
    assert err.value.values["wanted"] == "Fit / EstimatingRatios"
    assert err.value.values["value"] == "DataFrame"
    with pytest.raises(fs.FunnelsimTypeError) as err:
        plotting.plot_ratio_table(res.fit, truth=0.5)
    assert (err.value.key, err.value.values) == ("error.plot_truth", {"value": "float"})
    with pytest.raises(fs.FunnelsimValueError) as err:  # a table without its columns
        plotting.plot_ratio_table(res.fit, truth=pd.DataFrame({"step": ["sale"], "p": [0.3]}))
    assert (err.value.key, err.value.values) == ("error.plot_truth", {"value": "step, p"})


def test_the_sample_logs_stages_show_in_chinese(log):
    """The kit's own sample stages (dial ... sale) read in the room's language, never mixed."""
    with fs.language("zh"), plotting.style():
        ax = plotting.plot_ratio_table(fs.fit(log))
        cycle = plotting.plot_sales_cycle(fs.cycle_length(log))
    assert [x.get_text() for x in ax.get_yticklabels()] == ["接通", "约见", "方案", "成交"]
    assert "拨打" in cycle.get_xlabel() and "成交" in cycle.get_xlabel()
    assert fs.fit(log).stages == tuple(STAGES)  # the identifiers themselves never change


# --------------------------------------------------------------- coverage
def test_coverage_draws_one_line_per_method_and_the_promise():
    table = fs.exact_coverage(["wald", "wilson"], n=range(5, 201), p=0.1, confidence_level=0.9)
    with plotting.style():
        ax = plotting.plot_coverage(table)
    assert [line.get_label() for line in ax.lines] == ["Wald", "Wilson", "promised: 90%"]
    wald = table[table["method"] == "wald"]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), wald["n"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), wald["coverage"])
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(0.9)
    assert ax.get_xscale() == "log"
    assert ax.get_ylim()[0] <= wald["coverage"].min()
    assert ax.get_title() == "Does a 90% interval keep its promise? (true ratio 10.0%)"


def test_coverage_along_p_and_simulated_and_bad_grids():
    table = fs.exact_coverage("wilson", n=30, p=np.linspace(0.05, 0.95, 19))
    with plotting.style():
        ax = plotting.plot_coverage(table, x="p")
    assert ax.get_xscale() == "linear"
    assert ax.get_xlabel() == fs.t("plot.coverage.xlabel_p")
    sim = fs.coverage(["wald", "wilson"], n=[10, 20, 40], p=0.2, reps=500, rng=1)
    with plotting.style():
        ax = plotting.plot_coverage(sim)
    assert len(ax.containers) == 2  # error bars of +-2 standard errors
    grid = fs.exact_coverage("wald", n=[10, 20], p=[0.1, 0.2])
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_coverage(grid)
    assert err.value.key == "error.plot_coverage_grid"
    assert err.value.values == {"column": "p", "values": "0.1, 0.2", "x": "n"}
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_coverage(pd.DataFrame({"n": [1]}))
    assert (err.value.key, err.value.values) == ("error.plot_coverage_columns", {"value": "n"})


# ----------------------------------------------------------------- cycle
def test_sales_cycle_draws_the_curve_band_mean_median_and_naive_lines(log):
    cycle = fs.cycle_length(log)
    with plotting.style():
        ax = plotting.plot_sales_cycle(cycle)
    curve = lessons.cycle_curve(cycle)
    step = ax.lines[0]
    np.testing.assert_allclose(step.get_ydata()[:-1], curve["closed"])
    vertical = [  # the labelled vertical lines (error-bar caps have no label)
        line
        for line in ax.lines[1:]
        if not line.get_label().startswith("_") and len(set(line.get_xdata())) == 1
    ]
    xs = sorted(float(line.get_xdata()[0]) for line in vertical)
    want = sorted([cycle.mean, *cycle.naive["mean"]])
    np.testing.assert_allclose(xs, want)
    assert len(ax.containers) == 1  # the median and its interval
    np.testing.assert_allclose(_points(ax.containers[0]), [cycle.median])
    assert ax.get_xlabel() == "days from dial to sale"
    assert ax.get_ylabel() == fs.t("plot.sales_cycle.ylabel")


def test_sales_cycle_of_a_young_log_draws_each_naive_average_once(log):
    early = fs.cycle_length(lessons.snapshot(log, "2025-02-14 18:00"))
    assert early.closed < 10  # "last 10" and "last 20" are all the closed deals
    with plotting.style():
        ax = plotting.plot_sales_cycle(early, given_event=False)
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert sum("the decks" in label for label in labels) == 1
    assert ax.get_ylabel() == fs.t("plot.sales_cycle.ylabel_all")
    assert ax.containers == []  # no median marker on the all-leads scale


def test_sales_cycle_of_leads_followed_for_no_time_spans_one_unit():
    """Every lead dialled at the log's last time (no time followed, no sale): the axis
    spans one unit, with no warning of equal limits (matplotlib's UserWarning)."""
    events = pd.DataFrame({"lead": ["A", "B"], "stage": ["dial", "dial"],
                           "time": pd.to_datetime(["2025-03-05", "2025-03-05"])})  # fmt: skip
    cycle = fs.cycle_length(fs.read_log(events, format="events", stages=["dial", "sale"]))
    with plotting.style(), warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plotting.plot_sales_cycle(cycle)
    assert ax.get_xlim() == (0.0, 1.0)


# ------------------------------------------------------------ open leads
def test_open_lead_ratios_side_by_side(log):
    steps = [fs.open_lead_ratios(log, s, window=60) for s in ("proposal", "sale")]
    with plotting.style():
        ax = plotting.plot_open_lead_ratios(steps, truth={"proposal": 0.48, "sale": 0.35})
    assert len(ax.containers) == 3
    for container, method in zip(ax.containers, ("naive", "mature cohort", "kaplan-meier"),
                                 strict=True):  # fmt: skip
        want = [s.table.set_index("method").loc[method, "ratio"] for s in steps]
        np.testing.assert_allclose(_points(container), want)
    (truth,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(truth.get_offsets()[:, 0], [0.48, 0.35])
    assert [x.get_text() for x in ax.get_yticklabels()] == ["meeting → proposal",
                                                            "proposal → sale"]  # fmt: skip
    assert len(ax.texts) == 6
    with pytest.raises(fs.FunnelsimTypeError) as err:
        plotting.plot_open_lead_ratios([fs.cycle_length(log)])
    assert err.value.key == "error.plot_result"
    assert err.value.values["function"] == "plot_open_lead_ratios"
    assert (err.value.values["wanted"], err.value.values["value"]) == (
        "OpenLeadRatios",
        "CycleLength",
    )
    with pytest.raises(fs.FunnelsimTypeError) as err:  # an empty list holds no result either
        plotting.plot_open_lead_ratios([])
    assert (err.value.key, err.value.values["value"]) == ("error.plot_result", "list")


# ----------------------------------------------------------- stale leads
def test_stale_leads_histogram_splits_at_the_threshold(log):
    res = lessons.sales_cycle(log, last=20, quantile=0.8)
    with plotting.style():
        ax = plotting.plot_stale_leads(res, bins=20)
    assert ax.get_title() == f"{res.n_stale:,} of {res.n_open:,} open leads are stale"
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == pytest.approx(res.n_open)
    edges = sorted({round(p.get_x(), 9) for p in ax.patches})
    assert any(abs(e - res.threshold) < 1e-6 for e in edges)  # a bin edge at the threshold
    xs = sorted(float(line.get_xdata()[0]) for line in ax.lines)
    np.testing.assert_allclose(xs, sorted([res.threshold, res.naive_mean]))
    frame = pd.DataFrame({"age": [1.0, 2, 9], "threshold": 5.0, "stale": [False, False, True]})
    with plotting.style():
        ax = plotting.plot_stale_leads(frame)
    assert len(ax.lines) == 1
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_stale_leads(frame.drop(columns="stale"))
    assert err.value.key == "error.plot_stale_columns"
    assert err.value.values == {"value": "age, threshold"}


# -------------------------------------------------------------- shrinkage
def test_shrinkage_draws_raw_and_shrunken_ratios_around_the_team():
    res = fs.compare_groups(_counts_log(), by="rep", stage="meetings")
    with plotting.style():
        ax = plotting.plot_shrinkage(res)
    rows = res.to_frame()
    raw, shrunk = ax.containers
    np.testing.assert_allclose(_points(raw), rows["ratio"])
    np.testing.assert_allclose(_points(shrunk), rows["shrunk"])
    team = res.steps["team_ratio"].iloc[0]
    assert ax.lines[-1].get_xdata()[0] == pytest.approx(team)
    assert [x.get_text() for x in ax.get_yticklabels()] == ["ann (140)", "bob (90)", "cy (180)"]
    assert ax.get_title() == "meetings: raw ratios and what they are worth"


# ------------------------------------------------------------ sample size
def test_sample_size_curve_and_chosen_point():
    res = lessons.sample_size(0.3, 0.05)
    with plotting.style():
        ax = plotting.plot_sample_size(res)
    assert [line.get_label() for line in ax.lines] == ["Wilson", "Wald"]
    wald = res.curve[res.curve["method"] == "wald"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), wald["leads"])
    (dot,) = ax.collections
    np.testing.assert_allclose(dot.get_offsets()[0], [0.05, res.wilson])
    assert ax.get_xscale() == ax.get_yscale() == "log"
