"""The computation behind notebooks 04 and 06 (estimating from logs), as pure functions.

The analyses themselves live in :mod:`funnelsim.estimate` (ratios with
intervals), :mod:`funnelsim.intervals` (coverage, sample sizes) and
:mod:`funnelsim.cycle` (open leads, the sales cycle, stale leads). This
module holds only the glue the
notebooks and their apps need on top: the true ratios of the sample logs,
a log cut at an earlier date or to a cohort of leads, and the results the
apps in :mod:`funnelsim.widgets` draw. Nothing here touches matplotlib or
ipywidgets.

===========================  ================================================
:func:`true_ratios`          04: the ratios the sample logs were made from
:func:`cohort`               04: the leads that entered in a window of time
:func:`snapshot`             06: the log as it looked at an earlier date
:func:`estimating_ratios`    04: ratio table and real coverage, for the app
:func:`sample_size`          04: leads needed to pin a ratio down, for the app
:func:`cycle_curve`          06: the cycle curve with its band, for the plot
:func:`sales_cycle`          06: cycle, naive average and stale leads, for the app
===========================  ================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import by_columns, check_choice, check_open_probability, short, type_name
from ..cycle import CycleLength, cycle_length, stale_leads
from ..estimate import Fit, fit
from ..i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    method_label,
    t,
    unit_label,
)
from ..intervals import calls_for_precision, exact_coverage
from ..logs import Log, LogError
from ..survival import log_log_band

__all__ = [
    "COVERAGE_N",
    "EstimatingRatios",
    "SalesCycle",
    "SampleSize",
    "cohort",
    "cycle_curve",
    "estimating_ratios",
    "sales_cycle",
    "sample_size",
    "snapshot",
    "true_ratios",
]

#: Leads entering a step, for the coverage-by-n curve of the ratios app (5 to 1,000).
COVERAGE_N = tuple(int(n) for n in np.unique(np.geomspace(5, 1000, 120).round()))


# ------------------------------------------------------------- the truth
def true_ratios(spec: Mapping, *, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The expected stage ratios of a sample log, from its true parameters.

    The sample logs in ``data/`` mix lead sources and reps, each with its
    own ratios (``data/README.md``), so a pooled ratio has no single true
    value. Its target is the ratio of the *expected* counts: with
    ``E_k`` the expected number of leads reaching stage ``k`` (summed over
    every rep and source: the rep's leads from the source times the
    product of the source's ratios, each multiplied by the rep's factor),
    the true ratio into stage ``k`` is ``E_k / E_(k-1)``. That is what the
    pooled ratio of a large log converges to once every lead has had time
    to go through (no open leads). The product of the ratios is the overall
    rate ``E_last / E_first``.

    Parameters
    ----------
    spec : mapping
        One data set of :func:`funnelsim.datasets.load_truth` (``truth["events"]`` or
        ``truth["gbk"]``): ``stages``, ``sources``, ``ratios`` (per source
        and stage), ``referral_share`` (per rep: the share of the first
        source), ``rep_factors`` and ``leads_per_rep``.
    by : {None, "source", "rep"} or both
        Group the expectation like :func:`funnelsim.fit` groups the log.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``stage``, ``ratio``: one row per group and step,
        in the order of ``fit(log, by=...).to_frame()``.

    Examples
    --------
    >>> from funnelsim.lessons import true_ratios
    >>> spec = {"stages": ["dial", "connect"], "sources": ["referral", "cold list"],
    ...         "ratios": {"referral": {"connect": 0.6}, "cold list": {"connect": 0.35}},
    ...         "referral_share": {"ann": 0.8, "bob": 0.2}, "rep_factors": {},
    ...         "leads_per_rep": 100}
    >>> true_ratios(spec)
         stage  ratio
    0  connect  0.475
    >>> true_ratios(spec, by="rep")
       rep    stage  ratio
    0  ann  connect   0.55
    1  bob  connect   0.40
    """
    keys = list(by_columns(by))
    for key in keys:
        check_choice("by", key, ("rep", "source"))
    try:
        stages = list(spec["stages"])
        first, *others = list(spec["sources"])
        rows = []
        for rep, share in spec["referral_share"].items():
            factors = spec["rep_factors"].get(rep, {})
            for source, weight in ((first, share), *((s, 1 - share) for s in others[:1])):
                expected = float(spec["leads_per_rep"]) * float(weight)
                row = {"rep": rep, "source": source, stages[0]: expected}
                for stage in stages[1:]:
                    expected *= spec["ratios"][source][stage] * factors.get(stage, 1.0)
                    row[stage] = expected
                rows.append(row)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FunnelsimValueError("error.truth_spec", problem=short(repr(exc))) from None
    cells = pd.DataFrame(rows)
    sums = (
        cells.groupby(keys, sort=True)[stages].sum() if keys else cells[stages].sum().to_frame().T
    )
    parts = []
    for k, stage in enumerate(stages[1:], start=1):
        part = pd.DataFrame({"stage": stage, "ratio": sums[stage] / sums[stages[k - 1]]})
        parts.append(part.reset_index() if keys else part.reset_index(drop=True))
    out = pd.concat(parts, ignore_index=True)
    if keys:  # groups first, steps in funnel order inside each group (as fit does)
        out["_step"] = out["stage"].map({s: i for i, s in enumerate(stages)})
        out = out.sort_values([*keys, "_step"], kind="stable").reset_index(drop=True)
    return out[[*keys, "stage", "ratio"]]


