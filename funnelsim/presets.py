"""The worked examples of the sales-training decks, as named presets.

Each preset is a :class:`Preset`: a funnel plus the numbers the decks use
with it (calls per period, deal sizes, a target). ``get(name)`` builds one;
``names()`` lists them. Preset and stage names are identifiers: the same in
every language (``stage="meetings"`` always works); plots, apps and the
report show them in the current language through
:func:`funnelsim.i18n.stage_label`. Only the description is translated.

Examples
--------
>>> import funnelsim as fs
>>> fs.presets.names()
['daily ratio game', '20:5:1', 'six-stage weekly funnel', 'weighted pipeline',
 'target back-calculation', 'grade ladder', 'deal-size composition']
>>> game = fs.presets.get("daily ratio game")
>>> game.funnel.expected(15).round(3).tolist()   # 15 dials -> 7 connects -> 1 meeting
[15.0, 7.0, 1.0, 0.125]
>>> game.sales_per_year()                        # 50 weeks x 8 meetings / 8
50.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._validate import short, type_name
from .distributions import DealSize
from .funnel import Funnel
from .i18n import FunnelsimTypeError, FunnelsimValueError, t

__all__ = ["Preset", "get", "names"]


@dataclass(frozen=True)
class Preset:
    """A worked example: a funnel and the numbers that go with it.

    Attributes
    ----------
    name : str
        The key for :func:`get`.
    description : str
        One paragraph in the current language.
    funnel : Funnel
    calls : float or None
        First-stage volume per period used in the example.
    period : str
        What one period is ("day", "week").
    deal_size : DealSize or None
        Deal-size model of the example, if it has one.
    target : float or None
        Revenue target of the example, if it has one.
    extra : mapping
        Other numbers of the example (working weeks, carried-over meetings).

    Examples
    --------
    >>> import funnelsim as fs
    >>> pre = fs.presets.get("target back-calculation")
    >>> pre.funnel.stages
    ('candidates (25%)', '50%', '75%', 'closed')
    >>> pre.target, pre.deals_needed()
    (500000, 38)
    """

    name: str
    description: str
    funnel: Funnel
    calls: float | None = None
    period: str = "week"
    deal_size: DealSize | None = None
    target: float | None = None
    extra: Mapping[str, float] = field(default_factory=dict)

    def sales_per_year(self) -> float:
        """Daily ratio game: expected sales in a working year.

        ``working_weeks * (new meetings + carried-over meetings) * ratio into
        sales``, with new meetings from ``dials_per_day * working_days``.

        Examples
        --------
        15 dials a day give 1 meeting; 5 days plus 3 carried-over meetings make
        8 meetings a week, which close 1 sale; 50 working weeks:

        >>> import funnelsim as fs
        >>> fs.presets.get("daily ratio game").sales_per_year()
        50.0
        """
        x = self.extra
        meetings_stage = self.funnel.stages[2]
        new = self.funnel.expected(x["dials_per_day"] * x["working_days"])[meetings_stage]
        per_week = (new + x["carried_over_meetings"]) * self.funnel.ratios[-1]
        return float(round(x["working_weeks"] * per_week, 9))

    def deals_needed(self) -> int:
        """Deals needed for ``target`` at the mean deal size (rounded up).

        Examples
        --------
        >>> import funnelsim as fs
        >>> fs.presets.get("grade ladder").deals_needed()   # 10,000,000 / 200,000
        50
        >>> fs.presets.get("20:5:1").deals_needed()
        Traceback (most recent call last):
        ...
        funnelsim.FunnelsimValueError: Preset '20:5:1' has no revenue target and deal size.
        """
        if self.target is None or self.deal_size is None:
            raise FunnelsimValueError("error.preset_no_target", name=self.name)
        return math.ceil(self.target / self.deal_size.mean - 1e-9)


def _daily_ratio_game() -> Preset:
    return Preset(
        name="daily ratio game",
        description=t("preset.daily_ratio_game"),
        funnel=Funnel(
            ("dials", "connects", "meetings", "sales"),
            (7 / 15, 1 / 7, 1 / 8),
        ),
        calls=15,
        period="day",
        extra=MappingProxyType(
            {
                "dials_per_day": 15,
                "working_days": 5,
                "carried_over_meetings": 3,
                "working_weeks": 50,
            }
        ),
    )


def _twenty_five_one() -> Preset:
    return Preset(
        name="20:5:1",
        description=t("preset.twenty_five_one"),
        funnel=Funnel(("contacts", "prospects", "sales"), (0.25, 0.2)),
        calls=20,
    )


def _six_stage() -> Preset:
    stages = (
        "potential",
        "first contact",
        "need confirmed",
        "proposal",
        "price negotiation",
        "closed",
    )
    return Preset(
        name="six-stage weekly funnel",
        description=t("preset.six_stage"),
        funnel=Funnel.from_counts(stages, (100, 80, 40, 20, 10, 5)),
        calls=100,
    )


def _weighted_pipeline() -> Preset:
    return Preset(
        name="weighted pipeline",
        description=t("preset.weighted_pipeline"),
        funnel=Funnel(("25%", "50%", "75%", "closed"), (0.25 / 0.5, 0.5 / 0.75, 0.75)),
        extra=MappingProxyType({"example_deal": 1_000_000}),
    )


# The deck gives the band shares but not the amount it used inside each band.
# A typical deal sits near the lower end of its band (deal sizes are skewed);
# 5k, 15k, 35k and 55k reproduce the deck's 38 deals (mean about 13,400).
# Band midpoints (5k, 20k, 40k, ...) would give a mean above 15,000 and fewer deals.
SIZE_BANDS = DealSize.bands(
    edges=(0, 10_000, 30_000, 50_000, math.inf),
    shares=(0.565, 0.278, 0.11, 0.046),
    values=(5_000, 15_000, 35_000, 55_000),
)


# The deck composes 500,000 as 28 deals under 10k, 7 of 10-30k, 2 of 30-50k and
# 1 over 50k (38 deals). It does not say what each deal is worth: the values
# below are an assumption, the band midpoints for the two middle bands
# (20k, 40k) and 8k and 56k for the outer ones, chosen so the 38 deals add up to
# exactly 500,000 (mean 500,000 / 38, about 13,158).
COMPOSITION_COUNTS = (28, 7, 2, 1)
COMPOSITION_VALUES = (8_000, 20_000, 40_000, 56_000)
SIZE_COMPOSITION = DealSize.bands(
    edges=(0, 10_000, 30_000, 50_000, math.inf),
    counts=COMPOSITION_COUNTS,
    values=COMPOSITION_VALUES,
)


def _target_back_calculation() -> Preset:
    return Preset(
        name="target back-calculation",
        description=t("preset.target_back_calculation"),
        funnel=Funnel(("candidates (25%)", "50%", "75%", "closed"), (0.25, 0.5, 0.75)),
        deal_size=SIZE_BANDS,
        target=500_000,
    )


def _grade_ladder() -> Preset:
    return Preset(
        name="grade ladder",
        description=t("preset.grade_ladder"),
        # Illustrative step-up rates: the decks say to measure them from history.
        funnel=Funnel(("E", "D", "C", "B", "A"), (0.5, 0.4, 0.5, 0.6)),
        deal_size=DealSize.fixed(200_000),
        target=10_000_000,
        period="month",
    )


def _deal_size_composition() -> Preset:
    return Preset(
        name="deal-size composition",
        description=t("preset.deal_size_composition"),
        funnel=Funnel(("candidates (25%)", "50%", "75%", "closed"), (0.25, 0.5, 0.75)),
        deal_size=SIZE_COMPOSITION,
        target=500_000,
        extra=MappingProxyType({f"deals_{i}": float(c) for i, c in enumerate(COMPOSITION_COUNTS)}),
    )


_BUILDERS = {
    "daily ratio game": _daily_ratio_game,
    "20:5:1": _twenty_five_one,
    "six-stage weekly funnel": _six_stage,
    "weighted pipeline": _weighted_pipeline,
    "target back-calculation": _target_back_calculation,
    "grade ladder": _grade_ladder,
    "deal-size composition": _deal_size_composition,
}


def names() -> list[str]:
    """Names of every preset, in the order of DOMAIN.md.

    Each name is a key for :func:`get`, the same in every language.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.presets.names()
    ['daily ratio game', '20:5:1', 'six-stage weekly funnel', 'weighted pipeline',
     'target back-calculation', 'grade ladder', 'deal-size composition']
    """
    return list(_BUILDERS)


def _key(name: str) -> str:
    return " ".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())


def get(name: str) -> Preset:
    """The preset called ``name`` (case, ``-`` and ``_`` ignored).

    >>> import funnelsim as fs
    >>> fs.presets.get("20:5:1").funnel.per_sale().tolist()   # each sale consumes 5 prospects
    [20.0, 5.0, 1.0]
    >>> fs.presets.get("nope")
    Traceback (most recent call last):
    ...
    funnelsim.FunnelsimValueError: Unknown preset 'nope'. Choose one of: daily ratio game, 20:5:1,
    six-stage weekly funnel, weighted pipeline, target back-calculation, grade ladder,
    deal-size composition.
    """
    if not isinstance(name, str):
        raise FunnelsimTypeError(
            "error.type_choice",
            name="name",
            value=short(name),
            type=type_name(name),
            choices=", ".join(names()),
        )
    wanted = _key(name)
    for key, build in _BUILDERS.items():
        if _key(key) == wanted:
            return build()
    raise FunnelsimValueError("error.unknown_preset", name=name, choices=", ".join(names()))
