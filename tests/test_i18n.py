"""Every string the kit shows comes from the catalogue, and the catalogue is sound.

The source of ``funnelsim/`` is scanned with ``ast`` for calls ``t(key, ...)``
(and the kit's errors, ``FunnelsimValueError(key, ...)``, which look their key up):
literal keys must exist, and the keyword arguments at the call must fill every
placeholder of the message. f-string keys (``t(f"stage.{k}")``) are expanded
when the name runs over a literal tuple in an enclosing ``for`` or
comprehension; otherwise every catalogue key matching the pattern must accept
the call's keywords, and at least one key must match.

The readers' problem lists (``funnelsim/_reader.py``) pass keys as positional
arguments, translated only when the message is written; the scan reads them
too: ``problems.add(where, column, reason, values, fix, **fix_values)``,
``problems.dropped(extra, column, reason, values)`` and
``MissingColumn(columns, reason, reason_values)``, where ``values`` is None, a
``lambda p: {...}`` or ``quoted(text)`` (which fills ``{value}``).
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import string
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

import funnelsim as fs
from funnelsim import i18n

PACKAGE = Path(fs.__file__).resolve().parent
LOCALES = PACKAGE / "locales"


def _catalogue(lang: str) -> dict[str, str]:
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        assert not dupes, f"{lang}.json repeats keys {dupes}"
        return dict(pairs)

    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"),
                      object_pairs_hook=no_duplicates)  # fmt: skip


EN = _catalogue("en")


def _fields(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}


# ------------------------------------------------------------- source scan
@dataclass(frozen=True)
class Call:
    where: str
    keys: tuple[str, ...]  # literal key, or the expansions of an f-string key
    pattern: str | None  # regex of an f-string key that could not be expanded
    kwargs: frozenset[str] | None  # keyword names; None when **kwargs hides them
    problem: bool = False  # a key of the readers' problem lists (PROBLEM_CALLS)


def _literal_strings(node: ast.AST) -> list[str] | None:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [e.value for e in node.elts]
    return None


def _bindings(tree: ast.AST) -> dict[int, dict[str, list[str]]]:
    """For every node, the names bound to literal string sequences by enclosing loops."""
    out: dict[int, dict[str, list[str]]] = {}

    def visit(node: ast.AST, env: dict[str, list[str]]) -> None:
        out[id(node)] = env
        new_env = env
        gens = []
        if isinstance(node, (ast.For, ast.AsyncFor)):
            gens = [(node.target, node.iter)]
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            gens = [(g.target, g.iter) for g in node.generators]
        for target, it in gens:
            values = _literal_strings(it)
            if isinstance(target, ast.Name) and values is not None:
                new_env = {**new_env, target.id: values}
        for child in ast.iter_child_nodes(node):
            visit(child, new_env)

    visit(tree, {})
    return out


#: Calls whose first argument is a catalogue key: the lookup and the kit's errors.
LOOKUPS = ("t", "FunnelsimError", "FunnelsimValueError", "FunnelsimTypeError", "LogError")


#: Calls that take keys as positional arguments: (reason, its values, fix) positions.
PROBLEM_CALLS = {"add": (2, 3, 4), "dropped": (2, 3, None), "MissingColumn": (1, 2, None)}


def _values_kwargs(node: ast.AST) -> frozenset[str] | None:
    """The placeholders a problem's ``values`` fill: None when the scan cannot tell."""
    if isinstance(node, ast.Constant) and node.value is None:
        return frozenset()
    if isinstance(node, ast.Lambda):
        node = node.body
    if isinstance(node, ast.Dict) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys
    ):
        return frozenset(k.value for k in node.keys)
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "quoted":
        return frozenset({"value"})
    return None


#: Calls that read coded cells (``_problems.coded_cells``): positions of the empty cell's
#: reason (no values), the unknown word's reason (its ``{value}``) and their fix.
CODED_CALLS = {"coded_cells": (4, 5, 6)}


def _coded_calls(node: ast.Call, where: str) -> list[Call]:
    """The keys of a ``coded_cells`` call: two reasons and the fix with its keywords."""
    kw = None if any(k.arg is None for k in node.keywords) else frozenset(
        k.arg for k in node.keywords
    )  # fmt: skip
    values = (frozenset(), frozenset({"value"}), kw)  # empty cell, unknown word, fix
    out = []
    for at, given in zip(CODED_CALLS["coded_cells"], values, strict=True):
        arg = node.args[at]
        key = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
        out.append(Call(where, (key,) if key else (), None, given, True))
    return out


def _problem_calls(node: ast.Call, name: str, where: str) -> list[Call] | None:
    """The keys of a problem-list call, or None when ``node`` is not one."""
    if name in CODED_CALLS and len(node.args) > CODED_CALLS[name][2]:
        return _coded_calls(node, where)
    if name not in PROBLEM_CALLS:
        return None
    at_reason, at_values, at_fix = PROBLEM_CALLS[name]
    args = node.args
    if not (
        len(args) > at_values
        and isinstance(args[at_reason], ast.Constant)
        and isinstance(args[at_reason].value, str)
        and "." in args[at_reason].value
    ):
        return None  # a set's add(), or not a key
    out = [Call(where, (args[at_reason].value,), None, _values_kwargs(args[at_values]), True)]
    if at_fix is not None:
        fix = args[at_fix] if len(args) > at_fix else None
        kw = None if any(k.arg is None for k in node.keywords) else frozenset(
            k.arg for k in node.keywords
        )  # fmt: skip
        key = fix.value if isinstance(fix, ast.Constant) else None
        out.append(Call(where, (key,) if isinstance(key, str) else (), None, kw, True))
    return out


