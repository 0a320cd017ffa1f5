"""read_log: every source and format reads to one normalised Log; bad input ends in one LogError.

The sample logs in data/ are checked against the true parameters that made
them (``fs.datasets.load_truth()``, the same as data/sample_truth.json): each
pooled ratio lies within 4 binomial standard errors of its expectation given
the leads that entered the stage.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelsim import FunnelsimTypeError, Log, LogError, datasets, read_log, t

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
TRUTH = datasets.load_truth()
STAGES = TRUTH["events"]["stages"]
GBK = TRUTH["gbk"]
Z = 4.0  # tolerance in standard errors


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _same_log(a: Log, b: Log) -> None:
    assert a.format == b.format and a.stages == b.stages
    for attr in ("leads", "reached", "times", "counts"):
        x, y = getattr(a, attr), getattr(b, attr)
        if x is None or y is None:
            assert x is None and y is None, attr
        else:
            pd.testing.assert_frame_equal(x, y, check_index_type=False, obj=attr)
    assert a.as_of == b.as_of


# ------------------------------------------------------------------ sources
@pytest.fixture(scope="module")
def chinese_events() -> pd.DataFrame:
    """The first 150 leads of the GBK sample: Chinese columns, stages, reps and channels."""
    frame = pd.read_csv(DATA / "sample_events_gbk.csv", encoding="gbk", dtype=str)
    leads = frame[GBK["columns"]["lead"]]
    return frame[leads.isin(sorted(leads.unique())[:150])].reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as dates and amounts as numbers, as Excel and Parquet store them."""
    col = GBK["columns"]
    return frame.assign(
        **{
            col["time"]: pd.to_datetime(frame[col["time"]], format="%Y/%m/%d %H:%M"),
            col["amount"]: pd.to_numeric(frame[col["amount"]]),
        }
    )


SOURCE_KINDS = [
    "csv-utf-8",
    "csv-utf-8-sig",
    "csv-gbk",
    "csv-gb18030-crlf",
    "csv-utf-16-tab",
    "csv-semicolon",
    "csv-tab",
    "csv-gzip",
    "xlsx",
    "parquet",
    "DataFrame",
]


def _write(frame: pd.DataFrame, kind: str, folder: Path) -> Path | pd.DataFrame:
    csv = {
        "csv-utf-8": ("log.csv", {"encoding": "utf-8"}),
        "csv-utf-8-sig": ("log.csv", {"encoding": "utf-8-sig"}),
        "csv-gbk": ("log.csv", {"encoding": "gbk"}),
        "csv-gb18030-crlf": ("log.txt", {"encoding": "gb18030", "lineterminator": "\r\n"}),
        "csv-utf-16-tab": ("log.txt", {"encoding": "utf-16", "sep": "\t"}),
        "csv-semicolon": ("log.csv", {"sep": ";"}),
        "csv-tab": ("log.tsv", {"sep": "\t"}),
        "csv-gzip": ("log.csv.gz", {"compression": "gzip"}),
    }
    if kind in csv:
        name, options = csv[kind]
        frame.to_csv(folder / name, index=False, **options)
        return folder / name
    if kind == "xlsx":
        _typed(frame).to_excel(folder / "log.xlsx", index=False)
        return folder / "log.xlsx"
    if kind == "parquet":
        _typed(frame).to_parquet(folder / "log.parquet")
        return folder / "log.parquet"
    return _typed(frame)


def _read_chinese(source, **kwargs) -> Log:
    return read_log(
        source, format="events", stages=GBK["stages"], columns=GBK["columns"], **kwargs
    )


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_reads_to_the_same_log_and_stays_unchanged(kind, chinese_events, tmp_path):
    reference = _read_chinese(_typed(chinese_events))
    source = _write(chinese_events, kind, tmp_path)
    if isinstance(source, pd.DataFrame):
        before = source.copy(deep=True)
        log = _read_chinese(source)
        pd.testing.assert_frame_equal(source, before)  # the caller's frame is not touched
    else:
        checksum = _sha256(source)
        log = _read_chinese(source)
        assert _sha256(source) == checksum
        assert log.name == source.name
    _same_log(log, reference)
    assert len(log.leads) == 150 and log.dropped.empty
    assert set(log.leads["rep"]) <= set(GBK["referral_share"])
    assert log.reached.iloc[:, 0].all()
    assert log.times.dtypes.eq("datetime64[ns]").all()


def test_gbk_sample_reads_with_its_encoding_detected_or_given():
    path = DATA / "sample_events_gbk.csv"
    detected = _read_chinese(path)
    _same_log(detected, _read_chinese(path, encoding="gbk"))
    _same_log(detected, _read_chinese(path, encoding="gb18030"))
    assert list(detected.reached.columns) == GBK["stages"]
    assert set(detected.leads["source"]) == set(GBK["sources"])
    assert detected.leads["amount"].notna().sum() == detected.reached["成交"].sum()


def test_a_western_european_export_is_not_read_as_chinese(tmp_path):
    """cp1252 bytes decode as GB18030 too, into rare characters ("Müller" -> "M黮ler"):
    refused with the encoding to give; with it, the names are right. The Chinese
    sample above is mostly GB2312's common characters, so it is still detected."""
    frame = pd.DataFrame(
        {
            "lead": ["A", "A", "B"],
            "stage": ["dial", "connect", "dial"],
            "time": ["2025-03-03", "2025-03-04", "2025-03-05"],
            "rep": ["Müller", "Müller", "Chén"],
        }
    )
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False, encoding="cp1252")
    before = path.read_bytes()
    with pytest.raises(LogError) as info:
        read_log(path, format="events", stages=BASE_STAGES)
    assert info.value.key == "log.error.encoding_guess"  # its fix names encoding="cp1252"
    assert info.value.values["name"] == "export.csv" and "M黮ler" in info.value.values["sample"]
    log = read_log(path, format="events", stages=BASE_STAGES, encoding="cp1252")
    assert sorted(log.leads["rep"]) == ["Chén", "Müller"]
    assert path.read_bytes() == before


def test_events_and_leads_samples_read_to_the_same_log():
    events = read_log(DATA / "sample_events.csv", format="events", stages=STAGES)
    leads = read_log(DATA / "sample_leads.csv", format="leads", stages=STAGES)
    _same_log(events, dataclasses.replace(leads, format="events"))
    by_rep = events.stage_table(by="rep")
    assert by_rep.columns[-1] == "attempts"  # events logs only; one row per lead and stage here
    assert by_rep["attempts"].equals(by_rep["entered"])
    pd.testing.assert_frame_equal(by_rep.drop(columns="attempts"), leads.stage_table(by="rep"))
    assert events.as_of == pd.Timestamp(events.times.max().max())
    assert events.leads.index.name == "lead"
    assert list(events.leads.columns) == ["rep", "source", "amount"]


