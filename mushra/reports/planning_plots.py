"""SVG plots of a plan (:mod:`mushra.analysis.power`) and of the sequential view
(:mod:`mushra.analysis.sequential`), in the style of :mod:`mushra.reports.plots`.

The power curve shows the simulated share with its binomial interval per listener count (one
series per item count), the analytic approximation dashed and the target as a line, so a reader
sees at once where the curve crosses and how sure that is. The sequential plot shows the
headline difference with its interval after each batch and the planned precision as a band
around the latest estimate: the interval falls inside the band when the precision is reached.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from mushra.reports.plots import RC, SYSTEM_COLOURS, WIDTH_IN, label, svg_text


def power_curve_plot(plan: dict) -> str:
    """Simulated power (points, 95 % binomial bars) and analytic (dashed) per listener count."""
    cells = plan["cells"]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
        ax = fig.add_subplot()
        for j, items in enumerate(sorted({c["items"] for c in cells})):
            rows = [c for c in cells if c["items"] == items]
            x = np.array([c["listeners"] for c in rows], dtype=float)
            y = np.array([c["power"] for c in rows])
            err = np.array([[c["power"] - c["ci95"][0], c["ci95"][1] - c["power"]] for c in rows])
            colour = SYSTEM_COLOURS[j % len(SYSTEM_COLOURS)]
            ax.errorbar(x, y, yerr=err.T, fmt="o-", color=colour, capsize=3, ms=4, lw=1.1,
                        label=f"{items} items (simulated)")  # fmt: skip
            analytic = [c["analytic"] for c in rows]
            ax.plot(x, analytic, "--", color=colour, lw=0.9, alpha=0.7, label="analytic")
        ax.axhline(plan["target"], color="#444444", lw=0.8, ls=":")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("Listeners")
        ax.set_ylabel("Power")
        ax.grid(axis="y", color="#e4e4e4", lw=0.6)
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        ax.set_title(
            label(f"Power to detect {plan['difference']:g} points (alpha {plan['alpha']:g})")
        )
        return svg_text(fig, "mushra-power")


def sequential_plot(view: dict) -> str:
    """Estimate and 95 % interval after each batch; the target half-width as a band."""
    rows = view["rows"]
    x = np.array([r["listeners"] for r in rows], dtype=float)
    est = np.array([r["estimate"] for r in rows])
    low = np.array([r["ci95"][0] for r in rows])
    high = np.array([r["ci95"][1] for r in rows])
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 3.0), layout="constrained")
        ax = fig.add_subplot()
        ax.fill_between(x, low, high, color=SYSTEM_COLOURS[0], alpha=0.2, lw=0)
        ax.plot(x, est, "o-", color=SYSTEM_COLOURS[0], ms=3, lw=1.1)
        half = view["target_half_width"]
        ax.axhspan(est[-1] - half, est[-1] + half, fill=False, ls=":", ec="#444444", lw=0.8)
        ax.axhline(0, color="#999999", lw=0.6)
        ax.set_xlabel("Listeners so far")
        ax.set_ylabel("Difference (points)")
        ax.set_title(
            label(f"{view['new']} − {view['base']}: 95 % CI after each batch (target ±{half:.1f})")
        )
        return svg_text(fig, "mushra-sequential")
