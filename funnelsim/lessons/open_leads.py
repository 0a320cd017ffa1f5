"""Notebook 04: how much of a naive ratio's gap to the truth is open leads, over many logs.

:func:`open_lead_gap` simulates many logs like a sample log (from its true
parameters, :func:`funnelsim.datasets.load_truth`), reads each twice, at its
``as_of`` (open leads count as failures: the naive fit) and after every lead
has gone through, and splits the gap between the naive ratio and the truth
into its two parts: open leads (the same leads, followed to the end) and
chance (the followed ratio against the truth).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_count, check_rng, short
from ..i18n import FunnelsimValueError
from .logs import true_ratios

__all__ = ["open_lead_gap"]


def open_lead_gap(
    spec: dict, *, logs: int = 200, rng: np.random.Generator | int | None = None
) -> pd.DataFrame:
    """The naive ratio's gap to the truth over many simulated logs: open leads and chance.

    Each log is drawn as the sample log was made (``data/make_samples.py``):
    every rep's leads, split between sources, reach each stage with their
    source's ratio times the rep's factor, after a gamma lag (``lag_days``
    mean, ``lag_shape``) from the stage before. One difference: the first
    stage's times are uniform over ``start`` to ``as_of`` (round the clock,
    not working hours). A stage reached after ``as_of`` is not yet in the
    log: the **naive** ratio counts those leads as failures; the
    **followed** ratio waits for every lead.

    Parameters
    ----------
    spec : mapping
        One data set of :func:`funnelsim.datasets.load_truth` (``truth["events"]``):
        what :func:`true_ratios` reads, plus ``start``, ``as_of``, ``lag_days``
        and ``lag_shape``.
    logs : int, default 200
        How many logs to simulate.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    pandas.DataFrame
        One row per step: ``stage``, ``truth`` (:func:`true_ratios`), the
        means over the logs of ``naive`` and ``followed``; ``open_leads``
        (mean of followed - naive: what the open leads take off the ratio)
        with its standard error ``open_leads_se``, and ``chance_sd`` (the
        standard deviation of followed - truth: how far one log's ratio
        strays from the truth by chance). Ratios as shares (0.3 is 30 %).

    Examples
    --------
    >>> import funnelsim as fs
    >>> spec = fs.datasets.load_truth()["events"]
    >>> gap = fs.lessons.open_lead_gap(spec, logs=20, rng=1)
    >>> gap[["stage", "truth", "open_leads"]].round(2)
          stage  truth  open_leads
    0   connect   0.48        0.00
    1   meeting   0.24        0.01
    2  proposal   0.48        0.03
    3      sale   0.35        0.03
    """
    logs = check_count("logs", logs, minimum=2)
    gen = check_rng(rng)
    try:
        stages = list(spec["stages"])
        start, as_of = pd.Timestamp(spec["start"]), pd.Timestamp(spec["as_of"])
        span = (as_of - start) / pd.Timedelta(days=1)
        shape = float(spec["lag_shape"])
        lags = [float(spec["lag_days"][s]) for s in stages[1:]]
        first, *others = list(spec["sources"])
        probs, sizes = [], []
        for rep, share in spec["referral_share"].items():
            factors = spec["rep_factors"].get(rep, {})
            n_first = round(float(share) * int(spec["leads_per_rep"]))
            for source, n in ((first, n_first), (others[0], int(spec["leads_per_rep"]) - n_first)):
                p = [spec["ratios"][source][s] * factors.get(s, 1.0) for s in stages[1:]]
                probs.append(p)
                sizes.append(n)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise FunnelsimValueError("error.truth_spec", problem=short(repr(exc))) from None
    p = np.repeat(np.array(probs, dtype=float), sizes, axis=0)  # (leads, steps)
    n = len(p)
    time = gen.uniform(0.0, span, size=(logs, n))  # days from start to the first stage
    reached = np.ones((logs, n), dtype=bool)
    naive = np.empty((logs, len(stages) - 1))
    followed = np.empty_like(naive)
    seen_before, reached_before = np.full(logs, float(n)), np.full(logs, float(n))
    for k, mean in enumerate(lags):
        reached &= gen.random((logs, n)) < p[:, k]
        time = time + gen.gamma(shape, mean / shape, size=(logs, n))
        seen = (reached & (time <= span)).sum(axis=1).astype(float)
        total = reached.sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            naive[:, k] = seen / seen_before
            followed[:, k] = total / reached_before
        seen_before, reached_before = seen, total
    truth = true_ratios(spec)["ratio"].to_numpy()
    open_part = followed - naive
    return pd.DataFrame(
        {
            "stage": stages[1:],
            "truth": truth,
            "naive": np.nanmean(naive, axis=0),
            "followed": np.nanmean(followed, axis=0),
            "open_leads": np.nanmean(open_part, axis=0),
            "open_leads_se": np.nanstd(open_part, axis=0, ddof=1) / np.sqrt(logs),
            "chance_sd": np.nanstd(followed - truth, axis=0, ddof=1),
        }
    )
