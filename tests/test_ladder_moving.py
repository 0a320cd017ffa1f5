"""The grade ladder with periods: step-up rates that move from period to period."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import funnelsim as fs


def _history(rates, periods=12, leads=200, seed=1):
    """One row per lead: its highest grade and its period; E->D moves by period."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(periods):
        up = rates(i, rng)
        best = np.zeros(leads, dtype=int)
        for k, r in enumerate(up):
            best += (best == k) & (rng.random(leads) < r)
        for j, b in enumerate(best):
            rows.append({"lead": f"p{i}-{j}", "grade": "EDCBA"[b], "period": f"m{i:02d}"})
    return pd.DataFrame(rows)


def _moving(i, rng):
    return [rng.beta(0.5 * 8, 0.5 * 8), 0.4, 0.45, 0.5]  # E->D: mean 0.5, rho 1/9


def test_periods_give_the_ladders_dispersion():
    history = _history(_moving)
    ladder = fs.grade_ladder(history)
    moves = ladder.dispersion
    assert moves is not None and moves.stages == ("D", "C", "B", "A")
    # Independent check of the E->D counts per period: pandas straight from the rows.
    up = history.assign(up=history["grade"] != "E").groupby("period")["up"]
    first = up.agg(["sum", "size"]).reset_index()
    want = fs.dispersion(
        first.assign(stage="D").rename(columns={"size": "entered", "sum": "passed"})
    )
    got = moves.to_frame().iloc[0]
    assert got["chi2"] == pytest.approx(want.to_frame()["chi2"].iloc[0], rel=1e-12)
    assert moves.moving()[0] > 0 and (moves.moving()[1:] == 0).all()
    assert ladder.leads["period"].notna().all()


def test_one_grade_step_with_moves_matches_a_quadrature():
    history = _history(lambda i, rng: [rng.beta(0.3 * 6, 0.7 * 6)], periods=15, leads=150)
    history["grade"] = history["grade"].map({"A": "D", "B": "D", "C": "D", "D": "D"}).fillna("E")
    ladder = fs.grade_ladder(history, grades=["E", "D"])
    moves = ladder.dispersion
    rho = float(moves.moving()[0])
    assert rho > 0
    m = float(moves.table["mean"].iloc[0])  # the factor's shape: the fitted mean
    row = ladder.table.iloc[0]
    # The rate's posterior knows the periods move: its counts are divided by the
    # design effect entered / n_eff (Kish), n_eff from the dispersion table.
    deff = row["entered"] / float(moves.table["n_eff"].iloc[0])
    assert deff > 1
    a = row["passed"] / deff + 0.5
    b = (row["entered"] - row["passed"]) / deff + 0.5
    theta = 1 / rho - 1

    # The reference: a product quadrature over 400 x 400 midpoint quantiles of the
    # rate's posterior and of the period's beta move (no random draws).
    u = (np.arange(400) + 0.5) / 400
    r = stats.beta.ppf(u, a, b)[:, None]
    x = stats.beta.ppf(u, m * theta, (1 - m) * theta)[None, :]
    p = np.minimum(r * x / m, 1.0)

    def chance(n, clients=10):
        return float(stats.binom.sf(clients - 1, n, p).mean())

    # rho fixed at its estimate (a dispersion without its counts: no posterior for rho),
    # so that the reference below is the whole model.
    fixed = dataclasses.replace(moves, counts=None)
    got = ladder.leads_needed(10, 0.8, reps=20_000, rng=3, between=fixed)
    n = int(got["with_uncertainty"].iloc[0])
    # The plan's n reaches 80 % by the reference integral, and n - 3 % does not (draws' noise).
    assert chance(n) >= 0.8 - 0.01
    assert chance(int(n * 0.97)) < 0.8
    still = ladder.leads_needed(10, 0.8, reps=20_000, rng=3, between=None)
    assert int(still["with_uncertainty"].iloc[0]) < n
    # With rho's own uncertainty (the default) more leads still.
    auto = ladder.leads_needed(10, 0.8, reps=20_000, rng=3)
    assert int(auto["with_uncertainty"].iloc[0]) > n


def test_no_period_column_no_moves_and_bad_between():
    ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    assert ladder.dispersion is None
    a = ladder.leads_needed(10, 0.9, reps=500, rng=1)
    b = ladder.leads_needed(10, 0.9, reps=500, rng=1, between=None)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(fs.FunnelsimTypeError) as err:
        ladder.leads_needed(10, 0.9, between=3)
    assert err.value.key == "error.between"


def test_a_chinese_period_column_is_read():
    history = _history(_moving, periods=6).rename(columns={"lead": "客户名称", "period": "统计期"})
    ladder = fs.grade_ladder(history)
    assert ladder.dispersion is not None and len(ladder.leads) == 1200
