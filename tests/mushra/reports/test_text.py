"""Numbers, sentences and the methods paragraph say exactly what the result contains."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pandas as pd
import pytest

from mushra.analysis import AnalysisError, tidy
from mushra.reports import ReportMeta, render_html, render_pdf
from mushra.reports.common import friedman_k, interval, num, pvalue, stars
from mushra.reports.html import gap_sentence, omnibus_text
from mushra.reports.methods import methods_paragraph
from tests.support.reports import build_result

META = ReportMeta(
    title="Small test",
    reference="ref",
    low_anchor="low",
    n_boot=200,
    seed=7,
    source="small.csv",
    generated="2025-01-01",
)


def small_ratings() -> pd.DataFrame:
    rows = []
    for listener in range(5):
        for item in range(4):
            for condition, base in (("ref", 95), ("new", 70), ("old", 55), ("low", 15)):
                score = min(100, base + 3 * ((listener * 7 + item * 3) % 5))
                rows.append((f"L{listener}", f"s{item}", condition, score))
    return tidy(pd.DataFrame(rows, columns=["listener", "item", "condition", "score"]))


@pytest.fixture(scope="module")
def small():
    ratings = small_ratings()
    result = build_result(
        ratings, reference="ref", anchors=("low",), gap=("new", "old", "ref"), mixed=False
    )
    return result, ratings


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.00049, "< 0.001"), (0.001, "0.001"), (0.0063712, "0.00637"), (0.04999, "0.05"),
     (0.5, "0.5"), (1.0, "1"), (None, "—"), (float("nan"), "—")],
)  # fmt: skip
def test_p_values_have_three_significant_digits_or_a_floor(p, text):
    assert pvalue(p) == text


def test_numbers_and_intervals_use_real_minus_signs_and_dashes():
    assert num(66.7105) == "66.7"
    assert num(-0.04) == "0.0"  # no "−0.0"
    assert num(-3.25, 2) == "−3.25"
    assert interval([12.06, 41.04], unit=" %") == "12.1–41.0 %"
    assert interval([-3.0, 12.1]) == "−3.0 to 12.1"
    assert interval([None, 2.0]) == "—"


def test_significance_marks_follow_the_holm_p():
    assert [stars(p) for p in (0.0009, 0.009, 0.049, 0.05, None)] == ["***", "**", "*", "n.s.", ""]


def test_gap_sentence_reads_like_a_paper():
    gap = {
        "new": "Proposed",
        "base": "Lyra 6",
        "top": "Reference",
        "gap_closure_pct": 27.83,
        "gap_closure_ci95": [12.06, 41.0],
        "relative_improvement_pct": 32.7,
        "relative_improvement_ci95": [15.0, 50.04],
    }
    assert gap_sentence(gap) == (
        "Proposed closed 27.8 % (95 % CI 12.1–41.0 %) of the gap between Lyra 6 and Reference, "
        "a relative improvement of 32.7 % (95 % CI 15.0–50.0 %) over Lyra 6."
    )


def test_methods_mention_only_what_was_computed(small):
    result, _ = small
    full = methods_paragraph(result, META)
    assert "Friedman" in full and "Gap closure" in full and "m = 1 comparison " in full
    assert "mixed model" not in full.lower()  # none was fitted
    assert "200 bootstrap resamples of listeners as clusters (seed 7)" in full
    bare = {**result, "pairwise": [], "omnibus": None, "gaps": []}
    text = methods_paragraph(bare, META)
    for absent in ("Wilcoxon", "Holm", "Friedman", "Gap closure", "mixed model"):
        assert absent not in text


def test_methods_say_when_screening_was_off(small):
    result, _ = small
    off = dataclasses.replace(META, screening=False, seed=None)
    text = methods_paragraph(result, off)
    assert "not post-screened" in text and "BS.1534-3 §4.1.2" not in text
    assert "no fixed seed" in text


def test_methods_and_html_say_when_the_analysis_skipped_screening(small):
    result, ratings = small
    rule = "screening skipped: no hidden reference condition (name the reference)"
    skipped = {**result, "screening": {"rules": [rule], "excluded": []}}
    assert f"not post-screened ({rule})" in methods_paragraph(skipped, META)
    html = render_html(skipped, ratings, META)
    assert "No post-screening (screening skipped: no hidden reference" in html
    assert "excluded by screening" not in html


def test_friedman_degrees_of_freedom_come_from_kendalls_w():
    omnibus = {"statistic": 30.0, "p": 1e-6, "kendall_w": 0.5, "n_blocks": 20}
    assert friedman_k(omnibus) == 4  # W = χ²/(n(k − 1)) → k − 1 = 30/(20·0.5) = 3
    assert omnibus_text(omnibus).startswith("Friedman test: χ²(3) = 30.00, p < 0.001")
    assert "(4 conditions, n = 20 complete" in omnibus_text(omnibus)
    assert friedman_k({**omnibus, "kendall_w": None}) is None


def test_html_renders_a_result_with_nulls_everywhere(small):
    result, ratings = small
    nulls = {
        **result,
        "conditions": [
            {**row, "sd": None, "ci95": [None, None], "ci95_bootstrap": [float("nan")] * 2}
            for row in result["conditions"]
        ],
        "omnibus": {"statistic": None, "p": None, "kendall_w": None, "n_blocks": 0},
        "mixed_model": None,
        "gaps": [{**result["gaps"][0], "gap_closure_pct": None, "gap_closure_ci95": None}],
    }
    html = render_html(nulls, ratings, META)
    assert "Friedman test not computed: 0 complete (listener, item) blocks." in html
    assert "new closed — % (95 % CI —)" in html
    assert "Mixed model" not in html


def test_html_says_when_nobody_was_excluded(small):
    result, ratings = small
    assert result["screening"]["excluded"] == []
    html = render_html(result, ratings, META)
    assert "No listener was excluded." in html


def test_pdf_without_weasyprint_is_a_one_line_analysis_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import now raises ImportError
    with pytest.raises(AnalysisError) as err:
        render_pdf("<html></html>")
    assert "pip install" in str(err.value) and "\n" not in str(err.value)


def test_reports_import_without_django():
    code = (
        "import sys, mushra.reports, mushra.reports.pdf; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
