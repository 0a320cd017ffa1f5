"""The command line, end to end: ``python -m funnelsim`` in a subprocess on the sample data.

Each subprocess pays the import of the kit (one to two seconds), so the
runs are few and each checks several things; the many ways input can be
bad are checked in-process through :func:`funnelsim.cli.main`, which the
console script calls.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import i18n
from funnelsim.cli import main
from funnelsim.lessons import calls_per_week, outlook
from funnelsim.report import build_report

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "data" / "sample_events.csv"
STAGES = ["dial", "connect", "meeting", "proposal", "sale"]
AS_OF = "2025-06-30 18:00"
LOG_ARGS = [str(EVENTS), "--stages", ",".join(STAGES), "--as-of", AS_OF]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "funnelsim", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=120,
    )


def call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.fixture(scope="module")
def log() -> fs.Log:
    return fs.datasets.load_events()  # what the commands below read from EVENTS


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


# ---------------------------------------------------------------- fit
def test_fit_prints_the_ratios_of_fs_fit(log):
    done = run("fit", *LOG_ARGS)
    assert done.returncode == 0, done.stderr
    # no progress bar when stderr is not a terminal: only the note on young open leads
    assert [line[:6] for line in done.stderr.splitlines()] == ["note: "], done.stderr
    ref = fs.fit(log).to_frame()
    overall = fs.fit(log).overall
    lines = done.stdout.splitlines()
    assert "6,000 leads" in lines[0] and "2025-06-30 18:00" in lines[0]
    rows = {}
    for line in lines:
        m = re.search(r"(\w+) → (\w+)\s+(\d+)/(\d+)\s+([\d.]+%)\s+([\d.]+%) – ([\d.]+%)", line)
        if m:
            rows[(m[1], m[2])] = (int(m[3]), int(m[4]), m[5], m[6], m[7])
    assert len(rows) == len(STAGES)  # four steps and the overall rate
    for previous, row in zip(STAGES, ref.itertuples(index=False), strict=False):
        assert rows[(previous, row.stage)] == (
            row.passed,
            row.entered,
            _pct(row.ratio),
            _pct(row.low),
            _pct(row.high),
        )
    assert rows[("dial", "sale")] == (
        80,
        6000,
        _pct(overall.ratio),
        _pct(overall.low),
        _pct(overall.high),
    )


def test_fit_csv_by_rep_is_the_fit_table(log):
    done = run("fit", *LOG_ARGS, "--by", "rep", "--method", "jeffreys", "--csv")
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(io.StringIO(done.stdout))
    ref = fs.fit(log, by="rep", method="jeffreys").to_frame()
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-14, atol=0)


# ------------------------------------------------------------ forecast
def test_forecast_is_reproducible_and_equals_the_library(log):
    args = ["forecast", *LOG_ARGS, "--target", "40", "--probability", "0.9"]
    args += ["--periods", "13", "--reps", "2000", "--seed", "7"]
    done = run(*args)
    assert done.returncode == 0, done.stderr
    # same seed, same output (here: in this process against the subprocess)
    rc, again = call(*args)
    assert rc == 0 and again == done.stdout

    # the pace of the printout is calls_per_week's (checked on a known rate below)
    pace = round(calls_per_week(log))
    assert f"the log's pace of {pace:,} calls a week" in done.stdout

    fit = fs.fit(log)
    plan = fs.plan_calls(fit, 40, 0.9, periods=13, rng=7).to_frame().iloc[-1]
    # the pace is weekly, so every sentence and heading counts in weeks, from week 1
    assert f"in 13 weeks, 90% sure: {int(plan['calls']):,} calls a week" in done.stdout
    assert "Calls needed per week\n" in done.stdout and " period" not in done.stdout
    assert f"{int(plan['calls_point']):,} if the ratios were known exactly" in done.stdout
    assert f"the decks' back-calculation says {int(plan['calls_decks']):,}" in done.stdout

    fc = fs.forecast(fit, pace, 13, 2000, rng=7)
    bands = fc.percentiles(measure="sales", cumulative=True)
    reach = fc.prob_reach(40, measure="sales")
    table = done.stdout.split("Forecast band, cumulated week by week\n")[1]
    header, *lines = table.strip().splitlines()
    rows = [line.split() for line in lines]
    assert header.split()[0] == "week" and [row[0] for row in rows] == [
        str(week) for week in range(1, 14)
    ]  # counted from 1, as on the chart
    for row, ref, p in zip(rows, bands.itertuples(index=False), reach, strict=True):
        expected = [f"{ref.period}", f"{ref.mean:.1f}", f"{ref.q10:.1f}", f"{ref.q50:.1f}"]
        assert row == [*expected, f"{ref.q90:.1f}", _pct(p)]
    assert f"Chance of reaching 40 sales: {reach.iloc[-1]:.0%}." in done.stdout


def test_forecast_revenue_with_deal_sizes_from_the_log(log):
    rc, text = call(
        "forecast", *LOG_ARGS, "--target", "500000", "--deal-size", "log", "--calls", "300",
        "--cycle", "4", "--reps", "1000", "--seed", "3", "--quiet",
    )  # fmt: skip
    assert rc == 0
    amounts = log.leads.loc[log.reached["sale"], "amount"]
    size = fs.DealSize.gamma(amounts.mean(), cv=amounts.std(ddof=1) / amounts.mean())
    fc = fs.forecast(fs.fit(log), 300, 13, 1000, cycle=fs.Cycle(4), deal_size=size, rng=3)
    p10, p50, p90 = np.quantile(fc.revenue.sum(axis=1), [0.1, 0.5, 0.9])
    assert f"P10 {p10:,.0f}, P50 {p50:,.0f}, P90 {p90:,.0f}" in text
    assert "at 300 calls a period (as given), 13 periods" in text  # --calls: unit unknown
    assert "Forecast band, cumulated period by period\n period " in text


# ------------------------------------------------------------- bad input
def test_mature_fit_leaves_open_leads_out_and_says_so(log):
    """--mature 60 prints the counts of fs.fit(log, mature=60); the overall row has no
    counts (each step has its own cohort) and a note says how many were left out."""
    rc, out = call("fit", *LOG_ARGS, "--mature", "60")
    assert rc == 0
    ref = fs.fit(log, mature=60)
    for previous, row in zip(STAGES, ref.to_frame().itertuples(index=False), strict=False):
        ratio = re.escape(_pct(row.ratio))
        assert re.search(rf"{previous} → {row.stage}\s+{row.passed}/{row.entered}\s+{ratio}", out)
    assert re.search(rf"dial → sale\s+–\s+{re.escape(_pct(ref.overall.ratio))}", out)
    young = int(ref.to_frame()["young"].sum())
    assert f"at least 60 days at each step's previous stage ({young:,} younger" in out
    assert call("fit", *LOG_ARGS, "--mature", "60D")[1] == out
    # the forecast and the report take the same fit
    rc, forecast = call("forecast", *LOG_ARGS, "--mature", "60", "--target", "40", "--seed", "1",
                        "--reps", "500")  # fmt: skip
    assert rc == 0 and f"({young:,} younger" in forecast
    page = build_report(log, mature=60)
    assert f"({young:,} younger" in page


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    done = run("fit", str(tmp_path / "missing.csv"), "--stages", "dial,sale")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "missing.csv" in done.stderr and "Traceback" not in done.stderr


BAD = {
    "unknown stage": ["fit", str(EVENTS), "--stages", "dial,sael"],
    "missing --stages": ["fit", str(EVENTS)],
    "bad method": ["fit", *LOG_ARGS, "--method", "magic"],
    "unknown group": ["fit", *LOG_ARGS, "--by", "region"],
    "level above 1": ["fit", *LOG_ARGS, "--confidence-level", "95"],
    "bad column pair": ["fit", *LOG_ARGS, "--column", "lead"],
    "nothing to forecast": ["forecast", *LOG_ARGS],
    "probability 1.5": ["forecast", *LOG_ARGS, "--target", "10", "--probability", "1.5"],
    "negative target": ["forecast", *LOG_ARGS, "--target", "-5"],
    "deal size word": ["forecast", *LOG_ARGS, "--target", "5", "--deal-size", "big"],
    "cv without size": ["forecast", *LOG_ARGS, "--target", "5", "--deal-cv", "0.3"],
    "mature not a duration": ["fit", *LOG_ARGS, "--mature", "a month"],
    "negative seed": ["forecast", *LOG_ARGS, "--target", "5", "--seed", "-1"],
    "cycle of a billion weeks": ["forecast", *LOG_ARGS, "--target", "5", "--cycle", "1e9"],
    "calls beyond int64": [
        "forecast",
        *LOG_ARGS,
        "--target",
        "5",
        "--calls",
        "99999999999999999999",
        "--reps",
        "100",
    ],
    "mature negative": ["fit", *LOG_ARGS, "--mature", "-5"],
    "report not html": ["report", *LOG_ARGS, "-o", "report.pdf"],
    "report no folder": ["report", *LOG_ARGS, "-o", "no/such/folder/r.html"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_every_bad_input_gives_exit_code_2_and_one_line(args, capsys):
    try:
        rc, out = call(*args)
    except SystemExit as exc:  # argparse's own checks
        rc, out = exc.code, ""
    err = capsys.readouterr().err
    assert rc == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("funnelsim")
    assert "Traceback" not in err


def test_help_shows_examples_with_the_shipped_files(capsys):
    for args in (["--help"], ["fit", "--help"], ["forecast", "--help"], ["report", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 0
        text = capsys.readouterr().out
        assert "examples" in text and "data/sample_" in text


EPILOGS = [
    "cli.epilog",
    "cli.fit.epilog",
    "cli.forecast.epilog",
    "cli.report.epilog",
    "cli.kpi.epilog",
]


@pytest.mark.parametrize("key", EPILOGS)
def test_the_help_examples_run(key, capsys, tmp_path, monkeypatch):
    """Every example in the ``--help`` texts works as printed (from the repository root)."""
    monkeypatch.chdir(ROOT)
    epilog = fs.t(key).replace("\\\n", " ")
    examples = [shlex.split(line)[1:] for line in epilog.splitlines() if "  funnelsim " in line]
    assert len(examples) >= 2
    for args in examples:
        args = args[: args.index(">")] if ">" in args else args  # a shell redirection
        args = [str(tmp_path / a) if a.endswith((".html", ".png")) else a for a in args]
        if args[0] not in ("fit", "kpi"):
            args += ["--reps", "500"]
        rc, _ = call(*args)
        assert rc == 0, (args, capsys.readouterr().err)


# ---------------------------------------------------------------- report
def test_report_file_is_self_contained(tmp_path):
    out = tmp_path / "report.html"
    done = run(
        "report", *LOG_ARGS, "--by", "rep", "--target", "40", "--reps", "1000", "--seed", "1",
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    page = out.read_text(encoding="utf-8")
    _check_self_contained(page)
    for heading in ("Stage ratios", "Ratios by rep", "Sales cycle", "Forecast and plan"):
        assert f"<h2>{heading}</h2>" in page


def _check_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)  # nothing to fetch
    images = re.findall(r'<img alt="" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert images and page.count("<img") == len(images)
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")


def test_build_report_shows_the_fit_and_the_cycle(log):
    page = build_report(log, method="jeffreys", confidence_level=0.9)
    _check_self_contained(page)
    fit = fs.fit(log, method="jeffreys", confidence_level=0.9)
    for row in fit.to_frame().itertuples(index=False):
        assert f"<td>{row.passed}/{row.entered}</td>" in page
        assert f"<td>{_pct(row.low)} – {_pct(row.high)}</td>" in page
    cycle = fs.cycle_length(log, confidence_level=0.9)
    assert f"half take {cycle.median:.1f} days" in page
    assert "Forecast and plan" not in page  # no target, no calls: no forecast


def test_build_report_same_seed_same_page_and_counts_log():
    counts = fs.datasets.load_counts()
    kwargs = {"target": 30, "periods": 4, "reps": 500, "by": "rep"}
    first = build_report(counts, rng=5, **kwargs)
    assert build_report(counts, rng=5, **kwargs) == first
    _check_self_contained(first)
    assert "Sales cycle" not in first  # a counts log has no times
    weeks = pd.read_csv(fs.datasets.path("sample_counts.csv"))
    pace = weeks["dials"].sum() / weeks["week"].nunique()
    assert calls_per_week(counts) == pytest.approx(pace, rel=1e-12)
    assert html.escape(f"the log's pace of {round(pace):,} calls a week") in first


# ------------------------------------------------------------ real data
@pytest.mark.shared
def test_olist_fit_and_report_end_to_end(shared_data, tmp_path):
    """Olist's marketing-qualified leads joined to its closed deals (see test_real_logs)."""
    folder = shared_data / "olist_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    merged = tmp_path / "olist.csv"
    mqls.merge(deals, on="mql_id", how="left").to_csv(merged, index=False)
    args = [str(merged), "--format", "leads", "--stages", "MQL=first_contact_date,won=won_date"]
    args += ["--column", "lead=mql_id", "--column", "source=origin", "--column", "rep=sr_id"]
    args += ["--errors", "drop"]  # one deal is won before its first contact
    done = run("fit", *args, "--by", "source", "--csv")
    assert done.returncode == 0, done.stderr
    assert "1 rows of olist.csv were left out" in done.stderr  # dropped, never silently
    log = fs.read_log(
        merged,
        format="leads",
        stages={"MQL": "first_contact_date", "won": "won_date"},
        columns={"lead": "mql_id", "source": "origin", "rep": "sr_id"},
        errors="drop",
    )
    got = pd.read_csv(io.StringIO(done.stdout), keep_default_na=False, na_values=[""])
    ref = fs.fit(log, by="source").to_frame()
    assert got["passed"].sum() == 841
    np.testing.assert_array_equal(got["entered"], ref["entered"])
    np.testing.assert_allclose(got[["ratio", "low", "high"]], ref[["ratio", "low", "high"]])

    out = tmp_path / "olist.html"
    done = run("report", *args, "--target", "100", "--periods", "8", "--reps", "1000",
               "--seed", "2", "-q", "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    _check_self_contained(page)
    assert "841 closed" in page and "Forecast and plan" in page


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("terminal", "quiet", "shown"), [(True, False, True),
                         (True, True, False), (False, False, False)])  # fmt: skip
