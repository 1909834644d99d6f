"""Listening tests on real, prepared audio, and listeners going through them.

A corpus with recordings and rendered systems is imported through the real services; its stimuli
are prepared through the real preparation, computed once per test session
(tests/support/prepared_audio.py), so the stimuli, anchors and policy are the real ones.
Listeners go through the real session services (start → consent → trials → questionnaire).
"""

import json
import struct
import uuid

from mushra.models import ItemLoad, Trial
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from mushra.sessions import (
    session_begin_trials,
    session_consent,
    session_questionnaire,
    session_start,
    trial_submit,
)
from synth_workers.models import Corpus, Stimulus, System
from synth_workers.services import corpus_import, rendered_import
from tests.support.audio import write_tone
from tests.support.prepared_audio import SESSION

SYSTEM_NAMES = ("Zephyr-TTS", "Quokka-Voice")  # distinctive: the blinding tests search for them
# The mean score of each condition (by role, or by system name) that ``listen`` gives.
MEANS = {"reference": 97, "anchor_low": 15, "anchor_mid": 45, "Zephyr-TTS": 75, "Quokka-Voice": 55}
HEADPHONES = ("closed headphones", "open headphones")


def prepared_corpus(folder, *args, **kwargs) -> Corpus:
    """``imported_corpus`` (same arguments) with every stimulus ready: a corpus of ``n_items``
    recordings and one rendering of each by each system (the session's prepared audio:
    tests/support/prepared_audio.py)."""
    corpus = imported_corpus(folder, *args, **kwargs)
    SESSION.make_ready(Stimulus.objects.all())
    assert not Stimulus.objects.exclude(status="ready").exists()
    return corpus


def imported_corpus(
    folder,
    n_items: int = 4,
    name: str = "Blind corpus",
    system_names=SYSTEM_NAMES,
    project_id: int | None = None,
    manifest_columns: dict[str, list[str]] | None = None,
) -> Corpus:
    """``prepared_corpus`` before preparation: imported, its stimuli pending. The tones are the
    same for every corpus (recording i, system s), so their prepared audio is shared.
    ``manifest_columns``: more manifest columns (language, speaker, style), a value per item."""
    extra = manifest_columns or {}
    rows = [",".join(["key", "text", "recording", *extra])]
    for i in range(n_items):
        write_tone(folder / "rec" / f"item{i}.wav", seconds=1.5, freq=180 + 20 * i, seed=i)
        cells = [f"item{i}", f"Sentence number {i}.", f"item{i}.wav"]
        rows.append(",".join([*cells, *(values[i] for values in extra.values())]))
    corpus_import(
        name=name,
        manifest_name="manifest.csv",
        manifest_data="\n".join(rows).encode(),
        audio_path=folder / "rec",
        project_id=project_id,
    )
    corpus = Corpus.objects.get(name=name)
    for s, system_name in enumerate(system_names):
        for i in range(n_items):
            path = folder / system_name / f"item{i}.wav"
            write_tone(path, seconds=1.5, freq=300 + 50 * s + 10 * i, seed=10 + s)
        rendered_import(corpus=corpus, system_name=system_name, audio_path=folder / system_name)
    return corpus


def open_test(
    folder,
    n_items: int = 4,
    slug: str = "blind",
    system_names=SYSTEM_NAMES,
    project_id: int | None = None,
    **options,
):
    corpus = prepared_corpus(
        folder, n_items, f"Corpus {slug}", system_names=system_names, project_id=project_id
    )
    systems = [SystemCondition(System.objects.get(name=n)) for n in system_names]
    test = listening_test_create(
        name="Zephyr vs Quokka", slug=slug, corpus=corpus, systems=systems, **options
    )
    return listening_test_open(test=test)


def at_trials(test, **options):
    """A new session that has consented and read the instructions: ratings are open."""
    session = session_start(test=test, **options)
    session_consent(session=session)
    session_begin_trials(session=session)
    session.refresh_from_db()
    return session


