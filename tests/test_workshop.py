"""``make workshop`` in a real browser: the dashboards load offline and react to the sliders;
the home page names the notebooks by title; Chinese text is drawn with the font the
workshop serves, Chinese headings are not bold, and the controls are big enough to use on
a projector.

The English workshop (``make workshop``) serves ``notebooks/``; a Chinese one
(``FUNNELSIM_LANG=zh``) serves ``notebooks/zh/``. The browser tests run one server, the
English one, and open the Chinese notebooks there too (``voila/render/zh/...``: not
listed, not pre-warmed, but served, in Chinese since each starts the kit in Chinese); the
Chinese workshop's home page is checked through the data its template imports.

The server is ``workshop/serve.py`` (what ``make workshop`` runs), started on a
free loopback port and stopped at the end, also on failure. The browser is
Debian's ``chromium``, driven by Playwright; nothing downloads a browser. When
``chromium`` is missing it is installed with ``apt-get`` (as root, as in CI);
where it cannot be, the test fails with the reason, except on a developer's
machine without root, where it is skipped with the command to run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import funnelsim as fs
from funnelsim.i18n import t

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "workshop" / "serve.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOK = "03-revenue-steadiness.ipynb"  # its app's summary shows the coefficient of variation
CI = bool(os.environ.get("CI"))
STARTUP = 120  # seconds for the server to answer (a loaded CI machine is slow to import)


def _load_serve():
    spec = importlib.util.spec_from_file_location("workshop_serve", SERVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------- no browser needed
def test_template_copy_has_every_font_its_stylesheets_name(tmp_path):
    """Offline means every ``url(...)`` in the local Font Awesome CSS is a file of the copy."""
    dest = _load_serve().install_template(tmp_path)
    css_dir = dest / "static" / "fontawesome" / "css"
    for css in ("all.min.css", "v4-shims.min.css"):
        text = (css_dir / css).read_text(encoding="utf-8")
        assert "@import" not in text, css
        refs = [r.strip("'\"") for r in re.findall(r"url\(([^)#?]+)", text)]
        assert refs or css == "v4-shims.min.css"
        for ref in refs:
            assert "//" not in ref, f"{css} loads {ref} from elsewhere"
            assert (css_dir / ref).is_file(), f"{css} names {ref}, which was not copied"
    index = (dest / "index.html.j2").read_text(encoding="utf-8")
    assert "fontawesome-free@^5/css/" in index  # the CDN prefix Voilà's page uses


def test_voila_page_still_asks_the_cdn_prefix_the_template_replaces():
    """If Voilà changes its Font Awesome link, the template's replacement would silently
    stop working; the browser test would then see a request leave the machine."""
    from jupyter_core.paths import jupyter_path

    pages = [Path(p) / "templates" / "lab" / "index.html.j2" for p in jupyter_path("voila")]
    page = next(p for p in pages if p.is_file())
    assert "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5/css/" in page.read_text(
        encoding="utf-8"
    )


# ---------------------------------------------------------------- the browser
def _apt_install_chromium() -> str:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = []
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        log.append(f"$ {' '.join(command)} -> {done.returncode}\n{done.stderr[-2000:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.fail(
            "Debian's chromium could not be installed for the browser test:\n" + "\n".join(log)
        )
    return found


@pytest.fixture(scope="module")
def chromium() -> str:
    """Path of the system Chromium, installed with apt-get when missing and allowed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if root and shutil.which("apt-get"):
        return _apt_install_chromium()
    message = (
        "the browser test needs Debian's chromium: run `sudo apt-get install chromium` "
        f"(running as {'root' if root else 'a user without root'}, "
        f"apt-get {'found' if shutil.which('apt-get') else 'not found'})"
    )
    if CI or root:
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and the kernels it started (its whole process group)."""
    _load_serve().stop(proc)


def _english_workshop_env() -> dict[str, str]:
    """The environment of ``make workshop`` with no language given (the test command
    sets ``FUNNELSIM_LANG=en`` for the unit tests): each notebook's kernel then starts
    in the language its text is written in."""
    return {k: v for k, v in os.environ.items() if k != "FUNNELSIM_LANG"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``workshop/serve.py`` on a free loopback port; yields its base URL."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = ARTIFACTS / "voila.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, str(SERVE), "--port", str(port)],
            cwd=ROOT,
            env=_english_workshop_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so _stop reaches the kernels
        )
        try:
            deadline = time.monotonic() + STARTUP
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"the dashboard server exited early:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the dashboard server did not answer in {STARTUP} s:\n"
                        + log_path.read_text()
                    )
                time.sleep(0.2)
            yield url
        finally:
            _stop(proc)


class _Watch:
    """What a page does wrong: console errors, page errors, failed or off-machine requests."""

    def __init__(self, page, base: str) -> None:
        self.problems: list[str] = []
        self.urls: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"),
        )
        page.on("response", self._response)
        page.on("request", lambda r: self._request(r, base))

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request, base: str) -> None:
        url = request.url
        self.urls.append(url)
        if not url.startswith((base, base.replace("http", "ws", 1), "data:", "blob:")):
            self.problems.append(f"request leaves the machine: {url}")


@pytest.fixture(scope="module")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        # what the browser showed last, to see why a test failed
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"))
        context.close()


def test_notebook_list_loads_offline(server, page):
    watch = _Watch(page, server)
    page.goto(server, wait_until="networkidle")
    # the page lists the notebooks, each a link to its dashboard
    links = page.locator("a[href*='/voila/render/']")
    hrefs = [h.split("?")[0] for h in links.evaluate_all("a => a.map(e => e.href)")]
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} == {Path(h).name for h in hrefs}
    assert not [h for h in hrefs if "/zh/" in h]  # the Chinese workshop's notebooks
    assert page.locator("a[href*='/voila/tree/']").count() == 0  # nor their folder
    assert watch.problems == []


def _theory_cv(calls: int) -> str:
    """The weekly noise the app's summary quotes as theory, by an independent formula call."""
    funnel = fs.presets.get("six-stage weekly funnel").funnel
    deal = fs.DealSize.gamma(10_000, cv=0.5)
    return f"{fs.theory.revenue_cv(funnel, calls, deal, 1, cycle=fs.Cycle(4, cv=0.5)):.0%}"


