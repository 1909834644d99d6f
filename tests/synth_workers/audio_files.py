"""Small real audio files for tests: speech-like tones written with soundfile."""

from pathlib import Path

import numpy as np
import soundfile


def tone(
    rate: int = 16000,
    seconds: float = 1.0,
    freq: float = 220.0,
    level: float = 0.3,
    channels: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """A harmonic tone with a little noise and an envelope, so loudness meters see speech-like
    energy; deterministic per seed."""
    t = np.arange(int(rate * seconds)) / rate
    signal = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 6))
    signal = signal * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    signal += 0.01 * np.random.default_rng(seed).standard_normal(t.size)
    signal = level * signal / np.max(np.abs(signal))
    return np.repeat(signal[:, None], channels, axis=1).astype(np.float32)


def write_tone(path: Path, **kwargs) -> Path:
    rate = kwargs.get("rate", 16000)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, tone(**kwargs), rate)
    return path


def write_silence(path: Path, rate: int = 16000, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.zeros(int(rate * seconds), dtype=np.float32), rate)
    return path
