"""Every interval for a proportion in one place, with its coverage and its sample size.

A stage ratio is estimated from ``passed`` leads out of ``entered``; how sure
we can be is a confidence interval for a binomial proportion
(:func:`proportion_ci`). :func:`coverage` and :func:`exact_coverage` show
how often each interval method really covers the true ratio (Wald: too
rarely at small counts), and :func:`calls_for_precision` /
:func:`calls_for_overall_precision` plan how many calls pin a ratio down to
``± half_width``.
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

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import (
    check_choice,
    check_count,
    check_open_probability,
    check_probability,
    check_rng,
    is_numeric,
    short,
    to_float,
    type_name,
)
from .funnel import Funnel
from .i18n import FunnelsimTypeError, FunnelsimValueError, t

__all__ = [
    "CI",
    "METHODS",
    "calls_for_overall_precision",
    "calls_for_precision",
    "coverage",
    "exact_coverage",
    "proportion_ci",
]


class CI(NamedTuple):
    """A confidence interval: ``low`` and ``high`` (floats, or arrays for array input).

    Examples
    --------
    >>> import funnelsim as fs
    >>> ci = fs.proportion_ci(7, 15)      # 7 connects from 15 dials
    >>> round(ci.low, 3), round(ci.high, 3)
    (0.248, 0.699)
    >>> low, high = ci                    # unpacks like a tuple
    >>> round(high - low, 3)
    0.451
    """

    low: Any
    high: Any


METHODS = ("wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald")


def _counts(name: str, value: object) -> np.ndarray:
    """Whole numbers >= 0 as a float array (any shape)."""
    if not is_numeric(value):
        raise FunnelsimTypeError(
            "error.type_numbers", name=name, value=short(value), type=type_name(value)
        )
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


def check_pair(passed: object, entered: object, *, allow_empty: bool) -> tuple[np.ndarray, ...]:
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


def check_level(confidence_level: object) -> float:
    """A confidence level strictly between 0 and 1 (text or None is a TypeError)."""
    x = to_float("confidence_level", confidence_level)
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

    >>> from funnelsim.intervals import proportion_ci
    >>> low, high = proportion_ci(3, 40)
    >>> print(f"{low:.3f} to {high:.3f}")
    0.026 to 0.199
    >>> proportion_ci(3, 40, method="wald")       # clipped at 0: Wald's lower limit was -0.007
    CI(low=0.0, high=0.156624323226238)
    >>> proportion_ci([0, 5, 10], 10, method="clopper-pearson").high.round(3)
    array([0.308, 0.813, 1.   ])
    """
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    scalar = np.ndim(passed) == 0 and np.ndim(entered) == 0
    k, n = check_pair(passed, entered, allow_empty=False)
    low, high = interval(k, n, level, method)
    if scalar:
        return CI(float(low), float(high))
    return CI(low, high)


def interval(k: np.ndarray, n: np.ndarray, level: float, method: str) -> tuple[np.ndarray, ...]:
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
    low, high = interval(ks, np.full_like(ks, n), level, method)
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

    >>> from funnelsim.intervals import exact_coverage
    >>> exact_coverage(["wald", "wilson"], n=20, p=0.1).round(3)
       method   n    p  confidence_level  coverage
    0    wald  20  0.1              0.95     0.876
    1  wilson  20  0.1              0.95     0.957
    """
    methods = _methods(method)
    level = check_level(confidence_level)
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
            low, high = interval(ks, ns, level, m)
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
    >>> from funnelsim.intervals import coverage
    >>> coverage(["wald", "wilson"], n=20, p=0.1, reps=4000, rng=1).round(3)
       method   n    p  confidence_level  coverage     se  reps
    0    wald  20  0.1              0.95     0.873  0.005  4000
    1  wilson  20  0.1              0.95     0.958  0.003  4000
    """
    methods = _methods(method)
    level = check_level(confidence_level)
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


def two_sided_z(confidence_level: float) -> float:
    """The normal quantile ``z`` of a two-sided level (1.96 at 0.95); checks the level."""
    return float(stats.norm.isf((1.0 - check_level(confidence_level)) / 2.0))


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

    >>> from funnelsim.intervals import calls_for_precision
    >>> calls_for_precision(0.1, 0.03, method="wald")
    385
    >>> calls_for_precision(0.1, 0.03)
    388
    """
    p = check_open_probability("ratio", ratio)
    h = check_open_probability("half_width", half_width)
    level = check_level(confidence_level)
    method = check_choice("method", method, ("wilson", "wald"))
    z = two_sided_z(level)
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

    >>> from funnelsim.intervals import calls_for_overall_precision
    >>> calls_for_overall_precision([7/15, 1/7, 1/8], 0.003)
    3528
    """
    values = list(ratios.ratios) if isinstance(ratios, Funnel) else _ratio_list(ratios)
    rs = np.array([check_probability(f"ratios[{i}]", r) for i, r in enumerate(values)])
    if rs.size == 0 or (rs == 0).any() or rs.prod() == 1.0:
        raise FunnelsimValueError("error.overall_degenerate", value=short(values))
    h = check_open_probability("half_width", half_width)
    z = two_sided_z(check_level(confidence_level))
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


def _ratio_list(ratios: object) -> list[object]:
    if isinstance(ratios, str) or not np.iterable(ratios):
        raise FunnelsimValueError("error.overall_degenerate", value=short(ratios))
    return list(ratios)  # type: ignore[call-overload]


def p_text(x: float) -> str:
    """A p-value with its relation, to follow "p" in a summary: "= 0.0312", "< 0.001" or
    "= -" (not defined).

    >>> p_text(0.03123), p_text(2e-5), p_text(float("nan"))
    ('= 0.0312', '< 0.001', '= -')
    """
    if not np.isfinite(x):
        return "= -"
    return "< 0.001" if x < 0.001 else f"= {x:.3g}"
