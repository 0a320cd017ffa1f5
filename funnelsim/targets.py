"""Targets and attainment: the manager's side of the decks.

* :func:`three_levers`: volume, each stage ratio and the average deal size (件均)
  moved by the same share, side by side (expected revenue and its P10 / P90).
* :func:`split_target`: a yearly target split by month (given weights, or the
  seasonality of a history of month amounts) and by rep (capacity or history
  share), with the calls each part needs at a chosen probability.
* :func:`attainment`: actual against target to date (达成率) per rep and team,
  and the chance of finishing at or above target from a forecast of what is left.
* :func:`reps_needed`: headcount for a target at a probability.

Every probability here is exact for the kit's model (binomial deals,
:func:`funnelsim.theory.prob_reach` for revenue) or read from a
:class:`~funnelsim.Forecast`'s replicates.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._reader import read_source
from ._validate import (
    check_count,
    check_nonnegative,
    check_open_probability,
    check_probability,
    check_sequence,
)
from .distributions import DealSize
from .estimate import Fit
from .forecasting import Forecast, group_label
from .funnel import Funnel, check_funnel
from .i18n import FunnelsimValueError, cell_label, stage_label, t
from .planning import plan_calls
from .theory import calls_for_expected, calls_for_target, prob_reach, result_quantile

__all__ = [
    "TARGET_COLUMNS",
    "Attainment",
    "Headcount",
    "Levers",
    "TargetSplit",
    "attainment",
    "read_targets",
    "reps_needed",
    "split_target",
    "three_levers",
]


# ------------------------------------------------------------------ levers
@dataclass(frozen=True)
class Levers:
    """Result of :func:`three_levers`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per lever: ``lever`` (``baseline``, ``volume``, ``ratio``,
        ``deal_size``), ``stage`` (the stage whose ratio moved, else empty),
        ``calls``, ``overall``, ``mean_deal``, ``expected``, ``p10``, ``p90``
        (revenue over the calls) and ``gain`` (expected, against the baseline).
    change : float
        The share each lever moved by.

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.1])
    >>> lev = fs.three_levers(f, fs.DealSize.fixed(100), 1000, change=0.5)
    >>> lev.to_frame()["expected"].tolist()
    [10000.0, 15000.0, 15000.0, 15000.0]
    """

    table: pd.DataFrame
    change: float

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy).

        >>> import funnelsim as fs
        >>> f = fs.Funnel(["calls", "sales"], [0.1])
        >>> fs.three_levers(f, 100, 1000).to_frame()["lever"].tolist()
        ['baseline', 'volume', 'ratio', 'deal_size']
        """
        return self.table.copy()

    def __repr__(self) -> str:
        lines = [t("repr.levers.head", change=self.change)]
        for row in self.table.itertuples():
            lines.append(
                t(
                    "repr.levers.row",
                    lever=cell_label("lever", row.lever)
                    + (f" {stage_label(row.stage)}" if row.stage else ""),
                    expected=row.expected,
                    p10=row.p10,
                    p90=row.p90,
                    gain=row.gain,
                )
            )
        return "\n".join(lines) + ")"


