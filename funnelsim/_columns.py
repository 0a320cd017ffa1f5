"""Columns of an input file: the kit's fields found by name, by the names common exports
use (:data:`SYNONYMS`), or named in ``columns=``; a missing column is one error that lists
the header and suggests the closest column.

Shared by the log and pipeline readers; split from :mod:`funnelsim._reader` (files and
cells), whose :class:`~funnelsim._reader.Source` it reads.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._reader import LogError, Source, quote, sheet_list
from .i18n import t


class MissingColumn(NamedTuple):
    """One column a file lacks, in ``LogError.values["missing"]``.

    ``columns`` are the names looked for (two or more when either would do),
    ``reason`` the catalogue key of its line in the message
    (``"log.error.missing_field"``, ``"log.error.missing_stage"`` or
    ``"pipeline.error.missing_either"``), ``reason_values`` its values and
    ``suggestion`` the file's column most like it (None when none is close):
    the message asks "did you mean ...?".
    """

    columns: tuple[str, ...]
    reason: str
    reason_values: dict[str, Any]
    #: The file's column most like the missing one (difflib), or None.
    suggestion: str | None = None


class Columns(dict):
    """The file's column for each field (a dict), and ``taken``: every column a field
    or a stage reads, so that the others can be kept as lead attributes."""

    taken: frozenset[str] = frozenset()


def resolve(
    src: Source,
    allowed: Sequence[str],
    fields: Mapping[str, str],
    required: Sequence[str] = (),
    *,
    stages: Mapping[str, str | None] | None = None,
    one_of: Sequence[str] = (),
    field_reason: str = "log.error.missing_field",
    either_reason: str = "pipeline.error.missing_either",
    describe: Mapping[str, str] | None = None,
) -> Columns:
    """The file's column for each field it has; one LogError listing every missing column.

    A field is looked for under the column ``fields`` gives it, else under
    its own name; it must be there when ``fields`` names it or it is
    ``required``. ``stages`` maps stage names to the columns that must be
    there too (None: no column); with ``one_of``, at least one of those
    fields must be there. Each missing column's line suggests the file's
    column most like it (see :func:`suggest_column`); the line for ``one_of``
    suggests a column for each of its fields that has a close one.
    ``field_reason`` and ``either_reason`` are the catalogue keys of a missing
    field's line and of the ``one_of`` line (a call record has its own); a
    missing field's line gets ``what=describe[field]`` when ``describe`` has it.
    """
    have = set(src.frame.columns)
    used, missing = Columns(), []
    for key in allowed:
        column = fields.get(key, key)
        if column in have:
            used[key] = column
        elif key in fields or key in required:
            values = {"column": quote(column), "field": key}
            if describe and key in describe:
                values["what"] = describe[key]
            missing.append(MissingColumn((column,), field_reason, values))
    stage_columns = {c for c in (stages or {}).values() if c is not None}
    for stage, column in (stages or {}).items():
        if column is not None and column not in have:
            missing.append(
                MissingColumn(
                    (column,),
                    "log.error.missing_stage",
                    {"column": quote(column), "stage": quote(stage)},
                )
            )
    if one_of and not any(k in used for k in one_of):
        names = tuple(fields.get(k, k) for k in one_of)
        values = {"columns": " nor ".join(map(quote, names)), "fields": tuple(one_of)}
        values |= {
            k: quote(n) for k, n in zip(one_of, names, strict=True)
        }  # each field's own column
        values["names"] = ", ".join(map(quote, names))
        missing.append(MissingColumn(names, either_reason, values))
    used.taken = frozenset({*used.values(), *(stage_columns & have)})
    if missing:
        spare = [c for c in src.frame.columns if c not in used.taken]
        missing = [
            _hints(m, spare) if "fields" in m.reason_values
            else m._replace(suggestion=_suggestion(m, spare))
            for m in missing
        ]  # fmt: skip
        raise_missing_columns(src, missing)
    return used


def raise_missing_columns(
    src: Source, missing: list[MissingColumn], notes: Sequence[str] = (), **more: Any
) -> None:
    """One LogError listing every missing column, with the columns the file has; ``notes``
    are lines added at the end, ``more`` values added to the error's."""
    columns = list(src.frame.columns)
    shown = [quote(c) for c in columns[:40]]
    values = {
        "name": src.name,
        "count": len(missing),
        "available": ", ".join(shown) + (", ..." if len(columns) > 40 else ""),
    }
    lines = [t("log.error.missing_columns", **values)]
    lines.extend(_missing_line(m) for m in missing)
    lines.extend(filter(None, [sheet_list(src)]))  # a workbook: its sheets and their headers
    unnamed = sum(str(c).startswith("Unnamed: ") for c in columns)
    if unnamed * 2 >= len(columns):  # row 1 is a title: a sheet laid out for people
        lines.append(t("log.hint.title_row", row=_header_row_guess(src)))
    lines.extend(notes)
    raise LogError(
        "log.error.missing_columns", message="\n".join(lines), missing=missing, **values, **more
    )


