"""Young open leads: how many leads a fit without ``mature=`` counts as failures too soon.

A dated log taken while leads are still moving counts every lead that has not
passed a step yet as a failure of that step, so the ratios read low.
:func:`young_leads` measures, for each step, the share of the leads that
entered it that are still open and younger than the step usually takes;
:func:`funnelsim.fit` calls :func:`warn_young_leads` and warns with a
:class:`YoungLeadsWarning` (suggesting ``mature=``) when that share is large.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .i18n import stage_label, t, unit_label
from .logs import Log, LogError, log_clock

__all__ = ["YoungLeadsWarning", "young_leads"]

#: The step's typical time: this quantile of the time from the previous stage among the
#: leads that passed (the time within which nearly every lead that passes has passed).
TYPICAL_QUANTILE = 0.9
#: A step is flagged when more than this share of its entered leads are young and open.
YOUNG_SHARE = 0.10


class YoungLeadsWarning(UserWarning):
    """A fit without ``mature=`` counts many still-open, young leads as failures.

    :func:`funnelsim.fit` issues it (see :func:`young_leads`); the command line
    prints it as a ``note:`` line. Silence it where a naive fit is meant:

    >>> import warnings
    >>> import funnelsim as fs
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", fs.YoungLeadsWarning)
    ...     naive = fs.fit(fs.datasets.load_events())
    >>> issubclass(fs.YoungLeadsWarning, UserWarning)
    True
    """


def young_leads(log: Log, *, quantile: float = TYPICAL_QUANTILE) -> pd.DataFrame:
    """Per step, the share of its leads that are still open and younger than the step takes.

    For the step into stage ``k``: ``entered`` counts the leads that reached
    stage ``k - 1``; ``typical_time`` is the ``quantile`` (default 0.9) of the
    time from stage ``k - 1`` to stage ``k`` among the leads that passed (with
    both times known); ``young`` counts the entered leads that have not
    reached stage ``k``, are still open (not won nor lost at ``as_of``) and
    reached stage ``k - 1`` less than ``typical_time`` before ``as_of``. A
    fit without ``mature=`` counts them as failures although many of them
    will still pass: ``share = young / entered`` is the share of the step's
    leads whose outcome is not known yet. ``flagged`` marks the steps where
    it is above :data:`YOUNG_SHARE` (10 %): there :func:`funnelsim.fit`
    warns (:class:`YoungLeadsWarning`) and suggests ``mature=``.

    Parameters
    ----------
    log : Log
        Any log. Counts logs and logs without times give an empty table.
    quantile : float, default 0.9
        Which quantile of the time to pass is the step's typical time.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``stage``, ``entered``, ``passed``, ``young``,
        ``share``, ``typical_time`` (days for dated logs, periods otherwise;
        NaN when no lead passed with known times, and then ``young`` is 0)
        and ``flagged``. ``.attrs["unit"]`` is that unit.

    Examples
    --------
    Four leads reached the proposal 2 to 40 days before ``as_of``; two sold
    after 10 and 20 days (typical time, the 90th percentile: 19 days); c and
    d, 5 and 2 days old, are still open: half the proposals are young.

    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> leads = pd.DataFrame({"lead": ["a", "b", "c", "d"],
    ...                       "proposal": ["2024-01-01", "2024-01-10", "2024-02-05", "2024-02-08"],
    ...                       "sale": ["2024-01-11", "2024-01-30", None, None]})
    >>> log = fs.read_log(leads, format="leads", stages=["proposal", "sale"], as_of="2024-02-10")
    >>> fs.young_leads(log)
      stage  entered  passed  young  share  typical_time  flagged
    0  sale        4       2      2    0.5          19.0     True
    """
    columns = ["stage", "entered", "passed", "young", "share", "typical_time", "flagged"]
    if log.engine is not None:  # an engine's log: the same figures, asked of the engine
        return _engine_young(log, quantile, columns)
    if log.format == "counts" or log.reached is None or log.times is None:
        return pd.DataFrame({c: [] for c in columns})
    try:
        clock = log_clock(log, "mature")
    except LogError:  # no usable times: nothing to measure
        return pd.DataFrame({c: [] for c in columns})
    reached = log.reached[list(log.stages)].to_numpy(dtype=bool)
    closed = log.closed.reindex(log.reached.index) if log.closed is not None else None
    still_open = np.ones(len(reached), bool) if closed is None else closed.isna().to_numpy()
    values, known = clock.values, clock.known
    rows = []
    for k in range(1, len(log.stages)):
        entered = reached[:, k - 1]
        passed = entered & reached[:, k]
        # times only where they are needed (this runs in every fit without mature=)
        both = np.flatnonzero(passed & known[:, k] & known[:, k - 1])
        took = (values[both, k] - values[both, k - 1]) / clock.scale
        typical = float(np.quantile(took, quantile)) if took.size else math.nan
        waiting = np.flatnonzero(entered & ~reached[:, k] & still_open & known[:, k - 1])
        age = (clock.as_of - values[waiting, k - 1]) / clock.scale
        young = int((age < typical).sum())  # none when typical is NaN
        n = int(entered.sum())
        share = young / n if n else 0.0
        rows.append((log.stages[k], n, int(passed.sum()), young, share, typical))
    table = pd.DataFrame(rows, columns=columns[:-1])
    table["flagged"] = table["share"] > YOUNG_SHARE
    table.attrs["unit"] = clock.unit
    return table


def _engine_young(log: Log, quantile: float, columns: list[str]) -> pd.DataFrame:
    """:func:`young_leads` of a log an engine holds (:meth:`LeadTable.step_times`)."""
    if log.as_of is None:
        return pd.DataFrame({c: [] for c in columns})
    as_of = _as_of_ns(log)
    rows = []
    for k, (n, passed, typical, young) in enumerate(log.engine.step_times(quantile, as_of), 1):
        rows.append((log.stages[k], n, passed, young, young / n if n else 0.0, typical))
    table = pd.DataFrame(rows, columns=columns[:-1])
    table["flagged"] = table["share"] > YOUNG_SHARE
    table.attrs["unit"] = "days"
    return table


def _as_of_ns(log: Log) -> int:
    """``log.as_of`` as int64 nanoseconds, as an engine's lead table holds its times."""
    return pd.Timestamp(log.as_of).as_unit("ns").value


