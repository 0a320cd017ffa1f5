"""Groups, trends and diagnoses: references from independent implementations and theory.

References:

- multiple testing: ``statsmodels.stats.multitest.multipletests`` (``holm``,
  ``fdr_bh``);
- the beta-binomial prior: an independent maximum-likelihood fit that sums
  ``scipy.stats.betabinom.logpmf`` and maximises it with Nelder-Mead over
  ``(log a, log b)`` from another starting point; data: the rat-tumour
  experiments of Tarone (1982), Table 5.1 of Gelman et al., *Bayesian Data
  Analysis* (3rd ed.), checked against the book's own summary of the 70
  historical experiments (mean 0.136, sd 0.103 of the ratios, BDA3 §5.1);
- chi-square: ``scipy.stats.chi2_contingency``; per-group tests:
  ``scipy.stats.fisher_exact``; leak tests: ``scipy.stats.binomtest``;
- intervals: ``statsmodels.stats.proportion.proportion_confint``;
- funnel limits: a scalar re-implementation of Spiegelhalter's (2005)
  interpolation, exact binomial tail probabilities and the normal limit;
- p-chart: the limits by hand, and a simulated in-control series whose
  flag rate is compared with the exact binomial probability of falling
  outside (about 0.27 %) at 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim.control import PChart, funnel_limits, p_chart
from funnelsim.diagnose import (
    KINDS,
    SHAPES,
    LeakDiagnosis,
    PipelineDiagnosis,
    SimpsonCheck,
    diagnose_leaks,
    diagnose_pipeline,
    leak_cause,
    simpson_check,
    simpson_example,
)
from funnelsim.estimate import fit
from funnelsim.groups import (
    MAX_PRECISION,
    GroupComparison,
    adjust_pvalues,
    compare_groups,
    fisher_two_sided,
    fit_beta_binomial,
)
from funnelsim.logs import Log


def _raises(error: type, key: str, call, **values) -> None:
    """``call()`` raises ``error`` with this catalogue key and (at least) these values."""
    with pytest.raises(error) as err:
        call()
    assert err.value.key == key
    for name, value in values.items():
        assert err.value.values[name] == value, name


VALUE, TYPE = fs.FunnelsimValueError, fs.FunnelsimTypeError

# Tarone (1982) rat-tumour data, BDA3 Table 5.1: tumours y out of N rats in 71 experiments
# (the last one is the "current" experiment of the book's example).
RAT_Y = [0] * 14 + [1] * 8 + [3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 5, 2, 5, 2, 7, 7, 3, 3, 2, 9, 10]
RAT_Y += [4] * 7 + [10, 4, 4, 4, 5, 11, 12, 5, 5, 6, 5, 6, 6, 6, 6, 16, 15, 15, 9, 4]
RAT_N = [20] * 7 + [19] * 4 + [18, 18, 17, 20, 20, 20, 20, 19, 19, 18, 18, 27, 25, 24, 23]
RAT_N += [20] * 6 + [10, 49, 19, 46, 17, 49, 47, 20, 20, 13, 48, 50] + [20] * 7
RAT_N += [48, 19, 19, 19, 22, 46, 49, 20, 20, 23, 19, 22, 20, 20, 20, 52, 46, 47, 24, 14]

FOUR = pd.DataFrame(
    {"rep": ["ann", "bob", "cy", "dee"], "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]}
)


def _log(frame: pd.DataFrame, stages=("connects", "meetings")) -> Log:
    return Log("counts", tuple(stages), counts=frame)


def _independent_mle(k, n, start=(0.0, 1.0)) -> tuple[float, float, float]:
    """Beta-binomial MLE by Nelder-Mead on (log a, log b), summing scipy's betabinom.logpmf."""
    k, n = np.asarray(k), np.asarray(n)

    def neg(x):
        return -stats.betabinom.logpmf(k, n, math.exp(x[0]), math.exp(x[1])).sum()

    res = optimize.minimize(
        neg,
        np.array(start),
        method="Nelder-Mead",
        options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 40_000, "maxfev": 40_000},
    )
    return math.exp(res.x[0]), math.exp(res.x[1]), -res.fun


# ------------------------------------------------------------ adjust_pvalues
@pytest.mark.parametrize(("method", "sm"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_pvalues_equal_statsmodels(method, sm, rng):
    cases = [
        rng.uniform(size=20),
        rng.uniform(0, 0.1, size=7),
        np.array([0.01, 0.01, 0.04, 0.04, 0.5, 1.0, 0.0]),  # ties, 0 and 1
        np.array([0.3]),
        rng.beta(0.3, 3, size=200),
    ]
    for p in cases:
        ref = multipletests(p, method=sm)[1]
        np.testing.assert_allclose(adjust_pvalues(p, method=method), ref, rtol=0, atol=1e-12)


def test_adjust_by_hand_and_nan_stays_out_of_the_family():
    # Holm by hand: sorted 0.01, 0.03, 0.04, 0.2 -> 4*0.01, 3*0.03, max(2*0.04, 0.09), 0.2
    np.testing.assert_allclose(
        adjust_pvalues([0.01, 0.04, 0.03, 0.2]), [0.04, 0.09, 0.09, 0.2], atol=1e-15
    )
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan, 0.2])
    out = adjust_pvalues(p, method="bh")
    assert np.isnan(out[[1, 4]]).all()
    finite = ~np.isnan(p)
    np.testing.assert_allclose(out[finite], multipletests(p[finite], method="fdr_bh")[1])
    assert np.isnan(adjust_pvalues([np.nan, np.nan])).all()
    assert adjust_pvalues(np.empty(0)).shape == (0,)


@pytest.mark.parametrize(
    ("bad", "first"), [([0.1, 1.5], "1.5"), ([-0.01], "-0.01"), ([np.inf], "inf")]
)
def test_adjust_rejects_values_outside_zero_one(bad, first):
    _raises(VALUE, "error.pvalues", lambda: adjust_pvalues(bad), value=first)


def test_adjust_rejects_unknown_method():
    _raises(
        VALUE,
        "error.choice",
        lambda: adjust_pvalues([0.1], method="bonferroni"),
        name="method",
        value="'bonferroni'",
        choices="holm, bh",
    )


# ---------------------------------------------------------- beta-binomial
def test_rat_data_match_the_books_summary():
    """Guards the data entry: BDA3 §5.1 gives mean 0.136 and sd 0.103 for the 70 historical
    ratios, and 4/14 for the current experiment."""
    assert len(RAT_Y) == len(RAT_N) == 71
    r = np.array(RAT_Y[:70]) / np.array(RAT_N[:70])
    assert round(r.mean(), 3) == 0.136
    assert round(r.std(ddof=1), 3) == 0.103
    assert (RAT_Y[-1], RAT_N[-1]) == (4, 14)


