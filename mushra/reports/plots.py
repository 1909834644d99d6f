"""SVG plots of a MUSHRA result: score distribution per condition and item means.

BS.1534-3 §9.1 asks to look at the raw data before any test, so the condition plot shows the
distribution of the kept ratings (box), the mean and its 95 % CI side by side, on the 0–100
scale with the five quality bands. The item plot shows one line per condition across items, so
an item that breaks a system (or an anchor that is not degraded enough) is visible at a glance.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot, no global backend state) and
saved as SVG with text kept as text, a fixed hash salt and no date, so the same input gives the
same file. Widths are fixed at the A4 text width so fonts print at their nominal size.
"""

from __future__ import annotations

import io
import re

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mushra.reports.common import condition_order, is_missing, kept_ratings, natural_key
from mushra.reports.meta import ReportMeta

WIDTH_IN = 7.0  # A4 minus 15 mm margins is 7.1 in
BANDS = ("Bad", "Poor", "Fair", "Good", "Excellent")
SYSTEM_COLOURS = matplotlib.colormaps["tab10"].colors + matplotlib.colormaps["Dark2"].colors
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")
RC = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
}


def colours(order: list[str], meta: ReportMeta) -> dict[str, str]:
    """Reference black, anchors grey, systems from a qualitative palette in report order."""
    out: dict[str, object] = {}
    systems = [c for c in order if c != meta.reference and c not in meta.anchors]
    for i, name in enumerate(systems):
        out[name] = SYSTEM_COLOURS[i % len(SYSTEM_COLOURS)]
    if meta.reference:
        out[meta.reference] = "#222222"
    for name, grey in zip(meta.anchors, ("#7a7a7a", "#a8a8a8"), strict=False):
        out[name] = grey
    return {k: matplotlib.colors.to_hex(v) for k, v in out.items()}


def label(text: str) -> str:
    """Escape matplotlib's mathtext marker so a "$" in a name prints as itself."""
    return str(text).replace("$", r"\$")


