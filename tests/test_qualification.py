"""Lead qualification against outcome (issue 15): reading MAN and intent fields in English
and Chinese, the eight MAN combinations, the rules and intent classes with their intervals,
and the Cochran-Armitage trend test against R, statsmodels and a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import raises
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim import plotting

INTENTS_ZH = ["意向非常明确", "意向明确", "意向在明确中", "意向不明确"]


def _sample_like(n: int = 400, seed: int = 7) -> pd.DataFrame:
    """A leads table with the sample file's Chinese headers and values."""
    rng = np.random.default_rng(seed)
    man = rng.random((n, 3)) < [0.6, 0.5, 0.7]
    intent = rng.integers(0, 4, n)
    p = 0.05 + 0.08 * man.sum(axis=1) + 0.05 * (3 - intent)
    won = rng.random(n) < p
    yes_no = np.array(["否", "是"])
    return pd.DataFrame(
        {
            "客户编号": [f"L{i:04d}" for i in range(n)],
            "销售": rng.choice(["张伟", "李娜"], n),
            "有预算": yes_no[man[:, 0].astype(int)],
            "有决策权": yes_no[man[:, 1].astype(int)],
            "有需求": yes_no[man[:, 2].astype(int)],
            "意向": np.array(INTENTS_ZH)[intent],
            "是否成交": yes_no[won.astype(int)],
        }
    )


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return _sample_like()


# ------------------------------------------------------------------ reading
def test_the_samples_chinese_headers_are_recognised(sample):
    q = fs.qualify(sample)
    assert q.has_man and q.has_intent
    assert q.leads.columns.tolist() == [
        "lead", "rep", "money", "authority", "need", "rule", "intent", "won"
    ]  # fmt: skip
    assert q.leads["lead"].tolist() == sample["客户编号"].tolist()
    assert q.leads["money"].tolist() == (sample["有预算"] == "是").tolist()
    assert q.leads["won"].tolist() == (sample["是否成交"] == "是").tolist()
    codes = {w: k for w, k in zip(INTENTS_ZH, fs.qualification.INTENTS, strict=True)}
    assert q.leads["intent"].astype(str).tolist() == sample["意向"].map(codes).tolist()
    assert len(q.dropped) == 0


def test_english_export_names_are_recognised():
    frame = pd.DataFrame(
        {
            "Budget": ["yes", "no"],
            "Decision maker": ["y", "n"],
            "Needs": ["true", "false"],
            "Intent level": ["very clear", "unclear"],
            "Converted": [1, 0],
        }
    )
    q = fs.qualify(frame)
    assert q.leads[["money", "authority", "need", "won"]].to_numpy().tolist() == [
        [True, True, True, True],
        [False, False, False, False],
    ]
    assert q.leads["intent"].astype(str).tolist() == ["very_clear", "unclear"]


def test_columns_name_the_fields_and_other_names_are_synonyms():
    frame = pd.DataFrame(
        {"预算": ["有", "无"], "决策人": ["是", "否"], "需求": ["有", "有"], "结果X": ["是", "否"]}
    )
    q = fs.qualify(frame, columns={"won": "结果X"})
    assert q.by_rule()["leads"].tolist() == [1, 0, 1, 0]


@pytest.mark.parametrize(
    ("yes", "no"),
    [("yes", "no"), ("Y", "N"), ("TRUE", "False"), ("1", "0"), ("是", "否"), ("有", "无"),
     ("√", "×"), (" yes ", "no "), (True, False), (1, 0)],
)  # fmt: skip
def test_yes_and_no_in_english_and_chinese(yes, no):
    frame = pd.DataFrame(
        {"money": [yes, no, yes], "authority": [yes] * 3, "need": [no] * 3, "won": [yes, no, no]}
    )
    q = fs.qualify(frame)
    assert q.leads["money"].tolist() == [True, False, True]
    assert q.leads["won"].tolist() == [True, False, False]
    assert q.leads["rule"].astype(str).tolist() == ["workable", "weak", "workable"]


@pytest.mark.parametrize(
    "words",
    [
        ["very_clear", "clear", "becoming_clear", "unclear"],
        ["Very clear", "clear", "becoming clear", "UNCLEAR"],
        ["very-clear", "Clear", "Becoming Clear", "not clear"],
        INTENTS_ZH,
        ["非常明确", "明确", "在明确中", "不明确"],
    ],
)
def test_intent_labels_in_english_and_chinese_and_identifiers(words):
    q = fs.qualify(pd.DataFrame({"intent": words, "won": ["yes", "no", "no", "no"]}))
    assert q.leads["intent"].astype(str).tolist() == list(fs.qualification.INTENTS)


