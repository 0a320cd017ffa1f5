"""Reading deals with their chances of closing: shared by pipelines and calibration.

A snapshot of open deals (:func:`funnelsim.read_pipeline`) and a history of
decided deals (:func:`funnelsim.calibration`) name each deal's chance the
same ways: from its stage label ("25%", "0.5", "90"), from a mapping of
stages to chances, or from a probability column. The functions here read
those, one convention per column, with the problems listed as the log
reader lists them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from ._columns import (
    resolve,
)
from ._reader import (
    LogError,
    Source,
    as_list,
    fields,
    label_text,
    labels,
    quote,
    quoted,
    read_source,
    stage_names,
)
from ._validate import short, type_name
from .i18n import FunnelsimTypeError

PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


#: The decks' stages and their chance of closing (DOMAIN.md §1).
DEFAULT_PROBABILITIES = {"25%": 0.25, "50%": 0.5, "75%": 0.75, "90%": 0.9}


def percents(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Chances of closing from a column's labels, read with one convention per column.

    "25%" (or "25 %") is always 0.25. Bare numbers are fractions ("0.25") when
    none of the column's bare numbers is above 1, and percentages ("25") when
    one is; a fraction in a percentage column ("0.5" beside "75") is
    ambiguous. Returns the values (NaN where a label is not a chance, or is
    ambiguous) and the mask of the ambiguous labels.

    >>> values, mixed = percents(["25%", "0.5", "1"])
    >>> values.tolist(), mixed.tolist()
    ([0.25, 0.5, 1.0], [False, False, False])
    >>> values, mixed = percents(["25", "75", "0.5", "130"])
    >>> values.round(2).tolist(), mixed.tolist()
    ([0.25, 0.75, nan, nan], [False, False, True, False])
    """
    matches = [PERCENT.match(str(x)) for x in labels]
    numbers = np.array([float(m.group(1)) if m else math.nan for m in matches], dtype=float)
    marked = np.array([bool(m and m.group(2)) for m in matches], dtype=bool)
    bare = ~marked & np.isfinite(numbers)
    percent_column = bool((bare & (numbers > 1)).any())
    values = np.where(marked | (bare & percent_column), numbers / 100, numbers)
    mixed = bare & percent_column & (numbers > 0) & (numbers < 1)
    values[mixed | ~((values >= 0) & (values <= 1))] = math.nan
    return values, mixed


def stage_probabilities(stages: object, probabilities: object) -> dict[str, float] | None:
    """The mapping from stage label to probability, or None: read from the labels."""
    if probabilities is None:
        if stages is None:
            return None
        names = stage_names(stages)
        values, mixed = percents(names)
        if mixed.any():
            raise LogError("pipeline.error.stages_mixed", value=quote(names[int(mixed.argmax())]))
        out = dict(zip(names, values.tolist(), strict=True))
        bad = [n for n, p in out.items() if math.isnan(p)]
        if bad:
            raise LogError("pipeline.error.stage_not_percent", value=quote(bad[0]))
        return out
    if isinstance(probabilities, Mapping):
        pairs = list(probabilities.items())
    else:
        if stages is None:
            raise FunnelsimTypeError(
                "pipeline.error.probabilities_type",
                name="probabilities",
                value=short(probabilities),
                type=type_name(probabilities),
            )
        values = as_list(probabilities, "probabilities")
        names = stage_names(stages)
        if len(values) != len(names):
            raise LogError(
                "pipeline.error.probabilities_length", n_stages=len(names), n_values=len(values)
            )
        pairs = list(zip(names, values, strict=True))
    out = {}
    for name, value in pairs:
        if not isinstance(name, str) or not name.strip():
            raise LogError("log.error.stage_name", value=repr(name))
        try:
            p = float(value)
        except (TypeError, ValueError):
            p = math.nan
        if not 0.0 <= p <= 1.0:
            raise LogError(
                "pipeline.error.probability_value", stage=quote(name), value=repr(value)
            )
        out[name.strip()] = p
    if stages is not None:
        missing = [n for n in stage_names(stages) if n not in out]
        if missing:
            raise LogError("pipeline.error.stage_no_probability", value=quote(missing[0]))
    return out


