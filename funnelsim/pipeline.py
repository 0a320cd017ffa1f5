"""Weighted pipelines and the calibration of stage probabilities.

A *pipeline snapshot* lists the open deals, each with an amount and a stage
whose number is its chance of closing (DOMAIN.md §1: 25 %, 50 %, 75 %, 90 %).
The decks' weighted forecast is ``Σ amount × p``; it is the *expected* total,
not a promise. Each deal closes or not (an independent Bernoulli trial), so

* the number of deals that close is Poisson-binomial: :meth:`Pipeline.count_pmf`
  computes it exactly (the standard dynamic programme, one deal at a time);
* the amount that closes has an exact distribution too, computed by
  enumerating every outcome (up to 20 deals) or by convolution on a grid
  (whole amounts), else by Monte Carlo (:meth:`Pipeline.amount_distribution`).

:func:`read_pipeline` reads snapshots with the same rules as
:func:`funnelsim.read_log` (encodings, one :class:`~funnelsim.LogError`
naming file, rows, column and fix, ``errors="drop"`` with a report; the file
is never changed). :func:`calibration` checks stated probabilities against
history (did deals at the 25 % stage close 25 % of the time?). The grade
ladder's step-up rates are in :mod:`funnelsim.ladder`.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ._moved import moved_names
from ._reader import (
    ERRORS,
    FALSE,
    TRUE,
    LogError,
    Problems,
    Source,
    amounts,
    as_list,
    choice,
    empty_dropped,
    fields,
    kept_values,
    label_text,
    labels,
    quote,
    quoted,
    read_source,
    repeats,
    resolve,
    stage_names,
)
from ._validate import check_choice, check_count, check_nonnegative, check_rng, short, type_name
from .diagnose import diagnose_pipeline
from .forecasting import check_quantiles, quantile_name
from .i18n import FunnelsimTypeError, FunnelsimValueError, t
from .intervals import METHODS, check_level, interval

__all__ = [
    "DEFAULT_PROBABILITIES",
    "Calibration",
    "Pipeline",
    "calibration",
    "read_pipeline",
]

# Names that moved elsewhere in the restructure still resolve here, with a warning.
__getattr__ = moved_names(__name__)

#: The decks' stages and their chance of closing (DOMAIN.md §1).
DEFAULT_PROBABILITIES = {"25%": 0.25, "50%": 0.5, "75%": 0.75, "90%": 0.9}

_PIPELINE_FIELDS = ("deal", "stage", "amount", "probability", "rep", "source", "segment", "close")
_HISTORY_FIELDS = ("deal", "stage", "probability", "closed", "rep", "source", "segment", "amount")
_WON = TRUE | {"won", "win", "closed", "signed", "成交", "赢单"}
_LOST = FALSE | {"lost", "lose", "dead", "丢单", "输单"}
_EXACT_OUTCOMES = 20  # enumerate every outcome up to 2**20 (about a million)
_GRID_WORK = 50_000_000  # deals x grid cells for the exact convolution
_MC_REPS = 100_000
_BLOCK = 4_000_000
_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


# --------------------------------------------------------------- loading
def _percents(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Chances of closing from a column's labels, read with one convention per column.

    "25%" (or "25 %") is always 0.25. Bare numbers are fractions ("0.25") when
    none of the column's bare numbers is above 1, and percentages ("25") when
    one is; a fraction in a percentage column ("0.5" beside "75") is
    ambiguous. Returns the values (NaN where a label is not a chance, or is
    ambiguous) and the mask of the ambiguous labels.

    >>> values, mixed = _percents(["25%", "0.5", "1"])
    >>> values.tolist(), mixed.tolist()
    ([0.25, 0.5, 1.0], [False, False, False])
    >>> values, mixed = _percents(["25", "75", "0.5", "130"])
    >>> values.round(2).tolist(), mixed.tolist()
    ([0.25, 0.75, nan, nan], [False, False, True, False])
    """
    matches = [_PERCENT.match(str(x)) for x in labels]
    numbers = np.array([float(m.group(1)) if m else math.nan for m in matches], dtype=float)
    marked = np.array([bool(m and m.group(2)) for m in matches], dtype=bool)
    bare = ~marked & np.isfinite(numbers)
    percent_column = bool((bare & (numbers > 1)).any())
    values = np.where(marked | (bare & percent_column), numbers / 100, numbers)
    mixed = bare & percent_column & (numbers > 0) & (numbers < 1)
    values[mixed | ~((values >= 0) & (values <= 1))] = math.nan
    return values, mixed


