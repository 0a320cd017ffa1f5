"""Apps of notebooks 04-06 on the sample logs: move the controls, check the numbers."""

from __future__ import annotations

import html

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import lessons, widgets
from funnelsim.i18n import fields_label, t, unit_label
from funnelsim.logs import Log

TRUTH = fs.datasets.load_truth()
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def log() -> Log:
    return fs.datasets.load_events()


@pytest.fixture(scope="module")
def closed_cycles() -> pd.Series:
    """Dial-to-sale days of the closed deals, most recently closed first, from the CSV."""
    raw = pd.read_csv(fs.datasets.path("sample_events.csv"), parse_dates=["time"])
    wide = raw.pivot(index="lead", columns="stage", values="time").dropna(subset=["sale"])
    wide = wide.sort_values("sale", ascending=False)
    return (wide["sale"] - wide["dial"]).dt.total_seconds() / 86400


@pytest.fixture
def ratios_app(log):
    truth = lessons.true_ratios(TRUTH["events"])
    return widgets.make_estimating_ratios(lessons.cohort(log, end="2025-04-01"), truth=truth)


@pytest.fixture
def cycle_app(log):
    return widgets.make_sales_cycle(log)


def _check_built(app):
    assert app.message == ""
    assert app.result is not None
    assert isinstance(app.widget, W.VBox)
    assert bytes(app.image.value).startswith(PNG)
    assert app.summary.value
    assert plt.get_fignums() == []  # the apps never touch pyplot
    for control in app.controls.values():
        if isinstance(control, W.FloatSlider | W.IntSlider | W.SelectionSlider):
            assert control.continuous_update is False


def test_apps_build_without_displaying(ratios_app, cycle_app):
    for app in (ratios_app, cycle_app, widgets.make_sample_size()):
        _check_built(app)


def test_clopper_pearson_is_wider_than_wilson_at_every_step(ratios_app, log):
    wilson = ratios_app.result.widths
    ratios_app.controls["method"].value = "clopper-pearson"
    assert ratios_app.message == ""
    assert ratios_app.result.method == "clopper-pearson"
    assert (ratios_app.result.widths > wilson).all()
    ratios_app.controls["method"].value = "wald"
    r = ratios_app.result
    row = r.widest
    assert ratios_app.summary.value == t(
        "app.logs.ratios_summary_wald",
        level=0.95,
        stage=row.name,
        low=row["low"],
        high=row["high"],
        passed=int(row["passed"]),
        entered=int(row["entered"]),
        p=r.p,
        coverage_stage=r.stage,
        worst=r.worst(),
    )
    ratios_app.controls["method"].value = "clopper-pearson"
    direct = fs.fit(lessons.cohort(log, end="2025-04-01"), method="clopper-pearson")
    pd.testing.assert_frame_equal(ratios_app.result.fit.to_frame(), direct.to_frame())


def test_raising_the_level_widens_every_interval_as_fit_does(ratios_app, log):
    q1 = lessons.cohort(log, end="2025-04-01")
    ratios_app.controls["confidence_level"].value = 0.8
    narrow = ratios_app.result.widths
    ratios_app.controls["confidence_level"].value = 0.99
    wide = ratios_app.result.widths
    assert (wide > narrow).all()
    direct = fs.fit(q1, confidence_level=0.99)
    np.testing.assert_allclose(wide.to_numpy(), direct.table["high"] - direct.table["low"])
    # z(0.99) / z(0.8) = 2.01: large counts widen by about that factor (Wilson ~ Wald there)
    assert wide["connect"] / narrow["connect"] == pytest.approx(2.01, rel=0.01)


def test_view_redraws_without_computing_and_stage_moves_the_coverage(ratios_app):
    before = ratios_app.result
    ratios_app.controls["view"].value = "coverage"
    assert ratios_app.result is before
    assert ratios_app.figure.axes[0].get_ylabel() == fs.t("plot.coverage.ylabel")
    ratios_app.controls["stage"].value = "meeting"
    table = ratios_app.result.fit.table.set_index("stage")
    assert ratios_app.result.p == pytest.approx(table.loc["meeting", "ratio"])
    cov = ratios_app.result.coverage
    assert set(cov["method"]) == {"wilson", "wald"}
    # Wald under-covers at small n: worse than Wilson, and well below the promise
    assert ratios_app.result.worst("wald") < ratios_app.result.worst() - 0.05
    assert ratios_app.result.worst("wald") < 0.9


