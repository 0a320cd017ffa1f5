"""Plot functions: they draw what they promise on the axes they are given."""

from __future__ import annotations

import re

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.collections import LineCollection, PolyCollection

import funnelsim as fs
from funnelsim import lessons, plotting
from funnelsim.i18n import stage_label, t

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
        "floor": lessons.noise_floor(WEEKLY, [100, 1000], rate_cv=0.2, reps=100, rng=5),
    }


def _labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


PLOTS = [
    ("share", plotting.plot_running_share, {}),
    ("noise", plotting.plot_cv_by_calls, {}),
    ("steady", plotting.plot_cv_by_calls, {}),
    ("floor", plotting.plot_cv_floor, {}),
    ("game", plotting.plot_funnel, {}),
    ("game", plotting.plot_levers, {}),
    ("game", plotting.plot_equal_effort, {}),
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


def _check_choice_error(err, name, value):
    assert err.value.key == "error.choice"
    assert (err.value.values["name"], err.value.values["value"]) == (name, repr(value))


WANTED = {
    "plot_running_share": "RunningShare",
    "plot_cv_by_calls": "NoiseByVolume / RevenueSteadiness",
    "plot_cv_floor": "NoiseFloor",
    "plot_funnel": "RatioGame",
    "plot_levers": "RatioGame",
    "plot_equal_effort": "EqualEffort / RatioGame",
    "plot_fan": "RevenueSteadiness",
    "plot_cycle_effects": "CycleEffects",
    "plot_funnel_chart": "GroupComparison",
    "plot_p_chart": "PChart",
    "plot_shrinkage": "GroupComparison",
    "plot_ratio_table": "Fit / EstimatingRatios",
    "plot_coverage": "DataFrame / EstimatingRatios",
    "plot_sales_cycle": "CycleLength / SalesCycle",
    "plot_open_lead_ratios": "OpenLeadRatios",
    "plot_stale_leads": "SalesCycle / DataFrame",
    "plot_stocks": "Snapshot",
    "plot_call_heatmap": "Calls",
    "plot_talk_time": "RepDay",
    "plot_target_split": "TargetSplit",
    "plot_attainment": "Attainment",
    "plot_time_at_grade": "Ladder",
    "plot_sample_size": "SampleSize",
    "plot_forecast": "Forecast",
    "plot_pipeline": "Pipeline",
    "plot_calibration": "Calibration",
    "plot_ladder": "Ladder",
    "plot_grade_pyramid": "Ladder",
    "plot_won_by": "WonBy",
    "plot_backtest": "Backtest",
    "plot_pit": "Backtest",
    "plot_qualification": "Qualification",
}


def test_every_plot_function_is_checked_for_a_wrong_result():
    assert set(WANTED) == {name for name in plotting.__all__ if name.startswith("plot_")}


@pytest.mark.parametrize("name", sorted(WANTED))
def test_a_wrong_result_is_a_type_error_naming_the_function_and_argument(name):
    with pytest.raises(fs.FunnelsimTypeError) as err:
        getattr(plotting, name)("not a result")
    assert err.value.key == "error.plot_result"
    values = err.value.values
    assert (values["function"], values["argument"]) == (name, "result")
    assert (values["wanted"], values["value"]) == (WANTED[name], "str")
    assert values["maker"].startswith("funnelsim.")
    with fs.language("zh"):  # the same key and values in every language
        with pytest.raises(TypeError) as zh:
            getattr(plotting, name)("not a result")
    assert (zh.value.key, zh.value.values) == (err.value.key, values)
    assert "参数" in str(zh.value)


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
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_cv_by_calls(results["noise"], series=("week",))
    _check_choice_error(err, "series", "week")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cv_plot_names_the_period_of_its_calls(results, lang):
    with fs.language(lang):
        per = {
            name: plotting.plot_cv_by_calls(results[name]).get_xlabel()
            for name in ("noise", "steady")
        }
        # by default: a noise_by_volume's calls are per period, a revenue_steadiness's per week
        assert per["noise"] == t("plot.cv.xlabel", unit=t("plot.unit.period"))
        assert per["steady"] == t("plot.cv.xlabel", unit=t("plot.unit.week"))
        for period in ("day", "week", "month"):
            ax = plotting.plot_cv_by_calls(results["noise"], period=period)
            assert ax.get_xlabel() == t("plot.cv.xlabel", unit=t(f"plot.unit.{period}"))
        with pytest.raises(fs.FunnelsimValueError) as err:
            plotting.plot_cv_by_calls(results["noise"], period="year")
    _check_choice_error(err, "period", "year")
    assert t("plot.cv.xlabel", unit="week") == "calls per week (log scale)"


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
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_funnel(game, period="fortnight")
    _check_choice_error(err, "period", "fortnight")


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
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_fan(steady, block="year")
    _check_choice_error(err, "block", "year")


def test_cycle_chart_has_calls_on_a_second_axis(results):
    fig, ax = plt.subplots()
    plotting.plot_cycle_effects(results["cycle"], scenario="pause", ax=ax)
    assert len(fig.axes) == 2
    calls_ax = fig.axes[1]
    heights = [bar.get_height() for bar in calls_ax.containers[0]]
    assert heights == results["cycle"].scenario("pause")["calls"].tolist()
    assert any(p.get_alpha() == pytest.approx(0.15) for p in ax.patches)  # the pause span
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_cycle_effects(results["cycle"], scenario="holiday")
    _check_choice_error(err, "scenario", "holiday")


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


# ------------------------------------------------ stage names in Chinese
def _events_log(stages):
    """A small events log: six leads, the first three reach the second stage."""
    times = pd.DataFrame(
        {
            stages[0]: pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-02",
                    "2024-01-05",
                    "2024-01-20",
                    "2024-02-01",
                    "2024-02-10",
                ]
            ),
            stages[1]: pd.to_datetime(
                ["2024-01-11", "2024-01-22", "2024-02-09", None, None, None]
            ),
        },
        index=list("abcdef"),
    )
    return fs.Log(
        "events",
        tuple(stages),
        leads=pd.DataFrame(index=times.index),
        reached=times.notna(),
        times=times,
        as_of=pd.Timestamp("2024-02-20"),
    )


