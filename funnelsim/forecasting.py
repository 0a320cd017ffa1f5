"""Forecasts and call plans from fitted funnels, with the ratios' own uncertainty.

A ratio measured from a log is not known exactly: 3 meetings out of 40
connects is consistent with anything from about 3 % to 20 %. A forecast that
plugs in the point estimate treats the ratio as known and gives a band that is
too narrow. :func:`forecast` lets every replicate draw its own plausible
ratios from the fit (:meth:`funnelsim.Fit.sample_ratios`, the Beta posteriors
of the stage ratios) and then simulates calls through them with the same
binomial machinery as :func:`funnelsim.simulate`. Sales in a replicate are
then a *mixed* binomial: ``Binomial(n, p)`` with ``p`` itself random, so by
the law of total variance

    Var[S] = E[n p (1 - p)] + Var[n p],

the second term being the part a point-estimate forecast leaves out. It does
not shrink as calls grow: more calls make the *share* steadier, not the
ratio better known.

:func:`plan_calls` answers the planning question ("how many calls per period
for this target, with this probability?") three ways, side by side: with the
ratios' uncertainty, on the point estimates (:func:`funnelsim.calls_for_target`),
and as the decks back-calculate it (target / average deal / ratios), with the
probability that each plan really delivers.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal, stats

from ._validate import (
    check_calls,
    check_choice,
    check_count,
    check_nonnegative,
    check_open_probability,
    check_rng,
    short,
    to_float,
    type_name,
)
from .distributions import Cycle, DealSize
from .estimate import Fit, fit
from .funnel import Funnel
from .i18n import FunnelsimTypeError, FunnelsimValueError, t
from .intervals import interval
from .logs import Log
from .simulation import CHUNK_REPS, close_deals, close_warm_start, draw_revenue, split_streams
from .theory import back_calculate, calls_for_expected, calls_for_target

__all__ = ["Forecast", "Plan", "forecast", "plan_calls"]

_MEASURES = ("revenue", "sales")
TEAM = "team"  # the plan's row for the whole team (a fit), the same in every language
ALL = "all"  # the plan's only row for a funnel
PERIOD_UNITS = ("week", "day", "month", "period")  # what one period is, for people
_PLAN_DRAWS = 4000
_NODES = 256  # quantile nodes of the ratio draws when a plan mixes binomials
_MAX_CALLS = 2**40
_CELLS = 16_384  # grid cells across the widest step's log ratio (product_nodes)
_TAIL = 1e-12  # each step's grid spans its Beta quantiles from _TAIL to 1 - _TAIL
_BLOCK = 4_000_000  # probabilities per block when mixing binomials over many draws


# ------------------------------------------------------------------ inputs
def _source(fit_or_funnel: object, function: str) -> Fit | Funnel:
    if isinstance(fit_or_funnel, Fit | Funnel):
        return fit_or_funnel
    kind = type_name(fit_or_funnel)
    if isinstance(fit_or_funnel, Log):
        raise FunnelsimTypeError("error.forecast_log", function=function, name="fit", type=kind)
    raise FunnelsimTypeError(
        "error.forecast_input", function=function, name="fit", value=kind, type=kind
    )


def _group_label(key: Any) -> str:
    return ", ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _point_funnels(src: Fit | Funnel) -> dict[Any, Funnel]:
    """Point-estimate funnel per group (one entry, key None, when ungrouped)."""
    if isinstance(src, Funnel):
        return {None: src}
    return src.funnels_by_group()


def _group_calls(calls: object, keys: list[Any], periods: int, reps: int) -> dict[Any, np.ndarray]:
    if isinstance(calls, Mapping) and keys != [None]:
        unknown = [k for k in calls if k not in keys]
        missing = [k for k in keys if k not in calls]
        if unknown or missing:
            raise FunnelsimValueError(
                "error.forecast_calls_groups",
                unknown=", ".join(map(_group_label, unknown)) or "-",
                missing=", ".join(map(_group_label, missing)) or "-",
                choices=", ".join(map(_group_label, keys)),
            )
        return {k: check_calls(calls[k], periods, reps) for k in keys}
    if isinstance(calls, Mapping):
        raise FunnelsimValueError("error.forecast_calls_mapping")
    arr = check_calls(calls, periods, reps)
    return dict.fromkeys(keys, arr)


# -------------------------------------------------------------- simulation
def _simulate_rows(
    ratios: np.ndarray,
    calls: np.ndarray,
    cycle: Cycle,
    deal_size: DealSize | None,
    start: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Sales and revenue, shape (reps, periods), with one set of ratios per replicate.

    ``ratios`` has shape (reps, steps). The draws follow
    :func:`funnelsim.simulate` exactly (same chunks of replicates, same
    streams, same order of draws), only with a ratio per row: with equal
    rows the result is ``simulate``'s to the last deal.
    """
    reps, periods = calls.shape
    sales = np.zeros((reps, periods), dtype=np.int64)
    revenue = np.empty((reps, periods))
    firsts = range(0, reps, CHUNK_REPS)
    streams = split_streams(rng, len(firsts))
    pmf = cycle.pmf()

    def run(i: int) -> None:
        rows = slice(firsts[i], firsts[i] + CHUNK_REPS)
        _chunk(ratios[rows], calls[rows], pmf, deal_size, start, streams[i], sales[rows])
        revenue[rows] = draw_revenue(sales[rows], deal_size, streams[i])

    if len(firsts) == 1:
        run(0)
    else:  # numpy's samplers release the GIL
        with ThreadPoolExecutor(max_workers=min(len(firsts), os.cpu_count() or 1)) as pool:
            list(pool.map(run, range(len(firsts))))
    return sales, revenue


