"""Celery configuration and a task round trip through a real worker process."""

import os
import uuid

import pytest

from evalsite.celery import app
from evalsite.tasks import ping


def test_each_queue_has_its_own_exchange_and_routing_key():
    queues = {q.name: q for q in app.conf.task_queues}
    assert set(queues) == {"synth", "cpu"}
    assert {(q.exchange.name, q.routing_key) for q in queues.values()} == {
        ("synth", "synth"),
        ("cpu", "cpu"),
    }


def test_tasks_are_routed_by_name():
    router = app.amqp.router
    assert router.route({}, "synth_workers.tasks.synth_batch")["queue"].name == "synth"
    assert router.route({}, "synth_workers.tasks.prepare_stimulus")["queue"].name == "cpu"
    assert router.route({}, "evalsite.ping")["queue"].name == "cpu"


def test_reliability_settings_match_the_design():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.slow
@pytest.mark.parametrize("queue", ["synth", "cpu"])
def test_task_round_trip_through_a_real_worker_on_redis(redis_broker, celery_worker, queue):
    token = uuid.uuid4().hex
    reply = ping.apply_async((token,), queue=queue).get(timeout=30)
    assert reply["token"] == token
    assert reply["pid"] == celery_worker.proc.pid != os.getpid()
