"""Loaded models, cached per worker process (LRU by checkpoint hashes, bounded).

Loading a checkpoint is the slow part of synthesis; a `synth` worker keeps the last few it used.
Device selection happens here, inside the task, so a worker's parent never initialises CUDA.
"""

import json
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

from synth_workers.backends import get_backend
from synth_workers.models import System

_cache: OrderedDict[tuple, object] = OrderedDict()


def resolve_device(wanted: str) -> str:
    """SYNTH_DEVICE=auto|cpu|cuda[:N]: auto picks CUDA only when a GPU answers."""
    if wanted != "auto":
        return wanted
    try:
        import torch  # only in the task process; optional (the worker extra)
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def system_files(system: System) -> dict[str, Path]:
    # FileSystemStorage paths; a remote storage would download to a local cache here.
    return {f.role: Path(default_storage.path(f.file.name)) for f in system.files.all()}


def loaded_backend(system: System):
    """A loaded backend instance for the system, from the cache or freshly loaded."""
    hashes = tuple(sorted(system.files.values_list("sha256", flat=True)))
    key = (
        system.backend,
        json.dumps(system.backend_config, sort_keys=True),
        hashes,
        system.trusted,
    )
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    backend_cls = get_backend(system.backend)
    files = system_files(system)
    backend_cls.check_files(files, system.backend_config, trusted=system.trusted)
    instance = backend_cls()
    instance.load(files, system.backend_config, resolve_device(settings.SYNTH_DEVICE))
    _cache[key] = instance
    while len(_cache) > settings.SYNTH_MODEL_CACHE_SIZE:
        _cache.popitem(last=False)
    return instance
