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

import base64
import contextlib
import functools
import html
import inspect
import io
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import i18n, lessons, plotting, presets
from ._reader import read_csv
from .distributions import Cycle, DealSize
from .funnel import Funnel
from .i18n import FunnelsimValueError, field_label, fields_label, method_label, t, unit_label

__all__ = [
    "App",
    "language_switch",
    "make_law_of_large_numbers",
    "make_ratio_game",
    "make_revenue_steadiness",
    "switch_language",
]

DEFAULT_SEED = 2024
_DPI = 80
_SLOW = {"continuous_update": False}
_WIDE = {"description_width": "initial"}
# Unhinted glyphs render about 20 % faster and look the same on a screen.
_FAST_TEXT = {"text.hinting": "no_hinting"}
# Exports are for slides and handouts: twice the screen resolution.
_EXPORT_DPI = 2 * _DPI
_EXPORT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# Apps shown (displayed) and language switches made in this kernel, for switch_language().
_LIVE: weakref.WeakSet = weakref.WeakSet()
_SWITCHES: weakref.WeakSet = weakref.WeakSet()
# While set, a new App neither computes nor registers (App.relabel builds one).
_QUIET = {"on": False, "switching": False}


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
    lang : str or None
        The app's fixed language (``make_*(..., lang="zh")``), or None: it
        follows :func:`funnelsim.set_language` and :func:`language_switch`.
    new_draw : ipywidgets.Button or None
        For an app with a ``"seed"`` control: adds 1 to the seed, so the
        whole room gets the same next draw. The same seed always gives the
        same figure.
    export_button, downloads : ipywidgets.Button, ipywidgets.HTML
        One click on the button puts download links for the current chart
        (PNG and SVG, embedded in the page: no server or internet needed) in
        ``downloads``; the next update clears them. :meth:`export` gives the
        bytes.
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
        self.lang: str | None = None
        self._name = "chart"
        self._remake: Callable[[], App] | None = None
        self._muted = False
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
        self._title = W.HTML(f"<h3>{html.escape(title)}</h3>")
        grid = W.GridBox(
            list(self.controls.values()),
            layout=W.Layout(
                grid_template_columns=f"repeat({columns}, minmax(0, 1fr))",
                grid_gap="4px 16px",
                width="100%",
            ),
        )
        self.new_draw: W.Button | None = None
        if "seed" in self.controls:
            self.new_draw = W.Button(
                description=t("app.new_draw"), icon="refresh", layout=W.Layout(width="auto")
            )
            self.new_draw.on_click(self._next_seed)
        self.export_button = W.Button(
            description=t("app.export"), icon="download", layout=W.Layout(width="auto")
        )
        self.export_button.on_click(self.show_downloads)
        self.downloads = W.HTML()
        tools = [b for b in (self.new_draw, self.export_button) if b is not None]
        self.widget = W.VBox(
            [
                self._title,
                grid,
                W.HBox([*tools, self.downloads], layout=W.Layout(align_items="center")),
                self.summary,
                self.image,
            ],
            layout=W.Layout(width="100%"),
        )
        for control in self.controls.values():
            control.observe(self.update, names="value")
        if not _QUIET["on"]:
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
        if self._muted:
            return
        with i18n.language(self.lang) if self.lang else contextlib.nullcontext():
            self._update()

    def _update(self) -> None:
        self.downloads.value = ""  # links to the previous chart would be stale
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

    # ------------------------------------------------------ classroom tools
    def _next_seed(self, _button: object = None) -> None:
        seed = self.controls["seed"]
        seed.value = seed.value + 1 if seed.value < seed.max else seed.min

    def export(self, format: str = "png", *, dpi: float = _EXPORT_DPI) -> bytes:
        """The current chart as PNG or SVG bytes (for slides and handouts).

        Parameters
        ----------
        format : {"png", "svg"}
            PNG at ``dpi`` (twice the screen's by default), or SVG (text
            drawn as outlines, so it looks the same without the fonts).
        dpi : float
            Resolution of the PNG.

        Examples
        --------
        >>> import funnelsim as fs
        >>> app = fs.widgets.make_law_of_large_numbers(n=200, reps=3, seed=1)
        >>> app.export("png")[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
        >>> b"<svg" in app.export("svg")
        True
        """
        if format not in _EXPORT_TYPES:
            raise FunnelsimValueError(
                "error.choice", name="format", choices=", ".join(_EXPORT_TYPES), value=format
            )
        buf = io.BytesIO()
        # No date and fixed ids in the SVG: the same chart gives the same file.
        fixed = {"metadata": {"Date": None}} if format == "svg" else {}
        with plotting.style(), mpl.rc_context({**_FAST_TEXT, "svg.hashsalt": "funnelsim"}):
            self.figure.savefig(buf, format=format, dpi=dpi, facecolor="white", **fixed)
        return buf.getvalue()

    def show_downloads(self, _button: object = None) -> None:
        """Put PNG and SVG download links for the current chart in ``downloads``.

        The files travel inside the links (data URIs): they work offline, in
        Jupyter and in Voila. Made only on request, so updates stay fast.
        """
        links = []
        for fmt, mime in _EXPORT_TYPES.items():
            data = base64.b64encode(self.export(fmt)).decode("ascii")
            links.append(
                f'<a download="{self._name}.{fmt}" href="data:{mime};base64,{data}" '
                f'style="margin-left:1em">{html.escape(t("app.download", format=fmt.upper()))}</a>'
            )
        self.downloads.value = "".join(links)

    # ------------------------------------------------------------ language
    def relabel(self) -> None:
        """Redraw the app in the current language: title, controls, chart, summary.

        The app is built again by its ``make_*`` factory in the new language
        (stage names of a preset are translated too) and keeps every
        control's value. Called for every app on the page by :func:`switch_language`.
        An app with a fixed ``lang`` keeps it.
        """
        if self._remake is None:
            self.update()
            return
        values = self.values
        _QUIET["on"] = True
        try:
            with i18n.language(self.lang) if self.lang else contextlib.nullcontext():
                fresh = self._remake()
        except Exception:  # the old labels stay; the chart and summary follow the language
            self.update()
            return
        finally:
            _QUIET["on"] = False
        fresh._muted = True
        for name, control in fresh.controls.items():
            if name in values:
                with contextlib.suppress(Exception):  # a value the new control cannot take
                    control.value = values[name]
        for control in self.controls.values():
            with contextlib.suppress(ValueError):
                control.unobserve(self.update, names="value")
        for control in fresh.controls.values():
            control.unobserve(fresh.update, names="value")
            control.observe(self.update, names="value")
        # The displayed box shows the fresh app's widgets, and this object takes
        # over the fresh app's state, so ``app`` in the notebook goes on working.
        box = self.widget
        box.children = fresh.widget.children
        fresh.widget = box
        fresh.lang, fresh._name, fresh._remake = self.lang, self._name, self._remake
        self.__dict__ = fresh.__dict__
        self._muted = False
        self.update()

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any):
        _LIVE.add(self)  # shown on a page: switch_language() redraws it
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