def test_progress_bar_only_on_a_terminal_and_not_quiet(monkeypatch, terminal, quiet, shown):
    from funnelsim import _cli_args

    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with _cli_args.progress_bar(2, quiet, "building the report") as bar:
        bar.update()
    assert ("building the report" in stream.getvalue()) is shown


def test_forecast_at_the_planned_calls_reaches_the_target_as_promised():
    """Two independent routes agree: the plan (exact binomial mixed over 4,000 posterior
    draws) and the simulated futures at its calls (20,000 replicates). Tolerance: 4
    combined standard errors, sqrt(0.9 x 0.1 / 20,000) for the simulation and about 0.003
    for the plan's own draws (the chance given p varies with sd ~0.2 across the draws)."""
    log = fs.Log(
        "counts", ("dials", "sales"), counts=pd.DataFrame({"dials": [5000], "sales": [40]})
    )
    o = outlook(fs.fit(log), target=40, probability=0.9, periods=13, reps=20_000, rng=0)
    assert o.calls_from == "plan"
    reach = float(o.to_frame()["prob_reach"].iloc[-1])
    se = math.hypot(math.sqrt(0.9 * 0.1 / 20_000), 0.2 / math.sqrt(4000))
    assert abs(reach - 0.9) < 4 * se


def test_report_on_a_young_log_and_on_a_log_without_sales(tmp_path):
    """A log with no sale yet, and a counts log with zero sales: a report, with notes,
    not a traceback (the funnel chart of a step nobody reached is left out)."""
    young = tmp_path / "young.csv"
    pd.read_csv(EVENTS, dtype=str, keep_default_na=False).head(400).to_csv(young, index=False)
    out = tmp_path / "r.html"
    done = run("report", str(young), "--stages", ",".join(STAGES), "--by", "rep", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "No rep has a lead at the step into sale yet" in out.read_text(encoding="utf-8")
    nosales = tmp_path / "nosales.csv"
    counts = pd.read_csv(ROOT / "data" / "sample_counts.csv").assign(sales=0)
    counts.to_csv(nosales, index=False)
    rc, _ = call("report", str(nosales), "--format", "counts", "--stages",
                 "dials,connects,meetings,sales", "--column", "period=week",
                 "-o", str(out))  # fmt: skip
    assert rc == 0
    fit = fs.fit(fs.read_log(nosales, format="counts", stages=["dials", "connects", "meetings",
                 "sales"], columns={"period": "week"}))  # fmt: skip
    assert fit.overall.ratio == 0 and fit.overall.low == 0 < fit.overall.high


def test_errors_drop_lists_every_row_it_leaves_out(tmp_path):
    """A counts file read without its week column: each rep's later weeks look like
    repeats. The first rows are listed on stderr, --dropped writes all of them (as
    log.dropped has them), a warning says most rows went, and the log is never the
    --dropped target."""
    counts = ROOT / "data" / "sample_counts.csv"
    args = ["fit", str(counts), "--format", "counts", "--stages", "dials,connects,meetings,sales",
            "--errors", "drop"]  # fmt: skip
    out = tmp_path / "dropped.csv"
    done = run(*args, "--dropped", str(out))
    assert done.returncode == 0, done.stderr
    ref = fs.read_log(counts, format="counts", stages=["dials", "connects", "meetings", "sales"],
                      errors="drop").dropped  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_csv(out), ref.reset_index(drop=True), check_dtype=False)
    lines = done.stderr.splitlines()
    assert lines[0] == f"Note: {len(ref)} rows of sample_counts.csv were left out (--errors drop):"
    first = ref.iloc[0]
    assert lines[1] == f"  row {first['row']}, column '{first['column']}': {first['reason']}"
    assert f"and {len(ref) - 10} more" in lines[11]
    assert "More rows were left out than kept" in lines[12]
    page = tmp_path / "r.html"
    assert run(*[a if a != "fit" else "report" for a in args], "-o", str(page)).returncode == 0
    assert page.read_text(encoding="utf-8").count("a second row for the same") == len(ref)
    before = counts.read_bytes()
    rc, _ = call(*args, "--dropped", str(counts))
    assert rc == 2 and counts.read_bytes() == before