def _counts_log():
    """Rep x week counts through the daily ratio game's four stages."""
    weeks = pd.date_range("2025-01-06", periods=6, freq="W-MON")
    counts = pd.DataFrame(
        {
            "period": np.tile(weeks, 3),
            "rep": np.repeat(["ann", "bob", "cy"], 6),
            "dials": 150,
            "connects": [70, 72, 65, 80, 69, 71, 60, 58, 66, 61, 63, 59, 75, 77, 70, 74, 79, 72],
            "meetings": [10, 11, 2, 12, 9, 10, 7, 8, 6, 7, 9, 8, 14, 16, 13, 15, 30, 14],
            "sales": [2, 2, 0, 3, 1, 2, 1, 1, 1, 1, 2, 1, 3, 4, 3, 3, 6, 3],
        }
    )
    return fs.Log("counts", GAME.stages, counts=counts)


def _qualified_leads() -> fs.Qualification:
    """Forty leads with MAN and intent fields under the sample's Chinese headers."""
    yes_no = np.array(["否", "是"])
    rng = np.random.default_rng(5)
    intents = ["意向非常明确", "意向明确", "意向在明确中", "意向不明确"]
    leads = pd.DataFrame(
        {key: yes_no[rng.integers(0, 2, 40)] for key in ("有预算", "有决策权", "有需求")}
    )
    leads["意向"] = np.array(intents)[rng.integers(0, 4, 40)]
    leads["是否成交"] = yes_no[rng.integers(0, 2, 40)]
    return fs.qualify(leads)


