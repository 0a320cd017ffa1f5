"""Forecasts with the ratios' uncertainty, and call plans.

References: :func:`funnelsim.simulate` (same machinery, same seed, same
deals), the law of total variance for the mixed binomial (closed form from
the Beta posteriors' moments), the exact binomial planner
:func:`funnelsim.calls_for_target`, and held-out periods of a simulated
history for coverage. Tolerances are 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import check_error
from scipy import stats

import funnelsim as fs

STAGES = ("dials", "connects", "sales")


def _counts_log(dials: int, connects: int, sales: int, **groups) -> fs.Log:
    frame = pd.DataFrame({"dials": [dials], "connects": [connects], "sales": [sales], **groups})
    return fs.Log("counts", STAGES, counts=frame)


def _beta_moments(fit: fs.Fit) -> tuple[float, float]:
    """E[p] and E[p^2] of the product of the fit's independent Beta posteriors."""
    k = fit.table["passed"].to_numpy(float)
    n = fit.table["entered"].to_numpy(float)
    a, b = k + 0.5, n - k + 0.5
    m1 = float(np.prod(a / (a + b)))
    m2 = float(np.prod(a * (a + 1) / ((a + b) * (a + b + 1))))
    return m1, m2


def _var_se(x: np.ndarray) -> tuple[float, float]:
    """Sample variance and its standard error, sqrt((m4 - s^4) / n)."""
    d = x - x.mean()
    s2 = float(np.mean(d**2))
    m4 = float(np.mean(d**4))
    return float(x.var(ddof=1)), math.sqrt((m4 - s2**2) / x.size)


# ------------------------------------------------------ the same machinery
@pytest.mark.parametrize("start", ["steady", "empty"])
@pytest.mark.parametrize("cycle", [None, fs.Cycle(3), fs.Cycle(1.5, cv=0.8)])
def test_point_forecast_equals_simulate_deal_for_deal(start, cycle):
    funnel = fs.Funnel(["a", "b", "c"], [0.4, 0.2])
    size = fs.DealSize.gamma(1000, cv=0.7)
    kw = dict(cycle=cycle, deal_size=size, start=start, rng=11)
    fc = fs.forecast(funnel, 120, 9, 2500, **kw)  # 3 chunks of replicates, threads
    sim = fs.simulate(funnel, 120, 9, 2500, **kw)
    np.testing.assert_array_equal(fc.sales, sim.sales)
    np.testing.assert_array_equal(fc.revenue, sim.revenue)
    assert fc.point is None and not fc.uncertainty


def test_fit_without_uncertainty_is_the_point_funnel(rng):
    fit = fs.fit(_counts_log(2000, 400, 40))
    fc = fs.forecast(fit, [100, 200, 300], 3, 500, uncertainty=False, rng=3)
    sim = fs.simulate(fit.to_funnel(), [100, 200, 300], 3, 500, rng=3)
    np.testing.assert_array_equal(fc.sales, sim.sales)


def test_point_forecast_of_a_mixed_one_replays_the_same_calls():
    fit = fs.fit(_counts_log(2000, 400, 40))
    fc = fs.forecast(fit, 300, 4, 3000, rng=5)
    again = fs.forecast(fit, 300, 4, 3000, rng=5)
    np.testing.assert_array_equal(fc.sales, again.sales)
    assert fc.point is not None and fc.point.point is None
    # the point forecast is a plain simulation of the point funnel (other stream)
    assert fc.point.sales.sum(axis=1).mean() == pytest.approx(
        4 * 300 * fit.to_funnel().overall, abs=4 * math.sqrt(4 * 300 * 0.02 / 3000)
    )
    assert fc.ratios[None].shape == (3000, 2)


# ------------------------------------------------------- law of total variance
def test_mixed_binomial_mean_and_variance_match_the_law_of_total_variance():
    fit = fs.fit(_counts_log(2000, 400, 40))
    calls, periods, reps = 300, 8, 40_000
    fc = fs.forecast(fit, calls, periods, reps, rng=2026)
    total = fc.sales.sum(axis=1).astype(float)
    n = calls * periods
    m1, m2 = _beta_moments(fit)
    mean = n * m1
    var = n * (m1 - m2) + n**2 * (m2 - m1**2)  # E[n p (1 - p)] + Var[n p]
    assert total.mean() == pytest.approx(mean, abs=4 * math.sqrt(var / reps))
    v, se = _var_se(total)
    assert abs(v - var) < 4 * se
    # the point forecast has the binomial variance only, far below
    p = fit.to_funnel().overall
    v_point, se_point = _var_se(fc.point.sales.sum(axis=1).astype(float))
    assert abs(v_point - n * p * (1 - p)) < 4 * se_point
    assert var > 2 * n * p * (1 - p)


