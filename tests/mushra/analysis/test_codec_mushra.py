"""The analysis reproduces the published codec-mushra filtering and scipy's Wilcoxon results."""

import itertools

import numpy as np
import pytest
from scipy import stats

from mushra.analysis import describe, gap_closure, pairwise_wilcoxon, screen, tidy
from mushra.analysis.pairwise import pairwise_listener
from tests.support.codec_mushra import REFERENCE, codec_tidy
from tests.support.services import need_shared_data

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def full():
    need_shared_data()
    return tidy(codec_tidy("ratings_formated.csv"))


@pytest.fixture(scope="module")
def filtered():
    need_shared_data()
    return tidy(codec_tidy("ratings_formated_filtered.csv"))


def test_conditions_and_design(full):
    assert sorted(full["condition"].unique()) == sorted(
        [
            "Anchor",
            "AudioDec",
            "Lyra 3",
            "Lyra 6",
            "Proposed 1.38",
            "Proposed 1.38 16kHz",
            "Proposed 5.51",
            "Proposed 5.51 16kHz",
            "Reference",
        ]
    )
    assert full["listener"].nunique() == 21
    assert full["item"].nunique() == 16
    # Incomplete design: every listener rated 8 of the 16 items.
    assert set(full.groupby("listener")["item"].nunique()) == {8}


def test_screening_excludes_exactly_the_listeners_missing_from_filtered(full, filtered):
    result = screen(full, reference=REFERENCE, mid_anchor=None)
    missing = sorted(set(full["listener"]) - set(filtered["listener"]))
    assert missing == ["17", "6"]
    assert result.excluded == missing
    assert {e["rule"] for e in result.exclusions} == {result.rules[0]}
    assert {e["listener"]: e["fraction"] for e in result.exclusions} == {"6": 0.625, "17": 0.25}
    assert "skipped" in result.rules[1]


def test_means_after_screening_equal_filtered_file(full, filtered):
    kept = screen(full, reference=REFERENCE).kept
    ours = describe(kept, n_boot=200)
    theirs = filtered.groupby("condition")["score"].mean()
    assert list(ours.index) == sorted(theirs.index)
    for condition, mean in theirs.items():
        assert ours.loc[condition, "mean"] == pytest.approx(mean, abs=1e-9)
        assert ours.loc[condition, "n"] == 152
        assert ours.loc[condition, "n_listeners"] == 19
    # Reference notes §4a: filtered means.
    assert ours.loc["AudioDec", "mean"] == pytest.approx(66.71, abs=0.005)
    assert ours.loc["Anchor", "mean"] == pytest.approx(19.42, abs=0.005)


def test_listener_t_interval(full):
    kept = screen(full, reference=REFERENCE).kept
    row = describe(kept, n_boot=200).loc["AudioDec"]
    means = kept[kept["condition"] == "AudioDec"].groupby("listener")["score"].mean()
    lo, hi = stats.t.interval(0.95, len(means) - 1, loc=means.mean(), scale=stats.sem(means))
    assert row["ci95"] == pytest.approx([lo, hi], abs=1e-9)
    assert row["listener_mean"] == pytest.approx(means.mean(), abs=1e-12)
    lo_b, hi_b = row["ci95_bootstrap"]
    assert lo_b < row["mean"] < hi_b


def test_wilcoxon_matches_scipy_on_the_same_pairs(full):
    kept = screen(full, reference=REFERENCE).kept
    systems = sorted(set(kept["condition"]) - {"Reference", "Anchor"})
    pairs = list(itertools.combinations(systems, 2))
    result = pairwise_wilcoxon(kept, pairs)
    wide = kept.pivot_table(index=["listener", "item"], columns="condition", values="score")
    for row in result.itertuples():
        both = wide[[row.a, row.b]].dropna()
        expected = stats.wilcoxon(both[row.a], both[row.b])
        assert row.n_pairs == len(both) == 152
        assert row.p == pytest.approx(expected.pvalue, rel=1e-12)
        assert row.statistic == pytest.approx(expected.statistic)
    holm = result["p_holm"].to_numpy()
    assert np.all(holm >= result["p"].to_numpy() - 1e-15)
    target = result[(result.a == "AudioDec") & (result.b == "Proposed 5.51")].iloc[0]
    # Reference notes §4a: P5.51 vs AudioDec, n = 152, p = 0.00637, RBC = -0.258 (sign flipped).
    assert target.p == pytest.approx(0.00637, abs=5e-6)
    assert target.rank_biserial == pytest.approx(0.258, abs=5e-4)
    assert target.mean_diff == pytest.approx(6.27, abs=5e-3)


def test_gap_closure_reference_case(full):
    kept = screen(full, reference=REFERENCE).kept
    gap = gap_closure(kept, new="Proposed 5.51", base="Lyra 6", top="Reference", n_boot=4000)
    assert gap.gap_closure == pytest.approx(27.83, abs=0.005)
    assert gap.relative_improvement == pytest.approx(32.70, abs=0.005)
    lo, hi = gap.gap_closure_ci95
    assert 15 < lo < 19 and 36 < hi < 40  # notes: [16.9, 37.7]


def test_listener_level_test_of_proposed_vs_audiodec(full):
    """Issue 15: the reviewer's listener-level test. Reference notes §4a: Wilcoxon on listener
    means, n = 19, p = 0.0297, against p = 0.00637 on the 152 (listener, item) pairs."""
    kept = screen(full, reference=REFERENCE).kept
    pair = [("AudioDec", "Proposed 5.51")]
    (row,) = pairwise_listener(kept, pair).to_dict("records")
    (items,) = pairwise_wilcoxon(kept, pair).to_dict("records")
    # Every listener rated both conditions on all their items: plain per-listener means.
    means = kept.groupby(["listener", "condition"])["score"].mean().unstack()
    expected = stats.wilcoxon(means["AudioDec"], means["Proposed 5.51"])
    assert row["n_listeners"] == 19 and items["n_pairs"] == 152
    assert row["p"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert row["p"] == pytest.approx(0.0297, abs=5e-5)
    assert items["p"] == pytest.approx(0.00637, abs=5e-6)
    assert row["mean_diff"] == pytest.approx(6.27, abs=5e-3)
    diff = means["AudioDec"] - means["Proposed 5.51"]
    assert row["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert row["d_z"] == pytest.approx(0.58, abs=5e-3)  # notes §3: d_z = 0.58
