"""The contract every synthesis backend follows (DESIGN.md §5), and its one expected error.

A job asks three questions, in this order, and each has one place to ask it:

1. Is this registration usable?         ``Backend.check_files(files, config, trusted)``
2. Can it render this request?          ``Backend.describe(files, config)`` gives a
                                        ``BackendInfo`` (capabilities, languages, speakers) before
                                        loading; ``missing_capabilities(request, info)`` and
                                        ``unknown_language(request, info)`` compare.
3. Render.                              ``backend.load(...)`` then ``backend.synthesize(batch)``,
                                        which re-checks every request (``check_request``).
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from synth_workers.audio import Audio

from .errors import BackendError
from .safety import check_file

MAX_TEXT_CHARS = 1000
# A request's speaker "sampled:<seed>" asks for a new voice drawn by the backend (capability
# "speaker_sampling"), the same voice for the same seed; any other speaker names a stored voice.
SAMPLED_SPEAKER_PREFIX = "sampled:"
MAX_SPEAKER_SEED = 2**31 - 1


def sampled_speaker_seed(speaker: object) -> int | None:
    """The seed of a "sampled:<seed>" speaker, None for any other speaker; BackendError for a
    sampled speaker whose seed is not a whole number between 0 and 2**31 - 1."""
    if not isinstance(speaker, str) or not speaker.startswith(SAMPLED_SPEAKER_PREFIX):
        return None
    text = speaker[len(SAMPLED_SPEAKER_PREFIX) :]
    if not text.isascii() or not text.isdigit() or int(text) > MAX_SPEAKER_SEED:
        raise BackendError(
            f"sampled speaker {speaker!r}: the seed after '{SAMPLED_SPEAKER_PREFIX}' must be a "
            f"whole number from 0 to {MAX_SPEAKER_SEED}"
        )
    return int(text)


def normalise_language(tag: str) -> str:
    """'en_US' and 'EN-us' are the same tag: lower case, hyphens."""
    return tag.strip().lower().replace("_", "-")


def language_matches(requested: str, native: str) -> bool:
    """Same language when equal or when one tag extends the other by whole subtags.

    So 'en' matches an 'en-us' voice (the caller did not ask for an accent), but 'en-gb' does not
    match 'en-us': asking an American voice for British English is a cross-lingual request.
    """
    a, b = normalise_language(requested), normalise_language(native)
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


@dataclass(frozen=True)
class SynthRequest:
    """One utterance to render. Everything but ``text`` is optional."""

    text: str
    language: str = ""  # "" means the backend's own (default) language
    speaker: str | int | None = None  # a speaker id or name; embeddings/reference audio later
    style: str = ""
    prosody_reference: Audio | None = None
    controls: dict[str, float] = field(default_factory=dict)  # e.g. speed, noise_scale
    seed: int = 0

    def required_capabilities(self, native_languages: Iterable[str] = ()) -> frozenset[str]:
        """The capabilities a backend needs to honour every field of this request.

        Rule: always "tts"; a speaker → "multi_speaker", a sampled speaker ("sampled:<seed>")
        → "speaker_sampling" instead; a style → "style"; prosody reference
        audio → "prosody_reference"; a language that matches none of the backend's native
        languages (see ``language_matches``) → "cross_lingual". An empty language never needs
        cross_lingual (it means "the backend's own"). Controls need no capability: each backend
        refuses the control names it does not know.
        """
        needed = {"tts"}
        if self.speaker is not None:
            needed.add("speaker_sampling" if _is_sampled(self.speaker) else "multi_speaker")
        if self.style:
            needed.add("style")
        if self.prosody_reference is not None:
            needed.add("prosody_reference")
        if self.language and not any(language_matches(self.language, n) for n in native_languages):
            needed.add("cross_lingual")
        return frozenset(needed)


def _is_sampled(speaker: object) -> bool:
    return isinstance(speaker, str) and speaker.startswith(SAMPLED_SPEAKER_PREFIX)


@dataclass(frozen=True)
class BackendInfo:
    """What one registration (backend + files + config) can do; known before loading."""

    capabilities: frozenset[str]
    languages: frozenset[str]  # native languages, normalised
    # Every tag a request may name, native or cross-lingual (normalised); None when the backend
    # cannot list them before rendering (a cross-lingual model that tries any language).
    accepted_languages: frozenset[str] | None = None
    speakers: tuple[str, ...] = ()  # names a request may use as ``speaker``
    styles: tuple[str, ...] = ()  # style labels accepted; empty: the backend checks its own
    controls: tuple[str, ...] = ()
    sample_rate: int | None = None
    engine: str = ""  # library versions, for provenance
    # Same request + seed -> identical samples (same machine and libraries). None: not known
    # before loading (Piper learns it from the ONNX graph).
    deterministic: bool | None = None


def missing_capabilities(request: SynthRequest, info: BackendInfo) -> frozenset[str]:
    return request.required_capabilities(info.languages) - info.capabilities


def unknown_language(request: SynthRequest, info: BackendInfo) -> bool:
    """The backend lists the languages it speaks, and the request's is not one of them."""
    accepted = info.accepted_languages
    return (
        bool(request.language)
        and accepted is not None
        and (normalise_language(request.language) not in accepted)
    )