def three_levers(
    funnel: Funnel,
    deal_size: DealSize | float,
    calls: int,
    *,
    change: float = 0.1,
    periods: int = 1,
) -> Levers:
    """Volume, each ratio, or the average deal size (件均) up by ``change``: revenue side by side.

    The decks name three levers: more calls, better ratios, bigger deals.
    Each multiplies expected revenue by ``1 + change``; they differ in the
    spread. P10 and P90 come from :func:`funnelsim.theory.result_quantile`
    (binomial deals; exact for fixed and gamma deal sizes, a gamma
    approximation of the sum for bands and log-normal sizes).

    Parameters
    ----------
    funnel : Funnel
    deal_size : DealSize or float
        Amount of one deal; the ``deal_size`` lever multiplies every amount
        by ``1 + change`` (:meth:`DealSize.scaled`).
    calls : int
        Calls per period (the volume lever rounds ``calls * (1 + change)``
        to the nearest whole call).
    change : float, default 0.1
        Relative move of each lever (0.1: +10 %). A ratio is capped at 1.
    periods : int
        Periods of calls.

    Returns
    -------
    Levers

    Examples
    --------
    The daily ratio game over a working year (15 dials a day, 250 days),
    with the deck's composition of 500,000 as the deal size (38 deals, about
    13,158 each): 31.25 sales a year are worth 411,184 on average. Each lever
    adds 10 %; more calls and better ratios give the same band, bigger deals
    a wider one (the same number of deals, each worth more).

    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> size = fs.presets.get("deal-size composition").deal_size
    >>> lev = fs.three_levers(game, size, 15 * 250)
    >>> lev.to_frame()[["lever", "stage", "expected", "p10", "p90"]].round(-3)
           lever     stage  expected       p10       p90
    0   baseline              411000.0  294000.0  535000.0
    1     volume              452000.0  329000.0  582000.0
    2      ratio  connects    452000.0  329000.0  582000.0
    3      ratio  meetings    452000.0  329000.0  582000.0
    4      ratio     sales    452000.0  329000.0  582000.0
    5  deal_size              452000.0  323000.0  589000.0
    """
    funnel = check_funnel(funnel)
    size = DealSize.coerce(deal_size)
    if size is None:
        raise FunnelsimValueError("error.levers_deal_size")
    calls = check_count("calls", calls)
    periods = check_count("periods", periods, minimum=1)
    change = check_nonnegative("change", change)
    up = 1 + change
    options: list[tuple[str, str, Funnel, int, DealSize]] = [
        ("baseline", "", funnel, calls, size),
        ("volume", "", funnel, round(calls * up), size),
    ]
    for stage, r in zip(funnel.stages[1:], funnel.ratios, strict=True):
        options.append(("ratio", stage, funnel.with_ratio(stage, min(r * up, 1.0)), calls, size))
    options.append(("deal_size", "", funnel, calls, size.scaled(up)))
    rows = []
    for lever, stage, f, n, s in options:
        rows.append(
            {
                "lever": lever,
                "stage": stage,
                "calls": n,
                "overall": f.overall,
                "mean_deal": s.mean,
                "expected": n * periods * f.overall * s.mean,
                "p10": result_quantile(f, n, 0.1, deal_size=s, periods=periods),
                "p90": result_quantile(f, n, 0.9, deal_size=s, periods=periods),
            }
        )
    table = pd.DataFrame(rows)
    base = table.loc[0, "expected"]
    table["gain"] = table["expected"] / base - 1 if base > 0 else np.nan
    return Levers(table, change)


