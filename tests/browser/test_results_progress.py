"""A large test's results on its page in a real browser with a real worker: the page, rendered
before the worker has finished, shows a progress bar that follows the worker's stages, then the
plot and what it was computed from appear without a reload (static/js/results_progress.js)."""

import numpy as np
import pytest

from mushra.result_cache import STAGES
from tests.support.listening import listen, open_test
from tests.support.services import need_postgres

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORKER_STAGES = [words for name, (_, words) in STAGES.items() if name != "queued"]
# Every text the stage line shows, and every value of the bar, as the page changes them.
RECORD_STAGES = """
window.__stages = [];
window.__percents = [];
new MutationObserver(() => {
  const stage = document.getElementById("results-stage");
  const bar = document.getElementById("results-bar");
  const text = stage && stage.textContent;
  if (stage && window.__stages.at(-1) !== text) window.__stages.push(text);
  if (bar && window.__percents.at(-1) !== bar.value) window.__percents.push(bar.value);
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
"""


def test_the_bar_follows_the_worker_and_the_results_appear_without_a_reload(
    scientist_page, live_server, worker_media, django_user_model, tmp_path, settings
):
    need_postgres()  # the worker reads what the live server's test wrote
    settings.RESULTS_INLINE_MAX_RATINGS = 0  # analysed by the worker, however small
    django_user_model.objects.create_superuser("sci", "sci@example.org", "pw-for-tests")
    test = open_test(tmp_path / "audio", n_items=4, trials_per_session=4, slug="crowd")
    for n in range(4):
        listen(test, n, np.random.default_rng(n))
    page = scientist_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "sci")
    page.fill("#id_password", "pw-for-tests")
    page.click("#login-form button[type=submit]")
    page.add_init_script(RECORD_STAGES)
    page.goto(f"{live_server.url}/mushra/tests/{test.pk}/")
    assert page.get_attribute("#results-state", "data-done") == "false"
    assert page.is_visible("#results-bar") and not page.is_visible("#plot-conditions")
    page.evaluate("window.__notReloaded = true")

    page.wait_for_selector("#results-state[data-done=true]", timeout=120_000)
    page.wait_for_function("document.getElementById('plot-conditions').naturalWidth > 300")
    assert page.evaluate("window.__notReloaded") is True
    assert not page.is_visible("#results-bar") and not page.is_visible("#results-error")
    summary = page.inner_text("#results-summary")
    assert "Computed" in summary and "of 4 listeners kept" in summary
    stages = page.evaluate("window.__stages")
    percents = page.evaluate("window.__percents")
    # The bar showed a stage the worker reported (writing the report takes seconds: the PDF),
    # only moved forward, and ended full.
    assert stages[0] == "Waiting for a worker" and set(stages) & set(WORKER_STAGES), stages
    assert percents == sorted(percents) and percents[-1] == 100, percents