def test_mixed_compound_revenue_variance():
    fit = fs.fit(_counts_log(1500, 500, 60))
    size = fs.DealSize.gamma(2000, cv=0.8)
    calls, periods, reps = 200, 5, 40_000
    fc = fs.forecast(fit, calls, periods, reps, deal_size=size, rng=8)
    total = fc.revenue.sum(axis=1)
    n = calls * periods
    m1, m2 = _beta_moments(fit)
    es = n * m1
    vs = n * (m1 - m2) + n**2 * (m2 - m1**2)
    var = size.var * es + size.mean**2 * vs
    assert total.mean() == pytest.approx(size.mean * es, abs=4 * math.sqrt(var / reps))
    v, se = _var_se(total)
    assert abs(v - var) < 4 * se


def test_mixed_forecast_with_a_cycle_keeps_the_steady_state_mean():
    """With a steady start each period closes ``calls x p`` on average, p drawn per replicate.

    Given p, a period's deals are binomial with mean ``calls p`` (the calls
    of earlier periods, split over lags, add up to one period's worth), so
    the mean over replicates is ``calls E[p]`` in every period; the variance
    of the per-period mean across replicates bounds the tolerance.
    """
    fit = fs.fit(_counts_log(2000, 400, 40))
    m1, m2 = _beta_moments(fit)
    calls, reps = 400, 20_000
    fc = fs.forecast(fit, calls, 6, reps, cycle=fs.Cycle(3), rng=6)
    var = calls * (m1 - m2) + calls**2 * (m2 - m1**2)  # one period, law of total variance
    np.testing.assert_allclose(fc.sales.mean(axis=0), calls * m1, atol=4 * math.sqrt(var / reps))
    empty = fs.forecast(fit, calls, 6, 2000, cycle=fs.Cycle(3), start="empty", rng=6)
    assert empty.sales[:, 0].mean() < 0.2 * calls * m1  # a new rep closes little at first


def test_uncertainty_widens_the_band():
    """Bands of the 13-week total against exact distributions: the honest forecast's
    is a binomial mixed over the ratios' posteriors (averaged over 200,000 scipy
    Beta draws), the point forecast's a binomial at the point estimates.

    A sample q-quantile x of ``reps`` replicates has F(ceil x) >= q and F(floor x - 1)
    <= q up to sampling error: 4 sqrt(q (1 - q) / reps). The point band's coverage of
    the honest forecast is a share of ``reps`` replicates: 4 binomial SEs.
    """
    fit = fs.fit(_counts_log(2000, 400, 40))
    reps, calls = 20_000, 300 * 13
    fc = fs.forecast(fit, 300, 13, reps, rng=4)
    bands = fc.compare_bands(measure="sales")
    last = bands.iloc[-1]
    table = fit.table
    a = table["passed"].to_numpy(float) + 0.5
    b = (table["entered"] - table["passed"]).to_numpy(float) + 0.5
    gen = np.random.default_rng(11)
    p = np.prod(stats.beta.rvs(a, b, size=(200_000, 2), random_state=gen), axis=1)

    def mixed_cdf(x: float) -> float:
        return float(stats.binom.cdf(x, calls, p).mean())

    def point_cdf(x: float) -> float:
        return float(stats.binom.cdf(x, calls, fit.overall.ratio))

    for cdf, (low, high) in (
        (mixed_cdf, (last["low"], last["high"])),
        (point_cdf, (last["point_low"], last["point_high"])),
    ):
        for q, x in ((0.1, low), (0.9, high)):
            tol = 4 * math.sqrt(q * (1 - q) / reps)
            assert cdf(math.ceil(x)) >= q - tol and cdf(math.floor(x) - 1) <= q + tol
    inside = mixed_cdf(math.floor(last["point_high"])) - mixed_cdf(
        math.ceil(last["point_low"]) - 1
    )
    assert abs(last["point_coverage"] - inside) < 4 * math.sqrt(inside * (1 - inside) / reps)
    # so the point band, which claims 80 %, holds far less often; the honest one is wider
    assert inside < 0.8 - 8 * math.sqrt(0.16 / reps)
    assert last["width"] > last["point_width"]
    assert (bands["width_ratio"].iloc[3:] > 1).all()
    assert list(bands.columns) == [
        "period",
        "low",
        "high",
        "width",
        "point_low",
        "point_high",
        "point_width",
        "width_ratio",
        "point_coverage",
    ]