# ------------------------------------------------------------ split target
@dataclass(frozen=True)
class TargetSplit:
    """Result of :func:`split_target`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per month and rep (tidy): ``month``, ``rep`` (``"team"``
        without reps), ``month_share``, ``rep_share``, ``target`` (the part),
        and with a funnel and a probability ``calls`` (calls the part needs to
        reach its target with that probability) and ``calls_expected``.
    target : float
    probability : float or None

    Examples
    --------
    >>> import funnelsim as fs
    >>> split = fs.split_target(1200, months=3, reps=["Li", "Wang"], capacity=[1, 3])
    >>> split.to_frame()["target"].tolist()
    [100.0, 300.0, 100.0, 300.0, 100.0, 300.0]
    """

    table: pd.DataFrame
    target: float
    probability: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy).

        >>> import funnelsim as fs
        >>> fs.split_target(120, months=2).to_frame()[["month", "target"]]
           month  target
        0      1    60.0
        1      2    60.0
        """
        return self.table.copy()

    def by_month(self) -> pd.Series:
        """Target of each month (all reps).

        >>> import funnelsim as fs
        >>> fs.split_target(100, weights=[1, 3]).by_month().tolist()
        [25.0, 75.0]
        """
        return self.table.groupby("month", sort=False)["target"].sum()

    def by_rep(self) -> pd.Series:
        """Target of each rep (all months).

        >>> import funnelsim as fs
        >>> fs.split_target(100, months=4, reps=["a", "b"], capacity=[1, 1]).by_rep().tolist()
        [50.0, 50.0]
        """
        return self.table.groupby("rep", sort=False)["target"].sum()

    def to_date(self, months: int) -> pd.Series:
        """Each rep's target over the first ``months`` months: the target to date of a
        seasonal split, for :func:`attainment`'s ``to_date``.

        >>> import funnelsim as fs
        >>> split = fs.split_target(1000, weights=[1, 1, 2, 6], reps=["a", "b"])
        >>> split.to_date(2).tolist()   # two light months of four: 20 %, not half
        [100.0, 100.0]
        """
        order = list(dict.fromkeys(self.table["month"]))
        months = check_count("months", months)
        if months > len(order):
            raise FunnelsimValueError(
                "error.split_months_to_date", value=months, months=len(order)
            )
        gone = self.table[self.table["month"].isin(order[:months])]
        return gone.groupby("rep", sort=False)["target"].sum().reindex(self.by_rep().index)

    def __repr__(self) -> str:
        months = self.table["month"].nunique()
        reps = self.table["rep"].nunique()
        return t("repr.target_split", target=self.target, months=months, reps=reps)


def _shares(name: str, values: object, n: int) -> np.ndarray:
    vals = check_sequence(name, values)
    arr = np.array([check_nonnegative(f"{name}[{i}]", x) for i, x in enumerate(vals)])
    if len(arr) != n or arr.sum() == 0:
        raise FunnelsimValueError("error.target_shares", name=name, n=n, value=list(vals))
    return arr / arr.sum()


def _history_table(history: object, needed: Sequence[str]) -> pd.DataFrame:
    if not isinstance(history, pd.DataFrame) or not set(needed) <= set(history.columns):
        columns = list(history.columns) if isinstance(history, pd.DataFrame) else []
        raise FunnelsimValueError(
            "error.target_history", needed=", ".join(needed), columns=", ".join(map(str, columns))
        )
    amounts = pd.to_numeric(history["amount"], errors="coerce")
    bad = np.flatnonzero(amounts.isna().to_numpy() | (amounts < 0).to_numpy())
    if bad.size:
        raise FunnelsimValueError(
            "error.target_history_amount",
            row=int(bad[0]) + 2,
            value=history["amount"].iloc[bad[0]],
        )
    return history.assign(amount=amounts)


def split_target(
    target: float,
    *,
    months: int | Sequence[Any] | None = None,
    weights: Sequence[float] | None = None,
    history: pd.DataFrame | None = None,
    reps: Sequence[Any] | None = None,
    capacity: Sequence[float] | Mapping[Any, float] | None = None,
    funnel: Fit | Funnel | None = None,
    probability: float | None = None,
    deal_size: DealSize | float | None = None,
) -> TargetSplit:
    """Split a yearly target by month and by rep, with the calls each part needs.

    Parameters
    ----------
    target : float
        The year's target (deals, or money with ``deal_size``).
    months : int or sequence, optional
        How many months (labelled 1..m) or their labels. Default: 12, or the
        months of ``weights`` / ``history``.
    weights : sequence of float, optional
        One weight per month (any scale); the month's share is its weight
        over the total.
    history : pandas.DataFrame, optional
        Past amounts with columns ``month`` and ``amount`` (and ``rep``,
        ``year``): the seasonality is each month's share of the total over
        all years (months in the order they first appear); with a ``year``
        column, each month's amount is its mean over the years that have it,
        so that 18 months of history do not count January to June twice
        (without one, give whole years). With ``rep`` and no ``capacity``,
        each rep's share of the total splits the months.
    reps : sequence, optional
        The reps (default: the history's reps, else one row ``"team"``).
    capacity : sequence or mapping of float, optional
        Each rep's capacity (headcount, calls a day, working days): the rep's
        share is its capacity over the total. Default: the history's shares,
        else equal.
    funnel : Fit or Funnel, optional
        With ``probability``: the calls each part needs
        (:func:`funnelsim.calls_for_target` for a Funnel,
        :func:`funnelsim.plan_calls` with the ratios' uncertainty for a Fit;
        one period is one month, so ``calls`` are calls in that month).
    probability : float, optional
        Chance of reaching each part's target.
    deal_size : DealSize or float, optional
        Amount of one deal, when the target is money.

    Returns
    -------
    TargetSplit

    Examples
    --------
    1,200,000 over a quarter with a slow first month, two reps, one at half
    time; the calls each part needs to be 80 % sure, at 2 % of calls closing
    deals of 10,000:

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.02])
    >>> split = fs.split_target(
    ...     1_200_000, weights=[2, 3, 3], reps=["Li", "Wang"], capacity=[1, 0.5],
    ...     funnel=f, probability=0.8, deal_size=10_000,
    ... )
    >>> split.to_frame()[["month", "rep", "target", "calls"]]
      month   rep    target  calls
    0     1    Li  200000.0   1180
    1     1  Wang  100000.0    625
    2     2    Li  300000.0   1722
    3     2  Wang  150000.0    905
    4     3    Li  300000.0   1722
    5     3  Wang  150000.0    905
    """
    target = check_nonnegative("target", target)
    if weights is not None and history is not None:
        raise FunnelsimValueError("error.target_one_of", first="weights", second="history")
    rep_hist = None
    if weights is not None:
        n = len(check_sequence("weights", weights))
        labels = _month_labels(months, n)
        month_share = _shares("weights", weights, len(labels))
    elif history is not None:
        hist = _history_table(history, ["month", "amount"])
        by_month = hist.groupby("month", sort=False)["amount"].sum()
        if "year" in hist.columns:  # a month's mean over its years: part years are not season
            by_month = by_month / hist.groupby("month", sort=False)["year"].nunique()
        labels = list(by_month.index) if months is None else _month_labels(months, None)
        month_share = _shares("history", by_month.reindex(labels).fillna(0.0), len(labels))
        if "rep" in hist.columns:
            rep_hist = hist.groupby("rep", sort=False)["amount"].sum()
    else:
        labels = _month_labels(months, None)
        month_share = np.full(len(labels), 1 / len(labels))
    if reps is None:
        reps = list(rep_hist.index) if rep_hist is not None else ["team"]
    reps = list(check_sequence("reps", reps))
    if isinstance(capacity, Mapping):
        missing = [r for r in reps if r not in capacity]
        if missing:
            raise FunnelsimValueError("error.target_capacity_missing", missing=missing)
        capacity = [capacity[r] for r in reps]
    if capacity is not None:
        rep_share = _shares("capacity", capacity, len(reps))
    elif rep_hist is not None:
        rep_share = _shares("history", rep_hist.reindex(reps).fillna(0.0), len(reps))
    else:
        rep_share = np.full(len(reps), 1 / len(reps))
    table = pd.DataFrame(
        {
            "month": np.repeat(np.asarray(labels, dtype=object), len(reps)),
            "rep": np.tile(np.asarray(reps, dtype=object), len(labels)),
            "month_share": np.repeat(month_share, len(reps)),
            "rep_share": np.tile(rep_share, len(labels)),
        }
    )
    table["target"] = target * table["month_share"] * table["rep_share"]
    if probability is not None:
        if funnel is None:
            raise FunnelsimValueError("error.target_needs_funnel")
        probability = check_open_probability("probability", probability)
        table["calls"], table["calls_expected"] = _calls_for_parts(
            funnel, table["target"], probability, deal_size
        )
    return TargetSplit(table, target, probability)


def _month_labels(months: object, expected: int | None) -> list[Any]:
    """Month labels: 1..m for a number, the labels given, or 1..expected (12 when free)."""
    if months is None:
        return list(range(1, (expected or 12) + 1))
    if isinstance(months, int | np.integer) and not isinstance(months, bool):
        labels: list[Any] = list(range(1, check_count("months", months, minimum=1) + 1))
    else:
        labels = list(check_sequence("months", months))
    if not labels or len(set(labels)) != len(labels) or expected not in (None, len(labels)):
        raise FunnelsimValueError("error.target_months", n=len(labels), expected=expected)
    return labels


def _calls_for_parts(
    funnel: Fit | Funnel, targets: pd.Series, probability: float, deal_size: object
) -> tuple[list[int], list[int]]:
    size = DealSize.coerce(deal_size)
    point = funnel.to_funnel() if isinstance(funnel, Fit) else check_funnel(funnel)
    calls, expected = [], []
    cache: dict[float, tuple[int, int]] = {}
    for amount in targets:
        key = round(float(amount), 9)
        if key not in cache:
            if isinstance(funnel, Fit):
                plan = plan_calls(funnel, key, probability, deal_size=size, rng=0)
                n = int(plan.table["calls"].iloc[-1])
            else:
                n = calls_for_target(point, key, probability, deal_size=size)
            cache[key] = (n, calls_for_expected(point, key, deal_size=size))
        calls.append(cache[key][0])
        expected.append(cache[key][1])
    return calls, expected


# -------------------------------------------------------------- attainment
@dataclass(frozen=True)
class Attainment:
    """Result of :func:`attainment`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per rep and a last row ``"team"``: ``rep``, ``actual``,
        ``target``, ``target_to_date`` (``target * elapsed``), ``attainment``
        (达成率, ``actual / target``), ``pace`` (``actual / target_to_date``),
        ``gap`` (what is left to reach the target), and with a forecast
        ``p_finish`` (chance of finishing at or above target) and ``p_se``
        (its Monte Carlo standard error).
    elapsed : float

    Examples
    --------
    >>> import funnelsim as fs
    >>> att = fs.attainment({"Li": 30, "Wang": 10}, {"Li": 60, "Wang": 40}, elapsed=0.5)
    >>> att.to_frame()["attainment"].tolist()
    [0.5, 0.25, 0.4]
    """

    table: pd.DataFrame
    elapsed: float

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy).

        >>> import funnelsim as fs
        >>> fs.attainment({"Li": 30}, {"Li": 60}, elapsed=0.5).to_frame()["pace"].tolist()
        [1.0, 1.0]
        """
        return self.table.copy()

    def __repr__(self) -> str:
        team = self.table.iloc[-1]
        p = team.get("p_finish", math.nan)
        return t(
            "repr.attainment",
            who=t("repr.attainment.reps", reps=len(self.table) - 1)
            if len(self.table) > 1
            else t("repr.attainment.team"),
            elapsed=self.elapsed,
            actual=team["actual"],
            target=team["target"],
            attainment=team["attainment"],
            p=t("repr.attainment.p", p=p) if not pd.isna(p) else "",
        )


