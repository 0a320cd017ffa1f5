"""Weighted pipelines, calibration of stage probabilities, and the grade ladder.

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
history (did deals at the 25 % stage close 25 % of the time?), and
:func:`grade_ladder` measures the E -> D -> C -> B -> A step-up rates.
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

from ._validate import check_choice, check_count, check_nonnegative, check_rng, short
from .distributions import DealSize
from .estimate import Fit
from .forecasting import check_quantiles, fewest_calls, mixed_prob_reach, quantile_name
from .funnel import Funnel
from .i18n import FunnelsimValueError, t
from .intervals import METHODS, check_level, interval
from .logs import (
    _FALSE,
    _TRUE,
    LogError,
    _empty_dropped,
    _labels,
    _parse_numbers,
    _Problems,
    _q,
    _raise_missing_columns,
    _read_source,
    _rows,
    _Source,
)
from .theory import calls_for_target

__all__ = [
    "DEFAULT_PROBABILITIES",
    "Calibration",
    "Ladder",
    "Pipeline",
    "calibration",
    "grade_ladder",
    "read_pipeline",
]

#: The decks' stages and their chance of closing (DOMAIN.md §1).
DEFAULT_PROBABILITIES = {"25%": 0.25, "50%": 0.5, "75%": 0.75, "90%": 0.9}
GRADES = ("E", "D", "C", "B", "A")

_PIPELINE_FIELDS = ("deal", "stage", "amount", "probability", "rep", "source", "segment", "close")
_HISTORY_FIELDS = ("deal", "stage", "probability", "closed", "rep", "source", "segment", "amount")
_LADDER_FIELDS = ("lead", "grade", "rep", "source", "segment")
_WON = _TRUE | {"won", "win", "closed", "signed", "成交", "赢单"}
_LOST = _FALSE | {"lost", "lose", "dead", "丢单", "输单"}
_EXACT_OUTCOMES = 20  # enumerate every outcome up to 2**20 (about a million)
_GRID_WORK = 50_000_000  # deals x grid cells for the exact convolution
_MC_REPS = 100_000
_BLOCK = 4_000_000
_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


# --------------------------------------------------------------- loading
def _fields(columns: object, allowed: Sequence[str], what: str) -> dict[str, str]:
    if columns is None:
        return {}
    choices = ", ".join(allowed)
    if not isinstance(columns, Mapping):
        raise LogError("log.error.columns_type", choices=choices, value=repr(columns))
    out = {}
    for key, column in columns.items():
        if key not in allowed:
            raise LogError("log.error.columns_key", key=repr(key), format=what, choices=choices)
        if not isinstance(column, str) or not column.strip():
            raise LogError("log.error.columns_value", key=key, value=repr(column))
        out[key] = column.strip()
    return out


def _resolve(
    src: _Source,
    allowed: Sequence[str],
    fields: dict[str, str],
    required: Sequence[str],
    one_of: Sequence[str],
) -> dict[str, str]:
    """The file's column for each field; one LogError listing every missing column."""
    have = set(src.frame.columns)
    used, missing = {}, []
    for key in allowed:
        column = fields.get(key, key)
        if column in have:
            used[key] = column
        elif key in fields or key in required:
            missing.append(t("log.error.missing_field", column=_q(column), field=key))
    if one_of and not any(k in used for k in one_of):
        names = " nor ".join(_q(fields.get(k, k)) for k in one_of)
        missing.append(t("pipeline.error.missing_either", columns=names))
    if missing:
        _raise_missing_columns(src, missing)
    return used


def _raise(problems: _Problems, what: str, *, all_invalid: bool = False) -> None:
    lines = [
        t("pipeline.error.title", name=problems.src.name, what=what, count=len(problems.items))
    ]
    for item in problems.items:
        lines.append(
            t(
                "log.error.problem",
                column=_q(item.column),
                rows=_rows(problems.src.rownum[item.positions]),
                reason=item.detail(int(item.positions[0])),
                fix=item.fix,
            )
        )
    lines.append(t("log.error.all_invalid") if all_invalid else t("pipeline.error.drop_hint"))
    raise LogError(
        "pipeline.error.title",
        message="\n".join(lines),
        name=problems.src.name,
        what=what,
        count=len(problems.items),
        problems=[
            (it.column, problems.src.rownum[it.positions].tolist()) for it in problems.items
        ],
    )


