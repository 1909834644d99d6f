"""The report's objective-metrics section: what ``result["objective"]`` holds (made by
:func:`mushra.analysis.objective.objective_summary`), laid out as tables, the F0-distribution
figure and the per-rating columns of the tidy CSV. Absent from reports of exported files, which
carry no audio.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mushra.reports import common as c
from mushra.reports.meta import ReportMeta
from mushra.reports.plots import RC, WIDTH_IN, colours, label, legend_columns, svg_text

METRIC_PREFIX = "metric_"
CAVEATS = (
    "DNSMOS P.835 (speechmos) estimates how a noise-suppression listener panel would rate the "
    "audio: a quality proxy, not naturalness. WER comes from pocketsphinx's small English model: "
    "compare it between systems, not with published figures. Speaker similarity: cosine of "
    "resemblyzer embeddings to the mean embedding of the target speaker's recordings (the hidden "
    "reference). F0: swift-f0 voiced frames, semitones re 55 Hz."
)
DIGITS = {"voiced_fraction": 2, "wer": 2, "speaker_similarity": 3, "dnsmos_ovrl": 2}


def metric_columns(objective: dict) -> list[str]:
    return list((objective.get("columns") or {}).keys())


def ratings_with_metrics(ratings: pd.DataFrame, objective: dict | None) -> pd.DataFrame:
    """Every rating with its stimulus' metrics as ``metric_<name>`` columns (blank where not
    measured), joined on (condition, item): the tidy CSV's extra columns."""
    if not objective:
        return ratings
    columns = metric_columns(objective)
    stimuli = pd.DataFrame(objective.get("stimuli") or [], columns=["condition", "item", *columns])
    stimuli = stimuli.drop_duplicates(["condition", "item"])
    stimuli = stimuli.rename(columns={col: METRIC_PREFIX + col for col in columns})
    keys = ratings[["condition", "item"]].astype(str)
    joined = keys.merge(stimuli, on=["condition", "item"], how="left")
    out = ratings.copy()
    for col in joined.columns[2:]:
        out[col] = joined[col].to_numpy()
    return out


def objective_view(objective: dict | None, order: list[str]) -> dict | None:
    """Formatted tables for the HTML template; None when the test has no metrics."""
    if not objective:
        return None
    headings = objective.get("columns") or {}
    present = [col for col in headings if any(r.get(col) is not None for r in objective["table"])]
    table = [
        {
            "condition": r["condition"],
            "n": r.get("n_stimuli"),
            "cells": [c.num(r.get(col), DIGITS.get(col, 1)) for col in present],
        }
        for r in c.by_condition(objective.get("table") or [], order)
    ]
    f0 = objective.get("f0") or {}
    f0_rows = [
        {
            "condition": r["condition"],
            "frames": f"{r['frames']:,}",
            "median": c.num(r.get("median_st"), 1),
            "wasserstein": c.num(r.get("wasserstein_st"), 2),
            "js": c.num(r.get("jensen_shannon"), 3),
        }
        for r in c.by_condition(f0.get("rows") or [], order)
    ]
    return {
        "headings": [headings[col] for col in present],
        "table": table,
        "target": objective.get("target"),
        "f0_rows": f0_rows,
        "distinctness": _distinctness_view(objective.get("distinctness") or {}),
        "correlations": [
            {
                "words": r["words"],
                "n": r["n_conditions"],
                "rho": c.num(r.get("rho"), 2),
                "p": c.pvalue(r.get("p")),
            }
            for r in objective.get("correlations") or []
            if r["n_conditions"]
        ],
        "caveats": CAVEATS,
    }


def _distinctness_view(data: dict) -> dict | None:
    if not data:
        return None
    spread = data.get("spread")
    if not data.get("rows"):
        return {"rows": [], "spread": "", "missing": True}
    spread_text = (
        f"Between the {data['training_voices']} training voices ({spread['pairs']} pairs): "
        f"similarity {c.num(spread['min'], 3)} to {c.num(spread['max'], 3)}, "
        f"mean {c.num(spread['mean'], 3)}."
        if spread
        else "Only one training voice: no spread between training voices."
    )
    rows = [
        {
            "condition": r["condition"],
            "nearest": r["nearest_voice"],
            "similarity": c.num(r["max_similarity"], 3),
            "within": spread is not None and r["max_similarity"] <= spread["max"],
        }
        for r in data["rows"]
    ]
    return {"rows": rows, "spread": spread_text, "missing": False}


def f0_plot(objective: dict | None, meta: ReportMeta, order: list[str]) -> str | None:
    """Density of voiced-frame F0 (semitones re 55 Hz) per condition over the target's (filled
    grey); SVG text, or None without F0 measurements."""
    f0 = (objective or {}).get("f0") or {}
    rows = c.by_condition(f0.get("rows") or [], order)
    if not rows:
        return None
    edges = np.asarray(f0["edges"], dtype=float)
    centres = (edges[:-1] + edges[1:]) / 2
    names = [r["condition"] for r in rows]
    cmap = colours(names, meta)
    used = np.flatnonzero(np.sum([r["density"] for r in rows], axis=0) > 0)
    low, high = (centres[used[0]] - 2, centres[used[-1]] + 2) if used.size else (0, 60)
    ncol = legend_columns(names)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.2 + 0.2 * -(-len(names) // ncol)), layout="constrained")
        ax = fig.add_subplot()
        for row in rows:
            density = np.asarray(row["density"], dtype=float)
            target = row["condition"] == f0.get("target")
            if target:
                ax.fill_between(centres, density, color="#cccccc", step="mid", lw=0)
            ax.step(
                centres, density, where="mid", color=cmap.get(row["condition"], "#444444"),
                lw=1.6 if target else 1.0, label=label(_legend(row, target)),
            )  # fmt: skip
        ax.set_xlim(low, high)
        ax.set_xlabel("F0 (semitones re 55 Hz)")
        ax.set_ylabel("Density (per semitone)")
        ax.set_title("F0 distributions against the target speaker's recordings")
        fig.legend(loc="outside lower center", ncol=ncol, frameon=False, fontsize=8)
        return svg_text(fig, "mushra-f0")


def _legend(row: dict, target: bool) -> str:
    if target:
        return f"{row['condition']} (target)"
    return f"{row['condition']} (W₁ {c.num(row.get('wasserstein_st'), 2)} st)"
