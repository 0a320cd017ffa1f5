"""The computation behind notebooks 01-02 (the numbers game), as pure functions.

Each function here takes plain numbers (and funnels, cycles, deal sizes),
returns a small frozen result with a readable ``repr`` and a tidy
``.to_frame()``, and never touches matplotlib or ipywidgets. The notebooks
plot the results with :mod:`funnelsim.plotting`; the apps in
:mod:`funnelsim.widgets` call the same functions on every slider move; the
tests call them directly.

========================  =====================================================
:func:`running_share`     01: the share of successes settling down to ``p``
:func:`noise_by_volume`   01, 03: relative noise (CV) against calls, with theory
:func:`ratio_game`        02: the 15-7-1 game, two levers, the back-calculation
:func:`equal_effort`      02: the same push on every lever: volume, ratios, deal size
========================  =====================================================

Randomness comes in only through the ``rng`` keyword (a
:class:`numpy.random.Generator`, a seed, or None), normalised once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import theory
from .._validate import (
    check_count,
    check_nonnegative,
    check_open_probability,
    check_probability,
    check_rng,
)
from ..distributions import DealSize
from ..funnel import Funnel, check_funnel
from ..i18n import FunnelsimValueError, t
from ..intervals import two_sided_z
from ..simulation import simulate
from ._common import RNG, check_work, cv_of, num_text

__all__ = [
    "EqualEffort",
    "NoiseByVolume",
    "RatioGame",
    "RunningShare",
    "equal_effort",
    "noise_by_volume",
    "ratio_game",
    "running_share",
]


# ------------------------------------------------------------ running share
@dataclass(frozen=True, repr=False, eq=False)
class RunningShare:
    """Result of :func:`running_share`.

    Attributes
    ----------
    p : float
        Chance of success of one call.
    confidence_level : float
        Coverage of the theory band.
    calls : ndarray, shape (n,)
        ``1, 2, ..., n``: calls made so far.
    shares : ndarray, shape (reps, n)
        Share of successes after each call, one row per rep.
    low, high : ndarray, shape (n,)
        Theory band ``p -/+ z sqrt(p (1 - p) / k)`` after ``k`` calls,
        clipped to [0, 1].

    Examples
    --------
    >>> import funnelsim as fs
    >>> res = fs.lessons.running_share(0.5, 4, reps=2, rng=7)
    >>> res.shares            # two reps, four coin-flip calls each
    array([[0.        , 0.        , 0.        , 0.25      ],
           [1.        , 0.5       , 0.66666667, 0.5       ]])
    >>> res.final.tolist(), res.n, res.reps
    ([0.25, 0.5], 4, 2)
    """

    p: float
    confidence_level: float
    calls: np.ndarray
    shares: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def n(self) -> int:
        """Calls per rep."""
        return int(self.calls[-1])

    @property
    def reps(self) -> int:
        """Number of reps (sequences of calls)."""
        return self.shares.shape[0]

    @property
    def final(self) -> np.ndarray:
        """Each rep's share after the last call."""
        return self.shares[:, -1]

    @property
    def final_range(self) -> tuple[float, float]:
        """The lowest and the highest rep's share after the last call.

        >>> import funnelsim as fs
        >>> fs.lessons.running_share(0.5, 1000, reps=10, rng=7).final_range
        (0.451, 0.544)
        """
        return float(self.final.min()), float(self.final.max())

    @property
    def half_width(self) -> float:
        """Half-width of the theory band after the last call."""
        return float(
            two_sided_z(self.confidence_level) * math.sqrt(self.p * (1 - self.p) / self.n)
        )

    @property
    def inside(self) -> float:
        """Share of reps whose final share lies inside the band (about ``confidence_level``)."""
        final = self.final
        return float(np.mean((final >= self.low[-1]) & (final <= self.high[-1])))

    def to_frame(self) -> pd.DataFrame:
        """One row per rep and call: ``rep``, ``calls``, ``share``, ``low``, ``high``.

        >>> import funnelsim as fs
        >>> fs.lessons.running_share(0.5, 4, reps=2, rng=7).to_frame().round(3)
           rep  calls  share   low  high
        0    0      1  0.000  0.00  1.00
        1    0      2  0.000  0.00  1.00
        2    0      3  0.000  0.00  1.00
        3    0      4  0.250  0.01  0.99
        4    1      1  1.000  0.00  1.00
        5    1      2  0.500  0.00  1.00
        6    1      3  0.667  0.00  1.00
        7    1      4  0.500  0.01  0.99
        """
        reps, n = self.shares.shape
        return pd.DataFrame(
            {
                "rep": np.repeat(np.arange(reps), n),
                "calls": np.tile(self.calls, reps),
                "share": self.shares.ravel(),
                "low": np.tile(self.low, reps),
                "high": np.tile(self.high, reps),
            }
        )

    def __repr__(self) -> str:
        return t(
            "repr.running_share",
            p=self.p,
            reps=self.reps,
            n=self.n,
            share=float(self.final.mean()),
            inside=self.inside,
            half=self.half_width,
            level=self.confidence_level,
        )


