"""Apps of forecasts and targets (notebook 07): the forecast band and the pipeline.

Each ``make_*`` wires controls to :func:`funnelsim.lessons.outlook` or
:func:`funnelsim.lessons.pipeline_numbers` and a plot; see
:class:`funnelsim.widgets.App`.
"""

from __future__ import annotations

import functools
import html
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from .. import plotting
from .._reader import NAME_ATTR, read_csv
from .._validate import check_choice
from ..distributions import Cycle, DealSize
from ..estimate import Fit
from ..i18n import FunnelsimValueError, t
from ..lessons import Outlook, PipelineNumbers, outlook, pipeline_numbers
from ..lessons.forecast import PERIOD_UNITS
from ..pipeline import Pipeline, read_pipeline
from ..summaries import outlook_lines
from .app import (
    DEFAULT_SEED,
    WHOLE_ROW,
    WIDE,
    App,
    Control,
    app_factory,
    check_names,
    check_numbers,
    check_type,
    seed_control,
)

__all__ = ["make_forecast", "make_pipeline"]


@app_factory
def make_forecast(
    fit,
    *,
    target: float = 40,
    probability: float = 0.9,
    periods: int = 13,
    calls: int = 0,
    deal_size: DealSize | None = None,
    cycle: Cycle | None = None,
    reps: int = 2000,
    period: str = "week",
    seed: int = DEFAULT_SEED,
) -> App:
    """How many calls for the target, and how sure are we? The plan and the forecast band.

    Controls: the target (sales, or revenue with ``deal_size``), how sure
    the plan should be, the horizon in periods, the calls per period of the
    band (0: the calls the plan asks for) and the seed. The picture is the
    band of the total, cumulated period by period, with the ratios'
    uncertainty and on point estimates only, the target marked.

    Parameters
    ----------
    fit : Fit
        From :func:`funnelsim.fit` (without ``by``): the ratios and what the
        log does not know about them.
    target, probability, periods, calls : float, float, int, int
        Starting values of the controls.
    deal_size : DealSize, optional
        Revenue per deal; without it the target counts sales.
    cycle : Cycle, optional
        Delay from call to sale, in periods.
    reps : int, default 2000
        Simulated futures per update.
    period : {"week", "day", "month", "period"}
        What one period is, for the picture's axis and the sentences
        ("calls a week").
    seed : int
        Starting seed.

    Returns
    -------
    App
        ``app.result`` is a :class:`funnelsim.lessons.Outlook`: the same as
        :func:`funnelsim.lessons.outlook` with the controls' values.

    Examples
    --------
    >>> import funnelsim as fs
    >>> ratios = fs.fit(fs.datasets.load_events(), mature=60)
    >>> app = fs.widgets.make_forecast(ratios, target=40, periods=13, reps=500, seed=1)
    >>> first = app.result
    >>> first.calls_from, first.calls == int(first.plan.table["calls"].iloc[-1])
    ('plan', True)
    >>> app.controls["probability"].value = 0.5          # half sure: fewer calls
    >>> app.result.calls < first.calls
    True
    """
    check_type("fit", fit, Fit, "error.type_fit")
    check_type("deal_size", deal_size, (DealSize, type(None)), "error.type_deal_size")
    check_type("cycle", cycle, (Cycle, type(None)), "error.type_cycle")
    check_names(period=period)
    period = check_choice("period", period, PERIOD_UNITS)
    check_numbers(target=target, probability=probability)
    check_numbers(periods=periods, calls=calls, reps=reps, seed=seed, whole=True)
    measure = "revenue" if deal_size is not None else "sales"
    target_step = 1 if deal_size is None else 10_000
    controls = {
        "target": Control("number", t(f"app.fc.target_{measure}"), target, 0, 1e12, target_step),
        "probability": Control(
            "float", t("app.fc.probability"), probability, 0.5, 0.99, 0.01, ".0%"
        ),
        "periods": Control(
            "int", t("app.fc.periods", units=t(f"plot.units.{period}")), periods, 1, 52
        ),
        "calls": Control(
            "whole", t("app.fc.calls", unit=t(f"plot.unit.{period}")), calls, 0, 10**7, 10
        ),
        "seed": seed_control(seed),
    }
    futures = {"fit": fit, "reps": reps, "deal_size": deal_size, "cycle": cycle}
    return App(
        title=t("app.fc.title"),
        controls=controls,
        compute=functools.partial(_forecast_compute, futures, period),
        draw=functools.partial(_forecast_draw, period),
        describe=_forecast_summary,
        figsize=(12, 5.5),
        columns=3,
    )


