"""A large test's results computed by a real Celery worker on the `cpu` queue, kept until new
ratings arrive, and a failed analysis shown on the page (mushra.result_cache).

"Large" is any test here: RESULTS_INLINE_MAX_RATINGS is 0, so nothing is analysed in a request.
"""

import json
import time

import numpy as np
import pytest

from mushra.models import ResultCache
from mushra.result_reads import options_key
from mushra.results import ReportOptions
from tests.support.listening import listen, open_test
from tests.support.services import need_postgres

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def background(redis_broker, worker_media, settings, admin_user, client):
    need_postgres()  # the worker and the test share the test database
    settings.RESULTS_INLINE_MAX_RATINGS = 0
    client.force_login(admin_user)
    return client


def _row(test) -> ResultCache:
    return ResultCache.objects.get(test=test, options_key=options_key(ReportOptions()))


def _wait_until_finished(test, timeout: float = 120) -> ResultCache:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _row(test)
        if row.status in (ResultCache.Status.READY, ResultCache.Status.FAILED):
            return row
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish: {row.status}, {row.stage}")


def test_the_worker_analyses_and_a_new_rating_makes_the_result_stale(background, tmp_path):
    client = background
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="big")
    for n in range(3):
        listen(test, n, np.random.default_rng(n))
    url = f"/mushra/tests/{test.pk}/results/analysis.json"
    # Nothing computed yet: the download goes back to the page, which follows the worker.
    waiting = client.get(url)
    assert waiting.status_code == 302 and waiting["Location"].endswith("#results")
    page = client.get(f"/mushra/tests/{test.pk}/").content.decode()
    assert 'id="results-computing"' in page and 'id="results-computing" hidden' not in page
    assert _wait_until_finished(test).status == ResultCache.Status.READY
    first = client.get(url)
    assert first["X-Results-Stale"] == "no"
    assert json.loads(first.content)["n_listeners"] == 3

    listen(test, 3, np.random.default_rng(3))
    page = client.get(f"/mushra/tests/{test.pk}/").content.decode()
    assert 'id="results-stale"' in page and 'id="results-stale" hidden' not in page
    stale = client.get(url)  # served while the update is computed
    assert stale["X-Results-Stale"] == "yes" and json.loads(stale.content)["n_listeners"] == 3
    status = client.get(f"/mushra/tests/{test.pk}/results.json").json()
    assert status["ready"] and (status["running"] or not status["stale"])

    _wait_until_finished(test)
    fresh = client.get(url)
    assert fresh["X-Results-Stale"] == "no" and json.loads(fresh.content)["n_listeners"] == 4
    status = client.get(f"/mushra/tests/{test.pk}/results.json").json()
    assert status["ready"] and not status["stale"] and status["summary"]["n_listeners"] == 4


def test_a_failed_analysis_on_the_worker_is_a_message_on_the_page(background, tmp_path):
    client = background
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="careless-big")
    for n in range(3):
        listen(test, n, np.random.default_rng(n), careless=True)
    client.get(f"/mushra/tests/{test.pk}/")
    assert _wait_until_finished(test).status == ResultCache.Status.FAILED
    page = client.get(f"/mushra/tests/{test.pk}/")
    assert page.status_code == 200
    assert "screening excluded every listener" in page.content.decode()
    assert (
        client.get(f"/mushra/tests/{test.pk}/results.json")
        .json()["error"]
        .startswith("screening excluded every listener")
    )
