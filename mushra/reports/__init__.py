"""Reports of a MUSHRA analysis: HTML, PDF, SVG plots, tidy/webMUSHRA CSV, JSON and LaTeX.

Pure Python on top of :mod:`mushra.analysis` (no Django import), so the same report comes out
of the web app, a worker and ``python -m mushra.analysis`` without settings. Inputs are the
analysis result as a plain dict (its JSON form), all ratings before screening, and a
:class:`ReportMeta`; excluded listeners are taken from the result, never recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from mushra.analysis.data import AnalysisError
from mushra.reports import exports
from mushra.reports.html import make_plots, render_html, render_html_with_plots
from mushra.reports.meta import ReportMeta
from mushra.reports.objective import ratings_with_metrics
from mushra.reports.pdf import render_pdf

__all__ = ["FORMATS", "ReportMeta", "render_file", "render_html", "render_pdf", "write_report"]

FORMATS = ("html", "pdf", "csv", "mushra_csv", "json", "latex", "svg")


def _files(
    result: dict, ratings: pd.DataFrame, meta: ReportMeta, test_id: str, formats: set[str]
) -> dict[str, Callable[[], str | bytes]]:
    """File name → producer for the requested formats; plots and HTML are made once."""
    cache: dict[str, object] = {}

    def plots() -> dict[str, str]:
        if "plots" not in cache:
            cache["plots"] = make_plots(result, ratings, meta)
        return cache["plots"]

    def html() -> str:
        if "html" not in cache:
            cache["html"] = render_html_with_plots(result, ratings, meta, plots())
        return cache["html"]

    table = {
        "html": {"report.html": html},
        "pdf": {"report.pdf": lambda: render_pdf(html())},
        "csv": {
            "ratings.csv": lambda: exports.tidy_csv(
                ratings_with_metrics(ratings, result.get("objective"))
            )
        },
        "mushra_csv": {"mushra.csv": lambda: exports.webmushra_csv(ratings, test_id)},
        "json": {"analysis.json": lambda: exports.analysis_json(result)},
        "latex": {"means.tex": lambda: exports.latex_means(result, meta)},
        "svg": {
            "conditions.svg": lambda: plots()["conditions"],
            "items.svg": lambda: plots()["items"],
        },
    }
    if (result.get("objective") or {}).get("f0"):  # the F0 figure exists when F0 was measured
        table["svg"]["f0.svg"] = lambda: plots()["f0"]
    return {name: make for fmt in FORMATS if fmt in formats for name, make in table[fmt].items()}


def _check_formats(wanted: set[str]) -> None:
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise AnalysisError(
            f"unknown report format(s): {', '.join(unknown)} (known: {', '.join(FORMATS)})"
        )


def render_file(
    result: dict, ratings: pd.DataFrame, meta: ReportMeta, fmt: str, name: str, *, test_id="test"
) -> str | bytes:
    """One file of format ``fmt`` (e.g. "svg", "items.svg") in memory, for a download."""
    _check_formats({fmt})
    files = _files(result, ratings, meta, test_id, {fmt})
    if name not in files:
        raise AnalysisError(f"format {fmt!r} has no file {name!r}")
    return files[name]()


def write_report(
    result: dict,
    ratings: pd.DataFrame,
    meta: ReportMeta,
    out_dir: str | Path,
    *,
    test_id: str = "test",
    formats: Iterable[str] = FORMATS,
) -> dict[str, Path]:
    """Write the requested formats into ``out_dir`` (created if missing).

    Returns file name → path, e.g. ``{"report.html": out_dir / "report.html", ...}``; "svg"
    writes conditions.svg and items.svg, and f0.svg when the result holds F0 measurements. An
    unknown format is an AnalysisError, raised before anything is written.
    """
    wanted = set(formats)
    _check_formats(wanted)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, make in _files(result, ratings, meta, test_id, wanted).items():
        content = make()
        path = out / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written[name] = path
    return written
