"""The kit's sample logs, ready to use: ``load_events()`` and friends.

Synthetic logs of one simulated team, made by ``data/make_samples.py`` from
documented true parameters (see ``data/README.md``), so that every estimate
the notebooks show can be checked against the truth. They ship inside the
package, so they load the same in a clone, an installed kit and a workshop
server, from any working directory (like ``seaborn.load_dataset`` or
``lifelines.datasets``). The same CSV files lie in the repository's
``data/`` folder for people who want to open them in a spreadsheet.

==========================  ==================================================
:func:`load_events`         events log: 6 reps, 6,000 leads, dial -> sale
:func:`load_leads`          the same leads, one row each (a leads log)
:func:`load_counts`         the decks' weekly tracking table (a counts log)
:func:`load_events_gbk`     a Chinese Excel export (GBK, Chinese columns)
:func:`load_crm_export`     a Chinese CRM export (xlsx): repeat dials, won / lost
:func:`load_crm_truth`      the true parameters of the CRM export
:func:`load_pipeline`       80 open deals at 30 June 2025 (a pipeline)
:func:`load_deal_history`   900 decided deals, for :func:`funnelsim.calibration`
:func:`load_grade_history`  E -> A grade changes, for :func:`funnelsim.grade_ladder`
:func:`load_bank_marketing` a real log: 41,188 clients a bank called (UCI)
:func:`load_tracking`       a 6-week team tracking sheet (stocks; a Snapshot)
:func:`load_calls`          8 weeks of 6 reps' call attempts (Chinese headers)
:func:`load_qualified_leads`  1,500 leads with MAN answers, intent and outcome
:func:`load_deck_tracking`  the decks' own tracking sheet (its Monday block)
:func:`load_truth`          the true parameters of the logs
:func:`load_pipeline_truth`  the true parameters of the pipeline samples
:func:`load_calls_truth`    the true connect rates and talk times of the calls
:func:`load_qualified_leads_truth`  the true chance to win by MAN and intent
:func:`path`                a sample file's path, to read it as your own
==========================  ==================================================

Examples
--------
>>> import funnelsim as fs
>>> log = fs.datasets.load_events()
>>> log.stages, len(log.leads)
(('dial', 'connect', 'meeting', 'proposal', 'sale'), 6000)
>>> fs.datasets.load_truth()["events"]["ratios"]["referral"]["connect"]
0.6
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .._reader import NAME_ATTR
from ..calls import Calls, read_calls
from ..i18n import FunnelsimValueError
from ..logs import Log, read_log
from ..pipeline import Pipeline, read_pipeline
from ..stocks import Snapshot, read_snapshot

__all__ = [
    "FILES",
    "REAL_FILES",
    "load_bank_marketing",
    "load_bank_marketing_table",
    "load_calls",
    "load_calls_truth",
    "load_counts",
    "load_crm_export",
    "load_crm_truth",
    "load_deal_history",
    "load_deck_tracking",
    "load_events",
    "load_events_gbk",
    "load_grade_history",
    "load_leads",
    "load_pipeline",
    "load_pipeline_truth",
    "load_qualified_leads",
    "load_qualified_leads_truth",
    "load_targets",
    "load_tracking",
    "load_tracking_truth",
    "load_truth",
    "path",
]

#: The files shipped with the kit (the same as in the repository's ``data/``).
FILES = (
    "sample_events.csv",
    "sample_leads.csv",
    "sample_counts.csv",
    "sample_events_gbk.csv",
    "sample_pipeline.csv",
    "sample_deal_history.csv",
    "sample_grade_history.csv",
    "sample_crm_export.xlsx",
    "sample_crm_truth.json",
    "sample_truth.json",
    "sample_pipeline_truth.json",
    "bank_marketing.csv.gz",
    "bank_marketing_SOURCE.md",
    "sample_tracking.xlsx",
    "sample_tracking_truth.json",
    "deck_tracking.xlsx",
    "deck_tracking_SOURCE.md",
    "sample_calls.csv",
    "sample_calls_truth.json",
    "sample_qualified_leads.csv",
    "sample_qualified_leads_truth.json",
    "sample_targets.csv",
)
#: The real public logs among them, shipped as published, with their source and licence notes.
REAL_FILES = (
    "bank_marketing.csv.gz",
    "bank_marketing_SOURCE.md",
    "deck_tracking.xlsx",
    "deck_tracking_SOURCE.md",
)
#: The snapshot time of the events and leads logs (leads after it are open, not lost).
AS_OF = "2025-06-30 18:00"


def path(name: str) -> Path:
    """The path of a shipped sample file, to read it with :func:`funnelsim.read_log` yourself.

    Parameters
    ----------
    name : str
        One of :data:`FILES`, such as ``"sample_events.csv"``.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.path("sample_counts.csv").name
    'sample_counts.csv'
    """
    if name not in FILES:
        raise FunnelsimValueError(
            "error.unknown_dataset", value=repr(name), choices=", ".join(FILES)
        )
    return Path(str(resources.files(__name__) / name))


def load_truth() -> dict[str, Any]:
    """The true parameters of the events, leads, counts and Chinese logs (``sample_truth.json``).

    A dict with ``seed`` and one entry per log (``events``, ``counts``, ``gbk``):
    its stages, true ratios per source, rep shares and factors, lags, deal size
    and snapshot time. :func:`funnelsim.lessons.true_ratios` turns an entry
    into the ratio each estimate should find.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_truth()["events"]["stages"]
    ['dial', 'connect', 'meeting', 'proposal', 'sale']
    """
    return json.loads(path("sample_truth.json").read_text(encoding="utf-8"))


def load_pipeline_truth() -> dict[str, Any]:
    """The true parameters of the pipeline, deal-history and grade samples.

    Examples
    --------
    >>> import funnelsim as fs
    >>> sorted(fs.datasets.load_pipeline_truth())
    ['grades', 'history', 'pipeline', 'seed']
    """
    return json.loads(path("sample_pipeline_truth.json").read_text(encoding="utf-8"))


def load_events() -> Log:
    """The team's events log: one row per lead and stage reached, as of 30 June 2025 18:00.

    Six reps (Chen, Li, Wang, Zhang, Liu, Zhao), two lead sources
    (referral, cold list), 6,000 leads through dial -> connect -> meeting ->
    proposal -> sale; ``rep``, ``source`` and ``amount`` columns. Leads
    still open at the snapshot are in the log as open, not lost.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.fit(fs.datasets.load_events()).table["passed"].tolist()
    [2831, 636, 277, 80]
    """
    stages = load_truth()["events"]["stages"]
    return read_log(path("sample_events.csv"), format="events", stages=stages, as_of=AS_OF)


def load_leads() -> Log:
    """The same 6,000 leads as :func:`load_events`, read from the one-row-per-lead file.

    Examples
    --------
    >>> import funnelsim as fs
    >>> events = fs.datasets.load_events().stage_table()  # events logs add attempts
    >>> fs.datasets.load_leads().stage_table().equals(events.drop(columns="attempts"))
    True
    """
    stages = load_truth()["events"]["stages"]
    return read_log(path("sample_leads.csv"), format="leads", stages=stages, as_of=AS_OF)


def load_counts() -> Log:
    """The decks' weekly tracking table: 26 weeks x 6 reps of dials, connects, meetings, sales.

    A counts log with ``period`` (the week's Monday), ``rep`` and ``amount``
    (the week's revenue): the daily ratio game at 75 dials a rep and week.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_counts().stages
    ('dials', 'connects', 'meetings', 'sales')
    """
    stages = load_truth()["counts"]["stages"]
    return read_log(
        path("sample_counts.csv"),
        format="counts",
        stages=stages,
        columns={"period": "week", "amount": "revenue"},
    )


def load_events_gbk() -> Log:
    """An events log as a Chinese Excel export writes it: GBK bytes, Chinese columns and stages.

    Four reps (张伟, 王芳, 李娜, 刘洋), two channels (转介绍, 电话名单), stages
    拨打 -> 接通 -> 面谈 -> 成交; the encoding is detected.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_events_gbk().stages
    ('拨打', '接通', '面谈', '成交')
    """
    spec = load_truth()["gbk"]
    return read_log(
        path("sample_events_gbk.csv"),
        format="events",
        stages=spec["stages"],
        columns=spec["columns"],
        as_of=spec["as_of"],
    )


def load_crm_truth() -> dict[str, Any]:
    """The true parameters of the CRM export (``sample_crm_truth.json``).

    The model's parameters (dials until a connect, ratios, lags, moves back,
    skipped 约见 rows, loss reasons per stage, deal size) and under ``true``
    what the estimates should find: the ratio per lead of each step, the
    dials per connect and the share won by day 30, 60 and 90 since the first
    dial (``won_by``).

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_crm_truth()["true"]["dials_per_connect"]
    2.5
    """
    return json.loads(path("sample_crm_truth.json").read_text(encoding="utf-8"))


def load_crm_export() -> Log:
    """A Chinese CRM export (xlsx): 1,500 leads, as a CRM's opportunity list writes them.

    Columns 线索ID, 负责人 (rep), 商机阶段 (stage: 拨打 -> 接通 -> 约见 -> 方案 ->
    成交), 创建时间 (time), 成交金额, 状态 (赢单 / 输单 / 跟进中 ...), 输单原因
    (reason) and 来源 (source); leads are dialled several times, some are sent
    back from 方案 to 约见, some skip 约见. Read with English stage names
    (``dial`` ... ``sale``) and ``status`` / ``reason`` columns; the amounts,
    written as a person types them ("1.8万", "¥11,000", "7千", "16000元"), are
    read as yuan into ``log.leads["amount"]`` (one per won lead).

    Examples
    --------
    >>> import funnelsim as fs
    >>> log = fs.datasets.load_crm_export()
    >>> log.stage_table()
          stage  entered  passed  attempts
    0   connect     1500    1397      3601
    1   meeting     1397     619      1397
    2  proposal      619     295       576
    3      sale      295     121       351
    >>> log.leads["status"].value_counts().to_dict()
    {'lost': 1259, 'won': 121, 'open': 120}
    >>> log.leads.loc[["XS00030", "XS00142", "XS00099"], "amount"].tolist()
    [18000.0, 11000.0, 7000.0]
    """
    spec = load_crm_truth()
    return read_log(
        path(spec["file"]),
        format="events",
        stages=spec["stages"],
        columns=spec["columns"],
        as_of=spec["as_of"],
    )


def load_pipeline() -> Pipeline:
    """The team's 80 open deals on 30 June 2025, at the decks' 25/50/75/90 % stages.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_pipeline().n_deals
    80
    """
    return read_pipeline(path("sample_pipeline.csv"))


def load_deal_history() -> pd.DataFrame:
    """900 deals decided from January 2024 to June 2025: their stage, and whether they closed.

    The table as written (``deal``, ``rep``, ``stage``, ``closed``...), for
    :func:`funnelsim.calibration`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> len(fs.datasets.load_deal_history())
    900
    """
    return _table("sample_deal_history.csv")


def load_grade_history() -> pd.DataFrame:
    """Grade changes E -> D -> C -> B -> A of 1,200 leads, for :func:`funnelsim.grade_ladder`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_grade_history()["lead"].nunique()
    1200
    """
    return _table("sample_grade_history.csv")


def _table(name: str) -> pd.DataFrame:
    """A sample CSV as text cells, named after its file in what the kit prints about it."""
    frame = pd.read_csv(path(name), dtype=str, keep_default_na=False)
    frame.attrs[NAME_ATTR] = name  # what read_pipeline / calibration call the table
    return frame


#: The stages of the bank log: every client was contacted; ``y == "yes"`` subscribed.
BANK_STAGES = {"contacted": None, "subscribed": "y"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def load_bank_marketing_table() -> pd.DataFrame:
    """The real bank telemarketing log as published, plus the month each client was called.

    The UCI Bank Marketing data (Moro, Cortez & Rita 2014; CC BY 4.0, see
    ``bank_marketing_SOURCE.md``): 41,188 clients a Portuguese bank called
    from May 2008 to November 2010, 21 columns, ``y`` = subscribed a term
    deposit. The file names the month but not the year; its rows are in
    date order, so the year is read from that order and added as ``period``
    (``"2008-05"`` ... ``"2010-11"``). Nothing else is changed.

    Examples
    --------
    >>> import funnelsim as fs
    >>> table = fs.datasets.load_bank_marketing_table()
    >>> len(table), int((table["y"] == "yes").sum()), table["period"].nunique()
    (41188, 4640, 26)
    >>> table["period"].iloc[[0, -1]].tolist()
    ['2008-05', '2010-11']
    """
    table = pd.read_csv(path("bank_marketing.csv.gz"), sep=";")
    month = table["month"].map(_MONTHS.index) + 1
    year = 2008 + (month.diff() < 0).cumsum()  # the month goes back: a new year
    table["period"] = year.astype(str) + "-" + month.map("{:02d}".format)
    table.attrs[NAME_ATTR] = "bank_marketing.csv.gz"
    return table


def load_bank_marketing() -> Log:
    """The real bank log as a leads log: contacted -> subscribed, by contact type and month.

    One lead per client; ``source`` is the contact type (``cellular`` or
    ``telephone``) and ``period`` the month called (``"2008-05"`` ...). The
    other columns (job, age, earlier campaigns...) are kept too: ``by=`` can
    name any of them (``by="job"``).

    Examples
    --------
    >>> import funnelsim as fs
    >>> bank = fs.datasets.load_bank_marketing()
    >>> fs.fit(bank).table[["entered", "passed"]].values.tolist()
    [[41188, 4640]]
    >>> sorted(bank.stage_table(by="source")["source"])
    ['cellular', 'telephone']
    >>> bank.stage_table(by="poutcome")[["poutcome", "entered", "passed"]]
          poutcome  entered  passed
    0      failure     4252     605
    1  nonexistent    35563    3141
    2      success     1373     894
    """
    return read_log(
        load_bank_marketing_table(),
        format="leads",
        stages=BANK_STAGES,
        columns={"source": "contact", "period": "period"},
    )


def load_tracking() -> Snapshot:
    """A 6-week team tracking sheet in the decks' layout (``sample_tracking.xlsx``).

    Monday, Wednesday and Friday blocks for 6 reps with a 小计 row each, the
    leads sitting at each stage (约定初次见面数, 25%, 50%, 90%, 成交) and the
    amounts 预收保费 and 承保标保; simulated by ``data/make_samples.py`` so that
    each rep has one of the decks' pipeline shapes (the truth:
    :func:`load_tracking_truth`).

    Examples
    --------
    >>> import funnelsim as fs
    >>> snap = fs.datasets.load_tracking()
    >>> len(snap.reps), len(snap.dates), snap.stages[1:4]
    (6, 18, ('25%', '50%', '90%'))
    """
    return read_snapshot(path("sample_tracking.xlsx"))


def load_tracking_truth() -> dict[str, Any]:
    """The model and the true pipeline shape of each rep of :func:`load_tracking`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_tracking_truth()["reps"]["张伟"]["shape"]
    'top-heavy'
    """
    return json.loads(path("sample_tracking_truth.json").read_text(encoding="utf-8"))


def load_deck_tracking() -> Snapshot:
    """The decks' own team tracking sheet (``deck_tracking.xlsx``; ``deck_tracking_SOURCE.md``).

    Its Monday block (2009-12-12) of two reps, with the deck's 小计; the
    Wednesday and Friday blocks are blank templates, skipped (see ``.notes``).

    Examples
    --------
    >>> import funnelsim as fs
    >>> fs.datasets.load_deck_tracking().team().iloc[0, 1:].astype(float).tolist()
    [7.0, 7.0, 5.0, 3.0, 5.0, 13000.0, 14000.0]
    """
    return read_snapshot(path("deck_tracking.xlsx"))


def load_calls_truth() -> dict[str, Any]:
    """The model of the call record :func:`load_calls` (``sample_calls_truth.json``).

    Each rep's base chance that a call gets through (``connect``), the factor
    of each hour (``hour_factors``, by the hour's number) and weekday
    (``weekday_factors``, 0 for Monday): a call's chance is the product of
    its rep's, its hour's and its weekday's. Also the dials a day, how calls
    spread over the hours, the words of the outcomes and each rep's talk
    time (``talk_seconds``: lognormal, mean and coefficient of variation).

    Examples
    --------
    >>> import funnelsim as fs
    >>> truth = fs.datasets.load_calls_truth()
    >>> truth["connect"]["赵磊"], truth["hour_factors"]["16"], truth["weekday_factors"]["0"]
    (0.22, 1.25, 0.85)
    """
    return json.loads(path("sample_calls_truth.json").read_text(encoding="utf-8"))


def load_calls() -> Calls:
    """A call centre's record: 8 weeks of 6 reps' call attempts (``sample_calls.csv``).

    One row per attempt as a Chinese dialler exports it: 呼叫时间 (time),
    坐席 (rep), 客户编号 (lead), 通话时长 (``hh:mm:ss``) and 呼叫结果
    (已接通 / 未接听 / 忙线 / 拒接 / 空号), Monday 3 March to Saturday
    26 April 2025, Saturday mornings included. Calls get through more often
    in the late afternoon and mid-week; 赵磊 gets through far less often
    than the others and talks for shorter (the truth:
    :func:`load_calls_truth`).

    Examples
    --------
    >>> import funnelsim as fs
    >>> calls = fs.datasets.load_calls()
    >>> len(calls.table), calls.reps
    (11362, ['李娜', '刘洋', '陈静', '赵磊', '王芳', '张伟'])
    >>> kpis = calls.kpis(period=None).set_index("rep")
    >>> kpis.loc[["张伟", "赵磊"], ["dials", "connects", "dials_per_connect"]].round(2)
         dials  connects  dials_per_connect
    rep
    张伟    1897       683               2.78
    赵磊    1943       417               4.66
    """
    return read_calls(path("sample_calls.csv"))


def load_qualified_leads_truth() -> dict[str, Any]:
    """The model of :func:`load_qualified_leads` and the true chance to win it implies.

    Under ``true``: for each MAN combination (``"MAN"``, ``"MA"``... ``"none"``)
    its share of the leads and its chance to win (``win``, and by intent
    class ``win_by_intent``); for each intent class its share and chance to
    win. The chance rises with every MAN answer and with the intent class.

    Examples
    --------
    >>> import funnelsim as fs
    >>> true = fs.datasets.load_qualified_leads_truth()["true"]
    >>> true["man"]["MAN"]["win"], true["intent"]["unclear"]["win"]
    (0.634203, 0.119325)
    """
    return json.loads(path("sample_qualified_leads_truth.json").read_text(encoding="utf-8"))


def load_qualified_leads() -> pd.DataFrame:
    """1,500 leads with the decks' qualification (MAN, intent) and their outcome.

    ``sample_qualified_leads.csv`` as written, Chinese headers: 客户编号 (lead), 销售 (rep),
    有预算 / 有决策权 / 有需求 (money, authority, need: 是 or 否), 意向
    (意向非常明确 / 意向明确 / 意向在明确中 / 意向不明确) and 是否成交 (won:
    是 or 否). The truth: :func:`load_qualified_leads_truth`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> leads = fs.datasets.load_qualified_leads()
    >>> len(leads), list(leads.columns)
    (1500, ['客户编号', '销售', '有预算', '有决策权', '有需求', '意向', '是否成交'])
    """
    return _table("sample_qualified_leads.csv")


def load_targets() -> pd.DataFrame:
    """Each sample rep's year target and sales to date, as a manager's sheet has them.

    ``sample_targets.csv`` as written, Chinese headers: 销售 (rep), 目标 (the year's
    target) and 实际 (sales to date: the reps' sales of January to June in
    ``sample_events.csv``, half the year gone). The targets are a manager's numbers, not a
    model: there is no truth beside them. ``funnelsim report --attainment
    data/sample_targets.csv --elapsed 0.5`` reads it; in Python, :func:`funnelsim.attainment`.

    Examples
    --------
    >>> import funnelsim as fs
    >>> sheet = fs.datasets.load_targets()
    >>> att = fs.attainment(sheet.set_index("销售")["实际"], sheet.set_index("销售")["目标"],
    ...                     elapsed=0.5)
    >>> att.to_frame().set_index("rep").loc[["Chen", "team"], ["attainment", "pace"]].round(3)
          attainment   pace
    rep
    Chen       0.477  0.953
    team       0.475  0.949
    """
    frame = pd.read_csv(path("sample_targets.csv"))
    frame.attrs[NAME_ATTR] = "sample_targets.csv"
    return frame
