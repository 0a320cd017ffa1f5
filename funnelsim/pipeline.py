"""Weighted pipelines: a snapshot of open deals and what it really promises.

A *pipeline snapshot* lists the open deals, each with an amount and a stage
whose number is its chance of closing (DOMAIN.md §1: 25 %, 50 %, 75 %, 90 %).
The decks' weighted forecast is ``Σ amount × p``; it is the *expected* total,
not a promise. Each deal closes or not (an independent Bernoulli trial), so

* the number of deals that close is Poisson-binomial: :meth:`Pipeline.count_pmf`
  computes it exactly (the standard dynamic programme, one deal at a time);
* the amount that closes has an exact distribution too, computed by
  enumerating every outcome (up to 20 deals) or by convolution on a grid
  (amounts with up to 6 decimals, scaled to whole numbers of their common
  unit, such as cents; at most 2 million grid points), else by Monte Carlo
  (:meth:`Pipeline.amount_distribution`, whose ``attrs`` say why).

:func:`read_pipeline` reads snapshots with the same rules as
:func:`funnelsim.read_log` (encodings, one :class:`~funnelsim.LogError`
naming file, rows, column and fix, ``errors="drop"`` with a report; the file
is never changed). :func:`calibration` checks stated probabilities against
history (did deals at the 25 % stage close 25 % of the time?). The grade
ladder's step-up rates are in :mod:`funnelsim.ladder`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ._deals import DEFAULT_PROBABILITIES, open_deals, read_probabilities
from ._moved import moved_names
from ._problems import (
    Problems,
    amounts,
)
from ._reader import (
    ERRORS,
    LogError,
    as_list,
    choice,
    empty_dropped,
    kept_values,
    label_text,
    labels,
    quote,
    repeats,
)
from ._validate import check_choice, check_count, check_nonnegative, check_rng
from .diagnose import diagnose_pipeline
from .forecasting import check_quantiles, quantile_name
from .i18n import FunnelsimValueError, t
from .reliability import Calibration

__all__ = ["DEFAULT_PROBABILITIES", "Pipeline", "read_pipeline"]

# Names that moved elsewhere in the restructure still resolve here, with a warning.
__getattr__ = moved_names(__name__)


_PIPELINE_FIELDS = ("deal", "stage", "amount", "probability", "rep", "source", "segment", "close")
_EXACT_OUTCOMES = 20  # enumerate every outcome up to 2**20 (about a million)
_GRID_WORK = 50_000_000  # deals x grid cells for the exact convolution
_GRID_POINTS = 2_000_000  # grid points (distinct totals) of the exact convolution
_DECIMALS = 6  # amounts with up to 6 decimals are scaled to whole numbers (cents: 2)
_MC_REPS = 100_000
_BLOCK = 4_000_000


# --------------------------------------------------------------- loading


def _duplicates(problems, frame, column, what) -> np.ndarray:
    """A second valid row with the same id (of a deal): a problem; returns each row's id."""
    codes, names = labels(frame[column])
    dup, first_of = repeats(codes, (codes >= 0) & ~problems.mask())
    problems.add(
        dup,
        column,
        "pipeline.reason.duplicate",
        lambda p: {
            "what": what,
            "value": quote(names[codes[p]]),
            "row": int(problems.src.rownum[first_of[p]]),
        },
        "pipeline.fix.duplicate",
        what=what,
    )
    return label_text(codes, names)


