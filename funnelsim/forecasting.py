"""Forecasts from fitted funnels, with the ratios' own uncertainty and their moves.

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

Real ratios also move from week to week more than chance allows. When the
fit's history shows it (:meth:`funnelsim.Fit.dispersion`), each period of a
forecast draws its own ratios around the replicate's (``between="auto"``, the
default): a floor under the band's relative width that no volume of calls
lowers. Plans (:mod:`funnelsim.planning`) and back-tests
(:mod:`funnelsim.backtesting`) are built on the same draws.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validate import (
    check_calls,
    check_choice,
    check_count,
    check_nonnegative,
    check_rng,
    short,
    to_float,
    type_name,
)
from .distributions import Cycle, DealSize
from .estimate import Fit
from .funnel import Funnel
from .i18n import FunnelsimTypeError, FunnelsimValueError, field_label, t
from .logs import Log
from .overdispersion import Dispersion, period_factors
from .simulation import CHUNK_REPS, close_deals, close_warm_start, draw_revenue, split_streams

__all__ = ["Forecast", "forecast"]

_MEASURES = ("revenue", "sales")
PERIOD_UNITS = ("week", "day", "month", "period")  # what one period is, for people


# ------------------------------------------------------------------ inputs
def check_source(fit_or_funnel: object, function: str) -> Fit | Funnel:
    if isinstance(fit_or_funnel, Fit | Funnel):
        return fit_or_funnel
    kind = type_name(fit_or_funnel)
    if isinstance(fit_or_funnel, Log):
        raise FunnelsimTypeError("error.forecast_log", function=function, name="fit", type=kind)
    raise FunnelsimTypeError(
        "error.forecast_input", function=function, name="fit", value=kind, type=kind
    )


def group_label(key: Any) -> str:
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
                unknown=", ".join(map(group_label, unknown)) or "-",
                missing=", ".join(map(group_label, missing)) or "-",
                choices=", ".join(map(group_label, keys)),
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
    factors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sales and revenue, shape (reps, periods), with one set of ratios per replicate.

    ``ratios`` has shape (reps, steps). The draws follow
    :func:`funnelsim.simulate` exactly (same chunks of replicates, same
    streams, same order of draws), only with a ratio per row: with equal
    rows the result is ``simulate``'s to the last deal. ``factors`` (shape
    (reps, warm + periods, steps), the first ``warm`` periods before 0, from
    :func:`funnelsim.overdispersion.period_factors`) moves every replicate's
    ratios period by period.
    """
    reps, periods = calls.shape
    sales = np.zeros((reps, periods), dtype=np.int64)
    revenue = np.empty((reps, periods))
    firsts = range(0, reps, CHUNK_REPS)
    streams = split_streams(rng, len(firsts))
    pmf = cycle.pmf()

    def run(i: int) -> None:
        rows = slice(firsts[i], firsts[i] + CHUNK_REPS)
        moves = None if factors is None else factors[rows]
        _chunk(ratios[rows], calls[rows], pmf, deal_size, start, streams[i], sales[rows], moves)
        revenue[rows] = draw_revenue(sales[rows], deal_size, streams[i])

    if len(firsts) == 1:
        run(0)
    else:  # numpy's samplers release the GIL
        with ThreadPoolExecutor(max_workers=min(len(firsts), os.cpu_count() or 1)) as pool:
            list(pool.map(run, range(len(firsts))))
    return sales, revenue


def _chunk(ratios, calls, pmf, deal_size, start, rng, sales, factors=None) -> None:
    if factors is not None:  # each period's ratios: the replicate's, moved by the period
        warm = factors.shape[1] - calls.shape[1]
        moved = np.minimum(ratios[:, None, :] * factors, 1.0)
        won = calls
        for k in range(ratios.shape[1]):
            won = rng.binomial(won, moved[:, warm:, k])
        close_deals(sales, won, pmf, rng)
        if start == "steady" and warm:
            close_warm_start(sales, calls[:, 0], moved[:, :warm].prod(axis=-1), pmf, rng)
        return
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