def _scan_source(text: str, name: str) -> list[Call]:
    """The catalogue calls in one module's source; ``name`` prefixes each ``where``."""
    calls = []
    tree = ast.parse(text, filename=name)
    env_of = _bindings(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        call_name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        where = f"{name}:{node.lineno}"
        problem = _problem_calls(node, call_name, where)
        if problem is not None:
            calls.extend(problem)
            continue
        if call_name not in LOOKUPS:
            continue
        kw = None if any(k.arg is None for k in node.keywords) else frozenset(
            k.arg for k in node.keywords if call_name == "t" or k.arg != "message"
        )  # fmt: skip
        key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            calls.append(Call(where, (key.value,), None, kw))
        elif isinstance(key, ast.JoinedStr):
            calls.append(_fstring_call(where, key, env_of[id(node)], kw))
    return sorted(calls, key=lambda c: int(c.where.rsplit(":", 1)[1]))


def _scan() -> list[Call]:
    return [
        call
        for path in sorted(PACKAGE.rglob("*.py"))
        for call in _scan_source(
            path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent))
        )
    ]


def _fstring_call(where, key: ast.JoinedStr, env, kw) -> Call:
    parts: list[list[str] | str] = []
    expandable = True
    for v in key.values:
        if isinstance(v, ast.Constant):
            parts.append(v.value)
        elif isinstance(v.value, ast.Name) and v.value.id in env and v.format_spec is None:
            parts.append(env[v.value.id])
        else:
            expandable = False
            parts.append(None)  # type: ignore[arg-type]
    if expandable:
        keys = [""]
        for part in parts:
            keys = [k + p for k in keys for p in ([part] if isinstance(part, str) else part)]
        return Call(where, tuple(keys), None, kw)
    pattern = "".join(re.escape(p) if isinstance(p, str) else r"[A-Za-z0-9_]+" for p in parts)
    return Call(where, (), pattern, kw)


CALLS = _scan()


# Each check below collects every offender and fails once with the full list; a
# self-check plants bad entries in a small source and catalogue of its own and
# asserts the same check finds each of them, so a check cannot silently pass.
def _literal_key_offenders(calls: list[Call], catalogue: dict[str, str]) -> list[str]:
    """Every literal key exists, and the call passes every placeholder of its message."""
    out = []
    for call in calls:
        for key in call.keys:
            if key not in catalogue:
                out.append(f"{call.where}: {key!r} is not in en.json")
            elif call.kwargs is not None and (missing := _fields(catalogue[key]) - call.kwargs):
                out.append(f"{call.where}: {key!r} does not pass {sorted(missing)}")
    return out


def _pattern_offenders(calls: list[Call], catalogue: dict[str, str]) -> list[str]:
    """An f-string key matches at least one key, and each match accepts the call."""
    out = []
    for call in calls:
        if call.pattern is None:
            continue
        matches = [k for k in catalogue if re.fullmatch(call.pattern, k)]
        if not matches:
            out.append(f"{call.where}: no key in en.json matches {call.pattern}")
        for key in matches if call.kwargs is not None else ():
            if missing := _fields(catalogue[key]) - call.kwargs:
                out.append(f"{call.where}: {key!r} needs {sorted(missing)}")
    return out


def _report(offenders: list[str], what: str) -> str:
    return f"{len(offenders)} {what}:\n" + "\n".join(f"  {o}" for o in offenders)


def test_the_scan_finds_the_calls_it_should():
    """Guards the scanner itself: known calls in the core modules are found."""
    found = {k for c in CALLS for k in c.keys}
    assert {"error.ratio_range", "error.unknown_preset", "error.calls_value"} <= found
    readers = {"log.reason.gap", "log.fix.gap", "log.reason.with_lead", "log.error.missing_stage"}
    assert readers | {"pipeline.reason.duplicate", "pipeline.fix.grade"} <= found
    coded = {"pipeline.reason.unknown_grade", "calls.reason.no_outcome", "qualify.fix.intent"}
    assert coded <= found  # the keys of coded_cells calls
    assert any(c.pattern for c in CALLS)  # an f-string key (expansion: the planted test)
    assert len(CALLS) > 30


PLANTED_SOURCE = """
def planted(kind, where, column, problems, **kw):
    t("good.key", n=1)
    t("missing.key")
    t("needs.value")
    t("needs.value", **kw)
    raise FunnelsimValueError("needs.value", value=1, message="the message is no placeholder")
    for k in ("a", "b"):
        t(f"pair.{k}")
    t(f"shape.{kind}")
    t(f"nothing.{kind}", n=1)
    problems.add(where, column, "log.reason.x", lambda p: {"value": p}, "log.fix.x", n=1)
    problems.add(where, column, "log.reason.x", None, "log.fix.x")
    {"a set"}.add("not.a.key")
    coded_cells(problems, frame, column, f, "log.reason.x", "log.reason.y", "log.fix.x", n=1)
"""
PLANTED_CATALOGUE = {
    "good.key": "{n} calls",
    "needs.value": "got {value}",
    "pair.a": "A",
    "shape.narrow": "narrow",
    "shape.wide": "wide by {n}",
    "log.reason.x": "bad {value}",
    "log.fix.x": "fix it {n} times",
}


