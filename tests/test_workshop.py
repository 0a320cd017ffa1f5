"""``make workshop`` in a real browser: the dashboards load offline and react to the sliders.

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
import signal
import socket
import subprocess
import sys
import time
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
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


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
    names = {Path(h.split("?")[0]).name for h in links.evaluate_all("a => a.map(e => e.href)")}
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= names
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
