"""pymushra's shipped WSGI app, with its write to TinyDB under a lock of its own.

pymushra's `collect` inserts into TinyDB *beside* its tinyrecord transaction (the transaction
records nothing), so concurrent requests read-modify-write the one JSON file unguarded, and
each process caches the next document id. Here the whole write runs under a lock held across
threads (threading.Lock) and gunicorn's worker processes (flock on a file beside the database),
and the cached id is forgotten first, since another process may have used it.

Served by gunicorn from pymushra's folder (cwd holds webmushra/ and db/, as pymushra.wsgi wants):
    gunicorn pymushra_locked:application --pythonpath bench/listenerload
"""

import fcntl
import os
import threading
from functools import wraps

from pymushra.wsgi import application

LOCK_FILE = os.path.join(os.getcwd(), "db", "write.lock")
_in_process = threading.Lock()
_shipped_collect = application.view_functions["collect"]


@wraps(_shipped_collect)
def collect(*args, **kwargs):
    with _in_process, open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        for table in application.config["db"]._tables.values():
            table._next_id = None
        return _shipped_collect(*args, **kwargs)


application.view_functions["collect"] = collect