def test_counts_table_gives_the_stage_table_of_the_events_it_sums():
    events = read_log(DATA / "sample_events.csv", format="events", stages=STAGES)
    table = events.reached.join(events.leads[["rep"]]).groupby("rep")[STAGES].sum()
    table = table.reset_index().rename(columns={s: f"n_{s}" for s in STAGES})
    counts = read_log(table, format="counts", stages={s: f"n_{s}" for s in STAGES})
    assert counts.counts.columns.tolist() == ["rep", *STAGES]
    by_rep = events.stage_table(by="rep").drop(columns="attempts")
    pd.testing.assert_frame_equal(counts.stage_table(by="rep"), by_rep)
    pd.testing.assert_frame_equal(counts.stage_table(), events.stage_table().iloc[:, :3])


def test_counts_sample_reads_periods_as_dates():
    log = read_log(
        DATA / "sample_counts.csv",
        format="counts",
        stages={s: s for s in TRUTH["counts"]["stages"]},
        columns={"period": "week", "amount": "revenue"},
    )
    assert log.counts["period"].dtype == "datetime64[ns]"
    assert log.as_of == log.counts["period"].max()
    assert log.group_columns == ["period", "rep"]
    assert (log.counts[TRUTH["counts"]["stages"]].dtypes == "int64").all()
    assert len(log.counts) == TRUTH["counts"]["weeks"] * len(TRUTH["counts"]["reps"])


def test_leads_flags_in_every_spelling_and_times_mixed():
    frame = pd.DataFrame(
        {
            "客户": ["A", "B", "C", "D", "E", "F"],
            "拨打": ["是", "yes", "TRUE", "1", "Y", "2025-03-03 09:00"],
            "接通": ["否", "No", "true", "0", "y", "2025/3/4 10:00"],
            "成交": ["", "n", "False", "", "N", "2025年3月20日"],
        }
    )
    stages = {"拨打": "拨打", "接通": "接通", "成交": "成交"}
    log = read_log(frame, format="leads", stages=stages, columns={"lead": "客户"})
    assert log.reached.to_numpy().tolist() == [
        [True, False, False],
        [True, False, False],
        [True, True, False],
        [True, False, False],
        [True, True, False],
        [True, True, True],
    ]
    assert log.times.loc["F"].tolist() == [
        pd.Timestamp("2025-03-03 09:00"),
        pd.Timestamp("2025-03-04 10:00"),
        pd.Timestamp("2025-03-20"),
    ]
    assert log.times.loc["A"].isna().all()
    only_flags = read_log(frame.iloc[:5], format="leads", stages=stages)
    assert only_flags.times is None and only_flags.as_of is None
    assert only_flags.leads.index.tolist() == ["2", "3", "4", "5", "6"]  # rows as lead ids


def test_leads_typed_flags_and_the_implicit_first_stage():
    frame = pd.DataFrame({"won": [True, False, True], "value": [1200.0, np.nan, 80.5]})
    log = read_log(
        frame,
        format="leads",
        stages={"contacted": None, "won": "won"},
        columns={"amount": "value"},
    )
    assert log.reached.to_numpy().tolist() == [[True, True], [True, False], [True, True]]
    assert log.leads["amount"].tolist()[::2] == [1200.0, 80.5]
    numbers = read_log(
        frame.assign(won=[1, 0, 1]), format="leads", stages={"a": None, "won": "won"}
    )
    pd.testing.assert_frame_equal(
        numbers.reached.set_axis(["contacted", "won"], axis=1), log.reached
    )


def test_leads_close_date_gives_the_last_stage_its_time():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "met": ["yes", "yes", "no"],
            "won": ["yes", "no", "no"],
            "closed_on": ["2025-04-02", "", ""],
        }
    )
    log = read_log(
        frame,
        format="leads",
        stages={"lead": None, "met": "met", "won": "won"},
        columns={"lead": "id", "close": "closed_on"},
    )
    assert log.reached["won"].tolist() == [True, False, False]
    assert log.times["won"].tolist()[0] == pd.Timestamp("2025-04-02")
    assert log.as_of == pd.Timestamp("2025-04-02")
    only_close = read_log(
        frame.drop(columns="won"),
        format="leads",
        stages={"lead": None, "met": "met", "won": None},
        columns={"lead": "id", "close": "closed_on"},
    )
    pd.testing.assert_frame_equal(only_close.reached, log.reached)


def test_as_of_is_stored_and_defaults_to_the_latest_time():
    frame = _base_events()
    assert read_log(frame, format="events", stages=BASE_STAGES).as_of == pd.Timestamp(
        "2025-03-10 15:00"
    )
    given = read_log(frame, format="events", stages=BASE_STAGES, as_of="2025-03-31")
    assert given.as_of == pd.Timestamp("2025-03-31")
    aware = read_log(frame, format="events", stages=BASE_STAGES, as_of="2025-03-31T08:00+08:00")
    assert aware.as_of == pd.Timestamp("2025-03-31 00:00")


def test_events_attributes_come_from_the_furthest_stage_and_stage_labels_can_be_mapped():
    frame = _base_events()
    frame.loc[2, "rep"] = "Wang"  # lead A's meeting was held by another rep
    frame.loc[2, "amount"] = "1500"
    frame["stage"] = frame["stage"].map({"dial": "拨打", "connect": "接通", "meeting": "面谈"})
    log = read_log(
        frame, format="events", stages={"dial": "拨打", "connect": "接通", "meeting": "面谈"}
    )
    assert log.stages == ("dial", "connect", "meeting")
    assert log.leads.loc["A", "rep"] == "Wang" and log.leads.loc["B", "rep"] == "Li"
    assert log.leads["amount"].tolist()[0] == 1500.0 and log.leads["amount"].isna().sum() == 2


def test_blank_rows_are_ignored_and_rows_keep_their_spreadsheet_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text(
        "lead,stage,time\nA,dial,2025-03-03\n\n , , \nB,dial,2025-03-32\n\n", encoding="utf-8"
    )
    with pytest.raises(LogError) as info:
        read_log(path, format="events", stages=["dial", "sale"])
    [problem] = info.value.values["problems"]
    assert (problem.column, problem.rows, problem.reason) == ("time", (5,), "log.reason.bad_date")
    assert problem.reason_values == {"value": "'2025-03-32'"}
    log = read_log(path, format="events", stages=["dial", "sale"], errors="drop")
    assert log.dropped["row"].tolist() == [5] and len(log.leads) == 1


# ----------------------------------------------------------------- errors
BASE_STAGES = ["dial", "connect", "meeting"]


def _base_events() -> pd.DataFrame:
    """Rows 2-7 as a spreadsheet counts them: lead A (rows 2-4), B (5-6), C (7)."""
    return pd.DataFrame(
        {
            "lead": ["A", "A", "A", "B", "B", "C"],
            "stage": ["dial", "connect", "meeting", "dial", "connect", "dial"],
            "time": [
                "2025-03-03 09:00",
                "2025-03-04 10:00",
                "2025-03-10 15:00",
                "2025-03-03 11:00",
                "2025-03-05 09:30",
                "2025-03-06 14:00",
            ],
            "rep": ["Chen", "Chen", "Chen", "Li", "Li", "Li"],
            "amount": ["", "", "", "", "", ""],
        }
    )


