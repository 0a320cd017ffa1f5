"""One lookup for every user-facing string.

Labels, plot titles, widget captions and error messages all go through
:func:`t`. The English text lives in ``funnelsim/locales/en.json``; a
translation is one more file beside it (``zh.json`` for Simplified Chinese),
with the same keys. A key missing from a translation falls back to English,
so a partial translation never breaks the kit.

Every error the kit raises on purpose is a :class:`FunnelsimError`: its
message is translated when it is raised, while ``.key`` (the catalogue key,
such as ``"error.ratio_range"``) and ``.values`` (what was filled into the
message) never change with the language; code and tests check those, never
the wording. A wrong value is a :class:`FunnelsimValueError` (a
``ValueError``), a value of the wrong type a :class:`FunnelsimTypeError` (a
``TypeError``); :class:`funnelsim.LogError` is a :class:`FunnelsimValueError`.

The language starts as English, or as the environment variable
``FUNNELSIM_LANG`` says (``FUNNELSIM_LANG=zh make workshop`` opens the
dashboards in Chinese).

Examples
--------
>>> from funnelsim.i18n import t
>>> t("stage.sales")
'sales'
>>> t("error.unknown_preset", name="foo", choices="a, b")
"Unknown preset 'foo'. Choose one of: a, b."
>>> import funnelsim as fs
>>> try:
...     fs.Funnel(["calls", "sales"], [1.3])
... except fs.FunnelsimValueError as err:
...     print(err.key, err.values["value"])
error.ratio_range 1.3
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "FunnelsimError",
    "FunnelsimTypeError",
    "FunnelsimValueError",
    "available_languages",
    "column_label",
    "field_label",
    "fields_label",
    "get_language",
    "labelled",
    "language",
    "method_label",
    "sentences",
    "set_language",
    "speaking_to",
    "stage_label",
    "stages_label",
    "t",
    "table_text",
    "unit_label",
]

DEFAULT_LANGUAGE = "en"
_state: dict[str, str | None] = {"lang": DEFAULT_LANGUAGE, "audience": None}


@cache
def _catalogue(lang: str) -> dict[str, str]:
    path = resources.files("funnelsim") / "locales" / f"{lang}.json"
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def available_languages() -> list[str]:
    """Language codes with a catalogue in ``funnelsim/locales``.

    >>> "en" in available_languages()
    True
    """
    folder = resources.files("funnelsim") / "locales"
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def _starting_language() -> str:
    """``FUNNELSIM_LANG`` when it names an available language, else English."""
    lang = os.environ.get("FUNNELSIM_LANG", "").strip()
    return lang if lang in available_languages() else DEFAULT_LANGUAGE


_state["lang"] = _starting_language()


def set_language(lang: str) -> None:
    """Set the language of every label, title and message the kit shows.

    Two languages exist: ``"en"`` (English, the default) and ``"zh"``
    (Simplified Chinese); :func:`available_languages` lists them, one per file
    in ``funnelsim/locales``. Stage, preset and column names never change with
    the language, only what the kit shows. For one block, use :func:`language`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.i18n.available_languages()
    ['en', 'zh']
    >>> fs.set_language("zh")
    >>> fs.t("stage.sales")
    '成交'
    >>> fs.set_language("en")
    >>> fs.t("stage.sales")
    'sales'
    >>> fs.set_language("fr")
    Traceback (most recent call last):
    ...
    funnelsim.FunnelsimValueError: Unknown language 'fr'. Available: en, zh.
    """
    if lang not in available_languages():
        raise FunnelsimValueError(
            "error.unknown_language", lang=lang, choices=", ".join(available_languages())
        )
    _state["lang"] = lang
    for listener in list(_LISTENERS):
        listener(lang)


#: What follows the session's language (:func:`on_language_change`).
_LISTENERS: list[Callable[[str], None]] = []


def on_language_change(listener: Callable[[str], None]) -> None:
    """Call ``listener(lang)`` after every :func:`set_language` (once per listener).

    The display layers register here what must follow the session's language,
    such as the title weight :func:`funnelsim.plotting.set_style` applied. A
    :func:`language` block is temporary and calls nobody.

    Examples
    --------
    >>> import funnelsim as fs
    >>> heard = []
    >>> fs.i18n.on_language_change(heard.append)
    >>> fs.set_language("zh"); fs.set_language("en")
    >>> heard[-2:]
    ['zh', 'en']
    """
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def get_language() -> str:
    """The current language code (``"en"`` by default).

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.get_language()
    'en'
    >>> with fs.language("zh"):
    ...     fs.get_language()
    'zh'
    """
    return _state["lang"]


@contextlib.contextmanager
def language(lang: str) -> Iterator[None]:
    """Context manager that switches the language for a block.

    The language before the block comes back after it, also on an error.

    Examples
    --------
    >>> import funnelsim as fs
    >>> with fs.language("zh"):
    ...     print(fs.t("stage.meetings"))
    约见
    >>> fs.t("stage.meetings")
    'meetings'
    """
    old = get_language()
    set_language(lang)
    try:
        yield
    finally:
        _state["lang"] = old


def t(key: str, /, **kwargs: object) -> str:
    """Look up ``key`` in the current language and fill in ``kwargs``.

    Raises ``KeyError`` for a key that is in no catalogue: that is a bug in
    the kit, caught by ``tests/test_i18n.py``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.t("stage.meetings")
    'meetings'
    >>> fs.t("error.unknown_preset", name="foo", choices="a, b")
    "Unknown preset 'foo'. Choose one of: a, b."
    >>> with fs.language("zh"):
    ...     fs.t("stage.meetings")
    '约见'

    In Chinese, no space stays between two Chinese characters:

    >>> with fs.language("zh"):
    ...     fs.t("plot.p_chart.ylabel", stage="接通"), fs.t("plot.p_chart.ylabel", stage="dial")
    ('进入接通的转化率', '进入 dial 的转化率')

    ... but the spaces inside a value stay (a stage the file writes as '约 见'):

    >>> with fs.language("zh"):
    ...     fs.t("plot.p_chart.ylabel", stage="约 见")
    '进入约 见的转化率'
    """
    text = None
    audience = _state["audience"]
    while text is None and audience:  # "key@cli": the same advice, in the audience's terms
        text = _lookup(f"{key}@{audience}")
        audience = audience.rpartition("-")[0]  # "key@cli-calls", else "key@cli"
    if text is None:
        text = _lookup(key)
    if text is None:
        raise KeyError(key)
    if get_language() != "zh":
        return text.format(**kwargs) if kwargs else text
    # Chinese sets no space between two Chinese characters: a placeholder written with spaces
    # around it ("进入 {stage} 的") keeps them for "dial" but drops them for "接通". Spaces
    # inside a value (a stage written '约 见' in the file) are the user's: kept.
    kept = {k: v.replace(" ", _KEEP) if isinstance(v, str) else v for k, v in kwargs.items()}
    text = text.format(**kept) if kwargs else text
    return _CJK_SPACE.sub("", text).replace(_KEEP, " ")


def sentences(parts: Iterable[str]) -> str:
    """Sentences of the current language, one after another: joined by a space, which
    Chinese does not set between a full stop and the next character.

    >>> sentences(["Two reps differ.", "One leaks."])
    'Two reps differ. One leaks.'
    >>> with language("zh"):
    ...     sentences(["两位销售有差异。", "一位有漏点。"])
    '两位销售有差异。一位有漏点。'
    """
    text = " ".join(parts)
    return _CJK_SPACE.sub("", text) if get_language() == "zh" else text


#: A space (or run of them) between two CJK characters or CJK punctuation marks.
_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_CJK_SPACE = re.compile(rf"(?<={_CJK}) +(?={_CJK})")
#: Stands for a space inside a value while the template's spaces are taken out.
_KEEP = "\x1f"


def _lookup(key: str) -> str | None:
    """``key`` in the current language, else in English, else None."""
    text = _catalogue(get_language()).get(key)
    return text if text is not None else _catalogue(DEFAULT_LANGUAGE).get(key)


@contextlib.contextmanager
def speaking_to(audience: str) -> Iterator[None]:
    """Inside the block, messages that give advice address ``audience``.

    The command line runs under ``speaking_to("cli")``: a message whose fix
    names a Python argument (``errors="drop"``) has a variant keyed
    ``"<key>@cli"`` that names the option instead (``--errors drop``); every
    other message is the same. The key of a raised error stays the plain one.
    An audience ``"cli-calls"`` (the report's call record, whose options are
    ``--calls-column``...) reads ``"<key>@cli-calls"``, else ``"<key>@cli"``.

    Examples
    --------
    >>> from funnelsim.i18n import speaking_to, t
    >>> t("log.error.drop_hint").split(", ")[-1]
    'pass errors="drop".'
    >>> with speaking_to("cli"):
    ...     t("log.error.drop_hint").split(": ")[0]
    'To read the valid rows anyway, add --errors drop'
    """
    old = _state["audience"]
    _state["audience"] = audience
    try:
        yield
    finally:
        _state["audience"] = old


def field_label(name: object) -> str:
    """A log's group column as people read it: the kit's own fields (rep, source,
    segment, period) in the current language, any other column as it is written.

    >>> with language("zh"):
    ...     field_label("source"), field_label("region")
    ('渠道', 'region')
    """
    key = f"field.{name}"
    return t(key) if key in _catalogue(DEFAULT_LANGUAGE) else str(name)


def fields_label(names: Iterable[object]) -> str:
    """Several group columns, comma-separated (see :func:`field_label`).

    >>> fields_label(["rep", "source", "region"])
    'rep, source, region'
    >>> with language("zh"):
    ...     fields_label(["rep", "source", "region"])
    '销售代表, 渠道, region'
    """
    return ", ".join(field_label(n) for n in names)


def method_label(method: object) -> str:
    """An interval method's name as people read it ("wilson" -> "Wilson"); any other
    value as it is written.

    >>> method_label("clopper-pearson")
    'Clopper-Pearson (exact)'
    """
    key = f"interval.{method}"
    return t(key) if key in _catalogue(DEFAULT_LANGUAGE) else str(method)


def stage_label(stage: object) -> str:
    """A stage's name as people read it in the current language; any other name as written.

    Stage names are identifiers (the presets' ``"meetings"``, a log's
    ``"约见"``) and never change with the language; this is what plots, apps
    and reports show for them. The kit's own stage names have a translation
    (``"first contact"`` looks up ``stage.first_contact``), spelled exactly as
    the kit spells it in English; any other name (the user's "Meetings",
    "约见") is shown as it is.

    >>> with language("zh"):
    ...     stage_label("meetings"), stage_label("first contact"), stage_label("Meetings")
    ('约见', '初次接触', 'Meetings')
    >>> stage_label("candidates (25%)"), stage_label("25%")
    ('candidates (25%)', '25%')
    """
    name = str(stage)
    key = "stage." + "_".join(re.findall(r"[a-z0-9]+", name.lower()))
    # Only the kit's own spelling is translated: a user's "Sales" or "Meetings" stays as written.
    return t(key) if _catalogue(DEFAULT_LANGUAGE).get(key) == name else name


def stages_label(stages: Iterable[object], sep: str = " -> ") -> str:
    """Several stages in funnel order, joined by ``sep`` (see :func:`stage_label`).

    >>> stages_label(["dials", "meetings", "Deals"])
    'dials -> meetings -> Deals'
    >>> with language("zh"):
    ...     stages_label(["dials", "meetings", "Deals"], sep=" / ")
    '拨打 / 约见 / Deals'
    """
    return sep.join(stage_label(s) for s in stages)


def column_label(name: object) -> str:
    """A table's column (or index) name as people read it in the current language; any
    name the kit does not know as it is written.

    >>> with language("zh"):
    ...     column_label("entered"), column_label("rep"), column_label("region")
    ('进入', '销售代表', 'region')
    """
    key = f"column.{name}"
    return t(key) if key in _catalogue(DEFAULT_LANGUAGE) else field_label(name)


def cell_label(column: str, value: object) -> str:
    """A value of one of the kit's own columns as people read it: ``cell.<column>.<value>``
    when the catalogue has it, a stage or interval method's label, else as it is written."""
    key = f"{_CELL_KEYS.get(column, 'cell.' + column)}.{value}"
    if key in _catalogue(DEFAULT_LANGUAGE):
        return t(key)
    if column in ("stage", "from", "to"):  # a step or a move back: from one stage to another
        return stage_label(value)
    return method_label(value) if column == "method" else str(value)


