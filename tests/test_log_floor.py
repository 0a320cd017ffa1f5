"""The floor a real log implies: ``fs.lessons.floor_from_log`` (issue #14).

References: the closed form (``theory.cv_floor``, ``theory.sales_cv``, the
crossover written out by hand), the dispersion table's beta-binomial fit
combined by hand, and logs drawn here with numpy from a known Beta random
effect (not through ``fs.simulate``): the recovered ``rate_cv`` must lie within
4 standard errors of the truth (SE of a standard deviation from ``K`` periods,
``sd / sqrt(2 K)``, normal approximation), fixed seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.i18n import FunnelsimError


def _beta_params(mean: float, cv: float) -> tuple[float, float]:
    total = (1 - mean) / (cv * cv * mean) - 1
    return mean * total, (1 - mean) * total


def _drawn_log(means, cvs, *, periods, calls, seed) -> fs.Log:
    """A counts log whose step ratios are drawn per period from Betas of known mean and CV."""
    rng = np.random.default_rng(seed)
    stages = ["calls", *[f"s{i}" for i in range(1, len(means) + 1)]]
    counts = {"calls": np.full(periods, calls)}
    now = counts["calls"]
    for stage, mean, cv in zip(stages[1:], means, cvs, strict=True):
        a, b = _beta_params(mean, cv)
        now = rng.binomial(now, rng.beta(a, b, size=periods))
        counts[stage] = now
    frame = pd.DataFrame({"period": np.arange(1, periods + 1), **counts})
    return fs.read_log(frame, format="counts", stages=stages)


def test_one_step_recovers_the_known_rate_cv():
    periods, cv = 150, 0.3
    log = _drawn_log([0.2], [cv], periods=periods, calls=4000, seed=11)
    res = fs.lessons.floor_from_log(log, period="period", calls=[1000], reps=200, rng=1)
    se = cv / math.sqrt(2 * periods)
    assert abs(res.rate_cv - cv) < 4 * se, (res.rate_cv, se)
    assert res.rate_cv_low < res.rate_cv < res.rate_cv_high
    assert res.calls == 4000
    # the floor is the closed form at the recovered rate (one period, no cycle)
    assert res.floor == pytest.approx(fs.theory.cv_floor(res.funnel, res.rate_cv), rel=1e-12)
    assert res.floor == pytest.approx(res.rate_cv, rel=1e-12)


def test_steps_combine_as_independent_rates():
    periods, cvs = 200, (0.2, 0.3)
    log = _drawn_log([0.3, 0.25], cvs, periods=periods, calls=20_000, seed=5)
    res = fs.lessons.floor_from_log(log, period="period", calls=[500], reps=100, rng=2)
    truth = math.sqrt((1 + cvs[0] ** 2) * (1 + cvs[1] ** 2) - 1)  # 0.3655
    # delta method: d rate_cv / d c_i = c_i (1 + c_j^2) / rate_cv, SE(c_i) = c_i / sqrt(2 K)
    grads = [cvs[0] * (1 + cvs[1] ** 2) / truth, cvs[1] * (1 + cvs[0] ** 2) / truth]
    se = math.sqrt(sum((g * c) ** 2 / (2 * periods) for g, c in zip(grads, cvs, strict=True)))
    assert abs(res.rate_cv - truth) < 4 * se, (res.rate_cv, truth, se)
    # by hand from the dispersion table: 1 + rate_cv^2 = prod(1 + (sigma / mean)^2)
    table = res.dispersion.table
    by_hand = math.sqrt(np.prod(1 + (table["sigma_between"] / table["mean"]) ** 2) - 1)
    assert res.rate_cv == pytest.approx(by_hand, rel=1e-12)
    np.testing.assert_allclose(res.funnel.ratios, table["mean"], rtol=1e-12)


def test_noise_by_calls_against_theory_and_the_crossover():
    log = _drawn_log([0.1], [0.25], periods=60, calls=3000, seed=3)
    res = fs.lessons.floor_from_log(log, period="period", reps=4000, rng=7)
    assert res.noise.points["calls"].unique().tolist() == [30.0, 300.0, 3000.0, 30000.0]
    p, c = res.funnel.overall, res.rate_cv
    for row in res.noise.points.itertuples():
        th = fs.theory.sales_cv(res.funnel, row.calls, rate_cv=row.rate_cv)
        by_hand = math.sqrt((1 - p * (1 + row.rate_cv**2)) / (row.calls * p) + row.rate_cv**2)
        assert row.theory == pytest.approx(th, rel=1e-9) and th == pytest.approx(by_hand)
        se = th * math.sqrt(
            1 / (2 * res.noise.reps) + th * th / res.noise.reps
        )  # SE of a sample CV
        assert abs(row.cv - th) < 4 * se, (row, th, se)
    # at the crossover, chance and the moving rate weigh the same: CV = sqrt(2) x floor
    assert res.crossover == pytest.approx((1 - p * (1 + c * c)) / (p * c * c))
    at = fs.theory.sales_cv(res.funnel, res.crossover, rate_cv=c)
    assert at == pytest.approx(math.sqrt(2) * res.floor, rel=1e-9)
    frame = res.to_frame()
    assert list(frame.columns) == ["calls", "rate_cv", "source", "cv"] and len(frame) == 16
    assert repr(res).startswith("LogFloor(")


def test_bank_log_by_month_sits_on_its_floor():
    res = fs.lessons.floor_from_log(
        fs.datasets.load_bank_marketing(), period="period", reps=500, rng=2024
    )
    row = res.dispersion.table.iloc[0]
    assert row["periods"] == 26 and row["phi"] > 100 and row["p_value"] < 1e-6
    assert res.rate_cv == pytest.approx(row["cv_between"], rel=1e-12)
    assert 0.4 < res.rate_cv_low < res.rate_cv < res.rate_cv_high < 0.9
    assert res.crossover < 10  # the floor is reached at a handful of calls a month
    moving = res.noise.curve[res.noise.curve["rate_cv"] > 0]
    beyond = moving[moving["calls"] >= res.calls]
    assert (beyond["cv"] < 1.01 * res.floor).all()  # a typical month's calls: at the floor


def test_plot_labels_the_period():
    log = _drawn_log([0.2], [0.2], periods=20, calls=500, seed=1)
    res = fs.lessons.floor_from_log(log, period="period", calls=[50, 5000], reps=50, rng=1)
    with fs.plotting.style():
        ax = fs.plotting.plot_cv_floor(res.noise, period="month")
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert fs.t("plot.floor.moving", rate_cv=res.rate_cv, unit=fs.t("plot.unit.month")) in labels


def test_bad_input():
    with pytest.raises(FunnelsimError) as err:
        fs.lessons.floor_from_log(pd.DataFrame({"a": [1]}))
    assert err.value.key == "error.type_log"
    one = fs.read_log(
        pd.DataFrame({"period": [1], "calls": [100], "sales": [5]}),
        format="counts",
        stages=["calls", "sales"],
    )
    with pytest.raises(FunnelsimError) as err:
        fs.lessons.floor_from_log(one, period="period")
    assert err.value.key == "error.floor_periods" and err.value.values["periods"] == 1
    none = fs.read_log(
        pd.DataFrame({"period": [1, 2, 3], "calls": [100, 80, 90], "sales": [0, 0, 0]}),
        format="counts",
        stages=["calls", "sales"],
    )
    with pytest.raises(FunnelsimError) as err:
        fs.lessons.floor_from_log(none, period="period")
    assert err.value.key == "error.floor_nothing" and err.value.values["stage"] == "sales"
