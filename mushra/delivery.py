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
import struct

from django.core.files.storage import default_storage

from mushra.models import TrialSignal
from mushra.selectors import AudioSignal, TrialAudio
from synth_workers.audio import encode_audio, read_audio
from synth_workers.audio.containers import FLAC_MARKER, flac_for_listeners, flac_listener_size

_LIMIT = 100_000
_SIZES: dict[tuple, int | None] = {}  # (stimulus, sha256) -> smallest size (None: not FLAC)
_TRIAL_SIZES: dict[tuple, int | None] = {}  # (test, opened at, utterance) -> padded size
_UNKNOWN = object()


def listener_audio(signal: AudioSignal) -> tuple[bytes, str]:
    """The signal as served within its trial: (bytes, content type)."""
    key = _size_key(signal)
    size = _TRIAL_SIZES.get(key, _UNKNOWN) if key else _UNKNOWN
    if size is _UNKNOWN:
        stimuli = TrialSignal.objects.filter(trial_id=signal.trial_id).values_list(
            "stimulus_id", "stimulus__sha256", "stimulus__audio"
        )
        size = _trial_size(key, [((pk, sha256), name) for pk, sha256, name in stimuli])
    return _served(_read(signal.audio_name), size)


def trial_bundle(audio: TrialAudio) -> bytes:
    """A whole trial's audio in one response: the open reference, then each signal in its order
    on screen, each exactly as ``listener_audio`` serves it.

    One request per trial instead of one per signal: a listener's browser fetched seven files
    per trial, and those requests were most of the server's work. The layout is a count and the
    parts' lengths (big-endian 32-bit) followed by the parts; the lengths are equal within a
    trial for FLAC, so the header says nothing the per-signal responses do not."""
    size = _trial_size(_size_key(audio), audio.files)
    parts = [_served(_read(name), size)[0] for _, name in audio.files]
    header = struct.pack(f">I{len(parts)}I", len(parts), *map(len, parts))
    return b"".join([header, *parts])


def _served(data: bytes, size: int | None) -> tuple[bytes, str]:
    if size is None:  # not every signal is FLAC: uncompressed PCM, whose size is the duration
        return encode_audio(read_audio(io.BytesIO(data)), fmt="wav", subtype="PCM_24"), "audio/wav"
    return flac_for_listeners(data, size), "audio/flac"


def _trial_size(key: tuple | None, files: list[tuple[tuple, str]]) -> int | None:
    """The size every signal of a trial is padded to (None: not all FLAC), kept per (test,
    opened at, utterance) once the test is open, when its stimuli are frozen."""
    if key and (size := _TRIAL_SIZES.get(key, _UNKNOWN)) is not _UNKNOWN:
        return size
    sizes = [_smallest_size(stimulus, name) for stimulus, name in files]
    size = None if None in sizes else max(sizes)
    if key is not None:
        _remember(_TRIAL_SIZES, key, size)
    return size


def _size_key(audio: AudioSignal | TrialAudio) -> tuple | None:
    return (*audio.test_key, audio.utterance_id) if audio.test_key else None


def _smallest_size(key: tuple, name: str) -> int | None:
    if (size := _SIZES.get(key, _UNKNOWN)) is _UNKNOWN:
        data = _read(name)
        size = flac_listener_size(data) if data.startswith(FLAC_MARKER) else None
        _remember(_SIZES, key, size)
    return size


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _LIMIT:
        cache.clear()
    cache[key] = value


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        return f.read()
