"""A listener's whole session of the types beside MUSHRA, in Chromium on the real server: ACR
(five categories per sample, no reference) and MUSHRA without reference. The stored ratings equal
what the browser set, and nothing the browser receives names a system or a stored file."""

import pytest

from synth_workers.models import Stimulus, System
from tests.support.browser import finish_questionnaire, rate_current_trial, start_session, stored
from tests.support.listening import SYSTEM_NAMES, open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CATEGORIES = [5, 1, 3]  # in the order the samples are shown: recordings and two systems
NOREF_SCORES = [20, 35, 60, 80]  # four samples, none at 100


def rate_categories(page) -> dict[str, int]:
    """Play every sample (its button), pick CATEGORIES, press Next; returns id → category."""
    page.wait_for_function("document.querySelectorAll('[role=radiogroup]').length > 0")
    groups = page.locator("[role=radiogroup]")
    ids = [groups.nth(i).get_attribute("data-condition") for i in range(groups.count())]
    next_button = page.locator(".mushra-next")
    next_button.click()  # nothing rated yet: the page says what is missing and stays
    assert "still unrated" in page.inner_text(".mushra-error")
    given = {}
    for signal_id, score in zip(ids, CATEGORIES, strict=True):
        radio = page.locator(f"[data-condition='{signal_id}'] input[data-score='{score}']")
        assert radio.is_disabled()  # unlocked by playing the sample
        page.click(f"[data-pick='{signal_id}']")
        page.wait_for_function(f"__mushra.current() === '{signal_id}' && __mushra.playing()")
        page.wait_for_timeout(30)
        radio.check()
        given[signal_id] = score
    heading = page.locator(".mushra-head h1").inner_text()
    next_button.click()
    page.wait_for_function(f"document.querySelector('.mushra-head h1')?.innerText !== {heading!r}")
    return given


def secrets_of(test) -> set[str]:
    found = {*SYSTEM_NAMES, test.name, test.corpus.name, "Quokka", "Zephyr", "Recordings"}
    for system in System.objects.all():
        found |= {system.name, system.slug}
    for stimulus in Stimulus.objects.all():
        for name in (stimulus.audio.name, stimulus.source.name):
            found |= {name, name.rsplit("/", 1)[-1], name.rsplit("/", 1)[-1].split(".")[0]}
        found |= {stimulus.sha256, stimulus.source_sha256}
    return found - {""}


def watch(page) -> list:
    bodies = []

    def keep(response):
        try:
            body = response.body()
        except Exception:  # redirects have no body
            body = b""
        bodies.append((response.url, repr(dict(response.headers)), body))

    page.on("response", keep)
    return bodies


def assert_blind(bodies, secrets):
    for url, headers, body in bodies:
        if "/static/" in url:
            continue  # the same code for every listener: it cannot tell samples apart
        text = url + headers + body.decode("latin-1")
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked in {url}"


def test_a_listener_completes_an_acr_test_and_the_database_holds_their_categories(
    listener_page, live_server, transactional_db, tmp_path
):
    test = open_test(tmp_path, n_items=2, slug="acr-live", test_type="acr")
    page = listener_page
    bodies = watch(page)
    session = start_session(page, live_server, "acr-live")
    assert not page.locator("[data-pick=reference]").count()  # no reference to compare with
    assert "rate it on its own" in page.inner_text(".mushra-head")
    labels = page.locator("[role=radiogroup]").first.inner_text()
    assert labels.split() == ["5", "Excellent", "4", "Good", "3", "Fair", "2", "Poor", "1", "Bad"]
    rate_categories(page)  # practice: not kept
    given = {}
    for _ in range(2):
        given |= rate_categories(page)
    finish_questionnaire(page)
    page.wait_for_selector("#completion-code")
    assert stored(session) == {k: float(v) for k, v in given.items()}
    assert_blind(bodies, secrets_of(test))


