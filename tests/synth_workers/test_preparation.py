"""Preparation service: failures are recorded on the stimulus, anchors are made once."""

import io
from pathlib import Path

import numpy as np
import soundfile
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from synth_workers.models import Stimulus, System
from synth_workers.services.preparation import stimulus_fail, stimulus_prepare
from synth_workers.services.storage import store_whole
from synth_workers.tasks import prepare_stimulus
from tests.support.audio import tone
from tests.support.factories import StimulusFactory


def stored_wav(samples: np.ndarray, rate: int = 16000) -> str:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV")
    return default_storage.save("sources/test.wav", ContentFile(buffer.getvalue()))


def make_stimulus(source: str, kind: str = System.Kind.RECORDING) -> Stimulus:
    """A pending stimulus of a new system of ``kind`` whose source is ``source``."""
    return StimulusFactory(
        system__kind=kind, system__backend="", source=source, source_sha256="0" * 64
    )


def test_recording_preparation_makes_its_two_anchors_once(db):
    stim = make_stimulus(stored_wav(tone(seconds=1.5)))
    assert stimulus_prepare(stimulus_id=stim.pk) == "prepared"
    Stimulus.objects.filter(pk=stim.pk).update(status=Stimulus.Status.PENDING)
    assert stimulus_prepare(stimulus_id=stim.pk) == "prepared"  # again: no new rows
    rows = list(Stimulus.objects.filter(system=stim.system))
    assert len(rows) == 3
    assert {r.condition.get("anchor") for r in rows} == {None, "anchor_35", "anchor_70"}
    assert all(r.status == Stimulus.Status.READY and r.sample_rate == 48000 for r in rows)


def test_rendered_audio_gets_no_anchors(db):
    stim = make_stimulus(stored_wav(tone(seconds=1.5)), kind=System.Kind.RENDERED)
    assert stimulus_prepare(stimulus_id=stim.pk) == "prepared"
    assert Stimulus.objects.count() == 1


def test_a_stimulus_that_cannot_reach_the_target_fails_with_the_reason(db):
    clicks = np.zeros(48000, dtype=np.float32)
    clicks[::4800] = 0.9  # peaky and quiet: −23 LUFS would need peaks far above full scale
    stim = make_stimulus(stored_wav(clicks, rate=48000))
    assert stimulus_prepare(stimulus_id=stim.pk) == "failed"
    stim.refresh_from_db()
    assert stim.status == Stimulus.Status.FAILED
    assert "above the ceiling of 0 dBTP; lower the loudness target" in stim.error
    assert not Stimulus.objects.filter(condition_key__gt="").exists()  # no anchors of a failure


def test_an_unexpected_error_marks_the_stimulus_failed_instead_of_pending(db):
    stim = make_stimulus("sources/never-stored.wav")
    result = prepare_stimulus.apply(args=(stim.pk,))
    assert result.failed()
    stim.refresh_from_db()
    assert stim.status == Stimulus.Status.FAILED
    assert stim.error.startswith("internal error while preparing:")


def test_a_redundant_attempts_failure_leaves_a_prepared_stimulus_ready(db):
    stim = make_stimulus(stored_wav(tone()))
    assert stimulus_prepare(stimulus_id=stim.pk) == "prepared"
    stimulus_fail(stimulus_id=stim.pk, reason="a re-delivered task could not read its source")
    stim.refresh_from_db()
    assert stim.status == Stimulus.Status.READY and stim.error == ""


def test_stored_files_appear_whole_and_leave_no_partial_file(db):
    store_whole("stimuli/test/whole.flac", b"x" * 1000)
    folder = Path(default_storage.path("stimuli/test"))
    assert (folder / "whole.flac").read_bytes() == b"x" * 1000
    assert [p.name for p in folder.iterdir()] == ["whole.flac"]
