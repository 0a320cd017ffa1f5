"""Closed-form theory against direct formulas, scipy, brute force and Monte Carlo.

Reference code in this file is written independently of funnelsim.theory:
explicit loops over call periods and lags, sums over the full binomial
support, linear searches, and Monte Carlo that draws every deal on its own.
Monte Carlo tolerances are 4 standard errors (SE of a proportion
sqrt(q (1 - q) / n); SE of a mean sd / sqrt(n)).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from keyed import raises
from scipy import stats

import funnelsim as fs
from funnelsim import theory
from funnelsim.presets import SIZE_BANDS

VALUE, TYPE = fs.FunnelsimValueError, fs.FunnelsimTypeError


Z = 4.0


def _funnel(*ratios: float) -> fs.Funnel:
    return fs.Funnel([f"s{k}" for k in range(len(ratios) + 1)], ratios)


# ================================================================= moments
# (ratios, calls per period, periods): mean = N p, var = N p (1 - p), N = calls * periods
NO_CYCLE = [
    ((0.1,), 1000, 1),
    ((0.5, 0.2), 200, 4),
    ((7 / 15, 1 / 7, 1 / 8), 75, 13),
    ((1e-4,), 20, 1),
    ((0.999, 0.995), 20, 1),
    ((1.0, 1.0), 30, 2),  # no randomness
    ((0.5, 0.0), 30, 2),  # nothing sells
    ((0.3,), 0, 5),  # no calls
    ((0.3,), 7.5, 1),  # expected values accept fractional calls
]


@pytest.mark.parametrize(("ratios", "calls", "periods"), NO_CYCLE)
def test_sales_moments_without_cycle_are_binomial(ratios, calls, periods):
    f = _funnel(*ratios)
    p = math.prod(ratios)
    n = calls * periods
    m = theory.sales_moments(f, calls, periods=periods)
    assert m.mean == pytest.approx(n * p, rel=1e-12, abs=1e-15)
    assert m.var == pytest.approx(n * p * (1 - p), rel=1e-10, abs=1e-12)
    assert m.std == pytest.approx(math.sqrt(n * p * (1 - p)), rel=1e-10, abs=1e-12)


def _window_moments(p, pmf, schedule, start, first, periods):
    """Deals closing in [first, first + periods): calls of period s close there with
    probability p * P(first - s <= lag < first + periods - s), independently."""
    pmf = np.asarray(pmf)
    mean = var = 0.0
    for s in range(-(len(pmf) - 1), first + periods):
        if s < 0:
            n = schedule[0] if start == "steady" else 0.0
        else:
            n = schedule[s]
        w = sum(pmf[lag] for lag in range(len(pmf)) if first <= s + lag < first + periods)
        q = p * w
        mean += n * q
        var += n * q * (1 - q)
    return mean, var


@pytest.mark.parametrize("start", ["steady", "empty"])
@pytest.mark.parametrize("first", [0, 1, 2, 3, 7])
def test_deterministic_cycle_delays_sales_by_exactly_the_lag(start, first):
    f = _funnel(0.5, 0.4)
    m = theory.sales_moments(f, 100, cycle=fs.Cycle(3, cv=0), start=start, first_period=first)
    if start == "empty" and first < 3:
        assert (m.mean, m.var) == (0.0, 0.0)
    else:
        assert m.mean == pytest.approx(100 * 0.2, rel=1e-12)
        assert m.var == pytest.approx(100 * 0.2 * 0.8, rel=1e-12)


CYCLE_CASES = [
    # (cycle, calls or schedule, start, first_period, periods)
    (fs.Cycle(4, 0.5), 100, "steady", 0, 1),
    (fs.Cycle(4, 0.5), 100, "steady", 5, 4),
    (fs.Cycle(4, 0.5), 100, "empty", 0, 1),
    (fs.Cycle(4, 0.5), 100, "empty", 2, 1),
    (fs.Cycle(4, 0.5), 100, "empty", 4, 13),
    (fs.Cycle(8, 0.5), 50, "steady", 13, 13),
    (fs.Cycle(2.5, 0), 80, "steady", 0, 3),
    (fs.Cycle(1, 2.0), 60, "empty", 3, 4),
    (fs.Cycle(3, 0.5), [100] * 5 + [0] * 4 + [100] * 5, "steady", 3, 1),
    (fs.Cycle(3, 0.5), [100] * 5 + [0] * 4 + [100] * 5, "steady", 9, 4),
    (fs.Cycle(3, 0.5), [10, 20, 30, 40, 50, 60], "empty", 2, 4),
    (None, [10, 20, 30, 40], "steady", 1, 2),
]


@pytest.mark.parametrize(("cycle", "calls", "start", "first", "periods"), CYCLE_CASES)
def test_sales_moments_with_a_cycle_match_a_sum_over_call_periods(
    cycle, calls, start, first, periods
):
    f = _funnel(0.5, 0.2)
    pmf = [1.0] if cycle is None else cycle.pmf()
    schedule = np.full(first + periods, calls) if np.ndim(calls) == 0 else calls
    mean, var = _window_moments(0.1, pmf, schedule, start, first, periods)
    m = theory.sales_moments(f, calls, periods=periods, cycle=cycle, start=start,
                             first_period=first)  # fmt: skip
    assert m.mean == pytest.approx(mean, rel=1e-12, abs=1e-12)
    assert m.var == pytest.approx(var, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("cycle", [fs.Cycle(4, 0.5), fs.Cycle(8, 1.0), fs.Cycle(1.5, 0)])
@pytest.mark.parametrize("periods", [1, 4, 13])
def test_a_steady_pipeline_closes_n_p_per_period_on_average(cycle, periods):
    n, p = 120, 0.25
    m = theory.sales_moments(_funnel(p), n, periods=periods, cycle=cycle)
    assert m.mean == pytest.approx(n * p * periods, rel=1e-12)
    # The window's deals come from several call periods, each Binomial(n, p w_s) with
    # sum_s w_s = periods and w_s <= 1: so k n p (1 - p) <= Var <= k n p (Poisson).
    assert n * periods * p * (1 - p) * (1 - 1e-12) <= m.var <= n * periods * p * (1 + 1e-12)
    if periods == 1:  # one period: Var = n p - n p^2 sum_l pmf_l^2
        pmf = cycle.pmf()
        assert m.var == pytest.approx(n * p - n * p**2 * float(pmf @ pmf), rel=1e-12)


REVENUE = [
    # (ratios, calls, periods, deal size): CV^2 = (1 - p + cv_size^2) / (n periods p)
    ((0.1,), 1000, 1, fs.DealSize.gamma(10.0, 1.0)),
    ((0.02,), 500, 1, fs.DealSize.gamma(1.0, 1.0)),
    ((0.5, 0.2), 200, 4, fs.DealSize.fixed(1_000)),
    ((0.3, 0.1, 0.5), 50_000, 1, fs.DealSize.lognormal(2_000, 2.0)),
    ((0.25, 0.5, 0.75), 408, 13, SIZE_BANDS),
    ((0.4, 0.25), 60, 52, fs.DealSize.bands([0, 10, 30, 50], [0.6, 0.3, 0.1])),
    ((0.999,), 20, 1, fs.DealSize.gamma(3.0, 0.1)),
]


@pytest.mark.parametrize(("ratios", "calls", "periods", "size"), REVENUE)
def test_revenue_cv_is_the_compound_binomial_formula(ratios, calls, periods, size):
    f = _funnel(*ratios)
    p = math.prod(ratios)
    n = calls * periods
    cv2 = (1 - p + size.cv**2) / (n * p)
    assert fs.revenue_cv(f, calls, size, periods) == pytest.approx(math.sqrt(cv2), rel=1e-10)
    m = theory.revenue_moments(f, calls, size, periods=periods)
    # Var R = sigma^2 E[S] + mu^2 Var[S]
    assert m.mean == pytest.approx(size.mean * n * p, rel=1e-12)
    assert m.var == pytest.approx(size.var * n * p + size.mean**2 * n * p * (1 - p), rel=1e-10)


def test_revenue_moments_with_a_cycle_scale_sales_moments():
    f, size, cyc = _funnel(0.3, 0.2), fs.DealSize.gamma(50.0, 0.7), fs.Cycle(5, 0.5)
    s = theory.sales_moments(f, 90, periods=4, cycle=cyc, start="empty", first_period=3)
    r = theory.revenue_moments(f, 90, size, periods=4, cycle=cyc, start="empty", first_period=3)
    assert r.mean == pytest.approx(50.0 * s.mean, rel=1e-12)
    assert r.var == pytest.approx((50.0 * 0.7) ** 2 * s.mean + 50.0**2 * s.var, rel=1e-12)
    assert theory.revenue_moments(f, 90, None, periods=4, cycle=cyc) == theory.sales_moments(
        f, 90, periods=4, cycle=cyc
    )


@pytest.mark.parametrize("p", [0.001, 0.01, 0.2])
@pytest.mark.parametrize("calls", [100, 1_000, 25_000])
def test_doubling_calls_cuts_relative_volatility_by_29_percent(p, calls):
    f = _funnel(p)
    assert theory.sales_cv(f, 2 * calls) / theory.sales_cv(f, calls) == pytest.approx(
        1 / math.sqrt(2), rel=1e-12
    )
    size = fs.DealSize.gamma(100.0, 1.3)
    ratio = fs.revenue_cv(f, 2 * calls, size) / fs.revenue_cv(f, calls, size)
    assert 1 - ratio == pytest.approx(1 - 1 / math.sqrt(2), rel=1e-10)  # 0.293, not 0.5
    assert theory.sales_cv(f, calls) == pytest.approx(math.sqrt((1 - p) / (calls * p)), rel=1e-12)


def test_moments_cv_is_nan_without_sales():
    m = theory.sales_moments(_funnel(0.0), 100)
    assert m.mean == 0 and math.isnan(m.cv)


BAD_MOMENT_ARGS = [
    # (keyword arguments, error class, catalogue key, values of the message)
    (dict(start="full"), VALUE, "error.choice", {"name": "start", "value": "'full'"}),
    (dict(start=1), TYPE, "error.type_choice", {"name": "start", "type": "int"}),
    (dict(calls="abc"), TYPE, "error.calls_not_numeric", {"value": "'abc'", "type": "str"}),
    (dict(calls=-5), VALUE, "error.calls_value", {"value": -5}),
    (dict(calls=[10, math.nan, 10]), VALUE, "error.calls_value", {"where": ""}),
    (dict(calls=[[10, 10]]), VALUE, "error.calls_shape", {"shape": (1, 2)}),
    (dict(calls=[10, 10], periods=3), VALUE, "error.calls_shape", {"shape": (2,), "periods": 3}),
    (dict(periods=0), VALUE, "error.at_least", {"name": "periods", "minimum": 1}),
    (dict(first_period=-1), VALUE, "error.nonnegative", {"name": "first_period", "value": -1}),
    (dict(first_period=1.5), VALUE, "error.whole_number", {"name": "first_period", "value": 1.5}),
    (dict(funnel="s0 -> s1"), TYPE, "error.not_a_funnel", {"name": "funnel", "type": "str"}),
]


@pytest.mark.parametrize(("kwargs", "error", "key", "values"), BAD_MOMENT_ARGS)
def test_sales_moments_rejects_bad_arguments(kwargs, error, key, values):
    args = dict(calls=10, funnel=_funnel(0.5))
    args.update(kwargs)
    calls, funnel = args.pop("calls"), args.pop("funnel")
    raises(error, key, lambda: theory.sales_moments(funnel, calls, **args), **values)


# ============================================================ prob_reach
# (ratios, calls, target deals, periods)
SALES_TARGETS = [
    ((0.05,), 1000, 50, 1),
    ((7 / 15, 1 / 7, 1 / 8), 120, 50, 50),
    ((0.5, 0.2), 30, 2.5, 2),  # 2.5 deals means 3
    ((0.1,), 100, 0, 1),  # nothing to reach: certain
    ((0.1,), 100, 101, 1),  # more deals than calls: impossible
    ((0.1,), 100, 100, 1),  # every call a sale: 0.1^100
    ((0.0,), 100, 1, 1),
    ((1.0,), 100, 100, 3),
    ((0.3,), 0, 1, 4),
]


@pytest.mark.parametrize(("ratios", "calls", "target", "periods"), SALES_TARGETS)
def test_prob_reach_for_sales_is_the_binomial_tail(ratios, calls, target, periods):
    p = math.prod(ratios)
    ref = stats.binom.sf(math.ceil(target) - 1, calls * periods, p)
    got = fs.prob_reach(_funnel(*ratios), calls, target, periods=periods)
    assert got == pytest.approx(ref, rel=1e-10, abs=1e-300)


def test_a_target_computed_in_floating_point_counts_whole_deals():
    """(0.1 + 0.2) * 10 is 3.0000000000000004: a target of 3 deals, not 4."""
    f = _funnel(0.1)
    assert fs.prob_reach(f, 100, (0.1 + 0.2) * 10) == fs.prob_reach(f, 100, 3)
    assert fs.calls_for_target(f, (0.1 + 0.2) * 10, 0.9) == fs.calls_for_target(f, 3, 0.9)


def test_prob_reach_docstring_number_is_scipys():
    assert fs.prob_reach(_funnel(0.05), 1000, 50) == pytest.approx(
        stats.binom.sf(49, 1000, 0.05), rel=1e-12
    )


def _binom_mix(N, p, tail_given_k):
    """Sum over the full support k = 0..N of P(S = k) * tail_given_k(k)."""
    k = np.arange(N + 1)
    return float(stats.binom.pmf(k, N, p) @ tail_given_k(k))


def _gamma_tail(size, target):
    mean, cv = size.mean, size.cv

    def tail(k):
        out = np.zeros(len(k))
        pos = k > 0
        out[pos] = stats.gamma.sf(target, k[pos] / cv**2, scale=mean * cv**2)
        return out

    return tail


GAMMA_TARGETS = [
    # (p, calls, periods, deal size, target amount)
    (0.1, 200, 1, fs.DealSize.gamma(1_000.0, 0.5), 20_000.0),
    (0.1, 200, 1, fs.DealSize.gamma(1_000.0, 0.5), 25_000.0),
    (0.05, 100, 4, fs.DealSize.gamma(500.0, 1.5), 8_000.0),
    (0.02, 50, 1, fs.DealSize.gamma(10.0, 1.0), 5.0),  # about 1 deal expected
    (0.3, 1000, 1, fs.DealSize.gamma(1.0, 0.2), 250.0),
]


@pytest.mark.parametrize(("p", "calls", "periods", "size", "target"), GAMMA_TARGETS)
def test_prob_reach_for_gamma_revenue_is_the_sum_over_deal_counts(p, calls, periods, size, target):
    ref = _binom_mix(calls * periods, p, _gamma_tail(size, target))
    got = fs.prob_reach(_funnel(p), calls, target, deal_size=size, periods=periods)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-14)


def test_prob_reach_with_fixed_deals_counts_whole_deals():
    # 2,500 at 1,000 a deal needs 3 deals
    got = fs.prob_reach(_funnel(0.1), 40, 2_500, deal_size=1_000)
    assert got == pytest.approx(stats.binom.sf(2, 40, 0.1), rel=1e-12)
    got = fs.prob_reach(_funnel(0.1), 40, 3_000, deal_size=fs.DealSize.fixed(1_000))
    assert got == pytest.approx(stats.binom.sf(2, 40, 0.1), rel=1e-12)


def _mc_revenue(rng, N, p, draw, reps):
    """Revenue of ``reps`` independent plans: S ~ Binomial(N, p) deals, each drawn alone."""
    deals = rng.binomial(N, p, reps)
    owner = np.repeat(np.arange(reps), deals)
    return np.bincount(owner, weights=draw(rng, owner.size), minlength=reps)


def _lognormal_draw(mean, cv):
    sigma2 = math.log1p(cv**2)
    return lambda rng, n: rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)


def _band_draw(shares, values=None, edges=None):
    shares = np.asarray(shares) / np.sum(shares)

    def draw(rng, n):
        band = rng.choice(len(shares), size=n, p=shares)
        if values is not None:
            return np.asarray(values, dtype=float)[band]
        e = np.asarray(edges, dtype=float)
        return e[band] + (e[band + 1] - e[band]) * rng.random(n)

    return draw


def test_prob_reach_gamma_agrees_with_monte_carlo():
    p, calls, size = 0.1, 200, fs.DealSize.gamma(1_000.0, 0.5)
    reps = 200_000
    rev = _mc_revenue(np.random.default_rng(41), calls, p,
                      lambda rng, n: rng.gamma(4.0, 250.0, n), reps)  # fmt: skip
    for target in (15_000.0, 20_000.0, 25_000.0):
        exact = fs.prob_reach(_funnel(p), calls, target, deal_size=size)
        mc = float(np.mean(rev >= target))
        assert abs(exact - mc) < Z * math.sqrt(exact * (1 - exact) / reps)


# The gamma approximation for log-normal and band deal sizes (prob_reach's docstring):
# within 0.01 once about 20 deals are expected and the deal-size cv is at most 1.
APPROX = [
    # (id, deal size, independent sampler, p, calls)
    ("lognormal cv 1, 20 deals", fs.DealSize.lognormal(10_000, 1.0),
     _lognormal_draw(10_000, 1.0), 0.05, 400),
    ("lognormal cv 0.5, 20 deals", fs.DealSize.lognormal(10_000, 0.5),
     _lognormal_draw(10_000, 0.5), 0.05, 400),
    ("lognormal cv 1, 100 deals", fs.DealSize.lognormal(3_000, 1.0),
     _lognormal_draw(3_000, 1.0), 0.1, 1_000),
    ("deck bands, 38 deals (the 500,000 target)", SIZE_BANDS,
     _band_draw([0.565, 0.278, 0.11, 0.046], values=[5_000, 15_000, 35_000, 55_000]),
     0.09375, 408),
    ("uniform bands, 20 deals", fs.DealSize.bands([0, 10_000, 30_000, 50_000], [0.6, 0.3, 0.1]),
     _band_draw([0.6, 0.3, 0.1], edges=[0, 10_000, 30_000, 50_000]), 0.05, 400),
]  # fmt: skip


@pytest.mark.parametrize(("size", "draw", "p", "calls"), [a[1:] for a in APPROX],
                         ids=[a[0] for a in APPROX])  # fmt: skip
def test_gamma_approximation_within_0_01_of_monte_carlo(size, draw, p, calls):
    reps = 200_000
    rev = _mc_revenue(np.random.default_rng(43), calls, p, draw, reps)
    expected = calls * p * size.mean
    for factor in (0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5):
        target = factor * expected
        approx = fs.prob_reach(_funnel(p), calls, target, deal_size=size)
        mc = float(np.mean(rev >= target))
        se = math.sqrt(max(mc * (1 - mc), 1 / reps) / reps)
        assert abs(approx - mc) < 0.01 + Z * se, (factor, approx, mc)


@pytest.mark.parametrize(
    ("size", "draw", "p", "calls"),
    [
        (fs.DealSize.lognormal(10_000, 2.0), _lognormal_draw(10_000, 2.0), 0.05, 100),
        (SIZE_BANDS, _band_draw([0.565, 0.278, 0.11, 0.046], values=[5_000, 15_000, 35_000,
                                                                      55_000]), 0.05, 40),
    ],
    ids=["lognormal cv 2, 5 deals", "deck bands, 2 deals"],
)  # fmt: skip
def test_gamma_approximation_is_off_where_the_docstring_says(size, draw, p, calls):
    """The docstring's warning is real: few deals or heavy tails cost more than 0.02."""
    reps = 200_000
    rev = _mc_revenue(np.random.default_rng(47), calls, p, draw, reps)
    expected = calls * p * size.mean
    worst = 0.0
    for factor in (0.5, 0.8, 1.0, 1.2, 1.5):
        approx = fs.prob_reach(_funnel(p), calls, factor * expected, deal_size=size)
        worst = max(worst, abs(approx - float(np.mean(rev >= factor * expected))))
    assert worst > 0.02 + Z * math.sqrt(0.25 / reps)