def _base_counts() -> pd.DataFrame:
    """Rows 2-5: two weeks x two reps."""
    return pd.DataFrame(
        {
            "week": ["2025-03-03", "2025-03-03", "2025-03-10", "2025-03-10"],
            "rep": ["Chen", "Li", "Chen", "Li"],
            "dials": ["75", "75", "75", "75"],
            "connects": ["35", "30", "36", "33"],
            "sales": ["1", "0", "2", "1"],
        }
    )


def _base_leads() -> pd.DataFrame:
    """Rows 2-4: one lead each."""
    return pd.DataFrame(
        {
            "lead": ["A", "B", "C"],
            "called": ["2025-03-03", "是", "1"],
            "connected": ["2025-03-04", "否", "0"],
            "won": ["Y", "N", ""],
        }
    )


def _set(frame: pd.DataFrame, cells: dict) -> pd.DataFrame:
    """Set cells by spreadsheet row (2 = first data row)."""
    frame = frame.copy()
    for (row, column), value in cells.items():
        frame.loc[row - 2, column] = value
    return frame


COUNT_STAGES = {"dials": "dials", "connects": "connects", "sales": "sales"}
LEAD_STAGES = {"called": "called", "connected": "connected", "won": "won"}
COUNT_COLUMNS = {"period": "week"}

# id, format, frame, keywords, rows, column, reason and its values, fix and its values
# (a missing column is reported on the header, row 1, with no separate fix)
ERROR_CASES = [
    (
        "missing column",
        "events",
        lambda: _base_events().drop(columns="time"),
        {},
        [1],
        "time",
        "log.error.missing_field",
        {"column": "'time'", "field": "time"},
        None,
        None,
    ),
    (
        "mapped column missing",
        "events",
        _base_events,
        {"columns": {"rep": "销售"}},
        [1],
        "销售",
        "log.error.missing_field",
        {"column": "'销售'", "field": "rep"},
        None,
        None,
    ),
    (
        "stage column missing",
        "counts",
        _base_counts,
        {"stages": {**COUNT_STAGES, "meetings": "meetings"}, "columns": COUNT_COLUMNS},
        [1],
        "meetings",
        "log.error.missing_stage",
        {"column": "'meetings'", "stage": "'meetings'"},
        None,
        None,
    ),
    (
        "unknown stage",
        "events",
        lambda: _set(_base_events(), {(6, "stage"): "contact"}),
        {},
        [6],
        "stage",
        "log.reason.unknown_stage_near",
        {"value": "'contact'", "near": "'connect'"},
        "log.fix.unknown_stage",
        {"choices": "'dial', 'connect', 'meeting'"},
    ),
    (
        "missing stage",
        "events",
        lambda: _set(_base_events(), {(7, "stage"): " "}),
        {},
        [7],
        "stage",
        "log.reason.no_stage",
        {},
        "log.fix.unknown_stage",
        {"choices": "'dial', 'connect', 'meeting'"},
    ),
    (
        "unparsable date",
        "events",
        lambda: _set(_base_events(), {(3, "time"): "2025-13-45", (7, "time"): "yesterday"}),
        {},
        [3, 7],
        "time",
        "log.reason.bad_date",
        {"value": "'2025-13-45'"},
        "log.fix.bad_date",
        {},
    ),
    (
        "missing date",
        "events",
        lambda: _set(_base_events(), {(4, "time"): ""}),
        {},
        [4],
        "time",
        "log.reason.no_date",
        {},
        "log.fix.bad_date",
        {},
    ),
    (
        "missing lead",
        "events",
        lambda: _set(_base_events(), {(5, "lead"): ""}),
        {},
        [5],
        "lead",
        "log.reason.no_lead",
        {},
        "log.fix.no_lead",
        {},
    ),
    (
        "duplicate event",
        "events",
        lambda: pd.concat([_base_events(), _base_events().iloc[[1]]], ignore_index=True),
        {},
        [8],
        "stage",
        "log.reason.duplicate_event",
        {"lead": "'A'", "stage": "'connect'", "time": "2025-03-04 10:00:00", "row": 3},
        "log.fix.duplicate_event",
        {},
    ),
    (
        "negative amount",
        "events",
        lambda: _set(_base_events(), {(4, "amount"): "-500"}),
        {},
        [4],
        "amount",
        "log.reason.bad_amount",
        {"value": "'-500'"},
        "log.fix.bad_amount",
        {},
    ),
    (
        "after as_of",
        "events",
        _base_events,
        {"as_of": "2025-03-05"},
        [4, 6, 7],
        "time",
        "log.reason.after_as_of",
        {"time": "2025-03-10 15:00:00", "as_of": "2025-03-05 00:00:00"},
        "log.fix.after_as_of",
        {},
    ),
    (
        "many rows",
        "events",
        lambda: pd.concat([_base_events()] * 3, ignore_index=True).assign(time="soon"),
        {},
        list(range(2, 20)),
        "time",
        "log.reason.bad_date",
        {"value": "'soon'"},
        "log.fix.bad_date",
        {},
    ),
    (
        "negative count",
        "counts",
        lambda: _set(_base_counts(), {(3, "connects"): "-3"}),
        {},
        [3],
        "connects",
        "log.reason.count_negative",
        {"value": "'-3'"},
        "log.fix.bad_count",
        {},
    ),
    (
        "fractional count",
        "counts",
        lambda: _set(_base_counts(), {(4, "sales"): "1.5"}),
        {},
        [4],
        "sales",
        "log.reason.count_fraction",
        {"value": "'1.5'"},
        "log.fix.bad_count",
        {},
    ),
    (
        "missing count",
        "counts",
        lambda: _set(_base_counts(), {(2, "sales"): ""}),
        {},
        [2],
        "sales",
        "log.reason.no_count",
        {},
        "log.fix.bad_count",
        {},
    ),
    (
        "count not a number",
        "counts",
        lambda: _set(_base_counts(), {(5, "dials"): "lots"}),
        {},
        [5],
        "dials",
        "log.reason.count_not_number",
        {"value": "'lots'"},
        "log.fix.bad_count",
        {},
    ),
    (
        "counts rising down the funnel",
        "counts",
        lambda: _set(_base_counts(), {(5, "sales"): "40"}),
        {},
        [5],
        "sales",
        "log.reason.rising",
        {"stage": "'sales'", "count": "40", "previous": "'connects'", "before": "33"},
        "log.fix.rising",
        {},
    ),
    (
        "duplicate count row",
        "counts",
        lambda: pd.concat([_base_counts(), _base_counts().iloc[[2]]], ignore_index=True),
        {},
        [6],
        "week",
        "log.reason.duplicate_row",
        {"columns": "'week', 'rep'"},
        "log.fix.duplicate_row",
        {},
    ),
    (
        "missing period",
        "counts",
        lambda: _set(_base_counts(), {(3, "week"): ""}),
        {},
        [3],
        "week",
        "log.reason.no_period",
        {},
        "log.fix.no_period",
        {},
    ),
    (
        "bad flag",
        "leads",
        lambda: _set(_base_leads(), {(3, "won"): "maybe"}),
        {},
        [3],
        "won",
        "log.reason.bad_flag",
        {"value": "'maybe'"},
        "log.fix.bad_flag",
        {},
    ),
    (
        "lead without the earlier stage",
        "leads",
        lambda: _set(_base_leads(), {(3, "won"): "是"}),
        {},
        [3],
        "won",
        "log.reason.gap",
        {"lead": "'B'", "stage": "'won'", "previous": "'connected'"},
        "log.fix.gap",
        {"previous": "'connected'"},
    ),
    (
        "lead earlier in time",
        "leads",
        lambda: _set(_base_leads(), {(2, "connected"): "2025-03-01"}),
        {},
        [2],
        "connected",
        "log.reason.order",
        {
            "lead": "'A'",
            "stage": "'connected'",
            "time": "2025-03-01",
            "previous": "'called'",
            "earlier": "2025-03-03",
        },
        "log.fix.order",
        {},
    ),
    (
        "duplicate lead",
        "leads",
        lambda: _set(_base_leads(), {(4, "lead"): "A"}),
        {},
        [4],
        "lead",
        "log.reason.duplicate_lead",
        {"lead": "'A'", "row": 2},
        "log.fix.duplicate_lead",
        {},
    ),
    (
        "lead at no stage",
        "leads",
        lambda: _set(_base_leads(), {(4, "called"): "no"}),
        {},
        [4],
        "called",
        "log.reason.no_stage_reached",
        {"lead": "'C'", "stage": "'called'"},
        "log.fix.no_stage_reached",
        {"stage": "'called'"},
    ),
]

