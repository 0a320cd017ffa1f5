"""Diagnoses the decks teach: which ratio leaks, what shape a pipeline has, and Simpson's trap.

- :func:`diagnose_leaks`: which stage ratios are significantly below a
  benchmark (the rest of the team, a preset's funnel, or given numbers), with
  the decks' likely causes (DOMAIN.md §4).
- :func:`diagnose_pipeline`: healthy, top-heavy, empty or stuck in the middle,
  from a snapshot of leads per stage.
- :func:`simpson_check` and :func:`simpson_example`: a rep who is better with
  every lead source can still look worse overall (Simpson's paradox).

Inputs are read as in :mod:`funnelsim.groups` (a log, a fit or a stage
table); "significant" means an adjusted p-value below ``1 - confidence_level``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import (
    by_columns,
    check_choice,
    check_nonnegative,
    check_probability,
    short,
    type_name,
)
from .estimate import Fit
from .funnel import Funnel
from .groups import (
    ADJUST,
    SHOWN_ROWS,
    adjust_pvalues,
    chosen_steps,
    group_labels,
    stage_rows,
)
from .i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    field_label,
    stage_label,
    t,
    table_text,
)
from .intervals import METHODS, check_level, interval, p_text
from .logs import Log
from .presets import Preset

__all__ = [
    "KINDS",
    "SHAPES",
    "LeakDiagnosis",
    "PipelineDiagnosis",
    "SimpsonCheck",
    "diagnose_leaks",
    "diagnose_pipeline",
    "leak_cause",
    "simpson_check",
    "simpson_example",
]

KINDS = ("top", "middle", "bottom", "whole")
SHAPES = ("healthy", "top-heavy", "empty", "stuck in the middle")
ALL_WITHIN = "all"  # SimpsonCheck.to_frame(): the pooled rows' value of the within column


def leak_cause(kind: str) -> str:
    """The decks' likely causes of a leak in ``kind`` (``LeakDiagnosis`` column ``cause``),
    in words, in the current language; ``""`` for a row that is not a leak.

    >>> leak_cause("middle")
    'many interested leads, few visits: slow follow-up, poor appointment setting'
    """
    return t(f"leak.cause.{kind}") if kind in KINDS else ""


def _kind_of(i: int, steps: int) -> str:
    """Which part of the funnel step ``i`` (0-based) of ``steps`` is in, by position."""
    if steps == 1:
        return "whole"
    x = (i + 0.5) / steps
    return "top" if x < 1 / 3 else "bottom" if x > 2 / 3 else "middle"


@dataclass(frozen=True, repr=False, eq=False)
class LeakDiagnosis:
    """Which stage ratios are significantly below a benchmark, from :func:`diagnose_leaks`.

    Attributes
    ----------
    benchmark : str
        ``"team"`` (each group against the rest of the team), ``"funnel"`` or
        ``"ratios"`` (given numbers).
    by : tuple of str
        Group columns (empty for one funnel).
    table : pandas.DataFrame
        One row per group and step (see :meth:`to_frame`).
    confidence_level : float
    adjust : str

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [300, 300],
    ...                        "connects": [140, 90], "meetings": [8, 13]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
    >>> res = fs.diagnose_leaks(log, benchmark={"connects": 0.45, "meetings": 0.14}, by="rep")
    >>> res.benchmark, res.by
    ('ratios', ('rep',))
    >>> res.leaks[["rep", "stage", "ratio", "benchmark"]].round(3)
       rep     stage  ratio  benchmark
    0  ann  meetings  0.057       0.14
    1  bob  connects  0.300       0.45
    """

    benchmark: str
    by: tuple[str, ...]
    table: pd.DataFrame
    confidence_level: float
    adjust: str

    @property
    def leaks(self) -> pd.DataFrame:
        """The rows significantly below the benchmark."""
        return self.table[self.table["leak"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per group and step.

        Columns: the ``by`` columns, ``stage``, ``kind`` (``"top"``,
        ``"middle"``, ``"bottom"`` of the funnel, or ``"whole"``),
        ``entered``, ``passed``, ``ratio``, ``low``, ``high`` (its interval),
        ``benchmark``, ``p_value`` (one-sided test of ``ratio < benchmark``:
        exact binomial against given numbers, Fisher's exact test against the
        rest of the team), ``p_adjusted``, ``leak`` (significant),
        ``status`` (``"leak"``; ``"below"``: below the benchmark but within
        chance; ``"ok"``: at or above it; ``"untested"``: no leads or no
        benchmark) and ``cause`` (for leaks, which part of the funnel's
        likely causes apply: ``"top"``, ``"middle"``, ``"bottom"`` or
        ``"whole"``, the same in every language; :func:`leak_cause` says
        them in words; empty otherwise).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [300, 300],
        ...                        "connects": [140, 90], "meetings": [8, 13]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> res = fs.diagnose_leaks(log, benchmark={"connects": 0.45, "meetings": 0.14}, by="rep")
        >>> res.to_frame()[["rep", "stage", "ratio", "benchmark", "status"]].round(3)
           rep     stage  ratio  benchmark status
        0  ann  connects  0.467       0.45     ok
        1  ann  meetings  0.057       0.14   leak
        2  bob  connects  0.300       0.45   leak
        3  bob  meetings  0.144       0.14     ok
        """
        return self.table.copy()

    def messages(self) -> list[str]:
        """One line in plain words per ratio below its benchmark (leaks first).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [300, 300],
        ...                        "connects": [140, 90], "meetings": [8, 13]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> res = fs.diagnose_leaks(log, benchmark={"connects": 0.45, "meetings": 0.14}, by="rep")
        >>> for line in res.messages():
        ...     print(line)
        ann: meetings 8/140 = 5.7% against 14.0% (adjusted p = 0.00457): likely causes: many
        visits, few signed deals: weak closing, poor qualification, promises made on the phone
        that cannot be kept.
        bob: connects 90/300 = 30.0% against 45.0% (adjusted p < 0.001): likely causes: many
        dials, few interested leads: poor lead lists, dialling for its own sake, rigid scripts.
        """
        out = []
        labels = group_labels(self.table, self.by)
        for status in ("leak", "below"):
            for label, row in zip(labels, self.table.to_dict("records"), strict=True):
                if row["status"] != status:
                    continue
                out.append(
                    t(
                        f"leak.line.{status}",
                        group=f"{label}: " if self.by else "",
                        stage=stage_label(row["stage"]),
                        passed=row["passed"],
                        entered=row["entered"],
                        ratio=row["ratio"],
                        benchmark=row["benchmark"],
                        p=p_text(row["p_adjusted"]),
                        cause=leak_cause(row["cause"]),
                    )
                )
        if not self.table["leak"].any():
            out.insert(0, t("leak.none", level=self.confidence_level))
        return out

    def __repr__(self) -> str:
        head = t(
            "repr.leak_diagnosis",
            benchmark=t(f"leak.benchmark.{self.benchmark}"),
            adjust=self.adjust,
            level=100 * self.confidence_level,
            leaks=int(self.table["leak"].sum()),
        )
        lines = [head, *(f"  {m}" for m in self.messages()[:SHOWN_ROWS])]
        return "\n".join(lines) + ")"


