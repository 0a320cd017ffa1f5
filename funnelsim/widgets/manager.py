"""Apps of the manager's dashboard (notebook 08): a rep's day, when to call, the target split,
attainment.

Each ``make_*`` wires controls to a pure function of
:mod:`funnelsim.lessons.manager` (or :func:`funnelsim.split_target`) and a
plot of :mod:`funnelsim.plotting.manager`; see :class:`funnelsim.widgets.App`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .. import plotting
from ..calls import Calls
from ..distributions import DealSize
from ..estimate import Fit
from ..estimate import fit as fit_ratios
from ..funnel import Funnel
from ..i18n import t
from ..lessons.manager import (
    CallTimes,
    RepDay,
    attainment_at,
    attainment_weeks,
    call_days,
    call_times,
    cell_label,
    check_calls,
    rep_day,
)
from ..logs import Log
from ..qualification import Qualification, qualify
from ..targets import Attainment, TargetSplit, split_target
from .app import App, Control, app_factory, check_numbers

__all__ = [
    "make_attainment",
    "make_call_times",
    "make_qualification",
    "make_rep_day",
    "make_target_split",
]


def _minutes(seconds: float) -> str:
    """Talk time in words: ``"12 min"``; ``m:ss`` under ten minutes (``"2:35"``)."""
    if not seconds == seconds:  # NaN
        return "-"
    if seconds < 600:
        whole = round(float(seconds))
        return f"{whole // 60}:{whole % 60:02d}"
    return t("app.rd.minutes", minutes=seconds / 60)


def _with_colour_bar(values: Mapping[str, Any]) -> dict[str, Any]:
    """A heatmap's panels: the map, and a narrow axes for its colour bar (drawn into it,
    so that redrawing on the same axes never steals room from the map again)."""
    return {"ncols": 2, "width_ratios": [40, 1]}


# ------------------------------------------------------------------ a rep's day
@app_factory
def make_rep_day(calls: Calls, *, rep: str | None = None, day: object = None) -> App:
    """A rep's day: the KPIs of one rep on one day, and the talk times against the usual.

    Controls: the rep (a menu) and the day (a slider over the days with
    calls). The picture is the distribution of the day's talk times against
    all the rep's connected calls (:func:`funnelsim.plotting.plot_talk_time`);
    the summary gives the day's dials, connects (with the interval of the
    connect rate), effective calls and talk time, and the rep's average day.

    Parameters
    ----------
    calls : Calls
        From :func:`funnelsim.read_calls`.
    rep : str, optional
        Starting rep (default: the first of ``calls.reps``).
    day : date or str, optional
        Starting day (default: the last day with calls).

    Returns
    -------
    App
        ``app.result`` is :func:`funnelsim.lessons.rep_day` with the
        controls' values.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_rep_day(fs.datasets.load_calls(), rep="赵磊", day="2025-03-05")
    >>> int(app.result.kpis.loc["day", "dials"])
    45
    >>> app.controls["rep"].value = "张伟"
    >>> app.result.rep, int(app.result.kpis.loc["day", "dials"])
    ('张伟', 38)
    """
    calls = check_calls(calls, "make_rep_day")
    days = [d.date().isoformat() for d in call_days(calls)]
    start_rep = calls.reps[0] if rep is None else rep
    start_day = days[-1] if day is None else pd.Timestamp(day).date().isoformat()
    controls = {
        "rep": Control(
            "choice", t("app.rd.rep"), start_rep, options=tuple((r, r) for r in calls.reps)
        ),
        "day": Control(
            "select", t("app.rd.day"), start_day, options=tuple((d, d) for d in days), row=True
        ),
    }
    return App(
        title=t("app.rd.title"),
        controls=controls,
        compute=functools.partial(_rep_day_compute, calls),
        draw=_rep_day_draw,
        describe=_rep_day_summary,
        figsize=(12, 5),
        columns=2,
    )


def _rep_day_compute(calls: Calls, v: Mapping[str, Any]) -> RepDay:
    return rep_day(calls, v["rep"], v["day"])


def _rep_day_draw(result: RepDay, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_talk_time(result, ax=axes[0])


def _rep_day_summary(r: RepDay, v: Mapping[str, Any]) -> str:
    day, usual = r.kpis.loc["day"], r.kpis.loc["average"]
    when = r.day.date().isoformat()
    if day["dials"] == 0:
        first = t("app.rd.no_calls", rep=r.rep, day=when)
    else:
        first = t(
            "app.rd.summary_day",
            rep=r.rep,
            day=when,
            dials=int(day["dials"]),
            connects=int(day["connects"]),
            rate=day["connect_rate"],
            low=day["low"],
            high=day["high"],
            effective=int(day["effective"]),
            talk=_minutes(day["talk_time"]),
            mean_talk=_minutes(day["mean_talk"]),
        )
    second = t(
        "app.rd.summary_usual",
        rep=r.rep,
        dials=usual["dials"],
        rate=usual["connect_rate"],
        talk=_minutes(usual["talk_time"]),
    )
    return "<br>".join(html.escape(line) for line in (first, second))


# ---------------------------------------------------------------- when to call
@app_factory
def make_call_times(calls: Calls, *, rep: str | None = None, min_calls: int = 20) -> App:
    """When to call: the connect rate by weekday and hour, for the team or one rep.

    Controls: whose calls (the whole team or one rep) and the fewest calls a
    cell needs to be compared (fewer: grey). The picture is
    :func:`funnelsim.plotting.plot_call_heatmap`; the summary names the
    best and the worst weekday and hour.

    Parameters
    ----------
    calls : Calls
    rep : str, optional
        Starting rep (default: the whole team).
    min_calls : int, default 20

    Returns
    -------
    App
        ``app.result`` is :func:`funnelsim.lessons.call_times` with the
        controls' values.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_call_times(fs.datasets.load_calls())
    >>> app.result.rep is None, app.result.dials
    (True, 11362)
    >>> app.controls["rep"].value = "赵磊"
    >>> app.result.dials
    1943
    """
    calls = check_calls(calls, "make_call_times")
    check_numbers(min_calls=min_calls, whole=True)
    options = ((t("app.ct.team"), None), *((r, r) for r in calls.reps))
    controls = {
        "rep": Control("choice", t("app.ct.rep"), rep, options=options),
        "min_calls": Control("int", t("app.ct.min_calls"), int(min_calls), 1, 100),
    }
    return App(
        title=t("app.ct.title"),
        controls=controls,
        compute=functools.partial(_call_times_compute, calls),
        draw=functools.partial(_call_times_draw, calls),
        describe=_call_times_summary,
        panels=_with_colour_bar,
        figsize=(12, 5.5),
        columns=2,
    )


def _call_times_compute(calls: Calls, v: Mapping[str, Any]) -> CallTimes:
    return call_times(calls, rep=v["rep"], min_calls=v["min_calls"])


def _call_times_draw(calls: Calls, result: CallTimes, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_call_heatmap(
        calls, rep=result.rep, min_calls=result.min_calls, ax=axes[0], cbar_ax=axes[1]
    )


def _call_times_summary(r: CallTimes, v: Mapping[str, Any]) -> str:
    who = r.rep if r.rep is not None else t("app.ct.team")
    best, worst = r.best, r.worst
    if best is None or worst is None:
        return html.escape(t("app.ct.too_few", who=who, min_calls=r.min_calls))
    text = t(
        "app.ct.summary",
        who=who,
        rate=r.rate,
        dials=r.dials,
        best=cell_label(best),
        best_rate=float(best["rate"]),
        best_dials=int(best["dials"]),
        worst=cell_label(worst),
        worst_rate=float(worst["rate"]),
        worst_dials=int(worst["dials"]),
    )
    return html.escape(text)


# -------------------------------------------------------------- qualification
@app_factory
def make_qualification(
    leads: Any, *, by: str = "intent", confidence_level: float = 0.95, **options: Any
) -> App:
    """Qualification against outcome: the share won by intent class, MAN combination or rule.

    Controls: what to compare (the four intent classes, the eight MAN
    combinations or the decks' rules) and the confidence level of the
    intervals. The picture is :func:`funnelsim.plotting.plot_qualification`;
    the summary is the trend test (:meth:`funnelsim.Qualification.trend`):
    does a higher grade really convert more?

    Parameters
    ----------
    leads : path or pandas.DataFrame
        A leads table as :func:`funnelsim.qualify` reads it.
    by : {"intent", "man", "rule"}
    confidence_level : float, default 0.95
    **options
        Passed to :func:`funnelsim.qualify` (``columns``, ``encoding``...).

    Returns
    -------
    App
        ``app.result`` is :func:`funnelsim.qualify` at the chosen level.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_qualification(fs.datasets.load_qualified_leads())
    >>> app.result.by_intent()["leads"].tolist()
    [251, 415, 477, 357]
    >>> app.controls["by"].value = "man"
    >>> app.message
    ''
    """
    views = tuple((t(f"app.ql.by.{name}"), name) for name in ("intent", "man", "rule"))
    controls = {
        "by": Control("toggle", t("app.ql.by"), by, options=views),
        "confidence_level": Control(
            "float", t("app.ql.level"), confidence_level, 0.8, 0.99, 0.01, ".0%"
        ),
    }
    return App(
        title=t("app.ql.title"),
        controls=controls,
        compute=functools.partial(_qualification_compute, leads, options),
        draw=_qualification_draw,
        describe=_qualification_summary,
        view=("by",),
        figsize=(12, 5.5),
        columns=2,
    )


def _qualification_compute(
    leads: Any, options: Mapping[str, Any], v: Mapping[str, Any]
) -> Qualification:
    return qualify(leads, confidence_level=v["confidence_level"], **options)


def _qualification_draw(result: Qualification, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_qualification(result, by=v["by"], ax=axes[0])


def _qualification_summary(result: Qualification, v: Mapping[str, Any]) -> str:
    return html.escape(repr(result.trend(by=v["by"])))


# ------------------------------------------------------------- the target split
@app_factory
def make_target_split(
    history: pd.DataFrame,
    funnel: Funnel,
    *,
    target: float = 3_000_000,
    probability: float = 0.9,
    deal_size: DealSize | float | None = None,
    split: str = "history",
) -> App:
    """The year's target by month and rep, and the calls each part needs.

    Controls: the year's target, how sure each part should be, and whether
    to split it as last year's sales fell (months and reps,
    :func:`funnelsim.split_target` with ``history``) or evenly. The picture
    is the target by month and rep (:func:`funnelsim.plotting.plot_target_split`).

    Parameters
    ----------
    history : pandas.DataFrame
        ``month``, ``rep`` and ``amount`` of last year's deals
        (:func:`funnelsim.lessons.monthly_history`).
    funnel : Funnel
        The ratios from call to deal (``fit.to_funnel()``): the calls each
        part needs (one month of calls per part).
    target, probability : float
        Starting values.
    deal_size : DealSize or float, optional
        Amount of one deal (the target is money); None counts deals.
    split : {"history", "even"}

    Returns
    -------
    App
        ``app.result`` is :func:`funnelsim.split_target` with the controls'
        values.

    Examples
    --------
    >>> import funnelsim as fs
    >>> history = fs.lessons.monthly_history(fs.datasets.load_deal_history(), year=2024)
    >>> funnel = fs.Funnel(["calls", "deals"], [0.015])
    >>> app = fs.widgets.make_target_split(history, funnel, target=3_000_000, deal_size=20_000)
    >>> round(float(app.result.to_frame()["target"].sum()))
    3000000
    >>> app.controls["split"].value = "even"
    >>> app.result.to_frame()["target"].round(0).unique().tolist()
    [41667.0]
    """
    check_numbers(target=target, probability=probability)
    reps = list(dict.fromkeys(history["rep"])) if "rep" in history else None
    controls = {
        "target": Control("number", t("app.ts.target"), target, 0, 1e12, 100_000),
        "probability": Control(
            "float", t("app.ts.probability"), probability, 0.5, 0.99, 0.01, ".0%"
        ),
        "split": Control(
            "toggle",
            t("app.ts.split"),
            split,
            options=((t("app.ts.split.history"), "history"), (t("app.ts.split.even"), "even")),
        ),
    }
    spec = {"history": history, "funnel": funnel, "deal_size": deal_size, "reps": reps}
    return App(
        title=t("app.ts.title"),
        controls=controls,
        compute=functools.partial(_split_compute, spec),
        draw=_split_draw,
        describe=_split_summary,
        panels=_with_colour_bar,
        figsize=(12, 7),
        columns=3,
    )


def _split_compute(spec: Mapping[str, Any], v: Mapping[str, Any]) -> TargetSplit:
    common = {
        "funnel": spec["funnel"],
        "probability": v["probability"],
        "deal_size": spec["deal_size"],
    }
    if v["split"] == "history":
        return split_target(v["target"], history=spec["history"], **common)
    months = list(dict.fromkeys(spec["history"]["month"]))
    return split_target(v["target"], months=months, reps=spec["reps"], **common)


def _split_draw(result: TargetSplit, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_target_split(result, ax=axes[0], cbar_ax=axes[1])


def _split_summary(r: TargetSplit, v: Mapping[str, Any]) -> str:
    table = r.to_frame()
    by_month = table.groupby("month", sort=False)["target"].sum()
    by_rep = table.groupby("rep", sort=False)["rep_share"].first()
    text = t(
        "app.ts.summary",
        target=r.target,
        months=len(by_month),
        month=by_month.idxmax(),
        month_target=float(by_month.max()),
        rep=by_rep.idxmax(),
        rep_share=float(by_rep.max()),
        probability=v["probability"],
        calls=int(table["calls"].sum()),
        expected=int(table["calls_expected"].sum()),
    )
    return html.escape(text)


# ------------------------------------------------------------------ attainment
@app_factory
def make_attainment(
    log: Log,
    history: pd.DataFrame,
    *,
    target: float = 3_600_000,
    deal_size: DealSize | float | None = None,
    week: int | None = None,
    split: str = "history",
    reps: int = 1000,
    fit: Fit | None = None,
    rng: int = 2024,
) -> App:
    """Attainment (达成率) week by week: each rep's sales so far against the year's part,
    and each rep's and the team's chance to finish.

    Controls: the week of the year (from week 4 to the log's last week), how
    the year's target is split among the reps (as last year's sales,
    :func:`funnelsim.split_target` with ``history``, or evenly) and the
    forecast's replicates. The picture is
    :func:`funnelsim.plotting.plot_attainment`; the summary gives the team's
    attainment and chance, and the reps likeliest and least likely to finish.

    Parameters
    ----------
    log : Log
        An events log with an ``amount`` per lead (the sample team's:
        :func:`funnelsim.datasets.load_events`).
    history : pandas.DataFrame
        ``month``, ``rep`` and ``amount`` of last year's deals
        (:func:`funnelsim.lessons.monthly_history`), the same reps as the log.
    target : float, default 3,600,000
        The year's target of the team.
    deal_size : DealSize or float, optional
        Amount of one deal in the forecast.
    week : int, optional
        Starting week (default: the log's last week).
    split : {"history", "even"}
    reps : int, default 1000
        Starting replicates of the forecast (a redraw takes about 0.2 s; the
        chances are then within about 3 points, 2 standard errors; 4000 and
        the same seed give notebook 08's half-time table).
    fit : Fit, optional
        A fit by rep of the log (default: ``fs.fit(log, by="rep", mature=60)``).
    rng : int, default 2024
        The forecast's seed: the same controls always give the same numbers.

    Returns
    -------
    App
        ``app.result`` is :func:`funnelsim.lessons.attainment_at` with the
        controls' values.

    Examples
    --------
    >>> import funnelsim as fs
    >>> log = fs.datasets.load_events()
    >>> history = fs.lessons.monthly_history(fs.datasets.load_deal_history(), year=2024)
    >>> app = fs.widgets.make_attainment(log, history, deal_size=20_000, reps=500)
    >>> app.result.elapsed
    0.5
    >>> app.controls["split"].value = "even"
    >>> app.result.to_frame()["target"].round().unique().tolist()
    [600000.0, 3600000.0]
    """
    check_numbers(target=target)
    check_numbers(reps=reps, rng=rng, whole=True)
    _start, last = attainment_weeks(log)
    start_week = last if week is None else week
    by_rep = fit if fit is not None else fit_ratios(log, by="rep", mature=60)
    reps_in_log = sorted(map(str, log.leads["rep"].unique()))
    yearly = {
        "history": split_target(target, history=history).to_frame().groupby("rep")["target"].sum(),
        "even": split_target(target, months=12, reps=reps_in_log)
        .to_frame()
        .groupby("rep")["target"]
        .sum(),
    }
    controls = {
        "week": Control("int", t("app.at.week"), start_week, min(4, last), last),
        "split": Control(
            "toggle",
            t("app.ts.split"),
            split,
            options=((t("app.ts.split.history"), "history"), (t("app.ts.split.even"), "even")),
        ),
        "reps": Control("int", t("app.at.reps"), int(reps), 500, max(4000, int(reps)), 500),
    }
    spec = {"log": log, "yearly": yearly, "fit": by_rep, "deal_size": deal_size, "rng": rng}
    return App(
        title=t("app.at.title"),
        controls=controls,
        compute=functools.partial(_attainment_compute, spec),
        draw=_attainment_draw,
        describe=_attainment_summary,
        figsize=(12, 6),
        columns=3,
    )


def _attainment_compute(spec: Mapping[str, Any], v: Mapping[str, Any]) -> Attainment:
    return attainment_at(
        spec["log"],
        spec["yearly"][v["split"]],
        v["week"],
        fit=spec["fit"],
        deal_size=spec["deal_size"],
        reps=v["reps"],
        rng=spec["rng"],
    )


def _attainment_draw(result: Attainment, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_attainment(result, ax=axes[0])


def _attainment_summary(r: Attainment, v: Mapping[str, Any]) -> str:
    table = r.to_frame()
    team, people = table.iloc[-1], table.iloc[:-1]
    best = people.loc[people["p_finish"].idxmax()]
    worst = people.loc[people["p_finish"].idxmin()]
    text = t(
        "app.at.summary",
        week=v["week"],
        actual=float(team["actual"]),
        target=float(team["target"]),
        attainment=float(team["attainment"]),
        to_date=r.elapsed,
        p=plotting.chance(float(team["p_finish"])),
        best=best["rep"],
        best_p=plotting.chance(float(best["p_finish"])),
        worst=worst["rep"],
        worst_p=plotting.chance(float(worst["p_finish"])),
    )
    return html.escape(text)
