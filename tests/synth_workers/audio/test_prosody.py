"""WORLD prosody transfer and its measure on synthetic voiced signals with known F0 contours.

The signals are harmonic complexes (a glottal-like 1/k spectrum) spoken as "syllables" with
pauses between them, so DTW has something to align; real speech is tested with the backend
(tests/synth_workers/backends/test_world_transfer.py).
"""

import numpy as np
import pytest

from synth_workers.audio import Audio, AudioError, resample
from synth_workers.audio.prosody import (
    MAX_REFERENCE_SECONDS,
    align,
    f0_contour,
    f0_correlation,
    transfer_prosody,
)

RATE = 16000


def syllables(contour, seconds: float, count: int = 3, rate: int = RATE, level: float = 0.3):
    """Harmonics of contour(t) Hz (t in 0..1 of the duration) in `count` syllables with pauses."""
    t = np.arange(round(seconds * rate)) / rate
    f0 = contour(t / seconds)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    harmonics = sum(np.sin(k * phase) / k for k in range(1, 30) if k * f0.max() < rate / 2 - 500)
    position = (t / seconds) * count % 1.0  # where in its syllable slot each sample is
    envelope = np.clip(np.sin(np.pi * position / 0.75), 0, None) * (position < 0.75)
    return level * harmonics * envelope / np.max(np.abs(harmonics))


def voiced_median(audio: Audio) -> float:
    _, f0 = f0_contour(audio)
    return float(np.median(f0[f0 > 0]))


def rising(u):
    return 150 * 2 ** (0.5 * np.sin(2 * np.pi * u))  # up then down, half an octave each way


def falling(u):
    return 150 * 2 ** (-0.5 * np.sin(2 * np.pi * u))


@pytest.fixture(scope="module")
def source():
    return Audio(syllables(lambda u: 100 + 5 * u, 1.2), RATE)  # a nearly flat 100 Hz voice


@pytest.fixture(scope="module")
def reference():
    return Audio(syllables(rising, 0.9), RATE)


# -- the measure -----------------------------------------------------------------------------------
def test_f0_contour_follows_a_known_glide():
    audio = Audio(syllables(lambda u: 100 + 100 * u, 1.0, count=1), RATE)
    times, f0 = f0_contour(audio)
    assert np.allclose(np.diff(times), 0.005)
    voiced = f0 > 0
    expected = 100 + 100 * times[voiced] / 1.0
    assert voiced.sum() > 100
    assert np.median(np.abs(f0[voiced] / expected - 1)) < 0.02


def test_f0_correlation_is_one_for_a_signal_and_itself_and_low_for_an_inverted_contour(reference):
    inverted = Audio(syllables(falling, 0.9), RATE)
    same = f0_correlation(reference, reference)
    other = f0_correlation(reference, inverted)
    print(f"f0 correlation: itself {same:.3f}, inverted contour {other:.3f}")
    assert same > 0.99
    assert other < 0.0
    # Another sample rate and a quieter copy measure the same contour.
    assert f0_correlation(reference, resample(Audio(0.3 * reference.samples, RATE), 22050)) > 0.95


