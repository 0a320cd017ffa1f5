"""The package's layering holds: read with ``ast`` from the source, no extra tool.

Four rules (issue #10, "The house"):

* **No import cycle** between the package's modules. Edges are the imports a
  module runs: at module level (class bodies included) and also inside
  functions, since an import moved into a function to dodge a cycle hides the
  cycle rather than removing it (estimate and survival did that); the chain
  says which step is "in a function". ``if TYPE_CHECKING:`` imports never run
  and are no edges. Importing ``pkg.a.b`` also runs ``pkg/a/__init__.py``, but
  that implicit edge is not counted: a subpackage's ``__init__`` re-exporting
  its modules is fine. An explicit ``from .a import name`` is an edge to
  ``pkg.a`` (its ``__init__``).
* **Compute never imports the display edge**: no module outside
  ``plotting/``, ``widgets/``, ``report.py``, ``summaries.py``, ``cli.py``,
  ``fonts.py``, ``__main__.py`` and the package's ``__init__.py`` imports
  ``plotting``, ``widgets``, ``report``, ``summaries`` or ``cli`` (any import,
  lazy or not), nor the plot font (``fonts``) or matplotlib, seaborn,
  ipywidgets or IPython (computation never touches matplotlib).
* **No private name crosses a module boundary**: ``from .x import _y``,
  ``from pkg.x import _y`` or ``x._y`` where ``x`` is another of the package's
  modules. Dunder names (``__version__``) are fine, and so is importing an
  underscore *module* (``from . import _reader``); a private name imported
  from one (``from ._reader import _helper``) is not.
* **Imports sit at module top**: an import inside a function is allowed only
  as a justified lazy import of an optional heavy dependency, marked by a
  comment containing ``lazy:`` on the import's line or on a comment line right
  above it (or above the run of imports it starts), e.g.
  ``# lazy: pyarrow is heavy, and only text dates need it``.

Each test fails once with the full list of offenders. The scanner is checked
on a small package written by the tests, with one planted violation of each
kind and a set of look-alikes that must pass, so it cannot silently pass.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "funnelsim"

#: Modules (first name under the package) that make up the display edge.
DISPLAY = frozenset({"plotting", "widgets", "report", "summaries", "cli"})
#: Modules that are neither compute nor display: they may import the display edge.
NOT_COMPUTE = DISPLAY | {"fonts", "__main__"}
#: What else computation never touches: the plot font, and the plotting and widget
#: libraries (STYLE.md: "computation never touches matplotlib").
NOT_FOR_COMPUTE = {"fonts"}
DISPLAY_LIBRARIES = frozenset({"matplotlib", "seaborn", "ipywidgets", "IPython"})
#: The marker a justified lazy import carries in a comment.
LAZY_MARKER = "lazy:"


# ----------------------------------------------------------------- the scanner
@dataclass(frozen=True)
class Import:
    """One imported module (or name of a module) at one place in the source."""

    source: str  # the importing module, dotted
    target: str  # the imported module, dotted, inside the package
    names: tuple[str, ...]  # names taken from it (``from target import names``)
    line: int
    runs: str  # "on import" (module level), "in a function", or "never" (TYPE_CHECKING)


@dataclass
class Scan:
    package: str
    files: dict[str, Path] = field(default_factory=dict)  # module -> file
    imports: list[Import] = field(default_factory=list)
    external: list[Import] = field(default_factory=list)  # imports from outside the package
    private: list[str] = field(default_factory=list)  # "where: what"
    unmarked_lazy: list[str] = field(default_factory=list)  # "where: the import"

    def where(self, module: str, line: int) -> str:
        root = self.files[self.package].parent.parent
        return f"{self.files[module].relative_to(root)}:{line}"


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_with_context(tree: ast.Module):
    """Yield ``(node, in_function, in_type_checking)`` for every node of the module."""
    stack = [(tree, False, False)]
    while stack:
        node, in_function, in_checking = stack.pop()
        yield node, in_function, in_checking
        for child in reversed(list(ast.iter_child_nodes(node))):  # source order
            function = in_function or isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            checking = in_checking or (
                isinstance(node, ast.If) and _is_type_checking(node) and child in node.body
            )
            stack.append((child, function, checking))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class _ModuleScan:
    """The imports and private-name uses of one module."""

    def __init__(self, scan: Scan, module: str, path: Path):
        self.scan, self.module = scan, module
        self.is_package = path.name == "__init__.py"
        self.source = path.read_text(encoding="utf-8")
        self.lines = self.source.splitlines()
        self.bound: dict[str, str] = {}  # local name -> package module it stands for

    def is_module(self, name: str) -> bool:
        return name in self.scan.files

    def base(self, node: ast.ImportFrom) -> str | None:
        """The module a ``from ... import`` reads from, or None outside the package."""
        if node.level == 0:
            name = node.module or ""
            top = self.scan.package
            return name if name == top or name.startswith(top + ".") else None
        parts = self.module.split(".")
        if not self.is_package:
            parts.pop()
        parts = parts[: len(parts) - (node.level - 1)]
        return ".".join(parts + ([node.module] if node.module else []))

    def marked_lazy(self, node: ast.stmt) -> bool:
        """A ``lazy:`` comment on the import's lines, or on a comment line right above the
        run of import lines it belongs to (one comment may cover ``import a`` + ``import b``)."""
        lines = self.lines[node.lineno - 1 : node.end_lineno]
        for line in reversed(self.lines[: node.lineno - 1]):
            text = line.strip()
            if not text.startswith(("#", "import ", "from ")):
                break
            lines.append(text)
        return any(LAZY_MARKER in line.partition("#")[2] for line in lines)

    def run(self) -> None:
        tree = ast.parse(self.source, filename=str(self.scan.files[self.module]))
        for node, in_function, in_checking in _walk_with_context(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if in_function and not self.marked_lazy(node):
                text = self.lines[node.lineno - 1].strip()
                self.scan.unmarked_lazy.append(
                    f"{self.scan.where(self.module, node.lineno)}: {text}"
                )
            runs = "never" if in_checking else "in a function" if in_function else "on import"
            if isinstance(node, ast.Import):
                self.plain_import(node, runs)
            else:
                self.from_import(node, runs)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                self.attribute(node)

    def add(self, target: str, names: tuple[str, ...], line: int, runs: str) -> None:
        self.scan.imports.append(Import(self.module, target, names, line, runs))

    def plain_import(self, node: ast.Import, runs: str) -> None:
        top = self.scan.package
        for alias in node.names:
            if alias.name != top and not alias.name.startswith(top + "."):
                self.scan.external.append(Import(self.module, alias.name, (), node.lineno, runs))
                continue
            if self.is_module(alias.name):
                self.add(alias.name, (), node.lineno, runs)
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                self.bound[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def from_import(self, node: ast.ImportFrom, runs: str) -> None:
        base = self.base(node)
        if base is None:
            names = tuple(alias.name for alias in node.names)
            self.scan.external.append(Import(self.module, node.module, names, node.lineno, runs))
            return
        if not self.is_module(base):
            return
        taken = []
        for alias in node.names:
            local = alias.asname or alias.name
            submodule = f"{base}.{alias.name}"
            if self.is_module(submodule):  # from . import logs: an edge to the module
                self.add(submodule, (), node.lineno, runs)
                self.bound[local] = submodule
                continue
            taken.append(alias.name)
            if _is_private(alias.name) and base != self.module:
                self.scan.private.append(
                    f"{self.scan.where(self.module, node.lineno)}: from {base} import {alias.name}"
                )
        if taken:
            self.add(base, tuple(taken), node.lineno, runs)

    def resolve(self, node: ast.expr) -> str | None:
        """The package module an expression stands for (``fs.logs``), or None."""
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is not None and self.is_module(f"{base}.{node.attr}"):
                return f"{base}.{node.attr}"
        return None

    def attribute(self, node: ast.Attribute) -> None:
        owner = self.resolve(node.value)
        if owner is None or owner == self.module or not _is_private(node.attr):
            return
        if self.is_module(f"{owner}.{node.attr}"):
            return  # an underscore module, such as fs._reader
        self.scan.private.append(
            f"{self.scan.where(self.module, node.lineno)}: {owner}.{node.attr}"
        )


def scan_package(root: Path, package: str) -> Scan:
    """Read every module of the package at ``root`` (the folder holding ``__init__.py``)."""
    scan = Scan(package)
    for path in sorted(root.rglob("*.py")):
        scan.files[_module_name(path, root, package)] = path
    for module, path in scan.files.items():
        _ModuleScan(scan, module, path).run()
    scan.private.sort(key=_by_place)
    scan.unmarked_lazy.sort(key=_by_place)
    return scan


def _by_place(entry: str) -> tuple[str, int]:
    """Sort ``"path:line: ..."`` entries by file, then line number."""
    path, line, _ = entry.split(":", 2)
    return path, int(line)


# ----------------------------------------------------------------- the rules
def _edges(scan: Scan) -> dict[str, dict[str, str]]:
    """Module -> {module it imports: where, first the import that runs on import}."""
    graph: dict[str, dict[str, str]] = {m: {} for m in scan.files}
    order = {"on import": 0, "in a function": 1}
    for imp in sorted(scan.imports, key=lambda imp: (order.get(imp.runs, 2), imp.line)):
        if imp.runs != "never" and imp.target != imp.source:
            where = scan.where(imp.source, imp.line)
            if imp.runs == "in a function":
                where += ", in a function"
            graph[imp.source].setdefault(imp.target, where)
    return graph


def _components(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _shortest_cycle(graph: dict[str, dict[str, str]], start: str) -> list[str] | None:
    """The shortest chain ``start -> ... -> start`` (breadth first), or None."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(parent[chain[-1]])
                return [*reversed(chain), start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    return None


def import_cycles(scan: Scan) -> list[str]:
    """Each cycle as a chain with the importing lines: ``a (a.py:3) -> b (b.py:7) -> a``."""
    graph = _edges(scan)
    seen: set[frozenset[tuple[str, str]]] = set()
    out = []
    for component in _components(graph):
        for start in component:  # the shortest cycle through each module, each once
            chain = _shortest_cycle(graph, start)
            key = frozenset(pairwise(chain))
            if key in seen:
                continue
            seen.add(key)
            steps = [f"{a} ({graph[a][b]})" for a, b in pairwise(chain)]
            out.append(" -> ".join([*steps, chain[-1]]))
    return out


def _first_name(scan: Scan, module: str) -> str:
    rest = module[len(scan.package) :].lstrip(".")
    return rest.split(".")[0] if rest else "__init__"


def compute_importing_display(scan: Scan) -> list[str]:
    """Compute modules importing the display edge (any import, lazy ones included),
    the plot font, or matplotlib, seaborn, ipywidgets or IPython."""
    bad = [
        imp for imp in scan.imports if _first_name(scan, imp.target) in DISPLAY | NOT_FOR_COMPUTE
    ]
    bad += [imp for imp in scan.external if imp.target.split(".")[0] in DISPLAY_LIBRARIES]
    out = [
        f"{scan.where(imp.source, imp.line)}: {imp.source} imports {imp.target}"
        for imp in bad
        if _first_name(scan, imp.source) not in NOT_COMPUTE | {"__init__"}
    ]
    return sorted(out, key=_by_place)


# ----------------------------------------------------------------- the package
SCAN = scan_package(PACKAGE, "funnelsim")


def _fail_with(offenders: list[str], what: str, fix: str) -> None:
    assert not offenders, f"{len(offenders)} {what} ({fix}):\n" + "\n".join(
        f"  {o}" for o in offenders
    )


def test_the_scan_reads_the_package():
    """Guards the tests below: the scan sees the modules and their imports."""
    assert {"funnelsim", "funnelsim.logs", "funnelsim.plotting.theme"} <= set(SCAN.files)
    edges = _edges(SCAN)
    assert "funnelsim.i18n" in edges["funnelsim.funnel"]
    assert "funnelsim.plotting.theme" in edges["funnelsim.plotting"]
    assert sum(map(len, edges.values())) > 100


def test_no_import_cycle():
    _fail_with(
        import_cycles(SCAN),
        "import cycle(s) between the package's modules",
        "move what both sides need into a module below them, or pass it in",
    )


def test_compute_modules_do_not_import_the_display_edge():
    _fail_with(
        compute_importing_display(SCAN),
        "compute module(s) import plotting, widgets, report, summaries or cli",
        "computation returns results; the display edge imports the computation, never back",
    )


#: The lessons sit between the computation and the display edge.
LESSONS = frozenset({"lessons", "lessons_logs"})


def compute_importing_lessons(scan: Scan) -> list[str]:
    """Modules below the lessons (the computation) importing them: the lessons build on the
    computation, and the plots, apps, report and command line build on the lessons."""
    out = [
        f"{scan.where(imp.source, imp.line)}: {imp.source} imports {imp.target}"
        for imp in scan.imports
        if _first_name(scan, imp.target) in LESSONS
        and _first_name(scan, imp.source) not in NOT_COMPUTE | LESSONS | {"__init__"}
    ]
    return sorted(out, key=_by_place)


def test_the_computation_does_not_import_the_lessons():
    _fail_with(
        compute_importing_lessons(SCAN),
        "computation module(s) import the lessons",
        "the lessons call the computation, never the other way round",
    )


def test_no_private_name_crosses_a_module_boundary():
    _fail_with(
        SCAN.private,
        "private name(s) used outside their module",
        "make the name public (an underscore module may hold it), or keep it in one module",
    )


def test_imports_inside_functions_are_justified_lazy_imports():
    _fail_with(
        SCAN.unmarked_lazy,
        "import(s) inside a function without a lazy: comment",
        "move the import to the top of the module; an optional heavy dependency may stay, "
        f"with a comment containing {LAZY_MARKER!r} on its line or right above saying why",
    )


# ----------------------------------------------------------------- self-check
PLANTED = {
    "__init__.py": """
        from . import a, b, plotting
        from .a import public
        from ._version import __version__
        """,
    "_version.py": "__version__ = '1'\n",
    "_shared.py": "_secret = 1\nshared = 2\n",
    "a.py": """
        from typing import TYPE_CHECKING

        from . import _shared
        from ._shared import shared

        if TYPE_CHECKING:
            from .c import Later  # not run: no edge, no cycle

        public = shared + _shared.shared


        def helper(obj):
            import json  # lazy: a marked import (the marker on its line)

            return obj._private, json


        def other():
            # lazy: a comment above a run of imports covers the run
            import csv
            from os import path

            return csv, path
        """,
    "b.py": """
        from . import c
        from .a import public

        value = c.value + public
        """,
    "c.py": """
        from .b import value as b_value  # PLANTED cycle b -> c -> b

        value = 1
        """,
    "f.py": """
        from . import g

        value = g.value
        """,
    "g.py": """
        value = 1


        def back():
            from .f import value  # lazy: PLANTED cycle g -> f -> g, hidden in a function

            return value
        """,
    "d.py": """
        from ._shared import _secret  # PLANTED private name from an underscore module
        from . import a
        import pkg.b as bee


        def uses():
            value = 1
            import os  # PLANTED unmarked import in a function

            return a._hidden + bee._gone + os.sep  # PLANTED private attributes (two)
        """,
    "e.py": """
        from .plotting import draw  # PLANTED compute imports the display edge
        from .plotting.theme import _colour  # PLANTED private name (and display edge)
        import numpy as np
        from matplotlib import pyplot  # PLANTED compute imports a plotting library


        def chart():
            from . import fonts  # lazy: PLANTED compute imports the plot font

            return np, pyplot, fonts
        """,
    "fonts.py": """
        import matplotlib  # fine: the font is part of the display edge
        """,
    "plotting/__init__.py": """
        from . import theme
        from .theme import draw
        """,
    "lessons/__init__.py": """
        from ..a import public as lesson
        """,
    "h.py": """
        from .lessons import lesson  # PLANTED the computation imports the lessons
        """,
    "plotting/game.py": """
        from ..lessons import lesson  # fine: the plots draw the lessons' results
        """,
    "plotting/theme.py": """
        from .. import a
        from ..a import public


        def draw():
            return a.public, public, _colour


        _colour = "blue"
        """,
}


def _write(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return package


def test_the_scanner_finds_each_planted_violation(tmp_path):
    scan = scan_package(_write(tmp_path, PLANTED), "pkg")
    assert import_cycles(scan) == [
        "pkg.b (pkg/b.py:1) -> pkg.c (pkg/c.py:1) -> pkg.b",
        "pkg.f (pkg/f.py:1) -> pkg.g (pkg/g.py:5, in a function) -> pkg.f",
    ]
    assert compute_importing_display(scan) == [
        "pkg/e.py:1: pkg.e imports pkg.plotting",
        "pkg/e.py:2: pkg.e imports pkg.plotting.theme",
        "pkg/e.py:4: pkg.e imports matplotlib",
        "pkg/e.py:8: pkg.e imports pkg.fonts",
    ]
    assert scan.private == [
        "pkg/d.py:1: from pkg._shared import _secret",
        "pkg/d.py:10: pkg.a._hidden",
        "pkg/d.py:10: pkg.b._gone",
        "pkg/e.py:2: from pkg.plotting.theme import _colour",
    ]
    assert scan.unmarked_lazy == ["pkg/d.py:8: import os  # PLANTED unmarked import in a function"]
    assert compute_importing_lessons(scan) == ["pkg/h.py:1: pkg.h imports pkg.lessons"]


def test_the_scanner_reports_a_longer_cycle_as_a_chain(tmp_path):
    files = {
        "__init__.py": "",
        "x.py": "from .y import f\n",
        "y.py": "from . import z\nf = 1\n",
        "z.py": "import pkg.x\n",
    }
    scan = scan_package(_write(tmp_path, files), "pkg")
    assert import_cycles(scan) == [
        "pkg.x (pkg/x.py:1) -> pkg.y (pkg/y.py:1) -> pkg.z (pkg/z.py:1) -> pkg.x"
    ]


def test_the_scanner_passes_the_look_alikes(tmp_path):
    """Without the planted lines, the same package is clean: the look-alikes pass."""
    clean = {
        name: "\n".join(
            line for line in textwrap.dedent(text).splitlines() if "PLANTED" not in line
        )
        for name, text in PLANTED.items()
    }
    scan = scan_package(_write(tmp_path, clean), "pkg")
    assert (import_cycles(scan), compute_importing_display(scan)) == ([], [])
    assert (scan.private, scan.unmarked_lazy) == ([], [])
    assert "pkg.c" not in _edges(scan)["pkg.a"]  # the TYPE_CHECKING import
