"""Cycle and DealSize: exact moments against scipy, samplers against exact moments.

Sampling checks use large fixed-seed samples and a tolerance of 4 standard
errors: SE of a mean = sd / sqrt(n); SE of a sample variance =
sqrt((mu4 - sigma^4) / n), with mu4 the exact fourth central moment from scipy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from keyed import raises
from scipy import integrate, stats

import funnelsim as fs
from funnelsim.presets import SIZE_BANDS

VALUE, TYPE = fs.FunnelsimValueError, fs.FunnelsimTypeError


Z = 4.0  # standard errors allowed in every sampling check


# ================================================================== Cycle
CYCLES = [(4, 0.5), (4, 0.25), (1, 0.5), (0.5, 0.5), (2, 1.0), (0.3, 1.0), (8, 0.5), (3, 3.0),
          (26, 0.2), (0.01, 0.5)]  # fmt: skip


def _gamma(mean, cv):
    shape = 1 / cv**2
    return stats.gamma(shape, scale=mean / shape)


@pytest.mark.parametrize(("mean", "cv"), CYCLES)
def test_cycle_pmf_is_a_distribution_cut_at_1e6_of_the_tail(mean, cv):
    c = fs.Cycle(mean, cv)
    pmf = c.pmf()
    assert pmf.sum() == pytest.approx(1, abs=1e-12)
    assert np.all(pmf >= 0) and pmf[-1] > 0
    assert c.max_lag == len(pmf) - 1
    dist = _gamma(mean, cv)
    assert dist.sf(c.max_lag) <= 1e-6  # what is cut is less than 1e-6 of the mass
    assert c.max_lag <= max(math.ceil(dist.isf(1e-6)), 1)


@pytest.mark.parametrize(("mean", "cv"), CYCLES)
def test_cycle_pmf_is_the_linear_split_of_the_gamma_lag(mean, cv):
    """P(lag = k) = E[max(0, 1 - |X - k|); X <= max_lag] / P(X <= max_lag), by quadrature."""
    c = fs.Cycle(mean, cv)
    dist = _gamma(mean, cv)
    top = c.max_lag

    def tent(k):
        lo, hi = max(k - 1, 0), min(k + 1, top)
        f = lambda x: max(0.0, 1 - abs(x - k)) * dist.pdf(x)  # noqa: E731
        return integrate.quad(f, lo, hi, points=[k], limit=200, epsabs=1e-13)[0]

    ref = np.array([tent(k) for k in range(top + 1)]) / dist.cdf(top)
    np.testing.assert_allclose(c.pmf(), ref, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(("mean", "cv"), CYCLES)
def test_cycle_lag_mean_keeps_the_mean_up_to_the_cut_tail(mean, cv):
    """lag_mean = E[X | X <= max_lag] exactly, within 1e-4 of mean.

    Splitting x between floor(x) and ceil(x) in proportion keeps E[X] on every
    interval, so the only loss is the cut tail: E[X | X <= m] = mean *
    F_{a+1}(m) / F_a(m). With P(X > m) <= 1e-6 the relative loss is
    sf_{a+1}(m) / F_a(m), below 1e-4 on this grid (largest for cv = 3).
    """
    c = fs.Cycle(mean, cv)
    shape, top = 1 / cv**2, c.max_lag
    scale = mean / shape
    ref = (
        mean
        * stats.gamma.cdf(top, shape + 1, scale=scale)
        / stats.gamma.cdf(top, shape, scale=scale)
    )
    assert c.lag_mean == pytest.approx(ref, rel=1e-9)
    assert c.lag_mean == pytest.approx(mean, rel=1e-4)


def test_cycle_is_continuous_as_cv_goes_to_zero():
    """A near-deterministic lag of 2.3 periods has mean 2.3, as with cv = 0."""
    np.testing.assert_allclose(fs.Cycle(2.3, cv=1e-3).pmf(), fs.Cycle(2.3, cv=0).pmf(), atol=1e-6)
    # At a whole mean, the mass moved off period 4 is E|X - 4| (about sd * sqrt(2 / pi)).
    pmf = fs.Cycle(4, cv=1e-3).pmf()
    moved = _gamma(4, 1e-3).expect(lambda x: abs(x - 4), lb=3, ub=5, points=[4])
    assert pmf[3] + pmf[5] == pytest.approx(moved, rel=1e-6)
    assert pmf[4] == pytest.approx(1 - moved, rel=1e-9)


# (mean, pmf) for deterministic lags and mean 0
DETERMINISTIC = [
    (3, [0, 0, 0, 1]),
    (2.5, [0, 0, 0.5, 0.5]),
    (0.25, [0.75, 0.25]),
    (1.75, [0, 0.25, 0.75]),
    (0, [1]),
]


@pytest.mark.parametrize(("mean", "pmf"), DETERMINISTIC)
def test_cycle_with_cv_0(mean, pmf):
    c = fs.Cycle(mean, cv=0)
    np.testing.assert_allclose(c.pmf(), pmf, rtol=1e-12, atol=1e-15)
    assert c.lag_mean == pytest.approx(mean, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("cv", [0, 0.5, 3])
def test_cycle_mean_0_closes_in_the_period_of_the_call(cv):
    c = fs.Cycle(0, cv)
    assert c.pmf().tolist() == [1.0] and c.max_lag == 0 and c.lag_mean == 0


def test_cycle_pmf_returns_a_copy():
    c = fs.Cycle(4)
    c.pmf()[:] = 0
    assert c.pmf().sum() == pytest.approx(1)


def test_cycle_coerce():
    assert fs.Cycle.coerce(None).pmf().tolist() == [1.0]
    c = fs.Cycle(3, 0.2)
    assert fs.Cycle.coerce(c) is c
    assert fs.Cycle.coerce(5) == fs.Cycle(5, 0.5)


@pytest.mark.parametrize(
    ("mean", "cv", "error", "key", "name"),
    [(-1, 0.5, VALUE, "error.nonnegative", "cycle mean"),
     (math.nan, 0.5, VALUE, "error.nonnegative", "cycle mean"),
     (math.inf, 0.5, VALUE, "error.nonnegative", "cycle mean"),
     ("long", 0.5, TYPE, "error.type_number", "cycle mean"),
     (4, -0.1, VALUE, "error.nonnegative", "cycle cv"),
     (4, math.nan, VALUE, "error.nonnegative", "cycle cv"),
     (4, None, TYPE, "error.type_number", "cycle cv")],
)  # fmt: skip
def test_cycle_rejects_bad_parameters(mean, cv, error, key, name):
    raises(error, key, lambda: fs.Cycle(mean, cv), name=name)


@pytest.mark.parametrize(("mean", "cv"), [(4, 0.5), (0.5, 0.5), (2.5, 0)])
def test_cycle_sample_matches_the_pmf(mean, cv):
    """Frequencies of 100,000 lags against the pmf: chi-square, and the mean within 4 SE."""
    c = fs.Cycle(mean, cv)
    n = 100_000
    lags = c.sample(np.random.default_rng(11), n)
    pmf = c.pmf()
    var = float(np.arange(len(pmf)) ** 2 @ pmf - c.lag_mean**2)
    assert abs(lags.mean() - c.lag_mean) < Z * math.sqrt(var / n)
    keep = pmf * n >= 5  # chi-square on the cells with enough expected counts
    observed = np.bincount(lags, minlength=len(pmf))
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(pmf[keep], pmf[~keep].sum()) * n
    obs, exp = obs[exp > 0], exp[exp > 0]
    assert stats.chisquare(obs, exp).pvalue > 1e-3


# ================================================================ DealSize
class _Point:
    """A point mass, with the one method of scipy's distributions used here."""

    def __init__(self, value: float) -> None:
        self.value = value

    def moment(self, k: int) -> float:
        return float(self.value) ** k


