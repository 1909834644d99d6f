"""The two types every audio module shares: the audio itself and the one expected error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class AudioError(ValueError):
    """An expected refusal, worded for the scientist who uploaded the audio.

    Every check in this package raises this (never a soundfile or numpy exception) so that
    callers can turn bad input into one clear message (HTTP 400, CLI exit code 2).
    """


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarrays with == has no single truth value
class Audio:
    """Samples as float32 with shape (frames, channels), always 2-D, and their sample rate."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        # Normalise once here so that every function downstream can rely on the shape and dtype.
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, np.newaxis]
        if samples.ndim != 2:
            raise AudioError(f"audio must be 1-D or 2-D samples, got {samples.ndim} dimensions")
        if int(self.sample_rate) != self.sample_rate or self.sample_rate <= 0:
            raise AudioError(f"sample rate must be a positive whole number, got {self.sample_rate}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    def with_samples(self, samples: np.ndarray, sample_rate: int | None = None) -> Audio:
        """A new Audio with other samples (and optionally another rate); self is unchanged."""
        return Audio(samples, self.sample_rate if sample_rate is None else sample_rate)
