"""Listening tests over the API: create from a JSON spec, list, read, progress, open (with every
problem listed), close, and each results file. Thin: the access policy scopes every lookup;
writes go through ``mushra.services``; results use the results form's options
(``mushra.result_options``), so page and API read them alike."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from evalsite import access
from evalsite.api.idempotency import HEADER, idempotent
from evalsite.api.views import ProjectReadViewSet as Read
from evalsite.errors import InputError
from mushra import services
from mushra.analysis import AnalysisError
from mushra.forms import CROWD_FIELDS
from mushra.models import (
    HEADPHONE_TRIALS,
    LANGUAGES,
    MAX_ATTENTION_CHECKS,
    MAX_TIME_LIMIT_MINUTES,
    ListeningTest,
)
from mushra.result_options import (
    RESULT_FILES,
    report_options_from,
    result_names,
    worded_for_api,
)
from mushra.results import listening_test_report_file
from mushra.selectors import listening_test_progress
from synth_workers.models import Corpus, System

TOP_HELP = "The gap's top: any condition label (the hidden reference, or e.g. copy-synthesis)."
BY_HELP = (
    "Break down by a strata column of the test: age_band, headphones, native_language, "
    "utterance_language, utterance_style, utterance_speaker or condition_<key> for a key of the "
    "systems' synthesis conditions (a condition without the key counts in every stratum); "
    "any other name is refused."
)


class ListeningTestSerializer(serializers.ModelSerializer):
    listener_link = serializers.SerializerMethodField()

    class Meta:
        model = ListeningTest
        fields = [
            "id", "name", "slug", "test_type", "status", "project", "corpus", "language",
            "trials_per_session", "ratings_wanted", "training", "questionnaire",
            *CROWD_FIELDS, "redirect_url",
            "created_at", "opened_at", "closed_at", "listener_link",
        ]  # fmt: skip
        read_only_fields = fields

    def get_listener_link(self, test) -> str:
        return self.context["request"].build_absolute_uri(f"/t/{test.slug}/")


class TestSystemSpec(serializers.Serializer):
    system = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    condition = serializers.DictField(required=False, default=dict)
    label = serializers.CharField(required=False, default="", max_length=200)


class TestSpec(serializers.Serializer):
    """A listening test as JSON: its type, the corpus (its recordings are MUSHRA's hidden
    reference, ACR's reference condition), the systems under test with their synthesis
    conditions, the anchors and the options."""

    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100)
    corpus = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    systems = TestSystemSpec(many=True)
    test_type = serializers.ChoiceField(
        choices=ListeningTest.TestType.values, required=False, default="mushra"
    )
    gold = serializers.BooleanField(required=False, default=False)  # ACR/SMOS: P.808 gold clips
    anchors = serializers.ListField(  # default: the type's (MUSHRA: both; ACR: none)
        child=serializers.ChoiceField(choices=["low", "mid"]), required=False
    )
    trials_per_session = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    ratings_wanted = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    training = serializers.BooleanField(required=False)
    questionnaire = serializers.BooleanField(required=False)
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES], required=False)
    question = serializers.CharField(max_length=300, required=False)
    instructions = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    # Crowdsourcing (README "Crowdsourced tests"): screening, attention checks, codes, limit.
    headphone_check = serializers.ChoiceField(
        choices=ListeningTest.HeadphoneCheck.values, required=False, allow_blank=True
    )
    headphone_pass_at = serializers.IntegerField(
        min_value=1, max_value=HEADPHONE_TRIALS, required=False
    )
    volume_calibration = serializers.BooleanField(required=False)
    attention_checks = serializers.IntegerField(
        min_value=0, max_value=MAX_ATTENTION_CHECKS, required=False
    )
    time_limit_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_TIME_LIMIT_MINUTES, required=False, allow_null=True
    )
    completion_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    screen_out_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    time_out_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    redirect_url = serializers.URLField(max_length=200, required=False, allow_blank=True)
    screen_out_url = serializers.URLField(max_length=200, required=False, allow_blank=True)
    time_out_url = serializers.URLField(max_length=200, required=False, allow_blank=True)


OPTIONS = ["trials_per_session", "ratings_wanted", "training", "questionnaire", "language"]
OPTIONS += ["question", "instructions", "redirect_url", *CROWD_FIELDS]


def listening_test_from_spec(user, spec: dict) -> ListeningTest:
    """Look the spec's corpus and systems up in the user's projects (editors), then build."""
    corpus = access.visible(user, Corpus.objects.all(), "change").filter(pk=spec["corpus"]).first()
    if corpus is None:
        raise InputError(f"corpus {spec['corpus']}: none of your projects (as editor) has it")
    chosen = []
    for number, wanted in enumerate(spec["systems"], start=1):
        system = System.objects.filter(pk=wanted["system"], project_id=corpus.project_id).first()
        if system is None:
            raise InputError(
                f"systems.{number}: system {wanted['system']} is not in the corpus' project"
            )
        chosen.append(services.SystemCondition(system, wanted["condition"], wanted["label"]))
    options = {k: spec[k] for k in OPTIONS if k in spec}
    return services.listening_test_create(
        name=spec["name"], slug=spec["slug"], corpus=corpus, systems=chosen,
        anchors=spec.get("anchors"), test_type=spec["test_type"], gold=spec["gold"], user=user,
        **options,
    )  # fmt: skip


class ListeningTestViewSet(Read):
    """MUSHRA tests of your projects."""

    queryset = ListeningTest.objects.order_by("-created_at")
    serializer_class = ListeningTestSerializer

    @extend_schema(request=TestSpec, parameters=[HEADER], responses={201: ListeningTestSerializer})
    @idempotent
    def create(self, request) -> Response:
        """A draft test from a JSON spec (editors of the corpus' project); open it next."""
        spec = TestSpec(data=request.data)
        spec.is_valid(raise_exception=True)
        test = listening_test_from_spec(request.user, spec.validated_data)
        return Response(self.get_serializer(test).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None) -> Response:
        return Response(listening_test_progress(self.checked("view")))

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(RESULT_FILES)),
            OpenApiParameter("new", str), OpenApiParameter("base", str),
            OpenApiParameter("top", str, description=TOP_HELP),
            OpenApiParameter("by", str, many=True, description=BY_HELP),
            OpenApiParameter("compare", str, many=True), OpenApiParameter("screening", str),
            OpenApiParameter("mixed", str),
            OpenApiParameter("fast", str, description="'exclude': also exclude fast raters"),
        ],
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )  # fmt: skip
    @action(detail=True, methods=["get"], url_path=r"results/(?P<name>[a-z]+\.[a-z]+)")
    def results(self, request, pk=None, name: str = "") -> HttpResponse:
        """A results file (report.html, report.pdf, ratings.csv, mushra.csv, analysis.json,
        means.tex, the plots; sessions.csv for payments) computed from the ratings stored now,
        with the results form's options."""
        test = self.checked("view")
        if name not in (names := result_names(test)):
            raise InputError(f"no results file '{name}': use {', '.join(names)}")
        fmt, content_type, _, _ = RESULT_FILES[name]
        try:
            body = listening_test_report_file(test, fmt, name, report_options_from(request.GET))
        except AnalysisError as exc:
            raise InputError(f"no results: {worded_for_api(exc)}") from None
        return HttpResponse(body, content_type=content_type)

    @extend_schema(request=None, responses=ListeningTestSerializer)
    @action(detail=True, methods=["post"], url_path="open")
    def open_test(self, request, pk=None) -> Response:
        """Open a draft to listeners; a 400 lists everything that is missing."""
        test = services.listening_test_open(test=self.checked("change"))
        return Response(self.get_serializer(test).data)

    @extend_schema(request=None, responses=ListeningTestSerializer)
    @action(detail=True, methods=["post"], url_path="close")
    def close_test(self, request, pk=None) -> Response:
        test = self.checked("change")
        services.listening_test_close(test=test)
        test.refresh_from_db()
        return Response(self.get_serializer(test).data)
