"""A file read as a raw grid of cells, without a header row: for sheets laid out for people.

The log readers (:mod:`funnelsim._reader`) take row 1 as the header. A team's
tracking sheet (:func:`funnelsim.read_snapshot`) has a title row, a date
range and several blocks, each with its own header row; it is read here as
the cells of every row, each row with its number as a spreadsheet shows it
(row 1 is the first line of the file or sheet).

This module is internal.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._reader import NAME_ATTR, WORKBOOKS, LogError, read_file, read_sheet_cells
from ._validate import type_name
from .i18n import FunnelsimTypeError

_UNNAMED = re.compile(r"^Unnamed: \d+(?:_level_\d+)?$")  # pandas' name for an empty header cell


@dataclass(frozen=True)
class Grid:
    """The cells of a file or sheet: ``rows[i]`` is spreadsheet row ``numbers[i]``.

    Cells are ``None`` when empty, else as the file holds them (text, numbers,
    dates). Every row has ``width`` cells.
    """

    rows: list[list[object]]
    numbers: list[int]
    name: str

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column ``index``.

    >>> column_letter(0), column_letter(25), column_letter(26)
    ('A', 'Z', 'AA')
    """
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def _cell(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _frame_grid(frame: pd.DataFrame, name: str) -> Grid:
    header = [None if _UNNAMED.match(str(c)) else _cell(str(c)) for c in frame.columns]
    rows = [header] + [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    return Grid(rows, list(range(1, len(rows) + 1)), name)


def read_grid(
    source: object,
    *,
    sheet: int | str = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Grid:
    """Every row of a CSV or Excel file (or a DataFrame: its header is row 1) as cells.

    ``sheet`` picks an Excel sheet by position (0 is the first) or name; a
    LogError names the sheets when it is not there.

    >>> import pandas as pd
    >>> grid = read_grid(pd.DataFrame({"rep": ["ann"], "25%": [3]}))
    >>> grid.rows, grid.numbers
    ([['rep', '25%'], ['ann', 3]], [1, 2])
    """
    if isinstance(source, pd.DataFrame):
        return _frame_grid(source, str(source.attrs.get(NAME_ATTR, "DataFrame")))
    if not isinstance(source, str | os.PathLike):
        raise FunnelsimTypeError(
            "log.error.source_type", name="source", value=type_name(source), type=type_name(source)
        )
    path = Path(source)
    name = path.name or str(path)
    if not path.is_file():
        raise LogError("log.error.not_found", name=str(path), cwd=os.getcwd())
    if path.suffix.lower() in WORKBOOKS:
        raw, _ = read_sheet_cells(path, name, sheet)
        rows = [[_cell(v) for v in row] for row in raw.itertuples(index=False)]
        rows = [
            [v.replace(tzinfo=None) if isinstance(v, datetime.datetime) else v for v in row]
            for row in rows
        ]
        return Grid(rows, list(range(1, len(rows) + 1)), name)
    if sheet not in (0, None):
        raise LogError("log.error.sheet_not_workbook", name=name, sheet=repr(sheet))
    return _frame_grid(read_file(path, name, encoding, delimiter), name)