def _benchmark(
    benchmark: object, table: pd.DataFrame, keys: tuple[str, ...], steps: tuple[str, ...],
    stages: tuple[str, ...] | None,
) -> tuple[str, pd.DataFrame, np.ndarray]:  # fmt: skip
    """The benchmark's name, the rows it covers and its ratio per row."""
    if isinstance(benchmark, str):
        check_choice("benchmark", benchmark, ("team",))
        if not keys:
            raise FunnelsimValueError("error.leak_team_by")
        rest_k, rest_n = _rest_counts(table)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(rest_n > 0, rest_k / np.where(rest_n > 0, rest_n, 1.0), np.nan)
        return "team", table, ratio
    if isinstance(benchmark, Preset):
        benchmark = benchmark.funnel
    if isinstance(benchmark, Funnel):
        if stages is not None and tuple(benchmark.stages) == stages:
            values = dict(zip(stages[1:], benchmark.ratios, strict=True))
        elif len(benchmark.ratios) == len(steps):  # matched by position
            values = dict(zip(steps, benchmark.ratios, strict=True))
        else:
            raise FunnelsimValueError(
                "error.leak_funnel_steps",
                funnel=" -> ".join(benchmark.stages),
                n_funnel=len(benchmark.ratios),
                n_steps=len(steps),
                steps=", ".join(steps),
            )
        name = "funnel"
    elif isinstance(benchmark, Mapping):
        if not benchmark:
            raise FunnelsimValueError("error.leak_benchmark", value="{}")
        values = {}
        for step, value in benchmark.items():
            chosen_steps(step, steps, stages)  # an unknown stage raises
            values[step] = check_probability(f"benchmark[{step!r}]", value)
        name = "ratios"
    else:
        raise FunnelsimTypeError(
            "error.leak_benchmark",
            name="benchmark",
            value=short(benchmark),
            type=type_name(benchmark),
        )
    rows = table[table["stage"].isin(list(values))].reset_index(drop=True)
    return name, rows, rows["stage"].map(values).to_numpy(float)


