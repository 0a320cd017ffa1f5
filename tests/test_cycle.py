"""The sales cycle of a log: cycle length, open-lead ratios, mature fits, stale leads.

Checked on hand-sized logs computed by hand and on simulated logs of known
truth, with tolerances of about 4 standard errors.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from keyed import raises
from scipy import stats

from funnelsim import t
from funnelsim.cycle import (
    CycleLength,
    OpenLeadRatios,
    TimeInStage,
    cycle_length,
    open_lead_ratios,
    stale_leads,
    time_in_stage,
)
from funnelsim.estimate import fit
from funnelsim.logs import Log, LogError
from funnelsim.survival import Survival

SurvfuncRight = pytest.importorskip("statsmodels.duration.survfunc").SurvfuncRight


# ------------------------------------------------------------------ logs
DAY = pd.Timedelta(days=1)
BASE = pd.Timestamp("2025-01-01")


def _log(times: pd.DataFrame, as_of, leads: pd.DataFrame | None = None, **kw) -> Log:
    times.index.name = "lead"
    return Log(
        "events",
        tuple(times.columns),
        leads=leads if leads is not None else pd.DataFrame(index=times.index),
        reached=times.notna(),
        times=times,
        as_of=as_of,
        **kw,
    )


def _days(*offsets):
    return pd.to_datetime([BASE + d * DAY if d is not None else None for d in offsets])


@pytest.fixture
def small_log() -> Log:
    """Six leads, contact -> signed; closed after 10, 20, 20 days; open for 46, 19, 10."""
    times = pd.DataFrame(
        {"contact": _days(0, 1, 4, 19, 31, 40), "signed": _days(10, 21, None, 39, None, None)},
        index=list("abcdef"),
    )
    rep = pd.DataFrame({"rep": ["x", "y", "x", "y", "x", "y"]}, index=times.index)
    return _log(times, BASE + 50 * DAY, leads=rep)


def test_cycle_length_by_hand(small_log):
    cyc = cycle_length(small_log, last=(1, 2))
    assert isinstance(cyc, CycleLength) and isinstance(cyc.survival, Survival)
    assert (cyc.leads, cyc.closed, cyc.open, cyc.skipped) == (6, 3, 3, 0)
    assert cyc.unit == "days" and cyc.start == "contact" and cyc.end == "signed"
    assert cyc.survival.survival.tolist() == pytest.approx([5 / 6, 5 / 18])
    assert cyc.share_closed == pytest.approx(13 / 18)
    assert cyc.median == 20 and cyc.mean == pytest.approx(230 / 13)
    naive = cyc.naive.set_index("method")
    assert naive.loc["last 1 closed", "mean"] == 20  # lead d closed last
    assert naive.loc["last 2 closed", "deals"] == 2
    assert naive.loc["all closed", "mean"] == pytest.approx(50 / 3)
    frame = cyc.to_frame()
    assert frame.columns.tolist() == [
        "method", "statistic", "leads", "value", "low", "high", "difference"
    ]  # fmt: skip
    row = frame.set_index(["method", "statistic"])
    assert row.loc[("all closed", "mean"), "difference"] == pytest.approx(50 / 3 - 230 / 13)
    assert row.loc[("all closed", "share closed"), "value"] == pytest.approx(0.5)
    assert row.loc[("kaplan-meier", "share closed"), "low"] < 13 / 18
    assert "3 closed, 3 open" in repr(cyc)


def test_cycle_length_between_chosen_stages_and_skipped_leads():
    times = pd.DataFrame(
        {
            "call": _days(0, 0, 0, 0),
            "meeting": _days(2, 3, None, 5),
            "sale": _days(9, None, None, 15),
        },
        index=list("abcd"),
    )
    reached = times.notna()
    reached.loc["c", "meeting"] = True  # reached, but when is unknown
    log = Log("events", ("call", "meeting", "sale"), leads=pd.DataFrame(index=times.index),
              reached=reached, times=times, as_of=BASE + 20 * DAY)  # fmt: skip
    cyc = cycle_length(log, start="meeting")
    assert cyc.start == "meeting" and cyc.end == "sale"
    assert (cyc.leads, cyc.closed, cyc.skipped) == (3, 2, 1)
    assert cyc.naive.set_index("method").loc["all closed", "mean"] == pytest.approx(8.5)
    cyc = cycle_length(log, end="meeting")
    assert (cyc.leads, cyc.closed, cyc.skipped) == (3, 3, 1)  # c: meeting time unknown


def test_numeric_times_are_periods():
    times = pd.DataFrame({"contact": [1, 2, 3, 5], "signed": [4, np.nan, 6, np.nan]})
    log = Log("events", ("contact", "signed"), leads=pd.DataFrame(index=times.index),
              reached=times.notna(), times=times)  # fmt: skip
    cyc = cycle_length(log)
    assert cyc.unit == "periods"
    assert cyc.as_of == 6  # the latest time in the log
    assert cyc.survival.time.tolist() == [3.0]  # both closed in 3 periods; 2: open 4, 5: open 1


def _simulated_log(rng, n=20_000, horizon=120.0, p=(0.5, 0.4), shape=(2.0, 2.0), scale=7.5):
    """contact -> meeting -> signed, leads contacted uniformly over ``horizon`` days.

    A lead books a meeting with probability p[0] after Gamma(shape[0], scale)
    days and signs with probability p[1] after a further Gamma(shape[1],
    scale): the cycle of a signed deal is Gamma(shape[0] + shape[1], scale).
    The log is taken at day ``horizon``: later stages are not yet seen.
    """
    start = rng.uniform(0, horizon, n)
    meet = start + rng.gamma(shape[0], scale, n)
    meet[rng.random(n) >= p[0]] = np.inf
    sign = meet + rng.gamma(shape[1], scale, n)
    sign[rng.random(n) >= p[1]] = np.inf
    as_of = BASE + horizon * DAY

    def stamp(x):
        seen = x <= horizon
        return pd.Series(BASE + pd.to_timedelta(np.where(seen, x, 0), unit="D")).where(seen)

    times = pd.DataFrame({"contact": stamp(start), "meeting": stamp(meet), "signed": stamp(sign)})
    return _log(times, as_of)


@pytest.fixture(scope="module")
def simulated():
    return _simulated_log(np.random.default_rng(20261123))


def test_open_lead_ratios_on_a_simulated_log_of_known_truth(simulated):
    """True ratio 0.5, Gamma(2, 7.5) days to a meeting, 120-day log.

    The naive ratio counts the 15-odd days of recent leads as failures: its
    expectation is about 0.5 * (1 - 15/120) = 0.44, 15 SEs below the truth.
    The mature cohort (window 60 days) misses the conversions later than 60
    days (Gamma tail 0.3 %); the censored estimate covers the truth.
    """
    p, window = 0.5, 60.0
    res = open_lead_ratios(simulated, "meeting", window=window, confidence_level=0.9999)
    assert isinstance(res, OpenLeadRatios) and res.previous == "contact"
    frame = res.to_frame().set_index("method")
    naive = frame.loc["naive"]
    se_naive = math.sqrt(p * (1 - p) / naive["leads"])
    assert naive["ratio"] < p - 4 * se_naive
    # the naive row is the log's stage table: passed / entered over every lead
    table = simulated.stage_table().set_index("stage").loc["meeting"]
    assert (naive["leads"], naive["passed"]) == (table["entered"], table["passed"])
    # mature cohort: ages uniform on [60, 120]; truth p * mean of the Gamma CDF there
    ages = np.linspace(window, 120, 2001)
    truth_mature = p * stats.gamma.cdf(ages, 2, scale=7.5).mean()
    mature = frame.loc["mature cohort"]
    assert abs(mature["ratio"] - truth_mature) < 4 * math.sqrt(p * (1 - p) / mature["leads"])
    # censored: within 4 of its own (Greenwood) standard errors
    km = frame.loc["kaplan-meier"]
    assert abs(km["ratio"] - p) < 4 * res.survival.se[-1]
    assert km["low"] < p < km["high"]  # the 99.99 % interval (about ±3.9 SE)
    assert res.censored == km["ratio"] and res.naive == naive["ratio"]
    assert frame["difference"].tolist() == pytest.approx((frame["ratio"] - km["ratio"]).tolist())
    # time to convert among converters: Gamma(2, 7.5) median; naive median is short
    true_median = stats.gamma.ppf(0.5, 2, scale=7.5)
    low, high = res.survival.quantile_ci(0.5, given_event=True)
    assert low <= true_median < high
    assert res.time_to_convert == km["median_time"]


def test_mature_fit_on_a_simulated_log_of_known_truth(simulated):
    """fit(mature=60) leaves the young leads out instead of counting them as failures.

    Truth into "meeting": p * the mean Gamma(2, 7.5) CDF over ages uniform on
    [60, 120] (as for the mature cohort above). Into "signed": 0.4 times the
    share of mature meetings that have had time to sign, between
    CDF(60) = 0.9983 and 1. The plain fit is more than 4 SE low on both steps.
    """
    p = (0.5, 0.4)
    plain = fit(simulated).to_frame().set_index("stage")
    res = fit(simulated, mature=60, confidence_level=0.9999)
    frame = res.to_frame().set_index("stage")
    ages = np.linspace(60, 120, 2001)
    truths = {
        "meeting": (p[0] * stats.gamma.cdf(ages, 2, scale=7.5).mean(),) * 2,
        "signed": (p[1] * stats.gamma.cdf(60, 2, scale=7.5), p[1]),
    }
    for stage, (low, high) in truths.items():
        row = frame.loc[stage]
        se = math.sqrt(high * (1 - high) / row["entered"])
        assert low - 4 * se < row["ratio"] < high + 4 * se, stage
        assert plain.loc[stage, "ratio"] < low - 4 * se, stage
        assert row["low"] < high and row["high"] > low  # the 99.99 % interval
        # the step's cohort is the open-lead analysis' mature cohort
        mature = open_lead_ratios(simulated, stage, window=60).to_frame().set_index("method")
        assert (row["entered"], row["passed"]) == tuple(
            mature.loc["mature cohort", ["leads", "passed"]]
        )
        assert row["entered"] + row["young"] == plain.loc[stage, "entered"]
    # one cohort per step: the overall rate is the product of the ratios
    assert res.overall.ratio == pytest.approx(frame["ratio"].prod(), rel=1e-12)
    assert res.mature == 60 and res.unit == "days"
    assert "mature leads only: at least 60 days" in repr(res)


def test_mature_fit_by_hand(small_log):
    """Ages at "contact" on day 50: a 50, b 49, c 46, d 31, e 19, f 10. With a
    14-day window f is young; a, b and d signed. Rep x: a, c, e; rep y: b, d, f."""
    table = fit(small_log, mature=14).to_frame()
    assert table[["stage", "entered", "passed", "young"]].values.tolist() == [["signed", 5, 3, 1]]
    assert table["ratio"].iloc[0] == pytest.approx(3 / 5)
    by_rep = fit(small_log, mature="14D", by="rep").to_frame()
    assert by_rep[["rep", "entered", "passed", "young"]].values.tolist() == [
        ["x", 3, 1, 0],
        ["y", 2, 2, 1],
    ]
    # a window of 0 keeps every lead: the plain fit
    zero = fit(small_log, mature=0).to_frame()
    plain = fit(small_log).to_frame()
    assert zero.drop(columns="young").equals(plain) and (zero["young"] == 0).all()
    # a window longer than the log leaves nobody: NaN ratio, and a note
    empty = fit(small_log, mature=60)
    assert np.isnan(empty.to_frame()["ratio"].iloc[0]) and empty.notes


def test_mature_fit_needs_times_and_a_valid_window(small_log):
    counts = pd.DataFrame({"period": [1, 2], "calls": [10, 12], "sales": [1, 2]})
    log = Log("counts", ("calls", "sales"), counts=counts, name="weekly.csv")
    with pytest.raises(LogError) as err:
        fit(log, mature=30)
    assert err.value.key == "error.times_counts"
    assert err.value.values == {"name": "weekly.csv", "analysis": t("analysis.mature")}
    with pytest.raises(ValueError) as err:
        fit(small_log, mature=-1)
    assert err.value.key == "error.nonnegative"
    assert err.value.values == {"name": "mature", "value": -1}
    with pytest.raises(ValueError) as err:
        fit(small_log, mature="a month")
    assert err.value.key == "error.not_a_number"
    assert err.value.values == {"name": "mature", "value": "'a month'"}


def test_cycle_length_on_a_simulated_log_of_known_truth(simulated):
    """Share closed 0.5 * 0.4 = 0.2; cycle Gamma(4, 7.5): median 27.5, mean 30 days.

    In a 120-day log long cycles have not had time to finish: the average of
    closed deals is about (120 * 30 - E[c^2]) / (120 - 30) = 27.5 days, 9 SEs
    below 30.
    """
    cyc = cycle_length(simulated, confidence_level=0.9999)
    low, high = cyc.share_closed_ci
    assert low < 0.2 < high
    assert abs(cyc.share_closed - 0.2) < 4 * cyc.survival.se[-1]
    true_median = stats.gamma.ppf(0.5, 4, scale=7.5)
    low, high = cyc.median_ci
    assert low <= true_median < high
    naive = cyc.naive.set_index("method").loc["all closed"]
    closed = cyc.to_frame().set_index(["method", "statistic"])
    assert closed.loc[("all closed", "share closed"), "value"] < 0.2 - 0.02  # open leads lost
    se_naive = math.sqrt(4 * 7.5**2 / naive["deals"])
    assert naive["mean"] < 30 - 4 * se_naive
    assert abs(cyc.mean - 30) < abs(naive["mean"] - 30)


def test_time_in_stage_by_hand():
    times = pd.DataFrame(
        {
            "call": _days(0, 1, 2, 5),
            "meeting": _days(2, 8, None, None),
            "sale": _days(12, None, None, None),
        },
        index=list("abcd"),
    )
    res = time_in_stage(_log(times, BASE + 15 * DAY), quantiles=(0.5, 0.9))
    assert isinstance(res, TimeInStage) and res.unit == "days"
    s = res.summary.set_index(["stage", "status"])
    assert s.loc[("call", "moved on"), "leads"] == 2
    assert s.loc[("call", "moved on"), "mean"] == 4.5  # a: 2, b: 7
    assert s.loc[("call", "open"), "p50"] == 11.5  # c: 13, d: 10
    assert s.loc[("meeting", "moved on"), "mean"] == 10  # a
    assert s.loc[("meeting", "open"), "mean"] == 7  # b, at meeting since day 8
    assert s.loc[("call", "moved on"), "p90"] == pytest.approx(np.quantile([2, 7], 0.9))
    frame = res.to_frame()
    assert frame.columns.tolist() == ["lead", "stage", "status", "time"]
    assert len(frame) == 6 and set(frame["lead"]) == set("abcd")
    assert "moved on" in repr(res)


def test_stale_leads_by_cycle(small_log):
    out = stale_leads(small_log, quantile=0.5)
    assert out.index.tolist() == ["c", "e", "f"]  # oldest first
    assert out["age"].tolist() == [46, 19, 10]
    assert out["threshold"].tolist() == [20, 20, 20]
    assert out["stale"].tolist() == [True, False, False]
    # chance of still closing: (S(age) - S(end)) / S(age), S = 5/6 before 20, 5/18 after
    assert out["chance"].tolist() == pytest.approx([0, 2 / 3, 2 / 3])
    assert out["rep"].tolist() == ["x", "x", "y"]  # the lead's attributes come along
    cyc = cycle_length(small_log)
    assert stale_leads(small_log, quantile=0.2)["threshold"].iloc[0] == cyc.survival.quantile(
        0.2, given_event=True
    )


def test_stale_leads_by_stage(simulated):
    out = stale_leads(simulated, age="stage", quantile=0.9)
    assert set(out["stage"]) == {"contact", "meeting"}
    for stage, nxt, shape in (("contact", "meeting", 2), ("meeting", "signed", 2)):
        rows = out[out["stage"] == stage]
        # threshold: 90 % of the leads that move on have done so (Gamma(2, 7.5): 29.2 days)
        threshold = rows["threshold"].iloc[0]
        assert (rows["threshold"] == threshold).all()
        res = open_lead_ratios(simulated, nxt, window=60, confidence_level=0.9999)
        assert threshold == res.survival.quantile(0.9, given_event=True)
        low, high = res.survival.quantile_ci(0.9, given_event=True)
        assert low <= stats.gamma.ppf(0.9, shape, scale=7.5) < high
        assert (rows["stale"] == (rows["age"] > threshold)).all()
    assert out["chance"].between(0, 1).all()
    assert out["age"].is_monotonic_decreasing


def test_stale_leads_rejects_bad_arguments(small_log):
    raises(
        ValueError,
        "error.choice",
        lambda: stale_leads(small_log, age="week"),
        name="age",
        value="'week'",
        choices="cycle, stage",
    )
    raises(
        ValueError,
        "error.ratio_range",
        lambda: stale_leads(small_log, quantile=90),
        name="quantile",
        value=90,
    )


# ----------------------------------------------------------------- errors
def test_counts_cannot_support_cycle_length():
    counts = pd.DataFrame({"period": [1, 2], "calls": [10, 12], "sales": [1, 2]})
    log = Log("counts", ("calls", "sales"), counts=counts, name="weekly.csv")
    for func, analysis in (
        (cycle_length, "cycle_length"),
        (time_in_stage, "time_in_stage"),
        (stale_leads, "stale_leads"),
    ):
        with pytest.raises(LogError) as err:  # the message asks for an events log
            func(log)
        assert err.value.key == "error.times_counts"
        assert err.value.values == {"name": "weekly.csv", "analysis": t(f"analysis.{analysis}")}
    with pytest.raises(LogError) as err:
        open_lead_ratios(log, "sales", window=30)
    assert err.value.key == "error.times_counts"
    assert err.value.values["analysis"] == t("analysis.open_leads")


def test_flags_without_times_say_what_is_missing():
    reached = pd.DataFrame({"call": [True, True], "sale": [True, False]})
    log = Log("leads", ("call", "sale"), leads=pd.DataFrame(index=reached.index),
              reached=reached, name="flags.xlsx")  # fmt: skip
    with pytest.raises(LogError) as err:
        cycle_length(log)
    assert err.value.key == "error.times_flags"  # whether, not when
    assert err.value.values == {"name": "flags.xlsx", "analysis": t("analysis.cycle_length")}


def test_times_after_as_of_and_out_of_order_are_log_errors(small_log):
    late = dataclasses.replace(small_log, as_of=BASE + 30 * DAY)
    with pytest.raises(LogError) as err:
        cycle_length(late)
    assert err.value.key == "error.after_as_of"
    assert (err.value.values["name"], err.value.values["count"]) == ("DataFrame", 3)
    times = small_log.times.copy()
    times.loc["a", "signed"] = BASE - DAY
    bad = dataclasses.replace(small_log, times=times)
    raises(
        LogError,
        "error.time_order",
        lambda: cycle_length(bad),
        name="DataFrame",
        count=1,
        start="contact",
        end="signed",
        leads="a",
    )


def test_stage_arguments_are_checked(small_log):
    raises(
        ValueError,
        "error.unknown_stage",
        lambda: cycle_length(small_log, end="won"),
        value="'won'",
        choices="contact, signed",
    )
    raises(
        ValueError,
        "error.stage_order",
        lambda: cycle_length(small_log, start="signed", end="contact"),
        start="signed",
        end="contact",
    )
    raises(
        ValueError,
        "error.first_stage_ratio",
        lambda: open_lead_ratios(small_log, "contact", window=10),
        stage="contact",
    )
    with pytest.raises(ValueError) as err:
        open_lead_ratios(small_log, "signed", window=-1)
    assert err.value.key == "error.nonnegative"
    assert err.value.values == {"name": "window", "value": -1}
    raises(
        ValueError,
        "error.at_least",
        lambda: cycle_length(small_log, last=0),
        name="last",
        minimum=1,
        value=0,
    )


def test_window_accepts_timedeltas(small_log):
    a = open_lead_ratios(small_log, "signed", window=14).to_frame()
    b = open_lead_ratios(small_log, "signed", window="14D").to_frame()
    c = open_lead_ratios(small_log, "signed", window=pd.Timedelta(weeks=2)).to_frame()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_censored_equals_naive_when_no_lead_is_still_open():
    """Non-converters older than every conversion time: KM's plateau is the plain ratio."""
    times = pd.DataFrame(
        {"meeting": _days(0, 1, 2, 3, 4), "proposal": _days(3, None, 6, None, None)},
        index=list("abcde"),
    )
    res = open_lead_ratios(_log(times, BASE + 40 * DAY), "proposal", window=30)
    assert res.naive == res.mature == pytest.approx(res.censored) == pytest.approx(0.4)
    assert "mature after 30 days" in repr(res)