@pytest.mark.parametrize(
    ("kwargs", "error", "key", "name"),
    [(dict(calls=2.5), VALUE, "error.whole_number", "calls"),
     (dict(calls=-1), VALUE, "error.nonnegative", "calls"),
     (dict(calls="100"), TYPE, "error.type_number", "calls"),
     (dict(target=-1), VALUE, "error.nonnegative", "target"),
     (dict(target=math.nan), VALUE, "error.nonnegative", "target"),
     (dict(target=None), TYPE, "error.type_number", "target"),
     (dict(periods=0), VALUE, "error.at_least", "periods")],
)  # fmt: skip
def test_prob_reach_rejects_bad_arguments(kwargs, error, key, name):
    args = dict(calls=100, target=5, periods=1)
    args.update(kwargs)
    raises(
        error,
        key,
        lambda: fs.prob_reach(
            _funnel(0.1), args["calls"], args["target"], periods=args["periods"]
        ),
        name=name,
    )


# ======================================================== calls_for_target
def _first_n(prob_of_n, probability, upper):
    """Linear search: the smallest n in 0..upper with prob_of_n(n) >= probability."""
    ns = np.arange(upper + 1)
    ok = np.flatnonzero(prob_of_n(ns) >= probability)
    assert ok.size, "search range too short"
    return int(ok[0])


