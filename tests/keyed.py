"""Assertions on the kit's errors: their stable key and values, never their wording.

Every error the kit raises on purpose is a ``funnelsim.FunnelsimError`` with a
catalogue ``.key`` and the ``.values`` of its message, the same in every
language; the tests check those (``from keyed import check_error, raises``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

import funnelsim as fs


def check_error(info: pytest.ExceptionInfo, key: str, **values: object) -> None:
    """The caught error is the kit's, with this key and (at least) these values.

    A value given as the string ``"nan"`` also matches a NaN the message was filled with.
    """
    error = info.value
    assert isinstance(error, fs.FunnelsimError), repr(error)
    assert error.key == key, (error.key, str(error))
    for name, value in values.items():
        assert name in error.values, (name, error.values)
        got = error.values[name]
        nan = value == "nan" and isinstance(got, float) and math.isnan(got)
        assert nan or got == value, (name, got, value)


def raises(error: type[BaseException], key: str, call: Callable[[], object], **values: object):
    """``call()`` raises ``error`` with this key and (at least) these values; returns the error."""
    with pytest.raises(error) as info:
        call()
    check_error(info, key, **values)
    return info.value