def test_ratios_app_shows_an_error_instead_of_raising():
    counts = pd.DataFrame({"dials": [50], "connects": [20], "meetings": [0]})
    app = widgets.make_estimating_ratios(
        Log("counts", ("dials", "connects", "meetings"), counts=counts)
    )
    assert app.result is None
    assert app.error.key == "error.coverage_ratio"
    assert app.error.values == {"stage": "meetings", "ratio": 0.0}
    assert app.message == t("error.coverage_ratio", stage="meetings", ratio=0.0)
    app.controls["stage"].value = "connects"
    assert app.message == ""
    assert app.result.p == pytest.approx(0.4)


@pytest.mark.parametrize("last", [10, 20])
def test_cycle_app_naive_average_is_the_mean_of_the_last_closed_deals(
    cycle_app, closed_cycles, last
):
    cycle_app.controls["last"].value = last
    assert cycle_app.message == ""
    assert cycle_app.result.naive_mean == pytest.approx(
        closed_cycles.iloc[:last].mean(), rel=1e-12
    )
    r = cycle_app.result
    c = r.cycle
    low, high = c.median_ci
    assert cycle_app.summary.value == t(
        "app.logs.cycle_summary",
        as_of=str(pd.Timestamp(c.as_of).date()),
        closed=c.closed,
        open=c.open,
        median=c.median,
        low=low,
        high=high,
        mean=c.mean,
        unit=unit_label(c.unit),
        last=last,
        naive=closed_cycles.iloc[:last].mean(),
        quantile=0.9,
        threshold=r.threshold,
        stale=r.n_stale,
        decks=r.n_demoted_by_decks,
    )


def test_cycle_app_quantile_moves_the_stale_threshold(cycle_app, log):
    counts = []
    for q in (0.6, 0.8, 0.95):
        cycle_app.controls["quantile"].value = q
        res = cycle_app.result
        assert res.threshold == pytest.approx(res.cycle.survival.quantile(q, given_event=True))
        assert res.n_stale == int((res.stale["age"] > res.threshold).sum())
        counts.append(res.n_stale)
    assert counts[0] >= counts[1] >= counts[2]
    assert counts[0] > counts[2]


def test_cycle_app_looks_at_the_log_on_an_earlier_date(cycle_app, log):
    date = cycle_app.controls["as_of"].options[2][1]
    cycle_app.controls["as_of"].value = date
    res = cycle_app.result
    assert res.cycle.as_of == date
    direct = fs.cycle_length(lessons.snapshot(log, date), last=10)
    assert res.cycle.closed == direct.closed < 80
    assert res.naive_mean == pytest.approx(direct.naive["mean"].iloc[0])
    assert cycle_app.controls["as_of"].options[-1][1] == log.as_of


def test_sample_size_app_controls():
    app = widgets.make_sample_size(ratio=0.2, half_width=0.04)
    assert app.result.wilson == fs.calls_for_precision(0.2, 0.04)
    app.controls["half_width"].value = 0.02
    assert app.result.wald == fs.calls_for_precision(0.2, 0.02, method="wald")
    app.controls["confidence_level"].value = 0.99
    assert app.result.wilson == fs.calls_for_precision(0.2, 0.02, confidence_level=0.99)
    assert app.summary.value == t(
        "app.logs.size_summary",
        ratio=0.2,
        half_width=0.02,
        level=0.99,
        wilson=fs.calls_for_precision(0.2, 0.02, confidence_level=0.99),
        wald=fs.calls_for_precision(0.2, 0.02, confidence_level=0.99, method="wald"),
    )


# ------------------------------------------------------- 05: comparing reps
@pytest.fixture(scope="module")
def weekly() -> Log:
    return fs.datasets.load_counts()


def _says_differ(app, groups: list[str], tests: int) -> bool:
    """Whether the summary names exactly ``groups`` as differing from the rest of the team."""
    words = {
        "tests": tests,
        "adjust": app.result.comparison.adjust,
        "level": app.result.confidence_level,
    }
    if groups:
        return t("app.reps.differ", groups=", ".join(groups), **words) in app.summary.value
    return t("app.reps.differ_none", **words) in app.summary.value


def test_reps_app_builds_with_the_views_the_log_supports(log, weekly):
    events_app = widgets.make_comparing_reps(log)
    weekly_app = widgets.make_comparing_reps(weekly)
    for app in (events_app, weekly_app):
        _check_built(app)
    views = lambda app: [value for _, value in app.controls["view"].options]  # noqa: E731
    assert views(events_app) == ["shrinkage", "funnel"]  # no period: no p-chart
    assert "group" not in events_app.controls
    assert views(weekly_app) == ["shrinkage", "funnel", "chart"]
    assert events_app.controls["by"].options == (("rep", "rep"), ("source", "source"))
    assert {value for _, value in weekly_app.controls["by"].options} == {"period", "rep"}