SALES_PLANS = [
    # (p, target deals, periods)
    (0.05, 50, 1),
    (1 / 120, 50, 50),  # the README's daily game: 143 dials a week for 90 %
    (0.1, 3, 1),
    (0.1, 2.5, 4),
    (0.5, 1, 1),
    (0.02, 10, 13),
]


@pytest.mark.parametrize("probability", [0.5, 0.9, 0.99])
@pytest.mark.parametrize(("p", "target", "periods"), SALES_PLANS)
def test_calls_for_target_sales_is_the_smallest_n_by_linear_search(
    p, target, periods, probability
):
    need = math.ceil(target)
    upper = int(4 * need / (p * periods)) + 50
    ref = _first_n(lambda n: stats.binom.sf(need - 1, n * periods, p), probability, upper)
    got = fs.calls_for_target(_funnel(p), target, probability, periods=periods)
    assert got == ref


def test_readme_numbers():
    game = fs.presets.get("daily ratio game").funnel
    assert fs.calls_for_target(game, 50, 0.9, periods=50) == _first_n(
        lambda n: stats.binom.sf(49, n * 50, 1 / 120), 0.9, 400
    )


REVENUE_PLANS = [
    # (p, deal size, target amount, periods)
    (0.1, fs.DealSize.fixed(1_000), 20_000, 1),
    (0.1, fs.DealSize.fixed(1_000), 20_500, 4),
    (0.1, fs.DealSize.gamma(1_000.0, 0.5), 20_000, 1),
    (0.05, fs.DealSize.gamma(400.0, 1.2), 6_000, 4),
    (0.2, fs.DealSize.gamma(50.0, 1.0), 1_000, 13),
]


