from django.urls import path

from synth_workers import views

app_name = "synth_workers"
urlpatterns = [
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/progress.json", views.job_progress_json, name="job-progress"),
]