# ------------------------------------------------------------------ coverage
def test_bands_cover_held_out_periods_at_about_the_stated_rate():
    """Fit on 8 simulated weeks, forecast the next 13, check the P10-P90 band.

    200 independent histories; the honest band should hold the held-out
    revenue 80 % of the time (4 binomial standard errors: +-0.113); the
    point band, which ignores the ratios' uncertainty, far less.
    """
    truth = fs.Funnel(STAGES, [0.3, 0.1])
    size = fs.DealSize.gamma(5000, cv=0.5)
    histories, reps = 200, 1000
    seeds = np.random.SeedSequence(20261123).spawn(histories)
    hits, point_hits = 0, 0
    for seed in seeds:
        past_rng, future_rng, fc_rng = (np.random.default_rng(s) for s in seed.spawn(3))
        past = fs.simulate(truth, 250, 8, 1, rng=past_rng)
        counts = pd.DataFrame(past.counts[0], columns=list(STAGES))
        fit = fs.fit(fs.Log("counts", STAGES, counts=counts))
        future = fs.simulate(truth, 500, 13, 1, deal_size=size, rng=future_rng)
        actual = future.revenue.sum()
        fc = fs.forecast(fit, 500, 13, reps, deal_size=size, rng=fc_rng)
        band = fc.compare_bands(cumulative=True).iloc[-1]
        hits += band["low"] <= actual <= band["high"]
        point_hits += band["point_low"] <= actual <= band["point_high"]
    se = math.sqrt(0.8 * 0.2 / histories)
    assert abs(hits / histories - 0.8) < 4 * se
    assert point_hits / histories < 0.8 - 4 * se


# ------------------------------------------------------------- summaries
def test_percentiles_and_prob_reach_are_the_replicates_own():
    fit = fs.fit(_counts_log(2000, 400, 40))
    fc = fs.forecast(fit, 300, 6, 2000, deal_size=1000.0, rng=9)
    cum = np.cumsum(fc.revenue, axis=1)
    table = fc.percentiles(cumulative=True)
    np.testing.assert_allclose(table["q10"], np.quantile(cum, 0.1, axis=0))
    np.testing.assert_allclose(table["q90"], np.quantile(cum, 0.9, axis=0))
    np.testing.assert_allclose(table["mean"], cum.mean(axis=0))
    p = fc.prob_reach(20_000)
    np.testing.assert_allclose(p.to_numpy(), (cum >= 20_000).mean(axis=0))
    assert p.index.name == "period" and len(p) == 6
    per = fc.prob_reach(4000, measure="sales", cumulative=False)
    np.testing.assert_allclose(per.to_numpy(), (fc.sales >= 4000).mean(axis=0))
    assert list(fc.percentiles([0.05, 0.5]).columns) == ["period", "mean", "q05", "q50"]
    frame = fc.to_frame()
    assert len(frame) == 2 * 6 * 2000
    assert set(frame.columns) == {"replicate", "period", "measure", "value"}
    assert "Forecast(2000 replicates x 6 periods, with ratio uncertainty" in repr(fc)


def test_grouped_fit_forecasts_the_team():
    counts = pd.DataFrame(
        {
            "rep": ["ann", "bob"],
            "dials": [3000, 3000],
            "connects": [900, 600],
            "sales": [90, 30],
        }
    )
    fit = fs.fit(fs.Log("counts", STAGES, counts=counts), by="rep")
    reps = 20_000
    fc = fs.forecast(fit, {"ann": 100, "bob": 200}, 4, reps, rng=1)
    assert fc.groups == ["ann", "bob"]
    mean, var = 0.0, 0.0
    for key, calls in (("ann", 100), ("bob", 200)):
        m1, m2 = _beta_moments(fit.group(key))
        n = calls * 4
        mean += n * m1
        var += n * (m1 - m2) + n**2 * (m2 - m1**2)
    total = fc.sales.sum(axis=1).astype(float)
    assert total.mean() == pytest.approx(mean, abs=4 * math.sqrt(var / reps))
    v, se = _var_se(total)
    assert abs(v - var) < 4 * se


