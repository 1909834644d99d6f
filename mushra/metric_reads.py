"""Reads of a listening test's objective metrics (DESIGN.md §12): what its stimuli measured, in
the form the pure :mod:`mushra.analysis.objective` takes, and how far a measurement has got.

Only the stimuli the test plays (frozen when it opened) enter its report; the recordings of its
hidden reference stand for the target speaker. For sampled voices ("sampled:<seed>" speakers),
the training voices are the named voices the same system rendered on the test's corpus.
"""

from __future__ import annotations

from mushra.analysis.objective import objective_summary
from mushra.models import Condition, ConditionStimulus, ListeningTest
from synth_workers.backends import SAMPLED_SPEAKER_PREFIX
from synth_workers.models import Stimulus, StimulusMetric
from synth_workers.selectors import current_metric_values, metric_panel_state


def listening_test_metric_scope(test: ListeningTest):
    """The stimuli a test's metric request measures
    (``mushra.services.listening_test_metrics_request``)."""
    return Stimulus.objects.filter(
        utterance__corpus_id=test.corpus_id, system_id__in=test.conditions.values("system_id")
    )


def listening_test_metric_progress(test: ListeningTest) -> dict:
    """{"ready": n, "measured": m} over the scope, or {"error": why} without the metrics extra."""
    return metric_panel_state(listening_test_metric_scope(test))


def listening_test_has_metric(test: ListeningTest, name: str) -> bool:
    """Whether any stimulus the test plays has a stored value of the metric (one query)."""
    played = ConditionStimulus.objects.filter(test=test).values("stimulus")
    return StimulusMetric.objects.filter(stimulus__in=played, name=name).exists()


def listening_test_stimulus_metrics(test: ListeningTest) -> list[dict]:
    """One dict per stimulus the test plays: condition label, item key, speaker and the metric
    values stored for it (current versions only); [] for a draft or when nothing is measured."""
    rows = list(
        ConditionStimulus.objects.filter(test=test).values_list(
            "stimulus_id",
            "condition__label",
            "utterance__key",
            "utterance__speaker",
            "stimulus__condition",
        )
    )
    values = current_metric_values(
        Stimulus.objects.filter(
            pk__in=ConditionStimulus.objects.filter(test=test).values("stimulus")
        )
    )
    return [
        {
            "condition": label,
            "item": item,
            "speaker": str((condition or {}).get("speaker") or speaker or ""),
            "metrics": values[pk],
        }
        for pk, label, item, speaker, condition in rows
        if pk in values
    ]


def training_voices(test: ListeningTest) -> dict[str, list[list[float]]]:
    """Speaker embeddings of the named voices rendered by the systems that render a sampled voice
    in this test, on its corpus: "<system> / <speaker>" → embeddings."""
    sampled_systems = {
        system_id
        for system_id, condition in test.conditions.filter(role=Condition.Role.SYSTEM).values_list(
            "system_id", "stimulus_condition"
        )
        if str((condition or {}).get("speaker") or "").startswith(SAMPLED_SPEAKER_PREFIX)
    }
    if not sampled_systems:
        return {}
    stimuli = Stimulus.objects.filter(
        utterance__corpus_id=test.corpus_id, system_id__in=sampled_systems
    )
    values = current_metric_values(stimuli, ["speaker_embedding"])
    voices: dict[str, list[list[float]]] = {}
    rows = stimuli.values_list("pk", "system__name", "condition", "utterance__speaker")
    for pk, system, condition, utterance_speaker in rows.iterator(chunk_size=5000):
        if pk not in values:
            continue
        speaker = str((condition or {}).get("speaker") or utterance_speaker or "")
        if speaker and not speaker.startswith(SAMPLED_SPEAKER_PREFIX):
            embedding = values[pk]["speaker_embedding"]["embedding"]
            voices.setdefault(f"{system} / {speaker}", []).append(embedding)
    return voices


def listening_test_objective(test: ListeningTest, conditions: list[dict]) -> dict | None:
    """The report's objective-metrics section for the analysed conditions, with one row per
    measured stimulus (the tidy exports join them to the ratings); None when nothing of the
    test is measured."""
    stimuli = listening_test_stimulus_metrics(test)
    if not stimuli:
        return None
    reference = test.conditions.filter(role=Condition.Role.REFERENCE).first()
    return objective_summary(
        stimuli,
        conditions,
        target=reference.label if reference else None,
        training_voices=training_voices(test),
    )
