"""Reliability of stated chances: did deals at the 25 % stage close about 25 % of the time?

:func:`calibration` reads a history of decided deals (won or lost, with the
stage or chance each had) with the same rules as :func:`funnelsim.read_log`,
and compares the stated chances with what happened: a reliability table with
Wilson intervals and the Brier score. A :class:`Calibration` can then stand
in for the stated chances when reading a snapshot
(``fs.read_pipeline(path, probabilities=cal)``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._deals import open_deals, read_probabilities
from ._problems import (
    Problems,
)
from ._reader import (
    ERRORS,
    FALSE,
    TRUE,
    choice,
    empty_dropped,
    kept_values,
    label_text,
    labels,
    quoted,
)
from ._validate import check_choice, check_count, short, type_name
from .i18n import FunnelsimTypeError, FunnelsimValueError, t
from .intervals import METHODS, check_level, interval

__all__ = ["Calibration", "calibration"]


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
    src, mapping, cols = open_deals(
        history, columns, _HISTORY_FIELDS, "history", "closed", stages, probabilities, encoding
    )
    frame = src.frame
    problems = Problems(src)
    prob, label = read_probabilities(problems, frame, cols, mapping)
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


_HISTORY_FIELDS = ("deal", "stage", "probability", "closed", "rep", "source", "segment", "amount")


_WON = TRUE | {"won", "win", "closed", "signed", "成交", "赢单"}


_LOST = FALSE | {"lost", "lose", "dead", "丢单", "输单"}
