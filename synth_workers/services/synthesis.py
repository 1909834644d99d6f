"""Synthesis jobs: a system × a corpus × a condition grid, rendered in batches on `synth` workers.

Creating a job checks every request against the backend's capabilities first (a job that asks
for something the backend cannot do is refused whole, naming it). Each item carries an
idempotency key — checkpoint hashes, backend name and version, utterance, text, all
conditioning, seed — that is also the condition key of the stimulus it makes, so a re-delivered
batch (worker killed, `acks_late`) finds the stimulus already there and creates nothing twice.
"""

import hashlib
import io
import itertools
import json
import math
import socket
import time

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from evalsite import dispatch
from evalsite.errors import InputError
from synth_workers import audio
from synth_workers.backends import (
    Backend,
    BackendError,
    BackendInfo,
    SynthRequest,
    get_backend,
    missing_capabilities,
    sampled_speaker_seed,
    unknown_language,
)
from synth_workers.models import Corpus, Stimulus, SynthesisItem, SynthesisJob, System, Utterance
from synth_workers.services.backend_cache import loaded_backend, resolve_device, system_files
from synth_workers.services.preparation import current_policy, policy_as_dict
from synth_workers.services.storage import CheckedAudio, NewFiles

GRID_FIELDS = ("speaker", "style", "language")
MAX_GRID_POINTS = 1000  # planned in memory before anything is stored


def grid_points(grid: dict) -> list[dict]:
    """Every combination of the grid's values: {"style": ["a", "b"]} → [{"style": "a"}, …]."""
    if unknown := sorted(set(grid) - set(GRID_FIELDS)):
        raise InputError(
            f"grid: unknown dimension(s) {', '.join(unknown)}; use {', '.join(GRID_FIELDS)}"
        )
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"grid: '{name}' needs a non-empty list of values")
        seen = set()  # two equal values would make two items with one key (as item_key sees it)
        for text in (json.dumps(v, sort_keys=True, default=str) for v in values):
            if text in seen:
                raise InputError(f"grid: '{name}' lists {text} twice")
            seen.add(text)
    if (count := math.prod(len(v) for v in grid.values())) > MAX_GRID_POINTS:
        raise InputError(f"grid: {count} points; at most {MAX_GRID_POINTS} in one job")
    names = sorted(grid)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(grid[n] for n in names))
    ] or [{}]


def request_for(
    utt: Utterance,
    point: dict,
    controls: dict,
    seed: int,
    *,
    load_reference: bool = True,
    use_reference: bool = True,
) -> SynthRequest:
    """The utterance's own conditioning, overridden by the grid point.

    ``load_reference=False`` stands a one-sample placeholder in for the prosody reference: enough
    to check capabilities without reading every reference file when a job is planned.
    ``use_reference=False`` leaves the prosody reference out (an untransferred baseline).
    """
    fields = {"speaker": utt.speaker or None, "style": utt.style, "language": utt.language}
    fields.update(point)
    reference = None
    if not use_reference or not utt.prosody_reference:
        pass
    elif not load_reference:
        reference = audio.Audio(np.zeros(1, dtype=np.float32), 8000)
    else:
        with utt.prosody_reference.open("rb") as f:
            reference = audio.read_audio(io.BytesIO(f.read()))
    return SynthRequest(
        text=utt.text, prosody_reference=reference, controls=dict(controls), seed=seed, **fields
    )


def system_fingerprint(system: System) -> dict:
    """What of the system enters every item key: checkpoint hashes, backend and version, config."""
    backend = get_backend(system.backend)
    return {
        "checkpoints": sorted(system.files.values_list("sha256", flat=True)),
        "backend": [backend.name, backend.version],
        "config": system.backend_config,
    }