def test_f0_correlation_refuses_signals_without_shared_voicing(reference):
    noise = Audio(0.1 * np.random.default_rng(0).standard_normal(RATE // 2), RATE)
    with pytest.raises(AudioError, match="reliable F0 in both"):
        f0_correlation(reference, noise)


# -- DTW -------------------------------------------------------------------------------------------
def brute_force_cost(a, b, sloped: bool) -> float:
    """Textbook DTW: symmetric weights, steps (1,1) + (1,0) + (0,1), or the slope-limited
    (1,1) + (1,2) + (2,1) with their middle cells; inf when no path exists."""
    cost = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    total = np.full(cost.shape, np.inf)
    total[0, 0] = cost[0, 0]
    for i, j in np.ndindex(cost.shape):
        options = [total[i, j]]
        if i and j:
            options.append(total[i - 1, j - 1] + 2 * cost[i, j])
        if sloped:
            if i and j > 1:
                options.append(total[i - 1, j - 2] + 2 * cost[i, j - 1] + cost[i, j])
            if i > 1 and j:
                options.append(total[i - 2, j - 1] + 2 * cost[i - 1, j] + cost[i, j])
        else:
            options += [total[i - 1, j] + cost[i, j]] if i else []
            options += [total[i, j - 1] + cost[i, j]] if j else []
        total[i, j] = min(options)
    return total[-1, -1]


def path_cost(path, a, b) -> float:
    cost = np.sqrt(((a[path[:, 0]] - b[path[:, 1]]) ** 2).sum(-1))
    steps = np.diff(path, axis=0)
    weights = np.where(steps.sum(axis=1) == 2, 2, 1)
    return cost[0] + float(np.sum(weights * cost[1:]))


@pytest.mark.parametrize("seed", range(12))
def test_align_finds_the_cheapest_path(seed):
    rng = np.random.default_rng(seed)
    frames_a, frames_b = rng.integers(1, 30, size=2)  # short: the band spans everything
    a, b = rng.standard_normal((frames_a, 3)), rng.standard_normal((frames_b, 3))
    path = align(a, b)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (frames_a - 1, frames_b - 1)
    assert set(map(tuple, np.diff(path, axis=0))) <= {(0, 1), (1, 0), (1, 1)}
    sloped = brute_force_cost(a, b, sloped=True)
    expected = sloped if np.isfinite(sloped) else brute_force_cost(a, b, sloped=False)
    assert path_cost(path, a, b) == pytest.approx(expected)


def test_align_recovers_a_known_stretch():
    rng = np.random.default_rng(1)
    a = np.cumsum(rng.standard_normal((400, 4)), axis=0)  # smooth, distinctive trajectories
    b = np.repeat(a, 2, axis=0)[::3]  # b[j] is a[3j // 2]: a played 1.5 times as fast
    path = align(a, b)
    expected = np.arange(len(b)) * 3 / 2
    matched = np.array([path[path[:, 1] == j, 0].mean() for j in range(len(b))])
    assert np.max(np.abs(matched - expected)) <= 1.5


def test_align_refuses_features_that_do_not_fit():
    with pytest.raises(AudioError, match="cannot align"):
        align(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(AudioError, match="cannot align"):
        align(np.zeros((0, 3)), np.zeros((5, 3)))


# -- transfer --------------------------------------------------------------------------------------
def test_transfer_takes_timing_and_contour_from_the_reference_and_register_from_the_source(
    source, reference
):
    stereo_48k = resample(Audio(np.repeat(reference.samples, 2, axis=1), RATE), 48000)
    out = transfer_prosody(source, stereo_48k)
    assert out.sample_rate == RATE and out.channels == 1 and out.samples.dtype == np.float32
    assert out.frames == reference.frames  # the reference's duration, at the source's rate
    before, after = f0_correlation(source, reference), f0_correlation(out, reference)
    print(f"f0 correlation with the reference: source {before:.3f}, transferred {after:.3f}")
    assert after > 0.9 and after > before + 0.5
    assert voiced_median(out) == pytest.approx(voiced_median(source), rel=0.05)


def test_without_the_median_shift_the_reference_register_is_kept(source, reference):
    out = transfer_prosody(source, reference, shift_to_median=False)
    assert voiced_median(out) == pytest.approx(voiced_median(reference), rel=0.05)


def test_output_stays_within_full_scale():
    loud = Audio(syllables(lambda u: 120 + 0 * u, 0.6, level=1.0), RATE)
    out = transfer_prosody(loud, Audio(syllables(rising, 0.6, level=1.0), RATE))
    assert np.max(np.abs(out.samples)) <= 1.0


@pytest.mark.parametrize(
    "samples, message",
    [
        (np.zeros(0), "empty"),
        (np.zeros(RATE // 100), "at least 0.1 s"),
        (np.zeros(round((MAX_REFERENCE_SECONDS + 1) * RATE)), "the limit is 30 s"),
        (np.full(RATE, np.nan), "NaN"),
        (0.1 * np.random.default_rng(0).standard_normal(RATE), "reference has no voiced speech"),
        (np.ones(RATE // 2), "reference has no voiced speech"),
    ],
)
def test_unusable_references_are_refused(source, samples, message):
    with pytest.raises(AudioError, match=message):
        transfer_prosody(source, Audio(samples, RATE))
