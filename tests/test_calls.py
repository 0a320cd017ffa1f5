"""Call records (issue #15, call activity): reading, the KPI table, hour x weekday, the heatmap.

References are written in the tests: pandas ``groupby`` for the KPI tables,
``statsmodels.stats.proportion.proportion_confint(method="wilson")`` for the
intervals, and hand-written seconds for the durations.
"""

from __future__ import annotations

import datetime

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim.calls import OUTCOMES, parse_durations

START = pd.Timestamp("2025-03-03")  # a Monday


# ------------------------------------------------------------------ durations
@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("125", 125.0),
        ("125.5", 125.5),
        (" 42 ", 42.0),
        ("2:05", 125.0),
        ("00:00", 0.0),
        ("59:59", 3599.0),
        ("75:10", 4510.0),  # minutes of a call over an hour, written mm:ss
        ("0:02:05", 125.0),
        ("1:00:00", 3600.0),
        ("01:02:03", 3723.0),
        ("3分25秒", 205.0),
        ("3分钟", 180.0),
        ("90秒", 90.0),
        ("1小时2分", 3720.0),
        ("1小时", 3600.0),
        ("125s", 125.0),
        ("2 min 5 s", 125.0),
        ("1h", 3600.0),
        ("2M5S", 125.0),
        ("", np.nan),
        ("abc", np.nan),
        ("-3", np.nan),
        ("1:75", np.nan),  # 75 seconds is not a clock
        ("1:60:00", np.nan),
        ("3分25", np.nan),
        ("分秒", np.nan),
    ],
)
def test_durations_are_read_in_every_way_a_record_writes_them(text, seconds):
    got = parse_durations([text])[0]
    if np.isnan(seconds):
        assert np.isnan(got)
    else:
        assert got == seconds


def test_durations_stored_as_times_or_timedeltas_are_read():
    cells = pd.Series([datetime.time(0, 3, 25), datetime.time(1, 2, 3), None], dtype=object)
    np.testing.assert_array_equal(parse_durations(cells), [205.0, 3723.0, np.nan])
    deltas = pd.Series(pd.to_timedelta(["00:03:25", None, "-00:00:05"]))
    np.testing.assert_array_equal(parse_durations(deltas), [205.0, np.nan, np.nan])


def test_numeric_durations_are_seconds_and_negative_ones_are_nan():
    got = parse_durations(pd.Series([0, 12.5, -1, np.nan]))
    np.testing.assert_array_equal(got, [0.0, 12.5, np.nan, np.nan])


# ------------------------------------------------------------------ outcomes
@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("connected", "connected"),
        ("Answered", "connected"),
        ("接通", "connected"),
        ("已接通", "connected"),
        ("no answer", "no_answer"),
        ("未接", "no_answer"),
        ("无人接听", "no_answer"),
        ("BUSY", "busy"),
        ("占线", "busy"),
        ("忙", "busy"),
        ("refused", "refused"),
        ("拒接", "refused"),
        ("挂断", "refused"),
        ("invalid", "invalid"),
        ("空号", "invalid"),
        ("停机", "invalid"),
        ("错号", "invalid"),
    ],
)
def test_outcome_words_become_identifiers(word, outcome):
    calls = fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00"], "outcome": [word]}))
    assert calls.table["outcome"].tolist() == [outcome]
    assert calls.table["connected"].tolist() == [outcome == "connected"]
    assert outcome in OUTCOMES


def test_outcome_labels_follow_the_language_and_identifiers_do_not():
    for k in OUTCOMES:
        assert fs.t(f"calls.outcome.{k}")
    with fs.language("zh"):
        assert fs.t("calls.outcome.connected") == "接通"
        calls = fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00"], "outcome": ["接通"]}))
    assert calls.table["outcome"].tolist() == ["connected"]


def test_without_outcomes_a_call_with_a_duration_is_connected():
    calls = fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00"] * 3, "duration": [0, 1, 30]}))
    assert calls.table["connected"].tolist() == [False, True, True]
    assert calls.table["outcome"].isna().all()
    assert calls.reps == ["team"]