def _revenue_prob(p, size, target, periods):
    if size.kind == "fixed":
        need = math.ceil(target / size.mean - 1e-9)
        return lambda ns: stats.binom.sf(need - 1, ns * periods, p)
    tail = _gamma_tail(size, target)
    return lambda ns: np.array([_binom_mix(int(n) * periods, p, tail) for n in ns])


@pytest.mark.parametrize("probability", [0.5, 0.9, 0.99])
@pytest.mark.parametrize(("p", "size", "target", "periods"), REVENUE_PLANS)
def test_calls_for_target_revenue_is_the_smallest_n_by_linear_search(
    p, size, target, periods, probability
):
    expected_n = target / (p * size.mean * periods)
    prob = _revenue_prob(p, size, target, periods)
    # search a window around the answer (the full range 0..upper is slow for gamma sizes)
    lo = int(0.5 * expected_n)
    hi = int(2.5 * expected_n) + 20
    assert prob(np.array([lo]))[0] < probability <= prob(np.array([hi]))[0]
    ref = lo + _first_n(lambda ns: prob(ns + lo), probability, hi - lo)
    got = fs.calls_for_target(_funnel(p), target, probability, deal_size=size, periods=periods)
    assert got == ref


def test_calls_for_target_edges():
    f = _funnel(0.1)
    assert fs.calls_for_target(f, 0, 0.9) == 0
    assert fs.calls_for_target(f, 1, 0.5) == 7  # 1 - 0.9^7 = 0.522 >= 0.5 > 1 - 0.9^6
    zero = _funnel(0.5, 0.0)
    raises(
        VALUE,
        "error.target_unreachable",
        lambda: fs.calls_for_target(zero, 5, 0.9),
        funnel=repr(zero),
    )
    raises(
        VALUE,
        "error.target_unreachable",
        lambda: fs.calls_for_target(f, 5, 0.9, deal_size=0),
        funnel=repr(f),
    )
    for probability, key in ((0, "open"), (1, "open"), (1.5, "range"), (math.nan, "range")):
        key = "error.open_probability" if key == "open" else "error.ratio_range"
        raises(VALUE, key, lambda p=probability: fs.calls_for_target(f, 5, p), name="probability")
    fitted = fs.fit(fs.Log("counts", ("a", "b"), counts=pd.DataFrame({"a": [10], "b": [2]})))
    raises(
        TYPE,
        "error.not_a_funnel",
        lambda: fs.calls_for_target(fitted, 5, 0.9),
        name="funnel",
        type="Fit",
    )


