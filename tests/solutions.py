"""The notebooks as the test command runs them: every folded solution also as code.

A notebook's solutions are markdown cells tagged ``solution``: a ``<details>``
block holding the code in a fenced ``python`` block, so they stay folded in
every viewer (JupyterLab, GitHub, nbviewer, an exported HTML page). Folded
text is not run, so the test command runs a copy of each notebook in which
every solution's code follows it as a code cell (tagged ``solution``):
a solution that stops working fails ``make test`` like any other cell.

Usage::

    python tests/solutions.py OUT

writes ``notebooks/*.ipynb`` to ``OUT/`` and ``notebooks/zh/*.ipynb`` to
``OUT/zh/`` (the stored notebooks are never modified).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# A fenced python block: ```python ... ```
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# Any fenced block (code, not prose: the text checks leave it out).
FENCED = re.compile(r"^```.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def solution_code(cell: dict) -> list[str]:
    """The fenced python blocks of a solution cell (none for any other cell)."""
    if cell["cell_type"] != "markdown" or "solution" not in cell["metadata"].get("tags", []):
        return []
    return [block.rstrip("\n") for block in FENCE.findall(source(cell))]


def expand(notebook: dict) -> dict:
    """A copy of ``notebook`` where each solution's code follows it as a code cell."""
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        cells.append(cell)
        for number, code in enumerate(solution_code(cell)):
            cells.append(
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"solution-{index}-{number}",
                    "metadata": {"tags": ["solution"]},
                    "outputs": [],
                    "source": code,
                }
            )
    return {**notebook, "cells": cells}


def write_expanded(out: Path) -> list[Path]:
    """Write the expanded copy of every notebook (both languages) under ``out``."""
    if out.exists():
        shutil.rmtree(out)
    written = []
    for path in sorted(NOTEBOOKS.rglob("*.ipynb")):
        relative = path.relative_to(NOTEBOOKS)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .ipynb_checkpoints
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        target.write_text(json.dumps(expand(notebook), indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    paths = write_expanded(Path(sys.argv[1]))
    print(f"{len(paths)} notebooks with their solutions as code in {sys.argv[1]}")
