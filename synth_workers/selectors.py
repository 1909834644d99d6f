"""Reads that views share: a job's progress as plain data; what a system's page shows; an import
run's state and outcome."""

import sys

from django.db.models import Count
from django.utils import timezone

from evalsite.errors import InputError
from synth_workers.metric_catalog import (
    applies,
    chosen_metrics,
    metric_registry,
    provenance,
    stimulus_language,
)
from synth_workers.models import (
    Corpus,
    ImportRun,
    Stimulus,
    StimulusMetric,
    SynthesisItem,
    SynthesisJob,
    System,
)


def job_progress(job: SynthesisJob) -> dict:
    """done / failed / total, an ETA from the pace so far, and the failures with their reasons."""
    finished = job.done + job.failed
    eta = None
    if job.started_at and 0 < finished < job.total and job.status == SynthesisJob.Status.RUNNING:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        eta = round(elapsed / finished * (job.total - finished))
    failures = job.items.filter(status=SynthesisItem.Status.FAILED).select_related("utterance")
    return {
        "id": job.pk,
        "system": job.system.name,
        "corpus": job.corpus.name,
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "eta_seconds": eta,
        "failures": [
            {"utterance": i.utterance.key, "condition": i.condition, "error": i.error}
            for i in failures[:200]
        ],
    }


def system_status(usable: bool, check_error: str) -> str:
    """usable, checking (no worker has tried the checkpoint yet) or check_error."""
    if usable:
        return "usable"
    return "checking" if check_error == System.CHECK_PENDING else "check_error"


STIMULI_SHOWN = 200


def system_overview(system: System) -> dict:
    """A system's files, jobs, stimuli per status and its first stimuli (four queries)."""
    stimuli = Stimulus.objects.filter(system=system)
    counts = dict(stimuli.order_by().values_list("status").annotate(n=Count("pk")))
    return {
        "status": system_status(system.usable, system.check_error),
        "files": list(system.files.order_by("role")),
        "jobs": list(system.jobs.select_related("corpus").order_by("-created_at")),
        "stimulus_counts": [
            (label, counts.get(value, 0)) for value, label in Stimulus.Status.choices
        ],
        "stimuli_total": sum(counts.values()),
        "stimuli": list(
            stimuli.order_by("utterance__key", "condition_key").values(
                "utterance__key", "condition", "status", "error"
            )[:STIMULI_SHOWN]
        ),
    }


def backend_choices(backends: dict) -> list[tuple[str, str]]:
    """(name, summary) of each backend, for the "which backend?" step: the first paragraph of
    its docstring, or of its module's (where the backends describe themselves), less the
    'The "name" backend:' that opens it."""
    choices = []
    for name, backend in backends.items():
        doc = backend.__doc__ or sys.modules[backend.__module__].__doc__ or ""
        summary = " ".join(doc.strip().split("\n\n")[0].split())
        choices.append((name, summary.removeprefix(f'The "{name}" backend: ')))
    return choices


def import_runs_of(user):
    """The import runs a user may follow: their own (uploads name files of their projects only
    they chose to send); a superuser's, all of them."""
    if user.is_superuser:
        return ImportRun.objects.all()
    return ImportRun.objects.filter(created_by=user)


def import_run_state(run: ImportRun) -> dict:
    """What the progress page shows, as JSON for its polling script."""
    return {
        "status": run.status,
        "status_text": run.get_status_display(),
        "finished": run.finished,
        "done": run.done,
        "total": run.total,
        "message": run.message,
        "problems": run.problems,
        "waiting_s": int((timezone.now() - run.created_at).total_seconds()),
    }


def import_run_result(run: ImportRun) -> Corpus | System | None:
    """The corpus or system a finished run made. The run keeps no link to it, but names are
    unique, so its name finds it (None if it was renamed or deleted since)."""
    if run.status != ImportRun.Status.DONE:
        return None
    if run.kind == ImportRun.Kind.RENDERED:
        return System.objects.filter(name=run.params.get("system_name")).first()
    return Corpus.objects.filter(name=run.params.get("name")).first()


# The per-system table of `manage.py measure_metrics`: (metric, field in its value, heading).
METRIC_TABLE = (
    ("f0", "median_st", "F0 median (st)"),
    ("f0", "voiced_fraction", "voiced"),
    ("dnsmos_quality_proxy", "ovrl", "DNSMOS OVRL (proxy)"),
    ("speaking_rate", "rate_per_s", "rate (/s)"),
    ("wer_relative", "wer", "WER (relative)"),
)


