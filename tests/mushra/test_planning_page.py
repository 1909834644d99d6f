"""The planning page (issue 15, item 5): the form and its errors at once, the plan of good values
computed by a worker and kept per (test, values, ratings) (mushra.planning_cache).

The worker's service runs here in the test's own process (``plan_compute``, what the task
calls); tests/mushra/test_planning_worker.py runs it on a real Celery worker. The test's
ratings come through the real services (tests/mushra/test_results.py's listeners), and the plan
fits the real confirmatory model on them as a pilot. Few simulations keep each test to seconds.
"""

import html
import json
import re
import threading

import numpy as np
import pytest
import redis
from django.db import connection
from django.test import TestCase
from django.urls import reverse

from mushra.models import PlanCache
from mushra.planning_cache import Throttle, plan_compute
from mushra.result_reads import ratings_fingerprint
from tests.support.listening import listen, open_test
from tests.support.services import need_postgres

GOOD = {"difference": "20", "power": "0.8", "alpha": "0.05", "simulations": "10"}


def test_the_results_section_offers_the_planning_form(rated_test, admin_client):
    page = admin_client.get(reverse("mushra:progress", args=[rated_test.pk])).content.decode()
    assert 'id="planning-form"' in page
    assert reverse("mushra:planning", args=[rated_test.pk]) in page
    empty = admin_client.get(reverse("mushra:planning", args=[rated_test.pk]))
    assert empty.status_code == 200
    assert 'name="difference"' in empty.content.decode()
    assert 'id="plan-state"' not in empty.content.decode()
    assert not PlanCache.objects.exists()


def _errors(response) -> dict:
    return {name: list(errs) for name, errs in response.context["form"].errors.items()}


def test_bad_values_are_form_errors_naming_the_field(rated_test, admin_client):
    url = reverse("mushra:planning", args=[rated_test.pk])
    cases = [
        ({"difference": "-1"}, "difference"),
        ({"difference": "0"}, "difference"),
        ({"difference": "abc"}, "difference"),
        ({"difference": "inf"}, "difference"),
        ({"power": "1.5"}, "power"),
        ({"alpha": "0"}, "alpha"),
        ({"simulations": "99999999999999999999"}, "simulations"),
        ({"items": "1"}, "items"),
        ({"precision": "-2"}, "precision"),
        ({"new": "Zephyr-TTS"}, "base"),
        ({"new": "Zephyr-TTS", "base": "Zephyr-TTS"}, "base"),
        ({"new": "nobody", "base": "Zephyr-TTS"}, "new"),
    ]
    status = reverse("mushra:planning-status", args=[rated_test.pk])
    for change, field in cases:
        response = admin_client.get(url, {**GOOD, **change})
        assert response.status_code == 200, change
        assert set(_errors(response)) == {field}, (change, _errors(response))
        page = response.content.decode()
        assert 'id="plan-state"' not in page and "errorlist" in page
        poll = admin_client.get(status, {**GOOD, **change})
        assert poll.status_code == 400 and poll.json()["problems"][0].startswith(field)
    assert not PlanCache.objects.exists()  # nothing queued for a bad value


def _plan_page(client, test, params=GOOD, *, tasks: int):
    """The planning page of ``params``, checking how many tasks the request queued."""
    url = reverse("mushra:planning", args=[test.pk])
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:  # the tasks sent
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(callbacks) == tasks, callbacks
    return response


def _status(client, test, params=GOOD) -> dict:
    response = client.get(reverse("mushra:planning-status", args=[test.pk]), params)
    assert response.status_code == 200
    return response.json()


def _row(test) -> PlanCache:
    return PlanCache.objects.get(test=test)


def test_a_good_difference_is_queued_once_then_shown_and_kept(rated_test, admin_client):
    first = _plan_page(admin_client, rated_test, tasks=1).content.decode()
    assert 'id="plan-computing"' in first and 'id="plan-computing" hidden' not in first
    assert 'id="plan"' not in first
    row = _row(rated_test)
    assert row.status == PlanCache.Status.QUEUED and row.percent == 0
    # The same values again, in another order, while it waits: no second task.
    _plan_page(admin_client, rated_test, dict(reversed(GOOD.items())), tasks=0)
    assert _row(rated_test).attempt == row.attempt
    waiting = _status(admin_client, rated_test)
    assert waiting["running"] and waiting["stage"] == "Waiting for a worker"
    assert "html" not in waiting

    assert plan_compute(plan_id=row.pk, attempt=row.attempt) == "ready"
    computed_at = _row(rated_test).computed_at
    response = _plan_page(admin_client, rated_test, tasks=0)
    plan = response.context["plan"]
    assert plan["pilot"]["items"] == 4 and plan["pilot"]["listeners"] == 5  # one screened out
    page = response.content.decode()
    assert 'id="plan-computing" hidden' in page and 'id="plan-stale" hidden' in page
    shown = re.search(r'id="listeners-required">([^<]+)<', page).group(1)
    needed = plan["listeners_required"]
    assert shown == (f"{needed} listeners" if needed else "none of the simulated listener counts")
    assert len(plan["cells"]) >= 2 and 'id="power-figure"><?xml' in page
    # The sequential view of the ratings so far: the better system against the other.
    assert plan["sequential"]["new"] == "Zephyr-TTS"
    assert plan["sequential"]["rows"][-1]["listeners"] == 5
    assert 'id="sequential"' in page
    # What the page's script receives once it is done: the same plan, as HTML.
    done = _status(admin_client, rated_test)
    assert done["ready"] and not done["running"] and not done["stale"] and done["percent"] == 100
    assert 'id="plan"' in done["html"] and shown in done["html"]
    assert _row(rated_test).computed_at == computed_at  # read, not computed again
    assert PlanCache.objects.count() == 1


