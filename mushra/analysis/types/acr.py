"""ACR (ITU-T P.800/P.808 absolute category rating, MOS) and SMOS (speaker-similarity MOS).

Input, one row per rating: listener, item, condition, score (a whole number 1..5), and
optionally ``check`` ("" for a rating, "gold" or "trap" for a check clip) with ``expected``
(the known right score of a check clip). Check clips serve the P.808 screening only
(mushra.analysis.types.p808) and never enter a MOS. SMOS is the same analysis of a similarity
scale (1 = not at all similar to the target speaker, 5 = extremely similar); only the words
differ.

Per condition: ratings, listeners, MOS, SD and a listener-clustered 95 % CI
(mushra.analysis.types.summaries). Paired comparisons use each listener's mean of each
condition, so every listener counts once whatever number of clips they rated, and pair two
conditions over the listeners who rated both (in P.808 designs listeners rate different clips,
so pairing by item as the MUSHRA analysis does would drop most ratings). The test is Wilcoxon's
signed-rank test (scipy, as mushra.analysis.pairwise) with Holm's correction over the declared
pairs (default: all pairs), and Cohen's d_z and the rank-biserial correlation as effect sizes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError
from mushra.analysis.pairwise import d_z, signed_rank
from mushra.analysis.types.inputs import first, keys, no_nul, require, whole_numbers
from mushra.analysis.types.p808 import screen_p808
from mushra.analysis.types.pairs import Pair, check_declared
from mushra.analysis.types.summaries import CI_METHOD, clustered_mean, with_holm

COLUMNS = ("listener", "item", "condition", "score")
CHECKS = ("", "gold", "trap")
MEASURES = {
    "acr": ("MOS", "absolute category rating of quality, 1 (bad) to 5 (excellent)"),
    "smos": ("SMOS", "similarity to the target speaker, 1 (not at all) to 5 (extremely)"),
}
RULE_OFF = "screening off (every listener kept, as asked)"
UNIT = "listener means: each listener's mean of each condition, paired over listeners"


def _check_column(df: pd.DataFrame) -> pd.Series:
    """The check kind of each row: "" (a rating), "gold" or "trap"; blank means a rating."""
    if "check" not in df.columns:
        return pd.Series("", index=df.index)
    kind = df["check"].fillna("").astype(str).str.strip().str.lower()
    bad = ~kind.isin(CHECKS)
    if bad.any():
        row = first(bad)
        raise AnalysisError(
            f"column 'check' is not empty, 'gold' or 'trap' in row {row}: {df['check'].iloc[row]!r}"
        )
    return kind


def _expected(df: pd.DataFrame, kind: pd.Series) -> np.ndarray:
    """The known right score of each check row (NaN on ratings, whose ``expected`` is unread)."""
    checks = (kind != "").to_numpy()
    if not checks.any():
        return np.full(len(df), np.nan)
    if "expected" not in df.columns:
        raise AnalysisError("missing column(s): expected (gold and trap rows need it)")
    blank = checks & df["expected"].isna().to_numpy()
    if blank.any():
        row = first(blank)
        raise AnalysisError(f"column 'expected' is empty in row {row} (a {kind.iloc[row]} row)")
    # Ratings get a placeholder so that an error names the row in the whole file.
    values = whole_numbers(df["expected"].where(checks, "1"), "expected", 1, 5).astype(float)
    values[~checks] = np.nan
    return values


def _fill_check_keys(out: pd.DataFrame, kind: pd.Series) -> None:
    """Name a check row's blank item or condition after its kind ("(gold)"): a gold clip
    belongs to no condition under test, but every key must be a label."""
    for column in ("item", "condition"):
        blank = out[column].isna() | (out[column].astype(str).str.strip() == "")
        fill = (blank & (kind != "")).to_numpy()
        if fill.any():  # object first: a numeric column (item numbers) cannot take "(gold)"
            out[column] = out[column].astype(object)
            out.loc[fill, column] = "(" + kind[fill] + ")"


def _refuse_duplicates(out: pd.DataFrame) -> None:
    """Two ratings of one (listener, item, condition) would count twice in its MOS (the
    MUSHRA rule of data.tidy); check clips may repeat."""
    rated = out[out["check"] == ""]
    dup = rated.duplicated(["listener", "item", "condition"]).to_numpy()
    if dup.any():
        row = int(rated.index[first(dup)])
        who = ", ".join(f"{k}={out[k].iloc[row]}" for k in ("listener", "item", "condition"))
        raise AnalysisError(f"duplicate rating in row {row} ({who})")
    if rated.empty:
        raise AnalysisError("no ratings: every row is a gold or trap check")


def acr_table(df: pd.DataFrame) -> pd.DataFrame:
    """Validate ACR/SMOS ratings; extra columns are kept. A check row may leave item and
    condition blank."""
    require(df, COLUMNS)
    no_nul(df, [c for c in (*COLUMNS, "check", "expected") if c in df.columns])
    out = df.copy().reset_index(drop=True)
    kind = _check_column(out)
    _fill_check_keys(out, kind)
    out = keys(out, ("listener", "item", "condition"))
    out["score"] = whole_numbers(out["score"], "score", 1, 5)
    out["check"] = kind.to_numpy()
    out["expected"] = _expected(out, kind)
    _refuse_duplicates(out)
    return out


def _screen(df: pd.DataFrame, screening: bool) -> tuple[pd.DataFrame, dict]:
    """The ratings (check clips left out) of the listeners the P.808 rules keep."""
    rated = df[df["check"] == ""]
    if not screening:
        return rated.reset_index(drop=True), {"rules": [RULE_OFF], "excluded": []}
    result = screen_p808(df)
    out = {e["listener"] for e in result["excluded"]}
    kept = rated[~rated["listener"].isin(out)].reset_index(drop=True)
    if kept.empty:
        raise AnalysisError(
            "screening excluded every listener (P.808 rules); turning screening off keeps them",
            option="screening",
        )
    result["unscreened"] = [u for u in result["unscreened"] if u["listener"] not in out]
    return kept, result


def _conditions(df: pd.DataFrame) -> list[dict]:
    return [
        {"condition": name, **clustered_mean(rows["score"].to_numpy(), rows["listener"])}
        for name, rows in df.groupby("condition", sort=True)
    ]


def _pair(means: pd.DataFrame, a: str, b: str) -> dict:
    """One comparison on listener means; a pair no listener rated both of is untestable."""
    both = means[[a, b]].dropna() if {a, b} <= set(means.columns) else means.iloc[0:0]
    if both.empty:
        nan = float("nan")
        return {"a": a, "b": b, "n_listeners": 0, "mean_diff": nan, "statistic": nan, "p": nan,
                "rank_biserial": nan, "d_z": nan,
                "untestable": "no listener rated both conditions"}  # fmt: skip
    x, y = both[a].to_numpy(), both[b].to_numpy()
    return {"a": a, "b": b, "n_listeners": int(len(both)), **signed_rank(x, y), "d_z": d_z(x - y)}


def pairwise_means(df: pd.DataFrame, pairs: Sequence[Pair]) -> list[dict]:
    """Wilcoxon signed-rank on listener means for each pair (a − b), Holm over the testable."""
    means = df.pivot_table(index="listener", columns="condition", values="score", aggfunc="mean")
    return with_holm([_pair(means, a, b) for a, b in pairs])


def analyse_acr(
    df: pd.DataFrame, test_type: str, compare: Sequence[Pair] = (), screening: bool = True
) -> dict:
    """The whole ACR or SMOS analysis of a frame validated by :func:`acr_table`."""
    rated = set(df.loc[df["check"] == "", "condition"].unique().tolist())
    check_declared(compare, rated)
    kept, screened = _screen(df, screening)
    pairs = list(compare) or list(itertools.combinations(sorted(rated), 2))
    measure, scale = MEASURES[test_type]
    return {
        "test_type": test_type,
        "measure": measure,
        "scale": scale,
        "n_ratings": int(len(kept)),
        "n_listeners": int(kept["listener"].nunique()),
        "n_items": int(kept["item"].nunique()),
        "n_checks": {k: int((df["check"] == k).sum()) for k in ("gold", "trap")},
        "screening": screened,
        "interval": CI_METHOD,
        "conditions": _conditions(kept),
        "unit": UNIT,
        "pairwise": pairwise_means(kept, pairs),
    }
