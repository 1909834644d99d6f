"""Building and opening a test, starting sessions, saving ratings: the server side of MUSHRA."""

import io
import uuid

import numpy as np
import pytest

from evalsite.errors import InputError
from mushra.models import Rating, Session, Trial
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from mushra.sessions import ParticipantTaken, session_start
from synth_workers.audio import read_audio
from synth_workers.audio.containers import container_chunks as audio_chunks_of
from synth_workers.audio.containers import flac_blocks
from synth_workers.models import Stimulus, System
from tests.support.listening import (
    SYSTEM_NAMES,
    at_trials,
    full_ratings,
    open_test,
    post_ratings,
    prepared_corpus,
    split_bundle,
)


def systems():
    return [SystemCondition(System.objects.get(name=n)) for n in SYSTEM_NAMES]


def test_opening_lists_every_missing_stimulus(db, tmp_path):
    corpus = prepared_corpus(tmp_path, n_items=3)
    Stimulus.objects.filter(system__name="Quokka-Voice", utterance__key="item1").delete()
    Stimulus.objects.filter(system__name="Zephyr-TTS", utterance__key="item2").update(
        status="pending"
    )
    test = listening_test_create(name="t", slug="t", corpus=corpus, systems=systems())
    with pytest.raises(InputError) as caught:
        listening_test_open(test=test)
    assert caught.value.problems == [
        "the stimulus for 'Zephyr-TTS' × utterance 'item2' is Waiting for preparation",
        "no stimulus for 'Quokka-Voice' × utterance 'item1'",
    ]
    test.refresh_from_db()
    assert test.status == "draft" and not test.stimuli.exists()


def test_more_than_twelve_signals_or_mixed_policies_are_refused(db, tmp_path):
    corpus = prepared_corpus(tmp_path, n_items=2)
    many = [
        SystemCondition(System.objects.get(name="Zephyr-TTS"), {}, f"copy {i}") for i in range(10)
    ]
    test = listening_test_create(name="big", slug="big", corpus=corpus, systems=many)
    with pytest.raises(InputError) as caught:
        listening_test_open(test=test)
    assert "13 signals per trial" in caught.value.problems[0]

    Stimulus.objects.filter(system__name="Quokka-Voice").update(
        policy_key="other", sample_rate=44100
    )
    test = listening_test_create(name="mixed", slug="mixed", corpus=corpus, systems=systems())
    with pytest.raises(InputError) as caught:
        listening_test_open(test=test)
    assert "sample rates [44100, 48000]" in caught.value.problems[0]


def test_a_corpus_without_recordings_cannot_make_a_test(db, tmp_path):
    corpus = prepared_corpus(tmp_path, n_items=2)
    corpus.recordings = None
    corpus.save()
    with pytest.raises(InputError, match="no recordings"):
        listening_test_create(name="t", slug="t", corpus=corpus, systems=systems())


def test_sessions_get_every_condition_under_ids_of_their_own(mushra_test):
    first, second = session_start(test=mushra_test), session_start(test=mushra_test)
    for session in (first, second):
        trials = list(session.trials.all())
        assert [t.training for t in trials] == [True, False, False, False, False]
        for trial in trials:
            roles = sorted(s.condition.role for s in trial.signals.all())
            assert roles == ["anchor_low", "anchor_mid", "reference", "system", "system"]
    ids = [
        {s.public_id for t in session.trials.all() for s in t.signals.all()}
        | set(session.trials.values_list("reference_public_id", flat=True))
        for session in (first, second)
    ]
    assert not ids[0] & ids[1]
    assert len(ids[0]) == 5 * 6  # every signal and every open reference: its own id


def test_a_subset_per_session_spreads_the_items_evenly(db, tmp_path):
    test = open_test(tmp_path, n_items=4, trials_per_session=2, training=False)
    for _ in range(4):
        session_start(test=test)
    counts = {}
    for utt in Trial.objects.values_list("utterance__key", flat=True):
        counts[utt] = counts.get(utt, 0) + 1
    assert sorted(counts.values()) == [2, 2, 2, 2]


def test_a_participant_id_gets_one_session_and_never_a_second(mushra_test):
    one = session_start(test=mushra_test, participant_id="P1", participant_source="PROLIFIC_PID")
    with pytest.raises(ParticipantTaken):
        session_start(test=mushra_test, participant_id="P1")
    assert session_start(test=mushra_test, participant_id="P2") != one
    assert Session.objects.filter(participant_id="P1").count() == 1


# -- the JSON API the player talks to ------------------------------------------------------------


def test_a_trial_is_stored_once_whatever_the_retries(client, mushra_test):
    session = at_trials(mushra_test)
    trial = session.trials.get(position=1)
    ratings = full_ratings(trial, score=70)
    key = uuid.uuid4().hex
    for _ in range(3):  # the answer got lost twice: the browser sends again with the same key
        assert post_ratings(client, session, 1, ratings, key).json() == {"saved": True}
    stored = Rating.objects.filter(trial=trial)
    assert stored.count() == 5
    assert set(stored.values_list("score", "plays", "listening_ms")) == {(70.0, 1, 900)}
    again = post_ratings(client, session, 1, ratings)  # a different submission of a saved trial
    assert again.status_code == 400 and "already saved" in again.json()["error"]


