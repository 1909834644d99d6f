"""Every listener page in the test's language: rendered for a Japanese test, no page shows a word
of the English interface (only numbers, punctuation and the scientist's own texts may remain);
the player's catalogue and trial titles come in Japanese too; the scientist side stays English."""

import json
import re

import pytest

from mushra.models import ItemLoad, ListeningTest, Session
from mushra.sessions import session_start
from tests.support.i18n import english_shown, ensure_compiled, visible_text
from tests.support.listening import at_trials, open_test

INSTRUCTIONS = "静かな部屋で聞いてください。"  # the scientist's own text, shown as typed


@pytest.fixture
def ja_test(db, tmp_path):
    ensure_compiled()
    return open_test(
        tmp_path,
        slug="ja-test",
        language="ja",
        instructions=INSTRUCTIONS,
        completion_code="KODE42",
        redirect_url="https://example.org/{code}",
    )


def japanese(response, allowed: str = "") -> str:
    """The page's visible text, asserted to hold no English interface word."""
    html = response.content.decode()
    assert '<html lang="ja">' in html
    text = visible_text(html)
    assert not english_shown(text, allowed), (english_shown(text, allowed), text)
    return text


def test_every_page_of_a_session_is_in_japanese(client, ja_test):
    entry = client.get("/t/ja-test/?PROLIFIC_PID=p1")
    assert "聴取テスト" in japanese(entry)
    session_url = client.post("/t/ja-test/?PROLIFIC_PID=p1").url
    token = session_url.split("/")[2]
    consent = japanese(client.get(session_url))
    assert "音声研究のための聴取テスト" in consent  # the default consent text, translated
    wrong = client.post(f"/s/{token}/begin")  # the instructions come after the consent
    assert wrong.status_code == 409 and "先に前の手順を完了してください" in japanese(wrong)
    client.post(f"/s/{token}/consent")
    instructions = japanese(client.get(session_url), allowed=INSTRUCTIONS)
    assert INSTRUCTIONS in instructions and "どのくらい自然に聞こえますか" in instructions
    client.post(f"/s/{token}/begin")
    trials = client.get(session_url)
    japanese(trials)
    assert re.search(r'src="/jsi18n/ja/"', trials.content.decode())
    titles = [t["title"] for t in client.get(f"/s/{token}/trials.json").json()["trials"]]
    assert titles[0] == "練習" and titles[1] == "試行 1 / 4"
    Session.objects.filter(token=token).update(stage="questionnaire")
    problems = client.post(f"/s/{token}/questionnaire", {"age_band": "25-34"})
    assert problems.status_code == 400
    shown = japanese(problems)
    assert "再生機器：選択肢から1つ選んでください" in shown and "母語：入力してください" in shown
    assert "密閉型ヘッドホン" in shown and "回答しない" in shown  # the options, translated
    answers = {"age_band": "65 or over", "headphones": "earbuds", "native_language": "日本語"}
    client.post(f"/s/{token}/questionnaire", answers)
    assert Session.objects.get(token=token).questionnaire["headphones"] == "earbuds"  # stored
    done = japanese(client.get(session_url), allowed="KODE42")
    assert "すべての評価が保存されました" in done


def test_the_refusals_are_in_japanese(client, ja_test):
    refused = client.get("/t/ja-test/?PROLIFIC_PID=" + "x" * 300)
    assert refused.status_code == 400 and "有効なIDではありません" in japanese(refused)
    session_start(test=ja_test, participant_id="p2", participant_source="PROLIFIC_PID")
    taken = client.get("/t/ja-test/?PROLIFIC_PID=p2")  # another browser: no cookie
    assert taken.status_code == 409 and "すでに開始されています" in japanese(taken)
    ListeningTest.objects.filter(pk=ja_test.pk).update(ratings_wanted=1)
    ItemLoad.objects.filter(test=ja_test).update(assigned=5)
    full = client.post("/t/ja-test/?PROLIFIC_PID=p3")
    assert full.status_code == 410 and "必要な評価数に達しました" in japanese(full)
    ListeningTest.objects.filter(pk=ja_test.pk).update(status="closed")
    closed = client.get("/t/ja-test/")
    assert closed.status_code in (404, 410) and "受け付けていません" in japanese(closed)


def test_a_scientists_own_question_is_shown_as_typed(client, ja_test):
    ListeningTest.objects.filter(pk=ja_test.pk).update(question="Wie klar ist die Aussprache?")
    session = session_start(test=ja_test)
    Session.objects.filter(pk=session.pk).update(stage="instructions")
    page = client.get(f"/s/{session.token}/").content.decode()
    assert "Wie klar ist die Aussprache?" in page


def test_the_ratings_endpoint_answers_in_the_language_the_player_names(client, ja_test):
    session = at_trials(ja_test)
    body = json.dumps({"trial": 99, "key": "k" * 10, "ratings": {}})
    url = f"/s/{session.token}/ratings"
    ja = client.post(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ja")
    assert ja.status_code == 400 and ja.json()["error"] == "このセッションに試行 99 はありません"
    plain = client.post(url, body, content_type="application/json")  # another client: English
    assert plain.json()["error"] == "this session has no trial 99"


def test_the_players_catalogue_is_served_per_language(client, db):
    ensure_compiled()
    ja = client.get("/jsi18n/ja/").content.decode()
    assert all(json.dumps(v)[1:-1] in ja for v in ("非常に良い", "サンプル %(n)s"))  # \u-escaped
    assert "globals.gettext = django.gettext" in ja
    assert "Ausgezeichnet" in client.get("/jsi18n/de/").content.decode()
    assert client.get("/jsi18n/xx/").status_code == 404


def test_the_scientist_side_stays_english_after_a_listener_page(admin_client, ja_test):
    admin_client.get("/t/ja-test/")  # activates Japanese in this thread
    page = admin_client.get("/admin/").content.decode()  # Django's admin has a ja catalogue
    assert "Log out" in page and "ログアウト" not in page