def _amounts(name: str, values: object) -> pd.Series:
    if isinstance(values, Mapping):
        values = pd.Series(dict(values), dtype=float)
    if not isinstance(values, pd.Series):
        values = pd.Series({"team": values})
    out = {}
    for rep, v in values.items():
        out[rep] = check_nonnegative(f"{name}[{rep!r}]", v)
    return pd.Series(out, dtype=float)


def attainment(
    actual: Mapping[Any, float] | pd.Series | float,
    target: Mapping[Any, float] | pd.Series | float,
    *,
    elapsed: float,
    forecast: Forecast | Mapping[Any, Forecast] | None = None,
    to_date: Mapping[Any, float] | pd.Series | float | None = None,
) -> Attainment:
    """Actual against target to date (达成率) per rep and team, and the chance to finish.

    Parameters
    ----------
    actual : mapping, Series or float
        Amount (or deals) each rep has closed so far in the period; a number
        for the team alone.
    target : mapping, Series or float
        Each rep's target for the whole period (the same reps).
    elapsed : float
        Share of the period gone, in [0, 1] (e.g. 2 months of 12: 2 / 12).
    forecast : Forecast or mapping of Forecast, optional
        A :func:`funnelsim.forecast` of the periods left. For the team: a
        forecast without groups. For each rep and the team: a forecast of a
        fit by rep (``fs.fit(log, by="rep")``), whose groups are the reps
        here; the reps' ratios then move together from period to period as
        they did in the history, so the team's chance is not overstated.
        Or one forecast per rep (a mapping; the team's remaining amount is
        then the sum of the reps', replicate by replicate, as if they were
        independent: give them the same ``reps`` and independent seeds).
        ``p_finish`` is the share of replicates with
        ``actual + remaining >= target``.
    to_date : mapping, Series or float, optional
        Each rep's target to date, where the year is not even: a seasonal
        split's months gone (:meth:`TargetSplit.to_date`). By default
        ``target * elapsed``. The pace is ``actual / to_date``.

    Returns
    -------
    Attainment

    Examples
    --------
    Half-way through the quarter, the team has 40 of its 100 deals; what is
    left is 6 weeks of 200 calls at 5 %:

    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.05])
    >>> left = fs.forecast(f, calls=200, periods=6, reps=4000, rng=1)
    >>> att = fs.attainment(40, 100, elapsed=0.5, forecast=left)
    >>> att.to_frame()[["rep", "attainment", "pace", "gap"]]
        rep  attainment  pace   gap
    0  team         0.4   0.8  60.0
    >>> round(float(att.to_frame()["p_finish"].iloc[0]), 2)  # exact: P(Bin(1200, .05) >= 60) = .52
    0.52

    Each rep's chance too, from a forecast of the fit by rep (here the
    sample team's weekly counts, 75 dials a rep a week for 13 weeks):

    >>> by_rep = fs.fit(fs.datasets.load_counts(), by="rep")
    >>> left = fs.forecast(by_rep, calls=75, periods=13, reps=2000, rng=1)
    >>> reps = ["Chen", "Li", "Liu", "Wang", "Zhang", "Zhao"]
    >>> so_far = dict(zip(reps, [9, 12, 10, 6, 8, 11]))            # deals in 13 weeks
    >>> att = fs.attainment(so_far, dict.fromkeys(reps, 20), elapsed=0.5, forecast=left)
    >>> att.to_frame().set_index("rep")[["attainment", "p_finish"]].round(2)
           attainment  p_finish
    rep
    Chen         0.45      0.28
    Li           0.60      0.86
    Liu          0.50      0.57
    Wang         0.30      0.03
    Zhang        0.40      0.13
    Zhao         0.55      0.75
    team         0.47      0.23
    """
    elapsed = check_probability("elapsed", elapsed)
    act = _amounts("actual", actual)
    tgt = _amounts("target", target)
    missing = sorted(map(str, set(act.index) ^ set(tgt.index)))
    if missing:
        raise FunnelsimValueError("error.attainment_reps", missing=", ".join(missing))
    tgt = tgt.reindex(act.index)
    team_row = len(act) > 1 or act.index[0] != "team"
    frame = pd.DataFrame({"rep": list(act.index), "actual": act.values, "target": tgt.values})
    if team_row:
        frame.loc[len(frame)] = ["team", act.sum(), tgt.sum()]
    if to_date is None:
        frame["target_to_date"] = frame["target"] * elapsed
    else:
        due = _amounts("to_date", to_date)
        odd = sorted(map(str, set(due.index) ^ set(act.index)))
        if odd:
            raise FunnelsimValueError("error.attainment_reps", missing=", ".join(odd))
        due = due.reindex(act.index).to_numpy()
        frame["target_to_date"] = [*due, due.sum()] if team_row else due
    with np.errstate(divide="ignore", invalid="ignore"):
        share = frame["actual"] / frame["target"]
        frame["attainment"] = np.where(frame["target"] > 0, share, np.nan)
        frame["pace"] = np.where(
            frame["target_to_date"] > 0, frame["actual"] / frame["target_to_date"], np.nan
        )
    frame["gap"] = np.maximum(frame["target"] - frame["actual"], 0.0)
    if forecast is not None:
        remaining = _remaining(forecast, list(act.index), team_row)
        p, se = [], []
        for row in frame.itertuples():
            left = remaining.get(row.rep)
            if left is None:
                p.append(np.nan)
                se.append(np.nan)
                continue
            hit = (row.actual + left >= row.target * (1 - 1e-12)).mean()
            p.append(float(hit))
            se.append(math.sqrt(hit * (1 - hit) / len(left)))
        frame["p_finish"] = p
        frame["p_se"] = se
    return Attainment(frame, elapsed)


