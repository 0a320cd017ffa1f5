"""Stage ratios of a log, with honest intervals, pooled or per group.

:func:`fit` estimates every step's ratio of a :class:`~funnelsim.logs.Log`
(``passed`` leads out of ``entered``) with a confidence interval from
:mod:`funnelsim.intervals`, per group with ``by=``, over mature leads only
with ``mature=``, and adds the overall (first-to-last-stage) rate with an
interval that carries the uncertainty of every stage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._validate import (
    check_choice,
    check_count,
    check_rng,
    short,
)
from .funnel import Funnel
from .i18n import FunnelsimValueError, fields_label, method_label, t, unit_label
from .intervals import METHODS, check_level, interval
from .logs import Log, mature_stage_table

__all__ = ["Fit", "Overall", "fit"]

OVERALL_SEED = 20261123  # fixed default seed of Fit.overall: the same log gives the same interval
OVERALL_DRAWS = 100_000
_CHUNK = 4_000_000  # random numbers per block when sampling many groups


class Overall(NamedTuple):
    """The first-to-last-stage rate and its interval."""

    ratio: float
    low: float
    high: float


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
        raise FunnelsimValueError("error.not_a_log", value=short(log))
    level = check_level(confidence_level)
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
    low[ok], high[ok] = interval(k[ok], n[ok], level, method)
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


def _is_missing(value: Any) -> bool:
    """True for a scalar missing value (None, NaN, NaT, pd.NA)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like key is never "missing"
        return False


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
