"""Scientist pages of synth_workers (staff only): a synthesis job's live progress."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render

from synth_workers.models import SynthesisJob
from synth_workers.selectors import job_progress


@staff_member_required
def job_detail(request, job_id: int):
    job = get_object_or_404(SynthesisJob.objects.select_related("system", "corpus"), pk=job_id)
    return render(request, "synth_workers/job.html", {"job": job, "progress": job_progress(job)})


@staff_member_required
def job_progress_json(request, job_id: int) -> JsonResponse:
    job = get_object_or_404(SynthesisJob.objects.select_related("system", "corpus"), pk=job_id)
    return JsonResponse(job_progress(job))
