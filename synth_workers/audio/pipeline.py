"""From an uploaded file's audio to a prepared stimulus, under one policy shared by a whole test."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .anchors import LOW_ANCHOR, MID_ANCHOR, low_anchor, mid_anchor
from .core import Audio, AudioError
from .edit import DOWNMIX_POLICIES, downmix, trim_silence
from .io import SUBTYPE_BITS, WRITE_FORMATS
from .loudness import integrated_loudness, normalise_loudness, true_peak
from .resample import resample
from .validate import ValidationLimits, validate

# Bumped whenever preparation changes what it outputs for the same policy (another resampler,
# another anchor filter), so files prepared by older code never pass for current ones.
PIPELINE_VERSION = 1
ANCHORS = {LOW_ANCHOR: low_anchor, MID_ANCHOR: mid_anchor}


@dataclass(frozen=True)
class PreparationPolicy:
    """How every stimulus of one listening test is prepared; all stimuli share one policy."""

    sample_rate: int = 48000
    target_lufs: float = -23.0
    # 0 dBTP: stimuli reach listeners losslessly, so EBU R128's −1 dBTP margin (meant for lossy
    # codecs downstream) only costs headroom: with it, 5 of the 160 codec-mushra files could not
    # reach −23 LUFS.
    true_peak_ceiling: float = 0.0
    downmix: str = "average"
    trim_silence: bool = False
    fmt: str = "flac"
    subtype: str = "PCM_24"
    limits: ValidationLimits = field(default_factory=ValidationLimits)

    def __post_init__(self) -> None:
        if self.downmix not in DOWNMIX_POLICIES:
            raise AudioError(f"unknown downmix policy {self.downmix!r}")
        if self.fmt not in WRITE_FORMATS:
            raise AudioError(f"unknown output format {self.fmt!r}")
        if self.subtype not in SUBTYPE_BITS:
            raise AudioError(f"unknown sample format {self.subtype!r}")
        if not self.limits.min_rate <= self.sample_rate <= self.limits.max_rate:
            raise AudioError(
                f"the test sample rate {self.sample_rate} Hz is outside the accepted range "
                f"{self.limits.min_rate}–{self.limits.max_rate} Hz"
            )

    def key(self) -> str:
        """A short hash of every field (and the pipeline version), stable across runs/machines.

        Names prepared files and lets a test check that all its stimuli share one policy.
        """
        payload = json.dumps(
            {"version": PIPELINE_VERSION, **asdict(self)}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Measurements:
    """What a prepared stimulus measures, stored with it as provenance."""

    sample_rate: int
    channels: int
    duration: float
    loudness_lufs: float
    true_peak_dbtp: float


def prepare(audio: Audio, policy: PreparationPolicy = PreparationPolicy()) -> Audio:
    """validate → downmix → resample → (trim silence) → loudness-normalise."""
    validate(audio, policy.limits)
    out = downmix(audio, policy.downmix)
    out = resample(out, policy.sample_rate)
    if policy.trim_silence:
        out = trim_silence(out)
    return normalise_loudness(out, policy.target_lufs, policy.true_peak_ceiling)


def prepare_anchors(
    prepared_reference: Audio,
    policy: PreparationPolicy = PreparationPolicy(),
    *,
    names: Sequence[str] = tuple(ANCHORS),
) -> dict[str, Audio]:
    """{LOW_ANCHOR: low anchor, MID_ANCHOR: mid anchor}, each loudness-normalised like a stimulus.

    prepared_reference is the output of prepare() for the test's reference. At sample rates of
    18 kHz or less the 7 kHz anchor is refused (AudioError, see anchors.py); a test that must run
    at such a rate asks for names=(LOW_ANCHOR,) and runs without a mid anchor (BS.1534-3
    post-screening then skips its mid-anchor rule).
    """
    if prepared_reference.sample_rate != policy.sample_rate:
        raise AudioError(
            f"the reference is at {prepared_reference.sample_rate} Hz but the test policy is "
            f"{policy.sample_rate} Hz; prepare the reference first"
        )
    unknown = sorted(set(names) - set(ANCHORS))
    if unknown:
        raise AudioError(f"unknown anchor(s) {unknown}; use {sorted(ANCHORS)}")
    return {
        name: normalise_loudness(
            ANCHORS[name](prepared_reference), policy.target_lufs, policy.true_peak_ceiling
        )
        for name in names
    }


def measure(audio: Audio) -> Measurements:
    return Measurements(
        sample_rate=audio.sample_rate,
        channels=audio.channels,
        duration=audio.duration,
        loudness_lufs=integrated_loudness(audio),
        true_peak_dbtp=true_peak(audio),
    )
