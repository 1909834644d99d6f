"""Systems, corpora and synthesis jobs over the API (read, and cancel a job). Thin: the access
policy scopes every list and lookup; writes go through the services."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from evalsite.api.views import ProjectReadViewSet as Read
from synth_workers.models import Corpus, SynthesisJob, System
from synth_workers.selectors import job_progress
from synth_workers.services.synthesis import job_cancel


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


class JobViewSet(Read):
    """Synthesis jobs of your projects; their progress; cancel one (editors)."""

    queryset = SynthesisJob.objects.order_by("-created_at")
    serializer_class = JobSerializer

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
