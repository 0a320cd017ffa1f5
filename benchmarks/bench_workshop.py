"""A room's load on ``make workshop`` (run by hand: ``python benchmarks/bench_workshop.py``).

Simulated visitors (Playwright pages in Debian's ``/usr/bin/chromium``, one
browser, one context per visitor) arrive over ``--ramp`` seconds, each opens
one dashboard (``--notebook``), waits for its app's first chart, moves the
app's first slider, waits for the redraw and closes the page. The server is
``workshop/serve.py`` with its own settings (as ``make workshop`` runs it),
started on a free loopback port; ``--voila-arg`` adds or replaces a Voilà
setting, as ``make workshop ARGS=...`` does.

Measured:

- time to first chart: from the start of the navigation to the app's chart
  image shown (loaded, non-empty);
- time to redraw: from the release of the slider handle to a new chart image;
- memory of the server and its kernels, sampled every ``--interval`` seconds
  in a thread, as PSS (proportional set size: each shared page is divided
  among the processes that map it, so the sum over processes is what they
  really take together; RSS counts the shared libraries of every kernel again,
  USS leaves them out). RSS and USS go to the JSON file too;
- idle: once the server's pool of pre-warmed kernels is up and quiet (one
  spare kernel per notebook, the index excepted: about 2 GB, counted in idle);
- peak, memory per visitor ((peak - idle) / most pages open at once, and the
  PSS of one visitor's kernel), and the kernels and memory ``--settle`` seconds
  after the last visitor left, against idle;
- how many visitors a laptop with ``--ram-gb`` GB holds:
  ``floor((RAM - reserve - idle) / per visitor)``, the reserve (``--reserve-gb``)
  being the operating system, the desktop and the trainer's own browser, the
  per-visitor figure the larger of the two above.

Targets (issue #12, on the 2-core machine): first chart median <= 3 s with
pre-warmed kernels; memory back within 10 % of idle after everyone leaves.
The browser runs on the same machine as the server here (in a room it runs on
the visitors' laptops), so its CPU time is reported beside the server's.

A summary table is printed and everything is written to
``benchmarks/results/bench_workshop-<date>.json`` (git ignores the folder). Not
part of ``make bench`` (``run_all.py``): it needs Chromium, and 40 visitors took
14 minutes and 14 GB (server 9 GB, browser 5 GB) on a busy 2-core machine.
``--visitors 3 --settle 10`` is a quick check (under 2 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "workshop" / "serve.py"
RESULTS = ROOT / "benchmarks" / "results"
MB = 1024 * 1024
BROWSER_EVERY = 10  # the browser's memory is sampled every 10th time (its CPU time too)
GB_MB = 1024  # MB in a GB (the laptop's RAM is in GiB, as sold)
FIRST_CHART_TARGET_S = 3.0
SETTLE_TOLERANCE = 0.10  # memory after settling within 10 % of idle

# The app's chart: an ipywidgets Image directly in an app's VBox (funnelsim.widgets.App).
CHART = ".widget-vbox > img.widget-image"
SHOWN = """(sel) => { const img = document.querySelector(sel);
  return img && img.complete && img.naturalWidth > 0 ? img.src : null; }"""
REDRAWN = """([sel, before]) => { const img = document.querySelector(sel);
  return !!img && img.src !== before && img.complete && img.naturalWidth > 0; }"""


# ------------------------------------------------------------------ pure helpers
@dataclass(frozen=True)
class TimeSummary:
    """Median, 90th percentile and maximum of some durations, in seconds."""

    n: int
    median: float
    p90: float
    max: float


def summarise_times(seconds: Sequence[float]) -> TimeSummary:
    """The median, P90 (linear interpolation between order statistics) and maximum.

    Parameters
    ----------
    seconds : sequence of float
        The durations; empty gives NaN everywhere and ``n=0``.

    Returns
    -------
    TimeSummary

    Examples
    --------
    >>> summarise_times([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    TimeSummary(n=11, median=6.0, p90=10.0, max=11.0)
    >>> summarise_times([2.5])
    TimeSummary(n=1, median=2.5, p90=2.5, max=2.5)
    """
    values = sorted(float(s) for s in seconds)
    if not values:
        nan = float("nan")
        return TimeSummary(0, nan, nan, nan)
    if len(values) == 1:
        p90 = values[0]
    else:
        p90 = statistics.quantiles(values, n=10, method="inclusive")[8]
    return TimeSummary(len(values), statistics.median(values), p90, values[-1])


def laptop_visitors(
    per_visitor_mb: float, idle_mb: float, *, ram_gb: float = 8.0, reserve_gb: float = 2.0
) -> int:
    """How many visitors a laptop holds: ``floor((RAM - reserve - idle) / per visitor)``.

    Parameters
    ----------
    per_visitor_mb : float
        Memory one more visitor adds to the server and its kernels, in MB.
    idle_mb : float
        The server with its pre-warmed kernels and nobody connected, in MB.
    ram_gb : float
        The laptop's memory, in GB (1 GB = 1024 MB).
    reserve_gb : float
        What the laptop needs besides the server: operating system, desktop and
        the trainer's own browser, in GB.

    Returns
    -------
    int
        The number of visitors, 0 when the idle server alone does not fit.

    Examples
    --------
    >>> laptop_visitors(250, 2000, ram_gb=8, reserve_gb=2)  # (8192 - 2048 - 2000) / 250
    16
    >>> laptop_visitors(250, 7000, ram_gb=8, reserve_gb=2)
    0
    """
    if per_visitor_mb <= 0:
        raise ValueError(f"per_visitor_mb must be positive, got {per_visitor_mb!r}")
    room = (ram_gb - reserve_gb) * GB_MB - idle_mb
    return max(0, math.floor(room / per_visitor_mb))


def within(value: float, reference: float, tolerance: float = SETTLE_TOLERANCE) -> bool:
    """Whether ``value`` lies within ``tolerance`` (a fraction) of ``reference``.

    Examples
    --------
    >>> within(2150, 2000), within(2250, 2000), within(1850, 2000)
    (True, False, True)
    """
    return abs(value - reference) <= tolerance * reference


# ----------------------------------------------------------------------- memory
def _is_kernel(proc: psutil.Process) -> bool:
    try:
        return any("ipykernel" in part for part in proc.cmdline())
    except psutil.Error:
        return False


@dataclass
class Sample:
    """One look at the server's process tree (MB) and the browser's."""

    t: float
    pss: float
    rss: float
    uss: float
    server_pss: float
    kernels: int
    kernel_pss: list[float]
    open_pages: int
    browser_pss: float
    available: float


class Sampler(threading.Thread):
    """Samples the memory of the server and its kernels every ``interval`` seconds, and
    the CPU time its processes and the browser's have used (the sum over every process
    seen, each at its last reading)."""

    def __init__(self, server_pid: int, interval: float, min_available_mb: float) -> None:
        super().__init__(daemon=True)
        self.count = 0
        self.browser_pss = 0.0
        self.server = psutil.Process(server_pid)
        self.me = psutil.Process()
        self.interval = interval
        self.min_available_mb = min_available_mb
        self.samples: list[Sample] = []
        self.open_pages = 0
        self.low_memory = threading.Event()
        self.cpu: dict[str, dict[int, float]] = {"server": {}, "browser": {}}
        self._halt = threading.Event()
        self.t0 = time.monotonic()
        self.lock = threading.Lock()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def cpu_seconds(self, side: str) -> float:
        with self.lock:
            return sum(self.cpu[side].values())

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.server, *self.server.children(recursive=True)]
        except psutil.Error:
            return []

    def take(self) -> Sample:
        pss = rss = uss = server_pss = browser_pss = 0.0
        kernel_pss: list[float] = []
        server_tree = self._tree()
        server_pids = {p.pid for p in server_tree}
        # The browser's many processes are slow to measure (their memory maps are long):
        # every BROWSER_EVERY-th sample only, so that measuring does not load the machine.
        self.count += 1
        browser_tree = (
            [p for p in self.me.children(recursive=True) if p.pid not in server_pids]
            if self.count % BROWSER_EVERY == 1
            else []
        )
        for side, tree in (("server", server_tree), ("browser", browser_tree)):
            for proc in tree:
                try:
                    with proc.oneshot():
                        info = proc.memory_full_info()
                        times = proc.cpu_times()
                except psutil.Error:
                    continue  # gone in between
                with self.lock:
                    self.cpu[side][proc.pid] = times.user + times.system
                if side == "browser":
                    browser_pss += info.pss / MB
                    continue
                pss += info.pss / MB
                rss += info.rss / MB
                uss += info.uss / MB
                if proc.pid == self.server.pid:
                    server_pss = info.pss / MB
                elif _is_kernel(proc):
                    kernel_pss.append(round(info.pss / MB, 1))
        if browser_tree:
            self.browser_pss = browser_pss
        browser_pss = self.browser_pss
        available = psutil.virtual_memory().available / MB
        if available < self.min_available_mb:
            self.low_memory.set()
        return Sample(
            t=round(time.monotonic() - self.t0, 2),
            pss=round(pss, 1),
            rss=round(rss, 1),
            uss=round(uss, 1),
            server_pss=round(server_pss, 1),
            kernels=len(kernel_pss),
            kernel_pss=kernel_pss,
            open_pages=self.open_pages,
            browser_pss=round(browser_pss, 1),
            available=round(available, 1),
        )

    def run(self) -> None:
        while not self._halt.is_set():
            started = time.monotonic()
            self.samples.append(self.take())
            self._halt.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def since(self, t: float) -> list[Sample]:
        return [s for s in list(self.samples) if s.t >= t]

    def now(self) -> float:
        return time.monotonic() - self.t0


def _steady(sampler: Sampler, *, quiet_s: float, limit_s: float, cpu_cores: float) -> float:
    """Wait until the kernel count has not changed for ``quiet_s`` seconds and the server's
    tree used less than ``cpu_cores`` of CPU meanwhile; return the seconds waited."""
    start = time.monotonic()
    since = time.monotonic()
    count: int | None = None
    cpu = sampler.cpu_seconds("server")
    while True:
        time.sleep(0.5)
        samples = sampler.samples
        if samples and samples[-1].kernels != count:
            count, since, cpu = (
                samples[-1].kernels,
                time.monotonic(),
                sampler.cpu_seconds("server"),
            )
        quiet = time.monotonic() - since
        if count is not None and quiet >= quiet_s:
            used = (sampler.cpu_seconds("server") - cpu) / quiet
            if used < cpu_cores:
                return time.monotonic() - start
            since, cpu = time.monotonic(), sampler.cpu_seconds("server")
        if time.monotonic() - start > limit_s:
            raise SystemExit(f"the server's kernels did not settle in {limit_s:.0f} s")


# ----------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    log_path: Path, voila_args: list[str], lang: str, serve_args: list[str] = ()
) -> tuple[subprocess.Popen, str]:
    """``workshop/serve.py`` on a free loopback port (its own process group); its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, str(SERVE), "--port", str(port), *serve_args]
    if voila_args:
        command += ["--", *voila_args]
    env = {**os.environ, "FUNNELSIM_LANG": lang}
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"the server did not answer in 180 s:\n{log_path.read_text()}")
        time.sleep(0.3)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server and its kernels (its whole process group): serve.py's own stop."""
    spec = importlib.util.spec_from_file_location("workshop_serve", SERVE)
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    serve.stop(proc)


