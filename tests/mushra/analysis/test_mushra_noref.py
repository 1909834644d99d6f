"""MUSHRA without hidden reference: the hidden-reference rule is logged as not applicable, the
mid-anchor rule still applies, and plain MUSHRA is unchanged."""

import pandas as pd
import pytest

from mushra.analysis import AnalysisError, Spec, analyze, screen
from mushra.analysis.screening import RULE_MID_ANCHOR, RULE_REFERENCE, RULE_REFERENCE_NOT_APPLICABLE
from mushra.analysis.synthetic import mushra_ratings
from mushra.analysis.types import Options, analyze_any


def without_reference(seed: int = 2) -> pd.DataFrame:
    """Synthetic MUSHRA ratings with no hidden reference; listener L0 rates the mid anchor
    (sys01) above 90 everywhere, and every listener rates the condition named "reference"
    (here a system under test, as in a test of recordings) low."""
    df = mushra_ratings(8, 5, 5, seed=seed)
    df.loc[df["condition"] == "reference", "score"] = 30.0
    df.loc[(df["listener"] == "L0") & (df["condition"] == "sys01"), "score"] = 95.0
    return df


def test_hidden_reference_rule_is_not_applied_and_mid_anchor_rule_is():
    spec = Spec(mid_anchor="sys01", n_boot=50, mixed="none")
    typed = analyze_any(without_reference(), Options(test_type="mushra_noref", spec=spec))
    data = typed.to_dict()
    assert data["test_type"] == "mushra_noref"
    assert data["screening"]["rules"] == [RULE_REFERENCE_NOT_APPLICABLE, RULE_MID_ANCHOR]
    assert [(e["listener"], e["rule"]) for e in data["screening"]["excluded"]] == [
        ("L0", RULE_MID_ANCHOR)
    ]
    assert "reference" in {c["condition"] for c in data["conditions"]}
    assert typed.mushra.spec.reference is None
    # "reference" is a condition under test here, so it is compared like any other.
    assert ("reference", "sys02") in {(p["a"], p["b"]) for p in data["pairwise"]}


def test_the_same_ratings_as_plain_mushra_lose_every_listener_to_the_reference_rule():
    with pytest.raises(AnalysisError, match="screening excluded every listener"):
        analyze(without_reference(), Spec(n_boot=50, mixed="none"))


def test_screen_without_reference_judges_no_one_on_it():
    result = screen(without_reference(), reference=None, mid_anchor="sys01")
    assert result.rules[0] == RULE_REFERENCE_NOT_APPLICABLE
    assert result.excluded == ["L0"] and result.unscreened == []


def test_plain_mushra_still_applies_the_hidden_reference_rule():
    data = analyze(mushra_ratings(6, 4, 4, seed=1), Spec(n_boot=50, mixed="none")).to_dict()
    assert data["screening"]["rules"][0] == RULE_REFERENCE


def test_a_reference_named_for_a_test_without_one_is_refused():
    spec = Spec(reference="sys02", n_boot=50)
    with pytest.raises(AnalysisError, match="a MUSHRA test without hidden reference has none"):
        analyze_any(without_reference(), Options(test_type="mushra_noref", spec=spec))
