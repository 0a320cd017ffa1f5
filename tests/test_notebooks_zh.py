"""The Chinese notebooks (``notebooks/zh``) are the English ones, translated (issue #12).

Each English notebook has a Chinese twin of the same file name. The narrative,
the exercises, the hints, the solutions' words, the printed sentences and the
code comments are written in Chinese; the code itself is the same. This test
keeps the two from drifting:

* the same cells in the same order, of the same kind, with the same tags;
* every code cell (and every folded solution's code) is the same program: the
  same syntax tree once comments are dropped, where a string may differ only by
  being translated (it holds Chinese) and an f-string may put its fields in
  another order; ``language_switch("en")`` reads ``language_switch("zh")``;
* every markdown cell that says something in words says it in Chinese, and so
  does every printed sentence and every comment of more than two English words.

The numbers the Chinese text quotes are checked by tests/test_narrative.py, as
the English ones are.
"""

from __future__ import annotations

import ast
import io
import itertools
import json
import re
import tokenize
from pathlib import Path

import pytest
from solutions import FENCED, solution_code, source

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHINESE = ROOT / "notebooks" / "zh"
CJK = re.compile(r"[\u3400-\u9fff]")
WORDS = re.compile(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){2,}")  # three English words in a row


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _python(code: str) -> str:
    """The cell without IPython's magics and shell lines."""
    return "\n".join(
        "pass" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()
    )


def _literal_text(node: ast.JoinedStr) -> str:
    """An f-string's words, without its fields."""
    words = [v.value for v in node.values if isinstance(v, ast.Constant)]
    return "".join(w for w in words if isinstance(w, str))


