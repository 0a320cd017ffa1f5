"""Sales-cycle lag and deal-size models.

A :class:`Cycle` is the lag, in whole periods, between a call and the deal it
closes. A :class:`DealSize` is the amount of one closed deal. Both are plain
frozen objects: the simulator draws from them, the theory module reads their
exact moments.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from ._validate import check_nonnegative, check_positive, check_sequence, to_float
from .i18n import FunnelsimValueError

__all__ = ["Cycle", "DealSize"]

DEFAULT_CYCLE_CV = 0.5
# The longest lag a cycle may spread deals over, in periods (about 190 years of weeks).
_MAX_LAG = 10_000
_TAIL = 1e-6  # lag probability mass dropped in the far tail, then renormalised


@dataclass(frozen=True)
class Cycle:
    """Sales-cycle length: lag in periods between a call and its closed deal.

    The lag is a gamma distribution ``X`` with the given mean and coefficient
    of variation, put on whole periods by splitting each value between the two
    nearest periods in proportion to its distance from them (``P(lag = k) =
    E[max(0, 1 - |X - k|)]``), and cut where less than 1e-6 of the mass is
    left. The split keeps the mean (up to the cut), also for short cycles
    where rounding to the nearest period would not. With ``cv = 0`` the lag is
    ``mean`` exactly, split the same way between the two nearest whole periods
    when ``mean`` is fractional. ``mean = 0`` closes every deal in the period
    of its call.

    Parameters
    ----------
    mean : float
        Mean lag in periods (>= 0).
    cv : float, default 0.5
        Coefficient of variation of the lag (>= 0).

    Examples
    --------
    >>> import funnelsim as fs
    >>> c = fs.Cycle(4, cv=0.25)
    >>> round(c.lag_mean, 2), c.max_lag
    (4.0, 11)
    >>> fs.Cycle(2.5, cv=0).pmf().tolist()
    [0.0, 0.0, 0.5, 0.5]
    """

    mean: float
    cv: float = DEFAULT_CYCLE_CV
    _pmf: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mean = check_nonnegative("cycle mean", self.mean)
        cv = check_nonnegative("cycle cv", self.cv)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cv", cv)
        object.__setattr__(self, "_pmf", _lag_pmf(mean, cv))

    @classmethod
    def coerce(cls, cycle: Cycle | float | None) -> Cycle:
        """``None`` -> no lag; a number -> that mean with the default spread.

        Examples
        --------
        >>> import funnelsim as fs
        >>> fs.Cycle.coerce(None)
        Cycle(mean=0.0, cv=0.0)
        >>> fs.Cycle.coerce(3)
        Cycle(mean=3.0, cv=0.5)
        """
        if cycle is None:
            return cls(0.0, 0.0)
        if isinstance(cycle, Cycle):
            return cycle
        return cls(cycle)

    def pmf(self) -> np.ndarray:
        """``P(lag = k)`` for ``k = 0 .. max_lag`` (a copy).

        Examples
        --------
        >>> import funnelsim as fs
        >>> fs.Cycle(1.5, cv=0).pmf().tolist()   # half the deals after 1 period, half after 2
        [0.0, 0.5, 0.5]
        >>> pmf = fs.Cycle(4, cv=0.25).pmf()
        >>> len(pmf), int(pmf.argmax()), round(float(pmf.sum()), 6)
        (12, 4, 1.0)
        """
        return self._pmf.copy()

    @property
    def max_lag(self) -> int:
        """Longest lag with non-negligible probability."""
        return len(self._pmf) - 1

    @property
    def lag_mean(self) -> float:
        """Mean of the discretised lag (close to ``mean``)."""
        return float(np.arange(len(self._pmf)) @ self._pmf)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` lags, one per deal.

        Examples
        --------
        >>> import numpy as np
        >>> import funnelsim as fs
        >>> fs.Cycle(2.5, cv=0).sample(np.random.default_rng(42), 6).tolist()
        [3, 2, 3, 3, 2, 3]
        """
        return rng.choice(len(self._pmf), size=size, p=self._pmf)