# --------------------------------------------------------------------- visitors
@dataclass
class Visit:
    """What one visitor saw (seconds since the run's clock started, and durations)."""

    visitor: int
    arrived: float = float("nan")
    page_opened: float = float("nan")  # seconds the browser took to give the visitor a page
    first_chart: float = float("nan")
    redraw: float = float("nan")
    left: float = float("nan")
    error: str = ""
    cells_shown: int = -1  # on failure: the notebook cells the page showed by then


async def _move_slider(page) -> None:
    """Drag the first slider of the app whose chart was waited for, as far as the
    other side of its track (25 % or 75 % of it), and let go."""
    app = page.locator(".widget-vbox:has(> img.widget-image)").first
    slider = app.locator(".widget-hslider").first
    track = slider.locator(".noUi-base")
    handle = slider.locator(".noUi-handle").first
    box = await track.bounding_box()
    at = await handle.bounding_box()
    where = (at["x"] + at["width"] / 2 - box["x"]) / box["width"]
    target = 0.75 if where < 0.5 else 0.25
    await handle.drag_to(
        track, target_position={"x": target * box["width"], "y": box["height"] / 2}
    )


async def visit(browser, url: str, record: Visit, sampler: Sampler, args) -> None:
    """One visitor: open the dashboard, wait for the chart, move a slider, wait for the
    redraw, close the page; what it saw goes into ``record``."""
    record.arrived = sampler.now()
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    record.page_opened = sampler.now() - record.arrived
    timeout = args.timeout * 1000
    page.set_default_timeout(timeout)
    try:
        sampler.open_pages += 1
        start = time.monotonic()
        await page.goto(url, wait_until="commit", timeout=timeout)
        shown = await page.wait_for_function(SHOWN, arg=CHART, timeout=timeout, polling=100)
        record.first_chart = time.monotonic() - start
        before = await shown.json_value()
        await _move_slider(page)
        moved = time.monotonic()
        await page.wait_for_function(REDRAWN, arg=[CHART, before], timeout=timeout, polling=50)
        record.redraw = time.monotonic() - moved
        if args.stay:
            await asyncio.sleep(args.stay)
    except asyncio.CancelledError:
        record.error = "stopped: the machine ran low on memory"
        raise
    except Exception as error:  # one visitor's failure is reported, not fatal
        record.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        try:  # how far the page got, and what it showed
            record.cells_shown = await page.locator(".jp-Cell").count()
            shot = args.prefix.with_name(f"{args.prefix.name}-visitor{record.visitor}.png")
            await page.screenshot(path=str(shot), timeout=30_000)
        except Exception:  # a diagnosis only
            pass
    finally:
        try:
            await page.close(run_before_unload=True)  # as closing the tab: Voilà frees the kernel
        finally:
            sampler.open_pages -= 1
            record.left = sampler.now()
        await asyncio.sleep(2)  # the page's shutdown beacon leaves before its window closes
        await context.close()


