"""The apps of notebook 07: what they compute equals the pure functions, control by control."""

from __future__ import annotations

import datetime
import html
import math

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.i18n import t
from funnelsim.lessons import outlook
from funnelsim.widgets import make_forecast, make_pipeline, pipeline_numbers

PIPELINE = fs.datasets.path("sample_pipeline.csv")  # the apps read it as a user's file


@pytest.fixture(scope="module")
def fit() -> fs.Fit:
    counts = pd.DataFrame({"dials": [3000], "meetings": [150], "sales": [30]})
    return fs.fit(fs.Log("counts", ("dials", "meetings", "sales"), counts=counts))


def _same_outlook(got, ref) -> None:
    assert (got.calls, got.calls_from, got.measure) == (ref.calls, ref.calls_from, ref.measure)
    np.testing.assert_array_equal(got.forecast.sales, ref.forecast.sales)
    np.testing.assert_array_equal(got.forecast.revenue, ref.forecast.revenue)
    if ref.plan is None:
        assert got.plan is None
    else:
        pd.testing.assert_frame_equal(got.plan.to_frame(), ref.plan.to_frame())


# ------------------------------------------------------------ forecast app
def test_forecast_app_equals_the_pure_functions(fit):
    app = make_forecast(fit, target=25, probability=0.9, periods=8, reps=400, seed=3)
    assert app.message == ""
    ref = outlook(fit, target=25, probability=0.9, periods=8, reps=400, rng=3)
    _same_outlook(app.result, ref)
    # the plan and the band are those of plan_calls and forecast themselves
    plan = fs.plan_calls(fit, 25, 0.9, periods=8, rng=3).to_frame()
    pd.testing.assert_frame_equal(app.result.plan.to_frame(), plan)
    assert app.result.calls == plan["calls"].iloc[-1]
    band = fs.forecast(fit, int(plan["calls"].iloc[-1]), 8, 400, rng=3)
    np.testing.assert_array_equal(app.result.forecast.sales, band.sales)
    reach = band.prob_reach(25, measure="sales").iloc[-1]
    assert app.result.reach == reach
    said = t("report.reach_line", target="25", what=t("report.measure.sales"), p=reach)
    assert said in app.summary.value


@pytest.mark.parametrize(
    ("name", "value", "changed"),
    [
        ("target", 40, {"target": 40}),
        ("probability", 0.6, {"probability": 0.6}),
        ("periods", 13, {"periods": 13}),
        ("calls", 250, {"calls": 250}),
        ("seed", 11, {"rng": 11}),
    ],
)
def test_forecast_app_follows_each_control(fit, name, value, changed):
    app = make_forecast(fit, target=25, probability=0.9, periods=8, reps=300, seed=3)
    app.controls[name].value = value
    assert app.message == ""
    kwargs = {"target": 25, "probability": 0.9, "periods": 8, "reps": 300, "rng": 3}
    kwargs |= changed
    if "calls" in changed:
        assert app.result.calls_from == "given"
    _same_outlook(app.result, outlook(fit, **kwargs))


def test_forecast_app_in_revenue(fit):
    size = fs.DealSize.gamma(20_000, cv=0.5)
    app = make_forecast(fit, target=400_000, periods=6, calls=500, deal_size=size, reps=300)
    assert app.message == "" and app.result.measure == "revenue"
    ref = outlook(fit, target=400_000, periods=6, calls=500, deal_size=size, reps=300, rng=2024)
    _same_outlook(app.result, ref)
    assert app.controls["target"].description == fs.t("app.fc.target_revenue")


