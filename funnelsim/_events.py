"""The events format: one row per lead and stage reached (or attempted), read row by row
with every check, under one rule (a lead has passed a stage when it reached it or a later
one). :func:`read_events` returns the parts of a :class:`~funnelsim.logs.Log`; an engine
reads a large log's invalid and irregular leads through it too (:mod:`funnelsim.engine`).
The other formats and what they share are in :mod:`funnelsim._formats`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._columns import resolve
from ._formats import (
    FIELDS,
    FROM_TIMES,
    GROUP_FIELDS,
    LOST,
    OPEN,
    REQUIRED,
    WON,
    LogParts,
    after_as_of,
    attribute,
    default_as_of,
    far_times,
    group_labels,
    read_dates,
    statuses,
)
from ._problems import Problems, amounts, lead_ids
from ._reader import NAT, Source, labels, quote, repeats, text_column
from ._times import show_time


@dataclass
class EventRows:
    """The rows of an events source, read and checked (:func:`check_events`): each row's
    lead code, stage code, time, amount and status, the group columns' codes, every
    problem found, the leads with one (``bad_lead``, by code; the last entry stands for
    no lead) and the rows kept (``keep``: rows of leads without a problem)."""

    src: Source
    cols: dict
    problems: Problems
    lead_code: np.ndarray
    lead_labels: np.ndarray
    stage_code: np.ndarray
    times: np.ndarray
    amount: np.ndarray | None
    status: np.ndarray | None
    attrs: dict
    bad_lead: np.ndarray
    keep: np.ndarray

    def lead_label(self, lead: int) -> str:
        return quote(self.lead_labels[lead])

    def dropped(self) -> pd.DataFrame:
        """Every row not kept, with its own problem or the lead it went with."""
        problems, lead_code = self.problems, self.lead_code
        if not problems.items:
            return problems.dropped()  # empty
        first_bad = np.full(len(self.lead_labels), len(self.src.frame), dtype=np.int64)
        bad_with_lead = np.flatnonzero(problems.mask() & (lead_code >= 0))
        np.minimum.at(first_bad, lead_code[bad_with_lead], bad_with_lead)
        return problems.dropped(
            ~self.keep,
            self.cols["lead"],
            "log.reason.with_lead",
            lambda p: {
                "lead": self.lead_label(int(lead_code[p])),
                "row": int(self.src.rownum[first_bad[lead_code[p]]]),
            },
        )


def check_events(
    src: Source,
    stage_map: dict,
    given: dict,
    as_of,
    *,
    far_end: int | str | None = FROM_TIMES,
    zones: str | None = None,
) -> EventRows:
    """Read and check the rows of an events source (every check of :func:`read_events`).

    ``far_end`` is the far-time limit (:func:`far_limit`) when the source is part of a
    larger log whose times decide it (an engine's rows of its invalid leads); by default
    these rows' times decide it. ``zones``: the kind of time (``"aware"``, ``"naive"``)
    that such a larger log mixes into its times, a problem of every row of that kind.
    """
    cols = resolve(src, FIELDS["events"], given, REQUIRED["events"])
    frame = src.frame
    stages = tuple(stage_map)
    problems = Problems(src)
    lead_code, lead_labels = lead_ids(problems, frame, cols["lead"])
    stage_code = _event_stages(problems, frame[cols["stage"]], cols["stage"], stage_map)
    times = read_dates(problems, frame, cols["time"], required=True, zones=zones)
    if as_of is not None:
        after_as_of(problems, times, as_of, cols["time"])
    else:
        far_times(problems, times, [cols["time"]], far_end)
    amount = amounts(problems, frame, cols["amount"])[0] if "amount" in cols else None
    status = statuses(problems, frame, cols["status"]) if "status" in cols else None
    attrs = group_labels(frame, cols)

    def lead_label(lead: int) -> str:
        return quote(lead_labels[lead])

    n_leads = len(lead_labels)
    _event_checks(problems, lead_code, stage_code, times, n_leads, stages, cols, lead_label)
    # Every lead with any problem is dropped whole.
    bad_rows = problems.mask()
    bad_lead = np.zeros(n_leads + 1, dtype=bool)  # the last entry stands for no lead (code -1)
    bad_lead[lead_code[bad_rows & (lead_code >= 0)]] = True
    keep = (lead_code >= 0) & ~bad_lead[lead_code]
    return EventRows(
        src, cols, problems, lead_code, lead_labels, stage_code, times, amount, status, attrs,
        bad_lead, keep,
    )  # fmt: skip


def read_events(
    src: Source,
    stage_map: dict,
    given: dict,
    as_of,
    mode: str,
    *,
    far_end: int | str | None = FROM_TIMES,
    whole: bool = True,
    zones: str | None = None,
) -> LogParts:
    """The parts of an events log (see :func:`funnelsim.read_log`). ``far_end`` and
    ``zones``: see :func:`check_events`; ``whole=False``: ``src`` is part of a larger log
    (an engine's irregular or invalid leads), so that no row kept here is not "every row
    invalid"."""
    checked = check_events(src, stage_map, given, as_of, far_end=far_end, zones=zones)
    keep = checked.keep if whole else np.ones(1, dtype=bool)
    checked.problems.finish(mode, keep, format="events")
    dropped = checked.dropped()
    cols, frame, stages = checked.cols, src.frame, tuple(stage_map)
    lead_code, lead_labels, stage_code = checked.lead_code, checked.lead_labels, checked.stage_code
    times, amount, status, attrs = checked.times, checked.amount, checked.status, checked.attrs
    bad_lead, keep = checked.bad_lead, checked.keep
    kept_lead = ~bad_lead[:-1]
    rows = np.flatnonzero(keep)
    index = pd.Index(lead_labels[kept_lead], dtype=object, name="lead")
    # Kept leads keep their order of first appearance; codes renumbered without hashing.
    code = (np.cumsum(kept_lead) - 1)[lead_code[rows]]
    stage = stage_code[rows]
    at_rows, rownum = times[rows], src.rownum[rows]
    leads = _event_leads(index, attrs, amount, rows, code, stage, at_rows, len(stages))
    kit, when = _event_outcomes(leads, frame, cols, status, rows, code, at_rows)
    # a lead said to be won reached the last stage, at its won row's time if no row says so
    has_last = np.zeros(len(index), dtype=bool)
    has_last[code[stage == len(stages) - 1]] = True
    won_late = np.flatnonzero((kit == WON) & ~has_last)
    decision = None if status is None else np.isin(status[rows], (WON, LOST))
    paths = _event_paths(
        np.r_[code, won_late],
        np.r_[stage, np.full(len(won_late), len(stages) - 1)],
        np.r_[at_rows, when[won_late]],
        np.r_[rownum, np.zeros(len(won_late), dtype=rownum.dtype)],
        len(index),
        stages,
        real=len(rows),
        decision=decision,
    )
    paths["demotions"]["lead"] = index.to_numpy()[paths["demotions"]["lead"].to_numpy()]
    kit[paths["reached"][:, -1]] = WON  # a lead at the last stage is won
    # lost at the row that said so (its latest lost row), won at the last stage's time
    lost_at = np.where(np.isnat(when), paths["closed"], when)
    closed = np.where(kit == WON, paths["at"][:, -1], np.where(kit == LOST, lost_at, NAT))
    if status is not None:
        leads["status"] = np.array(["open", "won", "lost"], dtype=object)[kit]
    return dict(
        format="events",
        stages=stages,
        leads=leads,
        reached=pd.DataFrame(paths["reached"], index=index, columns=list(stages)),
        times=pd.DataFrame(paths["at"], index=index, columns=list(stages)),
        as_of=default_as_of(at_rows, as_of),
        name=src.name,
        dropped=dropped,
        attempts=pd.DataFrame(paths["attempts"], index=index, columns=list(stages)),
        demotions=paths["demotions"],
        skipped=paths["skipped"],
        closed=pd.Series(closed, index=index, name="closed"),
        n_rows=len(rows),
    )


def _event_stages(problems: Problems, column: pd.Series, name: str, stage_map: dict) -> np.ndarray:
    """Each row's stage index (-1 when empty or unknown, a problem either way)."""
    label_code, stage_labels = labels(column)
    stage_of_label = pd.Index(list(stage_map.values())).get_indexer(stage_labels)
    stage_code = np.full(len(column), -1, dtype=np.int64)
    stage_code[label_code >= 0] = stage_of_label[label_code[label_code >= 0]]
    choices = ", ".join(quote(v) for v in stage_map.values())
    problems.add(
        label_code < 0, name, "log.reason.no_stage", None, "log.fix.unknown_stage", choices=choices
    )
    unknown = (label_code >= 0) & (stage_code < 0)
    near = _near_stages(stage_labels, stage_of_label, list(stage_map.values()))
    near_of = near[np.maximum(label_code, 0)] if near.size else np.full(len(column), "")
    close = unknown & near_of.astype(bool)
    problems.add(
        unknown & ~close,
        name,
        "log.reason.unknown_stage",
        lambda p: {"value": quote(stage_labels[label_code[p]])},
        "log.fix.unknown_stage",
        choices=choices,
    )
    problems.add(
        close,
        name,
        "log.reason.unknown_stage_near",
        lambda p: {
            "value": quote(stage_labels[label_code[p]]),
            "near": quote(near[label_code[p]]),
        },
        "log.fix.unknown_stage",
        choices=choices,
    )
    return stage_code


def _near_stages(found: np.ndarray, stage_of: np.ndarray, stages: list[str]) -> np.ndarray:
    """For each label of the stage column that is no stage, the stage most like it
    (difflib, without case; '' when none is close). One look per distinct label."""
    near = np.full(len(found), "", dtype=object)
    folded = [s.casefold() for s in stages]
    for i in np.flatnonzero(stage_of < 0)[:1000]:  # a few typos, not a wrong column
        hit = difflib.get_close_matches(str(found[i]).casefold(), folded, n=1, cutoff=0.6)
        if hit:
            near[i] = stages[folded.index(hit[0])]
    return near


def _event_checks(
    problems: Problems,
    lead_code: np.ndarray,
    stage_code: np.ndarray,
    times: np.ndarray,
    n_leads: int,
    stages: tuple[str, ...],
    cols: dict,
    lead_label: Callable[[int], str],
) -> None:
    """The check across a lead's rows: a copied row (the same lead, stage and time as an
    earlier row). Leads with an invalid row are left out of it.

    Rows of one stage at different times are attempts, and stages skipped or
    reached again after a later one are read (:func:`_event_paths`): neither is
    a problem.
    """
    n_stages = len(stages)
    if n_leads == 0:
        return
    bad_lead = np.zeros(n_leads + 1, dtype=bool)  # the last entry stands for no lead (code -1)
    bad_lead[lead_code[problems.mask() & (lead_code >= 0)]] = True
    ok = (lead_code >= 0) & ~bad_lead[lead_code]
    cell = np.where(ok, lead_code * n_stages + stage_code, 0)  # (lead, stage) of each row
    per_cell = np.bincount(cell[ok], minlength=n_leads * n_stages)
    again = ok & (per_cell[cell] > 1)  # attempts: few rows, checked for the same time
    del per_cell
    where = np.flatnonzero(again)
    same = np.full(len(cell), -1, dtype=np.int64)
    if len(where):
        pairs = pd.DataFrame({"cell": cell[where], "time": times[where].view(np.int64)})
        same[where] = pairs.groupby(["cell", "time"], sort=False).ngroup().to_numpy()
    dup, first_of = repeats(same, again)
    problems.add(
        dup,
        cols["stage"],
        "log.reason.duplicate_event",
        lambda p: {
            "lead": lead_label(int(lead_code[p])),
            "stage": quote(stages[stage_code[p]]),
            "time": show_time(times[p]),
            "row": int(problems.src.rownum[first_of[p]]),
        },
        "log.fix.duplicate_event",
    )


def _event_paths(
    code: np.ndarray,
    stage: np.ndarray,
    times: np.ndarray,
    rownum: np.ndarray,
    n_leads: int,
    stages: tuple[str, ...],
    *,
    real: int,
    decision: np.ndarray | None = None,
) -> dict[str, Any]:
    """Each lead's path through the stages, from its kept rows (``code``, ``stage``,
    ``times``, spreadsheet ``rownum``), under one rule: a lead has passed a stage when
    it reached it or any later stage, at the first time it reached it or any later one
    (so its times never go down the funnel).

    Returns ``reached`` and ``at`` (leads x stages), ``attempts`` (per lead and
    stage, its rows there before it first reached a later stage: rows after a move
    back are not attempts to pass it), ``demotions`` (one row per move back: lead,
    from, to, time, spent_days, row), ``skipped`` (per stage, the leads that passed
    it without a row there) and ``closed`` (each lead's last row time). Rows from
    ``real`` on stand for a won status (the last stage reached): they are neither
    attempts nor moves. ``decision`` (one per real row) marks the rows that record a
    won or lost status: past the first stage they record the decision, not an
    attempt (at the first stage, the last dial of a lead never reached is both).
    """
    n_stages = len(stages)
    ints = times.astype("datetime64[ns]").view(np.int64)
    big = np.iinfo(np.int64).max
    at_int = np.full((n_leads, n_stages), big, dtype=np.int64)
    np.minimum.at(at_int, (code, stage), ints)
    # first arrival at the stage or any later one: a running minimum from the last stage
    # (column by column, in place: a 10-million-lead log has no room for copies)
    for k in range(n_stages - 2, -1, -1):
        np.minimum(at_int[:, k], at_int[:, k + 1], out=at_int[:, k])
    reached = at_int != big
    real_code, real_stage = code[:real], stage[:real]
    # each real row's lead's first arrival at a later stage (never, at the last stage)
    later = at_int[real_code, np.minimum(real_stage + 1, n_stages - 1)]
    later[real_stage == n_stages - 1] = big
    had_row = np.zeros((n_leads, n_stages), dtype=bool)
    had_row[real_code, real_stage] = True
    tries = ints[:real] <= later  # before moving on
    if decision is not None:
        tries &= ~(decision & (real_stage > 0))
    attempts = np.zeros((n_leads, n_stages), dtype=np.int32)
    np.add.at(attempts, (real_code[tries], real_stage[tries]), 1)
    del tries
    skipped = reached & ~had_row
    del had_row
    skipped[:, -1] = False  # the last stage reached by a won status only
    # A move back is a row at a lower stage than the lead's row before it (in time
    # order; ties: down the funnel, then file order), so it comes strictly after the
    # lead's first arrival at a later stage: only the leads with such a row are sorted,
    # and only their real rows (not the last stage a won status stands for).
    late = np.zeros(n_leads, dtype=bool)
    late[real_code[ints[:real] > later]] = True
    del later
    rows = np.flatnonzero(late[real_code])
    order = rows[np.lexsort((rownum[rows], stage[rows], ints[rows], code[rows]))]
    c, s, tm, rn = code[order], stage[order], ints[order], rownum[order]
    new_lead = np.r_[True, c[1:] != c[:-1]]
    moved = new_lead | np.r_[True, s[1:] != s[:-1]]
    stay_start = tm[np.maximum.accumulate(np.where(moved, np.arange(len(c)), 0))]
    back = np.flatnonzero(~new_lead & np.r_[False, s[1:] < s[:-1]])
    names = np.array(stages, dtype=object)
    demotions = pd.DataFrame(
        {
            "lead": c[back],
            "from": names[s[back - 1]],
            "to": names[s[back]],
            "time": tm[back].view("datetime64[ns]"),
            "spent_days": (tm[back] - stay_start[back - 1]) / 86_400e9,
            "row": rn[back].astype(np.int64),
        }
    )
    closed = np.full(n_leads, NAT.view(np.int64), dtype=np.int64)
    np.maximum.at(closed, code, ints)  # NaT is the smallest int64
    at_int[~reached] = NAT.view(np.int64)
    return dict(
        reached=reached,
        at=at_int.view("datetime64[ns]"),
        attempts=attempts,
        demotions=demotions,
        skipped=pd.DataFrame(
            {"stage": list(stages), "leads": skipped.sum(axis=0).astype(np.int64)}
        ),
        closed=closed.view("datetime64[ns]"),
    )


def _event_outcomes(
    leads: pd.DataFrame,
    frame: pd.DataFrame,
    cols: dict,
    status: np.ndarray | None,
    rows: np.ndarray,
    code: np.ndarray,
    times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's status code (OPEN, WON, LOST) and the time of the row that gave it,
    from its latest given status (by time, then file order; none: open); its loss
    ``reason`` (the latest one given) is added to ``leads``."""
    n = len(leads)
    if status is None and "reason" not in cols:
        return np.full(n, OPEN, dtype=np.int64), np.full(n, NAT)
    order = np.lexsort((rows, times.view(np.int64)))  # later rows last

    def latest(given: np.ndarray, values: np.ndarray, empty: int) -> tuple[np.ndarray, ...]:
        out = np.full(n, empty, dtype=np.int64)
        when = np.full(n, NAT)
        pick = order[given[order]]
        out[code[pick]] = values[pick]  # later rows overwrite earlier ones
        when[code[pick]] = times[pick]
        return out, when

    if "reason" in cols:
        rcodes, rnames = labels(frame[cols["reason"]])
        rcode = rcodes[rows]
        leads["reason"] = text_column(latest(rcode >= 0, rcode, -1)[0], rnames).to_numpy()
    if status is None:
        return np.full(n, OPEN, dtype=np.int64), np.full(n, NAT)
    st = status[rows]
    return latest(st >= 0, st, OPEN)


def _event_leads(
    index: pd.Index,
    attrs: dict,
    amount: np.ndarray | None,
    rows: np.ndarray,
    code: np.ndarray,
    stage: np.ndarray,
    times: np.ndarray,
    n_stages: int,
) -> pd.DataFrame:
    """One row per kept lead: its rep, source, ..., the file's other columns and
    amount, each the value given on the lead's latest row that gives one, in stage
    order, then time order (its furthest stage's value; of several rows there, the
    latest). ``rows`` are the kept rows, ``code``, ``stage`` and ``times`` their lead,
    stage and time. A rule of the rows' values alone, not of their order in the file,
    so that an engine without a file order (a database table) finds the same value."""
    n_kept = len(index)
    # rows of a lead and stage that has several (attempts) go last, latest time last
    cell = code * n_stages + stage
    per_cell = np.bincount(cell, minlength=n_kept * n_stages)
    several = np.flatnonzero(per_cell[cell] > 1)
    several = several[np.argsort(times[several].view(np.int64), kind="stable")]
    single = np.flatnonzero(per_cell[cell] == 1)
    del per_cell, cell

    def last_given(values: np.ndarray, given: np.ndarray, empty: object) -> np.ndarray:
        out = np.full(n_kept, empty, dtype=values.dtype)
        for k in range(n_stages):  # later stages overwrite earlier ones
            for at in (single, several):  # later times overwrite earlier ones
                at_k = at[stage[at] == k]
                ok = given[rows[at_k]]
                out[code[at_k][ok]] = values[rows[at_k]][ok]
        return out

    leads = pd.DataFrame(index=index)
    for key, (codes, names) in attrs.items():
        last = last_given(codes, codes >= 0, -1)
        if key in GROUP_FIELDS:
            leads[key] = text_column(last, names).to_numpy()
        else:  # a column of the file's own: a categorical, by far the smaller
            leads[key] = attribute(last, names)
    if amount is not None:
        leads["amount"] = last_given(amount, ~np.isnan(amount), np.nan)
    return leads