def _chinese_cases():
    """One or more results with the presets' stage names for every public plot function."""
    size = fs.DealSize.gamma(10_000, cv=0.5)
    log = _counts_log()
    backtested = fs.backtest(log, min_history=2, reps=200, rng=1)
    cycle_log = _events_log(("first contact", "closed"))
    proposals = _events_log(("need confirmed", "proposal"))
    history = pd.DataFrame(
        {"grade": np.repeat(WEEKLY.stages, [40, 25, 15, 8, 5, 3]), "lead": np.arange(96)}
    )
    deals = pd.DataFrame(
        {"stage": ["25%"] * 40 + ["75%"] * 20, "closed": ["no"] * 32 + ["yes"] * 21 + ["no"] * 7}
    )
    stale = pd.DataFrame(
        {"age": [3.0, 10, 40, 50], "threshold": 20.0, "stale": [False, False, True, True]}
    )
    weekly_game = lessons.ratio_game(WEEKLY, 100, target=20, periods=4, stage="first contact")
    return {
        "plot_running_share": [lessons.running_share(0.5, 100, reps=3, rng=1)],
        "plot_cv_by_calls": [lessons.noise_by_volume(GAME, [50, 200], reps=50, rng=2)],
        "plot_cv_floor": [lessons.noise_floor(WEEKLY, [50, 200], reps=50, rng=2)],
        "plot_funnel": [lessons.ratio_game(GAME, 15, target=50, periods=250), weekly_game],
        "plot_levers": [lessons.ratio_game(GAME, 15, target=50, periods=250), weekly_game],
        "plot_equal_effort": [
            lessons.equal_effort(GAME, 24, target=500_000, periods=250, deal_size=size),
            weekly_game,
        ],
        "plot_fan": [
            lessons.revenue_steadiness(WEEKLY, 100, periods=12, reps=20, deal_size=size, rng=3)
        ],
        "plot_cycle_effects": [lessons.cycle_effects(WEEKLY, 100, periods=20, reps=20, rng=4)],
        "plot_funnel_chart": [fs.compare_groups(log, by="rep", stage="meetings")],
        "plot_shrinkage": [fs.compare_groups(log, by="rep", stage="meetings")],
        "plot_p_chart": [fs.p_chart(log, stage="meetings"), fs.p_chart(log, by="rep")],
        "plot_ratio_table": [fs.fit(log), fs.fit(log, by="rep")],
        "plot_coverage": [fs.exact_coverage(["wald", "wilson"], n=range(5, 60), p=0.2)],
        "plot_sales_cycle": [fs.cycle_length(cycle_log, last=2)],
        "plot_open_lead_ratios": [fs.open_lead_ratios(proposals, "proposal", window=14)],
        "plot_stale_leads": [stale],
        "plot_stocks": [fs.datasets.load_tracking()],
        "plot_call_heatmap": [
            fs.read_calls(
                pd.DataFrame({"time": ["2025-03-03 09:05"] * 40, "outcome": ["接通", "占线"] * 20})
            )
        ],
        "plot_talk_time": [lessons.rep_day(fs.datasets.load_calls(), "赵磊", "2025-03-05")],
        "plot_target_split": [
            fs.split_target(1_200_000, weights=[2, 3, 3], reps=["张伟", "王芳"], capacity=[1, 2])
        ],
        "plot_sample_size": [lessons.sample_size(0.3, 0.05)],
        "plot_forecast": [fs.forecast(fs.fit(log), calls=150, periods=8, reps=200, rng=5)],
        "plot_pipeline": [
            fs.Pipeline.from_deals(
                [100, 200, 400], [0.25, 0.5, 0.75], stages=["25%", "50%", "75%"]
            )
        ],
        "plot_calibration": [fs.calibration(deals)],
        "plot_ladder": [fs.grade_ladder(history, grades=WEEKLY.stages)],
        "plot_grade_pyramid": [
            fs.grade_ladder(history, grades=WEEKLY.stages),
            fs.grade_ladder(history.assign(date="2025-03-03"), grades=WEEKLY.stages),
        ],
        "plot_time_at_grade": [fs.grade_ladder(fs.datasets.load_grade_history())],
        "plot_attainment": [
            fs.attainment({"张伟": 30, "王芳": 10}, {"张伟": 60, "王芳": 40}, elapsed=0.5),
            lessons.attainment_at(
                fs.datasets.load_events(),
                dict.fromkeys(["Chen", "Li", "Liu", "Wang", "Zhang", "Zhao"], 600_000),
                13,
                deal_size=20_000,
                reps=200,
                rng=1,
            ),
        ],
        "plot_won_by": [fs.won_by(fs.datasets.load_crm_export())],
        "plot_backtest": [backtested],
        "plot_pit": [backtested],
        "plot_qualification": [_qualified_leads()],
    }