# ------------------------------------------------------ cutting a log
def _first_times(log: Log, analysis: str) -> pd.Series:
    """When each lead reached the first stage (NaT where unknown); a LogError without times."""
    what = t(f"analysis.{analysis}")
    if not isinstance(log, Log):
        raise FunnelsimTypeError(
            "error.type_log", name="log", value=short(log), type=type_name(log)
        )
    if log.format == "counts" or log.reached is None:
        raise LogError("error.times_counts", name=log.name, analysis=what)
    if log.times is None or log.stages[0] not in log.times.columns:
        raise LogError("error.times_flags", name=log.name, analysis=what)
    first = log.times[log.stages[0]].reindex(log.reached.index)
    if not pd.api.types.is_datetime64_any_dtype(first):
        raise LogError("error.times_flags", name=log.name, analysis=what)
    return first


def _subset(log: Log, keep: np.ndarray, **changes: object) -> Log:
    fields = {
        "format": log.format,
        "stages": log.stages,
        "leads": None if log.leads is None else log.leads.loc[keep].copy(),
        "reached": log.reached.loc[keep].copy(),
        "times": log.times.loc[keep].copy(),
        "counts": None,
        "as_of": log.as_of,
        "name": log.name,
    }
    fields.update(changes)
    return Log(**fields)