def _remaining(
    forecast: Forecast | Mapping[Any, Forecast], reps: list[Any], team_row: bool
) -> dict[Any, np.ndarray]:
    if isinstance(forecast, Forecast):
        groups = forecast.revenue_by_group
        if groups is None:
            return {"team": forecast.revenue.sum(axis=1)}
        labels = {group_label(k): k for k in groups}
        missing = [r for r in reps if r not in groups and str(r) not in labels]
        named = {str(r) for r in reps}
        extra = [label for label in labels if label not in named] if team_row else []
        if missing or extra:
            raise FunnelsimValueError(
                "error.attainment_forecast_groups",
                missing=", ".join(map(str, missing)) or "-",
                extra=", ".join(extra) or "-",
                groups=", ".join(labels),
            )
        out = {r: groups[r if r in groups else labels[str(r)]].sum(axis=1) for r in reps}
        if team_row:
            out["team"] = forecast.revenue.sum(axis=1)
        return out
    missing = [r for r in reps if r not in forecast]
    if missing:
        raise FunnelsimValueError("error.attainment_forecast_reps", missing=missing)
    out = {r: forecast[r].revenue.sum(axis=1) for r in reps}
    sizes = {len(v) for v in out.values()}
    if len(sizes) > 1:
        raise FunnelsimValueError("error.attainment_forecast_reps", missing=sorted(sizes))
    if team_row:
        out["team"] = np.sum(list(out.values()), axis=0)
    return out


