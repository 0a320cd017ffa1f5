"""Every public function, class and method has a runnable example in its docstring.

The README promises "every public function has a docstring with a runnable
example (``help(fs.simulate)``)" and STYLE.md §6 asks for "numpydoc docstrings
with a seeded Examples section that runs as a doctest". This test holds the
package to it: it walks the public API and lists every docstring without a
``>>>`` line, all at once. The doctest run (``pytest funnelsim``, with
``--doctest-modules``) then checks that the examples run and print what they say.

The public API is every name in ``__all__`` of ``funnelsim`` and of each of its
public modules and subpackages, found with ``pkgutil.walk_packages``: modules
whose name (or a parent's) starts with ``_`` are internal, and
``funnelsim.lessons_logs`` is a deprecated shim that warns on import. For each
name:

* a function (decorated or not, or any other callable) needs an example;
* a class needs one, and so does each public method, classmethod and
  staticmethod defined on it or on a base class from the package; methods
  inherited from outside the package (pandas, ``tuple``, ``Exception``,
  ``object``), dunders, private names and properties (``cached_property``
  and NamedTuple fields too) are exempt;
* constants, modules and names re-exported from other packages are exempt.

The docstring checked is the object's own ``__doc__``, the one doctest runs: a
method that overrides a documented one needs its own example.

A self-check runs the scanner on a small planted module, with one offender of
each kind and look-alikes that must pass, so the test cannot silently pass.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from collections.abc import Iterable, Iterator

import funnelsim

#: Modules walked but not part of the public API (deprecated shims that warn on import).
SKIPPED_MODULES = frozenset({"funnelsim.lessons_logs"})


def public_modules(package: types.ModuleType = funnelsim) -> list[types.ModuleType]:
    """The package and its public modules and subpackages, imported."""
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or info.name in SKIPPED_MODULES:
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _has_example(obj: object) -> bool:
    return ">>>" in (getattr(obj, "__doc__", None) or "")


def _ours(obj: object, package: str) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == package or module.startswith(package + ".")


def _methods(cls: type, package: str) -> Iterator[tuple[str, object]]:
    """(qualified name, function) for the public methods of ``cls`` from ``package``.

    Plain methods, classmethods and staticmethods defined on ``cls`` or on a base
    class from the package; properties, dunders, private names and whatever comes
    from outside the package are left out.
    """
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _ours(klass, package):
            continue
        for name, attr in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)  # the first class in the MRO defines it; bases are overridden
            if isinstance(attr, classmethod | staticmethod):
                attr = attr.__func__
            # a decorated method (functools.cache, wraps) is checked; a property,
            # cached_property or NamedTuple field is not callable and is exempt
            if callable(attr) and inspect.isfunction(inspect.unwrap(attr)):
                yield f"{klass.__module__}.{klass.__qualname__}.{name}", attr


def missing_examples(modules: Iterable[types.ModuleType], package: str = "funnelsim") -> list[str]:
    """The public functions, classes and methods of ``modules`` without a ``>>>`` example.

    Each offender appears once, under the module and name where it is defined, with
    the first public place that lists it in ``__all__``.
    """
    offenders: dict[str, str] = {}
    for module in modules:
        names = getattr(module, "__all__", None)
        assert names is not None, f"{module.__name__} has no __all__ (STYLE.md convention 2)"
        for name in names:
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or not _ours(obj, package):
                continue  # modules and names from elsewhere
            listed = f"{module.__name__}.{name}"
            if inspect.isclass(obj):
                where = f"{obj.__module__}.{obj.__qualname__}"
                if not _has_example(obj):
                    offenders.setdefault(where, listed)
                for qualname, method in _methods(obj, package):
                    if not _has_example(method):
                        offenders.setdefault(qualname, f"{listed}.{qualname.rsplit('.', 1)[1]}")
            elif callable(obj):  # a function, decorated or not, or another callable
                qualname = getattr(obj, "__qualname__", name)
                where = f"{obj.__module__}.{qualname}"
                if not _has_example(obj):
                    offenders.setdefault(where, listed)
            # anything else (numbers, strings, tuples, dicts) is a constant: exempt
    return [
        where if where == listed else f"{where} (listed as {listed})"
        for where, listed in sorted(offenders.items())
    ]


def test_every_public_docstring_has_an_example():
    offenders = missing_examples(public_modules())
    assert not offenders, (
        f"{len(offenders)} public docstrings have no '>>>' example "
        "(STYLE.md §6, add a seeded numpydoc Examples section):\n  " + "\n  ".join(offenders)
    )


def test_the_walk_covers_the_public_modules():
    names = {module.__name__ for module in public_modules()}
    expected = {
        "funnelsim",
        "funnelsim.cli",
        "funnelsim.control",
        "funnelsim.cycle",
        "funnelsim.datasets",
        "funnelsim.diagnose",
        "funnelsim.distributions",
        "funnelsim.estimate",
        "funnelsim.forecasting",
        "funnelsim.funnel",
        "funnelsim.groups",
        "funnelsim.i18n",
        "funnelsim.intervals",
        "funnelsim.ladder",
        "funnelsim.lessons",
        "funnelsim.logs",
        "funnelsim.pipeline",
        "funnelsim.planning",
        "funnelsim.plotting",
        "funnelsim.presets",
        "funnelsim.report",
        "funnelsim.simulation",
        "funnelsim.summaries",
        "funnelsim.survival",
        "funnelsim.theory",
        "funnelsim.widgets",
    }
    assert expected <= names, sorted(expected - names)
    assert "funnelsim.lessons_logs" not in names
    assert not [name for name in names if any(p.startswith("_") for p in name.split("."))]


# ------------------------------------------------------------------ self-check
def _planted_module() -> types.ModuleType:
    """A small module with one offender of each kind and look-alikes that pass."""
    module = types.ModuleType("planted", "A planted module (no example: modules are exempt).")
    source = '''
import functools
from math import sqrt

import pandas as pd

LIMIT = 3
NAMES = ("a", "b")


def documented():
    """Has one.

    >>> documented()
    """


def undocumented():
    """Says what it does, but shows no example."""


def no_docstring():
    pass


class Base:
    """A base class.

    >>> Base()
    <...>
    """

    def inherited_without_example(self):
        """From the package's base class: still checked, on the base."""