@dataclass(frozen=True)
class ConfigKey:
    """One accepted key of a backend's ``config`` dict."""

    kind: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    help: str = ""


def validate_config(schema: dict[str, ConfigKey], config: dict) -> dict[str, Any]:
    """The config with defaults filled in; unknown keys, wrong types and gaps are refused."""
    unknown = sorted(set(config) - set(schema))
    if unknown:
        accepted = ", ".join(sorted(schema)) or "none"
        raise BackendError(f"unknown config key '{unknown[0]}'; accepted keys: {accepted}")
    result = {}
    for key, spec in schema.items():
        if key not in config:
            if spec.required:
                raise BackendError(f"config key '{key}' is required ({spec.help})")
            result[key] = spec.default
            continue
        value = config[key]
        # bool is an int in Python, but True is never a sensible speed or speaker.
        if isinstance(value, bool) and bool not in _as_tuple(spec.kind):
            raise BackendError(f"config key '{key}' must be {_kind_name(spec.kind)}, not a bool")
        if not isinstance(value, spec.kind):
            raise BackendError(
                f"config key '{key}' must be {_kind_name(spec.kind)}, got {type(value).__name__}"
            )
        result[key] = value
    return result


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kind))


def check_controls(controls: dict, ranges: dict[str, tuple[float, float]]) -> None:
    """Every control must be known to the backend and a finite number inside its range."""
    for key, value in controls.items():
        if key not in ranges:
            accepted = ", ".join(sorted(ranges)) or "none"
            raise BackendError(f"unknown control '{key}'; this backend accepts: {accepted}")
        low, high = ranges[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise BackendError(f"control '{key}' must be a number, got {value!r}")
        if not low <= value <= high:
            raise BackendError(f"control '{key}' is {value}; it must be between {low} and {high}")


class Backend(ABC):
    """Base class of every synthesis backend; see the module docstring for the call order."""

    name: ClassVar[str]
    version: ClassVar[str]  # the adapter's version, recorded in every stimulus' provenance
    capabilities: ClassVar[frozenset[str]]  # the most any registration of this backend can do
    config_schema: ClassVar[dict[str, ConfigKey]] = {}
    file_roles: ClassVar[dict[str, str]] = {}  # role -> what the file is; every role required
    # True when a registration may also carry no files at all: the model ships in a package.
    builtin_model: ClassVar[bool] = False

    def __init__(self) -> None:
        self.info: BackendInfo | None = None  # set by load()

    # -- before loading ------------------------------------------------------------------------
    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        """Refuse a registration before anything is loaded: roles, config keys, file safety.

        Subclasses extend this with format checks (and must call it).
        """
        missing = sorted(set(cls.file_roles) - set(files))
        if missing:
            raise BackendError(
                f"backend '{cls.name}' needs a '{missing[0]}' file ({cls.file_roles[missing[0]]})"
            )
        extra = sorted(set(files) - set(cls.file_roles))
        if extra:
            accepted = ", ".join(sorted(cls.file_roles)) or "no files"
            raise BackendError(
                f"backend '{cls.name}' does not use a '{extra[0]}' file; it takes {accepted}"
            )
        validate_config(cls.config_schema, config)
        for role, path in files.items():
            check_file(Path(path), role, trusted)

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        """Capabilities, languages and speakers of a registration, without loading a model."""
        return BackendInfo(capabilities=cls.capabilities, languages=frozenset())

    # -- loaded --------------------------------------------------------------------------------
    @abstractmethod
    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        """Load the model; must set ``self.info``. ``device`` is "cpu" or "cuda[:N]"."""

    @abstractmethod
    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        """Mono float32 samples at ``self.info.sample_rate`` for already-checked requests."""

    def request_provenance(self, request: SynthRequest) -> dict:
        """What of one rendering its stimulus' provenance should record beyond the job's (a
        sampled voice's blend weights, say); JSON-serialisable. Called after rendering."""
        return {}

    def check_request(self, request: SynthRequest) -> None:
        """Refuse a request this loaded backend cannot honour, naming what is wrong."""
        info = self._loaded_info()
        check_text(request.text)
        sampled_speaker_seed(request.speaker)  # a malformed "sampled:" speaker is refused here
        if isinstance(request.seed, bool) or not isinstance(request.seed, int) or request.seed < 0:
            raise BackendError(f"seed must be a whole number >= 0, got {request.seed!r}")
        missing = missing_capabilities(request, info)
        if missing:
            noun = "capability" if len(missing) == 1 else "capabilities"
            raise BackendError(
                f"backend '{self.name}' lacks the {noun} {', '.join(sorted(missing))} "
                f"needed by this request ({_why(request, missing)})"
            )
        if unknown_language(request, info):
            raise BackendError(f"backend '{self.name}' has no language '{request.language}'")
        # Named styles are checked here; a backend that lists none validates its own.
        if request.style and info.styles and request.style not in info.styles:
            raise BackendError(
                f"unknown style '{request.style}'; available: {', '.join(info.styles)}"
            )

    def synthesize(self, batch: list[SynthRequest]) -> list[Audio]:
        """Check every request first (a bad item fails the batch before any work), then render."""
        info = self._loaded_info()
        for request in batch:
            self.check_request(request)
        rendered = self.render_batch(list(batch))
        if len(rendered) != len(batch):
            raise RuntimeError(f"{self.name} returned {len(rendered)} results for {len(batch)}")
        return [
            Audio(np.asarray(x, dtype=np.float32).reshape(-1), info.sample_rate) for x in rendered
        ]

    def _loaded_info(self) -> BackendInfo:
        if self.info is None or self.info.sample_rate is None:
            raise BackendError(f"backend '{self.name}' is not loaded; call load() first")
        return self.info


def cpu_threads() -> int | None:
    """Threads one process may use for CPU inference (EVALSITE_SYNTH_THREADS), or None for the
    library's default (all cores). Workers with several processes set it (tasks.py)."""
    value = os.environ.get("EVALSITE_SYNTH_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def require_modules(backend: str, *modules: str) -> None:
    """Refuse, in plain words, to load a backend whose libraries this worker lacks."""
    import importlib.util

    if missing := [m for m in modules if importlib.util.find_spec(m) is None]:
        raise BackendError(
            f"backend '{backend}' needs {', '.join(missing)} on the worker; install the worker "
            "extra there (pip install -e '.[worker]')"
        )


def check_text(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise BackendError("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise BackendError(f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    if "\x00" in text:  # C engines would silently stop reading at the NUL
        raise BackendError("text contains a NUL character")


def _why(request: SynthRequest, missing: frozenset[str]) -> str:
    reasons = {
        "multi_speaker": f"speaker {request.speaker!r}",
        "speaker_sampling": f"sampled speaker {request.speaker!r}",
        "style": f"style {request.style!r}",
        "prosody_reference": "prosody reference audio",
        "cross_lingual": f"language {request.language!r}",
        "tts": "text input",
    }
    return "; ".join(reasons.get(cap, cap) for cap in sorted(missing))
