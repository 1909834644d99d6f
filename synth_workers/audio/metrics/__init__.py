"""Objective metrics of prepared stimuli (DESIGN.md §12): pure functions, no Django.

Each metric takes float32 mono samples and their rate (16 kHz or more: converted to 16 kHz
inside), returns a plain dict, is deterministic, loads its model once per process from files
shipped in a package (nothing is downloaded) and states its version and model hash, so a stored
value can be traced to the code and model that made it. The models' packages are the optional
extra ``evalsite[metrics]``; they are imported only when a metric runs.

``METRICS`` maps each name to its ``Metric`` (function, version(), model_hash(), needs_text);
``measure(name, samples, rate, text=..., language=...)`` runs one. Comparisons across stimuli
(F0 distributions, speaker similarity, distinctness) are separate pure functions on stored values.
"""

from __future__ import annotations

import numpy as np

from ..core import AudioError
from . import dnsmos, f0, rate, speaker, wer
from .base import MODEL_RATE, Metric
from .dnsmos import dnsmos_quality_proxy
from .f0 import f0_distance, f0_stats, semitones
from .rate import speaking_rate, text_units
from .speaker import (
    cosine_similarity,
    distinctness,
    mean_embedding,
    speaker_embedding,
    speaker_similarity,
)
from .wer import normalise_text, wer_relative, word_errors

METRICS: dict[str, Metric] = {
    m.name: m for m in (f0.METRIC, speaker.METRIC, dnsmos.METRIC, rate.METRIC, wer.METRIC)
}


def measure(
    name: str, samples: np.ndarray, sample_rate: int, *, text: str = "", language: str = ""
) -> dict:
    """Run the metric called ``name``; AudioError for an unknown name or input it cannot take."""
    metric = METRICS.get(name)
    if metric is None:
        raise AudioError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return metric.function(samples, sample_rate, text=text, language=language)


__all__ = [
    "METRICS",
    "MODEL_RATE",
    "Metric",
    "cosine_similarity",
    "distinctness",
    "dnsmos_quality_proxy",
    "f0_distance",
    "f0_stats",
    "mean_embedding",
    "measure",
    "normalise_text",
    "semitones",
    "speaker_embedding",
    "speaker_similarity",
    "speaking_rate",
    "text_units",
    "wer_relative",
    "word_errors",
]