def diagnose_leaks(
    fit_or_log: Log | Fit | pd.DataFrame,
    *,
    benchmark: str | Funnel | Preset | Mapping[str, float],
    by: str | Sequence[str] | None = None,
    confidence_level: float = 0.95,
    method: str = "wilson",
    adjust: str = "holm",
    kinds: Mapping[str, str] | None = None,
) -> LeakDiagnosis:
    """Which stage ratios are significantly below a benchmark, and the decks' likely causes.

    DOMAIN.md §4: many dials but few interested leads points at the lead
    lists, dialling for its own sake or rigid scripts; many interested leads
    but few visits at slow follow-up or poor appointment setting; many
    visits but few signed deals at weak closing, poor qualification or
    promises on the phone that cannot be kept. A ratio is called *low* only
    when the gap is larger than chance: each ratio gets a one-sided exact
    binomial test of ``ratio < benchmark`` (``P(X <= passed)`` for ``X ~
    Binomial(entered, benchmark)``, as ``scipy.stats.binomtest(...,
    alternative="less")``), and the p-values of every group and step are
    adjusted together (``adjust``). Against the team the rest of the team's
    ratio is estimated too, from its own leads, so the test compares two
    samples: the one-sided Fisher exact test of the 2 x 2 table (the group's
    and the rest's passed and not passed leads; ``scipy.stats.fisher_exact(...,
    alternative="less")``). It keeps the family-wise error at most ``1 -
    confidence_level`` when nobody differs; treating the rest's ratio as
    known would flag a leak about 12 % of the time with two reps at a
    nominal 5 %. A ratio below the benchmark that is not
    significant is reported as "below, within chance": do not blame yet.

    Parameters
    ----------
    fit_or_log : Fit, Log or pandas.DataFrame
        A fit (its ``by`` groups are used), a log, or a table like
        ``Log.stage_table(by=...)``.
    benchmark : "team", Funnel, Preset or mapping
        ``"team"``: each group against the pooled ratio of the rest of the
        team (needs groups), by a two-sample test. A :class:`~funnelsim.Funnel` (or a preset, such
        as ``fs.presets.get("daily ratio game")``): its ratios, matched by
        stage name when the stages are the same, otherwise by position (the
        funnels must have as many steps). A mapping ``{stage: ratio}``: only
        those steps are tested.
    by : str or sequence of str, optional
        Group columns of a log or table (a fit's own ``by`` is used by
        default; ``by`` may pick some of them, the others are pooled).
    confidence_level : float, default 0.95
        Level of the intervals; a leak needs an adjusted p-value below
        ``1 - confidence_level``.
    method : str, default "wilson"
        Interval method of the ratios (see :func:`funnelsim.intervals.proportion_ci`).
    adjust : {"holm", "bh"}
        Multiple-comparison control (see :func:`adjust_pvalues`).
    kinds : mapping, optional
        ``{stage: kind}`` with kind ``"top"``, ``"middle"`` or ``"bottom"``
        of the funnel (or ``"whole"``), for the causes. By default a step's
        kind comes from its position among the ``S`` steps: step ``i``
        (0-based) sits at ``x = (i + 0.5) / S``; ``x < 1/3`` is the top
        (dials to interest), ``x > 2/3`` the bottom (visits to signed), the
        rest the middle (interest to visits). Three steps are top, middle,
        bottom; two are top and bottom; a single step is the whole funnel.

    Returns
    -------
    LeakDiagnosis
        ``.to_frame()``, ``.leaks``, ``.messages()``.

    Examples
    --------
    Two reps against the daily ratio game (15 dials, 7 connects, 1 meeting,
    1 sale in 8 meetings):

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.diagnose import diagnose_leaks
    >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [300, 300],
    ...                        "connects": [140, 90], "meetings": [8, 13], "sales": [1, 2]})
    >>> log = fs.read_log(counts, format="counts",
    ...                   stages=["dials", "connects", "meetings", "sales"])
    >>> res = diagnose_leaks(log, benchmark=fs.presets.get("daily ratio game"), by="rep")
    >>> cols = ["rep", "stage", "kind", "ratio", "benchmark", "p_adjusted", "leak"]
    >>> res.to_frame()[cols].round(3)
       rep     stage    kind  ratio  benchmark  p_adjusted   leak
    0  ann  connects     top  0.467      0.467       1.000  False
    1  ann  meetings  middle  0.057      0.143       0.006   True
    2  ann     sales  bottom  0.125      0.125       1.000  False
    3  bob  connects     top  0.300      0.467       0.000   True
    4  bob  meetings  middle  0.144      0.143       1.000  False
    5  bob     sales  bottom  0.154      0.125       1.000  False
    >>> print(res.messages()[0])
    ann: meetings 8/140 = 5.7% against 14.3% (adjusted p = 0.0057): likely causes: many
    interested leads, few visits: slow follow-up, poor appointment setting.
    """
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    adjust = check_choice("adjust", adjust, ADJUST)
    keys = by_columns(by)
    if isinstance(fit_or_log, Fit) and by is None:
        keys = tuple(fit_or_log.by)
    table, steps, stages = stage_rows(fit_or_log, keys, "diagnose_leaks")
    name, rows, bench = _benchmark(benchmark, table, keys, steps, stages)
    kind_of = {s: _kind_of(i, len(steps)) for i, s in enumerate(steps)}
    if kinds is not None:
        if not isinstance(kinds, Mapping):
            raise FunnelsimTypeError(
                "error.leak_kinds", name="kinds", value=short(kinds), type=type_name(kinds)
            )
        for step, kind in kinds.items():
            chosen_steps(step, steps, stages)
            kind_of[step] = check_choice(f"kinds[{step!r}]", kind, KINDS)
    k = rows["passed"].to_numpy(float)
    n = rows["entered"].to_numpy(float)
    ok = (n > 0) & np.isfinite(bench)
    ratio, low, high, p_value = (np.full(len(rows), np.nan) for _ in range(4))
    ratio[n > 0] = k[n > 0] / n[n > 0]
    if (n > 0).any():
        low[n > 0], high[n > 0] = interval(k[n > 0], n[n > 0], level, method)
    if name == "team":  # the rest of the team is estimated too: a two-sample test
        rest_k, rest_n = _rest_counts(rows)
        p_value[ok] = _team_pvalues(k[ok], n[ok], rest_k[ok], rest_n[ok])
    else:
        p_value[ok] = stats.binom.cdf(k[ok], n[ok], bench[ok])
    p_adj = adjust_pvalues(p_value, method=adjust)
    leak = np.nan_to_num(p_adj, nan=1.0) < 1.0 - level
    below = ok & (ratio < bench)
    status = np.where(
        ~ok, "untested", np.where(leak, "leak", np.where(below, "below", "ok"))
    ).astype(object)
    kind = rows["stage"].map(kind_of).to_numpy(object)
    cause = np.where(leak, kind, "").astype(object)
    out = rows.assign(
        kind=kind,
        ratio=ratio,
        low=low,
        high=high,
        benchmark=bench,
        p_value=p_value,
        p_adjusted=p_adj,
        leak=leak,
        status=status,
        cause=cause,
    )
    cols = [*keys, "stage", "kind", "entered", "passed", "ratio", "low", "high", "benchmark"]
    out = out[[*cols, "p_value", "p_adjusted", "leak", "status", "cause"]]
    return LeakDiagnosis(name, keys, out, level, adjust)


