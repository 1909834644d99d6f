"""What killed workers left unfinished, found in our tables and queued again when a worker starts
(DESIGN.md §4 and §11: the tables are the truth, not the broker).

A worker killed mid-task takes its message with it: the embedded filesystem broker cannot give
it back, and Redis gives it back only after its visibility timeout (evalsite/celery.py). So a
worker that starts queues again every task kind its queue runs, from the rows still unfinished:
`synth` — pending items of running jobs and registration checks not yet done; `cpu` — pending
stimuli, imports not finished, and stimuli of corpora whose metrics were requested (a
MetricRequest row) that still lack one of them. Every task is idempotent (and an import runs
once at a time, see import_runs), so queueing one that is also still in the broker, or running
on another worker, costs a little time and never a duplicate.
"""

from evalsite import dispatch
from synth_workers.models import ImportRun, Stimulus, SynthesisItem, SynthesisJob, System
from synth_workers.services.metrics import metrics_resume
from synth_workers.services.synthesis import enqueue_batches


def synth_resume() -> dict[str, int]:
    """For a worker on the `synth` queue: synthesis batches and registration checks."""
    return {"synthesis batches": jobs_resume(), "system checks": checks_resume()}


def cpu_resume() -> dict[str, int]:
    """For a worker on the `cpu` queue: stimulus preparations, imports and metrics."""
    return {
        "preparations": preparations_resume(),
        "imports": imports_resume(),
        "metric measurements": metrics_resume(),
    }


def jobs_resume() -> int:
    """Queue again every pending item of running jobs; returns how many batches were queued.

    Only running jobs: a job that never started still has all its batches in the queue (its
    first batch marks it running before rendering anything).
    """
    queued = 0
    for job_id in SynthesisJob.objects.filter(status=SynthesisJob.Status.RUNNING).values_list(
        "pk", flat=True
    ):
        ids = list(
            SynthesisItem.objects.filter(
                job_id=job_id, status=SynthesisItem.Status.PENDING
            ).values_list("pk", flat=True)
        )
        if ids:
            queued += enqueue_batches(job_id, ids)
    return queued


def checks_resume() -> int:
    """Queue again the smoke test of every checkpoint system still waiting for one."""
    waiting = System.objects.filter(
        kind=System.Kind.CHECKPOINT, usable=False, check_error=System.CHECK_PENDING
    ).values_list("pk", flat=True)
    for system_id in waiting:
        dispatch.send_now(dispatch.CHECK_SYSTEM, system_id)
    return len(waiting)


def preparations_resume() -> int:
    """Queue again the preparation of every pending stimulus (anchors: see stimulus_prepare)."""
    queued = 0
    pending = Stimulus.objects.filter(status=Stimulus.Status.PENDING).order_by("pk")
    for stimulus_id in pending.values_list("pk", flat=True).iterator(chunk_size=2000):
        dispatch.send_now(dispatch.PREPARE_STIMULUS, stimulus_id)
        queued += 1
    return queued


def imports_resume() -> int:
    """Queue again every import that is queued or was running (its runner may be dead)."""
    unfinished = ImportRun.objects.filter(
        status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]
    ).values_list("pk", flat=True)
    for run_id in unfinished:
        dispatch.send_now(dispatch.RUN_IMPORT, run_id)
    return len(unfinished)
