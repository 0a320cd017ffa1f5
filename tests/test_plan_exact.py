"""plan_calls without seed noise (issue 14).

References: a one-step funnel's plan against the smallest number of calls
found here by a plain loop over scipy.stats.betabinom (ratio from a fit) and
scipy.stats.binom (a Funnel); the product of Beta posteriors against a
large Monte Carlo sample of numpy Beta draws (its empirical cdf at each node
within 4 standard errors); a multi-step plan against the same reference
(the planned calls reach the probability, one call fewer does not) and
across 10 seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.planning import product_nodes


def _one_step_log(calls: int, sales: int) -> fs.Log:
    frame = pd.DataFrame({"calls": [calls], "sales": [sales]})
    return fs.Log("counts", ("calls", "sales"), counts=frame)


def _smallest(chance, probability: float) -> int:
    n = 0
    while chance(n) < probability:
        n += 1
    return n


@pytest.mark.parametrize(
    ("calls", "sales", "target", "probability"),
    [(40, 3, 4, 0.9), (400, 30, 20, 0.8), (200, 1, 2, 0.5)],
)
def test_one_step_plan_is_the_exact_beta_binomial_answer(calls, sales, target, probability):
    fit = fs.fit(_one_step_log(calls, sales))
    a, b = sales + 0.5, calls - sales + 0.5  # the Jeffreys posterior of the ratio
    plans = [fs.plan_calls(fit, target, probability, periods=2, rng=seed) for seed in range(3)]
    row = plans[0].table.iloc[0]

    def chance(n: int) -> float:  # n calls a period, 2 periods
        return float(stats.betabinom.sf(target - 1, 2 * n, a, b))

    assert row["calls"] == _smallest(chance, probability)
    assert row["p_point_plan"] == pytest.approx(chance(int(row["calls_point"])), rel=1e-9)
    assert row["p_decks"] == pytest.approx(chance(int(row["calls_decks"])), rel=1e-9)
    for other in plans[1:]:  # no randomness left
        pd.testing.assert_frame_equal(other.table, plans[0].table)
    # a Funnel: the ratio known, deals binomial
    funnel = fs.Funnel(("calls", "sales"), [sales / calls])
    point = fs.plan_calls(funnel, target, probability, periods=2).table.iloc[0]
    p = funnel.overall
    assert point["calls_point"] == _smallest(
        lambda n: stats.binom.sf(target - 1, 2 * n, p), probability
    )


def test_one_step_plan_with_deal_sizes_is_the_exact_mixture():
    fit = fs.fit(_one_step_log(300, 20))
    size = fs.DealSize.gamma(10_000, cv=0.6)
    plan = fs.plan_calls(fit, 100_000, 0.9, deal_size=size, rng=1).table.iloc[0]
    a, b, shape = 20.5, 280.5, 1 / 0.6**2

    def chance(n: int) -> float:  # sum over k deals: BetaBinomial(k) x Gamma(k shape) tail
        k = np.arange(1, n + 1)
        tail = stats.gamma.sf(100_000, k * shape, scale=10_000 / shape)
        return float(stats.betabinom.pmf(k, n, a, b) @ tail)

    calls = int(plan["calls"])
    assert chance(calls) >= 0.9 > chance(calls - 1)
    assert plan["p_decks"] == pytest.approx(chance(int(plan["calls_decks"])), rel=1e-6)


def test_product_nodes_are_the_quantiles_of_the_product_of_betas():
    a, b = np.array([3.5]), np.array([37.5])
    u = (np.arange(256) + 0.5) / 256
    np.testing.assert_allclose(product_nodes(a, b), stats.beta.ppf(u, a, b), rtol=1e-6)
    # several steps, one with no success (its density infinite at 0): Monte Carlo cdf
    a, b = np.array([900.5, 40.5, 0.5, 12.5]), np.array([2100.5, 860.5, 30.5, 3.5])
    nodes = product_nodes(a, b)
    draws = 1_000_000
    p = np.sort(np.prod(np.random.default_rng(11).beta(a, b, size=(draws, 4)), axis=1))
    share = np.searchsorted(p, nodes) / draws
    assert np.all(np.abs(share - u) < 4 * np.sqrt(u * (1 - u) / draws))
    assert np.all(np.diff(nodes) > 0)


def test_multi_step_plan_is_stable_across_seeds_and_right():
    counts = pd.DataFrame({"dials": [2000], "connects": [500], "meetings": [60], "sales": [9]})
    log = fs.Log("counts", ("dials", "connects", "meetings", "sales"), counts=counts)
    fit = fs.fit(log)
    calls = {
        int(fs.plan_calls(fit, 3, 0.9, rng=seed).table["calls"].iloc[0]) for seed in range(10)
    }
    assert max(calls) - min(calls) <= 1
    planned = min(calls)
    # reference: 400,000 Beta draws of the three ratios, the binomial chance averaged
    t = fit.table
    a = t["passed"].to_numpy(float) + 0.5
    b = t["entered"].to_numpy(float) - t["passed"].to_numpy(float) + 0.5
    p = np.prod(np.random.default_rng(3).beta(a, b, size=(400_000, len(a))), axis=1)

    def chance(n: int) -> tuple[float, float]:
        c = stats.binom.sf(2, n, p)
        return float(c.mean()), 4 * float(c.std()) / math.sqrt(p.size)

    got, tol = chance(planned)
    assert got >= 0.9 - tol
    got, tol = chance(planned - 1)
    assert got < 0.9 + tol
    # the chances of the point plan and of the decks' plan are the reference's
    row = fs.plan_calls(fit, 3, 0.9, rng=0).table.iloc[0]
    for calls, key in ((row["calls_point"], "p_point_plan"), (row["calls_decks"], "p_decks")):
        got, tol = chance(int(calls))
        assert abs(row[key] - got) < tol
    assert planned > row["calls_point"]  # the ratios' uncertainty costs calls
