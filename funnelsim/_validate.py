"""Checks at the boundary: every message names the argument, the value and the fix."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .i18n import FunnelsimValueError, t


def check_probability(name: str, value: object) -> float:
    """A single number in [0, 1]."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FunnelsimValueError("error.not_a_number", name=name, value=repr(value)) from None
    if not (0.0 <= x <= 1.0):  # also catches NaN
        raise FunnelsimValueError("error.ratio_range", name=name, value=value)
    return x


def check_open_probability(name: str, value: object) -> float:
    """A probability strictly between 0 and 1 (targets, confidence levels)."""
    x = check_probability(name, value)
    if not (0.0 < x < 1.0):
        raise FunnelsimValueError("error.open_probability", name=name, value=value)
    return x


def check_nonnegative(name: str, value: object, *, integer: bool = False) -> float:
    """A finite number >= 0 (optionally a whole number)."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FunnelsimValueError("error.not_a_number", name=name, value=repr(value)) from None
    if not math.isfinite(x) or x < 0:
        raise FunnelsimValueError("error.nonnegative", name=name, value=value)
    if integer and x != int(x):
        raise FunnelsimValueError("error.whole_number", name=name, value=value)
    return x


def check_positive(name: str, value: object) -> float:
    """A finite number > 0."""
    x = check_nonnegative(name, value)
    if x == 0:
        raise FunnelsimValueError("error.positive", name=name, value=value)
    return x


def check_count(name: str, value: object, *, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (periods, reps, targets)."""
    if isinstance(value, bool):
        raise FunnelsimValueError("error.whole_number", name=name, value=value)
    x = check_nonnegative(name, value, integer=True)
    if x < minimum:
        raise FunnelsimValueError("error.at_least", name=name, value=value, minimum=minimum)
    return int(x)


def check_rng(rng: object) -> np.random.Generator:
    """``rng`` as a Generator: None, a non-negative int (a seed), a SeedSequence, a
    BitGenerator or a Generator (SPEC 7); anything else is a ValueError naming it."""
    if isinstance(rng, bool | float | str | bytes) or (
        isinstance(rng, int | np.integer) and rng < 0
    ):
        raise FunnelsimValueError("error.rng", value=repr(rng))
    try:
        return np.random.default_rng(rng)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FunnelsimValueError("error.rng", value=repr(rng)) from None


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """One of a few allowed strings (``start``, ``method``)."""
    if not isinstance(value, str) or value not in choices:
        raise FunnelsimValueError(
            "error.choice", name=name, value=repr(value), choices=", ".join(choices)
        )
    return value


def check_calls(calls: object, periods: int, reps: int) -> np.ndarray:
    """Normalise ``calls`` to an int64 array of shape (reps, periods).

    Accepts a number, a schedule (one value per period) or one value per rep
    and period.
    """
    arr = np.asarray(calls, dtype=object if not is_numeric(calls) else float)
    if arr.dtype == object:
        raise FunnelsimValueError("error.calls_not_numeric", value=short(calls))
    if arr.ndim > 2:
        raise FunnelsimValueError("error.calls_shape", shape=arr.shape, periods=periods, reps=reps)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(bad))[0])
        value = np.atleast_1d(arr)[idx]
        where = t("error.calls_where", index=idx) if arr.ndim else ""
        raise FunnelsimValueError("error.calls_value", value=value, where=where)
    if arr.ndim == 0:
        return np.full((reps, periods), int(arr), dtype=np.int64)
    if arr.ndim == 1:
        if arr.shape[0] != periods:
            raise FunnelsimValueError(
                "error.calls_shape", shape=arr.shape, periods=periods, reps=reps
            )
        return np.broadcast_to(arr.astype(np.int64), (reps, periods)).copy()
    if arr.shape != (reps, periods):
        raise FunnelsimValueError("error.calls_shape", shape=arr.shape, periods=periods, reps=reps)
    return arr.astype(np.int64)


def is_numeric(value: object) -> bool:
    """True for numbers and arrays of numbers; text (even "10") is not numeric."""
    try:
        if value is None or np.asarray(value).dtype.kind in "USVb":  # text, None, True/False
            return False
        np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_names(name: str, values: Sequence[object]) -> tuple[str, ...]:
    """Non-empty, unique strings."""
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise FunnelsimValueError("error.stage_name", name=name, value=repr(v))
        out.append(v)
    dupes = sorted({v for v in out if out.count(v) > 1})
    if dupes:
        raise FunnelsimValueError("error.duplicate_stage", name=name, value=", ".join(dupes))
    return tuple(out)
