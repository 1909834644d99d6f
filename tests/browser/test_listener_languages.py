"""A whole listener session in Japanese, in Chromium on the real server: entry, consent,
instructions, practice, every trial, questionnaire, completion code. No page, the player's labels,
buttons and scale included, shows a word of the English interface."""

import pytest

from mushra.models import Session
from tests.support.browser import rate_current_trial
from tests.support.i18n import english_shown, ensure_compiled
from tests.support.listening import open_test

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CODE = "KODE42"  # the scientist's completion code: shown as typed


@pytest.fixture
def ja_test(transactional_db, tmp_path):
    ensure_compiled()
    return open_test(tmp_path, n_items=2, slug="ja-test", language="ja", completion_code=CODE)


@pytest.fixture
def page(listener_page):
    return listener_page


def shown_in_japanese(page) -> str:
    """What the listener sees now (the title too), asserted free of English interface words."""
    assert page.get_attribute("html", "lang") == "ja"
    text = page.evaluate("document.title + '\\n' + document.body.innerText")
    assert not english_shown(text, allowed=CODE), (english_shown(text, allowed=CODE), text)
    return text


def test_a_whole_session_in_japanese_shows_no_english(page, live_server, ja_test):
    page.goto(f"{live_server.url}/t/ja-test/?PROLIFIC_PID=ja1")
    assert "聴取テスト" in shown_in_japanese(page)
    page.click("#start")
    page.wait_for_selector("#agree")
    assert "音声研究のための聴取テスト" in shown_in_japanese(page)  # the default consent
    page.click("#agree")
    page.wait_for_selector("#begin")
    assert "テストの進め方" in shown_in_japanese(page)
    page.click("#begin")
    page.wait_for_selector(".mushra-next")
    practice = shown_in_japanese(page)
    for label in ("練習", "参照音声", "サンプル 1", "再生", "スペース", "次へ", "未評価"):
        assert label in practice
    for band in ("非常に悪い", "悪い", "普通", "良い", "非常に良い"):  # the BS.1534 scale
        assert band in practice
    assert "隠れた参照音声" in practice and "低品質アンカー" in practice  # practice names roles
    page.click(".mushra-next")  # nothing rated yet: the player says what is missing
    page.wait_for_selector(".mushra-error:not([hidden])")
    assert "すべてのサンプルを評価してください" in shown_in_japanese(page)
    rate_current_trial(page)
    trials = Session.objects.get(participant_id="ja1").trials.filter(training=False).count()
    for number in range(1, trials + 1):
        page.wait_for_selector(".mushra-next")
        shown = shown_in_japanese(page)
        assert f"試行 {number} / {trials}" in shown
        assert page.locator(".mushra-label").count() == 0  # roles are named in practice only
        rate_current_trial(page)
    page.wait_for_selector("#age_band")
    assert "いくつかの質問" in shown_in_japanese(page)
    assert page.inner_text("#headphones option[value='closed headphones']") == "密閉型ヘッドホン"
    page.select_option("#age_band", "25-34")
    page.select_option("#headphones", "closed headphones")
    page.fill("#native_language", "日本語")
    page.click("#finish")
    page.wait_for_selector("#completion-code")
    assert "すべての評価が保存されました" in shown_in_japanese(page)
    session = Session.objects.get(participant_id="ja1")
    assert session.stage == "done" and session.questionnaire["headphones"] == "closed headphones"