# ------------------------------------------------------------------ plans
@pytest.mark.parametrize("deal_size", [None, fs.DealSize.gamma(10_000, cv=0.6)])
def test_plan_point_branch_is_calls_for_target(deal_size):
    log = _counts_log(3000, 600, 30)
    fit = fs.fit(log)
    target = 50 if deal_size is None else 500_000
    plan = fs.plan_calls(fit, target, 0.9, periods=2, deal_size=deal_size, reps=2000, rng=1)
    row = plan.to_frame().iloc[0]
    funnel = fit.to_funnel()
    assert row["calls_point"] == fs.calls_for_target(
        funnel, target, 0.9, deal_size=deal_size, periods=2
    )
    assert row["calls_expected"] == fs.calls_for_expected(
        funnel, target, deal_size=deal_size, periods=2
    )
    first = int(fs.back_calculate(funnel, target, deal_size=deal_size)["needed"].iloc[0])
    assert row["calls_decks"] == math.ceil(first / 2)
    assert row["calls"] > row["calls_point"]  # uncertainty costs calls
    assert row["p_point_plan"] < 0.9
    # on a Funnel only the point branch is there, and it is the same number
    plain = fs.plan_calls(funnel, target, 0.9, periods=2, deal_size=deal_size)
    assert plain.table["calls_point"].iloc[0] == row["calls_point"]
    assert pd.isna(plain.table["calls"].iloc[0])
    assert plain.table["p_point_plan"].iloc[0] >= 0.9
    assert plan.decks.equals(fs.back_calculate(funnel, target, deal_size=deal_size))


def _reference_chance(fit, calls, target, deal_size, sims=20_000, seed=99):
    """P(total over ``calls`` calls >= target), averaged over scipy Beta draws of the ratios.

    Independent of the planner: the posteriors Beta(passed + 1/2, failed + 1/2)
    drawn with scipy; given the overall rate p, the chance is exact (binomial
    sales; with gamma deal sizes, sum over k deals of Binom(k) * the Gamma(k *
    shape) tail). Returns the mean and its Monte Carlo standard error.
    """
    gen = np.random.default_rng(seed)
    table = fit.table
    a = table["passed"].to_numpy(float) + 0.5
    b = table["entered"].to_numpy(float) - table["passed"].to_numpy(float) + 0.5
    p = np.prod(stats.beta.rvs(a, b, size=(sims, len(a)), random_state=gen), axis=1)
    if deal_size is None:
        cond = stats.binom.sf(math.ceil(target) - 1, calls, p)
    else:
        shape = 1 / deal_size.cv**2
        k = np.arange(1, int(stats.binom.isf(1e-12, calls, p.max())) + 2)
        tail = stats.gamma.sf(target, k * shape, scale=deal_size.mean / shape)
        cond = stats.binom.pmf(k[None, :], calls, p[:, None]) @ tail
    return float(cond.mean()), float(cond.std() / math.sqrt(sims)), float(cond.std())


@pytest.mark.parametrize(
    ("target", "deal_size"), [(50, None), (500_000, fs.DealSize.gamma(10_000, cv=0.6))]
)
def test_plan_with_uncertainty_against_an_independent_mixture(target, deal_size):
    """The planned calls reach the target with the asked probability, one call fewer
    does not; the chance of the point plan and of the decks' plan are the mixture's.

    A short history (30 sales) leaves the overall rate uncertain by about 19 %, so the
    point plan, 90 % on point estimates, delivers far less. Tolerance: 4 standard
    errors of the difference between the reference's 20,000 draws and the planner's
    ``reps`` (each ``sd / sqrt(draws)``, sd of the chance across draws).
    """
    reps = 20_000
    fit = fs.fit(_counts_log(3000, 600, 30))
    plan = fs.plan_calls(fit, target, 0.9, deal_size=deal_size, reps=reps, rng=2)
    row = plan.table.iloc[0]

    def check(calls: int) -> tuple[float, float]:
        chance, se, sd = _reference_chance(fit, calls, target, deal_size)
        return chance, 4 * math.sqrt(se**2 + sd**2 / reps)

    calls = int(row["calls"])
    chance, tol = check(calls)
    assert chance >= 0.9 - tol
    chance, tol = check(calls - 1)
    assert chance < 0.9 + tol
    chance, tol = check(int(row["calls_point"]))
    assert abs(row["p_point_plan"] - chance) < tol
    assert row["p_point_plan"] < 0.9 - 4 * tol  # the ratios' uncertainty matters here
    chance, tol = check(int(row["calls_decks"]))
    assert abs(row["p_decks"] - chance) < tol


