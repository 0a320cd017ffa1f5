"""The funnel: stages, conditional ratios, the overall rate and expected counts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import (
    check_names,
    check_nonnegative,
    check_probability,
    check_sequence,
    short,
    type_name,
)
from .i18n import FunnelsimTypeError, FunnelsimValueError, stages_label, t

__all__ = ["Funnel"]


@dataclass(frozen=True, repr=False)
class Funnel:
    """A chain of stages with the conditional ratio of each step.

    Parameters
    ----------
    stages : sequence of str
        Stage names in funnel order, first to last (at least two).
    ratios : sequence of float
        ``len(stages) - 1`` conditional ratios in [0, 1]: ``ratios[k]`` is the
        share of leads at ``stages[k]`` that reach ``stages[k + 1]``.

    Examples
    --------
    The decks' daily ratio game: 15 dials give 7 connects, 7 connects give
    1 meeting, 8 meetings give 1 sale.

    >>> import funnelsim as fs
    >>> game = fs.Funnel(["dials", "connects", "meetings", "sales"], [7/15, 1/7, 1/8])
    >>> game
    Funnel(dials -> connects -> meetings -> sales; ratios 0.467, 0.143, 0.125; overall 0.00833)
    >>> game.calls_per_sale
    120.0
    >>> game.expected(15).round(3).tolist()
    [15.0, 7.0, 1.0, 0.125]
    """

    stages: tuple[str, ...]
    ratios: tuple[float, ...]

    def __post_init__(self) -> None:
        if isinstance(self.stages, str):  # "abc" would become stages a, b, c
            raise FunnelsimTypeError(
                "error.stages_string", name="stages", value=repr(self.stages), type="str"
            )
        stages = check_names("stages", self.stages)
        if len(stages) < 2:
            raise FunnelsimValueError("error.too_few_stages", value=list(stages))
        try:
            ratios = [self.ratios] if isinstance(self.ratios, str) else list(self.ratios)
        except TypeError:  # one number (or a 0-d array) for a two-stage funnel
            ratios = [self.ratios]
        if len(ratios) != len(stages) - 1:
            raise FunnelsimValueError(
                "error.ratio_count",
                n_ratios=len(ratios),
                n_stages=len(stages),
                expected=len(stages) - 1,
            )
        checked = tuple(
            check_probability(f"ratios[{k}] ({stages[k]} -> {stages[k + 1]})", r)
            for k, r in enumerate(ratios)
        )
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "ratios", checked)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_counts(cls, stages: Sequence[str], counts: Sequence[float]) -> Funnel:
        """Build a funnel from one count per stage (``ratio = next / this``).

        >>> import funnelsim as fs
        >>> fs.Funnel.from_counts(["contacts", "prospects", "sales"], [20, 5, 1]).ratios
        (0.25, 0.2)
        """
        if isinstance(stages, str):  # "abc" would become stages a, b, c
            raise FunnelsimTypeError(
                "error.stages_string", name="stages", value=repr(stages), type="str"
            )
        counts = check_sequence("counts", counts)
        vals = [check_nonnegative(f"counts[{k}]", c) for k, c in enumerate(counts)]
        if len(vals) != len(stages):
            raise FunnelsimValueError(
                "error.count_length", n_counts=len(vals), n_stages=len(stages)
            )
        ratios = []
        for k in range(len(vals) - 1):
            if vals[k] == 0:
                raise FunnelsimValueError("error.zero_count", stage=stages[k], index=k)
            if vals[k + 1] > vals[k]:
                raise FunnelsimValueError(
                    "error.counts_rising",
                    upper=stages[k],
                    lower=stages[k + 1],
                    a=vals[k],
                    b=vals[k + 1],
                )
            ratios.append(vals[k + 1] / vals[k])
        return cls(tuple(stages), tuple(ratios))

    def with_ratio(self, stage: str | int, value: float) -> Funnel:
        """A copy with the ratio *into* ``stage`` set to ``value``.

        ``stage`` is the name of the stage the ratio leads to, or the index of
        the ratio.

        >>> import funnelsim as fs
        >>> fs.Funnel(["a", "b", "c"], [0.5, 0.5]).with_ratio("c", 0.2).ratios
        (0.5, 0.2)
        """
        k = self.ratio_index(stage)
        ratios = list(self.ratios)
        ratios[k] = value
        return Funnel(self.stages, tuple(ratios))

    def ratio_index(self, stage: str | int) -> int:
        """Index in ``ratios`` of the ratio into ``stage`` (a stage name or the index itself).

        >>> import funnelsim as fs
        >>> fs.Funnel(["a", "b", "c"], [0.5, 0.5]).ratio_index("c")
        1
        """
        if isinstance(stage, (int, np.integer)) and not isinstance(stage, bool):
            if 0 <= stage < len(self.ratios):
                return int(stage)
        elif stage in self.stages[1:]:
            return self.stages.index(stage) - 1
        raise FunnelsimValueError(
            "error.unknown_ratio_stage", value=repr(stage), choices=", ".join(self.stages[1:])
        )

    def stage_index(self, stage: str) -> int:
        """Position of ``stage`` in the funnel, with a clear error when unknown.

        >>> import funnelsim as fs
        >>> f = fs.Funnel(["contacts", "prospects", "sales"], [0.25, 0.2])
        >>> f.stage_index("prospects")
        1
        >>> f.stage_index("meetings")
        Traceback (most recent call last):
        ...
        funnelsim.FunnelsimValueError: Unknown stage 'meetings'. The funnel's stages are:
        contacts, prospects, sales.
        """
        if stage not in self.stages:
            raise FunnelsimValueError(
                "error.unknown_stage", value=repr(stage), choices=", ".join(self.stages)
            )
        return self.stages.index(stage)

    # --------------------------------------------------------------- derived
    @property
    def n_stages(self) -> int:
        """Number of stages."""
        return len(self.stages)

    @property
    def overall(self) -> float:
        """First-to-last-stage rate: the product of the ratios."""
        return float(math.prod(self.ratios))

    @property
    def reach(self) -> np.ndarray:
        """Probability that one lead of the first stage reaches each stage."""
        return np.concatenate([[1.0], np.cumprod(self.ratios)])

    @property
    def calls_per_sale(self) -> float:
        """First-stage leads needed per last-stage outcome (``1 / overall``; inf when 0)."""
        p = self.overall
        return math.inf if p == 0 else 1.0 / p

    def expected(self, calls: float) -> pd.Series:
        """Expected count at each stage for ``calls`` leads entering the first stage.

        >>> import funnelsim as fs
        >>> fs.Funnel(["contacts", "prospects", "sales"], [0.25, 0.2]).expected(200)
        stage
        contacts     200.0
        prospects     50.0
        sales         10.0
        Name: expected, dtype: float64
        """
        n = check_nonnegative("calls", calls)
        return pd.Series(
            n * self.reach, index=pd.Index(self.stages, name="stage"), name="expected"
        )

    def per_sale(self) -> pd.Series:
        """How many leads each stage *consumes* per last-stage outcome.

        With 20 contacts -> 5 prospects -> 1 sale, every sale consumes 5
        prospects, not 1.

        >>> import funnelsim as fs
        >>> fs.presets.get("20:5:1").funnel.per_sale().tolist()
        [20.0, 5.0, 1.0]
        """
        p = self.reach
        out = p / p[-1] if p[-1] > 0 else np.full_like(p, np.inf)
        return pd.Series(out, index=pd.Index(self.stages, name="stage"), name="per_sale")

    def close_probability(self, stage: str) -> float:
        """Chance that a lead now at ``stage`` reaches the last stage.

        In a weighted pipeline this is the weight of a deal at that stage.

        >>> import funnelsim as fs
        >>> pipe = fs.presets.get("weighted pipeline").funnel
        >>> 1_000_000 * pipe.close_probability("25%")
        250000.0
        """
        k = self.stage_index(stage)
        return float(math.prod(self.ratios[k:]))

    def to_frame(self) -> pd.DataFrame:
        """One row per stage: ``stage``, ``ratio`` (into it; NaN for the first), ``reach``.

        >>> import funnelsim as fs
        >>> fs.Funnel(["contacts", "prospects", "sales"], [0.25, 0.2]).to_frame()
               stage  ratio  reach
        0   contacts    NaN   1.00
        1  prospects   0.25   0.25
        2      sales   0.20   0.05
        """
        return pd.DataFrame(
            {
                "stage": list(self.stages),
                "ratio": [np.nan, *self.ratios],
                "reach": self.reach,
            }
        )

    def __repr__(self) -> str:
        chain = stages_label(self.stages)
        ratios = ", ".join(f"{r:.3g}" for r in self.ratios)
        return t("repr.funnel", chain=chain, ratios=ratios, overall=self.overall)


def check_funnel(funnel: object, name: str = "funnel") -> Funnel:
    """``funnel`` itself when it is a :class:`Funnel`; anything else is a TypeError naming it."""
    if not isinstance(funnel, Funnel):
        raise FunnelsimTypeError(
            "error.not_a_funnel", name=name, value=short(funnel), type=type_name(funnel)
        )
    return funnel
