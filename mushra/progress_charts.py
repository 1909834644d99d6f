"""The test page's two pictures as inline SVG, built from counts (pure: no Django, no matplotlib).

Small and drawn on every page load and poll, so plain SVG text rather than a matplotlib figure:
the funnel (a bar per step, sessions that ended early apart) and sessions over time (running
totals of sessions started and finished). Each carries a <title> and a <desc> with its numbers
(screen readers read these; the page also prints the numbers beside the picture). Every text
is escaped, though only fixed words, numbers and dates go in.
"""

from __future__ import annotations

from html import escape

WIDTH = 520
LABEL_W = 150
ROW_H = 24
STEP_COLOUR = "#4a7ab0"
END_COLOUR = "#c0504d"
FINISHED_COLOUR = "#2e7d32"
MARKED_UP_TO = 48  # buckets; more are drawn as lines only


def _svg(width: int, height: int, title: str, desc: str, body: list[str], key: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" class="chart" id="{key}-chart">'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(desc)}</desc>'
        f'<g font-family="sans-serif" font-size="12">{"".join(body)}</g></svg>'
    )


def funnel_svg(steps: list[tuple[str, int]], ends: list[tuple[str, int]]) -> str:
    """Bars for (label, count) steps, then the early ends in another colour, all to one scale
    (the first step's count, i.e. every session that entered)."""
    rows = [(label, n, STEP_COLOUR) for label, n in steps]
    rows += [(label, n, END_COLOUR) for label, n in ends]
    top = max([1, *(n for _, n, _ in rows)])
    bar_w = WIDTH - LABEL_W - 60
    body = []
    for i, (label, n, colour) in enumerate(rows):
        y = 6 + i * ROW_H
        w = round(bar_w * n / top, 1)
        body.append(
            f'<text x="{LABEL_W - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{w}" height="{ROW_H - 8}" fill="{colour}"/>'
            f'<text x="{LABEL_W + w + 6}" y="{y + 15}">{n}</text>'
        )
    desc = "; ".join(f"{label}: {n}" for label, n, _ in rows)
    height = 12 + len(rows) * ROW_H
    return _svg(WIDTH, height, "Sessions at each step", desc, body, "funnel")


def timeline_svg(buckets: list[dict], unit: str) -> str:
    """Running totals of sessions started and finished per hour or day (``buckets``: dicts of
    at (ISO time), started, finished, oldest first)."""
    height, left, right, top_pad, bottom = 220, 50, 20, 24, 40
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    top = max([1, *(b["started"] for b in buckets)])
    n = len(buckets)

    def point(i: int, value: int) -> str:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return f"{x:.1f},{top_pad + plot_h * (1 - value / top):.1f}"

    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
        f'y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{top}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h + 4}" text-anchor="end">0</text>',
    ]
    for key, colour, dash in (("started", STEP_COLOUR, ""), ("finished", FINISHED_COLOUR, "5 3")):
        points = " ".join(point(i, b[key]) for i, b in enumerate(buckets))
        if n:
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        if 0 < n <= MARKED_UP_TO:  # a few buckets (a single one has no line): mark each
            for i, b in enumerate(buckets):
                x, y = point(i, b[key]).split(",")
                body.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
    if n:
        first, last = _when(buckets[0]["at"], unit), _when(buckets[-1]["at"], unit)
        body.append(f'<text x="{left}" y="{height - 22}">{escape(first)}</text>')
        body.append(
            f'<text x="{left + plot_w}" y="{height - 22}" text-anchor="end">{escape(last)}</text>'
        )
    body.append(
        f'<text x="{left}" y="14" fill="{STEP_COLOUR}">— started</text>'
        f'<text x="{left + 90}" y="14" fill="{FINISHED_COLOUR}">- - finished</text>'
        f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end">per {unit} (UTC)</text>'
    )
    if n:
        desc = (
            f"From {_when(buckets[0]['at'], unit)} to {_when(buckets[-1]['at'], unit)} by "
            f"{unit}: {buckets[-1]['started']} sessions started, "
            f"{buckets[-1]['finished']} finished."
        )
    else:
        desc = "No sessions yet."
    return _svg(WIDTH, height, "Sessions started and finished over time", desc, body, "timeline")


def _when(iso: str, unit: str) -> str:
    """ "2026-12-07 05:00" by hour, "2026-12-07" by day."""
    text = iso.replace("T", " ")
    return text[:16] if unit == "hour" else text[:10]