def _stage_probabilities(stages: object, probabilities: object) -> dict[str, float] | None:
    """The mapping from stage label to probability, or None: read from the labels."""
    if isinstance(probabilities, Calibration):
        probabilities = probabilities.probabilities
    if probabilities is None:
        if stages is None:
            return None
        names = stage_names(stages)
        values, mixed = _percents(names)
        if mixed.any():
            raise LogError("pipeline.error.stages_mixed", value=quote(names[int(mixed.argmax())]))
        out = dict(zip(names, values.tolist(), strict=True))
        bad = [n for n, p in out.items() if math.isnan(p)]
        if bad:
            raise LogError("pipeline.error.stage_not_percent", value=quote(bad[0]))
        return out
    if isinstance(probabilities, Mapping):
        pairs = list(probabilities.items())
    else:
        if stages is None:
            raise FunnelsimTypeError(
                "pipeline.error.probabilities_type",
                name="probabilities",
                value=short(probabilities),
                type=type_name(probabilities),
            )
        values = as_list(probabilities, "probabilities")
        names = stage_names(stages)
        if len(values) != len(names):
            raise LogError(
                "pipeline.error.probabilities_length", n_stages=len(names), n_values=len(values)
            )
        pairs = list(zip(names, values, strict=True))
    out = {}
    for name, value in pairs:
        if not isinstance(name, str) or not name.strip():
            raise LogError("log.error.stage_name", value=repr(name))
        try:
            p = float(value)
        except (TypeError, ValueError):
            p = math.nan
        if not 0.0 <= p <= 1.0:
            raise LogError(
                "pipeline.error.probability_value", stage=quote(name), value=repr(value)
            )
        out[name.strip()] = p
    if stages is not None:
        missing = [n for n in stage_names(stages) if n not in out]
        if missing:
            raise LogError("pipeline.error.stage_no_probability", value=quote(missing[0]))
    return out


