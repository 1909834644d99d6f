"""Objective metrics beside the listeners' scores (DESIGN.md §12): pure, no Django.

Input: the measured stimuli of a test, one dict each::

    {"condition": "proposed", "item": "h01", "speaker": "sampled:3",
     "metrics": {"f0": {...}, "speaker_embedding": {"embedding": [...]}, ...}}

(the stored value of each metric, by name; a metric not measured is absent; a value that could
not be measured is ``{"error": ...}`` and counts as missing), the analysis' per-condition rows
(their listener means), the label of the condition that plays the target speaker's recordings
(the hidden reference), and the embeddings of the training voices by name (for distinctness).

Output: one JSON-ready dict with
* ``table``: per condition, the mean of each scalar metric and of the similarity to the target;
* ``f0``: each condition's pooled F0 distribution (semitones re 55 Hz) as a histogram beside the
  target's, with the Wasserstein distance and the Jensen-Shannon divergence to it — the low-data
  papers' "the F0 distribution resembles the target speaker's" as a number;
* ``distinctness``: for sampled voices (speaker ``sampled:<seed>``), the similarity to the
  nearest training voice against the similarities between the training voices themselves;
* ``correlations``: Spearman's ρ between the per-condition listener means and each metric;
* ``stimuli``: each stimulus' scalar metrics, for the tidy exports.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from synth_workers.audio.metrics import (
    cosine_similarity,
    distinctness,
    f0_distance,
    mean_embedding,
)
from synth_workers.audio.metrics.f0 import HISTOGRAM_EDGES_ST
from synth_workers.backends.base import SAMPLED_SPEAKER_PREFIX

SIMILARITY = "speaker_similarity"
# (metric, field of its stored value, column name, words): the scalars averaged per condition.
SCALARS = (
    ("f0", "voiced_fraction", "voiced_fraction", "Voiced fraction"),
    ("f0", "median_st", "f0_median_st", "F0 median (st re 55 Hz)"),
    ("f0", "sd_st", "f0_sd_st", "F0 spread, SD (st)"),
    ("dnsmos_quality_proxy", "ovrl", "dnsmos_ovrl", "DNSMOS OVRL (quality proxy)"),
    ("dnsmos_quality_proxy", "sig", "dnsmos_sig", "DNSMOS SIG (quality proxy)"),
    ("speaking_rate", "duration_s", "duration_s", "Duration (s)"),
    ("speaking_rate", "rate_per_s", "speaking_rate", "Speaking rate (units/s)"),
    ("wer_relative", "wer", "wer", "WER (relative)"),
)
COLUMNS = {column: words for _, _, column, words in SCALARS} | {
    SIMILARITY: "Speaker similarity to the target (cosine)"
}
MIN_CONDITIONS_FOR_RHO = 3


def scalar_values(metrics: Mapping[str, dict]) -> dict[str, float | None]:
    """The scalar columns of one stimulus from its stored metric values (None where missing)."""
    out: dict[str, float | None] = {}
    for name, field, column, _ in SCALARS:
        value = (metrics.get(name) or {}).get(field)
        out[column] = _number(value)
    return out


def objective_summary(
    stimuli: Sequence[Mapping],
    conditions: Sequence[Mapping],
    *,
    target: str | None,
    training_voices: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> dict:
    """Everything the report shows of the objective metrics; see the module docstring."""
    order = [str(r["condition"]) for r in conditions]
    by_condition: dict[str, list[Mapping]] = {label: [] for label in order}
    for stim in stimuli:
        by_condition.setdefault(str(stim["condition"]), []).append(stim)
    voice = target_embedding(by_condition.get(target or "", []))
    # Each stimulus' scalars and similarity once: the exports' rows, averaged into the table.
    rows = [_stimulus_row(s, voice) for s in stimuli]
    per_condition: dict[str, list[dict]] = {}
    for row in rows:
        per_condition.setdefault(row["condition"], []).append(row)
    table = [
        _table_row(label, per_condition[label]) for label, stims in by_condition.items() if stims
    ]
    return {
        "target": target,
        "columns": COLUMNS,
        "table": table,
        "f0": f0_comparison(by_condition, target),
        "distinctness": sampled_distinctness(by_condition, training_voices or {}),
        "correlations": correlations(table, conditions),
        "stimuli": rows,
    }


def _stimulus_row(stim: Mapping, target: np.ndarray | None) -> dict:
    """One measured stimulus' scalars, keyed by condition and item: the columns the tidy
    exports join to every rating of that stimulus."""
    return {
        "condition": str(stim["condition"]),
        "item": str(stim["item"]),
        **scalar_values(stim["metrics"]),
        SIMILARITY: stimulus_similarity(stim["metrics"], target),
    }


def _table_row(label: str, rows: Sequence[Mapping]) -> dict:
    """A condition's means over its stimulus rows, and how many stimuli each mean covers."""
    row: dict = {"condition": label, "n_stimuli": len(rows)}
    for column in COLUMNS:
        present = [r[column] for r in rows if r[column] is not None]
        row[column] = float(np.mean(present)) if present else None
        row[f"{column}_n"] = len(present)
    return row


def stimulus_similarity(metrics: Mapping[str, dict], target: np.ndarray | None) -> float | None:
    embedding = _embedding_of(metrics)
    if target is None or embedding is None:
        return None
    return cosine_similarity(embedding, target)


