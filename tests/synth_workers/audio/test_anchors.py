"""BS.1534-3 anchors: the low-pass mask at every rate where it is meaningful, refusals below."""

import numpy as np
import pytest
from scipy import signal

from synth_workers.audio import Audio, AudioError, low_anchor, lowpass_anchor, mid_anchor
from tests.support.audio import sines, speech_like, steady_gains_db

SECONDS = 2.0  # long enough to leave a steady middle second after the filter's edge transients


def pass_band(cutoff: float) -> list[float]:
    return [cutoff * r for r in (0.01, 0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99, 1.0)]


def stop_band(cutoff: float, rate: int) -> list[float]:
    """The mask points (cutoff × 8/7 and × 9/7) and a few higher frequencies below Nyquist."""
    freqs = [cutoff * 8 / 7, cutoff * 9 / 7, cutoff * 1.5, cutoff * 2, cutoff * 3]
    return [f for f in freqs if f < 0.98 * rate / 2]


def assert_meets_mask(make_anchor, cutoff: float, rate: int) -> None:
    passing, stopping = pass_band(cutoff), stop_band(cutoff, rate)
    tones = sines(passing + stopping, rate, SECONDS)
    gains = steady_gains_db(tones, make_anchor(tones), passing + stopping)
    ripple, stop = gains[: len(passing)], gains[len(passing) :]
    assert np.all(np.abs(ripple) <= 0.1), dict(zip(passing, ripple.round(3), strict=True))
    assert stop[0] <= -25, f"{stopping[0]:.0f} Hz only {stop[0]:.1f} dB down"
    assert np.all(stop[1:] <= -50), dict(zip(stopping, stop.round(1), strict=True))


@pytest.mark.parametrize("rate", [11025, 16000, 22050, 24000, 44100, 48000, 96000])
def test_low_anchor_meets_the_bs1534_mask(rate):
    assert_meets_mask(low_anchor, 3500, rate)


@pytest.mark.parametrize("rate", [22050, 24000, 44100, 48000, 96000])
def test_mid_anchor_meets_the_scaled_mask(rate):
    assert_meets_mask(mid_anchor, 7000, rate)


def test_mid_anchor_at_16_khz_is_refused_with_the_rate_it_needs():
    audio = Audio(speech_like(16000, 1.0), 16000)
    with pytest.raises(AudioError, match=r"7 kHz anchor needs a sample rate above 18000 Hz"):
        mid_anchor(audio)


def test_any_anchor_at_8_khz_is_refused():
    audio = Audio(speech_like(8000, 1.0), 8000)
    with pytest.raises(AudioError, match=r"3.5 kHz anchor needs a sample rate above 9000 Hz"):
        low_anchor(audio)
    with pytest.raises(AudioError, match="use only the 3.5 kHz anchor"):
        mid_anchor(audio)


def test_anchor_stays_time_aligned_with_the_reference():
    rate = 48000
    reference = Audio(speech_like(rate, 2.0), rate)
    anchor = low_anchor(reference)
    # Compare with the reference's own low band: zero phase means the best lag is 0.
    a, r = anchor.samples[:, 0], reference.samples[:, 0]
    lags = np.arange(-50, 51)
    corr = [np.dot(a[100:-100], np.roll(r, lag)[100:-100]) for lag in lags]
    assert lags[int(np.argmax(corr))] == 0
    assert anchor.frames == reference.frames and anchor.sample_rate == rate


def test_anchor_keeps_every_channel_and_the_input_unchanged():
    rate = 44100
    samples = np.stack([speech_like(rate, 1.0, seed=1), speech_like(rate, 1.0, seed=2)], axis=1)
    audio = Audio(samples.copy(), rate)
    anchor = lowpass_anchor(audio, 3500)
    assert anchor.channels == 2
    np.testing.assert_array_equal(audio.samples, samples.astype(np.float32))


def test_anchor_removes_the_energy_above_the_cutoff_of_speech_like_audio():
    rate = 48000
    anchor = low_anchor(Audio(speech_like(rate, 2.0), rate))
    freqs, psd = signal.welch(anchor.samples[:, 0], rate, nperseg=4096)
    low = psd[(freqs > 200) & (freqs < 3000)].mean()
    high = psd[freqs > 4500].max()
    assert 10 * np.log10(high / low) < -60
