"""A test's power plan computed by a worker on the ``cpu`` queue and kept (services: writes).

Why: the plan simulates experiments and fits the confirmatory model to each (about 0.1 s a fit;
the page's default of 40 simulations × 4 listener counts is about 15 s, and the form allows ten
times more). Inside a web request that held a web worker and risked the server's timeout, and a
reload computed it again. The choices:

* **A row of its own, ``PlanCache``** (migration 0006), not ``ResultCache``: a result is a folder
  of report files whose life (sweeps, downloads, inline analysis of a small test, the worker's
  re-queue of ``compute_results``) does not fit a plan, and a kind column beside those would
  touch every one of them. A plan is small (a JSON dict with its two SVG plots, some 100 kB), so
  the row holds it whole and no file can be left half written. The states, the attempt and the
  (test, options key) constraint are the results' (``mushra.result_cache``), and so are the
  reads that judge them (``mushra.result_reads.ratings_fingerprint`` and ``in_flight``).
* **Always on a worker**: the cost is the simulations', whatever the number of ratings, so
  there is no inline path for small tests as the results have.
* **Fresh while the ratings' fingerprint is unchanged**; a plan of older ratings is shown marked
  stale while the request that noticed queues its update.
* **One computation per row at a time**: a request queues one only by a conditional UPDATE from
  the state it read (compare-and-set on ``attempt``), so two requests with the same values
  queue one task.
* **Never a half plan**: the plan is written in the run's last UPDATE, which succeeds only while
  the run's attempt is the row's and the row is running. A run killed mid-way leaves the
  previous plan (its task is delivered again, or queued again when a worker starts); a
  duplicate or superseded run stores nothing and stops at its next progress write.
* **Progress without a write per fit**: the simulation reports each experiment; the row is
  written only when the percentage has moved by ``Throttle.step`` or ``Throttle.seconds`` have
  passed (at most ~50 writes plus one a second, whatever the number of simulations).
* **A failed plan is a message**: an AnalysisError (no ratings yet, one system under test) is
  stored on the row and shown on the page; new ratings retry it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone

from evalsite import dispatch
from mushra.analysis import AnalysisError
from mushra.analysis.planning import PlanOptions
from mushra.models import ListeningTest, PlanCache
from mushra.planning_reads import (
    plan_for_test,
    plan_options_from_json,
    plan_options_json,
    plan_options_key,
    plan_state,
)
from mushra.result_cache import claim, resume_unfinished
from mushra.result_reads import Fingerprint, needs_run, ratings_fingerprint

log = logging.getLogger(__name__)
Status = PlanCache.Status
# Stage → (percent done when it starts, what the page says). The analysis' own stages
# (screening, the pilot's mixed model, ...) all show as "pilot"; the simulation fills 5 → 95 %.
STAGES = {
    "queued": (0, "Waiting for a worker"),
    "reading": (1, "Reading the ratings"),
    "pilot": (2, "Screening and fitting the pilot's model"),
    "simulating": (5, "Simulating experiments"),
    "drawing": (95, "Drawing the plots"),
}
SIMULATION_PERCENTS = (5, 95)


class Superseded(Exception):
    """The run's attempt is no longer the row's (a newer one, or a duplicate that finished)."""


@dataclass
class Throttle:
    """Whether a progress write is due: the percentage moved by ``step`` since the last write,
    or ``seconds`` passed and it moved at all. ``clock`` is for tests that cannot wait."""

    step: float = 2.0
    seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _percent: float = -math.inf
    _at: float = -math.inf

    def due(self, percent: float) -> bool:
        now = self.clock()
        moved = percent - self._percent
        if moved <= 0 or (moved < self.step and now - self._at < self.seconds):
            return False
        self.note(percent, now)
        return True

    def note(self, percent: float, at: float | None = None) -> None:
        self._percent, self._at = percent, self.clock() if at is None else at


def plan_request(
    *, test: ListeningTest, options: PlanOptions, fingerprint: Fingerprint
) -> tuple[PlanCache, str | None]:
    """Make sure a plan of ``options`` for the ratings of ``fingerprint`` is ready or coming.

    Returns the row and the attempt this call queued (None when none was needed or another
    request won the race); the task is sent once the caller's transaction commits."""
    row, _ = PlanCache.objects.get_or_create(
        test=test,
        options_key=plan_options_key(options),
        defaults={"options": plan_options_json(options)},
    )
    attempt = claim(row, fingerprint, *STAGES["queued"]) if needs_run(row, fingerprint) else None
    if attempt is None:
        return row, None
    dispatch.send_on_commit(dispatch.COMPUTE_PLAN, row.pk, attempt)
    return row, attempt


