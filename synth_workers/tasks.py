"""Celery tasks of synth_workers: thin, take ids, call one service (DESIGN.md §4).

Task names decide the queue (evalsite/celery.py): `synth_workers.tasks.synth_*` go to `synth`,
everything else here to `cpu`.
"""

import logging
import os

from celery import shared_task
from celery.signals import worker_init, worker_ready
from django.db import OperationalError

from evalsite import dispatch
from synth_workers.services.import_runs import import_run_execute
from synth_workers.services.metrics import stimulus_measure
from synth_workers.services.preparation import stimulus_fail, stimulus_prepare
from synth_workers.services.recovery import cpu_resume, synth_resume
from synth_workers.services.registration import system_check
from synth_workers.services.synthesis import batch_run

log = logging.getLogger(__name__)


@shared_task(
    name=dispatch.PREPARE_STIMULUS,
    bind=True,
    autoretry_for=(OperationalError,),  # e.g. SQLite busy: transient, retry with backoff
    retry_backoff=True,
    max_retries=5,
)
def prepare_stimulus(self, stimulus_id: int) -> str:
    try:
        return stimulus_prepare(stimulus_id=stimulus_id)
    except OperationalError:
        raise
    except Exception as exc:  # a bug or a storage failure: say so on the stimulus, then fail
        stimulus_fail(stimulus_id=stimulus_id, reason=f"internal error while preparing: {exc}")
        raise


@shared_task(
    name=dispatch.MEASURE_STIMULUS,  # the `cpu` queue
    ignore_result=True,  # the stored rows are the result; nothing reads a return value
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def measure_stimulus(stimulus_id: int, names: list[str] | None = None) -> int:
    return stimulus_measure(stimulus_id=stimulus_id, names=names)


@shared_task(
    name=dispatch.SYNTH_BATCH,  # synth_* → the `synth` queue
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def synth_batch(job_id: int, item_ids: list[int]) -> dict:
    return batch_run(job_id=job_id, item_ids=item_ids)


@shared_task(name=dispatch.RUN_IMPORT)  # the `cpu` queue: checking audio
def run_import(run_id: int) -> str:
    return import_run_execute(run_id=run_id)


@shared_task(name=dispatch.CHECK_SYSTEM)
def synth_check_system(system_id: int) -> str:
    return system_check(system_id=system_id)


@worker_init.connect
def share_cores_between_processes(sender=None, **kwargs) -> None:
    """Give each worker process its share of the cores for CPU inference.

    Inference libraries start one thread per core in every process; with several prefork
    processes on the same cores those threads fight (onnxruntime's spin-waiting threads measured
    about 1.7x slower per item with two processes on two cores). The children inherit this
    variable; backends read it (backends.base.cpu_threads). An explicit setting wins.
    """
    concurrency = getattr(sender, "concurrency", None) or 1
    if concurrency > 1 and "EVALSITE_SYNTH_THREADS" not in os.environ:
        os.environ["EVALSITE_SYNTH_THREADS"] = str(max(1, (os.cpu_count() or 1) // concurrency))


@worker_ready.connect
def resume_unfinished_work(sender=None, **kwargs) -> None:
    """A worker that starts queues again what killed ones left, for each queue it consumes
    (services.recovery): the broker may have lost those messages, our tables have not."""
    queues = {q.name for q in sender.task_consumer.queues} if sender else {"synth", "cpu"}
    for queue, resume in (("synth", synth_resume), ("cpu", cpu_resume)):
        if queue in queues:
            log.info("re-queued unfinished work of queue %s: %s", queue, resume())