# --------------------------------------------------------------- headcount
@dataclass(frozen=True)
class Headcount:
    """Result of :func:`reps_needed`.

    Attributes
    ----------
    reps : int
        Fewest reps whose calls reach the target with at least ``probability``.
    reps_expected : int
        Reps whose *expected* result is the target (rounded up): the decks' sizing.
    calls_per_rep : int
        ``calls_per_rep_day * working_days``.
    calls_needed : int
        Fewest calls in all (:func:`funnelsim.calls_for_target`).
    p_reach : float
        Chance of the target with ``reps`` reps.
    p_reach_expected : float
        Chance of the target with ``reps_expected`` reps.
    target, probability : float

    Examples
    --------
    >>> import funnelsim as fs
    >>> f = fs.Funnel(["calls", "sales"], [0.05])
    >>> hc = fs.reps_needed(50, 0.9, f, calls_per_rep_day=10, working_days=20, deal_size=None)
    >>> hc.reps, hc.reps_expected
    (6, 5)
    """

    reps: int
    reps_expected: int
    calls_per_rep: int
    calls_needed: int
    p_reach: float
    p_reach_expected: float
    target: float
    probability: float

    def to_frame(self) -> pd.DataFrame:
        """One row per sizing (``"probability"``, ``"expected"``): reps, calls, chance.

        >>> import funnelsim as fs
        >>> f = fs.Funnel(["calls", "sales"], [0.05])
        >>> hc = fs.reps_needed(50, 0.9, f, calls_per_rep_day=10, working_days=20, deal_size=None)
        >>> hc.to_frame()["reps"].tolist()
        [6, 5]
        """
        return pd.DataFrame(
            {
                "sizing": ["probability", "expected"],
                "reps": [self.reps, self.reps_expected],
                "calls": [self.reps * self.calls_per_rep, self.reps_expected * self.calls_per_rep],
                "p_reach": [self.p_reach, self.p_reach_expected],
            }
        )

    def __repr__(self) -> str:
        return t(
            "repr.headcount",
            reps=self.reps,
            target=self.target,
            probability=self.probability,
            p=self.p_reach,
            expected=self.reps_expected,
            p_expected=self.p_reach_expected,
        )


