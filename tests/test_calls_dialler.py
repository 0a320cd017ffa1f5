"""Call records as diallers export them (issue #15 follow-up): Chinese and English headers,
the outcome words of real exports and ``outcomes=``, the messages for a record that lacks
columns (its own catalogue keys), ``funnelsim kpi`` and ``report --calls-column``.

Numbers are checked against counts written out by hand in each test.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.calls import OUTCOMES
from funnelsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def _export(time: str, rep: str, lead: str, duration: str, outcome: str) -> pd.DataFrame:
    """Four calls under the given headers: Li makes three (one connected, 65 s), Wang one
    (connected, 40 s)."""
    return pd.DataFrame(
        {
            time: ["2025-03-03 09:10", "2025-03-03 09:12", "2025-03-03 10:00", "2025-03-04 11:00"],
            rep: ["Li", "Li", "Wang", "Li"],
            lead: ["13800000001", "13800000002", "13800000003", "13800000001"],
            duration: [0, 65, 40, 0],
            outcome: ["关机", "已接通", "已接通", "无法接通"],
        }
    )


HEADERS = [
    ("开始时间", "坐席工号", "被叫号码", "通话时长(秒)", "呼叫状态"),
    ("呼叫开始时间", "工号", "客户电话", "通话时长（秒）", "通话结果"),
    ("拨打时间", "坐席名称", "号码", "通话时长(s)", "呼叫结果"),
    ("通话开始时间", "座席", "手机号", "时长", "接通状态"),
    ("开始时间", "坐席工号", "被叫号码", "通话秒数", "状态"),
    ("开始时间", "坐席工号", "被叫号码", "计费时长", "呼叫结果"),
    ("Start Time", "Agent", "Callee", "Duration (s)", "Call Status"),
    ("start time", "agent id", "phone", "talk time", "disposition"),
    ("Start time", "Agent ID", "Phone", "duration (s)", "Result"),
]


@pytest.mark.parametrize("headers", HEADERS, ids=lambda h: "/".join(h))
def test_dialler_headers_are_recognised_from_an_excel_file(tmp_path, headers):
    path = tmp_path / "export.xlsx"
    _export(*headers).to_excel(path, index=False)
    calls = fs.read_calls(path)
    fields = ("time", "rep", "lead", "duration", "outcome")
    assert calls.columns_used == dict(zip(fields, headers, strict=True))
    kpis = calls.kpis(period="all").set_index("rep")
    # by hand: Li 3 dials, 1 connect, 65 s, 2 leads; Wang 1 dial, 1 connect, 40 s
    assert kpis.loc["Li", ["dials", "connects", "talk_time", "leads_touched"]].tolist() == [
        3, 1, 65.0, 2,
    ]  # fmt: skip
    assert kpis.loc["Wang", ["dials", "connects", "talk_time"]].tolist() == [1, 1, 40.0]
    assert calls.table["outcome"].tolist() == ["no_answer", "connected", "connected", "no_answer"]


def test_a_header_in_minutes_is_not_read_as_seconds():
    frame = _export("开始时间", "坐席工号", "被叫号码", "通话时长(分钟)", "呼叫状态")
    calls = fs.read_calls(frame)
    assert "duration" not in calls.columns_used  # outcome alone: connects, no talk time
    assert calls.table["duration"].isna().all()


def test_call_synonyms_do_not_change_how_an_events_log_is_read():
    """号码 and 开始时间 are call-record names: an events log with a phone number and a start
    time beside its lead id and time reads as before (no two candidates for a field)."""
    events = pd.DataFrame(
        {
            "客户编号": ["L1", "L1", "L2"],
            "手机号": ["138", "138", "139"],
            "阶段": ["拨打", "接通", "拨打"],
            "时间": ["2025-03-03", "2025-03-04", "2025-03-03"],
            "开始时间": ["2025-03-01"] * 3,
            "状态": ["open", "open", "open"],
        }
    )
    log = fs.read_log(events, format="events", stages=["拨打", "接通"])
    assert log.columns_used["lead"] == "客户编号" and log.columns_used["time"] == "时间"
    assert log.reached.sum().tolist() == [2, 1]


NEW_WORDS = [
    ("关机", "no_answer"), ("已关机", "no_answer"), ("无法接通", "no_answer"),
    ("不在服务区", "no_answer"), ("无人接听", "no_answer"), ("呼损", "no_answer"),
    ("voicemail", "no_answer"), ("No-Answer", "no_answer"), ("no_answer", "no_answer"),
    ("failed", "no_answer"), ("用户忙", "busy"), ("正在通话中", "busy"), ("挂断", "refused"),
    ("Hung up", "refused"), ("hung-up", "refused"), ("停机", "invalid"), ("欠费", "invalid"),
    ("黑名单", "invalid"), ("号码错误", "invalid"), ("disconnected", "invalid"),
    ("接通", "connected"), ("ＣＯＮＮＥＣＴＥＤ", "connected"),
]  # fmt: skip


@pytest.mark.parametrize(("word", "outcome"), NEW_WORDS)
def test_outcome_words_of_real_exports_have_their_class(word, outcome):
    frame = pd.DataFrame({"time": ["2025-03-03 09:00"], "outcome": [word]})
    assert fs.read_calls(frame).table["outcome"].tolist() == [outcome]


def test_outcomes_maps_unknown_words_and_overrides_the_kits():
    frame = pd.DataFrame({"time": ["2025-03-03 09:00"] * 3, "outcome": ["转人工", "关机", "接通"]})
    with pytest.raises(fs.LogError) as info:
        fs.read_calls(frame)
    (problem,) = info.value.values["problems"]
    assert (problem.reason, problem.rows, problem.fix) == (
        "calls.reason.unknown_outcome", (2,), "calls.fix.unknown_outcome",
    )  # fmt: skip
    assert problem.fix_values["word"] == "转人工"
    assert problem.fix_values["classes"] == ", ".join(OUTCOMES)
    calls = fs.read_calls(frame, outcomes={"转人工": "connected", "关机": "invalid"})
    assert calls.table["outcome"].tolist() == ["connected", "invalid", "connected"]
    assert calls.table["connected"].tolist() == [True, False, True]
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.read_calls(frame, outcomes={"转人工": "answered"})
    assert info.value.key == "calls.error.outcome_class"
    assert info.value.values["value"] == "'answered'"
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.read_calls(frame, outcomes=["转人工"])
    assert info.value.key == "calls.error.outcomes"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unknown_outcome_fix_tells_how_to_map_the_word(lang):
    frame = pd.DataFrame({"time": ["2025-03-03 09:00"], "outcome": ["转人工"]})
    with fs.language(lang), pytest.raises(fs.LogError) as info:
        fs.read_calls(frame)
    assert "outcomes=" in str(info.value) and "'转人工'" in str(info.value)
    with fs.language(lang), fs.i18n.speaking_to("cli"):
        text = fs.t("calls.fix.unknown_outcome", choices="x", classes="y", word="转人工")
    assert "--outcome 转人工=no_answer" in text
    with fs.language(lang), fs.i18n.speaking_to("cli-calls"):
        text = fs.t("calls.fix.unknown_outcome", choices="x", classes="y", word="转人工")
        hint = fs.t("log.hint.column", field="time", column="开始时刻")
        drop = fs.t("pipeline.error.drop_hint")  # no @cli-calls variant: the @cli one
        fix = fs.t("log.fix.far_time@cli")
    assert "--calls-outcome 转人工=no_answer" in text and "--calls-column time=开始时刻" in hint
    assert "funnelsim kpi CALLS --errors drop" in drop
    with fs.language(lang), fs.i18n.speaking_to("cli-calls"):
        assert fs.t("log.fix.far_time") == fix  # falls back to the @cli variant or the key


def _missing(err) -> list:
    return [(m.reason, m.columns, m.suggestion) for m in err.value.values["missing"]]


def test_a_record_without_its_columns_gets_its_own_keys_and_every_guess():
    frame = pd.DataFrame(
        {"开始时刻": ["2025-03-03 09:00"], "坐席工号": ["Li"], "通话时长秒钟": [5],
         "呼叫结局": ["接通"]}
    )  # fmt: skip
    with pytest.raises(fs.LogError) as err:
        fs.read_calls(frame)
    assert err.value.key == "log.error.missing_columns"
    assert _missing(err) == [
        ("calls.error.missing_field", ("time",), "开始时刻"),
        ("calls.error.missing_either", ("duration", "outcome"), "通话时长秒钟"),
    ]
    either = err.value.values["missing"][1].reason_values
    assert either["hints"] == [("duration", "通话时长秒钟"), ("outcome", "呼叫结局")]
    text = str(err.value)
    assert 'columns=dict(time="开始时刻")' in text and 'columns=dict(outcome="呼叫结局")' in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_call_columns_speak_of_calls_in_both_languages(lang):
    frame = pd.DataFrame({"when": ["2025-03-03"], "rep": ["Li"]})
    with fs.language(lang), pytest.raises(fs.LogError) as err:
        fs.read_calls(frame)
    text = str(err.value)
    assert (
        "deal" not in text
        and "单子" not in text
        and " nor " not in text.replace("neither a duration column ('duration') nor", "")
    )
    with fs.language(lang):
        assert fs.t("calls.field.time") in text
    if lang == "zh":
        assert "每行的 time" not in text and "通话时长" in text and "呼叫结果" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_qualify_has_its_own_missing_columns_line(lang):
    leads = pd.DataFrame({"lead": ["L1"], "won": ["是"]})
    with fs.language(lang), pytest.raises(fs.LogError) as err:
        fs.qualify(leads)
    (missing,) = err.value.values["missing"]
    assert missing.reason == "qualify.error.missing_either"
    assert missing.columns == ("money", "authority", "need", "intent")
    text = str(err.value)
    assert " nor " not in text and "probability" not in text and "'intent'" in text


def test_counts_of_calls_per_interval_are_not_a_record():
    frame = pd.DataFrame(
        {"rownames": [1, 2], "DateTime": ["2003-03-03T07:00:00Z", "2003-03-03T07:05:00Z"],
         "Calls": [111, 113]}
    )  # fmt: skip
    with pytest.raises(fs.LogError) as err:
        fs.read_calls(frame)
    assert err.value.key == "log.error.missing_columns" and err.value.values["counts"] == "Calls"
    missing = err.value.values["missing"]  # the counts are suggested for no field
    assert [m.suggestion for m in missing] == ["DateTime", None]
    assert missing[1].reason_values["hints"] == [] and "=Calls" not in str(err.value)
    assert fs.t("calls.hint.counts", name="DataFrame", column="'Calls'") in str(err.value)
    with fs.language("zh"), pytest.raises(fs.LogError) as err:
        fs.read_calls(frame)
    assert "每通电话一行" in str(err.value)
    # a record with a count-like column but one row per call reads as before
    calls = fs.read_calls(frame.assign(duration=[0, 30]), columns={"time": "DateTime"})
    assert calls.table["connected"].tolist() == [False, True]


@pytest.mark.shared
def test_the_real_bank_call_volume_is_refused_as_counts(shared_data):
    path = shared_data / "bank_call_volume" / "bank_calls.csv"
    with pytest.raises(fs.LogError) as err:
        fs.read_calls(path)
    assert err.value.values["counts"] == "Calls"


def test_kpis_period_all_is_one_row_per_group():
    calls = fs.read_calls(_export("开始时间", "坐席工号", "被叫号码", "通话时长(秒)", "呼叫状态"))
    every = calls.kpis(period="all")
    assert "period" not in every and every["rep"].tolist() == ["Li", "Wang"]
    assert every["dials"].tolist() == [3, 1]
    pd.testing.assert_frame_equal(every, calls.kpis(period=None))
    team = calls.kpis(by=(), period="all")
    assert team[["dials", "connects"]].values.tolist() == [[4, 2]]
    with pytest.raises(fs.LogError) as info:
        calls.kpis(period="month")
    assert info.value.key == "error.choice"


# ------------------------------------------------------------------ command line
def test_kpi_says_which_columns_it_recognised_and_maps_outcomes(tmp_path, capsys):
    path = tmp_path / "export.csv"
    frame = _export("开始时间", "坐席工号", "被叫号码", "通话时长（秒）", "呼叫状态")
    frame.assign(呼叫状态=["转人工", "已接通", "已接通", "无法接通"]).to_csv(path, index=False)
    rc, _ = call("kpi", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and "--outcome 转人工=no_answer" in err
    rc, out = call("kpi", str(path), "--outcome", "转人工=no_answer", "--csv", "--period", "all")
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "time=开始时间" in err and "rep=坐席工号" in err and "duration=通话时长（秒）" in err
    kpis = pd.read_csv(io.StringIO(out))
    assert kpis["dials"].tolist() == [3, 1] and kpis["connects"].tolist() == [1, 1]
    rc, _ = call("kpi", str(path), "--outcome", "转人工", "--quiet")
    assert rc == 2 and "--outcome" in capsys.readouterr().err
    rc, _ = call("kpi", str(path), "--outcome", "转人工=answered")
    assert rc == 2 and "no_answer" in capsys.readouterr().err


def test_kpi_errors_drop_writes_dropped_file(tmp_path, capsys):
    path = tmp_path / "export.csv"
    frame = _export("time", "rep", "lead", "duration", "outcome")
    frame.assign(outcome=["转人工", "已接通", "已接通", "无法接通"]).to_csv(path, index=False)
    dropped = tmp_path / "dropped.csv"
    rc, out = call("kpi", str(path), "--errors", "drop", "--dropped", str(dropped), "--csv")
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(dropped)
    assert table["row"].tolist() == [2] and table["column"].tolist() == ["outcome"]
    assert pd.read_csv(io.StringIO(out))["dials"].sum() == 3
    before = path.read_bytes()
    rc, _ = call("kpi", str(path), "--errors", "drop", "--dropped", str(path))
    assert rc == 2 and path.read_bytes() == before


def test_report_calls_file_has_its_own_column_and_outcome_options(tmp_path, capsys):
    path = tmp_path / "export.csv"
    rng = np.random.default_rng(4)
    n = 60
    pd.DataFrame(
        {
            "呼叫时刻": (pd.Timestamp("2025-03-03 09:00")
                     + pd.to_timedelta(rng.integers(0, 20 * 24, n), "h")).astype(str),
            "坐席工号": rng.choice(["A01", "A02"], n),
            "呼叫结局": rng.choice(["转人工", "关机", "接通"], n),
        }
    ).to_csv(path, index=False)  # fmt: skip
    events = ROOT / "data" / "sample_counts.csv"
    out = tmp_path / "r.html"
    args = ["report", str(events), "--format", "counts", "--stages",
            "dials,connects,meetings,sales", "--column", "period=week", "-o", str(out),
            "--reps", "200", "--seed", "3", "--calls-file", str(path)]  # fmt: skip
    rc, _ = call(*args)
    err = capsys.readouterr().err
    assert rc == 2 and "--calls-column time=呼叫时刻" in err and "--column time" not in err
    assert "--calls-column outcome=呼叫结局" in err
    rc, _ = call(*args, "--calls-column", "time=呼叫时刻", "--calls-column", "outcome=呼叫结局")
    err = capsys.readouterr().err
    assert rc == 2 and "--calls-outcome 转人工=no_answer" in err and "--outcome " not in err
    rc, _ = call(*args, "--calls-column", "time=呼叫时刻", "--calls-column", "outcome=呼叫结局",
                 "--calls-outcome", "转人工=connected")  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "rep=坐席工号" in err and "--calls-column FIELD=NAME" in err
    assert fs.t("report.activity") in out.read_text(encoding="utf-8")
