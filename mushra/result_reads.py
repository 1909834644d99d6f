"""Reads for the kept results of a test (``mushra.result_cache``): what they depend on and how
they stand, cheaply enough for every page view and every poll.

The fingerprint is what a result depends on in the database, read in one query of three
aggregates: the test's submitted real trials (every saved trial adds its ratings or its
attention check at once, and nothing deletes one, so their count changes with every new rating)
and the time of the latest, and the sessions that ended (a questionnaire's answers are strata;
screened-out listeners are counted in the report). It reads trials, not ratings: a trial holds
all its conditions' ratings, so there are several times fewer, and
``listening_test_progress`` already counts them for the same page. Objective metrics measured
later are not in it: measuring them again is rare and "Update the results" on the page recomputes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from mushra.models import Condition, KeptComputation, ListeningTest, ResultCache, Session, Trial
from mushra.results import ReportOptions


@dataclass(frozen=True)
class Fingerprint:
    key: str  # stored with a result; a different key means the result is stale
    ratings: int  # about how many ratings the test holds, for choosing inline or background


def analysed_inline(fingerprint: Fingerprint) -> bool:
    """A large test is analysed by a worker; a small one inside the request, which is simpler
    to follow and as fast as a round trip through the queue. The bound is in ratings
    (settings.RESULTS_INLINE_MAX_RATINGS)."""
    return fingerprint.ratings <= settings.RESULTS_INLINE_MAX_RATINGS


def ratings_fingerprint(test: ListeningTest) -> Fingerprint:
    """What the test's results depend on, in one query (see the module docstring)."""
    trials = (
        Trial.objects.filter(
            session__test=OuterRef("pk"),
            session__preview=False,
            training=False,
            submitted_at__isnull=False,
        )
        .order_by()
        .values("session__test")
    )
    ended = (
        Session.objects.filter(test=OuterRef("pk"), preview=False, finished_at__isnull=False)
        .order_by()
        .values("test")
    )
    conditions = Condition.objects.filter(test=OuterRef("pk")).order_by().values("test")
    row = (
        ListeningTest.objects.filter(pk=test.pk)
        .values_list(
            _count(trials, Count("pk")),
            _count(trials, Count("pk", filter=Q(catch=False))),
            Subquery(trials.annotate(v=Max("submitted_at")).values("v")[:1]),
            _count(ended, Count("pk")),
            _count(conditions, Count("pk")),
        )
        .first()
    )
    n_trials, n_rated, last, n_ended, n_conditions = row or (0, 0, None, 0, 0)
    stamp = last.isoformat() if last else "-"
    return Fingerprint(key=f"{n_trials}:{stamp}:{n_ended}", ratings=n_rated * n_conditions)


def _count(query, aggregate) -> Coalesce:
    """One count of a grouped subquery, 0 when it has no row."""
    return Coalesce(
        Subquery(query.annotate(v=aggregate).values("v")[:1]), 0, output_field=IntegerField()
    )


def options_json(options: ReportOptions) -> dict:
    """The options a result depends on, as JSON (the files made are always all of them)."""
    data = asdict(options)
    data.pop("formats")
    return json.loads(json.dumps(data))  # tuples become lists, as they come back from the row


def options_key(options: ReportOptions) -> str:
    return hashlib.sha256(json.dumps(options_json(options), sort_keys=True).encode()).hexdigest()


def options_from_json(data: dict) -> ReportOptions:
    return ReportOptions(
        gaps=tuple(tuple(g) for g in data.get("gaps", ())),
        compare=tuple(tuple(c) for c in data.get("compare", ())),
        by=tuple(data.get("by", ())),
        screening=data.get("screening", True),
        exclude_fast=data.get("exclude_fast", False),
        n_boot=data.get("n_boot", ReportOptions.n_boot),
        seed=data.get("seed", ReportOptions.seed),
        mixed=data.get("mixed", ReportOptions.mixed),
    )


def cached_result(test: ListeningTest, options: ReportOptions) -> ResultCache | None:
    return ResultCache.objects.filter(test=test, options_key=options_key(options)).first()


def in_flight(row: ResultCache) -> bool:
    """A computation is queued or running and may still finish. One queued longer than the
    workers' hard time limit is dead (its worker was killed and nobody re-queued it)."""
    if row.status not in (ResultCache.Status.QUEUED, ResultCache.Status.RUNNING):
        return False
    limit = timedelta(seconds=int(settings.CELERY_TASK_TIME_LIMIT or 3600) + 60)
    return row.queued_at is not None and timezone.now() - row.queued_at < limit


def needs_run(row: KeptComputation, fingerprint: Fingerprint) -> bool:
    """Whether a kept result or plan must be computed for the
    ratings of ``fingerprint``: not while one is in flight (it is stale when it ends if ratings
    came meanwhile, and queued again then), not when it is ready for them, and not again when
    it failed for them."""
    if in_flight(row):
        return False
    if row.status == ResultCache.Status.READY and row.fingerprint == fingerprint.key:
        return False
    return not (row.status == ResultCache.Status.FAILED and row.wanted == fingerprint.key)


def result_state(row: ResultCache | None, fingerprint: Fingerprint | None = None) -> dict:
    """How the results stand, for the page and its polling script (plain words, no markup).

    ``fingerprint`` (the ratings now) is read only where staleness is shown: a poll while the
    worker runs needs none."""
    if row is None:
        return {"status": "none", "ready": False, "running": False, "stale": False}
    ready = bool(row.folder)
    stale = ready and fingerprint is not None and row.fingerprint != fingerprint.key
    failed = row.status == ResultCache.Status.FAILED
    return {
        "status": row.status,
        "running": in_flight(row),
        "stage": row.stage,
        "percent": row.percent,
        "error": row.error if failed else "",
        "ready": ready,
        "stale": stale,
        "version": row.computed_at.strftime("%Y%m%d%H%M%S%f") if row.computed_at else "",
        "computed_at": timezone.localtime(row.computed_at).strftime("%Y-%m-%d %H:%M:%S")
        if row.computed_at
        else "",
        "summary": row.summary,
    }
