"""Logs in one normalised form, whatever came in.

:func:`read_log` (to come in this module) reads events, leads and counts
logs from CSV, Excel, Parquet or a DataFrame, validates them and returns a
:class:`Log`. Every analysis (``fit``, cycle length, rep comparison) reads
the :class:`Log`, never the raw file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .funnel import Funnel
from .i18n import t

__all__ = ["Log", "LogError"]

GROUP_FIELDS = ("rep", "source", "segment", "period")


class LogError(ValueError):
    """A log that cannot be read as it is: the message says what, where and how to fix it."""


@dataclass(frozen=True, repr=False)
class Log:
    """A validated log in normalised form.

    Attributes
    ----------
    format : {"events", "leads", "counts"}
        What the source looked like.
    stages : tuple of str
        Stage names in funnel order.
    leads : pandas.DataFrame or None
        Lead-level logs (events, leads): one row per lead, index ``lead``;
        attribute columns among ``rep``, ``source``, ``segment``, ``amount``.
    reached : pandas.DataFrame or None
        Lead-level logs: bool, one row per lead (same index as ``leads``), one
        column per stage: did the lead reach the stage.
    times : pandas.DataFrame or None
        Lead-level logs with timestamps: datetime64, same shape as
        ``reached``; ``NaT`` where the stage was not reached (or its time is
        unknown). None when the source has no times.
    counts : pandas.DataFrame or None
        Counts logs: one row per period and group, columns ``period``, the
        group columns and one integer column per stage.
    as_of : pandas.Timestamp or None
        When the log was taken (the latest time in it unless given): leads
        still open at this time are censored, not failures.
    name : str
        Where the log came from (a file name, or "DataFrame").
    dropped : pandas.DataFrame
        With ``errors="drop"``: every dropped row of the source (``row``,
        ``column``, ``reason``); empty otherwise.
    """

    format: str
    stages: tuple[str, ...]
    leads: pd.DataFrame | None = None
    reached: pd.DataFrame | None = None
    times: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    name: str = "DataFrame"
    dropped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"row": [], "column": [], "reason": []})
    )

    @property
    def group_columns(self) -> list[str]:
        """Columns that ``by=`` may name."""
        frame = self.counts if self.format == "counts" else self.leads
        return [c for c in frame.columns if c not in self.stages and c != "amount"]

    def stage_table(self, by: str | list[str] | None = None) -> pd.DataFrame:
        """Leads at each stage per group: the input of every ratio estimate.

        One row per group and step: the ``by`` columns, ``stage`` (the stage
        the step leads to), ``entered`` (leads at the previous stage) and
        ``passed`` (leads that reached this stage).

        >>> import pandas as pd
        >>> from funnelsim.logs import Log
        >>> reached = pd.DataFrame({"call": [True] * 4, "sale": [True, False, False, True]})
        >>> Log("leads", ("call", "sale"), leads=pd.DataFrame(index=reached.index),
        ...     reached=reached).stage_table()
           stage  entered  passed
        0   sale        4       2
        """
        keys = [] if by is None else [by] if isinstance(by, str) else list(by)
        unknown = [k for k in keys if k not in self.group_columns]
        if unknown:
            raise ValueError(
                t(
                    "error.unknown_by",
                    value=", ".join(unknown),
                    choices=", ".join(self.group_columns) or "-",
                )
            )
        if self.format == "counts":
            totals = (
                self.counts.groupby(keys, observed=True)[list(self.stages)].sum()
                if keys
                else self.counts[list(self.stages)].sum().to_frame().T
            )
        else:
            frame = self.reached.astype(np.int64)
            if keys:
                frame = frame.join(self.leads[keys])
                totals = frame.groupby(keys, observed=True)[list(self.stages)].sum()
            else:
                totals = frame.sum().to_frame().T
        rows = []
        for key, row in totals.iterrows():
            group = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=False))
            for k in range(1, len(self.stages)):
                rows.append(
                    {
                        **group,
                        "stage": self.stages[k],
                        "entered": int(row[self.stages[k - 1]]),
                        "passed": int(row[self.stages[k]]),
                    }
                )
        return pd.DataFrame(rows, columns=[*keys, "stage", "entered", "passed"])

    def to_funnel(self) -> Funnel:
        """Point-estimate funnel from the pooled counts (``passed / entered``)."""
        table = self.stage_table()
        first = int(table["entered"].iloc[0])
        return Funnel.from_counts(self.stages, [first, *table["passed"].tolist()])

    def __repr__(self) -> str:
        n = len(self.counts) if self.format == "counts" else len(self.leads)
        unit = "rows" if self.format == "counts" else "leads"
        return (
            f"Log({self.format}, {self.name!r}: {n} {unit}, stages "
            f"{' -> '.join(self.stages)}, {len(self.dropped)} rows dropped)"
        )
