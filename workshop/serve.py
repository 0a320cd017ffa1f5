"""Serve the widget notebooks as code-free dashboards with Voilà (``make workshop``).

Voilà runs each notebook opened in the browser in its own kernel, top to
bottom, and shows the markdown, the outputs and the live widgets, never the
code. The notebooks in ``notebooks/`` are served as they are: there is no
second copy of any logic.

Before starting Voilà this installs the ``funnelsim`` Voilà template (the
files beside this script in ``template/``) into ``build/workshop/`` of this
checkout (git ignores it), which it puts first on ``JUPYTER_PATH`` for Voilà,
together with the Font Awesome stylesheets and fonts from
the ``fontawesome-free`` package, so that the page asks no CDN for anything:
the dashboards work without internet. It also copies the kit's Chinese font
(the static Regular Noto Sans SC that ``python -m funnelsim.fonts`` builds for
the charts): the template's ``@font-face`` serves it, so Chinese labels,
buttons and text render on a browser that has no Chinese font. And it writes
the notebooks' titles for the home page (:func:`home_page_data`).

One workshop, one language. ``FUNNELSIM_LANG=zh`` (``make workshop
FUNNELSIM_LANG=zh``) serves the Chinese notebooks, ``notebooks/zh/``, with a
Chinese home page, and its kernels (inheriting ``FUNNELSIM_LANG``) speak
Chinese; without it the workshop serves the English notebooks of
``notebooks/``, and its home page leaves the ``zh`` folder out. Each home page
says how to start the other. A dashboard's page declares the language its
notebook is written in (``<html lang>``), which the workshop style uses.

Voilà 0.5 leaves kernels running when their page goes away; this script
fixes that (:func:`voila_app`, see there for why) and also starts Voilà with
a culler for kernels whose page vanished without saying so, and with a small
pool of pre-warmed kernels (:data:`KERNEL_SETTINGS`).

Usage::

    [FUNNELSIM_LANG=zh] python workshop/serve.py [--ip 127.0.0.1] [--port 8866] [PATH]
        [-- VOILA_ARGS...]

``PATH`` is the notebooks folder (a page listing every notebook; by default
``notebooks/``, or ``notebooks/zh/`` when ``FUNNELSIM_LANG=zh``) or one notebook.
Anything after ``--`` goes to Voilà as it is (``--token`` asks every visitor
for the token printed at start).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from importlib import resources
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "funnelsim"
PREFIX = ROOT / "build" / "workshop"  # where main() installs the template (git ignores it)
SOURCE = Path(__file__).resolve().with_name("template")
# Font Awesome 5, the version Voilà's page asks the CDN for (``fontawesome-free@^5``).
FONTAWESOME = ("fontawesome-free", "fontawesome-free/static/fontawesome_free")
# The licence of Noto Sans SC, in the package that ships the font (funnelsim.fonts).
CJK_FONT = ("justmytype_intl_cjk", "fonts", "ofl", "notosanssc", "OFL.txt")
# Cells a dashboard leaves out: the exercises and their solutions, and instructions
# that mean something in JupyterLab only (Run All, the folded solutions' three dots).
REMOVED_TAGS = ("exercise", "solution", "lab-only")
# The home page's titles and words, written by install_template for the template to import.
HOME = "funnelsim_home.j2"
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# How a notebook says which language its text is in: it starts the kit in it
# (fs.widgets.language_switch("zh")). index.html.j2 reads the same call.
_SWITCH = re.compile(r"""language_switch\(\s*["'](\w+)["']\s*\)""")


def fontawesome_dir() -> Path:
    """The folder holding Font Awesome's ``css/`` and ``webfonts/`` in this environment."""
    name, where = FONTAWESOME
    try:
        folder = Path(distribution(name).locate_file(where))
    except PackageNotFoundError:
        folder = Path("/nonexistent")
    if not (folder / "css" / "all.min.css").is_file():
        raise SystemExit(
            f"The Font Awesome files of the {name!r} package were not found (looked in "
            f"{folder}). Install the workshop dependencies: make venv "
            f"(or pip install -e '.[notebooks]')."
        )
    return folder


def notebook_title(path: Path) -> str:
    """The first heading of a notebook's markdown, without its markup ('' if none)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        found = _HEADING.search(source if isinstance(source, str) else "".join(source))
        if found:
            return re.sub(r"[*_`]", "", found.group(1)).strip()
    return ""


def notebook_language(path: Path) -> str:
    """The language a notebook's text is written in: the one it passes to
    ``fs.widgets.language_switch`` (``"en"`` when it passes none).

    A folder's language is that of its first notebook (``"en"`` when it has none).
    """
    from funnelsim import i18n

    if path.is_dir():
        first = next(iter(sorted(path.glob("*.ipynb"))), None)
        return notebook_language(first) if first is not None else i18n.DEFAULT_LANGUAGE
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            found = _SWITCH.search(source if isinstance(source, str) else "".join(source))
            if found and found.group(1) in i18n.available_languages():
                return found.group(1)
    return i18n.DEFAULT_LANGUAGE


def language_folders(folder: Path) -> list[str]:
    """The subfolders of ``folder`` that hold its notebooks in another language
    (``notebooks/zh``): a workshop of ``folder`` neither lists nor pre-warms them."""
    from funnelsim import i18n

    return [
        lang
        for lang in i18n.available_languages()
        if lang != notebook_language(folder) and (folder / lang).is_dir()
    ]


def default_notebooks(lang: str) -> Path:
    """The notebooks a workshop in ``lang`` serves: ``notebooks/``, or ``notebooks/<lang>``."""
    from funnelsim import i18n

    return ROOT / "notebooks" if lang == i18n.DEFAULT_LANGUAGE else ROOT / "notebooks" / lang


def notebook_titles(folder: Path) -> dict[str, dict[str, str]]:
    """Every notebook under ``folder`` (its path from there, as the home page names it)
    and its title in each language of the kit.

    A notebook's title is its first heading. A notebook written in English takes its
    title in another language from the catalogue (``workshop.title.NN``, NN the number
    its file name starts with) when there is one; a notebook written in Chinese keeps
    its own heading in every language. The notebooks in another language's
    subfolder (:func:`language_folders`) are left out.
    """
    from funnelsim import i18n

    others = set(language_folders(folder))
    titles: dict[str, dict[str, str]] = {}
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .ipynb_checkpoints: the home page does not list them
        if len(relative.parts) > 1 and relative.parts[0] in others:
            continue  # notebooks/zh: the other language's workshop
        heading = notebook_title(path) or path.stem
        number = path.name.split("-", 1)[0]
        titles[relative.as_posix()] = by_lang = {}
        for lang in i18n.available_languages():
            with i18n.language(lang):
                translated = i18n.t(f"workshop.title.{number}") if number.isdigit() else ""
            keep = lang == "en" or _CJK.search(heading) or not translated
            by_lang[lang] = heading if keep else translated
    return titles


def home_page_data(folder: Path | None) -> str:
    """The Jinja file the home page imports: its language (that of the notebooks in
    ``folder``), its words, the titles, and the folders it leaves out."""
    from funnelsim import i18n
    from funnelsim.i18n import t

    serving = folder is not None and folder.is_dir()
    lang = notebook_language(folder) if serving else i18n.get_language()
    titles = notebook_titles(folder) if serving else {}
    with i18n.language(lang):
        words = {
            "title": t("workshop.home.title"),
            "pick": t("workshop.home.pick"),
            "other": t("workshop.home.other"),
        }
    other = next(code for code in i18n.available_languages() if code != lang)
    data = {
        "lang": lang,
        "words": words,
        # how to start the workshop in the other language (a command: never translated)
        "other_command": "make workshop"
        + ("" if other == i18n.DEFAULT_LANGUAGE else f" FUNNELSIM_LANG={other}"),
        "titles": {path: by_lang[lang] for path, by_lang in titles.items()},
        "hidden": language_folders(folder) if serving else [],
    }
    # JSON with every non-ASCII character escaped is also a Jinja literal.
    return "".join(
        f"{{%- set {name} = {json.dumps(value, ensure_ascii=True)} -%}}\n"
        for name, value in data.items()
    )


def install_template(
    prefix: str | os.PathLike[str] = PREFIX, notebooks: Path | None = None
) -> Path:
    """Copy the template, the Font Awesome files and the Chinese font where Voilà looks
    for templates, with the home page's titles of the notebooks in ``notebooks``.

    ``<prefix>/share/jupyter/voila/templates/funnelsim``, by default in this
    checkout's ``build/workshop/``: each checkout serves its own template, even
    when several share one Python environment (:func:`main` puts
    ``<prefix>/share/jupyter`` first on ``JUPYTER_PATH``).
    Returns that folder. Safe to run again: it refreshes the copy.
    """
    from funnelsim import fonts as kit_fonts

    dest = Path(prefix) / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    fonts = fontawesome_dir()
    shutil.copytree(SOURCE, dest, dirs_exist_ok=True)
    static = dest / "static" / "fontawesome"
    (static / "css").mkdir(parents=True, exist_ok=True)
    for css in ("all.min.css", "v4-shims.min.css"):
        shutil.copy2(fonts / "css" / css, static / "css" / css)
    shutil.copytree(fonts / "webfonts", static / "webfonts", dirs_exist_ok=True)
    shutil.copy2(fonts / "LICENSE.txt", static / "LICENSE.txt")
    # The font the charts use, for the page's @font-face (funnelsim.css), with its licence.
    font = kit_fonts.font_path()
    cjk = dest / "static" / "fonts"
    cjk.mkdir(parents=True, exist_ok=True)
    target = cjk / "NotoSansSC-Regular.ttf"
    if not target.is_file() or target.stat().st_size != font.stat().st_size:
        shutil.copyfile(font, target)
    licence = Path(str(resources.files(CJK_FONT[0]).joinpath(*CJK_FONT[1:])))
    if licence.is_file():
        shutil.copy2(licence, cjk / "OFL.txt")
    with (dest / "static" / "funnelsim.css").open("a", encoding="utf-8") as css:
        css.write(kit_font_face(cjk))
    (dest / HOME).write_text(home_page_data(notebooks), encoding="utf-8")
    return dest


# The Chinese characters of the kit's own text: its catalogue, every notebook (both
# languages) and the sample logs. A page whose Chinese is all among them loads a font
# cut to them (890 characters, 0.16 MB) instead of the whole Noto Sans SC (10.6 MB): 40
# visitors on the room's Wi-Fi fetch 6 MB of font, not 420 MB.
_KIT_TEXTS = ("funnelsim/locales/*.json", "notebooks/**/*.ipynb", "data/*.csv")


def kit_characters() -> str:
    """Every Chinese character (and CJK punctuation) of the kit's own text, sorted."""
    from funnelsim.fonts import chinese_characters

    texts = []
    for pattern in _KIT_TEXTS:
        for path in ROOT.glob(pattern):
            raw = path.read_bytes()
            for encoding in ("utf-8", "gb18030"):
                try:
                    texts.append(raw.decode(encoding))
                    break
                except UnicodeDecodeError:
                    continue
    return chinese_characters("".join(texts))


def kit_font_face(folder: Path) -> str:
    """An ``@font-face`` for the font cut to :func:`kit_characters` (written into
    ``folder`` as a WOFF file once per character set), whose ``unicode-range`` lists
    them. Appended after the whole font's face in funnelsim.css, so that a browser
    takes it for those characters and fetches the whole font only for others."""
    import hashlib

    chars = kit_characters()
    digest = hashlib.sha256(chars.encode("utf-8")).hexdigest()[:12]
    name = f"NotoSansSC-kit-{digest}.woff"
    target = folder / name
    if not target.is_file():
        from funnelsim.fonts import cut

        for old in folder.glob("NotoSansSC-kit-*.woff"):
            old.unlink()
        target.write_bytes(cut(chars))
    ranges = ", ".join(f"U+{ord(c):X}" for c in chars)
    return (
        "\n/* The kit's own Chinese characters, cut from the same font (serve.py). */\n"
        "@font-face {\n"
        '  font-family: "Noto Sans SC";\n'
        f'  src: url("fonts/{name}") format("woff");\n'
        "  font-weight: 400;\n  font-style: normal;\n  font-display: swap;\n"
        f"  unicode-range: {ranges};\n}}\n"
    )


# Kernel lifecycle (README, "Running a workshop"). A page that is closed or reloaded
# shuts its kernel down at once (voila_app below makes that work). A page that vanishes
# without saying so (a crashed browser, a laptop put to sleep, a lost network) leaves a
# kernel that nobody is connected to: the culler shuts it down after CULL_AFTER seconds
# without activity, checking every CULL_EVERY seconds. A page still open is never culled
# (cull_connected=False), however long it sits idle on a projector. Each notebook keeps
# POOL_SIZE kernel(s) that have already run it, so a visitor sees the dashboard at once;
# the pool refills after every visit. Pooled kernels are never culled. The index has no
# app and is read in the notebook list, so it gets no spare kernel (each is some 250 MB).
CULL_AFTER = 600
CULL_EVERY = 60
POOL_SIZE = 1
KERNEL_SETTINGS = (
    f"--MappingKernelManager.cull_idle_timeout={CULL_AFTER}",
    f"--MappingKernelManager.cull_interval={CULL_EVERY}",
    "--MappingKernelManager.cull_connected=False",
    "--VoilaConfiguration.preheat_kernel=True",
    f"--VoilaConfiguration.default_pool_size={POOL_SIZE}",
    "--VoilaKernelManager.preheat_denylist=00-index.ipynb",
    # A cell's output may take longer than nbclient's 4 s to arrive when many kernels
    # run their notebooks at once (a room's spares prepared at start on 2 cores); past
    # it the output is dropped and the page would show no app. Wait up to a minute.
    "--VoilaExecutor.iopub_timeout=60",
    # And a kernel may take more than Voilà's 60 s to start when a room's spares all start
    # at once: past it that spare is broken, and the visitor who draws it waits forever.
    "--VoilaExecutor.startup_timeout=600",
)


# A room arriving together (README, "How many visitors a laptop holds"): every page
# runs its notebook in a kernel of its own, 4 to 7 s of CPU; on a 2-core laptop a
# room of 40 opening the same notebook at once would wait minutes. --room N keeps N
# spare kernels of the notebook the room opens first, prepared at start, and holds
# back the replacement of a taken spare for ROOM_FILL_DELAY seconds, so that it does
# not compete with the visitors still arriving.
ROOM_FILL_DELAY = 120


def room_settings(root: Path, size: int, notebook: str) -> list[str]:
    """Voilà settings that receive a room of ``size``: that many spare kernels of
    ``notebook`` (its path under ``root``, the folder served), the usual one of every
    other notebook, and refills held back :data:`ROOM_FILL_DELAY` seconds.

    >>> room_settings(ROOT / "notebooks", 40, "03-revenue-steadiness.ipynb")[0]
    "--VoilaKernelManager.kernel_pools_config={'default': {'pool_size': 1}, \
'03-revenue-steadiness.ipynb': {'pool_size': 40}}"
    """
    if size < 1:
        raise ValueError(f"--room {size}: give the number of visitors, 1 or more")
    name = notebook if notebook.endswith(".ipynb") else notebook + ".ipynb"
    if not (root / name).is_file():
        found = sorted(p.name for p in root.glob("[0-9]*.ipynb"))
        raise ValueError(f"--room-notebook {notebook}: not in {root}; one of {', '.join(found)}")
    config = {"default": {"pool_size": POOL_SIZE}, name: {"pool_size": size}}
    return [
        f"--VoilaKernelManager.kernel_pools_config={config!r}",
        f"--VoilaKernelManager.fill_delay={ROOM_FILL_DELAY}",
    ]


def voila_app():
    """Voilà's application, whose dashboard pages set the ``_xsrf`` cookie.

    When a dashboard page is closed or reloaded, its script asks the server to
    shut the page's kernel down: a POST to ``voila/api/shutdown/<kernel id>``
    whose ``_xsrf`` field is the value of the page's ``_xsrf`` cookie, as
    Tornado's cross-site request check requires. But Voilà (0.5) sets that
    cookie only on the notebook list, never on a dashboard page: a dashboard
    opened from its own address (a bookmark, a link given to the room, the
    single notebook ``make workshop NOTEBOOK=...`` serves) sends an empty field,
    the server refuses the POST ("'_xsrf' argument missing from POST") and the
    kernel stays alive until the server stops (voila-dashboards/voila#1458).
    Here a dashboard page sets the cookie too, the way the notebook list does,
    so the check passes and the kernel is shut down. The check itself stays on.
    """
    from voila import app
    from voila.handler import VoilaHandler

    class Voila(app.Voila):
        def init_handlers(self):
            return [
                (route[0], _sets_xsrf_cookie(route[1]), *route[2:])
                if isinstance(route, tuple)
                and isinstance(route[1], type)
                and issubclass(route[1], VoilaHandler)
                else route
                for route in super().init_handlers()
            ]

    return Voila


def _sets_xsrf_cookie(handler: type) -> type:
    """``handler``, a Voilà dashboard page, setting the ``_xsrf`` cookie on every GET."""

    class DashboardHandler(handler):
        async def prepare(self, *args, **kwargs):
            prepared = super().prepare(*args, **kwargs)
            if inspect.isawaitable(prepared):
                await prepared
            if self.request.method == "GET":
                self.xsrf_token  # noqa: B018 (reading it sets the _xsrf cookie)

    return DashboardHandler


def _option(arg: str) -> str:
    """The option an argument sets: ``--A.b=1`` sets ``--A.b``."""
    return arg.split("=", 1)[0]


def voila_args(path: Path, *, ip: str, port: int, extra: list[str]) -> list[str]:
    """Voilà's command-line arguments to serve ``path`` on ``ip:port`` with the template."""
    # The notebooks of another language's subfolder (notebooks/zh in the English
    # workshop) get no pre-warmed kernel: Voilà matches each pattern at the start of a
    # notebook's full path.
    skip = language_folders(path) if path.is_dir() else []
    return [
        str(path),
        "--no-browser",
        f"--Voila.ip={ip}",
        f"--port={port}",
        f"--template={TEMPLATE}",
        "--theme=light",
        # The plain list of notebooks: Voilà's newer JavaScript file browser logs errors
        # (it asks the server for kernels that a notebook list does not have).
        "--VoilaConfiguration.classic_tree=True",
        # Show a short message, not the server's traceback, when a cell fails.
        "--show_tracebacks=False",
        # Cells for students in JupyterLab only (REMOVED_TAGS): a dashboard leaves them out.
        "--TagRemovePreprocessor.enabled=True",
        *(f"--TagRemovePreprocessor.remove_cell_tags={tag}" for tag in REMOVED_TAGS),
        # Voilà refuses a setting given twice: one of these given after "--" replaces ours.
        *(s for s in KERNEL_SETTINGS if _option(s) not in {_option(e) for e in extra}),
        *(
            f"--VoilaKernelManager.preheat_denylist={re.escape(str(path / lang) + os.sep)}"
            for lang in skip
            if "--VoilaKernelManager.preheat_denylist" not in {_option(e) for e in extra}
        ),
        *extra,
    ]


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started from this script in a process group of its own (as the
    browser tests and the load benchmark start it), kernels included: SIGTERM, then
    SIGKILL if it has not gone 15 s later."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    from funnelsim import i18n

    lang = i18n.get_language()  # FUNNELSIM_LANG, which the kernels inherit
    parser.add_argument(
        "path",
        nargs="?",
        default=str(default_notebooks(lang)),
        help="notebooks folder or one notebook (default: notebooks/, or notebooks/zh/ "
        "with FUNNELSIM_LANG=zh)",
    )
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (0.0.0.0: every network)"
    )
    parser.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    parser.add_argument(
        "--room",
        type=int,
        default=0,
        metavar="N",
        help="a room of N arriving together: N spare kernels of --room-notebook (or of the "
        f"one notebook served), their replacements held back {ROOM_FILL_DELAY} s",
    )
    parser.add_argument(
        "--room-notebook", metavar="NAME", help="the notebook the room opens first"
    )
    args = parser.parse_args(argv)
    path = Path(args.path).resolve()
    if not path.exists():
        parser.error(f"{args.path} does not exist: give the notebooks folder or one notebook")
    if args.room:
        root = path if path.is_dir() else path.parent
        first = args.room_notebook or (path.name if path.is_file() else None)
        if first is None:
            parser.error(
                "--room needs --room-notebook (ROOM_NOTEBOOK=): the notebook the "
                "room opens first, e.g. 03-revenue-steadiness"
            )
        try:
            extra = room_settings(root, args.room, first) + extra
        except ValueError as error:
            parser.error(str(error))
    print(f"funnelsim workshop ({notebook_language(path)}): {path}", flush=True)
    install_template(PREFIX, notebooks=path if path.is_dir() else None)
    data = str(PREFIX / "share" / "jupyter")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [data, *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    )
    # Voilà runs in this process: stopping this process stops the server and its kernels.
    voila_app().launch_instance(argv=voila_args(path, ip=args.ip, port=args.port, extra=extra))


if __name__ == "__main__":
    main()