def running_share(
    p: float,
    n: int,
    reps: int = 1,
    *,
    confidence_level: float = 0.95,
    rng: RNG = None,
) -> RunningShare:
    """Share of successes after each of ``n`` calls, for ``reps`` reps.

    Every call succeeds with probability ``p`` (a coin flip, a connect, a
    sale), independently. After ``k`` calls the share of successes is a
    binomial proportion: it wanders early on and settles towards ``p``, with a
    spread of ``sqrt(p (1 - p) / k)``, which halves only when the calls are
    multiplied by four.

    Parameters
    ----------
    p : float
        Chance that one call succeeds, in [0, 1].
    n : int
        Calls per rep (>= 1).
    reps : int
        Independent sequences side by side (>= 1).
    confidence_level : float
        Coverage of the theory band (0.95: 95 % of reps inside it).
    rng : numpy.random.Generator, int or None
        Source of randomness; the same seed gives the same result.

    Returns
    -------
    RunningShare

    Examples
    --------
    Ten reps flip a coin 1,000 times each:

    >>> import funnelsim as fs
    >>> res = fs.lessons.running_share(0.5, 1000, reps=10, rng=7)
    >>> res.shares.shape
    (10, 1000)
    >>> res.final.round(3).tolist()
    [0.502, 0.511, 0.483, 0.517, 0.544, 0.495, 0.451, 0.487, 0.5, 0.493]
    >>> round(res.half_width, 3)   # 1.96 * sqrt(0.5 * 0.5 / 1000)
    0.031
    """
    p = check_probability("p", p)
    n = check_count("n", n, minimum=1)
    reps = check_count("reps", reps, minimum=1)
    z = two_sided_z(confidence_level)
    check_work(reps, n)
    gen = check_rng(rng)
    hits = gen.random((reps, n)) < p
    calls = np.arange(1, n + 1)
    shares = np.cumsum(hits, axis=1) / calls
    half = z * np.sqrt(p * (1 - p) / calls)
    return RunningShare(
        p=p,
        confidence_level=float(confidence_level),
        calls=calls,
        shares=shares,
        low=np.clip(p - half, 0.0, 1.0),
        high=np.clip(p + half, 0.0, 1.0),
    )


# ----------------------------------------------------------- noise by volume


def _grid(calls: Sequence[float], points: int = 60) -> np.ndarray:
    lo, hi = max(1.0, min(calls) / 2), max(calls) * 2
    return np.unique(np.round(np.geomspace(lo, hi, points)))


