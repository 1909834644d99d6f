"""Post-screening of assessors, ITU-R BS.1534-3 §4.1.2 (DESIGN.md §6), and attention checks.

Screening runs before any statistic, and every exclusion is returned with its rule and the
fraction that triggered it so the report can log it. A kept listener whom a rule could not judge
(no hidden-reference rating at all, or no mid-anchor rating on an item the rule uses) is listed in
``unscreened`` with the reason: they pass by default, and a reader should know that.

MUSHRA without a hidden reference (test type ``mushra_noref``) has nothing for the first rule to
judge: :func:`screen` with ``reference=None`` logs that rule as not applicable and still applies
the mid-anchor rule when a mid anchor is named.

Attention checks (issue 14) are catch trials: a clearly degraded copy of the reference that an
attentive listener rates well below the hidden reference (the platform scores each check as it
is saved, ``mushra.attention``). Given each listener's outcomes (a frame with ``listener`` and
``passed``, one row per check), :func:`screen` also excludes a listener who failed more than
15 % of their checks — the same fraction as the §4.1.2 rules, which with up to six checks means
any failure — logged with its rule and the failed fraction like the BS.1534-3 exclusions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mushra.analysis.data import AnalysisError, conditions_of, tidy
from mushra.analysis.options import unknown_condition

THRESHOLD = 90.0
MAX_FRACTION = 0.15  # more than 15 % of a listener's items → excluded
ANCHOR_ITEM_FRACTION = 0.25  # more than 25 % of listeners rate an item's mid anchor > 90 → skip

RULE_REFERENCE = "hidden reference below 90 on more than 15% of items"
RULE_MID_ANCHOR = "mid anchor above 90 on more than 15% of items"
RULE_MID_ANCHOR_SKIPPED = "mid-anchor rule skipped: no mid anchor"
RULE_REFERENCE_NOT_APPLICABLE = (
    "hidden-reference rule not applicable: the test has no hidden reference (mushra_noref)"
)
RULE_ATTENTION = "failed more than 15% of their attention checks (catch trials)"
NO_REFERENCE_RATING = "rated no hidden reference, so the hidden-reference rule could not judge them"
NO_MID_ANCHOR_RATING = (
    "rated no mid anchor on an item the rule uses, so the mid-anchor rule could not judge them"
)
ATTENTION_COLUMNS = ("listener", "passed")


@dataclass
class Screening:
    """Result of :func:`screen`: the kept ratings, the exclusions and the rules applied."""

    kept: pd.DataFrame
    exclusions: list[dict] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    skipped_items: list[str] = field(default_factory=list)
    unscreened: list[dict] = field(default_factory=list)  # kept listeners a rule could not judge

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
    reference: str | None = "reference",
    mid_anchor: str | None = None,
    *,
    validated: bool = False,
    attention: pd.DataFrame | None = None,
) -> Screening:
    """Apply both §4.1.2 rules and drop every rating of excluded listeners.

    Rule 1: hidden reference < 90 on more than 15 % of the items the listener rated (the
    denominator is the listener's own items with a hidden-reference rating: incomplete designs
    are common). Rule 2: mid anchor > 90 on more than 15 % of items, counting only items where at
    most 25 % of all listeners rate the mid anchor > 90; skipped when ``mid_anchor`` is None.
    A listener failing both rules is listed once per rule. With ``attention`` (one row per
    attention check: listener, passed) the attention rule runs too (:func:`attention_exclusions`).
    ``reference=None``: the test has no hidden reference, so rule 1 is logged as not applicable.
    """
    df = df if validated else tidy(df)
    conditions = conditions_of(df)
    if reference is not None and reference not in conditions:
        raise unknown_condition(reference, "reference", conditions)
    exclusions: list[dict] = []
    rules = [RULE_REFERENCE if reference is not None else RULE_REFERENCE_NOT_APPLICABLE]
    reference_fractions = pd.Series(dtype=float)
    if reference is not None:
        reference_fractions = _fraction_over(df, reference, below=True)
    anchor_fractions = pd.Series(dtype=float)
    for listener, frac in reference_fractions.items():
        if frac > MAX_FRACTION:
            exclusions.append(
                {"listener": listener, "rule": RULE_REFERENCE, "fraction": float(frac)}
            )
    skipped: list[str] = []
    if mid_anchor is None:
        rules.append(RULE_MID_ANCHOR_SKIPPED)
    else:
        if mid_anchor not in conditions:
            raise unknown_condition(mid_anchor, "mid_anchor", conditions)
        rules.append(RULE_MID_ANCHOR)
        anchor = df[df["condition"] == mid_anchor]
        per_item = (anchor["score"] > THRESHOLD).groupby(anchor["item"]).mean()
        skipped = sorted(per_item[per_item > ANCHOR_ITEM_FRACTION].index)
        usable = df[~df["item"].isin(skipped)]
        anchor_fractions = _fraction_over(usable, mid_anchor, below=False)
        for listener, frac in anchor_fractions.items():
            if frac > MAX_FRACTION:
                exclusions.append(
                    {"listener": listener, "rule": RULE_MID_ANCHOR, "fraction": float(frac)}
                )
    if attention is not None:
        rules.append(RULE_ATTENTION)
        exclusions += attention_exclusions(attention, df["listener"])
    out = {e["listener"] for e in exclusions}
    kept = df[~df["listener"].isin(out)].reset_index(drop=True)
    judged = [(reference_fractions.index, NO_REFERENCE_RATING)] if reference is not None else []
    if mid_anchor is not None:
        judged.append((anchor_fractions.index, NO_MID_ANCHOR_RATING))
    return Screening(
        kept=kept,
        exclusions=exclusions,
        rules=rules,
        skipped_items=skipped,
        unscreened=unjudged(kept["listener"], judged),
    )


def unjudged(listeners: pd.Series, judged: list[tuple[pd.Index, str]]) -> list[dict]:
    """The listeners (of ``listeners``) missing from each rule's judged index, with its reason."""
    names = sorted(set(listeners.unique().tolist()))
    out = []
    for index, reason in judged:
        seen = set(index)
        out += [{"listener": name, "reason": reason} for name in names if name not in seen]
    return out


