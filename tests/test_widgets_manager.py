"""Notebook 08's numbers and apps: a rep's day, when to call, the target split, attainment.

The numbers are checked against a plain pandas reading of the sample call record (and
statsmodels' Wilson interval); the apps against the pure functions, control by control.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import funnelsim as fs
from funnelsim.i18n import t
from funnelsim.lessons import call_days, call_times, monthly_history, rep_day, time_at_grade
from funnelsim.widgets import make_attainment, make_call_times, make_rep_day, make_target_split


@pytest.fixture(scope="module")
def calls() -> fs.Calls:
    return fs.datasets.load_calls()


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The sample file as pandas reads it, with seconds computed by hand."""
    frame = pd.read_csv(fs.datasets.path("sample_calls.csv"), dtype=str)
    parts = frame["通话时长"].str.split(":", expand=True).astype(int)
    frame["seconds"] = parts[0] * 3600 + parts[1] * 60 + parts[2]
    frame["time"] = pd.to_datetime(frame["呼叫时间"])
    frame["day"] = frame["time"].dt.normalize()
    frame["connected"] = frame["呼叫结果"] == "已接通"
    return frame


@pytest.mark.parametrize(("rep", "day"), [("赵磊", "2025-03-05"), ("李娜", "2025-04-26")])
def test_a_reps_day_is_a_plain_count_of_the_file(calls, raw, rep, day):
    result = rep_day(calls, rep, day)
    mine = raw[(raw["坐席"] == rep) & (raw["day"] == pd.Timestamp(day))]
    row = result.kpis.loc["day"]
    n, k = len(mine), int(mine["connected"].sum())
    assert (row["dials"], row["connects"]) == (n, k)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert row["low"] == pytest.approx(low, abs=1e-12)
    assert row["high"] == pytest.approx(high, abs=1e-12)
    talk = mine.loc[mine["connected"], "seconds"]
    assert row["talk_time"] == talk.sum() and row["mean_talk"] == pytest.approx(talk.mean())
    assert row["effective"] == (talk >= 30).sum()
    assert row["leads_touched"] == mine["客户编号"].nunique()
    assert sorted(result.talk) == sorted(talk.astype(float))
    # the average day: the rep's totals over the days the rep made calls
    all_mine = raw[raw["坐席"] == rep]
    days = all_mine["day"].nunique()
    average = result.kpis.loc["average"]
    assert average["dials"] == pytest.approx(len(all_mine) / days)
    assert average["connects"] == pytest.approx(all_mine["connected"].sum() / days)
    assert average["connect_rate"] == pytest.approx(all_mine["connected"].mean())
    assert len(result.usual_talk) == all_mine["connected"].sum()
    counts = result.to_frame()["which"].value_counts()
    assert (counts["day"], counts["average"]) == (len(talk), all_mine["connected"].sum())


def test_a_day_without_calls_is_zeros_not_an_error(calls):
    result = rep_day(calls, "张伟", "2025-03-09")  # a Sunday
    row = result.kpis.loc["day"]
    assert row["dials"] == 0 and row["connects"] == 0 and np.isnan(row["connect_rate"])
    assert len(result.talk) == 0 and len(result.usual_talk) > 0


def test_bad_rep_day_or_record_are_clear_errors(calls):
    with pytest.raises(fs.FunnelsimValueError) as err:
        rep_day(calls, "nobody", "2025-03-05")
    assert err.value.key == "error.choice" and "赵磊" in err.value.values["choices"]
    with pytest.raises(fs.FunnelsimValueError) as err:
        rep_day(calls, "赵磊", "not a day")
    assert err.value.key == "error.not_a_date"
    with pytest.raises(fs.FunnelsimTypeError) as err:
        call_times(pd.DataFrame(), rep=None)
    assert err.value.key == "error.plot_result" and err.value.values["wanted"] == "Calls"


def test_call_days_are_the_days_of_the_file(calls, raw):
    assert call_days(calls) == sorted(raw["day"].unique())


@pytest.mark.parametrize(("rep", "min_calls"), [(None, 30), ("赵磊", 20), ("李娜", 40)])
def test_best_and_worst_hour_are_those_of_a_pandas_groupby(calls, raw, rep, min_calls):
    result = call_times(calls, rep=rep, min_calls=min_calls)
    mine = raw if rep is None else raw[raw["坐席"] == rep]
    cells = mine.groupby([mine["time"].dt.weekday, mine["time"].dt.hour])["connected"]
    table = cells.agg(["size", "mean"])
    table = table[table["size"] >= min_calls]
    assert result.dials == len(mine)
    assert result.rate == pytest.approx(mine["connected"].mean())
    best, worst = table["mean"].idxmax(), table["mean"].idxmin()
    assert (int(result.best["weekday"]), int(result.best["hour"])) == best
    assert (int(result.worst["weekday"]), int(result.worst["hour"])) == worst
    assert result.best["rate"] == pytest.approx(table.loc[best, "mean"])


