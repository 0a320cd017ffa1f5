"""A Simplified Chinese font for the plots, installed with the kit.

The kit depends on the PyPI package ``justmytype-intl-cjk``, which ships
Google's Noto Sans SC (SIL Open Font License 1.1) as one *variable* font.
Matplotlib draws a variable font at its default instance, which for Noto
Sans SC is the hairline "Thin" weight: unreadable on a projector. So the
first use makes a static Regular (weight 400) copy with fontTools (about
30 seconds, once per machine; ``make venv`` does it during set-up, or run
``python -m funnelsim.fonts``) and keeps it in matplotlib's cache folder.

:func:`register` adds that font to matplotlib's font manager and appends it
to ``font.family``, so Latin text keeps its font and every Chinese character
falls back to Noto Sans SC: no empty boxes. :mod:`funnelsim.plotting` calls
it on import.

Examples
--------
>>> import funnelsim as fs
>>> fs.fonts.FAMILY
'Noto Sans SC'
>>> fs.fonts.FAMILY in fs.fonts.register()
True
"""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import re
import sys
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

from .i18n import t

__all__ = [
    "CHINESE",
    "CJK_FAMILY",
    "FAMILY",
    "chinese_characters",
    "cut",
    "families",
    "font_face",
    "font_path",
    "register",
]

FAMILY = "Noto Sans SC"
_PACKAGE = "justmytype_intl_cjk"
_VARIABLE = ("fonts", "ofl", "notosanssc", "NotoSansSC[wght].ttf")
_STATIC = "NotoSansSC-Regular.ttf"
_WEIGHT = 400
#: Chinese characters and the punctuation, radicals and full-width forms around them.
CHINESE = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _variable_font() -> Path:
    root = resources.files(_PACKAGE)
    return Path(str(root.joinpath(*_VARIABLE)))


def _static_font() -> Path:
    return Path(mpl.get_cachedir()) / "funnelsim" / _STATIC


def _instantiate(source: Path, target: Path) -> None:
    """Write the static Regular instance of the variable font (atomically)."""
    # lazy: fontTools' instancer is a heavy import (about 0.15 s) needed once per
    # machine, to build the cached font; every later session only reads the file.
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    print(t("font.building", path=str(target)), file=sys.stderr, flush=True)
    font = instancer.instantiateVariableFont(
        TTFont(source), {"wght": _WEIGHT}, updateFontNames=True
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".ttf.part")
    os.close(fd)
    try:
        font.save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@cache
def font_path() -> Path:
    """The Noto Sans SC file the plots use (made on first use, then cached).

    Returns the static Regular copy in matplotlib's cache folder; if that
    folder cannot be written, the variable font itself (thin, but complete).

    >>> import funnelsim as fs
    >>> fs.fonts.font_path().suffix
    '.ttf'
    """
    static = _static_font()
    if not static.exists():
        try:
            _instantiate(_variable_font(), static)
        except OSError:
            return _variable_font()
    return static


@cache
def _add_font() -> bool:
    """Add the font to matplotlib (once); False when the font package is missing."""
    try:
        path = str(font_path())
    except ModuleNotFoundError:  # installed without its dependencies: Latin text only
        return False
    manager = font_manager.fontManager
    manager.addfont(path)
    # Bold titles use the same Regular face: no "Failed to find font weight
    # bold" message in the notebook (a Bold instance would cost another copy).
    regular = next(f for f in manager.ttflist if f.fname == path)
    manager.ttflist.append(dataclasses.replace(regular, weight=700))
    cached = getattr(manager, "_findfont_cached", None)  # matplotlib's lookup cache
    if cached is not None:
        cached.cache_clear()
    return True


def families() -> list[str]:
    """The current ``font.family`` with Noto Sans SC appended as the fallback.

    Changes nothing (except adding the font to matplotlib's font manager, once).

    >>> import funnelsim as fs
    >>> fs.fonts.families()[-1]
    'Noto Sans SC'
    """
    current = list(mpl.rcParams["font.family"])
    if not _add_font() or FAMILY in current:
        return current
    return [*current, FAMILY]


def register() -> list[str]:
    """Make Chinese text render in matplotlib, keeping the Latin font.

    Adds Noto Sans SC to matplotlib's font manager (once) and appends it to
    ``rcParams["font.family"]`` as the fallback family. Safe to call again.

    Returns
    -------
    list of str
        The new ``font.family``.

    Examples
    --------
    :mod:`funnelsim.plotting` calls it on import; calling it again changes nothing.

    >>> import matplotlib as mpl
    >>> import funnelsim as fs
    >>> families = fs.fonts.register()
    >>> families[-1], families == list(mpl.rcParams["font.family"])
    ('Noto Sans SC', True)
    >>> fs.fonts.register() == families
    True
    """
    mpl.rcParams["font.family"] = families()
    return list(mpl.rcParams["font.family"])


if __name__ == "__main__":  # pragma: no cover - set-up step: python -m funnelsim.fonts
    print(font_path())


def chinese_characters(text: str) -> str:
    """The distinct Chinese characters (see :data:`CHINESE`) of ``text``, sorted.

    >>> chinese_characters("约见 meetings，约见")
    '约见，'
    """
    return "".join(sorted(set(CHINESE.findall(text))))


#: The family name a page gives the embedded Chinese face, and the code points it covers.
CJK_FAMILY = "funnelsim Noto Sans SC"
CJK_RANGE = "U+2E80-9FFF, U+3000-303F, U+FF00-FFEF"


def font_face(page: str) -> str:
    """A CSS ``@font-face`` rule that embeds the plot font cut to the Chinese characters of
    ``page`` (a WOFF ``data:`` URI, family :data:`CJK_FAMILY`, covering Chinese only), so
    the page reads on a machine without a Chinese font; empty without Chinese.

    >>> font_face("<p>no Chinese here</p>")
    ''
    >>> "font/woff;base64," in font_face("<p>约见</p>")
    True
    """
    chars = chinese_characters(page)
    if not chars:
        return ""
    woff = base64.b64encode(cut(chars)).decode("ascii")
    return (
        f'@font-face {{ font-family: "{CJK_FAMILY}"; font-weight: normal;'
        f' src: url("data:font/woff;base64,{woff}") format("woff");'
        f" unicode-range: {CJK_RANGE}; }}\n"
    )


def cut(chars: str, *, flavor: str = "woff") -> bytes:
    """The plot font (:func:`font_path`) cut to ``chars``: a small file for a web page.

    Workshop pages and handouts embed or serve this, so that a browser
    without a Chinese font draws their Chinese text, without fetching the
    whole 10 MB font. ``flavor`` is ``"woff"`` (zlib-compressed; WOFF2 would
    need brotli) or ``None`` (TrueType).

    >>> from fontTools.ttLib import TTFont
    >>> font = TTFont(io.BytesIO(cut("约见")))
    >>> sorted(chr(c) for c in font.getBestCmap() if c > 127)
    ['约', '见']
    """
    # lazy: fontTools' subsetter is needed only by the workshop and the handouts.
    from fontTools import subset

    options = subset.Options()
    options.flavor = flavor
    font = subset.load_font(str(font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    data = io.BytesIO()
    subset.save_font(font, data, options)
    return data.getvalue()