@dataclass(frozen=True, repr=False, eq=False)
class NoiseByVolume:
    """Result of :func:`noise_by_volume`.

    Attributes
    ----------
    funnel : Funnel
    deal_size : DealSize or None
    reps : int
    points : DataFrame
        Simulated CV at each volume: ``calls``, ``series`` (``"sales"`` or
        ``"revenue"``), ``cv`` (simulated across reps), ``theory``.
    curve : DataFrame
        Theory CV on a fine grid of calls: ``calls``, ``series``, ``cv``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.noise_by_volume(game, [75, 300], reps=1000, rng=3)
    >>> res.points.round(2)       # four times the calls, half the noise
       calls series    cv  theory
    0   75.0  sales  1.26    1.26
    1  300.0  sales  0.63    0.63
    """

    funnel: Funnel
    deal_size: DealSize | None
    reps: int
    points: pd.DataFrame
    curve: pd.DataFrame

    def cv(self, series: str = "sales") -> pd.Series:
        """Simulated CV by calls for ``series`` (``"sales"`` or ``"revenue"``).

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.noise_by_volume(game, [75, 300], reps=1000, rng=3)
        >>> res.cv("sales").round(2)
        calls
        75.0     1.26
        300.0    0.63
        dtype: float64
        """
        rows = self.points[self.points["series"] == series]
        return pd.Series(rows["cv"].to_numpy(), index=pd.Index(rows["calls"], name="calls"))

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: ``calls``, ``series``, ``source`` (simulated/theory), ``cv``.

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.noise_by_volume(game, [75, 300], reps=1000, rng=3)
        >>> res.to_frame().round(2)
           calls series     source    cv
        0   75.0  sales  simulated  1.26
        1  300.0  sales  simulated  0.63
        2   75.0  sales     theory  1.26
        3  300.0  sales     theory  0.63
        """
        sim = self.points.assign(source="simulated")[["calls", "series", "source", "cv"]]
        th = self.points.assign(source="theory", cv=self.points["theory"])
        return pd.concat([sim, th[["calls", "series", "source", "cv"]]], ignore_index=True)

    def __repr__(self) -> str:
        sales = self.points[self.points["series"] == "sales"]
        pairs = ", ".join(
            f"{c:g}: {s:.3f} ({th:.3f})"
            for c, s, th in zip(sales["calls"], sales["cv"], sales["theory"], strict=True)
        )
        return t("repr.noise_by_volume", reps=self.reps, pairs=pairs)


def noise_by_volume(
    funnel: Funnel,
    calls: Sequence[int],
    reps: int = 2000,
    *,
    deal_size: DealSize | float | None = None,
    rng: RNG = None,
) -> NoiseByVolume:
    """Relative noise (coefficient of variation) of sales and revenue against volume.

    For each number of calls, ``reps`` reps each make that many calls through
    ``funnel`` once; the CV across reps (std / mean) is set beside the theory,
    :func:`funnelsim.theory.sales_cv` and :func:`funnelsim.theory.revenue_cv`:
    ``sqrt((1 - p) / (n p))`` for sales, ``sqrt((1 - p + cv_size^2) / (n p))``
    for revenue. Both fall like ``1 / sqrt(n)``: doubling the calls cuts the
    noise by 29 %, not 50 %. That holds for a rate that stands still; one that
    moves between periods adds ``rate_cv^2`` to ``CV^2``, a floor no volume gets
    below (:func:`funnelsim.lessons.noise_floor`, :func:`funnelsim.lessons.floor_from_log`,
    notebooks 03 and 07).

    Parameters
    ----------
    funnel : Funnel
    calls : sequence of int
        Volumes to compare (calls per period, each >= 1).
    reps : int
        Reps per volume (>= 2).
    deal_size : DealSize or float, optional
        Amount of one deal; without it revenue is not reported.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    NoiseByVolume

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.noise_by_volume(game, [75, 300, 1200], reps=4000, rng=3)
    >>> res.cv("sales").round(2).tolist()         # four times the calls, half the noise
    [1.26, 0.62, 0.31]
    >>> res.points["theory"].round(2).tolist()
    [1.26, 0.63, 0.31]
    """
    funnel = check_funnel(funnel)
    arr = np.asarray(calls, dtype=float).ravel()
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr < 1) or np.any(arr != arr.round()):
        raise FunnelsimValueError("error.calls_list", value=list(np.asarray(calls).ravel()))
    reps = check_count("reps", reps, minimum=2)
    check_work(reps, arr.size * funnel.n_stages)
    size = DealSize.coerce(deal_size)
    # One simulation: each volume is one "period" without a cycle, so periods are independent.
    sim = simulate(
        funnel, arr.astype(np.int64), periods=arr.size, reps=reps, deal_size=size, rng=rng
    )
    series = {"sales": sim.sales}
    if size is not None:
        series["revenue"] = sim.revenue

    def theory_cv(name: str, n: float) -> float:
        if name == "sales":
            return theory.sales_cv(funnel, n)
        return theory.revenue_cv(funnel, n, size)

    points, curve = [], []
    grid = _grid(arr.tolist())
    for name, values in series.items():
        points.append(
            pd.DataFrame(
                {
                    "calls": arr,
                    "series": name,
                    "cv": cv_of(values),
                    "theory": [theory_cv(name, n) for n in arr],
                }
            )
        )
        curve.append(
            pd.DataFrame({"calls": grid, "series": name, "cv": [theory_cv(name, n) for n in grid]})
        )
    return NoiseByVolume(
        funnel,
        size,
        reps,
        pd.concat(points, ignore_index=True),
        pd.concat(curve, ignore_index=True),
    )


# ------------------------------------------------------------- ratio game
@dataclass(frozen=True, repr=False, eq=False)
class RatioGame:
    """Result of :func:`ratio_game`.

    Attributes
    ----------
    funnel : Funnel
    calls : int
        First-stage volume per period (dials a day).
    periods : int
        Periods in the plan (working days).
    target : float
        Sales (deals) over the plan, or revenue when ``deal_size`` is given.
    deal_size : DealSize or None
    probability : float
        How sure the "sure" plan must be (0.9).
    expected : Series
        Expected count at each stage over the plan, at ``calls`` per period.
    back : DataFrame
        The decks' back-calculation from the target
        (:func:`funnelsim.back_calculate`): ``stage``, ``needed``, ``expected``.
    levers : DataFrame
        The volume lever against the ratio lever
        (:func:`funnelsim.compare_levers`), with ``p_target``.
    extra_calls : int
        Calls the volume lever adds per period.
    lever_stage : str
        Stage whose incoming ratio the ratio lever improves.
    new_ratio : float
        That ratio after the improvement.
    p_current : float
        Chance that ``calls`` per period reach the target.
    plan_calls : int
        Calls per period of the plan built on averages: the back-calculated
        first stage spread over the periods, rounded up.
    p_plan : float
        Chance that the plan built on averages reaches the target (about one
        half).
    sure_calls : int
        Fewest calls per period that reach the target with ``probability``
        (:func:`funnelsim.calls_for_target`).
    equal_effort : EqualEffort
        What the same push (``effort``, +10 % by default) on volume, on each
        ratio and on the deal size buys (:func:`equal_effort`): the fair
        comparison of the levers.

    Examples
    --------
    15 dials a day for 250 working days, against 50 sales:

    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.ratio_game(game, 15, target=50, periods=250)
    >>> res.expected.round(2).tolist()       # dials, connects, meetings, sales
    [3750.0, 1750.0, 250.0, 31.25]
    >>> res.lever_stage, round(res.new_ratio, 3), res.extra_calls
    ('connects', 0.533, 15)
    >>> res.plan_calls, round(res.p_plan, 3), res.sure_calls
    (24, 0.519, 29)
    """

    funnel: Funnel
    calls: int
    periods: int
    target: float
    deal_size: DealSize | None
    probability: float
    expected: pd.Series
    back: pd.DataFrame
    levers: pd.DataFrame
    extra_calls: int
    lever_stage: str
    new_ratio: float
    p_current: float
    plan_calls: int
    p_plan: float
    sure_calls: int
    equal_effort: EqualEffort

    @property
    def margin(self) -> float:
        """Extra calls the sure plan needs over the plan built on averages (0.25: +25 %)."""
        return self.sure_calls / self.plan_calls - 1 if self.plan_calls > 0 else math.nan

    @property
    def expected_sales(self) -> float:
        """Expected sales (deals) over the plan at ``calls`` per period: the last stage of
        :attr:`expected` (31.25 for 15 dials a day over 250 days of the daily game)."""
        return float(self.expected.iloc[-1])

    @property
    def expected_result(self) -> float:
        """Expected sales (or revenue) over the plan at ``calls`` per period."""
        return float(self.levers.loc[0, "expected"])

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame by stage: ``stage``, ``quantity`` (``expected`` at your calls,
        ``needed`` for the target), ``value``.

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.ratio_game(game, 15, target=50, periods=250)
        >>> res.to_frame()
              stage  quantity    value
        0     dials  expected  3750.00
        1  connects  expected  1750.00
        2  meetings  expected   250.00
        3     sales  expected    31.25
        4     dials    needed  6000.00
        5  connects    needed  2800.00
        6  meetings    needed   400.00
        7     sales    needed    50.00
        """
        stages = list(self.funnel.stages)
        return pd.DataFrame(
            {
                "stage": stages * 2,
                "quantity": ["expected"] * len(stages) + ["needed"] * len(stages),
                "value": np.concatenate(
                    [self.expected.to_numpy(dtype=float), self.back["needed"].to_numpy(float)]
                ),
            }
        )

    def __repr__(self) -> str:
        return t(
            "repr.ratio_game",
            calls=self.calls,
            periods=self.periods,
            expected=num_text(self.expected_result),
            target=num_text(self.target),
            p_current=self.p_current,
            plan=self.plan_calls,
            p_plan=self.p_plan,
            probability=self.probability,
            sure=self.sure_calls,
            margin=self.margin,
        )


