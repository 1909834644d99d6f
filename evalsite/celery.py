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
app.autodiscover_tasks()  # every installed app's tasks.py, evalsite's own (evalsite.ping) too

# Redis redelivers a message nobody acknowledged after the visibility timeout (default one hour).
# Set just past the hard time limit: a task cannot still run then (the limit killed it), so a
# redelivery never starts a second copy of a live task, which a shorter timeout would. A killed
# worker's work is queued again from our tables when a worker starts (services.recovery), so
# this timeout only matters when no worker restarts. The solo pool (`synth`) enforces no time
# limit: its batches must stay well under it (a longer one is redelivered, which is idempotent).
VISIBILITY_MARGIN_S = 5 * 60


@app.on_after_configure.connect
def _redis_visibility_timeout(sender, **kwargs) -> None:
    conf = sender.conf
    if str(conf.broker_url or "").startswith(("redis://", "rediss://")):
        conf.broker_transport_options = {
            "visibility_timeout": int(conf.task_time_limit or 3600) + VISIBILITY_MARGIN_S,
            **(conf.broker_transport_options or {}),
        }
