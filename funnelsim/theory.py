"""Closed-form moments, probabilities of reaching a target, calls needed.

Every call is an independent Bernoulli path through the funnel, so the deals
from ``N`` calls are ``Binomial(N, p)`` with ``p = funnel.overall``. Revenue
adds an independent deal size per deal (a compound binomial):

    E[R] = mu E[S],   Var[R] = sigma^2 E[S] + mu^2 Var[S],
    CV^2 = (1 - p + cv_size^2) / (N p).

With a sales cycle, a call made in period ``s`` closes in a window of periods
with probability ``p * w_s`` (``w_s``: chance that its lag lands in the
window), independently of other calls; the moments of sales in the window are
exact sums over call periods.

Targets (:func:`prob_reach`, :func:`calls_for_target`) are about the deals
that the calls of ``periods`` periods produce, whenever they close: the
planning question "how many calls this quarter for this quarter's number".

A rate that moves between periods (``rate_cv``): the law of large numbers has
a floor. Let the overall rate of period ``s`` be ``P_s``, drawn independently
per period with mean ``p`` and variance ``v = (rate_cv p)^2``, and given
``P_s`` let each of that period's ``n`` calls close in the window with
probability ``P_s w`` (``w = 1`` without a cycle). By the law of total variance
the deals ``D`` of that period satisfy

    E[D] = n p w,
    Var[D] = E[Var(D | P)] + Var(E[D | P])
           = E[n P w (1 - P w)] + Var(n P w)
           = n p w - n w^2 (p^2 + v) + n^2 w^2 v
           = n q (1 - q) + n (n - 1) w^2 v,         q = p w.

Periods are independent, so these add up. Deal sizes are independent of the
rate, so revenue keeps ``Var[R] = mu^2 Var[D] + sigma^2 E[D]``: the deal size
adds no factor to the rate's term. In one period without a cycle,

    CV^2 = (1 - p + cv_size^2) / (n p) + (n - 1) / n * rate_cv^2
         = (1 - p (1 + rate_cv^2) + cv_size^2) / (n p) + rate_cv^2,

so as ``n`` grows the CV falls to ``rate_cv``, not to 0 (over ``T`` periods
with their own rates, to ``rate_cv / sqrt(T)``): see :func:`cv_floor`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ._rates import check_rate_cv
from ._validate import (
    calls_error,
    check_choice,
    check_count,
    check_nonnegative,
    check_open_probability,
    check_probability,
    is_numeric,
)
from .distributions import Cycle, DealSize
from .funnel import Funnel, check_funnel
from .i18n import FunnelsimValueError

__all__ = [
    "Moments",
    "back_calculate",
    "calls_for_expected",
    "calls_for_target",
    "compare_levers",
    "cv_floor",
    "prob_reach",
    "result_quantile",
    "revenue_cv",
    "revenue_moments",
    "sales_cv",
    "sales_moments",
    "variance_shares",
]


@dataclass(frozen=True)
class Moments:
    """Mean and variance of a count or amount, with ``std`` and ``cv``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> m = fs.theory.sales_moments(fs.Funnel(["calls", "sales"], [0.1]), 1000)
    >>> m.mean, round(m.var, 6)     # Binomial(1000, 0.1)
    (100.0, 90.0)
    >>> round(m.std, 3), round(m.cv, 4)
    (9.487, 0.0949)
    """

    mean: float
    var: float

    @property
    def std(self) -> float:
        """Standard deviation."""
        return math.sqrt(self.var)

    @property
    def cv(self) -> float:
        """Coefficient of variation (``std / mean``; NaN when the mean is 0)."""
        return self.std / self.mean if self.mean > 0 else math.nan


# ------------------------------------------------------------------ moments
def _schedule(calls: float | np.ndarray, first_period: int, periods: int) -> np.ndarray:
    if not is_numeric(calls):
        raise calls_error(calls)
    arr = np.atleast_1d(np.asarray(calls, dtype=float))
    if arr.ndim != 1:
        raise FunnelsimValueError(
            "error.calls_shape", shape=arr.shape, periods=first_period + periods, reps=1
        )
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise FunnelsimValueError("error.calls_value", value=calls, where="")
    if arr.size == 1:
        return np.full(first_period + periods, arr[0])
    if arr.size < first_period + periods:
        raise FunnelsimValueError(
            "error.calls_shape", shape=arr.shape, periods=first_period + periods, reps=1
        )
    return arr


def sales_moments(
    funnel: Funnel,
    calls: float | np.ndarray,
    *,
    periods: int = 1,
    cycle: Cycle | float | None = None,
    start: str = "steady",
    first_period: int = 0,
    rate_cv: float = 0.0,
) -> Moments:
    """Exact mean and variance of the deals closed in ``periods`` periods.

    Parameters
    ----------
    funnel : Funnel
    calls : float or array_like
        Calls per period, or a schedule with one value per period.
    periods : int
        Length of the window (1: one period; 4: a month of weeks).
    cycle : Cycle or float, optional
        Sales-cycle lag, as in :func:`funnelsim.simulate`.
    start : {"steady", "empty"}
        Whether calls were made before period 0 (at the first period's rate).
    first_period : int
        First period of the window.
    rate_cv : float
        How much the overall rate moves between periods (coefficient of
        variation of a rate drawn per period, as in
        :func:`funnelsim.simulate`); 0 keeps it fixed. Adds
        ``(rate_cv p)^2 sum_s n_s (n_s - 1) w_s^2`` to the variance (law of
        total variance, see the module's notes).

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.1])
    >>> m = fs.theory.sales_moments(f, 1000)
    >>> m.mean, round(m.var, 6)
    (100.0, 90.0)
    >>> m = fs.theory.sales_moments(f, 1000, rate_cv=0.2)   # 90 + 0.2^2 0.1^2 1000 999
    >>> m.mean, round(m.var, 6)
    (100.0, 489.6)
    """
    funnel = check_funnel(funnel)
    periods = check_count("periods", periods, minimum=1)
    first_period = check_count("first_period", first_period)
    start = check_choice("start", start, ("steady", "empty"))
    sched = _schedule(calls, first_period, periods)
    rate_cv = check_rate_cv(funnel, rate_cv)
    pmf = Cycle.coerce(cycle).pmf()
    lag_max = len(pmf) - 1
    p = funnel.overall
    # call periods s = -lag_max .. first_period + periods - 1
    s = np.arange(-lag_max, first_period + periods)
    n = np.where(s >= 0, sched[np.clip(s, 0, None)], sched[0] if start == "steady" else 0.0)
    cdf = np.concatenate([[0.0], np.cumsum(pmf)])

    def lag_prob(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:  # P(lo <= lag < hi)
        lo = np.clip(lo, 0, lag_max + 1)
        hi = np.clip(hi, 0, lag_max + 1)
        return np.clip(cdf[hi] - cdf[lo], 0.0, 1.0)

    w = lag_prob(first_period - s, first_period + periods - s)
    q = p * w
    extra = (rate_cv * p) ** 2 * float((n * (n - 1)) @ (w * w)) if rate_cv > 0 else 0.0
    return Moments(float(n @ q), float(n @ (q * (1 - q))) + extra)


def revenue_moments(
    funnel: Funnel,
    calls: float | np.ndarray,
    deal_size: DealSize | float | None,
    *,
    periods: int = 1,
    cycle: Cycle | float | None = None,
    start: str = "steady",
    first_period: int = 0,
    rate_cv: float = 0.0,
) -> Moments:
    """Exact mean and variance of revenue in a window (compound binomial).

    ``rate_cv`` as in :func:`sales_moments` (a rate that moves between periods).

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.1])
    >>> m = fs.theory.revenue_moments(f, 1000, fs.DealSize.gamma(10.0, cv=1.0))
    >>> m.mean, round(m.cv**2, 6)  # (1 - p + cv^2) / (n p) = 1.9 / 100
    (1000.0, 0.019)
    >>> m = fs.theory.revenue_moments(f, 1000, fs.DealSize.gamma(10.0, cv=1.0), rate_cv=0.2)
    >>> round(m.cv**2, 6)  # (1 - 0.1 * 1.04 + 1) / 100 + 0.04
    0.05896
    """
    funnel = check_funnel(funnel)
    s = sales_moments(
        funnel,
        calls,
        periods=periods,
        cycle=cycle,
        start=start,
        first_period=first_period,
        rate_cv=rate_cv,
    )
    size = DealSize.coerce(deal_size)
    if size is None:
        return s
    mu, var = size.mean, size.var
    return Moments(mu * s.mean, var * s.mean + mu * mu * s.var)


def sales_cv(
    funnel: Funnel,
    calls: float,
    *,
    periods: int = 1,
    cycle: Cycle | float | None = None,
    rate_cv: float = 0.0,
) -> float:
    """Coefficient of variation of sales per window: ``sqrt((1 - p) / (n p))`` without a cycle.

    With a rate that moves between periods (``rate_cv``, as in
    :func:`sales_moments`), ``CV^2 = (1 - p (1 + rate_cv^2)) / (n p) + rate_cv^2``
    in one period without a cycle.

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.01])
    >>> a = fs.theory.sales_cv(f, 1000)
    >>> round(1 - fs.theory.sales_cv(f, 2000) / a, 3)  # doubling calls: -29 %, not -50 %
    0.293
    >>> round(fs.theory.sales_cv(f, 1_000_000, rate_cv=0.2), 4)  # a million calls: the floor
    0.2002
    """
    funnel = check_funnel(funnel)
    return sales_moments(funnel, calls, periods=periods, cycle=cycle, rate_cv=rate_cv).cv


def revenue_cv(
    funnel: Funnel,
    calls: float,
    deal_size: DealSize | float | None,
    periods: int = 1,
    *,
    cycle: Cycle | float | None = None,
    rate_cv: float = 0.0,
) -> float:
    """Coefficient of variation of revenue over ``periods`` periods.

    Without a cycle, ``CV^2 = (1 - p + cv_size^2) / (n periods p)``. With a
    rate that moves between periods (``rate_cv``: the coefficient of variation
    of the overall rate drawn per period, as in :func:`funnelsim.simulate`),
    by the law of total variance (derivation in the module's notes)

        CV^2 = (1 - p (1 + rate_cv^2) + cv_size^2) / (n periods p) + rate_cv^2 / periods,

    which falls to ``rate_cv / sqrt(periods)`` however many calls are made
    (:func:`cv_floor`); the deal size adds nothing to the rate's term.

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.02])
    >>> round(fs.theory.revenue_cv(f, 500, fs.DealSize.gamma(1.0, cv=1.0)), 4)
    0.445
    >>> round(fs.theory.revenue_cv(f, 500, fs.DealSize.gamma(1.0, cv=1.0), rate_cv=0.2), 4)
    0.4878
    """
    funnel = check_funnel(funnel)
    return revenue_moments(
        funnel, calls, deal_size, periods=periods, cycle=cycle, rate_cv=rate_cv
    ).cv


def cv_floor(
    funnel: Funnel,
    rate_cv: float,
    *,
    periods: int = 1,
    cycle: Cycle | float | None = None,
) -> float:
    """The relative noise (CV) that no number of calls gets below: the floor.

    The limit of :func:`sales_cv` and :func:`revenue_cv` as the calls per
    period grow without bound, when the overall rate moves between periods
    with coefficient of variation ``rate_cv``. Without a cycle it is
    ``rate_cv / sqrt(periods)``; with a cycle, a window's deals come from
    several call periods with their own rates, so
    ``rate_cv * sqrt(sum_s w_s^2) / sum_s w_s`` (``w_s``: the chance that a
    deal of call period ``s`` closes in the window; a steady pipeline).

    Parameters
    ----------
    funnel : Funnel
    rate_cv : float
        Coefficient of variation of the overall rate between periods.
    periods : int
        Length of the window.
    cycle : Cycle or float, optional

    Returns
    -------
    float
        The floor (0 when ``rate_cv`` is 0; NaN when the funnel closes nothing).

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
    >>> fs.theory.cv_floor(f, 0.2), round(fs.theory.cv_floor(f, 0.2, periods=4), 6)
    (0.2, 0.1)
    >>> round(fs.theory.sales_cv(f, 10**8, rate_cv=0.2), 4)   # a hundred million calls
    0.2
    """
    funnel = check_funnel(funnel)
    periods = check_count("periods", periods, minimum=1)
    rate_cv = check_rate_cv(funnel, rate_cv)
    if funnel.overall == 0:
        return math.nan
    pmf = Cycle.coerce(cycle).pmf()
    lag_max = len(pmf) - 1
    cdf = np.concatenate([[0.0], np.cumsum(pmf)])
    s = np.arange(-lag_max, periods)  # call periods that can close in periods 0 .. periods - 1
    lo = np.clip(-s, 0, lag_max + 1)
    hi = np.clip(periods - s, 0, lag_max + 1)
    w = np.clip(cdf[hi] - cdf[lo], 0.0, 1.0)
    return float(rate_cv * math.sqrt(float(w @ w)) / float(w.sum()))


# ---------------------------------------------------------------- targets
def _deal_range(n_calls: float, p: float) -> np.ndarray:
    """Support of Binomial(n_calls, p) that carries all but 1e-14 of the mass."""
    n = int(n_calls)
    if n == 0 or p == 0:
        return np.array([0])
    lo = int(stats.binom.ppf(1e-15, n, p))
    hi = int(stats.binom.isf(1e-15, n, p)) + 1
    return np.arange(max(lo, 0), min(hi, n) + 1)


def _prob_total(n_calls: int, p: float, target: float, size: DealSize | None) -> float:
    if size is None:
        need = math.ceil(target - 1e-9)
        return float(stats.binom.sf(need - 1, n_calls, p)) if need > 0 else 1.0
    if target <= 0:
        return 1.0
    return _reach(*_deal_weights(n_calls, p), size, target)


def _deal_weights(n_calls: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """The deal counts Binomial(n_calls, p) can take, and their probabilities."""
    deals = _deal_range(n_calls, p)
    return deals, stats.binom.pmf(deals, n_calls, p)


def _reach(deals: np.ndarray, weights: np.ndarray, size: DealSize, amount: float) -> float:
    """P(revenue >= amount): each deal count's chance that its deals add up to ``amount``."""
    return float(np.clip(weights @ size.sum_sf(deals, amount), 0.0, 1.0))