# ======================================================= calls_for_expected
# (p as a decimal string, target, mean deal size, periods)
EXPECTED_PLANS = [
    ("0.05", 50, None, 1),
    ("0.05", 51, None, 1),
    ("0.1", 3, None, 1),  # 3 / 0.1 is 30.000000000000004 in floating point: still 30
    ("0.05", 500_000, "1000", 1),
    ("0.1", 20_000, "1000", 4),
    ("0.3", 7, None, 3),
    ("0.125", 1, None, 1),
]


@pytest.mark.parametrize(("p", "target", "size", "periods"), EXPECTED_PLANS)
def test_calls_for_expected_is_the_ceiling_of_the_exact_ratio(p, target, size, periods):
    per_call = Fraction(p) * (Fraction(size) if size else 1) * periods
    ref = math.ceil(Fraction(target) / per_call)
    deal = None if size is None else fs.DealSize.fixed(float(size))
    got = fs.calls_for_expected(_funnel(float(p)), target, deal_size=deal, periods=periods)
    assert got == ref


def test_calls_for_expected_validates():
    raises(VALUE, "error.target_unreachable", lambda: fs.calls_for_expected(_funnel(0.0), 5))
    raises(
        VALUE,
        "error.at_least",
        lambda: fs.calls_for_expected(_funnel(0.5), 5, periods=0),
        name="periods",
    )
    raises(
        VALUE,
        "error.nonnegative",
        lambda: fs.calls_for_expected(_funnel(0.5), -5),
        name="target",
        value=-5,
    )


