"""Synthesis backends: one contract (base.Backend), safe file checks, and a name registry.

Pure code (no Django here, by design) so that GPU workers and CLIs can use it alone. Heavy
libraries (onnx, onnxruntime, piper, libespeak-ng) load only when a backend is checked or loaded.
See DESIGN.md §5.
"""

from .base import (
    MAX_TEXT_CHARS,
    SAMPLED_SPEAKER_PREFIX,
    Backend,
    BackendInfo,
    ConfigKey,
    SynthRequest,
    language_matches,
    missing_capabilities,
    sampled_speaker_seed,
    unknown_language,
)
from .errors import BackendError
from .piper import joe_voice_files
from .registry import ENTRY_POINT_GROUP, available_backends, get_backend
from .safety import check_file, check_onnx_file, is_pickle_like

__all__ = [
    "ENTRY_POINT_GROUP",
    "MAX_TEXT_CHARS",
    "SAMPLED_SPEAKER_PREFIX",
    "Backend",
    "BackendError",
    "BackendInfo",
    "ConfigKey",
    "SynthRequest",
    "available_backends",
    "check_file",
    "check_onnx_file",
    "get_backend",
    "is_pickle_like",
    "joe_voice_files",
    "language_matches",
    "missing_capabilities",
    "sampled_speaker_seed",
    "unknown_language",
]