def attention_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """Validate attention-check outcomes: columns listener and passed (true/false, yes/no,
    1/0), one row per check; listeners become strings like the ratings' keys."""
    missing = [c for c in ATTENTION_COLUMNS if c not in df.columns]
    if missing:
        raise AnalysisError(
            f"attention checks: missing column(s): {', '.join(missing)}", option="attention"
        )
    out = df[list(ATTENTION_COLUMNS)].copy().reset_index(drop=True)
    if out["listener"].isna().any():
        raise AnalysisError(
            "attention checks: column 'listener' is empty in a row", option="attention"
        )
    out["listener"] = out["listener"].astype(str)
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    passed = out["passed"].map(
        lambda v: v if isinstance(v, bool) else words.get(str(v).strip().lower().removesuffix(".0"))
    )
    if passed.isna().any():
        row = int(passed.isna().to_numpy().argmax())
        raise AnalysisError(
            f"attention checks: column 'passed' is not true/false in row {row}: "
            f"{out['passed'].iloc[row]!r}",
            option="attention",
        )
    out["passed"] = passed.astype(bool)
    return out


def attention_exclusions(attention: pd.DataFrame, listeners: pd.Series) -> list[dict]:
    """The listeners (of those in ``listeners``, the rated ones) who failed more than 15 % of
    their attention checks, each with the rule and the fraction of their checks they failed."""
    outcomes = attention_outcomes(attention)
    failed = (~outcomes["passed"]).groupby(outcomes["listener"]).mean()
    rated = set(listeners.astype(str))
    return [
        {"listener": listener, "rule": RULE_ATTENTION, "fraction": float(fraction)}
        for listener, fraction in failed.items()
        if fraction > MAX_FRACTION and listener in rated
    ]
