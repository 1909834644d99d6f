"""Channel and length edits: downmix to mono, trim leading/trailing silence."""

from __future__ import annotations

import numpy as np

from .core import Audio, AudioError

DOWNMIX_POLICIES = ("average", "first", "refuse")
TRIM_FRAME_SECONDS = 0.010  # RMS frames short enough to find a speech onset within 10 ms


def downmix(audio: Audio, policy: str = "average") -> Audio:
    """Make the audio mono: "average" the channels, keep the "first", or "refuse" multichannel.

    Mono audio passes unchanged whatever the policy.
    """
    if policy not in DOWNMIX_POLICIES:
        raise AudioError(f"unknown downmix policy {policy!r}; use one of {list(DOWNMIX_POLICIES)}")
    if audio.channels == 1:
        return audio
    if policy == "refuse":
        raise AudioError(
            f"the file has {audio.channels} channels and this test accepts only mono audio"
        )
    if policy == "first":
        return audio.with_samples(audio.samples[:, :1].copy())
    # The mean (not the sum) keeps a dual-mono file at its level and cannot exceed full scale.
    mono = audio.samples.astype(np.float64).mean(axis=1, keepdims=True)
    return audio.with_samples(mono)


def trim_silence(audio: Audio, threshold_db: float = -50.0, pad_seconds: float = 0.05) -> Audio:
    """Drop leading and trailing stretches whose RMS (10 ms frames) is below threshold_db dBFS.

    A pad of pad_seconds is kept on each side (within the file) so onsets and decays are not
    cut. The level is absolute (dBFS), so trim before loudness normalisation changes it.
    """
    if audio.frames == 0:
        raise AudioError("the file is silent (it holds no samples)")
    frame = max(1, round(TRIM_FRAME_SECONDS * audio.sample_rate))
    loud = np.flatnonzero(_frame_rms_db(audio.samples, frame) >= threshold_db)
    if loud.size == 0:
        raise AudioError(f"the file is silent (no 10 ms stretch reaches {threshold_db:g} dBFS)")
    pad = round(pad_seconds * audio.sample_rate)
    start = max(0, loud[0] * frame - pad)
    stop = min(audio.frames, (loud[-1] + 1) * frame + pad)
    return audio.with_samples(audio.samples[start:stop].copy())


def _frame_rms_db(samples: np.ndarray, frame: int) -> np.ndarray:
    """RMS level in dBFS of consecutive frames (all channels together); the last may be short."""
    power = np.mean(samples.astype(np.float64) ** 2, axis=1)
    n_frames = -(-power.size // frame)
    padded = np.zeros(n_frames * frame)
    padded[: power.size] = power
    sums = padded.reshape(n_frames, frame).sum(axis=1)
    counts = np.full(n_frames, frame, dtype=np.float64)
    counts[-1] = power.size - (n_frames - 1) * frame
    with np.errstate(divide="ignore"):
        return 10 * np.log10(sums / counts)
