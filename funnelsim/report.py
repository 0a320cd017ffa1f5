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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .i18n import FunnelsimValueError, field_label, get_language, method_label, t

__all__ = ["build_report", "figure_png", "ratio_table"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; }
.note { color: #555; font-size: 0.92em; }
.meta { color: #555; }
.error { color: #b00020; }
"""


# ------------------------------------------------------------------ pieces
def _percent(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{100 * x:.2f}%"


def _number(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:,.0f}"


def _rows(fit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The step rows and the overall rows (first to last stage) of a fit, in one shape."""
    table = fit.to_frame()
    steps = len(fit.stages) - 1
    table.insert(len(fit.by), "previous", [fit.stages[i % steps] for i in range(len(table))])
    overall = fit.overall
    if not fit.by:
        overall = pd.DataFrame([overall._asdict()]).assign(
            entered=int(table["entered"].iloc[0]), passed=int(table["passed"].iloc[-1])
        )
    overall = overall.assign(previous=fit.stages[0], stage=fit.stages[-1])
    return table, overall


def ratio_table(fit) -> pd.DataFrame:
    """A fit's ratios as people read them: each step, then first to last stage.

    Translated headers, counts as ``passed/entered``, ratios and interval
    limits as percentages with two decimals (what ``funnelsim fit`` prints
    and the report shows). The numbers are those of ``fit.to_frame()`` and
    ``fit.overall``.

    Parameters
    ----------
    fit : Fit
        From :func:`funnelsim.fit` (with or without ``by``).

    Returns
    -------
    pandas.DataFrame
        Text cells, one row per group and step, then one per group for the
        overall rate.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.report import ratio_table
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> log = fs.Log("counts", ("dials", "connects", "meetings"), counts=counts)
    >>> print(ratio_table(fs.fit(log)).to_string(index=False))
                   step passed / entered  ratio    95% interval
       dials → connects           70/150 46.67% 38.87% – 54.63%
    connects → meetings            10/70 14.29%  7.95% – 24.34%
       dials → meetings           10/150  6.67%  3.45% – 11.50%
    """
    steps, overall = _rows(fit)
    both = pd.concat(
        [steps.assign(overall_row=False), overall.assign(overall_row=True)], ignore_index=True
    )
    if fit.by:  # keep each group's rows together, overall last
        both = both.sort_values(list(fit.by), kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            **{field_label(col): both[col].astype(str) for col in fit.by},
            t("cli.col.step"): [
                t("cli.step", previous=p, stage=s)
                for p, s in zip(both["previous"], both["stage"], strict=True)
            ],
            t("cli.col.counts"): [
                # with mature= each step has its own cohort: no first-to-last counts
                "–" if fit.mature is not None and last else f"{k}/{n}"
                for k, n, last in zip(
                    both["passed"], both["entered"], both["overall_row"], strict=True
                )
            ],
            t("cli.col.ratio"): [_percent(x) for x in both["ratio"]],
            t("cli.col.interval", level=fit.confidence_level): [
                t("cli.interval", low=_percent(lo), high=_percent(hi))
                for lo, hi in zip(both["low"], both["high"], strict=True)
            ],
        }
    )


def log_line(log) -> str:
    """One line saying what the log is: file, format, size, snapshot date."""
    n = len(log.counts) if log.format == "counts" else len(log.leads)
    unit = t("cli.unit.rows") if log.format == "counts" else t("cli.unit.leads")
    as_of = "-" if log.as_of is None else str(pd.Timestamp(log.as_of))
    return t(
        "cli.log_line",
        name=log.name,
        format=log.format,
        n=n,
        unit=unit,
        stages=" → ".join(log.stages),
        as_of=as_of,
    )


def calls_per_week(log) -> float:
    """The log's pace: first-stage leads per week (per period of a counts log).

    Events and leads logs: the gaps between consecutive first-stage times,
    per week: ``(n - 1)`` gaps over the weeks from the first time to the
    last (``n`` leads over that span would count one lead too many: one a
    day for ten weeks is 7 a week, not 7.1). Counts logs: the first-stage
    total divided by the number of periods.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.report import calls_per_week
    >>> counts = pd.DataFrame({"period": ["w1", "w2"], "dials": [70, 80], "sales": [1, 0]})
    >>> calls_per_week(fs.Log("counts", ("dials", "sales"), counts=counts))
    75.0
    """
    first = log.stages[0]
    if log.format == "counts":
        if "period" not in log.counts.columns:
            raise FunnelsimValueError("cli.error.no_pace", name=log.name)
        return float(log.counts[first].sum() / log.counts["period"].nunique())
    if log.times is None:
        raise FunnelsimValueError("cli.error.no_pace", name=log.name)
    times = log.times[first].dropna()
    weeks = (times.max() - times.min()) / pd.Timedelta(weeks=1)
    if len(times) < 2 or not weeks > 0:
        raise FunnelsimValueError("cli.error.no_pace", name=log.name)
    return float((len(times) - 1) / weeks)


def figure_png(draw: Callable[[Any], Any], *, figsize: tuple[float, float] = (10, 5.5)) -> str:
    """Draw on a new figure (no pyplot) in the kit's style; an ``<img>`` tag with the PNG inline.

    Examples
    --------
    >>> from funnelsim.report import figure_png
    >>> figure_png(lambda ax: ax.plot([0, 1], [0, 1]))[:38]
    '<img alt="" src="data:image/png;base64'
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from . import plotting

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


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, escape=True, na_rep="-")


def _p(text: str, cls: str | None = None) -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _h2(text: str) -> str:
    return f"<h2>{html.escape(text)}</h2>"


# ---------------------------------------------------------------- sections
def _section_ratios(fit) -> list[str]:
    from . import plotting

    ratio, low, high = fit.overall
    out = [
        _h2(t("report.ratios")),
        _p(t("report.ratios_intro", method=method_label(fit.method), level=fit.confidence_level)),
        _table(ratio_table(fit)),
        _p(
            t(
                "report.overall",
                first=fit.stages[0],
                last=fit.stages[-1],
                ratio=ratio,
                low=low,
                high=high,
                level=fit.confidence_level,
                one_in=(1 / ratio) if ratio > 0 else float("inf"),
            )
        ),
        figure_png(lambda ax: plotting.plot_ratio_table(fit, ax=ax, overall=True)),
    ]
    out += [_p(t("cli.note", note=note), "note") for note in fit_notes(fit)]
    return out


def fit_notes(fit) -> list[str]:
    """What a reader of a fit's ratios should know: the mature-lead rule, then its notes."""
    out = list(fit.notes)
    if fit.mature is not None:
        out.insert(0, fit._mature_line().strip())
    return out


def _section_groups(
    log, by: str, method: str, confidence_level: float, mature: float | str | None = None
) -> list[str]:
    from . import plotting
    from .estimate import fit as fit_log
    from .groups import compare_groups

    by_fit = fit_log(log, by=by, method=method, confidence_level=confidence_level, mature=mature)
    comparison = compare_groups(log, by=by, method=method, confidence_level=confidence_level)
    frame = comparison.to_frame()
    shown = pd.DataFrame(
        {
            field_label(by): frame[by].astype(str),
            t("report.col.step"): frame["stage"],
            t("cli.col.counts"): [
                f"{k}/{n}" for k, n in zip(frame["passed"], frame["entered"], strict=True)
            ],
            t("cli.col.ratio"): [_percent(x) for x in frame["ratio"]],
            t("report.col.rest"): [_percent(x) for x in frame["rest"]],
            t("report.col.shrunk"): [_percent(x) for x in frame["shrunk"]],
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
            plotting._require_leads(comparison, stage)
        except ValueError as exc:  # a step nobody reached yet: say so, keep the report
            out.append(_p(t("cli.note", note=str(exc)), "note"))
            continue
        out.append(
            figure_png(lambda ax, s=stage: plotting.plot_funnel_chart(comparison, stage=s, ax=ax))
        )
    out += [_p(t("cli.note", note=note), "note") for note in comparison.notes]
    return out


def _section_cycle(log, confidence_level: float) -> list[str]:
    from . import plotting
    from .survival import cycle_length

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
                start=cycle.start,
                end=cycle.end,
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
                unit=cycle.unit,
                level=confidence_level,
            )
        )
    )
    naive = cycle.naive
    out.append(
        _table(
            pd.DataFrame(
                {
                    t("report.col.naive"): naive["method"],
                    t("report.col.deals"): naive["deals"],
                    t("report.col.mean_unit", unit=cycle.unit): naive["mean"].round(1),
                    t("report.col.median", unit=cycle.unit): naive["median"].round(1),
                }
            )
        )
    )
    out.append(_p(t("report.cycle_naive"), "note"))
    out.append(figure_png(lambda ax: plotting.plot_sales_cycle(cycle, ax=ax)))
    return out


@dataclass(frozen=True, repr=False, eq=False)
class Outlook:
    """What ``funnelsim forecast`` prints and the report's forecast section shows.

    Attributes
    ----------
    plan : Plan or None
        :func:`funnelsim.plan_calls` for the target (None without a target).
    forecast : Forecast
        :func:`funnelsim.forecast` at :attr:`calls` per period, with the
        ratios' uncertainty (its ``.point`` without).
    calls : int
        Calls per period of the forecast.
    calls_from : {"given", "pace", "plan"}
        Where :attr:`calls` came from: ``--calls``, the log's pace per week,
        or the plan.
    target : float or None
    probability : float
    measure : {"sales", "revenue"}
        Revenue when a deal size is given.
    """

    plan: Any
    forecast: Any
    calls: int
    calls_from: str
    target: float | None
    probability: float
    measure: str

    def to_frame(self) -> pd.DataFrame:
        """The band cumulated to each period: ``period``, ``mean``, ``q10``, ``q50``, ``q90``
        and, with a target, ``prob_reach`` (the chance of having reached it by then)."""
        frame = self.forecast.percentiles(measure=self.measure, cumulative=True)
        if self.target is not None:
            reach = self.forecast.prob_reach(self.target, measure=self.measure)
            frame["prob_reach"] = reach.to_numpy()
        return frame

    def __repr__(self) -> str:
        total = self.forecast.measure(self.measure, cumulative=True)[:, -1]
        p10, p50, p90 = np.quantile(total, [0.1, 0.5, 0.9])
        head = t(
            "repr.outlook.head",
            calls=self.calls,
            source=t(f"repr.calls_from.{self.calls_from}"),
            periods=self.forecast.periods,
            reps=self.forecast.reps,
            measure=t(f"repr.what.{self.measure}"),
            p10=p10,
            p50=p50,
            p90=p90,
        )
        if self.target is None:
            return head + ")"
        reach = float(self.forecast.prob_reach(self.target, measure=self.measure).iloc[-1])
        calls = int(self.plan.table["calls"].iloc[-1])
        return t(
            "repr.outlook.target",
            head=head,
            target=self.target,
            reach=reach,
            calls=calls,
            probability=self.probability,
        )


def outlook(
    fit,
    *,
    groups=None,
    target: float | None = None,
    probability: float = 0.9,
    calls: int | None = None,
    periods: int = 13,
    reps: int = 10_000,
    deal_size=None,
    cycle=None,
    rng: np.random.Generator | int | None = None,
    pace: float | None = None,
) -> Outlook:
    """Plan and forecast together: calls for the target, and the band at the chosen calls.

    ``calls`` when given, else ``pace`` (the log's calls per week, rounded),
    else the team's plan (calls with the ratios' uncertainty). The plan runs
    ``plan_calls(groups or fit, target, probability, periods=periods,
    deal_size=deal_size, rng=rng)`` (one row per group and one for the team
    when ``groups``, a fit with ``by``, is given); the band runs
    ``forecast(fit, calls, periods, reps, cycle=cycle, deal_size=deal_size,
    rng=rng)``. Both take the same seed, so each can be reproduced alone.

    Parameters
    ----------
    fit : Fit
        The team's fit, without ``by``.
    groups : Fit, optional
        The same log fitted with ``by``, for a plan per group.
    target, probability, calls, periods, reps, deal_size, cycle
        As in :func:`build_report`.
    rng : Generator, int or None
        Seed of both the plan and the forecast.
    pace : float, optional
        The log's calls per period (:func:`calls_per_week`).

    Returns
    -------
    Outlook

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.report import outlook
    >>> log = fs.Log("counts", ("dials", "sales"),
    ...              counts=pd.DataFrame({"dials": [5000], "sales": [40]}))
    >>> o = outlook(fs.fit(log), target=40, probability=0.9, reps=2000, rng=1)
    >>> o.calls_from, o.calls == int(o.plan.table["calls"].iloc[-1])
    ('plan', True)
    """
    from .forecasting import forecast, plan_calls

    plan = None
    if target is not None:
        plan = plan_calls(
            fit if groups is None else groups,
            target,
            probability,
            periods=periods,
            deal_size=deal_size,
            rng=rng,
        )
    if calls is not None:
        chosen, source = int(calls), "given"
    elif pace is not None:
        chosen, source = max(1, round(pace)), "pace"
    elif plan is not None:
        chosen, source = int(plan.table["calls"].iloc[-1]), "plan"
    else:
        raise FunnelsimValueError("report.error.no_calls")
    band = forecast(fit, chosen, periods, reps, cycle=cycle, deal_size=deal_size, rng=rng)
    measure = "revenue" if deal_size is not None else "sales"
    return Outlook(plan, band, chosen, source, target, probability, measure)


def _amount(x: float, measure: str) -> str:
    if not np.isfinite(x):
        return "-"
    return f"{x:,.0f}" if measure == "revenue" else f"{x:,.1f}"


def plan_frame(o: Outlook) -> pd.DataFrame:
    """The plan as people read it: calls per period by each method, and what each plan delivers.

    Translated headers; counts of calls as integers, chances as percentages.
    Empty without a target.
    """
    if o.plan is None:
        return pd.DataFrame()
    table = o.plan.to_frame()
    return pd.DataFrame(
        {
            t("report.col.group"): table["group"].astype(str),
            t("report.col.overall"): [_percent(x) for x in table["overall"]],
            t("report.col.calls", probability=o.probability): [
                "-" if pd.isna(x) else f"{int(x):,}" for x in table["calls"]
            ],
            t("report.col.calls_point"): [f"{int(x):,}" for x in table["calls_point"]],
            t("report.col.calls_expected"): [f"{int(x):,}" for x in table["calls_expected"]],
            t("report.col.calls_decks"): [f"{int(x):,}" for x in table["calls_decks"]],
            t("report.col.p_point_plan"): [_percent(x) for x in table["p_point_plan"]],
            t("report.col.p_decks"): [_percent(x) for x in table["p_decks"]],
        }
    )


def band_frame(o: Outlook) -> pd.DataFrame:
    """The forecast band, cumulated to each period: mean, P10, P50, P90 and P(target).

    Periods are counted from 1; P(target) only with a target. Values are
    those of ``o.forecast.percentiles(measure=o.measure, cumulative=True)``
    and ``o.forecast.prob_reach(o.target, measure=o.measure)``.
    """
    bands = o.forecast.percentiles((0.1, 0.5, 0.9), measure=o.measure, cumulative=True)
    out = pd.DataFrame(
        {
            t("report.col.period"): bands["period"] + 1,
            t("report.col.mean"): [_amount(x, o.measure) for x in bands["mean"]],
            "P10": [_amount(x, o.measure) for x in bands["q10"]],
            "P50": [_amount(x, o.measure) for x in bands["q50"]],
            "P90": [_amount(x, o.measure) for x in bands["q90"]],
        }
    )
    if o.target is not None:
        reach = o.forecast.prob_reach(o.target, measure=o.measure, cumulative=True)
        out[t("report.col.prob_reach")] = [_percent(x) for x in reach.to_numpy()]
    return out


def outlook_lines(o: Outlook) -> list[str]:
    """The plan and the band in sentences (plain text; the report escapes them)."""
    fc = o.forecast
    what = t(f"report.measure.{o.measure}")
    lines = []
    if o.plan is not None:
        team = o.plan.table.iloc[-1]
        lines.append(
            t(
                "report.plan_line",
                target=_amount(o.target, "revenue"),
                what=what,
                periods=fc.periods,
                probability=o.probability,
                calls=int(team["calls"]),
                point=int(team["calls_point"]),
                decks=int(team["calls_decks"]),
                p_decks=float(team["p_decks"]),
            )
        )
    lines.append(
        t(
            f"report.calls_from.{o.calls_from}",
            calls=o.calls,
            periods=fc.periods,
            reps=fc.reps,
        )
    )
    total = fc.measure(o.measure, cumulative=True)[:, -1]
    p10, p50, p90 = np.quantile(total, [0.1, 0.5, 0.9])
    lines.append(
        t(
            "report.band_line",
            what=what,
            p10=_amount(p10, o.measure),
            p50=_amount(p50, o.measure),
            p90=_amount(p90, o.measure),
        )
    )
    if o.target is not None:
        lines.append(
            t(
                "report.reach_line",
                target=_amount(o.target, "revenue"),
                what=what,
                p=float(fc.prob_reach(o.target, measure=o.measure).iloc[-1]),
            )
        )
    if fc.point is not None:
        last = fc.compare_bands(measure=o.measure).iloc[-1]
        lines.append(
            t(
                "report.point_line",
                low=_amount(last["point_low"], o.measure),
                high=_amount(last["point_high"], o.measure),
                coverage=float(last["point_coverage"]),
                ratio=float(last["ratio"]),
            )
        )
    return lines


def _section_forecast(fit, log, **kwargs) -> list[str]:
    from . import plotting

    try:
        pace = calls_per_week(log)
    except ValueError:
        pace = None
    o = outlook(fit, pace=pace, **kwargs)
    out = [_h2(t("report.forecast")), _p(t("report.forecast_intro"))]
    out += [_p(line) for line in outlook_lines(o)]
    if o.plan is not None:
        out += [_h2(t("report.plan")), _table(plan_frame(o))]
        if len(o.plan.table) > 1:
            out.append(_p(t("report.plan_note"), "note"))
    out += [_h2(t("report.band")), _table(band_frame(o))]
    period = "week" if o.calls_from == "pace" else "period"
    out.append(
        figure_png(
            lambda ax: plotting.plot_forecast(
                o.forecast, ax=ax, measure=o.measure, target=o.target, period=period
            )
        )
    )
    return out


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

    Returns
    -------
    str
        The HTML page (UTF-8 text, no external resources).

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.report import build_report
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> page = build_report(fs.Log("counts", ("dials", "connects", "meetings"), counts=counts))
    >>> page.startswith("<!DOCTYPE html>"), "http" in page
    (True, False)
    """
    from . import __version__
    from .estimate import fit as fit_log

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
                        "column": t("report.col.column"),
                        "reason": t("report.col.reason"),
                    }
                )
            )
        )
    body += _section_ratios(fit)
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
        )
    body.append(_p(t("report.footer", version=__version__), "note"))
    title = html.escape(t("report.title", name=log.name))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{get_language()}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
