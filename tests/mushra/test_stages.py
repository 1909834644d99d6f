"""The listener's stage machine, enforced by the server: every endpoint called in every stage."""

import json
import uuid

import pytest

from mushra.models import Rating, Session
from mushra.sessions import STAGES, session_start
from tests.support.listening import at_trials

ANSWERS = {"age_band": "25-34", "headphones": "earbuds", "native_language": "Welsh"}


def _ratings_body(session):
    trial = session.trials.get(position=1)
    ratings = {s.public_id: {"score": 100, "plays": 1} for s in trial.signals.all()}
    return json.dumps({"trial": 1, "key": uuid.uuid4().hex, "ratings": ratings})


def _call(client, session, endpoint):
    base = f"/s/{session.token}"
    if endpoint == "page":
        return client.get(f"{base}/")
    if endpoint in ("consent", "begin"):
        return client.post(f"{base}/{endpoint}")
    if endpoint == "trials.json":
        return client.get(f"{base}/trials.json")
    if endpoint == "ratings":
        return client.post(
            f"{base}/ratings", _ratings_body(session), content_type="application/json"
        )
    if endpoint == "audio":
        public_id = session.trials.get(position=1).signals.first().public_id
        return client.get(f"{base}/audio/{public_id}")
    if endpoint == "trial audio":
        return client.get(f"{base}/trials/1/audio")
    if endpoint == "questionnaire":
        return client.post(f"{base}/questionnaire", ANSWERS)
    if endpoint == "volume set":
        body = json.dumps({"calibrated": True})
        return client.post(f"{base}/screening", body, content_type="application/json")
    if endpoint == "calibration noise":
        return client.get(f"{base}/screening/calibration")
    raise AssertionError(endpoint)


# (endpoint, stage) -> (status, stage afterwards). A repeat of a step already taken leads back
# to the session page (302) and changes nothing; a step not yet open is a 409.
ALLOWED = {
    ("consent", "consent"): (302, "instructions"),
    ("begin", "instructions"): (302, "trials"),
    ("trials.json", "trials"): (200, "trials"),
    ("ratings", "trials"): (200, "trials"),
    ("audio", "trials"): (200, "trials"),
    ("trial audio", "trials"): (200, "trials"),
    ("questionnaire", "questionnaire"): (302, "done"),
    ("volume set", "screening"): (200, "instructions"),  # this test has no headphone check
    ("calibration noise", "screening"): (200, "screening"),
}
REPEATS = {("consent", s) for s in STAGES[1:]} | {("begin", s) for s in STAGES[2:]}
REPEATS |= {("questionnaire", "done")}
# A JSON step repeated (a lost response) answers that the stage is over, and changes nothing.
JSON_REPEATS = {("volume set", s) for s in STAGES[2:]}
ENDPOINTS = ["page", "consent", "begin", "trials.json", "ratings", "audio", "trial audio"]
ENDPOINTS += ["questionnaire", "volume set", "calibration noise"]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_answers_only_in_its_stage(client, mushra_test, endpoint, stage):
    session = session_start(test=mushra_test)
    Session.objects.filter(pk=session.pk).update(stage=stage)
    response = _call(client, session, endpoint)
    after = Session.objects.get(pk=session.pk)
    if endpoint == "page":
        assert response.status_code == 200 and after.stage == stage
    elif (endpoint, stage) in ALLOWED:
        status, following = ALLOWED[(endpoint, stage)]
        assert (response.status_code, after.stage) == (status, following)
    elif (endpoint, stage) in JSON_REPEATS:
        assert response.status_code == 200 and response.json()["over"] is True
        assert after.stage == stage
    elif (endpoint, stage) in REPEATS:
        assert response.status_code == 302 and response.url == f"/s/{session.token}/"
        assert after.stage == stage
    else:
        assert response.status_code == 409, response.content[:200]
        assert after.stage == stage and after.questionnaire == {}
        if response["Content-Type"].startswith("application/json"):
            assert response.json()["stage"] == stage
        else:
            assert 'id="continue"' in response.content.decode()
    if (endpoint, stage) != ("ratings", "trials"):
        assert not Rating.objects.exists()


def test_a_client_cannot_rate_every_trial_and_finish_without_consenting(client, mushra_test):
    session = session_start(test=mushra_test)
    for trial in session.trials.all():
        ratings = {s.public_id: {"score": 100} for s in trial.signals.all()}
        body = json.dumps({"trial": trial.position, "key": uuid.uuid4().hex, "ratings": ratings})
        response = client.post(f"/s/{session.token}/ratings", body, content_type="application/json")
        assert response.status_code == 409
    assert client.post(f"/s/{session.token}/questionnaire", ANSWERS).status_code == 409
    assert Session.objects.get(pk=session.pk).stage == "consent"
    assert not Rating.objects.exists()


def test_a_resent_last_trial_after_the_questionnaire_opened_is_still_saved(client, mushra_test):
    """The answer to the last POST got lost: its retry arrives when the stage has moved on."""
    session = at_trials(mushra_test)
    bodies = {}
    for trial in session.trials.all():
        ratings = {s.public_id: {"score": 100} for s in trial.signals.all()}
        bodies[trial.position] = {
            "trial": trial.position,
            "key": uuid.uuid4().hex,
            "ratings": ratings,
        }
        response = client.post(
            f"/s/{session.token}/ratings",
            json.dumps(bodies[trial.position]),
            content_type="application/json",
        )
        assert response.status_code == 200
    assert Session.objects.get(pk=session.pk).stage == "questionnaire"
    last = max(bodies)
    again = client.post(
        f"/s/{session.token}/ratings", json.dumps(bodies[last]), content_type="application/json"
    )
    assert again.json() == {"saved": True}
    assert Rating.objects.filter(session=session).count() == 4 * 5
