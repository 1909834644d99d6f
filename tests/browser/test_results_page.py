"""A scientist gets the report of a rated test from the test's page, in a real browser."""

import os

import numpy as np
import pytest

from tests.support.listening import listen, open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def rated(transactional_db, tmp_path, django_user_model):
    test = open_test(tmp_path / "audio", n_items=4, slug="rated", trials_per_session=4)
    rng = np.random.default_rng(3)
    for n in range(5):
        listen(test, n, rng)
    django_user_model.objects.create_superuser("sci", "sci@example.org", "pw-for-tests")
    return test


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def test_results_form_downloads_the_report_with_the_chosen_gap(page, live_server, rated):
    page.goto(f"{live_server.url}/admin/login/?next=/mushra/tests/{rated.pk}/")
    page.fill("#id_username", "sci")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_selector("#results-form")
    # The plot of the default analysis is drawn on the page (an image that has loaded).
    page.wait_for_function("document.getElementById('plot-conditions').naturalWidth > 300")
    page.select_option("select[name=new]", "Zephyr-TTS")
    page.select_option("select[name=base]", "Quokka-Voice")
    page.select_option("select[name=top]", "Hidden reference")
    page.check("input[name=by][value=headphones]")
    if os.environ.get("RESULTS_SCREENSHOT"):  # for a person checking the layout
        page.screenshot(path=os.environ["RESULTS_SCREENSHOT"], full_page=True)
    page.click("button[data-file='report.html']")
    page.wait_for_selector("h1")
    text = page.inner_text("body")
    assert "of the gap between Quokka-Voice and Hidden reference" in text
    assert "headphones" in text
    assert page.locator("svg").count() >= 2
    with page.expect_download() as download:
        page.go_back()
        page.click("button[data-file='analysis.json']")
    assert download.value.suggested_filename == "rated-analysis.json"
