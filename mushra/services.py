"""Writes of the mushra app: build and open a test, start a session, save a trial's ratings.

Every refusal is an ``InputError`` worded for its reader (the scientist building a test, or the
listener's browser, which shows it) and leaves the database as it was.
"""

import math
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from evalsite.errors import InputError
from mushra import design
from mushra.models import (
    MAX_SIGNALS,
    Condition,
    ConditionStimulus,
    ListeningTest,
    Rating,
    Session,
    Trial,
    TrialSignal,
)
from synth_workers.models import Corpus, Stimulus, System, Utterance

ANCHORS = {
    "low": (Condition.Role.ANCHOR_LOW, "anchor_35", "Low anchor (3.5 kHz)"),
    "mid": (Condition.Role.ANCHOR_MID, "anchor_70", "Mid anchor (7 kHz)"),
}


@dataclass(frozen=True)
class SystemCondition:
    """A system under test, narrowed to the stimuli made under ``condition`` (e.g. a style)."""

    system: System
    condition: dict | None = None
    label: str = ""

    def name(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted((self.condition or {}).items())]
        return self.label or " · ".join([self.system.name, *parts])


def listening_test_create(
    *,
    name: str,
    slug: str,
    corpus: Corpus,
    systems: list[SystemCondition],
    anchors: tuple[str, ...] = ("low", "mid"),
    utterances: list[Utterance] | None = None,
    user=None,
    **options,
) -> ListeningTest:
    """A draft test: the corpus' recordings as hidden reference, the anchors, the systems."""
    reference = corpus.recordings
    if reference is None:
        raise InputError(
            f"corpus '{corpus}' has no recordings: a MUSHRA test needs them as its reference"
        )
    if not systems:
        raise InputError("choose at least one system to compare")
    if unknown := sorted(set(anchors) - set(ANCHORS)):
        raise InputError(f"unknown anchor(s) {', '.join(unknown)}; use low and/or mid")
    if ListeningTest.objects.filter(slug=slug).exists():
        raise InputError(f"a test with the address '{slug}' already exists")
    with transaction.atomic():
        test = ListeningTest.objects.create(
            name=name, slug=slug, corpus=corpus, created_by=user, **options
        )
        conditions = [Condition(role="reference", system=reference, label="Hidden reference")]
        for anchor in anchors:
            role, cutoff, label = ANCHORS[anchor]
            conditions.append(
                Condition(
                    role=role, system=reference, stimulus_condition={"anchor": cutoff}, label=label
                )
            )
        for wanted in systems:
            conditions.append(
                Condition(
                    role="system",
                    system=wanted.system,
                    stimulus_condition=wanted.condition or {},
                    label=wanted.name(),
                )
            )
        if len({c.label for c in conditions}) < len(conditions):
            raise InputError("two conditions have the same name; give each a distinct label")
        for condition in conditions:
            condition.test = test
        Condition.objects.bulk_create(conditions)
        if utterances:
            test.utterances.set(utterances)
    return test


def listening_test_utterances(test: ListeningTest) -> list[Utterance]:
    chosen = list(test.utterances.order_by("key"))
    return chosen or list(test.corpus.utterances.order_by("key"))


def listening_test_open(*, test: ListeningTest) -> ListeningTest:
    """Check the test can run, freeze its stimuli and open it; or list exactly what is missing."""
    if test.status != ListeningTest.Status.DRAFT:
        raise InputError(f"test '{test}' is {test.status}; only a draft can be opened")
    conditions = list(test.conditions.select_related("system"))
    utterances = listening_test_utterances(test)
    problems = []
    if len(conditions) > MAX_SIGNALS:
        problems.append(
            f"{len(conditions)} signals per trial (hidden reference and anchors included); "
            f"ITU-R BS.1534-3 allows at most {MAX_SIGNALS}: compare fewer systems per test"
        )
    if test.trials_per_session and test.trials_per_session > len(utterances):
        problems.append(
            f"{test.trials_per_session} trials per session, but only {len(utterances)} utterances"
        )
    chosen, missing = _stimuli_of(conditions, utterances)
    problems += missing
    policies = {(s.policy_key, s.sample_rate) for s in chosen.values()}
    if len(policies) > 1:
        rates = sorted({rate for _, rate in policies})
        problems.append(
            "the stimuli were prepared under different policies "
            f"({len(policies)} loudness/format policies, sample rates {rates}); prepare them "
            "all under one policy"
        )
    if problems:
        raise InputError(f"test '{test}' cannot open", problems)
    with transaction.atomic():
        ConditionStimulus.objects.bulk_create(
            ConditionStimulus(test=test, condition=c, utterance=u, stimulus=s)
            for (c, u), s in chosen.items()
        )
        test.status = ListeningTest.Status.OPEN
        test.policy_key = next(iter(policies))[0]
        test.opened_at = timezone.now()
        test.completion_code = test.completion_code or secrets.token_hex(4).upper()
        test.save(update_fields=["status", "policy_key", "opened_at", "completion_code"])
    return test