async def run_visitors(url: str, sampler: Sampler, args) -> list[Visit]:
    from playwright.async_api import async_playwright

    visits = [Visit(i) for i in range(args.visitors)]
    gap = args.ramp / max(1, args.visitors - 1) if args.visitors > 1 else 0.0

    async def arrive(v: Visit) -> None:
        await asyncio.sleep(v.visitor * gap)
        await visit(browser, url, v, sampler, args)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, headless=True)
        try:
            tasks = [asyncio.create_task(arrive(v)) for v in visits]
            while not all(t.done() for t in tasks):
                if sampler.low_memory.is_set():
                    for t in tasks:
                        t.cancel()
                    break
                await asyncio.sleep(0.5)
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await browser.close()
    for v in visits:
        if not v.error and v.left != v.left:  # cancelled before arriving
            v.error = "stopped: the machine ran low on memory"
    return visits


# ---------------------------------------------------------------------- summary
def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(
    visits: list[Visit],
    idle: list[Sample],
    during: list[Sample],
    settled: list[Sample],
    args,
) -> dict:
    idle_mb = _median([s.pss for s in idle])
    idle_kernels = round(_median([s.kernels for s in idle]))
    peak = max(during, key=lambda s: s.pss)
    most_open = max(s.open_pages for s in during)
    # the visitors' kernels at the peak: the largest ones (the spares are the idle ones)
    visitor_kernels = sorted(peak.kernel_pss, reverse=True)[: max(1, most_open)]
    per_kernel = _median(visitor_kernels)
    per_visitor = (peak.pss - idle_mb) / most_open if most_open else float("nan")
    basis = max(per_visitor, per_kernel)
    settled_mb = _median([s.pss for s in settled])
    settled_kernels = round(_median([s.kernels for s in settled]))
    first = summarise_times([v.first_chart for v in visits if v.first_chart == v.first_chart])
    redraw = summarise_times([v.redraw for v in visits if v.redraw == v.redraw])
    return {
        "first_chart_s": _no_nan(asdict(first)),
        "redraw_s": _no_nan(asdict(redraw)),
        "failed_visits": sum(1 for v in visits if v.error),
        "idle_pss_mb": round(idle_mb),
        "idle_kernels": idle_kernels,
        "idle_server_pss_mb": round(_median([s.server_pss for s in idle])),
        "peak_pss_mb": round(peak.pss),
        "peak_rss_mb": round(peak.rss),
        "peak_uss_mb": round(peak.uss),
        "peak_kernels": max(s.kernels for s in during),
        "peak_open_pages": most_open,
        "per_visitor_mb": round(per_visitor),
        "visitor_kernel_pss_mb": round(per_kernel),
        "peak_browser_pss_mb": round(max(s.browser_pss for s in during)),
        "settled_pss_mb": round(settled_mb),
        "settled_kernels": settled_kernels,
        "settled_vs_idle": round(settled_mb / idle_mb - 1, 4),
        "laptop": {
            "ram_gb": args.ram_gb,
            "reserve_gb": args.reserve_gb,
            "per_visitor_mb": round(basis),
            "visitors": laptop_visitors(
                basis, idle_mb, ram_gb=args.ram_gb, reserve_gb=args.reserve_gb
            ),
        },
        "targets": {
            "first_chart_median_le_3s": first.median <= FIRST_CHART_TARGET_S,
            "memory_back_within_10pct": within(settled_mb, idle_mb),
            "kernels_back_to_idle": settled_kernels == idle_kernels,
        },
    }


