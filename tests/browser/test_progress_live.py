"""The test's page follows its listeners live, in a real browser: a session that arrives while
the page is open shows up in the funnel's table and picture without a reload."""

import os

import pytest

from mushra.sessions import session_start
from tests.support.listening import open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def followed(transactional_db, tmp_path, django_user_model):
    test = open_test(tmp_path / "audio", n_items=2, slug="live")
    session_start(test=test)
    django_user_model.objects.create_superuser("sci", "sci@example.org", "pw-for-tests")
    return test


def test_a_new_session_appears_in_the_funnel_without_a_reload(
    chromium_browser, live_server, followed
):
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/admin/login/?next=/mushra/tests/{followed.pk}/")
    page.fill("#id_username", "sci")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_selector("#funnel")
    assert page.inner_text("#funnel tr:first-child") == "Entered\t1"
    assert "Entered: 1;" in page.inner_html("#funnel-picture")
    session_start(test=followed)
    page.wait_for_function(
        "document.querySelector('#funnel tr:first-child').innerText.endsWith('2')", timeout=15_000
    )
    assert "Entered: 2;" in page.inner_html("#funnel-picture")
    assert page.locator("#funnel-picture svg rect").count() == 7  # still a drawn SVG
    assert page.locator("#timeline-picture svg polyline").count() == 2
    assert errors == []
    if os.environ.get("PROGRESS_SCREENSHOT"):  # for a person checking the layout
        page.screenshot(path=os.environ["PROGRESS_SCREENSHOT"], full_page=True)
    context.close()
