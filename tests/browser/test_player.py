"""The listener's MUSHRA trial player (static/mushra/) in a real browser, on the real views.

Each test opens a real listening test (prepared audio, tests/support/listening.py) and a session at
its trials, served by Django's live server. The audio is harmonic tones, one fundamental per
system and one for the recordings (reference, hidden reference and anchors), so a test can tell
from the output which one is audible; the expected pitch is measured from the stored stimulus.
A failing server is played by routing the page's ratings POSTs (Playwright): answered with an
error status, answered with one after the real view stored them, or refused a connection.
``window.__mushra`` is the page's read-only test hook (position, selection, output frequency).
"""

import json
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile
from django.test import Client
from django.urls import reverse

from mushra.models import Condition, Rating, Trial, TrialSignal
from tests.support.listening import SYSTEM_NAMES, at_trials, open_test

pytestmark = pytest.mark.browser

HEADING = ".mushra-head h1"
ROLE_LABELS = [str(label) for _, label in Condition.Role.choices]  # shown in practice only
ONLINE = "window.dispatchEvent(new Event('online'))"  # the browser noticing the network is back


@dataclass
class Listening:
    """A session at its trials: its page, the trials as the player receives them, and what each
    opaque signal id is (its condition's role and its tone's pitch)."""

    session: object
    url: str
    trials: list[dict]  # trials.json's trials: position, training, title, conditions [{id}]
    roles: dict[str, str]
    pitch: dict[str, float]  # signal id (or "reference") -> Hz

    def ids(self, position: int) -> list[str]:
        return [c["id"] for c in self.trials[position]["conditions"]]

    def first(self, position: int, role: str) -> int:
        """Where the first signal of ``role`` sits among the trial's samples (0-based)."""
        return [self.roles[i] for i in self.ids(position)].index(role)


def pitch_of(path) -> float:
    """The strongest frequency of a stored stimulus: the fundamental of its tone."""
    data, rate = soundfile.read(path, always_2d=True)
    spectrum = np.abs(np.fft.rfft(data[:, 0]))
    return float(np.argmax(spectrum) * rate / len(data))


@pytest.fixture
def listening(transactional_db, tmp_path, live_server):
    """``listening(n_items, systems, anchors)``: a real open test of ``systems`` systems (plus the
    hidden reference and the anchors) and a new session at its trials: a practice trial, then
    one trial per item."""

    def make(n_items: int = 1, systems: int = 1, anchors=None) -> Listening:
        names = SYSTEM_NAMES[:systems] if systems <= 2 else [f"Voice-{k}" for k in range(systems)]
        options = {} if anchors is None else {"anchors": anchors}
        test = open_test(tmp_path, n_items=n_items, system_names=names, **options)
        session = at_trials(test)
        trials_url = reverse("mushra:trials", args=[session.token])
        trials = Client().get(trials_url).json()["trials"]
        signals = TrialSignal.objects.filter(trial__session=session).select_related(
            "condition", "stimulus"
        )
        roles = {s.public_id: s.condition.role for s in signals}
        pitch = {s.public_id: pitch_of(s.stimulus.audio.path) for s in signals}
        pitch["reference"] = next(
            pitch_of(s.stimulus.audio.path) for s in signals if s.condition.role == "reference"
        )
        url = f"{live_server.url}{reverse('mushra:session', args=[session.token])}"
        return Listening(session, url, trials, roles, pitch)

    return make


@pytest.fixture
def console_log():
    return []


@pytest.fixture
def page(chromium_browser, console_log):
    context = chromium_browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    page.on("console", lambda m: console_log.append(m.text))
    page.on("dialog", lambda d: d.accept())  # "leave with unsent ratings?" on a test's reload
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def posts(page):
    """Every ratings POST the page makes (body parsed), in order, whatever answers it."""
    sent = []

    def keep(request):
        if request.method == "POST" and request.url.endswith("/ratings"):
            sent.append(request.post_data_json)

    page.on("request", keep)
    return sent