def item_key(
    fingerprint: dict,
    utt: Utterance,
    point: dict,
    controls: dict,
    seed: int,
    use_reference: bool = True,
) -> str:
    payload = {
        **fingerprint,
        "text": utt.text,
        "utterance": {
            # Two utterances may share text and conditioning (a repeated sentence): each is
            # still its own item and its own stimulus.
            "id": utt.pk,
            "language": utt.language,
            "speaker": utt.speaker,
            "style": utt.style,
            "prosody_reference": utt.prosody_reference.name if use_reference else "",
        },
        "condition": point,
        "controls": controls,
        "seed": seed,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def backend_info(system: System) -> tuple[type[Backend], BackendInfo]:
    """The system's backend and what it declares it can do: what a job is checked against."""
    try:
        backend = get_backend(system.backend)
        return backend, backend.describe(system_files(system), system.backend_config)
    except BackendError as exc:
        raise InputError(str(exc)) from None


def job_create(
    *,
    system: System,
    corpus: Corpus,
    grid: dict | None = None,
    controls: dict | None = None,
    seed: int = 0,
    use_prosody_reference: bool = True,
    user=None,
) -> SynthesisJob:
    """Plan a job and queue its batches; refuse it whole if the backend cannot do what it asks.

    ``use_prosody_reference=False`` renders the corpus without its prosody references (the
    baseline a prosody-transfer system is compared with)."""
    grid, controls = grid or {}, controls or {}
    if refusal := system.synthesis_refusal():
        raise InputError(refusal)
    if system.project_id != corpus.project_id:
        raise InputError(f"system '{system}' and corpus '{corpus}' belong to different projects")
    backend, info = backend_info(system)
    points = grid_points(grid)
    utterances = list(corpus.utterances.order_by("key"))
    if not utterances:
        raise InputError(f"corpus '{corpus}' has no utterances")
    fingerprint = system_fingerprint(system)
    items = []
    for utt, point in itertools.product(utterances, points):
        planned = request_for(
            utt, point, controls, seed, load_reference=False, use_reference=use_prosody_reference
        )
        if refusal := _refusal(planned, info):
            where = f"utterance '{utt.key}'" + (f" {point}" if point else "")
            hint = "; to render without them, turn prosody references off for this job"
            raise InputError(
                f"backend '{backend.name}' {refusal} (asked by {where})"
                + (hint if "prosody_reference" in refusal else "")
            )
        key = item_key(fingerprint, utt, point, controls, seed, use_prosody_reference)
        items.append(SynthesisItem(utterance=utt, condition=point, key=key))
    with transaction.atomic():
        job = SynthesisJob.objects.create(
            system=system,
            corpus=corpus,
            project_id=corpus.project_id,
            grid=grid,
            controls=controls,
            seed=seed,
            use_prosody_reference=use_prosody_reference,
            total=len(items),
            created_by=user,
        )
        for item in items:
            item.job = job
        SynthesisItem.objects.bulk_create(items)
        ids = list(job.items.values_list("pk", flat=True))
        transaction.on_commit(lambda: enqueue_batches(job.pk, ids))
    return job


def _refusal(planned: SynthRequest, info: BackendInfo) -> str:
    """Why the backend cannot render this request, checked before the job exists ('' if it can)."""
    if missing := sorted(missing_capabilities(planned, info)):
        return f"cannot do {', '.join(missing)}"
    try:
        sampled_speaker_seed(planned.speaker)
    except BackendError as exc:
        return str(exc)
    # Else each item would fail alone, at render time (``Backend.check_request``, the controls).
    if unknown_language(planned, info):
        return f"has no language '{planned.language}'"
    if planned.style and info.styles and planned.style not in info.styles:
        return f"has no style '{planned.style}' (it has {', '.join(info.styles)})"
    if info.controls and (unknown := sorted(set(planned.controls) - set(info.controls))):
        return f"takes no control '{unknown[0]}' (it takes {', '.join(info.controls)})"
    return ""


def enqueue_batches(job_id: int, item_ids: list[int]) -> int:
    """Queue the items in batches of SYNTH_BATCH_SIZE; returns how many batches."""
    size = settings.SYNTH_BATCH_SIZE
    for start in range(0, len(item_ids), size):
        dispatch.send_now(dispatch.SYNTH_BATCH, job_id, item_ids[start : start + size])
    return -(-len(item_ids) // size)


def job_cancel(*, job: SynthesisJob) -> None:
    """Pending items are cancelled; a batch already running finishes its current items."""
    with transaction.atomic():
        job.items.filter(status=SynthesisItem.Status.PENDING).update(
            status=SynthesisItem.Status.CANCELLED
        )
        SynthesisJob.objects.filter(pk=job.pk).update(
            status=SynthesisJob.Status.CANCELLED, finished_at=timezone.now()
        )


def batch_run(*, job_id: int, item_ids: list[int]) -> dict:
    """Render the pending items of one batch; idempotent (items already done are skipped)."""
    job = SynthesisJob.objects.select_related("system").filter(pk=job_id).first()
    if job is None:  # deleted while its batches waited in the queue
        return {}
    items = list(
        job.items.filter(pk__in=item_ids, status=SynthesisItem.Status.PENDING).select_related(
            "utterance"
        )
    )
    if job.status == SynthesisJob.Status.CANCELLED or not items:
        return _refresh_counts(job)
    SynthesisJob.objects.filter(pk=job.pk, started_at__isnull=True).update(
        status=SynthesisJob.Status.RUNNING, started_at=timezone.now()
    )
    policy = current_policy()
    todo = []
    for item in items:
        existing = Stimulus.objects.filter(**_stimulus_of(job, item, policy)).first()
        if existing:  # a re-delivered batch: the stimulus was made before the worker died
            _finish(item, stimulus=existing)
        else:
            todo.append(item)
    if todo:
        try:
            backend = loaded_backend(job.system)
        except BackendError as exc:
            for item in todo:
                _finish(item, error=f"the model could not be loaded: {exc}")
            return _refresh_counts(job)
        provenance = _job_provenance(job)
        requests = [
            request_for(
                i.utterance,
                i.condition,
                job.controls,
                job.seed,
                use_reference=job.use_prosody_reference,
            )
            for i in todo
        ]
        results = render(backend, requests)
        for item, request, (result, seconds) in zip(todo, requests, results, strict=True):
            if isinstance(result, str):
                _finish(item, error=result)
            else:
                rendering = {**provenance, **backend.request_provenance(request)}
                stim = _store(job, item, result, policy, rendering)
                _finish(item, stimulus=stim, seconds=seconds)
    return _refresh_counts(job)


def render(backend, requests: list[SynthRequest]) -> list[tuple[audio.Audio | str, float | None]]:
    """(Audio or error text, seconds per item). One batched call; on out-of-memory the batch is
    halved and retried; on a refusal the items go one by one, so a bad text fails alone."""
    start = time.perf_counter()
    try:
        clips = backend.synthesize(requests)
    except BackendError as exc:
        if len(requests) == 1:
            return [(str(exc), None)]
        return [result for request in requests for result in render(backend, [request])]
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        if len(requests) == 1:
            return [("out of memory even for a single item", None)]
        half = len(requests) // 2
        return render(backend, requests[:half]) + render(backend, requests[half:])
    seconds = (time.perf_counter() - start) / len(requests)
    return [(clip, seconds) for clip in clips]


def is_out_of_memory(exc: Exception) -> bool:
    """CUDA (torch) or ONNX Runtime out-of-memory, recognised without importing torch."""
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def _store(
    job: SynthesisJob, item: SynthesisItem, clip: audio.Audio, policy, provenance: dict
) -> Stimulus:
    """Store the rendering by content hash and make its stimulus (once, whatever the retries)."""
    data = _flac_bytes(clip)
    checked = CheckedAudio.of(data)
    name = NewFiles().store(checked)
    try:
        with transaction.atomic():
            stim, created = Stimulus.objects.get_or_create(
                **_stimulus_of(job, item, policy),
                defaults={
                    "condition": item.condition,
                    "policy": policy_as_dict(policy),
                    "source": name,
                    "source_sha256": checked.sha256,
                    "provenance": {**provenance, "item_key": item.key, "condition": item.condition},
                },
            )
    except IntegrityError:  # another worker made it between our read and our write
        stim, created = Stimulus.objects.get(**_stimulus_of(job, item, policy)), False
    if created:
        # outside a transaction on_commit sends at once
        dispatch.send_on_commit(dispatch.PREPARE_STIMULUS, stim.pk)
    return stim


def _stimulus_of(job: SynthesisJob, item: SynthesisItem, policy) -> dict:
    """The fields that name an item's stimulus (the unique constraint's): one rendering of an
    utterance by a system under a condition, prepared under a policy."""
    return {
        "system": job.system,
        "utterance": item.utterance,
        "condition_key": item.key,
        "policy_key": policy.key(),
    }


def _flac_bytes(clip: audio.Audio) -> bytes:
    peak = float(abs(clip.samples).max()) if clip.frames else 0.0
    if peak >= 1.0:  # raw model output may overshoot; loudness is normalised later anyway
        clip = clip.with_samples(clip.samples * (0.99 / peak))
    return audio.encode_audio(clip, fmt="flac", subtype="PCM_24")


def _job_provenance(job: SynthesisJob) -> dict:
    """What every stimulus of this batch shares; read once per batch, not once per item."""
    backend = get_backend(job.system.backend)
    return {
        "origin": "synthesis",
        "job": job.pk,
        "checkpoints": dict(job.system.files.values_list("role", "sha256")),
        "backend": backend.name,
        "backend_version": backend.version,
        "config": job.system.backend_config,
        "controls": job.controls,
        "seed": job.seed,
        "prosody_reference_used": job.use_prosody_reference,
        "device": resolve_device(settings.SYNTH_DEVICE),  # what ran, not what was asked
        "worker_host": socket.gethostname(),
    }


def _finish(
    item: SynthesisItem,
    *,
    stimulus: Stimulus | None = None,
    error: str = "",
    seconds: float | None = None,
) -> None:
    status = SynthesisItem.Status.FAILED if error else SynthesisItem.Status.DONE
    SynthesisItem.objects.filter(pk=item.pk, status=SynthesisItem.Status.PENDING).update(
        status=status, stimulus=stimulus, error=error, seconds=seconds
    )


def _refresh_counts(job: SynthesisJob) -> dict:
    """Counts from the items themselves: safe under re-delivery and concurrent batches."""
    counts = job.items.aggregate(
        done=Count("pk", filter=Q(status=SynthesisItem.Status.DONE)),
        failed=Count("pk", filter=Q(status=SynthesisItem.Status.FAILED)),
        pending=Count("pk", filter=Q(status=SynthesisItem.Status.PENDING)),
    )
    jobs = SynthesisJob.objects.filter(pk=job.pk)
    jobs.update(done=counts["done"], failed=counts["failed"])
    if counts["pending"] == 0:
        # Decided by the row, not by ``job`` as this batch read it: a job cancelled while the
        # batch ran has no pending items left either, and must stay cancelled.
        jobs.exclude(status=SynthesisJob.Status.CANCELLED).update(
            status=SynthesisJob.Status.DONE, finished_at=timezone.now()
        )
    return counts
