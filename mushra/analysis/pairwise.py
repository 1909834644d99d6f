"""Paired comparisons between conditions: Wilcoxon signed-rank with Holm correction.

Unit of analysis: one pair = the two scores a listener gave the two conditions on the same item
(the Amazon TTS convention). This treats a listener's items as independent, which is optimistic
(see the reference notes §5); the number of pairs is reported so readers can judge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.data import AnalysisError, tidy

ALPHA = 0.05


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def rank_biserial(diff: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation (R+ − R−)/(R+ + R−) over non-zero differences."""
    d = diff[diff != 0]
    if len(d) == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(d))
    plus, minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((plus - minus) / (plus + minus))


def paired_scores(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Scores of ``a`` and ``b`` matched on (listener, item); columns listener, item, a, b."""
    left = df.loc[df["condition"] == a, ["listener", "item", "score"]]
    right = df.loc[df["condition"] == b, ["listener", "item", "score"]]
    merged = left.merge(right, on=["listener", "item"], suffixes=("_a", "_b"))
    return merged.sort_values(["listener", "item"]).reset_index(drop=True)


def pairwise_wilcoxon(df: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Test each declared pair (a, b); Holm's correction runs across exactly these pairs.

    ``scipy.stats.wilcoxon`` with its defaults (two-sided, zero_method='wilcox'); the difference
    is a − b, so a positive mean_diff means a was rated higher. When every difference is zero the
    test is undefined: statistic is 0 and p is 1 (no evidence of a difference).
    """
    df = tidy(df)
    if not pairs:
        raise AnalysisError("no pairs to compare")
    conditions = set(df["condition"])
    rows = []
    for a, b in pairs:
        for name in (a, b):
            if name not in conditions:
                raise AnalysisError(f"condition {name!r} not found")
        paired = paired_scores(df, a, b)
        if paired.empty:
            raise AnalysisError(f"no (listener, item) pairs rated both {a!r} and {b!r}")
        x, y = paired["score_a"].to_numpy(), paired["score_b"].to_numpy()
        diff = x - y
        if np.all(diff == 0):
            statistic, p = 0.0, 1.0
        else:
            res = stats.wilcoxon(x, y)
            statistic, p = float(res.statistic), float(res.pvalue)
        rows.append(
            {
                "a": a,
                "b": b,
                "n_pairs": int(len(paired)),
                "mean_diff": float(diff.mean()),
                "statistic": statistic,
                "p": p,
                "rank_biserial": rank_biserial(diff),
            }
        )
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p"].to_numpy())
    out["significant"] = out["p_holm"] < ALPHA
    return out
