"""Targets and attainment (issue #15): deal-size bands by count, the deck's
composition of 500,000, the three levers, target splits, attainment and headcount.

References are independent of the code under test: hand computations written
here, scipy's binomial and gamma distributions (a compound sum written out as
``sum_k binom.pmf(k) * gamma.sf(x; k shape)``), and simulation with a fixed
seed at 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import raises
from scipy import stats

import funnelsim as fs
from funnelsim.presets import COMPOSITION_COUNTS, COMPOSITION_VALUES, SIZE_COMPOSITION

INF = math.inf
EDGES = [0, 10_000, 30_000, 50_000, INF]
DECK_COUNTS = [61, 30, 12, 5]


def _compound_sf(n_calls: int, p: float, mean: float, cv: float, amount: float) -> float:
    """P(sum of Binomial(n, p) gamma(mean, cv) deals >= amount), written out with scipy."""
    k = np.arange(1, n_calls + 1)
    shape = 1 / cv**2
    sf = stats.gamma.sf(amount, k * shape, scale=mean * cv**2)
    return float(stats.binom.pmf(k, n_calls, p) @ sf)


# ------------------------------------------------------ bands by count
def test_bands_by_count_gives_the_decks_shares():
    d = fs.DealSize.bands(EDGES, counts=DECK_COUNTS, values=[5_000, 15_000, 35_000, 55_000])
    assert d.counts == tuple(DECK_COUNTS)
    np.testing.assert_allclose(d.shares, np.array(DECK_COUNTS) / 108, rtol=1e-12)
    # the deck prints 56.5 / 27.8 / 11 / 4.6 %
    assert [round(100 * s, 1) for s in d.shares] == [56.5, 27.8, 11.1, 4.6]
    mean = (61 * 5_000 + 30 * 15_000 + 12 * 35_000 + 5 * 55_000) / 108
    assert d.mean == pytest.approx(mean, rel=1e-12)
    assert "counts=[61, 30, 12, 5]" in repr(d)


def test_bands_by_count_equal_bands_by_share():
    by_count = fs.DealSize.bands([0, 10, 30], counts=[3, 1])
    by_share = fs.DealSize.bands([0, 10, 30], [0.75, 0.25])
    assert by_count.shares == by_share.shares
    assert by_count.mean == by_share.mean == 8.75
    assert by_count.var == pytest.approx(by_share.var, rel=1e-12)
    assert by_share.counts == () and "shares=" in repr(by_share)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({}, "error.bands_counts_or_shares"),
        ({"shares": [0.5, 0.5], "counts": [1, 1]}, "error.bands_counts_or_shares"),
        ({"counts": [0, 0]}, "error.bands_no_deals"),
        ({"counts": [1.5, 2]}, "error.whole_number"),
        ({"counts": [1, -1]}, "error.nonnegative"),
        ({"counts": [1, 2, 3]}, "error.bands_shape"),
    ],
)
def test_bands_counts_are_checked(kwargs, key):
    raises(fs.FunnelsimValueError, key, lambda: fs.DealSize.bands([0, 10, 30], **kwargs))


# ------------------------------------------------- the deck's composition
def test_composition_preset_adds_up_to_500000_in_38_deals():
    # 28 x 8,000 + 7 x 20,000 + 2 x 40,000 + 1 x 56,000, written out
    assert 28 * 8_000 + 7 * 20_000 + 2 * 40_000 + 56_000 == 500_000
    assert COMPOSITION_COUNTS == (28, 7, 2, 1) and sum(COMPOSITION_COUNTS) == 38
    assert COMPOSITION_VALUES == (8_000, 20_000, 40_000, 56_000)
    pre = fs.presets.get("deal-size composition")
    assert pre.deal_size == SIZE_COMPOSITION
    assert pre.target == 500_000
    assert pre.deal_size.mean == pytest.approx(500_000 / 38, rel=1e-12)
    assert pre.deals_needed() == 38
    for edge_lo, edge_hi, value in zip(EDGES[:-1], EDGES[1:], COMPOSITION_VALUES, strict=True):
        assert edge_lo <= value <= edge_hi


def test_back_calculate_states_its_deal_values():
    pre = fs.presets.get("deal-size composition")
    tab = fs.back_calculate(pre.funnel, 500_000, deal_size=pre.deal_size)
    # 38 / 0.75 = 50.7 -> 51, / 0.5 = 102, / 0.25 = 408: the deck's chain
    assert tab["needed"].tolist() == [408, 102, 51, 38]
    assert list(tab.columns) == ["stage", "needed", "expected"]
    assert tab.attrs["deal_values"] == (8_000.0, 20_000.0, 40_000.0, 56_000.0)
    assert tab.attrs["deal_mean"] == pytest.approx(500_000 / 38)
    assert tab.attrs["deal_size"] == repr(pre.deal_size)
    deals = fs.back_calculate(pre.funnel, 38)
    assert deals.attrs == {"deal_mean": 1.0, "deal_size": None, "deal_values": ()}
    fixed = fs.back_calculate(pre.funnel, 100, deal_size=20)
    assert fixed.attrs["deal_values"] == (20.0,) and fixed["needed"].iloc[-1] == 5


@pytest.mark.parametrize(
    "size",
    [
        fs.DealSize.fixed(100),
        fs.DealSize.gamma(100, cv=0.5),
        fs.DealSize.lognormal(100, cv=2),
        SIZE_COMPOSITION,
        fs.DealSize.bands([0, 10, 30], counts=[3, 1]),
    ],
)
def test_scaled_multiplies_the_mean_and_keeps_the_cv(size):
    up = size.scaled(1.1)
    assert up.kind == size.kind
    assert up.mean == pytest.approx(1.1 * size.mean, rel=1e-12)
    assert up.cv == pytest.approx(size.cv, rel=1e-12, abs=1e-12)
    assert size.scaled(0).mean == 0


# ------------------------------------------------------------ three levers
def test_three_levers_expected_and_bands_against_scipy():
    f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
    size = fs.DealSize.gamma(1_000, cv=0.5)
    lev = fs.three_levers(f, size, 400, change=0.2)
    tab = lev.to_frame()
    assert tab["lever"].tolist() == ["baseline", "volume", "ratio", "ratio", "deal_size"]
    assert tab["stage"].tolist() == ["", "", "meetings", "sales", ""]
    # hand: n p mu = 400 x 0.05 x 1000 = 20,000; every lever x 1.2
    np.testing.assert_allclose(tab["expected"], [20_000] + [24_000] * 4, rtol=1e-12)
    np.testing.assert_allclose(tab["gain"], [0, 0.2, 0.2, 0.2, 0.2], atol=1e-12)
    assert tab["calls"].tolist() == [400, 480, 400, 400, 400]
    # P(R >= p10) = 0.9 and P(R >= p90) = 0.1, with the compound sum written out
    for row in tab.itertuples():
        mean = 1_000 * (1.2 if row.lever == "deal_size" else 1.0)
        for q, level in (("p10", 0.9), ("p90", 0.1)):
            got = _compound_sf(row.calls, row.overall, mean, 0.5, getattr(row, q))
            assert got == pytest.approx(level, abs=1e-5), (row.lever, q)
    assert "gain +20.0%" in repr(lev)


def test_three_levers_bands_hold_in_simulation(rng):
    f = fs.Funnel(["calls", "sales"], [0.05])
    size = fs.DealSize.gamma(1_000, cv=0.8)
    tab = fs.three_levers(f, size, 600).to_frame()
    n_sim = 40_000
    se = math.sqrt(0.1 * 0.9 / n_sim)
    for row in tab.itertuples():
        deals = rng.binomial(row.calls, row.overall, n_sim)
        rev = size.scaled(row.mean_deal / 1_000).sample_sums(rng, deals)
        assert abs((rev < row.p10).mean() - 0.1) < 4 * se, row.lever
        assert abs((rev > row.p90).mean() - 0.1) < 4 * se, row.lever


def test_three_levers_needs_a_deal_size():
    f = fs.Funnel(["calls", "sales"], [0.1])
    raises(fs.FunnelsimValueError, "error.levers_deal_size", lambda: fs.three_levers(f, None, 10))
    raises(fs.FunnelsimValueError, "error.nonnegative",
           lambda: fs.three_levers(f, 10, 10, change=-0.1), name="change")  # fmt: skip


def test_three_levers_caps_a_ratio_at_one():
    f = fs.Funnel(["calls", "sales"], [0.95])
    tab = fs.three_levers(f, 10, 100, change=0.1).to_frame()
    assert tab.loc[tab["lever"] == "ratio", "overall"].item() == 1.0


# ------------------------------------------------------------ split target
def test_split_by_weights_and_capacity_is_a_product_of_shares():
    split = fs.split_target(1_000, weights=[1, 2, 2], reps=["a", "b"], capacity={"a": 3, "b": 1})
    tab = split.to_frame()
    assert tab["month"].tolist() == [1, 1, 2, 2, 3, 3]
    expected = [1_000 * m / 5 * r / 4 for m in (1, 2, 2) for r in (3, 1)]
    np.testing.assert_allclose(tab["target"], expected, rtol=1e-12)
    assert tab["target"].sum() == pytest.approx(1_000)
    np.testing.assert_allclose(split.by_month(), [200, 400, 400])
    np.testing.assert_allclose(split.by_rep(), [750, 250])
    assert "3 months" in repr(split)


def test_split_default_is_twelve_equal_months_for_the_team():
    tab = fs.split_target(1_200).to_frame()
    assert len(tab) == 12 and set(tab["rep"]) == {"team"}
    np.testing.assert_allclose(tab["target"], 100.0)


def test_split_from_history_uses_seasonality_and_rep_shares():
    history = pd.DataFrame(
        {
            "year": [2024] * 4 + [2025] * 4,
            "month": ["Jan", "Jan", "Feb", "Feb"] * 2,
            "rep": ["Li", "Wang"] * 4,
            "amount": [10, 30, 20, 40, 30, 10, 50, 10],
        }
    )
    tab = fs.split_target(2_000, history=history).to_frame()
    # pandas by hand: Jan 80 of 200, Feb 120; Li 110, Wang 90
    jan = history.loc[history["month"] == "Jan", "amount"].sum() / history["amount"].sum()
    li = history.loc[history["rep"] == "Li", "amount"].sum() / history["amount"].sum()
    assert tab["month"].tolist() == ["Jan", "Jan", "Feb", "Feb"]
    np.testing.assert_allclose(
        tab["target"],
        2_000 * np.array([jan * li, jan * (1 - li), (1 - jan) * li, (1 - jan) * (1 - li)]),
    )
    # capacity wins over the history's rep shares
    even = fs.split_target(2_000, history=history, capacity=[1, 1]).to_frame()
    np.testing.assert_allclose(even["rep_share"], 0.5)


def test_split_from_a_part_year_history_averages_each_month_over_its_years():
    """18 months of flat sales (Jan-Dec 2024, Jan-Jun 2025): no season, so with the year
    every month gets 1/12; summing would give January to June twice July's share."""
    months = list(range(1, 13)) + list(range(1, 7))
    history = pd.DataFrame(
        {"year": [2024] * 12 + [2025] * 6, "month": months, "amount": [100.0] * 18}
    )
    tab = fs.split_target(1_200, history=history).to_frame()
    assert tab["month"].tolist() == list(range(1, 13))
    np.testing.assert_allclose(tab["target"], 100.0)
    # a real season survives the averaging: pandas' mean per month, as shares
    season = history.assign(amount=np.where(history["month"] == 1, 300.0, 100.0))
    ref = season.groupby("month")["amount"].mean()
    got = fs.split_target(1_400, history=season).by_month()
    np.testing.assert_allclose(got.to_numpy(), 1_400 * (ref / ref.sum()).to_numpy())