def _flag_mixed(problems, column: str, codes, mixed: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Flag the rows whose label is a fraction in a column of percentages (see
    :func:`_percents`; ``codes`` index the column's labels, -1 for empty cells)."""
    has = codes >= 0
    ambiguous = np.zeros(len(codes), dtype=bool)
    ambiguous[has] = mixed[codes[has]]
    problems.add(ambiguous, column, "pipeline.reason.mixed", quoted(text), "pipeline.fix.mixed")
    return ambiguous


def _read_probabilities(problems, frame, cols, mapping) -> tuple[np.ndarray, np.ndarray]:
    """Each row's stated probability, and its stage label (or the probability's text)."""
    if mapping is not None or "probability" not in cols:
        return _stage_probabilities_of_rows(problems, frame, cols["stage"], mapping)
    column = cols["probability"]
    codes, names = labels(frame[column])
    values, mixed = _percents(names)
    has = codes >= 0
    prob = np.full(len(frame), np.nan)
    prob[has] = values[codes[has]]
    text = label_text(codes, names)
    problems.add(~has, column, "pipeline.reason.no_probability", None, "pipeline.fix.probability")
    ambiguous = _flag_mixed(problems, column, codes, mixed, text)
    problems.add(
        has & np.isnan(prob) & ~ambiguous,
        column,
        "pipeline.reason.bad_probability",
        quoted(text),
        "pipeline.fix.probability",
    )
    if "stage" in cols:
        label = label_text(*labels(frame[cols["stage"]]))
    else:
        label = np.full(len(frame), "", dtype=object)
    empty = label == ""
    label[empty] = [f"{100 * p:g}%" if np.isfinite(p) else "" for p in prob[empty]]
    return prob, label


def _stage_probabilities_of_rows(
    problems, frame, column, mapping
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's probability from its stage label (read as a percentage without
    ``mapping``), and the label."""
    codes, names = labels(frame[column])
    has = codes >= 0
    label = label_text(codes, names)
    if mapping is None:
        values, mixed = _percents(names)
    else:
        values = np.array([mapping.get(x, np.nan) for x in names], dtype=float)
        mixed = np.zeros(len(names), dtype=bool)
    prob = np.full(len(frame), np.nan)
    prob[has] = values[codes[has]]
    if mapping is None:  # the fix says how to write a stage as a percentage
        defaults = ", ".join(DEFAULT_PROBABILITIES)
        problems.add(
            ~has,
            column,
            "log.reason.no_stage",
            None,
            "pipeline.fix.stage_percent",
            defaults=defaults,
        )
        problems.add(
            has & np.isnan(prob) & ~_flag_mixed(problems, column, codes, mixed, label),
            column,
            "pipeline.reason.unknown_stage",
            quoted(label),
            "pipeline.fix.stage_percent",
            defaults=defaults,
        )
    else:  # the fix names the stages of probabilities=
        choices = ", ".join(map(quote, mapping))
        problems.add(
            ~has, column, "log.reason.no_stage", None, "pipeline.fix.stage_known", choices=choices
        )
        problems.add(
            has & np.isnan(prob),
            column,
            "pipeline.reason.unknown_stage",
            quoted(label),
            "pipeline.fix.stage_known",
            choices=choices,
        )
    return prob, label


def _open_deals(
    source, columns, allowed, what, needed, stages, probabilities, encoding
) -> tuple[Source, dict[str, float] | None, dict[str, str]]:
    """Arguments checked, the file read and its columns found: the source, the stage
    probabilities (None: from the stage labels or a probability column) and the columns.
    ``needed`` is the column that every file must have besides the chances."""
    given = fields(columns, allowed, what)
    mapping = _stage_probabilities(stages, probabilities)
    src = read_source(source, encoding=encoding)
    if mapping is None:
        cols = resolve(src, allowed, given, (needed,), one_of=("stage", "probability"))
    else:
        cols = resolve(src, allowed, given, (needed, "stage"))
    return src, mapping, cols


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
    src, mapping, cols = _open_deals(
        source, columns, _PIPELINE_FIELDS, "pipeline", "amount", stages, probabilities, encoding
    )
    frame = src.frame
    problems = Problems(src)
    prob, label = _read_probabilities(problems, frame, cols, mapping)
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
        Rows left out with ``errors="drop"`` (``row``, ``column``, ``reason``).
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
    def _exact(self) -> pd.DataFrame | None:
        a, p = self.amounts, self.probabilities
        if self.n_deals <= _EXACT_OUTCOMES:
            return enumerate_amounts(a, p)
        unit = _unit(a)
        if unit is not None and self.n_deals * (a.sum() / unit + 1) <= _GRID_WORK:
            return convolve_amounts(a, p, unit)
        return None

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
            outcomes), or, for more deals with amounts that are whole
            multiples of one unit (whole currency units), the recursion of
            :meth:`count_pmf` on a grid of amounts (when deals x grid cells
            stay under 5e7). ``"mc"``: ``reps`` simulated snapshots, every
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
            holds ``method`` (``"exact"`` or ``"mc"``) and ``reps``.

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
        """
        method = check_choice("method", method, ("auto", "exact", "mc"))
        check_rng(rng)  # checked even when the exact answer needs no randomness
        if method != "mc" and self._exact is not None:
            out = self._exact.copy()
            out.attrs.update(method="exact", reps=None)
            return out
        if method == "exact":
            raise FunnelsimValueError("error.pipeline_exact", n=self.n_deals)
        reps = check_count("reps", reps, minimum=1)
        totals = self._simulate(reps, rng)
        values, counts = np.unique(totals, return_counts=True)
        out = pd.DataFrame({"amount": values, "probability": counts / reps})
        out.attrs.update(method="mc", reps=reps)
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


def _unit(a: np.ndarray) -> float | None:
    """The largest whole unit every amount is a multiple of (None for fractional amounts)."""
    if not np.all(a == np.round(a)) or a.max(initial=0) > 2**52:
        return None
    g = int(np.gcd.reduce(a.astype(np.int64))) if a.size else 1
    return float(max(g, 1))


def convolve_amounts(a: np.ndarray, p: np.ndarray, unit: float) -> pd.DataFrame:
    steps = (a / unit).astype(np.int64)
    pmf = np.zeros(int(steps.sum()) + 1)
    pmf[0] = 1.0
    top = 0
    for s, q in zip(steps, p, strict=True):
        new = pmf[: top + 1] * q
        pmf[: top + 1] *= 1 - q
        pmf[s : s + top + 1] += new
        top += s
    keep = np.flatnonzero(pmf > 0)
    return pd.DataFrame({"amount": keep * unit, "probability": pmf[keep]})


# ------------------------------------------------------------ calibration
@dataclass(frozen=True, repr=False, eq=False)
class Calibration:
    """Stated stage probabilities against what history shows: from :func:`calibration`.

    Attributes
    ----------
    table : pandas.DataFrame
        The reliability table, one row per probability bin: ``bin``,
        ``stated`` (mean stated probability), ``n`` (deals), ``closed``,
        ``observed`` (closed / n), ``low``, ``high`` (interval of the
        observed rate, :func:`funnelsim.proportion_ci`), ``gap`` (observed
        - stated). A well-calibrated stage has its ``stated`` inside
        ``[low, high]``.
    by_stage : pandas.DataFrame or None
        The same per stage label (when the history has stages).
    deals : pandas.DataFrame
        One row per deal: ``stage``, ``stated``, ``closed`` (bool).
    brier : float
        Brier score: the mean of ``(stated - closed)^2`` over deals (0 is
        perfect; always saying the base rate scores ``base_rate (1 -
        base_rate)``).
    base_rate : float
        Share of all deals that closed.
    confidence_level, method
        Of the intervals.
    name : str
    dropped : pandas.DataFrame

    Examples
    --------
    >>> import funnelsim as fs
    >>> cal = fs.calibration(fs.datasets.load_deal_history())
    >>> round(cal.brier, 4), round(cal.base_rate, 3)
    (0.1965, 0.4)
    >>> cal.table[["bin", "n", "closed", "observed", "gap"]].round(3)   # every stage overstated
       bin    n  closed  observed    gap
    0  25%  400      80     0.200 -0.050
    1  50%  250      99     0.396 -0.104
    2  75%  150      96     0.640 -0.110
    3  90%  100      85     0.850 -0.050
    """

    table: pd.DataFrame
    by_stage: pd.DataFrame | None
    deals: pd.DataFrame
    brier: float
    base_rate: float
    confidence_level: float
    method: str
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=empty_dropped)

    @property
    def probabilities(self) -> dict[str, float]:
        """Observed close rate per stage label: pass to ``read_pipeline(probabilities=...)``."""
        if self.by_stage is None:
            raise FunnelsimValueError("error.calibration_no_stages")
        return dict(
            zip(self.by_stage["stage"], self.by_stage["observed"].astype(float), strict=True)
        )

    def to_frame(self) -> pd.DataFrame:
        """A copy of the reliability table.

        >>> import funnelsim as fs
        >>> fs.calibration(fs.datasets.load_deal_history()).to_frame().round(3)
           bin  stated    n  closed  observed    low   high    gap
        0  25%    0.25  400      80     0.200  0.164  0.242 -0.050
        1  50%    0.50  250      99     0.396  0.337  0.458 -0.104
        2  75%    0.75  150      96     0.640  0.561  0.712 -0.110
        3  90%    0.90  100      85     0.850  0.767  0.907 -0.050
        """
        return self.table.copy()

    def __repr__(self) -> str:
        lines = [
            t(
                "repr.calibration.head",
                name=repr(self.name),
                deals=len(self.deals),
                brier=self.brier,
            )
        ]
        for row in self.table.itertuples(index=False):
            lines.append(
                t(
                    "repr.calibration.row",
                    stated=row.stated,
                    closed=row.closed,
                    n=row.n,
                    observed=row.observed,
                    low=row.low,
                    high=row.high,
                )
            )
        return "\n".join(lines) + ")"


def calibration(
    history: str | os.PathLike | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    stages: Sequence[str] | None = None,
    probabilities: Mapping[str, float] | Sequence[float] | None = None,
    bins: int | Sequence[float] | None = None,
    confidence_level: float = 0.95,
    method: str = "wilson",
    encoding: str | None = None,
    errors: str = "raise",
) -> Calibration:
    """Did deals at the 25 % stage close about 25 % of the time? Reliability table and Brier score.

    Parameters
    ----------
    history : path or pandas.DataFrame
        One row per past deal that is decided (closed or lost): ``closed``
        (yes/no, won/lost, 1/0, true/false, 是/否) and its stated chance,
        from ``stage`` (read as in :func:`read_pipeline`) or a
        ``probability`` column. ``deal``, ``rep``, ``amount`` are kept.
    columns, stages, probabilities, encoding, errors
        As in :func:`read_pipeline`.
    bins : int or sequence of float, optional
        Default: one bin per distinct stated probability (the stages), or 10
        equal bins when there are more than 20 distinct values. An integer:
        that many equal bins on [0, 1]; a sequence: the bin edges.
    confidence_level : float, default 0.95
    method : str, default "wilson"
        Interval method of the observed rates (:func:`funnelsim.proportion_ci`).

    Returns
    -------
    Calibration

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> history = pd.DataFrame({"stage": ["25%"] * 8 + ["75%"] * 4,
    ...                         "closed": ["no"] * 6 + ["yes"] * 2 + ["yes"] * 3 + ["no"]})
    >>> cal = fs.calibration(history)
    >>> cal.to_frame()[["bin", "n", "closed", "observed"]]
       bin  n  closed  observed
    0  25%  8       2      0.25
    1  75%  4       3      0.75
    >>> cal.brier      # (6 x 0.25^2 + 2 x 0.75^2 + 3 x 0.25^2 + 0.75^2) / 12
    0.1875
    """
    mode = choice("errors", errors, ERRORS)
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    src, mapping, cols = _open_deals(
        history, columns, _HISTORY_FIELDS, "history", "closed", stages, probabilities, encoding
    )
    frame = src.frame
    problems = Problems(src)
    prob, label = _read_probabilities(problems, frame, cols, mapping)
    closed = _read_closed(problems, frame, cols["closed"])
    keep = ~problems.mask()
    problems.finish(mode, keep, what=t("pipeline.what.history"))
    dropped = problems.dropped()
    rows = np.flatnonzero(keep)
    p, y = prob[rows], closed[rows]
    deals = pd.DataFrame({"stage": label[rows], "stated": p, "closed": y})
    for key, values in kept_values(frame, cols, ("deal", "rep", "amount"), rows).items():
        deals[key] = values
    table = _reliability(deals, _bin_index(p, bins), level, method)
    has_stage = "stage" in cols
    by_stage = None
    if has_stage:
        order = deals.groupby("stage", sort=False)["stated"].mean().sort_values(kind="stable")
        codes = pd.Categorical(deals["stage"], categories=list(order.index)).codes
        by_stage = _reliability(deals, (codes, list(order.index)), level, method)
        by_stage = by_stage.rename(columns={"bin": "stage"})
    brier = float(np.mean((p - y) ** 2))
    return Calibration(
        table, by_stage, deals, brier, float(y.mean()), level, method, src.name, dropped
    )


def _read_closed(problems, frame, column) -> np.ndarray:
    codes, names = labels(frame[column])
    lower = np.array([str(x).lower() for x in names], dtype=object)
    yes = np.array([x in _WON for x in lower], dtype=bool)
    no = np.array([x in _LOST for x in lower], dtype=bool)
    has = codes >= 0
    out = np.zeros(len(codes), dtype=bool)
    out[has] = yes[codes[has]]
    bad = has.copy()
    bad[has] = ~(yes | no)[codes[has]]
    text = label_text(codes, names)
    problems.add(~has, column, "pipeline.reason.no_closed", None, "pipeline.fix.closed")
    problems.add(bad, column, "pipeline.reason.bad_closed", quoted(text), "pipeline.fix.closed")
    return out


def _bin_index(p: np.ndarray, bins: object) -> tuple[np.ndarray, list[str]]:
    distinct = np.unique(p)
    if bins is None and len(distinct) <= 20:
        codes = np.searchsorted(distinct, p)
        return codes, [f"{100 * x:g}%" for x in distinct]
    if bins is None:
        bins = 10
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        count = check_count("bins", bins, minimum=1)
        edges = np.linspace(0.0, 1.0, count + 1)
    else:
        if isinstance(bins, str | bytes | bool) or not np.iterable(bins):
            raise FunnelsimTypeError(
                "error.calibration_bins", name="bins", value=short(bins), type=type_name(bins)
            )
        try:
            edges = np.asarray(bins, dtype=float)
        except (TypeError, ValueError):
            raise FunnelsimTypeError(
                "error.calibration_bins", name="bins", value=short(bins), type=type_name(bins)
            ) from None
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise FunnelsimValueError("error.calibration_bins", value=short(bins))
        if edges[0] > p.min() or edges[-1] < p.max():
            raise FunnelsimValueError("error.calibration_bins_range", value=short(bins))
    codes = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    names = [f"{100 * lo:g}-{100 * hi:g}%" for lo, hi in itertools.pairwise(edges)]
    return codes, names


def _reliability(deals, binned, level, method) -> pd.DataFrame:
    codes, names = binned
    codes = np.asarray(codes)
    used = np.unique(codes)
    n = np.bincount(codes, minlength=len(names))[used]
    k = np.bincount(codes, weights=deals["closed"].to_numpy(float), minlength=len(names))[used]
    stated = np.bincount(codes, weights=deals["stated"].to_numpy(float), minlength=len(names))
    stated = stated[used] / n
    low, high = interval(k, n.astype(float), level, method)
    observed = k / n
    return pd.DataFrame(
        {
            "bin": [names[i] for i in used],
            "stated": stated,
            "n": n.astype(np.int64),
            "closed": k.astype(np.int64),
            "observed": observed,
            "low": low,
            "high": high,
            "gap": observed - stated,
        }
    )