class Good(Base):
    """A class with an example.

    >>> Good().method()
    """

    def method(self):
        """A method.

        >>> Good().method()
        """

    @property
    def prop(self):
        """A property: exempt."""

    @functools.cached_property
    def cached(self):
        """A cached property: exempt."""

    @functools.cache
    def cached_method(self):
        """A decorated method without an example: checked."""

    def _private(self):
        """Private: exempt."""

    def __len__(self):
        """A dunder: exempt."""
        return 0


class Bad(pd.DataFrame):
    """A subclass of pandas with no example; pandas' own methods are exempt."""

    @classmethod
    def from_nothing(cls):
        """A classmethod without an example."""

    @staticmethod
    def helper():
        """A staticmethod without an example."""

    def fine(self):
        """Fine.

        >>> 1
        1
        """
'''
    exec(compile(source, "planted.py", "exec"), module.__dict__)
    module.__all__ = [
        *("LIMIT", "NAMES", "pd", "sqrt"),  # constants, a module, another package's function
        *("Bad", "Good", "documented", "no_docstring", "undocumented"),
    ]
    return module


def test_self_check_flags_planted_offenders_and_only_them():
    planted = _planted_module()
    offenders = missing_examples([planted], package="planted")
    assert offenders == [
        "planted.Bad",
        "planted.Bad.from_nothing",
        "planted.Bad.helper",
        "planted.Base.inherited_without_example"
        " (listed as planted.Good.inherited_without_example)",
        "planted.Good.cached_method",
        "planted.no_docstring",
        "planted.undocumented",
    ]


def test_self_check_flags_a_planted_function_in_the_real_api():
    def planted():
        """A public function with no example."""

    planted.__module__ = "funnelsim.theory"
    planted.__qualname__ = "planted"
    module = types.ModuleType("funnelsim.theory")
    module.__all__ = ["planted"]
    module.planted = planted
    assert missing_examples([module]) == ["funnelsim.theory.planted"]
    # the same function with an example passes
    planted.__doc__ += "\n\n>>> planted()\n"
    assert missing_examples([module]) == []
