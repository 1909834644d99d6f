"""libespeak-ng (from the espeakng-loader wheel) driven through ctypes, reproducibly.

espeak-ng keeps process-global state, and some of it carries over from one utterance to the
next: its pitch-flutter counter is a static variable that neither espeak_Terminate nor
espeak_Initialize resets, so saying the same sentence twice gave different samples. We therefore
load a private copy of the library (so no other user of espeakng-loader in the process shares
its state) and reload it before every utterance: dlclose + dlopen gives fresh static data, which
costs about 15 ms. A lock serialises all use, because the library is one global object.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from .errors import BackendError

AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
PARAMETERS = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}  # espeak_PARAMETER values
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated name)*, then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class EspeakEngine:
    """One per process (see ``engine()``); every public method takes the lock."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lock = threading.Lock()
        self._data_path = espeakng_loader.get_data_path().encode()
        self._private_dir = Path(tempfile.mkdtemp(prefix="evalsite-espeak-"))
        atexit.register(_remove_if_owner, self._private_dir, os.getpid())
        self._lib_path = self._private_dir / "libespeak-ng.so"
        shutil.copyfile(espeakng_loader.get_library_path(), self._lib_path)
        self._data_dir = Path(espeakng_loader.get_data_path())
        self._variants_dir = self._data_dir / "voices" / "!v"
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: C holds a raw pointer
        self._lib: ctypes.CDLL | None = None
        self.sample_rate = 0
        with self._lock:
            self._reload()
            self.version = self._lib.espeak_Info(None).decode()
            self.voices = self._voices_by_language()
        self.languages = frozenset(self.voices)
        self.variants = tuple(sorted(p.name for p in self._variants_dir.iterdir() if p.is_file()))

    def say(self, text: str, voice: str, parameters: dict[str, int], seed: int) -> np.ndarray:
        """``text`` spoken by ``voice`` ("de", "en-us+f3") as float32 samples in [-1, 1)."""
        with self._lock:
            self._reload()  # fresh static state: the same request always gives the same samples
            lib = self._lib
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise BackendError(f"espeak-ng has no voice '{voice}'")
            for name, value in parameters.items():
                lib.espeak_SetParameter(PARAMETERS[name], int(value), 0)
            lib.espeak_ng_SetRandSeed(seed % 2**31)  # espeak's own PRNG (noise sources)
            self._chunks = []
            data = text.encode()
            status = lib.espeak_Synth(
                data, len(data) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None
            )
            lib.espeak_Synchronize()
            if status != 0:
                raise RuntimeError(f"espeak-ng failed to synthesise (status {status})")
            chunks, self._chunks = self._chunks, []
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return samples.astype(np.float32) / 32768.0

    def _collect(self, wav, count: int, _events) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0 = go on

    def _reload(self) -> None:
        import _ctypes

        if self._lib is not None:
            self._lib.espeak_Terminate()
            _ctypes.dlclose(self._lib._handle)
            self._lib = None
        lib = ctypes.CDLL(str(self._lib_path))
        _declare(lib)
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, self._data_path, 0)
        if rate <= 0:
            raise RuntimeError(f"espeak-ng did not start (data at {self._data_path.decode()})")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib, self.sample_rate = lib, rate

    def _voices_by_language(self) -> dict[str, str]:
        """Language tag → the voice espeak_SetVoiceByName accepts for it.

        That call takes a voice file's name ("en-US", "en"), not a language: British English
        ("en-gb") is spoken by the voice file "en". A tag that names a voice file keeps it;
        otherwise the voice that lists the tag with the best (lowest) priority speaks it.
        """
        voices = self._lib.espeak_ListVoices(None)
        best: dict[str, tuple[int, int, str]] = {}
        for i in range(10_000):  # a NULL-terminated array; the bound only guards a bad library
            if not voices[i]:
                break
            voice = voices[i].contents
            identifier = voice.identifier.decode()
            if not self._has_dictionary(identifier):
                continue
            file_name = identifier.rsplit("/", 1)[-1]
            for priority, tag in _languages_of(voice):
                rank = (0 if file_name.lower() == tag else 1, priority, i)
                if tag not in best or rank < best[tag][:3]:
                    best[tag] = (*rank, file_name)
        return {tag: ranked[3] for tag, ranked in best.items()}

    def _has_dictionary(self, identifier: str) -> bool:
        """A voice speaks with the dictionary its file names ("dictionary xx"), else the one of
        its first language up to any '-'. The wheel lacks a few (fo, kaa, xex): such a voice
        would say nothing, so its languages are not offered."""
        path = next(
            (
                p
                for p in (self._data_dir / d / identifier for d in ("lang", "voices"))
                if p.is_file()
            ),
            None,
        )
        if path is None:
            return True  # not where espeak-ng keeps voice files: let espeak-ng decide
        words = [line.split() for line in path.read_text(errors="replace").splitlines()]
        named = {w[0]: w[1] for w in reversed(words) if len(w) > 1}  # the first one wins
        dictionary = named.get("dictionary") or named.get("language", "").split("-")[0]
        return (self._data_dir / f"{dictionary}_dict").is_file()


def _remove_if_owner(directory: Path, owner_pid: int) -> None:
    # A forked child (prefork worker pool) inherits the engine: only the creator cleans up.
    if os.getpid() == owner_pid:
        shutil.rmtree(directory, ignore_errors=True)


def _languages_of(voice: _Voice) -> list[tuple[int, str]]:
    """(priority, tag) pairs; a lower priority number means a better match for the tag."""
    tags, address = [], voice.languages
    while address and (priority := ctypes.c_ubyte.from_address(address).value) != 0:
        name = ctypes.string_at(address + 1)
        tags.append((priority, name.decode().lower()))
        address += len(name) + 2  # priority byte + name + NUL
    return tags


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and return types, so ctypes does not guess ints for pointers."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))


_ENGINE: EspeakEngine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> EspeakEngine:
    """The process' engine, created on first use (so importing this module loads nothing)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = EspeakEngine()
        return _ENGINE