def test_split_calls_are_the_fewest_that_reach_each_part():
    f = fs.Funnel(["calls", "meetings", "sales"], [0.3, 0.1])
    tab = fs.split_target(
        120, weights=[1, 2], reps=["a", "b"], funnel=f, probability=0.8
    ).to_frame()
    p = 0.03
    for row in tab.itertuples():
        need = math.ceil(row.target - 1e-9)
        assert stats.binom.sf(need - 1, row.calls, p) >= 0.8
        assert stats.binom.sf(need - 1, row.calls - 1, p) < 0.8
        assert row.calls_expected == math.ceil(row.target / p - 1e-9)


def test_split_with_a_fit_plans_with_the_ratios_uncertainty():
    ratios = fs.fit(fs.datasets.load_counts())
    tab = fs.split_target(120, months=2, funnel=ratios, probability=0.9, deal_size=None).to_frame()
    point = fs.calls_for_target(ratios.to_funnel(), 60, 0.9)
    assert (tab["calls"] >= point).all()


def test_split_target_errors():
    history = pd.DataFrame({"month": [1, 2], "amount": [5, "x"]})
    cases = [
        (lambda: fs.split_target(1, weights=[1], history=history), "error.target_one_of", {}),
        (lambda: fs.split_target(1, weights=[0, 0]), "error.target_shares", {"name": "weights"}),
        (lambda: fs.split_target(1, months=3, weights=[1, 2]), "error.target_months", {"n": 3}),
        (lambda: fs.split_target(1, reps=["a"], capacity=[1, 2]), "error.target_shares", {}),
        (lambda: fs.split_target(1, reps=["a", "b"], capacity={"a": 1}),
         "error.target_capacity_missing", {"missing": ["b"]}),
        (lambda: fs.split_target(1, history=history), "error.target_history_amount", {"row": 3}),
        (lambda: fs.split_target(1, history=pd.DataFrame({"m": [1]})), "error.target_history", {}),
        (lambda: fs.split_target(1, probability=0.9), "error.target_needs_funnel", {}),
    ]  # fmt: skip
    for call, key, values in cases:
        raises(fs.FunnelsimValueError, key, call, **values)