# ------------------------------------------------------------ pipeline app
def test_pipeline_app_numbers_equal_the_pipeline_methods():
    app = make_pipeline(PIPELINE, quota=3_000_000)
    assert app.message == ""
    pipe = fs.datasets.load_pipeline()
    r = app.result
    raw = pd.read_csv(PIPELINE)
    chance = raw["stage"].str.rstrip("%").astype(float) / 100
    assert r.weighted == pipe.weighted == math.fsum(raw["amount"] * chance)  # Σ amount × p
    assert r.prob_quota == pipe.prob_reach(3_000_000)
    assert r.prob_weighted == pipe.prob_reach(pipe.weighted)
    pd.testing.assert_series_equal(r.percentiles, pipe.percentiles())
    pd.testing.assert_series_equal(r.deals, pipe.count_pmf())
    p10, p50, p90 = pipe.percentiles()
    assert app.summary.value == t(
        "app.pipe.summary",
        deals=pipe.n_deals,
        total=raw["amount"].sum(),
        weighted=pipe.weighted,
        p_weighted=pipe.prob_reach(pipe.weighted),
        quota=3_000_000,
        p_quota=pipe.prob_reach(3_000_000),
        p10=p10,
        p50=p50,
        p90=p90,
    )
    # the table in the page holds every deal of the file, nothing lost
    assert app.controls["deals"].value.count("\n") == len(raw) + 1


def test_editing_the_table_and_the_quota():
    app = make_pipeline(quota=300_000)
    rows = ["deal,stage,amount", "D1,25%,1000000", "D2,50%,200000", "D3,90%,50000"]
    app.controls["deals"].value = "\n".join(rows)
    # worked example: 0.25 x 1,000,000 + 0.5 x 200,000 + 0.9 x 50,000
    assert app.result.weighted == 395_000
    # 300,000 or more closes only when the million-deal does: 25 %
    assert app.result.prob_quota == pytest.approx(0.25, abs=1e-12)
    app.controls["quota"].value = 200_000  # the 200,000 deal alone does it too
    assert app.result.prob_quota == pytest.approx(1 - 0.75 * 0.5, abs=1e-12)
    ref = pipeline_numbers(fs.Pipeline.from_deals([1e6, 2e5, 5e4], [0.25, 0.5, 0.9]), 200_000)
    assert app.result.prob_quota == ref.prob_quota
    np.testing.assert_allclose(app.result.deals.to_numpy(), ref.deals.to_numpy(), atol=1e-15)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("", "app.pipe.empty", None),
        ("deal,stage,amount\nD1,25%,lots", "pipeline.error.title", (2, "log.reason.bad_amount")),
        ("deal,stage,amount\nD1,33%,", "pipeline.error.title", (2, "pipeline.reason.no_amount")),
        ("deal,stage,amount\nD1,33%", "log.error.short_row", None),  # a cell short
        # blank lines count, as in a file: the bad row is line 5
        (
            "deal,stage,amount\nD1,25%,1000\n\n\nD2,50%,-5",
            "pipeline.error.title",
            (5, "log.reason.bad_amount"),
        ),
        ("deal,stage,amount\nD1,25%,1000,3,4\nD2,50%,5", "log.error.ragged", None),
    ],
)
def test_pipeline_app_shows_bad_tables_as_a_message(text, key, problem):
    app = make_pipeline()
    app.controls["deals"].value = text
    assert app.result is None
    assert app.error.key == key
    assert app.message == str(app.error) and html.escape(app.message) in app.summary.value
    if problem is not None:  # the cell that is wrong: column, row and reason
        (found,) = app.error.values["problems"]
        assert (found.column, found.rows, found.reason) == ("amount", (problem[0],), problem[1])
    if key == "log.error.ragged":
        assert (app.error.values["row"], app.error.values["cells"]) == (2, 5)
    assert "Traceback" not in app.summary.value


