"""Grouping by any column, by week or month; column names of common exports; hints.

References are hand counts written in the test, or pandas ``groupby`` on the
raw table (an independent path: the reader's codes and categoricals are not
used there).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.cli import main
from funnelsim.logs import mature_stage_table
from tests.keyed import check_error

STAGES = ["dial", "connect", "sale"]


def _events() -> pd.DataFrame:
    """Four leads; L1's region is given at dial and again (changed) at sale."""
    return pd.DataFrame(
        {
            "lead": ["L1", "L1", "L1", "L2", "L2", "L3", "L4"],
            "stage": ["dial", "connect", "sale", "dial", "connect", "dial", "dial"],
            "time": [
                "2025-03-09 23:00",  # a Sunday: the week of Monday 2025-03-03
                "2025-03-10",
                "2025-04-02",
                "2025-03-10 08:00",  # a Monday: its own week
                "2025-03-11",
                "2025-03-31",  # a Monday in March; its week holds 2025-04-01
                "2025-04-01",
            ],
            "rep": ["ann", "ann", "ann", "bob", "bob", "ann", "bob"],
            "region": ["north", None, "south", "north", "north", "south", "south"],
            "product": ["A", "A", "A", "B", "B", "A", "B"],
            "地区": ["华东", "华东", "华东", "华北", "华北", "华北", "华东"],
        }
    )


def _table(log, by):
    table = log.stage_table(by=by)
    keys = [by] if isinstance(by, str) else list(by)
    return {
        (tuple(row[k] for k in keys), row["stage"]): (row["entered"], row["passed"])
        for _, row in table.iterrows()
    }


# ----------------------------------------------------------------- any column
def test_events_group_by_any_column_with_the_last_value_in_stage_order():
    log = fs.read_log(_events(), format="events", stages=STAGES)
    assert log.group_columns == ["rep", "region", "product", "地区"]
    # L1: south (its sale row's value); L2 north; L3 and L4 south
    assert log.leads["region"].tolist() == ["south", "north", "south", "south"]
    assert _table(log, "region") == {
        (("north",), "connect"): (1, 1),
        (("north",), "sale"): (1, 0),
        (("south",), "connect"): (3, 1),
        (("south",), "sale"): (1, 1),
    }
    assert _table(log, ["rep", "product"]) == {
        (("ann", "A"), "connect"): (2, 1),
        (("ann", "A"), "sale"): (1, 1),
        (("bob", "B"), "connect"): (2, 1),
        (("bob", "B"), "sale"): (1, 0),
    }
    assert _table(log, "地区")[(("华北",), "connect")] == (2, 1)  # L2 (connected), L3
    fit = fs.fit(log, by="地区")
    assert fit.by == ("地区",) and sorted(fit.to_frame()["地区"].unique()) == ["华东", "华北"]


def test_other_columns_are_categoricals_in_natural_order():
    frame = pd.DataFrame(
        {
            "call": [True] * 6,
            "sale": [True, False, False, True, False, False],
            "age": ["41", "9", "100", "9", "41", ""],
            "job": ["b", "a", "c", "a", "b", "c"],
        }
    )
    log = fs.read_log(frame, format="leads", stages=["call", "sale"])
    assert isinstance(log.leads["age"].dtype, pd.CategoricalDtype)
    assert list(log.leads["age"].cat.categories) == ["9", "41", "100"]  # by number
    table = log.stage_table(by="age")
    assert table["age"].tolist()[:3] == ["9", "41", "100"]
    assert table["entered"].tolist() == [2, 2, 1, 1]  # the empty age is a group of its own
    assert pd.isna(table["age"].iloc[3])
    assert log.stage_table(by="job")["passed"].tolist() == [1, 1, 0]


def test_counts_keep_other_columns_per_row():
    counts = pd.DataFrame(
        {
            "week": ["2025-03-03", "2025-03-05", "2025-03-11", "2025-03-12"],
            "team": ["x", "y", "x", "y"],
            "dials": [10, 20, 30, 40],
            "sales": [1, 2, 3, 4],
        }
    )
    log = fs.read_log(
        counts, format="counts", stages=["dials", "sales"], columns={"period": "week"}
    )
    assert log.group_columns == ["period", "team"]
    assert log.stage_table(by="team")[["team", "entered", "passed"]].values.tolist() == [
        ["x", 40, 4],
        ["y", 60, 6],
    ]
    # week from the period: 3/3 and 3/5 share the week of Monday 3/3, 3/11 and 3/12 of 3/10
    by_week = log.stage_table(by="week")
    assert by_week[["week", "entered", "passed"]].values.tolist() == [
        ["2025-03-03", 30, 3],
        ["2025-03-10", 70, 7],
    ]
    text = fs.read_log(counts, format="counts", stages=["dials", "sales"])  # week is a column
    assert text.stage_table(by="week")["entered"].tolist() == [10, 20, 30, 40]


