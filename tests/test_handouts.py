"""``make handouts`` (``workshop/handouts.py``): executed HTML pages that load nothing from
the network, with the images embedded, the solutions folded and the check cells gone.

Each language's index (the smallest notebook, a few seconds to run) is made into a
handout from a copy with two cells added: the first solution of notebook 01 in the
same language (a ``<details>`` block, as every solution is) and a chart drawn by a code
cell, so that an image and a folded solution are on the page. All 16 handouts are made
by hand (``make handouts``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HANDOUTS = ROOT / "workshop" / "handouts.py"
FOLDERS = {"en": ROOT / "notebooks", "zh": ROOT / "notebooks" / "zh"}


def _load():
    spec = importlib.util.spec_from_file_location("workshop_handouts", HANDOUTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell(kind: str, source: str, tags: tuple[str, ...] = ()) -> dict:
    cell = {"cell_type": kind, "metadata": {"tags": list(tags)}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _planted_index(lang: str, folder: Path) -> Path:
    """A copy of ``00-index`` in ``lang`` with a real solution and a chart added, in
    ``folder``."""
    index = json.loads((FOLDERS[lang] / "00-index.ipynb").read_text(encoding="utf-8"))
    lesson = json.loads(
        (FOLDERS[lang] / "01-law-of-large-numbers.ipynb").read_text(encoding="utf-8")
    )
    solution = next(c for c in lesson["cells"] if "solution" in c["metadata"].get("tags", []))
    index["cells"] += [
        solution,
        _cell("code", "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"),
    ]
    for number, cell in enumerate(index["cells"]):
        cell["id"] = f"cell-{number}"
    path = folder / "00-index.ipynb"
    path.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["en", "zh"])
def handout(request, tmp_path_factory):
    """(language, the notebook made into a handout, the page)."""
    lang = request.param
    path = _planted_index(lang, tmp_path_factory.mktemp(f"handout-{lang}"))
    return lang, path, _load().handout(path, lang)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _elements(page: str, tag: str) -> list[dict[str, str | None]]:
    parser = _Elements()
    parser.feed(page)
    return [attrs for name, attrs in parser.tags if name == tag]


def test_handout_loads_nothing_from_the_network(handout):
    lang, _, page = handout
    assert _load().remote_references(page) == []
    # the same, read independently: no script, stylesheet or image from elsewhere
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        for attrs in _elements(page, tag):
            assert not re.match(r"(https?:)?//", attrs.get(attribute) or ""), (tag, attrs)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    assert _elements(page, "html")[0]["lang"] == lang


def test_handout_embeds_its_images(handout):
    _, _, page = handout
    images = [attrs["src"] for attrs in _elements(page, "img")]
    assert images  # the chart
    assert all(src.startswith("data:image/png;base64,") for src in images), images


def test_handout_keeps_solutions_folded_and_leaves_out_checks(handout):
    lang, path, page = handout
    details = _elements(page, "details")
    assert details and all("open" not in attrs for attrs in details)
    # and the solution is inside its <details>, not after it (each holds its code)
    folded = re.findall(r"<details[^>]*>(.*?)</details>", page, re.S)
    assert folded and all(re.search(r"</summary>.*<pre", block, re.S) for block in folded), folded
    notebook = json.loads(path.read_text(encoding="utf-8"))
    removed = [
        "".join(c["source"])
        for c in notebook["cells"]
        if {"check", "lab-only"} & set(c["metadata"].get("tags", []))
    ]
    assert removed  # the index has a check cell and a lab-only one
    assert "check_quote" not in page  # what every check cell calls
    headings = [line for text in removed for line in text.splitlines() if line.startswith("## ")]
    assert headings  # the lab-only cell's ("How to use a notebook")
    assert [h for h in headings if h[3:] in page] == []
    # the language switch, a live widget with no still, leaves no repr behind
    assert "LanguageSwitch(" not in page
    # a shown cell is on the page: the notebook's own title, in its language
    title = next(
        line[2:]
        for c in notebook["cells"]
        if c["cell_type"] == "markdown"
        for line in "".join(c["source"]).splitlines()
        if line.startswith("# ")
    )
    assert title in page, (lang, title)


def test_handout_carries_a_font_for_every_chinese_character(handout):
    """A machine without a Chinese font still shows the Chinese: the page embeds the kit's
    font, cut to its characters, and the cut font has a glyph for each of them."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    lang, _, page = handout
    module = _load()
    body = page.split("</style>")[-1]  # the text after the stylesheets
    chars = set(re.findall(r"[\u4e00-\u9fff]", body))
    found = re.search(r'url\("data:font/woff;base64,([A-Za-z0-9+/=]+)"\)', page)
    if lang == "en" and not chars:
        assert found is None
        return
    assert found and module.CJK_FAMILY in page
    cmap = TTFont(io.BytesIO(base64.b64decode(found.group(1)))).getBestCmap()
    missing = sorted(c for c in chars if ord(c) not in cmap)
    assert not missing and (lang == "en" or len(chars) > 50), missing
    assert module.cjk_font_face("no Chinese") == ""


def test_the_check_sees_what_loads_from_the_network(handout):
    """Planted: the same page with a remote script, a scheme-relative stylesheet and a
    remote font in its style fails the check; a plain link to another site does not.
    And nbconvert's own lab page (without workshop/handout) asks CDNs for scripts."""
    from nbconvert import HTMLExporter

    _, path, page = handout
    remote_references = _load().remote_references
    planted = {
        '<script src="https://cdn.example.org/require.js"></script>': "require.js",
        '<link rel="stylesheet" href="//cdn.example.org/all.css">': "all.css",
        "<style>@font-face { src: url(https://fonts.example.org/a.woff2) }</style>": "a.woff2",
        '<img src="http://example.org/chart.png">': "chart.png",
        '<img src="chart.png">': "chart.png",  # beside the notebook: not in the page
    }
    for html, name in planted.items():
        found = remote_references(page.replace("</head>", html + "</head>", 1))
        assert len(found) == 1 and name in found[0], (html, found)
    assert remote_references(page.replace("</body>", '<a href="https://x.org">x</a></body>')) == []
    lab, _ = HTMLExporter(template_name="lab").from_filename(str(path))
    assert [r for r in remote_references(lab) if "require" in r]


def test_main_writes_each_language_into_its_folder(tmp_path, monkeypatch, capsys):
    """``main`` writes handouts/<lang>/<notebook>.html with a progress line each; here
    with one notebook per language (the planted index) instead of all sixteen."""
    module = _load()
    folders = {}
    for lang in FOLDERS:
        folders[lang] = tmp_path / "notebooks" / lang
        folders[lang].mkdir(parents=True)
        _planted_index(lang, folders[lang])
    monkeypatch.setattr(module, "notebook_folders", lambda: folders)
    made = {}
    monkeypatch.setattr(module, "handout", lambda path, lang, code: made.setdefault(lang, "<p/>"))
    assert module.main(["--out", str(tmp_path / "out")]) == 0
    assert sorted(made) == ["en", "zh"]
    for lang in FOLDERS:
        assert (tmp_path / "out" / lang / "00-index.html").read_text() == "<p/>"
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines[:2]] == [
        ["[1/2]", "en", "00-index.ipynb"],
        ["[2/2]", "zh", "00-index.ipynb"],
    ]
    assert lines[-1].startswith("handouts: 2 of 2 written")
