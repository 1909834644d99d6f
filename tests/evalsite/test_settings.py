"""The settings module: embedded default without variables, services with them."""

import json
import sqlite3
import subprocess
import sys

from django.db import connection

from tests.conftest import ROOT, embedded_env, need_postgres

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
connection.ensure_connection()
from evalsite.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "broker": app.conf.broker_url,
    "results": app.conf.result_backend, "debug": settings.DEBUG,
    "secret": settings.SECRET_KEY, "media": str(settings.MEDIA_ROOT),
    "acks_late": app.conf.task_acks_late, "prefetch": app.conf.worker_prefetch_multiplier,
}))
"""


def run_python(code: str, env: dict) -> str:
    """Run code in a fresh interpreter: settings are read once, at import, from the environment."""
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def probe(env: dict) -> dict:
    return json.loads(run_python(PROBE, env).strip().splitlines()[-1])


def test_embedded_default_needs_no_variables(tmp_path):
    first = probe(embedded_env(tmp_path))
    assert first["engine"] == "django.db.backends.sqlite3"
    assert first["name"] == str(tmp_path / "db.sqlite3")
    assert first["broker"].startswith("filesystem://")
    assert first["results"].startswith(f"file://{tmp_path}")
    assert first["media"] == str(tmp_path / "media")
    assert first["debug"] is False
    assert first["acks_late"] is True and first["prefetch"] == 1
    # The database is really in WAL mode, and the generated key is kept for the next start.
    assert sqlite3.connect(tmp_path / "db.sqlite3").execute("PRAGMA journal_mode").fetchone() == (
        "wal",
    )
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert probe(embedded_env(tmp_path))["secret"] == first["secret"]


def test_database_url_switches_the_engine(tmp_path):
    env = embedded_env(tmp_path) | {"DATABASE_URL": "postgres://someone@127.0.0.1:1/elsewhere"}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['PORT'])"
    )
    out = run_python(code, env).split()
    assert out == ["django.db.backends.postgresql", "elsewhere", "1"]


def test_broker_url_switches_broker_and_result_backend(tmp_path):
    env = embedded_env(tmp_path) | {"CELERY_BROKER_URL": "redis://127.0.0.1:1/3"}
    code = (
        "import django; django.setup(); from evalsite.celery import app; "
        "print(app.conf.broker_url, app.conf.result_backend)"
    )
    out = run_python(code, env).split()
    assert out == ["redis://127.0.0.1:1/3", "redis://127.0.0.1:1/3"]


def test_suite_runs_on_postgresql_when_configured(db):
    need_postgres()
    assert connection.vendor == "postgresql"
