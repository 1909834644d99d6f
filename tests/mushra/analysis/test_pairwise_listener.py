"""Listener-level paired tests (issue 15) and the untestable pairs left out of Holm's family."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mushra.analysis import AnalysisError, Spec, analyze, tidy
from mushra.analysis.pairwise import (
    MIN_NONZERO,
    TOO_FEW,
    pairwise_listener,
    pairwise_wilcoxon,
)
from mushra.analysis.synthetic import mushra_ratings

SYSTEMS = ["sys01", "sys02", "sys03", "sys04"]


@pytest.fixture(scope="module")
def incomplete():
    """12 listeners × 8 items; sys02 is missing from a different item of each listener, so a
    listener's mean over *their paired items* differs from their mean over all their ratings."""
    df = tidy(mushra_ratings(12, 8, 6, seed=3))
    drop = (df["condition"] == "sys02") & (
        df["item"] == "i" + (df["listener"].str[1:].astype(int) % 8).astype(str)
    )
    return df[~drop].reset_index(drop=True)


def by_hand(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per listener, the means of a and b over the items they rated both (pandas, no numpy)."""
    wide = df.pivot_table(index=["listener", "item"], columns="condition", values="score")
    return wide[[a, b]].dropna().groupby(level="listener").mean()


def test_listener_level_equals_scipy_on_listener_means_computed_by_hand(incomplete):
    pairs = list(itertools.combinations(SYSTEMS, 2))
    table = pairwise_listener(incomplete, pairs)
    for row in table.itertuples():
        means = by_hand(incomplete, row.a, row.b)
        diff = means[row.a] - means[row.b]
        expected = stats.wilcoxon(means[row.a], means[row.b])
        assert row.n_listeners == len(means) == 12
        assert row.statistic == pytest.approx(expected.statistic)
        assert row.p == pytest.approx(expected.pvalue, rel=1e-12)
        assert row.mean_diff == pytest.approx(diff.mean(), abs=1e-12)
        assert row.d_z == pytest.approx(diff.mean() / diff.std(ddof=1), rel=1e-12)
        assert pd.isna(row.untestable)  # testable (pandas keeps a missing string as NaN)
    # The paired items matter: sys02's plain per-listener means would give another mean_diff.
    plain = incomplete.groupby(["listener", "condition"])["score"].mean().unstack()
    sys01_02 = table[(table.a == "sys01") & (table.b == "sys02")].iloc[0]
    assert sys01_02.mean_diff != pytest.approx((plain["sys01"] - plain["sys02"]).mean())


def test_listener_family_has_its_own_holm_correction(incomplete):
    pairs = list(itertools.combinations(SYSTEMS, 2))
    listener = pairwise_listener(incomplete, pairs)
    item = pairwise_wilcoxon(incomplete, pairs)
    assert listener["p_holm"].to_numpy() == pytest.approx(
        multipletests(listener["p"], method="holm")[1], abs=1e-15
    )
    assert item["p_holm"].to_numpy() == pytest.approx(
        multipletests(item["p"], method="holm")[1], abs=1e-15
    )
    # In the analysis the two families sit side by side, each corrected on its own.
    data = analyze(incomplete, Spec(low_anchor="anchor", n_boot=50, mixed="none")).to_dict()
    p = [row["p"] for row in data["pairwise_listener"]]
    assert [row["p_holm"] for row in data["pairwise_listener"]] == pytest.approx(
        list(multipletests(p, method="holm")[1]), abs=1e-15
    )
    assert [row["n_listeners"] for row in data["pairwise_listener"]] == [12] * 6
    assert [row["n_pairs"] for row in data["pairwise"]][:2] == [12 * 8 - 12, 12 * 8]


def test_listener_level_needs_a_listener_who_rated_both_on_one_item():
    df = pd.DataFrame(
        {
            "listener": ["a", "a", "b", "b"],
            "item": ["i1", "i1", "i2", "i2"],
            "condition": ["ref", "x", "ref", "y"],
            "score": [100, 50, 95, 40],
        }
    )
    with pytest.raises(AnalysisError, match="no listener rated both 'x' and 'y' on the same item"):
        pairwise_listener(df, [("x", "y")])
    (row,) = pairwise_listener(df, [("x", "y")], lenient=True).to_dict("records")
    assert (
        row["n_listeners"] == 0 and np.isnan(row["p_holm"]) and "no listener" in row["untestable"]
    )


def test_a_signed_rank_test_below_six_differences_can_never_reach_005():
    """The threshold for "untestable" is scipy's own extreme: 5 differences of one sign give
    p = 0.0625, 6 give 0.03125."""
    assert MIN_NONZERO == 6
    assert stats.wilcoxon(np.arange(1.0, 6.0)).pvalue == pytest.approx(0.0625)
    assert stats.wilcoxon(np.arange(1.0, 7.0)).pvalue == pytest.approx(0.03125)


def sparse_ratings() -> pd.DataFrame:
    """Ten listeners rate new, old and mid on five items; 'rare' is rated by one listener on
    two items: its pairs can be tested by nobody's standard."""
    df = tidy(mushra_ratings(10, 5, 5, seed=8))
    rare = df[
        (df["condition"] == "sys01") & (df["listener"] == "L0") & df["item"].isin(["i0", "i1"])
    ]
    return pd.concat(
        [df[df["condition"] != "sys01"], rare.assign(condition="rare")], ignore_index=True
    )


def test_untestable_pairs_are_left_out_of_holms_family():
    df = sparse_ratings()
    pairs = [("sys02", "sys03"), ("rare", "sys02"), ("rare", "sys03")]
    for table in (pairwise_wilcoxon(df, pairs), pairwise_listener(df, pairs)):
        tested, *rare = table.to_dict("records")
        assert pd.isna(tested["untestable"])
        assert tested["p_holm"] == pytest.approx(tested["p"])  # a family of one
        for row in rare:
            assert row["untestable"] == TOO_FEW and np.isnan(row["p_holm"])
            assert not row["significant"] and row["p"] > 0.05
    data = analyze(df, Spec(compare=tuple(pairs), n_boot=50, mixed="none")).to_dict()
    assert [row["p_holm"] is None for row in data["pairwise"]] == [False, True, True]
    assert data["pairwise"][1]["untestable"].startswith("fewer than 6 non-zero differences")