def test_the_key_checks_find_every_planted_offender():
    calls = _scan_source(PLANTED_SOURCE, "planted.py")
    assert _literal_key_offenders(calls, PLANTED_CATALOGUE) == [
        "planted.py:4: 'missing.key' is not in en.json",
        "planted.py:5: 'needs.value' does not pass ['value']",
        "planted.py:9: 'pair.b' is not in en.json",
        "planted.py:13: 'log.reason.x' does not pass ['value']",
        "planted.py:13: 'log.fix.x' does not pass ['n']",
        "planted.py:15: 'log.reason.x' does not pass ['value']",
        "planted.py:15: 'log.reason.y' is not in en.json",
    ]
    assert _pattern_offenders(calls, PLANTED_CATALOGUE) == [
        "planted.py:10: 'shape.wide' needs ['n']",
        r"planted.py:11: no key in en.json matches nothing\.[A-Za-z0-9_]+",
    ]
    wrong = {"planted.py:4", "planted.py:5", "planted.py:13", "planted.py:15"}
    clean = [c for c in calls if c.where not in wrong]
    fixed = {**PLANTED_CATALOGUE, "pair.b": "B", "shape.wide": "wide", "nothing.x": "{n}"}
    assert _literal_key_offenders(clean, fixed) == _pattern_offenders(clean, fixed) == []


def test_the_readers_problems_name_literal_keys_and_values_the_scan_can_read():
    """A problem's reason and fix are literal keys, and its values a form the scan
    reads (None, ``lambda p: {...}``, ``quoted(...)``): so the tests above check them."""
    problems = [c for c in CALLS if c.problem]
    assert len(problems) > 40
    assert not [c.where for c in problems if not c.keys], "a key that is not a literal"
    assert not [c.where for c in problems if c.kwargs is None], "values the scan cannot read"


def test_every_literal_key_exists_and_its_placeholders_are_given():
    offenders = _literal_key_offenders(CALLS, EN)
    assert not offenders, _report(offenders, "call(s) with a missing key or placeholder")


def test_every_fstring_key_matches_catalogue_keys():
    offenders = _pattern_offenders(CALLS, EN)
    assert not offenders, _report(offenders, "f-string key(s) that match no key or miss one")


# -------------------------------------------------------------- catalogue
def _dummy(spec: str) -> object:
    for value in (1.5, 1, "x"):
        try:
            format(value, spec)
        except (TypeError, ValueError):
            continue
        return value
    raise ValueError(f"no value satisfies the format spec {spec!r}")


def _format_offenders(catalogue: dict[str, str], render) -> list[str]:
    """Every message is text, its placeholders are plain names, and it formats.

    ``render(key, **kwargs)`` formats a message as the kit does (``fs.t``)."""
    out = []
    for key, message in sorted(catalogue.items()):
        if not (isinstance(message, str) and message.strip()):
            out.append(f"{key}: {message!r} is not a message")
            continue
        try:
            kwargs = {}
            for _, name, spec, _ in string.Formatter().parse(message):
                if name is None:
                    continue
                if not name.isidentifier():
                    raise ValueError(f"placeholder {{{name}}} must be a plain name")
                kwargs[name] = _dummy(spec or "")
            text = render(key, **kwargs) if kwargs else ""
        except (ValueError, KeyError, IndexError, TypeError) as err:
            out.append(f"{key}: {err}")
            continue
        if "{" in text.replace("{{", ""):
            out.append(f"{key}: a brace is left after formatting: {text!r}")
    return out


def test_every_message_formats_with_its_named_placeholders():
    offenders = _format_offenders(EN, fs.t)
    assert not offenders, _report(offenders, "message(s) of en.json that do not format")


def test_the_format_check_finds_every_planted_offender():
    planted = {
        "fine": "{n:,} calls, {share:.0%} of {who}",
        "blank": "  ",
        "number": 3,
        "positional": "{0} calls",
        "attribute": "{rep.name} called",
        "no_value": "{when:%Y}",
        "unclosed": "{n calls",
        "brace": "{n} {{literal",
    }
    offenders = _format_offenders(planted, lambda key, **kw: planted[key].format(**kw))
    assert [o.split(":")[0] for o in offenders] == sorted(set(planted) - {"fine"})


TRANSLATIONS = [lang for lang in i18n.available_languages() if lang != "en"]
#: Messages that are the same in every language (names, not words).
SAME_IN_EVERY_LANGUAGE = {"app.language", "language.en"}


def _specs(message: str) -> set[tuple[str, str, str | None]]:
    """Placeholders with their format spec and conversion: ``{n:,}`` -> ("n", ",", None)."""
    return {(n, s, c) for _, n, s, c in string.Formatter().parse(message) if n is not None}