def prob_reach(
    funnel: Funnel,
    calls: float,
    target: float,
    *,
    deal_size: DealSize | float | None = None,
    periods: int = 1,
) -> float:
    """Probability that the calls of ``periods`` periods reach ``target``.

    ``target`` is in deals when ``deal_size`` is None, in money otherwise.
    Deals are ``Binomial(calls * periods, p)`` (exact). Revenue sums a random
    deal size per deal: exact for fixed and gamma sizes; for log-normal and
    band sizes the sum of ``k`` deals is taken as a gamma with the same mean
    and variance. Checked against simulation in ``tests/test_theory.py``, that
    is within about 0.01 in probability once about 20 deals are expected and
    the deal-size cv is at most 1; with fewer deals, lumpy band values or
    heavier tails it is off by more (about 0.02 at a log-normal cv of 1.5,
    0.02 to 0.08 at cv 2, 0.05 with 2 expected deals of the decks' band
    values): simulate there.

    Examples
    --------
    Planning on averages hits the target only about half the time:

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.05])
    >>> round(fs.theory.prob_reach(f, 1000, 50), 3)
    0.52
    """
    funnel = check_funnel(funnel)
    n = check_count("calls", calls)
    periods = check_count("periods", periods, minimum=1)
    target = check_nonnegative("target", target)
    return _prob_total(n * periods, funnel.overall, target, DealSize.coerce(deal_size))