def plan_compute(*, plan_id: int, attempt: str, hook: Callable[[str], None] | None = None) -> str:
    """Run one queued plan (the worker's task). ``hook`` hears the stage's name after each
    progress write (a test may stop the run there, as a killed worker would)."""
    row = PlanCache.objects.select_related("test").filter(pk=plan_id).first()
    if row is None or row.attempt != attempt or not _claim(row.pk, attempt):
        return "not queued"  # superseded by a newer attempt, or already finished
    reporter = _Reporter(row.pk, attempt, hook)
    try:
        # Read before the ratings: the stored fingerprint never claims ratings that were not read.
        fingerprint = ratings_fingerprint(row.test)
        options = plan_options_from_json(row.options)
        plan = plan_for_test(row.test, options, stage=reporter.stage, progress=reporter.progress)
    except Superseded:
        return "superseded"
    except AnalysisError as exc:
        _fail(row.pk, attempt, str(exc))
        return "failed"
    except SoftTimeLimitExceeded:
        _fail(row.pk, attempt, "the simulation took longer than the workers' time limit")
        return "failed"
    except OperationalError:
        raise  # transient (the task retries the same attempt): the row stays running
    except Exception as exc:  # a bug: say so on the page, then fail loudly in the worker's log
        log.exception("plan %s failed", plan_id)
        _fail(row.pk, attempt, f"internal error while planning: {exc}")
        raise
    return _store(row.pk, attempt, fingerprint, plan)


def _claim(plan_id: int, attempt: str) -> bool:
    """Mark the attempt running; a delivery of it again after a killed worker may take it over."""
    return bool(
        PlanCache.objects.filter(
            pk=plan_id, attempt=attempt, status__in=[Status.QUEUED, Status.RUNNING]
        ).update(status=Status.RUNNING)
    )


class _Reporter:
    """The run's progress on its row: each stage, and the simulation's experiments as the
    throttle allows. A write that finds the attempt gone stops the run (Superseded)."""

    def __init__(self, plan_id: int, attempt: str, hook: Callable[[str], None] | None):
        self.plan_id, self.attempt, self.hook = plan_id, attempt, hook
        self.throttle = Throttle()

    def stage(self, name: str) -> None:
        percent, words = STAGES.get(name, STAGES["pilot"])
        self.throttle.note(percent)
        self._write(name if name in STAGES else "pilot", percent, words)

    def progress(self, done: int, total: int) -> None:
        low, high = SIMULATION_PERCENTS
        percent = low + (high - low) * done // max(total, 1)
        if self.throttle.due(percent):
            self._write("simulating", percent, f"Simulating experiments: {done} of {total}")

    def _write(self, name: str, percent: int, words: str) -> None:
        written = PlanCache.objects.filter(
            pk=self.plan_id, attempt=self.attempt, status=Status.RUNNING
        ).update(stage=words, percent=percent)
        if not written:
            raise Superseded
        if self.hook is not None:
            self.hook(name)


def _store(plan_id: int, attempt: str, fingerprint: Fingerprint, plan: dict) -> str:
    """The plan, in the run's one conditional UPDATE."""
    stored = PlanCache.objects.filter(pk=plan_id, attempt=attempt, status=Status.RUNNING).update(
        status=Status.READY,
        fingerprint=fingerprint.key,
        plan=plan,
        computed_at=timezone.now(),
        stage="",
        percent=100,
        error="",
    )
    return "ready" if stored else "superseded"


def _fail(plan_id: int, attempt: str, message: str) -> None:
    PlanCache.objects.filter(pk=plan_id, attempt=attempt).update(
        status=Status.FAILED, error=message, stage="", percent=0
    )


def plans_resume() -> int:
    """Queue again every plan left queued or running (``resume_unfinished``)."""
    return resume_unfinished(PlanCache, dispatch.COMPUTE_PLAN)


def plan_for_page(test: ListeningTest, options: PlanOptions) -> tuple[PlanCache, dict]:
    """The row of ``options`` and how it stands, its computation queued when it has no fresh
    plan (the page shows a stale one meanwhile)."""
    fingerprint = ratings_fingerprint(test)
    row, _ = plan_request(test=test, options=options, fingerprint=fingerprint)
    return row, plan_state(row, fingerprint)