# ----------------------------------------------------------------- language
def _app_factory(make: Callable[..., App]) -> Callable[..., App]:
    """Decorate a ``make_*`` factory: adds ``lang=`` and lets the app relabel itself.

    ``lang="zh"`` builds the app in Simplified Chinese whatever the kit's
    language; the default (None) follows :func:`funnelsim.set_language` and
    :func:`language_switch`. Every ``make_*`` in this module carries it
    (``tests/test_classroom.py`` checks).
    """

    @functools.wraps(make)
    def factory(*args: Any, lang: str | None = None, **kwargs: Any) -> App:
        if lang is not None and lang not in i18n.available_languages():
            raise FunnelsimValueError(
                "error.unknown_language",
                lang=lang,
                choices=", ".join(i18n.available_languages()),
            )
        with i18n.language(lang) if lang else contextlib.nullcontext():
            app = make(*args, **kwargs)
        app._remake = functools.partial(make, *args, **kwargs)
        app._name = make.__name__.removeprefix("make_")
        app.lang = lang
        return app

    signature = inspect.signature(make)
    params = list(signature.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
    params.insert(at, inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, default=None))
    factory.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    factory._app_factory = True  # type: ignore[attr-defined]
    return factory


def switch_language(lang: str) -> None:
    """Set the kit's language and redraw every app on the page (and the switches) in it.

    "On the page" means displayed: a cell that ends with the app, or
    ``display(app)``. Apps made but never shown are left alone (call their
    :meth:`App.relabel`); an app made with ``lang=`` keeps its language.

    Parameters
    ----------
    lang : str
        A language code of :func:`funnelsim.i18n.available_languages`
        (``"en"``, ``"zh"``).

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_law_of_large_numbers(n=100, reps=2, seed=1)
    >>> shown = app._repr_mimebundle_()     # what Jupyter does when a cell ends with app
    >>> fs.widgets.switch_language("zh")
    >>> app.controls["seed"].description
    '随机种子'
    >>> fs.widgets.switch_language("en")
    >>> app.controls["seed"].description
    'random seed'
    """
    if _QUIET.get("switching"):  # a switch's own change, already being handled
        return
    i18n.set_language(lang)
    _QUIET["switching"] = True
    try:
        for switch in list(_SWITCHES):
            switch.value = lang
        for app in list(_LIVE):
            if app.lang is None:
                app.relabel()
    finally:
        _QUIET["switching"] = False


