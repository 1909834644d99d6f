"""Test types beside MUSHRA on the server: ACR (P.800 five categories, no reference) and MUSHRA
without reference. What each builds, what the player receives, which ratings it stores."""

import pytest

from evalsite.errors import InputError
from mushra.models import ListeningTest, Rating
from mushra.services import SystemCondition, listening_test_create
from mushra.test_types import QUESTION_ACR, QUESTION_MUSHRA, QUESTION_NOREF, QUESTION_SMOS
from synth_workers.models import System
from tests.support.listening import (
    SYSTEM_NAMES,
    at_trials,
    full_ratings,
    open_test,
    post_ratings,
    prepared_corpus,
    split_bundle,
)


@pytest.fixture
def acr_test(db, tmp_path):
    return open_test(tmp_path, n_items=3, slug="acr", test_type="acr")


@pytest.fixture
def noref_test(db, tmp_path):
    return open_test(tmp_path, n_items=3, slug="noref", test_type="mushra_noref")


def roles(test) -> list[tuple[str, str]]:
    return sorted(test.conditions.values_list("role", "label"))


def test_an_acr_test_rates_the_recordings_and_systems_without_anchors_or_reference(acr_test):
    assert acr_test.test_type == "acr" and acr_test.status == "open"
    assert roles(acr_test) == sorted(
        [("reference", "Recordings"), *(("system", name) for name in SYSTEM_NAMES)]
    )
    assert acr_test.question == QUESTION_ACR and acr_test.require_one_100 is False


def test_smos_rates_the_recordings_and_systems_against_the_recording_as_reference(db, tmp_path):
    test = open_test(tmp_path, n_items=2, slug="smos", test_type="smos")
    assert roles(test) == sorted(
        [("reference", "Recordings"), *(("system", name) for name in SYSTEM_NAMES)]
    )
    assert test.question == QUESTION_SMOS and test.require_one_100 is False


def test_mushra_without_reference_keeps_the_anchors_and_drops_the_hidden_reference(noref_test):
    assert roles(noref_test) == sorted(
        [
            ("anchor_low", "Low anchor (3.5 kHz)"),
            ("anchor_mid", "Mid anchor (7 kHz)"),
            *(("system", name) for name in SYSTEM_NAMES),
        ]
    )
    assert noref_test.question == QUESTION_NOREF and noref_test.require_one_100 is False


def test_the_types_options_are_refused_by_name(db, tmp_path):
    corpus = prepared_corpus(tmp_path, 2)
    systems = [SystemCondition(System.objects.get(name=SYSTEM_NAMES[0]))]
    cases = [
        (
            {"test_type": "bws"},
            "test_type: 'bws' is not one of mushra, mushra_noref, acr, smos, cmos",
        ),
        ({"test_type": "smos", "attention_checks": 2}, "attention_checks: catch trials are"),
        (
            {"test_type": "acr", "require_one_100": True},
            "require_one_100: a test of type acr has no",
        ),
    ]
    for options, message in cases:
        with pytest.raises(InputError) as refused:
            listening_test_create(name="x", slug="x", corpus=corpus, systems=systems, **options)
        assert message in str(refused.value) + " ".join(refused.value.problems)
    assert not ListeningTest.objects.exists()
    # A MUSHRA question left at its default becomes the type's own default.
    test = listening_test_create(
        name="y", slug="y", corpus=corpus, systems=systems, test_type="mushra_noref",
        question=QUESTION_MUSHRA,
    )  # fmt: skip
    assert test.question == QUESTION_NOREF


def payload(client, session) -> dict:
    response = client.get(f"/s/{session.token}/trials.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    "test_type, reference, scale",
    [
        ("mushra", True, {"min": 0, "max": 100, "categories": False, "similarity": False}),
        ("mushra_noref", False, {"min": 0, "max": 100, "categories": False, "similarity": False}),
        ("acr", False, {"min": 1, "max": 5, "categories": True, "similarity": False}),
        ("smos", True, {"min": 1, "max": 5, "categories": True, "similarity": True}),
    ],
)
def test_the_player_gets_the_types_scale_and_a_reference_only_where_there_is_one(
    client, db, tmp_path, test_type, reference, scale
):
    test = open_test(tmp_path, n_items=2, slug=test_type, test_type=test_type)
    session = at_trials(test)
    data = payload(client, session)
    assert data["rules"]["reference"] is reference and data["rules"]["scale"] == scale
    for trial in data["trials"]:
        assert ("reference" in trial) is reference
        bundle = client.get(trial["audio"])
        parts = split_bundle(
            b"".join(bundle.streaming_content) if bundle.streaming else bundle.content
        )
        assert len(parts) == len(trial["conditions"]) + reference
    # The open reference's id of a trial without one serves nothing.
    trial = session.trials.first()
    assert client.get(f"/s/{session.token}/audio/{trial.reference_public_id}").status_code == (
        200 if reference else 404
    )


