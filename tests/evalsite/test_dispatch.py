"""Services queue tasks by name through evalsite.dispatch: each name must be a task a worker
has, routed to the queue its kind of work belongs on."""

import pytest

from evalsite import dispatch
from evalsite.celery import app


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks.py
    return set(app.tasks)


def test_every_dispatched_name_is_a_registered_task():
    assert set(dispatch.TASKS) <= registered_tasks()


def test_synthesis_goes_to_the_synth_queue_and_the_rest_to_cpu():
    router = app.amqp.router
    queues = {name: router.route({}, name)["queue"].name for name in dispatch.TASKS}
    assert queues.pop(dispatch.SYNTH_BATCH) == "synth"
    assert queues.pop(dispatch.CHECK_SYSTEM) == "synth"
    assert set(queues.values()) == {"cpu"}


def test_an_unknown_task_name_is_refused_before_anything_is_sent():
    with pytest.raises(ValueError, match="not a task of this platform"):
        dispatch.send_now("synth_workers.tasks.no_such_task", 1)
