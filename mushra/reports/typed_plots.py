"""SVG figures of the test types beside MUSHRA (mushra.analysis.types), one per type.

Each is the figure a paper shows for that design: MOS (or similarity MOS) per condition with its
listener-clustered 95 % CI on the 1–5 scale; CMOS per pair with its CI around zero; A/B
preference shares as one stacked bar per pair, with the Bradley–Terry strengths below when they
exist; ABX proportion correct per pair with an exact interval and the chance line. They follow
:mod:`mushra.reports.plots`: a ``Figure`` without pyplot, text kept as text, a fixed hash salt
and no date, so the same result gives the same bytes. The input is the type's JSON layout
(``TypedResult.to_dict()``), where a missing number is None.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from mushra.analysis.data import AnalysisError
from mushra.reports.common import is_missing, num
from mushra.reports.plots import RC, SYSTEM_COLOURS, WIDTH_IN, _xlabels, label, svg_text

ACR_WORDS = ("Bad", "Poor", "Fair", "Good", "Excellent")  # ITU-T P.800 ACR categories
Y_LABELS = {"acr": "MOS", "smos": "Similarity MOS"}
A_COLOUR, NONE_COLOUR, B_COLOUR = "#4a7ab0", "#c8c8c8", "#d9863d"
INK = "#222222"


def clopper_pearson(correct: int, n: int) -> list[float] | None:
    """The exact (Clopper–Pearson) 95 % interval of a proportion; None without trials."""
    if not n:
        return None
    ci = stats.binomtest(int(correct), int(n)).proportion_ci(0.95, method="exact")
    return [float(ci.low), float(ci.high)]


def proportion_ci(row: dict) -> list[float] | None:
    """The row's own ``ci95`` when the analysis gave one, else Clopper–Pearson from its counts."""
    ci = row.get("ci95")
    if ci and not any(is_missing(b) for b in ci):
        return [float(b) for b in ci]
    return clopper_pearson(row.get("correct") or 0, row.get("n") or 0)


def pct(share: object, digits: int = 0) -> str:
    """A share 0..1 as "45 %"; an em dash when missing."""
    return "—" if is_missing(share) else f"{100 * float(share):.{digits}f} %"


def signed(value: float) -> str:
    """ "+0.45" or "−0.45" (a real minus sign), as a difference reads."""
    text = num(value, 2)
    return f"+{text}" if value > 0 and text != "0.00" else text


def pair_label(first: str, second: str) -> str:
    return label(f"{first} vs {second}")


def _errorbar(ax: Axes, x: float, y: float, ci, horizontal: bool, colour: str) -> None:
    """A point with its 95 % interval (drawn only when both bounds exist)."""
    err = None
    if ci and not any(is_missing(b) for b in ci):
        err = [[max(y - ci[0], 0.0)], [max(ci[1] - y, 0.0)]]
    kw = {"xerr": err, "yerr": None} if horizontal else {"xerr": None, "yerr": err}
    px, py = (y, x) if horizontal else (x, y)
    ax.errorbar(px, py, **kw, fmt="o", color=colour, ecolor=colour, capsize=3, ms=5, lw=1.2,
                zorder=4)  # fmt: skip


def _rows_axis(ax: Axes, labels: list[str]) -> None:
    """One row per entry, the first at the top."""
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.spines["right"].set_visible(False)


def acr_plot(data: dict) -> str:
    """MOS per condition (data order) with its 95 % CI on the 1–5 scale; the value beside it."""
    rows = data.get("conditions") or []
    names = [str(r["condition"]) for r in rows]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
        ax = fig.add_subplot()
        for i, row in enumerate(rows):
            mean = row.get("mean")
            if is_missing(mean):
                continue
            _errorbar(ax, i, mean, row.get("ci95"), False, SYSTEM_COLOURS[i % 10])
            ax.annotate(f"{mean:.2f}", (i, mean), xytext=(7, 0), textcoords="offset points",
                        va="center", fontsize=8)  # fmt: skip
        ax.set_ylim(0.9, 5.1)
        ax.set_yticks(range(1, 6))
        ax.set_ylabel(Y_LABELS[data["test_type"]])
        ax.grid(axis="y", color="#e4e4e4", lw=0.6)
        ax.set_axisbelow(True)
        if data["test_type"] == "acr":
            right = ax.twinx()
            right.set_ylim(ax.get_ylim())
            right.set_yticks(range(1, 6), ACR_WORDS, fontsize=8, color="#555555")
            right.tick_params(length=0)
            right.spines["top"].set_visible(False)
        _xlabels(ax, names)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_title(f"{data.get('measure', 'MOS')} per condition (95 % CI clustered by listener)")
        return svg_text(fig, f"typed-{data['test_type']}")