# --------------------------------------------------------------- pipeline
def read_pipeline(
    source: str | os.PathLike | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    stages: Sequence[str] | None = None,
    probabilities: Mapping[str, float] | Sequence[float] | Calibration | None = None,
    encoding: str | None = None,
    errors: str = "raise",
    sheet: str | int | None = None,
) -> Pipeline:
    """Read a snapshot of open deals (amount and stage) into a :class:`Pipeline`.

    Parameters
    ----------
    source : path or pandas.DataFrame
        CSV (UTF-8, UTF-8 with BOM or GB18030/GBK, detected), ``.xlsx``,
        Parquet, or a DataFrame; one row per open deal. Read, never changed.
    columns : mapping, optional
        The file's column for each field: ``amount`` (required), ``stage``
        and/or ``probability`` (one of them is required), ``deal`` (an id;
        each at most once), ``rep``, ``source``, ``segment``, ``close``
        (expected close date, kept as written). A field not named here is
        taken from a column with its own name, if any.
    stages : sequence of str, optional
        The stage labels in funnel order (earliest first), with
        ``probabilities`` as a list of the same length; alone, the labels
        must be percentages themselves.
    probabilities : mapping, sequence or Calibration, optional
        Chance of closing of each stage: a mapping from stage label to
        probability, a list matching ``stages``, or a :class:`Calibration`
        (the close rates observed in history). By default a stage's label
        is its probability: ``"25%"``, ``"50 %"``, ``"0.75"`` or ``"90"``
        (numbers above 1 are percentages), the decks' stages being 25, 50,
        75 and 90 % (:data:`DEFAULT_PROBABILITIES`). Without them a
        ``probability`` column, if any, gives each deal's own.
    encoding : str, optional
        Text encoding of a CSV file (detected by default).
    errors : {"raise", "drop"}
        ``"raise"``: every invalid row in one :class:`~funnelsim.LogError`.
        ``"drop"``: invalid rows left out and listed in ``Pipeline.dropped``.
    sheet : str or int, optional
        A workbook's sheet, by name or 0-based position (default: the first).

    Returns
    -------
    Pipeline

    Raises
    ------
    LogError
        Naming the file, the rows (the header is row 1), the column and the
        fix: missing columns, empty or negative amounts, unknown stages,
        probabilities outside 0-100 %, repeated deal ids, an empty file.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> deals = pd.DataFrame({"deal": ["D1", "D2", "D3"],
    ...                       "stage": ["25%", "50%", "90%"],
    ...                       "amount": [1_000_000, 200_000, 50_000]})
    >>> pipe = fs.read_pipeline(deals)
    >>> pipe.weighted      # 250,000 + 100,000 + 45,000
    395000.0
    >>> pipe.count_pmf().round(4).tolist()   # 0, 1, 2 or 3 deals close
    [0.0375, 0.3875, 0.4625, 0.1125]
    """
    mode = choice("errors", errors, ERRORS)
    chances = (
        probabilities.probabilities if isinstance(probabilities, Calibration) else probabilities
    )
    src, mapping, cols = open_deals(
        source, columns, _PIPELINE_FIELDS, "pipeline", "amount", stages, chances, encoding, sheet
    )
    frame = src.frame
    problems = Problems(src)
    prob, label = read_probabilities(problems, frame, cols, mapping)
    amount, empty = amounts(problems, frame, cols["amount"])
    problems.add(
        empty, cols["amount"], "pipeline.reason.no_amount", None, "pipeline.fix.no_amount"
    )
    ids = _duplicates(problems, frame, cols["deal"], "deal") if "deal" in cols else None
    keep = ~problems.mask()
    problems.finish(mode, keep, what=t("pipeline.what.snapshot"))
    dropped = problems.dropped()
    rows = np.flatnonzero(keep)
    deals = pd.DataFrame(
        {
            "deal": ids[rows] if ids is not None else src.rownum[rows].astype(str).astype(object),
            "stage": label[rows],
            "amount": amount[rows],
            "probability": prob[rows],
        }
    )
    for key, values in kept_values(
        frame, cols, ("rep", "source", "segment", "close"), rows
    ).items():
        deals[key] = values
    if isinstance(probabilities, Calibration):
        origin = "fitted"
    elif probabilities is not None:
        origin = "given"
    else:
        origin = "column" if mapping is None and "probability" in cols else "stage"
    return Pipeline(deals, name=src.name, dropped=dropped, origin=origin)


