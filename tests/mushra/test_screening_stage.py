"""The screening stage (volume calibration, headphone checks), session outcomes (screened out,
timed out) with their codes, and the crowdsourcing site's ids: on the real database, through the
listener's endpoints."""

import io
import json
import re
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import numpy as np
import pytest
import soundfile as sf
from django.utils import timezone

from evalsite.errors import InputError
from mushra.models import HeadphoneAnswer, ItemLoad, ListeningTest, Rating, Session
from mushra.screening_stage import check_trial
from mushra.services import SystemCondition, listening_test_create
from mushra.sessions import session_consent, session_start
from synth_workers.models import System
from tests.support.listening import SYSTEM_NAMES, at_trials, open_test, prepared_corpus

CODES = dict(
    completion_code="DONE-1",
    redirect_url="https://example.org/done?cc={code}",
    screen_out_code="SCREEN-2",
    screen_out_url="https://example.org/out?cc={code}",
    time_out_code="LATE-3",
    time_out_url="https://example.org/late?cc={code}",
)


@pytest.fixture
def checked_test(db, tmp_path):
    return open_test(
        tmp_path, headphone_check="both", volume_calibration=True, training=False, **CODES
    )


def _consented(test) -> Session:
    session = session_start(test=test)
    session_consent(session=session)
    session.refresh_from_db()
    return session


def _post(client, session, body) -> object:
    return client.post(
        f"/s/{session.token}/screening", json.dumps(body), content_type="application/json"
    )


def _answer_all(client, session, wrong: dict[str, int]) -> list:
    """Answer every trial of the session's checks, `wrong[kind]` of them wrongly."""
    replies = []
    for kind in ("antiphase", "huggins"):
        for position in range(6):
            right = check_trial(session, kind, position).answer
            answer = (right + 1) % 3 if position < wrong.get(kind, 0) else right
            body = {"kind": kind, "position": position, "answer": answer}
            replies.append(_post(client, session, body))
    return replies


def _load(test) -> int:
    return sum(ItemLoad.objects.filter(test=test).values_list("assigned", flat=True))


def test_consent_leads_to_the_screening_only_when_the_test_has_one(checked_test, tmp_path):
    assert _consented(checked_test).stage == "screening"
    plain = open_test(tmp_path / "plain", slug="plain", system_names=("Alpha", "Beta"))
    assert _consented(plain).stage == "instructions"


def test_a_listener_who_answers_well_goes_on_to_the_instructions(client, checked_test):
    session = _consented(checked_test)
    page = client.get(f"/s/{session.token}/").content.decode()
    assert 'id="screening-config"' in page
    assert _post(client, session, {"calibrated": True}).json()["over"] is False
    replies = _answer_all(client, session, wrong={"antiphase": 1, "huggins": 1})  # 5 of 6 each
    assert [r.status_code for r in replies] == [200] * 12
    assert [r.json()["over"] for r in replies] == [False] * 11 + [True]
    session.refresh_from_db()
    assert (session.stage, session.screening_passed, session.outcome) == ("instructions", True, "")
    answers = HeadphoneAnswer.objects.filter(session=session)
    assert answers.count() == 12 and answers.filter(correct=False).count() == 2


def test_a_listener_who_fails_is_screened_out_with_the_code_and_gives_the_items_back(
    client, checked_test
):
    session = _consented(checked_test)
    held = _load(checked_test)
    assert held > 0
    replies = _answer_all(client, session, wrong={"huggins": 2})  # antiphase 6/6, huggins 4/6
    assert replies[-1].json()["over"] is True
    session.refresh_from_db()
    assert (session.stage, session.outcome, session.screening_passed) == (
        "done",
        "screened_out",
        False,
    )
    assert session.finished_at is not None and session.released_at is not None
    assert _load(checked_test) == held - len(checked_test.chosen_utterances())
    page = client.get(f"/s/{session.token}/").content.decode()
    assert "SCREEN-2" in page and "https://example.org/out?cc=SCREEN-2" in page
    assert "DONE-1" not in page
    # Its trials are closed for good.
    trials = client.get(f"/s/{session.token}/trials.json")
    assert trials.status_code == 409


def test_the_pass_mark_is_the_tests(client, db, tmp_path):
    test = open_test(tmp_path, headphone_check="antiphase", headphone_pass_at=4, training=False)
    session = _consented(test)
    for position in range(6):
        right = check_trial(session, "antiphase", position).answer
        answer = (right + 2) % 3 if position < 2 else right
        _post(client, session, {"kind": "antiphase", "position": position, "answer": answer})
    session.refresh_from_db()
    assert session.stage == "instructions" and session.screening_passed is True


