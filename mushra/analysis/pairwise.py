"""Paired comparisons between conditions: Wilcoxon signed-rank with Holm correction.

Two units of analysis, each its own Holm family:

* :func:`pairwise_wilcoxon` — one pair = the two scores a listener gave the two conditions on the
  same item (the Amazon TTS convention). This treats a listener's items as independent, which is
  optimistic (pseudo-replication, see the reference notes §5); the number of pairs is reported so
  readers can judge.
* :func:`pairwise_listener` — one pair = a listener's mean score for each condition over the items
  on which they rated both (the same (listener, item) pairs, averaged per listener), so each
  listener counts once. This is the test a reviewer asks for; on codec-mushra (Proposed 5.51 vs
  AudioDec) p is 0.030 here against 0.006 on (listener, item) pairs. It is a Wilcoxon signed-rank
  test too, rather than a paired t test: listener means of a 0–100 slider pile up at the ends of
  the scale and twenty-odd listeners are too few to lean on normality. Cohen's d_z (mean over SD
  of the listener differences) is reported beside the rank-biserial correlation because power
  calculations take it.

A pair is *untestable* when fewer than :data:`MIN_NONZERO` differences are non-zero: the most
extreme outcome of a two-sided signed-rank test on n differences has p = 2 / 2^n, which is never
below 0.05 for n < 6. Such a pair keeps its p but is left out of Holm's family (its p_holm is
null and ``untestable`` says why), since a test that cannot reject only inflates the others' m
(Tarone's argument, 1990). A pair nobody rated together is untestable for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.data import AnalysisError, conditions_of, tidy
from mushra.analysis.options import unknown_condition

ALPHA = 0.05


def _min_nonzero(alpha: float) -> int:
    """Fewest non-zero differences whose most extreme signed-rank outcome has p < alpha."""
    n = 1
    while 2.0 ** (1 - n) >= alpha:
        n += 1
    return n


MIN_NONZERO = _min_nonzero(ALPHA)  # 6
TOO_FEW = (
    f"fewer than {MIN_NONZERO} non-zero differences, so no outcome of the test could reach "
    f"p < {ALPHA:g}"
)
NO_PAIRS = "no {unit} rated both conditions"


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


def d_z(diff: np.ndarray) -> float:
    """Cohen's d_z: mean over SD of the paired differences; NaN when the SD is 0 or undefined."""
    if len(diff) < 2:
        return float("nan")
    sd = float(np.std(diff, ddof=1))
    return float(np.mean(diff) / sd) if sd > 0 else float("nan")


