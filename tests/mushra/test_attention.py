"""Attention checks (issue 14, item 2): catch trials slotted in among a session's real trials,
served blind, scored as they are saved, never counted as design load or ratings, and the
listeners who fail them excluded from the analysis."""

import io
import json

import numpy as np
import pytest
from django.core.files.storage import default_storage
from scipy import signal

from evalsite.errors import InputError
from mushra import results
from mushra.analysis.screening import RULE_ATTENTION
from mushra.models import (
    AttentionCheck,
    Condition,
    ConditionStimulus,
    ItemLoad,
    Rating,
    Session,
    Trial,
)
from mushra.reports import ReportMeta, render_html
from mushra.reports.methods import methods_paragraph
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from mushra.sessions import session_start, trial_submit
from synth_workers.audio import read_audio
from synth_workers.models import System
from tests.support.listening import (
    SYSTEM_NAMES,
    at_trials,
    open_test,
    prepared_corpus,
    split_bundle,
)

MEANS = {"reference": 97, "anchor_low": 15, "anchor_mid": 45, "system": 65}


@pytest.fixture
def checked_test(db, tmp_path):
    return open_test(tmp_path, n_items=6, attention_checks=2)


def trials_of(session: Session) -> list[Trial]:
    return list(session.trials.order_by("position").prefetch_related("signals__condition"))


def real_load_matches(test) -> bool:
    """An item's load is its real trials (not practice, not catch) rated or in a live session."""
    loads = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
    counted = dict.fromkeys(loads, 0)
    real = Trial.objects.filter(
        session__test=test, session__preview=False, training=False, catch=False
    )
    for utterance_id, submitted, released in real.values_list(
        "utterance_id", "submitted_at", "session__released_at"
    ):
        if submitted is not None or released is None:
            counted[utterance_id] += 1
    return loads == counted


def ratings_for(trial: Trial, copy: float = 10, reference: float = 100) -> dict:
    out = {}
    for s in trial.signals.all():
        score = (
            copy
            if s.catch
            else MEANS[s.condition.role]
            if s.condition.role != "reference"
            else reference
        )
        out[s.public_id] = {"score": score, "plays": 1}
    return out


# --- Allocation ---------------------------------------------------------------------------------


def test_a_session_gets_its_catch_trials_spread_among_the_real_ones(checked_test):
    test = checked_test
    session = at_trials(test)
    trials = trials_of(session)
    practice, first = trials[0], trials[1]
    assert practice.training and not practice.catch
    assert not first.catch and not first.training  # the real task comes first
    catch = [t for t in trials if t.catch]
    real = [t for t in trials if not t.catch and not t.training]
    assert len(catch) == 2 and len(real) == 6
    # One in each half of the real trials, never two in a row.
    before = [sum(r.position < c.position for r in real) for c in catch]
    assert 1 <= before[0] <= 3 and 4 <= before[1] <= 6
    assert catch[1].position - catch[0].position > 1
    conditions = sorted(test.conditions.values_list("pk", flat=True))
    frozen = {
        (cs.condition_id, cs.utterance_id): cs.stimulus_id
        for cs in ConditionStimulus.objects.filter(test=test)
    }
    for trial in catch:
        assert trial.utterance_id in {r.utterance_id for r in real}
        signals = list(trial.signals.all())
        assert sorted(s.condition_id for s in signals) == conditions
        assert sorted(s.order for s in signals) == list(range(len(conditions)))
        copies = [s for s in signals if s.catch]
        assert len(copies) == 1 and copies[0].condition.role == Condition.Role.SYSTEM
        # Every signal plays its own condition's stimulus; the copy is made of the system's.
        for s in signals:
            assert s.stimulus_id == frozen[(s.condition_id, trial.utterance_id)]
    assert not any(s.catch for t in real + [practice] for s in t.signals.all())
    # The design's load counts the six real trials only.
    assert sum(ItemLoad.objects.filter(test=test).values_list("assigned", flat=True)) == 6
    assert real_load_matches(test)


def test_catch_trials_vary_by_session_and_never_count_in_the_load(checked_test):
    test = checked_test
    sessions = [session_start(test=test) for _ in range(8)]
    copies, places = set(), set()
    for session in sessions:
        trials = trials_of(session)
        assert sum(t.catch for t in trials) == 2
        places.add(tuple(t.position for t in trials if t.catch))
        for before, trial, after in zip(trials, trials[1:], [*trials[2:], None], strict=False):
            if trial.catch:  # a sentence is never heard twice in a row
                neighbours = {t.utterance_id for t in (before, after) if t and not t.catch}
                assert trial.utterance_id not in neighbours
        copies |= {s.condition_id for t in trials for s in t.signals.all() if s.catch}
    systems = set(test.conditions.filter(role="system").values_list("pk", flat=True))
    assert copies == systems and len(places) > 1
    assert sum(ItemLoad.objects.filter(test=test).values_list("assigned", flat=True)) == 8 * 6
    assert real_load_matches(test)