def test_acr_stores_whole_categories_and_refuses_anything_else(client, acr_test):
    session = at_trials(acr_test)
    trial = session.trials.get(position=1)
    for score, problem in [
        (0, "a rating must be a whole number from 1 to 5, got 0"),
        (6, "a rating must be a whole number from 1 to 5, got 6"),
        (2.5, "a rating must be a whole number from 1 to 5, got 2.5"),
        (True, "a rating must be a whole number from 1 to 5, got True"),
        ("4", "a rating must be a whole number from 1 to 5, got '4'"),
    ]:
        ratings = full_ratings(trial, score=4)
        ratings[next(iter(ratings))]["score"] = score
        refused = post_ratings(client, session, 1, ratings)
        assert refused.status_code == 400 and problem in refused.json()["problems"]
    assert not Rating.objects.exists()
    ratings = full_ratings(trial, score=4)
    first = next(iter(ratings))
    ratings[first]["score"] = 1
    assert post_ratings(client, session, 1, ratings).json() == {"saved": True}
    stored = dict(Rating.objects.filter(trial=trial).values_list("condition__pk", "score"))
    assert sorted(stored.values()) == [1.0, 4.0, 4.0]
    assert stored[trial.signals.get(public_id=first).condition_id] == 1.0


def test_mushra_without_reference_takes_any_score_on_its_scale_and_no_100_is_needed(
    client, noref_test
):
    session = at_trials(noref_test)
    trial = session.trials.get(position=1)
    assert post_ratings(client, session, 1, full_ratings(trial, score=37.5)).json() == {
        "saved": True
    }
    assert set(Rating.objects.filter(trial=trial).values_list("score", flat=True)) == {37.5}
    too_high = full_ratings(session.trials.get(position=2), score=100.5)
    refused = post_ratings(client, session, 2, too_high)
    assert "a score must be a number from 0 to 100, got 100.5" in refused.json()["problems"]


def test_the_new_test_form_builds_an_acr_test(admin_client, db, tmp_path):
    corpus = prepared_corpus(tmp_path, 2)
    url = f"/mushra/new/?corpus={corpus.pk}"
    page = admin_client.get(url).content.decode()
    assert 'name="test_type"' in page and "ACR / MOS" in page
    form = admin_client.get(url).context["form"]
    response = admin_client.post(
        url,
        {
            "name": "MOS pilot", "slug": "mos-pilot", "test_type": "acr",
            "conditions": [value for value, _ in form.fields["conditions"].choices],
            "question": QUESTION_MUSHRA, "ratings_wanted": 20, "require_play_all": "on",
            "require_one_100": "on", "training": "on", "consent_text": "Consent.",
            "language": "en", "participant_params": "PROLIFIC_PID",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    test = ListeningTest.objects.get(slug="mos-pilot")
    assert test.test_type == "acr" and not test.require_one_100 and test.question == QUESTION_ACR
    assert ("reference", "Recordings") in roles(test)


@pytest.mark.parametrize("test_type", ["mushra_noref", "smos", "cmos", "ab", "abx"])
def test_each_type_is_built_and_opened_from_the_pages(admin_client, db, tmp_path, test_type):
    corpus = prepared_corpus(tmp_path, 2)
    url = f"/mushra/new/?corpus={corpus.pk}"
    form = admin_client.get(url).context["form"]
    conditions = [value for value, _ in form.fields["conditions"].choices]
    base = {
        "name": f"{test_type} pilot", "slug": f"{test_type}-pilot", "test_type": test_type,
        "question": QUESTION_MUSHRA,
        "ratings_wanted": 20, "require_play_all": "on", "training": "on",
        "consent_text": "Consent.", "language": "en", "participant_params": "PROLIFIC_PID",
    }  # fmt: skip
    if test_type in ("cmos", "ab", "abx"):  # one system: no pair to compare, nothing created
        refused = admin_client.post(url, {**base, "conditions": conditions[:1]})
        assert "compares pairs: choose at least two systems" in refused.content.decode()
        assert not ListeningTest.objects.exists()
    created = admin_client.post(url, {**base, "conditions": conditions})
    test = ListeningTest.objects.get(slug=f"{test_type}-pilot")
    assert created.status_code == 302 and test.test_type == test_type
    opened = admin_client.post(f"/mushra/tests/{test.pk}/open")
    test.refresh_from_db()
    assert opened.status_code == 302 and test.status == "open"
