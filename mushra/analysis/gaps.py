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

from mushra.analysis.bootstrap import N_BOOT, BootstrapMeans, percentile_ci
from mushra.analysis.data import AnalysisError, conditions_of, tidy


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
) -> GapResult:
    """G and R for NEW against BASE, with TOP as the upper bound; see the module docstring.

    ``boot`` (covering the three conditions) shares resamples with the descriptives.
    """
    df = df if validated else tidy(df)
    names = [new, base, top]
    present = conditions_of(df)
    for name in names:
        if name not in present:
            raise AnalysisError(f"condition {name!r} not found")
    if base == top:
        raise AnalysisError("base and top must be different conditions")
    if boot is None:
        boot = BootstrapMeans.of(df[df["condition"].isin(names)], names, n_boot, seed)
    (s_new, b_new), (s_base, b_base), (s_top, b_top) = (boot.column(c) for c in names)
    if s_top == s_base:
        raise AnalysisError(f"mean of {top!r} equals mean of {base!r}: the gap is zero")
    return GapResult(
        new=new,
        base=base,
        top=top,
        s_new=s_new,
        s_base=s_base,
        s_top=s_top,
        gap_closure=float(_g(s_new, s_base, s_top)),
        gap_closure_ci95=tuple(percentile_ci(_g(b_new, b_base, b_top))),
        relative_improvement=float(_r(s_new, s_base)),
        relative_improvement_ci95=tuple(percentile_ci(_r(b_new, b_base))),
    )
