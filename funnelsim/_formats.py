"""The three log formats: events, leads and counts, read row by row with every check.

Each reader takes a :class:`~funnelsim._reader.Source` (the file as read)
and returns the parts of a :class:`~funnelsim.logs.Log` (:class:`LogParts`),
which :func:`funnelsim.read_log` assembles; every invalid row becomes one
problem in a :class:`~funnelsim._problems.Problems` list, raised as one
:class:`~funnelsim.LogError` or dropped with a report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._columns import (
    resolve,
)
from ._numbers import parse_numbers
from ._problems import (
    Problems,
    amounts,
    lead_ids,
)
from ._reader import (
    NAT,
    LogError,
    Source,
    cells,
    label_text,
    labels,
    quote,
    quoted,
    repeats,
    text_column,
)
from ._times import flags_or_times, mixed_zones, parse_times, show_time, text_times

#: The group columns a log may have.
GROUP_FIELDS = ("rep", "source", "segment", "period")
#: The fields each format may name (``read_log(columns=...)``), and those it needs.
FIELDS = {
    "events": ("lead", "stage", "time", "rep", "source", "segment", "period", "amount"),
    "leads": ("lead", "rep", "source", "segment", "period", "amount", "close"),
    "counts": ("period", "rep", "source", "segment", "amount"),
}
# A lead's status (won / lost / open) and loss reason, in both lead-level formats.
FIELDS["events"] += ("status", "reason")
FIELDS["leads"] += ("status", "reason")
REQUIRED = {"events": ("lead", "stage", "time"), "leads": (), "counts": ()}
#: Counts from 2**53 up are refused: float64 (and so every later sum) loses units there.
EXACT_COUNT = 2.0**53
#: A lead's status as the ``status`` column may write it (case and spaces ignored):
#: the kit's word for each.
STATUS_WORDS = {
    **dict.fromkeys(("won", "赢单", "成交", "已成交"), "won"),
    **dict.fromkeys(("lost", "输单", "丢单", "失败", "已流失", "流失"), "lost"),
    **dict.fromkeys(("open", "跟进中", "进行中", "未结"), "open"),
}
#: Status codes: where a status cell is empty, the lead is open (or won at the last stage).
OPEN, WON, LOST = 0, 1, 2

#: Keyword arguments of :class:`~funnelsim.logs.Log` (format, stages, leads, reached,
#: times, counts, as_of, name, dropped): what a format's reader returns.
LogParts = dict[str, Any]


def after_as_of(problems: Problems, times: np.ndarray, as_of: pd.Timestamp, column: str):
    late = ~np.isnat(times) & (times > as_of.to_datetime64())
    problems.add(
        late,
        column,
        "log.reason.after_as_of",
        lambda p: {"time": show_time(times[p]), "as_of": str(as_of)},
        "log.fix.after_as_of",
    )
    too_early(problems, times, column, as_of.as_unit("ns").to_datetime64(), str(as_of))


#: How far back from the log's end (its as-of time, or tomorrow) a time may be: 200 years
#: (of 365 days). Two times further apart than 292 years have no duration in int64
#: nanoseconds; a time that far back is a year typed wrong (1712 for 2017).
FAR_BACK = np.timedelta64(200 * 365, "D")


def far_back_bound(end: int) -> int:
    """The earliest time (int64 ns) a log that ends at ``end`` (ns) keeps: :data:`FAR_BACK`
    before it, or the earliest time nanoseconds hold (an as-of time before 1877).

    >>> far_back_bound(0) == -int(FAR_BACK.astype("m8[ns]").view("i8"))
    True
    >>> far_back_bound(int(np.datetime64("1700-01-01", "ns").view("i8"))) == -(2**63) + 1
    True
    """
    return max(int(end) - int(FAR_BACK.astype("timedelta64[ns]").view(np.int64)), -(2**63) + 1)


def too_early(
    problems: Problems, times: np.ndarray, column: str, end: np.datetime64, shown: str = ""
) -> None:
    """Times more than :data:`FAR_BACK` before ``end`` (``as_of``, shown as ``shown``, or
    :func:`tomorrow`, shown as its day): problems of their rows (``log.reason.early_time``),
    so that every duration the log's questions take (a cycle, a time at a stage) fits in
    nanoseconds, on every reader.

    >>> from funnelsim._reader import Source
    >>> times = np.array(["1712-10-28", "2025-01-02"], dtype="M8[ns]")
    >>> problems = Problems(Source(pd.DataFrame({"time": times}), np.arange(2, 4), "log"))
    >>> too_early(problems, times, "time", np.datetime64("2025-01-06", "ns"))
    >>> [(p.rows, p.reason) for p in problems.report()]
    [((2,), 'log.reason.early_time')]
    """
    bound = np.datetime64(far_back_bound(np.datetime64(end, "ns").view(np.int64)), "ns")
    problems.add(
        ~np.isnat(times) & (times < bound),
        column,
        "log.reason.early_time",
        lambda p: {"time": show_time(times[p]), "end": shown or str(np.datetime64(end, "D"))},
        "log.fix.early_time",
    )


def read_dates(
    problems: Problems,
    frame: pd.DataFrame,
    column: str,
    *,
    required: bool,
    zones: str | None = None,
) -> np.ndarray:
    """The dates of ``column``: NaT where empty or unreadable (a problem; an empty cell too
    when ``required``). ``zones``: the kind of time that is a problem where the column is
    part of a larger one that mixes times with a zone and without
    (:func:`~funnelsim._times.mixed_zones`)."""
    zoned = np.zeros(len(frame), dtype=bool)  # the zone pattern run once, in parse_times
    times, empty, text = parse_times(frame[column], zoned)
    if required:
        problems.add(empty, column, "log.reason.no_date", None, "log.fix.bad_date")
    problems.add(
        ~empty & np.isnat(times), column, "log.reason.bad_date", quoted(text), "log.fix.bad_date"
    )
    problems.add(
        mixed_zones(frame[column], times, zoned, zones),
        column,
        "log.reason.mixed_zones",
        quoted(text),
        "log.fix.mixed_zones",
    )
    return times


#: A few latest times cut off from the rest of the log by a gap longer than this (and
#: than a quarter of the rest's span) are not taken as its as-of time.
FAR_GAP = np.timedelta64(30, "D")
#: ... in a log of at least this many times, and at most ``max(1, min(10, n // 100))`` of them.
FAR_MIN_TIMES = 50


def far_limit(first: int, top: np.ndarray, n: int) -> int | None:
    """The far-time rule of :func:`far_times` on int64 nanoseconds: ``n`` known times
    (none after tomorrow), ``first`` the earliest, ``top`` the latest
    ``max(1, min(10, n // 100)) + 1`` of them in ascending order (fewer when ``n`` is
    smaller). Returns the latest time kept (times after it are far), or None when
    nothing is cut off. An engine that holds the times computes the three figures in a
    query; this module computes them from the array.

    >>> day = 86_400 * 10**9
    >>> times = np.r_[np.arange(60) * day, 400 * day]  # 60 daily times, then one far
    >>> far_limit(int(times[0]), times[-2:], times.size) == 59 * day
    True
    >>> far_limit(0, np.array([0, day]), 2) is None  # too few times to judge
    True
    """
    if n < FAR_MIN_TIMES:
        return None
    tail = max(1, min(10, n // 100))
    top = np.asarray(top, dtype=np.int64)[-(tail + 1) :]
    gaps = top[1:] - top[:-1]  # before each of the last `tail`
    j = int(np.argmax(gaps))  # the widest gap among them
    rest_end = top[j]
    span = rest_end - first
    if gaps[j] > max(FAR_GAP.astype("timedelta64[ns]").view(np.int64), span // 4):
        return int(rest_end)
    return None


def tomorrow() -> np.datetime64:
    """A day after this machine's clock (UTC, no zone): later times are typing slips."""
    now = pd.Timestamp.now("UTC").tz_localize(None).as_unit("ns").to_datetime64()
    return now + np.timedelta64(1, "D")


#: ``far_times(end=...)``: compute the far-time limit from the times given.
FROM_TIMES = "from the times"


def far_times(
    problems: Problems,
    times: np.ndarray,
    columns: Sequence[str],
    end: int | str | None = FROM_TIMES,
) -> None:
    """Without ``as_of=``: times that would wrongly become the log's as-of time.

    Two rules (see :func:`funnelsim.read_log`): a time later than a day after this
    machine's clock (``log.reason.future_time``); and, in a log of at least
    :data:`FAR_MIN_TIMES` times, its few latest times (at most 1 %, at most 10) when a
    gap longer than :data:`FAR_GAP` and than a quarter of the span of the other times
    cuts them off from the rest (``log.reason.far_time``): a year typed wrong, such as
    2026 for 2025 in a log that ends in June 2025.
    """
    grid = times.reshape(len(times), -1)
    future = tomorrow()
    now = future - np.timedelta64(1, "D")
    if isinstance(end, str):  # from these times
        known = np.sort(grid[~np.isnat(grid)].view(np.int64))
        if known.size == 0:
            return
        ints = known[known <= future.view(np.int64)]  # the future ones are named below
        n = ints.size
        end = far_limit(int(ints[0]), ints[-12:], n) if n else None
    end = None if end is None else np.datetime64(int(end), "ns")
    for k, column in enumerate(columns):
        col = grid[:, k]
        known_k = ~np.isnat(col)
        too_early(problems, col, column, future)
        ahead = known_k & (col > future)
        problems.add(
            ahead,
            column,
            "log.reason.future_time",
            lambda p, k=k: {"time": show_time(grid[p, k]), "now": show_time(now.astype("M8[s]"))},
            "log.fix.far_time",
        )
        if end is None:
            continue
        problems.add(
            known_k & ~ahead & (col > end),
            column,
            "log.reason.far_time",
            lambda p, k=k: {"time": show_time(grid[p, k]), "limit": show_time(end)},
            "log.fix.far_time",
        )


def group_labels(frame: pd.DataFrame, cols: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Codes and labels of the group columns the file has: the group fields (rep,
    source, ...) under their field names, then every column no field or stage reads
    (see :func:`extra_columns`) under its own name."""
    out = {key: labels(frame[cols[key]]) for key in GROUP_FIELDS if key in cols}
    for column in extra_columns(frame, cols):
        out[column] = labels(frame[column])
    return out


def extra_columns(frame: pd.DataFrame, cols: dict) -> list[str]:
    """The columns of ``frame`` that no field or stage reads (``cols.taken``, see
    :func:`~funnelsim._columns.resolve`), in file order: kept as lead attributes that
    ``by=`` can name. A column named like one of the kit's fields but read as none
    (``lead`` when ``columns={"lead": "id"}``) is left out: its name is the field's."""
    taken = getattr(cols, "taken", frozenset(cols.values()))
    names = {name for names in FIELDS.values() for name in names}
    return [c for c in frame.columns if c not in taken and c not in names]


def attribute(codes: np.ndarray, names: np.ndarray) -> pd.Categorical:
    """An extra column's cells as a categorical (codes, -1 empty), its categories in
    natural order: by number when every label is a number, else by text.

    >>> attribute(np.array([0, 1, -1, 2]), np.array(["41", "9", "100"], dtype=object))
    ['41', '9', NaN, '100']
    Categories (3, object): ['9', '41', '100']
    """
    numbers = pd.to_numeric(pd.Series(names, dtype=object), errors="coerce").to_numpy(float)
    order = np.argsort(numbers, kind="stable") if not np.isnan(numbers).any() else None
    if order is None:
        order = np.argsort(np.asarray(names, dtype=str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    new = np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(rank) else -1, -1)
    return pd.Categorical.from_codes(new, categories=pd.Index(names[order], dtype=object))


def _order_checks(
    problems: Problems,
    pos: np.ndarray,
    times: np.ndarray | None,
    stages: Sequence[str],
    columns: tuple[Sequence[str], Sequence[str]],
    lead_label: Callable[[int], str],
    lead_of: np.ndarray,
) -> None:
    """A lead at a stage without the one before, or reaching it earlier in time.

    ``pos`` (leads x stages) is the source position of each stage reached
    (-1 when not reached), ``times`` the matching times, ``lead_of`` the lead
    index of each source position; ``columns`` is the column to blame for
    stage k's gap (``columns[0][k]``) and for its time (``columns[1][k]``).
    """
    gap_columns, time_columns = columns
    reached = pos >= 0
    for k in range(1, len(stages)):
        gap = reached[:, k] & ~reached[:, k - 1]
        problems.add(
            pos[gap, k],
            gap_columns[k],
            "log.reason.gap",
            lambda p, k=k: {
                "lead": lead_label(int(lead_of[p])),
                "stage": quote(stages[k]),
                "previous": quote(stages[k - 1]),
            },
            "log.fix.gap",
            previous=quote(stages[k - 1]),
        )
    if times is None:
        return
    ints = times.view(np.int64)  # NaT is the smallest int64, so it never wins a max
    for k in range(1, len(stages)):
        before = ints[:, :k]
        latest = before.max(axis=1)
        late = ~np.isnat(times[:, k]) & (latest > ints[:, k]) & reached[:, k]
        if not late.any():
            continue
        # each late lead's latest earlier stage
        which = before.argmax(axis=1)[late].tolist()
        last = dict(zip(np.flatnonzero(late).tolist(), which, strict=True))
        problems.add(
            pos[late, k],
            time_columns[k],
            "log.reason.order",
            lambda p, k=k, last=last: {
                "lead": lead_label(int(lead_of[p])),
                "stage": quote(stages[k]),
                "time": show_time(times[lead_of[p], k]),
                "previous": quote(stages[last[int(lead_of[p])]]),
                "earlier": show_time(times[lead_of[p], last[int(lead_of[p])]]),
            },
            "log.fix.order",
        )


def default_as_of(times: np.ndarray | None, given: pd.Timestamp | None) -> pd.Timestamp | None:
    if given is not None:
        return given
    if times is None or times.size == 0:
        return None
    latest = times.reshape(-1).view(np.int64).max()  # NaT is the smallest int64
    return None if latest == np.iinfo(np.int64).min else pd.Timestamp(latest, unit="ns")


def statuses(problems: Problems, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Each row's status code (OPEN, WON, LOST; -1 when empty); a word not in
    :data:`STATUS_WORDS` is a problem naming the cell and listing the words."""
    codes, names = labels(frame[column])
    kit = np.array(
        [STATUS_WORDS.get(" ".join(str(n).split()).lower(), "") for n in names], dtype=object
    )
    value = {"open": OPEN, "won": WON, "lost": LOST, "": -2}
    of_label = np.array([value[w] for w in kit], dtype=np.int64)
    out = np.full(len(frame), -1, dtype=np.int64)
    has = codes >= 0
    out[has] = of_label[codes[has]] if len(names) else -1
    choices = ", ".join(quote(w) for w in STATUS_WORDS)
    problems.add(
        out == -2,
        column,
        "log.reason.bad_status",
        lambda p: {"value": quote(names[codes[p]])},
        "log.fix.bad_status",
        choices=choices,
    )
    return out


def read_leads(src: Source, stage_map: dict, given: dict, as_of, mode: str) -> LogParts:
    cols = resolve(src, FIELDS["leads"], given, REQUIRED["leads"], stages=stage_map)
    frame, n = src.frame, len(src.frame)
    stages = tuple(stage_map)
    if stage_map[stages[-1]] is None and "close" not in cols:
        raise LogError("log.error.stage_column", stage=quote(stages[-1]), value="None")
    problems = Problems(src)
    if "lead" in cols:
        lead_code, lead_labels = lead_ids(problems, frame, cols["lead"])
        ids = label_text(lead_code, lead_labels)
    else:
        ids = src.rownum.astype(str).astype(object)
    reached, at, said_no = _lead_stages(problems, frame, stage_map)
    status = statuses(problems, frame, cols["status"]) if "status" in cols else None
    lost = np.zeros(n, dtype=bool) if status is None else status == LOST
    close = None
    if "close" in cols:
        close = _close_dates(problems, frame, cols["close"], reached, at, said_no, stages, lost)
    if status is not None:
        reached[:, -1] |= status == WON  # won: the last stage reached (its time from close)
    has_times = bool((~np.isnat(at)).any())
    # The column to blame for each stage (a stage mapped to None: the lead or close column).
    stage_cols = [
        c if c is not None else cols.get("lead", "") if k == 0 else cols["close"]
        for k, c in enumerate(stage_map.values())
    ]
    # a lost lead's close date is a time of the log too (a won one's is its last stage's)
    lost_close = None if close is None else np.where(lost, close, NAT)
    if lost_close is not None:
        latest = np.iinfo(np.int64).max
        first_at = np.where(np.isnat(at), latest, at.view(np.int64)).min(axis=1).view(at.dtype)
        problems.add(
            ~np.isnat(lost_close) & (lost_close < first_at),
            cols["close"],
            "log.reason.lost_before_start",
            lambda p: {"close": show_time(lost_close[p]), "start": show_time(first_at[p])},
            "log.fix.lost_before_start",
        )
    if as_of is not None:
        for k in range(len(stages)):
            after_as_of(problems, at[:, k], as_of, stage_cols[k])
        if lost_close is not None:
            after_as_of(problems, lost_close, as_of, cols["close"])
    elif lost_close is None:
        far_times(problems, at, stage_cols)
    else:
        far_times(problems, np.column_stack([at, lost_close]), [*stage_cols, cols["close"]])
    amount = amounts(problems, frame, cols["amount"])[0] if "amount" in cols else None
    attrs = group_labels(frame, cols)

    def lead_label(p: int) -> str:
        return quote(ids[p])

    row_ok = ~problems.mask()
    if "lead" in cols:
        row_ok[_duplicate_leads(problems, cols["lead"], lead_code, row_ok, lead_label)] = False
    problems.add(
        row_ok & ~reached.any(axis=1),
        stage_cols[0],
        "log.reason.no_stage_reached",
        lambda p: {"lead": lead_label(p), "stage": quote(stages[0])},
        "log.fix.no_stage_reached",
        stage=quote(stages[0]),
    )
    positions = np.arange(n)
    pos = np.where(reached & row_ok[:, None], positions[:, None], -1)
    times = np.where(row_ok[:, None], at, NAT)
    _order_checks(problems, pos, times, stages, (stage_cols, stage_cols), lead_label, positions)
    keep = ~problems.mask()
    problems.finish(mode, keep, format="leads")
    rows = np.flatnonzero(keep)
    index = pd.Index(ids[rows], dtype=object, name="lead")
    leads = pd.DataFrame(index=index)
    for key, (codes, names) in attrs.items():
        leads[key] = text_column(codes[rows], names).to_numpy()
    if amount is not None:
        leads["amount"] = amount[rows]
    times = at[rows] if has_times else None
    kit = np.where(reached[rows, -1], WON, np.where(lost[rows], LOST, OPEN))
    if status is not None:
        leads["status"] = np.array(["open", "won", "lost"], dtype=object)[kit]
    if "reason" in cols:
        rcodes, rnames = labels(frame[cols["reason"]])
        leads["reason"] = text_column(rcodes[rows], rnames).to_numpy()
    closed = None
    if times is not None:
        # lost: the close date, else the latest stage time known
        gone = close[rows] if close is not None else np.full(len(rows), NAT)
        latest = times.view(np.int64).max(axis=1).view("datetime64[ns]")
        gone = np.where(np.isnat(gone), latest, gone)
        closed = np.where(kit == WON, times[:, -1], np.where(kit == LOST, gone, NAT))
    return dict(
        format="leads",
        stages=stages,
        leads=leads,
        reached=pd.DataFrame(reached[rows], index=index, columns=list(stages)),
        times=None if times is None else pd.DataFrame(times, index=index, columns=list(stages)),
        as_of=default_as_of(times, as_of),
        name=src.name,
        dropped=problems.dropped(),
        closed=None if closed is None else pd.Series(closed, index=index, name="closed"),
    )


def _lead_stages(
    problems: Problems, frame: pd.DataFrame, stage_map: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which stages each row reached and when (rows x stages), from the stage columns'
    dates or yes/no flags, and which rows' last stage cell says no."""
    n, n_stages = len(frame), len(stage_map)
    reached = np.zeros((n, n_stages), dtype=bool)
    at = np.full((n, n_stages), NAT)
    said_no = np.zeros(n, dtype=bool)
    for k, column in enumerate(stage_map.values()):
        if column is None:
            reached[:, k] = k == 0
            continue
        hit, when, bad, text = flags_or_times(frame[column])
        reached[:, k], at[:, k] = hit & ~bad, when
        problems.add(bad, column, "log.reason.bad_flag", quoted(text), "log.fix.bad_flag")
        if k == n_stages - 1:
            said_no = text == "no"
    return reached, at, said_no


def _close_dates(
    problems: Problems,
    frame: pd.DataFrame,
    name: str,
    reached: np.ndarray,
    at: np.ndarray,
    said_no: np.ndarray,
    stages: tuple[str, ...],
    lost: np.ndarray,
) -> np.ndarray:
    """A close date means the last stage was reached then (``reached`` and ``at``
    updated), except for a ``lost`` lead: then it is the date the lead was lost.
    Returns the close dates."""
    close = read_dates(problems, frame, name, required=False)
    last = quote(stages[-1])
    problems.add(
        said_no & ~np.isnat(close) & ~lost,  # said_no is all False without a last stage column
        name,
        "log.reason.close_not_reached",
        lambda p: {"stage": last},
        "log.fix.close_not_reached",
        stage=last,
    )
    won = ~np.isnat(close) & ~lost
    reached[:, -1] |= won
    at[:, -1] = np.where(np.isnat(at[:, -1]) & won, close, at[:, -1])
    return close


def _duplicate_leads(
    problems: Problems,
    column: str,
    lead_code: np.ndarray,
    row_ok: np.ndarray,
    lead_label: Callable[[int], str],
) -> np.ndarray:
    """Valid rows of a lead seen in an earlier valid row: a problem each; returns them."""
    dup, first_of = repeats(lead_code, row_ok)
    problems.add(
        dup,
        column,
        "log.reason.duplicate_lead",
        lambda p: {"lead": lead_label(p), "row": int(problems.src.rownum[first_of[p]])},
        "log.fix.duplicate_lead",
    )
    return dup


def read_counts(src: Source, stage_map: dict, given: dict, as_of, mode: str) -> LogParts:
    cols = resolve(src, FIELDS["counts"], given, REQUIRED["counts"], stages=stage_map)
    frame = src.frame
    stages = tuple(stage_map)
    problems = Problems(src)
    out, key_codes = _count_groups(problems, frame, cols)
    counts = _count_values(problems, frame, stage_map)
    if key_codes:
        _duplicate_counts(problems, frame, cols, stage_map, key_codes)
    amount = amounts(problems, frame, cols["amount"])[0] if "amount" in cols else None
    keep = ~problems.mask()
    problems.finish(mode, keep, format="counts")
    rows = np.flatnonzero(keep)
    table = pd.DataFrame({key: values[rows] for key, values in out.items()})
    for k, stage in enumerate(stages):
        table[stage] = counts[rows, k].astype(np.int64)
    if amount is not None:
        table["amount"] = amount[rows]
    table.index = pd.RangeIndex(len(rows))
    if as_of is None and "period" in table and pd.api.types.is_datetime64_dtype(table["period"]):
        as_of = table["period"].max()
    return dict(
        format="counts",
        stages=stages,
        counts=table,
        as_of=as_of,
        name=src.name,
        dropped=problems.dropped(),
    )


def _count_groups(
    problems: Problems, frame: pd.DataFrame, cols: dict
) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """The period (dates when every one is a date), group and other columns of a
    counts log, and the codes that identify each row's period and group (the file's
    other columns are kept per row but identify nothing)."""
    out, key_codes = {}, []
    if "period" in cols:
        text, native = cells(frame[cols["period"]])
        empty = (text == "") & np.isnat(native)
        problems.add(empty, cols["period"], "log.reason.no_period", None, "log.fix.no_period")
        dates = np.where(np.isnat(native), text_times(pd.Series(text, dtype=object)), native)
        if np.isnat(dates[~empty]).any():  # not all dates: keep the periods as written
            codes, names = labels(frame[cols["period"]])
            out["period"] = text_column(codes, names).to_numpy()
            key_codes.append(codes)
        else:
            out["period"] = dates.astype("datetime64[ns]")
            key_codes.append(pd.factorize(dates)[0])
    for key in ("rep", "source", "segment"):
        if key in cols:
            codes, names = labels(frame[cols[key]])
            out[key] = text_column(codes, names).to_numpy()
            key_codes.append(codes)
    for column in extra_columns(frame, cols):  # per row, not part of a row's key
        out[column] = attribute(*labels(frame[column]))
    return out, key_codes


def _count_values(problems: Problems, frame: pd.DataFrame, stage_map: dict) -> np.ndarray:
    """The counts (rows x stages); empty, negative, fractional or rising counts are problems."""
    counts = np.zeros((len(frame), len(stage_map)))
    valid = np.zeros((len(frame), len(stage_map)), dtype=bool)
    for k, column in enumerate(stage_map.values()):
        values, empty, text = parse_numbers(frame[column])
        counts[:, k] = values
        finite = np.isfinite(values)
        huge = finite & (values >= EXACT_COUNT)  # float64 counts exactly only below 2**53
        whole = finite & (values >= 0) & (values == np.floor(values)) & ~huge
        valid[:, k] = whole
        # one problem per kind, so that each message fits all its rows
        problems.add(empty, column, "log.reason.no_count", None, "log.fix.bad_count")
        problems.add(
            ~empty & ~finite,
            column,
            "log.reason.count_not_number",
            quoted(text),
            "log.fix.bad_count",
        )
        problems.add(
            finite & (values < 0),
            column,
            "log.reason.count_negative",
            quoted(text),
            "log.fix.bad_count",
        )
        problems.add(huge, column, "log.reason.count_too_large", quoted(text), "log.fix.bad_count")
        problems.add(
            finite & (values >= 0) & ~whole & ~huge,
            column,
            "log.reason.count_fraction",
            quoted(text),
            "log.fix.bad_count",
        )
    stages, columns = list(stage_map), list(stage_map.values())
    for k in range(1, len(stages)):
        problems.add(
            valid[:, k] & valid[:, k - 1] & (counts[:, k] > counts[:, k - 1]),
            columns[k],
            "log.reason.rising",
            lambda p, k=k: {
                "stage": quote(stages[k]),
                "count": f"{counts[p, k]:g}",
                "previous": quote(stages[k - 1]),
                "before": f"{counts[p, k - 1]:g}",
            },
            "log.fix.rising",
        )
    return counts


def _duplicate_counts(
    problems: Problems,
    frame: pd.DataFrame,
    cols: dict,
    stage_map: dict,
    key_codes: list[np.ndarray],
) -> None:
    """A second valid row for the same period and group."""
    ok_pos = np.flatnonzero(~problems.mask())
    repeated = pd.DataFrame(np.column_stack(key_codes)[ok_pos]).duplicated(keep="first")
    dup = np.zeros(len(frame), dtype=bool)
    dup[ok_pos[repeated.to_numpy()]] = True
    key_cols = [cols[k] for k in ("period", "rep", "source", "segment") if k in cols]
    names = ", ".join(map(quote, key_cols))
    if "period" in cols:
        problems.add(
            dup,
            key_cols[0],
            "log.reason.duplicate_row",
            lambda p: {"columns": names},
            "log.fix.duplicate_row",
        )
    else:  # most likely the week column was not named
        used = {*cols.values(), *stage_map.values()}
        spare = [c for c in frame.columns if c not in used]
        problems.add(
            dup,
            key_cols[0],
            "log.reason.duplicate_row",
            lambda p: {"columns": names},
            "log.fix.duplicate_no_period",
            columns=", ".join(map(quote, spare)) or "-",
        )
