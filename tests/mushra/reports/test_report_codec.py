"""Reports on the real codec-mushra test: PDF pages render, the HTML says what a paper needs."""

from __future__ import annotations

import re
import subprocess

import matplotlib.image
import numpy as np
import pytest

from mushra.analysis import read_ratings
from mushra.reports import render_html, render_pdf, write_report
from mushra.reports.common import condition_order
from mushra.reports.plots import condition_plot, item_plot
from tests.support.reports import build_result
from tests.support.services import need_pdftoppm

pytestmark = pytest.mark.shared_data

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def html(codec_result, codec_ratings, meta) -> str:
    return render_html(codec_result, codec_ratings, meta)


def test_pdf_first_page_renders_as_a_non_blank_image(codec_result, codec_ratings, meta, tmp_path):
    need_pdftoppm()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(render_html(codec_result, codec_ratings, meta)))
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 5_000
    pixels = matplotlib.image.imread(png)[..., :3]
    assert pixels.std() > 0.05  # text, tables and a plot, not a white page
    assert (pixels.mean(axis=2) < 0.5).mean() > 0.01  # some dark ink


def test_html_inlines_both_plots_and_names_every_condition(html, codec_result):
    assert len(re.findall(r"<svg\b", html)) == 2
    assert "Scores by condition" in html and "Mean score per item" in html
    for row in codec_result["conditions"]:
        assert f'<td class="name">{row["condition"]}</td>' in html


def test_html_lists_the_screened_out_listeners_with_rule_and_fraction(html):
    screening = html[html.index("Listener screening") : html.index("Scores by condition")]
    rows = re.findall(
        r"<tr><td>(\w+)</td><td>([^<]+)</td><td class=\"num\">([^<]+)</td></tr>", screening
    )
    assert rows == [
        ("6", "hidden reference below 90 on more than 15% of items", "62.5 %"),
        ("17", "hidden reference below 90 on more than 15% of items", "25.0 %"),
    ]
    assert "21 took part, 2 excluded by screening, 19 analysed" in html


def test_html_has_the_pairwise_table_with_holm_marks_and_legend(html, codec_result):
    assert "Pairwise comparisons" in html and "p (Holm)" in html
    assert html.count('<td class="sig">') == len(codec_result["pairwise"]) == 21
    # Reference notes §4a: AudioDec vs Proposed 5.51, p = 0.00637 before correction.
    row = re.search(r"AudioDec</td><td class=\"name\">Proposed 5.51</td>(.*?)</tr>", html, re.S)
    assert row and "0.00637" in row.group(1) and '<td class="sig">*</td>' in row.group(1)
    assert "* &lt; 0.05, ** &lt; 0.01, *** &lt; 0.001" in html


def test_html_states_gap_closure_as_a_pasteable_sentence(html):
    sentence = re.search(
        r"Proposed 5\.51 closed (\d+\.\d) % \(95 % CI (\d+\.\d)–(\d+\.\d) %\) of the gap between "
        r"Lyra 6 and Reference, a relative improvement of (\d+\.\d) %",
        html,
    )
    assert sentence, "gap sentence missing"
    g, lo, hi, r = map(float, sentence.groups())
    assert (g, r) == (27.8, 32.7)  # reference notes §2: G = 27.83 %, R = 32.70 %
    assert lo < g < hi


def test_html_has_omnibus_mixed_model_and_methods(html):
    # The hand-built result tests all 9 conditions: k − 1 = 8 degrees of freedom.
    assert re.search(r"Friedman test: χ²\(8\) = \d+\.\d\d, p &lt; 0.001", html)
    assert "Kendall&#39;s W" in html
    assert "Variance components: listener" in html
    methods = html[html.index("<h2>Methods</h2>") :]
    for phrase in (
        "ITU-R BS.1534-3 §4.1.2",
        "2 of 21 listeners were excluded",
        "t interval on per-listener means",
        "300 bootstrap resamples of listeners as clusters (seed 1)",
        "two-sided Wilcoxon signed-rank test",
        "m = 21 comparisons",
        "rank-biserial",
        "A Friedman test compared 9 conditions on the 152 complete (listener, item) blocks",
        "fitted by REML",
        "Gap closure G = (S_new − S_base)/(S_top − S_base)·100",
    ):
        assert phrase in methods, phrase


