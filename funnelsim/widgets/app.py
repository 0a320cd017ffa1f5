"""The widget app every notebook uses, the language switch, and the controls apps share.

:class:`App` holds an app's controls, its one update function (compute with
a lesson, draw with a plot function on a fixed-height Agg image, describe in
plain words), its last result and message, the seed's "new draw" button and
the PNG/SVG export; :func:`language_switch` and :func:`switch_language`
redraw every app on the page in the chosen language (see
:mod:`funnelsim.widgets` for the whole picture).

Each factory declares its controls as data, a table of :class:`Control`
(kind, label, value, range, step, format); :func:`build_control` makes every
one alike: sliders update on release and are wide enough to drag whatever
the length of their description, menus show labels in the current language
while their ``.value`` stays the identifier (a stage, a method, a column).
The factories themselves are in :mod:`funnelsim.widgets.game` (01-03),
:mod:`funnelsim.widgets.logs` (04-06) and :mod:`funnelsim.widgets.forecast`
(07).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import inspect
import io
import math
import numbers
import os
import unicodedata
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import i18n, plotting
from .._validate import short
from ..i18n import FunnelsimTypeError, FunnelsimValueError, t

__all__ = [
    "App",
    "Control",
    "LanguageSwitch",
    "build_control",
    "language_switch",
    "switch_language",
]

DEFAULT_SEED = 2024
SEED_MAX = 2**31 - 1
DPI = 80
SLOW = {"continuous_update": False}
WIDE = {"description_width": "initial"}
GAP = 16  # px between columns of controls
# Unhinted glyphs render about 20 % faster and look the same on a screen.
FAST_TEXT = {"text.hinting": "no_hinting"}
# Exports are for slides and handouts: twice the screen resolution.
_EXPORT_DPI = 2 * DPI
_EXPORT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# Apps shown (displayed) and language switches made in this kernel, for switch_language().
LIVE_APPS: weakref.WeakSet = weakref.WeakSet()
LIVE_SWITCHES: weakref.WeakSet = weakref.WeakSet()
# While set, a new App neither computes nor registers (App.relabel builds one).
_QUIET = {"on": False, "switching": False}


# ------------------------------------------------------ controls as data
#: The widget behind each kind of :class:`Control`.
KINDS: dict[str, type[W.ValueWidget]] = {
    "float": W.FloatSlider,
    "int": W.IntSlider,
    "number": W.BoundedFloatText,
    "whole": W.BoundedIntText,
    "choice": W.Dropdown,
    "toggle": W.ToggleButtons,
    "select": W.SelectionSlider,
}
#: Kinds chosen from ``options``, and kinds that are sliders (they update on release).
CHOICES = ("choice", "toggle", "select")
SLIDERS = ("float", "int", "select")
#: Room (em) a control needs after its description: a slider's track and readout, a
#: number's box, a menu's arrow (plus its widest option). Toggle buttons size themselves.
#: A slider's 17 em hold the workshop style's track of at least 170 px and a readout of
#: 4.5 em at 15 px text (workshop/template/static/funnelsim.css), where a description
#: that does not fit wraps instead of squeezing the track.
ROOM = {"float": 17.0, "int": 17.0, "select": 17.0, "number": 9.0, "whole": 9.0, "choice": 2.5}
LABEL_GAP = 0.7  # em between a description and its control
#: A whole row of the grid. Set as ``grid_area``: ipywidgets applies a layout's
#: ``grid_area`` after its ``grid_column``, and an unset one removes the column.
WHOLE_ROW = "auto / 1 / auto / -1"


@dataclass(frozen=True)
class Control:
    """One control of an app, declared as data; :func:`build_control` makes its widget.

    Each ``make_*`` factory lists its controls as a table of these (name ->
    Control) and :class:`App` turns them into ipywidgets, every slider alike:
    updating when released (``continuous_update=False``), its description
    shown in full, and wide enough to drag whatever the description's length
    (in English or in Chinese).

    Parameters
    ----------
    kind : {"float", "int", "number", "whole", "choice", "toggle", "select"}
        A slider of numbers or of whole numbers, a box for a number or a whole
        number, a drop-down menu, toggle buttons, a slider over ``options``.
    label : str
        The description, in words (``t("app.lln.p")``).
    value : object
        The starting value (for the choices: an identifier among ``options``).
    min, max, step : float, optional
        Range and step of a slider or a box (a whole-number slider steps by 1
        unless told).
    format : str, optional
        Format of a slider's readout, such as ``".1%"``.
    options : tuple of (str, object)
        The choices: what is shown (a label in the current language) and the
        identifier the control's ``.value`` takes, the same in every language.
    row : bool
        Take a whole row of the app's grid.

    Examples
    --------
    >>> from funnelsim.widgets import Control, build_control
    >>> spec = Control("float", "true rate p", 0.5, 0.005, 0.995, 0.005, ".1%")
    >>> slider = build_control("p", spec)
    >>> slider.value, slider.readout_format, slider.continuous_update
    (0.5, '.1%', False)
    >>> slider.layout.min_width                  # room for the words and a track to drag
    '23.2em'
    >>> menu = build_control("stage", Control("choice", "step", "meetings",
    ...                                       options=(("约见", "meetings"), ("成交", "sales"))))
    >>> menu.value, menu.label
    ('meetings', '约见')
    """

    kind: str
    label: str
    value: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    format: str | None = None
    options: tuple[tuple[str, Any], ...] = ()
    row: bool = False

    @property
    def width(self) -> float | None:
        """Least width (em) that shows the description in full and leaves room to use the
        control (a track to drag); None for toggle buttons, which size themselves."""
        if self.kind not in ROOM:
            return None
        room = ROOM[self.kind]
        if self.kind == "choice":
            room += max((text_width(label) for label, _ in self.options), default=0.0)
        return round(text_width(self.label) + LABEL_GAP + room, 1)


def text_width(text: str) -> float:
    """Rough width of ``text`` in em: wide (Chinese) characters 1, ambiguous ones (→, ±)
    0.8, others 0.5 (a little more than most fonts' average letter).

    >>> text_width("calls"), text_width("每天拨打数")
    (2.5, 5.0)
    """
    sizes = {"W": 1.0, "F": 1.0, "A": 0.8}
    return sum(sizes.get(unicodedata.east_asian_width(c), 0.5) for c in str(text))


def build_control(name: str, spec: Control) -> W.ValueWidget:
    """The widget of one :class:`Control` (``name`` is the argument it came from, for errors).

    Raises
    ------
    FunnelsimValueError
        A choice's value that is not among its options ("error.choice").

    Examples
    --------
    >>> from funnelsim.widgets import Control, build_control
    >>> box = build_control("calls", Control("whole", "calls a week", 75, 0, 10_000))
    >>> type(box).__name__, box.value, box.max
    ('BoundedIntText', 75, 10000)
    >>> per = Control("toggle", "per", "week", options=(("week", "week"), ("month", "month")))
    >>> build_control("block", per).value
    'week'
    >>> build_control("block", Control("choice", "per", "day", options=per.options))
    Traceback (most recent call last):
    ...
    funnelsim.FunnelsimValueError: block must be one of: week, month; got 'day'.
    """
    style = {**WIDE, "button_width": "auto"} if spec.kind == "toggle" else WIDE  # whole words
    kwargs: dict[str, Any] = {"description": spec.label, "style": style}
    if spec.kind in CHOICES:
        values = [value for _, value in spec.options]
        if spec.value not in values:
            choices = ", ".join(str(v) for v in values)
            raise FunnelsimValueError(
                "error.choice", name=name, choices=choices, value=short(spec.value)
            )
        kwargs.update(options=list(spec.options), value=spec.value)
    else:
        kwargs.update(value=spec.value, min=spec.min, max=spec.max)
        if spec.step is not None:
            kwargs["step"] = spec.step
    if spec.format is not None:
        kwargs["readout_format"] = spec.format
    if spec.kind in SLIDERS:
        kwargs.update(SLOW)
    layout: dict[str, str] = {"grid_area": WHOLE_ROW} if spec.row else {}
    if spec.width is not None:
        layout.update(width="100%", min_width=f"{spec.width}em")
    if layout:
        kwargs["layout"] = W.Layout(**layout)
    return KINDS[spec.kind](**kwargs)


def grid_columns(controls: Sequence[W.Widget], columns: int) -> str:
    """CSS columns of the controls' grid: ``columns`` of them on a wide page, fewer when
    the widest control (outside a whole row) would not fit, never narrower than it."""
    widest = 0.0
    for control in controls:
        layout = control.layout
        whole_row = layout.grid_area == WHOLE_ROW or layout.grid_column == "1 / -1"
        if not whole_row and str(layout.min_width or "").endswith("em"):
            widest = max(widest, float(layout.min_width.removesuffix("em")))
    share = f"calc((100% - {columns} * {GAP}px) / {columns})"
    least = f"max({widest}em, {share})" if widest else share
    return f"repeat(auto-fill, minmax({least}, 1fr))"


def control_grid(controls: Sequence[W.Widget], columns: int) -> W.GridBox:
    """The grid of an app's controls (see :func:`grid_columns`)."""
    template = grid_columns(controls, columns)
    layout = W.Layout(grid_template_columns=template, grid_gap=f"4px {GAP}px", width="100%")
    return W.GridBox(list(controls), layout=layout)


def check_numbers(*, whole: bool = False, **values: object) -> None:
    """A FunnelsimTypeError naming the first argument that is not a number.

    True/False, text (even ``"10"``) and None are not numbers. With ``whole``,
    a number with a fraction is a FunnelsimValueError ("error.whole_number").

    >>> check_numbers(p=0.5, n=10)
    >>> check_numbers(n="10")
    Traceback (most recent call last):
    funnelsim.FunnelsimTypeError: n must be a number; got '10'.
    """
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise FunnelsimTypeError("error.not_a_number", name=name, value=short(value))
        if whole and not (math.isfinite(value) and value == int(value)):
            raise FunnelsimValueError("error.whole_number", name=name, value=value)


def check_type(name: str, value: object, types: type | tuple[type, ...], key: str) -> None:
    """A FunnelsimTypeError ``key`` naming the argument ``name``, unless ``value`` is one
    of ``types``."""
    if not isinstance(value, types):
        raise FunnelsimTypeError(key, name=name, value=short(value))


def check_names(**values: object) -> None:
    """A FunnelsimTypeError naming the first argument that is neither text nor None
    (a method, a stage, a column: identifiers are text)."""
    for name, value in values.items():
        check_type(name, value, (str, type(None)), "error.type_text")


class App:
    """A widget app: controls, one update function, the last result and its figure.

    Built by the ``make_*`` factories; you rarely create one yourself.

    Parameters
    ----------
    title : str
        Heading shown above the controls.
    controls : mapping of str to Control or ipywidgets.ValueWidget
        Named controls (a :class:`Control` is built into its widget); their
        ``.value`` are passed to ``compute``.
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
        Columns of the grid of controls on a wide page; fewer when the widest
        control would not fit (a control is never squeezed below its
        :attr:`Control.width`).

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
    error : Exception or None
        The last error itself (None when all went well): a
        :class:`funnelsim.FunnelsimError` keeps its ``.key`` and ``.values``.
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

    Examples
    --------
    A tiny app by hand (the ``make_*`` factories build the real ones the same
    way): one slider, a computation, a bar and a sentence.

    >>> from funnelsim.widgets import App, Control
    >>> app = App(title="Sales a day",
    ...           controls={"calls": Control("int", "calls a day", 15, 1, 100)},
    ...           compute=lambda values: values["calls"] / 120,
    ...           draw=lambda result, axes, values: axes[0].bar(["sales"], [result]),
    ...           describe=lambda result, values: f"{result:.3f} sales a day")
    >>> app.result, app.summary.value
    (0.125, '0.125 sales a day')
    >>> app.controls["calls"].value = 60      # what a trainer's drag does
    >>> app.result, app.summary.value
    (0.5, '0.500 sales a day')
    """

    def __init__(
        self,
        *,
        title: str,
        controls: Mapping[str, Control | W.ValueWidget],
        compute: Callable[[dict[str, Any]], Any],
        draw: Callable[[Any, list[Axes], dict[str, Any]], None],
        describe: Callable[[Any, dict[str, Any]], str],
        panels: Callable[[dict[str, Any]], dict[str, Any]] = lambda values: {},
        view: tuple[str, ...] = (),
        figsize: tuple[float, float] = (12.0, 5.5),
        columns: int = 3,
    ) -> None:
        self.controls: dict[str, W.ValueWidget] = {
            name: build_control(name, c) if isinstance(c, Control) else c
            for name, c in controls.items()
        }
        self.result: Any = None
        self.message: str = ""
        self.error: Exception | None = None
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
        self.figure = Figure(figsize=figsize, dpi=DPI)
        FigureCanvasAgg(self.figure)
        height = int(figsize[1] * DPI)
        self.image = W.Image(
            format="png",
            layout=W.Layout(width="100%", height=f"{height}px", object_fit="contain"),
        )
        self.summary = W.HTML(layout=W.Layout(min_height="3.5em"))
        self._title = W.HTML(f"<h3>{html.escape(title)}</h3>")
        grid = control_grid(list(self.controls.values()), columns)
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

        >>> import funnelsim as fs
        >>> from funnelsim.widgets import App, Control
        >>> app = App(title="Sales from 100 calls",
        ...           controls={"rate": Control("number", "calls to sales", 0.1, 0, 2)},
        ...           compute=lambda values: fs.Funnel(["calls", "sales"], [values["rate"]]),
        ...           draw=lambda result, axes, values: axes[0].bar(["sales"], [result.overall]),
        ...           describe=lambda result, values: f"{100 * result.overall:g} sales")
        >>> app.controls["rate"].value = 1.5      # not a share: the app says so, nothing raises
        >>> app.result, app.error.key
        (None, 'error.ratio_range')
        >>> app.controls["rate"].value = 0.2
        >>> app.update()                          # a refresh by hand: the same result
        >>> app.summary.value
        '20 sales'
        """
        if self._muted:
            return
        with i18n.language(self.lang) if self.lang else contextlib.nullcontext():
            self._update()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Changes of the controls inside the block do not update the app.

        For several controls set at once (a menu's options and its value):
        call :meth:`update` after, or let the change that started it do so.

        >>> from funnelsim.widgets import App, Control
        >>> app = App(title="Sales a day",
        ...           controls={"calls": Control("int", "calls a day", 15, 1, 100)},
        ...           compute=lambda values: values["calls"] / 120,
        ...           draw=lambda result, axes, values: axes[0].bar(["sales"], [result]),
        ...           describe=lambda result, values: f"{result:.3f} sales a day")
        >>> with app.paused():
        ...     app.controls["calls"].value = 30
        >>> app.result          # still the result for 15 calls
        0.125
        >>> app.update()
        >>> app.result
        0.25
        """
        muted, self._muted = self._muted, True
        try:
            yield
        finally:
            self._muted = muted

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
            with plotting.style(), mpl.rc_context(FAST_TEXT):
                self._render(values)
            self.message = ""
            self.error = None
            self.summary.value = self._describe(self.result, values)
        except Exception as exc:  # shown to the room, never raised
            self.result = None
            self.error = exc
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
        with plotting.style(), mpl.rc_context({**FAST_TEXT, "svg.hashsalt": "funnelsim"}):
            self.figure.savefig(buf, format=format, dpi=dpi, facecolor="white", **fixed)
        return buf.getvalue()

    def show_downloads(self, _button: object = None) -> None:
        """Put PNG and SVG download links for the current chart in ``downloads``.

        The files travel inside the links (data URIs): they work offline, in
        Jupyter and in Voila. Made only on request, so updates stay fast.

        >>> from funnelsim.widgets import App, Control
        >>> app = App(title="Sales a day",
        ...           controls={"calls": Control("int", "calls a day", 15, 1, 100)},
        ...           compute=lambda values: values["calls"] / 120,
        ...           draw=lambda result, axes, values: axes[0].bar(["sales"], [result]),
        ...           describe=lambda result, values: f"{result:.3f} sales a day")
        >>> app.show_downloads()
        >>> app.downloads.value.count("download=")    # chart.png and chart.svg
        2
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
        (stage labels too: the stages themselves stay the same) and keeps every
        control's value. Called for every app on the page by :func:`switch_language`.
        An app with a fixed ``lang`` keeps it.

        >>> import funnelsim as fs
        >>> app = fs.widgets.make_law_of_large_numbers(n=200, reps=3, seed=1)
        >>> app.controls["n"].value = 300
        >>> with fs.language("zh"):
        ...     app.relabel()
        >>> app.widget.children[0].value, app.controls["n"].value
        ('<h3>大数法则：看成功比例如何稳定下来</h3>', 300)
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
        LIVE_APPS.add(self)  # shown on a page: switch_language() redraws it
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # the live view, plus a still for viewers without it
            bundle["text/html"] = self.static_html()
        return bundle

    def static_html(self) -> str:
        """The app as it stands, without a kernel: its chart (an embedded PNG) and summary.

        Jupyter shows the live app; an exported HTML page, nbviewer or GitHub,
        which cannot run widgets, show this instead (it travels in the same
        output, as ``text/html``).

        Examples
        --------
        >>> import funnelsim as fs
        >>> app = fs.widgets.make_law_of_large_numbers(n=100, reps=2, seed=1)
        >>> page = app.static_html()
        >>> page.startswith('<div class="funnelsim-app-still">'), "data:image/png;base64," in page
        (True, True)
        """
        png = base64.b64encode(self.image.value).decode("ascii")
        return (
            f'<div class="funnelsim-app-still">{self._title.value}'
            f"<div>{self.summary.value}</div>"
            f'<img src="data:image/png;base64,{png}" alt="" style="max-width:100%"></div>'
        )

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
def app_factory(make: Callable[..., App]) -> Callable[..., App]:
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
        for switch in list(LIVE_SWITCHES):
            switch.value = lang
        for app in list(LIVE_APPS):
            if app.lang is None:
                app.relabel()
    finally:
        _QUIET["switching"] = False


class LanguageSwitch(W.VBox):
    """Buttons English / 中文 with a line under them that says what a click changes.

    Made by :func:`language_switch`; ``.buttons`` are the toggle buttons and
    ``.note`` the line. ``value`` and ``options`` are the buttons' own.

    Examples
    --------
    >>> import funnelsim as fs
    >>> switch = fs.widgets.LanguageSwitch(notebook="en")
    >>> switch.value = "zh"          # what a click on 中文 does
    >>> "中文版" in switch.note.value
    True
    >>> switch.value = "en"
    """

    def __init__(self, notebook: str | None = None) -> None:
        self.notebook = notebook
        self.buttons = W.ToggleButtons(
            options=[(t(f"language.{code}"), code) for code in i18n.available_languages()],
            value=i18n.get_language(),
            description=t("app.language"),
            style=WIDE,
        )
        self.note = W.HTML()
        super().__init__([self.buttons, self.note])
        self._write_note()
        self.buttons.observe(self._clicked, names="value")
        LIVE_SWITCHES.add(self.buttons)

    def _clicked(self, change: dict) -> None:
        switch_language(change["new"])
        self._write_note()

    def _write_note(self) -> None:
        text = t("app.language.note")
        if self.notebook in i18n.available_languages():
            text += " " + t(f"app.language.text.{self.notebook}")
        self.note.value = f"<small>{html.escape(text)}</small>"

    @property
    def value(self) -> str:
        return self.buttons.value

    @value.setter
    def value(self, lang: str) -> None:
        self.buttons.value = lang

    @property
    def options(self) -> tuple:
        return self.buttons.options

    @property
    def description(self) -> str:
        return self.buttons.description


def language_switch(notebook: str | None = None) -> LanguageSwitch:
    """Buttons English / 中文 that switch the language of every app on the page.

    Show it near the top of a notebook or dashboard; the apps below (and
    any later one) follow it, and so do the charts of cells run after the
    click. A line under the buttons says so, in the language shown.

    Parameters
    ----------
    notebook : str, optional
        The language the notebook's own text is written in (``"en"``,
        ``"zh"``). The kit starts in it, unless ``FUNNELSIM_LANG`` is set
        (then that one), and the line under the buttons says where the
        notebook in the other language is.

    Examples
    --------
    >>> import funnelsim as fs
    >>> switch = fs.widgets.language_switch()
    >>> [label for label, code in switch.options]
    ['English', '中文']
    >>> switch.note.value.startswith("<small>Switches the apps")
    True
    """
    if notebook is not None:
        if notebook not in i18n.available_languages():
            raise FunnelsimValueError(
                "error.unknown_language",
                lang=short(notebook),
                choices=", ".join(i18n.available_languages()),
            )
        if not os.environ.get("FUNNELSIM_LANG", "").strip():
            switch_language(notebook)
    return LanguageSwitch(notebook)


def seed_control(value: int) -> Control:
    """The seed box every app with randomness shows (its "new draw" button adds 1)."""
    return Control("whole", t("app.seed"), int(value), 0, SEED_MAX)
