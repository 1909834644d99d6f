from django.urls import path

from mushra import views

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
]
