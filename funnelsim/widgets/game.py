"""Apps of the numbers game (notebooks 01-03): large numbers, the ratio game, steadiness.

Each ``make_*`` wires controls to a function of :mod:`funnelsim.lessons.game`
and its plot; see :class:`funnelsim.widgets.App`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from typing import Any

from .. import lessons, plotting, presets
from ..distributions import Cycle, DealSize
from ..funnel import Funnel
from ..i18n import stage_label, t
from .app import DEFAULT_SEED, App, Control, app_factory, check_numbers, check_type, seed_control

__all__ = ["make_law_of_large_numbers", "make_ratio_game", "make_revenue_steadiness"]


# ------------------------------------------------------------ shared controls
def _funnel_arg(funnel: object) -> Funnel:
    """A funnel, or a preset's funnel by name; a FunnelsimTypeError naming ``funnel`` else."""
    check_type("funnel", funnel, (Funnel, str), "error.type_funnel")
    return presets.get(funnel).funnel if isinstance(funnel, str) else funnel


def _ratio_controls(funnel: Funnel) -> dict[str, Control]:
    """One slider per ratio, ``ratio_0``, ``ratio_1``...: described by the stages' labels."""
    return {
        f"ratio_{k}": Control(
            "float",
            t("app.ratio", upper=stage_label(upper), lower=stage_label(lower)),
            max(0.001, float(r)),
            0.001,
            1.0,
            0.001,
            ".1%",
        )
        for k, (upper, lower, r) in enumerate(
            zip(funnel.stages[:-1], funnel.stages[1:], funnel.ratios, strict=True)
        )
    }


def _funnel_from(funnel: Funnel, values: Mapping[str, Any]) -> Funnel:
    ratios = tuple(values[f"ratio_{k}"] for k in range(len(funnel.ratios)))
    return Funnel(funnel.stages, ratios)


def _deal_controls(mean: float, cv: float) -> dict[str, Control]:
    """The deal-size mean and spread controls that the apps share."""
    return {
        "deal_size": Control("number", t("app.deal_size"), mean, 1, 1e9, 1_000),
        "deal_cv": Control("float", t("app.deal_cv"), cv, 0.0, 2.0, 0.05),
    }


def _deal_size(values: Mapping[str, Any]) -> DealSize:
    return DealSize.gamma(values["deal_size"], cv=values["deal_cv"])


# ------------------------------------------------- 01: law of large numbers
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
    check_numbers(p=p)
    check_numbers(n=n, reps=reps, seed=seed, max_n=max_n, max_reps=max_reps, whole=True)
    controls = {
        "p": Control("float", t("app.lln.p"), p, 0.005, 0.995, 0.005, ".1%"),
        "n": Control("int", t("app.lln.n"), n, 10, max_n, 10),
        "reps": Control("int", t("app.lln.reps"), reps, 1, max_reps),
        "seed": seed_control(seed),
    }
    return App(
        title=t("app.lln.title"),
        controls=controls,
        compute=_lln_compute,
        draw=_lln_draw,
        describe=_lln_summary,
        figsize=(12, 5.5),
        columns=2,
    )


def _lln_compute(v: Mapping[str, Any]) -> lessons.RunningShare:
    return lessons.running_share(v["p"], v["n"], v["reps"], rng=v["seed"])


def _lln_draw(result: lessons.RunningShare, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_running_share(result, ax=axes[0])


def _lln_summary(r: lessons.RunningShare, v: Mapping[str, Any]) -> str:
    low, high = r.final_range
    if r.reps == 1:
        return t(
            "app.lln.summary_one",
            n=r.n,
            share=low,
            p=r.p,
            half=r.half_width,
            level=r.confidence_level,
        )
    return t(
        "app.lln.summary",
        n=r.n,
        reps=r.reps,
        low=low,
        high=high,
        p=r.p,
        inside=r.inside,
        half=r.half_width,
        level=r.confidence_level,
    )


# ------------------------------------------------------------ 02: the ratio game
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
    effort: float = 0.1,
    max_calls: int = 200,
) -> App:
    """The ratio game: each ratio, calls per day, the target and the levers.

    Controls: one slider per ratio, dials per day, working days in the plan,
    target revenue, average deal size and its spread, how sure the plan must
    be, and the push given to every lever (+10 %). The app shows the funnel
    (what the dials give on average against what the target needs), what the
    same push on calls, on each ratio and on the deal size buys
    (:func:`funnelsim.plotting.plot_equal_effort`), and in words the chance
    of reaching the target and the dials a day a sure plan needs.

    Parameters
    ----------
    funnel : Funnel or str
        A funnel or the name of a preset (``"daily ratio game"``).
    calls, periods, target, deal_size, deal_cv, probability, effort : numbers
        Starting values: dials a day, working days, target revenue, average
        deal size, its coefficient of variation, how sure, the push on every
        lever (0.1: +10 %).
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
    >>> app.controls["effort"].value = 0.2          # +20 % on every lever
    >>> app.result.equal_effort.levers["gain"].round(2).tolist()
    [0.0, 0.2, 0.2, 0.2, 0.2, 0.2]
    """
    base = _funnel_arg(funnel)
    check_numbers(
        target=target,
        deal_size=deal_size,
        deal_cv=deal_cv,
        probability=probability,
        effort=effort,
    )
    check_numbers(calls=calls, periods=periods, max_calls=max_calls, whole=True)
    controls = {
        **_ratio_controls(base),
        "calls": Control("int", t("app.ratio_game.calls"), calls, 1, max_calls),
        "periods": Control("int", t("app.ratio_game.periods"), periods, 5, 260, 5),
        "target": Control("number", t("app.ratio_game.target"), target, 1, 1e12, 10_000),
        **_deal_controls(deal_size, deal_cv),
        "probability": Control(
            "float", t("app.ratio_game.probability"), probability, 0.5, 0.99, 0.01, ".0%"
        ),
        "effort": Control("float", t("app.ratio_game.effort"), effort, 0.0, 0.5, 0.01, ".0%"),
    }
    return App(
        title=t("app.ratio_game.title"),
        controls=controls,
        compute=functools.partial(_ratio_game_compute, base),
        draw=_ratio_game_draw,
        describe=_ratio_game_summary,
        panels=lambda v: {"ncols": 2},
        figsize=(16, 6),
        columns=3,
    )


