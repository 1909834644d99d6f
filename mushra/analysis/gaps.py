"""Gap closure and relative improvement between condition means (DESIGN.md §6).

G = (S_new − S_base)/(S_top − S_base)·100: the share of the base-to-top gap that NEW closes, where
TOP is the recordings (or copy-synthesis). R = (S_new − S_base)/S_base·100. Both are ratios of
pooled condition means (mean over ratings), not means of per-listener ratios, which are
unstable when a listener's denominator is near zero. CIs: percentile bootstrap resampling
listeners as clusters, all three conditions from the same resample so their correlation is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError, tidy
from mushra.analysis.descriptives import N_BOOT, cluster_bootstrap_means


@dataclass(frozen=True)
class GapResult:
    """Point estimates and 95 % listener-bootstrap CIs, with the condition means used."""

    new: str
    base: str
    top: str
    s_new: float
    s_base: float
    s_top: float
    gap_closure: float
    gap_closure_ci95: tuple[float, float]
    relative_improvement: float
    relative_improvement_ci95: tuple[float, float]


def _g(new, base, top):
    with np.errstate(invalid="ignore", divide="ignore"):
        return (new - base) / (top - base) * 100.0


def _r(new, base):
    with np.errstate(invalid="ignore", divide="ignore"):
        return (new - base) / base * 100.0


def _ci(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return (float(lo), float(hi))


def gap_closure(
    df: pd.DataFrame,
    new: str,
    base: str,
    top: str,
    n_boot: int = N_BOOT,
    seed: int | None = 0,
) -> GapResult:
    """G and R for NEW against BASE, with TOP as the upper bound; see the module docstring."""
    df = tidy(df)
    names = [new, base, top]
    for name in names:
        if name not in set(df["condition"]):
            raise AnalysisError(f"condition {name!r} not found")
    if base == top:
        raise AnalysisError("base and top must be different conditions")
    sub = df[df["condition"].isin(names)]
    sums = sub.pivot_table(index="listener", columns="condition", values="score", aggfunc="sum")
    counts = sub.pivot_table(index="listener", columns="condition", values="score", aggfunc="count")
    sums = sums.reindex(columns=names).fillna(0.0).to_numpy()
    counts = counts.reindex(columns=names).fillna(0.0).to_numpy()
    s_new, s_base, s_top = sums.sum(axis=0) / counts.sum(axis=0)
    if s_top == s_base:
        raise AnalysisError(f"mean of {top!r} equals mean of {base!r}: the gap is zero")
    boot = cluster_bootstrap_means(sums, counts, n_boot, np.random.default_rng(seed))
    return GapResult(
        new=new,
        base=base,
        top=top,
        s_new=float(s_new),
        s_base=float(s_base),
        s_top=float(s_top),
        gap_closure=float(_g(s_new, s_base, s_top)),
        gap_closure_ci95=_ci(_g(boot[:, 0], boot[:, 1], boot[:, 2])),
        relative_improvement=float(_r(s_new, s_base)),
        relative_improvement_ci95=_ci(_r(boot[:, 0], boot[:, 1])),
    )
