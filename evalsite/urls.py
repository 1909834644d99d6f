from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from evalsite.views import projects, site

admin.site.site_header = settings.SITE_NAME
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path("", site.landing, name="landing"),
    path("healthz", site.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", projects.dashboard, name="dashboard"),
    path("projects/", projects.project_list, name="projects"),
    path("projects/<int:project_id>/members/", projects.members, name="project-members"),
    path(
        "projects/<int:project_id>/members/change",
        projects.member_change,
        name="project-member-change",
    ),
    # Namespaced: the router names its routes like "project-members", which would otherwise
    # shadow the pages' own names (the dashboard's Members link led to the API's JSON).
    path("api/", include("evalsite.api.urls", namespace="api")),
    path("tokens/", projects.tokens, name="tokens"),
    path("admin/", admin.site.urls),
    path("synthesis/", include("synth_workers.urls")),
    path("", include("mushra.urls")),
]
