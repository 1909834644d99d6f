from django.urls import path

from synth_workers.views import audition, catalogue, jobs, workspace

app_name = "synth_workers"
urlpatterns = [
    path("jobs/<int:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<int:job_id>/progress.json", jobs.job_progress_json, name="job-progress"),
    path("jobs/<int:job_id>/cancel", jobs.job_cancel_view, name="job-cancel"),
    path("systems/<int:system_id>/synthesize/", jobs.synthesize, name="synthesize"),
    path("systems/<int:system_id>/", catalogue.system_detail, name="system"),
    path("corpora/<int:corpus_id>/", catalogue.corpus_detail, name="corpus"),
    path("corpora/<int:corpus_id>/audition/", audition.audition, name="audition"),
    path("corpora/<int:corpus_id>/metrics", catalogue.corpus_measure, name="corpus-metrics"),
    path(
        "corpora/<int:corpus_id>/metrics.json",
        catalogue.corpus_metrics_json,
        name="corpus-metrics-json",
    ),
    path("stimuli/<int:stimulus_id>/audio", audition.stimulus_audio, name="stimulus-audio"),
    path(
        "stimuli/<int:stimulus_id>/provenance.json",
        audition.stimulus_provenance,
        name="stimulus-provenance",
    ),
    # The workspace: a project's inputs, for its editors (workspace_views).
    path(
        "projects/<int:project_id>/corpora/import/",
        workspace.corpus_import,
        name="corpus-import",
    ),
    path(
        "corpora/<int:corpus_id>/import-rendered/",
        workspace.rendered_import,
        name="rendered-import",
    ),
    path("imports/<int:run_id>/", workspace.import_run, name="import-run"),
    path(
        "imports/<int:run_id>/progress.json",
        workspace.import_run_progress,
        name="import-run-progress",
    ),
    path("projects/<int:project_id>/systems/register/", workspace.register, name="register"),
]
