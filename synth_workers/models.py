"""Systems, corpora, utterances and stimuli (DESIGN.md §2): what is compared, on which sentences.

Stored file names never contain a system's name or an uploaded file's name: sources are stored
by content hash and prepared stimuli by the hash of what made them, so nothing a listener could
ever receive names a system.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from evalsite.models import default_project_id

AUDIO_KINDS = ("wav", "flac", "ogg")


class System(models.Model):
    """Something whose audio is compared: recordings, pre-rendered audio or a TTS checkpoint."""

    CHECK_PENDING = "waiting for a worker"  # check_error until a synth worker has tried it

    class Kind(models.TextChoices):
        RECORDING = "recording", "Natural recordings"
        RENDERED = "rendered", "Pre-rendered audio"
        CHECKPOINT = "checkpoint", "Model checkpoint"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    project = models.ForeignKey(
        "evalsite.Project",
        on_delete=models.PROTECT,
        related_name="systems",
        default=default_project_id,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    backend = models.CharField(max_length=100, blank=True, help_text="Checkpoints only.")
    backend_config = models.JSONField(default=dict, blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    # Pickle-based checkpoints (TorchScript …) load only when an administrator trusts the system.
    trusted = models.BooleanField(default=False)
    # A checkpoint becomes usable once a worker has synthesized one sentence with it.
    usable = models.BooleanField(default=True)
    check_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="system_kind_valid",
                condition=Q(kind__in=["recording", "rendered", "checkpoint"]),
            ),
            models.CheckConstraint(
                name="system_checkpoint_has_backend",
                condition=~Q(kind="checkpoint") | ~Q(backend=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def synthesis_refusal(self) -> str:
        """Why no job can render with this system ('' when one can): the words job_create
        refuses with and the system's synthesize page shows."""
        if self.kind != self.Kind.CHECKPOINT:
            return (
                f"system '{self}' is {self.get_kind_display().lower()}, "
                "not a checkpoint: there is nothing to synthesize"
            )
        if not self.usable:
            return f"system '{self}' is not usable yet: {self.check_error or 'check pending'}"
        return ""