UNIFORM_BANDS = fs.DealSize.bands([0, 10_000, 30_000, 50_000], [0.6, 0.3, 0.1])


def _lognorm(mean: float, cv: float):
    """scipy's log-normal with this mean and cv.

    sigma^2 = log(1 + cv^2) and mu = log(mean) - sigma^2 / 2 (scale = exp(mu)).
    """
    sigma2 = math.log1p(cv**2)
    return stats.lognorm(math.sqrt(sigma2), scale=mean * math.exp(-sigma2 / 2))


DECK_SHARES = [0.565, 0.278, 0.11, 0.046]
DECK_VALUES = [5_000, 15_000, 35_000, 55_000]

# (model, scipy reference: a frozen distribution or a mixture [(share, frozen), ...])
MODELS = [
    (fs.DealSize.gamma(10_000, cv=0.5), stats.gamma(4, scale=2_500)),
    (fs.DealSize.gamma(3.0, cv=2.0), stats.gamma(0.25, scale=12.0)),
    (fs.DealSize.lognormal(5_000, cv=1.0), _lognorm(5_000, 1.0)),
    (fs.DealSize.lognormal(1.0, cv=0.3), _lognorm(1.0, 0.3)),
    (
        UNIFORM_BANDS,
        [
            (0.6, stats.uniform(0, 10_000)),
            (0.3, stats.uniform(10_000, 20_000)),
            (0.1, stats.uniform(30_000, 20_000)),
        ],
    ),
    (SIZE_BANDS, [(s / 0.999, _Point(v)) for s, v in zip(DECK_SHARES, DECK_VALUES, strict=True)]),
    (
        fs.DealSize.bands([0, 10, 30], [0.75, 0.25]),
        [(0.75, stats.uniform(0, 10)), (0.25, stats.uniform(10, 20))],
    ),
    (fs.DealSize.fixed(1_000), [(1.0, _Point(1_000))]),
]
MODEL_IDS = ["gamma", "gamma-skewed", "lognormal", "lognormal-narrow", "bands-uniform",
             "bands-values", "bands-doc", "fixed"]  # fmt: skip


