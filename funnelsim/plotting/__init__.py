"""Plots of the lesson results, readable on a projector.

Every function takes a result from :mod:`funnelsim.lessons` (or the
estimates, forecasts and pipelines it builds on) and draws on one
matplotlib ``Axes``: ``plot_x(result, *, ax=None, **kwargs) -> Axes``. With
``ax=None`` a new figure is created; nothing is ever shown (no
``plt.show()``), so the functions work the same in a notebook, a script and a
widget. Wrap them in :func:`style` for large fonts, thick lines and a
colour-blind-safe palette. Every title, axis label and legend entry comes from
:func:`funnelsim.t`, so a translation changes the plots too.

- :mod:`~funnelsim.plotting.theme`: the style, the palette, shared axis helpers;
- :mod:`~funnelsim.plotting.game`: notebooks 01-03 (running share, noise,
  funnel, levers, fan, cycle effects);
- :mod:`~funnelsim.plotting.groups`: notebook 05 (funnel plot, p-chart,
  shrinkage);
- :mod:`~funnelsim.plotting.logs`: notebooks 04 and 06 (ratio table,
  coverage, sample size, sales cycle, open leads, stale leads);
- :mod:`~funnelsim.plotting.outcomes`: notebook 06 (share won by day t);
- :mod:`~funnelsim.plotting.forecast`: notebook 07 (forecast band, pipeline,
  calibration, grade ladder);
- :mod:`~funnelsim.plotting.ladder`: the grade pyramid (open leads per grade);
- :mod:`~funnelsim.plotting.backtest`: notebook 07 (a back-test's bands and PIT);
- :mod:`~funnelsim.plotting.stocks`: notebook 06 (a tracking sheet's stocks
  over the dates);
- :mod:`~funnelsim.plotting.calls`: the manager's dashboard (when to call: the
  connect rate by weekday and hour);
- :mod:`~funnelsim.plotting.manager`: the manager's dashboard (a rep's talk
  times, the target by month and rep);
- :mod:`~funnelsim.plotting.qualification`: the manager's dashboard (the share won
  by intent class and by MAN).

Every public name is available here (``fs.plotting.plot_funnel``).

Examples
--------
>>> import funnelsim as fs
>>> res = fs.lessons.running_share(0.5, 500, reps=20, rng=1)
>>> with fs.plotting.style():
...     ax = fs.plotting.plot_running_share(res)
>>> ax.get_xlabel()
'calls made so far'
"""

from . import (
    backtest,
    calls,
    forecast,
    game,
    groups,
    ladder,
    logs,
    manager,
    outcomes,
    qualification,
    stocks,
    theme,
)
from .backtest import *  # noqa: F403
from .calls import *  # noqa: F403
from .forecast import *  # noqa: F403
from .game import *  # noqa: F403
from .groups import *  # noqa: F403
from .ladder import *  # noqa: F403
from .logs import *  # noqa: F403
from .manager import *  # noqa: F403
from .outcomes import *  # noqa: F403
from .qualification import *  # noqa: F403
from .stocks import *  # noqa: F403
from .theme import *  # noqa: F403

__all__ = sorted(
    theme.__all__
    + game.__all__
    + groups.__all__
    + logs.__all__
    + forecast.__all__
    + stocks.__all__
    + outcomes.__all__
    + backtest.__all__
    + calls.__all__
    + ladder.__all__
    + manager.__all__
    + qualification.__all__
)
