"""The listener's MUSHRA trial player (static/mushra/) in a real browser, against a stand-in server.

The stand-in (mushra_standin.py) speaks the page contract the Django views will implement; every
signal is a distinct tone, so a test can tell from the audio output which one is audible.
``window.__mushra`` is the page's read-only test hook (position, selection, output frequency).
"""

import json
import urllib.request

import pytest

from .mushra_standin import LABELS, StandIn, make_session

pytestmark = pytest.mark.browser

HEADING = ".mushra-head h1"


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.close()


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


def open_trials(page, standin, session):
    page.goto(standin.origin + session.url)
    page.wait_for_selector(".mushra-next")


def slider(page, cond):
    return page.locator(f"input[data-condition='{cond.id}']")


def play(page, cond, key=None):
    """Makes a condition audible (by its key, or by clicking its button) for a moment."""
    if key:
        page.keyboard.press(key)
    else:
        page.locator(f"[data-pick='{cond.id}']").click()
    page.wait_for_function(f"__mushra.current() === '{cond.id}' && __mushra.playing()")
    page.wait_for_timeout(50)  # some listening time on the audio clock


def set_score(page, cond, score):
    """Sets an exact score with the keyboard, as a listener without a mouse would."""
    s = slider(page, cond)
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
    """Waits until ``trial`` is on screen with its audio loaded."""
    page.wait_for_function(
        f"document.querySelector('{HEADING}')?.textContent.startsWith({trial.title!r})"
        " && document.querySelector('.mushra-next') !== null"
    )


def finish_trial(page, trial, scores):
    wait_for_trial(page, trial)
    for k, cond in enumerate(trial.conditions):
        play(page, cond, key=str(k + 1))
        set_score(page, cond, scores[k])
    next_button(page).click()


def done_page(page):
    return page.get_by_role("heading", name="Thank you")