def language_switch() -> W.ToggleButtons:
    """Buttons English / 中文 that switch the language of every app on the page.

    Show it near the top of a notebook or dashboard; the apps below (and
    any later one) follow it.

    Examples
    --------
    >>> import funnelsim as fs
    >>> switch = fs.widgets.language_switch()
    >>> [label for label, code in switch.options]
    ['English', '中文']
    """
    switch = W.ToggleButtons(
        options=[(t(f"language.{code}"), code) for code in i18n.available_languages()],
        value=i18n.get_language(),
        description=t("app.language"),
        style=_WIDE,
    )
    switch.observe(lambda change: switch_language(change["new"]), names="value")
    _SWITCHES.add(switch)
    return switch


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
@_app_factory
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
@_app_factory
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
@_app_factory
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


@_app_factory
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
            options=[(method_label(m), m) for m in METHODS],
            value=method,
            description=t("app.logs.method"),
            style=_WIDE,
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
            method=html.escape(method_label(r.method)),
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


@_app_factory
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


@_app_factory
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
            unit=unit_label(c.unit),
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


# ------------------------------------------------------- 05: comparing reps
__all__ += ["make_comparing_reps"]


def _group_options(log, by: str) -> list[tuple[str, object]]:
    """The p-chart's groups for ``by`` (label, value), in the order the comparison lists them."""
    if by == "period":  # the groups are the periods: one chart, for the team
        return [(t("app.reps.team"), None)]
    groups = log.stage_table(by=by)[[by]].drop_duplicates().dropna()
    return list(zip(_names(groups, (by,)), groups[by], strict=True))


def _names(rows, by) -> list[str]:
    """Group labels of table rows: values joined by commas, dates without midnight."""
    from .groups import _when

    return [", ".join(_when(v) for v in row) for row in rows[list(by)].itertuples(index=False)]


