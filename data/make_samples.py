"""Make the sample logs in ``data/`` from documented true parameters.

Run from the repository root (``make data`` does it)::

    python data/make_samples.py

Every file is rewritten byte for byte the same: one seeded generator
(``np.random.default_rng(TRUTH["seed"])``), no global random state. The true
parameters live in ``TRUTH`` below, and only there; the script also writes
them to ``data/sample_truth.json`` so that tests and notebooks can check an
estimate's interval against the truth. ``data/README.md`` documents every
file and column. The same files are copied into the package
(``funnelsim/datasets/``), from which ``fs.datasets.load_*()`` load them;
``tests/test_datasets.py`` checks that the two copies are the same.

Files
-----
sample_events.csv
    Events log: a team of 6 reps, two lead sources, dial -> connect ->
    meeting -> proposal -> sale over the first half of 2025, snapshot
    2025-06-30 18:00 (leads dialled late are still open), amounts on sales.
sample_leads.csv
    The same leads in the leads format: one row per lead, one timestamp
    column per stage.
sample_counts.csv
    The weekly tracking table (week x rep x stage counts and revenue) of the
    decks' daily ratio game.
sample_events_gbk.csv
    An events log as a Chinese Excel export writes it: GBK bytes, CRLF line
    ends, Chinese column and stage names, dates like ``2025/3/5 9:05``.
sample_crm_export.xlsx
    A Chinese CRM export (issue #13): Chinese headers (线索ID, 负责人, 商机阶段,
    创建时间, 成交金额, 状态, 输单原因, 来源), repeated dials, moves back from
    方案 to 约见, skipped stages, won / lost / open status with loss reasons,
    amounts written as "1.5万", "¥12,000", "3千". Its truth is ``CRM_TRUTH``
    (own seed), written to ``sample_crm_truth.json``; the workbook's dates
    and zip entries are fixed, so it too is rewritten byte for byte the same.
sample_pipeline.csv, sample_deal_history.csv, sample_grade_history.csv
    For forecasts and targets (notebook 07, ``funnelsim forecast``): a
    snapshot of open deals, decided deals with the stage probability they
    had, and grade changes E -> A. Their truth is ``PIPELINE_TRUTH`` (own
    seed), written to ``sample_pipeline_truth.json``.
sample_tracking.xlsx
    A team tracking sheet in the decks' layout (notebook 06,
    ``fs.read_snapshot``): 6 weeks of Monday/Wednesday/Friday blocks, 6 reps,
    leads sitting at each stage, from the model of ``TRACKING_TRUTH`` (own
    seed), which names each rep's pipeline shape; written to
    ``sample_tracking_truth.json``.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PACKAGE_DATA = HERE.parent / "funnelsim" / "datasets"  # the copies fs.datasets loads

# --------------------------------------------------------------------------
# The truth. Ratios are conditional: the share of the leads at the previous
# stage that reach this one (before the snapshot cuts the log off). A rep's
# factor multiplies the ratio into that stage for every lead of the rep.
TRUTH = {
    "seed": 20250630,
    "events": {
        "files": ["sample_events.csv", "sample_leads.csv"],
        "stages": ["dial", "connect", "meeting", "proposal", "sale"],
        "start": "2025-01-02",
        "as_of": "2025-06-30 18:00",
        "leads_per_rep": 1000,
        "sources": ["referral", "cold list"],
        "ratios": {
            "referral": {"connect": 0.60, "meeting": 0.30, "proposal": 0.50, "sale": 0.40},
            "cold list": {"connect": 0.35, "meeting": 0.12, "proposal": 0.40, "sale": 0.30},
        },
        # share of each rep's leads that come from referrals (the rest: cold list)
        "referral_share": {
            "Chen": 0.80,
            "Li": 0.65,
            "Wang": 0.15,
            "Zhang": 0.50,
            "Liu": 0.35,
            "Zhao": 0.60,
        },
        # Zhao closes half as well as the team (many proposals, few deals).
        "rep_factors": {"Zhao": {"sale": 0.5}},
        # lag from the previous stage, in days: gamma with this mean and shape
        "lag_days": {"connect": 2.0, "meeting": 6.0, "proposal": 10.0, "sale": 14.0},
        "lag_shape": 2.0,
        # deal size on sales: lognormal with this mean and coefficient of variation
        "deal_size": {"mean": 20000.0, "cv": 0.6, "round_to": 10},
    },
    "counts": {
        "files": ["sample_counts.csv"],
        "stages": ["dials", "connects", "meetings", "sales"],
        "first_week": "2025-01-06",
        "weeks": 26,
        "reps": ["Chen", "Li", "Wang", "Zhang", "Liu", "Zhao"],
        "dials_per_week": 75,
        "ratios": {"connects": 7 / 15, "meetings": 1 / 7, "sales": 1 / 8},
        # Wang dials from a poor list: fewer connects.
        "rep_factors": {"Wang": {"connects": 0.75}},
        "deal_size": {"mean": 20000.0, "cv": 0.6, "round_to": 10},
    },
    "gbk": {
        "files": ["sample_events_gbk.csv"],
        "encoding": "gbk",
        "columns": {
            "lead": "线索编号",
            "stage": "阶段",
            "time": "时间",
            "rep": "销售",
            "source": "渠道",
            "amount": "金额",
        },
        "stages": ["拨打", "接通", "面谈", "成交"],
        "start": "2025-01-02",
        "as_of": "2025-06-30 18:00",
        "leads_per_rep": 400,
        "sources": ["转介绍", "电话名单"],
        "ratios": {
            "转介绍": {"接通": 0.60, "面谈": 0.30, "成交": 0.35},
            "电话名单": {"接通": 0.35, "面谈": 0.12, "成交": 0.25},
        },
        "referral_share": {"张伟": 0.60, "王芳": 0.40, "李娜": 0.25, "刘洋": 0.50},
        "rep_factors": {},
        "lag_days": {"接通": 2.0, "面谈": 7.0, "成交": 15.0},
        "lag_shape": 2.0,
        "deal_size": {"mean": 15000.0, "cv": 0.5, "round_to": 10},
    },
}


# --------------------------------------------------------------------------
def write_truth(name: str, truth: dict) -> None:
    """Write a sample's true parameters beside it: UTF-8 JSON, LF line ends, a final newline."""
    with open(HERE / name, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def _deal_sizes(rng: np.random.Generator, n: int, spec: dict) -> np.ndarray:
    sigma2 = np.log1p(spec["cv"] ** 2)
    mu = np.log(spec["mean"]) - sigma2 / 2
    raw = rng.lognormal(mu, np.sqrt(sigma2), size=n)
    return np.round(raw / spec["round_to"]) * spec["round_to"]


def simulate_events(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """One events log: one row per lead and stage reached before the snapshot."""
    stages = spec["stages"]
    first, second = spec["sources"]
    reps, sources = [], []
    for rep, share in spec["referral_share"].items():  # a fixed, documented allocation
        n_first = round(share * spec["leads_per_rep"])
        reps += [rep] * spec["leads_per_rep"]
        sources += [first] * n_first + [second] * (spec["leads_per_rep"] - n_first)
    reps, sources = np.array(reps, dtype=object), np.array(sources, dtype=object)
    n = len(reps)

    start = pd.Timestamp(spec["start"])
    as_of = pd.Timestamp(spec["as_of"])
    workdays = pd.bdate_range(start, as_of.normalize())
    day = workdays[rng.integers(0, len(workdays), size=n)]
    minute = rng.integers(9 * 60, 18 * 60, size=n)
    dial = day + pd.to_timedelta(minute, unit="min")
    dial = np.where(dial > as_of, as_of - pd.Timedelta(minutes=1), dial)

    times = np.full((n, len(stages)), np.datetime64("NaT"), dtype="datetime64[ns]")
    times[:, 0] = pd.DatetimeIndex(dial).to_numpy(dtype="datetime64[ns]")
    reached = np.ones(n, dtype=bool)
    for k, stage in enumerate(stages[1:], start=1):
        p = np.array([spec["ratios"][s][stage] for s in sources])
        p *= np.array([spec["rep_factors"].get(r, {}).get(stage, 1.0) for r in reps])
        reached &= rng.random(n) < p
        mean = spec["lag_days"][stage]
        lag = rng.gamma(spec["lag_shape"], mean / spec["lag_shape"], size=n)
        lag = pd.to_timedelta(np.round(lag * 24 * 60), unit="min").to_numpy()
        times[:, k] = np.where(reached, times[:, k - 1] + lag, np.datetime64("NaT"))
    times[times > as_of.to_datetime64()] = np.datetime64("NaT")  # after the snapshot
    amount = _deal_sizes(rng, n, spec["deal_size"])

    order = np.argsort(times[:, 0], kind="stable")  # ids in the order leads came in
    lead = np.empty(n, dtype=object)
    lead[order] = [f"L{i:05d}" for i in range(1, n + 1)]
    rows = []
    for k, stage in enumerate(stages):
        has = ~np.isnat(times[:, k])
        last = k == len(stages) - 1
        rows.append(
            pd.DataFrame(
                {
                    "lead": lead[has],
                    "stage": stage,
                    "time": times[has, k],
                    "rep": reps[has],
                    "source": sources[has],
                    "amount": amount[has] if last else np.nan,
                }
            )
        )
    events = pd.concat(rows, ignore_index=True)
    return events.sort_values(["time", "lead"], kind="stable").reset_index(drop=True)


def events_to_leads(events: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    """The same log, one row per lead and one timestamp column per stage."""
    wide = events.pivot(index="lead", columns="stage", values="time")[stages]
    info = events.groupby("lead")[["rep", "source"]].first()
    amount = events.groupby("lead")["amount"].max()
    leads = info.join(wide).join(amount).reset_index()
    return leads[["lead", "rep", "source", *stages, "amount"]]


def simulate_counts(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """The weekly tracking table: a binomial chain per week and rep."""
    weeks = pd.date_range(spec["first_week"], periods=spec["weeks"], freq="7D")
    reps = spec["reps"]
    week = np.repeat(weeks, len(reps))
    rep = np.tile(np.array(reps, dtype=object), len(weeks))
    n = len(week)
    counts = {spec["stages"][0]: np.full(n, spec["dials_per_week"])}
    previous = counts[spec["stages"][0]]
    for stage in spec["stages"][1:]:
        factor = np.array([spec["rep_factors"].get(r, {}).get(stage, 1.0) for r in rep])
        previous = rng.binomial(previous, spec["ratios"][stage] * factor)
        counts[stage] = previous
    sales = counts[spec["stages"][-1]]
    sizes = _deal_sizes(rng, int(sales.sum()), spec["deal_size"])
    revenue = np.bincount(np.repeat(np.arange(n), sales), weights=sizes, minlength=n)
    table = pd.DataFrame({"week": week.strftime("%Y-%m-%d"), "rep": rep, **counts})
    table["revenue"] = revenue.round().astype(np.int64)
    return table


# --------------------------------------------------------------------------
# Forecasts and targets (issue #4): a pipeline snapshot, a history of decided
# deals with the stage probability they had, and a history of grade changes.
# Their own seed and truth, so that the files above stay byte for byte the same.
PIPELINE_TRUTH = {
    "seed": 20250701,
    "pipeline": {
        "files": ["sample_pipeline.csv"],
        "as_of": "2025-06-30",
        "stages": {"25%": 0.25, "50%": 0.50, "75%": 0.75, "90%": 0.90},
        # open deals per rep and stage: the shapes of DOMAIN.md section 4
        "deals": {
            "Chen": {"25%": 8, "50%": 5, "75%": 3, "90%": 2},  # healthy
            "Li": {"25%": 1, "50%": 2, "75%": 4, "90%": 7},  # A, top-heavy
            "Wang": {"25%": 1, "50%": 1, "75%": 0, "90%": 0},  # B, empty
            "Zhang": {"25%": 3, "50%": 10, "75%": 2, "90%": 1},  # C, stuck in the middle
            "Liu": {"25%": 7, "50%": 4, "75%": 3, "90%": 2},  # healthy
            "Zhao": {"25%": 7, "50%": 4, "75%": 2, "90%": 1},  # healthy
        },
        # expected close: uniform over this many days after as_of, by stage
        "close_within_days": {"25%": 90, "50%": 60, "75%": 30, "90%": 14},
        "deal_size": {"mean": 60000.0, "cv": 1.0, "round_to": 100},
    },
    "history": {
        "files": ["sample_deal_history.csv"],
        "start": "2024-01-01",
        "end": "2025-06-27",
        "reps": ["Chen", "Li", "Wang", "Zhang", "Liu", "Zhao"],
        # decided deals by the stage (stated probability) they had at a weekly snapshot
        "deals": {"25%": 400, "50%": 250, "75%": 150, "90%": 100},
        # the share that really closed: the stated probabilities are optimistic
        "close_rates": {"25%": 0.20, "50%": 0.40, "75%": 0.65, "90%": 0.85},
        "deal_size": {"mean": 60000.0, "cv": 1.0, "round_to": 100},
    },
    "grades": {
        "files": ["sample_grade_history.csv"],
        "grades": ["E", "D", "C", "B", "A"],
        "start": "2024-01-01",
        "leads": 1200,
        "reps": ["Chen", "Li", "Wang", "Zhang", "Liu", "Zhao"],
        # step-up rates into each grade (the decks' ladder preset)
        "step_up": {"D": 0.5, "C": 0.4, "B": 0.5, "A": 0.6},
        # days from one grade to the next: exponential with this mean
        "days": 20.0,
    },
}


def simulate_pipeline(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """The snapshot of open deals: one row per deal, in the documented stage counts."""
    rows = []
    as_of = pd.Timestamp(spec["as_of"])
    for rep, counts in spec["deals"].items():
        for stage, count in counts.items():
            rows += [(rep, stage)] * count
    n = len(rows)
    rep = np.array([r for r, _ in rows], dtype=object)
    stage = np.array([s for _, s in rows], dtype=object)
    amount = _deal_sizes(rng, n, spec["deal_size"])
    days = np.array([spec["close_within_days"][s] for s in stage])
    close = as_of + pd.to_timedelta(rng.integers(1, days + 1), unit="D")
    order = rng.permutation(n)  # a CRM export lists deals in no particular order
    return pd.DataFrame(
        {
            "deal": [f"P{i:03d}" for i in range(1, n + 1)],
            "rep": rep[order],
            "stage": stage[order],
            "amount": amount[order].astype(np.int64),
            "expected_close": close[order].strftime("%Y-%m-%d"),
        }
    )


def simulate_deal_history(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """Decided deals with the stage they were at and whether they closed."""
    stage = np.concatenate([[s] * k for s, k in spec["deals"].items()]).astype(object)
    n = len(stage)
    closed = rng.random(n) < np.array([spec["close_rates"][s] for s in stage])
    rep = np.array(spec["reps"], dtype=object)[rng.integers(0, len(spec["reps"]), n)]
    amount = _deal_sizes(rng, n, spec["deal_size"])
    days = pd.bdate_range(spec["start"], spec["end"])
    decided = days[rng.integers(0, len(days), n)]
    order = np.argsort(decided.to_numpy(), kind="stable")
    return pd.DataFrame(
        {
            "deal": [f"H{i:04d}" for i in range(1, n + 1)],
            "rep": rep[order],
            "stage": stage[order],
            "amount": amount[order].astype(np.int64),
            "closed": np.where(closed[order], "yes", "no"),
            "decided": decided[order].strftime("%Y-%m-%d"),
        }
    )


def simulate_grades(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """One row per lead and grade reached, E first; every lead has settled."""
    n = spec["leads"]
    grades = spec["grades"]
    best = np.zeros(n, dtype=np.int64)
    going = np.ones(n, dtype=bool)
    for k, grade in enumerate(grades[1:], start=1):
        going &= rng.random(n) < spec["step_up"][grade]
        best[going] = k
    rep = np.array(spec["reps"], dtype=object)[rng.integers(0, len(spec["reps"]), n)]
    first = pd.Timestamp(spec["start"]) + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    gaps = rng.exponential(spec["days"], size=(n, len(grades) - 1)).round().astype(np.int64) + 1
    when = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(gaps, axis=1)], axis=1)
    rows = []
    for k, grade in enumerate(grades):
        has = np.flatnonzero(best >= k)
        dates = first[has] + pd.to_timedelta(when[has, k], unit="D")
        rows.append(
            pd.DataFrame(
                {
                    "lead": [f"G{i + 1:04d}" for i in has],
                    "rep": rep[has],
                    "grade": grade,
                    "date": dates.strftime("%Y-%m-%d"),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["date", "lead"], kind="stable").reset_index(drop=True)


def make_forecast_samples() -> None:
    """Write the pipeline, deal-history and grade-history samples and their truth."""
    rng = np.random.default_rng(PIPELINE_TRUTH["seed"])
    line = {"index": False, "lineterminator": "\n"}
    simulate_pipeline(rng, PIPELINE_TRUTH["pipeline"]).to_csv(HERE / "sample_pipeline.csv", **line)
    simulate_deal_history(rng, PIPELINE_TRUTH["history"]).to_csv(
        HERE / "sample_deal_history.csv", **line
    )
    simulate_grades(rng, PIPELINE_TRUTH["grades"]).to_csv(
        HERE / "sample_grade_history.csv", **line
    )
    write_truth("sample_pipeline_truth.json", PIPELINE_TRUTH)


# --------------------------------------------------------------------------
# The multi-week tracking sheet (sample_tracking.xlsx, read by fs.read_snapshot):
# stocks of leads per stage, written Monday, Wednesday and Friday in the deck's layout.
# The model, per rep and per entry (one step between two entries): new meetings agreed
# arrive as Poisson(inflow); a lead at stage k moves on with probability move[k] and is
# dropped with probability drop[k] (multinomial), otherwise it stays; the leads moving
# on from 90% are the entry's deals (成交), each with a premium drawn from PREMIUMS
# (预收保费) and a standard premium of 80-120% of it (承保标保), rounded to 100. Reps
# start at their steady state (stock = inflow into the stage / (move + drop)), the new
# rep from nothing; the first BURN_IN steps are not written.
TRACKING_TRUTH = {
    "seed": 20250303,
    "file": "sample_tracking.xlsx",
    "title": "潜在客户管理行动工具小组追踪表",
    "start": "2025-03-03",
    "weeks": 6,
    "days": {"周一": 0, "周三": 2, "周五": 4},
    "stages": ["约定初次见面数", "25%", "50%", "90%", "成交"],
    "amounts": ["预收保费", "承保标保"],
    "premiums": [2000, 3000, 5000, 8000, 10000],
    "burn_in": 6,
    "reps": {
        "王芳": {"shape": "healthy", "inflow": 8, "move": [0.5, 0.25, 0.25, 0.5],
                 "drop": [0.25, 0.25, 0.25, 0.1], "start": "steady"},
        "李强": {"shape": "healthy", "inflow": 6, "move": [0.5, 0.25, 0.25, 0.5],
                 "drop": [0.25, 0.25, 0.25, 0.1], "start": "steady"},
        "张伟": {"shape": "top-heavy", "inflow": 3, "move": [0.5, 0.45, 0.45, 0.12],
                 "drop": [0.25, 0.05, 0.05, 0.03], "start": "steady"},
        "刘洋": {"shape": "empty", "inflow": 1, "move": [0.5, 0.25, 0.25, 0.5],
                 "drop": [0.25, 0.25, 0.25, 0.1], "start": "empty"},
        "陈静": {"shape": "stuck in the middle", "inflow": 6, "move": [0.5, 0.35, 0.06, 0.5],
                 "drop": [0.25, 0.15, 0.04, 0.1], "start": "steady"},
        "赵磊": {"shape": "healthy", "inflow": 7, "move": [0.5, 0.25, 0.25, 0.5],
                 "drop": [0.25, 0.25, 0.25, 0.1], "start": "steady"},
    },
}  # fmt: skip


def simulate_tracking(rng: np.random.Generator, spec: dict) -> list[dict]:
    """The sheet's entries: one dict per week, day and rep (stocks, deals, amounts)."""
    reps = spec["reps"]
    state = {}
    for name, rep in reps.items():
        flow, stock = float(rep["inflow"]), []
        for move, drop in zip(rep["move"], rep["drop"], strict=True):
            stock.append(flow / (move + drop))
            flow = stock[-1] * move
        state[name] = np.round(stock).astype(int) if rep["start"] == "steady" else np.zeros(4, int)

    def step(name: str) -> tuple[np.ndarray, int, float, float]:
        rep = reps[name]
        old = state[name]
        moved = np.zeros(4, int)
        for k in range(4):
            p = [rep["move"][k], rep["drop"][k], 1 - rep["move"][k] - rep["drop"][k]]
            moved[k] = rng.multinomial(old[k], p)[0]
            old[k] -= moved[k] + rng.binomial(old[k] - moved[k], p[1] / (p[1] + p[2]))
        new = old.copy()
        new[0] += rng.poisson(rep["inflow"])
        new[1:] += moved[:3]
        state[name] = new
        deals = int(moved[3])
        premium = float(rng.choice(spec["premiums"], size=deals).sum()) if deals else 0.0
        standard = float(np.round(premium * rng.uniform(0.8, 1.2) / 100) * 100) if deals else 0.0
        return new, deals, premium, standard

    for _ in range(spec["burn_in"]):
        for name in reps:
            step(name)
    out = []
    start = pd.Timestamp(spec["start"])
    for week in range(spec["weeks"]):
        for day, offset in spec["days"].items():
            for name in reps:
                stock, deals, premium, standard = step(name)
                date = start + pd.Timedelta(days=7 * week + offset)
                out.append(
                    {"week": week, "day": day, "date": date, "rep": name,
                     "stocks": [*map(int, stock), deals], "amounts": [premium, standard]}
                )  # fmt: skip
    return out


def _reproducible_zip(path: Path, day: tuple[int, int, int]) -> None:
    """Rewrite an xlsx (a zip) so that its bytes depend only on the data: the workbook's
    created / modified properties (openpyxl stamps the time of saving) and every zip
    entry's date become ``day``."""
    stamp = "{:04d}-{:02d}-{:02d}T00:00:00Z".format(*day)
    with zipfile.ZipFile(path) as old:
        entries = [(info.filename, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w") as new:
        for name, data in entries:
            if name == "docProps/core.xml":
                when = rb"\g<1>" + stamp.encode()
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", when, data)
            info = zipfile.ZipInfo(name, date_time=(*day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            new.writestr(info, data)


def make_tracking_sample() -> None:
    """Write sample_tracking.xlsx in the deck's layout and its truth beside it."""
    import datetime

    import openpyxl

    spec = TRACKING_TRUTH
    rng = np.random.default_rng(spec["seed"])
    entries = simulate_tracking(rng, spec)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "小组追踪表"
    ws.append([spec["title"]])
    header = ["1-组员姓名", *(f"{k + 2}-{s}" if "%" not in s else f"{k + 2}-({s})"
                             for k, s in enumerate(spec["stages"])), *spec["amounts"]]  # fmt: skip
    start = pd.Timestamp(spec["start"])
    for week in range(spec["weeks"]):
        first, last = start + pd.Timedelta(days=7 * week), start + pd.Timedelta(days=7 * week + 6)
        ws.append([])
        span = [f"{d.year}年{d.month}月{d.day}日" for d in (first, last)]
        ws.append([" - ".join(span)])
        for day in spec["days"]:
            rows = [e for e in entries if e["week"] == week and e["day"] == day]
            ws.append([])
            ws.append([day])
            ws.append(header)
            for e in rows:
                ws.append([e["rep"], *e["stocks"], *e["amounts"]])
            totals = np.sum([[*e["stocks"], *e["amounts"]] for e in rows], axis=0)
            ws.append(["小计", *(int(x) if k < len(spec["stages"]) else float(x)
                               for k, x in enumerate(totals))])  # fmt: skip
    fixed = datetime.datetime(2025, 3, 3)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "funnelsim data/make_samples.py"
    target = HERE / spec["file"]
    book.save(target)
    _reproducible_zip(target, (2025, 3, 3))
    write_truth("sample_tracking_truth.json", spec)


# --------------------------------------------------------------------------
# The CRM export. Each lead is dialled until it connects (each dial connects
# with ``connect_per_dial``, at most ``max_dials`` dials: dials per connect is
# 1 / connect_per_dial), then moves on through each stage with ``ratios`` or is
# lost there (a row at that stage marked lost, with a reason drawn from
# ``loss_reasons``), after a gamma lag (days). Some leads that reach 方案 are
# sent back to 约见 and come back; some skip the 约见 row. Rows after ``as_of``
# are not in the export (their leads are open). ``won_by`` is the cumulative
# incidence of winning by day t since the first dial, without censoring, from
# a large simulation of the same model (``won_by_leads`` leads).
CRM_TRUTH = {
    "seed": 20250701,
    "file": "sample_crm_export.xlsx",
    "stages": {
        "dial": "拨打",
        "connect": "接通",
        "meeting": "约见",
        "proposal": "方案",
        "sale": "成交",
    },
    "columns": {
        "lead": "线索ID",
        "rep": "负责人",
        "stage": "商机阶段",
        "time": "创建时间",
        "amount": "成交金额",
        "status": "状态",
        "reason": "输单原因",
        "source": "来源",
    },
    "start": "2025-01-01",
    "as_of": "2025-06-30 18:00",
    "leads": 1500,
    "reps": ["张伟", "王芳", "李娜", "刘洋", "陈静"],
    "sources": ["转介绍", "电话名单", "官网"],
    "connect_per_dial": 0.4,
    "max_dials": 6,
    "dial_gap_days": 1.5,
    "ratios": {"meeting": 0.45, "proposal": 0.5, "sale": 0.4},
    "lag_days": {"meeting": 5.0, "proposal": 7.0, "sale": 12.0},
    "lag_shape": 2.0,
    "demote_share": 0.2,
    "demote_days": {"back": 4.0, "again": 3.0},
    "skip_meeting_share": 0.1,
    "loss_reasons": {
        "dial": {"联系不上": 1.0},
        "connect": {"没有需求": 0.5, "价格太高": 0.2, "已有供应商": 0.3},
        "meeting": {"价格太高": 0.4, "选了竞品": 0.4, "没有预算": 0.2},
        "proposal": {"价格太高": 0.3, "选了竞品": 0.5, "决策推迟": 0.2},
    },
    "won_words": ["赢单", "成交", "已成交"],
    "lost_words": ["输单", "丢单", "失败", "已流失"],
    "open_words": ["跟进中", "进行中", ""],
    "deal_size": {"mean": 15000.0, "cv": 0.6},
    "won_by_leads": 200000,
}


def _crm_paths(rng: np.random.Generator, spec: dict, n: int) -> list[list[tuple]]:
    """Each lead's rows, in time order: (days since its first dial, stage, kind, reason),
    kind "try" (an ordinary row), "won" or "lost"; the lead's last row decides it."""
    q, most = spec["connect_per_dial"], spec["max_dials"]
    shape = spec["lag_shape"]
    reasons = {k: (list(v), np.array(list(v.values()))) for k, v in spec["loss_reasons"].items()}

    def lag(mean: float) -> float:
        return float(rng.gamma(shape, mean / shape))

    def loss(stage: str) -> str:
        names, p = reasons[stage]
        return names[rng.choice(len(names), p=p)]

    out = []
    for _ in range(n):
        rows, t = [], 0.0
        for k in range(most):
            if k:
                hour = 1 / 24  # at least an hour between two dials
                t += hour + float(rng.exponential(spec["dial_gap_days"] - hour))
            hit = rng.random() < q
            if hit or k == most - 1:
                break
            rows.append((t, "dial", "try", ""))
        if not hit:
            rows.append((t, "dial", "lost", loss("dial")))
            out.append(rows)
            continue
        rows.append((t, "dial", "try", ""))
        t += 5 / 1440  # connected five minutes into the call
        rows.append((t, "connect", "try", ""))
        stage = "connect"
        for nxt in ("meeting", "proposal", "sale"):
            t += lag(spec["lag_days"][nxt])
            if rng.random() >= spec["ratios"][nxt]:
                rows.append((t, stage, "lost", loss(stage)))
                break
            if nxt == "sale":
                rows.append((t, "sale", "won", ""))
                break
            skip = nxt == "meeting" and rng.random() < spec["skip_meeting_share"]
            if not skip:
                rows.append((t, nxt, "try", ""))
            stage = nxt
            if nxt == "proposal" and rng.random() < spec["demote_share"]:
                t += lag(spec["demote_days"]["back"])
                rows.append((t, "meeting", "try", ""))
                t += lag(spec["demote_days"]["again"])
                rows.append((t, "proposal", "try", ""))
        out.append(rows)
    return out


def _amount_text(rng: np.random.Generator, amount: float) -> str:
    """An amount as Chinese CRMs write it: 1.5万, ¥12,000, 3千 or 12000元."""
    x = round(amount / 1000.0) * 1000
    x = max(x, 1000)
    style = rng.integers(4)
    if style == 0 and x % 1000 == 0 and x < 10000:
        return f"{x // 1000}千"
    if style == 0:
        return f"{x / 10000:g}万"
    if style == 1:
        return f"¥{x:,}"
    if style == 2:
        return f"{x}元"
    return f"{x / 10000:g}万"


def simulate_crm(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """The CRM export's rows (Chinese headers), cut at ``as_of``, shuffled as exports are."""
    n = spec["leads"]
    start, as_of = pd.Timestamp(spec["start"]), pd.Timestamp(spec["as_of"])
    span = (as_of - start) / pd.Timedelta(days=1)
    first = start + pd.to_timedelta(np.sort(rng.uniform(0, span, n)), unit="D")
    reps = np.array(spec["reps"], dtype=object)[rng.integers(len(spec["reps"]), size=n)]
    sources = np.array(spec["sources"], dtype=object)[rng.integers(len(spec["sources"]), size=n)]
    paths = _crm_paths(rng, spec, n)
    size = spec["deal_size"]
    sigma = np.sqrt(np.log1p(size["cv"] ** 2))
    names = spec["stages"]
    rows = []
    for i, path in enumerate(paths):
        for days, stage, kind, reason in path:
            when = (first[i] + pd.Timedelta(days=days)).round("min")
            if when > as_of:
                break
            if kind == "won":
                word = rng.choice(spec["won_words"])
                amount = size["mean"] * rng.lognormal(-(sigma**2) / 2, sigma)
                text = _amount_text(rng, amount)
            elif kind == "lost":
                word, text = rng.choice(spec["lost_words"]), ""
            else:
                word, text = rng.choice(spec["open_words"]), ""
            rows.append(
                (f"XS{i + 1:05d}", reps[i], names[stage], when, text, word, reason, sources[i])
            )
    cols = spec["columns"]
    order = ["lead", "rep", "stage", "time", "amount", "status", "reason", "source"]
    frame = pd.DataFrame(rows, columns=[cols[c] for c in order])
    return frame.sort_values(cols["time"], kind="stable").reset_index(drop=True)


def crm_won_by(rng: np.random.Generator, spec: dict, days: list[int]) -> dict[str, float]:
    """The true share won by each day since the first dial (a large simulation, no cut)."""
    won_at = np.array(
        [
            p[-1][0] if p[-1][2] == "won" else np.inf
            for p in _crm_paths(rng, spec, spec["won_by_leads"])
        ]
    )
    return {str(d): round(float((won_at <= d).mean()), 5) for d in days}


def _fixed_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as an xlsx workbook whose bytes depend only on the data."""
    frame.to_excel(path, index=False, sheet_name="商机导出", engine="openpyxl")
    _reproducible_zip(path, (2025, 7, 1))


def make_crm_sample() -> None:
    spec = CRM_TRUTH
    rng = np.random.default_rng(spec["seed"])
    _fixed_xlsx(simulate_crm(rng, spec), HERE / spec["file"])
    q = spec["connect_per_dial"]
    truth = {
        **spec,
        "true": {
            "ratios": {
                "connect": round(1 - (1 - q) ** spec["max_dials"], 6),
                **spec["ratios"],
            },
            "dials_per_connect": 1 / q,
            "won_by": crm_won_by(rng, spec, [30, 60, 90]),
        },
    }
    write_truth("sample_crm_truth.json", truth)


# --------------------------------------------------------------------------
# The manager's samples (issue #15, notebook 08): a call record with Chinese
# headers and hh:mm:ss durations, and a leads table with MAN and intent fields.
# Their own seeds and truths, so that the files above stay byte for byte the same.
CALLS_TRUTH = {
    "seed": 20250303,
    "file": "sample_calls.csv",
    "columns": {
        "time": "呼叫时间",
        "rep": "坐席",
        "lead": "客户编号",
        "duration": "通话时长",
        "outcome": "呼叫结果",
    },
    "first_day": "2025-03-03",
    "weeks": 8,
    # dials per rep and day: Poisson with this mean (Saturday: a short morning shift)
    "dials_per_day": {"weekday": 45, "saturday": 12},
    "leads_per_rep": 500,
    # The chance that a call gets through is the rep's base rate times the hour's
    # factor times the weekday's factor (0 = Monday).
    "connect": {
        "张伟": 0.36, "王芳": 0.34, "李娜": 0.38, "刘洋": 0.35, "陈静": 0.33, "赵磊": 0.22,
    },
    # calls are spread over the hours by these weights (no calls 12:00-12:59: lunch)
    "hour_weights": {
        "9": 1.0, "10": 1.3, "11": 1.2, "13": 0.6, "14": 1.1, "15": 1.2, "16": 1.1, "17": 0.8,
    },
    "hour_factors": {
        "9": 0.75, "10": 1.05, "11": 1.15, "13": 0.7, "14": 0.95, "15": 1.1, "16": 1.25, "17": 1.0,
    },
    "saturday_hours": ["9", "10", "11"],
    "weekday_factors": {"0": 0.85, "1": 1.0, "2": 1.05, "3": 1.05, "4": 0.9, "5": 1.2},
    # a call that does not get through: which outcome (shares)
    "not_connected": {"未接听": 0.6, "忙线": 0.2, "拒接": 0.15, "空号": 0.05},
    "connected_word": "已接通",
    # talk time of a connected call, in seconds: lognormal with this mean and coefficient
    # of variation, rounded to a whole second (at least 1); other calls last 00:00:00
    "talk_seconds": {
        "张伟": {"mean": 150.0, "cv": 1.0},
        "王芳": {"mean": 170.0, "cv": 1.0},
        "李娜": {"mean": 140.0, "cv": 1.0},
        "刘洋": {"mean": 160.0, "cv": 1.0},
        "陈静": {"mean": 180.0, "cv": 1.0},
        "赵磊": {"mean": 75.0, "cv": 1.2},
    },
}  # fmt: skip

QUALIFIED_TRUTH = {
    "seed": 20250304,
    "file": "sample_qualified_leads.csv",
    "columns": {
        "lead": "客户编号",
        "rep": "销售",
        "money": "有预算",
        "authority": "有决策权",
        "need": "有需求",
        "intent": "意向",
        "won": "是否成交",
    },
    "leads": 1500,
    "reps": ["张伟", "王芳", "李娜", "刘洋", "陈静", "赵磊"],
    "yes": "是",
    "no": "否",
    # each of money, authority and need is there with this chance, independently
    "man_shares": {"money": 0.55, "authority": 0.5, "need": 0.65},
    # the intent classes, best first: their words, and their shares given how many of
    # money, authority and need the lead has (0, 1, 2, 3)
    "intents": ["very_clear", "clear", "becoming_clear", "unclear"],
    "intent_words": {
        "very_clear": "意向非常明确",
        "clear": "意向明确",
        "becoming_clear": "意向在明确中",
        "unclear": "意向不明确",
    },
    "intent_shares": {
        "0": [0.05, 0.15, 0.30, 0.50],
        "1": [0.10, 0.25, 0.35, 0.30],
        "2": [0.20, 0.30, 0.30, 0.20],
        "3": [0.35, 0.35, 0.20, 0.10],
    },
    # the chance to win: logistic, intercept + a weight for each of M, A, N + the intent's
    "win_logit": {
        "intercept": -3.0,
        "money": 0.9,
        "authority": 0.8,
        "need": 1.1,
        "intent": {"very_clear": 1.5, "clear": 0.8, "becoming_clear": 0.2, "unclear": -0.5},
    },
}

#: The eight MAN combinations, in the order the truth lists them (all yes first).
MAN_COMBINATIONS = [(m, a, n) for m in (1, 0) for a in (1, 0) for n in (1, 0)]


def simulate_calls(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """The call record: one row per attempt, Chinese headers, durations as hh:mm:ss."""
    reps = list(spec["connect"])
    days = pd.date_range(spec["first_day"], periods=7 * spec["weeks"], freq="D")
    days = days[days.weekday < 6]  # Monday to Saturday
    hours = np.array([int(h) for h in spec["hour_weights"]])
    weights = np.array(list(spec["hour_weights"].values()))
    saturday = np.isin(hours, [int(h) for h in spec["saturday_hours"]])
    frames = []
    for day in days:
        is_saturday = day.weekday() == 5
        mean = spec["dials_per_day"]["saturday" if is_saturday else "weekday"]
        w = np.where(saturday, weights, 0.0) if is_saturday else weights
        for r, rep in enumerate(reps):
            n = int(rng.poisson(mean))
            hour = hours[rng.choice(len(hours), size=n, p=w / w.sum())]
            second = rng.integers(0, 3600, size=n)
            lead = rng.integers(1, spec["leads_per_rep"] + 1, size=n)
            frames.append(
                pd.DataFrame(
                    {
                        "time": day + pd.to_timedelta(hour * 3600 + second, unit="s"),
                        "rep": rep,
                        "lead": [f"K{r + 1}{i:04d}" for i in lead],
                        "hour": hour,
                    }
                )
            )
    calls = pd.concat(frames, ignore_index=True)
    calls = calls.sort_values(["time", "rep"], kind="stable").reset_index(drop=True)
    n = len(calls)
    p = np.array([spec["connect"][r] for r in calls["rep"]])
    p *= np.array([spec["hour_factors"][str(h)] for h in calls["hour"]])
    p *= np.array([spec["weekday_factors"][str(d)] for d in calls["time"].dt.weekday])
    connected = rng.random(n) < p
    words = list(spec["not_connected"])
    shares = np.array(list(spec["not_connected"].values()))
    other = np.array(words, dtype=object)[rng.choice(len(words), size=n, p=shares)]
    outcome = np.where(connected, spec["connected_word"], other)
    seconds = np.zeros(n, dtype=np.int64)
    for rep, talk in spec["talk_seconds"].items():
        mine = connected & (calls["rep"] == rep).to_numpy()
        sigma2 = np.log1p(talk["cv"] ** 2)
        mu = np.log(talk["mean"]) - sigma2 / 2
        raw = rng.lognormal(mu, np.sqrt(sigma2), size=int(mine.sum()))
        seconds[mine] = np.maximum(np.round(raw), 1).astype(np.int64)
    clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in seconds]
    cols = spec["columns"]
    return pd.DataFrame(
        {
            cols["time"]: calls["time"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            cols["rep"]: calls["rep"],
            cols["lead"]: calls["lead"],
            cols["duration"]: clock,
            cols["outcome"]: outcome,
        }
    )


def qualified_truth(spec: dict) -> dict:
    """The chance to win of each MAN combination and each intent class, in closed form.

    ``win[combination][intent]`` from the logistic model; a combination's chance
    averages over its intent shares, an intent's over the combinations that give it.
    """
    logit = spec["win_logit"]
    share = spec["man_shares"]
    combos, by_intent = {}, {i: [0.0, 0.0] for i in spec["intents"]}
    for m, a, n in MAN_COMBINATIONS:
        name = "".join(k for k, on in zip("MAN", (m, a, n), strict=True) if on) or "none"
        p_combo = 1.0
        for field, on in zip(("money", "authority", "need"), (m, a, n), strict=True):
            p_combo *= share[field] if on else 1 - share[field]
        z = logit["intercept"] + logit["money"] * m + logit["authority"] * a + logit["need"] * n
        wins = {i: 1 / (1 + np.exp(-(z + logit["intent"][i]))) for i in spec["intents"]}
        shares = spec["intent_shares"][str(m + a + n)]
        win = sum(s * wins[i] for s, i in zip(shares, spec["intents"], strict=True))
        combos[name] = {
            "money": m,
            "authority": a,
            "need": n,
            "share": round(p_combo, 6),
            "win": round(float(win), 6),
            "win_by_intent": {i: round(float(w), 6) for i, w in wins.items()},
        }
        for s, i in zip(shares, spec["intents"], strict=True):
            by_intent[i][0] += p_combo * s
            by_intent[i][1] += p_combo * s * wins[i]
    intents = {
        i: {"share": round(w, 6), "win": round(won / w, 6)} for i, (w, won) in by_intent.items()
    }
    return {"man": combos, "intent": intents}


def simulate_qualified_leads(rng: np.random.Generator, spec: dict) -> pd.DataFrame:
    """One row per lead: its rep, MAN answers (是/否), intent class and whether it was won."""
    n = spec["leads"]
    rep = np.array(spec["reps"], dtype=object)[rng.integers(0, len(spec["reps"]), size=n)]
    man = {f: rng.random(n) < s for f, s in spec["man_shares"].items()}
    k = man["money"].astype(int) + man["authority"].astype(int) + man["need"].astype(int)
    shares = np.array([spec["intent_shares"][str(j)] for j in range(4)])
    cum = shares.cumsum(axis=1)[k]
    intent = (rng.random(n)[:, None] > cum).sum(axis=1)
    logit = spec["win_logit"]
    z = logit["intercept"] + sum(logit[f] * man[f] for f in ("money", "authority", "need"))
    z = z + np.array([logit["intent"][i] for i in spec["intents"]])[intent]
    won = rng.random(n) < 1 / (1 + np.exp(-z))
    cols = spec["columns"]

    def yes_no(flags: np.ndarray) -> np.ndarray:
        return np.where(flags, spec["yes"], spec["no"])

    words = np.array([spec["intent_words"][i] for i in spec["intents"]], dtype=object)
    return pd.DataFrame(
        {
            cols["lead"]: [f"Q{i:05d}" for i in range(1, n + 1)],
            cols["rep"]: rep,
            cols["money"]: yes_no(man["money"]),
            cols["authority"]: yes_no(man["authority"]),
            cols["need"]: yes_no(man["need"]),
            cols["intent"]: words[intent],
            cols["won"]: yes_no(won),
        }
    )


#: The year's target per rep of the sample events' team (a manager's own numbers, not a
#: model: the actual column is the reps' sales of January to June in sample_events.csv).
YEAR_TARGETS = {
    "Chen": 700_000,
    "Li": 700_000,
    "Liu": 500_000,
    "Wang": 450_000,
    "Zhang": 700_000,
    "Zhao": 500_000,
}


def make_targets_sample() -> None:
    """``sample_targets.csv``: each rep's year target and sales to date, as a manager's sheet
    has them (销售, 目标, 实际), for ``funnelsim report --attainment`` half-way through."""
    events = pd.read_csv(HERE / "sample_events.csv")
    sales = events[events["stage"] == "sale"].groupby("rep")["amount"].sum()
    table = pd.DataFrame(
        {
            "销售": list(YEAR_TARGETS),
            "目标": list(YEAR_TARGETS.values()),
            "实际": [round(sales.get(rep, 0.0)) for rep in YEAR_TARGETS],
        }
    )
    table.to_csv(HERE / "sample_targets.csv", index=False, lineterminator="\n")


def make_manager_samples() -> None:
    """The call record and the qualified leads (notebook 08), their truths beside them."""
    line = {"index": False, "lineterminator": "\n"}
    spec = CALLS_TRUTH
    simulate_calls(np.random.default_rng(spec["seed"]), spec).to_csv(HERE / spec["file"], **line)
    write_truth("sample_calls_truth.json", spec)
    spec = QUALIFIED_TRUTH
    leads = simulate_qualified_leads(np.random.default_rng(spec["seed"]), spec)
    leads.to_csv(HERE / spec["file"], **line)
    write_truth("sample_qualified_leads_truth.json", {**spec, "true": qualified_truth(spec)})
    make_targets_sample()
    for name in (CALLS_TRUTH["file"], QUALIFIED_TRUTH["file"], "sample_targets.csv"):
        shutil.copyfile(HERE / name, PACKAGE_DATA / name)
    for name in ("sample_calls_truth.json", "sample_qualified_leads_truth.json"):
        shutil.copyfile(HERE / name, PACKAGE_DATA / name)


def main() -> None:
    rng = np.random.default_rng(TRUTH["seed"])

    spec = TRUTH["events"]
    events = simulate_events(rng, spec)
    leads = events_to_leads(events, spec["stages"])
    stamp = "%Y-%m-%d %H:%M"
    events.to_csv(HERE / "sample_events.csv", index=False, date_format=stamp, lineterminator="\n")
    leads.to_csv(HERE / "sample_leads.csv", index=False, date_format=stamp, lineterminator="\n")

    counts = simulate_counts(rng, TRUTH["counts"])
    counts.to_csv(HERE / "sample_counts.csv", index=False, lineterminator="\n")

    spec = TRUTH["gbk"]
    gbk = simulate_events(rng, spec)
    # As a Chinese Excel export writes it: 2025/3/5 9:05, whole amounts, GBK, CRLF.
    when = pd.DatetimeIndex(gbk["time"])
    gbk["time"] = [
        f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}" for t in when.to_pydatetime()
    ]
    gbk["amount"] = gbk["amount"].map(lambda x: "" if np.isnan(x) else f"{x:.0f}")
    gbk = gbk.rename(columns=spec["columns"])
    gbk.to_csv(
        HERE / "sample_events_gbk.csv",
        index=False,
        encoding=spec["encoding"],
        lineterminator="\r\n",
    )

    write_truth("sample_truth.json", TRUTH)

    make_forecast_samples()
    make_tracking_sample()
    make_crm_sample()
    make_manager_samples()
    # The package ships what data/ holds: the samples above and the real bank log as published.
    real = ("bank_marketing.csv.gz", "bank_marketing_SOURCE.md")
    for name in [*sorted(PACKAGE_DATA.glob("sample_*")), *(PACKAGE_DATA / r for r in real)]:
        shutil.copyfile(HERE / name.name, name)
    # The tracking sheet and the deck's own sheet (facts quoted from a public deck).
    tracking = ("sample_tracking.xlsx", "sample_tracking_truth.json")
    for name in (*tracking, "deck_tracking.xlsx", "deck_tracking_SOURCE.md"):
        shutil.copyfile(HERE / name, PACKAGE_DATA / name)


if __name__ == "__main__":
    main()
