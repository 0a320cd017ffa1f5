"""Shared fixtures: a seeded ``rng``, figures closed after every test, English strings.

Start-up stays light (``pytest tests/test_theory.py`` starts in about 2 s): this file
imports neither matplotlib nor funnelsim, so a test module pays only for what it
imports, and ``pyproject.toml`` keeps the nbval and hypothesis plugins off unless asked
for (``make test`` turns them on for the notebooks and the property tests).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

# Headless plots, set before any test imports matplotlib (as matplotlib.use("Agg") would).
os.environ["MPLBACKEND"] = "Agg"

SEED = 20261123
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator from a constant seed (SPEC 7: no global random state)."""
    return np.random.default_rng(SEED)


@pytest.fixture(autouse=True)
def _close_figures_and_reset_language():
    """After each test: close its figures and go back to English.

    Only what a test has imported needs resetting: without ``matplotlib.pyplot``
    loaded there is no figure to close, without ``funnelsim.i18n`` no language.
    """
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    i18n = sys.modules.get("funnelsim.i18n")
    if i18n is not None:
        i18n.set_language("en")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that use it skip when it is absent (a user's clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def olist_log(shared_data):
    """The real Olist funnel as a leads log (MQL -> won, by origin and sales rep) and the
    merged frame it was read from; imports the kit only when a test asks for it."""
    import pandas as pd

    import funnelsim as fs

    folder = shared_data / "olist_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    frame = mqls.merge(deals, on="mql_id", how="left")
    log = fs.read_log(
        frame,
        format="leads",
        stages={"MQL": "first_contact_date", "won": "won_date"},
        columns={"lead": "mql_id", "source": "origin", "rep": "sr_id"},
        errors="drop",  # one deal is won before its first contact: reported, not lost
    )
    return log, frame
