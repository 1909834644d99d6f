"""Invariances of the analysis on small synthetic MUSHRA designs (hypothesis)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mushra.analysis import describe, gap_closure, pairwise_wilcoxon, screen

CONDITIONS = ("ref", "base", "new", "top")
DETERMINISTIC = ["n", "n_listeners", "mean", "sd", "median", "iqr", "listener_mean", "ci95"]
FAST = settings(max_examples=25, deadline=None)


@st.composite
def designs(draw, high=100):
    """A complete listener × item × condition grid of integer scores in [0, high]."""
    n_listeners = draw(st.integers(2, 5))
    n_items = draw(st.integers(1, 4))
    cells = n_listeners * n_items * len(CONDITIONS)
    scores = draw(st.lists(st.integers(0, high), min_size=cells, max_size=cells))
    rows = []
    k = 0
    for listener in range(n_listeners):
        for item in range(n_items):
            for condition in CONDITIONS:
                rows.append(
                    {
                        "listener": f"L{listener}",
                        "item": f"i{item}",
                        "condition": condition,
                        "score": float(scores[k]),
                    }
                )
                k += 1
    return pd.DataFrame(rows)


def _pairs(df):
    return pairwise_wilcoxon(df, [("new", "base"), ("top", "base")])


def _deterministic(df):
    return describe(df, n_boot=50)[DETERMINISTIC]


@FAST
@given(designs(), st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(df, rnd):
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order]
    pd.testing.assert_frame_equal(describe(df, n_boot=50), describe(shuffled, n_boot=50))
    pd.testing.assert_frame_equal(_pairs(df), _pairs(shuffled))
    assert screen(df, reference="ref").exclusions == screen(shuffled, reference="ref").exclusions


@FAST
@given(designs(), st.randoms(use_true_random=False))
def test_relabelling_listeners_changes_nothing(df, rnd):
    names = sorted(df["listener"].unique())
    new_names = [f"X{i}" for i in range(len(names))]
    rnd.shuffle(new_names)
    mapping = dict(zip(names, new_names, strict=True))
    relabelled = df.assign(listener=df["listener"].map(mapping))
    # Bootstrap draws depend on listener order, so only the deterministic columns are compared.
    pd.testing.assert_frame_equal(_deterministic(df), _deterministic(relabelled))
    pd.testing.assert_frame_equal(_pairs(df), _pairs(relabelled))
    ours = screen(df, reference="ref").exclusions
    theirs = screen(relabelled, reference="ref").exclusions
    assert sorted(mapping[e["listener"]] for e in ours) == sorted(e["listener"] for e in theirs)


@FAST
@given(designs(high=50), st.integers(0, 50), st.sampled_from(CONDITIONS))
def test_adding_a_constant_moves_only_that_mean(df, constant, condition):
    shifted = df.copy()
    shifted.loc[shifted["condition"] == condition, "score"] += constant
    before = describe(df, n_boot=20)
    after = describe(shifted, n_boot=20)
    for name in CONDITIONS:
        expected = before.loc[name, "mean"] + (constant if name == condition else 0)
        assert after.loc[name, "mean"] == pytest.approx(expected, abs=1e-9)
        assert after.loc[name, "sd"] == pytest.approx(before.loc[name, "sd"], abs=1e-9)


@FAST
@given(designs())
def test_gap_closure_is_0_at_base_and_100_at_top(df):
    base = df[df["condition"] == "base"]
    top = df[df["condition"] == "top"]
    assume(abs(base["score"].mean() - top["score"].mean()) > 1e-6)
    others = df[df["condition"] != "new"]
    as_base = pd.concat([others, base.assign(condition="new")])
    as_top = pd.concat([others, top.assign(condition="new")])
    at_base = gap_closure(as_base, "new", "base", "top", n_boot=100)
    at_top = gap_closure(as_top, "new", "base", "top", n_boot=100)
    assert at_base.gap_closure == pytest.approx(0.0, abs=1e-9)
    assert at_top.gap_closure == pytest.approx(100.0, abs=1e-9)
    for lo_hi, value in ((at_base.gap_closure_ci95, 0.0), (at_top.gap_closure_ci95, 100.0)):
        assert np.allclose(lo_hi, value) or np.isnan(lo_hi).all()
    if base["score"].mean() > 0:
        assert at_base.relative_improvement == pytest.approx(0.0, abs=1e-9)
