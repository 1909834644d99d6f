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

from mushra.analysis.data import AnalysisError, conditions_of, tidy

ALPHA = 0.05
NO_PAIRS = {
    "n_pairs": 0,
    "mean_diff": np.nan,
    "statistic": np.nan,
    "p": np.nan,
    "rank_biserial": np.nan,
}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), np.nan)
    tested = np.flatnonzero(~np.isnan(p))  # untestable pairs are not part of the family
    m = len(tested)
    order = tested[np.argsort(p[tested], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
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


def wide_scores(df: pd.DataFrame, conditions: list[str]) -> np.ndarray:
    """(listener, item) blocks × conditions matrix of scores, NaN where a cell was not rated.

    Built once with integer codes so that each of the m pairwise tests is a column lookup, not
    a merge over all ratings (the difference between seconds and a minute at 10^6 ratings).
    """
    code = pd.Index(conditions).get_indexer(df["condition"])  # -1: not among them
    sub = df[code >= 0]
    code = code[code >= 0]
    listener, _ = pd.factorize(sub["listener"])
    item, items = pd.factorize(sub["item"])
    _, block = np.unique(listener.astype(np.int64) * len(items) + item, return_inverse=True)
    wide = np.full((int(block.max()) + 1 if len(block) else 0, len(conditions)), np.nan)
    wide[block, code] = sub["score"].to_numpy()
    return wide


def _test_pair(x: np.ndarray, y: np.ndarray) -> dict:
    """One Wilcoxon signed-rank test on paired scores (see pairwise_wilcoxon)."""
    diff = x - y
    if np.all(diff == 0):
        statistic, p = 0.0, 1.0
    else:
        res = stats.wilcoxon(x, y)
        statistic, p = float(res.statistic), float(res.pvalue)
    return {
        "n_pairs": int(len(diff)),
        "mean_diff": float(diff.mean()),
        "statistic": statistic,
        "p": p,
        "rank_biserial": rank_biserial(diff),
    }


def pairwise_wilcoxon(
    df: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    lenient: bool = False,
    *,
    validated: bool = False,
) -> pd.DataFrame:
    """Test each declared pair (a, b); Holm's correction runs across exactly these pairs.

    ``scipy.stats.wilcoxon`` with its defaults (two-sided, zero_method='wilcox'); the difference
    is a − b, so a positive mean_diff means a was rated higher. When every difference is zero the
    test is undefined: statistic is 0 and p is 1 (no evidence of a difference).
    A pair nobody rated together is an error, or with ``lenient`` (strata, where a subgroup may
    lack a pair) a row of NaN that Holm's correction skips.
    """
    df = df if validated else tidy(df)
    if not pairs:
        raise AnalysisError("no pairs to compare")
    present = conditions_of(df)
    names = sorted({name for pair in pairs for name in pair})
    for name in names:
        if name not in present and not lenient:
            raise AnalysisError(f"condition {name!r} not found")
    wide = wide_scores(df, names)
    rows = []
    for a, b in pairs:
        x, y = wide[:, names.index(a)], wide[:, names.index(b)]
        both = ~(np.isnan(x) | np.isnan(y))
        if not both.any():
            if not lenient:
                raise AnalysisError(f"no (listener, item) pairs rated both {a!r} and {b!r}")
            rows.append({"a": a, "b": b, **NO_PAIRS})
            continue
        rows.append({"a": a, "b": b, **_test_pair(x[both], y[both])})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p"].to_numpy())
    out["significant"] = out["p_holm"] < ALPHA
    return out
