"""A listener in Chromium: starting a session, rating a trial with the keyboard, finishing."""

import re

from mushra.models import Rating, Session, TrialSignal

SCORES = (100, 20, 35, 60, 80)  # in the order the sliders are shown


def start_session(page, live_server, slug: str = "blind-test", query: str = "") -> Session:
    """Entry link → consent → instructions: the first trial is on screen."""
    page.goto(f"{live_server.url}/t/{slug}/{query}")
    page.click("#start")
    page.click("#agree")
    page.click("#begin")
    page.wait_for_selector(".mushra-next")
    return Session.objects.get(token=re.search(r"/s/([^/]+)/", page.url)[1])


def rate_current_trial(page, scores=SCORES) -> dict[str, int]:
    """Play every sample (by its key), set ``scores``, press Next; returns id → score."""
    sliders = page.locator("input[data-condition]")
    page.wait_for_function("document.querySelectorAll('input[data-condition]').length > 0")
    ids = [sliders.nth(i).get_attribute("data-condition") for i in range(sliders.count())]
    given = {}
    for k, (signal_id, score) in enumerate(zip(ids, scores, strict=True)):
        page.keyboard.press(str(k + 1))
        page.wait_for_function(f"__mushra.current() === '{signal_id}' && __mushra.playing()")
        page.wait_for_timeout(30)
        slider = page.locator(f"input[data-condition='{signal_id}']")
        slider.focus()
        page.keyboard.press("Home" if score <= 50 else "End")
        steps = score if score <= 50 else 100 - score
        for _ in range(steps // 10):
            page.keyboard.press("PageUp" if score <= 50 else "PageDown")
        for _ in range(steps % 10):
            page.keyboard.press("ArrowRight" if score <= 50 else "ArrowLeft")
        assert slider.input_value() == str(score)
        given[signal_id] = score
    heading = page.locator(".mushra-head h1").inner_text()
    page.click(".mushra-next")
    page.wait_for_function(f"document.querySelector('.mushra-head h1')?.innerText !== {heading!r}")
    return given


def finish_questionnaire(page):
    page.wait_for_selector("#age_band")
    page.select_option("#age_band", "25-34")
    page.select_option("#headphones", "closed headphones")
    page.fill("#native_language", "English")
    page.click("#finish")


def stored(session) -> dict[str, float]:
    """The session's ratings in the database, by the signal id the page used."""
    by_condition = {
        (s.trial_id, s.condition_id): s.public_id
        for s in TrialSignal.objects.filter(trial__session=session)
    }
    return {
        by_condition[(r.trial_id, r.condition_id)]: r.score
        for r in Rating.objects.filter(session=session)
    }
