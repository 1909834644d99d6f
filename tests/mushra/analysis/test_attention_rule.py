"""The attention-check rule: a listener who failed more than 15 % of their attention checks is
excluded, logged beside the BS.1534-3 rules; exactly the planted listeners go."""

import json

import numpy as np
import pandas as pd
import pytest

from mushra.analysis import AnalysisError, Spec, analyze, screen
from mushra.analysis.screening import RULE_ATTENTION, RULE_REFERENCE, attention_exclusions

CONDITIONS = {"reference": 96, "anchor": 20, "sys_a": 70, "sys_b": 55}


def ratings(listeners: int, items: int = 6, seed: int = 0) -> pd.DataFrame:
    """Attentive listeners by MUSHRA's rules: the hidden reference near 100 every time."""
    rng = np.random.default_rng(seed)
    rows = [
        {
            "listener": f"L{n}",
            "item": f"i{i}",
            "condition": c,
            "score": float(np.clip(mean + rng.integers(-4, 4), 0, 100)),
        }
        for n in range(listeners)
        for i in range(items)
        for c, mean in CONDITIONS.items()
    ]
    return pd.DataFrame(rows)


def outcomes(checks: dict[str, list[bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"listener": who, "passed": ok} for who, results in checks.items() for ok in results]
    )


def test_exactly_the_listeners_who_failed_attention_checks_are_excluded():
    checks = {f"L{n}": [True, True, True] for n in range(10)}
    checks["L3"] = [True, False, True]  # one failure in three: 33 %
    checks["L7"] = [False, False, False]
    checks["L8"] = [True] * 6  # six checks, all passed
    checks["L9"] = [True] * 6 + [False]  # one failure in seven: 14 %, under the limit
    result = screen(ratings(10), reference="reference", attention=outcomes(checks))
    attention = [e for e in result.exclusions if e["rule"] == RULE_ATTENTION]
    assert sorted(e["listener"] for e in attention) == ["L3", "L7"]
    assert {e["listener"]: e["fraction"] for e in attention} == pytest.approx(
        {"L3": 1 / 3, "L7": 1.0}
    )
    assert result.excluded == ["L3", "L7"]
    assert set(result.kept["listener"]) == {f"L{n}" for n in range(10)} - {"L3", "L7"}
    assert result.rules == [
        RULE_REFERENCE,
        "mid-anchor rule skipped: no mid anchor",
        RULE_ATTENTION,
    ]


def test_one_failure_in_up_to_six_checks_excludes_and_none_keeps():
    for n in range(1, 7):
        failed = outcomes({"L0": [True] * (n - 1) + [False]})
        assert [e["listener"] for e in attention_exclusions(failed, pd.Series(["L0"]))] == ["L0"]
        clean = outcomes({"L0": [True] * n})
        assert attention_exclusions(clean, pd.Series(["L0"])) == []


def test_the_rule_is_logged_beside_the_bs1534_rules_in_the_analysis():
    df = ratings(8)
    df.loc[(df["listener"] == "L1") & (df["condition"] == "reference"), "score"] = 50.0
    checks = outcomes({**{f"L{n}": [True, True] for n in range(8)}, "L5": [True, False]})
    data = analyze(df, Spec(n_boot=50), attention=checks).to_dict()
    assert set(data["screening"]) == {"rules", "excluded", "unscreened"}
    assert RULE_ATTENTION in data["screening"]["rules"]
    assert data["screening"]["rules"][0] == RULE_REFERENCE
    excluded = {(e["listener"], e["rule"]) for e in data["screening"]["excluded"]}
    assert excluded == {("L1", RULE_REFERENCE), ("L5", RULE_ATTENTION)}
    assert data["n_listeners"] == 6
    # Without outcomes the rule is not listed: a test without attention checks.
    plain = analyze(df, Spec(n_boot=50)).to_dict()
    assert RULE_ATTENTION not in plain["screening"]["rules"]
    # With screening off nothing is excluded.
    off = analyze(df, Spec(n_boot=50, screening=False), attention=checks).to_dict()
    assert off["screening"]["excluded"] == [] and off["n_listeners"] == 8


def test_listeners_without_ratings_and_numeric_ids_are_handled_like_the_ratings_keys():
    df = ratings(3)
    df["listener"] = df["listener"].str.removeprefix("L").astype(int)
    checks = pd.DataFrame(
        {"listener": [0, 1, 1, 42], "passed": ["yes", "true", "0", "no"]}
    )  # 42 rated nothing: not logged
    result = screen(df, reference="reference", attention=checks)
    assert [(e["listener"], e["fraction"]) for e in result.exclusions] == [("1", 0.5)]


def test_bad_attention_outcomes_are_one_plain_line():
    df = ratings(2)
    with pytest.raises(AnalysisError, match="missing column"):
        screen(df, attention=pd.DataFrame({"listener": ["L0"]}))
    with pytest.raises(AnalysisError, match="not true/false in row 1"):
        screen(df, attention=pd.DataFrame({"listener": ["L0", "L1"], "passed": [True, "maybe"]}))


def test_the_command_line_takes_an_attention_csv(tmp_path, capsys):
    from mushra.analysis.cli import main

    df = ratings(5)
    df.to_csv(tmp_path / "ratings.csv", index=False)
    rows = ["listener,passed", "L0,true", "L1,true", "L2,false", "L2,true", "L3,yes", "L4,1"]
    (tmp_path / "attention.csv").write_text("\n".join(rows) + "\n")
    args = [str(tmp_path / "ratings.csv"), "--bootstrap", "50", "--mixed-model", "none"]
    assert main([*args, "--attention", str(tmp_path / "attention.csv")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(e["listener"], e["rule"]) for e in data["screening"]["excluded"]] == [
        ("L2", RULE_ATTENTION)
    ]
    (tmp_path / "bad.csv").write_text("listener,passed\nL0,perhaps\n")
    assert main([*args, "--attention", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not true/false in row 0" in err