def target_embedding(rows: Sequence[Mapping]) -> np.ndarray | None:
    """The target speaker's voice: the normalised mean embedding of their recordings."""
    embeddings = [e for e in (_embedding_of(r["metrics"]) for r in rows) if e is not None]
    return mean_embedding(embeddings) if embeddings else None


def _embedding_of(metrics: Mapping[str, dict]) -> list[float] | None:
    embedding = (metrics.get("speaker_embedding") or {}).get("embedding")
    return embedding if isinstance(embedding, list) and embedding else None


def f0_comparison(by_condition: Mapping[str, Sequence[Mapping]], target: str | None) -> dict:
    """Pooled voiced-frame F0 of each condition against the target's: histogram densities on
    the library's fixed edges and the distances. Empty when the target has no F0 measured."""
    pooled = {label: _f0_values(rows) for label, rows in by_condition.items()}
    reference = pooled.get(target or "")
    if reference is None or reference.size == 0:
        return {}
    edges = HISTOGRAM_EDGES_ST
    rows = []
    for label, values in pooled.items():
        if values.size == 0:
            continue
        distance = f0_distance(values, reference)
        rows.append(
            {
                "condition": label,
                "frames": int(values.size),
                "median_st": float(np.median(values)),
                "wasserstein_st": None if label == target else distance["wasserstein_st"],
                "jensen_shannon": None if label == target else distance["jensen_shannon"],
                "density": _density(values, edges),
            }
        )
    return {"target": target, "edges": [float(e) for e in edges], "rows": rows}


def _f0_values(rows: Sequence[Mapping]) -> np.ndarray:
    parts = [(r["metrics"].get("f0") or {}).get("values_st") or [] for r in rows]
    values = np.asarray(list(itertools.chain.from_iterable(parts)), dtype=np.float64)
    return values[np.isfinite(values)]


def _density(values: np.ndarray, edges: np.ndarray) -> list[float]:
    clipped = np.clip(values, edges[0], edges[-1] - 1e-9)
    counts = np.histogram(clipped, bins=edges)[0].astype(np.float64)
    return [round(float(v), 6) for v in counts / counts.sum() / np.diff(edges)]


def sampled_distinctness(
    by_condition: Mapping[str, Sequence[Mapping]],
    training_voices: Mapping[str, Sequence[Sequence[float]]],
) -> dict:
    """For each condition whose stimuli are a sampled voice: how similar that voice is to the
    nearest training voice, beside how similar the training voices are to each other (a sampled
    voice nearer than two training voices are to each other is not a new voice)."""
    sampled = {
        label: [e for e in (_embedding_of(r["metrics"]) for r in rows) if e is not None]
        for label, rows in by_condition.items()
        if rows
        and all(str(r.get("speaker") or "").startswith(SAMPLED_SPEAKER_PREFIX) for r in rows)
    }
    sampled = {label: rows for label, rows in sampled.items() if rows}
    voices = {name: list(rows) for name, rows in training_voices.items() if rows}
    if not sampled:
        return {}
    if not voices:
        return {"rows": [], "training_voices": 0, "spread": None}
    rows = []
    for label, embeddings in sampled.items():
        result = distinctness(mean_embedding(embeddings), voices)
        rows.append(
            {
                "condition": label,
                "nearest_voice": result["nearest_voice"],
                "max_similarity": result["max_similarity"],
            }
        )
    return {"rows": rows, "training_voices": len(voices), "spread": training_spread(voices)}


def training_spread(voices: Mapping[str, Sequence[Sequence[float]]]) -> dict | None:
    """Cosine similarities between every pair of training voices: min, mean, max (None with
    fewer than two voices)."""
    means = [mean_embedding(rows) for rows in voices.values()]
    pairs = [cosine_similarity(a, b) for a, b in itertools.combinations(means, 2)]
    if not pairs:
        return None
    return {
        "pairs": len(pairs),
        "min": min(pairs),
        "mean": float(np.mean(pairs)),
        "max": max(pairs),
    }


def correlations(table: Sequence[Mapping], conditions: Sequence[Mapping]) -> list[dict]:
    """Spearman's ρ between the per-condition listener means and each metric's per-condition
    mean, over the conditions that have both (at least MIN_CONDITIONS_FOR_RHO)."""
    listener = {str(r["condition"]): _number(r.get("mean")) for r in conditions}
    out = []
    for column, words in COLUMNS.items():
        pairs = [
            (listener[row["condition"]], row[column])
            for row in table
            if listener.get(row["condition"]) is not None and row.get(column) is not None
        ]
        entry = {"metric": column, "words": words, "n_conditions": len(pairs)}
        xs, ys = zip(*pairs, strict=True) if pairs else ((), ())
        if len(pairs) < MIN_CONDITIONS_FOR_RHO or len(set(xs)) < 2 or len(set(ys)) < 2:
            entry.update(rho=None, p=None)
        else:
            rho, p = stats.spearmanr(xs, ys)
            entry.update(rho=_number(rho), p=_number(p))
        out.append(entry)
    return out


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


__all__ = [
    "COLUMNS",
    "SCALARS",
    "correlations",
    "f0_comparison",
    "objective_summary",
    "sampled_distinctness",
    "scalar_values",
    "stimulus_similarity",
    "target_embedding",
    "training_spread",
]