def result_quantile(
    funnel: Funnel,
    calls: float,
    q: float,
    *,
    deal_size: DealSize | float | None = None,
    periods: int = 1,
) -> float:
    """The ``q`` quantile of the sales (or revenue) that the calls of ``periods`` periods bring.

    Sales (``deal_size`` None) are ``Binomial(calls * periods, p)``: the
    smallest count whose cumulative probability reaches ``q``. Revenue is the
    amount ``x`` that is reached with probability ``1 - q``
    (:func:`prob_reach` inverted; 0 when no deal at all happens in more than
    ``q`` of the plans), as exact as :func:`prob_reach`. The binomial weights
    are computed once, so the search costs a few milliseconds.

    Examples
    --------
    Where 8 plans in 10 land: 1,000 calls at 5 %, deals of 10,000 give or
    take half:

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.05])
    >>> fs.theory.result_quantile(f, 1000, 0.1), fs.theory.result_quantile(f, 1000, 0.9)
    (41.0, 59.0)
    >>> size = fs.DealSize.gamma(10_000, cv=0.5)
    >>> round(fs.theory.result_quantile(f, 1000, 0.1, deal_size=size), -3)
    402000.0
    """
    funnel = check_funnel(funnel)
    n = check_count("calls", calls) * check_count("periods", periods, minimum=1)
    q = check_probability("q", q)
    size = DealSize.coerce(deal_size)
    p = funnel.overall
    if size is None:
        return float(stats.binom.ppf(q, n, p))
    deals, weights = _deal_weights(n, p)  # once, for every step of the search

    def reach(amount: float) -> float:
        return _reach(deals, weights, size, amount)

    floor = 1e-12 * max(size.mean, 1.0)
    if reach(floor) <= 1 - q:
        return 0.0  # no deal at all in more than q of the plans
    m = revenue_moments(funnel, n, size)
    high = m.mean + 10 * m.std + size.mean
    return float(
        optimize.brentq(lambda x: reach(x) - (1 - q), floor, high, xtol=1e-6 * max(m.mean, 1.0))
    )


