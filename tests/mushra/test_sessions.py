"""Starting sessions at crowd scale: cost independent of stored data, quota, idle sessions giving
their items back, and a participant id that never reopens a session by itself."""

import json
import uuid
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mushra.models import ItemLoad, Rating, Session
from mushra.sessions import session_start, trial_submit
from tests.support.listening import at_trials, load_matches_trials, open_test


def start_queries(test) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        session_start(test=test)
    return [q["sql"] for q in queries.captured_queries]


def test_starting_a_session_costs_the_same_with_many_sessions_stored(db, tmp_path):
    test = open_test(tmp_path, n_items=4, trials_per_session=2, ratings_wanted=10**6)
    session_start(test=test)
    few = start_queries(test)
    for _ in range(150):
        session_start(test=test)
    many = start_queries(test)
    assert len(few) == len(many) <= 12
    # No statement reads the test's trials (no count of every trial): trials are only inserted,
    # and only those of idle sessions are read when they are given back.
    reads_of_trials = [q for q in many if q.startswith("SELECT") and '"mushra_trial"' in q]
    assert reads_of_trials == [], reads_of_trials
    assert load_matches_trials(test)


def test_a_trial_is_saved_in_a_few_statements(client, mushra_test):
    session = at_trials(mushra_test)
    trial = session.trials.get(position=1)
    ratings = {s.public_id: {"score": 100, "plays": 2} for s in trial.signals.all()}
    body = json.dumps({"trial": 1, "key": uuid.uuid4().hex, "ratings": ratings})
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/s/{session.token}/ratings", body, content_type="application/json")
    assert response.json() == {"saved": True}
    statements = [
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SAVEPOINT")
    ]
    assert len(statements) <= 9, statements  # BEGIN, 4 reads/inserts, 2 updates, COMMIT


def test_a_test_with_all_its_ratings_takes_no_more_listeners(client, db, tmp_path):
    test = open_test(tmp_path, n_items=4, ratings_wanted=2, training=False)
    for _ in range(2):
        assert client.post("/t/blind/").status_code == 302
        client.cookies.clear()
    full = client.post("/t/blind/")
    assert full.status_code == 410 and "all the ratings it needs" in full.content.decode()
    assert Session.objects.count() == 2
    # A session left idle past the test's limit gives its items back: room for one more.
    Session.objects.filter(number=1).update(last_active_at=timezone.now() - timedelta(hours=2))
    assert client.post("/t/blind/").status_code == 302
    assert Session.objects.count() == 3 and load_matches_trials(test)


def test_idle_sessions_give_their_unrated_items_back_and_a_late_rating_counts(db, tmp_path):
    test = open_test(tmp_path, n_items=4, trials_per_session=2, training=False)
    idle = at_trials(test)
    first = idle.trials.get(position=0)
    ratings = {s.public_id: {"score": 100} for s in first.signals.all()}
    trial_submit(token=idle.token, position=0, key="first-trial-key", ratings=ratings)
    Session.objects.filter(pk=idle.pk).update(last_active_at=timezone.now() - timedelta(hours=2))
    session_start(test=test)  # sweeps: the idle session's unrated trial is given back
    idle.refresh_from_db()
    assert idle.released_at is not None and load_matches_trials(test)
    rated = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
    late = idle.trials.get(position=1)
    ratings = {s.public_id: {"score": 90} for s in late.signals.all()}
    trial_submit(token=idle.token, position=1, key="late-trial-key", ratings=ratings)
    after = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
    assert after[late.utterance_id] == rated[late.utterance_id] + 1
    assert load_matches_trials(test) and Rating.objects.filter(session=idle).count() == 10


def test_previews_count_for_nothing(db, tmp_path):
    test = open_test(tmp_path, n_items=4)
    session_start(test=test, preview=True)
    assert set(ItemLoad.objects.values_list("assigned", flat=True)) == {0}


# -- a participant id is not a key -----------------------------------------------------------


def test_a_participant_id_alone_never_opens_someone_elses_session(client, mushra_test):
    link = "/t/blind/?PROLIFIC_PID=P1&STUDY_ID=S&SESSION_ID=prolific-session-1"
    started = client.post(link)
    session = Session.objects.get(participant_id="P1")
    assert started.url == f"/s/{session.token}/" and session.resume_key
    assert "prolific-session-1" not in session.resume_key  # stored hashed

    stranger = client.__class__()  # a fresh browser, no cookie
    for url in ("/t/blind/?PROLIFIC_PID=P1", "/t/blind/?PROLIFIC_PID=P1&SESSION_ID=guess"):
        for answer in (stranger.get(url), stranger.post(url)):
            assert answer.status_code == 409 and session.token not in answer.content.decode()
            assert "already started" in answer.content.decode()
    assert Session.objects.count() == 1

    elsewhere = client.__class__()  # the participant on another device, from their study page
    resumed = elsewhere.get("/t/blind/?PROLIFIC_PID=P1&SESSION_ID=prolific-session-1")
    assert resumed.status_code == 302 and resumed.url == f"/s/{session.token}/"
    assert client.get("/t/blind/?PROLIFIC_PID=P1").url == f"/s/{session.token}/"  # cookie


def test_a_second_participant_in_the_same_browser_gets_a_session_of_their_own(client, mushra_test):
    client.post("/t/blind/?PROLIFIC_PID=P1")
    first = Session.objects.get(participant_id="P1")
    page = client.get("/t/blind/?PROLIFIC_PID=P2")
    assert page.status_code == 200 and 'id="start"' in page.content.decode()
    client.post("/t/blind/?PROLIFIC_PID=P2")
    second = Session.objects.get(participant_id="P2")
    assert second.pk != first.pk


def test_a_malformed_participant_id_is_refused_in_plain_words(client, mushra_test):
    for bad in ("P%00X", "x" * 201, "line%0Abreak"):
        response = client.post(f"/t/blind/?PROLIFIC_PID={bad}")
        assert response.status_code == 400 and "not a valid id" in response.content.decode()
    assert not Session.objects.exists()


def test_the_listeners_cookie_is_httponly_and_secure_when_the_site_is_https(
    client, mushra_test, settings
):
    client.post("/t/blind/")
    cookie = client.cookies[f"mushra_session_{mushra_test.pk}"]
    assert cookie["httponly"] and not cookie["secure"]  # the embedded default is plain HTTP
    settings.LISTENER_COOKIE_SECURE = True  # what HTTPS=1 sets
    client.cookies.clear()
    client.post("/t/blind/?PROLIFIC_PID=P7")
    cookie = client.cookies[f"mushra_session_{mushra_test.pk}"]
    assert cookie["httponly"] and cookie["secure"]


def test_a_signals_audio_costs_one_query(client, mushra_test):
    session = at_trials(mushra_test)
    trial = session.trials.get(position=1)
    signals = list(trial.signals.all())
    client.get(f"/s/{session.token}/audio/{signals[0].public_id}")  # the trial's size, once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/s/{session.token}/audio/{signals[1].public_id}")
    # On PostgreSQL the lookup is a prepared statement run outside Django's query log.
    expected = 0 if connection.vendor == "postgresql" else 1
    assert response.status_code == 200 and len(queries.captured_queries) == expected