def reps_needed(
    target: float,
    probability: float,
    funnel: Funnel,
    *,
    calls_per_rep_day: int,
    working_days: int,
    deal_size: DealSize | float | None,
) -> Headcount:
    """Headcount for a target at a probability: the fewest reps whose calls reach it.

    Every rep makes ``calls_per_rep_day * working_days`` calls; ``n`` reps
    make ``n`` times that, and deals are ``Binomial(calls, p)`` (revenue adds
    a deal size per deal, :func:`funnelsim.theory.prob_reach`). The chance of
    the target rises with the calls, so the fewest reps is
    ``ceil(calls_needed / calls_per_rep)`` with ``calls_needed`` from
    :func:`funnelsim.calls_for_target`: exact for deals and for fixed and gamma
    deal sizes.

    Parameters
    ----------
    target : float
        Deals (``deal_size`` None) or money over the working days.
    probability : float
        Chance of reaching the target, strictly between 0 and 1.
    funnel : Funnel
    calls_per_rep_day : int
        Calls one rep makes a working day.
    working_days : int
        Working days in the target's period.
    deal_size : DealSize, float or None
        Amount of one deal; None counts the target in deals.

    Returns
    -------
    Headcount

    Examples
    --------
    The grade ladder's 10,000,000 at 200,000 an order (50 A-grade clients)
    with the daily ratio game's funnel, 60 dials a day and 250 working days:

    >>> import funnelsim as fs
    >>> game = fs.presets.get("daily ratio game").funnel
    >>> hc = fs.reps_needed(
    ...     10_000_000, 0.9, game, calls_per_rep_day=60, working_days=250, deal_size=200_000
    ... )
    >>> hc.reps, hc.reps_expected, round(hc.p_reach_expected, 2)
    (1, 1, 1.0)
    >>> hc = fs.reps_needed(
    ...     10_000_000, 0.9, game, calls_per_rep_day=15, working_days=250, deal_size=200_000
    ... )
    >>> hc.reps, hc.reps_expected, round(hc.p_reach_expected, 2)
    (2, 2, 0.95)
    """
    funnel = check_funnel(funnel)
    target = check_nonnegative("target", target)
    probability = check_open_probability("probability", probability)
    per_day = check_count("calls_per_rep_day", calls_per_rep_day, minimum=1)
    days = check_count("working_days", working_days, minimum=1)
    size = DealSize.coerce(deal_size)
    per_rep = per_day * days
    needed = calls_for_target(funnel, target, probability, deal_size=size)
    reps = math.ceil(needed / per_rep)
    expected = math.ceil(calls_for_expected(funnel, target, deal_size=size) / per_rep)
    return Headcount(
        reps=reps,
        reps_expected=expected,
        calls_per_rep=per_rep,
        calls_needed=needed,
        p_reach=prob_reach(funnel, reps * per_rep, target, deal_size=size),
        p_reach_expected=prob_reach(funnel, expected * per_rep, target, deal_size=size),
        target=target,
        probability=probability,
    )


