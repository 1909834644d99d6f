"""Celery tasks of mushra: thin, take ids, call one service (DESIGN.md §4).

Every task here runs on the ``cpu`` queue (evalsite/celery.py routes only ``synth_*`` names of
synth_workers elsewhere).
"""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import OperationalError

from evalsite import dispatch
from mushra.planning_cache import plan_compute, plans_resume
from mushra.result_cache import result_compute, results_resume

log = logging.getLogger(__name__)


@shared_task(
    name=dispatch.COMPUTE_RESULTS,
    ignore_result=True,  # the row (ResultCache) is the result; nothing reads a return value
    autoretry_for=(OperationalError,),  # e.g. SQLite busy: the same attempt runs again
    retry_backoff=True,
    max_retries=5,
)
def compute_results(cache_id: int, attempt: str) -> str:
    return result_compute(cache_id=cache_id, attempt=attempt)


@shared_task(
    name=dispatch.COMPUTE_PLAN,
    ignore_result=True,  # the row (PlanCache) is the result
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def compute_plan(plan_id: int, attempt: str) -> str:
    return plan_compute(plan_id=plan_id, attempt=attempt)


@worker_ready.connect
def resume_results(sender=None, **kwargs) -> None:
    """A worker on the ``cpu`` queue queues again the analyses a killed worker left."""
    queues = {q.name for q in sender.task_consumer.queues} if sender else {"cpu"}
    if "cpu" in queues:
        log.info("re-queued unfinished results: %s", results_resume())


@worker_ready.connect
def resume_plans(sender=None, **kwargs) -> None:
    """The same for the power plans a killed worker left (mushra.planning_cache)."""
    queues = {q.name for q in sender.task_consumer.queues} if sender else {"cpu"}
    if "cpu" in queues:
        log.info("re-queued unfinished plans: %s", plans_resume())
