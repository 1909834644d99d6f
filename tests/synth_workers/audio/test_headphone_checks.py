"""The headphone checks' stimuli measured (issue 14): the antiphase tone's channels are in
opposite phase and the answer is 6 dB down; the Huggins interval differs between the ears only
by a phase inversion of the band around 600 Hz."""

import numpy as np
import pytest

from synth_workers.audio.headphone_checks import (
    HUGGINS_BANDWIDTH,
    HUGGINS_HZ,
    RATE,
    TONE_HZ,
    antiphase_trial,
    huggins_trial,
    passed,
)


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _correlation(left: np.ndarray, right: np.ndarray) -> float:
    return float(np.corrcoef(left, right)[0, 1])


@pytest.mark.parametrize("seed", range(6))
def test_antiphase_trial_has_one_inverted_one_quieter_and_one_plain_tone(seed):
    trial = antiphase_trial(seed)
    clips = [a.samples for a in trial.intervals]
    assert all(a.channels == 2 and a.sample_rate == RATE for a in trial.intervals)
    correlations = [_correlation(c[:, 0], c[:, 1]) for c in clips]
    assert sorted(np.round(correlations, 6)) == [-1.0, 1.0, 1.0]  # one antiphase, two diotic
    levels = [_rms_db(c[:, 0]) for c in clips]
    answer = trial.answer
    others = [levels[i] for i in range(3) if i != answer]
    assert others == pytest.approx([others[0]] * 2, abs=0.01)
    assert levels[answer] - others[0] == pytest.approx(-6.0, abs=0.01)  # the answer: 6 dB down
    assert correlations[answer] == pytest.approx(1.0)  # the quieter tone is not the antiphase one
    spectrum = np.abs(np.fft.rfft(clips[0][:, 0]))
    assert np.fft.rfftfreq(len(clips[0]), 1 / RATE)[spectrum.argmax()] == pytest.approx(TONE_HZ)
    assert max(np.abs(c).max() for c in clips) < 1.0  # no clipping


def test_over_loudspeakers_the_antiphase_tone_cancels_and_the_wrong_answer_is_quietest():
    """What the test relies on: summing the ears (a loudspeaker's air) erases the antiphase
    tone, so a listener without headphones picks it instead of the −6 dB tone."""
    trial = antiphase_trial(3)
    mixed = [_rms_db(a.samples.sum(axis=1) + 1e-12) for a in trial.intervals]
    assert int(np.argmin(mixed)) != trial.answer


@pytest.mark.parametrize("seed", range(6))
def test_huggins_trial_inverts_the_band_in_one_ear_of_one_interval_only(seed):
    trial = huggins_trial(seed)
    freqs = np.fft.rfftfreq(int(RATE * 1.0), 1 / RATE)
    band = np.abs(freqs - HUGGINS_HZ) <= HUGGINS_BANDWIDTH * HUGGINS_HZ
    for index, clip in enumerate(trial.intervals):
        left, right = (np.fft.rfft(clip.samples[:, ch].astype(np.float64)) for ch in (0, 1))
        assert np.abs(left) == pytest.approx(np.abs(right), rel=1e-3, abs=1e-3)  # same magnitude
        if index != trial.answer:
            assert np.allclose(clip.samples[:, 0], clip.samples[:, 1])  # diotic noise
            continue
        strong = np.abs(left) > 0.1 * np.abs(left).max()  # phases of bins with real energy
        phase = np.angle(right / np.where(left == 0, 1, left))
        assert np.allclose(np.abs(phase[band & strong]), np.pi, atol=1e-2)  # inverted band
        assert np.allclose(phase[~band & strong], 0, atol=1e-2)  # the rest as in the left ear


def test_trials_are_the_same_for_the_same_seed_and_the_answer_moves_between_seeds():
    for make in (antiphase_trial, huggins_trial):
        a, b = make(11), make(11)
        assert a.answer == b.answer
        assert all(
            np.array_equal(x.samples, y.samples)
            for x, y in zip(a.intervals, b.intervals, strict=True)
        )
        assert len({make(seed).answer for seed in range(12)}) == 3


def test_the_published_pass_mark_is_five_of_six():
    assert passed(5) and passed(6) and not passed(4)
