"""fs.backtest: rolling-origin back-tests of the forecast bands, without look-ahead.

References: the Olist and bank logs' cohorts recomputed with pandas; coverage on simulated
logs whose ratios move between periods by a known beta random effect (binomial standard
errors, 4 SE); the randomised PIT and the interval score of Gneiting & Raftery (2007,
eq. 43) by hand.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import backtesting
from funnelsim.backtesting import cutoff_start, interval_score, randomised_pit
from funnelsim.cli import main

FORECAST_COLUMNS = ["origin", "band", "history", "calls", "mean", "rho", "low_80", "high_80"]


# ------------------------------------------------------------------ logs
def _counts_log(seed: int, rho: float, periods: int = 24, n: int = 300) -> fs.Log:
    """Periods whose two ratios (0.3, 0.25) are drawn from Betas with correlation ``rho``."""
    rng = np.random.default_rng(seed)
    leads = rng.poisson(n, periods)

    def ratios(mean: float) -> np.ndarray:
        if rho == 0:
            return np.full(periods, mean)
        a = (1 - rho) / rho
        return rng.beta(mean * a, (1 - mean) * a, periods)

    meetings = rng.binomial(leads, ratios(0.3))
    sales = rng.binomial(meetings, ratios(0.25))
    frame = pd.DataFrame(
        {
            "period": [f"p{i:02d}" for i in range(periods)],
            "leads": leads,
            "meetings": meetings,
            "sales": sales,
        }
    )
    return fs.read_log(frame, format="counts", stages=["leads", "meetings", "sales"])


def _dated_frame(seed: int = 3, weeks: int = 16) -> pd.DataFrame:
    """A small dated leads log: 40 leads a week, 30 % win after about 10 days."""
    rng = np.random.default_rng(seed)
    n = 40 * weeks
    first = pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.uniform(0, 7 * weeks, n), unit="D")
    won = first + pd.to_timedelta(rng.exponential(10, n), unit="D")
    won = won.where(rng.random(n) < 0.3)
    return pd.DataFrame({"lead": [f"L{i}" for i in range(n)], "call": first, "sale": won})


def _dated_log(frame: pd.DataFrame) -> fs.Log:
    return fs.read_log(
        frame,
        format="leads",
        stages={"call": "call", "sale": "sale"},
        as_of="2025-06-30",
    )


def _calibrated(bts, band: str, level: float = 0.8) -> tuple[float, float, float]:
    """Pooled coverage, what the band holds if right (its own probability, above the
    level for small counts), and a standard error that allows for the forecasts of one
    log being correlated (their histories overlap): the larger of the binomial SE and the
    spread of the logs' coverages over sqrt(logs)."""
    cov = pd.concat([bt.coverage() for bt in bts])
    cov = cov[(cov["band"] == band) & (cov["level"] == level)]
    w = cov["windows"].to_numpy(float)
    held = float((cov["coverage"] * w).sum() / w.sum())
    claim = float((cov["claimed"] * w).sum() / w.sum())
    binomial = math.sqrt(claim * (1 - claim) / w.sum())
    cluster = float(np.std(cov["coverage"], ddof=1) / math.sqrt(len(bts)))
    return held, claim, max(binomial, cluster)


def _pooled(bts, band: str, level: float = 0.8) -> tuple[float, int]:
    rows = [bt.coverage() for bt in bts]
    cov = pd.concat(rows)
    cov = cov[(cov["band"] == band) & (cov["level"] == level)]
    windows = int(cov["windows"].sum())
    return float((cov["coverage"] * cov["windows"]).sum() / windows), windows