def test_no_cell_with_enough_calls_has_no_best(calls):
    result = call_times(calls, rep="赵磊", min_calls=100)
    assert result.best is None and result.worst is None
    app = make_call_times(calls, rep="赵磊", min_calls=100)
    assert app.message == ""
    assert html.escape(t("app.ct.too_few", who="赵磊", min_calls=100)) == app.summary.value


def test_monthly_history_keeps_the_won_deals_of_the_year():
    history = fs.datasets.load_deal_history()
    got = monthly_history(history, year=2024)
    won = history[(history["closed"] == "yes") & history["decided"].str.startswith("2024")]
    assert len(got) == len(won)
    assert got["amount"].sum() == won["amount"].astype(float).sum()
    by_month = won.groupby(pd.to_datetime(won["decided"]).dt.month)["amount"].count()
    assert got.groupby("month").size().to_dict() == by_month.to_dict()
    assert got["month"].is_monotonic_increasing
    with pytest.raises(fs.FunnelsimValueError) as err:
        monthly_history(history.drop(columns="decided"))
    assert err.value.key == "error.target_history"


@pytest.mark.parametrize(("grade", "as_of"), [("B", None), ("C", "2024-09-30"), ("E", None)])
def test_time_at_grade_is_a_plain_reading_of_the_history(grade, as_of):
    """Each lead's days at the grade, recomputed from the raw history file with pandas."""
    history = pd.read_csv(fs.datasets.path("sample_grade_history.csv"), dtype=str)
    history["date"] = pd.to_datetime(history["date"])
    end = history["date"].max() if as_of is None else pd.Timestamp(as_of)
    grades = ["E", "D", "C", "B", "A"]
    following = grades[grades.index(grade) + 1]
    first = history.groupby(["lead", "grade"])["date"].min().unstack()
    reached = first[grade][first[grade] <= end]
    moved = first[following].reindex(reached.index)
    moved = moved.where(moved <= end)
    days = (moved.fillna(end) - reached).dt.days
    ages = time_at_grade(fs.grade_ladder(fs.datasets.load_grade_history()), grade, as_of=as_of)
    ages = ages.set_index("lead").loc[reached.index]
    assert len(ages) == len(reached)
    np.testing.assert_array_equal(ages["days"].to_numpy(), days.to_numpy())
    np.testing.assert_array_equal(ages["waiting"].to_numpy(), moved.isna().to_numpy())
    if grade == "B" and as_of is None:  # the numbers notebook 08 quotes
        waiting = ages.loc[ages["waiting"], "days"]
        assert (len(ages), len(waiting), waiting.min(), waiting.max()) == (116, 51, 88, 428)


def test_time_at_grade_needs_dates_and_an_open_grade():
    ladder = fs.grade_ladder(fs.datasets.load_grade_history())
    with pytest.raises(fs.FunnelsimValueError) as info:
        time_at_grade(ladder, "A")  # the last grade: nothing to move up to
    assert info.value.key == "error.choice"
    undated = fs.grade_ladder(pd.DataFrame({"lead": [1, 2, 3], "grade": ["E", "D", "B"]}))
    with pytest.raises(fs.FunnelsimValueError) as info:
        time_at_grade(undated)
    assert info.value.key == "error.ladder_no_dates"


# --------------------------------------------------------------------- the apps
def test_rep_day_app_follows_its_controls(calls):
    app = make_rep_day(calls, rep="赵磊", day="2025-03-05")
    assert app.message == ""
    pd.testing.assert_frame_equal(app.result.kpis, rep_day(calls, "赵磊", "2025-03-05").kpis)
    assert "赵磊" in app.summary.value and "2025-03-05" in app.summary.value
    app.controls["rep"].value = "王芳"
    app.controls["day"].value = "2025-04-01"
    pd.testing.assert_frame_equal(app.result.kpis, rep_day(calls, "王芳", "2025-04-01").kpis)
    days = [value for _, value in app.controls["day"].options]
    assert days == [d.date().isoformat() for d in call_days(calls)]
    default = make_rep_day(calls)
    assert (default.result.rep, default.result.day) == (calls.reps[0], call_days(calls)[-1])


