"""Exact pipeline distributions for amounts with decimals (issue 14).

References: brute force over every outcome in whole cents (Python integers,
so no rounding at all) and :func:`funnelsim.pipeline.enumerate_amounts`; the
exact mean and variance of the total; Monte Carlo within 4 standard errors.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.pipeline import _unit, convolve_amounts, enumerate_amounts


def _brute_cents(cents, probs) -> dict[int, float]:
    """Every outcome, one by one, the total in whole cents (exact integers)."""
    out: dict[int, float] = {}
    for outcome in itertools.product((0, 1), repeat=len(cents)):
        p = math.prod(q if won else 1 - q for won, q in zip(outcome, probs, strict=True))
        total = sum(c for won, c in zip(outcome, cents, strict=True) if won)
        out[total] = out.get(total, 0.0) + p
    return out


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ([100, 250, 1000], (50.0, 0)),
        ([12.5, 37.5], (12.5, 1)),
        ([19.99, 5.05, 0.1], (0.01, 2)),
        ([0.1, 0.2, 0.3], (0.1, 1)),
        ([1.0005, 2.0], (0.0005, 4)),
        ([1 / 3, 1.0], None),  # not a decimal with up to 6 places
        ([1e16, 1.0], None),  # too large to count exactly
    ],
)
def test_unit_scales_decimal_amounts_to_whole_numbers(amounts, expected):
    assert _unit(np.array(amounts, float)) == expected


def test_convolution_in_cents_equals_brute_force(rng):
    cents = rng.integers(1, 500_00, 12)
    probs = rng.uniform(0.05, 0.95, 12)
    brute = _brute_cents(cents.tolist(), probs.tolist())
    dist = convolve_amounts(cents / 100, probs, 0.01, decimals=2)
    got = dict(zip(dist["amount"], dist["probability"], strict=True))
    assert sorted(got) == [c / 100 for c in sorted(brute)]  # amounts to the cent, exactly
    for c, v in brute.items():
        assert got[c / 100] == pytest.approx(v, rel=1e-10, abs=1e-15)


def test_pipeline_of_21_deals_in_cents_is_exact_and_equals_enumeration(rng):
    cents = rng.integers(1, 300_00, 21)
    probs = rng.choice([0.25, 0.5, 0.75, 0.9], 21)
    pipe = fs.Pipeline.from_deals(cents / 100, probs)  # 21 deals: the grid, not enumeration
    dist = pipe.amount_distribution()
    assert dist.attrs == {"method": "exact", "reps": None, "fallback": None}
    brute = enumerate_amounts(cents.astype(float), probs)  # 2**21 outcomes, in whole cents
    cents_out = np.round(dist["amount"] * 100).astype(np.int64)
    got = dict(zip(cents_out, dist["probability"], strict=True))
    assert len(got) == len(brute)
    want = brute["probability"].to_numpy()
    have = np.array([got[int(c)] for c in brute["amount"]])
    np.testing.assert_allclose(have, want, rtol=1e-9, atol=1e-15)
    assert pipe.prob_reach(pipe.weighted) == pytest.approx(
        want[brute["amount"].to_numpy() >= pipe.weighted * 100 * (1 - 1e-12)].sum(), rel=1e-9
    )


def test_large_pipeline_in_cents_agrees_with_monte_carlo_within_4_se(rng):
    n = 60
    amounts = np.round(rng.uniform(5, 150, n), 2)  # dollars and cents: grid about 1 million
    probs = rng.choice([0.25, 0.5, 0.75, 0.9], n)
    pipe = fs.Pipeline.from_deals(amounts, probs)
    dist = pipe.amount_distribution()
    assert dist.attrs["method"] == "exact"
    x, w = dist["amount"].to_numpy(), dist["probability"].to_numpy()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert x @ w == pytest.approx(pipe.weighted, rel=1e-12)
    var = (amounts**2 * probs * (1 - probs)).sum()
    assert ((x - x @ w) ** 2) @ w == pytest.approx(var, rel=1e-9)
    reps = 100_000
    for quota in (
        pipe.weighted - 2 * math.sqrt(var),
        pipe.weighted,
        pipe.weighted + math.sqrt(var),
    ):
        exact = pipe.prob_reach(quota)
        mc = pipe.prob_reach(quota, method="mc", reps=reps, rng=7)
        assert abs(mc - exact) < 4 * math.sqrt(exact * (1 - exact) / reps)


def test_too_large_a_grid_falls_back_to_monte_carlo_and_says_so():
    # 30 deals of about 1,000.01: 3 million cents, over the 2 million grid points
    big = fs.Pipeline.from_deals(np.full(30, 1000.01) + np.arange(30) * 0.01, np.full(30, 0.5))
    dist = big.amount_distribution(reps=1000, rng=1)
    assert dist.attrs == {"method": "mc", "reps": 1000, "fallback": "grid"}
    with pytest.raises(ValueError) as err:
        big.amount_distribution(method="exact")
    assert err.value.key == "error.pipeline_exact" and err.value.values == {"n": 30}
    # the same deals in whole units stay exact
    whole = fs.Pipeline.from_deals(np.full(30, 1000.0) + np.arange(30), np.full(30, 0.5))
    assert whole.amount_distribution().attrs["method"] == "exact"
    # amounts with more than 6 decimals: Monte Carlo, saying why
    frac = fs.Pipeline.from_deals(np.linspace(0.5, 30.25, 40), np.full(40, 0.5))
    assert frac.amount_distribution(reps=10, rng=1).attrs["fallback"] == "decimals"
    # asked for Monte Carlo: no fallback
    assert whole.amount_distribution(method="mc", reps=10, rng=1).attrs["fallback"] is None