# -------------------------------------------------------------- attainment
def test_attainment_by_rep_and_team_by_hand():
    att = fs.attainment(
        pd.Series({"Li": 45.0, "Wang": 15.0}), {"Li": 100, "Wang": 50}, elapsed=0.25
    )
    tab = att.to_frame()
    assert tab["rep"].tolist() == ["Li", "Wang", "team"]
    np.testing.assert_allclose(tab["attainment"], [0.45, 0.3, 0.4])
    np.testing.assert_allclose(tab["pace"], [1.8, 1.2, 1.6])
    np.testing.assert_allclose(tab["gap"], [55, 35, 90])
    assert "p_finish" not in tab
    assert "40%" in repr(att)


def test_attainment_chance_to_finish_against_the_exact_binomial():
    f = fs.Funnel(["calls", "sales"], [0.04])
    reps = 20_000
    left = {
        "Li": fs.forecast(f, calls=100, periods=5, reps=reps, rng=11),
        "Wang": fs.forecast(f, calls=50, periods=5, reps=reps, rng=12),
    }
    att = fs.attainment({"Li": 10, "Wang": 8}, {"Li": 30, "Wang": 15}, elapsed=0.5, forecast=left)
    tab = att.to_frame().set_index("rep")
    # deals left are Binomial(calls, 0.04); the team's is the sum of independent binomials
    exact = {
        "Li": stats.binom.sf(20 - 1, 500, 0.04),
        "Wang": stats.binom.sf(7 - 1, 250, 0.04),
        "team": stats.binom.sf(27 - 1, 750, 0.04),
    }
    for rep, p in exact.items():
        se = math.sqrt(p * (1 - p) / reps)
        assert abs(tab.loc[rep, "p_finish"] - p) < 4 * se, rep
        assert tab.loc[rep, "p_se"] == pytest.approx(se, rel=0.1)


