"""CMOS: one orientation per pair, listener-clustered CI, Wilcoxon of listener means against 0
with Holm, and the order effect; checked against scipy and statsmodels."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mushra.analysis import AnalysisError
from mushra.analysis.types import Options, analyze_any
from mushra.analysis.types.cmos import cmos_table


def judgements(seed=0, n_listeners=10, effects=(("base", "new", 1.0), ("base", "old", 0.2))):
    """Each listener judges each pair on 6 items, half presented each way round; ``effect`` is
    how much better the second name is, in CMOS points."""
    rng = np.random.default_rng(seed)
    rows = []
    for listener in range(n_listeners):
        for first, second, effect in effects:
            for item in range(6):
                score = int(np.clip(np.round(effect + rng.normal(0, 1)), -3, 3))
                if item % 2:  # presented the other way round: the listener's score flips
                    rows.append((f"L{listener}", f"i{item}", second, first, -score))
                else:
                    rows.append((f"L{listener}", f"i{item}", first, second, score))
    return pd.DataFrame(rows, columns=["listener", "item", "a", "b", "score"])


def normalised(df, first, second):
    """The scores of one pair as how ``second`` compares with ``first``."""
    rows = df[df["a"].isin([first, second]) & df["b"].isin([first, second])]
    return rows.assign(value=np.where(rows["a"] == first, rows["score"], -rows["score"]))


def analyse(df, **options):
    return analyze_any(df, Options(test_type="cmos", **options)).to_dict()


def test_pairs_presented_both_ways_are_one_pair_in_one_orientation():
    df = judgements()
    data = analyse(df)
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [("base", "new"), ("base", "old")]
    rows = normalised(df, "base", "new")
    pair = data["pairs"][0]
    assert pair["n"] == len(rows) == 60 and pair["mean"] == pytest.approx(rows["value"].mean())
    assert pair["order"]["as_reported"]["n"] == 30 and pair["order"]["reversed"]["n"] == 30


def test_declared_orientation_flips_the_sign():
    df = judgements()
    data = analyse(df, compare=(("new", "base"),))
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [("new", "base")]
    default = analyse(df)["pairs"][0]
    assert data["pairs"][0]["mean"] == pytest.approx(-default["mean"])
    assert data["pairs"][0]["ci95"] == pytest.approx([-default["ci95"][1], -default["ci95"][0]])
    assert data["pairs"][0]["p"] == pytest.approx(default["p"])


def test_cmos_ci_equals_statsmodels_cluster_robust_ols():
    df = judgements(seed=2)
    rows = normalised(df, "base", "new")
    fit = sm.OLS(rows["value"].to_numpy(float), np.ones(len(rows))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["listener"])[0]}, use_t=True
    )
    assert analyse(df)["pairs"][0]["ci95"] == pytest.approx(list(fit.conf_int()[0]))


def test_cmos_test_is_scipy_wilcoxon_of_listener_means_against_zero_with_holm():
    df = judgements(seed=4)
    data = analyse(df)
    expected = []
    for first, second in (("base", "new"), ("base", "old")):
        means = normalised(df, first, second).groupby("listener")["value"].mean()
        expected.append(stats.wilcoxon(means).pvalue)
    assert [p["p"] for p in data["pairs"]] == pytest.approx(expected)
    holm = multipletests(expected, method="holm")[1]
    assert [p["p_holm"] for p in data["pairs"]] == pytest.approx(holm)
    assert data["pairs"][0]["significant"] and data["pairs"][0]["n_listeners"] == 10


def test_order_effect_is_the_mean_when_presented_each_way():
    rows = [("L1", "i1", "x", "y", 2), ("L1", "i2", "y", "x", 1), ("L2", "i1", "x", "y", 3)]
    df = pd.DataFrame(rows, columns=["listener", "item", "a", "b", "score"])
    pair = analyse(df)["pairs"][0]
    assert pair["order"] == {
        "as_reported": {"n": 2, "mean": 2.5},
        "reversed": {"n": 1, "mean": -1.0},
    }
    assert pair["mean"] == pytest.approx(4 / 3)
    assert pair["untestable"]  # two listeners: no signed-rank outcome reaches p < 0.05
    assert pair["p_holm"] is None


def test_undeclared_pair_is_an_error():
    with pytest.raises(AnalysisError, match="no judgement compared 'new' and 'old'"):
        analyse(judgements(), compare=(("new", "old"),))


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("score", "4", "column 'score' is outside -3 to 3 in row 0: 4"),
        ("score", "1.5", "column 'score' is not a whole number in row 0: '1.5'"),
        ("score", None, "column 'score' is not a whole number in row 0"),
        ("b", "x", "columns 'a' and 'b' name the same condition in row 0: 'x'"),
        ("b", "y\x00", "column 'b' contains a NUL character in row 0"),
        ("listener", " ", "column 'listener' is empty in row 0"),
    ],
)
def test_bad_cmos_rows_are_one_line_errors(column, value, needle):
    df = pd.DataFrame({"listener": ["L"], "item": ["i"], "a": ["x"], "b": ["y"], "score": ["1"]})
    df.loc[0, column] = value
    with pytest.raises(AnalysisError) as exc_info:
        cmos_table(df)
    assert needle in str(exc_info.value) and "\n" not in str(exc_info.value)


def test_missing_cmos_column_is_named():
    df = pd.DataFrame({"listener": ["L"], "item": ["i"], "a": ["x"], "b": ["y"]})
    with pytest.raises(AnalysisError, match=r"missing column\(s\): score"):
        cmos_table(df)
