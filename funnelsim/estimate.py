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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ._moved import moved_names
from ._validate import by_columns, check_choice, check_count, check_rng, short, type_name
from .funnel import Funnel
from .i18n import (
    FunnelsimTypeError,
    FunnelsimValueError,
    fields_label,
    method_label,
    stage_label,
    stages_label,
    t,
    unit_label,
)
from .intervals import METHODS, check_level, interval
from .logs import Log, mature_stage_table
from .overall import PRODUCT, Overall, group_keys, group_rows
from .overdispersion import Dispersion, dispersion_table, history_dispersion
from .young import warn_young_leads

__all__ = ["Fit", "Overall", "fit"]

# Names that moved elsewhere in the restructure still resolve here, with a warning.
__getattr__ = moved_names(__name__)

OVERALL_SEED = 20261123  # fixed default seed of Fit.overall: the same log gives the same interval
OVERALL_DRAWS = 100_000
_CHUNK = 4_000_000  # random numbers per block when sampling many groups


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
    history : Log or None
        The log the fit was made on (None for a fit built by hand): where
        :meth:`dispersion` reads how the ratios move from period to period,
        which forecasts and plans use.

    Notes
    -----
    **Open leads.** A lead that reached a stage yesterday has not failed the
    next step: it has not had time to pass it. A plain fit counts it as a
    failure, so every ratio of a log with open leads is biased low (notebook
    06). ``mature=`` counts each step only over the leads old enough at its
    previous stage; each step then has its own cohort.

    **The overall rate.** Without ``mature=`` every step's leads are those
    that passed the step before (one cohort), so last-stage leads out of
    first-stage leads are binomial: :attr:`overall` is the fit's ``method``
    applied to that pair, and a one-step funnel's overall interval is its
    step's interval. With ``mature=`` each step has its own cohort and
    there is no first-to-last count; but each lead either passes a step or
    not, so the likelihood factorises over the steps and with independent
    Jeffreys priors the posteriors of the stage ratios are independent
    ``Beta(passed + 1/2, entered - passed + 1/2)``. The overall rate is then
    the product of the ratios, and its interval comes from the product of
    draws from those posteriors (:meth:`overall_interval`; :attr:`overall`
    uses ``OVERALL_DRAWS`` draws and the fixed seed ``OVERALL_SEED``, so the
    same log always gives the same interval): the lower limit is the
    product's lower quantile, the upper limit the upper quantile of the
    product of ``Beta(passed + 1, entered - passed + 1/2)`` (half a pass
    more per step), because with Jeffreys posteriors on both sides the
    upper limit is too low too often when few leads reach the last stage
    (coverage 0.93 at 95 % at 3 to 5 final events; with half a pass more,
    at least 0.945 over 3 to 5 steps at 50 to 5,000 leads: see the tests).
    A step without leads contributes its prior, so the interval is still
    defined. When the estimate is 0 (a step let no lead through) the lower
    limit is 0, and when it is 1 the upper limit is 1 (the equal-tailed
    interval would leave its own estimate out; Brown, Cai and DasGupta's
    modified Jeffreys interval does the same for one ratio).
    :attr:`Overall.method_label` says which interval it is.

    **Groups.** Each method returns one type whatever the grouping. With
    ``by=``, :attr:`overall` is an :class:`Overall` with one row per group
    (``.to_frame()``, ``.group(key)``); :meth:`group` gives one group's
    :class:`Fit`; :meth:`funnels_by_group`, :meth:`sample_ratios_by_group`
    and :meth:`sample_funnels_by_group` give every group's funnels and
    draws as dicts keyed by group (a value, or a tuple of values for several
    ``by`` columns), in the order of :attr:`groups`. :meth:`to_funnel`,
    :meth:`sample_ratios` and :meth:`sample_funnels` give one funnel, so a
    grouped fit raises there and names the ``_by_group`` method.

    **Steps without leads.** A group in which no lead entered a step (0 at
    the previous stage) has NaN ratio and interval for that step and NaN
    posterior draws; its overall rate is still last / first (0 here) with
    its interval; :attr:`notes` says which. Such a group
    cannot give a funnel: :meth:`funnels_by_group` and
    :meth:`sample_funnels_by_group` raise.

    Examples
    --------
    >>> import funnelsim as fs
    >>> result = fs.fit(fs.datasets.load_events())
    >>> result.stages
    ('dial', 'connect', 'meeting', 'proposal', 'sale')
    >>> result.to_frame().round(3)
          stage  entered  passed  attempts  ratio    low   high
    0   connect     6000    2831      6000  0.472  0.459  0.484
    1   meeting     2831     636      2831  0.225  0.210  0.240
    2  proposal      636     277       636  0.436  0.398  0.474
    3      sale      277      80       277  0.289  0.239  0.345
    >>> print(f"{result.overall.ratio:.4f}")
    0.0133
    """

    stages: tuple[str, ...]
    table: pd.DataFrame
    by: tuple[str, ...] = ()
    confidence_level: float = 0.95
    method: str = "wilson"
    mature: float | None = None
    unit: str = ""
    history: Log | None = field(default=None, repr=False, compare=False)
    _moves: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------ groups
    @property
    def groups(self) -> list[Any]:
        """Group keys in table order (empty without ``by``)."""
        return group_keys(self.table, self.by)

    def group(self, key: Any) -> Fit:
        """The pooled :class:`Fit` of one group (``key``: a value, or a tuple for several ``by``).

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "connects": [40, 40],
        ...                        "meetings": [3, 9]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> fit(log, by="rep").group("bob").to_frame().round(3)
              stage  entered  passed  ratio    low   high
        0  meetings       40       9  0.225  0.123  0.375
        """
        if not self.by:
            raise FunnelsimValueError("error.fit_not_grouped")
        return dataclasses.replace(self, table=group_rows(self.table, self.by, key), by=())

    def _one_funnel(self, method: str) -> None:
        """A grouped fit has one funnel per group: say which method gives them."""
        if self.by:
            raise FunnelsimValueError(
                "error.fit_grouped_funnel",
                method=method,
                by_group=f"{method}_by_group" if method != "to_funnel" else "funnels_by_group",
                by=", ".join(self.by),
                groups=len(self.groups),
            )

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

        Returns an array of shape ``(n, steps)``. Forecasts that simulate
        many funnels at once use this array directly; :meth:`sample_funnels`
        wraps each row in a :class:`Funnel`. A fit with ``by=`` has one
        posterior per group: use :meth:`sample_ratios_by_group` (or
        ``fit.group(key).sample_ratios(n)``).

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"connects": [40], "meetings": [3]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> fit(log).sample_ratios(3, rng=0).round(3)
        array([[0.076],
               [0.048],
               [0.058]])
        """
        self._one_funnel("sample_ratios")
        return self._sample(n, rng)[0]

    def sample_ratios_by_group(
        self, n: int, *, rng: np.random.Generator | int | None = None
    ) -> dict[Any, np.ndarray]:
        """``n`` plausible sets of stage ratios for every group: a dict of ``(n, steps)`` arrays.

        Keys are the group keys in the order of :attr:`groups` (one key,
        None, for a fit without ``by``, whose array is then
        :meth:`sample_ratios`'s for the same ``rng``). Every group is drawn
        in one call, so this is much faster than a loop over
        ``fit.group(key).sample_ratios(n)`` (whose numbers differ: another
        order of draws).

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "connects": [40, 40],
        ...                        "meetings": [3, 9]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> draws = fit(log, by="rep")
        >>> {rep: a.shape for rep, a in draws.sample_ratios_by_group(5, rng=0).items()}
        {'ann': (5, 1), 'bob': (5, 1)}
        """
        draws = self._sample(n, rng)
        keys = self.groups if self.by else [None]
        return dict(zip(keys, draws, strict=True))

    def _sample(self, n: int, rng: np.random.Generator | int | None) -> np.ndarray:
        """Posterior draws of every group at once, shape (groups, n, steps)."""
        n = check_count("n", n, minimum=1)
        gen = check_rng(rng)
        a, b = self._params()
        return self._draw(a, b, n, gen)

    def sample_funnels(
        self, n: int, *, rng: np.random.Generator | int | None = None
    ) -> list[Funnel]:
        """``n`` plausible funnels: each ratio drawn from its Beta posterior.

        Feeding these to a forecast (one simulation per funnel) carries the
        uncertainty of the ratios into the forecast. With ``by=``: see
        :meth:`sample_funnels_by_group`.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"connects": [40], "meetings": [3]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> for funnel in fit(log).sample_funnels(2, rng=0):
        ...     print(funnel)
        Funnel(connects -> meetings; ratios 0.0761; overall 0.0761)
        Funnel(connects -> meetings; ratios 0.048; overall 0.048)
        """
        self._one_funnel("sample_funnels")
        self._require_ratios(self.table, None)
        return [Funnel(self.stages, tuple(row)) for row in self.sample_ratios(n, rng=rng)]

    def sample_funnels_by_group(
        self, n: int, *, rng: np.random.Generator | int | None = None
    ) -> dict[Any, list[Funnel]]:
        """``n`` plausible funnels for every group: a dict of lists, keyed as
        :meth:`sample_ratios_by_group` (whose draws they hold).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [150, 150],
        ...                        "connects": [70, 40], "meetings": [10, 3]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> draws = fs.fit(log, by="rep").sample_funnels_by_group(2, rng=1)
        >>> list(draws), len(draws["bob"])
        (['ann', 'bob'], 2)
        >>> draws["bob"][0]
        Funnel(dials -> connects -> meetings; ratios 0.283, 0.0652; overall 0.0185)
        """
        draws = self.sample_ratios_by_group(n, rng=rng)
        out = {}
        for key, rows in draws.items():
            self._require_ratios(self.table if key is None else self.group(key).table, key)
            out[key] = [Funnel(self.stages, tuple(row)) for row in rows]
        return out

    def to_funnel(self) -> Funnel:
        """The point estimates as a :class:`Funnel`.

        A fit with ``by=`` has one funnel per group: use
        :meth:`funnels_by_group`, or ``fit.group(key).to_funnel()``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"dials": [15], "connects": [7], "meetings": [1]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> fit(log).to_funnel()
        Funnel(dials -> connects -> meetings; ratios 0.467, 0.143; overall 0.0667)
        """
        self._one_funnel("to_funnel")
        self._require_ratios(self.table, None)
        return Funnel(self.stages, tuple(self.table["ratio"]))

    def funnels_by_group(self) -> dict[Any, Funnel]:
        """The point estimates of every group: a dict of :class:`Funnel`, keyed by group.

        Keys in the order of :attr:`groups` (a value, or a tuple for several
        ``by`` columns); one key, None, for a fit without ``by``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "connects": [40, 40],
        ...                        "meetings": [3, 9]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> for rep, funnel in fit(log, by="rep").funnels_by_group().items():
        ...     print(rep, funnel)
        ann Funnel(connects -> meetings; ratios 0.075; overall 0.075)
        bob Funnel(connects -> meetings; ratios 0.225; overall 0.225)
        """
        if not self.by:
            return {None: self.to_funnel()}
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
            raise FunnelsimValueError(
                "error.fit_no_funnel", group=group, group_key=key, stage=stage
            )

    # ------------------------------------------------------------ overall
    def overall_interval(
        self,
        *,
        draws: int = OVERALL_DRAWS,
        rng: np.random.Generator | int | None = OVERALL_SEED,
        product: bool | None = None,
    ) -> Overall:
        """The first-to-last-stage rate with an interval from every stage's uncertainty.

        One cohort (a fit without ``mature=``: every step's leads are those
        that passed the step before): ``passed`` last-stage leads out of
        ``entered`` first-stage leads are binomial, so the interval is the
        fit's ``method`` on that pair, as :func:`~funnelsim.proportion_ci`
        gives it (for a one-step funnel, the step's own interval); ``draws``
        and ``rng`` are not used. Steps with their own cohorts (``mature=``,
        or ``product=True``): the product of posterior draws (see the class
        notes); ``rng`` is fixed by default so that a log always gives the
        same interval; pass ``rng=None`` for fresh randomness. An
        :class:`Overall`, with one row per group with ``by=`` (a group's row
        agrees with ``fit.group(key).overall``, within Monte Carlo error for
        a product).

        Parameters
        ----------
        draws : int, default OVERALL_DRAWS
            Posterior draws of a product interval.
        rng : numpy.random.Generator, int or None, default OVERALL_SEED
            Randomness of a product interval.
        product : bool, optional
            Force the product of posteriors (True) or the one-cohort interval
            (False); by default the product only with ``mature=``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.estimate import fit
        >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
        >>> f = fit(log)
        >>> ratio, low, high = f.overall_interval()  # Wilson on 10 / 150
        >>> print(f"{ratio:.3f} [{low:.3f}, {high:.3f}]")
        0.067 [0.037, 0.118]
        >>> f.overall_interval(product=True, draws=20_000, rng=0)
        Overall(dials -> meetings, 95% product of Jeffreys posteriors (upper limit: half a pass
        more per step), 20,000 draws: 0.0667 [0.0342, 0.118])
        """
        steps = len(self.stages) - 1
        first = self.table["entered"].to_numpy(float).reshape(-1, steps)[:, 0]
        last = self.table["passed"].to_numpy(float).reshape(-1, steps)[:, -1]
        keys = self.table[list(self.by)].iloc[::steps].reset_index(drop=True)
        ends = (self.stages[0], self.stages[-1])
        if not (self.mature is not None if product is None else product):
            ok = first > 0
            ratio, low, high = (np.full(len(first), np.nan) for _ in range(3))
            ratio[ok] = last[ok] / first[ok]
            low[ok], high[ok] = interval(last[ok], first[ok], self.confidence_level, self.method)
            table = keys.assign(
                entered=first.astype(np.int64),
                passed=last.astype(np.int64),
                ratio=ratio,
                low=low,
                high=high,
            )
            return Overall(table, self.by, ends, self.confidence_level, self.method)
        draws = check_count("draws", draws, minimum=1)
        low, high = self._product_limits(draws, check_rng(rng))
        ratios = self.table["ratio"].to_numpy(float).reshape(-1, steps)
        with np.errstate(invalid="ignore"):
            ratio = ratios.prod(axis=1)  # NaN where a step had no leads...
        ratio[(ratios == 0).any(axis=1)] = 0.0  # ...unless another step already let none through
        if self.mature is None:  # one cohort forced into a product: last / first is the same
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(first > 0, last / np.where(first > 0, first, 1.0), np.nan)
            counts = (first.astype(np.int64), last.astype(np.int64))
        else:  # one cohort per step: no first-to-last counts
            counts = tuple(pd.array([pd.NA] * len(keys), dtype="Int64") for _ in range(2))
        # An estimate on the boundary (no lead reached the last stage, or every lead
        # passed every step) gets that boundary as its limit, as Jeffreys intervals do.
        low = np.where(ratio == 0, 0.0, low)
        high = np.where(ratio == 1, 1.0, high)
        table = keys.assign(entered=counts[0], passed=counts[1], ratio=ratio, low=low, high=high)
        return Overall(table, self.by, ends, self.confidence_level, PRODUCT, draws)

    def _product_limits(self, draws: int, gen: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Limits of the product of the steps' posteriors, one pair per group.

        The lower limit is the ``tail`` quantile of the product of Jeffreys
        posteriors ``Beta(k + 1/2, n - k + 1/2)``; the upper limit the
        ``1 - tail`` quantile of the product of ``Beta(k + 1, n - k + 1/2)``
        (half a pass more per step): with Jeffreys posteriors on both sides
        the upper limit falls below the truth too often when few leads reach
        the last stage (coverage 0.93-0.94 at 95 % with 3 to 10 final
        events). A step without leads (``n = 0``) contributes its prior.
        """
        steps = len(self.stages) - 1
        k = self.table["passed"].to_numpy(float).reshape(-1, steps)
        n = self.table["entered"].to_numpy(float).reshape(-1, steps)
        tail = (1.0 - self.confidence_level) / 2.0
        low = np.full(k.shape[0], np.nan)
        high = np.full(k.shape[0], np.nan)
        block = max(1, _CHUNK // (draws * steps))
        for start in range(0, k.shape[0], block):
            part = slice(start, min(start + block, k.shape[0]))
            kp, np_ = k[part], n[part]
            lower = self._draw(kp + 0.5, np_ - kp + 0.5, draws, gen).prod(axis=2)
            low[part] = np.quantile(lower, tail, axis=1)
            upper = self._draw(kp + 1.0, np_ - kp + 0.5, draws, gen).prod(axis=2)
            high[part] = np.quantile(upper, 1.0 - tail, axis=1)
        return low, high

    @cached_property
    def overall(self) -> Overall:
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
            previous = stage_label(self.stages[i % steps])
            stage = stage_label(rows.loc[i, "stage"])
            if self.mature is not None:  # leads may have got there, just not long enough ago
                note = t(
                    "note.no_mature",
                    group=group,
                    previous=previous,
                    stage=stage,
                    window=self.mature,
                    unit=unit_label(self.unit),
                    young=int(rows.loc[i, "young"]),
                )
            else:
                note = t("note.no_entered", group=group, previous=previous, stage=stage)
            out.append(note)
        return tuple(out)

    def mature_note(self) -> str | None:
        """With ``mature=``: the window and how many lead-steps it left out (None without).

        >>> import funnelsim as fs
        >>> log = fs.datasets.load_events()
        >>> print(fs.fit(log, mature="30D").mature_note())
        mature leads only: at least 30 days at each step's previous stage (1,569 younger
        lead-steps left out)
        >>> fs.fit(log).mature_note() is None
        True
        """
        if self.mature is None:
            return None
        young = int(self.table["young"].sum())
        text = t("repr.fit.mature", window=self.mature, unit=unit_label(self.unit), young=young)
        return text.strip()

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: the ``by`` columns, ``stage``, ``entered``, ``passed``, ``ratio``,
        ``low``, ``high`` (one row per group and step).

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "connects": [40, 40],
        ...                        "meetings": [3, 9]})
        >>> log = fs.read_log(counts, format="counts", stages=["connects", "meetings"])
        >>> fs.fit(log, by="rep").to_frame().round(3)
           rep     stage  entered  passed  ratio    low   high
        0  ann  meetings       40       3  0.075  0.026  0.199
        1  bob  meetings       40       9  0.225  0.123  0.375
        """
        return self.table.copy()

    def __repr__(self) -> str:
        head = t(
            "repr.fit.head",
            method=method_label(self.method),
            level=100 * self.confidence_level,
            stages=stages_label(self.stages),
        )
        if self.mature is not None:
            head += "\n  " + self.mature_note()
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
                        stage=stage_label(row.stage),
                        passed=row.passed,
                        entered=row.entered,
                        ratio=row.ratio,
                        low=row.low,
                        high=row.high,
                    )
                )
            ratio, low, high = self.overall
            if self.overall.method == PRODUCT:  # not the method of the steps: say which
                method = self.overall.method_label
                lines.append(
                    t("repr.fit.overall_method", ratio=ratio, low=low, high=high, method=method)
                )
            else:
                lines.append(t("repr.fit.overall", ratio=ratio, low=low, high=high))
        lines += [t("repr.note", note=note) for note in self.notes]
        return "\n".join(lines) + ")"

    def dispersion(
        self, period: str | None = None, *, confidence_level: float | None = None
    ) -> Dispersion:
        """How much each stage ratio moves between periods beyond chance.

        From the fit's own table when it is grouped by ``period``
        (``fit(log, by="month")``; its other groups are summed); otherwise
        from the log it was fitted on (:attr:`history`), over the same leads
        (with ``mature=``, the mature ones). ``period`` defaults to
        ``"period"`` for a fit grouped by it, else the log's period column,
        else weeks of its times. See :func:`funnelsim.overdispersion.dispersion`
        (the same on a log); ``confidence_level`` defaults to the fit's.
        Forecasts and plans use it (:meth:`Dispersion.moving`).

        >>> import funnelsim as fs
        >>> result = fs.fit(fs.datasets.load_counts(), by="period").dispersion()
        >>> result.table[["stage", "periods", "phi"]].round(3)
              stage  periods    phi
        0  connects       26  1.416
        1  meetings       26  0.867
        2     sales       26  1.155
        >>> fs.fit(fs.datasets.load_counts()).dispersion().period   # from the history
        'period'
        """
        level = self.confidence_level if confidence_level is None else confidence_level
        level = check_level(level)
        if period is None and "period" in self.by:
            period = "period"
        if isinstance(period, str) and period in self.by:
            return dispersion_table(self.table, period, self.stages[1:], level)
        found = None
        if self.history is not None and (period is None or isinstance(period, str)):
            key = (period, level)
            if key not in self._moves:
                self._moves[key] = history_dispersion(
                    self.history, period, mature=self.mature, confidence_level=level
                )
            found = self._moves[key]
        if found is None:
            raise FunnelsimValueError(
                "error.fit_no_period",
                period=short(period or "period"),
                by=", ".join(self.by) or "-",
            )
        return found


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
        ``.sample_funnels(n)`` (per group: ``.group(key)``,
        ``.funnels_by_group()``...); see :class:`Fit` for the conventions.

    Raises
    ------
    TypeError
        When ``log`` is not a :class:`~funnelsim.logs.Log`.
    ValueError
        When the log has no leads at its first stage, ``by`` names no group
        column, or the counts rise down the funnel.
    LogError
        ``mature=`` with a log that has no times.

    Warns
    -----
    funnelsim.YoungLeadsWarning
        Without ``mature=``, when more than 10 % of a step's leads are still
        open and younger than the step usually takes
        (:func:`funnelsim.young_leads`); the message suggests a ``mature=``.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.estimate import fit
    >>> counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [150, 150],
    ...                        "connects": [70, 40], "meetings": [10, 3]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings"])
    >>> fit(log)
    Fit(Wilson 95%: dials -> connects -> meetings
      connects: 110/300 = 0.367 [0.314, 0.423]
      meetings: 13/110 = 0.118 [0.0704, 0.192]
      overall: 0.0433 [0.0255, 0.0727])
    >>> fit(log, by="rep").to_frame().round(3)
       rep     stage  entered  passed  ratio    low   high
    0  ann  connects      150      70  0.467  0.389  0.546
    1  ann  meetings       70      10  0.143  0.079  0.243
    2  bob  connects      150      40  0.267  0.202  0.343
    3  bob  meetings       40       3  0.075  0.026  0.199
    >>> fit(log, by="rep").overall.to_frame().round(3)
       rep  entered  passed  ratio    low   high  method  draws
    0  ann      150      10  0.067  0.037  0.118  wilson   <NA>
    1  bob      150       3  0.020  0.007  0.057  wilson   <NA>
    """
    if not isinstance(log, Log):
        raise FunnelsimTypeError(
            "error.type_log", name="log", value=short(log), type=type_name(log)
        )
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    keys = by_columns(by)
    # by group first: an engine's log then sums it for the pooled table, one query fewer
    grouped = log.stage_table(by=list(keys)) if keys and mature is None else None
    pooled = log.stage_table()
    if pooled.empty or pooled["entered"].iloc[0] == 0:
        raise FunnelsimValueError("error.no_first_leads", stage=log.stages[0], name=log.name)
    window, unit = None, ""
    if mature is not None:
        table, window, unit = mature_stage_table(log, mature, list(keys) or None)
    else:
        warn_young_leads(log)  # many young open leads counted as failures: suggest mature=
        table = grouped if keys else pooled
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
    return Fit(
        tuple(log.stages), table, keys, level, method, mature=window, unit=unit, history=log
    )


def _check_table(table: pd.DataFrame, stages: Sequence[str], keys: tuple[str, ...]) -> None:
    """Counts a hand-built log might get wrong: negative, or rising down the funnel."""
    k = table["passed"].to_numpy()
    n = table["entered"].to_numpy()
    bad = (k > n) | (k < 0) | (n < 0)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    group, key = "", None
    if keys:
        key = tuple(table.loc[i, list(keys)])
        key = key[0] if len(key) == 1 else key
        group = t("note.group", key=key)
    previous = stages[i % (len(stages) - 1)]
    if min(k[i], n[i]) < 0:
        name, value = (previous, n[i]) if n[i] < 0 else (table.loc[i, "stage"], k[i])
        raise FunnelsimValueError("error.count_value", name=group + name, value=value, where="")
    raise FunnelsimValueError(
        "error.fit_counts_rising",
        group=group,
        group_key=key,
        stage=table.loc[i, "stage"],
        previous=previous,
        passed=float(k[i]),
        entered=float(n[i]),
    )
