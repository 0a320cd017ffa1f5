"""The computation behind each notebook, as pure functions.

Each function here takes plain numbers (or a log, a fit, a pipeline), returns
a small frozen result with a readable ``repr`` and a tidy ``.to_frame()``,
and never touches matplotlib or ipywidgets. The notebooks plot the results
with :mod:`funnelsim.plotting`; the apps in :mod:`funnelsim.widgets`, the
report and the command line call the same functions and only format what
they return; the tests call them directly.

- :mod:`funnelsim.lessons.game`: notebooks 01-02, the numbers game
  (running share, noise by volume, the ratio game);
- :mod:`funnelsim.lessons.revenue`: notebook 03 (revenue steadiness,
  cycle effects);
- :mod:`funnelsim.lessons.logs`: notebooks 04 and 06, estimating from logs
  (true ratios, cohorts, snapshots, the ratio, sample-size and cycle apps);
- :mod:`funnelsim.lessons.reps`: notebook 05 (the reps app);
- :mod:`funnelsim.lessons.forecast`: notebook 07, the report and the
  command line (pace, outlook, pipeline numbers);
- :mod:`funnelsim.lessons.manager`: notebook 08, the manager's dashboard
  (a rep's day, when to call, a deal history by month);
- :mod:`funnelsim.lessons.narrative`: :func:`check_quote`, which keeps the
  numbers quoted in the notebooks' text true;
- :mod:`funnelsim.lessons.open_leads`: notebook 04, how much of a naive
  ratio's gap is open leads, over many simulated logs.

Every name is available here too (``fs.lessons.ratio_game``), as is
:func:`calls_for_precision`: the one in :mod:`funnelsim.intervals`
(``fs.calls_for_precision``), which notebooks 01 and 04 both use.

Randomness comes in only through the ``rng`` keyword (a
:class:`numpy.random.Generator`, a seed, or None), normalised once.
"""

from ..intervals import calls_for_precision
from . import forecast, game, logs, manager, narrative, open_leads, reps, revenue
from .forecast import *  # noqa: F403
from .game import *  # noqa: F403
from .logs import *  # noqa: F403
from .manager import *  # noqa: F403
from .narrative import *  # noqa: F403
from .open_leads import *  # noqa: F403
from .reps import *  # noqa: F403
from .revenue import *  # noqa: F403

__all__ = [
    "calls_for_precision",
    "forecast",
    "game",
    "logs",
    "manager",
    "narrative",
    "open_leads",
    "reps",
    "revenue",
]
__all__ += forecast.__all__ + game.__all__ + logs.__all__ + narrative.__all__
__all__ += open_leads.__all__ + reps.__all__ + revenue.__all__ + manager.__all__
