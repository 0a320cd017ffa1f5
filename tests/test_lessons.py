"""The pure computations behind the notebooks, against independent references.

References are scipy's binomial and normal distributions and the closed-form
moments of a compound binomial; statistical checks use fixed seeds, large
samples and tolerances of about 4 standard errors derived from theory.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import check_error
from scipy import stats

import funnelsim as fs
from funnelsim import lessons

GAME = fs.presets.get("daily ratio game").funnel  # dials -> connects -> meetings -> sales
WEEKLY = fs.presets.get("six-stage weekly funnel").funnel  # 100 -> ... -> 5 closed
Z95 = stats.norm.ppf(0.975)


def rel_se_cv(cv: float, excess_kurtosis: float, n: int) -> float:
    """Standard error of a sample CV, relative to the CV (delta method).

    ``Var(s) / sigma^2 ~ (kurtosis - 1) / (4 n)`` for the standard deviation and
    ``cv^2 / n`` for the mean; the covariance term is left out, which makes the
    tolerance wider, never narrower, for right-skewed counts and amounts.
    """
    return math.sqrt((excess_kurtosis + 2) / (4 * n) + cv**2 / n)


def gamma_compound_kurtosis(calls: float, p: float, cv_size: float) -> float:
    """Excess kurtosis of revenue: a Poisson(calls p) number of gamma deals.

    ``E[Y^4] / (lambda E[Y^2]^2)`` with ``E[Y^k]`` of a gamma of shape ``a = 1 / cv^2``.
    """
    a = 1 / cv_size**2
    return (a + 2) * (a + 3) / (calls * p * a * (a + 1))


# ------------------------------------------------------------ running share
def test_running_share_shapes_and_band_formula():
    res = lessons.running_share(0.3, 400, reps=7, rng=1)
    assert res.shares.shape == (7, 400)
    assert res.calls.tolist() == list(range(1, 401))
    assert ((res.shares >= 0) & (res.shares <= 1)).all()
    half = Z95 * np.sqrt(0.3 * 0.7 / res.calls)
    np.testing.assert_allclose(res.high, np.minimum(0.3 + half, 1), rtol=1e-12)
    np.testing.assert_allclose(res.low, np.maximum(0.3 - half, 0), rtol=1e-12)
    assert res.half_width == pytest.approx(Z95 * math.sqrt(0.21 / 400))


def test_running_share_is_the_cumulative_share_of_each_rep():
    res = lessons.running_share(0.5, 50, reps=3, rng=2)
    hits = np.diff(np.concatenate([np.zeros((3, 1)), res.shares * res.calls], axis=1), axis=1)
    np.testing.assert_allclose(hits, np.round(hits), atol=1e-9)  # 0 or 1 success per call
    assert set(np.round(hits).ravel()) <= {0.0, 1.0}


@pytest.mark.parametrize("p", [0.5, 7 / 15, 1 / 120])
def test_final_share_is_binomial(p):
    n, reps = 2000, 4000
    res = lessons.running_share(p, n, reps=reps, rng=3)
    # mean of the final share: p, standard error sqrt(p (1 - p) / (n reps))
    assert abs(res.final.mean() - p) < 4 * math.sqrt(p * (1 - p) / (n * reps))
    # spread across reps: sqrt(p (1 - p) / n); the SE of a sample SD uses the binomial kurtosis
    sd = math.sqrt(p * (1 - p) / n)
    kurt = (1 - 6 * p * (1 - p)) / (n * p * (1 - p))
    assert res.final.std(ddof=1) == pytest.approx(sd, rel=4 * math.sqrt((kurt + 2) / (4 * reps)))


def test_band_coverage_matches_the_exact_binomial():
    p, n, reps = 0.5, 1000, 4000
    res = lessons.running_share(p, n, reps=reps, rng=4)
    lo, hi = res.low[-1] * n, res.high[-1] * n
    exact = stats.binom.cdf(math.floor(hi + 1e-9), n, p) - stats.binom.cdf(
        math.ceil(lo - 1e-9) - 1, n, p
    )
    assert abs(res.inside - exact) < 4 * math.sqrt(exact * (1 - exact) / reps)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_running_share_edges(p):
    res = lessons.running_share(p, 20, reps=2, rng=0)
    assert (res.shares == p).all()
    assert (res.low == p).all() and (res.high == p).all()
    assert res.inside == 1.0


def test_running_share_seed_and_generator():
    a = lessons.running_share(0.4, 100, reps=5, rng=11)
    b = lessons.running_share(0.4, 100, reps=5, rng=11)
    c = lessons.running_share(0.4, 100, reps=5, rng=12)
    d = lessons.running_share(0.4, 100, reps=5, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a.shares, b.shares)
    np.testing.assert_array_equal(a.shares, d.shares)
    assert not np.array_equal(a.shares, c.shares)


def test_lessons_leave_the_global_random_state_alone():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (checking it is untouched)
    lessons.running_share(0.4, 100, reps=5, rng=None)
    lessons.noise_by_volume(GAME, [100], reps=10, rng=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_running_share_frame_and_repr():
    res = lessons.running_share(0.5, 30, reps=4, rng=5)
    frame = res.to_frame()
    assert list(frame.columns) == ["rep", "calls", "share", "low", "high"]
    assert len(frame) == 120
    np.testing.assert_array_equal(frame.loc[frame["rep"] == 2, "share"], res.shares[2])
    assert "4 reps x 30 calls" in repr(res)


@pytest.mark.parametrize(
    ("kwargs", "key", "values"),
    [
        ({"p": 1.5, "n": 10}, "error.ratio_range", {"name": "p", "value": 1.5}),
        ({"p": 0.5, "n": 0}, "error.at_least", {"name": "n", "value": 0, "minimum": 1}),
        ({"p": 0.5, "n": 10, "reps": 2.5}, "error.whole_number", {"name": "reps", "value": 2.5}),
        ({"p": 0.5, "n": 10, "confidence_level": 1.0}, "error.confidence_level", {"value": 1.0}),
        ({"p": 0.5, "n": 100_000, "reps": 1000}, "error.too_much_work", {"reps": 1000}),
    ],
)
def test_running_share_errors(kwargs, key, values):
    with pytest.raises(ValueError) as err:
        lessons.running_share(**kwargs)
    check_error(err, key, **values)


# ------------------------------------------------------ calls for precision
def test_the_lessons_plan_with_the_one_calls_for_precision():
    """Notebooks 01 and 04 plan with the same function, so they agree."""
    assert lessons.calls_for_precision is fs.calls_for_precision


@pytest.mark.parametrize(
    ("p", "margin", "level"),
    [(0.5, 0.05, 0.95), (7 / 15, 0.05, 0.95), (7 / 15, 0.025, 0.95), (0.1, 0.01, 0.9)],
)
def test_calls_for_precision_wald_is_the_smallest_n(p, margin, level):
    z = stats.norm.ppf(0.5 + level / 2)
    n = lessons.calls_for_precision(p, margin, confidence_level=level, method="wald")
    assert z * math.sqrt(p * (1 - p) / n) <= margin * (1 + 1e-12)
    assert z * math.sqrt(p * (1 - p) / (n - 1)) > margin


def test_calls_for_precision_halving_the_margin_takes_four_times_the_calls():
    a = lessons.calls_for_precision(0.5, 0.04, method="wald")
    b = lessons.calls_for_precision(0.5, 0.02, method="wald")
    assert b == pytest.approx(4 * a, abs=4)


# ---------------------------------------------------------- noise by volume
def test_noise_by_volume_sales_cv_matches_binomial_theory():
    calls, reps = [100, 400, 1600, 6400], 6000
    res = lessons.noise_by_volume(GAME, calls, reps=reps, rng=7)
    p = GAME.overall
    for n, cv in res.cv("sales").items():
        theory = math.sqrt((1 - p) / (n * p))  # Binomial(n, p): sd / mean
        kurt = (1 - 6 * p * (1 - p)) / (n * p * (1 - p))
        assert cv == pytest.approx(theory, rel=4 * rel_se_cv(theory, kurt, reps))
    np.testing.assert_allclose(
        res.points["theory"], [math.sqrt((1 - p) / (n * p)) for n in calls], rtol=1e-12
    )


def test_noise_by_volume_revenue_cv_matches_compound_theory():
    calls, reps, size = [300, 1200, 4800], 6000, fs.DealSize.gamma(10_000, cv=0.8)
    res = lessons.noise_by_volume(WEEKLY, calls, reps=reps, deal_size=size, rng=8)
    p = WEEKLY.overall
    for n, cv in res.cv("revenue").items():
        theory = math.sqrt((1 - p + 0.8**2) / (n * p))
        kurt = gamma_compound_kurtosis(n, p, 0.8)
        assert cv == pytest.approx(theory, rel=4 * rel_se_cv(theory, kurt, reps))


def test_noise_falls_like_one_over_root_calls():
    res = lessons.noise_by_volume(GAME, [100, 200], reps=10, rng=0)
    slope = np.polyfit(np.log(res.curve["calls"]), np.log(res.curve["cv"]), 1)[0]
    assert slope == pytest.approx(-0.5, abs=1e-9)
    th = res.points.set_index("calls")["theory"]
    assert 1 - th[200] / th[100] == pytest.approx(1 - 1 / math.sqrt(2))  # -29 %, not -50 %


def test_noise_by_volume_fixed_deal_size_has_the_sales_cv():
    res = lessons.noise_by_volume(GAME, [500, 1000], reps=200, deal_size=5_000, rng=9)
    np.testing.assert_allclose(res.cv("revenue"), res.cv("sales"), rtol=1e-12)


def test_noise_by_volume_frame():
    res = lessons.noise_by_volume(GAME, [100, 200], reps=50, deal_size=10.0, rng=1)
    frame = res.to_frame()
    assert list(frame.columns) == ["calls", "series", "source", "cv"]
    assert len(frame) == 2 * 2 * 2
    assert set(frame["source"]) == {"simulated", "theory"}
    assert "NoiseByVolume(50 reps" in repr(res)


@pytest.mark.parametrize(
    ("calls", "reps", "key", "values"),
    [
        ([0, 100], 100, "error.calls_list", {"value": [0, 100]}),
        ([10.5], 100, "error.calls_list", {"value": [10.5]}),
        ([100], 1, "error.at_least", {"name": "reps", "value": 1, "minimum": 2}),
    ],
)
def test_noise_by_volume_errors(calls, reps, key, values):
    with pytest.raises(ValueError) as err:
        lessons.noise_by_volume(GAME, calls, reps=reps)
    check_error(err, key, **values)


# --------------------------------------------------------------- ratio game
def test_ratio_game_daily_game_against_scipy():
    res = lessons.ratio_game(GAME, 15, target=50, periods=250)
    p = GAME.overall
    np.testing.assert_allclose(res.expected, [3750, 1750, 250, 31.25])
    assert res.back["needed"].tolist() == [6000, 2800, 400, 50]
    assert res.plan_calls == 24  # 6000 dials / 250 days
    reach = lambda calls: stats.binom.sf(49, calls * 250, p)  # noqa: E731  P(sales >= 50)
    assert res.p_plan == pytest.approx(reach(24), rel=1e-9)
    assert res.p_current == pytest.approx(reach(15), rel=1e-9)
    assert 0.4 < res.p_plan < 0.6  # the plan built on averages: about half the time
    assert reach(res.sure_calls) >= 0.9 > reach(res.sure_calls - 1)
    assert res.margin == pytest.approx(res.sure_calls / 24 - 1)


def test_ratio_game_levers_default_to_the_decks_comparison():
    res = lessons.ratio_game(GAME, 15, target=50, periods=250)
    assert res.extra_calls == 15 and res.lever_stage == GAME.stages[1]
    assert res.new_ratio == pytest.approx(8 / 15)
    np.testing.assert_allclose(res.levers["gain"], [0.0, 1.0, 1 / 7], rtol=1e-12)
    expected = fs.compare_levers(
        GAME, 15, extra_calls=15, stage=GAME.stages[1], new_ratio=8 / 15, target=50, periods=250
    )
    pd.testing.assert_frame_equal(res.levers, expected)


def test_ratio_lever_raises_sales_in_proportion():
    # stage as an index counts ratios: ratio 1 is connects -> meetings
    res = lessons.ratio_game(GAME, 15, target=50, periods=250, stage=1, new_ratio=2 / 7)
    assert res.levers["gain"].iloc[2] == pytest.approx(1.0)  # 2 meetings in 7 connects: doubled
    assert res.lever_stage == GAME.stages[2]


def test_ratio_game_back_calculation_preset_against_monte_carlo():
    pre = fs.presets.get("target back-calculation")
    res = lessons.ratio_game(pre.funnel, 408, target=pre.target, deal_size=pre.deal_size)
    assert res.back["needed"].tolist() == [408, 102, 51, 38]
    assert res.plan_calls == 408
    # Independent check of "the plan reaches the target about half the time":
    # deals ~ Binomial(408, p); each deal is a band value with the band's share.
    rng, draws = np.random.default_rng(2026), 200_000
    deals = rng.binomial(408, pre.funnel.overall, size=draws)
    by_band = rng.multinomial(deals, pre.deal_size.shares)
    revenue = by_band @ np.asarray(pre.deal_size.values)
    mc = np.mean(revenue >= pre.target)
    # prob_reach uses a gamma approximation for band sizes (documented to about 0.01)
    assert abs(res.p_plan - mc) < 0.01 + 4 * math.sqrt(mc * (1 - mc) / draws)
    assert 0.4 < res.p_plan < 0.65


def test_ratio_game_frame_and_repr():
    res = lessons.ratio_game(GAME, 15, target=50, periods=250)
    frame = res.to_frame()
    assert list(frame.columns) == ["stage", "quantity", "value"]
    assert frame.loc[frame["quantity"] == "needed", "value"].tolist() == [6000, 2800, 400, 50]
    assert "plan on averages 24 calls" in repr(res)


@pytest.mark.parametrize(
    ("kwargs", "key", "values"),
    [
        ({"calls": -1, "target": 10}, "error.nonnegative", {"name": "calls", "value": -1}),
        (
            {"calls": 15, "target": 10, "probability": 1.0},
            "error.open_probability",
            {"name": "probability", "value": 1.0},
        ),
        ({"calls": 15, "target": 10, "stage": "lunch"}, "error.unknown_ratio_stage", {}),
        (
            {"calls": 15, "target": 10, "periods": 0},
            "error.at_least",
            {"name": "periods", "value": 0, "minimum": 1},
        ),
    ],
)
def test_ratio_game_errors(kwargs, key, values):
    with pytest.raises(ValueError) as err:
        lessons.ratio_game(GAME, **kwargs)
    check_error(err, key, **values)
    if key == "error.unknown_ratio_stage":  # the stage asked for, as the message quotes it
        assert "lunch" in str(err.value.values["value"])


# ------------------------------------------------------- revenue steadiness
STEADY_SIZE = fs.DealSize.gamma(10_000, cv=0.5)


@pytest.fixture(scope="module")
def steady():
    return lessons.revenue_steadiness(
        WEEKLY, 100, periods=52, reps=3000, cycle=fs.Cycle(4), deal_size=STEADY_SIZE, rng=12
    )


def test_steadiness_mean_matches_theory(steady):
    week = fs.theory.revenue_moments(WEEKLY, 100, STEADY_SIZE, cycle=fs.Cycle(4))
    assert week.mean == pytest.approx(100 * 0.05 * 10_000)
    se = week.std / math.sqrt(steady.reps * steady.periods)
    assert abs(steady.weekly["mean"].mean() - week.mean) < 4 * se
    # a month is the sum of its 4 weeks, so its mean is the sum of theirs (an identity)
    weekly = steady.weekly["mean"].to_numpy().reshape(13, 4).sum(axis=1)
    np.testing.assert_allclose(steady.monthly["mean"], weekly, rtol=1e-12)


@pytest.mark.parametrize(("series", "block"), [("week", 1), ("month", 4)])
def test_steadiness_cv_matches_theory(steady, series, block):
    theory = fs.theory.revenue_cv(WEEKLY, 100, STEADY_SIZE, block, cycle=fs.Cycle(4))
    assert steady.theory_cv(series) == pytest.approx(theory, rel=1e-12)
    # By hand: the calls of week j (the block is weeks 0 .. block - 1) close a deal in
    # the block with probability p q_j, q_j = P(j + lag in the block); sum_j q_j = block.
    # Independent compound sums: var = n sum_j [p q_j (1 + cv^2) - (p q_j)^2] mu^2.
    pmf = fs.Cycle(4).pmf()
    q = np.array([pmf[max(0, -j) : max(0, block - j)].sum() for j in range(1 - len(pmf), block)])
    p, cv2 = 0.05, 0.25
    by_hand = math.sqrt((p * q.sum() * (1 + cv2) - p**2 * (q**2).sum()) / (100 * (p * block) ** 2))
    assert theory == pytest.approx(by_hand, rel=1e-12)
    # without a cycle, sqrt((1 - p + cv^2) / (n p)): the lag makes it a little larger
    assert theory > math.sqrt((1 - p + cv2) / (100 * block * p))
    n = steady.reps * (steady.periods // block)
    kurt = gamma_compound_kurtosis(100 * block, 0.05, 0.5)
    assert steady.cv(series) == pytest.approx(theory, rel=4 * rel_se_cv(theory, kurt, n))


def test_steadiness_fan_and_curve(steady):
    for frame in (steady.weekly, steady.monthly):
        assert (frame["q10"] <= frame["q50"]).all() and (frame["q50"] <= frame["q90"]).all()
    assert len(steady.weekly) == 52 and len(steady.monthly) == 13
    assert (steady.monthly["periods_in_block"] == 4).all()
    for name in ("week", "month"):
        curve = steady.curve[steady.curve["series"] == name]
        # steady state: CV is exactly proportional to 1 / sqrt(calls)
        scaled = curve["cv"] * np.sqrt(curve["calls"])
        np.testing.assert_allclose(scaled, scaled.iloc[0], rtol=1e-9)
    assert steady.example_weekly.shape == (52,) and steady.example_monthly.shape == (13,)


def test_steadiness_drops_a_last_partial_month():
    res = lessons.revenue_steadiness(WEEKLY, 50, periods=10, reps=20, deal_size=1.0, rng=0)
    assert len(res.monthly) == 2 and len(res.example_monthly) == 2


def test_steadiness_depends_on_the_funnel_only_through_its_overall_rate():
    two = fs.Funnel(["calls", "closed"], [WEEKLY.overall])
    kw = {"periods": 12, "reps": 50, "cycle": 2, "deal_size": STEADY_SIZE, "rng": 3}
    a = lessons.revenue_steadiness(WEEKLY, 100, **kw)
    b = lessons.revenue_steadiness(two, 100, **kw)
    pd.testing.assert_frame_equal(a.weekly, b.weekly)


def test_steadiness_more_calls_less_noise():
    kw = {"periods": 26, "reps": 2000, "cycle": 2, "deal_size": STEADY_SIZE, "rng": 4}
    low = lessons.revenue_steadiness(WEEKLY, 50, **kw)
    high = lessons.revenue_steadiness(WEEKLY, 200, **kw)
    assert high.cv("week") < low.cv("week")
    assert high.theory_cv("week") == pytest.approx(low.theory_cv("week") / 2, rel=1e-12)


def test_steadiness_frame_and_repr(steady):
    frame = steady.to_frame()
    assert frame["series"].value_counts().to_dict() == {"week": 52, "month": 13}
    assert {"mean", "q10", "q50", "q90", "cv"} <= set(frame.columns)
    assert "100 calls a week" in repr(steady)


@pytest.mark.parametrize(
    ("kwargs", "values"),
    [
        ({"periods": 3}, {"name": "periods", "value": 3, "minimum": 4}),
        ({"reps": 1}, {"name": "reps", "value": 1, "minimum": 2}),
        ({"calls": 0}, {"name": "calls", "value": 0, "minimum": 1}),
    ],
)
def test_steadiness_errors(kwargs, values):
    args = {"calls": 100, **kwargs}
    with pytest.raises(ValueError) as err:
        lessons.revenue_steadiness(WEEKLY, **args)
    check_error(err, "error.at_least", **values)


# ------------------------------------------------------------ cycle effects
CYCLE = fs.Cycle(6, cv=0.3)


@pytest.fixture(scope="module")
def effects():
    return lessons.cycle_effects(
        WEEKLY, 100, cycle=CYCLE, deal_size=10_000, periods=40, reps=3000, rng=13
    )


def test_pause_schedule(effects):
    assert effects.scenario("pause")["week"].tolist() == list(range(1, 41))  # calendar weeks
    calls = effects.scenario("pause")["calls"].to_numpy()  # weeks 13 to 16 without calls
    assert (calls[12:16] == 0).all()
    assert (np.delete(calls, range(12, 16)) == 100).all()
    assert (effects.scenario("ramp_up")["calls"] == 100).all()


@pytest.mark.parametrize(("scenario", "start"), [("ramp_up", "empty"), ("pause", "steady")])
def test_cycle_effects_follow_theory_week_by_week(effects, scenario, start):
    rows = effects.scenario(scenario)
    schedule = rows["calls"].to_numpy()
    for i, row in rows.iterrows():
        m = fs.theory.revenue_moments(
            WEEKLY, schedule, 10_000, cycle=CYCLE, start=start, first_period=i
        )
        assert row["week"] == i + 1
        assert row["theory"] == pytest.approx(m.mean, rel=1e-12, abs=1e-9)
        assert abs(row["mean"] - m.mean) <= 4 * m.std / math.sqrt(effects.reps) + 1e-9


def test_revenue_arrives_and_falls_one_cycle_later(effects):
    assert effects.steady == pytest.approx(100 * 0.05 * 10_000)
    ramp = effects.scenario("ramp_up")["theory"].to_numpy()
    assert ramp[0] < 0.01 * effects.steady  # a new rep earns nothing at first
    sd = CYCLE.mean * CYCLE.cv
    assert 1 + CYCLE.mean <= effects.ramp_week <= 1 + CYCLE.mean + 3 * sd
    pause = effects.scenario("pause")["theory"].to_numpy()
    assert pause[:12] == pytest.approx(effects.steady)  # before the pause: full swing
    centre = 13 + (4 - 1) / 2 + CYCLE.mean  # calls missing in weeks 13-16, paid ~6 weeks later
    assert abs(effects.dip_week - centre) <= 1
    assert effects.dip < 0.5
    assert pause[-1] == pytest.approx(effects.steady, rel=1e-3)  # and back to full swing


def test_cycle_effects_summaries_equal_the_cycle_distribution(effects):
    """Closed form from the lag pmf: a new rep's expected week i (from 0) is full swing
    times P(lag <= i); after the pause, full swing times 1 - P(call week is paused)."""
    pmf = effects.cycle.pmf()
    cdf = np.cumsum(pmf)
    assert effects.ramp_week == 1 + int(np.flatnonzero(cdf >= 0.9 - 1e-12)[0])
    paused = range(effects.pause_start - 1, effects.pause_start - 1 + effects.pause_length)
    weeks = len(effects.scenario("pause"))
    share = np.array(
        [1 - sum(pmf[i - w] for w in paused if 0 <= i - w < len(pmf)) for i in range(weeks)]
    )
    assert effects.dip == pytest.approx(share.min(), rel=1e-9)
    assert effects.dip_week == 1 + int(share.argmin())


def test_cycle_effects_frame_and_repr(effects):
    frame = effects.to_frame()
    assert list(frame.columns) == [
        "scenario",
        "week",
        "calls",
        "mean",
        "q10",
        "q50",
        "q90",
        "theory",
    ]
    assert len(frame) == 80
    assert "4-week pause from week 13" in repr(effects)


def test_cycle_effects_errors():
    with pytest.raises(ValueError) as err:
        lessons.cycle_effects(WEEKLY, 100, periods=20, pause_start=18, pause_length=4)
    check_error(err, "error.pause_window", start=18, length=4, periods=20)
    with pytest.raises(ValueError) as err:
        lessons.cycle_effects(WEEKLY, 100, periods=20, pause_start=0)
    check_error(err, "error.at_least", name="pause_start", value=0, minimum=1)
    res = lessons.cycle_effects(WEEKLY, 100, periods=20, reps=2, rng=0)
    with pytest.raises(ValueError) as err:
        res.scenario("holiday")
    check_error(err, "error.choice", name="scenario")
    assert "holiday" in str(err.value.values["value"])


# ------------------------------------------- numbers the apps show (widgets)
# Each number an app states comes from a result property; each is checked here
# against the way the app computed it before, or against an independent count.


def test_running_share_final_range_is_the_lowest_and_highest_rep():
    res = lessons.running_share(0.3, 400, reps=12, rng=5)
    hits = np.random.default_rng(5).random((12, 400)) < 0.3  # the same draws, counted here
    shares = hits.sum(axis=1) / 400
    assert res.final_range == (shares.min(), shares.max())
    one = lessons.running_share(0.3, 400, reps=1, rng=5)
    assert one.final_range == (float(one.final[0]), float(one.final[0]))


def test_ratio_game_expected_sales_is_calls_times_the_overall_rate():
    res = lessons.ratio_game(GAME, 15, target=50, periods=250)
    assert res.expected_sales == pytest.approx(15 * 250 * GAME.overall, rel=1e-12)  # 31.25
    assert res.expected_sales == float(res.expected.iloc[-1])


def test_revenue_steadiness_weekly_numbers_and_doubled_calls():
    size = fs.DealSize.gamma(10_000, cv=0.5)
    res = lessons.revenue_steadiness(WEEKLY, 100, cycle=fs.Cycle(4), deal_size=size, rng=1)
    assert res.weekly_mean == float(res.weekly["mean"].mean())  # as the app computed it
    assert res.weekly_range == (float(res.weekly["q10"].mean()), float(res.weekly["q90"].mean()))
    # in steady state a week's expected revenue is calls x overall rate x mean deal size
    assert res.weekly_mean == pytest.approx(100 * WEEKLY.overall * 10_000, rel=0.02)
    low, high = res.weekly_range
    assert low < res.weekly_mean < high
    # twice the calls: the theory noise falls by sqrt(2), as theory.revenue_cv says
    doubled = fs.theory.revenue_cv(WEEKLY, 200, size, 1, cycle=fs.Cycle(4))
    assert res.theory_cv_doubled("week") == pytest.approx(doubled, rel=1e-9)
    assert res.theory_cv_doubled("month") == pytest.approx(res.theory_cv("month") / math.sqrt(2))


def test_outlook_band_and_reach_are_the_forecasts_own():
    log = fs.Log(
        "counts", ("dials", "sales"), counts=pd.DataFrame({"dials": [5000], "sales": [40]})
    )
    o = lessons.outlook(fs.fit(log), target=40, probability=0.9, reps=2000, rng=1)
    total = o.forecast.sales.sum(axis=1)  # each future's sales over the horizon
    assert o.band == tuple(float(q) for q in np.quantile(total, [0.1, 0.5, 0.9]))
    assert o.reach == pytest.approx(float(np.mean(total >= 40)), abs=1e-12)
    no_target = lessons.outlook(fs.fit(log), calls=300, reps=200, rng=1)
    assert no_target.reach is None


def test_pipeline_numbers_total_is_every_deals_amount():
    pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
    assert lessons.pipeline_numbers(pipe, 300_000).total == 1_250_000.0


def test_a_lesson_given_something_else_than_a_funnel_is_a_type_error():
    with pytest.raises(fs.FunnelsimTypeError) as err:
        lessons.noise_by_volume([0.5, 0.2], [100, 400], reps=10, rng=1)
    assert err.value.key == "error.not_a_funnel"
    assert err.value.values["type"] == "list"
