"""A worker killed mid-job: a new worker finishes the job with exactly one stimulus per item."""

import os
import signal
import subprocess
import time

import pytest

from evalsite.launcher import worker_command
from synth_workers.backends import joe_voice_files
from synth_workers.models import Corpus, Stimulus, SynthesisJob, Utterance
from synth_workers.services.registration import system_check, system_register
from synth_workers.services.synthesis import job_create
from tests.conftest import ROOT, database_url_of_test_db

pytestmark = pytest.mark.slow


def start_worker(media_root, log_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "MEDIA_ROOT": str(media_root),
        "SYNTH_BATCH_SIZE": "2",
    }
    argv = [
        *worker_command(queues="synth", pool="solo", concurrency=1),
        "--without-mingle",
        "--without-gossip",
    ]
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


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