def test_a_mapped_field_is_grouped_by_its_file_name_too():
    frame = _events().rename(columns={"rep": "负责人"})
    log = fs.read_log(frame, format="events", stages=STAGES)
    assert log.columns_used["rep"] == "负责人" and "rep" in log.group_columns
    by_file = log.stage_table(by="负责人")
    by_field = log.stage_table(by="rep")
    assert list(by_file.columns) == ["负责人", "stage", "entered", "passed", "attempts"]
    assert by_file.drop(columns="负责人").equals(by_field.drop(columns="rep"))
    assert by_file["负责人"].tolist() == by_field["rep"].tolist()


def test_an_unknown_by_lists_the_columns_and_the_derived_groups():
    log = fs.read_log(_events(), format="events", stages=STAGES)
    with pytest.raises(fs.FunnelsimValueError) as info:
        log.stage_table(by="contact")
    check_error(
        info,
        "error.unknown_by",
        value="contact",
        choices="rep, region, product, 地区, week, month",
    )
    flags = pd.DataFrame({"call": [True, True], "sale": [True, False], "contact": ["a", "b"]})
    log = fs.read_log(flags, format="leads", stages=["call", "sale"])
    with pytest.raises(fs.FunnelsimValueError) as info:
        log.stage_table(by="contct")
    check_error(info, "error.unknown_by", choices="contact")  # no times: no week, month


# ----------------------------------------------------------------- week, month
def test_week_starts_on_monday_and_month_is_the_calendar_month():
    log = fs.read_log(_events(), format="events", stages=STAGES)
    # first-stage (dial) times: L1 Sun 3/9, L2 Mon 3/10, L3 Mon 3/31, L4 Tue 4/1
    assert _table(log, "week") == {
        (("2025-03-03",), "connect"): (1, 1),
        (("2025-03-03",), "sale"): (1, 1),
        (("2025-03-10",), "connect"): (1, 1),
        (("2025-03-10",), "sale"): (1, 0),
        (("2025-03-31",), "connect"): (2, 0),
        (("2025-03-31",), "sale"): (0, 0),
    }
    assert _table(log, "month") == {
        (("2025-03",), "connect"): (3, 2),
        (("2025-03",), "sale"): (2, 1),
        (("2025-04",), "connect"): (1, 0),
        (("2025-04",), "sale"): (0, 0),
    }
    assert _table(log, ["month", "rep"])[(("2025-03", "ann"), "connect")] == (2, 1)
    fit = fs.fit(log, by="week")
    assert fit.to_frame()["week"].iloc[0] == "2025-03-03"
    table, _, _ = mature_stage_table(log, "1D", by="month")
    assert table["month"].tolist() == ["2025-03", "2025-03", "2025-04", "2025-04"]


def test_week_without_times_is_an_error_and_a_week_column_wins():
    flags = pd.DataFrame({"call": [True, True], "sale": [True, False]})
    log = fs.read_log(flags, format="leads", stages=["call", "sale"])
    with pytest.raises(fs.LogError) as info:
        log.stage_table(by="week")
    check_error(info, "error.by_no_times", value="week")
    counts = pd.DataFrame({"period": ["w1", "w2"], "dials": [5, 6], "sales": [1, 1]})
    log = fs.read_log(counts, format="counts", stages=["dials", "sales"])
    with pytest.raises(fs.LogError) as info:
        log.stage_table(by="month")
    check_error(info, "error.by_no_times", value="month")
    own = _events().assign(week=["w", "w", "w", "x", "x", "x", "x"])
    log = fs.read_log(own, format="events", stages=STAGES)
    assert log.stage_table(by="week")["week"].unique().tolist() == ["w", "x"]


# ------------------------------------------------------- names of common exports
def _chinese(**rename) -> pd.DataFrame:
    frame = _events()[["lead", "stage", "time", "rep", "region"]].assign(
        source="web", amount=["1", "", "5", "", "", "", ""]
    )
    names = {"lead": "线索ID", "stage": "商机阶段", "time": "创建时间", "rep": "业务员"}
    names |= {"source": "线索来源", "amount": "成交金额", **rename}
    return frame.rename(columns=names)


