"""The team's tracking sheet: how many leads sit at each stage, per rep and date (stocks).

DOMAIN.md §6: every Monday, Wednesday and Friday each rep writes down how
many leads sit at each stage (约定初次见面, 25%, 50%, 90%, 成交) and the
premium booked; the team sheet sums the reps in a 小计 row. Those numbers are
*stocks*, not flows: a later stage may hold more leads than an earlier one,
so such a sheet is not a counts log (:func:`funnelsim.read_log` refuses it).

- :func:`read_snapshot` reads a tidy table (one row per date and rep) or the
  deck's own layout (a title row, a date range, a block per weekday with its
  header row and its 小计 row), in simplified or traditional script, from
  CSV or Excel, and checks every 小计 against the sum of the reps;
- :class:`Snapshot` holds the stocks and amounts; ``.team()`` gives the team
  totals, ``.diagnose()`` the decks' pipeline shape per rep and date
  (healthy, A top-heavy, B empty, C stuck in the middle, from
  :func:`funnelsim.diagnose_pipeline`), ``.amounts_by()`` the amounts per
  rep and week or month.

:func:`funnelsim.plotting.plot_stocks` draws a rep's stocks over the dates.
"""

from __future__ import annotations

import datetime
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from . import logs
from ._grid import Grid, column_letter, read_grid
from ._problems import (
    Problem,
)
from ._reader import (
    ERRORS,
    LogError,
    choice,
    quote,
)
from ._validate import short, type_name
from .diagnose import diagnose_pipeline
from .i18n import FunnelsimTypeError, FunnelsimValueError, stages_label, t

__all__ = ["REP_WORDS", "TOTAL_WORDS", "WEEKDAYS", "Snapshot", "normalise_header", "read_snapshot"]

