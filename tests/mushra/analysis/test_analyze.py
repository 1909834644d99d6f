"""analyze(df, spec): the JSON contract, the order screening → statistics, strata and Friedman."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mushra.analysis import AnalysisError, Spec, analyze, gap_closure, tidy
from mushra.analysis.omnibus import friedman
from mushra.analysis.synthetic import mushra_ratings
from tests.support.codec_mushra import ANCHOR, REFERENCE, codec_tidy
from tests.support.services import need_shared_data

TOP_KEYS = [
    "n_ratings",
    "n_listeners",
    "n_items",
    "screening",
    "conditions",
    "pairwise",
    "pairwise_listener",
    "omnibus",
    "mixed_model",
    "gaps",
    "claims",
    "bootstrap",
    "strata",
]
CONDITION_KEYS = {"condition", "n", "mean", "sd", "median", "iqr", "ci95", "ci95_bootstrap"}
PAIR_KEYS = {
    "a",
    "b",
    "n_pairs",
    "mean_diff",
    "statistic",
    "p",
    "p_holm",
    "rank_biserial",
    "significant",
    "untestable",
}
# Issue 15: the same pairs on listener means; n_listeners for n_pairs, Cohen's d_z added.
LISTENER_PAIR_KEYS = PAIR_KEYS - {"n_pairs"} | {"n_listeners", "d_z"}
GAP_KEYS = {
    "new",
    "base",
    "top",
    "gap_closure_pct",
    "gap_closure_ci95",
    "relative_improvement_pct",
    "relative_improvement_ci95",
}
GAP = ("Proposed 5.51", "Lyra 6", REFERENCE)


@pytest.fixture(scope="module")
def codec():
    need_shared_data()
    return tidy(codec_tidy("ratings_formated.csv"))


@pytest.fixture(scope="module")
def codec_result(codec):
    spec = Spec(low_anchor=ANCHOR, gaps=(GAP,), n_boot=2000)
    return analyze(codec, spec)


def _check_keys(data: dict) -> None:
    assert set(data["conditions"][0]) == CONDITION_KEYS
    assert all(set(p) == PAIR_KEYS for p in data["pairwise"])
    assert all(set(p) == LISTENER_PAIR_KEYS for p in data["pairwise_listener"])
    assert [(p["a"], p["b"]) for p in data["pairwise_listener"]] == [
        (p["a"], p["b"]) for p in data["pairwise"]
    ]
    assert set(data["omnibus"]) == {"statistic", "p", "kendall_w", "n_blocks"}
    assert set(data["mixed_model"]) == {
        "formula", "baseline", "inference", "intercept", "effects", "comparisons",
        "reml_loglik", "converged", "singular", "variance_components",
    }  # fmt: skip
    coefficient = {"estimate", "se", "df", "t", "p", "ci95"}
    assert set(data["mixed_model"]["intercept"]) == coefficient
    assert set(data["mixed_model"]["effects"][0]) == {"condition", *coefficient}
    assert set(data["mixed_model"]["variance_components"]) == {"listener", "item", "residual"}
    assert all(set(g) == GAP_KEYS for g in data["gaps"])


@pytest.mark.shared_data
def test_json_has_exactly_the_published_keys(codec_result):
    data = codec_result.to_dict()
    assert list(data) == TOP_KEYS
    assert set(data["screening"]) == {"rules", "excluded", "unscreened"}
    assert set(data["screening"]["excluded"][0]) == {"listener", "rule", "fraction"}
    _check_keys(data)


@pytest.mark.shared_data
def test_codec_mushra_end_to_end(codec, codec_result):
    data = codec_result.to_dict()
    # "Reference" is found without --reference (the default name in any letter case).
    assert codec_result.spec.reference == REFERENCE
    assert sorted(e["listener"] for e in data["screening"]["excluded"]) == ["17", "6"]
    assert (data["n_listeners"], data["n_items"], data["n_ratings"]) == (19, 16, 19 * 8 * 9)
    filtered = tidy(codec_tidy("ratings_formated_filtered.csv"))
    expected = filtered.groupby("condition")["score"].mean()
    for row in data["conditions"]:
        assert row["mean"] == pytest.approx(expected[row["condition"]], abs=1e-9)
    # Default family: every pair of conditions under test (no reference, no anchor).
    systems = sorted(set(codec["condition"]) - {REFERENCE, ANCHOR})
    assert [(p["a"], p["b"]) for p in data["pairwise"]] == list(itertools.combinations(systems, 2))
    (gap,) = data["gaps"]
    assert gap["gap_closure_pct"] == pytest.approx(27.83, abs=0.005)


@pytest.mark.shared_data
def test_gaps_share_the_bootstrap_with_the_standalone_function(codec_result):
    """One set of listener resamples serves every condition, so the CIs equal gap_closure's."""
    kept = codec_result.kept
    alone = gap_closure(kept, *GAP, n_boot=2000, seed=0)
    (gap,) = codec_result.to_dict()["gaps"]
    assert gap["gap_closure_ci95"] == pytest.approx(list(alone.gap_closure_ci95), abs=1e-12)


