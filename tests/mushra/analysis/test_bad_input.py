"""Bad input raises AnalysisError with a single plain line naming the problem."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from mushra.analysis import (
    AnalysisError,
    describe,
    gap_closure,
    pairwise_wilcoxon,
    read_ratings,
    screen,
    tidy,
)
from mushra.analysis.pairwise import holm, rank_biserial


def frame(**overrides):
    df = pd.DataFrame(
        {
            "listener": ["a", "a", "b", "b"],
            "item": ["i1", "i1", "i1", "i1"],
            "condition": ["ref", "sys", "ref", "sys"],
            "score": [100, 40, 95, 50],
        }
    )
    for column, values in overrides.items():
        df[column] = values
    return df


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize(
    ("df", "needle"),
    [
        (frame().drop(columns="score"), "score"),
        (frame().drop(columns=["item", "listener"]), "listener, item"),
        (frame(score=[100, "loud", 95, 50]), "row 1"),
        (frame(score=[100, 40, 101, 50]), "row 2"),
        (frame(score=[100, -1, 95, 50]), "0-100"),
        (frame(condition=["ref", "ref", "ref", "sys"]), "duplicate rating in row 1"),
        (frame(listener=["a", None, "b", "b"]), "'listener'"),
        (frame().iloc[0:0], "no ratings"),
    ],
)
def test_tidy_rejects(df, needle):
    with pytest.raises(AnalysisError) as exc_info:
        tidy(df)
    assert needle in one_line(exc_info)


def test_analysis_error_is_a_value_error():
    assert issubclass(AnalysisError, ValueError)


def test_extra_columns_are_kept_and_keys_become_strings():
    df = tidy(frame(listener=[1, 1, 2, 2], group=["x", "x", "y", "y"]))
    assert list(df["group"]) == ["x", "x", "y", "y"]
    assert set(df["listener"]) == {"1", "2"}


def test_pair_without_paired_data():
    df = frame(item=["i1", "i1", "i2", "i2"], condition=["ref", "sys", "ref", "other"])
    with pytest.raises(AnalysisError) as exc_info:
        pairwise_wilcoxon(df, [("sys", "other")])
    assert "no (listener, item) pairs" in one_line(exc_info)


def test_unknown_conditions():
    with pytest.raises(AnalysisError):
        pairwise_wilcoxon(frame(), [("sys", "nope")])
    with pytest.raises(AnalysisError):
        screen(frame(), reference="hidden")
    with pytest.raises(AnalysisError):
        screen(frame(), reference="ref", mid_anchor="anchor7k")
    with pytest.raises(AnalysisError):
        gap_closure(frame(), "sys", "ref", "nope")


def test_zero_gap_is_an_error():
    df = frame(condition=["ref", "sys", "top", "sys"], listener=["a", "a", "a", "b"])
    df.loc[2, "score"] = 100
    with pytest.raises(AnalysisError):
        gap_closure(df, "sys", "ref", "top")


def test_read_ratings_tidy_and_webmushra(tmp_path):
    tidy_csv = tmp_path / "tidy.csv"
    frame().to_csv(tidy_csv, index=False)
    assert len(read_ratings(tidy_csv)) == 4
    web = tmp_path / "mushra.csv"
    web.write_text(
        "session_test_id,email,session_uuid,trial_id,rating_stimulus,rating_score,rating_time\n"
        "t1,x@y,u1,trial1,reference,100,3\n"
        "t1,x@y,u1,trial1,C1,55,3\n"
        "t1,z@y,u2,trial1,reference,92,3\n"
        "t1,z@y,u2,trial1,C1,60,3\n"
    )
    df = read_ratings(web)
    # The questionnaire column (here "email") is kept as a stratum for --by.
    assert list(df.columns) == ["listener", "item", "condition", "score", "email"]
    assert set(df["listener"]) == {"u1", "u2"}
    assert describe(df, n_boot=10).loc["C1", "mean"] == 57.5
    # session_test_id is the test's id, the same for everyone: it cannot name a listener.
    no_uuid = tmp_path / "old.csv"
    no_uuid.write_text("session_test_id,trial_id,rating_stimulus,rating_score\ns1,t,ref,100\n")
    with pytest.raises(AnalysisError) as exc_info:
        read_ratings(no_uuid)
    assert "no column identifying listeners" in one_line(exc_info)
    with pytest.raises(AnalysisError) as exc_info:
        read_ratings(tmp_path / "absent.csv")
    one_line(exc_info)


def test_screening_mid_anchor_rule():
    rows = []
    # 4 listeners x 8 items; listener "bad" rates the mid anchor > 90 on 2 of 8 items (25 %).
    # Item i7: 2 of 4 listeners (50 % > 25 %) rate its anchor > 90, so i7 is skipped.
    for listener in ("good", "bad", "ok", "ok2"):
        for k in range(8):
            item = f"i{k}"
            anchor = 50.0
            if listener == "bad" and k in (0, 1):
                anchor = 95.0
            if item == "i7" and listener in ("good", "ok"):
                anchor = 99.0
            rows += [
                {"listener": listener, "item": item, "condition": "ref", "score": 100.0},
                {"listener": listener, "item": item, "condition": "mid", "score": anchor},
            ]
    df = pd.DataFrame(rows)
    result = screen(df, reference="ref", mid_anchor="mid")
    assert result.skipped_items == ["i7"]
    assert result.excluded == ["bad"]
    assert result.exclusions[0]["fraction"] == pytest.approx(2 / 7)
    kept, exclusions = result
    assert set(kept["listener"]) == {"good", "ok", "ok2"}
    assert screen(df, reference="ref").exclusions == []


def test_holm_and_rank_biserial():
    assert list(holm([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.06, 0.06])
    assert list(holm([0.5, 0.9])) == pytest.approx([1.0, 1.0])
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 0.2, size=12)
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)
    assert rank_biserial(pd.Series([1.0, 2.0, -3.0]).to_numpy()) == pytest.approx(0.0)
    assert rank_biserial(pd.Series([0.0, 0.0]).to_numpy()) == 0.0
