"""The bytes a listener's browser gets for a signal: the stored FLAC, padded, never re-encoded.

Until now every request (and every ``Range`` request) decoded the stored 24-bit FLAC and encoded
it again as WAV, about 0.3 MB a second of audio, because a compressed file's size betrays how
compressible the signal is (a low-passed anchor stands out by size alone). Now each signal goes
out as its stored FLAC frames, padded to the size of the largest signal of its trial
(``containers.flac_for_listeners``): one size per trial, fewer bytes, and no audio work per
request. Stored stimuli never change once ready and an open test's stimuli are frozen, so each
process keeps every stimulus' smallest size and every (test, utterance)'s padded size.

Attention checks (``mushra.attention``): the catch signal of a catch trial plays a clearly
degraded copy of its own stimulus (``synth_workers.audio.catch``), made here on first use and
kept per stimulus in a bounded cache, so a listener's requests (and the bundle's) do no audio
work after the first. Blinding: the copy is of the system's own stimulus, not of the reference,
so a catch trial's signals have exactly the durations of an ordinary trial of its utterance; it
is padded like every signal of its trial, and in a test with attention checks *every* trial of an
utterance, catch or not, is padded to the largest of all that utterance's stimuli and their
copies (the frozen ``ConditionStimulus`` rows), so neither the copy within its trial nor a catch
trial among the others stands out by size. The padded size is kept under a key that says whether
the test has attention checks, and which copy they play.

An ACR test's attention checks are P.808 trap clips instead (``synth_workers.audio.trap``): the
catch signal plays its stimulus' start and then a voice asking for a given answer, in the test's
language (``mushra.trap_speech``); made and kept like the degraded copies. A trap clip is longer
than its stimulus (the spoken instruction): it is meant to be heard as what it is.
"""

import io
import struct
import threading
from collections import OrderedDict

from django.core.files.storage import default_storage

from mushra.models import Condition, ConditionStimulus, TrialSignal
from mushra.selectors import AudioSignal, TrialAudio
from mushra.trap_speech import instruction
from synth_workers.audio import encode_audio, read_audio
from synth_workers.audio.catch import catch_copy_flac
from synth_workers.audio.containers import FLAC_MARKER, flac_for_listeners, flac_listener_size
from synth_workers.audio.trap import trap_clip_flac

_LIMIT = 100_000
_SIZES: dict[tuple, int | None] = {}  # ((stimulus, sha256), copy kind) -> smallest (None: WAV)
_TRIAL_SIZES: dict[tuple, int | None] = {}  # (test, opened, utterance, copies) -> padded size
_UNKNOWN = object()
COPY_CACHE_BYTES = 64 * 2**20  # degraded copies kept per process (a few seconds' FLAC: ~0.1 MB)
_COPIES: OrderedDict[tuple, bytes] = OrderedDict()  # ((stimulus, sha256), kind) -> FLAC
_COPIES_LOCK = threading.Lock()
_copies_bytes = 0


def listener_audio(signal: AudioSignal) -> tuple[bytes, str]:
    """The signal as served within its trial: (bytes, content type)."""
    size = _padded_size(signal)
    copy = _copy_kind(signal, signal.catch)
    return _served(_bytes(signal.stimulus_key, signal.audio_name, copy), size)


def trial_bundle(audio: TrialAudio) -> bytes:
    """A whole trial's audio in one response: the open reference, then each signal in its order
    on screen, each exactly as ``listener_audio`` serves it.

    One request per trial instead of one per signal: a listener's browser fetched seven files
    per trial, and those requests were most of the server's work. The layout is a count and the
    parts' lengths (big-endian 32-bit) followed by the parts; the lengths are equal within a
    trial for FLAC, so the header says nothing the per-signal responses do not."""
    files = [(stimulus, name, _copy_kind(audio, copy)) for stimulus, name, copy in audio.files]
    size = _padded_size(audio, files)
    parts = [_served(_bytes(*file), size)[0] for file in files]
    header = struct.pack(f">I{len(parts)}I", len(parts), *map(len, parts))
    return b"".join([header, *parts])


def _served(data: bytes, size: int | None) -> tuple[bytes, str]:
    if size is None:  # not every signal is FLAC: uncompressed PCM, whose size is the duration
        return encode_audio(read_audio(io.BytesIO(data)), fmt="wav", subtype="PCM_24"), "audio/wav"
    return flac_for_listeners(data, size), "audio/flac"


