"""Classroom tools of every app: seed and new draw, export, language switch, projector style.

The same seed must give every participant the same figure (byte for byte);
the exported PNG/SVG must be valid files of the chart on screen; switching the
language must redraw labels, chart and summary and keep the controls' values.
"""

from __future__ import annotations

import base64
import inspect
import io
import re
import weakref
import xml.etree.ElementTree as ET

import ipywidgets as W
import matplotlib.image as mpimg
import numpy as np
import pytest
import seaborn as sns
from matplotlib.colors import to_hex

import funnelsim as fs
from funnelsim import i18n, widgets
from funnelsim.i18n import t

PNG = b"\x89PNG\r\n\x1a\n"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _lln(**kwargs) -> widgets.App:
    return widgets.make_law_of_large_numbers(**{"p": 0.3, "n": 300, "reps": 5, **kwargs})


@pytest.fixture
def live(monkeypatch):
    """Only the apps a test builds are 'live' for switch_language (not every app of the run)."""
    monkeypatch.setattr(widgets.app, "LIVE_APPS", weakref.WeakSet())
    monkeypatch.setattr(widgets.app, "LIVE_SWITCHES", weakref.WeakSet())


# ------------------------------------------------------------ factories
def test_every_app_factory_takes_lang_and_can_relabel():
    makers = [name for name in dir(widgets) if name.startswith("make_")]
    assert len(makers) >= 6
    for name in makers:
        make = getattr(widgets, name)
        assert getattr(make, "_app_factory", False), f"{name} lacks the @_app_factory decorator"
        assert name in widgets.__all__


def test_unknown_lang_is_one_clear_error():
    with pytest.raises(fs.FunnelsimValueError) as err:
        _lln(lang="fr")
    assert err.value.key == "error.unknown_language"
    assert err.value.values == {"lang": "fr", "choices": "en, zh"}


# ---------------------------------------------------- seed and new draw
@pytest.mark.parametrize(
    "make",
    [
        lambda seed: _lln(seed=seed),
        lambda seed: widgets.make_revenue_steadiness(
            "six-stage weekly funnel", calls=100, reps=50, periods=12, seed=seed
        ),
    ],
    ids=["law_of_large_numbers", "revenue_steadiness"],
)
def test_same_seed_same_figure_bytes_other_seed_other_figure(make):
    a, b, c = make(7), make(7), make(8)
    assert a.message == b.message == c.message == ""
    assert a.controls["seed"].description == t("app.seed")  # the seed is shown
    assert bytes(a.image.value) == bytes(b.image.value)
    assert bytes(a.image.value) != bytes(c.image.value)


def test_new_draw_adds_one_to_the_seed_and_every_participant_gets_the_same_draw():
    a, b = _lln(seed=41), _lln(seed=41)
    assert isinstance(a.new_draw, W.Button)
    first = a.result.shares.copy()
    a.new_draw.click()
    b.new_draw.click()
    assert a.controls["seed"].value == b.controls["seed"].value == 42
    np.testing.assert_array_equal(a.result.shares, b.result.shares)
    assert not np.array_equal(a.result.shares, first)
    # the new draw is exactly what seed 42 gives, and seed 41 gives the first one back
    np.testing.assert_array_equal(
        a.result.shares, fs.lessons.running_share(0.3, 300, 5, rng=42).shares
    )
    a.controls["seed"].value = 41
    np.testing.assert_array_equal(a.result.shares, first)


def test_new_draw_wraps_at_the_largest_seed():
    app = _lln(seed=2**31 - 1)
    app.new_draw.click()
    assert app.controls["seed"].value == 0


def test_apps_without_randomness_have_no_new_draw_button():
    app = widgets.make_sample_size()
    assert "seed" not in app.controls and app.new_draw is None


# --------------------------------------------------------------- export
def test_exported_png_is_the_chart_on_screen():
    app = _lln(seed=3)
    png = app.export("png")
    assert png.startswith(PNG)
    big = mpimg.imread(io.BytesIO(png), format="png")
    w, h = app.figure.get_size_inches()
    assert big.shape[:2] == (round(h * 160), round(w * 160))  # twice the screen's 80 dpi
    same = mpimg.imread(io.BytesIO(app.export("png", dpi=80)), format="png")
    shown = mpimg.imread(io.BytesIO(bytes(app.image.value)), format="png")
    np.testing.assert_array_equal(same[..., :3], shown[..., :3])