# ------------------------------------------------------------------ problems
def _record() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": ["2025-03-03 09:00", "", "2025-13-03", "2025-03-03 10:00", "2025-03-03 11:00"],
            "rep": ["Li", "Li", "Li", "", "Wang"],
            "lead": ["L1", "L2", "L3", "L4", "L5"],
            "duration": ["1:05", "0", "0", "10", "ten"],
            "outcome": ["接通", "未接", "未接", "接通", "maybe"],
        }
    )


def test_every_bad_cell_is_one_problem_naming_its_row_and_column():
    with pytest.raises(fs.LogError) as info:
        fs.read_calls(_record())
    err = info.value
    assert err.key == "pipeline.error.title"
    assert err.values["what"] == fs.t("pipeline.what.calls")
    found = {(p.reason, p.column, p.rows) for p in err.values["problems"]}
    assert found == {
        ("log.reason.no_date", "time", (3,)),
        ("log.reason.bad_date", "time", (4,)),
        ("calls.reason.no_rep", "rep", (5,)),
        ("calls.reason.bad_duration", "duration", (6,)),
        ("calls.reason.unknown_outcome", "outcome", (6,)),
    }
    by_reason = {p.reason: p for p in err.values["problems"]}
    assert by_reason["calls.reason.bad_duration"].reason_values == {"value": "'ten'"}
    assert by_reason["calls.reason.unknown_outcome"].reason_values == {"value": "'maybe'"}
    assert "'接通'" in by_reason["calls.reason.unknown_outcome"].fix_values["choices"]
    assert "Traceback" not in str(err)


def test_errors_drop_keeps_the_valid_rows_and_lists_the_others():
    calls = fs.read_calls(_record(), errors="drop")
    assert calls.table["lead"].tolist() == ["L1"]
    assert calls.dropped["row"].tolist() == [3, 4, 5, 6]
    assert calls.dropped["column"].tolist() == ["time", "time", "rep", "duration"]


def test_empty_outcomes_and_leads_are_problems_too():
    frame = pd.DataFrame(
        {"time": ["2025-03-03 09:00"] * 2, "lead": ["L1", None], "outcome": [None, "busy"]}
    )
    with pytest.raises(fs.LogError) as info:
        fs.read_calls(frame)
    found = {(p.reason, p.rows) for p in info.value.values["problems"]}
    assert found == {("calls.reason.no_outcome", (2,)), ("log.reason.no_lead", (3,))}


def test_a_record_without_duration_and_outcome_is_one_missing_column_error():
    with pytest.raises(fs.LogError) as info:
        fs.read_calls(pd.DataFrame({"time": ["2025-03-03"], "rep": ["Li"]}))
    assert info.value.key == "log.error.missing_columns"
    assert info.value.values["missing"][0].reason == "calls.error.missing_either"


def test_bad_arguments_are_errors_with_keys():
    frame = pd.DataFrame({"time": ["2025-03-03 09:00"], "rep": ["Li"], "duration": [5]})
    with pytest.raises(fs.LogError) as info:
        fs.read_calls(frame, errors="skip")
    assert info.value.key == "error.choice"
    with pytest.raises(fs.LogError) as info:
        fs.read_calls(frame, columns={"talk": "x"})
    assert info.value.key == "log.error.columns_key"
    calls = fs.read_calls(frame)
    with pytest.raises(fs.FunnelsimValueError) as info:
        calls.kpis(by="team")
    assert info.value.key == "calls.error.by"
    with pytest.raises(fs.LogError) as info:
        calls.kpis(period="month")
    assert info.value.key == "error.choice"
    with pytest.raises(fs.FunnelsimValueError) as info:
        calls.by_hour(rep="Zhao")
    assert info.value.key == "calls.error.rep" and "'Li'" in info.value.values["choices"]