def calls_for_target(
    funnel: Funnel,
    target: float,
    probability: float,
    *,
    deal_size: DealSize | float | None = None,
    periods: int = 1,
) -> int:
    """Fewest calls per period so the target over ``periods`` periods is reached
    with at least ``probability``.

    Sales (``deal_size`` None) use the exact binomial tail; revenue uses
    :func:`prob_reach` (exact for fixed and gamma deal sizes). The search is a
    bisection on a probability that rises with calls, so the answer is the
    exact minimum for the model used.

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.05])
    >>> fs.theory.calls_for_expected(f, 50)
    1000
    >>> fs.theory.calls_for_target(f, 50, 0.9)
    1180
    """
    funnel = check_funnel(funnel)
    target = check_nonnegative("target", target)
    probability = check_open_probability("probability", probability)
    periods = check_count("periods", periods, minimum=1)
    size = DealSize.coerce(deal_size)
    p = funnel.overall
    if target == 0:
        return 0
    if p == 0 or (size is not None and size.mean == 0):
        raise FunnelsimValueError("error.target_unreachable", funnel=repr(funnel))

    def ok(n: int) -> bool:
        return _prob_total(n * periods, p, target, size) >= probability

    lo, hi = 0, max(1, calls_for_expected(funnel, target, deal_size=size, periods=periods))
    while not ok(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # invariant: not ok(lo) or lo == 0, ok(hi)
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return 0 if ok(0) else hi


def calls_for_expected(
    funnel: Funnel,
    target: float,
    *,
    deal_size: DealSize | float | None = None,
    periods: int = 1,
) -> int:
    """Calls per period whose *expected* result equals the target (rounded up).

    The target is in deals, or in money when ``deal_size`` is given, over
    ``periods`` periods. Half the time the result falls short: to reach the
    target with a given chance, use :func:`calls_for_target`.

    Examples
    --------
    The daily ratio game needs 120 dials per sale:

    >>> import funnelsim as fs
    >>> game = fs.Funnel(["dials", "connects", "meetings", "sales"], [7/15, 1/7, 1/8])
    >>> fs.theory.calls_for_expected(game, 10)             # 10 sales in one period
    1200
    >>> fs.theory.calls_for_expected(game, 10, periods=5)  # ... spread over 5 days
    240
    >>> fs.theory.calls_for_expected(game, 100_000, deal_size=5_000, periods=4)
    600
    """
    funnel = check_funnel(funnel)
    target = check_nonnegative("target", target)
    periods = check_count("periods", periods, minimum=1)
    size = DealSize.coerce(deal_size)
    per_call = funnel.overall * (1.0 if size is None else size.mean)
    if per_call == 0:
        raise FunnelsimValueError("error.target_unreachable", funnel=repr(funnel))
    return math.ceil(target / (per_call * periods) - 1e-9)


# ------------------------------------------------------- back-calculation
def back_calculate(
    funnel: Funnel,
    target: float,
    *,
    deal_size: DealSize | float | None = None,
) -> pd.DataFrame:
    """The decks' back-calculation: deals needed, then each earlier stage.

    Deals needed are ``ceil(target / mean deal size)`` (``target`` deals when
    ``deal_size`` is None); each earlier stage divides by its ratio and rounds
    up, as the decks do. ``expected`` is the same chain without rounding.

    The deal values used are stated in the frame's ``attrs``: ``deal_mean``
    (the mean deal size divided into the target; 1 when counting deals),
    ``deal_size`` (the model's repr, or None) and ``deal_values`` (the
    in-band values of a band model, an assumption when the decks give only
    the bands; the amount of a fixed size; empty otherwise).

    Examples
    --------
    >>> import funnelsim as fs
    >>> pre = fs.presets.get("target back-calculation")
    >>> tab = fs.theory.back_calculate(pre.funnel, 500_000, deal_size=pre.deal_size)
    >>> tab["needed"].tolist()
    [408, 102, 51, 38]
    >>> tab.attrs["deal_values"], round(tab.attrs["deal_mean"])
    ((5000.0, 15000.0, 35000.0, 55000.0), 13388)
    """
    funnel = check_funnel(funnel)
    target = check_nonnegative("target", target)
    size = DealSize.coerce(deal_size)
    mean = 1.0 if size is None else size.mean
    if mean == 0:
        raise FunnelsimValueError("error.target_unreachable", funnel=repr(funnel))
    exact = [target / mean]
    needed = [math.ceil(exact[0] - 1e-9)]
    for r in reversed(funnel.ratios):
        if r == 0:
            raise FunnelsimValueError("error.target_unreachable", funnel=repr(funnel))
        exact.append(exact[-1] / r)
        needed.append(math.ceil(needed[-1] / r - 1e-9))
    frame = pd.DataFrame(
        {"stage": list(funnel.stages), "needed": needed[::-1], "expected": exact[::-1]}
    )
    frame.attrs.update(_deal_statement(size, mean))
    return frame


def _deal_statement(size: DealSize | None, mean: float) -> dict[str, object]:
    """Which deal values a back-calculation used (for a frame's ``attrs``)."""
    if size is None:
        values: tuple[float, ...] = ()
    elif size.kind == "fixed":
        values = (float(size.params[0]),)
    else:
        values = tuple(float(v) for v in size.values)
    return {
        "deal_mean": float(mean),
        "deal_size": None if size is None else repr(size),
        "deal_values": values,
    }


# --------------------------------------------------------------- levers
def variance_shares(funnel: Funnel) -> pd.Series:
    """Each step's share of the variance of sales (law of total variance).

    The step into stage ``k + 1`` contributes
    ``n * reach_k * r_k (1 - r_k) * (product of later ratios)^2``; the
    contributions add up to ``n p (1 - p)``, so the shares do not depend on
    ``n``. Low ratios late in the funnel make most of the noise.

    >>> import funnelsim as fs
    >>> fs.variance_shares(fs.Funnel(["a", "b", "c"], [0.5, 0.1])).round(3).tolist()
    [0.053, 0.947]
    """
    funnel = check_funnel(funnel)
    r = np.asarray(funnel.ratios)
    reach = funnel.reach[:-1]
    later = np.array([math.prod(funnel.ratios[k + 1 :]) for k in range(len(r))])
    contrib = reach * r * (1 - r) * later**2
    total = contrib.sum()
    shares = contrib / total if total > 0 else np.full(len(r), np.nan)
    return pd.Series(
        shares, index=pd.Index(funnel.stages[1:], name="stage"), name="variance_share"
    )


def compare_levers(
    funnel: Funnel,
    calls: float,
    *,
    extra_calls: float,
    stage: str | int,
    new_ratio: float,
    deal_size: DealSize | float | None = None,
    target: float | None = None,
    periods: int = 1,
) -> pd.DataFrame:
    """The volume lever against the ratio lever.

    Rows: ``baseline``, ``volume`` (``calls + extra_calls``) and ``ratio``
    (the ratio into ``stage`` set to ``new_ratio``). Columns: ``calls``,
    ``overall``, ``expected`` (sales or revenue over ``periods``), ``cv``,
    ``gain`` (relative to the baseline) and, with a target, ``p_target``.

    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> tab = fs.compare_levers(game, 15, extra_calls=15, stage="connects", new_ratio=8/15)
    >>> tab["gain"].round(3).tolist()
    [0.0, 1.0, 0.143]
    """
    funnel = check_funnel(funnel)
    calls = check_nonnegative("calls", calls, integer=True)
    extra_calls = check_nonnegative("extra_calls", extra_calls, integer=True)
    check_probability("new_ratio", new_ratio)
    size = DealSize.coerce(deal_size)
    options = {
        "baseline": (funnel, calls),
        "volume": (funnel, calls + extra_calls),
        "ratio": (funnel.with_ratio(stage, new_ratio), calls),
    }
    rows = []
    for name, (f, n) in options.items():
        m = revenue_moments(f, n, size, periods=periods)
        row = {"lever": name, "calls": n, "overall": f.overall, "expected": m.mean, "cv": m.cv}
        if target is not None:
            row["p_target"] = prob_reach(f, n, target, deal_size=size, periods=periods)
        rows.append(row)
    frame = pd.DataFrame(rows)
    base = frame.loc[0, "expected"]
    frame.insert(4, "gain", frame["expected"] / base - 1 if base > 0 else np.nan)
    return frame
