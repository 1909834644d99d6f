from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from evalsite import views

admin.site.site_header = settings.SITE_NAME
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("synthesis/", include("synth_workers.urls")),
    path("", include("mushra.urls")),
]
