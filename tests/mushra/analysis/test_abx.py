"""ABX: proportion correct with one-sided exact binomial tests, overall, per pair (Holm) and
per listener; and webMUSHRA's paired-comparison page read as ABX."""

import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mushra.analysis import AnalysisError
from mushra.analysis.types import Options, analyze_any
from mushra.analysis.types.abx import abx_table


def trials(pair: tuple[str, str], correct: int, wrong: int, listeners: int = 3) -> list[tuple]:
    first, second = pair
    rows = []
    for k in range(correct + wrong):
        a, b = (first, second) if k % 2 else (second, first)
        x = a if k % 3 else b
        answer = x if k < correct else (b if x == a else a)
        rows.append((f"L{k % listeners}", f"i{k}", a, b, x, answer))
    return rows


def frame(rows):
    return pd.DataFrame(rows, columns=["listener", "item", "a", "b", "x", "answer"])


def analyse(df, **options):
    return analyze_any(df, Options(**options)).to_dict()


def test_abx_tests_equal_one_sided_scipy_binomtest():
    df = frame(trials(("orig", "mp3"), 15, 5) + trials(("orig", "opus"), 11, 9))
    data = analyse(df)
    assert data["test_type"] == "abx"  # recognised by its columns
    assert data["overall"] == {
        "n": 40,
        "correct": 26,
        "proportion": 26 / 40,
        "p": pytest.approx(stats.binomtest(26, 40, alternative="greater").pvalue),
    }
    p = [stats.binomtest(k, 20, alternative="greater").pvalue for k in (15, 11)]
    assert [(x["a"], x["b"]) for x in data["pairs"]] == [("mp3", "orig"), ("opus", "orig")]
    assert [x["p"] for x in data["pairs"]] == pytest.approx(p)
    assert [x["p_holm"] for x in data["pairs"]] == pytest.approx(multipletests(p, method="holm")[1])
    first = data["listeners"][0]
    k = int(df[df["listener"] == "L0"].eval("answer == x").sum())
    assert (first["listener"], first["n"], first["correct"]) == ("L0", 14, k)
    assert first["p"] == pytest.approx(stats.binomtest(k, 14, alternative="greater").pvalue)


def test_pair_with_four_trials_cannot_reach_significance_and_leaves_holm():
    data = analyse(frame(trials(("a1", "b1"), 4, 0) + trials(("a1", "c1"), 18, 2)))
    assert data["pairs"][0]["untestable"].startswith("only 4 trial(s): no outcome")
    assert data["pairs"][0]["p_holm"] is None
    assert data["pairs"][0]["p"] == pytest.approx(1 / 16)


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (("L", "i", "u", "v", "w", "u"), "column 'x' is not the row's a or b in row 1: 'w'"),
        (("L", "i", "u", "v", "u", "w"), "column 'answer' is not the row's a or b in row 1: 'w'"),
        (("L", "i", "u", "u", "u", "u"), "columns 'a' and 'b' name the same condition in row 1"),
        (("L", "i", "u", "v", "u", None), "column 'answer' is empty in row 1"),
    ],
)
def test_bad_abx_rows_are_one_line_errors(row, needle):
    with pytest.raises(AnalysisError) as exc_info:
        abx_table(frame([("L", "i", "u", "v", "u", "u"), row]))
    assert needle in str(exc_info.value) and "\n" not in str(exc_info.value)


def paired_comparison(answers: list[str]) -> pd.DataFrame:
    """webMUSHRA's paired_comparison.csv (service/write.php) with a questionnaire name."""
    return pd.DataFrame(
        {
            "session_test_id": "t1",
            "name": [f"p{k % 2}" for k in range(len(answers))],
            "trial_id": [f"pc{k % 3}" for k in range(len(answers))],
            "choice_reference": "reference",
            "choice_non_reference": "codec",
            "choice_answer": answers,
            "choice_time": "1200",
            "choice_comment": "",
        }
    )


def test_webmushra_paired_comparison_is_abx_with_the_reference_as_x():
    data = analyse(paired_comparison(["correct"] * 7 + ["incorrect", "undecided", "unknown"]))
    assert data["test_type"] == "abx"
    assert data["overall"]["n"] == 8 and data["overall"]["correct"] == 7
    assert data["pairs"][0]["a"] == "codec" and data["pairs"][0]["b"] == "reference"
    assert [r["listener"] for r in data["listeners"]] == ["p0", "p1"]
    assert data["notes"] == [
        "2 trial(s) answered 'undecided' or not answered ('unknown') are left out: they are not "
        "ABX trials"
    ]


def test_webmushra_paired_comparison_refuses_another_test_type():
    with pytest.raises(AnalysisError, match="paired_comparison.csv, which is analysed as abx"):
        analyse(paired_comparison(["correct"]), test_type="ab")


def test_webmushra_unknown_choice_answer_is_named():
    with pytest.raises(AnalysisError, match="column 'choice_answer' .* in row 1: 'maybe'"):
        analyse(paired_comparison(["correct", "maybe"]))
