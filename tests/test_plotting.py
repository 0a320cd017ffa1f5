"""Plot functions: they draw what they promise on the axes they are given."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import seaborn as sns
from matplotlib.collections import LineCollection, PolyCollection

import funnelsim as fs
from funnelsim import lessons, plotting
from funnelsim.i18n import t

GAME = fs.presets.get("daily ratio game").funnel
WEEKLY = fs.presets.get("six-stage weekly funnel").funnel


@pytest.fixture(scope="module")
def results():
    size = fs.DealSize.gamma(10_000, cv=0.5)
    return {
        "share": lessons.running_share(0.5, 300, reps=20, rng=1),
        "noise": lessons.noise_by_volume(GAME, [100, 400], reps=200, deal_size=size, rng=2),
        "game": lessons.ratio_game(GAME, 15, target=500_000, periods=250, deal_size=size),
        "steady": lessons.revenue_steadiness(
            WEEKLY, 100, periods=52, reps=200, cycle=4, deal_size=size, rng=3
        ),
        "cycle": lessons.cycle_effects(WEEKLY, 100, cycle=4, periods=30, reps=100, rng=4),
    }


def _labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


PLOTS = [
    ("share", plotting.plot_running_share, {}),
    ("noise", plotting.plot_cv_by_calls, {}),
    ("steady", plotting.plot_cv_by_calls, {}),
    ("game", plotting.plot_funnel, {}),
    ("game", plotting.plot_levers, {}),
    ("steady", plotting.plot_fan, {}),
    ("steady", plotting.plot_fan, {"block": "month"}),
    ("cycle", plotting.plot_cycle_effects, {}),
    ("cycle", plotting.plot_cycle_effects, {"scenario": "pause"}),
]


@pytest.mark.parametrize(("key", "plot", "kwargs"), PLOTS)
def test_every_plot_uses_the_given_axes_and_is_labelled(results, key, plot, kwargs):
    fig, ax = plt.subplots()
    out = plot(results[key], ax=ax, **kwargs)
    assert out is ax
    _labelled(out)
    assert out.get_legend() is not None
    assert plt.get_fignums() == [fig.number]  # no other figure was created


@pytest.mark.parametrize(("key", "plot", "kwargs"), PLOTS)
def test_every_plot_makes_its_own_figure_without_showing_it(
    results, key, plot, kwargs, monkeypatch
):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() was called"))
    ax = plot(results[key], **kwargs)
    assert isinstance(ax, mpl.axes.Axes)
    assert len(plt.get_fignums()) == 1


@pytest.mark.parametrize(
    "plot",
    [
        plotting.plot_running_share,
        plotting.plot_cv_by_calls,
        plotting.plot_funnel,
        plotting.plot_levers,
        plotting.plot_fan,
        plotting.plot_cycle_effects,
    ],
)
def test_a_wrong_result_is_a_clear_error(plot):
    with pytest.raises(ValueError, match=r"expects a .* got str"):
        plot("not a result")


def test_running_share_draws_paths_band_and_rate(results):
    res = results["share"]
    ax = plotting.plot_running_share(res, max_lines=5, linewidth=4)
    paths = [c for c in ax.collections if isinstance(c, LineCollection)]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(paths) == 1 and len(bands) == 1
    assert len(paths[0].get_segments()) == 5
    assert paths[0].get_linewidth()[0] == 4
    assert len(ax.lines) == 1 and ax.lines[0].get_ydata()[0] == pytest.approx(0.5)
    assert ax.get_xlabel() == t("plot.running_share.xlabel")
    low, high = ax.get_ylim()
    assert 0 <= low < 0.5 < high <= 1


def test_cv_plot_is_log_log_with_theory_and_points(results):
    ax = plotting.plot_cv_by_calls(results["noise"])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(ax.lines) == 4  # theory line + simulated points, for sales and revenue
    points = ax.lines[1]
    assert points.get_linestyle() == "None"
    np.testing.assert_allclose(points.get_xdata(), [100, 400])
    ax = plotting.plot_cv_by_calls(results["noise"], series=("sales",))
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="series must be one of"):
        plotting.plot_cv_by_calls(results["noise"], series=("week",))


def test_funnel_bars_are_the_expected_and_needed_counts(results):
    game = results["game"]
    ax = plotting.plot_funnel(game, period="day")
    assert len(ax.containers) == 2
    widths = [[bar.get_width() for bar in c] for c in ax.containers]
    np.testing.assert_allclose(widths[0], game.expected)
    np.testing.assert_allclose(widths[1], game.back["needed"])
    assert [label.get_text() for label in ax.get_yticklabels()] == list(GAME.stages)
    assert "day" in ax.get_legend().get_texts()[0].get_text()
    ax = plotting.plot_funnel(game, show=("needed",))
    assert len(ax.containers) == 1
    with pytest.raises(ValueError, match="period must be one of"):
        plotting.plot_funnel(game, period="fortnight")


def test_levers_bars_and_target_line(results):
    game = results["game"]
    ax = plotting.plot_levers(game, period="day")
    heights = [bar.get_height() for bar in ax.containers[0]]
    np.testing.assert_allclose(heights, game.levers["expected"])
    assert ax.lines[0].get_ydata()[0] == pytest.approx(500_000)
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert "+15 calls a day" in labels[1] and "53.3%" in labels[2]


def test_fan_chart_band_median_mean_example(results):
    steady = results["steady"]
    ax = plotting.plot_fan(steady)
    assert len(ax.collections) == 1  # P10-P90 band
    assert len(ax.lines) == 3  # median, average, one rep
    assert len(ax.lines[0].get_xdata()) == 52
    ax = plotting.plot_fan(steady, block="month")
    assert len(ax.lines[0].get_xdata()) == 13
    assert "month" in ax.get_xlabel()
    with pytest.raises(ValueError, match="block must be one of"):
        plotting.plot_fan(steady, block="year")


def test_cycle_chart_has_calls_on_a_second_axis(results):
    fig, ax = plt.subplots()
    plotting.plot_cycle_effects(results["cycle"], scenario="pause", ax=ax)
    assert len(fig.axes) == 2
    calls_ax = fig.axes[1]
    heights = [bar.get_height() for bar in calls_ax.containers[0]]
    assert heights == results["cycle"].scenario("pause")["calls"].tolist()
    assert any(p.get_alpha() == pytest.approx(0.15) for p in ax.patches)  # the pause span
    with pytest.raises(ValueError, match="scenario must be one of"):
        plotting.plot_cycle_effects(results["cycle"], scenario="holiday")


def test_style_is_projector_readable_and_restored():
    before = dict(mpl.rcParams)
    with plotting.style(scale=1.5):
        assert mpl.rcParams["font.size"] == pytest.approx(21)
        assert mpl.rcParams["lines.linewidth"] >= 3
        cycle = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
        assert cycle == sns.color_palette("colorblind").as_hex()
    assert mpl.rcParams["font.size"] == before["font.size"]
    assert mpl.rcParams["axes.prop_cycle"] == before["axes.prop_cycle"]


def test_plots_inside_style_get_large_fonts(results):
    with plotting.style():
        ax = plotting.plot_fan(results["steady"])
    assert ax.title.get_fontsize() >= 16
    assert ax.xaxis.label.get_fontsize() >= 14


@pytest.mark.parametrize(
    ("p", "text"), [(0.487, "49%"), (0.9996, "> 99%"), (1.0, "100%"), (0.0004, "< 1%"), (0, "0%")]
)
def test_chance_never_rounds_to_a_false_certainty(p, text):
    assert plotting.chance(p) == text


def test_set_style_applies_the_projector_style_for_later_plots():
    with mpl.rc_context():
        plotting.set_style(scale=1.2)
        assert mpl.rcParams["font.size"] == pytest.approx(14 * 1.2)
        ax = plotting.plot_running_share(lessons.running_share(0.5, 50, rng=0))
        assert ax.title.get_fontsize() == pytest.approx(17 * 1.2)
