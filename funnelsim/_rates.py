"""A conversion rate that moves between periods (``rate_cv``), shared by the
simulation and the closed form.

``rate_cv`` is the coefficient of variation of the funnel's overall rate from
one period to the next. The simulation realises it stage by stage, so that
every call still passes every stage exactly: in each period (and rep) each
stage ratio ``r_k`` that can move (``0 < r_k < 1``) is drawn from a beta with
mean ``r_k`` and coefficient of variation ``c``, independently across stages,
periods and reps, with one ``c`` for all moving stages chosen so that

    (1 + c^2)^K = 1 + rate_cv^2        (K: the number of moving stages).

The overall rate ``P = r_1 r_2 ... r_K`` then has mean ``p`` and, since
``E[P^2] = prod E[r_k^2] = p^2 (1 + c^2)^K``, coefficient of variation
``rate_cv`` exactly.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_nonnegative
from .funnel import Funnel
from .i18n import FunnelsimValueError

__all__ = ["check_rate_cv", "draw_rates", "max_rate_cv", "stage_cv"]


def _moving(ratios: np.ndarray) -> np.ndarray:
    return (ratios > 0.0) & (ratios < 1.0)


def max_rate_cv(funnel: Funnel) -> float:
    """The largest ``rate_cv`` the funnel's stages can carry (exclusive bound).

    A beta with mean ``r`` has a coefficient of variation below
    ``sqrt((1 - r) / r)``; the tightest stage bounds ``c``.
    """
    ratios = np.asarray(funnel.ratios, dtype=float)
    moving = _moving(ratios)
    if funnel.overall == 0.0:
        return math.inf  # no deals: nothing to move
    if not moving.any():
        return 0.0
    r = ratios[moving]
    c2 = float(np.min((1.0 - r) / r))
    return math.sqrt((1.0 + c2) ** int(moving.sum()) - 1.0)


def check_rate_cv(funnel: Funnel, rate_cv: object) -> float:
    """``rate_cv`` as a float, checked against what the funnel can carry."""
    cv = check_nonnegative("rate_cv", rate_cv)
    if cv > 0.0:
        top = max_rate_cv(funnel)
        if not cv < top:
            raise FunnelsimValueError(
                "error.rate_cv_range", value=rate_cv, maximum=f"{top:.3g}", overall=funnel.overall
            )
    return cv


def stage_cv(funnel: Funnel, rate_cv: float) -> np.ndarray:
    """The coefficient of variation of each stage ratio (0 for stages that cannot move)."""
    ratios = np.asarray(funnel.ratios, dtype=float)
    moving = _moving(ratios)
    out = np.zeros(len(ratios))
    if rate_cv > 0.0 and moving.any():
        out[moving] = math.sqrt((1.0 + rate_cv**2) ** (1.0 / int(moving.sum())) - 1.0)
    return out


def draw_rates(
    funnel: Funnel, rate_cv: float, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Stage ratios drawn per cell: shape ``shape + (n_ratios,)``, one beta per moving stage.

    Stages that cannot move keep their ratio. Vectorised: one call to
    ``rng.beta`` per moving stage, whatever the number of calls.
    """
    ratios = np.asarray(funnel.ratios, dtype=float)
    cvs = stage_cv(funnel, rate_cv)
    out = np.empty((*shape, len(ratios)))
    for k, (r, c) in enumerate(zip(ratios, cvs, strict=True)):
        if c == 0.0:
            out[..., k] = r
            continue
        # Beta(a, b) with mean r and variance (c r)^2: a + b = (1 - r) / (c^2 r) - 1.
        total = (1.0 - r) / (c * c * r) - 1.0
        out[..., k] = rng.beta(r * total, (1.0 - r) * total, size=shape)
    return out