def test_beta_binomial_mle_on_rat_data_matches_an_independent_fit():
    prior = fit_beta_binomial(RAT_Y, RAT_N)
    a, b, ll = _independent_mle(RAT_Y, RAT_N, start=(1.0, 3.0))
    assert not prior.capped
    np.testing.assert_allclose([prior.a, prior.b], [a, b], rtol=1e-5)
    assert prior.log_likelihood == pytest.approx(ll, abs=1e-8)
    ref_ll = stats.betabinom.logpmf(RAT_Y, RAT_N, prior.a, prior.b).sum()
    assert prior.log_likelihood == pytest.approx(ref_ll, rel=1e-12)
    assert prior.mean == pytest.approx(prior.a / (prior.a + prior.b), rel=1e-12)
    assert prior.precision == pytest.approx(prior.a + prior.b, rel=1e-12)
    # The MLE is more dispersed-aware than BDA3's crude moment estimate (1.4, 8.6) but
    # centred on the same mean ratio.
    assert prior.mean == pytest.approx(1.4 / 10.0, abs=0.01)


def test_beta_binomial_mle_is_a_stationary_point(rng):
    theta = rng.beta(4, 16, size=40)
    n = rng.integers(20, 300, size=40)
    k = rng.binomial(n, theta)
    prior = fit_beta_binomial(k, n)
    a, b, _ = _independent_mle(k, n, start=(2.0, -0.5))
    np.testing.assert_allclose([prior.a, prior.b], [a, b], rtol=1e-5)
    # zero gradient of the log-likelihood in (log a, log b), by central differences
    h = 1e-5

    def ll(la, lb):
        return stats.betabinom.logpmf(k, n, math.exp(la), math.exp(lb)).sum()

    la, lb = math.log(prior.a), math.log(prior.b)
    grad = [
        (ll(la + h, lb) - ll(la - h, lb)) / (2 * h),
        (ll(la, lb + h) - ll(la, lb - h)) / (2 * h),
    ]
    np.testing.assert_allclose(grad, 0, atol=1e-4)


def test_beta_binomial_mle_recovers_the_truth_within_its_standard_error(rng):
    """400 groups from Beta(4, 16): the fitted mean and log precision lie within 4 standard
    errors (inverse observed information, by finite differences) of the truth."""
    theta = rng.beta(4, 16, size=400)
    n = rng.integers(30, 200, size=400)
    k = rng.binomial(n, theta)
    prior = fit_beta_binomial(k, n)

    def ll(x):
        mu, m = special.expit(x[0]), math.exp(x[1])
        return stats.betabinom.logpmf(k, n, mu * m, (1 - mu) * m).sum()

    x0 = np.array([special.logit(prior.mean), math.log(prior.precision)])
    h = 1e-3
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h, np.eye(2)[j] * h
            hess[i, j] = (
                ll(x0 + e_i + e_j) - ll(x0 + e_i - e_j) - ll(x0 - e_i + e_j) + ll(x0 - e_i - e_j)
            ) / (4 * h * h)
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    truth = np.array([special.logit(0.2), math.log(20.0)])
    assert np.all(np.abs(x0 - truth) < 4 * se), (x0, truth, se)


def test_identical_ratios_cap_the_precision():
    prior = fit_beta_binomial([10, 20, 5], [50, 100, 25])
    assert prior.capped
    assert prior.precision == MAX_PRECISION
    assert prior.mean == pytest.approx(0.2, abs=1e-12)
    capped = fit_beta_binomial([10, 20, 5], [50, 100, 25], max_precision=500)
    assert capped.capped and capped.precision == 500
    # the likelihood really keeps rising towards the binomial limit
    lls = [
        stats.betabinom.logpmf([10, 20, 5], [50, 100, 25], 0.2 * m, 0.8 * m).sum()
        for m in (10, 100, 1e4, 1e6)
    ]
    assert np.all(np.diff(lls) > 0)


def test_underdispersed_data_are_capped_but_overdispersed_are_not(rng):
    n = np.full(30, 200)
    equal = np.full(30, 40)  # less spread than binomial chance: MLE precision is infinite
    assert fit_beta_binomial(equal, n).capped
    spread = rng.binomial(n, rng.beta(2, 8, size=30))
    assert not fit_beta_binomial(spread, n).capped


@pytest.mark.parametrize(
    ("passed", "entered", "key", "values"),
    [
        ([3], [10], "error.prior_too_few", {"count": 1}),
        ([0, 0, 0], [10, 20, 5], "error.prior_degenerate", {}),
        ([10, 20], [10, 20], "error.prior_degenerate", {}),
        ([0, 2], [0, 5], "error.entered_zero", {"where": " at position 0"}),
        ([6, 2], [5, 5], "error.passed_above_entered", {"passed": "6", "entered": "5"}),
        ([-1, 2], [5, 5], "error.count_value", {"name": "passed", "value": "-1"}),
    ],
)
def test_beta_binomial_bad_input(passed, entered, key, values):
    _raises(VALUE, key, lambda: fit_beta_binomial(passed, entered), **values)


def test_beta_binomial_bad_cap():
    _raises(
        VALUE,
        "error.at_least",
        lambda: fit_beta_binomial([1, 2], [5, 5], max_precision=0.5),
        name="max_precision",
        value=0.5,
        minimum=1,
    )
    _raises(
        TYPE,
        "error.type_number",
        lambda: fit_beta_binomial([1, 2], [5, 5], max_precision="big"),
        name="max_precision",
        type="str",
    )


# ---------------------------------------------------------- compare_groups
def test_compare_groups_every_column_against_independent_references():
    res = compare_groups(_log(FOUR), by="rep")
    assert isinstance(res, GroupComparison)
    frame = res.to_frame()
    k = FOUR["meetings"].to_numpy()
    n = FOUR["connects"].to_numpy()
    assert frame["rep"].tolist() == ["ann", "bob", "cy", "dee"]
    np.testing.assert_array_equal(frame["passed"], k)
    np.testing.assert_array_equal(frame["entered"], n)
    np.testing.assert_allclose(frame["ratio"], k / n, rtol=1e-15)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(frame["low"], low, atol=1e-10)
    np.testing.assert_allclose(frame["high"], high, atol=1e-10)
    rest = (k.sum() - k) / (n.sum() - n)
    np.testing.assert_allclose(frame["rest"], rest, rtol=1e-15)
    a, b, _ = _independent_mle(k, n, start=(0.0, 1.0))
    np.testing.assert_allclose(frame["shrunk"], (a + k) / (a + b + n), rtol=1e-6)
    np.testing.assert_allclose(
        frame["shrunk_low"], stats.beta.ppf(0.025, a + k, b + n - k), rtol=1e-5
    )
    np.testing.assert_allclose(
        frame["shrunk_high"], stats.beta.ppf(0.975, a + k, b + n - k), rtol=1e-5
    )
    np.testing.assert_allclose(frame["p_below"], stats.beta.cdf(rest, a + k, b + n - k), rtol=1e-5)
    fisher = [
        stats.fisher_exact(
            [[k[i], n[i] - k[i]], [k.sum() - k[i], (n.sum() - n[i]) - (k.sum() - k[i])]]
        ).pvalue
        for i in range(4)
    ]
    np.testing.assert_allclose(frame["p_value"], fisher, rtol=1e-12)
    np.testing.assert_allclose(frame["p_adjusted"], multipletests(fisher, method="holm")[1])
    np.testing.assert_array_equal(frame["differs"], [False, False, True, False])
    chi2 = stats.chi2_contingency(np.column_stack([k, n - k]), correction=False)
    step = res.steps.iloc[0]
    assert step["chi2"] == pytest.approx(chi2.statistic, rel=1e-12)
    assert step["p_value"] == pytest.approx(chi2.pvalue, rel=1e-12)
    assert step["dof"] == 3
    assert step["team_ratio"] == pytest.approx(k.sum() / n.sum())
    assert step["prior_a"] == pytest.approx(a, rel=1e-5)
    assert step["prior_b"] == pytest.approx(b, rel=1e-5)
    assert not step["capped"]
    assert res.differing["rep"].tolist() == ["cy"]