def test_a_new_rating_shows_the_plan_stale_and_queues_its_update(rated_test, admin_client):
    _plan_page(admin_client, rated_test, tasks=1)
    row = _row(rated_test)
    plan_compute(plan_id=row.pk, attempt=row.attempt)
    computed = _row(rated_test)

    listen(rated_test, 6, np.random.default_rng(8))
    page = _plan_page(admin_client, rated_test, tasks=1).content.decode()
    assert 'id="plan-stale"' in page and 'id="plan-stale" hidden' not in page
    assert 'id="plan"' in page and 'id="plan-computing" hidden' not in page
    updating = _row(rated_test)
    assert updating.attempt != computed.attempt and updating.plan == computed.plan
    assert updating.wanted == ratings_fingerprint(rated_test).key


def test_a_failed_plan_is_its_message_and_is_not_retried(mushra_test, admin_client):
    _plan_page(admin_client, mushra_test, tasks=1)
    row = _row(mushra_test)
    assert plan_compute(plan_id=row.pk, attempt=row.attempt) == "failed"
    response = _plan_page(admin_client, mushra_test, tasks=0)  # same ratings: the same failure
    message = f"test '{mushra_test.slug}' has no ratings yet"
    shown = re.search(r'<p id="plan-error"([^>]*)>([^<]*)<', response.content.decode())
    assert "hidden" not in shown.group(1) and html.unescape(shown.group(2)) == message
    assert _status(admin_client, mushra_test)["error"] == message


class Killed(BaseException):
    """What a killed worker does to a run: it stops, and nothing after that line runs."""


def test_a_run_stopped_mid_way_stores_nothing_and_its_redelivery_completes(
    rated_test,
    admin_client,
):
    _plan_page(admin_client, rated_test, tasks=1)
    row = _row(rated_test)
    heard = []

    def stop_mid_simulation(stage: str) -> None:
        heard.append(stage)
        if heard.count("simulating") == 3:
            raise Killed

    with pytest.raises(Killed):
        plan_compute(plan_id=row.pk, attempt=row.attempt, hook=stop_mid_simulation)
    stopped = _row(rated_test)
    assert stopped.status == PlanCache.Status.RUNNING and stopped.plan == {}
    assert 5 < stopped.percent < 95 and stopped.stage.startswith("Simulating experiments: ")
    page = _plan_page(admin_client, rated_test, tasks=0).content.decode()  # still in flight
    assert 'id="plan"' not in page and f'value="{stopped.percent}"' in page

    assert plan_compute(plan_id=row.pk, attempt=row.attempt) == "ready"  # delivered again
    assert plan_compute(plan_id=row.pk, attempt=row.attempt) == "not queued"  # and once more
    assert _row(rated_test).plan["pilot"]["listeners"] == 5


def test_a_superseded_run_stops_at_its_next_progress_write_and_stores_nothing(
    rated_test,
    admin_client,
):
    _plan_page(admin_client, rated_test, tasks=1)
    row = _row(rated_test)
    heard = []

    def supersede(stage: str) -> None:  # as a newer request would, with the old one dead
        heard.append(stage)
        if stage == "simulating":
            PlanCache.objects.filter(pk=row.pk).update(attempt="newer", status="queued")

    assert plan_compute(plan_id=row.pk, attempt=row.attempt, hook=supersede) == "superseded"
    assert heard.count("simulating") == 1  # it stopped at its next write, one experiment on
    assert _row(rated_test).plan == {} and _row(rated_test).attempt == "newer"


def test_progress_is_written_every_two_percent_or_every_second():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    written = [p for p in range(101) if throttle.due(p)]  # one call per percent, no time passing
    assert written == list(range(0, 101, 2))
    assert not throttle.due(100)  # nothing new: no write, however long it has been
    now[0] += 5
    assert not throttle.due(100)
    assert throttle.due(100.5)  # a second since the last write: any progress is written
    assert not throttle.due(101)  # and then not again within the second


def _queued_plans(url: str, plan_id: int) -> int:
    """Messages for this plan waiting on the broker's `cpu` queue (a Redis list), taken off it
    so no worker of a later test finds them."""
    client = redis.Redis.from_url(url)
    count = 0
    for raw in client.lrange("cpu", 0, -1):
        headers = json.loads(raw).get("headers", {})
        if headers.get("task") == "mushra.tasks.compute_plan" and headers.get(
            "argsrepr", ""
        ).startswith(f"({plan_id},"):
            count += 1
            client.lrem("cpu", 1, raw)
    return count


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_values_queue_one_task(redis_broker, tmp_path, admin_user):
    need_postgres()  # concurrent writers: SQLite would serialise them anyway
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="raced-plan")
    listen(test, 0, np.random.default_rng(2))
    start = threading.Barrier(2)
    pages = []

    def open_page() -> None:
        from django.test import Client

        client = Client()
        client.force_login(admin_user)
        start.wait()
        url = reverse("mushra:planning", args=[test.pk])
        pages.append(client.get(url, GOOD).content.decode())
        connection.close()

    threads = [threading.Thread(target=open_page) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(pages) == 2 and all('id="plan-computing"' in page for page in pages)
    row = _row(test)
    assert row.status == PlanCache.Status.QUEUED
    assert _queued_plans(redis_broker, row.pk) == 1
