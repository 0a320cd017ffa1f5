"""Control charts: funnel-plot limits and the p-chart, against exact binomial references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from keyed import raises
from scipy import stats

import funnelsim as fs
from funnelsim.control import PChart, funnel_limits, p_chart
from funnelsim.estimate import fit
from funnelsim.logs import Log

VALUE, TYPE = fs.FunnelsimValueError, fs.FunnelsimTypeError


FOUR = pd.DataFrame(
    {"rep": ["ann", "bob", "cy", "dee"], "connects": [40, 70, 90, 60], "meetings": [3, 10, 25, 8]}
)


def _log(frame: pd.DataFrame, stages=("connects", "meetings")) -> Log:
    return Log("counts", tuple(stages), counts=frame)


# ------------------------------------------------------------ funnel_limits
def _spiegelhalter_low(p: float, n: int, q: float) -> float:
    """Scalar reference: smallest r with F(r) >= q, then interpolate."""
    cdf = stats.binom(n, p).cdf
    r = 0
    while cdf(r) < q:
        r += 1
    below = cdf(r - 1) if r > 0 else 0.0
    step = cdf(r) - below
    alpha = (cdf(r) - q) / step if step > 0 else 0.0
    return min(max((r - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize("p", [0.02, 0.15, 0.5, 0.9])
def test_funnel_limits_equal_a_scalar_reference(p):
    volumes = [1, 2, 5, 10, 37, 100, 250]
    out = funnel_limits(p, volumes)
    for level in (0.95, 0.998):
        q = (1 - level) / 2
        part = out[out["confidence_level"] == level]
        ref_low = [_spiegelhalter_low(p, n, q) for n in volumes]
        ref_high = [1 - _spiegelhalter_low(1 - p, n, q) for n in volumes]
        np.testing.assert_allclose(part["low"], ref_low, atol=1e-12)
        np.testing.assert_allclose(part["high"], ref_high, atol=1e-12)


@pytest.mark.parametrize("p", [0.02, 0.15, 0.5, 0.9])
def test_funnel_limits_hold_their_level_on_each_side_exactly(p):
    """A group with the team's ratio falls below (above) with probability at most q, and the
    lower limit lies between the two whole counts around the binomial quantile."""
    volumes = np.r_[1:201, 500, 1000]
    for level in (0.8, 0.95, 0.998):
        q = (1 - level) / 2
        out = funnel_limits(p, volumes, confidence_level=level)
        low, high = out["low"].to_numpy(), out["high"].to_numpy()
        below = stats.binom.cdf(np.ceil(low * volumes - 1e-9) - 1, volumes, p)  # P(K/n < low)
        above = stats.binom.sf(np.floor(high * volumes + 1e-9), volumes, p)  # P(K/n > high)
        assert (below <= q + 1e-12).all() and (above <= q + 1e-12).all()
        r = stats.binom.ppf(q, volumes, p)
        assert (
            (low >= np.maximum(r - 1, 0) / volumes - 1e-12) & (low <= r / volumes + 1e-12)
        ).all()
        assert (low <= p + 1e-12).all() and (high >= p - 1e-12).all()


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_funnel_limits_approach_the_normal_limits(p):
    """Cornish-Fisher: the binomial quantile differs from the normal one by less than one count
    plus the interpolation step, so by less than 2 / n on the ratio scale."""
    volumes = np.array([10_000, 100_000, 1_000_000])
    for level in (0.95, 0.998):
        z = stats.norm.isf((1 - level) / 2)
        out = funnel_limits(p, volumes, confidence_level=level)
        half = z * np.sqrt(p * (1 - p) / volumes)
        assert (np.abs(out["low"] - (p - half)) < 2 / volumes).all()
        assert (np.abs(out["high"] - (p + half)) < 2 / volumes).all()


def test_funnel_limits_edges_and_shape():
    out = funnel_limits(0.0, [1, 50])
    assert (out["low"] == 0).all() and (out["high"] == 0).all()
    out = funnel_limits(1.0, [1, 50])
    assert (out["low"] == 1).all() and (out["high"] == 1).all()
    out = funnel_limits(0.2, 40)
    assert out.columns.tolist() == ["volume", "confidence_level", "low", "high"]
    assert out["confidence_level"].tolist() == [0.95, 0.998]
    wide, narrow = out["high"] - out["low"]
    assert narrow > wide  # 99.8 % limits are wider
    assert out["volume"].dtype == np.int64


@pytest.mark.parametrize("volumes", [[0], [2.5], [-3], [np.nan]])
def test_funnel_limits_bad_volumes(volumes):
    raises(
        VALUE,
        "error.volumes",
        lambda: funnel_limits(0.2, volumes),
        value=repr(volumes[0]),
        index=0,
    )


def test_funnel_limits_volumes_of_the_wrong_type():
    raises(
        TYPE,
        "error.type_number",
        lambda: funnel_limits(0.2, [10, "x"]),
        name="volumes[1]",
        value="'x'",
        type="str",
    )


def test_funnel_limits_bad_ratio_and_level():
    raises(
        VALUE, "error.ratio_range", lambda: funnel_limits(1.2, [10]), name="team_ratio", value=1.2
    )
    raises(
        VALUE,
        "error.confidence_level",
        lambda: funnel_limits(0.2, [10], confidence_level=(0.95, 1.0)),
        value=1.0,
    )
    raises(
        VALUE,
        "error.confidence_level",
        lambda: funnel_limits(0.2, [10], confidence_level=()),
        value="[]",
    )


# ------------------------------------------------------------------ p_chart
def test_p_chart_limits_by_hand():
    counts = pd.DataFrame(
        {
            "period": ["w1", "w2", "w3", "w4", "w5"],
            "connects": [100, 120, 90, 110, 4],
            "meetings": [20, 25, 3, 22, 4],
        }
    )
    chart = p_chart(_log(counts))
    assert isinstance(chart, PChart)
    frame = chart.to_frame()
    n = counts["connects"].to_numpy(float)
    k = counts["meetings"].to_numpy(float)
    p = k.sum() / n.sum()
    se = np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(frame["centre"], p, rtol=1e-15)
    np.testing.assert_allclose(frame["low"], np.maximum(p - 3 * se, 0), rtol=1e-12)
    np.testing.assert_allclose(frame["high"], np.minimum(p + 3 * se, 1), rtol=1e-12)
    assert frame["low"].iloc[4] == 0.0  # 4 connects: p - 3 se < 0, clipped
    assert frame["signal"].tolist() == ["", "", "below", "", "above"]  # 4/4 = 100 % > high
    assert chart.flagged["period"].tolist() == ["w3", "w5"]
    two = p_chart(_log(counts), sigmas=2)
    np.testing.assert_allclose(two.to_frame()["high"], np.minimum(p + 2 * se, 1), rtol=1e-12)
    known = p_chart(_log(counts), centre=0.25).to_frame()
    se = np.sqrt(0.25 * 0.75 / n)
    np.testing.assert_allclose(known["low"], np.maximum(0.25 - 3 * se, 0), rtol=1e-12)


def test_laney_p_chart_by_hand():
    """Laney (2002) worked by hand on four weeks of 70 meetings in 420 connects.

    p = 70/420 = 0.166667; sigma_i = sqrt(p (1 - p) / n_i) = 0.037268, 0.034021,
    0.039284, 0.035533; z = (p_i - p) / sigma_i = 0.894427, 1.224745, -3.394113,
    0.938083; moving ranges 0.330318, 4.618858, 4.332196, mean 3.093790;
    sigma_z = 3.093790 / 1.128 = 2.742722; limits p ± 3 sigma_i sigma_z: highs 0.473312,
    0.446595, 0.489900, 0.459042; lows all below 0 (-0.139979 for w1), clipped to 0.
    """
    counts = pd.DataFrame(
        {"period": ["w1", "w2", "w3", "w4"], "connects": [100, 120, 90, 110],
         "meetings": [20, 25, 3, 22]}
    )  # fmt: skip
    classic = p_chart(_log(counts))
    laney = p_chart(_log(counts), method="laney")
    assert laney.method == "laney" and classic.method == "classic"
    frame = laney.to_frame()
    np.testing.assert_allclose(frame["sigma_z"], 2.742722, rtol=1e-6)
    np.testing.assert_allclose(frame["high"], [0.473312, 0.446595, 0.489900, 0.459042], rtol=1e-5)
    np.testing.assert_allclose(frame["low"], 0.0)
    assert frame["signal"].tolist() == ["", "", "", ""]  # w3 was "below" on the classic chart
    assert classic.flagged["period"].tolist() == ["w3"]
    disp = laney.dispersion
    assert disp["periods"].tolist() == [4]
    np.testing.assert_allclose(disp["sigma_z"], 2.742722, rtol=1e-6)
    pd.testing.assert_frame_equal(classic.dispersion, disp)  # the classic chart reports it too
    text = repr(laney)
    assert "sigma_z = 2.74" in text and "sigma_z" not in repr(classic)
    # the default is unchanged: no sigma_z column, and method="classic" is the default
    assert "sigma_z" not in classic.to_frame().columns
    pd.testing.assert_frame_equal(p_chart(_log(counts), method="classic").table, classic.table)


def test_laney_sigma_z_per_chart_skips_empty_periods_and_keeps_a_given_centre():
    counts = pd.DataFrame(
        {"rep": ["a"] * 4 + ["b"] * 4, "period": ["w1", "w2", "w3", "w4"] * 2,
         "connects": [100, 0, 120, 90, 50, 60, 70, 80], "meetings": [20, 0, 25, 3, 10, 13, 14, 15]}
    )  # fmt: skip
    chart = p_chart(_log(counts), by="rep", method="laney", centre=0.2)
    disp = chart.dispersion.set_index("rep")
    for rep, rows in counts.groupby("rep"):
        rows = rows[rows["connects"] > 0]
        n, k = rows["connects"].to_numpy(float), rows["meetings"].to_numpy(float)
        z = (k / n - 0.2) / np.sqrt(0.2 * 0.8 / n)
        assert disp.loc[rep, "periods"] == len(rows)
        assert disp.loc[rep, "sigma_z"] == pytest.approx(np.abs(np.diff(z)).mean() / 1.128)
    assert "to" in repr(chart)  # two charts: the range of sigma_z
    # one period with leads: sigma_z undefined, the classic limits are kept
    one = p_chart(_log(counts.iloc[:2]), method="laney")
    assert one.table["sigma_z"].tolist() == [1.0, 1.0]
    assert one.dispersion["sigma_z"].isna().all()
    pd.testing.assert_frame_equal(
        one.table.drop(columns="sigma_z"), p_chart(_log(counts.iloc[:2])).table
    )


@pytest.mark.parametrize("rho, expected", [(0.0, 1.0), (0.01, math.sqrt(1 + 499 * 0.01))])
def test_laney_sigma_z_measures_the_extra_variation(rho, expected):
    """1,000 periods of 500 leads, ratio 0.2, beta-binomial with intra-class correlation rho:
    Var(p_i) = p (1 - p) / n * (1 + (n - 1) rho), so sigma_z ~ sqrt(1 + (n - 1) rho). For
    normal z the moving-range estimate has SE ~ sqrt(0.727 * 1.5 / 1000) / 1.128 = 0.029 of
    sigma_z (MRs of neighbours correlate): tolerance 4 SE, relative."""
    rng = np.random.default_rng(2002)
    n, periods, p = 500, 1000, 0.2
    if rho:
        a, b = p * (1 / rho - 1), (1 - p) * (1 / rho - 1)
        ratio = rng.beta(a, b, size=periods)
    else:
        ratio = np.full(periods, p)
    k = rng.binomial(n, ratio)
    counts = pd.DataFrame({"period": np.arange(periods), "connects": n, "meetings": k})
    chart = p_chart(_log(counts), method="laney")
    sigma_z = float(chart.dispersion["sigma_z"].iloc[0])
    assert sigma_z == pytest.approx(expected, rel=4 * 0.029)
    classic = p_chart(_log(counts))
    if rho:  # overdispersed: the classic chart flags many periods, Laney's about 0.27 %
        assert len(classic.flagged) > 0.2 * periods
        assert len(chart.flagged) <= 0.0027 * periods + 4 * math.sqrt(0.0027 * periods) + 2


def test_p_chart_in_control_flags_about_0_27_percent(rng):
    """40,000 in-control weeks: the flag rate equals the exact binomial probability of falling
    outside the limits within 4 standard errors, and that probability is the normal 0.27 %
    to within 0.0004 (binomial skewness at n >= 500)."""
    weeks = 40_000
    n = rng.integers(500, 3001, size=weeks)
    k = rng.binomial(n, 0.3)
    table = pd.DataFrame(
        {"period": np.arange(weeks), "stage": "meetings", "entered": n, "passed": k}
    )
    frame = p_chart(table).to_frame()
    low, high = frame["low"].to_numpy(), frame["high"].to_numpy()
    outside = stats.binom.cdf(np.ceil(low * n) - 1, n, 0.3) + stats.binom.sf(
        np.floor(high * n), n, 0.3
    )
    expected = outside.mean()
    se = math.sqrt(expected * (1 - expected) / weeks)
    observed = (frame["signal"] != "").mean()
    assert abs(observed - expected) < 4 * se
    assert abs(expected - 2 * stats.norm.sf(3)) < 0.0004


def test_p_chart_flags_an_injected_shift(rng):
    n = np.full(52, 400)
    p = np.where(np.arange(52) < 40, 0.3, 0.15)  # the last 12 weeks fall to half
    k = rng.binomial(n, p)
    counts = pd.DataFrame(
        {
            "period": pd.date_range("2025-01-06", periods=52, freq="W-MON"),
            "connects": n,
            "meetings": k,
        }
    )
    frame = p_chart(_log(counts)).to_frame()
    shifted = frame["signal"].to_numpy()[40:]
    # each shifted week is missed with probability about 0.003 (2.7 sd inside the limit)
    assert (shifted == "below").sum() >= 11
    assert not (frame["signal"].to_numpy()[:40] == "below").any()
    text = repr(p_chart(_log(counts)))
    assert "meetings 2025-10-13: " in text and "00:00:00" not in text  # week 41, a Monday
    # a known centre from the stable months flags the shift as well
    known = p_chart(_log(counts), centre=0.3).to_frame()
    assert (known["signal"].to_numpy()[40:] == "below").sum() >= 11


def test_p_chart_per_group_has_its_own_centre():
    counts = pd.DataFrame(
        {
            "period": ["w1", "w2", "w1", "w2"],
            "rep": ["ann", "ann", "bob", "bob"],
            "connects": [100, 100, 50, 50],
            "meetings": [10, 20, 20, 30],
        }
    )
    chart = p_chart(_log(counts), by="rep")
    frame = chart.to_frame()
    assert frame.columns.tolist()[:3] == ["rep", "period", "stage"]
    centre = frame.groupby("rep")["centre"].first()
    assert centre["ann"] == pytest.approx(0.15) and centre["bob"] == pytest.approx(0.5)
    assert "per rep" in repr(chart)


def test_p_chart_from_a_lead_log_and_a_fit():
    leads = pd.DataFrame({"period": ["w1"] * 4 + ["w2"] * 4})
    reached = pd.DataFrame(
        {"connects": [True] * 8, "meetings": [True, False, False, False, True, True, False, True]}
    )
    log = Log("leads", ("connects", "meetings"), leads=leads, reached=reached)
    frame = p_chart(log).to_frame()
    assert frame["passed"].tolist() == [1, 3] and frame["entered"].tolist() == [4, 4]
    pd.testing.assert_frame_equal(p_chart(fit(log, by="period")).to_frame(), frame)


def test_p_chart_multi_step_and_empty_periods():
    counts = pd.DataFrame(
        {"period": [1, 2, 3], "dials": [50, 0, 60], "connects": [20, 0, 30], "meetings": [5, 0, 6]}
    )
    chart = p_chart(_log(counts, ("dials", "connects", "meetings")))
    frame = chart.to_frame()
    assert frame["stage"].tolist() == ["connects"] * 3 + ["meetings"] * 3
    empty = frame[frame["period"] == 2]
    assert empty["ratio"].isna().all() and (empty["signal"] == "").all()
    assert p_chart(_log(counts, ("dials", "connects", "meetings")), stage="meetings").stages == (
        "meetings",
    )


def test_p_chart_bad_input():
    log = _log(FOUR)
    raises(VALUE, "error.unknown_by", lambda: p_chart(log), value="period")
    counts = _log(FOUR.assign(period="w1"))
    raises(VALUE, "error.positive", lambda: p_chart(counts, sigmas=0), name="sigmas", value=0)
    raises(
        VALUE,
        "error.period_in_by",
        lambda: p_chart(counts, by=["rep", "period"]),
        period="'period'",
    )
    raises(VALUE, "error.ratio_range", lambda: p_chart(counts, centre=1.5), name="centre")
    raises(VALUE, "error.choice", lambda: p_chart(counts, method="laney2"), name="method")
    raises(TYPE, "error.type_choice", lambda: p_chart(counts, method=2), name="method")
    raises(VALUE, "error.by_type", lambda: p_chart(counts, period=""), name="period")
    raises(
        TYPE, "error.by_type", lambda: p_chart(counts, period=None), name="period", type="NoneType"
    )
    raises(TYPE, "error.type_number", lambda: p_chart(counts, sigmas="3"), name="sigmas")
