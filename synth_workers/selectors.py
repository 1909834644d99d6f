"""Reads that views share: a job's progress as plain data."""

from django.utils import timezone

from synth_workers.models import SynthesisItem, SynthesisJob


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
