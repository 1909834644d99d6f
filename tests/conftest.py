"""Shared fixtures: real services when configured, a real Celery worker, skip-or-fail rules.

Tests that need something this machine may lack (PostgreSQL, Redis, Chromium, ../shared/datasets)
call ``need(...)``: it skips with a visible reason, or fails when the matching ``REQUIRE_*=1``
is set (CI sets all three, so a missing service can never turn into a quiet green run).
"""

import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from evalsite.launcher import worker_command
from evalsite.tasks import ping

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Variables that select real services; a test of the embedded default removes them all.
SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def need(available: bool, reason: str, require_flag: str) -> None:
    if available:
        return
    if os.environ.get(require_flag) == "1":
        pytest.fail(f"{reason} (required because {require_flag}=1)")
    pytest.skip(f"{reason} (set {require_flag}=1 to make this a failure)")


def need_postgres() -> None:
    url = os.environ.get("DATABASE_URL", "")
    need(
        url.startswith(("postgres://", "postgresql://")),
        "PostgreSQL not configured: DATABASE_URL is not a postgres:// URL",
        "REQUIRE_SERVICES",
    )


def need_redis() -> None:
    url = os.environ.get("CELERY_BROKER_URL", "")
    need(
        url.startswith(("redis://", "rediss://")),
        "Redis not configured: CELERY_BROKER_URL is not a redis:// URL",
        "REQUIRE_SERVICES",
    )


def need_browser() -> None:
    need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}", "REQUIRE_BROWSER")


def need_pdftoppm() -> None:
    """poppler-utils' pdftoppm rasterises report PDFs; a system tool like the browser."""
    need(
        shutil.which("pdftoppm") is not None,
        "pdftoppm (poppler-utils) not found",
        "REQUIRE_BROWSER",
    )


def need_shared_data() -> None:
    need(SHARED_DATASETS.is_dir(), f"{SHARED_DATASETS} not found", "REQUIRE_SHARED_DATA")


def embedded_env(var_dir: Path) -> dict[str, str]:
    """The environment of a fresh machine: no service variables, a private var/ folder."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(EVALSITE_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="evalsite.settings")
    env.pop("SECRET_KEY", None)
    env.pop("DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser fixture, not by a machine
    return env


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


def database_url_of_test_db() -> str:
    """DATABASE_URL for the database pytest-django created, so a worker process shares it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or ''}:{db.get('PORT') or 5432}/{db['NAME']}"


def wait_for_worker(queues: tuple[str, ...], proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for queue in queues:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Celery worker exited with code {proc.returncode}")
            token = uuid.uuid4().hex
            try:
                if (
                    ping.apply_async((token,), queue=queue, expires=5).get(timeout=5)["token"]
                    == token
                ):
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise


@dataclass
class Worker:
    proc: subprocess.Popen
    media_root: Path


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
