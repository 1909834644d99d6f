"""Fixtures of the scientist's pages in a real browser."""

import pytest


@pytest.fixture
def scientist_page(chromium_browser):
    """A wide page with a short timeout; a script error on any page fails the test."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def listener_page(chromium_browser):
    """A listener's page, laptop-sized: a script error on any page fails the test, and the
    player's "leave this page?" dialogs are accepted."""
    context = chromium_browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    page.on("dialog", lambda d: d.accept())
    yield page
    context.close()
    assert not errors, errors
