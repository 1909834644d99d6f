"""The scientist's workspace for a project's inputs: import a corpus, import a system's
pre-rendered audio, register a checkpoint, and follow an import run. The same forms and services
as the admin (which is for operators), for a project's editors (``evalsite.access``: another
project's is a 404, a viewer gets 403).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from evalsite import access
from evalsite.errors import InputError
from evalsite.models import Project
from synth_workers.backends import available_backends
from synth_workers.forms import CheckpointRegistrationForm, CorpusImportForm, RenderedAudioForm
from synth_workers.models import Corpus, ImportRun, System
from synth_workers.selectors import (
    backend_choices,
    import_run_result,
    import_run_state,
    import_runs_of,
)
from synth_workers.services.import_runs import import_run_create


def _project(request: HttpRequest, project_id: int) -> Project:
    return access.get_or_404(request.user, Project.objects.all(), "change", via="id", pk=project_id)


def _start(request: HttpRequest, form, kind: str, params) -> ImportRun | None:
    """Queue the run of a valid form; None with the refusal on the form (nothing stored)."""
    data = form.cleaned_data
    uploads = {k: data.get(k) for k in ("manifest", "audio")}
    try:
        return import_run_create(kind=kind, params=params, uploads=uploads, user=request.user)
    except InputError as exc:
        form.add_error(None, exc.message)
        return None


@login_required
def corpus_import(request: HttpRequest, project_id: int):
    project = _project(request, project_id)
    form = CorpusImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        params = {k: form.cleaned_data[k] for k in ("name", "default_language", "skip_bad")}
        run = _start(request, form, ImportRun.Kind.CORPUS, {**params, "project_id": project.pk})
        if run is not None:
            return redirect("synth_workers:import-run", run_id=run.pk)
    context = {"form": form, "project": project, "title": "Import a corpus", "kind": "corpus"}
    return render(request, "synth_workers/import_form.html", context)


@login_required
def rendered_import(request: HttpRequest, corpus_id: int):
    corpus = access.get_or_404(
        request.user, Corpus.objects.select_related("project"), "change", pk=corpus_id
    )
    form = RenderedAudioForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = {k: data[k] for k in ("system_name", "pattern", "description", "skip_bad")}
        params.update(corpus_id=corpus.pk, name=data["system_name"])  # the system: the corpus'
        run = _start(request, form, ImportRun.Kind.RENDERED, params)
        if run is not None:
            return redirect("synth_workers:import-run", run_id=run.pk)
    context = {
        "form": form,
        "project": corpus.project,
        "corpus": corpus,
        "title": "Import pre-rendered audio",
        "kind": "rendered",
    }
    return render(request, "synth_workers/import_form.html", context)


def _run(request: HttpRequest, run_id: int) -> ImportRun:
    # Only the run's creator (or a superuser): a run names its uploads and its problems quote
    # their contents; nobody else learns that it exists.
    return get_object_or_404(import_runs_of(request.user), pk=run_id)


@login_required
def import_run(request: HttpRequest, run_id: int):
    run = _run(request, run_id)
    context = {"run": run, "state": _state(run)}
    if run.kind == ImportRun.Kind.RENDERED:
        corpus = Corpus.objects.filter(pk=run.params.get("corpus_id")).first()
        context["corpus"] = corpus
        if corpus is not None:
            context["retry_url"] = reverse("synth_workers:rendered-import", args=[corpus.pk])
    else:
        project_id = run.params.get("project_id")
        if project_id is not None:
            context["retry_url"] = reverse("synth_workers:corpus-import", args=[project_id])
    return render(request, "synth_workers/import_run.html", context)


@login_required
def import_run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    return JsonResponse(_state(_run(request, run_id)))


def _state(run: ImportRun) -> dict:
    """The admin's state, plus where the new corpus or system is once the run is done."""
    result = import_run_result(run)
    urls = {Corpus: "synth_workers:corpus", System: "synth_workers:system"}
    return {
        **import_run_state(run),
        "result_url": reverse(urls[type(result)], args=[result.pk]) if result else "",
        "result_name": str(result) if result else "",
    }


@login_required
def register(request: HttpRequest, project_id: int):
    """Pick a backend, then its files and config (one upload per role the backend declares)."""
    project = _project(request, project_id)
    backends = available_backends()
    name = request.GET.get("backend")
    context = {"project": project, "title": "Register a checkpoint"}
    if name not in backends:
        context["backends"] = backend_choices(backends)
        return render(request, "synth_workers/register.html", context)
    form = CheckpointRegistrationForm(
        request.POST or None,
        request.FILES or None,
        backend=backends[name],
        may_trust=request.user.is_superuser,
        base_systems=System.objects.filter(project=project),
    )
    if request.method == "POST" and form.is_valid():
        system = form.register(owner=request.user, project_id=project.pk)
        if system is not None:
            messages.success(
                request,
                f"Registered '{system}'. A worker now renders a test sentence with it; it "
                "becomes usable when that works (reload this page to see).",
            )
            return redirect("synth_workers:system", system_id=system.pk)
    context.update(form=form, backend=name)
    return render(request, "synth_workers/register.html", context)
