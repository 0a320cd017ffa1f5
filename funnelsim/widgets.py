"""Interactive apps for the notebooks: sliders wired to a lesson and its plot.

Each ``make_<app>(...)`` factory builds and returns an :class:`App` without
displaying it; a notebook cell shows it with ``display(app)`` or by ending
with ``app``. One update function runs on every control change: it calls the
pure function from :mod:`funnelsim.lessons`, draws the result with
:mod:`funnelsim.plotting` on a matplotlib figure rendered by the Agg backend
into an image of fixed height (so the page does not jump), and writes a short
summary in plain words. An error never shows a traceback: its message
appears in place of the summary.

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

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import lessons, plotting, presets
from .distributions import Cycle, DealSize
from .funnel import Funnel
from .i18n import t

__all__ = ["App", "make_law_of_large_numbers", "make_ratio_game", "make_revenue_steadiness"]

DEFAULT_SEED = 2024
_DPI = 80
_SLOW = {"continuous_update": False}
_WIDE = {"description_width": "initial"}
# Unhinted glyphs render about 20 % faster and look the same on a screen.
_FAST_TEXT = {"text.hinting": "no_hinting"}


class App:
    """A widget app: controls, one update function, the last result and its figure.

    Built by the ``make_*`` factories; you rarely create one yourself.

    Parameters
    ----------
    title : str
        Heading shown above the controls.
    controls : mapping of str to ipywidgets.ValueWidget
        Named controls; their ``.value`` are passed to ``compute``.
    compute : callable
        ``compute(values) -> result``: calls the pure lesson function (which
        may raise ``ValueError``).
    draw : callable
        ``draw(result, axes, values)``: draws the result on the list of axes.
    describe : callable
        ``describe(result, values) -> str``: a summary in plain words (HTML).
    panels : callable
        ``panels(values) -> dict`` of keyword arguments for
        :meth:`matplotlib.figure.Figure.subplots` (``ncols``, ``width_ratios``).
    view : tuple of str
        Names of controls that change only the picture: changing them redraws
        the last result without computing it again.
    figsize : (float, float)
        Figure size in inches (the image is ``figsize * 80`` pixels).
    columns : int
        Columns of the grid of controls.

    Attributes
    ----------
    controls : dict of str to widget
        Set a control's ``.value`` to update the app.
    result : object or None
        The last result of ``compute`` (None after an error).
    figure : matplotlib.figure.Figure
        The figure, redrawn on every update (always the same object: no
        figure piles up in memory).
    message : str
        The last error message ('' when all went well).
    widget : ipywidgets.VBox
        The whole app; Jupyter displays it when the app is displayed.
    """

    def __init__(
        self,
        *,
        title: str,
        controls: Mapping[str, W.ValueWidget],
        compute: Callable[[dict[str, Any]], Any],
        draw: Callable[[Any, list[Axes], dict[str, Any]], None],
        describe: Callable[[Any, dict[str, Any]], str],
        panels: Callable[[dict[str, Any]], dict[str, Any]] = lambda values: {},
        view: tuple[str, ...] = (),
        figsize: tuple[float, float] = (12.0, 5.5),
        columns: int = 3,
    ) -> None:
        self.controls: dict[str, W.ValueWidget] = dict(controls)
        self.result: Any = None
        self.message: str = ""
        self._compute = compute
        self._draw = draw
        self._describe = describe
        self._panels = panels
        self._view = tuple(view)
        self._inputs: dict[str, Any] | None = None
        self._axes: list[Axes] | None = None
        self._axes_key: object = None
        self._layout_key: object = None
        self.figure = Figure(figsize=figsize, dpi=_DPI)
        FigureCanvasAgg(self.figure)
        height = int(figsize[1] * _DPI)
        self.image = W.Image(
            format="png",
            layout=W.Layout(width="100%", height=f"{height}px", object_fit="contain"),
        )
        self.summary = W.HTML(layout=W.Layout(min_height="3.5em"))
        grid = W.GridBox(
            list(self.controls.values()),
            layout=W.Layout(
                grid_template_columns=f"repeat({columns}, minmax(0, 1fr))",
                grid_gap="4px 16px",
                width="100%",
            ),
        )
        self.widget = W.VBox(
            [W.HTML(f"<h3>{html.escape(title)}</h3>"), grid, self.summary, self.image],
            layout=W.Layout(width="100%"),
        )
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    # ------------------------------------------------------------- update
    @property
    def values(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: c.value for name, c in self.controls.items()}

    def update(self, change: object = None) -> None:
        """Recompute (unless only a view control changed) and redraw.

        Called on every control change; call it yourself to refresh. An
        error is shown as a message in the app, never raised.
        """
        values = self.values
        inputs = {k: v for k, v in values.items() if k not in self._view}
        try:
            if self.result is None or inputs != self._inputs:
                self.result = None
                self._inputs = None
                self.result = self._compute(values)
                self._inputs = inputs
            with plotting.style(), mpl.rc_context(_FAST_TEXT):
                self._render(values)
            self.message = ""
            self.summary.value = self._describe(self.result, values)
        except Exception as exc:  # shown to the room, never raised
            self.result = None
            self.message = (
                str(exc)
                if isinstance(exc, ValueError)
                else t("app.unexpected", kind=type(exc).__name__, text=str(exc))
            )
            self.summary.value = (
                f'<div style="color:#b00020"><b>{html.escape(t("app.error"))}</b> '
                f"{html.escape(self.message)}</div>"
            )
            with plotting.style():
                self.figure.clear()
                self._axes = None
                self.figure.text(
                    0.5, 0.5, t("app.fix_controls"), ha="center", va="center", color="#b00020"
                )
                self.image.value = self._png()

    def _render(self, values: dict[str, Any]) -> None:
        """Draw on reused axes; lay the figure out only when the axes or their labels change.

        Creating axes and running the layout engine cost more than drawing the
        data, so both happen only when needed (see ``benchmarks/bench_widgets.py``).
        """
        panels = self._panels(values)
        axes_key = (repr(panels), tuple(values[k] for k in self._view))
        if self._axes is None or axes_key != self._axes_key:
            self.figure.clear()
            self._axes = list(np.atleast_1d(self.figure.subplots(**panels)))
            self._axes_key = axes_key
            self._layout_key = None
        else:
            for ax in self._axes:
                _strip(ax)
        self._draw(self.result, self._axes, values)
        layout_key = (axes_key, tuple(_label_widths(ax) for ax in self._axes))
        if layout_key != self._layout_key:
            self.figure.set_layout_engine("constrained")
            self.figure.canvas.draw()
            self.figure.set_layout_engine("none")
            self._layout_key = layout_key
        self.image.value = self._png()

    def _png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
        return buf.getvalue()

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        shown = self.message or repr(self.result)
        return f"App({', '.join(self.controls)}): {shown}"


def _strip(ax: Axes) -> None:
    """Remove what a plot function drew, keeping the axes, its ticks and its scales."""
    for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    ax.containers.clear()
    ax.relim()
    ax.set_autoscale_on(True)


def _label_widths(ax: Axes) -> tuple[int, int]:
    """Rough width of the longest y tick label (and the x limits' digits), for re-layout."""
    lo, hi = ax.get_ylim()
    xlo, xhi = ax.get_xlim()
    return len(f"{max(abs(lo), abs(hi)):,.0f}"), len(f"{max(abs(xlo), abs(xhi)):,.0f}")


# ------------------------------------------------------------------ helpers
def _seed(value: int) -> W.BoundedIntText:
    return W.BoundedIntText(
        value=int(value), min=0, max=2**31 - 1, description=t("app.seed"), style=_WIDE
    )


def _ratio_sliders(funnel: Funnel) -> dict[str, W.FloatSlider]:
    out = {}
    for k, r in enumerate(funnel.ratios):
        out[f"ratio_{k}"] = W.FloatSlider(
            value=max(0.001, float(r)),
            min=0.001,
            max=1.0,
            step=0.001,
            readout_format=".1%",
            description=t("app.ratio", upper=funnel.stages[k], lower=funnel.stages[k + 1]),
            style=_WIDE,
            **_SLOW,
        )
    return out


def _funnel_from(funnel: Funnel, values: Mapping[str, Any]) -> Funnel:
    ratios = tuple(values[f"ratio_{k}"] for k in range(len(funnel.ratios)))
    return Funnel(funnel.stages, ratios)


def _deal_controls(mean: float, cv: float) -> dict[str, W.ValueWidget]:
    """The deal-size mean and spread controls that the apps share."""
    return {
        "deal_size": W.BoundedFloatText(
            value=mean,
            min=1,
            max=1e9,
            step=1_000,
            description=t("app.deal_size"),
            style=_WIDE,
        ),
        "deal_cv": W.FloatSlider(
            value=cv,
            min=0.0,
            max=2.0,
            step=0.05,
            description=t("app.deal_cv"),
            style=_WIDE,
            **_SLOW,
        ),
    }


def _deal_size(mean: float, cv: float) -> DealSize:
    return DealSize.gamma(mean, cv=cv)


def _funnel_arg(funnel: Funnel | str) -> Funnel:
    return presets.get(funnel).funnel if isinstance(funnel, str) else funnel


# ------------------------------------------------------- 01 law of large numbers
def make_law_of_large_numbers(
    p: float = 0.5,
    n: int = 1000,
    reps: int = 20,
    *,
    seed: int = DEFAULT_SEED,
    max_n: int = 20_000,
    max_reps: int = 200,
) -> App:
    """The law of large numbers: running share of successes, rep by rep.

    Controls: chance of success ``p``, calls per rep ``n``, number of reps,
    seed.

    Parameters
    ----------
    p, n, reps : float, int, int
        Starting values of the controls.
    seed : int
        Starting seed (the same seed gives the same picture).
    max_n, max_reps : int
        Slider ranges.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.RunningShare`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_law_of_large_numbers(p=0.3, n=500, reps=10, seed=3)
    >>> round(app.result.half_width, 3)
    0.04
    >>> app.controls["n"].value = 2000
    >>> round(app.result.half_width, 3)      # four times the calls, half the band
    0.02
    """
    controls = {
        "p": W.FloatSlider(
            value=p,
            min=0.005,
            max=0.995,
            step=0.005,
            readout_format=".1%",
            description=t("app.lln.p"),
            style=_WIDE,
            **_SLOW,
        ),
        "n": W.IntSlider(
            value=n,
            min=10,
            max=max_n,
            step=10,
            description=t("app.lln.n"),
            style=_WIDE,
            **_SLOW,
        ),
        "reps": W.IntSlider(
            value=reps, min=1, max=max_reps, description=t("app.lln.reps"), style=_WIDE, **_SLOW
        ),
        "seed": _seed(seed),
    }

    def compute(v):
        return lessons.running_share(v["p"], v["n"], v["reps"], rng=v["seed"])

    def draw(result, axes, v):
        plotting.plot_running_share(result, ax=axes[0])

    def describe(r, v):
        if r.reps == 1:
            return t(
                "app.lln.summary_one",
                n=r.n,
                share=float(r.final[0]),
                p=r.p,
                half=r.half_width,
                level=r.confidence_level,
            )
        return t(
            "app.lln.summary",
            n=r.n,
            reps=r.reps,
            low=float(r.final.min()),
            high=float(r.final.max()),
            p=r.p,
            inside=r.inside,
            half=r.half_width,
            level=r.confidence_level,
        )

    return App(
        title=t("app.lln.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        figsize=(12, 5.5),
        columns=2,
    )


# --------------------------------------------------------------- 02 ratio game
def make_ratio_game(
    funnel: Funnel | str = "daily ratio game",
    *,
    calls: int = 15,
    periods: int = 250,
    target: float = 500_000,
    deal_size: float = 10_000,
    deal_cv: float = 0.5,
    probability: float = 0.9,
    max_calls: int = 200,
) -> App:
    """The ratio game: each ratio, calls per day, the target and the two levers.

    Controls: one slider per ratio, dials per day, working days in the plan,
    target revenue, average deal size and its spread, how sure the plan must
    be, and the two levers (extra dials a day; which ratio to improve and by
    how much). The app shows the funnel (what the dials give on average
    against what the target needs), the two levers, and in words the chance
    of reaching the target and the dials a day a sure plan needs.

    Parameters
    ----------
    funnel : Funnel or str
        A funnel or the name of a preset (``"daily ratio game"``).
    calls, periods, target, deal_size, deal_cv, probability : numbers
        Starting values: dials a day, working days, target revenue, average
        deal size, its coefficient of variation, how sure.
    max_calls : int
        Top of the dials-a-day slider.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.RatioGame`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_ratio_game()
    >>> app.result.plan_calls, app.result.sure_calls
    (24, 30)
    >>> app.controls["ratio_0"].value = 8 / 15     # one more connect per 15 dials
    >>> app.result.plan_calls
    21
    """
    base = _funnel_arg(funnel)
    stage_names = list(base.stages[1:])
    controls: dict[str, W.ValueWidget] = {}
    controls.update(_ratio_sliders(base))
    controls.update(
        {
            "calls": W.IntSlider(
                value=calls,
                min=1,
                max=max_calls,
                description=t("app.ratio_game.calls"),
                style=_WIDE,
                **_SLOW,
            ),
            "periods": W.IntSlider(
                value=periods,
                min=5,
                max=260,
                step=5,
                description=t("app.ratio_game.periods"),
                style=_WIDE,
                **_SLOW,
            ),
            "target": W.BoundedFloatText(
                value=target,
                min=1,
                max=1e12,
                step=10_000,
                description=t("app.ratio_game.target"),
                style=_WIDE,
            ),
            **_deal_controls(deal_size, deal_cv),
            "probability": W.FloatSlider(
                value=probability,
                min=0.5,
                max=0.99,
                step=0.01,
                readout_format=".0%",
                description=t("app.ratio_game.probability"),
                style=_WIDE,
                **_SLOW,
            ),
            "extra_calls": W.IntSlider(
                value=calls,
                min=0,
                max=max_calls,
                description=t("app.ratio_game.extra_calls"),
                style=_WIDE,
                **_SLOW,
            ),
            "stage": W.Dropdown(
                options=stage_names,
                value=stage_names[0],
                description=t("app.ratio_game.stage"),
                style=_WIDE,
            ),
            "step": W.FloatSlider(
                value=round(1 / calls, 3),
                min=0.0,
                max=0.5,
                step=0.001,
                readout_format=".1%",
                description=t("app.ratio_game.step"),
                style=_WIDE,
                **_SLOW,
            ),
        }
    )

    def compute(v):
        f = _funnel_from(base, v)
        k = f.stages.index(v["stage"]) - 1
        return lessons.ratio_game(
            f,
            v["calls"],
            target=v["target"],
            periods=v["periods"],
            deal_size=_deal_size(v["deal_size"], v["deal_cv"]),
            extra_calls=v["extra_calls"],
            stage=v["stage"],
            new_ratio=min(1.0, f.ratios[k] + v["step"]),
            probability=v["probability"],
        )

    def draw(result, axes, v):
        plotting.plot_funnel(result, ax=axes[0], period="day")
        plotting.plot_levers(result, ax=axes[1], period="day")

    def describe(r, v):
        sales = float(r.expected.iloc[-1])
        return t(
            "app.ratio_game.summary",
            calls=r.calls,
            periods=r.periods,
            sales=sales,
            revenue=r.expected_result,
            target=r.target,
            p_current=html.escape(plotting.chance(r.p_current)),
            plan=r.plan_calls,
            p_plan=html.escape(plotting.chance(r.p_plan)),
            probability=r.probability,
            sure=r.sure_calls,
            margin=r.margin,
        )

    return App(
        title=t("app.ratio_game.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        panels=lambda v: {"ncols": 2},
        figsize=(16, 6),
        columns=3,
    )


# ------------------------------------------------------- 03 revenue steadiness
def make_revenue_steadiness(
    funnel: Funnel | str = "six-stage weekly funnel",
    *,
    calls: int = 100,
    cycle: float = 4.0,
    cycle_cv: float = 0.5,
    deal_size: float = 10_000,
    deal_cv: float = 0.5,
    reps: int = 2000,
    periods: int = 52,
    seed: int = DEFAULT_SEED,
    max_calls: int = 1000,
) -> App:
    """How steady is revenue? Fan chart by week or month, and noise against calls.

    Controls: calls per week, one slider per ratio, sales-cycle mean and
    spread, deal-size mean and spread, reps, weeks, seed, and whether the fan
    chart shows weeks or months (changing only that redraws without
    simulating again).

    Parameters
    ----------
    funnel : Funnel or str
        A funnel or the name of a preset (``"six-stage weekly funnel"``).
    calls, cycle, cycle_cv, deal_size, deal_cv, reps, periods, seed : numbers
        Starting values of the controls.
    max_calls : int
        Top of the calls slider.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.RevenueSteadiness`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_revenue_steadiness(reps=500, seed=1)
    >>> round(app.result.theory_cv("week"), 3)
    0.498
    >>> app.controls["calls"].value = 400          # four times the calls
    >>> round(app.result.theory_cv("week"), 3)     # half the noise
    0.249
    """
    base = _funnel_arg(funnel)
    controls: dict[str, W.ValueWidget] = {
        "calls": W.IntSlider(
            value=calls,
            min=5,
            max=max_calls,
            step=5,
            description=t("app.steady.calls"),
            style=_WIDE,
            **_SLOW,
        ),
    }
    controls.update(_ratio_sliders(base))
    controls.update(
        {
            "cycle": W.FloatSlider(
                value=cycle,
                min=0.0,
                max=12.0,
                step=0.5,
                description=t("app.steady.cycle"),
                style=_WIDE,
                **_SLOW,
            ),
            "cycle_cv": W.FloatSlider(
                value=cycle_cv,
                min=0.0,
                max=1.5,
                step=0.05,
                description=t("app.steady.cycle_cv"),
                style=_WIDE,
                **_SLOW,
            ),
            **_deal_controls(deal_size, deal_cv),
            "reps": W.IntSlider(
                value=reps,
                min=100,
                max=5000,
                step=100,
                description=t("app.steady.reps"),
                style=_WIDE,
                **_SLOW,
            ),
            "periods": W.IntSlider(
                value=periods,
                min=8,
                max=104,
                step=4,
                description=t("app.steady.periods"),
                style=_WIDE,
                **_SLOW,
            ),
            "seed": _seed(seed),
            "view": W.ToggleButtons(
                options=[
                    (t("app.steady.view_week"), "week"),
                    (t("app.steady.view_month"), "month"),
                    (t("app.steady.view_noise"), "noise"),
                ],
                value="week",
                description=t("app.steady.view"),
                style=_WIDE,
                layout=W.Layout(grid_column="1 / -1"),
            ),
        }
    )

    def compute(v):
        return lessons.revenue_steadiness(
            _funnel_from(base, v),
            v["calls"],
            periods=v["periods"],
            reps=v["reps"],
            cycle=Cycle(v["cycle"], cv=v["cycle_cv"]),
            deal_size=_deal_size(v["deal_size"], v["deal_cv"]),
            rng=v["seed"],
        )

    def draw(result, axes, v):
        if v["view"] == "noise":
            plotting.plot_cv_by_calls(result, ax=axes[0])
        else:
            plotting.plot_fan(result, block=v["view"], ax=axes[0])

    def describe(r, v):
        week = r.weekly
        if not week["mean"].mean() > 0:  # no deal closed in any simulated week
            return t("app.steady.no_sales")
        return t(
            "app.steady.summary",
            mean=float(week["mean"].mean()),
            low=float(week["q10"].mean()),
            high=float(week["q90"].mean()),
            cv_week=r.cv("week"),
            th_week=r.theory_cv("week"),
            cv_month=r.cv("month"),
            th_month=r.theory_cv("month"),
            doubled=r.theory_cv("week") / np.sqrt(2),
        )

    return App(
        title=t("app.steady.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        view=("view",),
        figsize=(12, 5.5),
        columns=3,
    )


# ------------------------------------------------- 04-06: apps on a real log
# The computation is in funnelsim.lessons_logs (pure); these factories only
# wire controls to it and to the plots.
__all__ += ["make_estimating_ratios", "make_sales_cycle", "make_sample_size"]


def _level_slider(value: float) -> W.FloatSlider:
    return W.FloatSlider(
        value=value,
        min=0.5,
        max=0.99,
        step=0.01,
        readout_format=".0%",
        description=t("app.logs.level"),
        style=_WIDE,
        **_SLOW,
    )


def make_estimating_ratios(
    log,
    *,
    truth=None,
    method: str = "wilson",
    confidence_level: float = 0.95,
    stage: str | None = None,
) -> App:
    """Ratios from a log: the table with intervals, and the method's real coverage.

    Controls: the interval method, the confidence level, the step whose
    ratio the coverage curve uses, and the view (the ratio table, or
    coverage against the number of leads; switching the view only
    redraws).

    Parameters
    ----------
    log : Log
        From :func:`funnelsim.read_log`.
    truth : mapping or DataFrame, optional
        True ratios to mark on the table (the sample logs'
        :func:`funnelsim.lessons_logs.true_ratios`).
    method, confidence_level : str, float
        Starting values of the controls.
    stage : str, optional
        Starting step for the coverage curve (default: the last).

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons_logs.EstimatingRatios`.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    >>> log = fs.Log("counts", ("dials", "connects", "meetings"), counts=counts)
    >>> app = fs.widgets.make_estimating_ratios(log)
    >>> round(float(app.result.widths["meetings"]), 3)
    0.164
    >>> app.controls["method"].value = "clopper-pearson"      # the "exact" interval is wider
    >>> round(float(app.result.widths["meetings"]), 3)
    0.176
    """
    from . import lessons_logs
    from .estimate import METHODS

    steps = list(log.stages[1:])
    controls = {
        "method": W.Dropdown(
            options=list(METHODS), value=method, description=t("app.logs.method"), style=_WIDE
        ),
        "confidence_level": _level_slider(confidence_level),
        "stage": W.Dropdown(
            options=steps,
            value=steps[-1] if stage is None else stage,
            description=t("app.logs.stage"),
            style=_WIDE,
        ),
        "view": W.ToggleButtons(
            options=[
                (t("app.logs.view_table"), "table"),
                (t("app.logs.view_coverage"), "coverage"),
            ],
            value="table",
            description=t("app.logs.view"),
            style=_WIDE,
        ),
    }

    def compute(v):
        return lessons_logs.estimating_ratios(
            log,
            method=v["method"],
            confidence_level=v["confidence_level"],
            stage=v["stage"],
            truth=truth,
        )

    def draw(result, axes, v):
        if v["view"] == "coverage":
            plotting.plot_coverage(result, ax=axes[0])
        else:
            plotting.plot_ratio_table(result, ax=axes[0])

    def describe(r, v):
        widths = r.widths
        widest = str(widths.idxmax())
        row = r.fit.table.set_index("stage").loc[widest]
        if r.method == "wald":
            return t(
                "app.logs.ratios_summary_wald",
                level=r.confidence_level,
                stage=html.escape(widest),
                low=float(row["low"]),
                high=float(row["high"]),
                passed=int(row["passed"]),
                entered=int(row["entered"]),
                p=r.p,
                coverage_stage=html.escape(r.stage),
                worst=r.worst(),
            )
        return t(
            "app.logs.ratios_summary",
            method=html.escape(r.method),
            level=r.confidence_level,
            stage=html.escape(widest),
            low=float(row["low"]),
            high=float(row["high"]),
            passed=int(row["passed"]),
            entered=int(row["entered"]),
            p=r.p,
            coverage_stage=html.escape(r.stage),
            worst=r.worst(),
            wald=r.worst("wald"),
        )

    return App(
        title=t("app.logs.ratios_title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        view=("view",),
        figsize=(12, 5.5),
        columns=2,
    )


def make_sample_size(
    ratio: float = 0.3,
    half_width: float = 0.05,
    *,
    confidence_level: float = 0.95,
) -> App:
    """How many leads pin a ratio down to ± a margin? The planner, with its curve.

    Controls: the ratio you expect, the margin (half-width) you want, the
    confidence level. The picture shows the leads needed against the
    margin (Wilson and Wald), the chosen margin marked.

    Parameters
    ----------
    ratio, half_width, confidence_level : float
        Starting values of the controls.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons_logs.SampleSize`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_sample_size(ratio=0.1, half_width=0.03)
    >>> app.result.wilson, app.result.wald
    (388, 385)
    >>> app.controls["half_width"].value = 0.015       # half the margin ...
    >>> app.result.wald                                # ... four times the leads
    1537
    """
    from . import lessons_logs

    controls = {
        "ratio": W.FloatSlider(
            value=ratio,
            min=0.01,
            max=0.99,
            step=0.01,
            readout_format=".0%",
            description=t("app.logs.ratio"),
            style=_WIDE,
            **_SLOW,
        ),
        "half_width": W.FloatSlider(
            value=half_width,
            min=0.005,
            max=0.25,
            step=0.005,
            readout_format=".1%",
            description=t("app.logs.half_width"),
            style=_WIDE,
            **_SLOW,
        ),
        "confidence_level": _level_slider(confidence_level),
    }

    def compute(v):
        return lessons_logs.sample_size(
            v["ratio"], v["half_width"], confidence_level=v["confidence_level"]
        )

    def draw(result, axes, v):
        plotting.plot_sample_size(result, ax=axes[0])

    def describe(r, v):
        return t(
            "app.logs.size_summary",
            ratio=r.ratio,
            half_width=r.half_width,
            level=r.confidence_level,
            wilson=r.wilson,
            wald=r.wald,
        )

    return App(
        title=t("app.logs.size_title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        figsize=(12, 5.5),
        columns=3,
    )


def make_sales_cycle(
    log,
    *,
    last: int = 10,
    quantile: float = 0.9,
    as_of: object = None,
    weeks: int = 4,
) -> App:
    """The sales cycle of a log: the curve against the decks' average, and stale leads.

    Controls: the decks' window (the average of the last 10 or 20 closed
    deals), the quantile of the cycle after which an open lead is stale,
    and the date the log is looked at (from ``weeks`` weeks after its first
    lead to its snapshot: an early date shows what a new team would have
    concluded).

    Parameters
    ----------
    log : Log
        A lead-level log with times.
    last : {10, 20}
        Starting window of the decks' average.
    quantile : float, default 0.9
        Starting quantile for stale leads.
    as_of : date-like, optional
        Starting date (default: the log's snapshot).
    weeks : int, default 4
        The earliest date offered is this many weeks after the first lead.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons_logs.SalesCycle`.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> times = pd.DataFrame({
    ...     "contact": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05",
    ...                                "2024-01-20", "2024-02-01", "2024-02-10"]),
    ...     "signed": pd.to_datetime(["2024-01-11", "2024-01-22", None, "2024-02-09",
    ...                               None, None])}, index=list("abcdef"))
    >>> log = fs.Log("events", ("contact", "signed"), leads=pd.DataFrame(index=times.index),
    ...              reached=times.notna(), times=times, as_of=pd.Timestamp("2024-02-20"))
    >>> app = fs.widgets.make_sales_cycle(log, quantile=0.5, weeks=1)
    >>> app.result.naive_mean, app.result.n_stale
    (16.666666666666668, 1)
    """
    import pandas as pd

    from . import lessons_logs

    first = lessons_logs.cohort(log).times[log.stages[0]].min()  # validates the log too
    end = pd.Timestamp(log.as_of) if log.as_of is not None else log.times.max().max()
    dates = list(pd.date_range(first.normalize() + pd.Timedelta(weeks=weeks), end, freq="7D"))
    if not dates or dates[-1] != end:
        dates.append(end)
    start = end if as_of is None else pd.Timestamp(as_of)
    if start not in dates:
        dates = sorted({*dates, start})
    controls = {
        "last": W.ToggleButtons(
            options=[(t("app.logs.last", n=n), n) for n in (10, 20)],
            value=last,
            description=t("app.logs.last_label"),
            style=_WIDE,
        ),
        "quantile": W.FloatSlider(
            value=quantile,
            min=0.5,
            max=0.99,
            step=0.01,
            readout_format=".0%",
            description=t("app.logs.quantile"),
            style=_WIDE,
            **_SLOW,
        ),
        "as_of": W.SelectionSlider(
            options=[(str(d.date()), d) for d in dates],
            value=start,
            description=t("app.logs.as_of"),
            style=_WIDE,
            layout=W.Layout(grid_column="1 / -1"),
            **_SLOW,
        ),
    }

    def compute(v):
        when = None if v["as_of"] == end else v["as_of"]
        return lessons_logs.sales_cycle(log, last=v["last"], quantile=v["quantile"], as_of=when)

    def draw(result, axes, v):
        plotting.plot_sales_cycle(result, ax=axes[0])
        plotting.plot_stale_leads(result, ax=axes[1])

    def describe(r, v):
        c = r.cycle
        low, high = c.median_ci
        return t(
            "app.logs.cycle_summary",
            as_of=html.escape(str(pd.Timestamp(c.as_of).date())),
            closed=c.closed,
            open=c.open,
            median=c.median,
            low=low,
            high=high,
            mean=c.mean,
            unit=c.unit,
            last=r.last,
            naive=r.naive_mean,
            quantile=r.quantile,
            threshold=r.threshold,
            stale=r.n_stale,
            decks=r.n_demoted_by_decks,
        )

    return App(
        title=t("app.logs.cycle_title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        panels=lambda v: {"ncols": 2},
        figsize=(16, 6),
        columns=2,
    )
