"""Every number a notebook's text quotes is checked by its code (issue #11).

The test command runs the notebooks without comparing outputs, so a number
written into the narrative ("24 dials a day", "43 % shrinks to 31 %") could
silently go stale when the code changes. The rule here: every number in a
markdown cell must appear as a numeric literal in the notebook's code. Inputs
are there already (``calls=15``); a computed result gets there through a
check cell, ``fs.lessons.check_quote(24, plan.dials_per_day)``, which fails the
notebook run when the code stops supporting the text.

Not counted: headings, code spans and fenced code, link targets,
cross-references ("section 3", "notebook 04", "Exercise 2", "第 3 节", "练习 2"),
dates, years, timings of a plan ("20 min", "20 分钟"), and the numbers 0, 1 and 2
(in every program). A percentage may appear in code as itself or as a share
(43 % or 0.43). A folded solution's code (tests/solutions.py) counts as code.

The Chinese notebooks (``notebooks/zh``) and guides (``workshop/guides/zh``) are
held to the same rule as the English ones.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from solutions import FENCED, solution_code

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOKS_ZH = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))

_REFERENCE = re.compile(
    r"\b(?:sections?|notebooks?|exercises?|cells?|steps?|chapters?|parts?)\s+"
    r"\d+(?:\s*(?:,|and|or|-|to|–)\s*\d+)*"
    # the Chinese references: 第 3 节, 第 2 步, 练习 2, 笔记本 04, 第 3、4 节
    r"|第\s*\d+(?:\s*[、和至到-]\s*\d+)*\s*(?:节|步|章|部分|题|个练习|个单元格)"
    r"|(?:练习|习题|笔记本|单元格|小节)\s*\d+(?:\s*[、和至到-]\s*\d+)*",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_NOT_CLAIMS = [
    re.compile(r"\]\([^)]*\)"),  # a link's target
    re.compile(r"\b0\d\b"),  # a notebook's number: 01 ... 09
    re.compile(rf"\b\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}\b"),  # a date: 30 June
    re.compile(r"\b\d+\s*(?:-\s*\d+\s*)?min(?:utes)?\b"),  # a timing in a plan: 20 min
    re.compile(r"\d+\s*(?:[-–~至到]\s*\d+\s*)?分钟"),  # a timing in a plan: 20 分钟
    re.compile(r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"),  # a date: 6 月 30 日
]
# ASCII word characters only: a number written against Chinese text ("8成") still counts.
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s*%)?(?![\w\u00b2\u00b3\u00b9\u2070-\u2079])",
    re.ASCII,
)


def quoted_numbers(markdown: str) -> list[tuple[float, bool, str]]:
    """The numbers a markdown text quotes: (value, is a percentage, context)."""
    found = []
    for line in FENCED.sub(" ", markdown).splitlines():
        if line.lstrip().startswith("#"):
            continue  # a heading: section numbers
        text = re.sub(r"`[^`]*`", " ", line)  # code spans name code, not results
        text = re.sub(r"<[^>]+>", " ", text)  # html tags (details/summary)
        text = _REFERENCE.sub(" ", text)
        for pattern in _NOT_CLAIMS:
            text = pattern.sub(" ", text)
        for match in _NUMBER.finditer(text):
            whole, decimals, percent = match.groups()
            value = float(whole.replace(",", "") + (decimals or ""))
            is_year = decimals is None and "," not in whole and 1900 <= value <= 2100
            if value in (0, 1, 2) or is_year:
                continue
            start = max(match.start() - 30, 0)
            found.append((value, bool(percent), text[start : match.end() + 30].strip()))
    return found


def code_numbers(source: str) -> set[float]:
    """Every numeric literal in a code cell (magics and shell lines left out)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:  # pragma: no cover - a notebook cell that is not Python
        return set()
    return {
        float(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    }


def notebook_literals(notebook: Path) -> set[float]:
    """Every numeric literal in the notebook's code cells."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    literals: set[float] = set()
    for cell in cells:
        if cell["cell_type"] == "code":
            literals |= code_numbers("".join(cell["source"]))
        for code in solution_code(cell):
            literals |= code_numbers(code)
    return literals


def missing_from(texts: list[tuple[str, str]], literals: set[float]) -> list[str]:
    """The quoted numbers of ``(where, markdown)`` texts that no literal checks."""
    missing = []
    for where, markdown in texts:
        for value, percent, context in quoted_numbers(markdown):
            candidates = {value, round(value / 100, 12)} if percent else {value}
            if not any(
                abs(c - lit) <= 1e-9 * max(1, abs(c)) for c in candidates for lit in literals
            ):
                missing.append(f"{where}: {value:g} in '...{context}...'")
    return missing


def unchecked(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    texts = [
        (f"cell {index}", "".join(cell["source"]))
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
    ]
    return missing_from(texts, notebook_literals(notebook))


def test_the_rule_sees_numbers_and_skips_references():
    """A planted check: the parser finds quoted results and skips what is not a claim."""
    text = (
        "## 3. Two levers\n"
        "At 15 dials a day, 31 sales a year; Zhang's 43 % shrinks to 31.5 %.\n"
        "See section 4 and notebook 04, Exercise 2, `calls=99`, in 2025: 2,800 connects.\n"
        "| 03 | [Revenue](03-revenue.ipynb) | 20 min | taken on 30 June, or May 31 |\n"
    )
    values = [(v, p) for v, p, _ in quoted_numbers(text)]
    assert values == [(15, False), (31, False), (43, True), (31.5, True), (2800, False)]
    chinese = (
        "每天拨打15通，张的 43 % 缩到 31.5%。见第 4 节、第 3、5 步、练习 2 和笔记本 04，"
        "6 月 30 日，20 分钟，`calls=99`：2,800 次接通，8成。\n"
        "```python\nx = f(77)\n```\n"
    )
    values = [(v, p) for v, p, _ in quoted_numbers(chinese)]
    assert values == [(15, False), (43, True), (31.5, True), (2800, False), (8, False)]
    assert code_numbers("%matplotlib inline\nx = f(15, rate=0.43)  # 31\n") == {15.0, 0.43}


def _id(path: Path) -> str:
    return ("zh/" if path.parent.name == "zh" else "") + path.stem


@pytest.mark.parametrize("notebook", NOTEBOOKS + NOTEBOOKS_ZH, ids=_id)
def test_every_quoted_number_is_checked_by_the_code(notebook):
    missing = unchecked(notebook)
    assert not missing, (
        f"{notebook.name}: numbers in the text that no code cell checks; add "
        "fs.lessons.check_quote(NUMBER, computed value) to a check cell after the computing "
        "cell, or use the number as an input:\n  " + "\n  ".join(missing)
    )


GUIDES = sorted((ROOT / "workshop" / "guides").glob("[0-9][0-9]-*.md"))
GUIDES_ZH = sorted((ROOT / "workshop" / "guides" / "zh").glob("[0-9][0-9]-*.md"))


@pytest.mark.parametrize("guide", GUIDES + GUIDES_ZH, ids=_id)
def test_a_trainer_guide_quotes_only_what_its_notebook_checks(guide):
    """workshop/guides/NN-*.md: the answers to expect are the numbers notebook NN checks
    (workshop/guides/zh/NN-*.md: the Chinese notebook's)."""
    notebooks = NOTEBOOKS_ZH if guide.parent.name == "zh" else NOTEBOOKS
    [notebook] = [p for p in notebooks if p.stem[:2] == guide.stem[:2]]
    lines = guide.read_text(encoding="utf-8").splitlines()
    missing = missing_from(
        [(f"line {i + 1}", line) for i, line in enumerate(lines)], notebook_literals(notebook)
    )
    assert not missing, (
        f"{guide.name}: numbers that notebook {notebook.name} does not check:\n  "
        + "\n  ".join(missing)
    )
