"""Results kept per (test, options) until new ratings arrive (mushra.result_cache), without a
worker: the inline path of a small test, the one task two racing requests queue, a run stopped
mid-way, and a failed analysis. The worker's path is in test_result_worker.py.

Ratings are given through the real services (tests/mushra/test_results.py's ``_listen``).
"""

import json
import threading

import numpy as np
import pytest
import redis
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from mushra.analysis.analyze import STAGES as ANALYSIS_STAGES
from mushra.models import ResultCache
from mushra.result_cache import STAGES, result_compute, result_request
from mushra.result_reads import options_key, ratings_fingerprint
from mushra.results import ReportOptions
from tests.support.listening import listen, open_test
from tests.support.services import need_postgres


@pytest.fixture
def rated(db, tmp_path):
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4)
    rng = np.random.default_rng(11)
    for n in range(4):
        listen(test, n, rng)
    return test


def _row(test) -> ResultCache:
    return ResultCache.objects.get(test=test, options_key=options_key(ReportOptions()))


def _analysis(client, test) -> dict:
    response = client.get(f"/mushra/tests/{test.pk}/results/analysis.json")
    assert response.status_code == 200, response
    return json.loads(response.content)


def _folders(test) -> list[str]:
    dirs, _ = default_storage.listdir(f"results/{test.pk}")
    return sorted(dirs)


def test_a_small_test_is_analysed_once_and_again_after_a_new_rating(rated, client, admin_user):
    client.force_login(admin_user)
    first = _analysis(client, rated)
    row = _row(rated)
    assert row.status == ResultCache.Status.READY and first["n_listeners"] == 4
    assert row.summary["n_rated"] == first["n_ratings"]
    # Every file of the report was written once; asking again reads them, computes nothing.
    assert {"report.html", "report.pdf", "items.svg", "mushra.csv"} <= set(row.summary["files"])
    plot = client.get(f"/mushra/tests/{rated.pk}/results/items.svg")
    assert plot["X-Results-Stale"] == "no" and b"<svg" in plot.content
    assert _row(rated).computed_at == row.computed_at

    listen(rated, 4, np.random.default_rng(12))  # a new listener: the result is stale
    assert ratings_fingerprint(rated).key != row.fingerprint
    again = _analysis(client, rated)
    assert again["n_listeners"] == 5
    assert _row(rated).computed_at > row.computed_at
    assert _folders(rated) == [_row(rated).folder.rsplit("/", 1)[1]]  # the old one is gone


def test_other_options_are_another_result(rated, client, admin_user):
    client.force_login(admin_user)
    _analysis(client, rated)
    kept = client.get(f"/mushra/tests/{rated.pk}/results/analysis.json", {"screening": "off"})
    assert "screening off" in json.loads(kept.content)["screening"]["rules"][0]
    assert ResultCache.objects.filter(test=rated).count() == 2


def test_a_failed_analysis_is_a_message_on_the_page(db, tmp_path, client, admin_user):
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="careless")
    rng = np.random.default_rng(5)
    for n in range(3):
        listen(test, n, rng, careless=True)  # every listener rates the hidden reference 40
    client.force_login(admin_user)
    response = client.get(f"/mushra/tests/{test.pk}/results/report.html", follow=True)
    assert response.status_code == 200
    assert "No report: screening excluded every listener" in response.content.decode()
    assert _row(test).status == ResultCache.Status.FAILED
    plot = client.get(f"/mushra/tests/{test.pk}/results/conditions.svg")
    assert plot.status_code == 404 and "screening excluded every listener" in plot.content.decode()


class Killed(BaseException):
    """What a killed worker does to a run: it stops, and nothing after that line runs."""