def test_revenue_dashboard_reacts_to_the_calls_slider(server, page):
    from playwright.sync_api import expect

    watch = _Watch(page, server)
    page.goto(f"{server}voila/render/{NOTEBOOK}", wait_until="load", timeout=180_000)
    title = page.get_by_text(t("app.steady.title"), exact=True)
    title.wait_for()
    app = page.locator(".widget-vbox").filter(has=title).last
    slider = app.locator(".widget-slider").filter(
        has=page.get_by_text(t("app.steady.calls"), exact=True)
    )
    readout = slider.locator(".widget-readout")
    summary = app.locator(".widget-html").filter(has_text="%").first  # the app's summary
    image = app.locator("img").first
    # a dashboard: the notebook's words, outputs and widgets, none of its code
    assert page.locator(".jp-InputArea-editor, .cm-editor").count() == 0
    assert "import funnelsim" not in page.locator("body").inner_text()
    # nor its exercises and solutions (cells tagged "exercise" / "solution")
    assert "Exercise 1" not in page.locator("body").inner_text()

    calls_before = int(readout.inner_text())
    summary_before = summary.inner_text()
    src_before = image.get_attribute("src")
    assert _theory_cv(calls_before) in summary_before

    # drag the handle to about 45 % of the track (some 450 calls), as a trainer would
    track = slider.locator(".noUi-base")
    box = track.bounding_box()
    slider.locator(".noUi-handle").drag_to(
        track, target_position={"x": 0.45 * box["width"], "y": box["height"] / 2}
    )
    expect(readout).not_to_have_text(str(calls_before), timeout=10_000)  # the handle moved
    calls_after = int(readout.inner_text())
    assert calls_after > calls_before
    # Wait for the state that belongs to the new volume (the page may show an
    # intermediate summary while the kernel works): the shown theory noise must
    # become the one computed independently for calls_after.
    expect(summary).to_contain_text(f"(theory {_theory_cv(calls_after)})", timeout=60_000)
    expect(image).not_to_have_attribute("src", src_before, timeout=60_000)  # redrawn
    summary_after = summary.inner_text()
    assert summary_after != summary_before
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")

    ARTIFACTS.mkdir(exist_ok=True)
    app.screenshot(path=str(ARTIFACTS / "workshop.png"))  # the whole dashboard, after the move
    assert watch.problems == []


