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
from ._problems import (
    Problems,
    lead_ids,
)
from ._reader import (
    ERRORS,
    choice,
    empty_dropped,
    fields,
    kept_values,
    label_text,
    labels,
    quote,
    quoted,
    read_source,
    stage_names,
)
from ._validate import (
    check_choice,
    check_count,
    check_nonnegative,
    check_open_probability,
    check_rng,
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

__all__ = ["GRADES", "Ladder", "grade_ladder"]

#: The decks' grades, lowest first.
GRADES = ("E", "D", "C", "B", "A")
_LADDER_FIELDS = ("lead", "grade", "rep", "source", "segment", "period")


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
        lets the rates move as they did from period to period.
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
    return Ladder(tuple(names), table, the_fit, leads, src.name, problems.dropped(), moves)


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
    codes, found = labels(frame[column])
    rank_of = {g: i for i, g in enumerate(names)}
    lower = {g.lower(): i for g, i in rank_of.items()}
    label_rank = np.array([rank_of.get(x, lower.get(str(x).lower(), -1)) for x in found])
    rank = np.full(len(codes), -1, dtype=np.int64)
    rank[codes >= 0] = label_rank[codes[codes >= 0]]
    choices = ", ".join(map(quote, names))
    problems.add(
        codes < 0, column, "pipeline.reason.no_grade", None, "pipeline.fix.grade", choices=choices
    )
    problems.add(
        (codes >= 0) & (rank < 0),
        column,
        "pipeline.reason.unknown_grade",
        quoted(label_text(codes, found)),
        "pipeline.fix.grade",
        choices=choices,
    )
    return rank


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
