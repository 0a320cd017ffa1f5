"""Back-tests: would the forecast bands have held the actual numbers on this log?

:func:`backtest` replays the past on the user's own log. At each origin (the
start of a cohort: a week or month of first-stage times, or a counts log's
period) it fits the ratios on what was known then only (earlier cohorts whose
outcome was already known, and within them only the stage times within the
horizon), forecasts the cohort's last-stage count from its first-stage count,
and compares the forecast with what happened. Three bands side by side:

- ``point``: the ratios fixed at their point estimates (binomial chance only);
- ``parameter``: each replicate draws its ratios from their posteriors;
- ``overdispersed``: the ratios also move from period to period (a beta
  random effect with the history's ``rho``, for the steps whose test of "no
  extra variation" rejects).

For each band and level: coverage (the share of origins whose actual is
inside the central interval), the randomised PIT (flat when the forecast
distribution is right) and the interval score of Gneiting & Raftery (2007),
which rewards narrow bands and punishes misses.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_choice, check_count, check_rng, short, type_name
from .estimate import fit as fit_log
from .forecasting import forecast
from .i18n import FunnelsimTypeError, FunnelsimValueError, t
from .logs import Log, require_leads
from .simulation import split_streams
from .young import YoungLeadsWarning

__all__ = [
    "Backtest",
    "BacktestCutoffWarning",
    "BacktestWarning",
    "backtest",
    "cutoff_start",
    "interval_score",
    "randomised_pit",
]

#: The bands, from the most confident to the most honest.
BANDS = ("point", "parameter", "overdispersed")


class BacktestWarning(UserWarning):
    """Something about a back-test the reader should know (an option it could not use).

    The command line prints it as a ``note:`` line.

    >>> import funnelsim as fs
    >>> issubclass(fs.BacktestCutoffWarning, fs.BacktestWarning)
    True
    """


class BacktestCutoffWarning(BacktestWarning):
    """The log's first last-stage time comes long after its first first-stage time.

    Its early cohorts look cut off (no wins recorded yet then): pass ``start=``
    to back-test from the first cohort that could have won.

    >>> import funnelsim as fs
    >>> issubclass(fs.BacktestCutoffWarning, UserWarning)
    True
    """


def interval_score(low: np.ndarray, high: np.ndarray, actual: np.ndarray, level: float):
    """Interval score of a central interval (Gneiting & Raftery 2007, eq. 43).

    ``(high - low) + 2 / a * (low - y) * [y < low] + 2 / a * (y - high) * [y > high]``
    with ``a = 1 - level``: the width plus a penalty for a miss that grows with
    how far it missed. Lower is better.

    Examples
    --------
    >>> from funnelsim.backtesting import interval_score
    >>> float(interval_score(2, 6, 4, 0.8)), float(interval_score(2, 6, 9, 0.8))
    (4.0, 34.0)
    """
    low, high, y = (np.asarray(v, dtype=float) for v in (low, high, actual))
    a = 1.0 - level
    return (high - low) + 2 / a * (low - y) * (y < low) + 2 / a * (y - high) * (y > high)


def randomised_pit(samples: np.ndarray, actual: float, v: float) -> float:
    """Randomised probability integral transform of a count against forecast draws.

    ``u = F(y - 1) + v (F(y) - F(y - 1))`` with ``F`` the draws' empirical
    cdf and ``v`` uniform on [0, 1]: uniform on [0, 1] when the forecast is
    right, piled at the edges when its bands are too narrow.

    Examples
    --------
    >>> import numpy as np
    >>> from funnelsim.backtesting import randomised_pit
    >>> randomised_pit(np.array([0, 1, 1, 2]), 1, 0.5)   # F(0) = 0.25, F(1) = 0.75
    0.5
    """
    s = np.asarray(samples)
    below = float(np.mean(s <= actual - 1))
    upto = float(np.mean(s <= actual))
    return below + v * (upto - below)


@dataclass(frozen=True, repr=False)
class Backtest:
    """Result of :func:`backtest`: per origin and band, the forecast against the actual.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per origin and band: ``origin`` (the cohort's label),
        ``start`` (its first day; NaT for periods that are not dates),
        ``band``, ``history`` (cohorts fitted), ``calls`` (the cohort's
        first-stage count), ``actual`` (its last-stage count, within the
        horizon), ``mean``, ``rho`` (the largest between-period correlation
        the band applied to a step; 0 when none), ``pit``, and per level
        (``80`` for 0.8): ``low_80``, ``high_80``, ``inside_80``,
        ``claim_80`` (the band's own probability under its forecast: what it
        holds if right, at least the level) and ``score_80``.
    cohorts : pandas.DataFrame
        Every cohort of the log: ``origin``, ``start``, ``calls``, ``actual``,
        ``known`` (its outcome is known by the log's ``as_of``).
    levels : tuple of float
        Central-interval levels.
    horizon : float or None
        Days within which a lead must reach the last stage (dated logs).
    period : str
        ``"week"``, ``"month"`` or ``"period"``.
    reps : int
        Forecast replicates per origin.
    name : str
        The log's name.
    stage : str
        The last stage (whose count is forecast).

    Examples
    --------
    >>> import funnelsim as fs
    >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
    >>> bt.table[["origin", "band", "calls", "actual"]].head(3)
        origin           band  calls  actual
    0  2008-12          point     10       1
    1  2008-12      parameter     10       1
    2  2008-12  overdispersed     10       1
    """

    table: pd.DataFrame
    cohorts: pd.DataFrame
    levels: tuple[float, ...]
    horizon: float | None
    period: str
    reps: int
    name: str
    stage: str = ""

    def coverage(self) -> pd.DataFrame:
        """Per band and level: ``windows`` (forecasts), ``coverage`` (the share whose
        actual fell inside the band), ``claimed`` (the share a right forecast would
        hold: the mean over the forecasts of the band's own probability, which is
        above the level for small counts, a count band being inclusive), ``se``
        (the standard error of the coverage if the band were right,
        ``sqrt(claimed (1 - claimed) / windows)``), ``width`` (mean) and ``score``
        (mean interval score, lower is better).

        Examples
        --------
        >>> import funnelsim as fs
        >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
        >>> bt.coverage().columns.tolist()
        ['band', 'level', 'windows', 'coverage', 'claimed', 'se', 'width', 'score']
        """
        rows = []
        for band in BANDS:
            part = self.table[self.table["band"] == band]
            for level in self.levels:
                tag = _tag(level)
                n = len(part)
                cov = float(part[f"inside_{tag}"].mean()) if n else math.nan
                claim = float(part[f"claim_{tag}"].mean()) if n else math.nan
                rows.append(
                    {
                        "band": band,
                        "level": level,
                        "windows": n,
                        "coverage": cov,
                        "claimed": claim,
                        "se": math.sqrt(claim * (1 - claim) / n) if n else math.nan,
                        "width": float((part[f"high_{tag}"] - part[f"low_{tag}"]).mean()),
                        "score": float(part[f"score_{tag}"].mean()),
                    }
                )
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """:meth:`coverage` in words, for a person (the command line and the report): the
        bands named, percentages as text, widths and scores rounded.

        Examples
        --------
        >>> import funnelsim as fs
        >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
        >>> bt.summary().columns[:5].tolist()
        ['band', 'level', 'forecasts', 'held', 'if right']
        """
        cov = self.coverage()
        names = t("backtest.columns").split(",")
        return pd.DataFrame(
            {
                names[0]: [t(f"backtest.band.{b}") for b in cov["band"]],
                names[1]: [f"{x:.0%}" for x in cov["level"]],
                names[2]: cov["windows"],
                names[3]: [f"{x:.0%}" for x in cov["coverage"]],
                names[4]: [f"{x:.0%}" for x in cov["claimed"]],
                names[5]: [f"{x:.0%}" for x in cov["se"]],
                names[6]: cov["width"].round(1),
                names[7]: cov["score"].round(1),
            }
        )

    def verdict(self, level: float = 0.8) -> list[str]:
        """What the coverages say, in sentences (the command line and the report print them).

        The band that lets the ratios move is judged against what it would hold
        if it were right (``claimed``, within two standard errors); then the
        bands with fixed ratios. With fewer than 10 forecasts, a word of caution
        first.

        Examples
        --------
        >>> import funnelsim as fs
        >>> import textwrap
        >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
        >>> print(textwrap.fill(bt.verdict()[0], 88))
        Even the band that lets the ratio move held the actual in 3 of 20 forecasts, against
        about 83% if it were right: the ratio moved in ways the earlier periods did not show (a
        drift, new lead lists). Read this log's forecasts as too sure of themselves; fitting on
        the recent periods only (window=, --window) may help.
        """
        cov = self.coverage()
        cov = cov[np.isclose(cov["level"], level)].set_index("band")
        if cov.empty or not cov["windows"].iloc[0]:
            return []
        n = int(cov["windows"].iloc[0])
        out = []
        if n < 10:
            out.append(t("backtest.verdict.few", n=n, step=1 / n))

        def short_of(band: str) -> bool:
            row = cov.loc[band]
            return row["coverage"] < row["claimed"] - 2 * row["se"] - 1e-12

        over = cov.loc["overdispersed"]
        held = round(over["coverage"] * n)
        if short_of("overdispersed"):
            out.append(t("backtest.verdict.drift", held=held, n=n, claimed=over["claimed"]))
        elif short_of("point") or short_of("parameter"):
            point = round(cov.loc["point", "coverage"] * n)
            out.append(t("backtest.verdict.moving", held=held, n=n, point=point))
        else:
            out.append(t("backtest.verdict.fine", held=held, n=n))
        return out

    def pit(self, band: str = "overdispersed", bins: int = 10) -> pd.DataFrame:
        """Histogram of the randomised PIT of one band: ``low``, ``high``, ``count``,
        ``density`` (1 everywhere for a calibrated forecast).

        Examples
        --------
        >>> import funnelsim as fs
        >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
        >>> int(bt.pit("point", bins=5)["count"].sum()) == len(bt.table) // 3
        True
        """
        band = check_choice("band", band, BANDS)
        bins = check_count("bins", bins, minimum=1)
        u = self.table.loc[self.table["band"] == band, "pit"].to_numpy(float)
        edges = np.linspace(0.0, 1.0, bins + 1)
        count, _ = np.histogram(u, bins=edges)
        density = count * bins / max(len(u), 1)
        return pd.DataFrame(
            {"low": edges[:-1], "high": edges[1:], "count": count, "density": density}
        )

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per origin, band and level (``low``, ``high``,
        ``inside``, ``claim``, ``score``, with ``actual``, ``calls``, ``mean``, ``pit``).

        Examples
        --------
        >>> import funnelsim as fs
        >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=500, rng=1)
        >>> frame = bt.to_frame()
        >>> len(frame) == 3 * len(bt.table), sorted(frame["level"].unique().tolist())
        (True, [0.5, 0.8, 0.95])
        """
        keep = ["origin", "start", "band", "history", "calls", "actual", "mean", "rho", "pit"]
        parts = []
        for level in self.levels:
            tag = _tag(level)
            part = self.table[keep].copy()
            part.insert(3, "level", level)
            for name in ("low", "high", "inside", "claim", "score"):
                part[name] = self.table[f"{name}_{tag}"].to_numpy()
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def __repr__(self) -> str:
        cov = self.coverage()
        level = 0.8 if 0.8 in self.levels else self.levels[len(self.levels) // 2]
        cov = cov[cov["level"] == level].set_index("band")
        windows = int(cov["windows"].iloc[0]) if len(cov) else 0
        bands = t("repr.backtest.sep").join(
            t("repr.backtest.band", band=t(f"backtest.band.{b}"), coverage=cov.loc[b, "coverage"])
            for b in BANDS
        )
        horizon = "" if self.horizon is None else t("repr.backtest.horizon", days=self.horizon)
        return t(
            "repr.backtest",
            name=self.name,
            windows=windows,
            period=t(f"backtest.period.{self.period}"),
            horizon=horizon,
            level=level,
            bands=bands,
        )


def _tag(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")


def _horizon_days(horizon: object) -> float:
    if isinstance(horizon, bool):
        raise FunnelsimValueError("error.backtest_horizon", value=short(horizon))
    if isinstance(horizon, int | float | np.integer | np.floating):
        days = float(horizon)
    elif isinstance(horizon, str | pd.Timedelta):
        try:
            days = pd.Timedelta(horizon) / pd.Timedelta(days=1)
        except (TypeError, ValueError):
            raise FunnelsimValueError("error.backtest_horizon", value=short(horizon)) from None
    else:
        raise FunnelsimTypeError(
            "error.backtest_horizon_type", value=short(horizon), type=type_name(horizon)
        )
    if not math.isfinite(days) or days <= 0:
        raise FunnelsimValueError("error.backtest_horizon", value=short(horizon))
    return days


def _dated(log: Log) -> bool:
    return log.format != "counts" and log.times is not None and not log.times.empty


def _first_times(log: Log) -> pd.Series:
    """Each lead's first-stage time (its earliest time when that one is unknown)."""
    times = log.times.reindex(columns=list(log.stages))
    if getattr(times.iloc[:, 0].dt, "tz", None) is not None:
        times = times.apply(lambda c: c.dt.tz_convert(None))
    first = times.iloc[:, 0]
    return first.fillna(times.min(axis=1)), times


def _dated_cohorts(log: Log, horizon: float, period: str):
    """Cohorts of a dated log, and the function that builds the log known at an origin."""
    first, times = _first_times(log)
    day = first.dt.normalize()
    if period == "week":
        start = day - pd.to_timedelta(day.dt.dayofweek, unit="D")
    else:
        start = day.dt.to_period("M").dt.start_time
    reach = log.reached.reindex(columns=list(log.stages)).to_numpy(bool)
    limit = (first + pd.Timedelta(days=horizon)).to_numpy()[:, None]
    within = reach & (times.to_numpy() <= limit)
    within[:, 0] = reach[:, 0]
    # a stage is reached within the horizon when its time is, or a later stage's is
    for k in range(len(log.stages) - 2, 0, -1):
        within[:, k] |= within[:, k + 1]
    dated = first.notna().to_numpy()
    starts = pd.DatetimeIndex(sorted(start[dated].unique()))
    step = pd.DateOffset(weeks=1) if period == "week" else pd.DateOffset(months=1)
    ends = starts + step
    lead_start = start.to_numpy()
    calls = [int(within[lead_start == s, 0].sum()) for s in starts]
    actual = [int(within[lead_start == s, -1].sum()) for s in starts]
    fmt = "%Y-%m-%d" if period == "week" else "%Y-%m"
    cohorts = pd.DataFrame(
        {
            "origin": starts.strftime(fmt),
            "start": starts,
            "calls": calls,
            "actual": actual,
            "known": (ends + pd.Timedelta(days=horizon)) <= log.as_of
            if log.as_of is not None
            else True,
        }
    )
    reached = pd.DataFrame(within, index=log.reached.index, columns=list(log.stages))
    cut = times.where(pd.DataFrame(within, index=times.index, columns=times.columns))

    def history(chosen: Sequence[int], origin: pd.Timestamp) -> Log:
        mask = np.isin(lead_start, starts[list(chosen)].to_numpy())
        return dataclasses.replace(
            log,
            leads=log.leads.loc[mask],
            reached=reached.loc[mask],
            times=cut.loc[mask],
            as_of=origin,
            attempts=None,
            demotions=None,
            skipped=None,
            closed=None,
        )

    known_by = ends + pd.Timedelta(days=horizon)  # cohort j is known at origin s when <= s
    return cohorts, history, known_by, int((~dated).sum())


def _period_cohorts(log: Log):
    """Cohorts of a counts log (its periods) or of an undated lead log with a period."""
    first, last = log.stages[0], log.stages[-1]
    if log.format == "counts":
        frame = log.counts
        if "period" not in frame.columns:
            raise FunnelsimValueError("error.backtest_no_periods", name=log.name)
        period = frame["period"]
        ones, wins = frame[first].to_numpy(), frame[last].to_numpy()
    else:
        frame = log.leads
        if frame is None or "period" not in frame.columns:
            raise FunnelsimValueError("error.backtest_no_periods", name=log.name)
        period = frame["period"]
        ones = log.reached[first].to_numpy(int)
        wins = (log.reached[last] & log.reached[first]).to_numpy(int)
    codes, labels = pd.factorize(pd.Series(period.to_numpy()), sort=False)
    order = _chronological(pd.Index(labels))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    labels = pd.Index(labels)[order]
    n = len(labels)
    calls = np.bincount(codes[codes >= 0], weights=ones[codes >= 0], minlength=n)
    actual = np.bincount(codes[codes >= 0], weights=wins[codes >= 0], minlength=n)
    is_date = pd.api.types.is_datetime64_any_dtype(labels)
    cohorts = pd.DataFrame(
        {
            "origin": labels.strftime("%Y-%m-%d") if is_date else labels.astype(str),
            "start": labels if is_date else pd.NaT,
            "calls": calls.astype(np.int64),
            "actual": actual.astype(np.int64),
            "known": True,
        }
    )

    def history(chosen: Sequence[int], origin: object) -> Log:
        mask = np.isin(codes, np.asarray(chosen, dtype=codes.dtype))
        if log.format == "counts":
            return dataclasses.replace(log, counts=log.counts.loc[mask].reset_index(drop=True))
        return dataclasses.replace(
            log,
            leads=log.leads.loc[mask],
            reached=log.reached.loc[mask],
            times=None,
            attempts=None,
            demotions=None,
            skipped=None,
            closed=None,
        )

    return cohorts, history, int((codes < 0).sum())


def _chronological(labels: pd.Index) -> np.ndarray:
    """The order of period labels in time: dates and periods by date, labels that all
    read as dates ("2024-05", "2024-05-06") too, else naturally (``w2`` before
    ``w10``: the numbers inside a label compared as numbers).

    >>> import pandas as pd
    >>> _chronological(pd.Index(["w10", "w2", "w1"])).tolist()
    [2, 1, 0]
    >>> _chronological(pd.Index(["2024-03", "2023-12", "2024-01"])).tolist()
    [1, 2, 0]
    """
    if pd.api.types.is_datetime64_any_dtype(labels) or isinstance(labels, pd.PeriodIndex):
        return np.argsort(np.asarray(labels), kind="stable")
    text = labels.astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        when = pd.to_datetime(pd.Series(text), errors="coerce")
    if when.notna().all():
        return np.argsort(when.to_numpy(), kind="stable")
    keys = [_natural(x) for x in text]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def _natural(text: str) -> tuple:
    """``"w10"`` -> numbers compared as numbers; a year (a number from 1900 to 2199) first,
    wherever it stands, so that ``"W52-2024"`` comes before ``"W1-2025"``.

    >>> sorted(["W1-2025", "W2-2024", "W52-2024"], key=_natural)
    ['W2-2024', 'W52-2024', 'W1-2025']
    >>> sorted(["w10", "w2", "w1"], key=_natural)
    ['w1', 'w2', 'w10']
    """
    parts = [p for p in re.split(r"(\d+)", text) if p]
    years = tuple(int(p) for p in parts if p.isdigit() and len(p) == 4 and 1900 <= int(p) < 2200)
    rest = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
        for p in parts
        if not (p.isdigit() and len(p) == 4 and 1900 <= int(p) < 2200)
    )
    return years, rest


def _moves(fitted, dated: bool, grouping: str):
    """The history's between-period moves (dated cohorts: by the cohorts' own week or month;
    periods: as ``forecast(between="auto")`` reads them), or None when none can be read."""
    try:
        return fitted.dispersion(grouping if dated else None)
    except FunnelsimValueError:  # no periods to read: the ratios stay fixed
        return None


def backtest(
    log: Log,
    *,
    horizon: float | str | None = None,
    period: str | None = None,
    start: object = None,
    window: int | None = None,
    min_history: int = 6,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    reps: int = 4000,
    rng: np.random.Generator | int | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
) -> Backtest:
    """Rolling-origin back-test of the forecast bands on the log itself, without look-ahead.

    Cohorts are a dated lead log's weeks (Monday first, as
    ``Log.stage_table(by="week")``) or months of first-stage time, a counts
    log's periods, or an undated lead log's ``period`` column. A dated
    cohort's outcome is the number of its leads that reached the last stage
    within ``horizon`` days of their first-stage time; a period's outcome is
    its last-stage count. At each origin (the cohort's start) the ratios are
    fitted (:func:`funnelsim.fit`) on a log holding only what was known then:
    the earlier cohorts whose outcome was known (cohort end + horizon <=
    origin) and, within them, only the stage times within the horizon of
    each lead's first time; then the cohort's outcome is forecast from its
    first-stage count (:func:`funnelsim.forecast`, one period) with three
    bands: ``point`` (ratios fixed), ``parameter`` (ratios drawn from their
    posteriors) and ``overdispersed`` (the ratios also move between periods).

    Parameters
    ----------
    log : Log
        A dated lead-level log, a counts log with periods, or a lead log with
        a ``period`` column.
    horizon : float or str, optional
        Days (``30`` or ``"30D"``) within which a lead must reach the last
        stage to count; required for dated logs, ignored otherwise.
    period : {"week", "month"}, optional
        Cohorts of a dated log (default ``"week"``).
    start : date or period label, optional
        Drop cohorts before it (for a log whose early cohorts look cut off).
    window : int, optional
        Fit on the last ``window`` known cohorts only (default: all).
    min_history : int, default 6
        Origins need at least this many known cohorts before them.
    levels : sequence of float, default (0.5, 0.8, 0.95)
        Central-interval levels.
    reps : int, default 4000
        Forecast replicates per origin and band.
    rng : numpy.random.Generator, int or None
        Randomness (SPEC 7). Each cohort has its own stream, so an origin's
        forecast does not depend on anything that happened after it.
    progress : bool or callable, optional
        True: a progress bar over origins; a callable ``f(done, total)`` is
        called after each origin.

    Returns
    -------
    Backtest
        ``.table``, ``.coverage()``, ``.pit(band)``, ``.to_frame()``.

    Warns
    -----
    BacktestCutoffWarning
        A dated log whose first last-stage time comes more than ``horizon``
        after its first first-stage time: early cohorts look cut off;
        the message suggests ``start=``.

    Examples
    --------
    The bank log by month: the point and parameter bands are far too narrow
    (the months move far more than binomial chance allows); letting the
    ratio move widens the band, yet the bank's rate drifted (5 % in 2008, over
    40 % in 2010), which no band centred on the past's mean can follow.

    >>> import funnelsim as fs
    >>> bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=2000, rng=1)
    >>> cov = bt.coverage().set_index(["band", "level"])["coverage"]
    >>> print(f"{cov['point', 0.8]:.2f} {cov['overdispersed', 0.8]:.2f}")
    0.05 0.15
    """
    if not isinstance(log, Log):
        raise FunnelsimTypeError(
            "error.type_log", name="log", value=short(log), type=type_name(log)
        )
    min_history = check_count("min_history", min_history, minimum=1)
    reps = check_count("reps", reps, minimum=10)
    levels = tuple(float(x) for x in levels)
    if not levels or any(not 0 < x < 1 for x in levels):
        raise FunnelsimValueError("error.backtest_levels", value=short(levels))
    if window is not None:
        window = check_count("window", window, minimum=1)
        if window < min_history:
            raise FunnelsimValueError(
                "error.backtest_window", window=window, min_history=min_history
            )
    gen = check_rng(rng)
    require_leads(log, "backtest")
    dated = _dated(log)
    days = None
    skipped = 0
    if dated:
        if horizon is None:
            raise FunnelsimValueError("error.backtest_horizon_missing", name=log.name)
        days = _horizon_days(horizon)
        grouping = check_choice("period", period or "week", ("week", "month"))
        cohorts, history, known_by, skipped = _dated_cohorts(log, days, grouping)
    else:
        grouping = "period"
        cohorts, history, skipped = _period_cohorts(log)
        known_by = None
        for name, value in (("horizon", horizon), ("period", period)):
            if value is not None:
                warnings.warn(
                    t("warning.backtest_ignored", name=log.name, option=name),
                    BacktestWarning,
                    stacklevel=2,
                )
    if skipped:
        warnings.warn(t("warning.backtest_undated", name=log.name, n=skipped), stacklevel=2)
    keep = np.ones(len(cohorts), bool)
    if start is not None:
        keep = _after(cohorts, start)
    if dated:
        _warn_cutoff(log, days, grouping, cohorts, keep)
    order = np.flatnonzero(keep)
    streams = split_streams(gen, max(len(cohorts), 2))
    origins = []
    for c in order:
        if not cohorts.loc[c, "known"]:
            continue
        if dated:
            hist = [j for j in order if known_by[j] <= cohorts.loc[c, "start"]]
        else:
            hist = [j for j in order if j < c]
        if window is not None:
            hist = hist[-window:]
        if len(hist) >= min_history:
            origins.append((c, hist))
    if not origins:
        raise FunnelsimValueError(
            "error.backtest_no_origins",
            name=log.name,
            cohorts=int(keep.sum()),
            min_history=min_history,
        )
    bar = _bar(progress, len(origins))
    rows = []
    try:
        for done, (c, hist) in enumerate(origins, 1):
            rows.extend(_one_origin(cohorts, c, hist, history, grouping, levels, reps, streams[c]))
            if callable(progress):
                progress(done, len(origins))
            elif bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    columns = ["origin", "start", "band", "history", "calls", "actual", "mean", "rho", "pit"]
    for level in levels:
        tag = _tag(level)
        columns += [f"low_{tag}", f"high_{tag}", f"inside_{tag}", f"claim_{tag}", f"score_{tag}"]
    table = pd.DataFrame(rows, columns=columns)
    return Backtest(table, cohorts, levels, days, grouping, reps, log.name, log.stages[-1])


def _bar(progress, total):
    if progress is True:
        from tqdm.auto import tqdm  # lazy: heavy, only when a bar is asked for

        return tqdm(total=total, desc=t("progress.backtest"), unit=t("progress.origin"))
    return None


def _after(cohorts: pd.DataFrame, start: object) -> np.ndarray:
    """Cohorts at or after ``start`` (a date for dated cohorts, else a period label:
    from that label on, the cohorts being in time order)."""
    if cohorts["start"].notna().all():
        try:
            when = pd.Timestamp(start)
        except (TypeError, ValueError):
            raise FunnelsimValueError("error.backtest_start", value=short(start)) from None
        return (cohorts["start"] >= when).to_numpy()
    labels = cohorts["origin"].astype(str).tolist()
    if str(start) in labels:
        return np.arange(len(labels)) >= labels.index(str(start))
    key = _natural(str(start))
    return np.array([_natural(x) >= key for x in labels])


def cutoff_start(log: Log, horizon: float | str, *, period: str = "week") -> pd.Timestamp | None:
    """Where a back-test of a log whose early cohorts look cut off should start (None: not cut).

    A log whose first last-stage time comes more than ``horizon`` days after
    its first first-stage time recorded no win then (a CRM switched on, an
    export from a date): its early cohorts would be scored as misses. The
    suggestion is the first cohort, from the week (or month) of the first win
    on, in which a lead reached the last stage within the horizon.

    Examples
    --------
    >>> import funnelsim as fs
    >>> cutoff_start(fs.datasets.load_events(), 30) is None   # wins from the first weeks
    True
    """
    if not _dated(log):
        return None
    days = _horizon_days(horizon)
    grouping = check_choice("period", period, ("week", "month"))
    first, times = _first_times(log)
    last = times.iloc[:, -1]
    if last.notna().sum() == 0 or first.isna().all():
        return None
    first_win = last.min()
    if first_win - first.min() <= pd.Timedelta(days=days):
        return None
    cohorts = _dated_cohorts(log, days, grouping)[0]
    day = first_win.normalize()
    begin = day - pd.Timedelta(days=day.dayofweek) if grouping == "week" else day.replace(day=1)
    later = cohorts[(cohorts["start"] >= begin) & (cohorts["actual"] > 0)]
    return later["start"].iloc[0] if len(later) else begin


def _warn_cutoff(log: Log, days: float, grouping: str, cohorts: pd.DataFrame, keep) -> None:
    if not keep.any():
        return
    suggest = cutoff_start(log, days, period=grouping)
    if suggest is None or cohorts.loc[keep, "start"].min() >= suggest:
        return
    first, times = _first_times(log)
    warnings.warn(
        t(
            "warning.backtest_cutoff",
            name=log.name,
            first=first.min().strftime("%Y-%m-%d"),
            last=times.iloc[:, -1].min().strftime("%Y-%m-%d"),
            stage=log.stages[-1],
            start=suggest.strftime("%Y-%m-%d"),
        ),
        BacktestCutoffWarning,
        stacklevel=3,
    )


def _one_origin(cohorts, c, hist, history, grouping, levels, reps, stream):
    """The three bands' rows for the cohort ``c`` fitted on the cohorts ``hist``."""
    origin = cohorts.loc[c, "start"]
    known = history(hist, origin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", YoungLeadsWarning)
        fitted = fit_log(known)
    calls = int(cohorts.loc[c, "calls"])
    y = int(cohorts.loc[c, "actual"])
    param_gen, over_gen, pit_gen = split_streams(stream, 3)
    fc = forecast(fitted, calls=calls, periods=1, reps=reps, between=None, rng=param_gen)
    moves = _moves(fitted, known.format != "counts" and known.times is not None, grouping)
    over = forecast(fitted, calls=calls, periods=1, reps=reps, between=moves, rng=over_gen)
    rho = 0.0 if over.dispersion is None else float(over.dispersion.moving().max())
    draws = {
        "point": fc.point.sales[:, 0],
        "parameter": fc.sales[:, 0],
        "overdispersed": over.sales[:, 0],
    }
    v = pit_gen.random(len(BANDS))
    rows = []
    for b, band in enumerate(BANDS):
        s = np.asarray(draws[band])
        row = {
            "origin": cohorts.loc[c, "origin"],
            "start": origin,
            "band": band,
            "history": len(hist),
            "calls": calls,
            "actual": y,
            "mean": float(s.mean()),
            "rho": rho if band == "overdispersed" else 0.0,
            "pit": randomised_pit(s, y, float(v[b])),
        }
        for level in levels:
            tag = _tag(level)
            low, high = np.quantile(s, [(1 - level) / 2, (1 + level) / 2])
            row[f"low_{tag}"] = float(low)
            row[f"high_{tag}"] = float(high)
            row[f"inside_{tag}"] = bool(low <= y <= high)
            row[f"claim_{tag}"] = float(np.mean((s >= low) & (s <= high)))
            row[f"score_{tag}"] = float(interval_score(low, high, y, level))
        rows.append(row)
    return rows
