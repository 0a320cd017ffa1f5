"""Widget apps: build them, move their controls, read what they computed."""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pytest

import funnelsim as fs
from funnelsim import lessons, widgets
from funnelsim.i18n import t

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def lln():
    return widgets.make_law_of_large_numbers(p=0.5, n=500, reps=10, seed=1)


@pytest.fixture
def game():
    return widgets.make_ratio_game()


@pytest.fixture
def steady():
    return widgets.make_revenue_steadiness(reps=400, periods=24, seed=1)


@pytest.mark.parametrize(
    "make",
    [
        widgets.make_law_of_large_numbers,
        widgets.make_ratio_game,
        widgets.make_revenue_steadiness,
    ],
)
def test_apps_build_without_displaying_and_render_a_figure(make):
    app = make()
    assert app.message == ""
    assert app.result is not None
    assert isinstance(app.widget, W.VBox)
    assert bytes(app.image.value).startswith(PNG)
    assert app.summary.value
    assert "seed" in app.controls or make is widgets.make_ratio_game
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert plt.get_fignums() == []  # the apps never touch pyplot
    for control in app.controls.values():
        if isinstance(control, W.FloatSlider | W.IntSlider):
            assert control.continuous_update is False


def test_labels_come_from_the_catalogue(lln, steady):
    assert lln.controls["p"].description == t("app.lln.p")
    assert lln.controls["seed"].description == t("app.seed")
    assert steady.controls["cycle"].description == t("app.steady.cycle")


def test_seed_control_makes_results_reproducible(lln):
    first = lln.result.shares.copy()
    lln.controls["seed"].value = 2
    assert not np.array_equal(lln.result.shares, first)
    lln.controls["seed"].value = 1
    np.testing.assert_array_equal(lln.result.shares, first)
    direct = lessons.running_share(0.5, 500, 10, rng=1)
    np.testing.assert_array_equal(direct.shares, first)


def test_law_of_large_numbers_controls(lln):
    lln.controls["n"].value = 2000
    assert lln.result.shares.shape == (10, 2000)
    lln.controls["reps"].value = 3
    assert lln.result.reps == 3
    band = lln.result.half_width
    lln.controls["n"].value = 8000
    assert lln.result.half_width == pytest.approx(band / 2)  # 4x the calls, half the band


def test_ratio_game_numbers_follow_the_controls(game):
    res = game.result
    assert (res.plan_calls, res.sure_calls) == (24, 30)
    assert res.deal_size == fs.DealSize.gamma(10_000, cv=0.5)
    before = res.p_current
    game.controls["calls"].value = 25
    assert game.result.p_current > before
    assert game.result.expected.iloc[0] == 25 * 250
    game.controls["ratio_0"].value = 8 / 15  # one more connect per 15 dials
    assert game.result.plan_calls == 21
    game.controls["target"].value = 1_000_000
    assert game.result.back["needed"].iloc[-1] == 100
    game.controls["stage"].value = game.result.funnel.stages[2]
    game.controls["step"].value = 0.5
    assert game.result.new_ratio == pytest.approx(1 / 7 + 0.5)
    assert str(game.result.sure_calls) in game.summary.value


def test_ratio_lever_is_capped_at_one(game):
    game.controls["stage"].value = game.result.funnel.stages[1]
    game.controls["ratio_0"].value = 0.9
    game.controls["step"].value = 0.5
    assert game.message == ""
    assert game.result.new_ratio == 1.0


def test_raising_calls_lowers_the_computed_noise(steady):
    low_sim, low_theory = steady.result.cv("week"), steady.result.theory_cv("week")
    steady.controls["calls"].value = 400
    assert steady.result.cv("week") < low_sim
    assert steady.result.theory_cv("week") == pytest.approx(low_theory / 2, rel=0.01)