def test_column_names_of_common_exports_are_recognised_and_reported():
    log = fs.read_log(_chinese(), format="events", stages=STAGES)
    assert log.columns_used == {
        "lead": "线索ID",
        "stage": "商机阶段",
        "time": "创建时间",
        "rep": "业务员",
        "source": "线索来源",
        "amount": "成交金额",
    }
    assert log.leads["amount"].iloc[0] == 5.0 and np.isnan(log.leads["amount"].iloc[1])
    assert "columns recognised: lead=线索ID, stage=商机阶段" in repr(log)
    assert log.group_columns == ["rep", "source", "region"]
    # English names without case; columns= wins over a recognised name
    frame = _events().rename(columns={"rep": "Owner", "time": "Date", "lead": "Lead"})
    log = fs.read_log(frame, format="events", stages=STAGES)
    assert log.columns_used["rep"] == "Owner" and log.columns_used["lead"] == "Lead"
    frame["负责人"] = "zed"
    log = fs.read_log(frame, format="events", stages=STAGES, columns={"rep": "负责人"})
    assert log.leads["rep"].unique().tolist() == ["zed"] and "Owner" in log.group_columns
    plain = fs.read_log(_events(), format="events", stages=STAGES)
    assert "recognised" not in repr(plain)


def test_two_candidates_are_refused_and_stage_columns_are_not_candidates():
    frame = _chinese().assign(销售="ann")
    with pytest.raises(fs.LogError) as info:
        fs.read_log(frame, format="events", stages=STAGES)
    check_error(info, "log.error.ambiguous_column", field="rep", columns="'业务员', '销售'")
    assert 'columns=dict(rep="业务员")' in str(info.value)
    out = io.StringIO()
    with fs.i18n.speaking_to("cli"), pytest.raises(fs.LogError) as info:
        fs.read_log(frame, format="events", stages=STAGES)
    assert "--column rep=业务员" in str(info.value) and "columns=" not in str(info.value)
    # leads: a stage column called 销售 is the stage's, not the rep's
    leads = pd.DataFrame({"拨打": ["yes", "yes"], "销售": ["yes", "no"], "负责人": ["a", "b"]})
    log = fs.read_log(leads, format="leads", stages=["拨打", "销售"])
    assert log.columns_used == {"rep": "负责人"} and not out.getvalue()


# ---------------------------------------------------------------- suggestions
def test_a_missing_column_suggests_the_closest_one():
    frame = _events().rename(columns={"lead": "线索编码"})
    with pytest.raises(fs.LogError) as info:
        fs.read_log(frame, format="events", stages=STAGES)
    [missing] = info.value.values["missing"]
    assert missing.reason_values["field"] == "lead" and missing.suggestion == "线索编码"
    assert 'Did you mean columns=dict(lead="线索编码")?' in str(info.value)
    frame = _events().rename(columns={"rep": "reps"})
    with pytest.raises(fs.LogError) as info:
        fs.read_log(frame, format="events", stages=STAGES, columns={"rep": "rpe"})
    assert info.value.values["missing"][0].suggestion == "reps"
    leads = pd.DataFrame({"dial": [True, True], "sales": [True, False], "zzz": [1, 2]})
    with pytest.raises(fs.LogError) as info:
        fs.read_log(leads, format="leads", stages=["dial", "sale"])
    [missing] = info.value.values["missing"]
    assert missing.reason == "log.error.missing_stage" and missing.suggestion == "sales"
    frame = _events().rename(columns={"lead": "qqq"})
    with pytest.raises(fs.LogError) as info:
        fs.read_log(frame, format="events", stages=STAGES)
    assert info.value.values["missing"][0].suggestion is None  # nothing close: no guess
    assert "Did you mean" not in str(info.value)


def test_a_stage_typo_suggests_the_nearest_stage():
    frame = _events()
    frame.loc[2, "stage"] = "sael"
    frame.loc[6, "stage"] = "voicemail"
    with pytest.raises(fs.LogError) as info:
        fs.read_log(frame, format="events", stages=STAGES)
    problems = {p.reason: p for p in info.value.values["problems"]}
    near = problems["log.reason.unknown_stage_near"]
    assert near.rows == (4,) and near.reason_values == {"value": "'sael'", "near": "'sale'"}
    far = problems["log.reason.unknown_stage"]
    assert far.rows == (8,) and far.reason_values == {"value": "'voicemail'"}
    assert "unknown stage 'sael' (did you mean 'sale'?)" in str(info.value)