def test_a_chinese_csv_with_clock_durations_is_read_and_left_unchanged(tmp_path):
    text = (
        "拨打时间,坐席,客户名称,通话时长,呼叫结果,团队\n"
        "2025-03-03 09:05,李雷,C1,00:03:25,已接通,一组\n"
        "2025-03-03 09:07,李雷,C2,00:00:00,无人接听,一组\n"
        "2025-03-04 15:30,韩梅梅,C1,01:02:03,接通,二组\n"
        "2025-03-10 10:00,韩梅梅,C3,00:00:00,空号,二组\n"
    )
    path = tmp_path / "通话记录.csv"
    path.write_bytes(text.encode("gb18030"))
    before = path.read_bytes()
    calls = fs.read_calls(path)
    assert path.read_bytes() == before
    assert calls.table["duration"].tolist() == [205.0, 0.0, 3723.0, 0.0]
    assert calls.table["outcome"].tolist() == ["connected", "no_answer", "connected", "invalid"]
    assert calls.reps == ["李雷", "韩梅梅"]
    team = calls.kpis(by="团队", period="week")
    assert team[["团队", "dials", "connects", "leads_touched"]].values.tolist() == [
        ["一组", 2, 1, 2],
        ["二组", 1, 1, 1],
        ["二组", 1, 0, 1],
    ]
    assert team["period"].tolist() == [START, START, START + pd.Timedelta(days=7)]
    with fs.language("zh"):
        assert repr(calls).startswith("Calls（通话记录.csv：2 名销售拨打 4 次")


# ------------------------------------------------------------------ KPIs
@pytest.fixture(scope="module")
def synthetic():
    """5,000 calls by 4 reps to 800 leads over three weeks, as a record and as numbers."""
    rng = np.random.default_rng(20250303)
    n = 5000
    time = (
        START
        + pd.to_timedelta(rng.integers(0, 21, n), "D")
        + pd.to_timedelta(rng.integers(8 * 3600, 20 * 3600, n), "s")
    )
    rep = rng.choice(["Li", "Wang", "Zhao", "Chen"], n)
    lead = np.char.add("L", rng.integers(0, 800, n).astype(str))
    connected = rng.random(n) < np.where(rep == "Li", 0.4, 0.25)
    seconds = np.where(connected, rng.integers(1, 600, n), 0)
    outcome = np.where(connected, "接通", rng.choice(["未接", "占线", "拒接", "空号"], n))
    clock = [f"{s // 60}:{s % 60:02d}" for s in seconds]  # mm:ss, as exports write it
    record = pd.DataFrame(
        {"time": time, "rep": rep, "lead": lead, "duration": clock, "outcome": outcome}
    )
    truth = pd.DataFrame(
        {"time": time, "rep": rep, "lead": lead, "seconds": seconds, "connected": connected}
    )
    return fs.read_calls(record, effective=45), truth


@pytest.mark.parametrize("period", ["day", "week", None])
def test_kpis_match_a_pandas_computation(synthetic, period):
    calls, truth = synthetic
    got = calls.kpis(period=period)
    keys = ["rep"]
    truth = truth.copy()
    if period == "day":
        truth["period"] = truth["time"].dt.normalize()
        keys.append("period")
    elif period == "week":
        day = truth["time"].dt.normalize()
        truth["period"] = day - pd.to_timedelta(day.dt.weekday, "D")
        keys.append("period")
    truth["talk"] = truth["seconds"].where(truth["connected"], 0)
    truth["eff"] = truth["connected"] & (truth["seconds"] >= 45)
    expect = (
        truth.groupby(keys)
        .agg(
            dials=("rep", "size"),
            connects=("connected", "sum"),
            talk_time=("talk", "sum"),
            effective=("eff", "sum"),
            leads_touched=("lead", "nunique"),
        )
        .reset_index()
    )
    got = got.assign(rep=got["rep"].astype(str)).sort_values(keys).reset_index(drop=True)
    expect = expect.sort_values(keys).reset_index(drop=True)
    assert len(got) == len(expect)
    for column in keys:
        assert got[column].tolist() == expect[column].tolist()
    for column in ("dials", "connects", "talk_time", "effective", "leads_touched"):
        np.testing.assert_array_equal(got[column].to_numpy(dtype=float), expect[column])
    np.testing.assert_allclose(got["connect_rate"], expect["connects"] / expect["dials"])
    np.testing.assert_allclose(got["mean_talk"], expect["talk_time"] / expect["connects"])
    np.testing.assert_allclose(got["dials_per_connect"], expect["dials"] / expect["connects"])
    low, high = proportion_confint(expect["connects"], expect["dials"], method="wilson")
    np.testing.assert_allclose(got["low"], low, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["high"], high, rtol=1e-10, atol=1e-12)
    assert got["dials"].sum() == len(truth)