def ratio_game(
    funnel: Funnel,
    calls: int,
    *,
    target: float,
    periods: int = 1,
    deal_size: DealSize | float | None = None,
    extra_calls: int | None = None,
    stage: str | int | None = None,
    new_ratio: float | None = None,
    probability: float = 0.9,
    effort: float = 0.1,
) -> RatioGame:
    """The ratio game: what the calls give, the two levers, and what the target needs.

    Parameters
    ----------
    funnel : Funnel
    calls : int
        First-stage volume per period (15 dials a day).
    target : float
        What the plan must reach over ``periods``: sales (deals), or revenue
        when ``deal_size`` is given.
    periods : int
        Periods in the plan (250 working days: a year).
    deal_size : DealSize or float, optional
        Amount of one deal (a number is a fixed amount).
    extra_calls : int, optional
        The volume lever: calls added per period (default: ``calls``, twice
        the volume).
    stage : str or int, optional
        The ratio lever: the stage whose incoming ratio improves (default:
        the second stage, e.g. connects).
    new_ratio : float, optional
        The improved ratio (default: one more success per ``calls`` leads,
        ``ratio + 1 / calls``, capped at 1: 7 in 15 becomes 8 in 15).
    probability : float
        How sure the "sure" plan must be.
    effort : float
        The same push for every lever of :attr:`RatioGame.equal_effort`
        (0.1: +10 % more calls, or a 10 % better ratio, or 10 % larger deals).

    Returns
    -------
    RatioGame

    Examples
    --------
    The daily game: 15 dials a day for a year of 250 working days, against a
    target of 50 sales.

    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.ratio_game(game, 15, target=50, periods=250)
    >>> res.expected.round(2).tolist()            # dials, connects, meetings, sales
    [3750.0, 1750.0, 250.0, 31.25]
    >>> res.levers["gain"].round(3).tolist()      # baseline, 15 more dials, 8 connects in 15
    [0.0, 1.0, 0.143]
    >>> res.equal_effort.levers["gain"].round(3).tolist()  # the same +10 % on every lever
    [0.0, 0.1, 0.1, 0.1, 0.1]
    >>> res.plan_calls, round(res.p_plan, 3), res.sure_calls
    (24, 0.519, 29)
    """
    funnel = check_funnel(funnel)
    calls = check_count("calls", calls)
    periods = check_count("periods", periods, minimum=1)
    if target is None:
        raise FunnelsimValueError("error.nonnegative", name="target", value=None)
    probability = check_open_probability("probability", probability)
    size = DealSize.coerce(deal_size)
    extra = calls if extra_calls is None else check_count("extra_calls", extra_calls)
    lever_stage = funnel.stages[1] if stage is None else stage
    k = funnel.ratio_index(lever_stage)
    if new_ratio is None:
        step = 1 / calls if calls > 0 else 0.0
        new_ratio = min(1.0, funnel.ratios[k] + step)
    levers = theory.compare_levers(
        funnel,
        calls,
        extra_calls=extra,
        stage=lever_stage,
        new_ratio=new_ratio,
        deal_size=size,
        target=target,
        periods=periods,
    )
    back = theory.back_calculate(funnel, target, deal_size=size)
    plan_calls = math.ceil(int(back["needed"].iloc[0]) / periods - 1e-9)
    return RatioGame(
        funnel=funnel,
        calls=calls,
        periods=periods,
        target=float(target),
        deal_size=size,
        probability=probability,
        expected=funnel.expected(calls * periods),
        back=back,
        levers=levers,
        extra_calls=extra,
        lever_stage=funnel.stages[k + 1],
        new_ratio=float(new_ratio),
        p_current=float(levers.loc[0, "p_target"]),
        plan_calls=plan_calls,
        p_plan=theory.prob_reach(funnel, plan_calls, target, deal_size=size, periods=periods),
        sure_calls=theory.calls_for_target(
            funnel, target, probability, deal_size=size, periods=periods
        ),
        equal_effort=equal_effort(
            funnel, calls, target=target, periods=periods, deal_size=size, effort=effort
        ),
    )


