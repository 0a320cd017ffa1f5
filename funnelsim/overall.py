"""The overall (first-to-last-stage) rate of a fit, with its interval, per group or pooled.

:class:`Overall` is what :attr:`funnelsim.Fit.overall` returns; the group
helpers find one group's rows of a fit's table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .i18n import FunnelsimValueError, fields_label, method_label, stages_label, t

__all__ = ["Overall", "group_keys", "group_rows"]

PRODUCT = "product"  # Overall.method of the product of posteriors (steps with their own cohorts)
SHOWN_GROUPS = 12  # groups a grouped Overall's repr lists


# ------------------------------------------------------------------ groups
def group_keys(table: pd.DataFrame, by: tuple[str, ...]) -> list[Any]:
    """Group keys of a table in row order: a value, or a tuple for several ``by`` columns.

    >>> table = pd.DataFrame({"rep": ["ann", "ann", "bob"], "region": ["n", "s", "n"]})
    >>> group_keys(table, ("rep",)), group_keys(table, ("rep", "region"))
    (['ann', 'bob'], [('ann', 'n'), ('ann', 's'), ('bob', 'n')])
    """
    if not by:
        return []
    keys = table[list(by)].drop_duplicates()
    if len(by) == 1:
        return keys[by[0]].tolist()
    return [tuple(row) for row in keys.itertuples(index=False)]


def group_rows(table: pd.DataFrame, by: tuple[str, ...], key: Any) -> pd.DataFrame:
    """The rows of one group, without the ``by`` columns; an unknown key is a ValueError.

    >>> table = pd.DataFrame({"rep": ["ann", "bob", None], "passed": [3, 9, 1]})
    >>> group_rows(table, ("rep",), "bob")
       passed
    0       9
    >>> group_rows(table, ("rep",), None)["passed"].tolist()   # a missing key is its own group
    [1]
    """
    keys = key if isinstance(key, tuple) else (key,)
    mask = np.ones(len(table), dtype=bool)
    if len(keys) == len(by):
        for col, value in zip(by, keys, strict=True):
            column = table[col]
            # A missing group key (NaN, None, NaT: e.g. leads with no rep) is its own group.
            same = column.isna() if _is_missing(value) else column == value
            mask &= same.to_numpy()
    else:
        mask[:] = False
    if not mask.any():
        raise FunnelsimValueError(
            "error.unknown_group",
            value=repr(key),
            by=", ".join(by),
            choices=_clip(", ".join(map(str, group_keys(table, by)))),
        )
    return table.loc[mask].drop(columns=list(by)).reset_index(drop=True)


# ------------------------------------------------------------ the overall
@dataclass(frozen=True, repr=False, eq=False)
class Overall:
    """The first-to-last-stage rate and its interval, for the whole log or per group.

    From :attr:`Fit.overall` (or :meth:`Fit.overall_interval`); one type
    with or without groups.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group (one row without groups): the ``by`` columns,
        ``entered`` (first-stage leads), ``passed`` (last-stage leads; both
        NA with ``mature=``, whose steps have their own cohorts), ``ratio``,
        ``low``, ``high``. Use :meth:`to_frame` for a copy.
    by : tuple of str
        The grouping columns (empty for the whole log).
    stages : tuple of str
        The first and the last stage.
    confidence_level : float
        Level of the interval.
    method : str
        How the interval was made: the fit's interval method (one of
        :data:`~funnelsim.intervals.METHODS`) applied to ``passed`` out of
        ``entered`` when every step follows one cohort, or ``"product"``
        (a product of posteriors, ``draws`` draws) when each step has its
        own cohort (``mature=``). :attr:`method_label` says it in words.
    draws : int or None
        Posterior draws of a ``"product"`` interval (None otherwise).

    Notes
    -----
    Without groups the result reads like the ``(ratio, low, high)`` named
    tuple it used to be: :attr:`ratio`, :attr:`low` and :attr:`high` are
    floats, ``ratio, low, high = fit.overall`` unpacks it, ``overall[0]``,
    ``len(overall)`` and ``overall._asdict()`` work. With groups those raise
    (there is one rate per group): :meth:`group` gives one group's
    :class:`Overall`, :meth:`to_frame` the table.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [150, 150],
    ...                        "connects": [70, 40], "meetings": [10, 3]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
    >>> ratio, low, high = fs.fit(log).overall
    >>> print(f"{ratio:.4f} [{low:.4f}, {high:.4f}]")
    0.0433 [0.0255, 0.0727]
    >>> per_rep = fs.fit(log, by="rep").overall
    >>> per_rep.to_frame().round(3)
       rep  entered  passed  ratio    low   high  method  draws
    0  ann      150      10  0.067  0.037  0.118  wilson   <NA>
    1  bob      150       3  0.020  0.007  0.057  wilson   <NA>
    >>> round(per_rep.group("bob").ratio, 3)
    0.02
    """

    table: pd.DataFrame
    by: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    confidence_level: float = 0.95
    method: str = "wilson"
    draws: int | None = None

    @property
    def groups(self) -> list[Any]:
        """Group keys in table order (empty without ``by``)."""
        return group_keys(self.table, self.by)

    @property
    def method_label(self) -> str:
        """How the interval was made, in words: the method's name, or for a product of
        posteriors the rule and the number of draws.

        >>> import funnelsim as fs
        >>> log = fs.datasets.load_events()
        >>> fs.fit(log, method="jeffreys").overall.method_label
        'Jeffreys'
        >>> print(fs.fit(log, mature=30).overall.method_label)
        product of Jeffreys posteriors (upper limit: half a pass more per step), 100,000 draws
        """
        if self.method == PRODUCT:
            return t("interval.product_draws", draws=self.draws or 0)
        return method_label(self.method)

    def group(self, key: Any) -> Overall:
        """One group's :class:`Overall` (``key``: a value, or a tuple for several ``by``).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [150, 150],
        ...                        "connects": [70, 40], "meetings": [10, 3]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> ann = fs.fit(log, by="rep").overall.group("ann")
        >>> print(f"{ann.ratio:.3f} [{ann.low:.3f}, {ann.high:.3f}]")
        0.067 [0.037, 0.118]
        """
        if not self.by:
            raise FunnelsimValueError("error.fit_not_grouped")
        return dataclasses.replace(self, table=group_rows(self.table, self.by, key), by=())

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: the ``by`` columns, ``entered``, ``passed``, ``ratio``, ``low``,
        ``high``, ``method`` and ``draws`` (NA unless the method is ``"product"``): one
        row per group (one row without groups).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"dials": [150, 150], "connects": [70, 40],
        ...                        "meetings": [10, 3]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> fs.fit(log).overall.to_frame().round(4)
           entered  passed   ratio     low    high  method  draws
        0      300      13  0.0433  0.0255  0.0727  wilson   <NA>
        """
        draws = pd.array([self.draws] * len(self.table), dtype="Int64")
        return self.table.assign(method=self.method, draws=draws)

    def _value(self, column: str) -> float:
        if self.by:
            raise FunnelsimValueError(
                "error.overall_grouped",
                attribute=column,
                by=", ".join(self.by),
                groups=len(self.table),
            )
        return float(self.table[column].iloc[0])

    @property
    def ratio(self) -> float:
        """The overall rate: the product of the stage ratios (without groups)."""
        return self._value("ratio")

    @property
    def low(self) -> float:
        """Lower limit of the interval (without groups)."""
        return self._value("low")

    @property
    def high(self) -> float:
        """Upper limit of the interval (without groups)."""
        return self._value("high")

    def __iter__(self) -> Iterator[float]:
        """``ratio, low, high = fit.overall`` (without groups)."""
        return iter((self.ratio, self.low, self.high))

    # The rest of the ``(ratio, low, high)`` tuple it was before it held groups too.
    def __len__(self) -> int:
        self._value("ratio")  # grouped: the same error as .ratio
        return 3

    def __getitem__(self, index: int | slice) -> float | tuple[float, ...]:
        """``fit.overall[0]`` is the ratio, ``[1]`` and ``[2]`` the limits (without groups)."""
        return (self.ratio, self.low, self.high)[index]

    def _asdict(self) -> dict[str, float]:
        """``{"ratio": ..., "low": ..., "high": ...}`` (without groups)."""
        return {"ratio": self.ratio, "low": self.low, "high": self.high}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Overall):
            return NotImplemented
        return (
            self.by == other.by
            and tuple(self.stages) == tuple(other.stages)
            and self.confidence_level == other.confidence_level
            and (self.method, self.draws) == (other.method, other.draws)
            and self.table.equals(other.table)
        )

    __hash__ = None  # type: ignore[assignment]  # holds a table: compared, never hashed

    def __repr__(self) -> str:
        head = t(
            "repr.overall.head",
            stages=stages_label(self.stages),
            level=100 * self.confidence_level,
            method=self.method_label,
        )
        if not self.by:
            ratio, low, high = self
            return t("repr.overall.one", head=head, ratio=ratio, low=low, high=high)
        lines = [t("repr.overall.by", head=head, by=fields_label(self.by), groups=len(self.table))]
        for key, row in zip(
            self.groups[:SHOWN_GROUPS], self.table.head(SHOWN_GROUPS).itertuples(), strict=True
        ):
            label = ", ".join(map(str, key)) if isinstance(key, tuple) else str(key)
            lines.append(
                t("repr.overall.row", group=label, ratio=row.ratio, low=row.low, high=row.high)
            )
        if len(self.table) > SHOWN_GROUPS:
            lines.append(
                "  " + t("repr.more", n=len(self.table) - SHOWN_GROUPS, where=".to_frame()")
            )
        return "\n".join(lines) + ")"


def _is_missing(value: Any) -> bool:
    """True for a scalar missing value (None, NaN, NaT, pd.NA)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like key is never "missing"
        return False


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