def _key_offenders(english: dict[str, str], other: dict[str, str], lang: str) -> list[str]:
    missing = [f"  {k}: {english[k]!r}" for k in english if k not in other]
    extra = sorted(set(other) - set(english))
    out = []
    if missing:
        out.append(
            f"{len(missing)} key(s) of en.json are not translated in {lang}.json "
            "(add them, same placeholders):\n" + "\n".join(missing)
        )
    if extra:
        out.append(f"{lang}.json has keys en.json lacks (remove or rename them): {extra}")
    return out


def _placeholder_offenders(english: dict[str, str], other: dict[str, str]) -> list[str]:
    return [
        f"{key}: en {sorted(_specs(english[key]))} != {sorted(_specs(message))}"
        for key, message in other.items()
        if key in english and _specs(message) != _specs(english[key])
    ]


def _untranslated_offenders(english, other, lang, render) -> list[str]:
    """Every message formats to text, and (names and codes aside) it is not English."""
    out = []
    for key, message in other.items():
        kwargs = {name: _dummy(spec or "") for name, spec, _ in _specs(message)}
        if not render(key, **kwargs).strip():
            out.append(f"{key}: formats to blank")
        words = re.sub(r"\{[^{}]*\}", "", message)  # placeholders are not words
        if (
            lang == "zh"
            and message == english.get(key)
            and re.search(r"[A-Za-z]{4,}", words)
            and key not in SAME_IN_EVERY_LANGUAGE
        ):
            out.append(f"{key}: still English: {message!r}")
    return out


def _render_in(lang: str):
    def render(key: str, /, **kwargs: object) -> str:
        with i18n.language(lang):
            return fs.t(key, **kwargs) if kwargs else fs.t(key)

    return render


def test_simplified_chinese_is_available():
    assert "zh" in TRANSLATIONS


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_translations_have_exactly_the_english_keys(lang):
    offenders = _key_offenders(EN, _catalogue(lang), lang)
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_translations_use_exactly_the_english_placeholders(lang):
    offenders = _placeholder_offenders(EN, _catalogue(lang))
    assert not offenders, _report(offenders, f"message(s) of {lang}.json change placeholders")


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_translations_are_translated_and_format(lang):
    offenders = _untranslated_offenders(EN, _catalogue(lang), lang, _render_in(lang))
    assert not offenders, _report(offenders, f"message(s) of {lang}.json")


def test_the_translation_checks_find_every_planted_offender():
    english = {"calls": "{n} calls", "sales": "sales", "amount": "{x:,} yuan"}
    chinese = {"calls": "{n} calls", "amount": "{x} 元", "extra": "多余"}
    english["app.language"] = chinese["app.language"] = "Language"  # allowed: a name
    english["blank"], chinese["blank"] = "blank", "空"

    def render(key: str, /, **kwargs: object) -> str:
        return "" if key == "blank" else chinese[key].format(**kwargs)

    keys = _key_offenders(english, chinese, "zh")
    assert len(keys) == 2 and "sales: 'sales'" in keys[0] and "['extra']" in keys[1]
    assert _placeholder_offenders(english, chinese) == [
        "amount: en [('x', ',', None)] != [('x', '', None)]"
    ]
    assert _untranslated_offenders(english, chinese, "zh", render) == [
        "calls: still English: '{n} calls'",
        "blank: formats to blank",
    ]
    fixed = {**chinese, "calls": "{n} 通电话", "sales": "成交", "amount": "{x:,} 元"}
    del fixed["extra"]
    assert _key_offenders(english, fixed, "zh") == _placeholder_offenders(english, fixed) == []
    assert _untranslated_offenders(english, fixed, "zh", lambda key, **kw: "文") == []


def test_unknown_key_is_a_keyerror():
    with pytest.raises(KeyError):
        fs.t("no.such.key")


# --------------------------------------------------------------- languages
def test_english_is_the_default_and_available():
    assert fs.get_language() == "en"
    assert "en" in i18n.available_languages()


def test_set_language_to_an_unknown_language_raises_and_changes_nothing():
    with pytest.raises(fs.FunnelsimValueError) as err:
        fs.set_language("xx")
    assert err.value.key == "error.unknown_language"
    assert err.value.values["lang"] == "xx"
    assert "en" in err.value.values["choices"].split(", ")
    assert isinstance(err.value, ValueError)
    assert fs.get_language() == "en"
    with pytest.raises(fs.FunnelsimValueError) as err, fs.language("xx"):
        pass  # pragma: no cover
    assert (err.value.key, err.value.values["lang"]) == ("error.unknown_language", "xx")
    assert fs.get_language() == "en"


@pytest.fixture
def fake_language(monkeypatch):
    """A second catalogue, ``xx``, with one translated key (the rest falls back)."""
    real = i18n._catalogue
    monkeypatch.setattr(i18n, "available_languages", lambda: ["en", "xx"])
    monkeypatch.setattr(
        i18n, "_catalogue", lambda lang: {"stage.sales": "ventes"} if lang == "xx" else real(lang)
    )
    return "xx"


def test_language_context_manager_switches_and_restores(fake_language):
    assert fs.t("stage.sales") == "sales"
    with fs.language(fake_language):
        assert fs.get_language() == "xx"
        assert fs.t("stage.sales") == "ventes"
        assert fs.t("stage.dials") == "dials"  # missing key: English
        with fs.language("en"):
            assert fs.t("stage.sales") == "sales"
        assert fs.get_language() == "xx"
    assert fs.get_language() == "en"
    assert fs.t("stage.sales") == "sales"