def cmos_plot(data: dict) -> str:
    """CMOS per pair ("b vs a": positive means b better) with its 95 % CI around zero."""
    pairs = data.get("pairs") or []
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 1.3 + 0.38 * len(pairs)), layout="constrained")
        ax = fig.add_subplot()
        ax.axvline(0, color="#777777", lw=0.8, zorder=1)
        for i, p in enumerate(pairs):
            mean = p.get("mean")
            if is_missing(mean):
                continue
            _errorbar(ax, i, mean, p.get("ci95"), True, INK)
            ax.annotate(signed(mean), (3.0, i), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=8,
                        annotation_clip=False)  # fmt: skip
        _rows_axis(ax, [pair_label(p["b"], p["a"]) for p in pairs])
        ax.set_xlim(-3.2, 3.2)
        ax.set_xticks(range(-3, 4))
        ax.grid(axis="x", color="#ececec", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel("CMOS: ← first-named worse · first-named better →")
        ax.set_title("CMOS per pair (95 % CI clustered by listener)")
        return svg_text(fig, "typed-cmos")


def _shares(ax: Axes, pairs: list[dict]) -> None:
    """One stacked bar per pair: prefer a (left), no preference, prefer b (right)."""
    for i, p in enumerate(pairs):
        left = 0.0
        for key, colour, name in (("share_a", A_COLOUR, "first"), ("share_none", NONE_COLOUR,
                                  "none"), ("share_b", B_COLOUR, "second")):  # fmt: skip
            share = 0.0 if is_missing(p.get(key)) else float(p[key])
            ax.barh(i, share, left=left, height=0.62, color=colour, edgecolor="white", lw=0.8,
                    label=name if i == 0 else None)  # fmt: skip
            if share >= 0.06:
                ax.text(left + share / 2, i, pct(share), ha="center", va="center", fontsize=8,
                        color="white" if name != "none" else INK)  # fmt: skip
            left += share
    _rows_axis(ax, [label(p["a"]) for p in pairs])
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(range(len(pairs)), [label(p["b"]) for p in pairs])
    right.tick_params(length=0)
    for spine in ("top", "right", "left"):
        right.spines[spine].set_visible(False)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.axvline(0.5, color="#555555", lw=0.6, ls=":", zorder=3)
    handles = ax.get_legend_handles_labels()[0]
    words = ["left-hand preferred", "no preference", "right-hand preferred"]
    ax.legend(handles, words, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3,
              frameon=False, fontsize=8)  # fmt: skip
    ax.set_title("Preference per pair (share of judgements)")


def _strengths(ax: Axes, rows: list[dict]) -> None:
    """Bradley–Terry log-strengths by rank with their 95 % CIs; 0 is the geometric mean."""
    ax.axvline(0, color="#777777", lw=0.8, zorder=1)
    for i, r in enumerate(rows):
        if not is_missing(r.get("log_strength")):
            _errorbar(ax, i, r["log_strength"], r.get("ci95"), True, INK)
            ax.annotate(signed(r["log_strength"]), (r["log_strength"], i), xytext=(0, 6),
                        textcoords="offset points", ha="center", fontsize=7.5)  # fmt: skip
    _rows_axis(ax, [label(f"{r['rank']}. {r['condition']}") for r in rows])
    ax.grid(axis="x", color="#ececec", lw=0.6)
    ax.set_xlabel("Bradley–Terry log-strength (95 % CI; 0 = geometric mean of the strengths)")
    ax.set_title("Bradley–Terry strengths, ranked by the lower bound of the CI")


def ab_plot(data: dict) -> str:
    """Stacked preference shares per pair, and the Bradley–Terry strengths when estimated."""
    pairs = data.get("pairs") or []
    bt = (data.get("bradley_terry") or {}).get("conditions") or []
    heights = [0.9 + 0.34 * len(pairs)] + ([0.7 + 0.32 * len(bt)] if bt else [])
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 0.6 + sum(heights)), layout="constrained")
        grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
        _shares(fig.add_subplot(grid[0]), pairs)
        if bt:
            _strengths(fig.add_subplot(grid[1]), bt)
        return svg_text(fig, "typed-ab")


def abx_plot(data: dict) -> str:
    """Proportion correct per pair and over all trials, exact 95 % CI, chance at 0.5."""
    rows = [*(data.get("pairs") or []), {**(data.get("overall") or {}), "overall": True}]
    labels = [pair_label(r["a"], r["b"]) if "a" in r else "All trials" for r in rows]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 1.3 + 0.38 * len(rows)), layout="constrained")
        ax = fig.add_subplot()
        ax.axvline(0.5, color="#555555", lw=0.9, ls="--", zorder=1)
        for i, r in enumerate(rows):
            share = r.get("proportion")
            if is_missing(share):
                continue
            _errorbar(ax, i, share, proportion_ci(r), True, INK if r.get("overall") else
                      A_COLOUR)  # fmt: skip
            ax.annotate(f"{r.get('correct')}/{r.get('n')} ({pct(share)})", (1.0, i),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=8,
                        annotation_clip=False)  # fmt: skip
        _rows_axis(ax, labels)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
        ax.grid(axis="x", color="#ececec", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel("Proportion correct (95 % Clopper–Pearson interval; dashed: chance, 0.5)")
        ax.set_title("ABX: proportion correct per pair")
        return svg_text(fig, "typed-abx")


PLOTS = {"acr": acr_plot, "smos": acr_plot, "cmos": cmos_plot, "ab": ab_plot, "abx": abx_plot}


def plot_for(data: dict) -> Callable[[dict], str]:
    """The plot function of the result's test type; MUSHRA has its own reports."""
    test_type = data.get("test_type")
    if test_type not in PLOTS:
        raise AnalysisError(
            f"no typed report for test type {test_type!r} (known: {', '.join(PLOTS)}; MUSHRA "
            "results have the MUSHRA report)"
        )
    return PLOTS[test_type]


def typed_plot_svg(data: dict) -> str:
    """The figure of an ACR, SMOS, CMOS, A/B or ABX result as SVG text (module docstring)."""
    return plot_for(data)(data)