def moving_ratio_draws(
    src: Fit, moves: Dispersion, rho: np.ndarray, gen: np.random.Generator
) -> dict[Any, np.ndarray]:
    """Each replicate's ratios, per group (shape ``(draws, steps)``, keyed as
    :meth:`Fit.sample_ratios_by_group`), from posteriors that know the periods move.

    A moving step's pooled ratio is worth ``n_eff`` leads, not every lead: each
    replicate draws it from ``Beta(k / d + 1/2, (n - k) / d + 1/2)`` with ``d``
    the design effect of that replicate's own ``rho`` (one row of ``rho``, from
    :meth:`Dispersion.rho_draws`; :meth:`Dispersion.design_effect`), so both
    the moves and their uncertainty reach the ratio's. Every group's counts are
    divided by the team's design effect.

    >>> import numpy as np
    >>> import funnelsim as fs
    >>> bank = fs.fit(fs.datasets.load_bank_marketing())
    >>> moves = bank.dispersion()
    >>> gen = np.random.default_rng(1)
    >>> draws = moving_ratio_draws(bank, moves, moves.rho_draws(4000, gen), gen)[None]
    >>> round(float(draws.mean()), 3), round(float(draws.std()), 3)  # worth ~40 leads, not 41,188
    (0.122, 0.05)
    """
    steps = len(src.stages) - 1
    k = src.table["passed"].to_numpy(float).reshape(-1, steps)
    n = src.table["entered"].to_numpy(float).reshape(-1, steps)
    deff = moves.design_effect(rho)[None, :, :]  # (1, draws, steps)
    ok = np.broadcast_to((n > 0)[:, None, :], (k.shape[0], deff.shape[1], steps))
    a = np.where(ok, k[:, None, :] / deff + 0.5, 1.0)
    b = np.where(ok, (n - k)[:, None, :] / deff + 0.5, 1.0)
    x = gen.beta(a, b)
    x[~ok] = np.nan
    keys = src.groups if src.by else [None]
    return dict(zip(keys, x, strict=True))


def moves_of(src: Fit | Funnel, between: object) -> Dispersion | None:
    """The history's moves a forecast uses (None: the ratios stay fixed over the periods)."""
    auto = None
    if isinstance(between, str) and between == "auto" and isinstance(src, Fit):
        if src.history is not None:
            with contextlib.suppress(FunnelsimValueError):  # a log without periods
                auto = src.dispersion()
    return pick_moves(between, auto, tuple(src.stages[1:]))


