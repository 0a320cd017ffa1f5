"""The ``funnelsim`` command line: ratios, forecasts and a report from a log, without Jupyter.

Three subcommands, each reading one log file (CSV, Excel or Parquet, read by
:func:`funnelsim.read_log` with the same rules and messages), and one reading a
tracking sheet (:func:`funnelsim.read_snapshot`):

``funnelsim fit LOG``
    prints the stage ratios with their intervals (``--csv``: the table as CSV);
``funnelsim forecast LOG --target X``
    prints the plan: calls needed for the target at the chosen probability,
    the forecast band (P10/P50/P90) and the chance of reaching the target;
``funnelsim report LOG -o report.html``
    writes one self-contained HTML report (see :mod:`funnelsim.report`);
``funnelsim snapshot SHEET``
    prints a tracking sheet's team totals per date, each rep's pipeline shape
    and the amounts by week;
``funnelsim kpi CALLS``
    prints a call record's KPI table per rep and day or week (拨打次数, 接通率,
    通话时长...; :meth:`funnelsim.Calls.kpis`), ``--heatmap`` saves the hour x
    weekday heatmap.

Bad input (a missing file, a log that cannot be read, a value out of range)
ends with exit code 2 and a one-line message on stderr, never a traceback.
:func:`main` returns the exit code, so it can be called from Python:

>>> from funnelsim.cli import main
>>> main(["fit", "no-such-file.csv", "--stages", "dial,sale"])  # the message goes to stderr
2
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from ._cli_args import (
    EXIT_BAD_INPUT,
    Formatter,
    Parser,
    argparse_words,
    by_option,
    file_arguments,
    help_text,
    name_pairs,
    pairs_argument,
    print_dropped,
    progress_bar,
    stages_option,
    warnings_as_notes,
)
from ._version import __version__
from .backtesting import backtest
from .calls import read_calls
from .distributions import Cycle, DealSize
from .engine import ENGINES
from .estimate import fit as fit_log
from .forecasting import forecast
from .i18n import (
    FunnelsimError,
    FunnelsimValueError,
    available_languages,
    language,
    method_label,
    speaking_to,
    t,
    table_text,
)
from .intervals import METHODS
from .lessons import calls_per_week, outlook
from .logs import FORMATS, READERS, LogError, read_log
from .stocks import read_snapshot
from .summaries import (
    band_frame,
    calls_line,
    day_text,
    fit_notes,
    kpi_frame,
    log_line,
    outlook_lines,
    plan_frame,
    ratio_table,
    snapshot_frame,
    snapshot_text,
    unit_words,
)
from .targets import Attainment, attainment, read_targets

__all__ = ["build_parser", "main"]


# ------------------------------------------------------------------ parser
def _log_arguments(parser: argparse.ArgumentParser, *, estimate: bool = True) -> None:
    """The options that read a log; with ``estimate``, also --mature, --by, --method and
    --confidence-level (the back-test fits its own way, without them)."""
    group = parser.add_argument_group(t("cli.group.log"))
    group.add_argument("log", metavar="LOG", help=t("cli.help.log"))
    group.add_argument(
        "--format",
        choices=[f for f in FORMATS if f not in READERS],
        default="events",
        help=help_text("cli.help.format", "events"),
    )
    group.add_argument("--stages", required=True, metavar="A,B,C", help=t("cli.help.stages"))
    pairs_argument(group, "--column", "FIELD=NAME", "cli.help.column")
    group.add_argument("--as-of", metavar="DATE", default=None, help=t("cli.help.as_of"))
    if estimate:
        group.add_argument("--mature", metavar="DAYS", default=None, help=t("cli.help.mature"))
    file_arguments(group)
    group.add_argument(
        "--engine", choices=ENGINES, default="auto", help=help_text("cli.help.engine", "auto")
    )
    group.add_argument("--table", default=None, metavar="NAME", help=t("cli.help.table"))
    group.add_argument("--query", default=None, metavar="SQL", help=t("cli.help.query"))
    parser.add_argument("--quiet", "-q", action="store_true", help=t("cli.help.quiet"))
    if not estimate:
        return
    est = parser.add_argument_group(t("cli.group.estimate"))
    est.add_argument(
        "--by", default=None, type=by_option, metavar="COLUMN[,COLUMN]", help=t("cli.help.by")
    )
    est.add_argument(
        "--method", choices=METHODS, default="wilson", help=help_text("cli.help.method", "wilson")
    )
    est.add_argument(
        "--confidence-level",
        type=float,
        default=0.95,
        metavar="LEVEL",
        help=help_text("cli.help.level", 0.95),
    )


def _forecast_arguments(parser: argparse.ArgumentParser, *, periods: int) -> None:
    group = parser.add_argument_group(t("cli.group.forecast"))
    group.add_argument("--target", type=float, default=None, help=t("cli.help.target"))
    group.add_argument(
        "--probability",
        type=float,
        default=0.9,
        metavar="P",
        help=help_text("cli.help.probability", 0.9),
    )
    group.add_argument("--calls", type=int, default=None, metavar="N", help=t("cli.help.calls"))
    group.add_argument(
        "--periods", type=int, default=periods, help=help_text("cli.help.periods", periods)
    )
    group.add_argument(
        "--deal-size", default=None, metavar="MEAN|log", help=t("cli.help.deal_size")
    )
    group.add_argument(
        "--deal-cv", type=float, default=None, metavar="CV", help=t("cli.help.deal_cv")
    )
    group.add_argument(
        "--cycle", type=float, default=None, metavar="MEAN", help=t("cli.help.cycle")
    )
    group.add_argument(
        "--reps", type=int, default=10_000, help=help_text("cli.help.reps", "10000")
    )
    group.add_argument("--seed", type=int, default=None, help=t("cli.help.seed"))
    group.add_argument("--fixed-ratios", action="store_true", help=t("cli.help.fixed_ratios"))


def build_parser() -> argparse.ArgumentParser:
    """The ``funnelsim`` argument parser (subcommands ``fit``, ``forecast``, ``report``).

    Examples
    --------
    >>> from funnelsim.cli import build_parser
    >>> args = build_parser().parse_args(["fit", "log.csv", "--stages", "dial,sale"])
    >>> args.command, args.format, args.method
    ('fit', 'events', 'wilson')
    """
    parser = Parser(
        prog="funnelsim",
        description=t("cli.description"),
        epilog=t("cli.epilog"),
        formatter_class=Formatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"funnelsim {__version__}",
        help=t("cli.argparse.version"),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = sub.add_parser(
        "fit",
        help=t("cli.fit.help"),
        description=t("cli.fit.description"),
        epilog=t("cli.fit.epilog"),
        formatter_class=Formatter,
    )
    _log_arguments(fit)
    fit.add_argument("--csv", action="store_true", help=t("cli.help.csv"))

    forecast = sub.add_parser(
        "forecast",
        help=t("cli.forecast.help"),
        description=t("cli.forecast.description"),
        epilog=t("cli.forecast.epilog"),
        formatter_class=Formatter,
    )
    _log_arguments(forecast)
    _forecast_arguments(forecast, periods=13)

    report = sub.add_parser(
        "report",
        help=t("cli.report.help"),
        description=t("cli.report.description"),
        epilog=t("cli.report.epilog"),
        formatter_class=Formatter,
    )
    _log_arguments(report)
    report.add_argument(
        "-o", "--output", required=True, metavar="FILE.html", help=t("cli.help.output")
    )
    _forecast_arguments(report, periods=13)
    sections = report.add_argument_group(t("cli.group.sections"))
    sections.add_argument(
        "--calls-file", default=None, metavar="CALLS", help=t("cli.help.report_calls")
    )
    _calls_file_arguments(sections)
    sections.add_argument(
        "--attainment", default=None, metavar="FILE", help=t("cli.help.attainment")
    )
    sections.add_argument(
        "--elapsed", type=float, default=None, metavar="SHARE", help=t("cli.help.elapsed")
    )
    _snapshot_parser(sub)
    _backtest_parser(sub)
    _kpi_parser(sub)
    return parser


def _calls_file_arguments(group: Any) -> None:
    """``report --calls-column FIELD=NAME --calls-outcome WORD=CLASS``: how the report
    reads its call record (``--column`` and the other options read the log)."""
    pairs_argument(group, "--calls-column", "FIELD=NAME", "cli.help.report_calls_column")
    pairs_argument(group, "--calls-outcome", "WORD=CLASS", "cli.help.report_calls_outcome")


def _read_calls_file(args: argparse.Namespace):
    """The report's ``--calls-file``, read with ``--calls-column`` and ``--calls-outcome``;
    its messages name those options. Columns recognised by their names are added to the
    log's line on stderr."""
    with speaking_to("cli-calls"):
        columns = name_pairs(args.calls_column, "--calls-column")
        calls = read_calls(
            args.calls_file,
            columns={k: v for k, v in columns.items() if v is not None} or None,
            outcomes=_outcomes(args.calls_outcome, "--calls-outcome"),
        )
        recognised = _recognised_calls(calls, columns)
        if recognised and not args.quiet:
            line = t("cli.recognised", columns=recognised)
            previous = getattr(args, "recognised", None)
            args.recognised = line if not previous else f"{previous}\n{line}"
    return calls


