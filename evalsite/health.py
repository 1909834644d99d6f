"""Health checks behind ``GET /healthz``: one entry per dependency, each ``{"ok", "detail"}``.

Each check returns quickly and never raises: a failing dependency is reported, not thrown, so
the endpoint can name exactly what is down.
"""

import uuid
from dataclasses import asdict, dataclass

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


def run_checks() -> dict[str, dict]:
    checks = {"database": check_database(), "media": check_media(), **check_broker_and_workers()}
    return {name: asdict(check) for name, check in checks.items()}