@dataclass(frozen=True, repr=False, eq=False)
class Pipeline:
    """A snapshot of open deals, each closing independently with its stage's probability.

    Attributes
    ----------
    deals : pandas.DataFrame
        One row per deal: ``deal``, ``stage``, ``amount``, ``probability``
        (and ``rep``, ``source``, ``segment``, ``close`` when the file has
        them).
    name : str
        Where the snapshot came from.
    dropped : pandas.DataFrame
        Rows left out with ``errors="drop"`` (``row``, ``column``, ``reason``;
        from a Parquet folder of several files, also ``file`` and ``file_row``).
    origin : str
        Where the probabilities came from: ``"stage"`` (the labels),
        ``"given"``, ``"fitted"`` (a Calibration) or ``"column"``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> pipe = fs.datasets.load_pipeline()
    >>> pipe.n_deals, round(pipe.weighted), pipe.origin
    (80, 2726335, 'stage')
    >>> pipe.deals[["deal", "stage", "amount", "probability"]].head(2)
       deal stage   amount  probability
    0  P001   50%  17100.0         0.50
    1  P002   75%  66700.0         0.75
    """

    deals: pd.DataFrame
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=empty_dropped)
    origin: str = "stage"

    @classmethod
    def from_deals(
        cls,
        amounts: Sequence[float],
        probabilities: Sequence[float],
        *,
        stages: Sequence[str] | None = None,
    ) -> Pipeline:
        """A pipeline from plain lists (amounts and probabilities, one per deal).

        >>> import funnelsim as fs
        >>> fs.Pipeline.from_deals([100, 200], [0.5, 0.25]).weighted
        100.0
        """
        values = as_list(probabilities, "probabilities")
        for i, value in enumerate(values):  # numbers here are chances: 0.25, not 25
            if isinstance(value, str):
                continue
            try:
                p = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                p = math.nan
            if not 0.0 <= p <= 1.0:
                raise LogError("pipeline.error.deal_probability", index=i, value=repr(value))
        amounts = as_list(amounts, "amounts")
        if len(amounts) != len(values):
            raise LogError(
                "pipeline.error.deals_length", n_amounts=len(amounts), n_values=len(values)
            )
        frame = pd.DataFrame({"amount": amounts, "probability": values})
        if stages is not None:
            labels = as_list(stages, "stages")
            if len(labels) != len(values):
                raise LogError(
                    "pipeline.error.deals_length_stages", n_stages=len(labels), n=len(values)
                )
            frame["stage"] = labels
        return read_pipeline(frame, columns={"amount": "amount", "probability": "probability"})

    # -------------------------------------------------------- arrays
    @property
    def amounts(self) -> np.ndarray:
        """Amount of each deal."""
        return self.deals["amount"].to_numpy(float)

    @property
    def probabilities(self) -> np.ndarray:
        """Chance of closing of each deal."""
        return self.deals["probability"].to_numpy(float)

    @property
    def n_deals(self) -> int:
        """Number of open deals."""
        return len(self.deals)

    @property
    def weighted(self) -> float:
        """The decks' weighted forecast ``Σ amount × p`` (exactly rounded sum)."""
        return math.fsum((self.amounts * self.probabilities).tolist())

    @property
    def expected_deals(self) -> float:
        """Expected number of deals that close, ``Σ p``."""
        return math.fsum(self.probabilities.tolist())

    # ------------------------------------------------------- counts
    def count_pmf(self) -> pd.Series:
        """Exact distribution of the number of deals that close (Poisson-binomial).

        The standard recursion, one deal at a time: after deal ``i`` the
        chance of ``k`` closed deals is ``P(k) (1 - p_i) + P(k - 1) p_i``.
        Every step mixes non-negative numbers, so no cancellation occurs.

        >>> import funnelsim as fs
        >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
        >>> pipe.count_pmf().round(4)
        deals
        0    0.0375
        1    0.3875
        2    0.4625
        3    0.1125
        Name: probability, dtype: float64
        """
        pmf = np.zeros(self.n_deals + 1)
        pmf[0] = 1.0
        for i, p in enumerate(self.probabilities):
            pmf[1 : i + 2] = pmf[1 : i + 2] * (1 - p) + pmf[: i + 1] * p
            pmf[0] *= 1 - p
        return pd.Series(
            pmf, index=pd.RangeIndex(self.n_deals + 1, name="deals"), name="probability"
        )

    # ------------------------------------------------------- amounts
    @cached_property
    def _exact(self) -> pd.DataFrame | str:
        """The exact distribution, or why there is none (``"decimals"`` or ``"grid"``)."""
        a, p = self.amounts, self.probabilities
        if self.n_deals <= _EXACT_OUTCOMES:
            return enumerate_amounts(a, p)
        found = _unit(a)
        if found is None:
            return "decimals"
        unit, decimals = found
        points = round(math.fsum(a.tolist()) / unit) + 1
        if points > _GRID_POINTS or self.n_deals * points > _GRID_WORK:
            return "grid"
        return convolve_amounts(a, p, unit, decimals=decimals)

    def amount_distribution(
        self,
        *,
        method: str = "auto",
        reps: int = _MC_REPS,
        rng: np.random.Generator | int | None = None,
    ) -> pd.DataFrame:
        """Distribution of the amount that closes: ``amount`` and ``probability``.

        Parameters
        ----------
        method : {"auto", "exact", "mc"}
            ``"exact"``: every outcome enumerated (up to 20 deals: 2**20
            outcomes), or, for more deals, the recursion of
            :meth:`count_pmf` on a grid of amounts: the amounts (with up to
            6 decimals, such as cents) are scaled to whole multiples of
            their common unit, and the grid may have at most 2 million
            points (the total over the unit, plus one) and deals x points
            at most 5e7. ``"mc"``: ``reps`` simulated snapshots, every
            deal closing or not; the probabilities are the shares observed.
            ``"auto"``: exact when possible, else Monte Carlo.
        reps : int
            Monte Carlo snapshots.
        rng : numpy.random.Generator, int or None
            Randomness of the Monte Carlo method (SPEC 7).

        Returns
        -------
        pandas.DataFrame
            Sorted distinct amounts and their probabilities; ``attrs``
            holds ``method`` (``"exact"`` or ``"mc"``), ``reps`` and
            ``fallback``: why ``"auto"`` fell back to Monte Carlo
            (``"grid"``: more grid points than the limits above;
            ``"decimals"``: amounts with more than 6 decimals), else None.

        Examples
        --------
        >>> import funnelsim as fs
        >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
        >>> dist = pipe.amount_distribution()
        >>> dist.attrs["method"]
        'exact'
        >>> dist
              amount  probability
        0        0.0       0.0375
        1    50000.0       0.3375
        2   200000.0       0.0375
        3   250000.0       0.3375
        4  1000000.0       0.0125
        5  1050000.0       0.1125
        6  1200000.0       0.0125
        7  1250000.0       0.1125
        >>> pipe.amount_distribution(method="mc", reps=2000, rng=1)["probability"].iloc[0]
        np.float64(0.048)

        Amounts in cents are exact too (41 deals: a grid of 0.01 steps):

        >>> cents = fs.Pipeline.from_deals([12.34] * 40 + [0.01], [0.5] * 41)
        >>> dist = cents.amount_distribution()
        >>> dist.attrs["method"], dist.attrs["fallback"], len(dist)
        ('exact', None, 82)
        >>> dist["amount"].iloc[[1, -1]].tolist()
        [0.01, 493.61]
        """
        method = check_choice("method", method, ("auto", "exact", "mc"))
        check_rng(rng)  # checked even when the exact answer needs no randomness
        exact = None if method == "mc" else self._exact
        if isinstance(exact, pd.DataFrame):
            out = exact.copy()
            out.attrs.update(method="exact", reps=None, fallback=None)
            return out
        if method == "exact":
            raise FunnelsimValueError("error.pipeline_exact", n=self.n_deals)
        reps = check_count("reps", reps, minimum=1)
        totals = self._simulate(reps, rng)
        values, counts = np.unique(totals, return_counts=True)
        out = pd.DataFrame({"amount": values, "probability": counts / reps})
        out.attrs.update(method="mc", reps=reps, fallback=exact)
        return out

    def _simulate(self, reps: int, rng) -> np.ndarray:
        gen = check_rng(rng)
        a, p = self.amounts, self.probabilities
        block = max(1, _BLOCK // max(self.n_deals, 1))
        out = np.empty(reps)
        for i in range(0, reps, block):
            m = min(block, reps - i)
            out[i : i + m] = (gen.random((m, self.n_deals)) < p) @ a
        return out

    def _distribution(self, measure: str, method: str, reps: int, rng) -> tuple[np.ndarray, ...]:
        measure = check_choice("measure", measure, ("amount", "deals"))
        if measure == "deals":
            pmf = self.count_pmf()
            return pmf.index.to_numpy(float), pmf.to_numpy()
        dist = self.amount_distribution(method=method, reps=reps, rng=rng)
        return dist["amount"].to_numpy(float), dist["probability"].to_numpy(float)

    def prob_reach(
        self,
        quota: float,
        *,
        measure: str = "amount",
        method: str = "auto",
        reps: int = _MC_REPS,
        rng: np.random.Generator | int | None = None,
    ) -> float:
        """Chance that the deals that close reach ``quota`` (``>=``).

        ``measure="amount"`` (money, see :meth:`amount_distribution`) or
        ``"deals"`` (the number of deals, exact).

        >>> import funnelsim as fs
        >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
        >>> round(pipe.prob_reach(pipe.weighted), 4)   # the weighted total: about 1 in 4
        0.25
        """
        quota = check_nonnegative("quota", quota)
        values, probs = self._distribution(measure, method, reps, rng)
        return float(min(math.fsum(probs[values >= quota * (1 - 1e-12)].tolist()), 1.0))

    def percentiles(
        self,
        q: Sequence[float] = (0.1, 0.5, 0.9),
        *,
        measure: str = "amount",
        method: str = "auto",
        reps: int = _MC_REPS,
        rng: np.random.Generator | int | None = None,
    ) -> pd.Series:
        """P10/P50/P90 (or other levels) of the amount (or number of deals) that closes.

        The level-``q`` percentile is the smallest value whose cumulative
        probability reaches ``q``: P10 is what you bank 9 times in 10.

        >>> import funnelsim as fs
        >>> fs.datasets.load_pipeline().percentiles()
        q10    2285700.0
        q50    2706100.0
        q90    3203700.0
        Name: amount, dtype: float64
        """
        qs = check_quantiles(q)
        values, probs = self._distribution(measure, method, reps, rng)
        cdf = np.cumsum(probs)
        idx = np.searchsorted(cdf, qs * (1 - 1e-12), side="left")
        out = values[np.minimum(idx, len(values) - 1)]
        return pd.Series(out, index=[quantile_name(x) for x in qs], name=measure)

    def by_stage(self) -> pd.DataFrame:
        """Per stage (least likely first): ``stage``, ``probability`` (mean), ``deals``,
        ``amount``, ``weighted``: the pipeline's shape (DOMAIN.md §4).

        >>> import funnelsim as fs
        >>> fs.datasets.load_pipeline().by_stage()
          stage  probability  deals     amount  weighted
        0   25%         0.25     27  1946900.0  486725.0
        1   50%         0.50     26  1529500.0  764750.0
        2   75%         0.75     14   788800.0  591600.0
        3   90%         0.90     13   981400.0  883260.0
        """
        frame = self.deals.assign(weighted=self.amounts * self.probabilities)
        out = (
            frame.groupby("stage", sort=False)
            .agg(
                probability=("probability", "mean"),
                deals=("amount", "size"),
                amount=("amount", "sum"),
                weighted=("weighted", "sum"),
            )
            .reset_index()
        )
        return out.sort_values("probability", kind="stable").reset_index(drop=True)

    def shape(self, *, by: str | None = None, **kwargs: Any) -> Any:
        """Healthy, top-heavy, empty or stuck in the middle (DOMAIN.md §4).

        :func:`funnelsim.diagnose_pipeline` on the number of deals at each
        stage (least likely stage first); ``kwargs`` are its thresholds.
        With ``by`` (a column such as ``"rep"``): a dict of diagnoses, one
        per group, every stage counted (zeros included).

        >>> import funnelsim as fs
        >>> pipe = fs.Pipeline.from_deals([10] * 9, [0.25] * 2 + [0.5] * 2 + [0.9] * 5,
        ...                               stages=["25%"] * 2 + ["50%"] * 2 + ["90%"] * 5)
        >>> pipe.shape().shape
        'top-heavy'
        """
        order = self.by_stage()["stage"].tolist()
        if by is None:
            counts = self.deals.groupby("stage", sort=False).size().reindex(order)
            return diagnose_pipeline(counts, **kwargs)
        if by not in self.deals.columns or by in ("amount", "probability", "stage"):
            choices = [c for c in ("rep", "source", "segment") if c in self.deals.columns]
            raise FunnelsimValueError(
                "error.pipeline_by", value=repr(by), choices=", ".join(choices) or "-"
            )
        out = {}
        for key, group in self.deals.groupby(by, sort=False):
            counts = group.groupby("stage").size().reindex(order, fill_value=0)
            out[key] = diagnose_pipeline(counts, **kwargs)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The deals with a ``weighted`` column (amount x probability).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> deals = pd.DataFrame({"deal": ["D1", "D2", "D3"], "stage": ["25%", "50%", "90%"],
        ...                       "amount": [1_000_000, 200_000, 50_000]})
        >>> fs.read_pipeline(deals).to_frame()
          deal stage     amount  probability  weighted
        0   D1   25%  1000000.0         0.25  250000.0
        1   D2   50%   200000.0         0.50  100000.0
        2   D3   90%    50000.0         0.90   45000.0
        """
        return self.deals.assign(weighted=self.amounts * self.probabilities)

    def __repr__(self) -> str:
        return t(
            "repr.pipeline",
            name=repr(self.name),
            deals=self.n_deals,
            amount=self.amounts.sum(),
            weighted=self.weighted,
            dropped=len(self.dropped),
        )


def enumerate_amounts(a: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Every one of the 2**n outcomes: its total and probability, merged by total."""
    n = len(a)
    outcome = np.arange(2**n, dtype=np.int64)
    total = np.zeros(2**n)
    prob = np.ones(2**n)
    for i in range(n):
        won = ((outcome >> i) & 1).astype(bool)
        total += np.where(won, a[i], 0.0)
        prob *= np.where(won, p[i], 1 - p[i])
    values, inverse = np.unique(total, return_inverse=True)
    probs = np.bincount(inverse.ravel(), weights=prob, minlength=len(values))
    keep = probs > 0
    return pd.DataFrame({"amount": values[keep], "probability": probs[keep]})


def _unit(a: np.ndarray) -> tuple[float, int] | None:
    """The largest unit every amount is a whole multiple of, and its decimals.

    Amounts are scaled by the smallest power of ten (up to ``10**6``) that
    makes every one a whole number (cents: 100), up to the rounding of the
    numbers as stored; the unit is then the scaled amounts' greatest common
    divisor over the scale: ``(unit, decimals)``. None when no scale up to
    6 decimals makes them whole (or they are too large to count exactly).
    """
    if a.size == 0:
        return 1.0, 0
    for decimals in range(_DECIMALS + 1):
        scaled = a * 10.0**decimals
        whole = np.round(scaled)
        if whole.max() > 2**52:
            return None
        if np.all(np.abs(scaled - whole) <= 16 * np.spacing(np.maximum(np.abs(scaled), 1.0))):
            g = max(int(np.gcd.reduce(whole.astype(np.int64))), 1)
            return g / 10**decimals, decimals
    return None


def convolve_amounts(
    a: np.ndarray, p: np.ndarray, unit: float, *, decimals: int = 0
) -> pd.DataFrame:
    """Exact distribution of the total on a grid: every amount a whole multiple of ``unit``.

    ``unit`` has at most ``decimals`` decimals (``0.01`` with ``decimals=2``);
    the totals are computed in whole multiples of ``unit`` and written back
    as ``cells * unit`` correctly rounded to ``decimals`` decimals.
    """
    scale = 10**decimals
    cell = round(unit * scale)  # the unit in 10**-decimals (a whole number)
    steps = np.round(a * scale / cell).astype(np.int64)
    pmf = np.zeros(int(steps.sum()) + 1)
    pmf[0] = 1.0
    top = 0
    for s, q in zip(steps, p, strict=True):
        new = pmf[: top + 1] * q
        pmf[: top + 1] *= 1 - q
        pmf[s : s + top + 1] += new
        top += s
    keep = np.flatnonzero(pmf > 0)
    return pd.DataFrame({"amount": keep * float(cell) / scale, "probability": pmf[keep]})


# ------------------------------------------------------------ calibration