_DEFAULTS = {
    "events": {"stages": BASE_STAGES},
    "counts": {"stages": COUNT_STAGES, "columns": COUNT_COLUMNS},
    "leads": {"stages": LEAD_STAGES},
}


def _rows_text(rows: list[int]) -> str:
    """The rows as a message lists them: the first five, and how many in all."""
    shown = ", ".join(map(str, rows[:5]))
    if len(rows) == 1:
        return t("log.error.rows_one", rows=shown)
    if len(rows) <= 5:
        return t("log.error.rows_some", rows=shown, total=len(rows))
    return t("log.error.rows_many", rows=shown, more=len(rows) - 5, total=len(rows))


@pytest.mark.parametrize(
    ("name", "make", "skipped", "demotions", "times"),
    [
        (  # once a gap error: B reaches meeting without connect
            "later stage without the earlier",
            lambda: _set(_base_events(), {(6, "stage"): "meeting"}),
            {"connect": 1},
            [],
            {("B", "connect"): "2025-03-05 09:30"},
        ),
        (  # once a gap error: B has no dial row
            "no first stage",
            lambda: _base_events().drop(index=3),
            {"dial": 1},
            [],
            {("B", "dial"): "2025-03-05 09:30"},
        ),
        (  # once an order error: A connects before its dial, then is dialled (a move back)
            "earlier in time",
            lambda: _set(_base_events(), {(3, "time"): "2025-03-02 08:00"}),
            {},
            [["A", "connect", "dial", 2]],
            {("A", "dial"): "2025-03-02 08:00", ("A", "connect"): "2025-03-02 08:00"},
        ),
    ],
)
def test_skipped_stages_and_moves_back_are_read_under_the_first_arrival_rule(
    name, make, skipped, demotions, times
):
    """A lead passed a stage when it reached it or any later one, at the first time it
    reached it or any later one: nothing is refused, times never go down the funnel."""
    log = read_log(make(), format="events", stages=BASE_STAGES)
    assert log.dropped.empty and log.reached["dial"].all()
    counts = log.skipped.set_index("stage")["leads"]
    assert counts.to_dict() == {s: skipped.get(s, 0) for s in BASE_STAGES}
    assert log.demotions[["lead", "from", "to", "row"]].values.tolist() == demotions
    for (lead, stage), when in times.items():
        assert log.times.loc[lead, stage] == pd.Timestamp(when)
    values = log.times.to_numpy()
    both = ~np.isnat(values[:, 1:]) & ~np.isnat(values[:, :-1])
    assert (values[:, 1:][both] >= values[:, :-1][both]).all()


