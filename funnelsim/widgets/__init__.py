"""Interactive apps for the notebooks: sliders wired to a lesson and its plot.

Each ``make_<app>(...)`` factory builds and returns an :class:`App` without
displaying it; a notebook cell shows it with ``display(app)`` or by ending
with ``app``. One update function runs on every control change: it calls the
pure function from :mod:`funnelsim.lessons`, draws the result with
:mod:`funnelsim.plotting` on a matplotlib figure rendered by the Agg backend
into an image of fixed height (so the page does not jump), and writes a short
summary in plain words. An error never shows a traceback: its message
appears in place of the summary.

For a classroom every app shows its seed with a "new draw" button (seed + 1:
the same seed gives everyone the same figure), exports its chart to PNG and
SVG in one click, and speaks English or Simplified Chinese: ``lang="zh"`` on
any ``make_*``, or :func:`language_switch` on the page, which redraws every
app shown (labels, chart and summary).

- :mod:`~funnelsim.widgets.app`: :class:`App`, the language switch, controls as
  data (:class:`Control`);
- :mod:`~funnelsim.widgets.game`: notebooks 01-03;
- :mod:`~funnelsim.widgets.logs`: notebooks 04-06;
- :mod:`~funnelsim.widgets.forecast`: notebook 07;
- :mod:`~funnelsim.widgets.manager`: notebook 08 (a rep's day, when to call,
  the target split).

The computed numbers stay on the app, so tests (and curious students) can
drive it from code:

>>> import funnelsim as fs
>>> app = fs.widgets.make_law_of_large_numbers(p=0.5, n=200, reps=5, seed=1)
>>> app.controls["n"].value = 400
>>> app.result.shares.shape
(5, 400)
>>> app.message
''
"""

from ..lessons import PipelineNumbers as PipelineNumbers
from ..lessons import pipeline_numbers as pipeline_numbers
from . import app, forecast, game, logs, manager
from .app import *  # noqa: F403
from .forecast import *  # noqa: F403
from .game import *  # noqa: F403
from .logs import *  # noqa: F403
from .manager import *  # noqa: F403

# PipelineNumbers and pipeline_numbers are computed in funnelsim.lessons; they stay
# importable from here as they always were.
__all__ = sorted(
    [
        "PipelineNumbers",
        "pipeline_numbers",
        *app.__all__,
        *game.__all__,
        *logs.__all__,
        *forecast.__all__,
        *manager.__all__,
    ]
)
