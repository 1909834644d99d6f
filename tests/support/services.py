"""The real services a test may need, and how to wait for them.

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
from tests.support.paths import ROOT, SHARED_DATASETS

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


def database_url_of_test_db() -> str:
    """DATABASE_URL for the database pytest-django created, so a worker process shares it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or ''}:{db.get('PORT') or 5432}/{db['NAME']}"


@dataclass
class Worker:
    proc: subprocess.Popen
    media_root: Path


def start_worker(media_root, log_path, queues: str = "synth") -> subprocess.Popen:
    """A ``celery worker`` process on the test database, two items a synthesis batch."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "MEDIA_ROOT": str(media_root),
        "SYNTH_BATCH_SIZE": "2",
    }
    argv = [
        *worker_command(queues=queues, pool="solo", concurrency=1),
        "--without-mingle",
        "--without-gossip",
    ]
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


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


def wait_for(condition, timeout: float = 120, what: str = "condition") -> None:
    """Poll ``condition()`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)
