"""ACR and SMOS: MOS with a listener-clustered CI, P.808 screening, paired tests on listener
means with Holm; every number checked against statsmodels, scipy or a hand computation."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mushra.analysis import AnalysisError
from mushra.analysis.types import Options, analyze_any
from mushra.analysis.types.acr import acr_table, analyse_acr
from mushra.analysis.types.p808 import RULE_GOLD, RULE_TRAP, RULE_VARIANCE
from mushra.analysis.types.summaries import clustered_mean


def ratings(n_listeners=8, seed=0, means=(2.5, 3.4, 4.1)) -> pd.DataFrame:
    """Each listener rates 4 items of each condition, with a listener offset."""
    rng = np.random.default_rng(seed)
    rows = []
    for listener in range(n_listeners):
        offset = rng.normal(0, 0.5)
        for item in range(4):
            for index, mean in enumerate(means):
                score = int(np.clip(np.round(mean + offset + rng.normal(0, 0.8)), 1, 5))
                rows.append((f"L{listener}", f"i{item}", f"c{index}", score))
    return pd.DataFrame(rows, columns=["listener", "item", "condition", "score"])


def check_rows(rows: list[tuple]) -> pd.DataFrame:
    """Check clips: (listener, kind, score, expected)."""
    return pd.DataFrame(
        [
            {"listener": who, "item": f"{kind}{i}", "condition": "", "score": score,
             "check": kind, "expected": expected}
            for i, (who, kind, score, expected) in enumerate(rows)
        ]
    )  # fmt: skip


def analyse(df: pd.DataFrame, test_type: str = "acr", **options) -> dict:
    return analyze_any(df, Options(test_type=test_type, **options)).to_dict()


def test_clustered_ci_matches_a_hand_computation():
    # L1 rates 4, 5; L2 rates 3; L3 rates 2, 3, 4: N = 6, mean 3.5. Residual sums per
    # listener: 2, -0.5, -1.5, so SE² = 3/2 · (4 + 0.25 + 2.25) / 36 = 0.2708333…,
    # SE = 0.5204165, t(0.975, 2) = 4.3026527, half-width 2.2391715.
    values = np.array([4, 5, 3, 2, 3, 4])
    listeners = np.array(["L1", "L1", "L2", "L3", "L3", "L3"])
    out = clustered_mean(values, listeners)
    assert out["n"] == 6 and out["n_listeners"] == 3 and out["mean"] == 3.5
    assert out["ci95"] == pytest.approx([3.5 - 2.2391715, 3.5 + 2.2391715], abs=1e-7)
    assert out["sd"] == pytest.approx(np.std(values, ddof=1))


def test_clustered_ci_equals_statsmodels_cluster_robust_ols():
    df = ratings(n_listeners=11, seed=3)
    rows = df[df["condition"] == "c1"]
    fit = sm.OLS(rows["score"].to_numpy(float), np.ones(len(rows))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["listener"])[0]}, use_t=True
    )
    out = clustered_mean(rows["score"].to_numpy(), rows["listener"].to_numpy())
    assert out["ci95"] == pytest.approx(list(fit.conf_int()[0]), rel=1e-10)


def test_clustered_ci_with_one_rating_per_listener_is_the_t_interval():
    values = np.array([3, 4, 4, 5, 2, 4, 3])
    out = clustered_mean(values, np.arange(len(values)))
    expected = stats.t.interval(0.95, len(values) - 1, values.mean(), stats.sem(values))
    assert out["ci95"] == pytest.approx(list(expected), rel=1e-12)


def test_mos_per_condition_uses_only_the_ratings():
    df = pd.concat([ratings(), check_rows([("L0", "gold", 5, 5), ("L1", "trap", 1, 1)])])
    data = analyse(df)
    plain = ratings()
    for row in data["conditions"]:
        scores = plain.loc[plain["condition"] == row["condition"], "score"]
        assert row["n"] == len(scores) and row["mean"] == pytest.approx(scores.mean())
        assert row["n_listeners"] == 8
    assert data["n_checks"] == {"gold": 1, "trap": 1}
    assert data["n_ratings"] == len(plain)


def test_pairwise_on_listener_means_equals_scipy_wilcoxon_with_holm():
    df = ratings(n_listeners=10, seed=5)
    data = analyse(df, screening=False)
    means = df.pivot_table(index="listener", columns="condition", values="score")
    pairs = [("c0", "c1"), ("c0", "c2"), ("c1", "c2")]
    assert [(p["a"], p["b"]) for p in data["pairwise"]] == pairs
    expected_p = [stats.wilcoxon(means[a], means[b]).pvalue for a, b in pairs]
    assert [p["p"] for p in data["pairwise"]] == pytest.approx(expected_p)
    holm = multipletests(expected_p, method="holm")[1]
    assert [p["p_holm"] for p in data["pairwise"]] == pytest.approx(holm)
    first = data["pairwise"][0]
    diff = means["c0"] - means["c1"]
    assert first["mean_diff"] == pytest.approx(diff.mean())
    assert first["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1))


def test_declared_pairs_make_the_holm_family():
    df = ratings(n_listeners=10, seed=5)
    data = analyse(df, compare=(("c2", "c0"),), screening=False)
    assert [(p["a"], p["b"]) for p in data["pairwise"]] == [("c2", "c0")]
    assert data["pairwise"][0]["p_holm"] == pytest.approx(data["pairwise"][0]["p"])
    assert data["pairwise"][0]["mean_diff"] > 0


def test_trap_answered_otherwise_excludes_the_listener_before_mos():
    checks = [("L0", "trap", 1, 1), ("L1", "trap", 1, 1), ("L1", "trap", 3, 1)]
    for who in ("L2", "L3", "L4", "L5", "L6", "L7"):
        checks.append((who, "trap", 1, 1))
    data = analyse(pd.concat([ratings(), check_rows(checks)]))
    assert data["screening"]["excluded"] == [{"listener": "L1", "rule": RULE_TRAP, "fraction": 0.5}]
    assert data["n_listeners"] == 7
    assert all(c["n_listeners"] == 7 for c in data["conditions"])


def test_gold_answer_within_one_of_the_known_score_passes():
    checks = [("L0", "gold", 4, 5), ("L1", "gold", 3, 5), ("L2", "gold", 1, 1)]
    data = analyse(pd.concat([ratings(), check_rows(checks)]))
    assert [(e["listener"], e["rule"]) for e in data["screening"]["excluded"]] == [
        ("L1", RULE_GOLD)
    ]
    reasons = {u["listener"]: u["reason"] for u in data["screening"]["unscreened"]}
    assert set(reasons) == {f"L{i}" for i in range(3, 8)}  # no gold question: not judged
    assert "trapping question" not in " ".join(data["screening"]["rules"])


def test_same_score_for_every_clip_is_excluded_but_one_step_of_variance_passes():
    rows = [("flat", f"i{i}", "c0", 3) for i in range(10)]
    rows += [("nearly", f"i{i}", "c0", 4 if i == 0 else 3) for i in range(10)]  # variance 0.1
    rows += [("varied", f"i{i}", "c0", 1 + i % 5) for i in range(10)]
    df = pd.DataFrame(rows, columns=["listener", "item", "condition", "score"])
    data = analyse(df)
    assert data["screening"]["excluded"] == [
        {"listener": "flat", "rule": RULE_VARIANCE, "fraction": 1.0, "variance": 0.0}
    ]


def test_no_screening_keeps_every_listener():
    checks = [("L1", "trap", 3, 1)]
    data = analyse(pd.concat([ratings(), check_rows(checks)]), screening=False)
    assert data["n_listeners"] == 8 and data["screening"]["excluded"] == []


def test_smos_is_the_same_analysis_worded_as_similarity():
    df = ratings()
    acr, smos = analyse(df), analyse(df, "smos")
    assert smos["measure"] == "SMOS" and "similarity" in smos["scale"]
    assert smos["conditions"] == acr["conditions"] and smos["pairwise"] == acr["pairwise"]


def test_pair_no_listener_rated_both_is_untestable():
    df = pd.DataFrame(
        [("L1", "i", "a", 3), ("L1", "j", "a", 4), ("L2", "i", "b", 2), ("L2", "j", "b", 5)],
        columns=["listener", "item", "condition", "score"],
    )
    data = analyse(df)
    assert data["pairwise"][0]["untestable"] == "no listener rated both conditions"
    assert data["pairwise"][0]["p_holm"] is None


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"score": ["6"]}, "column 'score' is outside 1 to 5 in row 0: 6"),
        ({"score": ["3.5"]}, "column 'score' is not a whole number in row 0: '3.5'"),
        ({"score": ["good"]}, "column 'score' is not a whole number in row 0"),
        ({"check": ["silver"]}, "column 'check' is not empty, 'gold' or 'trap' in row 0"),
        ({"check": ["gold"], "expected": [None]}, "column 'expected' is empty in row 0"),
        ({"check": ["trap"], "expected": ["9"]}, "column 'expected' is outside 1 to 5 in row 0"),
        ({"check": ["gold"]}, "missing column(s): expected"),
        ({"condition": ["c\x00"]}, "column 'condition' contains a NUL character in row 0"),
        ({"item": ["i1"], "condition": ["c1"]}, "duplicate rating in row 1"),
    ],
)
def test_bad_acr_rows_are_one_line_errors(change, needle):
    df = pd.DataFrame(
        {
            "listener": ["L", "L"],
            "item": ["i0", "i1"],
            "condition": ["c0", "c1"],
            "score": ["3", "4"],
        }
    )
    for column, values in change.items():
        df.loc[0, column] = values[0]
    with pytest.raises(AnalysisError) as exc_info:
        acr_table(df)
    message = str(exc_info.value)
    assert needle in message and "\n" not in message


def test_a_file_of_check_clips_only_has_no_ratings():
    with pytest.raises(AnalysisError, match="no ratings: every row is a gold or trap check"):
        acr_table(check_rows([("L0", "gold", 5, 5)]))


def test_screening_that_excludes_everyone_says_so():
    df = pd.concat([ratings(n_listeners=1), check_rows([("L0", "trap", 2, 1)])])
    with pytest.raises(AnalysisError, match="screening excluded every listener"):
        analyse_acr(acr_table(df), "acr")


def test_platform_frame_with_numbered_items_and_blank_check_items():
    df = ratings().assign(item=lambda d: d["item"].str[1:].astype(int))
    gold = pd.DataFrame(
        {"listener": ["L0"], "item": [None], "condition": [None], "score": [5],
         "check": ["gold"], "expected": [5.0]}
    )  # fmt: skip
    table = acr_table(pd.concat([df, gold], ignore_index=True))
    assert table.loc[table["check"] == "gold", ["item", "condition"]].values.tolist() == [
        ["(gold)", "(gold)"]
    ]
    assert set(table.loc[table["check"] == "", "item"]) == {"0", "1", "2", "3"}


def test_blank_check_item_in_a_float_item_column_is_filled():
    df = ratings().assign(item=lambda d: d["item"].str[1:].astype(float))
    gold = pd.DataFrame(
        {"listener": ["L0"], "item": [np.nan], "condition": ["c0"], "score": [5],
         "check": ["gold"], "expected": [5]}
    )  # fmt: skip
    table = acr_table(pd.concat([df, gold], ignore_index=True))
    assert table["item"].iloc[-1] == "(gold)"