# ------------------------------------------------------------ kernel lifecycle
# Each dashboard page runs in a kernel of its own (some 200 MB). A page that is closed
# or reloaded must free it, or a room's visits pile up kernels until the laptop runs out
# of memory. The kernels are counted through the server's API: the ids the server log
# names as started, each asked for at api/kernels/<id> (200 while it runs, 404 after).
KERNEL_STARTED = re.compile(r"Kernel started: ([0-9a-f-]{36})")


def _alive_kernels(base: str, log_path: Path) -> set[str]:
    alive = set()
    for kernel_id in KERNEL_STARTED.findall(log_path.read_text(encoding="utf-8")):
        try:
            with urllib.request.urlopen(f"{base}api/kernels/{kernel_id}", timeout=5) as answer:
                if answer.status == 200:
                    alive.add(kernel_id)
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
    return alive


def _settled_kernels(base: str, log_path: Path, *, steady: float = 3, limit: float = 60):
    """The running kernels once their set has not changed for ``steady`` seconds (the
    server refills its pool of pre-warmed kernels in the background)."""
    deadline = time.monotonic() + limit
    last, since = _alive_kernels(base, log_path), time.monotonic()
    while time.monotonic() - since < steady:
        assert time.monotonic() < deadline, f"the kernels never settled: {last}"
        time.sleep(0.5)
        now = _alive_kernels(base, log_path)
        if now != last:
            last, since = now, time.monotonic()
    return last


def _wait_dead(base: str, log_path: Path, kernel_ids: set[str], within: float) -> None:
    deadline = time.monotonic() + within
    while kernel_ids & _alive_kernels(base, log_path):
        if time.monotonic() > deadline:
            still = kernel_ids & _alive_kernels(base, log_path)
            pytest.fail(f"kernels {still} still run {within} s after their page went away")
        time.sleep(0.5)