def _raw_moments(ref) -> np.ndarray:
    """E[X^k], k = 1..4, of a scipy distribution or a mixture of them."""
    parts = ref if isinstance(ref, list) else [(1.0, ref)]
    return np.array([sum(w * d.moment(k) for w, d in parts) for k in range(1, 5)], dtype=float)


def _central(ref) -> tuple[float, float, float]:
    """Mean, variance and fourth central moment."""
    m1, m2, m3, m4 = _raw_moments(ref)
    var = m2 - m1**2
    mu4 = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
    return m1, var, mu4


@pytest.mark.parametrize(("size", "ref"), MODELS, ids=MODEL_IDS)
def test_deal_size_moments_match_scipy(size, ref):
    mean, var, _ = _central(ref)
    assert size.mean == pytest.approx(mean, rel=1e-12)
    assert size.var == pytest.approx(var, rel=1e-9, abs=1e-9 * mean**2)
    assert size.cv == pytest.approx(math.sqrt(max(var, 0)) / mean, rel=1e-9, abs=1e-12)


def test_doc_example_band_mean():
    # 0.75 * 5 + 0.25 * 20
    assert fs.DealSize.bands([0, 10, 30], [0.75, 0.25]).mean == pytest.approx(8.75, rel=1e-15)


@pytest.mark.parametrize(("size", "ref"), MODELS, ids=MODEL_IDS)
def test_sample_moments_within_4_se(size, ref):
    n = 200_000
    x = size.sample(np.random.default_rng(2024), n)
    assert x.shape == (n,)
    mean, var, mu4 = _central(ref)
    if var == 0:
        assert np.all(x == mean)
        return
    assert abs(x.mean() - mean) < Z * math.sqrt(var / n)
    assert abs(x.var(ddof=1) - var) < Z * math.sqrt((mu4 - var**2) / n)


