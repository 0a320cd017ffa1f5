"""Problems found in an input file: each invalid row named once, then one LogError
listing them all (or, with ``errors="drop"``, the rows dropped and listed).

Shared by the log and pipeline readers; split from :mod:`funnelsim._reader` (files and
cells).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._numbers import money
from ._reader import LogError, Source, empty_dropped, label_text, labels, quote, quoted
from .i18n import t

#: Rows a problem names before "and N more".
_SHOW_ROWS = 5


class Problem(NamedTuple):
    """One problem of a file, in ``LogError.values["problems"]``.

    Attributes
    ----------
    column : str
        The column to blame ("" when none).
    rows : tuple of int
        Every row with this problem, counted as in a spreadsheet (the header
        is row 1).
    reason : str
        The catalogue key of the reason (``"log.reason.gap"``...), the same
        for every row; the message shows the first row's.
    reason_values : dict
        The values of the first row's reason.
    fix : str
        The catalogue key of the fix (``"log.fix.gap"``...).
    fix_values : dict
        Its values (the same for every row).
    """

    column: str
    rows: tuple[int, ...]
    reason: str
    reason_values: dict[str, Any]
    fix: str
    fix_values: dict[str, Any]


#: The values of a problem's reason for one row, from the row's position in the frame.
_Values = Callable[[int], Mapping[str, Any]] | None


@dataclass(frozen=True)
class _Found:
    positions: np.ndarray  # 0-based rows of the prepared frame, ascending
    column: str
    reason: str
    values: _Values
    fix: str
    fix_values: Mapping[str, Any] = field(default_factory=dict)

    def reason_values(self, p: int) -> dict[str, Any]:
        return {} if self.values is None else dict(self.values(p))

    def reason_text(self, p: int) -> str:
        return t(self.reason, **self.reason_values(p))


class Problems:
    """Every problem found in a source, so that one LogError (or one dropped report) tells all.

    >>> from funnelsim._numbers import parse_numbers
    >>> from funnelsim._reader import read_source
    >>> src = read_source(pd.DataFrame({"amount": ["5", "-1", "x"]}))
    >>> problems = Problems(src)
    >>> amount, empty, text = parse_numbers(src.frame["amount"])
    >>> problems.add(~(amount >= 0), "amount", "log.reason.bad_amount", quoted(text),
    ...              "log.fix.bad_amount")
    >>> problems.dropped()
       row  column                               reason
    0    3  amount  the amount '-1' is not a number >= 0
    1    4  amount   the amount 'x' is not a number >= 0
    >>> problems.report()[0].rows, problems.report()[0].reason_values
    ((3, 4), {'value': "'-1'"})
    """

    def __init__(self, src: Source) -> None:
        self.src = src
        self.items: list[_Found] = []

    def add(
        self,
        where: np.ndarray,
        column: str,
        reason: str,
        values: _Values,
        fix: str,
        /,
        **fix_values: Any,
    ) -> None:
        """Rows with one problem: ``where`` (a mask, or positions) in ``column``.

        ``reason`` and ``fix`` are catalogue keys; ``values(p)`` gives the
        reason's values for the row at position ``p`` (None: it has none),
        ``fix_values`` the fix's.
        """
        where = np.asarray(where)
        positions = np.flatnonzero(where) if where.dtype == bool else np.unique(where)
        if positions.size:
            found = _Found(positions.astype(np.int64), column, reason, values, fix, fix_values)
            self.items.append(found)

    def mask(self) -> np.ndarray:
        """Which rows of the source have a problem."""
        out = np.zeros(len(self.src.frame), dtype=bool)
        for item in self.items:
            out[item.positions] = True
        return out

    def report(self) -> list[Problem]:
        """The problems found, as they go into ``LogError.values["problems"]``."""
        return [
            Problem(
                item.column,
                tuple(self.src.rownum[item.positions].tolist()),
                item.reason,
                item.reason_values(int(item.positions[0])),
                item.fix,
                dict(item.fix_values),
            )
            for item in self.items
        ]

    def finish(
        self, mode: str, keep: np.ndarray, *, format: str | None = None, what: str | None = None
    ) -> None:
        """Raise the LogError listing every problem, unless ``errors="drop"`` keeps some rows.

        ``format`` names a log's format ("events"...); ``what`` a pipeline
        reader's kind of file ("a pipeline snapshot"...).
        """
        if self.items and (mode == "raise" or not keep.any()):
            self.raise_error(format=format, what=what, all_invalid=mode == "drop")

    def raise_error(
        self, *, format: str | None = None, what: str | None = None, all_invalid: bool = False
    ) -> None:
        """One LogError: a title, one line per problem, and how to read the valid rows."""
        name, count = self.src.name, len(self.items)
        if what is None:  # a log
            head = t("log.error.title", name=name, format=format, count=count)
            key, values, hint = "log.error.title", {"format": format}, t("log.error.drop_hint")
        else:  # a pipeline snapshot, a deal history or a grade history
            head = t("pipeline.error.title", name=name, what=what, count=count)
            key, values, hint = (
                "pipeline.error.title",
                {"what": what},
                t("pipeline.error.drop_hint"),
            )
        problems = self.report()
        lines = [head]
        for problem in problems:
            # several rows whose reasons differ (a lead, a value): the one shown is the
            # first row's, and the line says so
            first = len(set(problem.rows)) > 1 and bool(problem.reason_values)
            lines.append(
                t(
                    "log.error.problem_first" if first else "log.error.problem",
                    column=quote(problem.column),
                    rows=_rows(np.asarray(problem.rows)),
                    first=problem.rows[0],
                    reason=t(problem.reason, **problem.reason_values),
                    fix=t(problem.fix, **problem.fix_values),
                )
            )
        if self.src.parts:  # a folder's files: the rows shown named in their file too,
            # and the row a reason names ("first in row 4")
            listed = {int(r) for p in problems for r in np.unique(p.rows)[:_SHOW_ROWS]}
            said = {int(r) for p in problems if _is_row(r := p.reason_values.get("row"))}
            capped = sorted(listed)[:10]
            shown = sorted([*capped, *(said - set(capped))])
            lines.append(t("log.error.parts_rows", rows=part_rows(self.src.parts, shown)))
        lines.append(t("log.error.all_invalid") if all_invalid else hint)
        raise LogError(
            key, message="\n".join(lines), name=name, count=count, problems=problems, **values
        )

    def dropped(
        self,
        extra: np.ndarray | None = None,
        column: str = "",
        reason: str = "",
        values: _Values = None,
        /,
    ) -> pd.DataFrame:
        """One row per dropped source row (``row``, ``column``, ``reason``): its own first
        problem, or for the rows of ``extra`` (a mask) without one, ``reason`` in
        ``column``: why they went with it."""
        if not self.items:
            return with_parts(empty_dropped(), self.src.parts)
        seen = np.zeros(len(self.src.frame), dtype=bool)
        rows, cols, reasons = [], [], []
        for item in self.items:
            new = item.positions[~seen[item.positions]]
            seen[new] = True
            rows.extend(self.src.rownum[new].tolist())
            cols.extend([item.column] * len(new))
            reasons.extend(item.reason_text(int(p)) for p in new)
        if extra is not None:
            also = _Found(np.flatnonzero(extra & ~seen), column, reason, values, "")
            rows.extend(self.src.rownum[also.positions].tolist())
            cols.extend([column] * len(also.positions))
            reasons.extend(also.reason_text(int(p)) for p in also.positions)
        out = pd.DataFrame(
            {
                "row": np.asarray(rows, dtype=np.int64),
                "column": pd.Series(cols, dtype=object),
                "reason": pd.Series(reasons, dtype=object),
            }
        )
        out = out.sort_values("row", kind="stable").reset_index(drop=True)
        return with_parts(out, self.src.parts)


def _rows(rows: np.ndarray) -> str:
    rows = np.unique(rows)
    shown = ", ".join(str(r) for r in rows[:_SHOW_ROWS])
    if rows.size == 1:
        return t("log.error.rows_one", rows=shown)
    if rows.size <= _SHOW_ROWS:
        return t("log.error.rows_some", rows=shown, total=rows.size)
    return t("log.error.rows_many", rows=shown, more=rows.size - _SHOW_ROWS, total=rows.size)


def with_parts(dropped: pd.DataFrame, parts: Sequence[tuple[str, int]] | None) -> pd.DataFrame:
    """The dropped rows ``dropped`` of a folder's files (:attr:`Source.parts`; None: one
    file, returned as it is) with each row's file (``file``) and its row there
    (``file_row``, counted as in that file alone: its header is its row 1), after ``row``
    (counted on across the files, as the messages count it).

    >>> dropped = pd.DataFrame({"row": [3, 6], "column": ["stage", "time"],
    ...                         "reason": ["unknown stage", "no time"]})
    >>> with_parts(dropped, [("part-0.parquet", 2), ("part-1.parquet", 5)])
       row            file  file_row column         reason
    0    3  part-0.parquet         3  stage  unknown stage
    1    6  part-1.parquet         3   time        no time
    """
    if not parts:
        return dropped
    k, inner = _in_parts(parts, dropped["row"].to_numpy(np.int64))
    names = np.array([name for name, _ in parts], dtype=object)
    out = dropped.copy()
    out.insert(1, "file", pd.Series(names[k], index=dropped.index, dtype=object))
    out.insert(2, "file_row", inner)
    return out


def _in_parts(parts: Sequence[tuple[str, int]], rows: Sequence[int]) -> tuple[np.ndarray, ...]:
    """For each of ``rows`` (counted on across a folder's files), its file's place in
    ``parts`` and its row in that file (counted as in that file alone)."""
    firsts = np.array([first for _, first in parts], dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    k = np.maximum(np.searchsorted(firsts, rows, side="right") - 1, 0)
    return k, rows - firsts[k] + 2


def _is_row(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def part_rows(parts: Sequence[tuple[str, int]], rows: Sequence[int]) -> str:
    """Where ``rows`` (counted on across a folder's files, :attr:`Source.parts`) are: each
    one's file and its row there, counted as in that file alone (its header is its row 1).

    >>> print(part_rows([("part-0.parquet", 2), ("part-1.parquet", 5)], [3, 5, 9]))
    ... # doctest: +NORMALIZE_WHITESPACE
    row 3 is row 3 of part-0.parquet; row 5 is row 2 of part-1.parquet; row 9 is row 6 of
    part-1.parquet
    """
    places, inner = _in_parts(parts, rows)
    said = [
        t("log.error.part_row", row=row, inner=int(i), part=parts[k][0])
        for row, k, i in zip(rows, places, inner, strict=True)
    ]
    return t("log.error.parts_sep").join(said)


def coded_cells(
    problems: Problems,
    frame: pd.DataFrame,
    column: str,
    code_of: Callable[[object], int],
    empty: str,
    unknown: str,
    fix: str,
    /,
    **fix_values: Any,
) -> np.ndarray:
    """Each row's code in a column of coded cells (grades, outcomes, yes/no, classes).

    ``code_of(label)`` gives a distinct label's code, -1 when it is not one of
    the known words. An empty cell is the problem ``empty`` (no values), an
    unknown word the problem ``unknown`` (its ``{value}``), both fixed by
    ``fix`` with ``fix_values`` (the accepted words, say); their rows hold -1.
    Each distinct label is looked up once, so a column of millions of cells
    costs a lookup per word, not per cell.
    """
    codes, found = labels(frame[column])
    known = np.array([code_of(w) for w in found], dtype=np.int64)
    value = np.full(len(codes), -1, dtype=np.int64)
    value[codes >= 0] = known[codes[codes >= 0]]
    problems.add(codes < 0, column, empty, None, fix, **fix_values)
    problems.add(
        (codes >= 0) & (value < 0), column, unknown, quoted(label_text(codes, found)), fix,
        **fix_values,
    )  # fmt: skip
    return value


def lead_ids(
    problems: Problems, frame: pd.DataFrame, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels of the lead ids in ``column``; an empty one is a problem."""
    codes, names = labels(frame[column])
    problems.add(codes < 0, column, "log.reason.no_lead", None, "log.fix.no_lead")
    return codes, names


def amounts(problems: Problems, frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Amounts of money in ``column`` (NaN where empty, or not a number >= 0: a problem),
    and which cells are empty. Amounts are read as :func:`money` reads them."""
    values, empty, text = money(frame[column])
    bad = ~empty & ~(np.isfinite(values) & (values >= 0))
    problems.add(bad, column, "log.reason.bad_amount", quoted(text), "log.fix.bad_amount")
    return np.where(bad, np.nan, values), empty
