"""resample(): exact length, the requested rate, flat pass band, no time shift."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from synth_workers.audio import Audio, AudioError, resample
from synth_workers.audio.resample import _lowpass_taps, upsample
from tests.support.audio import sine, tone_amplitude

RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000]
# The autouse Django settings fixture is function-scoped; these tests do not touch it.
PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(
    source=st.sampled_from(RATES),
    target=st.sampled_from(RATES),
    seconds=st.floats(0.5, 3.0),
    amplitude=st.floats(0.01, 0.9),
    channels=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_resampled_noise_has_the_exact_length_and_rate(
    source, target, seconds, amplitude, channels, seed
):
    frames = round(seconds * source)
    noise = np.random.default_rng(seed).uniform(-amplitude, amplitude, (frames, channels))
    out = resample(Audio(noise, source), target)
    assert out.sample_rate == target
    assert out.frames == round(frames * target / source)
    assert out.channels == channels and out.samples.dtype == np.float32
    assert np.all(np.isfinite(out.samples))


@PROPERTY
@given(
    source=st.sampled_from(RATES),
    target=st.sampled_from(RATES),
    freq=st.floats(50, 1500),
    amplitude=st.floats(0.01, 0.9),
    seconds=st.floats(0.5, 3.0),
)
def test_a_low_frequency_sinusoid_keeps_its_amplitude_and_timing(
    source, target, freq, amplitude, seconds
):
    out = resample(Audio(sine(freq, source, seconds, amplitude), source), target)
    edge = round(0.1 * target)  # the filter's start and end transients
    measured = tone_amplitude(out.samples[:, 0], freq, target, edge, out.frames - edge)
    assert abs(20 * np.log10(measured / amplitude)) < 0.1
    # No delay: the output matches the same sinusoid sampled at the new rate.
    expected = sine(freq, target, out.frames / target, amplitude)[edge:-edge]
    assert np.max(np.abs(out.samples[edge:-edge, 0] - expected)) < 1e-3 * amplitude + 1e-6


def test_same_rate_returns_the_audio_unchanged():
    audio = Audio(sine(440, 48000, 0.5), 48000)
    assert resample(audio, 48000) is audio


def test_content_above_the_new_nyquist_does_not_alias():
    # 11 kHz at 48 kHz has no place at 16 kHz (Nyquist 8 kHz): it must vanish, not fold to 5 kHz.
    out = resample(Audio(sine(11000, 48000, 1.0, amplitude=0.5), 48000), 16000)
    edge = 1600
    assert tone_amplitude(out.samples[:, 0], 5000, 16000, edge, out.frames - edge) < 0.5e-5


def test_fast_integer_upsampling_equals_scipy_resample_poly():
    x = np.random.default_rng(3).standard_normal((4801, 2))
    for up in (2, 3, 6):
        taps = _lowpass_taps(up, 1)
        expected = signal.resample_poly(x, up, 1, axis=0, window=taps)
        np.testing.assert_allclose(upsample(x, up, taps), expected, atol=1e-12)


def test_invalid_target_rate_is_refused():
    with pytest.raises(AudioError, match="positive whole number"):
        resample(Audio(sine(440, 48000, 0.5), 48000), 0)
