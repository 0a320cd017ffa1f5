"""Call plans from fitted funnels: how many calls for a target, with the ratios' uncertainty.

:func:`plan_calls` answers the planning question ("how many calls per period
for this target, with this probability?") three ways, side by side: with the
ratios' uncertainty, on the point estimates (:func:`funnelsim.calls_for_target`),
and as the decks back-calculate it (target / average deal / ratios), with the
probability that each plan really delivers. Every chance is computed without
random draws where the fit allows it (see :func:`plan_calls`), so a plan does
not move with the seed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal, stats

from ._validate import (
    check_choice,
    check_count,
    check_nonnegative,
    check_open_probability,
    check_rng,
)
from .distributions import DealSize
from .estimate import Fit, fit
from .forecasting import PERIOD_UNITS, check_source, group_label, moves_of, moving_ratio_draws
from .funnel import Funnel
from .i18n import FunnelsimValueError, field_label, t
from .intervals import interval
from .logs import Log
from .overdispersion import Dispersion, period_factors
from .simulation import split_streams
from .theory import back_calculate, calls_for_expected, calls_for_target

__all__ = ["Plan", "plan_calls"]

TEAM = "team"  # the plan's row for the whole team (a fit), the same in every language
ALL = "all"  # the plan's only row for a funnel
_PLAN_DRAWS = 4000
_NODES = 256  # quantile nodes of the ratio draws when a plan mixes binomials
_MAX_CALLS = 2**40
_CELLS = 16_384  # grid cells across the widest step's log ratio (product_nodes)
_TAIL = 1e-12  # each step's grid spans its Beta quantiles from _TAIL to 1 - _TAIL
_BLOCK = 4_000_000  # probabilities per block when mixing binomials over many draws
MOVES_SEED = 20261205  # fixed seed of the moving-ratio draws: a plan does not move with rng
_MOVE_DRAWS = 20_000


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
    dispersion : Dispersion or None
        How the ratios moved between periods in the history, when the plan
        lets them move (``between``): ``calls``, ``p_point_plan`` and
        ``p_decks`` then include those moves. None when they stay fixed.

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
    dispersion: Dispersion | None = None

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
        if self.dispersion is not None:
            period = field_label(self.dispersion.period)
            lines.append(t("repr.note", note=t("note.plan_moving", period=period)))
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
    between: str | Dispersion | None = "auto",
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
    between : "auto", Dispersion or None, default "auto"
        Whether each period's ratios move as they did in the history, as in
        :func:`funnelsim.forecast`: ``"auto"`` reads the fit's log
        (:meth:`Fit.dispersion`) and changes nothing when its periods differ
        by chance only; a Dispersion uses that one (with a Funnel too); None
        keeps the ratios fixed over the periods.

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
    bisection.

    When the ratios move (``between``), each period ``t`` has its own overall
    rate ``P_t`` (the ratios times the period's factors,
    :func:`funnelsim.overdispersion.period_factors`) and the deals of the
    horizon are ``sum_t Binomial(n, P_t)``. The plan takes them as
    ``Binomial(periods * n, mean_t P_t)``, mixed over the distribution of
    the horizon's mean rate: exact for one period, and for more the same
    mean and a variance larger by ``n sum_t (P_t - mean P)**2`` (``p (1 - p)``
    is concave), a ``1/n`` share of what the moves add: the plan errs on the
    safe side, by at most a call a period in the cases checked. That distribution comes from
    ``_MOVE_DRAWS`` draws of the ratios and the factors with the fixed seed
    ``MOVES_SEED`` (256 midpoint quantiles), so the plan does not change
    with ``rng`` either. The decks' plan is ``ceil(first stage of back_calculate /
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
    src = check_source(fit_or_funnel, "plan_calls")
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
        rows = [(group_label(k), funnels[k], src.group(k)) for k in src.groups]
        team = _pooled(src)
        rows.append((TEAM, team.to_funnel(), team))
    streams = split_streams(gen, len(rows))
    moves = moves_of(src, between)

    out = []
    for (label, funnel, one), stream in zip(rows, streams, strict=True):
        chance = None
        if moves is not None:
            chance = _moving_chance(funnel, one, moves, periods, target, size)
        out.append(
            _plan_row(label, funnel, one, target, probability, periods, size, reps, stream, chance)
        )
    table = pd.DataFrame(out)
    for col in ("calls", "calls_point", "calls_expected", "calls_decks"):
        table[col] = table[col].astype("Int64")
    decks = back_calculate(rows[-1][1], target, deal_size=size)
    uncertain = not isinstance(src, Funnel)
    return Plan(table, decks, target, probability, periods, size, reps, uncertain, unit, moves)


def _plan_row(
    label, funnel, one, target, probability, periods, size, reps, rng, chance=None
) -> dict:
    point = calls_for_target(funnel, target, probability, deal_size=size, periods=periods)
    expected = calls_for_expected(funnel, target, deal_size=size, periods=periods)
    first = int(back_calculate(funnel, target, deal_size=size)["needed"].iloc[0])
    decks = math.ceil(first / periods)
    p_decks_point = mixed_prob_reach(decks * periods, np.array([funnel.overall]), target, size)
    row = {"group": label, "overall": funnel.overall}
    if one is None and chance is None:
        row.update(calls=pd.NA, calls_point=point, calls_expected=expected, calls_decks=decks)
        row.update(p_point_plan=_probability_at(point, periods, [funnel.overall], target, size))
        row.update(p_decks=p_decks_point, p_decks_point=p_decks_point)
        return row
    if chance is None:
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


def _moving_chance(funnel: Funnel, one: Fit | None, moves: Dispersion, periods, target, size):
    """``n_calls -> P(target reached)`` over a horizon whose periods move the ratios.

    The horizon's mean overall rate ``mean_t prod_j min(r_j f_tj, 1)``, with
    ``r`` drawn from the posteriors that know the moves (:func:`moving_ratio_draws`; the
    point ratios for a Funnel) and
    ``f`` from :func:`period_factors`, drawn ``_MOVE_DRAWS`` times with the
    fixed seed ``MOVES_SEED`` and reduced to 256 midpoint quantiles; then the
    binomial of all the horizon's calls mixed over them.
    """
    gen = np.random.default_rng(MOVES_SEED)
    rho = moves.rho_draws(_MOVE_DRAWS, gen)
    if one is None:
        point = np.asarray(funnel.ratios, float)
        ratios = np.broadcast_to(point, (_MOVE_DRAWS, point.size))
    else:
        ratios = moving_ratio_draws(one, moves, rho, gen)[None]
    factors = period_factors(moves.factor_means(), rho, (_MOVE_DRAWS, periods), gen)
    rates = np.minimum(ratios[:, None, :] * factors, 1.0).prod(axis=-1).mean(axis=1)
    nodes = _nodes(rates)
    return lambda n: mixed_prob_reach(n, nodes, target, size)


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
