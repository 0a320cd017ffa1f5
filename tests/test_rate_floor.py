"""A rate that moves between periods: ``simulate(..., rate_cv=)`` and the closed form.

References: the beta-binomial law (scipy.stats.betabinom) for a one-step
funnel, the law of total variance written out by hand with scipy's beta
moments for a three-step funnel, and the simulation's own drawn rates. The
simulated moments are checked within 4 standard errors computed from the
sample (fixed seeds).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.i18n import FunnelsimError

THREE = fs.Funnel(["calls", "meetings", "proposals", "sales"], [0.3, 0.4, 0.5])  # p = 0.06
ONE = fs.Funnel(["calls", "sales"], [0.06])


def _beta(mean: float, cv: float) -> stats.rv_continuous:
    total = (1 - mean) / (cv * cv * mean) - 1
    return stats.beta(mean * total, (1 - mean) * total)


def _within(sample: np.ndarray, expected_mean: float, expected_var: float) -> None:
    """Sample mean and variance within 4 standard errors of the expected values."""
    x = np.asarray(sample, dtype=float).ravel()
    n = x.size
    se_mean = math.sqrt(expected_var / n)
    assert abs(x.mean() - expected_mean) < 4 * se_mean, (x.mean(), expected_mean, se_mean)
    m4 = np.mean((x - x.mean()) ** 4)
    se_var = math.sqrt((m4 - x.var() ** 2) / n)
    assert abs(x.var(ddof=1) - expected_var) < 4 * se_var, (x.var(ddof=1), expected_var, se_var)


# ------------------------------------------------------------ the closed form
@pytest.mark.parametrize(("n", "rate_cv"), [(1, 0.3), (50, 0.1), (400, 0.3), (5000, 0.5)])
def test_one_step_is_the_beta_binomial(n, rate_cv):
    """One step: the rate is one beta, so the deals are beta-binomial (scipy)."""
    ref = stats.betabinom(n, *_beta(0.06, rate_cv).args)
    m = fs.theory.sales_moments(ONE, n, rate_cv=rate_cv)
    assert m.mean == pytest.approx(ref.mean(), rel=1e-12)
    assert m.var == pytest.approx(ref.var(), rel=1e-10)


def test_law_of_total_variance_by_hand_three_steps_with_deal_size():
    """Three steps, each ratio a beta with the CV the simulation uses; revenue of gamma deals."""
    n, rate_cv = 700, 0.25
    c = math.sqrt((1 + rate_cv**2) ** (1 / 3) - 1)  # per stage: (1 + c^2)^3 = 1 + rate_cv^2
    betas = [_beta(r, c) for r in THREE.ratios]
    e_p = math.prod(b.mean() for b in betas)
    e_p2 = math.prod(b.moment(2) for b in betas)
    var_p = e_p2 - e_p**2
    assert math.sqrt(var_p) / e_p == pytest.approx(rate_cv, rel=1e-12)
    # Var D = E[n P (1 - P)] + Var(n P)
    var_d = n * (e_p - e_p2) + n * n * var_p
    size = fs.DealSize.gamma(5_000.0, cv=0.8)
    mu, s2 = 5_000.0, (0.8 * 5_000.0) ** 2
    var_r = mu * mu * var_d + s2 * n * e_p
    m = fs.theory.revenue_moments(THREE, n, size, rate_cv=rate_cv)
    assert m.mean == pytest.approx(mu * n * e_p, rel=1e-12)
    assert m.var == pytest.approx(var_r, rel=1e-10)
    # the brief's form: CV^2 = (1 - p + cv_size^2) / (n p) + (n - 1) / n rate_cv^2
    p = THREE.overall
    cv2 = (1 - p + 0.8**2) / (n * p) + (n - 1) / n * rate_cv**2
    assert fs.theory.revenue_cv(THREE, n, size, rate_cv=rate_cv) ** 2 == pytest.approx(cv2)


def test_default_and_zero_leave_the_closed_form_unchanged():
    size = fs.DealSize.gamma(1.0, cv=1.0)
    for kw in ({}, {"rate_cv": 0.0}):
        assert fs.theory.revenue_cv(THREE, 500, size, 4, cycle=2, **kw) == pytest.approx(
            fs.theory.revenue_cv(THREE, 500, size, 4, cycle=2), rel=0, abs=0
        )
    p = THREE.overall
    assert fs.theory.sales_cv(THREE, 500, rate_cv=0.0) == pytest.approx(
        math.sqrt((1 - p) / (500 * p)), rel=1e-12
    )


def test_the_floor():
    """More calls stop helping: the CV falls to rate_cv (rate_cv / sqrt(T) over T periods)."""
    assert fs.theory.cv_floor(THREE, 0.2) == pytest.approx(0.2)
    assert fs.theory.cv_floor(THREE, 0.2, periods=4) == pytest.approx(0.1)
    assert fs.theory.cv_floor(THREE, 0.0) == 0.0
    cvs = [fs.theory.sales_cv(THREE, n, rate_cv=0.2) for n in (10**2, 10**4, 10**6, 10**9)]
    assert all(a > b for a, b in itertools.pairwise(cvs))
    assert cvs[-1] == pytest.approx(0.2, rel=1e-6)
    # with a cycle, the floor is the limit of the exact moments
    big = fs.theory.sales_cv(THREE, 10**10, periods=3, cycle=fs.Cycle(2, cv=0.5), rate_cv=0.3)
    floor = fs.theory.cv_floor(THREE, 0.3, periods=3, cycle=fs.Cycle(2, cv=0.5))
    assert big == pytest.approx(floor, rel=1e-6)
    assert 0 < floor < 0.3  # deals from several call periods, each with its own rate


# ------------------------------------------------------------- the simulation
def test_zero_rate_cv_keeps_the_same_draws():
    base = fs.simulate(THREE, 50, 4, 3, cycle=2, deal_size=10.0, rng=1)
    zero = fs.simulate(THREE, 50, 4, 3, cycle=2, deal_size=10.0, rng=1, rate_cv=0.0)
    moved = fs.simulate(THREE, 50, 4, 3, cycle=2, deal_size=10.0, rng=1, rate_cv=0.3)
    assert base.rates is None and zero.rates is None and base.rate_cv == 0.0
    np.testing.assert_array_equal(base.counts, zero.counts)
    np.testing.assert_array_equal(base.revenue, zero.revenue)
    assert not np.array_equal(base.counts, moved.counts)
    # one draw per stage, period (the cycle's periods before 0 too) and rep: not per call
    assert moved.rates.shape == (3, fs.Cycle(2).max_lag + 4, 3)
    assert fs.simulate(THREE, 5000, 4, 3, cycle=2, rng=1, rate_cv=0.3).rates.shape == (
        moved.rates.shape
    )


def test_drawn_rates_have_mean_p_and_cv_rate_cv():
    sim = fs.simulate(THREE, 10, 50, 2000, rng=7, rate_cv=0.3)
    overall = sim.rates.prod(axis=-1)
    p = THREE.overall
    _within(overall, p, (0.3 * p) ** 2)
    c = math.sqrt((1 + 0.3**2) ** (1 / 3) - 1)
    for k, r in enumerate(THREE.ratios):
        _within(sim.rates[..., k], r, (c * r) ** 2)


@pytest.mark.parametrize("method", ["binomial", "per_call"])
def test_given_the_drawn_rates_each_stage_is_binomial(method):
    """Equality in law given the rates: each stage count is Binomial(previous, drawn ratio)."""
    reps = 4000 if method == "binomial" else 400
    sim = fs.simulate(THREE, 60, 6, reps, cycle=1.5, rng=11, rate_cv=0.4, method=method)
    warm = sim.rates.shape[1] - sim.periods
    for k in range(3):
        prev, nxt = sim.counts[..., k], sim.counts[..., k + 1]
        r = sim.rates[:, warm:, k]
        keep = prev > 0
        z = (nxt - prev * r)[keep] / np.sqrt(prev * r * (1 - r))[keep]
        _within(z, 0.0, 1.0)


def test_both_methods_draw_the_same_rates_and_agree_in_law():
    kw = {"cycle": 1.5, "rng": 5, "rate_cv": 0.3, "deal_size": fs.DealSize.gamma(2.0, cv=0.5)}
    fast = fs.simulate(THREE, 80, 3, 3000, **kw)
    slow = fs.simulate(THREE, 80, 3, 3000, method="per_call", **kw)
    np.testing.assert_array_equal(fast.rates, slow.rates)  # same seed: same drawn rates
    m = fs.theory.revenue_moments(THREE, 80, kw["deal_size"], periods=3, cycle=1.5, rate_cv=0.3)
    for sim in (fast, slow):
        _within(sim.revenue.sum(axis=1), m.mean, m.var)


@pytest.mark.parametrize(
    ("calls", "periods", "cycle", "start"),
    [(400, 1, None, "steady"), (3000, 4, 2.0, "steady"), (200, 3, 1.5, "empty")],
)
def test_simulated_revenue_cv_matches_the_closed_form(calls, periods, cycle, start):
    size = fs.DealSize.gamma(1_000.0, cv=0.7)
    sim = fs.simulate(
        THREE,
        calls,
        periods,
        20_000,
        cycle=cycle,
        deal_size=size,
        start=start,
        rng=3,
        rate_cv=0.25,
    )
    window = sim.revenue.sum(axis=1)  # one window per rep: independent across reps
    m = fs.theory.revenue_moments(
        THREE, calls, size, periods=periods, cycle=cycle, start=start, rate_cv=0.25
    )
    _within(window, m.mean, m.var)
    # and the CV itself, within 4 SE (delta method from the sample)
    x = window / m.mean
    mean, var = x.mean(), x.var()
    cv_hat = math.sqrt(var) / mean
    # influence function of std / mean: cv (((x - m)^2 - s^2) / (2 s^2) - (x - m) / m)
    infl = cv_hat * (((x - mean) ** 2 - var) / (2 * var) - (x - mean) / mean)
    se = float(np.std(infl)) / math.sqrt(x.size)
    assert abs(cv_hat - m.cv) < 4 * se, (cv_hat, m.cv, se)


def test_simulated_cv_sits_on_the_floor_at_huge_volume():
    sim = fs.simulate(THREE, 10**7, 1, 4000, rng=2, rate_cv=0.2)
    _within(
        sim.sales[:, 0],
        10**7 * THREE.overall,
        fs.theory.sales_moments(THREE, 10**7, rate_cv=0.2).var,
    )
    assert abs(sim.sales.std() / sim.sales.mean() - 0.2) < 4 * 0.2 / math.sqrt(2 * 4000)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("funnel", "rate_cv", "key"),
    [
        (THREE, -0.1, "error.nonnegative"),
        (THREE, "a lot", "error.type_number"),
        (fs.Funnel(["calls", "sales"], [0.5]), 1.0, "error.rate_cv_range"),
        (fs.Funnel(["calls", "sales"], [1.0]), 0.1, "error.rate_cv_range"),
    ],
)
def test_bad_rate_cv(funnel, rate_cv, key):
    for call in (
        lambda: fs.simulate(funnel, 10, 2, 2, rng=0, rate_cv=rate_cv),
        lambda: fs.theory.sales_cv(funnel, 10, rate_cv=rate_cv),
        lambda: fs.theory.cv_floor(funnel, rate_cv),
    ):
        with pytest.raises(FunnelsimError) as err:
            call()
        assert err.value.key == key


def test_largest_rate_cv_is_allowed_just_below_the_bound():
    f = fs.Funnel(["calls", "sales"], [0.5])  # a beta with mean 0.5 has CV < 1
    sim = fs.simulate(f, 10, 2, 2, rng=0, rate_cv=0.99)
    assert np.isfinite(sim.rates).all()
    f = fs.Funnel(["calls", "meetings", "sales"], [1.0, 0.2])  # the stage at 100 % stays put
    sim = fs.simulate(f, 10, 2, 2, rng=0, rate_cv=0.5)
    assert (sim.rates[..., 0] == 1.0).all()
    assert fs.theory.cv_floor(f, 0.5) == pytest.approx(0.5)


# ------------------------------------------------------ the lesson and its plot
def test_noise_floor_lesson_against_the_closed_form():
    size = fs.DealSize.gamma(10_000, cv=0.5)
    res = fs.lessons.noise_floor(
        THREE, [100, 3000, 100_000], rate_cv=0.2, deal_size=size, reps=20_000, rng=4
    )
    assert res.floor == fs.theory.cv_floor(THREE, 0.2) == pytest.approx(0.2)
    pts = res.points
    assert pts["rate_cv"].tolist() == [0.0] * 3 + [0.2] * 3
    for row in pts.itertuples():
        th = fs.theory.revenue_cv(THREE, row.calls, size, rate_cv=row.rate_cv)
        assert row.theory == pytest.approx(th, rel=1e-12)
        # SE of a sample CV, normal approximation: cv sqrt(1 / (2 n) + cv^2 / n)
        se = th * math.sqrt(1 / (2 * res.reps) + th * th / res.reps)
        assert abs(row.cv - th) < 4 * se, (row, th, se)
    # the moving rate flattens onto the floor; the fixed one keeps falling
    assert res.cv(0.0).iloc[-1] < 0.05 < 0.19 < res.cv().iloc[-1]
    assert (res.curve.loc[res.curve["rate_cv"] > 0, "cv"] > 0.2).all()
    frame = res.to_frame()
    assert list(frame.columns) == ["calls", "rate_cv", "source", "cv"] and len(frame) == 12
    assert "NoiseFloor" in repr(res)


def test_noise_floor_with_a_cycle_uses_the_cycle_floor():
    res = fs.lessons.noise_floor(ONE, [50], rate_cv=0.3, cycle=2, reps=50, rng=0)
    assert res.floor == pytest.approx(fs.theory.cv_floor(ONE, 0.3, cycle=2))
    assert res.floor < 0.3


def test_noise_floor_bad_input():
    with pytest.raises(FunnelsimError) as err:
        fs.lessons.noise_floor(THREE, [0, 10])
    assert err.value.key == "error.calls_list"
    with pytest.raises(FunnelsimError) as err:
        fs.lessons.noise_floor(fs.Funnel(["calls", "sales"], [0.5]), [10], rate_cv=2.0)
    assert err.value.key == "error.rate_cv_range"


def test_plot_cv_floor():
    res = fs.lessons.noise_floor(THREE, [100, 10_000], rate_cv=0.2, reps=200, rng=1)
    with fs.plotting.style():
        ax = fs.plotting.plot_cv_floor(res)
    assert ax.get_title() == fs.t("plot.floor.title")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == 5  # two theory lines, two sets of points, the floor
    assert lines[-1].get_ydata()[0] == pytest.approx(0.2)
    np.testing.assert_allclose(lines[3].get_ydata(), res.cv().to_numpy())
    with pytest.raises(FunnelsimError):
        fs.plotting.plot_cv_floor(fs.simulate(THREE, 10, 2, 2, rng=0))