def _finish(problems: _Problems, what: str, mode: str, keep: np.ndarray) -> pd.DataFrame:
    if problems.items and (mode == "raise" or not keep.any()):
        _raise(problems, what, all_invalid=mode == "drop")
    if not problems.items:
        return _empty_dropped()
    return problems.dropped(np.zeros(len(keep), dtype=bool), "", lambda p: "")


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


def _mode(errors: object) -> str:
    if not isinstance(errors, str) or errors not in ("raise", "drop"):
        raise LogError("error.choice", name="errors", value=repr(errors), choices="raise, drop")
    return errors


def _open(source, encoding) -> _Source:
    if encoding is not None:
        try:
            "".encode(encoding)
        except (LookupError, TypeError):
            raise LogError("log.error.encoding_name", value=repr(encoding)) from None
    return _read_source(source, encoding=encoding, delimiter=None)


def _stage_probabilities(stages: object, probabilities: object) -> dict[str, float] | None:
    """The mapping from stage label to probability, or None: read from the labels."""
    if isinstance(probabilities, Calibration):
        probabilities = probabilities.probabilities
    if probabilities is None:
        if stages is None:
            return None
        names = _names(stages)
        values, mixed = _percents(names)
        if mixed.any():
            raise LogError("pipeline.error.stages_mixed", value=_q(names[int(mixed.argmax())]))
        out = dict(zip(names, values.tolist(), strict=True))
        bad = [n for n, p in out.items() if math.isnan(p)]
        if bad:
            raise LogError("pipeline.error.stage_not_percent", value=_q(bad[0]))
        return out
    if isinstance(probabilities, Mapping):
        pairs = list(probabilities.items())
    else:
        if stages is None:
            raise LogError("pipeline.error.probabilities_type", value=short(probabilities))
        values = _sequence(probabilities, "probabilities")
        names = _names(stages)
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
            raise LogError("pipeline.error.probability_value", stage=_q(name), value=repr(value))
        out[name.strip()] = p
    if stages is not None:
        missing = [n for n in _names(stages) if n not in out]
        if missing:
            raise LogError("pipeline.error.stage_no_probability", value=_q(missing[0]))
    return out


def _names(stages: object) -> list[str]:
    values = _sequence(stages, "stages")
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise LogError("log.error.stage_name", value=repr(v))
        out.append(v.strip())
    return out


def _sequence(value: object, name: str) -> list[object]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray | pd.Series):
        raise LogError("pipeline.error.sequence", name=name, value=short(value))
    return list(value)