@pytest.mark.parametrize(("size", "ref"), MODELS, ids=MODEL_IDS)
def test_sample_sums_moments_within_4_se(size, ref):
    """Sum of k iid deals: mean k mu, variance k sigma^2, mu4 = k mu4 + 3 k (k - 1) sigma^4."""
    n = 40_000
    ks = np.array([0, 1, 2, 5, 20])
    deals = np.tile(ks, (n, 1))
    sums = size.sample_sums(np.random.default_rng(7), deals)
    assert sums.shape == deals.shape
    assert np.all(sums[:, 0] == 0)
    mean1, var1, mu41 = _central(ref)
    for j, k in enumerate(ks[1:], start=1):
        x = sums[:, j]
        mean, var = k * mean1, k * var1
        if var == 0:
            np.testing.assert_allclose(x, mean, rtol=1e-12)
            continue
        mu4 = k * mu41 + 3 * k * (k - 1) * var1**2
        assert abs(x.mean() - mean) < Z * math.sqrt(var / n), k
        assert abs(x.var(ddof=1) - var) < Z * math.sqrt((mu4 - var**2) / n), k


@pytest.mark.parametrize(("size", "ref"), MODELS, ids=MODEL_IDS)
def test_sample_sums_keeps_the_shape_of_the_deal_array(size, ref):
    deals = np.array([[0, 3, 1], [2, 0, 4]])
    out = size.sample_sums(np.random.default_rng(0), deals)
    assert out.shape == (2, 3) and out.dtype == float
    assert out[0, 0] == 0 and out[1, 1] == 0
    assert np.all(out[deals > 0] > 0)


def test_same_seed_same_sample():
    for size, _ in MODELS:
        a = size.sample_sums(np.random.default_rng(3), np.array([4, 5]))
        b = size.sample_sums(np.random.default_rng(3), np.array([4, 5]))
        np.testing.assert_array_equal(a, b)


def test_gamma_and_lognormal_with_cv_0_are_fixed():
    assert fs.DealSize.gamma(5, cv=0) == fs.DealSize.fixed(5)
    assert fs.DealSize.lognormal(5, cv=0) == fs.DealSize.fixed(5)
    assert fs.DealSize.fixed(0).cv == 0


def test_coerce():
    assert fs.DealSize.coerce(None) is None
    assert fs.DealSize.coerce(250) == fs.DealSize.fixed(250)
    g = fs.DealSize.gamma(1, 1)
    assert fs.DealSize.coerce(g) is g


@pytest.mark.parametrize(
    ("build", "key", "name"),
    [
        (lambda: fs.DealSize.fixed(-1), "error.nonnegative", "deal_size amount"),
        (lambda: fs.DealSize.fixed(math.nan), "error.nonnegative", "deal_size amount"),
        (lambda: fs.DealSize.gamma(0), "error.positive", "deal_size mean"),
        (lambda: fs.DealSize.gamma(-5, 1), "error.nonnegative", "deal_size mean"),
        (lambda: fs.DealSize.gamma(5, -1), "error.nonnegative", "deal_size cv"),
        (lambda: fs.DealSize.lognormal(math.inf, 1), "error.nonnegative", "deal_size mean"),
        (lambda: fs.DealSize.lognormal(5, math.nan), "error.nonnegative", "deal_size cv"),
    ],
)
def test_deal_size_rejects_bad_parameters(build, key, name):
    raises(VALUE, key, build, name=name)


def test_deal_size_of_the_wrong_type_is_a_type_error():
    raises(TYPE, "error.type_number", lambda: fs.DealSize.gamma("big"), name="deal_size mean")
    raises(TYPE, "error.type_number", lambda: fs.DealSize.coerce("10k"), name="deal_size amount")
    raises(TYPE, "error.type_list", lambda: fs.DealSize.bands(10, [1.0]), name="edges", type="int")
    raises(TYPE, "error.type_list", lambda: fs.DealSize.bands([0, 10], "1"), name="shares")


