"""Compare groups fairly: reps, sources and weeks, before anyone is praised or blamed.

A rep with 3 meetings out of 40 connects looks worse than one with 10 out of
70, but how much of that gap is chance? :func:`compare_groups` gives each
group's (rep's, source's, week's) stage ratios with intervals; empirical-Bayes
*shrunken* ratios that pull small groups towards the team; the probability
that each group's ratio is below the rest of the team's; a chi-square test
across groups and per-group tests with multiple-comparison control.

Building blocks: :func:`fit_beta_binomial` (the prior of the shrinkage) and
:func:`adjust_pvalues` (Holm, Benjamini-Hochberg). Control charts (the
funnel plot's limits, the p-chart) are in :mod:`funnelsim.control`; leak,
pipeline-shape and Simpson diagnoses in :mod:`funnelsim.diagnose`. Both read
their inputs with this module's :func:`stage_rows`.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._moved import moved_names
from ._validate import by_columns, check_choice, check_nonnegative, type_name
from .estimate import Fit, group_keys
from .i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    fields_label,
    method_label,
    stage_label,
    t,
)
from .intervals import METHODS, check_level, check_pair, interval, p_text
from .logs import Log

__all__ = [
    "ADJUST",
    "MAX_PRECISION",
    "BetaBinomial",
    "GroupComparison",
    "adjust_pvalues",
    "compare_groups",
    "fit_beta_binomial",
]

# Names that moved elsewhere in the restructure still resolve here, with a warning.
__getattr__ = moved_names(__name__)

ADJUST = ("holm", "bh")
MAX_PRECISION = 1e6  # cap of the prior's precision a + b (no variation beyond chance)
_MIN_PRECISION = 1e-6
SHOWN_ROWS = 12  # rows a repr lists


# ------------------------------------------------------------------ helpers
def percent_text(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{100 * x:.3g}%"


def group_label(values: Sequence[object]) -> str:
    return ", ".join(str(v) for v in values)


def group_labels(table: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    if not keys:
        return [""] * len(table)
    return [group_label(row) for row in table[list(keys)].itertuples(index=False)]


def stage_rows(
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
        raise FunnelsimTypeError(
            "error.groups_source",
            function=function,
            name="log",
            value=type_name(source),
            type=type_name(source),
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


def chosen_steps(
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

    Examples
    --------
    >>> from funnelsim.groups import fit_beta_binomial
    >>> prior = fit_beta_binomial([3, 10, 25, 8], [40, 70, 90, 60])
    >>> round(prior.a, 2), round(prior.b, 2), round(prior.mean, 3), prior.capped
    (6.74, 34.06, 0.165, False)
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

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
    >>> res = fs.compare_groups(log, by="rep")
    >>> res.groups, res.stages
    (['ann', 'bob', 'cy', 'dee'], ('meetings',))
    >>> res.differing[["rep", "stage", "ratio", "rest", "p_adjusted"]].round(3)
      rep     stage  ratio   rest  p_adjusted
    0  cy  meetings  0.278  0.124       0.013
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
        return group_keys(self.table, self.by)

    def require_leads(self, stage: str) -> None:
        """Raise a clear error when no group has a lead entering ``stage``'s step.

        Such a step (nobody has got that far yet) cannot be charted or
        compared; the report notes it and the apps open on another step.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "calls": [40, 70],
        ...                        "meetings": [3, 10], "sales": [0, 0], "renewals": [0, 0]})
        >>> log = fs.read_log(counts, format="counts",
        ...                   stages=["calls", "meetings", "sales", "renewals"])
        >>> res = fs.compare_groups(log, by="rep")
        >>> res.require_leads("sales")          # 13 meetings entered it: fine
        >>> res.require_leads("renewals")       # no sale yet to renew
        Traceback (most recent call last):
        ...
        funnelsim.FunnelsimValueError: No rep has a lead at the step into renewals yet, so that
        step cannot be compared. Fix: pick an earlier step, or a log that runs longer.
        """
        entered = self.table.loc[self.table["stage"] == stage, "entered"]
        if not (entered > 0).any():
            raise FunnelsimValueError("error.step_no_leads", stage=stage, by=fields_label(self.by))

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

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
        ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> table = fs.compare_groups(log, by="rep").to_frame()
        >>> table[["rep", "entered", "passed", "ratio", "low", "high", "differs"]].round(3)
           rep  entered  passed  ratio    low   high  differs
        0  ann       40       3  0.075  0.026  0.199    False
        1  bob       70      10  0.143  0.079  0.243    False
        2   cy       90      25  0.278  0.196  0.378     True
        3  dee       60       8  0.133  0.069  0.242    False
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
                    mean=percent_text(step.prior_mean),
                    precision=step.prior_precision,
                )
                + (t("repr.group_comparison.capped") if step.capped else "")
                if np.isfinite(step.prior_mean)
                else t("repr.group_comparison.no_prior")
            )
            lines.append(
                t(
                    "repr.group_comparison.step",
                    stage=stage_label(step.stage),
                    team=percent_text(step.team_ratio),
                    passed=step.passed,
                    entered=step.entered,
                    prior=prior,
                    p=p_text(step.p_value),
                )
            )
            rows = self.table[self.table["stage"] == step.stage]
            for label, row in zip(
                group_labels(rows, self.by)[:SHOWN_ROWS],
                rows.head(SHOWN_ROWS).itertuples(),
                strict=False,
            ):
                lines.append(
                    t(
                        "repr.group_comparison.row",
                        label=label,
                        passed=row.passed,
                        entered=row.entered,
                        ratio=percent_text(row.ratio),
                        shrunk=percent_text(row.shrunk),
                        low=percent_text(row.shrunk_low),
                        high=percent_text(row.shrunk_high),
                        p_below=p_text(row.p_below),
                        p_adjusted=p_text(row.p_adjusted),
                        flag=" *" if row.differs else "",
                    )
                )
            if len(rows) > SHOWN_ROWS:
                lines.append(
                    "    " + t("repr.more", n=len(rows) - SHOWN_ROWS, where=".to_frame()")
                )
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
    >>> import funnelsim as fs
    >>> from funnelsim.groups import compare_groups
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
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
    keys = by_columns(by)
    if not keys:
        raise FunnelsimValueError("error.by_required", function="compare_groups")
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    adjust = check_choice("adjust", adjust, ADJUST)
    cap = _cap(max_precision)
    table, steps, stages = stage_rows(log, keys, "compare_groups")
    chosen = chosen_steps(stage, steps, stages)
    table = table[table["stage"].isin(chosen)].reset_index(drop=True)
    n_groups = len(table[list(keys)].drop_duplicates())
    if n_groups < 2:
        raise FunnelsimValueError("error.groups_too_few", by=fields_label(keys), count=n_groups)
    parts, step_rows, notes = [], [], []
    for step in chosen:
        sub = table[table["stage"] == step].reset_index(drop=True)
        part, row, step_notes = _compare_step(sub, step, keys, level, method, cap)
        parts.append(part)
        step_rows.append(row)
        notes += step_notes
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


def _compare_step(
    sub: pd.DataFrame, step: str, keys: tuple[str, ...], level: float, method: str, cap: float
) -> tuple[pd.DataFrame, dict, list[str]]:
    """One step of :func:`compare_groups`: its rows, its row of ``steps`` and its notes."""
    k = sub["passed"].to_numpy(float)
    n = sub["entered"].to_numpy(float)
    ok = n > 0
    notes = [
        t("note.groups_empty", group=group_labels(sub.iloc[[i]], keys)[0], stage=stage_label(step))
        for i in np.flatnonzero(~ok)
    ]
    ratio, low, high, rest = _raw_ratios(k, n, level, method)
    prior, prior_notes = _step_prior(k, n, step, cap)
    notes += prior_notes
    chi2, dof, p_chi2 = homogeneity_test(k[ok], n[ok])
    part = sub.assign(
        ratio=ratio,
        low=low,
        high=high,
        rest=rest,
        **_posterior(prior, k, n, rest, level),
        p_value=_test_against_rest(k, n, rest),
    )
    total_k, total_n = float(k[ok].sum()), float(n[ok].sum())
    nan = float("nan")
    row = {
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
    return part, row, notes


def _raw_ratios(k: np.ndarray, n: np.ndarray, level: float, method: str) -> tuple[np.ndarray, ...]:
    """Each group's ratio and interval, and the pooled ratio of the rest of the team."""
    ok = n > 0
    total_k, total_n = float(k[ok].sum()), float(n[ok].sum())
    ratio, low, high = (np.full(len(k), np.nan) for _ in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio[ok] = k[ok] / n[ok]
        rest_n = total_n - n
        rest = np.where(ok & (rest_n > 0), (total_k - k) / np.where(rest_n > 0, rest_n, 1), np.nan)
    if ok.any():
        low[ok], high[ok] = interval(k[ok], n[ok], level, method)
    return ratio, low, high, rest


def _step_prior(
    k: np.ndarray, n: np.ndarray, step: str, cap: float
) -> tuple[BetaBinomial | None, list[str]]:
    """The step's fitted prior (None when nothing varies) and what to say about it."""
    ok = n > 0
    total_k, total_n = float(k[ok].sum()), float(n[ok].sum())
    stage = stage_label(step)
    if ok.sum() == 0:  # nobody has got that far yet
        return None, [t("note.groups_none", stage=stage)]
    if ok.sum() < 2:
        return None, [t("note.groups_one", stage=stage)]
    if total_k == 0 or total_k == total_n:
        key = "note.groups_all_none" if total_k == 0 else "note.groups_all_passed"
        return None, [t(key, stage=stage)]
    prior = fit_beta_binomial(k[ok], n[ok], max_precision=cap)
    notes = [t("note.groups_capped", stage=stage, cap=cap)] if prior.capped else []
    return prior, notes


def _posterior(
    prior: BetaBinomial | None, k: np.ndarray, n: np.ndarray, rest: np.ndarray, level: float
) -> dict[str, np.ndarray]:
    """Shrunken ratios, their equal-tailed interval and ``P(ratio < rest)`` (NaN: no prior)."""
    shrunk, s_low, s_high, p_below = (np.full(len(k), np.nan) for _ in range(4))
    if prior is not None:
        tail = (1.0 - level) / 2.0
        a_post, b_post = prior.a + k, prior.b + n - k
        shrunk = a_post / (a_post + b_post)
        s_low = stats.beta.ppf(tail, a_post, b_post)
        s_high = stats.beta.isf(tail, a_post, b_post)
        has_rest = np.isfinite(rest)
        p_below[has_rest] = stats.beta.cdf(rest[has_rest], a_post[has_rest], b_post[has_rest])
    return {"shrunk": shrunk, "shrunk_low": s_low, "shrunk_high": s_high, "p_below": p_below}


def _test_against_rest(k: np.ndarray, n: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact p-value of each group against the rest of the team."""
    ok = n > 0
    total_k, total_n = float(k[ok].sum()), float(n[ok].sum())
    p_value = np.full(len(k), np.nan)
    has = np.isfinite(rest)
    rk, rn = total_k - k[has], total_n - n[has]
    p_value[has] = fisher_two_sided(k[has], n[has] - k[has], rk, rn - rk)
    return p_value


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


def fisher_two_sided(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
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


def homogeneity_test(k: np.ndarray, n: np.ndarray) -> tuple[float, int, float]:
    """Pearson chi-square test of equal ratios across groups (no Yates correction)."""
    if k.size < 2:
        return float("nan"), 0, float("nan")
    dof = int(k.size - 1)
    if k.sum() == 0 or k.sum() == n.sum():
        return 0.0, dof, 1.0
    res = stats.chi2_contingency(np.column_stack([k, n - k]), correction=False)
    return float(res.statistic), dof, float(res.pvalue)