def test_steadiness_controls_reach_the_lesson(steady):
    steady.controls["reps"].value = 300
    steady.controls["periods"].value = 16
    res = steady.result
    assert res.reps == 300 and res.periods == 16 and len(res.monthly) == 4
    steady.controls["cycle"].value = 6
    steady.controls["cycle_cv"].value = 0.25
    assert steady.result.cycle == fs.Cycle(6, cv=0.25)
    steady.controls["deal_cv"].value = 0
    assert steady.result.deal_size == fs.DealSize.fixed(10_000)
    steady.controls["ratio_0"].value = 0.4  # 100 -> 40 first contacts instead of 80
    assert steady.result.funnel.overall == pytest.approx(0.025)


def test_changing_the_view_redraws_without_recomputing(steady):
    res, figure = steady.result, steady.figure
    for view in ("month", "noise", "week"):
        steady.controls["view"].value = view
        assert steady.result is res
        assert steady.figure is figure
    axes = steady.figure.axes
    assert len(axes) == 1 and axes[0].get_xlabel() == t("plot.fan.xlabel_week")
    steady.controls["view"].value = "noise"
    assert steady.figure.axes[0].get_xscale() == "log"
    steady.controls["seed"].value = 5
    assert steady.result is not res


def test_the_figure_is_reused_not_piled_up(steady):
    figure, axes = steady.figure, steady.figure.axes[0]
    for seed in range(3):
        steady.controls["seed"].value = 10 + seed
    assert steady.figure is figure and steady.figure.axes == [axes]
    assert len(axes.collections) == 1 and len(axes.lines) == 3  # one fan, not three
    assert plt.get_fignums() == []


def test_an_error_shows_a_message_not_a_traceback(lln, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("p must be a ratio between 0 and 1; got 2.")

    monkeypatch.setattr(lessons, "running_share", broken)
    lln.controls["n"].value = 600  # must not raise
    assert lln.message == "p must be a ratio between 0 and 1; got 2."
    assert lln.result is None
    assert "got 2." in lln.summary.value and t("app.error") in lln.summary.value
    assert bytes(lln.image.value).startswith(PNG)
    monkeypatch.undo()
    lln.controls["n"].value = 700
    assert lln.message == "" and lln.result.n == 700


def test_an_unexpected_error_is_shown_in_words():
    def compute(values):
        raise ZeroDivisionError("division by zero")

    app = widgets.App(
        title="demo",
        controls={"x": W.IntSlider(value=1, min=0, max=3)},
        compute=compute,
        draw=lambda result, axes, values: None,
        describe=lambda result, values: "",
    )
    assert "ZeroDivisionError" in app.message
    assert app.result is None
    app.controls["x"].value = 2  # still no exception


def test_seed_cannot_be_negative(lln):
    lln.controls["seed"].value = -5  # clamped by the control, so no error can slip through
    assert lln.controls["seed"].value == 0
    assert lln.message == ""


def test_apps_accept_a_funnel_or_a_preset_name():
    funnel = fs.Funnel(["calls", "deals"], [0.05])
    app = widgets.make_revenue_steadiness(funnel, reps=200, periods=8)
    assert app.result.funnel.stages == ("calls", "deals")
    assert list(app.controls).count("ratio_0") == 1 and "ratio_1" not in app.controls
    app = widgets.make_ratio_game("20:5:1", calls=20, periods=50, target=100_000)
    assert app.result.funnel.ratios == pytest.approx((0.25, 0.2))
    assert app.message == ""


def test_a_funnel_with_no_sales_explains_itself_in_words():
    app = widgets.make_revenue_steadiness(reps=200, periods=8)
    for k in range(5):
        app.controls[f"ratio_{k}"].value = 0.001  # the slider's floor
    assert app.message == ""
    assert app.summary.value == t("app.steady.no_sales")


def test_one_rep_gets_its_own_summary():
    app = widgets.make_law_of_large_numbers(p=0.5, n=100, reps=1, seed=3)
    assert app.summary.value.startswith("After <b>100</b> calls the share is")