def test_language_is_restored_after_an_exception(fake_language):
    fs.set_language(fake_language)
    with pytest.raises(RuntimeError), fs.language("en"):
        assert fs.get_language() == "en"
        raise RuntimeError
    assert fs.get_language() == "xx"


def test_preset_stages_are_identifiers_and_their_labels_follow_the_language(fake_language):
    """Stage names are data (``stage="meetings"`` works in every language); what a
    person reads is ``stage_label``, in the current language."""
    with fs.language(fake_language):
        assert fs.presets.get("daily ratio game").funnel.stages[-1] == "sales"
        assert i18n.stage_label("sales") == "ventes"
        assert i18n.stage_label("dials") == "dials"  # missing key: English
    assert fs.presets.get("daily ratio game").funnel.stages[-1] == "sales"
    assert i18n.stage_label("sales") == "sales"


def test_every_preset_stage_shows_in_chinese():
    """Each preset's stages are the same in Chinese, and each worded one has a label."""
    untranslated = []
    for name in fs.presets.names():
        stages = fs.presets.get(name).funnel.stages
        with fs.language("zh"):
            assert fs.presets.get(name).funnel.stages == stages, name
            labels = [i18n.stage_label(stage) for stage in stages]
        untranslated += [
            f"{name}: {stage!r}"
            for stage, label in zip(stages, labels, strict=True)
            if re.search(r"[a-z]{2,}", stage) and not re.search(r"[\u4e00-\u9fff]", label)
        ]
    assert not untranslated, f"preset stages without a Chinese label: {untranslated}"


def test_every_stage_label_belongs_to_a_stage_of_the_kit():
    """stage_label finds ``stage.<name>`` keys by the stage's name: each key must be reachable
    from a preset's stages or the sample logs' stages."""
    reachable = set()
    truth = fs.datasets.load_truth()
    kit_stages = [fs.presets.get(name).funnel.stages for name in fs.presets.names()]
    kit_stages += [truth["events"]["stages"], truth["counts"]["stages"]]
    for stages in kit_stages:
        for stage in stages:
            code = "_".join(re.findall(r"[a-z0-9]+", stage.lower()))
            if EN.get(f"stage.{code}") == stage:  # only the kit's exact spelling is translated
                reachable.add(f"stage.{code}")
            assert i18n.stage_label(stage)  # never empty
    with fs.language("zh"):  # a user's own spelling stays as written
        assert i18n.stage_label("Sales") == "Sales" and i18n.stage_label("sales") == "成交"
    unused = sorted(k for k in EN if k.startswith("stage.") and k not in reachable)
    assert not unused, f"stage labels no preset stage reaches: {unused}"


# ------------------------------------------------------ Chinese plot font
GLYPH_MISSING = r"(?s).*Glyph .* missing"


def test_a_chinese_figure_has_every_glyph():
    """Title, axis labels, ticks and legend in Chinese: any missing glyph is an error."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from funnelsim import plotting

    with fs.language("zh"), plotting.style(), warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH_MISSING)
        res = fs.lessons.running_share(0.3, 200, reps=3, rng=1)
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        plotting.plot_running_share(res, ax=ax)
        ax.set_xticks([0, 100, 200], ["零", "一百", "二百"])
        fig.canvas.draw()
        fig.savefig(io.BytesIO(), format="svg")
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    texts += [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in texts), texts


def test_without_the_font_the_glyph_check_fails():
    """Guards the test above: with only DejaVu Sans, Chinese text is an error."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context({"font.family": ["DejaVu Sans"]}), warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH_MISSING)
        fig = Figure()
        FigureCanvasAgg(fig)
        fig.subplots().set_title("拨打")
        with pytest.raises(UserWarning, match="Glyph"):
            fig.canvas.draw()


def test_chinese_falls_back_to_regular_noto_sans_sc_and_latin_keeps_its_font():
    import matplotlib as mpl
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from funnelsim import fonts, plotting

    families = list(mpl.rcParams["font.family"])
    assert families[-1] == fonts.FAMILY and families[0] != fonts.FAMILY
    with plotting.style():
        assert mpl.rcParams["font.family"][-1] == fonts.FAMILY
    path = font_manager.findfont(font_manager.FontProperties(family=fonts.FAMILY))
    font = FT2Font(path)
    assert font.family_name == fonts.FAMILY and "Thin" not in font.style_name
    assert font.get_char_index(ord("拨")) != 0
    latin = font_manager.findfont(font_manager.FontProperties(family=families[:-1]))
    assert latin != path


@pytest.mark.parametrize(
    "make",
    [
        "make_law_of_large_numbers",
        "make_ratio_game",
        "make_revenue_steadiness",
        "make_sample_size",
    ],
)
def test_apps_in_chinese_draw_every_glyph(make):
    from funnelsim import widgets

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = getattr(widgets, make)(lang="zh")
        views = app.controls.get("view")
        for option in views.options if views is not None else ():
            views.value = option[1]
    assert app.message == ""
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing
    assert re.search(r"[\u4e00-\u9fff]", app.figure.axes[0].get_title())


