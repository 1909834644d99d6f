"""What the torch-based backends (hf-vits, torchscript) share: torch present and sized to this
process's share of the cores, and the device string as torch will use it. Imports torch only
when called, so the backends package stays cheap to import in the web process."""

from __future__ import annotations

import logging

from .base import cpu_threads, require_modules
from .errors import BackendError

logger = logging.getLogger(__name__)


def torch_ready(backend: str, *more_modules: str):
    """torch, after checking it (and ``more_modules``) is installed on this worker, with its
    CPU threads set to this process's share of the cores (tasks.py)."""
    require_modules(backend, "torch", *more_modules)
    import torch

    if threads := cpu_threads():
        torch.set_num_threads(threads)
    return torch


def torch_device(device: str) -> str:
    """'cpu', 'cuda' or 'cuda:N' as torch will use it; the CPU (with a warning) when CUDA is
    asked for but torch has none here."""
    kind, colon, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (colon and (kind == "cpu" or not index.isdigit())):
        raise BackendError(f"device must be 'cpu', 'cuda' or 'cuda:N', got '{device}'")
    if kind == "cpu":
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        logger.warning("device %s asked for, but torch has no CUDA here: using the CPU", device)
        return "cpu"
    count = torch.cuda.device_count()
    if int(index or 0) >= count:
        raise BackendError(f"device '{device}' does not exist; this machine has {count} GPU(s)")
    return f"cuda:{int(index or 0)}"