def test_attainment_from_a_forecast_by_rep_against_the_exact_binomial():
    """A forecast of a fit by rep gives each rep's chance and the team's from one run."""
    by_rep = fs.fit(fs.datasets.load_counts(), by="rep")
    reps, calls, periods = 20_000, 60, 4
    left = fs.forecast(by_rep, calls=calls, periods=periods, reps=reps, rng=5,
                       uncertainty=False, between=None)  # fmt: skip
    groups = left.revenue_by_group
    assert sorted(groups) == ["Chen", "Li", "Liu", "Wang", "Zhang", "Zhao"]
    np.testing.assert_array_equal(sum(groups.values()), left.revenue)
    overall = {k: float(np.prod(f.ratios)) for k, f in left.funnels.items()}
    so_far = dict.fromkeys(groups, 3.0)
    att = fs.attainment(so_far, dict.fromkeys(groups, 6.0), elapsed=0.5, forecast=left)
    tab = att.to_frame().set_index("rep")
    n = calls * periods  # point ratios, no cycle: each rep's deals left are Bin(n, p_rep)
    for rep, p_rep in overall.items():
        p = stats.binom.sf(3 - 1, n, p_rep)
        assert abs(tab.loc[rep, "p_finish"] - p) < 4 * math.sqrt(p * (1 - p) / reps), rep
    # the team: a sum of independent binomials, by convolution
    pmf = np.array([1.0])
    for p_rep in overall.values():
        pmf = np.convolve(pmf, stats.binom.pmf(np.arange(n + 1), n, p_rep))
    p = pmf[36 - 18 :].sum()
    assert abs(tab.loc["team", "p_finish"] - p) < 4 * math.sqrt(p * (1 - p) / reps)
    # the table's reps must be the forecast's groups
    raises(fs.FunnelsimValueError, "error.attainment_forecast_groups",
           lambda: fs.attainment({"Li": 1, "Wang": 1}, {"Li": 2, "Wang": 2}, elapsed=0.5,
                                 forecast=left),
           missing="-", extra="Chen, Liu, Zhang, Zhao")  # fmt: skip
    raises(fs.FunnelsimValueError, "error.attainment_forecast_groups",
           lambda: fs.attainment({"Li": 1, "Ma": 1}, {"Li": 2, "Ma": 2}, elapsed=0.5,
                                 forecast=left))  # fmt: skip