def test_plan_per_rep_and_for_the_team():
    counts = pd.DataFrame(
        {
            "rep": ["ann", "bob", "cy"],
            "dials": [3000, 2000, 1000],
            "connects": [900, 400, 300],
            "sales": [90, 20, 30],
        }
    )
    log = fs.Log("counts", STAGES, counts=counts)
    plan = fs.plan_calls(log, 40, 0.8, by="rep", reps=2000, rng=3)
    table = plan.to_frame()
    assert table["group"].tolist() == ["ann", "bob", "cy", "team"]
    team = fs.fit(log).to_funnel()
    assert table["calls_point"].iloc[-1] == fs.calls_for_target(team, 40, 0.8)
    ann = fs.fit(log, by="rep").funnels_by_group()["ann"]
    assert table["calls_point"].iloc[0] == fs.calls_for_target(ann, 40, 0.8)
    assert (table["calls"] >= table["calls_point"]).all()
    # the smallest rep (cy, 1,000 dials) carries the most uncertainty
    extra = table["calls"] / table["calls_point"]
    assert extra.iloc[2] > extra.iloc[0]
    assert "team" in repr(plan)
    assert plan.group_labels() == ["ann", "bob", "cy", "team"]
    with fs.language("zh"):  # the identifier stays, the label follows the language
        chinese = fs.plan_calls(log, 40, 0.8, by="rep", reps=200, rng=3)
        assert chinese.to_frame()["group"].tolist() == ["ann", "bob", "cy", "team"]
        assert chinese.group_labels()[-1] == fs.t("plan.team") != "team"
        assert fs.t("plan.team") in repr(chinese)
    alone = fs.plan_calls(fs.Funnel(STAGES, [0.3, 0.1]), 10, 0.9)
    assert alone.to_frame()["group"].tolist() == ["all"] and alone.group_labels() == ["all"]


# ------------------------------------------------------------- bad input


def test_bad_input_gives_clear_errors():
    log = _counts_log(2000, 400, 40)
    funnel = fs.Funnel(STAGES, [0.3, 0.1])
    fc = fs.forecast(fs.fit(log), 100, 4, 10, rng=0)
    counts = pd.DataFrame({"rep": ["a", "b"], "dials": [10, 10], "connects": [5, 5]})
    counts["sales"] = [1, 1]
    grouped = fs.fit(fs.Log("counts", STAGES, counts=counts), by="rep")
    cases = [
        (lambda: fs.forecast(funnel, 100, 0, 10), "error.at_least", {"name": "periods"}),
        (lambda: fs.forecast(funnel, {"ann": 100}, 4, 10), "error.forecast_calls_mapping", {}),
        (lambda: fs.forecast(funnel, -5, 4, 10), "error.calls_value", {"value": -5}),
        (
            lambda: fs.forecast(funnel, 100, 4, 10, rng=0).compare_bands(),
            "error.forecast_no_point",
            {},
        ),
        (
            lambda: fc.percentiles(measure="deals"),
            "error.choice",
            {"name": "measure", "value": "'deals'", "choices": "revenue, sales"},
        ),
        (lambda: fc.percentiles([10, 50]), "error.quantile_level", {"value": 10}),
        (
            lambda: fs.forecast(grouped, {"a": 10}, 4, 10),
            "error.forecast_calls_groups",
            {"missing": "b", "unknown": "-"},
        ),
        (
            lambda: fs.plan_calls(funnel, 10, 1.5),
            "error.ratio_range",
            {"name": "probability", "value": 1.5},
        ),
        (lambda: fs.plan_calls(funnel, 10, 0.9, by="rep"), "error.plan_by", {}),
        (
            lambda: fs.plan_calls(fs.Funnel(STAGES, [0.3, 0.0]), 10, 0.9),
            "error.target_unreachable",
            {"funnel": repr(fs.Funnel(STAGES, [0.3, 0.0]))},
        ),
    ]
    for call, key, values in cases:
        with pytest.raises(fs.FunnelsimValueError) as err:
            call()
        check_error(err, key, **values)