# ----------------------------------------------------------------- command line
def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_the_command_line_groups_by_several_columns_week_and_a_mapped_column(tmp_path, capsys):
    path = tmp_path / "log.csv"
    _events().rename(columns={"rep": "负责人"}).to_csv(path, index=False)
    rc, out = _cli("fit", str(path), "--stages", "dial,connect,sale", "--by", "rep,product")
    assert rc == 0 and "ann" in out and "bob" in out
    assert "Columns recognised by their names: rep=负责人" in capsys.readouterr().err
    rc, out = _cli("fit", str(path), "--stages", "dial,connect,sale", "--by", "week", "--csv")
    frame = pd.read_csv(io.StringIO(out))
    assert rc == 0 and frame["week"].unique().tolist() == [
        "2025-03-03",
        "2025-03-10",
        "2025-03-31",
    ]
    other = tmp_path / "other.csv"
    _events().rename(columns={"rep": "whoever"}).to_csv(other, index=False)
    rc, out = _cli(
        "fit", str(other), "--stages", "dial,connect,sale", "--column", "rep=whoever",
        "--by", "whoever", "--csv",
    )  # fmt: skip
    assert rc == 0 and pd.read_csv(io.StringIO(out))["whoever"].unique().tolist() == ["ann", "bob"]
    capsys.readouterr()
    rc, _ = _cli("fit", str(path), "--stages", "dial,connect,sale", "--by", "contct")
    err = capsys.readouterr().err
    assert rc == 2 and "region, product" in err and len(err.strip().splitlines()) == 1
    rc, _ = _cli("report", str(path), "--stages", "dial,sale", "-o", str(tmp_path / "r.html"),
                 "--by", "rep,product")  # fmt: skip
    assert rc == 2 and "--by" in capsys.readouterr().err


def test_the_command_line_hint_names_the_option(tmp_path, capsys):
    path = tmp_path / "log.csv"
    _events().rename(columns={"rep": "负责人员"}).to_csv(path, index=False)
    rc, _ = _cli("fit", str(path), "--stages", "dial,connect,sale", "--column", "rep=负责")
    err = capsys.readouterr().err
    assert rc == 2 and "Did you mean --column rep=负责人员?" in err and "columns=dict" not in err


# ----------------------------------------------------------------- bank data
BANK_BY = ["job", "contact", "month", "poutcome", "education", "age"]


@pytest.fixture(scope="module")
def bank_sample():
    return fs.datasets.load_bank_marketing(), fs.datasets.load_bank_marketing_table()


@pytest.fixture(scope="module")
def bank_file(request):
    path = (
        request.getfixturevalue("shared_data") / "bank_marketing" / "bank-additional-full.csv.gz"
    )
    log = fs.read_log(path, format="leads", stages={"contacted": None, "subscribed": "y"})
    return log, pd.read_csv(path, sep=";")


def _check_against_pandas(log, raw, by):
    """The grouped table equals pandas' groupby of the raw file, and its totals the
    ungrouped table's."""
    keys = [by] if isinstance(by, str) else by
    table = log.stage_table(by=by)
    pooled = log.stage_table()
    assert table[["entered", "passed"]].sum().tolist() == pooled.iloc[0, 1:].tolist()
    truth = raw.groupby([raw[k].astype(str) for k in keys])["y"].agg(
        entered="size", passed=lambda s: int((s == "yes").sum())
    )
    got = table.set_index([table[k].astype(str) for k in keys])[["entered", "passed"]]
    assert got.sort_index().equals(truth.sort_index().astype(got.dtypes.to_dict()))


@pytest.mark.parametrize("by", BANK_BY)
def test_the_bank_sample_groups_by_any_of_its_columns(bank_sample, by):
    log, raw = bank_sample
    _check_against_pandas(log, raw, by)


@pytest.mark.shared
@pytest.mark.parametrize("by", ["job", "contact", "month", "poutcome", ["contact", "day_of_week"]])
def test_the_real_bank_file_groups_by_its_columns_with_the_ungrouped_totals(bank_file, by):
    log, raw = bank_file
    assert log.stage_table()[["entered", "passed"]].values.tolist() == [[41188, 4640]]
    _check_against_pandas(log, raw, by)


def test_period_segment_and_close_columns_are_recognised_by_chinese_names():
    counts = pd.DataFrame({"统计期": ["2025-03-03", "2025-03-10"], "客户类型": ["A", "B"],
                           "dials": [75, 80], "sales": [3, 2]})  # fmt: skip
    log = fs.read_log(counts, format="counts", stages=["dials", "sales"])
    assert log.columns_used["period"] == "统计期" and log.columns_used["segment"] == "客户类型"
    leads = pd.DataFrame({"call": ["2025-03-01", "2025-03-02"], "成交日期": ["2025-03-09", ""]})
    log = fs.read_log(leads, format="leads", stages={"call": "call", "sale": None})
    assert log.columns_used["close"] == "成交日期"
    assert log.reached["sale"].tolist() == [True, False]