@pytest.mark.parametrize(("env", "expected"), [("zh", "zh"), ("", "en"), ("xx", "en")])
def test_funnelsim_lang_sets_the_starting_language(env, expected):
    code = "import funnelsim as fs; print(fs.get_language(), fs.t('stage.sales'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "FUNNELSIM_LANG": env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [expected, "成交" if expected == "zh" else "sales"]


def test_chinese_titles_are_regular_so_their_digits_match_the_characters():
    """Noto Sans SC is a Regular-only copy: a bold title would draw its digits and Latin
    letters in DejaVu Sans Bold beside regular characters. English titles stay bold."""
    from matplotlib import font_manager

    from funnelsim import plotting

    chart = fs.p_chart(fs.datasets.load_counts(), stage="meetings", sigmas=1.5)
    weights, latin = {}, {}
    for lang in ("en", "zh"):
        with fs.language(lang), plotting.style():
            title = plotting.plot_p_chart(chart).title
            weights[lang] = title.get_fontweight()
            latin[lang] = Path(font_manager.findfont(title.get_fontproperties())).name
    assert weights == {"en": "bold", "zh": "normal"}
    assert "Bold" in latin["en"] and "Bold" not in latin["zh"], latin


def test_after_set_style_an_ordinary_charts_title_follows_a_language_switch():
    """A notebook calls set_style() once, in English; after fs.set_language("zh") (what the
    language buttons call) a cell that redraws gets a regular title, and bold again back."""
    import matplotlib as mpl

    from funnelsim import plotting

    chart = fs.p_chart(fs.datasets.load_counts(), stage="meetings", sigmas=1.5)
    with mpl.rc_context():
        plotting.set_style()
        try:
            fs.set_language("zh")
            assert plotting.plot_p_chart(chart).title.get_fontweight() == "normal"
            fs.set_language("en")
            assert plotting.plot_p_chart(chart).title.get_fontweight() == "bold"
        finally:
            fs.set_language("en")


def test_chinese_wording_a_trainer_reads():
    """Issue 12's wording: 异常 for "out of control", 统计期 for a log's period (a user's
    period need not be a week; 周 stays where the kit knows it is one), "passed/entered"
    on the ratio chart, and the decks' way of counting open leads as lost is the CRM's."""
    from funnelsim import plotting

    text = json.dumps(_catalogue("zh"), ensure_ascii=False)
    assert not [word for word in ("失控", "期间", "朴素算法") if word in text]
    chart = fs.p_chart(fs.datasets.load_counts(), stage="meetings", sigmas=1.5)
    events = fs.datasets.load_events()
    fit = fs.fit(events)
    first = fit.to_frame().iloc[0]
    flagged = len(chart.flagged)
    with fs.language("zh"), plotting.style():
        assert flagged > 0 and f"{flagged} 期异常" in repr(chart)
        ax = plotting.plot_p_chart(chart)
        assert ax.get_title() == f"约见逐期查看：{flagged} 期异常"
        assert ax.get_xlabel() == "统计期"
        assert "异常" in [t.get_text() for t in ax.get_legend().get_texts()]
        ax = plotting.plot_ratio_table(fit)
        label = f"{first.ratio:.1%}（{first.passed:,}/{first.entered:,}）"
        assert label == "47.2%（2,831/6,000）" and label in [t.get_text() for t in ax.texts]
        ax = plotting.plot_open_lead_ratios(fs.open_lead_ratios(events, "meeting", window="14D"))
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "未结线索按丢失计算（CRM 报表口径）" in legend
        assert fs.t("plot.unit.week") == "周" and fs.t("plot.unit.period") == "期"


# ------------------------------------------------------------- printed summaries
# Each result kind whose repr goes through the catalogue, with words of its
# English repr that must not survive in Chinese (template words, not data).
REPR_LEFTOVERS = {
    "Fit": ["overall"],
    "Fit by": ["groups", "see "],
    "Forecast": ["replicates", "total", "uncertainty"],
    "Plan": ["target", "decks", "probability"],
    "GroupComparison": ["shrunk", "team", "chi-square", "prior"],
    "PChart": ["out of control", "sigma", "above", "below"],
    "LeakDiagnosis": ["against", "leak(s)", "likely causes"],
    "PipelineDiagnosis": ["stuck in the middle"],  # its reason is worded when built
    "EstimatingRatios": ["coverage", "worst", "overall"],
    "SampleSize": ["ratio", "leads"],
    "SalesCycle": ["as of", "median", "days", "open leads"],
    "ComparingReps": ["differing", "leak(s)", "period(s) out", "shrunk"],
    "Pipeline": ["open deals", "weighted", "dropped"],
    "Calibration": ["stated", "closed", "deals"],
    "Ladder": ["leads"],
    "Outlook": ["calls a period", "futures", "plan", "probability"],
    "Survival": ["subjects", "censored", "more event times", "days", "at risk", "survival"],
    "CycleLength": ["as of", "share closed", "median cycle", "last 10 closed", "days"],
    "OpenLeadRatios": ["mature after", "days", "median time", "mature cohort", "naive"],
    "TimeInStage": ["(in days)", "status", "moved on", "leads"],
    "SimpsonCheck": ["entered", "passed", "ratio", "all"],
    "Funnel": ["ratios", "overall"],
    "Log": ["leads", "stages", "rows dropped"],
    "Simulation": ["reps x", "cycle mean", "overall"],
    "PipelineNumbers": ["deals", "weighted", "reached with", "quota"],
}


