"""Backends by name: the built-ins plus any registered under the entry-point group
``evalsite.synth_backends`` (so a third-party package can add one without touching this code).

A broken third-party entry point never hides the built-ins: it is logged and skipped by
``available_backends()``, and ``get_backend()`` of its name says what went wrong. A third-party
entry point cannot replace a built-in name either: registrations would silently change meaning.
"""

from __future__ import annotations

import importlib
import logging
from importlib import metadata

from .base import Backend
from .errors import BackendError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "evalsite.synth_backends"
BUILTINS = {
    "espeak-ng": "synth_workers.backends.espeak:EspeakBackend",
    "hf-vits": "synth_workers.backends.hf_vits:HfVitsBackend",
    "kokoro": "synth_workers.backends.kokoro:KokoroBackend",
    "piper": "synth_workers.backends.piper:PiperBackend",
    "torchscript": "synth_workers.backends.torchscript:TorchScriptBackend",
    "world-prosody-transfer": "synth_workers.backends.world_transfer:WorldProsodyTransferBackend",
}


def available_backends() -> dict[str, type[Backend]]:
    """Every backend that loads, by name (built-ins first)."""
    found: dict[str, type[Backend]] = {}
    for name in [*BUILTINS, *sorted(_entry_points())]:
        if name in found:
            continue
        try:
            found[name] = get_backend(name)
        except BackendError as exc:
            logger.warning("skipping synthesis backend %s: %s", name, exc)
    return found


def get_backend(name: str) -> type[Backend]:
    if name in BUILTINS:
        try:
            backend = _import(BUILTINS[name])
        except ImportError as exc:  # a library missing from this install (e.g. no torch)
            raise BackendError(f"backend '{name}' is not installed here: {exc}") from exc
        return _checked(name, backend, BUILTINS[name])
    entry_point = _entry_points().get(name)
    if entry_point is None:
        available = ", ".join([*BUILTINS, *sorted(set(_entry_points()) - set(BUILTINS))])
        raise BackendError(f"unknown backend '{name}'; available: {available}")
    try:
        backend = entry_point.load()
    except Exception as exc:  # a third-party import can fail in any way; report, do not crash
        raise BackendError(
            f"backend '{name}' could not be loaded from entry point '{entry_point.value}': "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return _checked(name, backend, entry_point.value)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    points = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in BUILTINS and entry_point.value != BUILTINS[entry_point.name]:
            logger.warning(
                "ignoring entry point %s = %s: '%s' is a built-in backend",
                entry_point.name,
                entry_point.value,
                entry_point.name,
            )
            continue
        points[entry_point.name] = entry_point
    return points


def _import(target: str) -> object:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _checked(name: str, backend: object, where: str) -> type[Backend]:
    if not (isinstance(backend, type) and issubclass(backend, Backend)):
        raise BackendError(f"backend '{name}' ({where}) is not a Backend subclass")
    own_name = getattr(backend, "name", None)
    if own_name != name:
        raise BackendError(f"backend registered as '{name}' ({where}) calls itself {own_name!r}")
    return backend