@pytest.fixture(scope="module")
def chinese_cases():
    with fs.language("zh"):
        return _chinese_cases()


def _english_stage_names() -> re.Pattern:
    """The presets' stage identifiers that read differently in Chinese, as one pattern."""
    names = set()
    for preset in fs.presets.names():
        for stage in fs.presets.get(preset).funnel.stages:
            with fs.language("zh"):
                if stage_label(stage) != stage:
                    names.add(stage)
    assert {"meetings", "first contact", "price negotiation", "closed"} <= names
    words = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z])(?:{words})(?![A-Za-z])", re.IGNORECASE)


def _figure_texts(ax) -> list[str]:
    """Every text the figure draws: titles, axis labels, ticks, legends, annotations."""
    fig = ax.figure
    fig.canvas.draw()  # formatter ticks get their text when drawn
    return [text.get_text() for text in fig.findobj(mpl.text.Text) if text.get_text()]


def test_every_plot_function_has_a_chinese_case(chinese_cases):
    assert set(chinese_cases) == {name for name in plotting.__all__ if name.startswith("plot_")}


@pytest.mark.parametrize("name", sorted(WANTED))
def test_plots_in_chinese_show_stage_names_in_chinese(chinese_cases, name):
    english = _english_stage_names()
    for result in chinese_cases[name]:
        with fs.language("zh"), plotting.style():
            ax = getattr(plotting, name)(result)
            texts = _figure_texts(ax)
        assert texts and ax.get_title()
        leaks = [text for text in texts if english.search(text)]
        assert not leaks, f"{name} shows English stage names in Chinese: {leaks}"
        plt.close("all")


def test_chinese_funnel_and_levers_label_the_presets_stages():
    game = lessons.ratio_game(WEEKLY, 100, target=20, periods=4, stage="first contact")
    with fs.language("zh"):
        ax = plotting.plot_funnel(game)
        ticks = [label.get_text() for label in ax.get_yticklabels()]
        levers = plotting.plot_levers(game)
        lever = levers.get_xticklabels()[2].get_text()
    assert ticks == ["潜在客户", "初次接触", "需求确认", "方案", "价格谈判", "成交"]
    assert "初次接触" in lever
    assert game.lever_stage == "first contact"  # the identifier itself never changes


def test_attainment_bars_mark_and_chances():
    funnel = fs.Funnel(["calls", "sales"], [0.05])
    left = {
        "Li": fs.forecast(funnel, calls=100, periods=6, reps=400, rng=1),
        "Wang": fs.forecast(funnel, calls=100, periods=6, reps=400, rng=2),
    }
    att = fs.attainment({"Li": 30, "Wang": 10}, {"Li": 60, "Wang": 40}, elapsed=0.4, forecast=left)
    fig, ax = plt.subplots()
    assert plotting.plot_attainment(att, ax=ax) is ax
    _labelled(ax)
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == pytest.approx([0.5, 0.25, 0.4])  # Li, Wang, the team: actual / target
    colours = [mpl.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
    ahead, behind = plotting.palette()[0], plotting.palette()[3]
    assert colours == [ahead, behind, ahead]  # paces 1.25, 0.625 and the team 40 / 40 = 1
    mark = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(mark) == 1 and mark[0].get_xdata()[0] == pytest.approx(0.4)
    p = att.to_frame()["p_finish"]
    assert [x.get_text() for x in ax.texts] == [
        t("plot.attainment.p", p=plotting.chance(v)) for v in p
    ]
    assert plt.get_fignums() == [fig.number]