# Columns (or an index) whose cells hold names the kit translates for display.
_CELL_COLUMNS = (
    "stage", "method", "status", "lever", "kind", "from", "to", "shape", "intent", "rule",
    "rep",  # the team's row of a table by rep (attainment, a split)
)  # fmt: skip
# Where their labels are, when not under ``cell.<column>``: the qualification's own words.
_CELL_KEYS = {"intent": "qualify.intent", "rule": "qualify.rule"}


def labelled(table: Any) -> Any:
    """A table as people read it: its headers in the current language.

    For showing a pandas DataFrame or Series in a notebook or slide: the
    column names, the index names and a Series' name become words of the
    current language (:func:`column_label`), and the names in a ``stage``
    (or a move's ``from`` and ``to``), ``method``, ``status``, ``shape``, ``lever``,
    ``kind``, ``intent``, ``rule`` or ``rep`` (its ``team`` row) column or index too
    (:func:`stage_label`, :func:`method_label`, the catalogue's ``cell.*``). The numbers
    are the same. It returns a copy;
    the table itself keeps its identifiers, which code goes on using.

    Parameters
    ----------
    table : pandas.DataFrame or pandas.Series
        Any table; anything else is returned as it is.

    Examples
    --------
    >>> import funnelsim as fs
    >>> table = fs.datasets.load_events().stage_table()
    >>> with fs.i18n.language("zh"):
    ...     print(fs.labelled(table.head(2)))
      阶段    进入    通过  尝试次数
    0  接通  6000  2831  6000
    1  约见  2831   636  2831
    >>> list(table.columns)  # the table itself is unchanged
    ['stage', 'entered', 'passed', 'attempts']
    """
    import pandas as pd  # lazy: i18n loads first and cheaply; tables are shown later

    def index(idx: pd.Index) -> pd.Index:
        if isinstance(idx, pd.MultiIndex):
            levels = [
                level.map(functools.partial(cell_label, name)) if name in _CELL_COLUMNS else level
                for level, name in zip(idx.levels, idx.names, strict=True)
            ]
            return idx.set_levels(levels).set_names([_name(n) for n in idx.names])
        if idx.name in _CELL_COLUMNS:
            idx = idx.map(functools.partial(cell_label, idx.name))
        return idx.set_names(_name(idx.name))

    def _name(name: object) -> object:
        return None if name is None else column_label(name)

    if isinstance(table, pd.Series):
        out = table.copy()
        out.index = index(out.index)
        out.name = _name(out.name)
        return out
    if not isinstance(table, pd.DataFrame):
        return table
    out = table.copy()
    for name in _CELL_COLUMNS:
        if name in out.columns and not pd.api.types.is_numeric_dtype(out[name]):
            label = functools.partial(cell_label, name)
            out[name] = out[name].astype(object).map(lambda v, f=label: v if pd.isna(v) else f(v))
    out.index = index(out.index)
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = out.columns.set_levels(
            [level.map(column_label) for level in out.columns.levels]
        ).set_names([_name(n) for n in out.columns.names])
    else:
        head = out.columns.name  # columns that are values (a pivot by shape): their labels
        label = functools.partial(cell_label, head) if head in _CELL_COLUMNS else column_label
        out.columns = pd.Index([label(c) for c in out.columns], name=_name(head))
    return out