#: Header words (after :func:`normalise_header`, lower case) that name the rep column.
REP_WORDS = ("组员姓名", "组员", "姓名", "销售", "销售员", "业务员", "负责人", "rep", "name")
#: Header words that name the date column of a tidy table.
DATE_WORDS = ("日期", "date", "时间")
#: Words in the rep column of a block's total row (after :func:`normalise_header`).
TOTAL_WORDS = ("小计", "合计", "总计", "total", "subtotal")
#: Words in a header that mark an amount column (money, not leads).
AMOUNT_WORDS = (
    "保费", "标保", "保额", "金额", "收入", "业绩", "佣金", "销售额", "amount", "revenue",
    "premium", "value",
)  # fmt: skip
#: Weekday labels of the blocks and their day in the week (0 = the range's first day).
WEEKDAYS = {
    **{f"周{d}": i for i, d in enumerate("一二三四五六日")},
    **{f"星期{d}": i for i, d in enumerate("一二三四五六日")},
    **{f"礼拜{d}": i for i, d in enumerate("一二三四五六日")},
    "周天": 6, "星期天": 6, "礼拜天": 6,
    **{d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"))},
}  # fmt: skip
PERIODS = ("week", "month")
HOW = ("sum", "last")

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_NUMBERING = re.compile(r"^\d+\s*[-.、:：)]\s*")  # "3-(25%)": the deck numbers its columns
_FIELDS = ("date", "rep", "amount")
_EXACT = 2.0**53  # counts above this are not exact in float64


# ------------------------------------------------------------------ words
@cache
def _to_simplified():
    # lazy: opencc loads its dictionaries; only tracking sheets need it
    import opencc

    return opencc.OpenCC("t2s").convert


def normalise_header(text: object) -> str:
    """A header or label cell as the kit compares it: simplified script, no numbering.

    Full-width characters become plain ones (NFKC), traditional characters
    simplified ones (OpenCC's ``t2s``), a leading column number such as
    ``"3-"`` and the brackets around the whole word are dropped, spaces are
    collapsed. Rep names are never normalised (they are kept as written).

    Examples
    --------
    >>> from funnelsim.stocks import normalise_header
    >>> normalise_header("2-約定初次見面數"), normalise_header("3-(25%)"), normalise_header("小計")
    ('约定初次见面数', '25%', '小计')
    """
    return _normalised(str(text))


@lru_cache(maxsize=65536)
def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = _to_simplified()(text) if text else text
    text = _NUMBERING.sub("", text).strip()
    if len(text) > 2 and text[0] == "(" and text[-1] == ")":
        text = text[1:-1].strip()
    return " ".join(text.split())


def _date_of(value: object) -> pd.Timestamp | None:
    """A cell as a date (a date cell, or text such as 2009-12-12 or 2009年12月12日)."""
    if isinstance(value, datetime.datetime | datetime.date | pd.Timestamp):
        return pd.Timestamp(value).normalize()
    if isinstance(value, str):
        found = _DATE.search(value)
        if found:
            try:
                return pd.Timestamp(*map(int, found.groups()))
            except ValueError:
                return None
    return None


def _dates_in(cells: Sequence[object]) -> list[pd.Timestamp]:
    out = []
    for value in cells:
        if isinstance(value, str):
            for found in _DATE.finditer(value):
                day = _date_of(found.group(0))
                if day is not None:
                    out.append(day)
        elif (day := _date_of(value)) is not None:
            out.append(day)
    return out


def _number(value: object) -> float:
    """A cell as a number; NaN when it is not one (text, a date, yes/no)."""
    if isinstance(value, bool):
        return float("nan")
    if isinstance(value, int | float | np.number):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return float("nan")
    return float("nan")


# ------------------------------------------------------------------ result
@dataclass(frozen=True, repr=False, eq=False)
class Snapshot:
    """Leads sitting at each stage per date and rep (stocks), and amounts, from a tracking sheet.

    Made by :func:`read_snapshot`.

    Attributes
    ----------
    stocks : pandas.DataFrame
        Tidy: ``date``, ``rep``, ``stage``, ``leads`` (leads sitting at the
        stage on that date), in the file's order.
    amounts : pandas.DataFrame
        Tidy: ``date``, ``rep``, ``amount`` (the column's name, such as
        ``预收保费``), ``value`` (NaN where the cell was empty).
    stages : tuple of str
        The stages, earliest first.
    name : str
        The file's name.
    notes : tuple of str
        What was skipped and why (empty template blocks, rows without any
        number), in words.
    totals : pandas.DataFrame
        The file's own total rows (小计), checked against the reps: ``date``,
        ``column``, ``value``.
    dropped : pandas.DataFrame
        Rows left out with ``errors="drop"``: ``row``, ``column``, ``reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> sheet = pd.DataFrame({"日期": ["2025-03-03"] * 2, "组员姓名": ["王芳", "李强"],
    ...                       "25%": [9, 2], "50%": [4, 3], "90%": [1, 6], "预收保费": [3000, 0]})
    >>> snap = fs.read_snapshot(sheet)
    >>> snap.stages
    ('25%', '50%', '90%')
    >>> snap.team()
            date  25%  50%  90%  预收保费
    0 2025-03-03   11    7    7  3000.0
    """

    stocks: pd.DataFrame
    amounts: pd.DataFrame
    stages: tuple[str, ...]
    name: str
    notes: tuple[str, ...] = ()
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def dates(self) -> list[pd.Timestamp]:
        """The dates, earliest first."""
        return list(pd.DatetimeIndex(self.stocks["date"]).unique().sort_values())

    @property
    def reps(self) -> list[str]:
        """The reps, in the order the file first lists them."""
        return list(dict.fromkeys(self.stocks["rep"]))

    @property
    def amount_columns(self) -> tuple[str, ...]:
        """The amount columns' names, in the file's order."""
        return tuple(dict.fromkeys(self.amounts["amount"]))

    def to_frame(self) -> pd.DataFrame:
        """One row per date and rep: ``date``, ``rep``, a column per stage, a column per amount.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> sheet = pd.DataFrame({"日期": ["2025-03-03"], "组员姓名": ["王芳"],
        ...                       "25%": [9], "50%": [4], "90%": [1]})
        >>> fs.read_snapshot(sheet).to_frame()
                date 组员姓名  25%  50%  90%
        0 2025-03-03   王芳    9    4    1
        """
        keys = ["date", "rep"]
        wide = self.stocks.pivot(index=keys, columns="stage", values="leads")[list(self.stages)]
        if len(self.amounts):
            money = self.amounts.pivot(index=keys, columns="amount", values="value")
            wide = wide.join(money[list(self.amount_columns)])
        order = self.stocks[keys].drop_duplicates()
        out = order.merge(wide.reset_index(), on=keys, how="left")
        out.columns.name = None
        return out.rename(columns={"rep": self._rep_label}).reset_index(drop=True)

    @property
    def _rep_label(self) -> str:
        return str(self.stocks.attrs.get("rep_column", "rep"))

    def team(self) -> pd.DataFrame:
        """Team totals per date (the sheet's 小计): ``date``, a column per stage and amount.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> sheet = pd.DataFrame({"日期": ["2025-03-03"] * 2, "组员姓名": ["王芳", "李强"],
        ...                       "25%": [9, 2], "50%": [4, 3], "90%": [1, 6]})
        >>> fs.read_snapshot(sheet).team()
                date  25%  50%  90%
        0 2025-03-03   11    7    7
        """
        wide = self.stocks.pivot_table(
            index="date", columns="stage", values="leads", aggfunc="sum", sort=True
        )[list(self.stages)]
        if len(self.amounts):
            money = self.amounts.pivot_table(
                index="date", columns="amount", values="value", aggfunc="sum", sort=True
            )
            wide = wide.join(money[list(self.amount_columns)])
        out = wide.reset_index()
        out.columns.name = None
        return out

    def diagnose(
        self,
        by: str | Sequence[str] = ("date", "rep"),
        *,
        stages: Sequence[str] | None = None,
        min_total: float = 5,
        top_heavy: float = 0.8,
        bulge: float = 0.8,
    ) -> pd.DataFrame:
        """The decks' pipeline shape per date and rep: healthy, top-heavy, empty, stuck.

        Each row's stocks go through :func:`funnelsim.diagnose_pipeline`
        (DOMAIN.md §4; its rules and thresholds, passed on).

        Parameters
        ----------
        by : "date" or ("date", "rep"), default ("date", "rep")
            One row per date and rep, or per date for the whole team (the
            reps' stocks summed). Stocks are never summed over dates.
        stages : sequence of str, optional
            The pipeline stages diagnosed, earliest first. By default the
            stages after the first and before the last (for the deck:
            25%, 50%, 90%, leaving out the meetings agreed and the deals
            signed, as the decks do); all stages when there are only two.
        min_total, top_heavy, bulge : float
            The thresholds of :func:`funnelsim.diagnose_pipeline`.

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns, a column per diagnosed stage, ``shape`` (one
            of :data:`funnelsim.diagnose.SHAPES`, the same in every
            language) and ``reason`` (in words).

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> sheet = pd.DataFrame({"日期": ["2025-03-03"] * 3, "组员姓名": ["王芳", "李强", "赵敏"],
        ...                       "约见": [5, 1, 4], "25%": [12, 2, 4], "50%": [6, 3, 15],
        ...                       "90%": [3, 9, 2], "成交": [1, 2, 0]})
        >>> fs.read_snapshot(sheet).diagnose()[["rep", "25%", "50%", "90%", "shape"]]
          rep  25%  50%  90%                shape
        0  王芳   12    6    3              healthy
        1  李强    2    3    9            top-heavy
        2  赵敏    4   15    2  stuck in the middle
        """
        keys = [by] if isinstance(by, str) else list(by) if isinstance(by, Sequence) else None
        if keys not in (["date"], ["date", "rep"], ["rep", "date"]):
            raise FunnelsimValueError("stocks.error.by", value=short(by))
        keys = ["date", "rep"] if len(keys) == 2 else ["date"]
        if stages is None:
            chosen = list(self.stages[1:-1]) if len(self.stages) > 3 else list(self.stages)
        else:
            if isinstance(stages, str) or not isinstance(stages, Sequence):
                raise FunnelsimTypeError(
                    "stocks.error.stages_type", name="stages", value=short(stages),
                    type=type_name(stages),
                )  # fmt: skip
            chosen = list(stages)
            unknown = [s for s in chosen if s not in self.stages]
            if unknown:
                raise FunnelsimValueError(
                    "error.unknown_stage",
                    value=", ".join(map(repr, unknown)),
                    choices=", ".join(self.stages),
                )
        rows = self.stocks[self.stocks["stage"].isin(chosen)]
        wide = rows.pivot_table(
            index=keys, columns="stage", values="leads", aggfunc="sum", sort=False
        )[chosen]
        shapes, reasons = [], []
        for _key, counts in wide.iterrows():
            res = diagnose_pipeline(counts, min_total=min_total, top_heavy=top_heavy, bulge=bulge)
            shapes.append(res.shape)
            reasons.append(res.reason)
        out = wide.reset_index()
        out.columns.name = None
        out["shape"] = shapes
        out["reason"] = reasons
        return out.sort_values("date", kind="stable").reset_index(drop=True)

    def amounts_by(self, period: str = "week", *, how: str = "sum") -> pd.DataFrame:
        """The amounts per rep and week (weeks start on Monday) or month.

        Parameters
        ----------
        period : {"week", "month"}
        how : {"sum", "last"}
            ``"sum"`` (default): each entry is what was booked since the
            previous one, and the period adds them up. ``"last"``: the sheet
            writes running totals; the period keeps its last entry.

        Returns
        -------
        pandas.DataFrame
            ``rep``, ``week`` (the Monday it starts, a date) or ``month``
            (its first day), a column per amount.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> sheet = pd.DataFrame({"日期": ["2025-03-03", "2025-03-05", "2025-03-10"],
        ...                       "组员姓名": ["王芳"] * 3, "25%": [9, 8, 7], "50%": [4, 4, 5],
        ...                       "预收保费": [1000, 2500, 800]})
        >>> fs.read_snapshot(sheet).amounts_by("week")
          rep       week    预收保费
        0  王芳 2025-03-03  3500.0
        1  王芳 2025-03-10   800.0
        """
        period = choice("period", period, PERIODS)
        how = choice("how", how, HOW)
        money = self.amounts.copy()
        dates = pd.DatetimeIndex(money["date"])
        if period == "week":
            money[period] = dates.normalize() - pd.to_timedelta(dates.dayofweek, unit="D")
        else:
            money[period] = dates.to_period("M").to_timestamp()
        money = money.sort_values("date", kind="stable")
        grouped = money.groupby(["rep", period, "amount"], sort=False)["value"]
        values = grouped.sum(min_count=1) if how == "sum" else grouped.last()
        wide = values.unstack("amount")
        wide = wide.reindex(columns=list(self.amount_columns))
        out = wide.reset_index()
        out.columns.name = None
        reps = {r: i for i, r in enumerate(self.reps)}
        out = out.assign(order=out["rep"].map(reps)).sort_values(["order", period], kind="stable")
        return out.drop(columns="order").reset_index(drop=True)

    def __repr__(self) -> str:
        dates = self.dates
        span = (
            f"{dates[0]:%Y-%m-%d}"
            if len(dates) == 1
            else f"{dates[0]:%Y-%m-%d} .. {dates[-1]:%Y-%m-%d}"
            if dates
            else "-"
        )
        return t(
            "repr.snapshot",
            name=quote(self.name),
            reps=len(self.reps),
            dates=len(dates),
            span=span,
            stages=stages_label(self.stages),
            amounts=", ".join(self.amount_columns) or "-",
            notes=len(self.notes),
        )


# ------------------------------------------------------------------ reading
@dataclass
class _Block:
    header_row: int  # spreadsheet row of the header
    header: list[str]  # normalised header cells
    label: str | None  # the weekday label as written (周一), if any
    day: pd.Timestamp | None  # the block's date from the range and the label
    rows: list[tuple[int, list[object]]] = field(default_factory=list)  # its total row too


def _columns_arg(columns: object) -> dict[str, object]:
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise FunnelsimTypeError(
            "log.error.columns_type", name="columns", choices=", ".join(_FIELDS),
            value=repr(columns), type=type_name(columns),
        )  # fmt: skip
    out: dict[str, object] = {}
    for key, value in columns.items():
        if key not in _FIELDS:
            raise LogError(
                "log.error.columns_key",
                key=repr(key),
                format="snapshot",
                choices=", ".join(_FIELDS),
            )
        names = [value] if key != "amount" or isinstance(value, str) else value
        if not isinstance(names, Sequence) or not all(
            isinstance(n, str) and n.strip() for n in names
        ):
            raise LogError("log.error.columns_value", key=key, value=repr(value))
        out[key] = (
            normalise_header(value) if key != "amount" else [normalise_header(n) for n in names]
        )
    return out


def _stages_arg(stages: object) -> dict[str, str] | None:
    """``{stage name: normalised header}``, or None for the default."""
    if stages is None:
        return None
    if isinstance(stages, Mapping):
        items = list(stages.items())
    elif isinstance(stages, str | bytes) or not isinstance(stages, Sequence):
        raise FunnelsimTypeError(
            "stocks.error.stages_type", name="stages", value=short(stages), type=type_name(stages)
        )
    else:
        items = [(s, s) for s in stages]
    if len(items) < 2:
        raise LogError("stocks.error.stages_few", value=short(stages))
    out = {}
    for name, column in items:
        if not (isinstance(name, str) and name.strip() and isinstance(column, str)):
            raise LogError("log.error.stage_name", value=repr(name))
        out[name.strip()] = normalise_header(column)
    return out


def _is_header(cells: list[str], rep_words: Sequence[str]) -> int | None:
    """The rep column of a header row, or None when the row is no header."""
    for j, word in enumerate(cells):
        if word and word.lower() in rep_words:
            return j
    return None


def _weekday(cells: list[object]) -> str | None:
    """The weekday label of a row that holds only one (周一), as written; else None."""
    filled = [c for c in cells if c is not None]
    if len(filled) != 1 or not isinstance(filled[0], str):
        return None
    word = normalise_header(filled[0]).lower().rstrip(".")
    return filled[0].strip() if word in WEEKDAYS else None


def _blocks(grid: Grid, rep_words: Sequence[str]) -> tuple[list[_Block], list[str]]:
    """Split the grid into blocks (a header row, its rows and its total row), and notes
    on rows with numbers outside every block (not read)."""
    blocks: list[_Block] = []
    notes: list[str] = []
    start: pd.Timestamp | None = None
    label: str | None = None
    current: _Block | None = None
    for number, cells in zip(grid.numbers, grid.rows, strict=True):
        if all(c is None for c in cells):
            continue
        words = [normalise_header(c) if isinstance(c, str) else "" for c in cells]
        rep_col = _is_header(words, rep_words)
        if rep_col is not None and all(not isinstance(c, int | float) for c in cells):
            day = None
            if start is not None:
                offset = WEEKDAYS[normalise_header(label).lower().rstrip(".")] if label else 0
                day = start + pd.Timedelta(days=offset)
            current = _Block(number, words, label, day)
            blocks.append(current)
            label = None
            continue
        weekday = _weekday(cells)
        has_number = any(isinstance(c, int | float) and not isinstance(c, bool) for c in cells)
        if weekday is not None:
            label, current = weekday, None
            continue
        found = _dates_in(cells)
        if found and not has_number and (current is None or _looks_like_range(cells)):
            start, label, current = found[0], None, None
            continue
        if current is None:  # the title, or words between blocks
            if has_number or any(_number(c) == _number(c) for c in cells):
                notes.append(t("stocks.note.outside", row=number))
            continue
        current.rows.append((number, cells))
    return blocks, notes


def _looks_like_range(cells: list[object]) -> bool:
    """A row inside a block that holds only a date range (a new week starts)."""
    filled = [c for c in cells if c is not None]
    return len(filled) == 1 and len(_dates_in(filled)) >= 2


def read_snapshot(
    source: str | os.PathLike | pd.DataFrame,
    *,
    stages: Sequence[str] | Mapping[str, str] | None = None,
    columns: Mapping[str, str | Sequence[str]] | None = None,
    sheet: int | str = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
    errors: str = "raise",
) -> Snapshot:
    """Read a team tracking sheet: leads sitting at each stage per date and rep (stocks).

    DOMAIN.md §6. Two layouts are read:

    - a **tidy table**: a header row with a date column (日期 or ``date``), a
      rep column (组员姓名, 姓名, 销售, 业务员, 负责人 or ``rep``), a column per
      stage and optional amount columns, one row per date and rep;
    - the **deck's layout** (``data/deck_tracking_sheet`` in the shared data,
      shipped as ``fs.datasets.load_deck_tracking()``): a title row, a date
      range row such as ``2009年12月12日 - 2009年12月18日``, then a block per
      weekday: a label row (周一, 周三, 周五), a header row, one row per rep
      and a 小计 row. Each block's date is the range's first day plus the
      weekday's offset: the deck treats the range's first day as 周一, so 周一
      is that day, 周三 two days later, 周五 four days later (the deck calls
      2009-12-12 a Monday, though it was a Saturday; its dates are kept). A
      new date range row starts a new week. A block with no number at all (a
      template still to be filled in) is skipped and listed in ``notes``.

    Every block's total row (小计, 合计, 总计, ``total``) is checked against
    the sum of its reps, column by column, and never counted as a rep.
    Header words may be in traditional or simplified script (小計, 預收保費:
    they are compared after :func:`normalise_header`); rep names are kept as
    written.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A CSV file (encodings as :func:`funnelsim.read_log`), an Excel
        ``.xlsx`` workbook, or a DataFrame (its header is row 1).
    stages : sequence of str or mapping, optional
        The stage columns, earliest first (a mapping: stage name to column).
        By default, the columns after the rep column (and the date column)
        up to the first amount column (a header with 保费, 标保, 金额, 收入,
        业绩, ``amount``, ``revenue``...); for the deck: 约定初次见面数, 25%,
        50%, 90%, 成交. Every other column with a header is an amount.
    columns : mapping, optional
        ``date``, ``rep``: the file's column names for them; ``amount``: the
        amount columns (a name or a list of names).
    sheet : int or str, default 0
        The Excel sheet, by position or name.
    encoding, delimiter : str, optional
        Of a CSV file; detected by default.
    errors : {"raise", "drop"}
        ``"raise"``: any invalid cell or total raises one :class:`LogError`
        listing every problem. ``"drop"``: invalid rep rows are left out and
        listed in ``.dropped`` (their block's total is then not checked, and
        a note says so), and so is a total that disagrees with its reps.

    Returns
    -------
    Snapshot

    Raises
    ------
    LogError
        With key ``"stocks.error.title"`` and one
        :class:`~funnelsim._problems.Problem` per problem in
        ``.values["problems"]``, its ``reason_values`` holding the ``cell``
        (such as ``"C6"``): a count that is empty, not a number, negative or
        fractional; an amount that is not a number >= 0; a row without its
        rep; the same rep twice on one date; a total that differs from the
        sum of the reps (``"stocks.reason.total"``, naming the block, the
        column and both numbers). ``"stocks.error.no_header"`` when no row
        has a rep column, ``"stocks.error.no_date"`` when a block has no date.

    Examples
    --------
    >>> import funnelsim as fs
    >>> snap = fs.read_snapshot(fs.datasets.path("deck_tracking.xlsx"))
    >>> snap
    Snapshot('deck_tracking.xlsx': 2 reps, 1 date(s) (2009-12-12), stages 约定初次见面数 -> 25% -> 50% -> 90% -> 成交, amounts 预收保费, 承保标保; 2 note(s))
    >>> snap.team()
            date  约定初次见面数  25%  50%  90%  成交     预收保费     承保标保
    0 2009-12-12        7    7    5    3   5  13000.0  14000.0
    >>> snap.notes[0]
    'Block 周三 (2009-12-14), header in row 11, has no numbers: skipped (a template still to fill in).'
    """  # noqa: E501
    mode = choice("errors", errors, ERRORS)
    given = _columns_arg(columns)
    stage_map = _stages_arg(stages)
    grid = read_grid(source, sheet=sheet, encoding=encoding, delimiter=delimiter)
    rep_words = [given["rep"].lower()] if "rep" in given else list(REP_WORDS)
    blocks, outside = _blocks(grid, rep_words)
    if not blocks:
        raise LogError("stocks.error.no_header", name=grid.name, words=", ".join(REP_WORDS))
    return _read_blocks(grid, blocks, given, stage_map, mode, outside)


@dataclass
class _Plan:
    rep: int
    date: int | None
    stages: list[tuple[str, int]]  # (stage name, column index)
    amounts: list[tuple[str, int]]  # (amount name, column index)
    rep_header: str


def _plan(block: _Block, given: dict, stage_map: dict | None, grid: Grid) -> _Plan:
    words = block.header
    low = [w.lower() for w in words]
    rep_words = [given["rep"].lower()] if "rep" in given else list(REP_WORDS)
    rep = next(j for j, w in enumerate(low) if w in rep_words)
    date_words = [given["date"].lower()] if "date" in given else list(DATE_WORDS)
    date = next((j for j, w in enumerate(low) if w in date_words), None)
    if "date" in given and date is None:
        raise LogError(
            "stocks.error.no_column", name=grid.name, column=quote(given["date"]),
            row=block.header_row, header=", ".join(w for w in words if w),
        )  # fmt: skip
    used = {rep} | ({date} if date is not None else set())
    named = [j for j, w in enumerate(words) if w and j not in used]
    if stage_map is not None:
        stage_cols = []
        for name, column in stage_map.items():
            j = next((j for j in named if low[j] == column.lower()), None)
            if j is None:
                raise LogError(
                    "stocks.error.no_column", name=grid.name, column=quote(column),
                    row=block.header_row, header=", ".join(w for w in words if w),
                )  # fmt: skip
            stage_cols.append((name, j))
        taken = {j for _, j in stage_cols}
        amount_cols = [(words[j], j) for j in named if j not in taken]
    else:
        amount_given = [a.lower() for a in given.get("amount", [])]
        after = [j for j in named if j > max(used)] or named
        first_amount = next(
            (
                k
                for k, j in enumerate(after)
                if low[j] in amount_given or any(a in low[j] for a in AMOUNT_WORDS)
            ),
            len(after),
        )
        stage_cols = [(words[j], j) for j in after[:first_amount]]
        amount_cols = [(words[j], j) for j in named if j not in dict(stage_cols).values()]
    if len(stage_cols) < 2:
        raise LogError(
            "stocks.error.stages_found", name=grid.name, row=block.header_row,
            header=", ".join(w for w in words if w),
        )  # fmt: skip
    if "amount" in given:
        missing = [
            a for a in given["amount"] if a.lower() not in [w.lower() for w, _ in amount_cols]
        ]
        if missing:
            raise LogError(
                "stocks.error.no_column", name=grid.name, column=quote(missing[0]),
                row=block.header_row, header=", ".join(w for w in words if w),
            )  # fmt: skip
    return _Plan(rep, date, stage_cols, amount_cols, str(words[rep]))


def _block_name(block: _Block) -> str:
    day = f"{block.day:%Y-%m-%d}" if block.day is not None else "?"
    return f"{block.label} ({day})" if block.label else day


def _read_blocks(
    grid: Grid,
    blocks: list[_Block],
    given: dict,
    stage_map: dict | None,
    mode: str,
    outside: list[str],
) -> Snapshot:
    problems: list[Problem] = []
    notes: list[str] = list(outside)
    records, money, totals, dropped = [], [], [], []
    plans = [_plan(b, given, stage_map, grid) for b in blocks]
    stages = tuple(name for name, _ in plans[0].stages)
    seen: dict[tuple, int] = {}

    def problem(row: int, j: int, column: str, reason: str, fix: str, /, **values: object) -> None:
        cell = f"{column_letter(j)}{row}"
        problems.append(Problem(column, (row,), reason, {"cell": cell, **values}, fix, {}))
        dropped.append({"row": row, "column": column, "reason": t(reason, cell=cell, **values)})

    for block, plan in zip(blocks, plans, strict=True):
        if tuple(n for n, _ in plan.stages) != stages:
            raise LogError(
                "stocks.error.other_stages", name=grid.name, row=block.header_row,
                stages=stages_label(n for n, _ in plan.stages), first=stages_label(stages),
            )  # fmt: skip
        numeric = [j for _, j in plan.stages] + [j for _, j in plan.amounts]

        def cell(cells: list[object], j: int) -> object:
            return cells[j] if j < len(cells) else None

        # the total row, by its word in the rep column
        reps, total = [], None
        for number, cells in block.rows:
            word = cell(cells, plan.rep)
            if isinstance(word, str) and normalise_header(word).lower() in TOTAL_WORDS:
                total = (number, cells)
            else:
                reps.append((number, cells))
        rows = [*reps, *([total] if total else [])]
        if not any(cell(c, j) is not None for _, c in rows for j in numeric):
            notes.append(
                t("stocks.note.empty_block", block=_block_name(block), row=block.header_row)
            )
            continue
        if plan.date is None and block.day is None:
            raise LogError("stocks.error.no_date", name=grid.name, row=block.header_row)
        bad_block = False
        sums = np.zeros(len(numeric))
        for number, cells in reps:
            if not any(cell(cells, j) is not None for j in numeric):
                notes.append(
                    t("stocks.note.empty_row", row=number, rep=str(cell(cells, plan.rep)))
                )
                continue
            before = len(problems)
            rep = cell(cells, plan.rep)
            if rep is None:
                problem(
                    number, plan.rep, plan.rep_header, "stocks.reason.no_rep", "stocks.fix.no_rep"
                )
            rep = str(rep).strip() if rep is not None else ""
            if plan.date is not None:
                day = _date_of(cell(cells, plan.date))
                if day is None:
                    value = cell(cells, plan.date)
                    problem(
                        number, plan.date, block.header[plan.date], "stocks.reason.bad_date",
                        "stocks.fix.bad_date", value=quote("" if value is None else value),
                    )  # fmt: skip
            else:
                day = block.day
            values = []
            for name, j in plan.stages:
                raw = cell(cells, j)
                x = _number(raw)
                text = quote(raw)
                if raw is None:
                    problem(number, j, name, "log.reason.no_count", "log.fix.bad_count")
                elif not np.isfinite(x):
                    problem(number, j, name, "log.reason.count_not_number", "log.fix.bad_count",
                            value=text)  # fmt: skip
                elif x < 0:
                    problem(number, j, name, "log.reason.count_negative", "log.fix.bad_count",
                            value=text)  # fmt: skip
                elif x != np.floor(x):
                    problem(number, j, name, "log.reason.count_fraction", "log.fix.bad_count",
                            value=text)  # fmt: skip
                elif x > _EXACT:
                    problem(number, j, name, "stocks.reason.count_huge", "log.fix.bad_count",
                            value=text)  # fmt: skip
                values.append(x)
            for name, j in plan.amounts:
                raw = cell(cells, j)
                x = _number(raw)
                if raw is not None and not (np.isfinite(x) and x >= 0):
                    problem(number, j, name, "log.reason.bad_amount", "log.fix.bad_amount",
                            value=quote(raw))  # fmt: skip
                values.append(x if raw is not None else np.nan)
            if day is not None and rep:
                key = (day, rep)
                if key in seen and len(problems) == before:
                    problem(
                        number, plan.rep, plan.rep_header, "stocks.reason.repeated",
                        "stocks.fix.repeated", rep=rep, date=f"{day:%Y-%m-%d}", first=seen[key],
                    )  # fmt: skip
                seen.setdefault(key, number)
            if len(problems) > before:
                bad_block = True
                continue
            sums += np.nan_to_num(np.asarray(values))
            for (name, _), x in zip(plan.stages, values, strict=False):
                records.append((day, rep, name, int(x)))
            for (name, _), x in zip(plan.amounts, values[len(plan.stages) :], strict=True):
                money.append((day, rep, name, x))
        if total is None:
            continue
        number, cells = total
        if bad_block and mode == "drop":
            notes.append(t("stocks.note.total_unchecked", block=_block_name(block), row=number))
            continue
        names = [n for n, _ in plan.stages] + [n for n, _ in plan.amounts]
        for k, (name, j) in enumerate(zip(names, numeric, strict=True)):
            raw = cell(cells, j)
            if raw is None:
                continue
            x = _number(raw)
            day = block.day
            if not np.isfinite(x):
                problem(number, j, name, "log.reason.count_not_number", "log.fix.bad_count",
                        value=quote(raw))  # fmt: skip
            elif not np.isclose(x, sums[k], rtol=1e-9, atol=1e-9):
                problem(
                    number, j, name, "stocks.reason.total", "stocks.fix.total",
                    block=_block_name(block), column=name, total=f"{x:g}", sum=f"{sums[k]:g}",
                    word=str(cell(cells, plan.rep)),
                )  # fmt: skip
            else:
                totals.append((day, name, x))
    if problems and (mode == "raise" or not records):
        _raise(grid.name, problems)
    stocks = pd.DataFrame(records, columns=["date", "rep", "stage", "leads"])
    stocks["date"] = pd.to_datetime(stocks["date"]).astype("datetime64[ns]")
    stocks["leads"] = stocks["leads"].astype(np.int64)
    stocks.attrs["rep_column"] = plans[0].rep_header
    amounts = pd.DataFrame(money, columns=["date", "rep", "amount", "value"])
    amounts["date"] = pd.to_datetime(amounts["date"]).astype("datetime64[ns]")
    amounts["value"] = amounts["value"].astype(float)
    table = pd.DataFrame(totals, columns=["date", "column", "value"])
    gone = pd.DataFrame(dropped, columns=["row", "column", "reason"])
    gone["row"] = gone["row"].astype(np.int64)
    return Snapshot(stocks, amounts, stages, grid.name, tuple(notes), table, gone)


def _raise(name: str, problems: list[Problem]) -> None:
    lines = [t("stocks.error.title", name=name, count=len(problems))]
    for p in problems:
        lines.append(
            t(
                "stocks.error.problem",
                cell=p.reason_values["cell"],
                column=quote(p.column),
                reason=t(p.reason, **p.reason_values),
                fix=t(p.fix, **p.fix_values),
            )
        )
    lines.append(t("stocks.error.drop_hint"))
    raise LogError(
        "stocks.error.title",
        message="\n".join(lines),
        name=name,
        count=len(problems),
        problems=problems,
    )


# read_log(format="snapshot") reads a tracking sheet through this module (logs.py imports
# nothing from here, so that there is no import cycle).
logs.READERS["snapshot"] = read_snapshot
