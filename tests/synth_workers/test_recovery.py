"""Every task kind is queued again from our tables when a worker starts (DESIGN.md §11): here
the rows are left as a killed worker leaves them, with no message anywhere for them."""

import fcntl
import os
import time
import uuid

import pytest

from evalsite.celery import app as celery_app
from synth_workers.models import Corpus, ImportRun, System
from synth_workers.services.import_runs import import_run_execute
from tests.support.services import start_worker

pytestmark = pytest.mark.slow


def orphaned_import(media_root, name: str) -> ImportRun:
    """An import its worker was running when killed: status running, uploads still there."""
    folder = f"imports/{uuid.uuid4().hex}"
    (media_root / folder).mkdir(parents=True)
    (media_root / folder / "manifest.csv").write_text("key,text\nu1,Hello there.\n")
    params = {"name": name, "manifest": "manifest.csv", "manifest_name": "manifest.csv"}
    return ImportRun.objects.create(
        kind=ImportRun.Kind.CORPUS, params=params, folder=folder, status="running"
    )


def test_a_starting_worker_finishes_imports_and_system_checks_left_by_a_killed_one(
    transactional_db, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    celery_app.control.purge()  # no message for these rows: only the tables know of them
    run = orphaned_import(settings.MEDIA_ROOT, "orphan")
    system = System.objects.create(
        name="espeak", slug="espeak", kind="checkpoint", backend="espeak-ng",
        usable=False, check_error=System.CHECK_PENDING,
    )  # fmt: skip
    log = tmp_path / "workers.log"
    worker = start_worker(settings.MEDIA_ROOT, log, queues="synth,cpu")
    try:
        deadline = time.monotonic() + 120
        while not (
            ImportRun.objects.get(pk=run.pk).finished and System.objects.get(pk=system.pk).usable
        ):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, run.message
    assert Corpus.objects.get(name="orphan").utterances.count() == 1
    assert not (settings.MEDIA_ROOT / run.folder).exists()


def test_an_import_running_in_a_live_process_is_not_run_twice(db, settings):
    run = orphaned_import(settings.MEDIA_ROOT, "busy")
    fd = os.open(settings.MEDIA_ROOT / run.folder / ".claim", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as the worker running it holds it
    try:
        assert import_run_execute(run_id=run.pk) == "running elsewhere"
        assert not Corpus.objects.exists()
    finally:
        os.close(fd)  # the runner died: its lock went with it
    assert import_run_execute(run_id=run.pk) == "done"
    assert Corpus.objects.get(name="busy").utterances.count() == 1
    assert import_run_execute(run_id=run.pk) == "not queued"  # a late duplicate
