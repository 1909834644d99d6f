"""/api/v1/: one router for every app's resources, the OpenAPI schema and Swagger UI."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from evalsite.api.views import ProjectViewSet, not_found
from mushra.api import ListeningTestViewSet
from synth_workers.api import CorpusViewSet, ImportRunViewSet, JobViewSet, SystemViewSet
from synth_workers.api_stimuli import StimulusViewSet

app_name = "api"
router = DefaultRouter()
router.trailing_slash = "/?"  # with or without the final slash (DRF's argument is a boolean)
router.register("projects", ProjectViewSet, basename="project")
router.register("systems", SystemViewSet, basename="system")
router.register("corpora", CorpusViewSet, basename="corpus")
router.register("jobs", JobViewSet, basename="job")
router.register("imports", ImportRunViewSet, basename="import")
router.register("stimuli", StimulusViewSet, basename="stimulus")
router.register("tests", ListeningTestViewSet, basename="test")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:api-schema"), name="api-docs"),
    re_path(r"^(?P<path>[\s\S]*)$", not_found),  # newlines too
]
