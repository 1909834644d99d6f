"""The objective-metrics summary of a test (mushra.analysis.objective): pure, on made-up stored
values whose answers are known."""

import numpy as np
import pytest

from mushra.analysis.objective import objective_summary, training_spread

RNG = np.random.default_rng(0)
BASIS = np.eye(256)


def _voice(direction: int, noise: float = 0.01) -> list[float]:
    """An embedding near axis ``direction``: two voices on different axes are dissimilar."""
    return list(BASIS[direction] + noise * RNG.standard_normal(256))


def _stim(condition, item, f0_st, voice, speaker="", **scalars) -> dict:
    metrics = {
        "f0": {
            "voiced_fraction": 0.5,
            "median_st": float(np.median(f0_st)),
            "sd_st": float(np.std(f0_st)),
            "values_st": list(map(float, f0_st)),
        },
        "speaker_embedding": {"embedding": voice},
        "speaking_rate": {"duration_s": 2.0, "rate_per_s": scalars.get("rate", 4.0)},
    }
    if "wer" in scalars:
        metrics["wer_relative"] = {"wer": scalars["wer"]}
    return {"condition": condition, "item": item, "speaker": speaker, "metrics": metrics}


@pytest.fixture
def summary():
    base = np.linspace(30, 36, 200)  # the target speaker's F0, semitones
    stimuli = []
    for i in range(3):
        stimuli += [
            _stim("ref", f"i{i}", base, _voice(0)),
            _stim("close", f"i{i}", base + 1.0, _voice(0), wer=0.1),
            _stim("far", f"i{i}", base + 5.0, _voice(1), wer=0.4),
            _stim("sampled", f"i{i}", base + 2.0, _voice(2), speaker=f"sampled:{i % 1}"),
        ]
    conditions = [
        {"condition": "ref", "mean": 95.0},
        {"condition": "close", "mean": 70.0},
        {"condition": "far", "mean": 40.0},
        {"condition": "sampled", "mean": 60.0},
    ]
    voices = {"A": [_voice(0)], "B": [_voice(3)], "C": [_voice(4)]}
    return objective_summary(stimuli, conditions, target="ref", training_voices=voices)


def test_f0_distance_to_the_target_is_the_shift_in_semitones(summary):
    rows = {r["condition"]: r for r in summary["f0"]["rows"]}
    assert rows["ref"]["wasserstein_st"] is None  # the target is not compared with itself
    assert rows["close"]["wasserstein_st"] == pytest.approx(1.0, abs=1e-9)
    assert rows["far"]["wasserstein_st"] == pytest.approx(5.0, abs=1e-9)
    assert 0 < rows["close"]["jensen_shannon"] < rows["far"]["jensen_shannon"] <= 1
    edges = np.asarray(summary["f0"]["edges"])
    for row in rows.values():  # densities integrate to one over the fixed edges
        assert np.sum(np.asarray(row["density"]) * np.diff(edges)) == pytest.approx(1, abs=1e-4)


def test_speaker_similarity_is_high_for_the_target_voice_only(summary):
    table = {r["condition"]: r for r in summary["table"]}
    assert table["close"]["speaker_similarity"] > 0.9
    assert table["far"]["speaker_similarity"] < 0.2
    assert table["close"]["wer"] == pytest.approx(0.1) and table["ref"]["wer"] is None
    assert table["ref"]["wer_n"] == 0 and table["close"]["n_stimuli"] == 3


def test_a_sampled_voice_is_compared_with_the_nearest_training_voice(summary):
    data = summary["distinctness"]
    (row,) = data["rows"]
    assert row["condition"] == "sampled"
    assert row["max_similarity"] < 0.2  # its own axis: far from every training voice
    assert data["training_voices"] == 3 and data["spread"]["pairs"] == 3


def test_training_spread_needs_two_voices():
    assert training_spread({"A": [_voice(0)]}) is None
    spread = training_spread({"A": [_voice(0, 0)], "B": [_voice(0, 0)]})
    assert spread["max"] == pytest.approx(1.0)


def test_listener_means_correlate_with_metrics_by_rank(summary):
    rho = {r["metric"]: r for r in summary["correlations"]}
    # Listener means ref 95 > close 70 > sampled 60 > far 40; F0 shift 0 < 1 < 2 < 5.
    assert rho["f0_median_st"]["rho"] == pytest.approx(-1.0)
    assert rho["f0_median_st"]["n_conditions"] == 4
    # WER was measured on two conditions only: too few for a rank correlation.
    assert rho["wer"]["n_conditions"] == 2 and rho["wer"]["rho"] is None
    # A constant metric (every speaking rate 4.0) has no rank correlation either.
    assert rho["speaking_rate"]["rho"] is None


def test_every_stimulus_has_its_scalar_row_for_the_exports(summary):
    rows = summary["stimuli"]
    assert len(rows) == 12
    close = next(r for r in rows if r["condition"] == "close" and r["item"] == "i0")
    assert close["f0_median_st"] == pytest.approx(34.0) and close["wer"] == pytest.approx(0.1)


def test_without_the_targets_f0_or_sampled_voices_those_sections_are_empty():
    stimuli = [_stim("a", "i0", np.array([30.0, 31.0]), _voice(0))]
    data = objective_summary(stimuli, [{"condition": "a", "mean": 50}], target=None)
    assert data["f0"] == {} and data["distinctness"] == {}
    assert [r["condition"] for r in data["table"]] == ["a"]
