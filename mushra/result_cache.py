"""Results of a test computed once per (options, ratings) and kept; by a worker for a large test.

Why: analysing 10^5-10^6 ratings (screening, bootstrap, tests, mixed model, then the report's
plots, PDF and CSVs) takes seconds to minutes; inside a web request it holds a web worker and
dies at its timeout, and every download of every file used to repeat it. The choices (issue 15):

* **Kept across restarts, shared with every machine**: a ``ResultCache`` row per (test, options)
  holds the state, and every file of the report lies in the default storage (like all media)
  under ``results/<test>/<row>-<run>/``; a download reads one file.
* **Fresh while the fingerprint is unchanged** (``mushra.result_reads``: one query, no rating
  read). When ratings arrive, the last result stays on the page and behind the downloads,
  marked stale on the page, and the page view or download that notices queues one update; while
  a crowd rates, the result shown lags at most one analysis behind and no request waits for it.
* **A small test is analysed inside the request** that needs it (at most
  ``settings.RESULTS_INLINE_MAX_RATINGS`` ratings; as fast as a trip through the queue) and
  kept the same way.
* **One computation per row at a time**: a request queues one only by a conditional UPDATE from
  the state it read (compare-and-set on ``attempt``), and the (test, options) constraint makes
  racing requests share one row, so two requests while computing queue one task.
* **Never a half result**: a run writes into a folder of its own and the row points to it only
  in its last UPDATE, which succeeds only while the run's attempt is still the row's and the row
  is running. A run killed mid-way leaves the previous result in place (its task is delivered
  again, or queued again when a worker starts); a duplicate or superseded run stores nothing.
* **A failed analysis is a message**: an AnalysisError (e.g. screening excluded everyone) is
  stored on the row and shown; a new rating retries it.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

from evalsite import dispatch
from mushra.analysis import AnalysisError, Result
from mushra.analysis.types import TypedResult
from mushra.models import KeptComputation, ListeningTest, ResultCache
from mushra.rating_reads import acr_ratings
from mushra.reports import FORMATS, write_report
from mushra.reports.pdf import render_pdf
from mushra.result_options import worded_for_page
from mushra.result_reads import (
    Fingerprint,
    analysed_inline,
    in_flight,
    needs_run,
    options_from_json,
    options_json,
    options_key,
    ratings_fingerprint,
    result_state,
)
from mushra.results import (
    ReportOptions,
    listening_test_analysis,
    listening_test_report_file,
    report_dict,
    report_meta,
)
from mushra.typed_results import typed_summary, write_typed

log = logging.getLogger(__name__)
Status = ResultCache.Status
# Stage → (percent done when it starts, what the page says).
STAGES = {
    "queued": (0, "Waiting for a worker"),
    "reading": (5, "Reading the ratings"),
    # mushra.analysis.analyze.STAGES, as the analysis reports them:
    "screening": (15, "Screening listeners"),
    "describing": (20, "Means, intervals and the bootstrap"),
    "testing": (35, "Paired tests"),
    "modelling": (45, "The mixed model"),
    "strata": (65, "The same per stratum"),
    "report": (75, "Writing the report: plots, PDF and tables"),
}


def result_request(
    *, test: ListeningTest, options: ReportOptions, fingerprint: Fingerprint, inline: bool = False
) -> tuple[ResultCache, str | None]:
    """Make sure a result of ``options`` for the ratings of ``fingerprint`` is ready or coming.

    Returns the row and the attempt this call started (None when none was needed or another
    request won the race). A started attempt is queued on the ``cpu`` queue once the caller's
    transaction commits, unless ``inline`` (the caller then runs ``result_compute`` itself)."""
    row, _ = ResultCache.objects.get_or_create(
        test=test, options_key=options_key(options), defaults={"options": options_json(options)}
    )
    attempt = claim(row, fingerprint, *STAGES["queued"]) if needs_run(row, fingerprint) else None
    if attempt is None:
        return row, None
    if not inline:
        dispatch.send_on_commit(dispatch.COMPUTE_RESULTS, row.pk, attempt)
    return row, attempt


def claim(row: KeptComputation, fingerprint: Fingerprint, percent: int, words: str) -> str | None:
    """Queue a new computation on a kept result or plan by a
    conditional UPDATE from the state ``row`` was read in (compare-and-set on ``attempt``):
    of two racing requests one wins and gets the new attempt, the other None. ``row`` is
    refreshed either way."""
    attempt = uuid.uuid4().hex
    won = (
        type(row)
        .objects.filter(pk=row.pk, attempt=row.attempt, status=row.status)
        .update(
            status=Status.QUEUED,
            attempt=attempt,
            wanted=fingerprint.key,
            stage=words,
            percent=percent,
            error="",
            queued_at=timezone.now(),
        )
    )
    row.refresh_from_db()
    return attempt if won else None


def result_compute(
    *, cache_id: int, attempt: str, stage: Callable[[str], None] | None = None
) -> str:
    """Run one queued computation (the worker's task, or a request for a small test).

    ``stage`` hears each stage as it starts, after it is stored (a test may stop the run there,
    as a killed worker would)."""
    row = ResultCache.objects.select_related("test").filter(pk=cache_id).first()
    if row is None or row.attempt != attempt or not _claim(row, attempt):
        return "not queued"  # superseded by a newer attempt, or already finished
    report = _stage_reporter(row.pk, attempt, stage)
    try:
        fingerprint, folder, summary = _run(row, report)
    except AnalysisError as exc:  # kept for the results page: worded by its form's fields
        _fail(row.pk, attempt, worded_for_page(exc))
        return "failed"
    except SoftTimeLimitExceeded:
        _fail(row.pk, attempt, "the analysis took longer than the workers' time limit")
        return "failed"
    except OperationalError:
        raise  # transient (the task retries the same attempt): the row stays running
    except Exception as exc:  # a bug or a storage failure: say so on the page, then fail
        log.exception("results %s failed", cache_id)
        _fail(row.pk, attempt, f"internal error while analysing: {exc}")
        raise
    return _store(row, attempt, fingerprint, folder, summary)


def _claim(row: ResultCache, attempt: str) -> bool:
    """Mark the attempt running; a delivery of it again after a killed worker may take it over."""
    return bool(
        ResultCache.objects.filter(
            pk=row.pk, attempt=attempt, status__in=[Status.QUEUED, Status.RUNNING]
        ).update(status=Status.RUNNING)
    )


def _stage_reporter(cache_id: int, attempt: str, then: Callable[[str], None] | None):
    def report(name: str) -> None:
        percent, words = STAGES[name]
        ResultCache.objects.filter(pk=cache_id, attempt=attempt).update(
            stage=words, percent=percent
        )
        if then is not None:
            then(name)

    return report


def _run(row: ResultCache, stage: Callable[[str], None]) -> tuple[Fingerprint, str, dict]:
    test = row.test
    # Read before the ratings: the stored fingerprint never claims ratings that were not read.
    fingerprint = ratings_fingerprint(test)
    result = listening_test_analysis(test, options_from_json(row.options), stage=stage)
    stage("report")
    folder = f"results/{test.pk}/{row.pk}-{uuid.uuid4().hex}"
    try:
        files, missing = _write_files(test, result, folder)
    except BaseException:
        _remove_folder(folder)
        raise
    return fingerprint, folder, _summary(result, files, missing)


def _write_files(test: ListeningTest, result: Result, folder: str) -> tuple[dict, dict]:
    """Every report file into ``folder`` of the default storage: name → stored name, and the
    files that could not be made → why (a machine without Pango makes no PDF; the rest stands)."""
    if isinstance(result, TypedResult):
        return _write_typed(test, result, folder)
    data, meta = report_dict(test, result), report_meta(test, result)
    missing = {}
    with tempfile.TemporaryDirectory() as tmp:
        formats = [f for f in FORMATS if f != "pdf"]
        written = write_report(data, result.rated, meta, tmp, test_id=test.slug, formats=formats)
        try:  # the PDF of the HTML just written, as write_report would make it
            pdf = render_pdf(written["report.html"].read_text(encoding="utf-8"))
        except AnalysisError as exc:
            missing["report.pdf"] = str(exc)
        else:
            written["report.pdf"] = Path(tmp) / "report.pdf"
            written["report.pdf"].write_bytes(pdf)
        files = {}
        for name, path in written.items():
            with path.open("rb") as f:
                files[name] = default_storage.save(f"{folder}/{name}", File(f, name=name))
    return files, missing


def _write_typed(test: ListeningTest, result: TypedResult, folder: str) -> tuple[dict, dict]:
    """A typed test's files (``mushra.typed_results``) into ``folder``, as ``_write_files``."""
    with tempfile.TemporaryDirectory() as tmp:
        written, missing = write_typed(test, result, Path(tmp), acr_ratings(test))
        files = {}
        for name, path in written.items():
            with path.open("rb") as f:
                files[name] = default_storage.save(f"{folder}/{name}", File(f, name=name))
    return files, missing


def _summary(result: Result | TypedResult, files: dict, missing: dict) -> dict:
    if isinstance(result, TypedResult):
        return {**typed_summary(result), "files": files, "missing": missing}
    data = result.data
    return {
        "n_rated": int(len(result.rated)),
        "n_ratings": int(data["n_ratings"]),
        "n_listeners": int(data["n_listeners"]),
        "n_excluded": len({e["listener"] for e in data["screening"]["excluded"]}),
        "files": files,
        "missing": missing,
    }


def _store(
    row: ResultCache, attempt: str, fingerprint: Fingerprint, folder: str, summary: dict
) -> str:
    """Point the row at the new folder in one conditional UPDATE, then remove older folders."""
    stored = ResultCache.objects.filter(pk=row.pk, attempt=attempt, status=Status.RUNNING).update(
        status=Status.READY,
        fingerprint=fingerprint.key,
        folder=folder,
        summary=summary,
        computed_at=timezone.now(),
        stage="",
        percent=100,
        error="",
    )
    if not stored:  # a duplicate of this attempt finished first, or a newer one took over
        _remove_folder(folder)
        return "superseded"
    _sweep(row, keep=folder)
    return "ready"


def _fail(cache_id: int, attempt: str, message: str) -> None:
    ResultCache.objects.filter(pk=cache_id, attempt=attempt).update(
        status=Status.FAILED, error=message, stage="", percent=0
    )


def _sweep(row: ResultCache, keep: str) -> None:
    """Remove the row's other folders: the previous result's and any a killed run left."""
    parent = f"results/{row.test_id}"
    dirs, _ = default_storage.listdir(parent)
    for name in dirs:
        if name.startswith(f"{row.pk}-") and f"{parent}/{name}" != keep:
            _remove_folder(f"{parent}/{name}")


def _remove_folder(folder: str) -> None:
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        default_storage.delete(f"{folder}/{name}")
    try:  # a file system keeps the empty folder; object storage has none
        Path(default_storage.path(folder)).rmdir()
    except (NotImplementedError, OSError):
        pass


def results_resume() -> int:
    """Queue again every computation left queued or running (``resume_unfinished``)."""
    return resume_unfinished(ResultCache, dispatch.COMPUTE_RESULTS)


def resume_unfinished(model: type[KeptComputation], task: str) -> int:
    """Queue again every row of ``model`` left queued or running, for a worker that starts (the
    broker may have lost a killed worker's message; our table has not). A duplicate of a run
    still alive elsewhere stores nothing (each kept computation's ``_store``)."""
    rows = model.objects.filter(status__in=[Status.QUEUED, Status.RUNNING])
    queued = 0
    for pk, attempt in rows.exclude(attempt="").values_list("pk", "attempt"):
        dispatch.send_now(task, pk, attempt)
        queued += 1
    return queued


# --- What the views ask -------------------------------------------------------------------------


def results_for_page(test: ListeningTest, options: ReportOptions) -> dict:
    """The results' state for the test's page; a large test's computation is queued here when
    there is no fresh result. A small test's is left to the plot's request (inline)."""
    fingerprint = ratings_fingerprint(test)
    if analysed_inline(fingerprint):
        return {"inline": True}
    row, _ = result_request(test=test, options=options, fingerprint=fingerprint)
    return {"inline": False, **result_state(row, fingerprint)}


def result_file(
    test: ListeningTest, options: ReportOptions, fmt: str, name: str
) -> tuple[File | None, bool]:
    """One file of the result of ``options``: (an open file, whether it is stale), or (None,
    False) while a worker computes the first one. AnalysisError when the analysis failed."""
    fingerprint = ratings_fingerprint(test)
    if analysed_inline(fingerprint):
        row, attempt = result_request(
            test=test, options=options, fingerprint=fingerprint, inline=True
        )
        if attempt is not None:
            result_compute(cache_id=row.pk, attempt=attempt)
            row.refresh_from_db()
        elif in_flight(row):  # another request is computing it: no waiting for that one
            return ContentFile(
                listening_test_report_file(test, fmt, name, options), name=name
            ), False
    else:
        row, _ = result_request(test=test, options=options, fingerprint=fingerprint)
    if row.status == Status.FAILED:
        raise AnalysisError(row.error)
    if not row.folder:
        return None, False
    missing = row.summary.get("missing", {})
    if name in missing:
        raise AnalysisError(missing[name])
    stored = row.summary.get("files", {}).get(name)
    if stored is None:
        raise AnalysisError(f"these results have no file {name!r}")
    return default_storage.open(stored, "rb"), row.fingerprint != fingerprint.key
