"""Time per trial and the fast-rater rule (mushra.analysis.timing), on plain data."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from mushra.analysis import AnalysisError, Spec, analyze
from mushra.analysis.cli import main
from mushra.analysis.timing import (
    RULE_FAST,
    chain_seconds,
    fast_listeners,
    is_fast,
    is_rushed,
    median,
)

T0 = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_each_trial_is_timed_from_the_submission_before_it():
    # Given out of order: practice (0) at 20 s, a catch trial (3) at 90 s, real trials after.
    submitted = [(2, at(120.5)), (0, at(20)), (3, at(90)), (1, at(65))]
    assert chain_seconds(T0, submitted) == {0: 20.0, 1: 45.0, 3: 25.0, 2: 30.5}


def test_without_a_start_the_first_trial_has_no_time_and_the_rest_are_chained():
    assert chain_seconds(None, [(0, at(20)), (1, at(27.25))]) == {0: None, 1: 7.25}
    assert chain_seconds(T0, []) == {}


def test_a_trial_is_rushed_only_when_shorter_than_its_audio():
    assert is_rushed(7.4, 7.5)
    assert not is_rushed(7.5, 7.5)
    assert not is_rushed(None, 7.5) and not is_rushed(3.0, None) and not is_rushed(3.0, 0)
    assert not is_rushed(float("nan"), 7.5)


def test_a_listener_is_fast_above_fifteen_percent_of_timed_trials():
    assert not is_fast(3, 20)  # exactly 15 %
    assert is_fast(4, 20)
    assert is_fast(1, 6)
    assert not is_fast(0, 0) and not is_fast(0, 10)


def test_median_ignores_unknown_values():
    assert median([3.0, None, 1.0, 2.0, 10.0]) == 2.5
    assert median([None]) is None


def _ratings(plan: dict[str, list[float | None]], audio: float = 7.5) -> pd.DataFrame:
    """Listener → seconds of each of their trials; three conditions per trial, the reference
    at 100 so BS.1534-3 screening keeps everyone."""
    rows = []
    for listener, seconds in plan.items():
        for i, secs in enumerate(seconds):
            for condition, score in (("reference", 100), ("A", 70), ("B", 50 + i % 3)):
                rows.append(
                    {
                        "listener": listener,
                        "item": f"item{i}",
                        "condition": condition,
                        "score": score,
                        "trial_seconds": secs,
                        "audio_seconds": audio,
                    }
                )
    return pd.DataFrame(rows)


PLAN = {
    "S1": [2.0] * 10,  # every trial rushed
    "S2": [3.0, 3.0] + [30.0] * 8,  # 20 %
    "S3": [3.0, 3.0, 3.0] + [30.0] * 17,  # 15 %: not flagged
    "S4": [40.0] * 10,
    "S5": [None] * 10,  # no times (a session from before the start was recorded)
}


def test_fast_listeners_are_those_over_the_limit_with_their_fraction():
    assert fast_listeners(_ratings(PLAN)) == {"S1": 1.0, "S2": 0.2}


def test_the_optional_rule_excludes_exactly_the_fast_listeners_and_logs_them():
    df = _ratings(PLAN)
    plain = analyze(df, Spec(n_boot=50, mixed="none")).to_dict()
    assert plain["n_listeners"] == 5 and plain["screening"]["excluded"] == []
    assert RULE_FAST not in plain["screening"]["rules"]
    result = analyze(df, Spec(n_boot=50, mixed="none", exclude_fast=True)).to_dict()
    assert result["n_listeners"] == 3
    assert result["screening"]["excluded"] == [
        {"listener": "S1", "rule": RULE_FAST, "fraction": 1.0},
        {"listener": "S2", "rule": RULE_FAST, "fraction": 0.2},
    ]
    assert result["screening"]["rules"][-1] == RULE_FAST
    # Independent of the BS.1534-3 rules: it runs with them off too.
    off = analyze(df, Spec(n_boot=50, mixed="none", screening=False, exclude_fast=True))
    assert sorted(off.kept["listener"].unique()) == ["S3", "S4", "S5"]


def test_timing_columns_do_not_change_the_analysis():
    df = _ratings(PLAN)
    with_timing = analyze(df, Spec(n_boot=50, mixed="none")).to_dict()
    without = analyze(df[["listener", "item", "condition", "score"]], Spec(n_boot=50, mixed="none"))
    assert with_timing == without.to_dict()


def test_the_rule_needs_the_timing_columns_and_says_which():
    df = _ratings(PLAN).drop(columns=["audio_seconds"])
    with pytest.raises(AnalysisError, match="needs the column\\(s\\) audio_seconds"):
        analyze(df, Spec(n_boot=50, exclude_fast=True))


def test_the_rule_that_leaves_nobody_is_an_error():
    with pytest.raises(AnalysisError, match="excluded every listener"):
        analyze(_ratings({"S1": [1.0, 1.0]}), Spec(n_boot=50, exclude_fast=True))


def test_the_command_line_excludes_fast_listeners_from_an_exported_csv(tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    _ratings(PLAN).to_csv(path, index=False)
    assert main([str(path), "--exclude-fast", "--bootstrap", "50", "--mixed-model", "none"]) == 0
    out = capsys.readouterr().out
    assert '"listener": "S2"' in out and RULE_FAST in out
