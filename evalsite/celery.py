"""The Celery app. Settings come from Django settings (CELERY_* names); queues are fixed here.

Two queues (DESIGN.md §4): ``synth`` for model inference (one solo worker per GPU) and ``cpu`` for
audio preparation, metrics and reports. Tasks are routed by name so callers never pick a queue.
"""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")

app = Celery("evalsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Each queue has its own direct exchange and key, so a message for one never lands in both.
    task_queues=[Queue(q, Exchange(q, type="direct"), routing_key=q) for q in ("synth", "cpu")],
    task_default_queue="cpu",
    task_default_exchange="cpu",
    task_default_routing_key="cpu",
    task_routes={"synth_workers.tasks.synth_*": {"queue": "synth"}},
    # A task is acknowledged after it ran, and re-queued if its worker dies: tasks are idempotent.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
app.autodiscover_tasks(["evalsite"])