def test_won_as_dates_or_amounts_counts_a_filled_cell():
    dates = pd.DataFrame({"intent": ["clear"] * 3, "成交日期": ["2025-03-01", "", "2025-04-02"]})
    q = fs.qualify(dates, columns={"won": "成交日期"})
    assert q.leads["won"].tolist() == [True, False, True]
    amounts = pd.DataFrame({"intent": ["clear"] * 3, "amount": [12000.0, np.nan, 800.0]})
    assert fs.qualify(amounts, columns={"won": "amount"}).leads["won"].tolist() == [
        True,
        False,
        True,
    ]


def test_won_as_amounts_reads_a_zero_amount_as_not_won():
    """CRM exports write 0 for a lead that brought nothing: an amount column with zeros is
    amounts (above 0 won; 0 or empty not won), not a yes/no column whose amounts are bad."""
    amounts = pd.DataFrame(
        {"intent": ["clear"] * 5, "成交金额": [12000.0, 0.0, np.nan, 800.0, 1.0]}
    )
    q = fs.qualify(amounts, columns={"won": "成交金额"})
    assert q.leads["won"].tolist() == [True, False, False, True, True]
    text = pd.DataFrame({"intent": ["clear"] * 4, "amount": ["12,000", "0", "", "800"]})
    assert fs.qualify(text, columns={"won": "amount"}).leads["won"].tolist() == [
        True,
        False,
        False,
        True,
    ]
    refund = amounts.assign(成交金额=[12000.0, 0.0, np.nan, -800.0, 1.0])
    with pytest.raises(fs.LogError) as err:
        fs.qualify(refund, columns={"won": "成交金额"})
    problem = err.value.values["problems"][0]
    assert problem.rows == (5,) and problem.column == "成交金额"
    ones = pd.DataFrame({"intent": ["clear"] * 3, "won": [1, 0, np.nan]})  # yes/no: empty is bad
    with pytest.raises(fs.LogError):
        fs.qualify(ones)


def test_a_file_is_read_with_its_encoding_and_left_unchanged(tmp_path, sample):
    path = tmp_path / "leads.csv"
    sample.head(50).to_csv(path, index=False, encoding="gb18030")
    before = path.read_bytes()
    q = fs.qualify(path)
    assert path.read_bytes() == before
    assert q.name == "leads.csv" and len(q.leads) == 50
    assert q.leads["rep"].tolist() == sample["销售"].head(50).tolist()


# ------------------------------------------------------------------ errors
def _problem(err):
    (problem,) = err.value.values["problems"]
    return problem


def test_an_unknown_yes_no_names_file_row_column_and_the_accepted_words(sample):
    bad = sample.head(6).copy()
    bad.loc[3, "有决策权"] = "maybe"
    with pytest.raises(fs.LogError) as err:
        fs.qualify(bad)
    assert err.value.key == "pipeline.error.title"
    problem = _problem(err)
    assert problem.column == "有决策权" and problem.rows == (5,)
    assert problem.reason == "qualify.reason.not_yes_no"
    assert problem.reason_values == {"value": "'maybe'"}
    assert problem.fix == "qualify.fix.yes_no"
    assert "'是'" in problem.fix_values["choices"] and "'yes'" in problem.fix_values["choices"]
    assert "Traceback" not in str(err.value) and "maybe" in str(err.value)


def test_an_unknown_intent_lists_the_classes(sample):
    bad = sample.head(4).assign(意向=["意向明确", "很想买", "意向明确", "意向不明确"])
    with pytest.raises(fs.LogError) as err:
        fs.qualify(bad)
    problem = _problem(err)
    assert (problem.column, problem.rows, problem.reason) == (
        "意向",
        (3,),
        "qualify.reason.unknown_intent",
    )
    assert "'意向在明确中'" in problem.fix_values["choices"]
    with fs.language("zh"), pytest.raises(fs.LogError) as err:
        fs.qualify(bad)
    assert "未知的意向类别 '很想买'" in str(err.value)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("有预算", "", "qualify.reason.empty"),
        ("是否成交", "", "qualify.reason.empty"),
        ("是否成交", "maybe", "qualify.reason.not_won"),
        ("意向", None, "qualify.reason.empty"),
        ("客户编号", "L0000", "qualify.reason.lead_twice"),
    ],
)
def test_each_bad_cell_is_a_problem_and_drop_lists_it(sample, column, value, reason):
    bad = sample.head(5).copy()
    bad.loc[2, column] = value
    with pytest.raises(fs.LogError) as err:
        fs.qualify(bad)
    problem = _problem(err)
    assert problem.column == column and problem.reason == reason
    rows = (2, 4) if reason == "qualify.reason.lead_twice" else (4,)
    assert problem.rows == rows
    q = fs.qualify(bad, errors="drop")
    assert q.dropped["row"].tolist() == list(rows)
    assert len(q.leads) == 5 - len(rows)