@pytest.mark.parametrize(("p", "target"), [(0.05, 50), (0.2, 10), (0.01, 200), (1 / 120, 1)])
def test_the_expected_value_is_not_a_promise(p, target):
    """Calls planned so that E[sales] = target hit it about half the time.

    With n p a whole number m, m is the median of Binomial(n, p), so
    0.5 <= P(S >= m) <= 0.5 + P(S = m), from scipy.
    """
    n = fs.calls_for_expected(_funnel(p), target)
    assert n * p == pytest.approx(target, rel=1e-9)
    got = fs.prob_reach(_funnel(p), n, target)
    assert got == pytest.approx(stats.binom.sf(target - 1, n, p), rel=1e-10)
    assert 0.5 <= got <= 0.5 + stats.binom.pmf(target, n, p) + 1e-12
    n90 = fs.calls_for_target(_funnel(p), target, 0.9)
    assert n90 > n  # the margin 90 % needs


def test_the_expected_revenue_is_reached_less_than_half_the_time():
    """Skewed deal sizes push the median below the mean: P(R >= E[R]) < 0.5."""
    p, size = 0.05, fs.DealSize.gamma(10_000.0, 1.0)
    n = fs.calls_for_expected(_funnel(p), 500_000, deal_size=size)
    assert n == 1000
    ref = _binom_mix(n, p, _gamma_tail(size, 500_000))
    assert fs.prob_reach(_funnel(p), n, 500_000, deal_size=size) == pytest.approx(ref, rel=1e-9)
    assert 0.4 < ref < 0.5


# ============================================================ back_calculate
def test_back_calculate_the_decks_target():
    pre = fs.presets.get("target back-calculation")
    table = fs.back_calculate(pre.funnel, 500_000, deal_size=pre.deal_size)
    assert list(table.columns) == ["stage", "needed", "expected"]
    assert table["needed"].tolist() == [408, 102, 51, 38]
    deals = 500_000 / (13_375 / 0.999)
    np.testing.assert_allclose(
        table["expected"], [deals / 0.09375, deals / 0.375, deals / 0.75, deals], rtol=1e-12
    )