def test_p_below_agrees_with_posterior_simulation(rng):
    res = compare_groups(_log(FOUR), by="rep")
    frame = res.to_frame()
    prior = res.steps.iloc[0]
    draws = 200_000
    for row in frame.itertuples(index=False):
        theta = rng.beta(
            prior["prior_a"] + row.passed, prior["prior_b"] + row.entered - row.passed, size=draws
        )
        share = (theta < row.rest).mean()
        se = math.sqrt(max(row.p_below * (1 - row.p_below), 1e-6) / draws)
        assert abs(share - row.p_below) < 4 * se + 1e-6


def test_shrinkage_is_a_weighted_average_pulling_small_groups_most():
    frame = compare_groups(_log(FOUR), by="rep").to_frame()
    prior = fit_beta_binomial(FOUR["meetings"], FOUR["connects"])
    w = frame["entered"] / (frame["entered"] + prior.precision)  # weight of the group's own data
    np.testing.assert_allclose(
        frame["shrunk"], w * frame["ratio"] + (1 - w) * prior.mean, rtol=1e-12
    )
    between = np.minimum(frame["ratio"], prior.mean) <= frame["shrunk"]
    assert (between & (frame["shrunk"] <= np.maximum(frame["ratio"], prior.mean))).all()
    assert (
        (frame["shrunk_low"] < frame["shrunk"]) & (frame["shrunk"] < frame["shrunk_high"])
    ).all()
    # posterior intervals are narrower than the raw ones: the prior adds evidence
    assert ((frame["shrunk_high"] - frame["shrunk_low"]) < (frame["high"] - frame["low"])).all()


def test_compare_groups_over_several_steps_adjusts_all_rows_together():
    counts = pd.DataFrame(
        {
            "rep": ["ann", "bob", "cy"],
            "dials": [300, 280, 320],
            "connects": [140, 90, 150],
            "meetings": [20, 14, 12],
        }
    )
    log = _log(counts, ("dials", "connects", "meetings"))
    res = compare_groups(log, by="rep", adjust="bh", confidence_level=0.9, method="jeffreys")
    frame = res.to_frame()
    assert frame["stage"].tolist() == ["connects"] * 3 + ["meetings"] * 3  # step by step
    assert frame["rep"].tolist() == ["ann", "bob", "cy"] * 2
    assert len(res.steps) == 2
    np.testing.assert_allclose(
        frame["p_adjusted"], multipletests(frame["p_value"], method="fdr_bh")[1]
    )
    low, _ = proportion_confint(frame["passed"], frame["entered"], alpha=0.1, method="jeffreys")
    np.testing.assert_allclose(frame["low"], low, atol=1e-10)
    only = compare_groups(log, by="rep", stage="meetings")
    assert only.stages == ("meetings",)
    assert only.to_frame()["stage"].unique().tolist() == ["meetings"]
    assert compare_groups(log, by="rep", stage=["meetings", "connects"]).stages == (
        "connects",
        "meetings",
    )


def test_compare_groups_accepts_a_fit_a_table_and_a_lead_log():
    log = _log(FOUR)
    ref = compare_groups(log, by="rep").to_frame()
    from_fit = compare_groups(fit(log, by="rep"), by="rep").to_frame()
    from_table = compare_groups(log.stage_table(by="rep"), by="rep").to_frame()
    pd.testing.assert_frame_equal(from_fit, ref)
    pd.testing.assert_frame_equal(from_table, ref)
    # the same counts as a lead-level log: one row per connect
    rows = []
    for rep, n, k in zip(FOUR["rep"], FOUR["connects"], FOUR["meetings"], strict=True):
        rows += [(rep, True, i < k) for i in range(n)]
    leads = pd.DataFrame(rows, columns=["rep", "connects", "meetings"])
    lead_log = Log(
        "leads",
        ("connects", "meetings"),
        leads=leads[["rep"]],
        reached=leads[["connects", "meetings"]],
    )
    pd.testing.assert_frame_equal(compare_groups(lead_log, by="rep").to_frame(), ref)


