"""The computation behind notebook 03 (revenue steadiness), as pure functions.

=============================  ==================================================
:func:`revenue_steadiness`     weekly and monthly fan charts, CV against calls
:func:`noise_floor`            a rate that moves: more calls stop helping
:func:`floor_from_log`         the floor a real log's history implies
:func:`cycle_effects`          a new rep's ramp-up and a pause in prospecting
=============================  ==================================================

Each takes plain numbers (a funnel, calls, a cycle, a deal size), returns a
small frozen result with a readable ``repr`` and a tidy ``.to_frame()``, and
never touches matplotlib or ipywidgets. Randomness comes in only through
``rng`` (a generator, a seed, or None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import theory
from .._validate import check_count, check_rng
from ..distributions import Cycle, DealSize
from ..funnel import Funnel, check_funnel
from ..i18n import FunnelsimTypeError, FunnelsimValueError, field_label, t
from ..logs import Log
from ..overdispersion import Dispersion, dispersion
from ..simulation import simulate
from ._common import RNG, check_work, cv_of, num_text

__all__ = [
    "CycleEffects",
    "LogFloor",
    "NoiseFloor",
    "RevenueSteadiness",
    "cycle_effects",
    "floor_from_log",
    "noise_floor",
    "revenue_steadiness",
]


@dataclass(frozen=True, repr=False, eq=False)
class RevenueSteadiness:
    """Result of :func:`revenue_steadiness`.

    Attributes
    ----------
    funnel : Funnel
    calls : int
        Calls per week.
    periods, reps, block : int
        Weeks simulated, reps, weeks per month.
    cycle : Cycle
    deal_size : DealSize or None
    weekly, monthly : DataFrame
        :meth:`funnelsim.Simulation.summary` of revenue per week and per
        block of ``block`` weeks (full blocks only): ``mean``, ``std``,
        ``cv``, ``q10``, ``q50``, ``q90``.
    example_weekly, example_monthly : ndarray
        One rep's revenue, week by week and month by month.
    points : DataFrame
        ``calls``, ``series`` (``"week"``, ``"month"``), ``cv`` (simulated,
        pooled over reps and periods), ``theory``
        (:func:`funnelsim.theory.revenue_cv`).
    curve : DataFrame
        Theory CV over a grid of calls: ``calls``, ``series``, ``cv``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
    >>> res = fs.lessons.revenue_steadiness(weekly, 100, periods=24, reps=200, cycle=4,
    ...                                     deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
    >>> res.weekly.shape[0], res.monthly.shape[0]      # 24 weeks: 6 months of 4 weeks
    (24, 6)
    >>> res.points.round(3)
       calls series     cv  theory
    0  100.0   week  0.492   0.498
    1  100.0  month  0.250   0.247
    """

    funnel: Funnel
    calls: int
    periods: int
    reps: int
    block: int
    cycle: Cycle
    deal_size: DealSize | None
    weekly: pd.DataFrame
    monthly: pd.DataFrame
    example_weekly: np.ndarray
    example_monthly: np.ndarray
    points: pd.DataFrame
    curve: pd.DataFrame

    def cv(self, series: str = "week") -> float:
        """Simulated CV of revenue per week (``"week"``) or per month (``"month"``).

        >>> import funnelsim as fs
        >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
        >>> res = fs.lessons.revenue_steadiness(weekly, 100, periods=24, reps=200, cycle=4,
        ...                                     deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
        >>> round(res.cv("week"), 2), round(res.cv("month"), 2)
        (0.49, 0.25)
        """
        return float(self.points.loc[self.points["series"] == series, "cv"].iloc[0])

    def theory_cv(self, series: str = "week") -> float:
        """Theory CV of revenue per week or per month.

        >>> import funnelsim as fs
        >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
        >>> res = fs.lessons.revenue_steadiness(weekly, 100, periods=24, reps=200, cycle=4,
        ...                                     deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
        >>> round(res.theory_cv("week"), 3), round(res.theory_cv("month"), 3)
        (0.498, 0.247)
        """
        return float(self.points.loc[self.points["series"] == series, "theory"].iloc[0])

    def theory_cv_doubled(self, series: str = "week") -> float:
        """Theory CV with twice the calls: :meth:`theory_cv` over ``sqrt(2)`` (29 % less
        noise, not half).

        >>> import funnelsim as fs
        >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
        >>> res = fs.lessons.revenue_steadiness(weekly, 100, periods=24, reps=200, cycle=4,
        ...                                     deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
        >>> round(res.theory_cv("week"), 3), round(res.theory_cv_doubled("week"), 3)
        (0.498, 0.352)
        """
        return self.theory_cv(series) / math.sqrt(2)

    @property
    def weekly_mean(self) -> float:
        """Average revenue a week (the mean over reps, averaged over the weeks)."""
        return float(self.weekly["mean"].mean())

    @property
    def weekly_range(self) -> tuple[float, float]:
        """A typical week's P10 and P90 across reps (each averaged over the weeks):
        8 reps in 10 land between them."""
        return float(self.weekly["q10"].mean()), float(self.weekly["q90"].mean())

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame, one row per week and per month: ``series`` then the summary columns.

        >>> import funnelsim as fs
        >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
        >>> res = fs.lessons.revenue_steadiness(weekly, 100, periods=24, reps=200, cycle=4,
        ...                                     deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
        >>> frame = res.to_frame()
        >>> frame["series"].value_counts().to_dict()
        {'week': 24, 'month': 6}
        >>> frame[["series", "block", "cv"]].iloc[[0, 24]].round(2)
           series  block    cv
        0    week      1  0.47
        24  month      1  0.25
        """
        return pd.concat(
            [self.weekly.assign(series="week"), self.monthly.assign(series="month")],
            ignore_index=True,
        )[["series", *self.weekly.columns]]

    def __repr__(self) -> str:
        return t(
            "repr.revenue_steadiness",
            calls=self.calls,
            reps=self.reps,
            periods=self.periods,
            mean=num_text(self.weekly_mean),
            cv_week=self.cv("week"),
            th_week=self.theory_cv("week"),
            cv_month=self.cv("month"),
            th_month=self.theory_cv("month"),
        )


def revenue_steadiness(
    funnel: Funnel,
    calls: int,
    *,
    periods: int = 52,
    reps: int = 2000,
    cycle: Cycle | float | None = None,
    deal_size: DealSize | float | None = None,
    block: int = 4,
    rng: RNG = None,
) -> RevenueSteadiness:
    """How steady is revenue, week by week and month by month?

    ``reps`` reps each make ``calls`` calls a week for ``periods`` weeks, with
    a full pipeline from the start (``start="steady"``); revenue closes one
    sales cycle after the calls. The result holds the fan charts (P10, median,
    P90 per week and per month) and the coefficient of variation of revenue,
    simulated and in theory, plus the theory CV over a range of call volumes.

    Parameters
    ----------
    funnel : Funnel
    calls : int
        Calls per week.
    periods : int
        Weeks simulated (>= ``block``).
    reps : int
        Reps simulated (>= 2).
    cycle : Cycle or float, optional
        Sales cycle in weeks.
    deal_size : DealSize or float, optional
        Amount of one deal; without it revenue is counted in deals.
    block : int
        Weeks in a month.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    RevenueSteadiness

    Examples
    --------
    >>> import funnelsim as fs
    >>> weekly = fs.presets.get("six-stage weekly funnel").funnel   # 100 -> ... -> 5 closed
    >>> res = fs.lessons.revenue_steadiness(
    ...     weekly, 100, cycle=fs.Cycle(4), deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1
    ... )
    >>> res.monthly.shape[0]                        # 52 weeks: 13 months of 4 weeks
    13
    >>> round(res.theory_cv("week"), 3), round(res.theory_cv("month"), 3)
    (0.498, 0.247)
    >>> round(res.cv("week"), 2), round(res.cv("month"), 2)
    (0.5, 0.25)
    """
    funnel = check_funnel(funnel)
    calls = check_count("calls", calls, minimum=1)
    block = check_count("block", block, minimum=1)
    periods = check_count("periods", periods, minimum=block)
    reps = check_count("reps", reps, minimum=2)
    check_work(reps, periods * funnel.n_stages)
    cyc = Cycle.coerce(cycle)
    size = DealSize.coerce(deal_size)
    # Sales and revenue depend on the funnel only through its overall rate (a call that
    # passes every stage with chances r1, r2, ... passes all of them with chance r1 r2 ...),
    # so simulating calls -> deals directly gives exactly the same distribution, faster.
    direct = Funnel((funnel.stages[0], funnel.stages[-1]), (funnel.overall,))
    sim = simulate(
        direct, calls, periods, reps, cycle=cyc, deal_size=size, start="steady", rng=rng
    )
    weekly = sim.summary("revenue")
    monthly = sim.summary("revenue", block=block).iloc[: periods // block].reset_index(drop=True)
    per_week = sim.revenue
    per_month = sim.totals("revenue", block=block)[:, : periods // block]
    points = pd.DataFrame(
        {
            "calls": [float(calls)] * 2,
            "series": ["week", "month"],
            "cv": [cv_of(per_week.ravel()).item(), cv_of(per_month.ravel()).item()],
            "theory": [
                theory.revenue_cv(funnel, calls, size, 1, cycle=cyc),
                theory.revenue_cv(funnel, calls, size, block, cycle=cyc),
            ],
        }
    )
    # The theory line, from a tenth to ten times the current calls (straight on log-log axes).
    grid = np.unique(np.round(np.geomspace(max(1.0, calls / 10), calls * 10, 13)))
    curve = pd.concat(
        [
            pd.DataFrame(
                {
                    "calls": grid,
                    "series": name,
                    "cv": [theory.revenue_cv(funnel, n, size, w, cycle=cyc) for n in grid],
                }
            )
            for name, w in (("week", 1), ("month", block))
        ],
        ignore_index=True,
    )
    return RevenueSteadiness(
        funnel=funnel,
        calls=calls,
        periods=periods,
        reps=reps,
        block=block,
        cycle=cyc,
        deal_size=size,
        weekly=weekly,
        monthly=monthly,
        example_weekly=per_week[0].copy(),
        example_monthly=per_month[0].copy(),
        points=points,
        curve=curve,
    )


@dataclass(frozen=True, repr=False, eq=False)
class CycleEffects:
    """Result of :func:`cycle_effects`.

    Attributes
    ----------
    funnel : Funnel
    calls : int
        Calls per week when the rep is prospecting.
    cycle : Cycle
    deal_size : DealSize or None
    pause_start, pause_length : int
        First week and number of weeks without prospecting in the
        ``"pause"`` scenario.
    steady : float
        Expected revenue per week of a rep in full swing.
    frame : DataFrame
        One row per scenario and week: ``scenario`` (``"ramp_up"``: a new rep
        starting from an empty pipeline; ``"pause"``: a rep in full swing who
        stops prospecting), ``week`` (counted from 1, as on a calendar),
        ``calls``, ``mean``, ``q10``, ``q50``, ``q90`` (simulated revenue),
        ``theory`` (expected revenue, :func:`funnelsim.theory.revenue_moments`).

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.cycle_effects(game, 75, cycle=fs.Cycle(6, cv=0.3), periods=24,
    ...                                reps=200, rng=2)
    >>> res.steady                      # 75 dials a week: 0.625 sales
    0.625
    >>> res.ramp_week, res.dip_week     # full swing in week 9; the pause bites in week 20
    (9, 20)
    """

    funnel: Funnel
    calls: int
    cycle: Cycle
    deal_size: DealSize | None
    reps: int
    pause_start: int
    pause_length: int
    steady: float
    frame: pd.DataFrame

    def scenario(self, name: str) -> pd.DataFrame:
        """Rows of one scenario (``"ramp_up"`` or ``"pause"``).

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.cycle_effects(game, 75, cycle=fs.Cycle(6, cv=0.3), periods=24,
        ...                                reps=200, rng=2)
        >>> res.scenario("ramp_up")[["week", "calls", "theory"]].head(4).round(3)
           week  calls  theory
        0     1     75   0.000
        1     2     75   0.000
        2     3     75   0.006
        3     4     75   0.041
        """
        if name not in ("ramp_up", "pause"):
            raise FunnelsimValueError(
                "error.choice", name="scenario", value=repr(name), choices="ramp_up, pause"
            )
        return self.frame[self.frame["scenario"] == name].reset_index(drop=True)

    @property
    def ramp_week(self) -> int:
        """First week in which a new rep's expected revenue reaches 90 % of full swing
        (one past the horizon if it never does)."""
        ramp = self.scenario("ramp_up")
        hit = np.flatnonzero(ramp["theory"].to_numpy() >= 0.9 * self.steady)
        return int(ramp["week"].iloc[hit[0]]) if hit.size else len(ramp) + 1

    @property
    def dip_week(self) -> int:
        """Week of the lowest expected revenue after the pause."""
        pause = self.scenario("pause")
        return int(pause["week"].iloc[pause["theory"].to_numpy().argmin()])

    @property
    def dip(self) -> float:
        """Lowest expected weekly revenue after the pause, as a share of full swing."""
        low = self.scenario("pause")["theory"].min()
        return float(low / self.steady) if self.steady > 0 else math.nan

    def to_frame(self) -> pd.DataFrame:
        """The tidy frame (a copy of :attr:`frame`).

        >>> import funnelsim as fs
        >>> game = fs.presets.get("daily ratio game").funnel
        >>> res = fs.lessons.cycle_effects(game, 75, cycle=fs.Cycle(6, cv=0.3), periods=24,
        ...                                reps=200, rng=2)
        >>> frame = res.to_frame()
        >>> frame.shape, frame["scenario"].unique().tolist()
        ((48, 8), ['ramp_up', 'pause'])
        """
        return self.frame.copy()

    def __repr__(self) -> str:
        return t(
            "repr.cycle_effects",
            calls=self.calls,
            cycle=self.cycle.mean,
            ramp=self.ramp_week,
            length=self.pause_length,
            start=self.pause_start,
            dip_week=self.dip_week,
            dip=self.dip,
        )


def cycle_effects(
    funnel: Funnel,
    calls: int,
    *,
    cycle: Cycle | float = 4,
    deal_size: DealSize | float | None = None,
    periods: int = 40,
    reps: int = 1000,
    pause_start: int = 13,
    pause_length: int = 4,
    rng: RNG = None,
) -> CycleEffects:
    """The cycle lever: a new rep's ramp-up and a pause in prospecting.

    Calls made this week pay one sales cycle later. Two scenarios over
    ``periods`` weeks, numbered from 1 as on a calendar:

    * ``"ramp_up"``: a new rep starts with an empty pipeline
      (``start="empty"``) and makes ``calls`` calls every week; revenue
      builds up over about one cycle.
    * ``"pause"``: a rep in full swing stops prospecting for ``pause_length``
      weeks from week ``pause_start`` (zero calls, say a trade fair), then
      starts again; revenue carries on for a while, then falls about one
      cycle after the pause began.

    Parameters
    ----------
    funnel : Funnel
    calls : int
        Calls per week when prospecting.
    cycle : Cycle or float
        Sales cycle in weeks.
    deal_size : DealSize or float, optional
    periods : int
        Weeks simulated.
    reps : int
        Reps simulated per scenario (>= 2).
    pause_start, pause_length : int
        First week (from 1) and length of the pause; it must end inside the
        horizon.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    CycleEffects

    Examples
    --------
    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> res = fs.lessons.cycle_effects(game, 75, cycle=fs.Cycle(6, cv=0.3), rng=2)
    >>> res.ramp_week, res.dip_week, round(res.dip, 2)   # weeks 13-16 without prospecting
    (9, 20, 0.26)
    >>> res.scenario("pause")["calls"].tolist()[10:18]   # weeks 11 to 18
    [75, 75, 0, 0, 0, 0, 75, 75]
    """
    funnel = check_funnel(funnel)
    calls = check_count("calls", calls)
    periods = check_count("periods", periods, minimum=1)
    reps = check_count("reps", reps, minimum=2)
    pause_start = check_count("pause_start", pause_start, minimum=1)
    pause_length = check_count("pause_length", pause_length)
    if pause_start + pause_length - 1 > periods:
        raise FunnelsimValueError(
            "error.pause_window", start=pause_start, length=pause_length, periods=periods
        )
    check_work(2 * reps, periods * funnel.n_stages)
    cyc = Cycle.coerce(cycle)
    size = DealSize.coerce(deal_size)
    gen = check_rng(rng)
    weeks = np.arange(1, periods + 1)
    steady_calls = np.full(periods, calls, dtype=np.int64)
    pause_calls = steady_calls.copy()
    pause_calls[pause_start - 1 : pause_start - 1 + pause_length] = 0
    scenarios = {"ramp_up": (steady_calls, "empty"), "pause": (pause_calls, "steady")}
    parts = []
    for name, (schedule, start) in scenarios.items():
        sim = simulate(
            funnel, schedule, periods, reps, cycle=cyc, deal_size=size, start=start, rng=gen
        )
        q10, q50, q90 = np.quantile(sim.revenue, [0.1, 0.5, 0.9], axis=0)
        expected = [
            theory.revenue_moments(
                funnel, schedule, size, cycle=cyc, start=start, first_period=w - 1
            ).mean
            for w in weeks
        ]
        parts.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "week": weeks,
                    "calls": schedule,
                    "mean": sim.revenue.mean(axis=0),
                    "q10": q10,
                    "q50": q50,
                    "q90": q90,
                    "theory": expected,
                }
            )
        )
    steady = theory.revenue_moments(funnel, calls, size, cycle=cyc).mean
    return CycleEffects(
        funnel=funnel,
        calls=calls,
        cycle=cyc,
        deal_size=size,
        reps=reps,
        pause_start=pause_start,
        pause_length=pause_length,
        steady=float(steady),
        frame=pd.concat(parts, ignore_index=True),
    )


# ------------------------------------------------------------------ the floor
@dataclass(frozen=True, repr=False, eq=False)
class NoiseFloor:
    """Result of :func:`noise_floor`.

    Attributes
    ----------
    funnel : Funnel
    deal_size : DealSize or None
    cycle : Cycle
    rate_cv : float
        How much the overall rate moves from week to week (coefficient of
        variation) in the "moving" scenario.
    reps : int
    floor : float
        The relative noise no number of calls gets below with that rate
        (:func:`funnelsim.theory.cv_floor`).
    points : DataFrame
        Simulated CV of revenue per week at each volume, for a fixed rate
        (``rate_cv`` 0) and the moving one: ``calls``, ``rate_cv``, ``cv``
        (across reps), ``theory`` (:func:`funnelsim.theory.revenue_cv`).
    curve : DataFrame
        Theory CV on a fine grid of calls: ``calls``, ``rate_cv``, ``cv``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
    >>> res = fs.lessons.noise_floor(f, [100, 10_000], rate_cv=0.2, reps=2000, rng=1)
    >>> res.points.round(3)
         calls  rate_cv     cv  theory
    0    100.0      0.0  0.434   0.436
    1  10000.0      0.0  0.043   0.044
    2    100.0      0.2  0.460   0.479
    3  10000.0      0.2  0.205   0.205
    """

    funnel: Funnel
    deal_size: DealSize | None
    cycle: Cycle
    rate_cv: float
    reps: int
    floor: float
    points: pd.DataFrame
    curve: pd.DataFrame

    def cv(self, rate_cv: float | None = None) -> pd.Series:
        """Simulated CV by calls, for the moving rate (default) or ``rate_cv=0``.

        >>> import funnelsim as fs
        >>> f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
        >>> res = fs.lessons.noise_floor(f, [100, 10_000], rate_cv=0.2, reps=2000, rng=1)
        >>> res.cv().round(2)
        calls
        100.0      0.46
        10000.0    0.21
        dtype: float64
        """
        which = self.rate_cv if rate_cv is None else rate_cv
        rows = self.points[np.isclose(self.points["rate_cv"], which)]
        return pd.Series(rows["cv"].to_numpy(), index=pd.Index(rows["calls"], name="calls"))

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: ``calls``, ``rate_cv``, ``source`` (simulated/theory), ``cv``.

        >>> import funnelsim as fs
        >>> f = fs.Funnel(["calls", "meetings", "sales"], [0.2, 0.25])
        >>> res = fs.lessons.noise_floor(f, [100], rate_cv=0.2, reps=2000, rng=1)
        >>> res.to_frame().round(3)
           calls  rate_cv     source     cv
        0  100.0      0.0  simulated  0.434
        1  100.0      0.2  simulated  0.485
        2  100.0      0.0     theory  0.436
        3  100.0      0.2     theory  0.479
        """
        cols = ["calls", "rate_cv", "source", "cv"]
        sim = self.points.assign(source="simulated")[cols]
        th = self.points.assign(source="theory", cv=self.points["theory"])[cols]
        return pd.concat([sim, th], ignore_index=True)

    def __repr__(self) -> str:
        moving = self.points[np.isclose(self.points["rate_cv"], self.rate_cv)]
        pairs = ", ".join(
            f"{c:g}: {s:.3f} ({th:.3f})"
            for c, s, th in zip(moving["calls"], moving["cv"], moving["theory"], strict=True)
        )
        return t(
            "repr.noise_floor", reps=self.reps, rate_cv=self.rate_cv, floor=self.floor, pairs=pairs
        )


def noise_floor(
    funnel: Funnel,
    calls: Sequence[int],
    *,
    rate_cv: float = 0.2,
    deal_size: DealSize | float | None = None,
    cycle: Cycle | float | None = None,
    reps: int = 2000,
    rng: RNG = None,
) -> NoiseFloor:
    """More calls stop helping: the relative noise of weekly revenue has a floor.

    For each number of calls a week, ``reps`` reps make that many calls for a
    week (with a full pipeline when there is a cycle), once with a fixed
    conversion rate and once with a rate that moves from week to week by
    ``rate_cv`` (:func:`funnelsim.simulate` with ``rate_cv=``). The CV of the
    week's revenue across reps is set beside the theory: with a fixed rate it
    falls like ``1 / sqrt(calls)`` for ever; with a moving one it stops at
    :func:`funnelsim.theory.cv_floor` (``rate_cv`` without a cycle).

    Parameters
    ----------
    funnel : Funnel
    calls : sequence of int
        Calls a week to compare (each >= 1).
    rate_cv : float
        How much the overall rate moves from week to week (0.2: a typical
        week's rate is about 20 % above or below the average).
    deal_size : DealSize or float, optional
        Amount of one deal; without it revenue is counted in deals.
    cycle : Cycle or float, optional
        Sales cycle in weeks.
    reps : int
        Reps simulated per volume and scenario (>= 2).
    rng : numpy.random.Generator, int or None

    Returns
    -------
    NoiseFloor

    Examples
    --------
    >>> import funnelsim as fs
    >>> weekly = fs.presets.get("six-stage weekly funnel").funnel
    >>> res = fs.lessons.noise_floor(weekly, [100, 1_000, 10_000], rate_cv=0.2,
    ...                              deal_size=fs.DealSize.gamma(10_000, cv=0.5), rng=1)
    >>> res.floor
    0.2
    >>> res.points.round(2)
         calls  rate_cv    cv  theory
    0    100.0      0.0  0.50    0.49
    1   1000.0      0.0  0.15    0.15
    2  10000.0      0.0  0.05    0.05
    3    100.0      0.2  0.53    0.53
    4   1000.0      0.2  0.26    0.25
    5  10000.0      0.2  0.20    0.21
    """
    funnel = check_funnel(funnel)
    arr = np.asarray(calls, dtype=float).ravel()
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr < 1) or np.any(arr != arr.round()):
        raise FunnelsimValueError("error.calls_list", value=list(np.asarray(calls).ravel()))
    reps = check_count("reps", reps, minimum=2)
    cyc = Cycle.coerce(cycle)
    size = DealSize.coerce(deal_size)
    floor = theory.cv_floor(funnel, rate_cv, cycle=cyc)  # checks rate_cv
    rate_cv = float(rate_cv)
    check_work(reps, 2 * arr.size * (cyc.max_lag + 1) * funnel.n_stages)
    gen = check_rng(rng)
    points = []
    for moving in (0.0, rate_cv):
        for n in arr:
            # one week, with a full pipeline: its deals come from this week's calls and,
            # with a cycle, from earlier weeks' calls at their own rates
            sim = simulate(
                funnel, int(n), 1, reps, cycle=cyc, deal_size=size, rng=gen, rate_cv=moving
            )
            th = theory.revenue_cv(funnel, n, size, cycle=cyc, rate_cv=moving)
            points.append((n, moving, cv_of(sim.revenue[:, 0]).item(), th))
    grid = np.unique(np.round(np.geomspace(max(1.0, arr.min() / 2), arr.max() * 2, 60)))
    curve = pd.DataFrame(
        [
            (n, moving, theory.revenue_cv(funnel, n, size, cycle=cyc, rate_cv=moving))
            for moving in (0.0, rate_cv)
            for n in grid
        ],
        columns=["calls", "rate_cv", "cv"],
    )
    frame = pd.DataFrame(points, columns=["calls", "rate_cv", "cv", "theory"])
    return NoiseFloor(funnel, size, cyc, rate_cv, reps, floor, frame, curve)


# ------------------------------------------------------- the floor of a real log
@dataclass(frozen=True, repr=False, eq=False)
class LogFloor:
    """Result of :func:`floor_from_log`.

    Attributes
    ----------
    period : str
        The period column the history was cut by (``"month"``, ``"week"``...).
    dispersion : Dispersion
        :func:`funnelsim.dispersion` of the log by that period: the test of "no extra
        variation" and the beta-binomial fit of each step.
    funnel : Funnel
        A typical period's funnel: each step's beta-binomial mean (the pooled ratio
        where nothing varies).
    rate_cv : float
        How much the overall rate moves between periods (coefficient of variation):
        the steps' ``cv_between`` combined as ``1 + rate_cv^2 = prod (1 + cv^2)``
        (independent steps). It is the floor of the relative spread of a period's
        sales, however many calls are made.
    rate_cv_low, rate_cv_high : float
        The same from the steps' interval limits of ``rho``: the profile-likelihood
        interval for a one-step log, a rough range for several steps.
    calls : int
        A typical period's calls: the median number of leads entering the first
        stage over the periods with leads.
    noise : NoiseFloor
        :func:`noise_floor` of :attr:`funnel` at ``rate_cv``: simulated and theory CV
        of a period's sales by calls, with the rate fixed and moving (plot it with
        :func:`funnelsim.plotting.plot_cv_floor`).

    Examples
    --------
    >>> import funnelsim as fs
    >>> res = fs.lessons.floor_from_log(fs.datasets.load_counts(), period="period",
    ...                                 calls=[100, 1_000], reps=500, rng=1)
    >>> res.calls, round(res.rate_cv, 3), round(res.floor, 3)
    (450, 0.133, 0.133)
    """

    period: str
    dispersion: Dispersion
    funnel: Funnel
    rate_cv: float
    rate_cv_low: float
    rate_cv_high: float
    calls: int
    noise: NoiseFloor

    @property
    def floor(self) -> float:
        """The relative spread of a period's sales that no number of calls gets below
        (:func:`funnelsim.theory.cv_floor` at :attr:`rate_cv`, one period, no cycle)."""
        return self.noise.floor

    @property
    def crossover(self) -> float:
        """Calls a period at which chance (the binomial part of the noise) and the moving
        rate weigh the same: ``(1 - p (1 + rate_cv^2)) / (p rate_cv^2)``. Beyond it the
        noise is within ``sqrt(2)`` of the floor, and more calls barely help (infinite
        when the rate does not move).

        >>> import funnelsim as fs
        >>> res = fs.lessons.floor_from_log(fs.datasets.load_counts(), period="period",
        ...                                 calls=[100], reps=50, rng=1)
        >>> round(res.crossover)
        5880
        """
        p, c2 = self.funnel.overall, self.rate_cv**2
        if c2 == 0 or p == 0:
            return math.inf
        return (1.0 - p * (1.0 + c2)) / (p * c2)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame of the noise by calls (:meth:`NoiseFloor.to_frame`): ``calls``,
        ``rate_cv``, ``source`` (simulated/theory), ``cv``.

        >>> import funnelsim as fs
        >>> res = fs.lessons.floor_from_log(fs.datasets.load_counts(), period="period",
        ...                                 calls=[100], reps=500, rng=1)
        >>> res.to_frame()[["calls", "source"]].values.tolist()
        [[100.0, 'simulated'], [100.0, 'simulated'], [100.0, 'theory'], [100.0, 'theory']]
        """
        return self.noise.to_frame()

    def __repr__(self) -> str:
        moving = self.noise.points[np.isclose(self.noise.points["rate_cv"], self.rate_cv)]
        pairs = ", ".join(
            f"{c:g}: {th:.3f}" for c, th in zip(moving["calls"], moving["theory"], strict=True)
        )
        return t(
            "repr.log_floor",
            period=field_label(self.period),
            periods=int(self.dispersion.table["periods"].max()),
            calls=self.calls,
            rate_cv=self.rate_cv,
            low=self.rate_cv_low,
            high=self.rate_cv_high,
            floor=self.floor,
            crossover=num_text(self.crossover),
            pairs=pairs,
        )


def _combined_cv(cvs: np.ndarray) -> float:
    """The overall rate's CV from independent steps' CVs: ``prod (1 + cv^2) - 1``, rooted."""
    return math.sqrt(max(float(np.prod(1.0 + np.square(cvs))) - 1.0, 0.0))


def floor_from_log(
    log: Log,
    *,
    period: str = "month",
    calls: Sequence[int] | None = None,
    reps: int = 2000,
    confidence_level: float = 0.95,
    rng: RNG = None,
) -> LogFloor:
    """The floor a real log's history implies: how far more calls can steady a period's sales.

    The log is cut by ``period`` and :func:`funnelsim.dispersion` measures how
    much each step's ratio moves between periods beyond binomial chance (a
    beta-binomial random effect). The steps' between-period coefficients of
    variation combine into the overall rate's, ``rate_cv`` (``1 + rate_cv^2 =
    prod (1 + cv_step^2)``, steps independent), which is the floor of the
    relative spread of a period's sales: by the law of total variance

        CV^2 = (1 - p (1 + rate_cv^2)) / (n p) + rate_cv^2

    for ``n`` calls at a typical period's overall rate ``p``
    (:func:`funnelsim.theory.sales_cv`). The result holds :func:`noise_floor`
    at a few volumes with that rate, ready for
    :func:`funnelsim.plotting.plot_cv_floor`.

    Parameters
    ----------
    log : Log
        A log with a period: a ``period`` column, or times for ``"week"`` or
        ``"month"``.
    period : str, default "month"
        The period column (see :func:`funnelsim.dispersion`).
    calls : sequence of int, optional
        Calls a period to compare; by default a hundredth, a tenth, one and
        ten times a typical period's calls (the median over the periods with
        leads), rounded to two significant figures.
    reps : int
        Periods simulated per volume and scenario (>= 2).
    confidence_level : float
        Level of the intervals of :func:`funnelsim.dispersion`.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    LogFloor

    Raises
    ------
    TypeError
        When ``log`` is not a :class:`funnelsim.Log`.
    ValueError
        An unknown period, a step with leads in fewer than two periods
        (``error.floor_periods``), or a log in which no lead ever reached the
        last stage (``error.floor_nothing``).

    Examples
    --------
    The sample counts log (26 weeks, 450 dials a typical week) moves a
    little between weeks; its floor is about 13 %, reached at about 5,900
    dials a week:

    >>> import funnelsim as fs
    >>> res = fs.lessons.floor_from_log(fs.datasets.load_counts(), period="period",
    ...                                 calls=[100, 1_000, 10_000], rng=1)
    >>> res.dispersion.table[["stage", "phi", "cv_between"]].round(3)
          stage    phi  cv_between
    0  connects  1.416       0.032
    1  meetings  0.867       0.000
    2     sales  1.155       0.129
    >>> res.noise.points.round(3)
         calls  rate_cv     cv  theory
    0    100.0    0.000  1.015   1.022
    1   1000.0    0.000  0.325   0.323
    2  10000.0    0.000  0.102   0.102
    3    100.0    0.133  1.042   1.031
    4   1000.0    0.133  0.351   0.350
    5  10000.0    0.133  0.170   0.168
    """
    if not isinstance(log, Log):
        raise FunnelsimTypeError("error.type_log", name="log", value=type(log).__name__)
    result = dispersion(log, period=period, confidence_level=confidence_level)
    table = result.table
    few = table[table["periods"] < 2]
    if len(few):
        row = few.iloc[0]
        raise FunnelsimValueError(
            "error.floor_periods",
            stage=row["stage"],
            periods=int(row["periods"]),
            period=period,
        )
    fitted = table["mean"].notna().to_numpy()
    means = np.where(fitted, table["mean"], table["ratio"]).astype(float)
    if not np.all(means > 0):
        raise FunnelsimValueError("error.floor_nothing", stage=log.stages[-1])

    def cv_from(column: str) -> np.ndarray:
        sd = np.where(fitted, table[column].fillna(0.0), 0.0)
        return np.asarray(sd, dtype=float) / means

    rate_cv = _combined_cv(cv_from("sigma_between"))
    low, high = _combined_cv(cv_from("sigma_low")), _combined_cv(cv_from("sigma_high"))
    funnel = Funnel(tuple(log.stages), tuple(float(m) for m in means))
    first = log.stage_table(by=[period])
    first = first[(first["stage"] == log.stages[1]) & first[period].notna()]
    per_period = first.groupby(period, observed=True)["entered"].sum()
    typical = max(1, round(float(np.median(per_period[per_period > 0]))))
    if calls is None:
        calls = sorted({max(1, round(float(f"{typical * f:.2g}"))) for f in (0.01, 0.1, 1, 10)})
    noise = noise_floor(funnel, calls, rate_cv=rate_cv, reps=reps, rng=rng)
    return LogFloor(result.period, result, funnel, rate_cv, low, high, typical, noise)
