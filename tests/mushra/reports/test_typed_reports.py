"""Reports of ACR, SMOS, CMOS, A/B and ABX results: the figure shows what a paper needs, the
page has every table, says how each number was computed and escapes names from the data.

Results come from ``analyze_any`` on small synthetic frames, so the reports are tested on the
exact JSON layout the analysis produces; one condition is called ``<script>alert(1)</script>``
throughout, as a scientist's or a crowd worker's label could be.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html import escape as esc

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mushra.analysis import AnalysisError
from mushra.analysis.types import Options, analyze_any
from mushra.reports import common as c
from mushra.reports.typed import typed_plot_svg, typed_report_html, typed_report_pdf
from mushra.reports.typed_plots import clopper_pearson, proportion_ci

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
SVG = "{http://www.w3.org/2000/svg}"
TYPES = ("acr", "smos", "cmos", "ab", "abx")


def acr_frame() -> pd.DataFrame:
    """8 listeners rate 4 items of 3 conditions; L1 fails a trapping question."""
    rng = np.random.default_rng(0)
    rows = []
    for listener in range(8):
        offset = rng.normal(0, 0.5)
        for item in range(4):
            for condition, mean in (("base", 2.5), ("new", 3.4), (HOSTILE, 4.1)):
                score = int(np.clip(np.round(mean + offset + rng.normal(0, 0.8)), 1, 5))
                rows.append((f"L{listener}", f"i{item}", condition, score))
    ratings = pd.DataFrame(rows, columns=["listener", "item", "condition", "score"])
    traps = pd.DataFrame(
        [
            {"listener": f"L{k}", "item": f"trap{k}", "condition": "", "score": 3 if k == 1 else 1,
             "check": "trap", "expected": 1}
            for k in range(8)
        ]
    )  # fmt: skip
    return pd.concat([ratings, traps], ignore_index=True)


def cmos_frame() -> pd.DataFrame:
    """10 listeners judge two pairs on 6 items, the order of presentation balanced."""
    rng = np.random.default_rng(1)
    rows = []
    for listener in range(10):
        for item in range(6):
            for a, b, mean in (("base", "new", 1.0), ("new", HOSTILE, 0.3)):
                score = int(np.clip(np.round(mean + rng.normal(0, 1)), -3, 3))
                if item % 2:
                    a, b, score = b, a, -score
                rows.append((f"L{listener}", f"i{item}", a, b, score))
    return pd.DataFrame(rows, columns=["listener", "item", "a", "b", "score"])


def ab_frame(probs: dict | None = None) -> pd.DataFrame:
    """8 listeners judge the 3 pairs of 3 conditions on 6 items; probs: (a, none, b) per pair."""
    probs = probs or {("base", "new"): (0.2, 0.2, 0.6), ("base", HOSTILE): (0.15, 0.25, 0.6),
                      ("new", HOSTILE): (0.35, 0.3, 0.35)}  # fmt: skip
    rng = np.random.default_rng(2)
    rows = []
    for listener in range(8):
        for item in range(6):
            for (a, b), p in probs.items():
                chosen = rng.choice([a, "none", b], p=p)
                first, second = (b, a) if item % 2 else (a, b)
                rows.append((f"L{listener}", f"i{item}", first, second, chosen))
    return pd.DataFrame(rows, columns=["listener", "item", "a", "b", "preferred"])


def abx_frame() -> pd.DataFrame:
    """6 listeners do 8 trials of each of two pairs: one easy to tell apart, one near chance."""
    rng = np.random.default_rng(3)
    rows = []
    for listener in range(6):
        for item in range(8):
            for a, b, p_correct in (("base", "new", 0.85), ("new", HOSTILE, 0.55)):
                x = (a, b)[item % 2]
                other = b if x == a else a
                answer = x if rng.random() < p_correct else other
                rows.append((f"L{listener}", f"i{item}", a, b, x, answer))
    return pd.DataFrame(rows, columns=["listener", "item", "a", "b", "x", "answer"])


FRAMES = {"acr": acr_frame, "smos": acr_frame, "cmos": cmos_frame, "ab": ab_frame,
          "abx": abx_frame}  # fmt: skip


def result(test_type: str) -> dict:
    """The analysis as it is stored: through JSON and back."""
    data = analyze_any(FRAMES[test_type](), Options(test_type=test_type)).to_dict()
    return json.loads(json.dumps(data))


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    return {t: result(t) for t in TYPES}


def texts(svg: str) -> list[str]:
    """The text elements of an SVG, which must parse as XML."""
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def tick_texts(svg: str, axis: str) -> list[str]:
    root = ET.fromstring(svg)
    ticks = [g for g in root.iter(f"{SVG}g") if f"-{axis}tick_" in g.get("id", "")]
    return ["".join(t.itertext()) for g in ticks for t in g.iter(f"{SVG}text")]


def report(data: dict) -> str:
    return typed_report_html(
        data, title=f"Listening test {HOSTILE}", source="ratings.csv", question="How natural?"
    )


@pytest.mark.parametrize(("test_type", "y_label"), [("acr", "MOS"), ("smos", "Similarity MOS")])
def test_mos_plot_shows_each_condition_in_data_order_with_its_mos(results, test_type, y_label):
    data = results[test_type]
    svg = typed_plot_svg(data)
    shown = texts(svg)
    names = [r["condition"] for r in data["conditions"]]
    assert tick_texts(svg, "x") == names  # as in the data, the hostile name as text
    assert y_label in shown
    assert tick_texts(svg, "y")[:5] == ["1", "2", "3", "4", "5"]
    for row in data["conditions"]:
        assert f"{row['mean']:.2f}" in shown
    assert ("Excellent" in shown) == (test_type == "acr")  # ACR's category names only


def test_cmos_plot_has_one_row_per_pair_labelled_b_vs_a_around_zero(results):
    data = results["cmos"]
    svg = typed_plot_svg(data)
    assert tick_texts(svg, "y") == [f"{p['b']} vs {p['a']}" for p in data["pairs"]]
    assert tick_texts(svg, "x") == ["−3", "−2", "−1", "0", "1", "2", "3"]
    shown = texts(svg)
    for p in data["pairs"]:
        value = c.num(p["mean"], 2)
        assert (f"+{value}" if p["mean"] > 0 else value) in shown


def test_ab_plot_shows_each_pairs_shares_and_the_bradley_terry_ranking(results):
    data = results["ab"]
    svg = typed_plot_svg(data)
    shown = texts(svg)
    for p in data["pairs"]:
        assert p["a"] in shown and p["b"] in shown
        for key in ("share_a", "share_none", "share_b"):
            assert f"{100 * p[key]:.0f} %" in shown
    ranked = [f"{r['rank']}. {r['condition']}" for r in data["bradley_terry"]["conditions"]]
    assert [t for t in shown if t in ranked] == ranked


def test_ab_plot_without_bradley_terry_strengths_has_only_the_shares():
    # "new" wins every judgement it is in (no ties either, which count half a win each): its
    # strength is infinite, so none is estimated.
    probs = {("base", "new"): (0.0, 0.0, 1.0), ("new", HOSTILE): (1.0, 0.0, 0.0),
             ("base", HOSTILE): (0.3, 0.3, 0.4)}  # fmt: skip
    data = analyze_any(ab_frame(probs), Options(test_type="ab")).to_dict()
    assert data["bradley_terry"]["undefined"]
    svg = typed_plot_svg(data)
    assert not any(t.startswith("1. ") for t in texts(svg))
    html = report(data)
    assert "Not estimated: new never lost a judgement" in html


def test_abx_plot_shows_proportion_correct_per_pair_and_a_dashed_chance_line(results):
    data = results["abx"]
    svg = typed_plot_svg(data)
    assert tick_texts(svg, "y") == [*(f"{p['a']} vs {p['b']}" for p in data["pairs"]),
                                    "All trials"]  # fmt: skip
    shown = texts(svg)
    for p in [*data["pairs"], data["overall"]]:
        assert f"{p['correct']}/{p['n']} ({100 * p['proportion']:.0f} %)" in shown
    assert "stroke-dasharray" in svg


def test_clopper_pearson_is_scipys_exact_interval_and_a_given_interval_wins():
    low, high = clopper_pearson(25, 48)
    assert low == pytest.approx(stats.beta.ppf(0.025, 25, 24))
    assert high == pytest.approx(stats.beta.ppf(0.975, 26, 23))
    assert clopper_pearson(0, 0) is None
    assert proportion_ci({"n": 48, "correct": 25, "ci95": [0.4, 0.6]}) == [0.4, 0.6]
    assert proportion_ci({"n": 48, "correct": 25, "ci95": None}) == [low, high]


@pytest.mark.parametrize("test_type", TYPES)
def test_same_result_gives_byte_identical_svg(results, test_type):
    first = typed_plot_svg(results[test_type])
    assert typed_plot_svg(json.loads(json.dumps(results[test_type]))) == first
    assert "<metadata>" not in first and "<dc:date>" not in first


@pytest.mark.parametrize("test_type", TYPES)
def test_report_escapes_names_and_inlines_the_figure(results, test_type):
    html = report(results[test_type])
    assert "<script" not in html.lower()
    assert ESCAPED in html
    assert "<title>Listening test &lt;script&gt;" in html
    assert html.count("<svg") == 1 and "Question asked: “How natural?”" in html
    assert "<link" not in html and 'src="' not in html  # self-contained


def test_acr_report_has_mos_table_screening_and_clustered_interval_methods(results):
    data = results["acr"]
    html = report(data)
    for row in data["conditions"]:
        assert f'<td class="num">{c.num(row["mean"], 2)}</td>' in html
        assert c.interval(row["ci95"], 2) in html
    for p in data["pairwise"]:
        assert esc(c.pvalue(p["p"])) in html and c.num(p["mean_diff"], 2) in html
    assert [e["listener"] for e in data["screening"]["excluded"]] == ["L1"]
    assert '<td class="name">L1</td><td class="">trapping question not answered' in html
    assert "clustered by listener: ratings of one listener are not independent" in html
    assert "1 of 8 listeners was excluded with all their ratings (L1, trapping question" in html
    assert "Holm-corrected across the 2 compared pairs" in html and "ITU-T P.808" in html
    untestable = [p for p in data["pairwise"] if p["untestable"]]
    assert [(p["a"], p["b"]) for p in untestable] == [(HOSTILE, "new")]
    assert f"{ESCAPED} vs new: left out of the Holm family (fewer than 6" in html


def test_smos_report_speaks_of_similarity(results):
    html = report(results["smos"])
    assert "similarity to the target speaker" in html
    assert '<th class="num">SMOS</th>' in html


def test_cmos_report_has_pairs_order_effect_and_methods(results):
    data = results["cmos"]
    html = report(data)
    for p in data["pairs"]:
        assert f"{c.num(p['mean'], 2)}</td>" in html
        assert c.interval(p["ci95"], 2) in html and esc(c.pvalue(p["p_holm"])) in html
        reported, reversed_ = p["order"]["as_reported"], p["order"]["reversed"]
        assert f"{c.num(reported['mean'], 2)} (n {reported['n']})" in html
        assert f"{c.num(reversed_['mean'], 2)} (n {reversed_['n']})" in html
    assert "new vs base</td>" in html  # "B vs A" as the data orients the pair
    assert "clustered by listener: judgements of one listener are not independent" in html
    assert "against 0 with a two-sided Wilcoxon signed-rank test" in html


def test_ab_report_has_shares_binomial_tests_and_bradley_terry(results):
    data = results["ab"]
    html = report(data)
    for p in data["pairs"]:
        assert f"{p['n_a']} ({100 * p['share_a']:.1f} %)" in html
        assert f"{p['n_none']} ({100 * p['share_none']:.1f} %)" in html
        assert esc(c.pvalue(p["p"])) in html
    for r in data["bradley_terry"]["conditions"]:
        assert c.interval(r["ci95"], 2) in html and c.num(r["log_strength"], 2) in html
    assert "a no-preference judgement counts half a win for each" in html
    assert "The binomial tests treat each judgement as independent" in html


def test_abx_report_has_pairs_listeners_and_exact_intervals(results):
    data = results["abx"]
    html = report(data)
    overall = data["overall"]
    assert f"{overall['correct']} of {overall['n']} correct" in html
    for row in [*data["pairs"], *data["listeners"]]:
        low, high = clopper_pearson(row["correct"], row["n"])
        assert f"{100 * low:.1f}–{100 * high:.1f} %" in html
        assert f"{100 * row['proportion']:.1f} %" in html
    assert '<td class="name">L5</td>' in html
    assert "one-sided exact binomial test against 1/2" in html
    assert "treat each trial as independent" in html


def test_notes_from_the_data_are_shown_escaped(results):
    data = {**results["abx"], "notes": ["2 rows without an answer were dropped <b>"]}
    assert "Note: 2 rows without an answer were dropped &lt;b&gt;" in report(data)


def test_acr_report_without_screening_says_so():
    data = analyze_any(acr_frame(), Options(test_type="acr", screening=False)).to_dict()
    html = report(data)
    assert "Listeners were not screened (screening off)" in html
    kept = (
        "No screening (screening off (every listener kept, as asked)): every listener is analysed."
    )
    assert kept in html
    assert "8 (no screening)" in html


def test_mushra_results_are_refused_with_an_analysis_error():
    with pytest.raises(AnalysisError, match="MUSHRA results have the MUSHRA report"):
        typed_plot_svg({"test_type": "mushra"})
    with pytest.raises(AnalysisError, match="no typed report"):
        report({"test_type": "mushra_noref"})


@pytest.mark.parametrize("test_type", ("acr", "ab"))
def test_pdf_of_the_report_is_a_pdf(results, test_type):
    assert typed_report_pdf(report(results[test_type])).startswith(b"%PDF")
