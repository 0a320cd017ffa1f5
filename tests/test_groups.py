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
from keyed import raises
from scipy import optimize, special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim.diagnose import (
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
    raises(VALUE, "error.pvalues", lambda: adjust_pvalues(bad), value=first)


def test_adjust_rejects_unknown_method():
    raises(
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
    raises(VALUE, key, lambda: fit_beta_binomial(passed, entered), **values)


def test_beta_binomial_bad_cap():
    raises(
        VALUE,
        "error.at_least",
        lambda: fit_beta_binomial([1, 2], [5, 5], max_precision=0.5),
        name="max_precision",
        value=0.5,
        minimum=1,
    )
    raises(
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
        raises(VALUE, key, lambda kwargs=kwargs: compare_groups(log, **kwargs), **values)
    raises(
        VALUE,
        "error.groups_too_few",
        lambda: compare_groups(_log(FOUR.iloc[:1]), by="rep"),
        by="rep",
        count=1,
    )
    missing = pd.DataFrame({"rep": ["a"], "stage": ["m"], "passed": [1]})
    raises(
        VALUE,
        "error.table_columns",
        lambda: compare_groups(missing, by="rep"),
        function="compare_groups",
        missing="'entered'",
    )
    rising = pd.DataFrame({"rep": ["a", "b"], "stage": "m", "entered": [1, 5], "passed": [2, 1]})
    raises(
        VALUE,
        "error.passed_above_entered",
        lambda: compare_groups(rising, by="rep"),
        passed="2",
        entered="1",
    )


def test_compare_groups_input_of_the_wrong_type_is_a_type_error():
    log = _log(FOUR)
    raises(
        TYPE,
        "error.groups_source",
        lambda: compare_groups([1, 2], by="rep"),
        function="compare_groups",
        name="log",
        type="list",
    )
    raises(TYPE, "error.by_type", lambda: compare_groups(log, by=3), name="by", type="int")
    raises(TYPE, "error.type_choice", lambda: compare_groups(log, by="rep", method=None))


def test_compare_groups_repr_is_readable():
    text = repr(compare_groups(_log(FOUR), by="rep"))
    assert text.startswith("GroupComparison(by rep; Wilson 95%; holm; 4 groups")
    assert "meetings: team 17.7% (46/260)" in text
    assert "cy: 25/90 = 27.8%" in text and text.rstrip().endswith(")")


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
    assert "ann, cold list: 90/600 = 15%" in repr(res)


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
