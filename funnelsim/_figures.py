"""The read's figures of an engine's log, counted from a code of flags per lead.

:meth:`funnelsim.engine._Build.run` counts, over the table of one row per lead, the
log's rows, its leads, the clean ones (no invalid row, not irregular), those with a
stage of several rows, the stages skipped and, per group, each step's entered and
passed leads and attempts. Each of those figures is a sum over the leads of something
that depends on a few flags of the lead, or on one of its numbers (its rows, its rows
at a stage) where a flag holds. So the aggregate groups the leads by one number made
of their flags (``__f0``: one bit each; a funnel of over 20 stages takes more words)
and sums only their count and those numbers; the figures are then read from the
groups' rows, a few thousand: one aggregate of 6 sums where 24 were asked (0.2 s less
at 10 M rows), and each figure written once, here, for every engine.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import narwhals as nw

#: Bits of a code word (the flags of more stages take a word more).
WORD = 62


class LeadFigures:
    """The flags of a lead (a row of the lead table ``per``: ``lead``, its first time
    at or after each stage ``a0``..., its valid rows at each stage ``c0``..., all its
    rows ``__n``, ``__bad`` (rows not counted at a stage), ``__odd`` (irregular),
    ``__nolead``, and with ``spaced`` ``__spaced``), coded and counted.

    The flags: no lead; clean; several rows at stage k (``r{k}``); none at stage k
    (``z{k}``, before the last); reached stage k or a later one (``p{k}``); an id with
    spaces around it. With ``steps``, the sums include the rows at each stage but the
    last (the steps' attempts).

    Examples
    --------
    >>> import pandas as pd
    >>> import narwhals as nw
    >>> per = nw.from_native(pd.DataFrame({
    ...     "lead": ["A", "B", "C"], "a0": [1, 1, 2], "a1": [4, None, None],
    ...     "c0": [2, 1, 0], "c1": [1, 0, 0], "__n": [3, 1, 1], "__bad": [0, 0, 1],
    ...     "__odd": [False, False, False], "__nolead": [False, False, False]}))
    >>> figures = LeadFigures(2, spaced=False, steps=True)
    >>> coded = figures.grouped(figures.keyed(per), by=[])
    >>> table = figures.decoded(coded, by=[]).to_native()
    >>> {k: int(table[k].sum()) for k in ("n", "leads", "clean", "candidates", "passed1")}
    {'n': 5, 'leads': 3, 'clean': 2, 'candidates': 1, 'passed1': 1}
    >>> sorted(table["__lead"].dropna())  # the lead that is not clean, on a row of its own
    ['C']
    """

    def __init__(self, stages: int, spaced: bool, steps: bool) -> None:
        S = self.stages = stages
        self.spaced, self.steps = spaced, steps
        names = ["nolead", "clean", *[f"r{k}" for k in range(S)]]
        names += [f"z{k}" for k in range(S - 1)] + [f"p{k}" for k in range(S)]
        names += ["spaced"] if spaced else []
        #: each flag's word (``__f0``...) and bit
        self.place = {n: (f"__f{i // WORD}", i % WORD) for i, n in enumerate(names)}
        self.words = sorted({w for w, _ in self.place.values()})
        #: the numbers summed per group besides the count of leads (``__k``)
        self.sums = ["__n", *([f"c{k}" for k in range(S - 1)] if steps else [])]
        #: the figures :meth:`decoded` gives, in order
        self.names = ["n", "no_lead", "leads", "clean", "candidates", "listed"]
        self.names += [f"r{k}" for k in range(S)] + [f"skip{k}" for k in range(S - 1)]
        self.names += ["spaced"] if spaced else []
        self.names += (
            [f"{c}{k}" for k in range(1, S) for c in ("passed", "attempts")] if steps else []
        )

    def flags(self) -> dict[str, Any]:
        """Each flag of a lead as an expression on the lead table."""
        S, c = self.stages, nw.col
        nolead = c("__nolead")
        out = {
            "nolead": nolead,
            "clean": ~nolead & (c("__bad") == 0) & ~c("__odd"),
            **{f"r{k}": c(f"c{k}") > 1 for k in range(S)},
            **{f"z{k}": c(f"c{k}") == 0 for k in range(S - 1)},
            **{f"p{k}": ~c(f"a{k}").is_null() for k in range(S)},
        }
        if self.spaced:
            out["spaced"] = c("__spaced")
        return out

    def keyed(self, per: Any) -> Any:
        """``per`` with its code words (``__f0``...) and ``__lead``: the lead where its
        figures are read on a row of its own (not clean, or clean with several rows at
        a middle stage: the row-by-row checks read it), else none."""
        flags, zero = self.flags(), nw.lit(0, nw.Int64)
        words = {}
        for word in self.words:
            bits = [
                nw.when(flags[n]).then(nw.lit(2**b, nw.Int64)).otherwise(zero)
                for n, (w, b) in self.place.items()
                if w == word
            ]
            words[word] = functools.reduce(operator.add, bits)
        clean, middle = flags["clean"], self._middle(flags)
        alone = ~flags["nolead"] & (~clean | (clean & self._again(flags) & middle))
        return per.with_columns(__lead=nw.when(alone).then(nw.col("lead")), **words)

    def grouped(self, keyed: Any, by: list[str]) -> Any:
        """The leads of ``keyed`` counted (``__k``) and their numbers summed per group of
        ``by``, ``__lead`` and the code words."""
        keys = [*by, "__lead", *self.words]
        keyed = keyed.with_columns(**{s: nw.col(s).cast(nw.Int64) for s in self.sums})
        sums = nw.col(*self.sums).sum()  # (an aggregate of a column: Dask takes no other)
        return keyed.group_by(*keys, drop_null_keys=False).agg(nw.len().alias("__k"), sums)

    def decoded(self, grouped: Any, by: list[str], keep: tuple[str, ...] = ()) -> Any:
        """The figures of each row of ``grouped`` (its groups' sums: :attr:`names`), with
        ``by``, ``__lead`` and the columns ``keep``. (A lead's own figures: those of its
        row of :meth:`keyed`, with ``__k`` 1.)"""
        S = self.stages
        flag = {n: (nw.col(w) // 2**b) % 2 == 1 for n, (w, b) in self.place.items()}
        count, zero = nw.col("__k"), nw.lit(0, nw.Int64)
        # the flags that several figures read, once each (a long funnel's are many)
        grouped = grouped.with_columns(
            __nolead=flag["nolead"],
            __clean=flag["clean"],
            __candidate=flag["clean"] & self._again(flag),
            __middle=self._middle(flag),
        )
        clean, nolead, candidate = nw.col("__clean"), nw.col("__nolead"), nw.col("__candidate")

        def leads(condition: Any) -> Any:
            return nw.when(condition).then(count).otherwise(zero)

        out = {
            "n": nw.col("__n"),
            "no_lead": nw.when(nolead).then(nw.col("__n")).otherwise(zero),
            "leads": leads(~nolead),
            "clean": leads(clean),
            "candidates": leads(candidate),
            "listed": leads(candidate & nw.col("__middle")),
            **{f"r{k}": leads(candidate & flag[f"r{k}"]) for k in range(S)},
            **{f"skip{k}": leads(clean & flag[f"p{k}"] & flag[f"z{k}"]) for k in range(S - 1)},
            **({"spaced": leads(~nolead & flag["spaced"])} if self.spaced else {}),
        }
        # (step k's entered leads are the clean ones for k = 1, every clean lead having
        # a first time, and those passed k - 1 after: sums not asked twice)
        for k in range(1, S) if self.steps else ():
            out[f"passed{k}"] = leads(clean & flag[f"p{k}"])
            out[f"attempts{k}"] = nw.when(clean).then(nw.col(f"c{k - 1}")).otherwise(zero)
        return grouped.select(
            *by, "__lead", *keep, **{k: e.cast(nw.Int64) for k, e in out.items()}
        )

    def _again(self, flag: dict[str, Any]) -> Any:
        """Several rows at some stage."""
        return nw.any_horizontal(*[flag[f"r{k}"] for k in range(self.stages)], ignore_nulls=False)

    def _middle(self, flag: dict[str, Any]) -> Any:
        """Several rows at a stage between the first and the last (whose latest row the
        checks below compare)."""
        middle = [flag[f"r{k}"] for k in range(1, self.stages - 1)]
        return nw.any_horizontal(*middle, ignore_nulls=False) if middle else nw.lit(False)
