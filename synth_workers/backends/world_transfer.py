"""The "world-prosody-transfer" backend: another backend's rendering, re-spoken with the prosody
reference's melody and timing by the WORLD vocoder. The platform's built-in prosody-transfer
baseline: every step can be inspected (see synth_workers.audio.prosody), it needs no training,
and it works on top of any registered voice.

The base is described by the registration itself, so this module stays pure (no database):
config ``base_backend`` names a backend in the registry and ``base_config`` is its config, and the
files are the base's own, each role prefixed "base:" ({"base:model": ..., "base:config": ...} for
piper; none for espeak-ng). The registration service fills these in from a registered base
system (config ``base_system``, kept here for display only).

A request without a prosody reference returns the base rendering unchanged: that is what the
registration smoke test renders, and the untransferred baseline of a job that turns references
off. With a reference, the rendering lasts as long as the reference and follows its F0 contour,
moved to the base voice's own median F0 unless ``shift_to_median`` is false.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from synth_workers.audio import Audio, AudioError
from synth_workers.audio.prosody import check_reference, transfer_prosody

from .base import Backend, BackendInfo, ConfigKey, SynthRequest, validate_config
from .errors import BackendError
from .registry import get_backend

PREFIX = "base:"
TRANSFER = "prosody_reference"


class WorldProsodyTransferBackend(Backend):
    name = "world-prosody-transfer"
    version = "1.0"
    # Whatever its base can do, plus a prosody reference (describe() says what one registration
    # can do).
    capabilities = frozenset(
        {
            "tts",
            "multi_speaker",
            "cross_lingual",
            "style",
            "voice_conversion",
            "speaker_sampling",
            TRANSFER,
        }
    )
    config_schema: ClassVar[dict[str, ConfigKey]] = {
        "base_backend": ConfigKey(
            str, required=True, help="the backend that renders the words, e.g. piper"
        ),
        "base_config": ConfigKey(dict, default={}, help="the base backend's own config"),
        "base_system": ConfigKey(
            str, default="", help="name of the registered base system (for display only)"
        ),
        "shift_to_median": ConfigKey(
            bool, default=True, help="move the reference's melody to the base voice's median F0"
        ),
    }
    file_roles: ClassVar[dict[str, str]] = {}  # the base's roles, prefixed: see check_files

    # -- before loading ------------------------------------------------------------------------
    @classmethod
    def check_files(cls, files: dict[str, Path], config: dict, trusted: bool) -> None:
        """Our own config, then the base's checks of its files (roles without the prefix)."""
        settings = validate_config(cls.config_schema, config)
        base = _base_backend(settings)
        base_files = _base_files(files, base)
        with _in_base(base):
            base.check_files(base_files, settings["base_config"], trusted)

    @classmethod
    def describe(cls, files: dict[str, Path], config: dict) -> BackendInfo:
        """The base's description, with prosody references added."""
        settings = validate_config(cls.config_schema, config)
        base = _base_backend(settings)
        base_files = _base_files(files, base)
        with _in_base(base):
            return _with_transfer(base.describe(base_files, settings["base_config"]))

    # -- loaded --------------------------------------------------------------------------------
    def load(self, files: dict[str, Path], config: dict, device: str) -> None:
        settings = validate_config(self.config_schema, config)
        base = _base_backend(settings)
        base_files = _base_files(files, base)
        self._base = base()
        with _in_base(base):
            self._base.load(base_files, settings["base_config"], device)
        self._shift_to_median = settings["shift_to_median"]
        self.info = _with_transfer(self._base.info)

    def check_request(self, request: SynthRequest) -> None:
        """Capabilities as every backend (super), the rest of the request as the base sees it,
        and the reference: audio, not empty, not too long."""
        super().check_request(request)
        self._base.check_request(replace(request, prosody_reference=None))
        reference = request.prosody_reference
        if reference is None:
            return
        if not isinstance(reference, Audio):
            raise BackendError(f"prosody reference must be audio, got {type(reference).__name__}")
        try:
            check_reference(reference)
        except AudioError as exc:
            raise BackendError(str(exc)) from None

    def request_provenance(self, request: SynthRequest) -> dict:
        """The base system's facts of the rendering (a sampled voice's blend, say)."""
        return self._base.request_provenance(replace(request, prosody_reference=None))

    def render_batch(self, batch: list[SynthRequest]) -> list[np.ndarray]:
        """One batched base call without the references, then a transfer for each reference."""
        renderings = self._base.synthesize([replace(r, prosody_reference=None) for r in batch])
        return [
            self._transferred(rendering, request)
            for request, rendering in zip(batch, renderings, strict=True)
        ]

    def _transferred(self, rendering: Audio, request: SynthRequest) -> np.ndarray:
        if request.prosody_reference is None:
            return rendering.samples[:, 0]
        try:
            out = transfer_prosody(
                rendering, request.prosody_reference, shift_to_median=self._shift_to_median
            )
        except AudioError as exc:  # e.g. a reference with no voiced speech
            raise BackendError(f"prosody transfer for {request.text[:40]!r}: {exc}") from None
        return out.samples[:, 0]


def _base_backend(settings: dict) -> type[Backend]:
    """The base backend's class; never a backend that itself wraps a base (no nesting)."""
    name = settings["base_backend"]
    if name == WorldProsodyTransferBackend.name:
        raise BackendError(f"config key 'base_backend': '{name}' cannot be built on itself")
    try:
        base = get_backend(name)
    except BackendError as exc:
        raise BackendError(f"config key 'base_backend': {exc}") from None
    if "base_backend" in base.config_schema:
        raise BackendError(
            f"config key 'base_backend': '{name}' is itself built on a base backend; "
            f"'{WorldProsodyTransferBackend.name}' does not nest"
        )
    return base


def _base_files(files: dict[str, Path], base: type[Backend]) -> dict[str, Path]:
    """The base's files by its own role names; every role must carry the prefix."""
    own = {}
    for role, path in files.items():
        if not role.startswith(PREFIX) or role == PREFIX:
            raise BackendError(
                f"backend '{WorldProsodyTransferBackend.name}' does not use a '{role}' file; "
                f"it takes the base backend's files, each role prefixed '{PREFIX}' "
                f"(e.g. '{PREFIX}model')"
            )
        own[role.removeprefix(PREFIX)] = Path(path)
    missing = sorted(set(base.file_roles) - set(own))
    if missing and not (base.builtin_model and not own):  # none at all: the packaged model
        raise BackendError(
            f"backend '{WorldProsodyTransferBackend.name}' needs a '{PREFIX}{missing[0]}' file "
            f"(base backend '{base.name}': {base.file_roles[missing[0]]})"
        )
    return own


@contextmanager
def _in_base(base: type[Backend]) -> Iterator[None]:
    """Say that a refusal came from the base backend."""
    try:
        yield
    except BackendError as exc:
        raise BackendError(f"base backend '{base.name}': {exc}") from exc


def _with_transfer(info: BackendInfo) -> BackendInfo:
    return replace(
        info,
        capabilities=info.capabilities | {TRANSFER},
        engine=f"pyworld {_version('pyworld')} + {info.engine or 'base engine unknown'}",
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"
