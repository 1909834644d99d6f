"""Stimuli over the API: list them (by project, corpus, system, utterance, status, condition),
read one with its provenance, and download its prepared FLAC.

Scientists are members of the project, so the blinding that hides systems from listeners does
not apply: the audio is served under a neutral name, but the stimulus says whose it is. Every
filter value is checked here and refused with a 400 that names it: PostgreSQL rejects a NUL
character or an integer past 32 bits with a database error, which must never become a 500.
"""

import json
import re

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request

from evalsite.api.views import ProjectScopedViewSet
from evalsite.errors import InputError
from synth_workers.models import Stimulus

MAX_ID = 2**31 - 1  # what every id column accepts, on PostgreSQL too
MAX_CONDITIONS = 10
CONDITION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")  # a name, never an array index


class _SystemRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _UtteranceRef(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    text = serializers.CharField()


class StimulusSerializer(serializers.ModelSerializer):
    system = _SystemRef(read_only=True)
    utterance = _UtteranceRef(read_only=True)
    # Plain text in the schema: a fourth "status" enum would collide with the others' names.
    status = serializers.CharField(read_only=True, help_text="pending, ready or failed")
    audio = serializers.SerializerMethodField(help_text="Its prepared FLAC (once ready)")

    class Meta:
        model = Stimulus
        fields = [
            "id", "system", "utterance", "condition", "status", "error", "sample_rate",
            "duration", "loudness_lufs", "sha256", "prepared_at", "audio",
        ]  # fmt: skip
        read_only_fields = fields

    def get_audio(self, stimulus) -> str | None:
        if stimulus.status != Stimulus.Status.READY:
            return None
        request = self.context["request"]
        return request.build_absolute_uri(f"/api/v1/stimuli/{stimulus.pk}/audio/")


class StimulusDetailSerializer(StimulusSerializer):
    class Meta(StimulusSerializer.Meta):
        fields = [*StimulusSerializer.Meta.fields, "provenance"]
        read_only_fields = fields


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_ID


def _id(name: str, value: str) -> int:
    if not _is_id(value):
        raise InputError(f"{name} must be an id, a whole number from 1 to {MAX_ID}")
    return int(value)


def _text(name: str, value: str, limit: int = 200) -> str:
    if not value or len(value) > limit or not value.isprintable():
        raise InputError(f"{name} must be 1 to {limit} printable characters")
    return value


def _condition_pairs(values: list[str]) -> list[tuple[str, str]]:
    """``style=dj`` pairs, each ``?condition=`` holding one or several separated by commas."""
    parts = [part for value in values for part in value.split(",")]
    if len(parts) > MAX_CONDITIONS:
        raise InputError(f"condition: at most {MAX_CONDITIONS} key=value pairs")
    pairs = []
    for part in parts:
        key, equals, wanted = part.partition("=")
        if not equals or not CONDITION_KEY.fullmatch(key):
            shown = f" (not '{part[:40]}')" if part.isprintable() else ""
            raise InputError(
                f"condition must be key=value pairs such as style=dj{shown}: a key starts "
                "with a letter and holds letters, digits, '_', '.' or '-'"
            )
        pairs.append((key, _text(f"condition {key}", wanted)))
    return pairs


def _matching(value: str) -> list:
    """The JSON values a query-string value stands for: the text itself, and the number,
    boolean or null it spells (``speed=1.5`` finds ``{"speed": 1.5}`` and ``{"speed": "1.5"}``)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return [value]
    return [value] if isinstance(parsed, str | list | dict) else [value, parsed]


def stimuli_filtered(queryset: QuerySet, params) -> QuerySet:
    """``queryset`` narrowed by the list's query parameters; InputError for a malformed one."""
    for name, path in [("project", "system__project_id"), ("system", "system_id")]:
        if name in params:
            queryset = queryset.filter(**{path: _id(name, params[name])})
    if "corpus" in params:
        queryset = queryset.filter(utterance__corpus_id=_id("corpus", params["corpus"]))
    if "utterance" in params:
        wanted = _text("utterance", params["utterance"])
        match = Q(utterance__key=wanted)
        if _is_id(wanted):  # keys may be digits too ("0001"): a number is an id or a key
            match |= Q(utterance_id=int(wanted))
        queryset = queryset.filter(match)
    if "status" in params:
        status = params["status"]
        if status not in Stimulus.Status.values:
            raise InputError(f"status must be one of {', '.join(Stimulus.Status.values)}")
        queryset = queryset.filter(status=status)
    # Matched key by key in the JSON itself (KeyTransform works alike on SQLite and PostgreSQL):
    # condition_key hashes the whole condition, so it can only find an exact, complete one.
    for number, (key, wanted) in enumerate(_condition_pairs(params.getlist("condition"))):
        alias = f"condition_{number}"
        queryset = queryset.alias(**{alias: KeyTransform(key, "condition")})
        match = Q()
        for value in _matching(wanted):
            match |= Q(**{alias: value})
        queryset = queryset.filter(match)
    return queryset


class _JsonOrFile(BaseContentNegotiation):
    """The audio is a file whatever the Accept header says (``audio/flac`` would otherwise be a
    406): errors are JSON, the file is the file."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


FILTERS = [
    OpenApiParameter("project", int, description="Only this project's stimuli"),
    OpenApiParameter("corpus", int, description="Only this corpus' utterances"),
    OpenApiParameter("system", int, description="Only this system's stimuli"),
    OpenApiParameter("utterance", str, description="An utterance's id or key"),
    OpenApiParameter("status", str, enum=Stimulus.Status.values),
    OpenApiParameter(
        "condition", str, many=True,
        description="key=value pairs the condition holds, e.g. style=dj (repeat the parameter "
        "or separate pairs by commas; all must match)",
    ),
]  # fmt: skip


@extend_schema_view(
    list=extend_schema(parameters=FILTERS),
    retrieve=extend_schema(description="One stimulus, with the provenance of its audio."),
)
class StimulusViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """The stimuli of your projects' systems: their status, measurements and audio."""

    queryset = Stimulus.objects.select_related("system", "utterance").order_by("pk")
    project_path = "system__project"

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # A list needs neither the (large) provenance nor the policy of each row.
            return stimuli_filtered(
                queryset.defer("provenance", "policy"), self.request.query_params
            )
        return queryset

    def get_serializer_class(self):
        return StimulusSerializer if self.action == "list" else StimulusDetailSerializer

    @extend_schema(responses={(200, "audio/flac"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=_JsonOrFile)
    def audio(self, request: Request, pk=None) -> FileResponse:
        """The prepared FLAC, as an attachment named ``stimulus-ID.flac``."""
        stimulus = self.checked("view")
        if stimulus.status == Stimulus.Status.FAILED:
            raise exceptions.NotFound(f"stimulus {pk} could not be prepared: {stimulus.error}")
        if stimulus.status != Stimulus.Status.READY:
            raise exceptions.NotFound(f"stimulus {pk} is not prepared yet")
        try:
            file = stimulus.audio.storage.open(stimulus.audio.name, "rb")
        except FileNotFoundError:
            raise exceptions.NotFound(f"stimulus {pk}: its audio file is missing") from None
        return FileResponse(
            file, as_attachment=True, filename=f"stimulus-{pk}.flac", content_type="audio/flac"
        )
