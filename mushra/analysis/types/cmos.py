"""CMOS (comparison mean opinion score, ITU-T P.800 Annex E's CCR scale of −3..+3).

Input, one row per judgement: listener, item, a, b, score, where a and b are the two conditions
in the order presented and score (a whole number −3..+3) says how B compares with A (positive:
B better). The platform balances the order, so each row is first put in its pair's reported
orientation (mushra.analysis.types.pairs): a row presented the other way round has its sign
flipped, which is what the scale means (B 2 better than A is A 2 worse than B).

Per pair, in the reported orientation (a, b), ``mean`` is how b compares with a (positive: b
better), with n, listeners, SD and a listener-clustered 95 % CI (summaries). The test is
Wilcoxon's signed-rank test of the listener means against 0 (each listener counts once; a CMOS
is not normal and twenty-odd listeners are too few to lean on normality), Holm-corrected over
the pairs. The order effect (the mean when the pair was presented as a, b and as b, a) is given
as information: a scale used evenly gives the same mean both ways, and a large difference tells
a reader that listeners favoured a position.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mushra.analysis.pairwise import d_z, signed_rank
from mushra.analysis.types.inputs import pair_rows, whole_numbers
from mushra.analysis.types.pairs import (
    Pair,
    oriented_pairs,
    rows_of,
    sizes,
)
from mushra.analysis.types.summaries import CI_METHOD, clustered_mean, with_holm

COLUMNS = ("listener", "item", "a", "b", "score")
SCALE = "-3 (b much worse than a) to +3 (b much better than a)"
UNIT = "listener means against 0 (Wilcoxon signed-rank); the CI is clustered by listener"


def cmos_table(df: pd.DataFrame) -> pd.DataFrame:
    """Validate CMOS judgements (module docstring); extra columns are kept."""
    out = pair_rows(df, COLUMNS)
    out["score"] = whole_numbers(out["score"], "score", -3, 3)
    return out


def _order(rows: pd.DataFrame) -> dict:
    """The pair's mean (reported orientation) when presented each way round."""
    out = {}
    for name, flipped in (("as_reported", False), ("reversed", True)):
        values = rows.loc[rows["flipped"] == flipped, "value"]
        out[name] = {"n": int(len(values)), "mean": float(values.mean()) if len(values) else None}
    return out


def _pair(rows: pd.DataFrame, pair: Pair) -> dict:
    summary = clustered_mean(rows["value"].to_numpy(), rows["listener"])
    means = rows.groupby("listener")["value"].mean().to_numpy()
    test = signed_rank(means, np.zeros_like(means))
    return {
        "a": pair[0],
        "b": pair[1],
        **summary,
        "statistic": test["statistic"],
        "p": test["p"],
        "rank_biserial": test["rank_biserial"],
        "d_z": d_z(means),
        "untestable": test["untestable"],
        "order": _order(rows),
    }


def analyse_cmos(df: pd.DataFrame, compare: Sequence[Pair] = ()) -> dict:
    """The CMOS analysis of a frame validated by :func:`cmos_table`."""
    oriented, pairs = oriented_pairs(df, compare)
    oriented["value"] = np.where(oriented["flipped"], -oriented["score"], oriented["score"])
    return {
        "test_type": "cmos",
        "scale": SCALE,
        "n_ratings": int(len(df)),
        **sizes(df),
        "interval": CI_METHOD,
        "unit": UNIT,
        "pairs": with_holm([_pair(rows_of(oriented, p), p) for p in pairs]),
    }
