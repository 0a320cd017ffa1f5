"""Checks at the boundary: every message names the argument, the value and the fix.

A value of the wrong type (text or a list where a number belongs, a number
where a name belongs) is a :class:`~funnelsim.i18n.FunnelsimTypeError` whose
values name the argument (``name``), the value and its type (``type``); a
value of the right type that the kit cannot use (out of range, unknown
name) is a :class:`~funnelsim.i18n.FunnelsimValueError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .i18n import FunnelsimTypeError, FunnelsimValueError, t


def type_name(value: object) -> str:
    """The name of a value's type, as a message shows it (``str``, ``list``, ``NoneType``)."""
    return type(value).__name__


def number_type_error(name: str, value: object) -> FunnelsimTypeError:
    """The error for a value that is not a number where one belongs (text, a list, None)."""
    return FunnelsimTypeError(
        "error.type_number", name=name, value=short(value), type=type_name(value)
    )


def to_float(name: str, value: object) -> float:
    """``value`` as a float; text (even ``"10"``), None or a list is a TypeError naming ``name``.

    True and False convert to 1.0 and 0.0, as Python's own ``float`` does.
    """
    if isinstance(value, str | bytes):
        raise number_type_error(name, value)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise number_type_error(name, value) from None


def check_probability(name: str, value: object) -> float:
    """A single number in [0, 1]."""
    x = to_float(name, value)
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
    x = to_float(name, value)
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
    BitGenerator or a Generator (SPEC 7); a negative seed (or True/False) is a
    ValueError, anything else (text, a float) a TypeError."""
    if isinstance(rng, bool) or (isinstance(rng, int | np.integer) and rng < 0):
        raise FunnelsimValueError("error.rng", name="rng", value=repr(rng), type=type_name(rng))
    if isinstance(rng, float | str | bytes):
        raise FunnelsimTypeError("error.rng", name="rng", value=short(rng), type=type_name(rng))
    try:
        return np.random.default_rng(rng)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FunnelsimTypeError(
            "error.rng", name="rng", value=short(rng), type=type_name(rng)
        ) from None


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """One of a few allowed strings (``start``, ``method``); not text is a TypeError."""
    if not isinstance(value, str):
        raise FunnelsimTypeError(
            "error.type_choice",
            name=name,
            value=short(value),
            type=type_name(value),
            choices=", ".join(choices),
        )
    if value not in choices:
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
        raise calls_error(calls)
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


def calls_error(calls: object) -> FunnelsimValueError | FunnelsimTypeError:
    """The error for calls that are not numbers: text, None or a list of text is a
    TypeError; True/False stays the ValueError it always was."""
    kind = type_name(calls)
    if np.asarray(calls, dtype=object).size and all(
        isinstance(x, bool | np.bool_) for x in np.ravel(np.asarray(calls, dtype=object))
    ):
        return FunnelsimValueError(
            "error.calls_not_numeric", name="calls", value=short(calls), type=kind
        )
    return FunnelsimTypeError(
        "error.calls_not_numeric", name="calls", value=short(calls), type=kind
    )


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
    """``repr(value)``, cut to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_sequence(name: str, values: object) -> list[object]:
    """A list, tuple, array or Series of values; text or a single value is a TypeError."""
    if isinstance(values, str | bytes) or not np.iterable(values):
        raise FunnelsimTypeError(
            "error.type_list", name=name, value=short(values), type=type_name(values)
        )
    return list(values)  # type: ignore[call-overload]


def check_names(name: str, values: Sequence[object]) -> tuple[str, ...]:
    """Non-empty, unique strings (a name that is not text is a TypeError)."""
    if isinstance(values, str) or not np.iterable(values):
        raise FunnelsimTypeError(
            "error.type_names", name=name, value=short(values), type=type_name(values)
        )
    out = []
    for v in values:
        if not isinstance(v, str):
            raise FunnelsimTypeError(
                "error.type_name", name=name, value=short(v), type=type_name(v)
            )
        if not v.strip():
            raise FunnelsimValueError("error.stage_name", name=name, value=repr(v))
        out.append(v)
    dupes = sorted({v for v in out if out.count(v) > 1})
    if dupes:
        raise FunnelsimValueError("error.duplicate_stage", name=name, value=", ".join(dupes))
    return tuple(out)


def by_columns(by: object, name: str = "by") -> tuple[str, ...]:
    """Group columns as a tuple of names: a name that is not text is a TypeError."""
    if by is None:
        return ()
    keys = (by,) if isinstance(by, str) else tuple(by) if np.iterable(by) else (by,)
    for key in keys:
        if not isinstance(key, str):
            raise FunnelsimTypeError(
                "error.by_type", name=name, value=short(by), type=type_name(key)
            )
        if not key:
            raise FunnelsimValueError("error.by_type", name=name, value=short(by), type="str")
    return keys


def check_result(
    result: object,
    kinds: tuple[type, ...],
    function: str,
    maker: str,
    *,
    argument: str = "result",
) -> None:
    """A result given where another kind belongs (a plot, a lesson or the report given the
    wrong object): a TypeError naming the function, the argument, the type it wants and the
    function that makes one (``maker``).

    >>> check_result(3, (str,), "plot", "make", argument="text")
    Traceback (most recent call last):
    ...
    funnelsim.FunnelsimTypeError: plot expects text to be a str, the result of make; got a int.
    """
    if not isinstance(result, kinds):
        raise FunnelsimTypeError(
            "error.plot_result",
            function=function,
            argument=argument,
            wanted=" / ".join(k.__name__ for k in kinds),
            maker=maker,
            value=type(result).__name__,
        )