def _open_dashboard(context, url: str):
    """A new page showing the dashboard at ``url`` with its widgets; returns the page and
    the id of its kernel (from the page's configuration, as Voilà's script reads it)."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="load", timeout=180_000)
    page.locator(".widget-slider").first.wait_for()  # the page's script is running
    return page, _page_kernel(page)


def _page_kernel(page) -> str:
    config = page.locator("#jupyter-config-data").first.text_content()
    return re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', config).group(1)


@pytest.fixture
def context(browser):
    """A browser window that outlives its pages (closing a page is then closing a tab,
    whose shutdown request still goes out; closing the window may cancel it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        yield context
    finally:
        context.close()


def test_closed_or_reloaded_dashboard_frees_its_kernel(server, context):
    log_path = ARTIFACTS / "voila.log"
    before = _settled_kernels(server, log_path)  # the pool of pre-warmed kernels
    first, first_kernel = _open_dashboard(context, f"{server}voila/render/{NOTEBOOK}")
    second, second_kernel = _open_dashboard(
        context, f"{server}voila/render/01-law-of-large-numbers.ipynb"
    )
    assert {first_kernel, second_kernel} <= _alive_kernels(server, log_path)
    # each page was given a kernel that had already run its notebook
    log = log_path.read_text(encoding="utf-8")
    assert f"Using pre-heated kernel: {first_kernel}" in log
    assert f"Using pre-heated kernel: {second_kernel}" in log
    try:
        first.close(run_before_unload=True)  # as closing the tab does
        second.reload(wait_until="load")
        second.locator(".widget-slider").first.wait_for()
        reloaded_kernel = _page_kernel(second)
        assert reloaded_kernel != second_kernel
        # (waits of up to 30 s: a loaded 2-core machine, the tests beside, is slow to
        # end a kernel and to start the pool's new ones; a working server takes 1 to 3 s)
        _wait_dead(server, log_path, {first_kernel, second_kernel}, within=30)
        assert reloaded_kernel in _alive_kernels(server, log_path)
    finally:
        second.close(run_before_unload=True)
    _wait_dead(server, log_path, {reloaded_kernel}, within=30)
    # back to the pool alone: every kernel a page took was replaced once, then freed
    deadline = time.monotonic() + 60
    after = _settled_kernels(server, log_path)
    while len(after) != len(before) and time.monotonic() < deadline:  # still refilling
        after = _settled_kernels(server, log_path)
    assert len(after) == len(before), (before, after)
    assert "_xsrf" not in log_path.read_text(encoding="utf-8")  # no refused shutdown


def test_kernel_of_a_page_that_vanished_is_culled(context, tmp_path):
    """A page that goes without asking for its kernel's shutdown (a crashed browser, a
    laptop put to sleep) leaves a kernel with nobody connected: the culler frees it. A
    page still open keeps its kernel however idle. The culler's times are shortened
    here through serve.py's pass-through arguments, which override its own settings."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    log_path = tmp_path / "voila.log"
    quick = [
        "--MappingKernelManager.cull_idle_timeout=2",
        "--MappingKernelManager.cull_interval=1",
        "--VoilaConfiguration.default_pool_size=0",
    ]
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, str(SERVE), "--port", str(port), "--", *quick],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP
            while True:
                assert proc.poll() is None, log_path.read_text(encoding="utf-8")
                try:
                    with urllib.request.urlopen(base, timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8")
                    time.sleep(0.2)
            kept, kept_kernel = _open_dashboard(context, f"{base}voila/render/{NOTEBOOK}")
            gone, gone_kernel = _open_dashboard(context, f"{base}voila/render/{NOTEBOOK}")
            gone.close(run_before_unload=False)  # no shutdown request: the page just vanishes
            _wait_dead(base, log_path, {gone_kernel}, within=10)
            text = log_path.read_text(encoding="utf-8")
            culled = rf"Culling 'idle' kernel '\w+' \({gone_kernel}\) with 0 connections"
            assert re.search(culled, text)
            assert kept_kernel in _alive_kernels(base, log_path)  # open, idle, kept
            kept.close(run_before_unload=True)
            _wait_dead(base, log_path, {kept_kernel}, within=10)
        finally:
            _stop(proc)


def test_kernel_settings_reach_voila_and_args_replace_them():
    """``serve.py`` passes its kernel settings to Voilà; one given after ``--``
    (``make workshop ARGS=...``) replaces its own, since Voilà refuses a setting given
    twice; the README names each setting and the culling time."""
    serve = _load_serve()
    args = serve.voila_args(ROOT / "notebooks", ip="127.0.0.1", port=8866, extra=[])
    assert set(serve.KERNEL_SETTINGS) <= set(args)
    mine = "--VoilaConfiguration.default_pool_size=0"
    args = serve.voila_args(ROOT / "notebooks", ip="127.0.0.1", port=8866, extra=["--token", mine])
    assert [a for a in args if a.startswith("--VoilaConfiguration.default_pool_size")] == [mine]
    assert "--token" in args and "--MappingKernelManager.cull_interval=60" in args
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for setting in serve.KERNEL_SETTINGS:  # what a trainer may change (ARGS=...)
        if "cull" in setting or "pool_size" in setting:
            assert f"`{serve._option(setting)}=" in readme, setting
    minutes = f"{serve.CULL_AFTER // 60} minutes without activity (checked every minute)"
    assert minutes in readme and serve.CULL_EVERY == 60


def test_each_language_serves_its_own_notebooks():
    """A Chinese workshop serves notebooks/zh; the English one serves notebooks/ and
    pre-warms no kernel for notebooks/zh (Voilà matches each denylist pattern at the
    start of a notebook's full path, or as a part of it)."""
    serve = _load_serve()
    assert serve.default_notebooks("en") == ROOT / "notebooks"
    assert serve.default_notebooks("zh") == ROOT / "notebooks" / "zh"
    assert serve.notebook_language(ROOT / "notebooks") == "en"
    assert serve.notebook_language(ROOT / "notebooks" / "zh") == "zh"
    assert serve.notebook_language(ROOT / "notebooks" / "zh" / NOTEBOOK) == "zh"

    def prewarmed(folder: Path, args: list[str]) -> list[str]:
        patterns = [a.split("=", 1)[1] for a in args if "preheat_denylist=" in a]
        return sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*.ipynb")
            if not any(re.match(x, str(p)) or x in str(p) for x in patterns)
        )

    english = ROOT / "notebooks"
    args = serve.voila_args(english, ip="127.0.0.1", port=8866, extra=[])
    assert prewarmed(english, args) == sorted(p.name for p in english.glob("0[1-9]-*.ipynb"))
    chinese = ROOT / "notebooks" / "zh"
    args = serve.voila_args(chinese, ip="127.0.0.1", port=8866, extra=[])
    assert prewarmed(chinese, args) == sorted(p.name for p in chinese.glob("0[1-9]-*.ipynb"))


# ------------------------------------- the workshop's pages: font, control sizes, titles
#: What the template's @font-face serves Noto Sans SC for (its unicode-range): the
#: Chinese characters and CJK punctuation, never Latin text.
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3100-\u312f\u31c0-\u31ef\u3200-\u33ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f\uff00-\uffef"
)
#: What a dashboard cannot do: JupyterLab's menu and the folded solutions' dots.
LAB_WORDS = ("run all", "three dots", "全部运行", "运行全部", "三个点")
#: The apps whose sliders issue #12 found 0-4 px wide (03, 02) or narrow (06).
SIZED = ("02-the-ratio-game.ipynb", "03-revenue-steadiness.ipynb", "06-sales-cycle.ipynb")