def test_the_team_total_and_the_effective_threshold(synthetic):
    calls, truth = synthetic
    team = calls.kpis(by=(), period=None)
    assert team.shape[0] == 1
    assert team["dials"].item() == len(truth)
    assert team["leads_touched"].item() == truth["lead"].nunique()
    assert team["effective"].item() == int((truth["connected"] & (truth["seconds"] >= 45)).sum())


@pytest.mark.parametrize(
    ("k", "n"), [(0, 1), (0, 20), (1, 1), (20, 20), (3, 10), (57, 200), (1234, 5000)]
)
@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_connect_rate_intervals_are_statsmodels_wilson(k, n, level):
    frame = pd.DataFrame({"time": ["2025-03-03 09:00"] * n, "duration": [60] * k + [0] * (n - k)})
    got = fs.read_calls(frame).kpis(period=None, confidence_level=level)
    low, high = proportion_confint(k, n, alpha=1 - level, method="wilson")
    assert got["low"].item() == pytest.approx(low, abs=1e-12)
    assert got["high"].item() == pytest.approx(high, abs=1e-12)


def test_without_a_connect_the_ratios_per_connect_are_nan():
    frame = pd.DataFrame({"time": ["2025-03-03 09:00"] * 3, "outcome": ["busy"] * 3})
    got = fs.read_calls(frame).kpis(period=None)
    assert got["connects"].item() == 0
    assert np.isnan(got["dials_per_connect"].item())
    assert np.isnan(got["talk_time"].item()) and np.isnan(got["mean_talk"].item())


def test_mean_talk_is_over_the_connects_with_a_duration():
    """A connected call whose duration cell is empty is not a call of 0 seconds: the
    average talk time is over the connects whose length is known (pandas' mean)."""
    frame = pd.DataFrame(
        {
            "time": ["2025-03-03 09:00"] * 6,
            "rep": ["Li"] * 4 + ["Wang"] * 2,
            "duration": [100, None, 40, None, None, None],
            "outcome": ["connected", "connected", "connected", "no answer", "connected", "busy"],
        }
    )
    got = fs.read_calls(frame).kpis(period=None).set_index("rep")
    connected = frame[frame["outcome"] == "connected"]
    ref = connected.groupby("rep")["duration"].mean()  # skips the empty cells
    assert got.loc["Li", "mean_talk"] == pytest.approx(ref["Li"])  # 70, not 140 / 3
    assert got.loc["Li", "talk_time"] == 140 and got.loc["Li", "connects"] == 3
    assert np.isnan(got.loc["Wang", "mean_talk"]) and np.isnan(ref["Wang"])


def test_by_hour_matches_a_crosstab_and_flags_few_calls(synthetic):
    calls, truth = synthetic
    got = calls.by_hour(min_calls=40)
    assert len(got) == 168 and got["dials"].sum() == len(truth)
    dials = pd.crosstab(truth["time"].dt.weekday, truth["time"].dt.hour)
    connects = pd.crosstab(
        truth["time"].dt.weekday, truth["time"].dt.hour, values=truth["connected"], aggfunc="sum"
    )
    cells = got.set_index(["weekday", "hour"])
    for (day, hour), n in dials.stack().items():
        row = cells.loc[(day, hour)]
        assert row["dials"] == n
        assert row["connects"] == connects.loc[day, hour]
        assert row["few"] == (n < 40)
        if n >= 40:
            assert row["rate"] == pytest.approx(connects.loc[day, hour] / n)
            low, high = proportion_confint(connects.loc[day, hour], n, method="wilson")
            assert row["low"] == pytest.approx(low) and row["high"] == pytest.approx(high)
        else:
            assert np.isnan(row["rate"])
    assert got.loc[got["dials"] == 0, "few"].all()
    li = calls.by_hour(rep="Li")
    assert li["dials"].sum() == (truth["rep"] == "Li").sum()