@pytest.mark.parametrize(
    ("fmt", "make", "kwargs", "rows", "column", "reason", "values", "fix", "fix_values"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_problem_gives_one_logerror_naming_file_rows_column_and_fix(
    fmt, make, kwargs, rows, column, reason, values, fix, fix_values, tmp_path
):
    path = tmp_path / "team_log.csv"
    make().to_csv(path, index=False)
    checksum = _sha256(path)
    with pytest.raises(LogError) as info:
        read_log(path, format=fmt, **{**_DEFAULTS[fmt], **kwargs})
    error = info.value
    assert isinstance(error, ValueError)
    assert error.values["name"] == "team_log.csv"
    message = str(error)
    if fix is None:  # a missing column: named with the header, row 1
        assert error.key == "log.error.missing_columns" and rows == [1]
        [missing] = error.values["missing"]
        assert missing.columns == (column,)
        assert (missing.reason, missing.reason_values) == (reason, values)
        assert t(reason, **values) in message
    else:
        assert error.key == "log.error.title" and error.values["format"] == fmt
        problem = error.values["problems"][0]
        assert problem.column == column and list(problem.rows) == rows
        assert (problem.reason, problem.reason_values) == (reason, values)
        assert (problem.fix, problem.fix_values) == (fix, fix_values)
        line = t(
            # several rows with values of their own: the line says whose are shown
            "log.error.problem_first" if len(rows) > 1 and values else "log.error.problem",
            column=f"'{column}'",
            rows=_rows_text(rows),
            first=rows[0],
            reason=t(reason, **values),
            fix=t(fix, **fix_values),
        )
        assert line in message.splitlines(), message
    assert "team_log.csv" in message
    assert "Traceback" not in message
    assert _sha256(path) == checksum


@pytest.mark.parametrize(
    "content",
    [b"", b"lead,stage,time\n", b"lead,stage,time\r\n\r\n\r\n", b"\n\n"],
    ids=["zero bytes", "header only", "blank lines", "only newlines"],
)
def test_an_empty_file_is_a_logerror(content, tmp_path):
    path = tmp_path / "empty_log.csv"
    path.write_bytes(content)
    with pytest.raises(LogError) as info:
        read_log(path, format="events", stages=BASE_STAGES)
    assert info.value.key == "log.error.empty"  # no data rows below the header, and the fix
    assert info.value.values == {"name": "empty_log.csv"}
    assert str(info.value) == t("log.error.empty", name="empty_log.csv")


def test_an_empty_dataframe_or_sheet_is_a_logerror(tmp_path):
    _base_events().iloc[:0].to_excel(tmp_path / "empty.xlsx", index=False)
    for source, fmt, stages, name in [
        (_base_events().iloc[:0], "events", BASE_STAGES, "DataFrame"),
        (pd.DataFrame(), "counts", COUNT_STAGES, "DataFrame"),
        (tmp_path / "empty.xlsx", "events", BASE_STAGES, "empty.xlsx"),
    ]:
        with pytest.raises(LogError) as info:
            read_log(source, format=fmt, stages=stages)
        assert info.value.key == "log.error.empty" and info.value.values == {"name": name}


@pytest.mark.parametrize(
    ("name", "content", "key", "values"),
    [
        (
            "ragged.csv",
            b"lead,stage,time\nA,dial,2025-03-03\nB,dial,2025-03-04,x,y\n",
            "log.error.ragged",
            {"row": 3, "cells": 5, "header": 3},  # the parser's line, cells and header
        ),
        # a first data row longer than the header: pandas would shift every cell
        (
            "ragged1.csv",
            b"lead,stage,time\nA,dial,2025-03-03,x,y\nB,dial,2025-03-04\n",
            "log.error.ragged",
            {"row": 2, "cells": 5, "header": 3},
        ),
        ("binary.csv", bytes(range(256)) * 4, "log.error.encoding", {"row": 2}),
        ("nul.csv", b"lead,stage,time\nA,dial\x00,2025-03-03\n", "log.error.nul", {"row": 2}),
        (
            "broken.xlsx",
            b"PK\x03\x04 not really a workbook",
            "log.error.unreadable",
            {"kind": "Excel"},
        ),
        ("broken.parquet", b"PAR1 garbage", "log.error.unreadable", {"kind": "Parquet"}),
        ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage", "log.error.unreadable", {"kind": "gzip"}),
        ("old.xls", b"\xd0\xcf\x11\xe0", "log.error.unreadable", {"kind": "Excel"}),
        ("sheet.ods", b"PK\x03\x04", "log.error.save_as_xlsx", {"kind": ".ods"}),
    ],
)
def test_unreadable_files_give_a_logerror_naming_the_file(name, content, key, values, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LogError) as info:
        read_log(path, format="events", stages=BASE_STAGES)
    error = info.value
    assert error.key == key and error.values["name"] == name
    for field, value in values.items():
        got = error.values[field]
        assert value in got if field == "detail" else got == value, (field, got)
    assert str(error) == t(key, **error.values)  # the catalogue's message, fix included
    assert error.__cause__ is None  # no chained pandas or parser traceback
    assert error.__context__ is None or error.__suppress_context__
    assert path.read_bytes() == content


def test_a_wrong_encoding_names_the_row_where_it_fails(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("lead,stage,time\nA,dial,2025-03-03\nB,diál,2025-03-04\n".encode("cp1252"))
    with pytest.raises(LogError) as info:
        read_log(path, format="events", stages=BASE_STAGES, encoding="utf-8")
    assert info.value.key == "log.error.encoding"
    assert info.value.values == {"name": "latin.csv", "row": 3, "encodings": "utf-8"}


@pytest.mark.parametrize(
    ("kwargs", "key", "values"),
    [
        (
            {"format": "event"},
            "error.choice",
            {"name": "format", "choices": "events, leads, counts, snapshot, calls"},
        ),
        ({"errors": "ignore"}, "error.choice", {"name": "errors", "choices": "raise, drop"}),
        ({"stages": ["dial"]}, "log.error.stages_few", {"value": "['dial']"}),
        ({"stages": ["dial", "dial"]}, "log.error.stages_repeated", {"value": "dial"}),
        ({"stages": ["dial", ""]}, "log.error.stage_name", {"value": "''"}),
        ({"columns": {"lead_id": "x"}}, "log.error.columns_key", {"key": "'lead_id'"}),
        ({"columns": {"lead": " "}}, "log.error.columns_value", {"key": "lead", "value": "' '"}),
        ({"as_of": "not a date"}, "log.error.as_of", {"value": "'not a date'"}),
        ({"as_of": 5}, "log.error.as_of", {"value": "5"}),
        ({"encoding": "klingon"}, "log.error.encoding_name", {"value": "'klingon'"}),
        ({"delimiter": ";;"}, "log.error.delimiter", {"value": "';;'"}),
        (
            {"stages": {"dial": "dial", "sale": None}},
            "log.error.stage_column",
            {"stage": "'sale'", "value": "None"},
        ),
    ],
)
def test_bad_arguments_are_logerrors(kwargs, key, values):
    arguments = {"format": "events", "stages": BASE_STAGES, **kwargs}
    with pytest.raises(LogError) as info:
        read_log(_base_events(), **arguments)
    assert info.value.key == key
    assert values.items() <= info.value.values.items()


@pytest.mark.parametrize(
    ("kwargs", "key", "values"),
    [
        ({"stages": "dial"}, "log.error.stages_type", {"name": "stages", "value": "'dial'"}),
        ({"columns": ["lead"]}, "log.error.columns_type", {"name": "columns", "type": "list"}),
        ({"columns": {"lead": 3}}, "log.error.columns_value", {"key": "lead", "type": "int"}),
    ],
)
def test_arguments_of_the_wrong_type_are_type_errors(kwargs, key, values):
    arguments = {"format": "events", "stages": BASE_STAGES, **kwargs}
    with pytest.raises(FunnelsimTypeError) as info:
        read_log(_base_events(), **arguments)
    assert info.value.key == key
    assert values.items() <= info.value.values.items()


def test_bad_sources_are_logerrors(tmp_path):
    with pytest.raises(FunnelsimTypeError) as info:
        read_log([1, 2], format="events", stages=BASE_STAGES)
    assert info.value.key == "log.error.source_type"
    assert info.value.values == {"name": "source", "value": "list", "type": "list"}
    with pytest.raises(LogError) as info:
        read_log(tmp_path / "nowhere.csv", format="events", stages=BASE_STAGES)
    assert info.value.key == "log.error.not_found"
    assert info.value.values["name"] == str(tmp_path / "nowhere.csv")
    with pytest.raises(LogError) as info:
        read_log(
            pd.DataFrame([[1, 2]], columns=["lead", " lead"]), format="events", stages=BASE_STAGES
        )
    assert info.value.key == "log.error.repeated_columns"
    assert info.value.values == {"name": "DataFrame", "value": "lead"}


def test_one_error_lists_every_problem():
    frame = _set(_base_events(), {(3, "time"): "soon", (6, "stage"): "contact"})
    with pytest.raises(LogError) as info:
        read_log(frame, format="events", stages=BASE_STAGES)
    assert info.value.key == "log.error.title" and info.value.values["count"] == 2
    problems = info.value.values["problems"]
    assert [(p.column, p.rows) for p in problems] == [("stage", (6,)), ("time", (3,))]
    assert str(info.value).endswith(t("log.error.drop_hint"))  # errors="drop" reads the rest


# --------------------------------------------------------------- dropping
def test_drop_reports_every_dropped_row_and_keeps_every_valid_one(tmp_path):
    frame = pd.concat(
        [
            _base_events(),
            pd.DataFrame(
                {
                    "lead": ["D", "D", "E", "E", "F", "", "G"],
                    "stage": ["dial", "connect", "dial", "meeting", "dial", "dial", "dial"],
                    "time": [
                        "2025-03-07",
                        "2025-03-06",
                        "2025-03-07",
                        "2025-03-08",
                        "bad",
                        "2025-03-09",
                        "2025-03-09",
                    ],
                    "rep": ["Li"] * 7,
                    "amount": [""] * 7,
                }
            ),
        ],
        ignore_index=True,
    )
    # rows 8-9 lead D moves back (connect, then dial), 10-11 lead E skips connect: both
    # read; 12 bad date, 13 no lead: dropped
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    checksum = _sha256(path)
    log = read_log(path, format="events", stages=BASE_STAGES, errors="drop")
    assert _sha256(path) == checksum
    dropped = log.dropped
    assert dropped["row"].tolist() == [12, 13]
    assert dropped.set_index("row")["column"].to_dict() == {12: "time", 13: "lead"}
    assert dropped["reason"].str.len().gt(0).all()
    assert log.n_rows + len(dropped) == len(frame)
    # D's dial after its connect is kept as a move back, not as an attempt to connect
    assert int(log.attempts.to_numpy().sum()) == log.n_rows - 1
    assert log.demotions[["lead", "from", "to", "row"]].values.tolist() == [
        ["D", "connect", "dial", 8]
    ]
    assert log.skipped.set_index("stage")["leads"].to_dict() == {
        "dial": 0,
        "connect": 1,
        "meeting": 0,
    }
    assert log.times.loc["D", "dial"] == pd.Timestamp("2025-03-06")  # first arrival
    assert log.reached.loc["E"].tolist() == [True, True, True]
    clean = read_log(
        frame[frame["lead"].isin(["A", "B", "C", "D", "E", "G"])],
        format="events",
        stages=BASE_STAGES,
    )
    _same_log(log, clean)


def test_drop_in_counts_and_leads_logs():
    counts = _set(_base_counts(), {(3, "connects"): "-3", (5, "sales"): "40"})
    log = read_log(
        counts, format="counts", stages=COUNT_STAGES, columns=COUNT_COLUMNS, errors="drop"
    )
    assert log.dropped["row"].tolist() == [3, 5]
    assert log.dropped["column"].tolist() == ["connects", "sales"]
    assert len(log.counts) + len(log.dropped) == len(counts)
    assert log.counts["rep"].tolist() == ["Chen", "Chen"]

    leads = _set(_base_leads(), {(3, "won"): "maybe"})
    log = read_log(leads, format="leads", stages=LEAD_STAGES, errors="drop")
    assert log.dropped.to_dict("list") == {
        "row": [3],
        "column": ["won"],
        "reason": ["'maybe' is neither a date nor a yes/no flag"],
    }
    assert log.leads.index.tolist() == ["A", "C"]


def test_drop_with_nothing_valid_left_still_raises():
    with pytest.raises(LogError) as info:
        read_log(
            _base_events().assign(time="later"), format="events", stages=BASE_STAGES, errors="drop"
        )
    [problem] = info.value.values["problems"]
    assert (problem.rows, problem.reason) == ((2, 3, 4, 5, 6, 7), "log.reason.bad_date")
    assert str(info.value).endswith(t("log.error.all_invalid"))  # nothing is left to read


def test_raise_mode_reports_nothing_dropped():
    assert read_log(_base_events(), format="events", stages=BASE_STAGES).dropped.empty


# ------------------------------------------------------- samples vs truth
def _within(passed: float, expected: float, variance: float, what: str) -> None:
    se = math.sqrt(variance)
    assert abs(passed - expected) <= Z * se + 1e-9, (
        f"{what}: {passed} passed, expected {expected:.1f} ± {Z} x {se:.2f}"
    )


def _check_events_truth(log: Log, spec: dict) -> None:
    """Each stage ratio on the leads that entered it long enough before the snapshot.

    A lead enters the ratio into stage k when it reached stage k-1 at least
    five mean lags before ``as_of`` (gamma lags of shape 2: the chance of a
    longer lag is e^-10 x 11 < 1e-3), so censoring cannot bias it; its
    chance to pass is the truth for its source and rep.
    """
    as_of = pd.Timestamp(spec["as_of"])
    stages = spec["stages"]
    ratio = {
        (src, rep, stage): spec["ratios"][src][stage]
        * spec["rep_factors"].get(rep, {}).get(stage, 1.0)
        for src in spec["sources"]
        for rep in spec["referral_share"]
        for stage in stages[1:]
    }
    for k, stage in enumerate(stages[1:], start=1):
        window = pd.Timedelta(days=5 * spec["lag_days"][stage])
        entered = log.times[stages[k - 1]] <= as_of - window
        p = np.array(
            [
                ratio[(src, rep, stage)]
                for src, rep in zip(
                    log.leads.loc[entered, "source"], log.leads.loc[entered, "rep"], strict=True
                )
            ]
        )
        passed = int(log.reached.loc[entered, stage].sum())
        assert p.size > 50, stage
        _within(passed, p.sum(), (p * (1 - p)).sum(), f"{stage}: {passed}/{p.size}")


def test_sample_events_match_their_true_ratios():
    spec = TRUTH["events"]
    log = read_log(DATA / "sample_events.csv", format="events", stages=spec["stages"])
    _check_events_truth(log, spec)
    assert len(log.leads) == spec["leads_per_rep"] * len(spec["referral_share"])
    assert log.as_of <= pd.Timestamp(spec["as_of"])
    open_leads = ~log.reached["sale"] & (log.times["dial"] > pd.Timestamp("2025-06-01"))
    assert open_leads.sum() > 100  # recent leads are still open at the snapshot
    sizes = log.leads["amount"].dropna()
    assert sizes.size == log.reached["sale"].sum()
    mean, cv = spec["deal_size"]["mean"], spec["deal_size"]["cv"]
    _within(sizes.mean() * sizes.size, mean * sizes.size, (cv * mean) ** 2 * sizes.size, "amount")


def test_sample_gbk_events_match_their_true_ratios():
    log = _read_chinese(DATA / "sample_events_gbk.csv")
    _check_events_truth(log, GBK)


def test_sample_counts_match_their_true_ratios():
    spec = TRUTH["counts"]
    log = read_log(
        DATA / "sample_counts.csv",
        format="counts",
        stages={s: s for s in spec["stages"]},
        columns={"period": "week", "amount": "revenue"},
    )
    table = log.counts
    for k, stage in enumerate(spec["stages"][1:], start=1):
        p = spec["ratios"][stage] * table["rep"].map(
            lambda r, stage=stage: spec["rep_factors"].get(r, {}).get(stage, 1.0)
        )
        n = table[spec["stages"][k - 1]]
        passed = int(table[stage].sum())
        _within(passed, float((n * p).sum()), float((n * p * (1 - p)).sum()), stage)
    assert (table["dials"] == spec["dials_per_week"]).all()
    assert ((table["amount"] > 0) == (table["sales"] > 0)).all()


def test_sample_files_are_small_and_the_script_documents_its_truth():
    for path in DATA.glob("sample_*"):
        assert path.stat().st_size < 1_000_000, path
    script = (DATA / "make_samples.py").read_text(encoding="utf-8")
    assert "default_rng" in script and "np.random.seed" not in script
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name in (
        "sample_events.csv",
        "sample_leads.csv",
        "sample_counts.csv",
        "sample_events_gbk.csv",
        "sample_truth.json",
        "make_samples.py",
    ):
        assert name in readme


# --------------------------------------------------------- property tests
_CELLS = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=6),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(
        ["dial", "connect", "sale", "是", "否", "yes", "N", "2025-03-03", "2025/3/4 9:05"]
    ),
    st.datetimes(),
    st.dates(),
)


def _blank(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _check_log(log: Log, frame: pd.DataFrame, errors: str) -> None:
    """What any Log that read_log returns must hold."""
    assert isinstance(log, Log)
    rows_in = sum(not all(_blank(v) for v in row) for row in frame.itertuples(index=False))
    dropped = log.dropped
    assert dropped["row"].is_unique
    assert dropped.columns.tolist() == ["row", "column", "reason"]
    if errors == "raise":
        assert dropped.empty
    if log.format == "counts":
        values = log.counts[list(log.stages)].to_numpy()
        assert (values >= 0).all() and (np.diff(values, axis=1) <= 0).all()
        assert len(log.counts) + len(dropped) == rows_in
        return
    reached = log.reached.to_numpy()
    assert reached[:, 0].all() and (np.diff(reached.astype(int), axis=1) <= 0).all()
    kept = log.n_rows if log.format == "events" else len(reached)
    assert kept + len(dropped) == rows_in
    if log.times is not None:
        times = log.times.to_numpy()
        for k in range(1, times.shape[1]):
            both = ~np.isnat(times[:, k]) & ~np.isnat(times[:, k - 1])
            assert (times[both, k] >= times[both, k - 1]).all()


@st.composite
def _events_frames(draw):
    stages = ["dial", "connect", "sale"]
    rows = []
    for lead in range(draw(st.integers(0, 5))):
        start = pd.Timestamp("2025-03-01") + pd.Timedelta(hours=draw(st.integers(0, 500)))
        for k in range(draw(st.integers(1, 3))):
            rows.append([f"L{lead}", stages[k], str(start + pd.Timedelta(hours=5 * k)), "Li"])
    frame = pd.DataFrame(rows, columns=["lead", "stage", "time", "rep"], dtype=object)
    frame = frame.reindex(range(len(rows)))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["cell", "drop", "shuffle", "duplicate", "rename"]))
        if action == "cell" and len(frame):
            row = draw(st.integers(0, len(frame) - 1))
            col = draw(st.sampled_from(list(frame.columns) or ["lead"]))
            if col in frame.columns:
                frame[col] = frame[col].astype(object)
                frame.loc[row, col] = draw(_CELLS)
        elif action == "drop" and len(frame.columns):
            frame = frame.drop(columns=draw(st.sampled_from(list(frame.columns))))
        elif action == "shuffle":
            frame = frame.sample(frac=1, random_state=draw(st.integers(0, 9)))
        elif action == "duplicate" and len(frame):
            frame = pd.concat([frame, frame.iloc[[draw(st.integers(0, len(frame) - 1))]]])
        elif action == "rename" and "stage" in frame.columns:
            frame["stage"] = frame["stage"].map({"dial": "connect", "connect": "dial"})
    return frame.reset_index(drop=True), stages