def test_call_times_app_follows_its_controls(calls):
    app = make_call_times(calls)
    assert app.message == "" and app.result.rep is None and app.result.min_calls == 20
    app.controls["rep"].value = "赵磊"
    app.controls["min_calls"].value = 25
    ref = call_times(calls, rep="赵磊", min_calls=25)
    pd.testing.assert_frame_equal(app.result.hours, ref.hours)
    said = t(
        "app.ct.summary",
        who="赵磊",
        rate=ref.rate,
        dials=ref.dials,
        best=fs.lessons.manager.cell_label(ref.best),
        best_rate=float(ref.best["rate"]),
        best_dials=int(ref.best["dials"]),
        worst=fs.lessons.manager.cell_label(ref.worst),
        worst_rate=float(ref.worst["rate"]),
        worst_dials=int(ref.worst["dials"]),
    )
    assert app.summary.value == html.escape(said)


def test_target_split_app_equals_split_target():
    history = monthly_history(fs.datasets.load_deal_history(), year=2024)
    funnel = fs.Funnel(["calls", "deals"], [0.015])
    app = make_target_split(history, funnel, target=2_000_000, deal_size=20_000)
    assert app.message == ""
    ref = fs.split_target(
        2_000_000, history=history, funnel=funnel, probability=0.9, deal_size=20_000
    )
    pd.testing.assert_frame_equal(app.result.to_frame(), ref.to_frame())
    app.controls["split"].value = "even"
    app.controls["probability"].value = 0.8
    even = app.result.to_frame()
    assert np.allclose(even["target"], 2_000_000 / 72)
    assert list(dict.fromkeys(even["rep"])) == list(dict.fromkeys(history["rep"]))
    assert str(f"{int(even['calls'].sum()):,}") in app.summary.value


def test_the_apps_speak_chinese(calls):
    app = make_call_times(calls, lang="zh")
    assert "全队" in app.summary.value and "什么时候" in app._title.value
    day = make_rep_day(calls, rep="赵磊", day="2025-03-05", lang="zh")
    assert "拨打 45 次" in day.summary.value


def test_qualification_app_equals_qualify_and_its_trend_test():
    from funnelsim.widgets import make_qualification

    leads = fs.datasets.load_qualified_leads()
    app = make_qualification(leads)
    assert app.message == ""
    ref = fs.qualify(leads)
    pd.testing.assert_frame_equal(app.result.by_intent(), ref.by_intent())
    assert app.summary.value == html.escape(repr(ref.trend(by="intent")))
    app.controls["by"].value = "rule"
    assert app.summary.value == html.escape(repr(ref.trend(by="rule")))
    app.controls["confidence_level"].value = 0.8
    narrow = fs.qualify(leads, confidence_level=0.8).by_man()
    pd.testing.assert_frame_equal(app.result.by_man(), narrow)
    assert (narrow["high"] - narrow["low"] < ref.by_man()["high"] - ref.by_man()["low"]).all()


# ------------------------------------------------------------------ attainment
@pytest.fixture(scope="module")
def team():
    """The sample team: its log, last year's deals, the year's parts by rep, a fit by rep."""
    log = fs.datasets.load_events()
    history = monthly_history(fs.datasets.load_deal_history(), year=2024)
    split = fs.split_target(3_600_000, history=history).to_frame()
    yearly = split.groupby("rep")["target"].sum()
    return log, history, yearly, fs.fit(log, by="rep", mature=60)


@pytest.fixture(scope="module")
def events_file() -> pd.DataFrame:
    frame = pd.read_csv(fs.datasets.path("sample_events.csv"))
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


def _by_hand(events: pd.DataFrame, week: int) -> tuple[pd.Series, dict]:
    """Sales by rep up to the end of ``week`` and each rep's new leads a week, with pandas."""
    dials = events[events["stage"] == "dial"]
    start = dials["time"].min().normalize()
    sales = events[
        (events["stage"] == "sale") & (events["time"] < start + pd.Timedelta(days=7 * week))
    ]
    reps = sorted(dials["rep"].unique())
    actual = sales.groupby("rep")["amount"].sum().reindex(reps, fill_value=0.0)
    weeks = (dials["time"].max() - dials["time"].min()) / pd.Timedelta(days=7)
    pace = round((len(dials) - 1) / weeks)
    share = dials["rep"].value_counts() / len(dials)
    return actual, {rep: round(float(pace * share[rep])) for rep in reps}


