"""Groups, trends and diagnoses: compare reps fairly, watch ratios week by week, name the leak.

A rep with 3 meetings out of 40 connects looks worse than one with 10 out of
70, but how much of that gap is chance? This module answers with the tools a
sales analyst needs before anyone is praised or blamed:

- :func:`compare_groups`: each group's (rep's, source's, week's) stage ratios
  with intervals; empirical-Bayes *shrunken* ratios that pull small groups
  towards the team; the probability that each group's ratio is below the rest
  of the team's; a chi-square test across groups and per-group tests with
  multiple-comparison control.
- :func:`funnel_limits`: control limits for a ratio against volume, for the
  funnel plot (:func:`funnelsim.plotting.plot_funnel_chart`).
- :func:`p_chart`: a ratio week by week with 3-sigma limits scaled to each
  week's volume; weeks outside are flagged
  (:func:`funnelsim.plotting.plot_p_chart`).
- :func:`diagnose_leaks`: which stage ratios are significantly below a
  benchmark (the rest of the team, a preset's funnel, or given numbers), with
  the decks' likely causes.
- :func:`diagnose_pipeline`: healthy, top-heavy, empty or stuck in the middle,
  from a snapshot of leads per stage.
- :func:`simpson_check` and :func:`simpson_example`: a rep who is better with
  every lead source can still look worse overall (Simpson's paradox).

Building blocks: :func:`fit_beta_binomial` (the prior of the shrinkage) and
:func:`adjust_pvalues` (Holm, Benjamini-Hochberg).

Conventions
-----------
A *step* is named after the stage it leads to, as in :func:`funnelsim.estimate.fit`:
the step ``meetings`` has ``entered`` leads (at the stage before) and
``passed`` leads (that reached ``meetings``). Every function accepts a
:class:`~funnelsim.logs.Log`, a :class:`~funnelsim.estimate.Fit`, or a
DataFrame shaped like ``Log.stage_table(by=...)`` (the group columns,
``stage``, ``entered``, ``passed``).

*The team* that a group is compared with is the **rest of the team**: the
pooled ratio of all the other groups (``rest``). A rep is then never compared
with a benchmark that contains their own leads, which matters in small teams.
The funnel plot and the p-chart, which draw one line for everybody, use the
pooled ratio of all groups.

"Significant" means an adjusted p-value below ``1 - confidence_level``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._validate import check_choice, check_nonnegative, check_probability, short
from .estimate import Fit
from .funnel import Funnel
from .i18n import FunnelsimValueError, field_label, fields_label, method_label, t
from .intervals import METHODS, check_level, check_pair, interval
from .logs import Log
from .presets import Preset

__all__ = [
    "ADJUST",
    "KINDS",
    "MAX_PRECISION",
    "SHAPES",
    "BetaBinomial",
    "GroupComparison",
    "LeakDiagnosis",
    "PChart",
    "PipelineDiagnosis",
    "SimpsonCheck",
    "adjust_pvalues",
    "compare_groups",
    "diagnose_leaks",
    "diagnose_pipeline",
    "fit_beta_binomial",
    "funnel_limits",
    "p_chart",
    "simpson_check",
    "simpson_example",
]

ADJUST = ("holm", "bh")
KINDS = ("top", "middle", "bottom", "whole")
SHAPES = ("healthy", "top-heavy", "empty", "stuck in the middle")
MAX_PRECISION = 1e6  # cap of the prior's precision a + b (no variation beyond chance)
_MIN_PRECISION = 1e-6
_SHOWN = 12  # rows a repr lists


# ------------------------------------------------------------------ helpers
def _pct(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{100 * x:.3g}%"


def _p(x: float) -> str:
    """A p-value with its relation, to follow "p": "= 0.0312", "< 0.001" or "= -"."""
    if not np.isfinite(x):
        return "= -"
    return "< 0.001" if x < 0.001 else f"= {x:.3g}"


def _keys(by: object) -> tuple[str, ...]:
    if by is None:
        return ()
    keys = (by,) if isinstance(by, str) else tuple(by) if np.iterable(by) else (by,)
    if not all(isinstance(k, str) and k for k in keys):
        raise FunnelsimValueError("error.by_type", value=short(by))
    return keys


def _label(values: Sequence[object]) -> str:
    return ", ".join(str(v) for v in values)


def _labels(table: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    if not keys:
        return [""] * len(table)
    return [_label(row) for row in table[list(keys)].itertuples(index=False)]


def _table(
    source: object, keys: tuple[str, ...], function: str
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...] | None]:
    """Rows ``[*keys, stage, entered, passed]`` summed over everything else.

    Returns the table (groups sorted, steps in funnel order), the steps and
    the stages (None for a DataFrame, which does not name the first stage).
    """
    if isinstance(source, Log):
        table = source.stage_table(by=list(keys)) if keys else source.stage_table()
        stages = tuple(source.stages)
        return table.reset_index(drop=True), stages[1:], stages
    if isinstance(source, Fit):
        missing = [k for k in keys if k not in source.by]
        if missing:
            raise FunnelsimValueError(
                "error.unknown_by",
                value=", ".join(missing),
                choices=", ".join(source.by) or "-",
            )
        frame = source.table
        stages: tuple[str, ...] | None = tuple(source.stages)
        steps = stages[1:]
    elif isinstance(source, pd.DataFrame):
        need = [*keys, "stage", "entered", "passed"]
        missing = [c for c in need if c not in source.columns]
        if missing:
            raise FunnelsimValueError(
                "error.table_columns",
                function=function,
                missing=", ".join(map(repr, missing)),
                columns=", ".join(map(repr, source.columns)) or "-",
            )
        if source.empty:
            raise FunnelsimValueError("error.table_empty", function=function)
        check_pair(source["passed"].to_numpy(), source["entered"].to_numpy(), allow_empty=True)
        frame = source
        stages = None
        steps = tuple(pd.unique(source["stage"]))
    else:
        raise FunnelsimValueError(
            "error.groups_source", function=function, value=type(source).__name__
        )
    part = frame[[*keys, "stage", "entered", "passed"]].copy()
    part["stage"] = pd.Categorical(part["stage"], categories=list(steps), ordered=True)
    out = (
        part.groupby([*keys, "stage"], observed=True, sort=True)[["entered", "passed"]]
        .sum()
        .reset_index()
    )
    out["stage"] = out["stage"].astype(frame["stage"].dtype)  # as the source wrote it
    out[["entered", "passed"]] = out[["entered", "passed"]].astype(np.int64)
    return out, steps, stages


def _steps(
    stage: str | Sequence[str] | None, steps: tuple[str, ...], stages: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The steps chosen by ``stage`` (all by default), in funnel order."""
    if stage is None:
        return steps
    names = [stage] if isinstance(stage, str) else list(stage)
    for name in names:
        if name not in steps:
            if stages is not None and name == stages[0]:
                raise FunnelsimValueError(
                    "error.first_stage_ratio", stage=repr(name), choices=", ".join(steps)
                )
            raise FunnelsimValueError(
                "error.unknown_ratio_stage", value=repr(name), choices=", ".join(steps)
            )
    return tuple(s for s in steps if s in names)


