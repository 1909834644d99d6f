"""Helpers shared by the plots, tables and exports: condition order, kept ratings, numbers.

One place decides the order of conditions (reference, systems by mean, anchors) and how a number
is printed, so the plots, the HTML tables and the LaTeX table can never disagree. Results may
come from JSON, where NaN is null, so every formatter accepts None as "not available".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from mushra.reports.meta import ReportMeta

MISSING = "—"
MINUS = "−"


def is_missing(value: Any) -> bool:
    """True for None and NaN (a float that JSON would have written as null)."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def num(value: Any, digits: int = 1) -> str:
    """A fixed-point number with a real minus sign, or an em dash when missing."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):.{digits}f}"
    if text.startswith("-") and float(text) == 0:  # "-0.0" reads as a negative result
        text = text[1:]
    return text.replace("-", MINUS)


def pvalue(value: Any) -> str:
    """p with three significant digits, "< 0.001" below that, em dash when missing."""
    if is_missing(value):
        return MISSING
    p = float(value)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3g}" if p < 1 else "1"


def interval(bounds: Any, digits: int = 1, unit: str = "") -> str:
    """ "lo–hi" (en dash), or "lo to hi" when a bound is negative so the minus stays legible."""
    if not bounds or len(bounds) != 2 or any(is_missing(b) for b in bounds):
        return MISSING
    lo, hi = (num(b, digits) for b in bounds)
    sep = " to " if MINUS in lo + hi else "–"
    return f"{lo}{sep}{hi}{unit}"


def stars(p_holm: Any) -> str:
    """Significance mark of a Holm-corrected p: *, ** or *** (0.05, 0.01, 0.001), else n.s."""
    if is_missing(p_holm):
        return ""
    p = float(p_holm)
    for limit, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*")):
        if p < limit:
            return mark
    return "n.s."


def natural_key(text: str) -> list:
    """Sort key that puts "item 2" before "item 10"."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(text))]


def condition_order(result: dict, meta: ReportMeta) -> list[str]:
    """Reference first, then systems by descending mean, anchors (mid, then low) last."""
    rows = result.get("conditions") or []
    names = [str(r["condition"]) for r in rows]
    means = {str(r["condition"]): r.get("mean") for r in rows}
    special = {meta.reference, *meta.anchors}
    systems = [n for n in names if n not in special]
    systems.sort(key=lambda n: (is_missing(means[n]), -(means[n] or 0.0), natural_key(n)))
    head = [meta.reference] if meta.reference in names else []
    tail = [a for a in meta.anchors if a in names]
    return head + systems + tail


def role(condition: str, meta: ReportMeta) -> str:
    """The condition's part in the MUSHRA design (BS.1534-3 §5)."""
    if condition == meta.reference:
        return "hidden reference"
    if condition == meta.mid_anchor:
        return "mid anchor (7 kHz)"
    if condition == meta.low_anchor:
        return "low anchor (3.5 kHz)"
    return "system"


def excluded_listeners(result: dict) -> set[str]:
    """Listeners the screening excluded, as strings (the ratings' keys are strings)."""
    screening = result.get("screening") or {}
    return {str(e["listener"]) for e in screening.get("excluded") or []}


def kept_ratings(result: dict, ratings: pd.DataFrame) -> pd.DataFrame:
    """Ratings of the listeners the analysis kept: what the plots must show."""
    out = ratings[~ratings["listener"].astype(str).isin(excluded_listeners(result))]
    return out.reset_index(drop=True)


def by_condition(rows: Iterable[dict], order: list[str]) -> list[dict]:
    """Result rows keyed by "condition", in report order (unknown names keep their order)."""
    rows = list(rows or [])
    rank = {name: i for i, name in enumerate(order)}
    return sorted(rows, key=lambda r: rank.get(str(r["condition"]), len(rank)))


def friedman_k(omnibus: dict | None) -> int | None:
    """Number of conditions in the Friedman test, from Kendall's W = χ²/(n(k − 1))."""
    if not omnibus:
        return None
    q, w, n = omnibus.get("statistic"), omnibus.get("kendall_w"), omnibus.get("n_blocks")
    if any(is_missing(v) for v in (q, w, n)) or not float(w) > 0 or not int(n) > 0:
        return None
    return round(float(q) / (int(n) * float(w))) + 1


def screening_applied(result: dict, meta: ReportMeta) -> bool:
    """False with --no-screening and when the analysis skipped it (its only rules then start
    with "screening", e.g. "screening skipped: no hidden reference condition")."""
    rules = (result.get("screening") or {}).get("rules") or []
    return meta.screening and any(not str(r).startswith("screening") for r in rules)
