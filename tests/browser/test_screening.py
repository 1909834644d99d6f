"""The screening stage in Chromium, on the real server and database: a listener sets the volume,
passes the headphone check and finishes the test; another fails it and lands on the screen-out
page with the study's code. The right answers come from the server's own rebuild of each trial
(the browser is never told them)."""

import re

import pytest

from mushra.models import HeadphoneAnswer, Rating, Session
from mushra.screening_stage import check_trial
from tests.support.browser import rate_current_trial
from tests.support.listening import open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def screened_test(transactional_db, tmp_path):
    return open_test(
        tmp_path,
        n_items=2,
        slug="screened",
        headphone_check="antiphase",
        volume_calibration=True,
        training=False,
        questionnaire=False,
        completion_code="DONE-77",
        screen_out_code="OUT-42",
        screen_out_url="https://example.org/out?cc={code}",
    )


@pytest.fixture
def page(listener_page):
    return listener_page


def _to_screening(page, live_server, pid: str) -> Session:
    page.goto(f"{live_server.url}/t/screened/?PROLIFIC_PID={pid}&STUDY_ID=study-1")
    page.click("#start")
    page.click("#agree")
    page.wait_for_selector("#calibration-play")
    token = re.search(r"/s/([^/]+)/", page.url)[1]
    return Session.objects.get(token=token)


def _set_volume(page) -> None:
    page.click("#calibration-play")
    page.wait_for_function("!document.querySelector('#volume-set').disabled")
    page.click("#volume-set")


def _answer_checks(page, session: Session, right: bool) -> None:
    for position in range(6):
        page.wait_for_selector(f"h1:text('Headphone check {position + 1} of 6')")
        page.click("#screening-play")
        page.wait_for_function(
            "[...document.querySelectorAll('.screening-choice')].every(b => !b.disabled)"
        )
        answer = check_trial(session, "antiphase", position).answer
        chosen = answer if right else (answer + 1) % 3
        page.click(f".screening-choice[data-interval='{chosen}']")


def test_a_listener_passes_the_headphone_check_and_finishes(page, live_server, screened_test):
    session = _to_screening(page, live_server, "good-listener")
    _set_volume(page)
    _answer_checks(page, session, right=True)
    page.click("#begin")  # the instructions follow a passed check
    page.wait_for_selector(".mushra-next")
    for _ in range(2):
        rate_current_trial(page)
    page.wait_for_selector("#completion-code")
    assert page.inner_text("#completion-code") == "DONE-77"
    session.refresh_from_db()
    assert (session.outcome, session.screening_passed) == ("completed", True)
    assert session.crowd == {"PROLIFIC_PID": "good-listener", "STUDY_ID": "study-1"}
    assert HeadphoneAnswer.objects.filter(session=session, correct=True).count() == 6
    assert Rating.objects.filter(session=session).exists()


def test_a_listener_who_fails_lands_on_the_screen_out_page_with_its_code(
    page, live_server, screened_test
):
    session = _to_screening(page, live_server, "speaker-listener")
    _set_volume(page)
    _answer_checks(page, session, right=False)
    page.wait_for_selector("#screen-out-code")
    assert page.inner_text("#screen-out-code") == "OUT-42"
    link = page.get_attribute("#return-link", "href")
    assert link == "https://example.org/out?cc=OUT-42"
    session.refresh_from_db()
    assert (session.stage, session.outcome, session.screening_passed) == (
        "done",
        "screened_out",
        False,
    )
    assert HeadphoneAnswer.objects.filter(session=session, correct=False).count() == 6
    assert not Rating.objects.filter(session=session).exists()
