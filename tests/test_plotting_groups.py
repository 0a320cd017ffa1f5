"""Funnel plot and p-chart: what is drawn matches the result it is drawn from."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

import funnelsim as fs
from funnelsim import plotting
from funnelsim.control import funnel_limits, p_chart
from funnelsim.groups import compare_groups
from funnelsim.logs import Log

COUNTS = pd.DataFrame(
    {
        "rep": ["ann", "bob", "cy", "dee", "eve"],
        "dials": [300, 200, 400, 100, 250],
        "connects": [140, 90, 180, 45, 110],
        "meetings": [10, 13, 60, 6, 15],
    }
)
STAGES = ("dials", "connects", "meetings")


def _comparison():
    return compare_groups(Log("counts", STAGES, counts=COUNTS), by="rep")


def _chart(by=None, method="classic"):
    weeks = pd.date_range("2025-01-06", periods=8, freq="W-MON")
    counts = pd.DataFrame(
        {
            "period": np.tile(weeks, 2),
            "rep": ["ann"] * 8 + ["bob"] * 8,
            "connects": [100, 120, 90, 110, 100, 95, 105, 100] * 2,
            "meetings": [20, 25, 2, 22, 19, 21, 20, 45, 10, 12, 9, 11, 10, 9, 10, 11],
        }
    )
    return p_chart(Log("counts", ("connects", "meetings"), counts=counts), by=by, method=method)


def test_funnel_chart_draws_groups_limits_and_team():
    res = _comparison()
    with plotting.style():
        ax = plotting.plot_funnel_chart(res, stage="meetings")
    rows = res.to_frame().query("stage == 'meetings'")
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 1
    np.testing.assert_allclose(points[0].get_offsets(), rows[["entered", "ratio"]].to_numpy())
    # two curves per level (dashed 95 %, dotted 99.8 %) and the team line
    assert len(ax.lines) == 5
    team = res.steps.set_index("stage").loc["meetings", "team_ratio"]
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(team)
    x, low = ax.lines[0].get_data()
    ref = funnel_limits(team, x, confidence_level=0.95)
    np.testing.assert_allclose(low, ref["low"])
    assert [text.get_text() for text in ax.texts] == rows["rep"].tolist()
    assert ax.get_title() == "Who is really different? The meetings ratio against volume"
    assert ax.get_xlabel() == "leads entering the step (volume)"
    assert ax.get_ylabel() == "ratio into meetings"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == [
        "95.0% control limits (chance alone)",
        "99.8% control limits (chance alone)",
    ]
    assert "one dot per rep" in labels


def test_funnel_chart_colours_groups_by_how_far_out_they_are():
    res = _comparison()
    ax = plotting.plot_funnel_chart(res, stage="meetings", labels=False)
    rows = res.to_frame().query("stage == 'meetings'")
    team = res.steps.set_index("stage").loc["meetings", "team_ratio"]
    limits = funnel_limits(team, rows["entered"].to_numpy())
    ratio = rows["ratio"].to_numpy()
    levels = {}
    for level in (0.95, 0.998):
        part = limits[limits["confidence_level"] == level]
        levels[level] = (ratio < part["low"].to_numpy()) | (ratio > part["high"].to_numpy())
    outside = levels[0.95].astype(int) + levels[0.998].astype(int)
    assert outside.max() == 2 and outside.min() == 0  # cy far out, others inside
    colours = plotting.palette()
    expected = [colours[0], colours[1], colours[3]]
    faces = ax.collections[0].get_facecolors()
    for face, o in zip(faces, outside, strict=True):
        np.testing.assert_allclose(face[:3], plt.matplotlib.colors.to_rgb(expected[o]))
    assert not ax.texts


def test_funnel_chart_uses_the_given_axes_and_first_step_by_default():
    _fig, ax = plt.subplots()
    out = plotting.plot_funnel_chart(_comparison(), ax=ax, confidence_level=0.9, s=50)
    assert out is ax
    assert out.get_title().endswith("The connects ratio against volume")
    assert len(out.lines) == 3  # one level: two curves and the team line


def test_funnel_chart_bad_input():
    with pytest.raises(fs.FunnelsimTypeError) as err:
        plotting.plot_funnel_chart(_chart())
    assert err.value.key == "error.plot_result"
    assert err.value.values["function"] == "plot_funnel_chart"
    assert err.value.values["wanted"] == "GroupComparison"
    assert err.value.values["maker"] == "funnelsim.compare_groups"
    assert err.value.values["value"] == "PChart"
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_funnel_chart(_comparison(), stage="sales")
    assert err.value.key == "error.choice"
    assert err.value.values == {
        "name": "stage",
        "value": "'sales'",
        "choices": "connects, meetings",
    }


def test_p_chart_plot_draws_ratio_centre_limits_and_flags():
    chart = _chart()
    with plotting.style():
        ax = plotting.plot_p_chart(chart)
    frame = chart.to_frame()
    ratio_line, centre_line, low_line, high_line = ax.lines
    np.testing.assert_allclose(ratio_line.get_ydata(), frame["ratio"])
    assert centre_line.get_ydata()[0] == pytest.approx(frame["centre"].iloc[0])
    np.testing.assert_allclose(low_line.get_ydata(), frame["low"])
    np.testing.assert_allclose(high_line.get_ydata(), frame["high"])
    flagged = chart.flagged
    outside = (frame["ratio"] < frame["low"]) | (frame["ratio"] > frame["high"])
    assert len(flagged) == int(outside.sum()) == 2  # ann's weeks 3 and 8 sway the team
    crosses = ax.collections[0].get_offsets()
    np.testing.assert_allclose(crosses[:, 1], flagged["ratio"])
    assert ax.get_title() == "meetings period by period: 2 out of control"
    assert ax.get_ylabel() == "ratio into meetings"
    assert ax.get_xlabel() == "period"


def test_p_chart_plot_per_group_and_string_periods():
    chart = _chart(by="rep")
    ax = plotting.plot_p_chart(chart, group="bob")
    bob = chart.to_frame().query("rep == 'bob'")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), bob["ratio"])
    assert ax.get_title() == "bob: meetings period by period, 0 out of control"
    assert not ax.collections  # nothing flagged, no crosses
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_p_chart(chart, group="zed")
    assert err.value.key == "error.plot_group"
    assert (err.value.values["value"], err.value.values["by"]) == ("'zed'", "rep")
    assert err.value.values["choices"] == "ann, bob"
    counts = pd.DataFrame({"week": ["w1", "w2", "w3"], "a": [10, 10, 10], "b": [1, 2, 3]})
    chart = p_chart(Log("counts", ("a", "b"), counts=counts), period="week", centre=0.2)
    ax = plotting.plot_p_chart(chart)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["w1", "w2", "w3"]
    assert ax.get_xlabel() == "week"
    assert "centre line (given): 20.0%" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_laney_p_chart_plot_says_sigma_z():
    chart = _chart(method="laney")
    ax = plotting.plot_p_chart(chart)
    frame = chart.to_frame()
    np.testing.assert_allclose(ax.lines[2].get_ydata(), frame["low"])
    np.testing.assert_allclose(ax.lines[3].get_ydata(), frame["high"])
    sigma_z = frame["sigma_z"].iloc[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"Laney p′ limits (3 standard errors × σz = {sigma_z:.3g})" in labels


def test_p_chart_plot_bad_input():
    with pytest.raises(fs.FunnelsimTypeError) as err:
        plotting.plot_p_chart(_comparison())
    assert err.value.key == "error.plot_result"
    assert (err.value.values["function"], err.value.values["wanted"]) == ("plot_p_chart", "PChart")
    assert (err.value.values["maker"], err.value.values["value"]) == (
        "funnelsim.p_chart",
        "GroupComparison",
    )
    with pytest.raises(fs.FunnelsimValueError) as err:
        plotting.plot_p_chart(_chart(), stage="connects")
    assert err.value.key == "error.choice"
    assert err.value.values == {"name": "stage", "value": "'connects'", "choices": "meetings"}


def test_plot_functions_are_listed_and_reachable_from_the_package():
    assert {"plot_funnel_chart", "plot_p_chart"} <= set(plotting.__all__)
    assert fs.plotting.plot_p_chart is plotting.plot_p_chart


def test_funnel_chart_legend_explains_the_colours_that_occur():
    ax = plotting.plot_funnel_chart(_comparison(), stage="meetings")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-2:] == ["outside the 95.0% limits", "outside the 99.8% limits"]
    calm = COUNTS.assign(meetings=(COUNTS["connects"] * 0.1).round().astype(int))
    ax = plotting.plot_funnel_chart(compare_groups(Log("counts", STAGES, counts=calm), by="rep"))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any(label.startswith("outside") for label in labels)
