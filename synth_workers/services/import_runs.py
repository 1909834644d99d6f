"""Imports started from the web, run by a worker with progress (DESIGN.md §4: tasks are thin).

A corpus of a few thousand recordings takes minutes to check (every file is decoded, measured
and refused or kept). Inside a web request that would hold a gunicorn worker and die at its
timeout; here the request only stores the uploads and queues the run, the worker runs the same
import service as the command line, and the page polls ``done``/``total``. The import itself is
still all-or-nothing (or skip-and-list with ``skip_bad``); the run only records its outcome.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from evalsite import dispatch
from evalsite.errors import InputError
from synth_workers.models import Corpus, ImportRun
from synth_workers.services.imports import (
    ImportReport,
    corpus_import,
    corpus_import_precheck,
    rendered_import,
    rendered_import_precheck,
)

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5  # database writes for progress, at most this often


def _folder(run: ImportRun) -> Path:
    return Path(settings.MEDIA_ROOT) / run.folder


def upload_store(upload: UploadedFile, folder: Path, name: str) -> Path:
    """Save an upload as ``folder/name`` plus its suffix (a backend or reader may look at it),
    never under the uploader's own path."""
    suffix = "".join(Path(upload.name).suffixes)[-20:]
    path = folder / f"{name}{suffix}"
    with path.open("wb") as f:
        for chunk in upload.chunks():
            f.write(chunk)
    return path


def import_run_create(
    *, kind: str, params: dict, uploads: dict[str, UploadedFile | None], user=None
) -> ImportRun:
    """Store the uploads where workers can read them and queue the import; InputError at once,
    storing nothing, for what needs no file read (a name already taken)."""
    if kind == ImportRun.Kind.CORPUS:
        corpus_import_precheck(name=params["name"])
    else:
        rendered_import_precheck(
            system_name=params["system_name"], pattern=params.get("pattern", "{key}")
        )
    relative = f"imports/{uuid.uuid4().hex}"
    folder = Path(settings.MEDIA_ROOT) / relative
    folder.mkdir(parents=True)
    stored = {}
    for role, upload in uploads.items():
        if upload is not None:
            stored[role] = upload_store(upload, folder, role).name
            stored[f"{role}_name"] = Path(upload.name).name
    run = ImportRun.objects.create(
        kind=kind, params={**params, **stored}, folder=relative, created_by=user
    )
    dispatch.send_on_commit(dispatch.RUN_IMPORT, run.pk)
    return run


def _progress(run_id: int):
    """A callback for the import services that writes progress at most every 0.5 s."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or done == total:
            last[0] = now
            ImportRun.objects.filter(pk=run_id).update(done=done, total=total)

    return report


def _execute(run: ImportRun) -> ImportReport:
    p, folder = run.params, _folder(run)
    audio = folder / p["audio"] if p.get("audio") else None
    common = {"skip_bad": p.get("skip_bad", False), "owner": run.created_by}
    if run.kind == ImportRun.Kind.CORPUS:
        return corpus_import(
            name=p["name"],
            manifest_name=p["manifest_name"],
            manifest_data=(folder / p["manifest"]).read_bytes(),
            audio_path=audio,
            default_language=p.get("default_language", "en"),
            progress=_progress(run.pk),
            project_id=p.get("project_id"),  # the default project when none was chosen
            **common,
        )
    corpus = Corpus.objects.filter(pk=p["corpus_id"]).first()
    if corpus is None:
        raise InputError("the corpus was deleted before the import ran")
    return rendered_import(
        corpus=corpus,
        system_name=p["system_name"],
        audio_path=audio,
        pattern=p.get("pattern", "{key}"),
        description=p.get("description", ""),
        progress=_progress(run.pk),
        **common,
    )


def _finish(run_id: int, status: str, message: str, problems: list[str]) -> None:
    ImportRun.objects.filter(pk=run_id).update(
        status=status, message=message, problems=problems, finished_at=timezone.now()
    )


@contextmanager
def _claimed(run: ImportRun) -> Iterator[bool]:
    """Whether this process may run the import: it holds the lock on the run's folder.

    The lock is the kernel's (flock), so it goes with the process that held it: a run left
    "running" by a killed worker can be taken over (its task is queued again when a worker
    starts), while a duplicate message for a run that a live worker is running is dropped.
    """
    try:
        fd = os.open(_folder(run) / ".claim", os.O_CREAT | os.O_RDWR, 0o600)
    except FileNotFoundError:  # the folder is removed once the run has finished
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)  # after the folder is gone: a late duplicate finds nothing to run


def import_run_execute(*, run_id: int) -> str:
    """Run an unfinished import once; its outcome (and every problem) is stored on the run."""
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None or run.finished:
        return "not queued"  # a redelivered task: the run already ran
    with _claimed(run) as mine:
        if not mine:
            return "running elsewhere"
        run.refresh_from_db()
        if run.finished:  # finished between our read and our lock
            return "not queued"
        ImportRun.objects.filter(pk=run_id).update(status=ImportRun.Status.RUNNING)
        try:
            return _run(run)
        finally:
            shutil.rmtree(_folder(run), ignore_errors=True)


def _run(run: ImportRun) -> str:
    try:
        report = _execute(run)
    except InputError as exc:
        _finish(run.pk, ImportRun.Status.FAILED, exc.message, list(exc.problems))
        return "refused"
    except Exception as exc:  # a bug or a storage failure: say so on the run, then fail
        log.exception("import run %s failed", run.pk)
        _finish(run.pk, ImportRun.Status.FAILED, f"internal error while importing: {exc}", [])
        raise
    target = report.system if run.kind == ImportRun.Kind.RENDERED else report.corpus
    message = f"Imported {report.created} audio file(s) as '{target}'; preparation queued."
    _finish(run.pk, ImportRun.Status.DONE, message, list(report.skipped))
    return "done"