def test_by_hour_of_effective_calls_matches_a_crosstab(synthetic):
    """success="effective": connected calls of at least the record's 45 s, over the dials."""
    calls, truth = synthetic
    got = calls.by_hour(min_calls=40, success="effective").set_index(["weekday", "hour"])
    hit = truth["connected"] & (truth["seconds"] >= 45)
    dials = pd.crosstab(truth["time"].dt.weekday, truth["time"].dt.hour)
    won = pd.crosstab(truth["time"].dt.weekday, truth["time"].dt.hour, values=hit, aggfunc="sum")
    assert got["effective"].sum() == hit.sum() < truth["connected"].sum()
    for (day, hour), n in dials.stack().items():
        row = got.loc[(day, hour)]
        assert row["effective"] == won.loc[day, hour]
        if n >= 40:
            assert row["rate"] == pytest.approx(won.loc[day, hour] / n)
            low, high = proportion_confint(won.loc[day, hour], n, method="wilson")
            assert row["low"] == pytest.approx(low) and row["high"] == pytest.approx(high)
    with fs.language("en"):
        ax = fs.plotting.plot_call_heatmap(calls, success="effective")
        assert "conversations" in ax.get_title()
        assert "45 s" in ax.figure.axes[-1].get_ylabel()
    plt.close("all")
    no_time = fs.read_calls(pd.DataFrame({"time": ["2025-03-03 09:00"], "outcome": ["接通"]}))
    with pytest.raises(fs.FunnelsimValueError) as err:
        no_time.by_hour(success="effective")
    assert err.value.key == "calls.error.no_durations"
    with pytest.raises(fs.FunnelsimValueError) as err:
        calls.by_hour(success="sales")
    assert err.value.key == "error.choice"


# ------------------------------------------------------------------ heatmap
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("annot", ["rate", "dials", "both", None])
def test_heatmap_draws_rates_greys_few_cells_and_speaks_the_language(synthetic, lang, annot):
    calls, _ = synthetic
    with fs.language(lang), fs.plotting.style():
        ax = fs.plotting.plot_call_heatmap(calls, min_calls=40, annot=annot)
        assert ax.get_title() == fs.t("plot.calls.title")
        days = [x.get_text() for x in ax.get_yticklabels()]
        assert days == [fs.t(f"plot.calls.weekday.{d}") for d in range(7)]
    assert [x.get_text() for x in ax.get_xticklabels()] == [str(h) for h in range(8, 20)]
    mesh = ax.collections[0]
    cells = calls.by_hour(min_calls=40)
    cells = cells[cells["hour"].between(8, 19)]
    assert np.ma.count_masked(mesh.get_array()) == int(cells["few"].sum())
    texts = [x.get_text() for x in ax.texts]
    rates = cells.loc[~cells["few"], "rate"]
    called = cells.loc[cells["dials"] > 0, "dials"]
    if annot is None:
        assert not texts
    elif annot == "rate":  # the grey cells have no rate to show
        assert sorted(texts) == sorted(f"{r:.0%}" for r in rates)
    elif annot == "dials":  # ... but their calls are shown
        assert sorted(int(x) for x in texts) == sorted(called)
    else:
        assert len(texts) == len(called)
        assert sum("\n" in x for x in texts) == len(rates)


def test_heatmap_for_one_rep_and_wrong_input(synthetic):
    calls, _ = synthetic
    ax = fs.plotting.plot_call_heatmap(calls, rep="Li")
    assert ax.get_title() == fs.t("plot.calls.title_rep", rep="Li")
    with pytest.raises(fs.FunnelsimTypeError):
        fs.plotting.plot_call_heatmap(calls.table)
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.plotting.plot_call_heatmap(calls, annot="percent")
    assert info.value.key == "error.choice"