def test_missing_columns_are_one_error_listing_them():
    with pytest.raises(fs.LogError) as err:
        fs.qualify(pd.DataFrame({"intent": ["clear"], "结果": ["是"]}))
    assert err.value.key == "log.error.missing_columns"
    assert [m.columns for m in err.value.values["missing"]] == [("won",)]
    with pytest.raises(fs.LogError) as err:  # part of MAN and no intent: the rest of MAN
        fs.qualify(pd.DataFrame({"有预算": ["是"], "是否成交": ["是"]}))
    assert [m.columns for m in err.value.values["missing"]] == [("authority",), ("need",)]


def test_tables_need_their_fields():
    intent_only = fs.qualify(pd.DataFrame({"intent": ["clear"], "won": ["yes"]}))
    with pytest.raises(fs.FunnelsimValueError) as err:
        intent_only.by_man()
    assert err.value.key == "qualify.error.no_man"
    man_only = fs.qualify(
        pd.DataFrame({"money": ["y"], "authority": ["y"], "need": ["y"], "won": ["y"]})
    )
    with pytest.raises(fs.FunnelsimValueError) as err:
        man_only.by_intent()
    assert err.value.key == "qualify.error.no_intent"
    assert man_only.trend("man").grades["grade"].tolist() == [
        "stop",
        "weak",
        "workable",
        "prospect",
    ]


# ------------------------------------------------------------------ tables
def test_the_eight_combinations_against_a_pandas_groupby(sample):
    q = fs.qualify(sample)
    table = q.by_man()
    assert len(table) == 8 and table["combination"].is_unique
    assert table["combination"].tolist()[0] == "MAN" and table["combination"].tolist()[-1] == "---"
    flags = sample[["有预算", "有决策权", "有需求"]] == "是"
    won = sample["是否成交"] == "是"
    expected = won.groupby([flags["有预算"], flags["有决策权"], flags["有需求"]]).agg(
        ["size", "sum"]
    )
    for _, row in table.iterrows():
        key = (row["money"], row["authority"], row["need"])
        assert (row["leads"], row["won"]) == tuple(expected.loc[key])
        assert row["rule"] == fs.man_rule(*key)
        assert row["ratio"] == pytest.approx(expected.loc[key, "sum"] / expected.loc[key, "size"])
    assert table["leads"].sum() == len(sample)


def test_an_empty_combination_shows_zero_leads_and_nan():
    frame = pd.DataFrame(
        {
            "money": ["是", "否"],
            "authority": ["是", "否"],
            "need": ["是", "否"],
            "won": ["是", "否"],
        }
    )
    table = fs.qualify(frame).by_man()
    assert table["leads"].tolist() == [1, 0, 0, 0, 0, 0, 0, 1]
    empty = table.iloc[1:7]
    assert empty[["ratio", "low", "high"]].isna().all().all()
    assert (empty["won"] == 0).all()


