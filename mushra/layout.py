"""What every session of a test is built from: its conditions, utterances and frozen stimuli.

Once a test is open these never change (``listening_test_open`` froze them), so each process
keeps them after the first read instead of reading ~items × conditions rows per session start.
"""

from dataclasses import dataclass

from evalsite.errors import InputError
from mushra.models import ConditionStimulus, ListeningTest
from synth_workers.models import Stimulus

_CACHE: dict[tuple[int, object], "TestLayout"] = {}
_CACHE_SIZE = 256  # tests; a few kB each


@dataclass(frozen=True)
class TestLayout:
    condition_keys: list[str]  # condition pks as strings, in the test's order
    utterances: list[int]  # utterance pks, by key
    stimuli: dict[tuple[int, int], int]  # (condition pk, utterance pk) -> stimulus pk
    roles: dict[str, str]  # condition key -> Condition.Role (catch trials need them)


def listening_test_layout(test: ListeningTest) -> TestLayout:
    if test.status == ListeningTest.Status.DRAFT:
        return _draft_layout(test)  # a preview: what the test would freeze now
    key = (test.pk, test.opened_at)
    layout = _CACHE.get(key)
    if layout is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        layout = _CACHE[key] = _frozen_layout(test)
    return layout


def _frozen_layout(test: ListeningTest) -> TestLayout:
    rows = ConditionStimulus.objects.filter(test=test).values_list(
        "condition_id", "utterance_id", "stimulus_id"
    )
    stimuli = {(c, u): s for c, u, s in rows}
    roles = {str(pk): role for pk, role in test.conditions.values_list("pk", "role")}
    utterances = [u.pk for u in test.chosen_utterances()]
    return TestLayout(list(roles), utterances, stimuli, roles)


def _draft_layout(test: ListeningTest) -> TestLayout:
    conditions = list(test.conditions.select_related("system"))
    utterances = test.chosen_utterances()
    chosen, missing = stimuli_of(conditions, utterances)
    if missing:
        raise InputError(f"test '{test}' cannot be previewed yet", missing)
    stimuli = {(c.pk, u.pk): stimulus.pk for (c, u), stimulus in chosen.items()}
    roles = {str(c.pk): c.role for c in conditions}
    return TestLayout(list(roles), [u.pk for u in utterances], stimuli, roles)


def stimuli_of(conditions, utterances) -> tuple[dict, list[str]]:
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