@pytest.mark.shared_data
def test_friedman_equals_scipy_on_complete_blocks(codec_result):
    kept = codec_result.kept
    systems = sorted(set(kept["condition"]) - {REFERENCE, ANCHOR})
    wide = kept.pivot_table(index=["listener", "item"], columns="condition", values="score")
    blocks = wide[systems].dropna()
    expected = stats.friedmanchisquare(*(blocks[c] for c in systems))
    omnibus = codec_result.to_dict()["omnibus"]
    assert omnibus["n_blocks"] == len(blocks) == 152
    assert omnibus["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert omnibus["p"] == pytest.approx(expected.pvalue, rel=1e-9)
    k = len(systems)
    assert omnibus["kendall_w"] == pytest.approx(expected.statistic / (152 * (k - 1)))


def test_friedman_counts_only_complete_blocks():
    df = tidy(mushra_ratings(6, 4, 4, seed=3))
    holes = df.drop(index=df.index[(df["listener"] == "L0") & (df["condition"] == "sys01")])
    assert friedman(df)["n_blocks"] == 24
    assert friedman(holes)["n_blocks"] == 20


def test_screening_runs_before_every_statistic():
    df = tidy(mushra_ratings(12, 6, 4, seed=1))
    sloppy = df["listener"] == "L3"
    df.loc[sloppy & (df["condition"] == "reference"), "score"] = 40.0
    df.loc[sloppy & (df["condition"] == "sys01"), "score"] = 100.0
    result = analyze(df, Spec(n_boot=200))
    data = result.to_dict()
    assert [e["listener"] for e in data["screening"]["excluded"]] == ["L3"]
    assert "L3" not in set(result.kept["listener"])
    without = df[df["listener"] != "L3"]
    sys01 = next(c for c in data["conditions"] if c["condition"] == "sys01")
    assert sys01["mean"] == pytest.approx(without[without["condition"] == "sys01"]["score"].mean())
    assert data["n_listeners"] == 11
    unscreened = analyze(df, Spec(n_boot=200, screening=False)).to_dict()
    assert unscreened["n_listeners"] == 12 and unscreened["screening"]["excluded"] == []


def test_strata_repeat_the_analysis_per_value():
    df = tidy(mushra_ratings(10, 5, 4, seed=2))
    df["headphones"] = np.where(df["listener"].isin(["L0", "L1", "L2", "L3"]), "closed", "open")
    gaps = (("sys02", "sys01", "reference"),)
    result = analyze(df, Spec(by=("headphones",), screening=False, n_boot=200, gaps=gaps))
    strata = result.to_dict()["strata"]
    assert [(s["by"], s["value"], s["n_listeners"]) for s in strata] == [
        ("headphones", "closed", 4),
        ("headphones", "open", 6),
    ]
    for stratum in strata:
        assert set(stratum) == {"by", "value", "shared_conditions", *TOP_KEYS} - {
            "screening",
            "bootstrap",
            "strata",
        }
        _check_keys(stratum)
        sub = result.kept[result.kept["headphones"] == stratum["value"]]
        means = sub.groupby("condition")["score"].mean()
        for row in stratum["conditions"]:
            assert row["mean"] == pytest.approx(means[row["condition"]])


def test_nan_becomes_null_in_json():
    df = tidy(mushra_ratings(1, 3, 3, seed=0))  # one listener: no t interval
    data = analyze(df, Spec(n_boot=50)).to_dict()
    assert data["conditions"][0]["ci95"] == [None, None]


def test_without_a_reference_screening_is_skipped_and_said():
    df = tidy(mushra_ratings(4, 3, 3, seed=0))
    df = df[df["condition"] != "reference"]
    data = analyze(df, Spec(n_boot=50)).to_dict()
    assert "no hidden reference" in data["screening"]["rules"][0]


def test_pair_with_no_paired_data_is_refused():
    rows = [
        ("a", "i1", "reference", 100),
        ("a", "i1", "x", 50),
        ("b", "i2", "reference", 95),
        ("b", "i2", "y", 40),
    ]
    df = pd.DataFrame(rows, columns=["listener", "item", "condition", "score"])
    with pytest.raises(AnalysisError, match="no \\(listener, item\\) pairs rated both 'x' and 'y'"):
        analyze(df, Spec(n_boot=20))