def test_html_fetches_nothing_from_outside(html):
    # Only XML namespace names may contain "http": they are identifiers, never fetched.
    assert set(re.findall(r'[\w:]+="?http[^"\s]*', html)) <= {
        'xmlns="http://www.w3.org/2000/svg',
        'xmlns:xlink="http://www.w3.org/1999/xlink',
    }
    assert not re.search(r"(src|href)=\"(?!#)", html)
    assert "@import" not in html and "<link" not in html


def test_condition_names_are_escaped_in_html_and_plots(codec_ratings, meta):
    ratings = codec_ratings.replace({"condition": {"Lyra 3": SCRIPT}})
    result = build_result(ratings)
    html = render_html(result, ratings, meta)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_plots_show_reference_first_and_anchor_last_and_are_reproducible(
    codec_result, codec_ratings, meta
):
    order = condition_order(codec_result, meta)
    assert order[0] == "Reference" and order[-1] == "Anchor"
    means = {r["condition"]: r["mean"] for r in codec_result["conditions"]}
    systems = [means[c] for c in order[1:-1]]
    assert systems == sorted(systems, reverse=True)
    first = condition_plot(codec_result, codec_ratings, meta)
    assert first == condition_plot(codec_result, codec_ratings, meta)
    assert item_plot(codec_result, codec_ratings, meta) == item_plot(
        codec_result, codec_ratings, meta
    )
    labels = [t for t in re.findall(r">([^<>]+)</text>", first) if t.strip() in means]
    assert labels[0] == "Reference" and labels[-1] == "Anchor"
    for band in ("Bad", "Poor", "Fair", "Good", "Excellent"):
        assert f">{band}</text>" in first


def test_excluded_listeners_are_left_out_of_the_plots(codec_result, codec_ratings, meta):
    from mushra.reports.plots import item_means

    table = item_means(codec_result, codec_ratings, meta)
    kept = codec_ratings[~codec_ratings["listener"].isin(["6", "17"])]
    expected = kept.groupby(["item", "condition"])["score"].mean().unstack()
    assert np.allclose(table.sort_index().sort_index(axis=1), expected.sort_index(axis=1))


def test_strata_appear_when_present(strata_result, strata_ratings, meta):
    html = render_html(strata_result, strata_ratings, meta)
    assert "By stratum" in html
    for value in ("TSP", "VCTK"):
        section = html[html.index(f"corpus = {value}") :]
        assert "ratings, 19 listeners, 8 items" in section[:400]
    assert html.count("of the gap between Lyra 6 and Reference") == 3  # overall + 2 strata
    assert "computed again within each value of corpus" in html


def test_no_strata_section_without_strata(html):
    assert "By stratum" not in html


def test_write_report_writes_every_format(strata_result, strata_ratings, meta, tmp_path):
    paths = write_report(strata_result, strata_ratings, meta, tmp_path / "new" / "dir")
    assert sorted(paths) == sorted(
        [
            "report.html",
            "report.pdf",
            "ratings.csv",
            "mushra.csv",
            "analysis.json",
            "means.tex",
            "conditions.svg",
            "items.svg",
        ]
    )
    for path in paths.values():
        assert path.is_file() and path.stat().st_size > 100
    back = read_ratings(paths["mushra.csv"])
    assert len(back) == len(strata_ratings)
    assert paths["conditions.svg"].read_text().startswith("<?xml")
    assert "<svg" in paths["report.html"].read_text()


def test_webmushra_export_of_the_codec_test_reads_back_identically(codec_ratings, tmp_path):
    from mushra.reports.exports import webmushra_csv

    path = tmp_path / "mushra.csv"
    path.write_text(webmushra_csv(codec_ratings, test_id="codec"))
    back = read_ratings(path)
    cols = ["listener", "item", "condition", "score"]
    assert back[cols].equals(codec_ratings[cols].reset_index(drop=True))


def test_the_real_analysis_result_renders(codec_ratings, meta, tmp_path):
    from mushra.analysis import Spec, analyze

    spec = Spec(
        reference="Reference",
        low_anchor="Anchor",
        gaps=(("Proposed 5.51", "Lyra 6", "Reference"),),
        n_boot=300,
        seed=1,
    )
    result = analyze(codec_ratings, spec).to_dict()
    paths = write_report(result, codec_ratings, meta, tmp_path, formats=("html", "pdf"))
    html = paths["report.html"].read_text()
    assert "Proposed 5.51 closed 27.8 % (95 % CI " in html
    assert "7 conditions under test (hidden reference and anchors left out)" in html
    assert paths["report.pdf"].read_bytes().startswith(b"%PDF")