def pick_moves(between: object, auto: Dispersion | None, steps: tuple) -> Dispersion | None:
    """``between`` checked: None, ``"auto"`` (then ``auto``, the history's, if any) or a
    Dispersion of the same steps; None when no step moves more than chance.

    >>> pick_moves(None, None, ("sale",)) is None
    True
    """
    if between is None:
        return None
    if isinstance(between, Dispersion):
        if between.stages != steps:
            raise FunnelsimValueError(
                "error.between_stages", got=" -> ".join(between.stages), want=" -> ".join(steps)
            )
        found = between
    elif isinstance(between, str) and between == "auto":
        found = auto
    else:
        raise FunnelsimTypeError("error.between", value=short(between), type=type_name(between))
    return found if found is not None and (found.moving() > 0).any() else None


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
        The same forecast on the point estimates only, with ratios that do not
        move between periods, from the same random streams: the naive band
        (None when this forecast is already a point forecast).
    dispersion : Dispersion or None
        How the ratios moved between periods in the history, when the
        forecast lets them move (``between``); None when they stay fixed.
    revenue_by_group : dict or None
        With a fit by group: each group's amount closed, arrays of shape
        (reps, periods) that sum to ``revenue`` replicate by replicate (the
        groups moved together, so their totals are correlated as the team's
        is); None without groups.

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
    dispersion: Dispersion | None = None
    revenue_by_group: dict | None = None

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
        if self.dispersion is not None:
            kind += t("repr.forecast.moving", period=field_label(self.dispersion.period))
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
    between: str | Dispersion | None = "auto",
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
    between : "auto", Dispersion or None, default "auto"
        Whether each period's ratios move, as they did from period to
        period in the history. ``"auto"``: with a fit whose log has periods
        (a ``period`` column, or times: by week), the steps whose ratio moved
        more than chance (:meth:`Fit.dispersion`, :meth:`Dispersion.moving`)
        move in every period; a history that shows no such move changes
        nothing. A :class:`~funnelsim.overdispersion.Dispersion` (from
        :func:`funnelsim.dispersion`, e.g. by month) uses that one; None keeps
        the ratios fixed over the periods. One forecast period is one period
        of the history.

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

    Ratios that move (``between``): each replicate draws a ``rho`` for every
    moving step (:meth:`Dispersion.rho_draws`: ``rho`` is estimated from a
    few periods too), then its ratios from posteriors that know the periods
    move (:func:`moving_ratio_draws`: the pooled ratio of periods that move is
    worth ``n_eff`` leads, not every lead; without it a band over many
    periods is too narrow, 0.63 instead of 0.80 over 13 weeks after 10).
    Then in each replicate and period every
    moving step's ratio is the replicate's ratio times that period's factor
    (:func:`funnelsim.overdispersion.period_factors`: the beta random effect
    that :func:`funnelsim.dispersion` fits, mean 1), clipped at 1; every
    group takes the same period's factor, so the team moves together. Calls
    of one period all see that period's ratios, so deals are beta-binomial
    per period and step (for one step on point estimates, exactly
    ``BetaBinomial(calls, m theta, (1 - m) theta)``). The periods before 0
    that a "steady" start fills move too. The factors come from a third
    stream, split off first; with no move the streams are as above.

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
    src = check_source(fit_or_funnel, "forecast")
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
    moves = moves_of(src, between)
    factors, rho = None, None
    if moves is not None:
        move_gen, gen = split_streams(gen, 2)
        warm = cyc.max_lag if start == "steady" else 0
        means = moves.factor_means()
        rho = moves.rho_draws(reps, move_gen)  # rho is uncertain too
        factors = period_factors(means, rho, (reps, warm + periods), move_gen)

    def run(ratio_rows, sim_gen: np.random.Generator, moved: np.ndarray | None = factors):
        streams = [sim_gen] if len(keys) == 1 else split_streams(sim_gen, len(keys))
        sales = np.zeros((reps, periods), dtype=np.int64)
        revenue = np.zeros((reps, periods))
        by_group = {}
        for key, stream in zip(keys, streams, strict=True):
            s, r = _simulate_rows(ratio_rows[key], calls_by[key], cyc, size, start, stream, moved)
            sales += s
            revenue += r
            by_group[key] = r
        return sales, revenue, (by_group if keys != [None] else None)

    def point_rows() -> dict[Any, np.ndarray]:
        return {
            k: np.broadcast_to(np.asarray(f.ratios, dtype=float), (reps, len(f.ratios)))
            for k, f in funnels.items()
        }

    if not mixed:
        sales, revenue, by_group = run(point_rows(), gen)
        return Forecast(
            sales, revenue, calls_by, funnels, None, cyc, size, start, False, None, moves, by_group
        )

    param_gen, sim_gen = split_streams(gen, 2)
    replay = copy.deepcopy(sim_gen)
    if moves is None:
        drawn = src.sample_ratios_by_group(reps, rng=param_gen)  # every group in one draw
    else:
        drawn = moving_ratio_draws(src, moves, rho, param_gen)
    sales, revenue, by_group = run(drawn, sim_gen)
    p_sales, p_revenue, p_by_group = run(point_rows(), replay, None)
    point = Forecast(
        p_sales, p_revenue, calls_by, funnels, None, cyc, size, start, False,
        revenue_by_group=p_by_group,
    )  # fmt: skip
    return Forecast(
        sales, revenue, calls_by, funnels, drawn, cyc, size, start, True, point, moves, by_group
    )
