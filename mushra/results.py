"""Results of a listening test in the platform: its ratings (read by ``mushra.rating_reads``)
analysed by the pure :mod:`mushra.analysis` and rendered by :mod:`mushra.reports`: the spec a
test's conditions and the scientist's options make, the analysis, and the report files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mushra import test_types
from mushra.analysis import AnalysisError, Result, Spec, analyze
from mushra.analysis.types import TypedResult
from mushra.metric_reads import listening_test_objective
from mushra.models import Condition, ListeningTest, Rating
from mushra.progress_reads import screening_counts, session_export_rows
from mushra.rating_reads import (
    acr_ratings,
    attention_frame,
    condition_label,
    ratings_frame,
    strata_columns,
)
from mushra.reports import FORMATS, ReportMeta, render_file, write_report
from mushra.reports.exports import sessions_csv
from mushra.typed_results import is_typed, typed_analysis, typed_file, write_typed


@dataclass(frozen=True)
class ReportOptions:
    """What a scientist may choose for a platform report (the rest comes from the test)."""

    gaps: tuple[tuple[str, str, str], ...] = ()
    compare: tuple[tuple[str, str], ...] = ()
    by: tuple[str, ...] = ()
    screening: bool = True
    exclude_fast: bool = False  # the fast-rater rule (mushra.analysis.timing), off by default
    n_boot: int = 10_000
    seed: int = 0
    # The confirmatory model backs the report's claims (mushra.analysis.claims), so it is the
    # platform's default; "intercepts" is the quicker random-intercepts model, "none" no model.
    mixed: str = "full"
    formats: tuple[str, ...] = field(default=FORMATS)


def listening_test_spec(test: ListeningTest, options: ReportOptions) -> Spec:
    """The analysis spec: the roles come from the test's conditions, never from guessing; a
    breakdown only by this test's strata columns (the names come from a URL or a command line)."""
    allowed = strata_columns(test)
    for column in options.by:
        if column not in allowed:
            raise AnalysisError(
                f"no column {column!r} to break the results down by "
                f"(this test's: {', '.join(allowed)})",
                option="by",
            )
    return Spec(
        reference=condition_label(test, Condition.Role.REFERENCE),
        hidden_reference=test_types.of(test).hidden_reference,  # MUSHRA without reference: off
        mid_anchor=condition_label(test, Condition.Role.ANCHOR_MID),
        low_anchor=condition_label(test, Condition.Role.ANCHOR_LOW),
        compare=options.compare,
        gaps=options.gaps,
        by=options.by,
        screening=options.screening,
        exclude_fast=options.exclude_fast,
        n_boot=options.n_boot,
        seed=options.seed,
        mixed=options.mixed,
        model_optional=True,  # a test the model cannot fit still gets its report
    )


def listening_test_analysis(
    test: ListeningTest, options: ReportOptions, stage: Callable[[str], None] | None = None
) -> Result | TypedResult:
    """The analysis of the ratings stored now: MUSHRA's, or the test type's
    (``mushra.typed_results``). ``stage`` hears "reading", then the analysis' stages
    (mushra.analysis.analyze.STAGES), as each starts (a worker shows them as progress,
    ``mushra.result_cache``)."""
    stage = stage or (lambda name: None)
    stage("reading")
    if is_typed(test):
        if not Rating.objects.filter(session__test=test, session__preview=False).exists():
            raise AnalysisError(f"test '{test.slug}' has no ratings yet")
        ratings = None if test_types.of(test).pair else ratings_frame(test)
        stage("testing")
        return typed_analysis(test, ratings, options)
    ratings = ratings_frame(test, timing=True)
    if ratings.empty:
        raise AnalysisError(f"test '{test.slug}' has no ratings yet")
    spec, attention = listening_test_spec(test, options), attention_frame(test)
    return analyze(ratings, spec, attention=attention, progress=stage)


# Files that show no objective metrics: read none for them (the test's page draws the first).
WITHOUT_METRICS = frozenset({"conditions.svg", "items.svg", "mushra.csv", "means.tex"})


def report_dict(test: ListeningTest, result: Result, *, metrics: bool = True) -> dict:
    """The analysis as the reports take it, with the objective metrics of the test's stimuli
    beside the listeners' scores when any are measured (``mushra.metric_reads``)."""
    data = result.to_dict()
    objective = listening_test_objective(test, data.get("conditions") or []) if metrics else None
    if objective:
        data["objective"] = objective
    data["listener_checks"] = screening_counts(test)  # the report's design section says so
    return data


def listening_test_sessions_csv(test: ListeningTest) -> bytes:
    """sessions.csv: a row per real session (crowd ids, outcome, screening, timing), for
    approving payments; needs no ratings, so it exists from the first listener on."""
    return sessions_csv(session_export_rows(test)).encode("utf-8")


def report_meta(test: ListeningTest, result: Result) -> ReportMeta:
    source = f"listening test '{test.slug}'"
    return ReportMeta.for_spec(result.spec, title=test.name, source=source, question=test.question)


def listening_test_report_file(
    test: ListeningTest, fmt: str, name: str, options: ReportOptions
) -> bytes:
    """One report file of the test (a download), rendered in memory."""
    if fmt == "sessions_csv":  # no analysis: it lists every session, rated or not
        return listening_test_sessions_csv(test)
    result = listening_test_analysis(test, options)
    if isinstance(result, TypedResult):
        return typed_file(test, result, name, acr_ratings(test))
    meta = report_meta(test, result)
    data = report_dict(test, result, metrics=name not in WITHOUT_METRICS)
    content = render_file(data, result.rated, meta, fmt, name, test_id=test.slug)
    return content.encode("utf-8") if isinstance(content, str) else content


def listening_test_report(
    test: ListeningTest, out_dir: Path, options: ReportOptions
) -> dict[str, Path]:
    """Analyse the test's ratings and write the requested report files into ``out_dir``."""
    result = listening_test_analysis(test, options)
    if isinstance(result, TypedResult):
        written, _ = write_typed(test, result, Path(out_dir), acr_ratings(test))
        written["sessions.csv"] = Path(out_dir) / "sessions.csv"
        written["sessions.csv"].write_bytes(listening_test_sessions_csv(test))
        return written
    written = write_report(
        report_dict(test, result),
        result.rated,
        report_meta(test, result),
        out_dir,
        test_id=test.slug,
        formats=options.formats,
    )
    if "csv" in options.formats:
        written["sessions.csv"] = Path(out_dir) / "sessions.csv"
        written["sessions.csv"].write_bytes(listening_test_sessions_csv(test))
    return written