# ------------------------------------------------------------------ real logs
@pytest.mark.shared
def test_olist_weekly_cohorts_overdispersed_band_covers(olist_log):
    """Issue 14's real-data check: weekly cohorts from the first one that could have won
    (cutoff_start, which the cut-off warning suggests and the report uses: the log records
    wins only from 2017-12-05), won within 30, 60 and 90 days, the other settings default.
    The band that lets the ratio move held 23 of 29 forecasts (0.79, target 0.70-0.90);
    the bands with fixed ratios about half. The same cohorts count once per horizon, so the
    29 are not independent, and the figure moves with the settings (min_history=4: 25 of
    35, 0.71): the ratio moved more in April and May 2018 than in the weeks before, which
    no band fitted on those weeks foresees."""
    log, _ = olist_log
    bts = []
    for h in (30, 60, 90):
        start = cutoff_start(log, h)
        bts.append(fs.backtest(log, horizon=h, start=start, rng=1))
    assert [str(cutoff_start(log, h).date()) for h in (30, 60, 90)] == [
        "2018-01-01",
        "2017-12-04",
        "2017-12-04",
    ]
    assert [len(bt.table) // 3 for bt in bts] == [11, 11, 7]
    over, windows = _pooled(bts, "overdispersed")
    assert windows == 29
    assert 0.70 <= over <= 0.90
    param, _ = _pooled(bts, "parameter")
    point, _ = _pooled(bts, "point")
    assert param < over - 0.15 and point <= param + 0.05


@pytest.mark.shared
def test_olist_outcomes_per_cohort_match_pandas(olist_log):
    log, frame = olist_log
    bt = fs.backtest(log, horizon="30D", start="2018-01-01", reps=200, rng=1)
    kept = frame[frame["mql_id"].isin(log.leads.index)]
    first = pd.to_datetime(kept["first_contact_date"])
    won = pd.to_datetime(kept["won_date"])
    week = (first - pd.to_timedelta(first.dt.dayofweek, unit="D")).dt.strftime("%Y-%m-%d")
    ref = pd.DataFrame({"week": week, "win": won <= first + pd.Timedelta(days=30)})
    ref = ref.groupby("week").agg(calls=("win", "size"), actual=("win", "sum"))
    got = bt.cohorts.set_index("origin")[["calls", "actual"]]
    pd.testing.assert_frame_equal(got, ref.loc[got.index], check_names=False, check_dtype=False)
    assert got["calls"].sum() == len(kept)  # every lead in one cohort: none dropped


@pytest.mark.shared
def test_olist_warns_that_early_cohorts_look_cut_off(olist_log):
    log, _ = olist_log
    # December 2017's cohorts won nothing within 30 days (the log's first win is dated
    # 2017-12-05): the first cohort with a win within the horizon is 2018-01-01's.
    with pytest.warns(fs.BacktestCutoffWarning, match='start="2018-01-01"'):
        fs.backtest(log, horizon=30, reps=50, min_history=40, rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fs.BacktestCutoffWarning)
        fs.backtest(log, horizon=30, start="2018-01-01", reps=50, min_history=10, rng=1)


def test_bank_by_month_outcomes_and_narrow_bands():
    """The shipped bank log by month: the cohorts are the months' counts (pandas), and the
    bands that keep the ratio fixed hold almost none of the months (it moved and drifted)."""
    bt = fs.backtest(fs.datasets.load_bank_marketing(), reps=1000, rng=2)
    raw = fs.datasets.load_bank_marketing_table()
    ref = raw.groupby("period")["y"].agg(calls="size", actual=lambda s: int((s == "yes").sum()))
    got = bt.cohorts.set_index("origin")[["calls", "actual"]]
    pd.testing.assert_frame_equal(got, ref, check_names=False, check_dtype=False)
    assert len(bt.table) == 3 * (len(ref) - 6)  # every month after 6 of history
    cov = bt.coverage().set_index(["band", "level"])["coverage"]
    assert cov["point", 0.8] < 0.3 and cov["parameter", 0.8] < 0.3
    assert cov["overdispersed", 0.95] > cov["parameter", 0.95]


# ------------------------------------------------------------------ simulated logs
def test_known_overdispersion_overdispersed_band_holds_its_level():
    """Ratios that move by a beta effect (rho 0.02 on both steps): the overdispersed 80 %
    band holds what it claims within 4 SE; the parameter band does not."""
    bts = [fs.backtest(_counts_log(s, 0.02), min_history=8, reps=400, rng=s) for s in range(10)]
    assert _pooled(bts, "overdispersed")[1] == 160
    over, claim, se = _calibrated(bts, "overdispersed")
    assert 0.8 <= claim < 0.85  # an inclusive band of counts holds a little more than 80 %
    assert abs(over - claim) <= 4 * se
    param, claim, se = _calibrated(bts, "parameter")
    assert param < claim - 4 * se


def test_no_overdispersion_parameter_band_holds_its_level():
    bts = [fs.backtest(_counts_log(s, 0.0), min_history=8, reps=400, rng=s) for s in range(8)]
    param, claim, se = _calibrated(bts, "parameter")
    assert abs(param - claim) <= 4 * se
    over, claim, se = _calibrated(bts, "overdispersed")
    assert abs(over - claim) <= 4 * se


# ------------------------------------------------------------------ no look-ahead
def test_changing_what_happens_after_an_origin_leaves_its_forecast_unchanged():
    frame = _dated_frame()
    bt = fs.backtest(_dated_log(frame), horizon=14, min_history=4, reps=300, rng=5)
    origins = bt.table["start"].drop_duplicates().sort_values()
    origin = origins.iloc[len(origins) // 2]
    later = frame.copy()
    after = later["sale"] > origin
    later.loc[after, "sale"] += pd.Timedelta(days=2)  # every win after the origin moves...
    later.loc[after & (np.arange(len(later)) % 2 == 0), "sale"] = pd.NaT  # ...or is lost
    new = later["call"] >= origin
    later.loc[new, "call"] += pd.Timedelta(hours=5)  # later leads call at other hours
    changed = fs.backtest(_dated_log(later), horizon=14, min_history=4, reps=300, rng=5)
    assert after.sum() > 50

    def at(result):
        part = result.table[result.table["start"] <= origin]
        return part[FORECAST_COLUMNS].reset_index(drop=True)

    assert len(at(bt)) >= 3 * 3
    pd.testing.assert_frame_equal(at(changed), at(bt))
    assert not at(changed).equals(changed.table[FORECAST_COLUMNS].reset_index(drop=True))


def test_later_periods_of_a_counts_log_do_not_reach_earlier_origins():
    log = _counts_log(7, 0.02)
    counts = log.counts.copy()
    counts.loc[15:, "sales"] = 0  # the future collapses
    other = fs.read_log(counts, format="counts", stages=list(log.stages))
    a = fs.backtest(log, min_history=8, reps=300, rng=1).table
    b = fs.backtest(other, min_history=8, reps=300, rng=1).table
    pd.testing.assert_frame_equal(a[a["origin"] < "p15"], b[b["origin"] < "p15"])
    until = a["origin"] <= "p15"  # p15's own forecast too (its outcome changed)
    pd.testing.assert_frame_equal(a.loc[until, FORECAST_COLUMNS], b.loc[until, FORECAST_COLUMNS])
    assert not a[a["origin"] > "p15"]["actual"].equals(b[b["origin"] > "p15"]["actual"])


def test_window_keeps_only_the_last_cohorts():
    bt = fs.backtest(_counts_log(1, 0.0), min_history=3, window=3, reps=100, rng=1)
    assert set(bt.table["history"]) == {3}
    full = fs.backtest(_counts_log(1, 0.0), min_history=3, reps=100, rng=1)
    assert full.table["history"].max() == 23


# ------------------------------------------------------------------ scores by hand
@pytest.mark.parametrize(
    ("actual", "v", "expected"),
    [(5, 0.25, 0.2 + 0.25 * 0.4), (5, 1.0, 0.6), (2, 0.7, 0.0), (10, 0.3, 1.0), (7, 0.5, 0.7)],
)
def test_randomised_pit_by_hand(actual, v, expected):
    samples = np.array([3, 5, 5, 7, 9])  # F(4) = 0.2, F(5) = 0.6, F(6) = 0.6, F(7) = 0.8
    assert randomised_pit(samples, actual, v) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("y", "level", "expected"),
    [(4, 0.8, 4.0), (2, 0.8, 4.0), (1, 0.8, 4 + 10 * 1), (9, 0.8, 4 + 10 * 3), (0, 0.5, 4 + 8)],
)
def test_interval_score_by_hand(y, level, expected):
    assert float(interval_score(2, 6, y, level)) == pytest.approx(expected)


def test_table_scores_and_coverage_are_consistent():
    bt = fs.backtest(_counts_log(2, 0.02), min_history=8, reps=300, rng=3)
    tab = bt.table
    inside = (tab["low_80"] <= tab["actual"]) & (tab["actual"] <= tab["high_80"])
    assert (tab["inside_80"] == inside).all()
    width = tab["high_80"] - tab["low_80"]
    miss = 10 * ((tab["low_80"] - tab["actual"]).clip(lower=0))
    miss += 10 * ((tab["actual"] - tab["high_80"]).clip(lower=0))
    np.testing.assert_allclose(tab["score_80"], width + miss)
    assert tab["pit"].between(0, 1).all()
    cov = bt.coverage().set_index(["band", "level"])
    for band, part in tab.groupby("band"):
        c = part["inside_80"].mean()
        assert cov.loc[(band, 0.8), "coverage"] == pytest.approx(c)
        q = part["claim_80"].mean()  # the band's own probability: what it holds if right
        assert cov.loc[(band, 0.8), "claimed"] == pytest.approx(q)
        assert 0.8 <= q <= 1
        assert cov.loc[(band, 0.8), "se"] == pytest.approx(math.sqrt(q * (1 - q) / len(part)))
        assert cov.loc[(band, 0.8), "score"] == pytest.approx(part["score_80"].mean())
    hist = bt.pit("overdispersed", bins=4)
    assert hist["count"].sum() == len(tab) // 3
    assert hist["density"].mean() == pytest.approx(1.0)
    long = bt.to_frame()
    assert len(long) == 3 * len(tab) and set(long["level"]) == {0.5, 0.8, 0.95}


# ------------------------------------------------------------------ errors
def test_bad_input_errors_have_keys():
    dated = _dated_log(_dated_frame(weeks=4))
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(dated)
    assert err.value.key == "error.backtest_horizon_missing"
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(dated, horizon="soon")
    assert err.value.key == "error.backtest_horizon"
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(dated, horizon=-3)
    assert err.value.key == "error.backtest_horizon"
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(dated, horizon=7, start="not a date")
    assert err.value.key == "error.backtest_start"
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(dated, horizon=7, levels=(0.8, 1.2))
    assert err.value.key == "error.backtest_levels"
    flat = fs.read_log(
        pd.DataFrame({"call": [True] * 3, "sale": [True, False, False]}),
        format="leads",
        stages=["call", "sale"],
    )
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(flat)
    assert err.value.key == "error.backtest_no_periods"


def test_window_and_history_that_leave_no_origin_are_errors():
    log = _counts_log(1, 0.0)
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(log, window=3)  # min_history 6 by default
    assert err.value.key == "error.backtest_window"
    assert err.value.values["min_history"] == 6
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.backtest(log, min_history=40)  # the log has 24 periods
    assert err.value.key == "error.backtest_no_origins"
    with pytest.warns(fs.BacktestWarning, match="horizon"):
        fs.backtest(log, horizon=30, min_history=20, reps=50, rng=1)  # periods: no horizon


def test_period_labels_are_ordered_in_time_not_as_text():
    """w1 ... w14 written without leading zeros: the origin w2 is fitted on w1 only (as
    text, w10-w14 would sort before w2, and the back-test would look ahead)."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "period": [f"w{i}" for i in range(1, 15)],
            "leads": 200,
            "sales": rng.binomial(200, 0.2, 14),
        }
    )
    log = fs.read_log(frame, format="counts", stages=["leads", "sales"])
    bt = fs.backtest(log, min_history=1, reps=100, rng=1)
    assert bt.cohorts["origin"].tolist() == [f"w{i}" for i in range(1, 15)]
    history = bt.table.drop_duplicates("origin").set_index("origin")["history"]
    assert history["w2"] == 1 and history["w10"] == 9 and history["w14"] == 13
    late = fs.backtest(log, start="w10", min_history=1, reps=100, rng=1)
    assert late.cohorts["origin"].iloc[0] == "w1"  # every cohort is listed...
    assert late.table["origin"].iloc[0] == "w11"  # ...but only w10 on are used
    dates = pd.Index(["2024-03", "2023-12", "2024-01"])
    assert dates[backtesting._chronological(dates)].tolist() == ["2023-12", "2024-01", "2024-03"]


def test_the_verdict_says_which_band_to_trust():
    bank = fs.backtest(fs.datasets.load_bank_marketing(), reps=300, rng=1)
    assert bank.verdict()[0].startswith("Even the band that lets the ratio move")
    steady = fs.backtest(fs.datasets.load_counts(), reps=300, rng=1)
    assert steady.verdict()[0].startswith("Every band held the actual")
    moving = fs.backtest(_counts_log(2, 0.05), min_history=8, reps=300, rng=2)
    cov = moving.coverage().set_index(["band", "level"])
    assert cov.loc[("point", 0.8), "coverage"] < cov.loc[("point", 0.8), "claimed"] - 0.2
    assert moving.verdict()[-1].startswith("The band that lets the ratio move held")
    few = fs.backtest(fs.datasets.load_counts(), min_history=19, reps=300, rng=1)
    assert few.verdict()[0].startswith("Only 7 forecasts")
    with fs.language("zh"):
        assert "只有 7 次预测" in few.verdict()[0]


def test_repr_states_the_80_band_in_both_languages():
    bt = fs.backtest(_counts_log(4, 0.02), min_history=8, reps=200, rng=1)
    cov = bt.coverage().set_index(["band", "level"])["coverage"]
    text = repr(bt)
    assert "16 forecasts" in text and "80%" in text
    assert f"point estimates {cov['point', 0.8]:.0%}" in text
    with fs.language("zh"):
        zh = repr(bt)
    assert "点估计" in zh and f"{cov['overdispersed', 0.8]:.0%}" in zh and "\n" in zh


# ------------------------------------------------------------------ CLI and plots
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_backtest_prints_the_coverage_table(tmp_path, lang, capsys):
    log = _counts_log(4, 0.02)
    path = tmp_path / "weeks.csv"
    log.counts.to_csv(path, index=False)
    out = io.StringIO()
    args = ["backtest", str(path), "--format", "counts", "--stages", "leads,meetings,sales"]
    with fs.language(lang):
        code = main([*args, "--min-history", "8", "--reps", "300", "--seed", "1", "-q"], out=out)
    assert code == 0, capsys.readouterr().err
    text = out.getvalue()
    word = {"en": "+ variation between periods", "zh": "+ 统计期之间的波动"}[lang]
    assert word in text and "16" in text


def test_cli_backtest_one_line_error_for_a_missing_horizon(tmp_path, capsys):
    path = tmp_path / "leads.csv"
    _dated_frame(weeks=4).to_csv(path, index=False)
    code = main(["backtest", str(path), "--format", "leads", "--stages", "call=call,sale=sale"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--horizon" in err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plots_draw_the_bands_and_the_pit(lang):
    bt = fs.backtest(_counts_log(4, 0.02), min_history=8, reps=200, rng=1)
    with fs.language(lang), fs.plotting.style():
        ax = fs.plotting.plot_backtest(bt, band="parameter")
        pit = fs.plotting.plot_pit(bt, bins=5)
    assert len(ax.containers) == 3
    np.testing.assert_array_equal(ax.lines[-1].get_ydata(), bt.table["actual"][::3])
    cov = bt.coverage().set_index(["band", "level"])["coverage"]["parameter", 0.8]
    assert f"{cov:.0%}" in ax.get_title()
    assert len(pit.patches) == 5
    heights = [p.get_height() for p in pit.patches]
    np.testing.assert_allclose(heights, bt.pit("overdispersed", bins=5)["density"])
    title = {"en": "Back-test", "zh": "回测"}[lang]
    assert title in ax.get_title()
    with pytest.raises(fs.FunnelsimValueError):
        fs.plotting.plot_backtest(bt, level=0.7)
