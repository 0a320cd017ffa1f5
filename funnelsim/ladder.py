"""The grade ladder: step-up rates E -> D -> C -> B -> A, and the leads a target needs.

The decks grade every lead from E (a name) to A (a signed client).
:func:`grade_ladder` reads a history of grades (with the same rules as
:func:`funnelsim.read_log`: encodings, one :class:`~funnelsim.LogError`
naming file, rows, column and fix, ``errors="drop"`` with a report) and
measures each step-up rate with its interval; :meth:`Ladder.leads_needed`
turns them into the leads needed at each grade for a number of clients.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._columns import (
    recognise_columns,
    resolve,
)
from ._formats import read_dates
from ._problems import (
    Problems,
    coded_cells,
    lead_ids,
)
from ._reader import (
    ERRORS,
    choice,
    empty_dropped,
    fields,
    kept_values,
    quote,
    read_source,
    stage_names,
)
from ._times import date_given
from ._validate import (
    check_choice,
    check_count,
    check_nonnegative,
    check_open_probability,
    check_rng,
    is_numeric,
    short,
)
from .distributions import DealSize
from .estimate import Fit
from .forecasting import moving_ratio_draws, pick_moves
from .funnel import Funnel
from .i18n import FunnelsimValueError, t
from .intervals import METHODS, check_level, interval
from .overdispersion import Dispersion, dispersion_table, period_factors
from .planning import fewest_calls, mixed_prob_reach
from .theory import calls_for_target

__all__ = ["GRADES", "WINDOWS", "Ladder", "grade_ladder"]

#: The decks' grades, lowest first.
GRADES = ("E", "D", "C", "B", "A")
_LADDER_FIELDS = ("lead", "grade", "rep", "source", "segment", "period", "date")
#: The decks' time window per grade: a B signs within two months.
WINDOWS = {"B": 60}


@dataclass(frozen=True, repr=False, eq=False)
class Ladder:
    """Step-up rates of the grade ladder, from :func:`grade_ladder`.

    Attributes
    ----------
    grades : tuple of str
        The grades, lowest first (E, D, C, B, A).
    table : pandas.DataFrame
        One row per step: ``from``, ``to``, ``entered`` (leads that reached
        ``from``), ``passed`` (of those, leads that reached ``to`` or
        higher), ``ratio``, ``low``, ``high``.
    fit : Fit
        The same as a :class:`~funnelsim.Fit` over the grades (so
        ``ladder.fit.sample_ratios``, forecasts and plans work on it).
    leads : pandas.DataFrame
        One row per lead: ``lead``, ``grade`` (the highest reached) and any
        ``rep``, ``source``, ``segment``.
    name : str
    dropped : pandas.DataFrame
    dispersion : Dispersion or None
        With a ``period`` column in the history: how each step-up rate moved
        from period to period (each lead counted in the period of its first
        row), :func:`funnelsim.dispersion`'s table over the periods; None
        without periods.
    dates : pandas.DataFrame or None
        With a ``date`` column in the history: one row per lead (in the
        order of :attr:`leads`), ``lead`` and one column per grade, the date
        the lead reached that grade (its first row at that grade or above:
        the ladder has no skipping back), NaT where it has not; None
        without dates. :meth:`stock` and :meth:`closing_within` read it.

    Examples
    --------
    >>> import funnelsim as fs
    >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    >>> ladder.grades
    ('E', 'D', 'C', 'B', 'A')
    >>> ladder.to_frame()[["from", "to", "entered", "passed", "ratio"]].round(3)
      from to  entered  passed  ratio
    0    E  D     1200     599  0.499
    1    D  C      599     246  0.411
    2    C  B      246     116  0.472
    3    B  A      116      65  0.560
    """

    grades: tuple[str, ...]
    table: pd.DataFrame
    fit: Fit
    leads: pd.DataFrame
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=empty_dropped)
    dispersion: Dispersion | None = None
    dates: pd.DataFrame | None = None

    def to_funnel(self) -> Funnel:
        """The point estimates as a funnel over the grades.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> history = pd.DataFrame({"grade": ["E"] * 50 + ["D"] * 25 + ["C"] * 15
        ...                                  + ["B"] * 6 + ["A"] * 4})
        >>> fs.grade_ladder(history).to_funnel()
        Funnel(E -> D -> C -> B -> A; ratios 0.5, 0.5, 0.4, 0.4; overall 0.04)
        """
        return self.fit.to_funnel()

    def leads_needed(
        self,
        target_sales: float,
        probability: float | None = None,
        *,
        deal_size: DealSize | float | None = None,
        reps: int = 4000,
        rng: np.random.Generator | int | None = None,
        between: str | Dispersion | None = "auto",
    ) -> pd.DataFrame:
        """Leads needed at each grade for ``target_sales`` A-grade clients.

        Parameters
        ----------
        target_sales : float
            A-grade clients (signed deals) wanted; with ``deal_size``, a
            revenue target, turned into ``ceil(target / mean deal size)``
            clients as the decks do (10,000,000 at 200,000 needs 50).
        probability : float, optional
            Without it, the decks' back-calculation only (``expected``:
            divide by each step-up rate and round up). With it, also the
            fewest leads at each grade that reach the clients with this
            chance, on the point estimates (``point``, exact binomial) and
            with the rates' uncertainty (``with_uncertainty``: averaged over
            ``reps`` draws from their Beta posteriors).
        deal_size : DealSize or float, optional
        reps : int
        rng : numpy.random.Generator, int or None
        between : "auto", Dispersion or None, default "auto"
            Whether the leads' period moves the step-up rates as the
            history's periods did (:attr:`dispersion`; ``"auto"`` uses it
            where a step moved more than chance, else nothing changes).
            The leads all come from one period, so ``with_uncertainty``
            then mixes over one period's move too
            (:func:`funnelsim.overdispersion.period_factors`). None leaves
            it out.

        Returns
        -------
        pandas.DataFrame
            One row per grade: ``grade``, ``expected`` and, with a
            probability, ``point`` and ``with_uncertainty``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> history = pd.DataFrame({"grade": ["E"] * 50 + ["D"] * 25 + ["C"] * 15
        ...                                  + ["B"] * 6 + ["A"] * 4})
        >>> ladder = fs.grade_ladder(history)
        >>> ladder.leads_needed(2_000_000, deal_size=200_000)["expected"].tolist()  # 10 clients
        [252, 126, 63, 25, 10]
        >>> ladder.leads_needed(10, 0.9, reps=1000, rng=1)   # 90 % sure of 10 clients
          grade  expected  point  with_uncertainty
        0     E       252    353               564
        1     D       126    175               275
        2     C        63     87               134
        3     B        25     33                48
        4     A        10     10                10
        """
        size = DealSize.coerce(deal_size)
        target = check_nonnegative("target_sales", target_sales)
        clients = math.ceil(target / size.mean - 1e-9) if size is not None else target
        clients = math.ceil(clients - 1e-9)
        funnel = self.to_funnel()
        expected = [clients]
        for r in reversed(funnel.ratios):
            if r == 0:
                raise FunnelsimValueError("error.target_unreachable", funnel=repr(funnel))
            expected.append(math.ceil(expected[-1] / r - 1e-9))
        out = pd.DataFrame({"grade": list(self.grades), "expected": expected[::-1]})
        if probability is None:
            return out
        probability = check_open_probability("probability", probability)
        reps = check_count("reps", reps, minimum=1)
        gen = check_rng(rng)
        moves = pick_moves(between, self.dispersion, tuple(self.grades[1:]))
        if moves is None:
            draws = self.fit.sample_ratios(reps, rng=gen)
        else:
            rho = moves.rho_draws(reps, gen)
            draws = moving_ratio_draws(self.fit, moves, rho, gen)[None]
            means = moves.factor_means()
            draws = np.minimum(draws * period_factors(means, rho, (reps,), gen), 1.0)
        point, mixed = [], []
        for k in range(len(self.grades) - 1):
            sub = Funnel(self.grades[k:], funnel.ratios[k:])
            point.append(calls_for_target(sub, clients, probability))
            overall = draws[:, k:].prod(axis=1)

            def ok(n: int, overall=overall) -> bool:
                return mixed_prob_reach(n, overall, clients, None) >= probability

            mixed.append(fewest_calls(ok, point[-1]))
        point.append(clients)
        mixed.append(clients)
        return out.assign(point=point, with_uncertainty=mixed)

    def stock(self, as_of: object = None) -> pd.DataFrame:
        """The current stock per grade (the decks' pyramid): each lead's grade as of a date.

        Parameters
        ----------
        as_of : date, optional
            The day to read the stock on (a string such as ``"2024-06-30"``
            or a timestamp): each lead counts at the highest grade it reached
            by that day, and leads whose first row is later are not in yet.
            Default: the history's last date. Without a ``date`` column in
            the history, only the default works and each lead counts at its
            highest grade.

        Returns
        -------
        pandas.DataFrame
            One row per grade, lowest first: ``grade``, ``leads`` and
            ``share``. The open grades (all but the top) make the stock:
            their shares add up to 1. The top grade (A, a signed client) is
            closed business, not stock: its row counts the clients signed
            by ``as_of`` and its ``share`` is NaN. The history has no "lost"
            mark, so a lead counts at its grade until it moves. ``.attrs["as_of"]``
            holds the day read (a timestamp; None without dates).

        Examples
        --------
        >>> import funnelsim as fs
        >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
        >>> ladder.stock(as_of="2024-06-30").round(3)
          grade  leads  share
        0     E    351  0.616
        1     D    150  0.263
        2     C     52  0.091
        3     B     17  0.030
        4     A     17    NaN
        >>> ladder.stock()["leads"].tolist()   # the last date: every lead in
        [601, 353, 130, 51, 65]
        """
        top = len(self.grades) - 1
        if self.dates is None:
            if as_of is not None:
                raise FunnelsimValueError("error.ladder_no_dates", what="stock(as_of=...)")
            day = None
            rank = pd.Series(self.leads["grade"]).map({g: k for k, g in enumerate(self.grades)})
            rank = rank.to_numpy(dtype=np.int64)
        else:
            day = self._as_of(as_of)
            rank = self._ranks_on(day)
            rank = rank[rank >= 0]
        counts = np.bincount(rank, minlength=len(self.grades)).astype(np.int64)
        open_total = counts[:top].sum()
        share = np.full(len(counts), np.nan)
        if open_total > 0:
            share[:top] = counts[:top] / open_total
        out = pd.DataFrame({"grade": list(self.grades), "leads": counts, "share": share})
        out.attrs["as_of"] = day
        return out

    def closing_within(
        self,
        windows: Mapping[str, float] | None = None,
        as_of: object = None,
        confidence_level: float | None = None,
    ) -> pd.DataFrame:
        """The share of each grade that reaches the top grade within its time window.

        The decks give each grade a time window: a B signs within two months.
        For a grade with a window of ``w`` days, the leads that reached it
        at least ``w`` days before ``as_of`` are *settled*: their window is
        over, so whether they reached the top grade within ``w`` days of
        reaching this one is known. The share is closed / settled, with the
        ladder's interval method.

        Leads that reached the grade less than ``w`` days before ``as_of``
        are *censored*: still inside their window, they may yet sign in
        time. They are counted (``censored``) but left out of the share:
        counting them as not closed would bias the share down, the more so
        the more of the history is recent (DOMAIN.md §3 on open leads).
        Leaving them out is unbiased, since whether a lead settled depends
        only on the date it reached the grade, not on how it went.

        Parameters
        ----------
        windows : mapping of grade to days, optional
            Default ``{"B": 60}`` (the decks). Any grade but the top one;
            days are a number >= 0.
        as_of : date, optional
            Default: the history's last date.
        confidence_level : float, optional
            Default: the ladder's.

        Returns
        -------
        pandas.DataFrame
            One row per window: ``grade``, ``window_days``, ``reached``
            (leads at the grade or above by ``as_of``), ``settled``,
            ``censored`` (reached - settled), ``closed`` (settled leads that
            reached the top grade within the window), ``share``, ``low``,
            ``high`` (NaN when no lead has settled).

        Raises
        ------
        FunnelsimValueError
            Without a ``date`` column in the history (``error.ladder_no_dates``),
            or for a bad window (``error.ladder_windows``,
            ``error.ladder_window_grade``, ``error.ladder_window_days``).

        Examples
        --------
        >>> import funnelsim as fs
        >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
        >>> ladder.closing_within().round(3)
          grade  window_days  reached  settled  censored  closed  share    low   high
        0     B           60      116      113         3      56  0.496  0.405  0.586
        >>> ladder.closing_within({"C": 90, "B": 30}, as_of="2024-09-30").round(3)
          grade  window_days  reached  settled  censored  closed  share    low   high
        0     C           90      154       87        67      22  0.253  0.173  0.353
        1     B           30       65       59         6      24  0.407  0.291  0.534
        """
        if self.dates is None:
            raise FunnelsimValueError("error.ladder_no_dates", what="closing_within()")
        checked = self._windows(WINDOWS if windows is None else windows)
        day = self._as_of(as_of)
        level = self.fit.confidence_level if confidence_level is None else confidence_level
        level = check_level(level)
        top = self.dates[self.grades[-1]].to_numpy(dtype="datetime64[ns]")
        end = np.datetime64(day.to_datetime64(), "ns")
        rows = []
        for grade, days in checked.items():
            span = np.timedelta64(round(days * 86_400e9), "ns")
            start = self.dates[grade].to_numpy(dtype="datetime64[ns]")
            reached = ~np.isnat(start) & (start <= end)
            settled = reached & (start + span <= end)
            closed = settled & ~np.isnat(top) & (top - start <= span)
            rows.append((grade, days, reached.sum(), settled.sum(), closed.sum()))
        out = pd.DataFrame(rows, columns=["grade", "window_days", "reached", "settled", "closed"])
        out.insert(4, "censored", out["reached"] - out["settled"])
        settled = out["settled"].to_numpy(dtype=float)
        closed = out["closed"].to_numpy(dtype=float)
        ok = settled > 0
        share, low, high = (np.full(len(out), np.nan) for _ in range(3))
        share[ok] = closed[ok] / settled[ok]
        low[ok], high[ok] = interval(closed[ok], settled[ok], level, self.fit.method)
        return out.assign(share=share, low=low, high=high)

    def summary(self, as_of: object = None, windows: Mapping[str, float] | None = None) -> str:
        """The stock and, with dates, the closing shares, in words.

        >>> import funnelsim as fs
        >>> ladder = fs.grade_ladder(fs.datasets.load_grade_history())
        >>> print(ladder.summary(as_of="2024-06-30"))  # doctest: +NORMALIZE_WHITESPACE
        Open leads on 2024-06-30: 570 (E 351, 62%; D 150, 26%; C 52, 9%; B 17, 3%);
        17 signed clients (A).
        B: 12 of 21 settled leads reached A within 60 days: 57% (95% interval 37%-76%);
        13 still in their window.
        """
        stock = self.stock(as_of)
        open_rows = stock.iloc[:-1]
        parts = t("ladder.summary.sep").join(
            t("ladder.summary.grade", grade=g, leads=int(n), share=s)
            for g, n, s in zip(
                open_rows["grade"], open_rows["leads"], open_rows["share"], strict=True
            )
        )
        if self.dates is None:
            day = None
        else:
            day = self._as_of(as_of).strftime("%Y-%m-%d")
        lines = [
            t(
                "ladder.summary.stock" if day is None else "ladder.summary.stock_on",
                day=day,
                leads=int(open_rows["leads"].sum()),
                grades=parts,
                clients=int(stock["leads"].iloc[-1]),
                top=self.grades[-1],
            )
        ]
        if self.dates is not None:
            level = self.fit.confidence_level
            for _, r in self.closing_within(windows, as_of).iterrows():
                key = "ladder.summary.closing" if r["settled"] else "ladder.summary.unsettled"
                lines.append(
                    t(
                        key,
                        grade=r["grade"],
                        top=self.grades[-1],
                        days=f"{r['window_days']:g}",
                        closed=int(r["closed"]),
                        settled=int(r["settled"]),
                        censored=int(r["censored"]),
                        share=r["share"],
                        low=r["low"],
                        high=r["high"],
                        level=level,
                    )
                )
        return "\n".join(lines)

    def _as_of(self, value: object) -> pd.Timestamp:
        """``as_of`` as a timestamp (default: the history's last date)."""
        if value is None:
            grid = self.dates[list(self.grades)].to_numpy(dtype="datetime64[ns]")
            known = grid[~np.isnat(grid)]
            if known.size == 0:
                raise FunnelsimValueError("error.ladder_no_dates", what="as_of")
            return pd.Timestamp(known.max())
        stamp = date_given(value)
        if stamp is None:
            raise FunnelsimValueError("error.ladder_as_of", value=short(value))
        return stamp

    def _ranks_on(self, day: pd.Timestamp) -> np.ndarray:
        """Each lead's highest grade (rank) reached by ``day``; -1 when not in yet."""
        end = np.datetime64(day.to_datetime64(), "ns")
        rank = np.full(len(self.dates), -1, dtype=np.int64)
        for k, grade in enumerate(self.grades):
            when = self.dates[grade].to_numpy(dtype="datetime64[ns]")
            rank[~np.isnat(when) & (when <= end)] = k
        return rank

    def _windows(self, windows: object) -> dict[str, float]:
        """``windows`` checked: a non-empty mapping of an open grade to days >= 0."""
        if not isinstance(windows, Mapping) or not windows:
            raise FunnelsimValueError("error.ladder_windows", value=short(windows))
        choices = ", ".join(map(quote, self.grades[:-1]))
        out = {}
        for grade, days in windows.items():
            if grade not in self.grades[:-1]:
                raise FunnelsimValueError(
                    "error.ladder_window_grade", grade=short(grade), choices=choices
                )
            ok = is_numeric(days) and np.ndim(days) == 0
            if not ok or not math.isfinite(float(days)) or float(days) < 0:
                raise FunnelsimValueError(
                    "error.ladder_window_days", grade=grade, value=short(days)
                )
            out[grade] = int(days) if float(days).is_integer() else float(days)
        return out

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> history = pd.DataFrame({"grade": ["E"] * 50 + ["D"] * 25 + ["C"] * 15
        ...                                  + ["B"] * 6 + ["A"] * 4})
        >>> fs.grade_ladder(history).to_frame().round(3)
          from to  entered  passed  ratio    low   high
        0    E  D      100      50    0.5  0.404  0.596
        1    D  C       50      25    0.5  0.366  0.634
        2    C  B       25      10    0.4  0.234  0.593
        3    B  A       10       4    0.4  0.168  0.687
        """
        return self.table.copy()

    def __repr__(self) -> str:
        steps = ", ".join(
            f"{r['from']}->{r['to']} {r['ratio']:.2f} [{r['low']:.2f}, {r['high']:.2f}]"
            for _, r in self.table.iterrows()
        )
        return t("repr.ladder", name=repr(self.name), leads=len(self.leads), steps=steps)


def grade_ladder(
    history: str | os.PathLike | pd.DataFrame,
    *,
    grades: Sequence[str] = GRADES,
    columns: Mapping[str, str] | None = None,
    confidence_level: float = 0.95,
    method: str = "wilson",
    encoding: str | None = None,
    errors: str = "raise",
) -> Ladder:
    """Step-up rates E -> D -> C -> B -> A with intervals, from a history of grade changes.

    Parameters
    ----------
    history : path or pandas.DataFrame
        Rows with a ``grade`` and, optionally, a ``lead`` id: either one row
        per grade change (a lead on several rows) or one row per lead with
        the highest grade it reached. A lead's highest grade counts: a lead
        that reached C also passed D and E (the decks' ladder has no
        skipping back). Leads still climbing are counted where they are,
        so recent leads pull the rates down: use leads old enough to have
        settled (DOMAIN.md §3 on open leads).
    grades : sequence of str
        Grade labels, lowest first.
    columns : mapping, optional
        The file's column for ``lead``, ``grade``, ``rep``, ``source``,
        ``segment``, ``period``. A ``period`` column (统计期, 月份...: each
        lead counts in the period of its first row) gives the ladder's
        :attr:`Ladder.dispersion`, and :meth:`Ladder.leads_needed` then
        lets the rates move as they did from period to period. A ``date``
        column (日期, 时间, 变更日期...: the day of each grade change) gives
        :attr:`Ladder.dates`, each lead's date of reaching each grade, for
        :meth:`Ladder.stock` as of a date and :meth:`Ladder.closing_within`.
    confidence_level, method
        Of the intervals (:func:`funnelsim.proportion_ci`).
    encoding, errors
        As in :func:`read_pipeline`.

    Returns
    -------
    Ladder

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> history = pd.DataFrame({"grade": ["E"] * 50 + ["D"] * 25 + ["C"] * 15
    ...                                  + ["B"] * 6 + ["A"] * 4})
    >>> ladder = fs.grade_ladder(history)
    >>> ladder.to_frame()[["from", "to", "entered", "passed", "ratio"]]
      from to  entered  passed  ratio
    0    E  D      100      50    0.5
    1    D  C       50      25    0.5
    2    C  B       25      10    0.4
    3    B  A       10       4    0.4
    >>> ladder.leads_needed(10)["expected"].tolist()   # 10 A clients: back to E leads
    [252, 126, 63, 25, 10]
    """
    mode = choice("errors", errors, ERRORS)
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    names = stage_names(grades)
    if len(names) < 2 or len(set(names)) != len(names):
        raise FunnelsimValueError("error.ladder_grades", value=short(list(grades)))
    given = fields(columns, _LADDER_FIELDS, "grade history")
    src = read_source(history, encoding=encoding)
    given = recognise_columns(src, _LADDER_FIELDS, given)  # 客户名称, 负责人, 统计期...
    cols = resolve(src, _LADDER_FIELDS, given, ("grade",))
    frame = src.frame
    problems = Problems(src)
    rank = _read_grades(problems, frame, cols["grade"], names)
    if "lead" in cols:
        lead_code, lead_labels = lead_ids(problems, frame, cols["lead"])
    when = read_dates(problems, frame, cols["date"], required=True) if "date" in cols else None
    keep = ~problems.mask()
    problems.finish(mode, keep, what=t("pipeline.what.grades"))
    rows = np.flatnonzero(keep)
    if "lead" in cols:
        lead = lead_labels[lead_code[rows]]
    else:
        lead = src.rownum[rows].astype(str).astype(object)
    leads = pd.DataFrame({"lead": lead, "rank": rank[rows]})
    kept = kept_values(frame, cols, ("rep", "source", "segment", "period"), rows)
    for key, values in kept.items():
        leads[key] = values
    dates = None if when is None else _reach_dates(names, leads, when[rows])
    ordered = leads.sort_values("rank", kind="stable").groupby("lead", sort=False)
    entry = ordered["period"].first() if "period" in leads else None  # its lowest grade's
    leads = ordered.last().reset_index()
    moves = None
    if entry is not None:
        leads["period"] = entry.reindex(leads["lead"]).to_numpy()
        moves = _period_moves(names, leads, level)
    table, the_fit = _step_up_rates(names, leads["rank"].to_numpy(), level, method)
    leads = leads.assign(grade=[names[r] for r in leads["rank"]]).drop(columns="rank")
    leads = leads[["lead", "grade", *[c for c in leads.columns if c not in ("lead", "grade")]]]
    if dates is not None:
        dates = dates.reindex(leads["lead"]).reset_index()
    return Ladder(tuple(names), table, the_fit, leads, src.name, problems.dropped(), moves, dates)


def _reach_dates(names: list[str], rows: pd.DataFrame, when: np.ndarray) -> pd.DataFrame:
    """Each lead's date of reaching each grade: its earliest row at that grade or above
    (indexed by lead; NaT where it has not reached the grade)."""
    frame = pd.DataFrame({"lead": rows["lead"].to_numpy(), "rank": rows["rank"].to_numpy()})
    frame["date"] = when
    out = pd.DataFrame(index=pd.Index(pd.unique(frame["lead"]), name="lead"))
    for k, grade in enumerate(names):
        first = frame[frame["rank"] >= k].groupby("lead", sort=False)["date"].min()
        out[grade] = first.reindex(out.index).to_numpy(dtype="datetime64[ns]")
    return out


def _period_moves(names: list[str], leads: pd.DataFrame, level: float) -> Dispersion:
    """Each step's counts per period (a lead in its first row's period), and their dispersion."""
    rows = []
    for period, part in leads.groupby("period", sort=True, dropna=True):
        best = part["rank"].to_numpy()
        reached = [(best >= k).sum() for k in range(len(names))]
        for k in range(1, len(names)):
            rows.append((period, names[k], reached[k - 1], reached[k]))
    table = pd.DataFrame(rows, columns=["period", "stage", "entered", "passed"])
    return dispersion_table(table, "period", names[1:], level)


def _read_grades(
    problems: Problems, frame: pd.DataFrame, column: str, names: list[str]
) -> np.ndarray:
    """Each row's grade as a rank (0 for the lowest; -1 when empty or unknown: a problem).
    Grades are matched as written, else ignoring case."""
    rank_of = {g: i for i, g in enumerate(names)}
    lower = {g.lower(): i for g, i in rank_of.items()}
    return coded_cells(
        problems, frame, column, lambda x: rank_of.get(x, lower.get(str(x).lower(), -1)),
        "pipeline.reason.no_grade", "pipeline.reason.unknown_grade", "pipeline.fix.grade",
        choices=", ".join(map(quote, names)),
    )  # fmt: skip


def _step_up_rates(
    names: list[str], best: np.ndarray, level: float, method: str
) -> tuple[pd.DataFrame, Fit]:
    """The ladder's table and fit from each lead's highest rank."""
    reached = np.array([(best >= k).sum() for k in range(len(names))], dtype=np.int64)
    entered, passed = reached[:-1], reached[1:]
    ok = entered > 0
    ratio = np.where(ok, passed / np.maximum(entered, 1), np.nan)
    low = np.full(len(entered), np.nan)
    high = np.full(len(entered), np.nan)
    low[ok], high[ok] = interval(
        passed[ok].astype(float), entered[ok].astype(float), level, method
    )
    table = pd.DataFrame(
        {
            "from": names[:-1],
            "to": names[1:],
            "entered": entered,
            "passed": passed,
            "ratio": ratio,
            "low": low,
            "high": high,
        }
    )
    fit_table = pd.DataFrame(
        {"stage": names[1:], "entered": entered, "passed": passed, "ratio": ratio}
    ).assign(low=low, high=high)
    return table, Fit(tuple(names), fit_table, (), level, method)
