"""Serve the widget notebooks as code-free dashboards with Voilà (``make workshop``).

Voilà runs each notebook opened in the browser in its own kernel, top to
bottom, and shows the markdown, the outputs and the live widgets, never the
code. The notebooks in ``notebooks/`` are served as they are: there is no
second copy of any logic.

Before starting Voilà this installs the ``funnelsim`` Voilà template (the
files beside this script in ``template/``) into this Python environment's
Jupyter data folder, together with the Font Awesome stylesheets and fonts from
the ``fontawesome-free`` package, so that the page asks no CDN for anything:
the dashboards work without internet.

Usage::

    python workshop/serve.py [--ip 127.0.0.1] [--port 8866] [PATH] [-- VOILA_ARGS...]

``PATH`` is the notebooks folder (a page listing every notebook, the default)
or one notebook. Anything after ``--`` goes to Voilà as it is (``--token``
asks every visitor for the token printed at start).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "funnelsim"
SOURCE = Path(__file__).resolve().with_name("template")
# Font Awesome 5, the version Voilà's page asks the CDN for (``fontawesome-free@^5``).
FONTAWESOME = ("fontawesome-free", "fontawesome-free/static/fontawesome_free")


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


def install_template(prefix: str | os.PathLike[str] = sys.prefix) -> Path:
    """Copy the template and the Font Awesome files where Voilà looks for templates.

    ``<prefix>/share/jupyter/voila/templates/funnelsim``: the environment's own
    Jupyter data folder, which Voilà searches without any configuration.
    Returns that folder. Safe to run again: it refreshes the copy.
    """
    dest = Path(prefix) / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    fonts = fontawesome_dir()
    shutil.copytree(SOURCE, dest, dirs_exist_ok=True)
    static = dest / "static" / "fontawesome"
    (static / "css").mkdir(parents=True, exist_ok=True)
    for css in ("all.min.css", "v4-shims.min.css"):
        shutil.copy2(fonts / "css" / css, static / "css" / css)
    shutil.copytree(fonts / "webfonts", static / "webfonts", dirs_exist_ok=True)
    shutil.copy2(fonts / "LICENSE.txt", static / "LICENSE.txt")
    return dest


def voila_command(path: Path, *, ip: str, port: int, extra: list[str]) -> list[str]:
    """The Voilà command line that serves ``path`` on ``ip:port`` with the template."""
    return [
        sys.executable,
        "-m",
        "voila",
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
        # The exercises and their solutions are for students in JupyterLab: a dashboard
        # leaves those cells out (tagged "exercise" / "solution" in the notebooks).
        "--TagRemovePreprocessor.enabled=True",
        "--TagRemovePreprocessor.remove_cell_tags=exercise",
        "--TagRemovePreprocessor.remove_cell_tags=solution",
        *extra,
    ]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "path",
        nargs="?",
        default=str(ROOT / "notebooks"),
        help="notebooks folder or one notebook (default: notebooks/)",
    )
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (0.0.0.0: every network)"
    )
    parser.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    args = parser.parse_args(argv)
    path = Path(args.path).resolve()
    if not path.exists():
        parser.error(f"{args.path} does not exist: give the notebooks folder or one notebook")
    install_template()
    command = voila_command(path, ip=args.ip, port=args.port, extra=extra)
    sys.stdout.flush()
    # Replace this process with Voilà's: stopping this process stops the server.
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
