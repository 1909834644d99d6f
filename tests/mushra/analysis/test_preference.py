"""A/B preference: shares, exact binomial tests on decided judgements with Holm, and
Bradley–Terry with three or more conditions; checked against scipy and statsmodels."""

import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mushra.analysis import AnalysisError
from mushra.analysis.types import Options, analyze_any
from mushra.analysis.types.preference import ab_table


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["listener", "item", "a", "b", "preferred"])


def pair_rows(first: str, second: str, n_first: int, n_second: int, n_none: int) -> list:
    """Judgements of one pair, alternating the order of presentation."""
    choices = [first] * n_first + [second] * n_second + ["none"] * n_none
    rows = []
    for k, choice in enumerate(choices):
        a, b = (first, second) if k % 2 else (second, first)
        rows.append((f"L{k % 7}", f"i{k}", a, b, "" if choice == "none" and k % 3 else choice))
    return rows


def analyse(df, **options):
    return analyze_any(df, Options(test_type="ab", **options)).to_dict()


def test_shares_and_binomial_test_equal_scipy_binomtest():
    data = analyse(frame(pair_rows("old", "new", 8, 19, 5)))
    (pair,) = data["pairs"]
    assert (pair["a"], pair["b"], pair["n"]) == ("new", "old", 32)
    assert (pair["n_a"], pair["n_b"], pair["n_none"]) == (19, 8, 5)
    assert pair["share_a"] == pytest.approx(19 / 32) and pair["share_none"] == pytest.approx(5 / 32)
    assert pair["p"] == pytest.approx(stats.binomtest(19, 27, 0.5).pvalue)
    assert data["bradley_terry"] is None  # two conditions: the binomial test says it all


def test_holm_runs_across_the_pairs():
    rows = pair_rows("a1", "b1", 14, 6, 0) + pair_rows("a1", "c1", 20, 4, 2)
    rows += pair_rows("b1", "c1", 9, 11, 1)
    data = analyse(frame(rows))
    p = [stats.binomtest(k, n).pvalue for k, n in ((14, 20), (20, 24), (9, 20))]
    assert [x["p"] for x in data["pairs"]] == pytest.approx(p)
    assert [x["p_holm"] for x in data["pairs"]] == pytest.approx(multipletests(p, method="holm")[1])
    bt = data["bradley_terry"]
    assert [c["condition"] for c in bt["conditions"]][0] == "a1"


def test_declared_pair_orientation_is_kept():
    data = analyse(frame(pair_rows("old", "new", 8, 19, 5)), compare=(("old", "new"),))
    assert (data["pairs"][0]["a"], data["pairs"][0]["n_a"]) == ("old", 8)


def test_too_few_decided_judgements_are_left_out_of_holm():
    rows = pair_rows("a1", "b1", 3, 1, 4) + pair_rows("a1", "c1", 30, 4, 0)
    data = analyse(frame(rows))
    few = data["pairs"][0]
    assert few["untestable"].startswith("only 4 decided judgement(s)")
    assert few["p_holm"] is None
    assert data["pairs"][1]["p_holm"] == pytest.approx(data["pairs"][1]["p"])


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (
            ("L", "i", "x", "y", "z"),
            "column 'preferred' is not the row's a, b or none in row 1: 'z'",
        ),
        (("L", "i", "x", "x", "x"), "columns 'a' and 'b' name the same condition in row 1"),
        (("L", "i", "None", "y", "y"), "column 'a' names a condition 'none' in row 1"),
        (("L", "i", "x", "y\x00", "x"), "column 'b' contains a NUL character in row 1"),
        ((None, "i", "x", "y", "x"), "column 'listener' is empty in row 1"),
    ],
)
def test_bad_ab_rows_are_one_line_errors(row, needle):
    with pytest.raises(AnalysisError) as exc_info:
        ab_table(frame([("L", "i", "x", "y", "NONE"), row]))
    assert needle in str(exc_info.value) and "\n" not in str(exc_info.value)


def test_none_and_blank_both_mean_no_preference():
    table = ab_table(frame([("L", "i", "x", "y", " None "), ("L", "j", "x", "y", None)]))
    assert table["preferred"].tolist() == ["", ""]
