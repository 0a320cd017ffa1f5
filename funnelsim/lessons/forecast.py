"""The numbers behind notebook 07 (forecasts and targets), the report and ``funnelsim forecast``.

===========================  ================================================
:func:`calls_per_week`       the log's pace: first-stage leads per week
:func:`outlook`              plan and forecast together, for the CLI, report, app
:func:`pipeline_numbers`     a pipeline snapshot's numbers, for the pipeline app
===========================  ================================================

Every number the forecast app, the report and the command line show comes
from here (or from the public functions these call); they only format it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice
from ..forecasting import PERIOD_UNITS, forecast
from ..i18n import FunnelsimValueError, t
from ..planning import plan_calls

__all__ = [
    "Outlook",
    "PipelineNumbers",
    "calls_per_week",
    "outlook",
    "pipeline_numbers",
]


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
    >>> from funnelsim.lessons import calls_per_week
    >>> counts = pd.DataFrame({"period": ["w1", "w2"], "dials": [70, 80], "sales": [1, 0]})
    >>> calls_per_week(fs.read_log(counts, format="counts", stages=["dials", "sales"]))
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
    unit : {"week", "day", "month", "period"}
        What one period is, for the sentences ("calls a week"): ``"week"``
        when the calls are the log's weekly pace, else as given to
        :func:`outlook` (``"period"`` when nobody said).

    Examples
    --------
    The sample team's next 13 weeks, against 20 sales, 9 times in 10:

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import outlook
    >>> o = outlook(fs.fit(fs.datasets.load_counts()), target=20, probability=0.9,
    ...             reps=500, rng=1)
    >>> o.calls_from, o.calls, o.measure, o.target, o.unit
    ('plan', 216, 'sales', 20, 'period')
    """

    plan: Any
    forecast: Any
    calls: int
    calls_from: str
    target: float | None
    probability: float
    measure: str
    unit: str = "period"

    @property
    def band(self) -> tuple[float, float, float]:
        """P10, P50 and P90 of the total over the horizon (sales or revenue)."""
        total = self.forecast.measure(self.measure, cumulative=True)[:, -1]
        p10, p50, p90 = np.quantile(total, [0.1, 0.5, 0.9])
        return float(p10), float(p50), float(p90)

    @property
    def reach(self) -> float | None:
        """The chance of reaching the target by the end of the horizon (None without one)."""
        if self.target is None:
            return None
        return float(self.forecast.prob_reach(self.target, measure=self.measure).iloc[-1])

    def to_frame(self) -> pd.DataFrame:
        """The band cumulated to each period: ``period``, ``mean``, ``q10``, ``q50``, ``q90``
        and, with a target, ``prob_reach`` (the chance of having reached it by then).

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import outlook
        >>> o = outlook(fs.fit(fs.datasets.load_counts()), target=20, probability=0.9,
        ...             reps=500, rng=1)
        >>> print(o.to_frame().round(2).tail(3).to_string(index=False))
         period  mean  q10  q50  q90  prob_reach
             11 22.55 16.0 22.0 29.0        0.70
             12 24.67 17.0 24.0 32.0        0.82
             13 26.72 19.0 27.0 34.1        0.90
        """
        frame = self.forecast.percentiles(measure=self.measure, cumulative=True)
        if self.target is not None:
            reach = self.forecast.prob_reach(self.target, measure=self.measure)
            frame["prob_reach"] = reach.to_numpy()
        return frame

    def __repr__(self) -> str:
        p10, p50, p90 = self.band
        head = t(
            "repr.outlook.head",
            unit=t(f"plot.unit.{self.unit}"),
            units=t(f"plot.units.{self.unit}"),
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
        calls = int(self.plan.table["calls"].iloc[-1])
        return t(
            "repr.outlook.target",
            unit=t(f"plot.unit.{self.unit}"),
            head=head,
            target=self.target,
            reach=self.reach,
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
    unit: str | None = None,
    between: Any = "auto",
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
        As in :func:`funnelsim.report.build_report`.
    rng : Generator, int or None
        Seed of both the plan and the forecast.
    pace : float, optional
        The log's calls per period (:func:`calls_per_week`).
    unit : {"week", "day", "month", "period"}, optional
        What one period is, for the sentences. By default ``"week"`` when
        the calls come from ``pace`` (a weekly pace), else ``"period"``.
    between : "auto", Dispersion or None
        Whether the ratios move from period to period as in the history,
        for both the plan and the band (:func:`funnelsim.forecast`).

    Returns
    -------
    Outlook

    Examples
    --------
    The sample team's quarter: 40 sales in 13 weeks, 9 times in 10.

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import outlook
    >>> ratios = fs.fit(fs.datasets.load_events(), mature=60)
    >>> o = outlook(ratios, target=40, probability=0.9, reps=2000, rng=1)
    >>> o.calls_from, o.calls == int(o.plan.table["calls"].iloc[-1])
    ('plan', True)
    """
    plan = None
    if target is not None:
        plan = plan_calls(
            fit if groups is None else groups,
            target,
            probability,
            periods=periods,
            deal_size=deal_size,
            rng=rng,
            between=between,
        )
    if calls is not None:
        chosen, source = int(calls), "given"
    elif pace is not None:
        chosen, source = max(1, round(pace)), "pace"
    elif plan is not None:
        chosen, source = int(plan.table["calls"].iloc[-1]), "plan"
    else:
        raise FunnelsimValueError("report.error.no_calls")
    if unit is None:
        unit = "week" if source == "pace" else "period"
    unit = check_choice("unit", unit, PERIOD_UNITS)
    if plan is not None:
        plan = dataclasses.replace(plan, unit=unit)  # its repr says "calls a week"
    band = forecast(
        fit, chosen, periods, reps, cycle=cycle, deal_size=deal_size, rng=rng, between=between
    )
    measure = "revenue" if deal_size is not None else "sales"
    return Outlook(plan, band, chosen, source, target, probability, measure, unit)


@dataclass(frozen=True, repr=False, eq=False)
class PipelineNumbers:
    """What the pipeline app shows: the snapshot and its numbers, from :class:`Pipeline` methods.

    Attributes
    ----------
    pipeline : Pipeline
        The snapshot as read (:func:`funnelsim.read_pipeline`).
    quota : float
    weighted : float
        ``pipeline.weighted``: the decks' forecast, Σ amount × p.
    prob_quota : float
        ``pipeline.prob_reach(quota)``: the chance the deals that close reach it.
    prob_weighted : float
        ``pipeline.prob_reach(weighted)``: how often the weighted total is reached.
    percentiles : pandas.Series
        ``pipeline.percentiles()``: P10, P50, P90 of the amount that closes.
    deals : pandas.Series
        ``pipeline.count_pmf()``: the exact distribution of the number of deals.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import pipeline_numbers
    >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
    >>> n = pipeline_numbers(pipe, 300_000)
    >>> n.percentiles.tolist()
    [50000.0, 250000.0, 1250000.0]
    >>> n.deals.round(4).tolist()      # 0, 1, 2 or 3 deals close
    [0.0375, 0.3875, 0.4625, 0.1125]
    """

    pipeline: Any
    quota: float
    weighted: float
    prob_quota: float
    prob_weighted: float
    percentiles: Any
    deals: Any

    @property
    def total(self) -> float:
        """The amount of every open deal together (what closes if all of them do)."""
        return float(self.pipeline.amounts.sum())

    def to_frame(self):
        """The numbers as a tidy table: ``quantity`` and ``value``.

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import pipeline_numbers
        >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
        >>> pipeline_numbers(pipe, 300_000).to_frame()
                quantity       value
        0          deals        3.00
        1       weighted   395000.00
        2  prob_weighted        0.25
        3          quota   300000.00
        4     prob_quota        0.25
        5            q10    50000.00
        6            q50   250000.00
        7            q90  1250000.00
        """
        rows = {
            "deals": self.pipeline.n_deals,
            "weighted": self.weighted,
            "prob_weighted": self.prob_weighted,
            "quota": self.quota,
            "prob_quota": self.prob_quota,
            **{k: float(v) for k, v in self.percentiles.items()},
        }
        return pd.DataFrame({"quantity": list(rows), "value": list(rows.values())})

    def __repr__(self) -> str:
        p10, p50, p90 = (float(x) for x in self.percentiles)
        return t(
            "repr.pipeline_numbers",
            deals=self.pipeline.n_deals,
            weighted=self.weighted,
            p_weighted=self.prob_weighted,
            quota=self.quota,
            p_quota=self.prob_quota,
            p10=p10,
            p50=p50,
            p90=p90,
        )


def pipeline_numbers(
    pipeline, quota: float, *, rng: np.random.Generator | int | None = None
) -> PipelineNumbers:
    """The pipeline app's numbers (each one a :class:`~funnelsim.Pipeline` method).

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import pipeline_numbers
    >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
    >>> n = pipeline_numbers(pipe, 300_000)
    >>> n.weighted, round(n.prob_quota, 4), round(n.prob_weighted, 4)
    (395000.0, 0.25, 0.25)
    """
    pmf = pipeline.count_pmf()
    return PipelineNumbers(
        pipeline=pipeline,
        quota=float(quota),
        weighted=pipeline.weighted,
        prob_quota=pipeline.prob_reach(quota, rng=rng),
        prob_weighted=pipeline.prob_reach(pipeline.weighted, rng=rng),
        percentiles=pipeline.percentiles(rng=rng),
        deals=pmf,
    )