def blocks(df: pd.DataFrame, conditions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(listener, item) blocks × conditions matrix of scores, NaN where a cell was not rated, and
    the listener (an integer code) of each block.

    Built once with integer codes so that each of the m pairwise tests is a column lookup, not
    a merge over all ratings (the difference between seconds and a minute at 10^6 ratings).
    """
    code = pd.Index(conditions).get_indexer(df["condition"])  # -1: not among them
    sub = df[code >= 0]
    code = code[code >= 0]
    listener, _ = pd.factorize(sub["listener"])
    item, items = pd.factorize(sub["item"])
    n_items = max(len(items), 1)
    keys, block = np.unique(listener.astype(np.int64) * n_items + item, return_inverse=True)
    wide = np.full((len(keys), len(conditions)), np.nan)
    wide[block, code] = sub["score"].to_numpy()
    return wide, keys // n_items


def wide_scores(df: pd.DataFrame, conditions: list[str]) -> np.ndarray:
    """The (listener, item) blocks × conditions matrix of :func:`blocks`."""
    return blocks(df, conditions)[0]


def signed_rank(x: np.ndarray, y: np.ndarray) -> dict:
    """scipy's Wilcoxon signed-rank test on paired values, with its effect size and whether it
    can reject at all. All differences zero: statistic 0 and p 1 (no evidence of a difference)."""
    diff = x - y
    nonzero = int(np.count_nonzero(diff))
    if nonzero == 0:
        statistic, p = 0.0, 1.0
    else:
        res = stats.wilcoxon(x, y)
        statistic, p = float(res.statistic), float(res.pvalue)
    return {
        "mean_diff": float(diff.mean()),
        "statistic": statistic,
        "p": p,
        "rank_biserial": rank_biserial(diff),
        "untestable": None if nonzero >= MIN_NONZERO else TOO_FEW,
    }


def _item_pairs(x: np.ndarray, y: np.ndarray, listener: np.ndarray) -> dict:
    return {"n_pairs": int(len(x)), **signed_rank(x, y)}


def listener_means(
    x: np.ndarray, y: np.ndarray, listener: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each listener's mean of ``x`` and of ``y`` over their paired blocks, one row a listener."""
    code, _ = pd.factorize(listener)
    counts = np.bincount(code)
    return np.bincount(code, x) / counts, np.bincount(code, y) / counts


def _listener_pairs(x: np.ndarray, y: np.ndarray, listener: np.ndarray) -> dict:
    mx, my = listener_means(x, y, listener)
    return {"n_listeners": int(len(mx)), **signed_rank(mx, my), "d_z": d_z(mx - my)}


def _empty(count: str, unit: str) -> dict:
    nan = float("nan")
    return {
        count: 0,
        "mean_diff": nan,
        "statistic": nan,
        "p": nan,
        "rank_biserial": nan,
        "untestable": NO_PAIRS.format(unit=unit),
    }


def _family(
    df: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    lenient: bool,
    test: Callable[[np.ndarray, np.ndarray, np.ndarray], dict],
    empty: dict,
    refusal: str,
) -> pd.DataFrame:
    """Run ``test`` on each declared pair's (listener, item) pairs, then Holm over the testable
    ones. A pair nobody rated together is an error (``refusal``), or with ``lenient`` (strata,
    where a subgroup may lack a pair) the ``empty`` row."""
    if not pairs:
        raise AnalysisError("no pairs to compare")
    present = conditions_of(df)
    names = sorted({name for pair in pairs for name in pair})
    for name in names:
        if name not in present and not lenient:
            raise unknown_condition(name, "compare", present)
    wide, listener = blocks(df, names)
    rows = []
    for a, b in pairs:
        x, y = wide[:, names.index(a)], wide[:, names.index(b)]
        both = ~(np.isnan(x) | np.isnan(y))
        if not both.any():
            if not lenient:
                raise AnalysisError(refusal.format(a=a, b=b))
            rows.append({"a": a, "b": b, **empty})
            continue
        rows.append({"a": a, "b": b, **test(x[both], y[both], listener[both])})
    out = pd.DataFrame(rows)
    tested = out["untestable"].isna().to_numpy()
    out["p_holm"] = holm(np.where(tested, out["p"].to_numpy(dtype=float), np.nan))
    out["significant"] = out["p_holm"] < ALPHA
    return out


def pairwise_wilcoxon(
    df: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    lenient: bool = False,
    *,
    validated: bool = False,
) -> pd.DataFrame:
    """Test each declared pair (a, b) on (listener, item) pairs; Holm's correction runs across
    exactly these pairs, less the untestable ones (module docstring).

    ``scipy.stats.wilcoxon`` with its defaults (two-sided, zero_method='wilcox'); the difference
    is a − b, so a positive mean_diff means a was rated higher. When every difference is zero the
    test is undefined: statistic is 0 and p is 1 (no evidence of a difference).
    A pair nobody rated together is an error, or with ``lenient`` (strata, where a subgroup may
    lack a pair) a row of NaN that Holm's correction skips.
    """
    df = df if validated else tidy(df)
    refusal = "no (listener, item) pairs rated both {a!r} and {b!r}"
    empty = _empty("n_pairs", "(listener, item) pair")
    return _family(df, pairs, lenient, _item_pairs, empty, refusal)


def pairwise_listener(
    df: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    lenient: bool = False,
    *,
    validated: bool = False,
) -> pd.DataFrame:
    """Test each declared pair (a, b) on listener means: per listener, the mean of a and of b over
    the items on which they rated both, paired over those listeners (module docstring).

    The same Wilcoxon signed-rank test as :func:`pairwise_wilcoxon`, so the two families differ
    only in their unit of analysis; Holm's correction runs within this family alone. Columns as
    there, with n_listeners for n_pairs and Cohen's d_z added.
    """
    df = df if validated else tidy(df)
    refusal = "no listener rated both {a!r} and {b!r} on the same item"
    empty = {**_empty("n_listeners", "listener"), "d_z": float("nan")}
    return _family(df, pairs, lenient, _listener_pairs, empty, refusal)