def _header_row_guess(src: Source) -> str:
    """The first spreadsheet row whose cells are all filled (the header, likely), or '?'."""
    filled = src.frame.notna().to_numpy() & (src.frame.astype(str) != "").to_numpy()
    full = np.flatnonzero(filled.all(axis=1)[:50])
    return str(int(src.rownum[full[0]])) if full.size else "?"


def _missing_line(m: MissingColumn) -> str:
    """A missing column's line, with "did you mean ...?" when a column is close."""
    line = t(m.reason, **m.reason_values)
    if m.suggestion is None:
        return line
    if "fields" in m.reason_values:  # one of several fields: a hint for each close column
        hints = m.reason_values.get("hints", ())
        return " ".join([line, *(t("log.hint.column", field=f, column=c) for f, c in hints)])
    if "field" in m.reason_values:
        field = m.reason_values["field"]
        return line + " " + t("log.hint.column", field=field, column=m.suggestion)
    stage = m.reason_values["stage"].strip("'")
    return line + " " + t("log.hint.stage_column", stage=stage, column=m.suggestion)


# ------------------------------------------------------ column names of exports
#: Column names common exports give each field (besides the field's own name): a field
#: not named in ``columns=`` and without a column of its own name is read from the one
#: column among these (compared without case); two of them are an error.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "lead": ("客户名称", "线索ID", "线索编号", "客户ID", "客户编号", "lead_id", "lead id"),
    "stage": ("商机阶段", "阶段", "销售阶段"),
    "time": ("创建时间", "日期", "时间", "date", "timestamp", "拨打时间", "呼叫时间", "call_time"),
    "rep": ("负责人", "销售", "业务员", "销售代表", "owner", "坐席", "座席", "agent"),
    "source": ("来源", "渠道", "线索来源"),
    "amount": ("金额", "成交金额"),
    "period": ("统计期", "期间", "周次", "月份", "period"),
    "segment": ("客户类型", "客户分类", "细分", "segment"),
    "date": ("日期", "时间", "变更日期", "评级日期", "升级日期", "date", "change_date"),
    "close": ("结束日期", "关闭日期", "成交日期", "close_date", "closed"),
    "status": ("状态", "商机状态", "赢单状态", "输赢状态", "结果"),
    "duration": ("通话时长", "时长", "通话时间", "talk_time", "talk time", "call_duration"),
    "outcome": ("呼叫结果", "通话结果", "结果", "状态", "call_result", "result", "disposition"),
    "reason": ("输单原因", "丢单原因", "失败原因", "流失原因", "loss_reason", "lost reason"),
    # a leads table's qualification (funnelsim.qualify)
    "money": ("有预算", "预算", "是否有预算", "budget", "has budget"),
    "authority": ("有决策权", "决策权", "决策人", "decision maker", "decision_maker"),
    "need": ("有需求", "需求", "是否有需求", "needs", "has need"),
    "intent": ("意向", "意向等级", "意向程度", "客户意向", "intent level", "intention"),
    "won": ("是否成交", "成交", "已成交", "won/lost", "converted", "closed", "closed_won"),
}

#: Column names call records (dialler exports) give each of their fields, besides
#: :data:`SYNONYMS`: only :func:`funnelsim.read_calls` reads them, so that a log with a
#: phone number (号码) or a start time (开始时间) beside its lead id and time reads as before.
CALL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "time": ("开始时间", "呼叫开始时间", "通话开始时间", "拨号时间", "start time", "start_time",
             "call start", "call time", "call date"),
    "rep": ("坐席工号", "工号", "坐席名称", "坐席姓名", "座席工号", "座席名称", "员工", "agent id",
            "agent_id", "agent name", "agent_name", "extension"),
    "lead": ("被叫号码", "被叫", "客户电话", "客户号码", "号码", "手机号", "手机号码", "电话号码",
             "callee", "phone", "phone number", "called number", "number"),
    "duration": ("通话秒数", "计费时长", "通话时长秒", "call duration", "talk_secs", "talk secs",
                 "billsec", "seconds"),
    "outcome": ("呼叫状态", "接通状态", "通话状态", "外呼结果", "call status", "call_status",
                "status"),
}  # fmt: skip

