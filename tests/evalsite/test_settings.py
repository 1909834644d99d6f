"""The settings module: embedded default without variables, services with them; importing it
only reads, and a variable with an invalid value stops it with ImproperlyConfigured naming it."""

import json
import runpy
import sqlite3
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tests.support.paths import ROOT
from tests.support.services import SERVICE_VARIABLES, embedded_env, need_postgres

SETTINGS = ROOT / "evalsite" / "settings.py"

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


def prepare(env: dict) -> None:
    """What the launcher and manage.py do before anything reads the settings."""
    run_python("from evalsite.var_dir import prepare_var_dir; prepare_var_dir()", env)


def test_embedded_default_needs_no_variables(tmp_path):
    env = embedded_env(tmp_path)
    env.pop("PYTEST_VERSION", None)  # as outside a test run: no key of the process' own
    prepare(env)
    first = probe(env)
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
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0 and first["secret"] == key_file.read_text()
    assert probe(env)["secret"] == first["secret"]


def test_importing_the_settings_writes_nothing(tmp_path):
    """Not even the var/ folder: settings, app registry and Celery configuration only read."""
    var = tmp_path / "var"
    env = embedded_env(var) | {"SECRET_KEY": "a-key-from-the-environment-" + "x" * 40}
    env.pop("PYTEST_VERSION", None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from evalsite.celery import app; "
        "print(settings.VAR_DIR, app.conf.broker_url, app.conf.result_backend)"
    )
    out = run_python(code, env).split()
    assert out == [str(var), "filesystem://", f"file://{var}/celery-results"]
    assert list(tmp_path.iterdir()) == []


def run_settings(monkeypatch, tmp_path, **variables) -> dict:
    """Execute settings.py afresh (in this process) with these variables, as a process would."""
    monkeypatch.setenv("EVALSITE_VAR_DIR", str(tmp_path))
    for name in ("DEBUG", "SECRET_KEY", *SERVICE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "ture"),
        ("HTTPS", "maybe"),
        ("DB_PREPARE_STATEMENTS", "2"),
        ("DB_CONN_MAX_AGE", "sixty"),
        ("DB_CONN_MAX_AGE", "-1"),
        ("SYNTH_BATCH_SIZE", "0"),
        ("IMPORT_MAX_FILE_BYTES", "100MB"),
        ("HEALTH_CACHE_SECONDS", "fast"),
        ("STIMULUS_TARGET_LUFS", "nan"),
        ("DATABASE_URL", "postgress://lab:hunter2@db.example.org/evalsite"),
        ("DATABASE_URL", "postgres://lab:hunter2@db.example.org:port/evalsite"),
        ("DATABASE_URL", "postgres://lab:hunter2@db.example.org:5432"),
        ("CELERY_BROKER_URL", "redis:/lab:hunter2@localhost"),
        ("CELERY_BROKER_URL", "rabbit://lab:hunter2@localhost"),
        ("CELERY_BROKER_URL", "redis://lab:hunter2@localhost:port/0"),
        ("CELERY_RESULT_BACKEND", "postgres://lab:hunter2@localhost/results"),
        ("LOG_LEVEL", "LOUD"),
        ("SYNTH_DEVICE", "gpu"),
        ("PROXY_SSL_HEADER", "X-Forwarded-Proto"),
    ],
)
def test_an_invalid_value_stops_the_settings_naming_the_variable(
    monkeypatch, tmp_path, name, value
):
    with pytest.raises(ImproperlyConfigured, match=rf"^{name}\b") as raised:
        run_settings(monkeypatch, tmp_path, **{name: value})
    assert "hunter2" not in str(raised.value)  # URLs carry passwords; messages reach logs


def test_booleans_take_the_usual_words_and_blank_means_the_default(monkeypatch, tmp_path):
    seen = run_settings(monkeypatch, tmp_path, DEBUG="Yes", HTTPS="off", DB_PREPARE_STATEMENTS="")
    assert (seen["DEBUG"], seen["HTTPS"], seen["DB_PREPARE_STATEMENTS"]) == (True, False, True)


def test_without_a_secret_key_the_settings_refuse_to_start_except_for_debug(monkeypatch, tmp_path):
    monkeypatch.delenv("PYTEST_VERSION", raising=False)  # as gunicorn would, outside pytest
    with pytest.raises(ImproperlyConfigured, match="^SECRET_KEY") as raised:
        run_settings(monkeypatch, tmp_path)
    assert str(tmp_path / "secret_key") in str(raised.value)
    assert run_settings(monkeypatch, tmp_path, DEBUG="1")["SECRET_KEY"]
    (tmp_path / "secret_key").write_text("the-local-key\n")
    assert run_settings(monkeypatch, tmp_path)["SECRET_KEY"] == "the-local-key"
    assert list(tmp_path.iterdir()) == [tmp_path / "secret_key"]  # read, nothing written


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
