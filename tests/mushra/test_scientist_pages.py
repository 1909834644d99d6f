"""Scientists build, preview, open and follow a test from its pages (signed in, members of its
project: tests/evalsite/test_access.py walks the roles)."""

from mushra.models import ListeningTest, Session
from mushra.services import SystemCondition, listening_test_create
from synth_workers.models import Stimulus, System
from tests.support.listening import prepared_corpus


def test_a_scientist_builds_previews_and_opens_a_test(admin_client, db, tmp_path):
    corpus = prepared_corpus(tmp_path, n_items=3)
    page = admin_client.get("/mushra/new/").content.decode()
    assert f"?corpus={corpus.pk}" in page
    page = admin_client.get(f"/mushra/new/?corpus={corpus.pk}").content.decode()
    assert "Zephyr-TTS" in page and "Quokka-Voice" in page
    form = admin_client.get(f"/mushra/new/?corpus={corpus.pk}").context["form"]
    values = [value for value, _ in form.fields["conditions"].choices]
    response = admin_client.post(
        f"/mushra/new/?corpus={corpus.pk}",
        {
            "name": "Naturalness",
            "slug": "",
            "question": "How natural?",
            "conditions": values,
            "anchor_low": "on",
            "anchor_mid": "on",
            "ratings_wanted": 10,
            "require_play_all": "on",
            "require_one_100": "on",
            "training": "on",
            "questionnaire": "on",
            "consent_text": "Fine?",
            "participant_params": "PROLIFIC_PID",
            "language": "en",
        },
    )
    test = ListeningTest.objects.get(slug="naturalness")
    assert response.status_code == 302 and response.url == f"/mushra/tests/{test.pk}/"
    assert sorted(test.conditions.values_list("role", flat=True)) == [
        "anchor_low",
        "anchor_mid",
        "reference",
        "system",
        "system",
    ]

    page = admin_client.get(f"/mushra/tests/{test.pk}/").content.decode()
    assert f'<form method="post" action="/mushra/tests/{test.pk}/preview">' in page
    assert admin_client.get(f"/mushra/tests/{test.pk}/preview").status_code == 405
    assert not Session.objects.exists()  # a GET (a link, a prefetch) starts nothing
    preview = admin_client.post(f"/mushra/tests/{test.pk}/preview")
    session = Session.objects.get(test=test)
    assert session.preview and preview.url == f"/s/{session.token}/"

    admin_client.post(f"/mushra/tests/{test.pk}/open")
    test.refresh_from_db()
    assert test.status == "open" and test.stimuli.count() == 5 * 3
    page = admin_client.get(f"/mushra/tests/{test.pk}/").content.decode()
    assert "/t/naturalness/" in page
    progress = admin_client.get(f"/mushra/tests/{test.pk}/progress.json").json()
    assert progress["sessions_started"] == 0  # the preview counts for nothing
    assert [i["key"] for i in progress["items"]] == ["item0", "item1", "item2"]


def test_opening_a_test_with_missing_stimuli_shows_each_problem(admin_client, db, tmp_path):
    corpus = prepared_corpus(tmp_path, n_items=2)
    test = listening_test_create(
        name="t",
        slug="t",
        corpus=corpus,
        systems=[SystemCondition(System.objects.get(name="Zephyr-TTS"))],
    )
    Stimulus.objects.filter(system__name="Zephyr-TTS", utterance__key="item1").delete()
    response = admin_client.post(f"/mushra/tests/{test.pk}/open", follow=True)
    page = response.content.decode()
    assert "no stimulus for &#x27;Zephyr-TTS&#x27; × utterance &#x27;item1&#x27;" in page
    test.refresh_from_db()
    assert test.status == "draft"


def test_listeners_cannot_reach_scientist_pages(client, mushra_test):
    for url in (
        "/mushra/new/",
        f"/mushra/tests/{mushra_test.pk}/",
    ):
        assert client.get(url).status_code == 302  # to the sign-in page
    assert client.post(f"/mushra/tests/{mushra_test.pk}/preview").status_code == 302
    assert not Session.objects.exists()


def test_preview_needs_the_csrf_token_of_the_scientists_page(admin_user, mushra_test):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    url = f"/mushra/tests/{mushra_test.pk}/preview"
    assert browser.post(url).status_code == 403  # e.g. a form on another site
    assert not Session.objects.exists()
    browser.get(f"/mushra/tests/{mushra_test.pk}/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(url, {"csrfmiddlewaretoken": token})
    session = Session.objects.get(test=mushra_test)
    assert session.preview and response.url == f"/s/{session.token}/"
