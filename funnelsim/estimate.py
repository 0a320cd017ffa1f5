"""Ratios with honest intervals: stage ratios, the overall rate, coverage, sample sizes.

A stage ratio is estimated from ``passed`` leads out of ``entered``; how sure
we can be is a confidence interval for a binomial proportion
(:func:`proportion_ci`). :func:`fit` does this for every step of a
:class:`~funnelsim.logs.Log`, per group with ``by=``, and adds the overall
(first-to-last-stage) rate with an interval that carries the uncertainty of
every stage. :func:`coverage` and :func:`exact_coverage` show how often each
interval method really covers the true ratio (Wald: too rarely at small
counts), and :func:`calls_for_precision` / :func:`calls_for_overall_precision`
plan how many calls pin a ratio down to ``± half_width``.

Interval methods (``method=``), with ``z`` the normal quantile for the level,
``k`` passed, ``n`` entered, ``q = k / n``:

``"wilson"``
    Inverts the score test: centre ``(q + z^2/2n) / (1 + z^2/n)``, half-width
    ``z sqrt(q(1-q)/n + z^2/4n^2) / (1 + z^2/n)``. The default: close to
    nominal coverage from small counts on. Its lower limit at k = 0 (upper
    at k = n) is exactly 0 (1), as the formula gives without rounding.
``"jeffreys"``
    Equal-tailed quantiles of the Beta(k + 1/2, n - k + 1/2) posterior. At
    k = 0 (k = n) the lower (upper) limit is that quantile too, not 0 (1),
    so the interval then excludes the observed ratio (statsmodels'
    convention; Brown, Cai and DasGupta 2001 set it to 0 (1) instead).
``"clopper-pearson"``
    The "exact" interval from Beta quantiles; coverage never below nominal,
    so it is wide. Lower limit 0 at k = 0, upper limit 1 at k = n.
``"agresti-coull"``
    Wald's formula after adding ``z^2/2`` passes and ``z^2/2`` failures.
``"wald"``
    ``q ± z sqrt(q(1-q)/n)``: the textbook interval, kept to teach why not.
    It collapses to a single point at k = 0 and k = n and under-covers at
    small counts.

All limits equal ``statsmodels.stats.proportion.proportion_confint`` (methods
``wilson``, ``jeffreys``, ``beta``, ``agresti_coull``, ``normal``) to 1e-10,
including its conventions: Wald, Agresti-Coull and Wilson limits are clipped
to [0, 1]; Jeffreys limits are never replaced by 0 or 1.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import (
    _numeric,
    _short,
    check_choice,
    check_count,
    check_open_probability,
    check_probability,
    check_rng,
)
from .funnel import Funnel
from .i18n import FunnelsimValueError, fields_label, method_label, t, unit_label
from .logs import Log, mature_stage_table

__all__ = [
    "CI",
    "METHODS",
    "Fit",
    "Overall",
    "calls_for_overall_precision",
    "calls_for_precision",
    "coverage",
    "exact_coverage",
    "fit",
    "proportion_ci",
]

METHODS = ("wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald")
OVERALL_SEED = 20261123  # fixed default seed of Fit.overall: the same log gives the same interval
OVERALL_DRAWS = 100_000
_CHUNK = 4_000_000  # random numbers per block when sampling many groups


class CI(NamedTuple):
    """A confidence interval: ``low`` and ``high`` (floats, or arrays for array input)."""

    low: Any
    high: Any


class Overall(NamedTuple):
    """The first-to-last-stage rate and its interval."""

    ratio: float
    low: float
    high: float


# --------------------------------------------------------------- validation
def _counts(name: str, value: object) -> np.ndarray:
    """Whole numbers >= 0 as a float array (any shape)."""
    if not _numeric(value):
        raise FunnelsimValueError("error.count_value", name=name, value=_short(value), where="")
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        raise FunnelsimValueError(
            "error.count_value", name=name, value=_first(arr, bad), where=_where(arr, bad)
        )
    return arr


def _first(arr: np.ndarray, mask: np.ndarray) -> str:
    return f"{np.atleast_1d(arr)[tuple(np.argwhere(np.atleast_1d(mask))[0])]:g}"


def _where(arr: np.ndarray, mask: np.ndarray) -> str:
    if arr.ndim == 0:
        return ""
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return t("error.calls_where", index=idx[0] if len(idx) == 1 else idx)


def _pair(passed: object, entered: object, *, allow_empty: bool) -> tuple[np.ndarray, ...]:
    """Validated, broadcast (passed, entered) arrays."""
    k = _counts("passed", passed)
    n = _counts("entered", entered)
    try:
        k, n = np.broadcast_arrays(k, n)
    except ValueError:
        raise FunnelsimValueError("error.count_shape", passed=k.shape, entered=n.shape) from None
    over = k > n
    if over.any():
        raise FunnelsimValueError(
            "error.passed_above_entered",
            passed=_first(k, over),
            entered=_first(n, over),
            where=_where(k, over),
        )
    empty = n == 0
    if not allow_empty and empty.any():
        raise FunnelsimValueError("error.entered_zero", where=_where(n, empty))
    return k, n


def _level(confidence_level: object) -> float:
    try:
        x = float(confidence_level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FunnelsimValueError(
            "error.not_a_number", name="confidence_level", value=repr(confidence_level)
        ) from None
    if not 0.0 < x < 1.0:  # also catches NaN
        raise FunnelsimValueError("error.confidence_level", value=confidence_level)
    return x


def _methods(method: str | Sequence[str]) -> list[str]:
    names = [method] if isinstance(method, str) else list(method)
    if not names:
        raise FunnelsimValueError(
            "error.choice", name="method", value="[]", choices=", ".join(METHODS)
        )
    return [check_choice("method", m, METHODS) for m in names]


# ---------------------------------------------------------------- intervals
def proportion_ci(
    passed: int | np.ndarray | Sequence[int],
    entered: int | np.ndarray | Sequence[int],
    *,
    confidence_level: float = 0.95,
    method: str = "wilson",
) -> CI:
    """Confidence interval for a ratio: ``passed`` leads out of ``entered``.

    Parameters
    ----------
    passed, entered : int or array_like of int
        Leads that reached the next stage, out of the leads that entered the
        step (whole numbers, ``0 <= passed <= entered``, ``entered >= 1``).
        Arrays broadcast against each other.
    confidence_level : float, default 0.95
        Strictly between 0 and 1.
    method : {"wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald"}
        See the module notes; ``"wald"`` is there to show why not.

    Returns
    -------
    CI
        Named tuple ``(low, high)``: floats for scalar input, arrays otherwise.

    Raises
    ------
    ValueError
        Negative or fractional counts, ``passed > entered``, ``entered == 0``
        (no leads, no ratio), a level outside (0, 1) or an unknown method.

    Examples
    --------
    DOMAIN.md: 3 meetings out of 40 connects is a 7.5 % ratio, but the data
    are also consistent with anything from about 3 % to 20 %:

    >>> from funnelsim.estimate import proportion_ci
    >>> low, high = proportion_ci(3, 40)
    >>> print(f"{low:.3f} to {high:.3f}")
    0.026 to 0.199
    >>> proportion_ci(3, 40, method="wald")       # clipped at 0: Wald's lower limit was -0.007
    CI(low=0.0, high=0.156624323226238)
    >>> proportion_ci([0, 5, 10], 10, method="clopper-pearson").high.round(3)
    array([0.308, 0.813, 1.   ])
    """
    level = _level(confidence_level)
    method = check_choice("method", method, METHODS)
    scalar = np.ndim(passed) == 0 and np.ndim(entered) == 0
    k, n = _pair(passed, entered, allow_empty=False)
    low, high = _interval(k, n, level, method)
    if scalar:
        return CI(float(low), float(high))
    return CI(low, high)


def _interval(k: np.ndarray, n: np.ndarray, level: float, method: str) -> tuple[np.ndarray, ...]:
    """Limits for validated counts (``n >= 1``); same formulas as statsmodels."""
    tail = (1.0 - level) / 2.0
    q = k / n
    if method in ("jeffreys", "clopper-pearson"):
        if method == "jeffreys":
            low = stats.beta.ppf(tail, k + 0.5, n - k + 0.5)
            high = stats.beta.isf(tail, k + 0.5, n - k + 0.5)
        else:  # parameters kept valid at k = 0 and k = n, then the limit is set to 0 or 1
            low = np.where(k == 0, 0.0, stats.beta.ppf(tail, np.maximum(k, 1), n - k + 1))
            high = np.where(k == n, 1.0, stats.beta.isf(tail, k + 1, np.maximum(n - k, 1)))
        return np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    z = stats.norm.isf(tail)
    if method == "wald":
        centre, half = q, z * np.sqrt(q * (1.0 - q) / n)
    elif method == "agresti-coull":
        n_c = n + z**2
        centre = (k + z**2 / 2.0) / n_c
        half = z * np.sqrt(centre * (1.0 - centre) / n_c)
    else:  # wilson
        denom = 1.0 + z**2 / n
        centre = (q + z**2 / (2.0 * n)) / denom
        half = z * np.sqrt(q * (1.0 - q) / n + z**2 / (4.0 * n**2)) / denom
        # exactly 0 at k = 0 and 1 at k = n (rounding leaves ~1e-17 there otherwise)
        return (
            np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0)),
            np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0)),
        )
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


# ------------------------------------------------------------------ coverage
#: Values (k, p) per block of :func:`exact_coverage`: about 16 MB a float array.
_CELLS = 2_000_000


def _grid(n: object, p: object) -> tuple[np.ndarray, np.ndarray]:
    ns = np.atleast_1d(np.asarray(n, dtype=object))
    n_arr = np.array([check_count(f"n[{i}]", v, minimum=1) for i, v in enumerate(ns)])
    ps = np.atleast_1d(np.asarray(p, dtype=object))
    p_arr = np.array([check_probability(f"p[{i}]", v) for i, v in enumerate(ps)])
    return n_arr, p_arr


def _covers(n: int, p: np.ndarray, level: float, method: str) -> np.ndarray:
    """``covers[k, j]``: does the interval for k of n contain ``p[j]``."""
    ks = np.arange(n + 1, dtype=float)
    low, high = _interval(ks, np.full_like(ks, n), level, method)
    return (low[:, None] <= p[None, :]) & (p[None, :] <= high[:, None])


def exact_coverage(
    method: str | Sequence[str] = METHODS,
    *,
    n: int | Sequence[int],
    p: float | Sequence[float],
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Exact coverage of interval methods on a grid of (n, p).

    The coverage at ``(n, p)`` is the chance that the interval computed from
    ``k ~ Binomial(n, p)`` contains ``p``: the sum of the binomial pmf over
    the ``k`` whose interval covers ``p``.

    Parameters
    ----------
    method : str or sequence of str, default all methods
        Methods from :data:`METHODS`.
    n : int or sequence of int
        Leads entering the step (>= 1).
    p : float or sequence of float
        True ratios in [0, 1].
    confidence_level : float, default 0.95
        The nominal level.

    Returns
    -------
    pandas.DataFrame
        One row per method, n and p: ``method``, ``n``, ``p``,
        ``confidence_level``, ``coverage``.

    See Also
    --------
    coverage : the same by simulation, as a classroom would find it.

    Examples
    --------
    With 20 connects and a true 10 % meeting rate, Wald's "95 %" interval
    covers the truth less than 88 % of the time:

    >>> from funnelsim.estimate import exact_coverage
    >>> exact_coverage(["wald", "wilson"], n=20, p=0.1).round(3)
       method   n    p  confidence_level  coverage
    0    wald  20  0.1              0.95     0.876
    1  wilson  20  0.1              0.95     0.957
    """
    methods = _methods(method)
    level = _level(confidence_level)
    n_arr, p_arr = _grid(n, p)
    # Every k of every n in one array (in blocks of about _CELLS values):
    # one pmf and one interval call per block, not one per n.
    covs = []
    for m in methods:
        start = 0
        while start < n_arr.size:
            stop, rows = start, 0
            while stop < n_arr.size and (stop == start or rows * p_arr.size < _CELLS):
                rows += int(n_arr[stop]) + 1
                stop += 1
            sizes = n_arr[start:stop].astype(np.int64)
            ns = np.repeat(sizes, sizes + 1).astype(float)
            first = np.cumsum(sizes + 1) - (sizes + 1)
            ks = np.arange(ns.size) - np.repeat(first, sizes + 1).astype(float)
            pmf = stats.binom.pmf(ks[:, None], ns[:, None], p_arr[None, :])
            low, high = _interval(ks, ns, level, m)
            inside = (low[:, None] <= p_arr[None, :]) & (p_arr[None, :] <= high[:, None])
            covs.append(np.minimum(np.add.reduceat(pmf * inside, first, axis=0), 1.0))
            start = stop
    n_rep = np.repeat(n_arr.astype(np.int64), p_arr.size)
    return pd.DataFrame(
        {
            "method": np.repeat(methods, n_arr.size * p_arr.size),
            "n": np.tile(n_rep, len(methods)),
            "p": np.tile(p_arr, n_arr.size * len(methods)),
            "confidence_level": level,
            "coverage": np.concatenate([c.ravel() for c in covs]),
        }
    )