def _flag_mixed(problems, column: str, codes, mixed: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Flag the rows whose label is a fraction in a column of percentages (see
    :func:`_percents`; ``codes`` index the column's labels, -1 for empty cells)."""
    has = codes >= 0
    ambiguous = np.zeros(len(codes), dtype=bool)
    ambiguous[has] = mixed[codes[has]]
    problems.add(
        ambiguous,
        column,
        lambda p: t("pipeline.reason.mixed", value=_q(text[p])),
        t("pipeline.fix.mixed"),
    )
    return ambiguous


def _read_probabilities(problems, frame, cols, mapping) -> tuple[np.ndarray, np.ndarray]:
    """Each row's stated probability, and its stage label (or the probability's text)."""
    n = len(frame)
    prob = np.full(n, np.nan)
    label = np.full(n, "", dtype=object)
    if mapping is not None or "probability" not in cols:
        column = cols["stage"]
        codes, labels = _labels(frame[column])
        mixed = np.zeros(len(labels), dtype=bool)
        if mapping is None:
            values, mixed = _percents(labels)
            fix = t("pipeline.fix.stage_percent", defaults=", ".join(DEFAULT_PROBABILITIES))
        else:
            values = np.array([mapping.get(x, np.nan) for x in labels], dtype=float)
            fix = t("pipeline.fix.stage_known", choices=", ".join(map(_q, mapping)))
        has = codes >= 0
        prob[has] = values[codes[has]]
        label[has] = labels[codes[has]]
        problems.add(~has, column, lambda p: t("log.reason.no_stage"), fix)
        ambiguous = _flag_mixed(problems, column, codes, mixed, label)
        problems.add(
            has & np.isnan(prob) & ~ambiguous,
            column,
            lambda p: t("pipeline.reason.unknown_stage", value=_q(label[p])),
            fix,
        )
        return prob, label
    column = cols["probability"]
    codes, labels = _labels(frame[column])
    values, mixed = _percents(labels)
    has = codes >= 0
    prob[has] = values[codes[has]]
    text = np.full(n, "", dtype=object)
    text[has] = labels[codes[has]]
    problems.add(
        ~has, column, lambda p: t("pipeline.reason.no_probability"), t("pipeline.fix.probability")
    )
    ambiguous = _flag_mixed(problems, column, codes, mixed, text)
    problems.add(
        has & np.isnan(prob) & ~ambiguous,
        column,
        lambda p: t("pipeline.reason.bad_probability", value=_q(text[p])),
        t("pipeline.fix.probability"),
    )
    if "stage" in cols:
        s_codes, s_labels = _labels(frame[cols["stage"]])
        label[s_codes >= 0] = s_labels[s_codes[s_codes >= 0]]
    empty = label == ""
    label[empty] = [f"{100 * p:g}%" if np.isfinite(p) else "" for p in prob[empty]]
    return prob, label


def _read_amounts(problems, frame, column, *, required: bool) -> np.ndarray:
    values, empty, text = _parse_numbers(frame[column])
    bad = ~empty & ~(np.isfinite(values) & (values >= 0))
    problems.add(
        bad,
        column,
        lambda p: t("log.reason.bad_amount", value=_q(text[p])),
        t("log.fix.bad_amount"),
    )
    if required:
        problems.add(
            empty, column, lambda p: t("pipeline.reason.no_amount"), t("pipeline.fix.no_amount")
        )
    return np.where(bad, np.nan, values)


def _duplicates(problems, frame, column, what) -> np.ndarray:
    codes, labels = _labels(frame[column])
    ok = np.flatnonzero((codes >= 0) & ~problems.mask())
    first = pd.Series(ok).groupby(codes[ok]).transform("first").to_numpy()
    first_of = dict(zip(ok.tolist(), first.tolist(), strict=True))
    dup = ok[first != ok]
    problems.add(
        dup,
        column,
        lambda p: t(
            "pipeline.reason.duplicate",
            what=what,
            value=_q(labels[codes[p]]),
            row=int(problems.src.rownum[first_of[p]]),
        ),
        t("pipeline.fix.duplicate", what=what),
    )
    text = np.full(len(codes), "", dtype=object)
    text[codes >= 0] = labels[codes[codes >= 0]]
    return text


def _attributes(frame, cols, keys, rows) -> dict[str, np.ndarray]:
    out = {}
    for key in keys:
        if key in cols:
            codes, labels = _labels(frame[cols[key]])
            values = np.full(len(codes), None, dtype=object)
            values[codes >= 0] = labels[codes[codes >= 0]]
            out[key] = values[rows]
    return out


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
    mode = _mode(errors)
    fields = _fields(columns, _PIPELINE_FIELDS, "pipeline")
    mapping = _stage_probabilities(stages, probabilities)
    src = _open(source, encoding)
    if mapping is None:
        cols = _resolve(src, _PIPELINE_FIELDS, fields, ("amount",), ("stage", "probability"))
    else:
        cols = _resolve(src, _PIPELINE_FIELDS, fields, ("amount", "stage"), ())
    frame = src.frame
    problems = _Problems(src)
    prob, label = _read_probabilities(problems, frame, cols, mapping)
    amount = _read_amounts(problems, frame, cols["amount"], required=True)
    ids = _duplicates(problems, frame, cols["deal"], "deal") if "deal" in cols else None
    keep = ~problems.mask()
    what = t("pipeline.what.snapshot")
    dropped = _finish(problems, what, mode, keep)
    rows = np.flatnonzero(keep)
    deals = pd.DataFrame(
        {
            "deal": ids[rows] if ids is not None else src.rownum[rows].astype(str).astype(object),
            "stage": label[rows],
            "amount": amount[rows],
            "probability": prob[rows],
        }
    )
    for key, values in _attributes(
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
    """

    deals: pd.DataFrame
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=_empty_dropped)
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
        values = _sequence(probabilities, "probabilities")
        for i, value in enumerate(values):  # numbers here are chances: 0.25, not 25
            if isinstance(value, str):
                continue
            try:
                p = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                p = math.nan
            if not 0.0 <= p <= 1.0:
                raise LogError("pipeline.error.deal_probability", index=i, value=repr(value))
        amounts = _sequence(amounts, "amounts")
        if len(amounts) != len(values):
            raise LogError(
                "pipeline.error.deals_length", n_amounts=len(amounts), n_values=len(values)
            )
        frame = pd.DataFrame({"amount": amounts, "probability": values})
        if stages is not None:
            labels = _sequence(stages, "stages")
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
            return _enumerate(a, p)
        unit = _unit(a)
        if unit is not None and self.n_deals * (a.sum() / unit + 1) <= _GRID_WORK:
            return _convolve(a, p, unit)
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
        """
        qs = check_quantiles(q)
        values, probs = self._distribution(measure, method, reps, rng)
        cdf = np.cumsum(probs)
        idx = np.searchsorted(cdf, qs * (1 - 1e-12), side="left")
        out = values[np.minimum(idx, len(values) - 1)]
        return pd.Series(out, index=[quantile_name(x) for x in qs], name=measure)

    def by_stage(self) -> pd.DataFrame:
        """Per stage (least likely first): ``stage``, ``probability`` (mean), ``deals``,
        ``amount``, ``weighted``: the pipeline's shape (DOMAIN.md §4)."""
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
        from .diagnose import diagnose_pipeline

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
        """The deals with a ``weighted`` column (amount x probability)."""
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


def _enumerate(a: np.ndarray, p: np.ndarray) -> pd.DataFrame:
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


def _convolve(a: np.ndarray, p: np.ndarray, unit: float) -> pd.DataFrame:
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
    """

    table: pd.DataFrame
    by_stage: pd.DataFrame | None
    deals: pd.DataFrame
    brier: float
    base_rate: float
    confidence_level: float
    method: str
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=_empty_dropped)

    @property
    def probabilities(self) -> dict[str, float]:
        """Observed close rate per stage label: pass to ``read_pipeline(probabilities=...)``."""
        if self.by_stage is None:
            raise FunnelsimValueError("error.calibration_no_stages")
        return dict(
            zip(self.by_stage["stage"], self.by_stage["observed"].astype(float), strict=True)
        )

    def to_frame(self) -> pd.DataFrame:
        """A copy of the reliability table."""
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
    mode = _mode(errors)
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    fields = _fields(columns, _HISTORY_FIELDS, "history")
    mapping = _stage_probabilities(stages, probabilities)
    src = _open(history, encoding)
    if mapping is None:
        cols = _resolve(src, _HISTORY_FIELDS, fields, ("closed",), ("stage", "probability"))
    else:
        cols = _resolve(src, _HISTORY_FIELDS, fields, ("closed", "stage"), ())
    frame = src.frame
    problems = _Problems(src)
    prob, label = _read_probabilities(problems, frame, cols, mapping)
    closed = _read_closed(problems, frame, cols["closed"])
    keep = ~problems.mask()
    dropped = _finish(problems, t("pipeline.what.history"), mode, keep)
    rows = np.flatnonzero(keep)
    p, y = prob[rows], closed[rows]
    deals = pd.DataFrame({"stage": label[rows], "stated": p, "closed": y})
    for key, values in _attributes(frame, cols, ("deal", "rep", "amount"), rows).items():
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
    codes, labels = _labels(frame[column])
    lower = np.array([str(x).lower() for x in labels], dtype=object)
    yes = np.array([x in _WON for x in lower], dtype=bool)
    no = np.array([x in _LOST for x in lower], dtype=bool)
    has = codes >= 0
    out = np.zeros(len(codes), dtype=bool)
    out[has] = yes[codes[has]]
    bad = has.copy()
    bad[has] = ~(yes | no)[codes[has]]
    text = np.full(len(codes), "", dtype=object)
    text[has] = labels[codes[has]]
    fix = t("pipeline.fix.closed")
    problems.add(~has, column, lambda p: t("pipeline.reason.no_closed"), fix)
    problems.add(bad, column, lambda p: t("pipeline.reason.bad_closed", value=_q(text[p])), fix)
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
        try:
            edges = np.asarray(bins, dtype=float)
        except (TypeError, ValueError):
            raise FunnelsimValueError("error.calibration_bins", value=short(bins)) from None
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


# ------------------------------------------------------------ grade ladder
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
    """

    grades: tuple[str, ...]
    table: pd.DataFrame
    fit: Fit
    leads: pd.DataFrame
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(default_factory=_empty_dropped)

    def to_funnel(self) -> Funnel:
        """The point estimates as a funnel over the grades."""
        return self.fit.to_funnel()

    def leads_needed(
        self,
        target_sales: float,
        probability: float | None = None,
        *,
        deal_size: DealSize | float | None = None,
        reps: int = 4000,
        rng: np.random.Generator | int | None = None,
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

        Returns
        -------
        pandas.DataFrame
            One row per grade: ``grade``, ``expected`` and, with a
            probability, ``point`` and ``with_uncertainty``.
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
        from ._validate import check_open_probability

        probability = check_open_probability("probability", probability)
        reps = check_count("reps", reps, minimum=1)
        draws = self.fit.sample_ratios(reps, rng=rng)
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
        """A copy of :attr:`table`."""
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
        ``segment``.
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
    mode = _mode(errors)
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    names = _names(grades)
    if len(names) < 2 or len(set(names)) != len(names):
        raise FunnelsimValueError("error.ladder_grades", value=short(list(grades)))
    fields = _fields(columns, _LADDER_FIELDS, "grade history")
    src = _open(history, encoding)
    cols = _resolve(src, _LADDER_FIELDS, fields, ("grade",), ())
    frame = src.frame
    problems = _Problems(src)
    codes, labels = _labels(frame[cols["grade"]])
    rank_of = {g: i for i, g in enumerate(names)}
    lower = {g.lower(): i for g, i in rank_of.items()}
    label_rank = np.array([rank_of.get(x, lower.get(str(x).lower(), -1)) for x in labels])
    rank = np.full(len(codes), -1, dtype=np.int64)
    rank[codes >= 0] = label_rank[codes[codes >= 0]]
    text = np.full(len(codes), "", dtype=object)
    text[codes >= 0] = labels[codes[codes >= 0]]
    fix = t("pipeline.fix.grade", choices=", ".join(map(_q, names)))
    problems.add(codes < 0, cols["grade"], lambda p: t("pipeline.reason.no_grade"), fix)
    problems.add(
        (codes >= 0) & (rank < 0),
        cols["grade"],
        lambda p: t("pipeline.reason.unknown_grade", value=_q(text[p])),
        fix,
    )
    if "lead" in cols:
        l_codes, l_labels = _labels(frame[cols["lead"]])
        problems.add(
            l_codes < 0, cols["lead"], lambda p: t("log.reason.no_lead"), t("log.fix.no_lead")
        )
    keep = ~problems.mask()
    dropped = _finish(problems, t("pipeline.what.grades"), mode, keep)
    rows = np.flatnonzero(keep)
    if "lead" in cols:
        lead = l_labels[l_codes[rows]]
    else:
        lead = src.rownum[rows].astype(str).astype(object)
    leads = pd.DataFrame({"lead": lead, "rank": rank[rows]})
    for key, values in _attributes(frame, cols, ("rep", "source", "segment"), rows).items():
        leads[key] = values
    leads = (
        leads.sort_values("rank", kind="stable").groupby("lead", sort=False).last().reset_index()
    )
    best = leads["rank"].to_numpy()
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
    the_fit = Fit(tuple(names), fit_table, (), level, method)
    leads = leads.assign(grade=[names[r] for r in leads["rank"]]).drop(columns="rank")
    leads = leads[["lead", "grade", *[c for c in leads.columns if c not in ("lead", "grade")]]]
    return Ladder(tuple(names), table, the_fit, leads, src.name, dropped)
