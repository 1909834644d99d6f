"""A worker killed mid-task: a new worker finishes the work from our tables, each thing once."""

import os
import signal
import time

import pytest

from evalsite.celery import app as celery_app
from synth_workers.backends import joe_voice_files
from synth_workers.models import Corpus, Stimulus, SynthesisJob, Utterance
from synth_workers.services.imports import corpus_import
from synth_workers.services.registration import system_check, system_register
from synth_workers.services.synthesis import job_create
from tests.support.audio import write_tone
from tests.support.services import start_worker

pytestmark = pytest.mark.slow


def test_killing_the_worker_mid_job_and_starting_another_finishes_the_job_once(
    transactional_db, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SYNTH_BATCH_SIZE = 2
    system = system_register(name="joe", backend="piper", files=joe_voice_files())
    system_check(system_id=system.pk)
    system.refresh_from_db()
    corpus = Corpus.objects.create(name="kill", default_language="en-us")
    Utterance.objects.bulk_create(
        Utterance(
            corpus=corpus,
            key=f"k{i:02d}",
            text=f"Sentence number {i} of the test.",
            language="en-us",
        )
        for i in range(12)
    )
    log = tmp_path / "workers.log"
    first = start_worker(settings.MEDIA_ROOT, log)
    job = job_create(system=system, corpus=corpus)
    try:
        deadline = time.monotonic() + 120
        while job.done < 2:
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
            job.refresh_from_db()
        os.kill(first.pid, signal.SIGKILL)  # mid-job: no warm shutdown, no ack
        first.wait()
        job.refresh_from_db()
        assert job.done < job.total, "the job finished before the worker could be killed"

        second = start_worker(settings.MEDIA_ROOT, log)
        try:
            deadline = time.monotonic() + 180
            while job.status != SynthesisJob.Status.DONE:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
                job.refresh_from_db()
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert (job.done, job.failed, job.total) == (12, 0, 12)
    stimuli = Stimulus.objects.filter(system=system)
    assert stimuli.count() == 12
    assert sorted(stimuli.values_list("utterance__key", flat=True)) == [
        f"k{i:02d}" for i in range(12)
    ]
    assert set(job.items.values_list("status", flat=True)) == {"done"}


RECORDINGS = 16


def test_killing_a_cpu_worker_mid_preparation_on_redis_leaves_nothing_pending_or_twice(
    redis_broker, transactional_db, settings, tmp_path
):
    """Redis would give the killed worker's message back only after its visibility timeout
    (40 min): the second worker must find the unfinished preparation in the database at once."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Only this test's messages: a leftover of an earlier run (ids are reused by a new test
    # database) could prepare the stimulus whose message the kill loses, hiding a regression.
    celery_app.control.purge()
    audio = tmp_path / "audio"
    lines = ["key,text,recording"]
    for i in range(RECORDINGS):  # long enough that a preparation takes a while to kill in
        write_tone(audio / f"r{i:02d}.wav", rate=44100, seconds=20, freq=120 + 9 * i, seed=i)
        lines.append(f"r{i:02d},Sentence {i}.,r{i:02d}.wav")
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    corpus_import(
        name="kill-prep",
        manifest_name="manifest.csv",
        manifest_data=(tmp_path / "manifest.csv").read_bytes(),
        audio_path=audio,
    )  # committed: 16 preparation messages wait in Redis
    stimuli = Stimulus.objects.filter(utterance__corpus__name="kill-prep")
    anchors_pending = stimuli.filter(status="pending").exclude(condition_key="")
    log = tmp_path / "workers.log"
    first = start_worker(settings.MEDIA_ROOT, log, queues="cpu")
    try:
        deadline = time.monotonic() + 120
        # Anchors exist, pending, only inside their reference's task: kill inside one.
        while stimuli.filter(status="ready").count() < 6 or not anchors_pending.exists():
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert anchors_pending.exists(), "the kill missed the task it aimed at"
        left = stimuli.filter(status="pending").count()

        second = start_worker(settings.MEDIA_ROOT, log, queues="cpu")
        try:
            deadline = time.monotonic() + 180
            while stimuli.filter(status="pending").exists():
                assert time.monotonic() < deadline, (left, log.read_text()[-3000:])
                time.sleep(0.2)
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert stimuli.count() == 3 * RECORDINGS  # each recording and its two anchors, once
    assert set(stimuli.values_list("status", flat=True)) == {"ready"}
    # Every prepared file is a different signal (an anchor is not its reference again) ...
    assert len(set(stimuli.values_list("sha256", flat=True))) == 3 * RECORDINGS
    # ... stored once.
    stored = list((settings.MEDIA_ROOT / "stimuli").rglob("*.flac"))
    assert len(stored) == 3 * RECORDINGS
    celery_app.control.purge()  # the re-queued duplicates, already done
