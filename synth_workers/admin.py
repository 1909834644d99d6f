"""Admin for systems, corpora and stimuli, with the two imports as admin pages."""

from collections import Counter

from django.contrib import admin, messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from evalsite import access
from evalsite.admin import ProjectScopedAdmin
from evalsite.errors import InputError
from synth_workers.backends import available_backends
from synth_workers.forms import CheckpointRegistrationForm, CorpusImportForm, RenderedImportForm
from synth_workers.models import (
    CheckpointFile,
    Corpus,
    ImportRun,
    Stimulus,
    SynthesisJob,
    System,
    Utterance,
)
from synth_workers.selectors import backend_choices, import_run_state
from synth_workers.services.import_runs import import_run_create
from synth_workers.services.synthesis import job_cancel


def _start_import(request, form_class, title: str, kind: str, params):
    """Shared admin page flow: validate the form, then hand the upload to a worker and show
    its progress (checking thousands of files would outlive a web request)."""
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        uploads = {k: data.get(k) for k in ("manifest", "audio") if k in data}
        try:
            run = import_run_create(
                kind=kind, params=params(data), uploads=uploads, user=request.user
            )
        except InputError as exc:  # refused before anything is stored (a name already taken)
            form.add_error(None, exc.message)
        else:
            return redirect("admin:synth_workers_importrun_progress", run.pk)
    context = {**admin.site.each_context(request), "form": form, "title": title}
    return render(request, "admin/synth_workers/import.html", context)


class CheckpointFileInline(admin.TabularInline):
    model = CheckpointFile
    extra = 0
    readonly_fields = ["sha256", "size"]


@admin.register(System)
class SystemAdmin(ProjectScopedAdmin):
    list_filter = ["kind", "trusted"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CheckpointFileInline]
    change_list_template = "admin/synth_workers/system_changelist.html"

    def get_readonly_fields(self, request, obj=None):
        # Trusting a system lets pickle-based checkpoints load: administrators only.
        # The worker's smoke test decides usability; nobody ticks it by hand.
        checked = [*super().get_readonly_fields(request, obj), "usable", "check_error"]
        checked.append("capabilities")
        return checked if request.user.is_superuser else [*checked, "trusted"]

    list_display = ["name", "kind", "backend", "usable", "trusted", "owner", "created_at"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_rendered_view)
        register = self.admin_site.admin_view(self.register_view)
        return [
            path("import/", view, name="synth_workers_system_import"),
            path("register/", register, name="synth_workers_system_register"),
            *super().get_urls(),
        ]

    def register_view(self, request):
        """Register a checkpoint: pick a backend, then its files and config (see forms.py)."""
        context = {**admin.site.each_context(request), "title": "Register a model checkpoint"}
        name = request.GET.get("backend")
        backends = available_backends()
        if name not in backends:
            context["backends"] = backend_choices(backends)
            return render(request, "admin/synth_workers/register.html", context)
        form = CheckpointRegistrationForm(
            request.POST or None,
            request.FILES or None,
            backend=backends[name],
            may_trust=request.user.is_superuser,
            # A staff member builds only on systems of their own projects.
            base_systems=access.visible(request.user, System.objects.all()),
        )
        if request.method == "POST" and form.is_valid():
            system = form.register(owner=request.user)
            if system is not None:
                messages.success(
                    request,
                    f"Registered '{system}'. A worker now renders a test sentence with it; "
                    "it becomes usable when that works (reload this page to see).",
                )
                return redirect(reverse("admin:synth_workers_system_change", args=[system.pk]))
        context.update(form=form, backend=name)
        return render(request, "admin/synth_workers/register.html", context)

    def import_rendered_view(self, request):
        def params(data: dict) -> dict:
            return {
                "corpus_id": data["corpus"].pk,
                "name": data["system_name"],
                "system_name": data["system_name"],
                "pattern": data["pattern"],
                "description": data["description"],
                "skip_bad": data["skip_bad"],
            }

        title = "Import pre-rendered audio"
        return _start_import(request, RenderedImportForm, title, ImportRun.Kind.RENDERED, params)


