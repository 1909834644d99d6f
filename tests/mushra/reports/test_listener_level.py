"""The report shows listener-level tests, untestable pairs and unscreened listeners (issue 15)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from mushra.analysis import Spec, analyze, tidy
from mushra.analysis.synthetic import mushra_ratings
from mushra.reports import ReportMeta, render_html
from mushra.reports.methods import methods_paragraph


@pytest.fixture(scope="module")
def report():
    """Eight listeners; 'rare' rated by one listener on two items; L3 rated no reference."""
    df = tidy(mushra_ratings(8, 5, 5, seed=6))
    rare = df[
        (df["condition"] == "sys01") & (df["listener"] == "L0") & df["item"].isin(["i0", "i1"])
    ]
    df = pd.concat([df[df["condition"] != "sys01"], rare.assign(condition="rare")])
    df = df[~((df["listener"] == "L3") & (df["condition"] == "reference"))]
    result = analyze(df, Spec(low_anchor="anchor", n_boot=100, mixed="none"))
    meta = ReportMeta.for_spec(result.spec, title="Edge", source="edge.csv")
    data = result.to_dict()
    return data, render_html(data, result.rated, meta), methods_paragraph(data, meta)


def table(html: str, css_class: str) -> str:
    match = re.search(rf'<table class="data {css_class}">(.*?)</table>', html, re.S)
    assert match, css_class
    return match.group(1)


def test_listener_level_table_sits_beside_the_pairwise_one(report):
    data, html, _ = report
    listener = table(html, "pairwise-listener")
    assert '<th class="num">Listeners</th>' in listener and "d<sub>z</sub>" in listener
    tested = next(p for p in data["pairwise_listener"] if p["untestable"] is None)
    assert f'<td class="num">{tested["n_listeners"]}</td>' in listener
    assert html.index('class="data pairwise"') < html.index('class="data pairwise-listener"')


def test_untestable_pairs_are_named_with_their_reason(report):
    _, html, methods = report
    assert "rare vs sys02: left out of the Holm family (fewer than 6 non-zero differences" in html
    assert "m = 1 comparison (2 left out: with fewer than 6 non-zero differences" in methods


def test_methods_describe_the_listener_level_family(report):
    _, _, methods = report
    assert "The same comparisons were also tested with the listener as the unit" in methods
    assert "Holm–Bonferroni corrected as a family of its own (m = 1 comparison" in methods
    assert "Cohen's d_z" in methods


def test_unscreened_listener_is_listed_in_the_report(report):
    data, html, methods = report
    assert [u["listener"] for u in data["screening"]["unscreened"]] == ["L3"]
    unscreened = table(html, "unscreened")
    assert "<td>L3</td>" in unscreened and "rated no hidden reference" in unscreened
    assert "1 kept listener could not be judged by every rule" in methods