_FAST = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_FAST
@given(data=_events_frames(), errors=st.sampled_from(["raise", "drop"]))
def test_random_events_logs_give_a_log_or_a_logerror(data, errors):
    frame, stages = data
    try:
        log = read_log(frame, format="events", stages=stages, errors=errors)
    except LogError:
        return
    _check_log(log, frame, errors)


def _corrupt(draw, frame: pd.DataFrame, cells) -> pd.DataFrame:
    """0 to 3 random cells of a valid frame replaced by anything ``cells`` draws."""
    frame = frame.astype(object)
    for _ in range(draw(st.integers(0, 3))):
        if len(frame) and len(frame.columns):
            row = draw(st.integers(0, len(frame) - 1))
            col = draw(st.sampled_from(list(frame.columns)))
            frame.loc[row, col] = draw(cells)
    return frame


@st.composite
def _leads_frames(draw):
    """A valid leads log (dates or flags, each stage on or after the one before),
    then a few cells corrupted and maybe a column dropped."""
    rows = []
    for lead in range(draw(st.integers(0, 6))):
        reached = draw(st.integers(1, 3))
        start = pd.Timestamp("2025-03-01") + pd.Timedelta(days=draw(st.integers(0, 60)))
        if draw(st.booleans()):
            cells = [
                str(start + pd.Timedelta(days=3 * k)) if k < reached else "" for k in range(3)
            ]
        else:
            cells = ["yes" if k < reached else "no" for k in range(3)]
        rows.append([f"L{lead}", *cells])
    frame = pd.DataFrame(rows, columns=["lead", "called", "connected", "won"], dtype=object)
    frame = _corrupt(draw, frame, _CELLS)
    drop = draw(st.sampled_from([None, None, None, "lead", "called", "won"]))
    return frame.drop(columns=drop) if drop else frame


