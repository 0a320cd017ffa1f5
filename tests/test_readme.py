"""The README's Python example runs and says what the README says."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from scipy import stats

import funnelsim as fs

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FIVE_LINES = re.compile(
    r"## Five lines of Python\n\n```python\n(.*?)```\n\nprints\n\n```text\n(.*?)```", re.S
)


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    assert capsys.readouterr().out


def test_the_five_line_example_prints_what_the_readme_shows_in_80_columns(capsys):
    """The example and its output fit an 80-column terminal, and the output shown under it is
    what it prints: the mean, spread, P10 and P90 of a year's sales, then the dials a week."""
    code, shown = FIVE_LINES.search(README.read_text(encoding="utf-8")).groups()
    assert max(len(line) for line in code.splitlines()) < 80, "a line wraps at 80 columns"
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert out == shown
    assert max(len(line) for line in out.splitlines()) <= 80
    header, row, calls = out.splitlines()
    assert header.split() == ["mean", "std", "q10", "q90"]
    mean, std, q10, q90 = map(float, row.split()[1:])
    # theory: a year's sales are Binomial(120 x 50, 1/120): mean 50, sd sqrt(50 (1 - 1/120))
    assert mean == pytest.approx(50, abs=4 * 7.04 / 2000**0.5)
    assert std == pytest.approx(7.04, rel=0.05) and (q10, q90) == (41, 59)
    assert calls == "143"


def test_readme_claims_about_the_daily_game():
    """120 dials a week expect 50 sales in 50 weeks; 143 reach 50 with 90 % (scipy check)."""
    game = fs.presets.get("daily ratio game").funnel
    p = 7 / 15 * 1 / 7 * 1 / 8
    assert 120 * 50 * p == pytest.approx(50)
    assert fs.calls_for_expected(game, 50, periods=50) == 120
    assert 0.45 < stats.binom.sf(49, 120 * 50, p) < 0.55
    assert stats.binom.sf(49, 143 * 50, p) >= 0.9 > stats.binom.sf(49, 142 * 50, p)
    assert fs.calls_for_target(game, 50, 0.9, periods=50) == 143
    year = stats.binom(120 * 50, p)  # "8 years in 10 land between 41 and 59 (P10 and P90)"
    assert (year.ppf(0.1), year.ppf(0.9)) == (41, 59)
    assert 0.78 < year.cdf(59) - year.cdf(40) < 0.85


# `-o report.html`, `--csv > ratios.csv`, `--dropped dropped.csv`, "e.g. dropped.csv"
WRITTEN = re.compile(
    r"(?:-o|--output|--dropped|>|e\.g\.) ([a-z][\w./-]*\.(?:html?|csv|xlsx|parquet|png|svg))\b"
)


def _files_written_by_the_docs() -> set[str]:
    """Every file the README(s), the notebooks and the command line's examples and advice
    (its catalogue) tell a user to write."""
    docs = [*ROOT.glob("README*.md"), *(ROOT / "notebooks").rglob("*.ipynb")]
    docs.append(ROOT / "funnelsim" / "locales" / "en.json")
    return {name for doc in docs for name in WRITTEN.findall(doc.read_text(encoding="utf-8"))}


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_outputs_the_docs_tell_users_to_write_are_ignored_by_git():
    written = _files_written_by_the_docs()
    assert {"report.html", "ratios.csv", "dropped.csv"} <= written
    for name in sorted(written):
        for where in (name, f"notebooks/{name}"):  # run from the root, or beside the notebooks
            ignored = subprocess.run(["git", "check-ignore", "-q", where], cwd=ROOT).returncode
            assert ignored == 0, f"{where} (written by the docs' example) is not in .gitignore"


def test_the_readmes_say_how_real_exports_are_read_and_what_cannot_be():
    """Both READMEs hold the section on real exports, with its limits and the list of what
    is still not read; every Chinese example is the English one's program (comments aside,
    so the English run above covers it); data/README documents the new samples."""
    import ast

    en = README.read_text(encoding="utf-8")
    zh = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    for text, heads in (
        (en, ("## Reading your own exports", "### What a real export can still not be read")),
        (zh, ("## 读取你自己的导出文件", "### 真实导出文件还读不了的情况")),
    ):
        for head in heads:
            assert head in text
        for words in ("fs.read_snapshot", "funnelsim snapshot", 'sheet="商机导出"', "16,384",
                      "2**53", "1.5万", "--by rep,product", 'by="week"', "as_of="):  # fmt: skip
            assert words in text, words
    english = {ast.dump(ast.parse(code)) for code in re.findall(r"```python\n(.*?)```", en, re.S)}
    chinese = re.findall(r"```python\n(.*?)```", zh, re.S)
    assert len(chinese) >= 3
    for code in chinese:
        assert ast.dump(ast.parse(code)) in english, code
    data = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for name in ("sample_crm_export.xlsx", "sample_tracking.xlsx", "deck_tracking.xlsx"):
        assert f"## `{name}`" in data or f"## `{name}` and" in data, name
