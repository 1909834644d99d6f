"""Health checks behind ``GET /healthz``: one entry per dependency, each ``{"ok", "detail"}``.

Each check returns quickly and never raises: a failing dependency is reported, not thrown, so
the endpoint can name exactly what is down. Two answers, each cached per process (``Snapshot``):
the public one (is the database reachable; nothing else, no path, host or URL) and the full one
(migrations, media, broker, a worker per queue) for staff and holders of ``HEALTH_TOKEN``.
"""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from evalsite.celery import app as celery_app

QUEUES = ("synth", "cpu")


@dataclass
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # any driver error means "unreachable"
        return Check(False, f"database unreachable: {exc}")
    if plan:
        return Check(False, f"{len(plan)} migration(s) not applied; run manage.py migrate")
    return Check(True, f"{connection.vendor}, migrations applied")


def broker_label(conn) -> str:
    """The broker as people know it (URL without password, or the folder), for messages."""
    if conn.transport_cls == "filesystem":
        return f"filesystem {conn.transport_options.get('data_folder_in', '')}"
    return f"{conn.transport_cls}://{conn.hostname}:{conn.port}/{conn.virtual_host}"


def check_broker_and_workers() -> dict[str, Check]:
    """Reach the broker, then ask every worker which queues it consumes (a broadcast ping).

    One fresh connection serves both, so the answer reflects the broker configured now and never
    a pooled connection from before.
    """
    with celery_app.connection_for_write() as conn:
        try:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT)
        except Exception as exc:
            not_checked = Check(False, "not checked: broker unreachable")
            return {"broker": Check(False, f"broker {broker_label(conn)} unreachable: {exc}")} | {
                f"worker_{q}": not_checked for q in QUEUES
            }
        checks = {"broker": Check(True, f"broker {broker_label(conn)} reachable")}
        inspect = celery_app.control.inspect(
            timeout=settings.HEALTH_WORKER_TIMEOUT, connection=conn
        )
        try:
            replies, error = inspect.active_queues() or {}, "no worker answered a ping"
        except Exception as exc:
            replies, error = {}, f"ping failed: {exc}"
    consumers: dict[str, list[str]] = {q: [] for q in QUEUES}
    for worker, queues in replies.items():
        for queue in queues:
            consumers.setdefault(queue["name"], []).append(worker)
    for q in QUEUES:
        checks[f"worker_{q}"] = (
            Check(True, f"answered by {', '.join(sorted(consumers[q]))}")
            if consumers[q]
            else Check(False, f"{error} on queue '{q}'")
        )
    return checks


def check_media() -> Check:
    name = f"healthz/{uuid.uuid4().hex}.txt"
    try:
        saved = default_storage.save(name, ContentFile(b"ok"))
        default_storage.delete(saved)
    except Exception as exc:
        return Check(False, f"media storage not writable: {exc}")
    return Check(True, "media storage writable")


def check_database_reachable() -> Check:
    """The public check: one trivial query; the reason for a failure is not shown (it may name
    the database's host)."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return Check(False, "unreachable")
    return Check(True, "reachable")


def run_checks() -> dict[str, dict]:
    checks = {"database": check_database(), "media": check_media(), **check_broker_and_workers()}
    return {name: asdict(check) for name, check in checks.items()}


def public_checks() -> dict[str, dict]:
    return {"database": {"ok": check_database_reachable().ok}}


def summary(checks: dict[str, dict]) -> dict:
    down = [name for name, check in checks.items() if not check["ok"]]
    checked_at = datetime.now(UTC).isoformat(timespec="microseconds")
    return {
        "status": "down" if down else "ok",
        "down": down,
        "checks": checks,
        "checked_at": checked_at,
    }


class Snapshot:
    """The last result of ``compute``, kept ``max_age`` seconds; one caller at a time refreshes it.

    While one request refreshes, the others answer at once with the previous result; only when
    there is none yet do they wait, at most ``wait`` seconds, and then get None. So a crowd of
    pollers costs one computation per ``max_age`` and nobody waits longer than one computation.
    """

    def __init__(self, compute: Callable[[], dict]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._value: dict | None = None
        self._at = 0.0

    def get(self, *, max_age: float, wait: float) -> dict | None:
        if self._fresh(max_age):
            return self._value
        if not self._lock.acquire(timeout=wait if self._value is None else 0):
            return self._value
        try:
            if not self._fresh(max_age):  # another request may have refreshed meanwhile
                value = self._compute()
                self._value, self._at = value, time.monotonic()
            return self._value
        finally:
            self._lock.release()

    def _fresh(self, max_age: float) -> bool:
        return self._value is not None and time.monotonic() - self._at < max_age

    def clear(self) -> None:
        with self._lock:
            self._value = None


PUBLIC = Snapshot(lambda: summary(public_checks()))
FULL = Snapshot(lambda: summary(run_checks()))


def health(*, full: bool) -> dict:
    """The public or the full answer, from its snapshot; "pending" if the first is not ready."""
    bound = settings.HEALTH_BROKER_TIMEOUT + settings.HEALTH_WORKER_TIMEOUT + 1.0
    if full:
        answer = FULL.get(max_age=settings.HEALTH_DETAIL_CACHE_SECONDS, wait=bound)
    else:
        answer = PUBLIC.get(max_age=settings.HEALTH_CACHE_SECONDS, wait=1.0)
    return answer or {"status": "down", "down": ["pending"], "checks": {}, "checked_at": None}
