"""A listener's whole MUSHRA session in Chromium, on the real server and database.

Entry link → consent → instructions → practice → trials → questionnaire → completion code, with
the ratings checked in the database against what the browser set; resuming after a reload;
ratings sent while the server is unreachable arriving exactly once; and blinding: no response the
session received names a system, a stored file or the test.
"""

import re

import pytest

from mushra.models import Rating, Session, TrialSignal
from synth_workers.audio.containers import container_chunks
from synth_workers.models import Stimulus, System
from tests.support.browser import finish_questionnaire, rate_current_trial, start_session, stored
from tests.support.listening import SYSTEM_NAMES, open_test, split_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live_test(transactional_db, tmp_path):
    return open_test(
        tmp_path, n_items=3, slug="blind-test", redirect_url="https://example.org/{code}"
    )


@pytest.fixture
def page(listener_page):
    return listener_page


def test_a_listener_completes_the_test_and_the_database_holds_what_they_set(
    page, live_server, live_test
):
    session = start_session(page, live_server, query="?PROLIFIC_PID=abc123")
    assert session.participant_id == "abc123" and session.participant_source == "PROLIFIC_PID"
    practice = rate_current_trial(page)
    given = {}
    for _ in range(3):
        given |= rate_current_trial(page)
    finish_questionnaire(page)
    page.wait_for_selector("#completion-code")
    assert page.inner_text("#completion-code") == live_test.completion_code
    assert page.get_attribute("#return-link", "href") == (
        f"https://example.org/{live_test.completion_code}"
    )
    assert stored(session) == {k: float(v) for k, v in given.items()}
    assert not set(practice) & set(stored(session))  # practice ratings are not kept
    session.refresh_from_db()
    assert session.stage == "done" and session.questionnaire["native_language"] == "English"
    assert Rating.objects.filter(session=session, plays__gte=1, listening_ms__gt=0).count() == 15


def test_a_reload_in_trial_two_resumes_there_with_trial_one_saved(page, live_server, live_test):
    session = start_session(page, live_server)
    rate_current_trial(page)  # practice
    first = rate_current_trial(page)
    page.wait_for_function("document.querySelectorAll('input[data-condition]').length > 0")
    page.keyboard.press("1")  # trial 2 half done
    page.reload()
    page.wait_for_selector(".mushra-next")
    assert page.inner_text(".mushra-head h1").startswith("Trial 2 of 3")
    assert stored(session) == {k: float(v) for k, v in first.items()}
    page.goto(f"{live_server.url}/t/blind-test/")  # reopening the link (cookie) resumes too
    page.wait_for_selector(".mushra-next")
    assert page.inner_text(".mushra-head h1").startswith("Trial 2 of 3")
    assert Session.objects.count() == 1


def test_ratings_sent_while_the_server_is_unreachable_arrive_exactly_once(
    page, live_server, live_test
):
    session = start_session(page, live_server)
    rate_current_trial(page)  # practice
    page.route("**/ratings", lambda route: route.abort("connectionrefused"))
    first = rate_current_trial(page)
    banner = page.locator(".mushra-banner")
    banner.wait_for(state="visible")
    assert "You seem to be offline" in banner.inner_text()
    stored_in_browser = page.evaluate(f"localStorage.getItem('mushra-queue:{session.token}')")
    assert first and all(signal_id in stored_in_browser for signal_id in first)
    assert Rating.objects.filter(session=session).count() == 0
    page.unroute("**/ratings")
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the browser notices
    banner.wait_for(state="hidden")
    assert stored(session) == {k: float(v) for k, v in first.items()}
    assert Rating.objects.filter(session=session).count() == 5


def test_nothing_the_browser_receives_names_a_system_or_a_file(
    chromium_browser, live_server, live_test
):
    secrets = {*SYSTEM_NAMES, live_test.name, live_test.corpus.name}
    for system in System.objects.all():
        secrets |= {system.name, system.slug}
    for stimulus in Stimulus.objects.all():
        for name in (stimulus.audio.name, stimulus.source.name):
            secrets |= {name, name.rsplit("/", 1)[-1], name.rsplit("/", 1)[-1].split(".")[0]}
        secrets |= {stimulus.sha256, stimulus.source_sha256}
    # Internal keys and folders; the practice trial's generic role names ("Low anchor") are fine.
    secrets |= {"sources/", "stimuli/", "media/", "anchor_35", "anchor_70", "Quokka", "Zephyr"}
    secrets.discard("")
    seen_ids = []
    for _ in range(2):
        context = chromium_browser.new_context()
        page = context.new_page()
        bodies = []

        def keep(response, bodies=bodies):
            try:
                body = response.body()
            except Exception:  # redirects have no body
                body = b""
            bodies.append((response.url, dict(response.headers), body))

        page.on("response", keep)
        start_session(page, live_server)
        rate_current_trial(page)  # the practice trial's audio and JSON too
        page.wait_for_timeout(500)
        context.close()
        for url, headers, body in bodies:
            if "/static/" in url:
                continue  # the same code for every listener: it cannot tell samples apart
            text = url + repr(headers) + body.decode("latin-1")
            for secret in secrets:
                assert secret not in text, f"{secret!r} leaked in {url}"
        # The player fetches each trial's audio in one response (delivery.trial_bundle).
        bundles = {u: split_bundle(b) for u, _, b in bodies if re.search(r"/trials/\d+/audio$", u)}
        assert bundles and all(
            container_chunks(b) == ["STREAMINFO", "PADDING"]
            for parts in bundles.values()
            for b in parts
        )
        # FLAC padded to the trial's largest signal: the reference, the hidden reference, the
        # anchors and the systems all have one size, so the network panel cannot pick the
        # anchors out by how well they compress; STREAMINFO's frame sizes say nothing either.
        session = Session.objects.order_by("-pk").first()
        trial = session.trials.get(position=0)
        sent = bundles[f"{live_server.url}/s/{session.token}/trials/0/audio"]
        assert len(sent) == 1 + trial.signals.count() and len({len(b) for b in sent}) == 1
        assert all(b[12:18] == bytes(6) for b in sent)  # min/max frame size: unknown
        seen_ids.append(
            set(
                TrialSignal.objects.filter(trial__session=session).values_list(
                    "public_id", flat=True
                )
            )
        )
    assert not seen_ids[0] & seen_ids[1]


def test_a_bad_submission_from_a_browser_is_refused_and_stores_nothing(
    page, live_server, live_test
):
    session = start_session(page, live_server)
    trial = session.trials.get(position=1)
    signals = list(trial.signals.values_list("public_id", flat=True))
    url = f"{live_server.url}/s/{session.token}/ratings"
    cases = [
        ({s: {"score": 50} for s in signals[:-1]}, "1 of the 5 samples are not rated"),
        ({s: {"score": 150} for s in signals}, "a score must be a number from 0 to 100"),
    ]
    for ratings, message in cases:
        response = page.request.post(url, data={"trial": 1, "key": "k" * 16, "ratings": ratings})
        assert response.status == 400
        assert message in " ".join(response.json()["problems"])
    assert not Rating.objects.exists()