# ---------------------------------------------------------------- bands
def test_bands_accepts_rounded_shares_and_rescales_them():
    d = fs.DealSize.bands([0, 10, 30, 50, 100], [0.565, 0.278, 0.11, 0.046])  # 0.999
    assert sum(d.shares) == pytest.approx(1, abs=1e-15)
    np.testing.assert_allclose(d.shares, np.array([0.565, 0.278, 0.11, 0.046]) / 0.999, rtol=1e-15)
    d = fs.DealSize.bands([0, 10, 20], [0.5, 0.505])  # 1.005
    np.testing.assert_allclose(d.shares, [0.5 / 1.005, 0.505 / 1.005], rtol=1e-15)


BAD_BANDS = [
    # (edges, shares, values, error class, catalogue key, values of the message)
    ([0, 10, 30], [0.6, 0.3], None, VALUE, "error.bands_shares", {"total": pytest.approx(0.9)}),
    ([0, 10, 30], [0.6, 0.42], None, VALUE, "error.bands_shares", {"total": 1.02}),
    ([0, 10, 10], [0.5, 0.5], None, VALUE, "error.bands_edges", {"value": [0, 10, 10]}),
    ([0, 30, 10], [0.5, 0.5], None, VALUE, "error.bands_edges", {"value": [0, 30, 10]}),
    ([math.inf, 10, 30], [0.5, 0.5], None, VALUE, "error.bands_edges", {}),
    ([0, math.inf, math.inf], [0.5, 0.5], [5, 50], VALUE, "error.bands_edges", {}),
    ([0, math.nan, 30], [0.5, 0.5], None, VALUE, "error.nonnegative",
     {"name": "edges[1]", "value": "nan"}),
    ([-math.inf, 10, 30], [0.5, 0.5], None, VALUE, "error.nonnegative",
     {"name": "edges[0]", "value": -math.inf}),
    ([-5, 10, 30], [0.5, 0.5], None, VALUE, "error.nonnegative",
     {"name": "edges[0]", "value": -5}),
    ([0, None, 30], [0.5, 0.5], None, TYPE, "error.type_number",
     {"name": "edges[1]", "value": "None"}),
    ([0, "ten", 30], [0.5, 0.5], None, TYPE, "error.type_number",
     {"name": "edges[1]", "value": "'ten'", "type": "str"}),
    ([0, 10, math.inf], [0.5, 0.5], None, VALUE, "error.bands_open", {"value": [0, 10, math.inf]}),
    ([0, 10, 30], [0.5, 0.5], [5, 35], VALUE, "error.bands_value_outside",
     {"index": 1, "value": 35, "low": 10, "high": 30}),
    ([0, 10, 30], [0.5, 0.5], [12, 20], VALUE, "error.bands_value_outside",
     {"index": 0, "value": 12}),
    ([0, 10, 30], [0.5, 0.5], [5], VALUE, "error.bands_values", {"n_values": 1, "n_shares": 2}),
    ([0, 10, 30], [1.0], None, VALUE, "error.bands_shape", {"n_edges": 3, "n_shares": 1}),
    ([0], [], None, VALUE, "error.bands_shape", {"n_edges": 1, "n_shares": 0}),
    ([0, 10, 30], [1.2, -0.2], None, VALUE, "error.nonnegative",
     {"name": "shares[1]", "value": -0.2}),
    ([0, 10, 30], [0.5, 0.5], [5, -1], VALUE, "error.nonnegative",
     {"name": "values[1]", "value": -1}),
]  # fmt: skip


@pytest.mark.parametrize(("edges", "shares", "values", "error", "key", "message"), BAD_BANDS)
def test_bands_validation_names_the_value(edges, shares, values, error, key, message):
    raises(error, key, lambda: fs.DealSize.bands(edges, shares, values), **message)


def test_bands_values_on_the_band_edges_are_inside():
    d = fs.DealSize.bands([0, 10, math.inf], [0.5, 0.5], values=[10, 1e9])
    assert d.mean == pytest.approx(0.5 * 10 + 0.5 * 1e9)