def _stimuli_of(conditions, utterances) -> tuple[dict, list[str]]:
    """The newest ready stimulus of each (condition, utterance), and what is missing."""
    chosen, missing = {}, []
    for condition in conditions:
        found = Stimulus.objects.filter(
            system=condition.system,
            utterance__in=utterances,
            condition=condition.stimulus_condition,
        ).order_by("utterance_id", "-status", "-created_at")  # "ready" sorts after "pending"
        by_utterance = {}
        for stimulus in found:
            current = by_utterance.get(stimulus.utterance_id)
            if current is None or (current.status != "ready" and stimulus.status == "ready"):
                by_utterance[stimulus.utterance_id] = stimulus
        for utt in utterances:
            stimulus = by_utterance.get(utt.pk)
            where = f"'{condition.label}' × utterance '{utt.key}'"
            if stimulus is None:
                missing.append(f"no stimulus for {where}")
            elif stimulus.status != Stimulus.Status.READY:
                missing.append(f"the stimulus for {where} is {stimulus.get_status_display()}")
            else:
                chosen[(condition, utt)] = stimulus
    return chosen, missing


def listening_test_close(*, test: ListeningTest) -> None:
    ListeningTest.objects.filter(pk=test.pk).update(
        status=ListeningTest.Status.CLOSED, closed_at=timezone.now()
    )


@transaction.atomic
def session_start(
    *,
    test: ListeningTest,
    participant_id: str = "",
    participant_source: str = "",
    preview: bool = False,
) -> Session:
    """A new session: the least-rated items in a balanced order, its own opaque signal ids.

    A preview (a scientist trying the test) may run on a draft and counts for nothing."""
    test = ListeningTest.objects.select_for_update().get(pk=test.pk)  # numbers stay unique
    if test.status != ListeningTest.Status.OPEN and not (
        preview and test.status == ListeningTest.Status.DRAFT
    ):
        raise InputError("this listening test is not open")
    if participant_id:
        existing = test.sessions.filter(participant_id=participant_id).first()
        if existing:  # the same participant reopening the link resumes
            return existing
    number = (test.sessions.aggregate(n=Max("number"))["n"] or 0) + 1
    session = Session.objects.create(
        test=test,
        token=secrets.token_urlsafe(24),
        number=number,
        seed=design.new_seed(),
        participant_id=participant_id[:200],
        participant_source=participant_source,
        preview=preview,
    )
    frozen = _frozen_stimuli(test)
    utterances = listening_test_utterances(test)
    load = _item_load(test, utterances)
    conditions = {str(c.pk): c for c in test.conditions.all()}
    plan = design.session_plan(
        load=load,
        conditions=list(conditions),
        trials=test.trials_per_session or len(utterances),
        session_number=number,
        seed=session.seed,
    )
    if test.training:
        practice = _training_item(load, plan, session.seed)
        order = design.condition_order(list(conditions), design.trial_rng(session.seed, -1))
        plan = [design.TrialPlan(item=practice, conditions=order), *plan]
    for position, trial_plan in enumerate(plan):
        trial = Trial.objects.create(
            session=session,
            position=position,
            utterance_id=trial_plan.item,
            training=test.training and position == 0,
            reference_public_id=_public_id(),
        )
        TrialSignal.objects.bulk_create(
            TrialSignal(
                trial=trial,
                condition=conditions[key],
                stimulus=frozen[(int(key), trial_plan.item)],
                public_id=_public_id(),
                order=order,
            )
            for order, key in enumerate(trial_plan.conditions)
        )
    return session


def _public_id() -> str:
    # 128 random bits: unguessable, and unrelated to anything stored.
    return secrets.token_urlsafe(16)


def _frozen_stimuli(test: ListeningTest) -> dict[tuple[int, int], Stimulus]:
    """The stimuli frozen at opening; for a draft's preview, those the test would freeze now."""
    if test.status == ListeningTest.Status.DRAFT:
        conditions = list(test.conditions.select_related("system"))
        chosen, missing = _stimuli_of(conditions, listening_test_utterances(test))
        if missing:
            raise InputError(f"test '{test}' cannot be previewed yet", missing)
        return {(c.pk, u.pk): stimulus for (c, u), stimulus in chosen.items()}
    rows = ConditionStimulus.objects.filter(test=test).select_related("stimulus")
    return {(r.condition_id, r.utterance_id): r.stimulus for r in rows}


def _item_load(test: ListeningTest, utterances: list[Utterance]) -> dict[int, int]:
    """Real trials per utterance so far, sessions in progress included."""
    counts = dict(
        Trial.objects.filter(session__test=test, session__preview=False, training=False)
        .values_list("utterance_id")
        .annotate(n=Count("pk"))
    )
    return {u.pk: counts.get(u.pk, 0) for u in utterances}


