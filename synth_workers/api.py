"""Systems, corpora and synthesis jobs over the API (read, and cancel a job). Thin: the access
policy scopes every list and lookup; writes go through the services."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from evalsite import access
from evalsite.api.idempotency import HEADER, idempotent
from evalsite.api.views import ProjectReadViewSet as Read
from evalsite.errors import InputError
from synth_workers.models import Corpus, SynthesisJob, System
from synth_workers.selectors import job_progress
from synth_workers.services.synthesis import job_cancel, job_create


class SystemSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="usable, checking or check_error")

    class Meta:
        model = System
        fields = [
            "id", "name", "slug", "kind", "description", "project", "backend",
            "capabilities", "status", "check_error", "trusted", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_status(self, system) -> str:
        if system.usable:
            return "usable"
        return "check_error" if system.check_error else "checking"


class CorpusSerializer(serializers.ModelSerializer):
    utterances = serializers.IntegerField(source="n_utterances", read_only=True)

    class Meta:
        model = Corpus
        fields = [
            "id", "name", "default_language", "description", "project", "recordings",
            "utterances", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = SynthesisJob
        fields = [
            "id", "project", "system", "corpus", "grid", "controls", "seed",
            "use_prosody_reference", "status", "total", "done", "failed",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class SystemViewSet(Read):
    """Systems of your projects (``?project=ID`` for one)."""

    queryset = System.objects.order_by("name")
    serializer_class = SystemSerializer


class CorpusViewSet(Read):
    """Corpora of your projects, with their number of utterances."""

    queryset = Corpus.objects.annotate(n_utterances=Count("utterances")).order_by("name")
    serializer_class = CorpusSerializer


class JobSpec(serializers.Serializer):
    """A synthesis job: render every utterance of a corpus under every point of the grid."""

    system = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    corpus = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    grid = serializers.DictField(
        child=serializers.ListField(), required=False, default=dict,
        help_text='e.g. {"style": ["dj", "news"]}',
    )  # fmt: skip
    controls = serializers.DictField(required=False, default=dict)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    use_prosody_reference = serializers.BooleanField(required=False, default=True)


class JobViewSet(Read):
    """Synthesis jobs of your projects; make one (editors), follow it, cancel it."""

    queryset = SynthesisJob.objects.order_by("-created_at")
    serializer_class = JobSerializer

    @extend_schema(request=JobSpec, parameters=[HEADER], responses={201: JobSerializer})
    @idempotent
    def create(self, request) -> Response:
        spec = JobSpec(data=request.data)
        spec.is_valid(raise_exception=True)
        data = spec.validated_data
        user = request.user
        system = access.visible(user, System.objects.all(), "change").filter(pk=data["system"])
        corpus = access.visible(user, Corpus.objects.all(), "change").filter(pk=data["corpus"])
        if not system.exists() or not corpus.exists():
            raise InputError("system and corpus must be in a project where you are an editor")
        job = job_create(
            system=system.get(), corpus=corpus.get(), grid=data["grid"],
            controls=data["controls"], seed=data["seed"],
            use_prosody_reference=data["use_prosody_reference"], user=user,
        )  # fmt: skip
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None) -> Response:
        return Response(job_progress(self.checked("view")))

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None) -> Response:
        job = self.checked("change")
        job_cancel(job=job)
        job.refresh_from_db()
        return Response(JobSerializer(job).data)