def wait_until(page, predicate, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        page.wait_for_timeout(50)
    raise AssertionError("condition not met in time")


def queued_in_storage(page, session):
    raw = page.evaluate(f"localStorage.getItem('mushra-queue:{session.token}')")
    return json.loads(raw) if raw else []


def test_listener_completes_practice_and_two_trials_and_each_is_posted_once(
    page, standin, console_log
):
    session = standin.add(make_session(n_real=2, n_conditions=4))
    open_trials(page, standin, session)
    expected = {}
    for trial in session.trials:
        wait_for_trial(page, trial)
        conds = trial.conditions
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
        if trial.training:  # labels only in practice; never on real trials
            assert page.get_by_text("Hidden reference", exact=True).is_visible()
            assert "not kept" in page.locator(HEADING).inner_text()
        else:
            html = page.content()
            assert not any(label in html for label in LABELS)
        expected[trial.position] = dict(
            zip([c.id for c in conds], [mouse_score, 20, 45, 100], strict=True)
        )
        next_button(page).click()

    done_page(page).wait_for()  # done_url: here the session page, which now says "Thank you"
    posts = standin.posts_for(session)
    assert [p["trial"] for p in posts] == [0, 1, 2]
    assert len({p["key"] for p in posts}) == 3
    for post in posts:
        ratings = post["ratings"]
        assert {cid: r["score"] for cid, r in ratings.items()} == expected[post["trial"]]
        assert all(r["plays"] >= 1 and r["listening_ms"] > 0 for r in ratings.values())
    assert len(standin.stored_for(session)) == 3
    # Blinding: nothing logged names what a sample is.
    assert not any(label in text for text in console_log for label in LABELS)


def test_switching_conditions_keeps_the_play_position_and_changes_what_is_heard(page, standin):
    session = standin.add(make_session(n_real=1, training=False))
    cond = session.trials[0].conditions[1]  # 500 Hz; the reference is 1000 Hz
    open_trials(page, standin, session)
    page.keyboard.press("r")
    page.wait_for_function("__mushra.playing() && __mushra.position() > 0.5")
    page.wait_for_function("Math.abs(__mushra.peakHz() - 1000) < 20")
    before = page.evaluate("[__mushra.position(), performance.now()]")
    page.keyboard.press("2")
    after = page.evaluate("[__mushra.position(), performance.now(), __mushra.current()]")
    assert after[2] == cond.id
    elapsed = (after[1] - before[1]) / 1000
    # No jump back to the start. The audio clock advances in render quanta, so two reads a few
    # milliseconds apart may show the same position on a busy machine: >=, not >.
    assert after[0] >= before[0] > 0.5
    assert abs((after[0] - before[0]) - elapsed) < 0.05
    page.wait_for_function("Math.abs(__mushra.peakHz() - 500) < 20")


def test_reload_in_the_middle_of_a_trial_resumes_on_that_trial(page, standin):
    session = standin.add(make_session(n_real=2, n_conditions=2))
    open_trials(page, standin, session)
    finish_trial(page, session.trials[0], [100, 10])
    page.wait_for_function("__mushra.queued() === 0")
    assert session.trials[0].submitted
    second = session.trials[1]
    wait_for_trial(page, second)
    play(page, second.conditions[0], key="1")
    set_score(page, second.conditions[0], 30)

    page.reload()
    page.wait_for_selector(".mushra-next")
    assert page.locator(HEADING).inner_text().startswith(second.title)
    assert slider(page, second.conditions[0]).get_attribute("data-rated") == "false"
    assert len(standin.posts_for(session)) == 1


def test_ratings_wait_on_the_device_while_the_server_is_unreachable_even_across_a_reload(
    page, standin
):
    session = standin.add(make_session(n_real=2, n_conditions=2))
    t0, t1, t2 = session.trials
    banner = page.locator(".mushra-banner")
    online = "window.dispatchEvent(new Event('online'))"
    open_trials(page, standin, session)
    finish_trial(page, t0, [100, 10])
    page.wait_for_function("__mushra.queued() === 0")

    standin.fail_posts = 503  # the server answers, but cannot save
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

    standin.lose_answers = True  # saved, but the answer is lost: the page must send it again
    sent_before = len(standin.posts_for(session))
    page.evaluate(online)
    wait_until(page, lambda: len(standin.posts_for(session)) > sent_before)
    assert banner.is_visible() and len(queued_in_storage(page, session)) == 1
    standin.fail_posts, standin.lose_answers = None, False
    page.evaluate(online)
    banner.wait_for(state="hidden")
    assert queued_in_storage(page, session) == []
    posts = [p for p in standin.posts_for(session) if p["trial"] == 1]
    assert len(posts) >= 3 and {p["key"] for p in posts} == {entry["key"]}
    assert [s["trial"] for s in standin.stored_for(session)] == [0, 1]

    standin.close()  # connection refused from now on
    finish_trial(page, t2, [100, 30])
    page.get_by_text("Saving your ratings…").wait_for()
    banner.wait_for(state="visible")
    page.evaluate("window.stillHere = true")  # gone after any navigation
    page.wait_for_timeout(1000)
    assert page.evaluate("window.stillHere") is True  # not done before the server confirmed
    assert page.get_by_text("Saving your ratings…").is_visible()
    assert [e["trial"] for e in queued_in_storage(page, session)] == [2]

    standin.reopen()
    page.evaluate(online)
    done_page(page).wait_for()
    stored = standin.stored_for(session)
    assert sorted(s["trial"] for s in stored) == [0, 1, 2]


def test_a_refused_submission_shows_the_servers_message_and_returns_to_the_trial(page, standin):
    session = standin.add(make_session(n_real=1, n_conditions=2))
    standin.reject_next = "These ratings arrived after the test was closed."
    open_trials(page, standin, session)
    finish_trial(page, session.trials[0], [100, 10])
    alert = page.locator(".mushra-alert")
    alert.wait_for(state="visible")
    assert "These ratings arrived after the test was closed." in alert.inner_text()
    page.wait_for_function(
        "document.querySelector('.mushra-head h1').textContent.startsWith('Practice')"
    )
    page.wait_for_selector(".mushra-next")
    assert queued_in_storage(page, session) == []
    assert slider(page, session.trials[0].conditions[0]).get_attribute("data-rated") == "false"

    finish_trial(page, session.trials[0], [100, 15])  # redo
    page.wait_for_function("__mushra.queued() === 0")
    assert alert.is_hidden()
    [stored] = standin.stored_for(session)
    assert stored["trial"] == 0
    assert page.locator(HEADING).inner_text().startswith(session.trials[1].title)


def test_keyboard_shortcuts_choose_samples_and_the_reference_and_toggle_playback(page, standin):
    session = standin.add(make_session(n_real=1, training=False, n_conditions=11))
    conds = session.trials[0].conditions
    open_trials(page, standin, session)
    assert page.locator(".mushra-keys").is_visible()
    assert "Samples after the 10th have no key" in page.locator(".mushra-keys").inner_text()
    pressed = "[data-pick][aria-pressed='true']"

    page.keyboard.press("3")
    page.wait_for_function("__mushra.playing()")
    assert page.locator(pressed).get_attribute("data-pick") == conds[2].id
    assert page.evaluate("__mushra.current()") == conds[2].id
    page.wait_for_function("Math.abs(__mushra.peakHz() - 700) < 20")

    page.keyboard.press("r")
    assert page.locator(pressed).get_attribute("data-pick") == "reference"
    page.wait_for_function("Math.abs(__mushra.peakHz() - 1000) < 20")

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
    assert page.evaluate("__mushra.current()") == conds[9].id
    eleventh = page.locator(f"[data-pick='{conds[10].id}']")
    assert eleventh.locator("kbd").count() == 0  # no key: its button only
    eleventh.click()
    assert page.evaluate("__mushra.current()") == conds[10].id

    # On a slider, arrows move the slider and digits still choose samples.
    page.keyboard.press("1")
    slider(page, conds[0]).focus()
    page.keyboard.press("ArrowRight")
    assert slider(page, conds[0]).input_value() == "51"
    page.keyboard.press("2")
    assert page.evaluate("__mushra.current()") == conds[1].id


def test_dragging_on_the_waveform_loops_playback_inside_the_selection(page, standin):
    session = standin.add(make_session(n_real=1, training=False))
    open_trials(page, standin, session)
    box = page.locator(".mushra-wave canvas").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=3)
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=3)
    page.mouse.up()
    page.keyboard.press("r")
    start, end = 0.2 * 3.0, 0.4 * 3.0
    seen = page.evaluate(  # every 20 ms for 1 s: longer than the 0.6 s loop
        """() => new Promise((done) => {
            const seen = [];
            const timer = setInterval(() => {
                seen.push(__mushra.position());
                if (seen.length === 50) { clearInterval(timer); done(seen); }
            }, 20);
        })"""
    )
    assert all(start - 0.01 <= p <= end + 0.01 for p in seen), seen
    assert max(seen) - min(seen) > 0.5  # it went round the whole region

    page.get_by_role("button", name="Clear loop").click()
    page.wait_for_function("__mushra.position() > 1.4")
    assert page.get_by_role("button", name="Clear loop").is_disabled()


def test_the_trial_fits_a_phone_screen_with_large_touch_targets(chromium_browser, standin):
    session = standin.add(make_session(n_real=1, n_conditions=6))
    context = chromium_browser.new_context(viewport={"width": 375, "height": 667}, has_touch=True)
    page = context.new_page()
    open_trials(page, standin, session)
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


def test_standin_serves_audio_in_byte_ranges(standin):
    session = standin.add(make_session(n_real=1, training=False))
    url = standin.origin + session.as_json()["trials"][0]["reference"]["audio"]
    req = urllib.request.Request(url, headers={"Range": "bytes=0-43"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 206
        assert resp.headers["Content-Range"].startswith("bytes 0-43/")
        header = resp.read()
    assert len(header) == 44 and header[:4] == b"RIFF" and header[8:12] == b"WAVE"