def _ratio_game_compute(base: Funnel, v: Mapping[str, Any]) -> lessons.RatioGame:
    return lessons.ratio_game(
        _funnel_from(base, v),
        v["calls"],
        target=v["target"],
        periods=v["periods"],
        deal_size=_deal_size(v),
        probability=v["probability"],
        effort=v["effort"],
    )


def _ratio_game_draw(result: lessons.RatioGame, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_funnel(result, ax=axes[0], period="day")
    # The same push on every lever (issue #11): +100 % calls against +14 % on one ratio
    # read as "volume wins" when every lever multiplies sales alike.
    plotting.plot_equal_effort(result, ax=axes[1], period="day")


def _ratio_game_summary(r: lessons.RatioGame, v: Mapping[str, Any]) -> str:
    return t(
        "app.ratio_game.summary",
        calls=r.calls,
        periods=r.periods,
        sales=r.expected_sales,
        revenue=r.expected_result,
        target=r.target,
        p_current=html.escape(plotting.chance(r.p_current)),
        plan=r.plan_calls,
        p_plan=html.escape(plotting.chance(r.p_plan)),
        probability=r.probability,
        sure=r.sure_calls,
        margin=r.margin,
    )


# ------------------------------------------------------- 03: revenue steadiness
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
    check_numbers(cycle=cycle, cycle_cv=cycle_cv, deal_size=deal_size, deal_cv=deal_cv)
    check_numbers(
        calls=calls, reps=reps, periods=periods, seed=seed, max_calls=max_calls, whole=True
    )
    views = (
        (t("app.steady.view_week"), "week"),
        (t("app.steady.view_month"), "month"),
        (t("app.steady.view_noise"), "noise"),
    )
    controls = {
        "calls": Control("int", t("app.steady.calls"), calls, 5, max_calls, 5),
        **_ratio_controls(base),
        "cycle": Control("float", t("app.steady.cycle"), cycle, 0.0, 12.0, 0.5),
        "cycle_cv": Control("float", t("app.steady.cycle_cv"), cycle_cv, 0.0, 1.5, 0.05),
        **_deal_controls(deal_size, deal_cv),
        "reps": Control("int", t("app.steady.reps"), reps, 100, 5000, 100),
        "periods": Control("int", t("app.steady.periods"), periods, 8, 104, 4),
        "seed": seed_control(seed),
        "view": Control("toggle", t("app.steady.view"), "week", options=views, row=True),
    }
    return App(
        title=t("app.steady.title"),
        controls=controls,
        compute=functools.partial(_steadiness_compute, base),
        draw=_steadiness_draw,
        describe=_steadiness_summary,
        view=("view",),
        figsize=(12, 5.5),
        columns=3,
    )


def _steadiness_compute(base: Funnel, v: Mapping[str, Any]) -> lessons.RevenueSteadiness:
    return lessons.revenue_steadiness(
        _funnel_from(base, v),
        v["calls"],
        periods=v["periods"],
        reps=v["reps"],
        cycle=Cycle(v["cycle"], cv=v["cycle_cv"]),
        deal_size=_deal_size(v),
        rng=v["seed"],
    )


def _steadiness_draw(result: lessons.RevenueSteadiness, axes, v: Mapping[str, Any]) -> None:
    if v["view"] == "noise":
        plotting.plot_cv_by_calls(result, ax=axes[0], period="week")
    else:
        plotting.plot_fan(result, block=v["view"], ax=axes[0])


def _steadiness_summary(r: lessons.RevenueSteadiness, v: Mapping[str, Any]) -> str:
    if not r.weekly_mean > 0:  # no deal closed in any simulated week
        return t("app.steady.no_sales")
    low, high = r.weekly_range
    return t(
        "app.steady.summary",
        mean=r.weekly_mean,
        low=low,
        high=high,
        cv_week=r.cv("week"),
        th_week=r.theory_cv("week"),
        cv_month=r.cv("month"),
        th_month=r.theory_cv("month"),
        doubled=r.theory_cv_doubled("week"),
    )