def test_identical_groups_cap_the_prior_and_say_so():
    counts = pd.DataFrame(
        {"rep": ["a", "b", "c"], "connects": [50, 100, 25], "meetings": [10, 20, 5]}
    )
    res = compare_groups(_log(counts), by="rep")
    assert bool(res.steps["capped"].iloc[0])
    assert any("no more than chance" in note and "cap" in note for note in res.notes)
    np.testing.assert_allclose(res.to_frame()["shrunk"], 0.2, atol=1e-4)
    assert res.steps["chi2"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert "(capped)" in repr(res)


def test_a_group_without_leads_at_a_step_gets_nan_and_the_prior():
    counts = pd.DataFrame(
        {
            "rep": ["ann", "bob", "cy"],
            "dials": [100, 100, 100],
            "connects": [40, 0, 50],
            "meetings": [5, 0, 9],
        }
    )
    res = compare_groups(_log(counts, ("dials", "connects", "meetings")), by="rep")
    frame = res.to_frame()
    bob = frame[(frame["rep"] == "bob") & (frame["stage"] == "meetings")].iloc[0]
    assert np.isnan(bob["ratio"]) and np.isnan(bob["p_value"]) and np.isnan(bob["p_below"])
    step = res.steps.set_index("stage").loc["meetings"]
    assert bob["shrunk"] == pytest.approx(step["prior_mean"])
    assert step["groups"] == 2
    assert any("bob" in note and "meetings" in note for note in res.notes)


def test_a_step_where_nobody_passes_has_no_prior_and_a_zero_chi2():
    counts = pd.DataFrame({"rep": ["a", "b"], "connects": [30, 40], "meetings": [0, 0]})
    res = compare_groups(_log(counts), by="rep")
    step = res.steps.iloc[0]
    assert np.isnan(step["prior_a"]) and step["chi2"] == 0.0 and step["p_value"] == 1.0
    assert res.to_frame()["shrunk"].isna().all()
    assert any("no group passed any lead" in note for note in res.notes)
    assert res.to_frame()["p_value"].tolist() == [1.0, 1.0]  # Fisher: identical rows


def test_compare_groups_bad_input():
    log = _log(FOUR)
    cases = [
        ({"by": []}, "error.by_required", {"function": "compare_groups"}),
        ({"by": "segment"}, "error.unknown_by", {"value": "segment", "choices": "rep"}),
        ({"by": ["rep", ""]}, "error.by_type", {"name": "by"}),
        ({"by": "rep", "stage": "connects"}, "error.first_stage_ratio", {"stage": "'connects'"}),
        ({"by": "rep", "stage": "sales"}, "error.unknown_ratio_stage", {"value": "'sales'"}),
        ({"by": "rep", "confidence_level": 95}, "error.confidence_level", {"value": 95}),
        ({"by": "rep", "adjust": "bonferroni"}, "error.choice", {"name": "adjust"}),
    ]
    for kwargs, key, values in cases:
        _raises(VALUE, key, lambda kwargs=kwargs: compare_groups(log, **kwargs), **values)
    _raises(
        VALUE,
        "error.groups_too_few",
        lambda: compare_groups(_log(FOUR.iloc[:1]), by="rep"),
        by="rep",
        count=1,
    )
    missing = pd.DataFrame({"rep": ["a"], "stage": ["m"], "passed": [1]})
    _raises(
        VALUE,
        "error.table_columns",
        lambda: compare_groups(missing, by="rep"),
        function="compare_groups",
        missing="'entered'",
    )
    rising = pd.DataFrame({"rep": ["a", "b"], "stage": "m", "entered": [1, 5], "passed": [2, 1]})
    _raises(
        VALUE,
        "error.passed_above_entered",
        lambda: compare_groups(rising, by="rep"),
        passed="2",
        entered="1",
    )


def test_compare_groups_input_of_the_wrong_type_is_a_type_error():
    log = _log(FOUR)
    _raises(
        TYPE,
        "error.groups_source",
        lambda: compare_groups([1, 2], by="rep"),
        function="compare_groups",
        name="log",
        type="list",
    )
    _raises(TYPE, "error.by_type", lambda: compare_groups(log, by=3), name="by", type="int")
    _raises(TYPE, "error.type_choice", lambda: compare_groups(log, by="rep", method=None))


def test_compare_groups_repr_is_readable():
    text = repr(compare_groups(_log(FOUR), by="rep"))
    assert text.startswith("GroupComparison(by rep; Wilson 95%; holm; 4 groups")
    assert "meetings: team 17.7% (46/260)" in text
    assert "cy: 25/90 = 27.8%" in text and text.rstrip().endswith(")")


# ------------------------------------------------------------ funnel_limits
def _spiegelhalter_low(p: float, n: int, q: float) -> float:
    """Scalar reference: smallest r with F(r) >= q, then interpolate."""
    cdf = stats.binom(n, p).cdf
    r = 0
    while cdf(r) < q:
        r += 1
    below = cdf(r - 1) if r > 0 else 0.0
    step = cdf(r) - below
    alpha = (cdf(r) - q) / step if step > 0 else 0.0
    return min(max((r - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize("p", [0.02, 0.15, 0.5, 0.9])
def test_funnel_limits_equal_a_scalar_reference(p):
    volumes = [1, 2, 5, 10, 37, 100, 250]
    out = funnel_limits(p, volumes)
    for level in (0.95, 0.998):
        q = (1 - level) / 2
        part = out[out["confidence_level"] == level]
        ref_low = [_spiegelhalter_low(p, n, q) for n in volumes]
        ref_high = [1 - _spiegelhalter_low(1 - p, n, q) for n in volumes]
        np.testing.assert_allclose(part["low"], ref_low, atol=1e-12)
        np.testing.assert_allclose(part["high"], ref_high, atol=1e-12)


@pytest.mark.parametrize("p", [0.02, 0.15, 0.5, 0.9])
def test_funnel_limits_hold_their_level_on_each_side_exactly(p):
    """A group with the team's ratio falls below (above) with probability at most q, and the
    lower limit lies between the two whole counts around the binomial quantile."""
    volumes = np.r_[1:201, 500, 1000]
    for level in (0.8, 0.95, 0.998):
        q = (1 - level) / 2
        out = funnel_limits(p, volumes, confidence_level=level)
        low, high = out["low"].to_numpy(), out["high"].to_numpy()
        below = stats.binom.cdf(np.ceil(low * volumes - 1e-9) - 1, volumes, p)  # P(K/n < low)
        above = stats.binom.sf(np.floor(high * volumes + 1e-9), volumes, p)  # P(K/n > high)
        assert (below <= q + 1e-12).all() and (above <= q + 1e-12).all()
        r = stats.binom.ppf(q, volumes, p)
        assert (
            (low >= np.maximum(r - 1, 0) / volumes - 1e-12) & (low <= r / volumes + 1e-12)
        ).all()
        assert (low <= p + 1e-12).all() and (high >= p - 1e-12).all()


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_funnel_limits_approach_the_normal_limits(p):
    """Cornish-Fisher: the binomial quantile differs from the normal one by less than one count
    plus the interpolation step, so by less than 2 / n on the ratio scale."""
    volumes = np.array([10_000, 100_000, 1_000_000])
    for level in (0.95, 0.998):
        z = stats.norm.isf((1 - level) / 2)
        out = funnel_limits(p, volumes, confidence_level=level)
        half = z * np.sqrt(p * (1 - p) / volumes)
        assert (np.abs(out["low"] - (p - half)) < 2 / volumes).all()
        assert (np.abs(out["high"] - (p + half)) < 2 / volumes).all()


def test_funnel_limits_edges_and_shape():
    out = funnel_limits(0.0, [1, 50])
    assert (out["low"] == 0).all() and (out["high"] == 0).all()
    out = funnel_limits(1.0, [1, 50])
    assert (out["low"] == 1).all() and (out["high"] == 1).all()
    out = funnel_limits(0.2, 40)
    assert out.columns.tolist() == ["volume", "confidence_level", "low", "high"]
    assert out["confidence_level"].tolist() == [0.95, 0.998]
    wide, narrow = out["high"] - out["low"]
    assert narrow > wide  # 99.8 % limits are wider
    assert out["volume"].dtype == np.int64


@pytest.mark.parametrize("volumes", [[0], [2.5], [-3], [np.nan]])
def test_funnel_limits_bad_volumes(volumes):
    _raises(
        VALUE,
        "error.volumes",
        lambda: funnel_limits(0.2, volumes),
        value=repr(volumes[0]),
        index=0,
    )


def test_funnel_limits_volumes_of_the_wrong_type():
    _raises(
        TYPE,
        "error.type_number",
        lambda: funnel_limits(0.2, [10, "x"]),
        name="volumes[1]",
        value="'x'",
        type="str",
    )


def test_funnel_limits_bad_ratio_and_level():
    _raises(
        VALUE, "error.ratio_range", lambda: funnel_limits(1.2, [10]), name="team_ratio", value=1.2
    )
    _raises(
        VALUE,
        "error.confidence_level",
        lambda: funnel_limits(0.2, [10], confidence_level=(0.95, 1.0)),
        value=1.0,
    )
    _raises(
        VALUE,
        "error.confidence_level",
        lambda: funnel_limits(0.2, [10], confidence_level=()),
        value="[]",
    )


# ------------------------------------------------------------------ p_chart
def test_p_chart_limits_by_hand():
    counts = pd.DataFrame(
        {
            "period": ["w1", "w2", "w3", "w4", "w5"],
            "connects": [100, 120, 90, 110, 4],
            "meetings": [20, 25, 3, 22, 4],
        }
    )
    chart = p_chart(_log(counts))
    assert isinstance(chart, PChart)
    frame = chart.to_frame()
    n = counts["connects"].to_numpy(float)
    k = counts["meetings"].to_numpy(float)
    p = k.sum() / n.sum()
    se = np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(frame["centre"], p, rtol=1e-15)
    np.testing.assert_allclose(frame["low"], np.maximum(p - 3 * se, 0), rtol=1e-12)
    np.testing.assert_allclose(frame["high"], np.minimum(p + 3 * se, 1), rtol=1e-12)
    assert frame["low"].iloc[4] == 0.0  # 4 connects: p - 3 se < 0, clipped
    assert frame["signal"].tolist() == ["", "", "below", "", "above"]  # 4/4 = 100 % > high
    assert chart.flagged["period"].tolist() == ["w3", "w5"]
    two = p_chart(_log(counts), sigmas=2)
    np.testing.assert_allclose(two.to_frame()["high"], np.minimum(p + 2 * se, 1), rtol=1e-12)
    known = p_chart(_log(counts), centre=0.25).to_frame()
    se = np.sqrt(0.25 * 0.75 / n)
    np.testing.assert_allclose(known["low"], np.maximum(0.25 - 3 * se, 0), rtol=1e-12)


def test_p_chart_in_control_flags_about_0_27_percent(rng):
    """40,000 in-control weeks: the flag rate equals the exact binomial probability of falling
    outside the limits within 4 standard errors, and that probability is the normal 0.27 %
    to within 0.0004 (binomial skewness at n >= 500)."""
    weeks = 40_000
    n = rng.integers(500, 3001, size=weeks)
    k = rng.binomial(n, 0.3)
    table = pd.DataFrame(
        {"period": np.arange(weeks), "stage": "meetings", "entered": n, "passed": k}
    )
    frame = p_chart(table).to_frame()
    low, high = frame["low"].to_numpy(), frame["high"].to_numpy()
    outside = stats.binom.cdf(np.ceil(low * n) - 1, n, 0.3) + stats.binom.sf(
        np.floor(high * n), n, 0.3
    )
    expected = outside.mean()
    se = math.sqrt(expected * (1 - expected) / weeks)
    observed = (frame["signal"] != "").mean()
    assert abs(observed - expected) < 4 * se
    assert abs(expected - 2 * stats.norm.sf(3)) < 0.0004


def test_p_chart_flags_an_injected_shift(rng):
    n = np.full(52, 400)
    p = np.where(np.arange(52) < 40, 0.3, 0.15)  # the last 12 weeks fall to half
    k = rng.binomial(n, p)
    counts = pd.DataFrame(
        {
            "period": pd.date_range("2025-01-06", periods=52, freq="W-MON"),
            "connects": n,
            "meetings": k,
        }
    )
    frame = p_chart(_log(counts)).to_frame()
    shifted = frame["signal"].to_numpy()[40:]
    # each shifted week is missed with probability about 0.003 (2.7 sd inside the limit)
    assert (shifted == "below").sum() >= 11
    assert not (frame["signal"].to_numpy()[:40] == "below").any()
    text = repr(p_chart(_log(counts)))
    assert "meetings 2025-10-13: " in text and "00:00:00" not in text  # week 41, a Monday
    # a known centre from the stable months flags the shift as well
    known = p_chart(_log(counts), centre=0.3).to_frame()
    assert (known["signal"].to_numpy()[40:] == "below").sum() >= 11


def test_p_chart_per_group_has_its_own_centre():
    counts = pd.DataFrame(
        {
            "period": ["w1", "w2", "w1", "w2"],
            "rep": ["ann", "ann", "bob", "bob"],
            "connects": [100, 100, 50, 50],
            "meetings": [10, 20, 20, 30],
        }
    )
    chart = p_chart(_log(counts), by="rep")
    frame = chart.to_frame()
    assert frame.columns.tolist()[:3] == ["rep", "period", "stage"]
    centre = frame.groupby("rep")["centre"].first()
    assert centre["ann"] == pytest.approx(0.15) and centre["bob"] == pytest.approx(0.5)
    assert "per rep" in repr(chart)


def test_p_chart_from_a_lead_log_and_a_fit():
    leads = pd.DataFrame({"period": ["w1"] * 4 + ["w2"] * 4})
    reached = pd.DataFrame(
        {"connects": [True] * 8, "meetings": [True, False, False, False, True, True, False, True]}
    )
    log = Log("leads", ("connects", "meetings"), leads=leads, reached=reached)
    frame = p_chart(log).to_frame()
    assert frame["passed"].tolist() == [1, 3] and frame["entered"].tolist() == [4, 4]
    pd.testing.assert_frame_equal(p_chart(fit(log, by="period")).to_frame(), frame)


def test_p_chart_multi_step_and_empty_periods():
    counts = pd.DataFrame(
        {"period": [1, 2, 3], "dials": [50, 0, 60], "connects": [20, 0, 30], "meetings": [5, 0, 6]}
    )
    chart = p_chart(_log(counts, ("dials", "connects", "meetings")))
    frame = chart.to_frame()
    assert frame["stage"].tolist() == ["connects"] * 3 + ["meetings"] * 3
    empty = frame[frame["period"] == 2]
    assert empty["ratio"].isna().all() and (empty["signal"] == "").all()
    assert p_chart(_log(counts, ("dials", "connects", "meetings")), stage="meetings").stages == (
        "meetings",
    )


def test_p_chart_bad_input():
    log = _log(FOUR)
    _raises(VALUE, "error.unknown_by", lambda: p_chart(log), value="period")
    counts = _log(FOUR.assign(period="w1"))
    _raises(VALUE, "error.positive", lambda: p_chart(counts, sigmas=0), name="sigmas", value=0)
    _raises(
        VALUE,
        "error.period_in_by",
        lambda: p_chart(counts, by=["rep", "period"]),
        period="'period'",
    )
    _raises(VALUE, "error.ratio_range", lambda: p_chart(counts, centre=1.5), name="centre")
    _raises(VALUE, "error.by_type", lambda: p_chart(counts, period=""), name="period")
    _raises(
        TYPE, "error.by_type", lambda: p_chart(counts, period=None), name="period", type="NoneType"
    )
    _raises(TYPE, "error.type_number", lambda: p_chart(counts, sigmas="3"), name="sigmas")


# ---------------------------------------------------------- diagnose_leaks
LEAK_COUNTS = pd.DataFrame(
    {
        "rep": ["ann", "bob"],
        "dials": [300, 300],
        "connects": [140, 90],
        "meetings": [8, 13],
        "sales": [1, 2],
    }
)
LEAK_STAGES = ("dials", "connects", "meetings", "sales")


def test_leaks_against_a_preset_equal_binomtest_and_holm():
    game = fs.presets.get("daily ratio game")
    res = diagnose_leaks(_log(LEAK_COUNTS, LEAK_STAGES), benchmark=game, by="rep")
    assert isinstance(res, LeakDiagnosis) and res.benchmark == "funnel"
    frame = res.to_frame()
    bench = np.tile(game.funnel.ratios, 2)
    np.testing.assert_allclose(frame["benchmark"], bench)
    ref = [
        stats.binomtest(int(k), int(n), p, alternative="less").pvalue
        for k, n, p in zip(frame["passed"], frame["entered"], bench, strict=True)
    ]
    np.testing.assert_allclose(frame["p_value"], ref, rtol=1e-10)
    np.testing.assert_allclose(
        frame["p_adjusted"], multipletests(ref, method="holm")[1], rtol=1e-10
    )
    assert frame["leak"].tolist() == [False, True, False, True, False, False]
    assert frame["kind"].tolist() == ["top", "middle", "bottom"] * 2
    leaks = res.leaks
    assert leaks[["rep", "stage"]].values.tolist() == [["ann", "meetings"], ["bob", "connects"]]
    assert leaks["cause"].tolist() == ["middle", "top"]  # identifiers; in words:
    assert "slow follow-up" in leak_cause(leaks["cause"].iloc[0])
    assert "poor lead lists" in leak_cause(leaks["cause"].iloc[1])
    assert (frame.loc[~frame["leak"], "cause"] == "").all() and leak_cause("") == ""
    with fs.language("zh"):  # the table does not change with the language, the words do
        assert (
            diagnose_leaks(_log(LEAK_COUNTS, LEAK_STAGES), benchmark=game, by="rep")
            .to_frame()["cause"]
            .equals(frame["cause"])
        )
        assert leak_cause("middle") == fs.t("leak.cause.middle") != leak_cause("top")
    low, high = proportion_confint(frame["passed"], frame["entered"], method="wilson")
    np.testing.assert_allclose(frame["low"], low, atol=1e-10)
    np.testing.assert_allclose(frame["high"], high, atol=1e-10)


def test_three_out_of_forty_is_not_yet_a_leak():
    """DOMAIN.md §4: 3 meetings out of 40 connects against a 15 % benchmark is uncertain."""
    log = _log(pd.DataFrame({"connects": [40], "meetings": [3]}))
    res = diagnose_leaks(log, benchmark={"meetings": 0.15})
    row = res.to_frame().iloc[0]
    assert row["status"] == "below" and not row["leak"]
    assert row["p_value"] == pytest.approx(stats.binom.cdf(3, 40, 0.15))
    messages = res.messages()
    assert messages[0].startswith("No ratio is significantly below")
    assert "within chance" in messages[1] and "3/40 = 7.5%" in messages[1]
    many = _log(pd.DataFrame({"connects": [4000], "meetings": [300]}))  # the same 7.5 %
    assert diagnose_leaks(many, benchmark={"meetings": 0.15}).to_frame()["leak"].iloc[0]


def test_team_benchmark_is_the_rest_of_the_team():
    counts = pd.DataFrame(
        {"rep": ["a", "b", "c"], "connects": [100, 200, 300], "meetings": [5, 40, 60]}
    )
    res = diagnose_leaks(_log(counts), benchmark="team", by="rep")
    frame = res.to_frame()
    np.testing.assert_allclose(frame["benchmark"], [100 / 500, 65 / 400, 45 / 300])
    assert res.benchmark == "team"
    assert frame["leak"].tolist() == [True, False, False]
    assert frame["kind"].tolist() == ["whole"] * 3  # a single step is the whole funnel
    # the same from a fit with by=, and from its table
    via_fit = diagnose_leaks(fit(_log(counts), by="rep"), benchmark="team").to_frame()
    pd.testing.assert_frame_equal(via_fit, frame)


def test_mapping_benchmark_tests_only_the_steps_given():
    res = diagnose_leaks(_log(LEAK_COUNTS, LEAK_STAGES), benchmark={"sales": 0.5}, by="rep")
    frame = res.to_frame()
    assert frame["stage"].tolist() == ["sales", "sales"] and res.benchmark == "ratios"
    assert frame["kind"].tolist() == ["bottom", "bottom"]


def test_funnel_benchmark_matched_by_name_or_position():
    log = _log(LEAK_COUNTS, LEAK_STAGES)
    same_names = fs.Funnel(LEAK_STAGES, (0.5, 0.1, 0.2))
    frame = diagnose_leaks(log, benchmark=same_names, by="rep").to_frame()
    assert frame["benchmark"].tolist()[:3] == [0.5, 0.1, 0.2]
    other_names = fs.Funnel(("a", "b", "c", "d"), (0.4, 0.3, 0.2))
    frame = diagnose_leaks(log, benchmark=other_names).to_frame()  # pooled: one funnel
    assert frame["benchmark"].tolist() == [0.4, 0.3, 0.2]
    assert frame["passed"].tolist() == [230, 21, 3]
    _raises(
        VALUE,
        "error.leak_funnel_steps",
        lambda: diagnose_leaks(log, benchmark=fs.Funnel(("x", "y"), (0.3,))),
        n_funnel=1,
        n_steps=3,
        steps="connects, meetings, sales",
    )


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (1, ["whole"]),
        (2, ["top", "bottom"]),
        (3, ["top", "middle", "bottom"]),
        (4, ["top", "middle", "middle", "bottom"]),
        (5, ["top", "top", "middle", "bottom", "bottom"]),
        (6, ["top", "top", "middle", "middle", "bottom", "bottom"]),
    ],
)
def test_kinds_by_position(steps, expected):
    stages = tuple(f"s{i}" for i in range(steps + 1))
    counts = pd.DataFrame({s: [100 - i] for i, s in enumerate(stages)})
    res = diagnose_leaks(_log(counts, stages), benchmark={s: 0.5 for s in stages[1:]})
    assert res.to_frame()["kind"].tolist() == expected
    assert set(expected) <= set(KINDS)


def test_explicit_kinds_override_the_position():
    counts = pd.DataFrame({"a": [100], "b": [10], "c": [1]})
    res = diagnose_leaks(
        _log(counts, "abc"), benchmark={"b": 0.5, "c": 0.5}, kinds={"b": "middle"}
    )
    frame = res.to_frame()
    assert frame["kind"].tolist() == ["middle", "bottom"]
    assert frame["leak"].all()
    assert frame["cause"].tolist() == ["middle", "bottom"]
    assert "appointment setting" in leak_cause(frame["cause"].iloc[0])
    assert "weak closing" in leak_cause(frame["cause"].iloc[1])
    log = _log(counts, "abc")
    _raises(
        VALUE,
        "error.choice",
        lambda: diagnose_leaks(log, benchmark={"b": 0.5}, kinds={"b": "low"}),
        name="kinds['b']",
        value="'low'",
        choices="top, middle, bottom, whole",
    )
    _raises(
        VALUE,
        "error.unknown_ratio_stage",
        lambda: diagnose_leaks(log, benchmark={"b": 0.5}, kinds={"z": "top"}),
        value="'z'",
    )
    _raises(
        TYPE,
        "error.leak_kinds",
        lambda: diagnose_leaks(log, benchmark={"b": 0.5}, kinds=["top"]),
        name="kinds",
        type="list",
    )


def test_leak_tests_hold_their_family_wise_error_rate(rng):
    """Reps exactly at the benchmark: with Holm over 3 steps x 4 reps, the share of teams with
    any leak flagged is at most 5 % (the exact one-sided test is conservative); 4 SE slack."""
    teams = 600
    flagged = 0
    ratios = {"connects": 0.45, "meetings": 0.15, "sales": 0.125}
    for _ in range(teams):
        dials = rng.integers(150, 400, size=4)
        connects = rng.binomial(dials, 0.45)
        meetings = rng.binomial(connects, 0.15)
        sales = rng.binomial(meetings, 0.125)
        table = pd.DataFrame(
            {
                "rep": list("abcd"),
                "dials": dials,
                "connects": connects,
                "meetings": meetings,
                "sales": sales,
            }
        )
        res = diagnose_leaks(_log(table, LEAK_STAGES), benchmark=ratios, by="rep")
        flagged += bool(res.table["leak"].any())
    assert flagged / teams <= 0.05 + 4 * math.sqrt(0.05 * 0.95 / teams)


def test_diagnose_leaks_bad_input():
    log = _log(LEAK_COUNTS, LEAK_STAGES)
    _raises(VALUE, "error.leak_team_by", lambda: diagnose_leaks(log, benchmark="team"))
    _raises(
        VALUE,
        "error.choice",
        lambda: diagnose_leaks(log, benchmark="preset"),
        name="benchmark",
        value="'preset'",
        choices="team",
    )
    _raises(
        TYPE,
        "error.leak_benchmark",
        lambda: diagnose_leaks(log, benchmark=0.2),
        name="benchmark",
        value="0.2",
        type="float",
    )
    _raises(VALUE, "error.leak_benchmark", lambda: diagnose_leaks(log, benchmark={}), value="{}")
    _raises(
        VALUE,
        "error.ratio_range",
        lambda: diagnose_leaks(log, benchmark={"sales": 1.5}),
        name="benchmark['sales']",
        value=1.5,
    )
    _raises(
        VALUE,
        "error.first_stage_ratio",
        lambda: diagnose_leaks(log, benchmark={"dials": 0.5}),
        stage="'dials'",
    )
    _raises(VALUE, "error.leak_team_by", lambda: diagnose_leaks(fit(log), benchmark="team"))


def test_leak_messages_and_repr():
    res = diagnose_leaks(
        _log(LEAK_COUNTS, LEAK_STAGES), benchmark=fs.presets.get("daily ratio game"), by="rep"
    )
    messages = res.messages()
    assert messages[0].startswith("ann: meetings 8/140 = 5.7% against 14.3%")
    assert messages[1].startswith("bob: connects 90/300 = 30.0% against 46.7%")
    text = repr(res)
    assert text.startswith("LeakDiagnosis(against funnel, holm, 95%: 2 leak(s)")
    assert "likely causes" in text


# ----------------------------------------------------------- pipelines
@pytest.mark.parametrize(
    ("snapshot", "shape", "words"),
    [
        ({"25%": 12, "50%": 6, "90%": 3}, "healthy", "broad base"),
        ({"25%": 2, "50%": 4, "90%": 9}, "top-heavy", "nobody is prospecting"),
        ({"25%": 1, "50%": 0, "90%": 1}, "empty", "Prospect now"),
        ({"25%": 4, "50%": 15, "90%": 2}, "stuck in the middle", "15 leads sit at 50%"),
        ({"25%": 0, "50%": 0, "90%": 0}, "empty", "Only 0 leads"),
        ({"25%": 0, "50%": 5, "90%": 5}, "top-heavy", "5 leads at 90%"),
        ({"25%": 0, "50%": 6, "90%": 2}, "stuck in the middle", "6 leads sit at 50%"),
        ({"25%": 10, "90%": 9}, "top-heavy", "9 leads at 90%"),
        ({"25%": 10, "90%": 3}, "healthy", "down to 3 at 90%"),
        ({"E": 40, "D": 20, "C": 10, "B": 25, "A": 5}, "stuck in the middle", "25 leads sit at B"),
    ],
)
def test_each_pipeline_shape(snapshot, shape, words):
    res = diagnose_pipeline(snapshot)
    assert isinstance(res, PipelineDiagnosis)
    assert res.shape == shape and shape in SHAPES
    assert words in res.reason
    assert res.counts.index.tolist() == list(snapshot)


def test_pipeline_thresholds_are_keyword_arguments():
    snap = {"25%": 12, "50%": 10, "90%": 3}
    assert diagnose_pipeline(snap).shape == "stuck in the middle"  # 10 >= 0.8 * 12
    assert diagnose_pipeline(snap, bulge=0.9).shape == "healthy"
    assert diagnose_pipeline({"a": 10, "b": 2, "c": 6}).shape == "healthy"  # 6 < 0.8 * 10
    assert diagnose_pipeline({"a": 10, "b": 2, "c": 6}, top_heavy=0.5).shape == "top-heavy"
    assert diagnose_pipeline({"a": 3, "b": 1}, min_total=5).shape == "empty"
    assert diagnose_pipeline({"a": 3, "b": 1}, min_total=2).shape == "healthy"


def test_pipeline_inputs_series_sequence_and_order():
    series = pd.Series({"90%": 3, "25%": 12, "50%": 6})
    assert diagnose_pipeline(series, stages=["25%", "50%", "90%"]).shape == "healthy"
    assert diagnose_pipeline(series).shape == "stuck in the middle"  # taken in its own order
    res = diagnose_pipeline([12.5, 6.0, 3.25], stages=["25%", "50%", "90%"])  # deal values
    frame = res.to_frame()
    assert frame["stage"].tolist() == ["25%", "50%", "90%"]
    assert frame["share"].sum() == pytest.approx(1.0)
    assert diagnose_pipeline([5, 3, 1]).counts.index.tolist() == ["1", "2", "3"]
    assert diagnose_pipeline({"a": 0, "b": 0}).to_frame()["share"].isna().all()
    assert repr(diagnose_pipeline([12, 6, 3])).startswith("PipelineDiagnosis(healthy; 1: 12")


@pytest.mark.parametrize(
    ("snapshot", "kwargs", "key", "values"),
    [
        ({"25%": 5}, {}, "error.snapshot_few", {"count": 1}),
        ([7], {}, "error.snapshot_few", {"count": 1}),
        ({}, {}, "error.snapshot_few", {"count": 0}),
        ({"25%": 5, "50%": -1}, {}, "error.snapshot_count", {"stage": "50%", "value": "-1"}),
        ({"25%": 5, "50%": float("nan")}, {}, "error.snapshot_count", {"value": "nan"}),
        ({"25%": 5, "50%": True}, {}, "error.snapshot_count", {"value": "True"}),
        ([1, 2], {"stages": ["a"]}, "error.snapshot_names", {"n_names": 1, "n_counts": 2}),
        ({"a": 1, "b": 2}, {"stages": ["a", "c"]}, "error.unknown_stage", {"value": "'c'"}),
        ({"a": 1, "b": 2}, {"min_total": -1}, "error.nonnegative", {"name": "min_total"}),
    ],
)
def test_pipeline_bad_input(snapshot, kwargs, key, values):
    _raises(VALUE, key, lambda: diagnose_pipeline(snapshot, **kwargs), **values)


@pytest.mark.parametrize(
    ("snapshot", "kwargs", "key", "values"),
    [
        ({"25%": 5, "50%": "3"}, {}, "error.snapshot_count", {"stage": "50%", "value": "'3'"}),
        ("12,6,3", {}, "error.snapshot_type", {"name": "snapshot", "type": "str"}),
        (12, {}, "error.snapshot_type", {"value": "12", "type": "int"}),
        ({"a": 1, "b": 2}, {"bulge": "x"}, "error.type_number", {"name": "bulge", "type": "str"}),
    ],
)
def test_pipeline_input_of_the_wrong_type(snapshot, kwargs, key, values):
    _raises(TYPE, key, lambda: diagnose_pipeline(snapshot, **kwargs), **values)


# ------------------------------------------------------------- Simpson
def test_simpson_example_reverses():
    res = simpson_check(simpson_example())
    assert isinstance(res, SimpsonCheck) and res.reversed
    assert res.reversals[["better", "worse"]].values.tolist() == [["ann", "bob"]]
    row = res.reversals.iloc[0]
    assert row["better_pooled"] == pytest.approx(90 / 700)
    assert row["worse_pooled"] == pytest.approx(148 / 600)
    assert row["sources"] == 2
    table = res.table.set_index(["rep", "source"])["ratio"]
    assert table[("ann", "referral")] > table[("bob", "referral")]
    assert table[("ann", "cold list")] > table[("bob", "cold list")]
    assert "ann has the higher ratio with every source" in repr(res)
    with fs.language("zh"):  # sample data and the pooled rows' label are identifiers
        chinese = simpson_check(simpson_example())
        assert chinese.to_frame().equals(res.to_frame())
        assert simpson_example().stages == ("connects", "meetings")
        assert fs.t("simpson.all") in repr(chinese)


def test_simpson_without_reversal():
    counts = pd.DataFrame(
        {
            "rep": ["ann", "ann", "bob", "bob"],
            "source": ["ref", "cold", "ref", "cold"],
            "connects": [100, 100, 100, 100],
            "meetings": [30, 10, 20, 5],
        }
    )
    res = simpson_check(_log(counts))
    assert not res.reversed and res.reversals.empty
    assert "No ranking reverses" in repr(res)
    frame = res.to_frame()
    pooled = frame[frame["source"] == "all"].set_index("rep")["ratio"]
    assert pooled["ann"] == pytest.approx(0.2) and pooled["bob"] == pytest.approx(0.125)


def test_simpson_with_three_reps_lead_logs_and_overall_rate():
    # a lead-level log with three stages; by default the overall rate (dials -> meetings)
    rows = []
    plan = {  # rep, source: (dials, meetings)
        ("ann", "ref"): (10, 4),
        ("ann", "cold"): (90, 9),
        ("bob", "ref"): (80, 24),
        ("bob", "cold"): (20, 1),
        ("cy", "ref"): (50, 10),
        ("cy", "cold"): (50, 4),
    }
    for (rep, source), (dials, meetings) in plan.items():
        for i in range(dials):
            rows.append((rep, source, True, i < meetings + 2, i < meetings))
    frame = pd.DataFrame(rows, columns=["rep", "source", "dials", "connects", "meetings"])
    log = Log(
        "leads",
        ("dials", "connects", "meetings"),
        leads=frame[["rep", "source"]],
        reached=frame[["dials", "connects", "meetings"]],
    )
    res = simpson_check(log)
    assert res.stage == "overall"
    pairs = sorted(map(tuple, res.reversals[["better", "worse"]].values.tolist()))
    # ann beats bob (40 % > 30 %, 10 % > 5 %) but pools at 13 % against 25 %;
    # ann beats cy in both (40 > 20, 10 > 8) but pools at 13 % against 14 %.
    assert pairs == [("ann", "bob"), ("ann", "cy")]
    step = simpson_check(log, stage="connects")
    assert step.stage == "connects"
    counts = pd.DataFrame(
        {"rep": ["a", "b"], "source": ["x", "x"], "connects": [10, 10], "meetings": [5, 2]}
    )
    assert not simpson_check(_log(counts)).reversed


def test_simpson_bad_input():
    log = simpson_example()
    _raises(
        VALUE,
        "error.simpson_same",
        lambda: simpson_check(log, by="rep", within="rep"),
        value="'rep'",
    )
    _raises(
        VALUE, "error.unknown_by", lambda: simpson_check(log, within="channel"), value="channel"
    )
    _raises(TYPE, "error.by_type", lambda: simpson_check(log, by=3), name="by", type="int")
    _raises(TYPE, "error.by_type", lambda: simpson_check(log, within=["source"]), name="within")


def test_compare_groups_by_two_columns():
    res = compare_groups(simpson_example(), by=["rep", "source"])
    assert res.by == ("rep", "source")
    assert res.groups == [
        ("ann", "cold list"),
        ("ann", "referral"),
        ("bob", "cold list"),
        ("bob", "referral"),
    ]
    frame = res.to_frame()
    assert frame.columns.tolist()[:3] == ["rep", "source", "stage"]
    assert "ann, cold list: 60/600 = 10%" in repr(res)


# ------------------------------------------------ the vectorised Fisher test
def _fisher_tables() -> np.ndarray:
    """Random 2 x 2 tables from tiny to large counts, and the edge cases."""
    gen = np.random.default_rng(20261123)
    random = [gen.integers(0, scale, size=(150, 4)) for scale in (3, 10, 60, 500, 10_000, 300_000)]
    edges = [
        [0, 0, 0, 0],  # empty
        [0, 5, 0, 7],  # a zero column
        [3, 0, 4, 0],
        [0, 0, 3, 4],  # a zero row
        [5, 5, 5, 5],  # the observed table is the mode
        [1, 2, 2, 1],
        [10, 0, 0, 10],  # the most extreme tables, both ways
        [0, 10, 10, 0],
        [1, 0, 0, 0],
        [1_000_000, 3, 999_990, 20],  # tails that underflow
        [6, 4, 60, 40],
    ]
    return np.concatenate([*random, np.array(edges)])


def test_vectorised_fisher_equals_scipy_table_by_table():

    tables = _fisher_tables()
    got = fisher_two_sided(*tables.T)
    want = [stats.fisher_exact([[a, b], [c, d]]).pvalue for a, b, c, d in tables]
    # the same algorithm and the same scipy calls, so the same numbers to rounding
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert got.shape == (len(tables),)
    assert (got[-11:-7] == 1.0).all()  # empty, zero column or row, the mode itself