BACK = [
    # (ratios, target, deal size, needed)
    ((0.5, 0.5), 10, None, [40, 20, 10]),
    ((0.1,), 3, None, [30, 3]),  # 3 / 0.1 = 30.000000000000004 still needs 30
    ((0.3,), 10, None, [34, 10]),  # 33.3 -> 34
    ((0.25, 0.2), 1, None, [20, 5, 1]),
    ((0.5,), 0, None, [0, 0]),
    ((0.5, 0.5), 10_000, fs.DealSize.fixed(3_000), [16, 8, 4]),  # 3.33 deals -> 4
    ((1.0,), 7.2, None, [8, 8]),
]


@pytest.mark.parametrize(("ratios", "target", "size", "needed"), BACK)
def test_back_calculate_rounds_up_at_every_stage(ratios, target, size, needed):
    table = fs.back_calculate(_funnel(*ratios), target, deal_size=size)
    assert table["needed"].tolist() == needed
    mean = 1.0 if size is None else size.mean
    exact = [target / mean / math.prod(ratios[k:]) for k in range(len(ratios) + 1)]
    np.testing.assert_allclose(table["expected"], exact, rtol=1e-12)


def test_back_calculate_refuses_what_cannot_be_reached():
    raises(VALUE, "error.target_unreachable", lambda: fs.back_calculate(_funnel(0.5, 0.0), 10))
    raises(
        VALUE,
        "error.target_unreachable",
        lambda: fs.back_calculate(_funnel(0.5), 10, deal_size=0),
    )
    raises(
        VALUE,
        "error.nonnegative",
        lambda: fs.back_calculate(_funnel(0.5), -1),
        name="target",
        value=-1,
    )


# =========================================================== variance_shares
def _contributions(ratios, n=1.0):
    """Var(M_{k+1}) - Var(M_k) for the martingale M_k = E[S | N_k] = N_k * prod(r_k..),
    with Var(N_{k+1}) = r^2 Var(N_k) + r (1 - r) E[N_k] (law of total variance)."""
    mean, var = n, 0.0
    var_m = [0.0]  # M_0 = n p is not random
    for k, r in enumerate(ratios):
        mean, var = mean * r, r * r * var + r * (1 - r) * mean
        later = math.prod(ratios[k + 1 :])
        var_m.append(later**2 * var)
    return np.diff(var_m)


SHARES = [
    (0.5, 0.1),
    (0.1, 0.5),
    (7 / 15, 1 / 7, 1 / 8),
    (0.8, 0.5, 0.5, 0.5, 0.5),
    (0.9,),
    (1.0, 0.3),
    (0.3, 1.0),
]


@pytest.mark.parametrize("ratios", SHARES)
def test_variance_shares_are_the_martingale_increments(ratios):
    f = _funnel(*ratios)
    contrib = _contributions(ratios)
    p = math.prod(ratios)
    assert contrib.sum() == pytest.approx(p * (1 - p), rel=1e-12)
    shares = fs.variance_shares(f)
    assert list(shares.index) == list(f.stages[1:])
    assert shares.sum() == pytest.approx(1, rel=1e-12)
    np.testing.assert_allclose(shares, contrib / contrib.sum(), rtol=1e-12, atol=1e-15)


def test_variance_shares_docstring_example():
    # contributions 0.5 * 0.5 * 0.1^2 = 0.0025 and 0.5 * 0.1 * 0.9 = 0.045
    np.testing.assert_allclose(
        fs.variance_shares(_funnel(0.5, 0.1)), [0.0025 / 0.0475, 0.045 / 0.0475], rtol=1e-12
    )


def test_variance_shares_are_nan_without_variance():
    assert fs.variance_shares(_funnel(1.0, 1.0)).isna().all()
    assert fs.variance_shares(_funnel(0.5, 0.0)).isna().all()


def test_variance_shares_against_monte_carlo():
    """E[(M_{k+1} - M_k)^2] per call period: the increments of the martingale of
    conditional expectations are orthogonal, so their mean squares add up to Var S."""
    ratios = (0.6, 0.3, 0.2)
    n = 200
    f = _funnel(*ratios)
    sim = fs.simulate(f, n, periods=50, reps=2000, rng=np.random.default_rng(53))
    counts = sim.counts.reshape(-1, 4).astype(float)  # independent (rep, period) rows
    later = np.array([math.prod(ratios[k:]) for k in range(4)])
    m = counts * later
    inc2 = np.diff(m, axis=1) ** 2
    est = inc2.mean(axis=0)
    se = inc2.std(axis=0, ddof=1) / math.sqrt(len(inc2))
    exact = fs.variance_shares(f).to_numpy() * n * f.overall * (1 - f.overall)
    assert np.all(abs(est - exact) < Z * se), (est, exact, se)