def table_text(table: Any, **to_string: Any) -> str:
    """A table as text for a repr or a terminal: :func:`labelled`, then ``to_string`` with
    Chinese characters counted two columns wide, so the columns line up.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"stage": ["meetings"], "entered": [2831]})
    >>> with language("zh"):
    ...     print(table_text(table, index=False))
    阶段  进入
    约见  2831
    """
    import pandas as pd  # lazy: see labelled

    with pd.option_context("display.unicode.east_asian_width", True):
        return labelled(table).to_string(**to_string)


def unit_label(unit: object) -> str:
    """A time unit ("days", "weeks", "periods"...) in the current language; any other
    value as it is written.

    >>> with language("zh"):
    ...     unit_label("days"), unit_label("quarters")
    ('天', 'quarters')
    """
    word = str(unit)
    code = word.removesuffix("s")
    return t(f"plot.units.{code}") if code in ("day", "week", "month", "period") else word


# ---------------------------------------------------------------- errors
class FunnelsimError(Exception):
    """Base of the kit's errors: a translated message, a stable ``key`` and its ``values``.

    Parameters
    ----------
    key : str
        The message's key in ``funnelsim/locales/*.json``.
    message : str, optional
        The whole text, for messages assembled from several catalogue
        entries (a log's list of problems); by default ``t(key, **values)``.
    **values
        The values filled into the message, kept as ``.values``.

    Examples
    --------
    Catch the kit's errors by this class and check ``.key``, not the wording:

    >>> import funnelsim as fs
    >>> try:
    ...     fs.presets.get("nope")
    ... except fs.FunnelsimError as err:
    ...     print(err.key, err.values["name"], isinstance(err, ValueError))
    error.unknown_preset nope True
    """

    def __init__(self, key: str, /, *, message: str | None = None, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(t(key, **values) if message is None else message)

    def __reduce__(self):  # pickles with its key and values, not just its text
        return (_rebuild, (type(self), self.key, self.values, str(self)))


class FunnelsimValueError(FunnelsimError, ValueError):
    """A value the kit cannot use: out of range, unknown name, inconsistent input.

    Examples
    --------
    >>> import funnelsim as fs
    >>> try:
    ...     fs.Funnel(["calls", "sales"], [1.3])
    ... except fs.FunnelsimValueError as err:
    ...     print(err.key, err.values["value"])
    error.ratio_range 1.3
    """


class FunnelsimTypeError(FunnelsimError, TypeError):
    """A value of the wrong type for its argument (a string where a number belongs...).

    Examples
    --------
    >>> import funnelsim as fs
    >>> try:
    ...     fs.presets.get(3)
    ... except fs.FunnelsimTypeError as err:
    ...     print(err.key, err.values["name"], isinstance(err, TypeError))
    error.type_choice name True
    """


# Tracebacks name them as users import them: funnelsim.FunnelsimValueError.
for _cls in (FunnelsimError, FunnelsimValueError, FunnelsimTypeError):
    _cls.__module__ = "funnelsim"


def _rebuild(cls: type[FunnelsimError], key: str, values: dict, message: str) -> FunnelsimError:
    return cls(key, message=message, **values)
