"""ACR attention checks are P.808 trap clips: a catch trial's flagged sample plays its start and
then a voice asking for "2: Poor" in the test's language; the answer is scored as the trial is
saved, and the analysis excludes the listener who did not give it."""

import io

import pytest
from django.conf import settings

from mushra.models import AttentionCheck, Rating
from mushra.results import ReportOptions
from mushra.results import listening_test_analysis as analysis_of
from mushra.trap_speech import INSTRUCTIONS, TRAP_ANSWER, instruction
from synth_workers.audio import read_audio
from synth_workers.audio.trap import GAP_SECONDS, LEAD_SECONDS
from tests.support.listening import SYSTEM_NAMES, at_trials, open_test, post_ratings, split_bundle


def test_every_interface_language_has_a_spoken_instruction():
    assert set(INSTRUCTIONS) == {code for code, _ in settings.LANGUAGES}
    for language in INSTRUCTIONS:
        spoken = instruction(language)
        assert spoken.duration > 1.5 and abs(spoken.samples).max() > 0.1


@pytest.fixture
def trap_test(db, tmp_path):
    return open_test(tmp_path, n_items=3, slug="acr-trap", test_type="acr", training=False,
                     attention_checks=1, language="de")  # fmt: skip


def rate_session(client, test, trap_answer: int, score: int = 4):
    session = at_trials(test)
    for trial in session.trials.order_by("position"):
        ratings = {}
        for signal in trial.signals.all():
            given = trap_answer if signal.catch else score + (signal.order % 2)
            ratings[signal.public_id] = {"score": given, "plays": 1}
        assert post_ratings(client, session, trial.position, ratings).status_code == 200
    return session


def test_a_catch_trial_plays_a_trap_clip_in_the_tests_language(client, trap_test):
    session = at_trials(trap_test)
    catch = session.trials.get(catch=True)
    flagged = catch.signals.get(catch=True)
    bundle = split_bundle(client.get(f"/s/{session.token}/trials/{catch.position}/audio").content)
    parts = [read_audio(io.BytesIO(part)) for part in bundle]
    trap = parts[flagged.order]
    spoken = instruction("de").duration
    assert trap.duration == pytest.approx(LEAD_SECONDS + GAP_SECONDS + spoken, abs=0.01)
    others = [p.duration for k, p in enumerate(parts) if k != flagged.order]
    assert max(others) < trap.duration  # the instruction makes it longer; it is meant to be heard
    alone = client.get(f"/s/{session.token}/audio/{flagged.public_id}")
    assert read_audio(io.BytesIO(alone.content)).duration == pytest.approx(trap.duration)


def test_the_trap_is_scored_on_its_asked_answer_and_the_analysis_excludes_who_missed_it(
    client, trap_test
):
    rate_session(client, trap_test, trap_answer=TRAP_ANSWER)
    rate_session(client, trap_test, trap_answer=TRAP_ANSWER)
    missed = rate_session(client, trap_test, trap_answer=5)
    checks = AttentionCheck.objects.order_by("session__number")
    assert [c.passed for c in checks] == [True, True, False]
    assert {c.reference_score for c in checks} == {None}
    assert not Rating.objects.filter(trial__catch=True).exists()  # a trap is no rating
    data = analysis_of(trap_test, ReportOptions()).to_dict()
    assert {e["listener"] for e in data["screening"]["excluded"]} == {f"S{missed.number}"}
    assert {c["condition"] for c in data["conditions"]} == {"Recordings", *SYSTEM_NAMES}