# ============================================================ compare_levers
@pytest.mark.parametrize(
    ("size", "target"), [(None, None), (None, 2), (fs.DealSize.fixed(1_000), 2_000),
                         (fs.DealSize.gamma(1_000.0, 0.8), 2_500.0)],
)  # fmt: skip
@pytest.mark.parametrize("periods", [1, 5])
def test_compare_levers_rows(size, target, periods):
    game = fs.presets.get("daily ratio game").funnel
    n, extra, new = 15, 15, 8 / 15
    tab = fs.compare_levers(game, n, extra_calls=extra, stage="connects", new_ratio=new,
                            deal_size=size, target=target, periods=periods)  # fmt: skip
    assert tab["lever"].tolist() == ["baseline", "volume", "ratio"]
    p = 1 / 120
    p_new = 8 / 15 * 1 / 7 * 1 / 8
    mu = 1.0 if size is None else size.mean
    cv2 = 0.0 if size is None else size.cv**2
    rows = [(n, p), (n + extra, p), (n, p_new)]
    np.testing.assert_allclose(tab["calls"], [r[0] for r in rows])
    np.testing.assert_allclose(tab["overall"], [r[1] for r in rows], rtol=1e-13)
    np.testing.assert_allclose(
        tab["expected"], [c * q * periods * mu for c, q in rows], rtol=1e-12
    )
    np.testing.assert_allclose(tab["gain"], [0.0, extra / n, p_new / p - 1], atol=1e-12)
    cvs = [math.sqrt((1 - q + cv2) / (c * periods * q)) for c, q in rows]
    np.testing.assert_allclose(tab["cv"], cvs, rtol=1e-10)
    if target is None:
        assert "p_target" not in tab.columns
    else:
        if size is None or size.kind == "fixed":
            need = math.ceil(target / mu - 1e-9)
            ref = [stats.binom.sf(need - 1, c * periods, q) for c, q in rows]
        else:
            ref = [_binom_mix(c * periods, q, _gamma_tail(size, target)) for c, q in rows]
        np.testing.assert_allclose(tab["p_target"], ref, rtol=1e-9)


def test_the_ratio_lever_raises_sales_in_proportion():
    """Raising one ratio by x % raises expected sales by x %, the same as x % more calls."""
    f = _funnel(0.4, 0.25, 0.5)
    tab = fs.compare_levers(f, 100, extra_calls=10, stage="s2", new_ratio=0.275)
    assert tab["gain"].iloc[1] == pytest.approx(0.1, rel=1e-12)
    assert tab["gain"].iloc[2] == pytest.approx(0.1, rel=1e-12)
    assert isinstance(tab, pd.DataFrame)


@pytest.mark.parametrize(
    ("kwargs", "error", "key", "values"),
    [(dict(stage="nope"), VALUE, "error.unknown_ratio_stage", {"value": "'nope'"}),
     (dict(new_ratio=1.5), VALUE, "error.ratio_range", {"name": "new_ratio", "value": 1.5}),
     (dict(new_ratio="x"), TYPE, "error.type_number", {"name": "new_ratio", "type": "str"}),
     (dict(extra_calls=-1), VALUE, "error.nonnegative", {"name": "extra_calls", "value": -1}),
     (dict(extra_calls=2.5), VALUE, "error.whole_number", {"name": "extra_calls"})],
)  # fmt: skip
def test_compare_levers_rejects_bad_arguments(kwargs, error, key, values):
    args = dict(extra_calls=10, stage="s1", new_ratio=0.5)
    args.update(kwargs)
    raises(error, key, lambda: fs.compare_levers(_funnel(0.3, 0.2), 100, **args), **values)


# --------------------------------------------------------------- quantiles
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_result_quantile_of_sales_is_the_binomial_quantile(q):
    f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
    assert fs.theory.result_quantile(f, 400, q, periods=5) == stats.binom.ppf(q, 2000, 0.05)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_result_quantile_of_revenue_matches_the_gamma_when_every_call_closes(q):
    """p = 1: exactly ``n`` deals, so revenue is Gamma(n / cv^2, mean * cv^2): a closed form."""
    f = fs.Funnel(["calls", "sales"], [1.0])
    size = fs.DealSize.gamma(10_000, cv=0.5)
    got = fs.theory.result_quantile(f, 30, q, deal_size=size)
    exact = stats.gamma.ppf(q, 30 / 0.25, scale=10_000 * 0.25)
    # brentq stops within xtol = 1e-6 of the mean (300,000): well inside 1 unit.
    assert got == pytest.approx(exact, abs=1.0)


def test_result_quantile_inverts_prob_reach_and_is_zero_without_deals():
    f = fs.Funnel(["calls", "sales"], [0.002])
    size = fs.DealSize.gamma(10_000, cv=0.5)
    # 200 calls at 0.2 %: no deal at all with probability 0.998^200 = 0.67 > 0.5.
    assert fs.theory.result_quantile(f, 200, 0.5, deal_size=size) == 0.0
    x = fs.theory.result_quantile(f, 200, 0.9, deal_size=size)
    assert fs.theory.prob_reach(f, 200, x, deal_size=size) == pytest.approx(0.1, abs=1e-6)