def _band_edge(i: int, x: object) -> float:
    """A band edge: a number >= 0 or ``inf`` (NaN and -inf are refused)."""
    name = f"edges[{i}]"
    v = to_float(name, x)
    return v if v == math.inf else check_nonnegative(name, v)


def _lag_pmf(mean: float, cv: float) -> np.ndarray:
    if mean == 0:
        return np.array([1.0])
    if cv == 0:
        if mean > _MAX_LAG:
            raise FunnelsimValueError(
                "error.cycle_too_long", mean=mean, cv=cv, top=mean, limit=_MAX_LAG
            )
        lo = math.floor(mean)
        frac = mean - lo
        pmf = np.zeros(lo + 2)
        pmf[lo], pmf[lo + 1] = 1 - frac, frac
        return pmf[: lo + 1] if frac == 0 else pmf
    shape = 1.0 / cv**2
    scale = mean / shape
    top = max(math.ceil(stats.gamma.isf(_TAIL, shape, scale=scale)), 1)
    if top > _MAX_LAG:
        raise FunnelsimValueError(
            "error.cycle_too_long", mean=mean, cv=cv, top=top, limit=_MAX_LAG
        )
    k = np.arange(top + 1, dtype=float)
    # On (k, k + 1] a value x goes to period k + 1 with weight x - k and to
    # period k with weight k + 1 - x; E[X; X <= x] = mean * F_{shape + 1}(x).
    mass = np.diff(stats.gamma.cdf(k, shape, scale=scale))
    first_moment = np.diff(mean * stats.gamma.cdf(k, shape + 1, scale=scale))
    up = np.clip(first_moment - k[:-1] * mass, 0.0, mass)
    pmf = np.zeros(top + 1)
    pmf[:-1] += mass - up
    pmf[1:] += up
    pmf /= pmf.sum()
    return np.trim_zeros(pmf, "b")


