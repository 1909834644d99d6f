"""Attention checks in Chromium: a session with catch trials plays and saves them like any trial,
numbered among the others, and the database holds one verdict per check and no ratings of them."""

import pytest

from mushra.models import AttentionCheck, Rating
from tests.support.browser import finish_questionnaire, rate_current_trial, start_session
from tests.support.listening import open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(listener_page):
    return listener_page


@pytest.fixture
def live_test(transactional_db, tmp_path):
    return open_test(tmp_path, n_items=3, slug="blind-test", attention_checks=2)


def test_a_listener_goes_through_catch_trials_like_any_other(page, live_server, live_test):
    session = start_session(page, live_server)
    rate_current_trial(page)  # practice
    headings = []
    for _ in range(5):  # three real trials and two attention checks
        headings.append(page.locator(".mushra-head h1").inner_text())
        rate_current_trial(page)
    finish_questionnaire(page)
    page.wait_for_selector("#completion-code")
    assert [h.split(" of ")[0] for h in headings] == [f"Trial {n}" for n in range(1, 6)]
    assert all(h.startswith(f"Trial {n} of 5") for n, h in enumerate(headings, start=1))
    catch = session.trials.filter(catch=True)
    assert AttentionCheck.objects.filter(session=session).count() == 2
    assert set(AttentionCheck.objects.values_list("trial_id", flat=True)) == set(
        catch.values_list("pk", flat=True)
    )
    assert not Rating.objects.filter(trial__in=catch).exists()
    assert Rating.objects.filter(session=session).count() == 3 * 5
