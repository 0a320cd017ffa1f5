"""Shared by the doctests under funnelsim/ (tests/conftest.py serves tests/)."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures an example drew, so many plotting doctests stay under pyplot's limit."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # only when an example imported it
    if pyplot is not None:
        pyplot.close("all")