def _outcomes(items: Sequence[str], option: str) -> dict[str, str] | None:
    """``--outcome WORD=CLASS`` items as ``read_calls(outcomes=...)`` takes them."""
    pairs = name_pairs(items, option)
    return {k: v or "" for k, v in pairs.items()} or None


def _recognised_calls(calls, columns: Mapping[str, str | None]) -> str:
    """``field=column`` for each field of a call record read under another name."""
    used = calls.columns_used.items()
    return ", ".join(f"{f}={c}" for f, c in used if c != f and f not in columns)


def _kpi_parser(sub: Any) -> None:
    """``funnelsim kpi CALLS [--by rep] [--period day|week|all] [--effective-seconds 30]
    [--csv] [--heatmap FILE.png] [--lang en|zh]``."""
    kpi = sub.add_parser(
        "kpi",
        help=t("cli.kpi.help"),
        description=t("cli.kpi.description"),
        epilog=t("cli.kpi.epilog"),
        formatter_class=Formatter,
    )
    group = kpi.add_argument_group(t("cli.group.calls"))
    group.add_argument("file", metavar="CALLS", help=t("cli.help.calls_file"))
    pairs_argument(group, "--column", "FIELD=NAME", "cli.help.calls_column")
    pairs_argument(group, "--outcome", "WORD=CLASS", "cli.help.kpi_outcome")
    file_arguments(group)
    group.add_argument(
        "--effective-seconds", type=float, default=30.0, metavar="SECONDS",
        help=help_text("cli.help.effective_seconds", 30),
    )  # fmt: skip
    table = kpi.add_argument_group(t("cli.group.kpi"))
    table.add_argument(
        "--by", default="rep", type=by_option, metavar="COLUMN[,COLUMN]",
        help=help_text("cli.help.kpi_by", "rep"),
    )  # fmt: skip
    table.add_argument(
        "--period", choices=("day", "week", "all"), default="day",
        help=help_text("cli.help.kpi_period", "day"),
    )  # fmt: skip
    table.add_argument(
        "--method", choices=METHODS, default="wilson", help=help_text("cli.help.method", "wilson")
    )
    table.add_argument(
        "--confidence-level", type=float, default=0.95, metavar="LEVEL",
        help=help_text("cli.help.level", 0.95),
    )  # fmt: skip
    table.add_argument("--csv", action="store_true", help=t("cli.help.kpi_csv"))
    table.add_argument("--heatmap", default=None, metavar="FILE.png", help=t("cli.help.heatmap"))
    table.add_argument(
        "--min-calls", type=int, default=30, metavar="N", help=help_text("cli.help.min_calls", 30)
    )
    kpi.add_argument(
        "--lang", choices=available_languages(), default=None, help=t("cli.help.lang")
    )
    kpi.add_argument("--quiet", "-q", action="store_true", help=t("cli.help.quiet"))


