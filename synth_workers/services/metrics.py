"""Objective metrics stored per stimulus (DESIGN.md §12), measured by idempotent `cpu` tasks.

A stored row carries the metric's name, version and model hash; a metric is "current" for a
stimulus when a row with the registry's present version and hash exists. Measuring skips current
metrics, so a re-delivered task stores nothing more, and a new version is stored beside the old.
Which metrics apply to a stimulus: all, except those that need a text the utterance lacks and
those whose language list excludes the stimulus' language (its condition's ``language`` when
synthesised in another language, else the utterance's).

The metric models are the optional extra ``evalsite[metrics]``: when one is missing the caller
gets InputError("install evalsite[metrics] on the workers …"), never a traceback.
"""

import io

import soundfile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from evalsite import dispatch
from evalsite.errors import InputError
from synth_workers.metric_catalog import (
    INSTALL_HINT,
    MISSING_PACKAGE,
    chosen_metrics,
    metric_registry,
    provenance,
    stimulus_language,
)
from synth_workers.models import Corpus, MetricRequest, Stimulus, StimulusMetric, System
from synth_workers.selectors import corpus_stimuli, missing_by_stimulus


def stimulus_measure(*, stimulus_id: int, names: list[str] | None = None) -> int:
    """Measure the metrics that apply to one ready stimulus and are not stored for their current
    version; returns how many rows were stored (0 for a stimulus not ready, or all current)."""
    metrics = chosen_metrics(names)
    stim = Stimulus.objects.select_related("utterance").filter(pk=stimulus_id).first()
    if stim is None:
        return 0
    todo = missing_by_stimulus(Stimulus.objects.filter(pk=stim.pk), metrics).get(stim.pk, [])
    if not todo:
        return 0
    with default_storage.open(stim.audio.name, "rb") as f:
        data, rate = soundfile.read(io.BytesIO(f.read()), dtype="float32", always_2d=True)
    samples = data.mean(axis=1)  # models take mono; prepared stimuli are mono or near-identical
    text = stim.utterance.text
    language = stimulus_language(stim.condition, stim.utterance.language)
    rows = []
    for metric in todo:
        name, version, model_hash = provenance(metric)
        value = _value(metric, samples, rate, text=text, language=language)
        rows.append(
            StimulusMetric(
                stimulus=stim, name=name, version=version, model_hash=model_hash, value=value
            )
        )
    return _store(rows)


def _value(metric, samples, rate: int, *, text: str, language: str) -> dict:
    """The metric's dict; an audio it cannot measure is recorded as an error value, since
    measuring the same file again with the same version would fail the same way."""
    from synth_workers.audio import AudioError

    try:
        return metric.function(samples, rate, text=text, language=language)
    except AudioError as exc:
        return {"error": str(exc)}
    except MISSING_PACKAGE as exc:
        raise InputError(f"{INSTALL_HINT}: metric {metric.name!r} cannot load ({exc})") from None


def _store(rows: list[StimulusMetric]) -> int:
    """Insert each row in its own savepoint: a concurrent run's duplicate is skipped, uncounted."""
    stored = 0
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
            stored += 1
    return stored


def corpus_metrics_request(
    *, corpus: Corpus, names: list[str] | None = None, systems: list[System] | None = None
) -> int:
    """Record the request and queue one task per ready stimulus lacking a current metric (after
    commit); returns how many were queued. ``systems`` narrows it to their stimuli (a listening
    test's conditions: its systems under test and the recordings its reference and anchors
    come from)."""
    metrics = chosen_metrics(names)
    requested = [m.name for m in metrics] if names else []
    with transaction.atomic():
        request = MetricRequest.objects.create(corpus=corpus, names=requested)
        stimuli = corpus_stimuli(corpus)
        if systems:
            request.systems.set(systems)
            stimuli = stimuli.filter(system__in=systems)
        missing = missing_by_stimulus(stimuli, metrics)
        ids = [pk for pk, todo in missing.items() if todo]
        for pk in ids:
            dispatch.send_on_commit(dispatch.MEASURE_STIMULUS, pk, requested or None)
    return len(ids)


def metrics_resume() -> int:
    """For a starting `cpu` worker: queue again every stimulus of a requested corpus that still
    lacks a requested metric. 0 when the metrics extra is not installed on this worker."""
    # (corpus, systems or () for all) → metric names, "*" for every one
    wanted: dict[tuple[int, tuple[int, ...]], set[str]] = {}
    for request in MetricRequest.objects.prefetch_related("systems"):
        scope = (request.corpus_id, tuple(sorted(s.pk for s in request.systems.all())))
        wanted.setdefault(scope, set()).update(request.names or ["*"])
    queued = 0
    try:
        registry = metric_registry()
        for (corpus_id, system_ids), names in wanted.items():
            names = set(registry) if "*" in names else names & set(registry)
            if not names:  # every metric asked for has left the registry since
                continue
            metrics = chosen_metrics(sorted(names))
            stimuli = Stimulus.objects.filter(utterance__corpus_id=corpus_id)
            if system_ids:
                stimuli = stimuli.filter(system_id__in=system_ids)
            for pk, todo in missing_by_stimulus(stimuli, metrics).items():
                if todo:
                    dispatch.send_now(dispatch.MEASURE_STIMULUS, pk, [m.name for m in todo])
                    queued += 1
    except InputError:
        return queued
    return queued