def test_idle_sessions_give_back_real_items_only_and_a_late_catch_trial_adds_no_load(
    checked_test,
):
    from datetime import timedelta

    from django.utils import timezone

    test = checked_test
    idle = at_trials(test)
    trials = trials_of(idle)
    real = next(t for t in trials if not t.catch and not t.training)
    trial_submit(
        token=idle.token, position=real.position, key="real-trial-key", ratings=ratings_for(real)
    )
    Session.objects.filter(pk=idle.pk).update(last_active_at=timezone.now() - timedelta(hours=2))
    session_start(test=test)  # sweeps the idle session
    idle.refresh_from_db()
    assert idle.released_at is not None and real_load_matches(test)
    before = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
    catch = next(t for t in trials if t.catch)
    trial_submit(
        token=idle.token, position=catch.position, key="late-catch-key", ratings=ratings_for(catch)
    )
    after = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
    assert after == before and real_load_matches(test)
    assert AttentionCheck.objects.filter(trial=catch).count() == 1


def test_a_test_without_a_hidden_reference_cannot_open_with_attention_checks(db, tmp_path):
    corpus = prepared_corpus(tmp_path, 2, "No-reference corpus")
    systems = [SystemCondition(System.objects.get(name=n)) for n in SYSTEM_NAMES]
    test = listening_test_create(
        name="Without reference", slug="noref", corpus=corpus, systems=systems, attention_checks=1
    )
    Condition.objects.filter(test=test, role=Condition.Role.REFERENCE).delete()
    with pytest.raises(InputError) as refused:
        listening_test_open(test=test)
    assert any("hidden reference" in p for p in refused.value.problems)
    with pytest.raises(InputError, match="hidden reference"):
        session_start(test=test, preview=True)  # a preview of the draft says the same
    test.attention_checks = 0
    test.save()
    assert listening_test_open(test=test).status == "open"


# --- Delivery -----------------------------------------------------------------------------------


def _decoded(data: bytes) -> np.ndarray:
    return read_audio(io.BytesIO(data)).samples[:, 0].astype(np.float64)


def _share_above_db(x: np.ndarray, rate: int, hz: float) -> float:
    f, p = signal.welch(x, rate, nperseg=4096)
    return float(10 * np.log10(p[f >= hz].sum() / p.sum()))


def test_a_catch_trial_serves_a_degraded_copy_padded_like_every_signal(client, checked_test):
    session = at_trials(checked_test)
    trials = trials_of(session)
    catch = next(t for t in trials if t.catch)
    bundle = client.get(f"/s/{session.token}/trials/{catch.position}/audio")
    assert bundle.status_code == 200
    parts = split_bundle(bundle.content)
    signals = sorted(catch.signals.all(), key=lambda s: s.order)
    assert len(parts) == 1 + len(signals)
    assert len({len(p) for p in parts}) == 1 and all(p.startswith(b"fLaC") for p in parts)
    # Each signal's own URL serves exactly its part of the bundle.
    for s, part in zip(signals, parts[1:], strict=True):
        single = client.get(f"/s/{session.token}/audio/{s.public_id}")
        assert single["Content-Type"] == "audio/flac" and single.content == part
    opened = client.get(f"/s/{session.token}/audio/{catch.reference_public_id}").content
    assert opened == parts[0]
    copied = next(s for s in signals if s.catch)
    copy = parts[1 + copied.order]
    hidden = parts[1 + next(s.order for s in signals if s.condition.role == "reference")]
    assert hidden == parts[0]  # the hidden reference is the recording itself
    with default_storage.open(copied.stimulus.audio.name, "rb") as f:
        original = f.read()  # the system's own stimulus: the copy is made of it
    rate = read_audio(io.BytesIO(original)).sample_rate
    x, y = _decoded(original), _decoded(copy)
    assert x.size == y.size  # the duration of the signal it replaces
    # Nothing left above 2 kHz, and more noise than recording in what is left.
    assert _share_above_db(y, rate, 2000) < _share_above_db(x, rate, 2000) - 30
    scale = np.dot(x, y) / np.dot(x, x)
    snr = 10 * np.log10(np.sum((scale * x) ** 2) / np.sum((y - scale * x) ** 2))
    assert snr < 3
    # The real trial of the same utterance has the same size: size does not tell a catch trial.
    twin = next(t for t in trials if t.utterance_id == catch.utterance_id and not t.catch)
    twin_parts = split_bundle(
        client.get(f"/s/{session.token}/trials/{twin.position}/audio").content
    )
    assert {len(p) for p in twin_parts} == {len(parts[0])}


def test_the_size_of_a_catch_trial_is_the_same_whichever_request_comes_first(client, db, tmp_path):
    from mushra import delivery

    test = open_test(tmp_path, n_items=3, attention_checks=1, training=False)
    session = at_trials(test)
    catch = next(t for t in trials_of(session) if t.catch)
    copy = catch.signals.get(catch=True)
    delivery._TRIAL_SIZES.clear()
    delivery._SIZES.clear()
    first = client.get(f"/s/{session.token}/audio/{copy.public_id}").content
    delivery._TRIAL_SIZES.clear()
    parts = split_bundle(client.get(f"/s/{session.token}/trials/{catch.position}/audio").content)
    assert {len(p) for p in parts} == {len(first)} and first in parts


