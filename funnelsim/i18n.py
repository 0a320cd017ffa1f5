"""One lookup for every user-facing string.

Labels, plot titles, widget captions and error messages all go through
:func:`t`. The English text lives in ``funnelsim/locales/en.json``; a
translation is one more file beside it (``zh.json`` for Simplified Chinese),
with the same keys. A key missing from a translation falls back to English,
so a partial translation never breaks the kit. The language starts as
English, or as the environment variable ``FUNNELSIM_LANG`` says
(``FUNNELSIM_LANG=zh make workshop`` opens the dashboards in Chinese).

Examples
--------
>>> from funnelsim.i18n import t
>>> t("stage.sales")
'sales'
>>> t("error.unknown_preset", name="foo", choices="a, b")
"Unknown preset 'foo'. Choose one of: a, b."
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources

__all__ = [
    "available_languages",
    "field_label",
    "fields_label",
    "get_language",
    "language",
    "method_label",
    "set_language",
    "t",
    "unit_label",
]

DEFAULT_LANGUAGE = "en"
_state = {"lang": DEFAULT_LANGUAGE}


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
    """Set the language of every label, title and message the kit shows."""
    if lang not in available_languages():
        raise ValueError(
            t("error.unknown_language", lang=lang, choices=", ".join(available_languages()))
        )
    _state["lang"] = lang


def get_language() -> str:
    """The current language code (``"en"`` by default)."""
    return _state["lang"]


@contextlib.contextmanager
def language(lang: str) -> Iterator[None]:
    """Context manager that switches the language for a block."""
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
    """
    text = _catalogue(get_language()).get(key)
    if text is None:
        text = _catalogue(DEFAULT_LANGUAGE)[key]
    return text.format(**kwargs) if kwargs else text


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
    """Several group columns, comma-separated (see :func:`field_label`)."""
    return ", ".join(field_label(n) for n in names)


def method_label(method: object) -> str:
    """An interval method's name as people read it ("wilson" -> "Wilson"); any other
    value as it is written.

    >>> method_label("clopper-pearson")
    'Clopper-Pearson (exact)'
    """
    key = f"interval.{method}"
    return t(key) if key in _catalogue(DEFAULT_LANGUAGE) else str(method)


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