# ------------------------------------------------------------ equal effort
#: The band :func:`equal_effort` reports around each lever's result: P10 to P90, 8 plans in 10
#: (at least 8 in 10 for whole-number sales).
_BAND = (0.1, 0.9)


@dataclass(frozen=True, repr=False, eq=False)
class EqualEffort:
    """Result of :func:`equal_effort`.

    Attributes
    ----------
    funnel : Funnel
    calls : int
        First-stage volume per period today (dials a day).
    periods : int
        Periods in the plan (working days).
    effort : float
        The same relative push given to every lever (0.1: +10 %).
    target : float
        Sales over the plan, or revenue when ``deal_size`` is given.
    deal_size : DealSize or None
    levers : DataFrame
        One row per lever: ``lever`` (``"baseline"``, ``"volume"``, ``"ratio"``,
        ``"deal_size"``), ``stage`` (the stage a ratio lever leads into, ``""``
        otherwise), ``before`` and ``after`` (calls per period, the ratio, or
        the average deal; the baseline's are equal), ``expected`` (sales or
        revenue over the plan), ``gain`` (against the baseline), ``cv``
        (relative noise of the result over the plan), ``low`` and ``high``
        (P10 and P90: 8 plans in 10 land between them; at least 8 in 10 for
        whole-number sales), ``p_target``.
    work : DataFrame
        Expected leads at each stage over the plan, lever by lever: ``lever``,
        ``changed`` (the lever's ``stage``), ``stage``, ``expected``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.equal_effort(game, 24, target=50, periods=250)
    >>> res.levers[["lever", "stage", "expected", "gain", "p_target"]].round(3)
          lever     stage  expected  gain  p_target
    0  baseline               50.0   0.0     0.519
    1    volume               55.0   0.1     0.769
    2     ratio  connects     55.0   0.1     0.769
    3     ratio  meetings     55.0   0.1     0.769
    4     ratio     sales     55.0   0.1     0.769
    """

    funnel: Funnel
    calls: int
    periods: int
    effort: float
    target: float
    deal_size: DealSize | None
    levers: pd.DataFrame
    work: pd.DataFrame

    def lever(self, lever: str, stage: str = "") -> pd.Series:
        """One row of :attr:`levers`: ``lever("volume")``, ``lever("ratio", "sales")``.

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.equal_effort(game, 24, target=50, periods=250)
        >>> float(res.lever("ratio", "sales")["after"])   # 1 meeting in 8 -> 1.1 in 8
        0.1375
        """
        rows = self.levers[(self.levers["lever"] == lever) & (self.levers["stage"] == stage)]
        if rows.empty:
            choices = ", ".join(
                f"{a} {b}".strip()
                for a, b in zip(self.levers["lever"], self.levers["stage"], strict=True)
            )
            raise FunnelsimValueError(
                "error.choice",
                name="lever",
                value=repr(f"{lever} {stage}".strip()),
                choices=choices,
            )
        return rows.iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The levers, one row each (a copy of :attr:`levers`): tidy, ready for a chart.

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.equal_effort(game, 24, target=50, periods=250)
        >>> res.to_frame()[["lever", "stage", "low", "high"]]
              lever     stage   low  high
        0  baseline            41.0  59.0
        1    volume            46.0  65.0
        2     ratio  connects  46.0  65.0
        3     ratio  meetings  46.0  65.0
        4     ratio     sales  46.0  65.0
        """
        return self.levers.copy()

    def __repr__(self) -> str:
        base = self.levers.iloc[0]
        gains = self.levers["gain"].iloc[1:]
        chances = self.levers["p_target"].iloc[1:]
        return t(
            "repr.equal_effort",
            calls=self.calls,
            periods=self.periods,
            effort=self.effort,
            levers=len(self.levers) - 1,
            expected=num_text(float(base["expected"])),
            target=num_text(self.target),
            p=float(base["p_target"]),
            gain_low=float(gains.min()),
            gain_high=float(gains.max()),
            p_low=float(chances.min()),
            p_high=float(chances.max()),
        )


def equal_effort(
    funnel: Funnel,
    calls: int,
    *,
    target: float,
    periods: int = 1,
    deal_size: DealSize | float | None = None,
    effort: float = 0.1,
) -> EqualEffort:
    """What the same extra effort buys through volume, each ratio and the deal size.

    Every lever gets the same relative push, ``effort`` (0.1: +10 %): 10 %
    more calls; or one ratio 10 % better (capped at 1), one at a time; or
    deals 10 % larger on average. Sales are ``Binomial(N, p)`` for ``N``
    calls at the overall rate ``p``, so each lever multiplies the expected
    result by the same ``1 + effort``. Where they differ is the spread, and
    so the chance of reaching the target:

    * more volume (``N`` up) and a better ratio (``p`` up) both bring more
      deals, which average out: the relative noise falls by
      ``sqrt(1 + effort)`` (a ratio a touch more, since ``1 - p`` falls too);
    * a bigger deal size scales every outcome: the relative noise stays;
    * a ratio gives the same sales whichever stage it leads into (only the
      product of the ratios counts), but the stages before the sale differ:
      a better early ratio fills the later stages (more meetings to hold), a
      better closing ratio makes the same meetings pay more (:attr:`~EqualEffort.work`).

    Parameters
    ----------
    funnel : Funnel
    calls : int
        First-stage volume per period today (dials a day).
    target : float
        What the plan must reach over ``periods``: sales, or revenue when
        ``deal_size`` is given.
    periods : int
        Periods in the plan (250 working days: a year).
    deal_size : DealSize or float, optional
        Amount of one deal; with it the deal-size lever is shown too.
    effort : float
        The push every lever gets, as a share (>= 0).

    Returns
    -------
    EqualEffort

    Notes
    -----
    The volume lever rounds the plan's calls, ``calls * periods * (1 +
    effort)``, to a whole number. Chances and bands are exact for sales and
    for fixed or gamma deal sizes (:func:`funnelsim.theory.prob_reach`).

    Examples
    --------
    The plan of the daily game (24 dials a day for 250 days) against 50 sales
    of 10,000 each:

    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.equal_effort(game, 24, target=500_000, periods=250,
    ...                               deal_size=fs.DealSize.gamma(10_000, cv=0.5))
    >>> res.levers[["lever", "stage", "gain", "cv", "p_target"]].round(3)
           lever     stage  gain     cv  p_target
    0   baseline            0.0  0.158     0.487
    1     volume            0.1  0.150     0.721
    2      ratio  connects  0.1  0.150     0.721
    3      ratio  meetings  0.1  0.150     0.721
    4      ratio     sales  0.1  0.150     0.721
    5  deal_size            0.1  0.158     0.711
    """
    funnel = check_funnel(funnel)
    calls = check_count("calls", calls)
    periods = check_count("periods", periods, minimum=1)
    if target is None:
        raise FunnelsimValueError("error.nonnegative", name="target", value=None)
    target = check_nonnegative("target", target)
    effort = check_nonnegative("effort", effort)
    size = DealSize.coerce(deal_size)
    total = calls * periods
    push = 1.0 + effort
    # name, stage, before, after, funnel, calls over the plan, scale of every outcome
    options = [("baseline", "", calls, calls, funnel, total, 1.0)]
    options.append(("volume", "", calls, calls * push, funnel, round(total * push), 1.0))
    for k, r in enumerate(funnel.ratios):
        new = min(1.0, r * push)
        options.append(
            ("ratio", funnel.stages[k + 1], r, new, funnel.with_ratio(k, new), total, 1.0)
        )
    if size is not None:
        options.append(("deal_size", "", size.mean, size.mean * push, funnel, total, push))
    rows, work = [], []
    for name, stage, before, after, f, n, scale in options:
        m = theory.revenue_moments(f, n, size)
        rows.append(
            {
                "lever": name,
                "stage": stage,
                "before": float(before),
                "after": float(after),
                "expected": scale * m.mean,
                "cv": m.cv,
                "low": scale * theory.result_quantile(f, n, _BAND[0], deal_size=size),
                "high": scale * theory.result_quantile(f, n, _BAND[1], deal_size=size),
                "p_target": theory.prob_reach(f, n, target / scale, deal_size=size),
            }
        )
        counts = f.expected(n)
        work.append(
            pd.DataFrame(
                {
                    "lever": name,
                    "changed": stage,
                    "stage": list(f.stages),
                    "expected": counts.to_numpy(dtype=float),
                }
            )
        )
    levers = pd.DataFrame(rows)
    base = levers.loc[0, "expected"]
    levers.insert(5, "gain", levers["expected"] / base - 1 if base > 0 else math.nan)
    return EqualEffort(
        funnel=funnel,
        calls=calls,
        periods=periods,
        effort=effort,
        target=target,
        deal_size=size,
        levers=levers,
        work=pd.concat(work, ignore_index=True),
    )