@_app_factory
def make_comparing_reps(
    log,
    *,
    by: str | None = None,
    stage: str | None = None,
    view: str = "shrinkage",
    confidence_level: float = 0.95,
) -> App:
    """Reps (or sources, or weeks) compared fairly: shrinkage, the funnel plot, the p-chart.

    Controls: the group column (any of ``log.group_columns``), the
    confidence level, the step, the view (raw against shrunk ratios, the
    funnel plot, and, when the log has a ``period`` column, the p-chart)
    and the group whose p-chart is drawn. Only the group column and the
    level compute anything (:func:`funnelsim.lessons_logs.comparing_reps`,
    at every step at once); the step, the view and the p-chart's group only
    redraw. The summary names the groups that differ from the rest of the
    team by more than chance and the leaks, with the decks' likely causes.

    Parameters
    ----------
    log : Log
        A log with at least one group column.
    by : str, optional
        Starting group column (default ``"rep"`` when the log has one).
    stage : str, optional
        Starting step (default: the last).
    view : {"shrinkage", "funnel", "chart"}
        Starting view (``"chart"`` needs a ``period`` column).
    confidence_level : float, default 0.95
        Starting level of the intervals, the tests and the inner funnel
        limits (the outer ones stay at 99.8 %, the p-chart's at 3 sigma).

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons_logs.ComparingReps`.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> counts = pd.DataFrame({"rep": ["ann", "bob", "cy", "dee"],
    ...                        "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]})
    >>> app = fs.widgets.make_comparing_reps(fs.Log("counts", ("connects", "meetings"),
    ...                                             counts=counts))
    >>> app.result.comparison.differing["rep"].tolist()
    ['cy']
    >>> app.controls["confidence_level"].value = 0.99       # a stricter test ...
    >>> app.result.comparison.differing["rep"].tolist()     # ... and nobody differs
    []
    """
    from . import lessons_logs

    columns = list(log.group_columns)
    start_by = by if by is not None else "rep" if "rep" in columns or not columns else columns[0]
    if start_by not in columns:
        raise FunnelsimValueError(
            "error.unknown_by", value=repr(start_by), choices=", ".join(columns) or "-"
        )
    steps = list(log.stages[1:])
    pooled = log.stage_table()
    reached = pooled.loc[pooled["entered"] > 0, "stage"].tolist()
    default_step = reached[-1] if reached else steps[-1]  # the last step with leads
    has_period = "period" in columns
    views = [
        (t("app.reps.view_shrinkage"), "shrinkage"),
        (t("app.reps.view_funnel"), "funnel"),
        *([(t("app.reps.view_chart"), "chart")] if has_period else []),
    ]
    controls = {
        "by": W.Dropdown(
            options=[(field_label(c), c) for c in columns],
            value=start_by,
            description=t("app.reps.by"),
            style=_WIDE,
        ),
        "confidence_level": _level_slider(confidence_level),
        "stage": W.Dropdown(
            options=steps,
            value=default_step if stage is None else stage,
            description=t("app.reps.stage"),
            style=_WIDE,
        ),
        "view": W.ToggleButtons(
            options=views, value=view, description=t("app.reps.view"), style=_WIDE
        ),
    }
    if has_period:
        first = _group_options(log, start_by)
        group = W.Dropdown(
            options=first,
            value=first[0][1],
            disabled=first[0][1] is None,
            description=t("app.reps.group"),
            style=_WIDE,
        )

        def regroup(change):
            # Registered before the app's own update, so it runs first: the new
            # groups are in place when the app draws the new grouping, and
            # choosing the first of them does not draw the app a second time.
            options = _group_options(log, change["new"])
            group.unobserve(app.update, names="value")
            try:
                group.disabled = options[0][1] is None
                group.options = options
                group.value = options[0][1]  # (ipywidgets keeps None after one option)
            finally:
                group.observe(app.update, names="value")

        controls["by"].observe(regroup, names="value")
        controls["group"] = group

    last: dict[tuple[Any, float], Any] = {}

    def compute(v):
        # Only the grouping and the level change the numbers (every step is
        # computed at once): a new step or p-chart group reuses them, and, not
        # being a view control, keeps the axes and the layout (a redraw only).
        key = (v["by"], v["confidence_level"])
        if key not in last:
            last.clear()
            last[key] = lessons_logs.comparing_reps(
                log, by=v["by"], confidence_level=v["confidence_level"]
            )
        return last[key]

    def draw(result, axes, v):
        if v["view"] == "chart":
            plotting.plot_p_chart(result.chart, stage=v["stage"], group=v.get("group"), ax=axes[0])
        elif v["view"] == "funnel":
            levels = sorted({result.confidence_level, 0.998})
            plotting.plot_funnel_chart(
                result.comparison, stage=v["stage"], confidence_level=tuple(levels), ax=axes[0]
            )
        else:
            plotting.plot_shrinkage(result.comparison, stage=v["stage"], ax=axes[0])

    def describe(r, v):
        comp, step = r.comparison, v["stage"]
        rows = comp.table[comp.table["stage"] == step].dropna(subset=["ratio"])
        label = dict(zip(rows.index, _names(rows, comp.by), strict=True))
        lo, hi = rows["ratio"].idxmin(), rows["ratio"].idxmax()
        team = float(comp.steps.loc[comp.steps["stage"] == step, "team_ratio"].iloc[0])
        parts = [
            t(
                "app.reps.summary",
                stage=html.escape(step),
                by=html.escape(fields_label(comp.by)),
                team=team,
                low=float(rows.loc[lo, "ratio"]),
                low_group=html.escape(label[lo]),
                high=float(rows.loc[hi, "ratio"]),
                high_group=html.escape(label[hi]),
                shrunk_low=float(rows["shrunk"].min()),
                shrunk_high=float(rows["shrunk"].max()),
            )
        ]
        differing = [html.escape(label[i]) for i in rows.index[rows["differs"].to_numpy()]]
        tests = {
            "tests": int(comp.table["p_value"].notna().sum()),
            "adjust": html.escape(comp.adjust),
            "level": comp.confidence_level,
        }
        if differing:
            parts.append(t("app.reps.differ", groups=", ".join(differing), **tests))
        else:
            parts.append(t("app.reps.differ_none", **tests))
        leaks = r.leaks.leaks
        leaks = leaks[leaks["stage"] == step]
        if len(leaks):
            parts.append(
                t(
                    "app.reps.leaks",
                    groups=", ".join(html.escape(x) for x in _names(leaks, comp.by)),
                    cause=html.escape(str(leaks["cause"].iloc[0])),
                )
            )
        if v["view"] == "chart" and r.chart is not None:
            rows = r.chart.table[r.chart.table["stage"] == step]
            who = t("app.reps.team")
            if r.chart.by:
                rows = rows[rows[r.chart.by[0]] == v["group"]]
                who = _names(rows.head(1), r.chart.by)[0]
            parts.append(
                t(
                    "app.reps.chart",
                    group=html.escape(who),
                    flagged=int((rows["signal"] != "").sum()),
                    periods=len(rows),
                    sigmas=r.chart.sigmas,
                )
            )
        return " ".join(parts)

    app = App(
        title=t("app.reps.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        view=("view",),
        figsize=(12, 6),
        columns=3,
    )
    return app


# ------------------------------------------------------- 07 forecast and targets
__all__ += ["PipelineNumbers", "make_forecast", "make_pipeline", "pipeline_numbers"]


@_app_factory
def make_forecast(
    fit,
    *,
    target: float = 40,
    probability: float = 0.9,
    periods: int = 13,
    calls: int = 0,
    deal_size: DealSize | None = None,
    cycle: Cycle | None = None,
    reps: int = 2000,
    period: str = "week",
    seed: int = DEFAULT_SEED,
) -> App:
    """How many calls for the target, and how sure are we? The plan and the forecast band.

    Controls: the target (sales, or revenue with ``deal_size``), how sure
    the plan should be, the horizon in periods, the calls per period of the
    band (0: the calls the plan asks for) and the seed. The picture is the
    band of the total, cumulated period by period, with the ratios'
    uncertainty and on point estimates only, the target marked.

    Parameters
    ----------
    fit : Fit
        From :func:`funnelsim.fit` (without ``by``): the ratios and what the
        log does not know about them.
    target, probability, periods, calls : float, float, int, int
        Starting values of the controls.
    deal_size : DealSize, optional
        Revenue per deal; without it the target counts sales.
    cycle : Cycle, optional
        Delay from call to sale, in periods.
    reps : int, default 2000
        Simulated futures per update.
    period : {"week", "day", "month", "period"}
        What one period is, for the picture's axis.
    seed : int
        Starting seed.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.report.Outlook`: the same as
        :func:`funnelsim.report.outlook` with the controls' values.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> log = fs.Log("counts", ("dials", "sales"),
    ...              counts=pd.DataFrame({"dials": [5000], "sales": [40]}))
    >>> app = fs.widgets.make_forecast(fs.fit(log), target=40, periods=13, reps=500, seed=1)
    >>> first = app.result
    >>> first.calls_from, first.calls == int(first.plan.table["calls"].iloc[-1])
    ('plan', True)
    >>> app.controls["probability"].value = 0.5          # half sure: fewer calls
    >>> app.result.calls < first.calls
    True
    """
    from .report import outlook

    measure = "revenue" if deal_size is not None else "sales"
    controls = {
        "target": W.BoundedFloatText(
            value=target,
            min=0,
            max=1e12,
            step=1 if deal_size is None else 10_000,
            description=t(f"app.fc.target_{measure}"),
            style=_WIDE,
        ),
        "probability": W.FloatSlider(
            value=probability,
            min=0.5,
            max=0.99,
            step=0.01,
            readout_format=".0%",
            description=t("app.fc.probability"),
            style=_WIDE,
            **_SLOW,
        ),
        "periods": W.IntSlider(
            value=periods, min=1, max=52, description=t("app.fc.periods"), style=_WIDE, **_SLOW
        ),
        "calls": W.BoundedIntText(
            value=calls, min=0, max=10**7, step=10, description=t("app.fc.calls"), style=_WIDE
        ),
        "seed": _seed(seed),
    }

    def compute(v):
        return outlook(
            fit,
            target=v["target"],
            probability=v["probability"],
            calls=v["calls"] or None,
            periods=v["periods"],
            reps=reps,
            deal_size=deal_size,
            cycle=cycle,
            rng=v["seed"],
        )

    def draw(o, axes, v):
        plotting.plot_forecast(
            o.forecast, ax=axes[0], measure=o.measure, target=o.target, period=period
        )

    def describe(o, v):
        from .report import outlook_lines

        return "<br>".join(html.escape(line) for line in outlook_lines(o))

    return App(
        title=t("app.fc.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        figsize=(12, 5.5),
        columns=3,
    )


@dataclass(frozen=True, repr=False, eq=False)
class PipelineNumbers:
    """What the pipeline app shows: the snapshot and its numbers, from :class:`Pipeline` methods.

    Attributes
    ----------
    pipeline : Pipeline
        The snapshot as read (:func:`funnelsim.read_pipeline`).
    quota : float
    weighted : float
        ``pipeline.weighted``: the decks' forecast, Σ amount × p.
    prob_quota : float
        ``pipeline.prob_reach(quota)``: the chance the deals that close reach it.
    prob_weighted : float
        ``pipeline.prob_reach(weighted)``: how often the weighted total is reached.
    percentiles : pandas.Series
        ``pipeline.percentiles()``: P10, P50, P90 of the amount that closes.
    deals : pandas.Series
        ``pipeline.count_pmf()``: the exact distribution of the number of deals.
    """

    pipeline: Any
    quota: float
    weighted: float
    prob_quota: float
    prob_weighted: float
    percentiles: Any
    deals: Any

    def to_frame(self):
        """The numbers as a tidy table: ``quantity`` and ``value``."""
        import pandas as pd

        rows = {
            "deals": self.pipeline.n_deals,
            "weighted": self.weighted,
            "prob_weighted": self.prob_weighted,
            "quota": self.quota,
            "prob_quota": self.prob_quota,
            **{k: float(v) for k, v in self.percentiles.items()},
        }
        return pd.DataFrame({"quantity": list(rows), "value": list(rows.values())})

    def __repr__(self) -> str:
        p10, p50, p90 = (float(x) for x in self.percentiles)
        return t(
            "repr.pipeline_numbers",
            deals=self.pipeline.n_deals,
            weighted=self.weighted,
            p_weighted=self.prob_weighted,
            quota=self.quota,
            p_quota=self.prob_quota,
            p10=p10,
            p50=p50,
            p90=p90,
        )


def _pipeline_text(pipeline) -> str:
    """The snapshot as the editable CSV text: every field it was read with.

    The deal, its group fields, the stage, the probability when the snapshot
    had its own column of them (or no stage), the expected close, and the
    amount: editing the text and reading it back gives the same pipeline.
    """
    deals = pipeline.deals
    cols = [c for c in ("deal", "rep", "source", "segment", "stage") if c in deals.columns]
    if "stage" not in cols or pipeline.origin != "stage":  # chances not read from the labels
        cols.append("probability")
    cols += [c for c in ("close",) if c in deals.columns]
    frame = deals[[*cols, "amount"]].copy()
    whole = np.isclose(frame["amount"], frame["amount"].round())
    if whole.all():
        frame["amount"] = frame["amount"].round().astype(np.int64)
    return frame.to_csv(index=False, lineterminator="\n")


def pipeline_numbers(
    pipeline, quota: float, *, rng: np.random.Generator | int | None = None
) -> PipelineNumbers:
    """The pipeline app's numbers (each one a :class:`~funnelsim.Pipeline` method).

    Examples
    --------
    >>> import funnelsim as fs
    >>> from funnelsim.widgets import pipeline_numbers
    >>> pipe = fs.Pipeline.from_deals([1_000_000, 200_000, 50_000], [0.25, 0.5, 0.9])
    >>> n = pipeline_numbers(pipe, 300_000)
    >>> n.weighted, round(n.prob_quota, 4), round(n.prob_weighted, 4)
    (395000.0, 0.25, 0.25)
    """
    pmf = pipeline.count_pmf()
    return PipelineNumbers(
        pipeline=pipeline,
        quota=float(quota),
        weighted=pipeline.weighted,
        prob_quota=pipeline.prob_reach(quota, rng=rng),
        prob_weighted=pipeline.prob_reach(pipeline.weighted, rng=rng),
        percentiles=pipeline.percentiles(rng=rng),
        deals=pmf,
    )


@_app_factory
def make_pipeline(
    pipeline=None,
    *,
    quota: float | None = None,
    probabilities=None,
    seed: int = DEFAULT_SEED,
) -> App:
    """A pipeline snapshot edited in the page: the weighted total against the real odds.

    The deals are a small table typed in the page (one line per deal:
    ``deal,stage,amount``; a ``probability`` column instead of ``stage``
    works too), or loaded from a CSV/Excel file with the upload button (it
    fills the table, which you can then edit). Each deal closes or not with
    its stage's chance. The picture is the distribution of the amount that
    closes against the weighted total and the quota; the summary gives the
    chance of reaching the quota and P10/P50/P90.

    Parameters
    ----------
    pipeline : Pipeline, path or DataFrame, optional
        The starting snapshot (read with :func:`funnelsim.read_pipeline`);
        by default a small made-up one.
    quota : float, optional
        Starting quota (default: the weighted total, rounded).
    probabilities : mapping, sequence or Calibration, optional
        Chances of the stages, as in :func:`funnelsim.read_pipeline`.
    seed : int
        Seed of the Monte Carlo amounts (used only for large snapshots
        with fractional amounts; smaller ones are exact).

    Returns
    -------
    App
        ``app.result`` is a :class:`PipelineNumbers`; ``app.upload`` is the
        file-upload button, ``app.upload_status`` the line beside it.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_pipeline(quota=300_000)
    >>> rows = ["deal,stage,amount", "D1,25%,1000000", "D2,50%,200000", "D3,90%,50000"]
    >>> app.controls["deals"].value = "\\n".join(rows)      # the table, edited
    >>> app.result.weighted, round(app.result.prob_quota, 4)
    (395000.0, 0.25)
    """
    import pandas as pd

    from .pipeline import Pipeline, read_pipeline

    def read(source):
        return read_pipeline(source, probabilities=probabilities)

    if pipeline is None:
        pipeline = pd.DataFrame(
            {
                "deal": [f"D{i}" for i in range(1, 9)],
                "stage": ["25%", "25%", "25%", "50%", "50%", "75%", "90%", "90%"],
                "amount": [400_000, 150_000, 90_000, 250_000, 60_000, 120_000, 80_000, 30_000],
            }
        )
    start = pipeline if isinstance(pipeline, Pipeline) else read(pipeline)
    if quota is None:
        quota = float(np.round(start.weighted, -3))
    controls = {
        "deals": W.Textarea(
            value=_pipeline_text(start),
            description=t("app.pipe.deals"),
            placeholder="deal,stage,amount",
            style=_WIDE,
            continuous_update=False,
            layout=W.Layout(grid_column="1 / -1", height="11em", width="100%"),
        ),
        "quota": W.BoundedFloatText(
            value=quota, min=0, max=1e15, step=10_000, description=t("app.pipe.quota"), style=_WIDE
        ),
        "seed": _seed(seed),
    }

    def compute(v):
        text = v["deals"].strip()
        if not text:
            raise FunnelsimValueError("app.pipe.empty")
        # The same CSV reader as files (delimiter, blank lines, row numbers, messages).
        frame = read_csv(text.encode("utf-8"), t("app.pipe.table_name"), "utf-8", None)
        frame.attrs["funnelsim_name"] = t("app.pipe.table_name")
        return pipeline_numbers(read(frame), v["quota"], rng=v["seed"])

    def draw(r, axes, v):
        plotting.plot_pipeline(r.pipeline, ax=axes[0], quota=r.quota, rng=v["seed"])
        plotting.plot_pipeline(r.pipeline, ax=axes[1], measure="deals")

    def describe(r, v):
        p10, p50, p90 = (float(x) for x in r.percentiles)
        return t(
            "app.pipe.summary",
            deals=r.pipeline.n_deals,
            total=float(r.pipeline.amounts.sum()),
            weighted=r.weighted,
            p_weighted=r.prob_weighted,
            quota=r.quota,
            p_quota=r.prob_quota,
            p10=p10,
            p50=p50,
            p90=p90,
        )

    app = App(
        title=t("app.pipe.title"),
        controls=controls,
        compute=compute,
        draw=draw,
        describe=describe,
        panels=lambda v: {"ncols": 2, "width_ratios": [3, 2]},
        figsize=(15, 5.5),
        columns=2,
    )
    upload = W.FileUpload(
        accept=".csv,.xlsx,.parquet", multiple=False, description=t("app.pipe.upload")
    )
    status = W.HTML()

    def load(change: object = None) -> None:
        import tempfile
        from pathlib import Path

        files = upload.value
        if not files:
            return
        item = files[0]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(item["name"]).name
            path.write_bytes(bytes(item["content"]))
            try:
                loaded = read(path)
            except ValueError as exc:
                status.value = (
                    f'<span style="color:#b00020">{html.escape(" ".join(str(exc).split()))}</span>'
                )
                return
        status.value = html.escape(t("app.pipe.loaded", name=item["name"], deals=loaded.n_deals))
        controls["deals"].value = _pipeline_text(loaded)

    upload.observe(load, names="value")
    app.upload = upload
    app.upload_status = status
    children = list(app.widget.children)
    app.widget.children = (*children[:2], W.HBox([upload, status]), *children[2:])
    return app