# -------------------------------------------------------- multiple testing
def adjust_pvalues(pvalues: Sequence[float] | np.ndarray, *, method: str = "holm") -> np.ndarray:
    """P-values adjusted for multiple comparisons (Holm or Benjamini-Hochberg).

    Testing twenty reps at the 5 % level flags about one of them by chance
    alone. Adjusted p-values control that: compare them with ``1 -
    confidence_level`` as you would a single p-value.

    Parameters
    ----------
    pvalues : array_like of float
        Raw p-values in [0, 1]; NaN entries (tests that could not be run)
        stay NaN and do not count in the family.
    method : {"holm", "bh"}
        ``"holm"`` (Holm 1979) controls the family-wise error rate, the
        chance of flagging *any* group wrongly: with the ``m`` p-values
        sorted, ``p_(i)`` becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``.
        ``"bh"`` (Benjamini and Hochberg 1995) controls the false discovery
        rate, the expected share of wrong flags among the flags:
        ``min_{j >= i} min(1, m p_(j) / j)``. Both equal statsmodels'
        ``multipletests`` (``"holm"``, ``"fdr_bh"``).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape as ``pvalues``.

    Examples
    --------
    >>> from funnelsim.groups import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.2])
    array([0.04, 0.09, 0.09, 0.2 ])
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.2], method="bh")
    array([0.04      , 0.05333333, 0.05333333, 0.2       ])
    """
    method = check_choice("method", method, ADJUST)
    p = np.asarray(pvalues, dtype=float)
    bad = ~np.isnan(p) & ~((p >= 0) & (p <= 1))
    if bad.any():
        raise FunnelsimValueError("error.pvalues", value=f"{p[bad][0]:g}")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    values = p[ok]
    order = np.argsort(values, kind="stable")
    s = values[order]
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * s))
    else:
        adj = np.minimum.accumulate((s * m / np.arange(1, m + 1))[::-1])[::-1]
        adj = np.minimum(1.0, adj)
    back = np.empty(m)
    back[order] = adj
    out[ok] = back
    return out


# ------------------------------------------------------- beta-binomial prior
class BetaBinomial(NamedTuple):
    """The Beta(a, b) prior of group ratios fitted by maximum marginal likelihood.

    ``mean = a / (a + b)`` is the typical ratio, ``precision = a + b`` says
    how alike the groups are (the prior is worth ``precision`` leads of
    evidence). ``capped`` is True when the groups vary no more than chance
    would make them: the likelihood keeps rising as the precision grows, so
    the precision is set to the cap and the prior is (almost) a point mass at
    ``mean``.
    """

    a: float
    b: float
    mean: float
    precision: float
    log_likelihood: float
    capped: bool


def _cap(max_precision: object) -> float:
    cap = check_nonnegative("max_precision", max_precision)
    if cap < 1.0:
        raise FunnelsimValueError("error.at_least", name="max_precision", minimum=1, value=cap)
    return cap


def fit_beta_binomial(
    passed: Sequence[int] | np.ndarray,
    entered: Sequence[int] | np.ndarray,
    *,
    max_precision: float = MAX_PRECISION,
) -> BetaBinomial:
    """Fit a Beta(a, b) prior to group counts by maximum marginal likelihood.

    Each group ``g`` has a true ratio ``theta_g ~ Beta(a, b)`` and
    ``passed_g ~ Binomial(entered_g, theta_g)``, so ``passed_g`` is
    beta-binomial. The marginal log-likelihood

    ``sum_g [log C(n_g, k_g) + betaln(k_g + a, n_g - k_g + b) - betaln(a, b)]``

    is maximised over the logit of the mean ``a / (a + b)`` and the log of
    the precision ``a + b`` (truncated Newton, TNC, with the exact gradient, from a
    method-of-moments start). When the groups vary no more than binomial
    chance would make them, the likelihood keeps rising with the precision
    (the maximum is at infinity, the binomial limit, where the best mean is
    the pooled ratio): the prior is then centred at the pooled ratio with
    its precision capped at ``max_precision``, and ``capped`` is True.

    Parameters
    ----------
    passed, entered : array_like of int
        Counts per group (at least two groups, each with ``entered >= 1``),
        with at least one pass and one failure in all.
    max_precision : float, default 1e6
        Cap of ``a + b``.

    Returns
    -------
    BetaBinomial
        ``a``, ``b``, ``mean``, ``precision``, ``log_likelihood`` (with the
        binomial coefficients, as ``scipy.stats.betabinom.logpmf`` summed)
        and ``capped``.

    Examples
    --------
    Meetings out of connects for four reps:

    >>> from funnelsim.groups import fit_beta_binomial
    >>> prior = fit_beta_binomial([3, 10, 25, 8], [40, 70, 90, 60])
    >>> print(f"{prior.mean:.3f} {prior.precision:.1f} {prior.capped}")
    0.165 40.8 False
    >>> fit_beta_binomial([10, 10, 10], [50, 50, 50]).capped     # identical ratios
    True
    """
    k, n = check_pair(passed, entered, allow_empty=False)
    k, n = k.ravel(), n.ravel()
    if k.size < 2:
        raise FunnelsimValueError("error.prior_too_few", count=k.size)
    total_k, total_n = float(k.sum()), float(n.sum())
    if total_k == 0 or total_k == total_n:
        raise FunnelsimValueError("error.prior_degenerate")
    cap = _cap(max_precision)
    const = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)

    def loglik(mu: float, mu_c: float, m: float) -> float:
        a, b = mu * m, mu_c * m
        return float(np.sum(const + special.betaln(k + a, n - k + b) - special.betaln(a, b)))

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        mu, mu_c, m = special.expit(x[0]), special.expit(-x[0]), math.exp(x[1])
        a, b = mu * m, mu_c * m
        ll = np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b))
        common = special.digamma(a + b) - special.digamma(n + a + b)
        da = np.sum(special.digamma(k + a) - special.digamma(a) + common)
        db = np.sum(special.digamma(n - k + b) - special.digamma(b) + common)
        grad = np.array([(da - db) * m * mu * mu_c, da * a + db * b])
        return -float(ll), -grad

    mean0 = total_k / total_n
    r = k / n
    between = float(np.var(r) - np.mean(mean0 * (1 - mean0) / n))
    m0 = mean0 * (1 - mean0) / between - 1 if between > 0 else 1e3
    m0 = min(max(m0, 1.0), cap)
    bounds = [(None, None), (math.log(_MIN_PRECISION), math.log(cap))]
    res = optimize.minimize(
        negative,
        np.array([special.logit(mean0), math.log(m0)]),
        jac=True,
        method="TNC",  # C without BLAS: L-BFGS-B's threaded BLAS calls cost ms each on a busy CPU
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxfun": 2000},
    )
    mu, m = float(special.expit(res.x[0])), float(math.exp(res.x[1]))
    best = loglik(mu, 1 - mu, m)
    # The binomial limit: at the cap the best mean is the pooled ratio (to O(1/cap)).
    at_cap = loglik(mean0, 1 - mean0, cap)
    capped = bool(res.x[1] >= math.log(cap) - 1e-6 or at_cap >= best)
    if capped:
        mu, m, best = mean0, cap, at_cap
    return BetaBinomial(mu * m, (1 - mu) * m, mu, m, best, capped)