def warn_young_leads(log: Log, stacklevel: int = 3) -> pd.DataFrame | None:
    """Warn (:class:`YoungLeadsWarning`, once per call) when :func:`young_leads` flags a step.

    The message names the flagged steps and their shares and suggests
    ``mature=``: the largest typical time among them, rounded up. Returns the
    table of :func:`young_leads`, or None for an engine's log whose read showed that
    no step is flagged (:meth:`~funnelsim._lead_table.LeadTable.young_cleared`).

    >>> import funnelsim as fs
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     table = warn_young_leads(fs.datasets.load_events())
    >>> [w.category.__name__ for w in caught], table["flagged"].sum()
    (['YoungLeadsWarning'], np.int64(1))
    """
    if log.engine is not None and log.as_of is not None:  # the read's summary may tell
        if log.engine.young_cleared(TYPICAL_QUANTILE, _as_of_ns(log), YOUNG_SHARE):
            return None  # no step flagged, and no question asked of the engine
    table = young_leads(log)
    if table.empty or not table["flagged"].any():
        return table
    flagged = table[table["flagged"]]
    steps = ", ".join(
        t("warning.young_leads.step", stage=stage_label(row.stage), share=row.share,
          entered=row.entered)
        for row in flagged.itertuples()
    )  # fmt: skip
    window = math.ceil(flagged["typical_time"].max())
    message = t(
        "warning.young_leads",
        name=log.name,
        steps=steps,
        window=window,
        unit=unit_label(table.attrs["unit"]),
    )
    warnings.warn(message, YoungLeadsWarning, stacklevel=stacklevel)
    return table
