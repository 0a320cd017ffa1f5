"""What the lessons of the numbers game share: the rng type, the work limit, number text."""

from __future__ import annotations

import numpy as np

from ..i18n import FunnelsimValueError

#: What ``rng=`` accepts (SPEC 7): a generator, a seed, or None for fresh entropy.
RNG = np.random.Generator | int | None


#: Most random draws one lesson call may make (keeps a slider from freezing a laptop).
MAX_DRAWS = 20_000_000


def num_text(x: float) -> str:
    """Readable number for a repr: thousands separators, three digits for small values."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def check_work(reps: int, per_rep: int) -> None:
    """Refuse a call that would draw more than :data:`MAX_DRAWS` random numbers."""
    if reps * per_rep > MAX_DRAWS:
        raise FunnelsimValueError(
            "error.too_much_work", reps=reps, per_rep=per_rep, limit=MAX_DRAWS
        )


def cv_of(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """``std(ddof=1) / mean`` along ``axis``; NaN where the mean is 0."""
    values = np.asarray(values, dtype=float)
    mean = values.mean(axis=axis)
    std = values.std(axis=axis, ddof=1) if values.shape[axis] > 1 else np.full_like(mean, np.nan)
    safe = np.where(mean > 0, mean, 1.0)
    return np.where(mean > 0, std / safe, np.nan)
