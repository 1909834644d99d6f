"""Loudness (BS.1770), true peak, and normalisation that refuses rather than limits."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synth_workers.audio import (
    Audio,
    AudioError,
    integrated_loudness,
    normalise_loudness,
    true_peak,
)
from tests.support.audio import sine

PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def random_signals(draw) -> Audio:
    """Noise or a sum of sinusoids, random level, 0.5–3 s, mono or stereo, 16 or 48 kHz."""
    rate = draw(st.sampled_from([16000, 44100, 48000]))
    seconds = draw(st.floats(0.5, 3.0))
    channels = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    frames = round(seconds * rate)
    if draw(st.booleans()):
        x = rng.standard_normal((frames, channels))
    else:
        t = np.arange(frames)[:, None] / rate
        freqs = rng.uniform(60, 0.4 * rate, size=(draw(st.integers(1, 5)), channels))
        x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) for f in freqs)
    peak_db = draw(st.floats(-40, -0.5))
    return Audio(x / np.max(np.abs(x)) * 10 ** (peak_db / 20), rate)


@PROPERTY
@given(audio=random_signals(), target=st.floats(-35, -14), ceiling=st.floats(-6, 0))
def test_normalised_loudness_lands_on_target_or_is_refused_at_the_ceiling(audio, target, ceiling):
    peak_after = true_peak(audio) + target - integrated_loudness(audio)
    assume(abs(peak_after - ceiling) > 0.05)  # too close to call either way
    if peak_after < ceiling:
        out = normalise_loudness(audio, target, ceiling)
        assert abs(integrated_loudness(out) - target) < 0.1
        assert true_peak(out) <= ceiling + 0.01
        assert out.frames == audio.frames and out.sample_rate == audio.sample_rate
    else:
        with pytest.raises(AudioError, match=r"would peak at .* dBTP, above the ceiling of"):
            normalise_loudness(audio, target, ceiling)


def test_full_scale_1khz_sine_measures_minus_3_lufs():
    # BS.1770-4: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS.
    assert integrated_loudness(Audio(sine(997, 48000, 3.0, 1.0), 48000)) == pytest.approx(
        -3.01, abs=0.05
    )


def test_true_peak_finds_the_peak_between_samples():
    # A sine at fs/4 sampled 45° off its crest: every sample is at 0.707, the wave reaches 1.0.
    audio = Audio(sine(12000, 48000, 1.0, amplitude=1.0, phase=np.pi / 4), 48000)
    assert 20 * np.log10(np.max(np.abs(audio.samples))) == pytest.approx(-3.01, abs=0.01)
    assert true_peak(audio) == pytest.approx(0.0, abs=0.1)


def test_true_peak_of_silence_is_minus_infinity():
    assert true_peak(Audio(np.zeros(4800), 48000)) == float("-inf")


def test_loudness_of_audio_shorter_than_a_gating_block_is_refused():
    with pytest.raises(AudioError, match=r"lasts 0\.300 s; loudness .* needs at least 0\.4 s"):
        integrated_loudness(Audio(sine(440, 48000, 0.3), 48000))


def test_loudness_of_audio_below_the_absolute_gate_is_refused():
    with pytest.raises(AudioError, match="too quiet to measure"):
        integrated_loudness(Audio(sine(440, 48000, 1.0, amplitude=1e-5), 48000))


def test_normalisation_refuses_instead_of_limiting():
    # Quiet but peaky: a click train at -30 LUFS cannot reach -14 LUFS under -1 dBTP.
    x = np.zeros(48000)
    x[::4800] = 0.5
    with pytest.raises(AudioError, match=r"above the ceiling of -1 dBTP; lower the loudness"):
        normalise_loudness(Audio(x, 48000), target_lufs=-14, true_peak_ceiling=-1.0)