def flag_mixed(problems, column: str, codes, mixed: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Flag the rows whose label is a fraction in a column of percentages (see
    :func:`percents`; ``codes`` index the column's labels, -1 for empty cells)."""
    has = codes >= 0
    ambiguous = np.zeros(len(codes), dtype=bool)
    ambiguous[has] = mixed[codes[has]]
    problems.add(ambiguous, column, "pipeline.reason.mixed", quoted(text), "pipeline.fix.mixed")
    return ambiguous


def read_probabilities(problems, frame, cols, mapping) -> tuple[np.ndarray, np.ndarray]:
    """Each row's stated probability, and its stage label (or the probability's text)."""
    if mapping is not None or "probability" not in cols:
        return stage_probabilities_of_rows(problems, frame, cols["stage"], mapping)
    column = cols["probability"]
    codes, names = labels(frame[column])
    values, mixed = percents(names)
    has = codes >= 0
    prob = np.full(len(frame), np.nan)
    prob[has] = values[codes[has]]
    text = label_text(codes, names)
    problems.add(~has, column, "pipeline.reason.no_probability", None, "pipeline.fix.probability")
    ambiguous = flag_mixed(problems, column, codes, mixed, text)
    problems.add(
        has & np.isnan(prob) & ~ambiguous,
        column,
        "pipeline.reason.bad_probability",
        quoted(text),
        "pipeline.fix.probability",
    )
    if "stage" in cols:
        label = label_text(*labels(frame[cols["stage"]]))
    else:
        label = np.full(len(frame), "", dtype=object)
    empty = label == ""
    label[empty] = [f"{100 * p:g}%" if np.isfinite(p) else "" for p in prob[empty]]
    return prob, label


def stage_probabilities_of_rows(problems, frame, column, mapping) -> tuple[np.ndarray, np.ndarray]:
    """Each row's probability from its stage label (read as a percentage without
    ``mapping``), and the label."""
    codes, names = labels(frame[column])
    has = codes >= 0
    label = label_text(codes, names)
    if mapping is None:
        values, mixed = percents(names)
    else:
        values = np.array([mapping.get(x, np.nan) for x in names], dtype=float)
        mixed = np.zeros(len(names), dtype=bool)
    prob = np.full(len(frame), np.nan)
    prob[has] = values[codes[has]]
    if mapping is None:  # the fix says how to write a stage as a percentage
        defaults = ", ".join(DEFAULT_PROBABILITIES)
        problems.add(
            ~has,
            column,
            "log.reason.no_stage",
            None,
            "pipeline.fix.stage_percent",
            defaults=defaults,
        )
        problems.add(
            has & np.isnan(prob) & ~flag_mixed(problems, column, codes, mixed, label),
            column,
            "pipeline.reason.unknown_stage",
            quoted(label),
            "pipeline.fix.stage_percent",
            defaults=defaults,
        )
    else:  # the fix names the stages of probabilities=
        choices = ", ".join(map(quote, mapping))
        problems.add(
            ~has, column, "log.reason.no_stage", None, "pipeline.fix.stage_known", choices=choices
        )
        problems.add(
            has & np.isnan(prob),
            column,
            "pipeline.reason.unknown_stage",
            quoted(label),
            "pipeline.fix.stage_known",
            choices=choices,
        )
    return prob, label


def open_deals(
    source, columns, allowed, what, needed, stages, probabilities, encoding, sheet=None
) -> tuple[Source, dict[str, float] | None, dict[str, str]]:
    """Arguments checked, the file read and its columns found: the source, the stage
    probabilities (None: from the stage labels or a probability column) and the columns.
    ``needed`` is the column that every file must have besides the chances."""
    given = fields(columns, allowed, what)
    mapping = stage_probabilities(stages, probabilities)
    src = read_source(source, encoding=encoding, sheet=sheet)
    if mapping is None:
        cols = resolve(src, allowed, given, (needed,), one_of=("stage", "probability"))
    else:
        cols = resolve(src, allowed, given, (needed, "stage"))
    return src, mapping, cols