def _forecast_compute(futures: Mapping[str, Any], period: str, v: Mapping[str, Any]) -> Outlook:
    return outlook(
        futures["fit"],
        target=v["target"],
        probability=v["probability"],
        calls=v["calls"] or None,
        periods=v["periods"],
        reps=futures["reps"],
        deal_size=futures["deal_size"],
        cycle=futures["cycle"],
        rng=v["seed"],
        unit=period,
    )


def _forecast_draw(period: str, o: Outlook, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_forecast(
        o.forecast, ax=axes[0], measure=o.measure, target=o.target, period=period
    )


def _forecast_summary(o: Outlook, v: Mapping[str, Any]) -> str:
    return "<br>".join(html.escape(line) for line in outlook_lines(o))


def _pipeline_text(pipeline) -> str:
    """The snapshot as the editable CSV text: every field it was read with.

    The deal, its group fields, the stage, the probability when the snapshot
    had its own column of them (or no stage), the expected close, and the
    amount: editing the text and reading it back gives the same pipeline.
    """
    deals = pipeline.deals
    cols = [c for c in ("deal", "rep", "source", "segment", "stage") if c in deals.columns]
    if "stage" not in cols or pipeline.origin != "stage":  # chances not read from the labels
        cols.append("probability")
    cols += [c for c in ("close",) if c in deals.columns]
    frame = deals[[*cols, "amount"]].copy()
    whole = np.isclose(frame["amount"], frame["amount"].round())
    if whole.all():
        frame["amount"] = frame["amount"].round().astype(np.int64)
    return frame.to_csv(index=False, lineterminator="\n")


@app_factory
def make_pipeline(
    pipeline=None,
    *,
    quota: float | None = None,
    probabilities=None,
    seed: int = DEFAULT_SEED,
) -> App:
    """A pipeline snapshot edited in the page: the weighted total against the real odds.

    The deals are a small table typed in the page (one line per deal:
    ``deal,stage,amount``; a ``probability`` column instead of ``stage``
    works too), or loaded from a CSV/Excel file with the upload button (it
    fills the table, which you can then edit). Each deal closes or not with
    its stage's chance. The picture is the distribution of the amount that
    closes against the weighted total and the quota; the summary gives the
    chance of reaching the quota and P10/P50/P90.

    Parameters
    ----------
    pipeline : Pipeline, path or DataFrame, optional
        The starting snapshot (read with :func:`funnelsim.read_pipeline`);
        by default a small made-up one.
    quota : float, optional
        Starting quota (default: the weighted total, rounded).
    probabilities : mapping, sequence or Calibration, optional
        Chances of the stages, as in :func:`funnelsim.read_pipeline`.
    seed : int
        Seed of the Monte Carlo amounts (used only for large snapshots
        with fractional amounts; smaller ones are exact).

    Returns
    -------
    App
        ``app.result`` is a :class:`PipelineNumbers`; ``app.upload`` is the
        file-upload button, ``app.upload_status`` the line beside it.

    Examples
    --------
    >>> import funnelsim as fs
    >>> app = fs.widgets.make_pipeline(quota=300_000)
    >>> rows = ["deal,stage,amount", "D1,25%,1000000", "D2,50%,200000", "D3,90%,50000"]
    >>> app.controls["deals"].value = "\\n".join(rows)      # the table, edited
    >>> app.result.weighted, round(app.result.prob_quota, 4)
    (395000.0, 0.25)
    """

    check_type(
        "pipeline",
        pipeline,
        (Pipeline, pd.DataFrame, str, os.PathLike, type(None)),
        "error.type_pipeline",
    )
    if quota is not None:
        check_numbers(quota=quota)
    check_numbers(seed=seed, whole=True)
    read = functools.partial(read_pipeline, probabilities=probabilities)
    if pipeline is None:
        pipeline = _example_deals()
    start = pipeline if isinstance(pipeline, Pipeline) else read(pipeline)
    if quota is None:
        quota = float(np.round(start.weighted, -3))
    controls = {
        "deals": W.Textarea(
            value=_pipeline_text(start),
            description=t("app.pipe.deals"),
            placeholder="deal,stage,amount",
            style=WIDE,
            continuous_update=False,
            layout=W.Layout(grid_area=WHOLE_ROW, height="11em", width="100%"),
        ),
        "quota": Control("number", t("app.pipe.quota"), quota, 0, 1e15, 10_000),
        "seed": seed_control(seed),
    }
    app = App(
        title=t("app.pipe.title"),
        controls=controls,
        compute=functools.partial(_pipeline_compute, read),
        draw=_pipeline_draw,
        describe=_pipeline_summary,
        panels=lambda v: {"ncols": 2, "width_ratios": [3, 2]},
        figsize=(15, 5.5),
        columns=2,
    )
    _add_upload(app, read)
    return app


def _example_deals() -> pd.DataFrame:
    """The small made-up snapshot the pipeline app opens with."""
    return pd.DataFrame(
        {
            "deal": [f"D{i}" for i in range(1, 9)],
            "stage": ["25%", "25%", "25%", "50%", "50%", "75%", "90%", "90%"],
            "amount": [400_000, 150_000, 90_000, 250_000, 60_000, 120_000, 80_000, 30_000],
        }
    )


def _pipeline_compute(read, v: Mapping[str, Any]) -> PipelineNumbers:
    text = v["deals"].strip()
    if not text:
        raise FunnelsimValueError("app.pipe.empty")
    # The same CSV reader as files (delimiter, blank lines, row numbers, messages).
    frame = read_csv(text.encode("utf-8"), t("app.pipe.table_name"), "utf-8", None)
    frame.attrs[NAME_ATTR] = t("app.pipe.table_name")
    return pipeline_numbers(read(frame), v["quota"], rng=v["seed"])


def _pipeline_draw(r: PipelineNumbers, axes, v: Mapping[str, Any]) -> None:
    plotting.plot_pipeline(r.pipeline, ax=axes[0], quota=r.quota, rng=v["seed"])
    plotting.plot_pipeline(r.pipeline, ax=axes[1], measure="deals")


def _pipeline_summary(r: PipelineNumbers, v: Mapping[str, Any]) -> str:
    p10, p50, p90 = (float(x) for x in r.percentiles)
    return t(
        "app.pipe.summary",
        deals=r.pipeline.n_deals,
        total=r.total,
        weighted=r.weighted,
        p_weighted=r.prob_weighted,
        quota=r.quota,
        p_quota=r.prob_quota,
        p10=p10,
        p50=p50,
        p90=p90,
    )


def _add_upload(app: App, read) -> None:
    """The upload button and its status line, above the table: a file fills the table."""
    upload = W.FileUpload(
        accept=".csv,.xlsx,.parquet", multiple=False, description=t("app.pipe.upload")
    )
    status = W.HTML()

    def load(change: object = None) -> None:
        files = upload.value
        if not files:
            return
        item = files[0]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(item["name"]).name
            path.write_bytes(bytes(item["content"]))
            try:
                loaded = read(path)
            except ValueError as exc:
                words = html.escape(" ".join(str(exc).split()))
                status.value = f'<span style="color:#b00020">{words}</span>'
                return
        status.value = html.escape(t("app.pipe.loaded", name=item["name"], deals=loaded.n_deals))
        app.controls["deals"].value = _pipeline_text(loaded)

    upload.observe(load, names="value")
    app.upload = upload
    app.upload_status = status
    children = list(app.widget.children)
    app.widget.children = (*children[:2], W.HBox([upload, status]), *children[2:])
