"""Stimulus preparation: source audio → a validated, resampled, loudness-normalised FLAC.

Runs in `cpu`-queue tasks, one per stimulus, and is idempotent: the output name is a hash of the
source and the settings, so the same input under the same policy gives the same file, which is
not written again when present; a re-delivered task finds its stimulus ready and does nothing.
Preparing a recording also makes its two BS.1534-3 anchors (stimuli of the same system with the
condition ``{"anchor": …}``) from the prepared reference.
"""

import dataclasses
import hashlib
import io
import json
import socket

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from synth_workers import audio
from synth_workers.models import Stimulus, System
from synth_workers.services.storage import store_whole


def current_policy() -> audio.PreparationPolicy:
    return audio.PreparationPolicy(**settings.STIMULUS_POLICY)


def policy_as_dict(policy: audio.PreparationPolicy) -> dict:
    return dataclasses.asdict(policy)


def policy_from_dict(data: dict) -> audio.PreparationPolicy:
    fields = dict(data)
    fields["limits"] = audio.ValidationLimits(**fields.get("limits", {}))
    return audio.PreparationPolicy(**fields)


def stimulus_key(condition: dict) -> str:
    """Canonical hash of condition parameters; '' for none, so the plain case stays readable."""
    if not condition:
        return ""
    canonical = json.dumps(condition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def stimulus_prepare(*, stimulus_id: int) -> str:
    """Prepare one stimulus (and a recording's anchors). Returns what happened, in one word."""
    stim = Stimulus.objects.select_related("system").filter(pk=stimulus_id).first()
    if stim is not None and stim.is_anchor:
        # An anchor is made from its prepared reference, by the reference's task; one still
        # pending (that task was killed halfway) is made by preparing the reference again.
        stim = _reference_of(stim)
    if stim is None:
        return "gone"
    if _is_ready(stim) and not _anchors_pending(stim):
        return "skipped"
    policy = policy_from_dict(stim.policy)
    try:
        with default_storage.open(stim.source.name, "rb") as f:
            prepared = audio.prepare(audio.read_audio(f), policy)
        outputs = {stim: prepared}
        if stim.system.kind == System.Kind.RECORDING and not stim.condition:
            for label, anchor_audio in audio.prepare_anchors(prepared, policy).items():
                outputs[_anchor_stimulus(stim, label)] = anchor_audio
    except audio.AudioError as exc:
        stimulus_fail(stimulus_id=stim.pk, reason=str(exc))
        return "failed"
    for target, clip in outputs.items():
        _store_prepared(target, clip, policy)
    return "prepared"


def stimulus_fail(*, stimulus_id: int, reason: str) -> None:
    """Record why a stimulus cannot be prepared, so it never waits as "pending" forever.

    A stimulus another task has already prepared stays ready: a redundant attempt's failure
    (say, a storage hiccup in a re-delivered task) does not undo a success.
    """
    Stimulus.objects.filter(pk=stimulus_id).exclude(status=Stimulus.Status.READY).update(
        status=Stimulus.Status.FAILED, error=reason
    )


def _reference_of(anchor: Stimulus) -> Stimulus | None:
    return (
        Stimulus.objects.select_related("system")
        .filter(
            system=anchor.system_id,
            utterance=anchor.utterance_id,
            condition_key=stimulus_key({}),
            policy_key=anchor.policy_key,
        )
        .first()
    )


def _is_ready(stim: Stimulus) -> bool:
    return stim.status == Stimulus.Status.READY and default_storage.exists(stim.audio.name)


def _anchors_pending(stim: Stimulus) -> bool:
    if stim.system.kind != System.Kind.RECORDING or stim.condition:
        return False
    return (
        Stimulus.objects.filter(
            system=stim.system_id,
            utterance=stim.utterance_id,
            policy_key=stim.policy_key,
            status=Stimulus.Status.PENDING,
        )
        .exclude(pk=stim.pk)
        .exists()
    )


def _anchor_stimulus(reference: Stimulus, label: str) -> Stimulus:
    condition = {"anchor": label}
    anchor, _ = Stimulus.objects.get_or_create(
        system=reference.system,
        utterance=reference.utterance,
        condition_key=stimulus_key(condition),
        policy_key=reference.policy_key,
        defaults={
            "condition": condition,
            "policy": reference.policy,
            "source": reference.source.name,
            "source_sha256": reference.source_sha256,
            "provenance": {"origin": "anchor", "anchor_of": reference.pk},
        },
    )
    return anchor


def _output_name(stim: Stimulus, policy: audio.PreparationPolicy) -> str:
    digest = hashlib.sha256(
        f"{stim.source_sha256}:{stim.condition_key}:{stim.policy_key}".encode()
    ).hexdigest()[:40]
    return f"stimuli/{stim.policy_key}/{digest}.{policy.fmt}"


def _store_prepared(stim: Stimulus, clip: audio.Audio, policy: audio.PreparationPolicy) -> None:
    """Write the file unless an identical one is there already; record its measurements.

    Two tasks may prepare the same stimulus at once (a re-delivered task, a test preparing
    inline beside a worker). Encoding is deterministic, so each measures its *own* bytes rather
    than re-reading the stored file, which the other may be half-way through writing.
    """
    name = _output_name(stim, policy)
    data = audio.encode_audio(clip, fmt=policy.fmt, subtype=policy.subtype)
    if not default_storage.exists(name):
        store_whole(name, data)
    # Measure what listeners will hear: the encoded file, after quantisation.
    measured = audio.measure(audio.read_audio(io.BytesIO(data)))
    Stimulus.objects.filter(pk=stim.pk).update(
        status=Stimulus.Status.READY,
        error="",
        audio=name,
        sha256=hashlib.sha256(data).hexdigest(),
        sample_rate=measured.sample_rate,
        channels=measured.channels,
        duration=measured.duration,
        loudness_lufs=measured.loudness_lufs,
        true_peak_dbtp=measured.true_peak_dbtp,
        prepared_at=timezone.now(),
        provenance={
            **stim.provenance,
            "policy": stim.policy,
            "source_sha256": stim.source_sha256,
            "prepared_on": socket.gethostname(),
        },
    )