_READ = {"leads": [0, 0], "counts": [0, 0]}  # [logs read, examples]: see the test below


@_FAST
@given(frame=_leads_frames(), errors=st.sampled_from(["raise", "drop"]))
def test_random_leads_logs_give_a_log_or_a_logerror(frame, errors):
    _READ["leads"][1] += 1
    try:
        log = read_log(frame, format="leads", stages=LEAD_STAGES, errors=errors)
    except LogError:
        return
    _READ["leads"][0] += 1
    _check_log(log, frame, errors)


_COUNT_CELLS = st.one_of(
    st.integers(-3, 100),
    st.floats(-3, 100),
    st.sampled_from(["", "12", "3.5", "-1", "x", None]),
)


@st.composite
def _counts_frames(draw):
    """A valid counts log (counts falling down the funnel, one row per week), then a
    few cells corrupted: a count or a week."""
    rows = []
    for week in range(draw(st.integers(0, 6))):
        dials = draw(st.integers(0, 100))
        connects = draw(st.integers(0, dials))
        rows.append([f"2025-W{week + 10}", dials, connects, draw(st.integers(0, connects))])
    frame = pd.DataFrame(rows, columns=["week", "dials", "connects", "sales"], dtype=object)
    return _corrupt(draw, frame, st.one_of(_COUNT_CELLS, st.sampled_from(["week 3", ""])))


