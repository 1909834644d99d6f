"""The "torchscript" backend: any model its authors exported as a TorchScript module.

A TorchScript file is a zip of pickles and TorchScript code that runs when loaded and when
called, so it is refused unless an administrator marked the system *trusted* (DESIGN.md §5).
What the platform cannot learn from the file (languages, speakers, styles) comes from the
registration config; ``describe`` never opens the file.

Module contract (checked at load):

* an ``int`` attribute ``sample_rate`` (Hz, 8000 to 192000);
* a method ``synthesize(self, text: str, speaker: int, style: str, language: str, speed: float,
  seed: int) -> torch.Tensor`` (``@torch.jit.export`` it when scripting) that returns a 1-D
  float waveform in [-1, 1] at ``sample_rate``. ``speaker`` is 0 to speakers - 1 (0 when the
  request names none), ``style`` one of the registered styles or "" (none asked for),
  ``language`` the request's tag or the first registered language, ``speed`` 1.0 unless the
  request's "speed" control says otherwise (> 1 is faster), ``seed`` the request's seed. The same
  arguments should give the same samples: the backend also seeds torch's global generator with
  ``seed`` (in a forked RNG state) before each call, for modules that draw from it.

Requests are rendered one at a time (the contract is per utterance). Samples are clipped to
[-1, 1]; a non-finite or empty result, and an error raised inside the module, are refused.
"""

from __future__ import annotations

import logging
import warnings
import zipfile
from dataclasses import replace
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
    validate_config,
)
from .errors import BackendError
from .torch_runtime import torch_device, torch_ready

logger = logging.getLogger(__name__)

CONTROL_RANGES = {"speed": (0.25, 4.0)}  # > 1 is faster
SAMPLE_RATES = (8000, 192_000)
MAX_SEED = 2**63 - 1  # TorchScript ints are 64-bit
SYNTHESIZE_ARGUMENTS = [
    ("text", "str"),
    ("speaker", "int"),
    ("style", "str"),
    ("language", "str"),
    ("speed", "float"),
    ("seed", "int"),
]


class TorchScriptBackend(Backend):
    name = "torchscript"
    version = "1.0"
    capabilities = frozenset({"tts", "multi_speaker", "style", "cross_lingual"})
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "languages": ConfigKey(list, default=["en"], help="language tags the model speaks"),
        "speakers": ConfigKey(int, default=1, help="number of speakers (ids 0 to n - 1)"),
        "styles": ConfigKey(list, default=[], help="style labels the model accepts"),
        "cross_lingual": ConfigKey(
            bool, default=False, help="the model also speaks languages not listed (accent)"
        ),
    }
    file_roles: ClassVar[dict[str, str]] = {
        "model": "a TorchScript module saved with torch.jit.save",
    }

    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        if not trusted:  # before anything else, so that this is the message people see
            raise BackendError(
                "TorchScript models contain code that runs when they are loaded and used, so "
                "an administrator must mark this system trusted before one can be registered "
                "(or upload the model as ONNX or safetensors instead)"
            )
        super().check_files(files, config, trusted)
        _registration(config)
        check_torchscript_archive(Path(files["model"]))

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        """From the registration config alone: the file is code and is not opened here."""
        return _info(_registration(config))

    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        """Loads only what ``check_files(..., trusted=True)`` accepted; the caller checks trust."""
        torch_ready(self.name)
        self._settings = _registration(config)
        path = Path(files["model"])
        check_torchscript_archive(path)
        self._device = torch_device(device)
        self._module = _load_module(path, self._device)
        rate = _check_contract(self._module, path.name)
        # None: whether the same arguments give the same samples is up to the module.
        self.info = replace(_info(self._settings), sample_rate=rate, deterministic=None)

    def check_request(self, request: SynthRequest) -> None:
        super().check_request(request)
        check_controls(request.controls, CONTROL_RANGES)
        if request.seed > MAX_SEED:
            raise BackendError(f"seed must be at most {MAX_SEED} for a TorchScript model")
        self._speaker_id(request.speaker)

    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        return [self._render(request) for request in batch]

    def _render(self, request: SynthRequest) -> np.ndarray:
        import torch

        arguments = (
            request.text,
            self._speaker_id(request.speaker) or 0,
            request.style,
            normalise_language(request.language) or self._settings["languages"][0],
            float(request.controls.get("speed", 1.0)),
            request.seed,
        )
        devices = [torch.device(self._device).index or 0] if self._device != "cpu" else []
        try:
            with torch.inference_mode(), torch.random.fork_rng(devices=devices):
                torch.manual_seed(request.seed)
                result = self._module.synthesize(*arguments)
        except torch.OutOfMemoryError:
            raise  # the caller retries with a smaller batch
        except (torch.jit.Error, RuntimeError) as exc:  # raised in the module, or by an op in it
            raise BackendError(
                f"the TorchScript model failed on text {request.text[:40]!r}: {_last_line(exc)}"
            ) from exc
        return _waveform(result, request.text)

    def _speaker_id(self, speaker: str | int | None) -> int | None:
        if speaker is None:
            return None
        count = self._settings["speakers"]
        sid = int(speaker) if isinstance(speaker, str) and speaker.isdigit() else speaker
        if isinstance(sid, int) and not isinstance(sid, bool) and 0 <= sid < count:
            return sid
        raise BackendError(f"unknown speaker {speaker!r}; this model has ids 0 to {count - 1}")


