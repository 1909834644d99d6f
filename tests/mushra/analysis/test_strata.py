"""Breakdowns by a column of the ratings: a condition without a value is shared by every stratum,
a trial without any value is missing; per-stratum comparisons and gaps; a CSV read back alike."""

import numpy as np
import pandas as pd
import pytest

from mushra.analysis import AnalysisError, Spec, analyze, read_ratings
from mushra.analysis.cli import main

# Two systems × two styles, a plain system, the hidden reference and an anchor. Each score is
# its mean ± 2 (by listener) ± 1 (by item and condition), balanced so the means are exact.
MEANS = {
    "reference": 95,
    "anchor": 20,
    "plain": 30,
    "Base dj": 50,
    "New dj": 60,
    "Base news": 40,
    "New news": 46,
}
STYLE = {"Base dj": "dj", "New dj": "dj", "Base news": "news", "New news": "news"}
GAPS = (("New dj", "Base dj", "reference"), ("New news", "Base news", "reference"))


def styled_ratings(n_listeners: int = 8, n_items: int = 6) -> pd.DataFrame:
    rows = []
    for listener in range(n_listeners):
        for item in range(n_items):
            for k, (condition, mean) in enumerate(MEANS.items()):
                score = mean + (2 if listener % 2 else -2) + (1 if (item + k) % 2 else -1)
                style = STYLE.get(condition, "")
                rows.append((f"L{listener}", f"i{item}", condition, score, style))
    return pd.DataFrame(rows, columns=["listener", "item", "condition", "score", "condition_style"])


def _spec(**options) -> Spec:
    return Spec(low_anchor="anchor", n_boot=300, **options)


def test_a_condition_without_the_key_is_counted_in_every_stratum_of_it():
    df = styled_ratings()
    data = analyze(df, _spec(by=("condition_style",), gaps=GAPS)).to_dict()
    dj, news = data["strata"]
    assert (dj["value"], news["value"]) == ("dj", "news")
    shared = ["anchor", "plain", "reference"]
    assert dj["shared_conditions"] == news["shared_conditions"] == shared
    assert {c["condition"] for c in dj["conditions"]} == {"Base dj", "New dj", *shared}
    assert {c["condition"] for c in news["conditions"]} == {"Base news", "New news", *shared}
    # The shared reference is the whole test's reference in each stratum: every one of its rows.
    reference = next(c for c in dj["conditions"] if c["condition"] == "reference")
    assert reference["n"] == 8 * 6 and reference["mean"] == pytest.approx(95)


def test_per_stratum_gaps_and_comparisons_are_those_of_the_stratum():
    data = analyze(styled_ratings(), _spec(by=("condition_style",), gaps=GAPS)).to_dict()
    dj, news = data["strata"]
    assert [(g["new"], g["base"], g["top"]) for g in dj["gaps"]] == [GAPS[0]]
    assert [(g["new"], g["base"], g["top"]) for g in news["gaps"]] == [GAPS[1]]
    assert dj["gaps"][0]["relative_improvement_pct"] == pytest.approx(20.0)  # 60 vs 50
    assert dj["gaps"][0]["gap_closure_pct"] == pytest.approx(10 / 45 * 100)
    assert news["gaps"][0]["relative_improvement_pct"] == pytest.approx(15.0)  # 46 vs 40
    assert news["gaps"][0]["gap_closure_pct"] == pytest.approx(6 / 55 * 100)
    # Only pairs rated in the stratum are tested, so Holm's family is the stratum's own.
    dj_pairs = {(p["a"], p["b"]) for p in dj["pairwise"]}
    assert dj_pairs == {("Base dj", "New dj"), ("Base dj", "plain"), ("New dj", "plain")}
    new_vs_base = next(p for p in dj["pairwise"] if {p["a"], p["b"]} == {"Base dj", "New dj"})
    assert new_vs_base["significant"] and new_vs_base["n_pairs"] == 8 * 6
    assert len(data["pairwise"]) == 10  # the whole test: every pair of the five systems


def test_a_trial_blank_throughout_is_missing_not_shared():
    df = styled_ratings(n_listeners=6)
    df["headphones"] = df["listener"].map({"L0": "closed", "L1": "closed", "L2": None}).fillna("")
    df.loc[df["listener"].isin(["L3", "L4", "L5"]), "headphones"] = "open"
    strata = analyze(df, _spec(by=("headphones",))).to_dict()["strata"]
    assert [(s["value"], s["n_listeners"], s["shared_conditions"]) for s in strata] == [
        ("(missing)", 1, []),
        ("closed", 2, []),
        ("open", 3, []),
    ]


def test_blank_text_and_an_empty_csv_field_read_back_the_same(tmp_path):
    df = styled_ratings()
    path = tmp_path / "ratings.csv"
    df.to_csv(path, index=False)  # the shared rows' style is an empty field
    direct = analyze(df, _spec(by=("condition_style",), gaps=GAPS)).to_dict()
    read = analyze(read_ratings(path), _spec(by=("condition_style",), gaps=GAPS)).to_dict()
    assert read["strata"] == direct["strata"]


def test_an_unknown_breakdown_column_is_named_in_the_words_of_the_data():
    with pytest.raises(AnalysisError) as exc_info:
        analyze(styled_ratings(), _spec(by=("style",)))
    assert str(exc_info.value) == (
        "no column 'style' to break the results down by (the file's extra columns: condition_style)"
    )


def test_the_command_line_breaks_a_csv_down_by_a_condition_key(tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    styled_ratings().to_csv(path, index=False)
    args = [str(path), "--low-anchor", "anchor", "--bootstrap", "200"]
    gaps = [a for g in GAPS for a in ("--gap", ":".join(g))]
    assert main([*args, *gaps, "--by", "condition_style", "--format", "text"]) == 0
    shown = capsys.readouterr().out
    assert "=== condition_style = dj" in shown and "=== condition_style = news" in shown
    assert "shared by every stratum: anchor, plain, reference" in shown
    assert main([*args, "--by", "style"]) == 2
    assert capsys.readouterr().err == (
        "ratings.csv: --by: no column 'style' to break the results down by "
        "(the file's extra columns: condition_style)\n"
    )


def test_each_stratum_of_a_large_test_holds_its_own_and_the_shared_ratings():
    # 10^5 ratings: the shared rule is computed on integer codes, not per (listener, item) group.
    rng = np.random.default_rng(0)
    df = styled_ratings(n_listeners=100, n_items=140)
    df["score"] = np.clip(df["score"] + rng.normal(0, 3, len(df)), 0, 100)
    data = analyze(df, _spec(by=("condition_style",), mixed="none")).to_dict()
    per_stratum = data["n_listeners"] * 140 * 5  # two own conditions and three shared ones
    assert [s["n_ratings"] for s in data["strata"]] == [per_stratum] * 2
    assert sum(c["n"] for c in data["conditions"]) == data["n_listeners"] * 140 * 7