def test_pace_of_a_log_with_a_known_rate():
    """One lead a day for ten weeks is 7 a week (70 leads span 69 days: 69 gaps);
    a counts log's pace is its first-stage total over its periods."""
    days = pd.date_range("2025-01-06", periods=70, freq="D")
    events = pd.DataFrame({"lead": [f"L{i}" for i in range(70)], "stage": "dial", "time": days})
    log = fs.read_log(events, format="events", stages=["dial", "sale"])
    assert calls_per_week(log) == pytest.approx(7.0, rel=1e-12)
    counts = fs.Log("counts", ("dials", "sales"),
                    counts=pd.DataFrame({"period": [1, 2, 3], "dials": [10, 20, 60],
                                         "sales": [0, 1, 2]}))  # fmt: skip
    assert calls_per_week(counts) == 30.0


def test_chinese_text_names_the_kits_stages_in_chinese_and_keeps_the_identifiers(tmp_path):
    """The printed table and plan follow the language (stage names, the team's row); the CSV
    and the tables behind them keep the identifiers."""
    path = tmp_path / "counts.csv"
    pd.DataFrame(
        {"rep": ["ann", "bob"], "dials": [150, 150], "connects": [70, 40], "meetings": [10, 3]}
    ).to_csv(path, index=False)
    args = ["fit", str(path), "--format", "counts", "--stages", "dials,connects,meetings"]
    plan = ["forecast", *args[1:], "--target", "5", "--by", "rep", "--reps", "500", "--seed", "1"]
    with fs.language("zh"):
        dials, meetings = fs.i18n.stage_label("dials"), fs.i18n.stage_label("meetings")
        team = fs.t("plan.team")
        code, text = call(*args)
        code_csv, csv = call(*args, "--csv")
        code_plan, planned = call(*plan)
    assert dials != "dials" and meetings != "meetings" and team != "team"
    assert code == code_csv == code_plan == 0
    assert f"{dials} → {meetings}" in text and "dials" not in text
    assert csv.splitlines()[0] == "stage,entered,passed,ratio,low,high"
    assert [line.split(",")[0] for line in csv.splitlines()[1:]] == ["connects", "meetings"]
    assert team in planned and " team" not in planned
    code, english = call(*args)
    assert code == 0 and "dials → meetings" in english


