"""Every task the platform queues, sent by name: services import this, never a tasks module.

Tasks are thin wrappers that import services (DESIGN.md §4), so a service importing its tasks
module to call ``.delay`` would close an import cycle. Sending by name keeps the arrow one-way
(tasks → services → dispatch): the Celery app routes by name (evalsite/celery.py), so the queue
a task lands on is the same as with ``.delay``. Each ``tasks.py`` registers its tasks under these
names, and tests/evalsite/test_dispatch.py checks that every name here is a registered task.
"""

from django.db import transaction

from evalsite.celery import app

PREPARE_STIMULUS = "synth_workers.tasks.prepare_stimulus"
MEASURE_STIMULUS = "synth_workers.tasks.measure_stimulus"
SYNTH_BATCH = "synth_workers.tasks.synth_batch"  # `synth_*`: the GPU queue
CHECK_SYSTEM = "synth_workers.tasks.synth_check_system"
RUN_IMPORT = "synth_workers.tasks.run_import"
COMPUTE_RESULTS = "mushra.tasks.compute_results"
COMPUTE_PLAN = "mushra.tasks.compute_plan"

TASKS = (
    PREPARE_STIMULUS,
    MEASURE_STIMULUS,
    SYNTH_BATCH,
    CHECK_SYSTEM,
    RUN_IMPORT,
    COMPUTE_RESULTS,
    COMPUTE_PLAN,
)


def send_now(task: str, *args) -> None:
    """Queue ``task`` at once: for work whose rows are committed already (a worker resuming)."""
    app.send_task(_known(task), args=args)


def send_on_commit(task: str, *args) -> None:
    """Queue ``task`` once the caller's transaction commits, so a worker never looks for a row
    that is not there yet, and a rolled-back row queues nothing (at once outside a transaction)."""
    _known(task)  # refused now, where the caller can see it, not later inside the commit
    transaction.on_commit(lambda: send_now(task, *args))


def _known(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"not a task of this platform: {task}")
    return task