def test_a_stage_without_a_time_column_has_unknown_times():
    times = pd.DataFrame({"call": _days(0, 1, 2), "sale": _days(5, None, 9)}, index=list("abc"))
    reached = times.notna().assign(meeting=[True, True, True])[["call", "meeting", "sale"]]
    log = Log("leads", ("call", "meeting", "sale"), leads=pd.DataFrame(index=times.index),
              reached=reached, times=times, as_of=BASE + 10 * DAY)  # fmt: skip
    cyc = cycle_length(log)
    assert (cyc.leads, cyc.closed) == (3, 2)
    with pytest.raises(ValueError) as info:
        open_lead_ratios(log, "sale", window=3)
    assert info.value.key == "error.no_leads_at_stage"
    assert (info.value.values["name"], info.value.values["stage"]) == ("DataFrame", "meeting")


def test_period_and_timezone_aware_times():
    weeks = pd.DataFrame(
        {
            "call": pd.PeriodIndex(["2025-01-06", "2025-01-13", "2025-01-13"], freq="W"),
            "sale": pd.PeriodIndex(["2025-01-20", None, "2025-02-03"], freq="W"),
        }
    )
    log = Log("events", ("call", "sale"), leads=pd.DataFrame(index=weeks.index),
              reached=weeks.notna(), times=weeks)  # fmt: skip
    cyc = cycle_length(log)
    assert cyc.unit == "periods" and cyc.survival.time.tolist() == [2.0, 3.0]
    times = pd.DataFrame({"call": _days(0, 1), "sale": _days(3, None)}).apply(
        lambda c: c.dt.tz_localize("Asia/Shanghai")
    )
    log = _log(times, pd.Timestamp("2025-01-11", tz="Asia/Shanghai"))
    out = stale_leads(log)
    assert out["age"].tolist() == [9.0]


