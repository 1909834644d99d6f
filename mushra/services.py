"""Writes of the mushra app about tests: build, open and close one (listeners: ``sessions``).

Every refusal is an ``InputError`` worded for the scientist building the test, and leaves the
database as it was.
"""

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from evalsite.errors import InputError
from mushra import attention, test_types
from mushra.layout import stimuli_of
from mushra.models import (
    HEADPHONE_TRIALS,
    LANGUAGES,
    MAX_ATTENTION_CHECKS,
    MAX_SIGNALS,
    MAX_TIME_LIMIT_MINUTES,
    Condition,
    ConditionStimulus,
    ItemLoad,
    ListeningTest,
)
from mushra.selectors import systems_of
from synth_workers.audio import LOW_ANCHOR, MID_ANCHOR
from synth_workers.models import Corpus, System, Utterance
from synth_workers.services.metrics import corpus_metrics_request

ANCHORS = {
    "low": (Condition.Role.ANCHOR_LOW, LOW_ANCHOR, "Low anchor (3.5 kHz)"),
    "mid": (Condition.Role.ANCHOR_MID, MID_ANCHOR, "Mid anchor (7 kHz)"),
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


def _reference_conditions(kind: test_types.TestType, recordings: System | None) -> list:
    """The recordings' own condition: BS.1534-3's hidden reference, or ACR's reference condition
    rated like any other (the role is the same: the analysis finds the recordings by it)."""
    if kind.hidden_reference:
        return [Condition(role="reference", system=recordings, label="Hidden reference")]
    if kind.recordings_condition and recordings is not None:
        return [Condition(role="reference", system=recordings, label="Recordings")]
    return []


def _mark_gold(conditions: list[Condition], kind: test_types.TestType) -> None:
    """P.808's gold clips among the conditions: the recordings (5: excellent, the same voice)
    and, for ACR, the low anchor (1: bad); a rating more than 1 off excludes the listener."""
    for condition in conditions:
        if condition.role == Condition.Role.REFERENCE:
            condition.gold_score = 5
        elif condition.role == Condition.Role.ANCHOR_LOW and not kind.similarity:
            condition.gold_score = 1  # a 3.5 kHz copy is bad speech, yet the same voice


def _check_options(options: dict, kind: test_types.TestType) -> None:
    """Refuse, with the option's name, values the database would refuse less politely."""
    problems = []
    if options.get("attention_checks") and not kind.attention_checks:
        problems.append(
            f"attention_checks: catch trials are defined for MUSHRA and ACR tests, not for "
            f"{kind.name}; use 0"
        )
    if options.get("require_one_100") and not kind.one_100:
        problems.append(
            f"require_one_100: a test of type {kind.name} has no hidden reference to rate 100; "
            "turn it off"
        )
    if (language := options.get("language", "en")) not in dict(LANGUAGES):
        problems.append(f"language: {language!r} is not one of {', '.join(dict(LANGUAGES))}")
    check = options.get("headphone_check", "")
    if check not in ListeningTest.HeadphoneCheck.values:
        known = ", ".join(v for v in ListeningTest.HeadphoneCheck.values if v)
        problems.append(f"headphone_check: {check!r} is not one of {known} (or empty: none)")
    ranges = {
        "headphone_pass_at": (1, HEADPHONE_TRIALS),
        "attention_checks": (0, MAX_ATTENTION_CHECKS),
        "time_limit_minutes": (1, MAX_TIME_LIMIT_MINUTES),
    }
    for name, (low, high) in ranges.items():
        value = options.get(name)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            problems.append(f"{name}: must be a whole number from {low} to {high}")
    if problems:
        raise InputError("the test's options are not valid", problems)


def listening_test_create(
    *,
    name: str,
    slug: str,
    corpus: Corpus,
    systems: list[SystemCondition],
    anchors: tuple[str, ...] | None = None,
    utterances: list[Utterance] | None = None,
    user=None,
    test_type: str = "mushra",
    gold: bool = False,
    **options,
) -> ListeningTest:
    """A draft test of `test_type` (``mushra.test_types``): the corpus' recordings as hidden
    reference (MUSHRA) or as one condition (ACR), the anchors, the systems."""
    if test_type not in test_types.TYPES:
        known = ", ".join(test_types.TYPES)
        raise InputError(f"test_type: {test_type!r} is not one of {known}")
    kind = test_types.of(test_type)
    anchors = kind.default_anchors if anchors is None else tuple(anchors)
    reference = corpus.recordings
    if reference is None and (kind.hidden_reference or anchors):
        needs = "its reference" if kind.hidden_reference else "the anchors, made from them"
        raise InputError(f"corpus '{corpus}' has no recordings: this test needs them as {needs}")
    if not systems:
        raise InputError("choose at least one system to compare")
    if options.get("question", kind.default_question) in test_types.DEFAULT_QUESTIONS:
        options["question"] = kind.default_question  # another type's default is no choice
    if not kind.one_100:  # nothing need deserve 100 without a hidden reference on 0-100
        options.setdefault("require_one_100", False)
    _check_options(options, kind)
    if gold and (kind.pair or not kind.categories):
        raise InputError(f"gold: gold clips are for ACR and SMOS tests, not {kind.name}")
    if gold and reference is None:
        raise InputError(f"gold: corpus '{corpus}' has no recordings to serve as gold clips")
    if unknown := sorted(set(anchors) - set(ANCHORS)):
        raise InputError(f"unknown anchor(s) {', '.join(unknown)}; use low and/or mid")
    if strangers := sorted(
        {w.system.name for w in systems if w.system.project_id != corpus.project_id}
    ):
        raise InputError(
            f"system(s) {', '.join(strangers)} belong to another project than corpus '{corpus}'"
        )
    with transaction.atomic():
        try:  # the unique slug decides, so two scientists racing for one address get a message
            with transaction.atomic():
                test = ListeningTest.objects.create(
                    name=name,
                    slug=slug,
                    corpus=corpus,
                    project_id=corpus.project_id,  # a test lives where its corpus does
                    created_by=user,
                    test_type=test_type,
                    **options,
                )
        except IntegrityError:
            raise InputError(f"a test with the address '{slug}' already exists") from None
        conditions = _reference_conditions(kind, reference)
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
        if gold:
            _mark_gold(conditions, kind)
        if kind.pair and len(conditions) < 2:
            raise InputError(
                f"a test of type {kind.name} compares pairs: choose at least two systems "
                "(or add anchors)"
            )
        if len({c.label for c in conditions}) < len(conditions):
            raise InputError("two conditions have the same name; give each a distinct label")
        for condition in conditions:
            condition.test = test
        Condition.objects.bulk_create(conditions)
        if utterances:
            test.utterances.set(utterances)
    return test


def listening_test_open(*, test: ListeningTest) -> ListeningTest:
    """Check the test can run, freeze its stimuli and open it; or list exactly what is missing."""
    if test.status != ListeningTest.Status.DRAFT:
        raise InputError(f"test '{test}' is {test.status}; only a draft can be opened")
    conditions = list(test.conditions.select_related("system"))
    utterances = test.chosen_utterances()
    problems = []
    if len(conditions) > MAX_SIGNALS:
        problems.append(
            f"{len(conditions)} signals per trial (hidden reference and anchors included); "
            f"ITU-R BS.1534-3 allows at most {MAX_SIGNALS}: compare fewer systems per test"
        )
    roles = {str(c.pk): c.role for c in conditions}
    problems += attention.problems(  # catch trials need a system (and MUSHRA's a reference)
        roles, test.attention_checks, test_types.of(test).hidden_reference
    )
    if test.trials_per_session and test.trials_per_session > len(utterances):
        problems.append(
            f"{test.trials_per_session} trials per session, but only {len(utterances)} utterances"
        )
    chosen, missing = stimuli_of(conditions, utterances)
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
        # Locked and checked again: a second click on "open" must not freeze the stimuli twice.
        locked = ListeningTest.objects.select_for_update().get(pk=test.pk)
        if locked.status != ListeningTest.Status.DRAFT:
            raise InputError(f"test '{test}' is {locked.status}; only a draft can be opened")
        ConditionStimulus.objects.bulk_create(
            ConditionStimulus(test=test, condition=c, utterance=u, stimulus=s)
            for (c, u), s in chosen.items()
        )
        ItemLoad.objects.bulk_create(ItemLoad(test=test, utterance=u) for u in utterances)
        test.status = ListeningTest.Status.OPEN
        test.policy_key = next(iter(policies))[0]
        test.opened_at = timezone.now()
        test.completion_code = test.completion_code or secrets.token_hex(4).upper()
        test.save(update_fields=["status", "policy_key", "opened_at", "completion_code"])
    return test


def listening_test_close(*, test: ListeningTest) -> None:
    ListeningTest.objects.filter(pk=test.pk).update(
        status=ListeningTest.Status.CLOSED, closed_at=timezone.now()
    )


def listening_test_metrics_request(*, test: ListeningTest, names: list[str] | None = None) -> int:
    """Measure the objective metrics of the test's stimuli: every stimulus of its systems (those
    under test, and the recordings its reference and anchors come from) on its corpus, so the
    training voices a sampled voice is compared with are measured too. Returns how many
    stimuli were queued; InputError when the metrics extra is missing or a name is unknown."""
    return corpus_metrics_request(corpus=test.corpus, names=names, systems=systems_of(test))
