"""Scientist pages of synthesis jobs: start one from a system's page, follow its live progress,
cancel it. Members of the project only (``evalsite.access``; another project's job or system is a
404); starting and cancelling need an editor's role (403 for a viewer)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from evalsite import access
from evalsite.errors import InputError
from synth_workers.job_forms import SynthesisJobForm
from synth_workers.models import SynthesisJob, System
from synth_workers.selectors import job_progress
from synth_workers.services.synthesis import backend_info, job_cancel, job_create

CANCELLABLE = (SynthesisJob.Status.QUEUED, SynthesisJob.Status.RUNNING)


@login_required
def job_detail(request: HttpRequest, job_id: int):
    job = _job(request, job_id)
    context = {
        "job": job,
        "progress": job_progress(job),
        "can_cancel": job.status in CANCELLABLE
        and access.may(request.user, "change", job.project_id),
    }
    return render(request, "synth_workers/job.html", context)


@login_required
def job_progress_json(request: HttpRequest, job_id: int) -> JsonResponse:
    job = _job(request, job_id)
    return JsonResponse(job_progress(job))


@login_required
@require_POST
def job_cancel_view(request: HttpRequest, job_id: int):
    job = _job(request, job_id, "change")
    if job.status in CANCELLABLE:
        job_cancel(job=job)
        messages.success(
            request,
            f"Job {job.pk} is cancelled: its pending items will not be rendered "
            "(a batch already running finishes the items it holds).",
        )
    else:  # finished between the page's load and the click
        messages.error(request, f"Job {job.pk} is already {job.get_status_display().lower()}.")
    return redirect("synth_workers:job", job_id=job.pk)


@login_required
def synthesize(request: HttpRequest, system_id: int):
    """A job's form, or, for a system that cannot synthesize, a page saying why: a scientist who
    followed a link to it learns what to do instead of meeting a bare 404."""
    systems = System.objects.select_related("project")
    system = access.get_or_404(request.user, systems, "change", pk=system_id)
    context = {"system": system, "refusal": system.synthesis_refusal()}
    if not context["refusal"]:
        try:
            _, info = backend_info(system)
        except InputError as exc:
            context["refusal"] = exc.message
    if context["refusal"]:
        return render(request, "synth_workers/synthesize.html", context)
    form = SynthesisJobForm(request.POST or None, system=system, info=info)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = job_create(
                system=system,
                corpus=data["corpus"],
                grid=form.grid(),
                controls=data["controls"],
                seed=data["seed"],
                use_prosody_reference=data["use_prosody_reference"],
                user=request.user,
            )
        except InputError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Job {job.pk} is queued: {job.total} item(s) to render.")
            return redirect("synth_workers:job", job_id=job.pk)
    return render(request, "synth_workers/synthesize.html", {**context, "form": form})


def _job(request: HttpRequest, job_id: int, action: str = "view") -> SynthesisJob:
    jobs = SynthesisJob.objects.select_related("system", "corpus")
    return access.get_or_404(request.user, jobs, action, pk=job_id)
