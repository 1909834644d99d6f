"""Per-condition descriptive statistics (BS.1534-3 §9–§10: n, mean, SD, median, IQR, 95 % CI).

Unit of analysis. ``n``, ``mean``, ``sd``, ``median`` and ``iqr`` are over individual ratings.
Ratings from one listener are not independent, so both confidence intervals treat the
*listener* as the unit:

* ``ci95`` is a t interval centred on the mean of per-listener means (``listener_mean``), with
  n_listeners − 1 degrees of freedom. In an incomplete design that centre may differ slightly from
  ``mean``; both are reported so the reader sees which is which.
* ``ci95_bootstrap`` is a percentile bootstrap that resamples listeners as clusters and
  recomputes the pooled rating mean (so it brackets ``mean``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.data import tidy

N_BOOT = 10_000
CHUNK_CELLS = 20_000_000  # bound memory of the index matrix (n_boot × n_listeners)


def cluster_bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap pooled means from per-listener sums and counts.

    ``sums`` and ``counts`` have shape (n_listeners, k); the result has shape (n_boot, k) and
    holds, for each resample of listeners drawn with replacement, sum(sums)/sum(counts) per
    column (NaN where a resample has no rating for that column). Working on per-listener totals
    keeps the cost at n_boot × n_listeners regardless of the number of ratings.
    """
    sums = np.asarray(sums, dtype=float).reshape(len(sums), -1)
    counts = np.asarray(counts, dtype=float).reshape(len(counts), -1)
    n = sums.shape[0]
    out = np.empty((n_boot, sums.shape[1]))
    step = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        s = sums[idx].sum(axis=1)
        c = counts[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:stop] = np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)
    return out


def _t_interval(values: np.ndarray) -> list[float]:
    """95 % t interval for the mean of ``values``; NaN bounds with fewer than two values."""
    n = len(values)
    centre = float(np.mean(values))
    if n < 2:
        return [float("nan"), float("nan")]
    half = stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / np.sqrt(n)
    return [centre - half, centre + half]


def describe(df: pd.DataFrame, n_boot: int = N_BOOT, seed: int | None = 0) -> pd.DataFrame:
    """One row per condition with n, n_listeners, mean, sd, median, iqr, listener_mean, CIs."""
    df = tidy(df)
    rng = np.random.default_rng(seed)
    rows = []
    for condition, group in df.groupby("condition", sort=True):
        scores = group["score"].to_numpy()
        per_listener = group.groupby("listener")["score"].agg(["sum", "count", "mean"])
        q1, q3 = np.percentile(scores, [25, 75])
        boot = cluster_bootstrap_means(
            per_listener["sum"].to_numpy(), per_listener["count"].to_numpy(), n_boot, rng
        )[:, 0]
        rows.append(
            {
                "condition": condition,
                "n": int(len(scores)),
                "n_listeners": int(len(per_listener)),
                "mean": float(np.mean(scores)),
                "sd": float(np.std(scores, ddof=1)) if len(scores) > 1 else float("nan"),
                "median": float(np.median(scores)),
                "iqr": [float(q1), float(q3)],
                "listener_mean": float(per_listener["mean"].mean()),
                "ci95": _t_interval(per_listener["mean"].to_numpy()),
                "ci95_bootstrap": [float(x) for x in np.nanpercentile(boot, [2.5, 97.5])],
            }
        )
    return pd.DataFrame(rows).set_index("condition")