def check_torchscript_archive(path: Path) -> None:
    """A torch.jit.save file is a zip with a ``<name>/code/`` folder (a plain torch.save
    checkpoint has none). Reads only the zip directory."""
    if not path.is_file():
        raise BackendError(f"model file '{path}' does not exist or is not a regular file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackendError(
            f"model file '{path.name}' is not a TorchScript file (torch.jit.save writes a zip "
            "archive; this is not one)"
        ) from exc
    if not any("/code/" in name for name in names):
        raise BackendError(
            f"model file '{path.name}' is a zip without TorchScript code (a torch.save "
            "checkpoint?); save the scripted or traced module with torch.jit.save"
        )


def _load_module(path: Path, device: str) -> Any:
    import torch

    try:
        with warnings.catch_warnings():  # torch.jit is deprecated in favour of torch.export
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location=device)
    except torch.OutOfMemoryError:
        raise
    except (RuntimeError, ValueError, OSError) as exc:
        raise BackendError(
            f"model file '{path.name}' could not be loaded as TorchScript: {_last_line(exc)}"
        ) from exc
    return module.eval()


def _check_contract(module: Any, name: str) -> int:
    """The module's sample rate, after checking it has the documented attribute and method."""
    rate = getattr(module, "sample_rate", None)
    if isinstance(rate, bool) or not isinstance(rate, int):
        raise BackendError(f"TorchScript model '{name}' has no int attribute 'sample_rate'")
    if not SAMPLE_RATES[0] <= rate <= SAMPLE_RATES[1]:
        raise BackendError(f"TorchScript model '{name}': sample_rate {rate} is not plausible")
    method = getattr(module, "synthesize", None)
    if method is None or not hasattr(method, "schema"):
        raise BackendError(
            f"TorchScript model '{name}' has no method 'synthesize' (export it with "
            "@torch.jit.export)"
        )
    arguments = [(a.name, str(a.type)) for a in method.schema.arguments][1:]  # without self
    returns = [str(r.type) for r in method.schema.returns]
    if arguments != SYNTHESIZE_ARGUMENTS or returns != ["Tensor"]:
        expected = ", ".join(f"{n}: {t}" for n, t in SYNTHESIZE_ARGUMENTS)
        raise BackendError(
            f"TorchScript model '{name}': synthesize must be ({expected}) -> Tensor, "
            f"not {method.schema}"
        )
    return rate


def _waveform(result: Any, text: str) -> np.ndarray:
    import torch

    if not isinstance(result, torch.Tensor) or not result.is_floating_point():
        raise BackendError(f"the TorchScript model did not return float samples for {text[:40]!r}")
    samples = result.detach().float().cpu().numpy()
    if samples.ndim != 1 or samples.size == 0:
        raise BackendError(
            f"the TorchScript model returned shape {tuple(samples.shape)} for {text[:40]!r}; "
            "expected non-empty 1-D samples"
        )
    if not np.isfinite(samples).all():
        raise BackendError(f"the TorchScript model returned non-finite samples for {text[:40]!r}")
    return np.clip(samples, -1.0, 1.0)


def _registration(config: dict) -> dict[str, Any]:
    """The registration config with defaults; lists of non-empty strings and a speaker count."""
    values = validate_config(TorchScriptBackend.config_schema, config)
    for key in ("languages", "styles"):
        items = values[key]
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise BackendError(f"config key '{key}' must be a list of non-empty strings")
        if len(set(items)) != len(items):
            raise BackendError(f"config key '{key}' lists an entry twice")
    if not values["languages"]:
        raise BackendError("config key 'languages' must name at least one language")
    if values["speakers"] < 1:
        raise BackendError("config key 'speakers' must be a whole number >= 1")
    languages = [normalise_language(tag) for tag in values["languages"]]
    return {**values, "languages": languages, "styles": list(values["styles"])}


def _info(settings: dict[str, Any]) -> BackendInfo:
    """Capabilities as configured: multi_speaker with 2+ speakers, style with styles listed,
    cross_lingual only when declared (more native languages is not the same thing)."""
    capabilities, count = {"tts"}, settings["speakers"]
    if count > 1:
        capabilities.add("multi_speaker")
    if settings["styles"]:
        capabilities.add("style")
    if settings["cross_lingual"]:
        capabilities.add("cross_lingual")
    return BackendInfo(
        capabilities=frozenset(capabilities),
        languages=frozenset(settings["languages"]),
        speakers=tuple(str(i) for i in range(settings["speakers"])) if count > 1 else (),
        styles=tuple(settings["styles"]),
        controls=tuple(CONTROL_RANGES),
        engine=f"torch {_torch_version()}",
    )


def _torch_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _last_line(exc: BaseException) -> str:
    """TorchScript errors carry a serialized traceback; its last line says what went wrong."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