# --- Scoring ------------------------------------------------------------------------------------


def test_catch_trials_are_scored_not_stored_as_ratings_and_a_repeat_changes_nothing(checked_test):
    session = at_trials(checked_test)
    one, two = (t for t in trials_of(session) if t.catch)
    trial_submit(
        token=session.token,
        position=one.position,
        key="catch-one-key",
        ratings=ratings_for(one, copy=80, reference=100),
    )
    trial_submit(
        token=session.token,
        position=two.position,
        key="catch-two-key",
        ratings=ratings_for(two, copy=90, reference=95),
    )
    checks = {c.trial_id: c for c in AttentionCheck.objects.filter(session=session)}
    assert (checks[one.pk].catch_score, checks[one.pk].reference_score) == (80, 100)
    assert checks[one.pk].passed  # exactly 20 below: passed
    assert (checks[two.pk].catch_score, checks[two.pk].reference_score, checks[two.pk].passed) == (
        90,
        95,
        False,
    )
    assert not Rating.objects.filter(trial__in=[one, two]).exists()
    assert Trial.objects.get(pk=one.pk).submitted_at is not None
    # The answer to the first send was lost: the same send again is a success and adds nothing.
    trial_submit(
        token=session.token,
        position=one.position,
        key="catch-one-key",
        ratings=ratings_for(one, copy=80, reference=100),
    )
    assert AttentionCheck.objects.filter(session=session).count() == 2
    with pytest.raises(InputError, match="already saved"):
        trial_submit(
            token=session.token, position=one.position, key="another-key", ratings=ratings_for(one)
        )


def test_a_catch_trials_ratings_are_checked_like_any_trials(checked_test):
    session = at_trials(checked_test)
    catch = next(t for t in trials_of(session) if t.catch)
    ratings = ratings_for(catch)
    ratings.popitem()
    with pytest.raises(InputError, match="was not saved"):
        trial_submit(
            token=session.token, position=catch.position, key="short-catch-key", ratings=ratings
        )
    assert not AttentionCheck.objects.exists()
    assert Trial.objects.get(pk=catch.pk).submitted_at is None


# --- Blindness ----------------------------------------------------------------------------------


def test_the_players_data_does_not_tell_a_catch_trial_or_its_copy(client, checked_test):
    session = at_trials(checked_test)
    payload = client.get(f"/s/{session.token}/trials.json").json()
    trials = payload["trials"]
    catch_positions = set(session.trials.filter(catch=True).values_list("position", flat=True))
    real = [t for t in trials if not t["training"]]
    assert len(real) == 8  # six real trials and two attention checks, numbered alike
    assert [t["title"] for t in real] == [f"Trial {n} of 8" for n in range(1, 9)]
    shapes = {(tuple(sorted(t)), tuple(tuple(sorted(c)) for c in t["conditions"])) for t in real}
    assert len(shapes) == 1  # the catch trials look like any other
    for trial in real:
        assert all(set(c) == {"id", "audio"} for c in trial["conditions"])
    text = json.dumps([t for t in trials if t["position"] in catch_positions]).lower()
    assert "catch" not in text and "copy" not in text and "attention" not in text


# --- Analysis -----------------------------------------------------------------------------------


def test_the_attention_rule_excludes_exactly_the_planted_listeners(db, tmp_path):
    test = open_test(tmp_path, n_items=4, attention_checks=2, trials_per_session=4)
    rng = np.random.default_rng(3)
    planted = set()
    for n in range(7):
        careless = n in (2, 5)
        session = at_trials(test)
        if careless:
            planted.add(f"S{session.number}")
        for trial in trials_of(session):
            ratings = {}
            for s in trial.signals.all():
                role = s.condition.role
                score = MEANS[role] + int(rng.integers(-3, 3))
                if s.catch:  # a careless listener rates the copy like a good system
                    score = 90 if careless else 12
                ratings[s.public_id] = {"score": score, "plays": 1}
            trial_submit(
                token=session.token,
                position=trial.position,
                key=f"submission-{n}-{trial.position}",
                ratings=ratings,
            )
    assert AttentionCheck.objects.count() == 14
    assert AttentionCheck.objects.filter(passed=False).count() == 4
    result = results.listening_test_analysis(test, results.ReportOptions(n_boot=50, mixed="none"))
    data = result.to_dict()
    assert RULE_ATTENTION in data["screening"]["rules"]
    excluded = {(e["listener"], e["rule"], e["fraction"]) for e in data["screening"]["excluded"]}
    assert excluded == {(who, RULE_ATTENTION, 1.0) for who in planted}
    assert data["n_listeners"] == 5
    assert not set(result.kept["listener"]) & planted
    # The reports say the rule was applied and whom it excluded.
    meta = ReportMeta.for_spec(result.spec, title=test.name, source="test")
    paragraph = methods_paragraph(data, meta)
    assert "attention checks" in paragraph
    assert all(who in paragraph for who in planted)
    html = render_html(data, result.rated, meta)
    assert RULE_ATTENTION in html and "attention-check rule" in html