def test_attainment_team_forecast_and_a_met_target():
    f = fs.Funnel(["calls", "sales"], [0.05])
    left = fs.forecast(f, calls=10, periods=2, reps=500, rng=3)
    tab = fs.attainment(120, 100, elapsed=0.9, forecast=left).to_frame()
    assert tab["rep"].tolist() == ["team"]
    assert tab["p_finish"].item() == 1.0 and tab["gap"].item() == 0.0
    with fs.language("en"):
        assert "0 reps" not in repr(fs.attainment(120, 100, elapsed=0.9))


def test_attainment_errors():
    f = fs.Funnel(["calls", "sales"], [0.05])
    left = fs.forecast(f, calls=10, periods=2, reps=50, rng=3)
    raises(fs.FunnelsimValueError, "error.attainment_reps",
           lambda: fs.attainment({"a": 1}, {"b": 2}, elapsed=0.5), missing="a, b")  # fmt: skip
    raises(fs.FunnelsimValueError, "error.attainment_forecast_reps",
           lambda: fs.attainment({"a": 1, "b": 1}, {"a": 2, "b": 2}, elapsed=0.5,
                                 forecast={"a": left}))  # fmt: skip
    raises(fs.FunnelsimValueError, "error.ratio_range",
           lambda: fs.attainment(1, 2, elapsed=1.5), name="elapsed")  # fmt: skip
    raises(fs.FunnelsimValueError, "error.nonnegative",
           lambda: fs.attainment({"a": -1}, {"a": 2}, elapsed=0.5))  # fmt: skip


# --------------------------------------------------------------- headcount
@pytest.mark.parametrize(
    ("target", "probability", "ratio", "per_day", "days"),
    [
        (50, 0.9, 0.05, 10, 20),
        (12, 0.8, 0.01, 40, 22),
        (1, 0.5, 0.2, 1, 1),
        (200, 0.95, 0.1, 30, 5),
    ],
)
def test_reps_needed_is_the_fewest_by_the_exact_binomial(
    target, probability, ratio, per_day, days
):
    f = fs.Funnel(["calls", "sales"], [ratio])
    hc = fs.reps_needed(target, probability, f, calls_per_rep_day=per_day, working_days=days,
                        deal_size=None)  # fmt: skip
    per_rep = per_day * days
    assert stats.binom.sf(target - 1, hc.reps * per_rep, ratio) >= probability
    assert stats.binom.sf(target - 1, (hc.reps - 1) * per_rep, ratio) < probability
    assert hc.reps_expected == math.ceil(target / (ratio * per_rep) - 1e-9)
    assert hc.p_reach == pytest.approx(stats.binom.sf(target - 1, hc.reps * per_rep, ratio))
    assert hc.to_frame()["reps"].tolist() == [hc.reps, hc.reps_expected]