# ---------------------------------------------------------- compare_groups
@dataclass(frozen=True, repr=False, eq=False)
class GroupComparison:
    """Groups' stage ratios: raw, shrunken, against the rest of the team.

    Attributes
    ----------
    by : tuple of str
        The group columns.
    stages : tuple of str
        The steps compared (each named after the stage it leads to).
    table : pandas.DataFrame
        One row per group and step (see :meth:`to_frame`).
    steps : pandas.DataFrame
        One row per step: ``stage``, ``groups`` (groups with leads there),
        ``entered``, ``passed``, ``team_ratio`` (pooled over all groups),
        the fitted prior (``prior_a``, ``prior_b``, ``prior_mean``,
        ``prior_precision``, ``capped``, ``log_likelihood``) and the
        chi-square test of homogeneity across groups (``chi2``, ``dof``,
        ``p_value``).
    confidence_level, method, adjust
        As passed to :func:`compare_groups`.
    notes : tuple of str
        What could not be computed, and why; when the prior was capped.
    """

    by: tuple[str, ...]
    stages: tuple[str, ...]
    table: pd.DataFrame
    steps: pd.DataFrame
    confidence_level: float
    method: str
    adjust: str
    notes: tuple[str, ...] = ()

    @property
    def groups(self) -> list[Any]:
        """Group keys (a value, or a tuple for several ``by`` columns)."""
        keys = self.table[list(self.by)].drop_duplicates()
        if len(self.by) == 1:
            return keys[self.by[0]].tolist()
        return [tuple(row) for row in keys.itertuples(index=False)]

    @property
    def differing(self) -> pd.DataFrame:
        """Rows of groups whose ratio differs significantly from the rest of the team."""
        return self.table[self.table["differs"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per group and step.

        Columns: the ``by`` columns, ``stage``, ``entered``, ``passed``,
        ``ratio``, ``low``, ``high`` (the raw ratio and its interval);
        ``rest`` (the pooled ratio of the other groups); ``shrunk``,
        ``shrunk_low``, ``shrunk_high`` (posterior mean and equal-tailed
        posterior interval under the fitted prior); ``p_below`` (posterior
        probability that the group's ratio is below ``rest``); ``p_value``
        (two-sided Fisher exact test of the group against the rest of the
        team), ``p_adjusted`` (Holm or BH over every row) and ``differs``
        (``p_adjusted < 1 - confidence_level``).
        """
        return self.table.copy()

    def __repr__(self) -> str:
        level = f"{100 * self.confidence_level:g}%"
        lines = [
            t(
                "repr.group_comparison.head",
                by=fields_label(self.by),
                method=method_label(self.method),
                level=level,
                adjust=self.adjust,
                groups=len(self.groups),
                steps=len(self.stages),
            )
        ]
        for step in self.steps.itertuples(index=False):
            prior = (
                t(
                    "repr.group_comparison.prior",
                    mean=_pct(step.prior_mean),
                    precision=step.prior_precision,
                )
                + (t("repr.group_comparison.capped") if step.capped else "")
                if np.isfinite(step.prior_mean)
                else t("repr.group_comparison.no_prior")
            )
            lines.append(
                t(
                    "repr.group_comparison.step",
                    stage=step.stage,
                    team=_pct(step.team_ratio),
                    passed=step.passed,
                    entered=step.entered,
                    prior=prior,
                    p=_p(step.p_value),
                )
            )
            rows = self.table[self.table["stage"] == step.stage]
            for label, row in zip(
                _labels(rows, self.by)[:_SHOWN], rows.head(_SHOWN).itertuples(), strict=False
            ):
                lines.append(
                    t(
                        "repr.group_comparison.row",
                        label=label,
                        passed=row.passed,
                        entered=row.entered,
                        ratio=_pct(row.ratio),
                        shrunk=_pct(row.shrunk),
                        low=_pct(row.shrunk_low),
                        high=_pct(row.shrunk_high),
                        p_below=_p(row.p_below),
                        p_adjusted=_p(row.p_adjusted),
                        flag=" *" if row.differs else "",
                    )
                )
            if len(rows) > _SHOWN:
                lines.append("    " + t("repr.more", n=len(rows) - _SHOWN, where=".to_frame()"))
        lines += [t("repr.note", note=note) for note in self.notes]
        return "\n".join(lines) + ")"


def compare_groups(
    log: Log | Fit | pd.DataFrame,
    *,
    by: str | Sequence[str],
    stage: str | Sequence[str] | None = None,
    confidence_level: float = 0.95,
    method: str = "wilson",
    adjust: str = "holm",
    max_precision: float = MAX_PRECISION,
) -> GroupComparison:
    """Compare groups' stage ratios: raw, shrunken, and against the rest of the team.

    For every group (rep, source, segment, week) and step:

    1. the raw ratio ``passed / entered`` with its confidence interval
       (``method``, as in :func:`funnelsim.intervals.proportion_ci`);
    2. the *shrunken* ratio: a Beta(a, b) prior is fitted to all groups'
       counts at that step by maximum marginal likelihood
       (:func:`fit_beta_binomial`, empirical Bayes) and each group's
       posterior ``Beta(a + passed, b + entered - passed)`` gives the
       posterior mean and an equal-tailed interval. Small groups are pulled
       most towards the team, large groups keep their own ratio;
    3. ``p_below``: the posterior probability that the group's ratio is
       below the pooled ratio of the *rest of the team* (the other groups),
       ``P(theta_g < rest)``; ``rest`` is treated as known (it pools many
       more leads than one group);
    4. a two-sided Fisher exact test of the group against the rest of the
       team (the 2 x 2 table group/rest x passed/failed), with the p-values
       of every group and step adjusted together (``adjust``);
    5. per step, a chi-square test of homogeneity across all groups
       (``scipy.stats.chi2_contingency`` on the groups x {passed, failed}
       table, without Yates' correction).

    Parameters
    ----------
    log : Log, Fit or pandas.DataFrame
        A log, a fit, or a table like ``Log.stage_table(by=...)``.
    by : str or sequence of str
        Group columns (``"rep"``, ``"source"``, ``["rep", "source"]``...).
    stage : str or sequence of str, optional
        The step(s) to compare (named after the stage they lead to); all
        steps by default.
    confidence_level : float, default 0.95
        Level of the raw and posterior intervals; a group "differs" when its
        adjusted p-value is below ``1 - confidence_level``.
    method : {"wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald"}
        Interval method of the raw ratios.
    adjust : {"holm", "bh"}
        Multiple-comparison control (see :func:`adjust_pvalues`).
    max_precision : float, default 1e6
        Cap of the prior precision when the groups vary no more than chance
        (see :func:`fit_beta_binomial`); :attr:`GroupComparison.notes` says
        when it was reached.

    Returns
    -------
    GroupComparison
        ``.to_frame()`` (one row per group and step), ``.steps`` (one row
        per step: team ratio, prior, chi-square test), ``.differing``,
        ``.notes``.

    Raises
    ------
    ValueError
        No ``by``, fewer than two groups, an unknown step, or a bad level,
        method or adjustment.

    Notes
    -----
    Groups in which no lead entered a step have NaN ratio, tests and
    ``p_below`` there; their shrunken estimate is the prior (the team's
    typical ratio). A step where every group passed none (or all) of its
    leads has no prior (nothing varies), NaN shrunken estimates, and a
    chi-square statistic of 0 (p-value 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.groups import compare_groups
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> log = Log("counts", ("connects", "meetings"), counts=counts)
    >>> res = compare_groups(log, by="rep")
    >>> res.to_frame()[["rep", "ratio", "shrunk", "rest", "p_below", "p_adjusted"]].round(3)
       rep  ratio  shrunk   rest  p_below  p_adjusted
    0  ann  0.075   0.121  0.195    0.970       0.220
    1  bob  0.143   0.151  0.189    0.868       0.880
    2   cy  0.278   0.243  0.124    0.000       0.013
    3  dee  0.133   0.146  0.190    0.889       0.880
    >>> res.steps[["stage", "team_ratio", "prior_precision", "chi2", "p_value"]].round(3)
          stage  team_ratio  prior_precision    chi2  p_value
    0  meetings       0.177           40.797  10.481    0.015
    """
    keys = _keys(by)
    if not keys:
        raise FunnelsimValueError("error.by_required", function="compare_groups")
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    adjust = check_choice("adjust", adjust, ADJUST)
    cap = _cap(max_precision)
    table, steps, stages = _table(log, keys, "compare_groups")
    chosen = _steps(stage, steps, stages)
    table = table[table["stage"].isin(chosen)].reset_index(drop=True)
    n_groups = len(table[list(keys)].drop_duplicates())
    if n_groups < 2:
        raise FunnelsimValueError("error.groups_too_few", by=fields_label(keys), count=n_groups)
    tail = (1.0 - level) / 2.0
    parts, step_rows, notes = [], [], []
    for step in chosen:
        sub = table[table["stage"] == step].reset_index(drop=True)
        k = sub["passed"].to_numpy(float)
        n = sub["entered"].to_numpy(float)
        ok = n > 0
        total_k, total_n = float(k[ok].sum()), float(n[ok].sum())
        ratio, low, high = (np.full(len(sub), np.nan) for _ in range(3))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio[ok] = k[ok] / n[ok]
            rest_n = total_n - n
            rest = np.where(
                ok & (rest_n > 0), (total_k - k) / np.where(rest_n > 0, rest_n, 1), np.nan
            )
        if ok.any():
            low[ok], high[ok] = interval(k[ok], n[ok], level, method)
        for i in np.flatnonzero(~ok):
            notes.append(t("note.groups_empty", group=_labels(sub.iloc[[i]], keys)[0], stage=step))
        # the prior and the posteriors
        prior = None
        if ok.sum() == 0:  # nobody has got that far yet
            notes.append(t("note.groups_none", stage=step))
        elif ok.sum() < 2:
            notes.append(t("note.groups_one", stage=step))
        elif total_k == 0 or total_k == total_n:
            key = "note.groups_all_none" if total_k == 0 else "note.groups_all_passed"
            notes.append(t(key, stage=step))
        else:
            prior = fit_beta_binomial(k[ok], n[ok], max_precision=cap)
            if prior.capped:
                notes.append(t("note.groups_capped", stage=step, cap=cap))
        shrunk, s_low, s_high, p_below = (np.full(len(sub), np.nan) for _ in range(4))
        if prior is not None:
            a_post, b_post = prior.a + k, prior.b + n - k
            shrunk = a_post / (a_post + b_post)
            s_low = stats.beta.ppf(tail, a_post, b_post)
            s_high = stats.beta.isf(tail, a_post, b_post)
            has_rest = np.isfinite(rest)
            p_below[has_rest] = stats.beta.cdf(rest[has_rest], a_post[has_rest], b_post[has_rest])
        # tests
        p_value = np.full(len(sub), np.nan)
        has = np.isfinite(rest)
        rk, rn = total_k - k[has], total_n - n[has]
        p_value[has] = _fisher_two_sided(k[has], n[has] - k[has], rk, rn - rk)
        chi2, dof, p_chi2 = _homogeneity(k[ok], n[ok])
        parts.append(
            sub.assign(
                ratio=ratio,
                low=low,
                high=high,
                rest=rest,
                shrunk=shrunk,
                shrunk_low=s_low,
                shrunk_high=s_high,
                p_below=p_below,
                p_value=p_value,
            )
        )
        nan = float("nan")
        step_rows.append(
            {
                "stage": step,
                "groups": int(ok.sum()),
                "entered": int(total_n),
                "passed": int(total_k),
                "team_ratio": total_k / total_n if total_n > 0 else nan,
                "prior_a": prior.a if prior else nan,
                "prior_b": prior.b if prior else nan,
                "prior_mean": prior.mean if prior else nan,
                "prior_precision": prior.precision if prior else nan,
                "capped": bool(prior.capped) if prior else False,
                "log_likelihood": prior.log_likelihood if prior else nan,
                "chi2": chi2,
                "dof": dof,
                "p_value": p_chi2,
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(), method=adjust)
    out["differs"] = np.nan_to_num(out["p_adjusted"].to_numpy(), nan=1.0) < 1.0 - level
    return GroupComparison(
        by=keys,
        stages=chosen,
        table=out,
        steps=pd.DataFrame(step_rows),
        confidence_level=level,
        method=method,
        adjust=adjust,
        notes=tuple(notes),
    )


def _search(f, d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Scipy's binary search for the two-sided binomial and Fisher tests, on arrays.

    For each element: the ``i`` in ``[lo, hi]`` with ``f(i) <= d < f(i + 1)``
    (``f`` ascending there), found by exactly the steps of
    ``scipy.stats._stats_py._binary_search_for_binom_tst``.
    """
    lo, hi = lo.copy(), hi.copy()
    out = np.full(lo.shape, -1, dtype=np.int64)
    done = np.zeros(lo.shape, dtype=bool)
    while True:
        act = ~done & (lo < hi)
        if not act.any():
            break
        mid = lo[act] + (hi[act] - lo[act]) // 2
        val = f(mid, act)
        idx = np.flatnonzero(act)
        below, above = val < d[act], val > d[act]
        lo[idx[below]] = mid[below] + 1
        hi[idx[above]] = mid[above] - 1
        equal = ~below & ~above
        out[idx[equal]] = mid[equal]
        done[idx[equal]] = True
    rest = ~done
    if rest.any():
        at = f(lo[rest], rest)
        out[rest] = np.where(at <= d[rest], lo[rest], lo[rest] - 1)
    return out


def _fisher_two_sided(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact p-values of the 2 x 2 tables ``[[a, b], [c, d]]``, all at once.

    The algorithm of ``scipy.stats.fisher_exact`` (the tables as extreme as
    the observed one are those whose hypergeometric probability is at most
    ``1 + 1e-14`` times the observed one; the tail beyond the mode is found by
    a binary search), step for step but on arrays: one scipy call per search
    step for every table instead of a dozen calls per table (a group
    comparison runs one test per group and step). ``tests/test_groups.py``
    checks it against ``scipy.stats.fisher_exact``.
    """
    a, b, c, d = (np.asarray(x, dtype=np.int64) for x in (a, b, c, d))
    n1, n2, n = a + b, c + d, a + c
    total = n1 + n2
    p = np.ones(a.shape)
    ok = (n1 > 0) & (n2 > 0) & (n > 0) & (b + d > 0)
    if not ok.any():
        return p
    a, n1, n, total = a[ok], n1[ok], n[ok], total[ok]
    hyper = stats.hypergeom
    mode = np.trunc((n + 1) * (n1 + 1) / (total + 2)).astype(np.int64)
    exact = hyper.pmf(a, total, n1, n)
    at_mode = hyper.pmf(mode, total, n1, n)
    gamma = 1 + 1e-14
    value = np.ones(a.shape)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 when both underflow, as scipy
        same = np.abs(exact - at_mode) / np.maximum(exact, at_mode) <= 1e-14
    left = ~same & (a < mode)  # the observed table is below the mode: add the upper tail
    if left.any():
        tail = hyper.cdf(a[left], total[left], n1[left], n[left])
        pick = (total[left], n1[left], n[left])
        end = hyper.pmf(n[left], *pick) > exact[left] * gamma
        guess = _search(
            lambda x, m: -hyper.pmf(x, *(v[m] for v in pick)),
            -exact[left] * gamma,
            mode[left],
            n[left],
        )
        value[left] = np.where(end, tail, tail + hyper.sf(guess, *pick))
    right = ~same & ~(a < mode)
    if right.any():
        tail = hyper.sf(a[right] - 1, total[right], n1[right], n[right])
        pick = (total[right], n1[right], n[right])
        end = hyper.pmf(0, *pick) > exact[right] * gamma
        guess = _search(
            lambda x, m: hyper.pmf(x, *(v[m] for v in pick)),
            exact[right] * gamma,
            np.zeros(int(right.sum()), dtype=np.int64),
            mode[right],
        )
        value[right] = np.where(end, tail, tail + hyper.cdf(guess, *pick))
    p[ok] = np.minimum(value, 1.0)
    return p


def _homogeneity(k: np.ndarray, n: np.ndarray) -> tuple[float, int, float]:
    """Pearson chi-square test of equal ratios across groups (no Yates correction)."""
    if k.size < 2:
        return float("nan"), 0, float("nan")
    dof = int(k.size - 1)
    if k.sum() == 0 or k.sum() == n.sum():
        return 0.0, dof, 1.0
    res = stats.chi2_contingency(np.column_stack([k, n - k]), correction=False)
    return float(res.statistic), dof, float(res.pvalue)


# ------------------------------------------------------------ funnel plot
def _limit(p: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """Spiegelhalter's interpolated lower binomial limit for the ratio (quantile ``q``)."""
    r = stats.binom.ppf(q, n, p)
    f_r = stats.binom.cdf(r, n, p)
    f_before = stats.binom.cdf(r - 1, n, p)
    step = f_r - f_before
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(step > 0, (f_r - q) / np.where(step > 0, step, 1.0), 0.0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel_limits(
    team_ratio: float,
    volumes: int | Sequence[int] | np.ndarray,
    *,
    confidence_level: float | Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Control limits of a ratio against volume: the funnel of a funnel plot.

    A group with ``volume`` leads at a step and the team's true ratio would
    show a ratio inside the limits with probability at least
    ``confidence_level``; small groups get wide limits, large groups narrow
    ones. The limits are exact binomial quantiles, interpolated between
    whole counts to give smooth curves (Spiegelhalter 2005, *Funnel plots for
    comparing institutional performance*): with ``q = (1 - level) / 2``,
    ``r`` the smallest count with ``F(r) >= q`` (``F`` the Binomial(volume,
    team_ratio) distribution function) and ``a = (F(r) - q) / (F(r) - F(r -
    1))``, the lower limit is ``(r - a) / volume``. The upper limit is one
    minus the lower limit of the failure ratio ``1 - team_ratio``, so that
    on *each* side a group with the team's ratio falls outside with
    probability at most ``q``. Limits are clipped to [0, 1]; a team ratio
    of 0 or 1 gives limits equal to it. For large
    volumes they approach the normal limits ``p ± z sqrt(p (1 - p) / n)``.

    Parameters
    ----------
    team_ratio : float
        The ratio the groups are compared with, in [0, 1].
    volumes : int or array_like of int
        Leads entering the step (>= 1).
    confidence_level : float or sequence of float, default (0.95, 0.998)
        One funnel per level: 95 % ("warning", about 2 standard errors) and
        99.8 % ("control", about 3).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``volume``, ``confidence_level``, ``low``, ``high``, one row
        per level and volume.

    Examples
    --------
    >>> from funnelsim.groups import funnel_limits
    >>> funnel_limits(0.2, [10, 100, 1000], confidence_level=0.95).round(4)
       volume  confidence_level     low    high
    0      10              0.95  0.0000  0.5295
    1     100              0.95  0.1197  0.2865
    2    1000              0.95  0.1750  0.2256
    """
    p = check_probability("team_ratio", team_ratio)
    levels = [
        check_level(x)
        for x in ([confidence_level] if np.ndim(confidence_level) == 0 else confidence_level)
    ]
    if not levels:
        raise FunnelsimValueError("error.confidence_level", value="[]")
    vols = np.atleast_1d(np.asarray(volumes, dtype=object))
    clean = np.array([_volume(i, v) for i, v in enumerate(vols)], dtype=float)
    frames = []
    for level in levels:
        q = (1.0 - level) / 2.0
        if p in (0.0, 1.0):  # no chance at all: every group has the team's ratio
            low = high = np.full(clean.shape, p)
        else:
            low = _limit(np.full(clean.shape, p), clean, q)
            high = 1.0 - _limit(np.full(clean.shape, 1.0 - p), clean, q)
        frames.append(
            pd.DataFrame(
                {
                    "volume": clean.astype(np.int64),
                    "confidence_level": level,
                    "low": low,
                    "high": high,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _volume(i: int, value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FunnelsimValueError("error.volumes", value=repr(value), index=i) from None
    if not (math.isfinite(x) and x >= 1 and x == int(x)):
        raise FunnelsimValueError("error.volumes", value=repr(value), index=i)
    return x


# ----------------------------------------------------------------- p-chart
@dataclass(frozen=True, repr=False, eq=False)
class PChart:
    """A stage ratio period by period with control limits, from :func:`p_chart`.

    Attributes
    ----------
    stages : tuple of str
        The steps charted.
    period : str
        The period column.
    by : tuple of str
        Group columns: one chart per group (empty for the team as a whole).
    sigmas : float
        Width of the limits in standard errors.
    table : pandas.DataFrame
        One row per group, step and period (see :meth:`to_frame`).
    centre : float or None
        The centre line given to :func:`p_chart`; None when it is the pooled
        ratio of the periods.
    """

    stages: tuple[str, ...]
    period: str
    by: tuple[str, ...]
    sigmas: float
    table: pd.DataFrame
    centre: float | None = None

    @property
    def flagged(self) -> pd.DataFrame:
        """The out-of-control rows (periods outside the limits)."""
        return self.table[self.table["signal"] != ""].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per group, step and period.

        Columns: the ``by`` columns, the period column, ``stage``,
        ``entered``, ``passed``, ``ratio``, ``centre`` (the pooled ratio of
        all periods, or the ``centre`` given), ``low``, ``high`` (``centre ±
        sigmas * sqrt(centre (1 - centre) / entered)``, clipped to [0, 1])
        and ``signal`` (``"below"``, ``"above"`` or ``""``).
        """
        return self.table.copy()

    def __repr__(self) -> str:
        flagged = self.flagged
        n_periods = self.table[self.period].nunique()
        head = t(
            "repr.pchart.head",
            stages=", ".join(self.stages),
            period=field_label(self.period),
            per=t("repr.pchart.per", by=fields_label(self.by)) if self.by else "",
            sigmas=self.sigmas,
            periods=n_periods,
            flagged=len(flagged),
        )
        lines = [head]
        for values in flagged.head(_SHOWN).to_dict("records"):
            group = _label([values[k] for k in self.by]) + " " if self.by else ""
            lines.append(
                t(
                    "repr.pchart.row",
                    group=group,
                    stage=values["stage"],
                    when=_when(values[self.period]),
                    passed=values["passed"],
                    entered=values["entered"],
                    ratio=_pct(values["ratio"]),
                    signal=t(f"repr.signal.{values['signal']}"),
                    low=_pct(values["low"]),
                    high=_pct(values["high"]),
                )
            )
        if len(flagged) > _SHOWN:
            lines.append("  " + t("repr.more", n=len(flagged) - _SHOWN, where=".flagged"))
        return "\n".join(lines) + ")"


def _when(value: object) -> str:
    """A period for a message: dates without their midnight time."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    return str(value)


def p_chart(
    log_or_table: Log | Fit | pd.DataFrame,
    *,
    stage: str | Sequence[str] | None = None,
    period: str = "period",
    by: str | Sequence[str] | None = None,
    sigmas: float = 3.0,
    centre: float | None = None,
) -> PChart:
    """A weekly p-chart: each period's stage ratio against limits scaled to its volume.

    The centre line is the pooled ratio ``p`` over all periods (per group
    with ``by=``). A period with ``n`` leads entering the step has limits
    ``p ± sigmas * sqrt(p (1 - p) / n)`` clipped to [0, 1]: quiet weeks get
    wide limits, busy weeks narrow ones. A period whose ratio falls outside
    is *out of control*: something changed that week (new lead list, new
    script, a rep away) and is worth a look. With 3-sigma limits and a
    steady process, about 0.27 % of periods are flagged by chance (the
    normal approximation; it needs ``n p`` and ``n (1 - p)`` of a few dozen).

    Parameters
    ----------
    log_or_table : Log, Fit or pandas.DataFrame
        A log with a period column (the decks' weekly tracking table read
        with ``format="counts"``, or a lead log with a period per lead), a
        fit by period, or a table like ``Log.stage_table(by=[period])``.
    stage : str or sequence of str, optional
        The step(s) to chart (named after the stage they lead to); all by
        default.
    period : str, default "period"
        The period column.
    by : str or sequence of str, optional
        Group columns: one chart per group (per rep, say), each with its own
        centre line.
    sigmas : float, default 3.0
        Width of the limits in standard errors.
    centre : float, optional
        A known centre line (last quarter's ratio, a target) instead of the
        pooled ratio of the periods charted. The pooled ratio includes any
        shift being looked for and so is pulled towards it; a centre from a
        stable baseline period flags a shift sooner.

    Returns
    -------
    PChart
        ``.to_frame()``, ``.flagged``.

    Examples
    --------
    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.groups import p_chart
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
    >>> chart = p_chart(Log("counts", ("connects", "meetings"), counts=counts))
    >>> chart.to_frame().drop(columns="stage").round(3)
      period  entered  passed  ratio  centre    low   high signal
    0     w1      100      20  0.200   0.167  0.055  0.278
    1     w2      120      25  0.208   0.167  0.065  0.269
    2     w3       90       3  0.033   0.167  0.049  0.285  below
    3     w4      110      22  0.200   0.167  0.060  0.273
    """
    keys = _keys(by)
    if not isinstance(period, str) or not period:
        raise FunnelsimValueError("error.by_type", value=short(period))
    if period in keys:
        raise FunnelsimValueError("error.period_in_by", period=repr(period))
    known = None if centre is None else check_probability("centre", centre)
    width = check_nonnegative("sigmas", sigmas)
    if width == 0:
        raise FunnelsimValueError("error.positive", name="sigmas", value=sigmas)
    table, steps, stages = _table(log_or_table, (*keys, period), "p_chart")
    chosen = _steps(stage, steps, stages)
    table = table[table["stage"].isin(chosen)]
    # one chart per group and step, periods in order
    step_no = table["stage"].map({s: i for i, s in enumerate(chosen)}).rename("step_no")
    table = table.assign(step_no=step_no).sort_values([*keys, "step_no", period], kind="stable")
    table = table[[*keys, period, "stage", "entered", "passed"]].reset_index(drop=True)
    k = table["passed"].to_numpy(float)
    n = table["entered"].to_numpy(float)
    chart = [*keys, "stage"]
    sums = table.groupby(chart, sort=False, observed=True)[["entered", "passed"]].transform("sum")
    big_n = sums["entered"].to_numpy(float)
    big_k = sums["passed"].to_numpy(float)
    ok = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        line = np.where(big_n > 0, big_k / np.where(big_n > 0, big_n, 1.0), np.nan)
        if known is not None:
            line = np.full(len(table), known)
        ratio = np.where(ok, k / np.where(ok, n, 1.0), np.nan)
        se = np.where(ok, np.sqrt(line * (1.0 - line) / np.where(ok, n, 1.0)), np.nan)
    low = np.clip(line - width * se, 0.0, 1.0)
    high = np.clip(line + width * se, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        signal = np.where(ratio < low, "below", np.where(ratio > high, "above", ""))
    table = table.assign(ratio=ratio, centre=line, low=low, high=high, signal=signal)
    return PChart(chosen, period, keys, width, table, known)


# ---------------------------------------------------------- leak diagnosis
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
        ``benchmark``, ``p_value`` (one-sided exact binomial test of
        ``ratio < benchmark``), ``p_adjusted``, ``leak`` (significant),
        ``status`` (``"leak"``; ``"below"``: below the benchmark but within
        chance; ``"ok"``: at or above it; ``"untested"``: no leads or no
        benchmark) and ``cause`` (the decks' likely causes, for
        leaks).
        """
        return self.table.copy()

    def messages(self) -> list[str]:
        """One line in plain words per ratio below its benchmark (leaks first)."""
        out = []
        labels = _labels(self.table, self.by)
        for status in ("leak", "below"):
            for label, row in zip(labels, self.table.to_dict("records"), strict=True):
                if row["status"] != status:
                    continue
                out.append(
                    t(
                        f"leak.line.{status}",
                        group=f"{label}: " if self.by else "",
                        stage=row["stage"],
                        passed=row["passed"],
                        entered=row["entered"],
                        ratio=row["ratio"],
                        benchmark=row["benchmark"],
                        p=_p(row["p_adjusted"]),
                        cause=row["cause"],
                    )
                )
        if not self.table["leak"].any():
            out.insert(0, t("leak.none", level=self.confidence_level))
        return out

    def __repr__(self) -> str:
        head = t(
            "repr.leak_diagnosis",
            benchmark=self.benchmark,
            adjust=self.adjust,
            level=100 * self.confidence_level,
            leaks=int(self.table["leak"].sum()),
        )
        lines = [head, *(f"  {m}" for m in self.messages()[:_SHOWN])]
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
        k = table["passed"].to_numpy(float)
        n = table["entered"].to_numpy(float)
        sums = table.groupby("stage", sort=False)[["entered", "passed"]].transform("sum")
        rest_n = sums["entered"].to_numpy(float) - n
        rest_k = sums["passed"].to_numpy(float) - k
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
            _steps(step, steps, stages)  # an unknown stage raises
            values[step] = check_probability(f"benchmark[{step!r}]", value)
        name = "ratios"
    else:
        raise FunnelsimValueError("error.leak_benchmark", value=short(benchmark))
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
    adjusted together (``adjust``). A ratio below the benchmark that is not
    significant is reported as "below, within chance": do not blame yet.

    Parameters
    ----------
    fit_or_log : Fit, Log or pandas.DataFrame
        A fit (its ``by`` groups are used), a log, or a table like
        ``Log.stage_table(by=...)``.
    benchmark : "team", Funnel, Preset or mapping
        ``"team"``: each group against the pooled ratio of the rest of the
        team (needs groups). A :class:`~funnelsim.Funnel` (or a preset, such
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
    >>> from funnelsim.logs import Log
    >>> from funnelsim.groups import diagnose_leaks
    >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [300, 300],
    ...                        "connects": [140, 90], "meetings": [8, 13], "sales": [1, 2]})
    >>> log = Log("counts", ("dials", "connects", "meetings", "sales"), counts=counts)
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
    keys = _keys(by)
    if isinstance(fit_or_log, Fit) and by is None:
        keys = tuple(fit_or_log.by)
    table, steps, stages = _table(fit_or_log, keys, "diagnose_leaks")
    name, rows, bench = _benchmark(benchmark, table, keys, steps, stages)
    kind_of = {s: _kind_of(i, len(steps)) for i, s in enumerate(steps)}
    if kinds is not None:
        if not isinstance(kinds, Mapping):
            raise FunnelsimValueError("error.leak_kinds", value=short(kinds))
        for step, kind in kinds.items():
            _steps(step, steps, stages)
            kind_of[step] = check_choice(f"kinds[{step!r}]", kind, KINDS)
    k = rows["passed"].to_numpy(float)
    n = rows["entered"].to_numpy(float)
    ok = (n > 0) & np.isfinite(bench)
    ratio, low, high, p_value = (np.full(len(rows), np.nan) for _ in range(4))
    ratio[n > 0] = k[n > 0] / n[n > 0]
    if (n > 0).any():
        low[n > 0], high[n > 0] = interval(k[n > 0], n[n > 0], level, method)
    p_value[ok] = stats.binom.cdf(k[ok], n[ok], bench[ok])
    p_adj = adjust_pvalues(p_value, method=adjust)
    leak = np.nan_to_num(p_adj, nan=1.0) < 1.0 - level
    below = ok & (ratio < bench)
    status = np.where(
        ~ok, "untested", np.where(leak, "leak", np.where(below, "below", "ok"))
    ).astype(object)
    kind = rows["stage"].map(kind_of).to_numpy(object)
    causes = {name_: t(f"leak.cause.{name_}") for name_ in KINDS}
    cause = np.where(leak, [causes[x] for x in kind], "")
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


# ------------------------------------------------------- pipeline shapes
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
    """

    shape: str
    reason: str
    counts: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """Columns ``stage``, ``count``, ``share`` (of all leads in the pipeline), ``shape``."""
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
    >>> from funnelsim.groups import diagnose_pipeline
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
        raise FunnelsimValueError("error.snapshot_type", value=short(snapshot))
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
        if isinstance(value, (bool, str)) or not (math.isfinite(x) and x >= 0):
            raise FunnelsimValueError("error.snapshot_count", stage=name, value=repr(value))
        out.append(x)
    return pd.Series(out, index=series.index, name="count")


# ---------------------------------------------------------- Simpson's paradox
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
        One row per pair that reverses: ``better`` (better in every source
        both have), ``worse``, ``better_pooled`` and ``worse_pooled`` (their
        pooled ratios: the "better" one is lower) and ``sources`` (how many
        sources they share).
    """

    by: str
    within: str
    stage: str
    table: pd.DataFrame
    pooled: pd.DataFrame
    reversals: pd.DataFrame

    @property
    def reversed(self) -> bool:
        """True when at least one pair's ranking reverses once sources are pooled."""
        return not self.reversals.empty

    def to_frame(self) -> pd.DataFrame:
        """Tidy: ``by``, ``within`` (the pooled rows say ``"all"``), ``entered``,
        ``passed``, ``ratio``."""
        pooled = self.pooled.assign(**{self.within: t("simpson.all")})
        return pd.concat([self.table, pooled[self.table.columns]], ignore_index=True)

    def __repr__(self) -> str:
        lines = [f"SimpsonCheck({self.by} x {self.within}, {self.stage})"]
        lines.append(self.to_frame().to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        if self.reversed:
            for row in self.reversals.itertuples(index=False):
                lines.append(
                    t(
                        "simpson.reversal",
                        better=row.better,
                        worse=row.worse,
                        within=self.within,
                        better_pooled=row.better_pooled,
                        worse_pooled=row.worse_pooled,
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
) -> SimpsonCheck:
    """Does pooling lead sources reverse the ranking of reps? (Simpson's paradox)

    A rep who gets mostly cold leads can be better than a colleague with
    every lead source and still show a lower ratio overall, because cold
    leads convert worse for everybody. This function puts each rep's
    per-source ratios beside the pooled one and lists every pair of reps
    ``(g, h)`` where ``g``'s ratio is strictly higher than ``h``'s in every
    source both have leads from, yet strictly lower pooled.

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

    Returns
    -------
    SimpsonCheck
        ``.to_frame()``, ``.pooled``, ``.reversals``, ``.reversed``.

    Examples
    --------
    >>> from funnelsim.groups import simpson_check, simpson_example
    >>> res = simpson_check(simpson_example())
    >>> res.reversed
    True
    >>> res.to_frame()
       rep      source  entered  passed     ratio
    0  ann   cold list      600      60  0.100000
    1  ann    referral      100      30  0.300000
    2  bob   cold list      100       8  0.080000
    3  bob    referral      500     140  0.280000
    4  ann           all      700      90  0.128571
    5  bob           all      600     148  0.246667
    """
    for value in (by, within):
        if not isinstance(value, str) or not value:
            raise FunnelsimValueError("error.by_type", value=short(value))
    if by == within:
        raise FunnelsimValueError("error.simpson_same", value=repr(by))
    table, steps, stages = _table(log, (by, within), "simpson_check")
    if stage is None and len(steps) > 1:
        first = table[table["stage"] == steps[0]].set_index([by, within])["entered"]
        last = table[table["stage"] == steps[-1]].set_index([by, within])["passed"]
        rows = pd.DataFrame({"entered": first, "passed": last}).reset_index()
        label = "overall"
    else:
        step = _steps(stage, steps, stages)[0] if stage is not None else steps[0]
        rows = table[table["stage"] == step][[by, within, "entered", "passed"]]
        label = step
    rows = rows[rows["entered"] > 0].reset_index(drop=True)
    rows["ratio"] = rows["passed"] / rows["entered"]
    pooled = rows.groupby(by, sort=True)[["entered", "passed"]].sum().reset_index()
    pooled["ratio"] = pooled["passed"] / pooled["entered"]
    wide = rows.pivot(index=by, columns=within, values="ratio")
    share = pooled.set_index(by)["ratio"]
    found = []
    names = list(wide.index)
    for i, g in enumerate(names):
        for h in names[i + 1 :]:
            both = wide.loc[g].notna() & wide.loc[h].notna()
            if not both.any():
                continue
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
                        }
                    )
    columns = ["better", "worse", "better_pooled", "worse_pooled", "sources"]
    return SimpsonCheck(by, within, label, rows, pooled, pd.DataFrame(found, columns=columns))


def simpson_example() -> Log:
    """A counts log where one rep is better with every lead source but worse overall.

    ann works mostly the cold list, bob mostly referrals. ann books more
    meetings per connect from referrals (30 % against 28 %) *and* from the
    cold list (10 % against 8 %), yet her pooled ratio is about half of
    bob's (12.9 % against 24.7 %).

    Returns
    -------
    Log
        A counts log with columns ``rep``, ``source`` and the stages
        ``connects`` and ``meetings`` (in the current language).

    Examples
    --------
    >>> from funnelsim.groups import simpson_example
    >>> simpson_example().counts
       rep     source  connects  meetings
    0  ann   referral       100        30
    1  ann  cold list       600        60
    2  bob   referral       500       140
    3  bob  cold list       100         8
    """
    stages = (t("stage.connects"), t("stage.meetings"))
    referral, cold = t("simpson.source.referral"), t("simpson.source.cold")
    counts = pd.DataFrame(
        {
            "rep": ["ann", "ann", "bob", "bob"],
            "source": [referral, cold, referral, cold],
            stages[0]: [100, 600, 500, 100],
            stages[1]: [30, 60, 140, 8],
        }
    )
    return Log("counts", stages, counts=counts, name="simpson_example")