def _cmd_kpi(args: argparse.Namespace, out: TextIO) -> None:
    heatmap = None
    if args.heatmap is not None:
        heatmap = Path(args.heatmap)
        if heatmap.suffix.lower() != ".png":
            raise FunnelsimValueError("cli.error.heatmap", value=args.heatmap)
        if not heatmap.parent.is_dir():
            raise FunnelsimValueError("cli.error.output_dir", value=str(heatmap.parent))
        if heatmap.exists() and heatmap.resolve() == Path(args.file).resolve():
            raise FunnelsimValueError("cli.error.dropped_same", path=args.heatmap)
    if args.dropped is not None and Path(args.dropped).resolve() == Path(args.file).resolve():
        raise FunnelsimValueError("cli.error.dropped_same", path=args.dropped)
    pairs = name_pairs(args.column, "--column")
    columns = {k: v for k, v in pairs.items() if v is not None}
    calls = read_calls(
        args.file,
        columns=columns or None,
        encoding=args.encoding,
        delimiter=args.delimiter,
        sheet=args.sheet,
        errors=args.errors,
        effective=args.effective_seconds,
        outcomes=_outcomes(args.outcome, "--outcome"),
    )
    if args.dropped is not None:
        calls.dropped.to_csv(args.dropped, index=False, lineterminator="\n")
    _report_calls_dropped(calls)
    recognised = _recognised_calls(calls, pairs)
    if recognised and not args.quiet:
        args.recognised = t("cli.recognised", columns=recognised)
    by = () if args.by is None else args.by
    period = None if args.period == "all" else args.period
    kpis = calls.kpis(
        by=by, period=period, confidence_level=args.confidence_level, method=args.method
    )
    if args.csv:
        kpis.to_csv(out, index=False, lineterminator="\n")
    else:
        print(calls_line(calls), file=out)
        frame = kpi_frame(kpis, effective=calls.effective, confidence_level=args.confidence_level)
        print(table_text(frame, index=False), file=out)
    if heatmap is not None:
        _save_heatmap(calls, heatmap, args.min_calls)
        if not args.quiet:
            print(t("cli.kpi.heatmap_written", path=str(heatmap)), file=sys.stderr)


