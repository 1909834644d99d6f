"""Scientist pages of synth_workers: a synthesis job's live progress, for members of its
project (``evalsite.access``; another project's job is a 404)."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from evalsite import access
from synth_workers.models import SynthesisJob
from synth_workers.selectors import job_progress


@login_required
def job_detail(request, job_id: int):
    job = _job(request, job_id)
    return render(request, "synth_workers/job.html", {"job": job, "progress": job_progress(job)})


@login_required
def job_progress_json(request, job_id: int) -> JsonResponse:
    job = _job(request, job_id)
    return JsonResponse(job_progress(job))


def _job(request, job_id: int) -> SynthesisJob:
    jobs = SynthesisJob.objects.select_related("system", "corpus")
    return access.get_or_404(request.user, jobs, pk=job_id)
