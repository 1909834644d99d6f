"""Refuse audio that cannot make a fair stimulus, with one plain reason per refusal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core import Audio, AudioError


@dataclass(frozen=True)
class ValidationLimits:
    """What an uploaded file must satisfy before it is prepared for a listening test."""

    min_rate: int = 8000
    max_rate: int = 192000
    min_duration: float = 0.2  # seconds
    max_duration: float = 60.0  # seconds
    max_channels: int = 2
    max_clipped_fraction: float = 0.01
    clip_level: float = 0.999  # |x| at or above this counts as a clipped sample
    silence_threshold_db: float = -60.0  # a file whose peak is below this (dBFS) is silent


def validate(audio: Audio, limits: ValidationLimits = ValidationLimits()) -> None:
    """Raise AudioError naming the first problem found; return None when the audio is usable.

    Checks run cheapest first (header facts, then sample scans) and non-finite values come
    before the level checks, whose numbers would be meaningless with NaN in the data.
    """
    for check in (_rate, _channels, _duration, _finite, _silence, _clipping):
        check(audio, limits)


def validate_header(
    sample_rate: int,
    channels: int,
    frames: int | None,
    limits: ValidationLimits = ValidationLimits(),
) -> None:
    """The checks a file's header answers before a sample is decoded: rate, channels and a
    declared length over the maximum (``frames`` None: the file does not declare one)."""
    _check_rate(sample_rate, limits)
    _check_channels(channels, limits)
    if frames is not None and frames / sample_rate > limits.max_duration:
        raise AudioError(too_long(frames / sample_rate, limits))


def too_long(seconds: float | None, limits: ValidationLimits) -> str:
    """The refusal of a file over the maximum length (``seconds`` None: not known exactly)."""
    if seconds is None:
        return f"the audio lasts longer than the maximum of {limits.max_duration:g} s"
    return f"the audio lasts {seconds:.1f} s, longer than the maximum of {limits.max_duration:g} s"


def _check_rate(rate: int, limits: ValidationLimits) -> None:
    if rate < limits.min_rate:
        raise AudioError(f"sample rate {rate} Hz is below the minimum of {limits.min_rate} Hz")
    if rate > limits.max_rate:
        raise AudioError(f"sample rate {rate} Hz is above the maximum of {limits.max_rate} Hz")


def _check_channels(channels: int, limits: ValidationLimits) -> None:
    if channels > limits.max_channels:
        raise AudioError(
            f"the file has {channels} channels; at most {limits.max_channels} are accepted"
        )


def _rate(audio: Audio, limits: ValidationLimits) -> None:
    _check_rate(audio.sample_rate, limits)


def _channels(audio: Audio, limits: ValidationLimits) -> None:
    _check_channels(audio.channels, limits)


def _duration(audio: Audio, limits: ValidationLimits) -> None:
    seconds = audio.duration
    if seconds < limits.min_duration:
        raise AudioError(
            f"the audio lasts {seconds:.3f} s, "
            f"shorter than the minimum of {limits.min_duration:g} s"
        )
    if seconds > limits.max_duration:
        raise AudioError(too_long(seconds, limits))


def _finite(audio: Audio, limits: ValidationLimits) -> None:
    bad = int(np.count_nonzero(~np.isfinite(audio.samples)))
    if bad:
        raise AudioError(f"the audio contains {bad} NaN or infinite sample values")


def _silence(audio: Audio, limits: ValidationLimits) -> None:
    peak = float(np.max(np.abs(audio.samples), initial=0.0))
    if peak == 0.0:
        raise AudioError("the file is silent (every sample is zero)")
    peak_db = 20 * np.log10(peak)
    if peak_db < limits.silence_threshold_db:
        raise AudioError(
            f"the file is silent (peak {peak_db:.1f} dBFS, below the "
            f"{limits.silence_threshold_db:g} dBFS threshold)"
        )


def _clipping(audio: Audio, limits: ValidationLimits) -> None:
    fraction = float(np.mean(np.abs(audio.samples) >= limits.clip_level))
    if fraction > limits.max_clipped_fraction:
        raise AudioError(
            f"{fraction * 100:.1f} % of samples are clipped "
            f"(limit {limits.max_clipped_fraction * 100:g} %)"
        )
