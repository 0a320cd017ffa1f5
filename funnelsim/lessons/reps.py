"""The computation behind notebook 05 (comparing reps), as pure functions.

:func:`comparing_reps` compares the groups of a log (reps, sources) at every
step at once: shrunken ratios and tests against the rest of the team
(:func:`funnelsim.compare_groups`), leaks (:func:`funnelsim.diagnose_leaks`)
and the weekly p-chart (:func:`funnelsim.p_chart`); :meth:`ComparingReps.at_step`
gives what the reps app says about one step. Nothing here touches
matplotlib or ipywidgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .._validate import by_columns, check_choice, short, type_name
from ..control import PChart, p_chart
from ..diagnose import LeakDiagnosis, diagnose_leaks
from ..groups import GroupComparison, compare_groups
from ..i18n import FunnelsimTypeError, FunnelsimValueError, fields_label, t
from ..logs import Log

__all__ = ["ComparingReps", "RepsAtStep", "comparing_reps"]


@dataclass(frozen=True)
class RepsAtStep:
    """What the reps app says about one step, from :meth:`ComparingReps.at_step`.

    A group is named by its key: the tuple of its values in the ``by``
    columns (``("Chen",)``), the same in every language.

    Attributes
    ----------
    stage : str
        The step (named after the stage it leads to).
    team_ratio : float
        The whole team's ratio at the step.
    lowest, highest : tuple
        The groups with the lowest and the highest raw ratio (the first on a tie).
    low, high : float
        Their raw ratios.
    shrunk_low, shrunk_high : float
        The lowest and the highest ratio shrunk towards the team.
    differing : tuple of tuple
        The groups that differ from the rest of the team by more than chance here.
    tests : int
        The tests the adjustment covers (every group at every step).
    leaking : tuple of tuple
        The groups significantly below the rest of the team here.
    leak_kind : str or None
        The part of the funnel the step is in (``"top"``, ``"middle"``,
        ``"bottom"``, ``"whole"``: the decks' likely causes); None without a leak.
    chart_group : tuple or None
        The group whose p-chart is counted (None: the whole team).
    chart_periods, chart_flagged : int or None
        Its periods at this step, and those outside the limits (None: no p-chart).

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import comparing_reps
    >>> counts = pd.DataFrame({"period": ["w1", "w1", "w2", "w2"], "rep": ["ann", "bob"] * 2,
    ...                        "dials": [150, 150, 150, 150], "connects": [70, 40, 68, 45]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects"])
    >>> res = comparing_reps(log)
    >>> step = res.at_step("connects")
    >>> step.stage, round(step.team_ratio, 3), step.lowest, step.highest
    ('connects', 0.372, ('bob',), ('ann',))
    >>> step.leaking, step.leak_kind
    ((('bob',),), 'whole')
    """

    stage: str
    team_ratio: float
    lowest: tuple
    low: float
    highest: tuple
    high: float
    shrunk_low: float
    shrunk_high: float
    differing: tuple[tuple, ...]
    tests: int
    leaking: tuple[tuple, ...]
    leak_kind: str | None
    chart_group: tuple | None = None
    chart_periods: int | None = None
    chart_flagged: int | None = None


def _keys(rows: pd.DataFrame, by: Sequence[str]) -> list[tuple]:
    """Each row's group key: its values in the ``by`` columns."""
    return list(zip(*(rows[column].tolist() for column in by), strict=True))


@dataclass(frozen=True, repr=False, eq=False)
class ComparingReps:
    """Groups compared at every step: shrinkage and tests, leaks, and the p-chart.

    Attributes
    ----------
    comparison : GroupComparison
        :func:`funnelsim.compare_groups` at every step (the p-values
        adjusted over every group and step together).
    leaks : LeakDiagnosis
        :func:`funnelsim.diagnose_leaks` of each group against the rest of
        the team, at every step.
    chart : PChart or None
        :func:`funnelsim.p_chart` at every step, period by period (one chart
        per group; one for the team when the groups *are* the periods);
        None when the log has no period column.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import comparing_reps
    >>> counts = pd.DataFrame({"period": ["w1", "w1", "w2", "w2"], "rep": ["ann", "bob"] * 2,
    ...                        "dials": [150, 150, 150, 150], "connects": [70, 40, 68, 45]})
    >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects"])
    >>> res = comparing_reps(log)
    >>> res.by, res.stages
    (('rep',), ('connects',))
    >>> res.leaks.leaks[["rep", "stage", "status"]]
       rep     stage status
    0  bob  connects   leak
    """

    comparison: GroupComparison
    leaks: LeakDiagnosis
    chart: PChart | None

    @property
    def by(self) -> tuple[str, ...]:
        return self.comparison.by

    @property
    def confidence_level(self) -> float:
        return self.comparison.confidence_level

    @property
    def stages(self) -> tuple[str, ...]:
        return self.comparison.stages

    def at_step(self, stage: str, group: object = None) -> RepsAtStep:
        """The numbers the app states about one step: extremes, differences, leaks, p-chart.

        Parameters
        ----------
        stage : str
            A step of :attr:`stages`.
        group : object, optional
            The group (its value in the chart's group column) whose p-chart
            periods are counted; ignored when the chart is the team's.

        Raises
        ------
        FunnelsimValueError
            An unknown step, or one no group has a lead at yet.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.lessons import comparing_reps
        >>> counts = pd.DataFrame({"period": ["w1", "w1", "w2", "w2"], "rep": ["ann", "bob"] * 2,
        ...                        "dials": [150, 150, 150, 150], "connects": [70, 40, 68, 45]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects"])
        >>> step = comparing_reps(log).at_step("connects", group="bob")
        >>> step.lowest, round(step.low, 3), step.differing, step.leaking
        (('bob',), 0.283, (('ann',), ('bob',)), (('bob',),))
        >>> step.chart_group, step.chart_periods, step.chart_flagged
        (('bob',), 2, 0)
        """
        comp = self.comparison
        stage = check_choice("stage", stage, comp.stages)
        rows = comp.table[(comp.table["stage"] == stage) & comp.table["ratio"].notna()]
        if rows.empty:
            raise FunnelsimValueError("error.step_no_leads", stage=stage, by=fields_label(self.by))
        keys = dict(zip(rows.index, _keys(rows, self.by), strict=True))
        lo, hi = rows["ratio"].idxmin(), rows["ratio"].idxmax()
        leaks = self.leaks.leaks
        leaks = leaks[leaks["stage"] == stage]
        chart = {}
        if self.chart is not None:
            crows = self.chart.table[self.chart.table["stage"] == stage]
            if self.chart.by:
                crows = crows[crows[self.chart.by[0]] == group]
            chart = {
                "chart_group": (group,) if self.chart.by else None,
                "chart_periods": len(crows),
                "chart_flagged": int((crows["signal"] != "").sum()),
            }
        return RepsAtStep(
            stage=stage,
            team_ratio=float(comp.steps.loc[comp.steps["stage"] == stage, "team_ratio"].iloc[0]),
            lowest=keys[lo],
            low=float(rows.loc[lo, "ratio"]),
            highest=keys[hi],
            high=float(rows.loc[hi, "ratio"]),
            shrunk_low=float(rows["shrunk"].min()),
            shrunk_high=float(rows["shrunk"].max()),
            differing=tuple(keys[i] for i in rows.index[rows["differs"].to_numpy(bool)]),
            tests=int(comp.table["p_value"].notna().sum()),
            leaking=tuple(_keys(leaks, self.by)),
            leak_kind=str(leaks["kind"].iloc[0]) if len(leaks) else None,
            **chart,
        )

    def to_frame(self) -> pd.DataFrame:
        """:meth:`GroupComparison.to_frame` with the leak diagnosis' ``status`` and ``cause``.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> from funnelsim.lessons import comparing_reps
        >>> counts = pd.DataFrame({"period": ["w1", "w1", "w2", "w2"], "rep": ["ann", "bob"] * 2,
        ...                        "dials": [150, 150, 150, 150], "connects": [70, 40, 68, 45]})
        >>> log = fs.read_log(counts, format="counts", stages=["dials", "connects"])
        >>> res = comparing_reps(log)
        >>> res.to_frame()[["rep", "stage", "ratio", "status", "cause"]].round(3)
           rep     stage  ratio status  cause
        0  ann  connects  0.460     ok
        1  bob  connects  0.283   leak  whole
        """
        keys = [*self.by, "stage"]
        leak = self.leaks.table[[*keys, "status", "cause"]]
        return self.comparison.to_frame().merge(leak, on=keys, how="left", validate="1:1")

    def __repr__(self) -> str:
        chart = (
            t("repr.comparing_reps.no_chart")
            if self.chart is None
            else t("repr.comparing_reps.chart", n=len(self.chart.flagged))
        )
        return t(
            "repr.comparing_reps",
            by=fields_label(self.by),
            differs=int(self.comparison.table["differs"].sum()),
            leaks=len(self.leaks.leaks),
            chart=chart,
            comparison=repr(self.comparison),
        )


def comparing_reps(
    log: Log,
    *,
    by: str | Sequence[str] = "rep",
    confidence_level: float = 0.95,
    period: str = "period",
) -> ComparingReps:
    """Compare groups of a log at every step: raw against shrunk, leaks, and the p-chart.

    Glue for the app of notebook 05: one call each of
    :func:`funnelsim.compare_groups`, :func:`funnelsim.diagnose_leaks`
    (``benchmark="team"``) and, when the log has a ``period`` column,
    :func:`funnelsim.p_chart` (3-sigma limits; per group unless the groups
    are the periods, then one chart for the team).

    Parameters
    ----------
    log : Log
        A log with at least one group column (``log.group_columns``).
    by : str or sequence of str, default "rep"
        The group column(s).
    confidence_level : float, default 0.95
        Level of the intervals, the tests and the leak diagnosis.
    period : str, default "period"
        The period column of the p-chart.

    Returns
    -------
    ComparingReps

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> from funnelsim.lessons import comparing_reps
    >>> counts = pd.DataFrame({"period": ["w1", "w1", "w2", "w2"], "rep": ["ann", "bob"] * 2,
    ...                        "dials": [150, 150, 150, 150], "connects": [70, 40, 68, 45]})
    >>> res = comparing_reps(fs.read_log(counts, format="counts", stages=["dials", "connects"]))
    >>> res.to_frame()[["rep", "ratio", "shrunk", "differs", "status"]].round(3)
       rep  ratio  shrunk  differs status
    0  ann  0.460   0.451     True     ok
    1  bob  0.283   0.292     True   leak
    >>> len(res.chart.flagged)        # both reps steady, week on week
    0
    """
    if not isinstance(log, Log):
        raise FunnelsimTypeError(
            "error.type_log", name="log", value=short(log), type=type_name(log)
        )
    keys = by_columns(by)
    comparison = compare_groups(log, by=keys, confidence_level=confidence_level)
    leaks = diagnose_leaks(log, benchmark="team", by=keys, confidence_level=confidence_level)
    chart = None
    if period in log.group_columns:
        rest = [k for k in keys if k != period]
        chart = p_chart(log, period=period, by=rest or None)
    return ComparingReps(comparison=comparison, leaks=leaks, chart=chart)
