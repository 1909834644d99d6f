"""F0 statistics with swift-f0 (an ONNX pitch tracker, 135 KB, shipped in its wheel), and the
distance between two F0 distributions.

Log-F0 is reported in semitones re 55 Hz (A1): 12·log2(f / 55). Semitones make spreads and
distances comparable across speakers (a 1 st spread means the same at 100 Hz as at 200 Hz), and
55 Hz lies below nearly every voice so values are positive. A frame is voiced when swift-f0's
confidence is at least 0.5, the threshold its model is calibrated for; frames are 16 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from ..core import AudioError
from .base import MODEL_RATE, Metric, at_model_rate, package_folder, rounded

REFERENCE_HZ = 55.0
VOICED_CONFIDENCE = 0.5
# Jensen-Shannon needs a fixed histogram so that any two distributions share bins: half a
# semitone wide over swift-f0's whole range (46.875 to 2093.75 Hz is -2.8 to 63.0 st re 55 Hz).
HISTOGRAM_EDGES_ST = np.arange(-3.0, 63.5, 0.5)
_lock = threading.Lock()


def semitones(hz: np.ndarray | float) -> np.ndarray:
    """Hz to semitones re REFERENCE_HZ."""
    return 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / REFERENCE_HZ)


def f0_stats(samples: np.ndarray, sample_rate: int, **_context: object) -> dict:
    """F0 of one file: voiced fraction, median and spread of log-F0 (semitones re 55 Hz), and the
    voiced frames' values for distributions.

    Returns ``voiced_fraction`` (of all 16 ms frames, pauses included), ``median_st``,
    ``iqr_st`` (75th - 25th percentile), ``sd_st``, ``median_hz``, ``frames``, ``voiced_frames``
    and ``values_st`` (voiced frames in time order, 0.001 st). With no voiced frame (silence,
    noise) the statistics are None and ``values_st`` is empty.
    """
    audio = at_model_rate(samples, sample_rate, metric="F0")
    with _lock:  # one shared session; swift-f0's detect is thread-safe but this keeps CPU use flat
        result = _detector().detect(audio, MODEL_RATE)
    voiced = result.confidence >= VOICED_CONFIDENCE
    values = semitones(result.pitch_hz[voiced])
    stats: dict = {
        "frames": int(voiced.size),
        "voiced_frames": int(values.size),
        "voiced_fraction": float(voiced.mean()) if voiced.size else 0.0,
        "median_st": None,
        "iqr_st": None,
        "sd_st": None,
        "median_hz": None,
        "values_st": rounded(values, 3),
    }
    if values.size:
        q25, median, q75 = np.percentile(values, [25, 50, 75])
        stats.update(
            median_st=float(median),
            iqr_st=float(q75 - q25),
            sd_st=float(values.std()),
            median_hz=float(REFERENCE_HZ * 2 ** (median / 12)),
        )
    return stats


def f0_distance(values_a: Sequence[float], values_b: Sequence[float]) -> dict:
    """How far apart two F0 distributions are (voiced frame values in semitones, e.g. the pooled
    ``values_st`` of a system's stimuli and of the target speaker's recordings).

    ``wasserstein_st``: Wasserstein-1 (earth mover's) distance in semitones: how far, on average,
    frames must move in pitch to turn one distribution into the other; 0 for identical ones.
    ``jensen_shannon``: Jensen-Shannon divergence (base 2, 0..1) of the two histograms on
    HISTOGRAM_EDGES_ST, insensitive to how far apart non-overlapping mass lies.
    """
    a, b = _values(values_a, "first"), _values(values_b, "second")
    edges = HISTOGRAM_EDGES_ST
    clip = (edges[0], edges[-1] - 1e-9)  # values beyond the range count in the edge bins
    p = np.histogram(np.clip(a, *clip), bins=edges)[0].astype(np.float64)
    q = np.histogram(np.clip(b, *clip), bins=edges)[0].astype(np.float64)
    return {
        "wasserstein_st": float(wasserstein_distance(a, b)),
        "jensen_shannon": float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2),
    }


def _values(values: Sequence[float], which: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise AudioError(f"F0 distance: the {which} distribution has no voiced frames")
    if not np.all(np.isfinite(array)):
        raise AudioError(f"F0 distance: the {which} distribution holds NaN or infinite values")
    return array


@cache
def _detector():
    """One ONNX session per process. One intra-op thread: results do not depend on the core
    count, and metric tasks run side by side on the worker anyway; spin=False frees the CPU
    between calls."""
    from swift_f0 import SwiftF0

    return SwiftF0(threads=1, spin=False)


def _model_files():
    return [package_folder("swift_f0") / "model.onnx"]


METRIC = Metric(
    name="f0",
    function=f0_stats,
    revision=1,
    distribution="swift-f0",
    model_files=_model_files,
    description="F0 (swift-f0): voiced fraction, median and spread of log-F0 in semitones re 55 Hz",
)