def test_practice_ratings_are_not_kept_and_the_last_trial_opens_the_questionnaire(
    client, mushra_test
):
    session = at_trials(mushra_test)
    for trial in session.trials.all():
        assert post_ratings(client, session, trial.position, full_ratings(trial)).status_code == 200
    assert Rating.objects.filter(trial__training=True).count() == 0
    assert Rating.objects.filter(session=session).count() == 4 * 5
    assert Session.objects.get(pk=session.pk).stage == "questionnaire"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.popitem(), "1 of the 5 samples are not rated"),
        (lambda r: r[next(iter(r))].update(score=101), "a score must be a number from 0 to 100"),
        (lambda r: r[next(iter(r))].update(score="50"), "a score must be a number from 0 to 100"),
        (lambda r: r[next(iter(r))].update(score=True), "a score must be a number from 0 to 100"),
        (lambda r: r[next(iter(r))].update(plays=-1), "plays and listening_ms must be whole"),
    ],
)
def test_bad_ratings_are_refused_with_a_message_and_store_nothing(
    client, mushra_test, change, message
):
    session = at_trials(mushra_test)
    ratings = full_ratings(session.trials.get(position=1))
    change(ratings)
    response = post_ratings(client, session, 1, ratings)
    assert response.status_code == 400
    assert message in " ".join(response.json()["problems"])
    assert not Rating.objects.exists()
    assert session.trials.get(position=1).submitted_at is None


def test_a_rating_for_another_sessions_trial_is_refused(client, mushra_test):
    mine, theirs = at_trials(mushra_test), at_trials(mushra_test)
    response = post_ratings(client, mine, 1, full_ratings(theirs.trials.get(position=1)))
    assert response.status_code == 400
    assert "5 of the 5 samples are not rated" in response.json()["problems"]
    assert post_ratings(client, mine, 99, {}).json()["error"] == "this session has no trial 99"
    assert not Rating.objects.exists()


def test_a_finished_session_takes_no_more_ratings(client, mushra_test):
    session = at_trials(mushra_test)
    Session.objects.filter(pk=session.pk).update(stage="done")
    response = post_ratings(client, session, 1, full_ratings(session.trials.get(position=1)))
    assert response.status_code == 409 and "finished" in response.json()["error"]
    assert response.json()["stage"] == "done"


def test_audio_is_served_by_opaque_id_with_ranges_and_nothing_else(client, mushra_test):
    session, other = at_trials(mushra_test), at_trials(mushra_test)
    signal = session.trials.get(position=1).signals.first()
    url = f"/s/{session.token}/audio/{signal.public_id}"
    whole = client.get(url)
    data = b"".join(whole.streaming_content) if whole.streaming else whole.content
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/flac"
    assert audio_chunks_of(data) == ["STREAMINFO", "PADDING"]  # no seek table, no tags
    with signal.stimulus.audio.open("rb") as f:  # the same samples as the stored FLAC
        sent, kept = read_audio(io.BytesIO(data)), read_audio(f)
    assert sent.sample_rate == kept.sample_rate
    assert np.array_equal(sent.samples, kept.samples)
    assert whole["Cache-Control"].startswith("private")
    assert "Content-Disposition" not in whole and "Last-Modified" not in whole
    part = client.get(url, HTTP_RANGE="bytes=4-99")
    assert part.status_code == 206 and part.content == data[4:100]
    assert part["Content-Range"] == f"bytes 4-99/{len(data)}"
    assert client.get(f"/s/{other.token}/audio/{signal.public_id}").status_code == 404
    reference = session.trials.get(position=1).reference_public_id
    assert client.get(f"/s/{session.token}/audio/{reference}").status_code == 200


def test_every_signal_of_a_trial_is_served_at_one_size_from_the_stored_frames(client, mushra_test):
    session = at_trials(mushra_test)
    for trial in session.trials.prefetch_related("signals__stimulus"):
        ids = [trial.reference_public_id] + [s.public_id for s in trial.signals.all()]
        bodies = [client.get(f"/s/{session.token}/audio/{i}").content for i in ids]
        assert len({len(b) for b in bodies}) == 1, [len(b) for b in bodies]
        for signal, body in zip(trial.signals.all(), bodies[1:], strict=True):
            with signal.stimulus.audio.open("rb") as f:
                stored = f.read()
            # The stored FLAC's audio frames, byte for byte: nothing was decoded or re-encoded.
            assert frames_of(body) == frames_of(stored)
            assert body[12:18] == bytes(6)  # STREAMINFO's frame sizes: unknown


def test_a_trials_audio_in_one_response_is_its_signals_as_served_one_by_one(client, mushra_test):
    session, other = at_trials(mushra_test), at_trials(mushra_test)
    payload = client.get(f"/s/{session.token}/trials.json").json()
    for trial, shown in zip(session.trials.all(), payload["trials"], strict=True):
        response = client.get(shown["audio"])
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Cache-Control"].startswith("private")
        urls = [shown["reference"]["audio"]] + [c["audio"] for c in shown["conditions"]]
        # The open reference, then each condition in its order on screen, byte for byte.
        assert split_bundle(response.content) == [client.get(u).content for u in urls]
        assert [c["id"] for c in shown["conditions"]] == [
            s.public_id for s in trial.signals.order_by("order")
        ]
    assert client.get(f"/s/{other.token}/trials/9/audio").status_code == 404


def frames_of(flac: bytes) -> bytes:
    """What follows a FLAC's metadata blocks: its audio frames."""
    return flac[4 + sum(4 + len(body) for _, body in flac_blocks(flac)) :]
