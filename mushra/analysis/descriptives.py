"""Per-condition descriptive statistics (BS.1534-3 §9–§10: n, mean, SD, median, IQR, 95 % CI).

Unit of analysis. ``n``, ``mean``, ``sd``, ``median`` and ``iqr`` are over individual ratings.
Ratings from one listener are not independent, so both confidence intervals treat the
*listener* as the unit:

* ``ci95`` is a t interval centred on the mean of per-listener means (``listener_mean``), with
  n_listeners − 1 degrees of freedom. In an incomplete design that centre may differ slightly from
  ``mean``; both are reported so the reader sees which is which.
* ``ci95_bootstrap`` is a bootstrap interval of the pooled rating mean (so it brackets
  ``mean``) that resamples listeners as clusters, or listeners and items independently when the
  items are a sample too (``items_random``; mushra.analysis.bootstrap). It is expanded BCa
  (mushra.analysis.intervals): the plain percentile interval it replaced (issue 15) covered only
  87–89 % at 8 listeners and 90–92 % at 12; bench/ci_coverage.py measures both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.bootstrap import N_BOOT, BootstrapMeans
from mushra.analysis.data import tidy


def _t_interval(values: np.ndarray) -> list[float]:
    """95 % t interval for the mean of ``values``; NaN bounds with fewer than two values."""
    n = len(values)
    centre = float(np.mean(values))
    if n < 2:
        return [float("nan"), float("nan")]
    half = stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / np.sqrt(n)
    return [centre - half, centre + half]


def _rating_stats(df: pd.DataFrame) -> pd.DataFrame:
    """n, mean, sd, median and quartiles of the ratings of each condition, in one pass."""
    grouped = df.groupby("condition", sort=True)["score"]
    out = grouped.agg(["count", "mean", "median"])
    out["sd"] = grouped.std(ddof=1)
    quartiles = grouped.quantile([0.25, 0.75]).unstack()
    out["q1"], out["q3"] = quartiles[0.25], quartiles[0.75]
    return out


def describe(
    df: pd.DataFrame,
    n_boot: int = N_BOOT,
    seed: int | None = 0,
    boot: BootstrapMeans | None = None,
    *,
    validated: bool = False,
    items_random: bool = False,
) -> pd.DataFrame:
    """One row per condition with n, n_listeners, mean, sd, median, iqr, listener_mean, CIs.

    ``boot`` lets a caller share one set of listener resamples across descriptives and gap
    closure; without it the conditions are resampled here with ``seed``. ``validated`` skips
    :func:`tidy` for a frame that already passed it (it costs a copy of every rating).
    ``items_random`` resamples items too (ignored when ``boot`` is given: it says how it was drawn).
    """
    df = df if validated else tidy(df)
    ratings = _rating_stats(df)
    conditions = list(ratings.index)
    if boot is None:
        boot = BootstrapMeans.of(df, conditions, n_boot, seed, items_random=items_random)
    listener_means = df.groupby(["condition", "listener"], sort=True)["score"].mean()
    rows = []
    for condition, r in ratings.iterrows():
        per_listener = listener_means.loc[condition].to_numpy()
        rows.append(
            {
                "condition": condition,
                "n": int(r["count"]),
                "n_listeners": int(len(per_listener)),
                "mean": float(r["mean"]),
                "sd": float(r["sd"]) if r["count"] > 1 else float("nan"),
                "median": float(r["median"]),
                "iqr": [float(r["q1"]), float(r["q3"])],
                "listener_mean": float(per_listener.mean()),
                "ci95": _t_interval(per_listener),
                # One listener: every resample holds them or nothing, a zero-width interval.
                "ci95_bootstrap": (
                    boot.ci95(boot.replicates(condition))
                    if len(per_listener) > 1
                    else [float("nan"), float("nan")]
                ),
            }
        )
    return pd.DataFrame(rows).set_index("condition")
