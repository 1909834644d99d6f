"""GET /healthz: green with a real worker, 503 naming what is down otherwise."""

import pytest

from evalsite.celery import app


@pytest.fixture
def broker(monkeypatch):
    """Point the Celery app at another broker for one test, then restore it."""
    saved = app.conf.broker_url, app.conf.broker_transport_options

    def switch(url: str, options: dict | None = None) -> None:
        # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url, app.conf.broker_transport_options = url, options or {}

    yield switch
    app.conf.broker_url, app.conf.broker_transport_options = saved


@pytest.mark.slow
def test_healthz_is_green_with_a_real_worker(client, db, celery_worker):
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "broker", "media", "worker_synth", "worker_cpu"}
    assert "migrations applied" in body["checks"]["database"]["detail"]
    assert "answered by test-" in body["checks"]["worker_synth"]["detail"]


def test_healthz_names_the_broker_when_it_is_down(client, db, broker):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 503
    assert "broker" in body["down"]
    assert "redis://127.0.0.1:1/0" in body["checks"]["broker"]["detail"]
    assert body["checks"]["worker_cpu"] == {
        "ok": False,
        "detail": "not checked: broker unreachable",
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["media"]["ok"]


def test_healthz_names_each_queue_without_a_worker(client, db, broker, tmp_path, settings):
    # A broker folder no worker listens on: reachable, but nobody answers the ping.
    settings.HEALTH_WORKER_TIMEOUT = 0.5
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    broker(
        "filesystem://",
        {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "polling_interval": 0.1,
        },
    )
    body = client.get("/healthz").json()
    assert body["down"] == ["worker_synth", "worker_cpu"]
    assert body["checks"]["broker"]["ok"]
    assert "no worker answered a ping on queue 'synth'" == body["checks"]["worker_synth"]["detail"]


def test_healthz_reports_unapplied_migrations(client, db):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    MigrationRecorder(connection).migration_qs.filter(
        app="auth", name="0012_alter_user_first_name_max_length"
    ).delete()
    body = client.get("/healthz").json()
    assert "database" in body["down"]
    assert "1 migration(s) not applied" in body["checks"]["database"]["detail"]


def test_healthz_reports_unwritable_media(client, db, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    body = client.get("/healthz").json()
    assert "media" in body["down"]
    assert body["checks"]["media"]["detail"].startswith("media storage not writable")
