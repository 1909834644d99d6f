"""Shared fixtures: real services when configured, a real Celery worker, a real browser.

The helpers they use (``need_*``, the worker's command line) live in tests/support/services.py.
"""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from evalsite.launcher import worker_command
from evalsite.var_dir import prepare_var_dir
from tests.support.paths import ROOT
from tests.support.roles import build_world
from tests.support.services import (
    CHROMIUM,
    Worker,
    database_url_of_test_db,
    need_browser,
    need_redis,
    wait_for_worker,
)

# --- var/ before any test (issue 17) ---------------------------------------------------------
# The settings only read. pytest-django has loaded them before this file (with a key of this run's
# own when var/ has none), so make the var/ folders and the local secret key here, as the launcher
# and manage.py do, before the test database, the broker or a worker process needs them.
prepare_var_dir()


@pytest.fixture(scope="module")
def redis_broker() -> str:
    """Put first in a test's arguments: skips before a worker is started for nothing."""
    need_redis()
    return os.environ["CELERY_BROKER_URL"]


@pytest.fixture(autouse=True)
def _isolated_media_and_plain_static(settings, tmp_path):
    """Each test writes media to its own folder; static files need no collectstatic manifest."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests make users by the dozen and each PBKDF2 hash takes a fifth of a second; a test's
    passwords need not resist brute force (Django's advice for test suites). Logins still check
    them, through the same authentication path, and a hash made elsewhere still verifies."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` process on both queues, on the broker this test run uses.

    It shares the test database (its DATABASE_URL is pytest-django's test DB) so tasks can read
    what a test wrote, and its own media folder; tests that exchange files with it use the
    ``worker_media`` fixture. Module-scoped: starting a worker costs a few seconds.
    """
    folder = tmp_path_factory.mktemp("worker")
    log_path = folder / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "MEDIA_ROOT": str(folder / "media"),
    }
    hostname = f"test-{uuid.uuid4().hex[:8]}@%h"
    argv = [
        *worker_command(pool="solo", concurrency=1),
        "--hostname",
        hostname,
        "--without-mingle",
        "--without-gossip",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_worker(("synth", "cpu"), proc)
        yield Worker(proc=proc, media_root=folder / "media")
    except Exception:
        print(log_path.read_text())
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def worker_media(celery_worker, settings) -> Path:
    """This test and the worker read and write the same media folder."""
    settings.MEDIA_ROOT = celery_worker.media_root
    return celery_worker.media_root


@pytest.fixture
def world(db, tmp_path):
    """Projects A and B, each with an open test and a job; a user for each role (the outsider
    owns B and nothing of A): (users by role, objects by "own"/"other")."""
    return build_world(tmp_path)


@pytest.fixture
def chromium_browser():
    """Playwright driving the system Chromium (downloaded browsers cannot be installed here)."""
    need_browser()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # sync Playwright runs a loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