def print_table(summary: dict, meta: dict) -> None:
    f, r = ({k: math.nan if v is None else v for k, v in summary[k].items()}
            for k in ("first_chart_s", "redraw_s"))  # fmt: skip
    lap = summary["laptop"]
    ok = {True: "pass", False: "FAIL"}
    rows = [
        ("visitors (arriving over)", f"{meta['visitors']} ({meta['ramp_s']:g} s), "
         f"{meta['notebook']}, failed {summary['failed_visits']}"),
        ("first chart median / P90 / max",
         f"{f['median']:.1f} / {f['p90']:.1f} / {f['max']:.1f} s"),
        ("redraw median / P90 / max", f"{r['median']:.2f} / {r['p90']:.2f} / {r['max']:.2f} s"),
        ("idle (server + spare kernels)", f"{summary['idle_pss_mb']:,} MB PSS, "
         f"{summary['idle_kernels']} kernels (server alone {summary['idle_server_pss_mb']} MB)"),
        ("peak", f"{summary['peak_pss_mb']:,} MB PSS ({summary['peak_rss_mb']:,} RSS), "
         f"{summary['peak_kernels']} kernels, {summary['peak_open_pages']} pages open"),
        ("per visitor", f"{summary['per_visitor_mb']} MB ((peak - idle) / pages open); "
         f"a visitor's kernel {summary['visitor_kernel_pss_mb']} MB PSS"),
        (f"after {meta['settle_s']:g} s settling", f"{summary['settled_pss_mb']:,} MB PSS "
         f"({summary['settled_vs_idle']:+.1%} vs idle), {summary['settled_kernels']} kernels"),
        (f"a {lap['ram_gb']:g} GB laptop holds", f"{lap['visitors']} visitors = floor(("
         f"{lap['ram_gb']:g} GB - {lap['reserve_gb']:g} GB reserve - "
         f"{summary['idle_pss_mb']:,} MB idle) / {lap['per_visitor_mb']} MB)"),
        ("CPU used: server + kernels / browser", f"{meta['cpu_server_s']:.0f} s / "
         f"{meta['cpu_browser_s']:.0f} s on {meta['cores']} cores"),
        ("  of which while visitors were on", f"{meta['cpu_visits_server_s']:.0f} s / "
         f"{meta['cpu_visits_browser_s']:.0f} s in {meta['visits_s']:.0f} s"),
        ("load average before / after", f"{meta['load_before']} / {meta['load_after']}"),
        ("target: first chart median <= 3 s", ok[summary["targets"]["first_chart_median_le_3s"]]),
        ("target: memory within 10 % of idle", ok[summary["targets"]["memory_back_within_10pct"]]),
        ("kernels back to the idle count", ok[summary["targets"]["kernels_back_to_idle"]]),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def _no_nan(record: dict) -> dict:
    """``record`` with NaN (a time never reached) as None, which JSON can hold."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in record.items()}


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=40, help="how many (default 40)")
    parser.add_argument(
        "--ramp", type=float, default=20, help="seconds over which they arrive, evenly (20)"
    )
    parser.add_argument(
        "--notebook", default="03-revenue-steadiness.ipynb", help="the dashboard they open"
    )
    parser.add_argument(
        "--stay", type=float, default=0, help="seconds a visitor stays after the redraw (0)"
    )
    parser.add_argument(
        "--settle", type=float, default=120, help="seconds to wait after all left (120)"
    )
    parser.add_argument("--interval", type=float, default=0.5, help="memory sampling (0.5 s)")
    parser.add_argument("--timeout", type=float, default=600, help="per wait, seconds (600)")
    parser.add_argument("--lang", default="en", help="FUNNELSIM_LANG of the server (en, zh)")
    parser.add_argument("--ram-gb", type=float, default=8.0, help="the laptop's memory (8)")
    parser.add_argument(
        "--reserve-gb",
        type=float,
        default=2.0,
        help="memory the laptop needs besides the server: OS, desktop, browser (2)",
    )
    parser.add_argument(
        "--min-free-gb",
        type=float,
        default=1.5,
        help="stop the visitors when this machine has less memory available (1.5)",
    )
    parser.add_argument(
        "--voila-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="a Voila setting for serve.py (repeatable), e.g. "
        "--voila-arg=--VoilaConfiguration.default_pool_size=2",
    )
    parser.add_argument(
        "--room",
        type=int,
        default=0,
        help="serve.py --room N (make workshop ROOM=N ROOM_NOTEBOOK=...): N kernels of "
        "--notebook prepared at start, their replacements held back",
    )
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not (ROOT / "notebooks" / args.notebook).is_file():
        parser.error(f"notebooks/{args.notebook} does not exist")
    if not Path(args.chromium).is_file():
        parser.error(f"no Chromium at {args.chromium}: sudo apt-get install chromium")

    serve_args = ["--room", str(args.room), "--room-notebook", args.notebook] if args.room else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    args.prefix = RESULTS / f"bench_workshop-{stamp}"
    log_path = RESULTS / f"bench_workshop-{stamp}-voila.log"
    load_before = _load()
    print(f"# load average {load_before}; {os.cpu_count()} cores; server log {log_path.name}")
    proc, url = start_server(log_path, args.voila_arg, args.lang, serve_args)
    sampler = Sampler(proc.pid, args.interval, args.min_free_gb * GB_MB)
    sampler.start()
    try:
        waited = _steady(sampler, quiet_s=5, limit_s=600, cpu_cores=0.15)
        print(f"# pre-warmed pool up and quiet after {waited:.0f} s", flush=True)
        warm_s = round(waited)
        idle_from = sampler.now()
        time.sleep(5)
        idle = sampler.since(idle_from)
        run_from = sampler.now()
        cpu_at = {side: sampler.cpu_seconds(side) for side in ("server", "browser")}
        visits = asyncio.run(run_visitors(f"{url}voila/render/{args.notebook}", sampler, args))
        left = sampler.now()
        time.sleep(args.interval * (BROWSER_EVERY + 1))  # a sample of the browser's CPU too
        cpu_visits = {side: sampler.cpu_seconds(side) - cpu_at[side] for side in cpu_at}
        during = sampler.since(run_from)
        print(
            f"# visitors done in {left - run_from:.0f} s; settling {args.settle:g} s", flush=True
        )
        time.sleep(args.settle)
        settled = sampler.since(sampler.now() - 5)
        cpu_server, cpu_browser = sampler.cpu_seconds("server"), sampler.cpu_seconds("browser")
    finally:
        try:
            sampler.stop()
        finally:
            stop_server(proc)
    meta = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()}, {platform.platform()}",
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "visitors": args.visitors,
        "ramp_s": args.ramp,
        "stay_s": args.stay,
        "settle_s": args.settle,
        "notebook": args.notebook,
        "lang": args.lang,
        "voila_args": args.voila_arg,
        "pool_up_s": warm_s,
        "load_before": load_before,
        "load_after": _load(),
        "cpu_server_s": round(cpu_server, 1),
        "cpu_browser_s": round(cpu_browser, 1),
        "cpu_visits_server_s": round(cpu_visits["server"], 1),
        "cpu_visits_browser_s": round(cpu_visits["browser"], 1),
        "visits_s": round(left - run_from, 1),
        "stopped_low_memory": sampler.low_memory.is_set(),
    }
    summary = summarise(visits, idle, during, settled, args)
    print_table(summary, meta)
    for v in visits:
        if v.error:
            print(f"visitor {v.visitor}: {v.error}")
    out = RESULTS / f"bench_workshop-{stamp}.json"
    series = [{k: v for k, v in asdict(s).items() if k != "kernel_pss"} for s in sampler.samples]
    out.write_text(
        json.dumps(
            {
                "meta": meta,
                "summary": summary,
                "visits": [_no_nan(asdict(v)) for v in visits],
                "samples": series,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"# written {out.relative_to(ROOT)}")
    return 1 if meta["stopped_low_memory"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
