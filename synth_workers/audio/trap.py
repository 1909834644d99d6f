"""The trap clip an ACR attention check (ITU-T P.808's "trapping question") plays in place of one
system's sample: the sample's start, then a voice asking for a given answer.

P.808 screens crowd listeners with clips in which a spoken instruction tells them which score to
give; a listener who gives another is not listening. Here the clip starts like the system's own
sample (``LEAD_SECONDS`` of it, so the trial sounds like any other until the instruction), pauses
``GAP_SECONDS``, then plays the instruction, spoken by the caller's speech engine in the test's
language. The instruction is resampled to the sample's rate and channels and brought to its
loudness (ITU-R BS.1770), kept under −1 dBTP, so it neither startles nor hides.

Pure and deterministic: the same sample and instruction always give byte-identical FLAC (a server
may cache it, or make it again in another process).
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from .catch import PEAK_CEILING_DBTP, _level
from .core import Audio, AudioError
from .io import SUBTYPE_BITS, encode_audio, read_audio
from .loudness import true_peak
from .resample import resample

LEAD_SECONDS = 1.0
GAP_SECONDS = 0.3


def trap_clip(source: Audio, instruction: Audio) -> Audio:
    """The source's first ``LEAD_SECONDS``, a pause, then the instruction at its loudness."""
    if instruction.frames == 0 or not np.any(instruction.samples):
        raise AudioError("the spoken instruction of a trap clip is silent")
    lead = source.samples[: int(round(LEAD_SECONDS * source.sample_rate))].astype(np.float64)
    spoken = resample(instruction, source.sample_rate).samples.astype(np.float64)
    spoken = np.repeat(spoken[:, :1], source.channels, axis=1)  # mono speech in every channel
    voice = Audio(spoken, source.sample_rate)
    gain_db = _level(source) - _level(voice)
    gain_db = min(gain_db, PEAK_CEILING_DBTP - true_peak(voice))
    gap = np.zeros((int(round(GAP_SECONDS * source.sample_rate)), source.channels))
    return source.with_samples(np.concatenate([lead, gap, spoken * 10 ** (gain_db / 20)]))


def trap_clip_flac(data: bytes, instruction: Audio) -> bytes:
    """``trap_clip`` of an encoded stimulus (FLAC or WAV), as FLAC in the stimulus' sample format,
    so its header looks like the other signals' of its trial."""
    try:
        subtype = sf.info(io.BytesIO(data)).subtype
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"cannot read the stimulus for a trap clip ({exc})") from exc
    if subtype not in SUBTYPE_BITS:
        subtype = "PCM_24"
    return encode_audio(trap_clip(read_audio(io.BytesIO(data)), instruction), "flac", subtype)
