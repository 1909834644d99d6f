"""Synthesis jobs through a real worker: registration check, grid, idempotency, failures alone."""

import pickle
import time

import pytest
from django.core.management import CommandError, call_command

from evalsite.errors import InputError
from evalsite.tasks import ping
from synth_workers.backends.piper import joe_voice_files
from synth_workers.models import Stimulus, SynthesisItem, SynthesisJob, System
from synth_workers.services.synthesis import job_cancel, job_create
from synth_workers.tasks import synth_batch
from tests.support.factories import SystemFactory
from tests.support.services import wait_for
from tests.support.synthesis import corpus_with, finished, usable_system

pytestmark = pytest.mark.slow


def test_a_grid_job_renders_every_item_once_and_a_redelivered_batch_adds_nothing(
    transactional_db, worker_media
):
    system = usable_system(name="espeak", backend="espeak-ng", config={})
    corpus = corpus_with("The birch canoe slid on the smooth planks.", "Glue the sheet.")
    job = job_create(system=system, corpus=corpus, grid={"style": ["neutral", "excited"]})
    assert job.total == 4
    wait_for(lambda: finished(job), what="the job")
    assert (job.done, job.failed) == (4, 0)
    stimuli = Stimulus.objects.filter(system=system)
    assert stimuli.count() == 4
    assert {s.condition["style"] for s in stimuli} == {"neutral", "excited"}
    assert all(s.provenance["backend"] == "espeak-ng" for s in stimuli)
    assert {s.provenance["device"] for s in stimuli} == {"cpu"}  # resolved, not "auto"

    ids = list(job.items.values_list("pk", flat=True))
    SynthesisItem.objects.filter(pk__in=ids).update(status="pending", stimulus=None)
    synth_batch.delay(job.pk, ids).get(timeout=60)  # as if the worker had died and re-run it
    assert Stimulus.objects.filter(system=system).count() == 4
    assert set(job.items.values_list("status", flat=True)) == {"done"}
    wait_for(lambda: not stimuli.filter(status="pending").exists(), what="preparation")
    assert set(stimuli.values_list("status", "sample_rate")) == {("ready", 48000)}


def test_a_text_over_the_bound_fails_alone_with_its_reason(transactional_db, worker_media):
    system = usable_system(name="espeak", backend="espeak-ng", config={})
    corpus = corpus_with("A fine sentence.", "x" * 1001)
    job = job_create(system=system, corpus=corpus)
    wait_for(lambda: finished(job), what="the job")
    assert (job.done, job.failed) == (1, 1)
    failed = job.items.get(status="failed")
    assert failed.utterance.key == "u1" and "1000" in failed.error


def test_piper_voice_registers_and_refuses_a_speaker_grid(transactional_db, worker_media):
    files = joe_voice_files()
    system = usable_system(name="joe", backend="piper", files=files)
    assert {f.role for f in system.files.all()} == set(files)
    assert all(len(f.sha256) == 64 for f in system.files.all())
    with pytest.raises(InputError, match="multi_speaker"):
        job_create(system=system, corpus=corpus_with("Hello."), grid={"speaker": [0, 1]})


def test_cancelling_a_job_stops_its_pending_items(transactional_db):
    system = SystemFactory(name="espeak")
    job = job_create(system=system, corpus=corpus_with("One.", "Two."))
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert set(job.items.values_list("status", flat=True)) == {"cancelled"}


def test_recordings_cannot_be_synthesized(db):
    system = SystemFactory(name="rec", recording=True)
    with pytest.raises(InputError, match="not a checkpoint"):
        job_create(system=system, corpus=corpus_with("One."))


def test_a_prosody_reference_on_a_backend_without_it_is_refused_before_anything_runs(db):
    system = SystemFactory(name="espeak")
    corpus = corpus_with("Copy my melody.")
    corpus.utterances.update(prosody_reference="sources/ab/reference.wav")
    with pytest.raises(InputError, match=r"cannot do prosody_reference \(asked by utterance 'u0'"):
        job_create(system=system, corpus=corpus)
    assert not SynthesisJob.objects.exists()


