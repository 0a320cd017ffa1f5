"""Funnel: construction, validation and the derived quantities.

Reference values are closed forms worked by hand (products of ratios, counts
of the decks' examples); exact rational arithmetic (``fractions``) gives the
reference where floating point would hide a slip.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from keyed import check_error

import funnelsim as fs

ABC = ["a", "b", "c"]


# ------------------------------------------------------------ construction
def test_stages_and_ratios_are_stored_as_tuples_of_str_and_float():
    f = fs.Funnel(["dials", "connects", "sales"], np.array([0.5, 0.25]))
    assert f.stages == ("dials", "connects", "sales")
    assert f.ratios == (0.5, 0.25)
    assert all(type(r) is float for r in f.ratios)
    assert f.n_stages == 3


@pytest.mark.parametrize("ratio", [0.5, np.float64(0.5), np.array(0.5), [0.5], (0.5,)])
def test_a_two_stage_funnel_takes_one_ratio_in_any_form(ratio):
    assert fs.Funnel(["calls", "sales"], ratio).ratios == (0.5,)


@pytest.mark.parametrize("ratios", [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1e-12, 1 - 1e-12)])
def test_ratios_at_the_ends_of_0_1_are_accepted(ratios):
    assert fs.Funnel(ABC, ratios).ratios == ratios


def test_funnel_is_frozen_and_hashable():
    f = fs.Funnel(ABC, [0.5, 0.5])
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.ratios = (0.1, 0.1)  # type: ignore[misc]
    assert f == fs.Funnel(tuple(ABC), (0.5, 0.5))
    assert len({f, fs.Funnel(ABC, [0.5, 0.5])}) == 1


# Each bad input: a ValueError (wrong value) or TypeError (wrong type) whose key and values
# name the argument (or the stage) and the value.
VALUE, TYPE = fs.FunnelsimValueError, fs.FunnelsimTypeError
R0, R1 = "ratios[0] (a -> b)", "ratios[1] (b -> c)"
BAD_FUNNELS = [
    # (stages, ratios, error class, catalogue key, values of the message)
    (ABC, [1.5, 0.5], VALUE, "error.ratio_range", {"name": R0, "value": 1.5}),
    (ABC, [0.5, -0.1], VALUE, "error.ratio_range", {"name": R1, "value": -0.1}),
    (ABC, [0.5, math.nan], VALUE, "error.ratio_range", {"name": R1, "value": "nan"}),
    (ABC, [0.5, math.inf], VALUE, "error.ratio_range", {"name": R1, "value": math.inf}),
    (
        ABC,
        [0.5, "high"],
        TYPE,
        "error.type_number",
        {"name": R1, "value": "'high'", "type": "str"},
    ),
    (ABC, [0.5, None], TYPE, "error.type_number", {"name": R1, "value": "None"}),
    (["a", "b"], "x", TYPE, "error.type_number", {"name": R0, "value": "'x'"}),
    (ABC, [0.5], VALUE, "error.ratio_count", {"n_stages": 3, "expected": 2, "n_ratios": 1}),
    (ABC, [0.5, 0.5, 0.5], VALUE, "error.ratio_count", {"n_ratios": 3}),
    (["a", "b"], [], VALUE, "error.ratio_count", {"n_stages": 2, "expected": 1, "n_ratios": 0}),
    (
        ["a", "b", "a"],
        [0.5, 0.5],
        VALUE,
        "error.duplicate_stage",
        {"name": "stages", "value": "a"},
    ),
    (["a", "", "c"], [0.5, 0.5], VALUE, "error.stage_name", {"name": "stages", "value": "''"}),
    (["a", "   ", "c"], [0.5, 0.5], VALUE, "error.stage_name", {"value": "'   '"}),
    (["a", 3, "c"], [0.5, 0.5], TYPE, "error.type_name", {"name": "stages", "value": "3"}),
    (["a", None, "c"], [0.5, 0.5], TYPE, "error.type_name", {"value": "None", "type": "NoneType"}),
    (["only"], [], VALUE, "error.too_few_stages", {"value": ["only"]}),
    ([], [], VALUE, "error.too_few_stages", {"value": []}),
    ("abc", [0.5, 0.5], TYPE, "error.stages_string", {"name": "stages", "value": "'abc'"}),
    (3, [0.5], TYPE, "error.type_names", {"name": "stages", "value": "3", "type": "int"}),
]


@pytest.mark.parametrize(("stages", "ratios", "error", "key", "values"), BAD_FUNNELS)
def test_bad_funnels_raise_errors_naming_argument_and_value(stages, ratios, error, key, values):
    with pytest.raises(error) as info:
        fs.Funnel(stages, ratios)
    check_error(info, key, **values)


# ------------------------------------------------------------------ derived
# (ratios, overall as an exact fraction)
OVERALL = [
    ([Fraction(1, 2)], Fraction(1, 2)),
    ([Fraction(1, 2), Fraction(1, 2)], Fraction(1, 4)),
    ([Fraction(7, 15), Fraction(1, 7), Fraction(1, 8)], Fraction(1, 120)),  # the daily game
    ([Fraction(1, 4), Fraction(1, 5)], Fraction(1, 20)),  # 20:5:1
    ([Fraction(4, 5), *[Fraction(1, 2)] * 4], Fraction(1, 20)),  # six-stage weekly funnel
    ([Fraction(1), Fraction(1), Fraction(1)], Fraction(1)),
    ([Fraction(3, 10), Fraction(0)], Fraction(0)),
    ([Fraction(1, 1000)] * 3, Fraction(1, 10**9)),
]


@pytest.mark.parametrize(("ratios", "overall"), OVERALL)
def test_overall_reach_and_calls_per_sale_match_exact_fractions(ratios, overall):
    stages = [f"s{k}" for k in range(len(ratios) + 1)]
    f = fs.Funnel(stages, [float(r) for r in ratios])
    assert f.overall == pytest.approx(float(overall), rel=1e-14, abs=0)
    reach = [Fraction(1)]
    for r in ratios:
        reach.append(reach[-1] * r)
    np.testing.assert_allclose(f.reach, [float(x) for x in reach], rtol=1e-14, atol=0)
    expected_cps = math.inf if overall == 0 else float(1 / overall)
    assert f.calls_per_sale == pytest.approx(expected_cps, rel=1e-14)


def test_calls_per_sale_is_inf_when_some_ratio_is_zero():
    assert fs.Funnel(ABC, [0.5, 0.0]).calls_per_sale == math.inf


# (ratios, calls, expected counts worked by hand)
EXPECTED = [
    ([7 / 15, 1 / 7, 1 / 8], 15, [15, 7, 1, 0.125]),
    ([7 / 15, 1 / 7, 1 / 8], 120, [120, 56, 8, 1]),
    ([0.8, 0.5, 0.5, 0.5, 0.5], 100, [100, 80, 40, 20, 10, 5]),
    ([0.25, 0.2], 20, [20, 5, 1]),
    ([0.25, 0.2], 0, [0, 0, 0]),
    ([0.3, 0.0], 10, [10, 3, 0]),
    ([0.5, 0.5], 2.5, [2.5, 1.25, 0.625]),  # expected values need not be whole
]


@pytest.mark.parametrize(("ratios", "calls", "counts"), EXPECTED)
def test_expected_counts_per_stage(ratios, calls, counts):
    stages = [f"s{k}" for k in range(len(ratios) + 1)]
    out = fs.Funnel(stages, ratios).expected(calls)
    assert isinstance(out, pd.Series)
    assert list(out.index) == stages and out.index.name == "stage"
    np.testing.assert_allclose(out.to_numpy(), counts, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    ("calls", "error", "key"),
    [
        (-1, VALUE, "error.nonnegative"),
        (math.nan, VALUE, "error.nonnegative"),
        (math.inf, VALUE, "error.nonnegative"),
        ("many", TYPE, "error.type_number"),
    ],
)
def test_expected_rejects_bad_calls(calls, error, key):
    with pytest.raises(error) as info:
        fs.Funnel(ABC, [0.5, 0.5]).expected(calls)
    check_error(info, key, **{"name": "calls"})


# (ratios, leads each stage consumes per last-stage outcome)
PER_SALE = [
    ([0.25, 0.2], [20, 5, 1]),
    ([7 / 15, 1 / 7, 1 / 8], [120, 56, 8, 1]),
    ([1.0, 1.0], [1, 1, 1]),
    ([0.5, 0.0], [math.inf, math.inf, math.inf]),
]


@pytest.mark.parametrize(("ratios", "per_sale"), PER_SALE)
def test_per_sale(ratios, per_sale):
    stages = [f"s{k}" for k in range(len(ratios) + 1)]
    out = fs.Funnel(stages, ratios).per_sale()
    assert list(out.index) == stages
    np.testing.assert_allclose(out.to_numpy(), per_sale, rtol=1e-13)


# (stage, chance that a lead there reaches the last stage) for ratios 0.5, 0.4, 0.25
CLOSE = [("a", 0.05), ("b", 0.1), ("c", 0.25), ("d", 1.0)]


@pytest.mark.parametrize(("stage", "probability"), CLOSE)
def test_close_probability(stage, probability):
    f = fs.Funnel(["a", "b", "c", "d"], [0.5, 0.4, 0.25])
    assert f.close_probability(stage) == pytest.approx(probability, rel=1e-14)


def test_close_probability_of_first_stage_is_overall():
    f = fs.Funnel(["a", "b", "c", "d"], [0.3, 0.7, 0.9])
    assert f.close_probability("a") == f.overall


@pytest.mark.parametrize("stage", ["e", "", 0, None])
def test_unknown_stage_names_value_and_choices(stage):
    f = fs.Funnel(ABC, [0.5, 0.5])
    for lookup in (f.close_probability, f.stage_index):
        with pytest.raises(VALUE) as info:
            lookup(stage)
        check_error(info, "error.unknown_stage", **{"value": repr(stage), "choices": "a, b, c"})


# ---------------------------------------------------------------- with_ratio
@pytest.mark.parametrize(
    ("stage", "new"),
    [
        ("b", (0.9, 0.5)),
        ("c", (0.5, 0.9)),
        (0, (0.9, 0.5)),
        (1, (0.5, 0.9)),
        (np.int64(1), (0.5, 0.9)),
    ],
)
def test_with_ratio_by_name_or_index_returns_a_new_funnel(stage, new):
    f = fs.Funnel(ABC, [0.5, 0.5])
    g = f.with_ratio(stage, 0.9)
    assert g.ratios == new
    assert f.ratios == (0.5, 0.5)  # the original is unchanged
    assert g.stages == f.stages


@pytest.mark.parametrize("stage", ["a", "z", 2, -1, True, 1.0])
def test_with_ratio_rejects_a_stage_no_ratio_leads_into(stage):
    with pytest.raises(VALUE) as info:
        fs.Funnel(ABC, [0.5, 0.5]).with_ratio(stage, 0.9)
    check_error(info, "error.unknown_ratio_stage", **{"value": repr(stage), "choices": "b, c"})


@pytest.mark.parametrize("value", [1.2, -0.5, math.nan])
def test_with_ratio_validates_the_new_value(value):
    with pytest.raises(VALUE) as info:
        fs.Funnel(ABC, [0.5, 0.5]).with_ratio("c", value)
    check_error(info, "error.ratio_range", **{"name": R1})


# --------------------------------------------------------------- from_counts
FROM_COUNTS = [
    ([20, 5, 1], (0.25, 0.2)),
    ([100, 80, 40, 20, 10, 5], (0.8, 0.5, 0.5, 0.5, 0.5)),
    ([15, 7, 1], (7 / 15, 1 / 7)),
    ([10, 10], (1.0,)),
    ([10, 0], (0.0,)),  # nobody reached the last stage: the ratio is 0, not undefined
    ([2.5, 0.5], (0.2,)),
]


@pytest.mark.parametrize(("counts", "ratios"), FROM_COUNTS)
def test_from_counts(counts, ratios):
    stages = [f"s{k}" for k in range(len(counts))]
    f = fs.Funnel.from_counts(stages, counts)
    np.testing.assert_allclose(f.ratios, ratios, rtol=1e-15)
    np.testing.assert_allclose(f.expected(counts[0]).to_numpy(), counts, rtol=1e-13)


BAD_COUNTS = [
    # (stages, counts, error class, catalogue key, values)
    (
        ABC,
        [10, 20, 5],
        VALUE,
        "error.counts_rising",
        {"upper": "a", "lower": "b", "a": 10, "b": 20},
    ),
    (ABC, [10, 5, 6], VALUE, "error.counts_rising", {"upper": "b", "lower": "c", "a": 5, "b": 6}),
    (ABC, [10, 0, 0], VALUE, "error.zero_count", {"stage": "b", "index": 1}),
    (ABC, [0, 0, 0], VALUE, "error.zero_count", {"stage": "a", "index": 0}),
    (ABC, [10, -1, 0], VALUE, "error.nonnegative", {"name": "counts[1]", "value": -1}),
    (ABC, [10, math.nan, 0], VALUE, "error.nonnegative", {"name": "counts[1]", "value": "nan"}),
    (ABC, [10, "x", 0], TYPE, "error.type_number", {"name": "counts[1]", "value": "'x'"}),
    (ABC, 10, TYPE, "error.type_list", {"name": "counts", "value": "10", "type": "int"}),
    ("abc", [10, 5, 1], TYPE, "error.stages_string", {"name": "stages"}),
    (ABC, [10, 5], VALUE, "error.count_length", {"n_counts": 2, "n_stages": 3}),
    (ABC, [10, 5, 2, 1], VALUE, "error.count_length", {"n_counts": 4, "n_stages": 3}),
    (["a"], [10], VALUE, "error.too_few_stages", {"value": ["a"]}),
    (["a", "a"], [10, 5], VALUE, "error.duplicate_stage", {"value": "a"}),
]


@pytest.mark.parametrize(("stages", "counts", "error", "key", "values"), BAD_COUNTS)
def test_from_counts_rejects_bad_counts(stages, counts, error, key, values):
    with pytest.raises(error) as info:
        fs.Funnel.from_counts(stages, counts)
    check_error(info, key, **values)


# ------------------------------------------------------------------ output
def test_to_frame_is_one_row_per_stage():
    f = fs.Funnel(["a", "b", "c"], [0.5, 0.2])
    frame = f.to_frame()
    assert list(frame.columns) == ["stage", "ratio", "reach"]
    assert frame["stage"].tolist() == ["a", "b", "c"]
    assert math.isnan(frame["ratio"].iloc[0])
    np.testing.assert_allclose(frame["ratio"].iloc[1:], [0.5, 0.2], rtol=0)
    np.testing.assert_allclose(frame["reach"], [1.0, 0.5, 0.1], rtol=1e-15)


def test_repr_shows_chain_ratios_and_overall():
    f = fs.Funnel(["dials", "connects", "meetings", "sales"], [7 / 15, 1 / 7, 1 / 8])
    assert repr(f) == (
        "Funnel(dials -> connects -> meetings -> sales; "
        "ratios 0.467, 0.143, 0.125; overall 0.00833)"
    )
