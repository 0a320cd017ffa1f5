"""The equal-effort levers (notebook 02, issue #11): the same push on volume, each ratio and
the deal size, against closed-form binomial theory (scipy) and a seeded simulation.

Sales from ``N`` calls at overall rate ``p`` are ``Binomial(N, p)``; revenue sums one
gamma deal per sale, so given ``k`` sales it is ``Gamma(k a, mean / a)`` with
``a = 1 / cv^2``: the references below are that mixture, computed here with scipy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from keyed import raises
from scipy import stats

import funnelsim as fs
from funnelsim import lessons

GAME = fs.presets.get("daily ratio game").funnel  # dials -> connects -> meetings -> sales
DEAL = fs.DealSize.gamma(10_000, cv=0.5)


def binomial_row(n: int, p: float, target: float) -> dict[str, float]:
    """Expected sales, CV and chance of ``target`` sales: Binomial(n, p)."""
    return {
        "expected": n * p,
        "cv": math.sqrt((1 - p) / (n * p)),
        "p_target": stats.binom.sf(math.ceil(target) - 1, n, p),
    }


def is_quantile(x: float, q: float, n: int, p: float) -> bool:
    """``x`` is the ``q`` quantile of Binomial(n, p) by its definition: the smallest
    whole number whose cumulative probability reaches ``q``."""
    return x == int(x) and stats.binom.cdf(x - 1, n, p) < q <= stats.binom.cdf(x, n, p)


def revenue_sf(x: float, n: int, p: float, mean: float, cv: float) -> float:
    """P(revenue >= x): a Binomial(n, p) number of Gamma(mean, cv) deals."""
    a = 1 / cv**2
    k = np.arange(1, n + 1)
    return float(stats.binom.pmf(k, n, p) @ stats.gamma.sf(x, k * a, scale=mean / a))


@pytest.mark.parametrize(
    ("calls", "periods", "target"), [(24, 250, 50), (15, 250, 50), (300, 1, 3)]
)
def test_sales_levers_match_the_binomial(calls, periods, target):
    res = lessons.equal_effort(GAME, calls, target=target, periods=periods, effort=0.1)
    n, p = calls * periods, GAME.overall
    cases = {
        ("baseline", ""): (n, p),
        ("volume", ""): (round(n * 1.1), p),
        **{("ratio", s): (n, p * 1.1) for s in GAME.stages[1:]},
    }
    assert list(zip(res.levers["lever"], res.levers["stage"], strict=True)) == list(cases)
    for (lever, stage), (nn, pp) in cases.items():
        row = res.lever(lever, stage)
        for column, want in binomial_row(nn, pp, target).items():
            assert row[column] == pytest.approx(want, rel=1e-9, abs=1e-12), (lever, stage, column)
        assert is_quantile(row["low"], 0.1, nn, pp) and is_quantile(row["high"], 0.9, nn, pp)
    # No deal size, no deal-size lever: the target counts sales.
    assert "deal_size" not in set(res.levers["lever"])


def test_revenue_levers_match_the_compound_binomial():
    res = lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=DEAL)
    n, p = 6000, GAME.overall
    cases = {
        "baseline": (n, p, 10_000),
        "volume": (6600, p, 10_000),
        "ratio": (n, p * 1.1, 10_000),  # the first ratio lever (connects)
        "deal_size": (n, p, 11_000),
    }
    for lever, (nn, pp, mean) in cases.items():
        row = res.levers[res.levers["lever"] == lever].iloc[0]
        assert row["expected"] == pytest.approx(nn * pp * mean, rel=1e-12)
        assert row["cv"] == pytest.approx(math.sqrt((1 - pp + 0.25) / (nn * pp)), rel=1e-12)
        assert row["p_target"] == pytest.approx(revenue_sf(500_000, nn, pp, mean, 0.5), abs=1e-9)
        # P10 and P90: 1 plan in 10 below the first, 1 in 10 above the second.
        assert revenue_sf(row["low"], nn, pp, mean, 0.5) == pytest.approx(0.9, abs=1e-6)
        assert revenue_sf(row["high"], nn, pp, mean, 0.5) == pytest.approx(0.1, abs=1e-6)


def test_the_same_push_buys_the_same_gain_and_the_levers_differ_only_in_spread():
    res = lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=DEAL)
    tab = res.levers.set_index(["lever", "stage"])
    np.testing.assert_allclose(tab["gain"].iloc[1:], 0.1, rtol=1e-12)
    base_cv = tab.loc[("baseline", ""), "cv"]
    # More deals average out: volume and ratios narrow the relative noise by about sqrt(1.1) ...
    assert tab.loc[("volume", ""), "cv"] == pytest.approx(base_cv / math.sqrt(1.1), rel=1e-12)
    for stage in GAME.stages[1:]:
        assert tab.loc[("ratio", stage), "cv"] < tab.loc[("volume", ""), "cv"]
        # Exactly: the overall rate is 1.1 p, so cv = sqrt((1 - 1.1 p + cv_deal^2) / (1.1 n p)).
        n, p = 6000, GAME.overall
        exact = math.sqrt((1 - 1.1 * p + 0.25) / (1.1 * n * p))
        assert tab.loc[("ratio", stage), "cv"] == pytest.approx(exact, rel=1e-12)
    # ... bigger deals scale every outcome: the same relative noise.
    assert tab.loc[("deal_size", ""), "cv"] == pytest.approx(base_cv, rel=1e-12)
    # A plan on its target: the narrower spread makes the push safer.
    assert tab.loc[("baseline", ""), "p_target"] < 0.5
    assert tab.loc[("deal_size", ""), "p_target"] < tab.loc[("volume", ""), "p_target"]
    # Which ratio does not matter for the result: only the product of the ratios counts.
    ratios = res.levers[res.levers["lever"] == "ratio"]
    for column in ("expected", "cv", "low", "high", "p_target"):
        np.testing.assert_allclose(ratios[column], ratios[column].iloc[0], rtol=1e-9)


def test_work_shows_where_the_extra_leads_come_from():
    res = lessons.equal_effort(GAME, 24, target=50, periods=250)
    work = res.work.set_index(["lever", "changed", "stage"])["expected"]
    assert work[("baseline", "", "meetings")] == pytest.approx(400)
    assert work[("volume", "", "dials")] == pytest.approx(6600)
    assert work[("volume", "", "meetings")] == pytest.approx(440)
    assert work[("ratio", "connects", "meetings")] == pytest.approx(440)  # more meetings to hold
    assert work[("ratio", "sales", "meetings")] == pytest.approx(400)  # the same meetings pay more
    assert work[("ratio", "sales", "sales")] == pytest.approx(55)


def test_a_ratio_is_capped_at_one_and_gains_less():
    funnel = fs.Funnel(["calls", "talks", "sales"], [0.95, 0.1])
    res = lessons.equal_effort(funnel, 100, target=10, effort=0.1)
    capped = res.lever("ratio", "talks")
    assert capped["after"] == 1.0
    assert capped["gain"] == pytest.approx(1 / 0.95 - 1)
    assert res.lever("ratio", "sales")["gain"] == pytest.approx(0.1)


def test_no_push_changes_nothing():
    res = lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=DEAL, effort=0)
    for column in ("expected", "cv", "low", "high", "p_target"):
        np.testing.assert_allclose(res.levers[column], res.levers[column].iloc[0], rtol=1e-9)


def test_simulation_agrees_with_the_chances(rng):
    """Seeded simulation of the volume and deal-size levers: within 4 standard errors."""
    res = lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=DEAL)
    reps = 20_000
    volume = fs.simulate(GAME, 6600, periods=1, reps=reps, deal_size=DEAL, rng=rng)
    bigger = fs.simulate(
        GAME, 6000, periods=1, reps=reps, deal_size=fs.DealSize.gamma(11_000, cv=0.5), rng=rng
    )
    for lever, sim in (("volume", volume), ("deal_size", bigger)):
        p = res.lever(lever)["p_target"]
        hit = (sim.revenue[:, 0] >= 500_000).mean()
        assert abs(hit - p) < 4 * math.sqrt(p * (1 - p) / reps), lever


def test_frame_repr_and_lookup():
    res = lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=DEAL)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "lever", "stage", "before", "after", "expected", "gain", "cv", "low", "high", "p_target",
    ]  # fmt: skip
    frame.loc[0, "expected"] = -1.0  # a copy
    assert res.levers.loc[0, "expected"] == pytest.approx(500_000)
    assert repr(res).startswith("EqualEffort(24 calls x 250 periods, +10% on each of 5 levers")
    raises(ValueError, "error.choice", lambda: res.lever("ratio", "dials"), name="lever")


@pytest.mark.parametrize(
    ("kwargs", "key", "name"),
    [
        ({"effort": -0.1}, "error.nonnegative", "effort"),
        ({"target": None}, "error.nonnegative", "target"),
        ({"target": -5}, "error.nonnegative", "target"),
        ({"periods": 0}, "error.at_least", "periods"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, key, name):
    args = {"target": 50, "periods": 250, **kwargs}
    raises(ValueError, key, lambda: lessons.equal_effort(GAME, 24, **args), name=name)


# ------------------------------------------------------------------ the chart
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chart_draws_one_bar_band_and_note_per_lever(lang):
    import matplotlib.pyplot as plt

    res = lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=DEAL)
    with fs.language(lang):
        _fig, ax = plt.subplots()
        out = fs.plotting.plot_equal_effort(res, ax=ax, period="day")
        notes = [fs.t("plot.effort.note_today", p="49%")] + [
            fs.t("plot.effort.note", gain=0.1, p=p) for p in ("72%",) * 4 + ("71%",)
        ]
        labels = [label.get_text() for label in ax.get_yticklabels()]
        ratio_label = fs.t(
            "app.ratio", upper=fs.i18n.stage_label("dials"), lower=fs.i18n.stage_label("connects")
        )
    assert out is ax
    np.testing.assert_allclose([bar.get_width() for bar in ax.patches], res.levers["expected"])
    assert [text.get_text() for text in ax.texts] == notes
    assert labels[2].startswith(ratio_label)
    [target] = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    assert target.get_segments()[0][0][0] == pytest.approx(500_000)
    # The bottom row holds the legend: no bar reaches it, the target line stops above it.
    assert ax.get_ylim()[0] > len(res.levers) - 0.5 + 0.3


def test_the_chart_takes_a_ratio_game():
    import matplotlib.pyplot as plt

    game = lessons.ratio_game(GAME, 24, target=50, periods=250, effort=0.2)
    ax = fs.plotting.plot_equal_effort(game)
    assert ax.get_title() == fs.t("plot.effort.title", effort=0.2)
    assert len(ax.patches) == 5  # today, calls, three ratios: no deal size for a sales target
    plt.close(ax.figure)
