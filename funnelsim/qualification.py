"""Lead qualification against outcome: MAN (money, authority, need) and the intent classes.

The decks grade a lead by MAN (有预算, 有决策权, 有需求: a prospect has all three,
one missing is still workable, none means stop) and by four intent classes
(意向非常明确 / 意向明确 / 意向在明确中 / 意向不明确). :func:`qualify` reads a leads
table with these fields and the outcome (with the rules of
:func:`funnelsim.read_log`: encodings, one :class:`~funnelsim.LogError`
naming file, rows, column and fix, ``errors="drop"`` with a report) and
measures the share won in each class with its interval;
:meth:`Qualification.trend` tests whether a higher grade really converts
more (the Cochran-Armitage test for a trend in proportions), so that the
decks' claim is checked on the team's data rather than assumed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._columns import SYNONYMS, recognise_columns, resolve, suggest_column
from ._problems import Problems, coded_cells, lead_ids
from ._reader import (
    ERRORS,
    choice,
    empty_dropped,
    fields,
    kept_values,
    label_text,
    labels,
    quote,
    quoted,
    read_source,
)
from ._validate import check_choice
from .i18n import FunnelsimValueError, t
from .intervals import METHODS, check_level, interval

__all__ = [
    "INTENTS",
    "MAN_RULES",
    "Qualification",
    "TrendTest",
    "man_rule",
    "qualify",
    "trend_test",
]

#: The decks' intent classes, best first (identifiers; labels come from the catalogue).
INTENTS = ("very_clear", "clear", "becoming_clear", "unclear")
#: The kit's reading of the decks' MAN rules, best first: all three (a prospect), one
#: missing (workable), two missing (weak: the decks are silent), none (stop).
MAN_RULES = ("prospect", "workable", "weak", "stop")
_MAN = ("money", "authority", "need")
_FIELDS = ("lead", "rep", *_MAN, "intent", "won")
_BY = ("intent", "man", "rule")
#: The eight MAN combinations in a fixed order: most fields first, then money, authority, need.
_COMBINATIONS = (
    (True, True, True),
    (True, True, False),
    (True, False, True),
    (False, True, True),
    (True, False, False),
    (False, True, False),
    (False, False, True),
    (False, False, False),
)
_YES = ("yes", "y", "true", "t", "1", "1.0", "是", "有", "对", "是的", "√", "✓", "✔", "☑")
_NO = ("no", "n", "false", "f", "0", "0.0", "否", "无", "没有", "不是", "×", "✗", "✘", "☐")
_WON = ("won", "win", "closed won", "converted", "赢单", "已成交", "成交", "签约", "已签约")
_LOST = ("lost", "closed lost", "not converted", "输单", "未成交", "丢单", "未签约")
_YES_NO = {**{w: True for w in _YES}, **{w: False for w in _NO}}
_OUTCOME = {**_YES_NO, **{w: True for w in _WON}, **{w: False for w in _LOST}}
#: The words an error about a yes/no cell suggests.
_SHOWN_YES_NO = ("yes", "no", "1", "0", "是", "否", "有", "无")
_SHOWN_WON = ("yes", "no", "1", "0", "是", "否", "已成交", "未成交")
#: Intent words: identifiers, English labels and the decks' Chinese, with and without 意向.
_INTENT_WORDS = {
    "very_clear": ("very clear", "意向非常明确", "非常明确"),
    "clear": ("clear", "意向明确", "明确"),
    "becoming_clear": ("becoming clear", "意向在明确中", "在明确中", "明确中"),
    "unclear": ("unclear", "not clear", "意向不明确", "不明确"),
}
_INTENT_OF = {
    _norm: k
    for k, words in _INTENT_WORDS.items()
    for _norm in (k, k.replace("_", " "), *(w.casefold() for w in words))
}
_SHOWN_INTENTS = ("very clear", "clear", "becoming clear", "unclear", "意向非常明确", "意向明确",
                  "意向在明确中", "意向不明确")  # fmt: skip


def man_rule(money: bool, authority: bool, need: bool) -> str:
    """The decks' MAN rule for a lead: ``"prospect"``, ``"workable"``, ``"weak"`` or ``"stop"``.

    The decks: a lead with money, authority and need (M+A+N) is a prospect;
    with one of them missing it is still workable; with none, stop. They are
    silent on two missing: the kit reads it as ``"weak"``, between the two.

    Parameters
    ----------
    money, authority, need : bool
        Whether the lead has a budget, the power to decide, and a need.

    Returns
    -------
    str
        One of :data:`MAN_RULES`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.man_rule(True, True, True), fs.man_rule(True, False, True)
    ('prospect', 'workable')
    >>> fs.man_rule(False, True, False), fs.man_rule(False, False, False)
    ('weak', 'stop')
    """
    return MAN_RULES[3 - (bool(money) + bool(authority) + bool(need))]


@dataclass(frozen=True, repr=False, eq=False)
class TrendTest:
    """A test for a trend in the share won across ordered grades (Cochran-Armitage).

    Each grade gets the score 0, 1, ... from the lowest up; the statistic is
    the Cochran-Armitage chi-square (one degree of freedom, R's
    ``prop.trend.test``), ``z`` its signed root: positive when higher grades
    win more often.

    Attributes
    ----------
    by : str
        What the grades are (``"intent"``, ``"rule"``, or a caller's word).
    grades : pandas.DataFrame
        One row per grade, lowest first: ``grade``, ``score``, ``leads``,
        ``won``, ``ratio``, ``expected_won`` (under no trend: leads x the
        overall share).
    statistic : float
        The chi-square statistic (NaN when every lead or none won, or only
        one grade has leads).
    z : float
    p_value : float
        One-sided: the chance of a trend this strong if higher grades
        converted no better (small when they do convert more).
    p_two_sided : float
    small_counts : bool
        Some grade expects fewer than 5 wins or 5 losses: the normal
        approximation behind the p-values is rough (its one-sided p can be
        several times too small when a top grade has few leads); read
        :attr:`p_exact` then.
    p_exact : float
        One-sided exact conditional p-value: the chance, given the leads in
        each grade and the total won, that the wins fall on grades at least
        as high as they did (the score sum :math:`\\sum s_i r_i` at least the
        observed one; the multivariate hypergeometric distribution). Never
        below the test's level by chance under no trend, whatever the
        counts. NaN when the test is not possible, or when the counts are
        so large (more than about a hundred of the rarer outcome per grade
        over several grades) that computing it would be slow; there the
        normal approximation is good.

    Examples
    --------
    >>> import funnelsim as fs
    >>> test = fs.trend_test(["C", "B", "A"], leads=[100, 80, 40], won=[10, 16, 14])
    >>> round(test.z, 2), round(test.p_value, 4)
    (3.48, 0.0003)
    >>> print(repr(test).replace(": z", ":" + chr(10) + "z"))
    TrendTest(C < B < A: higher grades convert more:
    z = 3.48, one-sided p = 0.0003 (two-sided p = 0.0005))
    """

    by: str
    grades: pd.DataFrame
    statistic: float
    z: float
    p_value: float
    p_two_sided: float
    small_counts: bool
    p_exact: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`grades`.

        >>> import funnelsim as fs
        >>> fs.trend_test(["low", "high"], [10, 10], [2, 6]).to_frame()
          grade  score  leads  won  ratio  expected_won
        0   low      0     10    2    0.2           4.0
        1  high      1     10    6    0.6           4.0
        """
        return self.grades.copy()

    def __repr__(self) -> str:
        if not math.isfinite(self.z):
            words = t("trend.none_possible")
        elif self.z > 0:
            words = t("trend.more", z=self.z, p=_p(self.p_value), p2=_p(self.p_two_sided))
        else:
            words = t("trend.less", z=self.z, p=_p(self.p_value), p2=_p(self.p_two_sided))
        if self.small_counts and math.isfinite(self.z):  # no note on "no test"
            if math.isfinite(self.p_exact):
                words += t("trend.small_counts_exact", p=_p(self.p_exact))
            else:
                words += t("trend.small_counts")
        shown = self.grades[self.grades["leads"] > 0]["grade"]
        order = " < ".join(_class_label(self.by, g) for g in shown)
        return t("repr.trend_test", grades=order, words=words)


def _class_label(by: str, grade: object) -> str:
    """An intent class or MAN rule as the reader's language says it; other grades as given."""
    if by == "intent" and grade in INTENTS:
        return t(f"qualify.intent.{grade}")
    if by == "rule" and grade in MAN_RULES:
        return t(f"qualify.rule.{grade}")
    return str(grade)


def _p(p: float) -> str:
    return f"{p:.2g}" if p < 1e-4 else f"{p:.4f}"


def trend_test(
    grades: Sequence[object], leads: Sequence[int], won: Sequence[int], *, by: str = "grade"
) -> TrendTest:
    """Does the share won rise with the grade? The Cochran-Armitage trend test.

    Parameters
    ----------
    grades : sequence
        Grade labels, lowest first (scored 0, 1, 2, ...).
    leads, won : sequence of int
        Leads in each grade and, of those, the leads won.
    by : str
        What the grades are, kept in the result.

    Returns
    -------
    TrendTest

    Notes
    -----
    With scores :math:`s_i`, :math:`n_i` leads and :math:`r_i` won in grade
    :math:`i`, :math:`N` leads and :math:`\\bar p = R/N` won overall,
    :math:`T = \\sum s_i (r_i - n_i \\bar p)`,
    :math:`V = \\bar p (1 - \\bar p) (\\sum n_i s_i^2 - (\\sum n_i s_i)^2 / N)`,
    :math:`z = T / \\sqrt V` and the statistic :math:`z^2` (R's
    ``prop.trend.test``; statsmodels' linear-by-linear test is
    :math:`z^2 (N - 1) / N`).

    Examples
    --------
    >>> import funnelsim as fs
    >>> test = fs.trend_test([1, 2, 3, 4], [86, 93, 136, 82], [83, 90, 129, 70])
    >>> round(test.statistic, 4), round(test.p_two_sided, 6)   # R: 8.2249, 0.004132
    (8.2249, 0.004132)
    >>> test.z < 0   # here the higher scores convert less
    True

    With few leads, read the exact p-value (here Fisher's exact test, one-sided):

    >>> small = fs.trend_test(["low", "high"], [8, 9], [1, 6])
    >>> small.small_counts, round(small.p_value, 4), round(small.p_exact, 4)
    (True, 0.0118, 0.0364)
    """
    names = list(grades)
    n = _counts("leads", leads)
    r = _counts("won", won)
    if len(n) != len(names) or len(r) != len(names) or len(names) < 2:
        raise FunnelsimValueError(
            "qualify.error.trend_lengths", grades=len(names), leads=len(n), won=len(r)
        )
    if (r > n).any():
        raise FunnelsimValueError("qualify.error.trend_won", won=r.tolist(), leads=n.tolist())
    s = np.arange(len(names), dtype=float)
    total = n.sum()
    p = r.sum() / total if total else math.nan
    expected = n * p
    T = float((s * (r - expected)).sum())
    V = p * (1 - p) * ((n * s**2).sum() - (n * s).sum() ** 2 / total) if total else 0.0
    if total and V > 1e-12:
        z = T / math.sqrt(V)
        stat, p_one, p_two = z * z, float(stats.norm.sf(z)), float(2 * stats.norm.sf(abs(z)))
    else:
        z = stat = p_one = p_two = math.nan
    has = n > 0
    small = bool(total and ((expected[has] < 5).any() or ((n - expected)[has] < 5).any()))
    table = pd.DataFrame(
        {
            "grade": pd.Series(names, dtype=object),
            "score": np.arange(len(names)),
            "leads": n,
            "won": r,
            "ratio": np.where(has, r / np.maximum(n, 1), np.nan),
            "expected_won": expected,
        }
    )
    exact = _exact_upper_tail(n, r) if math.isfinite(z) else math.nan
    return TrendTest(by, table, stat, z, p_one, p_two, small, exact)


#: The most array cells :func:`_exact_upper_tail` works through (about a second).
_EXACT_WORK = 60_000_000


def _exact_upper_tail(n: np.ndarray, r: np.ndarray) -> float:
    """P(S >= observed S), S = sum_i i * r_i, given the leads n_i and the total won.

    Under no trend, given the margins, the wins are a random draw of R of the N leads:
    the counts are multivariate hypergeometric. Grade by grade, r_i given the wins left
    is hypergeometric, and a table over (wins placed, score sum) carries the
    distribution of S (counting the rarer outcome, and flipping S when that is the
    losses). NaN when the table would be too large to be quick."""
    total, won = int(n.sum()), int(r.sum())
    scores = np.arange(len(n))
    observed = int((scores * r).sum())
    if won > total - won:  # count the losses: S = sum_i i n_i - S_losses
        r, top = n - r, int((scores * n).sum())
    else:
        top = None
    k = int(r.sum())
    span = int(scores[-1]) * k + 1
    if (k + 1) * span * int(np.minimum(n, k).sum() + len(n)) > _EXACT_WORK:
        return math.nan
    dist = np.zeros((k + 1, span))
    dist[0, 0] = 1.0
    left = total
    placed = np.arange(k + 1)
    for score, size in zip(scores, n, strict=True):
        size = int(size)
        new = np.zeros_like(dist)
        weights = [  # NaN where more wins are left than leads: a state of no mass
            np.nan_to_num(stats.hypergeom.pmf(j, left, k - placed, size))
            for j in range(min(size, k) + 1)
        ]
        for j, w in enumerate(weights):
            moved = dist[: k + 1 - j] * w[: k + 1 - j, None]
            new[j:, score * j :] += moved[:, : span - score * j]
        dist, left = new, left - size
    tail = dist[k]
    if top is None:
        p = tail[observed:].sum()
    else:  # S >= observed  <=>  S_losses <= top - observed
        p = tail[: top - observed + 1].sum()
    return float(min(max(p, 0.0), 1.0))


def _counts(name: str, values: Sequence[int]) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if not (np.isfinite(arr).all() and (arr >= 0).all() and (arr == np.round(arr)).all()):
        raise FunnelsimValueError("qualify.error.trend_counts", name=name, value=arr.tolist())
    return arr.astype(np.int64)


@dataclass(frozen=True, repr=False, eq=False)
class Qualification:
    """Leads by MAN and intent against their outcome, from :func:`qualify`.

    Attributes
    ----------
    leads : pandas.DataFrame
        One row per lead: ``lead`` (the file's, or its row), any ``rep``,
        ``money``, ``authority``, ``need`` (bools) and ``rule`` (see
        :func:`man_rule`) when the file has all three, ``intent`` (one of
        :data:`INTENTS`) when it has one, and ``won`` (bool).
    name : str
    confidence_level : float
    method : str
        Of the intervals (:func:`funnelsim.proportion_ci`).
    dropped : pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> leads = pd.DataFrame({"意向": ["意向明确"] * 4 + ["意向不明确"] * 6,
    ...                       "是否成交": ["是", "是", "是", "否"] + ["是"] + ["否"] * 5})
    >>> q = fs.qualify(leads)
    >>> q.by_intent()[["intent", "leads", "won", "ratio"]]
               intent  leads  won     ratio
    0      very_clear      0    0       NaN
    1           clear      4    3  0.750000
    2  becoming_clear      0    0       NaN
    3         unclear      6    1  0.166667
    """

    leads: pd.DataFrame
    name: str = "DataFrame"
    confidence_level: float = 0.95
    method: str = "wilson"
    dropped: pd.DataFrame = field(default_factory=empty_dropped)
    #: For a field the table lacks (``intent``, ``money``...), the file's column most like
    #: it, offered when a table that needs the field is asked for.
    hints: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_man(self) -> bool:
        """Whether the leads have all three MAN fields."""
        return "rule" in self.leads

    @property
    def has_intent(self) -> bool:
        """Whether the leads have an intent class."""
        return "intent" in self.leads

    def by_man(self) -> pd.DataFrame:
        """The share won for each of the eight MAN combinations, all of them, best first.

        Returns
        -------
        pandas.DataFrame
            ``combination`` (``"MAN"``, ``"MA-"``... a dash where a field is
            missing), ``money``, ``authority``, ``need``, ``rule``, ``leads``,
            ``won``, ``ratio``, ``low``, ``high``; a combination without
            leads shows 0 leads and NaN.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> leads = pd.DataFrame({"money": ["y", "y", "n"], "authority": ["y", "y", "y"],
        ...                       "need": ["y", "n", "y"], "won": [1, 0, 0]})
        >>> fs.qualify(leads).by_man()[["combination", "rule", "leads", "won"]].head(4)
          combination      rule  leads  won
        0         MAN  prospect      1    1
        1         MA-  workable      1    0
        2         M-N  workable      0    0
        3         -AN  workable      1    0
        """
        self._need("man")
        leads = self.leads
        key = leads["money"] * 4 + leads["authority"] * 2 + leads["need"] * 1
        rows = []
        for m, a, n in _COMBINATIONS:
            part = leads["won"].to_numpy()[key.to_numpy() == m * 4 + a * 2 + n]
            code = ("M" if m else "-") + ("A" if a else "-") + ("N" if n else "-")
            rows.append((code, m, a, n, man_rule(m, a, n), part.size, int(part.sum())))
        table = pd.DataFrame(
            rows, columns=["combination", "money", "authority", "need", "rule", "leads", "won"]
        )
        return self._with_ratios(table)

    def by_intent(self) -> pd.DataFrame:
        """The share won for each intent class, best first (all four, 0 leads where none).

        Returns
        -------
        pandas.DataFrame
            ``intent``, ``leads``, ``won``, ``ratio``, ``low``, ``high``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> leads = pd.DataFrame({"intent": ["very clear", "clear", "unclear", "unclear"],
        ...                       "won": ["yes", "yes", "no", "yes"]})
        >>> fs.qualify(leads).by_intent()[["intent", "leads", "won"]]
                   intent  leads  won
        0      very_clear      1    1
        1           clear      1    1
        2  becoming_clear      0    0
        3         unclear      2    1
        """
        self._need("intent")
        return self._classes("intent", INTENTS)

    def by_rule(self) -> pd.DataFrame:
        """The share won for each of the decks' MAN rules (see :func:`man_rule`), best first.

        Returns
        -------
        pandas.DataFrame
            ``rule``, ``leads``, ``won``, ``ratio``, ``low``, ``high``.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> leads = pd.DataFrame({"money": ["是", "是", "否"], "authority": ["是", "否", "否"],
        ...                       "need": ["是", "是", "否"], "won": ["是", "否", "否"]})
        >>> fs.qualify(leads).by_rule()[["rule", "leads", "won"]]
               rule  leads  won
        0  prospect      1    1
        1  workable      1    0
        2      weak      0    0
        3      stop      1    0
        """
        self._need("man")
        return self._classes("rule", MAN_RULES)

    def trend(self, by: str = "intent") -> TrendTest:
        """Does a higher grade convert more? The Cochran-Armitage test over ``by``'s grades.

        Parameters
        ----------
        by : {"intent", "man", "rule"}
            The intent classes, or the MAN rules (``"man"`` and ``"rule"``
            alike: how many of money, authority and need a lead has, 0 to 3),
            scored from the lowest grade (0) up.

        Returns
        -------
        TrendTest
            Its one-sided ``p_value`` is small when higher grades convert more.

        Examples
        --------
        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> leads = pd.DataFrame({"intent": ["clear"] * 40 + ["unclear"] * 60,
        ...                       "won": [1] * 20 + [0] * 20 + [1] * 12 + [0] * 48})
        >>> test = fs.qualify(leads).trend()
        >>> test.grades[["grade", "leads", "won"]]
                    grade  leads  won
        0         unclear     60   12
        1  becoming_clear      0    0
        2           clear     40   20
        3      very_clear      0    0
        >>> round(test.p_value, 4)
        0.0008
        >>> repr(test)[:54]
        'TrendTest(unclear < clear: higher grades convert more:'
        """
        by = check_choice("by", by, _BY)
        table = self.by_intent() if by == "intent" else self.by_rule()
        table = table.iloc[::-1]  # lowest first
        return trend_test(
            table.iloc[:, 0].tolist(),
            table["leads"],
            table["won"],
            by="intent" if by == "intent" else "rule",
        )

    def to_frame(self) -> pd.DataFrame:
        """Every class the leads have, in one tidy table: ``by`` (``"intent"``, ``"man"``,
        ``"rule"``), ``class``, ``leads``, ``won``, ``ratio``, ``low``, ``high``.

        >>> import pandas as pd
        >>> import funnelsim as fs
        >>> leads = pd.DataFrame({"intent": ["clear", "unclear"], "won": ["yes", "no"]})
        >>> fs.qualify(leads).to_frame()[["by", "class", "leads", "won"]]
               by           class  leads  won
        0  intent      very_clear      0    0
        1  intent           clear      1    1
        2  intent  becoming_clear      0    0
        3  intent         unclear      1    0
        """
        parts = []
        if self.has_intent:
            parts.append(self.by_intent().rename(columns={"intent": "class"}).assign(by="intent"))
        if self.has_man:
            man = self.by_man().drop(columns=["money", "authority", "need", "rule"])
            parts.append(man.rename(columns={"combination": "class"}).assign(by="man"))
            parts.append(self.by_rule().rename(columns={"rule": "class"}).assign(by="rule"))
        out = pd.concat(parts, ignore_index=True)
        return out[["by", "class", "leads", "won", "ratio", "low", "high"]]

    def __repr__(self) -> str:
        n = len(self.leads)
        won = int(self.leads["won"].sum())
        if self.has_intent:
            by, table = "intent", self.by_intent()
        else:
            by, table = "rule", self.by_rule()
        labels_ = [_class_label(by, k) for k in table.iloc[:, 0]]
        shown = [
            t("qualify.class_ratio", label=label, ratio=r, leads=k)
            for label, r, k in zip(labels_, table["ratio"], table["leads"], strict=True)
            if k > 0
        ]
        text = t(
            "repr.qualification",
            name=repr(self.name),
            leads=n,
            won=won,
            ratio=won / n if n else math.nan,
            classes=t("qualify.separator").join(shown),
        )
        guess = [f"{k}={c!r}" for k, c in self.hints.items()]
        return text + (t("repr.qualification.hints", guess=", ".join(guess)) if guess else "")

    # ------------------------------------------------------------- helpers
    def _need(self, what: str) -> None:
        if what == "man" and not self.has_man:
            guess = [f"{k}={c!r}" for k, c in self.hints.items() if k in _MAN]
            if guess:
                raise FunnelsimValueError(
                    "qualify.error.no_man_hint", name=self.name, guess=", ".join(guess)
                )
            raise FunnelsimValueError("qualify.error.no_man", name=self.name)
        if what == "intent" and not self.has_intent:
            if "intent" in self.hints:
                raise FunnelsimValueError(
                    "qualify.error.no_intent_hint", name=self.name, column=self.hints["intent"]
                )
            raise FunnelsimValueError("qualify.error.no_intent", name=self.name)

    def _classes(self, column: str, order: Sequence[str]) -> pd.DataFrame:
        grouped = self.leads.groupby(column, observed=False)["won"]
        leads = grouped.size().reindex(order, fill_value=0)
        won = grouped.sum().reindex(order, fill_value=0)
        table = pd.DataFrame(
            {column: list(order), "leads": leads.to_numpy(), "won": won.to_numpy().astype(int)}
        )
        return self._with_ratios(table)

    def _with_ratios(self, table: pd.DataFrame) -> pd.DataFrame:
        n = table["leads"].to_numpy(dtype=np.int64)
        k = table["won"].to_numpy(dtype=np.int64)
        ok = n > 0
        ratio, low, high = (np.full(len(n), np.nan) for _ in range(3))
        ratio[ok] = k[ok] / n[ok]
        low[ok], high[ok] = interval(
            k[ok].astype(float), n[ok].astype(float), self.confidence_level, self.method
        )
        return table.assign(leads=n, won=k, ratio=ratio, low=low, high=high)


def qualify(
    leads: str | os.PathLike | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    confidence_level: float = 0.95,
    method: str = "wilson",
    encoding: str | None = None,
    errors: str = "raise",
) -> Qualification:
    """Read a leads table with MAN and intent fields and their outcome.

    Parameters
    ----------
    leads : path or pandas.DataFrame
        One row per lead with ``won`` (the outcome) and the MAN trio
        (``money``, ``authority``, ``need``), an ``intent``, or both;
        optionally ``lead`` (an id: each on one row) and ``rep``. Columns
        are also found by the names exports give them: 有预算 / 预算 /
        budget, 有决策权 / 决策人 / decision maker, 有需求 / 需求, 意向 /
        意向等级, 是否成交 / 成交 / converted...
        MAN cells are yes or no (yes/no, y/n, true/false, 1/0, 是/否, 有/无,
        √/×); intents are one of :data:`INTENTS`, their English labels
        ("very clear", "becoming clear"...) or the decks' Chinese
        (意向非常明确, 意向明确, 意向在明确中, 意向不明确). ``won`` is yes or no
        (also won/lost, 已成交/未成交); a column of dates or amounts (a
        close date, a deal amount) counts a filled cell as won and an empty
        one as not won; a column of numbers with any other than 0 and 1 is
        amounts, where above 0 is won and 0 or empty is not won (a negative
        amount is a problem); a column with yes/no words, or of 0 and 1 only,
        is read as yes/no. With
        ``intent`` and only part of the MAN trio, the MAN columns are not read.
    columns : mapping, optional
        The file's column for ``lead``, ``rep``, ``money``, ``authority``,
        ``need``, ``intent``, ``won``.
    confidence_level, method
        Of the intervals (:func:`funnelsim.proportion_ci`).
    encoding, errors
        As in :func:`funnelsim.read_pipeline`: ``errors="drop"`` leaves out
        the rows with a problem and lists them in ``dropped``.

    Returns
    -------
    Qualification

    Examples
    --------
    >>> import pandas as pd
    >>> import funnelsim as fs
    >>> leads = pd.DataFrame({
    ...     "客户编号": ["L1", "L2", "L3", "L4"], "有预算": ["是", "是", "否", "否"],
    ...     "有决策权": ["是", "否", "是", "否"], "有需求": ["是", "是", "是", "否"],
    ...     "意向": ["意向非常明确", "意向明确", "意向在明确中", "意向不明确"],
    ...     "是否成交": ["是", "否", "是", "否"]})
    >>> q = fs.qualify(leads)
    >>> q.by_rule()[["rule", "leads", "won"]]
           rule  leads  won
    0  prospect      1    1
    1  workable      2    1
    2      weak      0    0
    3      stop      1    0
    >>> try:
    ...     fs.qualify(leads.assign(有预算=["是", "maybe", "否", "否"]))
    ... except fs.LogError as err:
    ...     print(err.key, err.values["problems"][0].rows, err.values["problems"][0].column)
    pipeline.error.title (3,) 有预算
    """
    mode = choice("errors", errors, ERRORS)
    level = check_level(confidence_level)
    method = check_choice("method", method, METHODS)
    given = fields(columns, _FIELDS, "leads table")
    src = read_source(leads, encoding=encoding)
    given = recognise_columns(src, _FIELDS, given)
    cols = resolve(
        src, _FIELDS, given, ("won",), one_of=(*_MAN, "intent"),
        either_reason="qualify.error.missing_either",
    )  # fmt: skip
    if "intent" not in cols:  # then the MAN trio, all of it
        cols = resolve(src, _FIELDS, given, ("won", *_MAN))
    frame = src.frame
    problems = Problems(src)
    out: dict[str, np.ndarray] = {}
    man = all(k in cols for k in _MAN)
    for key in _MAN if man else ():
        out[key] = _read_yes_no(problems, frame, cols[key])
    if "intent" in cols:
        out["intent"] = _read_intents(problems, frame, cols["intent"])
    out["won"] = _read_won(problems, frame, cols["won"])
    if "lead" in cols:
        lead_code, lead_names = lead_ids(problems, frame, cols["lead"])
        seen = lead_code >= 0
        twice = seen & pd.Series(lead_code).duplicated(keep=False).to_numpy()
        problems.add(
            twice,
            cols["lead"],
            "qualify.reason.lead_twice",
            quoted(label_text(lead_code, lead_names)),
            "qualify.fix.lead_twice",
        )
    keep = ~problems.mask()
    problems.finish(mode, keep, what=t("qualify.what"))
    rows = np.flatnonzero(keep)
    if "lead" in cols:
        lead = lead_names[lead_code[rows]]
    else:
        lead = src.rownum[rows].astype(str).astype(object)
    table = pd.DataFrame({"lead": lead})
    for key, values in kept_values(frame, cols, ("rep",), rows).items():
        table[key] = values
    for key in _MAN if man else ():
        table[key] = out[key][rows] == 1
    if man:
        count = table["money"].astype(int) + table["authority"] + table["need"]
        table["rule"] = pd.Categorical.from_codes(3 - count.to_numpy(), categories=MAN_RULES)
    if "intent" in cols:
        table["intent"] = pd.Categorical.from_codes(out["intent"][rows], categories=INTENTS)
    table["won"] = out["won"][rows] == 1
    spare = [c for c in map(str, frame.columns) if c not in cols.values()]
    hints = {}
    for key in ("intent", *_MAN):  # a field not found: the spare column most like it
        guess = None if key in cols else suggest_column([key, *SYNONYMS.get(key, ())], spare)
        if guess is not None:
            hints[key] = guess
            spare.remove(guess)
    return Qualification(table, src.name, level, method, problems.dropped(), hints)


def _words(found: np.ndarray, known: Mapping[str, object]) -> list[object]:
    return [known.get(str(w).strip().casefold(), None) for w in found]


def _read_yes_no(problems: Problems, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Each row's yes (1) or no (0); -1 when empty or not a yes/no word: a problem."""

    def code_of(word: object) -> int:
        value = _YES_NO.get(str(word).strip().casefold())
        return -1 if value is None else int(value)

    return coded_cells(
        problems, frame, column, code_of,
        "qualify.reason.empty", "qualify.reason.not_yes_no", "qualify.fix.yes_no",
        choices=", ".join(map(quote, _SHOWN_YES_NO)),
    )  # fmt: skip


def _read_intents(problems: Problems, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Each row's intent as its position in :data:`INTENTS` (-1 when empty or unknown)."""
    index = {k: i for i, k in enumerate(INTENTS)}

    def code_of(word: object) -> int:
        norm = str(word).strip().casefold().replace("_", " ").replace("-", " ")
        return index.get(_INTENT_OF.get(" ".join(norm.split()), ""), -1)

    return coded_cells(
        problems, frame, column, code_of,
        "qualify.reason.empty", "qualify.reason.unknown_intent", "qualify.fix.intent",
        choices=", ".join(map(quote, _SHOWN_INTENTS)),
    )  # fmt: skip


def _read_won(problems: Problems, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Each row's outcome, 1 (won) or 0; -1 for a problem.

    A column with yes/no words reads them, an empty cell being a problem; a
    column without any (dates, amounts) counts a filled cell as won and an
    empty one as not won; a column of numbers other than only 0 and 1 is
    amounts: above 0 won, 0 or empty not won, below 0 a problem."""
    codes, found = labels(frame[column])
    known = np.array([-1 if v is None else int(v) for v in _words(found, _OUTCOME)], np.int64)
    words = ", ".join(map(quote, _SHOWN_WON))
    text = pd.Series(found, dtype=object).astype(str).str.replace(r"[,\s]", "", regex=True)
    amount = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    if found.size and np.isfinite(amount).all() and not np.isin(amount, (0.0, 1.0)).all():
        known = np.where(amount < 0, -1, (amount > 0).astype(np.int64))  # amounts, 0 lost
        value = np.zeros(len(codes), dtype=np.int64)  # an empty amount: not won
        value[codes >= 0] = known[codes[codes >= 0]]
        problems.add(
            value < 0,
            column,
            "qualify.reason.not_won",
            quoted(label_text(codes, found)),
            "qualify.fix.won",
            choices=words,
        )
        return value
    if found.size and (known < 0).all():  # dates or amounts
        return (codes >= 0).astype(np.int64)
    value = np.full(len(codes), -1, dtype=np.int64)
    value[codes >= 0] = known[codes[codes >= 0]]
    problems.add(codes < 0, column, "qualify.reason.empty", None, "qualify.fix.won", choices=words)
    problems.add(
        (codes >= 0) & (value < 0),
        column,
        "qualify.reason.not_won",
        quoted(label_text(codes, found)),
        "qualify.fix.won",
        choices=words,
    )
    return value