@pytest.fixture(scope="module")
def results_in_chinese() -> dict[str, object]:
    import pandas as pd

    from funnelsim import lessons

    counts = pd.DataFrame(
        {
            "rep": ["ann", "bob", "cy", "dee"],
            "period": ["w1", "w1", "w2", "w2"],
            "dials": [300] * 4,
            "connects": [120, 90, 130, 60],
            "meetings": [30, 12, 35, 6],
            "sales": [6, 2, 7, 1],
        }
    )
    with i18n.language("zh"):
        log = fs.Log("counts", ("dials", "connects", "meetings", "sales"), counts=counts)
        fit = fs.fit(log)
        funnel = fs.Funnel(["dials", "connects", "sales"], [0.4, 0.1])
        pipeline = fs.datasets.load_pipeline()
        events = fs.datasets.load_events()
        return {
            "Fit": fit,
            "Fit by": fs.fit(log, by="rep"),
            "Forecast": fs.forecast(fit, calls=500, periods=4, reps=200, rng=7),
            "Plan": fs.plan_calls(fit, target=20, probability=0.9, reps=500, rng=1),
            "GroupComparison": fs.compare_groups(log, by="rep"),
            "PChart": fs.p_chart(log, stage="connects", sigmas=0.5),  # flags both weeks
            "LeakDiagnosis": fs.diagnose_leaks(
                log, benchmark=fs.presets.get("daily ratio game"), by="rep"
            ),
            "PipelineDiagnosis": fs.diagnose_pipeline({"25%": 4, "50%": 15, "90%": 2}),
            "EstimatingRatios": lessons.estimating_ratios(log, n=[10, 20]),
            "SampleSize": lessons.sample_size(0.1, 0.03),
            "SalesCycle": lessons.sales_cycle(events),
            "ComparingReps": lessons.comparing_reps(log),
            "Pipeline": pipeline,
            "Calibration": fs.calibration(fs.datasets.load_deal_history()),
            "Ladder": fs.grade_ladder(fs.datasets.load_grade_history()),
            "Outlook": lessons.outlook(fit, target=20, reps=200, rng=3),
            "Survival": fs.kaplan_meier(
                [1, 2, 2, 3, 5, 8, 9, 10, 11, 12, 13],
                [1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1],
                unit="days",
            ),
            "CycleLength": fs.cycle_length(events),
            "OpenLeadRatios": fs.open_lead_ratios(events, "meeting", window="14D"),
            "TimeInStage": fs.time_in_stage(events),
            "SimpsonCheck": fs.diagnose.simpson_check(
                events, by="rep", within="source", stage="connect"
            ),
            "Funnel": funnel,
            "Log": events,
            "Simulation": fs.simulate(funnel, calls=100, periods=3, reps=10, rng=1),
            "PipelineNumbers": lessons.pipeline_numbers(pipeline, 3_000_000, rng=2),
        }


@pytest.mark.parametrize(("kind", "leftovers"), REPR_LEFTOVERS.items(), ids=list(REPR_LEFTOVERS))
def test_result_reprs_print_in_chinese(results_in_chinese, kind, leftovers):
    result = results_in_chinese[kind]
    english = repr(result)
    assert all(word in english for word in leftovers), "the words must come from the English repr"
    with i18n.language("zh"):
        text = repr(result)
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert not [word for word in leftovers if word in text], text


def test_reports_and_reprs_name_fields_and_methods_in_chinese():
    import pandas as pd

    from funnelsim.report import ratio_table

    counts = pd.DataFrame({"rep": ["ann", "bob"], "dials": [150, 150], "sales": [10, 3]})
    log = fs.Log("counts", ("dials", "sales"), counts=counts)
    with fs.i18n.language("zh"):
        fit = fs.fit(log, by="rep")
        assert ratio_table(fit).columns[0] == "销售代表"
        assert "Wilson（威尔逊）" in repr(fs.fit(log)) and "wilson" not in repr(fs.fit(log))
        assert "按销售代表" in repr(fs.compare_groups(log, by="rep"))


def test_every_audience_variant_says_the_same_with_the_same_placeholders():
    """``key@cli`` (what the command line shows; ``key@cli-calls`` for the report's call
    record) has its plain key, the same fields, and a translation wherever the plain key
    has one."""
    bad = []
    for lang in ("en", *TRANSLATIONS):
        catalogue = _catalogue(lang)
        for key, text in catalogue.items():
            if "@" not in key:
                continue
            base, audience = key.split("@")
            if audience not in ("cli", "cli-calls") or base not in catalogue:
                bad.append(f"{lang}: {key} (no {base}, or an unknown audience)")
            elif _fields(text) != _fields(catalogue[base]):
                bad.append(f"{lang}: {key} fields {sorted(_fields(text))} != {base}'s")
    variants = {k for k in EN if "@" in k}
    for lang in TRANSLATIONS:
        catalogue = _catalogue(lang)
        bad += [f"{lang}: {k} missing" for k in variants if k.split("@")[0] in catalogue
                and k not in catalogue]  # fmt: skip
    assert variants and not bad, bad


