"""Registering a checkpoint system: hash and check its files, then a smoke test on a worker.

Nothing is stored before the backend has checked the files (pickles refused unless trusted, ONNX
external data refused, config matching the files), and a failed registration leaves nothing
behind. The system becomes usable only once a `synth` worker has rendered one sentence with it.
"""

import hashlib
from pathlib import Path

import numpy as np
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.text import slugify

from evalsite.errors import InputError
from synth_workers.backends import BackendError, SynthRequest, get_backend
from synth_workers.models import CheckpointFile, System
from synth_workers.services.backend_cache import loaded_backend

SMOKE_TEXT = "This is a short test sentence."


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def system_register(
    *,
    name: str,
    backend: str,
    config: dict | None = None,
    files: dict[str, Path] | None = None,
    trusted: bool = False,
    owner=None,
    description: str = "",
) -> System:
    config, files = config or {}, files or {}
    if System.objects.filter(name=name).exists():
        raise InputError(f"a system named '{name}' already exists")
    if missing := [f"{role}: {p}" for role, p in files.items() if not Path(p).is_file()]:
        raise InputError("file(s) not found", missing)
    try:
        backend_cls = get_backend(backend)
        paths = {role: Path(p) for role, p in files.items()}
        backend_cls.check_files(paths, config, trusted=trusted)
        capabilities = sorted(backend_cls.describe(paths, config).capabilities)
    except BackendError as exc:
        raise InputError(f"system '{name}' refused: {exc}") from None
    stored: list[str] = []
    try:
        with transaction.atomic():
            system = System.objects.create(
                name=name,
                slug=slugify(name)[:100] or "system",
                kind=System.Kind.CHECKPOINT,
                backend=backend_cls.name,
                backend_config=config,
                trusted=trusted,
                owner=owner,
                description=description,
                usable=False,
                check_error="waiting for a worker",
                capabilities=capabilities,
            )
            for role, path in files.items():
                path, sha = Path(path), _sha256(Path(path))
                with path.open("rb") as f:
                    saved = default_storage.save(f"checkpoints/{sha}{path.suffix}", File(f))
                stored.append(saved)
                CheckpointFile.objects.create(
                    system=system, role=role, file=saved, sha256=sha, size=path.stat().st_size
                )
            transaction.on_commit(lambda: _queue_check(system.pk))
    except Exception:
        for saved in stored:
            default_storage.delete(saved)
        raise
    return system


def _queue_check(system_id: int) -> None:
    from synth_workers.tasks import synth_check_system

    synth_check_system.delay(system_id)


def system_check(*, system_id: int) -> str:
    """Load the model and render one sentence; the system is usable only if that works."""
    system = System.objects.get(pk=system_id)
    try:
        clip = loaded_backend(system).synthesize([SynthRequest(text=SMOKE_TEXT)])[0]
        if clip.frames == 0 or not np.isfinite(clip.samples).all() or not clip.samples.any():
            raise BackendError("the test sentence came out empty or silent")
    except Exception as exc:  # whatever the model does wrong, the scientist reads why
        reason = str(exc) if isinstance(exc, BackendError) else f"the model failed: {exc}"
        System.objects.filter(pk=system_id).update(usable=False, check_error=reason)
        return "failed"
    System.objects.filter(pk=system_id).update(usable=True, check_error="")
    return "usable"
