"""What the command line prints, and the report and the apps show, as text.

Pure formatting: each function takes a result (a fit, a log, an
:class:`~funnelsim.lessons.Outlook`) and returns translated sentences or a
table of text cells, computing no statistic of its own. ``funnelsim fit``
and ``funnelsim forecast`` print these; :func:`funnelsim.report.build_report`
and the forecast app show the same text, so the three never disagree.
"""

from __future__ import annotations

from typing import TextIO

import numpy as np
import pandas as pd

from .diagnose import SHAPES
from .forecasting import moves_of
from .i18n import field_label, stage_label, stages_label, t, table_text
from .lessons import Outlook
from .stocks import Snapshot

__all__ = [
    "attainment_frame",
    "band_frame",
    "calls_line",
    "day_text",
    "fit_notes",
    "format_amount",
    "format_percent",
    "kpi_frame",
    "log_line",
    "outlook_lines",
    "plan_frame",
    "point_band_keys",
    "ratio_table",
    "snapshot_frame",
    "snapshot_text",
    "unit_words",
]


def format_percent(x: float) -> str:
    """A share as a percentage with two decimals; ``"-"`` when it is not a number.

    >>> from funnelsim.summaries import format_percent
    >>> format_percent(0.4667), format_percent(float("nan"))
    ('46.67%', '-')
    """
    return "-" if not np.isfinite(x) else f"{100 * x:.2f}%"


def group_text(values: pd.Series) -> list[str]:
    """Group values as a table shows them: a missing one (rows without a rep, a Hive
    folder of Hive's missing value) as "(no value)" in the reader's language, not "nan".

    >>> group_text(pd.Series(["Li", None, float("nan")]))
    ['Li', '(no value)', '(no value)']
    """
    return [t("cli.group.missing") if pd.isna(v) else str(v) for v in values]