def test_unknown_interval_method_is_rejected(small_log):
    raises(
        ValueError,
        "error.choice",
        lambda: open_lead_ratios(small_log, "signed", window=14, method="exact"),
        name="method",
        value="'exact'",
    )


def test_mature_fit_that_leaves_everyone_out_says_why(small_log):
    res = fit(small_log, mature=100)
    assert (
        res.notes
        and "at least 100 days before the log was taken (6 did more recently)" in (res.notes[0])
    )
    assert "a shorter mature=" in res.notes[0]
    raises(
        ValueError, "error.nonnegative", lambda: fit(small_log, mature=-1), name="mature", value=-1
    )
    by = fit(small_log, mature=14, by="rep").overall.to_frame()
    assert by["entered"].isna().all() and by["passed"].isna().all()
    assert by["ratio"].tolist() == pytest.approx([1 / 3, 1.0])


def test_mature_overall_row_of_the_ratio_chart_has_no_counts(small_log):
    from funnelsim import plotting

    with plotting.style():
        ax = plotting.plot_ratio_table(fit(small_log, mature=14), overall=True)
    labels = [text.get_text() for text in ax.texts]
    assert labels == ["60.0% (3 of 5)", "60.0%"]


def test_stage_and_last_of_the_wrong_type_are_type_errors(small_log):
    raises(TypeError, "error.type_text", lambda: cycle_length(small_log, start=3), name="start")
    raises(
        ValueError, "error.unknown_stage", lambda: cycle_length(small_log, end="won"), name="end"
    )
    raises(TypeError, "error.type_whole", lambda: cycle_length(small_log, last="x"), name="last")
