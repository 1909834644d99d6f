"""Pairs of conditions for the paired test types (CMOS, A/B, ABX), in one orientation each.

The platform balances the order of presentation, so one pair arrives both as (A, B) and as
(B, A). Every statistic is reported per unordered pair in one orientation: the one the
scientist declared (``compare``, written A:B), or else the two names in alphabetical order. The
rows presented the other way are flipped by the caller (a CMOS score changes sign; a preference
or an ABX answer names a condition, so it needs no flip).

Repeated rows are not refused here, unlike MUSHRA ratings: presenting a pair again (in both
orders, or an ABX pair a dozen times to one listener) is part of these designs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError
from mushra.analysis.options import unknown_condition

Pair = tuple[str, str]


def check_declared(compare: Sequence[Pair], known: set[str]) -> None:
    """Refuse a declared pair naming an unknown condition, one condition twice, or a pair
    declared in both orientations (which would leave the orientation undecided)."""
    seen: set[frozenset[str]] = set()
    for a, b in compare:
        for name in (a, b):
            if name not in known:
                raise unknown_condition(name, "compare", known)
        if a == b:
            raise AnalysisError(
                f"the pair {a}:{b} compares a condition with itself", option="compare"
            )
        if frozenset((a, b)) in seen:
            raise AnalysisError(f"the pair {a}, {b} is declared twice", option="compare")
        seen.add(frozenset((a, b)))


def orient(df: pd.DataFrame, compare: Sequence[Pair]) -> pd.DataFrame:
    """A copy with ``first`` and ``second`` (the pair in its reported orientation) and
    ``flipped`` (True where the row presented it as second, first).

    Worked out once per distinct presented pair, not per row: a crowd test has 10^5 rows but a
    few dozen pairs."""
    declared = {frozenset(p): p for p in compare}
    df = df.drop(columns=["first", "second", "flipped"], errors="ignore")  # extra columns
    presented = df[["a", "b"]].drop_duplicates()
    rows = []
    for a, b in presented.itertuples(index=False):
        one, two = declared.get(frozenset((a, b)), tuple(sorted((a, b))))
        rows.append({"a": a, "b": b, "first": one, "second": two, "flipped": a != one})
    return df.merge(pd.DataFrame(rows), on=["a", "b"], how="left", sort=False)


def reported(df: pd.DataFrame, compare: Sequence[Pair]) -> list[Pair]:
    """The pairs to report: the declared ones in their order (each must have been judged), or
    every judged pair in alphabetical order. ``df`` comes from :func:`orient`."""
    judged = set(zip(df["first"], df["second"], strict=True))
    if not compare:
        return sorted(judged)
    for a, b in compare:
        if (a, b) not in judged:
            raise AnalysisError(f"no judgement compared {a!r} and {b!r}", option="compare")
    return list(compare)


def oriented_pairs(df: pd.DataFrame, compare: Sequence[Pair]) -> tuple[pd.DataFrame, list[Pair]]:
    """The start of every pair analysis: the declared pairs checked against the data, the rows
    oriented (:func:`orient`) and the pairs to report (:func:`reported`)."""
    check_declared(compare, conditions_in(df))
    oriented = orient(df, compare)
    return oriented, reported(oriented, compare)


def sizes(df: pd.DataFrame) -> dict:
    """How many listeners and items a pair analysis rests on."""
    return {"n_listeners": int(df["listener"].nunique()), "n_items": int(df["item"].nunique())}


def rows_of(df: pd.DataFrame, pair: Pair) -> pd.DataFrame:
    """The rows of one reported pair (df from :func:`orient`)."""
    mask = (df["first"].to_numpy() == pair[0]) & (df["second"].to_numpy() == pair[1])
    return df[mask]


def conditions_in(df: pd.DataFrame) -> set[str]:
    """Every condition named in a pair."""
    return set(np.unique(np.concatenate([df["a"].unique(), df["b"].unique()])).tolist())