def test_exported_svg_parses_and_follows_the_controls():
    app = _lln(seed=3)
    svg = app.export("svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = svg.decode("utf-8")
    # matplotlib keeps each text as a comment
    assert t("plot.running_share.paths", shown=5, reps=5) in text
    app.controls["reps"].value = 7
    assert t("plot.running_share.paths", shown=7, reps=7) in app.export("svg").decode("utf-8")


def test_export_rejects_other_formats():
    with pytest.raises(fs.FunnelsimValueError) as err:
        _lln().export("pdf")
    assert err.value.key == "error.choice"
    assert err.value.values == {"name": "format", "choices": "png, svg", "value": "pdf"}


def test_download_links_carry_the_files_and_go_stale_on_update():
    app = _lln(seed=5)
    assert app.downloads.value == ""  # nothing made until asked: updates stay cheap
    app.export_button.click()
    links = dict(
        re.findall(r'download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', app.downloads.value)
    )
    assert set(links) == {"law_of_large_numbers.png", "law_of_large_numbers.svg"}
    assert base64.b64decode(links["law_of_large_numbers.png"]) == app.export("png")
    assert base64.b64decode(links["law_of_large_numbers.svg"]) == app.export("svg")
    assert "http" not in app.downloads.value.replace("http://www.w3.org", "")
    app.controls["n"].value = 400
    assert app.downloads.value == ""


# ------------------------------------------------------------- language
def _texts(app: widgets.App) -> str:
    ax = app.figure.axes[0]
    legend = ax.get_legend()
    words = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    words += [t.get_text() for t in legend.get_texts()] if legend else []
    return " ".join(words)


def test_lang_zh_builds_the_whole_app_in_chinese(live):
    app = _lln(seed=1, lang="zh")
    assert app.lang == "zh"
    assert CJK.search(app.widget.children[0].value)  # title
    assert all(CJK.search(c.description) for c in app.controls.values())
    assert CJK.search(app.summary.value) and CJK.search(_texts(app))
    assert CJK.search(app.new_draw.description) and CJK.search(app.export_button.description)
    assert fs.get_language() == "en"  # the kit's language is untouched
    app.controls["n"].value = 600  # later updates stay in Chinese
    assert CJK.search(app.summary.value) and CJK.search(_texts(app))


def _shown(app: widgets.App) -> widgets.App:
    app._repr_mimebundle_()  # what Jupyter and Voila do to show it
    return app


def test_switch_language_relabels_shown_apps_and_keeps_their_values(live):
    app = _shown(_lln(seed=1))
    fixed = _shown(_lln(seed=1, lang="en"))
    hidden = _lln(seed=1)
    app.controls["n"].value = 500
    app.controls["seed"].value = 9
    before = app.result.shares.copy()
    switch = widgets.language_switch()
    assert switch.value == "en"
    switch.value = "zh"
    assert fs.get_language() == "zh"
    assert app.controls["seed"].description == t("app.seed") == "随机种子"
    assert app.controls["n"].value == 500 and app.controls["seed"].value == 9
    np.testing.assert_array_equal(app.result.shares, before)  # same draw, new words
    assert CJK.search(app.widget.children[0].value) and CJK.search(app.summary.value)
    assert CJK.search(_texts(app))
    assert app.widget.children[1].children[0] is app.controls["p"]  # the page shows them
    with i18n.language("en"):
        english = t("app.seed")
    assert fixed.controls["seed"].description == english  # lang= keeps its language
    assert hidden.controls["seed"].description == english  # never shown: left alone
    assert list(widgets.app.LIVE_APPS) and hidden not in widgets.app.LIVE_APPS
    # the app still works after the switch, and switches back
    app.controls["n"].value = 700
    assert app.result.n == 700 and app.message == ""
    widgets.switch_language("en")
    assert switch.value == "en"
    assert app.controls["seed"].description == english
    assert not CJK.search(app.summary.value + _texts(app))


def test_relabel_keeps_extra_widgets_of_an_app_working(live):
    app = _shown(widgets.make_pipeline(quota=300_000))
    widgets.switch_language("zh")
    assert app.upload in [w for box in app.widget.children for w in getattr(box, "children", [])]
    assert CJK.search(app.upload.description)
    rows = ["deal,stage,amount", "D1,25%,1000000", "D2,50%,200000", "D3,90%,50000"]
    app.controls["deals"].value = "\n".join(rows)
    assert app.result.weighted == 395000.0


def test_language_switch_offers_english_and_chinese():
    switch = widgets.language_switch()
    assert switch.options == (("English", "en"), ("中文", "zh"))
    assert "语言" in switch.description and "Language" in switch.description


def test_a_notebooks_switch_starts_in_its_language_and_says_what_a_click_changes(
    live, monkeypatch
):
    monkeypatch.delenv("FUNNELSIM_LANG", raising=False)
    app = _shown(_lln(seed=1))
    try:
        switch = widgets.language_switch("zh")  # a Chinese notebook's switch
        assert fs.get_language() == "zh" and switch.value == "zh"
        assert CJK.search(app.controls["seed"].description)  # shown apps follow at once
        assert "英文版" in switch.note.value
        switch.value = "en"  # a click on English
        assert fs.get_language() == "en"
        assert "Switches the apps" in switch.note.value and "Chinese" in switch.note.value
        assert widgets.language_switch().note.value.count(".") == 1  # no notebook: one sentence
    finally:
        widgets.switch_language("en")


def test_funnelsim_lang_wins_over_the_notebooks_language(live, monkeypatch):
    """``FUNNELSIM_LANG=zh`` runs an English notebook in Chinese (the test command does)."""
    monkeypatch.setenv("FUNNELSIM_LANG", "zh")
    widgets.language_switch("en")
    assert fs.get_language() == "en"  # the kit's language was English, and it stays so
    fs.set_language("zh")
    try:
        assert widgets.language_switch("en").value == "zh"
    finally:
        fs.set_language("en")


def test_a_switch_for_an_unknown_language_is_one_clear_error():
    with pytest.raises(fs.FunnelsimValueError) as err:
        widgets.language_switch("fr")
    assert err.value.key == "error.unknown_language"


# --------------------------------------------------------------- style
def test_palette_is_seaborn_colorblind_and_the_apps_use_it():
    assert fs.plotting.palette() == sns.color_palette("colorblind").as_hex()
    app = widgets.make_revenue_steadiness("six-stage weekly funnel", calls=100, seed=1)
    colours = {to_hex(line.get_color()) for ax in app.figure.axes for line in ax.lines}
    assert colours and colours <= set(fs.plotting.palette()) | {"#000000", "#ffffff"}


def test_apps_draw_in_the_projector_style():
    app = _lln(seed=1)
    ax = app.figure.axes[0]
    assert ax.title.get_fontsize() >= 17
    assert ax.xaxis.label.get_fontsize() >= 15
    assert max(line.get_linewidth() for line in ax.lines) >= 2


def test_a_language_switch_redraws_titles_in_the_weight_of_their_language(live):
    """Chinese titles are regular (its font has one weight: bold digits would sit beside
    regular characters), English ones bold; a shown app follows the switch both ways."""
    app = _shown(_lln(seed=1))
    assert app.figure.axes[0].title.get_fontweight() == "bold"
    widgets.switch_language("zh")
    title = app.figure.axes[0].title
    assert CJK.search(title.get_text()) and title.get_fontweight() == "normal"
    assert _lln(seed=1, lang="zh").figure.axes[0].title.get_fontweight() == "normal"
    widgets.switch_language("en")
    assert app.figure.axes[0].title.get_fontweight() == "bold"


def test_every_factory_signature_shows_its_parameters():
    params = inspect.signature(widgets.make_law_of_large_numbers).parameters
    assert {"p", "n", "reps", "seed", "lang"} <= set(params)
    assert params["lang"].kind is inspect.Parameter.KEYWORD_ONLY and params["lang"].default is None


# ------------------------------------------ stage names: labels in, identifiers out
def _zh(stage: str) -> str:
    with i18n.language("zh"):
        return i18n.stage_label(stage)


def _zh_ratio(upper: str, lower: str) -> str:
    with i18n.language("zh"):
        return t("app.ratio", upper=_zh(upper), lower=_zh(lower))


def test_game_apps_in_chinese_show_stage_labels_and_keep_stage_names():
    game = widgets.make_ratio_game("daily ratio game", lang="zh")
    assert CJK.search(_zh("connects"))
    assert game.controls["ratio_0"].description == _zh_ratio("dials", "connects")
    # The levers view labels each ratio by its stages, the result keeps their names.
    labels = [label.get_text() for label in game.figure.axes[1].get_yticklabels()]
    assert labels[2].startswith(_zh_ratio("dials", "connects"))
    assert game.message == "" and game.result.equal_effort.levers["stage"].iloc[2] == "connects"
    steady = widgets.make_revenue_steadiness(
        "six-stage weekly funnel", reps=200, periods=8, lang="zh"
    )
    assert steady.controls["ratio_0"].description == _zh_ratio("potential", "first contact")
    assert steady.result.funnel.stages[:2] == ("potential", "first contact")


def test_log_apps_in_chinese_show_stage_labels_and_keep_stage_names():
    weekly = fs.datasets.load_counts()
    ratios = widgets.make_estimating_ratios(weekly, lang="zh")
    assert ratios.controls["stage"].value == "sales"
    assert ratios.controls["stage"].options[-1] == (_zh("sales"), "sales")
    assert f"（{_zh('sales')}" in ratios.summary.value  # the coverage step, by its label
    ratios.controls["stage"].value = "meetings"
    assert ratios.message == "" and ratios.result.stage == "meetings"
    reps = widgets.make_comparing_reps(weekly, stage="meetings", lang="zh")
    assert reps.controls["stage"].value == "meetings"
    assert dict(reps.controls["stage"].options)[_zh("meetings")] == "meetings"
    assert reps.summary.value.startswith(f"<b>{_zh('meetings')}</b>")
    assert "meetings" not in reps.summary.value


def test_a_relabelled_reps_app_still_follows_its_grouping(live):
    """After a language switch the p-chart's group menu still follows the grouping (the
    app once stopped with a ValueError here: the menu unhooked an update it no longer had)."""
    weekly = fs.datasets.load_counts()
    app = _shown(widgets.make_comparing_reps(weekly, stage="connects", view="chart"))
    widgets.switch_language("zh")
    assert app.controls["stage"].value == "connects"
    app.controls["by"].value = "period"
    assert app.message == "" and app.controls["group"].disabled
    assert app.controls["group"].options == ((t("app.reps.team"), None),)
    app.controls["by"].value = "rep"
    assert app.message == "" and app.controls["group"].value == "Chen"
    assert app.result.by == ("rep",) and CJK.search(app.summary.value)
