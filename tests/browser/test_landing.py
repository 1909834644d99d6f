"""The landing page in a real browser: says what the platform is and leads scientists to sign in."""

import pytest

pytestmark = pytest.mark.browser


def test_landing_page_signs_a_scientist_in_to_their_projects(
    chromium_browser, live_server, django_user_model
):
    from evalsite.services import project_create

    scientist = django_user_model.objects.create_user("ada", password="pw-for-tests")
    project_create(name="Prosody lab", owner=scientist)  # not staff: no admin for her
    page = chromium_browser.new_page()
    page.goto(live_server.url + "/")
    assert "Listening-test evaluation platform" in page.title()
    assert page.get_by_text("MUSHRA tests (ITU-R BS.1534-3)").is_visible()
    page.get_by_role("link", name="Scientists").click()
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong")
    page.click("#login-form button[type=submit]")
    assert page.locator("#login-error").is_visible()
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-for-tests")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#site-user")
    page.get_by_role("link", name="Projects", exact=True).click()
    assert "Prosody lab" in page.inner_text("#projects") and "owner" in page.inner_text("#projects")
    assert page.get_by_role("link", name="Admin").count() == 0
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("#site-user", state="detached")


def test_landing_page_fits_a_phone_screen(chromium_browser, live_server, db):
    page = chromium_browser.new_page(viewport={"width": 375, "height": 667})
    page.goto(live_server.url + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
