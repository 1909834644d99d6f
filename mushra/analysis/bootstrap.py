"""Listener-cluster bootstrap of pooled condition means (DESIGN.md §6), and its two-way variant.

Ratings from one listener are correlated, so resampling *listeners* (with all their ratings) is the
honest bootstrap for a MUSHRA test. A resample is fully described by how many times each listener
was drawn, so the resampled pooled mean of every condition is (W @ sums) / (W @ counts) with W the
(n_boot × n_listeners) matrix of draw counts: one matrix product per chunk of resamples, whatever
the number of ratings. All conditions share the same resamples, so the bootstrap of a difference
or ratio of means (gap closure) keeps the correlation between conditions.

Intervals are expanded BCa (mushra.analysis.intervals): besides the draws they need the
leave-one-listener-out means, which per-listener sums and counts give for every condition at
once ((total − own) / (count − own), O(listeners × conditions)).

When the items are a sample too (``items_random``), listeners and items are resampled
independently and a rating weighs (draws of its listener) × (draws of its item): the two-way
("pigeonhole") bootstrap (McCullagh 2000; Owen 2007). Its variance of a mean is about
σ²_listener/L + σ²_item/I + 3·σ²_residual/(L·I): the residual term is counted three times, so
the interval is mildly conservative. We keep it so rather than subtract a variance-component
estimate: the excess is small when listener and item effects dominate (as in MUSHRA), and the
corrected variance can come out negative in small tests, which would leave no interval at all.
The acceleration then sums the listener and the item jackknife. One matrix product of
(n_boot × listeners) by (listeners × items·conditions) per chunk: listeners × items times the
listener bootstrap, so it is an option, not the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mushra.analysis.intervals import bca_interval, percentile_interval

N_BOOT = 10_000
CHUNK_CELLS = 5_000_000  # bound the matrices of one chunk (resamples × listeners, × cells)
RESAMPLE_LISTENERS = "listeners as clusters"
RESAMPLE_TWO_WAY = "listeners and items, independently (two-way)"


def draw_counts(n_listeners: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_resamples × n_listeners) counts of how often each listener is drawn with replacement."""
    idx = rng.integers(0, n_listeners, size=(n_resamples, n_listeners))
    idx += (np.arange(n_resamples) * n_listeners)[:, None]
    flat = np.bincount(idx.ravel(), minlength=n_resamples * n_listeners)
    return flat.reshape(n_resamples, n_listeners).astype(float)


