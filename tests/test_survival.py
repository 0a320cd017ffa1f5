"""The Kaplan-Meier curve: its band, quantiles and their intervals.

Reference values come from statsmodels' ``SurvfuncRight`` (an independent
implementation of the curve, Greenwood's standard errors, quantiles and their
intervals) and from the published Kaplan-Meier table of Freireich et al.
(1963), 6-MP arm. The log-level functions are checked on hand-sized logs
computed by hand and on simulated logs of known truth, with tolerances of
about 4 standard errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from keyed import raises
from scipy import stats

from funnelsim.survival import kaplan_meier

SurvfuncRight = pytest.importorskip("statsmodels.duration.survfunc").SurvfuncRight

# Freireich et al. (1963), remission times in weeks, 6-MP arm; 0 = still in remission.
FREIREICH_WEEKS = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
FREIREICH_RELAPSE = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def _statsmodels(durations, observed):
    with warnings.catch_warnings():  # statsmodels warns on log(0) where the curve hits 0
        warnings.simplefilter("ignore", RuntimeWarning)
        return SurvfuncRight(np.asarray(durations, float), np.asarray(observed, float))


def _sm_quantile_ci(sf, p, level):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sf.quantile_ci(p, alpha=1 - level)


def _reference_sets():
    rng = np.random.default_rng(20261123)
    sets = {
        "freireich 6-MP": (FREIREICH_WEEKS, FREIREICH_RELAPSE),
        "ties": (rng.integers(0, 12, 80), rng.random(80) < 0.6),
        "heavy ties, zeros": (rng.integers(0, 3, 40), rng.random(40) < 0.5),
        "none censored": (rng.exponential(10, 60), np.ones(60, bool)),
        "last is an event": ([1, 2, 2, 3, 4, 5], [1, 0, 1, 1, 0, 1]),
        "cure plateau": (
            np.r_[rng.gamma(3, 5, 150), rng.uniform(0, 60, 350)],
            np.r_[np.ones(150, bool), np.zeros(350, bool)],
        ),
        "one event": ([4.0], [1]),
        "large": (rng.weibull(1.5, 3000) * 30, rng.random(3000) < 0.7),
    }
    return sets


REFERENCE = _reference_sets()


# ------------------------------------------------------------ kaplan_meier
def test_freireich_published_kaplan_meier_table():
    """Freireich et al. (1963), 6-MP arm: the textbook KM table (to 3 decimals)."""
    km = kaplan_meier(FREIREICH_WEEKS, FREIREICH_RELAPSE)
    assert km.time.tolist() == [6, 7, 10, 13, 16, 22, 23]
    assert km.at_risk.tolist() == [21, 17, 15, 12, 11, 7, 6]
    assert km.events.tolist() == [3, 1, 1, 1, 1, 1, 1]
    published = [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448]
    np.testing.assert_allclose(km.survival, published, atol=5e-4)
    sf = _statsmodels(FREIREICH_WEEKS, FREIREICH_RELAPSE)
    np.testing.assert_allclose(sf.surv_prob, published, atol=5e-4)  # statsmodels agrees
    assert km.median == sf.quantile(0.5) == 23
    assert km.n == 21 and km.n_events == 9 and km.max_time == 35


def _band_from_statsmodels(sf, level):
    """Greenwood SE from statsmodels, carried to the log(-log) scale by the delta method."""
    s, se = sf.surv_prob, sf.surv_prob_se
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.log(-np.log(s))
        se_g = se / (s * np.abs(np.log(s)))
        low = np.exp(-np.exp(g + z * se_g))
        high = np.exp(-np.exp(g - z * se_g))
    return low, high


@pytest.mark.parametrize("name", list(REFERENCE))
@pytest.mark.parametrize("level", [0.95, 0.8])
def test_curve_band_and_quantiles_equal_statsmodels(name, level):
    durations, observed = REFERENCE[name]
    km = kaplan_meier(durations, observed, confidence_level=level)
    sf = _statsmodels(durations, observed)
    np.testing.assert_array_equal(km.time, sf.surv_times)
    np.testing.assert_array_equal(km.at_risk, sf.n_risk)
    np.testing.assert_array_equal(km.events, sf.n_events)
    np.testing.assert_allclose(km.survival, sf.surv_prob, rtol=0, atol=1e-10)
    np.testing.assert_allclose(km.se, sf.surv_prob_se, rtol=0, atol=1e-10)  # NaN where S = 0
    low, high = _band_from_statsmodels(sf, level)
    np.testing.assert_allclose(km.low, low, rtol=0, atol=1e-10)
    np.testing.assert_allclose(km.high, high, rtol=0, atol=1e-10)
    for p in (0.1, 0.25, 0.5, 0.75, 0.9):
        np.testing.assert_array_equal(km.quantile_ci(p), _sm_quantile_ci(sf, p, level))
        if np.any(np.abs(sf.surv_prob - (1 - p)) < 1e-9):
            # A curve exactly on 1 - p: statsmodels' answer depends on rounding (see
            # below); ours is the end of the plateau. Without censoring the curve is
            # one minus the empirical CDF: the order statistic floor(p n) (from 0).
            assert np.all(observed)
            assert km.quantile(p) == np.sort(durations)[math.floor(p * len(durations))]
            continue
        expected = sf.quantile(p)
        got = km.quantile(p)
        assert (math.isnan(got) and np.isnan(expected)) or got == expected, p


def test_all_censored_curve_stays_at_one():
    km = kaplan_meier([3, 5, 8], [False, False, False])
    sf = _statsmodels([3, 5, 8], [0, 0, 0])
    assert km.time.size == 0 == sf.surv_times.size
    assert math.isnan(km.median) and np.isnan(sf.quantile(0.5))
    assert all(math.isnan(x) for x in km.median_ci)
    assert km.survival_at([0, 4, 8]).tolist() == [1.0, 1.0, 1.0]
    assert km.eventual_share == 0.0
    assert km.to_frame().empty and "no events" in repr(km)


def test_band_is_nan_where_the_curve_drops_to_zero_and_inside_zero_one_elsewhere():
    km = kaplan_meier([1, 2, 3], [1, 1, 1])
    assert km.survival[-1] == 0 and np.isnan(km.low[-1]) and np.isnan(km.high[-1])
    durations, observed = REFERENCE["large"]
    km = kaplan_meier(durations, observed)
    ok = km.survival > 0
    assert np.isnan(km.low[~ok]).all()
    assert np.all((km.low[ok] <= km.survival[ok]) & (km.survival[ok] <= km.high[ok]))
    assert np.all((km.low[ok] >= 0) & (km.high[ok] <= 1))


@pytest.mark.parametrize("n", [4, 6, 8, 10, 12, 20, 100])
def test_a_curve_exactly_on_one_half_gives_the_end_of_the_plateau(n):
    """Uncensored 1..n: S = 1/2 on [n/2, n/2 + 1). The strict rule gives n/2 + 1.

    statsmodels gives the same except where rounding puts its S a hair below
    1/2 (n = 12: 0.49999999999999994, median 6); ours does not depend on it.
    """
    km = kaplan_meier(np.arange(1, n + 1), np.ones(n))
    assert km.median == n // 2 + 1


def test_survival_at_is_a_right_continuous_step_function():
    km = kaplan_meier(FREIREICH_WEEKS, FREIREICH_RELAPSE)
    x = np.array([-1, 0, 5.99, 6, 6.5, 7, 22.9, 23, 35, 35.01])
    expected = [1, 1, 1, *km.survival[[0, 0, 1, 5, 6, 6]], np.nan]
    np.testing.assert_allclose(km.survival_at(x), expected)
    assert isinstance(km.survival_at(10), float)


def test_eventual_share_and_its_interval_come_from_the_last_event_time():
    durations, observed = REFERENCE["cure plateau"]
    km = kaplan_meier(durations, observed)
    assert km.eventual_share == pytest.approx(1 - km.survival[-1], abs=1e-15)
    low, high = km.eventual_share_ci
    assert (low, high) == (pytest.approx(1 - km.high[-1]), pytest.approx(1 - km.low[-1]))
    assert low < km.eventual_share < high


def test_given_event_quantiles_by_hand():
    """Events at 10 and 20 (two), censored at 10, 19, 46: S = 5/6 then 5/18.

    Among the 13/18 that close, a share (1/6) / (13/18) = 3/13 closes at 10,
    the rest at 20; mean (10 * 1/6 + 20 * 10/18) / (13/18) = 230/13.
    """
    km = kaplan_meier([10, 20, 46, 20, 19, 10], [1, 1, 0, 1, 0, 0])
    assert km.quantile(0.2, given_event=True) == 10
    assert km.quantile(0.3, given_event=True) == 20
    assert km.quantile(3 / 13, given_event=True) == 20  # on the level: end of the plateau
    assert km.mean_given_event == pytest.approx(230 / 13)
    q = km.quantiles([0.5], given_event=True)
    assert q.columns.tolist() == ["p", "time", "low", "high"]
    assert q["time"].tolist() == [20.0]


@pytest.mark.parametrize("name", ["cure plateau", "ties", "freireich 6-MP"])
def test_given_event_standard_error_is_the_delta_method(name):
    """SE of G(t) = (S(t) - S_end) / (1 - S_end), the curve among those with the event.

    Reference: numerical derivatives of G in log S(t) and log S_end, with Greenwood's
    Cov(log S(t_i), log S(t_j)) = sum over t_k <= min(t_i, t_j) of d / (n (n - d))
    computed here from the at-risk and event counts.
    """
    km = kaplan_meier(*REFERENCE[name])
    assert 0 < km.survival[-1] < 1
    curve, se = km.given_event()
    n, d = km.at_risk.astype(float), km.events.astype(float)
    v = np.cumsum(d / (n * (n - d)))
    x = np.log(km.survival)
    last, h = len(x) - 1, 1e-6

    def g(xi: float, xe: float) -> float:
        return (math.exp(xi) - math.exp(xe)) / (1 - math.exp(xe))

    for i in range(len(x)):
        assert curve[i] == pytest.approx(g(x[i], x[last]), abs=1e-12)
        gi = (g(x[i] + h, x[last]) - g(x[i] - h, x[last])) / (2 * h)
        ge = (g(x[i], x[last] + h) - g(x[i], x[last] - h)) / (2 * h)
        var = gi**2 * v[i] + ge**2 * v[last] + 2 * gi * ge * v[i]
        assert se[i] == pytest.approx(math.sqrt(max(var, 0.0)), rel=1e-5, abs=1e-8), i


def test_given_event_equals_plain_quantiles_when_everyone_has_the_event():
    durations, _ = REFERENCE["none censored"]
    km = kaplan_meier(durations, np.ones(len(durations)))
    for p in (0.25, 0.5, 0.9):
        assert km.quantile(p, given_event=True) == km.quantile(p)
        assert km.quantile_ci(p, given_event=True) == km.quantile_ci(p)


def _cure_sample(rng, n, p_event, shape, scale, horizon):
    """Leads entering uniformly over ``horizon``, a share p_event close after Gamma time."""
    entry_age = rng.uniform(0, horizon, n)  # time from entry to the snapshot
    cycle = rng.gamma(shape, scale, n)
    closes = (rng.random(n) < p_event) & (cycle <= entry_age)
    return np.where(closes, cycle, entry_age), closes


def test_coverage_of_band_and_given_event_median_interval():
    """400 simulated logs of 300 leads (40 % close, Gamma(3, 10) cycle, 150-day window).

    Nominal 95 %: each coverage must be within 4 binomial SEs (±0.044). The
    true median among the deals that close is the Gamma median (the window
    truncates a share 4e-5 of cycles).
    """
    rng = np.random.default_rng(7)
    reps, level = 400, 0.95
    t0 = 30.0
    true_s = 1 - 0.4 * stats.gamma.cdf(t0, 3, scale=10)
    true_median = stats.gamma.ppf(0.5, 3, scale=10)
    band = median = 0
    for _ in range(reps):
        d, e = _cure_sample(rng, 300, 0.4, 3, 10, 150)
        km = kaplan_meier(d, e, confidence_level=level)
        i = np.searchsorted(km.time, t0, side="right") - 1
        band += km.low[i] <= true_s <= km.high[i]
        low, high = km.quantile_ci(0.5, given_event=True)
        median += low <= true_median < high
    tol = 4 * math.sqrt(level * (1 - level) / reps)
    assert abs(band / reps - level) < tol
    assert abs(median / reps - level) < tol


@pytest.mark.parametrize(
    ("durations", "observed", "key", "values"),
    [
        ([], [], "error.no_durations", {}),
        ([1, 2], [1], "error.durations_length", {"n_durations": 2, "n_observed": 1}),
        ([1, -2], [1, 1], "error.durations", {"value": -2, "index": 1}),
        ([1, np.nan], [1, 1], "error.durations", {"value": "nan", "index": 1}),
        ([1, 2], [1, 2], "error.observed", {"value": "2", "index": 1}),
        ([1, 2], ["yes", "no"], "error.observed", {"value": "'yes'", "index": 0}),
    ],
)
def test_kaplan_meier_rejects_bad_input(durations, observed, key, values):
    raises(ValueError, key, lambda: kaplan_meier(durations, observed), **values)


def test_kaplan_meier_durations_of_the_wrong_type_are_a_type_error():
    raises(TypeError, "error.type_number", lambda: kaplan_meier(["a", "b"], [1, 1]),
            name="durations", type="list")  # fmt: skip


def test_kaplan_meier_rejects_bad_levels_and_quantiles():
    raises(  # the same check and message as every other confidence_level of the kit
        ValueError, "error.confidence_level", lambda: kaplan_meier([1], [1], confidence_level=95),
        value=95,
    )  # fmt: skip
    km = kaplan_meier([1, 2], [1, 1])
    raises(ValueError, "error.open_probability", lambda: km.quantile(1.0), name="p", value=1.0)


def test_timedeltas_are_days_and_results_are_read_only():
    km = kaplan_meier(np.array([36, 48, 60], dtype="timedelta64[h]"), [1, 0, 1])
    assert km.unit == "days" and km.time.tolist() == [1.5, 2.5]
    with pytest.raises(ValueError):
        km.survival[0] = 0.5
    frame = km.to_frame()
    assert frame.columns.tolist() == ["time", "at_risk", "events", "survival", "low", "high"]
    assert "median 2.5 days" in repr(km)