def _rows(fit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The step rows and the overall rows (first to last stage) of a fit, in one shape."""
    table = fit.to_frame()
    steps = len(fit.stages) - 1
    table.insert(len(fit.by), "previous", [fit.stages[i % steps] for i in range(len(table))])
    overall = fit.overall.to_frame().assign(previous=fit.stages[0], stage=fit.stages[-1])
    return table, overall


def ratio_table(fit) -> pd.DataFrame:
    """A fit's ratios as people read them: each step, then first to last stage.

    With two stages the one step is already first to last: no second row.

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
        overall rate (when there are two steps or more).

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.summaries import ratio_table
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
    >>> print(ratio_table(fs.fit(log)).to_string(index=False))
                   step passed / entered  ratio    95% interval
       dials → connects           70/150 46.67% 38.87% – 54.63%
    connects → meetings            10/70 14.29%  7.95% – 24.34%
       dials → meetings           10/150  6.67%  3.66% – 11.84%
    """
    steps, overall = _rows(fit)
    parts = [steps.assign(overall_row=False)]
    if len(fit.stages) > 2:  # with one step, the overall row would repeat it
        parts.append(overall.assign(overall_row=True))
    both = pd.concat(parts, ignore_index=True)
    if fit.by:  # keep each group's rows together, overall last
        both = both.sort_values(list(fit.by), kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            **{field_label(col): group_text(both[col]) for col in fit.by},
            t("cli.col.step"): [
                t("cli.step", previous=stage_label(p), stage=stage_label(s))
                for p, s in zip(both["previous"], both["stage"], strict=True)
            ],
            t("cli.col.counts"): [
                # with mature= each step has its own cohort: no first-to-last counts
                "–" if fit.mature is not None and last else f"{k}/{n}"
                for k, n, last in zip(
                    both["passed"], both["entered"], both["overall_row"], strict=True
                )
            ],
            t("cli.col.ratio"): [format_percent(x) for x in both["ratio"]],
            t("cli.col.interval", level=fit.confidence_level): [
                t("cli.interval", low=format_percent(lo), high=format_percent(hi))
                for lo, hi in zip(both["low"], both["high"], strict=True)
            ],
        }
    )


def log_line(log) -> str:
    """One line saying what the log is: file, format, size, snapshot date.

    >>> import funnelsim as fs
    >>> from funnelsim.summaries import log_line
    >>> print(log_line(fs.datasets.load_events()))
    sample_events.csv: events log, 6,000 leads, stages dial → connect → meeting → proposal →
    sale, as of 2025-06-30 18:00:00
    """
    n = log.n_leads
    unit = t("cli.unit.rows") if log.format == "counts" else t("cli.unit.leads")
    as_of = "-" if log.as_of is None else str(pd.Timestamp(log.as_of))
    return t(
        "cli.log_line",
        name=log.name,
        format=t(f"log.format_name.{log.format}"),  # a word of the page's language
        n=n,
        unit=unit,
        stages=stages_label(log.stages, " → "),
        as_of=as_of,
    )


def fit_notes(fit, *, fixed: bool = False) -> list[str]:
    """What a reader of a fit's ratios should know: the mature-lead rule and how the overall
    interval was made (with ``mature=``: a product of posteriors), then its notes, and
    whether the ratios moved between periods more than chance (``fixed``: the forecast
    beside them keeps them fixed, and the note says so).

    >>> import funnelsim as fs
    >>> from funnelsim.summaries import fit_notes
    >>> log = fs.datasets.load_events()
    >>> for note in fit_notes(fs.fit(log, mature=30)):
    ...     print(note)
    mature leads only: at least 30 days at each step's previous stage (1,569 younger
    lead-steps left out)
    overall rate: each step has its own cohort, so its interval is the product of Jeffreys
    posteriors (upper limit: half a pass more per step), 100,000 draws
    >>> fit_notes(fs.fit(log))
    []
    """
    out = list(fit.notes)
    if fit.mature is not None:
        out.insert(0, fit.mature_note())
        out.insert(1, overall_note(fit))
    moves = moves_of(fit, "auto")  # the history as the forecasts read it
    if moves is not None:
        key = "note.fit_moving_fixed" if fixed else "note.fit_moving"
        out.append(t(key, period=field_label(moves.period), steps=_steps(moves)))
    return out


def overall_note(fit) -> str:
    """How a fit's overall interval was made, as a sentence (for fits with ``mature=``,
    whose overall interval is not the steps' method).

    >>> import funnelsim as fs
    >>> from funnelsim.summaries import overall_note
    >>> print(overall_note(fs.fit(fs.datasets.load_events(), mature=30)))
    overall rate: each step has its own cohort, so its interval is the product of Jeffreys
    posteriors (upper limit: half a pass more per step), 100,000 draws
    """
    return t("note.overall_product", method=fit.overall.method_label)


def format_amount(x: float, measure: str) -> str:
    """A forecast number as text: revenue in whole units, sales with one decimal; ``"-"``
    when it is not a number.

    >>> from funnelsim.summaries import format_amount
    >>> format_amount(1234567.8, "revenue"), format_amount(12.34, "sales")
    ('1,234,568', '12.3')
    """
    if not np.isfinite(x):
        return "-"
    return f"{x:,.0f}" if measure == "revenue" else f"{x:,.1f}"


def plan_frame(o: Outlook) -> pd.DataFrame:
    """The plan as people read it: calls per period by each method, and what each plan delivers.

    Translated headers; counts of calls as integers, chances as percentages.
    Empty without a target.

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import outlook
    >>> o = outlook(fs.fit(fs.datasets.load_counts()), target=20, probability=0.9, periods=4,
    ...             reps=500, rng=1)
    >>> from funnelsim.summaries import plan_frame
    >>> frame = plan_frame(o)
    >>> frame.columns[2]
    'calls for 90% (with uncertainty)'
    >>> frame.iloc[0].tolist()
    ['team', '0.95%', '700', '682', '528', '530', '87.87%', '53.81%']
    """
    if o.plan is None:
        return pd.DataFrame()
    table = o.plan.to_frame()
    return pd.DataFrame(
        {
            t("report.col.group"): o.plan.group_labels(),
            t("report.col.overall"): [format_percent(x) for x in table["overall"]],
            t("report.col.calls", probability=o.probability): [
                "-" if pd.isna(x) else f"{int(x):,}" for x in table["calls"]
            ],
            t("report.col.calls_point"): [f"{int(x):,}" for x in table["calls_point"]],
            t("report.col.calls_expected"): [f"{int(x):,}" for x in table["calls_expected"]],
            t("report.col.calls_decks"): [f"{int(x):,}" for x in table["calls_decks"]],
            t("report.col.p_point_plan"): [format_percent(x) for x in table["p_point_plan"]],
            t("report.col.p_decks"): [format_percent(x) for x in table["p_decks"]],
        }
    )


def band_frame(o: Outlook) -> pd.DataFrame:
    """The forecast band, cumulated to each period: mean, P10, P50, P90 and P(target).

    Periods are counted from 1, under the outlook's unit ("week" when the
    calls are the log's weekly pace); P(target) only with a target. Values are
    those of ``o.forecast.percentiles(measure=o.measure, cumulative=True)``
    and ``o.forecast.prob_reach(o.target, measure=o.measure)``.

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import outlook
    >>> o = outlook(fs.fit(fs.datasets.load_counts()), target=20, probability=0.9, periods=4,
    ...             reps=500, rng=1)
    >>> from funnelsim.summaries import band_frame
    >>> print(band_frame(o).to_string(index=False))
     period mean  P10  P50  P90 P(target by then)
          1  6.5  3.0  6.0 10.0             0.00%
          2 13.3  9.0 13.0 18.0             5.20%
          3 20.1 15.0 20.0 26.0            52.60%
          4 27.0 20.0 27.0 34.0            93.00%
    """
    bands = o.forecast.percentiles((0.1, 0.5, 0.9), measure=o.measure, cumulative=True)
    out = pd.DataFrame(
        {
            t(f"plot.unit.{o.unit}"): bands["period"],
            t("report.col.mean"): [format_amount(x, o.measure) for x in bands["mean"]],
            "P10": [format_amount(x, o.measure) for x in bands["q10"]],
            "P50": [format_amount(x, o.measure) for x in bands["q50"]],
            "P90": [format_amount(x, o.measure) for x in bands["q90"]],
        }
    )
    if o.target is not None:
        reach = o.forecast.prob_reach(o.target, measure=o.measure, cumulative=True)
        out[t("report.col.prob_reach")] = [format_percent(x) for x in reach.to_numpy()]
    return out


def unit_words(o: Outlook) -> dict[str, str]:
    """The outlook's period in words: ``unit`` ("week") and ``units`` ("weeks").

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import outlook
    >>> from funnelsim.summaries import unit_words
    >>> o = outlook(fs.fit(fs.datasets.load_counts()), calls=300, periods=4, reps=100, rng=1,
    ...             unit="week")
    >>> unit_words(o)
    {'unit': 'week', 'units': 'weeks'}
    """
    return {"unit": t(f"plot.unit.{o.unit}"), "units": t(f"plot.units.{o.unit}")}


def point_band_keys(ratio: float, coverage: float, nominal: float) -> tuple[str, str]:
    """Which sentences describe the point band: how wide it is, and how often it holds.

    ``ratio`` is the honest band's width over the point band's, ``coverage``
    how often the point band really holds, ``nominal`` what it claims (0.8
    for P10-P90). The width sentence says "about as wide" when the ratio
    shows as 1.0, "too narrow" only when the honest band is wider; the
    coverage sentence says "only" only when the band holds less often than
    it claims, at the percentages the sentence shows.

    >>> from funnelsim.summaries import point_band_keys
    >>> point_band_keys(1.6, 0.55, 0.8)
    ('report.point_width.narrower', 'report.point_cover.short')
    >>> point_band_keys(1.004, 0.82, 0.8)
    ('report.point_width.same', 'report.point_cover.holds')
    """
    if not np.isfinite(ratio) or round(ratio, 1) > 1.0:  # a point band of width 0: inf
        width = "narrower"
    elif round(ratio, 1) == 1.0:
        width = "same"
    else:
        width = "wider"
    cover = "short" if round(100 * coverage) < round(100 * nominal) else "holds"
    return f"report.point_width.{width}", f"report.point_cover.{cover}"


def outlook_lines(o: Outlook) -> list[str]:
    """The plan and the band in sentences (plain text; the report escapes them).

    The words adapt to the numbers: "calls a week" when the period is known
    (:func:`unit_words`), "only" only when a plan or a band falls short of
    what it claims (:func:`point_band_keys`).

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import outlook
    >>> o = outlook(fs.fit(fs.datasets.load_counts()), target=20, probability=0.9, periods=4,
    ...             reps=500, rng=1, unit="week")
    >>> from funnelsim.summaries import outlook_lines
    >>> lines = outlook_lines(o)
    >>> print(lines[0])
    Target 20 sales in 4 weeks, 90% sure: 700 calls a week (with the ratios'
    uncertainty); 682 if the ratios were known exactly; the decks' back-calculation says
    530, which delivers only 54% of the time.
    >>> print(lines[3])
    Chance of reaching 20 sales: 93%.
    >>> print(lines[4])
    On point estimates only, the P10–P90 band would be 20.0 to 34.0: about as wide as
    the honest band. It claims 80% and holds 85% of the time: here the ratios are known
    well enough.
    """
    fc = o.forecast
    what = t(f"report.measure.{o.measure}")
    words = unit_words(o)
    lines = []
    if o.plan is not None:
        team = o.plan.table.iloc[-1]
        short = float(team["p_decks"]) < o.probability
        lines.append(
            t(
                "report.plan_line" if short else "report.plan_line_enough",
                target=format_amount(o.target, "revenue"),
                what=what,
                periods=fc.periods,
                probability=o.probability,
                calls=int(team["calls"]),
                point=int(team["calls_point"]),
                decks=int(team["calls_decks"]),
                p_decks=float(team["p_decks"]),
                **words,
            )
        )
    lines.append(
        t(
            f"report.calls_from.{o.calls_from}",
            calls=o.calls,
            periods=fc.periods,
            reps=fc.reps,
            **({} if o.calls_from == "pace" else words),
        )
    )
    p10, p50, p90 = o.band
    lines.append(
        t(
            "report.band_line",
            what=what,
            p10=format_amount(p10, o.measure),
            p50=format_amount(p50, o.measure),
            p90=format_amount(p90, o.measure),
        )
    )
    if o.target is not None:
        lines.append(
            t(
                "report.reach_line",
                target=format_amount(o.target, "revenue"),
                what=what,
                p=o.reach,
            )
        )
    if fc.point is not None:
        last = fc.compare_bands(measure=o.measure).iloc[-1]
        ratio, coverage, nominal = float(last["width_ratio"]), float(last["point_coverage"]), 0.8
        width, cover = point_band_keys(ratio, coverage, nominal)
        low = format_amount(last["point_low"], o.measure)
        high = format_amount(last["point_high"], o.measure)
        lines.append(
            t(
                "report.point_line",
                width=t(width, low=low, high=high, ratio=ratio),
                cover=t(cover, coverage=coverage, nominal=nominal),
            )
        )
    if fc.dispersion is not None:
        lines.append(moving_line(fc.dispersion))
    return lines


def moving_line(moves) -> str:
    """One sentence on the history's moves that a forecast (or plan) lets the ratios make.

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
    >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
    >>> import textwrap
    >>> print(textwrap.fill(moving_line(fs.dispersion(log)), 88))
    In the history the ratios moved from period to period more than chance allows
    (meetings: 4.9 times the variation chance allows, the ratio moving by about 50% of
    itself from period to period), so the band lets each period's ratios move the same way:
    more calls narrow it less than the law of large numbers promises (notebook 03, section
    4: "When more calls stop helping").
    """
    return t("report.moving_line", period=field_label(moves.period), steps=_steps(moves))


def _steps(moves) -> str:
    """The steps that move, with phi and the SD between periods, for a sentence."""
    rows = moves.table[moves.moving() > 0]
    period = field_label(moves.period)
    return "; ".join(
        t(
            "report.moving_step",
            stage=stage_label(r.stage),
            phi=r.phi,
            cv=r.cv_between,
            period=period,
        )
        for r in rows.itertuples(index=False)
    )


# ------------------------------------------------------------- call activity (#15)
def _clock(seconds: float) -> str:
    """Seconds as ``h:mm:ss`` (``m:ss`` under an hour); ``"-"`` when not a number."""
    if not np.isfinite(seconds):
        return "-"
    whole = round(float(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def calls_line(calls) -> str:
    """One line about a call record: calls, reps, connects and dates.

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.summaries import calls_line
    >>> calls = fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00", "2025-03-04 10:00"],
    ...                                     "rep": ["Li", "Wang"], "duration": [65, 0]}))
    >>> calls_line(calls)
    'DataFrame: 2 calls by 2 rep(s), 1 connected (50.00%), 2025-03-03 to 2025-03-04'
    """
    table = calls.table
    n = len(table)
    connects = int(table["connected"].sum())
    times = table["time"]
    return t(
        "cli.kpi.line",
        name=calls.name,
        calls=n,
        reps=table["rep"].nunique(),
        connects=connects,
        share=format_percent(connects / n) if n else "-",
        start=f"{times.min():%Y-%m-%d}" if n else "-",
        end=f"{times.max():%Y-%m-%d}" if n else "-",
    )


def kpi_frame(
    kpis: pd.DataFrame, *, effective: float = 30.0, confidence_level: float = 0.95
) -> pd.DataFrame:
    """The KPI table of :meth:`funnelsim.Calls.kpis` as people read it.

    Translated headers; the group columns and the period (a date) as text,
    counts as integers, the connect rate and its interval as percentages,
    talk time as ``h:mm:ss``. The numbers are those of the table given.

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.summaries import kpi_frame
    >>> calls = fs.read_calls(pd.DataFrame({
    ...     "time": ["2025-03-03 09:10", "2025-03-03 09:20", "2025-03-04 14:00"],
    ...     "rep": ["Li", "Li", "Li"], "duration": [0, 205, 3725]}))
    >>> frame = kpi_frame(calls.kpis(period="week"))
    >>> frame.iloc[0].tolist()
    ['Li', '2025-03-03', '3', '2', '66.67%', '20.77% – 93.85%', '1:05:30', '32:45', '2', '1.5']
    >>> frame.columns[-2:].tolist()
    ['effective calls (30 s or more)', 'dials per connect']
    """
    known = {"period", "dials", "connects", "connect_rate", "low", "high", "talk_time",
             "mean_talk", "effective", "dials_per_connect", "leads_touched"}  # fmt: skip
    groups = [c for c in kpis.columns if c not in known]
    out = {field_label(c): group_text(kpis[c]) for c in groups}
    if "period" in kpis:
        out[field_label("period")] = [f"{pd.Timestamp(d):%Y-%m-%d}" for d in kpis["period"]]
    out[t("kpi.col.dials")] = [f"{int(x):,}" for x in kpis["dials"]]
    out[t("kpi.col.connects")] = [f"{int(x):,}" for x in kpis["connects"]]
    out[t("kpi.col.connect_rate")] = [format_percent(x) for x in kpis["connect_rate"]]
    out[t("cli.col.interval", level=confidence_level)] = [
        t("cli.interval", low=format_percent(lo), high=format_percent(hi))
        for lo, hi in zip(kpis["low"], kpis["high"], strict=True)
    ]
    if kpis["talk_time"].notna().any():
        out[t("kpi.col.talk_time")] = [_clock(x) for x in kpis["talk_time"]]
        out[t("kpi.col.mean_talk")] = [_clock(x) for x in kpis["mean_talk"]]
        out[t("kpi.col.effective", seconds=effective)] = [
            "-" if pd.isna(x) else f"{int(x):,}" for x in kpis["effective"]
        ]
    out[t("kpi.col.dials_per_connect")] = [
        "-" if not np.isfinite(x) else f"{x:.1f}" for x in kpis["dials_per_connect"]
    ]
    if "leads_touched" in kpis:
        out[t("kpi.col.leads_touched")] = [f"{int(x):,}" for x in kpis["leads_touched"]]
    return pd.DataFrame(out)


def attainment_frame(att) -> pd.DataFrame:
    """An :class:`~funnelsim.Attainment` as people read it: one row per rep and the team.

    >>> import funnelsim as fs
    >>> from funnelsim.summaries import attainment_frame
    >>> att = fs.attainment({"Li": 30, "Wang": 10}, {"Li": 60, "Wang": 40}, elapsed=0.5)
    >>> print(attainment_frame(att).to_string(index=False))
     rep actual target target to date attainment pace (against target to date) still to go
      Li     30     60             30     50.00%                      100.00%          30
    Wang     10     40             20     25.00%                       50.00%          30
    team     40    100             50     40.00%                       80.00%          60
    """
    table = att.to_frame()
    team = len(table) - 1 if len(table) > 1 or table["rep"].iloc[0] == "team" else None
    who = [str(r) for r in table["rep"]]
    if team is not None and table["rep"].iloc[team] == "team":
        who[team] = t("cli.snapshot.team_row")
    out = {
        field_label("rep"): who,
        t("attainment.col.actual"): [f"{x:,.10g}" for x in table["actual"]],
        t("attainment.col.target"): [f"{x:,.10g}" for x in table["target"]],
        t("attainment.col.target_to_date"): [f"{x:,.10g}" for x in table["target_to_date"]],
        t("attainment.col.attainment"): [format_percent(x) for x in table["attainment"]],
        t("attainment.col.pace"): [format_percent(x) for x in table["pace"]],
        t("attainment.col.gap"): [f"{x:,.10g}" for x in table["gap"]],
    }
    if "p_finish" in table:
        # a share of simulated futures: whole percents (its Monte Carlo error is about 0.5 %)
        out[t("attainment.col.p_finish")] = [
            "-" if not np.isfinite(x) else f"{100 * x:.0f}%" for x in table["p_finish"]
        ]
    return pd.DataFrame(out)


# ------------------------------------------------------------------ snapshot
# The text of `funnelsim snapshot`: a tracking sheet's team, shapes, amounts and one rep.
def _money(value: object) -> str:
    """An amount as the sheet writes it: whole numbers without decimals, '-' when empty."""
    x = float(value)  # type: ignore[arg-type]
    if not np.isfinite(x):
        return "-"
    return f"{x:.0f}" if x == round(x) else f"{x:.2f}"


def day_text(value: object) -> str:
    """A date as the command line writes it.

    >>> day_text("2025-03-05 14:30")
    '2025-03-05'
    """
    return f"{pd.Timestamp(value):%Y-%m-%d}"  # type: ignore[arg-type]


def _shape_word(shape: str) -> str:
    return t(f"repr.shape.{shape.replace(' ', '_').replace('-', '_')}")


def snapshot_frame(snap: Snapshot, rep: str | None) -> pd.DataFrame:
    """One row per date and rep: ``date``, the rep, stocks, amounts and ``shape`` (the
    identifiers of :data:`funnelsim.diagnose.SHAPES`); ``funnelsim snapshot --csv`` writes it.

    >>> import funnelsim as fs
    >>> frame = snapshot_frame(fs.datasets.load_tracking(), None)
    >>> frame.shape, frame["shape"].iloc[0]
    ((108, 10), 'healthy')
    """
    wide = snap.to_frame()
    rep_column = wide.columns[1]
    shapes = snap.diagnose().rename(columns={"rep": rep_column})[["date", rep_column, "shape"]]
    wide = wide.merge(shapes, on=["date", rep_column], how="left")
    if rep is not None:
        wide = wide[wide[rep_column] == rep].reset_index(drop=True)
    return wide.assign(date=wide["date"].map(day_text))


def _snapshot_team(snap: Snapshot, out: TextIO) -> None:
    team = snap.team()
    shown = team.assign(date=team["date"].map(day_text))
    for name in snap.amount_columns:
        shown[name] = team[name].map(_money)
    shown = shown.rename(columns={"date": t("cli.snapshot.col.date")})
    print(t("cli.snapshot.team"), file=out)
    print(table_text(shown, index=False), file=out)


def _snapshot_shapes(snap: Snapshot, out: TextIO) -> None:
    """Each rep's (and the team's) shape at their latest date, and how often each shape."""
    by_rep = snap.diagnose()
    team = snap.diagnose(by="date").assign(rep=t("cli.snapshot.team_row"))
    both = pd.concat([by_rep, team[by_rep.columns]], ignore_index=True)
    stages = [c for c in by_rep.columns if c not in ("date", "rep", "shape", "reason")]
    latest = both.groupby("rep", sort=False).tail(1).set_index("rep")
    order = [*snap.reps, t("cli.snapshot.team_row")]
    latest = latest.loc[[r for r in order if r in latest.index]]
    counts = both.groupby(["rep", "shape"]).size().unstack("shape", fill_value=0)
    seen = [s for s in SHAPES if s in counts.columns]
    last = max(snap.dates)
    col = {k: t(f"cli.snapshot.col.{k}") for k in ("rep", "date", "shape")}
    table = pd.DataFrame({col["rep"]: latest.index})
    if (latest["date"] != last).any():  # a rep who left before the last date
        table[col["date"]] = latest["date"].map(day_text).to_numpy()
    for stage in stages:
        table[stage] = latest[stage].to_numpy()
    table[col["shape"]] = latest["shape"].map(_shape_word).to_numpy()
    for shape in seen:
        table[_shape_word(shape)] = counts.loc[latest.index, shape].to_numpy()
    print(
        t(
            "cli.snapshot.shapes",
            date=day_text(last),
            stages=" → ".join(stages),
            n=len(snap.dates),
        ),
        file=out,
    )
    print(table_text(table, index=False), file=out)


def _snapshot_amounts(snap: Snapshot, out: TextIO, rep: str | None) -> None:
    """Each amount by week: a row per week, a column per rep and the team's total."""
    weekly = snap.amounts_by("week")
    week = t("cli.snapshot.col.week")
    for name in snap.amount_columns:
        wide = weekly.pivot(index="week", columns="rep", values=name)
        wide = wide[[r for r in snap.reps if r in wide.columns]]
        if rep is not None:
            wide = wide[[rep]]
        else:
            wide[t("cli.snapshot.team_row")] = wide.sum(axis=1, min_count=1)
        shown = wide.apply(lambda c: c.map(_money)).reset_index()
        shown["week"] = shown["week"].map(day_text)
        shown.columns.name = None
        print(file=out)
        print(t("cli.snapshot.amounts", amount=name), file=out)
        print(table_text(shown.rename(columns={"week": week}), index=False), file=out)