def _first_heading(path: Path) -> str:
    """A notebook's first markdown heading, read without the server's code."""
    import nbformat

    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip().replace("*", "").replace("`", "")
    return ""


#: Each workshop's notebooks: ``make workshop`` and ``make workshop FUNNELSIM_LANG=zh``.
FOLDERS = {"en": ROOT / "notebooks", "zh": ROOT / "notebooks" / "zh"}


def _home(lang: str, folder: Path | None = None):
    """The home page's data of the workshop in ``lang`` (serving ``folder``, by default
    that language's notebooks), as the template imports it (a Jinja module)."""
    import jinja2

    from funnelsim import i18n

    with i18n.language(lang):  # the server's FUNNELSIM_LANG
        source = _load_serve().home_page_data(folder or FOLDERS[lang])
    return jinja2.Environment().from_string(source).module


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_page_names_the_kit_and_each_notebook_by_its_title(lang):
    """Each workshop's home page is in its notebooks' language, lists them (and only
    them) by their first headings, and says how to start the other workshop."""
    from funnelsim import i18n

    home = _home(lang)
    notebooks = sorted(FOLDERS[lang].glob("*.ipynb"))
    assert home.lang == lang
    with i18n.language(lang):
        assert home.words == {
            "title": t("workshop.home.title"),
            "pick": t("workshop.home.pick"),
            "other": t("workshop.home.other"),
        }
    other = {"en": "make workshop FUNNELSIM_LANG=zh", "zh": "make workshop"}[lang]
    assert home.other_command == other
    assert home.hidden == (["zh"] if lang == "en" else [])
    assert set(home.titles) == {p.name for p in notebooks}  # notebooks/zh left out in en
    for path in notebooks:
        title = home.titles[path.name]
        assert path.name not in title and path.stem not in title
        number = path.name.split("-")[0]
        if number != "00":
            assert title.startswith(f"{number} · "), title
        assert title == _first_heading(path)
        assert bool(re.search(f"[{_CJK}]{{4}}", title)) == (lang == "zh"), title
    assert len(set(home.titles.values())) == len(home.titles)
    # the folder decides the page's language: FUNNELSIM_LANG=zh with notebooks/ given
    # (English text, Chinese kernels) keeps an English home page
    assert _home("zh", FOLDERS["en"]).lang == "en"


