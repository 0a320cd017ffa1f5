"""The public API on real public logs (``../shared/data``; skipped when absent).

* UCI Bank Marketing (Moro, Cortez & Rita 2014; CC BY 4.0): bank-additional-full,
  41,188 telemarketing contacts, 4,640 term-deposit subscriptions.
* Olist marketing funnel (CC BY-NC-SA 4.0, used here only as test data): 8,000
  MQLs, 842 won deals with dates and sales reps.

References are computed independently in each test: statsmodels'
``proportion_confint`` for intervals and ``SurvfuncRight`` for survival.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def bank_log(request):
    shared = request.getfixturevalue("shared_data")
    path = shared / "bank_marketing" / "bank-additional-full.csv.gz"
    return fs.read_log(
        path,
        format="leads",
        stages={"contacted": None, "subscribed": "y"},
        columns={"source": "contact", "period": "month"},
    ), pd.read_csv(path, sep=";")


@pytest.mark.parametrize("method", ["wilson", "jeffreys", "clopper-pearson", "agresti-coull"])
@pytest.mark.parametrize("by", ["source", "period"])
def test_bank_ratios_by_contact_type_and_month(bank_log, method, by):
    log, raw = bank_log
    table = fs.fit(log, by=by, method=method, confidence_level=0.95).to_frame()
    column = {"source": "contact", "period": "month"}[by]
    truth = raw.groupby(column)["y"].agg(passed=lambda s: (s == "yes").sum(), entered="size")
    sm_method = {"clopper-pearson": "beta", "agresti-coull": "agresti_coull"}.get(method, method)
    merged = table.merge(truth, left_on=by, right_index=True, suffixes=("", "_ref"))
    assert len(merged) == len(truth)
    np.testing.assert_array_equal(merged["entered"], merged["entered_ref"])
    np.testing.assert_array_equal(merged["passed"], merged["passed_ref"])
    low, high = proportion_confint(merged["passed_ref"], merged["entered_ref"], method=sm_method)
    np.testing.assert_allclose(merged["low"], low, rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["high"], high, rtol=0, atol=1e-10)


def test_bank_cellular_converts_better_than_telephone(bank_log):
    """The published finding (Moro et al.): cellular contacts subscribe far more often."""
    log, _ = bank_log
    rows = fs.fit(log, by="source").to_frame().set_index("source")
    assert rows.loc["cellular", "low"] > rows.loc["telephone", "high"]


def test_olist_ratios_by_origin_and_rep(olist_log):
    log, frame = olist_log
    kept = frame[frame["mql_id"].isin(log.leads.index)]
    for by, column in (("source", "origin"), ("rep", "sr_id")):
        table = fs.fit(log, by=by).to_frame()
        assert table["entered"].sum() == len(kept.dropna(subset=[column])) + (
            kept[column].isna().sum()
        )
        assert table["passed"].sum() == kept["won_date"].notna().sum() == 841
        ok = table["entered"] > 0
        low, high = proportion_confint(
            table.loc[ok, "passed"], table.loc[ok, "entered"], method="wilson"
        )
        np.testing.assert_allclose(table.loc[ok, "low"], low, atol=1e-10)
        np.testing.assert_allclose(table.loc[ok, "high"], high, atol=1e-10)
    overall = fs.fit(log).overall
    assert overall.low < 841 / 7999 < overall.high


def test_olist_cycle_censors_open_mqls(olist_log):
    """First contact to won, with MQLs still open at the snapshot censored: the
    Kaplan-Meier curve equals statsmodels' on the same durations."""
    log, frame = olist_log
    cycle = fs.cycle_length(log)
    kept = frame[frame["mql_id"].isin(log.leads.index)]
    start = pd.to_datetime(kept["first_contact_date"])
    won = pd.to_datetime(kept["won_date"])
    closed = won.notna().to_numpy()
    end = won.where(won.notna(), log.as_of)
    days = ((end - start).dt.total_seconds() / 86_400).to_numpy()
    ref = SurvfuncRight(days, closed.astype(int))
    assert cycle.closed == closed.sum() == 841
    assert cycle.leads == len(kept)
    np.testing.assert_allclose(
        cycle.survival.survival_at(ref.surv_times), ref.surv_prob, rtol=0, atol=1e-10
    )
    # The decks' averages over closed deals, computed here independently.
    order = np.argsort(won[closed].to_numpy(), kind="stable")
    closed_days = days[closed][order]
    naive = cycle.naive.set_index("method")["mean"]
    assert naive["all closed"] == pytest.approx(closed_days.mean(), rel=1e-12)
    assert naive["last 10 closed"] == pytest.approx(closed_days[-10:].mean(), rel=1e-12)
    # Olist's MQLs arrive only until May 2018 while deals close until November:
    # the flow is not steady, so the last closed deals are the slowest ones and
    # "the average of the last 10" is far above the cycle of a typical deal.
    low, high = cycle.median_ci
    assert low <= cycle.median <= high
    assert naive["last 10 closed"] > 5 * high


def test_bank_laney_p_chart_by_month_flags_far_fewer_months(bank_log):
    """The bank's months vary far more than chance allows: the classic p-chart flags 7 of
    10; Laney's p' chart (calendar order) widens the limits by sigma_z ~ 14.7 and flags
    none. sigma_z is recomputed here from the raw file with numpy."""
    _, raw = bank_log
    order = ["mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    labels = {m: f"{i + 3:02d}-{m}" for i, m in enumerate(order)}  # sorts in calendar order
    frame = raw.assign(month_no=raw["month"].map(labels))
    log = fs.read_log(
        frame,
        format="leads",
        stages={"contacted": None, "subscribed": "y"},
        columns={"period": "month_no"},
    )
    classic = fs.p_chart(log)
    laney = fs.p_chart(log, method="laney")
    assert len(classic.flagged) == 7
    counts = raw.groupby("month")["y"].agg(k=lambda s: (s == "yes").sum(), n="size").loc[order]
    k, n = counts["k"].to_numpy(float), counts["n"].to_numpy(float)
    p = k.sum() / n.sum()
    z = (k / n - p) / np.sqrt(p * (1 - p) / n)
    sigma_z = np.abs(np.diff(z)).mean() / 1.128
    assert laney.dispersion["sigma_z"].iloc[0] == pytest.approx(sigma_z, rel=1e-12)
    assert sigma_z > 10
    assert len(laney.flagged) == 0  # none, against 7
