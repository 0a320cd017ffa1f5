"""Ratios with intervals: statsmodels agreement, fits on hand-built logs, coverage, planner.

Reference intervals come from ``statsmodels.stats.proportion.proportion_confint``
(an independent implementation); coverage and planner checks compare with
brute force or simulation at tolerances of about 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim.estimate import OVERALL_DRAWS, Fit, Overall, fit
from funnelsim.intervals import (
    CI,
    METHODS,
    calls_for_overall_precision,
    calls_for_precision,
    coverage,
    exact_coverage,
    proportion_ci,
)
from funnelsim.logs import Log

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


def _check_error(err: pytest.ExceptionInfo, key: str, values: dict) -> None:
    """The error's catalogue key, and the values its message was filled with."""
    assert err.value.key == key
    for name, value in values.items():
        assert err.value.values[name] == value, name


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
    _check_error(err, key, values)


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
    _check_error(err, key, values)


@pytest.mark.parametrize(("passed", "kind"), [("3", "str"), (None, "NoneType"), (["a"], "list")])
def test_counts_of_the_wrong_type_are_a_type_error(passed, kind):
    with pytest.raises(fs.FunnelsimTypeError) as err:
        proportion_ci(passed, 40)
    _check_error(err, "error.type_numbers", {"name": "passed", "type": kind})


# --------------------------------------------------------------------- logs
STAGES = ("dials", "connects", "meetings", "sales")


def _leads_log() -> Log:
    """12 leads, two reps and two sources; counts worked out by hand below."""
    reached = pd.DataFrame(
        {
            "dials": [True] * 12,
            "connects": [True] * 5 + [False] + [True] * 3 + [False] * 3,
            "meetings": [True, True, False, False, False, False, True, False, False] + [False] * 3,
            "sales": [True] + [False] * 11,
        }
    )
    leads = pd.DataFrame(
        {
            "rep": ["ann"] * 6 + ["bob"] * 6,
            "source": ["web", "web", "list", "list", "web", "list"] * 2,
        }
    )
    return Log("leads", STAGES, leads=leads, reached=reached)


def test_fit_on_a_leads_log_pooled():
    f = fit(_leads_log(), method="clopper-pearson", confidence_level=0.9)
    frame = f.to_frame()
    assert list(frame.columns) == ["stage", "entered", "passed", "ratio", "low", "high"]
    assert frame["stage"].tolist() == ["connects", "meetings", "sales"]
    assert frame["entered"].tolist() == [12, 8, 3]
    assert frame["passed"].tolist() == [8, 3, 1]
    np.testing.assert_allclose(frame["ratio"], [8 / 12, 3 / 8, 1 / 3])
    ref = _sm(np.array([8, 3, 1]), np.array([12, 8, 3]), 0.9, "clopper-pearson")
    np.testing.assert_allclose(frame["low"], ref[0], atol=1e-10)
    np.testing.assert_allclose(frame["high"], ref[1], atol=1e-10)
    assert isinstance(f, Fit) and f.by == () and f.groups == []
    assert f.overall.ratio == pytest.approx(1 / 12)


def test_fit_on_a_leads_log_by_rep_and_by_two_columns():
    log = _leads_log()
    by_rep = fit(log, by="rep").to_frame()
    assert list(by_rep.columns) == ["rep", "stage", "entered", "passed", "ratio", "low", "high"]
    ann = by_rep[by_rep["rep"] == "ann"]
    assert ann["entered"].tolist() == [6, 5, 2] and ann["passed"].tolist() == [5, 2, 1]
    bob = by_rep[by_rep["rep"] == "bob"]
    assert bob["entered"].tolist() == [6, 3, 1] and bob["passed"].tolist() == [3, 1, 0]
    ref = _sm(bob["passed"].to_numpy(), bob["entered"].to_numpy(), 0.95, "wilson")
    np.testing.assert_allclose(bob["low"], ref[0], atol=1e-10)

    two = fit(log, by=["rep", "source"])
    assert list(two.to_frame().columns[:2]) == ["rep", "source"]
    assert set(two.groups) == {("ann", "web"), ("ann", "list"), ("bob", "web"), ("bob", "list")}
    # the groups add up to the pooled counts
    pooled = fit(log).to_frame()
    sums = two.to_frame().groupby("stage", sort=False)[["entered", "passed"]].sum()
    assert sums["entered"].tolist() == pooled["entered"].tolist()
    assert sums["passed"].tolist() == pooled["passed"].tolist()


