"""Real test audio: signals for the audio library's tests, measurements of them, and small
speech-like files written with soundfile for the tests that import audio."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile
from scipy import signal

from synth_workers.audio import Audio


def tone(
    rate: int = 16000,
    seconds: float = 1.0,
    freq: float = 220.0,
    level: float = 0.3,
    channels: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """A harmonic tone with a little noise and an envelope, so loudness meters see speech-like
    energy; deterministic per seed (so computed once per set of arguments)."""
    return _tone(rate, seconds, freq, level, channels, seed).copy()


@lru_cache(maxsize=256)
def _tone(rate, seconds, freq, level, channels, seed) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    samples = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 6))
    samples = samples * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    samples += 0.01 * np.random.default_rng(seed).standard_normal(t.size)
    samples = level * samples / np.max(np.abs(samples))
    return np.repeat(samples[:, None], channels, axis=1).astype(np.float32)


def write_tone(path: Path, **kwargs) -> Path:
    rate = kwargs.get("rate", 16000)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, tone(**kwargs), rate)
    return path


def write_silence(path: Path, rate: int = 16000, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.zeros(int(rate * seconds), dtype=np.float32), rate)
    return path


def sine(freq: float, rate: int, seconds: float, amplitude: float = 0.5, phase: float = 0.0):
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def sines(freqs, rate: int, seconds: float, amplitude: float = 0.5) -> Audio:
    """One unit-phase sinusoid per channel, so one filter call measures many frequencies."""
    return Audio(np.stack([sine(f, rate, seconds, amplitude) for f in freqs], axis=1), rate)


def tone_amplitude(x: np.ndarray, freq: float, rate: int, start: int, stop: int) -> float:
    """Amplitude of the freq component of x[start:stop], by least squares on sin and cos."""
    t = np.arange(start, stop) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x[start:stop].astype(np.float64), rcond=None)
    return float(np.hypot(*coef))


def steady_gains_db(before: Audio, after: Audio, freqs, edge_seconds: float = 0.5) -> np.ndarray:
    """Gain per channel in dB at each channel's frequency, ignoring the filter's edge transients."""
    rate = before.sample_rate
    start, stop = round(edge_seconds * rate), before.frames - round(edge_seconds * rate)
    gains = []
    for ch, f in enumerate(freqs):
        a_in = tone_amplitude(before.samples[:, ch], f, rate, start, stop)
        a_out = tone_amplitude(after.samples[:, ch], f, rate, start, stop)
        gains.append(20 * np.log10(max(a_out, 1e-12) / a_in))
    return np.array(gains)


def speech_like(rate: int, seconds: float, seed: int = 0, level: float = 0.1) -> np.ndarray:
    """Noise shaped like speech (energy mostly below 4 kHz) with syllable-rate bursts, mono."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    noise = rng.standard_normal(n)
    # A one-pole low-pass puts most energy low, like voiced speech, while keeping highs present.
    alpha = np.exp(-2 * np.pi * 1500 / rate)
    shaped = signal.lfilter([1 - alpha], [1, -alpha], noise) + 0.05 * noise
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * np.arange(n) / rate)  # 4 Hz syllables
    out = shaped * envelope
    return level * out / np.max(np.abs(out))
