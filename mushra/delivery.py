"""The bytes a listener's browser gets for a signal: the stored FLAC, padded, never re-encoded.

Until now every request (and every ``Range`` request) decoded the stored 24-bit FLAC and encoded
it again as WAV, about 0.5 MB a second of audio, because a compressed file's size betrays how
compressible the signal is (a low-passed anchor stands out by size alone). Now each signal goes
out as its stored FLAC frames, padded to the size of the largest signal of its trial
(``containers.flac_for_listeners``): one size per trial, a third of the bytes or less, and no
audio work per request. The smallest size of each stimulus is kept per process, since stored
stimuli never change once ready.
"""

import io

from synth_workers.audio import encode_audio, read_audio
from synth_workers.audio.containers import FLAC_MARKER, flac_for_listeners, flac_listener_size
from synth_workers.models import Stimulus

_SIZES: dict[int, int | None] = {}  # stimulus pk -> smallest listener size (None: not FLAC)
_SIZES_LIMIT = 100_000


def listener_audio(stimulus: Stimulus, trial_stimuli: list[Stimulus]) -> tuple[bytes, str]:
    """`stimulus` as served within a trial whose signals are `trial_stimuli`: (bytes, type)."""
    sizes = [_smallest_size(s) for s in trial_stimuli]
    data = _read(stimulus)
    if None in sizes:  # not every signal is FLAC: uncompressed PCM, whose size is the duration
        return encode_audio(read_audio(io.BytesIO(data)), fmt="wav", subtype="PCM_24"), "audio/wav"
    return flac_for_listeners(data, max(sizes)), "audio/flac"


def _read(stimulus: Stimulus) -> bytes:
    with stimulus.audio.open("rb") as f:
        return f.read()


def _smallest_size(stimulus: Stimulus) -> int | None:
    if stimulus.pk not in _SIZES:
        if len(_SIZES) >= _SIZES_LIMIT:
            _SIZES.clear()
        data = _read(stimulus)
        _SIZES[stimulus.pk] = flac_listener_size(data) if data.startswith(FLAC_MARKER) else None
    return _SIZES[stimulus.pk]
