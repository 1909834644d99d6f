"""Platform-level tasks: the ping used by health checks and round-trip tests."""

import os
import socket

from celery import shared_task


@shared_task(name="evalsite.ping", acks_late=False, ignore_result=False)
def ping(token: str) -> dict:
    """Echo ``token`` with where it ran, so a caller can tell a real worker answered."""
    return {"token": token, "host": socket.gethostname(), "pid": os.getpid()}
