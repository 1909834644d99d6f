"""Post-screening of assessors, ITU-R BS.1534-3 §4.1.2 (DESIGN.md §6).

Screening runs before any statistic, and every exclusion is returned with its rule and the
fraction that triggered it so the report can log it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mushra.analysis.data import AnalysisError, conditions_of, tidy

THRESHOLD = 90.0
MAX_FRACTION = 0.15  # more than 15 % of a listener's items → excluded
ANCHOR_ITEM_FRACTION = 0.25  # more than 25 % of listeners rate an item's mid anchor > 90 → skip

RULE_REFERENCE = "hidden reference below 90 on more than 15% of items"
RULE_MID_ANCHOR = "mid anchor above 90 on more than 15% of items"
RULE_MID_ANCHOR_SKIPPED = "mid-anchor rule skipped: no mid anchor"


@dataclass
class Screening:
    """Result of :func:`screen`: the kept ratings, the exclusions and the rules applied."""

    kept: pd.DataFrame
    exclusions: list[dict] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    skipped_items: list[str] = field(default_factory=list)

    @property
    def excluded(self) -> list[str]:
        return sorted({e["listener"] for e in self.exclusions})

    def __iter__(self):  # allows ``kept, exclusions = screen(...)``
        return iter((self.kept, self.exclusions))


def _fraction_over(df: pd.DataFrame, condition: str, below: bool) -> pd.Series:
    """Per listener: fraction of their rated items where `condition` is <90 (or >90)."""
    rows = df[df["condition"] == condition]
    flag = rows["score"] < THRESHOLD if below else rows["score"] > THRESHOLD
    return flag.groupby(rows["listener"]).mean()


def screen(
    df: pd.DataFrame,
    reference: str = "reference",
    mid_anchor: str | None = None,
    *,
    validated: bool = False,
) -> Screening:
    """Apply both §4.1.2 rules and drop every rating of excluded listeners.

    Rule 1: hidden reference < 90 on more than 15 % of the items the listener rated (the
    denominator is the listener's own items with a hidden-reference rating: incomplete designs
    are common). Rule 2: mid anchor > 90 on more than 15 % of items, counting only items where at
    most 25 % of all listeners rate the mid anchor > 90; skipped when ``mid_anchor`` is None.
    A listener failing both rules is listed once per rule.
    """
    df = df if validated else tidy(df)
    conditions = conditions_of(df)
    if reference not in conditions:
        raise AnalysisError(f"hidden reference condition {reference!r} not found")
    exclusions: list[dict] = []
    rules = [RULE_REFERENCE]
    for listener, frac in _fraction_over(df, reference, below=True).items():
        if frac > MAX_FRACTION:
            exclusions.append(
                {"listener": listener, "rule": RULE_REFERENCE, "fraction": float(frac)}
            )
    skipped: list[str] = []
    if mid_anchor is None:
        rules.append(RULE_MID_ANCHOR_SKIPPED)
    else:
        if mid_anchor not in conditions:
            raise AnalysisError(f"mid anchor condition {mid_anchor!r} not found")
        rules.append(RULE_MID_ANCHOR)
        anchor = df[df["condition"] == mid_anchor]
        per_item = (anchor["score"] > THRESHOLD).groupby(anchor["item"]).mean()
        skipped = sorted(per_item[per_item > ANCHOR_ITEM_FRACTION].index)
        usable = df[~df["item"].isin(skipped)]
        for listener, frac in _fraction_over(usable, mid_anchor, below=False).items():
            if frac > MAX_FRACTION:
                exclusions.append(
                    {"listener": listener, "rule": RULE_MID_ANCHOR, "fraction": float(frac)}
                )
    out = {e["listener"] for e in exclusions}
    kept = df[~df["listener"].isin(out)].reset_index(drop=True)
    return Screening(kept=kept, exclusions=exclusions, rules=rules, skipped_items=skipped)