def test_an_answer_sent_again_changes_nothing_and_a_changed_answer_is_refused(client, checked_test):
    session = _consented(checked_test)
    right = check_trial(session, "antiphase", 0).answer
    body = {"kind": "antiphase", "position": 0, "answer": right}
    assert _post(client, session, body).status_code == 200
    assert _post(client, session, body).status_code == 200
    changed = _post(client, session, {**body, "answer": (right + 1) % 3})
    assert changed.status_code == 400 and "already answered" in changed.json()["error"]
    assert list(HeadphoneAnswer.objects.values_list("answer", "correct")) == [(right, True)]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "stereo", "position": 0, "answer": 0},
        {"kind": "antiphase", "position": 6, "answer": 0},
        {"kind": "antiphase", "position": -1, "answer": 0},
        {"kind": "antiphase", "position": 0, "answer": 3},
        {"kind": "antiphase", "position": 0, "answer": True},
        {"kind": "antiphase", "position": "0", "answer": 0},
        {"kind": "antiphase\x00", "position": 0, "answer": 0},
        {"kind": "antiphase", "position": 2**40, "answer": 0},
        {"calibrated": "yes"},
        {},
    ],
)
def test_hostile_answers_are_a_400_that_stores_nothing(client, checked_test, body):
    session = _consented(checked_test)
    response = _post(client, session, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert not HeadphoneAnswer.objects.exists()
    assert Session.objects.get(pk=session.pk).stage == "screening"


def test_a_body_that_is_not_a_json_object_is_a_400(client, checked_test):
    session = _consented(checked_test)
    for raw in (b"[1, 2]", b"\xff\xfe", b"{", b"x" * 70_000):
        response = client.post(
            f"/s/{session.token}/screening", raw, content_type="application/json"
        )
        assert response.status_code in (400, 413)
    assert not HeadphoneAnswer.objects.exists()


def test_answers_outside_the_screening_are_a_409(client, checked_test):
    session = session_start(test=checked_test)  # not consented yet
    body = {"kind": "antiphase", "position": 0, "answer": 0}
    assert _post(client, session, body).status_code == 409
    at_instructions = _consented(checked_test)
    Session.objects.filter(pk=at_instructions.pk).update(stage="instructions")
    assert _post(client, at_instructions, body).status_code == 409
    assert not HeadphoneAnswer.objects.exists()


def test_calibration_alone_ends_the_screening(client, db, tmp_path):
    test = open_test(tmp_path, volume_calibration=True)
    session = _consented(test)
    config = _config(client, session)
    assert config["calibration"] and config["trials"] == []
    noise = client.get(config["calibration"])
    assert noise["Content-Type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(noise.content))
    assert audio.shape[1] == 2 and rate == 44_100
    assert _post(client, session, {"calibrated": True}).json()["over"] is True
    assert Session.objects.get(pk=session.pk).stage == "instructions"


def _config(client, session) -> dict:
    page = client.get(f"/s/{session.token}/").content.decode()
    found = re.search(r'<script id="screening-config" type="application/json">(.*?)</script>', page)
    return json.loads(found[1])


def test_the_page_and_the_audio_do_not_tell_the_answer(client, checked_test):
    session = _consented(checked_test)
    config = _config(client, session)
    assert len(config["trials"]) == 12 and config["total"] == 12
    assert "answer" not in json.dumps(config["trials"])
    for trial in config["trials"][:3] + config["trials"][6:9]:
        expected = check_trial(session, trial["kind"], trial["position"])
        bodies = [client.get(url) for url in trial["audio"]]
        assert {b["Content-Type"] for b in bodies} == {"audio/wav"}
        assert len({len(b.content) for b in bodies}) == 1  # equal sizes, whichever is right
        for body, interval in zip(bodies, expected.intervals, strict=True):
            served, rate = sf.read(io.BytesIO(body.content), dtype="float32")
            assert rate == interval.sample_rate and served.shape == interval.samples.shape
            assert np.max(np.abs(served - interval.samples)) < 1e-4
        assert not any(name in b.content for b in bodies for name in (b"antiphase", b"huggins"))
    # A second session gets other orders: the answer is not a property of the URL.
    other = _config(client, _consented(checked_test))
    assert [t["audio"] for t in other["trials"]] != [t["audio"] for t in config["trials"]]


def test_a_reload_resumes_at_the_first_unanswered_trial(client, checked_test):
    session = _consented(checked_test)
    for position in range(3):
        answer = check_trial(session, "antiphase", position).answer
        _post(client, session, {"kind": "antiphase", "position": position, "answer": answer})
    config = _config(client, session)
    assert config["calibration"] is None  # the volume was set before the first answer
    assert [(t["kind"], t["position"]) for t in config["trials"][:2]] == [
        ("antiphase", 3),
        ("antiphase", 4),
    ]
    assert len(config["trials"]) == 9


def test_screening_audio_is_served_only_during_the_screening(client, checked_test):
    session = _consented(checked_test)
    url = _config(client, session)["trials"][0]["audio"][0]
    Session.objects.filter(pk=session.pk).update(stage="instructions")
    assert client.get(url).status_code == 409
    Session.objects.filter(pk=session.pk).update(stage="screening")
    assert client.get(url.rsplit("/", 1)[0] + "/3").status_code == 404
    assert client.get(url.replace("/antiphase/", "/mono/")).status_code == 404


# --- Time limit ---------------------------------------------------------------------------------


def _expire(session, minutes: int) -> None:
    Session.objects.filter(pk=session.pk).update(
        consented_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_a_session_past_the_time_limit_ends_with_the_time_out_code(client, db, tmp_path):
    test = open_test(tmp_path, time_limit_minutes=30, training=False, **CODES)
    session = at_trials(test)
    held = _load(test)
    _expire(session, 29)
    assert client.get(f"/s/{session.token}/").status_code == 200
    assert Session.objects.get(pk=session.pk).stage == "trials"
    _expire(session, 31)
    page = client.get(f"/s/{session.token}/").content.decode()
    assert "LATE-3" in page and "https://example.org/late?cc=LATE-3" in page
    session.refresh_from_db()
    assert (session.stage, session.outcome) == ("done", "timed_out")
    assert _load(test) == held - len(test.chosen_utterances())


def test_ratings_sent_after_the_time_limit_are_refused_and_end_the_session(client, db, tmp_path):
    test = open_test(tmp_path, time_limit_minutes=10, training=False, **CODES)
    session = at_trials(test)
    first = session.trials.get(position=0)
    body = {
        "trial": 0,
        "key": uuid.uuid4().hex,
        "ratings": {s.public_id: {"score": 100} for s in first.signals.all()},
    }
    saved = client.post(f"/s/{session.token}/ratings", json.dumps(body), "application/json")
    assert saved.status_code == 200
    _expire(session, 11)
    # A retry of the saved trial (its answer was lost) is still "saved", past the limit too.
    retry = client.post(f"/s/{session.token}/ratings", json.dumps(body), "application/json")
    assert retry.json() == {"saved": True}
    assert Session.objects.get(pk=session.pk).stage == "trials"
    second = session.trials.get(position=1)
    late = {**body, "trial": 1, "key": uuid.uuid4().hex}
    late["ratings"] = {s.public_id: {"score": 100} for s in second.signals.all()}
    refused = client.post(f"/s/{session.token}/ratings", json.dumps(late), "application/json")
    assert refused.status_code == 409 and refused.json()["stage"] == "done"
    session.refresh_from_db()
    assert (session.stage, session.outcome) == ("done", "timed_out")
    assert Rating.objects.filter(trial=first).count() == first.signals.count()  # kept
    assert not Rating.objects.filter(trial=second).exists()
    # The earlier trial's retry still answers "saved" (its response was lost, not the rating).
    again = client.post(f"/s/{session.token}/ratings", json.dumps(body), "application/json")
    assert again.json() == {"saved": True}


def test_a_preview_never_runs_out_of_time(client, db, tmp_path):
    test = open_test(tmp_path, time_limit_minutes=1)
    session = session_start(test=test, preview=True)
    session_consent(session=session)
    _expire(session, 100)
    client.get(f"/s/{session.token}/")
    assert Session.objects.get(pk=session.pk).stage == "instructions"


def test_a_completed_session_shows_the_completion_code_only(client, db, tmp_path):
    test = open_test(tmp_path, training=False, questionnaire=False, **CODES)
    session = at_trials(test)
    for trial in session.trials.all():
        ratings = {s.public_id: {"score": 100} for s in trial.signals.all()}
        body = {"trial": trial.position, "key": uuid.uuid4().hex, "ratings": ratings}
        client.post(f"/s/{session.token}/ratings", json.dumps(body), "application/json")
    session.refresh_from_db()
    assert (session.stage, session.outcome) == ("done", "completed")
    page = client.get(f"/s/{session.token}/").content.decode()
    assert "DONE-1" in page and "SCREEN-2" not in page and "LATE-3" not in page


# --- The crowdsourcing site's ids ---------------------------------------------------------------


def test_prolific_and_mturk_ids_are_stored_with_the_session(client, db, tmp_path):
    test = open_test(tmp_path)
    query = "?PROLIFIC_PID=pp1&STUDY_ID=st2&SESSION_ID=se3&other=x"
    response = client.post(f"/t/{test.slug}/{query}")
    assert response.status_code == 302
    session = Session.objects.get(participant_id="pp1")
    assert session.crowd == {"PROLIFIC_PID": "pp1", "STUDY_ID": "st2", "SESSION_ID": "se3"}
    mturk = "?workerId=w9&assignmentId=a8&hitId=h7"
    client.cookies.clear()
    client.post(f"/t/{test.slug}/{mturk}")
    assert Session.objects.get(participant_id="w9").crowd == {
        "workerId": "w9",
        "assignmentId": "a8",
        "hitId": "h7",
    }


def test_an_mturk_preview_cannot_start_a_session(client, db, tmp_path):
    test = open_test(tmp_path)
    query = "?workerId=w1&assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE&hitId=h1"
    for method in (client.get, client.post):
        response = method(f"/t/{test.slug}/{query}")
        assert response.status_code == 400
        assert "accept the task first" in response.content.decode()
    assert not Session.objects.exists()


@pytest.mark.parametrize("value", ["a\x00b", "x" * 201, "tab\there"])
def test_a_hostile_crowd_id_is_refused_and_starts_nothing(client, db, tmp_path, value):
    test = open_test(tmp_path)
    response = client.post(f"/t/{test.slug}/?" + urlencode({"STUDY_ID": value}))
    assert response.status_code == 400
    assert "STUDY_ID" in response.content.decode()
    assert not Session.objects.exists()


# --- The options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, named",
    [
        ({"headphone_pass_at": 7}, "headphone_pass_at"),
        ({"headphone_pass_at": 0}, "headphone_pass_at"),
        ({"attention_checks": 6}, "attention_checks"),
        ({"time_limit_minutes": 0}, "time_limit_minutes"),
        ({"time_limit_minutes": 2**40}, "time_limit_minutes"),
        ({"headphone_check": "mono"}, "headphone_check"),
        ({"language": "xx"}, "language"),
    ],
)
def test_options_out_of_range_are_refused_by_name(db, tmp_path, options, named):
    corpus = prepared_corpus(tmp_path, 2)
    systems = [SystemCondition(System.objects.get(name=SYSTEM_NAMES[0]))]
    with pytest.raises(InputError) as caught:
        listening_test_create(name="T", slug="t", corpus=corpus, systems=systems, **options)
    assert any(p.startswith(named) for p in caught.value.problems)


def test_the_new_test_form_sets_the_crowdsourcing_options(admin_client, db, tmp_path):
    corpus = prepared_corpus(tmp_path, n_items=2)
    url = f"/mushra/new/?corpus={corpus.pk}"
    page = admin_client.get(url).content.decode()
    assert 'id="crowd-options"' in page and 'name="headphone_check"' in page
    form = admin_client.get(url).context["form"]
    base = {
        "name": "Crowd",
        "slug": "crowd",
        "question": "How natural?",
        "conditions": [value for value, _ in form.fields["conditions"].choices],
        "ratings_wanted": 10,
        "consent_text": "Fine?",
        "participant_params": "PROLIFIC_PID",
        "language": "ja",
        "headphone_check": "both",
        "headphone_pass_at": 6,
        "volume_calibration": "on",
        "attention_checks": 2,
        "time_limit_minutes": 45,
        "screen_out_code": "OUT",
        "screen_out_url": "https://example.org/out?cc={code}",
    }
    refused = admin_client.post(url, {**base, "headphone_pass_at": 7, "attention_checks": 9})
    assert (
        refused.status_code == 200
        and "open" in refused.content.decode().split('id="crowd-options"')[1][:10]
    )
    assert not ListeningTest.objects.exists()
    assert admin_client.post(url, base).status_code == 302
    test = ListeningTest.objects.get(slug="crowd")
    assert (
        test.language,
        test.headphone_check,
        test.headphone_pass_at,
        test.volume_calibration,
        test.attention_checks,
        test.time_limit_minutes,
        test.screen_out_url,
    ) == ("ja", "both", 6, True, 2, 45, "https://example.org/out?cc={code}")