def test_register_system_command_refuses_a_pickle_and_keeps_nothing(db, tmp_path, settings):
    bad = tmp_path / "voice.onnx"
    bad.write_bytes(pickle.dumps({"weights": [1, 2, 3]}, protocol=4))
    config = tmp_path / "voice.onnx.json"
    config.write_text(joe_voice_files()["config"].read_text())
    with pytest.raises(CommandError) as caught:
        call_command(
            "register_system",
            "evil",
            "--backend",
            "piper",
            "--file",
            f"model={bad}",
            "--file",
            f"config={config}",
        )
    assert caught.value.returncode == 2
    assert "pickle" in str(caught.value).lower()
    assert not System.objects.exists()
    assert not (settings.MEDIA_ROOT / "checkpoints").exists()


def test_register_system_command_waits_for_the_worker_check(transactional_db, worker_media, capsys):
    call_command("register_system", "espeak", "--backend", "espeak-ng")
    assert "'espeak' is usable." in capsys.readouterr().out
    assert System.objects.get(name="espeak").usable


def test_a_job_can_render_a_reference_corpus_without_its_references(db):
    system = SystemFactory(name="espeak")
    corpus = corpus_with("Copy my melody.")
    corpus.utterances.update(prosody_reference="sources/ab/reference.wav")
    job = job_create(system=system, corpus=corpus, use_prosody_reference=False)
    assert job.total == 1 and not job.use_prosody_reference
    again = job_create(system=system, corpus=corpus, use_prosody_reference=False)
    # Same conditioning, same key: a second job would reuse the first one's stimulus.
    assert again.items.get().key == job.items.get().key


def test_two_utterances_with_the_same_text_and_conditioning_are_two_items(db):
    system = SystemFactory(name="espeak")
    job = job_create(system=system, corpus=corpus_with("Say it again.", "Say it again."))
    assert job.total == 2
    assert len(set(job.items.values_list("key", flat=True))) == 2


def test_cancelling_a_job_while_its_batch_runs_leaves_it_cancelled(
    transactional_db, worker_media, settings
):
    settings.SYNTH_BATCH_SIZE = 40  # one batch: the cancel lands while it renders
    system = usable_system(name="espeak", backend="espeak-ng", config={})
    text = "The birch canoe slid on the smooth planks, and we glued the sheet to the dark blue"
    job = job_create(
        system=system, corpus=corpus_with(*(f"{text} background {i}." for i in range(40)))
    )
    deadline = time.monotonic() + 60
    while SynthesisJob.objects.get(pk=job.pk).status != SynthesisJob.Status.RUNNING:
        assert time.monotonic() < deadline, "the batch never started"
        time.sleep(0.01)
    job_cancel(job=job)
    token = "after-the-batch"  # the solo worker answers once the batch has ended
    assert ping.apply_async((token,), queue="synth").get(timeout=120)["token"] == token
    job.refresh_from_db()
    assert job.items.filter(status="cancelled").exists(), "the batch ended before the cancel"
    assert job.status == SynthesisJob.Status.CANCELLED


@pytest.mark.parametrize(
    ("language", "grid"), [("en-uk", {}), ("en-us", {"language": ["de", "en-uk"]})]
)
def test_a_job_in_a_language_the_backend_lacks_is_refused_before_anything_runs(db, language, grid):
    system = SystemFactory(name="espeak")
    corpus = corpus_with("Hello there.")
    corpus.utterances.update(language=language)  # en-uk is no tag; espeak-ng has en-gb
    with pytest.raises(
        InputError, match=r"backend 'espeak-ng' has no language 'en-uk' \(asked by u"
    ):
        job_create(system=system, corpus=corpus, grid=grid)
    assert not SynthesisJob.objects.exists()