def _save_heatmap(calls, path: Path, min_calls: int) -> None:
    """The hour x weekday heatmap (:func:`funnelsim.plotting.plot_call_heatmap`) as a PNG."""
    # lazy: matplotlib loads only when a heatmap is asked for
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # lazy: the plotting module pulls in matplotlib and seaborn
    from . import plotting

    with plotting.style():
        fig = Figure(figsize=(12, 5.5), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        plotting.plot_call_heatmap(calls, min_calls=min_calls, ax=fig.subplots())
        fig.savefig(path, format="png")


def _report_calls_dropped(calls, shown: int = 10) -> None:
    """``--errors drop``: the call rows left out, on stderr; calls left out for their
    outcome are missing from every rate too, which a note says (map their words instead)."""
    print_dropped(calls.dropped, calls.name, shown)
    column = getattr(calls, "columns_used", {}).get("outcome")
    if column is not None and len(calls.dropped):
        n = int((calls.dropped["column"] == column).sum())
        if n:
            print(t("cli.kpi.dropped_outcomes", n=n, column=column), file=sys.stderr)


def _snapshot_parser(sub: Any) -> None:
    """``funnelsim snapshot SHEET [--sheet S] [--rep NAME] [--csv]``."""
    snapshot = sub.add_parser(
        "snapshot",
        help=t("cli.snapshot.help"),
        description=t("cli.snapshot.description"),
        epilog=t("cli.snapshot.epilog"),
        formatter_class=Formatter,
    )
    snapshot.add_argument("file", metavar="SHEET", help=t("cli.help.snapshot_file"))
    snapshot.add_argument("--sheet", default=None, metavar="NAME|N", help=t("cli.help.sheet"))
    snapshot.add_argument("--rep", default=None, metavar="NAME", help=t("cli.help.rep"))
    snapshot.add_argument("--csv", action="store_true", help=t("cli.help.snapshot_csv"))
    snapshot.add_argument("--quiet", "-q", action="store_true", help=t("cli.help.quiet"))


def _backtest_parser(sub: Any) -> None:
    """``funnelsim backtest LOG --stages ... [--horizon 30] [--period week] [--start]
    [--window] [--min-history] [--reps] [--seed]``."""
    parser = sub.add_parser(
        "backtest",
        help=t("cli.backtest.help"),
        description=t("cli.backtest.description"),
        epilog=t("cli.backtest.epilog"),
        formatter_class=Formatter,
    )
    _log_arguments(parser, estimate=False)
    group = parser.add_argument_group(t("cli.group.backtest"))
    group.add_argument("--horizon", default=None, metavar="DAYS", help=t("cli.help.horizon"))
    group.add_argument(
        "--period",
        choices=("week", "month"),
        default=None,
        help=help_text("cli.help.period", "week"),
    )
    group.add_argument("--start", default=None, metavar="DATE", help=t("cli.help.start"))
    group.add_argument("--window", type=int, default=None, metavar="N", help=t("cli.help.window"))
    group.add_argument(
        "--min-history",
        type=int,
        default=6,
        metavar="N",
        help=help_text("cli.help.min_history", 6),
    )
    group.add_argument("--reps", type=int, default=4000, help=help_text("cli.help.reps", "4000"))
    group.add_argument("--seed", type=int, default=None, help=t("cli.help.seed"))


def _cmd_backtest(args: argparse.Namespace, out: TextIO) -> None:
    log = _read(args)
    horizon = args.horizon
    if horizon is not None:
        with contextlib.suppress(ValueError):
            horizon = float(horizon)
    with progress_bar(1, args.quiet, t("progress.backtest")) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(1)

        bt = backtest(
            log,
            horizon=horizon,
            period=args.period,
            start=args.start,
            window=args.window,
            min_history=args.min_history,
            reps=args.reps,
            rng=args.seed,
            progress=progress,
        )
    print(log_line(log), file=out)
    horizon = "" if bt.horizon is None else t("repr.backtest.horizon", days=bt.horizon)
    windows = int(bt.coverage()["windows"].iloc[0])
    period = t(f"backtest.period.{bt.period}")
    print(t("cli.backtest.header", windows=windows, period=period, horizon=horizon), file=out)
    print(table_text(bt.summary(), index=False), file=out)
    for line in bt.verdict():
        print(file=out)
        print(line, file=out)


def _read(args: argparse.Namespace):
    """Read the log named on the command line (all options as :func:`read_log` takes them)."""
    columns = {k: v for k, v in name_pairs(args.column, "--column").items() if v is not None}
    log = read_log(
        args.log,
        format=args.format,
        stages=stages_option(args.stages),
        columns=columns or None,
        encoding=args.encoding,
        errors=args.errors,
        as_of=args.as_of,
        delimiter=args.delimiter,
        sheet=args.sheet,
        engine=args.engine,
        table=args.table,
        query=args.query,
    )
    _report_dropped(log, args)
    _report_recognised(log, args)
    return log


def _report_recognised(log, args: argparse.Namespace) -> None:
    """Columns read by their names in common exports (负责人 as the rep...): one line on
    stderr once the command succeeded (an error stays one line), so that a wrong guess
    is seen (``--column`` maps a field to another)."""
    recognised = [
        f"{f}={c}"
        for f, c in log.columns_used.items()
        if c != f and f not in name_pairs(args.column, "--column")
    ]
    if recognised and not args.quiet:
        args.recognised = t("cli.recognised", columns=", ".join(recognised))


def _report_dropped(log, args: argparse.Namespace, shown: int = 10) -> None:
    """``--errors drop``: list the rows left out on stderr (``--dropped FILE`` writes all)."""
    dropped = log.dropped
    if getattr(args, "dropped", None):
        out = Path(args.dropped)
        if out.resolve() == Path(args.log).resolve():
            raise FunnelsimValueError("cli.error.dropped_same", path=args.dropped)
        dropped.to_csv(out, index=False, lineterminator="\n")
    if not len(dropped):
        return
    print_dropped(dropped, log.name, shown)
    # rows kept: one per period and group, per lead, or per event (a lead's stages)
    kept = {
        "counts": lambda: len(log.counts),
        "leads": lambda: len(log.reached),
        "events": lambda: int(log.reached.to_numpy().sum()) if log.engine is None else log.n_rows,
    }[log.format]()
    if len(dropped) > kept:
        print(t("cli.dropped.most"), file=sys.stderr)


def _fit(log, args: argparse.Namespace):
    return fit_log(
        log,
        by=args.by,
        method=args.method,
        confidence_level=args.confidence_level,
        mature=_mature(args),
    )


def _mature(args: argparse.Namespace) -> float | str | None:
    """``--mature``: a number of days (periods for period logs), or e.g. "60D"."""
    if args.mature is None:
        return None
    try:
        return float(args.mature)
    except ValueError:
        pass
    try:
        pd.Timedelta(args.mature)
    except (TypeError, ValueError):
        raise FunnelsimValueError("cli.error.mature", value=args.mature) from None
    return args.mature


# ------------------------------------------------------------------ commands
def _cmd_fit(args: argparse.Namespace, out: TextIO) -> None:
    log = _read(args)
    fit = _fit(log, args)
    if args.csv:
        fit.to_frame().to_csv(out, index=False, lineterminator="\n")
        return
    print(log_line(log), file=out)
    print(
        t("cli.fit.method", method=method_label(fit.method), level=fit.confidence_level), file=out
    )
    print(table_text(ratio_table(fit), index=False), file=out)
    for note in fit_notes(fit):
        print(t("cli.note", note=note), file=out)


def _deal_size(log, args: argparse.Namespace):
    """``--deal-size``: a mean (``--deal-cv``, default 0.5), or ``log``: the log's amounts."""
    if args.deal_size is None:
        if args.deal_cv is not None:
            raise FunnelsimValueError("cli.error.cv_without_size")
        return None
    if args.deal_size.strip().lower() == "log":
        return _log_deal_size(log, args.deal_cv)
    try:
        mean = float(args.deal_size)
    except ValueError:
        raise FunnelsimValueError("cli.error.deal_size", value=args.deal_size) from None
    return DealSize.gamma(mean, cv=0.5 if args.deal_cv is None else args.deal_cv)


def _log_deal_size(log, cv: float | None = None) -> DealSize:
    """The log's deal sizes as a gamma of their mean and CV (``cv`` given: that CV)."""
    amounts = _log_amounts(log)
    cv = float(amounts.std(ddof=1) / amounts.mean()) if cv is None else cv
    return DealSize.gamma(float(amounts.mean()), cv=cv)


def _log_amounts(log) -> pd.Series:
    """Amounts of the deals that reached the last stage (for ``--deal-size log``)."""
    amounts = log.won_amounts()
    if len(amounts) < 2 or not (amounts > 0).all():
        raise FunnelsimValueError("cli.error.no_amounts", name=log.name)
    return amounts.astype(float)


def _cycle(args: argparse.Namespace):
    return None if args.cycle is None else Cycle(args.cycle)


def _cmd_forecast(args: argparse.Namespace, out: TextIO) -> None:
    if args.target is None and args.calls is None:
        raise FunnelsimValueError("cli.error.no_target")
    with progress_bar(3, args.quiet, t("cli.progress.forecast")) as bar:
        log = _read(args)
        fit = fit_log(
            log, method=args.method, confidence_level=args.confidence_level, mature=_mature(args)
        )
        groups = None if args.by is None else _fit(log, args)
        bar.update()
        pace = None
        if args.calls is None:
            with contextlib.suppress(ValueError):
                pace = calls_per_week(log)
        o = outlook(
            fit,
            groups=groups,
            target=args.target,
            probability=args.probability,
            calls=args.calls,
            periods=args.periods,
            reps=args.reps,
            deal_size=_deal_size(log, args),
            cycle=_cycle(args),
            rng=args.seed,
            pace=pace,
            between=None if args.fixed_ratios else "auto",
        )
        bar.update(2)
    print(log_line(log), file=out)
    print(table_text(ratio_table(fit), index=False), file=out)
    for note in fit_notes(fit, fixed=args.fixed_ratios):
        print(t("cli.note", note=note), file=out)
    print(file=out)
    for line in outlook_lines(o):
        print(line, file=out)
    if o.plan is not None:
        print(file=out)
        print(t("report.plan", **unit_words(o)), file=out)
        plan = plan_frame(o).set_index(t("report.col.group")).T  # one column per group
        print(table_text(plan), file=out)
        if len(o.plan.table) > 1:
            print(t("report.plan_note"), file=out)
    print(file=out)
    print(t("report.band", **unit_words(o)), file=out)
    print(table_text(band_frame(o), index=False), file=out)


def _cmd_report(args: argparse.Namespace, out: TextIO) -> None:
    # lazy: matplotlib, which the report's figures need, loads only for this command
    from .report import build_report

    path = Path(args.output)
    if path.suffix.lower() not in (".html", ".htm"):
        raise FunnelsimValueError("cli.error.output", value=args.output)
    if not path.parent.is_dir():
        raise FunnelsimValueError("cli.error.output_dir", value=str(path.parent))
    if isinstance(args.by, list):
        raise FunnelsimValueError("cli.error.report_by", value=",".join(args.by))
    if args.attainment is not None and args.elapsed is None:
        raise FunnelsimValueError("cli.error.elapsed_missing")
    if args.elapsed is not None and args.attainment is None:
        raise FunnelsimValueError("cli.error.elapsed_alone", value=args.elapsed)
    sections = 2 + (args.by is not None) + (args.target is not None or args.calls is not None)
    sections += (args.calls_file is not None) + (args.attainment is not None)
    with progress_bar(sections, args.quiet, t("cli.progress.report")) as bar:
        log = _read(args)
        call_log = None if args.calls_file is None else _read_calls_file(args)
        att, att_notes = (None, []) if args.attainment is None else _attainment_notes(args, log)
        for note in att_notes:  # reps of the sheet without history, reps left out
            print(t("cli.note", note=note), file=sys.stderr)
        bar.update()
        done = []

        def progress(name: str) -> None:
            if done:
                bar.update()
            done.append(name)
            bar.set_postfix_str(name)

        page = build_report(
            log,
            by=args.by,
            method=args.method,
            confidence_level=args.confidence_level,
            mature=_mature(args),
            target=args.target,
            probability=args.probability,
            calls=args.calls,
            periods=args.periods,
            reps=args.reps,
            deal_size=_deal_size(log, args),
            cycle=_cycle(args),
            rng=args.seed,
            progress=progress,
            between=None if args.fixed_ratios else "auto",
            call_log=call_log,
            attainment=att,
            attainment_notes=att_notes,
        )
    path.write_text(page, encoding="utf-8")
    print(t("cli.report.written", path=str(path), size=len(page.encode("utf-8")) / 1e6), file=out)


def _attainment_notes(args: argparse.Namespace, log) -> tuple[Attainment, list[str]]:
    """:func:`_attainment` and the notes on reps that the sheet and the log do not share."""
    notes: list[str] = []
    att = _attainment(args, log, notes)
    return att, notes


def _attainment(args: argparse.Namespace, log, notes: list[str] | None = None) -> Attainment:
    """``--attainment FILE --elapsed SHARE``: each rep's actual against target
    (:func:`funnelsim.attainment`), with the team's chance to finish simulated from the
    log's ratios over the periods left (``--periods``) at the log's pace (or ``--calls``).

    When the log has reps and the sheet's are not exactly the log's, only the sheet's reps
    with history are forecast (a fit by rep restricted to them, each at their own share of
    the pace); a rep without history gets no chance, nor then does the team. ``notes``
    (when given) receives a sentence on each kind of mismatch."""
    elapsed = args.elapsed
    if not 0 <= elapsed <= 1:
        raise FunnelsimValueError("cli.error.elapsed", value=elapsed)
    sheet_table = read_targets(args.attainment)
    amounts = {name: sheet_table[name] for name in ("actual", "target")}
    sheet = list(amounts["actual"].index)
    first = _first_leads_by_rep(log)
    log_reps = None if first is None else list(first.index)
    no_history: list[str] = []
    if log_reps is not None and set(sheet) != set(log_reps):
        no_history = [r for r in sheet if r not in log_reps]
        left_out = [r for r in log_reps if r not in sheet]
        if notes is not None and no_history:
            notes.append(t("cli.attainment.no_history", reps=", ".join(no_history)))
        if notes is not None and left_out:
            notes.append(t("cli.attainment.left_out", reps=", ".join(left_out)))
    known = [r for r in sheet if r not in no_history]
    left = max(0, round(args.periods * (1 - elapsed)))
    ahead = None
    if left > 0 and known:
        pace = args.calls
        if pace is None:
            with contextlib.suppress(ValueError):
                pace = calls_per_week(log)
        if pace is not None and round(pace) > 0:
            pace = round(pace)
            by_rep = _pace_by_rep(first, known, pace)
            fit = fit_log(
                log, by=None if by_rep is None else "rep", method=args.method,
                confidence_level=args.confidence_level, mature=_mature(args),
            )  # fmt: skip
            if by_rep is not None and set(by_rep) != set(log_reps or ()):
                fit = _rep_fit(fit, list(by_rep))
            size = _deal_size(log, args)
            if size is None:  # targets are money when the log has amounts: --deal-size log
                with contextlib.suppress(FunnelsimValueError):
                    size = _log_deal_size(log)
            ahead = forecast(
                fit, pace if by_rep is None else by_rep, left, args.reps,
                deal_size=size, cycle=_cycle(args), rng=args.seed,
                between=None if args.fixed_ratios else "auto",
            )  # fmt: skip
    if not no_history:
        return attainment(amounts["actual"], amounts["target"], elapsed=elapsed, forecast=ahead)
    # Reps without history: no chance for them, hence none for the team; the others'
    # chances are those of the sheet's reps with history alone.
    whole = attainment(amounts["actual"], amounts["target"], elapsed=elapsed)
    if ahead is None:
        return whole
    part = attainment(
        amounts["actual"][known], amounts["target"][known], elapsed=elapsed, forecast=ahead
    ).table.set_index("rep")
    table = whole.table.copy()
    for column in ("p_finish", "p_se"):
        table[column] = [part.at[rep, column] if rep in known else np.nan for rep in table["rep"]]
    return Attainment(table, elapsed)


def _first_leads_by_rep(log) -> pd.Series | None:
    """Each rep's leads entering the log's first step (index: the rep as text, in the log's
    order); None when the log has no rep column."""
    try:
        table = log.stage_table(by=["rep"])
    except FunnelsimValueError:  # no rep column
        return None
    first = table[table["stage"] == log.stages[1]].set_index("rep")["entered"]
    first.index = first.index.map(str)
    return first


def _rep_fit(fit, reps: list[str]):
    """A fit by rep cut to ``reps``: each rep's ratios are their own leads' alone, so the
    cut equals a fit of those reps' leads."""
    keep = fit.table["rep"].map(str).isin(reps)
    return dataclasses.replace(fit, table=fit.table[keep].reset_index(drop=True))


def _pace_by_rep(first: pd.Series | None, reps: list[str], pace: int) -> dict[str, int] | None:
    """Each rep's share of the team's ``pace``, by their share of the log's first-stage
    leads ``first`` (all the log's reps counted), for ``reps`` when they are all in the log;
    None otherwise, or without a rep column (the team alone)."""
    if first is None or not reps or not set(reps) <= set(first.index) or first.sum() <= 0:
        return None
    return {rep: max(1, round(pace * first[rep] / first.sum())) for rep in reps}


# ------------------------------------------------------------------ snapshot
def _cmd_snapshot(args: argparse.Namespace, out: TextIO) -> None:
    snap = read_snapshot(args.file, sheet=0 if args.sheet is None else args.sheet)
    if args.rep is not None and args.rep not in snap.reps:
        raise FunnelsimValueError(
            "stocks.error.rep", value=repr(args.rep), choices=", ".join(snap.reps)
        )
    if args.csv:
        snapshot_frame(snap, args.rep).to_csv(out, index=False, lineterminator="\n")
        return
    dates = snap.dates
    first, last = day_text(dates[0]), day_text(dates[-1])
    print(
        t(
            "cli.snapshot.line",
            name=snap.name,
            reps=len(snap.reps),
            dates=len(dates),
            span=first if first == last else t("cli.snapshot.span", first=first, last=last),
            stages=" → ".join(snap.stages),
            amounts=t("cli.snapshot.sep").join(snap.amount_columns) or "-",
        ),
        file=out,
    )
    if not args.quiet:
        for note in snap.notes:
            print(t("cli.note", note=note), file=out)
    print(file=out)
    snapshot_text(snap, out, args.rep)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; return the exit code (0, or 2 on bad input).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; by default ``sys.argv[1:]``.
    out : text stream, optional
        Where results are printed; by default ``sys.stdout``.

    Examples
    --------
    ``funnelsim fit`` on the sample events log, from Python:

    >>> import io
    >>> import funnelsim as fs
    >>> from funnelsim.cli import main
    >>> out = io.StringIO()
    >>> log = str(fs.datasets.path("sample_events.csv"))
    >>> main(["fit", log, "--stages", "dial,connect,meeting,proposal,sale",
    ...       "--as-of", "2025-06-30 18:00"], out=out)
    0
    >>> print(out.getvalue(), end="")
    sample_events.csv: events log, 6,000 leads, stages dial → connect → meeting → proposal →
    sale, as of 2025-06-30 18:00:00
    Wilson intervals, 95% confidence
                  step passed / entered  ratio    95% interval
        dial → connect        2831/6000 47.18% 45.92% – 48.45%
     connect → meeting         636/2831 22.47% 20.97% – 24.04%
    meeting → proposal          277/636 43.55% 39.75% – 47.43%
       proposal → sale           80/277 28.88% 23.86% – 34.48%
           dial → sale          80/6000  1.33%   1.07% – 1.66%
    """
    out = sys.stdout if out is None else out
    with argparse_words():
        args = build_parser().parse_args(argv)
    commands = {
        "fit": _cmd_fit,
        "forecast": _cmd_forecast,
        "report": _cmd_report,
        "snapshot": _cmd_snapshot,
        "backtest": _cmd_backtest,
        "kpi": _cmd_kpi,
    }
    try:
        if getattr(args, "seed", None) is not None and args.seed < 0:
            raise FunnelsimValueError("cli.error.seed", value=args.seed)
        # fixes name the options (--errors drop), not Python arguments; one line per error,
        # without numpy's warnings (0/0 in a stage nobody entered) on stderr beside it
        lang = getattr(args, "lang", None)  # --lang (funnelsim kpi): output and messages
        with (
            language(lang) if lang else contextlib.nullcontext(),
            speaking_to("cli"),
            warnings.catch_warnings(),
            np.errstate(all="ignore"),
        ):
            warnings.simplefilter("ignore", RuntimeWarning)
            notes = warnings_as_notes()
            commands[args.command](args, out)
        for note in notes:  # after the command's output, and only when it succeeded
            print(t("cli.note", note=note), file=sys.stderr)
        if getattr(args, "recognised", None):
            print(args.recognised, file=sys.stderr)
    except BrokenPipeError:  # `funnelsim fit ... | head`: the reader left, not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (FunnelsimError, LogError, ValueError, OSError) as exc:
        message = " ".join(str(exc).split())  # one line, whatever the error's layout
        message = re.sub(r"(?<=[。；：！？）])\s+", "", message)  # no space after 。 in Chinese
        print(t("cli.error", message=message), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (MemoryError, OverflowError):  # --reps 10000000, --cycle 1e9, --calls 1e20
        print(t("cli.error", message=t("cli.error.too_big")), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return 130
    return 0
