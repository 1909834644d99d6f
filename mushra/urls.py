from django.urls import path

from mushra import scientist_views, views

app_name = "mushra"
urlpatterns = [
    path("t/<slug:slug>/", views.entry, name="entry"),
    path("s/<str:token>/", views.session_page, name="session"),
    path("s/<str:token>/consent", views.consent, name="consent"),
    path("s/<str:token>/begin", views.begin, name="begin"),
    path("s/<str:token>/questionnaire", views.questionnaire, name="questionnaire"),
    path("s/<str:token>/trials.json", views.trials, name="trials"),
    path("s/<str:token>/ratings", views.ratings, name="ratings"),
    path("s/<str:token>/audio/<str:public_id>", views.audio, name="audio"),
    path("mushra/new/", scientist_views.new_test, name="new"),
    path("mushra/tests/<int:test_id>/", scientist_views.progress, name="progress"),
    path(
        "mushra/tests/<int:test_id>/progress.json",
        scientist_views.progress_json,
        name="progress-json",
    ),
    path("mushra/tests/<int:test_id>/preview", scientist_views.preview, name="preview"),
    path(
        "mushra/tests/<int:test_id>/results/<str:name>",
        scientist_views.results_file,
        name="results",
    ),
    path(
        "mushra/tests/<int:test_id>/<str:action>",
        scientist_views.change_status,
        name="status",
    ),
]