# ------------------------------------------------------------------ real data
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@pytest.fixture(scope="module")
def bank_calls(request):
    """The UCI bank telemarketing record (bank-full, 45,211 clients) as a call record.

    How it is built: the file is in time order, May 2008 to November 2010
    (bank-names.txt), with ``day`` and ``month`` but no year, so the year starts
    at 2008 and goes up by one each time the month goes back (twice). Each row
    is a client's last contact of the campaign, with its ``duration`` in
    seconds; ``campaign`` counts that client's contacts in the campaign, the
    last one included. The record keeps one duration per client, so each row
    becomes ``campaign`` calls on its date: the earlier ``campaign - 1`` with
    duration 0 (not connected: the file keeps no talk for them) and the last
    with its duration (connected when above 0). ``contact`` (cellular,
    telephone, unknown) plays the rep; the client's row number is the lead.
    """
    shared = request.getfixturevalue("shared_data")
    raw = pd.read_csv(shared / "bank_marketing" / "bank-full.csv.gz", sep=";")
    month = raw["month"].map({m: k + 1 for k, m in enumerate(_MONTHS)})
    year = 2008 + (month.diff() < 0).cumsum()
    raw["date"] = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": raw["day"]}))
    raw["lead"] = np.arange(len(raw))
    attempts = raw.loc[raw.index.repeat(raw["campaign"])].copy()
    last = ~attempts.index.duplicated(keep="last")
    attempts["seconds"] = np.where(last, attempts["duration"], 0)
    record = attempts[["date", "contact", "lead", "seconds", "month"]].reset_index(drop=True)
    calls = fs.read_calls(
        record, columns={"time": "date", "rep": "contact", "lead": "lead", "duration": "seconds"}
    )
    return calls, raw


@pytest.mark.shared
def test_bank_record_rebuilds_real_dates(bank_calls):
    calls, raw = bank_calls
    assert raw["date"].is_monotonic_increasing  # the file's own order: the years are right
    assert raw["date"].min() == pd.Timestamp("2008-05-05")
    assert raw["date"].max() == pd.Timestamp("2010-11-17")
    assert len(calls.table) == raw["campaign"].sum() == 124_956


@pytest.mark.shared
@pytest.mark.parametrize("period", ["week", None])
def test_bank_kpis_match_pandas(bank_calls, period):
    calls, raw = bank_calls
    got = calls.kpis(period=period)
    keys = ["contact"]
    raw = raw.copy()
    if period == "week":
        raw["period"] = raw["date"] - pd.to_timedelta(raw["date"].dt.weekday, "D")
        keys.append("period")
    raw["connected"] = raw["duration"] > 0
    raw["talk"] = raw["duration"].where(raw["connected"], 0)
    raw["effective"] = raw["duration"] >= 30
    expect = (
        raw.groupby(keys)
        .agg(
            dials=("campaign", "sum"),
            connects=("connected", "sum"),
            talk_time=("talk", "sum"),
            effective=("effective", "sum"),
            leads_touched=("lead", "nunique"),
        )
        .reset_index()
    )
    got = got.assign(rep=got["rep"].astype(str)).sort_values(["rep", *keys[1:]])
    expect = expect.sort_values(keys)
    assert got["rep"].tolist() == expect["contact"].tolist()
    for column in ("dials", "connects", "talk_time", "effective", "leads_touched"):
        np.testing.assert_array_equal(got[column].to_numpy(dtype=float), expect[column])
    low, high = proportion_confint(expect["connects"], expect["dials"], method="wilson")
    np.testing.assert_allclose(got["low"], low, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["high"], high, rtol=1e-10, atol=1e-12)
    ratio = expect["dials"] / expect["connects"]
    np.testing.assert_allclose(got["dials_per_connect"], ratio.where(expect["connects"] > 0))


