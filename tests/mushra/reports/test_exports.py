"""Exports read back exactly: webMUSHRA CSV through read_ratings, JSON nulls, LaTeX escapes."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from mushra.analysis import AnalysisError, read_ratings, tidy
from mushra.reports import ReportMeta, write_report
from mushra.reports.exports import (
    analysis_json,
    latex_escape,
    latex_means,
    tidy_csv,
    webmushra_csv,
)

META = ReportMeta(title="Odd names", reference="ref")


def odd_ratings() -> pd.DataFrame:
    """Names with CSV and LaTeX specials, fractional and integer scores, a stratum column."""
    rows = []
    for listener in ("a, b", 'quote"d', "7"):
        for item in ("item 1", "item_2"):
            for condition, score in (("ref", 100.0), ("TTS & co_1", 72.5), ("50% $x$", 0.1 + 0.2)):
                rows.append((listener, item, condition, score, "f" if listener == "7" else "m"))
    return tidy(pd.DataFrame(rows, columns=["listener", "item", "condition", "score", "gender"]))


def test_webmushra_csv_has_webmushra_columns_with_strata_as_participant_fields():
    text = webmushra_csv(odd_ratings(), test_id="my_test")
    header, first = text.splitlines()[:2]
    assert header == (
        "session_test_id,gender,session_uuid,trial_id,rating_stimulus,rating_score,"
        "rating_time,rating_comment"
    )
    assert first == 'my_test,m,"a, b",item 1,ref,100,,'


def test_webmushra_csv_reads_back_to_the_same_tidy_ratings(tmp_path):
    ratings = odd_ratings()
    path = tmp_path / "mushra.csv"
    path.write_text(webmushra_csv(ratings))
    back = read_ratings(path)
    cols = ["listener", "item", "condition", "score"]
    assert back[cols].equals(ratings[cols])  # scores bit for bit, 0.1 + 0.2 included


def test_tidy_csv_keeps_integers_integral_and_reads_back(tmp_path):
    ratings = odd_ratings()
    text = tidy_csv(ratings)
    assert text.splitlines()[0] == "listener,item,condition,score,gender"
    assert '"a, b",item 1,ref,100,m' in text
    path = tmp_path / "ratings.csv"
    path.write_text(text)
    back = read_ratings(path)
    assert back[["listener", "item", "condition", "score"]].equals(
        ratings[["listener", "item", "condition", "score"]]
    )


def test_analysis_json_writes_nan_as_null_and_keeps_key_order():
    result = {
        "z_first": 1,
        "omnibus": {"statistic": float("nan"), "p": None, "kendall_w": float("inf")},
        "conditions": [{"condition": "x", "ci95": (float("nan"), 3.0)}],
        "a_last": True,
    }
    text = analysis_json(result)
    assert "NaN" not in text and "Infinity" not in text
    back = json.loads(text)
    assert list(back) == ["z_first", "omnibus", "conditions", "a_last"]
    assert back["omnibus"] == {"statistic": None, "p": None, "kendall_w": None}
    assert back["conditions"][0]["ci95"] == [None, 3.0]
    assert text.startswith('{\n  "z_first"')  # indent 2


def test_analysis_json_accepts_numpy_scalars():
    import numpy as np

    text = analysis_json({"n": np.int64(3), "mean": np.float64("nan"), "ok": np.bool_(True)})
    assert json.loads(text) == {"n": 3, "mean": None, "ok": True}


def test_latex_escape_handles_every_special_character_once():
    assert latex_escape(r"a_b & 50% #1 $x$ {y} ~z ^w \v") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{}z \textasciicircum{}w \textbackslash{}v"
    )


def test_latex_means_is_a_booktabs_tabular_with_escaped_names():
    result = {
        "conditions": [
            {
                "condition": "TTS_v2 & more",
                "n": 12,
                "mean": 61.26,
                "sd": 9.04,
                "ci95": [55.0, 67.5],
            },
            {"condition": "Anchor", "n": 12, "mean": 3.0, "sd": None, "ci95": [-1.25, math.nan]},
        ]
    }
    text = latex_means(result)
    lines = text.splitlines()
    assert lines[0] == r"\begin{tabular}{lrrrc}" and lines[-1] == r"\end{tabular}"
    assert r"\toprule" in lines and r"\midrule" in lines and r"\bottomrule" in lines
    assert r"TTS\_v2 \& more & 12 & 61.3 & 9.0 & [55.0, 67.5] \\" in lines
    assert r"Anchor & 12 & 3.0 & -- & -- \\" in lines


def test_write_report_refuses_unknown_formats_before_writing(tmp_path):
    with pytest.raises(AnalysisError, match="unknown report format"):
        write_report({}, odd_ratings(), META, tmp_path / "out", formats=("html", "docx"))
    assert not (tmp_path / "out").exists()


def test_write_report_writes_only_the_requested_formats(tmp_path):
    paths = write_report({"conditions": []}, odd_ratings(), META, tmp_path, formats=("json", "csv"))
    assert sorted(paths) == ["analysis.json", "ratings.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis.json", "ratings.csv"]
