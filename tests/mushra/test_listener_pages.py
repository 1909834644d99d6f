"""The listener's server-rendered pages: entry, consent, instructions, questionnaire, done."""

import re

from mushra.markdown import render_markdown
from mushra.models import ListeningTest, Session
from mushra.sessions import session_start


def test_instructions_markdown_cannot_carry_script():
    html = render_markdown(
        "**Listen** carefully.\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2))"
        '\n\n<img src=x onerror="alert(3)">'
    )
    assert "<strong>Listen</strong>" in html
    # Tags are shown as text, and the javascript: link is not made a link at all.
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;" in html


def test_the_entry_link_walks_a_listener_to_the_trials(client, mushra_test):
    mushra_test.instructions = "Use **headphones**.<script>x()</script>"
    mushra_test.save()
    page = client.get("/t/blind/?workerId=W9")
    assert page.status_code == 200 and 'id="start"' in page.content.decode()
    response = client.post("/t/blind/?workerId=W9")
    session = Session.objects.get()
    assert (session.participant_id, session.participant_source) == ("W9", "workerId")
    assert response.url == f"/s/{session.token}/"
    assert mushra_test.consent_text[:40] in client.get(response.url).content.decode()
    client.post(f"/s/{session.token}/consent")
    instructions = client.get(response.url).content.decode()
    assert "<strong>headphones</strong>" in instructions and "<script>x()" not in instructions
    client.post(f"/s/{session.token}/begin")
    trials = client.get(response.url).content.decode()
    assert 'id="mushra-config"' in trials and "Zephyr" not in trials
    assert client.get("/t/blind/").url == response.url  # the cookie resumes the session


def test_the_questionnaire_names_what_is_missing_then_shows_the_code(client, mushra_test):
    session = session_start(test=mushra_test)
    Session.objects.filter(pk=session.pk).update(stage="questionnaire")
    response = client.post(f"/s/{session.token}/questionnaire", {"age_band": "25-34"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "headphones: choose one of the options" in page
    assert "native language: please fill it in" in page
    client.post(
        f"/s/{session.token}/questionnaire",
        {"age_band": "25-34", "headphones": "earbuds", "native_language": "German"},
    )
    done = client.get(f"/s/{session.token}/").content.decode()
    code = re.search(r'id="completion-code"[^>]*>([^<]+)<', done)[1]
    assert code == mushra_test.completion_code


def test_a_closed_or_draft_test_takes_no_listeners(client, mushra_test):
    ListeningTest.objects.filter(pk=mushra_test.pk).update(status="closed")
    page = client.get("/t/blind/")
    assert page.status_code == 404 and "not open" in page.content.decode()
    assert client.post("/t/blind/").status_code == 404
    assert not Session.objects.exists()


def test_the_admin_lists_tests_with_their_links(admin_client, mushra_test):
    page = admin_client.get("/admin/mushra/listeningtest/").content.decode()
    assert "/t/blind/" in page and f"/mushra/tests/{mushra_test.pk}/" in page
    assert (
        admin_client.get(f"/admin/mushra/listeningtest/{mushra_test.pk}/change/").status_code == 200
    )