@pytest.mark.shared
def test_bank_calls_by_weekday_and_month_match_pandas(bank_calls):
    calls, raw = bank_calls
    hours = calls.by_hour()
    assert (hours.loc[hours["hour"] > 0, "dials"] == 0).all()  # dates only: all at midnight
    weekday = hours[hours["hour"] == 0].set_index("weekday")
    expect = raw.groupby(raw["date"].dt.weekday)["campaign"].sum().reindex(range(7), fill_value=0)
    np.testing.assert_array_equal(weekday["dials"], expect)
    # the rebuilt dates fall on weekdays, as a bank's call centre works (50 of 124,956 not)
    assert expect.loc[[5, 6]].sum() < 0.001 * expect.sum()
    by_month = calls.kpis(by="month", period=None).set_index("month")
    expect = raw.groupby("month").agg(dials=("campaign", "sum"), talk=("duration", "sum"))
    assert by_month["dials"].to_dict() == expect["dials"].to_dict()
    assert by_month["talk_time"].to_dict() == pytest.approx(expect["talk"].astype(float).to_dict())


@pytest.mark.shared
def test_bank_weekly_p_chart_counts_match_pandas(bank_calls):
    calls, raw = bank_calls
    chart = calls.p_chart(period="week", by="rep")
    raw = raw.assign(
        period=raw["date"] - pd.to_timedelta(raw["date"].dt.weekday, "D"),
        connected=raw["duration"] > 0,
    )
    expect = raw.groupby(["contact", "period"]).agg(n=("campaign", "sum"), k=("connected", "sum"))
    got = chart.to_frame().set_index(["rep", "period"]).sort_index()
    assert got.index.tolist() == expect.index.tolist()
    np.testing.assert_array_equal(got["entered"], expect["n"])
    np.testing.assert_array_equal(got["passed"], expect["k"])
    pooled = expect.groupby(level=0).sum()
    p = (pooled["k"] / pooled["n"]).reindex(expect.index.get_level_values(0)).to_numpy()
    se = np.sqrt(p * (1 - p) / expect["n"].to_numpy())
    np.testing.assert_allclose(got["low"], np.clip(p - 3 * se, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(got["high"], np.clip(p + 3 * se, 0, 1), rtol=1e-12)


def test_read_log_reads_a_call_record_too():
    frame = pd.DataFrame(
        {"time": ["2025-03-03 09:00"] * 2, "rep": ["Li"] * 2, "outcome": ["接通", "占线"]}
    )
    calls = fs.read_log(frame, format="calls", stages=None, errors="drop")
    assert isinstance(calls, fs.Calls)
    assert calls.kpis(period=None)["connects"].tolist() == [1]
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.read_log(frame, format="calls", stages=["dial", "connect"])
    assert info.value.key == "calls.error.stages"


# ------------------------------------------------------------------ p-chart (#15)
@pytest.mark.parametrize("period", ["week", "day"])
def test_p_chart_limits_are_the_closed_form_around_the_pooled_rate(synthetic, period):
    calls, truth = synthetic
    chart = calls.p_chart(period=period)
    assert isinstance(chart, fs.control.PChart)
    assert chart.stages == ("connects",) and chart.by == () and chart.period == "period"
    truth = truth.copy()
    day = truth["time"].dt.normalize()
    truth["period"] = day - pd.to_timedelta(day.dt.weekday, "D") if period == "week" else day
    expect = truth.groupby("period").agg(n=("connected", "size"), k=("connected", "sum"))
    got = chart.to_frame().set_index("period")
    assert got.index.tolist() == expect.index.tolist()
    np.testing.assert_array_equal(got["entered"], expect["n"])
    np.testing.assert_array_equal(got["passed"], expect["k"])
    p = expect["k"].sum() / expect["n"].sum()
    se = np.sqrt(p * (1 - p) / expect["n"])
    np.testing.assert_allclose(got["centre"], p, rtol=1e-12)
    np.testing.assert_allclose(got["low"], np.clip(p - 3 * se, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(got["high"], np.clip(p + 3 * se, 0, 1), rtol=1e-12)
    outside = (expect["k"] / expect["n"] < p - 3 * se) | (expect["k"] / expect["n"] > p + 3 * se)
    assert (got["signal"] != "").tolist() == outside.tolist()


def test_p_chart_by_rep_has_one_centre_per_rep_and_flags_a_shift():
    rng = np.random.default_rng(15)
    n = 6000
    day = START + pd.to_timedelta(rng.integers(0, 42, n), "D")
    rep = rng.choice(["Li", "Wang"], n)
    # Li's connect rate halves in the last week: 3-sigma must flag it, nothing else moves
    rate = np.where((rep == "Li") & (day >= START + pd.Timedelta(days=35)), 0.15, 0.35)
    seconds = np.where(rng.random(n) < rate, 90, 0)
    calls = fs.read_calls(pd.DataFrame({"time": day, "rep": rep, "duration": seconds}))
    chart = calls.p_chart(by="rep", sigmas=3.0)
    table = chart.to_frame()
    frame = pd.DataFrame({"rep": rep, "connected": seconds > 0})
    pooled = frame.groupby("rep")["connected"].mean()
    for name, rows in table.groupby("rep", observed=True):
        np.testing.assert_allclose(rows["centre"], pooled[name], rtol=1e-12)
    flagged = chart.flagged
    assert flagged[["rep", "signal"]].astype(str).values.tolist() == [["Li", "below"]]
    assert flagged["period"].tolist() == [START + pd.Timedelta(days=35)]
    laney = calls.p_chart(by="rep", method="laney", centre=0.35)
    assert (laney.to_frame()["centre"] == 0.35).all() and "sigma_z" in laney.to_frame()
    ax = fs.plotting.plot_p_chart(chart, group="Li")
    assert ax.get_title() == fs.t(
        "plot.p_chart.title_group", stage=fs.i18n.stage_label("connects"), group="Li", count=1
    )
    with pytest.raises(fs.FunnelsimValueError) as info:
        calls.p_chart(period="month")
    assert info.value.key == "error.choice"
    with pytest.raises(fs.FunnelsimValueError) as info:
        calls.p_chart(by="team")
    assert info.value.key == "calls.error.by"


def test_heatmap_the_same_by_rep_one_heatmap_per_rep(synthetic):
    calls, truth = synthetic
    for name in calls.reps:
        ax = fs.plotting.plot_call_heatmap(calls, rep=name, min_calls=1, annot="dials")
        shown = sum(int(x.get_text()) for x in ax.texts if x.get_text())
        assert shown == (truth["rep"] == name).sum()
    with pytest.raises(fs.FunnelsimValueError) as info:
        fs.plotting.plot_call_heatmap(calls, rep="Nobody")
    assert info.value.key == "calls.error.rep"


def test_sample_call_file_headers_and_outcomes_are_recognised(tmp_path):
    frame = pd.DataFrame(
        {
            "呼叫时间": ["2025-03-03 09:15:07", "2025-03-03 09:20:00", "2025-03-04 10:00:00",
                     "2025-03-04 10:05:00", "2025-03-04 11:00:00"],
            "坐席": ["张伟", "张伟", "李娜", "李娜", "张伟"],
            "客户编号": ["C001", "C002", "C003", "C001", "C004"],
            "通话时长": ["00:01:05", "00:00:00", "00:00:00", "00:00:00", "00:00:00"],
            "呼叫结果": ["已接通", "未接听", "忙线", "拒接", "空号"],
        }
    )  # fmt: skip
    path = tmp_path / "sample_calls.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    calls = fs.read_calls(path)
    assert calls.table["outcome"].tolist() == list(OUTCOMES)
    assert calls.table["lead"].astype(str).tolist() == frame["客户编号"].tolist()
    assert calls.table["rep"].astype(str).tolist() == frame["坐席"].tolist()
    assert calls.table["duration"].tolist() == [65.0, 0, 0, 0, 0]
    assert "客户编号" not in calls.table  # read as the lead, not kept as an extra column
