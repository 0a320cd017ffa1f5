"""Monte Carlo simulation of reps making calls through a funnel."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ._rates import check_rate_cv, draw_rates
from ._validate import check_calls, check_choice, check_count, check_rng
from .distributions import Cycle, DealSize
from .funnel import Funnel, check_funnel
from .i18n import FunnelsimValueError, t

__all__ = ["Simulation", "simulate"]

Start = Literal["steady", "empty"]
Method = Literal["binomial", "per_call"]
_QUANTILES = (0.1, 0.5, 0.9)


def simulate(
    funnel: Funnel,
    calls: float | np.ndarray,
    periods: int,
    reps: int,
    *,
    cycle: Cycle | float | None = None,
    deal_size: DealSize | float | None = None,
    start: Start = "steady",
    rng: np.random.Generator | int | None = None,
    method: Method = "binomial",
    progress: bool = False,
    rate_cv: float = 0.0,
) -> Simulation:
    """Simulate ``reps`` reps calling through ``funnel`` for ``periods`` periods.

    Every call is a Bernoulli trial at every stage. A call that reaches the
    last stage becomes a deal that closes ``lag`` periods later (the sales
    cycle), worth a random ``deal_size``.

    Parameters
    ----------
    funnel : Funnel
        Stages and conditional ratios; the first stage counts the calls.
    calls : int or array_like
        Calls per period: one number, a schedule with one value per period
        (ramp-up, holidays, a pause in prospecting), or an array of shape
        ``(reps, periods)``.
    periods, reps : int
        Number of periods (days, weeks...) and of reps. Reps are independent,
        so they double as Monte Carlo replicates.
    cycle : Cycle or float, optional
        Lag between a call and its closed deal, in periods. A number is the
        mean lag with the default spread (cv 0.5); ``None`` or 0 closes deals
        in the period of the call.
    deal_size : DealSize or float, optional
        Amount of one deal; a number is a fixed amount. ``None`` counts
        revenue in deals.
    start : {"steady", "empty"}
        ``"steady"``: the pipeline is full at period 0, as if each rep had made
        their first period's calls forever. ``"empty"``: a new rep with no
        earlier calls, who closes nothing for about one cycle.
    rng : numpy.random.Generator, int or None
        Source of randomness (SPEC 7); the same seed gives the same result.
    method : {"binomial", "per_call"}
        ``"binomial"`` draws one binomial per stage, period and rep, splits
        deals across lags with one multinomial per period and rep, and draws
        revenue sums in aggregate (see :class:`DealSize` for which deal-size
        models cost one draw per deal), so the cost hardly grows with call
        volume (only the lag split does: up to one binomial per lag when a
        period has many deals). ``"per_call"`` follows every call as its own Bernoulli path
        (slow; the reference and the classroom "watch each call" view).
    progress : bool
        Show a progress bar over reps (``per_call`` only).
    rate_cv : float
        How much the overall conversion rate moves from one period to the
        next, as a coefficient of variation (0.2: a typical week is 20 % above
        or below the average rate). 0 (the default) keeps the rates fixed and
        the draws unchanged. Otherwise each period (and rep, including the
        periods before 0 of a ``"steady"`` start) draws its own stage ratios
        first: every ratio ``r_k`` strictly between 0 and 1 from a beta with
        mean ``r_k`` and the same coefficient of variation ``c``, with
        ``(1 + c^2)^K = 1 + rate_cv^2`` over those ``K`` stages, so that the
        overall rate has mean ``funnel.overall`` and coefficient of variation
        ``rate_cv`` exactly. Given the drawn ratios, every call passes every
        stage exactly as with fixed ratios, in both methods; the drawn ratios
        are kept in :attr:`Simulation.rates`. One draw per stage, period and
        rep: the cost does not grow with the calls.

    Returns
    -------
    Simulation

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> sim = fs.simulate(game, calls=75, periods=50, reps=1000, rng=1)
    >>> sim.counts.shape, sim.sales.shape
    ((1000, 50, 4), (1000, 50))
    >>> round(float(sim.sales.sum(axis=1).mean()), 1)  # 75 dials a week, 50 weeks
    31.2
    """
    funnel = check_funnel(funnel)
    periods = check_count("periods", periods, minimum=1)
    reps = check_count("reps", reps, minimum=1)
    calls_arr = check_calls(calls, periods, reps)
    cyc = Cycle.coerce(cycle)
    size = DealSize.coerce(deal_size)
    start = check_choice("start", start, ("steady", "empty"))
    method = check_choice("method", method, ("binomial", "per_call"))
    gen = check_rng(rng)
    rate_cv = check_rate_cv(funnel, rate_cv)
    rates = None
    if rate_cv > 0.0:  # one draw per stage, period (before 0 too, for a full pipeline) and rep
        warm = cyc.max_lag if start == "steady" else 0
        rates = draw_rates(funnel, rate_cv, (calls_arr.shape[0], warm + periods), gen)
    runner = _binomial if method == "binomial" else _per_call
    counts, sales, revenue = runner(funnel, calls_arr, cyc, size, start, gen, progress, rates)
    return Simulation(
        funnel, calls_arr, counts, sales, revenue, cyc, size, start, method, rate_cv, rates
    )


# ----------------------------------------------------------------- binomial
CHUNK_REPS = 1000  # reps per independent stream; fixed, so results never depend on the machine


def split_streams(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """``n`` independent generators derived from ``rng`` (``rng`` itself when n == 1)."""
    if n == 1:
        return [rng]
    try:
        return list(rng.spawn(n))
    except (AttributeError, TypeError, ValueError):  # a bit generator without a seed sequence
        return [np.random.default_rng(s) for s in rng.integers(2**63, size=n)]


def _binomial(funnel, calls, cycle, deal_size, start, rng, progress, rates=None):
    reps, periods = calls.shape
    counts = np.empty((reps, periods, funnel.n_stages), dtype=np.int64)
    sales = np.zeros((reps, periods), dtype=np.int64)
    revenue = np.empty((reps, periods))
    firsts = range(0, reps, CHUNK_REPS)
    streams = split_streams(rng, len(firsts))

    def run(i: int) -> None:
        rows = slice(firsts[i], firsts[i] + CHUNK_REPS)
        _binomial_chunk(
            funnel,
            calls[rows],
            cycle,
            deal_size,
            start,
            streams[i],
            counts[rows],
            sales[rows],
            revenue[rows],
            None if rates is None else rates[rows],
        )

    if len(firsts) == 1:
        run(0)
    else:  # numpy's samplers release the GIL: chunks run in parallel threads
        with ThreadPoolExecutor(max_workers=min(len(firsts), os.cpu_count() or 1)) as pool:
            list(pool.map(run, range(len(firsts))))
    return counts, sales, revenue


def _binomial_chunk(
    funnel, calls, cycle, deal_size, start, rng, counts, sales, revenue, rates=None
):
    """Fill ``counts``, ``sales`` and ``revenue`` (views) for one chunk of reps.

    ``rates`` (optional): the stage ratios drawn per rep and period, shape
    (reps, warm + periods, n_ratios), the first ``warm`` periods before 0.
    """
    counts[..., 0] = calls
    warm = 0 if rates is None else rates.shape[1] - calls.shape[1]
    for k, r in enumerate(funnel.ratios):
        counts[..., k + 1] = rng.binomial(
            counts[..., k], r if rates is None else rates[:, warm:, k]
        )
    pmf = cycle.pmf()
    close_deals(sales, counts[..., -1], pmf, rng)
    if start == "steady":
        overall = funnel.overall if rates is None else rates[:, :warm].prod(axis=-1)
        close_warm_start(sales, calls[:, 0], overall, pmf, rng)
    revenue[:] = draw_revenue(sales, deal_size, rng)


def close_deals(sales: np.ndarray, won: np.ndarray, pmf: np.ndarray, rng) -> None:
    """Add to ``sales`` the deals ``won[:, s]`` of each call period ``s``, each
    closing ``lag`` periods later with probability ``pmf[lag]``.

    One multinomial per period and rep. For the last ``len(pmf) - 1`` periods
    the lags that close after the horizon are merged into the last category,
    whose deals are dropped: the closings kept have the same law, and a cell
    with many deals needs fewer binomials.
    """
    periods = sales.shape[1]
    lag_max = len(pmf) - 1
    if lag_max == 0:
        sales += won
        return
    pvals = np.tile(pmf, (periods, 1))
    for s in range(max(periods - lag_max, 0), periods):
        inside = periods - s  # lags 0 .. inside - 1 close within the horizon
        pvals[s, inside:-1] = 0.0
        pvals[s, -1] = pmf[inside:].sum()
    _add_closings(sales, rng.multinomial(won, pvals), offset=0)


def close_warm_start(
    sales: np.ndarray, calls: np.ndarray, overall: float | np.ndarray, pmf: np.ndarray, rng
) -> None:
    """Add to ``sales`` the deals of a full pipeline at period 0 ("steady" start).

    Each rep made ``calls`` (one per rep) in each of the ``len(pmf) - 1``
    periods before period 0. For the calls made ``j`` periods before, a deal
    closes at period ``lag - j >= 0`` with probability ``overall * pmf[lag]``
    (``overall`` is a number, one per rep, or one per rep and period before 0,
    shape (reps, len(pmf) - 1), column ``len(pmf) - 1 - j`` for ``j`` periods
    before): one multinomial per ``j`` and
    rep over "no deal closing from period 0 on" (category 0, drawn first so
    the draw stops once nothing is left) and the lags ``j .. len(pmf) - 1``.
    """
    lag_max = len(pmf) - 1
    overall = np.asarray(overall, dtype=float)
    if lag_max == 0 or not (overall > 0).any():
        return
    for j in range(1, lag_max + 1):
        ov = overall[:, lag_max - j] if overall.ndim == 2 else overall
        deal = ov[..., None] * pmf[None, j:]  # (1 or reps, lags j .. lag_max)
        none = np.clip(1.0 - deal.sum(axis=-1, keepdims=True), 0.0, 1.0)
        pvals = np.concatenate([none, deal], axis=-1)
        pvals /= pvals.sum(axis=-1, keepdims=True)
        split = rng.multinomial(calls, pvals[0] if ov.ndim == 0 else pvals)
        _add_closings(sales, split[:, None, 1:], offset=0)


def _add_closings(sales: np.ndarray, split: np.ndarray, offset: int) -> None:
    """Add ``split[:, s, l]`` (deals from call period ``s`` with lag ``l``) to
    ``sales[:, s + l + offset]``, dropping closings after the horizon."""
    periods = sales.shape[1]
    n_from = split.shape[1]
    for lag in range(split.shape[2]):
        first = lag + offset
        if first >= periods:
            break
        width = min(n_from, periods - first)
        sales[:, first : first + width] += split[:, :width, lag]


def draw_revenue(sales, deal_size, rng):
    if deal_size is None:
        return sales.astype(float)
    return deal_size.sample_sums(rng, sales)


# ----------------------------------------------------------------- per call
def _per_call(funnel, calls, cycle, deal_size, start, rng, progress, rates=None):
    reps, periods = calls.shape
    n_stages = funnel.n_stages
    ratios = np.asarray(funnel.ratios)
    warm = cycle.max_lag if start == "steady" else 0
    counts = np.zeros((reps, periods, n_stages), dtype=np.int64)
    sales = np.zeros((reps, periods), dtype=np.int64)
    revenue = np.zeros((reps, periods))
    iterator = range(reps)
    if progress:
        # lazy: tqdm.auto looks for IPython and imports ipywidgets for its notebook bar
        # (heavy, optional); only the slow per-call reference mode with progress=True needs it
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=t("progress.simulating"), unit=t("progress.rep"))
    for rep in iterator:
        per_period = np.concatenate([np.full(warm, calls[rep, 0]), calls[rep]])
        call_period = np.repeat(np.arange(-warm, periods), per_period)
        # One uniform per call and stage: the call passes stage k+1 if it
        # passed stage k and its k-th draw is below ratio k.
        # With moving rates, each call uses the ratios drawn for its period.
        per_call = ratios if rates is None else rates[rep, call_period + warm]
        passed = np.cumprod(rng.random((call_period.size, n_stages - 1)) < per_call, axis=1)
        reached = passed.sum(axis=1)  # index of the last stage reached
        live = call_period >= 0
        for k in range(n_stages):
            counts[rep, :, k] = np.bincount(call_period[live & (reached >= k)], minlength=periods)
        deal_call = call_period[reached == n_stages - 1]
        closes = deal_call + cycle.sample(rng, deal_call.size)
        amounts = (
            np.ones(deal_call.size) if deal_size is None else deal_size.sample(rng, deal_call.size)
        )
        inside = (closes >= 0) & (closes < periods)
        sales[rep] = np.bincount(closes[inside], minlength=periods)
        revenue[rep] = np.bincount(closes[inside], weights=amounts[inside], minlength=periods)
    return counts, sales, revenue


# ------------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class Simulation:
    """Result of :func:`simulate`.

    Attributes
    ----------
    funnel : Funnel
    calls : ndarray, shape (reps, periods)
        Calls made in each period.
    counts : ndarray, shape (reps, periods, stages)
        Leads reaching each stage, by the period the call was made.
    sales : ndarray, shape (reps, periods)
        Deals closed in each period, after the cycle lag.
    revenue : ndarray, shape (reps, periods)
        Amount closed in each period (deals when ``deal_size`` is None).
    cycle, deal_size, start, method, rate_cv
        The settings the simulation ran with.
    rates : ndarray or None
        With ``rate_cv > 0``, the stage ratios each rep had in each period,
        shape (reps, warm + periods, stages - 1): the first ``warm`` columns
        are the periods before 0 of a ``"steady"`` start (``cycle.max_lag``
        of them), then periods 1, 2, ... None when the rates are fixed.

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
    >>> sim = fs.simulate(f, calls=50, periods=4, reps=3, rng=1)
    >>> sim.reps, sim.periods, sim.counts.shape
    (3, 4, (3, 4, 3))
    >>> sim.sales            # deals closed by each rep (row) in each period (column)
    array([[2, 5, 1, 3],
           [1, 2, 2, 1],
           [3, 1, 3, 6]])
    """

    funnel: Funnel
    calls: np.ndarray
    counts: np.ndarray
    sales: np.ndarray
    revenue: np.ndarray
    cycle: Cycle
    deal_size: DealSize | None
    start: str
    method: str
    rate_cv: float = 0.0
    rates: np.ndarray | None = None

    @property
    def reps(self) -> int:
        """Number of reps (replicates)."""
        return self.calls.shape[0]

    @property
    def periods(self) -> int:
        """Number of periods."""
        return self.calls.shape[1]

    def measure(self, name: str, *, stage: str | None = None) -> np.ndarray:
        """The (reps, periods) array of a measure.

        ``name`` is ``"sales"`` (deals closed), ``"revenue"``, or ``"count"``
        with ``stage=`` (leads reaching that stage, by call period). A stage
        name alone also works when it is not ``"sales"`` or ``"revenue"``
        (those names mean the closed deals and their amount).

        >>> import funnelsim as fs
        >>> sim = fs.simulate(fs.presets.get("daily ratio game").funnel, 15, 5, 2, rng=0)
        >>> (sim.measure("count", stage="dials") == 15).all()
        np.True_
        """
        if name == "count" and stage is not None:
            return self.counts[..., self.funnel.stage_index(stage)]
        if name == "sales":
            return self.sales
        if name == "revenue":
            return self.revenue
        if name in self.funnel.stages:
            return self.counts[..., self.funnel.stages.index(name)]
        named = ["sales", "revenue", "count"]
        choices = ", ".join(named + [s for s in self.funnel.stages if s not in named])
        raise FunnelsimValueError("error.unknown_measure", value=repr(name), choices=choices)

    def totals(
        self, measure: str = "revenue", *, block: int = 1, stage: str | None = None
    ) -> np.ndarray:
        """Sums over consecutive blocks of ``block`` periods: shape (reps, blocks).

        A last, shorter block is kept (52 weeks in blocks of 4 give 13 full
        months; 52 in blocks of 5 give 10 blocks of 5 and one of 2).

        >>> import funnelsim as fs
        >>> sim = fs.simulate(fs.Funnel(["calls", "sales"], [0.1]), 20, periods=6, reps=2, rng=3)
        >>> sim.sales
        array([[0, 1, 3, 2, 0, 2],
               [2, 1, 3, 0, 1, 2]])
        >>> sim.totals("sales", block=4)    # periods 0-3, then 4-5
        array([[6, 2],
               [6, 3]])
        >>> sim.totals("count", stage="calls", block=4)
        array([[80, 40],
               [80, 40]])
        """
        block = check_count("block", block, minimum=1)
        values = self.measure(measure, stage=stage)
        starts = np.arange(0, self.periods, block)
        return np.add.reduceat(values, starts, axis=1)

    def summary(
        self,
        measure: str = "revenue",
        *,
        block: int = 1,
        stage: str | None = None,
        quantiles: tuple[float, ...] = _QUANTILES,
    ) -> pd.DataFrame:
        """Per period (or block of periods), across reps: mean, std, cv and quantiles.

        ``measure`` and ``stage`` are as in :meth:`measure`. ``std`` uses
        ``ddof=1``; ``cv = std / mean`` (NaN when the mean is 0).
        ``periods_in_block`` says how many periods each row sums. Blocks and
        periods are numbered from 1, as people count weeks: with ``block=4``,
        block 1 sums periods 1-4 (the array columns 0-3).

        >>> import funnelsim as fs
        >>> f = fs.Funnel(["calls", "sales"], [0.1])
        >>> s = fs.simulate(f, 100, periods=8, reps=500, rng=0).summary("sales", block=4)
        >>> list(s.columns)
        ['block', 'first_period', 'periods_in_block', 'mean', 'std', 'cv', 'q10', 'q50', 'q90']
        >>> s["mean"].round(0).tolist()
        [40.0, 40.0]
        >>> s[["block", "first_period", "periods_in_block"]].values.tolist()
        [[1, 1, 4], [2, 5, 4]]
        """
        totals = self.totals(measure, block=block, stage=stage).astype(float)
        first = np.arange(0, self.periods, block)
        mean = totals.mean(axis=0)
        std = totals.std(axis=0, ddof=1) if self.reps > 1 else np.full(len(first), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(mean > 0, std / np.where(mean > 0, mean, 1), np.nan)
        frame = pd.DataFrame(
            {
                "block": np.arange(1, len(first) + 1),  # numbered from 1, for people
                "first_period": first + 1,
                "periods_in_block": np.minimum(block, self.periods - first),
                "mean": mean,
                "std": std,
                "cv": cv,
            }
        )
        if len(quantiles):
            values = np.quantile(totals, list(quantiles), axis=0)  # one sort for all
            for q, row in zip(quantiles, values, strict=True):
                frame[f"q{round(q * 100):02d}"] = row
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Tidy (long) frame: ``rep``, ``period``, ``measure``, ``stage``, ``value``.

        Periods are numbered from 1, as people count weeks (the array column
        ``k`` is period ``k + 1``); reps from 0, as they are interchangeable
        draws. ``measure`` is ``"count"`` (leads reaching ``stage``, by call period),
        ``"sales"`` (deals closed in the period) or ``"revenue"``; ``stage`` is
        empty for the last two.

        >>> import funnelsim as fs
        >>> sim = fs.simulate(fs.Funnel(["calls", "sales"], [0.1]), 20, periods=2, reps=1, rng=3)
        >>> sim.to_frame()
           rep  period  measure  stage  value
        0    0       1    count  calls   20.0
        1    0       2    count  calls   20.0
        2    0       1    count  sales    0.0
        3    0       2    count  sales    1.0
        4    0       1    sales    NaN    0.0
        5    0       2    sales    NaN    1.0
        6    0       1  revenue    NaN    0.0
        7    0       2  revenue    NaN    1.0
        """
        reps, periods, _n_stages = self.counts.shape
        rep_idx, period_idx = np.meshgrid(
            np.arange(reps), np.arange(1, periods + 1), indexing="ij"
        )
        parts = []
        for k, stage in enumerate(self.funnel.stages):
            parts.append(self._long(rep_idx, period_idx, "count", stage, self.counts[..., k]))
        parts.append(self._long(rep_idx, period_idx, "sales", None, self.sales))
        parts.append(self._long(rep_idx, period_idx, "revenue", None, self.revenue))
        frame = pd.concat(parts, ignore_index=True)
        frame["measure"] = pd.Categorical(frame["measure"], ["count", "sales", "revenue"])
        frame["stage"] = pd.Categorical(frame["stage"], list(self.funnel.stages))
        return frame

    @staticmethod
    def _long(rep_idx, period_idx, measure, stage, values) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "rep": rep_idx.ravel(),
                "period": period_idx.ravel(),
                "measure": measure,
                "stage": stage,
                "value": values.ravel().astype(float),
            }
        )

    def __repr__(self) -> str:
        return t(
            "repr.simulation",
            reps=self.reps,
            periods=self.periods,
            funnel=repr(self.funnel),
            cycle=self.cycle.mean,
            deal_size=repr(self.deal_size),
            start=repr(self.start),
            method=repr(self.method),
        )