def corpus_metrics_progress(corpus: Corpus, names: list[str] | None = None) -> dict:
    """``ready`` stimuli of the corpus and how many are ``measured`` (every metric that applies
    stored for its current version). Exact, in two queries (missing_by_stimulus).
    """
    return metric_scope_progress(corpus_stimuli(corpus), names)


def corpus_metric_means(corpus: Corpus) -> list[dict]:
    """Per system (anchors apart): the mean of each METRIC_TABLE field over its stimuli, from the
    rows of the metrics' current versions only; None where nothing was measured. One query per
    field: only the field is read from the stored JSON, never the long F0 frame lists."""
    registry = metric_registry()
    sums: dict[str, dict[str, list[float]]] = {}
    for name, field, heading in METRIC_TABLE:
        if name not in registry:
            continue
        _, version, model_hash = provenance(registry[name])
        values = StimulusMetric.objects.filter(
            stimulus__utterance__corpus=corpus, name=name, version=version, model_hash=model_hash
        ).values_list("stimulus__system__name", "stimulus__condition__anchor", f"value__{field}")
        for system, anchor, value in values:
            label = f"{system} ({anchor})" if anchor else system
            if isinstance(value, int | float) and not isinstance(value, bool):
                sums.setdefault(label, {}).setdefault(heading, []).append(float(value))
            else:
                sums.setdefault(label, {})
    return [
        {"system": label, **{h: _mean(cols.get(h)) for _, _, h in METRIC_TABLE}}
        for label, cols in sorted(sums.items())
    ]


def _mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


def missing_by_stimulus(stimuli, metrics: list) -> dict[int, list]:
    """For each ready stimulus of the queryset: the metrics that apply and are not current.

    Two queries whatever the size (the stimuli, then the current rows), exact rather than a
    count-based guess; memory is one small tuple per stored row.
    """
    current = {m.name: provenance(m) for m in metrics}
    ready = stimuli.filter(status=Stimulus.Status.READY)
    rows = list(ready.values_list("pk", "condition", "utterance__text", "utterance__language"))
    stored = set(
        # A subquery, not a list of ids: a corpus of 10^5 stimuli would pass PostgreSQL's
        # limit of 65,535 parameters in one statement.
        StimulusMetric.objects.filter(stimulus__in=ready.values("pk"), name__in=current)
        .values_list("stimulus_id", "name", "version", "model_hash")
        .iterator(chunk_size=5000)
    )
    missing: dict[int, list] = {}
    for pk, condition, text, utt_language in rows:
        language = stimulus_language(condition, utt_language)
        missing[pk] = [
            m
            for m in metrics
            if applies(m, text=text, language=language) and (pk, *current[m.name]) not in stored
        ]
    return missing


def corpus_stimuli(corpus: Corpus):
    """Every stimulus of the corpus: its systems' (and anchors') stimuli on its utterances."""
    return Stimulus.objects.filter(utterance__corpus=corpus)


def current_metric_values(stimuli, names: list[str] | None = None) -> dict[int, dict[str, dict]]:
    """stimulus id → {metric name: stored value} for the ready stimuli of the queryset, from the
    rows of each metric's current version and model hash only (older versions are not mixed in;
    values that could not be measured are left out). One query per metric; {} when the metrics
    extra is not installed here."""
    try:
        registry = metric_registry()
        current = [provenance(m) for name, m in registry.items() if not names or name in names]
    except InputError:
        return {}
    ready = stimuli.filter(status=Stimulus.Status.READY).values("pk")
    out: dict[int, dict[str, dict]] = {}
    for name, version, model_hash in current:
        rows = StimulusMetric.objects.filter(
            stimulus__in=ready, name=name, version=version, model_hash=model_hash
        ).values_list("stimulus_id", "value")
        for pk, value in rows.iterator(chunk_size=5000):
            if isinstance(value, dict) and "error" not in value:
                out.setdefault(pk, {})[name] = value
    return out


def metric_scope_progress(stimuli, names: list[str] | None = None) -> dict:
    """``ready`` stimuli of the queryset and how many are ``measured`` (every metric that applies
    stored for its current version): what a progress bar shows."""
    missing = missing_by_stimulus(stimuli, chosen_metrics(names))
    return {"ready": len(missing), "measured": sum(1 for todo in missing.values() if not todo)}


def metric_panel_state(stimuli) -> dict:
    """What a page's metrics panel shows: ``metric_scope_progress``, or {"error": why} when this
    host cannot name the metrics (the extra is not installed)."""
    try:
        return metric_scope_progress(stimuli)
    except InputError as exc:
        return {"error": exc.message}
