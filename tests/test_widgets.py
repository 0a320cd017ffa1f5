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
    game.controls["effort"].value = 0.2
    levers = game.result.equal_effort.levers
    np.testing.assert_allclose(levers["gain"].iloc[1:], 0.2, rtol=1e-9)
    assert levers["after"].iloc[2] == pytest.approx(8 / 15 * 1.2)  # the connect ratio, +20 %
    assert str(game.result.sure_calls) in game.summary.value


def test_the_levers_view_gives_every_lever_the_same_push(game):
    """Issue #11: the view compared +100 % calls with +14 % on one ratio; now one push for all."""
    levers = game.result.equal_effort.levers
    assert levers["lever"].tolist() == ["baseline", "volume"] + ["ratio"] * 3 + ["deal_size"]
    np.testing.assert_allclose(levers["gain"].iloc[1:], 0.1, rtol=1e-9)
    ax = game.figure.axes[1]
    assert ax.get_title() == t("plot.effort.title", effort=0.1)
    assert len(ax.patches) == len(levers)


def test_a_ratio_lever_is_capped_at_one(game):
    game.controls["ratio_0"].value = 0.95
    game.controls["effort"].value = 0.5
    assert game.message == ""
    assert game.result.equal_effort.levers["after"].iloc[2] == 1.0


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
    # the app's calls are a week's: the noise chart says so
    assert steady.figure.axes[0].get_xlabel() == t("plot.cv.xlabel", unit=t("plot.unit.week"))
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
        raise fs.FunnelsimValueError("error.ratio_range", name="p", value=2)

    monkeypatch.setattr(lessons, "running_share", broken)
    lln.controls["n"].value = 600  # must not raise
    assert lln.error.key == "error.ratio_range" and lln.error.values == {"name": "p", "value": 2}
    assert lln.message == t("error.ratio_range", name="p", value=2)
    assert lln.result is None
    assert lln.message in lln.summary.value and t("app.error") in lln.summary.value
    assert bytes(lln.image.value).startswith(PNG)
    monkeypatch.undo()
    lln.controls["n"].value = 700
    assert lln.message == "" and lln.error is None and lln.result.n == 700


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
    assert isinstance(app.error, ZeroDivisionError)
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
    r = app.result
    share = float(lessons.running_share(0.5, 100, 1, rng=3).final[0])
    assert app.summary.value == t(
        "app.lln.summary_one", n=100, share=share, p=0.5, half=r.half_width, level=0.95
    )


def test_summaries_state_the_lessons_numbers(lln, game, steady):
    r = lln.result
    low, high = r.final_range
    assert lln.summary.value == t(
        "app.lln.summary",
        n=r.n,
        reps=r.reps,
        low=low,
        high=high,
        p=r.p,
        inside=r.inside,
        half=r.half_width,
        level=r.confidence_level,
    )
    g = game.result
    assert f"<b>{g.expected_sales:,.1f}</b>" in game.summary.value  # 31.2 sales a year
    s = steady.result
    low, high = s.weekly_range
    assert steady.summary.value == t(
        "app.steady.summary",
        mean=s.weekly_mean,
        low=low,
        high=high,
        cv_week=s.cv("week"),
        th_week=s.theory_cv("week"),
        cv_month=s.cv("month"),
        th_month=s.theory_cv("month"),
        doubled=s.theory_cv_doubled("week"),
    )


# ------------------------------------------------ controls declared as data
#: Every control of the game apps at its defaults: widget, value, min, max, step, format.
GAME_CONTROLS = {
    "make_law_of_large_numbers": {
        "p": (W.FloatSlider, 0.5, 0.005, 0.995, 0.005, ".1%"),
        "n": (W.IntSlider, 1000, 10, 20_000, 10, "d"),
        "reps": (W.IntSlider, 20, 1, 200, 1, "d"),
        "seed": (W.BoundedIntText, 2024, 0, 2**31 - 1, None, None),
    },
    "make_ratio_game": {
        "ratio_0": (W.FloatSlider, 7 / 15, 0.001, 1.0, 0.001, ".1%"),
        "ratio_1": (W.FloatSlider, 1 / 7, 0.001, 1.0, 0.001, ".1%"),
        "ratio_2": (W.FloatSlider, 0.125, 0.001, 1.0, 0.001, ".1%"),
        "calls": (W.IntSlider, 15, 1, 200, 1, "d"),
        "periods": (W.IntSlider, 250, 5, 260, 5, "d"),
        "target": (W.BoundedFloatText, 500_000, 1, 1e12, 10_000, None),
        "deal_size": (W.BoundedFloatText, 10_000, 1, 1e9, 1_000, None),
        "deal_cv": (W.FloatSlider, 0.5, 0.0, 2.0, 0.05, ".2f"),
        "probability": (W.FloatSlider, 0.9, 0.5, 0.99, 0.01, ".0%"),
        "effort": (W.FloatSlider, 0.1, 0.0, 0.5, 0.01, ".0%"),
    },
    "make_revenue_steadiness": {
        "calls": (W.IntSlider, 100, 5, 1000, 5, "d"),
        "ratio_0": (W.FloatSlider, 0.8, 0.001, 1.0, 0.001, ".1%"),
        "ratio_4": (W.FloatSlider, 0.5, 0.001, 1.0, 0.001, ".1%"),
        "cycle": (W.FloatSlider, 4.0, 0.0, 12.0, 0.5, ".2f"),
        "cycle_cv": (W.FloatSlider, 0.5, 0.0, 1.5, 0.05, ".2f"),
        "deal_size": (W.BoundedFloatText, 10_000, 1, 1e9, 1_000, None),
        "deal_cv": (W.FloatSlider, 0.5, 0.0, 2.0, 0.05, ".2f"),
        "reps": (W.IntSlider, 2000, 100, 5000, 100, "d"),
        "periods": (W.IntSlider, 52, 8, 104, 4, "d"),
        "seed": (W.BoundedIntText, 2024, 0, 2**31 - 1, None, None),
        "view": (W.ToggleButtons, "week", None, None, None, None),
    },
}