def test_a_listener_completes_an_smos_test_rating_voices_against_the_reference(
    listener_page, live_server, transactional_db, tmp_path
):
    test = open_test(tmp_path, n_items=2, slug="smos-live", test_type="smos")
    page = listener_page
    bodies = watch(page)
    session = start_session(page, live_server, "smos-live")
    assert page.locator("[data-pick=reference]").count() == 1  # the target speaker's recording
    assert "how similar the voice" in page.inner_text(".mushra-head")
    labels = page.locator("[role=radiogroup]").first.inner_text()
    assert "5 Extremely similar" in labels and "1 Not at all similar" in labels
    rate_categories(page)  # practice: not kept
    given = {}
    for _ in range(2):
        given |= rate_categories(page)
    finish_questionnaire(page)
    page.wait_for_selector("#completion-code")
    assert stored(session) == {k: float(v) for k, v in given.items()}
    assert_blind(bodies, secrets_of(test))


def test_a_listener_completes_mushra_without_reference(
    listener_page, live_server, transactional_db, tmp_path
):
    test = open_test(tmp_path, n_items=2, slug="noref-live", test_type="mushra_noref")
    page = listener_page
    bodies = watch(page)
    session = start_session(page, live_server, "noref-live")
    assert not page.locator("[data-pick=reference]").count()
    assert "There is no reference" in page.inner_text(".mushra-head")
    page.keyboard.press("r")  # R chooses nothing here: no reference
    assert page.evaluate("__mushra.current()") != "reference"
    rate_current_trial(page, NOREF_SCORES)  # practice; no sample at 100 and none is asked for
    given = {}
    for _ in range(2):
        given |= rate_current_trial(page, NOREF_SCORES)
    finish_questionnaire(page)
    page.wait_for_selector("#completion-code")
    assert stored(session) == {k: float(v) for k, v in given.items()}
    assert_blind(bodies, secrets_of(test) | {"anchor_35", "anchor_70"})


# The answer each pair type's test picks (its index on screen) and the ratings it must store.
PAIR_ANSWERS = {"cmos": (5, (-2.0, 2.0)), "ab": (1, (0.5, 0.5)), "abx": (0, (1.0, 0.0))}


def answer_pair(page, test_type: str) -> None:
    """Hear every sample (X too), pick the type's answer, press Next."""
    page.wait_for_selector("[data-pair] input")
    next_button = page.locator(".mushra-next")
    next_button.click()  # no answer yet: the page says so and stays
    assert "Choose an answer." in page.inner_text(".mushra-error")
    picks = page.locator("[data-pick]")
    keys = [picks.nth(i).get_attribute("data-pick") for i in range(picks.count())]
    assert len(keys) == (3 if test_type == "abx" else 2)
    for key in keys:
        assert page.locator("[data-pair] input").first.is_disabled()  # all must be heard first
        page.click(f"[data-pick='{key}']")
        page.wait_for_function(f"__mushra.current() === '{key}' && __mushra.playing()")
        page.wait_for_timeout(30)
    index, _ = PAIR_ANSWERS[test_type]
    page.locator(f"[data-pair] input[data-choice='{index}']").check()
    heading = page.locator(".mushra-head h1").inner_text()
    next_button.click()
    page.wait_for_function(f"document.querySelector('.mushra-head h1')?.innerText !== {heading!r}")


@pytest.mark.parametrize("test_type", ["cmos", "ab", "abx"])
def test_a_listener_completes_a_pair_test_and_each_pair_stores_its_answer(
    listener_page, live_server, transactional_db, tmp_path, test_type
):
    slug = f"{test_type}-live"
    test = open_test(tmp_path, n_items=2, slug=slug, test_type=test_type)
    page = listener_page
    bodies = watch(page)
    session = start_session(page, live_server, slug)
    assert ("same as A or as B" in page.inner_text(".mushra-head")) is (test_type == "abx")
    for _ in range(3):  # the practice pair, then one pair (two systems) per utterance
        answer_pair(page, test_type)
    finish_questionnaire(page)
    page.wait_for_selector("#completion-code")
    _, (a_score, b_score) = PAIR_ANSWERS[test_type]
    for trial in session.trials.filter(training=False):
        a, b = trial.signals.order_by("order")
        scores = dict(trial.ratings.values_list("condition_id", "score"))
        assert scores == {a.condition_id: a_score, b.condition_id: b_score}
    assert session.ratings.count() == 2 * 2
    assert_blind(bodies, secrets_of(test))
