"""The planning page in a real browser with a real worker: the page, rendered before the worker
has finished the plan, shows a progress bar that follows the simulation, then the plan (table
and plots) appears without a reload (static/js/planning_progress.js)."""

import numpy as np
import pytest

from tests.support.listening import listen, open_test
from tests.support.services import need_postgres

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every value of the bar, as the page changes it.
RECORD_PERCENTS = """
window.__percents = [];
new MutationObserver(() => {
  const bar = document.getElementById("plan-bar");
  if (bar && window.__percents.at(-1) !== bar.value) window.__percents.push(bar.value);
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def test_the_bar_follows_the_simulation_and_the_plan_appears_without_a_reload(
    scientist_page, live_server, worker_media, django_user_model, tmp_path
):
    need_postgres()  # the worker reads what the live server's test wrote
    django_user_model.objects.create_superuser("sci", "sci@example.org", "pw-for-tests")
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="plan-crowd")
    for n in range(4):
        listen(test, n, np.random.default_rng(n))
    page = scientist_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "sci")
    page.fill("#id_password", "pw-for-tests")
    page.click("#login-form button[type=submit]")
    page.add_init_script(RECORD_PERCENTS)
    query = "difference=20&power=0.8&alpha=0.05&simulations=10"
    page.goto(f"{live_server.url}/mushra/tests/{test.pk}/planning?{query}")
    assert page.get_attribute("#plan-state", "data-done") == "false"
    assert page.is_visible("#plan-bar") and page.query_selector("#plan") is None
    page.evaluate("window.__notReloaded = true")

    page.wait_for_selector("#plan-state[data-done=true]", timeout=120_000)
    assert page.evaluate("window.__notReloaded") is True
    assert not page.is_visible("#plan-bar") and not page.is_visible("#plan-error")
    assert "listeners" in page.inner_text("#listeners-required")
    assert page.is_visible("#power-figure svg") and page.is_visible("#power-curve")
    assert page.is_visible("#plan-computed")
    percents = page.evaluate("window.__percents")
    assert percents == sorted(percents) and percents[-1] == 100, percents
