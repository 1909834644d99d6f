"""A power plan computed by a real Celery worker on the `cpu` queue, its progress followed through
the planning page's status view, then shown and kept (mushra.planning_cache)."""

import time

import numpy as np
import pytest
from django.urls import reverse

from mushra.models import PlanCache
from tests.support.listening import listen, open_test
from tests.support.services import need_postgres

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VALUES = {"difference": "20", "power": "0.8", "alpha": "0.05", "simulations": "10"}


def _follow(client, test, timeout: float = 120) -> list[dict]:
    """Poll the status view as the page's script does, until the worker has finished."""
    url = reverse("mushra:planning-status", args=[test.pk])
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(client.get(url, VALUES).json())
        if not seen[-1]["running"]:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"the worker did not finish: {seen[-1]}")


def test_the_worker_computes_the_plan_and_the_page_then_shows_it(
    redis_broker, worker_media, admin_user, client, tmp_path
):
    need_postgres()  # the worker and the test share the test database
    client.force_login(admin_user)
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="planned")
    for n in range(4):
        listen(test, n, np.random.default_rng(n))
    url = reverse("mushra:planning", args=[test.pk])
    first = client.get(url, VALUES).content.decode()
    assert 'id="plan-computing"' in first and 'id="plan-computing" hidden' not in first

    seen = _follow(client, test)
    percents = [s["percent"] for s in seen[:-1]]
    assert percents == sorted(percents), percents  # the bar only moves forward
    assert any(5 < p < 95 for p in percents), percents  # it moved during the simulation
    done = seen[-1]
    assert done["status"] == "ready" and done["percent"] == 100 and not done["error"]
    assert 'id="plan"' in done["html"] and 'id="power-figure"><?xml' in done["html"]

    row = PlanCache.objects.get(test=test)
    page = client.get(url, VALUES)
    assert page.context["plan"]["pilot"]["listeners"] == 4
    assert 'id="listeners-required"' in page.content.decode()
    assert 'id="plan-computing" hidden' in page.content.decode()
    assert PlanCache.objects.get(pk=row.pk).computed_at == row.computed_at  # kept, not redone
