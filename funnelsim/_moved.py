"""Names that moved to another module in the restructure, still found where they were.

A module lists what left it, ``__getattr__ = moved_names(__name__, {...})``;
reading such a name (``fs.groups.p_chart``) returns the object from its new
module with a ``DeprecationWarning`` that says where it lives now, so a
notebook saved before the move keeps running and tells its reader how to
update it. Nothing is imported until a moved name is read.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping

from .i18n import t

#: What each module lost, and where each name went (module path).
MOVED: dict[str, dict[str, str]] = {
    "funnelsim.estimate": dict.fromkeys(
        (
            "CI",
            "calls_for_overall_precision",
            "calls_for_precision",
            "coverage",
            "exact_coverage",
            "proportion_ci",
        ),
        "funnelsim.intervals",
    ),
    "funnelsim.groups": {
        **dict.fromkeys(("PChart", "funnel_limits", "p_chart"), "funnelsim.control"),
        **dict.fromkeys(
            (
                "KINDS",
                "SHAPES",
                "LeakDiagnosis",
                "PipelineDiagnosis",
                "SimpsonCheck",
                "diagnose_leaks",
                "diagnose_pipeline",
                "simpson_check",
                "simpson_example",
            ),
            "funnelsim.diagnose",
        ),
    },
    "funnelsim.survival": {
        **dict.fromkeys(
            (
                "CycleLength",
                "OpenLeadRatios",
                "TimeInStage",
                "cycle_length",
                "open_lead_ratios",
                "stale_leads",
                "time_in_stage",
            ),
            "funnelsim.cycle",
        ),
        "mature_stage_table": "funnelsim.logs",
    },
    "funnelsim.pipeline": {
        **dict.fromkeys(("GRADES", "Ladder", "grade_ladder"), "funnelsim.ladder"),
        "calibration": "funnelsim.reliability",
    },
}


def moved_names(module: str) -> Callable[[str], object]:
    """The module-level ``__getattr__`` of ``module``: its moved names, with a warning."""
    table: Mapping[str, str] = MOVED[module]

    def __getattr__(name: str) -> object:
        if name not in table:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target = table[name]
        old, new = f"{module}.{name}", f"{target}.{name}"
        warnings.warn(t("warning.moved", old=old, new=new), DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(target), name)

    return __getattr__
