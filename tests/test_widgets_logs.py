"""Apps of notebooks 04 and 06 on the sample logs: move the controls, check the numbers."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import lessons_logs, widgets
from funnelsim.logs import Log

DATA = Path(__file__).resolve().parents[1] / "data"
TRUTH = json.loads((DATA / "sample_truth.json").read_text(encoding="utf-8"))
STAGES = TRUTH["events"]["stages"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def log() -> Log:
    return fs.read_log(
        DATA / "sample_events.csv", format="events", stages=STAGES, as_of="2025-06-30 18:00"
    )


@pytest.fixture(scope="module")
def closed_cycles() -> pd.Series:
    """Dial-to-sale days of the closed deals, most recently closed first, from the CSV."""
    raw = pd.read_csv(DATA / "sample_events.csv", parse_dates=["time"])
    wide = raw.pivot(index="lead", columns="stage", values="time").dropna(subset=["sale"])
    wide = wide.sort_values("sale", ascending=False)
    return (wide["sale"] - wide["dial"]).dt.total_seconds() / 86400


@pytest.fixture
def ratios_app(log):
    truth = lessons_logs.true_ratios(TRUTH["events"])
    return widgets.make_estimating_ratios(lessons_logs.cohort(log, end="2025-04-01"), truth=truth)


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
    assert "Try wilson" in ratios_app.summary.value
    ratios_app.controls["method"].value = "clopper-pearson"
    direct = fs.fit(lessons_logs.cohort(log, end="2025-04-01"), method="clopper-pearson")
    pd.testing.assert_frame_equal(ratios_app.result.fit.to_frame(), direct.to_frame())


def test_raising_the_level_widens_every_interval_as_fit_does(ratios_app, log):
    q1 = lessons_logs.cohort(log, end="2025-04-01")
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
    assert "strictly between 0 and 1" in app.message
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
    assert f"last {last} closed deals" in cycle_app.summary.value


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
    direct = fs.cycle_length(lessons_logs.snapshot(log, date), last=10)
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
    assert f"{app.result.wilson:,} leads" in app.summary.value
