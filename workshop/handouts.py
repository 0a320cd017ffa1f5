"""Executed, self-contained HTML handouts of every notebook (``make handouts``).

Each notebook is run top to bottom in a fresh kernel (nbconvert's
``ExecutePreprocessor``), in the language it is written in: the English
notebooks of ``notebooks/`` with ``FUNNELSIM_LANG=en``, the Chinese ones of
``notebooks/zh/`` with ``FUNNELSIM_LANG=zh``, so the charts and the apps' words
match the text. It is run without widget state (``store_widget_state=False``):
an app then shows its still, the chart as a PNG and its summary, which every
app puts in its output beside the live view.

The page is nbconvert's "lab" page through the small template in
``workshop/handout/``, which leaves out every script it would load from a CDN
(require.js, MathJax, mermaid, the widget manager): a handout loads nothing
from the network, its stylesheets are inlined and its images are ``data:``
URIs (the outputs' charts), so it opens offline, from a USB stick or as an e-mail attachment.
:func:`remote_references` checks each page before it is written.

What a handout shows: the notebook as a student reads it, text, code, outputs,
exercises and their solutions, which stay folded (``<details>`` blocks). The
code stays because the exercises and solutions are about it and the cells are
short; ``--no-code`` gives the dashboard's view instead (no code, no exercises).
It never shows the cells tagged ``check`` (the checks of the numbers the text
quotes, hidden in JupyterLab too) nor ``lab-only`` (instructions for
JupyterLab, such as Run All).

Usage::

    python workshop/handouts.py [--out handouts] [--lang en] [--lang zh] [--no-code]

writes ``handouts/en/NN-topic.html`` and ``handouts/zh/NN-topic.html`` (git
ignores ``handouts/``), one progress line per notebook.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "handouts"
TEMPLATE = "handout"  # workshop/handout/
#: Cells a handout never shows.
REMOVED_TAGS = ("check", "lab-only")
#: Cells a handout without code (``--no-code``) also leaves out, as the dashboards do.
EXERCISE_TAGS = ("exercise", "solution")
#: Elements whose attribute names a resource the browser loads with the page.
_LOADS = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
}
WIDGET = "application/vnd.jupyter.widget-view+json"
# Chinese text of a handout is drawn with the kit's own Noto Sans SC, cut to the
# characters the page uses and embedded, so a machine without a Chinese font shows it.
CJK_FAMILY = "funnelsim Noto Sans SC"  # the same as funnelsim.fonts.CJK_FAMILY
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])\s*((?:[a-z]+:)?//[^"')\s]+)""", re.I)


def notebook_folders() -> dict[str, Path]:
    """The notebooks of each language: ``{"en": notebooks/, "zh": notebooks/zh/}``.

    Examples
    --------
    >>> sorted(notebook_folders())
    ['en', 'zh']
    """
    from funnelsim import i18n

    return {
        lang: ROOT / "notebooks" if lang == i18n.DEFAULT_LANGUAGE else ROOT / "notebooks" / lang
        for lang in i18n.available_languages()
    }


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value and name == _LOADS.get(tag) and not value.startswith("data:"):
                if _REMOTE.match(value) or tag == "img":  # an image beside the page: lost
                    self.found.append(f"<{tag} {name}={value!r}>")
            if value and name == "style":
                self.found.extend(f"style={ref!r}" for ref in _CSS_REMOTE.findall(value))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found.extend(f"<style> {ref!r}" for ref in _CSS_REMOTE.findall(data))


