"""Listener-cluster bootstrap of pooled condition means (DESIGN.md §6).

Ratings from one listener are correlated, so resampling *listeners* (with all their ratings) is the
honest bootstrap for a MUSHRA test. A resample is fully described by how many times each listener
was drawn, so the resampled pooled mean of every condition is (W @ sums) / (W @ counts) with W the
(n_boot × n_listeners) matrix of draw counts: one matrix product per chunk of resamples, whatever
the number of ratings. All conditions share the same resamples, so the bootstrap of a difference
or ratio of means (gap closure) keeps the correlation between conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

N_BOOT = 10_000
CHUNK_CELLS = 5_000_000  # bound the draw-count matrix of one chunk (resamples × listeners)


def draw_counts(n_listeners: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_resamples × n_listeners) counts of how often each listener is drawn with replacement."""
    idx = rng.integers(0, n_listeners, size=(n_resamples, n_listeners))
    idx += (np.arange(n_resamples) * n_listeners)[:, None]
    flat = np.bincount(idx.ravel(), minlength=n_resamples * n_listeners)
    return flat.reshape(n_resamples, n_listeners).astype(float)


def cluster_bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap pooled means from per-listener sums and counts.

    ``sums`` and ``counts`` have shape (n_listeners, k); the result has shape (n_boot, k) and
    holds, for each resample of listeners drawn with replacement, sum(sums)/sum(counts) per
    column (NaN where a resample has no rating for that column).
    """
    sums = np.asarray(sums, dtype=float).reshape(len(sums), -1)
    counts = np.asarray(counts, dtype=float).reshape(len(counts), -1)
    n = sums.shape[0]
    out = np.empty((n_boot, sums.shape[1]))
    step = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        weights = draw_counts(n, stop - start, rng)
        s, c = weights @ sums, weights @ counts
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:stop] = np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)
    return out


def listener_totals(df: pd.DataFrame, conditions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-listener score sums and rating counts, shape (n_listeners, len(conditions))."""
    listener_code, _ = pd.factorize(df["listener"], sort=True)
    condition_code = pd.Index(conditions).get_indexer(df["condition"])
    keep = condition_code >= 0
    n_l, k = int(listener_code.max()) + 1, len(conditions)
    cell = listener_code[keep] * k + condition_code[keep]
    sums = np.bincount(cell, weights=df["score"].to_numpy()[keep], minlength=n_l * k)
    counts = np.bincount(cell, minlength=n_l * k)
    return sums.reshape(n_l, k), counts.reshape(n_l, k).astype(float)


@dataclass(frozen=True)
class BootstrapMeans:
    """Pooled means of several conditions and their shared listener-cluster bootstrap draws."""

    conditions: list[str]
    point: np.ndarray  # (k,)
    draws: np.ndarray  # (n_boot, k)

    @classmethod
    def of(
        cls, df: pd.DataFrame, conditions: list[str], n_boot: int = N_BOOT, seed: int | None = 0
    ) -> BootstrapMeans:
        sums, counts = listener_totals(df, conditions)
        with np.errstate(invalid="ignore", divide="ignore"):
            point = sums.sum(axis=0) / counts.sum(axis=0)
        draws = cluster_bootstrap_means(sums, counts, n_boot, np.random.default_rng(seed))
        return cls(conditions=list(conditions), point=point, draws=draws)

    def column(self, condition: str) -> tuple[float, np.ndarray]:
        """Point estimate and bootstrap draws of one condition's pooled mean."""
        j = self.conditions.index(condition)
        return float(self.point[j]), self.draws[:, j]


def percentile_ci(values: np.ndarray) -> list[float]:
    """95 % percentile interval over the finite draws; NaN bounds when there are none."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return [float("nan"), float("nan")]
    return [float(x) for x in np.percentile(finite, [2.5, 97.5])]
