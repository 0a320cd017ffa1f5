"""One self-contained HTML report from a log: ratios, groups, cycle, forecast and plan.

:func:`build_report` is a pure function returning the HTML text; ``funnelsim
report LOG -o report.html`` writes it to a file. The page carries everything
it shows: tables as HTML, figures as PNG images embedded in the page
(base64 ``data:`` URLs), styles inline. It loads nothing from the network,
so it opens offline and can be mailed as one attachment.
"""

from __future__ import annotations

import base64
import html
import io
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import fonts, plotting
from ._validate import check_result
from ._version import __version__
from .backtesting import backtest, cutoff_start
from .calls import Calls, read_calls
from .cycle import cycle_length, naive_label
from .estimate import fit as fit_log
from .groups import compare_groups
from .i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    field_label,
    get_language,
    method_label,
    stage_label,
    t,
    unit_label,
)
from .lessons import Outlook, calls_per_week, outlook
from .summaries import (
    attainment_frame,
    band_frame,
    calls_line,
    fit_notes,
    format_percent,
    group_text,
    kpi_frame,
    log_line,
    outlook_lines,
    plan_frame,
    ratio_table,
    unit_words,
)
from .targets import Attainment

# Outlook and outlook are computed in funnelsim.lessons and ratio_table formatted in
# funnelsim.summaries; these names stay importable from here as they always were.
__all__ = ["Outlook", "build_report", "figure_png", "outlook", "ratio_table"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
td { white-space: nowrap; }  /* a rep's name, a date, an amount: one line each */
table.text td, table.text th { text-align: left; white-space: nowrap; }  /* rows left out */
table.text td:last-child { white-space: normal; }  /* why: a sentence, wrapped */
img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; }
.note { color: #555; font-size: 0.92em; }
.meta { color: #555; }
.error { color: #b00020; }
"""


# ------------------------------------------------------------------ pieces
def figure_png(draw: Callable[[Any], Any], *, figsize: tuple[float, float] = (10, 5.5)) -> str:
    """Draw on a new figure (no pyplot) in the kit's style; an ``<img>`` tag with the PNG inline.

    Examples
    --------
    >>> from funnelsim.report import figure_png
    >>> figure_png(lambda ax: ax.plot([0, 1], [0, 1]))[:38]
    '<img alt="" src="data:image/png;base64'
    """
    # One draw (layout included), then the pixels straight to PNG: savefig
    # would lay out and draw the figure a second time. Unhinted text is
    # faster and looks the same.
    with plotting.style(), mpl.rc_context({"text.hinting": "no_hinting"}):
        fig = Figure(figsize=figsize, dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.subplots()
        draw(ax)
        fig.set_layout_engine("constrained")
        canvas.draw()
        buf = io.BytesIO()
        mpl.image.imsave(buf, np.asarray(canvas.buffer_rgba()), format="png")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, classes: str | None = None) -> str:
    return frame.to_html(index=False, border=0, escape=True, na_rep="-", classes=classes)


def _p(text: str, cls: str | None = None) -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _h2(text: str) -> str:
    return f"<h2>{html.escape(text)}</h2>"


# ---------------------------------------------------------------- sections
def _section_ratios(fit, fixed: bool = False) -> list[str]:
    ratio, low, high = fit.overall
    out = [
        _h2(t("report.ratios")),
        _p(t("report.ratios_intro", method=method_label(fit.method), level=fit.confidence_level)),
        _table(ratio_table(fit)),
        _p(
            t(
                "report.overall",
                first=stage_label(fit.stages[0]),
                last=stage_label(fit.stages[-1]),
                ratio=ratio,
                low=low,
                high=high,
                level=fit.confidence_level,
                one_in=(1 / ratio) if ratio > 0 else float("inf"),
            )
        ),
        figure_png(lambda ax: plotting.plot_ratio_table(fit, ax=ax, overall=True)),
    ]
    out += [_p(t("cli.note", note=note), "note") for note in fit_notes(fit, fixed=fixed)]
    return out


def _section_groups(
    log, by: str, method: str, confidence_level: float, mature: float | str | None = None
) -> list[str]:
    by_fit = fit_log(log, by=by, method=method, confidence_level=confidence_level, mature=mature)
    comparison = compare_groups(log, by=by, method=method, confidence_level=confidence_level)
    frame = comparison.to_frame()
    shown = pd.DataFrame(
        {
            field_label(by): group_text(frame[by]),
            t("report.col.step"): [stage_label(s) for s in frame["stage"]],
            t("cli.col.counts"): [
                f"{k}/{n}" for k, n in zip(frame["passed"], frame["entered"], strict=True)
            ],
            t("cli.col.ratio"): [format_percent(x) for x in frame["ratio"]],
            t("report.col.rest"): [format_percent(x) for x in frame["rest"]],
            t("report.col.shrunk"): [format_percent(x) for x in frame["shrunk"]],
            t("report.col.p_below"): [f"{x:.3f}" for x in frame["p_below"]],
            t("report.col.p_adjusted"): [f"{x:.3g}" for x in frame["p_adjusted"]],
            t("report.col.differs"): [t("report.yes") if d else "" for d in frame["differs"]],
        }
    )
    out = [
        _h2(t("report.groups", by=field_label(by))),
        _p(t("report.groups_intro", by=field_label(by), adjust=comparison.adjust)),
        _table(ratio_table(by_fit)),
        *[_p(t("cli.note", note=note), "note") for note in fit_notes(by_fit)],
        _h2(t("report.compare", by=field_label(by))),
        _table(shown),
    ]
    for stage in comparison.steps["stage"]:
        try:
            comparison.require_leads(stage)
        except ValueError as exc:  # a step nobody reached yet: say so, keep the report
            out.append(_p(t("cli.note", note=str(exc)), "note"))
            continue
        out.append(
            figure_png(lambda ax, s=stage: plotting.plot_funnel_chart(comparison, stage=s, ax=ax))
        )
    out += [_p(t("cli.note", note=note), "note") for note in comparison.notes]
    return out


def _section_cycle(log, confidence_level: float) -> list[str]:
    out = [_h2(t("report.cycle"))]
    try:
        cycle = cycle_length(log, confidence_level=confidence_level)
    except ValueError as exc:  # no closed deal, no times...: say so, keep the report
        return [*out, _p(t("report.cycle_none", reason=str(exc)), "note")]
    low, high = cycle.median_ci
    share_low, share_high = cycle.share_closed_ci
    out.append(
        _p(
            t(
                "report.cycle_summary",
                start=stage_label(cycle.start),
                end=stage_label(cycle.end),
                leads=cycle.leads,
                closed=cycle.closed,
                open=cycle.open,
                share=cycle.share_closed,
                share_low=share_low,
                share_high=share_high,
                median=cycle.median,
                low=low,
                high=high,
                mean=cycle.mean,
                unit=unit_label(cycle.unit),
                level=confidence_level,
            )
        )
    )
    naive = cycle.naive
    unit = unit_label(cycle.unit)
    out.append(
        _table(
            pd.DataFrame(
                {
                    t("report.col.naive"): [naive_label(m) for m in naive["method"]],
                    t("report.col.deals"): naive["deals"],
                    t("report.col.mean_unit", unit=unit): naive["mean"].round(1),
                    t("report.col.median", unit=unit): naive["median"].round(1),
                }
            )
        )
    )
    out.append(_p(t("report.cycle_naive"), "note"))
    out.append(figure_png(lambda ax: plotting.plot_sales_cycle(cycle, ax=ax)))
    return out


def _section_forecast(fit, log, **kwargs) -> list[str]:
    try:
        pace = calls_per_week(log)
    except ValueError:
        pace = None
    o = outlook(fit, pace=pace, **kwargs)
    words = unit_words(o)
    out = [_h2(t("report.forecast")), _p(t("report.forecast_intro"))]
    out += [_p(line) for line in outlook_lines(o)]
    if o.plan is not None:
        out += [_h2(t("report.plan", **words)), _table(plan_frame(o))]
        if len(o.plan.table) > 1:
            out.append(_p(t("report.plan_note"), "note"))
    out += [_h2(t("report.band", **words)), _table(band_frame(o))]
    out.append(
        figure_png(
            lambda ax: plotting.plot_forecast(
                o.forecast, ax=ax, measure=o.measure, target=o.target, period=o.unit
            )
        )
    )
    return out


#: The report's back-test: replicates per origin (kept small: the report stays fast), and
#: the origins it needs before it shows the section.
BACKTEST_REPS = 1000
BACKTEST_MIN_ORIGINS = 8


def _section_backtest(log, mature, rng) -> list[str]:
    """The back-test of the forecast bands (:func:`funnelsim.backtest`), when the log has
    enough cohorts: dated logs by week, won within ``mature`` days (30 without it), from
    the first cohort that could have won when the early ones look cut off
    (:func:`funnelsim.backtesting.cutoff_start`)."""
    horizon, start, notes = None, None, []
    if log.format != "counts" and log.times is not None:
        horizon = mature if mature is not None else 30
        start = cutoff_start(log, horizon)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            bt = backtest(log, horizon=horizon, start=start, reps=BACKTEST_REPS, rng=rng)
        except (FunnelsimValueError, ValueError):  # no periods, no dates, too short
            return []
    if len(bt.table) < 3 * BACKTEST_MIN_ORIGINS:
        return []
    if horizon is not None:
        key = "report.backtest_horizon" if mature is not None else "report.backtest_horizon_30"
        notes.append(t(key, days=bt.horizon))
    if start is not None:
        notes.append(
            t("report.backtest_start", start=start.strftime("%Y-%m-%d"), stage=log.stages[-1])
        )
    words = {
        "windows": len(bt.table) // 3,
        "period": t(f"backtest.period.{bt.period}"),
        "horizon": "" if bt.horizon is None else t("repr.backtest.horizon", days=bt.horizon),
        "stage": stage_label(log.stages[-1]),
        "first": stage_label(log.stages[0]),
    }
    out = [
        _h2(t("report.backtest")),
        _p(t("report.backtest_intro", **words)),
        _table(bt.summary()),
    ]
    out += [_p(line) for line in bt.verdict()]
    notes += [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    out += [_p(t("cli.note", note=note), "note") for note in notes]
    return out


def _section_activity(calls: Calls, method: str, confidence_level: float) -> list[str]:
    """Call activity (#15): each rep's KPIs per week, the when-to-call heatmap (the team's
    and each rep's), and the weekly p-chart of the team's connect rate."""
    kpis = calls.kpis(by="rep", period="week", confidence_level=confidence_level, method=method)
    chart = calls.p_chart(period="week")
    flagged = chart.flagged
    out = [
        _h2(t("report.activity")),
        _p(calls_line(calls), "meta"),
        _p(t("report.activity_intro", seconds=calls.effective)),
        _table(kpi_frame(kpis, effective=calls.effective, confidence_level=confidence_level)),
        _h2(t("report.activity_heatmap")),
    ]
    # one colour scale for every heatmap: the same colour is the same rate on each
    reps = list(calls.reps) if len(calls.reps) > 1 else []
    vmax = _heatmap_top(calls, reps)
    out += [
        _p(t("report.activity_heatmap_intro")),
        _p(t("report.activity_heatmap_scale", top=vmax), "note"),
        figure_png(
            lambda ax: plotting.plot_call_heatmap(calls, vmin=0.0, vmax=vmax, ax=ax),
            figsize=(11, 5),
        ),
    ]
    for rep in reps:
        out.append(
            figure_png(
                lambda ax, r=rep: plotting.plot_call_heatmap(
                    calls, rep=r, vmin=0.0, vmax=vmax, ax=ax
                ),
                figsize=(11, 5),
            )
        )
    out += [
        _h2(t("report.activity_p_chart")),
        _p(t("report.activity_p_chart_intro", sigmas=chart.sigmas, flagged=len(flagged))),
        figure_png(lambda ax: _period_ticks(plotting.plot_p_chart(chart, ax=ax), chart)),
    ]
    for row in flagged.to_dict("records"):
        out.append(
            _p(
                t(
                    "report.activity_flagged",
                    week=f"{pd.Timestamp(row['period']):%Y-%m-%d}",
                    passed=int(row["passed"]),
                    entered=int(row["entered"]),
                    ratio=format_percent(row["ratio"]),
                    low=format_percent(row["low"]),
                    high=format_percent(row["high"]),
                ),
                "note",
            )
        )
    return out


def _heatmap_top(calls: Calls, reps: list[str], min_calls: int = 30) -> float:
    """The top of the heatmaps' shared colour scale: the highest connect rate any of them
    draws (the team's or a rep's cell with at least ``min_calls`` dials), at least 5 %."""
    tops = [0.05]
    for rep in [None, *reps]:
        rate = calls.by_hour(rep=rep, min_calls=min_calls)["rate"].to_numpy(float)
        rate = rate[np.isfinite(rate)]
        if rate.size:
            tops.append(float(rate.max()))
    return max(tops)


def _period_ticks(ax: Any, chart: Any) -> Any:
    """Date ticks of a weekly p-chart on the periods' starts (the Mondays the weeks begin
    on), every k-th so that at most 12 show."""
    periods = pd.Series(chart.table[chart.period].unique())
    if not pd.api.types.is_datetime64_any_dtype(periods) or periods.empty:
        return ax
    periods = periods.sort_values().reset_index(drop=True)
    step = max(1, -(-len(periods) // 12))
    shown = periods.iloc[::step]
    ax.set_xticks(mpl.dates.date2num(shown.to_numpy()), [f"{p:%m-%d}" for p in shown])
    return ax


def _amount(x: float) -> str:
    """An amount as the rest of the report writes money: thousands separated, no decimals
    (one decimal under 100, where a half deal shows)."""
    if not np.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or x == round(x) else f"{x:,.1f}"


def _section_attainment(att: Attainment, notes: Sequence[str] = ()) -> list[str]:
    """Attainment (达成率, #15): actual against target to date per rep and team, and the
    chance to finish when the attainment carries a forecast; ``notes`` under the table
    (reps without history, say)."""
    team = att.table.iloc[-1]
    out = [
        _h2(t("report.attainment")),
        _p(
            t(
                "report.attainment_intro",
                elapsed=att.elapsed,
                actual=float(team["actual"]),
                target=float(team["target"]),
                attainment=format_percent(float(team["attainment"])),
                pace=format_percent(float(team["pace"])),
            )
        ),
        _table(_attainment_table(att)),
    ]
    if "p_finish" in att.table:
        out.append(_p(t("report.attainment_p_finish"), "note"))
    out += [_p(t("cli.note", note=note), "note") for note in notes]
    return out


def _attainment_table(att: Attainment) -> pd.DataFrame:
    """:func:`~funnelsim.summaries.attainment_frame` with the amounts written as money."""
    frame = attainment_frame(att)
    table = att.to_frame()
    for field in ("actual", "target", "target_to_date", "gap"):
        frame[t(f"attainment.col.{field}")] = [_amount(float(x)) for x in table[field]]
    return frame


def _calls_of(call_log: Calls | str | os.PathLike) -> Calls:
    """``call_log=``: a :class:`~funnelsim.Calls`, or a call record's path to read."""
    if isinstance(call_log, Calls):
        return call_log
    if isinstance(call_log, (str, os.PathLike)):
        return read_calls(call_log)
    raise FunnelsimTypeError(
        "error.plot_result",
        function="build_report",
        argument="call_log",
        wanted="Calls / path",
        maker="funnelsim.read_calls",
        value=type(call_log).__name__,
    )


# ------------------------------------------------------------------ report
def build_report(
    log,
    *,
    by: str | None = None,
    method: str = "wilson",
    confidence_level: float = 0.95,
    mature: float | str | None = None,
    target: float | None = None,
    probability: float = 0.9,
    calls: int | None = None,
    periods: int = 13,
    reps: int = 10_000,
    deal_size=None,
    cycle=None,
    rng: np.random.Generator | int | None = None,
    progress: Callable[[str], None] | None = None,
    between: Any = "auto",
    call_log: Calls | str | os.PathLike | None = None,
    attainment: Attainment | None = None,
    attainment_notes: Sequence[str] = (),
) -> str:
    """A self-contained HTML report of a log: ratios, groups, cycle, forecast and plan.

    Sections: the stage ratios with their intervals and a plot; the overall
    rate; with ``by``, each group's ratios and the comparison against the
    rest of the team (:func:`funnelsim.compare_groups`, funnel charts); the
    sales cycle over open and closed leads when the log has times
    (:func:`funnelsim.cycle_length`); with ``target``, the calls needed and
    the forecast band (:func:`funnelsim.plan_calls`,
    :func:`funnelsim.forecast`).

    Parameters
    ----------
    log : Log
        From :func:`funnelsim.read_log`.
    by : str, optional
        A group column of the log (``"rep"``, ``"source"``...).
    method, confidence_level : str, float
        Of the ratio intervals (as in :func:`funnelsim.fit`).
    mature : float or str, optional
        Fit the ratios (the team's and each group's), the forecast and the
        plan over mature leads only (as in :func:`funnelsim.fit`): leads
        still open are left out instead of counted as lost. The group
        comparison (tests, shrinkage, funnel charts) uses every lead.
    target : float, optional
        Sales (or revenue, with ``deal_size``) to reach over ``periods``.
    probability : float, default 0.9
        How sure the plan should be of reaching ``target``.
    calls : int, optional
        Calls per period for the forecast band; by default the plan's.
    periods, reps : int
        Forecast horizon and replicates.
    deal_size : DealSize, optional
        Revenue per sale; without it targets count sales.
    cycle : Cycle, optional
        Delay from call to sale, in periods.
    rng : Generator, int or None
        Seed of the forecast (the same seed gives the same report).
    progress : callable, optional
        Called with each section's name before it is built.
    between : "auto", Dispersion or None
        Whether the plan and the band let the ratios move from period to
        period as the log shows they did (:func:`funnelsim.forecast`); None
        keeps them fixed (``--fixed-ratios`` on the command line).
    call_log : Calls or path, optional
        A call record (:func:`funnelsim.read_calls`, or its file): adds the
        activity section, each rep's KPIs per week
        (:meth:`funnelsim.Calls.kpis`), the when-to-call heatmap for the team
        and each rep (:func:`funnelsim.plotting.plot_call_heatmap`) and the
        weekly p-chart of the connect rate (:meth:`funnelsim.Calls.p_chart`).
    attainment : Attainment, optional
        From :func:`funnelsim.attainment`: adds the attainment section,
        actual against target to date per rep and team, and the chance to
        finish when it was given a forecast.
    attainment_notes : sequence of str, optional
        Sentences printed under the attainment table (``funnelsim report
        --attainment`` says there which reps of the sheet have no history in the
        log, and why their chance and the team's are not given).

    Returns
    -------
    str
        The HTML page (UTF-8 text, no external resources).

    Examples
    --------
    The sample team's report, with a plan for 40 sales in 13 weeks:

    >>> import funnelsim as fs
    >>> from funnelsim.report import build_report
    >>> log = fs.datasets.load_events()
    >>> page = build_report(log, mature=60, target=40, reps=2000, rng=1)
    >>> page.startswith("<!DOCTYPE html>"), "http" in page, page.count("<img")
    (True, False, 3)

    With the optional sections: a call record and the attainment to date.

    >>> att = fs.attainment({"Li": 12, "Wang": 7}, {"Li": 30, "Wang": 30}, elapsed=0.5)
    >>> page = build_report(log, attainment=att)
    >>> "达成率" in page, fs.t("report.attainment") in page
    (False, True)
    """

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    step(t("report.ratios"))
    fit = fit_log(log, method=method, confidence_level=confidence_level, mature=mature)
    body = [
        f"<h1>{html.escape(t('report.title', name=log.name))}</h1>",
        _p(log_line(log), "meta"),
    ]
    if len(log.dropped):  # every row left out, with where and why
        body.append(_p(t("cli.dropped", n=len(log.dropped), name=log.name), "error"))
        body.append(
            _table(
                log.dropped.rename(
                    columns={
                        "row": t("report.col.row"),
                        "file": t("report.col.file"),  # a folder's rows: their file
                        "file_row": t("report.col.file_row"),
                        "column": t("report.col.column"),
                        "reason": t("report.col.reason"),
                    }
                ),
                classes="text",
            )
        )
    body += _section_ratios(fit, fixed=between is None)
    if by is not None:
        step(t("report.groups", by=field_label(by)))
        body += _section_groups(log, by, method, confidence_level, mature)
    if log.format != "counts" and log.times is not None:
        step(t("report.cycle"))
        body += _section_cycle(log, confidence_level)
    if target is not None or calls is not None:
        step(t("report.forecast"))
        body += _section_forecast(  # the team's plan (per-group plans: funnelsim forecast --by)
            fit,
            log,
            target=target,
            probability=probability,
            calls=calls,
            periods=periods,
            reps=reps,
            deal_size=deal_size,
            cycle=cycle,
            rng=rng,
            between=between,
        )
    if call_log is not None:
        step(t("report.activity"))
        body += _section_activity(_calls_of(call_log), method, confidence_level)
    if attainment is not None:
        check_result(attainment, (Attainment,), "build_report", "funnelsim.attainment",
                     argument="attainment")  # fmt: skip
        step(t("report.attainment"))
        body += _section_attainment(attainment, attainment_notes)
    step(t("report.backtest"))
    body += _section_backtest(log, mature, rng)
    body.append(_p(t("report.footer", version=__version__), "note"))
    title = html.escape(t("report.title", name=log.name))
    text = "\n".join(body)
    # Chinese text (a Chinese report, or Chinese stage names) carries its own font, cut to
    # the characters used, so that the page reads on a machine without a Chinese font.
    face = fonts.font_face(title + text)
    css = _CSS
    if face:
        css = face + _CSS.replace("font-family: ", f'font-family: "{fonts.CJK_FAMILY}", ', 1)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{get_language()}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{css}</style>\n</head>\n<body>\n"
        + text
        + "\n</body>\n</html>\n"
    )
