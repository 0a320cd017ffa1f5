"""Reading times in the kit's input files: dates a person gives (``as_of``), time columns
as stored or written as text (year first, with or without a time zone), a leads log's
stage columns of yes/no flags or dates, and times shown in messages.

Split from :mod:`funnelsim._reader` (files and cells), whose cells it reads; shared by
the log and pipeline readers and the engine. Every time is a naive ``datetime64[ns]``:
one written with a zone is read as UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._reader import (
    FALSE,
    NAT,
    TRUE,
    LazyText,
    cells,
    is_dates,
    is_text,
    native_times,
    strip_cells,
)

# Dates are read year first: 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日, with an optional time.
# (Plain pattern strings, so that Arrow-backed text runs them in C.)
_DATE_PREFIX = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*日)?"
_ISO = (
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?"
)

#: A time of day followed by a time zone ("09:00+08:00", "09:00Z").
ZONE = r"\d:\d{2}(?::\d{2}(?:\.\d{1,9})?)?\s*(?:Z|[+-]\d{2}:?\d{2})$"


def date_given(value: object) -> pd.Timestamp | None:
    """A date a person gave as an argument (``as_of``): a naive timestamp in nanoseconds
    (an aware one converted to UTC), or None when it is not a date (a number, a flag, text
    that does not read as one).

    >>> date_given("2025-06-30 18:00"), date_given(2025), date_given("June-ish")
    (Timestamp('2025-06-30 18:00:00'), None, None)
    """
    if isinstance(value, bool | int | float | np.number):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if stamp is pd.NaT or pd.isna(stamp):
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.as_unit("ns")


def text_times(text: pd.Series, zoned: np.ndarray | None = None) -> np.ndarray:
    """Parse stripped, year-first date strings; NaT for anything else (and for '').

    The two regular expressions run in Arrow's C kernels (RE2), then pandas'
    ISO 8601 parser reads the normalised strings.

    >>> text_times(pd.Series(["2025/3/5 9:05", "2025年3月5日", "5.3.2025", ""])).tolist()
    [1741165500000000000, 1741132800000000000, None, None]

    ``zoned``: a mask of ``text``'s length, set where a time read has a zone (for
    :func:`mixed_zones`, which then need not look again).
    """
    # lazy: pyarrow is imported here, on first use: it is heavy, and only text dates need it.
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(len(text), NAT)
    if len(text) == 0:
        return out
    if hasattr(text.array, "__arrow_array__"):
        arr = pa.array(text.array)
    else:
        values = text.to_numpy(dtype=object)
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    norm = pc.replace_substring_regex(arr, pattern=_DATE_PREFIX, replacement=r"\1-\2-\3")
    ok = pc.match_substring_regex(norm, pattern=f"^(?:{_ISO})$")
    ok = np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool)
    if ok.any():
        strings = norm.filter(pa.array(ok))
        # times with a zone and without parsed apart: in one call pandas (2.x) reads a
        # time without a zone after one with a zone in that zone (2025-03-07 09:00 after
        # ...-05:00 as 14:00 UTC); a column mixing them is a problem the reader names
        aware = pc.fill_null(pc.match_substring_regex(strings, pattern=ZONE), False)
        aware = np.asarray(aware.to_numpy(zero_copy_only=False), dtype=bool)
        times = np.full(len(strings), NAT)
        for part in (aware, ~aware) if aware.any() and not aware.all() else (slice(None),):
            picked = strings.filter(pa.array(part)) if isinstance(part, np.ndarray) else strings
            cells = pd.Series(picked.to_numpy(zero_copy_only=False), dtype=object)
            parsed = pd.to_datetime(cells, format="ISO8601", errors="coerce", utc=True)
            times[part] = native_times(parsed)
        out[ok] = times
        if zoned is not None:
            zoned[ok] = aware
    return out


def parse_times(
    series: pd.Series, zoned: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, object]:
    """Dates (datetime64[ns]), which cells are empty, and the cells' text for messages.
    ``zoned``: a mask set where a text cell's time has a zone (:func:`text_times`)."""
    if is_dates(series.dtype):
        times = native_times(series)
        return times, series.isna().to_numpy(dtype=bool), LazyText(series)
    if is_text(series):
        text = strip_cells(series)
        return text_times(text, zoned), (text == "").to_numpy(dtype=bool), LazyText(text)
    text, native = cells(series)
    parsed = text_times(pd.Series(text, dtype=object))
    times = np.where(np.isnat(native), parsed, native).astype("datetime64[ns]")
    return times, (text == "") & np.isnat(native), text


def flags_or_times(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stage column of a leads log: reached, time, which cells are invalid, and the text
    (``"no"`` for every cell that says no)."""
    if is_dates(series.dtype):
        times = native_times(series)
        text = np.full(len(series), "", dtype=object)
        return ~np.isnat(times), times, np.zeros(len(series), dtype=bool), text
    if is_text(series):
        text = strip_cells(series)
    else:
        texts, native = cells(series)
        text = pd.Series(np.where(np.isnat(native), texts, native.astype(str)), dtype=object)
    low = text.str.lower()
    yes = low.isin(TRUE).to_numpy(dtype=bool)
    no = low.isin(FALSE).to_numpy(dtype=bool)
    rest = (text != "").to_numpy(dtype=bool) & ~yes & ~no
    times = text_times(text.where(rest, ""))
    bad = rest & np.isnat(times)
    reached = yes | ~np.isnat(times)
    shown = np.where(no, "no", text.to_numpy(dtype=object))
    return reached, times, bad, shown


def show_time(value: np.datetime64) -> str:
    """A time for a message: the date alone at midnight.

    >>> show_time(np.datetime64("2025-03-05")), show_time(np.datetime64("2025-03-05T14:30"))
    ('2025-03-05', '2025-03-05 14:30:00')
    """
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)


def mixed_zones(
    series: pd.Series, times: np.ndarray, zoned: np.ndarray, minority: str | None = None
) -> np.ndarray:
    """Which cells of a text time column are of its minority kind when it mixes times
    with a time zone (``2025-03-03T09:00+08:00``) and without: a mask, all False when
    it does not mix them. ``times`` and ``zoned`` are what :func:`parse_times` read (the
    times, and which have a zone); unreadable cells are left out. ``minority``
    (``"aware"`` or ``"naive"``): the kind to flag, where the column is part of a larger
    one that mixes them (an engine's rows of the leads it hands over).

    >>> cells = pd.Series(["2025-03-03 09:00", "2025-03-03T09:00+08:00", "2025-03-04"])
    >>> zoned = np.zeros(3, dtype=bool)
    >>> times, _, _ = parse_times(cells, zoned)
    >>> mixed_zones(cells, times, zoned).tolist()
    [False, True, False]
    """
    out = np.zeros(len(series), dtype=bool)
    if len(series) == 0 or not is_text(series):
        return out
    known = ~np.isnat(times)
    aware = zoned & known
    naive = known & ~aware
    if minority is not None:
        return aware if minority == "aware" else naive
    if not (aware.any() and naive.any()):
        return out
    return aware if aware.sum() <= naive.sum() else naive