def _rest_counts(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Passed and entered leads of the rest of the team, per row (group and step)."""
    k = table["passed"].to_numpy(float)
    n = table["entered"].to_numpy(float)
    sums = table.groupby("stage", sort=False)[["entered", "passed"]].transform("sum")
    return sums["passed"].to_numpy(float) - k, sums["entered"].to_numpy(float) - n


def _team_pvalues(
    passed: np.ndarray, entered: np.ndarray, rest_passed: np.ndarray, rest_entered: np.ndarray
) -> np.ndarray:
    """One-sided Fisher exact p-values of "a group's ratio is below the rest of the team's".

    Both ratios are estimated, so the test compares two samples: given the
    margins of the 2 x 2 table ``[[passed, entered - passed], [rest_passed,
    rest_entered - rest_passed]]``, the group's passed count is
    hypergeometric under "same ratio", and the p-value is the chance of as
    few or fewer (``scipy.stats.fisher_exact(table, alternative="less")``).
    It is exact at every count: a true p-value never falls below ``x`` with
    probability above ``x``, so Holm's adjustment keeps the family-wise error
    at most ``1 - confidence_level``. The one-sample binomial test that
    treats the rest of the team's ratio as known does not: with two reps it
    flags a leak about 12 % of the time at a nominal 5 %.

    Parameters
    ----------
    passed, entered : array_like
        The group's counts at the step.
    rest_passed, rest_entered : array_like
        The rest of the team's counts at the same step.

    Returns
    -------
    numpy.ndarray
        The p-values (1 when either side has no leads, or nobody or everybody passed).

    Examples
    --------
    >>> from funnelsim.diagnose import _team_pvalues
    >>> _team_pvalues([8, 13], [140, 90], [13, 8], [90, 140]).round(4)
    array([0.0234, 0.9928])
    """
    k, n, rk, rn = (
        np.asarray(x, dtype=float) for x in (passed, entered, rest_passed, rest_entered)
    )
    # population: both samples; successes: every passed lead; draws: the group's leads
    with np.errstate(invalid="ignore"):
        p = stats.hypergeom.cdf(k, n + rn, k + rk, n)
    return np.where((n > 0) & (rn > 0), np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0), 1.0)


@dataclass(frozen=True, repr=False, eq=False)
class PipelineDiagnosis:
    """The shape of a pipeline snapshot, from :func:`diagnose_pipeline`.

    Attributes
    ----------
    shape : str
        One of :data:`SHAPES`: ``"healthy"``, ``"top-heavy"``, ``"empty"``,
        ``"stuck in the middle"``.
    reason : str
        Why, in plain words, with what to do.
    counts : pandas.Series
        Leads per stage, earliest stage first.

    Examples
    --------
    >>> import funnelsim as fs
    >>> res = fs.diagnose_pipeline({"25%": 4, "50%": 15, "90%": 2})
    >>> res.shape
    'stuck in the middle'
    >>> res.counts.tolist()
    [4.0, 15.0, 2.0]
    """

    shape: str
    reason: str
    counts: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """Columns ``stage``, ``count``, ``share`` (of all leads in the pipeline), ``shape``.

        >>> import funnelsim as fs
        >>> fs.diagnose_pipeline({"25%": 4, "50%": 15, "90%": 2}).to_frame().round(3)
          stage  count  share                shape
        0   25%    4.0  0.190  stuck in the middle
        1   50%   15.0  0.714  stuck in the middle
        2   90%    2.0  0.095  stuck in the middle
        """
        total = float(self.counts.sum())
        return pd.DataFrame(
            {
                "stage": list(self.counts.index),
                "count": self.counts.to_numpy(),
                "share": self.counts.to_numpy(float) / total if total > 0 else np.nan,
                "shape": self.shape,
            }
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {v:g}" for k, v in self.counts.items())
        shape = t(f"repr.shape.{self.shape.replace(' ', '_').replace('-', '_')}")
        return t("repr.pipeline_diagnosis", shape=shape, counts=counts, reason=self.reason)


def diagnose_pipeline(
    snapshot: Mapping[str, float] | pd.Series | Sequence[float],
    *,
    stages: Sequence[str] | None = None,
    min_total: float = 5,
    top_heavy: float = 0.8,
    bulge: float = 0.8,
) -> PipelineDiagnosis:
    """Healthy, top-heavy, empty or stuck in the middle: the shape of a pipeline snapshot.

    DOMAIN.md §4. A healthy pipeline has a broad base narrowing upward
    (many leads at 25 %, fewer at 50 %, a few at 90 %), refilled every week.
    The rules, applied in this order to the counts ``c_1, ..., c_S``
    (``c_1`` the earliest stage, ``c_S`` the stage closest to closing):

    1. **empty** when all stages together hold fewer than ``min_total``
       leads: a new rep, or one who just closed everything;
    2. **top-heavy** when ``c_S >= top_heavy * c_1`` and ``c_S`` is at
       least every middle count: about as many leads about to close as at
       the start: many sales now, a slump next month (nobody is
       prospecting);
    3. **stuck in the middle** when a middle stage ``j`` (not the first or
       the last) does not narrow, ``c_j >= bulge * c_(j-1)``, and holds
       more than the last stage, ``c_j > c_S``: a bulge that does not move
       (proposals that do not fit, or a pipeline not being updated). The
       reason names the fullest such stage;
    4. **healthy** otherwise: the base is broad and the pipeline narrows
       towards closing.

    The thresholds are rules of thumb: keyword arguments, change them to
    match your sales cycle.

    Parameters
    ----------
    snapshot : mapping, pandas.Series or sequence of numbers
        Leads (or deal values) at each stage, earliest stage first, e.g.
        ``{"25%": 12, "50%": 6, "90%": 3}``. Numbers >= 0.
    stages : sequence of str, optional
        Stage names in order, earliest first: for a mapping or Series, the
        stages to use and their order; for a plain sequence, its names
        (default ``"1"``, ``"2"``...).
    min_total : float, default 5
        Fewer leads than this in all stages together is an empty pipeline.
    top_heavy : float, default 0.8
        The last stage holding at least this share of the first stage's
        count (and at least as many as any middle stage) is top-heavy.
    bulge : float, default 0.8
        A middle stage holding at least this share of the stage before it
        (and more than the last stage) is a bulge.

    Returns
    -------
    PipelineDiagnosis
        ``shape``, ``reason``, ``counts``; ``.to_frame()``.

    Raises
    ------
    ValueError
        Fewer than two stages, a negative or non-numeric count, unknown
        stage names, or bad thresholds.

    Examples
    --------
    >>> from funnelsim.diagnose import diagnose_pipeline
    >>> diagnose_pipeline({"25%": 12, "50%": 6, "90%": 3}).shape
    'healthy'
    >>> diagnose_pipeline({"25%": 2, "50%": 4, "90%": 9}).shape
    'top-heavy'
    >>> diagnose_pipeline({"25%": 1, "50%": 0, "90%": 1}).shape
    'empty'
    >>> res = diagnose_pipeline({"25%": 4, "50%": 15, "90%": 2})
    >>> print(res.reason)
    15 leads sit at 50%, against 4 at 25% before it and 2 at 90%: a bulge in the middle
    that does not move. Proposals that do not fit, or a pipeline that is not being
    updated: review those deals, move them on or close them out.
    """
    counts = _snapshot(snapshot, stages)
    min_total = check_nonnegative("min_total", min_total)
    top_heavy = check_nonnegative("top_heavy", top_heavy)
    bulge = check_nonnegative("bulge", bulge)
    values = counts.to_numpy(float)
    names = [str(s) for s in counts.index]
    total = float(values.sum())
    first, last = values[0], values[-1]
    middle = values[1:-1]
    words = {"first": f"{first:g}", "first_stage": names[0], "last": f"{last:g}"}
    words["last_stage"] = names[-1]
    bulges = [
        j
        for j in range(1, len(values) - 1)
        if values[j] >= bulge * values[j - 1] and values[j] > last
    ]
    if total < min_total:
        shape, reason = "empty", t("pipeline.empty", total=f"{total:g}", minimum=f"{min_total:g}")
    elif last >= top_heavy * first and (middle.size == 0 or last >= middle.max()):
        shape, reason = "top-heavy", t("pipeline.top_heavy", **words)
    elif bulges:
        j = max(bulges, key=lambda i: values[i])
        shape = "stuck in the middle"
        reason = t(
            "pipeline.stuck",
            middle=f"{values[j]:g}",
            middle_stage=names[j],
            previous=f"{values[j - 1]:g}",
            previous_stage=names[j - 1],
            **words,
        )
    else:
        shape, reason = "healthy", t("pipeline.healthy", **words)
    return PipelineDiagnosis(shape, reason, counts)


def _snapshot(snapshot: object, stages: Sequence[str] | None) -> pd.Series:
    if isinstance(snapshot, pd.Series):
        series = snapshot.copy()
    elif isinstance(snapshot, Mapping):
        series = pd.Series(dict(snapshot), dtype=object)
    elif isinstance(snapshot, (str, bytes)) or not np.iterable(snapshot):
        raise FunnelsimTypeError(
            "error.snapshot_type", name="snapshot", value=short(snapshot), type=type_name(snapshot)
        )
    else:
        values = list(snapshot)  # type: ignore[call-overload]
        names = [str(i + 1) for i in range(len(values))] if stages is None else list(stages)
        if len(names) != len(values):
            raise FunnelsimValueError(
                "error.snapshot_names", n_names=len(names), n_counts=len(values)
            )
        series = pd.Series(values, index=names, dtype=object)
        stages = None
    if stages is not None:
        wanted = list(stages)
        missing = [s for s in wanted if s not in series.index]
        if missing:
            raise FunnelsimValueError(
                "error.unknown_stage",
                value=", ".join(map(repr, missing)),
                choices=", ".join(map(str, series.index)),
            )
        series = series[wanted]
    if len(series) < 2:
        raise FunnelsimValueError("error.snapshot_few", count=len(series))
    out = []
    for name, value in series.items():
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = float("nan")
        if isinstance(value, str):
            raise FunnelsimTypeError(
                "error.snapshot_count", stage=name, name="snapshot", value=short(value), type="str"
            )
        if isinstance(value, bool) or not (math.isfinite(x) and x >= 0):
            raise FunnelsimValueError("error.snapshot_count", stage=name, value=repr(value))
        out.append(x)
    return pd.Series(out, index=series.index, name="count")


@dataclass(frozen=True, repr=False, eq=False)
class SimpsonCheck:
    """Per-source and pooled ratios per rep, and the pairs whose ranking reverses.

    Attributes
    ----------
    by, within : str
        The compared column (reps) and the column split on (lead sources).
    stage : str
        The step (named after the stage it leads to), or ``"overall"``
        (first stage to last).
    table : pandas.DataFrame
        Per ``by`` and ``within``: ``entered``, ``passed``, ``ratio``.
    pooled : pandas.DataFrame
        Per ``by``: ``entered``, ``passed``, ``ratio`` over all sources.
    reversals : pandas.DataFrame
        One row per pair whose ranking reverses: ``better`` (higher in every
        source both have), ``worse`` (the rep it is compared against),
        ``better_pooled`` and ``worse_pooled`` (their pooled ratios: the
        "better" one is lower), ``sources`` (how many sources they share),
        ``gap_low`` and ``gap_high`` (the smallest and largest within-source
        lead of ``better`` over ``worse``, as shares), ``p_value`` (a
        Cochran-Mantel-Haenszel test that the two are level within every
        source), ``p_adjusted`` (Holm over every pair of ``by`` that shares a
        source) and ``differs`` (``p_adjusted < 1 - confidence_level``). A
        row with ``differs`` False is no proven reversal: like for like, the
        two cannot be told apart, and the mix of sources is enough to
        explain the pooled gap.
    confidence_level : float
        The level that decides ``differs``.

    Examples
    --------
    >>> from funnelsim.diagnose import simpson_check, simpson_example
    >>> res = simpson_check(simpson_example())
    >>> res.by, res.within, res.stage, res.reversed, res.genuine
    ('rep', 'source', 'meetings', True, True)
    >>> res.reversals[["better", "worse", "better_pooled", "worse_pooled", "differs"]].round(3)
      better worse  better_pooled  worse_pooled  differs
    0    ann   bob          0.186         0.247     True
    """

    by: str
    within: str
    stage: str
    table: pd.DataFrame
    pooled: pd.DataFrame
    reversals: pd.DataFrame
    confidence_level: float = 0.95

    @property
    def reversed(self) -> bool:
        """True when at least one pair's ranking reverses once sources are pooled."""
        return not self.reversals.empty

    @property
    def genuine(self) -> bool:
        """True when a reversal holds beyond chance (a row of ``reversals`` with ``differs``)."""
        return bool(self.reversals["differs"].any()) if self.reversed else False

    def to_frame(self) -> pd.DataFrame:
        """Tidy: ``by``, ``within`` (the pooled rows say ``"all"``, in every language),
        ``entered``, ``passed``, ``ratio``.

        >>> from funnelsim.diagnose import simpson_check, simpson_example
        >>> simpson_check(simpson_example()).to_frame().round(3)
           rep     source  entered  passed  ratio
        0  ann  cold list      600      90  0.150
        1  ann   referral      100      40  0.400
        2  bob  cold list      100       8  0.080
        3  bob   referral      500     140  0.280
        4  ann        all      700     130  0.186
        5  bob        all      600     148  0.247
        """
        pooled = self.pooled.assign(**{self.within: ALL_WITHIN})
        return pd.concat([self.table, pooled[self.table.columns]], ignore_index=True)

    def __repr__(self) -> str:
        lines = [f"SimpsonCheck({self.by} x {self.within}, {stage_label(self.stage)})"]
        shown = self.to_frame()
        shown.loc[len(self.table) :, self.within] = t("simpson.all")  # the pooled rows, in words
        lines.append(table_text(shown, index=False, float_format=lambda x: f"{x:.3f}"))
        if self.reversed:
            for row in self.reversals.itertuples(index=False):
                lines.append(
                    t(
                        "simpson.reversal" if row.differs else "simpson.level",
                        better=row.better,
                        worse=row.worse,
                        within=field_label(self.within),
                        better_pooled=row.better_pooled,
                        worse_pooled=row.worse_pooled,
                        gap_low=100 * row.gap_low,
                        gap_high=100 * row.gap_high,
                        p=p_text(row.p_adjusted),
                    )
                )
        else:
            lines.append(t("simpson.no_reversal"))
        return "\n".join(lines) + ")"


def simpson_check(
    log: Log | pd.DataFrame,
    *,
    by: str = "rep",
    within: str = "source",
    stage: str | None = None,
    confidence_level: float = 0.95,
) -> SimpsonCheck:
    """Does pooling lead sources reverse the ranking of reps? (Simpson's paradox)

    A rep who gets mostly cold leads can be better than a colleague with
    every lead source and still show a lower ratio overall, because cold
    leads convert worse for everybody. This function puts each rep's
    per-source ratios beside the pooled one and lists every pair of reps
    ``(g, h)`` where ``g``'s ratio is strictly higher than ``h``'s in every
    source both have leads from, yet strictly lower pooled.

    A gap of a point within each source is often chance. Each pair is
    therefore tested like for like: the Cochran-Mantel-Haenszel test (no
    continuity correction; statsmodels' ``StratifiedTable.test_null_odds``)
    of "``g`` and ``h`` convert equally within every source they share",
    its p-values Holm-adjusted over every pair. A reversal whose adjusted
    p-value is not below ``1 - confidence_level`` is reported as such: like
    for like the two cannot be told apart (not proof that they are equal),
    and the mix of sources (confounding) is enough to explain the pooled gap.

    Parameters
    ----------
    log : Log or pandas.DataFrame
        A log with both columns, or a table like
        ``Log.stage_table(by=[by, within])``.
    by : str, default "rep"
        What is ranked.
    within : str, default "source"
        What is pooled over.
    stage : str, optional
        The step (named after the stage it leads to); by default the overall
        rate from the first stage to the last (for a table: its only step).
    confidence_level : float, default 0.95
        A reversal counts as real (``differs``) when the Holm-adjusted
        p-value of its like-for-like test is below ``1 - confidence_level``.

    Returns
    -------
    SimpsonCheck
        ``.to_frame()``, ``.pooled``, ``.reversals``, ``.reversed``.

    Examples
    --------
    >>> from funnelsim.diagnose import simpson_check, simpson_example
    >>> res = simpson_check(simpson_example())
    >>> res.reversed
    True
    >>> res.to_frame()
       rep      source  entered  passed     ratio
    0  ann   cold list      600      90  0.150000
    1  ann    referral      100      40  0.400000
    2  bob   cold list      100       8  0.080000
    3  bob    referral      500     140  0.280000
    4  ann           all      700     130  0.185714
    5  bob           all      600     148  0.246667
    >>> res.reversals[["better", "worse", "gap_low", "gap_high", "p_adjusted", "differs"]].round(4)
      better worse  gap_low  gap_high  p_adjusted  differs
    0    ann   bob     0.07      0.12      0.0024     True
    """
    confidence_level = check_level(confidence_level)
    for name, value in (("by", by), ("within", within)):
        if isinstance(value, str):  # one column each
            by_columns(value, name)
        else:
            raise FunnelsimTypeError(
                "error.by_type", name=name, value=short(value), type=type_name(value)
            )
    if by == within:
        raise FunnelsimValueError("error.simpson_same", value=repr(by))
    table, steps, stages = stage_rows(log, (by, within), "simpson_check")
    if stage is None and len(steps) > 1:
        first = table[table["stage"] == steps[0]].set_index([by, within])["entered"]
        last = table[table["stage"] == steps[-1]].set_index([by, within])["passed"]
        rows = pd.DataFrame({"entered": first, "passed": last}).reset_index()
        label = "overall"
    else:
        step = chosen_steps(stage, steps, stages)[0] if stage is not None else steps[0]
        rows = table[table["stage"] == step][[by, within, "entered", "passed"]]
        label = step
    rows = rows[rows["entered"] > 0].reset_index(drop=True)
    rows["ratio"] = rows["passed"] / rows["entered"]
    pooled = rows.groupby(by, sort=True)[["entered", "passed"]].sum().reset_index()
    pooled["ratio"] = pooled["passed"] / pooled["entered"]
    wide = rows.pivot(index=by, columns=within, values="ratio")
    entered = rows.pivot(index=by, columns=within, values="entered")
    passed = rows.pivot(index=by, columns=within, values="passed")
    share = pooled.set_index(by)["ratio"]
    found, tested = [], []
    names = list(wide.index)
    for i, g in enumerate(names):
        for h in names[i + 1 :]:
            both = wide.loc[g].notna() & wide.loc[h].notna()
            if not both.any():
                continue
            tested.append(
                _cmh_pvalue(
                    passed.loc[g][both], entered.loc[g][both], passed.loc[h][both],
                    entered.loc[h][both],
                )
            )  # fmt: skip
            diff = (wide.loc[g] - wide.loc[h])[both]
            for better, worse, sign in ((g, h, 1), (h, g, -1)):
                if (sign * diff > 0).all() and share[better] < share[worse]:
                    found.append(
                        {
                            "better": better,
                            "worse": worse,
                            "better_pooled": float(share[better]),
                            "worse_pooled": float(share[worse]),
                            "sources": int(both.sum()),
                            "gap_low": float((sign * diff).min()),
                            "gap_high": float((sign * diff).max()),
                            "p_value": tested[-1],
                            "test": len(tested) - 1,
                        }
                    )
    adjusted = adjust_pvalues(tested) if tested else np.array([])
    for row in found:
        row["p_adjusted"] = float(adjusted[row.pop("test")])
        row["differs"] = bool(row["p_adjusted"] < 1 - confidence_level)
    columns = [
        "better", "worse", "better_pooled", "worse_pooled", "sources",
        "gap_low", "gap_high", "p_value", "p_adjusted", "differs",
    ]  # fmt: skip
    reversals = pd.DataFrame(found, columns=columns).astype({"differs": bool})
    return SimpsonCheck(by, within, label, rows, pooled, reversals, confidence_level)


def _cmh_pvalue(
    passed_g: pd.Series, entered_g: pd.Series, passed_h: pd.Series, entered_h: pd.Series
) -> float:
    """Cochran-Mantel-Haenszel p-value (no continuity correction): g and h level in each stratum.

    Per stratum, ``a`` = g's passed leads; under "equal ratios" its mean is
    ``n_g m / N`` and its variance ``n_g n_h m (N - m) / (N^2 (N - 1))``
    (``m`` passed of ``N`` leads in both). The statistic
    ``(sum (a - mean))^2 / sum variance`` is chi-square with 1 degree of
    freedom. NaN when no stratum varies (nothing to test).
    """
    a = passed_g.to_numpy(float)
    n_g, n_h = entered_g.to_numpy(float), entered_h.to_numpy(float)
    total, m = n_g + n_h, a + passed_h.to_numpy(float)
    ok = total > 1
    mean = n_g[ok] * m[ok] / total[ok]
    variance = n_g[ok] * n_h[ok] * m[ok] * (total[ok] - m[ok]) / (total[ok] ** 2 * (total[ok] - 1))
    if variance.sum() <= 0:
        return math.nan
    statistic = (a[ok] - mean).sum() ** 2 / variance.sum()
    return float(stats.chi2.sf(statistic, 1))


def simpson_example() -> Log:
    """A counts log where one rep is better with every lead source but worse overall.

    ann works mostly the cold list, bob mostly referrals. ann books more
    meetings per connect from referrals (40 % against 28 %) *and* from the
    cold list (15 % against 8 %), by more than chance, yet her pooled ratio
    is lower than bob's (18.6 % against 24.7 %).

    Returns
    -------
    Log
        A counts log with columns ``rep``, ``source`` and the stages
        ``connects`` and ``meetings`` (identifiers, the same in every
        language, as the presets' stages).

    Examples
    --------
    >>> from funnelsim.diagnose import simpson_example
    >>> simpson_example().counts
       rep     source  connects  meetings
    0  ann   referral       100        40
    1  ann  cold list       600        90
    2  bob   referral       500       140
    3  bob  cold list       100         8
    """
    stages = ("connects", "meetings")
    referral, cold = "referral", "cold list"
    counts = pd.DataFrame(
        {
            "rep": ["ann", "ann", "bob", "bob"],
            "source": [referral, cold, referral, cold],
            stages[0]: [100, 600, 500, 100],
            stages[1]: [40, 90, 140, 8],
        }
    )
    return Log("counts", stages, counts=counts, name="simpson_example")
