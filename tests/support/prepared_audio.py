"""Prepared audio built once per test session, then copied into each test that needs it.

Preparing a stimulus (validate, resample, loudness-normalise, encode FLAC; a recording's two
BS.1534-3 anchors) depends only on its source bytes, its condition, its policy and whether its
system holds recordings: the stored name is a hash of (source sha256, condition key, policy key)
and encoding is deterministic. So the first time a test needs a stimulus with a given key (those
three and the system's kind), the real ``stimulus_prepare`` runs and its output is kept: the
stored file's bytes, the fields it measured, and the anchors it made. A later stimulus with the
same key is made ready from that copy: the same bytes under the same storage name, the fields
``_store_prepared`` sets, and the anchors made by the service's own ``_anchor_stimulus``. The
stimuli are the real prepared audio, computed once.

The tests of preparation itself call ``stimulus_prepare`` and never come here;
tests/synth_workers/test_shared_prepared_audio.py checks that a copy equals a real preparation.
"""

from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from synth_workers.models import Stimulus
from synth_workers.services.preparation import _anchor_stimulus, stimulus_prepare
from synth_workers.services.storage import store_whole

# The row's fields that preparation measures (``audio`` as its storage name).
MEASURED = (
    "audio",
    "sha256",
    "sample_rate",
    "channels",
    "duration",
    "loudness_lufs",
    "true_peak_dbtp",
)


@dataclass(frozen=True)
class PreparedFile:
    data: bytes
    fields: dict  # MEASURED → value
    provenance: dict  # what preparation added to the row's provenance


@dataclass(frozen=True)
class Prepared:
    file: PreparedFile
    anchors: dict[str, PreparedFile]  # anchor label → file; a recording's, else empty


@dataclass
class PreparedAudio:
    """The prepared output by (source sha256, condition key, policy key, system kind)."""

    kept: dict[tuple[str, str, str, str], Prepared] = field(default_factory=dict)
    copied: int = 0  # stimuli made ready from a copy (the rest were prepared for real)

    def make_ready(self, stimuli: QuerySet) -> None:
        """Every pending stimulus of ``stimuli`` ready, as ``stimulus_prepare`` leaves it."""
        pending = stimuli.filter(status=Stimulus.Status.PENDING).select_related("system")
        for stim in list(pending):
            prepared = self.kept.get(_key(stim))
            if prepared is None or stim.is_anchor:
                self._prepare_and_keep(stim)
                continue
            _copy_onto(stim, prepared.file)
            for label, anchor_file in prepared.anchors.items():
                _copy_onto(_anchor_stimulus(stim, label), anchor_file)
            self.copied += 1

    def _prepare_and_keep(self, stim: Stimulus) -> None:
        before = dict(stim.provenance)
        # Kept only when this call prepared it (and its anchors): a worker beside the test may
        # have the stimulus half-way, its anchors not yet stored. A failure is the test's to see.
        if stimulus_prepare(stimulus_id=stim.pk) != "prepared" or stim.is_anchor:
            return
        stim.refresh_from_db()
        added = [k for k, v in stim.provenance.items() if before.get(k) != v]
        anchors = Stimulus.objects.filter(
            system=stim.system_id,
            utterance=stim.utterance_id,
            policy_key=stim.policy_key,
            provenance__anchor_of=stim.pk,
            status=Stimulus.Status.READY,
        )
        self.kept[_key(stim)] = Prepared(
            file=_kept(stim, added),
            anchors={a.condition["anchor"]: _kept(a, added) for a in anchors},
        )


def _key(stim: Stimulus) -> tuple[str, str, str, str]:
    return (stim.source_sha256, stim.condition_key, stim.policy_key, stim.system.kind)


def _kept(stim: Stimulus, provenance_keys: list[str]) -> PreparedFile:
    with default_storage.open(stim.audio.name, "rb") as f:
        data = f.read()
    fields = {name: getattr(stim, name) for name in MEASURED}
    fields["audio"] = stim.audio.name
    return PreparedFile(data, fields, {k: stim.provenance[k] for k in provenance_keys})


def _copy_onto(stim: Stimulus, prepared: PreparedFile) -> None:
    """What ``_store_prepared`` does, with the bytes and measurements it made before."""
    if not default_storage.exists(prepared.fields["audio"]):
        store_whole(prepared.fields["audio"], prepared.data)
    Stimulus.objects.filter(pk=stim.pk).update(
        status=Stimulus.Status.READY,
        error="",
        prepared_at=timezone.now(),
        provenance={**stim.provenance, **prepared.provenance},
        **prepared.fields,
    )


# One per test session (one pytest process): every helper that prepares audio shares it.
SESSION = PreparedAudio()
