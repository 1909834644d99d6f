"""The "hf-vits" backend: a transformers ``VitsModel`` + ``VitsTokenizer`` (MMS-TTS and the like).

Safe loading: weights are accepted as safetensors ONLY (even on a trusted system), and every file
is checked before torch or transformers is imported: the JSON files are parsed, the safetensors
header is read without the weights, and config and weights must fit (vocabulary size, speakers,
the model's parts). Uploaded files have arbitrary stored names, so ``load`` links them under the
names ``from_pretrained`` expects into a temporary folder; nothing is ever downloaded.

Batching and seeds: a group of requests with the same speaker and controls is ONE padded forward
pass (VitsModel takes one speaker and one set of scales per call). VITS draws its noise with
``torch.randn``/``randn_like`` from the global generator, one draw for the whole batch; we answer
those draws instead (a TorchFunctionMode) with noise from ``numpy.random.default_rng((seed,
draw))`` per item, laid out so that an item's first frames get the same values whatever the
batch's padded length. We also zero the padding before every decoder convolution, as a lone item
would see it. So an item's audio depends on its own request and seed only, not on its batch
neighbours (batched vs one at a time agree to float rounding), and torch's global generator is
never touched. ``info.deterministic``: bit-identical samples for the same batch composition on
the CPU; on CUDA only when torch's deterministic algorithms are switched on.

Sampled speakers ("sampled:<seed>", multi-speaker checkpoints only): a new speaker embedding drawn
from a Gaussian fitted to the rows of the model's speaker table (``embed_speaker``; see
speaker_gaussian.py for the distribution and its guard). VitsModel looks its one speaker up with
``embed_speaker(speaker_id)`` and passes the (batch, width, 1) result to the duration
predictor, the flow and the decoder, which all broadcast it over the batch. For a group of
sampled speakers we call it with speaker_id 0 and, for that one forward pass, a forward hook on
``embed_speaker`` answers with the group's drawn embeddings instead, one row per item. The
weights are never written, and the hook is removed when the pass ends (even on an error), so a
real speaker renders exactly as before. Sampled and real speakers in one batch are separate
forward passes; sampled speakers with the same controls share one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
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
    normalise_language,
    sampled_speaker_seed,
    validate_config,
)
from .errors import BackendError
from .hf_vits_files import (
    SCALE_KEYS,
    check_tokenizer_config,
    check_vocab,
    check_weights_fit,
    read_json,
    read_model_config,
    read_safetensors_header,
)
from .speaker_gaussian import SampledVoice, SpeakerGaussian
from .torch_runtime import torch_device, torch_ready

logger = logging.getLogger(__name__)

CANONICAL_NAMES = {
    "config": "config.json",
    "weights": "model.safetensors",
    "vocab": "vocab.json",
    "tokenizer_config": "tokenizer_config.json",
}
SCALE = (int, float)
CONTROL_RANGES = {
    "speaking_rate": (0.1, 10.0),  # > 1 is faster
    "speed": (0.1, 10.0),  # the same, under the name other backends use
    "noise_scale": (0.0, 2.0),  # prior noise (voice quality variation)
    "noise_scale_duration": (0.0, 2.0),  # duration noise (rhythm variation)
}


@dataclass(frozen=True)
class _Settings:
    """What one forward pass shares: requests that agree on all of it are batched together."""

    speaker: int | None
    sampled: bool  # the speakers are drawn ("sampled:<seed>"); ``speaker`` is then 0
    speaking_rate: float
    noise_scale: float
    noise_scale_duration: float


class HfVitsBackend(Backend):
    name = "hf-vits"
    version = "1.0"
    # multi_speaker and speaker_sampling only if num_speakers > 1
    capabilities = frozenset({"tts", "multi_speaker", "speaker_sampling"})
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "language": ConfigKey(str, default="en", help="the model's language tag, e.g. 'en'"),
        "speaking_rate": ConfigKey(SCALE, help="default speaking rate (else the model's own)"),
        "noise_scale": ConfigKey(SCALE, help="default noise scale (else the model's own)"),
        "noise_scale_duration": ConfigKey(SCALE, help="default duration noise (else the model's)"),
    }
    file_roles: ClassVar[dict[str, str]] = {
        role: f"the model's {name}" for role, name in CANONICAL_NAMES.items()
    }

    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        cls._checked(files, config, trusted)

    @classmethod
    def _checked(cls, files: dict[str, Path], config: dict, trusted: bool) -> dict[str, Any]:
        """Roles, keys, pickles (base); then each file and whether they fit. The model config."""
        super().check_files(files, config, trusted)
        _registration(config)
        paths = {role: Path(path) for role, path in files.items()}
        model_config = read_model_config(paths["config"])
        header = read_safetensors_header(paths["weights"])
        check_weights_fit(model_config, header, paths["weights"].name, paths["config"].name)
        vocab = read_json(paths["vocab"], "vocab")
        check_vocab(vocab, model_config["vocab_size"], paths["vocab"].name)
        check_tokenizer_config(
            read_json(paths["tokenizer_config"], "tokenizer_config"),
            paths["tokenizer_config"].name,
        )
        return model_config

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        """From config.json and the registration alone (no model load)."""
        return _info(read_model_config(Path(files["config"])), _registration(config))

    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        torch = torch_ready(self.name, "transformers")
        model_config = self._checked(files, config, trusted=False)
        self._device = torch_device(device)
        self._model, self._tokenizer = _load_pretrained(files, self._device)
        _zero_decoder_padding(self._model)
        self._speaker_space: SpeakerGaussian | None = None
        if model_config["num_speakers"] > 1:
            table = self._model.embed_speaker.weight.detach().cpu().double().numpy()
            self._speaker_space = SpeakerGaussian(table)
        registration = _registration(config)
        self._defaults = {
            k: model_config[k] if registration[k] is None else registration[k] for k in SCALE_KEYS
        }
        # Same composition -> same samples: the CPU always; CUDA kernels only when asked to.
        deterministic = self._device == "cpu" or torch.are_deterministic_algorithms_enabled()
        self.info = replace(_info(model_config, registration), deterministic=deterministic)

    def check_request(self, request: SynthRequest) -> None:
        super().check_request(request)
        check_controls(request.controls, CONTROL_RANGES)
        if "speed" in request.controls and "speaking_rate" in request.controls:
            raise BackendError("give either control 'speed' or 'speaking_rate', not both")
        if sampled_speaker_seed(request.speaker) is None:
            self._speaker_id(request.speaker)
        self._token_ids(request.text)

    def request_provenance(self, request: SynthRequest) -> dict:
        seed = sampled_speaker_seed(request.speaker)
        if seed is None:
            return {}
        return {"sampled_voice": self.sampled_voice(seed).provenance()}

    def sampled_voice(self, seed: int) -> SampledVoice:
        """The voice of "sampled:<seed>" (drawn anew each time: a product with the fitted axes
        costs microseconds, and nothing accumulates over a long-lived worker)."""
        if self._speaker_space is None:
            raise BackendError(f"backend '{self.name}': this checkpoint has one speaker only")
        return self._speaker_space.draw(seed)

    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        groups: dict[_Settings, list[int]] = {}
        for index, request in enumerate(batch):
            groups.setdefault(self._settings(request), []).append(index)
        results: list[np.ndarray] = [np.zeros(0, np.float32)] * len(batch)
        for settings, indices in groups.items():
            rendered = self._render_group([batch[i] for i in indices], settings)
            for index, audio in zip(indices, rendered, strict=True):
                results[index] = audio
        return results

    def _render_group(self, requests: list[SynthRequest], settings: _Settings) -> list[np.ndarray]:
        """One padded forward pass; each waveform cut to its own length."""
        import torch

        ids = [self._token_ids(r.text) for r in requests]
        input_ids = torch.zeros((len(ids), max(map(len, ids))), dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, item in enumerate(ids):
            input_ids[row, : len(item)] = torch.tensor(item)
            mask[row, : len(item)] = 1
        model = self._model
        model.noise_scale = settings.noise_scale
        model.noise_scale_duration = settings.noise_scale_duration
        voices = None
        if settings.sampled:
            voices = [self.sampled_voice(sampled_speaker_seed(r.speaker)) for r in requests]
        with (
            torch.inference_mode(),
            _seeded_noise_mode()([r.seed for r in requests]),
            _speaker_embeddings(model, voices, self._device),
        ):
            output = model(
                input_ids=input_ids.to(self._device),
                attention_mask=mask.to(self._device),
                speaker_id=settings.speaker,
                speaking_rate=settings.speaking_rate,
                return_dict=True,
            )
        waves = output.waveform.float().cpu().numpy()
        lengths = output.sequence_lengths.tolist()
        return [np.clip(waves[i, :n], -1.0, 1.0) for i, n in enumerate(lengths)]

    def _settings(self, request: SynthRequest) -> _Settings:
        controls, defaults = request.controls, self._defaults
        rate = controls.get("speaking_rate", controls.get("speed", defaults["speaking_rate"]))
        sampled = sampled_speaker_seed(request.speaker) is not None
        speaker = 0 if sampled else self._speaker_id(request.speaker)
        if speaker is None and self._model.config.num_speakers > 1:
            speaker = 0  # VitsModel would otherwise render with no speaker conditioning at all
        return _Settings(
            speaker=speaker,
            sampled=sampled,
            speaking_rate=float(rate),
            noise_scale=float(controls.get("noise_scale", defaults["noise_scale"])),
            noise_scale_duration=float(
                controls.get("noise_scale_duration", defaults["noise_scale_duration"])
            ),
        )

    def _speaker_id(self, speaker: str | int | None) -> int | None:
        if speaker is None:
            return None
        count = self._model.config.num_speakers
        sid = int(speaker) if isinstance(speaker, str) and speaker.isdigit() else speaker
        if isinstance(sid, int) and not isinstance(sid, bool) and 0 <= sid < count:
            return sid
        raise BackendError(f"unknown speaker {speaker!r}; this model has ids 0 to {count - 1}")

    def _token_ids(self, text: str) -> list[int]:
        ids = self._tokenizer(text)["input_ids"]
        if None in ids:  # normalize=false and no unknown token in the vocabulary
            raise BackendError(f"text {text[:40]!r} has characters outside the model's vocabulary")
        spoken = ids[1::2] if self._tokenizer.add_blank else ids  # blanks sit between symbols
        if not spoken:
            raise BackendError(
                f"text {text[:40]!r} has no characters this model's vocabulary can speak"
            )
        return ids


def _registration(config: dict) -> dict[str, Any]:
    """The registration config with defaults; its scales checked like per-request controls."""
    values = validate_config(HfVitsBackend.config_schema, config)
    if not normalise_language(values["language"]):
        raise BackendError("config key 'language' must be a language tag such as 'en'")
    check_controls({k: values[k] for k in SCALE_KEYS if values[k] is not None}, CONTROL_RANGES)
    return values


def _info(model_config: dict, registration: dict) -> BackendInfo:
    count = model_config["num_speakers"]
    # A single speaker has no table to fit a distribution of voices to: no speaker_sampling.
    many = {"tts", "multi_speaker", "speaker_sampling"}
    return BackendInfo(
        capabilities=frozenset(many if count > 1 else {"tts"}),
        languages=frozenset({normalise_language(registration["language"])}),
        speakers=tuple(str(i) for i in range(count)) if count > 1 else (),
        controls=tuple(CONTROL_RANGES),
        sample_rate=model_config["sampling_rate"],
        engine=f"transformers {_version('transformers')}, torch {_version('torch')}",
    )


def _load_pretrained(files: dict[str, Path], device: str) -> tuple[Any, Any]:
    """Model (float32, eval mode, on ``device``) and tokenizer from canonically named links."""
    import torch
    from transformers import VitsModel, VitsTokenizer

    with tempfile.TemporaryDirectory(prefix="hf-vits-") as folder:
        for role, name in CANONICAL_NAMES.items():
            _link(Path(files[role]).resolve(), Path(folder) / name)
        try:
            model, loading = VitsModel.from_pretrained(
                folder,
                use_safetensors=True,
                local_files_only=True,
                output_loading_info=True,
                dtype=torch.float32,
            )
            tokenizer = VitsTokenizer.from_pretrained(folder, local_files_only=True)
        except torch.OutOfMemoryError:
            raise
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise BackendError(f"the VITS model could not be loaded: {exc}") from exc
    # Posterior encoder weights serve training only; anything else would be left random.
    missing = sorted(k for k in loading["missing_keys"] if not k.startswith("posterior_encoder."))
    if missing or loading["mismatched_keys"]:
        what = missing or sorted(map(str, loading["mismatched_keys"]))
        raise BackendError(
            f"weights file '{Path(files['weights']).name}' does not fit the config: "
            f"{len(what)} tensors missing or of the wrong shape, e.g. {what[0]}"
        )
    return model.eval().to(device), tokenizer


def _link(source: Path, target: Path) -> None:
    try:
        os.symlink(source, target)
    except OSError:  # no symlinks here (some file systems, Windows): copy instead
        shutil.copyfile(source, target)


def _zero_decoder_padding(model: Any) -> None:
    """Zero every decoder convolution's input beyond each item's length, as a lone item's zero
    padding would be: without it the (nonzero) padding of a batch leaks into the last ~0.1 s of
    its shorter items. The frame mask is taken from the flow's call, which precedes the decoder.
    """
    from torch import nn

    frames: dict[str, Any] = {}

    def remember(module: nn.Module, args: tuple) -> None:
        frames["mask"] = args[1] if len(args) > 1 else None  # flow(latents, padding_mask, ...)

    def zero(module: nn.Module, args: tuple) -> tuple | None:
        mask, x = frames.get("mask"), args[0]
        if mask is None or mask.shape[0] != x.shape[0] or x.shape[-1] % mask.shape[-1]:
            return None
        factor = x.shape[-1] // mask.shape[-1]
        return (x * mask.repeat_interleave(factor, dim=-1).to(x.dtype), *args[1:])

    model.flow.register_forward_pre_hook(remember)
    for name, module in model.decoder.named_modules():
        if isinstance(module, nn.Conv1d | nn.ConvTranspose1d) and name != "cond":
            module.register_forward_pre_hook(zero)


@contextlib.contextmanager
def _speaker_embeddings(model: Any, voices: list[SampledVoice] | None, device: str):
    """For the forward passes inside: ``embed_speaker`` answers with these voices' embeddings
    (one row per batch item) instead of its table's row; nothing changes when ``voices`` is None.
    The hook replaces the output only, the weights stay as they are."""
    if voices is None:
        yield
        return
    import torch

    rows = np.stack([voice.embedding for voice in voices])
    table = model.embed_speaker.weight
    drawn = torch.from_numpy(rows).to(device=device, dtype=table.dtype)

    def answer(module: Any, args: tuple, output: Any) -> Any:
        return drawn

    handle = model.embed_speaker.register_forward_hook(answer)
    try:
        yield
    finally:
        handle.remove()


@functools.cache
def _seeded_noise_mode() -> type:
    """The TorchFunctionMode class that answers torch.randn/randn_like per item (see top)."""
    import torch
    from torch.overrides import TorchFunctionMode

    class SeededNoise(TorchFunctionMode):
        def __init__(self, seeds: list[int]) -> None:
            super().__init__()
            self.seeds, self.draws = seeds, 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.randn_like:
                shape, like = args[0].shape, args[0]
                dtype, device = (
                    kwargs.get("dtype") or like.dtype,
                    kwargs.get("device") or like.device,
                )
            elif func is torch.randn:
                one = len(args) == 1 and not isinstance(args[0], int)
                shape = kwargs.get("size") or (args[0] if one else args)
                dtype = kwargs.get("dtype") or torch.get_default_dtype()
                device = kwargs.get("device") or "cpu"
            else:
                return func(*args, **kwargs)
            self.draws += 1
            noise = per_item_noise(tuple(shape), self.seeds, self.draws)
            return torch.from_numpy(noise).to(device=device, dtype=dtype)

    return SeededNoise


def per_item_noise(shape: tuple[int, ...], seeds: list[int], draw: int) -> np.ndarray:
    """Standard-normal noise of ``shape`` whose row i comes from ``default_rng((seeds[i],
    draw))``. Values are generated with the axes reversed (time slowest), so the values of the
    first T frames do not depend on how long the padded batch is."""
    if len(shape) < 2 or shape[0] != len(seeds):
        raise RuntimeError(f"hf-vits: unexpected noise draw of shape {shape} for {len(seeds)}")
    rest = shape[1:]
    rows = [
        np.random.default_rng((seed, draw))
        .standard_normal(math.prod(rest), dtype=np.float32)
        .reshape(rest[::-1])
        .transpose()
        for seed in seeds
    ]
    return np.ascontiguousarray(np.stack(rows))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"