@pytest.mark.parametrize("make", sorted(GAME_CONTROLS))
def test_controls_keep_their_names_ranges_steps_and_formats(make):
    app = getattr(widgets, make)()
    expected = GAME_CONTROLS[make]
    assert set(expected) <= set(app.controls)
    for name, (kind, value, lo, hi, step, fmt) in expected.items():
        control = app.controls[name]
        assert type(control) is kind, name
        assert control.value == pytest.approx(value), name
        if lo is not None:
            assert (control.min, control.max) == (lo, hi), name
        if step is not None:
            assert control.step == step, name
        if fmt is not None:
            assert control.readout_format == fmt, name


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (widgets.make_revenue_steadiness, "ratio_1"),  # first contact -> need confirmed
        (widgets.make_ratio_game, "probability"),  # how sure must the plan be
    ],
)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sliders_leave_room_to_drag_whatever_their_description(make, name, lang):
    """Issue #12: these sliders were 0-4 px wide: a long description took a 300 px widget.
    Now each is as wide as its cell, never narrower than its words plus a track, and the
    grid gives fewer columns rather than squeeze it."""
    app = make(lang=lang)
    slider = app.controls[name]
    need = widgets.app.text_width(slider.description) + 16  # a track and its readout
    assert slider.layout.width == "100%"
    assert float(slider.layout.min_width.removesuffix("em")) >= need
    widest = max(
        float(c.layout.min_width.removesuffix("em"))
        for c in app.controls.values()
        if c.layout.min_width and c.layout.grid_area is None
    )
    columns = app.widget.children[1].layout.grid_template_columns
    assert columns.startswith(f"repeat(auto-fill, minmax(max({widest}em, ")


def test_a_whole_row_control_spans_the_grid():
    app = widgets.make_revenue_steadiness(reps=200, periods=8)
    assert app.controls["view"].layout.grid_area == widgets.app.WHOLE_ROW
    assert app.controls["view"].style.button_width == "auto"  # whole words on the buttons


# ------------------------------------------------------------- wrong types
@pytest.mark.parametrize(
    ("make", "kwargs", "key", "name"),
    [
        (widgets.make_ratio_game, {"funnel": 3}, "error.type_funnel", "funnel"),
        (widgets.make_revenue_steadiness, {"funnel": None}, "error.type_funnel", "funnel"),
        (widgets.make_ratio_game, {"calls": "15"}, "error.not_a_number", "calls"),
        (widgets.make_ratio_game, {"target": None}, "error.not_a_number", "target"),
        (widgets.make_law_of_large_numbers, {"p": "0.5"}, "error.not_a_number", "p"),
        (widgets.make_law_of_large_numbers, {"n": True}, "error.not_a_number", "n"),
        (widgets.make_revenue_steadiness, {"seed": [1]}, "error.not_a_number", "seed"),
    ],
)
def test_a_wrong_type_is_a_type_error_naming_the_argument(make, kwargs, key, name):
    with pytest.raises(fs.FunnelsimTypeError) as err:
        make(**kwargs)
    assert isinstance(err.value, TypeError)
    assert err.value.key == key
    assert err.value.values["name"] == name


def test_a_number_with_a_fraction_where_a_count_belongs_is_a_value_error():
    with pytest.raises(fs.FunnelsimValueError) as err:
        widgets.make_law_of_large_numbers(n=1000.5)
    assert err.value.key == "error.whole_number"
    assert err.value.values == {"name": "n", "value": 1000.5}
    assert widgets.make_law_of_large_numbers(n=1000.0, reps=2).result.n == 1000


def test_an_app_travels_with_a_still_of_its_chart_and_summary():
    """An exported page without a kernel (nbconvert, nbviewer, GitHub) shows the app's still.

    The app's output carries ``text/html`` beside the live widget view: the current chart
    as an embedded PNG and the summary. nbconvert's HTML exporter, given a notebook saved
    without widget state (JupyterLab's default), renders that still.
    """
    import base64

    import nbformat
    from nbconvert import HTMLExporter

    app = fs.widgets.make_law_of_large_numbers(n=100, reps=2, seed=1)
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    still = bundle["text/html"]
    png = base64.b64encode(app.image.value).decode("ascii")
    assert f"data:image/png;base64,{png}" in still and app.summary.value in still
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "app",
                outputs=[nbformat.v4.new_output("display_data", data=dict(bundle))],
            )
        ]
    )
    page, _ = HTMLExporter().from_notebook_node(notebook)
    assert 'class="funnelsim-app-still"' in page and png[:200] in page
