from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from evalsite import project_views, views

admin.site.site_header = settings.SITE_NAME
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", project_views.dashboard, name="dashboard"),
    path("projects/", project_views.project_list, name="projects"),
    path("projects/<int:project_id>/members/", project_views.members, name="project-members"),
    path(
        "projects/<int:project_id>/members/change",
        project_views.member_change,
        name="project-member-change",
    ),
    # Namespaced: the router names its routes like "project-members", which would otherwise
    # shadow the pages' own names (the dashboard's Members link led to the API's JSON).
    path("api/", include("evalsite.api.urls", namespace="api")),
    path("tokens/", project_views.tokens, name="tokens"),
    path("admin/", admin.site.urls),
    path("synthesis/", include("synth_workers.urls")),
    path("", include("mushra.urls")),
]