@_FAST
@given(frame=_counts_frames(), errors=st.sampled_from(["raise", "drop"]))
def test_random_counts_logs_give_a_log_or_a_logerror(frame, errors):
    _READ["counts"][1] += 1
    try:
        log = read_log(
            frame, format="counts", stages=COUNT_STAGES, columns=COUNT_COLUMNS, errors=errors
        )
    except LogError:
        return
    _READ["counts"][0] += 1
    _check_log(log, frame, errors)


@pytest.mark.parametrize("kind", ["leads", "counts"])
def test_the_property_tests_check_logs_not_only_errors(kind):
    """The two tests above must reach _check_log on a good share of their examples
    (runs them again here when this test runs alone)."""
    if _READ[kind][1] == 0:
        test = {
            "leads": test_random_leads_logs_give_a_log_or_a_logerror,
            "counts": test_random_counts_logs_give_a_log_or_a_logerror,
        }[kind]
        test()
    read, examples = _READ[kind]
    assert examples >= 100 and read >= 0.3 * examples, (read, examples)


@settings(max_examples=80, derandomize=True, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda s: s.encode("utf-8")),
        st.lists(
            st.sampled_from(
                [
                    "lead",
                    "stage",
                    "time",
                    "A",
                    "dial",
                    "2025-03-03",
                    ",",
                    ";",
                    "\n",
                    '"',
                    "\r\n",
                    "sale",
                    "是",
                ]
            ),
            max_size=40,
        ).map(lambda xs: "".join(xs).encode("gb18030")),
    ),
    suffix=st.sampled_from([".csv", ".csv.gz", ".xlsx", ".parquet"]),
)
def test_random_bytes_in_a_file_give_a_log_or_a_logerror(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"random{suffix}"
        path.write_bytes(gzip.compress(content, mtime=0) if suffix == ".csv.gz" else content)
        before = path.read_bytes()
        try:
            log = read_log(path, format="events", stages=["dial", "sale"], errors="drop")
        except LogError as error:
            assert error.values["name"] == f"random{suffix}"
        else:
            assert isinstance(log, Log)
        assert path.read_bytes() == before


# --------------------------------------------------------------- real logs
@pytest.mark.shared
def test_bank_marketing_contacted_to_subscribed(shared_data):
    """UCI bank marketing (Moro et al. 2014): 41,188 clients called, 4,640 subscribed."""
    path = shared_data / "bank_marketing" / "bank-additional-full.csv.gz"
    checksum = _sha256(path)
    log = read_log(
        path,
        format="leads",
        stages={"contacted": None, "subscribed": "y"},
        columns={"source": "contact", "period": "month"},
    )
    assert _sha256(path) == checksum
    assert len(log.leads) == 41188 and log.dropped.empty
    assert log.stage_table()[["entered", "passed"]].to_numpy().tolist() == [[41188, 4640]]
    by_contact = log.stage_table(by="source").set_index("source")
    assert set(by_contact.index) == {"cellular", "telephone"}
    assert by_contact["entered"].sum() == 41188 and by_contact["passed"].sum() == 4640
    by_month = log.stage_table(by="period")
    assert len(by_month) == 10 and by_month["passed"].sum() == 4640
    assert log.times is None and log.as_of is None


@pytest.mark.shared
def test_olist_mql_to_won(shared_data):
    """Olist marketing funnel: 8,000 MQLs, 842 won; one deal is won before its first contact."""
    folder = shared_data / "olist_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    frame = mqls.merge(deals, on="mql_id", how="left")
    options = {
        "format": "leads",
        "stages": {"MQL": "first_contact_date", "won": "won_date"},
        "columns": {"lead": "mql_id", "source": "origin", "rep": "sr_id"},
    }
    with pytest.raises(LogError) as info:
        read_log(frame, **options)
    [problem] = info.value.values["problems"]
    assert (problem.column, problem.reason) == ("won_date", "log.reason.order")
    assert problem.reason_values["previous"] == "'MQL'"
    log = read_log(frame, errors="drop", **options)
    assert len(log.leads) == 7999 and len(log.dropped) == 1
    assert log.dropped.loc[0, "column"] == "won_date"
    assert log.stage_table()[["entered", "passed"]].to_numpy().tolist() == [[7999, 841]]
    assert log.as_of == pd.Timestamp("2018-11-14 18:04:19")
    by_origin = log.stage_table(by="source")
    assert by_origin["passed"].sum() <= 841 and "organic_search" in set(by_origin["source"])
    by_rep = log.stage_table(by="rep")
    # 22 sales reps, plus the 7,158 MQLs no rep ever won: kept as a group of their own.
    assert by_rep["passed"].sum() == 841 and len(by_rep) == 23
    no_rep = by_rep[by_rep["rep"].isna()]
    assert no_rep[["entered", "passed"]].to_numpy().tolist() == [[7158, 0]]
    cycle = (log.times["won"] - log.times["MQL"]).dropna()
    assert (cycle >= pd.Timedelta(0)).all() and cycle.dt.days.median() == 14


def test_stage_table_keeps_leads_with_a_missing_group_value():
    """A lead without a rep is its own group (NaN), never silently left out."""
    reached = pd.DataFrame({"call": [True] * 5, "sale": [True, False, True, False, True]})
    leads = pd.DataFrame({"rep": ["a", "a", None, "b", None]})
    log = Log("leads", ("call", "sale"), leads=leads, reached=reached)
    table = log.stage_table(by="rep")
    assert table["entered"].sum() == 5
    assert table["passed"].sum() == 3
    missing = table[table["rep"].isna()]
    assert missing[["entered", "passed"]].values.tolist() == [[2, 2]]


def test_a_counts_file_without_its_period_named_says_which_column_to_name():
    """Without period=, every later week of a rep looks like a repeat of the first: the
    message names the fix (columns=dict(period=...)) and the columns left over."""
    with pytest.raises(LogError) as info:
        read_log(DATA / "sample_counts.csv", format="counts",
                 stages=["dials", "connects", "meetings", "sales"])  # fmt: skip
    [problem] = info.value.values["problems"]
    assert problem.reason == "log.reason.duplicate_row"
    assert problem.fix == "log.fix.duplicate_no_period"  # its text: columns=dict(period="week")
    assert problem.fix_values == {"columns": "'week', 'revenue'"}


def test_traditional_chinese_gbk_is_still_read(tmp_path):
    """Traditional characters lie outside GB2312's common rows, but the bytes are no
    Western export (cp1252 cannot decode them): read as GB18030, names intact."""
    frame = pd.DataFrame(
        {
            "lead": ["A", "A"],
            "stage": ["dial", "connect"],
            "time": ["2025-03-03", "2025-03-04"],
            "rep": ["陳大文", "陳大文"],
        }
    )
    path = tmp_path / "big5ish.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    log = read_log(path, format="events", stages=BASE_STAGES)
    assert log.leads["rep"].tolist() == ["陳大文"]