def _copy_kind(audio: AudioSignal | TrialAudio, copy: bool) -> str:
    """What a signal plays instead of its stimulus: "" (nothing), "catch" (MUSHRA's degraded
    copy) or "trap:<language>" (ACR's trap clip)."""
    if not copy:
        return ""
    return f"trap:{audio.trap_language}" if audio.trap_language else "catch"


def _padded_size(audio: AudioSignal | TrialAudio, files: list | None = None) -> int | None:
    """The size every signal of a trial is padded to (None: not all FLAC), kept per (test,
    opened at, utterance, the copy its attention checks play) once the test is open, when its
    stimuli are frozen. `files`: the trial's (stimulus key, stored file, copy kind)."""
    copies = _copy_kind(audio, audio.attention)
    key = (*audio.test_key, audio.utterance_id, copies) if audio.test_key else None
    if key is not None and (size := _TRIAL_SIZES.get(key, _UNKNOWN)) is not _UNKNOWN:
        return size
    if key is not None:  # every trial of the utterance, whichever of its signals it shows
        files = _utterance_files(audio.test_key[0], audio.utterance_id, copies)
    elif files is None:
        files = [(s, n, _copy_kind(audio, c)) for s, n, c in _trial_files(audio.trial_id)]
    sizes = [_smallest_size(stimulus, name, copy) for stimulus, name, copy in files]
    size = None if None in sizes else max(sizes)
    if key is not None:
        _remember(_TRIAL_SIZES, key, size)
    return size


def _trial_files(trial_id: int) -> list[tuple[tuple, str, bool]]:
    rows = TrialSignal.objects.filter(trial_id=trial_id).values_list(
        "stimulus_id", "stimulus__sha256", "stimulus__audio", "catch"
    )
    return [((pk, sha256), name, catch) for pk, sha256, name, catch in rows]


def _utterance_files(test_id: int, utterance_id: int, copies: str) -> list[tuple[tuple, str, str]]:
    """Every stimulus any trial of this utterance may play: each condition's (a pair trial shows
    two of them, and each pair must have the size of every other), and in a test with attention
    checks the degraded copy of each system's (any of them may play the copy)."""
    frozen = ConditionStimulus.objects.filter(test_id=test_id, utterance_id=utterance_id)
    rows = list(
        frozen.values_list("stimulus_id", "stimulus__sha256", "stimulus__audio", "condition__role")
    )
    files = [((pk, sha256), name, "") for pk, sha256, name, _ in rows]
    if not copies:
        return files
    systems = [f for f, (*_, role) in zip(files, rows, strict=True) if role == _SYSTEM]
    return files + [(stimulus, name, copies) for stimulus, name, _ in systems]


_SYSTEM = Condition.Role.SYSTEM.value


def _smallest_size(stimulus: tuple, name: str, copy: str) -> int | None:
    if (size := _SIZES.get((stimulus, copy), _UNKNOWN)) is _UNKNOWN:
        data = _bytes(stimulus, name, copy)
        size = flac_listener_size(data) if data.startswith(FLAC_MARKER) else None
        _remember(_SIZES, (stimulus, copy), size)
    return size


def _bytes(stimulus: tuple, name: str, copy: str) -> bytes:
    """The stored file, or (for a catch signal) its degraded copy or trap clip as FLAC."""
    return _copy(stimulus, name, copy) if copy else _read(name)


def _make_copy(name: str, copy: str) -> bytes:
    if copy == "catch":
        return catch_copy_flac(_read(name))
    return trap_clip_flac(_read(name), instruction(copy.removeprefix("trap:")))


def _copy(stimulus: tuple, name: str, copy: str) -> bytes:
    """A stimulus' degraded copy or trap clip, made once per process while it stays in the
    cache (least recently used copies go first once they hold ``COPY_CACHE_BYTES``)."""
    global _copies_bytes
    key = (stimulus, copy)
    with _COPIES_LOCK:
        if (data := _COPIES.get(key)) is not None:
            _COPIES.move_to_end(key)
            return data
    data = _make_copy(name, copy)  # outside the lock: two requests may both make it
    with _COPIES_LOCK:
        if key not in _COPIES:
            _COPIES[key] = data
            _copies_bytes += len(data)
        while _copies_bytes > COPY_CACHE_BYTES and len(_COPIES) > 1:
            _copies_bytes -= len(_COPIES.popitem(last=False)[1])
    return data


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _LIMIT:
        cache.clear()
    cache[key] = value


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        return f.read()
