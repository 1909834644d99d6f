from django.urls import path

from synth_workers import audition_views, scientist_views, views

app_name = "synth_workers"
urlpatterns = [
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/progress.json", views.job_progress_json, name="job-progress"),
    path("systems/<int:system_id>/", scientist_views.system_detail, name="system"),
    path("corpora/<int:corpus_id>/", scientist_views.corpus_detail, name="corpus"),
    path("corpora/<int:corpus_id>/audition/", audition_views.audition, name="audition"),
    path("stimuli/<int:stimulus_id>/audio", audition_views.stimulus_audio, name="stimulus-audio"),
    path(
        "stimuli/<int:stimulus_id>/provenance.json",
        audition_views.stimulus_provenance,
        name="stimulus-provenance",
    ),
]
