"""A scientist auditions a corpus in a real browser: plays a cell, switches to another condition
of the same utterance at the same position, stops with Space, and reads a provenance."""

import os

import pytest
from django.contrib.auth import get_user_model

from evalsite.services import member_set
from synth_workers.models import Stimulus
from tests.support.listening import open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def corpus(transactional_db, tmp_path):
    test = open_test(tmp_path / "audio", n_items=3, slug="audition")
    # One failed and one pending cell, as a half-finished synthesis job leaves them.
    zephyr = Stimulus.objects.filter(system__name="Zephyr-TTS", utterance__corpus=test.corpus)
    zephyr.filter(utterance__key="item1").update(
        status="failed", error="synthesis failed: CUDA out of memory (batch of 8)"
    )
    zephyr.filter(utterance__key="item2").update(status="pending")
    get_user_model().objects.create_user("sci", password="pw-for-tests")
    member_set(project=test.corpus.project, username="sci", role="editor")
    return test.corpus


@pytest.fixture
def page(scientist_page):
    return scientist_page


def sign_in_at_grid(page, live_server, corpus):
    page.goto(f"{live_server.url}/accounts/login/?next=/synthesis/corpora/{corpus.pk}/audition/")
    page.fill("#id_username", "sci")
    page.fill("#id_password", "pw-for-tests")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#audition-grid[data-ready=true]")


def cell(corpus, system: str, key: str = "item0") -> Stimulus:
    return Stimulus.objects.get(
        system__name=system, utterance__corpus=corpus, utterance__key=key, condition={}
    )


def test_switching_within_a_row_keeps_the_position(page, live_server, corpus):
    sign_in_at_grid(page, live_server, corpus)
    first, second = cell(corpus, corpus.recordings.name), cell(corpus, "Quokka-Voice")
    grid = page.locator("#audition-grid")

    page.click(f"button.play[data-stimulus='{first.pk}']")
    page.wait_for_function(
        f"document.getElementById('audition-grid').dataset.playing === '{first.pk}'"
    )
    page.wait_for_function(
        "Number(document.getElementById('audition-grid').dataset.position) > 0.4"
    )
    page.click(f"button.play[data-stimulus='{second.pk}']")
    assert grid.get_attribute("data-playing") == str(second.pk)
    assert float(grid.get_attribute("data-position")) > 0.4  # carried over, not restarted
    assert page.get_attribute(f"button[data-stimulus='{second.pk}']", "aria-pressed") == "true"
    assert page.get_attribute(f"button[data-stimulus='{first.pk}']", "aria-pressed") == "false"

    if os.environ.get("AUDITION_SCREENSHOT"):  # for a person checking the layout
        page.screenshot(path=os.environ["AUDITION_SCREENSHOT"], full_page=True)
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('audition-grid').dataset.playing === ''")

    other_row = cell(corpus, "Quokka-Voice", key="item1")
    page.click(f"button.play[data-stimulus='{other_row.pk}']")
    page.wait_for_function(
        f"document.getElementById('audition-grid').dataset.playing === '{other_row.pk}'"
    )
    assert float(grid.get_attribute("data-position")) < 0.3  # another row starts from 0


def test_provenance_and_failure_reason_open_in_the_panel(page, live_server, corpus):
    sign_in_at_grid(page, live_server, corpus)
    stim = cell(corpus, "Quokka-Voice")
    page.click(f"button.info[data-provenance$='/stimuli/{stim.pk}/provenance.json']")
    page.wait_for_selector("#audition-panel:not([hidden])")
    panel = page.locator("#audition-panel")
    assert stim.sha256 in panel.inner_text()
    assert "Quokka-Voice" in panel.inner_text()
    if os.environ.get("AUDITION_SCREENSHOT"):
        page.screenshot(path=os.environ["AUDITION_SCREENSHOT"].replace(".png", "-provenance.png"))

    page.click("#audition-panel .close")
    page.click("button.reason")
    page.wait_for_selector("#audition-panel:not([hidden])")
    assert "CUDA out of memory" in panel.inner_text()
    if os.environ.get("AUDITION_SCREENSHOT"):
        page.screenshot(path=os.environ["AUDITION_SCREENSHOT"].replace(".png", "-panel.png"))
