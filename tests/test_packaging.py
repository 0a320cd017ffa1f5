"""The project's set-up files stay in step with each other."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _conda_names() -> set[str]:
    """Names environment.yml installs: conda-forge packages and its ``pip:`` list."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    pip = [r for d in deps if isinstance(d, dict) for r in d.get("pip", [])]
    return {_name(d) for d in deps if isinstance(d, str)} | {
        _name(r) for r in pip if not r.startswith("-")
    }


def test_environment_yml_lists_every_runtime_dependency():
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    missing = runtime - _conda_names()
    assert not missing, f"environment.yml lacks runtime dependencies {sorted(missing)}"


def test_environment_yml_lists_the_notebook_and_test_extras():
    extras = _pyproject()["project"]["optional-dependencies"]
    groups = ("notebooks", "test", "dev", "engines")
    wanted = {_name(r) for group in groups for r in extras[group]}
    missing = wanted - _conda_names()
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_environment_yml_lists_nothing_pyproject_does_not():
    project = _pyproject()["project"]
    known = {_name(r) for r in project["dependencies"]}
    known |= {_name(r) for group in project["optional-dependencies"].values() for r in group}
    extra = _conda_names() - known - {"python", "pip"}
    assert not extra, f"environment.yml lists {sorted(extra)} which pyproject.toml does not"


def test_minimum_versions_agree():
    def pins(reqs):
        out = {}
        for r in reqs:
            m = re.search(r">=\s*([\w.]+)", r)
            out[_name(r)] = m.group(1) if m else None
        return out

    project = _pyproject()["project"]
    py = pins(project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = [r for d in env["dependencies"] if isinstance(d, dict) for r in d.get("pip", [])]
    conda = pins([d for d in env["dependencies"] if isinstance(d, str)] + pip)
    for name, version in py.items():
        assert conda[name] == version, (
            f"{name}: pyproject >={version}, environment.yml >={conda[name]}"
        )


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "make test" in readme and "make lab" in readme


def test_make_test_runs_the_notebooks_in_english_and_in_chinese():
    """``make test`` (what CI runs): unit tests and doctests with hypothesis's plugin,
    then every English notebook through nbval with ``FUNNELSIM_LANG=en`` and again with
    ``zh``, and every Chinese one (notebooks/zh) with ``zh``, all with their solutions."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    recipe = subprocess.run(
        ["make", "-n", "-o", ".venv/.funnelsim-installed", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"FUNNELSIM_LANG=en \S*MPLBACKEND=Agg .*pytest .*tests funnelsim", recipe)
    # the unit tests over the cores (pytest-xdist), at most 4 workers
    assert "-p hypothesispytest -n auto --maxprocesses 4 tests funnelsim" in recipe
    assert "for lang in en zh" in recipe
    assert "tests/solutions.py build/nbtest" in recipe
    assert re.search(
        r"FUNNELSIM_LANG=\$lang .*-p nbval --nbval-lax --nbval-current-env build/nbtest/\*\.ipynb",
        recipe,
    )
    assert re.search(
        r"FUNNELSIM_LANG=zh .*-p nbval --nbval-lax --nbval-current-env build/nbtest/zh", recipe
    )
    assert "exit 1" in recipe  # a failing part fails the target, after every part has run


def test_a_plain_pytest_loads_nbval_and_hypothesis_only_when_asked():
    """Start-up stays fast: the heavy plugins are off unless ``-p`` turns them on."""
    options = _pyproject()["tool"]["pytest"]["ini_options"]
    addopts = " ".join(options["addopts"])
    assert "-p no:nbval" in addopts and "-p no:hypothesispytest" in addopts
    assert "--nbval" not in addopts  # nbval's options exist only when it is loaded
    assert "notebooks" not in options["testpaths"]  # make test runs them, once per language


def test_licence_is_bsd_3_clause():
    assert _pyproject()["project"]["license"] == "BSD-3-Clause"
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_all_lists_exactly_the_public_names():
    import funnelsim as fs

    for name in fs.__all__:
        assert hasattr(fs, name), name
    public = {n for n in vars(fs) if not n.startswith("_")} - {"annotations"}
    submodules = {"distributions", "forecasting", "funnel", "i18n", "logs", "simulation"}
    submodules |= {"planning", "overall"}  # the homes of plan_calls and Fit.overall
    submodules |= {"cli", "lessons", "plotting", "report", "widgets"}  # loaded lazily on first use
    submodules |= {"fonts"}  # the Chinese plot font, loaded with plotting
    submodules |= {"engine"}  # logs of any size, loaded with logs
    submodules |= {"summaries"}  # the text the command line prints, loaded with cli or report
    submodules |= {"lessons_logs"}  # the old home of the lessons of 04-06, a warning on import
    assert public - set(fs.__all__) <= submodules


def test_names_that_moved_still_resolve_where_they_were_with_a_warning():
    """Notebooks saved before the restructure keep running, and say where a name went."""
    import importlib

    import funnelsim as fs
    from funnelsim._moved import MOVED

    for module, names in MOVED.items():
        old = importlib.import_module(module)
        for name, target in names.items():
            with pytest.warns(DeprecationWarning, match=f"{target}.{name}"):
                got = getattr(old, name)
            assert got is getattr(importlib.import_module(target), name), (module, name)
    with pytest.raises(AttributeError):
        fs.groups.no_such_name  # noqa: B018
    with pytest.warns(DeprecationWarning, match="funnelsim.lessons"):
        lessons_logs = importlib.reload(importlib.import_module("funnelsim.lessons_logs"))
    assert lessons_logs.true_ratios is fs.lessons.true_ratios
    assert set(lessons_logs.__all__) <= set(fs.lessons.__all__)