@pytest.mark.parametrize(
    ("method", "statsmodels_method"),
    [("wilson", "wilson"), ("jeffreys", "jeffreys"), ("clopper-pearson", "beta")],
)
@pytest.mark.parametrize("by", ["by_man", "by_intent", "by_rule"])
def test_intervals_match_statsmodels(sample, method, statsmodels_method, by):
    q = fs.qualify(sample, method=method, confidence_level=0.9)
    table = getattr(q, by)()
    table = table[table["leads"] > 0]
    low, high = proportion_confint(
        table["won"], table["leads"], alpha=0.1, method=statsmodels_method
    )
    np.testing.assert_allclose(table["low"], low, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(table["high"], high, rtol=1e-9, atol=1e-12)


def test_rules_and_intents_add_up_and_follow_the_rule(sample):
    q = fs.qualify(sample)
    rule = q.by_rule()
    assert rule["rule"].tolist() == ["prospect", "workable", "weak", "stop"]
    man = q.by_man().groupby("rule", sort=False)[["leads", "won"]].sum()
    assert man.loc[rule["rule"]].to_numpy().tolist() == rule[["leads", "won"]].to_numpy().tolist()
    intent = q.by_intent()
    counts = sample["意向"].value_counts().reindex(INTENTS_ZH).fillna(0).astype(int)
    assert intent["leads"].tolist() == counts.tolist()
    assert fs.man_rule(True, True, True) == "prospect"
    assert [fs.man_rule(*c) for c in [(1, 1, 0), (1, 0, 1), (0, 1, 1)]] == ["workable"] * 3
    assert [fs.man_rule(*c) for c in [(1, 0, 0), (0, 0, 1)]] == ["weak"] * 2
    assert fs.man_rule(False, False, False) == "stop"
    frame = q.to_frame()
    assert frame["by"].value_counts().to_dict() == {"man": 8, "intent": 4, "rule": 4}


# ------------------------------------------------------------------ trend test
def test_trend_matches_rs_prop_trend_test():
    """R 4.x, ?prop.trend.test:
    > smokers  <- c( 83, 90, 129, 70 ); patients <- c( 86, 93, 136, 82 )
    > prop.trend.test(smokers, patients)
    X-squared = 8.2249, df = 1, p-value = 0.004132
    """
    test = fs.trend_test([1, 2, 3, 4], [86, 93, 136, 82], [83, 90, 129, 70])
    assert test.statistic == pytest.approx(8.2249, abs=5e-5)
    assert test.p_two_sided == pytest.approx(0.004132, abs=5e-7)
    assert test.z < 0 and test.p_value == pytest.approx(1 - test.p_two_sided / 2)
    assert "higher grades convert less" in repr(test)


def _statsmodels_linear_by_linear(leads, won):
    leads, won = np.asarray(leads), np.asarray(won)
    table = np.column_stack([leads - won, won])
    scores = np.arange(len(leads), dtype=float)
    return Table(table, shift_zeros=False).test_ordinal_association(
        row_scores=scores, col_scores=np.array([0, 1.0])
    )


@pytest.mark.parametrize(
    ("leads", "won"),
    [
        ([86, 93, 136, 82], [83, 90, 129, 70]),
        ([100, 80, 40], [10, 16, 14]),
        ([30, 0, 25], [3, 0, 9]),
    ],
)
def test_trend_is_statsmodels_linear_by_linear_times_n_over_n_minus_1(leads, won):
    """statsmodels' linear-by-linear chi-square is M^2 = (N - 1) r^2 (its ``zscore``
    squared) and the Cochran-Armitage one N r^2 (r: the correlation of score and outcome over
    the N leads, since V = p(1-p) sum n_i (s_i - s_bar)^2 uses N where the sample variance of
    the outcome uses N - 1): they differ by N / (N - 1)."""
    test = fs.trend_test(range(len(leads)), leads, won)
    ref = _statsmodels_linear_by_linear(leads, won)
    n = sum(leads)
    assert test.statistic == pytest.approx(ref.zscore**2 * n / (n - 1), rel=1e-10)
    assert test.z == pytest.approx(ref.zscore * math.sqrt(n / (n - 1)), rel=1e-10)


def test_trend_of_the_intents_runs_lowest_first_and_says_which_way(sample):
    q = fs.qualify(sample)
    test = q.trend("intent")
    assert test.grades["grade"].tolist() == ["unclear", "becoming_clear", "clear", "very_clear"]
    assert test.grades["score"].tolist() == [0, 1, 2, 3]
    assert test.z > 0 and test.p_value < 0.01  # the sample's wins rise with intent
    assert "higher grades convert more" in repr(test) and "意向" not in repr(test)
    with fs.language("zh"):
        text = repr(test)
    assert "等级越高，转化率越高" in text and "意向不明确 < 意向在明确中" in text
    rule = q.trend("rule")
    assert rule.grades["grade"].tolist() == ["stop", "weak", "workable", "prospect"]
    assert rule.z > 0 and rule.p_value < 0.01
    assert q.trend("man").statistic == rule.statistic


def test_small_counts_are_noted_and_a_degenerate_table_has_no_test():
    small = fs.trend_test(["low", "high"], [8, 9], [1, 6])
    assert small.small_counts and "few leads" in repr(small)
    assert not fs.trend_test(["low", "high"], [100, 100], [20, 40]).small_counts
    none = fs.trend_test(["low", "high"], [10, 10], [0, 0])
    assert math.isnan(none.statistic) and math.isnan(none.p_value)
    assert "no test" in repr(none)


@pytest.mark.parametrize(
    ("grades", "leads", "won", "key"),
    [
        (["a", "b"], [10], [1, 2], "qualify.error.trend_lengths"),
        (["a"], [10], [1], "qualify.error.trend_lengths"),
        (["a", "b"], [10, 5], [1, 6], "qualify.error.trend_won"),
        (["a", "b"], [10, 5.5], [1, 2], "qualify.error.trend_counts"),
        (["a", "b"], [10, -5], [1, 2], "qualify.error.trend_counts"),
    ],
)
def test_bad_counts_are_errors(grades, leads, won, key):
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.trend_test(grades, leads, won)
    assert err.value.key == key


def test_bad_arguments_are_errors(sample):
    q = fs.qualify(sample.head(20))
    with pytest.raises(fs.FunnelsimValueError):
        q.trend("grade")
    with pytest.raises(fs.FunnelsimValueError):
        fs.qualify(sample, errors="skip")
    with pytest.raises(fs.FunnelsimValueError):
        fs.qualify(sample, method="normal")


@pytest.mark.shared
def test_bank_previous_contacts_trend_against_statsmodels_and_pandas(shared_data):
    """The bank log has no MAN, but its ``previous`` (contacts before this campaign) is an
    ordered grade: 0, 1, 2, 3+."""
    raw = pd.read_csv(shared_data / "bank_marketing" / "bank-additional-full.csv.gz", sep=";")
    score = raw["previous"].clip(upper=3)
    won = (raw["y"] == "yes").astype(int)
    counts = won.groupby(score).agg(["size", "sum"])
    test = fs.trend_test(["0", "1", "2", "3+"], counts["size"], counts["sum"], by="previous")
    n = len(raw)
    r = score.corr(won)  # Pearson over the 41,188 contacts: CA = N r^2
    assert test.statistic == pytest.approx(n * r**2, rel=1e-9)
    ref = _statsmodels_linear_by_linear(counts["size"], counts["sum"])
    assert test.statistic == pytest.approx(ref.zscore**2 * n / (n - 1), rel=1e-10)
    assert test.z > 30 and test.p_value < 1e-100  # earlier contacts convert far more
    assert counts["size"].sum() == n and not test.small_counts


# ------------------------------------------------------------------ printing and plots
def test_repr_in_english_and_chinese(sample):
    q = fs.qualify(sample)
    text = repr(q)
    won = (sample["是否成交"] == "是").sum()
    assert text.startswith(f"Qualification('DataFrame': 400 leads, {won} won")
    assert "very clear" in text
    with fs.language("zh"):
        zh = repr(q)
    assert "条线索" in zh and "意向非常明确" in zh and "very clear" not in zh


@pytest.mark.parametrize(
    ("by", "first"),
    [
        ("intent", "意向非常明确"),
        ("rule", "目标客户（预算、决策权、需求齐备）"),
        ("man", "有预算、有决策权、有需求"),
    ],
)
def test_plot_labels_the_classes_in_chinese(sample, by, first):
    q = fs.qualify(sample)
    table = q.to_frame().query("by == @by")
    with fs.language("zh"), plotting.style():
        ax = plotting.plot_qualification(q, by=by)
    ticks = [label.get_text() for label in ax.get_yticklabels()]
    assert ticks[0] == f"{first}（{table['leads'].iloc[0]}）"
    assert len(ticks) == len(table)
    assert "成交率" in ax.get_title() and ax.get_xlabel() == "成交率（括号内为线索数）"
    (bars,) = [c for c in ax.containers]
    x = bars.lines[0].get_xdata()
    np.testing.assert_allclose(x, table["ratio"].dropna())


def test_plot_keeps_an_empty_class_label_without_a_dot():
    q = fs.qualify(pd.DataFrame({"intent": ["clear"] * 3, "won": ["yes", "no", "no"]}))
    ax = plotting.plot_qualification(q)
    assert len(ax.get_yticklabels()) == 4
    assert len(ax.containers[0].lines[0].get_xdata()) == 1
    with pytest.raises(fs.FunnelsimValueError):
        plotting.plot_qualification(q, by="grade")


# ------------------------------------------------------- the exact trend p-value
def _enumerated_upper_tail(leads, won):
    """P(sum_i i r_i >= observed) over every table with the same margins, each with its
    multivariate hypergeometric probability prod C(n_i, r_i) / C(N, R)."""
    import itertools

    total, observed = sum(won), sum(i * r for i, r in enumerate(won))
    tail = 0
    for table in itertools.product(*[range(n + 1) for n in leads]):
        if sum(table) == total and sum(i * r for i, r in enumerate(table)) >= observed:
            tail += math.prod(math.comb(n, r) for n, r in zip(leads, table, strict=True))
    return tail / math.comb(sum(leads), total)


@pytest.mark.parametrize(
    ("leads", "won"),
    [([8, 9], [1, 6]), ([100, 3], [4, 2]), ([20, 15], [14, 3]), ([12, 12], [12, 11])],
)
def test_exact_p_of_two_grades_is_fishers_one_sided(leads, won):
    from scipy.stats import fisher_exact

    test = fs.trend_test(["low", "high"], leads, won)
    table = [[won[1], leads[1] - won[1]], [won[0], leads[0] - won[0]]]
    ref = fisher_exact(table, alternative="greater").pvalue
    assert test.p_exact == pytest.approx(ref, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("leads", "won"),
    [
        ([10, 8, 3], [1, 2, 2]),
        ([12, 6, 4, 2], [1, 1, 2, 2]),
        ([5, 0, 7], [4, 0, 1]),  # an empty grade keeps its score
        ([6, 6, 6], [5, 4, 6]),  # most leads won: counted through the losses
        ([9, 7, 5, 3], [2, 3, 1, 0]),  # higher grades convert less: p near 1
    ],
)
def test_exact_p_matches_a_full_enumeration_of_the_tables(leads, won):
    test = fs.trend_test(range(len(leads)), leads, won)
    assert test.p_exact == pytest.approx(_enumerated_upper_tail(leads, won), rel=1e-9)


def test_exact_p_keeps_its_level_where_the_normal_one_does_not():
    """A pyramid of 100 low-grade leads and 3 high ones, each converting 5 % (no trend):
    the chance of p <= 0.05, summed exactly over every outcome (Binomial(100, .05) x
    Binomial(3, .05)), is over twice the level for the normal p-value; the exact
    conditional test stays under it, as it must."""
    from scipy.stats import binom

    size_normal = size_exact = 0.0
    for low in range(0, 21):  # P(more than 20 of 100 won) < 1e-8
        for high in range(4):
            chance = binom.pmf(low, 100, 0.05) * binom.pmf(high, 3, 0.05)
            test = fs.trend_test(["low", "high"], [100, 3], [low, high])
            size_normal += chance * (test.p_value <= 0.05)
            size_exact += chance * (test.p_exact <= 0.05)
    assert size_normal > 0.1
    assert size_exact <= 0.05


def test_exact_p_is_read_when_counts_are_small_and_skipped_when_huge():
    small = fs.trend_test(["low", "high"], [8, 9], [1, 6])
    assert "exact one-sided p = 0.0364" in repr(small)
    with fs.language("zh"):
        assert "精确单侧 p = 0.0364" in repr(small)
    big = fs.trend_test(["d", "c", "b", "a"], [5000] * 4, [2000, 2100, 2200, 2300])
    assert math.isnan(big.p_exact) and not big.small_counts and "exact" not in repr(big)
    none = fs.trend_test(["low", "high"], [10, 10], [0, 0])
    assert math.isnan(none.p_exact) and "few leads" not in repr(none)  # no p-value to doubt


def test_a_field_under_a_name_not_recognised_gets_a_did_you_mean():
    """意向等极 (a typo of 意向等级) is not read as the intent, so the MAN tables work and the
    intent table's error names the column to map; the same for a MAN column."""
    leads = fs.datasets.load_qualified_leads()
    q = fs.qualify(leads.rename(columns={"意向": "意向等极"}))
    assert q.has_man and not q.has_intent and q.hints == {"intent": "意向等极"}
    assert "intent='意向等极'" in repr(q)  # said when the table is read, not only later
    raises(fs.FunnelsimValueError, "qualify.error.no_intent_hint", q.by_intent,
           column="意向等极")  # fmt: skip
    q = fs.qualify(leads.rename(columns={"有预算": "预算情况"}))
    assert q.has_intent and not q.has_man
    raises(fs.FunnelsimValueError, "qualify.error.no_man_hint", q.by_man,
           guess="money='预算情况'")  # fmt: skip
    assert fs.qualify(leads).hints == {}  # every field found: nothing to guess
    plain = fs.qualify(leads.drop(columns="意向"))
    raises(fs.FunnelsimValueError, "qualify.error.no_intent", plain.by_intent)