def remote_references(html: str) -> list[str]:
    """What in a page would load from another machine: the ``src``/``href`` of its
    scripts, stylesheets, images and frames that are absolute or scheme-relative
    URLs, and the ``url(...)``/``@import`` of its styles that are; and every image
    that is not a ``data:`` URI (a file beside the notebook does not travel with the
    page). A link a reader clicks (``<a href>``) loads nothing and is not listed.

    Examples
    --------
    >>> remote_references('<img src="data:image/png;base64,AA"><a href="https://x.org">x</a>')
    []
    >>> remote_references('<script src="https://cdn.example.org/require.js"></script>')
    ["<script src='https://cdn.example.org/require.js'>"]
    """
    parser = _Resources()
    parser.feed(html)
    parser.close()
    return parser.found


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """``os.environ`` with ``values`` set for a block (a kernel started in it inherits
    them), restored after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _bare_widget(output: dict) -> bool:
    """A live widget's output with nothing a page can show without a kernel but its
    ``repr`` (an app's output also has its still, ``text/html``)."""
    data = output.get("data", {})
    return WIDGET in data and not set(data) - {WIDGET, "text/plain"}


def handout(path: Path, lang: str, *, code: bool = True, timeout: int = 600) -> str:
    """The HTML handout of the notebook at ``path``: run in a fresh kernel whose kit
    speaks ``lang``, without its ``check`` and ``lab-only`` cells, self-contained.

    Parameters
    ----------
    path : Path
        The notebook.
    lang : str
        The language its text is written in (``"en"``, ``"zh"``): its kernel starts
        in it (``FUNNELSIM_LANG``) and the page declares it (``<html lang>``).
    code : bool, default True
        Show the code cells and the exercises; ``False`` leaves them out, as the
        dashboards do.
    timeout : int, default 600
        Seconds a cell may run.

    Returns
    -------
    str
        The page.

    Examples
    --------
    >>> page = handout(ROOT / "notebooks" / "00-index.ipynb", "en")  # doctest: +SKIP
    >>> remote_references(page)  # doctest: +SKIP
    []
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    notebook = nbformat.read(path, as_version=4)
    executor = ExecutePreprocessor(timeout=timeout, store_widget_state=False)
    with _environment(FUNNELSIM_LANG=lang):
        executor.preprocess(notebook, {"metadata": {"path": str(path.parent)}})
    removed = set(REMOVED_TAGS) | (set() if code else set(EXERCISE_TAGS))
    notebook.cells = [
        cell for cell in notebook.cells if not removed & set(cell.metadata.get("tags", []))
    ]
    for cell in notebook.cells:  # a widget with no still (the language switch) shows nothing
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if not _bare_widget(output)]
    exporter = HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(Path(__file__).resolve().parent)],
        # Not embed_images: it re-parses each HTML block of the markdown on its own,
        # which closes a <details> before the solution it folds. The notebooks have no
        # markdown images; remote_references refuses any image that is not data:.
        language_code=lang,
        exclude_input=not code,
        exclude_input_prompt=not code,
        exclude_output_prompt=not code,
    )
    page, _ = exporter.from_notebook_node(
        notebook, resources={"metadata": {"name": path.stem, "path": str(path.parent)}}
    )
    return page.replace("</head>", cjk_font_face(page) + "</head>", 1)


def cjk_font_face(page: str) -> str:
    """A ``<style>`` that embeds the kit's Noto Sans SC, cut to the Chinese characters
    of ``page`` (a WOFF file as a ``data:`` URI), and draws Chinese text with it;
    empty for a page without Chinese.

    The face covers Chinese only (``unicode-range``), so Latin text keeps the page's
    own fonts. A page with a few hundred distinct characters carries about 0.3 MB.

    >>> cjk_font_face("<p>no Chinese here</p>")
    ''
    >>> "font/woff;base64," in cjk_font_face("<p>约见</p>")
    True
    """
    from funnelsim import fonts

    face = fonts.font_face(page)
    if not face:
        return ""
    family = f'"{CJK_FAMILY}"'
    sans = "system-ui, -apple-system, 'Segoe UI', helvetica, arial, sans-serif"
    # Every rule of the lab page names its font through these variables (the code's has
    # a default, the others are left to the browser); the Chinese face goes first.
    return (
        '<style type="text/css">\n'
        + face
        + f":root {{ --jp-code-font-family: {family}, var(--jp-code-font-family-default);"
        f" --jp-content-font-family: {family}, {sans}; --jp-ui-font-family: {family}, {sans}; }}\n"
        f"body {{ font-family: {family}, {sans}; }}\n"
        "</style>\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Write the handouts; one line per notebook. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(OUT), help="folder to write to (default handouts/)")
    parser.add_argument(
        "--lang",
        action="append",
        choices=sorted(notebook_folders()),
        help="only the notebooks in this language (again for another; default: all)",
    )
    parser.add_argument(
        "--no-code", action="store_true", help="leave out the code and the exercises"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    jobs = []
    for lang, folder in notebook_folders().items():
        if args.lang and lang not in args.lang:
            continue
        notebooks = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
        if not notebooks:
            print(f"handouts: no notebooks in {folder}: no {lang} handouts", file=sys.stderr)
        jobs.extend((lang, path) for path in notebooks)
    start, total, failed = time.monotonic(), 0, []
    for number, (lang, path) in enumerate(jobs, 1):
        target = out / lang / f"{path.stem}.html"
        began = time.monotonic()
        try:
            page = handout(path, lang, code=not args.no_code)
            remote = remote_references(page)
            if remote:
                raise RuntimeError(f"the page would load from the network: {remote}")
        except Exception as error:  # one notebook's failure is reported, the rest go on
            failed.append(path)
            print(f"[{number}/{len(jobs)}] {lang} {path.name}: FAILED: {error}", flush=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        size = target.stat().st_size
        total += size
        shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
        print(
            f"[{number}/{len(jobs)}] {lang} {path.name} -> {shown} "
            f"({time.monotonic() - began:.0f} s, {size / 1e6:.1f} MB)",
            flush=True,
        )
    print(
        f"handouts: {len(jobs) - len(failed)} of {len(jobs)} written to {out} "
        f"({total / 1e6:.1f} MB, {time.monotonic() - start:.0f} s)"
        + (f"; failed: {', '.join(p.name for p in failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
