"""Celery tasks of synth_workers: thin, take ids, call one service (DESIGN.md §4).

Task names decide the queue (evalsite/celery.py): `synth_workers.tasks.synth_*` go to `synth`,
everything else here to `cpu`.
"""

from celery import shared_task
from django.db import OperationalError

from synth_workers.services.preparation import stimulus_prepare


@shared_task(
    name="synth_workers.tasks.prepare_stimulus",
    autoretry_for=(OperationalError,),  # e.g. SQLite busy: transient, retry with backoff
    retry_backoff=True,
    max_retries=5,
)
def prepare_stimulus(stimulus_id: int) -> str:
    return stimulus_prepare(stimulus_id=stimulus_id)
