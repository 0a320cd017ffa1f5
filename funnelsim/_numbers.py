"""Reading numbers in the kit's input files: counts and figures as stored or written as
text, and amounts of money as exports write them (¥12,000, 1.5万, 3千元, RMB 1,234.5).

Split from :mod:`funnelsim._reader` (files and cells), whose cells it reads; shared by
the log, pipeline and target readers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._reader import LazyText, cells, is_text, strip_cells

#: Currency signs and words an amount may carry, and the units it may end with.
_CURRENCY = r"(?i)^[¥￥$€]|[¥￥$€]$|rmb|cny|元$"
_UNITS = {"千": 1e3, "万": 1e4, "百万": 1e6, "亿": 1e8}


def parse_numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray, object]:
    """Numbers (NaN when empty or not a number), which cells are empty, and the text."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return values, np.isnan(values), LazyText(series)
    if is_text(series):
        text = strip_cells(series)
        lazy = LazyText(text)
    else:
        texts, native = cells(series)
        text = pd.Series(np.where(np.isnat(native), texts, native.astype(str)), dtype=object)
        lazy = text.to_numpy(dtype=object)
    empty = (text == "").to_numpy(dtype=bool)
    try:
        numbers = pd.to_numeric(text.where(~empty), errors="coerce")
        values = pd.Series(numbers).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError, OverflowError):
        values = np.array([_float(v) for v in text], dtype=float)
    return values, empty, lazy


def _float(s: object) -> float:
    try:
        return float(s)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return np.nan


def money(series: pd.Series) -> tuple[np.ndarray, np.ndarray, object]:
    """Amounts of money as :func:`parse_numbers` returns numbers, also read with thousands
    separators (``12,000``), currency signs and words (¥ ￥ $ €, 元, RMB, CNY) and the
    units 千 (1e3), 万 (1e4), 百万 (1e6) and 亿 (1e8). Only the cells that are not plain
    numbers are looked at again, with string operations on them all at once.

    >>> money(pd.Series(["12500", "¥12,000", "1.5万", "3千元", "RMB 1,234.5", "x", ""]))[0]
    array([12500. , 12000. , 15000. ,  3000. ,  1234.5,     nan,     nan])
    """
    values, empty, text = parse_numbers(series)
    again = np.flatnonzero(~empty & np.isnan(values))
    if again.size:
        if isinstance(text, LazyText):
            cells_again = text.series.iloc[again]
        else:
            cells_again = pd.Series(np.asarray(text, dtype=object)[again])
        values = values.copy()
        values[again] = _money_text(cells_again.astype(str).reset_index(drop=True))
    return values, empty, text


def _money_text(text: pd.Series) -> np.ndarray:
    """Text amounts with signs, separators and units as numbers (NaN when unreadable)."""
    text = text.str.replace(_CURRENCY, "", regex=True).str.replace(r"\s+", "", regex=True)
    text = text.str.replace(_CURRENCY, "", regex=True)  # "¥1.5万元": the sign, then the word
    unit = text.str.extract(r"^(.*?\d)(百万|千|万|亿)$")
    factor = unit[1].map(_UNITS).fillna(1.0).to_numpy(dtype=float)
    text = unit[0].where(unit[0].notna(), text)
    grouped = text.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?").fillna(False)
    text = text.where(~grouped, text.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    # 1.1 x 10,000 is 11000.000000000002 in floating point: units round to 1e-8
    return np.where(factor != 1.0, np.round(numbers * factor, 8), numbers)
