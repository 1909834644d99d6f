from django.urls import path, register_converter

from mushra import i18n
from mushra.views import listener, scientist


class OpaqueId:
    """Session tokens and signal ids are urlsafe base64: anything else is a 404 at the router,
    before it can reach a query (a NUL in a path is an error on PostgreSQL)."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class Position:
    """A trial's position: at most four digits, so no number reaches the small-integer column
    it cannot fit (a 500 on PostgreSQL)."""

    regex = "[0-9]{1,4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(OpaqueId, "opaque")
register_converter(Position, "position")

app_name = "mushra"
urlpatterns = [
    path("t/<slug:slug>/", listener.entry, name="entry"),
    path("jsi18n/<slug:lang>/", i18n.javascript_catalog, name="jsi18n"),
    path("s/<opaque:token>/", listener.session_page, name="session"),
    path("s/<opaque:token>/consent", listener.consent, name="consent"),
    path("s/<opaque:token>/begin", listener.begin, name="begin"),
    path("s/<opaque:token>/questionnaire", listener.questionnaire, name="questionnaire"),
    path("s/<opaque:token>/screening", listener.screening, name="screening"),
    path("s/<opaque:token>/screening/calibration", listener.calibration, name="calibration"),
    path(
        "s/<opaque:token>/screening/<str:kind>/<position:position>/<position:interval>",
        listener.screening_audio,
        name="screening-audio",
    ),
    path("s/<opaque:token>/trials.json", listener.trials, name="trials"),
    path("s/<opaque:token>/ratings", listener.ratings, name="ratings"),
    path("s/<opaque:token>/audio/<opaque:public_id>", listener.audio, name="audio"),
    path(
        "s/<opaque:token>/trials/<position:position>/audio",
        listener.trial_audio,
        name="trial-audio",
    ),
    path("mushra/new/", scientist.new_test, name="new"),
    path("mushra/tests/<int:test_id>/", scientist.progress, name="progress"),
    path(
        "mushra/tests/<int:test_id>/progress.json",
        scientist.progress_json,
        name="progress-json",
    ),
    path("mushra/tests/<int:test_id>/preview", scientist.preview, name="preview"),
    path("mushra/tests/<int:test_id>/metrics", scientist.measure_metrics, name="metrics"),
    path(
        "mushra/tests/<int:test_id>/metrics.json",
        scientist.metrics_json,
        name="metrics-json",
    ),
    path(
        "mushra/tests/<int:test_id>/results.json",
        scientist.results_status,
        name="results-status",
    ),
    path(
        "mushra/tests/<int:test_id>/results/<str:name>",
        scientist.results_file,
        name="results",
    ),
    path("mushra/tests/<int:test_id>/planning", scientist.planning, name="planning"),
    path(
        "mushra/tests/<int:test_id>/planning.json",
        scientist.planning_status,
        name="planning-status",
    ),
    path(
        "mushra/tests/<int:test_id>/<str:action>",
        scientist.change_status,
        name="status",
    ),
]
