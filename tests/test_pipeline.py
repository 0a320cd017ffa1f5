"""Weighted pipelines, calibration and the grade ladder.

References: exact arithmetic (``fractions``) for the weighted total; brute
force over all 2**n outcomes and an independent characteristic-function
(DFT) computation for the Poisson-binomial; the exact mean and variance of
the amount; :func:`funnelsim.proportion_ci` and
:func:`funnelsim.exact_coverage` for the intervals; a hand computation for
the Brier score; the documented truth of the sample files.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.pipeline import convolve_amounts, enumerate_amounts


def _problems(err) -> list[tuple]:
    """Column, rows, reason and its values of each problem a LogError lists."""
    return [(p.column, p.rows, p.reason, p.reason_values) for p in err.value.values["problems"]]


def _missing(err) -> list[tuple]:
    """Columns, reason and its values of each missing column a LogError lists."""
    assert err.value.key == "log.error.missing_columns"
    return [(m.columns, m.reason, m.reason_values) for m in err.value.values["missing"]]


TRUTH = fs.datasets.load_pipeline_truth()


def _brute_force(amounts, probs):
    """Every outcome, one by one: count pmf and amount distribution (dict)."""
    n = len(probs)
    count = np.zeros(n + 1)
    amount: dict[float, float] = {}
    for outcome in itertools.product((0, 1), repeat=n):
        p = math.prod(q if won else 1 - q for won, q in zip(outcome, probs, strict=True))
        count[sum(outcome)] += p
        total = sum(a for won, a in zip(outcome, amounts, strict=True) if won)
        amount[total] = amount.get(total, 0.0) + p
    return count, amount


def _dft_pmf(probs):
    """Poisson-binomial pmf from its characteristic function (Hong 2013, DFT-CF)."""
    probs = np.asarray(probs, float)
    n = probs.size
    omega = 2 * np.pi / (n + 1)
    z = np.exp(1j * omega * np.arange(n + 1))
    cf = np.prod(1 - probs[None, :] + probs[None, :] * z[:, None], axis=1)
    return np.real(np.fft.fft(cf)) / (n + 1)


# ------------------------------------------------------------ the weighted total
def test_weighted_equals_sum_of_amount_times_probability_exactly():
    pipe = fs.datasets.load_pipeline()
    a, p = pipe.amounts, pipe.probabilities
    assert pipe.weighted == math.fsum((a * p).tolist())
    exact = sum(Fraction(x) * Fraction(q) for x, q in zip(a, p, strict=True))
    assert pipe.weighted == pytest.approx(float(exact), rel=1e-15)
    # the decks' example: a 1,000,000 deal at 25 % counts 250,000
    assert fs.Pipeline.from_deals([1_000_000], [0.25]).weighted == 250_000.0
    by_stage = pipe.by_stage()
    assert by_stage["weighted"].sum() == pytest.approx(pipe.weighted, rel=1e-12)
    assert by_stage["stage"].tolist() == ["25%", "50%", "75%", "90%"]
    deals = TRUTH["pipeline"]["deals"]
    expected = {s: sum(rep[s] for rep in deals.values()) for s in ("25%", "50%", "75%", "90%")}
    assert dict(zip(by_stage["stage"], by_stage["deals"], strict=True)) == expected


# ------------------------------------------------------------ Poisson-binomial
@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_count_pmf_equals_brute_force_enumeration(n, rng):
    probs = rng.uniform(0, 1, n)
    probs[0] = 0.25  # a deck stage
    amounts = rng.integers(1, 50, n) * 1000.0
    count, _ = _brute_force(amounts, probs)
    pipe = fs.Pipeline.from_deals(amounts, probs)
    np.testing.assert_allclose(pipe.count_pmf().to_numpy(), count, rtol=1e-12, atol=1e-15)
    for quota in range(n + 2):
        assert pipe.prob_reach(quota, measure="deals") == pytest.approx(
            count[quota:].sum(), abs=1e-12
        )


def test_count_pmf_equals_the_characteristic_function_for_many_deals(rng):
    probs = rng.choice([0.25, 0.5, 0.75, 0.9], size=300)
    pipe = fs.Pipeline.from_deals(np.ones(300), probs)
    pmf = pipe.count_pmf().to_numpy()
    np.testing.assert_allclose(pmf, _dft_pmf(probs), atol=1e-12)
    k = np.arange(301)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert k @ pmf == pytest.approx(probs.sum(), rel=1e-12)
    var = (k - k @ pmf) ** 2 @ pmf
    assert var == pytest.approx((probs * (1 - probs)).sum(), rel=1e-10)


def test_count_pmf_edge_cases():
    sure = fs.Pipeline.from_deals([10, 20], [1.0, 0.0]).count_pmf()
    assert sure.tolist() == [0.0, 1.0, 0.0]


# ------------------------------------------------------------ amounts
@pytest.mark.parametrize("n", [3, 10])
def test_exact_amount_distribution_equals_brute_force(n, rng):
    probs = rng.choice([0.25, 0.5, 0.75, 0.9], size=n)
    amounts = rng.integers(1, 20, n) * 500.0
    _, brute = _brute_force(amounts, probs)
    dist = fs.Pipeline.from_deals(amounts, probs).amount_distribution()
    assert dist.attrs["method"] == "exact"
    got = dict(zip(dist["amount"], dist["probability"], strict=True))
    assert set(got) == {k for k, v in brute.items() if v > 0}
    for k, v in brute.items():
        if v > 0:
            assert got[k] == pytest.approx(v, rel=1e-10, abs=1e-15)


def test_enumeration_and_convolution_agree(rng):
    probs = rng.uniform(0.05, 0.95, 14)
    amounts = rng.integers(1, 30, 14) * 100.0
    a = enumerate_amounts(amounts, probs)
    b = convolve_amounts(amounts, probs, 100.0)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10, atol=1e-15)


def test_amount_distribution_of_many_deals_has_the_exact_moments():
    pipe = fs.datasets.load_pipeline()  # 81 deals: the grid method
    dist = pipe.amount_distribution()
    assert dist.attrs["method"] == "exact"
    a, p = pipe.amounts, pipe.probabilities
    x, w = dist["amount"].to_numpy(), dist["probability"].to_numpy()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert x @ w == pytest.approx(pipe.weighted, rel=1e-12)
    assert ((x - x @ w) ** 2) @ w == pytest.approx((a**2 * p * (1 - p)).sum(), rel=1e-9)


def test_monte_carlo_agrees_with_the_exact_distribution_within_4_se():
    pipe = fs.datasets.load_pipeline()
    reps = 200_000
    for quota in (2_000_000, pipe.weighted, 3_500_000):
        exact = pipe.prob_reach(quota)
        mc = pipe.prob_reach(quota, method="mc", reps=reps, rng=5)
        assert abs(mc - exact) < 4 * math.sqrt(exact * (1 - exact) / reps)
    # amounts with more than 6 decimals: no grid, so "auto" falls back to Monte Carlo
    frac = fs.Pipeline.from_deals(np.linspace(0.5, 30.25, 40), np.full(40, 0.5))
    assert frac.amount_distribution(reps=1000, rng=1).attrs == {
        "method": "mc",
        "reps": 1000,
        "fallback": "decimals",
    }
    with pytest.raises(ValueError) as err:
        frac.amount_distribution(method="exact")
    assert err.value.key == "error.pipeline_exact" and err.value.values == {"n": 40}


def test_percentiles_are_the_inverse_of_the_cumulative_distribution():
    pipe = fs.Pipeline.from_deals([100, 200, 400], [0.5, 0.5, 0.5])
    # totals 0..700 in steps of 100, each with probability 1/8
    q = pipe.percentiles([0.1, 0.125, 0.5, 0.9])
    assert q.tolist() == [0.0, 0.0, 300.0, 700.0]
    assert q.index.tolist() == ["q10", "q12.5", "q50", "q90"]
    assert pipe.prob_reach(300) == pytest.approx(5 / 8)
    assert pipe.prob_reach(0) == 1.0
    deals = pipe.percentiles(measure="deals")
    assert deals.tolist() == [0.0, 1.0, 3.0]  # cdf 1/8, 4/8, 7/8, 1


# ------------------------------------------------------------ reading snapshots
def test_a_column_of_chances_has_one_convention():
    """Bare numbers are fractions when none is above 1, percentages when one is; "%"
    always means percent. A fraction beside percentages, or 1.3 given as a chance in
    Python, is an error naming the row, not 1.3 %."""
    frac = pd.DataFrame({"amount": [10, 20, 30], "probability": ["0.25", "0.5", "1"]})
    assert fs.read_pipeline(frac).probabilities.tolist() == [0.25, 0.5, 1.0]
    pct = pd.DataFrame({"amount": [10, 20, 30], "probability": ["25", "50", "1"]})
    assert fs.read_pipeline(pct).probabilities.tolist() == [0.25, 0.5, 0.01]
    mixed = pd.DataFrame({"amount": [10, 20], "probability": ["0.25", "75"]})
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(mixed)
    assert _problems(err) == [("probability", (2,), "pipeline.reason.mixed", {"value": "'0.25'"})]
    dropped = fs.read_pipeline(mixed, errors="drop")
    assert dropped.probabilities.tolist() == [0.75] and dropped.dropped["row"].tolist() == [2]
    with pytest.raises(fs.LogError) as err:
        fs.Pipeline.from_deals([100, 200], [1.3, 0.5])
    assert err.value.key == "pipeline.error.deal_probability"
    assert err.value.values == {"index": 0, "value": "1.3"}
    with pytest.raises(fs.LogError) as err:
        fs.Pipeline.from_deals([100, 200], [0.5])
    assert err.value.key == "pipeline.error.deals_length"
    assert err.value.values == {"n_amounts": 2, "n_values": 1}
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(pd.DataFrame({"stage": ["0.5", "75"], "amount": [1, 2]}),
                         stages=["0.5", "75"])  # fmt: skip
    assert err.value.key == "pipeline.error.stages_mixed" and err.value.values == {
        "value": "'0.5'"
    }


def test_read_pipeline_stage_labels_mappings_and_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "编号": ["a", "b", "c", "d"],
            "阶段": ["25%", " 50 % ", "75%", "90"],
            "金额": ["1000", "2000", "3000", "4000"],
        }
    )
    columns = {"deal": "编号", "stage": "阶段", "amount": "金额"}
    pipe = fs.read_pipeline(frame, columns=columns)
    assert pipe.probabilities.tolist() == [0.25, 0.5, 0.75, 0.9]
    assert pipe.deals["deal"].tolist() == ["a", "b", "c", "d"]
    named = pd.DataFrame({"stage": ["qualified", "proposal"], "amount": [10, 20]})
    pipe = fs.read_pipeline(named, stages=["qualified", "proposal"], probabilities=[0.2, 0.6])
    assert pipe.probabilities.tolist() == [0.2, 0.6] and pipe.origin == "given"
    pipe = fs.read_pipeline(named, probabilities={"qualified": 0.1, "proposal": 0.5})
    assert pipe.weighted == 11.0
    own = pd.DataFrame({"amount": [10, 20], "probability": ["30%", 0.8]})
    assert fs.read_pipeline(own).probabilities.tolist() == [0.3, 0.8]
    # GBK bytes as Chinese Excel writes them, and the file is never changed
    path = tmp_path / "pipe.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert fs.read_pipeline(path, columns=columns).weighted == _pipe_weight(frame)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    xlsx = tmp_path / "pipe.xlsx"
    frame.to_excel(xlsx, index=False)
    assert fs.read_pipeline(xlsx, columns=columns).weighted == _pipe_weight(frame)


def _pipe_weight(frame) -> float:
    return 1000 * 0.25 + 2000 * 0.5 + 3000 * 0.75 + 4000 * 0.9


def test_read_pipeline_errors_name_file_rows_column_and_fix(tmp_path):
    path = tmp_path / "snapshot.csv"
    path.write_text(
        "deal,stage,amount\nD1,25%,1000\nD2,50%,-5\nD3,60 percent,3000\nD1,75%,100\nD5,90%,\n",
        encoding="utf-8",
    )
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(path)
    assert err.value.key == "pipeline.error.title"
    assert err.value.values["name"] == "snapshot.csv" and err.value.values["count"] == 4
    assert err.value.values["what"] == fs.t("pipeline.what.snapshot")
    assert _problems(err) == [
        ("stage", (4,), "pipeline.reason.unknown_stage", {"value": "'60 percent'"}),
        ("amount", (3,), "log.reason.bad_amount", {"value": "'-5'"}),
        ("amount", (6,), "pipeline.reason.no_amount", {}),
        ("deal", (5,), "pipeline.reason.duplicate", {"what": "deal", "value": "'D1'", "row": 2}),
    ]
    assert str(err.value).endswith(fs.t("pipeline.error.drop_hint"))
    pipe = fs.read_pipeline(path, errors="drop")
    assert pipe.deals["deal"].tolist() == ["D1"]
    assert pipe.dropped["row"].tolist() == [3, 4, 5, 6]
    missing = pd.DataFrame({"deal": ["a"], "value": [1]})
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(missing)
    assert err.value.key == "log.error.missing_columns"
    assert _missing(err)[0] == (
        ("amount",),
        "log.error.missing_field",
        {"column": "'amount'", "field": "amount"},
    )
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(pd.DataFrame({"amount": [1]}))
    assert _missing(err) == [
        (
            ("stage", "probability"),
            "pipeline.error.missing_either",
            {
                "columns": "'stage' nor 'probability'",
                "fields": ("stage", "probability"),
                "stage": "'stage'",
                "probability": "'probability'",
                "names": "'stage', 'probability'",
                "hints": [],
            },
        )
    ]
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(tmp_path / "nope.csv")
    assert err.value.key == "log.error.not_found"
    assert err.value.values["name"] == str(tmp_path / "nope.csv")
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(missing, stages=["won"])
    assert err.value.key == "pipeline.error.stage_not_percent"
    assert err.value.values == {"value": "'won'"}
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(missing, probabilities={"a": 1.5})
    assert err.value.key == "pipeline.error.probability_value"
    assert err.value.values == {"stage": "'a'", "value": "1.5"}
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(missing, errors="ignore")
    assert err.value.key == "error.choice"
    assert err.value.values == {"name": "errors", "value": "'ignore'", "choices": "raise, drop"}
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(pd.DataFrame({"amount": [1], "probability": ["140%"]}))
    assert _problems(err) == [
        ("probability", (2,), "pipeline.reason.bad_probability", {"value": "'140%'"})
    ]


# ------------------------------------------------------------ calibration
def test_brier_score_and_reliability_table_by_hand():
    history = pd.DataFrame(
        {
            "probability": [0.25, 0.25, 0.25, 0.25, 0.9, 0.9, 0.9, 0.5],
            "closed": ["no", "no", "yes", "no", "won", "lost", "yes", "1"],
        }
    )
    cal = fs.calibration(history)
    y = [0, 0, 1, 0, 1, 0, 1, 1]
    p = [0.25, 0.25, 0.25, 0.25, 0.9, 0.9, 0.9, 0.5]
    assert cal.brier == pytest.approx(sum((a - b) ** 2 for a, b in zip(p, y, strict=True)) / 8)
    assert cal.brier == pytest.approx((3 * 0.0625 + 0.5625 + 2 * 0.01 + 0.81 + 0.25) / 8)
    table = cal.to_frame()
    assert table["bin"].tolist() == ["25%", "50%", "90%"]
    assert table["n"].tolist() == [4, 1, 3] and table["closed"].tolist() == [1, 1, 2]
    low, high = fs.proportion_ci(table["closed"], table["n"])
    np.testing.assert_allclose(table["low"], low)
    np.testing.assert_allclose(table["high"], high)
    assert cal.base_rate == 0.5
    with pytest.raises(ValueError) as err:
        cal.probabilities  # noqa: B018
    assert err.value.key == "error.calibration_no_stages"
    binned = fs.calibration(history, bins=[0, 0.5, 1]).to_frame()
    assert binned["bin"].tolist() == ["0-50%", "50-100%"] and binned["n"].tolist() == [4, 4]


def test_perfectly_calibrated_history_covers_its_nominal_rates():
    """Intervals of a calibrated history cover the stated rates as often as theory says.

    400 simulated histories, 4 stages each: the share of intervals holding the
    stated probability equals the mean exact Wilson coverage at those n
    (:func:`funnelsim.exact_coverage`) within 4 binomial standard errors.
    """
    stages = {0.25: 60, 0.5: 40, 0.75: 30, 0.9: 20}
    gen = np.random.default_rng(12)
    stated = np.repeat(list(stages), list(stages.values()))
    histories, hits, briers = 400, 0, []
    for _ in range(histories):
        closed = gen.random(stated.size) < stated
        cal = fs.calibration(pd.DataFrame({"probability": stated, "closed": closed}))
        table = cal.to_frame()
        hits += int(((table["low"] <= table["stated"]) & (table["stated"] <= table["high"])).sum())
        briers.append(cal.brier)
    exact = np.mean(
        [fs.exact_coverage("wilson", n=n, p=p)["coverage"].iloc[0] for p, n in stages.items()]
    )
    trials = histories * len(stages)
    assert abs(hits / trials - exact) < 4 * math.sqrt(exact * (1 - exact) / trials)
    # a calibrated forecaster's expected Brier score is the mean of p (1 - p)
    expected = float(np.mean(stated * (1 - stated)))
    sd = np.std(briers, ddof=1)
    assert abs(np.mean(briers) - expected) < 4 * sd / math.sqrt(histories)


def test_sample_history_is_optimistic_and_feeds_the_pipeline():
    cal = fs.calibration(fs.datasets.path("sample_deal_history.csv"))  # named after the file
    truth = TRUTH["history"]["close_rates"]
    table = cal.by_stage
    # every stage's interval covers the truth at a family-wise 95 % (Bonferroni)
    family = fs.calibration(
        fs.datasets.load_deal_history(), confidence_level=1 - 0.05 / len(table)
    ).by_stage
    for row in family.itertuples(index=False):
        assert row.low <= truth[row.stage] <= row.high
    for row in table.itertuples(index=False):
        assert row.observed < row.stated
        assert row.n == TRUTH["history"]["deals"][row.stage]
    fitted = fs.read_pipeline(fs.datasets.path("sample_pipeline.csv"), probabilities=cal)
    plain = fs.datasets.load_pipeline()
    assert fitted.origin == "fitted" and fitted.weighted < plain.weighted
    expected = math.fsum(
        (fitted.amounts * fitted.deals["stage"].map(cal.probabilities).to_numpy()).tolist()
    )
    assert fitted.weighted == expected
    assert "Calibration('sample_deal_history.csv': 900 deals" in repr(cal)


def test_calibration_errors():
    with pytest.raises(fs.LogError) as err:
        fs.calibration(pd.DataFrame({"stage": ["25%"], "closed": ["maybe"]}))
    assert err.value.values["what"] == fs.t("pipeline.what.history")
    assert _problems(err) == [("closed", (2,), "pipeline.reason.bad_closed", {"value": "'maybe'"})]
    with pytest.raises(fs.LogError) as err:
        fs.calibration(pd.DataFrame({"stage": ["25%"]}))
    assert _missing(err) == [
        (("closed",), "log.error.missing_field", {"column": "'closed'", "field": "closed"})
    ]
    with pytest.raises(ValueError) as err:
        fs.calibration(pd.DataFrame({"stage": ["25%"], "closed": ["no"]}), bins=[0.5, 0.2])
    assert err.value.key == "error.calibration_bins" and err.value.values == {
        "value": "[0.5, 0.2]"
    }
    with pytest.raises(fs.FunnelsimTypeError) as err:  # text where bins belong
        fs.calibration(pd.DataFrame({"stage": ["25%"], "closed": ["no"]}), bins="ten")
    assert err.value.key == "error.calibration_bins"
    assert err.value.values == {"name": "bins", "value": "'ten'", "type": "str"}


def test_probabilities_of_the_wrong_type_are_a_type_error():
    frame = pd.DataFrame({"stage": ["a"], "amount": [10]})
    with pytest.raises(fs.FunnelsimTypeError) as err:
        fs.read_pipeline(frame, probabilities=0.5)
    assert err.value.key == "pipeline.error.probabilities_type"
    assert err.value.values == {"name": "probabilities", "value": "0.5", "type": "float"}


# ------------------------------------------------------------ grade ladder
def test_ladder_intervals_equal_proportion_ci_and_truth_is_inside():
    ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    table = ladder.to_frame()
    low, high = fs.proportion_ci(table["passed"], table["entered"])
    np.testing.assert_allclose(table["low"], low)
    np.testing.assert_allclose(table["high"], high)
    truth = TRUTH["grades"]["step_up"]
    # every step's interval covers the truth at a family-wise 95 % (Bonferroni)
    level = 1 - 0.05 / len(table)
    wide = fs.proportion_ci(table["passed"], table["entered"], confidence_level=level)
    for row, lo, hi in zip(table.itertuples(index=False), *wide, strict=True):
        assert lo <= truth[row.to] <= hi
    assert table["entered"].iloc[0] == TRUTH["grades"]["leads"]
    # the events file and one row per lead (highest grade) give the same ladder
    events = pd.read_csv(fs.datasets.path("sample_grade_history.csv"))
    rank = {g: i for i, g in enumerate("EDCBA")}
    best = events.assign(r=events["grade"].map(rank)).sort_values("r").groupby("lead").last()
    same = fs.grade_ladder(best.reset_index()[["lead", "grade"]])
    pd.testing.assert_frame_equal(same.to_frame(), table)
    fit_table = ladder.fit.to_frame()
    np.testing.assert_allclose(fit_table["low"], low)


def test_leads_needed_is_the_decks_back_calculation_and_the_binomial_plan():
    ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    funnel = ladder.to_funnel()
    plain = ladder.leads_needed(10_000_000, deal_size=200_000)  # 50 A-grade clients
    assert plain["expected"].tolist() == fs.back_calculate(funnel, 50)["needed"].tolist()
    assert plain["expected"].iloc[-1] == 50
    sure = ladder.leads_needed(50, 0.9, reps=4000, rng=1)
    assert sure["point"].iloc[0] == fs.calls_for_target(funnel, 50, 0.9)
    sub = fs.Funnel(funnel.stages[2:], funnel.ratios[2:])
    assert sure["point"].iloc[2] == fs.calls_for_target(sub, 50, 0.9)
    assert (sure["with_uncertainty"] >= sure["point"]).all()
    assert (sure["point"] >= sure["expected"]).all()


def test_leads_needed_with_uncertainty_against_an_independent_mixture():
    """``with_uncertainty`` at each grade: the fewest leads whose chance of 50 A-grade
    clients, averaged over the step-up rates' Beta posteriors, reaches 90 %.

    Reference: scipy Beta(passed + 1/2, failed + 1/2) draws of the rates from that
    grade on and the exact binomial chance given their product. Tolerance: 4
    standard errors of the difference between its 20,000 draws and the planner's.
    """
    reps, clients = 20_000, 50
    ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    needed = ladder.leads_needed(clients, 0.9, reps=reps, rng=1)
    table = ladder.fit.to_frame()
    a = table["passed"].to_numpy(float) + 0.5
    b = table["entered"].to_numpy(float) - table["passed"].to_numpy(float) + 0.5
    draws = stats.beta.rvs(a, b, size=(20_000, len(a)), random_state=np.random.default_rng(7))
    for k in range(len(a)):
        p = draws[:, k:].prod(axis=1)

        def chance(n: int, p=p) -> tuple[float, float]:
            cond = stats.binom.sf(clients - 1, n, p)
            return cond.mean(), 4 * cond.std() * math.sqrt(1 / p.size + 1 / reps)

        n = int(needed["with_uncertainty"].iloc[k])
        got, tol = chance(n)
        assert got >= 0.9 - tol, k
        got, tol = chance(n - 1)
        assert got < 0.9 + tol, k
        # on point estimates the same number of leads falls well short
        got, tol = chance(int(needed["point"].iloc[k]))
        assert got < 0.9 - tol, k


def test_ladder_errors():
    with pytest.raises(fs.LogError) as err:
        fs.grade_ladder(pd.DataFrame({"grade": ["E", "Z"]}))
    assert err.value.values["what"] == fs.t("pipeline.what.grades")
    assert _problems(err) == [("grade", (3,), "pipeline.reason.unknown_grade", {"value": "'Z'"})]
    assert err.value.values["problems"][0].fix_values == {"choices": "'E', 'D', 'C', 'B', 'A'"}
    with pytest.raises(ValueError) as err:
        fs.grade_ladder(pd.DataFrame({"grade": ["E"]}), grades=["E", "E"])
    assert err.value.key == "error.ladder_grades" and err.value.values == {"value": "['E', 'E']"}
    ladder = fs.grade_ladder(pd.DataFrame({"grade": ["e", "E", "d", "Z"]}), errors="drop")
    assert ladder.to_frame()["entered"].iloc[0] == 3
    assert ladder.dropped["row"].tolist() == [5]


# ------------------------------------------------------------------ plots
def test_plot_pipeline_curve_is_the_exceedance_of_the_exact_distribution():
    pipe = fs.Pipeline.from_deals([100, 200, 400], [0.5, 0.5, 0.5])
    ax = fs.plotting.plot_pipeline(pipe, quota=300)
    x, y = ax.lines[0].get_data()
    assert list(x) == [0, 0, 100, 200, 300, 400, 500, 600, 700]
    np.testing.assert_allclose(y, [1, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])
    labels = [line.get_label() for line in ax.lines]
    assert "weighted forecast CN¥350: reached with chance 50%" in labels  # money: currency
    assert "quota CN¥300: reached with chance 62%" in labels
    ax = fs.plotting.plot_pipeline(pipe, measure="deals")
    assert ax.get_xlabel() == "deals closed"
    with pytest.raises(fs.FunnelsimTypeError) as err:
        fs.plotting.plot_pipeline(pipe.deals)
    assert err.value.key == "error.plot_result"
    assert (err.value.values["function"], err.value.values["wanted"]) == (
        "plot_pipeline",
        "Pipeline",
    )


def test_plot_calibration_and_ladder_show_the_tables():
    cal = fs.calibration(fs.datasets.load_deal_history())
    ax = fs.plotting.plot_calibration(cal)
    bars = ax.containers[0]
    x, y = bars.lines[0].get_data()
    np.testing.assert_allclose(x, cal.table["stated"])
    np.testing.assert_allclose(y, cal.table["observed"])
    assert f"{cal.brier:.3f}" in ax.get_title()
    ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    ax = fs.plotting.plot_ladder(ladder)
    x, _ = ax.containers[0].lines[0].get_data()
    np.testing.assert_allclose(x, ladder.table["ratio"])
    assert ax.get_yticklabels()[0].get_text() == "E → D (1200)"


def test_pipeline_shapes_of_the_sample_match_the_truth():
    pipe = fs.datasets.load_pipeline()
    shapes = {rep: d.shape for rep, d in pipe.shape(by="rep").items()}
    assert shapes == {
        "Chen": "healthy",
        "Li": "top-heavy",
        "Wang": "empty",
        "Zhang": "stuck in the middle",
        "Liu": "healthy",
        "Zhao": "healthy",
    }
    assert pipe.shape().shape == "stuck in the middle"  # Zhang's bulge shows in the team
    with pytest.raises(ValueError) as err:
        pipe.shape(by="amount")
    assert err.value.key == "error.pipeline_by" and err.value.values["value"] == "'amount'"


def test_edge_inputs_of_a_snapshot_get_messages_not_index_errors():
    """An all-empty stage or probability column, True as a chance, a tiny chance in
    scientific notation, stages of the wrong length, and a bad rng on the exact path."""
    empty_stage = pd.DataFrame({"deal": ["D1", "D2"], "stage": ["", ""], "amount": [100, 200]})
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(empty_stage)
    assert _problems(err) == [("stage", (2, 3), "log.reason.no_stage", {})]
    empty_p = pd.DataFrame({"amount": [1, 2], "probability": [np.nan, np.nan]})
    with pytest.raises(fs.LogError) as err:
        fs.read_pipeline(empty_p, errors="drop")
    assert _problems(err) == [("probability", (2, 3), "pipeline.reason.no_probability", {})]
    assert str(err.value).endswith(fs.t("log.error.all_invalid"))  # nothing left to drop to
    with pytest.raises(fs.LogError) as err:
        fs.Pipeline.from_deals([100], [True])
    assert err.value.key == "pipeline.error.deal_probability"
    assert err.value.values == {"index": 0, "value": "True"}
    assert fs.Pipeline.from_deals([100], [1e-5]).probabilities.tolist() == [1e-5]
    with pytest.raises(fs.LogError) as err:
        fs.Pipeline.from_deals([100, 200], [0.5, 0.5], stages=["25%"])
    assert err.value.key == "pipeline.error.deals_length_stages"
    assert err.value.values == {"n_stages": 1, "n": 2}
    with pytest.raises(ValueError) as err:
        fs.Pipeline.from_deals([100, 200], [0.5, 0.5]).amount_distribution(rng=-1)
    assert err.value.key == "error.rng"
    assert err.value.values == {"name": "rng", "value": "-1", "type": "int"}