# ------------------------------------------------------------ targets sheet
#: Column names of a targets sheet (compared without case), field by field.
TARGET_COLUMNS = {
    "rep": ("rep", "销售", "坐席", "负责人", "业务员", "销售代表", "姓名", "员工"),
    "actual": (
        "actual", "实际", "实际完成", "完成", "已完成", "完成额", "业绩", "实际业绩", "已完成金额",
    ),
    "target": ("target", "目标", "目标值", "年度目标", "全年目标", "任务", "指标"),
}  # fmt: skip


def read_targets(
    source: str | os.PathLike | pd.DataFrame, *, encoding: str | None = None
) -> pd.DataFrame:
    """A manager's sheet of each rep's target and sales to date, for :func:`attainment`.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A CSV, Excel or Parquet file, or a DataFrame, with a column for the
        rep, the sales to date (``actual``) and the period's ``target``, named
        as a manager's sheet names them (销售 / 姓名, 实际 / 完成额 / 业绩,
        目标 / 年度目标 / 指标...; see :data:`TARGET_COLUMNS`). Amounts may
        have thousands separators. The file is only read.
    encoding : str, optional
        As in :func:`funnelsim.read_log`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``rep`` (as text): ``actual`` and ``target``.

    Raises
    ------
    FunnelsimValueError
        A column missing (with the columns the sheet has and a did-you-mean),
        or a cell that is not a number (naming its row and column).

    Examples
    --------
    >>> import funnelsim as fs
    >>> sheet = fs.read_targets(fs.datasets.path("sample_targets.csv"))
    >>> sheet.loc["Chen"].tolist()
    [333610.0, 700000.0]
    >>> att = fs.attainment(sheet["actual"], sheet["target"], elapsed=0.5)
    """
    src = read_source(source, encoding=encoding)
    frame = src.frame
    lower = {str(c).strip().casefold(): c for c in frame.columns}
    found = {}
    for name, words in TARGET_COLUMNS.items():
        column = next((lower[w.casefold()] for w in words if w.casefold() in lower), None)
        if column is not None:
            found[name] = column
    missing = [n for n in TARGET_COLUMNS if n not in found]
    if missing:
        spare = [c for c in frame.columns if c not in found.values()]
        raise FunnelsimValueError(
            "targets.error.columns",
            name=src.name,
            missing=", ".join(missing),
            columns=", ".join(map(str, frame.columns)) or "-",
            hint=_target_guess(missing, spare),
        )
    rep = frame[found["rep"]].astype(str).to_numpy()
    out = {}
    for name in ("actual", "target"):
        cells = frame[found[name]].astype(str).str.strip().str.replace(",", "", regex=False)
        values = pd.to_numeric(cells, errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            raise FunnelsimValueError(
                "targets.error.value",
                name=src.name,
                row=int(src.rownum[bad[0]]),
                column=found[name],
                value=repr(frame[found[name]].iloc[bad[0]]),
            )
        out[name] = values.to_numpy(float)
    return pd.DataFrame(out, index=pd.Index(rep, name="rep"))


def _target_guess(missing: list[str], spare: list[object]) -> str:
    """'did you mean' for each missing column of a targets sheet ('' when none)."""
    guesses = []
    for name in missing:
        words = [w.casefold() for w in TARGET_COLUMNS[name]]
        for column in spare:
            if difflib.get_close_matches(str(column).strip().casefold(), words, n=1, cutoff=0.5):
                guesses.append(t("targets.error.guess", field=name, column=column))
                break
    return "".join(guesses)