def _chunk(ratios, calls, pmf, deal_size, start, rng, sales) -> None:
    # Rows that all share one set of ratios (a point forecast) take numpy's
    # scalar-probability paths: faster, and the same draws as per-row arrays.
    same = bool((ratios == ratios[:1]).all())
    won = calls
    for k in range(ratios.shape[1]):
        won = rng.binomial(won, ratios[0, k] if same else ratios[:, k : k + 1])
    close_deals(sales, won, pmf, rng)
    if start == "steady":
        # As in simulate(), with each replicate's own overall rate.
        p = ratios[0].prod() if same else ratios.prod(axis=1)
        close_warm_start(sales, calls[:, 0], p, pmf, rng)


# ------------------------------------------------------------------ result
@dataclass(frozen=True, repr=False, eq=False)
class Forecast:
    """Result of :func:`forecast`.

    Attributes
    ----------
    sales : ndarray, shape (reps, periods)
        Deals closed in each period of each replicate (the team's total with
        a fit by group).
    revenue : ndarray, shape (reps, periods)
        Amount closed (deals when ``deal_size`` is None).
    calls : dict
        Calls of each group, arrays of shape (reps, periods) (key None
        without groups).
    funnels : dict
        Point-estimate funnel of each group (key None without groups).
    ratios : dict or None
        With uncertainty: the ratios each replicate drew, shape (reps, steps),
        per group; None for a point forecast.
    cycle, deal_size, start
        The settings the forecast ran with.
    uncertainty : bool
        Whether the replicates drew their own ratios.
    point : Forecast or None
        The same forecast on the point estimates only, from the same random
        streams (None when this forecast is already a point forecast).

    Examples
    --------
    The next four weeks of the sample team, 450 dials a week, 5,000 a deal:

    >>> import funnelsim as fs
    >>> ratios = fs.fit(fs.datasets.load_counts())
    >>> fc = fs.forecast(ratios, calls=450, periods=4, reps=1000, deal_size=5_000, rng=1)
    >>> fc.reps, fc.periods, fc.uncertainty, fc.sales.shape
    (1000, 4, True, (1000, 4))
    >>> fc.point.uncertainty        # the same forecast on the point estimates
    False
    """

    sales: np.ndarray
    revenue: np.ndarray
    calls: dict
    funnels: dict
    ratios: dict | None
    cycle: Cycle
    deal_size: DealSize | None
    start: str
    uncertainty: bool
    point: Forecast | None = None

    @property
    def reps(self) -> int:
        """Number of replicates."""
        return self.sales.shape[0]

    @property
    def periods(self) -> int:
        """Number of periods."""
        return self.sales.shape[1]

    def _numbers(self) -> np.ndarray:
        """The periods as people count them: 1, 2, ... (the charts and reports do too)."""
        return np.arange(1, self.periods + 1)

    @property
    def groups(self) -> list[Any]:
        """Group keys (empty without groups)."""
        return [] if list(self.funnels) == [None] else list(self.funnels)

    def measure(self, measure: str = "revenue", *, cumulative: bool = False) -> np.ndarray:
        """The (reps, periods) array of ``"revenue"`` or ``"sales"``, per period or cumulated.

        >>> import funnelsim as fs
        >>> ratios = fs.fit(fs.datasets.load_counts())
        >>> fc = fs.forecast(ratios, calls=450, periods=4, reps=1000, deal_size=5_000, rng=1)
        >>> fc.measure("sales", cumulative=True)[:2]     # the first two replicates
        array([[ 5., 14., 19., 20.],
               [ 7., 11., 16., 22.]])
        """
        measure = check_choice("measure", measure, _MEASURES)
        values = self.revenue if measure == "revenue" else self.sales.astype(float)
        return np.cumsum(values, axis=1) if cumulative else values

    def percentiles(
        self,
        q: Sequence[float] = (0.1, 0.5, 0.9),
        *,
        measure: str = "revenue",
        cumulative: bool = False,
    ) -> pd.DataFrame:
        """Mean and percentiles across replicates, per period (or cumulated to each period).

        Columns ``period`` (counted from 1, as on the charts), ``mean`` and one column per level
        (``q10``, ``q50``, ``q90``). P10 is the value that 9 replicates in 10
        reach or beat.

        >>> import funnelsim as fs
        >>> ratios = fs.fit(fs.datasets.load_counts())
        >>> fc = fs.forecast(ratios, calls=450, periods=4, reps=1000, deal_size=5_000, rng=1)
        >>> print(fc.percentiles(measure="sales", cumulative=True).round(1).to_string(index=False))
         period  mean  q10  q50  q90
              1   4.3  2.0  4.0  7.0
              2   8.7  5.0  9.0 13.0
              3  13.0  8.0 13.0 18.0
              4  17.3 12.0 17.0 23.0
        """
        qs = check_quantiles(q)
        values = self.measure(measure, cumulative=cumulative)
        frame = pd.DataFrame({"period": self._numbers(), "mean": values.mean(axis=0)})
        for level, row in zip(qs, np.quantile(values, qs, axis=0), strict=True):
            frame[quantile_name(level)] = row
        return frame

    def prob_reach(
        self, target: float, *, measure: str = "revenue", cumulative: bool = True
    ) -> pd.Series:
        """Share of replicates at or above ``target``, per period (cumulative by default).

        The last entry of the cumulative series is the chance of making the
        target over the whole horizon.

        >>> import funnelsim as fs
        >>> ratios = fs.fit(fs.datasets.load_counts())
        >>> fc = fs.forecast(ratios, calls=450, periods=4, reps=1000, deal_size=5_000, rng=1)
        >>> fc.prob_reach(20, measure="sales").round(3).tolist()   # 20 deals by week 1..4
        [0.0, 0.002, 0.051, 0.305]
        >>> float(fc.prob_reach(100_000).iloc[-1])                # 100,000 in four weeks
        0.305
        """
        target = check_nonnegative("target", target)
        values = self.measure(measure, cumulative=cumulative)
        return pd.Series(
            (values >= target * (1 - 1e-12)).mean(axis=0),
            index=pd.Index(self._numbers(), name="period"),
            name="prob_reach",
        )

    def compare_bands(
        self,
        q: tuple[float, float] = (0.1, 0.9),
        *,
        measure: str = "revenue",
        cumulative: bool = True,
    ) -> pd.DataFrame:
        """Width of the band with and without the ratios' uncertainty, per period.

        Columns: ``period`` (from 1); ``low``, ``high``, ``width`` (this forecast);
        ``point_low``, ``point_high``, ``point_width`` (point estimates only);
        ``width_ratio`` (``width / point_width``); ``point_coverage``: the share of
        this forecast's replicates inside the point band, that is how often
        the point band, which claims ``q[1] - q[0]``, would really hold.

        >>> import funnelsim as fs
        >>> ratios = fs.fit(fs.datasets.load_counts())
        >>> fc = fs.forecast(ratios, calls=450, periods=4, reps=1000, deal_size=5_000, rng=1)
        >>> bands = fc.compare_bands(measure="sales")
        >>> columns = ["period", "width", "point_width", "point_coverage"]
        >>> print(bands[columns].round(2).to_string(index=False))
         period  width  point_width  point_coverage
              1    5.0          5.0            0.86
              2    8.0          7.0            0.80
              3   10.0          9.0            0.80
              4   11.0         11.0            0.82
        """
        if self.point is None:
            raise FunnelsimValueError("error.forecast_no_point")
        lo, hi = check_quantiles(q)[[0, -1]]
        if not lo < hi:
            raise FunnelsimValueError("error.forecast_band", value=repr(q))
        mixed = self.measure(measure, cumulative=cumulative)
        point = self.point.measure(measure, cumulative=cumulative)
        low, high = np.quantile(mixed, [lo, hi], axis=0)
        p_low, p_high = np.quantile(point, [lo, hi], axis=0)
        inside = ((mixed >= p_low) & (mixed <= p_high)).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (high - low) / (p_high - p_low)
        return pd.DataFrame(
            {
                "period": self._numbers(),
                "low": low,
                "high": high,
                "width": high - low,
                "point_low": p_low,
                "point_high": p_high,
                "point_width": p_high - p_low,
                "width_ratio": ratio,
                "point_coverage": inside,
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: ``replicate``, ``period``, ``measure`` (sales, revenue), ``value``.

        >>> import funnelsim as fs
        >>> ratios = fs.fit(fs.datasets.load_counts())
        >>> fc = fs.forecast(ratios, calls=450, periods=4, reps=1000, deal_size=5_000, rng=1)
        >>> fc.to_frame().head(3)       # periods counted from 1, as on the charts
           replicate  period measure  value
        0          0       1   sales    5.0
        1          0       2   sales    9.0
        2          0       3   sales    5.0
        """
        rep, period = np.meshgrid(np.arange(self.reps), self._numbers(), indexing="ij")
        parts = [
            pd.DataFrame(
                {
                    "replicate": rep.ravel(),
                    "period": period.ravel(),
                    "measure": name,
                    "value": self.measure(name).ravel(),
                }
            )
            for name in ("sales", "revenue")
        ]
        frame = pd.concat(parts, ignore_index=True)
        frame["measure"] = pd.Categorical(frame["measure"], ["sales", "revenue"])
        return frame

    def __repr__(self) -> str:
        kind = t("repr.forecast.uncertainty" if self.uncertainty else "repr.forecast.point")
        groups = t("repr.forecast.groups", n=len(self.groups)) if self.groups else ""
        total = self.revenue.sum(axis=1)
        p10, p50, p90 = np.quantile(total, [0.1, 0.5, 0.9])
        what = t("repr.what.revenue" if self.deal_size is not None else "repr.what.sales")
        return t(
            "repr.forecast",
            reps=self.reps,
            periods=self.periods,
            kind=kind,
            groups=groups,
            what=what,
            p10=p10,
            p50=p50,
            p90=p90,
        )


def check_quantiles(q: object) -> np.ndarray:
    values = np.atleast_1d(np.asarray(q, dtype=object))
    out = []
    for i, v in enumerate(values):
        x = to_float(f"q[{i}]", v)
        if not 0.0 <= x <= 1.0:
            raise FunnelsimValueError("error.quantile_level", value=v)
        out.append(x)
    if not out:
        raise FunnelsimValueError("error.quantile_level", value="[]")
    return np.asarray(out)


def quantile_name(level: float) -> str:
    pct = 100 * level
    return f"q{round(pct):02d}" if abs(pct - round(pct)) < 1e-9 else f"q{pct:g}"


# ---------------------------------------------------------------- forecast
def forecast(
    fit_or_funnel: Fit | Funnel,
    calls: float | np.ndarray | Mapping[Any, Any],
    periods: int,
    reps: int,
    *,
    cycle: Cycle | float | None = None,
    deal_size: DealSize | float | None = None,
    start: str = "steady",
    rng: np.random.Generator | int | None = None,
    uncertainty: bool = True,
) -> Forecast:
    """Forecast sales and revenue, letting each replicate draw its own plausible ratios.

    Parameters
    ----------
    fit_or_funnel : Fit or Funnel
        A :class:`~funnelsim.Fit` (from :func:`funnelsim.fit`) or a
        :class:`~funnelsim.Funnel`. A fit made with ``by=`` forecasts the
        team: every group (rep) calls through its own funnel and the
        forecast adds them up.
    calls : int, array_like or mapping
        Calls per period, as in :func:`funnelsim.simulate` (a number, one
        value per period, or shape ``(reps, periods)``). With a grouped fit,
        the same for every group, or a mapping from each group to its calls.
    periods, reps : int
        Horizon (periods ahead) and Monte Carlo replicates.
    cycle : Cycle or float, optional
        Sales-cycle lag, as in :func:`funnelsim.simulate`.
    deal_size : DealSize or float, optional
        Amount of one deal; None counts revenue in deals.
    start : {"steady", "empty"}
        ``"steady"``: deals from calls made before period 0 keep closing
        (at the first period's call rate); ``"empty"``: nothing in the
        pipeline at the start.
    rng : numpy.random.Generator, int or None
        Randomness (SPEC 7).
    uncertainty : bool, default True
        With a fit: every replicate draws its ratios from their Beta
        posteriors (:meth:`Fit.sample_ratios`). False, or a Funnel: the point
        estimates only.

    Returns
    -------
    Forecast
        ``.percentiles()``, ``.prob_reach(target)``, ``.compare_bands()``
        (with uncertainty: against :attr:`Forecast.point`, the same forecast
        on point estimates from the same random streams), ``.to_frame()``.

    Notes
    -----
    Random streams: with a Funnel, or ``uncertainty=False``, the forecast
    uses ``rng`` exactly as :func:`funnelsim.simulate` does, so both give the
    same deals for the same seed. With uncertainty, ``rng`` is split in two
    independent streams, one for the ratio draws and one for the calls; the
    point forecast replays the calls' stream with the point estimates
    (common random numbers, so the two bands differ by the ratios'
    uncertainty, not by chance). With groups each group has its own stream.

    Examples
    --------
    The sample team's ratios (each step over the leads at least 60 days
    past the stage before), and the band for the next 13 weeks at its pace
    of 234 dials a week, with and without the ratios' uncertainty:

    >>> import funnelsim as fs
    >>> ratios = fs.fit(fs.datasets.load_events(), mature=60)
    >>> fc = fs.forecast(ratios, calls=234, periods=13, reps=10_000, rng=7)
    >>> bands = fc.compare_bands(measure="sales").iloc[-1]
    >>> print(f"P10-P90 {bands['low']:.0f}-{bands['high']:.0f} deals "
    ...       f"(point estimates: {bands['point_low']:.0f}-{bands['point_high']:.0f})")
    P10-P90 34-57 deals (point estimates: 36-53)
    >>> round(float(bands["point_coverage"]), 2)   # the point band's "80 %" really holds
    0.68
    """
    src = _source(fit_or_funnel, "forecast")
    periods = check_count("periods", periods, minimum=1)
    reps = check_count("reps", reps, minimum=1)
    cyc = Cycle.coerce(cycle)
    size = DealSize.coerce(deal_size)
    start = check_choice("start", start, ("steady", "empty"))
    if not isinstance(uncertainty, bool | np.bool_):
        raise FunnelsimTypeError(
            "error.flag", name="uncertainty", value=short(uncertainty), type=type_name(uncertainty)
        )
    funnels = _point_funnels(src)
    keys = list(funnels)
    calls_by = _group_calls(calls, keys, periods, reps)
    gen = check_rng(rng)
    mixed = bool(uncertainty) and isinstance(src, Fit)

    def run(ratio_rows: dict[Any, np.ndarray], sim_gen: np.random.Generator):
        streams = [sim_gen] if len(keys) == 1 else split_streams(sim_gen, len(keys))
        sales = np.zeros((reps, periods), dtype=np.int64)
        revenue = np.zeros((reps, periods))
        for key, stream in zip(keys, streams, strict=True):
            s, r = _simulate_rows(ratio_rows[key], calls_by[key], cyc, size, start, stream)
            sales += s
            revenue += r
        return sales, revenue

    def point_rows() -> dict[Any, np.ndarray]:
        return {
            k: np.broadcast_to(np.asarray(f.ratios, dtype=float), (reps, len(f.ratios)))
            for k, f in funnels.items()
        }

    if not mixed:
        sales, revenue = run(point_rows(), gen)
        return Forecast(sales, revenue, calls_by, funnels, None, cyc, size, start, False)

    param_gen, sim_gen = split_streams(gen, 2)
    replay = copy.deepcopy(sim_gen)
    drawn = src.sample_ratios_by_group(reps, rng=param_gen)  # every group in one draw
    sales, revenue = run(drawn, sim_gen)
    p_sales, p_revenue = run(point_rows(), replay)
    point = Forecast(p_sales, p_revenue, calls_by, funnels, None, cyc, size, start, False)
    return Forecast(sales, revenue, calls_by, funnels, drawn, cyc, size, start, True, point)


# ------------------------------------------------------------------ plans
def mixed_prob_reach(
    n_calls: int, overall: np.ndarray, target: float, size: DealSize | None
) -> float:
    """P(total over ``n_calls`` calls >= target), averaged over the overall rates drawn."""
    if target <= 0:
        return 1.0
    p = np.asarray(overall, dtype=float)
    if size is None:
        need = math.ceil(target - 1e-9)
        return float(np.mean(stats.binom.sf(need - 1, n_calls, p)))
    if n_calls == 0:
        return 0.0
    lo = int(np.min(stats.binom.ppf(1e-15, n_calls, p)))
    hi = int(np.max(stats.binom.isf(1e-15, n_calls, p))) + 1
    deals = np.arange(max(lo, 0), min(hi, n_calls) + 1)
    sf = size.sum_sf(deals, target)
    keep = sf > 0
    if not keep.any():
        return 0.0
    deals, sf = deals[keep], sf[keep]
    block = max(1, _BLOCK // deals.size)
    total = 0.0
    for i in range(0, p.size, block):
        pmf = stats.binom.pmf(deals[None, :], n_calls, p[i : i + block, None])
        total += float((pmf @ sf).sum())
    return min(max(total / p.size, 0.0), 1.0)


def _nodes(overall: np.ndarray) -> np.ndarray:
    """Stratified nodes for averaging over the draws: midpoint quantiles of their distribution.

    Averaging a smooth function of ``p`` over ``_NODES`` midpoint quantiles
    of the draws is a quadrature of the same integral as the plain average,
    at a fraction of the cost inside a bisection.
    """
    p = np.sort(np.asarray(overall, dtype=float))
    if p.size <= _NODES:
        return p
    return np.quantile(p, (np.arange(_NODES) + 0.5) / _NODES)


def fewest_calls(ok, start: int) -> int:
    """Smallest n >= 0 with ok(n), for ok rising in n; bisection from a first guess."""
    if ok(0):
        return 0
    lo, hi = 0, max(1, start)
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > _MAX_CALLS:
            raise FunnelsimValueError("error.plan_unreachable")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _pooled(src: Fit) -> Fit:
    """The team's fit: counts of every group added up, step by step."""
    counts = [c for c in ("entered", "passed", "young") if c in src.table]  # young: mature=
    table = src.table.groupby("stage", sort=False)[counts].sum().reset_index()
    k = table["passed"].to_numpy(float)
    n = table["entered"].to_numpy(float)
    low, high = interval(k, n, src.confidence_level, src.method)
    table = table.assign(ratio=k / n, low=low, high=high)
    return dataclasses.replace(src, table=table, by=())


@dataclass(frozen=True, repr=False, eq=False)
class Plan:
    """Result of :func:`plan_calls`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group and one for the team (or one row without groups):
        ``group`` (the group's key as text; the last row is ``"team"``, or
        ``"all"`` for a Funnel: identifiers, the same in every language;
        :meth:`group_labels` gives them as people read them); ``overall``
        (point estimate of the overall rate);
        ``calls`` (calls per period for the target with ``probability``,
        *with* the ratios' uncertainty; NA for a Funnel); ``calls_point``
        (the same on the point estimates, :func:`funnelsim.calls_for_target`);
        ``calls_expected`` (calls whose expected result is the target);
        ``calls_decks`` (the decks' back-calculation, per period);
        ``p_point_plan`` and ``p_decks`` (the chance that the point plan and
        the decks' plan really deliver, with the ratios' uncertainty; on the
        point estimates for a Funnel); ``p_decks_point`` (the decks' plan's
        chance if the point estimates were the truth).
    decks : pandas.DataFrame
        The decks' back-calculation for the team (or the only funnel):
        :func:`funnelsim.back_calculate` over the whole horizon.
    target, probability, periods, deal_size, reps
        The question asked.
    uncertainty : bool
        Whether the plan includes the ratios' uncertainty (a Fit).
    unit : {"week", "day", "month", "period"}
        What one period is, for people: the repr says "13 weeks; calls a
        week" (``"period"``: "13 periods; calls a period").

    Examples
    --------
    Calls a week for each rep of the sample team to be 90 % sure of 4 deals
    in 4 weeks:

    >>> import funnelsim as fs
    >>> ratios = fs.fit(fs.datasets.load_counts(), by="rep")
    >>> plan = fs.plan_calls(ratios, target=4, probability=0.9, periods=4, reps=500, rng=1)
    >>> plan.target, plan.probability, plan.periods, plan.uncertainty
    (4.0, 0.9, 4, True)
    >>> plan.to_frame()[["group", "calls", "calls_point", "calls_decks"]]
       group  calls  calls_point  calls_decks
    0   Chen    207          192          117
    1     Li    150          142           87
    2    Liu    166          155           97
    3   Wang    277          251          155
    4  Zhang    237          217          131
    5   Zhao    158          148           93
    6   team    178          176          109
    """

    table: pd.DataFrame
    decks: pd.DataFrame
    target: float
    probability: float
    periods: int
    deal_size: DealSize | None
    reps: int
    uncertainty: bool
    unit: str = "period"

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`.

        >>> import funnelsim as fs
        >>> plan = fs.plan_calls(fs.Funnel(["dials", "sales"], [0.01]), target=5,
        ...                      probability=0.9, periods=4)
        >>> plan.to_frame()[["group", "calls_point", "calls_decks", "p_decks"]].round(2)
          group  calls_point  calls_decks  p_decks
        0   all          200          125     0.56
        """
        return self.table.copy()

    def group_labels(self) -> list[str]:
        """The rows' ``group`` as people read them: the team's row in the current language.

        >>> import funnelsim as fs
        >>> ratios = fs.fit(fs.datasets.load_counts(), by="rep")
        >>> plan = fs.plan_calls(ratios, target=4, probability=0.9, periods=4, reps=500, rng=1)
        >>> plan.group_labels()
        ['Chen', 'Li', 'Liu', 'Wang', 'Zhang', 'Zhao', 'team']
        >>> with fs.language("zh"):
        ...     plan.group_labels()[-1]
        '团队'
        """
        labels = self.table["group"].astype(str).tolist()
        labels[-1] = t("plan.team") if self.uncertainty else t("plan.all")
        return labels

    def __repr__(self) -> str:
        what = t("repr.what.revenue" if self.deal_size is not None else "repr.what.deals")
        units = t(f"plot.unit.{self.unit}" if self.periods == 1 else f"plot.units.{self.unit}")
        lines = [
            t(
                "repr.plan.head",
                target=self.target,
                what=what,
                periods=self.periods,
                units=units,
                unit=t(f"plot.unit.{self.unit}"),
                probability=self.probability,
            )
        ]
        for label, row in zip(
            self.group_labels(), self.table.itertuples(index=False), strict=True
        ):
            calls = "-" if pd.isna(row.calls) else f"{int(row.calls):,}"
            lines.append(
                t(
                    "repr.plan.row",
                    group=label,
                    calls=calls,
                    point=int(row.calls_point),
                    decks=int(row.calls_decks),
                    p_decks=row.p_decks,
                )
            )
        return "\n".join(lines) + ")"


def plan_calls(
    fit_or_funnel: Fit | Funnel | Log,
    target: float,
    probability: float,
    *,
    periods: int = 1,
    deal_size: DealSize | float | None = None,
    by: str | Sequence[str] | None = None,
    reps: int = _PLAN_DRAWS,
    rng: np.random.Generator | int | None = None,
    unit: str = "period",
) -> Plan:
    """Calls per period needed to reach a target with a given probability.

    Parameters
    ----------
    fit_or_funnel : Fit, Funnel or Log
        A fit (its ratios' uncertainty is included), a funnel (point values
        only), or a log, fitted here (with ``by=``).
    target : float
        Deals (``deal_size`` None) or revenue over the ``periods`` periods.
        The same target for every row: each group's own target for its row,
        the team's for the team row.
    probability : float
        Chance of reaching the target, strictly between 0 and 1.
    periods : int
        Periods of calls whose deals count toward the target (as in
        :func:`funnelsim.calls_for_target`).
    deal_size : DealSize or float, optional
        Amount of one deal.
    by : str or sequence of str, optional
        Group columns, when ``fit_or_funnel`` is a log (a fit brings its own).
    reps : int
        Ratio draws from the fit's posteriors, used only where a step had
        no leads (otherwise the plan is computed without random draws).
    rng : numpy.random.Generator, int or None
        Randomness of those draws (SPEC 7).
    unit : {"week", "day", "month", "period"}, default "period"
        What one period is; only the repr uses it ("calls a week").

    Returns
    -------
    Plan

    Notes
    -----
    For one set of ratios, deals from ``N`` calls are ``Binomial(N, p)`` and
    the chance of the target is exact (:func:`funnelsim.theory.prob_reach`).
    With the ratios' uncertainty that chance is averaged over the
    distribution of ``p``, the product of the stage ratios' Beta posteriors:
    a mixed binomial. For a one-step funnel deals are then exactly
    beta-binomial (``scipy.stats.betabinom``); with more steps the average
    is over 256 midpoint quantiles of the product, computed without random
    draws (:func:`product_nodes`), so the plan does not change with the
    seed. Both chances rise with ``N``, so the fewest calls are found by
    bisection. The decks' plan is ``ceil(first stage of back_calculate /
    periods)``.

    Examples
    --------
    The sample team's quarter: 40 sales in 13 weeks, 9 times in 10 (calls
    per week).

    >>> import funnelsim as fs
    >>> ratios = fs.fit(fs.datasets.load_events(), mature=60)
    >>> plan = fs.plan_calls(ratios, target=40, probability=0.9, periods=13, rng=1)
    >>> plan.to_frame()[["calls", "calls_point", "calls_decks", "p_decks"]].round(2)
       calls  calls_point  calls_decks  p_decks
    0    271          252          210     0.53
    >>> weekly = fs.plan_calls(ratios, target=40, probability=0.9, periods=13, rng=1, unit="week")
    >>> repr(weekly).splitlines()[0]  # the repr names the unit
    'Plan(target 40 deals in 13 weeks with probability 0.9; calls a week:'

    The decks' back-calculation (210 a week) makes 40 about half the time;
    the ratios known exactly, 252 would do; with what the log does not know
    about them, 271.
    """
    if isinstance(fit_or_funnel, Log):
        fit_or_funnel = fit(fit_or_funnel, by=by)
    elif by is not None:
        raise FunnelsimValueError("error.plan_by")
    src = _source(fit_or_funnel, "plan_calls")
    target = check_nonnegative("target", target)
    probability = check_open_probability("probability", probability)
    periods = check_count("periods", periods, minimum=1)
    reps = check_count("reps", reps, minimum=1)
    unit = check_choice("unit", unit, PERIOD_UNITS)
    size = DealSize.coerce(deal_size)
    gen = check_rng(rng)

    if isinstance(src, Funnel):
        rows = [(ALL, src, None)]
    elif not src.by:
        rows = [(TEAM, src.to_funnel(), src)]
    else:
        funnels = src.funnels_by_group()
        rows = [(_group_label(k), funnels[k], src.group(k)) for k in src.groups]
        team = _pooled(src)
        rows.append((TEAM, team.to_funnel(), team))
    streams = split_streams(gen, len(rows))

    out = []
    for (label, funnel, one), stream in zip(rows, streams, strict=True):
        out.append(_plan_row(label, funnel, one, target, probability, periods, size, reps, stream))
    table = pd.DataFrame(out)
    for col in ("calls", "calls_point", "calls_expected", "calls_decks"):
        table[col] = table[col].astype("Int64")
    decks = back_calculate(rows[-1][1], target, deal_size=size)
    uncertain = not isinstance(src, Funnel)
    return Plan(table, decks, target, probability, periods, size, reps, uncertain, unit)


def _plan_row(label, funnel, one, target, probability, periods, size, reps, rng) -> dict:
    point = calls_for_target(funnel, target, probability, deal_size=size, periods=periods)
    expected = calls_for_expected(funnel, target, deal_size=size, periods=periods)
    first = int(back_calculate(funnel, target, deal_size=size)["needed"].iloc[0])
    decks = math.ceil(first / periods)
    p_decks_point = mixed_prob_reach(decks * periods, np.array([funnel.overall]), target, size)
    row = {"group": label, "overall": funnel.overall}
    if one is None:
        row.update(calls=pd.NA, calls_point=point, calls_expected=expected, calls_decks=decks)
        row.update(p_point_plan=_probability_at(point, periods, [funnel.overall], target, size))
        row.update(p_decks=p_decks_point, p_decks_point=p_decks_point)
        return row
    chance = _plan_chance(one, target, size, reps, rng)
    calls = fewest_calls(lambda n: chance(n * periods) >= probability, point)
    row.update(calls=calls, calls_point=point, calls_expected=expected, calls_decks=decks)
    row.update(p_point_plan=chance(point * periods), p_decks=chance(decks * periods))
    row.update(p_decks_point=p_decks_point)
    return row


def _plan_chance(one: Fit, target, size, reps, rng):
    """``n_calls -> P(target reached)`` with the ratios' uncertainty, deterministic.

    One step: deals are exactly beta-binomial (the posterior Beta(a, b) of the
    ratio mixed with the binomial). More steps: the binomial mixed over 256
    midpoint quantiles of the product of the steps' Beta posteriors, computed
    by :func:`product_nodes` (no random draws). Draws (``reps``, ``rng``) only
    where a step had no leads.
    """
    a, b = (x[0] for x in one._params())
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        overall = _nodes(one.sample_ratios(reps, rng=rng).prod(axis=1))
    elif a.size == 1:
        return lambda n: betabinom_reach(n, a[0], b[0], target, size)
    else:
        overall = product_nodes(a, b)
    return lambda n: mixed_prob_reach(n, overall, target, size)


def betabinom_reach(n_calls: int, a: float, b: float, target: float, size) -> float:
    """P(total over ``n_calls`` calls >= target), deals ``BetaBinomial(n_calls, a, b)``.

    >>> round(betabinom_reach(200, 3.5, 37.5, 10, None), 4)
    0.7745
    >>> round(float(stats.betabinom.sf(9, 200, 3.5, 37.5)), 4)
    0.7745
    """
    if target <= 0:
        return 1.0
    if size is None:
        need = math.ceil(target - 1e-9)
        return float(min(max(stats.betabinom.sf(need - 1, n_calls, a, b), 0.0), 1.0))
    if n_calls == 0:
        return 0.0
    hi = int(stats.betabinom.isf(1e-15, n_calls, a, b)) + 1
    deals = np.arange(0, min(hi, n_calls) + 1)
    total = float(stats.betabinom.pmf(deals, n_calls, a, b) @ size.sum_sf(deals, target))
    return min(max(total, 0.0), 1.0)


def product_nodes(a: np.ndarray, b: np.ndarray, nodes: int = _NODES) -> np.ndarray:
    """Midpoint quantiles of the product of independent ``Beta(a_j, b_j)`` ratios, exactly.

    No random draws: the log of each ratio is put on one fine grid (each
    cell's probability from the Beta cdf at its edges, so a density that is
    infinite at 0 or 1 does no harm), the steps' grids are convolved (the
    log of a product is a sum), and the ``nodes`` quantiles at ``(i + 1/2) /
    nodes`` are read off the cumulative probabilities (linear within a cell).

    >>> product_nodes(np.array([3.5]), np.array([37.5]), nodes=3).round(4)
    array([0.0444, 0.0787, 0.1257])
    >>> [round(float(x), 4) for x in stats.beta.ppf([1 / 6, 0.5, 5 / 6], 3.5, 37.5)]
    [0.0444, 0.0787, 0.1257]
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    lo = np.log(np.maximum(stats.beta.ppf(_TAIL, a, b), 1e-300))
    hi = np.log(np.maximum(stats.beta.isf(_TAIL, a, b), 1e-300))
    h = max(float(np.max(hi - lo)), 1e-12) / _CELLS
    pmf = np.ones(1)
    for aj, bj, lj, hj in zip(a, b, lo, hi, strict=True):
        edges = lj + h * np.arange(math.ceil((hj - lj) / h) + 1)
        cdf = stats.beta.cdf(np.exp(edges), aj, bj)
        cdf[0], cdf[-1] = 0.0, 1.0  # the tails beyond the grid go to its end cells
        pmf = signal.fftconvolve(pmf, np.diff(cdf)) if pmf.size > 1 else np.diff(cdf)
        pmf = np.clip(pmf, 0.0, None)
    cdf = np.concatenate([[0.0], np.cumsum(pmf)])
    cdf /= cdf[-1]
    upper = float(np.sum(lo)) + h * np.arange(cdf.size)  # cell edges of the sum
    return np.exp(np.interp((np.arange(nodes) + 0.5) / nodes, cdf, upper))


def _probability_at(calls: int, periods: int, overall, target, size) -> float:
    """Chance that ``calls`` per period reach the target, mixed over ``overall`` draws."""
    return mixed_prob_reach(int(calls) * int(periods), np.asarray(overall, float), target, size)