@pytest.mark.parametrize("week", [4, 13, 26])
def test_attainment_at_is_the_files_sales_and_one_forecast_by_rep(team, events_file, week):
    log, _history, yearly, by_rep = team
    result = fs.lessons.attainment_at(
        log, yearly, week, fit=by_rep, deal_size=20_000, reps=500, rng=7
    )
    table = result.to_frame().set_index("rep")
    actual, calls = _by_hand(events_file, week)
    assert table["actual"].drop("team").to_dict() == pytest.approx(actual.to_dict())
    assert table.loc["team", "actual"] == pytest.approx(actual.sum())
    assert table["target"].drop("team").to_dict() == pytest.approx(yearly.to_dict())
    assert result.elapsed == week / 52
    assert table["target_to_date"].to_numpy() == pytest.approx(table["target"] * week / 52)
    # the chances: fs.attainment over one fs.forecast of the weeks left, by hand
    left = fs.forecast(by_rep, calls=calls, periods=52 - week, reps=500, deal_size=20_000, rng=7)
    ref = fs.attainment(actual, yearly, elapsed=week / 52, forecast=left).to_frame()
    pd.testing.assert_frame_equal(result.to_frame(), ref)
    assert 0 < table.loc["team", "p_finish"] < 1  # not a foregone conclusion at any of these


def test_attainment_at_half_time_is_notebook_08s_table(team):
    """The notebook's static cell (section 5, "Attainment at half-time"), its recipe pasted."""
    log, _history, yearly, _by_rep = team
    amounts = log.leads["amount"].dropna()
    deal = fs.DealSize.lognormal(amounts.mean(), cv=amounts.std() / amounts.mean())
    actual = log.leads.groupby("rep")["amount"].sum()
    by_rep = fs.fit(log, by="rep", mature=60)
    pace = (234 * log.leads["rep"].value_counts(normalize=True)).round().astype(int)
    left = fs.forecast(
        by_rep, calls=pace.to_dict(), periods=26, reps=4000, deal_size=deal, rng=2024
    )
    static = fs.attainment(actual, yearly, elapsed=0.5, forecast=left).to_frame()
    mine = fs.lessons.attainment_at(log, yearly, 26, deal_size=deal, rng=2024).to_frame()
    pd.testing.assert_frame_equal(mine, static, check_exact=True)
    assert round(100 * static["p_finish"].iloc[-1]) == 57  # the number the notebook quotes
    # the app on the notebook's seed, with as many futures: the same table
    app = make_attainment(log, _history, deal_size=deal, reps=4000, rng=2024)
    pd.testing.assert_frame_equal(app.result.to_frame(), static, check_exact=True)


@pytest.mark.parametrize("week", [0, 27, 52, 2.5, True, "10"])
def test_attainment_at_a_week_outside_the_log_is_a_clear_error(team, week):
    log, _history, yearly, by_rep = team
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.lessons.attainment_at(log, yearly, week, fit=by_rep, reps=100)
    assert err.value.key == "error.attainment_week"
    assert err.value.values["last"] == 26 and err.value.values["start"] == "2025-01-02"


def test_attainment_at_needs_an_events_log_with_amounts(team):
    _log, _history, yearly, _by_rep = team
    with pytest.raises(fs.FunnelsimTypeError) as err:
        fs.lessons.attainment_at(fs.datasets.load_counts(), yearly, 10)
    assert err.value.key == "error.plot_result" and err.value.values["function"] == "attainment_at"


def test_attainment_app_follows_its_controls(team):
    log, history, yearly, by_rep = team
    app = make_attainment(log, history, deal_size=20_000, reps=500)
    assert app.message == ""
    week = app.controls["week"]
    assert (week.min, week.max, week.value) == (4, 26, 26)

    def ref(w, targets, reps=500):
        return fs.lessons.attainment_at(
            log, targets, w, fit=by_rep, deal_size=20_000, reps=reps, rng=2024
        ).to_frame()

    pd.testing.assert_frame_equal(app.result.to_frame(), ref(26, yearly))
    week.value = 9
    pd.testing.assert_frame_equal(app.result.to_frame(), ref(9, yearly))
    assert app.summary.value.startswith("Week 9 of 52")
    team_row = app.result.to_frame().iloc[-1]
    assert f"{team_row['actual']:,.0f}" in app.summary.value
    assert fs.plotting.chance(team_row["p_finish"]) in app.summary.value
    app.controls["split"].value = "even"
    even = pd.Series(600_000.0, index=yearly.index)
    pd.testing.assert_frame_equal(app.result.to_frame(), ref(9, even))
    app.controls["reps"].value = 1000
    pd.testing.assert_frame_equal(app.result.to_frame(), ref(9, even, reps=1000))
    texts = [x.get_text() for x in app.figure.axes[0].get_yticklabels()]
    assert texts == [*sorted(yearly.index), "team"]
    zh = make_attainment(log, history, deal_size=20_000, reps=500, week=13, lang="zh")
    assert zh.summary.value.startswith("第 13 周") and "全组" in [
        x.get_text() for x in zh.figure.axes[0].get_yticklabels()
    ]
