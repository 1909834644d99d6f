"""Edge cases of real uploads (issue 15): each gets a clear message or a sensible result."""

import math

import numpy as np
import pandas as pd
import pytest

from mushra.analysis import Spec, analyze, describe, friedman, read_ratings, screen, tidy
from mushra.analysis.formats import text
from mushra.analysis.screening import NO_MID_ANCHOR_RATING, NO_REFERENCE_RATING
from mushra.analysis.synthetic import mushra_ratings
from tests.support.cli import run_cli


def refused(path, needle: str) -> None:
    """The CLI ends with exit code 2 and one line naming the file and the problem."""
    code, out, err = run_cli(str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"{path.name}: ") and needle in err, err


OLD_WEBMUSHRA = (
    "session_test_id,{who}age,trial_id,rating_stimulus,rating_score,rating_time,rating_comment\n"
    "t1,{a}30,trial1,reference,100,3,\n"
    "t1,{a}30,trial1,C1,55,3,\n"
    "t1,{b}41,trial1,reference,92,3,\n"
    "t1,{b}41,trial1,C1,60,3,\n"
)


def test_old_webmushra_file_takes_listeners_from_a_participant_field(tmp_path):
    path = tmp_path / "mushra.csv"
    path.write_text(OLD_WEBMUSHRA.format(who="Email,", a="x@y,", b="z@y,"))
    df = read_ratings(path)
    assert sorted(df["listener"].unique()) == ["x@y", "z@y"]
    # The participant field names the listener; it is not also offered as a stratum.
    assert list(df.columns) == ["listener", "item", "condition", "score", "age"]


def test_old_webmushra_file_without_a_participant_field_is_refused(tmp_path):
    path = tmp_path / "mushra.csv"
    path.write_text(OLD_WEBMUSHRA.format(who="", a="", b=""))
    refused(path, "the webMUSHRA file has no column identifying listeners")


def test_one_listener_gives_no_interval_rather_than_a_zero_width_one():
    df = tidy(mushra_ratings(6, 4, 4, seed=1))
    solo = df[(df["condition"] == "sys01") & (df["listener"] != "L0")].index
    df = df.drop(solo).reset_index(drop=True)  # sys01: rated by L0 alone, on four items
    row = describe(df, n_boot=200).loc["sys01"]
    assert row["n_listeners"] == 1 and row["n"] == 4
    assert all(math.isnan(b) for b in [*row["ci95"], *row["ci95_bootstrap"]])
    other = describe(df, n_boot=200).loc["sys02"]
    assert other["ci95_bootstrap"][0] < other["ci95_bootstrap"][1]
    data = analyze(df, Spec(low_anchor="anchor", n_boot=200, mixed="none")).to_dict()
    (sys01,) = [c for c in data["conditions"] if c["condition"] == "sys01"]
    assert sys01["ci95_bootstrap"] == [None, None]


def sparse_condition() -> pd.DataFrame:
    """Eight listeners × six items; 'rare' was rated once, so one block has every condition."""
    df = tidy(mushra_ratings(8, 6, 5, seed=5))
    once = df[(df["condition"] == "sys01") & (df["listener"] == "L0") & (df["item"] == "i0")]
    return pd.concat(
        [df[df["condition"] != "sys01"], once.assign(condition="rare")], ignore_index=True
    )


def test_friedman_is_not_computed_on_fewer_than_two_complete_blocks():
    df = sparse_condition()
    one = friedman(df, ["rare", "sys02", "sys03"])
    assert one == {"statistic": None, "p": None, "kendall_w": None, "n_blocks": 1}
    two = friedman(df[df["item"].isin(["i0", "i1"]) & (df["listener"] == "L0")], ["sys02", "sys03"])
    assert two["n_blocks"] == 2 and two["kendall_w"] is not None
    data = analyze(df, Spec(low_anchor="anchor", n_boot=50, mixed="none")).to_dict()
    assert data["omnibus"]["statistic"] is None and data["omnibus"]["n_blocks"] == 1
    assert "Friedman: not computed, 1 complete (listener, item) blocks" in text(data)


def test_untestable_pairs_do_not_inflate_the_others_holm_correction():
    df = sparse_condition()
    data = analyze(df, Spec(low_anchor="anchor", n_boot=50, mixed="none")).to_dict()
    rows = {(p["a"], p["b"]): p for p in data["pairwise"]}
    rare = [p for pair, p in rows.items() if "rare" in pair]
    assert len(rare) == 2 and all(p["p_holm"] is None and p["untestable"] for p in rare)
    (tested,) = [p for pair, p in rows.items() if "rare" not in pair]
    assert tested["p_holm"] == pytest.approx(tested["p"])  # m = 1, not 3
    assert "rare vs sys02: left out of the Holm family (fewer than 6 non-zero" in text(data)


def test_labels_are_stripped_of_surrounding_whitespace(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(
        "listener,item,condition,score\n"
        "L1,i1, reference,100\nL1 ,i1,sys,50\n"
        " L2,i1,reference ,95\nL2, i1,sys,60\n"
    )
    df = read_ratings(path)
    assert sorted(df["condition"].unique()) == ["reference", "sys"]
    assert sorted(df["listener"].unique()) == ["L1", "L2"] and set(df["item"]) == {"i1"}
    assert analyze(df, Spec(n_boot=20, mixed="none")).spec.reference == "reference"


def test_a_blank_label_is_still_an_empty_cell():
    df = pd.DataFrame(
        {"listener": ["a", "  "], "item": ["i", "i"], "condition": ["x", "x"], "score": [1, 2]}
    )
    with pytest.raises(ValueError, match="column 'listener' is empty in row 1"):
        tidy(df)


@pytest.mark.parametrize(
    ("sep", "name"),
    [(";", "semicolons"), ("\t", "tabs")],
)
def test_a_file_separated_by_semicolons_or_tabs_is_named_as_such(tmp_path, sep, name):
    path = tmp_path / "ratings.csv"
    rows = [["listener", "item", "condition", "score"], ["a", "i1", "ref", "72,5"]]
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n")
    refused(path, f"the file seems to be separated by {name}; save it as comma-separated")


def no_reference_for(listener: str) -> pd.DataFrame:
    df = tidy(mushra_ratings(6, 4, 4, seed=2))
    gone = (df["listener"] == listener) & (df["condition"] == "reference")
    return df[~gone].reset_index(drop=True)


def test_a_listener_without_reference_ratings_is_kept_with_a_note():
    df = no_reference_for("L3")
    result = screen(df, reference="reference")
    assert "L3" not in result.excluded
    assert result.unscreened == [{"listener": "L3", "reason": NO_REFERENCE_RATING}]
    data = analyze(df, Spec(low_anchor="anchor", n_boot=50, mixed="none")).to_dict()
    assert data["screening"]["unscreened"] == [{"listener": "L3", "reason": NO_REFERENCE_RATING}]
    assert "unscreened listener L3: rated no hidden reference" in text(data)
    off = analyze(df, Spec(screening=False, n_boot=50, mixed="none")).to_dict()
    assert off["screening"]["unscreened"] == []  # its rule already says nobody was screened


def test_a_listener_without_mid_anchor_ratings_is_noted_for_that_rule():
    df = tidy(mushra_ratings(6, 4, 5, seed=2))
    df = df[~((df["listener"] == "L1") & (df["condition"] == "sys01"))]
    result = screen(df, reference="reference", mid_anchor="sys01")
    assert result.unscreened == [{"listener": "L1", "reason": NO_MID_ANCHOR_RATING}]
    assert np.isin(["L1"], result.kept["listener"]).all()