def test_the_report_names_the_kits_stages_in_the_language_of_the_page():
    counts = pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]})
    log = fs.Log("counts", ("dials", "connects", "meetings"), counts=counts)
    with fs.language("zh"):
        page = build_report(log)
        dials, meetings = fs.i18n.stage_label("dials"), fs.i18n.stage_label("meetings")
    assert f"{dials} → {meetings}" in page and "dials → meetings" not in page


def test_advice_on_the_command_line_names_the_options_not_python_arguments(capsys, tmp_path):
    """A bad log's fix says --errors drop, --stages, --column: what a command-line user types."""
    rc, _ = call("fit", str(EVENTS), "--stages", "dial,sael")
    err = capsys.readouterr().err
    assert rc == 2 and "--errors drop" in err and "--stages" in err
    assert 'errors="drop"' not in err and "stages=" not in err
    # the lead column under a name no export uses (线索编号 would be recognised)
    raw = (ROOT / "data" / "sample_events_gbk.csv").read_bytes()
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(raw.replace("线索编号".encode("gbk"), "客户编码".encode("gbk"), 1))
    rc, _ = call("fit", str(gbk), "--stages", "拨打,接通")
    err = capsys.readouterr().err
    assert rc == 2 and "--column lead=" in err and "columns=dict" not in err
    with pytest.raises(fs.FunnelsimValueError) as info:  # Python users keep Python's words
        fs.read_log(EVENTS, format="events", stages=["dial", "sael"])
    assert 'errors="drop"' in str(info.value)