def _ratio(s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """s / c, NaN where there is no rating (c == 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)


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
        out[start:stop] = _ratio(weights @ sums, weights @ counts)
    return out


def two_way_bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap pooled means resampling listeners and items independently.

    ``sums`` and ``counts`` have shape (n_listeners, n_items, k); a rating's weight in a resample
    is (draws of its listener) × (draws of its item). Result (n_boot, k) as for
    :func:`cluster_bootstrap_means`.
    """
    n_l, n_i, k = sums.shape
    flat_s, flat_c = sums.reshape(n_l, n_i * k), counts.reshape(n_l, n_i * k)
    out = np.empty((n_boot, k))
    step = max(1, CHUNK_CELLS // max(n_l + 2 * n_i * k, 1))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        w = draw_counts(n_l, stop - start, rng)
        v = draw_counts(n_i, stop - start, rng)[:, :, None]
        s = ((w @ flat_s).reshape(-1, n_i, k) * v).sum(axis=1)
        c = ((w @ flat_c).reshape(-1, n_i, k) * v).sum(axis=1)
        out[start:stop] = _ratio(s, c)
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


def cell_totals(df: pd.DataFrame, conditions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Score sums and rating counts per (listener, item, condition): (n_l, n_i, k) arrays, for
    the two-way bootstrap (dense: listeners × items × conditions cells)."""
    listener_code, _ = pd.factorize(df["listener"], sort=True)
    item_code, _ = pd.factorize(df["item"], sort=True)
    condition_code = pd.Index(conditions).get_indexer(df["condition"])
    keep = condition_code >= 0
    n_l, n_i, k = int(listener_code.max()) + 1, int(item_code.max()) + 1, len(conditions)
    cell = (listener_code[keep] * n_i + item_code[keep]) * k + condition_code[keep]
    size = n_l * n_i * k
    sums = np.bincount(cell, weights=df["score"].to_numpy()[keep], minlength=size)
    counts = np.bincount(cell, minlength=size).astype(float)
    return sums.reshape(n_l, n_i, k), counts.reshape(n_l, n_i, k)


def leave_one_out_means(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(n, k) pooled means without unit j, from per-unit sums and counts (n, k): the jackknife
    of every condition mean in O(n × k)."""
    return _ratio(sums.sum(axis=0) - sums, counts.sum(axis=0) - counts)


@dataclass(frozen=True)
class Replicates:
    """One statistic: its estimate, bootstrap draws and leave-one-out (jackknife) values, one
    array per resampled factor (listeners; and items in the two-way bootstrap)."""

    point: float
    draws: np.ndarray
    jackknife: tuple[np.ndarray, ...]

    @staticmethod
    def combine(fn: Callable[..., np.ndarray], *parts: Replicates) -> Replicates:
        """fn applied to the estimates, to each draw and to each jackknife value of ``parts``
        (which share resamples): how gap closure is built from three condition means."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return Replicates(
                point=float(fn(*(p.point for p in parts))),
                draws=fn(*(p.draws for p in parts)),
                jackknife=tuple(
                    fn(*(p.jackknife[f] for p in parts)) for f in range(len(parts[0].jackknife))
                ),
            )


@dataclass(frozen=True)
class BootstrapMeans:
    """Pooled means of several conditions and their shared bootstrap draws and jackknife."""

    conditions: list[str]
    point: np.ndarray  # (k,)
    draws: np.ndarray  # (n_boot, k)
    jackknife: tuple[np.ndarray, ...] = ()  # (n_listeners, k) [, (n_items, k)]
    resampled: str = RESAMPLE_LISTENERS

    @classmethod
    def of(
        cls,
        df: pd.DataFrame,
        conditions: list[str],
        n_boot: int = N_BOOT,
        seed: int | None = 0,
        *,
        items_random: bool = False,
    ) -> BootstrapMeans:
        """Draw the resamples once for ``conditions``: listeners as clusters, or listeners and
        items independently when ``items_random`` (see the module docstring)."""
        rng = np.random.default_rng(seed)
        if items_random:
            cells = cell_totals(df, conditions)
            by_listener = (cells[0].sum(axis=1), cells[1].sum(axis=1))
            by_item = (cells[0].sum(axis=0), cells[1].sum(axis=0))
            draws = two_way_bootstrap_means(*cells, n_boot, rng)
            jackknife = (leave_one_out_means(*by_listener), leave_one_out_means(*by_item))
        else:
            by_listener = listener_totals(df, conditions)
            draws = cluster_bootstrap_means(*by_listener, n_boot, rng)
            jackknife = (leave_one_out_means(*by_listener),)
        return cls(
            conditions=list(conditions),
            point=_ratio(by_listener[0].sum(axis=0), by_listener[1].sum(axis=0)),
            draws=draws,
            jackknife=jackknife,
            resampled=RESAMPLE_TWO_WAY if items_random else RESAMPLE_LISTENERS,
        )

    def column(self, condition: str) -> tuple[float, np.ndarray]:
        """Point estimate and bootstrap draws of one condition's pooled mean."""
        j = self.conditions.index(condition)
        return float(self.point[j]), self.draws[:, j]

    def replicates(self, condition: str) -> Replicates:
        """Estimate, draws and jackknife of one condition's pooled mean."""
        j = self.conditions.index(condition)
        return Replicates(
            point=float(self.point[j]),
            draws=self.draws[:, j],
            jackknife=tuple(values[:, j] for values in self.jackknife),
        )

    def ci95(self, rep: Replicates) -> list[float]:
        """The reported 95 % interval of a statistic of these resamples: expanded BCa."""
        return bca_interval(rep.point, rep.draws, rep.jackknife)


def percentile_ci(values: np.ndarray) -> list[float]:
    """95 % percentile interval over the finite draws; NaN bounds when there are none. The
    interval reported before issue 15, kept for comparison (bench/ci_coverage.py)."""
    return percentile_interval(values)