def _training_item(load: dict[int, int], plan: list, seed: int) -> int:
    """Practise on an utterance this session will not rate, where there is one."""
    used = {t.item for t in plan}
    spare = sorted(set(load) - used)
    pool = spare or sorted(load)
    return pool[design.trial_rng(seed, -2).randrange(len(pool))]


def trial_submit(*, session: Session, position: int, key: str, ratings: dict) -> Trial:
    """Store one trial's ratings once; a repeated send (same key) changes nothing."""
    if not isinstance(key, str) or not 8 <= len(key) <= 100:
        raise InputError("the submission needs an idempotency key of 8 to 100 characters")
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        trial = session.trials.filter(position=position).first() if _is_int(position) else None
        if trial is None:
            raise InputError(f"this session has no trial {position!r}")
        if trial.submitted_at is not None:
            if trial.submission_key == key:
                return trial  # the answer to an earlier send was lost; it is saved
            raise InputError(f"trial {position} is already saved")
        if session.stage == Session.Stage.DONE:
            raise InputError("this session is finished; nothing more can be saved")
        rows = _checked_ratings(trial, ratings)
        if not trial.training:  # practice ratings are discarded by design
            try:
                with transaction.atomic():
                    Rating.objects.bulk_create(rows)
            except IntegrityError:
                raise InputError(f"ratings of trial {position} are already stored") from None
        trial.submitted_at, trial.submission_key = timezone.now(), key
        trial.save(update_fields=["submitted_at", "submission_key"])
        if not session.trials.filter(submitted_at__isnull=True).exists():
            session.stage = (
                Session.Stage.QUESTIONNAIRE if session.test.questionnaire else Session.Stage.DONE
            )
            session.finished_at = None if session.test.questionnaire else timezone.now()
            session.save(update_fields=["stage", "finished_at"])
    return trial


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_ratings(trial: Trial, ratings) -> list[Rating]:
    if not isinstance(ratings, dict):
        raise InputError("ratings must be an object of signal id → rating")
    signals = {s.public_id: s for s in trial.signals.all()}
    problems = []
    if missing := len(set(signals) - set(ratings)):
        problems.append(f"{missing} of the {len(signals)} samples are not rated")
    if unknown := len(set(ratings) - set(signals)):
        problems.append(f"{unknown} rating(s) name samples that are not in this trial")
    rows = []
    for public_id, rating in ratings.items():
        if public_id not in signals:
            continue
        rating = rating if isinstance(rating, dict) else {"score": rating}
        score = rating.get("score")
        if not _is_number(score) or not 0 <= score <= 100:
            problems.append(f"a score must be a number from 0 to 100, got {score!r}")
            continue
        plays, listened = rating.get("plays", 0), rating.get("listening_ms", 0)
        if not (_is_int(plays) and _is_int(listened) and plays >= 0 and listened >= 0):
            problems.append("plays and listening_ms must be whole numbers ≥ 0")
            continue
        signal = signals[public_id]
        rows.append(
            Rating(
                session_id=trial.session_id,
                trial=trial,
                condition_id=signal.condition_id,
                score=float(score),
                plays=plays,
                listening_ms=min(listened, 2**31 - 1),
            )
        )
    if problems:
        raise InputError(f"trial {trial.position} was not saved", problems)
    return rows


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def session_consent(*, session: Session) -> None:
    if session.stage == Session.Stage.CONSENT:
        Session.objects.filter(pk=session.pk).update(
            stage=Session.Stage.INSTRUCTIONS, consented_at=timezone.now()
        )


def session_begin_trials(*, session: Session) -> None:
    Session.objects.filter(pk=session.pk, stage=Session.Stage.INSTRUCTIONS).update(
        stage=Session.Stage.TRIALS
    )


QUESTIONS = {
    "age_band": [
        "under 18",
        "18-24",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
        "65 or over",
        "rather not say",
    ],
    "headphones": ["closed headphones", "open headphones", "earbuds", "loudspeakers", "other"],
}


def session_questionnaire(*, session: Session, answers: dict) -> None:
    """The end questionnaire; finishing the session. Answers are checked, never free HTML."""
    if session.stage != Session.Stage.QUESTIONNAIRE:
        raise InputError("the questionnaire is not open for this session")
    clean, problems = {}, []
    for field, choices in QUESTIONS.items():
        value = answers.get(field, "")
        if value not in choices:
            problems.append(f"{field.replace('_', ' ')}: choose one of the options")
        clean[field] = value
    clean["native_language"] = str(answers.get("native_language", "")).strip()[:100]
    clean["comment"] = str(answers.get("comment", "")).strip()[:2000]
    if not clean["native_language"]:
        problems.append("native language: please fill it in")
    if problems:
        raise InputError("the questionnaire is incomplete", problems)
    Session.objects.filter(pk=session.pk).update(
        questionnaire=clean, stage=Session.Stage.DONE, finished_at=timezone.now()
    )


def reference_stimulus(trial: Trial) -> Stimulus:
    """The open reference plays the same recording as the trial's hidden reference."""
    return trial.signals.select_related("stimulus").get(condition__role="reference").stimulus
