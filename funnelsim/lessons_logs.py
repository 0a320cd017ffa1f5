"""Old home of the lessons of notebooks 04-06; they live in :mod:`funnelsim.lessons` now.

``from funnelsim import lessons_logs`` keeps working (with a
``DeprecationWarning``) so that a notebook saved before the restructure
still runs; write ``fs.lessons.true_ratios(...)`` instead.
"""

import warnings

from .i18n import t
from .lessons.logs import *  # noqa: F403
from .lessons.logs import __all__  # noqa: F401

warnings.warn(
    t("warning.moved", old="funnelsim.lessons_logs", new="funnelsim.lessons"),
    DeprecationWarning,
    stacklevel=2,
)