def test_a_run_stopped_mid_way_leaves_the_previous_result_and_its_redelivery_completes(
    rated, client, admin_user
):
    client.force_login(admin_user)
    _analysis(client, rated)
    before = _row(rated)
    leftover = f"results/{rated.pk}/{before.pk}-deadbeef/report.html"  # of a run killed earlier
    default_storage.save(leftover, ContentFile(b"<html>half"))
    listen(rated, 4, np.random.default_rng(13))
    row, attempt = result_request(
        test=rated, options=ReportOptions(), fingerprint=ratings_fingerprint(rated), inline=True
    )
    assert attempt is not None

    def stop_while_writing(stage: str) -> None:
        if stage == "report":
            raise Killed

    with pytest.raises(Killed):
        result_compute(cache_id=row.pk, attempt=attempt, stage=stop_while_writing)
    stopped = _row(rated)
    assert stopped.status == ResultCache.Status.RUNNING and stopped.stage.startswith("Writing")
    assert (stopped.folder, stopped.fingerprint) == (before.folder, before.fingerprint)
    # Meanwhile a download of this small test is computed in its request; the row waits.
    assert _analysis(client, rated)["n_listeners"] == 5
    assert _row(rated).folder == before.folder

    assert result_compute(cache_id=row.pk, attempt=attempt) == "ready"  # delivered again
    assert result_compute(cache_id=row.pk, attempt=attempt) == "not queued"  # and once more
    done = _row(rated)
    assert done.fingerprint == ratings_fingerprint(rated).key
    assert _folders(rated) == [done.folder.rsplit("/", 1)[1]]  # old and half-written: gone
    assert _analysis(client, rated)["n_listeners"] == 5


def test_a_superseded_run_stores_nothing(rated):
    fingerprint = ratings_fingerprint(rated)
    row, old = result_request(
        test=rated, options=ReportOptions(), fingerprint=fingerprint, inline=True
    )
    ResultCache.objects.filter(pk=row.pk).update(queued_at=None)  # as if its worker died long ago
    _, new = result_request(
        test=rated, options=ReportOptions(), fingerprint=fingerprint, inline=True
    )
    assert new not in (None, old)
    assert result_compute(cache_id=row.pk, attempt=old) == "not queued"
    assert not _row(rated).folder
    assert result_compute(cache_id=row.pk, attempt=new) == "ready"


def _queued_tasks(url: str, cache_id: int) -> int:
    """Messages for this row's computation waiting on the broker's `cpu` queue (Redis list)."""
    client = redis.Redis.from_url(url)
    count = 0
    for raw in client.lrange("cpu", 0, -1):
        message = json.loads(raw)
        headers = message.get("headers", {})
        args = headers.get("argsrepr", "")
        if headers.get("task") == "mushra.tasks.compute_results" and args.startswith(
            f"({cache_id},"
        ):
            count += 1
            client.lrem("cpu", 1, raw)  # no worker of a later test should find it
    return count


@pytest.mark.django_db(transaction=True)
def test_two_requests_while_computing_queue_one_task(redis_broker, tmp_path, admin_user, settings):
    need_postgres()  # concurrent writers: SQLite would serialise them anyway
    settings.RESULTS_INLINE_MAX_RATINGS = 0  # every test is analysed by a worker
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="raced")
    listen(test, 0, np.random.default_rng(2))
    start = threading.Barrier(2)
    pages = []

    def open_page() -> None:
        from django.test import Client

        client = Client()
        client.force_login(admin_user)
        start.wait()
        pages.append(client.get(f"/mushra/tests/{test.pk}/").content.decode())
        connection.close()

    threads = [threading.Thread(target=open_page) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(pages) == 2 and all('id="results-computing"' in page for page in pages)
    row = _row(test)
    assert row.status == ResultCache.Status.QUEUED
    assert _queued_tasks(redis_broker, row.pk) == 1


def test_every_stage_has_words_and_a_rising_percent_on_the_results_page():
    percents = [STAGES[s][0] for s in ("queued", "reading", *ANALYSIS_STAGES, "report")]
    assert percents == sorted(percents) and len(set(percents)) == len(percents)