def test_a_two_stage_funnel_prints_each_step_once():
    """With one step, first to last is that step: the table has no repeated overall row."""
    from funnelsim.summaries import ratio_table

    frame = pd.DataFrame(
        {"contact": ["cell", "cell", "cell", "tel", "tel"], "y": ["yes", "no", "no", "yes", "no"]}
    )
    log = fs.read_log(
        frame,
        format="leads",
        stages={"contacted": None, "subscribed": "y"},
        columns={"source": "contact"},
    )
    table = ratio_table(fs.fit(log, by="source"))
    assert table.iloc[:, 0].tolist() == ["cell", "tel"]
    assert table.iloc[:, 2].tolist() == ["1/3", "1/2"]
    three = fs.read_log(
        pd.DataFrame({"dials": [150], "connects": [70], "meetings": [10]}),
        format="counts",
        stages=["dials", "connects", "meetings"],
    )
    assert len(ratio_table(fs.fit(three))) == 3  # two steps, then first to last


def test_argparse_speaks_chinese_too(capsys):
    """argparse's own words (usage, options, its errors) come from the catalogue."""
    with i18n.language("zh"):
        with pytest.raises(SystemExit):
            main(["--help"])
        text = capsys.readouterr().out
        assert "用法：" in text and "显示此帮助并退出" in text and "显示版本号并退出" in text
        assert not re.search(r"usage:|options:|show this help|positional arguments", text)
        with pytest.raises(SystemExit) as exit_:
            main(["fit"])
        error = capsys.readouterr().err
    assert exit_.value.code == 2 and "缺少必需的参数：LOG, --stages" in error
    with pytest.raises(SystemExit):
        main(["fit"])
    assert "the following arguments are required: LOG, --stages" in capsys.readouterr().err