def open_trials(page, listening):
    page.goto(listening.url)
    page.wait_for_selector(".mushra-next")


def slider(page, signal_id):
    return page.locator(f"input[data-condition='{signal_id}']")


def play(page, signal_id, key=None):
    """Makes a signal audible (by its key, or by clicking its button) for a moment."""
    if key:
        page.keyboard.press(key)
    else:
        page.locator(f"[data-pick='{signal_id}']").click()
    page.wait_for_function(f"__mushra.current() === '{signal_id}' && __mushra.playing()")
    page.wait_for_timeout(50)  # some listening time on the audio clock


def set_score(page, signal_id, score):
    """Sets an exact score with the keyboard, as a listener without a mouse would."""
    s = slider(page, signal_id)
    s.focus()
    start, big, small, rest = ("Home", "PageUp", "ArrowRight", score)
    if score > 50:
        start, big, small, rest = ("End", "PageDown", "ArrowLeft", 100 - score)
    # PageUp/PageDown move by a tenth of the range in Chromium and Firefox.
    for key in [start] + [big] * (rest // 10) + [small] * (rest % 10):
        page.keyboard.press(key)
    assert s.input_value() == str(score)


def next_button(page):
    return page.locator(".mushra-next")


def error_text(page):
    return page.locator(".mushra-error").inner_text()


def wait_for_trial(page, trial):
    """Waits until ``trial`` (from trials.json) is on screen with its audio loaded."""
    page.wait_for_function(
        f"document.querySelector('{HEADING}')?.textContent.startsWith({trial['title']!r})"
        " && document.querySelector('.mushra-next') !== null"
    )


def finish_trial(page, trial, scores):
    wait_for_trial(page, trial)
    for k, cond in enumerate(trial["conditions"]):
        play(page, cond["id"], key=str(k + 1))
        set_score(page, cond["id"], scores[k])
    next_button(page).click()


def questionnaire(page):
    """done_url is the session page: after the trials, it asks the questionnaire."""
    return page.locator("#age_band")


def wait_until(page, predicate, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        page.wait_for_timeout(50)
    raise AssertionError("condition not met in time")


def queued_in_storage(page, listening):
    raw = page.evaluate(f"localStorage.getItem('mushra-queue:{listening.session.token}')")
    return json.loads(raw) if raw else []


def saved(listening) -> dict[int, str]:
    """The saved trials' positions and the idempotency key each was saved under."""
    trials = Trial.objects.filter(session=listening.session, submitted_at__isnull=False)
    return dict(trials.values_list("position", "submission_key"))


def stored_scores(listening) -> dict[str, float]:
    by_condition = {
        (s.trial_id, s.condition_id): s.public_id
        for s in TrialSignal.objects.filter(trial__session=listening.session)
    }
    return {
        by_condition[(r.trial_id, r.condition_id)]: r.score
        for r in Rating.objects.filter(session=listening.session)
    }


def test_listener_completes_practice_and_two_trials_and_each_is_posted_once(
    page, listening, posts, console_log
):
    session = listening(n_items=2)  # the hidden reference, two anchors, one system
    open_trials(page, session)
    expected = {}
    for trial in session.trials:
        wait_for_trial(page, trial)
        conds = [c["id"] for c in trial["conditions"]]
        for cond in conds:  # unset and locked until played
            assert slider(page, cond).get_attribute("data-rated") == "false"
            assert slider(page, cond).is_disabled()
        next_button(page).click()
        assert "Rate all 4 samples — 4 still unrated" in error_text(page)

        play(page, conds[0])  # mouse on the sample button
        assert slider(page, conds[0]).is_enabled() and slider(page, conds[1]).is_disabled()
        box = slider(page, conds[0]).bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
        assert slider(page, conds[0]).get_attribute("data-rated") == "true"
        mouse_score = int(slider(page, conds[0]).input_value())
        assert 55 <= mouse_score <= 85
        row = page.locator(".mushra-row").nth(0)
        assert row.locator(".mushra-value").inner_text() == str(mouse_score)

        for k, score in ((1, 20), (2, 45)):
            play(page, conds[k], key=str(k + 1))
            set_score(page, conds[k], score)
        next_button(page).click()
        assert "Rate all 4 samples — 1 still unrated: Sample 4." in error_text(page)

        play(page, conds[3], key="4")
        set_score(page, conds[3], 90)
        next_button(page).click()
        assert error_text(page) == (
            "At least one sample should get 100: the hidden reference is among them."
        )
        set_score(page, conds[3], 100)
        html = page.content()
        if trial["training"]:  # labels only in practice; never on real trials
            assert page.get_by_text("Hidden reference", exact=True).is_visible()
            assert "not kept" in page.locator(HEADING).inner_text()
        else:
            assert not any(label in html for label in ROLE_LABELS)
        assert not any(name in html for name in SYSTEM_NAMES)
        expected[trial["position"]] = dict(zip(conds, [mouse_score, 20, 45, 100], strict=True))
        next_button(page).click()

    questionnaire(page).wait_for()
    assert [p["trial"] for p in posts] == [0, 1, 2]
    assert len({p["key"] for p in posts}) == 3
    for post in posts:
        ratings = post["ratings"]
        assert {cid: r["score"] for cid, r in ratings.items()} == expected[post["trial"]]
        assert all(r["plays"] >= 1 and r["listening_ms"] > 0 for r in ratings.values())
    assert saved(session) == {p["trial"]: p["key"] for p in posts}
    assert stored_scores(session) == expected[1] | expected[2]  # practice ratings are not kept
    # Blinding: nothing logged names what a sample is.
    assert not any(label in text for text in console_log for label in ROLE_LABELS)


def test_switching_conditions_keeps_the_play_position_and_changes_what_is_heard(page, listening):
    session = listening(anchors=())  # the hidden reference and a system
    system = session.first(0, "system")
    system_id = session.ids(0)[system]
    assert abs(session.pitch[system_id] - session.pitch["reference"]) > 50
    open_trials(page, session)
    page.keyboard.press("r")
    page.wait_for_function(
        f"Math.abs(__mushra.peakHz() - {session.pitch['reference']}) < 20 && __mushra.playing()"
    )
    # Well inside the signal (1.5 s, looped), so that the switch cannot straddle the wrap.
    page.wait_for_function("__mushra.position() > 0.3 && __mushra.position() < 0.8")
    before = page.evaluate("[__mushra.position(), performance.now()]")
    page.keyboard.press(str(system + 1))
    after = page.evaluate("[__mushra.position(), performance.now(), __mushra.current()]")
    assert after[2] == system_id
    elapsed = (after[1] - before[1]) / 1000
    # No jump back to the start. The audio clock advances in render quanta, so two reads a few
    # milliseconds apart may show the same position on a busy machine: >=, not >.
    assert after[0] >= before[0] > 0.3
    assert abs((after[0] - before[0]) - elapsed) < 0.05
    page.wait_for_function(f"Math.abs(__mushra.peakHz() - {session.pitch[system_id]}) < 20")


def test_reload_in_the_middle_of_a_trial_resumes_on_that_trial(page, listening, posts):
    session = listening(n_items=2, anchors=())
    practice, first = session.trials[0], session.trials[1]
    open_trials(page, session)
    finish_trial(page, practice, [100, 10])
    page.wait_for_function("__mushra.queued() === 0")
    assert list(saved(session)) == [0]
    wait_for_trial(page, first)
    play(page, session.ids(1)[0], key="1")
    set_score(page, session.ids(1)[0], 30)

    page.reload()
    page.wait_for_selector(".mushra-next")
    assert page.locator(HEADING).inner_text().startswith(first["title"])
    assert slider(page, session.ids(1)[0]).get_attribute("data-rated") == "false"
    assert len(posts) == 1


def test_ratings_wait_on_the_device_while_the_server_is_unreachable_even_across_a_reload(
    page, listening, posts
):
    session = listening(n_items=2, anchors=())
    t0, t1, t2 = session.trials
    banner = page.locator(".mushra-banner")
    open_trials(page, session)
    finish_trial(page, t0, [100, 10])
    page.wait_for_function("__mushra.queued() === 0")

    # The server answers, but cannot save (a proxy's 503 while the application is down).
    page.route("**/ratings", lambda route: route.fulfill(status=503, json={"error": "down"}))
    finish_trial(page, t1, [100, 20])
    wait_for_trial(page, t2)  # the listener carries on at once
    banner.wait_for(state="visible")
    assert "Don't close this page" in banner.inner_text()
    [entry] = queued_in_storage(page, session)
    assert entry["trial"] == 1

    page.reload()  # the queued trial counts as done: the page resumes after it
    wait_for_trial(page, t2)
    banner.wait_for(state="visible")
    assert queued_in_storage(page, session) == [entry]

    def save_then_lose_the_answer(route):  # the view stores it; its answer never arrives
        route.fetch()
        route.fulfill(status=503, json={"error": "down"})

    page.unroute("**/ratings")
    page.route("**/ratings", save_then_lose_the_answer)
    sent_before = len(posts)
    page.evaluate(ONLINE)
    wait_until(page, lambda: len(posts) > sent_before and 1 in saved(session))
    assert banner.is_visible() and len(queued_in_storage(page, session)) == 1
    page.unroute("**/ratings")
    page.evaluate(ONLINE)
    banner.wait_for(state="hidden")
    assert queued_in_storage(page, session) == []
    sent = [p for p in posts if p["trial"] == 1]
    assert len(sent) >= 3 and {p["key"] for p in sent} == {entry["key"]}
    assert saved(session)[1] == entry["key"]
    assert Rating.objects.filter(session=session.session, trial__position=1).count() == 2

    page.route("**/ratings", lambda route: route.abort("connectionrefused"))
    finish_trial(page, t2, [100, 30])
    page.get_by_text("Saving your ratings…").wait_for()
    banner.wait_for(state="visible")
    page.evaluate("window.stillHere = true")  # gone after any navigation
    page.wait_for_timeout(1000)
    assert page.evaluate("window.stillHere") is True  # not done before the server confirmed
    assert page.get_by_text("Saving your ratings…").is_visible()
    assert [e["trial"] for e in queued_in_storage(page, session)] == [2]

    page.unroute("**/ratings")
    page.evaluate(ONLINE)
    questionnaire(page).wait_for()
    assert sorted(saved(session)) == [0, 1, 2]


def test_a_refused_submission_shows_the_servers_message_and_returns_to_the_trial(page, listening):
    session = listening(anchors=())
    practice = session.trials[0]
    answers = []
    page.on("response", lambda r: r.url.endswith("/ratings") and answers.append(r))

    def spoil_once(route):  # a score the page never sends: the view refuses it
        body = route.request.post_data_json
        if not answers:
            body["ratings"][session.ids(0)[1]]["score"] = 150
        route.continue_(post_data=json.dumps(body))

    page.route("**/ratings", spoil_once)
    open_trials(page, session)
    finish_trial(page, practice, [100, 10])
    alert = page.locator(".mushra-alert")
    alert.wait_for(state="visible")
    [refusal] = answers
    assert refusal.status == 400
    message = " ".join(refusal.json()["error"].split())
    assert "a score must be a number from 0 to 100" in message
    assert message in " ".join(alert.inner_text().split())
    page.wait_for_function(
        "document.querySelector('.mushra-head h1').textContent.startsWith('Practice')"
    )
    page.wait_for_selector(".mushra-next")
    assert queued_in_storage(page, session) == []
    assert slider(page, session.ids(0)[0]).get_attribute("data-rated") == "false"
    assert saved(session) == {}

    finish_trial(page, practice, [100, 15])  # redo
    page.wait_for_function("__mushra.queued() === 0")
    assert alert.is_hidden()
    assert list(saved(session)) == [0]
    assert page.locator(HEADING).inner_text().startswith(session.trials[1]["title"])


def test_keyboard_shortcuts_choose_samples_and_the_reference_and_toggle_playback(page, listening):
    session = listening(systems=8)  # eleven samples: the tenth has key 0, the eleventh none
    conds = session.ids(0)
    assert len(conds) == 11
    system = session.first(0, "system")  # a sample that sounds unlike the reference
    open_trials(page, session)
    assert page.locator(".mushra-keys").is_visible()
    assert "Samples after the 10th have no key" in page.locator(".mushra-keys").inner_text()
    pressed = "[data-pick][aria-pressed='true']"

    page.keyboard.press(str(system + 1))
    page.wait_for_function("__mushra.playing()")
    assert page.locator(pressed).get_attribute("data-pick") == conds[system]
    assert page.evaluate("__mushra.current()") == conds[system]
    page.wait_for_function(f"Math.abs(__mushra.peakHz() - {session.pitch[conds[system]]}) < 20")

    page.keyboard.press("r")
    assert page.locator(pressed).get_attribute("data-pick") == "reference"
    page.wait_for_function(f"Math.abs(__mushra.peakHz() - {session.pitch['reference']}) < 20")

    page.keyboard.press("Space")
    assert page.evaluate("__mushra.playing()") is False
    page.keyboard.press(" ")
    assert page.evaluate("__mushra.playing()") is True

    next_button(page).focus()  # Space toggles playback; it does not press the focused button
    page.keyboard.press("Space")
    assert page.evaluate("__mushra.playing()") is False
    assert page.locator(".mushra-error").is_hidden()
    page.keyboard.press("Space")

    page.keyboard.press("0")  # the tenth sample
    assert page.evaluate("__mushra.current()") == conds[9]
    eleventh = page.locator(f"[data-pick='{conds[10]}']")
    assert eleventh.locator("kbd").count() == 0  # no key: its button only
    eleventh.click()
    assert page.evaluate("__mushra.current()") == conds[10]

    # On a slider, arrows move the slider and digits still choose samples.
    page.keyboard.press("1")
    slider(page, conds[0]).focus()
    page.keyboard.press("ArrowRight")
    assert slider(page, conds[0]).input_value() == "51"
    page.keyboard.press("2")
    assert page.evaluate("__mushra.current()") == conds[1]


def test_dragging_on_the_waveform_loops_playback_inside_the_selection(page, listening):
    session = listening(anchors=())
    open_trials(page, session)
    canvas = page.locator(".mushra-wave canvas")
    duration = float(canvas.get_attribute("aria-valuemax"))
    box = canvas.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=3)
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=3)
    page.mouse.up()
    page.keyboard.press("r")
    start, end = 0.2 * duration, 0.4 * duration
    seen = page.evaluate(  # every 20 ms for 1 s: longer than three rounds of the loop
        """() => new Promise((done) => {
            const seen = [];
            const timer = setInterval(() => {
                seen.push(__mushra.position());
                if (seen.length === 50) { clearInterval(timer); done(seen); }
            }, 20);
        })"""
    )
    assert all(start - 0.02 <= p <= end + 0.02 for p in seen), seen
    assert max(seen) - min(seen) > 0.8 * (end - start)  # it went round the whole region

    page.get_by_role("button", name="Clear loop").click()
    page.wait_for_function(f"__mushra.position() > {end + 0.3}")
    assert page.get_by_role("button", name="Clear loop").is_disabled()


def test_the_trial_fits_a_phone_screen_with_large_touch_targets(chromium_browser, listening):
    session = listening(systems=3)  # six samples
    context = chromium_browser.new_context(viewport={"width": 375, "height": 667}, has_touch=True)
    page = context.new_page()
    open_trials(page, session)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    smallest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('.mushra button, .mushra input')]"
        ".map((el) => el.getBoundingClientRect().height))"
    )
    assert smallest >= 44  # finger-sized
    page.locator("[data-pick]").nth(1).tap()
    page.wait_for_function("__mushra.playing()")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
