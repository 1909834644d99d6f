"""ABX discrimination: can listeners tell A from B?

Input, one row per trial: listener, item, a, b, x, answer, where x is the condition X was a copy
of and answer the condition the listener matched it to; a trial is correct when answer == x.
webMUSHRA's paired-comparison page is read as ABX too (mushra.analysis.types.webmushra).

Chance is 1/2, and only doing better than chance means anything (a listener who tells A from B
but answers backwards is not a case to test for), so every test is scipy's exact binomial test
against 1/2 with ``alternative='greater'``: overall, per pair (Holm-corrected across the pairs;
a pair with too few trials for any outcome to reach p < 0.05 is left out of the family, as in
mushra.analysis.pairwise), and per listener (uncorrected: it is there to see who could hear the
difference, not to make claims). The unit is the trial; a listener's trials are treated as
independent, the convention of ABX tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mushra.analysis.types.inputs import one_of, pair_rows
from mushra.analysis.types.pairs import (
    Pair,
    oriented_pairs,
    rows_of,
    sizes,
)
from mushra.analysis.types.summaries import binomial, untestable_binomial, with_holm

COLUMNS = ("listener", "item", "a", "b", "x", "answer")
UNIT = "trials (a listener's trials are treated as independent)"
TEST = "one-sided exact binomial test of the proportion correct against 1/2 (chance)"


def abx_table(df: pd.DataFrame) -> pd.DataFrame:
    """Validate ABX trials and add ``correct``; extra columns are kept."""
    out = pair_rows(df, COLUMNS, COLUMNS)
    one_of(out, "x", ("a", "b"), "the row's a or b")
    one_of(out, "answer", ("a", "b"), "the row's a or b")
    out["correct"] = out["answer"] == out["x"]
    return out


def _score(correct: pd.Series) -> dict:
    n, k = int(len(correct)), int(correct.sum())
    return {
        "n": n,
        "correct": k,
        "proportion": k / n if n else float("nan"),
        "p": binomial(k, n, "greater"),
    }


def _pair(rows: pd.DataFrame, pair: Pair) -> dict:
    score = _score(rows["correct"])
    return {
        "a": pair[0],
        "b": pair[1],
        **score,
        "untestable": untestable_binomial(score["n"], two_sided=False, unit="trial"),
    }


def analyse_abx(df: pd.DataFrame, compare: Sequence[Pair] = ()) -> dict:
    """The ABX analysis of a frame validated by :func:`abx_table`."""
    oriented, pairs = oriented_pairs(df, compare)
    listeners = [
        {"listener": name, **_score(rows["correct"])}
        for name, rows in df.groupby("listener", sort=True)
    ]
    return {
        "test_type": "abx",
        "n_trials": int(len(df)),
        **sizes(df),
        "unit": UNIT,
        "test": TEST,
        "overall": _score(df["correct"]),
        "pairs": with_holm([_pair(rows_of(oriented, p), p) for p in pairs]),
        "listeners": listeners,
    }
