"""Systems, corpora and synthesis jobs over the API (read, and cancel a job). Thin: the access
policy scopes every list and lookup; writes go through the services."""

import tempfile
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from evalsite import access
from evalsite.api.idempotency import HEADER, idempotent
from evalsite.api.views import ProjectReadViewSet as Read
from evalsite.errors import InputError
from synth_workers.models import Corpus, ImportRun, SynthesisJob, System
from synth_workers.selectors import job_progress, system_status
from synth_workers.services.import_runs import import_run_create, upload_store
from synth_workers.services.naming import check_free
from synth_workers.services.registration import system_register
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
        return system_status(system.usable, system.check_error)


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


class ImportRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportRun
        fields = ["id", "kind", "status", "done", "total", "message", "problems"]
        fields += ["created_at", "finished_at"]
        read_only_fields = fields


class CheckpointSpec(serializers.Serializer):
    """A checkpoint to register: multipart form fields, and one file field per role the backend
    names (``file.model``, ``file.config`` for Piper)."""

    project = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    name = serializers.CharField(max_length=200)
    backend = serializers.CharField(max_length=100)
    config = serializers.JSONField(required=False, default=dict, help_text="backend options")
    description = serializers.CharField(required=False, default="", allow_blank=True)


class RenderedImportSpec(serializers.Serializer):
    """A system's pre-rendered audio: a zip whose files are named by the corpus' utterance keys
    (or follow ``pattern``). The new system belongs to the corpus' project."""

    corpus = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    project = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="the corpus' project, if given"
    )
    name = serializers.CharField(max_length=200, help_text="the new system's name")
    audio = serializers.FileField(help_text="a zip of the audio files")
    pattern = serializers.CharField(
        max_length=200, required=False, default="{key}",
        help_text="each file's path in the zip, {key} standing for the utterance key",
    )  # fmt: skip
    description = serializers.CharField(required=False, default="", allow_blank=True)
    skip_bad = serializers.BooleanField(required=False, default=False)


class SystemViewSet(Read):
    """Systems of your projects (``?project=ID`` for one); register a checkpoint (editors): it is
    ``checking`` until a worker has rendered a sentence with it, then ``usable`` or
    ``check_error``; or import a system's pre-rendered audio (``rendered/``)."""

    queryset = System.objects.order_by("name")
    serializer_class = SystemSerializer
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": CheckpointSpec},
        parameters=[HEADER],
        responses={201: SystemSerializer, 413: OpenApiTypes.OBJECT},
    )
    @idempotent
    def create(self, request) -> Response:
        limit = settings.SYNTH_MAX_CHECKPOINT_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > limit + 2**20:  # before reading the body
            return Response(
                {"error": f"the upload is over the {limit / 2**30:.1f} GiB limit", "problems": []},
                status=413,
            )
        spec = CheckpointSpec(data=request.data)
        spec.is_valid(raise_exception=True)
        data = spec.validated_data
        if not access.may(request.user, "change", data["project"]):
            raise InputError(f"project {data['project']}: you are not an editor there")
        config = data["config"]
        if not isinstance(config, dict):
            raise InputError("config must be a JSON object")
        with tempfile.TemporaryDirectory() as folder:
            files = _saved_uploads(request.FILES, Path(folder))
            system = system_register(
                name=data["name"], backend=data["backend"], config=config, files=files,
                owner=request.user, description=data["description"],
                project_id=data["project"],
            )  # fmt: skip
        return Response(SystemSerializer(system).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": RenderedImportSpec},
        parameters=[HEADER],
        responses={202: ImportRunSerializer},
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def rendered(self, request) -> Response:
        """Import a system's pre-rendered audio for a corpus (editors of the corpus' project),
        as an import run whose progress is at ``/api/v1/imports/ID/``."""
        spec = RenderedImportSpec(data=request.data)
        spec.is_valid(raise_exception=True)
        data = spec.validated_data
        corpus = access.visible(request.user, Corpus.objects.all(), "change")
        corpus = corpus.filter(pk=data["corpus"]).first()
        if corpus is None:
            raise InputError(f"corpus {data['corpus']}: none of your projects (as editor) has it")
        if data.get("project", corpus.project_id) != corpus.project_id:
            raise InputError(f"corpus {corpus.pk} is not in project {data['project']}")
        if "{key}" not in data["pattern"]:
            raise InputError(f"pattern '{data['pattern']}' must contain {{key}}")
        name = data["name"]
        check_free(System, {"name": f"a system named '{name}' already exists"}, name=name)
        params = {k: data[k] for k in ("name", "pattern", "description", "skip_bad")}
        run = import_run_create(
            kind=ImportRun.Kind.RENDERED,
            params={**params, "corpus_id": corpus.pk, "system_name": name},
            uploads={"audio": data["audio"]},
            user=request.user,
        )
        return Response(ImportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


def _saved_uploads(uploads, folder: Path) -> dict[str, Path]:
    """The ``file.ROLE`` uploads as files on disk, named by role (``upload_store``)."""
    files = {}
    for field, upload in uploads.items():
        role = field.removeprefix("file.")
        if not field.startswith("file.") or not role.isidentifier():
            raise InputError(f"upload field '{field[:40]}': name files file.ROLE, e.g. file.model")
        files[role] = upload_store(upload, folder, role)
    return files


class CorpusImportSpec(serializers.Serializer):
    """A corpus to import: its manifest (CSV or JSONL) and a zip of the audio files it names."""

    project = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    name = serializers.CharField(max_length=200)
    manifest = serializers.FileField()
    audio = serializers.FileField(required=False)
    default_language = serializers.CharField(max_length=35, required=False, default="en")
    skip_bad = serializers.BooleanField(required=False, default=False)


class CorpusViewSet(Read):
    """Corpora of your projects, with their number of utterances; import one (editors) as an
    import run whose progress is at ``/api/v1/imports/ID/``."""

    queryset = Corpus.objects.annotate(n_utterances=Count("utterances")).order_by("name")
    serializer_class = CorpusSerializer
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": CorpusImportSpec},
        parameters=[HEADER],
        responses={202: ImportRunSerializer},
    )
    @idempotent
    def create(self, request) -> Response:
        spec = CorpusImportSpec(data=request.data)
        spec.is_valid(raise_exception=True)
        data = spec.validated_data
        if not access.may(request.user, "change", data["project"]):
            raise InputError(f"project {data['project']}: you are not an editor there")
        params = {k: data[k] for k in ("name", "default_language", "skip_bad")}
        run = import_run_create(
            kind=ImportRun.Kind.CORPUS,
            params={**params, "project_id": data["project"]},
            uploads={"manifest": data["manifest"], "audio": data.get("audio")},
            user=request.user,
        )
        return Response(ImportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Your imports and their progress (done of total, then the problems found, per file)."""

    serializer_class = ImportRunSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return ImportRun.objects.filter(created_by=self.request.user).order_by("-created_at")


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