def test_a_chinese_report_carries_its_own_chinese_font(log):
    """On a machine without a Chinese font the Chinese report would show empty boxes: the page
    embeds the kit's font cut to its characters (Chinese only: unicode-range), and the body's
    font list names it first. An English report of English stages carries none."""
    with fs.language("zh"):
        page = build_report(log, reps=300, rng=1)
    _check_self_contained(page)
    face = re.search(r'@font-face \{ font-family: "([^"]+)";.*?unicode-range: ([^;]+);', page)
    assert face and face.group(1) == fs.fonts.CJK_FAMILY
    assert f'body {{ font-family: "{fs.fonts.CJK_FAMILY}", system-ui' in page
    woff = re.search(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", page).group(1)
    assert base64.b64decode(woff)[:4] == b"wOFF"
    english = build_report(log, reps=300, rng=1)
    assert "@font-face" not in english


def test_a_group_of_no_value_is_named_so_in_both_languages():
    """Rows without a rep (or a Hive folder of Hive's missing value) are a group of
    their own; the table the command line prints names it, not 'nan'."""
    from funnelsim.summaries import ratio_table

    events = pd.DataFrame({"lead": ["A", "A", "B", "C"], "stage": ["dial", "sale", "dial", "dial"],
                           "time": ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"],
                           "rep": ["Li", "Li", None, "Li"]})  # fmt: skip
    log = fs.read_log(events, format="events", stages=["dial", "sale"])
    for lang, shown in (("en", "(no value)"), ("zh", "（无值）")):
        with fs.language(lang):
            table = ratio_table(fs.fit(log, by="rep"))
        assert table.iloc[:, 0].tolist() == ["Li", shown]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_folders_dropped_rows_are_listed_with_their_file(lang, tmp_path, capsys):
    """``--errors drop`` on a Parquet folder lists each row left out with its file and
    its row there, on stderr and in the report's table, in both languages."""
    folder = tmp_path / "exports"
    folder.mkdir()
    day = pd.to_datetime(["2025-03-03", "2025-03-04", "2025-03-05"])
    pd.DataFrame({"lead": ["A", "A", "B"], "stage": ["dial", "sale", "dial"],
                  "time": day}).to_parquet(folder / "part-0.parquet")  # fmt: skip
    pd.DataFrame({"lead": ["C", "A"], "stage": ["dial", "dial"],
                  "time": day[[2, 0]]}).to_parquet(folder / "part-1.parquet")  # fmt: skip
    args = [str(folder), "--stages", "dial,sale", "--errors", "drop"]
    with fs.language(lang):
        rc, _ = call("fit", *args)
        page = tmp_path / "r.html"
        assert call("report", *args, "-o", str(page))[0] == 0
        header = [i18n.t("report.col.file"), i18n.t("report.col.file_row")]
    assert rc == 0
    expected = {
        "en": "  row 6 (row 3 of part-1.parquet), column 'stage': lead 'A' reaches 'dial'",
        "zh": "  第 6 行（part-1.parquet 的第 3 行），列 'stage'：线索 'A' 在同一时间",
    }[lang]
    assert expected in capsys.readouterr().err
    text = page.read_text(encoding="utf-8")
    assert all(f">{h}</th>" in text for h in header) and "part-1.parquet" in text
    assert '<table class="dataframe text">' in text  # text read from the left
