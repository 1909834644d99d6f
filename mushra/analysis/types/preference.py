"""A/B preference with "no preference": shares, exact binomial tests and Bradley–Terry.

Input, one row per judgement: listener, item, a, b, preferred, where a and b are the conditions
in the order presented and preferred names the chosen one, or is empty or "none" for no
preference (so no condition may be called "none").

Per pair, in its reported orientation (mushra.analysis.types.pairs; a preference names a
condition, so a row presented the other way round needs no flip): the shares of a, of b and of
no preference, and a two-sided exact binomial (sign) test of a's wins among the decided
judgements against 1/2 (scipy.stats.binomtest), Holm-corrected across the pairs. No-preference
judgements carry no direction and are left out of the test, as in the sign test's treatment of
zero differences. The unit is the judgement: a listener's judgements are treated as independent,
which is the convention of A/B tests in speech synthesis and is stated in the output.

With three or more conditions, Bradley–Terry strengths put all pairs on one scale
(mushra.analysis.types.bradley_terry), with a "no preference" counting half a win for each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError
from mushra.analysis.types.bradley_terry import bradley_terry
from mushra.analysis.types.inputs import first, one_of, pair_rows
from mushra.analysis.types.pairs import (
    Pair,
    conditions_in,
    oriented_pairs,
    rows_of,
    sizes,
)
from mushra.analysis.types.summaries import binomial, untestable_binomial, with_holm

COLUMNS = ("listener", "item", "a", "b", "preferred")
NONE = "none"
UNIT = "judgements (a listener's judgements are treated as independent)"
TEST = "two-sided exact binomial test of a's share of the decided judgements against 1/2"


def ab_table(df: pd.DataFrame) -> pd.DataFrame:
    """Validate A/B judgements; ``preferred`` becomes the chosen condition or "" for none."""
    out = pair_rows(df, COLUMNS)
    for column in ("a", "b"):
        named_none = (out[column].str.lower() == NONE).to_numpy()
        if named_none.any():
            raise AnalysisError(
                f"column {column!r} names a condition 'none' in row {first(named_none)}: in an "
                "A/B test 'none' means no preference; rename the condition"
            )
    chosen = out["preferred"].fillna("").astype(str).str.strip()
    out["preferred"] = chosen.where(chosen.str.lower() != NONE, "")
    decided = (out["preferred"] != "").to_numpy()
    one_of(out, "preferred", ("a", "b"), "the row's a, b or none", rows=decided)
    return out


def _pair(rows: pd.DataFrame, pair: Pair) -> dict:
    n = len(rows)
    n_a = int((rows["preferred"] == pair[0]).sum())
    n_b = int((rows["preferred"] == pair[1]).sum())
    decided = n_a + n_b
    return {
        "a": pair[0],
        "b": pair[1],
        "n": int(n),
        "n_a": n_a,
        "n_b": n_b,
        "n_none": int(n - decided),
        "share_a": n_a / n,
        "share_b": n_b / n,
        "share_none": (n - decided) / n,
        "share_a_decided": n_a / decided if decided else float("nan"),
        "p": binomial(n_a, decided, "two-sided"),
        "untestable": untestable_binomial(decided, two_sided=True, unit="decided judgement"),
    }


def win_counts(df: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """wins[i, j]: judgements preferring i to j, a no-preference counting ½ to each;
    counts[i, j]: judgements between i and j (symmetric)."""
    index = {name: i for i, name in enumerate(names)}
    a = df["a"].map(index).to_numpy()
    b = df["b"].map(index).to_numpy()
    a_won = (df["preferred"] == df["a"]).to_numpy() + 0.5 * (df["preferred"] == "").to_numpy()
    wins = np.zeros((len(names), len(names)))
    counts = np.zeros_like(wins)
    np.add.at(wins, (a, b), a_won)
    np.add.at(wins, (b, a), 1.0 - a_won)
    np.add.at(counts, (a, b), 1.0)
    return wins, counts + counts.T


def _strengths(df: pd.DataFrame) -> dict | None:
    """Bradley–Terry over every condition; None with fewer than three (the binomial test of
    the one pair says it all)."""
    names = sorted(conditions_in(df))
    if len(names) < 3:
        return None
    return bradley_terry(names, *win_counts(df, names))


def analyse_ab(df: pd.DataFrame, compare: Sequence[Pair] = ()) -> dict:
    """The A/B analysis of a frame validated by :func:`ab_table`."""
    oriented, pairs = oriented_pairs(df, compare)
    return {
        "test_type": "ab",
        "n_judgements": int(len(df)),
        **sizes(df),
        "unit": UNIT,
        "test": TEST,
        "pairs": with_holm([_pair(rows_of(oriented, p), p) for p in pairs]),
        "bradley_terry": _strengths(df),
    }