def test_the_command_line_names_its_options_in_advice():
    with fs.i18n.speaking_to("cli"):
        cli = fs.t("log.error.drop_hint")
    assert "--errors drop" in cli and 'errors="drop"' in fs.t("log.error.drop_hint")


# ------------------------------------------------------------- tables for people
def test_labelled_translates_headers_and_names_and_leaves_the_table_alone():
    import pandas as pd

    table = pd.DataFrame(
        {"stage": ["meetings", "Deals"], "method": ["wilson", "naive"], "passed": [3, 4]},
        index=pd.Index(["a", "b"], name="rep"),
    )
    with i18n.language("zh"):
        shown = fs.labelled(table)
        series = fs.labelled(table.set_index("stage")["passed"].rename("prob_reach"))
        grouped = fs.labelled(table.groupby(["stage", "method"])["passed"].agg(["min", "mean"]))
    assert list(shown.columns) == ["阶段", "方法", "通过"] and shown.index.name == "销售代表"
    assert list(shown["阶段"]) == ["约见", "Deals"]  # a user's own stage name stays as written
    assert "威尔逊" in shown["方法"].iloc[0] and shown["方法"].iloc[1] == "CRM 报表口径"
    assert series.name == "达标概率" and series.index.name == "阶段"
    assert list(series.index) == ["约见", "Deals"]
    assert list(grouped.columns) == ["最小", "平均"] and grouped.index.names == ["阶段", "方法"]
    assert "约见" in grouped.index.get_level_values(0)
    assert list(table.columns) == ["stage", "method", "passed"]  # the original is unchanged
    assert list(table["stage"]) == ["meetings", "Deals"]
    assert fs.labelled("not a table") == "not a table"


def test_labelled_names_the_stages_of_a_move_back():
    import pandas as pd

    events = pd.DataFrame(
        {
            "lead": ["A", "A", "A"],
            "stage": ["meeting", "proposal", "meeting"],
            "time": ["2025-03-01", "2025-03-02", "2025-03-06"],
        }
    )
    log = fs.read_log(events, format="events", stages=["meeting", "proposal"])
    table = fs.demotion_table(log)
    with i18n.language("zh"):
        shown = fs.labelled(table)
    assert list(shown.columns) == ["从", "到", "数量", "中位天数", "平均天数"]
    assert shown.iloc[0, :3].tolist() == ["方案", "约见", 1]
    assert fs.labelled(table).columns.tolist()[:2] == ["from", "to"]
    assert table["from"].tolist() == ["proposal"]  # the identifiers stay


def test_every_column_label_exists_in_every_language():
    english = {k for k in json.loads((LOCALES / "en.json").read_text()) if k.startswith("column.")}
    assert len(english) > 50
    for path in LOCALES.glob("*.json"):
        keys = {k for k in json.loads(path.read_text()) if k.startswith("column.")}
        assert keys == english, path.name


def test_table_text_lines_up_chinese_columns():
    import unicodedata

    import pandas as pd

    table = pd.DataFrame({"stage": ["meetings", "sales"], "entered": [2831, 7]})
    with i18n.language("zh"):
        lines = i18n.table_text(table, index=False).splitlines()

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    assert len({width(line) for line in lines}) == 1, lines


def test_labelled_translates_shapes_in_a_column_and_in_a_pivot_of_them():
    import pandas as pd

    table = pd.DataFrame({"rep": ["王芳", "张伟"], "shape": ["healthy", "top-heavy"]})
    with i18n.language("zh"):
        assert fs.labelled(table)["形状"].tolist() == ["健康", "头重脚轻"]
        pivot = fs.labelled(table.groupby("rep")["shape"].value_counts().unstack(fill_value=0))
    assert list(pivot.columns) == ["健康", "头重脚轻"]
    assert table["shape"].tolist() == ["healthy", "top-heavy"]  # the table itself unchanged


def test_new_tables_read_in_chinese_and_keep_their_identifiers():
    """#15's tables through fs.labelled: column labels, intent classes, MAN rules and the
    team's row in Chinese; the tables themselves keep their identifiers."""
    q = fs.qualify(fs.datasets.load_qualified_leads())
    att = fs.attainment({"Li": 1, "Wang": 2}, {"Li": 3, "Wang": 4}, elapsed=0.5)
    with fs.language("zh"):
        intent = fs.labelled(q.by_intent())
        rule = fs.labelled(q.by_rule())
        table = fs.labelled(att.to_frame())
        kpis = fs.labelled(fs.datasets.load_calls().kpis(period="all"))
    assert list(intent.columns[:3]) == ["意向", "线索数", "成交"]
    assert intent.iloc[:, 0].tolist()[0].startswith("意向非常明确")
    assert rule.iloc[:, 0].tolist()[-1].startswith("放弃")
    assert table.iloc[-1, 0] == "全组" and "达成率" in table.columns
    assert {"接通率", "通话时长（秒）", "有效通话"} <= set(kpis.columns)
    assert q.by_intent()["intent"].tolist()[0] == "very_clear"  # identifiers unchanged
    assert att.to_frame()["rep"].tolist()[-1] == "team"
    levers = fs.three_levers(fs.presets.get("daily ratio game").funnel, 5000, 100)
    with fs.language("zh"):
        text = repr(levers)
    assert "现状" in text and "转化率 接通" in text and "baseline" not in text