@admin.register(Corpus)
class CorpusAdmin(ProjectScopedAdmin):
    list_display = ["name", "default_language", "recordings", "preparation", "created_at"]
    search_fields = ["name"]
    change_list_template = "admin/synth_workers/corpus_changelist.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_corpus_view)
        return [path("import/", view, name="synth_workers_corpus_import"), *super().get_urls()]

    def import_corpus_view(self, request):
        def params(data: dict) -> dict:
            keys = ("name", "default_language", "skip_bad")
            return {k: data[k] for k in keys}

        return _start_import(
            request, CorpusImportForm, "Import a corpus", ImportRun.Kind.CORPUS, params
        )

    @admin.display(description="stimuli prepared")
    def preparation(self, corpus: Corpus) -> str:
        counts = Counter(
            Stimulus.objects.filter(utterance__corpus=corpus).values_list("status", flat=True)
        )
        total = sum(counts.values())
        failed = f", {counts['failed']} failed" if counts["failed"] else ""
        return format_html(
            '<progress value="{}" max="{}"></progress> {} / {}{}',
            counts["ready"],
            max(total, 1),
            counts["ready"],
            total,
            failed,
        )


@admin.register(Utterance)
class UtteranceAdmin(ProjectScopedAdmin):
    project_path = "corpus__project"
    list_display = ["key", "corpus", "language", "speaker", "style", "text"]
    list_filter = ["corpus", "language"]
    search_fields = ["key", "text"]


@admin.register(Stimulus)
class StimulusAdmin(ProjectScopedAdmin):
    project_path = "system__project"
    list_display = [
        "utterance",
        "system",
        "condition",
        "status",
        "sample_rate",
        "loudness_lufs",
        "true_peak_dbtp",
        "duration",
    ]
    list_filter = ["status", "system", "utterance__corpus"]
    readonly_fields = [f.name for f in Stimulus._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # stimuli come from imports and synthesis, never typed in


@admin.register(SynthesisJob)
class SynthesisJobAdmin(ProjectScopedAdmin):
    list_display = ["pk", "system", "corpus", "status", "progress", "created_at"]
    list_filter = ["status", "system"]
    readonly_fields = [f.name for f in SynthesisJob._meta.fields]
    actions = ["cancel"]

    def has_add_permission(self, request) -> bool:
        return False  # jobs are created with `manage.py synthesize` (a form comes later)

    @admin.display(description="progress")
    def progress(self, job: SynthesisJob) -> str:
        url = reverse("synth_workers:job", args=[job.pk])
        return format_html(
            '<a href="{}"><progress value="{}" max="{}"></progress> {} / {}</a>',
            url,
            job.done + job.failed,
            max(job.total, 1),
            job.done,
            job.total,
        )

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request, queryset) -> None:
        for job in queryset:
            job_cancel(job=job)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Imports started here: read-only, each with a live progress page. They name any project's
    corpora and files, so operators (superusers) only."""

    list_display = ["__str__", "status", "done", "total", "created_by", "created_at"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False  # runs start from the import pages

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        progress = self.admin_site.admin_view(self.progress_view)
        progress_json = self.admin_site.admin_view(self.progress_json)
        return [
            path("<int:run_id>/progress/", progress, name="synth_workers_importrun_progress"),
            path(
                "<int:run_id>/progress.json",
                progress_json,
                name="synth_workers_importrun_progress_json",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, run_id: int):
        run = get_object_or_404(ImportRun, pk=run_id)
        back = "system_import" if run.kind == ImportRun.Kind.RENDERED else "corpus_import"
        context = {
            **admin.site.each_context(request),
            "title": str(run),
            "run": run,
            "state": import_run_state(run),
            "retry_url": reverse(f"admin:synth_workers_{back}"),
            "corpora_url": reverse("admin:synth_workers_corpus_changelist"),
        }
        return render(request, "admin/synth_workers/import_progress.html", context)

    def progress_json(self, request, run_id: int) -> JsonResponse:
        return JsonResponse(import_run_state(get_object_or_404(ImportRun, pk=run_id)))
