"""Old home of the lessons of notebooks 04-06; they live in :mod:`funnelsim.lessons` now.

``from funnelsim import lessons_logs`` keeps working (with a
``DeprecationWarning``) so that a notebook saved before the restructure
still runs; write ``fs.lessons.true_ratios(...)`` instead.
"""

import warnings

from .i18n import t
from .lessons import logs as _logs
from .lessons import reps as _reps
from .lessons.logs import *  # noqa: F403
from .lessons.reps import *  # noqa: F403

__all__ = [*_logs.__all__, *_reps.__all__]

warnings.warn(
    t("warning.moved", old="funnelsim.lessons_logs", new="funnelsim.lessons"),
    DeprecationWarning,
    stacklevel=2,
)
