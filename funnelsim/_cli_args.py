"""The command line's argument machinery, shared by its subcommands (:mod:`funnelsim.cli`):
the parser that fails in one line, argparse's words in the kit's language, options given
as ``NAME=VALUE`` pairs, the file options every reader takes, the rows left out and the
warnings as notes on stderr, a progress bar.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
from tqdm import tqdm

from .backtesting import BacktestWarning
from .i18n import FunnelsimValueError, t
from .young import YoungLeadsWarning

__all__ = [
    "ARGPARSE_WORDS",
    "EXIT_BAD_INPUT",
    "PAIR_EXAMPLES",
    "Formatter",
    "Parser",
    "argparse_words",
    "by_option",
    "file_arguments",
    "help_text",
    "name_pairs",
    "pairs_argument",
    "print_dropped",
    "progress_bar",
    "stages_option",
    "warnings_as_notes",
]

EXIT_BAD_INPUT = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, t("cli.usage_error", prog=self.prog, message=message) + "\n")


# argparse's own words (usage:, options, its error messages) go through gettext when it
# uses them; these are looked up in the kit's catalogue instead (keys cli.argparse.*).
ARGPARSE_WORDS = {
    "usage: ": "cli.argparse.usage",
    "positional arguments": "cli.argparse.positional",
    "options": "cli.argparse.options",
    "show this help message and exit": "cli.argparse.help",
    "the following arguments are required: %s": "cli.argparse.required",
    "unrecognized arguments: %s": "cli.argparse.unrecognized",
    "invalid choice: %(value)r (choose from %(choices)s)": "cli.argparse.choice",
    "expected one argument": "cli.argparse.one",
    "argument %(argument_name)s: %(message)s": "cli.argparse.argument",
    "invalid %(type)s value: %(value)r": "cli.argparse.type",
    "ambiguous option: %(option)s could match %(matches)s": "cli.argparse.ambiguous",
    "expected at least one argument": "cli.argparse.at_least_one",
    "one of the arguments %s is required": "cli.argparse.one_of",
    "not allowed with argument %s": "cli.argparse.not_allowed",
}


@contextlib.contextmanager
def argparse_words() -> Iterator[None]:
    """argparse speaks the kit's language while the parser is built and used."""
    original = argparse._  # type: ignore[attr-defined]

    def lookup(message: str) -> str:
        key = ARGPARSE_WORDS.get(message)
        return t(key) if key else original(message)

    argparse._ = lookup  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the epilog's examples as written."""


def help_text(key: str, default: object) -> str:
    """A help text with its default value."""
    return f"{t(key)} ({t('cli.default', value=default)})"


def file_arguments(group: Any) -> None:
    """How a file is read and what happens to its bad rows: ``--encoding``,
    ``--delimiter``, ``--sheet``, ``--errors`` and ``--dropped`` (a log's and a call
    record's alike)."""
    group.add_argument("--encoding", default=None, help=t("cli.help.encoding"))
    group.add_argument("--delimiter", default=None, help=t("cli.help.delimiter"))
    group.add_argument("--sheet", default=None, metavar="NAME|N", help=t("cli.help.sheet"))
    group.add_argument(
        "--errors",
        choices=("raise", "drop"),
        default="raise",
        help=help_text("cli.help.errors", "raise"),
    )
    group.add_argument("--dropped", metavar="FILE.csv", default=None, help=t("cli.help.dropped"))


def pairs_argument(group: Any, flag: str, metavar: str, help_key: str) -> None:
    """An option given once per pair (``--column FIELD=NAME``, ``--outcome WORD=CLASS``)."""
    group.add_argument(flag, action="append", default=[], metavar=metavar, help=t(help_key))


def print_dropped(dropped: pd.DataFrame, name: str, shown: int) -> None:
    """The first ``shown`` rows left out (row, column, reason; a folder's: the row's file
    and its row there too), on stderr."""
    if not len(dropped):
        return
    print(t("cli.dropped", n=len(dropped), name=name), file=sys.stderr)
    in_parts = "file" in dropped.columns  # a folder's rows: each one's file too
    for row in dropped.head(shown).itertuples(index=False):
        said = {"row": row.row, "column": row.column, "reason": row.reason}
        if in_parts:
            said.update(part=row.file, inner=row.file_row)
        key = "cli.dropped.part_row" if in_parts else "cli.dropped.row"
        print(t(key, **said), file=sys.stderr)
    if len(dropped) > shown:
        print(t("cli.dropped.more", n=len(dropped) - shown), file=sys.stderr)


# ------------------------------------------------------------------ helpers
#: How each NAME=VALUE option is written, for its error message.
PAIR_EXAMPLES = {
    "--column": "lead=id",
    "--stages": "dial=call_time,sale=signed_on",
    "--calls-column": "duration=talk_secs",
    "--outcome": "关机=no_answer",
    "--calls-outcome": "关机=no_answer",
}


def name_pairs(items: Sequence[str], option: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            example = PAIR_EXAMPLES[option]
            raise FunnelsimValueError("cli.error.pair", option=option, value=item, example=example)
        out[name.strip()] = value.strip() or None
    return out


def by_option(text: str) -> str | list[str] | None:
    """``--by``: one group column, or several joined by commas (``rep,product``).

    >>> by_option("rep"), by_option(" rep , 产品 "), by_option(",")
    ('rep', ['rep', '产品'], None)
    """
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        return None
    return names[0] if len(names) == 1 else names


def stages_option(text: str) -> list[str] | dict[str, str | None]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if any("=" in s for s in items):
        return name_pairs(items, "--stages")
    return items


def warnings_as_notes() -> list[str]:
    """Inside ``warnings.catch_warnings()``: collect each :class:`YoungLeadsWarning` as one
    line, once (a command may fit twice), for ``main`` to print as a ``note:`` on stderr
    once the command has succeeded; other warnings show as before."""
    notes: list[str] = []
    show = warnings.showwarning

    def note(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, (YoungLeadsWarning, BacktestWarning)):
            return show(message, category, filename, lineno, file, line)
        text = " ".join(str(message).split())
        if text not in notes:
            notes.append(text)
        return None

    warnings.simplefilter("always", YoungLeadsWarning)
    warnings.simplefilter("always", BacktestWarning)
    warnings.showwarning = note
    return notes


@contextlib.contextmanager
def progress_bar(total: int, quiet: bool, desc: str) -> Iterator[Any]:
    """A progress bar on stderr, shown only on a terminal and without ``--quiet``."""
    bar = tqdm(
        total=total,
        desc=desc,
        file=sys.stderr,
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )
    try:
        yield bar
    finally:
        bar.close()
