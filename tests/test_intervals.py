"""Intervals for a proportion: statsmodels agreement, coverage, the sample-size planner.

Reference intervals come from ``statsmodels.stats.proportion.proportion_confint``
(an independent implementation); coverage and planner checks compare with
brute force or simulation at tolerances of about 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import check_error
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim.intervals import (
    CI,
    METHODS,
    calls_for_overall_precision,
    calls_for_precision,
    coverage,
    exact_coverage,
    proportion_ci,
)

SM_NAME = {
    "wilson": "wilson",
    "jeffreys": "jeffreys",
    "clopper-pearson": "beta",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
}
LEVELS = (0.8, 0.9, 0.95, 0.99)
SIZES = (1, 2, 5, 10, 40, 100, 1000)
LARGE_K = (0, 1, 2, 3, 5, 10, 50, 100, 250, 500, 750, 900, 950, 990, 997, 998, 999, 1000)


def _sm(k, n, level, method):
    return proportion_confint(k, n, alpha=1 - level, method=SM_NAME[method])


# ------------------------------------------------------------ proportion_ci
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("method", METHODS)
def test_intervals_equal_statsmodels_on_the_grid(method, level):
    for n in SIZES:
        ks = np.arange(n + 1) if n <= 100 else np.array(LARGE_K)
        low, high = proportion_ci(ks, n, confidence_level=level, method=method)
        ref_low, ref_high = _sm(ks, n, level, method)
        np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-10, err_msg=f"n={n}")
        np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-10, err_msg=f"n={n}")
        assert np.all((0 <= low) & (low <= high) & (high <= 1))
        contains = (low <= ks / n) & (ks / n <= high)
        if method == "jeffreys":  # statsmodels' convention: limits stay Beta quantiles
            assert not contains[0] and not contains[-1] and contains[1:-1].all()
        else:
            assert contains.all()


@pytest.mark.parametrize("method", METHODS)
def test_scalar_input_gives_floats_in_a_named_tuple(method):
    ci = proportion_ci(7, 15, method=method)
    assert isinstance(ci, CI) and type(ci.low) is float and type(ci.high) is float
    assert ci == pytest.approx(_sm(7, 15, 0.95, method), abs=1e-10)


def test_arrays_broadcast():
    passed = np.array([[0, 3, 7], [1, 2, 15]])
    entered = np.array([15, 15, 15])
    low, high = proportion_ci(passed, entered, method="jeffreys")
    assert low.shape == high.shape == (2, 3)
    ref = _sm(passed, np.broadcast_to(entered, passed.shape), 0.95, "jeffreys")
    np.testing.assert_allclose(low, ref[0], atol=1e-10)
    np.testing.assert_allclose(high, ref[1], atol=1e-10)


def test_edge_conventions_at_k_0_and_k_n():
    """Documented conventions, the same as statsmodels'."""
    assert proportion_ci(0, 10, method="clopper-pearson").low == 0.0
    assert proportion_ci(10, 10, method="clopper-pearson").high == 1.0
    jeffreys = proportion_ci([0, 10], 10, method="jeffreys")
    assert jeffreys.low[0] > 0 and jeffreys.high[1] < 1  # not replaced by 0 or 1
    assert proportion_ci(0, 10, method="wald") == (0.0, 0.0)  # Wald collapses
    assert proportion_ci(10, 10, method="wald") == (1.0, 1.0)
    assert proportion_ci(0, 10, method="agresti-coull").low == 0.0  # clipped


def test_three_meetings_out_of_forty_connects_is_uncertain():
    """DOMAIN.md §4: 3 meetings out of 40 connects; the kit must say how uncertain."""
    low, high = proportion_ci(3, 40)
    assert (low, high) == pytest.approx(_sm(3, 40, 0.95, "wilson"), abs=1e-10)
    assert low < 0.03 and high > 0.19  # from below 3 % to about 20 %
    assert high / low > 7
    # a rep at 15 % (6 of 40) is not significantly better: the intervals overlap
    assert proportion_ci(6, 40).low < high
    # Wald would even allow a negative rate: it is clipped to 0
    assert proportion_ci(3, 40, method="wald").low == 0.0


CHOICES = "wilson, jeffreys, clopper-pearson, agresti-coull, wald"


@pytest.mark.parametrize(
    ("kwargs", "error", "key", "values"),
    [
        ({"confidence_level": 0}, ValueError, "error.confidence_level", {"value": 0}),
        ({"confidence_level": 1}, ValueError, "error.confidence_level", {"value": 1}),
        ({"confidence_level": 95}, ValueError, "error.confidence_level", {"value": 95}),
        (
            {"confidence_level": "high"},
            TypeError,
            "error.type_number",
            {"name": "confidence_level", "value": "'high'", "type": "str"},
        ),
        ({"confidence_level": None}, TypeError, "error.type_number", {"type": "NoneType"}),
        (
            {"method": "score"},
            ValueError,
            "error.choice",
            {"name": "method", "value": "'score'", "choices": CHOICES},
        ),
        ({"method": "beta"}, ValueError, "error.choice", {"value": "'beta'"}),
        (
            {"method": 3},
            TypeError,
            "error.type_choice",
            {"name": "method", "value": "3", "type": "int", "choices": CHOICES},
        ),
    ],
)
def test_bad_options_raise_clear_errors(kwargs, error, key, values):
    with pytest.raises(error) as err:
        proportion_ci(3, 40, **kwargs)
    check_error(err, key, **values)


