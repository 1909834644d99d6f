"""GET /healthz: a quiet public answer for everyone; every check, cached and bounded, for staff
and holders of HEALTH_TOKEN; green with a real worker, 503 naming what is down otherwise."""

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest

from evalsite import health
from evalsite.celery import app

TOKEN = "a-health-token-for-the-tests"


@pytest.fixture(autouse=True)
def fresh_health_snapshots():
    """Each test starts without a cached answer (the snapshots live as long as the process)."""
    health.PUBLIC.clear()
    health.FULL.clear()
    yield
    health.PUBLIC.clear()
    health.FULL.clear()


@pytest.fixture
def token(settings) -> dict:
    """HEALTH_TOKEN is configured; returns the header that unlocks the full answer."""
    settings.HEALTH_TOKEN = TOKEN
    return {"Authorization": f"Bearer {TOKEN}"}


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


@pytest.fixture
def broker_without_workers(broker, tmp_path, settings):
    """A broker folder no worker listens on: reachable, but nobody answers the ping."""
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
    return folders


@pytest.mark.slow
def test_healthz_is_green_for_staff_with_a_real_worker(admin_client, db, celery_worker):
    resp = admin_client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == [] and body["view"] == "full"
    assert set(body["checks"]) == {"database", "broker", "media", "worker_synth", "worker_cpu"}
    assert "migrations applied" in body["checks"]["database"]["detail"]
    assert "answered by test-" in body["checks"]["worker_synth"]["detail"]


def test_public_healthz_shows_liveness_and_database_only(client, db, broker, settings):
    broker("redis://broker.internal.example:1/0")  # down, and a name that must not leak
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 200, body  # the web process and its database are fine
    assert body["view"] == "public" and body["down"] == []
    assert body["checks"] == {"database": {"ok": True}}
    text = resp.content.decode()
    for secret in (str(settings.BASE_DIR), str(settings.VAR_DIR), "broker", "redis", "filesystem"):
        assert secret not in text
    assert socket.gethostname() not in text


def test_public_healthz_is_answered_from_its_cache(client, db, settings, django_assert_num_queries):
    settings.HEALTH_CACHE_SECONDS = 60
    first = client.get("/healthz").json()
    with django_assert_num_queries(0):  # no database round trip, no worker ping
        again = client.get("/healthz").json()
    assert again["checked_at"] == first["checked_at"]
    settings.HEALTH_CACHE_SECONDS = 0  # expired: the next answer is measured anew
    assert client.get("/healthz").json()["checked_at"] != first["checked_at"]


def test_full_healthz_needs_staff_or_the_token(client, admin_client, db, token, settings):
    assert client.get("/healthz").json()["view"] == "public"
    assert client.get("/healthz", headers=token).json()["view"] == "full"
    assert client.get(f"/healthz?token={TOKEN}").json()["view"] == "full"
    assert admin_client.get("/healthz").json()["view"] == "full"
    wrong = client.get("/healthz", headers={"Authorization": "Bearer guessed"})
    assert wrong.status_code == 403 and wrong.json() == {"error": "invalid health token"}
    assert client.get("/healthz?token=guessed").status_code == 403
    settings.HEALTH_TOKEN = ""  # no token configured: none is accepted
    assert client.get("/healthz", headers=token).status_code == 403


def test_healthz_names_the_broker_when_it_is_down(client, db, broker, token):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    resp = client.get("/healthz", headers=token)
    body = resp.json()
    assert resp.status_code == 503
    assert "broker" in body["down"]
    assert "redis://127.0.0.1:1/0" in body["checks"]["broker"]["detail"]
    assert body["checks"]["worker_cpu"] == {
        "ok": False,
        "detail": "not checked: broker unreachable",
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["media"]["ok"]


def test_healthz_names_each_queue_without_a_worker(client, db, broker_without_workers, token):
    body = client.get("/healthz", headers=token).json()
    assert body["down"] == ["worker_synth", "worker_cpu"]
    assert body["checks"]["broker"]["ok"]
    assert "no worker answered a ping on queue 'synth'" == body["checks"]["worker_synth"]["detail"]


def get_concurrently(url: str, headers: dict, n: int) -> list[dict]:
    """n real HTTP requests released at the same moment; their JSON bodies."""
    barrier, bodies = threading.Barrier(n), [None] * n

    def one(i: int) -> None:
        barrier.wait()
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                bodies[i] = json.load(resp)
        except urllib.error.HTTPError as err:  # 503 carries the same JSON
            bodies[i] = json.load(err)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bodies


def test_concurrent_full_requests_share_one_worker_ping(
    live_server, broker_without_workers, token, settings
):
    settings.HEALTH_WORKER_TIMEOUT = 2.0  # each ping waits this long for replies
    settings.HEALTH_DETAIL_CACHE_SECONDS = 60
    url = f"{live_server.url}/healthz"
    # No answer cached yet: all wait for the one ping in flight, none starts its own.
    first = get_concurrently(url, token, 4)
    assert {body["checked_at"] for body in first} == {first[0]["checked_at"]}
    assert first[0]["down"] == ["worker_synth", "worker_cpu"]
    # Expired: one request refreshes it; the others answer at once with the previous answer
    # instead of waiting for that ping (or each sending one of their own).
    settings.HEALTH_DETAIL_CACHE_SECONDS = 0
    again = [body["checked_at"] for body in get_concurrently(url, token, 4)]
    assert again.count(first[0]["checked_at"]) == 3, again
    assert len(set(again)) == 2


def test_healthz_reports_unapplied_migrations(client, db, token):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    MigrationRecorder(connection).migration_qs.filter(
        app="auth", name="0012_alter_user_first_name_max_length"
    ).delete()
    body = client.get("/healthz", headers=token).json()
    assert "database" in body["down"]
    assert "1 migration(s) not applied" in body["checks"]["database"]["detail"]


def test_healthz_reports_unwritable_media(client, db, settings, tmp_path, token):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    body = client.get("/healthz", headers=token).json()
    assert "media" in body["down"]
    assert body["checks"]["media"]["detail"].startswith("media storage not writable")