def split_bundle(data: bytes) -> list[bytes]:
    """The parts of a trial's audio response: a count and each part's length (big-endian
    32-bit), then the parts; nothing may follow them."""
    (count,) = struct.unpack_from(">I", data)
    lengths = struct.unpack_from(f">{count}I", data, 4)
    parts, at = [], 4 + 4 * count
    for length in lengths:
        parts.append(data[at : at + length])
        at += length
    assert at == len(data) and all(len(p) == n for p, n in zip(parts, lengths, strict=True))
    return parts


def post_ratings(client, session, position, ratings, key=None):
    """A trial's ratings as the player posts them."""
    body = {"trial": position, "key": key or uuid.uuid4().hex, "ratings": ratings}
    return client.post(
        f"/s/{session.token}/ratings", json.dumps(body), content_type="application/json"
    )


def full_ratings(trial, score=50):
    """Every signal of ``trial`` rated ``score``, played once."""
    return {
        s.public_id: {"score": score, "plays": 1, "listening_ms": 900} for s in trial.signals.all()
    }


def pair_answers(trial, a_score, b_score):
    """A pair trial's two ratings, A's then B's in the order shown."""
    a, b = trial.signals.order_by("order")
    return {
        a.public_id: {"score": a_score, "plays": 1, "listening_ms": 800},
        b.public_id: {"score": b_score, "plays": 1, "listening_ms": 800},
    }


def listen(test, n: int, rng, careless: bool = False) -> None:
    """Listener ``n`` rates every trial at MEANS ± a few points and answers the questionnaire
    (headphones alternating by listener; the first types a spreadsheet formula as language).
    A careless listener rates the hidden reference 40."""
    session = at_trials(test)
    for trial in session.trials.prefetch_related("signals__condition__system"):
        ratings = {}
        for signal in trial.signals.all():
            condition = signal.condition
            key = condition.system.name if condition.role == "system" else condition.role
            score = MEANS[key] + rng.integers(-5, 4)
            if careless and condition.role == "reference":
                score = 40
            ratings[signal.public_id] = {"score": int(score), "plays": 1}
        trial_submit(
            token=session.token,
            position=trial.position,
            key=f"submission-{n}-{trial.position}",
            ratings=ratings,
        )
    session.refresh_from_db()
    language = "=HYPERLINK(1)" if n == 0 else "en"  # a listener typing a spreadsheet formula
    answers = {"age_band": "25-34", "headphones": HEADPHONES[n % 2], "native_language": language}
    session_questionnaire(session=session, answers=answers)


def rate_every_trial(test, n_listeners: int, score_of) -> None:
    """Each listener rates every trial: ``score_of(condition, utterance, listener) → int``."""
    for n in range(n_listeners):
        session = at_trials(test)
        trials = session.trials.select_related("utterance").prefetch_related("signals__condition")
        for trial in trials:
            ratings = {
                s.public_id: {"score": score_of(s.condition, trial.utterance, n), "plays": 1}
                for s in trial.signals.all()
            }
            key = f"{test.slug}-{n}-{trial.position}"
            trial_submit(token=session.token, position=trial.position, key=key, ratings=ratings)
        session.refresh_from_db()
        answers = {"age_band": "25-34", "headphones": HEADPHONES[0], "native_language": "es"}
        session_questionnaire(session=session, answers=answers)


def load_matches_trials(test) -> bool:
    """The invariant: an item's load is its real trials that are rated or in a live session."""
    loads = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
    counted = {u: 0 for u in loads}
    real = Trial.objects.filter(session__test=test, session__preview=False, training=False)
    for utterance_id, submitted, released in real.values_list(
        "utterance_id", "submitted_at", "session__released_at"
    ):
        if submitted is not None or released is None:
            counted[utterance_id] += 1
    return loads == counted
