"""Pure signal code for preparing listening-test stimuli (no Django here, by design).

Read/validate/resample/normalise uploaded audio, make BS.1534-3 anchors, and write files that
carry no metadata. Every expected refusal is an AudioError with a plain-words reason.
"""

from .anchors import LOW_ANCHOR, MID_ANCHOR, low_anchor, lowpass_anchor, mid_anchor
from .core import Audio, AudioError
from .edit import downmix, trim_silence
from .io import audio_chunks, encode_audio, read_audio, write_audio
from .loudness import integrated_loudness, normalise_loudness, true_peak
from .pipeline import Measurements, PreparationPolicy, measure, prepare, prepare_anchors
from .resample import resample
from .validate import ValidationLimits, validate

__all__ = [
    "LOW_ANCHOR",
    "MID_ANCHOR",
    "Audio",
    "AudioError",
    "Measurements",
    "PreparationPolicy",
    "ValidationLimits",
    "audio_chunks",
    "downmix",
    "encode_audio",
    "integrated_loudness",
    "low_anchor",
    "lowpass_anchor",
    "measure",
    "mid_anchor",
    "normalise_loudness",
    "prepare",
    "prepare_anchors",
    "read_audio",
    "resample",
    "trim_silence",
    "true_peak",
    "validate",
    "write_audio",
]