def _counts_log() -> Log:
    counts = pd.DataFrame(
        {
            "period": ["w1", "w1", "w2", "w2"],
            "rep": ["ann", "bob", "ann", "bob"],
            "dials": [75, 75, 75, 75],
            "connects": [35, 20, 36, 20],
            "meetings": [5, 1, 5, 2],
            "sales": [1, 0, 0, 0],
        }
    )
    return Log("counts", STAGES, counts=counts)


def test_fit_on_a_counts_log_by_rep_and_by_period():
    log = _counts_log()
    by_rep = fit(log, by="rep", method="jeffreys").to_frame()
    ann = by_rep[by_rep["rep"] == "ann"]
    assert ann["entered"].tolist() == [150, 71, 10] and ann["passed"].tolist() == [71, 10, 1]
    ref = _sm(ann["passed"].to_numpy(), ann["entered"].to_numpy(), 0.95, "jeffreys")
    np.testing.assert_allclose(ann["high"], ref[1], atol=1e-10)
    by_week = fit(log, by="period").to_frame()
    assert by_week[by_week["period"] == "w2"]["passed"].tolist() == [56, 7, 0]


def test_group_gives_the_fit_of_that_group_alone():
    log = _counts_log()
    f = fit(log, by="rep")
    alone = fit(Log("counts", STAGES, counts=log.counts[log.counts["rep"] == "bob"]))
    pd.testing.assert_frame_equal(f.group("bob").to_frame(), alone.to_frame())
    assert f.groups == ["ann", "bob"]
    two = fit(log, by=["period", "rep"])
    assert two.group(("w2", "ann")).to_frame()["passed"].tolist() == [36, 5, 0]
    with pytest.raises(fs.FunnelsimValueError) as err:
        f.group("carl")
    _check_error(
        err, "error.unknown_group", {"value": "'carl'", "by": "rep", "choices": "ann, bob"}
    )
    with pytest.raises(fs.FunnelsimValueError) as err:
        two.group("ann")  # two by columns need a tuple
    _check_error(err, "error.unknown_group", {"value": "'ann'", "by": "period, rep"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(log).group("ann")
    _check_error(err, "error.fit_not_grouped", {})


def test_to_funnel_gives_the_point_estimates():
    f = fit(_counts_log())
    funnel = f.to_funnel()
    assert isinstance(funnel, fs.Funnel) and funnel.stages == STAGES
    assert funnel.ratios == pytest.approx((111 / 300, 13 / 111, 1 / 13))
    assert funnel.overall == pytest.approx(f.overall.ratio)
    assert f.funnels_by_group() == {None: funnel}
    grouped = fit(_counts_log(), by="rep")
    per_rep = grouped.funnels_by_group()
    assert list(per_rep) == ["ann", "bob"]
    assert per_rep["bob"].ratios == pytest.approx((40 / 150, 3 / 40, 0 / 3))
    assert grouped.group("bob").to_funnel() == per_rep["bob"]


@pytest.mark.parametrize(
    ("method", "args", "by_group"),
    [
        ("to_funnel", (), "funnels_by_group"),
        ("sample_ratios", (3,), "sample_ratios_by_group"),
        ("sample_funnels", (3,), "sample_funnels_by_group"),
    ],
)
def test_a_grouped_fit_has_no_single_funnel_and_says_which_method_gives_them(
    method, args, by_group
):
    """One return type per method: a grouped fit raises and names the dict-valued method."""
    grouped = fit(_counts_log(), by="rep")
    with pytest.raises(fs.FunnelsimValueError) as err:
        getattr(grouped, method)(*args)
    _check_error(err, "error.fit_grouped_funnel", {"method": method, "by_group": by_group})
    assert err.value.values["by"] == "rep" and err.value.values["groups"] == 2


def test_sample_funnels_follow_the_beta_posteriors(rng):
    f = fit(_counts_log())
    draws = f.sample_ratios(20_000, rng=rng)
    assert draws.shape == (20_000, 3)
    k = np.array([111, 13, 1])
    n = np.array([300, 111, 13])
    post = stats.beta(k + 0.5, n - k + 0.5)
    se = post.std() / math.sqrt(20_000)
    assert np.all(np.abs(draws.mean(axis=0) - post.mean()) < 4 * se)
    funnels = f.sample_funnels(5, rng=7)
    assert len(funnels) == 5 and all(isinstance(x, fs.Funnel) for x in funnels)
    assert [x.ratios for x in funnels] == [x.ratios for x in f.sample_funnels(5, rng=7)]
    np.testing.assert_allclose([x.ratios for x in funnels], f.sample_ratios(5, rng=7))
    pooled = f.sample_ratios_by_group(5, rng=7)
    assert list(pooled) == [None]
    np.testing.assert_array_equal(pooled[None], f.sample_ratios(5, rng=7))
    grouped = fit(_counts_log(), by="rep")
    draws = grouped.sample_ratios_by_group(4, rng=1)
    assert list(draws) == ["ann", "bob"] and all(d.shape == (4, 3) for d in draws.values())
    per_rep = grouped.sample_funnels_by_group(4, rng=1)
    assert list(per_rep) == ["ann", "bob"] and len(per_rep["bob"]) == 4
    np.testing.assert_allclose([x.ratios for x in per_rep["bob"]], draws["bob"])


def test_a_step_without_leads_gives_nan_and_a_note_not_an_exception():
    counts = pd.DataFrame(
        {"rep": ["ann", "bob"], "dials": [50, 10], "connects": [20, 0], "meetings": [4, 0]}
    )
    f = fit(Log("counts", STAGES[:3], counts=counts), by="rep")
    frame = f.to_frame()
    bob = frame[frame["rep"] == "bob"]
    assert bob["ratio"].tolist()[0] == 0.0 and np.isnan(bob["ratio"].tolist()[1])
    assert bob[["low", "high"]].iloc[1].isna().all()
    assert frame[frame["rep"] == "ann"][["ratio", "low", "high"]].notna().all().all()
    assert f.notes == (
        "group bob: no lead reached connects, so the ratio into meetings cannot be "
        "estimated (NaN).",
    )
    assert "note: group bob" in repr(f)
    overall = f.overall.to_frame().set_index("rep")
    assert overall.loc["bob", "ratio"] == 0.0  # last / first is still 0 / 10
    assert np.isnan(overall.loc["bob", "low"]) and np.isnan(overall.loc["bob", "high"])
    assert overall.loc["ann", ["low", "high"]].notna().all()
    assert f.overall.group("bob").ratio == 0.0 and np.isnan(f.overall.group("bob").low)
    assert np.isnan(f.sample_ratios_by_group(3, rng=0)["bob"][:, 1]).all()
    with pytest.raises(fs.FunnelsimValueError) as err:
        f.funnels_by_group()
    _check_error(err, "error.fit_no_funnel", {"group_key": "bob", "stage": "meetings"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        f.sample_funnels_by_group(2, rng=0)
    _check_error(err, "error.fit_no_funnel", {"group_key": "bob", "stage": "meetings"})
    assert f.group("ann").to_funnel().ratios == pytest.approx((0.4, 0.2))


@pytest.mark.parametrize(
    "counts",
    [
        pd.DataFrame({"dials": [0, 0], "connects": [0, 0]}),
        pd.DataFrame({"dials": pd.Series([], dtype=int), "connects": pd.Series([], dtype=int)}),
    ],
)
def test_no_leads_at_the_first_stage_raises(counts):
    log = Log("counts", ("dials", "connects"), counts=counts)
    for by in (None, []):
        with pytest.raises(fs.FunnelsimValueError) as err:
            fit(log, by=by)
        _check_error(err, "error.no_first_leads", {"stage": "dials"})


def test_fit_rejects_bad_input():
    log = _counts_log()
    for wrong, kind in ((log.counts, "DataFrame"), ("abc", "str"), (None, "NoneType")):
        with pytest.raises(fs.FunnelsimTypeError) as err:
            fit(wrong)
        _check_error(err, "error.not_a_log", {"name": "log", "type": kind})
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(log, by="team")
    _check_error(err, "error.unknown_by", {"value": "team"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(log, method="exact")
    _check_error(err, "error.choice", {"name": "method", "value": "'exact'"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(log, confidence_level=1.5)
    _check_error(err, "error.confidence_level", {"value": 1.5})
    rising = Log(
        "counts", ("a", "b"), counts=pd.DataFrame({"rep": ["x", "y"], "a": [5, 5], "b": [3, 6]})
    )
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(rising, by="rep")
    _check_error(
        err,
        "error.fit_counts_rising",
        {"group_key": "y", "stage": "b", "previous": "a", "passed": 6, "entered": 5},
    )
    negative = Log("counts", ("a", "b"), counts=pd.DataFrame({"a": [5, 5], "b": [3, -4]}))
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(negative)
    _check_error(err, "error.count_value", {"name": "b", "value": -1})


def test_repr_is_readable():
    text = repr(fit(_counts_log(), method="agresti-coull", confidence_level=0.9))
    assert text.startswith("Fit(Agresti-Coull 90%: dials -> connects -> meetings -> sales")
    assert "  meetings: 13/111 = 0.117 [" in text and "  overall: 0.00333 [" in text
    grouped = repr(fit(_counts_log(), by=["rep"]))
    assert "by rep: 2 groups" in grouped


# ------------------------------------------------------------------ overall
def test_overall_is_the_product_and_reproducible():
    log = _counts_log()
    first, second = fit(log), fit(log)
    assert isinstance(first.overall, Overall)
    assert first.overall == second.overall  # fixed default seed
    assert first.overall.ratio == pytest.approx(math.prod(first.to_frame()["ratio"]))
    assert first.overall.low < first.overall.ratio < first.overall.high
    assert first.overall_interval(draws=5000, rng=3) == first.overall_interval(draws=5000, rng=3)
    assert first.overall != first.overall_interval(draws=5000, rng=3)
    ratio, low, high = first.overall  # unpacks like the (ratio, low, high) tuple it was
    assert (ratio, low, high) == (first.overall.ratio, first.overall.low, first.overall.high)
    frame = first.overall.to_frame()
    assert list(frame.columns) == ["entered", "passed", "ratio", "low", "high"]
    assert frame.iloc[0].tolist() == [300, 1, ratio, low, high]
    assert first.overall.by == () and first.overall.groups == []
    assert repr(first.overall).startswith("Overall(dials -> sales, 95%: 0.00333 [")


def test_a_grouped_overall_is_one_overall_per_group():
    """The same type with by=: .group(key) gives one group's Overall, .to_frame() the table;
    the single-rate attributes say to use them instead."""
    grouped = fit(_counts_log(), by="rep").overall
    assert isinstance(grouped, Overall) and grouped.groups == ["ann", "bob"]
    ann = grouped.group("ann")
    assert isinstance(ann, Overall) and ann.by == ()
    row = grouped.to_frame().iloc[0]
    assert (ann.ratio, ann.low, ann.high) == (row["ratio"], row["low"], row["high"])
    for attribute in ("ratio", "low", "high"):
        with pytest.raises(fs.FunnelsimValueError) as err:
            getattr(grouped, attribute)
        _check_error(err, "error.overall_grouped", {"attribute": attribute, "by": "rep"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        tuple(grouped)  # ratio, low, high = grouped
    _check_error(err, "error.overall_grouped", {"groups": 2})
    with pytest.raises(fs.FunnelsimValueError) as err:
        grouped.group("carl")
    _check_error(err, "error.unknown_group", {"value": "'carl'", "choices": "ann, bob"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        ann.group("ann")
    _check_error(err, "error.fit_not_grouped", {})
    text = repr(grouped)
    assert text.startswith("Overall(dials -> sales, 95%; by rep: 2 groups")
    assert "\n  ann: 0.00667 [" in text


def test_overall_of_one_step_is_the_jeffreys_interval():
    """One step: the posterior of the product is Beta(k + 1/2, n - k + 1/2) itself.

    The Monte Carlo quantile's standard error is sqrt(q (1 - q) / draws) / pdf.
    """
    log = Log(
        "counts",
        ("connects", "meetings"),
        counts=pd.DataFrame({"connects": [40], "meetings": [3]}),
    )
    overall = fit(log).overall
    ref = proportion_ci(3, 40, method="jeffreys")
    post = stats.beta(3.5, 37.5)
    for got, want, q in [(overall.low, ref.low, 0.025), (overall.high, ref.high, 0.975)]:
        se = math.sqrt(q * (1 - q) / OVERALL_DRAWS) / post.pdf(want)
        assert abs(got - want) < 4 * se


def test_grouped_overall_matches_each_groups_overall():
    """Each group's overall interval, from the table and from ``.group(key)``, against
    quantiles of the product of the Jeffreys posteriors from 2,000,000 scipy draws.

    Tolerance: 4 standard errors of the difference of two sample quantiles (the code's
    100,000 draws and the reference's), sqrt(q (1 - q) (1/n1 + 1/n2)) / f(x_q), with
    the density f from the reference draws over x_q ± 5 % and 10 % allowed for its
    error.
    """
    f = fit(_counts_log(), by="rep")
    table = f.overall.to_frame()
    assert list(table.columns) == ["rep", "entered", "passed", "ratio", "low", "high"]
    assert table["entered"].tolist() == [150, 150] and table["passed"].tolist() == [1, 0]
    frame = f.to_frame()
    gen = np.random.default_rng(5)
    n_ref = 2_000_000
    for rep in ("ann", "bob"):
        rows = frame[frame["rep"] == rep]
        a = rows["passed"].to_numpy(float) + 0.5
        b = (rows["entered"] - rows["passed"]).to_numpy(float) + 0.5
        draws = np.prod(stats.beta.rvs(a, b, size=(n_ref, len(a)), random_state=gen), axis=1)
        row = table.set_index("rep").loc[rep]
        one = f.group(rep).overall
        assert row["ratio"] == one.ratio == rows["ratio"].prod()
        for q, got in ((0.025, (row["low"], one.low)), (0.975, (row["high"], one.high))):
            if q < 0.5 and row["ratio"] == 0:  # bob sold nothing: the boundary (see below)
                assert got == (0.0, 0.0)
                continue
            want = np.quantile(draws, q)
            h = 0.05 * want
            density = np.mean(np.abs(draws - want) < h) / (2 * h)
            se = math.sqrt(q * (1 - q) * (1 / OVERALL_DRAWS + 1 / n_ref)) / density
            for value in got:
                assert abs(value - want) < 1.1 * 4 * se, (rep, q)


@pytest.mark.parametrize(
    ("ratios", "first", "seed"),
    [((0.5, 0.3, 0.4), 200, 11), ((7 / 15, 1 / 7, 1 / 8), 1000, 12)],
)
def test_overall_interval_covers_the_true_rate_at_about_the_nominal_rate(ratios, first, seed):
    """Funnels of known ratios, binomial counts; 2000 simulated logs as 2000 groups.

    The coverage of a Bayesian product interval is only approximately nominal;
    4 binomial standard errors of the coverage estimate (±0.019) bound it.
    """
    gen = np.random.default_rng(seed)
    reps = 2000
    counts = [np.full(reps, first)]
    for r in ratios:
        counts.append(gen.binomial(counts[-1], r))
    stages = tuple(f"s{i}" for i in range(len(counts)))
    frame = pd.DataFrame({"log": np.arange(reps), **dict(zip(stages, counts, strict=True))})
    f = fit(Log("counts", stages, counts=frame), by="log")
    table = f.overall_interval(draws=2000, rng=gen).to_frame()
    truth = math.prod(ratios)
    covered = ((table["low"] <= truth) & (truth <= table["high"])).mean()
    se = math.sqrt(0.95 * 0.05 / reps)
    assert abs(covered - 0.95) < 4 * se


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
    _check_error(err, "error.at_least", {"name": "n[0]", "value": 0, "minimum": 1})
    with pytest.raises(fs.FunnelsimValueError) as err:
        exact_coverage("wilson", n=5, p=[0.2, 1.2])
    _check_error(err, "error.ratio_range", {"name": "p[1]", "value": 1.2})
    with pytest.raises(fs.FunnelsimValueError) as err:
        exact_coverage(["wilson", "normal"], n=5, p=0.2)
    _check_error(err, "error.choice", {"name": "method", "value": "'normal'"})
    with pytest.raises(fs.FunnelsimValueError) as err:
        coverage("wilson", n=5, p=0.2, reps=0, rng=rng)
    _check_error(err, "error.at_least", {"name": "reps", "value": 0})
    with pytest.raises(fs.FunnelsimTypeError) as err:
        coverage("wilson", n="15", p=0.2, rng=rng)
    _check_error(err, "error.type_number", {"name": "n[0]", "type": "str"})


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
    _check_error(err, "error.open_probability", {"name": "ratio", "value": 0})
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls_for_precision(0.1, 0)
    _check_error(err, "error.open_probability", {"name": "half_width", "value": 0})
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls_for_precision(0.1, 0.03, method="jeffreys")
    _check_error(err, "error.choice", {"value": "'jeffreys'", "choices": "wilson, wald"})
    with pytest.raises(fs.FunnelsimTypeError) as err:
        calls_for_precision("10%", 0.03)
    _check_error(err, "error.type_number", {"name": "ratio", "value": "'10%'", "type": "str"})


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
    _check_error(err, key, values)


def test_group_with_a_missing_key_is_its_own_group():
    # Leads with no rep (NaN) form a group; Fit.group must find it (NaN != NaN).
    counts = pd.DataFrame({"rep": ["ann", None], "connects": [40, 30], "meetings": [3, 9]})
    log = Log("counts", ("connects", "meetings"), counts=counts)
    fitted = fit(log, by="rep")
    missing = fitted.groups[1]
    assert pd.isna(missing)
    row = fitted.group(missing).to_frame().iloc[0]
    assert (row["entered"], row["passed"]) == (30, 9)
    assert fitted.group("ann").to_frame()["passed"].tolist() == [3]


def test_overall_on_the_boundary_keeps_its_estimate_inside():
    """0 of 40 (1 of 1 steps) or 40 of 40: the limit on that side is the boundary, like
    Brown, Cai and DasGupta's modified Jeffreys interval; the other limit is the
    posterior quantile (for one step, the Beta(k + 1/2, n - k + 1/2) one)."""
    none = fit(Log("counts", ("a", "b"), counts=pd.DataFrame({"a": [40], "b": [0]}))).overall
    assert none.ratio == 0 and none.low == 0
    post = stats.beta(0.5, 40.5)
    se = math.sqrt(0.975 * 0.025 / OVERALL_DRAWS) / post.pdf(post.ppf(0.975))
    assert abs(none.high - post.ppf(0.975)) < 4 * se
    every = fit(Log("counts", ("a", "b"), counts=pd.DataFrame({"a": [40], "b": [40]}))).overall
    assert every.ratio == 1 and every.high == 1 and every.low < 1


def test_a_log_nobody_has_got_through_yet_says_so_without_by():
    log = Log("counts", ("a", "b", "c"), counts=pd.DataFrame({"a": [40], "b": [0], "c": [0]}))
    with pytest.raises(fs.FunnelsimValueError) as err:
        fit(log).to_funnel()
    _check_error(err, "error.fit_no_funnel_log", {"stage": "c"})