def test_input_of_the_wrong_type_is_a_type_error_naming_it():
    log = _counts_log(2000, 400, 40)
    funnel = fs.Funnel(STAGES, [0.3, 0.1])
    cases = [
        (
            lambda: fs.forecast(log, 100, 4, 10),
            "error.forecast_log",
            {"function": "forecast", "type": "Log"},
        ),
        (
            lambda: fs.plan_calls("funnel", 10, 0.9),
            "error.forecast_input",
            {"function": "plan_calls", "name": "fit", "type": "str"},
        ),
        (
            lambda: fs.forecast("funnel", 100, 4, 10),
            "error.forecast_input",
            {"function": "forecast", "type": "str"},
        ),
        (
            lambda: fs.forecast(fs.fit(log), 100, 4, 10, uncertainty="yes"),
            "error.flag",
            {"name": "uncertainty", "value": "'yes'", "type": "str"},
        ),
        (
            lambda: fs.forecast(funnel, "100", 4, 10),
            "error.calls_not_numeric",
            {"name": "calls", "type": "str"},
        ),
        (
            lambda: fs.forecast(funnel, 100, "4", 10),
            "error.type_number",
            {"name": "periods", "value": "'4'", "type": "str"},
        ),
        (
            lambda: fs.forecast(funnel, 100, 4, 10).percentiles(["a"]),
            "error.type_number",
            {"name": "q[0]", "type": "str"},
        ),
        (
            lambda: fs.plan_calls(funnel, "10", 0.9),
            "error.type_number",
            {"name": "target", "type": "str"},
        ),
    ]
    for call, key, values in cases:
        with pytest.raises(fs.FunnelsimTypeError) as err:
            call()
        check_error(err, key, **values)


# ------------------------------------------------------------------ plots
def test_plot_forecast_draws_both_bands_and_the_target():
    fit = fs.fit(_counts_log(2000, 400, 40))
    fc = fs.forecast(fit, 300, 13, 2000, deal_size=1000.0, rng=1)
    ax = fs.plotting.plot_forecast(fc, target=60_000)
    labels = [line.get_label() for line in ax.lines]
    assert labels[:2] == ["median", "point estimates only: P10 and P90"]
    chance = fc.prob_reach(60_000).iloc[-1]
    assert f"target CN¥60,000: reached with chance {chance:.0%}" in labels  # money: currency
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    q = fc.percentiles(cumulative=True)
    assert band.max() == pytest.approx(q["q90"].max())
    assert ax.get_title() == "Forecast: revenue to date"
    point = fs.forecast(fit.to_funnel(), 300, 13, 200, rng=1)
    ax = fs.plotting.plot_forecast(point, measure="sales", cumulative=False, period="month")
    assert len(ax.lines) == 1 and ax.get_xlabel() == "month"
    with pytest.raises(fs.FunnelsimTypeError) as err:
        fs.plotting.plot_forecast(fit)
    assert err.value.key == "error.plot_result"
    assert (err.value.values["wanted"], err.value.values["value"]) == ("Forecast", "Fit")


# ------------------------------------------- what people read (issue #11)
def test_periods_are_counted_from_1_in_every_table_and_on_the_chart():
    """Tables, series, the report's and the CLI's band and the chart's x all say 1..n."""
    from funnelsim.lessons import outlook
    from funnelsim.summaries import band_frame

    fit = fs.fit(_counts_log(2000, 400, 40))
    fc = fs.forecast(fit, 300, 5, 200, rng=1)
    weeks = [1, 2, 3, 4, 5]
    assert fc.percentiles()["period"].tolist() == weeks
    assert fc.prob_reach(10).index.tolist() == weeks
    assert fc.compare_bands()["period"].tolist() == weeks
    assert sorted(fc.to_frame()["period"].unique()) == weeks
    o = outlook(fit, target=20, calls=300, periods=5, reps=200, rng=1, unit="week")
    assert o.to_frame()["period"].tolist() == weeks
    assert band_frame(o)["week"].tolist() == weeks
    ax = fs.plotting.plot_forecast(fc, measure="sales")
    assert ax.lines[0].get_xdata().tolist() == weeks


