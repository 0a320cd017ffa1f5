"""Every worked example of DOMAIN.md section 1 reproduces the decks' numbers.

The reference numbers are the decks' own (quoted in DOMAIN.md), worked by hand
in the comments; the kit must arrive at them through its public API.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import funnelsim as fs

DOMAIN_ORDER = [
    "daily ratio game",
    "20:5:1",
    "six-stage weekly funnel",
    "weighted pipeline",
    "target back-calculation",
    "grade ladder",
    "deal-size composition",
]


def test_names_are_the_domain_examples_in_order():
    assert fs.presets.names() == DOMAIN_ORDER


@pytest.mark.parametrize("name", DOMAIN_ORDER)
def test_every_preset_builds_with_a_description(name):
    pre = fs.presets.get(name)
    assert pre.name == name
    assert isinstance(pre.funnel, fs.Funnel)
    assert pre.description.strip()
    assert 0 < pre.funnel.overall <= 1


# ------------------------------------------------------- daily ratio game
def test_daily_ratio_game_15_dials_7_connects_1_meeting():
    game = fs.presets.get("daily ratio game")
    assert game.funnel.stages == ("dials", "connects", "meetings", "sales")
    np.testing.assert_allclose(game.funnel.expected(15), [15, 7, 1, 1 / 8], rtol=1e-13)
    assert game.calls == 15 and game.period == "day"


def test_daily_ratio_game_8_meetings_a_week_give_1_sale_and_50_a_year():
    game = fs.presets.get("daily ratio game")
    # 15 dials x 5 days = 75 dials -> 5 new meetings; + 3 carried over = 8 -> 1 sale
    assert game.funnel.expected(75)["meetings"] == pytest.approx(5, rel=1e-13)
    assert (5 + 3) * game.funnel.ratios[-1] == pytest.approx(1, rel=1e-13)
    # 52 weeks - 2 weeks holiday = 50 working weeks x 1 sale
    assert game.extra["working_weeks"] == 50
    assert game.sales_per_year() == pytest.approx(50, rel=1e-12)


# ------------------------------------------------------------------ 20:5:1
def test_twenty_five_one_every_sale_consumes_5_prospects():
    pre = fs.presets.get("20:5:1")
    np.testing.assert_allclose(pre.funnel.expected(20), [20, 5, 1], rtol=1e-13)
    per_sale = pre.funnel.per_sale()
    np.testing.assert_allclose(per_sale, [20, 5, 1], rtol=1e-13)
    assert per_sale["prospects"] == pytest.approx(5, rel=1e-13)  # 5, not 1


# ------------------------------------------------------ six-stage funnel
def test_six_stage_weekly_funnel_100_80_40_20_10_5():
    pre = fs.presets.get("six-stage weekly funnel")
    assert pre.funnel.n_stages == 6
    np.testing.assert_allclose(pre.funnel.expected(100), [100, 80, 40, 20, 10, 5], rtol=1e-13)
    np.testing.assert_allclose(pre.funnel.ratios, [0.8, 0.5, 0.5, 0.5, 0.5], rtol=1e-15)


# ------------------------------------------------------ weighted pipeline
def test_weighted_pipeline_1_000_000_at_25_percent_counts_250_000():
    pipe = fs.presets.get("weighted pipeline")
    deal = pipe.extra["example_deal"]
    assert deal == 1_000_000
    assert deal * pipe.funnel.close_probability("25%") == pytest.approx(250_000, rel=1e-13)


def test_weighted_pipeline_stage_names_are_their_chance_of_closing():
    funnel = fs.presets.get("weighted pipeline").funnel
    for stage in funnel.stages:
        if stage.endswith("%"):
            weight = float(stage.rstrip("%")) / 100
            assert funnel.close_probability(stage) == pytest.approx(weight, rel=1e-13)
    assert funnel.close_probability(funnel.stages[-1]) == 1.0


# ------------------------------------------------ target back-calculation
def test_target_back_calculation_needs_38_deals_then_51_102_408():
    pre = fs.presets.get("target back-calculation")
    assert pre.target == 500_000
    # Deck's bands: <10k 56.5 %, 10-30k 27.8 %, 30-50k 11 %, >50k 4.6 % (99.9 % in all).
    np.testing.assert_allclose(
        np.array(pre.deal_size.shares) * 0.999, [0.565, 0.278, 0.11, 0.046], rtol=1e-12
    )
    assert pre.deal_size.edges == (0, 10_000, 30_000, 50_000, math.inf)
    # mean = (0.565*5k + 0.278*15k + 0.11*35k + 0.046*55k) / 0.999 = 13,375 / 0.999
    assert pre.deal_size.mean == pytest.approx(13_375 / 0.999, rel=1e-12)
    # 500,000 / 13,388 = 37.3 -> 38 deals
    assert pre.deals_needed() == 38
    table = fs.theory.back_calculate(pre.funnel, pre.target, deal_size=pre.deal_size)
    assert table["stage"].tolist() == list(pre.funnel.stages)
    # 38 / 0.75 = 50.7 -> 51; 51 / 0.5 = 102; 102 / 0.25 = 408
    assert table["needed"].tolist() == [408, 102, 51, 38]


# ---------------------------------------------------------- grade ladder
def test_grade_ladder_10_000_000_at_200_000_needs_50_a_grade_clients():
    pre = fs.presets.get("grade ladder")
    assert pre.funnel.stages == ("E", "D", "C", "B", "A")
    assert pre.target == 10_000_000 and pre.deal_size.mean == 200_000
    assert pre.deals_needed() == 50
    table = fs.theory.back_calculate(pre.funnel, pre.target, deal_size=pre.deal_size)
    assert table["needed"].iloc[-1] == 50
    # Working back with the preset's illustrative step-up rates 0.5, 0.4, 0.5, 0.6:
    # 50 / 0.6 = 83.3 -> 84; / 0.5 = 168; / 0.4 = 420; / 0.5 = 840 E-grade leads.
    assert pre.funnel.ratios == (0.5, 0.4, 0.5, 0.6)
    assert table["needed"].tolist() == [840, 420, 168, 84, 50]


@pytest.mark.parametrize("name", ["daily ratio game", "20:5:1", "six-stage weekly funnel"])
def test_deals_needed_without_target_is_a_clear_error(name):
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.presets.get(name).deals_needed()
    assert info.value.key == "error.preset_no_target" and info.value.values == {"name": name}


# ------------------------------------------------------------------ lookup
@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("Daily Ratio Game", "daily ratio game"),
        ("daily_ratio_game", "daily ratio game"),
        ("  daily-ratio   game ", "daily ratio game"),
        ("SIX STAGE WEEKLY FUNNEL", "six-stage weekly funnel"),
        ("six_stage_weekly_funnel", "six-stage weekly funnel"),
        ("Target-Back-Calculation", "target back-calculation"),
        ("20:5:1", "20:5:1"),
        ("grade_ladder", "grade ladder"),
    ],
)
def test_names_are_normalised(given, name):
    assert fs.presets.get(given).name == name


@pytest.mark.parametrize("given", ["nope", "", "20-5-1", "daily ratio"])
def test_unknown_preset_lists_the_choices(given):
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.presets.get(given)
    assert info.value.key == "error.unknown_preset" and info.value.values["name"] == given
    assert info.value.values["choices"].split(", ") == list(DOMAIN_ORDER)


@pytest.mark.parametrize("given", [3, None, ["20:5:1"]])
def test_a_preset_name_that_is_not_text_is_a_type_error(given):
    with pytest.raises(fs.FunnelsimTypeError) as info:
        fs.presets.get(given)
    assert info.value.key == "error.type_choice"
    assert (
        info.value.values["name"] == "name" and info.value.values["type"] == type(given).__name__
    )


def test_get_builds_a_fresh_preset_each_time():
    a = fs.presets.get("20:5:1")
    b = fs.presets.get("20:5:1")
    assert a == b and a is not b