def svg_text(fig: Figure, name: str) -> str:
    """Deterministic SVG text of ``fig`` without the RDF metadata block (it holds URLs).

    Element ids get ``name`` as a prefix: matplotlib numbers them the same way in every figure
    ("figure_1", "axes_1"), and both plots are inlined into one HTML document.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", buf.getvalue(), flags=re.S)
    svg = re.sub(r'\bid="', f'id="{name}-', svg)
    svg = svg.replace('href="#', f'href="#{name}-')
    return svg.replace("url(#", f"url(#{name}-")


def _score_axis(ax: Axes, bands: bool = True) -> None:
    """0–100 axis with the five BS.1534-3 bands shaded and named on the right."""
    ax.set_ylim(-2, 102)  # room for boxes and markers sitting on 0 or 100
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("Score")
    if not bands:
        return
    for i in range(5):
        if i % 2 == 0:
            ax.axhspan(20 * i, 20 * i + 20, color="#f3f3f3", zorder=0, lw=0)
    right = ax.twinx()
    right.set_ylim(-2, 102)
    right.set_yticks([10, 30, 50, 70, 90], BANDS, fontsize=8, color="#555555")
    right.tick_params(length=0)
    right.spines["top"].set_visible(False)


def _xlabels(ax: Axes, names: list[str]) -> None:
    """Category labels, rotated when long or many so they never overlap."""
    longest = max((len(n) for n in names), default=0)
    rotate = 0 if longest * len(names) <= 70 else (30 if len(names) <= 16 else 90)
    ax.set_xticks(range(len(names)), [label(n) for n in names])
    if rotate:
        ha = "right" if rotate == 30 else "center"
        for tick in ax.get_xticklabels():
            tick.set_rotation(rotate)
            tick.set_horizontalalignment(ha)
            tick.set_rotation_mode("anchor" if rotate == 30 else "default")
    if len(names) > 24:
        ax.tick_params(axis="x", labelsize=7)


def _boxes(ax: Axes, data: list[np.ndarray], order: list[str], cmap: dict[str, str]) -> None:
    if not order:
        return
    x = np.arange(len(order)) - 0.12
    parts = ax.boxplot(
        data,
        positions=x,
        widths=0.42,
        patch_artist=True,
        showfliers=True,
        flierprops={"marker": ".", "markersize": 3, "markerfacecolor": "#666666", "alpha": 0.6},
        medianprops={"color": "black", "linewidth": 1.2},
        whiskerprops={"color": "#444444"},
        capprops={"color": "#444444"},
    )
    for patch, name in zip(parts["boxes"], order, strict=True):
        patch.set_facecolor(matplotlib.colors.to_rgba(cmap[name], 0.35))
        patch.set_edgecolor(cmap[name])
    for line in parts["fliers"]:  # one dot per distinct score: 10^5 ratings stay a small SVG
        xs, ys = line.get_data()
        ys = np.unique(np.asarray(ys, dtype=float))
        line.set_data(np.full(len(ys), xs[0] if len(xs) else 0.0), ys)


def _means(ax: Axes, rows: dict[str, dict], order: list[str]) -> None:
    for i, name in enumerate(order):
        row = rows.get(name) or {}
        mean, ci = row.get("mean"), row.get("ci95") or [None, None]
        if is_missing(mean):
            continue
        if not any(is_missing(b) for b in ci):
            yerr = [[max(mean - ci[0], 0)], [max(ci[1] - mean, 0)]]
            ax.errorbar(i + 0.25, mean, yerr=yerr, color="black", capsize=3, lw=1.1, zorder=4)
        ax.plot(i + 0.25, mean, "D", ms=5, mfc="white", mec="black", zorder=5)


def condition_plot(result: dict, ratings: pd.DataFrame, meta: ReportMeta) -> str:
    """Box of kept ratings per condition, mean (diamond) with 95 % CI; SVG text."""
    order = condition_order(result, meta)
    kept = kept_ratings(result, ratings)
    data = [kept.loc[kept["condition"] == c, "score"].to_numpy(float) for c in order]
    rows = {str(r["condition"]): r for r in result.get("conditions") or []}
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.7), layout="constrained")
        ax = fig.add_subplot()
        _score_axis(ax)
        _boxes(ax, data, order, colours(order, meta))
        _means(ax, rows, order)
        _xlabels(ax, order)
        ax.set_xlim(-0.6, len(order) - 0.4)
        title = "Scores by condition" + (f" ({meta.question})" if meta.question else "")
        ax.set_title(label(title))
        return svg_text(fig, "mushra-conditions")


def legend_columns(names: list[str], fontsize: float = 8) -> int:
    """As many legend columns as fit the figure width for the longest name (≈0.6 em a char)."""
    entry_pt = (max((len(n) for n in names), default=1) * 0.6 + 4.5) * fontsize
    return max(1, min(len(names), 6, int(WIDTH_IN * 72 // entry_pt)))


def item_means(result: dict, ratings: pd.DataFrame, meta: ReportMeta) -> pd.DataFrame:
    """Mean kept score per item (rows, natural order) and condition (columns, report order)."""
    kept = kept_ratings(result, ratings)
    table = kept.pivot_table(index="item", columns="condition", values="score", aggfunc="mean")
    order = [c for c in condition_order(result, meta) if c in table.columns]
    items = sorted(table.index, key=natural_key)
    return table.reindex(index=items, columns=order)


def item_plot(result: dict, ratings: pd.DataFrame, meta: ReportMeta) -> str:
    """Mean score per item, one marker/line series per condition; SVG text."""
    table = item_means(result, ratings, meta)
    cmap = colours(list(table.columns), meta)
    ncol = legend_columns([str(n) for n in table.columns])
    rows = -(-len(table.columns) // ncol)  # legend rows below the axes
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.4 + 0.2 * rows), layout="constrained")
        ax = fig.add_subplot()
        _score_axis(ax, bands=False)
        ax.grid(axis="y", color="#e4e4e4", lw=0.6)
        x = np.arange(len(table.index))
        for j, name in enumerate(table.columns):
            special = name in meta.anchors
            ax.plot(
                x, table[name].to_numpy(float), color=cmap[name], marker=MARKERS[j % len(MARKERS)],
                ms=4 if len(x) <= 24 else 3, lw=0.9, alpha=0.85, ls="--" if special else "-",
                label=label(name),
            )  # fmt: skip
        _xlabels(ax, [str(i) for i in table.index])
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_xlabel("Item")
        ax.set_title("Mean score per item")
        if len(table.columns):
            fig.legend(loc="outside lower center", ncol=ncol, frameon=False, fontsize=8)
        return svg_text(fig, "mushra-items")
