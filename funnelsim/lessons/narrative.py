"""Checks that keep a notebook's text true: every number the narrative quotes is asserted.

The notebooks' text quotes numbers the code computes ("24 dials a day", "Zhang's
43 % shrinks to 31 %"). A change in the code could silently falsify that text,
since the test command runs the notebooks without comparing outputs. So after
the cell that computes a quoted number, a *check cell* (tagged ``check``,
folded) calls :func:`check_quote` with the number as the text prints it and
the value the code gives; the test command fails when the two part.
``tests/test_narrative.py`` in turn fails when a number in the text appears
nowhere in the notebook's code, so no quoted number goes unchecked.
"""

from __future__ import annotations

import math

from ..i18n import FunnelsimValueError

__all__ = ["check_quote"]


def check_quote(quoted: float, value: float, *, digits: int = 0, what: str = "") -> None:
    """Fail unless ``value`` rounds to ``quoted`` at ``digits`` decimals, as the text shows it.

    Parameters
    ----------
    quoted : float
        The number as the notebook's text prints it (``43`` for "43 %").
    value : float
        What the code gives now (``100 * ratio`` for a percentage).
    digits : int
        The decimals the text shows (``0`` for "43 %", ``2`` for "0.88").
    what : str
        What the number is, for the message ("Zhang's raw sale ratio, %").

    Raises
    ------
    FunnelsimValueError
        ``error.quote_stale``, naming the quote, the value and what to update.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.lessons.check_quote(43, 100 * 16 / 37, what="Zhang's sale ratio, %")
    >>> fs.lessons.check_quote(0.88, 0.8812, digits=2)
    >>> try:
    ...     fs.lessons.check_quote(45, 100 * 16 / 37, what="Zhang's sale ratio, %")
    ... except fs.FunnelsimValueError as stale:
    ...     print(stale.key, stale.values["value"])
    error.quote_stale 43.24
    """
    half = 0.5 * 10.0**-digits
    # The half-unit of the last shown digit, plus float noise: 0.125 shown as 0.13 passes.
    if not (math.isfinite(value) and abs(value - quoted) <= half * (1 + 1e-9) + 1e-12):
        raise FunnelsimValueError(
            "error.quote_stale",
            quoted=quoted,
            value=f"{value:.{max(digits + 2, 0)}f}",
            what=what or "?",
        )