def test_the_table_is_read_like_a_file_and_keeps_every_field():
    """Semicolons, and deal ids such as NA are text; a snapshot with its own column of
    probabilities (and a close date) keeps them in the table, so editing it works."""
    app = make_pipeline()
    app.controls["deals"].value = "deal;stage;amount\nNA;25%;1000\nnull;50%;5"
    assert app.message == "" and app.result.pipeline.deals["deal"].tolist() == ["NA", "null"]
    frame = pd.DataFrame(
        {
            "deal": ["a", "b"],
            "stage": ["Proposal", "Negotiation"],
            "probability": ["20%", "60%"],
            "close": ["2025-08-01", "2025-09-01"],
            "amount": [100, 200],
        }
    )
    app = make_pipeline(fs.read_pipeline(frame))
    text = app.controls["deals"].value
    assert text.splitlines()[0] == "deal,stage,probability,close,amount"
    app.controls["deals"].value = text.replace(",100\n", ",300\n")
    assert app.message == "" and app.result.weighted == pytest.approx(0.2 * 300 + 0.6 * 200)


def _upload(app, name: str, content: bytes) -> None:
    app.upload.value = (
        {
            "name": name,
            "type": "",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime.datetime(2025, 6, 30),
        },
    )


def test_uploading_a_file_fills_the_table(tmp_path):
    app = make_pipeline(quota=1_000_000)
    _upload(app, "snapshot.csv", PIPELINE.read_bytes())
    assert app.message == ""
    pipe = fs.datasets.load_pipeline()
    assert app.result.pipeline.n_deals == pipe.n_deals == len(pd.read_csv(PIPELINE))
    assert app.result.weighted == pipe.weighted
    assert app.result.prob_quota == pipe.prob_reach(1_000_000)
    loaded = t("app.pipe.loaded", name="snapshot.csv", deals=pipe.n_deals)
    assert app.upload_status.value == html.escape(loaded)


def test_uploading_a_bad_file_keeps_the_table():
    app = make_pipeline()
    before = app.controls["deals"].value
    _upload(app, "bad.csv", b"deal,stage,amount\nD1,25%,-5\n")
    assert app.controls["deals"].value == before
    assert app.message == ""
    assert "amount" in app.upload_status.value


# ------------------------------------------------------------- wrong types
@pytest.mark.parametrize(
    ("kwargs", "key", "name"),
    [
        ({"fit": "counts.csv"}, "error.type_fit", "fit"),
        ({"deal_size": 20_000}, "error.type_deal_size", "deal_size"),
        ({"cycle": 2}, "error.type_cycle", "cycle"),
        ({"target": "40"}, "error.not_a_number", "target"),
        ({"period": 7}, "error.type_text", "period"),
    ],
)
def test_forecast_app_names_an_argument_of_the_wrong_type(fit, kwargs, key, name):
    with pytest.raises(fs.FunnelsimTypeError) as err:
        make_forecast(**{"fit": fit, **kwargs})
    assert (err.value.key, err.value.values["name"]) == (key, name)


@pytest.mark.parametrize(
    ("kwargs", "key", "name"),
    [
        ({"pipeline": 3}, "error.type_pipeline", "pipeline"),
        ({"quota": "a lot"}, "error.not_a_number", "quota"),
    ],
)
def test_pipeline_app_names_an_argument_of_the_wrong_type(kwargs, key, name):
    with pytest.raises(fs.FunnelsimTypeError) as err:
        make_pipeline(**kwargs)
    assert (err.value.key, err.value.values["name"]) == (key, name)


@pytest.mark.parametrize(
    ("period", "unit", "units"), [("week", "week", "weeks"), ("month", "month", "months")]
)
def test_forecast_app_speaks_in_its_period(fit, period, unit, units):
    """The app knows what a period is: its controls and sentences say "calls a week"."""
    app = make_forecast(fit, target=25, periods=8, reps=200, seed=3, period=period)
    assert app.result.unit == period
    assert app.controls["periods"].description == f"horizon ({units})"
    assert app.controls["calls"].description == f"calls a {unit} (0: as planned)"
    assert f"in 8 {units}" in app.summary.value and f"calls a {unit}" in app.summary.value
    assert "period" not in app.summary.value
    with fs.language("zh"):
        app.relabel()
    assert app.controls["calls"].description.startswith({"week": "每周", "month": "每月"}[period])
    with pytest.raises(fs.FunnelsimValueError):
        make_forecast(fit, target=25, reps=10, period="fortnight")
