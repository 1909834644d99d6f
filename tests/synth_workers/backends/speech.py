"""Measurements of rendered speech for the backend tests (real signal measures, no mocks)."""

import numpy as np

from synth_workers.audio import Audio


def rms(audio: Audio) -> float:
    return float(np.sqrt(np.mean(audio.samples[:, 0].astype(np.float64) ** 2)))


def median_f0(audio: Audio, low: float = 60.0, high: float = 400.0) -> float:
    """Median F0 (Hz) over voiced frames, by normalised autocorrelation of 40 ms frames.

    A frame counts as voiced when it is loud (above a tenth of the loudest frame's RMS) and its
    autocorrelation peak in the [low, high] Hz lag range is strong (> 0.5 of the energy).
    """
    x, rate = audio.samples[:, 0].astype(np.float64), audio.sample_rate
    size, hop = round(0.04 * rate), round(0.01 * rate)
    frames = [x[i : i + size] for i in range(0, len(x) - size, hop)]
    loudness = np.array([np.sqrt(np.mean(f**2)) for f in frames])
    lags = np.arange(int(rate / high), int(rate / low) + 1)
    estimates = []
    for frame, level in zip(frames, loudness, strict=True):
        if level < 0.1 * loudness.max():
            continue
        frame = frame - frame.mean()
        corr = np.correlate(frame, frame, mode="full")[size - 1 :]
        if corr[0] <= 0:
            continue
        strength = corr[lags] / corr[0]
        best = int(np.argmax(strength))
        if strength[best] > 0.5:
            estimates.append(rate / lags[best])
    assert len(estimates) >= 5, "too few voiced frames to estimate F0"
    return float(np.median(estimates))


def assert_speech_like(audio: Audio, text: str) -> None:
    """Mono, a plausible length for the text, not silent, and voiced at a human pitch."""
    assert audio.channels == 1
    assert audio.samples.dtype == np.float32
    per_char = audio.duration / len(text)
    assert 0.04 <= per_char <= 0.2, f"{audio.duration:.2f} s for {len(text)} characters"
    assert rms(audio) > 0.01, f"nearly silent (RMS {rms(audio):.4f})"
    assert np.max(np.abs(audio.samples)) <= 1.0
    assert 60 <= median_f0(audio) <= 300
