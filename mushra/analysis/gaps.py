"""Gap closure and relative improvement between condition means (DESIGN.md §6).

G = (S_new − S_base)/(S_top − S_base)·100: the share of the base-to-top gap that NEW closes, where
TOP is the recordings (or copy-synthesis). R = (S_new − S_base)/S_base·100. Both are ratios of
pooled condition means (mean over ratings), not means of per-listener ratios, which are
unstable when a listener's denominator is near zero. CIs: bootstrap resampling listeners as
clusters (or listeners and items, ``items_random``), all three conditions from the same resample
so their correlation is kept; the interval is expanded BCa (mushra.analysis.intervals), whose
jackknife of G and R comes from the leave-one-listener-out condition means. The percentile
interval used before issue 15 covered 87 % at 8 listeners (bench/ci_coverage.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mushra.analysis.bootstrap import N_BOOT, BootstrapMeans, Replicates
from mushra.analysis.data import AnalysisError, conditions_of, tidy
from mushra.analysis.options import unknown_condition


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


def gap_closure(
    df: pd.DataFrame,
    new: str,
    base: str,
    top: str,
    n_boot: int = N_BOOT,
    seed: int | None = 0,
    boot: BootstrapMeans | None = None,
    *,
    validated: bool = False,
    items_random: bool = False,
) -> GapResult:
    """G and R for NEW against BASE, with TOP as the upper bound; see the module docstring.

    ``boot`` (covering the three conditions) shares resamples with the descriptives; without it
    the three conditions are resampled here (two-way when ``items_random``).
    """
    df = df if validated else tidy(df)
    names = [new, base, top]
    present = conditions_of(df)
    for name in names:
        if name not in present:
            raise unknown_condition(name, "gap", present)
    if base == top:
        raise AnalysisError("base and top must be different conditions", option="gap")
    if boot is None:
        subset = df[df["condition"].isin(names)]
        boot = BootstrapMeans.of(subset, names, n_boot, seed, items_random=items_random)
    means = [boot.replicates(c) for c in names]
    s_new, s_base, s_top = (m.point for m in means)
    if s_top == s_base:
        raise AnalysisError(f"mean of {top!r} equals mean of {base!r}: the gap is zero")
    g = Replicates.combine(_g, *means)
    r = Replicates.combine(_r, *means[:2])
    return GapResult(
        new=new,
        base=base,
        top=top,
        s_new=s_new,
        s_base=s_base,
        s_top=s_top,
        gap_closure=g.point,
        gap_closure_ci95=tuple(boot.ci95(g)),
        relative_improvement=r.point,
        relative_improvement_ci95=tuple(boot.ci95(r)),
    )
