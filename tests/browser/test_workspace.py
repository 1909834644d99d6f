"""A scientist's workspace in a real browser (issue 12): sign in, go from the dashboard to the
audition grid and listen to two stimuli of one sentence, build a test with the wizard and open
it; an owner adds a viewer, who then can read the test but change nothing."""

import pytest
from django.contrib.auth import get_user_model

from evalsite.services import member_set, project_create
from mushra.models import ListeningTest
from tests.support.listening import prepared_corpus

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "pw-for-tests"


@pytest.fixture
def lab(transactional_db, tmp_path):
    """Project "Speech lab": owner olivia, editor sci; vic has an account and no role yet."""
    users = {
        name: get_user_model().objects.create_user(name, password=PASSWORD)
        for name in ("olivia", "sci", "vic")
    }
    project = project_create(name="Speech lab", owner=users["olivia"])
    member_set(project=project, username="sci", role="editor")
    corpus = prepared_corpus(tmp_path / "audio", n_items=2, name="Harvard", project_id=project.pk)
    return project, corpus


@pytest.fixture
def page(scientist_page):
    return scientist_page


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/")  # signing in leads to one's projects


def sign_out(page) -> None:
    page.click("#site-user button[type=submit]")


def test_a_scientist_auditions_builds_and_opens_a_test_from_the_dashboard(page, live_server, lab):
    project, corpus = lab
    sign_in(page, live_server, "sci")
    section = page.locator(f"#project-{project.pk}")
    assert section.locator("[data-role]").inner_text() == "editor"

    # Listen first: two conditions of the first sentence, the second at the first's position.
    section.locator(f"tr[data-corpus='{corpus.name}'] a", has_text="Audition").click()
    page.wait_for_selector("#audition-grid[data-ready=true]")
    row = page.locator("#audition-grid tbody tr").first
    first, second = row.locator("button.play").nth(0), row.locator("button.play").nth(2)
    first.click()
    page.wait_for_function(
        "Number(document.getElementById('audition-grid').dataset.position) > 0.3"
    )
    second.click()
    grid = page.locator("#audition-grid")
    assert grid.get_attribute("data-playing") == second.get_attribute("data-stimulus")
    assert float(grid.get_attribute("data-position")) > 0.3
    page.keyboard.press("Space")

    # The wizard: corpus (chosen on the dashboard) → conditions → options → draft → open.
    page.click("#nav-dashboard")
    section.locator(f"tr[data-corpus='{corpus.name}'] a", has_text="New test").click()
    page.wait_for_selector("#step-conditions")
    for label in ("Zephyr-TTS", "Quokka-Voice"):
        page.locator("#step-conditions label", has_text=label).locator("input").check()
    page.fill("#id_name", "Zephyr vs Quokka, pilot")
    page.click("#create-draft")
    page.wait_for_selector("#open-test")
    assert page.inner_text("#test-status") == "Draft"
    page.click("#open-test")
    page.wait_for_selector("#listener-link")
    assert page.inner_text("#test-status") == "Open"
    test = ListeningTest.objects.get(name="Zephyr vs Quokka, pilot")
    assert test.status == "open" and test.project_id == project.pk
    assert page.inner_text("#listener-link").endswith(f"/t/{test.slug}/")
    labels = set(test.conditions.values_list("label", flat=True))
    assert {"Zephyr-TTS", "Quokka-Voice", "Hidden reference"} <= labels

    page.click("#nav-dashboard")  # the test is listed, open, with its progress
    listed = section.locator(f"tr[data-test='{test.name}']")
    assert "Open" in listed.inner_text()


def test_an_owner_adds_a_viewer_who_then_cannot_change_anything(page, live_server, lab):
    project, corpus = lab
    test = ListeningTest.objects.create(
        name="Draft test", slug="draft-test", corpus=corpus, project=project
    )
    sign_in(page, live_server, "olivia")
    page.locator(f"#project-{project.pk} a", has_text="Members").click()
    page.fill("#member-username", "vic")
    page.select_option("#member-role", "viewer")
    page.click("#member-form button[type=submit]")
    page.wait_for_selector("#messages")
    assert "'vic' is now viewer" in page.inner_text("#messages")
    sign_out(page)

    sign_in(page, live_server, "vic")
    section = page.locator(f"#project-{project.pk}")
    assert section.locator("[data-role]").inner_text() == "viewer"
    assert section.locator("a", has_text="New test").count() == 0  # no builder for viewers
    section.locator(f"tr[data-test='{test.name}'] a").click()
    page.wait_for_selector("#test-status")
    for button in ("#open-test", "#preview-test", "#close-test"):
        assert page.locator(button).count() == 0, button
    # Forging the form a viewer does not get is refused by the server, and changes nothing.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"{live_server.url}/mushra/tests/{test.pk}/open",
        headers={"X-CSRFToken": csrf, "Referer": page.url},
        max_redirects=0,
    )
    assert forged.status == 403
    page.goto(f"{live_server.url}/projects/{project.pk}/members/")
    assert page.locator("#member-form").count() == 0  # only owners change members
    test.refresh_from_db()
    assert test.status == "draft"
