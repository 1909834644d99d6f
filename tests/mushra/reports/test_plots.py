"""Plots stay readable and correct for odd names, many conditions and many items."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mushra.analysis import tidy
from mushra.reports import ReportMeta
from mushra.reports.plots import condition_plot, item_plot, legend_columns

SYSTEMS = [f"System_{c}_variant" for c in "ABCDEFGHI"]
CONDITIONS = ["Reference", "Anchor 7k", "Anchor 3.5k", *SYSTEMS]
META = ReportMeta(
    title="Large",
    reference="Reference",
    low_anchor="Anchor 3.5k",
    mid_anchor="Anchor 7k",
    question="Naturalness",
)


def large() -> tuple[dict, pd.DataFrame]:
    """12 conditions × 50 items × 3 listeners, with the result's per-condition rows."""
    rng = np.random.default_rng(3)
    quality = dict(zip(CONDITIONS, [97, 45, 15, *np.linspace(30, 85, 9)], strict=True))
    rows = [
        (
            f"L{lis}",
            f"sentence_{item:02d}",
            c,
            float(np.clip(quality[c] + rng.normal(0, 8), 0, 100)),
        )
        for lis in range(3)
        for item in range(50)
        for c in CONDITIONS
    ]
    ratings = tidy(pd.DataFrame(rows, columns=["listener", "item", "condition", "score"]))
    means = ratings.groupby("condition")["score"].mean()
    conditions = [
        {"condition": c, "mean": float(means[c]), "ci95": [means[c] - 3, means[c] + 3]}
        for c in CONDITIONS
    ]
    excluded = [{"listener": "L2", "rule": "test", "fraction": 1.0}]
    return {"conditions": conditions, "screening": {"excluded": excluded}}, ratings


def text_of(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_condition_plot_orders_reference_systems_by_mean_then_anchors():
    result, ratings = large()
    svg = condition_plot(result, ratings, META)
    names = [t for t in text_of(svg) if t in CONDITIONS]
    assert names == ["Reference", *reversed(SYSTEMS), "Anchor 7k", "Anchor 3.5k"]
    assert "Scores by condition (Naturalness)" in text_of(svg)


def test_item_plot_has_every_item_and_a_legend_entry_per_condition():
    result, ratings = large()
    svg = item_plot(result, ratings, META)
    texts = text_of(svg)
    assert sum(t.startswith("sentence_") for t in texts) == 50
    assert sorted(t for t in texts if t in CONDITIONS) == sorted(CONDITIONS)


def test_svg_ids_are_unique_across_both_plots():
    result, ratings = large()
    ids = re.findall(r'\bid="([^"]+)"', condition_plot(result, ratings, META))
    ids += re.findall(r'\bid="([^"]+)"', item_plot(result, ratings, META))
    assert len(ids) == len(set(ids))


def test_legend_columns_shrink_for_long_names():
    assert legend_columns(["A", "B", "C"]) == 3
    assert legend_columns([f"n{i}" for i in range(12)]) == 6
    assert legend_columns(["x" * 60, "y"]) == 1


def test_dollar_signs_and_markup_in_names_are_plain_text():
    ratings = tidy(
        pd.DataFrame(
            {
                "listener": ["1", "1", "2", "2"],
                "item": ["a", "a", "a", "a"],
                "condition": ["$x$ & <b>", "ref", "$x$ & <b>", "ref"],
                "score": [40.0, 100.0, 60.0, 95.0],
            }
        )
    )
    result = {"conditions": [{"condition": "$x$ & <b>", "mean": 50.0}, {"condition": "ref"}]}
    for svg in (condition_plot(result, ratings, META), item_plot(result, ratings, META)):
        assert "$x$ &amp; &lt;b&gt;" in svg
        assert "<b>" not in svg
