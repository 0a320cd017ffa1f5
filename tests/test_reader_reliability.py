"""Reading real exports reliably (issue #13): headers, short rows, encodings, huge counts,
far as-of times, mixed time zones, Parquet folders, amounts, workbooks, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import funnelsim as fs
from funnelsim import LogError
from funnelsim._numbers import money
from funnelsim._reader import read_source

STAGES = ["dial", "connect", "meeting"]
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _error(source, **kwargs) -> LogError:
    kwargs.setdefault("format", "events")
    kwargs.setdefault("stages", STAGES)
    with pytest.raises(LogError) as info:
        fs.read_log(source, **kwargs)
    return info.value


# ---------------------------------------------------------------- 1. linear header checks
def test_a_million_columns_fail_in_seconds(tmp_path):
    header = ",".join(f"c{k}" for k in range(1_000_000))
    path = _write(tmp_path, "wide.csv", header + "\n" + "1," * 999_999 + "1\n")
    start = time.perf_counter()
    error = _error(path)
    elapsed = time.perf_counter() - start
    assert error.key == "log.error.too_many_columns"
    assert error.values["count"] == 1_000_000
    assert elapsed < 5  # measured: about 0.5 s (pandas alone takes over 30 s to parse it)


def test_a_million_distinct_and_repeated_names_are_checked_linearly():
    # the repeated-column check of a DataFrame (Counter, not list.count): 200k columns
    frame = pd.DataFrame(np.zeros((1, 200_000)), columns=[f"c{k}" for k in range(200_000)])
    frame.columns = [*frame.columns[:-1], "c7"]
    start = time.perf_counter()
    with pytest.raises(LogError) as info:
        read_source(frame)
    assert time.perf_counter() - start < 5  # measured: about 0.1 s (list.count: minutes)
    assert info.value.key == "log.error.repeated_columns"
    assert info.value.values["value"] == "c7"


@pytest.mark.parametrize("first", [True, False])
def test_a_row_with_a_million_stray_cells_fails_in_seconds(tmp_path, first):
    stray = "L9,dial,2025-03-03," + ",".join(["x"] * 1_000_000)
    rows = [stray, "L1,dial,2025-03-03"] if first else ["L1,dial,2025-03-03", stray]
    path = _write(tmp_path, "stray.csv", "lead,stage,time\n" + "\n".join(rows) + "\n")
    start = time.perf_counter()
    error = _error(path)
    assert time.perf_counter() - start < 5
    # first: pandas would make the extra cells an index (refused before it reads);
    # later: the parser stops there, and its line and cells are named the same way
    assert error.key == "log.error.ragged"
    assert (error.values["row"], error.values["cells"]) == (2 if first else 3, 1_000_003)


# ---------------------------------------------------------------- 2. repeated names
@pytest.mark.parametrize(
    "header, column, first, second",
    [
        ("lead,stage,time,rep,amount,rep", "'rep'", 4, 6),
        ('lead,stage,time," lead"', "'lead'", 1, 4),
        ("\ufefflead;stage;time;stage", "'stage'", 2, 4),
    ],
)
def test_a_repeated_header_name_is_an_error_naming_both_columns(
    tmp_path, header, column, first, second
):
    cells = ";".join(["x"] * 4) if ";" in header else ",".join(["x"] * header.count(",") + ["x"])
    path = _write(tmp_path, "dup.csv", f"{header}\n{cells}\n")
    error = _error(path)
    assert error.key == "log.error.duplicate_column"
    assert error.values == {"name": "dup.csv", "column": column, "first": first, "second": second}


def test_a_repeated_header_name_in_a_workbook_is_an_error(tmp_path):
    path = tmp_path / "dup.xlsx"
    frame = pd.DataFrame([["L1", "dial", "2025-03-03", "A", "B"]])
    frame.to_excel(path, index=False, header=["lead", "stage", "time", "rep", "rep"])
    error = _error(path)
    assert error.key == "log.error.duplicate_column"
    assert (error.values["column"], error.values["first"], error.values["second"]) == (
        "'rep'",
        4,
        5,
    )


# ---------------------------------------------------------------- 3. short rows
@pytest.mark.parametrize("quoted", [False, True])
def test_a_short_row_is_an_error_naming_it(tmp_path, quoted):
    lead = '"L2"' if quoted else "L2"  # quotes: the csv module counts the cells
    text = (
        "lead,stage,time,rep\n"
        "L1,dial,2025-03-03,A\n"
        f"{lead},dial,2025-03-04\n"  # row 3: three cells for four columns
        "L3,dial,2025-03-05,\n"  # an empty last cell, written with its delimiter: fine
        "L4,dial\n"
    )
    error = _error(_write(tmp_path, "short.csv", text))
    assert error.key == "log.error.short_row"
    assert error.values == {"name": "short.csv", "row": 3, "cells": 3, "header": 4, "count": 2}


def test_blank_rows_and_trailing_delimiters_are_not_short(tmp_path):
    text = (
        "lead,stage,time,rep\n"
        "L1,dial,2025-03-03,A\n"
        "\n"  # a blank line: ignored, as before
        ",,,\n"
        "   \n"
        "L3,dial,2025-03-05,\n"
        "L3,connect,2025-03-06,\r\n"
    )
    log = fs.read_log(_write(tmp_path, "ok.csv", text), format="events", stages=STAGES)
    assert log.reached.sum().tolist() == [2, 1, 0]
    assert log.leads["rep"].isna().tolist() == [False, True]


# ---------------------------------------------------------------- 4. encodings
@pytest.mark.parametrize(
    "text",
    [
        "lead,stage,time,Indicação\nL1,dial,2025-03-03,sim\n",
        "Indicação\nx\n",
        "lead,stage,time,rep\nL1,dial,2025-03-03,Müller\nL1,connect,2025-03-04,Köln\n",
    ],
)
def test_latin_text_is_not_read_as_chinese(tmp_path, text):
    path = _write(tmp_path, "latin.csv", text.encode("cp1252"))
    error = _error(path)
    assert error.key == "log.error.encoding_guess"
    # and with the encoding named, it reads as written
    if text.startswith("lead"):
        log = fs.read_log(path, format="events", stages=STAGES, encoding="cp1252")
        assert log.reached["dial"].sum() == 1


@pytest.mark.parametrize(
    "text, word",
    [
        ("线索,阶段\nA,拨打\n", "拨打"),
        ("阶段\n拨打\n", "拨打"),
        ("lead,stage\nL1,成交\n", "成交"),
        ("a,b\n1,是\n", "是"),
        ("销售,转化率\n王,0.5\n", "王"),
        ("客户名称,金额\n北京公司,1.5万\n", "北京公司"),
    ],
)
def test_short_gbk_files_still_read_as_chinese(text, word):
    src = read_source_bytes(text.encode("gbk"))
    assert word in src.frame.to_numpy().ravel().tolist()


def read_source_bytes(raw: bytes):
    from funnelsim._reader import read_csv

    return read_source(read_csv(raw, "short.csv", None, None))


def test_the_gbk_sample_still_reads_as_chinese():
    path = fs.datasets.path("sample_events_gbk.csv")
    src = read_source(path)
    assert src.frame.columns.tolist() == read_source(path, encoding="gbk").frame.columns.tolist()
    assert src.frame.equals(read_source(path, encoding="gbk").frame)
    assert any("\u4e00" <= c <= "\u9fff" for c in "".join(src.frame.columns))


# ---------------------------------------------------------------- 5. huge counts
@pytest.mark.parametrize(
    "value, ok",
    [(2**53 - 1, True), (2**53, False), (2**63, False), (10**30, False)],
)
def test_counts_from_2_to_the_53_are_refused(tmp_path, value, ok):
    text = f"period,dial,connect\n2025-03-03,{value},1\n"
    path = _write(tmp_path, "counts.csv", text)
    if ok:
        log = fs.read_log(path, format="counts", stages=["dial", "connect"])
        assert int(log.counts["dial"].iloc[0]) == value
        return
    error = _error(path, format="counts", stages=["dial", "connect"])
    (problem,) = error.values["problems"]
    assert (problem.column, problem.rows) == ("dial", (2,))
    assert problem.reason == "log.reason.count_too_large"
    assert problem.reason_values == {"value": f"'{value}'"}
    # with errors="drop": dropped and listed, never wrapped to a negative count
    log = fs.read_log(
        _write(tmp_path, "c2.csv", text + "2025-03-10,5,2\n"),
        format="counts",
        stages=["dial", "connect"],
        errors="drop",
    )
    assert log.counts["dial"].tolist() == [5]
    assert log.dropped["row"].tolist() == [2]


# ---------------------------------------------------------------- 6. the as-of time
def _events(times: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"lead": [f"L{k}" for k in range(len(times))], "stage": "dial", "time": times}
    )


def test_a_timestamp_in_the_far_future_is_named_not_taken_as_as_of():
    times = ["2025-03-03"] * 5 + ["2099-03-03"] + ["2025-03-04"]
    error = _error(_events(times))
    (problem,) = error.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == (
        "time",
        (7,),
        "log.reason.future_time",
    )
    assert problem.reason_values["time"] == "2099-03-03"
    assert problem.fix == "log.fix.far_time"
    log = fs.read_log(_events(times), format="events", stages=STAGES, errors="drop")
    assert log.as_of == pd.Timestamp("2025-03-04")
    assert log.dropped["row"].tolist() == [7]
    # as_of given: the date is kept when before it, or is the usual "after as_of" error
    log = fs.read_log(_events(times), format="events", stages=STAGES, as_of="2100-01-01")
    assert log.as_of == pd.Timestamp("2100-01-01") and len(log.leads) == 7
    error = _error(_events(times), as_of="2025-12-31")
    assert [p.reason for p in error.values["problems"]] == ["log.reason.after_as_of"]


def test_a_few_times_cut_off_from_the_rest_are_named():
    # all in the past: the gap rule, not the clock, catches them
    times = [str(d.date()) for d in pd.date_range("2025-01-01", periods=180, freq="D")]
    error = _error(_events([*times, "2026-03-05"]))  # 2026 typed for 2025
    (problem,) = error.values["problems"]
    assert problem.rows == (182,) and problem.reason == "log.reason.far_time"
    assert problem.reason_values["limit"] == "2025-06-29"  # where the rest ends
    # two typed wrong are both named (at most 1 % of 200 times: 2)
    two = [*times, "2026-03-05", *times[:18], "2026-04-01"]
    error = _error(_events(two))
    assert error.values["problems"][0].rows == (182, 201)
    # a late time within a quarter of the span, or after a gap of 30 days or less: kept
    for late in ("2025-08-10", "2025-07-29"):
        log = fs.read_log(_events([*times, late]), format="events", stages=STAGES)
        assert log.as_of == pd.Timestamp(late)
    # a long gap before many rows (a campaign that restarted) is not a typo: kept
    restart = [str(d.date()) for d in pd.date_range("2026-01-01", periods=20, freq="D")]
    log = fs.read_log(_events([*times, *restart]), format="events", stages=STAGES)
    assert log.as_of == pd.Timestamp("2026-01-20")
    # a small log: only the clock rule (a 14-month cycle is not refused)
    small = ["2023-01-02", "2023-01-05", "2024-03-01"]
    assert fs.read_log(_events(small), format="events", stages=STAGES).as_of == pd.Timestamp(
        "2024-03-01"
    )


def test_a_lost_leads_close_date_is_checked_like_the_other_times():
    leads = pd.DataFrame(
        {
            "dial": ["2025-03-03", "2025-03-04", "2025-03-05"],
            "sale": ["", "2025-03-20", ""],
            "status": ["lost", "won", "lost"],
            "close": ["2052-03-05", "", "2025-03-01"],
        }
    )
    kw = dict(format="leads", stages=["dial", "sale"], columns={"close": "close"})
    error = _error(leads, **kw)
    reasons = {p.reason: p.rows for p in error.values["problems"]}
    assert reasons == {"log.reason.future_time": (2,), "log.reason.lost_before_start": (4,)}
    error = _error(leads, as_of="2025-06-30", **kw)
    reasons = {p.reason: p.rows for p in error.values["problems"]}
    assert reasons == {"log.reason.after_as_of": (2,), "log.reason.lost_before_start": (4,)}


def test_a_far_timestamp_in_a_leads_log_is_named():
    leads = pd.DataFrame({"dial": ["2025-03-03", "2025-03-04"], "connect": ["", "2099-01-01"]})
    error = _error(leads, format="leads", stages=["dial", "connect"])
    (problem,) = error.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == (
        "connect",
        (3,),
        "log.reason.future_time",
    )


# ---------------------------------------------------------------- 7. mixed time zones
def test_mixed_zone_aware_and_naive_times_are_an_error():
    times = ["2025-03-03 09:00", "2025-03-03T09:00+08:00", "2025-03-04 10:00", "2025-03-05"]
    error = _error(_events(times))
    (problem,) = error.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == (
        "time",
        (3,),
        "log.reason.mixed_zones",
    )
    assert problem.reason_values == {"value": "'2025-03-03T09:00+08:00'"}
    # the minority is the naive kind here
    aware = ["2025-03-03T09:00Z", "2025-03-03T17:00+08:00", "2025-03-04 10:00"]
    assert _error(_events(aware)).values["problems"][0].rows == (4,)
    # all aware (or all naive): read, converted to UTC
    log = fs.read_log(_events(aware[:2]), format="events", stages=STAGES)
    assert log.times["dial"].tolist() == [pd.Timestamp("2025-03-03 09:00")] * 2


def test_a_time_without_a_zone_after_one_with_a_zone_keeps_its_clock():
    """pandas (2.x) reads, in one call, a time without a zone that follows one with a
    zone in that zone; the kit reads the two kinds apart, so that the rows kept with
    errors="drop" keep the times as written (09:00 stays 09:00, not 14:00 UTC)."""
    times = ["2025-03-03 09:00", "2025-03-05T09:00:00-05:00", "2025-03-07 09:00"]
    log = fs.read_log(_events(times), format="events", stages=STAGES, errors="drop")
    assert log.as_of == pd.Timestamp("2025-03-07 09:00")
    assert sorted(log.times["dial"].dropna()) == [pd.Timestamp(times[0]), pd.Timestamp(times[2])]
    assert list(log.dropped["row"]) == [3]


@pytest.mark.parametrize("minority", [None, "aware", "naive"])
def test_the_zones_found_while_parsing_are_those_the_pattern_finds(minority):
    """parse_times marks the zoned times it reads, so that mixed_zones need not run the
    pattern again: the same mask as the pattern's, on messy cells (spaces, an impossible
    date with a zone, dates alone, year-first text, empty and unreadable cells)."""
    from funnelsim._times import ZONE, mixed_zones, parse_times

    cells = pd.Series([" 2025-03-03T09:00+08:00 ", "2025-02-30T09:00+08:00", "2025-03-03",
                       "2025/3/4 10:00Z", "2025年3月5日 9:00", "", None, "n/a",
                       "2025-03-06 09:00:00.5 -0500", "2025-03-07T09:00"])  # fmt: skip
    zoned = np.zeros(len(cells), dtype=bool)
    times, _, _ = parse_times(cells, zoned)
    assert zoned.tolist() == [True, True, False, True] + [False] * 4 + [True, False]
    pattern = np.array([bool(re.search(ZONE, str(c).strip())) for c in cells.fillna("")])
    again = mixed_zones(cells, times, pattern, minority)
    assert mixed_zones(cells, times, zoned, minority).tolist() == again.tolist()
    assert again.any()


# ---------------------------------------------------------------- 8. Parquet folders
def test_a_parquet_dataset_folder_is_read_as_one_table(tmp_path):
    folder = tmp_path / "events.parquet"
    folder.mkdir()
    parts = [
        {"lead": ["L1", "L1"], "stage": ["dial", "connect"], "time": ["2025-03-03", "2025-03-04"]},
        {"lead": ["L2", "L3"], "stage": ["dial", "bad"], "time": ["2025-03-05", "2025-03-06"]},
    ]
    for k, part in enumerate(parts):
        pq.write_table(pa.table(part), folder / f"part-{k:05d}.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    error = _error(folder)
    (problem,) = error.values["problems"]
    assert problem.rows == (5,)  # rows numbered in order across the parts
    log = fs.read_log(folder, format="events", stages=STAGES, errors="drop")
    assert log.leads.index.tolist() == ["L1", "L2"]


def test_a_folder_without_parquet_parts_says_so(tmp_path):
    """The folder exists: it holds no Parquet file (not "no such file")."""
    error = _error(tmp_path)
    assert error.key == "log.error.no_parquet_files" and tmp_path.name in str(error)


# ---------------------------------------------------------------- 9. amounts
AMOUNTS = [
    ("12500", 12500.0),
    ("12,000", 12000.0),
    ("1,234.5", 1234.5),
    ("1,234,567", 1234567.0),
    ("¥12,000", 12000.0),
    ("￥12,000", 12000.0),
    ("$1,000", 1000.0),
    ("€5", 5.0),
    ("12,000元", 12000.0),
    ("RMB 12,000", 12000.0),
    ("1.5万", 15000.0),
    ("1.1万", 11000.0),
    ("3千", 3000.0),
    ("2百万", 2_000_000.0),
    ("0.5亿", 50_000_000.0),
    ("¥1.5万元", 15000.0),
    ("1.5 万", 15000.0),
]


def test_amounts_are_read_with_separators_signs_and_units():
    cells = pd.Series([text for text, _ in AMOUNTS])
    values, empty, _ = money(cells)
    np.testing.assert_array_equal(values, [value for _, value in AMOUNTS])
    assert not empty.any()


@pytest.mark.parametrize("bad", ["1,23", "万", "12,000,00", "abc元", "1.5万万", "-¥100"])
def test_an_unreadable_amount_is_an_error_naming_the_cell(bad):
    frame = _events(["2025-03-03", "2025-03-04"]).assign(amount=["¥12,000", bad])
    error = _error(frame)
    (problem,) = error.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == (
        "amount",
        (3,),
        "log.reason.bad_amount",
    )
    assert problem.reason_values == {"value": f"'{bad}'"}


def test_amounts_in_a_log_and_a_pipeline():
    log = fs.read_log(
        _events(["2025-03-03", "2025-03-04"]).assign(amount=["1.5万", "¥12,000"]),
        format="events",
        stages=STAGES,
    )
    assert log.leads["amount"].tolist() == [15000.0, 12000.0]
    pipe = fs.read_pipeline(pd.DataFrame({"stage": ["25%", "50%"], "amount": ["4万", "$2,000"]}))
    assert pipe.weighted == pytest.approx(0.25 * 40000 + 0.5 * 2000)


# ---------------------------------------------------------------- 10. workbooks
XLS_STAGES = {"dial": "拨打", "connect": "接通"}
XLS_COLUMNS = {"lead": "线索", "stage": "阶段", "time": "时间", "amount": "金额"}


@pytest.mark.parametrize("sheet", ["线索", 1, "1"])
def test_an_xls_sheet_by_name_or_position(sheet):
    log = fs.read_log(
        DATA / "tiny.xls", format="events", stages=XLS_STAGES, columns=XLS_COLUMNS, sheet=sheet
    )
    assert log.leads.index.tolist() == ["L1", "L2"]
    assert log.leads["amount"].tolist() == [15000.0, 12000.0]
    assert log.reached.sum().tolist() == [2, 1]


def test_columns_not_on_the_sheet_list_every_sheet_and_its_header():
    error = _error(DATA / "tiny.xls", stages=XLS_STAGES, columns=XLS_COLUMNS)
    assert error.key == "log.error.missing_columns"
    assert "'线索' (columns '线索', '阶段', '时间', '金额')" in str(error)
    assert "'说明' (columns '项目', '备注')" in str(error)


def test_a_sheet_that_does_not_exist_lists_the_sheets(tmp_path):
    error = _error(DATA / "tiny.xls", stages=XLS_STAGES, sheet="leads")
    assert error.key == "log.error.no_sheet"
    assert error.values["sheets"] == "0: '说明', 1: '线索'"
    assert _error(DATA / "tiny.xls", stages=XLS_STAGES, sheet=2).key == "log.error.no_sheet"
    csv = _write(tmp_path, "log.csv", "lead,stage,time\nL1,dial,2025-03-03\n")
    assert _error(csv, sheet=0).key == "log.error.sheet_not_workbook"
    assert _error(csv, sheet=1.5).key == "log.error.sheet_type"


def test_an_xlsx_sheet_by_name_in_read_log_and_read_pipeline(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["x"]}).to_excel(writer, sheet_name="Notes", index=False)
        _events(["2025-03-03"]).to_excel(writer, sheet_name="Log", index=False)
        pd.DataFrame({"stage": ["50%"], "amount": ["1万"]}).to_excel(
            writer, sheet_name="Deals", index=False
        )
    assert len(fs.read_log(path, format="events", stages=STAGES, sheet="Log").leads) == 1
    assert fs.read_pipeline(path, sheet="Deals").weighted == 5000.0
    assert fs.read_pipeline(path, sheet=2).weighted == 5000.0


@pytest.mark.parametrize("suffix", [".ods", ".numbers", ".xlsb", ".et", ".wps"])
def test_other_workbooks_are_asked_to_be_saved_as_xlsx(tmp_path, suffix):
    error = _error(_write(tmp_path, "book" + suffix, b"PK\x03\x04"))
    assert error.key == "log.error.save_as_xlsx"
    assert error.values == {"name": "book" + suffix, "kind": suffix}


def test_the_command_line_takes_sheet(capsys):
    from funnelsim.cli import main

    args = ["fit", str(DATA / "tiny.xls"), "--stages", "dial=拨打,connect=接通"]
    args += ["--column", "lead=线索", "--column", "stage=阶段", "--column", "time=时间"]
    assert main([*args, "--sheet", "线索"]) == 0
    assert main([*args, "--sheet", "1"]) == 0
    capsys.readouterr()  # the successful runs' notes (recognised columns)
    assert main([*args, "--sheet", "9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sheet" in err


# ---------------------------------------------------------------- 11. one line per error
def test_the_command_line_prints_one_line_without_numpy_warnings(tmp_path):
    # A command whose computation warns (0/0) and then fails, run in a fresh process
    # (pytest would catch the warnings itself): stderr holds the error's one line only.
    script = textwrap.dedent(
        """
        import warnings, numpy as np
        import funnelsim.cli as cli
        from funnelsim import LogError
        warnings.simplefilter("always")
        def failing(args, out):
            np.array([0.0]) / np.array([0.0])
            np.log(np.array([-1.0]))
            raise LogError("log.error.empty", name="x.csv")
        cli._cmd_fit = failing
        raise SystemExit(cli.main(["fit", "x.csv", "--stages", "a,b"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "RuntimeWarning" not in done.stderr and "x.csv" in done.stderr


def test_an_xlsx_workbook_named_xls_is_read_by_its_content(tmp_path):
    frame = pd.DataFrame({"lead": ["L1", "L1"], "stage": ["dial", "connect"],
                          "time": ["2025-03-03", "2025-03-04"]})  # fmt: skip
    path = tmp_path / "export.xls"  # as some CRMs name their .xlsx exports
    frame.to_excel(path, index=False, engine="openpyxl")
    log = fs.read_log(path, format="events", stages=STAGES)
    assert log.reached.to_numpy().tolist() == [[True, True] + [False] * (len(STAGES) - 2)]


def test_status_and_loss_reason_columns_are_recognised_by_their_chinese_names():
    frame = pd.DataFrame(
        {"客户名称": ["A", "A", "B"], "商机阶段": ["拨打", "接通", "拨打"],
         "创建时间": ["2025-03-01", "2025-03-02", "2025-03-01"],
         "状态": ["", "赢单", "输单"], "输单原因": ["", "", "价格太高"]}
    )  # fmt: skip
    log = fs.read_log(frame, format="events", stages={"dial": "拨打", "connect": "接通"})
    assert log.columns_used["status"] == "状态" and log.columns_used["reason"] == "输单原因"
    assert log.leads["status"].tolist() == ["won", "lost"]
    assert log.leads["reason"].tolist()[1] == "价格太高"


def test_a_chinese_message_keeps_the_spaces_inside_a_quoted_value():
    frame = pd.DataFrame({"lead": ["L1"], "stage": ["约 见"], "time": ["2025-03-03"]})
    with fs.language("zh"):
        error = _error(frame, stages=["拨打", "约见"])
        assert "'约 见'" in str(error)


def test_a_sheet_with_a_title_row_points_to_its_header_and_to_read_snapshot():
    with pytest.raises(LogError) as info:
        fs.read_log(fs.datasets.path("deck_tracking.xlsx"), format="counts", stages=["25%", "50%"])
    assert info.value.key == "log.error.missing_columns"
    assert "row 5?" in str(info.value) and "fs.read_snapshot" in str(info.value)