def _stamp(name: str, value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT or pd.isna(stamp):
        raise FunnelsimValueError("error.not_a_date", name=name, value=short(value))
    return stamp


def cohort(log: Log, *, start: object = None, end: object = None) -> Log:
    """The leads that reached the first stage between ``start`` and ``end``.

    A *cohort* keeps whole leads: every stage they reached, up to the log's
    own ``as_of``. Leads that entered long before ``as_of`` have had time to
    go through the funnel, so their ratios are not biased by open leads
    (see :func:`funnelsim.open_lead_ratios`).

    Parameters
    ----------
    log : Log
        A lead-level log with times (events, or leads with dates).
    start, end : date-like, optional
        Keep leads whose first-stage time is ``>= start`` and ``< end``.

    Returns
    -------
    Log
        The same kind of log, with fewer leads.

    Raises
    ------
    LogError
        A counts log, or a log without times.
    ValueError
        A date that cannot be read, or no lead in the window.

    Examples
    --------
    The sample team's leads dialled in the first quarter, three months
    before the log was taken:

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import cohort
    >>> cohort(fs.datasets.load_events(), end="2025-04-01").stage_table()
          stage  entered  passed
    0   connect     2956    1442
    1   meeting     1442     334
    2  proposal      334     148
    3      sale      148      42
    """
    first = _first_times(log, "cohort")
    lo, hi = _stamp("start", start), _stamp("end", end)
    keep = first.notna().to_numpy().copy()
    if lo is not None:
        keep &= (first >= lo).to_numpy()
    if hi is not None:
        keep &= (first < hi).to_numpy()
    if not keep.any():
        raise FunnelsimValueError("error.cohort_empty", name=log.name, start=lo, end=hi)
    return _subset(log, keep)


def snapshot(log: Log, as_of: object) -> Log:
    """The log as it looked at an earlier date.

    Leads that had not reached the first stage by ``as_of`` are left out;
    the stages the others reached later are removed (still open then), and
    so are their amounts when the last stage came later. Use it to see what
    a new team, or an analyst looking early, would have concluded.

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    as_of : date-like
        The earlier snapshot; not after the log's own ``as_of``.

    Returns
    -------
    Log
        A log with ``as_of`` set to the snapshot.

    Raises
    ------
    LogError
        A counts log, or a log without times.
    ValueError
        A date that cannot be read, one after the log's ``as_of``, or one
        before its first lead.

    Examples
    --------
    The sample team six weeks after it started:

    >>> import funnelsim as fs
    >>> from funnelsim.lessons import snapshot
    >>> early = snapshot(fs.datasets.load_events(), "2025-02-14 18:00")
    >>> early.as_of, len(early.leads)
    (Timestamp('2025-02-14 18:00:00'), 1428)
    >>> early.stage_table()
          stage  entered  passed
    0   connect     1428     643
    1   meeting      643     128
    2  proposal      128      46
    3      sale       46       7
    """
    first = _first_times(log, "snapshot")
    when = _stamp("as_of", as_of)
    if when is None:
        raise FunnelsimValueError("error.not_a_date", name="as_of", value="None")
    if log.as_of is not None and when > log.as_of:
        raise FunnelsimValueError(
            "error.snapshot_after", value=when, as_of=log.as_of, name=log.name
        )
    keep = (first.notna() & (first <= when)).to_numpy()
    if not keep.any():
        raise FunnelsimValueError(
            "error.snapshot_before", value=when, first=first.min(), name=log.name
        )
    times = log.times.loc[keep].copy()
    times = times.where(times <= when)
    reached = log.reached.loc[keep].copy()
    for stage in log.stages:
        if stage in times.columns:
            reached[stage] = reached[stage] & times[stage].notna()
    leads = None if log.leads is None else log.leads.loc[keep].copy()
    if leads is not None and "amount" in leads.columns:
        leads["amount"] = leads["amount"].where(reached[log.stages[-1]])
    return _subset(log, keep, leads=leads, reached=reached, times=times, as_of=when)


# -------------------------------------------------------- 04: the ratios app
@dataclass(frozen=True, repr=False, eq=False)
class EstimatingRatios:
    """A fit with the chosen method and level, and that method's real coverage by n.

    Attributes
    ----------
    fit : Fit
        The ratio table (:func:`funnelsim.fit`).
    truth : pandas.DataFrame or None
        The true ratios, when known (``stage``, ``ratio``).
    coverage : pandas.DataFrame
        :func:`funnelsim.exact_coverage` of the method (and of Wald, to
        compare) at ``p`` for ``n`` in :data:`COVERAGE_N`.
    stage : str
        The step whose fitted ratio is ``p``.
    p : float
        The true ratio the coverage is computed at.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import estimating_ratios
    >>> res = estimating_ratios(fs.datasets.load_counts(), n=[10, 20, 40])
    >>> res.stage, round(res.p, 3), res.method
    ('sales', 0.147, 'wilson')
    >>> res.coverage[["method", "n", "coverage"]].round(3)
       method   n  coverage
    0  wilson  10     0.954
    1  wilson  20     0.980
    2  wilson  40     0.960
    3    wald  10     0.786
    4    wald  20     0.809
    5    wald  40     0.936
    """

    fit: Fit
    truth: pd.DataFrame | None
    coverage: pd.DataFrame
    stage: str
    p: float

    @property
    def method(self) -> str:
        return self.fit.method

    @property
    def confidence_level(self) -> float:
        return self.fit.confidence_level

    @property
    def widths(self) -> pd.Series:
        """Width of each step's interval (``high - low``), indexed by stage."""
        table = self.fit.table
        return pd.Series((table["high"] - table["low"]).to_numpy(), index=table["stage"])

    @property
    def widest(self) -> pd.Series:
        """The ratio table's row of the step with the widest interval, named by its stage
        (``entered``, ``passed``, ``ratio``, ``low``, ``high``...): the first on a tie."""
        return self.fit.table.set_index("stage").loc[self.widths.idxmax()]

    def worst(self, method: str | None = None, *, max_n: int = 50) -> float:
        """The lowest coverage of ``method`` (default: the fit's) for ``n <= max_n``.

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import estimating_ratios
        >>> res = estimating_ratios(fs.datasets.load_counts(), n=[10, 20, 40])
        >>> round(res.worst(), 3), round(res.worst("wald"), 3)   # a "95 %" Wald interval
        (0.954, 0.786)
        """
        method = self.method if method is None else method
        rows = self.coverage[(self.coverage["method"] == method) & (self.coverage["n"] <= max_n)]
        return float(rows["coverage"].min())

    def to_frame(self) -> pd.DataFrame:
        """The ratio table, with a ``truth`` column when the truth is known.

        The sample log's leads still open count as lost, so the later ratios
        fall short of the truth (notebook 06):

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import estimating_ratios, true_ratios
        >>> truth = true_ratios(fs.datasets.load_truth()["events"])
        >>> res = estimating_ratios(fs.datasets.load_events(), truth=truth, n=[10, 20])
        >>> res.to_frame()[["stage", "ratio", "low", "high", "truth"]].round(3)
              stage  ratio    low   high  truth
        0   connect  0.472  0.459  0.484  0.477
        1   meeting  0.225  0.210  0.240  0.235
        2  proposal  0.436  0.398  0.474  0.482
        3      sale  0.289  0.239  0.345  0.348
        """
        table = self.fit.to_frame()
        if self.truth is not None:
            table = table.merge(
                self.truth.rename(columns={"ratio": "truth"}), on="stage", how="left"
            )
        return table

    def __repr__(self) -> str:
        return t(
            "repr.estimating_ratios",
            method=method_label(self.method),
            level=100 * self.confidence_level,
            stage=self.stage,
            p=self.p,
            worst=self.worst(),
            wald=self.worst("wald"),
            fit=repr(self.fit),
        )


def estimating_ratios(
    log: Log,
    *,
    method: str = "wilson",
    confidence_level: float = 0.95,
    stage: str | None = None,
    truth: pd.DataFrame | Mapping[str, float] | None = None,
    n: Sequence[int] = COVERAGE_N,
) -> EstimatingRatios:
    """The ratio table of a log, and the real coverage of its interval method by n.

    Parameters
    ----------
    log : Log
        Any log :func:`funnelsim.fit` reads.
    method : str, default "wilson"
        Interval method (:data:`funnelsim.intervals.METHODS`).
    confidence_level : float, default 0.95
    stage : str, optional
        The step whose fitted ratio is the true ratio of the coverage curve
        (default: the last step, usually the rarest outcome).
    truth : DataFrame or mapping, optional
        True ratios (``stage``, ``ratio``; or ``{stage: ratio}``), kept for
        the plot.
    n : sequence of int
        Leads entering the step, for the coverage curve.

    Returns
    -------
    EstimatingRatios

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import estimating_ratios
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
    >>> res = estimating_ratios(log, method="wald", n=[10, 20, 40])
    >>> round(res.p, 3)                   # 10 meetings from 70 connects
    0.143
    >>> res.coverage[["method", "n", "coverage"]].round(3)
      method   n  coverage
    0   wald  10     0.778
    1   wald  20     0.950
    2   wald  40     0.930
    """
    result = fit(log, confidence_level=confidence_level, method=method)
    steps = list(result.table["stage"])
    chosen = steps[-1] if stage is None else check_choice("stage", stage, steps)
    p = float(result.table.loc[result.table["stage"] == chosen, "ratio"].iloc[0])
    if not 0.0 < p < 1.0:
        raise FunnelsimValueError("error.coverage_ratio", stage=chosen, ratio=p)
    methods = [result.method] + (["wald"] if result.method != "wald" else [])
    table = exact_coverage(methods, n=list(n), p=p, confidence_level=result.confidence_level)
    if truth is not None and not isinstance(truth, pd.DataFrame):
        truth = pd.DataFrame({"stage": list(truth), "ratio": [float(v) for v in truth.values()]})
    return EstimatingRatios(fit=result, truth=truth, coverage=table, stage=chosen, p=p)


@dataclass(frozen=True, repr=False, eq=False)
class SampleSize:
    """Leads needed to pin a ratio down to ``± half_width``, and the curve around it.

    Attributes
    ----------
    ratio, half_width, confidence_level : float
        The question.
    wilson, wald : int
        :func:`funnelsim.calls_for_precision` with each method.
    curve : pandas.DataFrame
        ``method``, ``half_width``, ``leads``: the same for margins from a
        third to three times ``half_width``.

    Examples
    --------
    >>> from funnelsim.lessons import sample_size
    >>> res = sample_size(0.1, 0.03)     # a 10 % ratio, to within 3 points
    >>> res.wilson, res.wald
    (388, 385)
    """

    ratio: float
    half_width: float
    confidence_level: float
    wilson: int
    wald: int
    curve: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The curve (a copy).

        >>> from funnelsim.lessons import sample_size
        >>> sample_size(0.1, 0.03, points=3).to_frame().round(3)
           method  half_width  leads
        0  wilson        0.01   3461
        1  wilson        0.03    388
        2  wilson        0.09     45
        3    wald        0.01   3458
        4    wald        0.03    385
        5    wald        0.09     43
        """
        return self.curve.copy()

    def __repr__(self) -> str:
        return t(
            "repr.sample_size",
            ratio=self.ratio,
            half=self.half_width,
            level=100 * self.confidence_level,
            wilson=self.wilson,
            wald=self.wald,
        )


def sample_size(
    ratio: float, half_width: float, *, confidence_level: float = 0.95, points: int = 40
) -> SampleSize:
    """Leads needed to pin a ratio down to ``± half_width``, with Wilson and Wald.

    Parameters
    ----------
    ratio : float
        The ratio you expect, strictly between 0 and 1.
    half_width : float
        The margin wanted (0.05 for ± 5 points).
    confidence_level : float, default 0.95
    points : int, default 40
        Margins on the curve.

    Returns
    -------
    SampleSize

    Examples
    --------
    >>> from funnelsim.lessons import sample_size
    >>> res = sample_size(0.1, 0.03)
    >>> res.wilson, res.wald
    (388, 385)
    """
    wilson = calls_for_precision(ratio, half_width, confidence_level=confidence_level)
    wald = calls_for_precision(ratio, half_width, confidence_level=confidence_level, method="wald")
    grid = np.geomspace(half_width / 3, min(3 * half_width, 0.49), int(points))
    rows = [
        {
            "method": method,
            "half_width": float(h),
            "leads": calls_for_precision(
                ratio, float(h), confidence_level=confidence_level, method=method
            ),
        }
        for method in ("wilson", "wald")
        for h in grid
    ]
    return SampleSize(
        ratio=float(ratio),
        half_width=float(half_width),
        confidence_level=float(confidence_level),
        wilson=wilson,
        wald=wald,
        curve=pd.DataFrame(rows),
    )


# -------------------------------------------------------- 06: the cycle
def cycle_curve(cycle: CycleLength, *, given_event: bool = True) -> pd.DataFrame:
    """The cycle as a rising curve, with its pointwise band, ready to plot.

    ``given_event=True``: the share of the deals that close which have
    closed by each time, ``(1 - S(t)) / (1 - S(t_last))`` (see
    :mod:`funnelsim.survival`), with the band from the delta-method
    standard error that its quantile intervals use, on the log(-log) scale:
    where the band crosses one half is the interval of
    :attr:`~funnelsim.cycle.CycleLength.median`. ``given_event=False``:
    the share of *all* leads closed by each time, ``1 - S(t)``, and the
    band of the Kaplan-Meier curve turned over.

    Parameters
    ----------
    cycle : CycleLength
        From :func:`funnelsim.cycle_length`.
    given_event : bool, default True

    Returns
    -------
    pandas.DataFrame
        ``time`` (0, then each event time), ``closed``, ``low``, ``high``:
        a step function, constant from one row to the next.

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.cycle import cycle_length
    >>> from funnelsim.lessons import cycle_curve
    >>> curve = cycle_curve(cycle_length(fs.datasets.load_events()))
    >>> len(curve), float(curve["closed"].iloc[-1])  # 0, then the 80 closing times
    (81, 1.0)
    >>> curve.head(3).round(3)
         time  closed    low   high
    0   0.000   0.000  0.000  0.000
    1  12.847   0.011  0.002  0.076
    2  12.979   0.022  0.006  0.086
    >>> round(float(curve.loc[curve["closed"] >= 0.5, "time"].iloc[0]), 2)  # the median
    28.55
    """
    if not isinstance(cycle, CycleLength):
        raise FunnelsimTypeError(
            "error.plot_result",
            function="cycle_curve",
            argument="cycle",
            wanted="CycleLength",
            maker="fs.cycle_length",
            value=type_name(cycle),
        )
    km = cycle.survival
    if given_event:
        curve, se = km.given_event()
    else:
        curve, se = np.asarray(km.survival, float), np.asarray(km.se, float)
    low, high = log_log_band(curve, se, km.confidence_level)  # band of the curve still open ...
    done = curve <= 0
    low[done], high[done] = 0.0, 0.0
    return pd.DataFrame(
        {
            "time": np.concatenate(([0.0], km.time)),
            "closed": np.concatenate(([0.0], 1.0 - curve)),
            "low": np.concatenate(([0.0], 1.0 - high)),  # ... turned over: share closed
            "high": np.concatenate(([0.0], 1.0 - low)),
        }
    )


@dataclass(frozen=True, repr=False, eq=False)
class SalesCycle:
    """The cycle over open and closed leads, the decks' average, and the stale leads.

    Attributes
    ----------
    cycle : CycleLength
        :func:`funnelsim.cycle_length` with ``last=(last,)``.
    stale : pandas.DataFrame
        :func:`funnelsim.stale_leads` at ``quantile``.
    last : int
        The decks' "last N closed deals".
    quantile : float
        Share of the deals that close which have closed by the stale threshold.
    log : Log
        The log analysed (cut at ``as_of`` when one was given).

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import sales_cycle
    >>> res = sales_cycle(fs.datasets.load_events())
    >>> res.last, res.quantile, round(res.threshold, 2)
    (10, 0.9, 55.56)
    >>> res.n_stale, res.n_open       # open leads older than 90 % of the closing deals' cycles
    (4043, 5920)
    """

    cycle: CycleLength
    stale: pd.DataFrame
    last: int
    quantile: float
    log: Log

    @property
    def naive_mean(self) -> float:
        """The decks' number: mean cycle of the last ``last`` closed deals."""
        naive = self.cycle.naive
        return float(naive.loc[naive["method"] == f"last {self.last} closed", "mean"].iloc[0])

    @property
    def threshold(self) -> float:
        """Age after which an open lead is stale: the quantile of the cycle of closing deals."""
        return float(self.cycle.survival.quantile(self.quantile, given_event=True))

    @property
    def n_stale(self) -> int:
        return int(self.stale["stale"].sum())

    @property
    def n_open(self) -> int:
        return len(self.stale)

    @property
    def n_demoted_by_decks(self) -> int:
        """Open leads the decks' rule would demote: older than :attr:`naive_mean`."""
        return int((self.stale["age"] > self.naive_mean).sum())

    def curve(self, *, given_event: bool = True) -> pd.DataFrame:
        """:func:`cycle_curve` of :attr:`cycle`.

        >>> import funnelsim as fs
        >>> from funnelsim.lessons import sales_cycle
        >>> sales_cycle(fs.datasets.load_events()).curve().head(3).round(3)
             time  closed    low   high
        0   0.000   0.000  0.000  0.000
        1  12.847   0.011  0.002  0.076
        2  12.979   0.022  0.006  0.086
        """
        return cycle_curve(self.cycle, given_event=given_event)

    def __repr__(self) -> str:
        u = unit_label(self.cycle.unit)
        return t(
            "repr.sales_cycle",
            as_of=self.cycle.as_of,
            median=self.cycle.median,
            unit=u,
            last=self.last,
            mean=self.naive_mean,
            stale=self.n_stale,
            open=self.n_open,
            threshold=self.threshold,
        )


def sales_cycle(
    log: Log,
    *,
    last: int = 10,
    quantile: float = 0.9,
    as_of: object = None,
    confidence_level: float = 0.95,
) -> SalesCycle:
    """The sales cycle beside the decks' average, and the stale open leads.

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    last : int, default 10
        The decks' "average of the last N closed deals".
    quantile : float, default 0.9
        Stale after this share of the deals that close have closed
        (:func:`funnelsim.stale_leads`).
    as_of : date-like, optional
        Look at the log as it was then (:func:`snapshot`).
    confidence_level : float, default 0.95

    Returns
    -------
    SalesCycle

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import sales_cycle
    >>> res = sales_cycle(fs.datasets.load_events())
    >>> res
    SalesCycle(as of 2025-06-30 18:00:00: median 28.55 days, last 10 closed average
               36.39 days; 4043 of 5920 open leads older than 55.56 days)
    >>> round(res.naive_mean, 2), round(res.threshold, 2), res.n_stale, res.n_open
    (36.39, 55.56, 4043, 5920)
    """
    q = check_open_probability("quantile", quantile)
    if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
        raise FunnelsimValueError("error.at_least", name="last", minimum=1, value=last)
    if as_of is not None:
        log = snapshot(log, as_of)
    cyc = cycle_length(log, last=int(last), confidence_level=confidence_level)
    stale = stale_leads(log, quantile=q)
    return SalesCycle(cycle=cyc, stale=stale, last=int(last), quantile=q, log=log)


# ------------------------------------------------------ 05: the reps app