class CheckpointFile(models.Model):
    """One file of a checkpoint system, hashed at registration (part of every provenance)."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=100, help_text="e.g. model, config")
    file = models.FileField(upload_to="checkpoints/")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "role"], name="checkpoint_file_role_unique"),
            models.CheckConstraint(name="checkpoint_sha256_set", condition=~Q(sha256="")),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.role}"


class Corpus(models.Model):
    """A set of test sentences; its natural recordings, if any, form one `recording` system."""

    name = models.CharField(max_length=200, unique=True)
    project = models.ForeignKey(
        "evalsite.Project",
        on_delete=models.PROTECT,
        related_name="corpora",
        default=default_project_id,
    )
    default_language = models.CharField(max_length=35, default="en")
    description = models.TextField(blank=True)
    recordings = models.OneToOneField(
        System, null=True, blank=True, on_delete=models.SET_NULL, related_name="corpus"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "corpora"

    def __str__(self) -> str:
        return self.name


class Utterance(models.Model):
    """One test sentence with its conditioning: language, speaker, style, prosody reference."""

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="utterances")
    key = models.CharField(max_length=200)
    text = models.TextField()
    language = models.CharField(max_length=35)
    speaker = models.CharField(max_length=200, blank=True)
    style = models.CharField(max_length=100, blank=True)
    prosody_reference = models.FileField(upload_to="sources/", blank=True)
    recording = models.FileField(upload_to="sources/", blank=True)

    class Meta:
        ordering = ["corpus", "key"]
        constraints = [
            models.UniqueConstraint(fields=["corpus", "key"], name="utterance_key_unique"),
            models.CheckConstraint(name="utterance_text_not_empty", condition=~Q(text="")),
            models.CheckConstraint(name="utterance_key_not_empty", condition=~Q(key="")),
        ]

    def __str__(self) -> str:
        return f"{self.corpus}/{self.key}"


class Stimulus(models.Model):
    """One system's audio for one utterance under one condition, prepared under one policy.

    ``source`` is the audio as imported or synthesized; ``audio`` the prepared file (resampled,
    loudness-normalised, metadata-free) made by a `cpu` task. ``condition`` holds the condition
    parameters (e.g. speaker, style, or ``{"anchor": audio.LOW_ANCHOR}`` for an anchor made from
    the recording); ``condition_key`` is its canonical hash so the unique constraint can use it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for preparation"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="stimuli")
    utterance = models.ForeignKey(Utterance, on_delete=models.CASCADE, related_name="stimuli")
    condition = models.JSONField(default=dict, blank=True)
    condition_key = models.CharField(max_length=64, blank=True)
    policy = models.JSONField(default=dict)
    policy_key = models.CharField(max_length=64)
    source = models.FileField(upload_to="sources/", blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    audio = models.FileField(upload_to="stimuli/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    loudness_lufs = models.FloatField(null=True, blank=True)
    true_peak_dbtp = models.FloatField(null=True, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    prepared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "stimuli"
        ordering = ["utterance", "system", "condition_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "utterance", "condition_key", "policy_key"],
                name="stimulus_unique_per_condition_and_policy",
            ),
            models.CheckConstraint(
                name="stimulus_status_valid", condition=Q(status__in=["pending", "ready", "failed"])
            ),
            # A ready stimulus has its file and its measurements.
            models.CheckConstraint(
                name="stimulus_ready_is_complete",
                condition=~Q(status="ready")
                | (
                    ~Q(audio="")
                    & Q(sample_rate__gte=8000)
                    & Q(channels__gte=1)
                    & Q(duration__gt=0)
                    & Q(loudness_lufs__isnull=False)
                    & Q(true_peak_dbtp__isnull=False)
                    & ~Q(sha256="")
                ),
            ),
        ]

    def __str__(self) -> str:
        suffix = f" {self.condition}" if self.condition else ""
        return f"{self.system} · {self.utterance}{suffix}"

    @property
    def is_anchor(self) -> bool:
        return "anchor" in self.condition


class SynthesisJob(models.Model):
    """Render every utterance of a corpus under every point of a condition grid with one system.

    The job's items are the source of truth for progress (DESIGN.md §4), not Celery's results:
    counts are updated by the batches as items finish.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="jobs")
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="jobs")
    project = models.ForeignKey(
        "evalsite.Project",
        on_delete=models.PROTECT,
        related_name="jobs",
        default=default_project_id,
    )
    grid = models.JSONField(default=dict, blank=True, help_text='e.g. {"style": ["dj", "news"]}')
    controls = models.JSONField(default=dict, blank=True)
    seed = models.IntegerField(default=0)
    # False renders without the utterances' prosody references: the untransferred baseline of
    # a prosody-transfer test, on the same corpus.
    use_prosody_reference = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="job_counts_within_total",
                condition=Q(done__lte=models.F("total")) & Q(failed__lte=models.F("total")),
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.system} × {self.corpus}"


class SynthesisItem(models.Model):
    """One utterance under one grid point. ``key`` is its idempotency key: a hash of the
    checkpoint hashes, backend name and version, the utterance, its text, all conditioning and
    the seed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    job = models.ForeignKey(SynthesisJob, on_delete=models.CASCADE, related_name="items")
    utterance = models.ForeignKey(Utterance, on_delete=models.CASCADE)
    condition = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    stimulus = models.ForeignKey(Stimulus, null=True, blank=True, on_delete=models.SET_NULL)
    seconds = models.FloatField(null=True, blank=True, help_text="synthesis time")

    class Meta:
        ordering = ["job", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="synthesis_item_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.utterance.key} {self.condition}"


class ImportRun(models.Model):
    """An import started from the admin, run by a worker so a large upload reports progress
    instead of holding (and timing out) a web request. The uploads wait in ``folder`` (under
    MEDIA_ROOT, shared with the workers) until the run ends, then are deleted."""

    class Kind(models.TextChoices):
        CORPUS = "corpus", "Corpus"
        RENDERED = "rendered", "Pre-rendered audio"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Checking audio"
        DONE = "done", "Imported"
        FAILED = "failed", "Refused"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict)  # the form's fields, uploads by file name
    folder = models.CharField(max_length=200)  # relative to MEDIA_ROOT
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)  # per file/line, in plain words
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.pk}: {self.params.get('name', '')}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class StimulusMetric(models.Model):
    """One objective metric's value for one stimulus (DESIGN.md §12), with the metric's version
    and model hash: values are comparable only when both match, so a new version is stored beside
    the old one instead of replacing it. ``value`` is the metric's dict, or ``{"error": …}`` when
    the metric could not measure this audio (e.g. no speech found), so it is not retried forever.
    """

    stimulus = models.ForeignKey(Stimulus, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=200)
    model_hash = models.CharField(max_length=64, blank=True)  # "" for a metric without a model
    value = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stimulus", "name", "created_at"]
        constraints = [
            # A re-delivered or concurrent task cannot store the same measurement twice.
            models.UniqueConstraint(
                fields=["stimulus", "name", "version", "model_hash"],
                name="stimulus_metric_unique_provenance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} of stimulus {self.stimulus_id}"


class MetricRequest(models.Model):
    """Someone asked for a corpus' metrics: a starting `cpu` worker measures again whatever of
    the request is still missing (DESIGN.md §11: our tables, not the broker, are the truth)."""

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="metric_requests")
    # Only these systems' stimuli (a listening test's conditions); none means the whole corpus.
    systems = models.ManyToManyField(System, blank=True, related_name="+")
    names = models.JSONField(default=list, blank=True)  # [] means every registered metric
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"metrics of {self.corpus}: {', '.join(self.names) or 'all'}"