@dataclass(frozen=True)
class DealSize:
    """Amount of one closed deal.

    Build one with :meth:`fixed`, :meth:`gamma` (the default model),
    :meth:`lognormal` or :meth:`bands`. ``mean``, ``cv`` and ``var`` are the
    exact moments of one deal.

    Cost in the simulator: ``fixed``, ``gamma`` and ``bands`` with one value
    per band cost one random draw per period and rep, whatever the number of
    deals (the sum of k gamma deals is one gamma draw; band counts are one
    multinomial draw). ``lognormal`` and ``bands`` without values (uniform
    inside each band) cost one draw per deal.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.DealSize.gamma(10_000, cv=0.5).var
    25000000.0
    >>> d = fs.DealSize.bands([0, 10, 30], [0.75, 0.25])
    >>> d.mean
    8.75
    """

    kind: str
    params: tuple[float, ...]
    edges: tuple[float, ...] = ()
    shares: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    counts: tuple[float, ...] = ()

    # ------------------------------------------------------------ factories
    @classmethod
    def fixed(cls, amount: float) -> DealSize:
        """Every deal is worth ``amount``.

        Examples
        --------
        >>> import funnelsim as fs
        >>> d = fs.DealSize.fixed(5_000)
        >>> d
        DealSize.fixed(5000)
        >>> d.mean, d.cv
        (5000.0, 0.0)
        """
        return cls("fixed", (check_nonnegative("deal_size amount", amount),))

    @classmethod
    def gamma(cls, mean: float, cv: float = 1.0) -> DealSize:
        """Gamma-distributed deal sizes with this mean and coefficient of variation.

        The default deal-size model; ``cv=0`` gives :meth:`fixed` deals.

        Examples
        --------
        >>> import funnelsim as fs
        >>> d = fs.DealSize.gamma(10_000, cv=0.5)
        >>> d
        DealSize.gamma(mean=10000, cv=0.5)
        >>> d.mean, d.var
        (10000.0, 25000000.0)
        >>> fs.DealSize.gamma(10_000, cv=0)
        DealSize.fixed(10000)
        """
        mean = check_positive("deal_size mean", mean)
        cv = check_nonnegative("deal_size cv", cv)
        return cls.fixed(mean) if cv == 0 else cls("gamma", (mean, cv))

    @classmethod
    def lognormal(cls, mean: float, cv: float = 1.0) -> DealSize:
        """Log-normal deal sizes with this mean and coefficient of variation.

        Heavier-tailed than :meth:`gamma` at the same mean and cv; the simulator
        draws one number per deal (``per_deal``).

        Examples
        --------
        >>> import numpy as np
        >>> import funnelsim as fs
        >>> d = fs.DealSize.lognormal(10_000, cv=2)
        >>> d
        DealSize.lognormal(mean=10000, cv=2)
        >>> d.cv, d.per_deal
        (2.0, True)
        >>> round(float(d.sample(np.random.default_rng(1), 100_000).mean()), -2)
        10000.0
        """
        mean = check_positive("deal_size mean", mean)
        cv = check_nonnegative("deal_size cv", cv)
        return cls.fixed(mean) if cv == 0 else cls("lognormal", (mean, cv))

    @classmethod
    def bands(
        cls,
        edges: Sequence[float],
        shares: Sequence[float] | None = None,
        values: Sequence[float] | None = None,
        *,
        counts: Sequence[float] | None = None,
    ) -> DealSize:
        """Deal sizes by band, as the decks report them.

        Parameters
        ----------
        edges : sequence of float
            ``m + 1`` increasing band edges (the last may be ``inf`` when
            ``values`` are given).
        shares : sequence of float
            ``m`` shares of deals in each band. They must add up to 1 within
            0.01 (rounded shares such as 56.5 + 27.8 + 11 + 4.6 = 99.9 % are
            accepted) and are rescaled to sum to exactly 1. Give ``shares`` or
            ``counts``, not both.
        values : sequence of float, optional
            One representative deal size per band. Without them a deal is
            uniform inside its band. The decks give the bands, not the amount
            inside each: any values are an assumption, stated in the repr.
        counts : sequence of int, optional
            ``m`` numbers of past deals in each band (the decks' 61, 30, 12 and
            5 of 108 deals), instead of ``shares``: the shares are
            ``counts / sum(counts)`` and the counts are kept (``.counts``).

        Examples
        --------
        Three bands with a typical amount in each; the last band is open.

        >>> import funnelsim as fs
        >>> d = fs.DealSize.bands(
        ...     [0, 10_000, 30_000, float("inf")], [0.6, 0.3, 0.1], values=[5_000, 15_000, 40_000]
        ... )
        >>> round(d.mean)
        11500

        Without values a deal is uniform inside its band:

        >>> u = fs.DealSize.bands([0, 10, 30], [0.75, 0.25])
        >>> u.mean, u.per_deal
        (8.75, True)

        The decks' 108 past deals, by count (the values are assumptions):

        >>> deck = fs.DealSize.bands(
        ...     [0, 10_000, 30_000, 50_000, float("inf")],
        ...     counts=[61, 30, 12, 5],
        ...     values=[5_000, 15_000, 35_000, 55_000],
        ... )
        >>> [round(100 * s, 1) for s in deck.shares]
        [56.5, 27.8, 11.1, 4.6]
        """
        e = [_band_edge(i, x) for i, x in enumerate(check_sequence("edges", edges))]
        if (shares is None) == (counts is None):
            raise FunnelsimValueError("error.bands_counts_or_shares")
        kept: tuple[float, ...] = ()
        if counts is not None:
            counts = check_sequence("counts", counts)
            kept = tuple(
                check_nonnegative(f"counts[{i}]", x, integer=True) for i, x in enumerate(counts)
            )
            if kept and sum(kept) == 0:
                raise FunnelsimValueError("error.bands_no_deals", value=list(kept))
            shares = [x / sum(kept) for x in kept] if kept else []
        shares = check_sequence("shares", shares)
        s = [check_nonnegative(f"shares[{i}]", x) for i, x in enumerate(shares)]
        if len(e) != len(s) + 1 or len(s) == 0:
            raise FunnelsimValueError("error.bands_shape", n_edges=len(e), n_shares=len(s))
        if any(b <= a for a, b in itertools.pairwise(e)) or e[0] == math.inf:
            raise FunnelsimValueError("error.bands_edges", value=list(edges))
        total = sum(s)
        if abs(total - 1) > 0.01:
            raise FunnelsimValueError("error.bands_shares", total=total)
        s = [x / total for x in s]
        if values is None:
            if not math.isfinite(e[-1]):
                raise FunnelsimValueError("error.bands_open", value=list(edges))
            v: tuple[float, ...] = ()
        else:
            values = check_sequence("values", values)
            v = tuple(check_nonnegative(f"values[{i}]", x) for i, x in enumerate(values))
            if len(v) != len(s):
                raise FunnelsimValueError("error.bands_values", n_values=len(v), n_shares=len(s))
            for i, x in enumerate(v):
                if not (e[i] <= x <= e[i + 1]):
                    raise FunnelsimValueError(
                        "error.bands_value_outside", index=i, value=x, low=e[i], high=e[i + 1]
                    )
        return cls("bands", (), tuple(e), tuple(s), v, kept)

    @classmethod
    def coerce(cls, deal_size: DealSize | float | None) -> DealSize | None:
        """``None`` stays None (revenue counted in deals); a number is a fixed size.

        Examples
        --------
        >>> import funnelsim as fs
        >>> fs.DealSize.coerce(2_000)
        DealSize.fixed(2000)
        >>> fs.DealSize.coerce(None) is None
        True
        """
        if deal_size is None or isinstance(deal_size, DealSize):
            return deal_size
        return cls.fixed(deal_size)

    def scaled(self, factor: float) -> DealSize:
        """The same deal-size model with every amount times ``factor`` (same cv).

        Raising the average deal size (件均) by 10 % is ``scaled(1.1)``: band
        edges and values move with it, the band shares stay.

        Examples
        --------
        >>> import funnelsim as fs
        >>> fs.DealSize.gamma(10_000, cv=0.5).scaled(1.1)
        DealSize.gamma(mean=11000, cv=0.5)
        >>> fs.DealSize.bands([0, 10, 30], counts=[3, 1]).scaled(2).mean
        17.5
        """
        f = check_nonnegative("factor", factor)
        if self.kind == "fixed":
            return DealSize.fixed(self.params[0] * f)
        if self.kind in ("gamma", "lognormal"):
            mean, cv = self.params
            return DealSize(self.kind, (mean * f, cv)) if f > 0 else DealSize.fixed(0.0)
        if f == 0:
            return DealSize.fixed(0.0)
        return DealSize(
            "bands",
            (),
            tuple(x * f for x in self.edges),
            self.shares,
            tuple(x * f for x in self.values),
            self.counts,
        )

    # -------------------------------------------------------------- moments
    @property
    def mean(self) -> float:
        """Mean deal size."""
        if self.kind in ("fixed", "gamma", "lognormal"):
            return float(self.params[0])
        return float(np.dot(self.shares, self._band_means()))

    @property
    def var(self) -> float:
        """Variance of one deal."""
        if self.kind == "fixed":
            return 0.0
        if self.kind in ("gamma", "lognormal"):
            mean, cv = self.params
            return float((mean * cv) ** 2)
        s = np.asarray(self.shares)
        second = self._band_second_moments()
        return float(max(s @ second - self.mean**2, 0.0))

    @property
    def cv(self) -> float:
        """Coefficient of variation of one deal (0 when the mean is 0)."""
        return math.sqrt(self.var) / self.mean if self.mean > 0 else 0.0

    def _band_means(self) -> np.ndarray:
        if self.values:
            return np.asarray(self.values)
        e = np.asarray(self.edges)
        return (e[:-1] + e[1:]) / 2

    def _band_second_moments(self) -> np.ndarray:
        if self.values:
            return np.asarray(self.values) ** 2
        e = np.asarray(self.edges)
        a, b = e[:-1], e[1:]
        return (a * a + a * b + b * b) / 3

    @property
    def per_deal(self) -> bool:
        """True when the simulator draws one random number per deal."""
        return self.kind == "lognormal" or (self.kind == "bands" and not self.values)

    # ------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` individual deal sizes.

        Examples
        --------
        >>> import numpy as np
        >>> import funnelsim as fs
        >>> rng = np.random.default_rng(7)
        >>> fs.DealSize.gamma(100, cv=0.5).sample(rng, 3).round(1).tolist()
        [91.7, 79.2, 71.6]
        """
        if self.kind == "fixed":
            return np.full(size, self.params[0])
        if self.kind == "gamma":
            mean, cv = self.params
            return rng.gamma(1 / cv**2, mean * cv**2, size)
        if self.kind == "lognormal":
            mean, cv = self.params
            sigma2 = math.log1p(cv**2)
            return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), size)
        band = rng.choice(len(self.shares), size=size, p=self.shares)
        if self.values:
            return np.asarray(self.values)[band]
        e = np.asarray(self.edges)
        return rng.uniform(e[band], e[band + 1])

    def sample_sums(self, rng: np.random.Generator, deals: np.ndarray) -> np.ndarray:
        """Total amount of ``deals[i]`` deals, for every cell of an integer array.

        Examples
        --------
        >>> import numpy as np
        >>> import funnelsim as fs
        >>> rng = np.random.default_rng(7)
        >>> fs.DealSize.fixed(100).sample_sums(rng, np.array([0, 1, 3])).tolist()
        [0.0, 100.0, 300.0]
        >>> fs.DealSize.gamma(100, cv=0.5).sample_sums(rng, np.array([0, 1, 3])).round(1).tolist()
        [0.0, 91.7, 268.9]
        """
        deals = np.asarray(deals, dtype=np.int64)
        if self.kind == "fixed":
            return deals * float(self.params[0])
        if self.kind == "gamma":
            mean, cv = self.params
            return rng.gamma(deals / cv**2, mean * cv**2)
        if self.kind == "bands" and self.values:
            by_band = rng.multinomial(deals, self.shares)
            return by_band @ np.asarray(self.values, dtype=float)
        flat = deals.ravel()
        owner = np.repeat(np.arange(flat.size), flat)
        sums = np.bincount(owner, weights=self.sample(rng, owner.size), minlength=flat.size)
        return sums.reshape(deals.shape)

    def sum_sf(self, deals: np.ndarray, amount: float) -> np.ndarray:
        """``P(sum of deals[i] deals >= amount)`` for each entry of ``deals``.

        Exact for ``fixed`` and ``gamma``. For ``lognormal`` and ``bands`` the
        sum is approximated by a gamma with the same mean and variance (the
        accuracy is stated in :func:`funnelsim.theory.prob_reach` and checked
        against simulation in ``tests/test_theory.py``).

        Examples
        --------
        Chance that 1, 2 or 3 deals add up to at least 250:

        >>> import funnelsim as fs
        >>> fs.DealSize.fixed(100).sum_sf([1, 2, 3], 250).tolist()
        [0.0, 0.0, 1.0]
        >>> fs.DealSize.gamma(100, cv=0.5).sum_sf([1, 2, 3], 250).round(3).tolist()
        [0.01, 0.22, 0.697]
        """
        deals = np.asarray(deals, dtype=float)
        if amount <= 0:
            return np.ones_like(deals)
        if self.kind == "fixed" or self.cv == 0:
            return (deals * self.mean >= amount * (1 - 1e-12)).astype(float)
        shape = 1 / self.cv**2
        scale = self.mean * self.cv**2
        out = np.zeros_like(deals)
        pos = deals > 0
        # P(Gamma(k * shape, scale) >= amount), the regularised upper incomplete gamma:
        # what stats.gamma.sf computes, without its per-call overhead (a hot loop in the apps).
        out[pos] = special.gammaincc(deals[pos] * shape, amount / scale)
        return out

    def __repr__(self) -> str:
        if self.kind == "fixed":
            return f"DealSize.fixed({self.params[0]:g})"
        if self.kind in ("gamma", "lognormal"):
            return f"DealSize.{self.kind}(mean={self.params[0]:g}, cv={self.params[1]:g})"
        vals = f", values={list(self.values)}" if self.values else ""
        if self.counts:
            counts = [int(c) for c in self.counts]
            return f"DealSize.bands(edges={list(self.edges)}, counts={counts}{vals})"
        shares = [round(s, 4) for s in self.shares]
        return f"DealSize.bands(edges={list(self.edges)}, shares={shares}{vals})"