def test_english_catalogue_titles_are_the_notebooks_headings():
    """The catalogue's ``workshop.title.NN`` (translated for the home page) keep up with
    the notebooks' own first headings."""
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        assert t(f"workshop.title.{path.name[:2]}") == _first_heading(path), path.name


def test_dashboards_show_no_instructions_for_jupyterlab():
    """Markdown a dashboard shows (every cell but those the server's tags remove) never
    tells the room to Run All or to click the three dots of a folded solution."""
    import nbformat

    removed = set(_load_serve().REMOVED_TAGS)
    assert {"exercise", "solution", "lab-only"} <= removed

    shown = []
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and not removed & set(cell.metadata.get("tags", [])):
                shown.extend(f"{path.name}: {w!r}" for w in LAB_WORDS if w in cell.source.lower())
    assert shown == []


def test_the_template_serves_the_kits_chinese_font(tmp_path):
    """The @font-faces name files of the copy: the charts' static Regular Noto Sans SC,
    and the same font cut to the kit's own Chinese characters, which it has every one of
    (catalogue, notebooks in both languages, sample logs)."""
    from fontTools.ttLib import TTFont

    serve = _load_serve()
    dest = serve.install_template(tmp_path)
    css = (dest / "static" / "funnelsim.css").read_text(encoding="utf-8")
    refs = re.findall(r"url\(\"?([^\")]+)\"?\)", css)
    assert refs[0] == "fonts/NotoSansSC-Regular.ttf" and len(refs) == 2
    font = dest / "static" / refs[0]
    assert font.read_bytes() == fs.fonts.font_path().read_bytes()
    cut = dest / "static" / refs[1]
    assert cut.suffix == ".woff" and cut.stat().st_size < font.stat().st_size / 20
    chars = serve.kit_characters()
    catalogue = (ROOT / "funnelsim" / "locales" / "zh.json").read_text(encoding="utf-8")
    assert set(re.findall(f"[{_CJK}]", catalogue)) <= set(chars)
    cmap = TTFont(cut).getBestCmap()
    assert [c for c in chars if ord(c) not in cmap] == []
    assert css.rindex("fonts/NotoSansSC-kit-") > css.index("fonts/NotoSansSC-Regular.ttf")
    assert (dest / "static" / "fonts" / "OFL.txt").is_file()  # its licence travels with it
    for page in ("index.html.j2", "page.html"):  # dashboards and the home page
        assert "static/funnelsim.css" in (dest / page).read_text(encoding="utf-8")


def test_home_page_in_the_browser(server, page):
    watch = _Watch(page, server)
    page.goto(server, wait_until="networkidle")
    assert page.title() == t("workshop.home.title")
    assert page.locator("h1").inner_text() == t("workshop.home.title")
    shown = page.locator("a[href*='/voila/render/']").all_inner_texts()
    assert [s.strip() for s in shown] == list(_home("en").titles.values())
    assert not [s for s in shown if ".ipynb" in s]
    # how to start the Chinese workshop
    assert "make workshop FUNNELSIM_LANG=zh" in page.locator(".funnelsim-other").inner_text()
    assert page.evaluate("document.documentElement.lang") == "en"
    # the index as a dashboard: its words, not JupyterLab's instructions
    page.goto(f"{server}voila/render/00-index.ipynb", wait_until="load", timeout=180_000)
    page.get_by_text(_first_heading(ROOT / "notebooks" / "00-index.ipynb")).wait_for()
    page.locator(".widget-toggle-buttons").wait_for()  # the language switch: cells ran
    text = page.locator("body").inner_text().lower()
    assert [w for w in LAB_WORDS if w in text] == []
    assert watch.problems == []