AT_1 = " at position 1"


@pytest.mark.parametrize(
    ("passed", "entered", "key", "values"),
    [
        (5, 4, "error.passed_above_entered", {"passed": "5", "entered": "4", "where": ""}),
        ([1, 5], [4, 4], "error.passed_above_entered", {"passed": "5", "where": AT_1}),
        (-1, 4, "error.count_value", {"name": "passed", "value": "-1", "where": ""}),
        (1, -4, "error.count_value", {"name": "entered", "value": "-4"}),
        (1.5, 4, "error.count_value", {"name": "passed", "value": "1.5"}),
        ([1, np.nan], 4, "error.count_value", {"name": "passed", "value": "nan", "where": AT_1}),
        (0, 0, "error.entered_zero", {"where": ""}),
        ([0, 0], [3, 0], "error.entered_zero", {"where": AT_1}),
        ([1, 2], [3, 4, 5], "error.count_shape", {"passed": (2,), "entered": (3,)}),
    ],
)
def test_bad_counts_raise_clear_errors(passed, entered, key, values):
    with pytest.raises(fs.FunnelsimValueError) as err:
        proportion_ci(passed, entered)
    check_error(err, key, **values)


@pytest.mark.parametrize(("passed", "kind"), [("3", "str"), (None, "NoneType"), (["a"], "list")])
def test_counts_of_the_wrong_type_are_a_type_error(passed, kind):
    with pytest.raises(fs.FunnelsimTypeError) as err:
        proportion_ci(passed, 40)
    check_error(err, "error.type_numbers", **{"name": "passed", "type": kind})


# ----------------------------------------------------------------- coverage
def test_exact_coverage_equals_brute_force_with_statsmodels():
    ps = np.array([0.02, 0.1, 0.37, 0.5, 0.9])
    table = exact_coverage(METHODS, n=[7, 30], p=ps, confidence_level=0.9)
    assert len(table) == len(METHODS) * 2 * len(ps)
    for row in table.itertuples():
        ks = np.arange(row.n + 1)
        low, high = _sm(ks, row.n, 0.9, row.method)
        inside = (low <= row.p) & (row.p <= high)
        want = stats.binom.pmf(ks[inside], row.n, row.p).sum()
        assert row.coverage == pytest.approx(want, abs=1e-12)


GRID_N = (10, 20, 50, 100)
GRID_P = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))


def test_simulated_coverage_agrees_with_the_exact_coverage():
    reps = 20_000
    sim = coverage(METHODS, n=GRID_N, p=GRID_P, reps=reps, rng=20261123)
    exact = exact_coverage(METHODS, n=GRID_N, p=GRID_P)
    assert list(sim.columns) == [*exact.columns, "se", "reps"]
    both = sim.merge(exact, on=["method", "n", "p", "confidence_level"], suffixes=("", "_exact"))
    assert len(both) == len(exact) == len(METHODS) * len(GRID_N) * len(GRID_P)
    se = np.sqrt(both["coverage_exact"] * (1 - both["coverage_exact"]) / reps)
    assert np.all(np.abs(both["coverage"] - both["coverage_exact"]) <= 4 * se + 1e-12)


def test_wald_under_covers_at_small_counts_wilson_and_clopper_pearson_do_not():
    table = exact_coverage(METHODS, n=GRID_N, p=GRID_P).set_index(["method", "n", "p"])
    cov = table["coverage"]
    assert cov["wald", 20, 0.1] < 0.90  # "95 %" that holds 88 % of the time
    assert cov["wald"].min() < 0.5  # n = 10, p = 0.05: mostly 0 of 10 and a zero-width interval
    assert cov["clopper-pearson"].min() >= 0.95  # never below nominal, exactly
    assert cov["wilson"].min() > 0.91  # dips a little at extreme p
    assert abs(cov["wilson"].mean() - 0.95) < 0.01  # right on average
    assert cov["wald"].mean() < 0.90


