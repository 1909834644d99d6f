"""The objective-metrics panel of a corpus' page in a real browser with a real worker: the button
queues the corpus' stimuli and the bar, filled by the page's polling script alone (the page was
rendered before anything was measured), reaches the end once the worker has measured them."""

import pytest

from tests.support.listening import prepared_corpus

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("swift_f0", reason="the metrics extra is not installed")


def test_the_button_queues_and_the_bar_follows_the_worker(
    scientist_page, live_server, worker_media, django_user_model, tmp_path
):
    django_user_model.objects.create_superuser("ops", "ops@example.org", "pw-for-tests")
    corpus = prepared_corpus(tmp_path, n_items=1, name="Measured corpus")
    page = scientist_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pw-for-tests")
    page.click("#login-form button[type=submit]")
    page.goto(f"{live_server.url}/synthesis/corpora/{corpus.pk}/")
    assert page.inner_text("#metrics-counts") == "0 of 5 ready stimuli measured"
    page.click("#measure-metrics")
    assert "Measuring 5 stimuli on the workers." in page.inner_text("main")
    page.wait_for_selector("#metrics[data-done=true]", timeout=120_000)
    assert page.eval_on_selector("#metrics-bar", "b => [b.value, b.max]") == [5, 5]
    assert page.inner_text("#metrics-counts") == "5 of 5 ready stimuli measured"