@pytest.mark.parametrize("by", ["rep", "source"])
def test_reps_app_numbers_are_compare_groups_and_diagnose_leaks(log, by):
    app = widgets.make_comparing_reps(log, stage="connect")
    app.controls["by"].value = by
    app.controls["confidence_level"].value = 0.9
    assert app.message == ""
    direct = fs.compare_groups(log, by=by, confidence_level=0.9)
    pd.testing.assert_frame_equal(app.result.comparison.to_frame(), direct.to_frame())
    pd.testing.assert_frame_equal(app.result.comparison.steps, direct.steps)
    leaks = fs.diagnose_leaks(log, benchmark="team", by=by, confidence_level=0.9)
    pd.testing.assert_frame_equal(app.result.leaks.to_frame(), leaks.to_frame())
    assert app.result.chart is None
    # the summary names exactly the groups compare_groups finds different at that step
    differ = direct.differing
    groups = differ.loc[differ["stage"] == "connect", by].astype(str).tolist()
    assert _says_differ(app, groups, tests=int(direct.table["p_value"].notna().sum()))
    team = direct.steps.set_index("stage").loc["connect", "team_ratio"]
    rows = direct.table[direct.table["stage"] == "connect"].set_index(by)
    assert app.summary.value.startswith(
        t(
            "app.reps.summary",
            stage="connect",
            by=fields_label([by]),
            team=team,
            low=rows["ratio"].min(),
            low_group=rows["ratio"].idxmin(),
            high=rows["ratio"].max(),
            high_group=rows["ratio"].idxmax(),
            shrunk_low=rows["shrunk"].min(),
            shrunk_high=rows["shrunk"].max(),
        )
    )


def test_reps_app_level_moves_the_tests_as_compare_groups_does(log):
    app = widgets.make_comparing_reps(log, stage="connect")
    tests = int(fs.compare_groups(log, by="rep").table["p_value"].notna().sum())
    # Wang's lead mix; Chen's referrals (notebook 05)
    assert _says_differ(app, ["Chen", "Wang"], tests)
    app.controls["confidence_level"].value = 0.99
    strict = fs.compare_groups(log, by="rep", confidence_level=0.99).differing
    shown = strict.loc[strict["stage"] == "connect", "rep"].tolist()
    assert _says_differ(app, shown, tests)
    # the same p-values against a stricter threshold: nobody new; wider posterior intervals
    assert set(shown) <= {"Chen", "Wang"}
    table = app.result.comparison.table
    at_95 = fs.compare_groups(log, by="rep").table
    assert (
        table["shrunk_high"] - table["shrunk_low"] > at_95["shrunk_high"] - at_95["shrunk_low"]
    ).all()


def test_reps_app_step_view_and_group_only_redraw(weekly):
    app = widgets.make_comparing_reps(weekly, stage="connects")
    before = app.result
    app.controls["stage"].value = "meetings"
    app.controls["view"].value = "funnel"
    assert app.result is before
    assert app.figure.axes[0].get_title() == fs.t("plot.funnel_chart.title", stage="meetings")
    app.controls["confidence_level"].value = 0.9  # the inner funnel follows the level
    labels = app.figure.axes[0].get_legend_handles_labels()[1]
    assert fs.t("plot.funnel_chart.limits", level=0.9) in labels
    assert fs.t("plot.funnel_chart.limits", level=0.998) in labels
    app.controls["view"].value = "chart"
    app.controls["stage"].value = "connects"
    computed = app.result
    app.controls["group"].value = "Wang"
    assert app.result is computed
    assert app.message == ""
    chart = fs.p_chart(weekly, by="rep")
    pd.testing.assert_frame_equal(app.result.chart.to_frame(), chart.to_frame())
    wang = chart.table[(chart.table["rep"] == "Wang") & (chart.table["stage"] == "connects")]
    flagged = int((wang["signal"] != "").sum())
    said = t("app.reps.chart", group="Wang", flagged=flagged, periods=26, sigmas=3)
    assert said in app.summary.value
    assert app.figure.axes[0].get_title() == fs.t(
        "plot.p_chart.title_group", group="Wang", stage="connects", count=flagged
    )


def test_reps_app_grouped_by_period_charts_the_team(weekly, monkeypatch):
    app = widgets.make_comparing_reps(weekly, stage="connects", view="chart")
    app.controls["group"].value = "Wang"
    drawn = []
    p_chart_plot = fs.plotting.plot_p_chart
    monkeypatch.setattr(
        fs.plotting, "plot_p_chart", lambda *a, **k: drawn.append(k) or p_chart_plot(*a, **k)
    )
    app.controls["by"].value = "period"
    assert app.message == ""
    assert [k["group"] for k in drawn] == [None]  # drawn once, for the team
    assert app.controls["group"].disabled
    pd.testing.assert_frame_equal(
        app.result.chart.to_frame(), fs.p_chart(weekly, stage=None).to_frame()
    )
    by_week = fs.compare_groups(weekly, by="period")
    pd.testing.assert_frame_equal(app.result.comparison.to_frame(), by_week.to_frame())
    assert "2025-01-06 00:00" not in app.summary.value  # weeks are shown as dates
    app.controls["by"].value = "rep"  # back to one chart per rep
    assert app.message == ""
    assert not app.controls["group"].disabled
    assert app.controls["group"].value == "Chen"