_MARK_CJK = """(cjk) => {
  const pattern = new RegExp('[' + cjk + ']', 'g');
  const counts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.hasAttribute('data-cjk') || el.closest('script, style, option')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;  // not shown
    // nor is a folded answer (a closed <details> keeps its boxes but draws nothing)
    if (el.closest('details:not([open]) > :not(summary)') || !el.checkVisibility()) continue;
    let count = 0;
    for (const c of el.childNodes)
      if (c.nodeType === 3) count += (c.data.match(pattern) || []).length;
    if (!count) continue;
    el.setAttribute('data-cjk', String(counts.length));
    counts.push([el.innerText.slice(0, 60), count]);
  }
  return counts;
}"""


def _chinese_not_in_the_font(page) -> list[str]:
    """Every shown element whose text has Chinese characters, unless Chromium drew all of
    them with the served Noto Sans SC (its used fonts, from the DevTools protocol)."""
    page.evaluate(
        "document.querySelectorAll('[data-cjk]').forEach(e => e.removeAttribute('data-cjk'))"
    )
    counts = page.evaluate(_MARK_CJK, _CJK)
    assert counts, "no Chinese text on the page"
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-cjk]"})
        assert len(nodes["nodeIds"]) == len(counts)
        wrong = []
        for node in nodes["nodeIds"]:
            attributes = cdp.send("DOM.getAttributes", {"nodeId": node})["attributes"]
            text, count = counts[int(attributes[attributes.index("data-cjk") + 1])]
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            served = sum(
                f["glyphCount"]
                for f in fonts
                if f["familyName"] == fs.fonts.FAMILY and f["isCustomFont"]
            )
            if served < count:
                wrong.append(f"{text!r}: {count} Chinese characters, fonts used {fonts}")
        return wrong
    finally:
        cdp.detach()


_LAYOUT = """() => {
  const problems = [];
  const room = (el) => {
    const cs = getComputedStyle(el);
    return el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  };
  const need = (el) => {
    if (el.tagName === 'SELECT') {  // the chosen option's words, in the menu's font
      const ctx = document.createElement('canvas').getContext('2d');
      const cs = getComputedStyle(el);
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const option = el.options[el.selectedIndex];
      return ctx.measureText(option ? option.text : '').width;
    }
    const range = document.createRange();
    range.selectNodeContents(el);
    return range.getBoundingClientRect().width;
  };
  const words = (el) => (el.tagName === 'SELECT'
    ? (el.options[el.selectedIndex] || {}).text : el.innerText || '').trim();
  const shown = (el) => el.getBoundingClientRect().width > 0;
  for (const slider of document.querySelectorAll('.widget-hslider')) {
    const track = slider.querySelector('.noUi-base');
    const width = track.getBoundingClientRect().width;
    if (width < 150) problems.push(`slider "${words(slider)}": a track of ${width.toFixed(0)} px`);
  }
  const texts = '.widget-readout, .widget-dropdown > select, .widget-toggle-button, '
    + '.widget-button, .widget-inline-hbox > .widget-label';
  for (const el of document.querySelectorAll(texts)) {
    if (!shown(el)) continue;
    if (need(el) > room(el) + 1 || el.scrollWidth > el.clientWidth + 1)
      problems.push(
        `"${words(el)}" clipped: ${need(el).toFixed(0)} px in ${room(el).toFixed(0)} px`);
    const control = el.parentElement.closest('.jupyter-widgets');
    if (!control) continue;  // a widget of its own (a button), checked above
    const [r, c] = [el.getBoundingClientRect(), control.getBoundingClientRect()];
    if (r.right > c.right + 1 || r.bottom > c.bottom + 1 || r.left < c.left - 1)
      problems.push(`"${words(el)}" spills out of its control`);
  }
  for (const grid of document.querySelectorAll('.widget-gridbox')) {
    const boxes = [...grid.children].filter(shown).map(e => [words(e), e.getBoundingClientRect()]);
    for (const [a, ra] of boxes) for (const [b, rb] of boxes) {
      const overlap = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const rows = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (a < b && overlap > 1 && rows > 1) problems.push(`"${a}" overlaps "${b}"`);
    }
    if (grid.scrollWidth > grid.clientWidth + 1) problems.push('the controls overflow the app');
  }
  const small = '.widget-label, .widget-readout, .widget-button, .widget-toggle-button, '
    + '.widget-dropdown > select, .widget-text input, .widget-html-content';
  for (const el of document.querySelectorAll(small)) {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (shown(el) && size < 14) problems.push(`"${words(el).slice(0, 40)}": ${size} px text`);
  }
  return problems;
}"""


