"""Paired-comparison types on the server: CMOS, A/B preference and ABX. Every pair once per rated
utterance with the order balanced, X drawn from A or B, and a pair's two ratings agreeing."""

import itertools
from collections import Counter

import pytest

from evalsite.errors import InputError
from mushra import design
from mushra.models import Rating
from mushra.selectors import listening_test_progress as progress_of
from mushra.services import SystemCondition, listening_test_create
from synth_workers.models import System
from tests.support.listening import (
    SYSTEM_NAMES,
    at_trials,
    open_test,
    pair_answers,
    post_ratings,
    prepared_corpus,
    split_bundle,
)


def test_pair_trials_hold_every_pair_of_every_item_and_balance_the_order_over_two_sessions():
    plan = [design.TrialPlan(item=i, conditions=("c1", "c2", "c3")) for i in (7, 8)]
    orders = Counter()
    for number in (4, 5):
        trials = design.pair_trials(plan, ["c1", "c2", "c3"], number, seed=99)
        assert len(trials) == 2 * 3
        assert {(t.item, frozenset(t.conditions)) for t in trials} == {
            (i, frozenset(p)) for i in (7, 8) for p in itertools.combinations(["c1", "c2", "c3"], 2)
        }
        orders.update((t.item, t.conditions) for t in trials)
    assert len(orders) == 12 and set(orders.values()) == {1}  # each way once across the two
    with pytest.raises(ValueError, match="at least two conditions"):
        design.pair_trials(plan, ["c1"], 0, seed=1)


def pair_test(tmp_path, test_type, **options):
    return open_test(tmp_path, n_items=2, slug=test_type, test_type=test_type, **options)


@pytest.mark.parametrize("test_type", ["cmos", "ab", "abx"])
def test_a_pair_session_rates_every_pair_of_its_items_with_two_signals_a_trial(
    client, db, tmp_path, test_type
):
    test = pair_test(tmp_path, test_type, anchors=("low",))  # three conditions: three pairs
    assert test.conditions.count() == 3
    session = at_trials(test)
    real = session.trials.filter(training=False)
    assert real.count() == 2 * 3 and session.trials.filter(training=True).count() == 1
    assert all(t.signals.count() == 2 for t in session.trials.all())
    data = client.get(f"/s/{session.token}/trials.json").json()
    assert data["rules"]["pair"] is True and data["rules"]["type"] == test_type
    assert data["rules"]["reference"] is (test_type == "abx")
    for trial, shown in zip(session.trials.order_by("position"), data["trials"], strict=True):
        parts = split_bundle(client.get(shown["audio"]).content)
        assert len(parts) == 2 + (test_type == "abx")
        x = client.get(f"/s/{session.token}/audio/{trial.reference_public_id}")
        if test_type == "abx":  # X plays A's or B's stimulus, exactly as that one is served
            a, b = trial.signals.order_by("order")
            assert trial.reference_stimulus_id in (a.stimulus_id, b.stimulus_id)
            assert parts[0] == parts[1 if trial.reference_stimulus_id == a.stimulus_id else 2]
            assert x.status_code == 200
        else:
            assert trial.reference_stimulus_id is None and x.status_code == 404


def test_x_is_a_and_b_about_equally_often():
    plans = [design.TrialPlan(item=0, conditions=("1", "2"))] * 400
    from mushra.layout import TestLayout
    from mushra.sessions import _x_stimuli

    layout = TestLayout(["1", "2"], [0], {(1, 0): 11, (2, 0): 22}, {})
    drawn = Counter(_x_stimuli(layout, plans, seed=5).values())
    assert set(drawn) == {11, 22} and 150 < drawn[11] < 250


@pytest.mark.parametrize(
    "test_type, good, bad",
    [
        ("cmos", [(-2, 2), (0, 0), (3, -3)], [(-2, 1), (4, -4), (1.5, -1.5)]),
        ("ab", [(1, 0), (0.5, 0.5), (0, 1)], [(1, 1), (0.3, 0.7), (2, -1)]),
        ("abx", [(1, 0), (0, 1)], [(0.5, 0.5), (1, 1), (0, 0)]),
    ],
)
def test_a_pairs_two_ratings_must_agree_and_are_stored_as_given(
    client, db, tmp_path, test_type, good, bad
):
    test = pair_test(tmp_path, test_type, anchors=("low", "mid"), training=False)
    session = at_trials(test)
    trials = list(session.trials.order_by("position"))
    for a_score, b_score in bad:
        refused = post_ratings(client, session, 0, pair_answers(trials[0], a_score, b_score))
        assert refused.status_code == 400, (a_score, b_score)
        problems = " ".join(refused.json()["problems"])
        assert "contradict" in problems or "must be" in problems
    assert not Rating.objects.exists()
    for trial, (a_score, b_score) in zip(trials, good, strict=False):
        saved = post_ratings(client, session, trial.position, pair_answers(trial, a_score, b_score))
        assert saved.json() == {"saved": True}
        a, b = trial.signals.order_by("order")
        stored = dict(Rating.objects.filter(trial=trial).values_list("condition_id", "score"))
        assert stored == {a.condition_id: a_score, b.condition_id: b_score}


def test_progress_counts_two_ratings_a_pair_and_listeners_per_item(client, db, tmp_path):
    test = pair_test(tmp_path, "ab", anchors=("low",), training=False)
    session = at_trials(test)
    for trial in session.trials.all():
        post_ratings(client, session, trial.position, pair_answers(trial, 1, 0))
    progress = progress_of(test)
    assert progress["ratings"] == Rating.objects.count() == 2 * 3 * 2
    assert {c["ratings"] for c in progress["conditions"]} == {4}  # each in 2 pairs × 2 items
    assert Rating.objects.values("condition").distinct().count() == 3
    assert all(
        Rating.objects.filter(condition__label=c["label"]).count() == c["ratings"]
        for c in progress["conditions"]
    )
    assert [i["listeners"] for i in progress["items"]] == [1, 1]


def test_a_pair_test_needs_two_conditions(db, tmp_path):
    corpus = prepared_corpus(tmp_path, 2)
    one = [SystemCondition(System.objects.get(name=SYSTEM_NAMES[0]))]
    with pytest.raises(InputError, match="type ab compares pairs: choose at least two systems"):
        listening_test_create(name="x", slug="x", corpus=corpus, systems=one, test_type="ab")


def test_a_pair_trials_audio_for_the_fast_rater_rule_is_its_share_of_the_utterances(db, tmp_path):
    from mushra.models import ConditionStimulus
    from mushra.timing_reads import audio_by_utterance

    for test_type, share in [("ab", 2 / 3), ("abx", 3 / 3)]:
        names = (f"{test_type}-one", f"{test_type}-two")
        test = open_test(tmp_path / test_type, 2, test_type, names, test_type=test_type,
                         anchors=("low",))  # fmt: skip
        frozen = ConditionStimulus.objects.filter(test=test).select_related("stimulus")
        whole = Counter()
        for row in frozen:
            whole[row.utterance_id] += row.stimulus.duration
        assert audio_by_utterance(test) == pytest.approx({u: s * share for u, s in whole.items()})
