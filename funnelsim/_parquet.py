"""A Parquet dataset's layout: which files of a folder are its parts, the columns its Hive
folder names add (``rep=Li/``), and the pandas index a file may hold as a column; both
readers (pandas in :mod:`funnelsim._reader`, DuckDB in :mod:`funnelsim._sources`) read a
folder by these rules, so that they read the same rows and columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

#: A pandas index stored as a column (``df.to_parquet()`` of a frame whose index is not
#: a range): the frame's row labels, not data, left out on every path (an index with a
#: name is a column: ``df.set_index("lead")`` keeps its leads).
PANDAS_INDEX = re.compile(r"__index_level_\d+__")
#: A Hive folder name's value for a missing one (``rep=__HIVE_DEFAULT_PARTITION__/``).
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def stored_columns(names: Sequence[object]) -> list[str]:
    """A Parquet file's column names less a pandas index's (:data:`PANDAS_INDEX`).

    >>> stored_columns(["lead", "stage", "__index_level_0__"])
    ['lead', 'stage']
    """
    return [str(c) for c in names if not PANDAS_INDEX.fullmatch(str(c))]


def parquet_parts(path: Path) -> list[str]:
    """The Parquet files of a dataset's folder, as both readers read them: every file
    below it named ``*.parquet`` or ``*.pq``, in the order of their paths, less those in
    a file or folder whose name starts with ``.`` or ``_`` (Arrow's rule: Spark's
    ``_SUCCESS``, ``_temporary/`` parts of an unfinished job, ``.crc`` checksums); any
    other file (a ``README.txt``) is left aside. Empty when there is none.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for f in ("rep=Li/part-0.parquet", "_temporary/0/part-1.parquet", "README.txt"):
    ...     (folder / f).parent.mkdir(parents=True, exist_ok=True)
    ...     (folder / f).touch()
    >>> [str(pathlib.Path(f).relative_to(folder)) for f in parquet_parts(folder)]
    ['rep=Li/part-0.parquet']
    """
    found = []
    for p in path.rglob("*"):
        inner = p.relative_to(path).parts
        hidden = any(part.startswith((".", "_")) for part in inner)
        if not hidden and p.suffix.lower() in (".parquet", ".pq") and p.is_file():
            found.append(str(p))
    return sorted(found)


def hive_values(path: Path, files: Sequence[str]) -> dict[str, list[object]]:
    """The columns that Hive folder names (``rep=Li/``) between the folder ``path`` and
    each of its ``files`` add, and each file's value: None where its folders name none,
    or name :data:`HIVE_NULL`; ``%2F`` and the like decoded; a column whose every value
    is a whole number holds numbers (as Arrow and DuckDB read them). Only the folders
    below ``path`` count (``/data/stage=raw/events/`` names no column of ``events/``).

    >>> import pathlib
    >>> root = pathlib.Path("/data/stage=raw/events")
    >>> hive_values(root, [str(root / "year=2025/rep=Li/p.parquet"),
    ...                    str(root / f"year=2024/rep={HIVE_NULL}/p.parquet"),
    ...                    str(root / "other/p.parquet")])
    {'year': [2025, 2024, None], 'rep': ['Li', None, None]}
    """
    columns: dict[str, list[object]] = {}
    for i, f in enumerate(files):
        for folder in Path(f).relative_to(path).parts[:-1]:
            key, equals, value = folder.partition("=")
            if not (equals and key):
                continue
            values = columns.setdefault(unquote(key), [None] * len(files))
            values[i] = None if value == HIVE_NULL else unquote(value)
    for key, values in columns.items():
        known = [v for v in values if v is not None]
        if known and all(re.fullmatch(r"-?\d{1,18}", str(v)) for v in known):
            columns[key] = [None if v is None else int(str(v)) for v in values]
    return columns


def hive_dtype(values: Sequence[object]) -> str | type:
    """The type both readers give a column of Hive folder names' ``values``
    (:func:`hive_values`): whole numbers ("Int64") where every known value is one, else
    text (object), a column of no known value included.

    >>> hive_dtype([2025, None]), hive_dtype(["Li", None]), hive_dtype([None])
    ('Int64', <class 'object'>, <class 'object'>)
    """
    known = [v for v in values if v is not None]
    return "Int64" if known and all(isinstance(v, int) for v in known) else object


def parquet_frame(table: pa.Table) -> pd.DataFrame:
    """A Parquet file's table (its pandas index's columns left out) as a DataFrame, a
    named pandas index a column in its place (``df.set_index("lead")`` written)."""
    frame = table.to_pandas()
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()[[c for c in table.column_names]]
    return frame.reset_index(drop=True)