_HEADINGS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .filter(h => h.getBoundingClientRect().width > 0 && h.innerText.trim())
  .map(h => [h.innerText.trim().slice(0, 40), Number(getComputedStyle(h).fontWeight)])"""


@pytest.mark.parametrize("notebook", SIZED)
def test_dashboard_controls_and_chinese_font(server, page, notebook):
    """Issue #12, in Chromium, the English notebook and then its Chinese twin
    (notebooks/zh: narrative, labels and summaries in Chinese), at window widths 1280
    and 1920: every slider has a track of at least 150 px to drag, no readout, menu,
    button or description is clipped, widget text is at least 14 px; every Chinese
    character on the page is drawn with the Noto Sans SC the workshop serves (the
    browser here has no Chinese font of its own); and the Chinese page's headings
    (narrative and app titles) are in the regular weight, the only one that font has,
    where the English page's stay bold."""
    english = page.context.new_page()  # a tab of its own, closed as a visitor closes it
    english.set_default_timeout(60_000)
    watches = [_Watch(english, server), _Watch(page, server)]
    for lang, tab in (("en", english), ("zh", page)):
        path = notebook if lang == "en" else f"zh/{notebook}"
        if lang == "zh":
            english.close(run_before_unload=True)
        tab.goto(f"{server}voila/render/{path}", wait_until="load", timeout=180_000)
        tab.locator(".widget-hslider").first.wait_for()
        assert tab.evaluate("document.documentElement.lang") == lang
        if lang == "zh":
            heading = _first_heading(ROOT / "notebooks" / "zh" / notebook)
            assert re.search(f"[{_CJK}]", heading), heading  # a Chinese notebook
            tab.locator("h1", has_text=heading).first.wait_for()  # its narrative
            tab.wait_for_function(  # every app labelled in Chinese (its kernel speaks it)
                "(cjk) => [...document.querySelectorAll('.widget-hslider .widget-label')]"
                ".every(l => new RegExp('[' + cjk + ']').test(l.innerText))",
                arg=_CJK,
                timeout=60_000,
            )
        # The face loads when the first Chinese text is drawn (on the English page, the
        # language switch's 中文), which may come after the sliders: wait for it to load
        # rather than look once (a timeout here fails the test, with the faces loaded).
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        loaded = (
            "(family) => [...document.fonts].some("
            "f => f.status === 'loaded' && f.family.replace(/\"/g, '') === family)"
        )
        try:
            tab.wait_for_function(loaded, arg=fs.fonts.FAMILY, timeout=60_000)
        except PlaywrightTimeout:
            faces = tab.evaluate("[...document.fonts].map(f => f.family + ': ' + f.status)")
            pytest.fail(f"{fs.fonts.FAMILY} never loaded ({lang}): {faces}")
        for width in (1280, 1920):
            tab.set_viewport_size({"width": width, "height": 1000})
            tab.wait_for_timeout(200)  # the grid re-flows
            assert tab.evaluate(_LAYOUT) == [], (lang, width)
        assert _chinese_not_in_the_font(tab) == [], lang
        if lang == "zh":  # the kit's own words: the cut font served them, not the 10.6 MB
            fetched = [u for u in watches[1].urls if "/static/fonts/NotoSansSC" in u]
            assert fetched and not [u for u in fetched if u.endswith(".ttf")], fetched
        weights = tab.evaluate(_HEADINGS)
        assert weights, "no heading on the page"
        if lang == "zh":
            assert [(text, w) for text, w in weights if w != 400] == []
        else:  # the rule is the Chinese pages' only (and the check can see a bold one)
            assert [w for _, w in weights if w >= 600], weights
    assert [problem for watch in watches for problem in watch.problems] == []