def _coverage_frame(
    method: str, n: int, p: np.ndarray, level: float, cov: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": method,
            "n": int(n),
            "p": p,
            "confidence_level": level,
            "coverage": cov,
        }
    )


def coverage(
    method: str | Sequence[str] = METHODS,
    *,
    n: int | Sequence[int],
    p: float | Sequence[float],
    confidence_level: float = 0.95,
    reps: int = 10_000,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Simulated coverage of interval methods on a grid of (n, p).

    For each ``n`` and ``p`` the function draws ``reps`` binomial counts
    (one vectorised draw, shared by all methods: common random numbers),
    computes each method's interval and reports the share that covers ``p``.
    :func:`exact_coverage` gives the value this converges to.

    Parameters
    ----------
    method : str or sequence of str, default all methods
        Methods from :data:`METHODS`.
    n : int or sequence of int
        Leads entering the step (>= 1).
    p : float or sequence of float
        True ratios in [0, 1].
    confidence_level : float, default 0.95
        The nominal level.
    reps : int, default 10_000
        Simulated samples per (n, p).
    rng : numpy.random.Generator, int or None
        Randomness (SPEC 7): a generator, a seed, or None for fresh entropy.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``n``, ``p``, ``confidence_level``, ``coverage``, ``se``
        (binomial standard error of the simulated share,
        ``sqrt(c (1 - c) / reps)``) and ``reps``.

    Examples
    --------
    >>> from funnelsim.estimate import coverage
    >>> coverage(["wald", "wilson"], n=20, p=0.1, reps=4000, rng=1).round(3)
       method   n    p  confidence_level  coverage     se  reps
    0    wald  20  0.1              0.95     0.873  0.005  4000
    1  wilson  20  0.1              0.95     0.958  0.003  4000
    """
    methods = _methods(method)
    level = _level(confidence_level)
    n_arr, p_arr = _grid(n, p)
    reps = check_count("reps", reps, minimum=1)
    gen = check_rng(rng)
    draws = {int(size): gen.binomial(size, p_arr, size=(reps, p_arr.size)) for size in n_arr}
    frames = []
    cols = np.arange(p_arr.size)
    for m in methods:
        for size in n_arr:
            hit = _covers(int(size), p_arr, level, m)[draws[int(size)], cols]
            cov = hit.mean(axis=0)
            frame = _coverage_frame(m, size, p_arr, level, cov)
            frame["se"] = np.sqrt(cov * (1.0 - cov) / reps)
            frame["reps"] = reps
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- the fit
@dataclass(frozen=True, repr=False, eq=False)
class Fit:
    """Stage ratios with intervals, from :func:`fit`.

    Attributes
    ----------
    stages : tuple of str
        Stage names in funnel order.
    table : pandas.DataFrame
        One row per group and step: the ``by`` columns, ``stage`` (the stage
        the step leads to), ``entered``, ``passed``, ``ratio``, ``low``,
        ``high``. Use :meth:`to_frame` for a copy.
    by : tuple of str
        The grouping columns (empty for one pooled funnel).
    confidence_level : float
        Level of every interval.
    method : str
        Interval method of the stage ratios (see :data:`METHODS`).
    mature : float or None
        With ``fit(log, mature=...)``: the minimum age at a step's previous
        stage, in ``unit`` ("days" or "periods"); the table then has a
        ``young`` column (leads left out of each step). None otherwise.

    Notes
    -----
    **Open leads.** A lead that reached a stage yesterday has not failed the
    next step: it has not had time to pass it. A plain fit counts it as a
    failure, so every ratio of a log with open leads is biased low (notebook
    06). ``mature=`` counts each step only over the leads old enough at its
    previous stage; each step then has its own cohort.

    **The overall rate.** Each lead either passes a step or not, so the
    likelihood of a log factorises over the steps: with independent Jeffreys
    priors the posteriors of the stage ratios are independent
    ``Beta(passed + 1/2, entered - passed + 1/2)``. The overall rate is the
    product of the ratios; its interval is the equal-tailed interval of the
    product of draws from those posteriors (:meth:`overall_interval`, by
    simulation; :attr:`overall` uses ``OVERALL_DRAWS`` draws and the fixed
    seed ``OVERALL_SEED``, so the same log always gives the same interval).
    When that estimate is 0 (no lead reached the last stage) the lower limit
    is 0, and when it is 1 the upper limit is 1 (the equal-tailed interval
    would leave its own estimate out; Brown, Cai and DasGupta's modified
    Jeffreys interval does the same for one ratio).
    Its point estimate is the product of the ratios, which equals
    last-stage leads / first-stage leads (with ``mature=`` the steps have
    different cohorts and only the product is used). The interval does not depend on
    ``method``; its frequentist coverage is checked by simulation in the
    tests.

    **Groups.** With ``by=``, :attr:`overall` is a DataFrame (one row per
    group), :meth:`to_funnel` and :meth:`sample_funnels` return dicts keyed
    by group (a value, or a tuple of values for several ``by`` columns), and
    :meth:`sample_ratios` an array with a leading group axis, in the order of
    :attr:`groups`. :meth:`group` gives one group's pooled :class:`Fit`.

    **Steps without leads.** A group in which no lead entered a step (0 at
    the previous stage) has NaN ratio and interval for that step, NaN
    posterior draws, and NaN overall limits (its overall point estimate is
    still last / first, 0 here); :attr:`notes` says which. Such a group
    cannot give a funnel: :meth:`to_funnel` and :meth:`sample_funnels` raise.
    """

    stages: tuple[str, ...]
    table: pd.DataFrame
    by: tuple[str, ...] = ()
    confidence_level: float = 0.95
    method: str = "wilson"
    mature: float | None = None
    unit: str = ""

    # ------------------------------------------------------------ groups
    @property
    def groups(self) -> list[Any]:
        """Group keys in table order (empty without ``by``)."""
        if not self.by:
            return []
        keys = self.table[list(self.by)].drop_duplicates()
        if len(self.by) == 1:
            return keys[self.by[0]].tolist()
        return [tuple(row) for row in keys.itertuples(index=False)]

    def group(self, key: Any) -> Fit:
        """The pooled :class:`Fit` of one group (``key``: a value, or a tuple for several ``by``).

        Examples
        --------
        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "connects": [40, 40],
        ...                        "meetings": [3, 9]})
        >>> log = Log("counts", ("connects", "meetings"), counts=counts)
        >>> fit(log, by="rep").group("bob").to_frame().round(3)
              stage  entered  passed  ratio    low   high
        0  meetings       40       9  0.225  0.123  0.375
        """
        if not self.by:
            raise FunnelsimValueError("error.fit_not_grouped")
        keys = key if isinstance(key, tuple) else (key,)
        mask = np.ones(len(self.table), dtype=bool)
        if len(keys) == len(self.by):
            for col, value in zip(self.by, keys, strict=True):
                column = self.table[col]
                # A missing group key (NaN, None, NaT: e.g. leads with no rep) is its own group.
                same = column.isna() if _is_missing(value) else column == value
                mask &= same.to_numpy()
        else:
            mask[:] = False
        if not mask.any():
            raise FunnelsimValueError(
                "error.unknown_group",
                value=repr(key),
                by=", ".join(self.by),
                choices=_clip(", ".join(map(str, self.groups))),
            )
        table = self.table.loc[mask].drop(columns=list(self.by)).reset_index(drop=True)
        return dataclasses.replace(self, table=table, by=())

    # --------------------------------------------------------- posteriors
    def _params(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior Beta parameters, shape (groups, steps); NaN where nothing entered."""
        steps = len(self.stages) - 1
        k = self.table["passed"].to_numpy(float).reshape(-1, steps)
        n = self.table["entered"].to_numpy(float).reshape(-1, steps)
        a = np.where(n > 0, k + 0.5, np.nan)
        b = np.where(n > 0, n - k + 0.5, np.nan)
        return a, b

    @staticmethod
    def _draw(a: np.ndarray, b: np.ndarray, n: int, gen: np.random.Generator) -> np.ndarray:
        """Posterior draws, shape (groups, n, steps); NaN where a step had no leads."""
        ok = np.isfinite(a)
        x = gen.beta(
            np.where(ok, a, 1.0)[:, None, :],
            np.where(ok, b, 1.0)[:, None, :],
            size=(a.shape[0], n, a.shape[1]),
        )
        x[np.broadcast_to(~ok[:, None, :], x.shape)] = np.nan
        return x

    def sample_ratios(self, n: int, *, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """``n`` plausible sets of stage ratios, each drawn from its Beta posterior.

        Returns an array of shape ``(n, steps)``, or ``(groups, n, steps)``
        with ``by=`` (groups in the order of :attr:`groups`). Forecasts that
        simulate many funnels at once use this array directly;
        :meth:`sample_funnels` wraps each row in a :class:`Funnel`.

        Examples
        --------
        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> from funnelsim.estimate import fit
        >>> log = Log("counts", ("connects", "meetings"),
        ...           counts=pd.DataFrame({"connects": [40], "meetings": [3]}))
        >>> fit(log).sample_ratios(3, rng=0).round(3)
        array([[0.076],
               [0.048],
               [0.058]])
        """
        n = check_count("n", n, minimum=1)
        gen = check_rng(rng)
        a, b = self._params()
        out = self._draw(a, b, n, gen)
        return out if self.by else out[0]

    def sample_funnels(
        self, n: int, *, rng: np.random.Generator | int | None = None
    ) -> list[Funnel] | dict[Any, list[Funnel]]:
        """``n`` plausible funnels: each ratio drawn from its Beta posterior.

        Feeding these to a forecast (one simulation per funnel) carries the
        uncertainty of the ratios into the forecast. With ``by=``: a dict of
        lists keyed by group.

        Examples
        --------
        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> from funnelsim.estimate import fit
        >>> log = Log("counts", ("connects", "meetings"),
        ...           counts=pd.DataFrame({"connects": [40], "meetings": [3]}))
        >>> for funnel in fit(log).sample_funnels(2, rng=0):
        ...     print(funnel)
        Funnel(connects -> meetings; ratios 0.0761; overall 0.0761)
        Funnel(connects -> meetings; ratios 0.048; overall 0.048)
        """
        draws = self.sample_ratios(n, rng=rng)
        if not self.by:
            self._require_ratios(self.table, None)
            return [Funnel(self.stages, tuple(row)) for row in draws]
        out = {}
        for key, rows in zip(self.groups, draws, strict=True):
            self._require_ratios(self.group(key).table, key)
            out[key] = [Funnel(self.stages, tuple(row)) for row in rows]
        return out

    def to_funnel(self) -> Funnel | dict[Any, Funnel]:
        """The point estimates as a :class:`Funnel` (a dict of funnels with ``by=``).

        Examples
        --------
        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"dials": [15], "connects": [7], "meetings": [1]})
        >>> fit(Log("counts", ("dials", "connects", "meetings"), counts=counts)).to_funnel()
        Funnel(dials -> connects -> meetings; ratios 0.467, 0.143; overall 0.0667)
        """
        if not self.by:
            self._require_ratios(self.table, None)
            return Funnel(self.stages, tuple(self.table["ratio"]))
        out = {}
        for key in self.groups:
            one = self.group(key)
            self._require_ratios(one.table, key)
            out[key] = one.to_funnel()
        return out

    def _require_ratios(self, table: pd.DataFrame, key: Any) -> None:
        empty = table["entered"].to_numpy() == 0
        if empty.any():
            stage = table["stage"].to_numpy()[empty][0]
            if key is None:  # the whole log: nobody has got that far yet
                raise FunnelsimValueError("error.fit_no_funnel_log", stage=stage)
            group = t("note.group", key=key)
            raise FunnelsimValueError("error.fit_no_funnel", group=group, stage=stage)

    # ------------------------------------------------------------ overall
    def overall_interval(
        self,
        *,
        draws: int = OVERALL_DRAWS,
        rng: np.random.Generator | int | None = OVERALL_SEED,
    ) -> Overall | pd.DataFrame:
        """The first-to-last-stage rate with an interval from every stage's uncertainty.

        The equal-tailed interval of the product of ``draws`` draws from the
        stage ratios' Beta posteriors (see the class notes). ``rng`` is fixed
        by default so that a log always gives the same interval; pass
        ``rng=None`` for fresh randomness. With ``by=``: a DataFrame with the
        ``by`` columns, ``entered`` (first-stage leads), ``passed``
        (last-stage leads; both NA with ``mature=``, whose steps have their
        own cohorts), ``ratio``, ``low``, ``high``; a group's row agrees
        with ``fit.group(key).overall`` within Monte Carlo error.

        Examples
        --------
        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
        >>> f = fit(Log("counts", ("dials", "connects", "meetings"), counts=counts))
        >>> ratio, low, high = f.overall_interval(draws=20_000, rng=0)
        >>> print(f"{ratio:.3f} [{low:.3f}, {high:.3f}]")
        0.067 [0.034, 0.114]
        """
        draws = check_count("draws", draws, minimum=1)
        gen = check_rng(rng)
        a, b = self._params()
        steps = a.shape[1]
        tail = (1.0 - self.confidence_level) / 2.0
        low = np.full(a.shape[0], np.nan)
        high = np.full(a.shape[0], np.nan)
        block = max(1, _CHUNK // (draws * steps))
        for start in range(0, a.shape[0], block):
            idx = np.arange(start, min(start + block, a.shape[0]))
            idx = idx[np.isfinite(a[idx]).all(axis=1)]  # groups with leads at every step
            if idx.size:
                prod = self._draw(a[idx], b[idx], draws, gen).prod(axis=2)
                low[idx], high[idx] = np.quantile(prod, [tail, 1.0 - tail], axis=1)
        first = self.table["entered"].to_numpy(float).reshape(-1, steps)[:, 0]
        last = self.table["passed"].to_numpy(float).reshape(-1, steps)[:, -1]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(first > 0, last / np.where(first > 0, first, 1.0), np.nan)
            if self.mature is not None:  # one cohort per step: the product of the ratios
                ratio = self.table["ratio"].to_numpy(float).reshape(-1, steps).prod(axis=1)
        # An estimate on the boundary (no lead reached the last stage, or every lead
        # passed every step) gets that boundary as its limit, as Jeffreys intervals do.
        low = np.where((ratio == 0) & np.isfinite(low), 0.0, low)
        high = np.where((ratio == 1) & np.isfinite(high), 1.0, high)
        if not self.by:
            return Overall(float(ratio[0]), float(low[0]), float(high[0]))
        keys = self.table[list(self.by)].iloc[::steps].reset_index(drop=True)
        counts = (first.astype(np.int64), last.astype(np.int64))
        if self.mature is not None:  # one cohort per step: no first-to-last counts
            counts = tuple(pd.array([pd.NA] * len(keys), dtype="Int64") for _ in range(2))
        return keys.assign(
            entered=counts[0],
            passed=counts[1],
            ratio=ratio,
            low=low,
            high=high,
        )

    @cached_property
    def overall(self) -> Overall | pd.DataFrame:
        """:meth:`overall_interval` with its defaults (computed once, then kept)."""
        return self.overall_interval()

    # ------------------------------------------------------------- output
    @property
    def notes(self) -> tuple[str, ...]:
        """What could not be estimated, and why."""
        out = []
        steps = len(self.stages) - 1
        rows = self.table.reset_index(drop=True)
        for i in np.flatnonzero(rows["entered"].to_numpy() == 0):
            group = ""
            if self.by:
                key = tuple(rows.loc[i, list(self.by)])
                group = t("note.group", key=key[0] if len(key) == 1 else key)
            previous = self.stages[i % steps]
            if self.mature is not None:  # leads may have got there, just not long enough ago
                note = t(
                    "note.no_mature",
                    group=group,
                    previous=previous,
                    stage=rows.loc[i, "stage"],
                    window=self.mature,
                    unit=unit_label(self.unit),
                    young=int(rows.loc[i, "young"]),
                )
            else:
                note = t(
                    "note.no_entered", group=group, previous=previous, stage=rows.loc[i, "stage"]
                )
            out.append(note)
        return tuple(out)

    def _mature_line(self) -> str:
        """With ``mature=``: the window and how many lead-steps it left out (as shown)."""
        young = int(self.table["young"].sum())
        return t("repr.fit.mature", window=self.mature, unit=unit_label(self.unit), young=young)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: the ``by`` columns, ``stage``, ``entered``, ``passed``, ``ratio``,
        ``low``, ``high`` (one row per group and step)."""
        return self.table.copy()

    def __repr__(self) -> str:
        head = t(
            "repr.fit.head",
            method=method_label(self.method),
            level=100 * self.confidence_level,
            stages=" -> ".join(self.stages),
        )
        if self.mature is not None:
            head += "\n" + self._mature_line()
        if self.by:
            lines = [
                t("repr.fit.by", head=head, by=fields_label(self.by), groups=len(self.groups))
            ]
        else:
            lines = [head]
            for row in self.table.itertuples(index=False):
                lines.append(
                    t(
                        "repr.fit.row",
                        stage=row.stage,
                        passed=row.passed,
                        entered=row.entered,
                        ratio=row.ratio,
                        low=row.low,
                        high=row.high,
                    )
                )
            ratio, low, high = self.overall
            lines.append(t("repr.fit.overall", ratio=ratio, low=low, high=high))
        lines += [t("repr.note", note=note) for note in self.notes]
        return "\n".join(lines) + ")"


def fit(
    log: Log,
    *,
    by: str | Sequence[str] | None = None,
    confidence_level: float = 0.95,
    method: str = "wilson",
    mature: float | str | pd.Timedelta | None = None,
) -> Fit:
    """Stage ratios with confidence intervals from a log, pooled or per group.

    Parameters
    ----------
    log : funnelsim.logs.Log
        A log from ``read_log`` (or built directly).
    by : str or sequence of str, optional
        Group columns of the log (``rep``, ``source``, ``segment``,
        ``period``...): one funnel per group.
    confidence_level : float, default 0.95
        Level of every interval, strictly between 0 and 1.
    method : {"wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald"}
        Interval method of the stage ratios (see :func:`proportion_ci`).
    mature : float, str or pandas.Timedelta, optional
        Count each step only over the leads that reached its previous stage
        at least this long before the log's ``as_of``: days for dated logs
        (``"60D"`` works too), periods otherwise. Leads younger than that
        are still open and are left out instead of counted as failures
        (they would bias the ratios low). Choose a window longer than
        nearly every step takes (:func:`funnelsim.open_lead_ratios` and
        :func:`funnelsim.cycle_length` show how long). Needs a lead-level
        log with times; the table gains a ``young`` column.

    Returns
    -------
    Fit
        ``.to_frame()``, ``.overall``, ``.to_funnel()``,
        ``.sample_funnels(n)``; see :class:`Fit` for the conventions.

    Raises
    ------
    ValueError
        When the log has no leads at its first stage, ``by`` names no group
        column, or the counts rise down the funnel.
    LogError
        ``mature=`` with a log that has no times.

    Examples
    --------
    >>> import pandas as pd
    >>> from funnelsim.logs import Log
    >>> from funnelsim.estimate import fit
    >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [150, 150],
    ...                        "connects": [70, 40], "meetings": [10, 3]})
    >>> log = Log("counts", ("dials", "connects", "meetings"), counts=counts)
    >>> fit(log)
    Fit(Wilson 95%: dials -> connects -> meetings
      connects: 110/300 = 0.367 [0.314, 0.423]
      meetings: 13/110 = 0.118 [0.0704, 0.192]
      overall: 0.0433 [0.0243, 0.0707])
    >>> fit(log, by="rep").to_frame().round(3)
       rep     stage  entered  passed  ratio    low   high
    0  ann  connects      150      70  0.467  0.389  0.546
    1  ann  meetings       70      10  0.143  0.079  0.243
    2  bob  connects      150      40  0.267  0.202  0.343
    3  bob  meetings       40       3  0.075  0.026  0.199
    >>> fit(log, by="rep").overall.round(3)
       rep  entered  passed  ratio    low   high
    0  ann      150      10  0.067  0.035  0.115
    1  bob      150       3  0.020  0.006  0.052
    """
    if not isinstance(log, Log):
        raise FunnelsimValueError("error.not_a_log", value=_short(log))
    level = _level(confidence_level)
    method = check_choice("method", method, METHODS)
    keys = () if by is None else (by,) if isinstance(by, str) else tuple(by)
    pooled = log.stage_table()
    if pooled.empty or pooled["entered"].iloc[0] == 0:
        raise FunnelsimValueError("error.no_first_leads", stage=log.stages[0], name=log.name)
    window, unit = None, ""
    if mature is not None:
        table, window, unit = mature_stage_table(log, mature, list(keys) or None)
    else:
        table = log.stage_table(by=list(keys)) if keys else pooled
    table = table.reset_index(drop=True)
    _check_table(table, log.stages, keys)
    k = table["passed"].to_numpy(float)
    n = table["entered"].to_numpy(float)
    ok = n > 0
    ratio = np.full(len(table), np.nan)
    low = np.full(len(table), np.nan)
    high = np.full(len(table), np.nan)
    ratio[ok] = k[ok] / n[ok]
    low[ok], high[ok] = _interval(k[ok], n[ok], level, method)
    table = table.assign(ratio=ratio, low=low, high=high)
    return Fit(tuple(log.stages), table, keys, level, method, mature=window, unit=unit)


def _check_table(table: pd.DataFrame, stages: Sequence[str], keys: tuple[str, ...]) -> None:
    """Counts a hand-built log might get wrong: negative, or rising down the funnel."""
    k = table["passed"].to_numpy()
    n = table["entered"].to_numpy()
    bad = (k > n) | (k < 0) | (n < 0)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    group = ""
    if keys:
        key = tuple(table.loc[i, list(keys)])
        group = t("note.group", key=key[0] if len(key) == 1 else key)
    previous = stages[i % (len(stages) - 1)]
    if min(k[i], n[i]) < 0:
        name, value = (previous, n[i]) if n[i] < 0 else (table.loc[i, "stage"], k[i])
        raise FunnelsimValueError("error.count_value", name=group + name, value=value, where="")
    raise FunnelsimValueError(
        "error.fit_counts_rising",
        group=group,
        stage=table.loc[i, "stage"],
        previous=previous,
        passed=float(k[i]),
        entered=float(n[i]),
    )


# ------------------------------------------------------------- the planner
def _z(confidence_level: float) -> float:
    return float(stats.norm.isf((1.0 - confidence_level) / 2.0))


def _half_width(n: int, p: float, z: float, method: str) -> float:
    if method == "wald":
        return z * math.sqrt(p * (1.0 - p) / n)
    return z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / (1.0 + z * z / n)


def calls_for_precision(
    ratio: float,
    half_width: float,
    *,
    confidence_level: float = 0.95,
    method: str = "wilson",
) -> int:
    """Leads that must enter a step to pin its ratio down to ``± half_width``.

    The smallest ``n`` whose interval, at the expected count ``k = n *
    ratio``, is at most ``2 * half_width`` wide. ``"wald"``: the closed form
    ``n = z^2 ratio (1 - ratio) / half_width^2``, rounded up. ``"wilson"``
    (what :func:`fit` reports by default): the root of the quadratic that
    the Wilson half-width gives, then checked against the half-width itself.

    Parameters
    ----------
    ratio : float
        The ratio you expect (a planning guess), strictly between 0 and 1.
    half_width : float
        The precision wanted, strictly between 0 and 1 (0.05 for ±5 points).
    confidence_level : float, default 0.95
        Strictly between 0 and 1.
    method : {"wilson", "wald"}
        Which interval's half-width to plan for.

    Returns
    -------
    int
        Leads entering the step (connects, for a meeting ratio).

    Examples
    --------
    To know a 10 % meeting ratio to ±3 points, 95 % of the time:

    >>> from funnelsim.estimate import calls_for_precision
    >>> calls_for_precision(0.1, 0.03, method="wald")
    385
    >>> calls_for_precision(0.1, 0.03)
    388
    """
    p = check_open_probability("ratio", ratio)
    h = check_open_probability("half_width", half_width)
    level = _level(confidence_level)
    method = check_choice("method", method, ("wilson", "wald"))
    z = _z(level)
    if method == "wald":
        root = z * z * p * (1.0 - p) / (h * h)
    else:  # h^2 n^2 + (2 h^2 z^2 - z^2 p q) n + z^4 (h^2 - 1/4) >= 0
        qa, qb, qc = h * h, 2 * h * h * z * z - z * z * p * (1 - p), z**4 * (h * h - 0.25)
        disc = max(qb * qb - 4 * qa * qc, 0.0)
        root = (-qb + math.sqrt(disc)) / (2 * qa)
    n = max(1, math.ceil(root))
    while n > 1 and _half_width(n - 1, p, z, method) <= h:  # rounding guards
        n -= 1
    while _half_width(n, p, z, method) > h:
        n += 1
    return n


def calls_for_overall_precision(
    ratios: Funnel | Sequence[float],
    half_width: float,
    *,
    confidence_level: float = 0.95,
) -> int:
    """First-stage leads needed to pin the overall rate down to ``± half_width``.

    Delta method on the product of the stage ratios: with ``n_k = N *
    reach_k`` leads expected to enter step ``k``, the relative variance of
    the product is ``sum_k (1 - r_k) / (n_k r_k)``. For leads that flow
    through the funnel (one cohort) that sum telescopes to ``(1 - P) / (N
    P)``, so ``Var = P (1 - P) / N`` with ``P`` the overall rate: the same as
    counting sales out of calls directly, whatever the stages. Hence ``N =
    z^2 P (1 - P) / half_width^2``, rounded up. The normal approximation
    needs a few dozen expected last-stage outcomes (``N P``).

    Parameters
    ----------
    ratios : Funnel or sequence of float
        The stage ratios you expect (each in (0, 1], overall below 1).
    half_width : float
        The precision wanted on the overall rate, strictly between 0 and 1.
    confidence_level : float, default 0.95
        Strictly between 0 and 1.

    Returns
    -------
    int
        Leads entering the first stage (calls).

    Examples
    --------
    The daily ratio game (overall 1 sale in 120 dials), to ±0.3 points:

    >>> from funnelsim.estimate import calls_for_overall_precision
    >>> calls_for_overall_precision([7/15, 1/7, 1/8], 0.003)
    3528
    """
    values = list(ratios.ratios) if isinstance(ratios, Funnel) else _ratio_list(ratios)
    rs = np.array([check_probability(f"ratios[{i}]", r) for i, r in enumerate(values)])
    if rs.size == 0 or (rs == 0).any() or rs.prod() == 1.0:
        raise FunnelsimValueError("error.overall_degenerate", value=_short(values))
    h = check_open_probability("half_width", half_width)
    z = _z(_level(confidence_level))
    reach_before = np.concatenate([[1.0], np.cumprod(rs)[:-1]])
    overall = float(rs.prod())
    relative_var = float(np.sum((1.0 - rs) / (reach_before * rs)))  # per first-stage lead
    root = z * z * overall**2 * relative_var / (h * h)
    n = max(1, math.ceil(root))
    while n > 1 and z * overall * math.sqrt(relative_var / (n - 1)) <= h:
        n -= 1
    while z * overall * math.sqrt(relative_var / n) > h:
        n += 1
    return n


def _is_missing(value: Any) -> bool:
    """True for a scalar missing value (None, NaN, NaT, pd.NA)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like key is never "missing"
        return False


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ratio_list(ratios: object) -> list[object]:
    if isinstance(ratios, str) or not np.iterable(ratios):
        raise FunnelsimValueError("error.overall_degenerate", value=_short(ratios))
    return list(ratios)  # type: ignore[call-overload]