def _snapshot_rep(snap: Snapshot, rep: str, out: TextIO) -> None:
    """One rep: stocks, amounts and shape on every date; the latest shape's reason."""
    rows = snapshot_frame(snap, rep)
    for name in snap.amount_columns:
        rows[name] = rows[name].map(_money)
    diagnosis = snap.diagnose()
    mine = diagnosis[diagnosis["rep"] == rep]
    counts = mine["shape"].value_counts()
    words = [t("cli.snapshot.count", shape=_shape_word(s), n=int(counts[s])) for s in SHAPES
             if s in counts.index]  # fmt: skip
    shown = rows.drop(columns=[rows.columns[1]]).assign(shape=rows["shape"].map(_shape_word))
    shown = shown.rename(columns={k: t(f"cli.snapshot.col.{k}") for k in ("date", "shape")})
    print(t("cli.snapshot.rep", rep=rep), file=out)
    print(table_text(shown, index=False), file=out)
    print(
        t("cli.snapshot.rep_shapes", n=len(mine), counts=t("cli.snapshot.sep").join(words)),
        file=out,
    )
    last = mine.iloc[-1]
    print(t("cli.snapshot.reason", date=day_text(last["date"]), reason=last["reason"]), file=out)


def snapshot_text(snap: Snapshot, out: TextIO, rep: str | None = None) -> None:
    """What ``funnelsim snapshot`` prints under its first line: the team totals per date
    and each rep's pipeline shape, or with ``rep`` that rep on every date; then the
    amounts by week.

    >>> import io
    >>> import funnelsim as fs
    >>> out = io.StringIO()
    >>> snapshot_text(fs.datasets.load_tracking(), out)
    >>> out.getvalue().splitlines()[0]
    'Team totals per date (leads sitting at each stage, and the amounts):'
    """
    if rep is None:
        _snapshot_team(snap, out)
        print(file=out)
        _snapshot_shapes(snap, out)
    else:
        _snapshot_rep(snap, rep, out)
    _snapshot_amounts(snap, out, rep)
