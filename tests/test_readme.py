"""The README's Python example runs and says what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scipy import stats

import funnelsim as fs

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    assert "periods_in_block" in capsys.readouterr().out


def test_readme_claims_about_the_daily_game():
    """120 dials a week expect 50 sales in 50 weeks; 143 reach 50 with 90 % (scipy check)."""
    game = fs.presets.get("daily ratio game").funnel
    p = 7 / 15 * 1 / 7 * 1 / 8
    assert 120 * 50 * p == pytest.approx(50)
    assert fs.calls_for_expected(game, 50, periods=50) == 120
    assert 0.45 < stats.binom.sf(49, 120 * 50, p) < 0.55
    assert stats.binom.sf(49, 143 * 50, p) >= 0.9 > stats.binom.sf(49, 142 * 50, p)
    assert fs.calls_for_target(game, 50, 0.9, periods=50) == 143
