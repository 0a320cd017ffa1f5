"""Funnel: construction, validation and the derived quantities.

Reference values are closed forms worked by hand (products of ratios, counts
of the decks' examples); exact rational arithmetic (``fractions``) gives the
reference where floating point would hide a slip.
"""

from __future__ import annotations

import dataclasses
import math
import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

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


# Each bad input: the error names the argument (or the stage) and quotes the value.
BAD_FUNNELS = [
    # (stages, ratios, fragments the message must contain)
    (ABC, [1.5, 0.5], ["ratios[0]", "a -> b", "1.5"]),
    (ABC, [0.5, -0.1], ["ratios[1]", "b -> c", "-0.1"]),
    (ABC, [0.5, math.nan], ["ratios[1]", "nan"]),
    (ABC, [0.5, math.inf], ["ratios[1]", "inf"]),
    (ABC, [0.5, "high"], ["ratios[1]", "'high'", "must be a number"]),
    (ABC, [0.5, None], ["ratios[1]", "None"]),
    (ABC, [0.5], ["3 stages need 2 ratios", "got 1"]),
    (ABC, [0.5, 0.5, 0.5], ["3 stages need 2 ratios", "got 3"]),
    (["a", "b"], [], ["2 stages need 1 ratios", "got 0"]),
    (["a", "b", "a"], [0.5, 0.5], ["stages", "unique", "a"]),
    (["a", "", "c"], [0.5, 0.5], ["stages", "''"]),
    (["a", "   ", "c"], [0.5, 0.5], ["stages", "'   '"]),
    (["a", 3, "c"], [0.5, 0.5], ["stages", "3"]),
    (["a", None, "c"], [0.5, 0.5], ["stages", "None"]),
    (["only"], [], ["at least two stages", "['only']"]),
    ([], [], ["at least two stages", "[]"]),
    ("abc", [0.5, 0.5], ["stages must be a list of stage names", "'abc'"]),
]


@pytest.mark.parametrize(("stages", "ratios", "fragments"), BAD_FUNNELS)
def test_bad_funnels_raise_valueerror_naming_argument_and_value(stages, ratios, fragments):
    with pytest.raises(ValueError) as info:
        fs.Funnel(stages, ratios)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


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


@pytest.mark.parametrize("calls", [-1, math.nan, math.inf, "many"])
def test_expected_rejects_bad_calls(calls):
    with pytest.raises(ValueError, match="calls"):
        fs.Funnel(ABC, [0.5, 0.5]).expected(calls)


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
    with pytest.raises(ValueError, match=re.escape(repr(stage))) as info:
        f.close_probability(stage)
    assert "a, b, c" in str(info.value)
    with pytest.raises(ValueError, match="a, b, c"):
        f.stage_index(stage)


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
    with pytest.raises(ValueError, match="Ratios lead into: b, c"):
        fs.Funnel(ABC, [0.5, 0.5]).with_ratio(stage, 0.9)


@pytest.mark.parametrize("value", [1.2, -0.5, math.nan])
def test_with_ratio_validates_the_new_value(value):
    with pytest.raises(ValueError, match=r"ratios\[1\]"):
        fs.Funnel(ABC, [0.5, 0.5]).with_ratio("c", value)


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
    # (stages, counts, fragments)
    (ABC, [10, 20, 5], ["a", "b", "10", "20", "rise"]),
    (ABC, [10, 5, 6], ["b", "c", "5", "6"]),
    (ABC, [10, 0, 0], ["b", "count of 0"]),
    (ABC, [0, 0, 0], ["a", "count of 0"]),
    (ABC, [10, -1, 0], ["counts[1]", "-1"]),
    (ABC, [10, math.nan, 0], ["counts[1]", "nan"]),
    (ABC, [10, "x", 0], ["counts[1]", "'x'"]),
    (ABC, [10, 5], ["2 counts", "3 stages"]),
    (ABC, [10, 5, 2, 1], ["4 counts", "3 stages"]),
    (["a"], [10], ["at least two stages"]),
    (["a", "a"], [10, 5], ["unique", "a"]),
]


@pytest.mark.parametrize(("stages", "counts", "fragments"), BAD_COUNTS)
def test_from_counts_rejects_bad_counts(stages, counts, fragments):
    with pytest.raises(ValueError) as info:
        fs.Funnel.from_counts(stages, counts)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


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