@pytest.mark.parametrize(
    ("ratio", "coverage", "width", "cover"),
    [
        (1.6, 0.55, "narrower", "short"),  # a short log: the point band is over-confident
        (1.04, 0.82, "same", "holds"),  # shows as "1.0": about as wide; 82 % >= 80 %: no "only"
        (0.996, 0.798, "same", "holds"),  # 79.8 % shows as 80 %: it holds what it claims
        (1.06, 0.794, "narrower", "short"),  # 79 % < 80 %: "only"
        (0.9, 0.85, "wider", "holds"),  # the luck of the simulation
        (float("inf"), 0.3, "narrower", "short"),  # a point band of width 0
    ],
)
def test_the_point_band_sentence_adapts_to_the_numbers(ratio, coverage, width, cover):
    from funnelsim.summaries import point_band_keys

    keys = point_band_keys(ratio, coverage, 0.8)
    assert keys == (f"report.point_width.{width}", f"report.point_cover.{cover}")
    text = fs.t(keys[0], low="1", high="2", ratio=ratio)
    text += fs.t(keys[1], coverage=coverage, nominal=0.8)
    assert "1.0 times" not in text and ("holds only" in text) == (cover == "short")


def test_sentences_name_the_period_unit_and_say_only_only_when_short():
    """Calls a week when the unit is known; the decks' plan says "only" below the goal."""
    from funnelsim.lessons import outlook
    from funnelsim.summaries import outlook_lines

    fit = fs.fit(_counts_log(2000, 400, 40))
    weekly = outlook(fit, target=20, probability=0.9, periods=4, reps=300, rng=1, unit="week")
    first, given = outlook_lines(weekly)[:2]
    assert "in 4 weeks" in first and "calls a week" in first and "period" not in first
    assert "calls a week (as given)" not in given  # calls from the plan
    assert "at the planned" in given and "calls a week, 4 weeks" in given
    assert "delivers only" in first  # the decks' plan makes the target about half the time
    with fs.language("zh"):
        assert "4 周内" in outlook_lines(weekly)[0] and "每周" in outlook_lines(weekly)[0]
    # A modest goal the decks' plan already meets: no "only".
    easy = outlook(fit, target=20, probability=0.5, periods=4, reps=300, rng=1)
    p_decks = float(easy.plan.table["p_decks"].iloc[-1])
    assert p_decks >= 0.5
    assert "delivers only" not in outlook_lines(easy)[0]
    assert "calls a period" in outlook_lines(easy)[0]  # unit unknown: "period"
    with pytest.raises(fs.FunnelsimValueError) as info:
        outlook(fit, target=20, reps=10, rng=1, unit="fortnight")
    check_error(info, "error.choice", name="unit", value="'fortnight'")


def test_plan_repr_names_the_unit():
    """The plan's first line says what a period is: "13 weeks; calls a week", also in Chinese."""
    funnel = fs.Funnel(STAGES, [0.3, 0.1])
    head = repr(fs.plan_calls(funnel, 10, 0.9, periods=13, unit="week")).splitlines()[0]
    assert "in 13 weeks" in head and head.endswith("calls a week:")
    one = repr(fs.plan_calls(funnel, 10, 0.9, periods=1, unit="month")).splitlines()[0]
    assert "in 1 month " in one and one.endswith("calls a month:")
    plain = repr(fs.plan_calls(funnel, 10, 0.9, periods=4)).splitlines()[0]
    assert "in 4 periods" in plain and plain.endswith("calls a period:")
    with fs.language("zh"):
        chinese = repr(fs.plan_calls(funnel, 10, 0.9, periods=13, unit="week")).splitlines()[0]
    assert "13 周内" in chinese and "每周所需拨打量" in chinese
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.plan_calls(funnel, 10, 0.9, unit="fortnight")
    check_error(err, "error.choice", name="unit", value="'fortnight'")
    counts = fs.fit(fs.datasets.load_counts())
    o = fs.lessons.outlook(counts, target=20, periods=4, reps=100, rng=1, unit="week")
    assert o.plan.unit == "week"
