"""What a test's results can be asked for: its files and the options of the results form.

The scientist's page and the API read the same query parameters into ``ReportOptions`` here, so
a link copied from the page asks the API for the same analysis.
"""

from django.http import QueryDict

from mushra.analysis import AnalysisError
from mushra.analysis.analyze import MIXED_MODELS
from mushra.analysis.options import parse_names
from mushra.models import ListeningTest
from mushra.results import ReportOptions
from mushra.typed_results import TYPED_FILES, is_typed

# File name → (format of mushra.reports.write_report, content type, shown inline?, button)
RESULT_FILES = {
    "report.html": ("html", "text/html; charset=utf-8", True, "Report (HTML)"),
    "report.pdf": ("pdf", "application/pdf", True, "Report (PDF)"),
    "report.txt": ("txt", "text/plain; charset=utf-8", True, "Report (text)"),  # other types
    "ratings.csv": ("csv", "text/csv; charset=utf-8", False, "Ratings (tidy CSV)"),
    "mushra.csv": ("mushra_csv", "text/csv; charset=utf-8", False, "Ratings (webMUSHRA CSV)"),
    "analysis.json": ("json", "application/json", False, "Analysis (JSON)"),
    "means.tex": ("latex", "application/x-tex; charset=utf-8", False, "Means (LaTeX table)"),
    "conditions.svg": ("svg", "image/svg+xml", True, "Plot per condition (SVG)"),
    "items.svg": ("svg", "image/svg+xml", True, "Plot per item (SVG)"),
    "f0.svg": ("svg", "image/svg+xml", True, "F0 distributions (SVG)"),  # once F0 is measured
    # One row per session with the crowd ids, outcome, screening and timing: for payments.
    "sessions.csv": ("sessions_csv", "text/csv; charset=utf-8", False, "Sessions (CSV)"),
}


def result_names(test: ListeningTest) -> list[str]:
    """The results files of the test's type: MUSHRA's, or those of the other types
    (``mushra.typed_results.TYPED_FILES``), and sessions.csv for every test."""
    if is_typed(test):
        return [*TYPED_FILES, "sessions.csv"]
    return [name for name in RESULT_FILES if name != "report.txt"]


# The analysis' options this form sets (AnalysisError.option) → (the page's field, the query's
# parameters): an error names them as the reader of each knows them.
FORM_FIELDS = {
    "gap": ("Gap closure", "new, base and top"),
    "compare": ("Compare", "compare"),
    "by": ("Break down by", "by"),
    "mixed_model": ("Mixed model", "mixed"),
    "screening": ("Keep every listener", "screening"),
    "exclude_fast": ("Also exclude fast raters", "fast"),
}


def worded_for_page(exc: AnalysisError) -> str:
    """The error as the results form's reader knows it: the field at fault, then what is wrong."""
    field = FORM_FIELDS.get(exc.option)
    return f"{field[0]}: {exc}" if field else str(exc)


def worded_for_api(exc: AnalysisError) -> str:
    """The same for an API client: the query parameters at fault."""
    field = FORM_FIELDS.get(exc.option)
    return f"query parameter {field[1]}: {exc}" if field else str(exc)


def _mixed_model(value: str) -> str:
    if value not in MIXED_MODELS:
        raise AnalysisError(
            f"unknown mixed model {value!r}: use {', '.join(MIXED_MODELS)}", option="mixed_model"
        )
    return value


def report_options_from(query: QueryDict) -> ReportOptions:
    """The options of the results form (the page's and the API's query): optional gap (three
    selects; the top is any condition, the recordings or e.g. copy-synthesis) and strata; all
    else is the default."""
    gap = [query.get(k, "") for k in ("new", "base", "top")]
    gaps = (tuple(gap),) if all(gap) else ()
    if any(gap) and not all(gap):
        raise AnalysisError(
            "the gap closure needs all three conditions: new system, baseline and top", option="gap"
        )
    return ReportOptions(
        gaps=gaps,
        compare=tuple(parse_names(v, 2, "compare") for v in query.getlist("compare")),
        # Checked against the test's own strata columns by mushra.results.listening_test_spec.
        by=tuple(dict.fromkeys(query.getlist("by"))),
        screening=query.get("screening", "on") != "off",
        exclude_fast=query.get("fast") == "exclude",
        mixed=_mixed_model(query.get("mixed", "full")),
    )