#: A unit of seconds at the end of a header, in brackets: 通话时长(秒), duration (s).
_SECONDS_UNIT = re.compile(r"\s*\((?:秒|秒钟|秒数|s|sec|secs|second|seconds)\)$")


def header_key(name: object) -> str:
    """A column name as headers are compared with :data:`SYNONYMS`: without case,
    full-width forms (（秒）) read as their ASCII twins, runs of spaces as one, and a
    unit of seconds in brackets at the end left out (a header naming seconds holds
    plain seconds, as :func:`funnelsim.calls.parse_durations` reads them).

    >>> header_key("通话时长（秒）"), header_key(" Duration  (s) "), header_key("Talk Time")
    ('通话时长', 'duration', 'talk time')
    >>> header_key("通话时长(分)")  # minutes are not seconds: no match for 通话时长
    '通话时长(分)'
    """
    text = " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())
    return _SECONDS_UNIT.sub("", text)


def recognise_columns(
    src: Source,
    allowed: Sequence[str],
    fields: Mapping[str, str],
    stages: Mapping[str, str | None] | None = None,
    *,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """``fields`` (``columns=``) completed with the columns recognised by their names.

    A field in ``allowed`` that ``fields`` does not name and that has no
    column of its own name is read from the one column of the file whose
    name is among its :data:`SYNONYMS` (or its own name in another case),
    not already read by a field or a stage; ``synonyms`` adds names (a call
    record's :data:`CALL_SYNONYMS`). Names are compared as
    :func:`header_key` writes them. Two such columns: a LogError asking to
    choose one.

    >>> import numpy as np
    >>> import pandas as pd
    >>> src = Source(pd.DataFrame({"线索编号": ["L1"], "阶段": ["拨打"], "时间": ["2025-03-03"]}),
    ...              np.array([2]), "x.csv")
    >>> recognise_columns(src, ("lead", "stage", "time", "rep"), {})
    {'lead': '线索编号', 'stage': '阶段', 'time': '时间'}
    """
    out = dict(fields)
    have = list(src.frame.columns)
    taken = {*out.values(), *(c for c in (stages or {}).values() if c is not None)}
    taken |= {k for k in allowed if k in have and k not in out}
    for key in allowed:
        extra = tuple((synonyms or {}).get(key, ()))
        if key in out or key in have or (key not in SYNONYMS and not extra):
            continue
        names = {header_key(n) for n in (key, *SYNONYMS.get(key, ()), *extra)}
        found = [c for c in have if c not in taken and header_key(c) in names]
        if len(found) > 1:
            raise LogError(
                "log.error.ambiguous_column",
                name=src.name,
                field=key,
                columns=", ".join(map(quote, found)),
                column=found[0],
            )
        if found:
            out[key] = found[0]
            taken.add(found[0])
    return out


def suggest_column(wanted: Sequence[str], columns: Sequence[str]) -> str | None:
    """The column of ``columns`` most like any name in ``wanted`` (difflib, without
    case; None when none is close).

    >>> suggest_column(["rep", "负责人", "owner"], ["客户", "负责人员", "金额"])
    '负责人员'
    >>> suggest_column(["sale"], ["sales", "dial"])
    'sales'
    >>> suggest_column(["rep"], ["amount"]) is None
    True
    """
    best, score = None, 0.0
    for column in columns:
        text = str(column).casefold()
        for name in wanted:
            ratio = difflib.SequenceMatcher(None, name.casefold(), text).ratio()
            if ratio > score:
                best, score = column, ratio
    return best if score >= 0.6 else None


def _suggestion(m: MissingColumn, spare: Sequence[str]) -> str | None:
    if "field" in m.reason_values:
        field = m.reason_values["field"]
        return suggest_column([*m.columns, field, *_synonyms(field)], spare)
    if m.reason == "log.error.missing_stage":
        return suggest_column(m.columns, spare)
    return None


def _hints(m: MissingColumn, spare: Sequence[str]) -> MissingColumn:
    """A ``one_of`` line with, for each of its fields, the spare column most like it
    (each column suggested once), in ``reason_values["hints"]``: (field, column) pairs."""
    hints, left = [], list(spare)
    for field, column in zip(m.reason_values["fields"], m.columns, strict=True):
        found = suggest_column([column, field, *_synonyms(field)], left)
        if found is not None:
            hints.append((field, found))
            left.remove(found)
    first = hints[0][1] if hints else None
    return m._replace(reason_values={**m.reason_values, "hints": hints}, suggestion=first)


def _synonyms(field: str) -> tuple[str, ...]:
    return (*SYNONYMS.get(field, ()), *CALL_SYNONYMS.get(field, ()))
