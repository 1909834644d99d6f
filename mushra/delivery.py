"""The bytes a listener's browser gets for a signal: the stored FLAC, padded, never re-encoded.

Until now every request (and every ``Range`` request) decoded the stored 24-bit FLAC and encoded
it again as WAV, about 0.3 MB a second of audio, because a compressed file's size betrays how
compressible the signal is (a low-passed anchor stands out by size alone). Now each signal goes
out as its stored FLAC frames, padded to the size of the largest signal of its trial
(``containers.flac_for_listeners``): one size per trial, fewer bytes, and no audio work per
request. Stored stimuli never change once ready and an open test's stimuli are frozen, so each
process keeps every stimulus' smallest size and every (test, utterance)'s padded size.
"""

import io

from django.core.files.storage import default_storage

from mushra.models import TrialSignal
from mushra.selectors import AudioSignal
from synth_workers.audio import encode_audio, read_audio
from synth_workers.audio.containers import FLAC_MARKER, flac_for_listeners, flac_listener_size

_LIMIT = 100_000
_SIZES: dict[tuple, int | None] = {}  # (stimulus, sha256) -> smallest size (None: not FLAC)
_TRIAL_SIZES: dict[tuple, int | None] = {}  # (test, opened at, utterance) -> padded size


def listener_audio(signal: AudioSignal) -> tuple[bytes, str]:
    """The signal as served within its trial: (bytes, content type)."""
    data = _read(signal.audio_name)
    size = _trial_size(signal)
    if size is None:  # not every signal is FLAC: uncompressed PCM, whose size is the duration
        return encode_audio(read_audio(io.BytesIO(data)), fmt="wav", subtype="PCM_24"), "audio/wav"
    return flac_for_listeners(data, size), "audio/flac"


def _trial_size(signal: AudioSignal) -> int | None:
    key = (*signal.test_key, signal.utterance_id) if signal.test_key else None
    if key in _TRIAL_SIZES:
        return _TRIAL_SIZES[key]
    stimuli = TrialSignal.objects.filter(trial_id=signal.trial_id).values_list(
        "stimulus_id", "stimulus__sha256", "stimulus__audio"
    )
    sizes = [_smallest_size((pk, sha256), name) for pk, sha256, name in stimuli]
    size = None if None in sizes else max(sizes)
    if key is not None:  # an open (or closed) test: its stimuli are frozen
        _remember(_TRIAL_SIZES, key, size)
    return size


def _smallest_size(key: tuple, name: str) -> int | None:
    if key not in _SIZES:
        data = _read(name)
        _remember(_SIZES, key, flac_listener_size(data) if data.startswith(FLAC_MARKER) else None)
    return _SIZES[key]


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _LIMIT:
        cache.clear()
    cache[key] = value


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        return f.read()