def test_coverage_is_reproducible_and_validates(rng):
    a = coverage("wilson", n=15, p=[0.2, 0.4], reps=500, rng=5)
    b = coverage("wilson", n=15, p=[0.2, 0.4], reps=500, rng=5)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(fs.FunnelsimValueError) as err:
        coverage("wilson", n=0, p=0.2, rng=rng)
    check_error(err, "error.at_least", **{"name": "n[0]", "value": 0, "minimum": 1})
    with pytest.raises(fs.FunnelsimValueError) as err:
        exact_coverage("wilson", n=5, p=[0.2, 1.2])
    check_error(err, "error.ratio_range", **{"name": "p[1]", "value": 1.2})
    with pytest.raises(fs.FunnelsimValueError) as err:
        exact_coverage(["wilson", "normal"], n=5, p=0.2)
    check_error(err, "error.choice", **{"name": "method", "value": "'normal'"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        coverage("wilson", n=5, p=0.2, reps=0, rng=rng)
    check_error(err, "error.at_least", **{"name": "reps", "value": 0})
    with pytest.raises(fs.FunnelsimTypeError) as err:
        coverage("wilson", n="15", p=0.2, rng=rng)
    check_error(err, "error.type_number", **{"name": "n[0]", "type": "str"})


# ------------------------------------------------------------------ planner
def _brute_force(p, h, level, method):
    """Smallest n whose statsmodels interval at the expected count n p is at most 2 h wide."""
    n = 1
    while True:
        low, high = _sm(n * p, n, level, method)
        if (high - low) / 2 <= h:
            return n
        n += 1


@pytest.mark.parametrize("method", ["wald", "wilson"])
@pytest.mark.parametrize(
    ("p", "h", "level"),
    [(0.1, 0.03, 0.95), (0.5, 0.05, 0.95), (0.3, 0.1, 0.9), (0.2, 0.02, 0.8), (0.6, 0.04, 0.99)],
)
def test_calls_for_precision_equals_brute_force(method, p, h, level):
    n = calls_for_precision(p, h, confidence_level=level, method=method)
    assert n == _brute_force(p, h, level, method)
    if method == "wald":
        z = stats.norm.isf((1 - level) / 2)
        assert n == math.ceil(z**2 * p * (1 - p) / h**2)


def test_calls_for_precision_defaults_to_wilson_and_validates():
    assert calls_for_precision(0.1, 0.03) == calls_for_precision(0.1, 0.03, method="wilson")
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls_for_precision(0, 0.03)
    check_error(err, "error.open_probability", **{"name": "ratio", "value": 0})
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls_for_precision(0.1, 0)
    check_error(err, "error.open_probability", **{"name": "half_width", "value": 0})
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls_for_precision(0.1, 0.03, method="jeffreys")
    check_error(err, "error.choice", **{"value": "'jeffreys'", "choices": "wilson, wald"})
    with pytest.raises(fs.FunnelsimTypeError) as err:
        calls_for_precision("10%", 0.03)
    check_error(err, "error.type_number", **{"name": "ratio", "value": "'10%'", "type": "str"})


def test_calls_for_overall_precision_is_the_binomial_formula():
    """The delta method's relative variance telescopes to (1 - P) / (N P)."""
    z = stats.norm.isf(0.025)
    for ratios, h in [((7 / 15, 1 / 7, 1 / 8), 0.003), ((0.25, 0.2), 0.01), ((0.3,), 0.05)]:
        overall = math.prod(ratios)
        want = math.ceil(z**2 * overall * (1 - overall) / h**2)
        assert calls_for_overall_precision(ratios, h) == want
    game = fs.presets.get("daily ratio game").funnel
    assert calls_for_overall_precision(game, 0.003) == calls_for_overall_precision(
        game.ratios, 0.003
    )


def test_calls_for_overall_precision_matches_the_spread_of_the_product_estimator(rng):
    """Simulate cohorts of N leads through the stages; the product of the estimated
    ratios has SD h / z. Relative SE of a sample SD is about 1 / sqrt(2 R)."""
    ratios = (0.5, 0.3, 0.4)
    h, level = 0.01, 0.9
    n = calls_for_overall_precision(ratios, h, confidence_level=level)
    reps = 20_000
    counts = [np.full(reps, n)]
    for r in ratios:
        counts.append(rng.binomial(counts[-1], r))
    counts = np.array(counts, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        stage = np.where(counts[:-1] > 0, counts[1:] / counts[:-1], 0.0)
    product = stage.prod(axis=0)
    z = stats.norm.isf((1 - level) / 2)
    overall = math.prod(ratios)
    assert abs(product.std() / (h / z) - 1) < 4 / math.sqrt(2 * reps)
    assert abs(product.mean() - overall) < 4 * (h / z) / math.sqrt(reps)  # unbiased
    # the smallest N: one call fewer would be wider than asked
    assert z * math.sqrt(overall * (1 - overall) / (n - 1)) > h


@pytest.mark.parametrize(
    ("ratios", "key", "values"),
    [
        ((0.5, 0.0), "error.overall_degenerate", {"value": "[0.5, 0.0]"}),
        ((1.0, 1.0), "error.overall_degenerate", {"value": "[1.0, 1.0]"}),
        ((), "error.overall_degenerate", {"value": "[]"}),
        (0.3, "error.overall_degenerate", {"value": "0.3"}),
        ((0.5, 1.4), "error.ratio_range", {"name": "ratios[1]", "value": 1.4}),
    ],
)
def test_calls_for_overall_precision_rejects_bad_ratios(ratios, key, values):
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls_for_overall_precision(ratios, 0.01)
    check_error(err, key, **values)