def test_reps_app_shows_an_error_instead_of_raising():
    counts = pd.DataFrame(
        {
            "period": ["w1", "w2", "w3"],
            "rep": ["ann"] * 3,
            "dials": [100, 120, 90],
            "connects": [40, 50, 20],
        }
    )
    app = widgets.make_comparing_reps(Log("counts", ("dials", "connects"), counts=counts))
    assert app.result is None
    assert app.error.key == "error.groups_too_few"
    assert app.error.values["count"] == 1
    assert app.message and html.escape(app.message) in app.summary.value
    app.controls["by"].value = "period"  # three weeks: that works
    assert app.message == ""
    assert app.result.comparison.groups == ["w1", "w2", "w3"]
    with pytest.raises(fs.FunnelsimValueError) as err:
        widgets.make_comparing_reps(
            Log("counts", ("dials", "connects"), counts=counts), by="source"
        )
    assert err.value.key == "error.unknown_by"
    assert err.value.values["value"] == "'source'"


def test_apps_on_a_young_log_without_a_sale(log):
    """The first days of the sample log: leads reached "meeting" but nobody "proposal"
    or "sale". The apps open on what there is and say what is missing (no numpy text)."""
    young = lessons.snapshot(log, "2025-01-10 13:00")
    assert young.stage_table().set_index("stage").loc["sale", "entered"] == 0
    reps = widgets.make_comparing_reps(young)
    assert reps.message == "" and reps.controls["stage"].value == "proposal"
    reps.controls["stage"].value = "sale"
    assert reps.error.key == "error.step_no_leads"
    assert reps.error.values == {"stage": "sale", "by": fields_label(["rep"])}
    cycle = widgets.make_sales_cycle(young)
    assert "argmin" not in cycle.message and "IndexError" not in cycle.message


def test_reps_and_ratio_apps_in_chinese_show_field_and_method_names(log):
    """Under "zh" the grouping fields and the interval methods read as words, not as
    the log's column codes ("按rep" was shown before)."""
    reps = widgets.make_comparing_reps(log, lang="zh")
    assert dict(reps.controls["by"].options) == {"销售代表": "rep", "渠道": "source"}
    assert "按销售代表" in reps.summary.value and "rep" not in reps.summary.value
    ratios = widgets.make_estimating_ratios(log, lang="zh")
    assert ("Clopper-Pearson（精确）", "clopper-pearson") in ratios.controls["method"].options
    assert "wilson" not in ratios.summary.value


# ------------------------------------------------------------- wrong types
@pytest.mark.parametrize(
    ("make", "args", "kwargs", "key", "name"),
    [
        (widgets.make_estimating_ratios, (3,), {}, "error.type_log", "log"),
        (widgets.make_sales_cycle, ("sample_events.csv",), {}, "error.type_log", "log"),
        (widgets.make_comparing_reps, (None,), {}, "error.type_log", "log"),
        (widgets.make_estimating_ratios, ("log",), {"method": 3}, "error.type_text", "method"),
        (widgets.make_comparing_reps, ("log",), {"stage": 2}, "error.type_text", "stage"),
        (
            widgets.make_sales_cycle,
            ("log",),
            {"quantile": "90%"},
            "error.not_a_number",
            "quantile",
        ),
        (widgets.make_sample_size, ("0.3",), {}, "error.not_a_number", "ratio"),
    ],
)
def test_a_wrong_type_is_a_type_error_naming_the_argument(log, make, args, kwargs, key, name):
    args = tuple(log if a == "log" else a for a in args)
    with pytest.raises(fs.FunnelsimTypeError) as err:
        make(*args, **kwargs)
    assert (err.value.key, err.value.values["name"]) == (key, name)


def test_an_unknown_choice_is_a_value_error_naming_the_argument(log):
    with pytest.raises(fs.FunnelsimValueError) as err:
        widgets.make_estimating_ratios(log, method="bayes")
    assert err.value.key == "error.choice"
    assert err.value.values["name"] == "method" and "wilson" in err.value.values["choices"]
    with pytest.raises(fs.FunnelsimValueError) as err:
        widgets.make_sales_cycle(log, last=15)
    assert (err.value.key, err.value.values["name"]) == ("error.choice", "last")
