"""Currency on money axes: one setting, used by every money axis and amount in a plot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import funnelsim as fs
from funnelsim import lessons, plotting
from funnelsim.plotting.theme import money_tick

GAME = fs.presets.get("daily ratio game").funnel
WEEKLY = fs.presets.get("six-stage weekly funnel").funnel
SIZE = fs.DealSize.gamma(10_000, cv=0.5)


@pytest.fixture(autouse=True)
def _default_currency():
    """Every test starts and ends with the language's own currency."""
    plotting.set_currency(None)
    yield
    plotting.set_currency(None)


def _ticks(axis) -> list[str]:
    axis.axes.figure.canvas.draw()
    return [label.get_text() for label in axis.get_ticklabels() if label.get_text()]


def test_the_default_is_the_renminbi_written_for_each_language():
    assert plotting.currency() == "CN¥"
    with fs.language("zh"):
        assert plotting.currency() == "¥"
        assert money_tick(500_000) == "¥500,000"
    assert money_tick(500_000) == "CN¥500,000"
    assert money_tick(-1_250) == "-CN¥1,250"


def test_one_setting_changes_every_language_until_reset():
    plotting.set_currency("€")
    assert plotting.currency() == "€"
    with fs.language("zh"):
        assert money_tick(2_000) == "€2,000"
    plotting.set_currency("")
    assert money_tick(2_000) == "2,000"
    plotting.set_currency(None)
    assert plotting.currency() == "CN¥"


def test_a_symbol_that_is_not_text_is_a_type_error_with_a_key():
    with pytest.raises(fs.FunnelsimTypeError) as err:
        plotting.set_currency(5)
    assert err.value.key == "error.type_text"
    assert err.value.values["name"] == "symbol"


def test_the_environment_sets_it_at_start_up():
    env = {**os.environ, "FUNNELSIM_CURRENCY": "HK$", "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, "-c", "import funnelsim as fs; print(fs.plotting.currency())"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "HK$"


def _money_charts():
    """Every plot with a money axis or a money amount, and which axis holds money."""
    game = lessons.ratio_game(GAME, 15, target=500_000, periods=250, deal_size=SIZE)
    steady = lessons.revenue_steadiness(
        WEEKLY, 100, periods=12, reps=50, cycle=2, deal_size=SIZE, rng=1
    )
    effects = lessons.cycle_effects(WEEKLY, 100, periods=20, reps=20, deal_size=SIZE, rng=2)
    fit = fs.fit(fs.datasets.load_events())
    outlook = fs.forecast(fit, calls=200, periods=6, reps=200, deal_size=SIZE, rng=3)
    pipe = fs.Pipeline.from_deals([100_000, 200_000, 400_000], [0.25, 0.5, 0.75])
    return [
        ("levers", lambda: plotting.plot_levers(game), "y"),
        ("funnel", lambda: plotting.plot_funnel(game), None),
        ("fan", lambda: plotting.plot_fan(steady), "y"),
        ("cycle", lambda: plotting.plot_cycle_effects(effects), "y"),
        ("forecast", lambda: plotting.plot_forecast(outlook, target=150_000), "y"),
        ("pipeline", lambda: plotting.plot_pipeline(pipe, quota=300_000), "x"),
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("symbol", [None, "€"])
def test_every_money_axis_and_amount_carries_the_currency(lang, symbol):
    plotting.set_currency(symbol)
    with fs.language(lang):
        wanted = plotting.currency()
        for name, draw, axis in _money_charts():
            ax = draw()
            if axis is not None:
                ticks = _ticks(getattr(ax, f"{axis}axis"))
                assert ticks and all(wanted in tick for tick in ticks), (name, ticks)
            legend = [text.get_text() for text in ax.get_legend().get_texts()]
            money = [text for text in legend if any(ch.isdigit() for ch in text)]
            if name in ("levers", "funnel", "forecast", "pipeline"):
                assert any(wanted in text for text in money), (name, legend)


def test_counts_carry_no_currency():
    """Sales, deals and calls are counts: no symbol on their axes."""
    game = lessons.ratio_game(GAME, 15, target=50, periods=250)
    fit = fs.fit(fs.datasets.load_events())
    outlook = fs.forecast(fit, calls=200, periods=6, reps=200, rng=3)
    pipe = fs.Pipeline.from_deals([100_000, 200_000, 400_000], [0.25, 0.5, 0.75])
    for ax, axis in [
        (plotting.plot_levers(game), "y"),
        (plotting.plot_forecast(outlook, measure="sales", target=40), "y"),
        (plotting.plot_forecast(outlook, measure="revenue"), "y"),  # no deal size: deals
        (plotting.plot_pipeline(pipe, measure="deals"), "x"),
    ]:
        ticks = _ticks(getattr(ax, f"{axis}axis"))
        assert ticks and not any("¥" in tick for tick in ticks), ticks
    assert "¥" not in plotting.plot_funnel(game).get_legend().get_texts()[1].get_text()
