"""The landing page in a real browser: says what the platform is and leads to admin."""

import pytest

pytestmark = pytest.mark.browser


def test_landing_page_leads_a_scientist_to_the_admin_login(chromium_browser, live_server, db):
    page = chromium_browser.new_page()
    page.goto(live_server.url + "/")
    assert "Listening-test evaluation platform" in page.title()
    assert page.get_by_text("MUSHRA tests (ITU-R BS.1534-3)").is_visible()
    page.get_by_role("link", name="Scientists").click()
    page.wait_for_url("**/admin/login/**")
    assert page.locator("input[name=username]").is_visible()


def test_landing_page_fits_a_phone_screen(chromium_browser, live_server, db):
    page = chromium_browser.new_page(viewport={"width": 375, "height": 667})
    page.goto(live_server.url + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
