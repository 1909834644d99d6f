"""The sequential view: how precise the headline difference is after each batch of listeners.

The headline is a difference in MUSHRA points between two conditions under test, ``new`` minus
``base``: the first gap's NEW and BASE when one is declared (``--gap``; its closure G has a
bootstrap interval, too costly to redraw per batch, while the difference in points is what the
plan's "difference to detect" means), else the best system (highest mean) against the
lowest-scoring one (:func:`headline`). After each ``batch`` listeners, in the order they first
appear in the ratings (session order on the platform), the confirmatory model
(:mod:`mushra.analysis.lmm_interactions`, fitted on every condition under test, baseline
``base``) gives the difference's estimate and 95 % interval; a row says whether its half-width
has reached the planned precision.

The planned precision defaults to :func:`planned_half_width`: the half-width at which a true
difference of the plan's size would be found with the planned power (δ·z₁₋α/₂/(z₁₋α/₂ + z_power)
under a normal approximation). Watching an interval narrow is a stopping rule on precision, not
on significance, so it does not inflate the type-I error the way peeking at p-values does.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from mushra.analysis.data import AnalysisError
from mushra.analysis.lmm_interactions import mixed_model_full

MAX_ROWS = 20  # default batch: enough listeners per batch to give at most this many rows


def headline(df: pd.DataFrame, systems: list[str], gap: tuple | None = None) -> tuple[str, str]:
    """(new, base) of the headline difference: the gap's, else the best system vs the worst."""
    if gap:
        new, base = gap[0], gap[1]
        if new not in systems or base not in systems:
            raise AnalysisError(
                f"the headline {new} − {base} needs two conditions under test "
                f"(these: {', '.join(systems)})",
                option="gap",
            )
        return new, base
    means = df[df["condition"].isin(systems)].groupby("condition")["score"].mean()
    if len(means) < 2:
        raise AnalysisError("the sequential view needs ratings of two conditions under test")
    ordered = means.sort_values(kind="stable")
    return str(ordered.index[-1]), str(ordered.index[0])


def planned_half_width(difference: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """The 95 % (1 − alpha) half-width at which ``difference`` is found with ``power``."""
    z_a, z_p = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return float(difference * z_a / (z_a + z_p))


def batch_size(listeners: int) -> int:
    return max(1, math.ceil(listeners / MAX_ROWS))


def sequential(
    df: pd.DataFrame,
    systems: list[str],
    new: str,
    base: str,
    *,
    target: float,
    batch: int | None = None,
) -> list[dict]:
    """One row per batch of listeners: listeners so far, estimate, ci95, half_width, reached.

    A batch on which the model cannot be fitted yet (too few listeners) gives no row."""
    if not (math.isfinite(target) and target > 0):
        raise AnalysisError(
            f"the target half-width must be above 0 points (got {target})", option="precision"
        )
    sub = df[df["condition"].isin(systems)]
    order = pd.unique(sub["listener"])
    batch = batch or batch_size(len(order))
    if batch < 1:
        raise AnalysisError(f"the batch must be at least 1 listener (got {batch})")
    rows = []
    stops = list(range(batch, len(order), batch)) + [len(order)]
    for n in stops:
        row = _fit_first(sub, order[:n], systems, new, base)
        if row is not None:
            half = (row["ci95"][1] - row["ci95"][0]) / 2.0
            rows.append(
                {
                    "listeners": int(n),
                    "estimate": float(row["estimate"]),
                    "ci95": [float(v) for v in row["ci95"]],
                    "half_width": float(half),
                    "reached": bool(half <= target),
                }
            )
    if not rows:
        raise AnalysisError(f"the full mixed model could not be fitted to {new} − {base} yet")
    return rows


def _fit_first(sub, listeners, systems: list[str], new: str, base: str) -> dict | None:
    """The ``new`` row of the full model on the given listeners' ratings, None if not fittable."""
    first = sub[sub["listener"].isin(set(listeners))]
    if first["listener"].nunique() < 2:
        return None
    present = [c for c in systems if c in set(first["condition"])]
    if new not in present or base not in present:
        return None
    try:
        effects = mixed_model_full(first, present, base)["effects"]
    except AnalysisError:
        return None
    return next((e for e in effects if e["condition"] == new), None)


def sequential_view(
    df: pd.DataFrame,
    systems: list[str],
    *,
    difference: float | None = None,
    target: float | None = None,
    gap: tuple | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    batch: int | None = None,
) -> dict:
    """The headline, the target half-width (given, or planned from ``difference``) and rows."""
    if target is None:
        if difference is None:
            raise AnalysisError("the sequential view needs a target half-width or a difference")
        target = planned_half_width(difference, alpha, power)
    new, base = headline(df, systems, gap)
    rows = sequential(df, systems, new, base, target=target, batch=batch)
    reached = next((r["listeners"] for r in rows if r["reached"]), None)
    return {"new": new, "base": base, "target_half_width": target, "rows": rows,
            "reached_at": reached}  # fmt: skip


def sequential_text(view: dict) -> str:
    """The view as a plain table."""
    lines = [
        f"Sequential: {view['new']} − {view['base']} (points), target 95% CI half-width "
        f"{view['target_half_width']:.2f}"
    ]
    for r in view["rows"]:
        low, high = r["ci95"]
        mark = "reached" if r["reached"] else ""
        lines.append(
            f"{r['listeners']:>6} listeners  {r['estimate']:7.2f}  [{low:7.2f}, {high:7.2f}]  "
            f"±{r['half_width']:.2f}  {mark}".rstrip()
        )
    return "\n".join(lines) + "\n"
