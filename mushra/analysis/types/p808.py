"""Screening of ACR and SMOS listeners as ITU-T P.808 and Microsoft's P.808 toolkit do it.

P.808 (crowdsourced ACR) mixes two kinds of check clips into the ratings, and the toolkit
(github.com/microsoft/P.808, ``src/result_parser.py`` with ``acr_result_parser_template.cfg``)
scores them like this:

* a *trapping question* (``check = trap``) is a clip whose voice tells the listener which score
  to give; only that score is right (``check_tps``: the answer must be in ``[expected]``);
* a *gold question* (``check = gold``) is a clip whose quality is known to be clearly excellent
  or clearly bad; an answer within ``variance: 1`` of the known score is right
  (``check_gold_question``: ``range(expected - 1, expected + 1 + 1)``);
* the *variance* of a submission's ratings, the check clips left out, must be at least 0.1
  (``variance_bigger_equal: 0.1``): below it the worker gave (nearly) the same score to every
  clip. ``statistics.variance`` is the n − 1 variance, so nine 3s and one 4 just pass.

The toolkit judges each HIT (one gold and one trap clip in about ten) and discards a HIT on any
failure (``correct_tps_bigger_equal: 1``, ``gold_standard_bigger_equal: 1``). The ratings
export has no HIT column, so here the listener is the unit: one failed trap or gold question
excludes the listener, which is stricter than the toolkit for a worker who did several HITs. Each
exclusion is logged with its rule and the fraction that triggered it, as the BS.1534 rules are
(mushra.analysis.screening), and a listener a rule could not judge (no check of that kind,
fewer than two ratings) is kept and listed in ``unscreened`` with the reason.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

GOLD_TOLERANCE = 1
# Exact, as the toolkit's statistics.variance is: nine 3s and one 4 have a variance of exactly
# 0.1 and pass, where floating point could put it a hair below.
MIN_VARIANCE = Fraction(1, 10)

RULE_TRAP = "trapping question not answered as instructed (P.808: any failure excludes)"
RULE_GOLD = (
    f"gold question answered more than {GOLD_TOLERANCE} away from its known score "
    "(P.808 toolkit: any failure excludes)"
)
RULE_VARIANCE = (
    "(nearly) the same score for every clip: variance of the ratings below "
    f"{float(MIN_VARIANCE):g} (P.808 toolkit)"
)
SKIPPED = "{kind} rule skipped: the ratings have no {kind} questions"
NOT_JUDGED = "answered no {kind} question, so the {kind} rule could not judge them"
TOO_FEW = "gave fewer than two ratings, so the variance rule could not judge them"


def _checks(df: pd.DataFrame, kind: str, wrong: pd.Series, rule: str) -> tuple[list, list]:
    """Exclusions (a listener failing any check of ``kind``) and the listeners rated but never
    given such a check."""
    rows = df["check"] == kind
    failed = wrong[rows].groupby(df.loc[rows, "listener"]).mean()
    out = [
        {"listener": name, "rule": rule, "fraction": float(fraction)}
        for name, fraction in failed.items()
        if fraction > 0
    ]
    reason = NOT_JUDGED.format(kind=kind)
    missing = sorted(set(df["listener"]) - set(failed.index))
    return out, [{"listener": name, "reason": reason} for name in missing]


def sample_variance(scores: np.ndarray) -> Fraction:
    """The n − 1 variance of whole-number scores as an exact fraction."""
    ints = [int(v) for v in scores]
    n, total, squares = len(ints), sum(ints), sum(v * v for v in ints)
    return Fraction(n * squares - total * total, n * (n - 1))


def _variance(df: pd.DataFrame) -> tuple[list, list]:
    """Exclusions of listeners whose ratings (check clips left out) barely vary; ``fraction``
    is the share of their ratings that equal their most common score."""
    rated = df[df["check"] == ""]
    out, unjudged = [], []
    for name, scores in rated.groupby("listener")["score"]:
        values = scores.to_numpy()
        if len(values) < 2:
            unjudged.append({"listener": name, "reason": TOO_FEW})
            continue
        variance = sample_variance(values)
        if variance < MIN_VARIANCE:
            share = float(np.unique(values, return_counts=True)[1].max() / len(values))
            out.append(
                {"listener": name, "rule": RULE_VARIANCE, "fraction": share,
                 "variance": float(variance)}
            )  # fmt: skip
    return out, unjudged


def screen_p808(df: pd.DataFrame) -> dict:
    """The rules applied, the exclusions and the unjudged listeners of a validated ACR frame
    (mushra.analysis.types.acr.acr_table): every rule runs on every listener, and a listener
    failing several is listed once per rule."""
    rules, excluded, unscreened = [], [], []
    kinds = (
        ("trap", RULE_TRAP, df["score"] != df["expected"]),
        ("gold", RULE_GOLD, (df["score"] - df["expected"]).abs() > GOLD_TOLERANCE),
    )
    for kind, rule, wrong in kinds:
        if not (df["check"] == kind).any():
            rules.append(SKIPPED.format(kind=kind))
            continue
        rules.append(rule)
        out, unjudged = _checks(df, kind, wrong, rule)
        excluded += out
        unscreened += unjudged
    rules.append(RULE_VARIANCE)
    out, unjudged = _variance(df)
    return {
        "rules": rules,
        "excluded": excluded + out,
        "unscreened": unscreened + unjudged,
    }
