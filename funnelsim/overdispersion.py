"""Does a ratio move from period to period more than chance allows?

A stage ratio measured week by week wobbles even when nothing changes: with
``n`` leads entering a step at a true ratio ``p``, a week's ratio has the
binomial spread ``sqrt(p (1 - p) / n)``. On real logs the weeks (or months)
differ by more than that: lead lists, seasons, campaigns. :func:`dispersion`
measures that extra variation for each step from a log's per-period counts:

- the test of "no extra variation": Pearson's chi-square test of equal
  ratios across the periods (the 2 x k table of passed and failed leads) and
  the overdispersion factor ``phi`` = chi-square / degrees of freedom (about 1
  when the periods differ by chance only);
- a beta-binomial random effect fitted by maximum likelihood: each period's
  ratio is drawn from a Beta distribution with mean ``mean`` and
  intra-class correlation ``rho``, so that the period ratios have the
  between-period standard deviation ``sigma_between = sqrt(rho mean (1 -
  mean))``; ``rho`` has a profile-likelihood interval, and ``n_eff`` says how
  many independent leads the pooled ratio is worth once the periods move.

Forecasts use it: :meth:`Dispersion.moving` gives the ``rho`` of the steps
whose test says "more than chance" (0 elsewhere), and :func:`period_factors`
draws each period's move of the ratios from it (:func:`funnelsim.forecast`,
:func:`funnelsim.plan_calls`). :func:`history_dispersion` reads it from the
log a fit was made on (the history a fit keeps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._validate import by_columns, short, type_name
from .i18n import FunnelsimTypeError, FunnelsimValueError, field_label, stage_label, t
from .intervals import check_level, check_pair, p_text
from .logs import Log, mature_stage_table
from .young import young_leads

__all__ = ["Dispersion", "dispersion", "history_dispersion", "period_factors"]

#: ``log(theta)`` range searched, ``theta = rho / (1 - rho)``: from no extra
#: variation (binomial) to ratios that are nearly all 0 or 1 in each period.
LOG_THETA = (-28.0, 9.0)
_GRID = np.arange(LOG_THETA[0], LOG_THETA[1] + 0.5, 1.0)
_MU_EDGE = 1e-12

COLUMNS = [
    "stage",
    "periods",
    "entered",
    "passed",
    "ratio",
    "chi2",
    "dof",
    "phi",
    "p_value",
    "mean",
    "rho",
    "rho_low",
    "rho_high",
    "sigma_between",
    "sigma_low",
    "sigma_high",
    "cv_between",
    "n_eff",
]


@dataclass(frozen=True, repr=False, eq=False)
class Dispersion:
    """Extra-binomial variation of each stage ratio between periods, from :func:`dispersion`.

    Attributes
    ----------
    stages : tuple of str
        The steps (named after the stage they lead to), in funnel order.
    period : str
        The period column (``"week"``, ``"month"``, ``"period"``...).
    confidence_level : float
        Level of the intervals; the test says "more than chance" when its
        p-value is below ``1 - confidence_level``.
    table : pandas.DataFrame
        One row per step (see :meth:`to_frame`).
    unassigned : int
        Leads at the first stage without a period (no time, or an empty
        period cell): counted nowhere in the table, and said in the repr.
    counts : pandas.DataFrame or None
        The counts the table was computed from: ``period``, ``stage``,
        ``entered``, ``passed`` (:meth:`rho_draws` reads its likelihood from
        them); None for a dispersion built by hand.

    Examples
    --------
    >>> import funnelsim as fs
    >>> result = fs.dispersion(fs.datasets.load_counts(), period="period")
    >>> result.stages
    ('connects', 'meetings', 'sales')
    >>> result.table[["stage", "periods", "phi", "p_value"]].round(3)
          stage  periods    phi  p_value
    0  connects       26  1.416    0.081
    1  meetings       26  0.867    0.654
    2     sales       26  1.155    0.269
    """

    stages: tuple[str, ...]
    period: str
    confidence_level: float
    table: pd.DataFrame
    unassigned: int = 0
    counts: pd.DataFrame | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per step.

        Columns: ``stage``; ``periods`` (periods with leads entering the
        step); ``entered``, ``passed`` and ``ratio`` (pooled over those
        periods); ``chi2``, ``dof`` (periods - 1) and ``p_value`` (Pearson's
        chi-square test of equal ratios in every period, no continuity
        correction); ``phi`` = ``chi2 / dof``; ``mean`` and ``rho`` (the
        beta-binomial fitted by maximum likelihood: mean ratio and
        intra-class correlation) with ``rho_low``, ``rho_high`` (its
        profile-likelihood interval); ``sigma_between`` = ``sqrt(rho mean
        (1 - mean))``, the standard deviation of the true ratio between
        periods, with ``sigma_low``, ``sigma_high`` (the limits of ``rho``
        at the fitted mean); ``cv_between`` = ``sigma_between / mean``;
        ``n_eff``, the leads the pooled ratio is worth
        (``entered**2 / sum(n_i (1 + (n_i - 1) rho))``). A step with fewer
        than two periods with leads has NaN tests and fit; a step where no
        lead passed (or every lead did) has ``chi2`` 0, p-value 1 and NaN
        fit (nothing varies).

        >>> import funnelsim as fs
        >>> table = fs.dispersion(fs.datasets.load_counts(), period="period").to_frame()
        >>> table.columns.tolist()[:9]
        ['stage', 'periods', 'entered', 'passed', 'ratio', 'chi2', 'dof', 'phi', 'p_value']
        """
        return self.table.copy()

    def moving(self) -> np.ndarray:
        """The ``rho`` a forecast uses for each step: the fitted one where the ratio moves.

        A step's ``rho`` counts where its test of "no extra variation"
        rejects at ``1 - confidence_level`` (and the fit is defined); it is 0
        elsewhere, so a history whose periods differ by chance only leaves a
        forecast as it was without it.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
        ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> fs.dispersion(log).moving().round(4)
        array([0.0475])
        >>> fs.dispersion(fs.datasets.load_counts()).moving()   # within chance: no move
        array([0., 0., 0.])
        """
        table = self.table
        rho = table["rho"].to_numpy(float)
        p = table["p_value"].to_numpy(float)
        use = np.isfinite(rho) & np.isfinite(p) & (p < 1.0 - self.confidence_level)
        return np.where(use, rho, 0.0)

    def rho_draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` plausible values of each moving step's ``rho``, shape ``(n, steps)``.

        ``rho`` is estimated from a few periods, so it is uncertain too: each
        moving step's draws come from its posterior with a uniform prior on
        ``rho``, the beta-binomial likelihood profiled over the mean, on a
        grid of ``log theta`` around the estimate (``theta = rho / (1 -
        rho)``, 161 points, linear within a cell). Steps that do not move
        (:meth:`moving`) get 0; a dispersion without its counts (built by
        hand) gets its fitted ``rho`` in every draw.

        >>> import numpy as np
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
        ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
        >>> moves = fs.dispersion(fs.read_log(counts, format="counts",
        ...                                   stages=["connects", "meetings"]))
        >>> draws = moves.rho_draws(20_000, np.random.default_rng(1))
        >>> low, high = moves.table[["rho_low", "rho_high"]].iloc[0]
        >>> bool(low < np.median(draws) < high), round(float(np.mean(draws < low)), 2)
        (True, 0.01)
        """
        rho = self.moving()
        out = np.broadcast_to(rho, (n, rho.size)).copy()
        if self.counts is None:
            return out
        for j, step in enumerate(self.stages):
            if rho[j] <= 0:
                continue
            part = self.counts[self.counts["stage"] == step]
            k = part["passed"].to_numpy(float)
            m = part["entered"].to_numpy(float)
            ok = m > 0
            out[:, j] = _posterior_rho(k[ok], m[ok], rho[j], n, rng)
        return out

    def factor_means(self) -> np.ndarray:
        """The mean each step's period factor is drawn around: the beta-binomial's fitted
        mean (so that the factor's relative spread is the fit's ``cv_between``), the pooled
        ratio where the fit is not defined.

        >>> import funnelsim as fs
        >>> bank = fs.dispersion(fs.datasets.load_bank_marketing())
        >>> bank.factor_means().round(3), bank.table["ratio"].round(3).tolist()
        (array([0.339]), [0.113])
        """
        mean = self.table["mean"].to_numpy(float) if "mean" in self.table else None
        ratio = self.table["ratio"].to_numpy(float)
        return ratio if mean is None else np.where(np.isfinite(mean), mean, ratio)

    def design_effect(self, rho: np.ndarray | None = None) -> np.ndarray:
        """How many leads each lead of the pooled ratio is worth less when the ratio moves:
        ``entered / n_eff`` for the steps that move (:meth:`moving`), 1 elsewhere.

        When periods move, the pooled ratio of a step is as uncertain as a ratio
        over ``n_eff = entered**2 / sum(n_i (1 + (n_i - 1) rho))`` independent
        leads, not ``entered`` (Kish's design effect of a cluster sample, the
        periods ``i`` being the clusters). With ``rho`` draws (shape ``(draws,
        steps)``, :meth:`rho_draws`) one design effect per draw, shape ``(draws,
        steps)``, so that the uncertainty of ``rho`` reaches the ratio's too;
        without, the one at the fitted ``rho``.

        >>> import numpy as np
        >>> import funnelsim as fs
        >>> bank = fs.dispersion(fs.datasets.load_bank_marketing())
        >>> bank.design_effect().round(1)
        array([968.2])
        >>> bank.design_effect(np.array([[0.0], [0.194]])).round(0)  # no move, about the fit
        array([[  1.],
               [970.]])
        """
        moving = self.moving() > 0
        if rho is None:
            entered = self.table["entered"].to_numpy(float)
            n_eff = self.table["n_eff"].to_numpy(float) if "n_eff" in self.table else entered
            ok = moving & np.isfinite(n_eff) & (n_eff > 0)
            out = np.ones(len(entered))
            out[ok] = np.maximum(entered[ok] / n_eff[ok], 1.0)
            return out
        rho = np.atleast_2d(np.asarray(rho, dtype=float))
        out = np.ones(rho.shape)
        for j, step in enumerate(self.stages):
            if not moving[j]:
                continue
            if self.counts is None:
                out[:, j] = self.design_effect()[j]
                continue
            n = self.counts.loc[self.counts["stage"] == step, "entered"].to_numpy(float)
            n = n[n > 0]
            # sum n_i (1 + (n_i - 1) rho) / N, for every draw of rho at once
            out[:, j] = 1.0 + rho[:, j] * float(np.sum(n * (n - 1.0)) / n.sum())
        return out

    def __repr__(self) -> str:
        lines = [
            t(
                "repr.dispersion.head",
                period=field_label(self.period),
                level=100 * self.confidence_level,
            )
        ]
        alpha = 1.0 - self.confidence_level
        for row in self.table.itertuples(index=False):
            if not np.isfinite(row.phi):
                lines.append(
                    t("repr.dispersion.few", stage=stage_label(row.stage), periods=row.periods)
                )
                continue
            verdict = "repr.dispersion.more" if row.p_value < alpha else "repr.dispersion.chance"
            lines.append(
                t(
                    "repr.dispersion.row",
                    stage=stage_label(row.stage),
                    periods=row.periods,
                    passed=row.passed,
                    entered=row.entered,
                    ratio=row.ratio,
                    phi=row.phi,
                    p=p_text(row.p_value),
                    verdict=t(verdict),
                )
            )
            if np.isfinite(row.rho):
                lines.append(
                    t(
                        "repr.dispersion.fit",
                        sigma=row.sigma_between,
                        sigma_low=row.sigma_low,
                        sigma_high=row.sigma_high,
                        rho=row.rho,
                        rho_low=row.rho_low,
                        rho_high=row.rho_high,
                        n_eff=row.n_eff,
                    )
                )
        if self.unassigned:
            lines.append(
                t(
                    "repr.note",
                    note=t(
                        "note.dispersion_unassigned",
                        n=self.unassigned,
                        period=field_label(self.period),
                    ),
                )
            )
        return "\n".join(lines) + ")"


def dispersion(
    log_or_fit: object,
    *,
    period: str = "period",
    confidence_level: float = 0.95,
) -> Dispersion:
    """How much each stage ratio moves between periods beyond binomial chance.

    For each step, with ``k_i`` of ``n_i`` leads passing in period ``i``
    (periods with ``n_i > 0``; ``K`` of ``N`` in all, pooled ratio ``p = K /
    N``):

    - **Test of no extra variation**: Pearson's chi-square ``X2 = sum (k_i -
      n_i p)**2 / (n_i p (1 - p))`` on ``periods - 1`` degrees of freedom
      (the chi-square test of the 2 x k table of passed and failed leads,
      without continuity correction). It needs a few expected passes and
      failures per period (about 5) to hold its level.
    - **Overdispersion factor** ``phi = X2 / dof``: about 1 when the periods
      differ by chance only; 2.3 means the period ratios vary 2.3 times as
      much (in variance) as binomial chance allows.
    - **Beta-binomial random effect**: ``k_i ~ Binomial(n_i, p_i)`` with
      ``p_i ~ Beta`` of mean ``mean`` and intra-class correlation ``rho``
      (``Var k_i = n_i mean (1 - mean) (1 + (n_i - 1) rho)``), fitted by
      maximum likelihood (the likelihood of ``rho`` profiled over ``mean``,
      maximised with :mod:`scipy.optimize`). ``rho`` = 0 is the binomial
      model. Its interval is the profile-likelihood interval: the values of
      ``rho`` whose profile log-likelihood is within ``chi2_1(level) / 2`` of
      the maximum (at ``rho`` = 0, a boundary, this is conservative).
      ``sigma_between = sqrt(rho mean (1 - mean))`` is the standard
      deviation of the true ratio from period to period, the floor under
      any forecast's relative spread however many calls are made.

    Parameters
    ----------
    log_or_fit : Log, Fit or pandas.DataFrame
        A log with a period (a ``period`` column, or times for ``"week"`` /
        ``"month"``); a fit by the period (``fit(log, by="month")``: its
        other groups are summed); or a table with columns ``period``,
        ``stage``, ``entered``, ``passed`` (steps in funnel order).
    period : str, default "period"
        The period column: ``"period"``, ``"week"`` or ``"month"`` (each
        lead's first-stage week or month, see
        :meth:`funnelsim.logs.Log.stage_table`), or any group column.
    confidence_level : float, default 0.95
        Level of the intervals (and ``1 - level`` is the test's level in
        the repr).

    Returns
    -------
    Dispersion
        ``.to_frame()``: one row per step.

    Raises
    ------
    TypeError
        When ``log_or_fit`` is not a log, fit or table, or ``period`` not a
        name.
    ValueError
        An unknown period column, a fit not grouped by it, or a table
        missing columns.

    Examples
    --------
    Four weeks with 90 to 120 connects each: the third week's meetings
    ratio (3 %) is far from the others' 20 %, more than chance allows.

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "connects": [100, 120, 90, 110], "meetings": [20, 25, 3, 22]})
    >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
    >>> result = fs.dispersion(log)
    >>> result.to_frame()[["stage", "chi2", "dof", "phi", "p_value", "rho"]].round(4)
          stage  chi2  dof  phi  p_value     rho
    0  meetings  14.7    3  4.9   0.0021  0.0475
    >>> result
    Dispersion(by period, 95% intervals
      meetings: 4 periods, 70/420 = 0.167; phi = 4.9 (chi-square p = 0.00209): more than chance
        between-period SD 0.0799 [0.0286, 0.19], rho = 0.0475 [0.00609, 0.27], n_eff 70)
    """
    if not isinstance(period, str):
        raise FunnelsimTypeError(
            "error.by_type", name="period", value=short(period), type=type_name(period)
        )
    by_columns(period, "period")  # an empty name is a ValueError
    level = check_level(confidence_level)
    if isinstance(log_or_fit, Log):
        table = log_or_fit.stage_table(by=[period])
        steps = tuple(log_or_fit.stages[1:])
    elif isinstance(log_or_fit, pd.DataFrame):
        table, steps = _given_table(log_or_fit, period)
    elif callable(getattr(log_or_fit, "dispersion", None)) and hasattr(log_or_fit, "by"):
        return log_or_fit.dispersion(period=period, confidence_level=level)  # a Fit
    else:
        raise FunnelsimTypeError(
            "error.groups_source",
            function="dispersion",
            name="log_or_fit",
            value=type_name(log_or_fit),
            type=type_name(log_or_fit),
        )
    return dispersion_table(table, period, steps, level)


def _given_table(frame: pd.DataFrame, period: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    need = [period, "stage", "entered", "passed"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise FunnelsimValueError(
            "error.table_columns",
            function="dispersion",
            missing=", ".join(map(repr, missing)),
            columns=", ".join(map(repr, frame.columns)) or "-",
        )
    if frame.empty:
        raise FunnelsimValueError("error.table_empty", function="dispersion")
    check_pair(frame["passed"].to_numpy(), frame["entered"].to_numpy(), allow_empty=True)
    return frame, tuple(pd.unique(frame["stage"]))


def dispersion_table(
    table: pd.DataFrame, period: str, steps: Sequence[str], confidence_level: float
) -> Dispersion:
    """:func:`dispersion` of a stage table with a ``period`` column (summed over any
    other column): the shared core of :func:`dispersion` and ``Fit.dispersion``.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"period": [1, 2], "stage": "won", "entered": [50, 50],
    ...                       "passed": [10, 30]})
    >>> dispersion_table(table, "period", ["won"], 0.95).table["p_value"].round(6).tolist()
    [4.5e-05]
    """
    frame = table[[period, "stage", "entered", "passed"]]
    no_period = frame[period].isna()
    unassigned = 0
    if no_period.any():
        first = frame[no_period & (frame["stage"] == steps[0])]
        unassigned = int(first["entered"].sum())
        frame = frame[~no_period]
    sums = frame.groupby([period, "stage"], observed=True, sort=False)[["entered", "passed"]].sum()
    sums = sums.reset_index()
    rows = []
    for step in steps:
        part = sums[sums["stage"] == step]
        k = part["passed"].to_numpy(float)
        n = part["entered"].to_numpy(float)
        ok = n > 0
        rows.append({"stage": step, **_one_step(k[ok], n[ok], confidence_level)})
    out = pd.DataFrame(rows, columns=COLUMNS)
    out[["periods", "entered", "passed", "dof"]] = out[
        ["periods", "entered", "passed", "dof"]
    ].astype(np.int64)
    return Dispersion(tuple(steps), period, confidence_level, out, unassigned, sums)


def history_period(log: Log) -> str | None:
    """The period a log's history is read by: its ``period`` column, else weeks of its times.

    >>> import funnelsim as fs
    >>> history_period(fs.datasets.load_counts()), history_period(fs.datasets.load_events())
    ('period', 'week')
    """
    if log.engine is not None:  # an engine's log: its group columns, and times always
        return "period" if "period" in log.group_columns else "week"
    frame = log.counts if log.counts is not None else log.leads
    if frame is not None and "period" in frame.columns:
        return "period"
    if log.times is not None:
        return "week"
    return None


def history_dispersion(
    log: Log,
    period: str | None = None,
    *,
    mature: float | None = None,
    confidence_level: float = 0.95,
) -> Dispersion | None:
    """:func:`dispersion` of the log a fit was made on, over the leads the fit counted.

    ``period`` defaults to :func:`history_period` (None when the log has no
    period: the function then returns None). With ``mature`` (the fit's
    window, in its unit) each period counts only the leads old enough at a
    step's previous stage, as the fit did: young leads counted as failures
    would make the last periods look low and the ratio look as if it moved.
    Without ``mature``, a dated log's periods still count only the leads
    that have had time to pass: those older than the longest step's typical
    time (:func:`funnelsim.young_leads`, the 0.9 quantile of the time to
    pass among the leads that passed).

    >>> import funnelsim as fs
    >>> history_dispersion(fs.datasets.load_events(), mature=60).table[["stage", "periods"]]
          stage  periods
    0   connect       18
    1   meeting       18
    2  proposal       18
    3      sale       16
    """
    period = history_period(log) if period is None else period
    if period is None:
        return None
    level = check_level(confidence_level)
    if mature is None and (log.times is not None or log.engine is not None):
        mature = _settled(log)
    if mature is not None:
        table = mature_stage_table(log, mature, [period])[0]
    else:
        table = log.stage_table(by=[period])
    return dispersion_table(table, period, tuple(log.stages[1:]), level)


def _settled(log: Log) -> float | None:
    """Days after which nearly every lead that passes a step has passed it (None: unknown)."""
    try:
        typical = young_leads(log)["typical_time"].to_numpy(float)
    except (ValueError, KeyError):
        return None
    typical = typical[np.isfinite(typical)]
    return float(typical.max()) if typical.size and typical.max() > 0 else None


def period_factors(
    means: np.ndarray, rho: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """How much each period moves each stage ratio: factors of shape ``shape + (steps,)``.

    ``rho`` is one value per step, or one per replicate and step (shape
    ``(shape[0], steps)``: :meth:`Dispersion.rho_draws`).

    For a step with ``rho > 0`` and pooled ratio ``m``, the factor is
    ``X / m`` with ``X ~ Beta(m theta, (1 - m) theta)``, ``theta = 1 / rho -
    1``: mean 1, and a ratio ``m`` times the factor is exactly the
    beta-binomial random effect that :func:`dispersion` fits (mean ``m``,
    intra-class correlation ``rho``). Steps with ``rho == 0`` get 1. A
    forecast multiplies every replicate's ratio (and every group's, so that
    the whole team moves together) by the same period's factor and clips at
    1. One ``rng.beta`` call per moving step.

    >>> import numpy as np
    >>> f = period_factors(np.array([0.2, 0.5]), np.array([0.05, 0.0]), (100_000,),
    ...                    np.random.default_rng(1))
    >>> f.shape, f[:, 1].min() == f[:, 1].max() == 1.0
    ((100000, 2), np.True_)
    >>> round(float(f[:, 0].mean()), 2), round(float((0.2 * f[:, 0]).var()), 4)  # rho m (1 - m)
    (1.0, 0.008)
    """
    means = np.asarray(means, dtype=float)
    rho = np.asarray(rho, dtype=float)
    out = np.ones((*shape, means.size))
    for k, m in enumerate(means):
        r = rho[..., k]
        if not (np.any(r > 0.0) and 0.0 < m < 1.0):
            continue
        if r.ndim:  # one rho per replicate (the first axis of shape)
            r = r.reshape(r.shape + (1,) * (len(shape) - 1))
        theta = 1.0 / np.maximum(r, 1e-300) - 1.0
        draw = rng.beta(
            np.broadcast_to(m * theta, shape), np.broadcast_to((1.0 - m) * theta, shape)
        )
        out[..., k] = np.where(np.broadcast_to(r > 0.0, shape), draw / m, 1.0)
    return out


# ------------------------------------------------------------- statistics
def _one_step(k: np.ndarray, n: np.ndarray, level: float) -> dict[str, float]:
    """The row of one step from its periods' counts (periods with leads only)."""
    nan = float("nan")
    big_k, big_n = float(k.sum()), float(n.sum())
    out: dict[str, float] = dict.fromkeys(COLUMNS[1:], nan)
    out.update(
        periods=k.size,
        entered=big_n,
        passed=big_k,
        ratio=big_k / big_n if big_n > 0 else nan,
        dof=max(k.size - 1, 0),
    )
    if k.size < 2:
        return out
    if big_k == 0 or big_k == big_n:  # nothing varies
        out.update(chi2=0.0, phi=0.0, p_value=1.0)
        return out
    p = big_k / big_n
    chi2 = float(np.sum((k - n * p) ** 2 / (n * p * (1.0 - p))))
    dof = k.size - 1
    out.update(chi2=chi2, phi=chi2 / dof, p_value=float(stats.chi2.sf(chi2, dof)))
    fit = _beta_binomial(k, n, level)
    rho, low, high, mean = fit
    spread = mean * (1.0 - mean)
    out.update(
        mean=mean,
        rho=rho,
        rho_low=low,
        rho_high=high,
        sigma_between=math.sqrt(rho * spread),
        sigma_low=math.sqrt(low * spread),
        sigma_high=math.sqrt(high * spread),
        cv_between=math.sqrt(rho * spread) / mean,
        n_eff=big_n**2 / float(np.sum(n * (1.0 + (n - 1.0) * rho))),
    )
    return out


def _posterior_rho(k, n, rho_hat: float, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of ``rho`` from its posterior (uniform prior), on a ``log theta`` grid."""
    centre = math.log(rho_hat / (1.0 - rho_hat))
    grid = np.linspace(max(centre - 10.0, LOG_THETA[0]), min(centre + 6.0, LOG_THETA[1]), 161)
    means = _best_means(grid, k, n)
    loglik = np.array([_loglik(u, mu, k, n) for u, mu in zip(grid, means, strict=True)])
    rho = special.expit(grid)
    weight = np.exp(loglik - loglik.max()) * rho * (1.0 - rho)  # d rho / d log theta
    cdf = np.concatenate([[0.0], np.cumsum((weight[1:] + weight[:-1]) / 2.0)])
    cdf /= cdf[-1]
    u = np.interp(rng.random(draws), cdf, grid)
    return special.expit(u)


def _rising(x: np.ndarray | float, m: np.ndarray) -> np.ndarray:
    """``log Gamma(x + m) - log Gamma(x)`` (0 where ``m`` is 0), accurate for large ``x``."""
    safe = np.where(m > 0, m, 1.0)
    return np.where(m > 0, special.gammaln(safe) - special.betaln(x, safe), 0.0)


def _loglik(log_theta: float, mu: float, k: np.ndarray, n: np.ndarray) -> float:
    """Beta-binomial log-likelihood without the binomial coefficients; ``theta = rho / (1 -
    rho)`` = 1 / (a + b), ``mu`` = a / (a + b). ``log_theta = -inf`` is the binomial."""
    if not np.isfinite(log_theta):
        return float(np.sum(special.xlogy(k, mu) + special.xlog1py(n - k, -mu)))
    scale = math.exp(-log_theta)  # a + b
    a, b = mu * scale, (1.0 - mu) * scale
    return float(np.sum(_rising(a, k) + _rising(b, n - k) - _rising(scale, n)))


def _best_means(log_theta: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The mean that maximises the log-likelihood at each ``log theta``: the root of the
    score, by Newton steps kept inside a shrinking bracket (the log-likelihood is concave
    in the mean: a sum of logs of linear functions of it). Below ``theta = e**-18`` the
    binomial's ``K / N`` (the shift is far below any precision that matters)."""
    p = float(k.sum() / n.sum())
    u = np.atleast_1d(np.asarray(log_theta, dtype=float))
    mu = np.full(u.shape, p)
    live = u > -18.0
    if not live.any():
        return mu
    scale = np.exp(-u[live])[:, None]  # a + b
    m = n - k
    low, high = np.zeros(scale.shape[0]), np.ones(scale.shape[0])
    x = mu[live]
    for _ in range(100):
        a, b = x[:, None] * scale, (1.0 - x[:, None]) * scale
        score = np.sum(
            special.digamma(a + k)
            - special.digamma(a)
            - special.digamma(b + m)
            + special.digamma(b),
            axis=1,
        )
        trigamma = special.zeta  # trigamma(x) = zeta(2, x), without polygamma's wrapper
        slope = scale[:, 0] * np.sum(
            trigamma(2.0, a + k) - trigamma(2.0, a) + trigamma(2.0, b + m) - trigamma(2.0, b),
            axis=1,
        )
        low = np.where(score > 0, x, low)
        high = np.where(score > 0, high, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x - score / slope
        new = np.where((step > low) & (step < high), step, (low + high) / 2.0)
        done = np.max(np.abs(new - x)) < 1e-14
        x = new
        if done:
            break
    mu[live] = np.clip(x, _MU_EDGE, 1.0 - _MU_EDGE)
    return mu


def _profile(log_theta: float, k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """The log-likelihood maximised over the mean at ``theta``, and that mean."""
    mu = float(_best_means(np.array([log_theta]), k, n)[0])
    return _loglik(log_theta, mu, k, n), mu


def _beta_binomial(k: np.ndarray, n: np.ndarray, level: float) -> tuple[float, ...]:
    """``rho``, its profile-likelihood interval and the mean, by maximum likelihood."""
    means = _best_means(_GRID, k, n)
    grid = [_loglik(u, mu, k, n) for u, mu in zip(_GRID, means, strict=True)]
    best = int(np.argmax(grid))
    lo, hi = _GRID[max(best - 1, 0)], _GRID[min(best + 1, len(_GRID) - 1)]
    res = optimize.minimize_scalar(
        lambda u: -_profile(u, k, n)[0], bounds=(lo, hi), method="bounded", options={"xatol": 1e-6}
    )
    u_hat, l_hat = float(res.x), -float(res.fun)
    if grid[best] > l_hat:
        u_hat, l_hat = float(_GRID[best]), grid[best]
    l_zero, mu_zero = _profile(-np.inf, k, n)
    if l_hat - l_zero <= 1e-6:  # the binomial is (as good as) the maximum
        u_hat, l_hat = -np.inf, l_zero
    mu_hat = mu_zero if not np.isfinite(u_hat) else _profile(u_hat, k, n)[1]
    cut = l_hat - stats.chi2.ppf(level, 1) / 2.0

    def gap(u: float) -> float:
        return _profile(u, k, n)[0] - cut

    start = u_hat if np.isfinite(u_hat) else LOG_THETA[0]
    low = (
        -np.inf if gap(LOG_THETA[0]) >= 0 else optimize.brentq(gap, LOG_THETA[0], start, xtol=1e-8)
    )
    high = (
        np.inf if gap(LOG_THETA[1]) >= 0 else optimize.brentq(gap, start, LOG_THETA[1], xtol=1e-8)
    )
    return _rho(u_hat), _rho(low), _rho(high), mu_hat


def _rho(log_theta: float) -> float:
    """``rho = theta / (1 + theta)`` from ``log theta`` (0 at -inf, 1 at +inf)."""
    return float(special.expit(log_theta))
