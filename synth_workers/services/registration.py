"""Registering a checkpoint system: hash and check its files, then a smoke test on a worker.

Nothing is stored before the backend has checked the files (pickles refused unless trusted, ONNX
external data refused, config matching the files), and a failed registration leaves nothing
behind. The system becomes usable only once a `synth` worker has rendered one sentence with it.
"""

import hashlib
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from evalsite import dispatch
from evalsite.errors import InputError
from evalsite.models import default_project_id
from synth_workers.backends import BackendError, SynthRequest, get_backend
from synth_workers.models import CheckpointFile, System
from synth_workers.services.backend_cache import loaded_backend, system_files
from synth_workers.services.naming import check_free, create_unique

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
    project_id: int | None = None,
) -> System:
    """A checkpoint system in ``project_id`` (the default project when None), checked on a worker
    before it is usable."""
    config, files = dict(config or {}), files or {}
    taken = {"name": f"a system named '{name}' already exists"}
    check_free(System, taken, name=name)  # before hashing gigabytes of checkpoint
    try:
        backend_cls = get_backend(backend)
    except BackendError as exc:
        raise InputError(f"system '{name}' refused: {exc}") from None
    if "base_backend" in backend_cls.config_schema and "base_system" in config:
        config, files, base_trusted = _wrapped_system(config, files, project_id)
        trusted = trusted or base_trusted
    if missing := [f"{role}: {p}" for role, p in files.items() if not Path(p).is_file()]:
        raise InputError("file(s) not found", missing)
    limit = settings.SYNTH_MAX_CHECKPOINT_BYTES
    if too_big := [f"{r}: {p}" for r, p in files.items() if Path(p).stat().st_size > limit]:
        raise InputError(f"file(s) over the {limit / 2**30:.1f} GiB limit per checkpoint", too_big)
    try:
        paths = {role: Path(p) for role, p in files.items()}
        backend_cls.check_files(paths, config, trusted=trusted)
        capabilities = sorted(backend_cls.describe(paths, config).capabilities)
    except BackendError as exc:
        raise InputError(f"system '{name}' refused: {exc}") from None
    stored: list[str] = []
    try:
        with transaction.atomic():
            system = create_unique(
                System,
                taken=taken,
                slug_from=name,
                name=name,
                kind=System.Kind.CHECKPOINT,
                backend=backend_cls.name,
                backend_config=config,
                trusted=trusted,
                owner=owner,
                description=description,
                usable=False,
                project_id=project_id or default_project_id(),
                check_error=System.CHECK_PENDING,
                capabilities=capabilities,
            )
            for role, path in files.items():
                path, sha = Path(path), _sha256(Path(path))
                saved = f"checkpoints/{sha}{path.suffix}"
                # Stored by content: a file registered before (a base system's) is reused.
                if not default_storage.exists(saved):
                    with path.open("rb") as f:
                        saved = default_storage.save(saved, File(f))
                    stored.append(saved)
                CheckpointFile.objects.create(
                    system=system, role=role, file=saved, sha256=sha, size=path.stat().st_size
                )
            dispatch.send_on_commit(dispatch.CHECK_SYSTEM, system.pk)
    except Exception:
        for saved in stored:
            default_storage.delete(saved)
        raise
    return system


def _wrapped_system(config: dict, files: dict, project_id: int | None) -> tuple[dict, dict, bool]:
    """A backend that renders with another registered system (world-prosody-transfer) stays
    pure: it receives the base system's backend, config and files ("base:ROLE"), resolved here
    from ``config["base_system"]``. Its trust is the base's: the same files, already vetted.
    The base must be of the new system's project: another project's checkpoint is not ours to
    build on (nor to learn of)."""
    base_name = config["base_system"]
    base = System.objects.filter(
        name=base_name,
        kind=System.Kind.CHECKPOINT,
        project_id=project_id or default_project_id(),
    ).first()
    if base is None:
        raise InputError(
            f"config 'base_system': no checkpoint system named '{base_name}' in this project"
        )
    if not base.usable:
        raise InputError(f"config 'base_system': '{base_name}' is not usable yet")
    if files:
        raise InputError("a system built on 'base_system' takes no files of its own")
    config = {**config, "base_backend": base.backend, "base_config": base.backend_config}
    files = {f"base:{role}": path for role, path in system_files(base).items()}
    return config, files, base.trusted


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
