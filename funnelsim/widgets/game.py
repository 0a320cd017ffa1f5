"""Apps of the numbers game (notebooks 01-03): large numbers, the ratio game, steadiness.

Each ``make_*`` wires controls to a function of :mod:`funnelsim.lessons.game`
and its plot; see :class:`funnelsim.widgets.App`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as W
import numpy as np

from .. import lessons, plotting, presets
from ..distributions import Cycle, DealSize
from ..funnel import Funnel
from ..i18n import t
from .app import DEFAULT_SEED, SLOW, WIDE, App, app_factory, seed_control

__all__ = ["make_law_of_large_numbers", "make_ratio_game", "make_revenue_steadiness"]


def _ratio_sliders(funnel: Funnel) -> dict[str, W.FloatSlider]:
    out = {}
    for k, r in enumerate(funnel.ratios):
        out[f"ratio_{k}"] = W.FloatSlider(
            value=max(0.001, float(r)),
            min=0.001,
            max=1.0,
            step=0.001,
            readout_format=".1%",
            description=t("app.ratio", upper=funnel.stages[k], lower=funnel.stages[k + 1]),
            style=WIDE,
            **SLOW,
        )
    return out


def _funnel_from(funnel: Funnel, values: Mapping[str, Any]) -> Funnel:
    ratios = tuple(values[f"ratio_{k}"] for k in range(len(funnel.ratios)))
    return Funnel(funnel.stages, ratios)


def _deal_controls(mean: float, cv: float) -> dict[str, W.ValueWidget]:
    """The deal-size mean and spread controls that the apps share."""
    return {
        "deal_size": W.BoundedFloatText(
            value=mean,
            min=1,
            max=1e9,
            step=1_000,
            description=t("app.deal_size"),
            style=WIDE,
        ),
        "deal_cv": W.FloatSlider(
            value=cv,
            min=0.0,
            max=2.0,
            step=0.05,
            description=t("app.deal_cv"),
            style=WIDE,
            **SLOW,
        ),
    }


def _deal_size(mean: float, cv: float) -> DealSize:
    return DealSize.gamma(mean, cv=cv)


def _funnel_arg(funnel: Funnel | str) -> Funnel:
    return presets.get(funnel).funnel if isinstance(funnel, str) else funnel


@app_factory
def make_law_of_large_numbers(
    p: float = 0.5,
    n: int = 1000,
    reps: int = 20,
    *,
    seed: int = DEFAULT_SEED,
    max_n: int = 20_000,
    max_reps: int = 200,
) -> App:
    """The law of large numbers: running share of successes, rep by rep.

    Controls: chance of success ``p``, calls per rep ``n``, number of reps,
    seed.

    Parameters
    ----------
    p, n, reps : float, int, int
        Starting values of the controls.
    seed : int
        Starting seed (the same seed gives the same picture).
    max_n, max_reps : int
        Slider ranges.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.RunningShare`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_law_of_large_numbers(p=0.3, n=500, reps=10, seed=3)
    >>> round(app.result.half_width, 3)
    0.04
    >>> app.controls["n"].value = 2000
    >>> round(app.result.half_width, 3)      # four times the calls, half the band
    0.02
    """
    controls = {
        "p": W.FloatSlider(
            value=p,
            min=0.005,
            max=0.995,
            step=0.005,
            readout_format=".1%",
            description=t("app.lln.p"),
            style=WIDE,
            **SLOW,
        ),
        "n": W.IntSlider(
            value=n,
            min=10,
            max=max_n,
            step=10,
            description=t("app.lln.n"),
            style=WIDE,
            **SLOW,
        ),
        "reps": W.IntSlider(
            value=reps, min=1, max=max_reps, description=t("app.lln.reps"), style=WIDE, **SLOW
        ),
        "seed": seed_control(seed),
    }

    def compute(v):
        return lessons.running_share(v["p"], v["n"], v["reps"], rng=v["seed"])

    def draw(result, axes, v):
        plotting.plot_running_share(result, ax=axes[0])

    def describe(r, v):
        if r.reps == 1:
            return t(
                "app.lln.summary_one",
                n=r.n,
                share=float(r.final[0]),
                p=r.p,
                half=r.half_width,
                level=r.confidence_level,
            )
        return t(
            "app.lln.summary",
            n=r.n,
            reps=r.reps,
            low=float(r.final.min()),
            high=float(r.final.max()),
            p=r.p,
            inside=r.inside,
            half=r.half_width,
            level=r.confidence_level,
        )

    return App(
        title=t("app.lln.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        figsize=(12, 5.5),
        columns=2,
    )


@app_factory
def make_ratio_game(
    funnel: Funnel | str = "daily ratio game",
    *,
    calls: int = 15,
    periods: int = 250,
    target: float = 500_000,
    deal_size: float = 10_000,
    deal_cv: float = 0.5,
    probability: float = 0.9,
    max_calls: int = 200,
) -> App:
    """The ratio game: each ratio, calls per day, the target and the two levers.

    Controls: one slider per ratio, dials per day, working days in the plan,
    target revenue, average deal size and its spread, how sure the plan must
    be, and the two levers (extra dials a day; which ratio to improve and by
    how much). The app shows the funnel (what the dials give on average
    against what the target needs), the two levers, and in words the chance
    of reaching the target and the dials a day a sure plan needs.

    Parameters
    ----------
    funnel : Funnel or str
        A funnel or the name of a preset (``"daily ratio game"``).
    calls, periods, target, deal_size, deal_cv, probability : numbers
        Starting values: dials a day, working days, target revenue, average
        deal size, its coefficient of variation, how sure.
    max_calls : int
        Top of the dials-a-day slider.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.RatioGame`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_ratio_game()
    >>> app.result.plan_calls, app.result.sure_calls
    (24, 30)
    >>> app.controls["ratio_0"].value = 8 / 15     # one more connect per 15 dials
    >>> app.result.plan_calls
    21
    """
    base = _funnel_arg(funnel)
    stage_names = list(base.stages[1:])
    controls: dict[str, W.ValueWidget] = {}
    controls.update(_ratio_sliders(base))
    controls.update(
        {
            "calls": W.IntSlider(
                value=calls,
                min=1,
                max=max_calls,
                description=t("app.ratio_game.calls"),
                style=WIDE,
                **SLOW,
            ),
            "periods": W.IntSlider(
                value=periods,
                min=5,
                max=260,
                step=5,
                description=t("app.ratio_game.periods"),
                style=WIDE,
                **SLOW,
            ),
            "target": W.BoundedFloatText(
                value=target,
                min=1,
                max=1e12,
                step=10_000,
                description=t("app.ratio_game.target"),
                style=WIDE,
            ),
            **_deal_controls(deal_size, deal_cv),
            "probability": W.FloatSlider(
                value=probability,
                min=0.5,
                max=0.99,
                step=0.01,
                readout_format=".0%",
                description=t("app.ratio_game.probability"),
                style=WIDE,
                **SLOW,
            ),
            "extra_calls": W.IntSlider(
                value=calls,
                min=0,
                max=max_calls,
                description=t("app.ratio_game.extra_calls"),
                style=WIDE,
                **SLOW,
            ),
            "stage": W.Dropdown(
                options=stage_names,
                value=stage_names[0],
                description=t("app.ratio_game.stage"),
                style=WIDE,
            ),
            "step": W.FloatSlider(
                value=round(1 / calls, 3),
                min=0.0,
                max=0.5,
                step=0.001,
                readout_format=".1%",
                description=t("app.ratio_game.step"),
                style=WIDE,
                **SLOW,
            ),
        }
    )

    def compute(v):
        f = _funnel_from(base, v)
        k = f.stages.index(v["stage"]) - 1
        return lessons.ratio_game(
            f,
            v["calls"],
            target=v["target"],
            periods=v["periods"],
            deal_size=_deal_size(v["deal_size"], v["deal_cv"]),
            extra_calls=v["extra_calls"],
            stage=v["stage"],
            new_ratio=min(1.0, f.ratios[k] + v["step"]),
            probability=v["probability"],
        )

    def draw(result, axes, v):
        plotting.plot_funnel(result, ax=axes[0], period="day")
        plotting.plot_levers(result, ax=axes[1], period="day")

    def describe(r, v):
        sales = float(r.expected.iloc[-1])
        return t(
            "app.ratio_game.summary",
            calls=r.calls,
            periods=r.periods,
            sales=sales,
            revenue=r.expected_result,
            target=r.target,
            p_current=html.escape(plotting.chance(r.p_current)),
            plan=r.plan_calls,
            p_plan=html.escape(plotting.chance(r.p_plan)),
            probability=r.probability,
            sure=r.sure_calls,
            margin=r.margin,
        )

    return App(
        title=t("app.ratio_game.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        panels=lambda v: {"ncols": 2},
        figsize=(16, 6),
        columns=3,
    )


@app_factory
def make_revenue_steadiness(
    funnel: Funnel | str = "six-stage weekly funnel",
    *,
    calls: int = 100,
    cycle: float = 4.0,
    cycle_cv: float = 0.5,
    deal_size: float = 10_000,
    deal_cv: float = 0.5,
    reps: int = 2000,
    periods: int = 52,
    seed: int = DEFAULT_SEED,
    max_calls: int = 1000,
) -> App:
    """How steady is revenue? Fan chart by week or month, and noise against calls.

    Controls: calls per week, one slider per ratio, sales-cycle mean and
    spread, deal-size mean and spread, reps, weeks, seed, and whether the fan
    chart shows weeks or months (changing only that redraws without
    simulating again).

    Parameters
    ----------
    funnel : Funnel or str
        A funnel or the name of a preset (``"six-stage weekly funnel"``).
    calls, cycle, cycle_cv, deal_size, deal_cv, reps, periods, seed : numbers
        Starting values of the controls.
    max_calls : int
        Top of the calls slider.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.RevenueSteadiness`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_revenue_steadiness(reps=500, seed=1)
    >>> round(app.result.theory_cv("week"), 3)
    0.498
    >>> app.controls["calls"].value = 400          # four times the calls
    >>> round(app.result.theory_cv("week"), 3)     # half the noise
    0.249
    """
    base = _funnel_arg(funnel)
    controls: dict[str, W.ValueWidget] = {
        "calls": W.IntSlider(
            value=calls,
            min=5,
            max=max_calls,
            step=5,
            description=t("app.steady.calls"),
            style=WIDE,
            **SLOW,
        ),
    }
    controls.update(_ratio_sliders(base))
    controls.update(
        {
            "cycle": W.FloatSlider(
                value=cycle,
                min=0.0,
                max=12.0,
                step=0.5,
                description=t("app.steady.cycle"),
                style=WIDE,
                **SLOW,
            ),
            "cycle_cv": W.FloatSlider(
                value=cycle_cv,
                min=0.0,
                max=1.5,
                step=0.05,
                description=t("app.steady.cycle_cv"),
                style=WIDE,
                **SLOW,
            ),
            **_deal_controls(deal_size, deal_cv),
            "reps": W.IntSlider(
                value=reps,
                min=100,
                max=5000,
                step=100,
                description=t("app.steady.reps"),
                style=WIDE,
                **SLOW,
            ),
            "periods": W.IntSlider(
                value=periods,
                min=8,
                max=104,
                step=4,
                description=t("app.steady.periods"),
                style=WIDE,
                **SLOW,
            ),
            "seed": seed_control(seed),
            "view": W.ToggleButtons(
                options=[
                    (t("app.steady.view_week"), "week"),
                    (t("app.steady.view_month"), "month"),
                    (t("app.steady.view_noise"), "noise"),
                ],
                value="week",
                description=t("app.steady.view"),
                style=WIDE,
                layout=W.Layout(grid_column="1 / -1"),
            ),
        }
    )

    def compute(v):
        return lessons.revenue_steadiness(
            _funnel_from(base, v),
            v["calls"],
            periods=v["periods"],
            reps=v["reps"],
            cycle=Cycle(v["cycle"], cv=v["cycle_cv"]),
            deal_size=_deal_size(v["deal_size"], v["deal_cv"]),
            rng=v["seed"],
        )

    def draw(result, axes, v):
        if v["view"] == "noise":
            plotting.plot_cv_by_calls(result, ax=axes[0])
        else:
            plotting.plot_fan(result, block=v["view"], ax=axes[0])

    def describe(r, v):
        week = r.weekly
        if not week["mean"].mean() > 0:  # no deal closed in any simulated week
            return t("app.steady.no_sales")
        return t(
            "app.steady.summary",
            mean=float(week["mean"].mean()),
            low=float(week["q10"].mean()),
            high=float(week["q90"].mean()),
            cv_week=r.cv("week"),
            th_week=r.theory_cv("week"),
            cv_month=r.cv("month"),
            th_month=r.theory_cv("month"),
            doubled=r.theory_cv("week") / np.sqrt(2),
        )

    return App(
        title=t("app.steady.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        view=("view",),
        figsize=(12, 5.5),
        columns=3,
    )