def test_reps_needed_with_gamma_deals_against_the_compound_sum():
    f = fs.Funnel(["calls", "meetings", "sales"], [0.4, 0.05])
    size = fs.DealSize.gamma(20_000, cv=0.7)
    hc = fs.reps_needed(1_000_000, 0.9, f, calls_per_rep_day=20, working_days=20, deal_size=size)
    per_rep = 400
    p_at = _compound_sf(hc.reps * per_rep, 0.02, 20_000, 0.7, 1_000_000)
    p_below = _compound_sf((hc.reps - 1) * per_rep, 0.02, 20_000, 0.7, 1_000_000)
    assert p_at >= 0.9 > p_below
    assert hc.p_reach == pytest.approx(p_at, abs=1e-9)
    # the expected sizing: 1,000,000 / (400 x 0.02 x 20,000) = 6.25 -> 7 reps
    assert hc.reps_expected == 7 and hc.reps > hc.reps_expected
    assert str(hc.reps) in repr(hc)


def test_reps_needed_errors():
    f = fs.Funnel(["calls", "sales"], [0.05])
    raises(fs.FunnelsimValueError, "error.at_least",
           lambda: fs.reps_needed(5, 0.9, f, calls_per_rep_day=0, working_days=5,
                                  deal_size=None), name="calls_per_rep_day")  # fmt: skip
    raises(fs.FunnelsimValueError, "error.target_unreachable",
           lambda: fs.reps_needed(5, 0.9, fs.Funnel(["a", "b"], [0.0]), calls_per_rep_day=5,
                                  working_days=5, deal_size=None))  # fmt: skip


def test_target_to_date_of_a_seasonal_split():
    """A split heavy at the end of the year: its first months hold less than their share of
    the calendar, and the pace is against that (by hand)."""
    split = fs.split_target(1200, weights=[1, 1, 1, 3], reps=["Li", "Wang"], capacity=[1, 2])
    due = split.to_date(2)
    assert due.to_dict() == pytest.approx({"Li": 400 / 3, "Wang": 800 / 3})  # 2/6 of each part
    att = fs.attainment({"Li": 100, "Wang": 100}, split.by_rep(), elapsed=0.5, to_date=due)
    tab = att.to_frame().set_index("rep")
    to_date = {"Li": 400 / 3, "Wang": 800 / 3, "team": 400}
    assert tab["target_to_date"].to_dict() == pytest.approx(to_date)
    assert tab["pace"].to_dict() == pytest.approx({"Li": 0.75, "Wang": 0.375, "team": 0.5})
    linear = fs.attainment({"Li": 100, "Wang": 100}, split.by_rep(), elapsed=0.5).to_frame()
    assert linear["target_to_date"].tolist() == pytest.approx([200, 400, 600])
    raises(fs.FunnelsimValueError, "error.split_months_to_date", lambda: split.to_date(5),
           months=4)  # fmt: skip
    wrong = {"Wang": 1}
    raises(fs.FunnelsimValueError, "error.attainment_reps",
           lambda: fs.attainment({"Li": 1}, {"Li": 2}, elapsed=0.5, to_date=wrong))  # fmt: skip


def test_read_targets_reads_a_managers_sheet_and_says_what_is_wrong(tmp_path):
    """The sample sheet as pandas reads it; a missing column with a did-you-mean, and a cell
    that is not a number by row (spreadsheet rows: the header is row 1) and column."""
    sheet = fs.read_targets(fs.datasets.path("sample_targets.csv"))
    raw = pd.read_csv(fs.datasets.path("sample_targets.csv")).set_index("销售")
    assert sheet["actual"].tolist() == raw["实际"].astype(float).tolist()
    assert sheet["target"].tolist() == raw["目标"].astype(float).tolist()
    assert list(sheet.index) == list(raw.index) and sheet.index.name == "rep"
    odd = pd.DataFrame({"姓名": ["Li"], "业绩": ["12,000"], "年度指标": [50_000]})
    raises(fs.FunnelsimValueError, "targets.error.columns", lambda: fs.read_targets(odd),
           missing="target")  # fmt: skip
    path = tmp_path / "targets.csv"
    pd.DataFrame({"rep": ["Li", "Wang"], "actual": ["12,000", "n/a"], "target": [1, 2]}).to_csv(
        path, index=False
    )
    raises(fs.FunnelsimValueError, "targets.error.value", lambda: fs.read_targets(path),
           row=3, column="actual")  # fmt: skip
    assert (
        fs.read_targets(pd.DataFrame({"姓名": ["Li"], "业绩": ["12,000"], "指标": [5]})).loc[
            "Li", "actual"
        ]
        == 12_000
    )
