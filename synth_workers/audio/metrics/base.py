"""What every metric shares: input checks, the 16 kHz conversion, and provenance (version, hash).

A stored metric value is only comparable with another computed by the same code on the same model
files, so each metric states a version (our revision of the code around the model, plus the
version of the package that ships the model) and the sha256 of the model file(s) it loads.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..core import Audio, AudioError
from ..resample import resample

# onnxruntime writes a telemetry device id under ~/.cache/Microsoft unless this is set before it
# is first imported; metrics must write nothing outside their packages (DESIGN.md §12).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

MODEL_RATE = 16000  # every model here (swift-f0, resemblyzer, DNSMOS, pocketsphinx) runs at 16 kHz
# Upsampling would hand the models an empty band above 4 kHz that they never saw in training
# (DNSMOS reads it as a defect), so audio below the models' rate is refused, not converted.
MIN_RATE = MODEL_RATE


@dataclass(frozen=True)
class Metric:
    """One registered objective measure of a stimulus.

    ``function(samples, sample_rate, **context)`` returns a plain dict; ``needs_text`` says the
    context must hold ``text`` (and ``language``), ``languages`` the language prefixes it accepts
    (None: any).
    """

    name: str
    function: Callable[..., dict]
    revision: int  # bumped when our code around the model changes what it outputs
    distribution: str | None  # the package that ships the model (None: no model)
    model_files: Callable[[], list[Path]]
    needs_text: bool = False
    languages: tuple[str, ...] | None = None
    description: str = ""

    def version(self) -> str:
        if self.distribution is None:
            return str(self.revision)
        return f"{self.revision}/{self.distribution}=={package_version(self.distribution)}"

    def model_hash(self) -> str:
        """sha256 over the model files' names and contents; "" for a metric without a model."""
        return files_hash(tuple(self.model_files()))

    def accepts_language(self, language: str) -> bool:
        if self.languages is None:
            return True
        code = language.strip().lower().replace("_", "-")
        return any(code == lang or code.startswith(lang + "-") for lang in self.languages)


def mono_samples(samples: np.ndarray, sample_rate: int, *, metric: str) -> np.ndarray:
    """The samples as a finite float32 1-D array, or AudioError naming what is wrong."""
    array = np.asarray(samples)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise AudioError(f"{metric}: the audio must be mono (one channel), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise AudioError(f"{metric}: the audio must be float samples in -1..1, got {array.dtype}")
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AudioError(
            f"{metric}: sample rate must be a positive whole number, got {sample_rate}"
        )
    if sample_rate < MIN_RATE:
        raise AudioError(
            f"{metric}: sample rate {int(sample_rate)} Hz is below the {MIN_RATE} Hz the metric "
            "models need (upsampling would leave the band above the original Nyquist empty)"
        )
    if array.size == 0:
        raise AudioError(f"{metric}: the audio holds no samples")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise AudioError(f"{metric}: the audio contains {bad} NaN or infinite sample values")
    return array.astype(np.float32, copy=False)


def at_model_rate(samples: np.ndarray, sample_rate: int, *, metric: str) -> np.ndarray:
    """Checked mono float32 samples at 16 kHz, converted with the project's own resampler."""
    mono = mono_samples(samples, sample_rate, metric=metric)
    converted = resample(Audio(mono, int(sample_rate)), MODEL_RATE).samples[:, 0]
    return np.ascontiguousarray(converted, dtype=np.float32)


def package_folder(distribution_module: str) -> Path:
    """Where an installed package lives, found without importing it (torch takes seconds)."""
    spec = importlib.util.find_spec(distribution_module)
    if spec is None or not spec.submodule_search_locations:
        raise AudioError(
            f"the package {distribution_module!r} is not installed (pip install evalsite[metrics])"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def package_version(distribution: str) -> str:
    return importlib.metadata.version(distribution)


@cache
def files_hash(paths: tuple[Path, ...]) -> str:
    if not paths:
        return ""
    digest = hashlib.sha256()
    root = Path(*_common_parts(paths))
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _common_parts(paths: Sequence[Path]) -> tuple[str, ...]:
    """The folder shared by all paths, so the hash does not depend on where the venv lives."""
    parts = [p.parent.parts for p in paths]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return tuple(common)


def rounded(values: np.ndarray, decimals: int) -> list[float]:
    """A JSON-ready list; rounding keeps stored frame values small and far below model accuracy."""
    return [float(v) for v in np.round(np.asarray(values, dtype=np.float64), decimals)]