class _Strings(ast.NodeTransformer):
    """Blank every string, keep them aside; an f-string keeps its fields, sorted."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):
            self.texts.append(node.value)
            return ast.Constant(value="")
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.texts.append(_literal_text(node))
        # The fields, whole (their format specs and subscripts are code), in any order.
        fields = sorted(ast.dump(v) for v in node.values if isinstance(v, ast.FormattedValue))
        return ast.Constant(value="f-string with " + " | ".join(fields))


def program(code: str) -> tuple[str, list[str]]:
    """A code cell as a comparable program (its syntax tree, strings blanked) and its
    strings in order."""
    blanker = _Strings()
    tree = blanker.visit(ast.parse(_python(code)))
    return ast.dump(tree, include_attributes=False), blanker.texts


def comments(code: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(_python(code) + "\n").readline)
    return [tok.string for tok in tokens if tok.type == tokenize.COMMENT]


def differences(english: str, chinese: str) -> list[str]:
    """Why a Chinese code cell is not the English one translated (empty: it is)."""
    try:
        en_tree, en_texts = program(english)
        zh_tree, zh_texts = program(chinese)
    except SyntaxError as error:
        return [f"not Python: {error}"]
    if en_tree != zh_tree:
        return ["the code differs (not only its strings and comments)"]
    problems = []
    for en, zh in zip(en_texts, zh_texts, strict=True):
        if en == zh or (en, zh) == ("en", "zh") or (CJK.search(zh) and not CJK.search(en)):
            if en == zh and WORDS.search(en) and _shown(english, en):
                problems.append(f"sentence left in English: {en!r}")
            continue
        problems.append(f"string {en!r} became {zh!r} (only a translation may differ)")
    for comment in comments(chinese):
        if WORDS.search(comment) and not CJK.search(comment):
            problems.append(f"comment left in English: {comment}")
    return problems


def _shown(code: str, text: str) -> bool:
    """Whether a string is a sentence the cell prints (an f-string or a print argument)."""
    tree = ast.parse(_python(code))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            if _literal_text(node) == text:
                return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            if any(isinstance(a, ast.Constant) and a.value == text for a in node.args):
                return True
    return False


def _words(markdown: str) -> str:
    """A markdown cell's prose: without fenced code, code spans, links' targets and tags."""
    text = FENCED.sub(" ", markdown)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"<[^>]+>", " ", text)


# ------------------------------------------------------------- the rule itself
def test_the_rule_allows_translations_and_nothing_else():
    english = 'x = fs.f(3, name="daily ratio game")  # the game\nprint(f"{x:.0%} of {n} calls")'
    same = 'x = fs.f(3, name="daily ratio game")  # 这个游戏\nprint(f"{n} 通电话中的 {x:.0%}")'
    assert differences(english, same) == []
    spec = "print(f\"{t['passed']:,} of {x:.0%}\")"
    assert differences(spec, "print(f\"{x:.0%} 中的 {t['passed']:,}\")") == []  # fields move
    assert differences(spec, "print(f\"{x:.1%} 中的 {t['passed']:,}\")") != []  # not change
    assert differences(english, same.replace("3", "4")) == [
        "the code differs (not only its strings and comments)"
    ]
    renamed = same.replace("daily ratio game", "每日比率游戏")
    assert differences(english, renamed) == []  # Chinese, so allowed here; running it fails
    assert differences(english, same.replace("daily ratio game", "weekly")) == [
        "string 'daily ratio game' became 'weekly' (only a translation may differ)"
    ]
    english = english.replace(" of {n}", " of the {n}")
    untranslated = english.replace("# the game", "# the game we play")
    assert differences(english, untranslated) == [
        "sentence left in English: ' of the  calls'",
        "comment left in English: # the game we play",
    ]
    switch = "fs.widgets.language_switch('{}')"
    assert differences(switch.format("en"), switch.format("zh")) == []


# ------------------------------------------------------------------ the pairs
def test_every_notebook_has_a_chinese_twin_and_no_other():
    chinese = sorted(p.name for p in CHINESE.glob("*.ipynb"))
    assert chinese == [p.name for p in ENGLISH]


@pytest.mark.parametrize("english", ENGLISH, ids=lambda p: p.stem)
def test_the_chinese_notebook_is_the_english_one_translated(english):
    twin = CHINESE / english.name
    if not twin.is_file():
        pytest.fail(f"notebooks/zh/{english.name} is missing")
    en_cells, zh_cells = _cells(english), _cells(twin)
    shape = [(c["cell_type"], c["metadata"].get("tags", [])) for c in en_cells]
    assert [(c["cell_type"], c["metadata"].get("tags", [])) for c in zh_cells] == shape, (
        f"zh/{english.name}: cells differ in number, kind or tags from the English notebook"
    )
    problems = []
    for index, (en, zh) in enumerate(zip(en_cells, zh_cells, strict=True)):
        where = f"cell {index}"
        if en["cell_type"] == "code":
            problems += [f"{where}: {p}" for p in differences(source(en), source(zh))]
            hidden = en["metadata"].get("jupyter", {})
            if zh["metadata"].get("jupyter", {}) != hidden:
                problems.append(f"{where}: folded differently from the English cell")
            continue
        en_code, zh_code = solution_code(en), solution_code(zh)
        if len(en_code) != len(zh_code):
            problems.append(f"{where}: the solution's code blocks differ in number")
        for a, b in zip(en_code, zh_code, strict=False):
            problems += [f"{where} (solution): {p}" for p in differences(a, b)]
        words = _words(source(zh))
        if WORDS.search(_words(source(en))) and not CJK.search(words):
            problems.append(f"{where}: the text is not in Chinese")
        elif WORDS.search(words) and not CJK.search(words):
            problems.append(f"{where}: English prose")
    assert not problems, f"zh/{english.name}:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------- Chinese line breaks
_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef][*_]*$")
_CJK_START = re.compile(r"^\s*[*_]*[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_NEW_BLOCK = re.compile(r"^\s*(?:[*+-]\s|\d+[.)]\s|#|\||<|```|>|$)")


def broken_lines(markdown: str) -> list[str]:
    """Lines of a paragraph that break between two Chinese characters: Markdown turns the
    break into a space, which Chinese text does not have (write the paragraph on one line)."""
    found, fence = [], False
    lines = markdown.split("\n")
    for line, following in itertools.pairwise(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence or _NEW_BLOCK.match(following) or line.lstrip().startswith(("#", "|", "<")):
            continue
        if _CJK_END.search(line) and _CJK_START.search(following):
            found.append(line[-20:] + "⏎" + following.strip()[:10])
    return found


def test_the_line_break_rule_sees_a_break_inside_chinese_only():
    assert broken_lines("第一行的\n第二行") == ["第一行的⏎第二行"]
    assert broken_lines("共 2,831\n次接通。\n\n* 一项\n* 二项\n\n# 标题\n正文") == []


def test_chinese_paragraphs_do_not_break_between_two_characters():
    texts = {
        f"{path.relative_to(ROOT)} cell {i}": source(cell)
        for path in sorted(CHINESE.glob("*.ipynb"))
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "markdown"
    }
    for doc in [
        *sorted((ROOT / "workshop" / "guides" / "zh").glob("*.md")),
        ROOT / "README.zh-CN.md",
    ]:
        texts[str(doc.relative_to(ROOT))] = doc.read_text(encoding="utf-8")
    broken = {where: b for where, text in texts.items() if (b := broken_lines(text))}
    assert not broken, f"line breaks inside Chinese sentences (shown as spaces): {broken}"