def test_per_deal_flag():
    assert not fs.DealSize.fixed(1).per_deal
    assert not fs.DealSize.gamma(1, 1).per_deal
    assert not SIZE_BANDS.per_deal
    assert fs.DealSize.lognormal(1, 1).per_deal
    assert UNIFORM_BANDS.per_deal


# --------------------------------------------------------------- sum_sf
@pytest.mark.parametrize(("mean", "shape"), [(100.0, 1), (100.0, 4), (7.5, 3), (2_000.0, 9)])
@pytest.mark.parametrize("amount", [50.0, 400.0, 3_000.0])
def test_gamma_sum_sf_is_the_erlang_tail(mean, shape, amount):
    """Integer shape a: a sum of k deals is Erlang(k a, theta), and
    P(Erlang(m, theta) >= x) = P(Poisson(x / theta) <= m - 1)."""
    size = fs.DealSize.gamma(mean, cv=1 / math.sqrt(shape))
    theta = mean / shape
    deals = np.arange(0, 40)
    ref = np.where(deals > 0, stats.poisson.cdf(deals * shape - 1, amount / theta), 0.0)
    np.testing.assert_allclose(size.sum_sf(deals, amount), ref, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("cv", [0.3, 1.7])
def test_gamma_sum_sf_against_scipy_gamma(cv):
    size = fs.DealSize.gamma(1_000.0, cv=cv)
    deals = np.array([0, 1, 3, 10, 50, 200])
    got = size.sum_sf(deals, 12_000.0)
    ref = [0.0] + [stats.gamma(k / cv**2, scale=1_000.0 * cv**2).sf(12_000.0) for k in deals[1:]]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-300)


def test_fixed_sum_sf_is_a_step_that_includes_the_target():
    size = fs.DealSize.fixed(100.0)
    np.testing.assert_array_equal(size.sum_sf(np.arange(5), 200.0), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(size.sum_sf(np.arange(5), 250.0), [0, 0, 0, 1, 1])
    # 3 x 0.1 is 0.30000000000000004: a target of 0.3 is reached by 3 deals of 0.1
    np.testing.assert_array_equal(
        fs.DealSize.fixed(0.1).sum_sf(np.arange(5), 0.3), [0, 0, 0, 1, 1]
    )


@pytest.mark.parametrize("size", [m for m, _ in MODELS], ids=MODEL_IDS)
def test_sum_sf_of_a_target_of_zero_is_one_and_of_no_deals_is_zero(size):
    np.testing.assert_array_equal(size.sum_sf(np.arange(4), 0.0), [1, 1, 1, 1])
    assert size.sum_sf(np.array([0]), 1.0)[0] == 0.0


@pytest.mark.parametrize(
    "size",
    [fs.DealSize.lognormal(1_000, 1.0), SIZE_BANDS, UNIFORM_BANDS],
    ids=["lognormal", "bands-values", "bands-uniform"],
)
def test_approximate_sum_sf_is_a_gamma_with_the_same_mean_and_variance(size):
    deals = np.array([1, 4, 30])
    amount = 2.0 * size.mean * 4
    shape, scale = 1 / size.cv**2, size.mean * size.cv**2
    ref = stats.gamma.sf(amount, deals * shape, scale=scale)
    np.testing.assert_allclose(size.sum_sf(deals, amount), ref, rtol=1e-12)
    for k, p in zip(deals, ref, strict=True):  # moment match, via scipy
        g = stats.gamma(k * shape, scale=scale)
        assert g.mean() == pytest.approx(k * size.mean) and g.var() == pytest.approx(k * size.var)
        assert 0 < p < 1


def test_repr():
    assert repr(fs.DealSize.fixed(1500)) == "DealSize.fixed(1500)"
    assert repr(fs.DealSize.gamma(10, 0.5)) == "DealSize.gamma(mean=10, cv=0.5)"
    assert "values=[5000" in repr(SIZE_BANDS)
