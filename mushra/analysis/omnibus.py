"""Friedman's test and Kendall's W on complete blocks: is there any difference among conditions?

A block is one (listener, item) that has a rating for every condition tested; incomplete blocks
are left out (Friedman's test needs complete blocks), and their number is reported as n_blocks so
a reader sees how much of the data the test used. The statistic carries the usual correction for
ties (as ``scipy.stats.friedmanchisquare``); it is computed here in one vectorised pass because
scipy's version loops over blocks in Python, which takes minutes at 10^5 blocks, and refuses two
conditions. Kendall's W = χ² / (n (k − 1)) is the effect size (0 = no agreement, 1 = full).

With fewer than :data:`MIN_BLOCKS` complete blocks the test is not computed (statistic, p and W
are null, n_blocks says how many there were): one block ranks the conditions once and gives W = 1
whatever the data, which reads as perfect agreement. This happens when one condition was rated
only a few times; rather than silently dropping that condition (which would change the question
the test answers), the result says the test could not be run and the report says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.data import conditions_of, tidy
from mushra.analysis.pairwise import wide_scores

EMPTY = {"statistic": None, "p": None, "kendall_w": None, "n_blocks": 0}
MIN_BLOCKS = 2  # one block always gives W = 1 (see the module docstring)


def friedman_blocks(blocks: np.ndarray) -> dict:
    """Friedman χ², p and Kendall's W for an (n_blocks × k) matrix without missing cells; null
    statistics with fewer than MIN_BLOCKS blocks or two conditions."""
    n, k = blocks.shape
    if n < MIN_BLOCKS or k < 2:
        return {**EMPTY, "n_blocks": int(n)}
    ranks = stats.rankdata(blocks, axis=1)
    low = stats.rankdata(blocks, axis=1, method="min")
    high = stats.rankdata(blocks, axis=1, method="max")
    tie_size = high - low + 1  # size of the group of equal scores each rating belongs to
    # Σ over tie groups of (t³ − t) equals Σ over ratings of (t² − 1).
    correction = 1.0 - float(np.sum(tie_size**2 - 1)) / (n * k * (k * k - 1))
    if correction <= 0:  # every block entirely tied: no ranking information at all
        return {**EMPTY, "n_blocks": int(n)}
    rank_sums = ranks.sum(axis=0)
    chi2 = (12.0 / (n * k * (k + 1)) * np.sum(rank_sums**2) - 3.0 * n * (k + 1)) / correction
    return {
        "statistic": float(chi2),
        "p": float(stats.chi2.sf(chi2, k - 1)),
        "kendall_w": float(chi2 / (n * (k - 1))),
        "n_blocks": int(n),
    }


def friedman(
    df: pd.DataFrame, conditions: list[str] | None = None, *, validated: bool = False
) -> dict:
    """Friedman's test over ``conditions`` (default: all) on complete (listener, item) blocks."""
    df = df if validated else tidy(df)
    names = sorted(conditions_of(df)) if conditions is None else list(conditions)
    wide = wide_scores(df, names)
    complete = wide[~np.isnan(wide).any(axis=1)]
    return friedman_blocks(complete)
