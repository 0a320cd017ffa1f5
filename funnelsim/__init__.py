"""funnelsim: teach and measure the telesales numbers game.

>>> import funnelsim as fs
>>> f = fs.Funnel(["dials", "connects", "meetings", "sales"], [7/15, 1/7, 1/8])
>>> sim = fs.simulate(f, calls=75, periods=52, reps=2000, cycle=fs.Cycle(4), rng=42)
>>> sim.summary("sales", block=13)["mean"].round(1).tolist()   # sales per quarter
[8.1, 8.1, 8.1, 8.1]
"""

import importlib as _importlib

from . import (
    backtesting,
    calls,
    control,
    cycle,
    datasets,
    diagnose,
    estimate,
    groups,
    intervals,
    ladder,
    lessons,
    outcomes,
    overdispersion,
    pipeline,
    presets,
    qualification,
    reliability,
    stocks,
    survival,
    targets,
    theory,
    young,
)
from ._version import __version__
from .backtesting import Backtest, BacktestCutoffWarning, BacktestWarning, backtest
from .calls import Calls, read_calls
from .control import p_chart
from .cycle import cycle_length, open_lead_ratios, stale_leads, time_in_stage
from .diagnose import diagnose_leaks, diagnose_pipeline
from .distributions import Cycle, DealSize
from .estimate import Fit, fit
from .forecasting import Forecast, forecast
from .funnel import Funnel
from .groups import compare_groups
from .i18n import (
    FunnelsimError,
    FunnelsimTypeError,
    FunnelsimValueError,
    get_language,
    labelled,
    language,
    set_language,
    t,
)
from .intervals import (
    CI,
    calls_for_overall_precision,
    calls_for_precision,
    coverage,
    exact_coverage,
    proportion_ci,
)
from .ladder import Ladder, grade_ladder
from .logs import Log, LogError, read_log
from .outcomes import WonBy, demotion_table, loss_reasons, won_by
from .overdispersion import Dispersion, dispersion
from .pipeline import Pipeline, read_pipeline
from .planning import Plan, plan_calls
from .qualification import Qualification, TrendTest, man_rule, qualify, trend_test
from .reliability import Calibration, calibration
from .simulation import Simulation, simulate
from .stocks import Snapshot, read_snapshot
from .survival import Survival, kaplan_meier
from .targets import (
    Attainment,
    Headcount,
    Levers,
    TargetSplit,
    attainment,
    read_targets,
    reps_needed,
    split_target,
    three_levers,
)
from .theory import (
    Moments,
    back_calculate,
    calls_for_expected,
    calls_for_target,
    compare_levers,
    cv_floor,
    prob_reach,
    revenue_cv,
    variance_shares,
)
from .young import YoungLeadsWarning, young_leads

# Submodules that pull in matplotlib or ipywidgets (plotting, widgets, report, fonts, and
# cli through report) load on first use, ``fs.plotting``, so ``import funnelsim`` stays
# light (about a second less) for scripts and the command line.
_LAZY = ("cli", "fonts", "plotting", "report", "widgets")


def __getattr__(name: str):
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'funnelsim' has no attribute {name!r}")


__all__ = [
    "CI",
    "Attainment",
    "Backtest",
    "BacktestCutoffWarning",
    "BacktestWarning",
    "Calibration",
    "Calls",
    "Cycle",
    "DealSize",
    "Dispersion",
    "Fit",
    "Forecast",
    "Funnel",
    "FunnelsimError",
    "FunnelsimTypeError",
    "FunnelsimValueError",
    "Headcount",
    "Ladder",
    "Levers",
    "Log",
    "LogError",
    "Moments",
    "Pipeline",
    "Plan",
    "Qualification",
    "Simulation",
    "Snapshot",
    "Survival",
    "TargetSplit",
    "TrendTest",
    "WonBy",
    "YoungLeadsWarning",
    "__version__",
    "attainment",
    "back_calculate",
    "backtest",
    "backtesting",
    "calibration",
    "calls",
    "calls_for_expected",
    "calls_for_overall_precision",
    "calls_for_precision",
    "calls_for_target",
    "compare_groups",
    "compare_levers",
    "control",
    "coverage",
    "cv_floor",
    "cycle",
    "cycle_length",
    "datasets",
    "demotion_table",
    "diagnose",
    "diagnose_leaks",
    "diagnose_pipeline",
    "dispersion",
    "estimate",
    "exact_coverage",
    "fit",
    "forecast",
    "get_language",
    "grade_ladder",
    "groups",
    "intervals",
    "kaplan_meier",
    "labelled",
    "ladder",
    "language",
    "lessons",
    "loss_reasons",
    "man_rule",
    "open_lead_ratios",
    "outcomes",
    "overdispersion",
    "p_chart",
    "pipeline",
    "plan_calls",
    "presets",
    "prob_reach",
    "proportion_ci",
    "qualification",
    "qualify",
    "read_calls",
    "read_log",
    "read_pipeline",
    "read_snapshot",
    "read_targets",
    "reliability",
    "reps_needed",
    "revenue_cv",
    "set_language",
    "simulate",
    "split_target",
    "stale_leads",
    "stocks",
    "survival",
    "t",
    "targets",
    "theory",
    "three_levers",
    "time_in_stage",
    "trend_test",
    "variance_shares",
    "won_by",
    "young",
    "young_leads",
]
