"""Shared fixtures: a seeded ``rng``, figures closed after every test, English strings."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import funnelsim as fs

SEED = 20261123
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator from a constant seed (SPEC 7: no global random state)."""
    return np.random.default_rng(SEED)


@pytest.fixture(autouse=True)
def _close_figures_and_reset_language():
    yield
    plt.close("all")
    fs.set_language("en")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that use it skip when it is absent (a user's clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
